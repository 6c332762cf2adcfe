/* The station core's internals, shared with the protocol adapters. */
#ifndef EV_STATION_PRIV_H
#define EV_STATION_PRIV_H

#include <jansson.h>
#include <uv.h>

#include "net/wsclient.h"
#include "ocpp/rpc.h"
#include "station/connector.h"
#include "station/hal.h"
#include "station/hal_sim.h"
#include "station/station.h"
#include "station/stationdb.h"

#define STATION_MAX_CONNECTORS 64

/* Why a transaction ended (each version names these its own way). */
enum station_stop_reason {
	STOP_LOCAL, STOP_REMOTE, STOP_EV_DISCONNECTED, STOP_DEAUTHORIZED,
	STOP_POWER_LOSS, STOP_REBOOT, STOP_SOFT_RESET, STOP_HARD_RESET,
	STOP_UNLOCK_COMMAND, STOP_EMERGENCY_STOP, STOP_OTHER,
};

enum station_tx_event { TX_BEGUN, TX_ID_KNOWN, TX_ENDED };

/* What goes into the durable queue for a transaction. */
enum station_tx_message { TXMSG_START, TXMSG_METER, TXMSG_STOP, TXMSG_CLOCK };

/* Settings the core reads from the version's configuration. */
enum station_setting {
	SET_METER_SAMPLE_INTERVAL,      /* s; 0: no periodic meter values */
	SET_CONNECTION_TIMEOUT,         /* s in Preparing before giving up */
	SET_TX_MESSAGE_ATTEMPTS,
	SET_TX_MESSAGE_RETRY_INTERVAL,  /* s */
	SET_STOP_ON_INVALID_ID,         /* bool */
	SET_STOP_ON_EV_DISCONNECT,      /* bool */
	SET_CLOCK_ALIGNED_INTERVAL,     /* s; 0: no clock-aligned meter values */
	SET_STOP_TX_MAX_VALUES,         /* readings a stop message may carry, begin and end included */
	SET_PING_INTERVAL,              /* s; WebSocket pings when idle; 0: none */
};

/* A transaction while it runs. */
struct station_tx {
	int active;
	char ref[STATIONDB_REF_MAX + 1];        /* our own id, before the central system's */
	char id_tag[CONNECTOR_ID_TAG_MAX + 1];
	int64_t meter_start_wh, start_ms;
	int has_id;
	int64_t id;                             /* the central system's transactionId */
	int has_reservation;
	int32_t reservation_id;
};

struct station_connector {
	struct station_tx tx;
	int status_unsent;             /* changed while the central system could not hear */
	int plugged;
	char authorized_tag[CONNECTOR_ID_TAG_MAX + 1];  /* waiting for plug-in */
	int64_t preparing_since;                        /* mono ms; 0: not waiting */
	int has_reservation;
	int32_t reservation_id;
	int64_t reservation_expiry_ms;                  /* wall clock */
	uv_timer_t *sample_timer;      /* meter samples from the transaction's start; made at its first */
	int64_t tx_mono_start;         /* mono ms the running transaction began */
};

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
	/* A valid CALL from the central system. */
	void (*on_call)(struct station *st, const char *id, const struct ocpp_action *a,
			json_t *payload);
	/* A connector's StatusNotification is due. */
	void (*status)(struct station *st, unsigned connector, enum connector_status s,
		       const struct connector_result *r);
	/* Is id_tag allowed to charge? Answer with station_authorized(). */
	void (*authorize)(struct station *st, unsigned connector, const char *id_tag);
	/* The payload for the durable queue, and its action. For TXMSG_STOP,
	 * samples (borrowed, may be NULL) holds what tx_sample made during the
	 * transaction, oldest first. */
	json_t *(*tx_message)(struct station *st, unsigned connector, const struct station_tx *tx,
			      enum station_tx_message kind, const struct hal_meter *m,
			      enum station_stop_reason reason, json_t *samples, const char **action);
	/* A reading of a running transaction to keep for its stop message, or
	 * NULL when the configuration wants none of this kind. */
	json_t *(*tx_sample)(struct station *st, unsigned connector, enum stationdb_sample_kind kind,
			     const struct hal_meter *m);
	/* Reads a StartTransaction answer: the central system's id, and
	 * whether the idTag was accepted. */
	int (*tx_started)(struct station *st, json_t *reply, int64_t *id, int *accepted);
	long (*setting)(struct station *st, enum station_setting which);
	/* Meter values outside a transaction (clock-aligned), sent directly. */
	void (*meter_now)(struct station *st, unsigned connector, const struct hal_meter *m,
			  const char *context);
	/* The station's own default for a setting changed (a reloaded
	 * configuration): apply it unless the central system set its own. */
	void (*default_setting)(struct station *st, enum station_setting which, long value);
	/* The limit smart charging sets for a connector now. */
	void (*limit)(struct station *st, unsigned connector, struct hal_limit *out);
	/* A transaction began, got the central system's id, or ended. */
	void (*tx_event)(struct station *st, unsigned connector, enum station_tx_event what,
			 const struct station_tx *tx);
};

