/* The REST API of doc/API.md: routes, bearer-token check, request bodies.
 * Reads come from the store as ready JSON; writes go through the group
 * commit and are answered once committed; operations wait for the
 * station's answer. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "csms/auth.h"
#include "csms/csms_priv.h"
#include "util/log.h"
#include "util/rfc3339.h"

#define MAX_SEGMENTS 5

struct route {
	struct csms *cs;
	struct http_req *req;
	const char *method;
	char *seg[MAX_SEGMENTS];   /* after /api/v1/ */
	int n;
	char client[64];
	char buf[1024];
};

static int is(const struct route *r, const char *method, int n)
{
	return r->n == n && strcmp(r->method, method) == 0;
}

static void store_error(struct route *r)
{
	log_error("api: store: %s", db_errmsg(r->cs->db));
	http_reply_error(r->req, 500, "internal", "the store failed; see the server's log");
}

/* Answers after the current group commit (at once if none is open). */
static void reply_committed(struct route *r, int status, json_t *body)
{
	csms_reply_http(r->cs, r->req, status, body);
}

static int body_json(struct route *r, json_t **out)
{
	size_t len;
	const char *text = http_req_body(r->req, &len);
	json_error_t e;

	if (len == 0) {
		*out = json_object();
		return 0;
	}
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (!*out || !json_is_object(*out)) {
		http_reply_error(r->req, 400, "bad_request", "the body is not a JSON object%s%s",
				 *out ? "" : ": ", *out ? "" : e.text);
		json_decref(*out);
		return -1;
	}
	return 0;
}

