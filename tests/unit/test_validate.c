/* Unit tests: the schema validator's verdicts, codes and messages. The
 * conformance test (tests/node/conformance.js) covers every action against
 * the official schemas; these pin down the behaviour in C. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ocpp/frame.h"
#include "ocpp/validate.h"

/* Validates text as the request (or response) payload of an action. */
static int check(enum ocpp_version ver, const char *action, int response, const char *text,
		 struct ocpp_violation *v)
{
	json_error_t err;
	json_t *j = ocpp_json_parse(text, strlen(text), &err);
	int rc;
	if (!j)
		fail_msg("test payload is not JSON: %s", err.text);
	rc = ocpp_validate_message(ocpp_schemas(ver), action, response, j, v);
	json_decref(j);
	return rc;
}

static void expect_ok(enum ocpp_version ver, const char *action, int response, const char *text)
{
	struct ocpp_violation v;
	if (check(ver, action, response, text, &v))
		fail_msg("%s %s rejected: %s", action, text, v.reason);
}

static void expect_bad(enum ocpp_version ver, const char *action, int response, const char *text,
		       enum ocpp_error code, const char *reason)
{
	struct ocpp_violation v;
	if (check(ver, action, response, text, &v) == 0)
		fail_msg("%s %s accepted", action, text);
	assert_int_equal(v.code, code);
	assert_string_equal(v.reason, reason);
}

static void test_tables(void **state)
{
	const struct ocpp_schema_set *s16 = ocpp_schemas(OCPP_V16), *s201 = ocpp_schemas(OCPP_V201);
	(void)state;
	/* 28 core actions + 11 of the 1.6 security extension; 64 in 2.0.1. */
	assert_int_equal(s16->n_actions, 39);
	assert_int_equal(s201->n_actions, 64);
	for (size_t i = 1; i < s16->n_actions; i++)
		assert_true(strcmp(s16->actions[i - 1].name, s16->actions[i].name) < 0);
	assert_int_equal(ocpp_action_find(s16, "StartTransaction")->origin, OCPP_FROM_STATION);
	assert_int_equal(ocpp_action_find(s16, "RemoteStartTransaction")->origin, OCPP_FROM_CSMS);
	assert_int_equal(ocpp_action_find(s16, "DataTransfer")->origin, OCPP_FROM_EITHER);
	assert_int_equal(ocpp_action_find(s201, "TransactionEvent")->origin, OCPP_FROM_STATION);
	assert_int_equal(ocpp_action_find(s201, "RequestStartTransaction")->origin, OCPP_FROM_CSMS);
	assert_null(ocpp_action_find(s16, "TransactionEvent"));
	assert_null(ocpp_action_find(s201, "StartTransaction"));
}

static void test_valid_messages(void **state)
{
	(void)state;
	expect_ok(OCPP_V16, "BootNotification", 0,
		  "{\"chargePointVendor\":\"VendorX\",\"chargePointModel\":\"SingleSocketCharger\"}");
	expect_ok(OCPP_V16, "BootNotification", 1,
		  "{\"status\":\"Accepted\",\"currentTime\":\"2013-02-01T20:53:32.486Z\",\"interval\":300}");
	expect_ok(OCPP_V16, "Heartbeat", 0, "{}");
	expect_ok(OCPP_V16, "MeterValues", 0,
		  "{\"connectorId\":1,\"transactionId\":7,\"meterValue\":[{\"timestamp\":\"2024-01-01T00:00:00Z\","
		  "\"sampledValue\":[{\"value\":\"1234.5\",\"measurand\":\"Energy.Active.Import.Register\","
		  "\"unit\":\"Wh\",\"context\":\"Sample.Periodic\",\"phase\":\"L1\"}]}]}");
	expect_ok(OCPP_V201, "BootNotification", 0,
		  "{\"reason\":\"PowerUp\",\"chargingStation\":{\"model\":\"M\",\"vendorName\":\"V\","
		  "\"customData\":{\"vendorId\":\"acme\",\"anything\":[1,2]}}}");
	/* An integral real is an integer. */
	expect_ok(OCPP_V16, "Heartbeat", 1, "{\"currentTime\":\"2024-01-01T00:00:00Z\"}");
	expect_ok(OCPP_V16, "ChangeAvailability", 0, "{\"connectorId\":1.0,\"type\":\"Operative\"}");
	expect_ok(OCPP_V16, "ChangeAvailability", 0, "{\"connectorId\":1e2,\"type\":\"Operative\"}");
}

