/* The operations on a station (evctl start, stop, reset, config, ...) and
 * the audit log.
 *
 *   evctl reset STATION [--hard]          (and one command per operation)
 *   evctl audit [--station ID] [--limit N]
 *
 * Thin clients of the API (doc/API.md): /stations/{id}/{operation} and
 * /audit. An operation prints "CP-001: reset Accepted"; a station's
 * answer other than Accepted (Rejected, ...) is exit status 1. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/args.h"
#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/output.h"
#include "util/exitcode.h"

#define CONNECTOR_MAX 1000L
#define INT32_MAXL 2147483647L
#define LIST_LIMIT 10000L    /* the API's most per list */

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int oom(void)
{
	cmd_error("out of memory");
	return EV_EXIT_SOFTWARE;
}

/* ------------------------------------------------------------ operations */

/* Every operation's options begin with these. */
struct op_opts {
	long timeout;
};

#define OPT_TIMEOUT \
	{ OPT_INT, 0, "timeout", "S", "wait up to S seconds for the station's answer (default 30)", \
	  0, NULL, 1, 300 }

static const struct opt op_only_opts[] = { OPT_TIMEOUT, OPT_END_MARK };

/* Shows an answer in a way of its own; returns the exit status. */
typedef int (*op_show_fn)(const char *station, const json_t *result);

static int status_of(const json_t *result)
{
	const char *status = str(result, "status");
	return !status || api_status_ok(status) ? EV_EXIT_OK : EV_EXIT_FAILURE;
}

/* "CP-001: reset Accepted". */
static int show_result_line(const char *station, const json_t *result)
{
	const char *op = str(result, "operation"), *status = str(result, "status");
	char line[512];

	snprintf(line, sizeof line, "%s: %s %s", station, op ? op : "operation",
		 status ? status : "acknowledged");
	output_sanitize(line);
	puts(line);
	return status_of(result);
}

/* POST /stations/{station}/{op} with body (stolen), then show the answer. */
static int operate(struct cmd_ctx *ctx, const void *opts, const char *station, const char *op,
		   json_t *body, op_show_fn show)
{
	const struct op_opts *o = opts;
	long wait = o->timeout ? o->timeout : API_OP_TIMEOUT;
	struct api_path path;
	json_t *result;
	int rc;

	if (!body)
		return oom();
	if (o->timeout && json_object_set_new(body, "timeout", json_integer(o->timeout))) {
		json_decref(body);
		return oom();
	}
	api_path_init(&path, "/api/v1/stations");
	api_path_seg(&path, station);
	api_path_seg(&path, op);
	rc = api_call(ctx, "POST", &path, body, wait + API_OP_MARGIN, &result);
	json_decref(body);
	if (rc == EV_EXIT_OK) {
		const char *id = str(result, "station") ? str(result, "station") : station;
		if (ctx->json) {
			output_json(result);
			rc = status_of(result);
		} else {
			rc = (show ? show : show_result_line)(id, result);
		}
	}
	json_decref(result);
	return rc;
}

/* An operation whose body is just a connector operand. */
static int connector_body(struct cmd_ctx *ctx, const char *text, json_t **body)
{
	long connector;
	int rc = args_long(ctx, "CONNECTOR", text, 0, CONNECTOR_MAX, &connector);

	*body = rc ? NULL : json_pack("{s:I}", "connector", (json_int_t)connector);
	return rc;
}

/* start */

struct start_opts {
	struct op_opts op;
	const char *connector, *profile;
};

static const struct opt start_opts[] = {
	{ OPT_STRING, 0, "connector", "N", "the connector (default: the station chooses)",
	  offsetof(struct start_opts, connector), NULL, 0, 0 },
	{ OPT_STRING, 0, "profile", "FILE", "a TxProfile charging profile (OCPP 1.6 JSON) for the session",
	  offsetof(struct start_opts, profile), NULL, 0, 0 },
	OPT_TIMEOUT,
	OPT_END_MARK
};

static int exec_start(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct start_opts *o = opts_;
	json_t *body, *profile = NULL;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 2, 2)))
		return rc;
	if (!(body = json_object()))
		return oom();
	if (args_set_str(body, "id_tag", argv[2])) {
		json_decref(body);
		return args_bad_text(ctx);
	}
	if ((rc = args_set_long(ctx, body, "connector", "--connector", o->connector, 1, CONNECTOR_MAX)) ||
	    (o->profile && (rc = args_json_file(ctx, o->profile, &profile)))) {
		json_decref(body);
		return rc;
	}
	if (profile)
		json_object_set_new(body, "profile", profile);
	return operate(ctx, o, argv[1], "start", body, NULL);
}

