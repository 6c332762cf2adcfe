/* Unit tests: OCPP 1.6 Smart Charging (section 3.13 and the errata sheet).
 * Every expected value is worked out by hand from the specification's
 * rules; the comments show the arithmetic. */
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

#include "ocpp/validate.h"
#include "station/smartcharging.h"
#include "util/rfc3339.h"

static int64_t ms(const char *s)
{
	struct ev_timestamp ts;
	assert_int_equal(rfc3339_parse(s, &ts), 0);
	return ts.unix_ms;
}

/* JSON written with single quotes, for legibility. */
__attribute__((format(printf, 1, 0)))
static json_t *json_text(const char *fmt, va_list ap)
{
	char buf[4096];
	json_error_t err;
	json_t *j;

	vsnprintf(buf, sizeof buf, fmt, ap);
	for (char *p = buf; *p; p++)
		if (*p == '\'')
			*p = '"';
	j = json_loads(buf, 0, &err);
	if (!j)
		fail_msg("bad test JSON: %s: %s", err.text, buf);
	return j;
}

__attribute__((format(printf, 1, 2)))
static json_t *js(const char *fmt, ...)
{
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	j = json_text(fmt, ap);
	va_end(ap);
	return j;
}

/* Parses a profile; fails the test if it does not parse. */
__attribute__((format(printf, 1, 2)))
static struct sc_profile *prof(const char *fmt, ...)
{
	struct sc_profile *p = NULL;
	char why[SC_WHY_MAX] = "";
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	j = json_text(fmt, ap);
	va_end(ap);
	if (sc_profile_from_json(j, &p, why))
		fail_msg("profile refused: %s", why);
	json_decref(j);
	return p;
}

/* Parses a profile that must be refused, with a reason containing `want`. */
__attribute__((format(printf, 2, 3)))
static void refused(const char *want, const char *fmt, ...)
{
	struct sc_profile *p = NULL;
	char why[SC_WHY_MAX] = "";
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	j = json_text(fmt, ap);
	va_end(ap);
	assert_int_equal(sc_profile_from_json(j, &p, why), -EINVAL);
	assert_null(p);
	if (!strstr(why, want))
		fail_msg("reason '%s' does not mention '%s'", why, want);
	json_decref(j);
}

static int install(struct sc_profiles *s, unsigned connector, struct sc_profile *p)
{
	return sc_profiles_install(s, connector, p, NULL);
}

/* Builders for the profiles most tests need. */
static struct sc_profile *absolute(int id, int stack, const char *purpose, const char *start,
				   int duration, const char *periods)
{
	char dur[32] = "";
	if (duration >= 0)
		snprintf(dur, sizeof dur, "'duration':%d,", duration);
	return prof("{'chargingProfileId':%d,'stackLevel':%d,'chargingProfilePurpose':'%s',"
		    "'chargingProfileKind':'Absolute','chargingSchedule':{'startSchedule':'%s',%s"
		    "'chargingRateUnit':'A','chargingSchedulePeriod':[%s]}}",
		    id, stack, purpose, start, dur, periods);
}

static struct sc_profile *relative(int id, int stack, const char *purpose, int duration,
				   const char *periods)
{
	char dur[32] = "";
	if (duration >= 0)
		snprintf(dur, sizeof dur, "'duration':%d,", duration);
	return prof("{'chargingProfileId':%d,'stackLevel':%d,'chargingProfilePurpose':'%s',"
		    "'chargingProfileKind':'Relative','chargingSchedule':{%s"
		    "'chargingRateUnit':'A','chargingSchedulePeriod':[%s]}}",
		    id, stack, purpose, dur, periods);
}

/* A profile that always allows `amps` from 2000 on, for stacking under. */
static struct sc_profile *flat(int id, int stack, const char *purpose, double amps)
{
	char per[64];
	snprintf(per, sizeof per, "{'startPeriod':0,'limit':%.1f}", amps);
	return absolute(id, stack, purpose, "2000-01-01T00:00:00Z", -1, per);
}

struct exp {
	int32_t start;
	double limit;
	int phases;
	int unlimited;
};

static void expect_composite(const struct sc_profiles *s, unsigned connector, int64_t start,
			     int32_t duration, enum sc_unit unit, const struct exp *e, size_t n)
{
	struct sc_composite c;

	assert_int_equal(sc_profiles_composite(s, connector, start, duration, unit, &c), 0);
	assert_int_equal(c.start, start - start % 1000);
	assert_int_equal(c.duration, duration);
	if (c.n != n) {
		for (size_t i = 0; i < c.n; i++)
			print_message("  got %d: %.1f x%d\n", (int)c.periods[i].start,
				      c.periods[i].l.limit, c.periods[i].l.phases);
		fail_msg("%zu periods, wanted %zu", c.n, n);
	}
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(c.periods[i].start, e[i].start);
		assert_float_equal(c.periods[i].l.limit, e[i].limit, 1e-9);
		assert_int_equal(c.periods[i].l.phases, e[i].phases);
		assert_int_equal(c.periods[i].l.limited, !e[i].unlimited);
	}
	sc_composite_clear(&c);
}

/* Expected periods: on 3 phases, on 1, or the rating when nothing limits. */
#define L(start, limit) { start, limit, 3, 0 }
#define L1(start, limit) { start, limit, 1, 0 }
#define NO_LIMIT(start, limit) { start, limit, 3, 1 }

#define EXPECT(s, conn, start, dur, unit, ...)                                        \
	expect_composite(s, conn, start, dur, unit, (const struct exp[]){ __VA_ARGS__ }, \
			 sizeof((const struct exp[]){ __VA_ARGS__ }) / sizeof(struct exp))

static double limit_at(const struct sc_profiles *s, unsigned connector, const char *when,
		       enum sc_unit unit)
{
	struct sc_limit l;
	assert_int_equal(sc_profiles_limit_at(s, connector, ms(when), unit, &l), 0);
	return l.limited ? l.limit : -1;
}

/* ---------------------------------------------------------------- parsing */

/* The daily default profile of 3.13.7: 11 kW, 6 kW from 08:00 to 20:00. */
#define SPEC_EXAMPLE                                                                  \
	"{'chargingProfileId':100,'stackLevel':0,'chargingProfilePurpose':'TxDefaultProfile'," \
	"'chargingProfileKind':'Recurring','recurrencyKind':'Daily','chargingSchedule':{" \
	"'duration':86400,'startSchedule':'2013-01-01T00:00:00Z','chargingRateUnit':'W'," \
	"'chargingSchedulePeriod':[{'startPeriod':0,'limit':11000,'numberPhases':3},"   \
	"{'startPeriod':28800,'limit':6000,'numberPhases':3},"                           \
	"{'startPeriod':72000,'limit':11000,'numberPhases':3}]}}"

