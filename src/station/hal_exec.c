#include "config.h"
#include "station/hal_exec.h"
#include "util/uvtimer.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

#define KILL_GRACE_MS 1000      /* SIGTERM, then SIGKILL */
/* After a command exited, how long its output may still trickle in: only a
 * background child that kept the pipe open makes us wait this long. */
#define DRAIN_MS 1000
#define ERR_LINE_MAX 256        /* stderr lines are logged up to this */
#define AC_VOLTAGE 230.0

/* What a process does for us. The first four are enum hal_request. */
enum kind {
	K_LOCK = HAL_REQ_LOCK,
	K_CONTACTOR = HAL_REQ_CONTACTOR,
	K_LIMIT = HAL_REQ_LIMIT,
	K_DISPLAY = HAL_REQ_DISPLAY,
	K_METER,
	K_EVENTS,
	K_COUNT
};
#define N_REQ 4

static const char *const kind_names[K_COUNT] = {
	"lock-cmd", "contactor-cmd", "limit-cmd", "display-cmd", "meter-cmd", "events-cmd",
};

/* The placeholders each command may use besides %n and %%. */
static const char *const kind_placeholders[K_COUNT] = { "csb", "csb", "cvup", "ct", "c", "" };

/* A command split into words; placeholders are still in them. */
struct tmpl {
	char **words;
	int n;                  /* 0: not configured */
};

/* One request's arguments. */
struct request {
	int on;                 /* lock, contactor */
	struct hal_limit lim;
	char *text;             /* display; NULL clears */
};

/* Output read from a pipe: whole (meter) or line by line. */
struct linebuf {
	char *buf;
	size_t len, max;
	int lines;              /* hand out lines as they come */
	int overflow;           /* whole: too much; lines: skipping an overlong line */
};

enum phase { RUNNING, TERMINATING, KILLED, DRAINING };

struct job {
	struct job *next;       /* in x->jobs */
	struct hal_exec *x;     /* NULL once hal_exec_free left it behind */
	enum kind kind;
	int connector;
	struct request req;
	uv_process_t proc;
	uv_pipe_t out, err;
	uv_timer_t timer;
	int open;               /* handles not yet closed: freed when 0 */
	int has_out, out_open, err_open, spawned, exited, finished, timed_out;
	enum phase phase;
	int64_t status;
	int signal;
	uint64_t started;
	struct linebuf outb, errb;
};

/* Per connector and request kind: what runs, what waits. */
struct slot {
	struct job *running;
	int has_pending;
	struct request pending;
	int cancelled;          /* replaced requests to report when running ends */
};

struct conn {
	struct hal_exec_connector cfg;   /* defaults resolved */
	struct slot slot[N_REQ];         /* connector 0 uses only the display */
	/* Confirmed by a command that succeeded. */
	int locked, contactor;
	struct hal_limit limit;
	/* From events-cmd. */
	enum hal_ev_state ev;
	int faulted;
	char fault_code[HAL_CODE_MAX + 1], fault_info[HAL_INFO_MAX + 1];
	int ev_meter_err;
	char ev_meter_info[HAL_INFO_MAX + 1];
	/* What the core was last told. */
	int rep_faulted;
	char rep_code[HAL_CODE_MAX + 1], rep_info[HAL_INFO_MAX + 1];
	int rep_meter_err;
	char rep_meter_info[HAL_INFO_MAX + 1];
	/* The meter. */
	struct job *meter;
	int poll_again;
	int have_reading;
	struct hal_meter reading;
	int last_err;                    /* the last attempt's outcome */
	char last_info[HAL_INFO_MAX + 1];
	int stale_err;                   /* 0 while readings are fresh */
	char stale_info[HAL_INFO_MAX + 1];
	uv_timer_t *stale;
};

struct hal_exec {
	struct hal base;                 /* first: a struct hal * is a struct hal_exec * */
	uv_loop_t *loop;
	struct tmpl tmpl[K_COUNT];
	unsigned timeout_ms, interval_ms, stale_ms, restart_min_ms, restart_max_ms;
	unsigned restart_delay;          /* the next back-off */
	struct job *jobs;
	struct job *events;              /* the running events-cmd, or NULL */
	int events_down;                 /* it died and is not settled again */
	uv_timer_t *poll_timer, *events_timer;
	struct conn conn[];              /* 0: the station; 1..n the connectors */
};

static const struct hal_ops exec_ops;

static void events_start(struct hal_exec *x);

/* ------------------------------------------------------------ helpers */

static void say(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A construction error: into err, or the log when there is no err. */
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (err && errlen)
		snprintf(err, errlen, "%s", buf);
	else
		log_error("exec: %s", buf);
}

/* Copies s into a buffer of size n, cut at a UTF-8 character boundary. */
static void copy_text(char *dst, size_t n, const char *s)
{
	size_t len = strlen(s);

	if (len >= n) {
		len = n - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
}

static void request_clear(struct request *rq)
{
	free(rq->text);
	rq->text = NULL;
}

/* A number as a plain decimal: "16", "6.5", "11000". */
static void format_number(double v, char *buf, size_t n)
{
	char *end;

	snprintf(buf, n, "%.3f", v);
	end = buf + strlen(buf);
	while (end > buf && end[-1] == '0')
		*--end = '\0';
	if (end > buf && end[-1] == '.')
		*--end = '\0';
}

/* ------------------------------------------------- command templates */

static void tmpl_clear(struct tmpl *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->words[i]);
	free(t->words);
	t->words = NULL;
	t->n = 0;
}

static int tmpl_push(struct tmpl *t, const char *word, size_t len)
{
	char **w = realloc(t->words, (size_t)(t->n + 2) * sizeof *w);

	if (!w)
		return -ENOMEM;
	t->words = w;
	if (!(w[t->n] = strndup(word, len)))
		return -ENOMEM;
	w[++t->n] = NULL;
	return 0;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Splits cmd into words: blanks separate, '...' and "..." quote, a
 * backslash escapes. */
static int tmpl_split(const char *cmd, struct tmpl *t, const char **why)
{
	size_t cap = strlen(cmd) + 1, len;
	char *word = malloc(cap);
	const char *p = cmd;
	int rc = 0;

	if (!word)
		return -ENOMEM;
	while (rc == 0) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		for (len = 0; *p && !is_blank(*p); p++) {
			if (*p == '\'') {
				for (p++; *p && *p != '\''; p++)
					word[len++] = *p;
			} else if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
						p++;
					word[len++] = *p;
				}
			} else if (*p == '\\' && p[1]) {
				word[len++] = *++p;
				continue;
			} else {
				word[len++] = *p;
				continue;
			}
			if (!*p) {
				*why = "unterminated quote";
				rc = -EINVAL;
				break;
			}
		}
		if (rc == 0)
			rc = tmpl_push(t, word, len);
	}
	free(word);
	return rc;
}

