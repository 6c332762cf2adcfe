/* The status of one connector: the state machine of OCPP 1.6 edition 2,
 * section 4.9 (with the errata sheet), ChangeAvailability (5.2),
 * reservations (3.11, 5.1, 5.13) and the enumerations of 7.6 and 7.7.
 *
 * Pure logic: no I/O, no clock. The station core feeds events (what the
 * hardware, the user and the central system did) and gets back the new
 * status, whether a StatusNotification is due and with which errorCode,
 * and the answer to send where the event was a request. Timers
 * (ConnectionTimeOut, reservation expiry) are the caller's: it reports
 * them as events.
 *
 * The status is not stored as such but follows from what is known about
 * the connector (cable plugged in, user authorized, transaction running,
 * EV and EVSE willing to transfer energy, reservation, availability,
 * fault), in this order of precedence:
 *
 *   fault                          Faulted
 *   Inoperative in effect          Unavailable
 *   transaction running            SuspendedEVSE, SuspendedEV or Charging
 *                                  (SuspendedEVSE before SuspendedEV, 4.9)
 *   transaction over, cable in     Finishing
 *   user authorized                Preparing
 *   reservation                    Reserved
 *   cable plugged in               Preparing
 *   otherwise                      Available
 *
 * So "the pre-fault state" of I1..I8 is whatever is true when the fault
 * clears. Every change of status is checked against the transition table
 * of 4.9; see connector_transition and the notes on decisions below.
 *
 * Decisions where the specification is silent or contradicts itself:
 * - ChangeAvailability(Inoperative) is Scheduled while the connector is in
 *   use (Preparing, a transaction, Finishing, Reserved: 7.7 allows a
 *   scheduled change, and C8, D8, E8, F8 and G8 describe one) and takes
 *   effect when the connector would otherwise become Available. When a
 *   Preparing session is abandoned that is Preparing -> Unavailable, which
 *   the table lacks: we report it as "B8" with result.extension set.
 * - A reservation survives a fault, so that I7 can happen (5.13 would end
 *   it); it still ends when it expires or is cancelled meanwhile. It is
 *   used (ends) when its idTag is presented (G2), and its id is handed
 *   back when the transaction starts, for StartTransaction.req.
 * - Transitions straight into a transaction (A3-A5, H3-H5) need a station
 *   without a user action to wait for: PLUG_IN or AVAILABILITY(Operative)
 *   with start_tx set.
 * - Finishing is left by removing the cable (F1) or by the idTag of the
 *   transaction that ended, or one of its group (F2: "presents idTag
 *   again"); anyone else is refused, which is why B6 goes to Finishing
 *   (errata 3.20). ConnectionTimeOut after B6 does not apply.
 * - Warnings (a fault event with warning set) are reported once and not
 *   remembered; faults are reported with every Faulted notification.
 *
 * Connector 0 is the station itself (4.9: Available, Unavailable, Faulted
 * only); it takes AVAILABILITY, FAULT and FAULT_CLEARED.
 * connector_station_apply works on the array the station core owns
 * (index = connectorId). */
#ifndef EV_STATION_CONNECTOR_H
#define EV_STATION_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "ocpp/version.h"

#define CONNECTOR_WHY_MAX 128
#define CONNECTOR_ID_TAG_MAX 20   /* IdToken: CiString20Type */
#define CONNECTOR_INFO_MAX 50     /* info, vendorErrorCode: CiString50Type */

/* ChargePointStatus (7.7), in the order of the 4.9 table. */
enum connector_status {
	CONN_AVAILABLE,
	CONN_PREPARING,
	CONN_CHARGING,
	CONN_SUSPENDED_EV,
	CONN_SUSPENDED_EVSE,
	CONN_FINISHING,
	CONN_RESERVED,
	CONN_UNAVAILABLE,
	CONN_FAULTED,
};
#define CONN_N_STATUS (CONN_FAULTED + 1)