static void test_violations(void **state)
{
	(void)state;
	expect_bad(OCPP_V16, "BootNotification", 0, "{\"chargePointVendor\":\"V\"}",
		   OCPP_ERR_OCCURRENCE_CONSTRAINT, "required property 'chargePointModel' is missing");
	expect_bad(OCPP_V16, "BootNotification", 0,
		   "{\"chargePointVendor\":12,\"chargePointModel\":\"M\"}",
		   OCPP_ERR_TYPE_CONSTRAINT, "chargePointVendor: expected string, got integer");
	expect_bad(OCPP_V16, "BootNotification", 0,
		   "{\"chargePointVendor\":\"123456789012345678901\",\"chargePointModel\":\"M\"}",
		   OCPP_ERR_PROPERTY_CONSTRAINT, "chargePointVendor: longer than 20 characters");
	expect_bad(OCPP_V16, "BootNotification", 0,
		   "{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\",\"colour\":\"red\"}",
		   OCPP_ERR_FORMAT, "unknown property 'colour'");
	expect_bad(OCPP_V16, "ChangeAvailability", 0, "{\"connectorId\":1,\"type\":\"operative\"}",
		   OCPP_ERR_PROPERTY_CONSTRAINT, "type: 'operative' is not an allowed value");
	expect_bad(OCPP_V16, "ChangeAvailability", 0, "{\"connectorId\":1.5,\"type\":\"Operative\"}",
		   OCPP_ERR_TYPE_CONSTRAINT, "connectorId: expected integer, got number");
	expect_bad(OCPP_V16, "Heartbeat", 1, "{\"currentTime\":\"2023-02-29T00:00:00Z\"}",
		   OCPP_ERR_PROPERTY_CONSTRAINT,
		   "currentTime: '2023-02-29T00:00:00Z' is not an RFC 3339 date-time");
	expect_bad(OCPP_V16, "MeterValues", 0,
		   "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2024-01-01T00:00:00Z\","
		   "\"sampledValue\":[{\"value\":\"1\"},{\"value\":2}]}]}",
		   OCPP_ERR_TYPE_CONSTRAINT, "meterValue[0].sampledValue[1].value: expected string, got integer");
	expect_bad(OCPP_V201, "SetVariables", 0, "{\"setVariableData\":[]}",
		   OCPP_ERR_OCCURRENCE_CONSTRAINT, "setVariableData: needs at least 1 item");
	expect_bad(OCPP_V16, "NoSuchThing", 0, "{}", OCPP_ERR_NOT_IMPLEMENTED,
		   "OCPP 1.6 has no action 'NoSuchThing'");
}

static void test_string_length_counts_characters(void **state)
{
	char text[256];
	(void)state;
	/* idTag is string[20]: 20 euro signs are 60 bytes but 20 characters. */
	strcpy(text, "{\"idTag\":\"");
	for (int i = 0; i < 20; i++)
		strcat(text, "\xe2\x82\xac");
	strcat(text, "\"}");
	expect_ok(OCPP_V16, "Authorize", 0, text);
	strcpy(text + strlen(text) - 2, "\xe2\x82\xac\"}");
	expect_bad(OCPP_V16, "Authorize", 0, text, OCPP_ERR_PROPERTY_CONSTRAINT,
		   "idTag: longer than 20 characters");
}

/* A 1.6 SetChargingProfile whose one period has the given limit. */
#define PROFILE_WITH_LIMIT \
	"{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":1,\"stackLevel\":0," \
	"\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":\"Absolute\"," \
	"\"chargingSchedule\":{\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":" \
	"[{\"startPeriod\":0,\"limit\":%s}]}}}"

static void test_multiple_of(void **state)
{
	static const char *const ok[] = { "16", "16.1", "0.3", "32.0", "16.00000001" };
	static const char *const bad[] = { "16.15", "0.05", "1e-7" };
	char text[1024];
	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		snprintf(text, sizeof text, PROFILE_WITH_LIMIT, ok[i]);
		expect_ok(OCPP_V16, "SetChargingProfile", 0, text);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct ocpp_violation v;
		snprintf(text, sizeof text, PROFILE_WITH_LIMIT, bad[i]);
		assert_int_equal(check(OCPP_V16, "SetChargingProfile", 0, text, &v), -1);
		assert_int_equal(v.code, OCPP_ERR_PROPERTY_CONSTRAINT);
	}
}

static void test_formats(void **state)
{
	(void)state;
	assert_true(ocpp_is_date_time("2024-02-29T12:00:00Z"));
	assert_true(ocpp_is_date_time("2024-01-01t10:00:00z"));
	assert_true(ocpp_is_date_time("2024-01-01 10:00:00+01:00"));
	assert_true(ocpp_is_date_time("2024-01-01T10:00:00"));
	assert_false(ocpp_is_date_time("2024-01-01"));
	assert_true(ocpp_is_uri("http://example.com/fw.bin"));
	assert_true(ocpp_is_uri("ftp://user:pw@[2001:db8::1]:2121/logs/?x=1#top"));
	assert_true(ocpp_is_uri("mailto:ops@example.com"));
	assert_false(ocpp_is_uri("example.com/fw.bin"));
	assert_false(ocpp_is_uri("http://exa mple.com/"));
	assert_false(ocpp_is_uri("http://example.com/%zz"));
	assert_false(ocpp_is_uri("fw.bin"));
	assert_false(ocpp_is_uri("ftp://[::1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_valid_messages),
		cmocka_unit_test(test_violations),
		cmocka_unit_test(test_string_length_counts_characters),
		cmocka_unit_test(test_multiple_of),
		cmocka_unit_test(test_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
