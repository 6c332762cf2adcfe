/* OCPP 1.6 Smart Charging: charging profiles, the profiles installed on a
 * station, and the composite schedule they add up to (1.6 edition 2,
 * section 3.13, with the errata sheet).
 *
 * Pure computation: no I/O, no clock. Instants are Unix milliseconds passed
 * in by the caller; schedule offsets and durations are whole seconds, as on
 * the wire.
 *
 * - sc_profile: one ChargingProfile, parsed from the 1.6 JSON object (the
 *   value of csChargingProfiles or chargingProfile, already valid against
 *   the schema) with the checks the specification implies but the schema
 *   cannot express, and written back.
 * - sc_profiles: the profiles installed on connectors 0..N, with the
 *   replacement rules of SetChargingProfile, the filters of
 *   ClearChargingProfile, and the transaction state that TxProfiles and
 *   Relative profiles depend on.
 * - The composite schedule of a connector (GetCompositeSchedule) and the
 *   limit in force at one instant (what the hardware is told).
 *
 * Combination, per instant, for connector c > 0: the prevailing (highest
 * stackLevel among those in force) TxProfile of c; if none, the prevailing
 * TxDefaultProfile of c; if none, that of connector 0. The result is capped
 * by the prevailing ChargePointMaxProfile (connector 0). Connector 0's own
 * schedule is the ChargePointMaxProfile alone. Limits in different units
 * are compared in the requested unit: W = A * voltage * phases, where
 * phases is the smallest numberPhases among the limits combined (absent:
 * the configured default, 3). */
#ifndef EV_STATION_SMARTCHARGING_H
#define EV_STATION_SMARTCHARGING_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define SC_WHY_MAX 128                /* reasons written by the checks */
#define SC_NO_TIME INT64_MIN          /* an absent instant */
#define SC_COMPOSITE_MAX_PERIODS 4096 /* more and the composite is refused */

enum sc_purpose { SC_CP_MAX, SC_TX_DEFAULT, SC_TX };
enum sc_kind { SC_ABSOLUTE, SC_RECURRING, SC_RELATIVE };
enum sc_recurrency { SC_RECUR_NONE, SC_DAILY, SC_WEEKLY };
enum sc_unit { SC_UNIT_A, SC_UNIT_W };

struct sc_period {
	int32_t start;      /* seconds from the start of the schedule */
	double limit;       /* in the schedule's unit: A per phase, or W in total */
	int phases;         /* numberPhases, 1..3; 0 when absent */
};

struct sc_profile {
	int32_t id;                   /* chargingProfileId */
	int has_transaction_id;
	int32_t transaction_id;
	int32_t stack_level;
	enum sc_purpose purpose;
	enum sc_kind kind;
	enum sc_recurrency recurrency;
	int64_t valid_from, valid_to; /* ms, or SC_NO_TIME */
	/* chargingSchedule */
	int32_t duration;             /* seconds, or -1 when absent */
	int64_t start_schedule;       /* ms, or SC_NO_TIME */
	enum sc_unit unit;
	int has_min_rate;
	double min_rate;
	size_t n_periods;
	struct sc_period *periods;
};

const char *sc_purpose_name(enum sc_purpose p);
const char *sc_unit_name(enum sc_unit u);
/* Returns 0, or -EINVAL for a name the specification does not define. */
int sc_purpose_parse(const char *name, enum sc_purpose *out);
int sc_unit_parse(const char *name, enum sc_unit *out);

/* Parses a 1.6 ChargingProfile object. Checks what holds whatever the
 * station's state: periods start at 0 and strictly increase, limits and
 * minChargingRate are from 0 to 1e9, numberPhases is 1..3, stackLevel is not
 * negative, duration is not negative (0 is an empty schedule),
 * validTo is after validFrom, transactionId only on a TxProfile,
 * recurrencyKind only and always on a Recurring profile, startSchedule on
 * Absolute and Recurring profiles and not on Relative ones.
 * Returns 0 with *out set (free with sc_profile_free); -EINVAL with the
 * reason in why (may be NULL); -ENOMEM. */
int sc_profile_from_json(const json_t *j, struct sc_profile **out, char why[SC_WHY_MAX]);
/* The 1.6 ChargingProfile object; NULL if out of memory. */
json_t *sc_profile_to_json(const struct sc_profile *p);
struct sc_profile *sc_profile_dup(const struct sc_profile *p);
void sc_profile_free(struct sc_profile *p);

/* The extra rule for the profile of a RemoteStartTransaction.req: purpose
 * TxProfile and no transactionId (5.16.2). Returns 0 or -EINVAL. Once the
 * transaction has begun (sc_profiles_tx_begin) the caller installs it on
 * the transaction's connector. */
int sc_profile_check_remote_start(const struct sc_profile *p, char why[SC_WHY_MAX]);

struct sc_config {
	double voltage;          /* nominal line voltage for A <-> W (230) */
	int phases;              /* phases assumed when numberPhases is absent (3) */
	double max_current;      /* A per phase when no profile limits (32) */
	int32_t max_stack_level; /* ChargeProfileMaxStackLevel (100) */
	size_t max_periods;      /* ChargingScheduleMaxPeriods (1024) */
	size_t max_profiles;     /* MaxChargingProfilesInstalled (100) */
	unsigned units;          /* allowed: 1 << SC_UNIT_A | 1 << SC_UNIT_W (both) */
};