/* stop */

struct stop_opts {
	struct op_opts op;
	const char *session;
};

static const struct opt stop_opts[] = {
	{ OPT_STRING, 0, "session", "N", "the session by the central system's id (instead of TRANSACTION)",
	  offsetof(struct stop_opts, session), NULL, 0, 0 },
	OPT_TIMEOUT,
	OPT_END_MARK
};

static int exec_stop(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct stop_opts *o = opts_;
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, o->session ? 1 : 2, o->session ? 1 : 2)))
		return rc;
	if (!(body = json_object()))
		return oom();
	if (o->session)
		rc = args_set_long(ctx, body, "session", "--session", o->session, 1, INT32_MAXL);
	else
		rc = args_set_long(ctx, body, "transaction", "TRANSACTION", argv[2], -INT32_MAXL - 1, INT32_MAXL);
	if (rc) {
		json_decref(body);
		return rc;
	}
	return operate(ctx, o, argv[1], "stop", body, NULL);
}

/* reset */

struct reset_opts {
	struct op_opts op;
	int hard;
};

static const struct opt reset_opts[] = {
	{ OPT_BOOL, 0, "hard", NULL, "a hard reset (reboot) instead of a soft one",
	  offsetof(struct reset_opts, hard), NULL, 0, 0 },
	OPT_TIMEOUT,
	OPT_END_MARK
};

static int exec_reset(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct reset_opts *o = opts_;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	return operate(ctx, o, argv[1], "reset", json_pack("{s:s}", "type", o->hard ? "hard" : "soft"), NULL);
}

/* unlock */

static int exec_unlock(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 2, 2)) || (rc = connector_body(ctx, argv[2], &body)))
		return rc;
	return operate(ctx, opts, argv[1], "unlock", body, NULL);
}

/* availability */

static int exec_availability(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	json_t *body;
	int rc, on;

	if ((rc = args_count(ctx, argc, argv, 3, 3)))
		return rc;
	on = strcmp(argv[3], "on") == 0;
	if (!on && strcmp(argv[3], "off") != 0) {
		cmd_error("%s: say 'on' (Operative) or 'off' (Inoperative), not '%s'", ctx->path, argv[3]);
		return EV_EXIT_USAGE;
	}
	if ((rc = connector_body(ctx, argv[2], &body)))
		return rc;
	if (body && json_object_set_new(body, "available", json_boolean(on))) {
		json_decref(body);
		return oom();
	}
	return operate(ctx, opts, argv[1], "availability", body, NULL);
}

/* trigger */

struct connector_opts {
	struct op_opts op;
	const char *connector;
};

static const struct opt trigger_opts[] = {
	{ OPT_STRING, 0, "connector", "N", "the connector the message is about",
	  offsetof(struct connector_opts, connector), NULL, 0, 0 },
	OPT_TIMEOUT,
	OPT_END_MARK
};

static int exec_trigger(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct connector_opts *o = opts_;
	char message[64];
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 2, 2)))
		return rc;
	/* meter-values reads as well as the API's meter_values. */
	snprintf(message, sizeof message, "%s", argv[2]);
	for (char *p = message; *p; p++)
		if (*p == '-')
			*p = '_';
	body = json_object();
	if (args_set_str(body, "message", message)) {
		json_decref(body);
		return args_bad_text(ctx);
	}
	if ((rc = args_set_long(ctx, body, "connector", "--connector", o->connector, 0, CONNECTOR_MAX))) {
		json_decref(body);
		return rc;
	}
	return operate(ctx, o, argv[1], "trigger", body, NULL);
}

/* config get / set */

static int show_config(const char *station, const json_t *result)
{
	const json_t *response = json_object_get(result, "response"), *k;
	const json_t *keys = json_object_get(response, "configurationKey");
	struct table *t;
	size_t i;
	int rc;

	if (!json_is_array(keys) && !json_is_array(json_object_get(response, "unknownKey"))) {
		output_json(response);   /* not a 1.6 answer: show it as it is */
		return status_of(result);
	}
	t = table_new("KEY", "VALUE", "ACCESS", NULL);
	json_array_foreach(keys, i, k) {
		table_cell_json(t, json_object_get(k, "key"));
		table_cell_json(t, json_object_get(k, "value"));
		table_cell(t, json_is_true(json_object_get(k, "readonly")) ? "read-only" : "read-write");
	}
	if ((rc = output_table(t)))
		return rc;
	json_array_foreach(json_object_get(response, "unknownKey"), i, k) {
		cmd_error("config get: %s has no key '%s'", station,
			  json_is_string(k) ? json_string_value(k) : "?");
		rc = EV_EXIT_FAILURE;
	}
	return rc;
}

