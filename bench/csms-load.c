/* csms-load: a load generator for OCPP 1.6 central systems. N stations in
 * one process, on one libuv loop, over our WebSocket client; frames are
 * written by hand (the same shapes as the reference's load.js) and answers
 * read with the OCPP-J frame parser, so that the generator costs the
 * shared cores little.
 *
 *   idle:  connect, BootNotification, StatusNotification (at most --conc
 *          at a time), then one Heartbeat each, settle, and hold for
 *          --duration seconds; server RSS and CPU are sampled around it.
 *   meter: connect and boot as above, StartTransaction each, then
 *          MeterValues back to back (one outstanding call per station)
 *          for --duration seconds, then StopTransaction.
 *
 * The server's CPU time and RSS come from /proc/PID of --server-pid, so any
 * server is measured the same way. Prints one JSON object (see
 * bench/README.md for its fields). Run by bench/csms.sh. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <jansson.h>
#include <uv.h>

#include "net/wsclient.h"
#include "ocpp/frame.h"
#include "util/log.h"
#include "util/rfc3339.h"

enum mode { MODE_IDLE, MODE_METER };

/* What a station's one outstanding call is. */
enum phase {
	PH_CONNECT, PH_BOOT, PH_STATUS, PH_READY,
	PH_HEARTBEAT, PH_START, PH_METER, PH_STOP, PH_FAILED,
};

static const char *const phase_names[] = {
	"connect", "boot", "status", "ready", "heartbeat", "start-transaction",
	"meter", "stop-transaction", "failed",
};

enum stage { ST_CONNECT, ST_PREPARE, ST_SETTLE, ST_HOLD, ST_WINDOW, ST_DRAIN, ST_STOP, ST_DONE };

struct station {
	struct gen *g;
	struct ws_client *ws;
	unsigned idx;
	enum phase phase;
	unsigned connecting:1, in_step:1, open:1, reaping:1;
	char call_id[OCPP_ID_MAX + 1];
	uint64_t sent_ns;          /* the outstanding call's; 0: none */
	uint64_t t_new, t_open;
	uint64_t reap_at;          /* a failed station's client is freed then */
	json_int_t tx;             /* 0: no transaction */
	long long energy;
};

struct snap {
	uint64_t t_ns;
	double srv_cpu, gen_cpu;   /* seconds; srv_cpu < 0: unknown */
	long long srv_rss, srv_hwm, srv_anon; /* bytes; < 0: unknown */
	long long srv_syscr, srv_syscw, srv_ctxt; /* counts; < 0: unknown */
	unsigned long long m_idle, m_total;
};

/* Latencies in ms, appended. */
struct samples {
	double *v;
	size_t n, cap;
};

#define MAX_ERRORS 32

struct gen {
	/* options */
	const char *url, *prefix, *label, *json_out;
	enum mode mode;
	unsigned n, conc, settle_s, duration_s, max_time_s, call_timeout_s;
	pid_t server_pid;
	int usr2;
	/* state */
	uv_loop_t *loop;
	struct ws_net *net;
	struct station *st;
	uv_timer_t stage_timer, scan_timer, hard_timer;
	uv_signal_t sigint, sigterm;
	enum stage stage;
	unsigned next, in_flight, booted, step_pending;
	uint64_t seq;
	int running;               /* meter window open */
	uint64_t deadline_ns;
	unsigned long long calls, calls_at_end;
	struct samples handshake, boot, meter;
	struct snap before, after_connect, s0, s1;
	unsigned still_open;
	json_int_t tx_started;
	const char *aborted;
	int exit_code;
	struct {
		char *what;
		unsigned count;
	} errors[MAX_ERRORS];
	unsigned error_count;
	long clk_tck;
	struct rlimit nofile;
};

static uint64_t now_ns(void)
{
	return uv_hrtime();
}

static void sample_add(struct samples *s, double v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		double *p = realloc(s->v, cap * sizeof *p);
		if (!p)
			return;    /* a lost sample skews nothing much */
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile, as load.js computes it. */
static double pct(const struct samples *s, double p)
{
	size_t i;

	if (!s->n)
		return 0;
	i = (size_t)(p / 100 * (double)s->n + 0.999999);
	i = i ? i - 1 : 0;
	return s->v[i < s->n ? i : s->n - 1];
}

static json_t *summarize(struct samples *s)
{
	double sum = 0;

	qsort(s->v, s->n, sizeof *s->v, cmp_double);
	for (size_t i = 0; i < s->n; i++)
		sum += s->v[i];
	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)s->n,
			 "p50_ms", pct(s, 50), "p90_ms", pct(s, 90), "p99_ms", pct(s, 99),
			 "max_ms", s->n ? s->v[s->n - 1] : 0.0,
			 "mean_ms", s->n ? sum / (double)s->n : 0.0);
}

