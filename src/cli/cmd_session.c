/* evctl sessions and evctl watch.
 *
 *   evctl sessions list [--station ID] [--active|--completed] ...
 *   evctl sessions show ID
 *   evctl watch [--station ID]
 *
 * Sessions are the API's /sessions (doc/API.md); watch follows the live
 * event stream /events until interrupted, reconnecting when the server
 * goes away (a restart) and comes back. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/args.h"
#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/events.h"
#include "cli/output.h"
#include "util/exitcode.h"

#define LIST_LIMIT 10000L

/* Wh as kWh for people: "2.345". */
static void cell_kwh(struct table *t, const json_t *wh)
{
	if (json_is_integer(wh))
		table_cellf(t, "%.3f", (double)json_integer_value(wh) / 1000.0);
	else if (json_is_real(wh))
		table_cellf(t, "%.3f", json_real_value(wh) / 1000.0);
	else
		table_cell(t, NULL);
}

/* ------------------------------------------------------------ sessions */

struct list_opts {
	const char *station, *id_tag, *since, *until;
	int active, completed;
	long limit;
};

static const struct opt list_opts[] = {
	{ OPT_STRING, 0, "station", "ID", "only sessions at this station",
	  offsetof(struct list_opts, station), NULL, 0, 0 },
	{ OPT_BOOL, 0, "active", NULL, "only sessions still going on",
	  offsetof(struct list_opts, active), NULL, 0, 0 },
	{ OPT_BOOL, 0, "completed", NULL, "only sessions that have ended",
	  offsetof(struct list_opts, completed), NULL, 0, 0 },
	{ OPT_STRING, 0, "id-tag", "TAG", "only sessions started with this id tag",
	  offsetof(struct list_opts, id_tag), NULL, 0, 0 },
	{ OPT_STRING, 0, "since", "TIME", "only sessions started at or after TIME (RFC 3339, or 2h, 7d ago)",
	  offsetof(struct list_opts, since), NULL, 0, 0 },
	{ OPT_STRING, 0, "until", "TIME", "only sessions started before TIME",
	  offsetof(struct list_opts, until), NULL, 0, 0 },
	{ OPT_INT, 0, "limit", "N", "at most N sessions, newest first (default 100)",
	  offsetof(struct list_opts, limit), NULL, 1, LIST_LIMIT },
	OPT_END_MARK
};

static int show_list(const json_t *answer)
{
	struct table *t = table_new("ID", "STATION", "CONNECTOR", "ID TAG", "STATUS", "START", "STOP",
				    "KWH", NULL);
	const json_t *s;
	size_t i;

	json_array_foreach(json_object_get(answer, "sessions"), i, s) {
		table_row_json(t, s, (const char *const[]){
			"id", "station", "connector", "id_tag", "status", "start", "stop",
			NULL });
		cell_kwh(t, json_object_get(s, "energy_wh"));
	}
	return output_table(t);
}

static int exec_list(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct list_opts *o = opts_;
	char since[ARGS_TIME_MAX], until[ARGS_TIME_MAX];
	struct api_path path;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 0, 0)))
		return rc;
	if (o->active && o->completed) {
		cmd_error("%s: --active and --completed exclude each other", ctx->path);
		return EV_EXIT_USAGE;
	}
	if ((o->since && (rc = args_time(ctx, "--since", o->since, 1, since))) ||
	    (o->until && (rc = args_time(ctx, "--until", o->until, 1, until))))
		return rc;
	api_path_init(&path, "/api/v1/sessions");
	api_path_param(&path, "station", o->station);
	api_path_param(&path, "status", o->active ? "active" : o->completed ? "completed" : NULL);
	api_path_param(&path, "id_tag", o->id_tag);
	api_path_param(&path, "since", o->since ? since : NULL);
	api_path_param(&path, "until", o->until ? until : NULL);
	if (o->limit)
		api_path_param_long(&path, "limit", o->limit);
	return api_get_show(ctx, &path, show_list);
}