static int exec_config_get(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	json_t *body = json_object(), *keys;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, -1))) {
		json_decref(body);
		return rc;
	}
	if (argc > 2) {
		keys = json_array();
		for (int i = 2; i < argc; i++)
			if (json_array_append_new(keys, json_string(argv[i]))) {
				json_decref(keys);
				json_decref(body);
				return args_bad_text(ctx);
			}
		json_object_set_new(body, "keys", keys);
	}
	return operate(ctx, opts, argv[1], "config-get", body, show_config);
}

static int exec_config_set(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 3, 3)))
		return rc;
	body = json_object();
	if (args_set_str(body, "key", argv[2]) || args_set_str(body, "value", argv[3])) {
		json_decref(body);
		return args_bad_text(ctx);
	}
	return operate(ctx, opts, argv[1], "config-set", body, NULL);
}

static const struct cmd config_family[] = {
	{ .name = "get", .operands = "STATION [KEY...]",
	  .summary = "read a station's configuration keys (all, or the KEYs)",
	  .description = "exit status 1 if the station does not know one of the KEYs.",
	  .opts = op_only_opts, .opts_size = sizeof(struct op_opts), .exec = exec_config_get,
	  .flags = CMD_API },
	{ .name = "set", .operands = "STATION KEY VALUE", .summary = "change a station's configuration key",
	  .description = "RebootRequired counts as success; Rejected and NotSupported are exit status 1.",
	  .opts = op_only_opts, .opts_size = sizeof(struct op_opts), .exec = exec_config_set,
	  .flags = CMD_API },
	{ .name = NULL }
};

/* clear-cache */

static int exec_clear_cache(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	return operate(ctx, opts, argv[1], "clear-cache", json_object(), NULL);
}

/* data-transfer */

struct data_transfer_opts {
	struct op_opts op;
	const char *message_id, *data;
};

static const struct opt data_transfer_opts[] = {
	{ OPT_STRING, 0, "message-id", "M", "the vendor's message id",
	  offsetof(struct data_transfer_opts, message_id), NULL, 0, 0 },
	{ OPT_STRING, 0, "data", "D", "the data, as text",
	  offsetof(struct data_transfer_opts, data), NULL, 0, 0 },
	OPT_TIMEOUT,
	OPT_END_MARK
};

static int show_data_transfer(const char *station, const json_t *result)
{
	const json_t *data = json_object_get(json_object_get(result, "response"), "data");
	int rc = show_result_line(station, result);
	char buf[64], *line;

	if (!data || json_is_null(data))
		return rc;
	if (!(line = strdup(output_text(data, buf, sizeof buf))))
		return oom();
	output_sanitize(line);
	printf("data: %s\n", line);
	free(line);
	return rc;
}

static int exec_data_transfer(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct data_transfer_opts *o = opts_;
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 2, 2)))
		return rc;
	body = json_object();
	if (args_set_str(body, "vendor_id", argv[2]) || args_set_str(body, "message_id", o->message_id) ||
	    args_set_str(body, "data", o->data)) {
		json_decref(body);
		return args_bad_text(ctx);
	}
	return operate(ctx, o, argv[1], "data-transfer", body, show_data_transfer);
}

/* auth-list send / version */

struct list_send_opts {
	struct op_opts op;
	long version;
	int full, differential;
};

static const struct opt list_send_opts[] = {
	{ OPT_INT, 0, "version", "N", "the version of the list once updated (required)",
	  offsetof(struct list_send_opts, version), NULL, 1, INT32_MAXL },
	{ OPT_BOOL, 0, "full", NULL, "replace the whole list (the default)",
	  offsetof(struct list_send_opts, full), NULL, 0, 0 },
	{ OPT_BOOL, 0, "differential", NULL, "add, change or (entries without status) remove entries",
	  offsetof(struct list_send_opts, differential), NULL, 0, 0 },
	OPT_TIMEOUT,
	OPT_END_MARK
};