static void note_error(struct gen *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note_error(struct gen *g, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	unsigned i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	g->error_count++;
	for (i = 0; i < MAX_ERRORS && g->errors[i].what; i++) {
		if (strcmp(g->errors[i].what, buf) == 0) {
			g->errors[i].count++;
			return;
		}
	}
	if (i < MAX_ERRORS && (g->errors[i].what = strdup(buf)))
		g->errors[i].count = 1;
}

/* ---------------------------------------------------------------- /proc */

/* utime + stime of every thread of pid, in seconds; -1 if unknown. */
static double proc_cpu(const struct gen *g, pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip past the
	 * last ')'; then state is field 3, utime 14, stime 15. */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)g->clk_tck;
}

/* A "Name:   N [kB]" line of /proc/PID/status, times scale; -1 if absent. */
static long long proc_status(pid_t pid, const char *name, long long scale)
{
	char path[64], line[256];
	size_t len = strlen(name);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, name, len) == 0 && line[len] == ':') {
			v = strtoll(line + len + 1, NULL, 10) * scale;
			break;
		}
	}
	fclose(f);
	return v;
}

/* A "name: N" line of /proc/PID/io (read and write system calls). */
static long long proc_io(pid_t pid, const char *name)
{
	char path[64], line[128];
	size_t len = strlen(name);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/io", (long)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, name, len) == 0 && line[len] == ':') {
			v = strtoll(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static void machine_cpu(unsigned long long *idle, unsigned long long *total)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	*idle = *total = 0;
	if (!f)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		*idle = v[3] + v[4];
		for (int i = 0; i < 8; i++)
			*total += v[i];
	}
	fclose(f);
}

static void snapshot(struct gen *g, struct snap *s)
{
	struct rusage ru;

	s->t_ns = now_ns();
	s->srv_cpu = -1;
	s->srv_rss = s->srv_hwm = s->srv_anon = -1;
	s->srv_syscr = s->srv_syscw = s->srv_ctxt = -1;
	if (g->server_pid > 0) {
		long long vol = proc_status(g->server_pid, "voluntary_ctxt_switches", 1);
		long long invol = proc_status(g->server_pid, "nonvoluntary_ctxt_switches", 1);

		s->srv_syscr = proc_io(g->server_pid, "syscr");
		s->srv_syscw = proc_io(g->server_pid, "syscw");
		if (vol >= 0 && invol >= 0)
			s->srv_ctxt = vol + invol;
		s->srv_cpu = proc_cpu(g, g->server_pid);
		s->srv_rss = proc_status(g->server_pid, "VmRSS", 1024);
		s->srv_hwm = proc_status(g->server_pid, "VmHWM", 1024);
		s->srv_anon = proc_status(g->server_pid, "RssAnon", 1024);
	}
	getrusage(RUSAGE_SELF, &ru);
	s->gen_cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	machine_cpu(&s->m_idle, &s->m_total);
}

