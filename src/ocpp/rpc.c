#include "config.h"
#include "ocpp/rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include "util/log.h"

struct outgoing {
	struct outgoing *next;
	const struct ocpp_action *action;
	char id[OCPP_ID_MAX + 1];
	char *text;
	unsigned timeout_ms;
	ocpp_result_fn fn;
	void *arg;
};

struct inbound {
	char id[OCPP_ID_MAX + 1];
	const struct ocpp_action *action;
};

struct ocpp_rpc {
	enum ocpp_version version;
	enum ocpp_role role;
	const struct ocpp_schema_set *schemas;
	const struct ocpp_rpc_ops *ops;
	void *ctx;
	struct outgoing *head, *tail;  /* head is in flight when head_sent */
	int head_sent;
	int64_t deadline;
	size_t queued, max_queue;
	/* Grown on demand: an idle connection (most of a central system's)
	 * carries none. */
	struct inbound *inbound;
	size_t n_inbound, cap_inbound;
	int connected, validate_outbound;
	uint64_t rng;
};
/* Room for one more inbound call; 0, or -1 when memory is short. */
static int grow_inbound(struct ocpp_rpc *rpc)
{
	size_t cap = rpc->cap_inbound ? rpc->cap_inbound * 2 : 2;
	struct inbound *p;

	if (rpc->n_inbound < rpc->cap_inbound)
		return 0;
	if (cap > OCPP_RPC_MAX_INBOUND)
		cap = OCPP_RPC_MAX_INBOUND;
	p = realloc(rpc->inbound, cap * sizeof *p);
	if (!p)
		return -1;
	rpc->inbound = p;
	rpc->cap_inbound = cap;
	return 0;
}


/* splitmix64: a fast generator for message ids, seeded from the kernel.
 * Ids need to be unique, not secret. */
