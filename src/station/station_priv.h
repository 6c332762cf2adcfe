/* The station core's internals, shared with the protocol adapters. */
#ifndef EV_STATION_PRIV_H
#define EV_STATION_PRIV_H

#include <jansson.h>
#include <uv.h>

#include "net/wsclient.h"
#include "ocpp/rpc.h"
#include "station/station.h"

/* What a protocol version provides to the core. */
struct station_adapter {
	enum ocpp_version version;
	/* Per-station state of the adapter (st->proto). */
	int (*init)(struct station *st, char *err, size_t errlen);
	void (*fini)(struct station *st);
	/* Sends the BootNotification; the adapter reports the answer with
	 * station_boot_answered. */
	void (*boot)(struct station *st);
	void (*heartbeat)(struct station *st);
	/* After registration: status of every connector. */
	void (*announce)(struct station *st);
	/* A valid CALL from the central system. */
	void (*on_call)(struct station *st, const char *id, const struct ocpp_action *a,
			json_t *payload);
};

extern const struct station_adapter station_adapter_16;

struct station {
	char *id;
	struct station_config cfg;     /* strings point into `strings` below */
	char *strings[10];
	uv_loop_t *loop;
	struct ws_client *ws;
	struct ocpp_rpc *rpc;
	const struct station_adapter *adapter;
	void *proto;                   /* the adapter's per-station state */
	uv_timer_t *rpc_timer;         /* the RPC engine's next deadline */
	uv_timer_t *heartbeat_timer;
	uv_timer_t *boot_timer;        /* retry after Pending / Rejected / no answer */
	enum station_registration registration;
	unsigned heartbeat_interval_s;
	int64_t clock_offset_ms;       /* central system time - our time */
	int closing;                   /* being freed: send nothing more */
};

/* Sends a CALL through the RPC engine and keeps the timer right. */
int station_call(struct station *st, const char *action, json_t *payload,
		 ocpp_result_fn fn, void *arg);
int station_reply(struct station *st, const char *id, json_t *payload);
int station_reply_error(struct station *st, const char *id, enum ocpp_error code,
			const char *description);

/* The adapter's report of the BootNotification answer. interval_s is the
 * heartbeat interval when accepted, the retry interval otherwise; 0 means
 * "not said". now_ms is the central system's current time (0 if absent). */
void station_boot_answered(struct station *st, enum station_registration reg,
			   unsigned interval_s, int64_t central_now_ms);
void station_set_heartbeat_interval(struct station *st, unsigned seconds);
/* The station's idea of now, corrected by the central system's clock. */
int64_t station_now_ms(const struct station *st);

#endif