static json_t *nullable_bytes(long long v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

/* CPU over [a, b]: seconds and share of one core (1.0 = a full core). */
static json_t *cpu_delta(const struct snap *a, const struct snap *b)
{
	double wall = (double)(b->t_ns - a->t_ns) / 1e9, gen = b->gen_cpu - a->gen_cpu;
	unsigned long long mt = b->m_total - a->m_total, mi = b->m_idle - a->m_idle;
	json_t *o = json_pack("{s:f, s:f, s:f}", "wall_s", wall, "gen_cpu_s", gen,
			      "gen_util", wall > 0 ? gen / wall : 0.0);

	if (a->srv_cpu >= 0 && b->srv_cpu >= 0) {
		double srv = b->srv_cpu - a->srv_cpu;
		json_object_set_new(o, "server_cpu_s", json_real(srv));
		json_object_set_new(o, "server_util", json_real(wall > 0 ? srv / wall : 0.0));
	} else {
		json_object_set_new(o, "server_cpu_s", json_null());
		json_object_set_new(o, "server_util", json_null());
	}
	json_object_set_new(o, "machine_busy", mt ? json_real(1.0 - (double)mi / (double)mt)
						 : json_null());
	return o;
}

/* ---------------------------------------------------------------- frames */

static void advance(struct gen *g);
static void fail(struct station *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Message ids shaped like the UUIDs other clients send, so that frames
 * are as long as theirs; unique within the run, which is all that counts. */
static void new_id(struct station *st)
{
	uint64_t s = ++st->g->seq;

	snprintf(st->call_id, sizeof st->call_id, "%08x-%04x-4%03x-8%03x-%012" PRIx64,
		 st->idx, (unsigned)(s >> 48) & 0xffff, (unsigned)(s >> 36) & 0xfff,
		 (unsigned)(s >> 24) & 0xfff, s & (uint64_t)0xffffffffffff);
}

static void now_text(char *buf, size_t size)
{
	if (!rfc3339_format_ms(ev_now_ms(), buf, size))
		snprintf(buf, size, "1970-01-01T00:00:00.000Z");
}

/* Sends [2, id, action, payload]; payload is JSON text. */
static int call(struct station *st, enum phase ph, const char *action, const char *payload)
{
	char buf[2048];
	int n;

	new_id(st);
	n = snprintf(buf, sizeof buf, "[2,\"%s\",\"%s\",%s]", st->call_id, action, payload);
	if (n < 0 || (size_t)n >= sizeof buf) {
		fail(st, "%s: frame too long", action);
		return -1;
	}
	st->phase = ph;
	st->sent_ns = now_ns();
	if (ws_client_send(st->ws, buf, (size_t)n)) {
		st->sent_ns = 0;
		fail(st, "%s: not connected", action);
		return -1;
	}
	return 0;
}

static void send_boot(struct station *st)
{
	char p[512];

	snprintf(p, sizeof p, "{\"chargePointVendor\":\"BenchVendor\",\"chargePointModel\":\"SimCP-1\","
		 "\"chargePointSerialNumber\":\"%s%06u\",\"firmwareVersion\":\"1.0.0\"}",
		 st->g->prefix, st->idx);
	call(st, PH_BOOT, "BootNotification", p);
}

static void send_status(struct station *st)
{
	char p[256], ts[RFC3339_MAX];

	now_text(ts, sizeof ts);
	snprintf(p, sizeof p, "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Available\","
		 "\"timestamp\":\"%s\"}", ts);
	call(st, PH_STATUS, "StatusNotification", p);
}

static void send_start(struct station *st)
{
	char p[256], ts[RFC3339_MAX];

	now_text(ts, sizeof ts);
	st->energy = 1000;
	snprintf(p, sizeof p, "{\"connectorId\":1,\"idTag\":\"TAG%u\",\"meterStart\":%lld,"
		 "\"timestamp\":\"%s\"}", st->idx, st->energy, ts);
	call(st, PH_START, "StartTransaction", p);
}

/* The reference's meter payload: four sampled values, about 630 bytes. */
static void send_meter(struct station *st)
{
	char p[1024], ts[RFC3339_MAX];

	now_text(ts, sizeof ts);
	st->energy += 10;
	snprintf(p, sizeof p,
		 "{\"connectorId\":1,\"transactionId\":%" JSON_INTEGER_FORMAT ",\"meterValue\":[{"
		 "\"timestamp\":\"%s\",\"sampledValue\":["
		 "{\"value\":\"%lld\",\"context\":\"Sample.Periodic\",\"measurand\":"
		 "\"Energy.Active.Import.Register\",\"location\":\"Outlet\",\"unit\":\"Wh\"},"
		 "{\"value\":\"7360\",\"context\":\"Sample.Periodic\",\"measurand\":"
		 "\"Power.Active.Import\",\"location\":\"Outlet\",\"unit\":\"W\"},"
		 "{\"value\":\"32.0\",\"context\":\"Sample.Periodic\",\"measurand\":"
		 "\"Current.Import\",\"phase\":\"L1\",\"location\":\"Outlet\",\"unit\":\"A\"},"
		 "{\"value\":\"230.0\",\"context\":\"Sample.Periodic\",\"measurand\":"
		 "\"Voltage\",\"phase\":\"L1-N\",\"location\":\"Outlet\",\"unit\":\"V\"}]}]}",
		 st->tx, ts, st->energy);
	call(st, PH_METER, "MeterValues", p);
}

static void send_stop(struct station *st)
{
	char p[256], ts[RFC3339_MAX];

	now_text(ts, sizeof ts);
	snprintf(p, sizeof p, "{\"transactionId\":%" JSON_INTEGER_FORMAT ",\"meterStop\":%lld,"
		 "\"timestamp\":\"%s\",\"reason\":\"Local\"}", st->tx, st->energy, ts);
	call(st, PH_STOP, "StopTransaction", p);
}

/* ---------------------------------------------------------------- stations */

static void connect_one(struct gen *g);
static void finish(struct gen *g, const char *aborted, int code);

/* Connection phase accounting: a slot frees when a station has booted or
 * failed; the next station takes it. */
static void connect_finished(struct station *st)
{
	struct gen *g = st->g;

	if (!st->connecting)
		return;
	st->connecting = 0;
	g->in_flight--;
	if (g->stage != ST_CONNECT)
		return;
	if (g->next < g->n)
		connect_one(g);
	else if (!g->in_flight)
		advance(g);
}

/* Step accounting: every station taking part in a step (heartbeat,
 * StartTransaction, the meter loop, StopTransaction) leaves it once. */
static void step_done(struct station *st)
{
	struct gen *g = st->g;

	if (!st->in_step)
		return;
	st->in_step = 0;
	if (--g->step_pending == 0)
		advance(g);
}

static void fail(struct station *st, const char *fmt, ...)
{
	struct gen *g = st->g;
	char buf[256];
	va_list ap;

	if (st->phase == PH_FAILED)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	note_error(g, "%s", buf);
	st->phase = PH_FAILED;
	st->sent_ns = 0;
	st->tx = 0;
	/* The client is freed by the scan timer, not from inside its own
	 * callback; one whose connection is already gone only a while later:
	 * libwebsockets still calls back about that connection (WSI_DESTROY)
	 * with the client as its user data, after the client has been told. */
	if (st->ws && !st->reaping) {
		st->reaping = 1;
		st->reap_at = now_ns() + (st->open ? 0 : 2000000000ULL);
	}
	connect_finished(st);
	step_done(st);
}

static void on_open(void *ctx)
{
	struct station *st = ctx;

	if (st->phase != PH_CONNECT) {
		/* A reconnect after a loss: the run has already counted it. */
		return;
	}
	st->open = 1;
	st->t_open = now_ns();
	sample_add(&st->g->handshake, (double)(st->t_open - st->t_new) / 1e6);
	send_boot(st);
}

static void on_close(void *ctx, const char *why, unsigned retry_ms)
{
	struct station *st = ctx;

	(void)retry_ms;
	if (st->phase == PH_FAILED)
		return;
	if (st->open) {
		st->open = 0;
		fail(st, "disconnected in phase %s: %s", phase_names[st->phase], why);
	} else {
		fail(st, "connect: %s", why);
	}
}

static void answer_call(struct station *st, const char *id)
{
	char buf[160];
	int n = snprintf(buf, sizeof buf, "[4,\"%s\",\"NotImplemented\",\"not implemented by the load generator\",{}]", id);

	if (n > 0 && (size_t)n < sizeof buf)
		ws_client_send(st->ws, buf, (size_t)n);
}

static void on_answer(struct station *st, struct ocpp_frame *f)
{
	struct gen *g = st->g;
	uint64_t t = now_ns();
	double ms = (double)(t - st->sent_ns) / 1e6;
	const char *status;

	st->sent_ns = 0;
	if (f->type != OCPP_CALLRESULT) {
		fail(st, "%s: CALLERROR %s", phase_names[st->phase], f->error_code ? f->error_code : "?");
		return;
	}
	switch (st->phase) {
	case PH_BOOT:
		status = json_string_value(json_object_get(f->payload, "status"));
		if (!status || strcmp(status, "Accepted") != 0) {
			fail(st, "boot: status %s", status ? status : "missing");
			return;
		}
		send_status(st);
		break;
	case PH_STATUS:
		sample_add(&g->boot, (double)(t - st->t_open) / 1e6);
		st->phase = PH_READY;
		g->booted++;
		connect_finished(st);
		break;
	case PH_HEARTBEAT:
		st->phase = PH_READY;
		step_done(st);
		break;
	case PH_START:
		st->tx = json_integer_value(json_object_get(f->payload, "transactionId"));
		st->phase = PH_READY;
		if (st->tx)
			g->tx_started++;
		else
			note_error(g, "start-transaction: no transactionId");
		step_done(st);
		break;
	case PH_METER:
		if (g->running && t <= g->deadline_ns) {
			sample_add(&g->meter, ms);
			g->calls++;
		}
		if (g->running)
			send_meter(st);
		else {
			st->phase = PH_READY;
			step_done(st);
		}
		break;
	case PH_STOP:
		st->phase = PH_READY;
		step_done(st);
		break;
	default:
		break;
	}
}

static void on_message(void *ctx, const char *text, size_t len)
{
	struct station *st = ctx;
	struct ocpp_violation v;
	struct ocpp_frame f;

	if (st->phase == PH_FAILED)
		return;
	if (ocpp_frame_parse(text, len, &f, &v)) {
		note_error(st->g, "unparsable frame from the server");
	} else if (f.type == OCPP_CALL) {
		/* Only the answers to our calls are measured. */
		answer_call(st, f.id);
	} else if (st->sent_ns && strcmp(f.id, st->call_id) == 0) {
		on_answer(st, &f);
	} else {
		note_error(st->g, "answer to no outstanding call");
	}
	ocpp_frame_clear(&f);
}

static const struct ws_client_ops station_ops = {
	.on_open = on_open,
	.on_message = on_message,
	.on_close = on_close,
};

static void connect_one(struct gen *g)
{
	struct station *st = &g->st[g->next];
	char id[64], err[256] = "";
	struct ws_client_config cfg = {
		.url = g->url, .station_id = id, .subprotocol = "ocpp1.6",
		/* Pings are the server's job, as in the reference's
		 * generator; a lost connection is not retried soon. */
		.ping_interval_s = 0, .backoff_min_ms = 600000, .backoff_max_ms = 600000,
	};

	st->g = g;
	st->idx = g->next++;
	st->phase = PH_CONNECT;
	st->connecting = 1;
	g->in_flight++;
	snprintf(id, sizeof id, "%s%06u", g->prefix, st->idx);
	st->t_new = now_ns();
	st->ws = ws_client_new(g->net, &cfg, &station_ops, st, err, sizeof err);
	if (!st->ws) {
		/* A bad URL: every station would fail the same way. */
		fprintf(stderr, "csms-load: %s\n", err);
		finish(g, "cannot create a client", 2);
	}
}

/* ---------------------------------------------------------------- stages */

/* Starts one step for every ready station; send() is one of send_*. */
static void start_step(struct gen *g, void (*send)(struct station *), int need_tx)
{
	g->step_pending = 1;       /* held until every call is sent */
	for (unsigned i = 0; i < g->next; i++) {
		struct station *st = &g->st[i];
		if (st->phase != PH_READY || (need_tx && !st->tx))
			continue;
		st->in_step = 1;
		g->step_pending++;
		send(st);
	}
	if (--g->step_pending == 0)
		advance(g);
}

static void send_heartbeat(struct station *st)
{
	call(st, PH_HEARTBEAT, "Heartbeat", "{}");
}

static void signal_server(struct gen *g)
{
	if (g->usr2 && g->server_pid > 0 && kill(g->server_pid, SIGUSR2))
		note_error(g, "SIGUSR2 to the server: %s", strerror(errno));
}

static void teardown(struct gen *g);

static void stage_timer_cb(uv_timer_t *t)
{
	struct gen *g = t->data;

	switch (g->stage) {
	case ST_DONE:
		teardown(g);
		break;
	case ST_SETTLE:
		g->stage = ST_HOLD;
		snapshot(g, &g->s0);
		uv_timer_start(&g->stage_timer, stage_timer_cb, (uint64_t)g->duration_s * 1000, 0);
		break;
	case ST_HOLD:
		snapshot(g, &g->s1);
		signal_server(g);
		g->still_open = 0;
		for (unsigned i = 0; i < g->next; i++)
			g->still_open += g->st[i].phase == PH_READY && ws_client_is_open(g->st[i].ws);
		finish(g, NULL, 0);
		break;
	case ST_WINDOW:
		/* The window closes; each station's last call completes
		 * outside it and ends its loop. */
		g->running = 0;
		snapshot(g, &g->s1);
		g->calls_at_end = g->calls;
		signal_server(g);
		g->stage = ST_DRAIN;
		break;
	default:
		break;
	}
}

static void advance(struct gen *g)
{
	switch (g->stage) {
	case ST_CONNECT:
		snapshot(g, &g->after_connect);
		g->stage = ST_PREPARE;
		fprintf(stderr, "csms-load: %u of %u stations booted in %.2f s\n", g->booted, g->n,
			(double)(g->after_connect.t_ns - g->before.t_ns) / 1e9);
		start_step(g, g->mode == MODE_IDLE ? send_heartbeat : send_start, 0);
		break;
	case ST_PREPARE:
		if (g->mode == MODE_IDLE) {
			g->stage = ST_SETTLE;
			uv_timer_start(&g->stage_timer, stage_timer_cb, (uint64_t)g->settle_s * 1000, 0);
			break;
		}
		g->stage = ST_WINDOW;
		g->running = 1;
		snapshot(g, &g->s0);
		g->deadline_ns = g->s0.t_ns + (uint64_t)g->duration_s * 1000000000ULL;
		uv_timer_start(&g->stage_timer, stage_timer_cb, (uint64_t)g->duration_s * 1000, 0);
		start_step(g, send_meter, 1);
		break;
	case ST_WINDOW:
		/* Every station failed before the window closed. */
		g->running = 0;
		snapshot(g, &g->s1);
		g->calls_at_end = g->calls;
		uv_timer_stop(&g->stage_timer);
		/* fall through */
	case ST_DRAIN:
		g->stage = ST_STOP;
		start_step(g, send_stop, 1);
		break;
	case ST_STOP:
		finish(g, NULL, 0);
		break;
	default:
		break;
	}
}

/* Calls left unanswered for --call-timeout fail their station; failed
 * stations' clients are freed. */
static void scan_timer_cb(uv_timer_t *t)
{
	struct gen *g = t->data;
	uint64_t now = now_ns(), limit = (uint64_t)g->call_timeout_s * 1000000000ULL;

	for (unsigned i = 0; i < g->next; i++) {
		struct station *st = &g->st[i];
		if (st->sent_ns && now - st->sent_ns > limit)
			fail(st, "%s: call timeout", phase_names[st->phase]);
		else if (st->phase == PH_CONNECT && st->connecting && now - st->t_new > limit)
			fail(st, "connect: timeout");
		if (st->reaping && st->ws && now >= st->reap_at) {
			ws_client_free(st->ws);
			st->ws = NULL;
		}
	}
}

static void hard_timer_cb(uv_timer_t *t)
{
	struct gen *g = t->data;
	char buf[64];

	snprintf(buf, sizeof buf, "max-time %u s", g->max_time_s);
	g->aborted = strdup(buf);
	finish(g, g->aborted, 4);
}

static void signal_cb(uv_signal_t *h, int signum)
{
	finish(h->data, signum == SIGINT ? "SIGINT" : "SIGTERM", 130);
}

/* ---------------------------------------------------------------- report */

static json_t *report(struct gen *g, const char *aborted)
{
	const struct snap *b = &g->before, *ac = &g->after_connect;
	double connect_s = ac->t_ns ? (double)(ac->t_ns - b->t_ns) / 1e9 : 0;
	json_t *r, *errs = json_object(), *connect;
	struct rusage ru;

	for (unsigned i = 0; i < MAX_ERRORS && g->errors[i].what; i++)
		json_object_set_new(errs, g->errors[i].what, json_integer(g->errors[i].count));
	getrusage(RUSAGE_SELF, &ru);
	r = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:o, s:I, s:o, s:i, s:I}",
		      "generator", "csms-load", "label", g->label,
		      "mode", g->mode == MODE_IDLE ? "idle" : "meter",
		      "n", (int)g->n, "connected", (int)g->booted, "conc", (int)g->conc,
		      "duration_s", (int)g->duration_s, "url", json_string(g->url),
		      "server_pid", (json_int_t)g->server_pid,
		      "server_rss_initial", nullable_bytes(b->srv_rss),
		      "nofile", (int)g->nofile.rlim_cur,
		      "gen_maxrss", (json_int_t)ru.ru_maxrss * 1024);
	if (ac->t_ns) {
		connect = json_pack("{s:f, s:f, s:o, s:o, s:o}", "all_booted_s", connect_s,
				    "booted_per_s", connect_s > 0 ? g->booted / connect_s : 0.0,
				    "handshake", summarize(&g->handshake), "boot", summarize(&g->boot),
				    "cpu", cpu_delta(b, ac));
		json_object_set_new(r, "connect", connect);
	}
	if (g->mode == MODE_IDLE && g->s1.t_ns) {
		json_t *idle = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:o}",
			"rss_before", nullable_bytes(b->srv_rss),
			"rss_after_connect", nullable_bytes(ac->srv_rss),
			"rss_after", nullable_bytes(g->s1.srv_rss),
			"rss_hwm", nullable_bytes(g->s1.srv_hwm),
			"anon_before", nullable_bytes(b->srv_anon),
			"anon_after", nullable_bytes(g->s1.srv_anon),
			"still_connected", (int)g->still_open,
			"cpu", cpu_delta(&g->s0, &g->s1));
		if (b->srv_rss >= 0 && g->s1.srv_rss >= 0 && g->booted)
			json_object_set_new(idle, "rss_per_conn_kib",
				json_real((double)(g->s1.srv_rss - b->srv_rss) / g->booted / 1024));
		else
			json_object_set_new(idle, "rss_per_conn_kib", json_null());
		json_object_set_new(r, "idle", idle);
	}
	if (g->mode == MODE_METER && g->s1.t_ns) {
		double wall = (double)(g->s1.t_ns - g->s0.t_ns) / 1e9, k = (double)g->calls_at_end / 1000;
		json_t *cpu = cpu_delta(&g->s0, &g->s1);
		json_t *srv = json_object_get(cpu, "server_cpu_s");
		json_t *meter = json_pack("{s:I, s:I, s:f, s:o, s:o, s:o}",
			"transactions_started", (json_int_t)g->tx_started,
			"calls", (json_int_t)g->calls_at_end,
			"rtt_per_s", wall > 0 ? (double)g->calls_at_end / wall : 0.0,
			"latency", summarize(&g->meter), "cpu", cpu,
			"server_rss_end", nullable_bytes(g->s1.srv_rss));
		json_object_set_new(meter, "server_cpu_s_per_1k", json_is_real(srv) && k > 0
				    ? json_real(json_real_value(srv) / k) : json_null());
		json_object_set_new(meter, "gen_cpu_s_per_1k",
				    k > 0 ? json_real((g->s1.gen_cpu - g->s0.gen_cpu) / k) : json_null());
		/* Where a server's time goes, roughly: its read and write
		 * system calls and context switches per round trip. */
		if (g->calls_at_end && g->s0.srv_syscw >= 0 && g->s1.srv_syscw >= 0) {
			double c = (double)g->calls_at_end;
			json_object_set_new(meter, "server_per_call", json_pack("{s:f, s:f, s:f}",
				"read_syscalls", (double)(g->s1.srv_syscr - g->s0.srv_syscr) / c,
				"write_syscalls", (double)(g->s1.srv_syscw - g->s0.srv_syscw) / c,
				"context_switches", (double)(g->s1.srv_ctxt - g->s0.srv_ctxt) / c));
		}
		json_object_set_new(r, "meter", meter);
	}
	json_object_set_new(r, "errors", errs);
	json_object_set_new(r, "error_count", json_integer(g->error_count));
	if (aborted)
		json_object_set_new(r, "aborted", json_string(aborted));
	return r;
}