/* ConnectorStatusEnumType of OCPP 2.0.1: Occupied stands for Preparing,
 * Charging, SuspendedEV, SuspendedEVSE and Finishing. */
enum connector_status_201 {
	CONN201_AVAILABLE,
	CONN201_OCCUPIED,
	CONN201_RESERVED,
	CONN201_UNAVAILABLE,
	CONN201_FAULTED,
};

/* ChargePointErrorCode (7.6). */
enum connector_error {
	CONN_ERR_NONE,                  /* NoError */
	CONN_ERR_CONNECTOR_LOCK_FAILURE,
	CONN_ERR_EV_COMMUNICATION,      /* a warning only (4.9) */
	CONN_ERR_GROUND_FAILURE,
	CONN_ERR_HIGH_TEMPERATURE,
	CONN_ERR_INTERNAL,
	CONN_ERR_LOCAL_LIST_CONFLICT,
	CONN_ERR_OTHER,
	CONN_ERR_OVER_CURRENT,
	CONN_ERR_OVER_VOLTAGE,
	CONN_ERR_POWER_METER,
	CONN_ERR_POWER_SWITCH,
	CONN_ERR_READER,
	CONN_ERR_RESET,
	CONN_ERR_UNDER_VOLTAGE,
	CONN_ERR_WEAK_SIGNAL,
};
#define CONN_N_ERROR (CONN_ERR_WEAK_SIGNAL + 1)

enum connector_availability { CONN_OPERATIVE, CONN_INOPERATIVE };

/* Replies: AvailabilityStatus (7.3), ReservationStatus (7.40),
 * CancelReservationStatus (7.5), spelled as on the wire. */
enum connector_answer {
	CONN_ANSWER_NONE,
	CONN_ANSWER_ACCEPTED,
	CONN_ANSWER_SCHEDULED,
	CONN_ANSWER_REJECTED,
	CONN_ANSWER_OCCUPIED,
	CONN_ANSWER_FAULTED,
	CONN_ANSWER_UNAVAILABLE,
};

/* Why a transaction stopped; the 1.6 Reason it is sent with. */
enum connector_stop_reason {
	CONN_STOP_LOCAL,            /* Local: idTag presented, stop button */
	CONN_STOP_REMOTE,           /* Remote: RemoteStopTransaction */
	CONN_STOP_EV_DISCONNECTED,  /* EVDisconnected */
	CONN_STOP_DEAUTHORIZED,     /* DeAuthorized: StopTransactionOnInvalidId */
	CONN_STOP_OTHER,            /* Other */
};

enum connector_event_type {
	/* The cable is plugged in (or the bay occupied). ev_suspended: the EV
	 * does not ask for energy yet. start_tx: a station with no user
	 * action to wait for starts the transaction at once (A3-A5). */
	CONN_EV_PLUG_IN,
	/* The cable is removed. During a transaction that goes on
	 * (StopTransactionOnEVSideDisconnect false) the EV is suspended. */
	CONN_EV_UNPLUG,
	/* id_tag (and its parent_id_tag, if known) was accepted for this
	 * connector: locally, or by RemoteStartTransaction. Before or after
	 * plug-in; the reserved idTag here uses the reservation (G2); the same
	 * idTag again in Preparing ends the session (B1, or Preparing for the
	 * cable alone if one is plugged in); in Finishing the idTag of the
	 * transaction that ended (or one of its group) starts a new session
	 * (F2), anyone else must wait for the cable to go (errata 3.20: no
	 * transaction on a cable left behind). */
	CONN_EV_AUTHORIZED,
	/* ConnectionTimeOut ran out in Preparing: authorized but never plugged
	 * in (B1), or plugged in but never authorized (B6, errata 3.20).
	 * Refused when both happened (start the transaction instead). */
	CONN_EV_PREPARING_TIMEOUT,
	CONN_EV_TX_STARTED,         /* id_tag */
	CONN_EV_TX_STOPPED,         /* reason; unplugged: the cable went with it */
	CONN_EV_EV_CHARGING,        /* the EV takes (or asks for) energy */
	CONN_EV_EV_SUSPENDED,       /* the EV stops taking energy */
	CONN_EV_EVSE_SUSPENDED,     /* the EVSE stops offering energy (limit 0) */
	CONN_EV_EVSE_RESUMED,       /* the EVSE offers energy again */
	/* error (not NoError), info, vendor_error. warning: report it once
	 * without going Faulted (required for EVCommunicationError). */
	CONN_EV_FAULT,
	CONN_EV_FAULT_CLEARED,
	CONN_EV_RESERVE,            /* ReserveNow: reservation_id, id_tag, parent_id_tag */
	CONN_EV_RESERVATION_EXPIRED,    /* reservation_id */
	CONN_EV_RESERVATION_CANCELLED,  /* CancelReservation: reservation_id */
	/* ChangeAvailability: availability; start_tx with Operative as for
	 * PLUG_IN (H3-H5). */
	CONN_EV_AVAILABILITY,
};
#define CONN_N_EVENT (CONN_EV_AVAILABILITY + 1)

