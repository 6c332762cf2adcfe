/* Unit tests: OCPP 1.6 configuration keys. Expected values come from OCPP
 * 1.6 edition 2 chapter 9, sections 5.3 and 5.8, the errata sheet and the
 * security whitepaper; answers are checked against the official schemas. */
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
#include "station/config16.h"

/* What the station core saw through the hooks. */
struct hooks {
	int changed;
	char key[64], value[512];
	const char *veto;   /* key to refuse in check */
};

static void on_changed(void *ctx, const char *key, const char *value)
{
	struct hooks *h = ctx;
	h->changed++;
	snprintf(h->key, sizeof h->key, "%s", key);
	snprintf(h->value, sizeof h->value, "%s", value);
}

static int on_check(void *ctx, const char *key, const char *value, char *why, size_t len)
{
	struct hooks *h = ctx;
	(void)value;
	if (h->veto && strcmp(h->veto, key) == 0) {
		snprintf(why, len, "prerequisites not met");
		return -EPERM;
	}
	return 0;
}

static const struct config16_ops ops = { on_check, on_changed };

static struct config16 *station(unsigned profiles, struct hooks *h)
{
	struct config16 *cfg = config16_new(profiles, h ? &ops : NULL, h);
	assert_non_null(cfg);
	return cfg;
}

static enum config16_status change(struct config16 *cfg, const char *key, const char *value)
{
	char why[128];
	enum config16_status s = config16_change(cfg, key, value, why, sizeof why);
	/* Every refusal says why. */
	if (s == CONFIG16_REJECTED || s == CONFIG16_NOT_SUPPORTED)
		assert_true(why[0] != '\0');
	return s;
}

static void expect_status(struct config16 *cfg, const char *key, const char *value,
			  enum config16_status want)
{
	enum config16_status got = change(cfg, key, value);
	if (got != want)
		fail_msg("%s=%s: %s, wanted %s", key, value, config16_status_name(got),
			 config16_status_name(want));
}

/* The GetConfiguration.conf payload for keys (a JSON array text, or NULL),
 * checked against the official response schema. */
static json_t *get_configuration(struct config16 *cfg, const char *keys)
{
	json_t *k = keys ? json_loads(keys, 0, NULL) : NULL, *out = NULL;
	struct ocpp_violation v;

	assert_int_equal(config16_get_configuration(cfg, k, &out), 0);
	json_decref(k);
	if (ocpp_validate_message(ocpp_schemas(OCPP_V16), "GetConfiguration", 1, out, &v))
		fail_msg("GetConfiguration.conf invalid: %s", v.reason);
	return out;
}

/* The KeyValue for key in a GetConfiguration.conf, or NULL. */
static json_t *key_value(json_t *conf, const char *key)
{
	size_t i;
	json_t *kv;

	json_array_foreach(json_object_get(conf, "configurationKey"), i, kv)
		if (strcmp(json_string_value(json_object_get(kv, "key")), key) == 0)
			return kv;
	return NULL;
}

static int unknown_has(json_t *conf, const char *key)
{
	size_t i;
	json_t *k;

	json_array_foreach(json_object_get(conf, "unknownKey"), i, k)
		if (strcmp(json_string_value(k), key) == 0)
			return 1;
	return 0;
}

static void test_table(void **state)
{
	size_t n;
	const struct config16_def *t = config16_standard(&n);
	struct config16 *cfg = station(CONFIG16_ALL_PROFILES, NULL);
	char why[128];
	(void)state;

	assert_true(n >= 52);
	for (size_t i = 0; i < n; i++) {
		assert_true(strlen(t[i].name) <= CONFIG16_KEY_MAX);
		/* Each default is a valid value, stored as given. */
		if (t[i].def && config16_set_local(cfg, t[i].name, t[i].def, why, sizeof why))
			fail_msg("default of %s: %s", t[i].name, why);
		if (t[i].def && config16_has(cfg, t[i].name))
			assert_string_equal(config16_get(cfg, t[i].name), t[i].def);
		/* A MaxLength key exists and is an integer. */
		if (t[i].max_items) {
			long m;
			assert_int_equal(t[i].type, CONFIG16_CSL);
			config16_enable(cfg, t[i].max_items, 1);
			assert_int_equal(config16_get_int(cfg, t[i].max_items, &m), 0);
		}
	}
	config16_free(cfg);
}

