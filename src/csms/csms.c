/* The central system's core: admission, connections, the RPC engine per
 * station, group commit, operator operations and the event stream. What
 * each OCPP message means lives in the version adapters (ocpp16.c). */
#include "config.h"
#include "csms/csms_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "csms/auth.h"
#include "util/log.h"
#include "util/rfc3339.h"
#include "util/uvtimer.h"

#define MAX_QUEUED_OPS 50
#define PRUNE_INTERVAL_MS (3600 * 1000)

struct csms_reply {
	struct csms_reply *next;
	char id[OCPP_ID_MAX + 1];
	json_t *payload;              /* NULL: an error */
	enum ocpp_error code;
	char *description;
};

/* An operation waiting for a station's answer. */
struct csms_op {
	struct csms *cs;
	char *station, *op, *client;
	json_t *request;              /* the operator's */
	json_t *sent;                 /* the payload sent to the station */
	csms_op_fn fn;
	void *arg;
};

static const char *const subprotocols[] = { "ocpp1.6", NULL };

static int64_t mono(void)
{
	return ev_mono_ms();
}

/* ---------------------------------------------------------------- rpc glue */

static void arm(struct csms_station *st);
static void commit_check(uv_check_t *h);
static void schedule_commit(struct csms *cs);

static void rpc_timer(uv_timer_t *t)
{
	struct csms_station *st = t->data;

	ocpp_rpc_tick(st->rpc, mono());
	arm(st);
}

static void arm(struct csms_station *st)
{
	int64_t deadline = ocpp_rpc_next_deadline(st->rpc), now = mono();

	if (deadline < 0)
		uv_timer_stop(st->timer);
	else
		uv_timer_start(st->timer, rpc_timer, deadline > now ? (uint64_t)(deadline - now) : 0, 0);
}

static void log_frame(struct csms_station *st, char dir, const char *text, size_t len)
{
	if (!st->cs->cfg.message_log)
		return;
	if (csms_begin(st->cs) == 0)
		store_message_add(st->cs->db, st->id, dir, text, len, time(NULL));
}

static int rpc_send(void *ctx, const char *text, size_t len)
{
	struct csms_station *st = ctx;

	if (!st->conn)
		return -1;
	log_frame(st, 'o', text, len);
	return ws_conn_send(st->conn, text, len) ? -1 : 0;
}

static void rpc_on_call(void *ctx, const char *id, const struct ocpp_action *a, json_t *payload)
{
	struct csms_station *st = ctx;

	st->adapter->on_call(st, id, a, payload);
}

static void rpc_on_bad_frame(void *ctx, const char *text, size_t len,
			     const struct ocpp_violation *v)
{
	struct csms_station *st = ctx;

	log_info("station %s: rejected a frame (%s: %s): %.200s%s", st->id,
		 ocpp_error_name(st->adapter->version, v->code), v->reason, text,
		 len > 200 ? "..." : "");
}

static const struct ocpp_rpc_ops rpc_ops = {
	.send = rpc_send,
	.on_call = rpc_on_call,
	.on_bad_frame = rpc_on_bad_frame,
};

/* ---------------------------------------------------------------- group commit */

static void free_replies(struct csms_station *st)
{
	while (st->replies) {
		struct csms_reply *r = st->replies;
		st->replies = r->next;
		json_decref(r->payload);
		free(r->description);
		free(r);
	}
	st->replies_tail = &st->replies;
}

static void flush_replies(struct csms_station *st, int failed)
{
	for (struct csms_reply *r = st->replies; r; r = r->next) {
		if (failed)
			ocpp_rpc_reply_error(st->rpc, r->id, OCPP_ERR_INTERNAL,
					     "could not store the message; send it again");
		else if (r->payload) {
			ocpp_rpc_reply(st->rpc, r->id, r->payload);
			r->payload = NULL;     /* stolen */
		} else
			ocpp_rpc_reply_error(st->rpc, r->id, r->code, r->description);
	}
	free_replies(st);
	arm(st);
}

struct csms_http_reply {
	struct csms_http_reply *next;
	struct http_req *req;
	int status;
	json_t *body;
};

void csms_reply_http(struct csms *cs, struct http_req *req, int status, json_t *body)
{
	struct csms_http_reply *r;

	if (!cs->tx_open) {
		http_reply_json(req, status, body);
		return;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		json_decref(body);
		http_reply_error(req, 500, "internal", "out of memory");
		return;
	}
	r->req = req;
	r->status = status;
	r->body = body;
	r->next = cs->http_replies;
	cs->http_replies = r;
	schedule_commit(cs);
}