static void test_parse_spec_example(void **state)
{
	struct sc_profile *p = prof(SPEC_EXAMPLE);
	struct ocpp_violation v;
	json_t *out, *want, *req;
	(void)state;

	assert_int_equal(p->id, 100);
	assert_int_equal(p->stack_level, 0);
	assert_int_equal(p->purpose, SC_TX_DEFAULT);
	assert_int_equal(p->kind, SC_RECURRING);
	assert_int_equal(p->recurrency, SC_DAILY);
	assert_false(p->has_transaction_id);
	assert_true(p->valid_from == SC_NO_TIME && p->valid_to == SC_NO_TIME);
	assert_int_equal(p->duration, 86400);
	assert_int_equal(p->start_schedule, ms("2013-01-01T00:00:00Z"));
	assert_int_equal(p->unit, SC_UNIT_W);
	assert_int_equal(p->n_periods, 3);
	assert_int_equal(p->periods[1].start, 28800);
	assert_float_equal(p->periods[1].limit, 6000, 0);
	assert_int_equal(p->periods[2].phases, 3);

	/* Back to JSON: the same profile, timestamps in our format. */
	out = sc_profile_to_json(p);
	want = js("{'chargingProfileId':100,'stackLevel':0,'chargingProfilePurpose':'TxDefaultProfile',"
		  "'chargingProfileKind':'Recurring','recurrencyKind':'Daily','chargingSchedule':{"
		  "'duration':86400,'startSchedule':'2013-01-01T00:00:00.000Z','chargingRateUnit':'W',"
		  "'chargingSchedulePeriod':[{'startPeriod':0,'limit':11000.0,'numberPhases':3},"
		  "{'startPeriod':28800,'limit':6000.0,'numberPhases':3},"
		  "{'startPeriod':72000,'limit':11000.0,'numberPhases':3}]}}");
	assert_true(json_equal(out, want));
	/* ... which is a valid SetChargingProfile.req again. */
	req = json_pack("{s:i,s:O}", "connectorId", 0, "csChargingProfiles", out);
	assert_int_equal(ocpp_validate_message(ocpp_schemas(OCPP_V16), "SetChargingProfile", 0,
					       req, &v), 0);
	json_decref(req);
	json_decref(want);
	json_decref(out);
	sc_profile_free(p);
}

static void test_parse_optional_fields(void **state)
{
	struct sc_profile *p, *d;
	json_t *out;
	(void)state;

	/* Integral reals are integers (a JavaScript peer writes 2.0). */
	p = prof("{'chargingProfileId':7,'transactionId':42,'stackLevel':2.0,"
		 "'chargingProfilePurpose':'TxProfile','chargingProfileKind':'Relative',"
		 "'validFrom':'2024-03-01T10:00:00+01:00','validTo':'2024-03-01T12:00:00Z',"
		 "'chargingSchedule':{'chargingRateUnit':'A','minChargingRate':6.5,"
		 "'chargingSchedulePeriod':[{'startPeriod':0,'limit':16.5,'numberPhases':1}]}}");
	assert_int_equal(p->stack_level, 2);
	assert_true(p->has_transaction_id);
	assert_int_equal(p->transaction_id, 42);
	assert_int_equal(p->valid_from, ms("2024-03-01T09:00:00Z"));
	assert_int_equal(p->valid_to, ms("2024-03-01T12:00:00Z"));
	assert_int_equal(p->duration, -1);
	assert_true(p->start_schedule == SC_NO_TIME);
	assert_true(p->has_min_rate);
	assert_float_equal(p->min_rate, 6.5, 0);
	assert_int_equal(p->periods[0].phases, 1);

	d = sc_profile_dup(p);
	sc_profile_free(p);
	out = sc_profile_to_json(d);
	assert_int_equal(json_integer_value(json_object_get(out, "transactionId")), 42);
	assert_string_equal(json_string_value(json_object_get(out, "validFrom")),
			    "2024-03-01T09:00:00.000Z");
	assert_null(json_object_get(json_object_get(out, "chargingSchedule"), "duration"));
	assert_null(json_object_get(json_object_get(out, "chargingSchedule"), "startSchedule"));
	assert_float_equal(json_real_value(json_object_get(json_object_get(out, "chargingSchedule"),
							   "minChargingRate")), 6.5, 0);
	json_decref(out);
	sc_profile_free(d);
}

#define HEAD(kind)                                                                    \
	"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxDefaultProfile'," \
	"'chargingProfileKind':'" kind "',"
#define ABS_SCHED(periods) "'chargingSchedule':{'startSchedule':'2024-01-01T00:00:00Z'," \
	"'chargingRateUnit':'A','chargingSchedulePeriod':[" periods "]}}"
#define P0 "{'startPeriod':0,'limit':16}"

static void test_parse_rejections(void **state)
{
	struct sc_profile *p = (struct sc_profile *)1;
	(void)state;

	/* Periods: the first starts at 0 (errata 3.45), then strictly later. */
	refused("first period must start at 0",
		HEAD("Absolute") ABS_SCHED("{'startPeriod':60,'limit':16}"));
	refused("[2]: startPeriod must increase",
		HEAD("Absolute") ABS_SCHED(P0 ",{'startPeriod':100,'limit':8},{'startPeriod':100,'limit':6}"));
	refused("[1]: startPeriod must increase",
		HEAD("Absolute") ABS_SCHED(P0 ",{'startPeriod':-5,'limit':8}"));
	refused("no periods", HEAD("Absolute") ABS_SCHED(""));
	refused("limit must be from 0 to 1e+09",
		HEAD("Absolute") ABS_SCHED("{'startPeriod':0,'limit':-1}"));
	refused("limit must be from 0 to 1e+09",
		HEAD("Absolute") ABS_SCHED("{'startPeriod':0,'limit':1e300}"));
	refused("numberPhases must be 1, 2 or 3",
		HEAD("Absolute") ABS_SCHED("{'startPeriod':0,'limit':16,'numberPhases':4}"));
	refused("numberPhases must be 1, 2 or 3",
		HEAD("Absolute") ABS_SCHED("{'startPeriod':0,'limit':16,'numberPhases':0}"));
	refused("startPeriod: not a 32-bit integer",
		HEAD("Absolute") ABS_SCHED("{'startPeriod':1.5,'limit':16}"));
	refused("limit: not a number", HEAD("Absolute") ABS_SCHED("{'startPeriod':0,'limit':'16'}"));
	refused("stackLevel must not be negative",
		"{'chargingProfileId':1,'stackLevel':-1,'chargingProfilePurpose':'TxDefaultProfile',"
		"'chargingProfileKind':'Absolute'," ABS_SCHED(P0));
	/* transactionId belongs to TxProfiles only (7.8). */
	refused("transactionId is only allowed on a TxProfile",
		"{'chargingProfileId':1,'transactionId':5,'stackLevel':0,"
		"'chargingProfilePurpose':'TxDefaultProfile','chargingProfileKind':'Absolute',"
		ABS_SCHED(P0));
	refused("validTo must be after validFrom",
		HEAD("Absolute") "'validFrom':'2024-01-02T00:00:00Z','validTo':'2024-01-02T00:00:00Z',"
		ABS_SCHED(P0));
	/* Recurring: needs its kind and a startSchedule to recur from (7.37);
	 * recurrencyKind on anything else is refused (errata 3.56). */
	refused("needs a recurrencyKind", HEAD("Recurring") ABS_SCHED(P0));
	refused("recurring profile needs a startSchedule",
		HEAD("Recurring") "'recurrencyKind':'Daily','chargingSchedule':{'chargingRateUnit':'A',"
		"'chargingSchedulePeriod':[" P0 "]}}");
	refused("recurrencyKind is only allowed on a recurring profile",
		HEAD("Absolute") "'recurrencyKind':'Weekly'," ABS_SCHED(P0));
	/* Absolute: periods count from a point in the schedule (7.9). */
	refused("absolute profile needs a startSchedule",
		HEAD("Absolute") "'chargingSchedule':{'chargingRateUnit':'A',"
		"'chargingSchedulePeriod':[" P0 "]}}");
	refused("relative profile must not have a startSchedule", HEAD("Relative") ABS_SCHED(P0));
	refused("duration must not be negative",
		HEAD("Relative") "'chargingSchedule':{'duration':-1,'chargingRateUnit':'A',"
		"'chargingSchedulePeriod':[" P0 "]}}");
	refused("minChargingRate must be from 0",
		HEAD("Relative") "'chargingSchedule':{'minChargingRate':-0.1,'chargingRateUnit':'A',"
		"'chargingSchedulePeriod':[" P0 "]}}");
	/* What the schema would have caught is still refused, never a crash. */
	refused("chargingProfilePurpose: not a known value",
		"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'Fast',"
		"'chargingProfileKind':'Absolute'," ABS_SCHED(P0));
	refused("chargingProfileId: missing", "{'stackLevel':0}");
	refused("chargingSchedule: missing", HEAD("Relative") "'x':1}");
	refused("not an object", "[1]");
	assert_int_equal(sc_profile_from_json(NULL, &p, NULL), -EINVAL);
	assert_null(p);
}

