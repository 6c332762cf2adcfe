/* evctl shell: the command table, interactively.
 *
 * `evctl> reset CP-001 --hard` runs exactly `evctl reset CP-001 --hard`
 * (cmd_main, in this process). On a terminal: readline with history and
 * TAB completion from the table (and station ids from the API), and the
 * API's live events printed above the prompt; readline, libcurl's multi
 * interface and the input share one libuv loop. Otherwise commands are read
 * line by line, so the shell can be scripted. */
#ifndef EV_CLI_SHELL_H
#define EV_CLI_SHELL_H

#include <stddef.h>

#include "cli/cmd.h"

struct shell_opts {
	int no_events;         /* --no-events */
	const char *station;   /* --station: only this station's events */
};

/* Runs the shell until exit, quit or end of input. Returns the status
 * `exit N` gave, else that of the last command that failed (0 if none). */
int shell_run(const struct cmd_ctx *ctx, const struct shell_opts *opts);

/* Splits a line into words as sh does: blanks separate, '...' is literal,
 * "..." keeps blanks and takes \" \\ \$ \` escapes, a backslash outside
 * quotes escapes the next character, # at the start of a word begins a
 * comment. Returns 0 with *words (NULL-terminated, free with
 * shell_free_words) and *n, or -1 with the reason in err. */
int shell_split(const char *line, int *n, char ***words, char *err, size_t errlen);
void shell_free_words(char **words);

/* Station ids from the API (2 s at most), for completion; nothing, quietly,
 * when there is no server. */
void shell_complete_stations(const struct cmd_ctx *ctx, cmd_complete_fn fn, void *arg);

#endif