extern const struct station_adapter station_adapter_16;

struct station {
	char *id;
	struct station_config cfg;     /* strings point into `strings` below */
	char *strings[12];
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

	/* charging: the hardware, the connectors, the durable queue */
	struct stationdb *db;
	struct hal_sim *sim;
	struct hal *hal;
	struct connector sm[STATION_MAX_CONNECTORS + 1];            /* [0]: the station */
	struct station_connector conn[STATION_MAX_CONNECTORS + 1];
	uv_timer_t *hal_timer, *queue_timer, *tick_timer, *clock_timer;
	int queue_busy;                /* a queued message is in flight */
	unsigned tx_counter;
};

/* ---- the charging core (charging.c) */
int charging_init(struct station *st, char *err, size_t errlen);
void charging_fini(struct station *st);
/* After BootNotification Accepted: every connector's status. */
void charging_announce(struct station *st);
/* Something changed that the queue may now send. */
void charging_pump(struct station *st);
/* (Re)arms the running transactions' meter samples (MeterValueSampleInterval). */
void charging_set_sample_interval(struct station *st, unsigned seconds);
/* (Re)arms the clock-aligned meter values (ClockAlignedDataInterval). */
void charging_align_clock(struct station *st);
/* The connection is back (the station was accepted before). */
void charging_reconnected(struct station *st);
/* The adapter's answer to adapter->authorize. */
void station_authorized(struct station *st, unsigned connector, const char *id_tag, int accepted);
/* Reads connector c's meter now (for TriggerMessage); 0 or -errno. */
int station_read_meter(struct station *st, unsigned connector, struct hal_meter *m);
/* RemoteStartTransaction (connector 0: any free one); the connector
 * chosen, or -errno. */
int station_remote_start(struct station *st, unsigned connector, const char *id_tag);
/* RemoteStopTransaction; -ENOENT if no such transaction runs. */
int station_remote_stop(struct station *st, int64_t transaction_id);
/* Stops every running transaction (reset, shutdown). */
void station_stop_all(struct station *st, enum station_stop_reason reason);
/* UnlockConnector: stops a transaction there and unlocks; 0 or -errno. */
int station_unlock(struct station *st, unsigned connector);
enum connector_answer station_change_availability(struct station *st, unsigned connector, int operative);
/* ReserveNow on a connector; the reservation is kept on disk. */
enum connector_answer station_reserve(struct station *st, unsigned connector,
				      const struct stationdb_resv *r);
/* CancelReservation; -ENOENT if there is no such reservation. */
int station_cancel_reservation(struct station *st, int32_t reservation_id);
/* 1 when nothing waits in the transaction-message queue. */
int charging_queue_empty(struct station *st);
/* Applies the smart-charging limit to every connector now. */
void station_apply_limits(struct station *st);

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
/* WebSocket pings when idle (0: none), in force at once. */
void station_set_ping_interval(struct station *st, unsigned seconds);
/* The station's idea of now, corrected by the central system's clock. */
int64_t station_now_ms(const struct station *st);
/* Restarts the OCPP session (after a Reset): reconnects and boots again. */
void station_restart(struct station *st);

#endif