static void test_defaults_and_getters(void **state)
{
	struct config16 *cfg = station(CONFIG16_ALL_PROFILES, NULL);
	long v;
	int b;
	(void)state;

	assert_int_equal(config16_get_int(cfg, "HeartbeatInterval", &v), 0);
	assert_int_equal(v, 300);
	assert_int_equal(config16_get_int(cfg, "NumberOfConnectors", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(config16_get_bool(cfg, "LocalAuthorizeOffline", &b), 0);
	assert_true(b);
	/* Type mismatches and absent keys. */
	assert_int_equal(config16_get_int(cfg, "LocalAuthorizeOffline", &v), -EINVAL);
	assert_int_equal(config16_get_bool(cfg, "HeartbeatInterval", &b), -EINVAL);
	assert_int_equal(config16_get_int(cfg, "NoSuchKey", &v), -ENOENT);
	assert_int_equal(config16_get_bool(cfg, "BlinkRepeat", &b), -ENOENT);   /* off */
	/* 9.1.17: the sampled data default. */
	assert_true(config16_csl_contains(cfg, "MeterValuesSampledData",
					  "Energy.Active.Import.Register"));
	assert_false(config16_csl_contains(cfg, "MeterValuesSampledData", "Energy"));
	assert_false(config16_csl_contains(cfg, "HeartbeatInterval", "300"));
	/* 9.1.29: every profile this station was created with. */
	assert_string_equal(config16_get(cfg, "SupportedFeatureProfiles"),
			    "Core,FirmwareManagement,LocalAuthListManagement,Reservation,"
			    "SmartCharging,RemoteTrigger");
	assert_true(config16_csl_contains(cfg, "SupportedFeatureProfiles", "SmartCharging"));
	/* Security whitepaper 7.6: no profile configured yet is 0. */
	assert_int_equal(config16_get_int(cfg, "SecurityProfile", &v), 0);
	assert_int_equal(v, 0);
	assert_null(config16_get(cfg, "CpoName"));
	config16_free(cfg);
}

/* 5.3: Accepted, Rejected for bad values, NotSupported for unknown keys. */
static void test_change_statuses(void **state)
{
	struct config16 *cfg = station(CONFIG16_ALL_PROFILES, NULL);
	long v;
	(void)state;

	expect_status(cfg, "HeartbeatInterval", "60", CONFIG16_ACCEPTED);
	assert_int_equal(config16_get_int(cfg, "HeartbeatInterval", &v), 0);
	assert_int_equal(v, 60);
	expect_status(cfg, "NoSuchKey", "1", CONFIG16_NOT_SUPPORTED);
	/* Out of range or not the expected format. */
	expect_status(cfg, "HeartbeatInterval", "abc", CONFIG16_REJECTED);
	expect_status(cfg, "HeartbeatInterval", "", CONFIG16_REJECTED);
	expect_status(cfg, "HeartbeatInterval", "1.5", CONFIG16_REJECTED);
	expect_status(cfg, "HeartbeatInterval", " 60", CONFIG16_REJECTED);
	expect_status(cfg, "HeartbeatInterval", "2147483648", CONFIG16_REJECTED);
	expect_status(cfg, "HeartbeatInterval", "-1", CONFIG16_REJECTED);
	assert_int_equal(config16_get_int(cfg, "HeartbeatInterval", &v), 0);
	assert_int_equal(v, 60);   /* unchanged */
	/* 9.1.34: negative ping intervals are Rejected; 0 disables. */
	expect_status(cfg, "WebSocketPingInterval", "-5", CONFIG16_REJECTED);
	expect_status(cfg, "WebSocketPingInterval", "0", CONFIG16_ACCEPTED);
	/* 9.1.11: a percentage. */
	config16_enable(cfg, "LightIntensity", 1);
	expect_status(cfg, "LightIntensity", "101", CONFIG16_REJECTED);
	expect_status(cfg, "LightIntensity", "100", CONFIG16_ACCEPTED);
	/* Booleans; values are CiStrings. */
	expect_status(cfg, "LocalPreauthorize", "yes", CONFIG16_REJECTED);
	expect_status(cfg, "LocalPreauthorize", "1", CONFIG16_REJECTED);
	expect_status(cfg, "LocalPreauthorize", "TRUE", CONFIG16_ACCEPTED);
	assert_string_equal(config16_get(cfg, "LocalPreauthorize"), "true");
	/* Not printable ASCII (CiString). */
	expect_status(cfg, "MeterValueSampleInterval", "6\n", CONFIG16_REJECTED);
	expect_status(cfg, "HeartbeatInterval", NULL, CONFIG16_REJECTED);
	assert_string_equal(config16_status_name(CONFIG16_REBOOT_REQUIRED), "RebootRequired");
	config16_free(cfg);
}

/* Chapter 9: read-only keys can be read, not written. */
static void test_readonly_rejected(void **state)
{
	static const char *const ro[] = {
		"NumberOfConnectors", "GetConfigurationMaxKeys", "SupportedFeatureProfiles",
		"MeterValuesSampledDataMaxLength", "LocalAuthListMaxLength", "SendLocalListMaxLength",
		"ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit",
		"ChargingScheduleMaxPeriods", "MaxChargingProfilesInstalled",
		"ReserveConnectorZeroSupported", "SupportedFileTransferProtocols",
		"CertificateStoreMaxLength", "AdditionalRootCertificateCheck", NULL,
	};
	struct config16 *cfg = station(CONFIG16_ALL_PROFILES, NULL);
	json_t *conf;
	(void)state;

	for (const char *const *k = ro; *k; k++) {
		const char *before = config16_get(cfg, *k);
		expect_status(cfg, *k, before ? before : "1", CONFIG16_REJECTED);
		assert_true(config16_is_readonly(cfg, *k));
	}
	/* The station itself may set them (its own configuration). */
	assert_int_equal(config16_set_local(cfg, "NumberOfConnectors", "2", NULL, 0), 0);
	assert_string_equal(config16_get(cfg, "NumberOfConnectors"), "2");
	conf = get_configuration(cfg, "[\"NumberOfConnectors\",\"HeartbeatInterval\"]");
	assert_true(json_is_true(json_object_get(key_value(conf, "NumberOfConnectors"), "readonly")));
	assert_true(json_is_false(json_object_get(key_value(conf, "HeartbeatInterval"), "readonly")));
	json_decref(conf);

	/* Errata 3.84: UnlockConnectorOnEVSideDisconnect may be read-only
	 * (fixed cable). */
	assert_int_equal(config16_set_readonly(cfg, "UnlockConnectorOnEVSideDisconnect", 1), 0);
	expect_status(cfg, "UnlockConnectorOnEVSideDisconnect", "false", CONFIG16_REJECTED);
	conf = get_configuration(cfg, "[\"UnlockConnectorOnEVSideDisconnect\"]");
	assert_true(json_is_true(json_object_get(key_value(conf, "UnlockConnectorOnEVSideDisconnect"),
						 "readonly")));
	json_decref(conf);
	/* An R key cannot be made writable. */
	assert_int_equal(config16_set_readonly(cfg, "NumberOfConnectors", 0), -EPERM);
	config16_free(cfg);
}

/* 9.1.15/9.1.17, 7.31, errata sheet sections 3.14.4/3.14.5: measurand lists. */
static void test_measurand_lists(void **state)
{
	static const char *const meter[] = {
		"Energy.Active.Import.Register", "Power.Active.Import", "Current.Import",
		"Voltage", NULL,
	};
	struct config16 *cfg = station(CONFIG16_CORE, NULL);
	(void)state;

	expect_status(cfg, "MeterValuesSampledData",
		      "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC",
		      CONFIG16_ACCEPTED);
	assert_true(config16_csl_contains(cfg, "MeterValuesSampledData", "SoC"));
	assert_true(config16_csl_contains(cfg, "MeterValuesSampledData", "Voltage"));
	/* Unknown member: Rejected, nothing changed. */
	expect_status(cfg, "MeterValuesSampledData", "Voltage,Humidity", CONFIG16_REJECTED);
	expect_status(cfg, "MeterValuesSampledData", "Energy.Active.Import", CONFIG16_REJECTED);
	assert_true(config16_csl_contains(cfg, "MeterValuesSampledData", "SoC"));
	/* "Voltage.L1": a measurand with its phase; SoC has none. */
	expect_status(cfg, "MeterValuesAlignedData", "voltage.l1, Current.Import.L2-N",
		      CONFIG16_ACCEPTED);
	assert_string_equal(config16_get(cfg, "MeterValuesAlignedData"),
			    "Voltage.L1,Current.Import.L2-N");
	expect_status(cfg, "MeterValuesAlignedData", "SoC.L1", CONFIG16_REJECTED);
	expect_status(cfg, "MeterValuesAlignedData", "Voltage.L4", CONFIG16_REJECTED);
	/* Malformed lists and duplicates. */
	expect_status(cfg, "StopTxnSampledData", "Voltage,,SoC", CONFIG16_REJECTED);
	expect_status(cfg, "StopTxnSampledData", "Voltage,", CONFIG16_REJECTED);
	expect_status(cfg, "StopTxnSampledData", "Voltage,voltage", CONFIG16_REJECTED);
	/* 3.14.5: empty means no meter values in StopTransaction. */
	expect_status(cfg, "StopTxnSampledData", "Voltage", CONFIG16_ACCEPTED);
	expect_status(cfg, "StopTxnSampledData", "", CONFIG16_ACCEPTED);
	assert_string_equal(config16_get(cfg, "StopTxnSampledData"), "");
	assert_false(config16_csl_contains(cfg, "StopTxnSampledData", ""));
	/* What this station cannot measure is Rejected (3.14.4). */
	assert_int_equal(config16_restrict(cfg, "MeterValuesSampledData", meter), 0);
	expect_status(cfg, "MeterValuesSampledData", "Voltage,SoC", CONFIG16_REJECTED);
	expect_status(cfg, "MeterValuesSampledData", "Voltage.L3,Current.Import", CONFIG16_ACCEPTED);
	static const char *const bogus[] = { "Humidity", NULL };
	assert_int_equal(config16_restrict(cfg, "MeterValuesSampledData", bogus), -EINVAL);
	assert_int_equal(config16_restrict(cfg, "HeartbeatInterval", meter), -EINVAL);
	assert_int_equal(config16_restrict(cfg, "MeterValuesSampledData", NULL), 0);
	expect_status(cfg, "MeterValuesSampledData", "SoC", CONFIG16_ACCEPTED);
	config16_free(cfg);
}

/* n distinct measurands with phases, about 36 characters each. */
static char *long_list(char buf[600], int n)
{
	static const char *const ph[] = { "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3" };
	static const char *const m[] = {
		"Energy.Active.Import.Register", "Energy.Active.Export.Register",
		"Energy.Reactive.Import.Register",
	};

	*buf = '\0';
	for (int i = 0; i < n && i < 15; i++)
		snprintf(buf + strlen(buf), 600 - strlen(buf), "%s%s.%s", i ? "," : "",
			 m[i / 5], ph[i % 5]);
	return buf;
}

/* 5.3: a [KeyName]MaxLength key bounds its CSL. */
static void test_max_length(void **state)
{
	struct config16 *cfg = station(CONFIG16_CORE, NULL);
	char why[128];
	(void)state;

	assert_int_equal(config16_set_local(cfg, "MeterValuesSampledDataMaxLength", "2", NULL, 0), 0);
	expect_status(cfg, "MeterValuesSampledData", "Voltage,SoC", CONFIG16_ACCEPTED);
	assert_int_equal(config16_change(cfg, "MeterValuesSampledData", "Voltage,SoC,Frequency",
					 why, sizeof why), CONFIG16_REJECTED);
	assert_non_null(strstr(why, "MeterValuesSampledDataMaxLength"));
	assert_string_equal(config16_get(cfg, "MeterValuesSampledData"), "Voltage,SoC");
	/* The other lists have their own limits. */
	expect_status(cfg, "StopTxnAlignedData", "Voltage,SoC,Frequency", CONFIG16_ACCEPTED);
	/* A value is at most 500 characters (CiString500Type). */
	char big[600];
	assert_int_equal(config16_set_local(cfg, "StopTxnAlignedDataMaxLength", "100", NULL, 0), 0);
	assert_true(strlen(long_list(big, 15)) > 500);
	assert_int_equal(config16_change(cfg, "StopTxnAlignedData", big, why, sizeof why),
			 CONFIG16_REJECTED);
	assert_non_null(strstr(why, "500"));
	assert_true(strlen(long_list(big, 12)) <= 500);
	expect_status(cfg, "StopTxnAlignedData", big, CONFIG16_ACCEPTED);
	config16_free(cfg);
}

/* 9.1.7: <connector>.<rotation>, connectors 0..NumberOfConnectors. */
static void test_phase_rotation(void **state)
{
	struct config16 *cfg = station(CONFIG16_CORE, NULL);
	(void)state;

	expect_status(cfg, "ConnectorPhaseRotation", "0.RST, 1.RST", CONFIG16_ACCEPTED);
	assert_string_equal(config16_get(cfg, "ConnectorPhaseRotation"), "0.RST,1.RST");
	expect_status(cfg, "ConnectorPhaseRotation", "0.RST, 1.RST, 2.RTS", CONFIG16_REJECTED);
	assert_int_equal(config16_set_local(cfg, "NumberOfConnectors", "2", NULL, 0), 0);
	expect_status(cfg, "ConnectorPhaseRotation", "0.RST, 1.RST, 2.RTS", CONFIG16_ACCEPTED);
	expect_status(cfg, "ConnectorPhaseRotation", "1.NotApplicable,2.unknown", CONFIG16_ACCEPTED);
	assert_string_equal(config16_get(cfg, "ConnectorPhaseRotation"), "1.NotApplicable,2.Unknown");
	expect_status(cfg, "ConnectorPhaseRotation", "1.XYZ", CONFIG16_REJECTED);
	expect_status(cfg, "ConnectorPhaseRotation", "RST", CONFIG16_REJECTED);
	expect_status(cfg, "ConnectorPhaseRotation", ".RST", CONFIG16_REJECTED);
	expect_status(cfg, "ConnectorPhaseRotation", "1.RST,1.TSR", CONFIG16_REJECTED);
	expect_status(cfg, "ConnectorPhaseRotation", "99999999999.RST", CONFIG16_REJECTED);
	config16_free(cfg);
}

/* 9.1.29, 9.5.1, 9.4.2: CSLs with fixed members. */
static void test_fixed_members(void **state)
{
	struct config16 *cfg = station(CONFIG16_CORE | CONFIG16_SMART_CHARGING, NULL);
	char why[128];
	(void)state;

	assert_string_equal(config16_get(cfg, "SupportedFeatureProfiles"), "Core,SmartCharging");
	assert_int_equal(config16_set_local(cfg, "SupportedFeatureProfiles", "Core,Teleport",
					    why, sizeof why), -EINVAL);
	assert_int_equal(config16_set_local(cfg, "ChargingScheduleAllowedChargingRateUnit", "current",
					    NULL, 0), 0);
	assert_string_equal(config16_get(cfg, "ChargingScheduleAllowedChargingRateUnit"), "Current");
	assert_int_equal(config16_set_local(cfg, "ChargingScheduleAllowedChargingRateUnit", "A",
					    NULL, 0), -EINVAL);
	config16_free(cfg);
}

/* 9: a required key only exists with its profile; optional ones when on. */
static void test_profiles_and_optional_keys(void **state)
{
	struct config16 *cfg = station(CONFIG16_CORE, NULL);
	json_t *conf;
	(void)state;

	assert_string_equal(config16_get(cfg, "SupportedFeatureProfiles"), "Core");
	expect_status(cfg, "LocalAuthListEnabled", "true", CONFIG16_NOT_SUPPORTED);
	expect_status(cfg, "CpoName", "ACME", CONFIG16_NOT_SUPPORTED);
	assert_false(config16_has(cfg, "LocalAuthListEnabled"));
	conf = get_configuration(cfg, "[\"LocalAuthListEnabled\",\"HeartbeatInterval\"]");
	assert_true(unknown_has(conf, "LocalAuthListEnabled"));
	assert_non_null(key_value(conf, "HeartbeatInterval"));
	json_decref(conf);
	/* The full list has no key of another profile. */
	conf = get_configuration(cfg, NULL);
	assert_null(key_value(conf, "LocalAuthListMaxLength"));
	assert_null(key_value(conf, "ChargeProfileMaxStackLevel"));
	assert_null(key_value(conf, "SecurityProfile"));
	assert_null(json_object_get(conf, "unknownKey"));
	/* Optional: BlinkRepeat is off until the station has the hardware. */
	assert_null(key_value(conf, "BlinkRepeat"));
	json_decref(conf);
	expect_status(cfg, "BlinkRepeat", "3", CONFIG16_NOT_SUPPORTED);
	assert_int_equal(config16_enable(cfg, "BlinkRepeat", 1), 0);
	expect_status(cfg, "BlinkRepeat", "3", CONFIG16_ACCEPTED);
	assert_int_equal(config16_enable(cfg, "AuthorizationCacheEnabled", 0), 0);
	expect_status(cfg, "AuthorizationCacheEnabled", "true", CONFIG16_NOT_SUPPORTED);
	/* Required keys stay; keys of unsupported profiles cannot be turned on. */
	assert_int_equal(config16_enable(cfg, "HeartbeatInterval", 0), -EPERM);
	assert_int_equal(config16_enable(cfg, "ReserveConnectorZeroSupported", 1), -EPERM);
	assert_int_equal(config16_enable(cfg, "NoSuchKey", 1), -ENOENT);
	config16_free(cfg);
}

/* Key names are CiString50Type: matched case-insensitively, answered with
 * the spec's spelling. */
static void test_key_case(void **state)
{
	struct hooks h = { 0 };
	struct config16 *cfg = station(CONFIG16_CORE, &h);
	json_t *conf;
	(void)state;

	expect_status(cfg, "heartbeatinterval", "120", CONFIG16_ACCEPTED);
	assert_string_equal(h.key, "HeartbeatInterval");
	assert_string_equal(config16_get(cfg, "HeartbeatInterval"), "120");
	conf = get_configuration(cfg, "[\"HEARTBEATINTERVAL\"]");
	assert_non_null(key_value(conf, "HeartbeatInterval"));
	json_decref(conf);
	config16_free(cfg);
}

static void test_changed_and_check_hooks(void **state)
{
	struct hooks h = { 0 };
	struct config16 *cfg = station(CONFIG16_ALL_PROFILES, &h);
	char why[128];
	(void)state;

	expect_status(cfg, "HeartbeatInterval", "900", CONFIG16_ACCEPTED);
	assert_int_equal(h.changed, 1);
	assert_string_equal(h.key, "HeartbeatInterval");
	assert_string_equal(h.value, "900");
	/* The same value again: nothing to persist. Refusals: nothing either. */
	expect_status(cfg, "HeartbeatInterval", "900", CONFIG16_ACCEPTED);
	expect_status(cfg, "HeartbeatInterval", "x", CONFIG16_REJECTED);
	expect_status(cfg, "NumberOfConnectors", "4", CONFIG16_REJECTED);
	assert_int_equal(config16_set_local(cfg, "HeartbeatInterval", "30", NULL, 0), 0);
	assert_int_equal(h.changed, 1);
	/* The stored form is what is persisted. */
	expect_status(cfg, "LocalPreauthorize", "True", CONFIG16_ACCEPTED);
	assert_string_equal(h.value, "true");
	/* The station can refuse what the table allows. */
	h.veto = "SecurityProfile";
	assert_int_equal(config16_change(cfg, "SecurityProfile", "2", why, sizeof why),
			 CONFIG16_REJECTED);
	assert_string_equal(why, "prerequisites not met");
	assert_string_equal(config16_get(cfg, "SecurityProfile"), "0");
	assert_int_equal(h.changed, 2);
	config16_free(cfg);
}

/* Security whitepaper 7.6: the profile can be raised, never lowered, over
 * OCPP (A00.FR.005); 0..3. */
static void test_security_profile(void **state)
{
	struct config16 *cfg = station(CONFIG16_CORE | CONFIG16_SECURITY, NULL);
	(void)state;

	expect_status(cfg, "SecurityProfile", "1", CONFIG16_ACCEPTED);
	expect_status(cfg, "SecurityProfile", "0", CONFIG16_REJECTED);
	expect_status(cfg, "SecurityProfile", "4", CONFIG16_REJECTED);
	expect_status(cfg, "SecurityProfile", "1", CONFIG16_ACCEPTED);
	expect_status(cfg, "SecurityProfile", "3", CONFIG16_ACCEPTED);
	assert_string_equal(config16_get(cfg, "SecurityProfile"), "3");
	/* Lowering is for other means than OCPP: the station's own. */
	assert_int_equal(config16_set_local(cfg, "SecurityProfile", "1", NULL, 0), 0);
	assert_string_equal(config16_get(cfg, "SecurityProfile"), "1");
	expect_status(cfg, "CpoName", "ACME Charging", CONFIG16_ACCEPTED);
	config16_free(cfg);
}

/* Security whitepaper 7.2: AuthorizationKey is write-only and never read
 * out by GetConfiguration. */
static void test_authorization_key(void **state)
{
	struct hooks h = { 0 };
	struct config16 *cfg = station(CONFIG16_ALL_PROFILES, &h);
	json_t *conf;
	(void)state;

	expect_status(cfg, "AuthorizationKey", "short", CONFIG16_REJECTED);
	expect_status(cfg, "AuthorizationKey", "00112233445566778899aabbccddeeff0011223344",
		      CONFIG16_REJECTED);   /* 42 > 40 */
	expect_status(cfg, "AuthorizationKey", "00112233445566778899aabbccddeeff",
		      CONFIG16_ACCEPTED);
	/* The station has it (to connect with), and persists it. */
	assert_string_equal(config16_get(cfg, "AuthorizationKey"), "00112233445566778899aabbccddeeff");
	assert_string_equal(h.key, "AuthorizationKey");
	assert_false(config16_is_readonly(cfg, "AuthorizationKey"));

	conf = get_configuration(cfg, NULL);
	assert_null(key_value(conf, "AuthorizationKey"));
	json_decref(conf);
	conf = get_configuration(cfg, "[\"AuthorizationKey\",\"authorizationkey\"]");
	assert_null(key_value(conf, "AuthorizationKey"));
	assert_false(unknown_has(conf, "AuthorizationKey"));
	char *text = json_dumps(conf, 0);
	assert_null(strstr(text, "00112233445566778899aabbccddeeff"));
	free(text);
	json_decref(conf);
	config16_free(cfg);
}

/* 5.8 and 6.24: the whole list, requested keys, unknown keys. */
static void test_get_configuration(void **state)
{
	size_t n, want = 0;
	const struct config16_def *t = config16_standard(&n);
	struct config16 *cfg = station(CONFIG16_ALL_PROFILES, NULL);
	json_t *conf, *kv;
	(void)state;

	/* Everything present except the write-only key. */
	conf = get_configuration(cfg, NULL);
	for (size_t i = 0; i < n; i++)
		want += config16_has(cfg, t[i].name) && t[i].access != CONFIG16_W;
	assert_int_equal(json_array_size(json_object_get(conf, "configurationKey")), want);
	kv = key_value(conf, "MeterValuesSampledData");
	assert_non_null(kv);
	assert_string_equal(json_string_value(json_object_get(kv, "value")),
			    "Energy.Active.Import.Register");
	assert_true(json_is_false(json_object_get(kv, "readonly")));
	/* CpoName has no value yet: the value is absent (7.29). */
	kv = key_value(conf, "CpoName");
	assert_non_null(kv);
	assert_null(json_object_get(kv, "value"));
	json_decref(conf);

	/* An empty list is every key too. */
	conf = get_configuration(cfg, "[]");
	assert_int_equal(json_array_size(json_object_get(conf, "configurationKey")), want);
	json_decref(conf);

	/* Known once each, in request order; unknown once each. */
	conf = get_configuration(cfg, "[\"NumberOfConnectors\",\"Foo\",\"HeartbeatInterval\","
				 "\"NumberOfConnectors\",\"Foo\",\"Bar\"]");
	kv = json_object_get(conf, "configurationKey");
	assert_int_equal(json_array_size(kv), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(kv, 0), "key")),
			    "NumberOfConnectors");
	assert_string_equal(json_string_value(json_object_get(json_array_get(kv, 1), "value")), "300");
	assert_int_equal(json_array_size(json_object_get(conf, "unknownKey")), 2);
	assert_true(unknown_has(conf, "Foo"));
	assert_true(unknown_has(conf, "Bar"));
	json_decref(conf);

	/* Only unknown keys: an empty configurationKey. */
	conf = get_configuration(cfg, "[\"Nope\"]");
	assert_int_equal(json_array_size(json_object_get(conf, "configurationKey")), 0);
	json_decref(conf);
	config16_free(cfg);
}