static void close_cb(uv_handle_t *h)
{
	(void)h;
}

static void finish(struct gen *g, const char *aborted, int code)
{
	json_t *r;

	if (g->stage == ST_DONE)
		return;
	g->stage = ST_DONE;
	g->exit_code = code;
	r = report(g, aborted);
	if (g->json_out && json_dump_file(r, g->json_out, JSON_INDENT(2) | JSON_REAL_PRECISION(6)))
		fprintf(stderr, "csms-load: cannot write %s\n", g->json_out);
	json_dumpf(r, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(r);
	/* Not from inside a client's callback: the context goes with it. */
	uv_timer_start(&g->stage_timer, stage_timer_cb, 0, 0);
}

/* Everything closes in the loop, which then runs dry. */
static void teardown(struct gen *g)
{
	uv_close((uv_handle_t *)&g->stage_timer, close_cb);
	uv_close((uv_handle_t *)&g->scan_timer, close_cb);
	uv_close((uv_handle_t *)&g->hard_timer, close_cb);
	uv_close((uv_handle_t *)&g->sigint, close_cb);
	uv_close((uv_handle_t *)&g->sigterm, close_cb);
	ws_net_close(g->net);
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: csms-load --url ws://127.0.0.1:PORT[/PATH] [--n N] [--mode idle|meter]\n"
		"                 [--duration S] [--settle S] [--conc N] [--server-pid PID]\n"
		"                 [--prefix ID] [--label TEXT] [--json FILE] [--call-timeout S]\n"
		"                 [--max-time S] [--usr2]\n"
		"Stations connect to URL/<prefix><6 digits>. Prints one JSON object.\n");
}

