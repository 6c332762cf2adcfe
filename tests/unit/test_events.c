/* Unit tests: the server-sent-events parser and the one-line descriptions
 * of the API's events. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/events.h"

/* What the callback saw, one "type|id|data" string per event. */
struct seen {
	char events[16][256];
	int n;
	int stop_after;   /* return 7 from the callback after this many */
};

static int record(const struct sse_event *ev, void *arg)
{
	struct seen *s = arg;

	assert_int_equal(strlen(ev->data), ev->data_len);
	if (s->n < 16)
		snprintf(s->events[s->n], sizeof s->events[0], "%s|%s|%s", ev->type, ev->id, ev->data);
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 7 : 0;
}

/* Feeds text in chunks of `chunk` bytes (0: all at once). */
static int feed(struct sse_parser *p, const char *text, size_t chunk)
{
	size_t len = strlen(text);
	int rc = 0;

	if (!chunk)
		return sse_feed(p, text, len);
	for (size_t i = 0; i < len && rc == 0; i += chunk)
		rc = sse_feed(p, text + i, len - i < chunk ? len - i : chunk);
	return rc;
}

static const char stream[] =
	": keep-alive\n\n"
	"event: status\n"
	"data: {\"station\":\"CP-001\",\"connector\":1}\n\n"
	"retry: 250\n"
	"id: 7\n"
	"event: meter\r\n"
	"data: {\"a\":\r\n"
	"data:1}\r\n\r\n"
	"data: plain\r\rdata:x\n\n";

static void check_stream(struct seen *s, struct sse_parser *p)
{
	assert_int_equal(s->n, 4);
	assert_string_equal(s->events[0], "status||{\"station\":\"CP-001\",\"connector\":1}");
	assert_string_equal(s->events[1], "meter|7|{\"a\":\n1}");
	assert_string_equal(s->events[2], "message|7|plain");
	assert_string_equal(s->events[3], "message|7|x");
	assert_int_equal(sse_retry_ms(p), 250);
}

static void test_whole_stream(void **state)
{
	struct seen s = { .n = 0 };
	struct sse_parser *p = sse_parser_new(record, &s);
	(void)state;
	assert_int_equal(sse_retry_ms(p), -1);
	assert_int_equal(feed(p, stream, 0), 0);
	check_stream(&s, p);
	sse_parser_free(p);
}

/* Every chunk size, down to one byte: CRLF split between chunks counts
 * once, a line split anywhere is the same line. */
static void test_any_chunking(void **state)
{
	(void)state;
	for (size_t chunk = 1; chunk < sizeof stream; chunk++) {
		struct seen s = { .n = 0 };
		struct sse_parser *p = sse_parser_new(record, &s);
		assert_int_equal(feed(p, stream, chunk), 0);
		check_stream(&s, p);
		sse_parser_free(p);
	}
}

static void test_fields(void **state)
{
	struct seen s = { .n = 0 };
	struct sse_parser *p = sse_parser_new(record, &s);
	(void)state;
	/* No space after ':' is fine, only one space is dropped, a line without
	 * ':' is a field with an empty value, unknown fields are ignored, an
	 * event without data is not delivered, and its type does not leak. */
	assert_int_equal(feed(p,
		"data:a\ndata:  b\ndata\nfoo: bar\n\n"
		"event: lonely\n\n"
		"data: c\n\n"
		"retry: 12x\n"
		": comment with data: inside\n"
		"data: d\n\n", 0), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.events[0], "message||a\n b\n");
	assert_string_equal(s.events[1], "message||c");
	assert_string_equal(s.events[2], "message||d");
	assert_int_equal(sse_retry_ms(p), -1);
	sse_parser_free(p);
}

static void test_bom_and_reset(void **state)
{
	struct seen s = { .n = 0 };
	struct sse_parser *p = sse_parser_new(record, &s);
	(void)state;
	assert_int_equal(feed(p, "\xEF\xBB\xBFid: 3\ndata: one\n\ndata: cut off", 0), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.events[0], "message|3|one");
	/* A new connection: the half event is gone, the id stays, and the new
	 * stream may start with a BOM again. */
	sse_reset(p);
	assert_int_equal(feed(p, "\xEF\xBB\xBF" "data: two\n\n", 0), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.events[1], "message|3|two");
	sse_parser_free(p);
}

static void test_callback_stops(void **state)
{
	struct seen s = { .n = 0, .stop_after = 1 };
	struct sse_parser *p = sse_parser_new(record, &s);
	(void)state;
	assert_int_equal(feed(p, "data: 1\n\ndata: 2\n\n", 0), 7);
	assert_int_equal(s.n, 1);
	sse_parser_free(p);
}

