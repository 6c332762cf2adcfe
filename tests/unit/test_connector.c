/* Unit tests: the connector state machine. Expected statuses and transition
 * numbers are those of OCPP 1.6 edition 2, section 4.9 (and 5.2, 5.13, the
 * errata sheet), one test per numbered transition. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "station/connector.h"

#define EV(...) (&(struct connector_event){ __VA_ARGS__ })

#define PLUG EV(.type = CONN_EV_PLUG_IN)
#define UNPLUG EV(.type = CONN_EV_UNPLUG)
#define AUTH(tag) EV(.type = CONN_EV_AUTHORIZED, .id_tag = (tag))
#define TIMEOUT EV(.type = CONN_EV_PREPARING_TIMEOUT)
#define TX_START EV(.type = CONN_EV_TX_STARTED, .id_tag = "TAG1")
#define TX_STOP(why) EV(.type = CONN_EV_TX_STOPPED, .reason = (why))
#define TX_STOP_UNPLUGGED EV(.type = CONN_EV_TX_STOPPED, .reason = CONN_STOP_EV_DISCONNECTED, \
			     .unplugged = 1)
#define EV_CHARGING EV(.type = CONN_EV_EV_CHARGING)
#define EV_SUSPENDED EV(.type = CONN_EV_EV_SUSPENDED)
#define EVSE_SUSPENDED EV(.type = CONN_EV_EVSE_SUSPENDED)
#define EVSE_RESUMED EV(.type = CONN_EV_EVSE_RESUMED)
#define FAULT(code) EV(.type = CONN_EV_FAULT, .error = (code), .info = "tripped", \
		       .vendor_error = "E42")
#define CLEARED EV(.type = CONN_EV_FAULT_CLEARED)
#define RESERVE(id, tag) EV(.type = CONN_EV_RESERVE, .reservation_id = (id), .id_tag = (tag))
#define EXPIRED(id) EV(.type = CONN_EV_RESERVATION_EXPIRED, .reservation_id = (id))
#define CANCEL(id) EV(.type = CONN_EV_RESERVATION_CANCELLED, .reservation_id = (id))
#define INOPERATIVE EV(.type = CONN_EV_AVAILABILITY, .availability = CONN_INOPERATIVE)
#define OPERATIVE EV(.type = CONN_EV_AVAILABILITY, .availability = CONN_OPERATIVE)

static const char *sname(enum connector_status s) { return connector_status_name(s); }

/* Applies ev, which must be accepted and lead to status `to` through the
 * numbered transition `tr` (NULL: the status stays, nothing to report). */
static struct connector_result step_(struct connector *c, const struct connector_event *ev,
				     enum connector_status to, const char *tr, int line)
{
	struct connector_result r;
	int rc = connector_apply(c, ev, &r);

	if (rc)
		fail_msg("line %d: %s refused (%d): %s", line, connector_event_name(ev->type), rc, r.why);
	if (r.to != to || connector_status(c) != to)
		fail_msg("line %d: %s: %s, wanted %s", line, connector_event_name(ev->type),
			 sname(connector_status(c)), sname(to));
	if (tr && (!r.transition || strcmp(r.transition, tr) != 0))
		fail_msg("line %d: transition %s, wanted %s", line,
			 r.transition ? r.transition : "none", tr);
	if (!tr && r.transition)
		fail_msg("line %d: unexpected transition %s", line, r.transition);
	if (tr && !r.notify)
		fail_msg("line %d: %s without a StatusNotification", line, tr);
	return r;
}
#define step(c, ev, to, tr) step_((c), (ev), (to), (tr), __LINE__)

/* ev must be refused with err, leaving the connector exactly as it was. */
static void refused_(struct connector *c, const struct connector_event *ev, int err, int line)
{
	struct connector before;
	struct connector_result r;
	int rc;

	memcpy(&before, c, sizeof before);
	rc = connector_apply(c, ev, &r);
	if (rc != err)
		fail_msg("line %d: %s returned %d, wanted %d (%s)", line,
			 connector_event_name(ev->type), rc, err, r.why);
	if (!r.why[0] || r.notify || r.transition || r.answer != CONN_ANSWER_NONE)
		fail_msg("line %d: a refusal needs a reason and nothing else", line);
	if (memcmp(&before, c, sizeof before) != 0)
		fail_msg("line %d: a refused event changed the connector", line);
}
#define refused(c, ev, err) refused_((c), (ev), (err), __LINE__)

/* ------------------------------------------------ getting to each status */

static void fresh(struct connector *c) { connector_init(c, 1, 0); }

static void preparing_plugged(struct connector *c)
{
	fresh(c);
	step(c, PLUG, CONN_PREPARING, "A2");
}

static void preparing_authorized(struct connector *c)
{
	fresh(c);
	step(c, AUTH("TAG1"), CONN_PREPARING, "A2");
}

static void charging(struct connector *c)
{
	preparing_plugged(c);
	step(c, AUTH("TAG1"), CONN_PREPARING, NULL);
	step(c, TX_START, CONN_CHARGING, "B3");
}

static void suspended_ev(struct connector *c)
{
	charging(c);
	step(c, EV_SUSPENDED, CONN_SUSPENDED_EV, "C4");
}

static void suspended_evse(struct connector *c)
{
	charging(c);
	step(c, EVSE_SUSPENDED, CONN_SUSPENDED_EVSE, "C5");
}

static void finishing(struct connector *c)
{
	charging(c);
	step(c, TX_STOP(CONN_STOP_LOCAL), CONN_FINISHING, "C6");
}

static void reserved(struct connector *c)
{
	fresh(c);
	step(c, RESERVE(7, "TAG1"), CONN_RESERVED, "A7");
}

static void unavailable(struct connector *c)
{
	fresh(c);
	step(c, INOPERATIVE, CONN_UNAVAILABLE, "A8");
}

/* ------------------------------------------------ the table itself */

/* Section 4.9, transcribed: row letter = from, digit = to. */
static void test_table_is_the_spec(void **state)
{
	static const char *const spec[] = {
		"A2", "A3", "A4", "A5", "A7", "A8", "A9",
		"B1", "B3", "B4", "B5", "B6", "B9",
		"C1", "C4", "C5", "C6", "C8", "C9",
		"D1", "D3", "D5", "D6", "D8", "D9",
		"E1", "E3", "E4", "E6", "E8", "E9",
		"F1", "F2", "F8", "F9",
		"G1", "G2", "G8", "G9",
		"H1", "H2", "H3", "H4", "H5", "H9",
		"I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8",
	};
	/* Columns 1..9 of the table are Available..Faulted. */
	int n = 0;
	(void)state;

	for (int from = 0; from < CONN_N_STATUS; from++) {
		for (int to = 0; to < CONN_N_STATUS; to++) {
			char want[3] = { (char)('A' + from), (char)('1' + to), 0 };
			const char *got = connector_transition(from, to);
			int listed = 0;
			for (size_t i = 0; i < sizeof spec / sizeof *spec; i++)
				listed |= strcmp(spec[i], want) == 0;
			if (listed != (got != NULL) || (got && strcmp(got, want) != 0))
				fail_msg("%s -> %s: %s, spec %s", sname(from), sname(to),
					 got ? got : "none", listed ? want : "none");
			n += listed;
		}
	}
	assert_int_equal(n, 53);
	assert_null(connector_transition(CONN_N_STATUS, CONN_AVAILABLE));
}

