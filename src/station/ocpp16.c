/* The OCPP 1.6J adapter of the station core. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "net/transfer.h"
#include "station/config16.h"
#include "station/firmware.h"
#include "station/smartcharging.h"
#include "station/station_priv.h"
#include "util/log.h"
#include "util/rfc3339.h"
#include "util/uvtimer.h"

/* transactionData's bound when StopTransactionMaxMeterValues is absent */
#define STOP_TX_MAX_VALUES 100

/* What the 1.6 adapter keeps per station. */
struct s16 {
	struct config16 *keys;
	struct sc_profiles *profiles;   /* installed charging profiles */
	/* the TxProfile of a RemoteStartTransaction, until its transaction begins */
	struct sc_profile *remote_profile[STATION_MAX_CONNECTORS + 1];
	struct firmware *fw;            /* UpdateFirmware, GetDiagnostics */
	char firmware_version[51];      /* what BootNotification reports */
	uv_timer_t *reboot_timer;       /* after a firmware installation */
};

static struct config16 *keys_of(struct station *st)
{
	return ((struct s16 *)st->proto)->keys;
}

/* The Basic Auth password is the AuthorizationKey once the central system
 * has set one (1.6 security whitepaper 2.1.2): saved, used from now on,
 * and the station reconnects with it (after answering). */
static void use_authorization_key(struct station *st, const char *key, int reconnect)
{
	if (ws_client_set_password(st->ws, st->id, key))
		log_error("%s: cannot use the new AuthorizationKey", st->id);
	else if (reconnect)
		ws_client_drop(st->ws, "new AuthorizationKey");
}

/* The central system changed a key: keep it, and act on it. */
static void key_changed(void *ctx, const char *key, const char *value)
{
	struct station *st = ctx;

	if (stationdb_config_set(st->db, key, value))
		log_error("%s: cannot save %s: %s", st->id, key, stationdb_errmsg(st->db));
	if (strcmp(key, "HeartbeatInterval") == 0)
		station_set_heartbeat_interval(st, (unsigned)strtoul(value, NULL, 10));
	else if (strcmp(key, "MeterValueSampleInterval") == 0)
		charging_set_sample_interval(st, (unsigned)strtoul(value, NULL, 10));
	else if (strcmp(key, "ClockAlignedDataInterval") == 0)
		charging_align_clock(st);
	else if (strcmp(key, "AuthorizationKey") == 0)
		use_authorization_key(st, value, 1);
	else if (strcmp(key, "WebSocketPingInterval") == 0)
		station_set_ping_interval(st, (unsigned)strtoul(value, NULL, 10));
}

static const struct config16_ops key_ops = { NULL, key_changed };

/* Keys the central system set before a restart. */
static int restore_key(void *arg, const char *key, const char *value)
{
	struct station *st = arg;
	char why[160];

	if (config16_set_local(((struct s16 *)st->proto)->keys, key, value, why, sizeof why))
		log_warn("%s: ignoring saved %s=%s: %s", st->id, key, value, why);
	return 0;
}

/* Charging profiles installed before a restart (TxProfiles died with
 * their transactions and are not kept). */
static int restore_profile(void *arg, int id, int connector, const char *text)
{
	struct station *st = arg;
	struct sc_profile *p;
	json_t *j = json_loads(text, 0, NULL);
	char why[SC_WHY_MAX];

	if (!j || sc_profile_from_json(j, &p, why) ||
	    sc_profiles_install(((struct s16 *)st->proto)->profiles, (unsigned)connector, p, why))
		log_warn("%s: dropping saved charging profile %d", st->id, id);
	json_decref(j);
	return 0;
}

static int save_profile(void *arg, unsigned connector, const struct sc_profile *p)
{
	struct station *st = arg;
	json_t *j;
	char *text;
	int rc;

	if (p->purpose == SC_TX)
		return 0;
	j = sc_profile_to_json(p);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	rc = text ? stationdb_profile_put(st->db, p->id, (int)connector, text) : -ENOMEM;
	free(text);
	json_decref(j);
	return rc;
}

static int collect_id(void *arg, int id, int connector, const char *text)
{
	json_array_append_new(arg, json_integer(id));
	(void)connector;
	(void)text;
	return 0;
}

/* Writes the installed profiles over the saved ones, in one commit. */
static void save_profiles(struct station *st)
{
	json_t *ids = json_array(), *v;
	size_t i;
	int rc = stationdb_begin(st->db);

	if (!rc)
		rc = stationdb_profile_each(st->db, -1, collect_id, ids);
	json_array_foreach(ids, i, v)
		if (!rc)
			rc = stationdb_profile_delete(st->db, (int)json_integer_value(v));
	if (!rc)
		rc = sc_profiles_foreach(((struct s16 *)st->proto)->profiles, save_profile, st);
	rc = rc ? (stationdb_rollback(st->db), rc) : stationdb_commit(st->db);
	if (rc)
		log_error("%s: cannot save charging profiles: %s", st->id, stationdb_errmsg(st->db));
	json_decref(ids);
}

/* --------------------------------------------------------------- firmware */

static void fw_status(void *ctx, enum firmware_status s)
{
	struct station *st = ctx;
	/* 1.6 has no word for "waiting for retrieveDate": say nothing. */
	if (s != FW_DOWNLOAD_SCHEDULED && s != FW_IDLE)
		station_call(st, "FirmwareStatusNotification",
			     json_pack("{s:s}", "status", firmware_status_name(s)), NULL, NULL);
}