/* Unused fields are ignored; zero them (designated initializers). */
struct connector_event {
	enum connector_event_type type;
	const char *id_tag;
	const char *parent_id_tag;
	int32_t reservation_id;
	enum connector_availability availability;
	int start_tx;
	int ev_suspended;
	enum connector_stop_reason reason;
	int unplugged;
	enum connector_error error;
	int warning;
	const char *info;
	const char *vendor_error;
};

struct connector_result {
	enum connector_status from, to;
	/* The numbered transition of 4.9 ("C6"), NULL if the status stayed.
	 * extension: a transition the table lacks (only "B8", see above). */
	const char *transition;
	int extension;
	/* A StatusNotification.req is due (the status changed, or a fault or
	 * warning is to be reported), with these fields. */
	int notify;
	enum connector_error error;
	char info[CONNECTOR_INFO_MAX + 1];          /* "" when none */
	char vendor_error[CONNECTOR_INFO_MAX + 1];  /* "" when none */
	/* RESERVE, RESERVATION_CANCELLED, AVAILABILITY: the reply to send. */
	enum connector_answer answer;
	/* A reservation ended (used, expired, cancelled): reservation_id. */
	int reservation_ended;
	/* TX_STARTED: the transaction ends this reservation; send
	 * reservation_id in StartTransaction.req. */
	int tx_reservation;
	int32_t reservation_id;
	char why[CONNECTOR_WHY_MAX];                /* when refused */
};

/* One connector. A plain struct so the core can keep an array; read it
 * through the functions below. */
struct connector {
	unsigned id;
	enum connector_status status;
	int plugged, session, tx, finishing;
	int ev_suspended, evse_suspended;
	int inoperative, pending;          /* pending: Inoperative scheduled */
	int faulted;
	enum connector_error error;
	char info[CONNECTOR_INFO_MAX + 1], vendor_error[CONNECTOR_INFO_MAX + 1];
	int reserved;
	int32_t reservation_id;
	char reserved_tag[CONNECTOR_ID_TAG_MAX + 1], reserved_parent[CONNECTOR_ID_TAG_MAX + 1];
	int session_reservation;           /* the session used reservation_id */
	/* idTag and parent of the session, the transaction, or (Finishing)
	 * the transaction that ended: only they may restart (F2). */
	char tag[CONNECTOR_ID_TAG_MAX + 1], tag_parent[CONNECTOR_ID_TAG_MAX + 1];
};

/* Names as on the wire; parse returns 0, or -EINVAL for a name the
 * specification does not define (names are case-sensitive). */