/* ------------------------------------------------ A: from Available */

static void test_A2_plug_in(void **state)
{
	struct connector c;
	(void)state;
	fresh(&c);
	struct connector_result r = step(&c, PLUG, CONN_PREPARING, "A2");
	assert_int_equal(r.error, CONN_ERR_NONE);
	assert_string_equal(r.info, "");
}

static void test_A2_authorized_or_remote_start_first(void **state)
{
	struct connector c;
	(void)state;
	fresh(&c);
	step(&c, AUTH("TAG1"), CONN_PREPARING, "A2");
	step(&c, PLUG, CONN_PREPARING, NULL);
	step(&c, TX_START, CONN_CHARGING, "B3");
}

static void test_A3_no_authorization_means(void **state)
{
	struct connector c;
	(void)state;
	fresh(&c);
	step(&c, EV(.type = CONN_EV_PLUG_IN, .start_tx = 1, .id_tag = "FREE"), CONN_CHARGING, "A3");
	assert_true(connector_in_transaction(&c));
}

static void test_A4_ev_does_not_start_charging(void **state)
{
	struct connector c;
	(void)state;
	fresh(&c);
	step(&c, EV(.type = CONN_EV_PLUG_IN, .start_tx = 1, .ev_suspended = 1), CONN_SUSPENDED_EV, "A4");
}

static void test_A5_evse_does_not_allow_charging(void **state)
{
	struct connector c;
	(void)state;
	fresh(&c);
	step(&c, EVSE_SUSPENDED, CONN_AVAILABLE, NULL);
	step(&c, EV(.type = CONN_EV_PLUG_IN, .start_tx = 1), CONN_SUSPENDED_EVSE, "A5");
}

static void test_A7_reserve_now(void **state)
{
	struct connector c;
	int32_t id = 0;
	(void)state;
	fresh(&c);
	struct connector_result r = step(&c, RESERVE(7, "TAG1"), CONN_RESERVED, "A7");
	assert_int_equal(r.answer, CONN_ANSWER_ACCEPTED);
	assert_true(connector_reservation(&c, &id));
	assert_int_equal(id, 7);
}

static void test_A8_change_availability(void **state)
{
	struct connector c;
	(void)state;
	fresh(&c);
	struct connector_result r = step(&c, INOPERATIVE, CONN_UNAVAILABLE, "A8");
	assert_int_equal(r.answer, CONN_ANSWER_ACCEPTED);
	assert_true(connector_wants_inoperative(&c));
}

static void test_A9_fault(void **state)
{
	struct connector c;
	(void)state;
	fresh(&c);
	struct connector_result r = step(&c, FAULT(CONN_ERR_GROUND_FAILURE), CONN_FAULTED, "A9");
	assert_int_equal(r.error, CONN_ERR_GROUND_FAILURE);
	assert_string_equal(r.info, "tripped");
	assert_string_equal(r.vendor_error, "E42");
}

/* ------------------------------------------------ B: from Preparing */

static void test_B1_plug_removed(void **state)
{
	struct connector c;
	(void)state;
	preparing_plugged(&c);
	step(&c, UNPLUG, CONN_AVAILABLE, "B1");
	/* Authorized and plugged in, then unplugged before the start. */
	preparing_plugged(&c);
	step(&c, AUTH("TAG1"), CONN_PREPARING, NULL);
	step(&c, UNPLUG, CONN_AVAILABLE, "B1");
}

static void test_B1_connection_timeout(void **state)
{
	struct connector c;
	(void)state;
	/* Errata 3.21/3.89: ConnectionTimeOut from the start of Preparing. */
	preparing_authorized(&c);
	step(&c, TIMEOUT, CONN_AVAILABLE, "B1");
}

static void test_B1_second_presentation(void **state)
{
	struct connector c;
	(void)state;
	preparing_authorized(&c);
	refused(&c, AUTH("OTHER"), -EPERM);
	step(&c, AUTH("tag1"), CONN_AVAILABLE, "B1");   /* IdTokens are case-insensitive */
}

static void test_B3_charging_starts(void **state)
{
	struct connector c;
	(void)state;
	preparing_plugged(&c);
	step(&c, AUTH("TAG1"), CONN_PREPARING, NULL);
	struct connector_result r = step(&c, TX_START, CONN_CHARGING, "B3");
	assert_false(r.tx_reservation);
}

static void test_B4_ev_does_not_start_charging(void **state)
{
	struct connector c;
	(void)state;
	fresh(&c);
	step(&c, EV(.type = CONN_EV_PLUG_IN, .ev_suspended = 1), CONN_PREPARING, "A2");
	step(&c, AUTH("TAG1"), CONN_PREPARING, NULL);
	step(&c, TX_START, CONN_SUSPENDED_EV, "B4");
	step(&c, EV_CHARGING, CONN_CHARGING, "D3");
	/* A transaction started on authorization, before plug-in: no EV yet. */
	preparing_authorized(&c);
	step(&c, TX_START, CONN_SUSPENDED_EV, "B4");
	step(&c, PLUG, CONN_SUSPENDED_EV, NULL);
	step(&c, EV_CHARGING, CONN_CHARGING, "D3");
}

static void test_B5_evse_does_not_allow_charging(void **state)
{
	struct connector c;
	(void)state;
	preparing_plugged(&c);
	step(&c, AUTH("TAG1"), CONN_PREPARING, NULL);
	step(&c, EVSE_SUSPENDED, CONN_PREPARING, NULL);
	step(&c, EV_SUSPENDED, CONN_PREPARING, NULL);
	/* Suspended by both: SuspendedEVSE has precedence (4.9). */
	step(&c, TX_START, CONN_SUSPENDED_EVSE, "B5");
}

static void test_B6_plugged_in_but_never_authorized(void **state)
{
	struct connector c;
	(void)state;
	/* Errata 3.20: Finishing, not Available, so that the next idTag
	 * presented does not start a transaction on the cable left behind. */
	preparing_plugged(&c);
	step(&c, TIMEOUT, CONN_FINISHING, "B6");
	refused(&c, AUTH("SOMEONE"), -EACCES);
	assert_int_equal(connector_may_start(NULL, &c, "SOMEONE", NULL, NULL), -EACCES);
	step(&c, UNPLUG, CONN_AVAILABLE, "F1");
}

static void test_B9_fault(void **state)
{
	struct connector c;
	(void)state;
	preparing_plugged(&c);
	step(&c, FAULT(CONN_ERR_CONNECTOR_LOCK_FAILURE), CONN_FAULTED, "B9");
}

static void test_B8_extension_session_abandoned_while_scheduled(void **state)
{
	struct connector c;
	(void)state;
	/* The table has no B8; an abandoned session with Inoperative pending
	 * goes straight to Unavailable (header: decisions). */
	preparing_authorized(&c);
	struct connector_result r = step(&c, INOPERATIVE, CONN_PREPARING, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_SCHEDULED);
	r = step(&c, TIMEOUT, CONN_UNAVAILABLE, "B8");
	assert_true(r.extension);
	assert_null(connector_transition(CONN_PREPARING, CONN_UNAVAILABLE));
}

