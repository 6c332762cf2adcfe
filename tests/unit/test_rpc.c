/* Unit tests: the RPC engine, driven through a fake transport and a fake
 * clock. */
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

#include "ocpp/rpc.h"

#define MAX_SENT 32

/* The fake connection: what was sent, what handlers and callbacks saw. */
struct fake {
	struct ocpp_rpc *rpc;
	char *sent[MAX_SENT];
	int n_sent;
	int send_fails;
	int calls_seen;
	char last_call_id[OCPP_ID_MAX + 1];
	char last_action[64];
	int results;
	struct {
		enum ocpp_result_status status;
		char action[64], code[64], detail[128];
	} last;
};

static int fake_send(void *ctx, const char *text, size_t len)
{
	struct fake *f = ctx;
	if (f->send_fails)
		return -1;
	assert_true(f->n_sent < MAX_SENT);
	f->sent[f->n_sent++] = strndup(text, len);
	return 0;
}

static void fake_on_call(void *ctx, const char *id, const struct ocpp_action *a, json_t *payload)
{
	struct fake *f = ctx;
	f->calls_seen++;
	snprintf(f->last_call_id, sizeof f->last_call_id, "%s", id);
	snprintf(f->last_action, sizeof f->last_action, "%s", a->name);
	(void)payload;
}

static const struct ocpp_rpc_ops ops = { fake_send, fake_on_call, NULL };

static void on_result(void *arg, const struct ocpp_result *r)
{
	struct fake *f = arg;
	f->results++;
	f->last.status = r->status;
	snprintf(f->last.action, sizeof f->last.action, "%s", r->action);
	snprintf(f->last.code, sizeof f->last.code, "%s", r->error_code ? r->error_code : "");
	snprintf(f->last.detail, sizeof f->last.detail, "%s",
		 r->payload && json_object_get(r->payload, "status")
		 ? json_string_value(json_object_get(r->payload, "status")) : "");
}

static struct fake *setup(enum ocpp_version v, enum ocpp_role role)
{
	struct fake *f = calloc(1, sizeof *f);
	f->rpc = ocpp_rpc_new(v, role, &ops, f);
	assert_non_null(f->rpc);
	ocpp_rpc_set_validate_outbound(f->rpc, 1);
	ocpp_rpc_connected(f->rpc, 1000);
	return f;
}

static void teardown_fake(struct fake *f)
{
	ocpp_rpc_free(f->rpc);
	for (int i = 0; i < f->n_sent; i++)
		free(f->sent[i]);
	free(f);
}

static void feed(struct fake *f, const char *text, int64_t now)
{
	ocpp_rpc_receive(f->rpc, text, strlen(text), now);
}

/* The id of sent frame i. */
static void sent_id(struct fake *f, int i, char out[OCPP_ID_MAX + 1])
{
	json_t *j = json_loads(f->sent[i], 0, NULL);
	assert_non_null(j);
	snprintf(out, OCPP_ID_MAX + 1, "%s", json_string_value(json_array_get(j, 1)));
	json_decref(j);
}

static int call_heartbeat(struct fake *f, int64_t now)
{
	return ocpp_rpc_call(f->rpc, "Heartbeat", json_object(), 5000, on_result, f, now, NULL);
}

static void test_one_outstanding_call(void **state)
{
	struct fake *f = setup(OCPP_V16, OCPP_ROLE_STATION);
	char id0[OCPP_ID_MAX + 1], id1[OCPP_ID_MAX + 1], reply[128];
	(void)state;

	assert_int_equal(call_heartbeat(f, 1000), 0);
	assert_int_equal(call_heartbeat(f, 1000), 0);
	/* Only the first went out; the second waits. */
	assert_int_equal(f->n_sent, 1);
	assert_int_equal(ocpp_rpc_pending(f->rpc), 2);
	assert_non_null(strstr(f->sent[0], "\"Heartbeat\",{}]"));
	sent_id(f, 0, id0);
	assert_int_equal(strlen(id0), 36);
	assert_int_equal(id0[14], '4');   /* UUID version 4 */

	snprintf(reply, sizeof reply, "[3,\"%s\",{\"currentTime\":\"2024-01-01T00:00:00Z\"}]", id0);
	feed(f, reply, 1100);
	assert_int_equal(f->results, 1);
	assert_int_equal(f->last.status, OCPP_RESULT_OK);
	assert_string_equal(f->last.action, "Heartbeat");
	/* The answer released the next call, with a different id. */
	assert_int_equal(f->n_sent, 2);
	sent_id(f, 1, id1);
	assert_string_not_equal(id0, id1);
	teardown_fake(f);
}