/* The entries of a list file: an array of entries, or an object holding one
 * under "list" (what the API takes) or "tokens" (what `evctl tokens list
 * --json` prints). Only the members a list entry has are kept. */
static int list_entries(struct cmd_ctx *ctx, const char *file, json_t **out)
{
	static const char *const keep[] = { "id_tag", "status", "expiry", "parent_id_tag", NULL };
	json_t *doc, *entries, *e, *list;
	size_t i;
	int rc;

	if ((rc = args_json_file(ctx, file, &doc)))
		return rc;
	entries = json_is_array(doc) ? doc : json_object_get(doc, "list");
	if (!entries)
		entries = json_object_get(doc, "tokens");
	if (!json_is_array(entries)) {
		json_decref(doc);
		cmd_error("%s: %s: expected an array of entries, or {\"list\": [...]}", ctx->path, file);
		return EV_EXIT_USAGE;
	}
	list = json_array();
	json_array_foreach(entries, i, e) {
		json_t *entry = json_object();
		if (!json_is_string(json_object_get(e, "id_tag"))) {
			json_decref(entry);
			json_decref(list);
			json_decref(doc);
			cmd_error("%s: %s: entry %zu has no id_tag", ctx->path, file, i + 1);
			return EV_EXIT_USAGE;
		}
		for (int k = 0; keep[k]; k++) {
			json_t *v = json_object_get(e, keep[k]);
			if (v && !json_is_null(v))
				json_object_set(entry, keep[k], v);
		}
		json_array_append_new(list, entry);
	}
	json_decref(doc);
	*out = list;
	return EV_EXIT_OK;
}

static int exec_list_send(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct list_send_opts *o = opts_;
	json_t *body, *list = NULL;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 2)))
		return rc;
	if (!o->version) {
		cmd_error("%s: --version is required", ctx->path);
		return EV_EXIT_USAGE;
	}
	if (o->full && o->differential) {
		cmd_error("%s: --full and --differential exclude each other", ctx->path);
		return EV_EXIT_USAGE;
	}
	if (argc > 2 && (rc = list_entries(ctx, argv[2], &list)))
		return rc;
	body = json_pack("{s:I, s:s}", "version", (json_int_t)o->version,
			 "update", o->differential ? "differential" : "full");
	if (body && list)
		json_object_set_new(body, "list", list);
	else
		json_decref(list);
	return operate(ctx, o, argv[1], "local-list-send", body, NULL);
}

static int show_list_version(const char *station, const json_t *result)
{
	char buf[32], line[256];

	snprintf(line, sizeof line, "%s: local list version %s", station,
		 output_text(json_object_get(json_object_get(result, "response"), "listVersion"),
			     buf, sizeof buf));
	output_sanitize(line);
	puts(line);
	return status_of(result);
}

static int exec_list_version(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	return operate(ctx, opts, argv[1], "local-list-version", json_object(), show_list_version);
}

static const struct cmd auth_list_family[] = {
	{ .name = "send", .operands = "STATION [FILE]",
	  .summary = "send the local authorization list (a JSON file, or - for standard input)",
	  .description =
	  "FILE holds [{\"id_tag\": ..., \"status\": ..., \"expiry\": ..., \"parent_id_tag\": ...}, ...]\n"
	  "or the output of 'evctl tokens list --json'. Without FILE the list sent is\n"
	  "empty: a full update then clears the station's list.",
	  .opts = list_send_opts, .opts_size = sizeof(struct list_send_opts), .exec = exec_list_send,
	  .flags = CMD_API },
	{ .name = "version", .operands = "STATION", .summary = "ask for the version of a station's local list",
	  .opts = op_only_opts, .opts_size = sizeof(struct op_opts), .exec = exec_list_version,
	  .flags = CMD_API },
	{ .name = NULL }
};

/* reserve / unreserve */

struct reserve_opts {
	struct op_opts op;
	const char *expiry, *parent, *reservation;
	long minutes;
};

static const struct opt reserve_opts[] = {
	{ OPT_STRING, 0, "expiry", "TIME", "when the reservation ends (RFC 3339, or +30m, +2h)",
	  offsetof(struct reserve_opts, expiry), NULL, 0, 0 },
	{ OPT_INT, 0, "minutes", "N", "the reservation ends N minutes from now",
	  offsetof(struct reserve_opts, minutes), NULL, 1, 525600 },
	{ OPT_STRING, 0, "parent", "ID_TAG", "the parent id tag (group) that may also use it",
	  offsetof(struct reserve_opts, parent), NULL, 0, 0 },
	{ OPT_STRING, 0, "reservation", "ID", "the reservation id (default: the server picks one)",
	  offsetof(struct reserve_opts, reservation), NULL, 0, 0 },
	OPT_TIMEOUT,
	OPT_END_MARK
};