/* 9.1.9: more keys than GetConfigurationMaxKeys; bad input. */
static void test_get_configuration_limits(void **state)
{
	struct config16 *cfg = station(CONFIG16_CORE, NULL);
	json_t *keys = json_loads("[\"A\",\"B\",\"C\"]", 0, NULL), *out;
	(void)state;

	assert_int_equal(config16_set_local(cfg, "GetConfigurationMaxKeys", "2", NULL, 0), 0);
	assert_int_equal(config16_get_configuration(cfg, keys, &out), -E2BIG);
	assert_null(out);
	json_decref(keys);
	keys = json_loads("[\"A\",1]", 0, NULL);
	assert_int_equal(config16_get_configuration(cfg, keys, &out), -EINVAL);
	json_decref(keys);
	keys = json_object();
	assert_int_equal(config16_get_configuration(cfg, keys, &out), -EINVAL);
	json_decref(keys);
	/* A name with a NUL inside is unknown, not HeartbeatInterval. */
	keys = json_array();
	json_array_append_new(keys, json_stringn("HeartbeatInterval\0x", 19));
	assert_int_equal(config16_get_configuration(cfg, keys, &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "configurationKey")), 0);
	assert_int_equal(json_array_size(json_object_get(out, "unknownKey")), 1);
	json_decref(out);
	json_decref(keys);
	config16_free(cfg);
}

