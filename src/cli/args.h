/* Operands and option values of the API commands: how many, numbers,
 * times, JSON files, secrets on standard input. Each helper prints its
 * error as "evctl: COMMAND: ..." and returns an exit status (0 when
 * fine). */
#ifndef EV_CLI_ARGS_H
#define EV_CLI_ARGS_H

#include <stddef.h>

#include <jansson.h>

#include "cli/cmd.h"

/* argv[1..argc-1] are the operands: between min and max of them (max -1:
 * any number). Prints the command's usage line otherwise. */
int args_count(const struct cmd_ctx *ctx, int argc, char **argv, int min, int max);

/* A whole number in [min, max]; `what` names it in the error. */
int args_long(const struct cmd_ctx *ctx, const char *what, const char *text,
	      long min, long max, long *out);

/* An optional number given as text (an option where 0 is a real value):
 * if text is not NULL, checks it and sets body[key] to it. */
int args_set_long(const struct cmd_ctx *ctx, json_t *body, const char *key, const char *what,
		  const char *text, long min, long max);

/* body[key] = text, unless text is NULL. Returns -1 if text is not UTF-8
 * (or memory ran out): then args_bad_text() says so. */
int args_set_str(json_t *body, const char *key, const char *text);
int args_bad_text(const struct cmd_ctx *ctx);

/* A time: RFC 3339 (any offset), "now", or now plus or minus a duration
 * ("+30m", "-2h", "7d": s, m, h, d; no sign means ago when past is true,
 * from now otherwise). Writes it as RFC 3339 UTC ("2026-11-22T10:00:00Z"). */
#define ARGS_TIME_MAX 40
int args_time(const struct cmd_ctx *ctx, const char *what, const char *text, int past,
	      char out[ARGS_TIME_MAX]);

/* Reads JSON from a file ("-": standard input). */
int args_json_file(const struct cmd_ctx *ctx, const char *file, json_t **out);

/* Reads one line from standard input, without its line break. */
int args_stdin_line(const struct cmd_ctx *ctx, const char *what, char *buf, size_t size);

#endif