static int show_reservation(const char *station, const json_t *result)
{
	const json_t *id = json_object_get(result, "reservation");
	int rc = show_result_line(station, result);
	char buf[32];

	if (id && !json_is_null(id))
		printf("reservation %s\n", output_text(id, buf, sizeof buf));
	return rc;
}

static int exec_reserve(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct reserve_opts *o = opts_;
	char expiry[ARGS_TIME_MAX], minutes[32];
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 3, 3)))
		return rc;
	if (!o->expiry == !o->minutes) {
		cmd_error("%s: give either --expiry or --minutes", ctx->path);
		return EV_EXIT_USAGE;
	}
	snprintf(minutes, sizeof minutes, "+%ldm", o->minutes);
	if ((rc = args_time(ctx, o->expiry ? "--expiry" : "--minutes", o->expiry ? o->expiry : minutes,
			    0, expiry)) ||
	    (rc = connector_body(ctx, argv[2], &body)))
		return rc;
	if (!body)
		return oom();
	if (args_set_str(body, "id_tag", argv[3]) || args_set_str(body, "expiry", expiry) ||
	    args_set_str(body, "parent_id_tag", o->parent)) {
		json_decref(body);
		return args_bad_text(ctx);
	}
	if ((rc = args_set_long(ctx, body, "reservation", "--reservation", o->reservation, 0, INT32_MAXL))) {
		json_decref(body);
		return rc;
	}
	return operate(ctx, o, argv[1], "reserve", body, show_reservation);
}

static int exec_unreserve(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 2, 2)))
		return rc;
	if (!(body = json_object()))
		return oom();
	if ((rc = args_set_long(ctx, body, "reservation", "RESERVATION", argv[2], 0, INT32_MAXL))) {
		json_decref(body);
		return rc;
	}
	return operate(ctx, opts, argv[1], "cancel-reservation", body, NULL);
}

/* profile set / clear / composite */

static int exec_profile_set(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	json_t *body, *profile;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 3, 3)) || (rc = connector_body(ctx, argv[2], &body)))
		return rc;
	if ((rc = args_json_file(ctx, argv[3], &profile))) {
		json_decref(body);
		return rc;
	}
	if (!json_is_object(profile)) {
		json_decref(profile);
		json_decref(body);
		cmd_error("%s: %s: a charging profile is a JSON object", ctx->path, argv[3]);
		return EV_EXIT_USAGE;
	}
	if (body)
		json_object_set_new(body, "profile", profile);
	else
		json_decref(profile);
	return operate(ctx, opts, argv[1], "profile-set", body, NULL);
}

static const char *const purposes[] = { "ChargePointMaxProfile", "TxDefaultProfile", "TxProfile", NULL };

struct profile_clear_opts {
	struct op_opts op;
	const char *id, *connector, *purpose, *stack_level;
};

static const struct opt profile_clear_opts[] = {
	{ OPT_STRING, 0, "id", "N", "only the profile with this id",
	  offsetof(struct profile_clear_opts, id), NULL, 0, 0 },
	{ OPT_STRING, 0, "connector", "N", "only profiles on this connector (0: the station as a whole)",
	  offsetof(struct profile_clear_opts, connector), NULL, 0, 0 },
	{ OPT_STRING, 0, "purpose", "P", "only profiles of this purpose",
	  offsetof(struct profile_clear_opts, purpose), purposes, 0, 0 },
	{ OPT_STRING, 0, "stack-level", "N", "only profiles at this stack level",
	  offsetof(struct profile_clear_opts, stack_level), NULL, 0, 0 },
	OPT_TIMEOUT,
	OPT_END_MARK
};

static int exec_profile_clear(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct profile_clear_opts *o = opts_;
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)))
		return rc;
	if (!(body = json_object()))
		return oom();
	if ((rc = args_set_long(ctx, body, "id", "--id", o->id, -INT32_MAXL - 1, INT32_MAXL)) ||
	    (rc = args_set_long(ctx, body, "connector", "--connector", o->connector, 0, CONNECTOR_MAX)) ||
	    (rc = args_set_long(ctx, body, "stack_level", "--stack-level", o->stack_level, 0, INT32_MAXL))) {
		json_decref(body);
		return rc;
	}
	if (args_set_str(body, "purpose", o->purpose)) {
		json_decref(body);
		return args_bad_text(ctx);
	}
	return operate(ctx, o, argv[1], "profile-clear", body, NULL);
}

