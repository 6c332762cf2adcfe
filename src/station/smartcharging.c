#include "config.h"
#include "station/smartcharging.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/rfc3339.h"

#define DAY_MS (86400LL * 1000)
#define WEEK_MS (7 * DAY_MS)
/* Breakpoints visited by one composite, merged or not: bounds the work a
 * huge duration over many recurring profiles can cause. */
#define MAX_STEPS (1L << 20)
/* Instants beyond +-142,000 years are refused, so that sums of instants
 * and durations cannot overflow. */
#define TIME_MAX (1LL << 52)
/* No charger needs a gigawatt or a gigaampere; larger limits are refused
 * so that conversions stay finite. */
#define LIMIT_MAX 1e9

static const char *const purpose_names[] = {
	"ChargePointMaxProfile", "TxDefaultProfile", "TxProfile",
};
static const char *const kind_names[] = { "Absolute", "Recurring", "Relative" };
static const char *const recurrency_names[] = { NULL, "Daily", "Weekly" };
static const char *const unit_names[] = { "A", "W" };

__attribute__((format(printf, 2, 3)))
static int fail(char *why, const char *fmt, ...)
{
	va_list ap;

	if (why) {
		va_start(ap, fmt);
		vsnprintf(why, SC_WHY_MAX, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int lookup(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (names[i] && name && strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *sc_purpose_name(enum sc_purpose p) { return purpose_names[p]; }
const char *sc_unit_name(enum sc_unit u) { return unit_names[u]; }

int sc_purpose_parse(const char *name, enum sc_purpose *out)
{
	int i = lookup(purpose_names, 3, name);
	if (i < 0)
		return -EINVAL;
	*out = (enum sc_purpose)i;
	return 0;
}

int sc_unit_parse(const char *name, enum sc_unit *out)
{
	int i = lookup(unit_names, 2, name);
	if (i < 0)
		return -EINVAL;
	*out = (enum sc_unit)i;
	return 0;
}

/* ------------------------------------------------------------ JSON in */

/* An integer member within [lo, hi]; an integral real counts (a JavaScript
 * peer may write 2.0). Returns 1 if read, 0 if absent, -1 if not such an
 * integer. */
static int read_int(const json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
	const json_t *v = json_object_get(o, key);
	double d;

	if (!v)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return *out >= lo && *out <= hi ? 1 : -1;
	}
	if (!json_is_real(v))
		return -1;
	d = json_real_value(v);
	if (d != floor(d) || d < (double)lo || d > (double)hi)
		return -1;
	*out = (int64_t)d;
	return 1;
}

/* An int32 member; *present (may be NULL when required) says if it was
 * there. */
static int get_i32(const json_t *o, const char *key, int32_t *out, int *present, char *why)
{
	int64_t v;
	int rc = read_int(o, key, INT32_MIN, INT32_MAX, &v);

	if (rc < 0)
		return fail(why, "%s: not a 32-bit integer", key);
	if (rc == 0 && !present)
		return fail(why, "%s: missing", key);
	if (present)
		*present = rc;
	if (rc)
		*out = (int32_t)v;
	return 0;
}

static int get_number(const json_t *o, const char *key, double *out, int *present, char *why)
{
	const json_t *v = json_object_get(o, key);

	if (present)
		*present = v != NULL;
	if (!v)
		return present ? 0 : fail(why, "%s: missing", key);
	if (!json_is_number(v))
		return fail(why, "%s: not a number", key);
	*out = json_number_value(v);
	return 0;
}

/* An enumeration member: its index in names, or absent (-1, when optional). */
static int get_enum(const json_t *o, const char *key, const char *const *names, int n,
		    int required, int *out, char *why)
{
	const json_t *v = json_object_get(o, key);

	*out = -1;
	if (!v)
		return required ? fail(why, "%s: missing", key) : 0;
	*out = lookup(names, n, json_string_value(v));
	return *out < 0 ? fail(why, "%s: not a known value", key) : 0;
}

static int get_time(const json_t *o, const char *key, int64_t *out, char *why)
{
	const json_t *v = json_object_get(o, key);
	struct ev_timestamp ts;

	*out = SC_NO_TIME;
	if (!v)
		return 0;
	if (!json_is_string(v) || rfc3339_parse(json_string_value(v), &ts))
		return fail(why, "%s: not a date-time", key);
	*out = ts.unix_ms;
	return 0;
}

static int parse_head(const json_t *j, struct sc_profile *p, char *why)
{
	int purpose, kind, recurrency, rc;

	if ((rc = get_i32(j, "chargingProfileId", &p->id, NULL, why)) ||
	    (rc = get_i32(j, "transactionId", &p->transaction_id, &p->has_transaction_id, why)) ||
	    (rc = get_i32(j, "stackLevel", &p->stack_level, NULL, why)) ||
	    (rc = get_enum(j, "chargingProfilePurpose", purpose_names, 3, 1, &purpose, why)) ||
	    (rc = get_enum(j, "chargingProfileKind", kind_names, 3, 1, &kind, why)) ||
	    (rc = get_enum(j, "recurrencyKind", recurrency_names, 3, 0, &recurrency, why)) ||
	    (rc = get_time(j, "validFrom", &p->valid_from, why)) ||
	    (rc = get_time(j, "validTo", &p->valid_to, why)))
		return rc;
	p->purpose = (enum sc_purpose)purpose;
	p->kind = (enum sc_kind)kind;
	p->recurrency = recurrency < 0 ? SC_RECUR_NONE : (enum sc_recurrency)recurrency;
	return 0;
}

static int parse_period(const json_t *o, size_t i, struct sc_period *per, char *why)
{
	int32_t phases = 0;
	int has_phases, rc;

	if (!json_is_object(o))
		return fail(why, "chargingSchedulePeriod[%zu]: not an object", i);
	if ((rc = get_i32(o, "startPeriod", &per->start, NULL, why)) ||
	    (rc = get_number(o, "limit", &per->limit, NULL, why)) ||
	    (rc = get_i32(o, "numberPhases", &phases, &has_phases, why)))
		return rc;
	if (has_phases && (phases < 1 || phases > 3))
		return fail(why, "chargingSchedulePeriod[%zu]: numberPhases must be 1, 2 or 3", i);
	per->phases = has_phases ? phases : 0;
	return 0;
}

static int parse_schedule(const json_t *sc, struct sc_profile *p, char *why)
{
	const json_t *list;
	int has_duration, unit, rc;

	if (!json_is_object(sc))
		return fail(why, "chargingSchedule: missing");
	if ((rc = get_i32(sc, "duration", &p->duration, &has_duration, why)) ||
	    (rc = get_time(sc, "startSchedule", &p->start_schedule, why)) ||
	    (rc = get_enum(sc, "chargingRateUnit", unit_names, 2, 1, &unit, why)) ||
	    (rc = get_number(sc, "minChargingRate", &p->min_rate, &p->has_min_rate, why)))
		return rc;
	if (has_duration && p->duration < 0)
		return fail(why, "duration must not be negative");
	if (!has_duration)
		p->duration = -1;
	p->unit = (enum sc_unit)unit;
	list = json_object_get(sc, "chargingSchedulePeriod");
	if (!json_is_array(list) || json_array_size(list) == 0)
		return fail(why, "chargingSchedulePeriod: no periods");
	p->periods = calloc(json_array_size(list), sizeof *p->periods);
	if (!p->periods)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(list); i++) {
		if ((rc = parse_period(json_array_get(list, i), i, &p->periods[i], why)))
			return rc;
		p->n_periods++;
	}
	return 0;
}

static int sane_time(int64_t t)
{
	return t >= -TIME_MAX && t <= TIME_MAX;
}

/* Values only a hand-made struct can have: the parser never makes them. */
static int check_struct(const struct sc_profile *p, char *why)
{
	if ((unsigned)p->purpose > SC_TX || (unsigned)p->kind > SC_RELATIVE ||
	    (unsigned)p->recurrency > SC_WEEKLY || (unsigned)p->unit > SC_UNIT_W)
		return fail(why, "enumeration out of range");
	if (!p->periods || p->n_periods == 0)
		return fail(why, "chargingSchedulePeriod: no periods");
	if ((p->valid_from != SC_NO_TIME && !sane_time(p->valid_from)) ||
	    (p->valid_to != SC_NO_TIME && !sane_time(p->valid_to)) ||
	    (p->start_schedule != SC_NO_TIME && !sane_time(p->start_schedule)))
		return fail(why, "date-time out of range");
	return 0;
}

/* What the specification implies whatever the station's state. */
static int check_profile(const struct sc_profile *p, char *why)
{
	int rc = check_struct(p, why);

	if (rc)
		return rc;
	if (p->stack_level < 0)
		return fail(why, "stackLevel must not be negative");
	if (p->has_transaction_id && p->purpose != SC_TX)
		return fail(why, "transactionId is only allowed on a TxProfile");
	if (p->valid_from != SC_NO_TIME && p->valid_to != SC_NO_TIME && p->valid_to <= p->valid_from)
		return fail(why, "validTo must be after validFrom");
	if ((p->kind == SC_RECURRING) != (p->recurrency != SC_RECUR_NONE))
		return fail(why, p->kind == SC_RECURRING ? "a recurring profile needs a recurrencyKind"
				 : "recurrencyKind is only allowed on a recurring profile");
	if (p->kind != SC_RELATIVE && p->start_schedule == SC_NO_TIME)
		return fail(why, "%s profile needs a startSchedule",
			    p->kind == SC_RECURRING ? "a recurring" : "an absolute");
	if (p->kind == SC_RELATIVE && p->start_schedule != SC_NO_TIME)
		return fail(why, "a relative profile must not have a startSchedule");
	if (p->duration < -1)
		return fail(why, "duration must not be negative");
	if (p->has_min_rate && !(p->min_rate >= 0 && p->min_rate <= LIMIT_MAX))
		return fail(why, "minChargingRate must be from 0 to %g", LIMIT_MAX);
	if (p->periods[0].start != 0)
		return fail(why, "the first period must start at 0");
	for (size_t i = 0; i < p->n_periods; i++) {
		if (!(p->periods[i].limit >= 0 && p->periods[i].limit <= LIMIT_MAX))
			return fail(why, "chargingSchedulePeriod[%zu]: limit must be from 0 to %g",
				    i, LIMIT_MAX);
		if (p->periods[i].phases < 0 || p->periods[i].phases > 3)
			return fail(why, "chargingSchedulePeriod[%zu]: numberPhases must be 1, 2 or 3", i);
		if (i > 0 && p->periods[i].start <= p->periods[i - 1].start)
			return fail(why, "chargingSchedulePeriod[%zu]: startPeriod must increase", i);
	}
	return 0;
}

int sc_profile_from_json(const json_t *j, struct sc_profile **out, char why[SC_WHY_MAX])
{
	struct sc_profile *p;
	int rc;

	*out = NULL;
	if (!json_is_object(j))
		return fail(why, "charging profile: not an object");
	p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	if ((rc = parse_head(j, p, why)) ||
	    (rc = parse_schedule(json_object_get(j, "chargingSchedule"), p, why)) ||
	    (rc = check_profile(p, why))) {
		if (rc == -ENOMEM && why)
			snprintf(why, SC_WHY_MAX, "out of memory");
		sc_profile_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void sc_profile_free(struct sc_profile *p)
{
	if (!p)
		return;
	free(p->periods);
	free(p);
}

struct sc_profile *sc_profile_dup(const struct sc_profile *p)
{
	struct sc_profile *d = malloc(sizeof *d);

	if (!d)
		return NULL;
	*d = *p;
	d->periods = malloc(p->n_periods * sizeof *p->periods);
	if (!d->periods) {
		free(d);
		return NULL;
	}
	memcpy(d->periods, p->periods, p->n_periods * sizeof *p->periods);
	return d;
}

int sc_profile_check_remote_start(const struct sc_profile *p, char why[SC_WHY_MAX])
{
	if (p->purpose != SC_TX)
		return fail(why, "the profile of a remote start must be a TxProfile");
	if (p->has_transaction_id)
		return fail(why, "the profile of a remote start must not have a transactionId");
	return 0;
}

/* ----------------------------------------------------------- JSON out */

/* Collects failures of json_object_set_new (a NULL value is one). */
static void set(json_t *o, const char *key, json_t *v, int *bad)
{
	if (json_object_set_new(o, key, v))
		*bad = 1;
}

static json_t *time_json(int64_t ms)
{
	char buf[RFC3339_MAX];
	return rfc3339_format_ms(ms, buf, sizeof buf) ? json_string(buf) : NULL;
}

static json_t *period_json(int32_t start, double limit, int phases)
{
	json_t *o = json_object();
	int bad = !o;

	if (o) {
		set(o, "startPeriod", json_integer(start), &bad);
		set(o, "limit", json_real(limit), &bad);
		if (phases)
			set(o, "numberPhases", json_integer(phases), &bad);
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *schedule_json(const struct sc_profile *p)
{
	json_t *o = json_object(), *list = json_array();
	int bad = !o || !list;

	for (size_t i = 0; !bad && i < p->n_periods; i++) {
		const struct sc_period *per = &p->periods[i];
		if (json_array_append_new(list, period_json(per->start, per->limit, per->phases)))
			bad = 1;
	}
	if (!bad) {
		if (p->duration >= 0)
			set(o, "duration", json_integer(p->duration), &bad);
		if (p->start_schedule != SC_NO_TIME)
			set(o, "startSchedule", time_json(p->start_schedule), &bad);
		set(o, "chargingRateUnit", json_string(unit_names[p->unit]), &bad);
		set(o, "chargingSchedulePeriod", json_incref(list), &bad);
		if (p->has_min_rate)
			set(o, "minChargingRate", json_real(p->min_rate), &bad);
	}
	json_decref(list);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *sc_profile_to_json(const struct sc_profile *p)
{
	json_t *o = json_object();
	int bad = !o;

	if (bad)
		return NULL;
	set(o, "chargingProfileId", json_integer(p->id), &bad);
	if (p->has_transaction_id)
		set(o, "transactionId", json_integer(p->transaction_id), &bad);
	set(o, "stackLevel", json_integer(p->stack_level), &bad);
	set(o, "chargingProfilePurpose", json_string(purpose_names[p->purpose]), &bad);
	set(o, "chargingProfileKind", json_string(kind_names[p->kind]), &bad);
	if (p->recurrency != SC_RECUR_NONE)
		set(o, "recurrencyKind", json_string(recurrency_names[p->recurrency]), &bad);
	if (p->valid_from != SC_NO_TIME)
		set(o, "validFrom", time_json(p->valid_from), &bad);
	if (p->valid_to != SC_NO_TIME)
		set(o, "validTo", time_json(p->valid_to), &bad);
	set(o, "chargingSchedule", schedule_json(p), &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ------------------------------------------------------------ the set */

struct installed {
	unsigned connector;
	struct sc_profile *p;
};

struct tx_state {
	int active, has_id;
	int32_t id;
	int64_t start;
};

struct sc_profiles {
	struct sc_config cfg;
	unsigned n_connectors;
	struct tx_state *tx;        /* [0..n_connectors]; [0] never active */
	struct installed *v;        /* in installation order */
	size_t n, cap;
};

void sc_config_default(struct sc_config *cfg)
{
	cfg->voltage = 230;
	cfg->phases = 3;
	cfg->max_current = 32;
	cfg->max_stack_level = 100;
	cfg->max_periods = 1024;
	cfg->max_profiles = 100;
	cfg->units = 1u << SC_UNIT_A | 1u << SC_UNIT_W;
}

struct sc_profiles *sc_profiles_new(unsigned n_connectors, const struct sc_config *cfg)
{
	struct sc_profiles *s;

	if (cfg && (!(cfg->voltage > 0) || cfg->phases < 1 || cfg->phases > 3 ||
		    !(cfg->max_current >= 0)))
		return NULL;
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	if (cfg)
		s->cfg = *cfg;
	else
		sc_config_default(&s->cfg);
	s->n_connectors = n_connectors;
	s->tx = calloc((size_t)n_connectors + 1, sizeof *s->tx);
	if (!s->tx) {
		free(s);
		return NULL;
	}
	return s;
}

void sc_profiles_free(struct sc_profiles *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		sc_profile_free(s->v[i].p);
	free(s->v);
	free(s->tx);
	free(s);
}

size_t sc_profiles_count(const struct sc_profiles *s) { return s->n; }

int sc_profiles_foreach(const struct sc_profiles *s,
			int (*fn)(void *arg, unsigned connector, const struct sc_profile *p),
			void *arg)
{
	for (size_t i = 0; i < s->n; i++) {
		int rc = fn(arg, s->v[i].connector, s->v[i].p);
		if (rc)
			return rc;
	}
	return 0;
}

static void remove_at(struct sc_profiles *s, size_t i)
{
	sc_profile_free(s->v[i].p);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
	s->n--;
}

/* What depends on the connector, its transaction and the station's
 * configuration. */
static int check_install(const struct sc_profiles *s, unsigned connector,
			 const struct sc_profile *p, char *why)
{
	const struct tx_state *tx;
	int rc = check_profile(p, why);

	if (rc)
		return rc;
	if (connector > s->n_connectors)
		return fail(why, "connector %u does not exist", connector);
	if (p->purpose == SC_CP_MAX && connector != 0)
		return fail(why, "a ChargePointMaxProfile can only be set on connector 0");
	if (p->purpose == SC_TX) {
		if (connector == 0)
			return fail(why, "a TxProfile can only be set on a connector > 0");
		tx = &s->tx[connector];
		if (!tx->active)
			return fail(why, "no transaction on connector %u", connector);
		if (p->has_transaction_id && tx->has_id && p->transaction_id != tx->id)
			return fail(why, "transaction %d is not the one on connector %u",
				    (int)p->transaction_id, connector);
	}
	if (p->stack_level > s->cfg.max_stack_level)
		return fail(why, "stackLevel %d is above ChargeProfileMaxStackLevel %d",
			    (int)p->stack_level, (int)s->cfg.max_stack_level);
	if (p->n_periods > s->cfg.max_periods)
		return fail(why, "%zu periods are more than ChargingScheduleMaxPeriods %zu",
			    p->n_periods, s->cfg.max_periods);
	if (!(s->cfg.units & 1u << p->unit))
		return fail(why, "chargingRateUnit %s is not allowed", unit_names[p->unit]);
	return 0;
}

static int replaces(const struct installed *e, unsigned connector, const struct sc_profile *p)
{
	return e->p->id == p->id ||
	       (e->connector == connector && e->p->stack_level == p->stack_level &&
		e->p->purpose == p->purpose);
}

int sc_profiles_install(struct sc_profiles *s, unsigned connector, struct sc_profile *p,
			char why[SC_WHY_MAX])
{
	size_t replaced = 0;
	int rc = p ? check_install(s, connector, p, why) : fail(why, "no profile");

	for (size_t i = 0; !rc && i < s->n; i++)
		replaced += replaces(&s->v[i], connector, p);
	if (!rc && s->n - replaced >= s->cfg.max_profiles) {
		if (why)
			snprintf(why, SC_WHY_MAX, "MaxChargingProfilesInstalled (%zu) reached",
				 s->cfg.max_profiles);
		rc = -ENOSPC;
	}
	/* Room first, so that a failure leaves the set as it was. */
	if (!rc && s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct installed *v = realloc(s->v, cap * sizeof *v);
		if (v) {
			s->v = v;
			s->cap = cap;
		} else {
			rc = -ENOMEM;
		}
	}
	if (rc) {
		sc_profile_free(p);
		return rc;
	}
	for (size_t i = s->n; i-- > 0;)
		if (replaces(&s->v[i], connector, p))
			remove_at(s, i);
	s->v[s->n].connector = connector;
	s->v[s->n].p = p;
	s->n++;
	return 0;
}

int sc_clear_filter_from_json(const json_t *req, struct sc_clear_filter *f)
{
	int64_t connector;
	int purpose, rc;

	memset(f, 0, sizeof *f);
	if (!json_is_object(req))
		return -EINVAL;
	if (get_i32(req, "id", &f->id, &f->has_id, NULL) ||
	    get_i32(req, "stackLevel", &f->stack_level, &f->has_stack_level, NULL) ||
	    get_enum(req, "chargingProfilePurpose", purpose_names, 3, 0, &purpose, NULL))
		return -EINVAL;
	rc = read_int(req, "connectorId", INT32_MIN, INT32_MAX, &connector);
	if (rc < 0)
		return -EINVAL;
	f->has_connector = rc;
	f->connector = rc ? connector : 0;
	f->has_purpose = purpose >= 0;
	f->purpose = purpose >= 0 ? (enum sc_purpose)purpose : SC_CP_MAX;
	return 0;
}

static int clear_matches(const struct sc_clear_filter *f, const struct installed *e)
{
	if (f->has_id)
		return e->p->id == f->id;
	return (!f->has_connector || f->connector == (int64_t)e->connector) &&
	       (!f->has_purpose || f->purpose == e->p->purpose) &&
	       (!f->has_stack_level || f->stack_level == e->p->stack_level);
}

size_t sc_profiles_clear(struct sc_profiles *s, const struct sc_clear_filter *f)
{
	size_t cleared = 0;

	for (size_t i = s->n; i-- > 0;) {
		if (clear_matches(f, &s->v[i])) {
			remove_at(s, i);
			cleared++;
		}
	}
	return cleared;
}

int sc_profiles_tx_begin(struct sc_profiles *s, unsigned connector, int64_t start_ms)
{
	if (connector == 0 || connector > s->n_connectors || !sane_time(start_ms))
		return -EINVAL;
	if (s->tx[connector].active)
		return -EBUSY;
	s->tx[connector] = (struct tx_state){ .active = 1, .start = start_ms };
	return 0;
}

int sc_profiles_tx_set_id(struct sc_profiles *s, unsigned connector, int32_t transaction_id)
{
	if (connector == 0 || connector > s->n_connectors)
		return -EINVAL;
	if (!s->tx[connector].active)
		return -ENOENT;
	s->tx[connector].has_id = 1;
	s->tx[connector].id = transaction_id;
	return 0;
}

int sc_profiles_tx_end(struct sc_profiles *s, unsigned connector)
{
	int removed = 0;

	if (connector == 0 || connector > s->n_connectors)
		return -EINVAL;
	if (!s->tx[connector].active)
		return -ENOENT;
	/* A TxProfile ceases to be valid when its transaction ends (7.10). */
	for (size_t i = s->n; i-- > 0;) {
		if (s->v[i].connector == connector && s->v[i].p->purpose == SC_TX) {
			remove_at(s, i);
			removed++;
		}
	}
	s->tx[connector] = (struct tx_state){ 0 };
	return removed;
}

/* --------------------------------------------------------- evaluation */

/* The run of p's schedule that covers t, or the next one: where it starts
 * and how long it lasts (ms; -1: open-ended). Relative profiles start at
 * anchor. A recurring profile restarts every day or week from its
 * startSchedule (not before it), and what its schedule holds beyond one
 * recurrence is not executed (5.16.4). */
static void schedule_run(const struct sc_profile *p, int64_t t, int64_t anchor,
			 int64_t *start, int64_t *len, int64_t *every)
{
	*len = p->duration >= 0 ? (int64_t)p->duration * 1000 : -1;
	*every = 0;
	switch (p->kind) {
	case SC_ABSOLUTE:
		*start = p->start_schedule;
		break;
	case SC_RELATIVE:
		*start = anchor;
		break;
	case SC_RECURRING:
		*every = p->recurrency == SC_WEEKLY ? WEEK_MS : DAY_MS;
		*start = p->start_schedule;
		if (t > p->start_schedule)
			*start += (t - p->start_schedule) / *every * *every;
		if (*len < 0 || *len > *every)
			*len = *every;
		break;
	}
}

static int valid_at(const struct sc_profile *p, int64_t t)
{
	return (p->valid_from == SC_NO_TIME || t >= p->valid_from) &&
	       (p->valid_to == SC_NO_TIME || t < p->valid_to);
}

/* The index of the last period starting at or before offset ms. */
static size_t period_index(const struct sc_profile *p, int64_t offset)
{
	size_t lo = 0, hi = p->n_periods;   /* periods[0].start == 0 */

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if ((int64_t)p->periods[mid].start * 1000 <= offset)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* The period of p in force at t, or NULL. */
static const struct sc_period *period_at(const struct sc_profile *p, int64_t t, int64_t anchor)
{
	int64_t start, len, every;

	if (!valid_at(p, t))
		return NULL;
	schedule_run(p, t, anchor, &start, &len, &every);
	if (t < start || (len >= 0 && t - start >= len))
		return NULL;
	return &p->periods[period_index(p, t - start)];
}

static void consider(int64_t x, int64_t t, int64_t *best)
{
	if (x != SC_NO_TIME && x > t && x < *best)
		*best = x;
}

/* The first instant after t at which p's period in force may change. */
static int64_t next_change(const struct sc_profile *p, int64_t t, int64_t anchor)
{
	int64_t best = INT64_MAX, start, len, every;
	size_t i;

	consider(p->valid_from, t, &best);
	consider(p->valid_to, t, &best);
	schedule_run(p, t, anchor, &start, &len, &every);
	consider(start, t, &best);
	if (t >= start) {
		i = period_index(p, t - start) + 1;
		if (i < p->n_periods)
			consider(start + (int64_t)p->periods[i].start * 1000, t, &best);
	}
	if (len >= 0)
		consider(start + len, t, &best);
	if (every)
		consider(start + every, t, &best);
	return best;
}

/* A limit that takes part in the combination: a period and its profile. */
struct source {
	const struct sc_profile *p;
	const struct sc_period *per;
};

/* The prevailing profile of a purpose on a connector: the highest
 * stackLevel among those in force at t (3.13.2). */
static struct source prevailing(const struct sc_profiles *s, unsigned connector,
				enum sc_purpose purpose, int64_t t, int64_t anchor)
{
	struct source best = { NULL, NULL };

	for (size_t i = 0; i < s->n; i++) {
		const struct sc_profile *p = s->v[i].p;
		const struct sc_period *per;
		if (s->v[i].connector != connector || p->purpose != purpose ||
		    (best.p && p->stack_level <= best.p->stack_level) ||
		    !(per = period_at(p, t, anchor)))
			continue;
		best.p = p;
		best.per = per;
	}
	return best;
}

/* Rounds down to the protocol's 0.1, forgiving float noise (11040 stays
 * 11040, 15.94 becomes 15.9): never report more than a limit allows. */
static double floor_tenth(double x)
{
	double v = x * 10, r = nearbyint(v);
	return (fabs(v - r) < 1e-6 ? r : floor(v)) / 10;
}

static double convert(double limit, enum sc_unit from, enum sc_unit to, double voltage, int phases)
{
	if (from == to)
		return limit;
	return to == SC_UNIT_W ? limit * voltage * phases : limit / (voltage * phases);
}

static int phases_of(const struct sc_profiles *s, const struct source *src)
{
	return src->per->phases ? src->per->phases : s->cfg.phases;
}

/* The combined limit at t (3.13.3): the lowest of the station's maximum and
 * the transaction's limit, compared on the fewest phases either allows. */
static void evaluate(const struct sc_profiles *s, unsigned connector, int64_t t, int64_t anchor,
		     enum sc_unit unit, struct sc_limit *out)
{
	struct source src[2];
	int phases = 0;
	double limit = INFINITY;

	src[0] = prevailing(s, 0, SC_CP_MAX, t, anchor);
	src[1] = (struct source){ NULL, NULL };
	if (connector > 0) {
		/* TxProfile over TxDefaultProfile; a connector's own default
		 * over the station-wide one (3.13.1). */
		src[1] = prevailing(s, connector, SC_TX, t, anchor);
		if (!src[1].p)
			src[1] = prevailing(s, connector, SC_TX_DEFAULT, t, anchor);
		if (!src[1].p)
			src[1] = prevailing(s, 0, SC_TX_DEFAULT, t, anchor);
	}
	for (int i = 0; i < 2; i++)
		if (src[i].p && (!phases || phases_of(s, &src[i]) < phases))
			phases = phases_of(s, &src[i]);
	out->limited = phases != 0;
	if (!out->limited) {
		phases = s->cfg.phases;
		limit = convert(s->cfg.max_current, SC_UNIT_A, unit, s->cfg.voltage, phases);
	}
	for (int i = 0; i < 2; i++) {
		double l;
		if (!src[i].p)
			continue;
		l = convert(src[i].per->limit, src[i].p->unit, unit, s->cfg.voltage, phases);
		if (l < limit)
			limit = l;
	}
	out->limit = floor_tenth(limit);
	out->phases = phases;
}

/* Relative profiles count from the start of the connector's transaction,
 * or from the given instant when there is none. */
static int64_t relative_anchor(const struct sc_profiles *s, unsigned connector, int64_t otherwise)
{
	return connector > 0 && s->tx[connector].active ? s->tx[connector].start : otherwise;
}

int sc_profiles_limit_at(const struct sc_profiles *s, unsigned connector, int64_t t_ms,
			 enum sc_unit unit, struct sc_limit *out)
{
	if (connector > s->n_connectors || !sane_time(t_ms))
		return -EINVAL;
	evaluate(s, connector, t_ms, relative_anchor(s, connector, t_ms), unit, out);
	return 0;
}

/* ---------------------------------------------------------- composite */

/* The earliest instant after t at which a connector's limit may change:
 * only its own profiles and those of connector 0 count. */
static int64_t next_breakpoint(const struct sc_profiles *s, unsigned connector, int64_t t,
			       int64_t anchor)
{
	int64_t best = INT64_MAX;

	for (size_t i = 0; i < s->n; i++) {
		int64_t x;
		if (s->v[i].connector != 0 && s->v[i].connector != connector)
			continue;
		x = next_change(s->v[i].p, t, anchor);
		if (x < best)
			best = x;
	}
	return best;
}

static int same_limit(const struct sc_limit *a, const struct sc_limit *b)
{
	return a->limited == b->limited && a->phases == b->phases && a->limit == b->limit;
}

/* Adds the limit in force from second `at`, merged with its neighbours. */
static int push(struct sc_composite *c, size_t *cap, int32_t at, const struct sc_limit *l)
{
	struct sc_composite_period *last = c->n ? &c->periods[c->n - 1] : NULL;

	if (last && last->start == at) {
		/* Changes within one second: the last one holds. */
		last->l = *l;
		if (c->n > 1 && same_limit(&c->periods[c->n - 2].l, l))
			c->n--;
		return 0;
	}
	if (last && same_limit(&last->l, l))
		return 0;
	if (c->n == SC_COMPOSITE_MAX_PERIODS)
		return -E2BIG;
	if (c->n == *cap) {
		size_t n = *cap ? 2 * *cap : 16;
		struct sc_composite_period *v = realloc(c->periods, n * sizeof *v);
		if (!v)
			return -ENOMEM;
		c->periods = v;
		*cap = n;
	}
	c->periods[c->n].start = at;
	c->periods[c->n].l = *l;
	c->n++;
	return 0;
}

int sc_profiles_composite(const struct sc_profiles *s, unsigned connector, int64_t start_ms,
			  int32_t duration_s, enum sc_unit unit, struct sc_composite *out)
{
	int64_t start, end, anchor, t;
	size_t cap = 0;
	long steps = 0;
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (connector > s->n_connectors || duration_s < 0 || !sane_time(start_ms))
		return -EINVAL;
	start = start_ms - ((start_ms % 1000) + 1000) % 1000;
	end = start + (int64_t)duration_s * 1000;
	anchor = relative_anchor(s, connector, start);
	out->start = start;
	out->duration = duration_s;
	out->unit = unit;
	/* Each breakpoint starts a period at the whole second at or after it;
	 * one that rounds up to the end of the schedule starts none. */
	for (t = start; !rc && (t < end || !out->n); t = next_breakpoint(s, connector, t, anchor)) {
		struct sc_limit l;
		int64_t at = (t - start + 999) / 1000;
		if (out->n && at >= duration_s)
			break;
		if (++steps > MAX_STEPS) {
			rc = -E2BIG;
			break;
		}
		evaluate(s, connector, t, anchor, unit, &l);
		rc = push(out, &cap, (int32_t)at, &l);
	}
	if (rc)
		sc_composite_clear(out);
	return rc;
}

void sc_composite_clear(struct sc_composite *c)
{
	free(c->periods);
	memset(c, 0, sizeof *c);
}

json_t *sc_composite_to_json(const struct sc_composite *c)
{
	json_t *o = json_object(), *list = json_array();
	int bad = !o || !list;

	for (size_t i = 0; !bad && i < c->n; i++) {
		const struct sc_composite_period *per = &c->periods[i];
		if (json_array_append_new(list, period_json(per->start, per->l.limit, per->l.phases)))
			bad = 1;
	}
	if (!bad) {
		set(o, "duration", json_integer(c->duration), &bad);
		set(o, "chargingRateUnit", json_string(unit_names[c->unit]), &bad);
		set(o, "chargingSchedulePeriod", json_incref(list), &bad);
	}
	json_decref(list);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
