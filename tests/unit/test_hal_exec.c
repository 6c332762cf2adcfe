/* Unit tests: the HAL driver that runs external commands, on a real libuv
 * loop with tiny shell scripts in a temporary directory. The scripts append
 * their arguments to a log the test reads; files in the directory make them
 * fail, hang or print other readings. Waits are bounded: the limits are
 * generous upper bounds, never delays the tests rely on. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>
#include <cmocka.h>

#include "station/hal_exec.h"
#include "util/log.h"

#define MAX_NOTES 128
#define WAIT_MS 10000           /* upper bound for anything to happen */

/* The fixture: a directory of scripts, a loop, the driver, and the fake
 * core's notes of every event, in order ("ev 1 ready", "done 1 lock 0"). */
struct fx {
	char dir[64];
	uv_loop_t loop;
	uv_timer_t guard;
	struct hal_exec_config cfg;
	struct hal_exec_connector conns[2];
	char cmd[6][512];
	struct hal_exec *x;
	struct hal *h;
	struct hal_exec *x2;    /* a second driver, when a test needs one */
	char notes[MAX_NOTES][128];
	int n_notes;
	int saved_stderr;
	int chain;              /* done handlers that ask for one more limit */
	int stopped;
	int mark, found;        /* see expect() */
};

static void note(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct fx *f, const char *fmt, ...)
{
	va_list ap;

	assert_true(f->n_notes < MAX_NOTES);
	va_start(ap, fmt);
	vsnprintf(f->notes[f->n_notes++], sizeof f->notes[0], fmt, ap);
	va_end(ap);
}

static void on_ev_state(void *ctx, int c, enum hal_ev_state st)
{
	note(ctx, "ev %d %s", c, hal_ev_state_name(st));
}

static void on_token(void *ctx, int c, const char *id, const char *type)
{
	note(ctx, "token %d %s %s", c, id, type);
}

static void on_fault(void *ctx, int c, const char *code, const char *info)
{
	if (code)
		note(ctx, "fault %d %s %s", c, code, info ? info : "-");
	else
		note(ctx, "clear %d", c);
}

static void on_meter(void *ctx, int c, int err, const char *info)
{
	struct fx *f = ctx;
	struct hal_status st;
	struct hal_meter m;
	int rc = hal_read_meter(f->h, c, 0, &m);

	note(f, "meter %d %d %s", c, err, info ? info : "-");
	/* The event tells what reading the meter now gives. */
	if (hal_status(f->h, c, &st) || st.meter_error != err || (err ? rc != err : rc < 0))
		note(f, "mismatch: meter %d event %d, reading %d, status %d", c, err, rc,
		     st.meter_error);
}

static void on_done(void *ctx, int c, enum hal_request req, int rc)
{
	static const char *const names[] = { "lock", "contactor", "limit", "display" };
	struct fx *f = ctx;

	note(f, "done %d %s %d", c, names[req], rc);
	if (req == HAL_REQ_LIMIT && f->chain > 0) {
		/* A handler may make requests: this one queues or runs. */
		struct hal_limit lim = { 20 + --f->chain, HAL_UNIT_A, 0 };
		note(f, "asked %d", hal_set_limit(f->h, c, &lim, 0));
	}
}

static const struct hal_events events = { on_ev_state, on_token, on_fault, on_meter, on_done };

/* ------------------------------------------------------------ files */

static void path_of(const struct fx *f, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", f->dir, name);
}