static const char *const units[] = { "A", "W", NULL };

struct composite_opts {
	struct op_opts op;
	long duration;
	const char *unit;
};

static const struct opt composite_opts[] = {
	{ OPT_INT, 0, "duration", "S", "the length of the schedule in seconds (required)",
	  offsetof(struct composite_opts, duration), NULL, 1, INT32_MAXL },
	{ OPT_STRING, 0, "unit", "A|W", "the unit of the limits: A (amperes) or W (watts)",
	  offsetof(struct composite_opts, unit), units, 0, 0 },
	OPT_TIMEOUT,
	OPT_END_MARK
};

static int show_composite(const char *station, const json_t *result)
{
	const json_t *response = json_object_get(result, "response");
	const json_t *schedule = json_object_get(response, "chargingSchedule"), *p;
	int rc = show_result_line(station, result);
	char a[64], b[64], c[64];
	struct table *t;
	size_t i;

	if (!json_is_object(schedule))
		return rc;
	printf("schedule from %s, %s s, unit %s\n",
	       output_text(json_object_get(response, "scheduleStart"), a, sizeof a),
	       output_text(json_object_get(schedule, "duration"), b, sizeof b),
	       output_text(json_object_get(schedule, "chargingRateUnit"), c, sizeof c));
	t = table_new("START (s)", "LIMIT", "PHASES", NULL);
	json_array_foreach(json_object_get(schedule, "chargingSchedulePeriod"), i, p) {
		table_row_json(t, p, (const char *const[]){
			"startPeriod", "limit", "numberPhases", NULL });
	}
	return output_table(t) ? EV_EXIT_SOFTWARE : rc;
}

static int exec_composite(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct composite_opts *o = opts_;
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 2, 2)))
		return rc;
	if (!o->duration) {
		cmd_error("%s: --duration is required", ctx->path);
		return EV_EXIT_USAGE;
	}
	if ((rc = connector_body(ctx, argv[2], &body)))
		return rc;
	if (!body || json_object_set_new(body, "duration", json_integer(o->duration))) {
		json_decref(body);
		return oom();
	}
	if (args_set_str(body, "unit", o->unit)) {
		json_decref(body);
		return args_bad_text(ctx);
	}
	return operate(ctx, o, argv[1], "composite", body, show_composite);
}

static const struct cmd profile_family[] = {
	{ .name = "set", .operands = "STATION CONNECTOR FILE",
	  .summary = "install a charging profile (OCPP 1.6 JSON file, - for standard input)",
	  .description = "CONNECTOR 0 applies the profile to the station as a whole.",
	  .opts = op_only_opts, .opts_size = sizeof(struct op_opts), .exec = exec_profile_set,
	  .flags = CMD_API },
	{ .name = "clear", .operands = "STATION",
	  .summary = "remove charging profiles (all, or those the options select)",
	  .opts = profile_clear_opts, .opts_size = sizeof(struct profile_clear_opts),
	  .exec = exec_profile_clear, .flags = CMD_API },
	{ .name = "composite", .operands = "STATION CONNECTOR",
	  .summary = "ask for the schedule a connector will follow",
	  .opts = composite_opts, .opts_size = sizeof(struct composite_opts), .exec = exec_composite,
	  .flags = CMD_API },
	{ .name = NULL }
};

/* firmware update / diagnostics */

struct transfer_opts {
	struct op_opts op;
	const char *retrieve_date, *start, *stop, *retries, *retry_interval;
};

static const struct opt firmware_opts[] = {
	{ OPT_STRING, 0, "retrieve-date", "TIME", "download from this time on (default now; RFC 3339 or +2h)",
	  offsetof(struct transfer_opts, retrieve_date), NULL, 0, 0 },
	{ OPT_STRING, 0, "retries", "N", "how often to retry a failed download",
	  offsetof(struct transfer_opts, retries), NULL, 0, 0 },
	{ OPT_STRING, 0, "retry-interval", "S", "seconds between retries",
	  offsetof(struct transfer_opts, retry_interval), NULL, 0, 0 },
	OPT_TIMEOUT,
	OPT_END_MARK
};