void sc_config_default(struct sc_config *cfg);

struct sc_profiles;

/* A station with connectors 1..n_connectors (0 is the station itself).
 * cfg may be NULL for the defaults. NULL if out of memory or a setting is
 * out of range (voltage <= 0, phases not 1..3, max_current < 0). */
struct sc_profiles *sc_profiles_new(unsigned n_connectors, const struct sc_config *cfg);
void sc_profiles_free(struct sc_profiles *s);

/* Installs a profile on a connector, as SetChargingProfile does (p is
 * stolen: kept on success, freed on failure). An installed profile with the
 * same id, or on the same connector with the same stackLevel and purpose, is
 * replaced. Refused with -EINVAL and a reason: connector out of range;
 * ChargePointMaxProfile not on connector 0; TxProfile on connector 0, on a
 * connector without a transaction, or naming another transaction than the
 * connector's (once its id is known); stack level, number of periods or
 * unit beyond the configuration; anything sc_profile_from_json refuses (for
 * profiles built by hand). -ENOSPC when
 * MaxChargingProfilesInstalled would be exceeded. */
int sc_profiles_install(struct sc_profiles *s, unsigned connector, struct sc_profile *p,
			char why[SC_WHY_MAX]);

/* The fields of a ClearChargingProfile.req; has_* 0 means absent. */
struct sc_clear_filter {
	int has_id, has_connector, has_purpose, has_stack_level;
	int32_t id;
	int64_t connector;
	enum sc_purpose purpose;
	int32_t stack_level;
};

/* Reads a ClearChargingProfile.req payload. Returns 0 or -EINVAL. */
int sc_clear_filter_from_json(const json_t *req, struct sc_clear_filter *f);
/* Removes the matching profiles: with an id, only that profile (the other
 * fields are ignored); otherwise those matching every field given; all of
 * them when no field is given (errata 3.25/3.26). Returns how many were
 * removed (0: answer Unknown). */
size_t sc_profiles_clear(struct sc_profiles *s, const struct sc_clear_filter *f);

/* Transactions on a connector (> 0). A TxProfile can only be installed
 * during one, and Relative profiles count from its start (before one, from
 * the instant asked about). begin: -EINVAL for a bad connector or start
 * (instants are refused beyond +-2^52 ms everywhere), -EBUSY if
 * one is already running. set_id gives the transactionId from
 * StartTransaction.conf (-ENOENT without a transaction). end removes the
 * connector's TxProfiles and returns how many (or -EINVAL, -ENOENT). */
int sc_profiles_tx_begin(struct sc_profiles *s, unsigned connector, int64_t start_ms);
int sc_profiles_tx_set_id(struct sc_profiles *s, unsigned connector, int32_t transaction_id);
int sc_profiles_tx_end(struct sc_profiles *s, unsigned connector);

size_t sc_profiles_count(const struct sc_profiles *s);
/* Calls fn for every installed profile, in installation order, until it
 * returns non-zero; returns that value or 0. fn must not change s. */
int sc_profiles_foreach(const struct sc_profiles *s,
			int (*fn)(void *arg, unsigned connector, const struct sc_profile *p),
			void *arg);

/* The limit in force: limited is 0 when no profile applies, and limit is
 * then the station's rating (max_current) in the unit asked for. Limits are
 * rounded down to 0.1, the resolution of the protocol. */
struct sc_limit {
	int limited;
	double limit;
	int phases;
};

/* -EINVAL for a connector or an instant out of range. */
int sc_profiles_limit_at(const struct sc_profiles *s, unsigned connector, int64_t t_ms,
			 enum sc_unit unit, struct sc_limit *out);

struct sc_composite_period {
	int32_t start;      /* seconds from the composite's start */
	struct sc_limit l;
};

struct sc_composite {
	int64_t start;      /* ms, on a whole second: scheduleStart */
	int32_t duration;   /* seconds */
	enum sc_unit unit;
	size_t n;
	struct sc_composite_period *periods;
};

/* The composite schedule of a connector from start_ms (rounded down to the
 * second) for duration_s seconds, with adjacent equal periods merged. A
 * change that falls within a second takes effect from the next whole
 * second. Returns 0 (clear *out with sc_composite_clear); -EINVAL for a bad
 * connector, start or duration (negative); -E2BIG if more than
 * SC_COMPOSITE_MAX_PERIODS periods would be needed; -ENOMEM. */
int sc_profiles_composite(const struct sc_profiles *s, unsigned connector, int64_t start_ms,
			  int32_t duration_s, enum sc_unit unit, struct sc_composite *out);
void sc_composite_clear(struct sc_composite *c);
/* The chargingSchedule of a GetCompositeSchedule.conf (no startSchedule,
 * errata 3.57: scheduleStart carries it); NULL if out of memory. */
json_t *sc_composite_to_json(const struct sc_composite *c);

#endif