static void flush_http(struct csms *cs, int failed)
{
	while (cs->http_replies) {
		struct csms_http_reply *r = cs->http_replies;
		cs->http_replies = r->next;
		if (failed) {
			json_decref(r->body);
			http_reply_error(r->req, 500, "internal", "the store failed; see the server's log");
		} else {
			http_reply_json(r->req, r->status, r->body);
		}
		free(r);
	}
}

static void commit_now(struct csms *cs)
{
	int failed = 0;

	uv_check_stop(cs->commit);
	uv_timer_stop(cs->commit_timer);
	if (cs->tx_open) {
		cs->tx_open = 0;
		if (db_commit(cs->db)) {
			log_error("store: commit failed: %s", db_errmsg(cs->db));
			db_rollback(cs->db);
			failed = 1;
		}
	}
	while (cs->dirty) {
		struct csms_station *st = cs->dirty;
		cs->dirty = st->next_dirty;
		st->dirty = 0;
		st->next_dirty = NULL;
		flush_replies(st, failed);
	}
	flush_http(cs, failed);
}

static void commit_check(uv_check_t *h)
{
	commit_now(h->data);
}

static void commit_timer(uv_timer_t *t)
{
	commit_now(t->data);
}

/* With a commit interval, what arrives within it shares one commit (and
 * one fsync): answers wait up to that long, and the cost per message
 * falls with the load. Without, each loop iteration commits. */
static void schedule_commit(struct csms *cs)
{
	if (!cs->cfg.commit_interval_ms || !cs->tx_open)
		uv_check_start(cs->commit, commit_check);
	else if (!uv_is_active((uv_handle_t *)cs->commit_timer))
		uv_timer_start(cs->commit_timer, commit_timer, cs->cfg.commit_interval_ms, 0);
}

int csms_begin(struct csms *cs)
{
	int rc;

	if (cs->tx_open)
		return 0;
	rc = db_begin(cs->db);
	if (rc) {
		log_error("store: cannot begin: %s", db_errmsg(cs->db));
		return rc;
	}
	cs->tx_open = 1;
	schedule_commit(cs);
	return 0;
}

static void queue_reply(struct csms_station *st, struct csms_reply *r)
{
	struct csms *cs = st->cs;

	if (!cs->tx_open && !st->dirty) {
		/* Nothing to commit first: answer at once. */
		st->replies = r;
		st->replies_tail = &r->next;
		flush_replies(st, 0);
		return;
	}
	*st->replies_tail = r;
	st->replies_tail = &r->next;
	if (!st->dirty) {
		st->dirty = 1;
		st->next_dirty = cs->dirty;
		cs->dirty = st;
		schedule_commit(cs);
	}
}

void csms_reply(struct csms_station *st, const char *id, json_t *payload)
{
	struct csms_reply *r = calloc(1, sizeof *r);

	if (!r) {
		json_decref(payload);
		return;
	}
	snprintf(r->id, sizeof r->id, "%s", id);
	r->payload = payload;
	queue_reply(st, r);
}

void csms_reply_error(struct csms_station *st, const char *id, enum ocpp_error code,
		      const char *description)
{
	struct csms_reply *r = calloc(1, sizeof *r);

	if (!r)
		return;
	snprintf(r->id, sizeof r->id, "%s", id);
	r->code = code;
	r->description = strdup(description ? description : "");
	queue_reply(st, r);
}

/* ---------------------------------------------------------------- events */

struct csms_sub {
	struct csms_sub *next, **pprev;
	struct csms *cs;
	struct http_stream *stream;
	char *station;                /* NULL: all */
};

void csms_publish(struct csms *cs, const char *type, const char *station, json_t *data)
{
	char now[RFC3339_MAX];

	if (!cs->subs || !data) {
		json_decref(data);
		return;
	}
	if (!json_object_get(data, "time")) {
		rfc3339_format_ms(ev_now_ms(), now, sizeof now);
		json_object_set_new(data, "time", json_string(now));
	}
	if (station && !json_object_get(data, "station"))
		json_object_set_new(data, "station", json_string(station));
	for (struct csms_sub *s = cs->subs; s; s = s->next)
		if (!s->station || (station && strcmp(s->station, station) == 0))
			http_stream_send(s->stream, type, data);
	json_decref(data);
}