static int query_int(struct route *r, const char *name, int dflt, int min, int max, int *out)
{
	const char *v = http_req_query(r->req, name);
	char *end;
	long n;

	*out = dflt;
	if (!v)
		return 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || n < min || n > max) {
		http_reply_error(r->req, 400, "bad_request", "%s: expected a whole number from %d to %d",
				 name, min, max);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static int query_time(struct route *r, const char *name, time_t *out)
{
	const char *v = http_req_query(r->req, name);
	struct ev_timestamp ts;

	*out = 0;
	if (!v)
		return 0;
	if (rfc3339_parse(v, &ts)) {
		http_reply_error(r->req, 400, "bad_request", "%s: expected an RFC 3339 time", name);
		return -1;
	}
	*out = (time_t)(ts.unix_ms / 1000);
	return 0;
}

/* ---------------------------------------------------------------- stations */

static void stations_list(struct route *r)
{
	const char *c = http_req_query(r->req, "connected");
	json_t *list;

	if (c && strcmp(c, "true") && strcmp(c, "false")) {
		http_reply_error(r->req, 400, "bad_request", "connected: expected true or false");
		return;
	}
	list = store_stations_json(r->cs->db, c ? strcmp(c, "true") == 0 : -1);
	if (!list)
		return store_error(r);
	http_reply_json(r->req, 200, list);
}

static void station_show(struct route *r, const char *id)
{
	json_t *st = store_station_json(r->cs->db, id);

	if (!st) {
		http_reply_error(r->req, 404, "not_found", "station '%s' not found", id);
		return;
	}
	http_reply_json(r->req, 200, st);
}

/* Password field: a string of 16-40 characters (OCPP AuthorizationKey
 * length), or null to remove. Sets *hash ("" for none). */
static int password_field(struct route *r, json_t *body, char hash[AUTH_HASH_MAX], int *given)
{
	json_t *p = json_object_get(body, "password");
	size_t n;

	*given = p != NULL;
	hash[0] = '\0';
	if (!p || json_is_null(p))
		return 0;
	n = json_string_length(p);
	if (!json_is_string(p) || n < 16 || n > 40 || strlen(json_string_value(p)) != n) {
		http_reply_error(r->req, 400, "bad_request", "password: expected 16 to 40 characters");
		return -1;
	}
	if (auth_hash_password(json_string_value(p), hash)) {
		http_reply_error(r->req, 500, "internal", "no randomness to hash the password");
		return -1;
	}
	return 0;
}

static int registration_field(struct route *r, json_t *body, enum registration *reg, int *given)
{
	json_t *v = json_object_get(body, "registration");

	*given = v != NULL;
	if (v && (!json_is_string(v) || registration_parse(json_string_value(v), reg))) {
		http_reply_error(r->req, 400, "bad_request",
				 "registration: expected accepted, pending or rejected");
		return -1;
	}
	return 0;
}

static void station_add(struct route *r)
{
	json_t *body;
	const char *id;
	char hash[AUTH_HASH_MAX];
	enum registration reg = REG_ACCEPTED;
	int given, rc;

	if (body_json(r, &body))
		return;
	id = json_string_value(json_object_get(body, "id"));
	if (!id || !csms_valid_station_id(id)) {
		http_reply_error(r->req, 400, "bad_request",
				 "id: expected 1 to 48 printable ASCII characters without '/'");
	} else if (password_field(r, body, hash, &given) == 0 &&
		   registration_field(r, body, &reg, &given) == 0) {
		if (csms_begin(r->cs)) {
			store_error(r);
		} else if ((rc = store_station_add(r->cs->db, id, reg, hash[0] ? hash : NULL,
						   time(NULL))) == -EEXIST) {
			http_reply_error(r->req, 409, "conflict", "station '%s' exists", id);
		} else if (rc) {
			store_error(r);
		} else {
			csms_audit(r->cs, r->client, id, "station-add", NULL, "ok");
			reply_committed(r, 201, store_station_json(r->cs->db, id));
		}
	}
	json_decref(body);
}

static void station_patch(struct route *r, const char *id)
{
	json_t *body;
	char hash[AUTH_HASH_MAX];
	enum registration reg;
	struct store_station s;
	int pw_given, reg_given, rc;

	if (body_json(r, &body))
		return;
	if (password_field(r, body, hash, &pw_given) || registration_field(r, body, &reg, &reg_given))
		goto out;
	if ((rc = store_station_get(r->cs->db, id, &s)) == -ENOENT) {
		http_reply_error(r->req, 404, "not_found", "station '%s' not found", id);
		goto out;
	}
	if (rc || csms_begin(r->cs) ||
	    (pw_given && store_station_set_password(r->cs->db, id, hash[0] ? hash : NULL)) ||
	    (reg_given && store_station_set_registration(r->cs->db, id, reg))) {
		store_error(r);
		goto out;
	}
	if (pw_given)
		csms_station_changed(r->cs, id, 0);
	if (reg_given)
		csms_station_registration(r->cs, id, reg);
	csms_audit(r->cs, r->client, id, "station-update", NULL, "ok");
	reply_committed(r, 200, store_station_json(r->cs->db, id));
out:
	json_decref(body);
}

static void station_delete(struct route *r, const char *id)
{
	int rc;

	if (csms_begin(r->cs)) {
		store_error(r);
		return;
	}
	rc = store_station_remove(r->cs->db, id);
	if (rc == -ENOENT) {
		http_reply_error(r->req, 404, "not_found", "station '%s' not found", id);
		return;
	}
	if (rc) {
		store_error(r);
		return;
	}
	csms_station_changed(r->cs, id, 1);
	csms_audit(r->cs, r->client, id, "station-remove", NULL, "ok");
	reply_committed(r, 204, NULL);
}

static void status_history(struct route *r, const char *id)
{
	struct store_station s;
	int connector, limit;
	json_t *h;

	if (query_int(r, "connector", -1, 0, 1000, &connector) ||
	    query_int(r, "limit", 100, 1, 10000, &limit))
		return;
	if (store_station_get(r->cs->db, id, &s) == -ENOENT) {
		http_reply_error(r->req, 404, "not_found", "station '%s' not found", id);
		return;
	}
	h = store_status_history_json(r->cs->db, id, connector, limit);
	if (!h)
		return store_error(r);
	http_reply_json(r->req, 200, h);
}

static void message_log(struct route *r, const char *id)
{
	struct store_station s;
	int limit;
	json_t *m;

	if (query_int(r, "limit", 100, 1, 10000, &limit))
		return;
	if (store_station_get(r->cs->db, id, &s) == -ENOENT) {
		http_reply_error(r->req, 404, "not_found", "station '%s' not found", id);
		return;
	}
	m = store_messages_json(r->cs->db, id, limit);
	if (!m)
		return store_error(r);
	http_reply_json(r->req, 200, m);
}

/* ---------------------------------------------------------------- operations */

struct pending_op {
	struct http_req *req;
	char station[64];
	char op[32];
};

static void op_answered(void *arg, const struct csms_op_result *res)
{
	struct pending_op *p = arg;
	json_t *body, *status;

	if (res->http_status != 200) {
		body = json_pack("{s:{s:s, s:s}}", "error", "code", res->error_code,
				 "message", res->message);
		if (res->ocpp_error) {
			json_t *e = json_object_get(body, "error");
			json_object_set_new(e, "ocpp_error", json_string(res->ocpp_error));
			json_object_set_new(e, "ocpp_description",
					    json_string(res->ocpp_description ? res->ocpp_description : ""));
		}
		if (res->response)
			json_object_set(json_object_get(body, "error"), "response", res->response);
		http_reply_json(p->req, res->http_status, body);
	} else {
		status = json_object_get(res->response, "status");
		body = json_pack("{s:s, s:s, s:s, s:O?, s:O}", "station", p->station,
				 "operation", p->op, "action", res->action,
				 "status", json_is_string(status) ? status : NULL,
				 "response", res->response);
		/* An id the server chose is news to the client. */
		if (strcmp(p->op, "reserve") == 0)
			json_object_set(body, "reservation", json_object_get(res->sent, "reservationId"));
		http_reply_json(p->req, 200, body);
	}
	free(p);
}

static void operate(struct route *r, const char *station, const char *op)
{
	struct pending_op *p;
	json_t *body;
	char err[300];
	int rc;

	if (body_json(r, &body))
		return;
	p = calloc(1, sizeof *p);
	if (!p) {
		json_decref(body);
		http_reply_error(r->req, 500, "internal", "out of memory");
		return;
	}
	p->req = r->req;
	snprintf(p->station, sizeof p->station, "%s", station);
	snprintf(p->op, sizeof p->op, "%s", op);
	rc = csms_operate(r->cs, station, op, body, r->client, op_answered, p, err, sizeof err);
	json_decref(body);
	if (rc == 0)
		return;
	free(p);
	switch (rc) {
	case -ENOENT:
		http_reply_error(r->req, 404, "not_found", "%s", err);
		break;
	case -ENOTCONN:
		http_reply_error(r->req, 409, "station_offline", "%s", err);
		break;
	case -ENOSPC:
		http_reply_error(r->req, 503, "busy", "%s", err);
		break;
	case -EINVAL:
		http_reply_error(r->req, 400, "bad_request", "%s", err);
		break;
	default:
		http_reply_error(r->req, 500, "internal", "%s", err);
	}
}

/* ---------------------------------------------------------------- sessions */

static void sessions_list(struct route *r)
{
	struct store_session_filter f = { .active = -1 };
	const char *status = http_req_query(r->req, "status");
	json_t *list;

	f.station = http_req_query(r->req, "station");
	f.id_tag = http_req_query(r->req, "id_tag");
	if (status && strcmp(status, "active") && strcmp(status, "completed")) {
		http_reply_error(r->req, 400, "bad_request", "status: expected active or completed");
		return;
	}
	if (status)
		f.active = strcmp(status, "active") == 0;
	if (query_time(r, "since", &f.since) || query_time(r, "until", &f.until) ||
	    query_int(r, "limit", 100, 1, 10000, &f.limit))
		return;
	list = store_sessions_json(r->cs->db, &f);
	if (!list)
		return store_error(r);
	http_reply_json(r->req, 200, list);
}

static void session_show(struct route *r, const char *idtext)
{
	char *end;
	long long id = strtoll(idtext, &end, 10);
	json_t *s;

	errno = ENOENT;
	s = *idtext && !*end ? store_session_json(r->cs->db, id) : NULL;
	if (!s && errno != ENOENT)
		return store_error(r);
	if (!s) {
		http_reply_error(r->req, 404, "not_found", "session '%s' not found", idtext);
		return;
	}
	http_reply_json(r->req, 200, s);
}

/* A long session's meter values, a page at a time: ?after=CURSOR, the
 * "next" of the page before (or the session's "meter_values_next"). */
static void session_meter_values(struct route *r, const char *idtext)
{
	char *end;
	long long id = strtoll(idtext, &end, 10);
	int limit;
	json_t *page;

	if (query_int(r, "limit", STORE_METER_PAGE, 1, 10000, &limit))
		return;
	errno = ENOENT;
	page = *idtext && !*end ? store_session_meter_json(r->cs->db, id,
							  http_req_query(r->req, "after"), limit) : NULL;
	if (page)
		return http_reply_json(r->req, 200, page);
	if (errno == ENOENT)
		http_reply_error(r->req, 404, "not_found", "session '%s' not found", idtext);
	else if (errno == EINVAL)
		http_reply_error(r->req, 400, "bad_request", "%s", db_errmsg(r->cs->db));
	else
		store_error(r);
}

/* ---------------------------------------------------------------- tokens */

static int token_fields(struct route *r, json_t *body, struct store_token *t)
{
	static const char *const fields[] = { "status", "expiry", "parent_id_tag" };
	const char **dest[] = { &t->status, &t->expiry, &t->parent };
	enum token_status st;

	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_object_get(body, fields[i]);
		if (!v)
			continue;
		if (json_is_null(v) && i > 0) {
			*dest[i] = "";
			continue;
		}
		if (!json_is_string(v)) {
			http_reply_error(r->req, 400, "bad_request", "%s: expected a string", fields[i]);
			return -1;
		}
		*dest[i] = json_string_value(v);
	}
	if (t->status && token_status_parse(t->status, &st)) {
		http_reply_error(r->req, 400, "bad_request",
				 "status: expected Accepted, Blocked, Expired or Invalid");
		return -1;
	}
	if (t->expiry && *t->expiry && rfc3339_parse(t->expiry, NULL)) {
		http_reply_error(r->req, 400, "bad_request", "expiry: expected an RFC 3339 time");
		return -1;
	}
	if (t->parent && strlen(t->parent) > 20) {
		http_reply_error(r->req, 400, "bad_request", "parent_id_tag: at most 20 characters");
		return -1;
	}
	return 0;
}