static void test_overlong_line(void **state)
{
	struct seen s = { .n = 0 };
	struct sse_parser *p = sse_parser_new(record, &s);
	size_t big = SSE_LINE_MAX + 10;
	char *line = malloc(big + 1);
	(void)state;
	memset(line, 'x', big);
	line[big] = '\0';
	memcpy(line, "data: ", 6);
	assert_int_equal(feed(p, line, 4096), -1);
	/* The event it was in is dropped; the next one arrives. */
	assert_int_equal(feed(p, "\ndata: more\n\ndata: next\n\n", 0), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.events[0], "message||next");
	free(line);
	sse_parser_free(p);
}

static void describe(const char *type, const char *json, const char *want)
{
	json_error_t err;
	json_t *data = json_loads(json, JSON_DECODE_ANY, &err);
	char buf[512];
	assert_non_null(data);
	assert_string_equal(event_describe(type, data, buf, sizeof buf), want);
	json_decref(data);
}

static void test_describe(void **state)
{
	(void)state;
	describe("station.connected", "{\"station\":\"CP-1\",\"remote_address\":\"10.0.0.5\",\"time\":\"T\"}",
		 "T CP-1 connected from 10.0.0.5");
	describe("station.disconnected", "{\"station\":\"CP-1\",\"reason\":\"closed\",\"time\":\"T\"}",
		 "T CP-1 disconnected (closed)");
	describe("station.boot", "{\"station\":\"CP-1\",\"vendor\":\"V\",\"model\":\"M\",\"firmware\":\"1.0\","
		 "\"registration\":\"accepted\",\"time\":\"T\"}",
		 "T CP-1 booted: V M, firmware 1.0, registration accepted");
	describe("status", "{\"station\":\"CP-1\",\"connector\":2,\"status\":\"Faulted\","
		 "\"error_code\":\"GroundFailure\",\"time\":\"T\"}",
		 "T CP-1 connector 2 Faulted (GroundFailure)");
	describe("status", "{\"station\":\"CP-1\",\"connector\":1,\"status\":\"Charging\","
		 "\"error_code\":\"NoError\",\"time\":\"T\"}", "T CP-1 connector 1 Charging");
	describe("session.started", "{\"station\":\"CP-1\",\"session\":12,\"connector\":1,\"id_tag\":\"TAG\","
		 "\"meter_start\":1000,\"time\":\"T\"}",
		 "T CP-1 session 12 started on connector 1 by TAG, meter 1000 Wh");
	describe("session.stopped", "{\"station\":\"CP-1\",\"session\":12,\"meter_stop\":3345,"
		 "\"energy_wh\":2345,\"reason\":\"Local\",\"time\":\"T\"}",
		 "T CP-1 session 12 stopped: 2345 Wh, reason Local");
	describe("meter", "{\"station\":\"CP-1\",\"connector\":1,\"session\":12,\"time\":\"T\",\"values\":["
		 "{\"measurand\":null,\"phase\":null,\"unit\":\"Wh\",\"value\":\"3345\"},"
		 "{\"measurand\":\"Current.Import\",\"phase\":\"L1\",\"unit\":\"A\",\"value\":\"16.0\"}]}",
		 "T CP-1 connector 1 meter (session 12): Energy.Active.Import.Register 3345 Wh, "
		 "Current.Import L1 16.0 A");
	describe("firmware", "{\"station\":\"CP-1\",\"status\":\"Downloading\",\"time\":\"T\"}",
		 "T CP-1 firmware Downloading");
	describe("diagnostics", "{\"station\":\"CP-1\",\"status\":\"Uploaded\",\"time\":\"T\"}",
		 "T CP-1 diagnostics Uploaded");
	describe("future.thing", "{\"station\":\"CP-1\",\"time\":\"T\",\"x\":1}",
		 "T CP-1 future.thing {\"station\":\"CP-1\",\"time\":\"T\",\"x\":1}");
	/* A station's text cannot reach the terminal as control characters. */
	describe("station.disconnected", "{\"station\":\"CP\\u001b[2J\",\"reason\":\"a\\nb\",\"time\":\"T\"}",
		 "T CP?[2J disconnected (a?b)");
	/* Missing members, and a buffer too small: cut, still terminated. */
	describe("status", "{}", "- - connector - -");
	{
		json_t *d = json_pack("{s:s}", "station", "CP-000000000000001");
		char small[8];
		assert_string_equal(event_describe("status", d, small, sizeof small), "- CP-00");
		json_decref(d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_stream),
		cmocka_unit_test(test_any_chunking),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_bom_and_reset),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_overlong_line),
		cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
