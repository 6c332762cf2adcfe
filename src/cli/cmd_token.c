/* evctl tokens: the id tags the central system authorizes.
 *
 *   evctl tokens list|show|add|set|remove|block|unblock ...
 *
 * A thin client of the API's /tokens (doc/API.md). */
#include "config.h"

#include <stdio.h>

#include <jansson.h>

#include "cli/args.h"
#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/output.h"
#include "util/exitcode.h"

static const char *const statuses[] = { "Accepted", "Blocked", "Expired", "Invalid", NULL };

/* /api/v1/tokens[/ID[/suffix]] */
static void token_path(struct api_path *p, const char *id, const char *suffix)
{
	api_path_init(p, "/api/v1/tokens");
	if (id)
		api_path_seg(p, id);
	if (suffix)
		api_path_seg(p, suffix);
}

static int show_token(const json_t *token)
{
	struct table *t = table_fields();
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)token, key, v)
		table_field(t, key, v);
	return output_table(t);
}

static int show_tokens(const json_t *answer)
{
	struct table *t = table_new("ID TAG", "STATUS", "EXPIRY", "PARENT", "UPDATED", NULL);
	const json_t *x;
	size_t i;

	json_array_foreach(json_object_get(answer, "tokens"), i, x) {
		table_row_json(t, x, (const char *const[]){
			"id_tag", "status", "expiry", "parent_id_tag", "updated", NULL });
	}
	return output_table(t);
}

/* One request; --json prints the answer, else the table show() makes, or
 * `done` and the token's status: "token 'TAG-1' added: Accepted". */
static int request(struct cmd_ctx *ctx, const char *method, const struct api_path *path,
		   json_t *body, const char *done, int (*show)(const json_t *answer))
{
	json_t *answer;
	int rc = api_call(ctx, method, path, body, 0, &answer);

	json_decref(body);
	if (rc == EV_EXIT_OK) {
		if (ctx->json) {
			if (answer)
				output_json(answer);
		} else if (show) {
			rc = show(answer);
		} else {
			const char *status = json_string_value(json_object_get(answer, "status"));
			char line[512];
			snprintf(line, sizeof line, "%s%s%s", done, status ? ": " : "", status ? status : "");
			output_sanitize(line);
			puts(line);
		}
	}
	json_decref(answer);
	return rc;
}

static int exec_list(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct api_path path;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 0, 0)))
		return rc;
	token_path(&path, NULL, NULL);
	return request(ctx, "GET", &path, NULL, NULL, show_tokens);
}

static int exec_show(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct api_path path;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	token_path(&path, argv[1], NULL);
	return request(ctx, "GET", &path, NULL, NULL, show_token);
}

struct token_opts {
	const char *status, *expiry, *parent;
	int no_expiry, no_parent;
};

static const struct opt add_opts[] = {
	{ OPT_STRING, 0, "status", "S", "Accepted (default), Blocked, Expired or Invalid",
	  offsetof(struct token_opts, status), statuses, 0, 0 },
	{ OPT_STRING, 0, "expiry", "TIME", "when it stops being valid (RFC 3339, or +30d)",
	  offsetof(struct token_opts, expiry), NULL, 0, 0 },
	{ OPT_STRING, 0, "parent", "ID_TAG", "its parent id tag (a group, e.g. a fleet)",
	  offsetof(struct token_opts, parent), NULL, 0, 0 },
	OPT_END_MARK
};

static const struct opt set_opts[] = {
	{ OPT_STRING, 0, "status", "S", "Accepted, Blocked, Expired or Invalid",
	  offsetof(struct token_opts, status), statuses, 0, 0 },
	{ OPT_STRING, 0, "expiry", "TIME", "when it stops being valid (RFC 3339, or +30d)",
	  offsetof(struct token_opts, expiry), NULL, 0, 0 },
	{ OPT_BOOL, 0, "no-expiry", NULL, "valid without a time limit",
	  offsetof(struct token_opts, no_expiry), NULL, 0, 0 },
	{ OPT_STRING, 0, "parent", "ID_TAG", "its parent id tag",
	  offsetof(struct token_opts, parent), NULL, 0, 0 },
	{ OPT_BOOL, 0, "no-parent", NULL, "no parent id tag",
	  offsetof(struct token_opts, no_parent), NULL, 0, 0 },
	OPT_END_MARK
};

