/* The evctl command table. Every command is one entry: name, operands,
 * one-line summary, option table, flags and handler. Help, the man-page
 * checks and shell completion all read this table, so they cannot drift;
 * the interactive shell (later) runs the same entries. */
#ifndef EV_CLI_CMD_H
#define EV_CLI_CMD_H

#include <stdio.h>

#include "cli/opt.h"

/* Options every command takes; handled by the runner. */
struct cmd_ctx {
	int json;          /* --json: machine-readable output */
	int help;          /* -h, --help */
	const char *path;  /* "ocpp validate": the command as typed in full */
};

/* What a command needs from the runner. */
enum {
	CMD_RAW_ARGS = 1 << 0,  /* argv is passed on unparsed (no options) */
};

struct cmd {
	const char *name;
	const char *operands;        /* usage after [options], e.g. "[FILE...]" */
	const char *summary;         /* one line, lowercase, no period */
	const char *description;     /* a paragraph for --help; may be NULL */
	const struct opt *opts;      /* NULL or OPT_END-terminated */
	size_t opts_size;            /* size of the struct the options fill */
	int (*exec)(struct cmd_ctx *ctx, void *opts, int argc, char **argv);
	const struct cmd *subcommands; /* a family: NULL-name-terminated */
	unsigned flags;              /* CMD_* */
};

/* Families' subcommand tables, each in its own cmd_*.c file. */
extern const struct cmd ocpp_commands[];

/* The top-level table. */
extern const struct cmd evctl_commands[];

/* Runs `evctl ARGS...` (argv[0] is the program name). Returns the exit
 * status. */
int cmd_main(int argc, char **argv);

/* Errors: "evctl: <what>: <why>" on stderr. */
void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