static void test_names(void **state)
{
	enum sc_purpose purpose;
	enum sc_unit unit;
	(void)state;

	assert_int_equal(sc_purpose_parse("TxDefaultProfile", &purpose), 0);
	assert_int_equal(purpose, SC_TX_DEFAULT);
	assert_string_equal(sc_purpose_name(SC_CP_MAX), "ChargePointMaxProfile");
	assert_int_equal(sc_purpose_parse("txprofile", &purpose), -EINVAL);  /* case matters */
	assert_int_equal(sc_unit_parse("W", &unit), 0);
	assert_int_equal(unit, SC_UNIT_W);
	assert_string_equal(sc_unit_name(SC_UNIT_A), "A");
	assert_int_equal(sc_unit_parse("kW", &unit), -EINVAL);
	assert_int_equal(sc_unit_parse(NULL, &unit), -EINVAL);
}

static void test_remote_start_profile(void **state)
{
	char why[SC_WHY_MAX];
	struct sc_profile *p;
	(void)state;

	/* 5.16.2: purpose TxProfile and no transactionId. */
	p = relative(1, 0, "TxProfile", -1, P0);
	assert_int_equal(sc_profile_check_remote_start(p, why), 0);
	sc_profile_free(p);
	p = prof("{'chargingProfileId':1,'transactionId':9,'stackLevel':0,"
		 "'chargingProfilePurpose':'TxProfile',"
		 "'chargingProfileKind':'Relative','chargingSchedule':{'chargingRateUnit':'A',"
		 "'chargingSchedulePeriod':[" P0 "]}}");
	assert_int_equal(sc_profile_check_remote_start(p, why), -EINVAL);
	assert_non_null(strstr(why, "transactionId"));
	sc_profile_free(p);
	p = relative(1, 0, "TxDefaultProfile", -1, P0);
	assert_int_equal(sc_profile_check_remote_start(p, why), -EINVAL);
	assert_non_null(strstr(why, "TxProfile"));
	sc_profile_free(p);
}

/* ----------------------------------------------------------- installation */

struct seen {
	int n;
	unsigned connector[16];
	int id[16];
	int stop_after;
};

static int collect(void *arg, unsigned connector, const struct sc_profile *p)
{
	struct seen *s = arg;
	s->connector[s->n] = connector;
	s->id[s->n] = p->id;
	s->n++;
	return s->n == s->stop_after ? 99 : 0;
}

/* The installed profiles as "connector:id ..." in installation order. */
static const char *listing(const struct sc_profiles *s)
{
	static char buf[256];
	struct seen seen = { 0 };
	size_t len = 0;

	buf[0] = '\0';
	assert_int_equal(sc_profiles_foreach(s, collect, &seen), 0);
	for (int i = 0; i < seen.n; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%u:%d", i ? " " : "",
					seen.connector[i], seen.id[i]);
	return buf;
}