static void sub_unlink(struct csms_sub *sub)
{
	if (!sub->pprev)
		return;
	*sub->pprev = sub->next;
	if (sub->next)
		sub->next->pprev = sub->pprev;
	sub->pprev = NULL;
}

static void sub_closed(void *arg)
{
	struct csms_sub *sub = arg;

	sub_unlink(sub);
	free(sub->station);
	free(sub);
}

int csms_subscribe(struct csms *cs, struct http_req *req, const char *station)
{
	struct csms_sub *sub = calloc(1, sizeof *sub);

	if (!sub || (station && !(sub->station = strdup(station)))) {
		free(sub);
		return -ENOMEM;
	}
	sub->cs = cs;
	sub->stream = http_stream_open(req, sub_closed, sub);
	if (!sub->stream) {
		free(sub->station);
		free(sub);
		return -ENOMEM;
	}
	sub->next = cs->subs;
	if (cs->subs)
		cs->subs->pprev = &sub->next;
	cs->subs = sub;
	sub->pprev = &cs->subs;
	return 0;
}

static void close_streams(struct csms *cs)
{
	while (cs->subs) {
		struct csms_sub *sub = cs->subs;
		http_stream_close(sub->stream);   /* (on_close is not called) */
		sub_closed(sub);
	}
}

/* ---------------------------------------------------------------- stations */

static void station_free(struct csms_station *st)
{
	struct csms *cs = st->cs;

	if (st->dirty) {
		for (struct csms_station **pp = &cs->dirty; *pp; pp = &(*pp)->next_dirty) {
			if (*pp == st) {
				*pp = st->next_dirty;
				break;
			}
		}
	}
	free_replies(st);
	ocpp_rpc_free(st->rpc);    /* fails the operations in flight */
	ev_timer_free(st->timer);
	free(st->id);
	free(st);
}

/* A keyed hash of a password that was verified against the slow hash, so
 * that reconnects cost microseconds. Keyed by a per-process secret: the
 * map never holds anything usable outside this process. */
static void quick_hash(const struct csms *cs, const char *id, const char *password,
		       char out[AUTH_SHA256_HEX])
{
	char buf[600];

	snprintf(buf, sizeof buf, "%s:%s", id, password);
	auth_hmac_sha256_hex(cs->pepper, sizeof cs->pepper, buf, out);
	OPENSSL_cleanse(buf, sizeof buf);
}

static int password_ok(struct csms *cs, const char *id, const char *password, const char *stored)
{
	char quick[AUTH_SHA256_HEX];
	const char *known = strmap_get(cs->verified, id);
	char *copy;

	quick_hash(cs, id, password, quick);
	if (known && CRYPTO_memcmp(known, quick, 64) == 0)
		return 1;
	if (!auth_check_password(password, stored))
		return 0;
	copy = strdup(quick);
	if (copy) {
		free(strmap_del(cs->verified, id));
		if (strmap_set(cs->verified, id, copy))
			free(copy);
	}
	return 1;
}

int csms_valid_station_id(const char *id)
{
	size_t n = strlen(id);

	/* OCPP: identities are CiString20 in 1.6 (chargeBoxIdentity) and up
	 * to 48 characters in 2.0.1; printable ASCII, and no '/' (the id is
	 * a path segment, in our API too). */
	if (n == 0 || n > 48)
		return 0;
	for (; *id; id++)
		if (*id < 0x21 || *id > 0x7e || *id == '/')
			return 0;
	return 1;
}

static int ws_admit(void *ctx, const struct ws_admission *a)
{
	struct csms *cs = ctx;
	struct store_station s;
	int rc;

	if (!csms_valid_station_id(a->station_id)) {
		log_info("refused a station from %s: id is not printable ASCII of 1-48 characters", a->peer);
		return 400;
	}
	rc = store_station_get(cs->db, a->station_id, &s);
	if (rc == -ENOENT && !cs->cfg.auto_admission) {
		log_info("refused unknown station '%s' from %s", a->station_id, a->peer);
		return 404;
	}
	if (rc && rc != -ENOENT) {
		log_error("store: %s", db_errmsg(cs->db));
		return 500;
	}
	/* Security profile 3: the certificate names the station. */
	if (cs->cfg.tls_ca && (!a->cert_cn || strcmp(a->cert_cn, a->station_id) != 0)) {
		log_warn("refused station '%s' from %s: client certificate is for '%s'",
			 a->station_id, a->peer, a->cert_cn ? a->cert_cn : "(none)");
		return 403;
	}
	if (rc == 0 && s.password_hash[0]) {
		if (!a->user || !a->password || strcmp(a->user, a->station_id) != 0 ||
		    !password_ok(cs, a->station_id, a->password, s.password_hash)) {
			log_warn("refused station '%s' from %s: wrong or missing password",
				 a->station_id, a->peer);
			return 401;
		}
	}
	return 0;
}