/* Checks the placeholders of every word against what kind allows. */
static int tmpl_check(const struct tmpl *t, enum kind kind, char *bad)
{
	const char *allowed = kind_placeholders[kind];

	for (int i = 0; i < t->n; i++) {
		for (const char *p = t->words[i]; (p = strchr(p, '%')); p += 2) {
			if (p[1] == '%' || p[1] == 'n')
				continue;
			if (!p[1] || !strchr(allowed, p[1])) {
				*bad = p[1];
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int tmpl_uses(const struct tmpl *t, char c)
{
	for (int i = 0; i < t->n; i++)
		for (const char *p = t->words[i]; (p = strchr(p, '%')); p += 2)
			if (p[1] == c)
				return 1;
	return 0;
}

/* The value of placeholder c for a request, in buf. */
static const char *placeholder(const struct hal_exec *x, int connector, const struct request *rq,
			       char c, char *buf, size_t n)
{
	const struct conn *k = &x->conn[connector];

	switch (c) {
	case 'c': snprintf(buf, n, "%d", connector); return buf;
	case 'n': snprintf(buf, n, "%d", x->base.n_connectors); return buf;
	case 's': return rq->on ? "on" : "off";
	case 'b': return rq->on ? "1" : "0";
	case 'v': format_number(rq->lim.value, buf, n); return buf;
	case 'u': return hal_unit_name(rq->lim.unit);
	case 'p':
		snprintf(buf, n, "%d", rq->lim.phases ? rq->lim.phases : k->cfg.phases);
		return buf;
	case 't': return rq->text ? rq->text : "";
	case '%': return "%";
	}
	return "";
}

static void argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

/* The argument vector for one run; NULL when out of memory. */
static char **tmpl_expand(const struct hal_exec *x, const struct tmpl *t, int connector,
			  const struct request *rq)
{
	char **argv = calloc((size_t)t->n + 1, sizeof *argv), num[64];

	if (!argv)
		return NULL;
	for (int i = 0; i < t->n; i++) {
		const char *w = t->words[i];
		size_t cap = strlen(w) + 1, len = 0;
		char *out = malloc(cap);

		for (; out && *w; w++) {
			const char *v = w;
			size_t vlen = 1;
			if (*w == '%' && w[1]) {
				v = placeholder(x, connector, rq, *++w, num, sizeof num);
				vlen = strlen(v);
			}
			if (len + vlen + 1 > cap) {
				char *bigger = realloc(out, cap = (len + vlen + 1) * 2);
				if (!bigger) {
					free(out);
					out = NULL;
					break;
				}
				out = bigger;
			}
			memcpy(out + len, v, vlen);
			len += vlen;
		}
		if (!out) {
			argv_free(argv);
			return NULL;
		}
		out[len] = '\0';
		argv[i] = out;
	}
	return argv;
}

/* Whether the program can be found: the daemon should refuse to start
 * rather than fail at the first plug-in. Programs whose name has a
 * placeholder are checked when they run. */
static int findable(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(prog, '%'))
		return 1;
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	for (const char *p = path ? path : "/usr/bin:/bin"; ; p++) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if ((size_t)snprintf(buf, sizeof buf, "%.*s/%s", (int)len, len ? p : ".", prog) < sizeof buf &&
		    access(buf, X_OK) == 0)
			return 1;
		if (!end)
			return 0;
		p = end;
	}
}

static int tmpl_parse(struct hal_exec *x, enum kind kind, const char *cmd, char *err, size_t errlen)
{
	struct tmpl *t = &x->tmpl[kind];
	const char *why = NULL, *name = kind_names[kind];
	char bad = 0;
	int rc;

	if (!cmd || !*cmd)
		return 0;
	rc = tmpl_split(cmd, t, &why);
	if (rc == -ENOMEM) {
		say(err, errlen, "out of memory");
		return rc;
	}
	if (rc == 0 && t->n == 0)
		why = "empty command";
	if (rc || !t->n) {
		say(err, errlen, "%s: %s", name, why);
		return -EINVAL;
	}
	if (tmpl_check(t, kind, &bad)) {
		if (bad)
			say(err, errlen, "%s: unknown placeholder %%%c", name, bad);
		else
			say(err, errlen, "%s: lone %% at the end (write %%%% for %%)", name);
		return -EINVAL;
	}
	if (x->base.n_connectors > 1 && kind != K_DISPLAY && kind != K_EVENTS && !tmpl_uses(t, 'c')) {
		say(err, errlen, "%s: no %%c, but the station has %d connectors", name,
		    x->base.n_connectors);
		return -EINVAL;
	}
	if (!findable(t->words[0])) {
		say(err, errlen, "%s: %s: not found or not executable", name, t->words[0]);
		return -ENOENT;
	}
	return 0;
}

/* ------------------------------------------------------------- output */

static int linebuf_init(struct linebuf *b, size_t max, int lines)
{
	b->buf = malloc(max + 1);
	b->len = 0;
	b->max = max;
	b->lines = lines;
	b->overflow = 0;
	return b->buf ? 0 : -ENOMEM;
}

static void on_line(struct job *j, struct linebuf *b, char *line);

/* Hands out the complete lines in b; keeps the rest. */
static void linebuf_lines(struct job *j, struct linebuf *b, int eof)
{
	char *start = b->buf, *nl;

	while ((nl = memchr(start, '\n', b->len - (size_t)(start - b->buf)))) {
		*nl = '\0';
		if (b->overflow)
			b->overflow = 0;        /* the end of an overlong line */
		else
			on_line(j, b, start);
		start = nl + 1;
	}
	b->len -= (size_t)(start - b->buf);
	memmove(b->buf, start, b->len);
	if (b->len == b->max || (eof && b->len > 0)) {
		b->buf[b->len] = '\0';
		if (!b->overflow) {
			b->overflow = !eof;     /* the rest of this line is dropped */
			on_line(j, b, b->buf);
		}
		b->len = 0;
	}
}

static void job_closed(uv_handle_t *h)
{
	struct job *j = h->data;

	if (--j->open > 0)
		return;
	request_clear(&j->req);
	free(j->outb.buf);
	free(j->errb.buf);
	free(j);
}

static void close_handle(struct job *j, uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, job_closed);
}

static void maybe_finish(struct job *j);

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct job *j = h->data;
	struct linebuf *b = h == (uv_handle_t *)&j->out ? &j->outb : &j->errb;

	*buf = uv_buf_init(b->buf + b->len, (unsigned)(b->max - b->len));
	(void)suggested;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct job *j = s->data;
	int is_out = s == (uv_stream_t *)&j->out;
	struct linebuf *b = is_out ? &j->outb : &j->errb;

	(void)buf;
	if (n > 0) {
		b->len += (size_t)n;
		if (b->lines) {
			linebuf_lines(j, b, 0);
		} else if (b->len == b->max) {
			b->overflow = 1;        /* too much: the rest is read and dropped */
			b->len = 0;
		}
		return;
	}
	if (n == 0)
		return;
	if (b->lines)
		linebuf_lines(j, b, 1);
	close_handle(j, (uv_handle_t *)s);
	if (is_out)
		j->out_open = 0;
	else
		j->err_open = 0;
	maybe_finish(j);
}

/* ---------------------------------------------------------- processes */

