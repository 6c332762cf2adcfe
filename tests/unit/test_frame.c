/* Unit tests: OCPP-J frame parsing and building, error-code spelling. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ocpp/error.h"
#include "ocpp/frame.h"

static int parse(const char *text, struct ocpp_frame *f, struct ocpp_violation *v)
{
	return ocpp_frame_parse(text, strlen(text), f, v);
}

static void test_call(void **state)
{
	struct ocpp_frame f;
	struct ocpp_violation v;
	(void)state;
	assert_int_equal(parse("[2, \"19223201\", \"BootNotification\", "
			       "{\"chargePointVendor\": \"VendorX\"}]", &f, &v), 0);
	assert_int_equal(f.type, OCPP_CALL);
	assert_string_equal(f.id, "19223201");
	assert_string_equal(f.action, "BootNotification");
	assert_string_equal(json_string_value(json_object_get(f.payload, "chargePointVendor")), "VendorX");
	ocpp_frame_clear(&f);
}

static void test_result_and_error(void **state)
{
	struct ocpp_frame f;
	struct ocpp_violation v;
	(void)state;
	assert_int_equal(parse("[3,\"a\",{\"status\":\"Accepted\"}]", &f, &v), 0);
	assert_int_equal(f.type, OCPP_CALLRESULT);
	assert_true(json_is_object(f.payload));
	ocpp_frame_clear(&f);

	assert_int_equal(parse("[4,\"162376037\",\"NotSupported\",\"no\",{\"x\":1}]", &f, &v), 0);
	assert_int_equal(f.type, OCPP_CALLERROR);
	assert_string_equal(f.error_code, "NotSupported");
	assert_string_equal(f.error_description, "no");
	assert_int_equal(json_integer_value(json_object_get(f.error_details, "x")), 1);
	ocpp_frame_clear(&f);
}

/* Each malformed frame, the error it gets and the id to answer with. */
static void expect_bad(const char *text, enum ocpp_error code, const char *id)
{
	struct ocpp_frame f;
	struct ocpp_violation v;
	if (parse(text, &f, &v) == 0)
		fail_msg("accepted %s", text);
	if (v.code != code)
		fail_msg("%s: code %d, wanted %d (%s)", text, v.code, code, v.reason);
	assert_string_equal(f.id, id);
	assert_true(v.reason[0] != '\0');
	ocpp_frame_clear(&f);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_bad("", OCPP_ERR_RPC_FRAMEWORK, "-1");
	expect_bad("[2,\"1\",\"Heartbeat\",{}", OCPP_ERR_RPC_FRAMEWORK, "-1");
	expect_bad("{\"a\":1}", OCPP_ERR_RPC_FRAMEWORK, "-1");
	expect_bad("[]", OCPP_ERR_RPC_FRAMEWORK, "-1");
	expect_bad("[\"2\",\"1\",\"Heartbeat\",{}]", OCPP_ERR_RPC_FRAMEWORK, "-1");
	expect_bad("[2,1,\"Heartbeat\",{}]", OCPP_ERR_RPC_FRAMEWORK, "-1");
	expect_bad("[2,\"\",\"Heartbeat\",{}]", OCPP_ERR_RPC_FRAMEWORK, "-1");
	expect_bad("[2,\"0123456789012345678901234567890123456\",\"Heartbeat\",{}]",
		   OCPP_ERR_RPC_FRAMEWORK, "-1");
	expect_bad("[2,\"7\",\"Heartbeat\"]", OCPP_ERR_RPC_FRAMEWORK, "7");
	expect_bad("[2,\"7\",\"Heartbeat\",{},{}]", OCPP_ERR_RPC_FRAMEWORK, "7");
	expect_bad("[2,\"7\",42,{}]", OCPP_ERR_RPC_FRAMEWORK, "7");
	expect_bad("[2,\"7\",\"\",{}]", OCPP_ERR_RPC_FRAMEWORK, "7");
	expect_bad("[2,\"7\",\"Heartbeat\",null]", OCPP_ERR_TYPE_CONSTRAINT, "7");
	expect_bad("[2,\"7\",\"Heartbeat\",[]]", OCPP_ERR_TYPE_CONSTRAINT, "7");
	expect_bad("[3,\"7\"]", OCPP_ERR_RPC_FRAMEWORK, "7");
	expect_bad("[4,\"7\",\"GenericError\",\"x\"]", OCPP_ERR_RPC_FRAMEWORK, "7");
	expect_bad("[4,\"7\",\"GenericError\",\"x\",[]]", OCPP_ERR_RPC_FRAMEWORK, "7");
	expect_bad("[9,\"7\",\"X\",{}]", OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED, "7");
	expect_bad("[1,\"7\",\"X\",{}]", OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED, "7");
	/* An embedded NUL would make "Heartbeat\0x" look like Heartbeat. */
	expect_bad("[2,\"7\",\"Heartbeat\\u0000x\",{}]", OCPP_ERR_RPC_FRAMEWORK, "7");
}

