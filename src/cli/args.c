#include "config.h"
#include "cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/exitcode.h"
#include "util/rfc3339.h"

/* The entry of the command being run, for its usage line. */
static const struct cmd *find(const char *path)
{
	const struct cmd *table = cmd_toplevel(), *c = NULL;
	char word[64];

	while (*path && table) {
		size_t len = strcspn(path, " ");
		snprintf(word, sizeof word, "%.*s", (int)len, path);
		for (c = table; c->name && strcmp(c->name, word) != 0; c++)
			;
		if (!c->name)
			return NULL;
		table = c->subcommands;
		path += len + (path[len] == ' ');
	}
	return c;
}

int args_count(const struct cmd_ctx *ctx, int argc, char **argv, int min, int max)
{
	const struct cmd *c = find(ctx->path);
	int n = argc - 1;

	if (n >= min && (max < 0 || n <= max))
		return EV_EXIT_OK;
	if (n < min)
		cmd_error("%s: missing operand%s", ctx->path, min - n > 1 ? "s" : "");
	else
		cmd_error("%s: unexpected operand '%s'", ctx->path, argv[max + 1]);
	if (c)
		fprintf(stderr, "usage: evctl %s [options] %s\n", ctx->path, c->operands);
	return EV_EXIT_USAGE;
}

int args_long(const struct cmd_ctx *ctx, const char *what, const char *text,
	      long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (!*text || *end || errno || v < min || v > max) {
		cmd_error("%s: %s must be a number from %ld to %ld, not '%s'", ctx->path, what,
			  min, max, text);
		return EV_EXIT_USAGE;
	}
	*out = v;
	return EV_EXIT_OK;
}

int args_set_long(const struct cmd_ctx *ctx, json_t *body, const char *key, const char *what,
		  const char *text, long min, long max)
{
	long v;
	int rc;

	if (!text)
		return EV_EXIT_OK;
	if ((rc = args_long(ctx, what, text, min, max, &v)))
		return rc;
	if (json_object_set_new(body, key, json_integer(v))) {
		cmd_error("out of memory");
		return EV_EXIT_SOFTWARE;
	}
	return EV_EXIT_OK;
}

int args_set_str(json_t *body, const char *key, const char *text)
{
	return text ? json_object_set_new(body, key, json_string(text)) : 0;
}

int args_bad_text(const struct cmd_ctx *ctx)
{
	cmd_error("%s: operands and option values must be UTF-8 text", ctx->path);
	return EV_EXIT_USAGE;
}

/* "+30m" and friends: milliseconds, or -1. */
static int64_t duration_ms(const char *s)
{
	static const struct { char unit; int64_t ms; } units[] = {
		{ 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 }, { 'd', 86400000 },
	};
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (end == s || errno || n < 0 || n > 36500L * 24 * 3600 || end[0] == '\0' || end[1] != '\0')
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		if (*end == units[i].unit)
			return (int64_t)n * units[i].ms;   /* n is bounded: no overflow */
	return -1;
}

int args_time(const struct cmd_ctx *ctx, const char *what, const char *text, int past,
	      char out[ARGS_TIME_MAX])
{
	struct ev_timestamp ts;
	int64_t ms;
	char *frac;

	if (strcmp(text, "now") == 0) {
		ms = ev_now_ms();
	} else if (rfc3339_parse(text, &ts) == 0) {
		ms = ts.unix_ms;
	} else {
		const char *d = text + (text[0] == '+' || text[0] == '-');
		int64_t delta = duration_ms(d);
		int sign = text[0] == '+' ? 1 : text[0] == '-' ? -1 : past ? -1 : 1;
		if (delta < 0) {
			cmd_error("%s: %s must be an RFC 3339 time (2026-11-22T10:00:00Z), 'now', "
				  "or a duration like +30m or -2h, not '%s'", ctx->path, what, text);
			return EV_EXIT_USAGE;
		}
		ms = ev_now_ms() + sign * delta;
	}
	ms -= ms % 1000;   /* whole seconds, as the API writes them */
	if (!rfc3339_format_ms(ms, out, ARGS_TIME_MAX)) {
		cmd_error("%s: %s is out of range: '%s'", ctx->path, what, text);
		return EV_EXIT_USAGE;
	}
	if ((frac = strchr(out, '.')))
		strcpy(frac, "Z");
	return EV_EXIT_OK;
}

int args_json_file(const struct cmd_ctx *ctx, const char *file, json_t **out)
{
	int stdin_ = strcmp(file, "-") == 0;
	FILE *f = stdin_ ? stdin : fopen(file, "r");
	json_error_t err;

	if (!f) {
		cmd_error("%s: %s", file, strerror(errno));
		return EV_EXIT_IO;
	}
	*out = json_loadf(f, 0, &err);
	if (!stdin_)
		fclose(f);
	if (!*out) {
		cmd_error("%s:%d:%d: %s", stdin_ ? "-" : file, err.line, err.column, err.text);
		return EV_EXIT_USAGE;
	}
	return EV_EXIT_OK;
}

int args_stdin_line(const struct cmd_ctx *ctx, const char *what, char *buf, size_t size)
{
	size_t len;

	if (!fgets(buf, (int)size, stdin)) {
		cmd_error("%s: no %s on standard input", ctx->path, what);
		return EV_EXIT_USAGE;
	}
	len = strcspn(buf, "\r\n");
	if (buf[len] == '\0' && len == size - 1) {
		cmd_error("%s: the %s on standard input is too long", ctx->path, what);
		return EV_EXIT_USAGE;
	}
	buf[len] = '\0';
	return EV_EXIT_OK;
}
