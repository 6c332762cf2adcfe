/* The charging core: simulated hardware, connector state machines,
 * transactions, metering and the durable queue of transaction messages.
 * Version-neutral: message shapes, authorization and settings come from
 * the adapter (station_priv.h).
 *
 * Durability: a transaction's start, meter values and stop are written to
 * the station database (with synchronous=FULL) before anything is sent;
 * the queue sends them in order, one at a time, and removes each only once
 * the central system has acknowledged it. The readings a stop message
 * carries (the adapter's tx_sample) are kept on disk as they are taken, in
 * the commit of their MeterValues. A crash or power cut loses nothing: at
 * start, transactions found open are ended with PowerLoss, the last meter
 * reading and the readings kept. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "station/hal_exec.h"
#include "station/station_priv.h"
#include "util/log.h"
#include "util/rfc3339.h"
#include "util/uvtimer.h"

static int64_t mono(const struct station *st)
{
	return (int64_t)uv_now(st->loop);
}

static int online(const struct station *st)
{
	return st->registration == STATION_ACCEPTED && station_is_connected(st);
}

static void tick(uv_timer_t *t);

/* The 1 s tick runs only while something needs watching (a connector in
 * Preparing, a reservation to expire): an idle station does not wake. */
static void want_tick(struct station *st)
{
	if (!uv_is_active((uv_handle_t *)st->tick_timer))
		uv_timer_start(st->tick_timer, tick, 1000, 1000);
}

static int needs_tick(const struct station *st)
{
	for (unsigned c = 1; c <= (unsigned)st->cfg.connectors; c++)
		if ((st->conn[c].preparing_since && !st->conn[c].tx.active) || st->conn[c].has_reservation)
			return 1;
	return 0;
}

/* ------------------------------------------------------------ statuses */

static void report(struct station *st, unsigned c, const struct connector_result *r)
{
	if (!r->notify)
		return;
	if (online(st))
		st->adapter->status(st, c, r->to, r);
	else
		st->conn[c].status_unsent = 1;
}

/* Applies an event to connector c; reports every status change. */
static int apply(struct station *st, unsigned c, const struct connector_event *ev,
		 struct connector_result *out)
{
	struct connector_result res[STATION_MAX_CONNECTORS + 1];
	unsigned n = (unsigned)st->cfg.connectors + 1;
	int rc = connector_station_apply(st->sm, n, c, ev, res);

	if (rc) {
		log_debug("%s: connector %u: %s refused: %s", st->id, c,
			  connector_event_name(ev->type), res[c].why);
		if (out)
			*out = res[c];
		return rc;
	}
	for (unsigned i = 0; i < n; i++)
		report(st, i, &res[i]);
	if (out)
		*out = res[c];
	return 0;
}

static int event(struct station *st, unsigned c, enum connector_event_type type)
{
	struct connector_event ev = { .type = type };
	return apply(st, c, &ev, NULL);
}

void charging_announce(struct station *st)
{
	for (unsigned c = 0; c <= (unsigned)st->cfg.connectors; c++) {
		struct connector_result r;
		connector_notification(&st->sm[c], &r);
		st->adapter->status(st, c, r.to, &r);
		st->conn[c].status_unsent = 0;
	}
}

/* Reconnected after an outage: what changed meanwhile. */
static void send_unsent_statuses(struct station *st)
{
	for (unsigned c = 0; c <= (unsigned)st->cfg.connectors; c++) {
		if (st->conn[c].status_unsent) {
			struct connector_result r;
			connector_notification(&st->sm[c], &r);
			st->adapter->status(st, c, r.to, &r);
			st->conn[c].status_unsent = 0;
		}
	}
}

/* The connector's reservation is over (used, expired, cancelled): drop it
 * from disk too. */
static void forget_reservation(struct station *st, unsigned c)
{
	struct station_connector *sc = &st->conn[c];
	if (sc->has_reservation) {
		stationdb_resv_cancel(st->db, sc->reservation_id);
		sc->has_reservation = 0;
	}
}

/* The state machine ended the reservation itself (its idTag came). */
static void reservation_maybe_used(struct station *st, unsigned c)
{
	int32_t id;
	if (st->conn[c].has_reservation && !connector_reservation(&st->sm[c], &id))
		forget_reservation(st, c);
}

/* ----------------------------------------------------- the durable queue */

static void queue_retry(uv_timer_t *t)
{
	charging_pump(t->data);
}

static void queue_answered(void *arg, const struct ocpp_result *r);