static void test_install_checks(void **state)
{
	struct sc_profiles *s = sc_profiles_new(2, NULL);
	struct sc_config cfg;
	char why[SC_WHY_MAX];
	(void)state;

	/* ChargePointMaxProfile only on connector 0 (3.13.1). */
	assert_int_equal(sc_profiles_install(s, 1, flat(1, 0, "ChargePointMaxProfile", 32), why), -EINVAL);
	assert_non_null(strstr(why, "connector 0"));
	assert_int_equal(install(s, 0, flat(1, 0, "ChargePointMaxProfile", 32)), 0);
	/* TxProfile only on a connector > 0, and only in a transaction. */
	assert_int_equal(sc_profiles_install(s, 0, flat(2, 0, "TxProfile", 16), why), -EINVAL);
	assert_non_null(strstr(why, "connector > 0"));
	assert_int_equal(sc_profiles_install(s, 1, flat(2, 0, "TxProfile", 16), why), -EINVAL);
	assert_non_null(strstr(why, "no transaction on connector 1"));
	assert_int_equal(sc_profiles_install(s, 3, flat(3, 0, "TxDefaultProfile", 16), why), -EINVAL);
	assert_non_null(strstr(why, "connector 3 does not exist"));

	/* In a transaction whose id is known, a TxProfile naming another
	 * transaction is refused; one naming it, or none, is taken. */
	assert_int_equal(sc_profiles_tx_begin(s, 1, ms("2024-03-01T10:00:00Z")), 0);
	assert_int_equal(sc_profiles_tx_set_id(s, 1, 42), 0);
	assert_int_equal(sc_profiles_install(s, 1, prof(
		"{'chargingProfileId':4,'transactionId':41,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
		"'chargingProfileKind':'Relative','chargingSchedule':{'chargingRateUnit':'A',"
		"'chargingSchedulePeriod':[" P0 "]}}"), why), -EINVAL);
	assert_non_null(strstr(why, "transaction 41"));
	assert_int_equal(install(s, 1, prof(
		"{'chargingProfileId':4,'transactionId':42,'stackLevel':0,'chargingProfilePurpose':'TxProfile',"
		"'chargingProfileKind':'Relative','chargingSchedule':{'chargingRateUnit':'A',"
		"'chargingSchedulePeriod':[" P0 "]}}")), 0);
	assert_int_equal(install(s, 1, relative(5, 1, "TxProfile", -1, P0)), 0);
	assert_int_equal(sc_profiles_count(s), 3);
	/* Transactions only on real connectors, one at a time. */
	assert_int_equal(sc_profiles_tx_begin(s, 1, 0), -EBUSY);
	assert_int_equal(sc_profiles_tx_begin(s, 0, 0), -EINVAL);
	assert_int_equal(sc_profiles_tx_begin(s, 3, 0), -EINVAL);
	assert_int_equal(sc_profiles_tx_set_id(s, 2, 1), -ENOENT);
	assert_int_equal(sc_profiles_tx_end(s, 2), -ENOENT);
	sc_profiles_free(s);

	/* The station's configuration keys. */
	sc_config_default(&cfg);
	cfg.max_stack_level = 3;
	cfg.max_periods = 2;
	cfg.max_profiles = 2;
	cfg.units = 1u << SC_UNIT_A;
	s = sc_profiles_new(1, &cfg);
	assert_int_equal(sc_profiles_install(s, 0, flat(1, 4, "TxDefaultProfile", 16), why), -EINVAL);
	assert_non_null(strstr(why, "ChargeProfileMaxStackLevel"));
	assert_int_equal(sc_profiles_install(s, 0, absolute(1, 0, "TxDefaultProfile",
		"2024-01-01T00:00:00Z", -1,
		P0 ",{'startPeriod':10,'limit':8},{'startPeriod':20,'limit':6}"), why), -EINVAL);
	assert_non_null(strstr(why, "ChargingScheduleMaxPeriods"));
	assert_int_equal(sc_profiles_install(s, 0, prof(HEAD("Absolute")
		"'chargingSchedule':{'startSchedule':'2024-01-01T00:00:00Z','chargingRateUnit':'W',"
		"'chargingSchedulePeriod':[" P0 "]}}"), why), -EINVAL);
	assert_non_null(strstr(why, "chargingRateUnit W"));
	assert_int_equal(install(s, 0, flat(1, 0, "TxDefaultProfile", 16)), 0);
	assert_int_equal(install(s, 0, flat(2, 1, "TxDefaultProfile", 16)), 0);
	assert_int_equal(sc_profiles_install(s, 0, flat(3, 2, "TxDefaultProfile", 16), why), -ENOSPC);
	/* A replacement does not need room. */
	assert_int_equal(install(s, 0, flat(3, 1, "TxDefaultProfile", 10)), 0);
	assert_string_equal(listing(s), "0:1 0:3");
	sc_profiles_free(s);

	/* A profile built by hand gets the parser's checks too. */
	s = sc_profiles_new(1, NULL);
	struct sc_profile *p = flat(1, 0, "TxDefaultProfile", 16);
	p->periods[0].start = 5;
	assert_int_equal(sc_profiles_install(s, 1, p, why), -EINVAL);
	assert_non_null(strstr(why, "first period must start at 0"));
	p = flat(1, 0, "TxDefaultProfile", 16);
	p->n_periods = 0;
	assert_int_equal(sc_profiles_install(s, 1, p, why), -EINVAL);
	assert_int_equal(sc_profiles_install(s, 1, NULL, why), -EINVAL);
	assert_int_equal(sc_profiles_count(s), 0);
	sc_profiles_free(s);

	/* Settings that make no sense. */
	sc_config_default(&cfg);
	cfg.phases = 4;
	assert_null(sc_profiles_new(1, &cfg));
	sc_config_default(&cfg);
	cfg.voltage = 0;
	assert_null(sc_profiles_new(1, &cfg));
}

static void test_replacement(void **state)
{
	struct sc_profiles *s = sc_profiles_new(2, NULL);
	struct seen seen = { .stop_after = 2 };
	(void)state;

	assert_int_equal(install(s, 0, flat(1, 0, "TxDefaultProfile", 16)), 0);
	assert_int_equal(install(s, 0, flat(2, 1, "TxDefaultProfile", 16)), 0);
	assert_string_equal(listing(s), "0:1 0:2");
	/* Same stackLevel and purpose on the same connector: replaced
	 * (3.13.2, 5.16.3). */
	assert_int_equal(install(s, 0, flat(3, 0, "TxDefaultProfile", 10)), 0);
	assert_string_equal(listing(s), "0:2 0:3");
	/* On another connector it only replaces it there (3.13.1). */
	assert_int_equal(install(s, 1, flat(4, 0, "TxDefaultProfile", 10)), 0);
	assert_string_equal(listing(s), "0:2 0:3 1:4");
	/* Same stackLevel, other purpose: both stay. */
	assert_int_equal(install(s, 0, flat(5, 0, "ChargePointMaxProfile", 40)), 0);
	assert_string_equal(listing(s), "0:2 0:3 1:4 0:5");
	/* Same id: replaced, whatever else differs. */
	assert_int_equal(install(s, 0, flat(2, 7, "ChargePointMaxProfile", 40)), 0);
	assert_string_equal(listing(s), "0:3 1:4 0:5 0:2");
	/* One install may replace two: id 3 and the stack 7 CP max (id 2). */
	assert_int_equal(install(s, 0, flat(3, 7, "ChargePointMaxProfile", 30)), 0);
	assert_string_equal(listing(s), "1:4 0:5 0:3");
	/* A refused profile replaces nothing. */
	assert_int_equal(install(s, 2, flat(3, 7, "ChargePointMaxProfile", 30)), -EINVAL);
	assert_string_equal(listing(s), "1:4 0:5 0:3");
	/* foreach stops at the first non-zero answer. */
	assert_int_equal(sc_profiles_foreach(s, collect, &seen), 99);
	assert_int_equal(seen.n, 2);
	sc_profiles_free(s);
}

static size_t clear(struct sc_profiles *s, const char *req)
{
	struct sc_clear_filter f;
	json_t *j = js("%s", req);
	struct ocpp_violation v;

	assert_int_equal(ocpp_validate_message(ocpp_schemas(OCPP_V16), "ClearChargingProfile", 0,
					       j, &v), 0);
	assert_int_equal(sc_clear_filter_from_json(j, &f), 0);
	json_decref(j);
	return sc_profiles_clear(s, &f);
}