static void test_answers(void **state)
{
	struct fake *f = setup(OCPP_V16, OCPP_ROLE_STATION);
	char id[OCPP_ID_MAX + 1], text[256];
	(void)state;

	/* A CALLERROR. */
	assert_int_equal(ocpp_rpc_call(f->rpc, "Authorize", json_pack("{s:s}", "idTag", "T1"),
				       5000, on_result, f, 1000, id), 0);
	snprintf(text, sizeof text, "[4,\"%s\",\"NotSupported\",\"nope\",{}]", id);
	feed(f, text, 1001);
	assert_int_equal(f->last.status, OCPP_RESULT_ERROR);
	assert_string_equal(f->last.code, "NotSupported");

	/* An answer that breaks the response schema. */
	assert_int_equal(ocpp_rpc_call(f->rpc, "Authorize", json_pack("{s:s}", "idTag", "T1"),
				       5000, on_result, f, 1000, id), 0);
	snprintf(text, sizeof text, "[3,\"%s\",{\"idTagInfo\":{\"status\":\"Maybe\"}}]", id);
	feed(f, text, 1002);
	assert_int_equal(f->last.status, OCPP_RESULT_INVALID);
	assert_string_equal(f->last.code, "PropertyConstraintViolation");

	/* A good answer. */
	assert_int_equal(ocpp_rpc_call(f->rpc, "Authorize", json_pack("{s:s}", "idTag", "T1"),
				       5000, on_result, f, 1000, id), 0);
	snprintf(text, sizeof text, "[3,\"%s\",{\"idTagInfo\":{\"status\":\"Accepted\"}}]", id);
	feed(f, text, 1003);
	assert_int_equal(f->last.status, OCPP_RESULT_OK);
	assert_int_equal(f->results, 3);

	/* An answer nobody waits for is dropped without a reply. */
	int before = f->n_sent;
	feed(f, "[3,\"no-such-id\",{}]", 1004);
	assert_int_equal(f->n_sent, before);
	assert_int_equal(f->results, 3);
	teardown_fake(f);
}

static void test_timeout(void **state)
{
	struct fake *f = setup(OCPP_V16, OCPP_ROLE_STATION);
	(void)state;

	assert_int_equal(ocpp_rpc_next_deadline(f->rpc), -1);
	assert_int_equal(call_heartbeat(f, 1000), 0);
	assert_int_equal(call_heartbeat(f, 1000), 0);
	assert_int_equal(ocpp_rpc_next_deadline(f->rpc), 6000);
	ocpp_rpc_tick(f->rpc, 5999);
	assert_int_equal(f->results, 0);
	ocpp_rpc_tick(f->rpc, 6000);
	assert_int_equal(f->results, 1);
	assert_int_equal(f->last.status, OCPP_RESULT_TIMEOUT);
	/* The next call went out when the first timed out. */
	assert_int_equal(f->n_sent, 2);
	assert_int_equal(ocpp_rpc_next_deadline(f->rpc), 11000);
	teardown_fake(f);
}

