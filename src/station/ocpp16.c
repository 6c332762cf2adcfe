/* The OCPP 1.6J adapter of the station core. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "station/config16.h"
#include "station/smartcharging.h"
#include "station/station_priv.h"
#include "util/log.h"
#include "util/rfc3339.h"

/* What the 1.6 adapter keeps per station. */
struct s16 {
	struct config16 *keys;
	struct sc_profiles *profiles;   /* installed charging profiles */
};

static struct config16 *keys_of(struct station *st)
{
	return ((struct s16 *)st->proto)->keys;
}

/* The central system changed a key: act on it. */
static void key_changed(void *ctx, const char *key, const char *value)
{
	struct station *st = ctx;
	if (strcmp(key, "HeartbeatInterval") == 0)
		station_set_heartbeat_interval(st, (unsigned)strtoul(value, NULL, 10));
}

static const struct config16_ops key_ops = { NULL, key_changed };

static int init(struct station *st, char *err, size_t errlen)
{
	struct s16 *s = calloc(1, sizeof *s);
	char n[16], why[128];

	if (!s)
		return snprintf(err, errlen, "out of memory"), -1;
	struct sc_config sc;
	long v;

	st->proto = s;
	/* Advertise only the feature profiles this station implements. */
	s->keys = config16_new(CONFIG16_CORE | CONFIG16_REMOTE_TRIGGER | CONFIG16_SMART_CHARGING,
			       &key_ops, st);
	if (!s->keys)
		return snprintf(err, errlen, "out of memory"), -1;
	snprintf(n, sizeof n, "%d", st->cfg.connectors);
	config16_set_local(s->keys, "NumberOfConnectors", n, why, sizeof why);
	/* What the smart-charging keys advertise is what is enforced. */
	sc_config_default(&sc);
	if (config16_get_int(s->keys, "ChargeProfileMaxStackLevel", &v) == 0)
		sc.max_stack_level = (int32_t)v;
	if (config16_get_int(s->keys, "ChargingScheduleMaxPeriods", &v) == 0)
		sc.max_periods = (size_t)v;
	if (config16_get_int(s->keys, "MaxChargingProfilesInstalled", &v) == 0)
		sc.max_profiles = (size_t)v;
	s->profiles = sc_profiles_new((unsigned)st->cfg.connectors, &sc);
	if (!s->profiles)
		return snprintf(err, errlen, "out of memory"), -1;
	return 0;
}

static void fini(struct station *st)
{
	struct s16 *s = st->proto;
	config16_free(s->keys);
	sc_profiles_free(s->profiles);
	free(s);
	st->proto = NULL;
}

static json_t *timestamp(const struct station *st)
{
	char buf[RFC3339_MAX];
	rfc3339_format_ms(station_now_ms(st), buf, sizeof buf);
	return json_string(buf);
}

/* ------------------------------------------------------ BootNotification */

static void boot_answered(void *arg, const struct ocpp_result *r)
{
	struct station *st = arg;
	const char *status;
	struct ev_timestamp now = { 0 };
	json_int_t interval;

	if (r->status != OCPP_RESULT_OK) {
		if (r->status != OCPP_RESULT_CLOSED)
			station_boot_answered(st, STATION_BOOTING, 0, 0);
		return;
	}
	status = json_string_value(json_object_get(r->payload, "status"));
	interval = json_integer_value(json_object_get(r->payload, "interval"));
	rfc3339_parse(json_string_value(json_object_get(r->payload, "currentTime")), &now);
	if (strcmp(status, "Accepted") == 0 && interval > 0) {
		char v[24], why[128];
		snprintf(v, sizeof v, "%lld", (long long)interval);
		config16_set_local(keys_of(st), "HeartbeatInterval", v, why, sizeof why);
	}
	station_boot_answered(st,
			      strcmp(status, "Accepted") == 0 ? STATION_ACCEPTED :
			      strcmp(status, "Pending") == 0 ? STATION_PENDING : STATION_REJECTED,
			      interval > 0 ? (unsigned)interval : 0, now.unix_ms);
}