static void *ws_on_open(void *ctx, struct ws_conn *conn, const struct ws_admission *a)
{
	struct csms *cs = ctx;
	struct csms_station *st = calloc(1, sizeof *st), *old;
	struct store_station s;
	time_t now = time(NULL);

	if (!st || !(st->id = strdup(a->station_id)) ||
	    !(st->timer = ev_timer_new(cs->loop, st))) {
		if (st)
			free(st->id);
		free(st);
		ws_conn_close(conn, "out of memory");
		return NULL;
	}
	st->cs = cs;
	st->conn = conn;
	st->adapter = &csms_adapter_16;
	st->replies_tail = &st->replies;
	snprintf(st->peer, sizeof st->peer, "%s", a->peer);
	st->rpc = ocpp_rpc_new(st->adapter->version, OCPP_ROLE_CSMS, &rpc_ops, st);
	if (!st->rpc) {
		station_free(st);
		ws_conn_close(conn, "out of memory");
		return NULL;
	}
	/* A second connection for the same id replaces the first. */
	old = strmap_get(cs->stations, st->id);
	if (old) {
		log_info("station %s: new connection from %s replaces the one from %s", st->id,
			 a->peer, old->peer);
		ws_conn_set_ctx(old->conn, NULL);
		ws_conn_close(old->conn, "replaced by a new connection");
		old->conn = NULL;
		strmap_del(cs->stations, st->id);
		station_free(old);
	}
	if (strmap_set(cs->stations, st->id, st)) {
		station_free(st);
		ws_conn_close(conn, "out of memory");
		return NULL;
	}
	if (csms_begin(cs) == 0) {
		if (store_station_get(cs->db, st->id, &s) == -ENOENT) {
			store_station_add(cs->db, st->id, cs->cfg.auto_registration, NULL, now);
			log_info("station %s registered on first connection (%s)", st->id,
				 registration_name(cs->cfg.auto_registration));
			s.registration = cs->cfg.auto_registration;
		}
		st->registration = s.registration;
		store_station_seen(cs->db, st->id, a->peer, now);
		st->seen_written = now;
		store_station_set_connected(cs->db, st->id, 1, now);
	}
	log_info("station %s connected from %s (%s)", st->id, a->peer, a->subprotocol);
	csms_publish(cs, "station.connected", st->id,
		     json_pack("{s:s}", "remote_address", a->peer));
	ocpp_rpc_connected(st->rpc, mono());
	return st;
}

static void ws_on_message(void *ctx, const char *text, size_t len)
{
	struct csms_station *st = ctx;

	if (!st)
		return;
	log_frame(st, 'i', text, len);
	/* "last seen" within a minute, at the price of one row update a minute. */
	if (time(NULL) - st->seen_written >= 60 && csms_begin(st->cs) == 0) {
		st->seen_written = time(NULL);
		store_station_seen(st->cs->db, st->id, st->peer, st->seen_written);
	}
	ocpp_rpc_receive(st->rpc, text, len, mono());
	arm(st);
}

static void ws_on_close(void *ctx, const char *why)
{
	struct csms_station *st = ctx;
	struct csms *cs;

	if (!st)
		return;
	cs = st->cs;
	st->conn = NULL;
	/* A replaced connection has already left the map. */
	if (strmap_get(cs->stations, st->id) != st)
		return;
	strmap_del(cs->stations, st->id);
	log_info("station %s disconnected: %s", st->id, why);
	if (csms_begin(cs) == 0)
		store_station_set_connected(cs->db, st->id, 0, time(NULL));
	csms_publish(cs, "station.disconnected", st->id, json_pack("{s:s}", "reason", why));
	station_free(st);
}

static const struct ws_server_ops ws_ops = {
	.admit = ws_admit,
	.on_open = ws_on_open,
	.on_message = ws_on_message,
	.on_close = ws_on_close,
};

