/* evctl stations and evctl status.
 *
 *   evctl stations list|show|add|remove|password|history ...
 *   evctl status [STATION]
 *
 * Thin clients of the API (doc/API.md): /stations. The operations on a
 * station and the audit log are in cmd_operation.c. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include <jansson.h>

#include "cli/args.h"
#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/output.h"
#include "util/exitcode.h"

#define CONNECTOR_MAX 1000L
#define LIST_LIMIT 10000L    /* the API's most per list */

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* The scalar members of an object, in the API's order, as "name: value". */
static void add_fields(struct table *t, const json_t *obj)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
		if (!json_is_object(v) && !json_is_array(v))
			table_field(t, key, v);
}

/* ------------------------------------------------------------ stations */

struct list_opts {
	int connected, disconnected;
};

static const struct opt list_opts[] = {
	{ OPT_BOOL, 0, "connected", NULL, "only stations connected now",
	  offsetof(struct list_opts, connected), NULL, 0, 0 },
	{ OPT_BOOL, 0, "disconnected", NULL, "only stations not connected now",
	  offsetof(struct list_opts, disconnected), NULL, 0, 0 },
	OPT_END_MARK
};

static int show_station_list(const json_t *answer)
{
	struct table *t = table_new("ID", "CONNECTED", "OCPP", "REGISTRATION", "VENDOR", "MODEL",
				    "FIRMWARE", "LAST SEEN", NULL);
	const json_t *s;
	size_t i;

	json_array_foreach(json_object_get(answer, "stations"), i, s) {
		table_row_json(t, s, (const char *const[]){
			"id", "connected", "ocpp", "registration", "vendor", "model",
			"firmware", "last_seen", NULL });
	}
	return output_table(t);
}

static int exec_list(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct list_opts *o = opts_;
	struct api_path path;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 0, 0)))
		return rc;
	if (o->connected && o->disconnected) {
		cmd_error("%s: --connected and --disconnected exclude each other", ctx->path);
		return EV_EXIT_USAGE;
	}
	api_path_init(&path, "/api/v1/stations");
	if (o->connected || o->disconnected)
		api_path_param(&path, "connected", o->connected ? "true" : "false");
	return api_get_show(ctx, &path, show_station_list);
}

static void add_connectors(struct table *t, const json_t *connectors)
{
	const json_t *c;
	size_t i;

	json_array_foreach(connectors, i, c) {
		table_row_json(t, c, (const char *const[]){
			"connector", "status", "error_code", "info", "since", "session",
			NULL });
	}
}

static int show_station(const json_t *s)
{
	const json_t *sessions = json_object_get(s, "sessions"), *x;
	struct table *t = table_fields();
	size_t i;
	int rc;

	add_fields(t, s);
	if ((rc = output_table(t)))
		return rc;
	if (json_array_size(json_object_get(s, "connectors"))) {
		putchar('\n');
		t = table_new("CONNECTOR", "STATUS", "ERROR", "INFO", "SINCE", "SESSION", NULL);
		add_connectors(t, json_object_get(s, "connectors"));
		if ((rc = output_table(t)))
			return rc;
	}
	if (!json_array_size(sessions))
		return EV_EXIT_OK;
	putchar('\n');
	t = table_new("SESSION", "CONNECTOR", "ID TAG", "START", "ENERGY (Wh)", NULL);
	json_array_foreach(sessions, i, x) {
		table_row_json(t, x, (const char *const[]){
			"id", "connector", "id_tag", "start", "energy_wh", NULL });
	}
	return output_table(t);
}

static int exec_show(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct api_path path;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	api_path_init(&path, "/api/v1/stations");
	api_path_seg(&path, argv[1]);
	return api_get_show(ctx, &path, show_station);
}

/* Sends body (stolen) and prints --json's answer (with extra members) or
 * `done`. */
static int send_and_say(struct cmd_ctx *ctx, const char *method, const struct api_path *path,
			json_t *body, const char *done, json_t *extra)
{
	json_t *answer;
	int rc = api_call(ctx, method, path, body, 0, &answer);

	json_decref(body);
	if (rc == EV_EXIT_OK) {
		if (ctx->json && answer) {
			if (extra)
				json_object_update(answer, extra);
			output_json(answer);
		} else if (!ctx->json) {
			puts(done);
		}
	}
	json_decref(answer);
	return rc;
}

struct password_opts {
	const char *password;
	int password_stdin, generate, clear;
};