static void test_disconnect_and_free(void **state)
{
	struct fake *f = setup(OCPP_V16, OCPP_ROLE_STATION);
	(void)state;

	assert_int_equal(call_heartbeat(f, 1000), 0);
	assert_int_equal(call_heartbeat(f, 1000), 0);
	ocpp_rpc_disconnected(f->rpc);
	/* In flight: lost. Queued: kept for the next connection. */
	assert_int_equal(f->results, 1);
	assert_int_equal(f->last.status, OCPP_RESULT_CLOSED);
	assert_int_equal(ocpp_rpc_pending(f->rpc), 1);
	assert_int_equal(call_heartbeat(f, 1000), 0);
	assert_int_equal(f->n_sent, 1);
	ocpp_rpc_connected(f->rpc, 2000);
	assert_int_equal(f->n_sent, 2);
	/* Freeing fails what is left. */
	ocpp_rpc_free(f->rpc);
	f->rpc = NULL;
	assert_int_equal(f->results, 3);
	assert_int_equal(f->last.status, OCPP_RESULT_CLOSED);
	f->rpc = ocpp_rpc_new(OCPP_V16, OCPP_ROLE_STATION, &ops, f);
	teardown_fake(f);
}

static void test_send_failure(void **state)
{
	struct fake *f = setup(OCPP_V16, OCPP_ROLE_STATION);
	(void)state;
	f->send_fails = 1;
	assert_int_equal(call_heartbeat(f, 1000), 0);
	assert_int_equal(f->last.status, OCPP_RESULT_CLOSED);
	assert_int_equal(ocpp_rpc_pending(f->rpc), 0);
	teardown_fake(f);
}

static void test_refused_calls(void **state)
{
	struct fake *f = setup(OCPP_V16, OCPP_ROLE_STATION);
	(void)state;
	/* Unknown action, wrong direction, invalid payload. */
	assert_int_equal(ocpp_rpc_call(f->rpc, "Nope", json_object(), 1, on_result, f, 0, NULL), -EINVAL);
	assert_int_equal(ocpp_rpc_call(f->rpc, "Reset", json_pack("{s:s}", "type", "Hard"), 1,
				       on_result, f, 0, NULL), -EINVAL);
	assert_int_equal(ocpp_rpc_call(f->rpc, "Authorize", json_object(), 1, on_result, f, 0, NULL),
			 -EINVAL);
	assert_int_equal(f->n_sent, 0);
	assert_int_equal(f->results, 0);
	/* A full queue. */
	ocpp_rpc_set_max_queue(f->rpc, 2);
	assert_int_equal(call_heartbeat(f, 0), 0);
	assert_int_equal(call_heartbeat(f, 0), 0);
	assert_int_equal(call_heartbeat(f, 0), -ENOSPC);
	teardown_fake(f);
}

static void test_inbound_call_and_reply(void **state)
{
	struct fake *f = setup(OCPP_V16, OCPP_ROLE_STATION);
	(void)state;

	feed(f, "[2,\"c1\",\"Reset\",{\"type\":\"Soft\"}]", 1000);
	assert_int_equal(f->calls_seen, 1);
	assert_string_equal(f->last_action, "Reset");
	assert_string_equal(f->last_call_id, "c1");
	assert_int_equal(f->n_sent, 0);   /* the handler answers when it likes */
	assert_int_equal(ocpp_rpc_reply(f->rpc, "c1", json_pack("{s:s}", "status", "Accepted")), 0);
	assert_string_equal(f->sent[0], "[3,\"c1\",{\"status\":\"Accepted\"}]");
	/* Only once. */
	assert_int_equal(ocpp_rpc_reply(f->rpc, "c1", json_object()), -ENOENT);

	/* An invalid answer from our side becomes an InternalError. */
	feed(f, "[2,\"c2\",\"Reset\",{\"type\":\"Soft\"}]", 1000);
	assert_int_equal(ocpp_rpc_reply(f->rpc, "c2", json_pack("{s:s}", "status", "Fine")), -EINVAL);
	assert_non_null(strstr(f->sent[1], "[4,\"c2\",\"InternalError\""));

	feed(f, "[2,\"c3\",\"Reset\",{\"type\":\"Soft\"}]", 1000);
	assert_int_equal(ocpp_rpc_reply_error(f->rpc, "c3", OCPP_ERR_NOT_SUPPORTED, "not today"), 0);
	assert_string_equal(f->sent[2], "[4,\"c3\",\"NotSupported\",\"not today\",{}]");
	teardown_fake(f);
}