static void test_clear(void **state)
{
	struct sc_profiles *s = sc_profiles_new(2, NULL);
	struct sc_clear_filter f;
	json_t *bad;
	(void)state;

	assert_int_equal(install(s, 0, flat(1, 0, "ChargePointMaxProfile", 40)), 0);
	assert_int_equal(install(s, 0, flat(2, 0, "TxDefaultProfile", 32)), 0);
	assert_int_equal(install(s, 0, flat(3, 1, "TxDefaultProfile", 16)), 0);
	assert_int_equal(install(s, 1, flat(4, 0, "TxDefaultProfile", 20)), 0);
	assert_int_equal(install(s, 2, flat(5, 1, "TxDefaultProfile", 10)), 0);
	assert_int_equal(sc_profiles_tx_begin(s, 2, 0), 0);
	assert_int_equal(install(s, 2, flat(6, 0, "TxProfile", 8)), 0);

	/* With an id the other fields are ignored (errata 3.26). */
	assert_int_equal(clear(s, "{'id':4,'connectorId':2,'stackLevel':9}"), 1);
	assert_string_equal(listing(s), "0:1 0:2 0:3 2:5 2:6");
	assert_int_equal(clear(s, "{'id':99}"), 0);
	/* Otherwise every field given must match (logical AND). */
	assert_int_equal(clear(s, "{'connectorId':0,'chargingProfilePurpose':'TxDefaultProfile'}"), 2);
	assert_string_equal(listing(s), "0:1 2:5 2:6");
	assert_int_equal(clear(s, "{'connectorId':1}"), 0);
	assert_int_equal(clear(s, "{'stackLevel':1,'chargingProfilePurpose':'TxProfile'}"), 0);
	assert_int_equal(clear(s, "{'stackLevel':1}"), 1);
	assert_string_equal(listing(s), "0:1 2:6");
	assert_int_equal(clear(s, "{'chargingProfilePurpose':'TxProfile'}"), 1);
	/* No field at all: everything. */
	assert_int_equal(install(s, 1, flat(7, 3, "TxDefaultProfile", 20)), 0);
	assert_int_equal(clear(s, "{}"), 2);
	assert_int_equal(sc_profiles_count(s), 0);

	bad = js("{'chargingProfilePurpose':'Slow'}");
	assert_int_equal(sc_clear_filter_from_json(bad, &f), -EINVAL);
	json_decref(bad);
	bad = js("{'connectorId':'1'}");
	assert_int_equal(sc_clear_filter_from_json(bad, &f), -EINVAL);
	json_decref(bad);
	sc_profiles_free(s);
}

static void test_tx_end_removes_tx_profiles(void **state)
{
	struct sc_profiles *s = sc_profiles_new(2, NULL);
	(void)state;

	assert_int_equal(sc_profiles_tx_begin(s, 1, 0), 0);
	assert_int_equal(sc_profiles_tx_begin(s, 2, 0), 0);
	assert_int_equal(install(s, 1, flat(1, 0, "TxProfile", 10)), 0);
	assert_int_equal(install(s, 1, flat(2, 1, "TxProfile", 12)), 0);
	assert_int_equal(install(s, 2, flat(3, 0, "TxProfile", 14)), 0);
	assert_int_equal(install(s, 1, flat(4, 0, "TxDefaultProfile", 16)), 0);
	/* "A profile with this purpose SHALL cease to be valid when the
	 * transaction terminates" (7.10): only connector 1's go. */
	assert_int_equal(sc_profiles_tx_end(s, 1), 2);
	assert_string_equal(listing(s), "2:3 1:4");
	assert_int_equal(sc_profiles_tx_end(s, 1), -ENOENT);
	/* And no new one until the next transaction. */
	assert_int_equal(install(s, 1, flat(5, 0, "TxProfile", 10)), -EINVAL);
	assert_float_equal(limit_at(s, 1, "2024-01-01T00:00:00Z", SC_UNIT_A), 16, 0);
	assert_float_equal(limit_at(s, 2, "2024-01-01T00:00:00Z", SC_UNIT_A), 14, 0);
	sc_profiles_free(s);
}

/* ---------------------------------------------------- composite schedules */

static void test_stacking(void **state)
{
	struct sc_profiles *s = sc_profiles_new(1, NULL);
	int64_t t = ms("2024-03-01T10:00:00Z");
	(void)state;

	/* Stack 0: 16 A. Stack 1 from 11:00 for one hour: 10 A, 6 A from
	 * 11:30. The highest stack level in force prevails (3.13.2); when
	 * stack 1's duration ends, stack 0 is back (errata 3.43). */
	assert_int_equal(install(s, 0, flat(1, 0, "TxDefaultProfile", 16)), 0);
	assert_int_equal(install(s, 0, absolute(2, 1, "TxDefaultProfile", "2024-03-01T11:00:00Z", 3600,
		"{'startPeriod':0,'limit':10},{'startPeriod':1800,'limit':6}")), 0);
	EXPECT(s, 1, t, 4 * 3600, SC_UNIT_A,
	       L(0, 16), L(3600, 10), L(5400, 6), L(7200, 16));
	/* Before its startSchedule an absolute profile is not in force. */
	assert_float_equal(limit_at(s, 1, "2024-03-01T10:59:59Z", SC_UNIT_A), 16, 0);
	assert_float_equal(limit_at(s, 1, "2024-03-01T11:00:00Z", SC_UNIT_A), 10, 0);
	assert_float_equal(limit_at(s, 1, "2024-03-01T11:59:59.999Z", SC_UNIT_A), 6, 0);
	assert_float_equal(limit_at(s, 1, "2024-03-01T12:00:00Z", SC_UNIT_A), 16, 0);

	/* Stack 2 without a duration from 12:30: the last period lasts for
	 * ever, so stack 0 never comes back (errata 3.7). */
	assert_int_equal(install(s, 0, absolute(3, 2, "TxDefaultProfile", "2024-03-01T12:30:00Z", -1,
		"{'startPeriod':0,'limit':8}")), 0);
	EXPECT(s, 1, t, 4 * 3600, SC_UNIT_A,
	       L(0, 16), L(3600, 10), L(5400, 6), L(7200, 16), L(9000, 8));
	assert_float_equal(limit_at(s, 1, "2030-01-01T00:00:00Z", SC_UNIT_A), 8, 0);
	sc_profiles_free(s);
}