/* Sends the oldest queued message, if nothing is in flight. */
void charging_pump(struct station *st)
{
	struct stationdb_msg m;
	json_t *payload;
	int attempts, rc;

	if (st->closing || st->queue_busy || !online(st))
		return;
	if (stationdb_queue_peek(st->db, &m))
		return;                                   /* empty (or unreadable) */
	/* The attempt is on disk before the message leaves: after a crash we
	 * know the central system may have seen it. */
	if (stationdb_queue_attempt(st->db, m.seq, ev_now_ms(), &attempts) ||
	    stationdb_msg_payload(&m, &payload)) {
		log_error("%s: queue: %s", st->id, stationdb_errmsg(st->db));
		stationdb_msg_clear(&m);
		return;
	}
	st->queue_busy = 1;
	rc = station_call(st, m.action, payload, queue_answered, st);
	if (rc == -EINVAL) {
		/* Our own message breaks the schema (e.g. a StopTransaction whose
		 * start the central system never acknowledged): it can never be
		 * delivered, so it must not block the ones behind it. */
		log_error("%s: dropping queued %s #%" PRId64 ": not valid", st->id, m.action, m.seq);
		stationdb_queue_remove(st->db, m.seq);
		st->queue_busy = 0;
		uv_timer_start(st->queue_timer, queue_retry, 0, 0);
	} else if (rc) {
		/* Not sent (no memory, the RPC queue full): try again shortly. */
		st->queue_busy = 0;
		uv_timer_start(st->queue_timer, queue_retry, 1000, 0);
	}
	stationdb_msg_clear(&m);
}

static struct station_connector *connector_of_ref(struct station *st, const char *ref, unsigned *c)
{
	for (unsigned i = 1; i <= (unsigned)st->cfg.connectors; i++) {
		if (st->conn[i].tx.active && strcmp(st->conn[i].tx.ref, ref) == 0) {
			*c = i;
			return &st->conn[i];
		}
	}
	return NULL;
}

static void stop_tx(struct station *st, unsigned c, enum station_stop_reason reason, int unplugged);

static void start_acknowledged(struct station *st, const struct stationdb_msg *m, json_t *reply)
{
	int64_t id = 0;
	int accepted = 1;
	unsigned c;
	struct station_connector *sc;

	if (st->adapter->tx_started(st, reply, &id, &accepted) ||
	    stationdb_queue_ack_start(st->db, m->seq, id)) {
		log_error("%s: cannot record the transaction id: %s", st->id, stationdb_errmsg(st->db));
		stationdb_queue_remove(st->db, m->seq);
		return;
	}
	sc = connector_of_ref(st, m->tx_ref, &c);
	if (!sc)
		return;                                   /* already over */
	sc->tx.has_id = 1;
	sc->tx.id = id;
	st->adapter->tx_event(st, c, TX_ID_KNOWN, &sc->tx);
	log_info("%s: connector %u: transaction %" PRId64 " started", st->id, c, id);
	if (!accepted && st->adapter->setting(st, SET_STOP_ON_INVALID_ID))
		stop_tx(st, c, STOP_DEAUTHORIZED, 0);
}

static void queue_answered(void *arg, const struct ocpp_result *r)
{
	struct station *st = arg;
	struct stationdb_msg m;
	long attempts_max, retry_s;

	st->queue_busy = 0;
	if (r->status == OCPP_RESULT_CLOSED || st->closing)
		return;                 /* sent again when the connection is back */
	if (stationdb_queue_peek(st->db, &m))
		return;
	if (r->status == OCPP_RESULT_OK) {
		if (strcmp(m.action, r->action) == 0 && strcmp(r->action, "StartTransaction") == 0)
			start_acknowledged(st, &m, r->payload);
		else
			stationdb_queue_remove(st->db, m.seq);
		stationdb_msg_clear(&m);
		charging_pump(st);
		return;
	}
	/* Refused, broken or unanswered: try again, up to the limit. */
	attempts_max = st->adapter->setting(st, SET_TX_MESSAGE_ATTEMPTS);
	retry_s = st->adapter->setting(st, SET_TX_MESSAGE_RETRY_INTERVAL);
	if (r->status != OCPP_RESULT_TIMEOUT && m.attempts >= attempts_max) {
		log_warn("%s: giving up on %s #%" PRId64 " after %d attempts (%s)", st->id, m.action,
			 m.seq, m.attempts, r->error_code ? r->error_code : "no answer");
		stationdb_queue_remove(st->db, m.seq);
		uv_timer_start(st->queue_timer, queue_retry, 0, 0);
	} else {
		/* OCPP 1.6 4.10: the interval grows with each attempt. */
		uv_timer_start(st->queue_timer, queue_retry,
			       (uint64_t)retry_s * 1000 * (uint64_t)(m.attempts > 0 ? m.attempts : 1), 0);
	}
	stationdb_msg_clear(&m);
}

/* Queues a message of connector c's transaction; atomically with the
 * write that goes with it when the caller holds a db transaction. */