/* ------------------------------------------------ C: from Charging */

static void test_C1_cable_removed_on_ev_side(void **state)
{
	struct connector c;
	(void)state;
	charging(&c);
	struct connector_result r = step(&c, TX_STOP_UNPLUGGED, CONN_AVAILABLE, "C1");
	assert_string_equal(r.info, "EV side disconnected");
	assert_false(connector_in_transaction(&c));
}

static void test_C4_ev_stops_charging(void **state)
{
	struct connector c;
	(void)state;
	charging(&c);
	step(&c, EV_SUSPENDED, CONN_SUSPENDED_EV, "C4");
	/* StopTransactionOnEVSideDisconnect false: the transaction goes on,
	 * SuspendedEV with info 'EV side disconnected' (4.9). */
	charging(&c);
	struct connector_result r = step(&c, UNPLUG, CONN_SUSPENDED_EV, "C4");
	assert_string_equal(r.info, "EV side disconnected");
	assert_int_equal(r.error, CONN_ERR_NONE);
	assert_true(connector_in_transaction(&c));
	refused(&c, EV_CHARGING, -EPERM);
	step(&c, PLUG, CONN_SUSPENDED_EV, NULL);
	step(&c, EV_CHARGING, CONN_CHARGING, "D3");
}

static void test_C5_smart_charging_limit_zero(void **state)
{
	struct connector c;
	(void)state;
	charging(&c);
	step(&c, EVSE_SUSPENDED, CONN_SUSPENDED_EVSE, "C5");
}

static void test_C6_stopped_cable_still_in(void **state)
{
	struct connector c;
	(void)state;
	finishing(&c);
	charging(&c);
	step(&c, TX_STOP(CONN_STOP_REMOTE), CONN_FINISHING, "C6");
	charging(&c);
	step(&c, TX_STOP(CONN_STOP_DEAUTHORIZED), CONN_FINISHING, "C6");
	/* StopTransactionOnEVSideDisconnect true, cable left in the socket. */
	charging(&c);
	struct connector_result r = step(&c, TX_STOP(CONN_STOP_EV_DISCONNECTED), CONN_FINISHING, "C6");
	assert_string_equal(r.info, "EV side disconnected");
}

static void test_C8_ends_while_scheduled(void **state)
{
	struct connector c;
	(void)state;
	charging(&c);
	struct connector_result r = step(&c, INOPERATIVE, CONN_CHARGING, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_SCHEDULED);
	assert_false(r.notify);
	assert_true(connector_wants_inoperative(&c));
	step(&c, TX_STOP_UNPLUGGED, CONN_UNAVAILABLE, "C8");
}

static void test_C9_fault_while_charging(void **state)
{
	struct connector c;
	(void)state;
	charging(&c);
	struct connector_result r = step(&c, FAULT(CONN_ERR_OVER_CURRENT), CONN_FAULTED, "C9");
	assert_int_equal(r.error, CONN_ERR_OVER_CURRENT);
}

/* ------------------------------------------------ D: from SuspendedEV */

static void test_D1_session_ends(void **state)
{
	struct connector c;
	(void)state;
	suspended_ev(&c);
	step(&c, TX_STOP_UNPLUGGED, CONN_AVAILABLE, "D1");
}

static void test_D3_ev_resumes(void **state)
{
	struct connector c;
	(void)state;
	suspended_ev(&c);
	step(&c, EV_CHARGING, CONN_CHARGING, "D3");
}

static void test_D5_evse_suspends(void **state)
{
	struct connector c;
	(void)state;
	suspended_ev(&c);
	step(&c, EVSE_SUSPENDED, CONN_SUSPENDED_EVSE, "D5");
}

static void test_D6_stopped_user_action_required(void **state)
{
	struct connector c;
	(void)state;
	suspended_ev(&c);
	step(&c, TX_STOP(CONN_STOP_LOCAL), CONN_FINISHING, "D6");
}

static void test_D8_ends_while_scheduled(void **state)
{
	struct connector c;
	(void)state;
	suspended_ev(&c);
	step(&c, INOPERATIVE, CONN_SUSPENDED_EV, NULL);
	step(&c, TX_STOP_UNPLUGGED, CONN_UNAVAILABLE, "D8");
}

static void test_D9_fault(void **state)
{
	struct connector c;
	(void)state;
	suspended_ev(&c);
	step(&c, FAULT(CONN_ERR_HIGH_TEMPERATURE), CONN_FAULTED, "D9");
}

/* ------------------------------------------------ E: from SuspendedEVSE */

static void test_E1_session_ends(void **state)
{
	struct connector c;
	(void)state;
	suspended_evse(&c);
	step(&c, TX_STOP_UNPLUGGED, CONN_AVAILABLE, "E1");
}

static void test_E3_restriction_lifted(void **state)
{
	struct connector c;
	(void)state;
	suspended_evse(&c);
	step(&c, EVSE_RESUMED, CONN_CHARGING, "E3");
}

static void test_E4_lifted_but_ev_does_not_charge(void **state)
{
	struct connector c;
	(void)state;
	suspended_evse(&c);
	/* The EV stopping is hidden behind SuspendedEVSE (precedence). */
	step(&c, EV_SUSPENDED, CONN_SUSPENDED_EVSE, NULL);
	step(&c, EVSE_RESUMED, CONN_SUSPENDED_EV, "E4");
}

static void test_E6_stopped_user_action_required(void **state)
{
	struct connector c;
	(void)state;
	suspended_evse(&c);
	step(&c, TX_STOP(CONN_STOP_DEAUTHORIZED), CONN_FINISHING, "E6");
}

static void test_E8_ends_while_scheduled(void **state)
{
	struct connector c;
	(void)state;
	suspended_evse(&c);
	step(&c, INOPERATIVE, CONN_SUSPENDED_EVSE, NULL);
	step(&c, TX_STOP_UNPLUGGED, CONN_UNAVAILABLE, "E8");
}

static void test_E9_fault(void **state)
{
	struct connector c;
	(void)state;
	suspended_evse(&c);
	step(&c, FAULT(CONN_ERR_POWER_SWITCH), CONN_FAULTED, "E9");
}

/* ------------------------------------------------ F: from Finishing */

static void test_F1_user_actions_completed(void **state)
{
	struct connector c;
	(void)state;
	finishing(&c);
	step(&c, UNPLUG, CONN_AVAILABLE, "F1");
}