static void boot(struct station *st)
{
	json_t *p = json_pack("{s:s, s:s}", "chargePointVendor", st->cfg.vendor ? st->cfg.vendor : "evctl",
			      "chargePointModel", st->cfg.model ? st->cfg.model : "evstationd");
	if (!p)
		return;
	if (st->cfg.serial)
		json_object_set_new(p, "chargePointSerialNumber", json_string(st->cfg.serial));
	json_object_set_new(p, "firmwareVersion",
			    json_string(st->cfg.firmware_version ? st->cfg.firmware_version : PACKAGE_VERSION));
	station_call(st, "BootNotification", p, boot_answered, st);
}

/* --------------------------------------------------------------- Heartbeat */

static void heartbeat_answered(void *arg, const struct ocpp_result *r)
{
	struct station *st = arg;
	struct ev_timestamp now;

	/* The answer carries the central system's clock. */
	if (r->status == OCPP_RESULT_OK &&
	    rfc3339_parse(json_string_value(json_object_get(r->payload, "currentTime")), &now) == 0)
		st->clock_offset_ms = now.unix_ms - ev_now_ms();
}

static void heartbeat(struct station *st)
{
	station_call(st, "Heartbeat", json_object(), heartbeat_answered, st);
}

/* ------------------------------------------------------ StatusNotification */

static void status_notification(struct station *st, int connector, const char *status,
				const char *error_code)
{
	json_t *p = json_pack("{s:i, s:s, s:s, s:o}", "connectorId", connector,
			      "errorCode", error_code, "status", status, "timestamp", timestamp(st));
	if (p)
		station_call(st, "StatusNotification", p, NULL, NULL);
}

static void announce(struct station *st)
{
	for (int c = 0; c <= st->cfg.connectors; c++)
		status_notification(st, c, "Available", "NoError");
}

/* ------------------------------------------------------------- CALLs in */

static void trigger_message(struct station *st, const char *id, json_t *p)
{
	const char *what = json_string_value(json_object_get(p, "requestedMessage"));
	json_t *connector = json_object_get(p, "connectorId");
	int c = connector ? (int)json_integer_value(connector) : -1;

	if (connector && (c < 0 || c > st->cfg.connectors)) {
		station_reply(st, id, json_pack("{s:s}", "status", "Rejected"));
		return;
	}
	if (strcmp(what, "BootNotification") != 0 && strcmp(what, "Heartbeat") != 0 &&
	    strcmp(what, "StatusNotification") != 0) {
		station_reply(st, id, json_pack("{s:s}", "status", "NotImplemented"));
		return;
	}
	/* Answer first, then send what was asked for (1.6 5.17). */
	station_reply(st, id, json_pack("{s:s}", "status", "Accepted"));
	if (strcmp(what, "BootNotification") == 0) {
		boot(st);
	} else if (strcmp(what, "Heartbeat") == 0) {
		heartbeat(st);
	} else {
		for (int i = c < 0 ? 0 : c; i <= (c < 0 ? st->cfg.connectors : c); i++)
			status_notification(st, i, "Available", "NoError");
	}
}

static void get_configuration(struct station *st, const char *id, json_t *p)
{
	json_t *out = NULL;
	int rc = config16_get_configuration(keys_of(st), json_object_get(p, "key"), &out);

	if (rc == -E2BIG)
		station_reply_error(st, id, OCPP_ERR_OCCURRENCE_CONSTRAINT,
				    "more keys than GetConfigurationMaxKeys");
	else if (rc)
		station_reply_error(st, id, OCPP_ERR_INTERNAL, "cannot read the configuration");
	else
		station_reply(st, id, out);
}

static void change_configuration(struct station *st, const char *id, json_t *p)
{
	char why[160] = "";
	enum config16_status status = config16_change(keys_of(st),
		json_string_value(json_object_get(p, "key")),
		json_string_value(json_object_get(p, "value")), why, sizeof why);

	if (status == CONFIG16_REJECTED)
		log_info("%s: ChangeConfiguration rejected: %s", st->id, why);
	station_reply(st, id, json_pack("{s:s}", "status", config16_status_name(status)));
}