static const struct opt add_opts[] = {
	{ OPT_STRING, 0, "password", "P", "Basic Auth password (16 to 40 characters; visible in ps: prefer --password-stdin)",
	  offsetof(struct password_opts, password), NULL, 0, 0 },
	{ OPT_BOOL, 0, "password-stdin", NULL, "read the password from the first line of standard input",
	  offsetof(struct password_opts, password_stdin), NULL, 0, 0 },
	OPT_END_MARK
};

static const struct opt password_opts[] = {
	{ OPT_STRING, 0, "password", "P", "the new password (16 to 40 characters)",
	  offsetof(struct password_opts, password), NULL, 0, 0 },
	{ OPT_BOOL, 0, "password-stdin", NULL, "read the new password from standard input",
	  offsetof(struct password_opts, password_stdin), NULL, 0, 0 },
	{ OPT_BOOL, 0, "generate", NULL, "make up a random password (32 letters and digits) and print it",
	  offsetof(struct password_opts, generate), NULL, 0, 0 },
	{ OPT_BOOL, 0, "clear", NULL, "remove the password: no Basic Auth for this station",
	  offsetof(struct password_opts, clear), NULL, 0, 0 },
	OPT_END_MARK
};

#define PASSWORD_MAX 128

static int random_bytes(unsigned char *buf, size_t len)
{
#ifdef HAVE_GETRANDOM
	return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
#else
	FILE *f = fopen("/dev/urandom", "rb");
	size_t n = f ? fread(buf, 1, len, f) : 0;
	if (f)
		fclose(f);
	return n == len ? 0 : -1;
#endif
}

/* 32 characters of [A-Za-z0-9], 190 bits: fits OCPP's 16 to 40. */
static int generate_password(char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char b[64];
	size_t n = 0;

	while (n < 32) {
		if (random_bytes(b, sizeof b))
			return -1;
		for (size_t i = 0; i < sizeof b && n < 32; i++)
			if (b[i] < 248)   /* 4 * 62: no bias */
				out[n++] = alphabet[b[i] % 62];
	}
	out[n] = '\0';
	return 0;
}

/* The password the options ask for: 0 and *out set (NULL for --clear), or
 * an exit status. */
static int get_password(struct cmd_ctx *ctx, const struct password_opts *o, char *buf,
			const char **out, int required)
{
	int ways = !!o->password + o->password_stdin + o->generate + o->clear;

	*out = NULL;
	if (ways > 1) {
		cmd_error("%s: give the password one way only", ctx->path);
		return EV_EXIT_USAGE;
	}
	if (ways == 0 && required) {
		cmd_error("%s: give --password-stdin, --password, --generate or --clear", ctx->path);
		return EV_EXIT_USAGE;
	}
	if (o->password) {
		*out = o->password;
	} else if (o->password_stdin) {
		int rc = args_stdin_line(ctx, "password", buf, PASSWORD_MAX);
		if (rc)
			return rc;
		*out = buf;
	} else if (o->generate) {
		if (generate_password(buf)) {
			cmd_error("%s: no random numbers", ctx->path);
			return EV_EXIT_SOFTWARE;
		}
		*out = buf;
	}
	return EV_EXIT_OK;
}

static int exec_add(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	char buf[PASSWORD_MAX], done[256];
	const char *password;
	struct api_path path;
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)) ||
	    (rc = get_password(ctx, opts_, buf, &password, 0)))
		return rc;
	body = json_object();
	if (args_set_str(body, "id", argv[1]) || args_set_str(body, "password", password)) {
		json_decref(body);
		return args_bad_text(ctx);
	}
	snprintf(done, sizeof done, "station '%s' added%s", argv[1],
		 password ? " with a password" : "");
	output_sanitize(done);
	api_path_init(&path, "/api/v1/stations");
	return send_and_say(ctx, "POST", &path, body, done, NULL);
}

static int exec_remove(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct api_path path;
	char done[256];
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	api_path_init(&path, "/api/v1/stations");
	api_path_seg(&path, argv[1]);
	snprintf(done, sizeof done, "station '%s' removed", argv[1]);
	output_sanitize(done);
	return send_and_say(ctx, "DELETE", &path, NULL, done, NULL);
}