static void test_F2_idtag_presented_again(void **state)
{
	struct connector c;
	(void)state;
	finishing(&c);
	/* Only the user of the last transaction (errata 3.5, 3.20). */
	refused(&c, AUTH("OTHER"), -EACCES);
	refused(&c, TX_START, -EPERM);
	assert_int_equal(connector_may_start(NULL, &c, "TAG1", NULL, NULL), 0);
	step(&c, AUTH("TAG1"), CONN_PREPARING, "F2");
	step(&c, TX_START, CONN_CHARGING, "B3");
	/* Or one of its group. */
	fresh(&c);
	step(&c, EV(.type = CONN_EV_AUTHORIZED, .id_tag = "CARD1", .parent_id_tag = "FAMILY"),
	     CONN_PREPARING, "A2");
	step(&c, PLUG, CONN_PREPARING, NULL);
	step(&c, EV(.type = CONN_EV_TX_STARTED, .id_tag = "CARD1"), CONN_CHARGING, "B3");
	step(&c, TX_STOP(CONN_STOP_LOCAL), CONN_FINISHING, "C6");
	step(&c, EV(.type = CONN_EV_AUTHORIZED, .id_tag = "CARD2", .parent_id_tag = "FAMILY"),
	     CONN_PREPARING, "F2");
}

static void test_F8_completed_while_scheduled(void **state)
{
	struct connector c;
	(void)state;
	finishing(&c);
	struct connector_result r = step(&c, INOPERATIVE, CONN_FINISHING, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_SCHEDULED);
	step(&c, UNPLUG, CONN_UNAVAILABLE, "F8");
	/* Scheduled during the transaction, carried through Finishing. */
	charging(&c);
	step(&c, INOPERATIVE, CONN_CHARGING, NULL);
	step(&c, TX_STOP(CONN_STOP_LOCAL), CONN_FINISHING, "C6");
	step(&c, UNPLUG, CONN_UNAVAILABLE, "F8");
}

static void test_F9_fault(void **state)
{
	struct connector c;
	(void)state;
	finishing(&c);
	step(&c, FAULT(CONN_ERR_CONNECTOR_LOCK_FAILURE), CONN_FAULTED, "F9");
}

/* ------------------------------------------------ G: from Reserved */

static void test_G1_expired_or_cancelled(void **state)
{
	struct connector c;
	(void)state;
	reserved(&c);
	struct connector_result r = step(&c, EXPIRED(7), CONN_AVAILABLE, "G1");
	assert_true(r.reservation_ended);
	assert_int_equal(r.reservation_id, 7);
	assert_false(connector_reservation(&c, NULL));

	reserved(&c);
	r = step(&c, CANCEL(8), CONN_RESERVED, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_REJECTED);
	r = step(&c, CANCEL(7), CONN_AVAILABLE, "G1");
	assert_int_equal(r.answer, CONN_ANSWER_ACCEPTED);
	assert_true(r.reservation_ended);
}

static void test_G2_reserved_idtag_presented(void **state)
{
	struct connector c;
	(void)state;
	reserved(&c);
	refused(&c, AUTH("OTHER"), -EACCES);
	refused(&c, TX_START, -EPERM);
	struct connector_result r = step(&c, AUTH("tag1"), CONN_PREPARING, "G2");
	assert_true(r.reservation_ended);
	assert_int_equal(r.reservation_id, 7);
	step(&c, PLUG, CONN_PREPARING, NULL);
	/* The transaction names the reservation it ends (4.8, 5.13). */
	r = step(&c, TX_START, CONN_CHARGING, "B3");
	assert_true(r.tx_reservation);
	assert_int_equal(r.reservation_id, 7);
}

static void test_G2_parent_idtag(void **state)
{
	struct connector c;
	(void)state;
	fresh(&c);
	step(&c, EV(.type = CONN_EV_RESERVE, .reservation_id = 3, .id_tag = "CARD1",
		    .parent_id_tag = "FAMILY"), CONN_RESERVED, "A7");
	refused(&c, EV(.type = CONN_EV_AUTHORIZED, .id_tag = "CARD9", .parent_id_tag = "STRANGERS"),
		-EACCES);
	step(&c, EV(.type = CONN_EV_AUTHORIZED, .id_tag = "CARD2", .parent_id_tag = "family"),
	     CONN_PREPARING, "G2");
}

static void test_G8_reservation_ends_while_scheduled(void **state)
{
	struct connector c;
	(void)state;
	reserved(&c);
	struct connector_result r = step(&c, INOPERATIVE, CONN_RESERVED, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_SCHEDULED);
	step(&c, EXPIRED(7), CONN_UNAVAILABLE, "G8");
	reserved(&c);
	step(&c, INOPERATIVE, CONN_RESERVED, NULL);
	step(&c, CANCEL(7), CONN_UNAVAILABLE, "G8");
}

static void test_G9_fault(void **state)
{
	struct connector c;
	(void)state;
	reserved(&c);
	step(&c, FAULT(CONN_ERR_INTERNAL), CONN_FAULTED, "G9");
}

/* ------------------------------------------------ H: from Unavailable */

static void test_H1_set_available(void **state)
{
	struct connector c;
	(void)state;
	unavailable(&c);
	struct connector_result r = step(&c, OPERATIVE, CONN_AVAILABLE, "H1");
	assert_int_equal(r.answer, CONN_ANSWER_ACCEPTED);
	assert_false(connector_wants_inoperative(&c));
}

static void test_H2_user_interacted(void **state)
{
	struct connector c;
	(void)state;
	unavailable(&c);
	step(&c, PLUG, CONN_UNAVAILABLE, NULL);
	refused(&c, AUTH("TAG1"), -EPERM);
	step(&c, OPERATIVE, CONN_PREPARING, "H2");
}

static void test_H3_no_user_action_required(void **state)
{
	struct connector c;
	(void)state;
	unavailable(&c);
	step(&c, PLUG, CONN_UNAVAILABLE, NULL);
	step(&c, EV(.type = CONN_EV_AVAILABILITY, .availability = CONN_OPERATIVE, .start_tx = 1),
	     CONN_CHARGING, "H3");
	/* Nothing plugged in: nothing to start. */
	unavailable(&c);
	refused(&c, EV(.type = CONN_EV_AVAILABILITY, .availability = CONN_OPERATIVE, .start_tx = 1),
		-EPERM);
}

static void test_H4_ev_does_not_start_charging(void **state)
{
	struct connector c;
	(void)state;
	unavailable(&c);
	step(&c, EV(.type = CONN_EV_PLUG_IN, .ev_suspended = 1), CONN_UNAVAILABLE, NULL);
	step(&c, EV(.type = CONN_EV_AVAILABILITY, .availability = CONN_OPERATIVE, .start_tx = 1),
	     CONN_SUSPENDED_EV, "H4");
}

static void test_H5_evse_does_not_allow_charging(void **state)
{
	struct connector c;
	(void)state;
	unavailable(&c);
	step(&c, PLUG, CONN_UNAVAILABLE, NULL);
	step(&c, EVSE_SUSPENDED, CONN_UNAVAILABLE, NULL);
	step(&c, EV(.type = CONN_EV_AVAILABILITY, .availability = CONN_OPERATIVE, .start_tx = 1),
	     CONN_SUSPENDED_EVSE, "H5");
}

static void test_H9_fault(void **state)
{
	struct connector c;
	(void)state;
	unavailable(&c);
	step(&c, FAULT(CONN_ERR_UNDER_VOLTAGE), CONN_FAULTED, "H9");
}

/* ------------------------------------------------ I: from Faulted */