static int parse_uint(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v > 10000000)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_args(struct gen *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "n", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "duration", required_argument, NULL, 'd' },
		{ "settle", required_argument, NULL, 's' },
		{ "conc", required_argument, NULL, 'c' },
		{ "server-pid", required_argument, NULL, 'p' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "label", required_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{ "call-timeout", required_argument, NULL, 't' },
		{ "max-time", required_argument, NULL, 'T' },
		{ "usr2", no_argument, NULL, '2' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned pid = 0;
	int c;

	g->n = 100;
	g->conc = 200;
	g->settle_s = 3;
	g->duration_s = 15;
	g->call_timeout_s = 30;
	g->prefix = "CP";
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'u': g->url = optarg; break;
		case 'n': bad = parse_uint(optarg, &g->n) || !g->n; break;
		case 'm':
			if (strcmp(optarg, "idle") == 0)
				g->mode = MODE_IDLE;
			else if (strcmp(optarg, "meter") == 0)
				g->mode = MODE_METER;
			else
				bad = 1;
			break;
		case 'd': bad = parse_uint(optarg, &g->duration_s); break;
		case 's': bad = parse_uint(optarg, &g->settle_s); break;
		case 'c': bad = parse_uint(optarg, &g->conc) || !g->conc; break;
		case 'p': bad = parse_uint(optarg, &pid); g->server_pid = (pid_t)pid; break;
		case 'P': g->prefix = optarg; break;
		case 'l': g->label = optarg; break;
		case 'j': g->json_out = optarg; break;
		case 't': bad = parse_uint(optarg, &g->call_timeout_s) || !g->call_timeout_s; break;
		case 'T': bad = parse_uint(optarg, &g->max_time_s); break;
		case '2': g->usr2 = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
		if (bad) {
			fprintf(stderr, "csms-load: bad value '%s'\n", optarg);
			return -1;
		}
	}
	if (optind < argc || !g->url) {
		usage(stderr);
		return -1;
	}
	/* Like the reference's generator: loopback targets only. */
	if (strncmp(g->url, "ws://127.", 9) != 0 && strncmp(g->url, "ws://localhost", 14) != 0 &&
	    strncmp(g->url, "ws://[::1]", 10) != 0) {
		fprintf(stderr, "csms-load: refusing a non-loopback target: %s\n", g->url);
		return -1;
	}
	if (!g->label)
		g->label = g->mode == MODE_IDLE ? "idle" : "meter";
	if (!g->max_time_s)
		g->max_time_s = g->duration_s + g->settle_s + 300;
	return 0;
}

