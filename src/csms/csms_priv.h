/* What the central system's parts share: the core (csms.c), the protocol
 * adapters (ocpp16.c) and the REST API (api.c). */
#ifndef EV_CSMS_PRIV_H
#define EV_CSMS_PRIV_H

#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include <uv.h>

#include "csms/csms.h"
#include "csms/store.h"
#include "net/httpd.h"
#include "net/wsserver.h"
#include "ocpp/rpc.h"
#include "util/strmap.h"

struct csms_station;
struct csms_reply;
struct csms_sub;
struct csms_http_reply;

struct csms {
	uv_loop_t *loop;
	struct csms_config cfg;
	char *strings;                /* copies of cfg's strings */
	struct db *db;
	struct ws_server *ws;
	struct httpd *http;
	struct strmap *stations;      /* id -> struct csms_station, connected */
	struct strmap *verified;      /* id -> hash of a password checked this run */
	unsigned char pepper[32];     /* keys those hashes */
	int tx_open;                  /* a group-commit transaction is open */
	uv_check_t *commit;           /* commits and answers once per iteration */
	uv_timer_t *commit_timer;     /* ... or once per commit interval */
	struct csms_station *dirty;   /* stations with answers awaiting commit */
	struct csms_sub *subs;        /* event stream subscribers */
	struct csms_http_reply *http_replies; /* API answers awaiting the commit */
	uv_timer_t *prune_timer;      /* message-log retention */
	int next_reservation;
};

/* A protocol version's half of the central system. */
struct csms_adapter {
	enum ocpp_version version;
	void (*on_call)(struct csms_station *st, const char *id, const struct ocpp_action *a,
			json_t *payload);
	/* An operation (doc/API.md) as an action and payload; -EINVAL with a
	 * message naming the bad field. */
	int (*build)(struct csms_station *st, const char *op, const json_t *params,
		     const char **action, json_t **payload, char *err, size_t errlen);
};

extern const struct csms_adapter csms_adapter_16;

/* One connected station. */
struct csms_station {
	struct csms *cs;
	char *id;
	struct ws_conn *conn;
	struct ocpp_rpc *rpc;
	const struct csms_adapter *adapter;
	uv_timer_t *timer;            /* the rpc's next deadline */
	enum registration registration;
	struct csms_reply *replies, **replies_tail; /* awaiting the commit */
	struct csms_station *next_dirty;
	int dirty;
	char peer[64];
	time_t seen_written;          /* last_seen last stored */
};

/* Group commit: a handler calls csms_begin before writing; its answer
 * (csms_reply*) is held until the iteration's commit succeeds. */
int csms_begin(struct csms *cs);
void csms_reply(struct csms_station *st, const char *id, json_t *payload);
void csms_reply_error(struct csms_station *st, const char *id, enum ocpp_error code,
		      const char *description);

/* An API answer that must wait for the group commit (500 if it fails). */
void csms_reply_http(struct csms *cs, struct http_req *req, int status, json_t *body);
/* An operator action that is no station call (station added, ...). */
void csms_audit(struct csms *cs, const char *client, const char *station, const char *op,
		const json_t *request, const char *result);
/* The operator decided a station's registration: a connected station
 * learns of an acceptance at once (it is asked to boot again). */
void csms_station_registration(struct csms *cs, const char *id, enum registration reg);

/* Events to the stream subscribers; data is stolen (may be NULL). */
void csms_publish(struct csms *cs, const char *type, const char *station, json_t *data);

/* Operator actions. The result goes to fn exactly once (perhaps before
 * csms_operate returns), unless csms_operate fails. */
struct csms_op_result {
	int http_status;              /* 200, or an error status of doc/API.md */
	const char *error_code;       /* NULL when 200 */
	const char *message;
	const char *action;
	const json_t *sent;           /* the request as sent to the station */
	json_t *response;             /* the station's answer (borrowed) */
	const char *ocpp_error, *ocpp_description;
};
typedef void (*csms_op_fn)(void *arg, const struct csms_op_result *r);
/* -ENOENT unknown station, -ENOTCONN not connected, -EINVAL bad params
 * (message in err), -ENOSPC too many queued. */
int csms_operate(struct csms *cs, const char *station, const char *op, const json_t *params,
		 const char *client, csms_op_fn fn, void *arg, char *err, size_t errlen);

/* A station's password changed or it was removed: forget what was
 * verified, drop its connection (removed). */
void csms_station_changed(struct csms *cs, const char *id, int removed);

/* 1 if id can be a station's: 1-48 printable ASCII characters, no '/'. */
int csms_valid_station_id(const char *id);

/* Turns req into an event stream of one station's events (NULL: all). */
int csms_subscribe(struct csms *cs, struct http_req *req, const char *station);

/* The REST API (api.c). */
void csms_api_handle(void *ctx, struct http_req *req);

#endif