/* Raises a fault in the current status and clears it: back to it. */
static void fault_and_back(struct connector *c, const char *in, const char *out)
{
	enum connector_status s = connector_status(c);
	struct connector_result r = step(c, FAULT(CONN_ERR_OTHER), CONN_FAULTED, in);
	assert_int_equal(r.error, CONN_ERR_OTHER);
	r = step(c, CLEARED, s, out);
	assert_int_equal(r.error, CONN_ERR_NONE);
	assert_string_equal(r.info, "");
}

static void test_I1_to_I8_fault_resolved(void **state)
{
	struct connector c;
	(void)state;
	fresh(&c);
	fault_and_back(&c, "A9", "I1");
	preparing_plugged(&c);
	fault_and_back(&c, "B9", "I2");
	charging(&c);
	fault_and_back(&c, "C9", "I3");
	suspended_ev(&c);
	fault_and_back(&c, "D9", "I4");
	suspended_evse(&c);
	fault_and_back(&c, "E9", "I5");
	finishing(&c);
	fault_and_back(&c, "F9", "I6");
	reserved(&c);
	fault_and_back(&c, "G9", "I7");
	unavailable(&c);
	fault_and_back(&c, "H9", "I8");
}

static void test_I_pre_fault_state_is_what_holds_now(void **state)
{
	struct connector c;
	(void)state;
	/* The transaction was stopped and the cable taken while Faulted. */
	charging(&c);
	step(&c, FAULT(CONN_ERR_GROUND_FAILURE), CONN_FAULTED, "C9");
	step(&c, TX_STOP(CONN_STOP_OTHER), CONN_FAULTED, NULL);
	step(&c, UNPLUG, CONN_FAULTED, NULL);
	step(&c, CLEARED, CONN_AVAILABLE, "I1");
	/* Stopped while Faulted, cable still in. */
	charging(&c);
	step(&c, FAULT(CONN_ERR_GROUND_FAILURE), CONN_FAULTED, "C9");
	step(&c, TX_STOP(CONN_STOP_OTHER), CONN_FAULTED, NULL);
	step(&c, CLEARED, CONN_FINISHING, "I6");
	/* Reservation expired while Faulted. */
	reserved(&c);
	step(&c, FAULT(CONN_ERR_INTERNAL), CONN_FAULTED, "G9");
	step(&c, EXPIRED(7), CONN_FAULTED, NULL);
	step(&c, CLEARED, CONN_AVAILABLE, "I1");
	/* Inoperative requested while Faulted and idle: effective at once. */
	fresh(&c);
	step(&c, FAULT(CONN_ERR_INTERNAL), CONN_FAULTED, "A9");
	struct connector_result r = step(&c, INOPERATIVE, CONN_FAULTED, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_ACCEPTED);
	step(&c, CLEARED, CONN_UNAVAILABLE, "I8");
}

/* ------------------------------------------------ faults and warnings */

static void test_fault_while_charging(void **state)
{
	struct connector c;
	struct connector_result r;
	(void)state;
	charging(&c);
	step(&c, FAULT(CONN_ERR_OVER_VOLTAGE), CONN_FAULTED, "C9");
	/* Another fault: the same status, a new errorCode to report. */
	assert_int_equal(connector_apply(&c, EV(.type = CONN_EV_FAULT, .error = CONN_ERR_GROUND_FAILURE),
					 &r), 0);
	assert_true(r.notify);
	assert_null(r.transition);
	assert_int_equal(r.error, CONN_ERR_GROUND_FAILURE);
	assert_string_equal(r.info, "");
	/* Energy facts still count while Faulted. */
	step(&c, EV_SUSPENDED, CONN_FAULTED, NULL);
	connector_notification(&c, &r);
	assert_true(r.notify);
	assert_int_equal(r.to, CONN_FAULTED);
	assert_int_equal(r.error, CONN_ERR_GROUND_FAILURE);
	refused(&c, AUTH("TAG1"), -EPERM);
	step(&c, CLEARED, CONN_SUSPENDED_EV, "I4");
	refused(&c, CLEARED, -EPERM);
}

static void test_warnings(void **state)
{
	struct connector c;
	struct connector_result r;
	(void)state;
	suspended_ev(&c);
	/* 4.9: EVCommunicationError only as a warning, only with Preparing,
	 * SuspendedEV, SuspendedEVSE and Finishing. */
	assert_int_equal(connector_apply(&c, EV(.type = CONN_EV_FAULT, .warning = 1,
						.error = CONN_ERR_EV_COMMUNICATION, .info = "PWM lost"), &r), 0);
	assert_true(r.notify);
	assert_int_equal(r.to, CONN_SUSPENDED_EV);
	assert_int_equal(r.error, CONN_ERR_EV_COMMUNICATION);
	assert_string_equal(r.info, "PWM lost");
	/* Reported once, not remembered. */
	connector_notification(&c, &r);
	assert_int_equal(r.error, CONN_ERR_NONE);

	refused(&c, EV(.type = CONN_EV_FAULT, .error = CONN_ERR_EV_COMMUNICATION), -EINVAL);
	charging(&c);
	refused(&c, EV(.type = CONN_EV_FAULT, .warning = 1, .error = CONN_ERR_EV_COMMUNICATION), -EPERM);
	/* Other warnings go with any status (4.9: "considered a warning"). */
	assert_int_equal(connector_apply(&c, EV(.type = CONN_EV_FAULT, .warning = 1,
						.error = CONN_ERR_WEAK_SIGNAL), &r), 0);
	assert_int_equal(r.to, CONN_CHARGING);
	assert_int_equal(r.error, CONN_ERR_WEAK_SIGNAL);
	refused(&c, EV(.type = CONN_EV_FAULT, .error = CONN_ERR_NONE), -EINVAL);
}

/* ------------------------------------------------ availability */

static void test_availability_scheduled_and_cancelled(void **state)
{
	struct connector c;
	struct connector_result r;
	(void)state;
	charging(&c);
	r = step(&c, INOPERATIVE, CONN_CHARGING, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_SCHEDULED);
	r = step(&c, INOPERATIVE, CONN_CHARGING, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_SCHEDULED);
	/* Operative again before the end: nothing left to do. */
	r = step(&c, OPERATIVE, CONN_CHARGING, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_ACCEPTED);
	assert_false(connector_wants_inoperative(&c));
	step(&c, TX_STOP_UNPLUGGED, CONN_AVAILABLE, "C1");

	/* Already in the state asked for: Accepted (5.2), nothing to report. */
	r = step(&c, OPERATIVE, CONN_AVAILABLE, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_ACCEPTED);
	assert_false(r.notify);
	step(&c, INOPERATIVE, CONN_UNAVAILABLE, "A8");
	r = step(&c, INOPERATIVE, CONN_UNAVAILABLE, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_ACCEPTED);
	assert_false(r.notify);
	refused(&c, EV(.type = CONN_EV_AVAILABILITY, .availability = CONN_INOPERATIVE, .start_tx = 1),
		-EINVAL);
}

static void test_availability_persists(void **state)
{
	struct connector c;
	(void)state;
	connector_init(&c, 2, 1);
	assert_int_equal(connector_status(&c), CONN_UNAVAILABLE);
	assert_true(connector_wants_inoperative(&c));
	/* What to persist includes a scheduled change. */
	charging(&c);
	step(&c, INOPERATIVE, CONN_CHARGING, NULL);
	assert_true(connector_wants_inoperative(&c));
}