/* Writes a file whole (renamed into place: a script never sees half). */
static void write_file(const struct fx *f, const char *name, const char *text, mode_t mode)
{
	char path[128], tmp[140];
	FILE *fp;

	path_of(f, name, path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fp = fopen(tmp, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(tmp, mode), 0);
	assert_int_equal(rename(tmp, path), 0);
}

static void touch(const struct fx *f, const char *name) { write_file(f, name, "", 0644); }

static void rm(const struct fx *f, const char *name)
{
	char path[128];
	path_of(f, name, path, sizeof path);
	unlink(path);
}

static void append(const struct fx *f, const char *name, const char *text)
{
	char path[128];
	FILE *fp;

	path_of(f, name, path, sizeof path);
	fp = fopen(path, "a");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* The file's text (static buffer; "" if missing). */
static const char *read_file(const struct fx *f, const char *name)
{
	static char buf[8192];
	char path[128];
	FILE *fp;
	size_t n = 0;

	path_of(f, name, path, sizeof path);
	buf[0] = '\0';
	if ((fp = fopen(path, "r"))) {
		n = fread(buf, 1, sizeof buf - 1, fp);
		fclose(fp);
	}
	buf[n] = '\0';
	return buf;
}

/* An action script: logs "name [arg] [arg]...", or fails, or waits, as the
 * files fail-NAME, sleep-NAME (seconds) and hold-NAME (while it exists)
 * say. */
static void write_action(const struct fx *f, const char *name)
{
	char text[1024];

	snprintf(text, sizeof text,
		 "#!/bin/sh\n"
		 "d=%s\n"
		 "[ -e $d/sleep-%s ] && sleep \"$(cat $d/sleep-%s)\"\n"
		 "while [ -e $d/hold-%s ]; do sleep 0.02; done\n"
		 "{ printf '%s'; for a; do printf ' [%%s]' \"$a\"; done; echo; } >> $d/log\n"
		 "[ -e $d/fail-%s ] && { echo '%s failed on purpose' >&2; exit 3; }\n"
		 "exit 0\n", f->dir, name, name, name, name, name, name);
	write_file(f, name, text, 0755);
}

static void write_scripts(const struct fx *f)
{
	char text[1024];

	write_action(f, "lock");
	write_action(f, "contactor");
	write_action(f, "limit");
	write_action(f, "display");
	/* The meter prints meter.C, unless meter-hold.C (wait while it
	 * exists) or meter-fail.C say otherwise. */
	snprintf(text, sizeof text,
		 "#!/bin/sh\n"
		 "d=%s\n"
		 "while [ -e $d/meter-hold.$1 ]; do sleep 0.02; done\n"
		 "[ -e $d/meter-fail.$1 ] && exit 1\n"
		 "cat $d/meter.$1\n", f->dir);
	write_file(f, "meter", text, 0755);
	/* Events: every line of events.txt, those added later too; exits
	 * while events-exit exists, and once the test is gone. Each run starts
	 * from the first line, as a restarted command reports the present
	 * state again. */
	snprintf(text, sizeof text,
		 "#!/bin/sh\n"
		 "d=%s\n"
		 "echo run >> $d/runs\n"
		 "n=0\n"
		 "while kill -0 $PPID 2>/dev/null; do\n"
		 "\t[ -e $d/events-exit ] && exit 0\n"
		 "\ttotal=$(wc -l < $d/events.txt)\n"
		 "\tif [ \"$total\" -gt \"$n\" ]; then\n"
		 "\t\tsed -n \"$((n + 1)),${total}p\" $d/events.txt\n"
		 "\t\tn=$total\n"
		 "\tfi\n"
		 "\tsleep 0.02\n"
		 "done\n", f->dir);
	write_file(f, "events", text, 0755);
	write_file(f, "events.txt", "", 0644);
	write_file(f, "meter.1", "energy_wh=1000\n", 0644);
	write_file(f, "meter.2", "energy_wh=2000\n", 0644);
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
	closedir(d);
	rmdir(dir);
}

/* ------------------------------------------------------------ the loop */

static void guard_fired(uv_timer_t *t) { (void)t; }

/* Connector 1: Type 2, 3 x 32 A. Connector 2: Type 2, 1 x 16 A. The meter
 * goes stale only in the test about it: a loaded machine must not make
 * meter events appear elsewhere. */
static struct fx *setup(void)
{
	struct fx *f = calloc(1, sizeof *f);
	char d[128];

	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_hal_exec.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	write_scripts(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	/* Wakes UV_RUN_ONCE up regularly, so waits can end on time. */
	uv_timer_init(&f->loop, &f->guard);
	uv_timer_start(&f->guard, guard_fired, 10, 10);
	f->conns[0] = (struct hal_exec_connector){ .type = HAL_CONN_AC_TYPE2, .phases = 3,
						   .max_current_a = 32 };
	f->conns[1] = (struct hal_exec_connector){ .type = HAL_CONN_AC_TYPE2, .phases = 1,
						   .max_current_a = 16 };
	snprintf(d, sizeof d, "%s", f->dir);
	snprintf(f->cmd[0], sizeof f->cmd[0], "%s/lock %%c %%s %%b", d);
	snprintf(f->cmd[1], sizeof f->cmd[1], "%s/contactor %%c %%s", d);
	snprintf(f->cmd[2], sizeof f->cmd[2], "%s/limit %%c %%v %%u %%p", d);
	snprintf(f->cmd[3], sizeof f->cmd[3], "%s/meter %%c", d);
	snprintf(f->cmd[4], sizeof f->cmd[4], "%s/display %%c %%t", d);
	snprintf(f->cmd[5], sizeof f->cmd[5], "%s/events", d);
	f->cfg = (struct hal_exec_config){
		.lock_cmd = f->cmd[0], .contactor_cmd = f->cmd[1], .limit_cmd = f->cmd[2],
		.meter_cmd = f->cmd[3], .display_cmd = f->cmd[4], .events_cmd = f->cmd[5],
		.timeout_ms = WAIT_MS, .meter_interval_ms = 500, .meter_stale_ms = 60000,
		.restart_min_ms = 150, .restart_max_ms = 300,
		.n_connectors = 2, .connectors = f->conns,
	};
	return f;
}

static void start(struct fx *f)
{
	char err[256];

	f->x = hal_exec_new(&f->loop, &f->cfg, err, sizeof err);
	if (!f->x)
		fail_msg("hal_exec_new: %s", err);
	f->h = hal_exec_hal(f->x);
	hal_attach(f->h, &events, f);
}

static void guard_closed(uv_handle_t *h) { (void)h; }

/* Frees the driver and runs the loop dry: every handle must close, every
 * child be reaped. */
static void stop(struct fx *f)
{
	hal_exec_free(f->x2);
	hal_free(f->h);
	f->h = NULL;
	f->x = NULL;
	f->x2 = NULL;
	f->stopped = 1;
	uv_close((uv_handle_t *)&f->guard, guard_closed);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
}

/* Also after a failed test: the scripts' control files go first, so that
 * nothing they hold waits any longer; what a script wrote meanwhile goes
 * after. */
static void teardown_fx(struct fx *f)
{
	remove_dir(f->dir);
	if (!f->stopped)
		stop(f);
	remove_dir(f->dir);
	free(f);
}

static int fx_setup(void **state)
{
	*state = setup();
	return 0;
}

static int fx_teardown(void **state)
{
	teardown_fx(*state);
	return 0;
}

typedef int (*pred)(struct fx *f, const void *arg);

/* Runs the loop until pred holds; fails the test after max_ms. */
static void run_until(struct fx *f, pred p, const void *arg, unsigned max_ms, const char *what)
{
	uint64_t end;

	uv_update_time(&f->loop);
	end = uv_now(&f->loop) + max_ms;
	while (!p(f, arg)) {
		if (uv_now(&f->loop) >= end) {
			for (int i = 0; i < f->n_notes; i++)
				fprintf(stderr, "  note: %s\n", f->notes[i]);
			fail_msg("gave up waiting for %s", what);
		}
		uv_run(&f->loop, UV_RUN_ONCE);
	}
}

/* Runs the loop for ms (to show that nothing more happens). */
static void run_for(struct fx *f, unsigned ms)
{
	uint64_t end;

	uv_update_time(&f->loop);
	end = uv_now(&f->loop) + ms;
	while (uv_now(&f->loop) < end)
		uv_run(&f->loop, UV_RUN_ONCE);
}

static int count(const struct fx *f, const char *prefix)
{
	int n = 0;

	for (int i = 0; i < f->n_notes; i++)
		n += strncmp(f->notes[i], prefix, strlen(prefix)) == 0;
	return n;
}

static int seen(struct fx *f, const void *prefix) { return count(f, prefix) > 0; }

static void wait_note(struct fx *f, const char *prefix)
{
	run_until(f, seen, prefix, WAIT_MS, prefix);
}

struct want {
	const char *prefix;
	int n;
};

static int has_count(struct fx *f, const void *arg)
{
	const struct want *w = arg;
	return count(f, w->prefix) >= w->n;
}

static void wait_count(struct fx *f, const char *prefix, int n)
{
	struct want w = { prefix, n };
	run_until(f, has_count, &w, WAIT_MS, prefix);
}

/* The notes starting with prefix, joined by '|'. */
static const char *notes_of(const struct fx *f, const char *prefix)
{
	static char buf[4096];
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < f->n_notes; i++)
		if (strncmp(f->notes[i], prefix, strlen(prefix)) == 0)
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? "|" : "",
						f->notes[i]);
	return buf;
}

static int seen_after_mark(struct fx *f, const void *prefix)
{
	for (int i = f->mark; i < f->n_notes; i++) {
		if (strncmp(f->notes[i], prefix, strlen(prefix)) == 0) {
			f->found = i;
			return 1;
		}
	}
	return 0;
}

/* Waits for a note after the last one expected: notes in between (a
 * loaded machine's extra meter events) do not matter. */
static void expect(struct fx *f, const char *prefix)
{
	run_until(f, seen_after_mark, prefix, WAIT_MS, prefix);
	f->mark = f->found + 1;
}

static int log_has(struct fx *f, const void *line)
{
	return strstr(read_file(f, "log"), line) != NULL;
}

static int meter_rc(struct fx *f, int c)
{
	struct hal_meter m;
	return hal_read_meter(f->h, c, 0, &m);
}

struct reading {
	int c;
	double wh;
};

static int reads(struct fx *f, const void *arg)
{
	const struct reading *r = arg;
	struct hal_meter m;
	return hal_read_meter(f->h, r->c, 0, &m) == 0 && m.energy_wh == r->wh;
}

static void wait_reading(struct fx *f, int c, double wh)
{
	struct reading r = { c, wh };
	run_until(f, reads, &r, WAIT_MS, "a meter reading");
}

/* Sends the log (stderr) to the file "stderr", warnings included. */
static void capture_start(struct fx *f)
{
	char path[128];
	int fd;

	path_of(f, "stderr", path, sizeof path);
	fflush(stderr);
	f->saved_stderr = fcntl(2, F_DUPFD_CLOEXEC, 0);     /* not for the scripts */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(f->saved_stderr >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	ev_log_set_level(EV_LOG_WARN);
}

static void capture_end(struct fx *f)
{
	fflush(stderr);
	dup2(f->saved_stderr, 2);
	close(f->saved_stderr);
	ev_log_set_level(EV_LOG_ERROR);
}

/* --------------------------------------------------------- the formats */

static void test_parse_meter(void **state)
{
	struct hal_meter m;
	char err[128];
	(void)state;

	assert_int_equal(hal_exec_parse_meter("energy_wh=12345.6 power_w=7200 current_a=10.1,10.0,9.9 "
					      "voltage_v=230,231,229 soc=55\n", &m, err, sizeof err), 0);
	assert_int_equal(m.have, HAL_METER_ENERGY | HAL_METER_POWER | HAL_METER_CURRENT |
			 HAL_METER_VOLTAGE | HAL_METER_SOC);
	assert_true(m.energy_wh == 12345.6 && m.power_w == 7200 && m.soc_pct == 55);
	assert_int_equal(m.lines, 3);
	assert_true(m.current_a[0] == 10.1 && m.current_a[2] == 9.9);
	assert_true(m.voltage_v[1] == 231);

	/* Several lines, any order, unknown keys ignored, the last of a key. */
	assert_int_equal(hal_exec_parse_meter("vendor_temp=41\n  power_w=1e3\nenergy_wh=5\n"
					      "energy_wh=7\tcurrent_a=16\n", &m, err, sizeof err), 0);
	assert_int_equal(m.have, HAL_METER_ENERGY | HAL_METER_POWER | HAL_METER_CURRENT);
	assert_true(m.energy_wh == 7 && m.power_w == 1000 && m.current_a[0] == 16);
	assert_int_equal(m.lines, 1);

	/* Refused, with the reason. */
	assert_int_equal(hal_exec_parse_meter("", &m, err, sizeof err), -EINVAL);
	assert_string_equal(err, "no energy_wh");
	assert_int_equal(hal_exec_parse_meter("power_w=5", &m, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_meter("energy_wh=12,5", &m, err, sizeof err), -EINVAL);
	assert_string_equal(err, "bad value: \"energy_wh=12,5\"");
	assert_int_equal(hal_exec_parse_meter("energy_wh 12", &m, err, sizeof err), -EINVAL);
	assert_string_equal(err, "not key=value: \"energy_wh\"");
	assert_int_equal(hal_exec_parse_meter("energy_wh=nan", &m, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_meter("energy_wh=0x10", &m, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_meter("energy_wh=1e999", &m, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_meter("energy_wh=-1", &m, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_meter("energy_wh=1 soc=101", &m, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_meter("energy_wh=1 current_a=1,2,3,4", &m, err, sizeof err),
			 -EINVAL);
	assert_int_equal(hal_exec_parse_meter("energy_wh=1 voltage_v=230,", &m, err, sizeof err),
			 -EINVAL);
	assert_int_equal(hal_exec_parse_meter("energy_wh=", &m, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_meter(NULL, &m, err, sizeof err), -EINVAL);
}

static void test_parse_event(void **state)
{
	struct hal_exec_event e;
	char err[128], line[1100];
	(void)state;

	assert_int_equal(hal_exec_parse_event("plug 1", 2, &e, err, sizeof err), 0);
	assert_int_equal(e.type, HAL_EXEC_EV_PLUG);
	assert_int_equal(e.connector, 1);
	assert_int_equal(hal_exec_parse_event("  ready\t2 \r", 2, &e, err, sizeof err), 0);
	assert_int_equal(e.type, HAL_EXEC_EV_STATE);
	assert_int_equal(e.ev, HAL_EV_READY);
	assert_int_equal(hal_exec_parse_event("suspended 2", 2, &e, err, sizeof err), 0);
	assert_int_equal(e.ev, HAL_EV_CONNECTED);
	assert_int_equal(hal_exec_parse_event("unplug 1", 2, &e, err, sizeof err), 0);
	assert_int_equal(e.ev, HAL_EV_UNPLUGGED);
	assert_int_equal(hal_exec_parse_event("token 0 04A2B9C1", 2, &e, err, sizeof err), 0);
	assert_int_equal(e.type, HAL_EXEC_EV_TOKEN);
	assert_int_equal(e.connector, 0);
	assert_string_equal(e.id, "04A2B9C1");
	assert_string_equal(e.token_type, "ISO14443");
	assert_int_equal(hal_exec_parse_event("token 2 app-user-7 Central", 2, &e, err, sizeof err), 0);
	assert_string_equal(e.token_type, "Central");
	assert_int_equal(hal_exec_parse_event("fault 1 GroundFailure  RCD tripped: 30 mA", 2, &e, err,
					      sizeof err), 0);
	assert_string_equal(e.code, "GroundFailure");
	assert_string_equal(e.info, "RCD tripped: 30 mA");
	assert_int_equal(hal_exec_parse_event("fault 2 HighTemperature", 2, &e, err, sizeof err), 0);
	assert_string_equal(e.info, "");
	/* Info is cut at 50 bytes, never inside a character. */
	assert_int_equal(hal_exec_parse_event("meter-error 1 0123456789012345678901234567890123456789"
					      "012345678\xc3\xa9 more", 2, &e, err, sizeof err), 0);
	assert_int_equal(e.type, HAL_EXEC_EV_METER_ERROR);
	assert_int_equal(strlen(e.info), 49);
	assert_int_equal(hal_exec_parse_event("meter-ok 1", 2, &e, err, sizeof err), 0);
	assert_int_equal(e.type, HAL_EXEC_EV_METER_OK);
	assert_int_equal(hal_exec_parse_event("clear 2", 2, &e, err, sizeof err), 0);
	assert_int_equal(e.type, HAL_EXEC_EV_CLEAR);
	assert_int_equal(hal_exec_parse_event("", 2, &e, err, sizeof err), 0);
	assert_int_equal(e.type, HAL_EXEC_EV_NONE);
	assert_int_equal(hal_exec_parse_event("# plug 1", 2, &e, err, sizeof err), 0);
	assert_int_equal(e.type, HAL_EXEC_EV_NONE);

	/* Malformed, with the reason. */
	assert_int_equal(hal_exec_parse_event("teleport 1", 2, &e, err, sizeof err), -EINVAL);
	assert_string_equal(err, "unknown event \"teleport\"");
	assert_int_equal(hal_exec_parse_event("plug 3", 2, &e, err, sizeof err), -EINVAL);
	assert_string_equal(err, "connector 3 not in 1..2");
	assert_int_equal(hal_exec_parse_event("plug 0", 2, &e, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_event("plug", 2, &e, err, sizeof err), -EINVAL);
	assert_string_equal(err, "missing connector");
	assert_int_equal(hal_exec_parse_event("plug x", 2, &e, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_event("plug -1", 2, &e, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_event("plug 0001", 2, &e, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_event("ready 1 now", 2, &e, err, sizeof err), -EINVAL);
	assert_string_equal(err, "ready: extra words");
	assert_int_equal(hal_exec_parse_event("token 1", 2, &e, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_event("token 1 ABC Barcode", 2, &e, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_event("token 1 ABC ISO14443 x", 2, &e, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_event("token 1 0123456789012345678901234567890123456", 2, &e,
					      err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_event("fault 1", 2, &e, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_event("plug 1\x01", 2, &e, err, sizeof err), -EINVAL);
	assert_string_equal(err, "not UTF-8 text");
	assert_int_equal(hal_exec_parse_event("fault 1 X \xff\xfe", 2, &e, err, sizeof err), -EINVAL);
	assert_int_equal(hal_exec_parse_event("fault 1 X \xed\xa0\x80", 2, &e, err, sizeof err), -EINVAL);
	memset(line, 'a', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	assert_int_equal(hal_exec_parse_event(line, 2, &e, err, sizeof err), -EINVAL);
	assert_int_equal(e.type, HAL_EXEC_EV_NONE);
}

/* ------------------------------------------------------- configuration */

/* hal_exec_new must refuse cfg with a message containing want. */
static void refused(struct fx *f, int want_errno, const char *want)
{
	char err[256] = "";

	errno = 0;
	assert_null(hal_exec_new(&f->loop, &f->cfg, err, sizeof err));
	assert_int_equal(errno, want_errno);
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void test_config_errors(void **state)
{
	struct fx *f = *state;
	struct hal_exec_config good = f->cfg;
	struct hal_connector_info info;
	struct hal_status st;
	char cmd[600];

	f->cfg.contactor_cmd = NULL;
	refused(f, EINVAL, "contactor-cmd is required");
	f->cfg = good;
	f->cfg.events_cmd = "";
	refused(f, EINVAL, "events-cmd is required");
	f->cfg = good;
	snprintf(cmd, sizeof cmd, "%s/limit %%c %%x", f->dir);
	f->cfg.limit_cmd = cmd;
	refused(f, EINVAL, "limit-cmd: unknown placeholder %x");
	f->cfg = good;
	snprintf(cmd, sizeof cmd, "%s/lock %%c %%t", f->dir);   /* %t is the display's */
	f->cfg.lock_cmd = cmd;
	refused(f, EINVAL, "lock-cmd: unknown placeholder %t");
	f->cfg = good;
	snprintf(cmd, sizeof cmd, "%s/lock %%c 100%%", f->dir);
	f->cfg.lock_cmd = cmd;
	refused(f, EINVAL, "lock-cmd: lone % at the end");
	f->cfg = good;
	snprintf(cmd, sizeof cmd, "%s/lock %%c 'on", f->dir);
	f->cfg.lock_cmd = cmd;
	refused(f, EINVAL, "lock-cmd: unterminated quote");
	f->cfg = good;
	f->cfg.display_cmd = "  ";
	refused(f, EINVAL, "display-cmd: empty command");
	f->cfg = good;
	snprintf(cmd, sizeof cmd, "%s/meter", f->dir);
	f->cfg.meter_cmd = cmd;
	refused(f, EINVAL, "meter-cmd: no %c, but the station has 2 connectors");
	f->cfg = good;
	f->cfg.events_cmd = "/nonexistent/events";
	refused(f, ENOENT, "events-cmd: /nonexistent/events: not found or not executable");
	f->cfg = good;
	f->cfg.contactor_cmd = "no-such-program-anywhere %c";
	refused(f, ENOENT, "contactor-cmd: no-such-program-anywhere: not found");
	f->cfg = good;
	f->cfg.meter_stale_ms = 20;
	refused(f, EINVAL, "meter-stale-ms (20) is shorter than meter-interval-ms (500)");
	f->cfg = good;
	f->cfg.timeout_ms = 4000000;
	refused(f, EINVAL, "command-timeout-ms: 4000000 ms is over an hour");
	f->cfg = good;
	f->cfg.restart_max_ms = 100;
	refused(f, EINVAL, "events-restart-max-ms (100) is shorter than events-restart-min-ms (150)");
	f->cfg = good;
	f->conns[0] = (struct hal_exec_connector){ .type = HAL_CONN_AC_TYPE1, .phases = 3,
						   .max_current_a = 32 };
	refused(f, EINVAL, "connector 1: Type 1 is single-phase");
	f->conns[0] = (struct hal_exec_connector){ .type = HAL_CONN_DC_CCS };
	refused(f, EINVAL, "connector 1: a DC connector needs a maximum power");
	f->conns[0].max_power_w = 150000;
	f->cfg.n_connectors = 0;
	refused(f, EINVAL, "0 connectors (1 to 64)");
	/* Without err, the reason goes to the log; nothing crashes. */
	f->cfg = good;
	f->cfg.limit_cmd = NULL;
	capture_start(f);
	assert_null(hal_exec_new(&f->loop, &f->cfg, NULL, 0));
	assert_null(hal_exec_new(&f->loop, NULL, NULL, 0));
	capture_end(f);
	assert_non_null(strstr(read_file(f, "stderr"), "exec: limit-cmd is required"));

	/* The DC connector is fine, and so are the optional commands left
	 * out: locking and the display then succeed at once. */
	f->cfg = good;
	f->cfg.lock_cmd = NULL;
	f->cfg.display_cmd = NULL;
	start(f);
	assert_int_equal(hal_set_lock(f->h, 1, 1), 0);
	assert_int_equal(hal_set_display(f->h, 0, "hello"), 0);
	assert_int_equal(hal_status(f->h, 1, &st), 0);
	assert_int_equal(st.locked, 1);
	/* DC offers its maximum power at first; AC power defaults to I V n. */
	assert_int_equal(st.limit.unit, HAL_UNIT_W);
	assert_true(st.limit.value == 150000);
	assert_int_equal(hal_info(f->h, 2, &info), 0);
	assert_true(info.max_power_w == 16 * 230.0);
	/* Everything runs on the loop: nothing to tick, no fd to poll. */
	hal_tick(f->h, 0);
	assert_int_equal(hal_next_deadline(f->h), -1);
	assert_int_equal(hal_fd(f->h), -1);
}

/* ------------------------------------------------------------ requests */

static void wait_done(struct fx *f, int c, const char *req, int rc)
{
	char want[64];
	snprintf(want, sizeof want, "done %d %s %d", c, req, rc);
	wait_note(f, want);
}

static void test_requests_and_argv(void **state)
{
	struct fx *f = *state;
	struct hal_limit lim = { 40, HAL_UNIT_A, 0 };
	struct hal_status st;
	char cmd[600], big[HAL_DISPLAY_MAX + 2];

	/* Quotes, escapes, a literal %: words as a shell would split them,
	 * placeholders filled in inside words. */
	snprintf(cmd, sizeof cmd, "%s/contactor %%c \"state=%%s\" 'a b' 100%%%% \\'x", f->dir);
	f->cfg.contactor_cmd = cmd;
	write_file(f, "events.txt", "plug 1\n", 0644);
	start(f);
	wait_note(f, "ev 1 connected");

	assert_int_equal(hal_set_lock(f->h, 1, 1), -EINPROGRESS);
	/* Not confirmed before the command succeeded. */
	assert_int_equal(hal_status(f->h, 1, &st), 0);
	assert_int_equal(st.locked, 0);
	wait_done(f, 1, "lock", 0);
	assert_true(log_has(f, "lock [1] [on] [1]\n"));
	assert_int_equal(hal_status(f->h, 1, &st), 0);
	assert_int_equal(st.locked, 1);

	assert_int_equal(hal_set_contactor(f->h, 1, 1, 0), -EINPROGRESS);
	wait_done(f, 1, "contactor", 0);
	assert_true(log_has(f, "contactor [1] [state=on] [a b] [100%] ['x]\n"));
	assert_int_equal(hal_status(f->h, 1, &st), 0);
	assert_int_equal(st.contactor_closed, 1);

	/* 40 A is capped at connector 2's 16 A; "all phases" is its one. */
	assert_int_equal(hal_set_limit(f->h, 2, &lim, 0), -EINPROGRESS);
	wait_done(f, 2, "limit", 0);
	assert_true(log_has(f, "limit [2] [16] [A] [1]\n"));
	assert_int_equal(hal_status(f->h, 2, &st), 0);
	assert_true(st.limit.value == 16 && st.limit.unit == HAL_UNIT_A);
	lim = (struct hal_limit){ 6.5, HAL_UNIT_A, 1 };
	assert_int_equal(hal_set_limit(f->h, 1, &lim, 0), -EINPROGRESS);
	wait_done(f, 1, "limit", 0);
	assert_true(log_has(f, "limit [1] [6.5] [A] [1]\n"));
	lim = (struct hal_limit){ 11000, HAL_UNIT_W, 0 };
	assert_int_equal(hal_set_limit(f->h, 1, &lim, 0), -EINPROGRESS);
	run_until(f, log_has, "limit [1] [11000] [W] [3]\n", WAIT_MS, "the W limit");

	/* Text is one argument, whatever it holds; NULL clears. */
	assert_int_equal(hal_set_display(f->h, 0, "Hi 'you' $HOME; rm -rf / \"x\" %c"), -EINPROGRESS);
	wait_done(f, 0, "display", 0);
	assert_true(log_has(f, "display [0] [Hi 'you' $HOME; rm -rf / \"x\" %c]\n"));
	assert_int_equal(hal_set_display(f->h, 2, NULL), -EINPROGRESS);
	wait_done(f, 2, "display", 0);
	assert_true(log_has(f, "display [2] []\n"));

	/* Refused at once. */
	lim = (struct hal_limit){ -1, HAL_UNIT_A, 0 };
	assert_int_equal(hal_set_limit(f->h, 1, &lim, 0), -EINVAL);
	lim = (struct hal_limit){ NAN, HAL_UNIT_A, 0 };
	assert_int_equal(hal_set_limit(f->h, 1, &lim, 0), -EINVAL);
	lim = (struct hal_limit){ 10, HAL_UNIT_A, 4 };
	assert_int_equal(hal_set_limit(f->h, 1, &lim, 0), -EINVAL);
	lim = (struct hal_limit){ 10, (enum hal_unit)7, 0 };
	assert_int_equal(hal_set_limit(f->h, 1, &lim, 0), -EINVAL);
	assert_int_equal(hal_set_limit(f->h, 1, NULL, 0), -EINVAL);
	assert_int_equal(hal_set_lock(f->h, 3, 1), -EINVAL);
	assert_int_equal(hal_set_contactor(f->h, 0, 1, 0), -EINVAL);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(hal_set_display(f->h, 1, big), -EINVAL);
	assert_int_equal(hal_set_display(f->h, 3, "x"), -EINVAL);
}

static void test_failure_and_timeout(void **state)
{
	struct fx *f = *state;
	struct hal_exec_config cfg2;
	struct hal_status st;
	struct hal *h2;
	char cmd[600], err[256];
	uint64_t t0, took;

	write_file(f, "events.txt", "plug 1\n", 0644);
	start(f);
	wait_note(f, "ev 1 connected");

	/* A non-zero exit: -EIO, and the contactor stays as it was. */
	touch(f, "fail-contactor");
	assert_int_equal(hal_set_contactor(f->h, 1, 1, 0), -EINPROGRESS);
	wait_done(f, 1, "contactor", -EIO);
	assert_int_equal(hal_status(f->h, 1, &st), 0);
	assert_int_equal(st.contactor_closed, 0);
	rm(f, "fail-contactor");

	/* A second driver with a short timeout, and a display program that
	 * cannot be started (its name has a placeholder, so it was not checked
	 * up front). */
	cfg2 = f->cfg;
	cfg2.timeout_ms = 500;
	snprintf(cmd, sizeof cmd, "%s/no-display-%%c %%t", f->dir);
	cfg2.display_cmd = cmd;
	f->x2 = hal_exec_new(&f->loop, &cfg2, err, sizeof err);
	assert_non_null(f->x2);
	h2 = hal_exec_hal(f->x2);
	hal_attach(h2, &events, f);
	capture_start(f);
	assert_int_equal(hal_set_display(h2, 1, "x"), -EIO);
	capture_end(f);
	assert_non_null(strstr(read_file(f, "stderr"), "cannot run"));

	/* A command that hangs is stopped, its children too: -ETIMEDOUT. */
	write_file(f, "sleep-lock", "60\n", 0644);
	uv_update_time(&f->loop);
	t0 = uv_now(&f->loop);
	assert_int_equal(hal_set_lock(h2, 1, 1), -EINPROGRESS);
	wait_done(f, 1, "lock", -ETIMEDOUT);
	took = uv_now(&f->loop) - t0;
	assert_true(took >= 500 && took < WAIT_MS);
	assert_int_equal(hal_status(h2, 1, &st), 0);
	assert_int_equal(st.locked, 0);
	if (log_has(f, "lock ["))
		fail_msg("the hanging lock went on: %s", read_file(f, "log"));
	hal_exec_free(f->x2);
	f->x2 = NULL;

	/* The next one runs as usual. */
	rm(f, "sleep-lock");
	assert_int_equal(hal_set_lock(f->h, 1, 1), -EINPROGRESS);
	wait_done(f, 1, "lock", 0);
	assert_true(log_has(f, "lock [1] [on] [1]\n"));
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	struct hal_status st;

	write_file(f, "events.txt", "plug 1\nfault 1 GroundFailure RCD tripped\n", 0644);
	start(f);
	wait_note(f, "fault 1 GroundFailure RCD tripped");
	/* No EV on 2; 1 is faulted. Opening is always allowed. */
	assert_int_equal(hal_set_contactor(f->h, 2, 1, 0), -ENOTCONN);
	assert_int_equal(hal_set_contactor(f->h, 1, 1, 0), -EIO);
	assert_int_equal(hal_status(f->h, 1, &st), 0);
	assert_int_equal(st.faulted, 1);
	assert_string_equal(st.fault_code, "GroundFailure");
	assert_string_equal(st.fault_info, "RCD tripped");
	assert_int_equal(hal_set_contactor(f->h, 1, 0, 0), -EINPROGRESS);
	wait_done(f, 1, "contactor", 0);
	/* Cleared: closing works again. */
	append(f, "events.txt", "clear 1\n");
	wait_note(f, "clear 1");
	assert_int_equal(hal_status(f->h, 1, &st), 0);
	assert_int_equal(st.faulted, 0);
	assert_string_equal(st.fault_code, "");
	assert_int_equal(hal_set_contactor(f->h, 1, 1, 0), -EINPROGRESS);
	run_until(f, log_has, "contactor [1] [on]\n", WAIT_MS, "the contactor closing");
}

static void test_one_at_a_time(void **state)
{
	struct fx *f = *state;
	struct hal_limit lim = { 10, HAL_UNIT_A, 0 };
	struct hal_status st;
	char want[128];

	touch(f, "hold-limit");
	start(f);
	/* 10 runs; 11 waits and is replaced by 12, which runs next. */
	assert_int_equal(hal_set_limit(f->h, 1, &lim, 0), -EINPROGRESS);
	lim.value = 11;
	assert_int_equal(hal_set_limit(f->h, 1, &lim, 0), -EINPROGRESS);
	lim.value = 12;
	assert_int_equal(hal_set_limit(f->h, 1, &lim, 0), -EINPROGRESS);
	/* Another kind does not wait for it. */
	assert_int_equal(hal_set_lock(f->h, 1, 1), -EINPROGRESS);
	wait_done(f, 1, "lock", 0);
	assert_int_equal(count(f, "done 1 limit"), 0);
	rm(f, "hold-limit");
	wait_count(f, "done 1 limit", 3);
	snprintf(want, sizeof want, "done 1 limit 0|done 1 limit %d|done 1 limit 0", -ECANCELED);
	assert_string_equal(notes_of(f, "done 1 limit"), want);
	assert_true(log_has(f, "limit [1] [10] [A] [3]\nlimit [1] [12] [A] [3]\n"));
	assert_false(log_has(f, "[11]"));
	assert_int_equal(hal_status(f->h, 1, &st), 0);
	assert_true(st.limit.value == 12);

	/* A request made from the done handler runs after it. */
	f->chain = 1;
	lim.value = 13;
	assert_int_equal(hal_set_limit(f->h, 1, &lim, 0), -EINPROGRESS);
	wait_count(f, "done 1 limit", 5);
	snprintf(want, sizeof want, "asked %d", -EINPROGRESS);
	assert_true(seen(f, want));
	assert_true(log_has(f, "limit [1] [13] [A] [3]\nlimit [1] [20] [A] [3]\n"));
}

/* ------------------------------------------------------------ the meter */

static void test_meter(void **state)
{
	struct fx *f = *state;
	struct hal_meter m;

	f->cfg.meter_interval_ms = 20;
	f->cfg.meter_stale_ms = 300;
	write_file(f, "meter.1", "energy_wh=12345.6 power_w=7200 current_a=10.1,10.0,9.9\n"
		   "voltage_v=230,231,229 soc=55\n", 0644);
	start(f);
	/* Nothing has run yet. */
	assert_int_equal(meter_rc(f, 1), -EAGAIN);
	wait_reading(f, 1, 12345.6);
	assert_int_equal(hal_read_meter(f->h, 1, 0, &m), 0);
	assert_true(m.power_w == 7200 && m.soc_pct == 55 && m.lines == 3);
	assert_true(m.current_a[1] == 10.0 && m.voltage_v[2] == 229);

	/* It fails: the last reading holds until stale, then -EIO (the
	 * callback checks what hal_read_meter says then). */
	touch(f, "meter-fail.1");
	expect(f, "meter 1 -5 meter-cmd: exit status 1");
	rm(f, "meter-fail.1");
	expect(f, "meter 1 0 -");

	/* It stops answering: -ETIMEDOUT. */
	touch(f, "meter-hold.1");
	expect(f, "meter 1 -110 meter-cmd: no reading for 300 ms");
	rm(f, "meter-hold.1");
	expect(f, "meter 1 0 -");

	/* It prints nonsense, then a register going back: -EIO both. */
	write_file(f, "meter.1", "energy_wh=lots\n", 0644);
	expect(f, "meter 1 -5 meter-cmd: bad value");
	write_file(f, "meter.1", "energy_wh=12400\n", 0644);
	expect(f, "meter 1 0 -");
	wait_reading(f, 1, 12400);
	assert_int_equal(hal_read_meter(f->h, 1, 0, &m), 0);
	assert_int_equal(m.have, HAL_METER_ENERGY);
	write_file(f, "meter.1", "energy_wh=100\n", 0644);
	expect(f, "meter 1 -5 meter-cmd: energy_wh went back");
	write_file(f, "meter.1", "energy_wh=12500\n", 0644);
	expect(f, "meter 1 0 -");

	/* events-cmd's word wins over meter-cmd's readings. */
	append(f, "events.txt", "meter-error 1 CRC errors on RS-485\n");
	expect(f, "meter 1 -5 CRC errors on RS-485");
	assert_int_equal(meter_rc(f, 1), -EIO);
	append(f, "events.txt", "meter-ok 1\n");
	expect(f, "meter 1 0 -");
	wait_reading(f, 1, 12500);

	/* Connector 2 has its own meter. Every event above matched what
	 * hal_read_meter and hal_status said when it came. */
	wait_reading(f, 2, 2000);
	assert_int_equal(count(f, "mismatch"), 0);
}

/* ----------------------------------------------------------- events-cmd */

static void test_events(void **state)
{
	struct fx *f = *state;
	char text[4096], want[1024], big[1500];
	const char *log;
	int ignored = 0;

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(text, sizeof text,
		 "# the charger's view at start\n"
		 "\n"
		 "plug 1\n"
		 "plug 1\n"
		 "ready 1\n"
		 "teleport 1\n"
		 "plug 9\n"
		 "token 0 04A2B9C1 ISO14443\n"
		 "token 1\n"
		 "token 2 AABBCCDD\n"
		 "fault 2 GroundFailure Earth leakage 30 mA\n"
		 "fault 2 GroundFailure Earth leakage 30 mA\n"
		 "fault 2\n"
		 "clear 2\n"
		 "clear 2\n"
		 "\xff\xfe garbage\n"
		 "%s\n"
		 "suspended 1\n"
		 "unplug 1\n"
		 "token 0 LAST\n", big);
	write_file(f, "events.txt", text, 0644);
	capture_start(f);
	start(f);
	run_until(f, seen, "token 0 LAST", WAIT_MS, "the last event");
	capture_end(f);
	/* Changes only, in order; the malformed lines left no trace but a
	 * warning each. */
	snprintf(want, sizeof want, "%s", "ev 1 connected|ev 1 ready|token 0 04A2B9C1 ISO14443|"
		 "token 2 AABBCCDD ISO14443|fault 2 GroundFailure Earth leakage 30 mA|clear 2|"
		 "ev 1 connected|ev 1 unplugged|token 0 LAST ISO14443");
	assert_string_equal(notes_of(f, ""), want);
	log = read_file(f, "stderr");
	for (const char *p = log; (p = strstr(p, "ignored")); p++)
		ignored++;
	assert_int_equal(ignored, 6);
	assert_non_null(strstr(log, "events-cmd: unknown event \"teleport\": ignored"));
	assert_non_null(strstr(log, "events-cmd: connector 9 not in 1..2: ignored"));
	assert_non_null(strstr(log, "events-cmd: line over 1024 bytes: ignored"));
}

static int runs(struct fx *f)
{
	int n = 0;
	for (const char *p = read_file(f, "runs"); (p = strchr(p, '\n')); p++)
		n++;
	return n;
}

static void test_events_restart(void **state)
{
	struct fx *f = *state;
	struct hal_status st;

	write_file(f, "events.txt", "plug 1\nready 1\n", 0644);
	start(f);
	wait_note(f, "ev 1 ready");
	assert_int_equal(runs(f), 1);

	/* It exits: the station is blind, every connector faults. */
	touch(f, "events-exit");
	wait_note(f, "fault 1 InternalError events-cmd not running");
	wait_note(f, "fault 2 InternalError events-cmd not running");
	assert_int_equal(hal_status(f->h, 1, &st), 0);
	assert_int_equal(st.faulted, 1);
	assert_string_equal(st.fault_code, "InternalError");
	assert_int_equal(hal_set_contactor(f->h, 1, 1, 0), -EIO);

	/* Started again (with back-off), it settles: the fault clears. */
	rm(f, "events-exit");
	wait_note(f, "clear 1");
	wait_note(f, "clear 2");
	assert_true(runs(f) >= 2);
	assert_int_equal(count(f, "fault"), 2);
	/* It reported the same state again: nothing new for the core. */
	assert_int_equal(count(f, "ev 1"), 2);
	/* And it is heard. */
	append(f, "events.txt", "unplug 1\n");
	wait_note(f, "ev 1 unplugged");
}

static void test_free_while_busy(void **state)
{
	struct fx *f = *state;

	touch(f, "hold-lock");
	start(f);
	assert_int_equal(hal_set_lock(f->h, 1, 1), -EINPROGRESS);
	run_for(f, 50);
	/* Freed with a lock command running (its exit is only seen by the
	 * loop, after the free): it finishes unheard; the events and meter
	 * commands are ended; the loop runs dry. */
	rm(f, "hold-lock");
	stop(f);
	assert_true(log_has(f, "lock [1] [on] [1]\n"));
	assert_int_equal(count(f, "done"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_meter),
		cmocka_unit_test(test_parse_event),
		cmocka_unit_test_setup_teardown(test_config_errors, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_requests_and_argv, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_failure_and_timeout, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_refusals, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_one_at_a_time, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_meter, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_events, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_events_restart, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_free_while_busy, fx_setup, fx_teardown),
	};

	/* Intended failures would warn: only the tests that read the log
	 * turn warnings on. */
	ev_log_set_level(EV_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
