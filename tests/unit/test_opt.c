/* Unit tests: the option-table parser. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "cli/opt.h"

struct o {
	int json, quiet, mode;
	const char *ocpp;
	long count;
};

static const char *const modes[] = { "fast", "safe", NULL };

static const struct opt table[] = {
	{ OPT_BOOL, 'q', "quiet", NULL, "quiet", offsetof(struct o, quiet), NULL, 0, 0 },
	{ OPT_STRING, 'o', "ocpp", "V", "version", offsetof(struct o, ocpp), NULL, 0, 0 },
	{ OPT_INT, 'n', "count", "N", "count", offsetof(struct o, count), NULL, 1, 100 },
	{ OPT_ENUM, 0, "mode", "M", "mode", offsetof(struct o, mode), modes, 0, 0 },
	OPT_END_MARK
};

static const struct opt common[] = {
	{ OPT_BOOL, 0, "json", NULL, "json", offsetof(struct o, json), NULL, 0, 0 },
	OPT_END_MARK
};

static int run(struct o *o, int argc, char **argv, char *err)
{
	struct opt_group g[] = { { table, o }, { common, o } };
	memset(o, 0, sizeof *o);
	return opt_parse(g, 2, argc, argv, err, 256);
}

static void test_mixed_options_and_operands(void **state)
{
	char *argv[] = { "cmd", "a.log", "--ocpp", "2.0.1", "-q", "b.log", "--count=7",
			 "--json", "--mode", "safe", "-", "--", "--not-an-option", NULL };
	char err[256];
	struct o o;
	(void)state;
	assert_int_equal(run(&o, 13, argv, err), 4);
	assert_string_equal(o.ocpp, "2.0.1");
	assert_true(o.quiet);
	assert_true(o.json);
	assert_int_equal(o.count, 7);
	assert_int_equal(o.mode, 1);
	assert_string_equal(argv[1], "a.log");
	assert_string_equal(argv[2], "b.log");
	assert_string_equal(argv[3], "-");
	assert_string_equal(argv[4], "--not-an-option");
}

static void test_short_forms(void **state)
{
	char *argv[] = { "cmd", "-qo1.6", "-n", "3", NULL };
	char err[256];
	struct o o;
	(void)state;
	assert_int_equal(run(&o, 4, argv, err), 0);
	assert_true(o.quiet);
	assert_string_equal(o.ocpp, "1.6");
	assert_int_equal(o.count, 3);
}

static void expect_error(int argc, char **argv, const char *message)
{
	char err[256];
	struct o o;
	assert_int_equal(run(&o, argc, argv, err), -1);
	assert_string_equal(err, message);
}

static void test_errors(void **state)
{
	char *a1[] = { "cmd", "--colour" }, *a2[] = { "cmd", "-x" }, *a3[] = { "cmd", "--ocpp" },
	     *a4[] = { "cmd", "--count", "0" }, *a5[] = { "cmd", "--count=ten" },
	     *a6[] = { "cmd", "--mode", "slow" }, *a7[] = { "cmd", "--quiet=yes" },
	     *a8[] = { "cmd", "-n" };
	(void)state;
	expect_error(2, a1, "unknown option '--colour'");
	expect_error(2, a2, "unknown option '-x'");
	expect_error(2, a3, "--ocpp needs a value");
	expect_error(3, a4, "--count takes a number from 1 to 100, not '0'");
	expect_error(2, a5, "--count takes a number from 1 to 100, not 'ten'");
	expect_error(3, a6, "--mode takes one of fast, safe, not 'slow'");
	expect_error(2, a7, "--quiet takes no value");
	expect_error(2, a8, "-n needs a value");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mixed_options_and_operands),
		cmocka_unit_test(test_short_forms),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