static void test_validity_window(void **state)
{
	struct sc_profiles *s = sc_profiles_new(1, NULL);
	(void)state;

	/* Stack 1 (10 A) is valid from 10:15 up to 10:45 only: validFrom is
	 * the first instant in force, validTo the first one not. */
	assert_int_equal(install(s, 0, flat(1, 0, "TxDefaultProfile", 32)), 0);
	assert_int_equal(install(s, 0, prof(
		"{'chargingProfileId':2,'stackLevel':1,'chargingProfilePurpose':'TxDefaultProfile',"
		"'chargingProfileKind':'Absolute','validFrom':'2024-03-01T10:15:00Z',"
		"'validTo':'2024-03-01T10:45:00Z'," ABS_SCHED("{'startPeriod':0,'limit':10}"))), 0);
	EXPECT(s, 1, ms("2024-03-01T10:00:00Z"), 3600, SC_UNIT_A, L(0, 32), L(900, 10), L(2700, 32));
	assert_float_equal(limit_at(s, 1, "2024-03-01T10:14:59.999Z", SC_UNIT_A), 32, 0);
	assert_float_equal(limit_at(s, 1, "2024-03-01T10:15:00Z", SC_UNIT_A), 10, 0);
	assert_float_equal(limit_at(s, 1, "2024-03-01T10:44:59.999Z", SC_UNIT_A), 10, 0);
	assert_float_equal(limit_at(s, 1, "2024-03-01T10:45:00Z", SC_UNIT_A), 32, 0);

	/* An update with the same stackLevel and purpose but a validFrom in
	 * the future replaces it at once; until validFrom the default (stack 0)
	 * applies (3.13.2). */
	assert_int_equal(install(s, 0, prof(
		"{'chargingProfileId':3,'stackLevel':1,'chargingProfilePurpose':'TxDefaultProfile',"
		"'chargingProfileKind':'Absolute','validFrom':'2024-03-01T11:00:00Z',"
		ABS_SCHED("{'startPeriod':0,'limit':12}"))), 0);
	EXPECT(s, 1, ms("2024-03-01T10:00:00Z"), 7200, SC_UNIT_A, L(0, 32), L(3600, 12));
	sc_profiles_free(s);
}

static void test_recurring_daily_spec_example(void **state)
{
	struct sc_profiles *s = sc_profiles_new(1, NULL);
	(void)state;

	/* 3.13.7: 11 kW, 6 kW from 08:00 to 20:00, every day from 2013-01-01. */
	assert_int_equal(install(s, 0, prof(SPEC_EXAMPLE)), 0);
	/* From 19:00 for six hours: 6 kW, 11 kW from 20:00; at midnight the
	 * schedule restarts with 11 kW, the same limit, so no new period. */
	EXPECT(s, 1, ms("2024-06-15T19:00:00Z"), 6 * 3600, SC_UNIT_W, L(0, 6000), L(3600, 11000));
	EXPECT(s, 1, ms("2024-06-16T07:00:00Z"), 2 * 3600, SC_UNIT_W, L(0, 11000), L(3600, 6000));
	/* In amperes per phase on 3 phases at 230 V (7.12):
	 * 6000 / (230 * 3) = 8.69.. -> 8.6; 11000 / 690 = 15.94.. -> 15.9. */
	EXPECT(s, 1, ms("2024-06-15T19:00:00Z"), 2 * 3600, SC_UNIT_A, L(0, 8.6), L(3600, 15.9));
	sc_profiles_free(s);
}

static void test_recurring_daily_across_midnight(void **state)
{
	struct sc_profiles *s = sc_profiles_new(1, NULL);
	(void)state;

	/* Every day from 22:00 for 8 hours: 10 A, 16 A from midnight (7200 s
	 * in); then back to stack 0's 32 A until 22:00 (errata 3.43). */
	assert_int_equal(install(s, 1, flat(1, 0, "TxDefaultProfile", 32)), 0);
	assert_int_equal(install(s, 1, prof(
		"{'chargingProfileId':2,'stackLevel':1,'chargingProfilePurpose':'TxDefaultProfile',"
		"'chargingProfileKind':'Recurring','recurrencyKind':'Daily','chargingSchedule':{"
		"'startSchedule':'2024-01-01T22:00:00Z','duration':28800,'chargingRateUnit':'A',"
		"'chargingSchedulePeriod':[{'startPeriod':0,'limit':10},{'startPeriod':7200,'limit':16}]}}")), 0);
	/* 23:00 is one hour into the run that began at 22:00. */
	EXPECT(s, 1, ms("2024-05-10T23:00:00Z"), 8 * 3600, SC_UNIT_A, L(0, 10), L(3600, 16), L(25200, 32));
	/* A whole day from noon: 32, 10 at 22:00, 16 at 00:00, 32 at 06:00. */
	EXPECT(s, 1, ms("2024-05-10T12:00:00Z"), 86400, SC_UNIT_A,
	       L(0, 32), L(36000, 10), L(43200, 16), L(64800, 32));
	assert_float_equal(limit_at(s, 1, "2024-05-10T05:59:59Z", SC_UNIT_A), 16, 0);
	assert_float_equal(limit_at(s, 1, "2024-05-10T21:59:59Z", SC_UNIT_A), 32, 0);
	assert_float_equal(limit_at(s, 1, "2024-05-10T22:00:00Z", SC_UNIT_A), 10, 0);
	/* Not before its startSchedule. */
	assert_float_equal(limit_at(s, 1, "2024-01-01T21:00:00Z", SC_UNIT_A), 32, 0);
	assert_float_equal(limit_at(s, 1, "2024-01-01T23:00:00Z", SC_UNIT_A), 10, 0);
	sc_profiles_free(s);
}

static void test_recurring_weekly(void **state)
{
	struct sc_profiles *s = sc_profiles_new(1, NULL);
	(void)state;

	/* Every week from Monday 2024-01-01 00:00: 16 A, 32 A from Saturday
	 * 00:00 (5 * 86400 = 432000 s in). 2024-05-10 is a Friday: 130 days
	 * after 2024-01-01, 130 = 18 * 7 + 4. */
	assert_int_equal(install(s, 0, prof(
		"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxDefaultProfile',"
		"'chargingProfileKind':'Recurring','recurrencyKind':'Weekly','chargingSchedule':{"
		"'startSchedule':'2024-01-01T00:00:00Z','duration':604800,'chargingRateUnit':'A',"
		"'chargingSchedulePeriod':[{'startPeriod':0,'limit':16},"
		"{'startPeriod':432000,'limit':32}]}}")), 0);
	/* Friday 22:00 + 2 h = Saturday: 32 A. */
	EXPECT(s, 1, ms("2024-05-10T22:00:00Z"), 4 * 3600, SC_UNIT_A, L(0, 16), L(7200, 32));
	/* Sunday 23:00 + 1 h = Monday: the week restarts at 16 A. */
	EXPECT(s, 1, ms("2024-05-12T23:00:00Z"), 2 * 3600, SC_UNIT_A, L(0, 32), L(3600, 16));
	assert_float_equal(limit_at(s, 1, "2024-05-15T12:00:00Z", SC_UNIT_A), 16, 0);  /* Wednesday */
	sc_profiles_free(s);

	/* A schedule longer than its recurrence: the remainder is not executed
	 * (5.16.4); the daily run restarts at 10 A after 24 h. */
	s = sc_profiles_new(1, NULL);
	assert_int_equal(install(s, 0, prof(
		"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxDefaultProfile',"
		"'chargingProfileKind':'Recurring','recurrencyKind':'Daily','chargingSchedule':{"
		"'startSchedule':'2024-01-01T00:00:00Z','chargingRateUnit':'A',"
		"'chargingSchedulePeriod':[{'startPeriod':0,'limit':10},{'startPeriod':43200,'limit':20},"
		"{'startPeriod':90000,'limit':30}]}}")), 0);
	EXPECT(s, 1, ms("2024-01-02T11:00:00Z"), 86400, SC_UNIT_A,
	       L(0, 10), L(3600, 20), L(46800, 10));
	sc_profiles_free(s);
}

