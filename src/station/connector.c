#include "config.h"
#include "station/connector.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- names */

static const char *const status_names[CONN_N_STATUS] = {
	[CONN_AVAILABLE] = "Available",
	[CONN_PREPARING] = "Preparing",
	[CONN_CHARGING] = "Charging",
	[CONN_SUSPENDED_EV] = "SuspendedEV",
	[CONN_SUSPENDED_EVSE] = "SuspendedEVSE",
	[CONN_FINISHING] = "Finishing",
	[CONN_RESERVED] = "Reserved",
	[CONN_UNAVAILABLE] = "Unavailable",
	[CONN_FAULTED] = "Faulted",
};

static const char *const status_201_names[] = {
	[CONN201_AVAILABLE] = "Available",
	[CONN201_OCCUPIED] = "Occupied",
	[CONN201_RESERVED] = "Reserved",
	[CONN201_UNAVAILABLE] = "Unavailable",
	[CONN201_FAULTED] = "Faulted",
};

static const char *const error_names[CONN_N_ERROR] = {
	[CONN_ERR_NONE] = "NoError",
	[CONN_ERR_CONNECTOR_LOCK_FAILURE] = "ConnectorLockFailure",
	[CONN_ERR_EV_COMMUNICATION] = "EVCommunicationError",
	[CONN_ERR_GROUND_FAILURE] = "GroundFailure",
	[CONN_ERR_HIGH_TEMPERATURE] = "HighTemperature",
	[CONN_ERR_INTERNAL] = "InternalError",
	[CONN_ERR_LOCAL_LIST_CONFLICT] = "LocalListConflict",
	[CONN_ERR_OTHER] = "OtherError",
	[CONN_ERR_OVER_CURRENT] = "OverCurrentFailure",
	[CONN_ERR_OVER_VOLTAGE] = "OverVoltage",
	[CONN_ERR_POWER_METER] = "PowerMeterFailure",
	[CONN_ERR_POWER_SWITCH] = "PowerSwitchFailure",
	[CONN_ERR_READER] = "ReaderFailure",
	[CONN_ERR_RESET] = "ResetFailure",
	[CONN_ERR_UNDER_VOLTAGE] = "UnderVoltage",
	[CONN_ERR_WEAK_SIGNAL] = "WeakSignal",
};

static const char *const answer_names[] = {
	[CONN_ANSWER_NONE] = "",
	[CONN_ANSWER_ACCEPTED] = "Accepted",
	[CONN_ANSWER_SCHEDULED] = "Scheduled",
	[CONN_ANSWER_REJECTED] = "Rejected",
	[CONN_ANSWER_OCCUPIED] = "Occupied",
	[CONN_ANSWER_FAULTED] = "Faulted",
	[CONN_ANSWER_UNAVAILABLE] = "Unavailable",
};

static const char *const stop_reason_names[] = {
	[CONN_STOP_LOCAL] = "Local",
	[CONN_STOP_REMOTE] = "Remote",
	[CONN_STOP_EV_DISCONNECTED] = "EVDisconnected",
	[CONN_STOP_DEAUTHORIZED] = "DeAuthorized",
	[CONN_STOP_OTHER] = "Other",
};

static const char *const event_names[CONN_N_EVENT] = {
	[CONN_EV_PLUG_IN] = "plug-in",
	[CONN_EV_UNPLUG] = "unplug",
	[CONN_EV_AUTHORIZED] = "authorized",
	[CONN_EV_PREPARING_TIMEOUT] = "preparing-timeout",
	[CONN_EV_TX_STARTED] = "transaction-started",
	[CONN_EV_TX_STOPPED] = "transaction-stopped",
	[CONN_EV_EV_CHARGING] = "ev-charging",
	[CONN_EV_EV_SUSPENDED] = "ev-suspended",
	[CONN_EV_EVSE_SUSPENDED] = "evse-suspended",
	[CONN_EV_EVSE_RESUMED] = "evse-resumed",
	[CONN_EV_FAULT] = "fault",
	[CONN_EV_FAULT_CLEARED] = "fault-cleared",
	[CONN_EV_RESERVE] = "reserve",
	[CONN_EV_RESERVATION_EXPIRED] = "reservation-expired",
	[CONN_EV_RESERVATION_CANCELLED] = "reservation-cancelled",
	[CONN_EV_AVAILABILITY] = "availability",
};

#define N_OF(a) (sizeof (a) / sizeof *(a))