static void token_write(struct route *r, const char *id_tag, json_t *body, int create,
			const char *force_status)
{
	struct store_token t = { .id_tag = id_tag };
	int rc;

	if (!id_tag || !*id_tag || strlen(id_tag) > 20) {
		http_reply_error(r->req, 400, "bad_request", "id_tag: expected 1 to 20 characters (OCPP IdToken)");
		return;
	}
	if (body && token_fields(r, body, &t))
		return;
	if (force_status)
		t.status = force_status;
	if (csms_begin(r->cs)) {
		store_error(r);
		return;
	}
	rc = create ? store_token_add(r->cs->db, &t, time(NULL))
		    : store_token_set(r->cs->db, &t, time(NULL));
	if (rc == -EEXIST)
		http_reply_error(r->req, 409, "conflict", "token '%s' exists", id_tag);
	else if (rc == -ENOENT)
		http_reply_error(r->req, 404, "not_found", "token '%s' not found", id_tag);
	else if (rc == -EINVAL)
		http_reply_error(r->req, 400, "bad_request", "invalid token fields");
	else if (rc)
		store_error(r);
	else
		reply_committed(r, create ? 201 : 200, store_token_json(r->cs->db, id_tag));
}

static void tokens(struct route *r)
{
	json_t *body = NULL, *out;
	const char *tag = r->n > 1 ? r->seg[1] : NULL;
	int rc;

	if (is(r, "GET", 1)) {
		out = store_tokens_json(r->cs->db);
		if (!out)
			return store_error(r);
		http_reply_json(r->req, 200, out);
	} else if (is(r, "GET", 2)) {
		out = store_token_json(r->cs->db, tag);
		if (!out)
			http_reply_error(r->req, 404, "not_found", "token '%s' not found", tag);
		else
			http_reply_json(r->req, 200, out);
	} else if (is(r, "POST", 1)) {
		if (body_json(r, &body))
			return;
		token_write(r, json_string_value(json_object_get(body, "id_tag")), body, 1, NULL);
	} else if (is(r, "PATCH", 2)) {
		if (body_json(r, &body))
			return;
		token_write(r, tag, body, 0, NULL);
	} else if (is(r, "DELETE", 2)) {
		if (csms_begin(r->cs))
			return store_error(r);
		rc = store_token_remove(r->cs->db, tag);
		if (rc == -ENOENT)
			http_reply_error(r->req, 404, "not_found", "token '%s' not found", tag);
		else if (rc)
			store_error(r);
		else
			reply_committed(r, 204, NULL);
	} else if (is(r, "POST", 3) && strcmp(r->seg[2], "block") == 0) {
		token_write(r, tag, NULL, 0, "Blocked");
	} else if (is(r, "POST", 3) && strcmp(r->seg[2], "unblock") == 0) {
		token_write(r, tag, NULL, 0, "Accepted");
	} else {
		http_reply_error(r->req, r->n <= 3 ? 405 : 404, r->n <= 3 ? "method_not_allowed" : "not_found",
				 "%s %s is not part of the API", r->method, http_req_path(r->req));
	}
	json_decref(body);
}

