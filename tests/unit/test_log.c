/* Unit tests: the log sink's ring of recent lines (util/log.h), which
 * diagnostics uploads read: off until enabled, bounded, oldest dropped,
 * long lines cut, resizing keeps the newest, the level still filters. */
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

#include "util/log.h"

struct lines {
	int n;
	char text[64][EV_LOG_RING_LINE_MAX + 1];
	enum ev_log_level level[64];
	int64_t time_ms[64];
};

static int collect(void *arg, int64_t time_ms, enum ev_log_level level, const char *line)
{
	struct lines *l = arg;

	if (l->n < 64) {
		snprintf(l->text[l->n], sizeof l->text[l->n], "%s", line);
		l->level[l->n] = level;
		l->time_ms[l->n] = time_ms;
	}
	l->n++;
	return 0;
}

static struct lines *kept(void)
{
	struct lines *l = calloc(1, sizeof *l);
	assert_non_null(l);
	assert_int_equal(ev_log_ring_each(collect, l), 0);
	return l;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && strcmp(s + n - m, tail) == 0;
}

static int setup(void **state)
{
	(void)state;
	ev_log_open("test", EV_LOG_INFO, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ev_log_ring_enable(0);
	ev_log_close();
	return 0;
}

static void test_off_until_enabled(void **state)
{
	struct lines *l;
	(void)state;

	log_info("not kept");
	l = kept();
	assert_int_equal(l->n, 0);
	free(l);
	assert_int_equal(ev_log_ring_enable(4096), 0);
	log_info("kept %d", 1);
	log_debug("below the level");
	log_error("kept %d", 2);
	l = kept();
	assert_int_equal(l->n, 2);
	assert_true(ends_with(l->text[0], " test[info]: kept 1"));
	assert_true(ends_with(l->text[1], " test[error]: kept 2"));
	assert_int_equal(l->level[1], EV_LOG_ERROR);
	assert_true(l->time_ms[0] > 1600000000000);
	/* The text starts with its RFC 3339 stamp, as on stderr. */
	assert_int_equal(l->text[0][4], '-');
	assert_int_equal(l->text[0][10], 'T');
	free(l);
	assert_int_equal(ev_log_ring_enable(0), 0);
	l = kept();
	assert_int_equal(l->n, 0);
	free(l);
}

static void test_bounded(void **state)
{
	struct lines *l;
	char want[64];
	int before;
	(void)state;

	/* Room for a few lines only: the oldest go. */
	assert_int_equal(ev_log_ring_enable(0), 0);
	assert_int_equal(ev_log_ring_enable(400), 0);
	for (int i = 0; i < 100; i++)
		log_info("line %03d", i);
	l = kept();
	assert_true(l->n >= 3 && l->n < 10);
	for (int i = 0; i < l->n; i++) {
		snprintf(want, sizeof want, "line %03d", 100 - l->n + i);
		assert_true(ends_with(l->text[i], want));
	}
	before = l->n;
	free(l);

	/* A long line is cut; one longer than the ring is not kept. */
	assert_int_equal(ev_log_ring_enable(8192), 0);
	{
		char big[3000];
		memset(big, 'x', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		log_info("%s", big);
	}
	l = kept();
	assert_int_equal(l->n, before + 1);   /* kept across the resize, then the long one */
	assert_true(ends_with(l->text[before - 1], "line 099"));
	assert_int_equal(strlen(l->text[before]), EV_LOG_RING_LINE_MAX);
	free(l);
	assert_int_equal(ev_log_ring_enable(0), 0);
	assert_int_equal(ev_log_ring_enable(64), 0);
	log_info("too long for a 64-byte ring, with its stamp and all");
	l = kept();
	assert_int_equal(l->n, 0);
	free(l);
}

static void test_resize_keeps_newest(void **state)
{
	struct lines *l;
	(void)state;

	assert_int_equal(ev_log_ring_enable(8192), 0);
	for (int i = 0; i < 20; i++)
		log_warn("entry %02d", i);
	assert_int_equal(ev_log_ring_enable(300), 0);
	l = kept();
	assert_true(l->n >= 1 && l->n < 20);
	assert_true(ends_with(l->text[l->n - 1], "entry 19"));
	free(l);
	assert_int_equal(ev_log_ring_enable(8192), 0);
	log_warn("entry 20");
	l = kept();
	assert_true(ends_with(l->text[l->n - 1], "entry 20"));
	assert_true(ends_with(l->text[l->n - 2], "entry 19"));
	free(l);
}

static int stop_at_second(void *arg, int64_t time_ms, enum ev_log_level level, const char *line)
{
	int *n = arg;
	/* A line logged while walking is not kept (and does not disturb it). */
	log_info("logged from the walk");
	(void)time_ms;
	(void)level;
	(void)line;
	return ++*n == 2 ? 7 : 0;
}

static void test_walk_stops(void **state)
{
	struct lines *l;
	int n = 0;
	(void)state;

	assert_int_equal(ev_log_ring_enable(0), 0);   /* a fresh ring */
	assert_int_equal(ev_log_ring_enable(8192), 0);
	log_info("a");
	log_info("b");
	log_info("c");
	assert_int_equal(ev_log_ring_each(stop_at_second, &n), 7);
	assert_int_equal(n, 2);
	l = kept();
	assert_int_equal(l->n, 3);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_until_enabled),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_resize_keeps_newest),
		cmocka_unit_test(test_walk_stops),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