/* Feeds a bad frame and checks the CALLERROR that comes back. */
static void expect_callerror(enum ocpp_version v, enum ocpp_role role, const char *in,
			     const char *id, const char *code)
{
	struct fake *f = setup(v, role);
	char prefix[128];
	assert_int_equal(ocpp_rpc_receive(f->rpc, in, strlen(in), 1000), -1);
	assert_int_equal(f->calls_seen, 0);
	if (f->n_sent != 1)
		fail_msg("%s: %d frames sent", in, f->n_sent);
	snprintf(prefix, sizeof prefix, "[4,\"%s\",\"%s\",", id, code);
	if (strncmp(f->sent[0], prefix, strlen(prefix)) != 0)
		fail_msg("%s: answered %s, wanted %s...", in, f->sent[0], prefix);
	teardown_fake(f);
}

static void test_inbound_rejections(void **state)
{
	(void)state;
	expect_callerror(OCPP_V201, OCPP_ROLE_CSMS, "[2,\"x\",", "-1", "RpcFrameworkError");
	expect_callerror(OCPP_V16, OCPP_ROLE_CSMS, "[2,\"x\",", "-1", "FormationViolation");
	expect_callerror(OCPP_V16, OCPP_ROLE_CSMS, "[2,\"x\",\"Fly\",{}]", "x", "NotImplemented");
	expect_callerror(OCPP_V16, OCPP_ROLE_CSMS, "[2,\"x\",\"Reset\",{\"type\":\"Hard\"}]", "x",
			 "NotSupported");
	expect_callerror(OCPP_V16, OCPP_ROLE_CSMS, "[2,\"x\",\"Authorize\",{}]", "x",
			 "OccurenceConstraintViolation");
	expect_callerror(OCPP_V201, OCPP_ROLE_CSMS, "[2,\"x\",\"Authorize\",{}]", "x",
			 "OccurrenceConstraintViolation");
	expect_callerror(OCPP_V16, OCPP_ROLE_CSMS, "[2,\"x\",\"Authorize\",{\"idTag\":5}]", "x",
			 "TypeConstraintViolation");
	expect_callerror(OCPP_V201, OCPP_ROLE_CSMS, "[2,\"x\",\"Heartbeat\",{\"extra\":1}]", "x",
			 "FormatViolation");
	expect_callerror(OCPP_V201, OCPP_ROLE_CSMS, "[6,\"x\",\"NotifyPeriodicEventStream\",{}]", "x",
			 "MessageTypeNotSupported");
	expect_callerror(OCPP_V201, OCPP_ROLE_CSMS, "[7,\"x\",\"Heartbeat\",{}]", "x",
			 "MessageTypeNotSupported");
}

static void test_duplicate_inbound_id(void **state)
{
	struct fake *f = setup(OCPP_V16, OCPP_ROLE_CSMS);
	(void)state;
	feed(f, "[2,\"d\",\"Heartbeat\",{}]", 1000);
	feed(f, "[2,\"d\",\"Heartbeat\",{}]", 1000);
	assert_int_equal(f->calls_seen, 1);
	assert_int_equal(f->n_sent, 1);
	assert_non_null(strstr(f->sent[0], "[4,\"d\",\"FormationViolation\""));
	teardown_fake(f);
}

static void test_broken_answer_fails_call(void **state)
{
	struct fake *f = setup(OCPP_V16, OCPP_ROLE_STATION);
	char id[OCPP_ID_MAX + 1], text[128];
	(void)state;
	assert_int_equal(call_heartbeat(f, 1000), 0);
	sent_id(f, 0, id);
	snprintf(text, sizeof text, "[3,\"%s\"]", id);
	feed(f, text, 1000);
	assert_int_equal(f->last.status, OCPP_RESULT_INVALID);
	assert_int_equal(f->n_sent, 1);   /* answers are never answered */
	teardown_fake(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_outstanding_call),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_disconnect_and_free),
		cmocka_unit_test(test_send_failure),
		cmocka_unit_test(test_refused_calls),
		cmocka_unit_test(test_inbound_call_and_reply),
		cmocka_unit_test(test_inbound_rejections),
		cmocka_unit_test(test_duplicate_inbound_id),
		cmocka_unit_test(test_broken_answer_fails_call),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