/* ---------------------------------------------------------------- dispatch */

static void health(struct route *r)
{
	http_reply_json(r->req, 200, json_pack("{s:s, s:s, s:I}", "status", "ok",
					       "version", PACKAGE_VERSION,
					       "stations_connected",
					       (json_int_t)strmap_count(r->cs->stations)));
}

static int authenticate(struct route *r)
{
	const char *h = http_req_header(r->req, "authorization");
	char hash[AUTH_SHA256_HEX];

	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		auth_sha256_hex(h + 7, hash);
		if (store_api_client_find(r->cs->db, hash, r->client, sizeof r->client) == 0)
			return 0;
	}
	http_reply_header(r->req, "WWW-Authenticate", "Bearer realm=\"evctl\"");
	http_reply_error(r->req, 401, "unauthorized", h ? "the API token is not valid"
			 : "an API token is needed (Authorization: Bearer ...)");
	return -1;
}

static int split(struct route *r, const char *path)
{
	char *p;

	if (strncmp(path, "/api/v1/", 8) != 0 || strlen(path) >= sizeof r->buf)
		return -1;
	snprintf(r->buf, sizeof r->buf, "%s", path + 8);
	for (p = r->buf; *p && r->n < MAX_SEGMENTS;) {
		r->seg[r->n++] = p;
		p = strchr(p, '/');
		if (!p)
			break;
		*p++ = '\0';
		if (!*p)
			break;      /* a trailing slash is forgiven */
	}
	return p && *p ? -1 : 0;
}

