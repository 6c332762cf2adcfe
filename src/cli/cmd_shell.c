/* evctl shell: the command table, interactively (cli/shell.c). */
#include "config.h"

#include <stddef.h>

#include "cli/cmd.h"
#include "cli/shell.h"
#include "util/exitcode.h"

static const struct opt shell_opts[] = {
	{ OPT_BOOL, 0, "no-events", NULL, "do not show the central system's live events",
	  offsetof(struct shell_opts, no_events), NULL, 0, 0 },
	{ OPT_STRING, 0, "station", "ID", "show only this station's live events",
	  offsetof(struct shell_opts, station), NULL, 0, 0 },
	OPT_END_MARK
};

static int exec_shell(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	if (argc > 1) {
		cmd_error("shell: unexpected argument '%s' (commands are read from standard input)", argv[1]);
		return EV_EXIT_USAGE;
	}
	return shell_run(ctx, opts);
}

const struct cmd shell_commands[] = {
	{ .name = "shell", .operands = "", .summary = "an interactive shell running evctl's commands",
	  .description = "Reads commands (without 'evctl') and runs them as evctl would, with history,\n"
			 "TAB completion and the central system's live events shown as they happen.\n"
			 "When standard input is not a terminal, runs its lines one by one.",
	  .opts = shell_opts, .opts_size = sizeof(struct shell_opts), .exec = exec_shell,
	  .flags = CMD_API },
	{ .name = NULL }
};