/* A station of connector 0 and two connectors. */
static void station(struct connector conns[3])
{
	for (unsigned i = 0; i < 3; i++)
		connector_init(&conns[i], i, 0);
}

static void sapply(struct connector conns[3], unsigned k, const struct connector_event *ev,
		   struct connector_result res[3])
{
	int rc = connector_station_apply(conns, 3, k, ev, res);
	if (rc)
		fail_msg("connector %u: %s refused: %s", k, connector_event_name(ev->type), res[k].why);
}

static void test_connector_0_changes_all(void **state)
{
	struct connector conns[3];
	struct connector_result res[3];
	(void)state;
	station(conns);
	/* Connector 1 charges; connector 2 is idle. */
	sapply(conns, 1, PLUG, res);
	sapply(conns, 1, AUTH("TAG1"), res);
	sapply(conns, 1, TX_START, res);
	assert_int_equal(connector_status(&conns[1]), CONN_CHARGING);

	sapply(conns, 0, INOPERATIVE, res);
	assert_int_equal(res[0].answer, CONN_ANSWER_SCHEDULED);   /* 5.2, 7.3 */
	assert_false(res[0].notify);
	assert_int_equal(connector_status(&conns[0]), CONN_AVAILABLE);
	assert_false(res[1].notify);
	assert_int_equal(res[1].answer, CONN_ANSWER_SCHEDULED);
	assert_true(res[2].notify);
	assert_string_equal(res[2].transition, "A8");
	assert_int_equal(connector_status(&conns[2]), CONN_UNAVAILABLE);
	/* Nothing new may start meanwhile. */
	assert_int_equal(connector_may_start(&conns[0], &conns[2], "TAG2", NULL, NULL), -EPERM);

	/* The transaction ends: connector 1, then the station. */
	sapply(conns, 1, TX_STOP_UNPLUGGED, res);
	assert_string_equal(res[1].transition, "C8");
	assert_true(res[0].notify);
	assert_string_equal(res[0].transition, "A8");
	assert_int_equal(connector_status(&conns[0]), CONN_UNAVAILABLE);
	assert_false(res[2].notify);

	/* One connector Operative while the station is not: Rejected. */
	sapply(conns, 2, OPERATIVE, res);
	assert_int_equal(res[2].answer, CONN_ANSWER_REJECTED);
	assert_int_equal(connector_status(&conns[2]), CONN_UNAVAILABLE);

	/* The station Operative: everything back. */
	sapply(conns, 0, OPERATIVE, res);
	assert_int_equal(res[0].answer, CONN_ANSWER_ACCEPTED);
	for (int i = 0; i < 3; i++) {
		assert_true(res[i].notify);
		assert_string_equal(res[i].transition, "H1");
		assert_int_equal(connector_status(&conns[i]), CONN_AVAILABLE);
	}
}

static void test_connector_0_idle_station(void **state)
{
	struct connector conns[3];
	struct connector_result res[3];
	(void)state;
	station(conns);
	sapply(conns, 0, INOPERATIVE, res);
	assert_int_equal(res[0].answer, CONN_ANSWER_ACCEPTED);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(res[i].transition, "A8");
		assert_int_equal(connector_status(&conns[i]), CONN_UNAVAILABLE);
	}
	/* Connector 0 takes availability and faults only. */
	assert_int_equal(connector_station_apply(conns, 3, 0, PLUG, res), -EINVAL);
	assert_int_equal(connector_station_apply(conns, 3, 3, PLUG, res), -EINVAL);
	refused(&conns[0], RESERVE(1, "TAG1"), -EINVAL);
	step(&conns[0], FAULT(CONN_ERR_INTERNAL), CONN_FAULTED, "H9");
	step(&conns[0], CLEARED, CONN_UNAVAILABLE, "I8");
	step(&conns[0], OPERATIVE, CONN_AVAILABLE, "H1");
}

static void test_connector_0_faulted(void **state)
{
	struct connector conns[3];
	struct connector_result res[3];
	(void)state;
	station(conns);
	sapply(conns, 0, FAULT(CONN_ERR_INTERNAL), res);
	assert_string_equal(res[0].transition, "A9");
	assert_int_equal(connector_status(&conns[0]), CONN_FAULTED);
	/* The status of connector 0 is its own (4.9). */
	assert_int_equal(connector_status(&conns[1]), CONN_AVAILABLE);
	/* ReserveNow: Faulted if the Charge Point is (5.13). */
	sapply(conns, 1, RESERVE(4, "TAG1"), res);
	assert_int_equal(res[1].answer, CONN_ANSWER_FAULTED);
	assert_int_equal(connector_status(&conns[1]), CONN_AVAILABLE);
	assert_int_equal(connector_station_apply(conns, 3, 1, AUTH("TAG1"), res), -EPERM);
	assert_int_equal(connector_may_start(&conns[0], &conns[1], "TAG1", NULL, NULL), -EPERM);
	/* A cable may still go in. */
	sapply(conns, 1, PLUG, res);
	assert_string_equal(res[1].transition, "A2");
	sapply(conns, 0, CLEARED, res);
	assert_string_equal(res[0].transition, "I1");
	sapply(conns, 1, AUTH("TAG1"), res);
	assert_int_equal(connector_may_start(&conns[0], &conns[1], "TAG1", NULL, NULL), 0);
}

/* ------------------------------------------------ reservations */

static void test_reserve_now_answers(void **state)
{
	struct connector c;
	struct connector_result r;
	(void)state;
	/* 5.13: Occupied when in use or reserved already, Faulted,
	 * Unavailable; the same reservationId replaces. */
	reserved(&c);
	r = step(&c, RESERVE(8, "TAG2"), CONN_RESERVED, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_OCCUPIED);
	r = step(&c, RESERVE(7, "TAG2"), CONN_RESERVED, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_ACCEPTED);
	refused(&c, AUTH("TAG1"), -EACCES);
	step(&c, AUTH("TAG2"), CONN_PREPARING, "G2");

	charging(&c);
	r = step(&c, RESERVE(1, "TAG2"), CONN_CHARGING, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_OCCUPIED);
	preparing_plugged(&c);
	r = step(&c, RESERVE(1, "TAG2"), CONN_PREPARING, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_OCCUPIED);
	unavailable(&c);
	r = step(&c, RESERVE(1, "TAG2"), CONN_UNAVAILABLE, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_UNAVAILABLE);
	fresh(&c);
	step(&c, FAULT(CONN_ERR_INTERNAL), CONN_FAULTED, "A9");
	r = step(&c, RESERVE(1, "TAG2"), CONN_FAULTED, NULL);
	assert_int_equal(r.answer, CONN_ANSWER_FAULTED);
	refused(&c, EV(.type = CONN_EV_RESERVE, .reservation_id = 1), -EINVAL);
}