static void test_relative(void **state)
{
	struct sc_profiles *s = sc_profiles_new(2, NULL);
	(void)state;

	/* A relative default: 6 A for the first 30 minutes, then 16 A. */
	assert_int_equal(install(s, 0, relative(1, 0, "TxDefaultProfile", -1,
		"{'startPeriod':0,'limit':6},{'startPeriod':1800,'limit':16}")), 0);
	/* No transaction: counted from now, as if one began at once. */
	EXPECT(s, 1, ms("2024-03-01T09:00:00Z"), 3600, SC_UNIT_A, L(0, 6), L(1800, 16));
	assert_float_equal(limit_at(s, 1, "2024-03-01T09:45:00Z", SC_UNIT_A), 6, 0);
	/* A transaction began at 10:00; asked at 10:10, 16 A is 20 minutes
	 * away. Connector 2 has none and still starts from now. */
	assert_int_equal(sc_profiles_tx_begin(s, 1, ms("2024-03-01T10:00:00Z")), 0);
	EXPECT(s, 1, ms("2024-03-01T10:10:00Z"), 3600, SC_UNIT_A, L(0, 6), L(1200, 16));
	EXPECT(s, 2, ms("2024-03-01T10:10:00Z"), 3600, SC_UNIT_A, L(0, 6), L(1800, 16));
	assert_float_equal(limit_at(s, 1, "2024-03-01T10:29:59Z", SC_UNIT_A), 6, 0);
	assert_float_equal(limit_at(s, 1, "2024-03-01T10:30:00Z", SC_UNIT_A), 16, 0);

	/* A relative TxProfile of 10 A for 15 minutes overrules the default
	 * while it lasts (3.13.1), then the default is back: 6 A until 10:30. */
	assert_int_equal(install(s, 1, relative(2, 0, "TxProfile", 900,
						 "{'startPeriod':0,'limit':10}")), 0);
	EXPECT(s, 1, ms("2024-03-01T10:10:00Z"), 3600, SC_UNIT_A, L(0, 10), L(300, 6), L(1200, 16));
	/* When the transaction ends the TxProfile goes and the default counts
	 * from "now" again. */
	assert_int_equal(sc_profiles_tx_end(s, 1), 1);
	EXPECT(s, 1, ms("2024-03-01T10:10:00Z"), 3600, SC_UNIT_A, L(0, 6), L(1800, 16));
	sc_profiles_free(s);
}

static void test_combination(void **state)
{
	struct sc_profiles *s = sc_profiles_new(2, NULL);
	int64_t t = ms("2024-03-01T10:00:00Z");
	(void)state;

	/* Station max 20 A; default 16 A, 32 A from 11:00. The composite is
	 * the lower of the two (3.13.3): 16, then 20. */
	assert_int_equal(install(s, 0, flat(1, 0, "ChargePointMaxProfile", 20)), 0);
	assert_int_equal(install(s, 0, absolute(2, 0, "TxDefaultProfile", "2024-03-01T10:00:00Z", -1,
		"{'startPeriod':0,'limit':16},{'startPeriod':3600,'limit':32}")), 0);
	EXPECT(s, 1, t, 5400, SC_UNIT_A, L(0, 16), L(3600, 20));
	/* Connector 0's schedule is the station's limit. */
	EXPECT(s, 0, t, 5400, SC_UNIT_A, L(0, 20));

	/* A default for connector 2 alone replaces the station-wide one there
	 * (3.13.1), even at a lower stackLevel than another station-wide one. */
	assert_int_equal(install(s, 2, flat(3, 0, "TxDefaultProfile", 8)), 0);
	assert_int_equal(install(s, 0, flat(4, 5, "TxDefaultProfile", 18)), 0);
	EXPECT(s, 2, t, 5400, SC_UNIT_A, L(0, 8));
	EXPECT(s, 1, t, 5400, SC_UNIT_A, L(0, 18));

	/* A TxProfile overrules the defaults, still under the station max. */
	assert_int_equal(sc_profiles_tx_begin(s, 1, t), 0);
	assert_int_equal(install(s, 1, flat(5, 0, "TxProfile", 25)), 0);
	EXPECT(s, 1, t, 5400, SC_UNIT_A, L(0, 20));
	assert_int_equal(install(s, 1, flat(6, 0, "TxProfile", 12)), 0);   /* replaces id 5 */
	EXPECT(s, 1, t, 5400, SC_UNIT_A, L(0, 12));
	EXPECT(s, 2, t, 5400, SC_UNIT_A, L(0, 8));
	sc_profiles_free(s);
}

static void test_units(void **state)
{
	struct sc_profiles *s = sc_profiles_new(1, NULL);
	int64_t t = ms("2024-03-01T10:00:00Z");
	struct sc_config cfg;
	struct sc_limit l;
	(void)state;

	/* Nothing installed: no limit; the rating, 32 A, is reported:
	 * 32 * 230 * 3 = 22080 W. */
	assert_int_equal(sc_profiles_limit_at(s, 1, t, SC_UNIT_A, &l), 0);
	assert_false(l.limited);
	assert_float_equal(l.limit, 32, 0);
	assert_int_equal(l.phases, 3);
	EXPECT(s, 1, t, 60, SC_UNIT_W, NO_LIMIT(0, 22080));

	/* W = A * 230 * phases; numberPhases absent means 3 (7.12). */
	assert_int_equal(install(s, 0, absolute(1, 0, "TxDefaultProfile", "2024-03-01T10:00:00Z", -1,
		"{'startPeriod':0,'limit':16},{'startPeriod':60,'limit':16,'numberPhases':1}")), 0);
	EXPECT(s, 1, t, 120, SC_UNIT_W, L(0, 11040), L1(60, 3680));
	EXPECT(s, 1, t, 120, SC_UNIT_A, L(0, 16), L1(60, 16));
	assert_int_equal(sc_profiles_limit_at(s, 1, t + 60000, SC_UNIT_W, &l), 0);
	assert_true(l.limited);
	assert_float_equal(l.limit, 3680, 0);
	assert_int_equal(l.phases, 1);
	sc_profiles_free(s);

	/* A = W / (230 * phases): 11000 / 690 = 15.94.. -> 15.9 (rounded down,
	 * never above the limit); 7360 / 230 = 32. */
	s = sc_profiles_new(1, NULL);
	assert_int_equal(install(s, 0, prof(HEAD("Absolute") "'chargingSchedule':{"
		"'startSchedule':'2024-03-01T10:00:00Z','chargingRateUnit':'W','chargingSchedulePeriod':["
		"{'startPeriod':0,'limit':11000},{'startPeriod':60,'limit':7360,'numberPhases':1}]}}")), 0);
	EXPECT(s, 1, t, 120, SC_UNIT_A, L(0, 15.9), L1(60, 32));
	/* With a station max of 32 A on 3 phases: on one phase that allows
	 * 32 * 230 = 7360 W, the same as the default, 1 phase. On 3 phases
	 * 32 A is 22080 W, above the 11000 W default. */
	assert_int_equal(install(s, 0, flat(2, 0, "ChargePointMaxProfile", 32)), 0);
	EXPECT(s, 1, t, 120, SC_UNIT_W, L(0, 11000), L1(60, 7360));
	/* A 10 A station max: 10 * 690 = 6900 W < 11000 W. */
	assert_int_equal(install(s, 0, flat(2, 0, "ChargePointMaxProfile", 10)), 0);
	EXPECT(s, 1, t, 120, SC_UNIT_W, L(0, 6900), L1(60, 2300));
	EXPECT(s, 1, t, 120, SC_UNIT_A, L(0, 10), L1(60, 10));
	sc_profiles_free(s);

	/* Another nominal voltage: 16 A * 110 V * 3 = 5280 W. */
	sc_config_default(&cfg);
	cfg.voltage = 110;
	s = sc_profiles_new(1, &cfg);
	assert_int_equal(install(s, 0, flat(1, 0, "TxDefaultProfile", 16)), 0);
	EXPECT(s, 1, t, 60, SC_UNIT_W, L(0, 5280));
	sc_profiles_free(s);
}