/* Values and key names at the schema's limits. */
static void test_schema_limits(void **state)
{
	struct config16 *cfg = station(CONFIG16_CORE | CONFIG16_SECURITY, NULL);
	char v[502];
	json_t *conf;
	(void)state;

	memset(v, 'x', 501);
	v[501] = '\0';
	expect_status(cfg, "CpoName", v, CONFIG16_REJECTED);
	v[500] = '\0';
	expect_status(cfg, "CpoName", v, CONFIG16_ACCEPTED);
	conf = get_configuration(cfg, "[\"CpoName\"]");
	assert_int_equal(strlen(json_string_value(json_object_get(key_value(conf, "CpoName"),
								   "value"))), 500);
	json_decref(conf);
	/* An unknown key longer than 50 cannot be an unknownKey; a valid
	 * request never has one (its items are CiString50Type). */
	char req[80] = "[\"";
	memset(req + 2, 'k', 51);
	strcpy(req + 53, "\"]");
	conf = get_configuration(cfg, req);
	assert_null(json_object_get(conf, "unknownKey"));
	json_decref(conf);
	config16_free(cfg);
}

static void test_vendor_keys(void **state)
{
	static const struct config16_def level = {
		.name = "EvstationLogLevel", .type = CONFIG16_INT, .access = CONFIG16_RW,
		.def = "3", .min = 0, .max = 7,
	};
	static const struct config16_def serial = {
		.name = "EvstationSerial", .type = CONFIG16_STRING, .access = CONFIG16_R,
		.def = "SN-0001",
	};
	static const struct config16_def tls = {
		.name = "EvstationTlsCiphers", .type = CONFIG16_CSL, .access = CONFIG16_RW,
		.def = "A,B", .reboot = 1,
	};
	static const struct config16_def dup = {
		.name = "heartbeatinterval", .type = CONFIG16_INT, .access = CONFIG16_RW,
		.def = "1", .min = 0, .max = 9,
	};
	static const struct config16_def bad_default = {
		.name = "EvstationBad", .type = CONFIG16_BOOL, .access = CONFIG16_RW, .def = "maybe",
	};
	static const struct config16_def bad_range = {
		.name = "EvstationRange", .type = CONFIG16_INT, .access = CONFIG16_RW, .min = 5, .max = 1,
	};
	static const struct config16_def long_name = {
		.name = "EvstationAVeryLongVendorSpecificConfigurationKeyName",   /* 52 > 50 */
		.type = CONFIG16_BOOL, .access = CONFIG16_RW,
	};
	struct config16 *cfg = station(CONFIG16_CORE, NULL);
	long v;
	json_t *conf;
	(void)state;

	assert_int_equal(config16_add(cfg, &level), 0);
	assert_int_equal(config16_add(cfg, &serial), 0);
	assert_int_equal(config16_add(cfg, &tls), 0);
	assert_int_equal(config16_add(cfg, &level), -EEXIST);
	assert_int_equal(config16_add(cfg, &dup), -EEXIST);
	assert_int_equal(config16_add(cfg, &bad_default), -EINVAL);
	assert_int_equal(config16_add(cfg, &bad_range), -EINVAL);
	assert_int_equal(config16_add(cfg, &long_name), -EINVAL);

	assert_int_equal(config16_get_int(cfg, "EvstationLogLevel", &v), 0);
	assert_int_equal(v, 3);
	expect_status(cfg, "EvstationLogLevel", "8", CONFIG16_REJECTED);
	expect_status(cfg, "EvstationLogLevel", "5", CONFIG16_ACCEPTED);
	expect_status(cfg, "EvstationSerial", "SN-0002", CONFIG16_REJECTED);
	expect_status(cfg, "EvstationTlsCiphers", "C, D", CONFIG16_REBOOT_REQUIRED);
	assert_string_equal(config16_get(cfg, "EvstationTlsCiphers"), "C,D");
	assert_true(config16_csl_contains(cfg, "EvstationTlsCiphers", "D"));

	/* After the standard keys, with their read-only state. */
	conf = get_configuration(cfg, NULL);
	assert_true(json_is_true(json_object_get(key_value(conf, "EvstationSerial"), "readonly")));
	assert_string_equal(json_string_value(json_object_get(key_value(conf, "EvstationLogLevel"),
							       "value")), "5");
	json_decref(conf);
	config16_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_defaults_and_getters),
		cmocka_unit_test(test_change_statuses),
		cmocka_unit_test(test_readonly_rejected),
		cmocka_unit_test(test_measurand_lists),
		cmocka_unit_test(test_max_length),
		cmocka_unit_test(test_phase_rotation),
		cmocka_unit_test(test_fixed_members),
		cmocka_unit_test(test_profiles_and_optional_keys),
		cmocka_unit_test(test_key_case),
		cmocka_unit_test(test_changed_and_check_hooks),
		cmocka_unit_test(test_security_profile),
		cmocka_unit_test(test_authorization_key),
		cmocka_unit_test(test_get_configuration),
		cmocka_unit_test(test_get_configuration_limits),
		cmocka_unit_test(test_schema_limits),
		cmocka_unit_test(test_vendor_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