static const struct opt diagnostics_opts[] = {
	{ OPT_STRING, 0, "start", "TIME", "the oldest log entries wanted (RFC 3339, or -2h, -7d)",
	  offsetof(struct transfer_opts, start), NULL, 0, 0 },
	{ OPT_STRING, 0, "stop", "TIME", "the newest log entries wanted",
	  offsetof(struct transfer_opts, stop), NULL, 0, 0 },
	{ OPT_STRING, 0, "retries", "N", "how often to retry a failed upload",
	  offsetof(struct transfer_opts, retries), NULL, 0, 0 },
	{ OPT_STRING, 0, "retry-interval", "S", "seconds between retries",
	  offsetof(struct transfer_opts, retry_interval), NULL, 0, 0 },
	OPT_TIMEOUT,
	OPT_END_MARK
};

/* The options both transfers share: times and retries. */
static int transfer_body(struct cmd_ctx *ctx, const struct transfer_opts *o, const char *url,
			 json_t **out)
{
	const struct { const char *key, *what, *text; int past; } times[] = {
		{ "retrieve_date", "--retrieve-date", o->retrieve_date, 0 },
		{ "start", "--start", o->start, 1 },
		{ "stop", "--stop", o->stop, 1 },
	};
	json_t *body = json_object();
	char t[ARGS_TIME_MAX];
	int rc;

	if (args_set_str(body, "location", url)) {
		json_decref(body);
		return args_bad_text(ctx);
	}
	for (size_t i = 0; i < sizeof times / sizeof *times; i++) {
		if (!times[i].text)
			continue;
		if ((rc = args_time(ctx, times[i].what, times[i].text, times[i].past, t))) {
			json_decref(body);
			return rc;
		}
		args_set_str(body, times[i].key, t);
	}
	if ((rc = args_set_long(ctx, body, "retries", "--retries", o->retries, 0, 1000)) ||
	    (rc = args_set_long(ctx, body, "retry_interval", "--retry-interval", o->retry_interval, 0, 86400))) {
		json_decref(body);
		return rc;
	}
	*out = body;
	return EV_EXIT_OK;
}

static int exec_firmware_update(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 2, 2)) || (rc = transfer_body(ctx, opts_, argv[2], &body)))
		return rc;
	return operate(ctx, opts_, argv[1], "firmware-update", body, NULL);
}

static const struct cmd firmware_family[] = {
	{ .name = "update", .operands = "STATION URL",
	  .summary = "have a station download and install firmware from URL",
	  .description = "Follow the update with 'evctl watch --station STATION' (firmware events).",
	  .opts = firmware_opts, .opts_size = sizeof(struct transfer_opts), .exec = exec_firmware_update,
	  .flags = CMD_API },
	{ .name = NULL }
};

static int show_diagnostics(const char *station, const json_t *result)
{
	const char *file = str(json_object_get(result, "response"), "fileName");
	char line[512];

	if (file)
		snprintf(line, sizeof line, "%s: diagnostics will be uploaded as %s", station, file);
	else
		snprintf(line, sizeof line, "%s: no diagnostics to upload", station);
	output_sanitize(line);
	puts(line);
	return status_of(result);
}

static int exec_diagnostics(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	json_t *body;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 2, 2)) || (rc = transfer_body(ctx, opts_, argv[2], &body)))
		return rc;
	return operate(ctx, opts_, argv[1], "diagnostics", body, show_diagnostics);
}

/* call */

static int show_call(const char *station, const json_t *result)
{
	output_json(json_object_get(result, "response"));
	return status_of(result);
}

static int exec_call(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	json_t *payload, *body;
	json_error_t err;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 2, 3)))
		return rc;
	if (argc < 4) {
		payload = json_object();
	} else if (strcmp(argv[3], "-") == 0) {
		if ((rc = args_json_file(ctx, "-", &payload)))
			return rc;
	} else if (!(payload = json_loads(argv[3], 0, &err))) {
		cmd_error("%s: the payload is not JSON: %s", ctx->path, err.text);
		return EV_EXIT_USAGE;
	}
	if (!json_is_object(payload)) {
		json_decref(payload);
		cmd_error("%s: the payload must be a JSON object", ctx->path);
		return EV_EXIT_USAGE;
	}
	body = json_object();
	if (args_set_str(body, "action", argv[2])) {
		json_decref(payload);
		json_decref(body);
		return args_bad_text(ctx);
	}
	json_object_set_new(body, "payload", payload);
	return operate(ctx, opts, argv[1], "call", body, show_call);
}