void csms_station_changed(struct csms *cs, const char *id, int removed)
{
	struct csms_station *st = strmap_get(cs->stations, id);

	free(strmap_del(cs->verified, id));
	if (st && removed)
		ws_conn_close(st->conn, "station removed");
}

/* ---------------------------------------------------------------- operations */

static void op_free(struct csms_op *op)
{
	free(op->station);
	free(op->op);
	free(op->client);
	json_decref(op->request);
	json_decref(op->sent);
	free(op);
}

static void op_done(void *arg, const struct ocpp_result *r)
{
	struct csms_op *op = arg;
	struct csms_op_result res = { .action = r->action, .sent = op->sent };
	const char *result;
	char msg[300];

	switch (r->status) {
	case OCPP_RESULT_OK:
		res.http_status = 200;
		res.response = r->payload;
		result = json_string_value(json_object_get(r->payload, "status"));
		if (!result)
			result = "ok";
		break;
	case OCPP_RESULT_ERROR:
		res.http_status = 422;
		res.error_code = "rejected";
		snprintf(msg, sizeof msg, "station '%s' answered %s with %s: %s", op->station,
			 r->action, r->error_code, r->error_description ? r->error_description : "");
		res.message = msg;
		res.ocpp_error = r->error_code;
		res.ocpp_description = r->error_description;
		result = r->error_code;
		break;
	case OCPP_RESULT_INVALID:
		res.http_status = 502;
		res.error_code = "bad_response";
		snprintf(msg, sizeof msg, "station '%s' answered %s against the schema: %s",
			 op->station, r->action, r->error_description ? r->error_description : "");
		res.message = msg;
		res.response = r->payload;
		result = "invalid answer";
		break;
	case OCPP_RESULT_TIMEOUT:
		res.http_status = 504;
		res.error_code = "timeout";
		snprintf(msg, sizeof msg, "station '%s' did not answer %s in time", op->station, r->action);
		res.message = msg;
		result = "timeout";
		break;
	default:
		res.http_status = 409;
		res.error_code = "station_offline";
		snprintf(msg, sizeof msg, "station '%s' disconnected before answering %s",
			 op->station, r->action);
		res.message = msg;
		result = "disconnected";
		break;
	}
	if (csms_begin(op->cs) == 0)
		store_audit_add(op->cs->db, op->client, op->station, op->op, op->request, result,
				r->status == OCPP_RESULT_OK ? r->payload : NULL, time(NULL));
	op->fn(op->arg, &res);
	op_free(op);
}