static void test_reservation_and_may_start(void **state)
{
	struct connector c;
	char why[CONNECTOR_WHY_MAX];
	(void)state;
	reserved(&c);
	assert_int_equal(connector_may_start(NULL, &c, "OTHER", NULL, why), -EACCES);
	assert_non_null(strstr(why, "reserved"));
	assert_int_equal(connector_may_start(NULL, &c, "Tag1", NULL, why), 0);
	assert_int_equal(connector_may_start(NULL, &c, NULL, NULL, NULL), -EACCES);
	/* Someone else's cable: the connector stays Reserved for its holder. */
	step(&c, PLUG, CONN_RESERVED, NULL);
	refused(&c, TIMEOUT, -EPERM);
	/* When it expires, the cable makes it Preparing. */
	step(&c, EXPIRED(7), CONN_PREPARING, "G2");
	refused(&c, EXPIRED(7), -ENOENT);
}

static void test_may_start(void **state)
{
	struct connector c;
	(void)state;
	fresh(&c);
	assert_int_equal(connector_may_start(NULL, &c, "TAG1", NULL, NULL), 0);
	preparing_authorized(&c);
	assert_int_equal(connector_may_start(NULL, &c, "TAG1", NULL, NULL), 0);
	assert_int_equal(connector_may_start(NULL, &c, "TAG2", NULL, NULL), -EPERM);
	charging(&c);
	assert_int_equal(connector_may_start(NULL, &c, "TAG2", NULL, NULL), -EPERM);
	unavailable(&c);
	assert_int_equal(connector_may_start(NULL, &c, "TAG1", NULL, NULL), -EPERM);
	fresh(&c);
	step(&c, FAULT(CONN_ERR_READER), CONN_FAULTED, "A9");
	assert_int_equal(connector_may_start(NULL, &c, "TAG1", NULL, NULL), -EPERM);
}

/* ------------------------------------------------ refusals */

static void test_invalid_events_are_refused(void **state)
{
	struct connector c;
	char long_tag[CONNECTOR_ID_TAG_MAX + 2], long_info[CONNECTOR_INFO_MAX + 2];
	(void)state;
	memset(long_tag, 'T', sizeof long_tag - 1);
	long_tag[sizeof long_tag - 1] = '\0';
	memset(long_info, 'i', sizeof long_info - 1);
	long_info[sizeof long_info - 1] = '\0';

	fresh(&c);
	refused(&c, UNPLUG, -EPERM);
	refused(&c, TX_START, -EPERM);
	refused(&c, TX_STOP(CONN_STOP_LOCAL), -EPERM);
	refused(&c, TIMEOUT, -EPERM);
	refused(&c, CLEARED, -EPERM);
	refused(&c, EV_CHARGING, -EPERM);
	refused(&c, EXPIRED(1), -ENOENT);
	refused(&c, AUTH(NULL), -EINVAL);
	refused(&c, AUTH(long_tag), -EINVAL);
	refused(&c, EV(.type = CONN_EV_FAULT, .error = CONN_ERR_OTHER, .info = long_info), -EINVAL);
	refused(&c, EV(.type = (enum connector_event_type)99), -EINVAL);
	refused(&c, EV(.type = CONN_EV_FAULT, .error = (enum connector_error)99), -EINVAL);
	refused(&c, EV(.type = CONN_EV_AVAILABILITY, .availability = (enum connector_availability)5),
		-EINVAL);

	preparing_plugged(&c);
	refused(&c, PLUG, -EPERM);
	refused(&c, EV(.type = CONN_EV_PLUG_IN, .start_tx = 1), -EPERM);
	step(&c, AUTH("TAG1"), CONN_PREPARING, NULL);
	refused(&c, TIMEOUT, -EPERM);   /* both there: start, don't time out */

	charging(&c);
	refused(&c, TX_START, -EPERM);
	refused(&c, AUTH("TAG1"), -EPERM);
	refused(&c, TIMEOUT, -EPERM);

	unavailable(&c);
	refused(&c, AUTH("TAG1"), -EPERM);
	step(&c, PLUG, CONN_UNAVAILABLE, NULL);
	refused(&c, TX_START, -EPERM);
	refused(&c, TIMEOUT, -EPERM);   /* no Preparing, no ConnectionTimeOut */
}

/* ------------------------------------------------ names */

static void test_names(void **state)
{
	/* 7.7 and 7.6, in the specification's words. */
	static const char *const statuses[] = { "Available", "Preparing", "Charging", "SuspendedEV",
		"SuspendedEVSE", "Finishing", "Reserved", "Unavailable", "Faulted" };
	static const char *const errors[] = { "ConnectorLockFailure", "EVCommunicationError",
		"GroundFailure", "HighTemperature", "InternalError", "LocalListConflict", "NoError",
		"OtherError", "OverCurrentFailure", "OverVoltage", "PowerMeterFailure",
		"PowerSwitchFailure", "ReaderFailure", "ResetFailure", "UnderVoltage", "WeakSignal" };
	/* ConnectorStatusEnumType of 2.0.1 for each 1.6 status above. */
	static const char *const v201[] = { "Available", "Occupied", "Occupied", "Occupied",
		"Occupied", "Occupied", "Reserved", "Unavailable", "Faulted" };
	enum connector_status s;
	enum connector_status_201 s201;
	enum connector_error e;
	(void)state;

	for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
		assert_int_equal(connector_status_parse(statuses[i], &s), 0);
		assert_string_equal(connector_status_name(s), statuses[i]);
		assert_string_equal(connector_status_wire_name(OCPP_V16, s), statuses[i]);
		assert_string_equal(connector_status_wire_name(OCPP_V201, s), v201[i]);
		assert_int_equal(connector_status_201_parse(v201[i], &s201), 0);
		assert_int_equal(s201, connector_status_to_201(s));
	}
	assert_int_equal(connector_status_parse("charging", &s), -EINVAL);  /* case-sensitive */
	assert_int_equal(connector_status_parse("Occupied", &s), -EINVAL);
	assert_int_equal(connector_status_parse(NULL, &s), -EINVAL);
	assert_int_equal(connector_status_201_parse("Charging", &s201), -EINVAL);
	assert_string_equal(connector_status_name((enum connector_status)42), "?");

	for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
		assert_int_equal(connector_error_parse(errors[i], &e), 0);
		assert_string_equal(connector_error_name(e), errors[i]);
	}
	assert_int_equal(connector_error_parse("NoError", &e), 0);
	assert_int_equal(e, CONN_ERR_NONE);
	assert_int_equal(connector_error_parse("Meltdown", &e), -EINVAL);

	assert_string_equal(connector_answer_name(CONN_ANSWER_SCHEDULED), "Scheduled");
	assert_string_equal(connector_answer_name(CONN_ANSWER_OCCUPIED), "Occupied");
	assert_string_equal(connector_stop_reason_name(CONN_STOP_EV_DISCONNECTED), "EVDisconnected");
	assert_string_equal(connector_stop_reason_name(CONN_STOP_DEAUTHORIZED), "DeAuthorized");
}

/* ------------------------------------------------ every event in every state */

static uint64_t next_random(uint64_t *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	return *x >> 33;
}