/* The fields the options give, for POST and PATCH. */
static int token_body(struct cmd_ctx *ctx, const struct token_opts *o, json_t *body)
{
	char expiry[ARGS_TIME_MAX];
	int rc;

	if ((o->expiry && o->no_expiry) || (o->parent && o->no_parent)) {
		cmd_error("%s: --expiry/--no-expiry and --parent/--no-parent exclude each other", ctx->path);
		return EV_EXIT_USAGE;
	}
	if (o->expiry && (rc = args_time(ctx, "--expiry", o->expiry, 0, expiry)))
		return rc;
	if (args_set_str(body, "status", o->status) ||
	    args_set_str(body, "expiry", o->expiry ? expiry : NULL) ||
	    args_set_str(body, "parent_id_tag", o->parent))
		return args_bad_text(ctx);
	if ((o->no_expiry && json_object_set_new(body, "expiry", json_null())) ||
	    (o->no_parent && json_object_set_new(body, "parent_id_tag", json_null()))) {
		cmd_error("out of memory");
		return EV_EXIT_SOFTWARE;
	}
	return EV_EXIT_OK;
}

static int exec_add(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	char done[256];
	struct api_path path;
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	body = json_object();
	if (args_set_str(body, "id_tag", argv[1])) {
		json_decref(body);
		return args_bad_text(ctx);
	}
	if ((rc = token_body(ctx, opts, body))) {
		json_decref(body);
		return rc;
	}
	token_path(&path, NULL, NULL);
	snprintf(done, sizeof done, "token '%s' added", argv[1]);
	return request(ctx, "POST", &path, body, done, NULL);
}

static int exec_set(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	char done[256];
	struct api_path path;
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	body = json_object();
	if ((rc = token_body(ctx, opts, body))) {
		json_decref(body);
		return rc;
	}
	if (json_object_size(body) == 0) {
		json_decref(body);
		cmd_error("%s: nothing to change (see --help)", ctx->path);
		return EV_EXIT_USAGE;
	}
	token_path(&path, argv[1], NULL);
	snprintf(done, sizeof done, "token '%s' changed", argv[1]);
	return request(ctx, "PATCH", &path, body, done, NULL);
}

static int exec_remove(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct api_path path;
	char done[256];
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	token_path(&path, argv[1], NULL);
	snprintf(done, sizeof done, "token '%s' removed", argv[1]);
	return request(ctx, "DELETE", &path, NULL, done, NULL);
}

static int block(struct cmd_ctx *ctx, int argc, char **argv, const char *what)
{
	struct api_path path;
	char done[256];
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	token_path(&path, argv[1], what);
	snprintf(done, sizeof done, "token '%s' %sed", argv[1], what);
	return request(ctx, "POST", &path, NULL, done, NULL);
}

static int exec_block(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	return block(ctx, argc, argv, "block");
}

static int exec_unblock(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	return block(ctx, argc, argv, "unblock");
}

static const struct cmd tokens_family[] = {
	{ .name = "list", .operands = "", .summary = "list the id tags the central system knows",
	  .exec = exec_list, .flags = CMD_API },
	{ .name = "show", .operands = "ID_TAG", .summary = "show one id tag",
	  .exec = exec_show, .flags = CMD_API },
	{ .name = "add", .operands = "ID_TAG", .summary = "add an id tag",
	  .opts = add_opts, .opts_size = sizeof(struct token_opts), .exec = exec_add, .flags = CMD_API },
	{ .name = "set", .operands = "ID_TAG", .summary = "change an id tag's status, expiry or parent",
	  .opts = set_opts, .opts_size = sizeof(struct token_opts), .exec = exec_set, .flags = CMD_API },
	{ .name = "remove", .operands = "ID_TAG", .summary = "remove an id tag",
	  .exec = exec_remove, .flags = CMD_API },
	{ .name = "block", .operands = "ID_TAG", .summary = "block an id tag (status Blocked)",
	  .exec = exec_block, .flags = CMD_API },
	{ .name = "unblock", .operands = "ID_TAG", .summary = "unblock an id tag (status Accepted)",
	  .exec = exec_unblock, .flags = CMD_API },
	{ .name = NULL }
};

const struct cmd token_commands[] = {
	{ .name = "tokens", .operands = "COMMAND", .summary = "manage the id tags that may charge",
	  .subcommands = tokens_family },
	{ .name = NULL }
};