int csms_operate(struct csms *cs, const char *station, const char *opname, const json_t *params,
		 const char *client, csms_op_fn fn, void *arg, char *err, size_t errlen)
{
	struct csms_station *st = strmap_get(cs->stations, station);
	struct store_station s;
	const char *action = NULL;
	json_t *payload = NULL, *t;
	json_int_t timeout = cs->cfg.call_timeout_s;
	struct csms_op *op;
	int rc;

	if (!st) {
		if (store_station_get(cs->db, station, &s) == -ENOENT) {
			snprintf(err, errlen, "station '%s' not found", station);
			return -ENOENT;
		}
		snprintf(err, errlen, "station '%s' is not connected", station);
		return -ENOTCONN;
	}
	t = json_object_get(params, "timeout");
	if (t) {
		if (!json_is_integer(t) || json_integer_value(t) < 1 || json_integer_value(t) > 300) {
			snprintf(err, errlen, "timeout: expected whole seconds from 1 to 300");
			return -EINVAL;
		}
		timeout = json_integer_value(t);
	}
	if (ocpp_rpc_pending(st->rpc) >= MAX_QUEUED_OPS) {
		snprintf(err, errlen, "station '%s' has %d operations waiting; try again later",
			 station, MAX_QUEUED_OPS);
		return -ENOSPC;
	}
	rc = st->adapter->build(st, opname, params, &action, &payload, err, errlen);
	if (rc)
		return rc;
	op = calloc(1, sizeof *op);
	if (!op || !(op->station = strdup(station)) || !(op->op = strdup(opname)) ||
	    !(op->client = strdup(client ? client : "-"))) {
		if (op)
			op_free(op);
		json_decref(payload);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	op->cs = cs;
	op->request = json_deep_copy(params);
	op->fn = fn;
	op->arg = arg;
	op->sent = json_incref(payload);
	rc = ocpp_rpc_call(st->rpc, action, payload, (unsigned)timeout * 1000, op_done, op, mono(), NULL);
	if (rc) {
		op_free(op);
		snprintf(err, errlen, rc == -ENOSPC ? "too many operations waiting for station '%s'"
			 : "the %s request for station '%s' is not valid", action, station);
		if (rc == -ENOSPC)
			snprintf(err, errlen, "too many operations waiting for station '%s'", station);
		return rc == -ENOSPC ? -ENOSPC : -EINVAL;
	}
	arm(st);
	return 0;
}

void csms_audit(struct csms *cs, const char *client, const char *station, const char *op,
		const json_t *request, const char *result)
{
	if (csms_begin(cs) == 0)
		store_audit_add(cs->db, client, station, op, request, result, NULL, time(NULL));
}

static void ignore_result(void *arg, const struct csms_op_result *r)
{
	(void)arg;
	(void)r;
}

void csms_station_registration(struct csms *cs, const char *id, enum registration reg)
{
	struct csms_station *st = strmap_get(cs->stations, id);
	json_t *params;
	char err[200];

	if (!st || st->registration == reg)
		return;
	st->registration = reg;
	if (reg != REG_ACCEPTED)
		return;
	params = json_pack("{s:s}", "message", "boot");
	if (csms_operate(cs, id, "trigger", params, "evctl", ignore_result, NULL, err, sizeof err))
		log_info("station %s: could not ask it to boot again: %s", id, err);
	json_decref(params);
}

/* ---------------------------------------------------------------- setup */

static void prune(uv_timer_t *t)
{
	struct csms *cs = t->data;

	if (csms_begin(cs) == 0)
		store_messages_prune(cs->db, time(NULL) - (time_t)cs->cfg.message_log_days * 86400);
}

/* The local operator's token: made at first start (or when the file is
 * gone), written for the user only, stored as a hash. */
static int ensure_token(struct csms *cs, char *err, size_t errlen)
{
	const char *path = cs->cfg.token_file;
	char token[AUTH_TOKEN_MAX], hash[AUTH_SHA256_HEX], line[256];
	FILE *f;
	int fd;

	if (!path)
		return 0;
	f = fopen(path, "r");
	if (f) {
		int have = fgets(line, sizeof line, f) != NULL;
		fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		if (have && line[0]) {
			auth_sha256_hex(line, hash);
			OPENSSL_cleanse(line, sizeof line);
			if (store_api_client_find(cs->db, hash, token, sizeof token) == 0)
				return 0;
		}
	}
	if (auth_new_token(token)) {
		snprintf(err, errlen, "no randomness for an API token");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) || dprintf(fd, "%s\n", token) < 0 || fsync(fd)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	auth_sha256_hex(token, hash);
	OPENSSL_cleanse(token, sizeof token);
	if (store_api_client_set(cs->db, "local", hash, time(NULL))) {
		snprintf(err, errlen, "store: %s", db_errmsg(cs->db));
		return -1;
	}
	log_info("wrote a new API token to %s", path);
	return 0;
}

/* Copies the config's strings into one block the csms owns. */
static int copy_config(struct csms *cs, const struct csms_config *cfg)
{
	const char **fields[] = {
		&cs->cfg.db_path, &cs->cfg.ocpp_address, &cs->cfg.path_prefix, &cs->cfg.tls_cert,
		&cs->cfg.tls_key, &cs->cfg.tls_ca, &cs->cfg.api_address, &cs->cfg.api_cert,
		&cs->cfg.api_key, &cs->cfg.token_file,
	};
	size_t total = 0, n = sizeof fields / sizeof *fields;
	char *p;

	cs->cfg = *cfg;
	for (size_t i = 0; i < n; i++)
		total += *fields[i] ? strlen(*fields[i]) + 1 : 0;
	p = cs->strings = malloc(total + 1);
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!*fields[i])
			continue;
		strcpy(p, *fields[i]);
		*fields[i] = p;
		p += strlen(p) + 1;
	}
	return 0;
}