static void random_event(uint64_t *x, struct connector_event *ev)
{
	static const char *const tags[] = { NULL, "TAG1", "TAG2", "tag1" };
	static const char *const parents[] = { NULL, "FAMILY" };

	memset(ev, 0, sizeof *ev);
	ev->type = (enum connector_event_type)(next_random(x) % CONN_N_EVENT);
	ev->id_tag = tags[next_random(x) % 4];
	ev->parent_id_tag = parents[next_random(x) % 2];
	ev->reservation_id = (int32_t)(next_random(x) % 2);
	ev->availability = (enum connector_availability)(next_random(x) % 2);
	ev->start_tx = next_random(x) % 4 == 0;
	ev->ev_suspended = next_random(x) % 2;
	ev->reason = (enum connector_stop_reason)(next_random(x) % 5);
	ev->unplugged = next_random(x) % 2;
	ev->error = (enum connector_error)(next_random(x) % CONN_N_ERROR);
	ev->warning = next_random(x) % 4 == 0;
}

/* A long deterministic random walk of a two-connector station: no event
 * ever needs a change of status the table lacks (-EPROTO), refusals change
 * nothing, statuses stay consistent with the facts, and every numbered
 * transition of 4.9 is reached. */
static void test_random_walk_stays_in_the_table(void **state)
{
	struct connector conns[3], before[3];
	struct connector_result res[3];
	struct connector_event ev;
	int seen[CONN_N_STATUS][CONN_N_STATUS] = { { 0 } };
	uint64_t x = 12345;
	(void)state;

	station(conns);
	for (int i = 0; i < 400000; i++) {
		unsigned k = (unsigned)(next_random(&x) % 3);
		random_event(&x, &ev);
		memcpy(before, conns, sizeof before);
		int rc = connector_station_apply(conns, 3, k, &ev, res);
		if (rc == -EPROTO)
			fail_msg("step %d: %s on %u: %s", i, connector_event_name(ev.type), k, res[k].why);
		if (rc && memcmp(before, conns, sizeof before) != 0)
			fail_msg("step %d: refused %s changed the station", i, connector_event_name(ev.type));
		for (unsigned j = 0; j < 3; j++) {
			const struct connector *c = &conns[j];
			if (res[j].from != res[j].to) {
				if (!res[j].transition || !res[j].notify)
					fail_msg("step %d: unlabelled change", i);
				if (res[j].extension && (res[j].from != CONN_PREPARING ||
							 res[j].to != CONN_UNAVAILABLE))
					fail_msg("step %d: extension %s", i, res[j].transition);
				seen[res[j].from][res[j].to] = 1;
			}
			assert_int_equal(connector_status(c), res[j].to);
			if (c->inoperative)
				assert_false(c->tx || c->session || c->finishing || c->reserved);
			if (c->pending)
				assert_false(c->inoperative);
			if (j == 0)
				assert_true(c->status == CONN_AVAILABLE || c->status == CONN_UNAVAILABLE ||
					    c->status == CONN_FAULTED);
		}
	}
	for (int from = 0; from < CONN_N_STATUS; from++)
		for (int to = 0; to < CONN_N_STATUS; to++)
			if (connector_transition(from, to) && !seen[from][to])
				fail_msg("%s never happened", connector_transition(from, to));
	assert_true(seen[CONN_PREPARING][CONN_UNAVAILABLE]);   /* B8 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_is_the_spec),
		cmocka_unit_test(test_A2_plug_in),
		cmocka_unit_test(test_A2_authorized_or_remote_start_first),
		cmocka_unit_test(test_A3_no_authorization_means),
		cmocka_unit_test(test_A4_ev_does_not_start_charging),
		cmocka_unit_test(test_A5_evse_does_not_allow_charging),
		cmocka_unit_test(test_A7_reserve_now),
		cmocka_unit_test(test_A8_change_availability),
		cmocka_unit_test(test_A9_fault),
		cmocka_unit_test(test_B1_plug_removed),
		cmocka_unit_test(test_B1_connection_timeout),
		cmocka_unit_test(test_B1_second_presentation),
		cmocka_unit_test(test_B3_charging_starts),
		cmocka_unit_test(test_B4_ev_does_not_start_charging),
		cmocka_unit_test(test_B5_evse_does_not_allow_charging),
		cmocka_unit_test(test_B6_plugged_in_but_never_authorized),
		cmocka_unit_test(test_B9_fault),
		cmocka_unit_test(test_B8_extension_session_abandoned_while_scheduled),
		cmocka_unit_test(test_C1_cable_removed_on_ev_side),
		cmocka_unit_test(test_C4_ev_stops_charging),
		cmocka_unit_test(test_C5_smart_charging_limit_zero),
		cmocka_unit_test(test_C6_stopped_cable_still_in),
		cmocka_unit_test(test_C8_ends_while_scheduled),
		cmocka_unit_test(test_C9_fault_while_charging),
		cmocka_unit_test(test_D1_session_ends),
		cmocka_unit_test(test_D3_ev_resumes),
		cmocka_unit_test(test_D5_evse_suspends),
		cmocka_unit_test(test_D6_stopped_user_action_required),
		cmocka_unit_test(test_D8_ends_while_scheduled),
		cmocka_unit_test(test_D9_fault),
		cmocka_unit_test(test_E1_session_ends),
		cmocka_unit_test(test_E3_restriction_lifted),
		cmocka_unit_test(test_E4_lifted_but_ev_does_not_charge),
		cmocka_unit_test(test_E6_stopped_user_action_required),
		cmocka_unit_test(test_E8_ends_while_scheduled),
		cmocka_unit_test(test_E9_fault),
		cmocka_unit_test(test_F1_user_actions_completed),
		cmocka_unit_test(test_F2_idtag_presented_again),
		cmocka_unit_test(test_F8_completed_while_scheduled),
		cmocka_unit_test(test_F9_fault),
		cmocka_unit_test(test_G1_expired_or_cancelled),
		cmocka_unit_test(test_G2_reserved_idtag_presented),
		cmocka_unit_test(test_G2_parent_idtag),
		cmocka_unit_test(test_G8_reservation_ends_while_scheduled),
		cmocka_unit_test(test_G9_fault),
		cmocka_unit_test(test_H1_set_available),
		cmocka_unit_test(test_H2_user_interacted),
		cmocka_unit_test(test_H3_no_user_action_required),
		cmocka_unit_test(test_H4_ev_does_not_start_charging),
		cmocka_unit_test(test_H5_evse_does_not_allow_charging),
		cmocka_unit_test(test_H9_fault),
		cmocka_unit_test(test_I1_to_I8_fault_resolved),
		cmocka_unit_test(test_I_pre_fault_state_is_what_holds_now),
		cmocka_unit_test(test_fault_while_charging),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_availability_scheduled_and_cancelled),
		cmocka_unit_test(test_availability_persists),
		cmocka_unit_test(test_connector_0_changes_all),
		cmocka_unit_test(test_connector_0_idle_station),
		cmocka_unit_test(test_connector_0_faulted),
		cmocka_unit_test(test_reserve_now_answers),
		cmocka_unit_test(test_reservation_and_may_start),
		cmocka_unit_test(test_may_start),
		cmocka_unit_test(test_invalid_events_are_refused),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_random_walk_stays_in_the_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
