/* The hardware-abstraction layer: what the version-neutral station core
 * needs from a charger, and what the charger tells it.
 *
 * A driver (the simulator in hal_sim.c; later one that runs an integrator's
 * commands for relay, lock and meter) embeds a `struct hal` as the first
 * member of its object and fills in `ops`. The core talks to it only through
 * the hal_* functions below and hears from it through the `hal_events` it
 * attaches with its own ctx. No globals: one process runs many stations.
 *
 * Connectors are numbered 1..n, as OCPP numbers them (1.6 connectorId, 2.0.1
 * EVSE id with its single connector); 0 means "the station" where a function
 * says so (display, token reader).
 *
 * Time: the core owns the clock and passes monotonic milliseconds to every
 * call that can change the power flow or must see it up to date (contactor,
 * limit, meter read, tick), so a driver never reads a clock itself. Like the
 * RPC engine, a driver says when it next has work (hal_next_deadline) and
 * does it in hal_tick; a driver that waits on file descriptors (child
 * processes, a serial line) offers one fd (e.g. an epoll fd) to poll for
 * input, after which the core calls hal_tick too.
 *
 * Requests (lock, contactor, limit, display) return 0 when done, a negative
 * errno when they failed (-EIO: the hardware refused or failed), or
 * -EINPROGRESS when the driver finishes later: it then reports the outcome
 * once, through events->done, from hal_tick. The simulator always finishes
 * at once; a driver running external commands will not.
 *
 * Events: hal_* calls made by the core never call the core back; events
 * are delivered from hal_tick, and from driver-specific entry points
 * (an operator plugging a simulated EV in). Handlers may call hal_*
 * functions but must not free the hal. */
#ifndef EV_STATION_HAL_H
#define EV_STATION_HAL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HAL_MAX_CONNECTORS 64
#define HAL_CODE_MAX 50      /* fault code ("GroundFailure"); 1.6 vendorErrorCode size */
#define HAL_INFO_MAX 50      /* fault info; 1.6 StatusNotification info size */
#define HAL_TOKEN_MAX 36     /* 2.0.1 IdToken.idToken; 1.6 idTag is 20 */
#define HAL_TOKEN_TYPE_MAX 20
#define HAL_DISPLAY_MAX 2048 /* bytes; 2.0.1 message content is 512 characters */

enum hal_connector_type {
	HAL_CONN_AC_TYPE1,   /* SAE J1772, single-phase AC */
	HAL_CONN_AC_TYPE2,   /* IEC 62196-2 (Mennekes), 1- or 3-phase AC */
	HAL_CONN_DC_CCS,     /* Combined Charging System, DC */
};

enum hal_unit { HAL_UNIT_A, HAL_UNIT_W };

/* What the EVSE offers now: the result of smart charging, which the EV
 * must obey. */
struct hal_limit {
	double value;           /* >= 0, in unit (A: per phase); 0 suspends charging */
	enum hal_unit unit;
	int phases;             /* AC phases the EV may use (numberPhases), 1..3; 0: all */
};

/* The EV side of the control pilot, after IEC 61851-1. */
enum hal_ev_state {
	HAL_EV_UNPLUGGED,   /* state A: no EV */
	HAL_EV_CONNECTED,   /* state B: plugged in, not asking for energy (e.g. full) */
	HAL_EV_READY,       /* state C/D: asking for energy */
};

/* Fixed facts about a connector. */
struct hal_connector_info {
	enum hal_connector_type type;
	int phases;             /* AC supply phases (1..3); 0 for DC */
	double voltage_v;       /* AC nominal phase-to-neutral voltage; 0 for DC */
	double max_current_a;   /* AC: per phase; DC: output current (0: not limited) */
	double max_power_w;
};

/* What the connector is doing now. */
struct hal_status {
	enum hal_ev_state ev;
	int locked;             /* cable lock engaged */
	int contactor_closed;
	struct hal_limit limit; /* as last set; at first the connector's maximum */
	int faulted;            /* a fault blocks charging until cleared */
	char fault_code[HAL_CODE_MAX + 1];   /* "" when not faulted */
	char fault_info[HAL_INFO_MAX + 1];
	int meter_error;        /* the negative errno hal_read_meter returns, or 0 */
};