int csms_new(uv_loop_t *loop, const struct csms_config *cfg, struct csms **out,
	     char *err, size_t errlen)
{
	struct csms *cs = calloc(1, sizeof *cs);
	struct ws_server_config wc = { 0 };
	struct httpd_config hc = { 0 };

	*out = NULL;
	if (!cs || copy_config(cs, cfg)) {
		free(cs);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*out = cs;
	cs->loop = loop;
	/* Reservation ids we choose: unlikely to repeat across restarts. */
	cs->next_reservation = (int)(time(NULL) % 1000000000);
	cs->stations = strmap_new();
	cs->verified = strmap_new();
	cs->commit = malloc(sizeof *cs->commit);
	if (cs->commit) {
		uv_check_init(loop, cs->commit);
		cs->commit->data = cs;
	}
	cs->prune_timer = ev_timer_new(loop, cs);
	cs->commit_timer = ev_timer_new(loop, cs);
	if (!cs->stations || !cs->verified || !cs->commit || !cs->prune_timer || !cs->commit_timer ||
	    RAND_bytes(cs->pepper, sizeof cs->pepper) != 1) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (store_open(cs->cfg.db_path, cs->cfg.sync, &cs->db, err, errlen))
		goto fail;
	if (store_stations_reset_connected(cs->db) || ensure_token(cs, err, errlen))
		goto fail;

	wc.address = cs->cfg.ocpp_address;
	wc.port = cs->cfg.ocpp_port;
	wc.path_prefix = cs->cfg.path_prefix ? cs->cfg.path_prefix : "/ocpp";
	wc.cert_file = cs->cfg.tls_cert;
	wc.key_file = cs->cfg.tls_key;
	wc.ca_file = cs->cfg.tls_ca;
	wc.subprotocols = subprotocols;
	wc.ping_interval_s = cs->cfg.ping_interval_s;
	cs->ws = ws_server_new(loop, &wc, &ws_ops, cs, err, errlen);
	if (!cs->ws)
		goto fail;
	hc.address = cs->cfg.api_address;
	hc.port = cs->cfg.api_port;
	hc.cert_file = cs->cfg.api_cert;
	hc.key_file = cs->cfg.api_key;
	cs->http = httpd_new(loop, &hc, csms_api_handle, cs, err, errlen);
	if (!cs->http)
		goto fail;
	if (cs->cfg.message_log) {
		prune(cs->prune_timer);
		uv_timer_start(cs->prune_timer, prune, PRUNE_INTERVAL_MS, PRUNE_INTERVAL_MS);
	}
	return 0;
fail:
	/* The caller tears down as after a run: close, let the loop run
	 * dry (libwebsockets finishes on it), free. */
	return -1;
}

int csms_ocpp_port(const struct csms *cs)
{
	return ws_server_port(cs->ws);
}

int csms_api_port(const struct csms *cs)
{
	return httpd_port(cs->http);
}

static void drop_station(void *arg, const char *key, void *value)
{
	(void)arg;
	(void)key;
	((struct csms_station *)value)->conn = NULL;
	station_free(value);
}

static void free_verified(void *arg, const char *key, void *value)
{
	(void)arg;
	(void)key;
	free(value);
}

static void close_handle(uv_handle_t *h)
{
	free(h);
}

void csms_close(struct csms *cs)
{
	if (!cs)
		return;
	/* What was received is committed and answered before we go; the
	 * operations in flight fail (and are audited) while the API can
	 * still answer them. */
	if (cs->commit && cs->tx_open)
		commit_now(cs);
	if (cs->stations) {
		strmap_each(cs->stations, drop_station, NULL);
		strmap_free(cs->stations);
		cs->stations = NULL;
	}
	if (cs->db && cs->tx_open) {
		if (db_commit(cs->db))
			log_error("store: commit failed: %s", db_errmsg(cs->db));
		cs->tx_open = 0;
	}
	if (cs->http) {
		close_streams(cs);
		httpd_close(cs->http);
	}
	if (cs->ws)
		ws_server_close(cs->ws);
	if (cs->prune_timer) {
		ev_timer_free(cs->prune_timer);
		cs->prune_timer = NULL;
	}
	if (cs->commit_timer) {
		ev_timer_free(cs->commit_timer);
		cs->commit_timer = NULL;
	}
	if (cs->commit) {
		uv_close((uv_handle_t *)cs->commit, close_handle);
		cs->commit = NULL;
	}
}

void csms_free(struct csms *cs)
{
	if (!cs)
		return;
	httpd_free(cs->http);
	ws_server_free(cs->ws);
	if (cs->verified) {
		strmap_each(cs->verified, free_verified, NULL);
		strmap_free(cs->verified);
	}
	db_close(cs->db);
	OPENSSL_cleanse(cs->pepper, sizeof cs->pepper);
	free(cs->strings);
	free(cs);
}
