#include "config.h"
#include "cli/cmd.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/rcfile.h"
#include "cli/shell.h"
#include "util/exitcode.h"

static int exec_help(struct cmd_ctx *ctx, void *opts, int argc, char **argv);
static int exec_version(struct cmd_ctx *ctx, void *opts, int argc, char **argv);
static int exec_complete(struct cmd_ctx *ctx, void *opts, int argc, char **argv);

static const struct opt common_opts[] = {
	{ OPT_BOOL, 0, "json", NULL, "print JSON instead of text", offsetof(struct cmd_ctx, json), NULL, 0, 0 },
	{ OPT_BOOL, 'h', "help", NULL, "show this help", offsetof(struct cmd_ctx, help), NULL, 0, 0 },
	OPT_END_MARK
};

static const struct opt api_opts[] = {
	{ OPT_STRING, 0, "server", "URL", "API of the central system (default: $EVCTL_SERVER, the config file, or http://127.0.0.1:8181)",
	  offsetof(struct cmd_ctx, server), NULL, 0, 0 },
	{ OPT_STRING, 0, "token", "TOKEN", "API bearer token (default: $EVCTL_TOKEN, the config file, or the local server's token file)",
	  offsetof(struct cmd_ctx, token), NULL, 0, 0 },
	OPT_END_MARK
};

/* A command without a summary is hidden from help and completion. */
static const struct cmd builtin_commands[] = {
	{ .name = "help", .operands = "[COMMAND...]",
	  .summary = "show help for evctl or a command", .exec = exec_help },
	{ .name = "version", .operands = "", .summary = "print the version",
	  .exec = exec_version },
	{ .name = "ocpp", .operands = "COMMAND",
	  .summary = "OCPP protocol tools (validate frames)", .subcommands = ocpp_commands },
	{ .name = "__complete", .operands = "[WORD...]", .exec = exec_complete,
	  .flags = CMD_RAW_ARGS },
	{ .name = NULL }
};

/* The top level is the families' tables one after another, in this order
 * (help lists them so). */
static const struct cmd *const toplevel_parts[] = {
	serve_commands, station_commands, operation_commands, session_commands,
	token_commands, sim_commands, shell_commands, builtin_commands,
};

const struct cmd *cmd_toplevel(void)
{
	static struct cmd *table;
	size_t n = 0, k = 0;

	if (table)
		return table;
	for (size_t p = 0; p < sizeof toplevel_parts / sizeof *toplevel_parts; p++)
		for (const struct cmd *c = toplevel_parts[p]; c->name; c++)
			n++;
	table = calloc(n + 1, sizeof *table);
	if (!table)
		abort();    /* at start-up, before any work: nothing to lose */
	for (size_t p = 0; p < sizeof toplevel_parts / sizeof *toplevel_parts; p++)
		for (const struct cmd *c = toplevel_parts[p]; c->name; c++)
			table[k++] = *c;
	return table;
}