/* Bits of hal_meter.have: a meter need not measure everything. */
#define HAL_METER_ENERGY  (1u << 0)
#define HAL_METER_POWER   (1u << 1)
#define HAL_METER_CURRENT (1u << 2)
#define HAL_METER_VOLTAGE (1u << 3)
#define HAL_METER_SOC     (1u << 4)

/* One reading, in OCPP's measurands. */
struct hal_meter {
	unsigned have;          /* HAL_METER_* */
	double energy_wh;       /* Energy.Active.Import.Register: monotonic */
	double power_w;         /* Power.Active.Import */
	int lines;              /* entries used below: AC L1..L3 per supply phase; DC 1 */
	double current_a[3];    /* Current.Import */
	double voltage_v[3];    /* Voltage (AC: L-N) */
	double soc_pct;         /* SoC, only when the EV tells it (DC) */
	int64_t time_ms;        /* when it was read (the core sets it); 0: now */
};

/* What a request was, for events->done. */
enum hal_request { HAL_REQ_LOCK, HAL_REQ_CONTACTOR, HAL_REQ_LIMIT, HAL_REQ_DISPLAY };

struct hal;

/* Implemented by the core; every member may be NULL. */
struct hal_events {
	/* The EV was plugged in or out, started or stopped asking for energy. */
	void (*ev_state)(void *ctx, int connector, enum hal_ev_state state);
	/* An RFID card or app token was presented; connector 0: a reader for
	 * the whole station. type is a 2.0.1 IdTokenEnumType ("ISO14443"). */
	void (*token)(void *ctx, int connector, const char *id, const char *type);
	/* A fault appeared (code is OCPP-style: "GroundFailure") or, with code
	 * NULL, cleared. While faulted the connector cannot charge. */
	void (*fault)(void *ctx, int connector, const char *code, const char *info);
	/* The meter failed (err < 0, what hal_read_meter now returns) or
	 * recovered (err 0). Charging may go on: it is the core's call. */
	void (*meter)(void *ctx, int connector, int err, const char *info);
	/* A request that returned -EINPROGRESS finished with rc. */
	void (*done)(void *ctx, int connector, enum hal_request req, int rc);
};

/* Implemented by a driver. Connector numbers reaching these are checked. */
struct hal_ops {
	const char *name;
	int (*info)(struct hal *h, int connector, struct hal_connector_info *out);
	int (*status)(struct hal *h, int connector, struct hal_status *out);
	int (*set_lock)(struct hal *h, int connector, int locked);
	int (*set_contactor)(struct hal *h, int connector, int closed, int64_t now_ms);
	int (*set_limit)(struct hal *h, int connector, const struct hal_limit *lim,
			 int64_t now_ms);
	int (*read_meter)(struct hal *h, int connector, int64_t now_ms, struct hal_meter *out);
	int (*set_display)(struct hal *h, int connector, const char *text);
	void (*tick)(struct hal *h, int64_t now_ms);
	int64_t (*next_deadline)(const struct hal *h);
	int (*fd)(const struct hal *h);     /* optional: -1 or NULL for none */
	void (*free)(struct hal *h);
};

/* The part every driver object starts with. */
struct hal {
	const struct hal_ops *ops;
	int n_connectors;
	const struct hal_events *events;
	void *events_ctx;
};

/* ---- for the core */

static inline int hal_connectors(const struct hal *h) { return h->n_connectors; }

/* Registers the core's event handlers (NULL detaches). */
static inline void hal_attach(struct hal *h, const struct hal_events *ev, void *ctx)
{
	h->events = ev;
	h->events_ctx = ctx;
}

static inline int hal_valid(const struct hal *h, int connector)
{
	return connector >= 1 && connector <= h->n_connectors;
}

static inline int hal_info(struct hal *h, int c, struct hal_connector_info *out)
{
	return hal_valid(h, c) ? h->ops->info(h, c, out) : -EINVAL;
}

static inline int hal_status(struct hal *h, int c, struct hal_status *out)
{
	return hal_valid(h, c) ? h->ops->status(h, c, out) : -EINVAL;
}

/* -EIO: the lock did not move (the core reports ConnectorLockFailure). */
static inline int hal_set_lock(struct hal *h, int c, int locked)
{
	return hal_valid(h, c) ? h->ops->set_lock(h, c, locked) : -EINVAL;
}