static int enqueue(struct station *st, unsigned c, enum station_tx_message kind,
		   const struct hal_meter *meter, enum station_stop_reason reason, json_t *samples)
{
	const char *action = NULL;
	json_t *p = st->adapter->tx_message(st, c, &st->conn[c].tx, kind, meter, reason, samples,
					    &action);
	char *text = p ? json_dumps(p, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	int rc = text ? stationdb_queue_push(st->db, action, text, st->conn[c].tx.ref, NULL) : -ENOMEM;

	free(text);
	json_decref(p);
	return rc;
}

/* ------------------------------------------------- stop-message samples */

/* Keeps a reading for connector c's stop message, if the configuration
 * wants one of this kind; in the caller's db transaction. */
static int keep_sample(struct station *st, unsigned c, enum stationdb_sample_kind kind,
		       const struct hal_meter *m)
{
	json_t *body = st->adapter->tx_sample(st, c, kind, m);
	char *text;
	long max;
	int rc;

	if (!body)
		return 0;
	/* The limit counts the begin and end readings, which are never dropped. */
	max = st->adapter->setting(st, SET_STOP_TX_MAX_VALUES) - 2;
	text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
	rc = text ? stationdb_sample_add(st->db, st->conn[c].tx.ref, kind, station_now_ms(st), text, max)
		  : -ENOMEM;
	free(text);
	json_decref(body);
	return rc;
}

static int collect_sample(void *arg, enum stationdb_sample_kind kind, int64_t time_ms,
			  const char *body)
{
	json_t *j = json_loads(body, 0, NULL);

	if (j && json_array_append_new(arg, j))
		return -ENOMEM;
	(void)kind;
	(void)time_ms;
	return 0;
}

/* The readings kept for transaction ref, oldest first (a new reference);
 * NULL when they cannot be read. */
static json_t *kept_samples(struct station *st, const char *ref)
{
	json_t *all = json_array();

	if (all && stationdb_sample_each(st->db, ref, collect_sample, all)) {
		log_error("%s: cannot read the readings of %s: %s", st->id, ref, stationdb_errmsg(st->db));
		json_decref(all);
		return NULL;
	}
	return all;
}

static void sample_fired(uv_timer_t *t);

/* Samples every interval from the transaction's start (1.6 3.16.1). */
static void arm_sample_timer(struct station *st, unsigned c, unsigned seconds)
{
	struct station_connector *sc = &st->conn[c];
	int64_t period = (int64_t)seconds * 1000, since;

	if (!sc->sample_timer)
		return;
	if (!seconds || !sc->tx.active) {
		uv_timer_stop(sc->sample_timer);
		return;
	}
	since = mono(st) - sc->tx_mono_start;
	uv_timer_start(sc->sample_timer, sample_fired,
		       (uint64_t)(period - (since > 0 ? since % period : 0)), (uint64_t)period);
}

/* --------------------------------------------------------- transactions */

/* Reads connector c's meter and keeps the register on disk. The register
 * is whole Wh, rounded down, here once: what is stored, reported and
 * recovered after a crash is the same number, so it never goes back. */
static int read_meter(struct station *st, unsigned c, struct hal_meter *m)
{
	int rc = hal_read_meter(st->hal, (int)c, mono(st), m);

	/* One reading, one time: the MeterValues and the stop message's copy
	 * of it must agree. */
	m->time_ms = station_now_ms(st);
	if (rc == 0 && (m->have & HAL_METER_ENERGY)) {
		m->energy_wh = floor(m->energy_wh);
		stationdb_meter_set(st->db, (int)c, (int64_t)m->energy_wh, ev_now_ms());
	}
	return rc;
}

int station_read_meter(struct station *st, unsigned c, struct hal_meter *m)
{
	if (c < 1 || c > (unsigned)st->cfg.connectors)
		return -ENOENT;
	return read_meter(st, c, m);
}

static void start_tx(struct station *st, unsigned c, const char *id_tag)
{
	struct station_connector *sc = &st->conn[c];
	struct connector_event ev = { .type = CONN_EV_TX_STARTED, .id_tag = id_tag };
	struct connector_result r;
	struct hal_meter m = { 0 };
	int rc;

	if (read_meter(st, c, &m) && !(m.have & HAL_METER_ENERGY)) {
		int64_t wh = 0, t;
		stationdb_meter_get(st->db, (int)c, &wh, &t);
		m.energy_wh = (double)wh;
		m.have |= HAL_METER_ENERGY;
	}
	if (apply(st, c, &ev, &r))
		return;
	memset(&sc->tx, 0, sizeof sc->tx);
	snprintf(sc->tx.ref, sizeof sc->tx.ref, "%.32s-%" PRId64 "-%u", st->id, ev_now_ms(), ++st->tx_counter);
	snprintf(sc->tx.id_tag, sizeof sc->tx.id_tag, "%s", id_tag);
	sc->tx.meter_start_wh = (int64_t)m.energy_wh;
	sc->tx.start_ms = station_now_ms(st);
	sc->tx.has_reservation = r.tx_reservation;
	sc->tx.reservation_id = r.reservation_id;
	reservation_maybe_used(st, c);
	sc->tx.active = 1;
	sc->authorized_tag[0] = '\0';
	sc->preparing_since = 0;
	/* The transaction and its StartTransaction are one commit. */
	/* (id_tag may point at authorized_tag, cleared above: use the copy.) */
	rc = stationdb_begin(st->db);
	if (!rc)
		rc = stationdb_tx_create(st->db, sc->tx.ref, (int)c, sc->tx.id_tag,
					 sc->tx.meter_start_wh, sc->tx.start_ms);
	if (!rc)
		rc = enqueue(st, c, TXMSG_START, &m, STOP_OTHER, NULL);
	if (!rc)
		rc = keep_sample(st, c, STATIONDB_SAMPLE_BEGIN, &m);
	rc = rc ? (stationdb_rollback(st->db), rc) : stationdb_commit(st->db);
	if (rc) {
		/* Not on disk, not started: charging without a durable record
		 * could lose the transaction. */
		struct connector_event stop = { .type = CONN_EV_TX_STOPPED, .reason = CONN_STOP_OTHER };
		log_error("%s: connector %u: cannot record the transaction, not charging: %s", st->id, c,
			  stationdb_errmsg(st->db));
		sc->tx.active = 0;
		apply(st, c, &stop, NULL);
		return;
	}
	log_info("%s: connector %u: charging for %s from %" PRId64 " Wh", st->id, c, sc->tx.id_tag,
		 sc->tx.meter_start_wh);
	sc->tx_mono_start = mono(st);
	if (!sc->sample_timer)
		sc->sample_timer = ev_timer_new(st->loop, st);
	arm_sample_timer(st, c, (unsigned)st->adapter->setting(st, SET_METER_SAMPLE_INTERVAL));
	st->adapter->tx_event(st, c, TX_BEGUN, &sc->tx);
	hal_set_lock(st->hal, (int)c, 1);
	station_apply_limits(st);
	hal_set_contactor(st->hal, (int)c, 1, mono(st));
	charging_pump(st);
}

static const char *stop_reason_name(enum station_stop_reason r)
{
	static const char *const names[] = { "Local", "Remote", "EVDisconnected", "DeAuthorized",
		"PowerLoss", "Reboot", "SoftReset", "HardReset", "UnlockCommand", "EmergencyStop", "Other" };
	return (unsigned)r < sizeof names / sizeof *names ? names[r] : "Other";
}

static void stop_tx(struct station *st, unsigned c, enum station_stop_reason reason, int unplugged)
{
	struct station_connector *sc = &st->conn[c];
	struct connector_event ev = { .type = CONN_EV_TX_STOPPED, .unplugged = unplugged };
	struct hal_meter m = { 0 };
	json_t *samples;
	int rc;

	if (!sc->tx.active)
		return;
	if (sc->sample_timer)
		uv_timer_stop(sc->sample_timer);
	hal_set_contactor(st->hal, (int)c, 0, mono(st));
	if (read_meter(st, c, &m) && !(m.have & HAL_METER_ENERGY)) {
		int64_t wh = sc->tx.meter_start_wh, t;
		stationdb_meter_get(st->db, (int)c, &wh, &t);
		m.energy_wh = (double)wh;
		m.have |= HAL_METER_ENERGY;
	}
	switch (reason) {
	case STOP_REMOTE: ev.reason = CONN_STOP_REMOTE; break;
	case STOP_EV_DISCONNECTED: ev.reason = CONN_STOP_EV_DISCONNECTED; break;
	case STOP_DEAUTHORIZED: ev.reason = CONN_STOP_DEAUTHORIZED; break;
	case STOP_LOCAL: ev.reason = CONN_STOP_LOCAL; break;
	default: ev.reason = CONN_STOP_OTHER; break;
	}
	/* The stop message takes the kept readings along; they go in the
	 * same commit. */
	rc = stationdb_begin(st->db);
	samples = rc ? NULL : kept_samples(st, sc->tx.ref);
	if (!rc)
		rc = enqueue(st, c, TXMSG_STOP, &m, reason, samples);
	if (!rc)
		rc = stationdb_sample_clear(st->db, sc->tx.ref);
	if (!rc)
		rc = stationdb_tx_finish(st->db, sc->tx.ref, (int64_t)m.energy_wh, station_now_ms(st),
					 stop_reason_name(reason));
	json_decref(samples);
	rc = rc ? (stationdb_rollback(st->db), rc) : stationdb_commit(st->db);
	if (rc)
		log_error("%s: connector %u: cannot record the stop: %s", st->id, c, stationdb_errmsg(st->db));
	log_info("%s: connector %u: stopped at %.0f Wh (%.0f Wh charged)", st->id, c, m.energy_wh,
		 m.energy_wh - (double)sc->tx.meter_start_wh);
	sc->tx.active = 0;
	st->adapter->tx_event(st, c, TX_ENDED, &sc->tx);
	hal_set_lock(st->hal, (int)c, 0);
	apply(st, c, &ev, NULL);
	charging_pump(st);
}

int charging_queue_empty(struct station *st)
{
	size_t n = 0;
	return !st->queue_busy && stationdb_queue_count(st->db, &n) == 0 && n == 0;
}

void station_stop_all(struct station *st, enum station_stop_reason reason)
{
	for (unsigned c = 1; c <= (unsigned)st->cfg.connectors; c++)
		stop_tx(st, c, reason, 0);
}

/* Plugged in and authorized: start. */
static void maybe_start(struct station *st, unsigned c)
{
	struct station_connector *sc = &st->conn[c];
	if (sc->plugged && sc->authorized_tag[0] && !sc->tx.active)
		start_tx(st, c, sc->authorized_tag);
}

void station_authorized(struct station *st, unsigned c, const char *id_tag, int accepted)
{
	struct connector_event ev = { .type = CONN_EV_AUTHORIZED, .id_tag = id_tag };

	if (!accepted) {
		log_info("%s: connector %u: %s not authorized", st->id, c, id_tag);
		return;
	}
	if (apply(st, c, &ev, NULL))
		return;
	reservation_maybe_used(st, c);
	snprintf(st->conn[c].authorized_tag, sizeof st->conn[c].authorized_tag, "%s", id_tag);
	st->conn[c].preparing_since = mono(st);
	want_tick(st);
	maybe_start(st, c);
}

/* The first connector this id_tag may use: where it is plugged in first. */
static unsigned pick_connector(struct station *st, const char *id_tag)
{
	unsigned best = 0;
	for (unsigned c = 1; c <= (unsigned)st->cfg.connectors; c++) {
		if (connector_may_start(&st->sm[0], &st->sm[c], id_tag, NULL, NULL))
			continue;
		if (st->conn[c].plugged)
			return c;
		if (!best)
			best = c;
	}
	return best;
}

int station_remote_start(struct station *st, unsigned c, const char *id_tag)
{
	char why[CONNECTOR_WHY_MAX];

	if (c == 0)
		c = pick_connector(st, id_tag);
	if (c == 0 || c > (unsigned)st->cfg.connectors)
		return -ENOENT;
	if (connector_may_start(&st->sm[0], &st->sm[c], id_tag, NULL, why)) {
		log_info("%s: connector %u: remote start refused: %s", st->id, c, why);
		return -EPERM;
	}
	station_authorized(st, c, id_tag, 1);
	return (int)c;
}

int station_remote_stop(struct station *st, int64_t id)
{
	for (unsigned c = 1; c <= (unsigned)st->cfg.connectors; c++) {
		if (st->conn[c].tx.active && st->conn[c].tx.has_id && st->conn[c].tx.id == id) {
			stop_tx(st, c, STOP_REMOTE, 0);
			return 0;
		}
	}
	return -ENOENT;
}

int station_unlock(struct station *st, unsigned c)
{
	if (c == 0 || c > (unsigned)st->cfg.connectors)
		return -ENOENT;
	stop_tx(st, c, STOP_UNLOCK_COMMAND, 0);
	return hal_set_lock(st->hal, (int)c, 0);
}

enum connector_answer station_change_availability(struct station *st, unsigned c, int operative)
{
	struct connector_event ev = { .type = CONN_EV_AVAILABILITY,
		.availability = operative ? CONN_OPERATIVE : CONN_INOPERATIVE };
	struct connector_result r;

	if (c > (unsigned)st->cfg.connectors)
		return CONN_ANSWER_REJECTED;
	if (apply(st, c, &ev, &r))
		return CONN_ANSWER_REJECTED;
	/* Kept on disk (scheduled or in effect) before it is answered. */
	for (unsigned i = 0; i <= (unsigned)st->cfg.connectors; i++) {
		char key[32];
		snprintf(key, sizeof key, "inoperative.%u", i);
		stationdb_state_set(st->db, key, connector_wants_inoperative(&st->sm[i]) ? "1" : "0");
	}
	return r.answer;
}

static void end_reservation(struct station *st, unsigned c, enum connector_event_type why)
{
	struct connector_event ev = { .type = why, .reservation_id = st->conn[c].reservation_id };

	if (!st->conn[c].has_reservation)
		return;
	if (apply(st, c, &ev, NULL))
		log_warn("%s: connector %u: reservation %d: %s refused", st->id, c,
			 (int)ev.reservation_id, connector_event_name(why));
	forget_reservation(st, c);
}

static enum connector_answer reserve(struct station *st, unsigned c, const struct stationdb_resv *r,
				     int save)
{
	struct connector_event ev = { .type = CONN_EV_RESERVE, .id_tag = r->id_tag,
		.parent_id_tag = r->parent_id_tag[0] ? r->parent_id_tag : NULL,
		.reservation_id = r->id };
	struct connector_result res;
	struct station_connector *sc = &st->conn[c];

	/* Same id again replaces the reservation (1.6 5.13). */
	if (sc->has_reservation && sc->reservation_id == r->id)
		end_reservation(st, c, CONN_EV_RESERVATION_CANCELLED);
	if (apply(st, c, &ev, &res))
		return CONN_ANSWER_REJECTED;
	if (res.answer != CONN_ANSWER_ACCEPTED)
		return res.answer;
	if (save && stationdb_resv_put(st->db, r)) {
		log_error("%s: cannot keep reservation %d: %s", st->id, r->id, stationdb_errmsg(st->db));
		event(st, c, CONN_EV_RESERVATION_CANCELLED);
		return CONN_ANSWER_REJECTED;
	}
	sc->has_reservation = 1;
	sc->reservation_id = r->id;
	sc->reservation_expiry_ms = r->expiry_ms;
	want_tick(st);
	return CONN_ANSWER_ACCEPTED;
}

enum connector_answer station_reserve(struct station *st, unsigned c, const struct stationdb_resv *r)
{
	return reserve(st, c, r, 1);
}

int station_cancel_reservation(struct station *st, int32_t id)
{
	for (unsigned c = 1; c <= (unsigned)st->cfg.connectors; c++) {
		if (st->conn[c].has_reservation && st->conn[c].reservation_id == id) {
			end_reservation(st, c, CONN_EV_RESERVATION_CANCELLED);
			return 0;
		}
	}
	return -ENOENT;
}

void station_apply_limits(struct station *st)
{
	for (unsigned c = 1; c <= (unsigned)st->cfg.connectors; c++) {
		struct hal_limit lim;
		st->adapter->limit(st, c, &lim);
		hal_set_limit(st->hal, (int)c, &lim, mono(st));
	}
}

/* ------------------------------------------------------- the hardware */

static void hal_ev_state(void *ctx, int connector, enum hal_ev_state state)
{
	struct station *st = ctx;
	unsigned c = (unsigned)connector;
	struct station_connector *sc = &st->conn[c];

	if (state == HAL_EV_UNPLUGGED) {
		sc->plugged = 0;
		if (sc->tx.active && st->adapter->setting(st, SET_STOP_ON_EV_DISCONNECT))
			stop_tx(st, c, STOP_EV_DISCONNECTED, 1);
		else
			event(st, c, CONN_EV_UNPLUG);
		sc->authorized_tag[0] = '\0';
		return;
	}
	if (!sc->plugged) {
		struct connector_event ev = { .type = CONN_EV_PLUG_IN,
			.ev_suspended = state != HAL_EV_READY };
		sc->plugged = 1;
		apply(st, c, &ev, NULL);
		if (!sc->authorized_tag[0]) {
			sc->preparing_since = mono(st);
			want_tick(st);
		}
		maybe_start(st, c);
		return;
	}
	if (sc->tx.active)
		event(st, c, state == HAL_EV_READY ? CONN_EV_EV_CHARGING : CONN_EV_EV_SUSPENDED);
}

static void hal_token(void *ctx, int connector, const char *id, const char *type)
{
	struct station *st = ctx;
	unsigned c = (unsigned)connector;

	/* The same card again ends its own transaction. */
	for (unsigned i = 1; i <= (unsigned)st->cfg.connectors; i++) {
		if (st->conn[i].tx.active && strcmp(st->conn[i].tx.id_tag, id) == 0 &&
		    (c == 0 || c == i)) {
			stop_tx(st, i, STOP_LOCAL, 0);
			return;
		}
	}
	if (c == 0)
		c = pick_connector(st, id);
	if (c == 0) {
		log_info("%s: token %s: no connector free", st->id, id);
		return;
	}
	st->adapter->authorize(st, c, id);
	(void)type;
}

static void hal_fault(void *ctx, int connector, const char *code, const char *info)
{
	struct station *st = ctx;
	struct connector_event ev = { .type = code ? CONN_EV_FAULT : CONN_EV_FAULT_CLEARED, .info = info };

	if (code && connector_error_parse(code, &ev.error))
		ev.error = CONN_ERR_OTHER;
	if (code && st->conn[connector].tx.active)
		stop_tx(st, (unsigned)connector, STOP_OTHER, 0);
	apply(st, (unsigned)connector, &ev, NULL);
}

/* A hardware request that finished later (external commands). */
static void hal_done(void *ctx, int connector, enum hal_request req, int rc)
{
	struct station *st = ctx;
	static const char *const what[] = { "lock", "contactor", "limit", "display" };

	if (rc)
		log_warn("%s: connector %d: %s command failed: %s", st->id, connector,
			 what[req], strerror(-rc));
}

static void hal_meter_event(void *ctx, int connector, int err, const char *info)
{
	struct station *st = ctx;
	if (err)
		log_warn("%s: connector %d: meter failing: %s", st->id, connector, info ? info : strerror(-err));
	else
		log_info("%s: connector %d: meter back", st->id, connector);
}

static const struct hal_events hal_events = {
	hal_ev_state, hal_token, hal_fault, hal_meter_event, hal_done,
};

/* The simulation's own deadlines (an EV getting full). */
static void hal_timer_fired(uv_timer_t *t);

static void rearm_hal_timer(struct station *st)
{
	int64_t d = hal_next_deadline(st->hal), now = mono(st);
	if (d < 0)
		uv_timer_stop(st->hal_timer);
	else
		uv_timer_start(st->hal_timer, hal_timer_fired, d > now ? (uint64_t)(d - now) : 0, 0);
}

static void hal_timer_fired(uv_timer_t *t)
{
	struct station *st = t->data;
	hal_tick(st->hal, mono(st));
	rearm_hal_timer(st);
}

/* Once a second: timeouts in Preparing, and the simulation's clock. */
static void tick(uv_timer_t *t)
{
	struct station *st = t->data;
	long timeout = st->adapter->setting(st, SET_CONNECTION_TIMEOUT);

	for (unsigned c = 1; c <= (unsigned)st->cfg.connectors; c++) {
		struct station_connector *sc = &st->conn[c];
		if (sc->has_reservation && sc->reservation_expiry_ms <= station_now_ms(st))
			end_reservation(st, c, CONN_EV_RESERVATION_EXPIRED);
		if (sc->preparing_since && !sc->tx.active && timeout > 0 &&
		    mono(st) - sc->preparing_since >= timeout * 1000) {
			sc->preparing_since = 0;
			sc->authorized_tag[0] = '\0';
			event(st, c, CONN_EV_PREPARING_TIMEOUT);
		}
	}
	hal_tick(st->hal, mono(st));
	rearm_hal_timer(st);
	if (!needs_tick(st))
		uv_timer_stop(st->tick_timer);
}

/* A transaction's periodic sample: its MeterValues and the reading kept
 * for the stop message, with the meter register, in one commit. */
static void sample_fired(uv_timer_t *t)
{
	struct station *st = t->data;
	unsigned c;
	struct hal_meter m;
	int rc;

	for (c = 1; c <= (unsigned)st->cfg.connectors && st->conn[c].sample_timer != t; c++)
		;
	if (c > (unsigned)st->cfg.connectors || !st->conn[c].tx.active)
		return;
	rc = stationdb_begin(st->db);
	if (rc == 0 && read_meter(st, c, &m) == 0) {
		rc = enqueue(st, c, TXMSG_METER, &m, STOP_OTHER, NULL);
		if (!rc)
			rc = keep_sample(st, c, STATIONDB_SAMPLE_PERIODIC, &m);
	}
	rc = rc ? (stationdb_rollback(st->db), rc) : stationdb_commit(st->db);
	if (rc)
		log_error("%s: cannot queue meter values: %s", st->id, stationdb_errmsg(st->db));
	charging_pump(st);
}

/* Clock-aligned meter values: at every multiple of the interval after
 * midnight UTC (1.6 3.16.2); within a transaction they are transaction
 * data and go through the durable queue. */
static void clock_fired(uv_timer_t *t)
{
	struct station *st = t->data;

	for (unsigned c = 1; c <= (unsigned)st->cfg.connectors; c++) {
		struct hal_meter m;
		if (read_meter(st, c, &m))
			continue;
		if (st->conn[c].tx.active) {
			int rc = stationdb_begin(st->db);
			if (!rc)
				rc = enqueue(st, c, TXMSG_CLOCK, &m, STOP_OTHER, NULL);
			if (!rc)
				rc = keep_sample(st, c, STATIONDB_SAMPLE_CLOCK, &m);
			rc = rc ? (stationdb_rollback(st->db), rc) : stationdb_commit(st->db);
			if (rc)
				log_error("%s: cannot queue meter values: %s", st->id, stationdb_errmsg(st->db));
		} else if (online(st)) {
			st->adapter->meter_now(st, c, &m, "Sample.Clock");
		}
	}
	charging_pump(st);
	charging_align_clock(st);
}

void charging_align_clock(struct station *st)
{
	long interval = st->adapter->setting(st, SET_CLOCK_ALIGNED_INTERVAL);
	int64_t now = station_now_ms(st), period = (int64_t)interval * 1000, wait;

	if (interval <= 0) {
		uv_timer_stop(st->clock_timer);
		return;
	}
	/* libuv counts from the loop's cached time, which may lag the clock
	 * read above: refresh it, or the timer fires early. */
	uv_update_time(st->loop);
	wait = period - now % period;
	uv_timer_start(st->clock_timer, clock_fired, (uint64_t)(wait > 0 ? wait : period), 0);
}

void charging_set_sample_interval(struct station *st, unsigned seconds)
{
	for (unsigned c = 1; c <= (unsigned)st->cfg.connectors; c++)
		arm_sample_timer(st, c, seconds);
}

/* ------------------------------------------------------------ lifetime */

/* Transactions a crash or power cut left open end now, with the last
 * meter reading on disk (OCPP 1.6 4.8: reason PowerLoss). */
static void recover(struct station *st)
{
	struct stationdb_tx *open = NULL;
	size_t n = 0;

	if (stationdb_tx_list_open(st->db, &open, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned c = (unsigned)open[i].connector;
		int64_t wh = open[i].meter_start_wh, t;
		struct hal_meter m = { .have = HAL_METER_ENERGY };
		json_t *samples = NULL;
		int rc;

		if (c < 1 || c > (unsigned)st->cfg.connectors)
			continue;
		stationdb_meter_get(st->db, (int)c, &wh, &t);
		m.energy_wh = (double)(wh > open[i].meter_start_wh ? wh : open[i].meter_start_wh);
		st->conn[c].tx = (struct station_tx){ .active = 1 };
		snprintf(st->conn[c].tx.ref, sizeof st->conn[c].tx.ref, "%s", open[i].ref);
		snprintf(st->conn[c].tx.id_tag, sizeof st->conn[c].tx.id_tag, "%.20s", open[i].id_tag);
		st->conn[c].tx.meter_start_wh = open[i].meter_start_wh;
		st->conn[c].tx.has_id = open[i].has_transaction_id;
		st->conn[c].tx.id = open[i].transaction_id;
		/* What was kept before the crash goes with the stop message. */
		rc = stationdb_begin(st->db);
		if (!rc && !(samples = kept_samples(st, open[i].ref)))
			rc = -EIO;
		if (!rc)
			rc = enqueue(st, c, TXMSG_STOP, &m, STOP_POWER_LOSS, samples);
		if (!rc)
			rc = stationdb_sample_clear(st->db, open[i].ref);
		if (!rc)
			rc = stationdb_tx_finish(st->db, open[i].ref, (int64_t)m.energy_wh,
						 station_now_ms(st), "PowerLoss");
		rc = rc ? (stationdb_rollback(st->db), rc) : stationdb_commit(st->db);
		if (rc)
			log_error("%s: connector %u: cannot end transaction %s: %s", st->id, c,
				  open[i].ref, stationdb_errmsg(st->db));
		json_decref(samples);
		log_warn("%s: connector %u: transaction %s was open at start; ended (PowerLoss) at %.0f Wh",
			 st->id, c, open[i].ref, m.energy_wh);
		memset(&st->conn[c].tx, 0, sizeof st->conn[c].tx);
	}
	free(open);
}

int charging_init(struct station *st, char *err, size_t errlen)
{
	struct hal_sim_connector_config cc[STATION_MAX_CONNECTORS];
	int n = st->cfg.connectors;

	if (n < 1 || n > STATION_MAX_CONNECTORS)
		return snprintf(err, errlen, "%s: 1 to %d connectors", st->id, STATION_MAX_CONNECTORS), -1;
	/* Availability survives a reboot (1.6 5.2). */
	for (unsigned c = 0; c <= (unsigned)n; c++) {
		char key[32], *v = NULL;
		snprintf(key, sizeof key, "inoperative.%u", c);
		stationdb_state_get(st->db, key, &v);
		connector_init(&st->sm[c], c, v && strcmp(v, "1") == 0);
		free(v);
	}
	for (int c = 0; c < n; c++) {
		int64_t wh = 0, t;
		/* The meter register goes on where it was: it is monotonic. */
		stationdb_meter_get(st->db, c + 1, &wh, &t);
		cc[c] = (struct hal_sim_connector_config){ .type = HAL_CONN_AC_TYPE2, .phases = 3,
			.max_current_a = 32, .voltage_v = 230, .meter_start_wh = (double)wh };
	}
	if (st->cfg.hal_exec) {
		struct hal_exec *x = hal_exec_new(st->loop, st->cfg.hal_exec, err, errlen);
		if (!x)
			return -1;
		st->hal = hal_exec_hal(x);
	} else {
		st->sim = hal_sim_new(cc, n);
		if (st->sim)
			st->hal = hal_sim_hal(st->sim);
	}
	st->hal_timer = ev_timer_new(st->loop, st);
	st->queue_timer = ev_timer_new(st->loop, st);
	st->tick_timer = ev_timer_new(st->loop, st);
	st->clock_timer = ev_timer_new(st->loop, st);
	if (!st->hal || !st->hal_timer || !st->queue_timer || !st->tick_timer ||
	    !st->clock_timer)
		return snprintf(err, errlen, "%s: out of memory", st->id), -1;
	hal_attach(st->hal, &hal_events, st);
	recover(st);
	{
		struct stationdb_resv *resv = NULL;
		size_t nr = 0;
		if (stationdb_resv_list(st->db, &resv, &nr) == 0)
			for (size_t i = 0; i < nr; i++)
				if (resv[i].connector >= 1 && resv[i].connector <= n &&
				    reserve(st, (unsigned)resv[i].connector, &resv[i], 0) != CONN_ANSWER_ACCEPTED)
					stationdb_resv_cancel(st->db, resv[i].id);
		free(resv);
	}
	if (needs_tick(st))
		want_tick(st);
	return 0;
}

void charging_fini(struct station *st)
{
	uv_timer_t *timers[] = { st->hal_timer, st->queue_timer, st->tick_timer, st->clock_timer };

	for (size_t i = 0; i < sizeof timers / sizeof *timers; i++)
		ev_timer_free(timers[i]);
	for (unsigned c = 1; c <= (unsigned)st->cfg.connectors && c <= STATION_MAX_CONNECTORS; c++)
		ev_timer_free(st->conn[c].sample_timer);
	if (st->sim)
		hal_sim_free(st->sim);
	else if (st->hal)
		hal_free(st->hal);
}

void charging_reconnected(struct station *st)
{
	send_unsent_statuses(st);
	charging_pump(st);
}
