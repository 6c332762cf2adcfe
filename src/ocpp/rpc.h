/* The OCPP-J RPC layer of one connection, without sockets or clocks.
 *
 * The transport hands received text to ocpp_rpc_receive and gets frames to
 * write through ops->send; the caller supplies the time (monotonic ms) and
 * asks ocpp_rpc_next_deadline when to call ocpp_rpc_tick.
 *
 * - Outgoing CALLs: at most one outstanding per connection (OCPP-J 4.1.1);
 *   more wait in a queue in order. Each gets a fresh message id, a timeout
 *   counted from the moment it is sent, and exactly one result callback.
 * - Incoming CALLs are parsed and validated before any handler runs; what
 *   fails gets the right CALLERROR here and never reaches ops->on_call.
 *   Handlers answer with ocpp_rpc_reply / ocpp_rpc_reply_error, at once or
 *   later (after a commit, say).
 * - Responses are validated against the action's response schema, and so
 *   is everything we send (outbound validation, on by default: a bug of
 *   ours is caught here, not by a peer; ocpp_rpc_set_validate_outbound
 *   turns it off).
 *
 * Ownership: payloads passed in are stolen (like jansson's *_new); payloads
 * passed to callbacks are borrowed for the duration of the call. Callbacks
 * may queue new calls and replies but must not free the rpc object. */
#ifndef EV_OCPP_RPC_H
#define EV_OCPP_RPC_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ocpp/error.h"
#include "ocpp/frame.h"
#include "ocpp/schema.h"
#include "ocpp/version.h"

enum ocpp_role { OCPP_ROLE_STATION, OCPP_ROLE_CSMS };

enum ocpp_result_status {
	OCPP_RESULT_OK,       /* CALLRESULT with a valid payload */
	OCPP_RESULT_ERROR,    /* the peer answered with a CALLERROR */
	OCPP_RESULT_INVALID,  /* the peer's answer broke the schema */
	OCPP_RESULT_TIMEOUT,  /* no answer in time */
	OCPP_RESULT_CLOSED,   /* connection lost or rpc freed */
};

struct ocpp_result {
	enum ocpp_result_status status;
	const char *action;
	const char *id;
	json_t *payload;                  /* OK, INVALID */
	const char *error_code;           /* ERROR: as received; INVALID: ours */
	const char *error_description;
	json_t *error_details;            /* ERROR */
};

typedef void (*ocpp_result_fn)(void *arg, const struct ocpp_result *r);

struct ocpp_rpc_ops {
	/* Writes one frame. Returns 0, or -1 if the connection is gone. */
	int (*send)(void *ctx, const char *text, size_t len);
	/* A valid CALL arrived; answer it with ocpp_rpc_reply*(id). */
	void (*on_call)(void *ctx, const char *id, const struct ocpp_action *action,
			json_t *payload);
	/* Optional: a received frame was rejected or ignored (for logs). */
	void (*on_bad_frame)(void *ctx, const char *text, size_t len,
			     const struct ocpp_violation *v);
};

#define OCPP_RPC_MAX_INBOUND 16     /* CALLs awaiting our answer */
#define OCPP_RPC_DEFAULT_QUEUE 1000 /* CALLs waiting to be sent */

struct ocpp_rpc;

struct ocpp_rpc *ocpp_rpc_new(enum ocpp_version v, enum ocpp_role role,
			      const struct ocpp_rpc_ops *ops, void *ctx);
/* Fails every call still queued or outstanding with OCPP_RESULT_CLOSED. */
void ocpp_rpc_free(struct ocpp_rpc *rpc);

void ocpp_rpc_set_validate_outbound(struct ocpp_rpc *rpc, int on);
void ocpp_rpc_set_max_queue(struct ocpp_rpc *rpc, size_t n);
enum ocpp_version ocpp_rpc_version(const struct ocpp_rpc *rpc);

/* The connection is up: queued calls start going out. */
void ocpp_rpc_connected(struct ocpp_rpc *rpc, int64_t now_ms);
/* The connection is gone: the call in flight fails with CLOSED, calls not
 * yet sent stay queued for the next connection, pending inbound calls are
 * forgotten (their answers can no longer be delivered). */
void ocpp_rpc_disconnected(struct ocpp_rpc *rpc);

/* Queues a CALL. Returns 0; -EINVAL if the action is unknown, not ours to
 * send, or (with outbound validation) the payload is invalid; -ENOSPC if the
 * queue is full; -ENOMEM. On error fn is not called. The message id is
 * written to id_out if not NULL. */
int ocpp_rpc_call(struct ocpp_rpc *rpc, const char *action, json_t *payload,
		  unsigned timeout_ms, ocpp_result_fn fn, void *arg,
		  int64_t now_ms, char id_out[OCPP_ID_MAX + 1]);

/* Answers an inbound CALL. -ENOENT if no such call awaits an answer;
 * -EINVAL if outbound validation rejects the payload (an InternalError
 * CALLERROR is sent instead so the peer is not left waiting). */
int ocpp_rpc_reply(struct ocpp_rpc *rpc, const char *id, json_t *payload);
int ocpp_rpc_reply_error(struct ocpp_rpc *rpc, const char *id, enum ocpp_error code,
			 const char *description);

/* Feeds one received frame. Returns 0 if it was well-formed and valid, -1 if
 * it was rejected (answered with a CALLERROR where one is due). */
int ocpp_rpc_receive(struct ocpp_rpc *rpc, const char *text, size_t len, int64_t now_ms);

/* Expires the outstanding call if its time has come. */
void ocpp_rpc_tick(struct ocpp_rpc *rpc, int64_t now_ms);
/* When ocpp_rpc_tick next has work, or -1. */
int64_t ocpp_rpc_next_deadline(const struct ocpp_rpc *rpc);
/* Calls queued or in flight. */
size_t ocpp_rpc_pending(const struct ocpp_rpc *rpc);

/* A fresh UUID v4 string from the rpc's generator (for tests and callers
 * that need ids of their own). */
void ocpp_rpc_new_id(struct ocpp_rpc *rpc, char out[OCPP_ID_MAX + 1]);

#endif