/* Signals the whole process group: a shell's children too. */
static void signal_group(struct job *j, int sig)
{
	if (j->spawned && !j->exited)
		uv_kill(-j->proc.pid, sig);
}

static void on_timer(uv_timer_t *t)
{
	struct job *j = t->data;

	switch (j->phase) {
	case RUNNING:
		j->timed_out = 1;
		/* A hanging meter is reported by the meter's own logic. */
		ev_log(j->kind == K_METER ? EV_LOG_DEBUG : EV_LOG_WARN,
		       "exec: %s (connector %d) timed out: stopping it", kind_names[j->kind],
		       j->connector);
		signal_group(j, SIGTERM);
		j->phase = TERMINATING;
		uv_timer_start(&j->timer, on_timer, KILL_GRACE_MS, 0);
		return;
	case TERMINATING:
		signal_group(j, SIGKILL);
		j->phase = KILLED;
		return;
	case KILLED:
		return;
	case DRAINING:
		/* Exited, but something still holds its output open. */
		if (j->out_open)
			close_handle(j, (uv_handle_t *)&j->out);
		if (j->err_open)
			close_handle(j, (uv_handle_t *)&j->err);
		j->out_open = j->err_open = 0;
		maybe_finish(j);
		return;
	}
}

static void on_process_exit(uv_process_t *p, int64_t status, int sig)
{
	struct job *j = p->data;

	j->exited = 1;
	j->status = status;
	j->signal = sig;
	if (j->out_open || j->err_open) {
		j->phase = DRAINING;
		uv_timer_start(&j->timer, on_timer, DRAIN_MS, 0);
	}
	maybe_finish(j);
}

/* 0 for success, else a negative errno, and in why how it ended. */
static int job_rc(const struct job *j, char *why, size_t n)
{
	if (j->timed_out) {
		snprintf(why, n, "timed out");
		return -ETIMEDOUT;
	}
	if (j->signal) {
		snprintf(why, n, "killed by signal %d", j->signal);
		return -EIO;
	}
	snprintf(why, n, "exit status %" PRId64, j->status);
	return j->status ? -EIO : 0;
}

static void job_done(struct hal_exec *x, struct job *j);

static void unlink_job(struct job *j)
{
	for (struct job **pp = &j->x->jobs; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			return;
		}
	}
}

/* Once the process is gone and its output read: closes what is left and
 * tells the driver. */
static void maybe_finish(struct job *j)
{
	if (j->finished || !j->exited || j->out_open || j->err_open)
		return;
	j->finished = 1;
	uv_timer_stop(&j->timer);
	close_handle(j, (uv_handle_t *)&j->timer);
	close_handle(j, (uv_handle_t *)&j->proc);
	if (!j->x)
		return;         /* left behind by hal_exec_free */
	unlink_job(j);
	job_done(j->x, j);
}

/* Closes a job that never started. */
static void job_abort(struct job *j)
{
	close_handle(j, (uv_handle_t *)&j->timer);
	close_handle(j, (uv_handle_t *)&j->err);
	if (j->has_out)
		close_handle(j, (uv_handle_t *)&j->out);
	if (j->spawned)
		close_handle(j, (uv_handle_t *)&j->proc);
}

/* Starts kind's command for a connector; takes rq's text. 0 with the job in
 * *out, or -EIO (logged) / -ENOMEM. */
static int job_start(struct hal_exec *x, enum kind kind, int connector, struct request *rq,
		     struct job **out)
{
	struct job *j = calloc(1, sizeof *j);
	uv_process_options_t opts = { 0 };
	uv_stdio_container_t io[3];
	char **argv = NULL;
	int rc;