static uint64_t next_random(struct ocpp_rpc *rpc)
{
	uint64_t z = (rpc->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void seed(struct ocpp_rpc *rpc)
{
	struct timespec ts;
#ifdef HAVE_GETRANDOM
	if (getrandom(&rpc->rng, sizeof rpc->rng, 0) == (ssize_t)sizeof rpc->rng)
		return;
#endif
	clock_gettime(CLOCK_REALTIME, &ts);
	rpc->rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
		   (uint64_t)(uintptr_t)rpc ^ ((uint64_t)getpid() << 16);
}

void ocpp_rpc_new_id(struct ocpp_rpc *rpc, char out[OCPP_ID_MAX + 1])
{
	uint64_t hi = next_random(rpc), lo = next_random(rpc);

	hi = (hi & ~0xf000ULL) | 0x4000ULL;                 /* version 4 */
	lo = (lo & ~(3ULL << 62)) | (2ULL << 62);           /* variant 10 */
	snprintf(out, OCPP_ID_MAX + 1, "%08x-%04x-%04x-%04x-%012llx",
		 (unsigned)(hi >> 32), (unsigned)(hi >> 16) & 0xffff, (unsigned)hi & 0xffff,
		 (unsigned)(lo >> 48), (unsigned long long)(lo & 0xffffffffffffULL));
}

struct ocpp_rpc *ocpp_rpc_new(enum ocpp_version v, enum ocpp_role role,
			      const struct ocpp_rpc_ops *ops, void *ctx)
{
	struct ocpp_rpc *rpc = calloc(1, sizeof *rpc);

	if (!rpc)
		return NULL;
	rpc->version = v;
	rpc->role = role;
	rpc->schemas = ocpp_schemas(v);
	rpc->ops = ops;
	rpc->ctx = ctx;
	rpc->max_queue = OCPP_RPC_DEFAULT_QUEUE;
	rpc->deadline = -1;
	rpc->validate_outbound = 1;
	seed(rpc);
	return rpc;
}

void ocpp_rpc_set_validate_outbound(struct ocpp_rpc *rpc, int on) { rpc->validate_outbound = on; }
void ocpp_rpc_set_max_queue(struct ocpp_rpc *rpc, size_t n) { rpc->max_queue = n; }
enum ocpp_version ocpp_rpc_version(const struct ocpp_rpc *rpc) { return rpc->version; }
size_t ocpp_rpc_pending(const struct ocpp_rpc *rpc) { return rpc->queued; }

static int send_text(struct ocpp_rpc *rpc, const char *text)
{
	log_debug("ocpp send %s", text);
	return rpc->ops->send(rpc->ctx, text, strlen(text));
}

/* Removes the head call and reports its result. */
static void finish_head(struct ocpp_rpc *rpc, struct ocpp_result *r)
{
	struct outgoing *o = rpc->head;

	rpc->head = o->next;
	if (!rpc->head)
		rpc->tail = NULL;
	rpc->head_sent = 0;
	rpc->deadline = -1;
	rpc->queued--;
	r->action = o->action->name;
	r->id = o->id;
	if (o->fn)
		o->fn(o->arg, r);
	free(o->text);
	free(o);
}

static void finish_head_status(struct ocpp_rpc *rpc, enum ocpp_result_status status)
{
	struct ocpp_result r = { .status = status };
	finish_head(rpc, &r);
}

/* Sends the head of the queue if nothing is in flight. */
static void pump(struct ocpp_rpc *rpc, int64_t now_ms)
{
	while (rpc->connected && rpc->head && !rpc->head_sent) {
		if (send_text(rpc, rpc->head->text) == 0) {
			rpc->head_sent = 1;
			rpc->deadline = now_ms + rpc->head->timeout_ms;
			return;
		}
		finish_head_status(rpc, OCPP_RESULT_CLOSED);
	}
}

void ocpp_rpc_free(struct ocpp_rpc *rpc)
{
	if (!rpc)
		return;
	rpc->connected = 0;
	while (rpc->head)
		finish_head_status(rpc, OCPP_RESULT_CLOSED);
	free(rpc->inbound);
	free(rpc);
}

void ocpp_rpc_connected(struct ocpp_rpc *rpc, int64_t now_ms)
{
	rpc->connected = 1;
	pump(rpc, now_ms);
}

void ocpp_rpc_disconnected(struct ocpp_rpc *rpc)
{
	rpc->connected = 0;
	rpc->n_inbound = 0;
	if (rpc->head && rpc->head_sent)
		finish_head_status(rpc, OCPP_RESULT_CLOSED);
}

static int may_send(const struct ocpp_rpc *rpc, const struct ocpp_action *a)
{
	return a->origin == OCPP_FROM_EITHER ||
	       (a->origin == OCPP_FROM_STATION) == (rpc->role == OCPP_ROLE_STATION);
}

int ocpp_rpc_call(struct ocpp_rpc *rpc, const char *action, json_t *payload,
		  unsigned timeout_ms, ocpp_result_fn fn, void *arg,
		  int64_t now_ms, char id_out[OCPP_ID_MAX + 1])
{
	const struct ocpp_action *a = ocpp_action_find(rpc->schemas, action);
	struct ocpp_violation v;
	struct outgoing *o;
	int rc = 0;

	if (!a || !may_send(rpc, a)) {
		log_error("ocpp: cannot send %s: %s", action,
			  a ? "not sent by this side" : "unknown action");
		rc = -EINVAL;
	} else if (rpc->validate_outbound && ocpp_validate(a->request, payload, &v)) {
		log_error("ocpp: refusing to send invalid %s: %s", action, v.reason);
		rc = -EINVAL;
	} else if (rpc->queued >= rpc->max_queue) {
		rc = -ENOSPC;
	}
	if (rc) {
		json_decref(payload);
		return rc;
	}
	o = calloc(1, sizeof *o);
	if (o) {
		ocpp_rpc_new_id(rpc, o->id);
		o->text = ocpp_build_call(o->id, action, payload);
	}
	json_decref(payload);
	if (!o || !o->text) {
		free(o);
		return -ENOMEM;
	}
	o->action = a;
	o->timeout_ms = timeout_ms;
	o->fn = fn;
	o->arg = arg;
	if (id_out)
		memcpy(id_out, o->id, sizeof o->id);
	if (rpc->tail)
		rpc->tail->next = o;
	else
		rpc->head = o;
	rpc->tail = o;
	rpc->queued++;
	pump(rpc, now_ms);
	return 0;
}

static struct inbound *find_inbound(struct ocpp_rpc *rpc, const char *id)
{
	for (size_t i = 0; i < rpc->n_inbound; i++)
		if (strcmp(rpc->inbound[i].id, id) == 0)
			return &rpc->inbound[i];
	return NULL;
}

static void drop_inbound(struct ocpp_rpc *rpc, struct inbound *in)
{
	*in = rpc->inbound[--rpc->n_inbound];
}

static int send_error(struct ocpp_rpc *rpc, const char *id, enum ocpp_error code,
		      const char *description)
{
	char *text = ocpp_build_error(id, ocpp_error_name(rpc->version, code), description, NULL);
	int rc = text ? send_text(rpc, text) : -ENOMEM;
	free(text);
	return rc;
}

int ocpp_rpc_reply(struct ocpp_rpc *rpc, const char *id, json_t *payload)
{
	struct inbound *in = find_inbound(rpc, id);
	struct ocpp_violation v;
	char *text;
	int rc;

	if (!in) {
		json_decref(payload);
		return -ENOENT;
	}
	if (rpc->validate_outbound && ocpp_validate(in->action->response, payload, &v)) {
		log_error("ocpp: invalid %s response: %s", in->action->name, v.reason);
		json_decref(payload);
		drop_inbound(rpc, in);
		send_error(rpc, id, OCPP_ERR_INTERNAL, "response failed validation");
		return -EINVAL;
	}
	text = ocpp_build_result(id, payload);
	json_decref(payload);
	drop_inbound(rpc, in);
	rc = text ? send_text(rpc, text) : -ENOMEM;
	free(text);
	return rc;
}

int ocpp_rpc_reply_error(struct ocpp_rpc *rpc, const char *id, enum ocpp_error code,
			 const char *description)
{
	struct inbound *in = find_inbound(rpc, id);

	if (!in)
		return -ENOENT;
	drop_inbound(rpc, in);
	return send_error(rpc, id, code, description);
}

static int reject(struct ocpp_rpc *rpc, const char *text, size_t len,
		  const struct ocpp_violation *v, const char *answer_id)
{
	log_info("ocpp: rejected frame: %s: %s", ocpp_error_name(rpc->version, v->code), v->reason);
	if (rpc->ops->on_bad_frame)
		rpc->ops->on_bad_frame(rpc->ctx, text, len, v);
	if (answer_id)
		send_error(rpc, answer_id, v->code, v->reason);
	return -1;
}

static int receive_call(struct ocpp_rpc *rpc, const char *text, size_t len,
			struct ocpp_frame *f)
{
	const struct ocpp_action *a = ocpp_action_find(rpc->schemas, f->action);
	struct ocpp_violation v = { 0 };
	struct inbound *in;

	if (!a) {
		v.code = OCPP_ERR_NOT_IMPLEMENTED;
		snprintf(v.reason, sizeof v.reason, "unknown action '%.60s'", f->action);
	} else if (a->origin != OCPP_FROM_EITHER && may_send(rpc, a)) {
		v.code = OCPP_ERR_NOT_SUPPORTED;
		snprintf(v.reason, sizeof v.reason, "%s is not sent to a %s", a->name,
			 rpc->role == OCPP_ROLE_CSMS ? "central system" : "charging station");
	} else if (find_inbound(rpc, f->id)) {
		v.code = OCPP_ERR_RPC_FRAMEWORK;
		snprintf(v.reason, sizeof v.reason, "a call with id '%s' is already being handled", f->id);
	} else if (rpc->n_inbound == OCPP_RPC_MAX_INBOUND || grow_inbound(rpc)) {
		v.code = OCPP_ERR_GENERIC;
		snprintf(v.reason, sizeof v.reason, "too many calls awaiting an answer");
	} else {
		ocpp_validate(a->request, f->payload, &v);
	}
	if (v.code != OCPP_ERR_NONE)
		return reject(rpc, text, len, &v, f->id);

	in = &rpc->inbound[rpc->n_inbound++];
	memcpy(in->id, f->id, sizeof in->id);
	in->action = a;
	rpc->ops->on_call(rpc->ctx, f->id, a, f->payload);
	return 0;
}

static int receive_answer(struct ocpp_rpc *rpc, const char *text, size_t len,
			  struct ocpp_frame *f, int64_t now_ms)
{
	struct ocpp_result r = { 0 };
	struct ocpp_violation v;
	char code[64];

	if (!rpc->head_sent || strcmp(rpc->head->id, f->id) != 0) {
		/* Late (after a timeout) or unknown: nothing waits for it. */
		v.code = OCPP_ERR_PROTOCOL;
		snprintf(v.reason, sizeof v.reason, "answer to unknown message id '%s'", f->id);
		return reject(rpc, text, len, &v, NULL);
	}
	if (f->type == OCPP_CALLERROR) {
		r.status = OCPP_RESULT_ERROR;
		r.error_code = f->error_code;
		r.error_description = f->error_description;
		r.error_details = f->error_details;
	} else if (ocpp_validate(rpc->head->action->response, f->payload, &v)) {
		snprintf(code, sizeof code, "%s", ocpp_error_name(rpc->version, v.code));
		r.status = OCPP_RESULT_INVALID;
		r.payload = f->payload;
		r.error_code = code;
		r.error_description = v.reason;
		log_warn("ocpp: invalid %s response: %s", rpc->head->action->name, v.reason);
	} else {
		r.status = OCPP_RESULT_OK;
		r.payload = f->payload;
	}
	finish_head(rpc, &r);
	pump(rpc, now_ms);
	return r.status == OCPP_RESULT_INVALID ? -1 : 0;
}

int ocpp_rpc_receive(struct ocpp_rpc *rpc, const char *text, size_t len, int64_t now_ms)
{
	struct ocpp_frame f;
	struct ocpp_violation v;
	int rc;

	log_debug("ocpp recv %.*s", (int)(len > 1000 ? 1000 : len), text);
	if (ocpp_frame_parse(text, len, &f, &v)) {
		/* Answers are never answered: a broken one for the call in
		 * flight fails that call; anything else that is broken gets a
		 * CALLERROR ("-1" when its id could not be read). */
		int answer = f.type == OCPP_CALLRESULT || f.type == OCPP_CALLERROR;
		if (answer && rpc->head_sent && strcmp(rpc->head->id, f.id) == 0) {
			struct ocpp_result r = { .status = OCPP_RESULT_INVALID,
				.error_code = ocpp_error_name(rpc->version, v.code),
				.error_description = v.reason };
			finish_head(rpc, &r);
			pump(rpc, now_ms);
		}
		rc = reject(rpc, text, len, &v, answer ? NULL : f.id);
	} else if (f.type == OCPP_CALL) {
		rc = receive_call(rpc, text, len, &f);
	} else if (f.type == OCPP_CALLRESULT || f.type == OCPP_CALLERROR) {
		rc = receive_answer(rpc, text, len, &f, now_ms);
	} else {
		/* CALLRESULTERROR and SEND belong to OCPP 2.1. */
		v.code = OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED;
		snprintf(v.reason, sizeof v.reason, "message type %d (%s) is not supported in OCPP %s",
			 f.type, ocpp_msgtype_name(f.type), ocpp_version_name(rpc->version));
		rc = reject(rpc, text, len, &v, f.id);
	}
	ocpp_frame_clear(&f);
	return rc;
}

void ocpp_rpc_tick(struct ocpp_rpc *rpc, int64_t now_ms)
{
	if (rpc->head_sent && now_ms >= rpc->deadline) {
		log_warn("ocpp: %s %s timed out", rpc->head->action->name, rpc->head->id);
		finish_head_status(rpc, OCPP_RESULT_TIMEOUT);
		pump(rpc, now_ms);
	}
}

int64_t ocpp_rpc_next_deadline(const struct ocpp_rpc *rpc)
{
	return rpc->head_sent ? rpc->deadline : -1;
}