static void test_composite_edges(void **state)
{
	struct sc_profiles *s = sc_profiles_new(1, NULL);
	struct sc_composite c;
	(void)state;

	assert_int_equal(sc_profiles_composite(s, 2, 0, 60, SC_UNIT_A, &c), -EINVAL);
	assert_int_equal(sc_profiles_composite(s, 1, 0, -1, SC_UNIT_A, &c), -EINVAL);
	/* Whole seconds: the start is rounded down, and a change inside a
	 * second shows from the next one. */
	assert_int_equal(install(s, 0, flat(1, 0, "TxDefaultProfile", 16)), 0);
	assert_int_equal(install(s, 0, absolute(2, 1, "TxDefaultProfile", "2024-03-01T10:00:05.500Z", -1,
		"{'startPeriod':0,'limit':8}")), 0);
	EXPECT(s, 1, ms("2024-03-01T10:00:00.700Z"), 60, SC_UNIT_A, L(0, 16), L(6, 8));
	/* A duration of 0 still says what holds at the start. */
	EXPECT(s, 1, ms("2024-03-01T10:00:00Z"), 0, SC_UNIT_A, L(0, 16));
	/* A change at the very end is not a period. */
	EXPECT(s, 1, ms("2024-03-01T10:00:00Z"), 5, SC_UNIT_A, L(0, 16));
	EXPECT(s, 1, ms("2024-03-01T10:00:00Z"), 6, SC_UNIT_A, L(0, 16));
	EXPECT(s, 1, ms("2024-03-01T10:00:00Z"), 7, SC_UNIT_A, L(0, 16), L(6, 8));
	sc_profiles_free(s);

	/* Two changes a day for ten years are more periods than we report. */
	s = sc_profiles_new(1, NULL);
	assert_int_equal(install(s, 0, prof(
		"{'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxDefaultProfile',"
		"'chargingProfileKind':'Recurring','recurrencyKind':'Daily','chargingSchedule':{"
		"'startSchedule':'2024-01-01T00:00:00Z','chargingRateUnit':'A',"
		"'chargingSchedulePeriod':[{'startPeriod':0,'limit':10},"
		"{'startPeriod':43200,'limit':16}]}}")), 0);
	assert_int_equal(sc_profiles_composite(s, 1, ms("2024-01-01T00:00:00Z"), 3650 * 86400,
					       SC_UNIT_A, &c), -E2BIG);
	assert_null(c.periods);
	/* Ten days is fine: 20 periods. */
	assert_int_equal(sc_profiles_composite(s, 1, ms("2024-01-01T00:00:00Z"), 10 * 86400,
					       SC_UNIT_A, &c), 0);
	assert_int_equal(c.n, 20);
	assert_int_equal(c.periods[19].start, 19 * 43200);
	sc_composite_clear(&c);
	sc_profiles_free(s);
}

static void test_composite_json(void **state)
{
	struct sc_profiles *s = sc_profiles_new(1, NULL);
	int64_t t = ms("2024-06-15T19:00:00Z");
	struct ocpp_violation v;
	struct sc_composite c;
	char start[RFC3339_MAX];
	json_t *sched, *want, *conf;
	(void)state;

	assert_int_equal(install(s, 0, prof(SPEC_EXAMPLE)), 0);
	assert_int_equal(sc_profiles_composite(s, 1, t, 3 * 3600, SC_UNIT_W, &c), 0);
	sched = sc_composite_to_json(&c);
	/* No startSchedule in a composite (errata 3.57). */
	want = js("{'duration':10800,'chargingRateUnit':'W','chargingSchedulePeriod':["
		  "{'startPeriod':0,'limit':6000.0,'numberPhases':3},"
		  "{'startPeriod':3600,'limit':11000.0,'numberPhases':3}]}");
	assert_true(json_equal(sched, want));
	/* A GetCompositeSchedule.conf built around it is valid. */
	assert_true(rfc3339_format_ms(c.start, start, sizeof start) > 0);
	conf = json_pack("{s:s,s:i,s:s,s:o}", "status", "Accepted", "connectorId", 1,
			 "scheduleStart", start, "chargingSchedule", sched);
	assert_int_equal(ocpp_validate_message(ocpp_schemas(OCPP_V16), "GetCompositeSchedule", 1,
					       conf, &v), 0);
	json_decref(conf);
	json_decref(want);
	sc_composite_clear(&c);
	sc_profiles_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_spec_example),
		cmocka_unit_test(test_parse_optional_fields),
		cmocka_unit_test(test_parse_rejections),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_remote_start_profile),
		cmocka_unit_test(test_install_checks),
		cmocka_unit_test(test_replacement),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_tx_end_removes_tx_profiles),
		cmocka_unit_test(test_stacking),
		cmocka_unit_test(test_validity_window),
		cmocka_unit_test(test_recurring_daily_spec_example),
		cmocka_unit_test(test_recurring_daily_across_midnight),
		cmocka_unit_test(test_recurring_weekly),
		cmocka_unit_test(test_relative),
		cmocka_unit_test(test_combination),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_composite_edges),
		cmocka_unit_test(test_composite_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
