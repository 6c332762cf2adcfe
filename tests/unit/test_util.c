/* Unit tests: RFC 3339 time, UTF-8, the config-file reader. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/cfgfile.h"
#include "util/rfc3339.h"
#include "util/utf8.h"

static int64_t parse_ms(const char *s)
{
	struct ev_timestamp ts;
	assert_int_equal(rfc3339_parse(s, &ts), 0);
	return ts.unix_ms;
}

static void test_rfc3339_instants(void **state)
{
	(void)state;
	assert_int_equal(parse_ms("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse_ms("2013-02-01T20:53:32.486Z"), 1359752012486LL);
	/* The same instant written with offsets. */
	assert_int_equal(parse_ms("2013-02-01T21:53:32.486+01:00"), 1359752012486LL);
	assert_int_equal(parse_ms("2013-02-01T21:53:32.486+0100"), 1359752012486LL);
	assert_int_equal(parse_ms("2013-02-01T19:53:32.486-01"), 1359752012486LL);
	assert_int_equal(parse_ms("2013-02-01 20:53:32.486z"), 1359752012486LL);
	/* Fractions: longer than ms are truncated. */
	assert_int_equal(parse_ms("1970-01-01T00:00:01.999999Z"), 1999);
	assert_int_equal(parse_ms("1970-01-01T00:00:00.5Z"), 500);
	/* No offset: UTC. */
	assert_int_equal(parse_ms("2024-02-29T12:00:00"), parse_ms("2024-02-29T12:00:00Z"));
	/* Before the epoch. */
	assert_int_equal(parse_ms("1969-12-31T23:59:59Z"), -1000);
	/* A leap second reads as the next second. */
	assert_int_equal(parse_ms("2016-12-31T23:59:60Z"), parse_ms("2017-01-01T00:00:00Z"));
}

static void test_rfc3339_offset_recorded(void **state)
{
	struct ev_timestamp ts;
	(void)state;
	assert_int_equal(rfc3339_parse("2024-01-01T10:00:00-05:30", &ts), 0);
	assert_int_equal(ts.offset_min, -330);
	assert_true(ts.has_offset);
	assert_int_equal(rfc3339_parse("2024-01-01T10:00:00", &ts), 0);
	assert_false(ts.has_offset);
}

static void test_rfc3339_rejects(void **state)
{
	static const char *const bad[] = {
		"", "yesterday", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
		"2024-04-31T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T10:60:00Z",
		"2024-01-01T10:59:60Z", "2024-01-01", "2024-01-01T10:00Z",
		"2024-01-01T10:00:00.Z", "2024-01-01T10:00:00+1", "2024-01-01T10:00:00+01:",
		"2024-01-01T10:00:00+01:0", "2024-01-01TT10:00:00Z", "24-01-01T10:00:00Z",
		"2024-1-01T10:00:00Z", "2024-01-01T10:00:00Zjunk", "2024-01-01T10:00:00 Z",
	};
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (rfc3339_parse(bad[i], NULL) == 0)
			fail_msg("accepted '%s'", bad[i]);
	}
}

static void test_rfc3339_unicode_separator(void **state)
{
	(void)state;
	/* U+00A0 is whitespace to the schema checker, so a separator. */
	assert_int_equal(parse_ms("1970-01-01\xc2\xa0" "00:00:01Z"), 1000);
	/* U+00E9 is not. */
	assert_int_not_equal(rfc3339_parse("1970-01-01\xc3\xa9" "00:00:01Z", NULL), 0);
}

static void test_rfc3339_format_roundtrip(void **state)
{
	char buf[RFC3339_MAX];
	static const int64_t samples[] = { 0, 1359752012486LL, -1000, 951782400000LL, 4102444799999LL };
	(void)state;
	assert_int_not_equal(rfc3339_format_ms(1359752012486LL, buf, sizeof buf), 0);
	assert_string_equal(buf, "2013-02-01T20:53:32.486Z");
	assert_int_not_equal(rfc3339_format_ms(-1000, buf, sizeof buf), 0);
	assert_string_equal(buf, "1969-12-31T23:59:59.000Z");
	for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
		assert_int_not_equal(rfc3339_format_ms(samples[i], buf, sizeof buf), 0);
		assert_int_equal(parse_ms(buf), samples[i]);
	}
	assert_int_equal(rfc3339_format_ms(0, buf, 10), 0);
}