static int show_session(const json_t *s)
{
	const json_t *values = json_object_get(s, "meter_values"), *v;
	struct table *t = table_fields();
	const char *key;
	json_t *x;
	size_t i;
	int rc;

	json_object_foreach((json_t *)s, key, x)
		if (!json_is_object(x) && !json_is_array(x))
			table_field(t, key, x);
	if ((rc = output_table(t)) || !json_array_size(values))
		return rc;
	putchar('\n');
	t = table_new("TIME", "MEASURAND", "PHASE", "VALUE", "UNIT", "CONTEXT", "LOCATION", NULL);
	json_array_foreach(values, i, v) {
		const json_t *m = json_object_get(v, "measurand");
		table_cell_json(t, json_object_get(v, "time"));
		/* OCPP's default measurand, when the station named none. */
		table_cell(t, json_is_string(m) ? json_string_value(m) : "Energy.Active.Import.Register");
		table_row_json(t, v, (const char *const[]){
			"phase", "value", "unit", "context", "location", NULL });
	}
	return output_table(t);
}

/* The rest of a long session's meter values: the session brings the first
 * page and the cursor of the next; each page brings the next cursor. */
static int fetch_meter_pages(struct api *api, const char *id, json_t *session)
{
	json_t *values = json_object_get(session, "meter_values"), *next, *page;
	struct api_path path;
	int rc = EV_EXIT_OK;

	while (rc == EV_EXIT_OK &&
	       json_is_string(next = json_object_get(session, "meter_values_next"))) {
		api_path_init(&path, "/api/v1/sessions");
		api_path_seg(&path, id);
		api_path_seg(&path, "meter-values");
		api_path_param(&path, "after", json_string_value(next));
		rc = api_get(api, path.buf, &page);
		if (rc == EV_EXIT_OK) {
			json_array_extend(values, json_object_get(page, "meter_values"));
			json_object_set(session, "meter_values_next", json_object_get(page, "next"));
		}
		json_decref(page);
	}
	json_object_del(session, "meter_values_next");
	return rc;
}

static int exec_show(struct cmd_ctx *ctx, void *opts, int argc, char **argv)
{
	struct api_path path;
	struct api *api;
	json_t *session = NULL;
	long id;
	int rc;

	if ((rc = args_count(ctx, argc, argv, 1, 1)) ||
	    (rc = args_long(ctx, "ID", argv[1], 1, LONG_MAX, &id)))
		return rc;
	if (!(api = api_open(ctx, &rc)))
		return rc;
	api_path_init(&path, "/api/v1/sessions");
	api_path_seg(&path, argv[1]);
	rc = api_get(api, path.buf, &session);
	if (rc == EV_EXIT_OK)
		rc = fetch_meter_pages(api, argv[1], session);
	api_close(api);
	if (rc == EV_EXIT_OK) {
		if (ctx->json)
			output_json(session);
		else
			rc = show_session(session);
	}
	json_decref(session);
	return rc;
}

static const struct cmd sessions_family[] = {
	{ .name = "list", .operands = "", .summary = "list charging sessions, newest first",
	  .description = "Energy is shown in kWh; with --json, the API's sessions (energy_wh in Wh).",
	  .opts = list_opts, .opts_size = sizeof(struct list_opts), .exec = exec_list, .flags = CMD_API },
	{ .name = "show", .operands = "ID", .summary = "show a session and its meter values",
	  .exec = exec_show, .flags = CMD_API },
	{ .name = NULL }
};

/* ------------------------------------------------------------ watch */

#define WATCH_IDLE_S 45L       /* three missed keep-alives: the link is dead */
#define WATCH_RETRY_MS 1000L   /* first reconnection delay, doubling */
#define WATCH_RETRY_MIN_MS 100L
#define WATCH_RETRY_MAX_MS 30000L

struct watch_opts {
	const char *station;
};

static const struct opt watch_opts[] = {
	{ OPT_STRING, 0, "station", "ID", "only events of this station",
	  offsetof(struct watch_opts, station), NULL, 0, 0 },
	OPT_END_MARK
};

struct watch {
	struct sse_parser *sse;
	int json;
	int lost;      /* the stream broke: say so when it is back */
	const char *server;
};