void cmd_error(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("evctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int hidden(const struct cmd *c) { return c->summary == NULL; }

/* Exact name, else a unique prefix (like tmux). */
static const struct cmd *lookup(const struct cmd *table, const char *name, int quiet)
{
	const struct cmd *found = NULL;
	char others[256] = "";
	int n = 0;

	for (const struct cmd *c = table; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	for (const struct cmd *c = table; c->name; c++) {
		if (hidden(c) || strncmp(c->name, name, strlen(name)) != 0)
			continue;
		snprintf(others + strlen(others), sizeof others - strlen(others), "%s%s",
			 n++ ? ", " : "", c->name);
		found = c;
	}
	if (n == 1)
		return found;
	if (!quiet) {
		if (n > 1)
			cmd_error("ambiguous command '%s', could be: %s", name, others);
		else
			cmd_error("unknown command '%s' (see 'evctl help')", name);
	}
	return NULL;
}

static void print_opt(FILE *out, const struct opt *o)
{
	char left[64];
	if (o->short_name && o->long_name)
		snprintf(left, sizeof left, "-%c, --%s", o->short_name, o->long_name);
	else if (o->long_name)
		snprintf(left, sizeof left, "    --%s", o->long_name);
	else
		snprintf(left, sizeof left, "-%c", o->short_name);
	if (o->arg_name)
		snprintf(left + strlen(left), sizeof left - strlen(left), " %s", o->arg_name);
	fprintf(out, "  %-24s %s\n", left, o->help);
}

static void print_usage(FILE *out, const char *path, const struct cmd *c)
{
	if (c->subcommands) {
		fprintf(out, "usage: evctl %s COMMAND [options]\n\n%c%s.\n\ncommands:\n",
			path, toupper((unsigned char)c->summary[0]), c->summary + 1);
		for (const struct cmd *s = c->subcommands; s->name; s++)
			fprintf(out, "  %-24s %s\n", s->name, s->summary);
		fprintf(out, "\nSee 'evctl help %s COMMAND' for one command.\n", path);
		return;
	}
	fprintf(out, "usage: evctl %s [options]%s%s\n\n%c%s.\n", path,
		*c->operands ? " " : "", c->operands,
		toupper((unsigned char)c->summary[0]), c->summary + 1);
	if (c->description)
		fprintf(out, "\n%s\n", c->description);
	fprintf(out, "\noptions:\n");
	for (const struct opt *o = c->opts; o && o->kind != OPT_END; o++)
		print_opt(out, o);
	if (c->flags & CMD_API)
		for (const struct opt *o = api_opts; o->kind != OPT_END; o++)
			print_opt(out, o);
	for (const struct opt *o = common_opts; o->kind != OPT_END; o++)
		print_opt(out, o);
}

static void print_main_help(FILE *out)
{
	fprintf(out,
		"usage: evctl [--version] [--help] COMMAND [options] [ARGS]\n\n"
		"evctl runs and operates a network of EV charging stations over OCPP.\n\n"
		"commands:\n");
	for (const struct cmd *c = cmd_toplevel(); c->name; c++)
		if (!hidden(c))
			fprintf(out, "  %-24s %s\n", c->name, c->summary);
	fprintf(out,
		"\nEvery command takes --help and --json. Commands may be shortened to a\n"
		"unique prefix. See 'evctl help COMMAND' and evctl(1).\n\n"
		"exit status: 0 ok, 1 failure (an invalid frame, a station said no), 2 usage\n"
		"error, 3 configuration error, 4 I/O error, 5 internal error, 6 the central\n"
		"system cannot be reached, 7 the station could not act, 8 not found.\n");
}

/* Walks words down the table: "ocpp validate" -> the validate entry. */
static const struct cmd *resolve(char **words, int n, int *used, int quiet)
{
	const struct cmd *table = cmd_toplevel(), *c = NULL;

	*used = 0;
	while (*used < n && table) {
		c = lookup(table, words[*used], quiet);
		if (!c)
			return NULL;
		(*used)++;
		table = c->subcommands;
	}
	return c;
}

static int exec_help(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	char path[128] = "";
	const struct cmd *c;
	int used;

	if (argc <= 1) {
		print_main_help(stdout);
		return EV_EXIT_OK;
	}
	c = resolve(argv + 1, argc - 1, &used, 0);
	if (!c)
		return EV_EXIT_USAGE;
	if (used < argc - 1) {
		cmd_error("'%s' has no subcommands", argv[used]);
		return EV_EXIT_USAGE;
	}
	for (int i = 1; i <= used; i++)
		snprintf(path + strlen(path), sizeof path - strlen(path), "%s%s",
			 i > 1 ? " " : "", argv[i]);
	print_usage(stdout, path, c);
	return EV_EXIT_OK;
}

static int exec_version(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	if (ctx->json)
		printf("{\"name\":\"evctl\",\"version\":\"%s\",\"ocpp\":[\"1.6\",\"2.0.1\"]}\n",
		       PACKAGE_VERSION);
	else
		printf("evctl %s (OCPP 1.6, 2.0.1)\n", PACKAGE_VERSION);
	return EV_EXIT_OK;
}

static void complete_opts(const struct opt *opts, cmd_complete_fn fn, void *arg)
{
	char word[80];

	for (const struct opt *o = opts; o && o->kind != OPT_END; o++) {
		if (o->long_name) {
			snprintf(word, sizeof word, "--%s", o->long_name);
			fn(word, arg);
		}
	}
}

/* Whether an option word takes the next word as its value. */
static int takes_value(const struct cmd *c, const char *w)
{
	const struct opt *tables[] = { c->opts, c->flags & CMD_API ? api_opts : NULL, common_opts };
	const struct opt *o = NULL;

	for (size_t t = 0; t < 3 && !o; t++) {
		if (w[1] == '-') {
			if (!strchr(w, '='))
				o = opt_find_long(tables[t], w + 2);
		} else {
			for (const struct opt *s = tables[t]; s && s->kind != OPT_END && !o; s++)
				if (w[1] && !w[2] && s->short_name == w[1])
					o = s;
		}
	}
	return o && o->kind != OPT_BOOL;
}

/* The name of operand number k in a usage such as "STATION [ID_TAG...]":
 * "STATION", "ID_TAG"; "" past the last. */
static void operand_name(const char *usage, int k, char *out, size_t size)
{
	const char *w = usage;
	size_t len = 0;

	*out = '\0';
	for (int i = 0; *w; i++) {
		w += strspn(w, " [");
		len = strcspn(w, " [].");
		if (!len)
			return;
		if (i == k || strncmp(w + len, "...", 3) == 0 || strncmp(w + len, "]...", 4) == 0)
			break;   /* this one, or one that repeats */
		w += len;
		w += strspn(w, "].");
		if (!*w)
			return;
	}
	snprintf(out, size, "%.*s", (int)len, w);
}

void cmd_complete(int n, char **words, cmd_complete_fn fn, void *arg, char *operand, size_t size)
{
	const struct cmd *table = cmd_toplevel(), *c = NULL;
	int i = 0, operands = 0;

	if (operand && size)
		*operand = '\0';
	while (i < n && table && words[i][0] != '-') {
		const struct cmd *next = lookup(table, words[i], 1);
		if (!next)
			break;
		c = next;
		table = c->subcommands;
		i++;
	}
	if (n > 0) {
		const char *last = words[n - 1];
		const struct opt *o = last[0] == '-' && last[1] == '-' && c
			? opt_find_long(c->opts, last + 2) : NULL;
		if (!o && c && (c->flags & CMD_API) && last[0] == '-' && last[1] == '-')
			o = opt_find_long(api_opts, last + 2);
		if (o && o->choices) {
			for (int k = 0; o->choices[k]; k++)
				fn(o->choices[k], arg);
			return;
		}
		if (o && o->kind != OPT_BOOL)
			return;   /* a free-form value comes next */
	}
	if (table && i == n) {
		for (const struct cmd *s = table; s->name; s++)
			if (!hidden(s))
				fn(s->name, arg);
	}
	if (c && !c->subcommands) {
		complete_opts(c->opts, fn, arg);
		if (c->flags & CMD_API)
			complete_opts(api_opts, fn, arg);
		complete_opts(common_opts, fn, arg);
		if (!operand || !size || (c->flags & CMD_RAW_ARGS))
			return;
		for (int k = i; k < n; k++) {
			if (strcmp(words[k], "--") == 0) {
				operands += n - k - 1;
				break;
			}
			if (words[k][0] == '-' && words[k][1])
				k += takes_value(c, words[k]);
			else
				operands++;
		}
		operand_name(c->operands ? c->operands : "", operands, operand, size);
	}
}

static void print_word(const char *word, void *arg)
{
	printf("%s\n", word);
}

/* `evctl __complete WORD...` prints, one per line, what may follow WORDs:
 * subcommands, options, or an option's choices. The bash, zsh and fish
 * completions ask this instead of keeping lists of their own. */
static int exec_complete(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	char operand[64] = "";

	cmd_complete(argc - 1, argv + 1, print_word, NULL, operand, sizeof operand);
	/* The word being completed is the last one ("" for a new word). */
	if (strcmp(operand, "STATION") == 0)
		shell_complete_stations(ctx, print_word, NULL);
	return EV_EXIT_OK;
}

static int run(const struct cmd *c, const char *path, int argc, char **argv)
{
	struct cmd_ctx ctx = { .path = path };
	void *opts = c->opts_size ? calloc(1, c->opts_size) : NULL;
	struct opt_group groups[] = { { c->opts, opts }, { common_opts, &ctx }, { api_opts, &ctx } };
	char err[256], **rc_argv = NULL;
	int n, rc;

	if (c->opts_size && !opts) {
		cmd_error("out of memory");
		return EV_EXIT_SOFTWARE;
	}
	if (c->flags & CMD_RAW_ARGS) {
		rc = c->exec(&ctx, opts, argc, argv);
		free(opts);
		return rc;
	}
	if (c->flags & CMD_CONFIG_FILE) {
		if (rc_expand(c->opts, argc, argv, &argc, &rc_argv, err, sizeof err)) {
			cmd_error("%s: %s", path, err);
			free(opts);
			return EV_EXIT_CONFIG;
		}
		if (rc_argv)
			argv = rc_argv;
	}
	n = opt_parse(groups, c->flags & CMD_API ? 3 : 2, argc, argv, err, sizeof err);
	if (n < 0) {
		cmd_error("%s: %s", path, err);
		fprintf(stderr, "see 'evctl %s --help'\n", path);
		rc = EV_EXIT_USAGE;
	} else if (ctx.help) {
		print_usage(stdout, path, c);
		rc = EV_EXIT_OK;
	} else {
		rc = c->exec(&ctx, opts, n + 1, argv);
	}
	rc_free(rc_argv);
	free(opts);
	return rc;
}

int cmd_main(int argc, char **argv)
{
	const struct cmd *table = cmd_toplevel(), *c = NULL;
	char path[128] = "";
	int i = 1, rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_main_help(argc < 2 ? stderr : stdout);
		return argc < 2 ? EV_EXIT_USAGE : EV_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		argv[1] = "version";
	if (argv[1][0] == '-') {
		cmd_error("unknown option '%s' (see 'evctl --help')", argv[1]);
		return EV_EXIT_USAGE;
	}
	/* Descend through families: `evctl ocpp validate ...`. */
	while (i < argc && table) {
		if (argv[i][0] == '-' && c)
			break;
		c = lookup(table, argv[i], 0);
		if (!c)
			return EV_EXIT_USAGE;
		snprintf(path + strlen(path), sizeof path - strlen(path), "%s%s",
			 *path ? " " : "", c->name);
		table = c->subcommands;
		i++;
	}
	if (c->subcommands) {
		int asked = i < argc && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0);
		print_usage(asked ? stdout : stderr, path, c);
		return asked ? EV_EXIT_OK : EV_EXIT_USAGE;
	}
	/* The handler sees argv starting at its own name. */
	rc = run(c, path, argc - i + 1, argv + i - 1);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cmd_error("write error on standard output");
		return EV_EXIT_IO;
	}
	return rc;
}