static int exec_password(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct password_opts *o = opts_;
	char buf[PASSWORD_MAX], done[512];
	const char *password;
	struct api_path path;
	json_t *body, *extra = NULL;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)) ||
	    (rc = get_password(ctx, o, buf, &password, 1)))
		return rc;
	body = json_object();
	if (json_object_set_new(body, "password", password ? json_string(password) : json_null())) {
		json_decref(body);
		return args_bad_text(ctx);
	}
	if (o->generate) {
		/* The one chance to learn it: it is stored hashed. */
		snprintf(done, sizeof done, "station '%s': password set to %s", argv[1], password);
		extra = json_pack("{s:s}", "password", password);
	} else {
		snprintf(done, sizeof done, "station '%s': password %s", argv[1],
			 password ? "set" : "cleared");
	}
	output_sanitize(done);
	api_path_init(&path, "/api/v1/stations");
	api_path_seg(&path, argv[1]);
	rc = send_and_say(ctx, "PATCH", &path, body, done, extra);
	json_decref(extra);
	return rc;
}

/* accept / pending / reject: the answer the station's boot gets. */
static int set_registration(struct cmd_ctx *ctx, int argc, char **argv, const char *reg)
{
	struct api_path path;
	char done[256];
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	body = json_pack("{s:s}", "registration", reg);
	snprintf(done, sizeof done, "station '%s': registration %s", argv[1], reg);
	output_sanitize(done);
	api_path_init(&path, "/api/v1/stations");
	api_path_seg(&path, argv[1]);
	rc = send_and_say(ctx, "PATCH", &path, body, done, NULL);
	return rc;
}

static int exec_accept(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	return set_registration(ctx, argc, argv, "accepted");
}

static int exec_pending(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	return set_registration(ctx, argc, argv, "pending");
}

static int exec_reject(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	return set_registration(ctx, argc, argv, "rejected");
}

struct history_opts {
	const char *connector;
	long limit;
};

static const struct opt history_opts[] = {
	{ OPT_STRING, 0, "connector", "N", "only this connector (0: the station as a whole)",
	  offsetof(struct history_opts, connector), NULL, 0, 0 },
	{ OPT_INT, 0, "limit", "N", "at most N entries, newest first (default 100)",
	  offsetof(struct history_opts, limit), NULL, 1, LIST_LIMIT },
	OPT_END_MARK
};

static int show_history(const json_t *answer)
{
	struct table *t = table_new("TIME", "CONNECTOR", "STATUS", "ERROR", "INFO", "VENDOR ERROR", NULL);
	const json_t *h;
	size_t i;

	json_array_foreach(json_object_get(answer, "history"), i, h) {
		table_row_json(t, h, (const char *const[]){
			"time", "connector", "status", "error_code", "info",
			"vendor_error_code", NULL });
	}
	return output_table(t);
}

static int exec_history(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct history_opts *o = opts_;
	struct api_path path;
	long connector;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	api_path_init(&path, "/api/v1/stations");
	api_path_seg(&path, argv[1]);
	api_path_seg(&path, "status-history");
	if (o->connector) {
		if ((rc = args_long(ctx, "--connector", o->connector, 0, CONNECTOR_MAX, &connector)))
			return rc;
		api_path_param_long(&path, "connector", connector);
	}
	if (o->limit)
		api_path_param_long(&path, "limit", o->limit);
	return api_get_show(ctx, &path, show_history);
}

struct messages_opts {
	long limit;
};

static const struct opt messages_opts[] = {
	{ OPT_INT, 0, "limit", "N", "at most N frames, newest first (default 100)",
	  offsetof(struct messages_opts, limit), NULL, 1, LIST_LIMIT },
	OPT_END_MARK
};

static int show_messages(const json_t *answer)
{
	struct table *t = table_new("TIME", "DIR", "FRAME", NULL);
	const json_t *m;
	size_t i;

	json_array_foreach(json_object_get(answer, "messages"), i, m) {
		table_row_json(t, m, (const char *const[]){
			"time", "direction", "text", NULL });
	}
	return output_table(t);
}

static int exec_messages(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct messages_opts *o = opts_;
	struct api_path path;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	api_path_init(&path, "/api/v1/stations");
	api_path_seg(&path, argv[1]);
	api_path_seg(&path, "messages");
	if (o->limit)
		api_path_param_long(&path, "limit", o->limit);
	return api_get_show(ctx, &path, show_messages);
}