void csms_api_handle(void *ctx, struct http_req *req)
{
	struct route r = { .cs = ctx, .req = req, .method = http_req_method(req) };
	const char *path = http_req_path(req);
	const char *what;

	if (split(&r, path) || r.n == 0) {
		http_reply_error(req, 404, "not_found", "%s is not part of the API (see doc/API.md)", path);
		return;
	}
	what = r.seg[0];
	if (strcmp(what, "health") == 0 && is(&r, "GET", 1))
		return health(&r);
	if (authenticate(&r))
		return;
	if (strcmp(what, "stations") == 0) {
		if (is(&r, "GET", 1))
			return stations_list(&r);
		if (is(&r, "POST", 1))
			return station_add(&r);
		if (is(&r, "GET", 2))
			return station_show(&r, r.seg[1]);
		if (is(&r, "PATCH", 2))
			return station_patch(&r, r.seg[1]);
		if (is(&r, "DELETE", 2))
			return station_delete(&r, r.seg[1]);
		if (is(&r, "GET", 3) && strcmp(r.seg[2], "status-history") == 0)
			return status_history(&r, r.seg[1]);
		if (is(&r, "GET", 3) && strcmp(r.seg[2], "messages") == 0)
			return message_log(&r, r.seg[1]);
		if (is(&r, "POST", 3))
			return operate(&r, r.seg[1], r.seg[2]);
	} else if (strcmp(what, "sessions") == 0) {
		if (is(&r, "GET", 1))
			return sessions_list(&r);
		if (is(&r, "GET", 2))
			return session_show(&r, r.seg[1]);
		if (is(&r, "GET", 3) && strcmp(r.seg[2], "meter-values") == 0)
			return session_meter_values(&r, r.seg[1]);
	} else if (strcmp(what, "tokens") == 0) {
		return tokens(&r);
	} else if (strcmp(what, "audit") == 0 && is(&r, "GET", 1)) {
		int limit;
		json_t *a;
		if (query_int(&r, "limit", 100, 1, 10000, &limit))
			return;
		a = store_audit_json(r.cs->db, http_req_query(req, "station"), limit);
		if (!a)
			return store_error(&r);
		return http_reply_json(req, 200, a);
	} else if (strcmp(what, "events") == 0 && is(&r, "GET", 1)) {
		if (csms_subscribe(r.cs, req, http_req_query(req, "station")))
			log_warn("api: could not open an event stream");
		return;
	}
	http_reply_error(req, 404, "not_found", "%s %s is not part of the API (see doc/API.md)",
			 r.method, path);
}