/* One fd per station, plus a few for the loop, /proc and the JSON file:
 * raise the soft open-files limit as far as the hard one allows. */
static int raise_nofile(struct gen *g)
{
	getrlimit(RLIMIT_NOFILE, &g->nofile);
	if (g->nofile.rlim_cur < g->nofile.rlim_max) {
		g->nofile.rlim_cur = g->nofile.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &g->nofile))
			getrlimit(RLIMIT_NOFILE, &g->nofile);
	}
	if ((rlim_t)g->n + 64 > g->nofile.rlim_cur) {
		fprintf(stderr, "csms-load: %u stations need %u open files; the limit is %llu "
			"(hard %llu)\n", g->n, g->n + 64, (unsigned long long)g->nofile.rlim_cur,
			(unsigned long long)g->nofile.rlim_max);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gen g = { 0 };
	uv_loop_t loop;

	if (parse_args(&g, argc, argv))
		return 2;
	if (raise_nofile(&g))
		return 2;
	g.clk_tck = sysconf(_SC_CLK_TCK);
	if (g.clk_tck <= 0)
		g.clk_tck = 100;
	ev_log_open("csms-load", EV_LOG_ERROR, 0);
	signal(SIGPIPE, SIG_IGN);
	if (!(g.st = calloc(g.n, sizeof *g.st))) {
		fprintf(stderr, "csms-load: out of memory\n");
		return 1;
	}
	uv_loop_init(&loop);
	g.loop = &loop;
	/* The context sizes its tables from the open-files limit: after
	 * raise_nofile. */
	if (!(g.net = ws_net_new(&loop))) {
		fprintf(stderr, "csms-load: cannot create the WebSocket context\n");
		return 1;
	}
	uv_timer_init(&loop, &g.stage_timer);
	uv_timer_init(&loop, &g.scan_timer);
	uv_timer_init(&loop, &g.hard_timer);
	uv_signal_init(&loop, &g.sigint);
	uv_signal_init(&loop, &g.sigterm);
	g.stage_timer.data = g.scan_timer.data = g.hard_timer.data = &g;
	g.sigint.data = g.sigterm.data = &g;
	uv_timer_start(&g.scan_timer, scan_timer_cb, 1000, 1000);
	uv_timer_start(&g.hard_timer, hard_timer_cb, (uint64_t)g.max_time_s * 1000, 0);
	uv_signal_start(&g.sigint, signal_cb, SIGINT);
	uv_signal_start(&g.sigterm, signal_cb, SIGTERM);

	snapshot(&g, &g.before);
	g.stage = ST_CONNECT;
	for (unsigned i = 0; i < g.conc && g.next < g.n && g.stage == ST_CONNECT; i++)
		connect_one(&g);

	uv_run(&loop, UV_RUN_DEFAULT);
	ws_net_free(g.net);
	if (uv_loop_close(&loop))
		fprintf(stderr, "csms-load: handles left open at exit\n");
	for (unsigned i = 0; i < MAX_ERRORS; i++)
		free(g.errors[i].what);
	free((char *)g.aborted);
	free(g.handshake.v);
	free(g.boot.v);
	free(g.meter.v);
	free(g.st);
	ev_log_close();
	return g.exit_code;
}