static void diag_status(void *ctx, enum diag_status s)
{
	struct station *st = ctx;
	if (s != DIAG_IDLE)
		station_call(st, "DiagnosticsStatusNotification",
			     json_pack("{s:s}", "status", diag_status_name(s)), NULL, NULL);
}

static void fw_save(void *ctx, const json_t *state)
{
	struct station *st = ctx;
	char *text = json_dumps(state, JSON_COMPACT);
	if (!text || stationdb_state_set(st->db, "firmware", text))
		log_error("%s: cannot save the firmware state: %s", st->id, stationdb_errmsg(st->db));
	free(text);
}

static void reboot_fired(uv_timer_t *t)
{
	station_restart(t->data);
}

static void fw_installed(void *ctx, const char *version)
{
	struct station *st = ctx;
	struct s16 *s = st->proto;

	if (version) {
		snprintf(s->firmware_version, sizeof s->firmware_version, "%s", version);
		stationdb_state_set(st->db, "firmware.version", version);
	}
	log_info("%s: firmware %s installed; restarting", st->id, version ? version : "(unknown)");
	/* Restart once the Installed notification has gone out. */
	uv_timer_start(s->reboot_timer, reboot_fired, 1000, 0);
}

struct log_period {
	json_t *lines;
	int64_t from, to;           /* the process's clock */
};

static int log_line(void *arg, int64_t time_ms, enum ev_log_level level, const char *line)
{
	struct log_period *p = arg;

	if (time_ms >= p->from && time_ms <= p->to)
		json_array_append_new(p->lines, json_string(line));
	(void)level;
	return 0;
}

/* The state, the configuration and the log lines of the period that the
 * process still keeps (the daemon's log buffer: every station's). */
static json_t *fw_diagnostics(void *ctx, int64_t start_ms, int64_t stop_ms)
{
	struct station *st = ctx;
	json_t *state = json_object(), *conf = NULL;
	/* The period is in the central system's time, the log in ours. */
	struct log_period p = { json_array(),
		start_ms == INT64_MIN ? INT64_MIN : start_ms - st->clock_offset_ms,
		stop_ms == INT64_MAX ? INT64_MAX : stop_ms - st->clock_offset_ms };

	station_state_json(st, state);
	if (config16_get_configuration(keys_of(st), NULL, &conf) == 0)
		json_object_set_new(state, "configuration", conf);
	ev_log_ring_each(log_line, &p);
	json_object_set_new(state, "log", p.lines);
	return state;
}

/* Not while anyone is charging (1.6 5.19: the station decides when). */
static int fw_can_install(void *ctx)
{
	struct station *st = ctx;
	for (unsigned c = 1; c <= (unsigned)st->cfg.connectors; c++)
		if (st->conn[c].tx.active)
			return 0;
	return 1;
}

static int64_t fw_now(void *ctx)
{
	return station_now_ms(ctx);
}

static const struct firmware_ops fw_ops = {
	fw_status, diag_status, fw_save, fw_installed, fw_diagnostics, fw_can_install, fw_now,
};

static int init_firmware(struct station *st, struct s16 *s, char *err, size_t errlen)
{
	struct firmware_config fc = { 0 };
	char *saved = NULL, *version = NULL;

	if (stationdb_state_get(st->db, "firmware.version", &version) == 0 && version)
		snprintf(s->firmware_version, sizeof s->firmware_version, "%s", version);
	else
		snprintf(s->firmware_version, sizeof s->firmware_version, "%s",
			 st->cfg.firmware_version ? st->cfg.firmware_version : PACKAGE_VERSION);
	free(version);
	s->reboot_timer = ev_timer_new(st->loop, st);
	if (!s->reboot_timer)
		return snprintf(err, errlen, "out of memory"), -1;
	if (!st->cfg.transfers || !st->cfg.work_dir)
		return 0;   /* no firmware management without somewhere to put files */
	fc.station_id = st->id;
	fc.work_dir = st->cfg.work_dir;
	fc.install_hook = st->cfg.firmware_hook;
	fc.version = s->firmware_version;
	s->fw = firmware_new(st->loop, st->cfg.transfers, &fc, &fw_ops, st);
	if (!s->fw)
		return snprintf(err, errlen, "%s: cannot set up firmware management in %s", st->id,
				st->cfg.work_dir), -1;
	if (stationdb_state_get(st->db, "firmware", &saved) == 0 && saved) {
		json_t *state = json_loads(saved, 0, NULL);
		if (state && firmware_restore(s->fw, state))
			log_warn("%s: ignoring the saved firmware state", st->id);
		json_decref(state);
	}
	free(saved);
	return 0;
}