/* ---------------------------------------------------------- Smart Charging */

static struct sc_profiles *profiles_of(struct station *st)
{
	return ((struct s16 *)st->proto)->profiles;
}

static void reply_status(struct station *st, const char *id, const char *status)
{
	station_reply(st, id, json_pack("{s:s}", "status", status));
}

static void set_charging_profile(struct station *st, const char *id, json_t *p)
{
	json_int_t connector = json_integer_value(json_object_get(p, "connectorId"));
	struct sc_profile *profile;
	char why[SC_WHY_MAX];

	if (connector < 0 || connector > st->cfg.connectors ||
	    sc_profile_from_json(json_object_get(p, "csChargingProfiles"), &profile, why) ||
	    sc_profiles_install(profiles_of(st), (unsigned)connector, profile, why)) {
		log_info("%s: SetChargingProfile rejected: %s", st->id,
			 connector < 0 || connector > st->cfg.connectors ? "no such connector" : why);
		reply_status(st, id, "Rejected");
		return;
	}
	reply_status(st, id, "Accepted");
}

static void clear_charging_profile(struct station *st, const char *id, json_t *p)
{
	struct sc_clear_filter f;

	if (sc_clear_filter_from_json(p, &f)) {
		reply_status(st, id, "Unknown");
		return;
	}
	reply_status(st, id, sc_profiles_clear(profiles_of(st), &f) ? "Accepted" : "Unknown");
}

static void get_composite_schedule(struct station *st, const char *id, json_t *p)
{
	json_int_t connector = json_integer_value(json_object_get(p, "connectorId"));
	json_int_t duration = json_integer_value(json_object_get(p, "duration"));
	const char *unit_name = json_string_value(json_object_get(p, "chargingRateUnit"));
	enum sc_unit unit = SC_UNIT_A;
	struct sc_composite c;
	char start[RFC3339_MAX];
	int64_t now = station_now_ms(st) / 1000 * 1000;

	if (connector < 0 || connector > st->cfg.connectors || duration > INT32_MAX ||
	    (unit_name && sc_unit_parse(unit_name, &unit)) ||
	    sc_profiles_composite(profiles_of(st), (unsigned)connector, now, (int32_t)duration,
				  unit, &c)) {
		reply_status(st, id, "Rejected");
		return;
	}
	rfc3339_format_ms(c.start, start, sizeof start);
	station_reply(st, id, json_pack("{s:s, s:I, s:s, s:o}", "status", "Accepted",
					"connectorId", connector, "scheduleStart", start,
					"chargingSchedule", sc_composite_to_json(&c)));
	sc_composite_clear(&c);
}

static void on_call(struct station *st, const char *id, const struct ocpp_action *a,
		    json_t *payload)
{
	if (strcmp(a->name, "SetChargingProfile") == 0) {
		set_charging_profile(st, id, payload);
		return;
	} else if (strcmp(a->name, "ClearChargingProfile") == 0) {
		clear_charging_profile(st, id, payload);
		return;
	} else if (strcmp(a->name, "GetCompositeSchedule") == 0) {
		get_composite_schedule(st, id, payload);
		return;
	}
	if (strcmp(a->name, "GetConfiguration") == 0) {
		get_configuration(st, id, payload);
	} else if (strcmp(a->name, "ChangeConfiguration") == 0) {
		change_configuration(st, id, payload);
	} else if (strcmp(a->name, "TriggerMessage") == 0) {
		trigger_message(st, id, payload);
	} else if (strcmp(a->name, "DataTransfer") == 0) {
		station_reply(st, id, json_pack("{s:s}", "status", "UnknownVendorId"));
	} else {
		char why[96];
		snprintf(why, sizeof why, "%s is not supported by this station yet", a->name);
		station_reply_error(st, id, OCPP_ERR_NOT_SUPPORTED, why);
	}
}

const struct station_adapter station_adapter_16 = {
	.version = OCPP_V16,
	.init = init,
	.fini = fini,
	.boot = boot,
	.heartbeat = heartbeat,
	.announce = announce,
	.on_call = on_call,
};