/* ------------------------------------------------------------ audit */

struct audit_opts {
	const char *station;
	long limit;
};

static const struct opt audit_opts[] = {
	{ OPT_STRING, 0, "station", "ID", "only operations on this station",
	  offsetof(struct audit_opts, station), NULL, 0, 0 },
	{ OPT_INT, 0, "limit", "N", "at most N entries, newest first (default 100)",
	  offsetof(struct audit_opts, limit), NULL, 1, LIST_LIMIT },
	OPT_END_MARK
};

static int show_audit(const json_t *answer)
{
	struct table *t = table_new("TIME", "CLIENT", "STATION", "OPERATION", "RESULT", NULL);
	const json_t *a;
	size_t i;

	json_array_foreach(json_object_get(answer, "audit"), i, a) {
		table_row_json(t, a, (const char *const[]){
			"time", "client", "station", "operation", "result", NULL });
	}
	return output_table(t);
}

static int exec_audit(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct audit_opts *o = opts_;
	struct api_path path;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 0, 0)))
		return rc;
	api_path_init(&path, "/api/v1/audit");
	api_path_param(&path, "station", o->station);
	if (o->limit)
		api_path_param_long(&path, "limit", o->limit);
	return api_get_show(ctx, &path, show_audit);
}

/* ------------------------------------------------------------ the table */

#define OP(name_, operands_, summary_, opts_, type_, exec_) \
	{ .name = name_, .operands = operands_, .summary = summary_, .opts = opts_, \
	  .opts_size = sizeof(type_), .exec = exec_, .flags = CMD_API }

const struct cmd operation_commands[] = {
	OP("start", "STATION ID_TAG", "start a charging session remotely", start_opts,
	   struct start_opts, exec_start),
	OP("stop", "STATION [TRANSACTION]", "stop a charging session remotely (by transaction or --session)",
	   stop_opts, struct stop_opts, exec_stop),
	OP("reset", "STATION", "reset a station (soft, or --hard)", reset_opts, struct reset_opts, exec_reset),
	OP("unlock", "STATION CONNECTOR", "unlock a connector's cable", op_only_opts, struct op_opts,
	   exec_unlock),
	OP("availability", "STATION CONNECTOR on|off",
	   "make a connector (0: the station) available or unavailable", op_only_opts, struct op_opts,
	   exec_availability),
	OP("trigger", "STATION MESSAGE",
	   "have a station send a message now (boot, status, meter_values, ...)",
	   trigger_opts, struct connector_opts, exec_trigger),
	{ .name = "config", .operands = "COMMAND", .summary = "read and change a station's configuration keys",
	  .subcommands = config_family },
	OP("clear-cache", "STATION", "clear a station's authorization cache", op_only_opts, struct op_opts,
	   exec_clear_cache),
	OP("data-transfer", "STATION VENDOR", "send a vendor-specific DataTransfer", data_transfer_opts,
	   struct data_transfer_opts, exec_data_transfer),
	{ .name = "auth-list", .operands = "COMMAND", .summary = "manage a station's local authorization list",
	  .subcommands = auth_list_family },
	OP("reserve", "STATION CONNECTOR ID_TAG", "reserve a connector (0: any) for an id tag",
	   reserve_opts, struct reserve_opts, exec_reserve),
	OP("unreserve", "STATION RESERVATION", "cancel a reservation", op_only_opts, struct op_opts,
	   exec_unreserve),
	{ .name = "profile", .operands = "COMMAND", .summary = "manage a station's charging profiles",
	  .subcommands = profile_family },
	{ .name = "firmware", .operands = "COMMAND", .summary = "update a station's firmware",
	  .subcommands = firmware_family },
	OP("diagnostics", "STATION URL", "have a station upload its diagnostics to URL", diagnostics_opts,
	   struct transfer_opts, exec_diagnostics),
	OP("call", "STATION ACTION [JSON|-]",
	   "send any OCPP action with a JSON payload (the escape hatch)",
	   op_only_opts, struct op_opts, exec_call),
	{ .name = "audit", .operands = "", .summary = "show the operations clients asked for, newest first",
	  .opts = audit_opts, .opts_size = sizeof(struct audit_opts), .exec = exec_audit, .flags = CMD_API },
	{ .name = NULL }
};