/* names[i] for i in range, else "?" (never NULL: these end up in logs). */
static const char *name_of(const char *const *names, size_t n, unsigned i)
{
	return i < n && names[i] ? names[i] : "?";
}

static int parse_name(const char *const *names, size_t n, const char *name, unsigned *out)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (names[i] && names[i][0] && strcmp(names[i], name) == 0) {
			*out = (unsigned)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *connector_status_name(enum connector_status s)
{
	return name_of(status_names, N_OF(status_names), s);
}

int connector_status_parse(const char *name, enum connector_status *out)
{
	unsigned i;
	int rc = parse_name(status_names, N_OF(status_names), name, &i);
	if (rc == 0)
		*out = (enum connector_status)i;
	return rc;
}

enum connector_status_201 connector_status_to_201(enum connector_status s)
{
	switch (s) {
	case CONN_AVAILABLE: return CONN201_AVAILABLE;
	case CONN_RESERVED: return CONN201_RESERVED;
	case CONN_UNAVAILABLE: return CONN201_UNAVAILABLE;
	case CONN_FAULTED: return CONN201_FAULTED;
	default: return CONN201_OCCUPIED;
	}
}

const char *connector_status_201_name(enum connector_status_201 s)
{
	return name_of(status_201_names, N_OF(status_201_names), s);
}

int connector_status_201_parse(const char *name, enum connector_status_201 *out)
{
	unsigned i;
	int rc = parse_name(status_201_names, N_OF(status_201_names), name, &i);
	if (rc == 0)
		*out = (enum connector_status_201)i;
	return rc;
}

const char *connector_status_wire_name(enum ocpp_version v, enum connector_status s)
{
	if (v == OCPP_V201)
		return connector_status_201_name(connector_status_to_201(s));
	return connector_status_name(s);
}

const char *connector_error_name(enum connector_error e)
{
	return name_of(error_names, N_OF(error_names), e);
}

int connector_error_parse(const char *name, enum connector_error *out)
{
	unsigned i;
	int rc = parse_name(error_names, N_OF(error_names), name, &i);
	if (rc == 0)
		*out = (enum connector_error)i;
	return rc;
}

const char *connector_answer_name(enum connector_answer a)
{
	return name_of(answer_names, N_OF(answer_names), a);
}

const char *connector_stop_reason_name(enum connector_stop_reason r)
{
	return name_of(stop_reason_names, N_OF(stop_reason_names), r);
}

const char *connector_event_name(enum connector_event_type t)
{
	return name_of(event_names, N_OF(event_names), t);
}

/* ---------------------------------------------------------------- the table */

/* Section 4.9, "State From" (rows) to "To" (columns). */
static const char *const table[CONN_N_STATUS][CONN_N_STATUS] = {
	[CONN_AVAILABLE] = {
		[CONN_PREPARING] = "A2", [CONN_CHARGING] = "A3", [CONN_SUSPENDED_EV] = "A4",
		[CONN_SUSPENDED_EVSE] = "A5", [CONN_RESERVED] = "A7", [CONN_UNAVAILABLE] = "A8",
		[CONN_FAULTED] = "A9",
	},
	[CONN_PREPARING] = {
		[CONN_AVAILABLE] = "B1", [CONN_CHARGING] = "B3", [CONN_SUSPENDED_EV] = "B4",
		[CONN_SUSPENDED_EVSE] = "B5", [CONN_FINISHING] = "B6", [CONN_FAULTED] = "B9",
	},
	[CONN_CHARGING] = {
		[CONN_AVAILABLE] = "C1", [CONN_SUSPENDED_EV] = "C4", [CONN_SUSPENDED_EVSE] = "C5",
		[CONN_FINISHING] = "C6", [CONN_UNAVAILABLE] = "C8", [CONN_FAULTED] = "C9",
	},
	[CONN_SUSPENDED_EV] = {
		[CONN_AVAILABLE] = "D1", [CONN_CHARGING] = "D3", [CONN_SUSPENDED_EVSE] = "D5",
		[CONN_FINISHING] = "D6", [CONN_UNAVAILABLE] = "D8", [CONN_FAULTED] = "D9",
	},
	[CONN_SUSPENDED_EVSE] = {
		[CONN_AVAILABLE] = "E1", [CONN_CHARGING] = "E3", [CONN_SUSPENDED_EV] = "E4",
		[CONN_FINISHING] = "E6", [CONN_UNAVAILABLE] = "E8", [CONN_FAULTED] = "E9",
	},
	[CONN_FINISHING] = {
		[CONN_AVAILABLE] = "F1", [CONN_PREPARING] = "F2", [CONN_UNAVAILABLE] = "F8",
		[CONN_FAULTED] = "F9",
	},
	[CONN_RESERVED] = {
		[CONN_AVAILABLE] = "G1", [CONN_PREPARING] = "G2", [CONN_UNAVAILABLE] = "G8",
		[CONN_FAULTED] = "G9",
	},
	[CONN_UNAVAILABLE] = {
		[CONN_AVAILABLE] = "H1", [CONN_PREPARING] = "H2", [CONN_CHARGING] = "H3",
		[CONN_SUSPENDED_EV] = "H4", [CONN_SUSPENDED_EVSE] = "H5", [CONN_FAULTED] = "H9",
	},
	[CONN_FAULTED] = {
		[CONN_AVAILABLE] = "I1", [CONN_PREPARING] = "I2", [CONN_CHARGING] = "I3",
		[CONN_SUSPENDED_EV] = "I4", [CONN_SUSPENDED_EVSE] = "I5", [CONN_FINISHING] = "I6",
		[CONN_RESERVED] = "I7", [CONN_UNAVAILABLE] = "I8",
	},
};

const char *connector_transition(enum connector_status from, enum connector_status to)
{
	if ((unsigned)from >= CONN_N_STATUS || (unsigned)to >= CONN_N_STATUS)
		return NULL;
	return table[from][to];
}

/* ---------------------------------------------------------------- status */

/* What the connector is doing, faults and availability aside. */
static enum connector_status underlying(const struct connector *c)
{
	if (c->tx) {
		if (c->evse_suspended)
			return CONN_SUSPENDED_EVSE;   /* precedence over SuspendedEV (4.9) */
		return c->ev_suspended ? CONN_SUSPENDED_EV : CONN_CHARGING;
	}
	if (c->finishing)
		return CONN_FINISHING;
	if (c->session)
		return CONN_PREPARING;
	if (c->reserved)
		return CONN_RESERVED;
	if (c->plugged)
		return CONN_PREPARING;
	return CONN_AVAILABLE;
}

static enum connector_status derive(const struct connector *c)
{
	if (c->faulted)
		return CONN_FAULTED;
	if (c->inoperative)
		return CONN_UNAVAILABLE;
	return underlying(c);
}

static int in_use(const struct connector *c)
{
	return underlying(c) != CONN_AVAILABLE;
}

/* A scheduled Inoperative takes effect once the connector is free.
 * Connector 0's schedule waits for the connectors instead (station_settle). */
static void settle(struct connector *c)
{
	if (c->id != 0 && c->pending && !in_use(c)) {
		c->pending = 0;
		c->inoperative = 1;
	}
}

void connector_init(struct connector *c, unsigned id, int inoperative)
{
	memset(c, 0, sizeof *c);
	c->id = id;
	c->inoperative = !!inoperative;
	c->status = derive(c);
}

enum connector_status connector_status(const struct connector *c) { return c->status; }
int connector_in_transaction(const struct connector *c) { return c->tx; }
int connector_wants_inoperative(const struct connector *c) { return c->inoperative || c->pending; }

int connector_reservation(const struct connector *c, int32_t *id)
{
	if (c->reserved && id)
		*id = c->reservation_id;
	return c->reserved;
}

/* ---------------------------------------------------------------- results */

static void result_init(struct connector_result *r, const struct connector *c)
{
	memset(r, 0, sizeof *r);
	r->from = r->to = c->status;
}

__attribute__((format(printf, 3, 4)))
static int refuse(struct connector_result *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof r->why, fmt, ap);
	va_end(ap);
	r->notify = 0;
	r->answer = CONN_ANSWER_NONE;
	return err;
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* The errorCode, info and vendorErrorCode of the notification. */
static void fill_notification(const struct connector *c, struct connector_result *r)
{
	if (c->status == CONN_FAULTED) {
		r->error = c->error;
		copy(r->info, sizeof r->info, c->info);
		copy(r->vendor_error, sizeof r->vendor_error, c->vendor_error);
	}
}

void connector_notification(const struct connector *c, struct connector_result *r)
{
	result_init(r, c);
	r->notify = 1;
	fill_notification(c, r);
}

/* Moves c to next, if the table allows the change of status. */
static int commit(struct connector *c, struct connector *next, struct connector_result *r)
{
	enum connector_status from = c->status, to = derive(next);

	if (from != to) {
		r->transition = table[from][to];
		if (!r->transition && from == CONN_PREPARING && to == CONN_UNAVAILABLE) {
			r->transition = "B8";
			r->extension = 1;
		}
		if (!r->transition)
			return refuse(r, -EPROTO, "%s -> %s is not a transition of OCPP 1.6 section 4.9",
				      status_names[from], status_names[to]);
		r->notify = 1;
	}
	next->status = to;
	*c = *next;
	r->from = from;
	r->to = to;
	if (r->notify && to == CONN_FAULTED)
		fill_notification(c, r);
	return 0;
}

/* ---------------------------------------------------------------- checks */

static int tag_ok(const char *s)
{
	return !s || strlen(s) <= CONNECTOR_ID_TAG_MAX;
}

static int info_ok(const char *s)
{
	return !s || strlen(s) <= CONNECTOR_INFO_MAX;
}

/* IdTokens are case-insensitive (CiString20Type). */
static int same_tag(const char *a, const char *b)
{
	return a && b && a[0] && strcasecmp(a, b) == 0;
}

/* The reservation is for this idTag or its group (5.13). */
static int reservation_matches(const struct connector *c, const char *tag, const char *parent)
{
	return same_tag(tag, c->reserved_tag) ||
	       (c->reserved_parent[0] && same_tag(parent, c->reserved_parent));
}

static int check_event(const struct connector *c, const struct connector_event *ev,
		       struct connector_result *r)
{
	if ((unsigned)ev->type >= CONN_N_EVENT)
		return refuse(r, -EINVAL, "unknown event %d", (int)ev->type);
	if (c->id == 0 && ev->type != CONN_EV_AVAILABILITY && ev->type != CONN_EV_FAULT &&
	    ev->type != CONN_EV_FAULT_CLEARED)
		return refuse(r, -EINVAL, "connector 0 is the station: %s does not apply to it",
			      event_names[ev->type]);
	if (!tag_ok(ev->id_tag) || !tag_ok(ev->parent_id_tag))
		return refuse(r, -EINVAL, "idTag longer than %d characters", CONNECTOR_ID_TAG_MAX);
	if (!info_ok(ev->info) || !info_ok(ev->vendor_error))
		return refuse(r, -EINVAL, "info or vendorErrorCode longer than %d characters",
			      CONNECTOR_INFO_MAX);
	if ((unsigned)ev->error >= CONN_N_ERROR)
		return refuse(r, -EINVAL, "unknown error code %d", (int)ev->error);
	if ((unsigned)ev->availability > CONN_INOPERATIVE)
		return refuse(r, -EINVAL, "unknown availability %d", (int)ev->availability);
	if ((unsigned)ev->reason > CONN_STOP_OTHER)
		return refuse(r, -EINVAL, "unknown stop reason %d", (int)ev->reason);
	return 0;
}

/* Events that would let someone charge need an operative connector. */
static int check_operative(const struct connector *c, struct connector_result *r, const char *what)
{
	if (c->faulted || c->inoperative)
		return refuse(r, -EPERM, "%s: connector %u is %s", what, c->id,
			      status_names[c->status]);
	return 0;
}

/* ---------------------------------------------------------------- events */

static void start_tx(struct connector *c, const char *tag, struct connector_result *r)
{
	c->tx = 1;
	c->finishing = 0;
	if (tag && tag[0] && !same_tag(tag, c->tag)) {
		copy(c->tag, sizeof c->tag, tag);
		c->tag_parent[0] = '\0';
	}
	if (c->session_reservation) {
		r->tx_reservation = 1;
		r->reservation_id = c->reservation_id;
	}
	c->session = 0;
	c->session_reservation = 0;
}

static void end_session(struct connector *c)
{
	c->session = 0;
	c->session_reservation = 0;
	c->tag[0] = c->tag_parent[0] = '\0';
}

/* The idTag of the session or the last transaction, or one of its group. */
static int same_user(const struct connector *c, const char *tag, const char *parent)
{
	return same_tag(tag, c->tag) || (c->tag_parent[0] && same_tag(parent, c->tag_parent));
}

static int on_plug_in(struct connector *c, const struct connector_event *ev,
		      struct connector_result *r)
{
	int rc;

	if (c->plugged)
		return refuse(r, -EPERM, "a cable is already plugged in");
	if (ev->start_tx) {
		if ((rc = check_operative(c, r, "start a transaction")))
			return rc;
		if (c->status != CONN_AVAILABLE)
			return refuse(r, -EPERM, "cannot start a transaction at plug-in when %s",
				      status_names[c->status]);
	}
	c->plugged = 1;
	if (!c->tx)
		c->ev_suspended = !!ev->ev_suspended;
	if (ev->start_tx)
		start_tx(c, ev->id_tag, r);
	return 0;
}

static int on_unplug(struct connector *c, struct connector_result *r)
{
	if (!c->plugged)
		return refuse(r, -EPERM, "no cable is plugged in");
	c->plugged = 0;
	if (c->tx) {
		/* The transaction goes on (StopTransactionOnEVSideDisconnect
		 * false): the EV takes nothing until it is back (4.9). */
		c->ev_suspended = 1;
		copy(r->info, sizeof r->info, "EV side disconnected");
		return 0;
	}
	c->finishing = 0;     /* F1: all user actions completed */
	c->ev_suspended = 0;
	end_session(c);       /* B1: intended usage ended */
	return 0;
}

static int on_authorized(struct connector *c, const struct connector_event *ev,
			 struct connector_result *r)
{
	int rc;

	if (!ev->id_tag || !ev->id_tag[0])
		return refuse(r, -EINVAL, "authorized without an idTag");
	if ((rc = check_operative(c, r, "authorize")))
		return rc;
	if (c->tx)
		return refuse(r, -EPERM, "a transaction is running (stop it with transaction-stopped)");
	if (c->finishing) {
		if (!same_user(c, ev->id_tag, ev->parent_id_tag))
			return refuse(r, -EACCES, "finishing: only the idTag of the last transaction "
				      "may restart (F2); others wait for the cable to be removed");
		c->finishing = 0;                       /* F2: a new session */
	} else if (c->session) {
		if (!same_tag(ev->id_tag, c->tag))
			return refuse(r, -EPERM, "already authorized for another idTag");
		end_session(c);                         /* B1: second presentation */
		return 0;
	} else if (c->reserved) {
		if (!reservation_matches(c, ev->id_tag, ev->parent_id_tag))
			return refuse(r, -EACCES, "reserved for another idTag (reservation %d)",
				      (int)c->reservation_id);
		c->reserved = 0;                        /* G2: the reservation is used */
		c->session_reservation = 1;
		r->reservation_ended = 1;
		r->reservation_id = c->reservation_id;
	}
	c->session = 1;
	copy(c->tag, sizeof c->tag, ev->id_tag);
	copy(c->tag_parent, sizeof c->tag_parent, ev->parent_id_tag);
	return 0;
}

static int on_preparing_timeout(struct connector *c, struct connector_result *r)
{
	/* Unavailable: no Preparing, so no ConnectionTimeOut running. */
	if (c->tx || c->inoperative || underlying(c) != CONN_PREPARING)
		return refuse(r, -EPERM, "nothing is preparing on connector %u", c->id);
	if (c->session && c->plugged)
		return refuse(r, -EPERM, "plugged in and authorized: the transaction should start");
	if (c->session)
		end_session(c);       /* B1: never plugged in */
	else
		c->finishing = 1;     /* B6: never authorized; blocks the next idTag */
	return 0;
}

static int on_tx_started(struct connector *c, const struct connector_event *ev,
			 struct connector_result *r)
{
	int rc;

	if (c->tx)
		return refuse(r, -EPERM, "a transaction is already running");
	if ((rc = check_operative(c, r, "start a transaction")))
		return rc;
	switch (c->status) {
	case CONN_PREPARING:
		break;
	case CONN_RESERVED:
		return refuse(r, -EPERM, "reserved: the reserved idTag must be presented first (G2)");
	case CONN_FINISHING:
		return refuse(r, -EPERM, "finishing: an idTag must be presented first (F2)");
	default:
		return refuse(r, -EPERM, "nothing plugged in or authorized "
			      "(for A3-A5, plug-in with start_tx)");
	}
	if (!c->plugged)
		c->ev_suspended = 1;  /* started on authorization: no EV to take energy */
	start_tx(c, ev->id_tag, r);
	return 0;
}

static int on_tx_stopped(struct connector *c, const struct connector_event *ev,
			 struct connector_result *r)
{
	if (!c->tx)
		return refuse(r, -EPERM, "no transaction is running");
	c->tx = 0;
	if (ev->unplugged)
		c->plugged = 0;
	c->finishing = c->plugged;   /* the user still has to take the cable */
	c->ev_suspended = 0;
	if (!c->finishing)
		end_session(c);      /* else the idTag stays, for F2 */
	if (ev->reason == CONN_STOP_EV_DISCONNECTED)
		copy(r->info, sizeof r->info, "EV side disconnected");
	return 0;
}

static int on_ev(struct connector *c, int suspended, struct connector_result *r)
{
	if (!c->plugged)
		return refuse(r, -EPERM, "no EV is plugged in");
	c->ev_suspended = suspended;
	return 0;
}

/* EVCommunicationError only with these, as a warning (4.9). */
static int ev_communication_allowed(enum connector_status s)
{
	return s == CONN_PREPARING || s == CONN_SUSPENDED_EV || s == CONN_SUSPENDED_EVSE ||
	       s == CONN_FINISHING;
}

static int on_warning(const struct connector *c, const struct connector_event *ev,
		      struct connector_result *r)
{
	if (c->faulted)
		return refuse(r, -EPERM, "connector %u is Faulted: report a fault, not a warning", c->id);
	if (ev->error == CONN_ERR_EV_COMMUNICATION && !ev_communication_allowed(c->status))
		return refuse(r, -EPERM, "EVCommunicationError is not reported with status %s (4.9)",
			      status_names[c->status]);
	r->notify = 1;
	r->error = ev->error;
	copy(r->info, sizeof r->info, ev->info);
	copy(r->vendor_error, sizeof r->vendor_error, ev->vendor_error);
	return 0;
}

static int on_fault(struct connector *c, const struct connector_event *ev,
		    struct connector_result *r)
{
	if (ev->warning)
		return on_warning(c, ev, r);
	if (ev->error == CONN_ERR_NONE)
		return refuse(r, -EINVAL, "a fault needs an error code other than NoError");
	if (ev->error == CONN_ERR_EV_COMMUNICATION)
		return refuse(r, -EINVAL, "EVCommunicationError is a warning, not a fault (4.9, 7.6)");
	c->faulted = 1;
	c->error = ev->error;
	copy(c->info, sizeof c->info, ev->info);
	copy(c->vendor_error, sizeof c->vendor_error, ev->vendor_error);
	r->notify = 1;     /* also when already Faulted: the code may differ */
	return 0;
}

static int on_fault_cleared(struct connector *c, struct connector_result *r)
{
	if (!c->faulted)
		return refuse(r, -EPERM, "no fault to clear");
	c->faulted = 0;
	c->error = CONN_ERR_NONE;
	c->info[0] = c->vendor_error[0] = '\0';
	return 0;
}

static int on_reserve(struct connector *c, const struct connector_event *ev,
		      struct connector_result *r)
{
	if (!ev->id_tag || !ev->id_tag[0])
		return refuse(r, -EINVAL, "a reservation needs an idTag");
	if (c->reserved && c->reservation_id == ev->reservation_id) {
		r->answer = CONN_ANSWER_ACCEPTED;   /* same id: replaced (5.13) */
	} else if (c->faulted) {
		r->answer = CONN_ANSWER_FAULTED;
		return 0;
	} else if (c->inoperative) {
		r->answer = CONN_ANSWER_UNAVAILABLE;
		return 0;
	} else if (in_use(c)) {
		r->answer = CONN_ANSWER_OCCUPIED;   /* busy, or reserved already */
		return 0;
	}
	r->answer = CONN_ANSWER_ACCEPTED;
	c->reserved = 1;
	c->reservation_id = ev->reservation_id;
	copy(c->reserved_tag, sizeof c->reserved_tag, ev->id_tag);
	copy(c->reserved_parent, sizeof c->reserved_parent, ev->parent_id_tag);
	return 0;
}

static int end_reservation(struct connector *c, struct connector_result *r)
{
	c->reserved = 0;
	c->reserved_tag[0] = c->reserved_parent[0] = '\0';
	r->reservation_ended = 1;
	r->reservation_id = c->reservation_id;
	return 0;
}

static int on_reservation_expired(struct connector *c, const struct connector_event *ev,
				  struct connector_result *r)
{
	if (!c->reserved || c->reservation_id != ev->reservation_id)
		return refuse(r, -ENOENT, "no reservation %d on connector %u",
			      (int)ev->reservation_id, c->id);
	return end_reservation(c, r);
}

static int on_reservation_cancelled(struct connector *c, const struct connector_event *ev,
				    struct connector_result *r)
{
	if (!c->reserved || c->reservation_id != ev->reservation_id) {
		r->answer = CONN_ANSWER_REJECTED;   /* no such reservation (5.1) */
		return 0;
	}
	r->answer = CONN_ANSWER_ACCEPTED;
	return end_reservation(c, r);
}

static int to_inoperative(struct connector *c, struct connector_result *r)
{
	if (c->inoperative) {
		r->answer = CONN_ANSWER_ACCEPTED;   /* already so (5.2) */
	} else if (c->pending) {
		r->answer = CONN_ANSWER_SCHEDULED;
	} else if (c->id != 0 && in_use(c)) {
		c->pending = 1;
		r->answer = CONN_ANSWER_SCHEDULED;
	} else {
		c->inoperative = 1;
		r->answer = CONN_ANSWER_ACCEPTED;
	}
	return 0;
}

static int to_operative(struct connector *c, const struct connector_event *ev,
			struct connector_result *r)
{
	if (ev->start_tx) {
		if (!c->inoperative || c->faulted || c->id == 0 || !c->plugged)
			return refuse(r, -EPERM, "start_tx needs an Unavailable connector with a cable plugged in");
	}
	c->pending = 0;
	c->inoperative = 0;
	if (ev->start_tx)
		start_tx(c, ev->id_tag, r);
	r->answer = CONN_ANSWER_ACCEPTED;
	return 0;
}

static int dispatch(struct connector *c, const struct connector_event *ev,
		    struct connector_result *r)
{
	switch (ev->type) {
	case CONN_EV_PLUG_IN: return on_plug_in(c, ev, r);
	case CONN_EV_UNPLUG: return on_unplug(c, r);
	case CONN_EV_AUTHORIZED: return on_authorized(c, ev, r);
	case CONN_EV_PREPARING_TIMEOUT: return on_preparing_timeout(c, r);
	case CONN_EV_TX_STARTED: return on_tx_started(c, ev, r);
	case CONN_EV_TX_STOPPED: return on_tx_stopped(c, ev, r);
	case CONN_EV_EV_CHARGING: return on_ev(c, 0, r);
	case CONN_EV_EV_SUSPENDED: return on_ev(c, 1, r);
	case CONN_EV_EVSE_SUSPENDED: c->evse_suspended = 1; return 0;
	case CONN_EV_EVSE_RESUMED: c->evse_suspended = 0; return 0;
	case CONN_EV_FAULT: return on_fault(c, ev, r);
	case CONN_EV_FAULT_CLEARED: return on_fault_cleared(c, r);
	case CONN_EV_RESERVE: return on_reserve(c, ev, r);
	case CONN_EV_RESERVATION_EXPIRED: return on_reservation_expired(c, ev, r);
	case CONN_EV_RESERVATION_CANCELLED: return on_reservation_cancelled(c, ev, r);
	case CONN_EV_AVAILABILITY:
		if (ev->availability == CONN_INOPERATIVE) {
			if (ev->start_tx)
				return refuse(r, -EINVAL, "start_tx with Inoperative");
			return to_inoperative(c, r);
		}
		return to_operative(c, ev, r);
	}
	return refuse(r, -EINVAL, "unknown event %d", (int)ev->type);
}

int connector_apply(struct connector *c, const struct connector_event *ev,
		    struct connector_result *r)
{
	struct connector next = *c;
	int rc;

	result_init(r, c);
	rc = check_event(c, ev, r);
	if (rc == 0)
		rc = dispatch(&next, ev, r);
	if (rc == 0) {
		settle(&next);
		rc = commit(c, &next, r);
	}
	if (rc) {
		/* Nothing happened: keep only the reason. */
		char why[CONNECTOR_WHY_MAX];
		memcpy(why, r->why, sizeof why);
		result_init(r, c);
		memcpy(r->why, why, sizeof why);
	}
	return rc;
}

/* ---------------------------------------------------------------- questions */

int connector_may_start(const struct connector *station, const struct connector *c,
			const char *id_tag, const char *parent_id_tag, char why[CONNECTOR_WHY_MAX])
{
	struct connector_result r;
	int rc = 0;

	result_init(&r, c);
	if (station && (station->faulted || station->inoperative))
		rc = refuse(&r, -EPERM, "the station is %s", status_names[station->status]);
	else if (c->id == 0)
		rc = refuse(&r, -EPERM, "connector 0 is the station");
	else if (c->faulted || c->inoperative)
		rc = refuse(&r, -EPERM, "connector %u is %s", c->id, status_names[c->status]);
	else if (c->tx)
		rc = refuse(&r, -EPERM, "a transaction is running on connector %u", c->id);
	else if (c->finishing && !same_user(c, id_tag, parent_id_tag))
		rc = refuse(&r, -EACCES, "connector %u is finishing another user's transaction", c->id);
	else if (c->session && !same_tag(id_tag, c->tag))
		rc = refuse(&r, -EPERM, "connector %u is in use by another idTag", c->id);
	else if (c->reserved && !c->session && !reservation_matches(c, id_tag, parent_id_tag))
		rc = refuse(&r, -EACCES, "connector %u is reserved for another idTag", c->id);
	if (why)
		snprintf(why, CONNECTOR_WHY_MAX, "%s", r.why);
	return rc;
}

/* ---------------------------------------------------------------- the station */

static int station_refuses(const struct connector *station, const struct connector_event *ev,
			   struct connector_result *r)
{
	int asks_to_charge = ev->type == CONN_EV_AUTHORIZED || ev->type == CONN_EV_TX_STARTED ||
			     ((ev->type == CONN_EV_PLUG_IN || ev->type == CONN_EV_AVAILABILITY) &&
			      ev->start_tx);

	if (!station->faulted && !station->inoperative)
		return 0;
	if (ev->type == CONN_EV_RESERVE) {
		r->answer = station->faulted ? CONN_ANSWER_FAULTED : CONN_ANSWER_UNAVAILABLE;
		return 1;
	}
	if (asks_to_charge)
		return refuse(r, -EPERM, "the station is %s", status_names[station->status]);
	return 0;
}

/* Connector 0's scheduled Inoperative takes effect when no connector
 * still waits for its own. */
static void station_settle(struct connector *conns, size_t n, struct connector_result *r0)
{
	struct connector next = conns[0];

	if (!next.pending)
		return;
	for (size_t i = 1; i < n; i++)
		if (conns[i].pending)
			return;
	next.pending = 0;
	next.inoperative = 1;
	commit(&conns[0], &next, r0);
}

static int station_availability(struct connector *conns, size_t n, const struct connector_event *ev,
				struct connector_result *res)
{
	int scheduled = 0;

	if (ev->start_tx)
		return refuse(&res[0], -EINVAL, "start_tx applies to one connector, not the station");
	if (ev->availability == CONN_OPERATIVE) {
		for (size_t i = 0; i < n; i++)
			connector_apply(&conns[i], ev, &res[i]);
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		connector_apply(&conns[i], ev, &res[i]);
		scheduled |= res[i].answer == CONN_ANSWER_SCHEDULED;
	}
	if (!scheduled)
		return connector_apply(&conns[0], ev, &res[0]);
	if (!conns[0].inoperative)
		conns[0].pending = 1;
	res[0].answer = CONN_ANSWER_SCHEDULED;
	return 0;
}

int connector_station_apply(struct connector *conns, size_t n, unsigned k,
			    const struct connector_event *ev, struct connector_result *res)
{
	int rc;

	if (n == 0 || k >= n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		result_init(&res[i], &conns[i]);
	if (conns[k].id != k || conns[0].id != 0)
		return refuse(&res[k], -EINVAL, "connector %u is stored at index %u", conns[k].id, k);
	if (ev->type == CONN_EV_AVAILABILITY && k == 0)
		return station_availability(conns, n, ev, res);
	if (ev->type == CONN_EV_AVAILABILITY && ev->availability == CONN_OPERATIVE &&
	    (conns[0].inoperative || conns[0].pending)) {
		res[k].answer = CONN_ANSWER_REJECTED;
		snprintf(res[k].why, sizeof res[k].why, "the station is Inoperative");
		return 0;
	}
	if (k > 0 && (rc = station_refuses(&conns[0], ev, &res[k])))
		return rc < 0 ? rc : 0;
	rc = connector_apply(&conns[k], ev, &res[k]);
	if (k > 0)
		station_settle(conns, n, &res[0]);
	return rc;
}