static int on_event(const struct sse_event *ev, void *arg)
{
	struct watch *w = arg;
	json_error_t err;
	json_t *data = json_loadb(ev->data, ev->data_len, JSON_DECODE_ANY, &err);

	if (w->json) {
		json_t *line = json_pack("{s:s, s:o?}", "event", ev->type, "data", data);
		char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
		if (text)
			puts(text);
		free(text);
		json_decref(line);
	} else {
		char buf[2048];
		if (data)
			puts(event_describe(ev->type, data, buf, sizeof buf));
		else
			cmd_error("watch: '%s' event with data that is not JSON: %s", ev->type, err.text);
		json_decref(data);
	}
	/* Each event as it happens, and a closed pipe ends the watch. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cmd_error("write error on standard output");
		return EV_EXIT_IO;
	}
	return 0;
}

static int on_bytes(const char *data, size_t len, void *arg)
{
	struct watch *w = arg;
	int rc;

	if (w->lost) {
		cmd_error("watch: reconnected to %s", w->server);
		w->lost = 0;
	}
	rc = sse_feed(w->sse, data, len);
	if (rc < 0) {
		cmd_error("watch: an event over %d bytes was dropped", SSE_LINE_MAX);
		rc = 0;
	}
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int exec_watch(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct watch_opts *o = opts_;
	struct watch w = { .json = ctx->json };
	struct api_path path;
	struct api *api;
	long delay = WATCH_RETRY_MS;
	int rc, ever = 0;

	if ((rc = args_count(ctx, argc, argv, 0, 0)))
		return rc;
	api_path_init(&path, "/api/v1/events");
	api_path_param(&path, "station", o->station);
	if (path.overflow) {
		cmd_error("%s: --station too long", ctx->path);
		return EV_EXIT_USAGE;
	}
	if (!(w.sse = sse_parser_new(on_event, &w))) {
		cmd_error("out of memory");
		return EV_EXIT_SOFTWARE;
	}
	if (!(api = api_open(ctx, &rc))) {
		sse_parser_free(w.sse);
		return rc;
	}
	w.server = api_server(api);
	for (;;) {
		sse_reset(w.sse);
		rc = api_stream(api, path.buf, on_bytes, &w, WATCH_IDLE_S);
		if (rc == API_STREAM_ENDED) {
			/* It was up: try again after the delay the server asked
			 * for (not below WATCH_RETRY_MIN_MS: no busy loop). */
			ever = 1;
			delay = sse_retry_ms(w.sse) >= 0 ? sse_retry_ms(w.sse) : WATCH_RETRY_MS;
			if (delay < WATCH_RETRY_MIN_MS)
				delay = WATCH_RETRY_MIN_MS;
			if (!w.lost)
				cmd_error("watch: the event stream ended; reconnecting");
			w.lost = 1;
			sleep_ms(delay);
			continue;
		}
		/* Unreachable: fatal at first (a wrong --server), a restart later. */
		if (ever && api_transient(api)) {
			delay = delay * 2 > WATCH_RETRY_MAX_MS ? WATCH_RETRY_MAX_MS : delay * 2;
			sleep_ms(delay);
			continue;
		}
		if (rc && *api_error(api))
			cmd_error("%s", api_error(api));
		break;
	}
	api_close(api);
	sse_parser_free(w.sse);
	return rc;
}

const struct cmd session_commands[] = {
	{ .name = "sessions", .operands = "COMMAND", .summary = "list and show charging sessions",
	  .subcommands = sessions_family },
	{ .name = "watch", .operands = "",
	  .summary = "follow what happens at the stations, live, until interrupted",
	  .description =
	  "One line per event: connections, boots, connector statuses, sessions starting\n"
	  "and stopping, meter values, firmware and diagnostics. With --json, one object\n"
	  "per line: {\"event\": TYPE, \"data\": {...}}. When the server goes away (a\n"
	  "restart), watch reconnects and goes on.",
	  .opts = watch_opts, .opts_size = sizeof(struct watch_opts), .exec = exec_watch,
	  .flags = CMD_API },
	{ .name = NULL }
};