static void test_2_1_types_parse(void **state)
{
	struct ocpp_frame f;
	struct ocpp_violation v;
	(void)state;
	assert_int_equal(parse("[6,\"s\",\"NotifyPeriodicEventStream\",{}]", &f, &v), 0);
	assert_int_equal(f.type, OCPP_SEND);
	assert_string_equal(f.action, "NotifyPeriodicEventStream");
	ocpp_frame_clear(&f);
	assert_int_equal(parse("[5,\"r\",\"GenericError\",\"\",{}]", &f, &v), 0);
	assert_int_equal(f.type, OCPP_CALLRESULTERROR);
	ocpp_frame_clear(&f);
}

static void test_huge_integer_payload(void **state)
{
	struct ocpp_frame f;
	struct ocpp_violation v;
	(void)state;
	/* Too large for 64 bits: read as a real, like any JSON peer would. */
	assert_int_equal(parse("[2,\"1\",\"X\",{\"n\":123456789012345678901234}]", &f, &v), 0);
	assert_int_equal(f.type, OCPP_CALL);
	assert_true(json_is_real(json_object_get(f.payload, "n")));
	ocpp_frame_clear(&f);
}

static void test_build_roundtrip(void **state)
{
	json_t *payload = json_pack("{s:s, s:f}", "status", "Accepted", "limit", 16.1);
	char *text;
	struct ocpp_frame f;
	struct ocpp_violation v;
	(void)state;

	text = ocpp_build_call("abc", "SetChargingProfile", payload);
	assert_string_equal(text, "[2,\"abc\",\"SetChargingProfile\",{\"status\":\"Accepted\",\"limit\":16.1}]");
	free(text);
	text = ocpp_build_result("abc", payload);
	assert_string_equal(text, "[3,\"abc\",{\"status\":\"Accepted\",\"limit\":16.1}]");
	free(text);
	/* The payload was borrowed, not stolen. */
	assert_int_equal(payload->refcount, 1);
	json_decref(payload);

	text = ocpp_build_error("-1", "RpcFrameworkError", "bad \"frame\"", NULL);
	assert_string_equal(text, "[4,\"-1\",\"RpcFrameworkError\",\"bad \\\"frame\\\"\",{}]");
	assert_int_equal(parse(text, &f, &v), 0);
	assert_string_equal(f.error_description, "bad \"frame\"");
	ocpp_frame_clear(&f);
	free(text);
}

static void test_error_description_limit(void **state)
{
	char longdesc[1200];
	char *text;
	struct ocpp_frame f;
	struct ocpp_violation v;
	(void)state;
	/* 400 two-byte characters: cut to 255 characters, not bytes. */
	for (int i = 0; i < 400; i++)
		memcpy(longdesc + 2 * i, "\xc3\xa9", 2);
	longdesc[800] = '\0';
	text = ocpp_build_error("1", "GenericError", longdesc, NULL);
	assert_int_equal(parse(text, &f, &v), 0);
	assert_int_equal(strlen(f.error_description), 255 * 2);
	ocpp_frame_clear(&f);
	free(text);
}

static void test_error_names(void **state)
{
	(void)state;
	assert_string_equal(ocpp_error_name(OCPP_V16, OCPP_ERR_FORMAT), "FormationViolation");
	assert_string_equal(ocpp_error_name(OCPP_V201, OCPP_ERR_FORMAT), "FormatViolation");
	assert_string_equal(ocpp_error_name(OCPP_V16, OCPP_ERR_OCCURRENCE_CONSTRAINT),
			    "OccurenceConstraintViolation");
	assert_string_equal(ocpp_error_name(OCPP_V201, OCPP_ERR_OCCURRENCE_CONSTRAINT),
			    "OccurrenceConstraintViolation");
	assert_string_equal(ocpp_error_name(OCPP_V201, OCPP_ERR_RPC_FRAMEWORK), "RpcFrameworkError");
	assert_string_equal(ocpp_error_name(OCPP_V16, OCPP_ERR_RPC_FRAMEWORK), "FormationViolation");
	assert_string_equal(ocpp_error_name(OCPP_V201, OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED),
			    "MessageTypeNotSupported");
	assert_int_equal(ocpp_error_parse("OccurenceConstraintViolation"), OCPP_ERR_OCCURRENCE_CONSTRAINT);
	assert_int_equal(ocpp_error_parse("OccurrenceConstraintViolation"), OCPP_ERR_OCCURRENCE_CONSTRAINT);
	assert_int_equal(ocpp_error_parse("FormationViolation"), OCPP_ERR_FORMAT);
	assert_int_equal(ocpp_error_parse("NoSuchError"), OCPP_ERR_NONE);
	/* Every code has a name in both versions. */
	for (int e = OCPP_ERR_NOT_IMPLEMENTED; e <= OCPP_ERR_RPC_FRAMEWORK; e++) {
		assert_true(ocpp_error_name(OCPP_V16, e)[0] != '\0');
		assert_int_equal(ocpp_error_parse(ocpp_error_name(OCPP_V201, e)), e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call),
		cmocka_unit_test(test_result_and_error),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_2_1_types_parse),
		cmocka_unit_test(test_huge_integer_payload),
		cmocka_unit_test(test_build_roundtrip),
		cmocka_unit_test(test_error_description_limit),
		cmocka_unit_test(test_error_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