const char *connector_status_name(enum connector_status s);
int connector_status_parse(const char *name, enum connector_status *out);
enum connector_status_201 connector_status_to_201(enum connector_status s);
const char *connector_status_201_name(enum connector_status_201 s);
int connector_status_201_parse(const char *name, enum connector_status_201 *out);
/* The status as version v spells it: "SuspendedEV" or "Occupied". */
const char *connector_status_wire_name(enum ocpp_version v, enum connector_status s);
const char *connector_error_name(enum connector_error e);
int connector_error_parse(const char *name, enum connector_error *out);
const char *connector_answer_name(enum connector_answer a);
const char *connector_stop_reason_name(enum connector_stop_reason r);
const char *connector_event_name(enum connector_event_type t);  /* for logs */

/* The 4.9 table: "C6" for Charging -> Finishing; NULL if the table has no
 * such transition. */
const char *connector_transition(enum connector_status from, enum connector_status to);

/* inoperative: the availability persisted across reboots (4.9, 5.2). */
void connector_init(struct connector *c, unsigned id, int inoperative);

/* Applies one event. Returns 0 with *r filled. Refused, with the reason in
 * r->why and nothing changed: -EINVAL for a malformed event (unknown type
 * or value, a string too long, an event connector 0 does not take);
 * -EPERM when the event cannot happen in this state; -EACCES for an idTag
 * the connector is reserved against, or that may not restart a Finishing
 * connector (F2); -ENOENT for an unknown reservation;
 * -EPROTO for a status change the 4.9 table does not have (a bug: the
 * tests walk every event through every state to show it does not happen).
 * Requests always get an answer: ReserveNow on a busy connector is 0 with
 * answer Occupied, not an error. */
int connector_apply(struct connector *c, const struct connector_event *ev,
		    struct connector_result *r);

enum connector_status connector_status(const struct connector *c);
/* The StatusNotification.req for the current status, as after
 * BootNotification Accepted (errata 3.22) or a TriggerMessage. */
void connector_notification(const struct connector *c, struct connector_result *r);
/* 1 while a transaction runs. */
int connector_in_transaction(const struct connector *c);
/* 1 if Inoperative is in effect or scheduled: what to persist. */
int connector_wants_inoperative(const struct connector *c);
/* 1 with *id set if the connector holds a reservation. */
int connector_reservation(const struct connector *c, int32_t *id);

/* Whether id_tag (parent_id_tag may be NULL) may charge on c now: it may
 * be authorized there and a transaction started (RemoteStartTransaction,
 * local authorization). station is connector 0, or NULL. Returns 0, or
 * -EPERM (station or connector Unavailable or Faulted, a transaction or
 * another user's session in progress) or -EACCES (reserved for another
 * idTag, or Finishing another user's transaction), with the reason in why
 * (may be NULL). */
int connector_may_start(const struct connector *station, const struct connector *c,
			const char *id_tag, const char *parent_id_tag, char why[CONNECTOR_WHY_MAX]);

/* The station: conns[0..n-1], conns[k].id == k. Applies ev to connector k
 * and fills res[0..n-1] (notify set on those with a StatusNotification
 * due). Beyond connector_apply:
 * - ChangeAvailability for connectorId 0 (5.2) applies to the station and
 *   every connector; the answer, in res[0], is Scheduled if any connector
 *   scheduled it, and connector 0 itself becomes Unavailable when the last
 *   of them has (7.3: "when transaction(s) in progress have finished").
 * - Operative for one connector while the station is Inoperative (in
 *   effect or scheduled) is Rejected: the whole station allows no charging.
 * - A Faulted or Unavailable station refuses AUTHORIZED, TX_STARTED and
 *   start_tx (-EPERM) and answers ReserveNow with Faulted or Unavailable.
 * Returns what connector_apply returns (-EINVAL for a bad k or n). */
int connector_station_apply(struct connector *conns, size_t n, unsigned k,
			    const struct connector_event *ev, struct connector_result *res);

#endif