	if (!j) {
		request_clear(rq);
		return -ENOMEM;
	}
	j->x = x;
	j->kind = kind;
	j->connector = connector;
	j->req = *rq;
	rq->text = NULL;
	j->has_out = kind == K_METER || kind == K_EVENTS;
	uv_timer_init(x->loop, &j->timer);
	uv_pipe_init(x->loop, &j->err, 0);
	j->timer.data = j->err.data = j->proc.data = j->out.data = j;
	j->open = 2;
	if (j->has_out) {
		uv_pipe_init(x->loop, &j->out, 0);
		j->open++;
	}
	argv = tmpl_expand(x, &x->tmpl[kind], connector, &j->req);
	if (!argv || linebuf_init(&j->errb, ERR_LINE_MAX, 1) ||
	    (j->has_out && linebuf_init(&j->outb, kind == K_EVENTS ? HAL_EXEC_LINE_MAX + 1
					: HAL_EXEC_METER_OUT_MAX + 1, kind == K_EVENTS))) {
		argv_free(argv);
		job_abort(j);
		return -ENOMEM;
	}
	io[0].flags = UV_IGNORE;
	io[1].flags = j->has_out ? UV_CREATE_PIPE | UV_WRITABLE_PIPE : UV_IGNORE;
	io[1].data.stream = (uv_stream_t *)&j->out;
	io[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[2].data.stream = (uv_stream_t *)&j->err;
	opts.exit_cb = on_process_exit;
	opts.file = argv[0];
	opts.args = argv;
	opts.stdio = io;
	opts.stdio_count = 3;
	opts.flags = UV_PROCESS_DETACHED;       /* its own process group, to kill it whole */
	rc = uv_spawn(x->loop, &j->proc, &opts);
	j->spawned = 1;                         /* initialized even when it failed */
	j->open++;
	if (rc) {
		log_warn("exec: %s (connector %d): cannot run %s: %s", kind_names[kind], connector,
			 argv[0], uv_strerror(rc));
		argv_free(argv);
		job_abort(j);
		return -EIO;
	}
	log_debug("exec: %s (connector %d): started %s, pid %d", kind_names[kind], connector,
		  argv[0], j->proc.pid);
	argv_free(argv);
	j->started = uv_now(x->loop);
	j->err_open = 1;
	uv_read_start((uv_stream_t *)&j->err, on_alloc, on_read);
	if (j->has_out) {
		j->out_open = 1;
		uv_read_start((uv_stream_t *)&j->out, on_alloc, on_read);
	}
	if (kind != K_EVENTS)
		uv_timer_start(&j->timer, on_timer, x->timeout_ms, 0);
	j->next = x->jobs;
	x->jobs = j;
	if (out)
		*out = j;
	return 0;
}

/* Ends a job without waiting for its outcome. */
static void job_terminate(struct job *j)
{
	if (j->exited || j->phase != RUNNING)
		return;
	signal_group(j, SIGTERM);
	j->phase = TERMINATING;
	uv_timer_start(&j->timer, on_timer, KILL_GRACE_MS, 0);
}

/* ------------------------------------------------- what the core hears */

/* The fault to show: the command's own, or ours while it is down. */
static const char *fault_now(const struct hal_exec *x, const struct conn *k, const char **info)
{
	if (k->faulted) {
		*info = k->fault_info;
		return k->fault_code;
	}
	if (x->events_down) {
		*info = "events-cmd not running";
		return "InternalError";
	}
	*info = "";
	return NULL;
}

static void sync_fault(struct hal_exec *x, int c)
{
	struct conn *k = &x->conn[c];
	const char *info, *code = fault_now(x, k, &info);

	if (!code && !k->rep_faulted)
		return;
	if (code && k->rep_faulted && !strcmp(code, k->rep_code) && !strcmp(info, k->rep_info))
		return;
	k->rep_faulted = code != NULL;
	copy_text(k->rep_code, sizeof k->rep_code, code ? code : "");
	copy_text(k->rep_info, sizeof k->rep_info, info);
	if (code)
		log_warn("exec: connector %d: fault %s%s%s", c, code, *info ? ": " : "", info);
	else
		log_info("exec: connector %d: fault cleared", c);
	hal_emit_fault(&x->base, c, code ? k->rep_code : NULL, code && *info ? k->rep_info : NULL);
}

static int meter_err_now(const struct conn *k, const char **info)
{
	if (k->ev_meter_err) {
		*info = k->ev_meter_info;
		return k->ev_meter_err;
	}
	*info = k->stale_err ? k->stale_info : "";
	return k->stale_err;
}

static void sync_meter(struct hal_exec *x, int c)
{
	struct conn *k = &x->conn[c];
	const char *info;
	int err = meter_err_now(k, &info);

	if (err == k->rep_meter_err)
		return;
	k->rep_meter_err = err;
	copy_text(k->rep_meter_info, sizeof k->rep_meter_info, info);
	if (err)
		log_warn("exec: connector %d: meter failing: %s", c, info);
	else
		log_info("exec: connector %d: meter working", c);
	hal_emit_meter(&x->base, c, err, err && *info ? k->rep_meter_info : NULL);
}

/* ---------------------------------------------------------- the meter */

/* No good reading for meter-stale ms: the meter fails, the way the last
 * attempt failed. */
static void stale_fired(uv_timer_t *t)
{
	struct hal_exec *x = t->data;

	for (int c = 1; c <= x->base.n_connectors; c++) {
		struct conn *k = &x->conn[c];
		if (k->stale != t)
			continue;
		k->stale_err = k->last_err ? k->last_err : -ETIMEDOUT;
		if (k->last_err)
			memcpy(k->stale_info, k->last_info, sizeof k->stale_info);
		else
			snprintf(k->stale_info, sizeof k->stale_info, "meter-cmd: no reading for %u ms",
				 x->stale_ms);
		sync_meter(x, c);
	}
}

static void meter_attempt(struct hal_exec *x, int c, int rc, const char *info);

static void meter_poll(struct hal_exec *x, int c, int again)
{
	struct conn *k = &x->conn[c];
	struct request rq = { 0 };
	int rc;

	if (k->meter) {
		k->poll_again |= again;
		return;
	}
	rc = job_start(x, K_METER, c, &rq, &k->meter);
	if (rc)
		meter_attempt(x, c, -EIO, "cannot be started");
}

static void meter_attempt(struct hal_exec *x, int c, int rc, const char *info)
{
	struct conn *k = &x->conn[c];

	if (rc == 0) {
		k->last_err = k->stale_err = 0;
		k->last_info[0] = k->stale_info[0] = '\0';
		uv_timer_start(k->stale, stale_fired, x->stale_ms, 0);
	} else {
		if (!k->last_err)
			log_warn("exec: connector %d: meter-cmd: %s", c, info);
		k->last_err = rc;
		snprintf(k->last_info, sizeof k->last_info, "meter-cmd: %s", info);
		if (k->stale_err) {
			/* Already failing: say how it fails now. */
			k->stale_err = rc;
			memcpy(k->stale_info, k->last_info, sizeof k->stale_info);
		}
	}
	sync_meter(x, c);
}

static void meter_done(struct hal_exec *x, struct job *j)
{
	struct conn *k = &x->conn[j->connector];
	char why[128];
	struct hal_meter m;
	int rc = job_rc(j, why, sizeof why);

	k->meter = NULL;
	if (rc == 0 && j->outb.overflow) {
		snprintf(why, sizeof why, "output too long");
		rc = -EIO;
	}
	if (rc == 0) {
		j->outb.buf[j->outb.len] = '\0';
		if (hal_exec_parse_meter(j->outb.buf, &m, why, sizeof why))
			rc = -EIO;
	}
	if (rc == 0 && k->have_reading && m.energy_wh < k->reading.energy_wh) {
		snprintf(why, sizeof why, "energy_wh went back from %.1f to %.1f",
			 k->reading.energy_wh, m.energy_wh);
		rc = -EIO;
	}
	if (rc == 0) {
		k->reading = m;
		k->have_reading = 1;
	}
	meter_attempt(x, j->connector, rc, why);
	if (k->poll_again) {
		k->poll_again = 0;
		meter_poll(x, j->connector, 0);
	}
}

static void poll_fired(uv_timer_t *t)
{
	struct hal_exec *x = t->data;

	for (int c = 1; c <= x->base.n_connectors; c++)
		meter_poll(x, c, 0);
}

/* ----------------------------------------------------------- requests */

static void confirm(struct conn *k, enum kind kind, const struct request *rq)
{
	switch (kind) {
	case K_LOCK: k->locked = rq->on; break;
	case K_CONTACTOR: k->contactor = rq->on; break;
	case K_LIMIT: k->limit = rq->lim; break;
	default: break;
	}
}

/* Runs a request now, or queues it behind the one running (replacing a
 * queued one). Takes rq's text. */
static int submit(struct hal_exec *x, int c, enum kind kind, struct request *rq)
{
	struct slot *s = &x->conn[c].slot[kind];
	int rc;

	if (s->running) {
		if (s->has_pending) {
			request_clear(&s->pending);
			s->cancelled++;
		}
		s->pending = *rq;
		s->has_pending = 1;
		return -EINPROGRESS;
	}
	rc = job_start(x, kind, c, rq, &s->running);
	return rc ? rc : -EINPROGRESS;
}

static void action_done(struct hal_exec *x, struct job *j)
{
	int c = j->connector, cancelled, next_rc = 0, rc;
	struct conn *k = &x->conn[c];
	struct slot *s = &k->slot[j->kind];
	enum hal_request req = (enum hal_request)j->kind;
	char why[64];

	rc = job_rc(j, why, sizeof why);
	if (rc)
		log_warn("exec: %s (connector %d) failed: %s", kind_names[j->kind], c, why);
	else
		confirm(k, j->kind, &j->req);
	/* The next one starts before anyone hears of this one, so that a
	 * request made from the done handler queues behind it. */
	s->running = NULL;
	cancelled = s->cancelled;
	s->cancelled = 0;
	if (s->has_pending) {
		struct request rq = s->pending;
		s->has_pending = 0;
		next_rc = job_start(x, j->kind, c, &rq, &s->running);
	}
	hal_emit_done(&x->base, c, req, rc);
	while (cancelled-- > 0)
		hal_emit_done(&x->base, c, req, -ECANCELED);
	if (next_rc)
		hal_emit_done(&x->base, c, req, next_rc);
	if (rc == 0 && (j->kind == K_CONTACTOR || j->kind == K_LIMIT))
		meter_poll(x, c, 1);
}

/* --------------------------------------------------------- events-cmd */

static void apply_event(struct hal_exec *x, const struct hal_exec_event *e)
{
	struct conn *k = &x->conn[e->connector];
	int c = e->connector;

	switch (e->type) {
	case HAL_EXEC_EV_NONE:
		return;
	case HAL_EXEC_EV_PLUG:
	case HAL_EXEC_EV_STATE: {
		enum hal_ev_state st = e->type == HAL_EXEC_EV_PLUG ? HAL_EV_CONNECTED : e->ev;
		if (st == k->ev || (e->type == HAL_EXEC_EV_PLUG && k->ev != HAL_EV_UNPLUGGED))
			return;
		k->ev = st;
		log_debug("exec: connector %d: EV %s", c, hal_ev_state_name(st));
		hal_emit_ev_state(&x->base, c, st);
		return;
	}
	case HAL_EXEC_EV_TOKEN:
		log_debug("exec: connector %d: token %s", c, e->id);
		hal_emit_token(&x->base, c, e->id, e->token_type);
		return;
	case HAL_EXEC_EV_FAULT:
		k->faulted = 1;
		memcpy(k->fault_code, e->code, sizeof k->fault_code);
		memcpy(k->fault_info, e->info, sizeof k->fault_info);
		sync_fault(x, c);
		return;
	case HAL_EXEC_EV_CLEAR:
		k->faulted = 0;
		k->fault_code[0] = k->fault_info[0] = '\0';
		sync_fault(x, c);
		return;
	case HAL_EXEC_EV_METER_ERROR:
		k->ev_meter_err = -EIO;
		memcpy(k->ev_meter_info, e->info[0] ? e->info : "meter-error", sizeof k->ev_meter_info);
		sync_meter(x, c);
		return;
	case HAL_EXEC_EV_METER_OK:
		k->ev_meter_err = 0;
		k->ev_meter_info[0] = '\0';
		sync_meter(x, c);
		return;
	}
}

static void on_line(struct job *j, struct linebuf *b, char *line)
{
	struct hal_exec_event e;
	char why[128];

	if (b == &j->errb) {
		if (*line)
			log_warn("exec: %s (connector %d): %s", kind_names[j->kind], j->connector, line);
		return;
	}
	if (!j->x)
		return;
	if (b->overflow) {
		log_warn("exec: events-cmd: line over %d bytes: ignored", HAL_EXEC_LINE_MAX);
		return;
	}
	if (hal_exec_parse_event(line, j->x->base.n_connectors, &e, why, sizeof why)) {
		log_warn("exec: events-cmd: %s: ignored", why);
		return;
	}
	apply_event(j->x, &e);
}

static void set_events_down(struct hal_exec *x, int down)
{
	if (x->events_down == down)
		return;
	x->events_down = down;
	for (int c = 1; c <= x->base.n_connectors; c++)
		sync_fault(x, c);
}

/* Either the back-off is over (start it again) or the restarted command
 * has been up long enough to be trusted. */
static void events_timer_fired(uv_timer_t *t)
{
	struct hal_exec *x = t->data;

	if (x->events)
		set_events_down(x, 0);
	else
		events_start(x);
}

static void events_retry(struct hal_exec *x)
{
	uv_timer_start(x->events_timer, events_timer_fired, x->restart_delay, 0);
	log_info("exec: events-cmd: starting again in %u ms", x->restart_delay);
	x->restart_delay = x->restart_delay * 2 > x->restart_max_ms ? x->restart_max_ms
								     : x->restart_delay * 2;
}

static void events_start(struct hal_exec *x)
{
	struct request rq = { 0 };

	if (job_start(x, K_EVENTS, 0, &rq, &x->events)) {
		x->events = NULL;
		set_events_down(x, 1);
		events_retry(x);
		return;
	}
	if (x->events_down)
		uv_timer_start(x->events_timer, events_timer_fired, x->restart_min_ms, 0);
}

static void events_exited(struct hal_exec *x, struct job *j)
{
	char why[64];

	job_rc(j, why, sizeof why);
	x->events = NULL;
	uv_timer_stop(x->events_timer);
	log_warn("exec: events-cmd exited (%s)", why);
	if (uv_now(x->loop) - j->started >= x->restart_max_ms)
		x->restart_delay = x->restart_min_ms;   /* it had been doing fine */
	set_events_down(x, 1);
	events_retry(x);
}

static void job_done(struct hal_exec *x, struct job *j)
{
	switch (j->kind) {
	case K_METER: meter_done(x, j); break;
	case K_EVENTS: events_exited(x, j); break;
	default: action_done(x, j); break;
	}
}

/* ------------------------------------------------------------ formats */

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* A plain decimal number, the whole of s[0..len). */
static int parse_number(const char *s, size_t len, double *out)
{
	char buf[64], *end;
	double v;

	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strspn(buf, "0123456789.eE+-") != len)
		return -1;
	v = strtod(buf, &end);
	if (end != buf + len || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* 1 to 3 comma-separated numbers >= 0. */
static int parse_list(const char *s, size_t len, double vals[3], int *n)
{
	for (*n = 0;; (*n)++) {
		const char *comma = memchr(s, ',', len);
		size_t l = comma ? (size_t)(comma - s) : len;
		if (*n == 3 || parse_number(s, l, &vals[*n]) || vals[*n] < 0)
			return -1;
		if (!comma) {
			(*n)++;
			return 0;
		}
		len -= l + 1;
		s = comma + 1;
	}
}

static int key_is(const char *key, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(key, name, len) == 0;
}

int hal_exec_parse_meter(const char *text, struct hal_meter *out, char *err, size_t errlen)
{
	const char *p = text ? text : "";
	double cur[3], volt[3];
	int ncur = 0, nvolt = 0;

	memset(out, 0, sizeof *out);
	for (;;) {
		const char *tok, *eq, *v;
		size_t len, klen, vlen;
		int bad = 0;

		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		for (tok = p; *p && !is_blank(*p); p++)
			;
		len = (size_t)(p - tok);
		if (!(eq = memchr(tok, '=', len))) {
			snprintf(err, errlen, "not key=value: \"%.*s\"", (int)(len > 32 ? 32 : len), tok);
			return -EINVAL;
		}
		klen = (size_t)(eq - tok);
		v = eq + 1;
		vlen = len - klen - 1;
		if (key_is(tok, klen, "energy_wh")) {
			bad = parse_number(v, vlen, &out->energy_wh) || out->energy_wh < 0;
			out->have |= HAL_METER_ENERGY;
		} else if (key_is(tok, klen, "power_w")) {
			bad = parse_number(v, vlen, &out->power_w) || out->power_w < 0;
			out->have |= HAL_METER_POWER;
		} else if (key_is(tok, klen, "current_a")) {
			bad = parse_list(v, vlen, cur, &ncur);
			out->have |= HAL_METER_CURRENT;
		} else if (key_is(tok, klen, "voltage_v")) {
			bad = parse_list(v, vlen, volt, &nvolt);
			out->have |= HAL_METER_VOLTAGE;
		} else if (key_is(tok, klen, "soc")) {
			bad = parse_number(v, vlen, &out->soc_pct) || out->soc_pct < 0 ||
			      out->soc_pct > 100;
			out->have |= HAL_METER_SOC;
		}
		/* Other keys are the script's business. */
		if (bad) {
			snprintf(err, errlen, "bad value: \"%.*s\"", (int)(len > 40 ? 40 : len), tok);
			return -EINVAL;
		}
	}
	if (!(out->have & HAL_METER_ENERGY)) {
		snprintf(err, errlen, "no energy_wh");
		return -EINVAL;
	}
	out->lines = ncur > nvolt ? ncur : nvolt;
	for (int i = 0; i < ncur; i++)
		out->current_a[i] = cur[i];
	for (int i = 0; i < nvolt; i++)
		out->voltage_v[i] = volt[i];
	return 0;
}

/* Valid UTF-8 without control characters (a tab is fine). */
static int text_ok(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;

	for (size_t i = 0; i < len;) {
		unsigned c = s[i], n, lo = 0x80, hi = 0xBF;
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t') || c == 0x7F)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			lo = c == 0xE0 ? 0xA0 : lo;     /* overlong */
			hi = c == 0xED ? 0x9F : hi;     /* surrogates */
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			lo = c == 0xF0 ? 0x90 : lo;
			hi = c == 0xF4 ? 0x8F : hi;
		} else {
			return 0;
		}
		if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (unsigned k = 2; k <= n; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
		i += n + 1;
	}
	return 1;
}

/* The next blank-separated word of *p: its start, length in *len. */
static const char *next_word(const char **p, size_t *len)
{
	const char *s = *p, *e;

	while (is_space(*s))
		s++;
	for (e = s; *e && !is_space(*e); e++)
		;
	*len = (size_t)(e - s);
	*p = e;
	return s;
}

/* Printable ASCII, no blanks: ids and codes. */
static int word_ok(const char *w, size_t len, size_t max)
{
	if (len == 0 || len > max)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (w[i] <= 0x20 || w[i] >= 0x7F)
			return 0;
	return 1;
}

static const char *const token_types[] = {
	"Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress",
	"NoAuthorization", NULL,
};

static const struct {
	const char *name;
	enum hal_exec_event_type type;
	enum hal_ev_state ev;
} keywords[] = {
	{ "plug", HAL_EXEC_EV_PLUG, HAL_EV_CONNECTED },
	{ "ready", HAL_EXEC_EV_STATE, HAL_EV_READY },
	{ "suspended", HAL_EXEC_EV_STATE, HAL_EV_CONNECTED },
	{ "unplug", HAL_EXEC_EV_STATE, HAL_EV_UNPLUGGED },
	{ "token", HAL_EXEC_EV_TOKEN, HAL_EV_UNPLUGGED },
	{ "fault", HAL_EXEC_EV_FAULT, HAL_EV_UNPLUGGED },
	{ "clear", HAL_EXEC_EV_CLEAR, HAL_EV_UNPLUGGED },
	{ "meter-error", HAL_EXEC_EV_METER_ERROR, HAL_EV_UNPLUGGED },
	{ "meter-ok", HAL_EXEC_EV_METER_OK, HAL_EV_UNPLUGGED },
};

static int parse_connector(const char *w, size_t len, int min, int n, int *out,
			   char *err, size_t errlen)
{
	int c = 0;

	if (len == 0) {
		snprintf(err, errlen, "missing connector");
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (w[i] < '0' || w[i] > '9' || i >= 3) {
			snprintf(err, errlen, "bad connector \"%.*s\"", (int)(len > 16 ? 16 : len), w);
			return -EINVAL;
		}
		c = c * 10 + (w[i] - '0');
	}
	if (c < min || c > n) {
		snprintf(err, errlen, "connector %d not in %d..%d", c, min, n);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

/* The words after the connector, by event type. */
static int parse_rest(const char *p, struct hal_exec_event *e, const char *kw,
		      char *err, size_t errlen)
{
	const char *w;
	size_t len;

	switch (e->type) {
	case HAL_EXEC_EV_TOKEN:
		w = next_word(&p, &len);
		if (!word_ok(w, len, HAL_TOKEN_MAX)) {
			snprintf(err, errlen, "token: missing or bad id (1 to %d printable characters)",
				 HAL_TOKEN_MAX);
			return -EINVAL;
		}
		memcpy(e->id, w, len);
		w = next_word(&p, &len);
		snprintf(e->token_type, sizeof e->token_type, "ISO14443");
		if (len) {
			int i;
			for (i = 0; token_types[i] && !key_is(w, len, token_types[i]); i++)
				;
			if (!token_types[i]) {
				snprintf(err, errlen, "token: unknown type \"%.*s\"",
					 (int)(len > 20 ? 20 : len), w);
				return -EINVAL;
			}
			memcpy(e->token_type, w, len);
			e->token_type[len] = '\0';
		}
		break;
	case HAL_EXEC_EV_FAULT:
		w = next_word(&p, &len);
		if (!word_ok(w, len, HAL_CODE_MAX)) {
			snprintf(err, errlen, "fault: missing or bad code (1 to %d printable characters)",
				 HAL_CODE_MAX);
			return -EINVAL;
		}
		memcpy(e->code, w, len);
		/* fall through: the rest is the info */
	case HAL_EXEC_EV_METER_ERROR:
		while (is_space(*p))
			p++;
		copy_text(e->info, sizeof e->info, p);
		return 0;
	default:
		break;
	}
	next_word(&p, &len);
	if (len) {
		snprintf(err, errlen, "%s: extra words", kw);
		return -EINVAL;
	}
	return 0;
}

int hal_exec_parse_event(const char *line, int n, struct hal_exec_event *out,
			 char *err, size_t errlen)
{
	char buf[HAL_EXEC_LINE_MAX + 1];
	const char *p = buf, *w;
	size_t len = line ? strlen(line) : 0, i;

	memset(out, 0, sizeof *out);
	if (len > HAL_EXEC_LINE_MAX) {
		snprintf(err, errlen, "line over %d bytes", HAL_EXEC_LINE_MAX);
		return -EINVAL;
	}
	memcpy(buf, line ? line : "", len + 1);
	while (len > 0 && (is_space(buf[len - 1]) || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (!text_ok(buf, len)) {
		snprintf(err, errlen, "not UTF-8 text");
		return -EINVAL;
	}
	w = next_word(&p, &len);
	if (len == 0 || w[0] == '#')
		return 0;       /* HAL_EXEC_EV_NONE */
	for (i = 0; i < sizeof keywords / sizeof *keywords && !key_is(w, len, keywords[i].name); i++)
		;
	if (i == sizeof keywords / sizeof *keywords) {
		snprintf(err, errlen, "unknown event \"%.*s\"", (int)(len > 20 ? 20 : len), w);
		return -EINVAL;
	}
	out->type = keywords[i].type;
	out->ev = keywords[i].ev;
	w = next_word(&p, &len);
	if (parse_connector(w, len, out->type == HAL_EXEC_EV_TOKEN ? 0 : 1, n, &out->connector,
			    err, errlen) ||
	    parse_rest(p, out, keywords[i].name, err, errlen)) {
		memset(out, 0, sizeof *out);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------- struct hal_ops */

static struct hal_exec *exec_of(struct hal *h) { return (struct hal_exec *)h; }

static struct conn *conn_of(struct hal_exec *x, int c)
{
	return c >= 1 && c <= x->base.n_connectors ? &x->conn[c] : NULL;
}

static int op_info(struct hal *h, int c, struct hal_connector_info *out)
{
	const struct conn *k = conn_of(exec_of(h), c);

	if (!k)
		return -EINVAL;
	out->type = k->cfg.type;
	out->phases = k->cfg.phases;
	out->voltage_v = k->cfg.voltage_v;
	out->max_current_a = k->cfg.max_current_a;
	out->max_power_w = k->cfg.max_power_w;
	return 0;
}

static int op_status(struct hal *h, int c, struct hal_status *out)
{
	struct hal_exec *x = exec_of(h);
	const struct conn *k = conn_of(x, c);
	const char *code, *info;

	if (!k)
		return -EINVAL;
	memset(out, 0, sizeof *out);
	out->ev = k->ev;
	out->locked = k->locked;
	out->contactor_closed = k->contactor;
	out->limit = k->limit;
	code = fault_now(x, k, &info);
	out->faulted = code != NULL;
	copy_text(out->fault_code, sizeof out->fault_code, code ? code : "");
	copy_text(out->fault_info, sizeof out->fault_info, info);
	out->meter_error = meter_err_now(k, &info);
	return 0;
}

/* -ENOMEM stays; anything else that kept the command from starting is the
 * hardware failing. */
static int start_error(int rc) { return rc == -ENOMEM || rc == -EINPROGRESS ? rc : -EIO; }

static int op_set_lock(struct hal *h, int c, int locked)
{
	struct hal_exec *x = exec_of(h);
	struct conn *k = conn_of(x, c);
	struct request rq = { .on = !!locked };

	if (!k)
		return -EINVAL;
	if (!x->tmpl[K_LOCK].n) {
		k->locked = rq.on;      /* nothing to move */
		return 0;
	}
	return start_error(submit(x, c, K_LOCK, &rq));
}

static int op_set_contactor(struct hal *h, int c, int closed, int64_t now_ms)
{
	struct hal_exec *x = exec_of(h);
	struct conn *k = conn_of(x, c);
	struct request rq = { .on = !!closed };
	const char *info;

	(void)now_ms;
	if (!k)
		return -EINVAL;
	if (closed && k->ev == HAL_EV_UNPLUGGED)
		return -ENOTCONN;
	if (closed && fault_now(x, k, &info))
		return -EIO;
	return start_error(submit(x, c, K_CONTACTOR, &rq));
}

static int op_set_limit(struct hal *h, int c, const struct hal_limit *lim, int64_t now_ms)
{
	struct hal_exec *x = exec_of(h);
	struct conn *k = conn_of(x, c);
	struct request rq = { 0 };

	(void)now_ms;
	if (!k || !lim || !isfinite(lim->value) || lim->value < 0 ||
	    (lim->unit != HAL_UNIT_A && lim->unit != HAL_UNIT_W) ||
	    lim->phases < 0 || lim->phases > 3)
		return -EINVAL;
	rq.lim = *lim;
	if (rq.lim.unit == HAL_UNIT_A && k->cfg.max_current_a > 0)
		rq.lim.value = fmin(rq.lim.value, k->cfg.max_current_a);
	if (rq.lim.unit == HAL_UNIT_W && k->cfg.max_power_w > 0)
		rq.lim.value = fmin(rq.lim.value, k->cfg.max_power_w);
	return start_error(submit(x, c, K_LIMIT, &rq));
}

static int op_read_meter(struct hal *h, int c, int64_t now_ms, struct hal_meter *out)
{
	const struct conn *k = conn_of(exec_of(h), c);
	const char *info;
	int err;

	(void)now_ms;
	if (!k)
		return -EINVAL;
	if ((err = meter_err_now(k, &info)))
		return err;
	if (!k->have_reading)
		return -EAGAIN;
	*out = k->reading;
	return 0;
}

static int op_set_display(struct hal *h, int c, const char *text)
{
	struct hal_exec *x = exec_of(h);
	struct request rq = { 0 };

	if (c < 0 || c > x->base.n_connectors || (text && strlen(text) > HAL_DISPLAY_MAX))
		return -EINVAL;
	if (!x->tmpl[K_DISPLAY].n)
		return 0;               /* no screen */
	if (text && !(rq.text = strdup(text)))
		return -ENOMEM;
	return start_error(submit(x, c, K_DISPLAY, &rq));
}

/* Everything runs on the loop's own timers. */
static void op_tick(struct hal *h, int64_t now_ms)
{
	(void)h;
	(void)now_ms;
}

static int64_t op_next_deadline(const struct hal *h)
{
	(void)h;
	return -1;
}

static void op_free(struct hal *h) { hal_exec_free(exec_of(h)); }

static const struct hal_ops exec_ops = {
	.name = "exec",
	.info = op_info,
	.status = op_status,
	.set_lock = op_set_lock,
	.set_contactor = op_set_contactor,
	.set_limit = op_set_limit,
	.read_meter = op_read_meter,
	.set_display = op_set_display,
	.tick = op_tick,
	.next_deadline = op_next_deadline,
	.fd = NULL,
	.free = op_free,
};

/* ------------------------------------------------------ configuration */

static int check_connector(const struct hal_exec_connector *c, int i, char *err, size_t errlen)
{
	const char *why = NULL;

	if (c->type < HAL_CONN_AC_TYPE1 || c->type > HAL_CONN_DC_CCS)
		why = "unknown connector type";
	else if (!isfinite(c->max_current_a) || !isfinite(c->max_power_w) || !isfinite(c->voltage_v))
		why = "values must be finite";
	else if (c->max_current_a < 0 || c->max_power_w < 0 || c->voltage_v < 0)
		why = "values must not be negative";
	else if (c->type == HAL_CONN_DC_CCS && c->max_power_w <= 0)
		why = "a DC connector needs a maximum power";
	else if (c->type != HAL_CONN_DC_CCS && c->max_current_a <= 0)
		why = "an AC connector needs a maximum current";
	else if (c->type != HAL_CONN_DC_CCS && (c->phases < 1 || c->phases > 3))
		why = "AC phases must be 1, 2 or 3";
	else if (c->type == HAL_CONN_AC_TYPE1 && c->phases != 1)
		why = "Type 1 is single-phase";
	if (why)
		say(err, errlen, "connector %d: %s", i + 1, why);
	return why ? -EINVAL : 0;
}

static void init_conn(struct conn *k, const struct hal_exec_connector *c)
{
	k->cfg = *c;
	if (hal_connector_is_dc(c->type)) {
		k->cfg.phases = 0;
		k->cfg.voltage_v = 0;
		k->limit = (struct hal_limit){ c->max_power_w, HAL_UNIT_W, 0 };
	} else {
		if (k->cfg.voltage_v == 0)
			k->cfg.voltage_v = AC_VOLTAGE;
		if (k->cfg.max_power_w == 0)
			k->cfg.max_power_w = c->max_current_a * k->cfg.voltage_v * c->phases;
		k->limit = (struct hal_limit){ c->max_current_a, HAL_UNIT_A, 0 };
	}
}

/* Defaults for the times, then their checks. */
static int set_times(struct hal_exec *x, const struct hal_exec_config *cfg, char *err,
		     size_t errlen)
{
	const struct { const char *name; unsigned v; } t[] = {
		{ "command-timeout-ms", cfg->timeout_ms }, { "meter-interval-ms", cfg->meter_interval_ms },
		{ "meter-stale-ms", cfg->meter_stale_ms }, { "events-restart-min-ms", cfg->restart_min_ms },
		{ "events-restart-max-ms", cfg->restart_max_ms },
	};

	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		if (t[i].v > HAL_EXEC_MAX_MS) {
			say(err, errlen, "%s: %u ms is over an hour", t[i].name, t[i].v);
			return -EINVAL;
		}
	}
	x->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : HAL_EXEC_TIMEOUT_MS;
	x->interval_ms = cfg->meter_interval_ms ? cfg->meter_interval_ms : HAL_EXEC_METER_INTERVAL_MS;
	x->stale_ms = cfg->meter_stale_ms ? cfg->meter_stale_ms : HAL_EXEC_STALE_FACTOR * x->interval_ms;
	x->restart_min_ms = cfg->restart_min_ms ? cfg->restart_min_ms : HAL_EXEC_RESTART_MIN_MS;
	x->restart_max_ms = cfg->restart_max_ms ? cfg->restart_max_ms : HAL_EXEC_RESTART_MAX_MS;
	if (x->stale_ms < x->interval_ms) {
		say(err, errlen, "meter-stale-ms (%u) is shorter than meter-interval-ms (%u)",
		    x->stale_ms, x->interval_ms);
		return -EINVAL;
	}
	if (x->restart_max_ms < x->restart_min_ms) {
		say(err, errlen, "events-restart-max-ms (%u) is shorter than events-restart-min-ms (%u)",
		    x->restart_max_ms, x->restart_min_ms);
		return -EINVAL;
	}
	x->restart_delay = x->restart_min_ms;
	return 0;
}

static int parse_commands(struct hal_exec *x, const struct hal_exec_config *cfg, char *err,
			  size_t errlen)
{
	const char *cmds[K_COUNT] = { cfg->lock_cmd, cfg->contactor_cmd, cfg->limit_cmd,
				      cfg->display_cmd, cfg->meter_cmd, cfg->events_cmd };
	static const int required[K_COUNT] = { 0, 1, 1, 0, 1, 1 };
	int rc;

	for (int k = 0; k < K_COUNT; k++) {
		if (required[k] && (!cmds[k] || !*cmds[k])) {
			say(err, errlen, "%s is required", kind_names[k]);
			return -EINVAL;
		}
		if ((rc = tmpl_parse(x, (enum kind)k, cmds[k], err, errlen)))
			return rc;
	}
	return 0;
}

static uv_timer_t *new_timer(struct hal_exec *x)
{
	return ev_timer_new(x->loop, x);
}

static struct hal_exec *fail_new(struct hal_exec *x, int rc)
{
	hal_exec_free(x);
	errno = rc == -ENOMEM ? ENOMEM : rc == -ENOENT ? ENOENT : EINVAL;
	return NULL;
}

struct hal_exec *hal_exec_new(uv_loop_t *loop, const struct hal_exec_config *cfg,
			      char *err, size_t errlen)
{
	struct hal_exec *x;
	struct request rq = { 0 };
	int n, rc;

	if (err && errlen)
		err[0] = '\0';
	if (!loop || !cfg) {
		say(err, errlen, "no loop or no configuration");
		return fail_new(NULL, -EINVAL);
	}
	if (cfg->n_connectors < 1 || cfg->n_connectors > HAL_MAX_CONNECTORS || !cfg->connectors) {
		say(err, errlen, "%d connectors (1 to %d)", cfg->n_connectors, HAL_MAX_CONNECTORS);
		return fail_new(NULL, -EINVAL);
	}
	n = cfg->n_connectors;
	for (int i = 0; i < n; i++)
		if (check_connector(&cfg->connectors[i], i, err, errlen))
			return fail_new(NULL, -EINVAL);
	if (!(x = calloc(1, sizeof *x + (size_t)(n + 1) * sizeof x->conn[0]))) {
		say(err, errlen, "out of memory");
		return fail_new(NULL, -ENOMEM);
	}
	x->base.ops = &exec_ops;
	x->base.n_connectors = n;
	x->loop = loop;
	if ((rc = set_times(x, cfg, err, errlen)) || (rc = parse_commands(x, cfg, err, errlen)))
		return fail_new(x, rc);
	for (int c = 1; c <= n; c++)
		init_conn(&x->conn[c], &cfg->connectors[c - 1]);
	x->poll_timer = new_timer(x);
	x->events_timer = new_timer(x);
	rc = x->poll_timer && x->events_timer ? 0 : -ENOMEM;
	for (int c = 1; c <= n && !rc; c++)
		if (!(x->conn[c].stale = new_timer(x)))
			rc = -ENOMEM;
	if (rc) {
		say(err, errlen, "out of memory");
		return fail_new(x, rc);
	}
	if ((rc = job_start(x, K_EVENTS, 0, &rq, &x->events))) {
		say(err, errlen, "events-cmd: cannot run %s: %s", x->tmpl[K_EVENTS].words[0],
		    rc == -ENOMEM ? "out of memory" : uv_strerror(rc));
		x->events = NULL;
		return fail_new(x, rc == -ENOMEM ? rc : -ENOENT);
	}
	uv_timer_start(x->poll_timer, poll_fired, 0, x->interval_ms);
	for (int c = 1; c <= n; c++)
		uv_timer_start(x->conn[c].stale, stale_fired, x->stale_ms, 0);
	return x;
}

void hal_exec_free(struct hal_exec *x)
{
	struct job *j, *next;

	if (!x)
		return;
	/* The events and meter commands end; requests already running
	 * finish on their own, and nobody hears of them. */
	for (j = x->jobs; j; j = next) {
		next = j->next;
		j->next = NULL;
		j->x = NULL;
		if (j->kind == K_EVENTS || j->kind == K_METER)
			job_terminate(j);
	}
	ev_timer_free(x->poll_timer);
	ev_timer_free(x->events_timer);
	for (int c = 0; c <= x->base.n_connectors; c++) {
		ev_timer_free(x->conn[c].stale);
		for (int r = 0; r < N_REQ; r++)
			request_clear(&x->conn[c].slot[r].pending);
	}
	for (int k = 0; k < K_COUNT; k++)
		tmpl_clear(&x->tmpl[k]);
	free(x);
}

struct hal *hal_exec_hal(struct hal_exec *x) { return &x->base; }