/* Closing may be refused: -ENOTCONN with no EV, -EIO while faulted. */
static inline int hal_set_contactor(struct hal *h, int c, int closed, int64_t now_ms)
{
	return hal_valid(h, c) ? h->ops->set_contactor(h, c, closed, now_ms) : -EINVAL;
}

/* The most the EVSE offers from now on; the EV must obey. 0 suspends
 * charging (SuspendedEVSE). Values above the connector's maximum are capped
 * by it. -EINVAL for a negative or non-finite value, a bad unit or phases.
 * A driver that cannot switch phases ignores lim->phases. */
static inline int hal_set_limit(struct hal *h, int c, const struct hal_limit *lim,
				int64_t now_ms)
{
	return hal_valid(h, c) ? h->ops->set_limit(h, c, lim, now_ms) : -EINVAL;
}

/* A reading as of now_ms. -EIO / -ETIMEDOUT while the meter fails,
 * -EAGAIN if the driver has no reading yet. */
static inline int hal_read_meter(struct hal *h, int c, int64_t now_ms, struct hal_meter *out)
{
	return hal_valid(h, c) ? h->ops->read_meter(h, c, now_ms, out) : -EINVAL;
}

/* Text for the screen of connector c, or the station's (0); NULL clears. */
static inline int hal_set_display(struct hal *h, int c, const char *text)
{
	if (c != 0 && !hal_valid(h, c))
		return -EINVAL;
	return h->ops->set_display(h, c, text);
}

static inline void hal_tick(struct hal *h, int64_t now_ms) { h->ops->tick(h, now_ms); }

/* When hal_tick next has work, or -1. */
static inline int64_t hal_next_deadline(const struct hal *h) { return h->ops->next_deadline(h); }

static inline int hal_fd(const struct hal *h) { return h->ops->fd ? h->ops->fd(h) : -1; }

static inline void hal_free(struct hal *h)
{
	if (h)
		h->ops->free(h);
}

/* ---- names, for configuration files and the control socket */

static inline const char *hal_connector_type_name(enum hal_connector_type t)
{
	switch (t) {
	case HAL_CONN_AC_TYPE1: return "Type1";
	case HAL_CONN_AC_TYPE2: return "Type2";
	case HAL_CONN_DC_CCS:   return "CCS";
	}
	return "?";
}

/* Returns the type, or -EINVAL. */
static inline int hal_connector_type_parse(const char *name)
{
	for (int t = HAL_CONN_AC_TYPE1; t <= HAL_CONN_DC_CCS; t++)
		if (strcmp(name, hal_connector_type_name((enum hal_connector_type)t)) == 0)
			return t;
	return -EINVAL;
}

static inline int hal_connector_is_dc(enum hal_connector_type t) { return t == HAL_CONN_DC_CCS; }

static inline const char *hal_unit_name(enum hal_unit u) { return u == HAL_UNIT_A ? "A" : "W"; }

static inline const char *hal_ev_state_name(enum hal_ev_state s)
{
	switch (s) {
	case HAL_EV_UNPLUGGED: return "unplugged";
	case HAL_EV_CONNECTED: return "connected";
	case HAL_EV_READY:     return "ready";
	}
	return "?";
}

/* ---- for drivers: deliver an event if the core listens for it */

static inline void hal_emit_ev_state(struct hal *h, int c, enum hal_ev_state s)
{
	if (h->events && h->events->ev_state)
		h->events->ev_state(h->events_ctx, c, s);
}

static inline void hal_emit_token(struct hal *h, int c, const char *id, const char *type)
{
	if (h->events && h->events->token)
		h->events->token(h->events_ctx, c, id, type);
}

static inline void hal_emit_fault(struct hal *h, int c, const char *code, const char *info)
{
	if (h->events && h->events->fault)
		h->events->fault(h->events_ctx, c, code, info);
}

static inline void hal_emit_meter(struct hal *h, int c, int err, const char *info)
{
	if (h->events && h->events->meter)
		h->events->meter(h->events_ctx, c, err, info);
}

static inline void hal_emit_done(struct hal *h, int c, enum hal_request req, int rc)
{
	if (h->events && h->events->done)
		h->events->done(h->events_ctx, c, req, rc);
}

#endif