static const char *const measurable[] = {
	"Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage", "SoC", NULL,
};
static const char *const measurand_keys[] = {
	"MeterValuesSampledData", "MeterValuesAlignedData", "StopTxnSampledData", "StopTxnAlignedData",
};

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
	s->keys = config16_new(CONFIG16_CORE | CONFIG16_REMOTE_TRIGGER | CONFIG16_SMART_CHARGING |
			       CONFIG16_LOCAL_AUTH_LIST | CONFIG16_RESERVATION | CONFIG16_SECURITY |
			       (st->cfg.transfers ? CONFIG16_FIRMWARE_MANAGEMENT : 0), &key_ops, st);
	if (!s->keys)
		return snprintf(err, errlen, "out of memory"), -1;
	snprintf(n, sizeof n, "%d", st->cfg.connectors);
	config16_set_local(s->keys, "NumberOfConnectors", n, why, sizeof why);
	/* SecurityProfile reports what this station does (its settings decide
	 * it, not the central system): 3 client certificate, 2 TLS with Basic
	 * Auth, 1 Basic Auth, 0 neither. */
	snprintf(n, sizeof n, "%d", st->cfg.cert_file ? 3 : strncmp(st->cfg.url, "wss:", 4) == 0 ? 2 :
		 st->cfg.password ? 1 : 0);
	config16_set_local(s->keys, "SecurityProfile", n, why, sizeof why);
	config16_set_readonly(s->keys, "SecurityProfile", 1);
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
	/* The errata's bound on transactionData: advertised, and kept. */
	config16_enable(s->keys, "StopTransactionMaxMeterValues", 1);
	/* What the meter (simulated or external) reports: a list naming
	 * anything else is Rejected (1.6 3.16.4). */
	for (size_t i = 0; i < sizeof measurand_keys / sizeof *measurand_keys; i++)
		config16_restrict(s->keys, measurand_keys[i], measurable);
	/* The station's settings give defaults; what the central system set
	 * (restored next) wins. */
	if (st->cfg.ping_interval_s >= 0) {
		char ping[24];
		snprintf(ping, sizeof ping, "%ld", st->cfg.ping_interval_s);
		if (config16_set_local(s->keys, "WebSocketPingInterval", ping, why, sizeof why))
			log_warn("%s: ping interval: %s", st->id, why);
	}
	stationdb_config_each(st->db, restore_key, st);
	stationdb_profile_each(st->db, -1, restore_profile, st);
	return init_firmware(st, s, err, errlen);
}

static void fini(struct station *st)
{
	struct s16 *s = st->proto;
	config16_free(s->keys);
	sc_profiles_free(s->profiles);
	for (size_t i = 0; i <= STATION_MAX_CONNECTORS; i++)
		sc_profile_free(s->remote_profile[i]);
	firmware_free(s->fw);
	ev_timer_free(s->reboot_timer);
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
	json_object_set_new(p, "firmwareVersion", json_string(((struct s16 *)st->proto)->firmware_version));
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

static void status(struct station *st, unsigned connector, enum connector_status s,
		   const struct connector_result *r)
{
	json_t *p = json_pack("{s:i, s:s, s:s, s:o}", "connectorId", (int)connector,
			      "errorCode", connector_error_name(r->error),
			      "status", connector_status_name(s), "timestamp", timestamp(st));
	if (!p)
		return;
	if (r->info[0])
		json_object_set_new(p, "info", json_string(r->info));
	if (r->vendor_error[0])
		json_object_set_new(p, "vendorErrorCode", json_string(r->vendor_error));
	station_call(st, "StatusNotification", p, NULL, NULL);
}

static void status_now(struct station *st, unsigned c)
{
	struct connector_result r;
	connector_notification(&st->sm[c], &r);
	status(st, c, r.to, &r);
}

/* ------------------------------------------------------------- CALLs in */

static json_t *meter_value(struct station *st, const struct hal_meter *m, const char *context);

/* Meter values outside a transaction: sent now, not queued. */
static void meter_now(struct station *st, unsigned c, const struct hal_meter *m, const char *context)
{
	json_t *p = json_pack("{s:i, s:o}", "connectorId", (int)c, "meterValue", meter_value(st, m, context));
	if (p)
		station_call(st, "MeterValues", p, NULL, NULL);
}

/* MeterValues on request: not queued (it reports now, or not at all). */
static void triggered_meter_values(struct station *st, unsigned c)
{
	struct hal_meter m;
	json_t *p;

	if (station_read_meter(st, c, &m))
		return;
	p = json_pack("{s:i, s:o}", "connectorId", (int)c, "meterValue", meter_value(st, &m, "Trigger"));
	if (p && st->conn[c].tx.active && st->conn[c].tx.has_id)
		json_object_set_new(p, "transactionId", json_integer(st->conn[c].tx.id));
	if (p)
		station_call(st, "MeterValues", p, NULL, NULL);
}

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
	    strcmp(what, "StatusNotification") != 0 && strcmp(what, "MeterValues") != 0 &&
	    strcmp(what, "FirmwareStatusNotification") != 0 &&
	    strcmp(what, "DiagnosticsStatusNotification") != 0) {
		station_reply(st, id, json_pack("{s:s}", "status", "NotImplemented"));
		return;
	}
	/* Answer first, then send what was asked for (1.6 5.17). */
	station_reply(st, id, json_pack("{s:s}", "status", "Accepted"));
	if (strcmp(what, "BootNotification") == 0) {
		boot(st);
	} else if (strcmp(what, "Heartbeat") == 0) {
		heartbeat(st);
	} else if (strcmp(what, "FirmwareStatusNotification") == 0) {
		struct firmware *fw = ((struct s16 *)st->proto)->fw;
		enum firmware_status f = fw ? firmware_status(fw) : FW_IDLE;
		/* Idle when nothing is going on (or only waiting for the date). */
		station_call(st, "FirmwareStatusNotification", json_pack("{s:s}", "status",
			     f == FW_DOWNLOAD_SCHEDULED ? "Idle" : firmware_status_name(f)), NULL, NULL);
	} else if (strcmp(what, "DiagnosticsStatusNotification") == 0) {
		struct firmware *fw = ((struct s16 *)st->proto)->fw;
		station_call(st, "DiagnosticsStatusNotification", json_pack("{s:s}", "status",
			     diag_status_name(fw ? firmware_diag_status(fw) : DIAG_IDLE)), NULL, NULL);
	} else if (strcmp(what, "MeterValues") == 0) {
		for (int i = c < 1 ? 1 : c; i <= (c < 1 ? st->cfg.connectors : c); i++)
			triggered_meter_values(st, (unsigned)i);
	} else {
		for (int i = c < 0 ? 0 : c; i <= (c < 0 ? st->cfg.connectors : c); i++)
			status_now(st, (unsigned)i);
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
	save_profiles(st);   /* on disk before it is acknowledged */
	reply_status(st, id, "Accepted");
	station_apply_limits(st);
}