static void test_civil_days(void **state)
{
	(void)state;
	assert_int_equal(ev_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(ev_days_from_civil(2000, 3, 1), 11017);
	assert_true(ev_is_leap_year(2000));
	assert_false(ev_is_leap_year(1900));
	assert_true(ev_is_leap_year(2024));
}

static void test_utf8(void **state)
{
	const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x8c"; /* a é € 🔌 */
	const char *p = s;
	(void)state;
	assert_int_equal(utf8_codepoints(s, strlen(s)), 4);
	assert_int_equal(utf8_next(&p), 'a');
	assert_int_equal(utf8_next(&p), 0xe9);
	assert_int_equal(utf8_next(&p), 0x20ac);
	assert_int_equal(utf8_next(&p), 0x1f50c);
	assert_int_equal(*p, '\0');
}

struct conf {
	char *name;
	long port;
	int tls;
	int level;
};

static const char *const levels[] = { "error", "warn", "info", "debug", NULL };

static const struct cfg_option conf_opts[] = {
	{ "name", CFG_STRING, offsetof(struct conf, name), "station", 0, 0, NULL, "station id" },
	{ "port", CFG_INT, offsetof(struct conf, port), "8180", 1, 65535, NULL, "port" },
	{ "tls", CFG_BOOL, offsetof(struct conf, tls), "no", 0, 0, NULL, "use TLS" },
	{ "log-level", CFG_ENUM, offsetof(struct conf, level), "warn", 0, 0, levels, "log level" },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL }
};

static void test_cfg_defaults_and_parse(void **state)
{
	struct conf c = { 0 };
	char err[256];
	(void)state;
	assert_int_equal(cfg_defaults(conf_opts, &c, err, sizeof err), 0);
	assert_string_equal(c.name, "station");
	assert_int_equal(c.port, 8180);
	assert_int_equal(c.level, 1);
	assert_int_equal(cfg_parse(conf_opts, &c,
				   "# a comment\n\n  name = \"CP #1 \\\"east\\\"\"  # trailing\n"
				   "port=9000\r\ntls = yes\nlog-level = debug # why not\n",
				   "test.conf", err, sizeof err), 0);
	assert_string_equal(c.name, "CP #1 \"east\"");
	assert_int_equal(c.port, 9000);
	assert_true(c.tls);
	assert_int_equal(c.level, 3);
	cfg_free(conf_opts, &c);
	assert_null(c.name);
}

static void expect_error(const char *text, const char *message)
{
	struct conf c = { 0 };
	char err[256];
	assert_int_equal(cfg_defaults(conf_opts, &c, err, sizeof err), 0);
	assert_int_equal(cfg_parse(conf_opts, &c, text, "x.conf", err, sizeof err), -1);
	assert_string_equal(err, message);
	cfg_free(conf_opts, &c);
}

static void test_cfg_errors_name_file_and_line(void **state)
{
	(void)state;
	expect_error("name = a\ncolour = red\n", "x.conf:2: unknown option 'colour'");
	expect_error("\nport = 0\n", "x.conf:2: 'port' must be an integer from 1 to 65535, not '0'");
	expect_error("port = 12ab\n", "x.conf:1: 'port' must be an integer from 1 to 65535, not '12ab'");
	expect_error("tls = maybe\n", "x.conf:1: 'tls' must be yes or no, not 'maybe'");
	expect_error("log-level = loud\n",
		     "x.conf:1: 'log-level' must be one of error, warn, info, debug, not 'loud'");
	expect_error("just words\n", "x.conf:1: expected 'name = value'");
	expect_error("name = \"open\n", "x.conf:1: unterminated quoted value");
	expect_error(" = 3\n", "x.conf:1: missing option name");
}

static void test_cfg_load_file(void **state)
{
	char path[] = "/tmp/evctl-cfg-XXXXXX", err[512];
	struct conf c = { 0 };
	int fd = mkstemp(path);
	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "port = 1234\n", 12), 12);
	close(fd);
	assert_int_equal(cfg_defaults(conf_opts, &c, err, sizeof err), 0);
	assert_int_equal(cfg_load(conf_opts, &c, path, err, sizeof err), 0);
	assert_int_equal(c.port, 1234);
	unlink(path);
	assert_int_equal(cfg_load(conf_opts, &c, path, err, sizeof err), -2);
	assert_non_null(strstr(err, "No such file"));
	cfg_free(conf_opts, &c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339_instants),
		cmocka_unit_test(test_rfc3339_offset_recorded),
		cmocka_unit_test(test_rfc3339_rejects),
		cmocka_unit_test(test_rfc3339_unicode_separator),
		cmocka_unit_test(test_rfc3339_format_roundtrip),
		cmocka_unit_test(test_civil_days),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_cfg_defaults_and_parse),
		cmocka_unit_test(test_cfg_errors_name_file_and_line),
		cmocka_unit_test(test_cfg_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