static const struct cmd stations_family[] = {
	{ .name = "list", .operands = "", .summary = "list the stations the central system knows",
	  .description = "One line per station, sorted by id. With --json, the API's {\"stations\": [...]}.",
	  .opts = list_opts, .opts_size = sizeof(struct list_opts), .exec = exec_list, .flags = CMD_API },
	{ .name = "show", .operands = "STATION",
	  .summary = "show a station: identity, connection, connectors, active sessions",
	  .exec = exec_show, .flags = CMD_API },
	{ .name = "add", .operands = "STATION", .summary = "register a station",
	  .description =
	  "With admission 'known' only registered stations may connect. A password turns\n"
	  "on Basic Auth (OCPP security profile 1 or 2) for the station; it is stored\n"
	  "hashed and never shown again.",
	  .opts = add_opts, .opts_size = sizeof(struct password_opts), .exec = exec_add, .flags = CMD_API },
	{ .name = "remove", .operands = "STATION",
	  .summary = "forget a station (disconnects it; its sessions and history stay)",
	  .exec = exec_remove, .flags = CMD_API },
	{ .name = "password", .operands = "STATION", .summary = "set, generate or clear a station's Basic Auth password",
	  .description =
	  "The station must then use the same password: set its AuthorizationKey\n"
	  "(evctl config set STATION AuthorizationKey ...) before changing it here.",
	  .opts = password_opts, .opts_size = sizeof(struct password_opts), .exec = exec_password,
	  .flags = CMD_API },
	{ .name = "accept", .operands = "STATION",
	  .summary = "accept a station: its boots are answered Accepted",
	  .description = "A connected station waiting in Pending is asked to boot again at once.",
	  .exec = exec_accept, .flags = CMD_API },
	{ .name = "pending", .operands = "STATION",
	  .summary = "hold a station: its boots are answered Pending", .exec = exec_pending,
	  .flags = CMD_API },
	{ .name = "reject", .operands = "STATION",
	  .summary = "reject a station: its boots are answered Rejected", .exec = exec_reject,
	  .flags = CMD_API },
	{ .name = "messages", .operands = "STATION",
	  .summary = "show the OCPP frames exchanged with a station (evctl serve --message-log)",
	  .opts = messages_opts, .opts_size = sizeof(struct messages_opts), .exec = exec_messages,
	  .flags = CMD_API },
	{ .name = "history", .operands = "STATION", .summary = "show a station's connector status changes",
	  .opts = history_opts, .opts_size = sizeof(struct history_opts), .exec = exec_history,
	  .flags = CMD_API },
	{ .name = NULL }
};

/* ------------------------------------------------------------ status */

static int show_status_one(const json_t *s)
{
	struct table *t;

	printf("%s: %s", str(s, "id") ? str(s, "id") : "?",
	       json_is_true(json_object_get(s, "connected")) ? "connected" : "not connected");
	if (str(s, "ocpp"))
		printf(", OCPP %s", str(s, "ocpp"));
	if (str(s, "registration"))
		printf(", registration %s", str(s, "registration"));
	if (str(s, "last_seen"))
		printf(", last seen %s", str(s, "last_seen"));
	putchar('\n');
	t = table_new("CONNECTOR", "STATUS", "ERROR", "INFO", "SINCE", "SESSION", NULL);
	add_connectors(t, json_object_get(s, "connectors"));
	if (table_rows(t) == 0) {
		table_free(t);
		return EV_EXIT_OK;
	}
	return output_table(t);
}

static int show_status_all(const json_t *answer)
{
	struct table *t = table_new("STATION", "CONNECTED", "REGISTRATION", "CONNECTORS", NULL);
	const json_t *s, *c;
	size_t i, k;

	json_array_foreach(json_object_get(answer, "stations"), i, s) {
		char line[1024] = "", a[64];
		table_row_json(t, s, (const char *const[]){
			"id", "connected", "registration", NULL });
		json_array_foreach(json_object_get(s, "connectors"), k, c) {
			const char *err = str(c, "error_code");
			size_t used = strlen(line);
			snprintf(line + used, sizeof line - used, "%s%s %s", k ? ", " : "",
				 output_text(json_object_get(c, "connector"), a, sizeof a),
				 str(c, "status") ? str(c, "status") : "?");
			used = strlen(line);
			if (err && strcmp(err, "NoError") != 0)
				snprintf(line + used, sizeof line - used, " (%s)", err);
		}
		table_cell(t, line);
	}
	return output_table(t);
}

static int exec_status(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct api_path path;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 0, 1)))
		return rc;
	api_path_init(&path, "/api/v1/stations");
	if (argc < 2)
		return api_get_show(ctx, &path, show_status_all);
	api_path_seg(&path, argv[1]);
	return api_get_show(ctx, &path, show_status_one);
}

/* ------------------------------------------------------------ the table */

const struct cmd station_commands[] = {
	{ .name = "stations", .operands = "COMMAND", .summary = "manage the stations the central system knows",
	  .subcommands = stations_family },
	{ .name = "status", .operands = "[STATION]",
	  .summary = "show connector statuses (of one station, or of all)",
	  .exec = exec_status, .flags = CMD_API },
	{ .name = NULL }
};