static void clear_charging_profile(struct station *st, const char *id, json_t *p)
{
	struct sc_clear_filter f;

	if (sc_clear_filter_from_json(p, &f)) {
		reply_status(st, id, "Unknown");
		return;
	}
	size_t cleared = sc_profiles_clear(profiles_of(st), &f);
	save_profiles(st);
	reply_status(st, id, cleared ? "Accepted" : "Unknown");
	station_apply_limits(st);
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

/* ------------------------------------------------------------ charging */

static long setting(struct station *st, enum station_setting which)
{
	static const char *const keys[] = {
		[SET_METER_SAMPLE_INTERVAL] = "MeterValueSampleInterval",
		[SET_CONNECTION_TIMEOUT] = "ConnectionTimeOut",
		[SET_TX_MESSAGE_ATTEMPTS] = "TransactionMessageAttempts",
		[SET_TX_MESSAGE_RETRY_INTERVAL] = "TransactionMessageRetryInterval",
		[SET_STOP_ON_INVALID_ID] = "StopTransactionOnInvalidId",
		[SET_STOP_ON_EV_DISCONNECT] = "StopTransactionOnEVSideDisconnect",
		[SET_CLOCK_ALIGNED_INTERVAL] = "ClockAlignedDataInterval",
		[SET_STOP_TX_MAX_VALUES] = "StopTransactionMaxMeterValues",
		[SET_PING_INTERVAL] = "WebSocketPingInterval",
	};
	long v = 0;
	int b = 0;

	if (which == SET_STOP_ON_INVALID_ID || which == SET_STOP_ON_EV_DISCONNECT)
		return config16_get_bool(keys_of(st), keys[which], &b) == 0 ? b : 1;
	if (which == SET_STOP_TX_MAX_VALUES)
		return config16_get_int(keys_of(st), keys[which], &v) == 0 ? v : STOP_TX_MAX_VALUES;
	return config16_get_int(keys_of(st), keys[which], &v) == 0 ? v : 0;
}

struct pending_auth {
	struct station *st;
	unsigned connector;
	char id_tag[CONNECTOR_ID_TAG_MAX + 1];
};

static int key_bool(struct station *st, const char *key)
{
	int v = 0;
	config16_get_bool(keys_of(st), key, &v);
	return v;
}

/* idTagInfo (JSON text) says Accepted and has not expired. */
static int info_accepts(struct station *st, const char *info_text)
{
	json_t *info = json_loads(info_text, 0, NULL);
	const char *status = json_string_value(json_object_get(info, "status"));
	const char *expiry = json_string_value(json_object_get(info, "expiryDate"));
	struct ev_timestamp ts;
	int ok = status && strcmp(status, "Accepted") == 0 &&
		 !(expiry && rfc3339_parse(expiry, &ts) == 0 && ts.unix_ms <= station_now_ms(st));

	json_decref(info);
	return ok;
}

/* What the station itself knows of id_tag: 1 accepted, 0 refused, -1
 * unknown. The local list first, then the cache (1.6 3.5). */
static int known_locally(struct station *st, const char *id_tag)
{
	char *info = NULL;
	int64_t expiry = 0;
	int verdict = -1;

	if (key_bool(st, "LocalAuthListEnabled") && stationdb_local_list_get(st->db, id_tag, &info) == 0)
		verdict = info_accepts(st, info);
	else if (key_bool(st, "AuthorizationCacheEnabled") &&
		 stationdb_auth_cache_get(st->db, id_tag, &info, &expiry) == 0)
		verdict = info_accepts(st, info);
	free(info);
	return verdict;
}

static void remember(struct station *st, const char *id_tag, json_t *info)
{
	struct ev_timestamp ts = { 0 };
	const char *expiry = json_string_value(json_object_get(info, "expiryDate"));
	char *text;

	if (!key_bool(st, "AuthorizationCacheEnabled") || !info)
		return;
	if (expiry)
		rfc3339_parse(expiry, &ts);
	text = json_dumps(info, JSON_COMPACT);
	if (text && stationdb_auth_cache_put(st->db, id_tag, text, ts.unix_ms))
		log_warn("%s: cannot cache %s: %s", st->id, id_tag, stationdb_errmsg(st->db));
	free(text);
}

static void authorize_answered(void *arg, const struct ocpp_result *r)
{
	struct pending_auth *a = arg;
	json_t *info = r->status == OCPP_RESULT_OK ? json_object_get(r->payload, "idTagInfo") : NULL;
	const char *status = json_string_value(json_object_get(info, "status"));

	if (r->status != OCPP_RESULT_CLOSED && !a->st->closing) {
		remember(a->st, a->id_tag, info);
		station_authorized(a->st, a->connector, a->id_tag, status && strcmp(status, "Accepted") == 0);
	}
	free(a);
}

static void authorize(struct station *st, unsigned connector, const char *id_tag)
{
	int online = station_is_connected(st) && st->registration == STATION_ACCEPTED;
	int local = known_locally(st, id_tag);
	struct pending_auth *a;

	if (!online) {
		/* Offline: what the station knows (LocalAuthorizeOffline), else
		 * AllowOfflineTxForUnknownId decides. */
		if (local >= 0 && key_bool(st, "LocalAuthorizeOffline"))
			station_authorized(st, connector, id_tag, local);
		else
			station_authorized(st, connector, id_tag,
					   local < 0 && key_bool(st, "AllowOfflineTxForUnknownId"));
		return;
	}
	if (local == 1 && key_bool(st, "LocalPreAuthorize")) {
		station_authorized(st, connector, id_tag, 1);
		return;
	}
	a = calloc(1, sizeof *a);
	if (!a)
		return;
	a->st = st;
	a->connector = connector;
	snprintf(a->id_tag, sizeof a->id_tag, "%s", id_tag);
	if (station_call(st, "Authorize", json_pack("{s:s}", "idTag", id_tag), authorize_answered, a))
		free(a);
}

/* ------------------------------------------------ local authorization list */

static void get_local_list_version(struct station *st, const char *id, json_t *p)
{
	int version = -1;

	if (key_bool(st, "LocalAuthListEnabled") && stationdb_local_list_version(st->db, &version))
		version = 0;
	station_reply(st, id, json_pack("{s:i}", "listVersion", version));
	(void)p;
}

static void send_local_list(struct station *st, const char *id, json_t *p)
{
	json_t *list = json_object_get(p, "localAuthorizationList"), *e;
	int version = (int)json_integer_value(json_object_get(p, "listVersion")), current = 0;
	int full = strcmp(json_string_value(json_object_get(p, "updateType")), "Full") == 0;
	long max_send = 0, max_total = 0;
	struct stationdb_auth_entry *entries;
	char **texts;
	size_t n = json_array_size(list), i, count = 0;
	int rc = 0;

	if (!key_bool(st, "LocalAuthListEnabled")) {
		reply_status(st, id, "NotSupported");
		return;
	}
	config16_get_int(keys_of(st), "SendLocalListMaxLength", &max_send);
	config16_get_int(keys_of(st), "LocalAuthListMaxLength", &max_total);
	stationdb_local_list_version(st->db, &current);
	if (!full && version <= current) {
		reply_status(st, id, "VersionMismatch");
		return;
	}
	if ((long)n > max_send) {
		reply_status(st, id, "Failed");
		return;
	}
	entries = calloc(n ? n : 1, sizeof *entries);
	texts = calloc(n ? n : 1, sizeof *texts);
	json_array_foreach(list, i, e) {
		json_t *info = json_object_get(e, "idTagInfo");
		entries[i].id_tag = json_string_value(json_object_get(e, "idTag"));
		/* In a differential update an entry without idTagInfo is removed. */
		entries[i].info = info ? (texts[i] = json_dumps(info, JSON_COMPACT)) : NULL;
	}
	rc = stationdb_local_list_update(st->db, version, full, entries, n);
	if (!rc && stationdb_local_list_count(st->db, &count) == 0 && (long)count > max_total)
		rc = -ENOSPC;   /* (already written; the list is bounded by the next Full update) */
	reply_status(st, id, rc ? "Failed" : "Accepted");
	for (i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	free(entries);
}

static void clear_cache(struct station *st, const char *id, json_t *p)
{
	reply_status(st, id, stationdb_auth_cache_clear(st->db) ? "Rejected" : "Accepted");
	(void)p;
}

/* ------------------------------------------------------------ reservations */

static void reserve_now(struct station *st, const char *id, json_t *p)
{
	struct stationdb_resv r = { 0 };
	struct ev_timestamp expiry;
	json_int_t c = json_integer_value(json_object_get(p, "connectorId"));
	const char *parent = json_string_value(json_object_get(p, "parentIdTag"));
	enum connector_answer a;

	r.id = (int)json_integer_value(json_object_get(p, "reservationId"));
	r.connector = (int)c;
	snprintf(r.id_tag, sizeof r.id_tag, "%s", json_string_value(json_object_get(p, "idTag")));
	snprintf(r.parent_id_tag, sizeof r.parent_id_tag, "%s", parent ? parent : "");
	rfc3339_parse(json_string_value(json_object_get(p, "expiryDate")), &expiry);
	r.expiry_ms = expiry.unix_ms;
	/* Connector 0 would need ReserveConnectorZeroSupported (false here). */
	if (c < 1 || c > st->cfg.connectors || r.expiry_ms <= station_now_ms(st)) {
		reply_status(st, id, "Rejected");
		return;
	}
	a = station_reserve(st, (unsigned)c, &r);
	reply_status(st, id, a == CONN_ANSWER_ACCEPTED ? "Accepted" : a == CONN_ANSWER_OCCUPIED ? "Occupied" :
			     a == CONN_ANSWER_FAULTED ? "Faulted" : a == CONN_ANSWER_UNAVAILABLE ? "Unavailable" :
			     "Rejected");
}

static void cancel_reservation(struct station *st, const char *id, json_t *p)
{
	int rid = (int)json_integer_value(json_object_get(p, "reservationId"));
	reply_status(st, id, station_cancel_reservation(st, rid) ? "Rejected" : "Accepted");
}

static json_t *sampled(int decimals, double v, const char *measurand, const char *unit,
		       const char *phase, const char *context)
{
	char value[32];
	json_t *o;

	snprintf(value, sizeof value, "%.*f", decimals, v);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "value", value, "context", context,
		      "measurand", measurand, "location", "Outlet", "unit", unit);
	if (o && phase)
		json_object_set_new(o, "phase", json_string(phase));
	return o;
}

/* Whether one of the CSL keys (the second may be NULL) names measurand,
 * or (with a phase) the measurand on that phase, e.g. "Voltage.L1". */
static int wants(struct station *st, const char *key, const char *key2, const char *measurand,
		 const char *phase)
{
	struct config16 *k = keys_of(st);
	char item[64];

	if (config16_csl_contains(k, key, measurand) > 0 ||
	    (key2 && config16_csl_contains(k, key2, measurand) > 0))
		return 1;
	if (!phase)
		return 0;
	snprintf(item, sizeof item, "%s.%s", measurand, phase);
	return config16_csl_contains(k, key, item) > 0 || (key2 && config16_csl_contains(k, key2, item) > 0);
}

/* The sampledValues for the measurands the keys name, as far as the meter
 * has them; possibly empty. */
static json_t *sampled_values(struct station *st, const struct hal_meter *m, const char *context,
			      const char *key, const char *key2)
{
	static const char *const lines[] = { "L1", "L2", "L3" };
	json_t *values = json_array();

	if ((m->have & HAL_METER_ENERGY) && wants(st, key, key2, "Energy.Active.Import.Register", NULL))
		json_array_append_new(values, sampled(0, m->energy_wh, "Energy.Active.Import.Register", "Wh", NULL, context));
	if ((m->have & HAL_METER_POWER) && wants(st, key, key2, "Power.Active.Import", NULL))
		json_array_append_new(values, sampled(0, m->power_w, "Power.Active.Import", "W", NULL, context));
	for (int i = 0; i < m->lines && i < 3; i++) {
		if ((m->have & HAL_METER_CURRENT) && wants(st, key, key2, "Current.Import", lines[i]))
			json_array_append_new(values, sampled(1, m->current_a[i], "Current.Import", "A", lines[i], context));
		if ((m->have & HAL_METER_VOLTAGE) && wants(st, key, key2, "Voltage", lines[i]))
			json_array_append_new(values, sampled(1, m->voltage_v[i], "Voltage", "V", lines[i], context));
	}
	if ((m->have & HAL_METER_SOC) && wants(st, key, key2, "SoC", NULL))
		json_array_append_new(values, sampled(0, m->soc_pct, "SoC", "Percent", NULL, context));
	return values;
}

/* One MeterValue (7.33) at stamp (NULL: now), or NULL if it would be empty. */
/* When a reading was taken. */
static json_t *reading_time(const struct station *st, const struct hal_meter *m)
{
	char buf[RFC3339_MAX];

	if (!m->time_ms)
		return timestamp(st);
	rfc3339_format_ms(m->time_ms, buf, sizeof buf);
	return json_string(buf);
}

static json_t *meter_value_at(struct station *st, const struct hal_meter *m, const char *context,
			      const char *key, const char *key2, json_t *stamp)
{
	json_t *values = sampled_values(st, m, context, key, key2);

	if (json_array_size(values) == 0) {
		json_decref(values);
		json_decref(stamp);
		return NULL;
	}
	return json_pack("{s:o, s:o}", "timestamp", stamp ? stamp : reading_time(st, m), "sampledValue", values);
}

/* The measurands MeterValuesSampledData asks for, as far as the meter has them. */
static json_t *meter_value(struct station *st, const struct hal_meter *m, const char *context)
{
	/* Clock-aligned readings take their measurands from their own key. */
	const char *key = strcmp(context, "Sample.Clock") == 0 ? "MeterValuesAlignedData"
							       : "MeterValuesSampledData";
	json_t *mv = meter_value_at(st, m, context, key, NULL, NULL);

	if (!mv)   /* sampledValue needs at least one */
		mv = json_pack("{s:o, s:[o]}", "timestamp", reading_time(st, m), "sampledValue",
			       sampled(0, m->energy_wh, "Energy.Active.Import.Register", "Wh", NULL, context));
	return json_pack("[o]", mv);
}

/* Readings for StopTransaction's transactionData (1.6 3.16): periodic ones
 * what StopTxnSampledData names, clock-aligned ones what StopTxnAlignedData
 * names, and the begin (and end) readings both, so every measurand has its
 * start and stop values (errata 3.16.6). */
static json_t *tx_sample(struct station *st, unsigned c, enum stationdb_sample_kind kind,
			 const struct hal_meter *m)
{
	(void)c;
	switch (kind) {
	case STATIONDB_SAMPLE_BEGIN:
		return meter_value_at(st, m, "Transaction.Begin", "StopTxnSampledData", "StopTxnAlignedData", NULL);
	case STATIONDB_SAMPLE_PERIODIC:
		return meter_value_at(st, m, "Sample.Periodic", "StopTxnSampledData", NULL, NULL);
	case STATIONDB_SAMPLE_CLOCK:
		return meter_value_at(st, m, "Sample.Clock", "StopTxnAlignedData", NULL, NULL);
	}
	return NULL;
}

static const char *stop_reason(enum station_stop_reason r)
{
	static const char *const names[] = {
		[STOP_LOCAL] = "Local", [STOP_REMOTE] = "Remote", [STOP_EV_DISCONNECTED] = "EVDisconnected",
		[STOP_DEAUTHORIZED] = "DeAuthorized", [STOP_POWER_LOSS] = "PowerLoss",
		[STOP_REBOOT] = "Reboot", [STOP_SOFT_RESET] = "SoftReset", [STOP_HARD_RESET] = "HardReset",
		[STOP_UNLOCK_COMMAND] = "UnlockCommand", [STOP_EMERGENCY_STOP] = "EmergencyStop",
		[STOP_OTHER] = "Other",
	};
	return names[r];
}

/* The transactionId of MeterValues and StopTransaction is filled in by the
 * queue when they are sent: it is only known once the start is answered. */
static json_t *tx_message(struct station *st, unsigned c, const struct station_tx *tx,
			  enum station_tx_message kind, const struct hal_meter *m,
			  enum station_stop_reason reason, json_t *samples, const char **action)
{
	json_t *p, *end, *data;

	switch (kind) {
	case TXMSG_START:
		*action = "StartTransaction";
		p = json_pack("{s:i, s:s, s:I, s:o}", "connectorId", (int)c, "idTag", tx->id_tag,
			      "meterStart", (json_int_t)tx->meter_start_wh, "timestamp", timestamp(st));
		if (p && tx->has_reservation)
			json_object_set_new(p, "reservationId", json_integer(tx->reservation_id));
		return p;
	case TXMSG_METER:
	case TXMSG_CLOCK:
		*action = "MeterValues";
		return json_pack("{s:i, s:o}", "connectorId", (int)c, "meterValue",
				 meter_value(st, m, kind == TXMSG_CLOCK ? "Sample.Clock" : "Sample.Periodic"));
	default:
		*action = "StopTransaction";
		p = json_pack("{s:I, s:o, s:s}", "meterStop", (json_int_t)m->energy_wh,
			      "timestamp", timestamp(st), "reason", stop_reason(reason));
		if (p && tx->id_tag[0])
			json_object_set_new(p, "idTag", json_string(tx->id_tag));
		if (p && tx->has_id)
			json_object_set_new(p, "transactionId", json_integer(tx->id));
		/* The readings kept, then the end reading at the stop's time. */
		end = p ? meter_value_at(st, m, "Transaction.End", "StopTxnSampledData", "StopTxnAlignedData",
					 json_incref(json_object_get(p, "timestamp"))) : NULL;
		data = samples ? json_copy(samples) : json_array();
		if (end)
			json_array_append_new(data, end);
		if (p && json_array_size(data))
			json_object_set_new(p, "transactionData", data);
		else
			json_decref(data);
		return p;
	}
}

static int tx_started(struct station *st, json_t *reply, int64_t *id, int *accepted)
{
	const char *s = json_string_value(json_object_get(json_object_get(reply, "idTagInfo"), "status"));
	*id = json_integer_value(json_object_get(reply, "transactionId"));
	*accepted = s && strcmp(s, "Accepted") == 0;
	return 0;
}

/* The central system's own value of a key stays; the daemon's default
 * applies otherwise. */
static void default_setting(struct station *st, enum station_setting which, long value)
{
	char *mine = NULL, v[24], why[128];

	if (which != SET_PING_INTERVAL)
		return;
	if (stationdb_config_get(st->db, "WebSocketPingInterval", &mine) == 0) {
		log_info("%s: keeping the central system's WebSocketPingInterval %s", st->id, mine);
		free(mine);
		return;
	}
	snprintf(v, sizeof v, "%ld", value);
	if (config16_set_local(keys_of(st), "WebSocketPingInterval", v, why, sizeof why)) {
		log_warn("%s: ping interval: %s", st->id, why);
		return;
	}
	station_set_ping_interval(st, (unsigned)value);
}

static void limit(struct station *st, unsigned connector, struct hal_limit *out)
{
	struct sc_limit l;

	*out = (struct hal_limit){ .value = 32, .unit = HAL_UNIT_A, .phases = 0 };
	if (sc_profiles_limit_at(profiles_of(st), connector, station_now_ms(st), SC_UNIT_A, &l) == 0) {
		out->value = l.limit;
		out->phases = l.phases;
	}
}

static void remote_start(struct station *st, const char *id, json_t *p)
{
	struct s16 *s = st->proto;
	json_t *c = json_object_get(p, "connectorId"), *profile_json = json_object_get(p, "chargingProfile");
	const char *tag = json_string_value(json_object_get(p, "idTag"));
	struct sc_profile *profile = NULL;
	char why[SC_WHY_MAX];
	int rc;

	/* A profile here must be a TxProfile (1.6 5.11); a bad one refuses the start. */
	if (profile_json && (sc_profile_from_json(profile_json, &profile, why) ||
			     sc_profile_check_remote_start(profile, why))) {
		log_info("%s: RemoteStartTransaction rejected: %s", st->id, why);
		sc_profile_free(profile);
		reply_status(st, id, "Rejected");
		return;
	}
	rc = c && json_integer_value(c) < 1 ? -ENOENT
		: station_remote_start(st, c ? (unsigned)json_integer_value(c) : 0, tag);
	if (rc > 0 && profile) {
		sc_profile_free(s->remote_profile[rc]);
		s->remote_profile[rc] = profile;   /* installed when the transaction begins */
		profile = NULL;
	}
	sc_profile_free(profile);
	reply_status(st, id, rc > 0 ? "Accepted" : "Rejected");
}

/* TxProfiles live and die with their transaction. */
static void tx_event(struct station *st, unsigned c, enum station_tx_event what,
		     const struct station_tx *tx)
{
	struct s16 *s = st->proto;
	char why[SC_WHY_MAX];

	switch (what) {
	case TX_BEGUN:
		sc_profiles_tx_begin(s->profiles, c, tx->start_ms);
		if (s->remote_profile[c]) {
			if (sc_profiles_install(s->profiles, c, s->remote_profile[c], why))
				log_warn("%s: connector %u: the RemoteStartTransaction profile: %s", st->id, c, why);
			s->remote_profile[c] = NULL;   /* stolen by install, or freed */
		}
		break;
	case TX_ID_KNOWN:
		sc_profiles_tx_set_id(s->profiles, c, (int32_t)tx->id);
		break;
	case TX_ENDED:
		sc_profiles_tx_end(s->profiles, c);
		break;
	}
	station_apply_limits(st);
}

static void remote_stop(struct station *st, const char *id, json_t *p)
{
	/* Answer first: the StopTransaction follows the confirmation. */
	int64_t tx = json_integer_value(json_object_get(p, "transactionId"));
	int found = 0;

	for (unsigned c = 1; c <= (unsigned)st->cfg.connectors; c++)
		found |= st->conn[c].tx.active && st->conn[c].tx.has_id && st->conn[c].tx.id == tx;
	reply_status(st, id, found ? "Accepted" : "Rejected");
	if (found)
		station_remote_stop(st, tx);
}

static void unlock_connector(struct station *st, const char *id, json_t *p)
{
	json_int_t c = json_integer_value(json_object_get(p, "connectorId"));
	int rc = c < 1 || c > st->cfg.connectors ? -ENOENT : station_unlock(st, (unsigned)c);
	reply_status(st, id, rc == -ENOENT ? "NotSupported" : rc ? "UnlockFailed" : "Unlocked");
}

static void change_availability(struct station *st, const char *id, json_t *p)
{
	json_int_t c = json_integer_value(json_object_get(p, "connectorId"));
	const char *type = json_string_value(json_object_get(p, "type"));
	enum connector_answer a = c < 0 || c > st->cfg.connectors ? CONN_ANSWER_REJECTED
		: station_change_availability(st, (unsigned)c, strcmp(type, "Operative") == 0);

	reply_status(st, id, a == CONN_ANSWER_SCHEDULED ? "Scheduled" :
			     a == CONN_ANSWER_ACCEPTED ? "Accepted" : "Rejected");
}

static void reset(struct station *st, const char *id, json_t *p)
{
	int hard = strcmp(json_string_value(json_object_get(p, "type")), "Hard") == 0;

	/* Transactions end with the reason of the reset (4.5 / 5.14); then the
	 * station restarts its OCPP session: it boots again. */
	reply_status(st, id, "Accepted");
	station_stop_all(st, hard ? STOP_HARD_RESET : STOP_SOFT_RESET);
	station_restart(st);
}

static int64_t ms_or(json_t *p, const char *key, int64_t absent)
{
	struct ev_timestamp ts;
	const char *s = json_string_value(json_object_get(p, key));
	return s && rfc3339_parse(s, &ts) == 0 ? ts.unix_ms : absent;
}

static int int_or(json_t *p, const char *key, int absent)
{
	json_t *v = json_object_get(p, key);
	return v ? (int)json_integer_value(v) : absent;
}

static void update_firmware(struct station *st, const char *id, json_t *p)
{
	struct s16 *s = st->proto;
	struct firmware_request r = {
		.location = json_string_value(json_object_get(p, "location")),
		.retrieve_ms = ms_or(p, "retrieveDate", station_now_ms(st)),
		.retries = int_or(p, "retries", -1), .retry_interval_s = int_or(p, "retryInterval", -1),
	};
	int rc = s->fw ? firmware_update(s->fw, &r) : -ENOTSUP;

	/* UpdateFirmware.conf has nothing to say; the notifications tell. */
	if (rc)
		log_error("%s: UpdateFirmware: %s", st->id, strerror(-rc));
	station_reply(st, id, json_object());
}

static void get_diagnostics(struct station *st, const char *id, json_t *p)
{
	struct s16 *s = st->proto;
	struct diag_request r = {
		.location = json_string_value(json_object_get(p, "location")),
		.retries = int_or(p, "retries", -1), .retry_interval_s = int_or(p, "retryInterval", -1),
		.start_ms = ms_or(p, "startTime", INT64_MIN), .stop_ms = ms_or(p, "stopTime", INT64_MAX),
	};
	char name[256];
	int rc = s->fw ? firmware_get_diagnostics(s->fw, &r, name, sizeof name) : -ENOTSUP;

	if (rc) {
		log_info("%s: GetDiagnostics: %s", st->id, strerror(-rc));
		station_reply(st, id, json_object());
		return;
	}
	station_reply(st, id, json_pack("{s:s}", "fileName", name));
}

static void on_call(struct station *st, const char *id, const struct ocpp_action *a,
		    json_t *payload)
{
	static const struct {
		const char *action;
		void (*fn)(struct station *st, const char *id, json_t *p);
	} handlers[] = {
		{ "CancelReservation", cancel_reservation },
		{ "ChangeAvailability", change_availability },
		{ "ChangeConfiguration", change_configuration },
		{ "ClearCache", clear_cache },
		{ "ClearChargingProfile", clear_charging_profile },
		{ "GetCompositeSchedule", get_composite_schedule },
		{ "GetConfiguration", get_configuration },
		{ "GetDiagnostics", get_diagnostics },
		{ "GetLocalListVersion", get_local_list_version },
		{ "RemoteStartTransaction", remote_start },
		{ "RemoteStopTransaction", remote_stop },
		{ "ReserveNow", reserve_now },
		{ "Reset", reset },
		{ "SendLocalList", send_local_list },
		{ "SetChargingProfile", set_charging_profile },
		{ "TriggerMessage", trigger_message },
		{ "UnlockConnector", unlock_connector },
		{ "UpdateFirmware", update_firmware },
	};

	for (size_t i = 0; i < sizeof handlers / sizeof *handlers; i++) {
		if (strcmp(a->name, handlers[i].action) == 0) {
			handlers[i].fn(st, id, payload);
			return;
		}
	}
	if (strcmp(a->name, "DataTransfer") == 0) {
		reply_status(st, id, "UnknownVendorId");
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
	.on_call = on_call,
	.status = status,
	.authorize = authorize,
	.tx_message = tx_message,
	.tx_sample = tx_sample,
	.default_setting = default_setting,
	.tx_started = tx_started,
	.setting = setting,
	.limit = limit,
	.tx_event = tx_event,
	.meter_now = meter_now,
};
