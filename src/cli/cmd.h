/* The evctl command table. Every command is one entry: name, operands,
 * one-line summary, option table, flags and handler. Help, the man-page
 * checks and shell completion all read this table, so they cannot drift;
 * the interactive shell (evctl shell) runs the same entries. */
#ifndef EV_CLI_CMD_H
#define EV_CLI_CMD_H

#include <stdio.h>

#include "cli/opt.h"

/* Options every command takes; handled by the runner. */
struct cmd_ctx {
	int json;          /* --json: machine-readable output */
	int help;          /* -h, --help */
	const char *path;  /* "ocpp validate": the command as typed in full */
	const char *server; /* CMD_API: --server, NULL if not given */
	const char *token;  /* CMD_API: --token, NULL if not given */
};

/* What a command needs from the runner. */
enum {
	CMD_RAW_ARGS = 1 << 0,  /* argv is passed on unparsed (no options) */
	CMD_API = 1 << 1,       /* talks to evctl serve: takes --server, --token */
	CMD_CONFIG_FILE = 1 << 2, /* --config FILE supplies options (cli/rcfile.h) */
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

/* Families' tables, each in its own cmd_*.c file. The ones named for the
 * top level are spliced into it; the others hang below one entry. */
extern const struct cmd ocpp_commands[];     /* evctl ocpp ... */
extern const struct cmd serve_commands[];    /* serve */
extern const struct cmd station_commands[];  /* stations, status */
extern const struct cmd operation_commands[]; /* start, stop, reset, ..., audit */
extern const struct cmd session_commands[];  /* sessions, watch */
extern const struct cmd token_commands[];    /* tokens, auth-list */
extern const struct cmd sim_commands[];      /* sim */
extern const struct cmd shell_commands[];    /* shell */

/* The top-level table (built once from the families' tables). */
const struct cmd *cmd_toplevel(void);

/* Runs `evctl ARGS...` (argv[0] is the program name). Returns the exit
 * status. */
int cmd_main(int argc, char **argv);

/* Completion, from the table: calls fn with every word that may follow
 * words[0..n-1] (the command line after "evctl", without the word being
 * typed): subcommands, options, or the choices of the option just typed.
 * When the next word is an operand, its name from the usage ("STATION")
 * goes to operand (else ""), so a caller can offer station ids. Used by
 * `evctl __complete` (bash, zsh, fish) and the shell's TAB. */
typedef void (*cmd_complete_fn)(const char *word, void *arg);
void cmd_complete(int n, char **words, cmd_complete_fn fn, void *arg, char *operand, size_t size);

/* Errors: "evctl: <what>: <why>" on stderr. */
void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
