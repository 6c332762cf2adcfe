#include "config.h"
#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "util/rfc3339.h"

/* The ring: records [struct rec][text] back to back in buf, wrapping
 * around its end; head is the oldest, used the bytes in use. */
struct ring {
	char *buf;
	size_t cap, head, used;
	int busy;                 /* being walked: a line logged meanwhile is not kept */
};

struct rec {
	int64_t time_ms;
	uint32_t len;             /* text bytes that follow, no NUL */
	uint32_t level;
};

static struct {
	const char *ident;
	enum ev_log_level level;
	int use_syslog;
	struct ring ring;
} sink = { "evctl", EV_LOG_WARN, 0, { NULL, 0, 0, 0, 0 } };

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void ev_log_open(const char *ident, enum ev_log_level level, int use_syslog)
{
	sink.ident = ident;
	sink.level = level;
	sink.use_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void ev_log_close(void)
{
	if (sink.use_syslog)
		closelog();
	sink.use_syslog = 0;
}

void ev_log_set_level(enum ev_log_level level) { sink.level = level; }
enum ev_log_level ev_log_get_level(void) { return sink.level; }

int ev_log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof level_names / sizeof *level_names; i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------ the ring */

static void ring_put(struct ring *r, size_t at, const void *src, size_t n)
{
	size_t first = r->cap - at < n ? r->cap - at : n;

	memcpy(r->buf + at, src, first);
	memcpy(r->buf, (const char *)src + first, n - first);
}

static void ring_get(const struct ring *r, size_t at, void *dst, size_t n)
{
	size_t first = r->cap - at < n ? r->cap - at : n;

	memcpy(dst, r->buf + at, first);
	memcpy((char *)dst + first, r->buf, n - first);
}

static void ring_add(struct ring *r, int64_t time_ms, enum ev_log_level level, const char *text,
		     size_t len)
{
	struct rec rec = { time_ms, 0, (uint32_t)level };
	size_t need;

	if (len > EV_LOG_RING_LINE_MAX)
		len = EV_LOG_RING_LINE_MAX;
	need = sizeof rec + len;
	if (!r->buf || r->busy || need > r->cap)
		return;
	while (r->cap - r->used < need) {          /* drop the oldest */
		struct rec old;
		ring_get(r, r->head, &old, sizeof old);
		r->head = (r->head + sizeof old + old.len) % r->cap;
		r->used -= sizeof old + old.len;
	}
	rec.len = (uint32_t)len;
	ring_put(r, (r->head + r->used) % r->cap, &rec, sizeof rec);
	ring_put(r, (r->head + r->used + sizeof rec) % r->cap, text, len);
	r->used += need;
}

static int ring_walk(struct ring *r, ev_log_line_fn fn, void *arg)
{
	char line[EV_LOG_RING_LINE_MAX + 1];
	size_t at = r->head, left = r->used;
	int rc = 0;

	r->busy = 1;
	while (left && rc == 0) {
		struct rec rec;
		ring_get(r, at, &rec, sizeof rec);
		ring_get(r, (at + sizeof rec) % r->cap, line, rec.len);
		line[rec.len] = '\0';
		at = (at + sizeof rec + rec.len) % r->cap;
		left -= sizeof rec + rec.len;
		rc = fn(arg, rec.time_ms, (enum ev_log_level)rec.level, line);
	}
	r->busy = 0;
	return rc;
}

static int copy_line(void *arg, int64_t time_ms, enum ev_log_level level, const char *line)
{
	ring_add(arg, time_ms, level, line, strlen(line));
	return 0;
}

int ev_log_ring_enable(size_t max_bytes)
{
	struct ring fresh = { NULL, max_bytes, 0, 0, 0 };

	if (sink.ring.busy)
		return -EBUSY;
	if (max_bytes) {
		/* (Reserve what the ring needs: it must not allocate as it logs.) */
		if (!(fresh.buf = malloc(max_bytes)))
			return -ENOMEM;
		if (sink.ring.buf)
			ring_walk(&sink.ring, copy_line, &fresh);
	}
	free(sink.ring.buf);
	sink.ring = fresh;
	return 0;
}

int ev_log_ring_each(ev_log_line_fn fn, void *arg)
{
	return sink.ring.buf ? ring_walk(&sink.ring, fn, arg) : 0;
}

void ev_log(enum ev_log_level level, const char *fmt, ...)
{
	char stamp[RFC3339_MAX], line[EV_LOG_RING_LINE_MAX + 1];
	int64_t now;
	va_list ap;
	int n;

	if (level > sink.level)
		return;
	now = ev_now_ms();
	rfc3339_format_ms(now, stamp, sizeof stamp);
	if (sink.ring.buf) {
		n = snprintf(line, sizeof line, "%s %s[%s]: ", stamp, sink.ident, level_names[level]);
		va_start(ap, fmt);
		if (n > 0 && (size_t)n < sizeof line)
			vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
		va_end(ap);
		ring_add(&sink.ring, now, level, line, strlen(line));
	}
	va_start(ap, fmt);
	if (sink.use_syslog) {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
		vsyslog(prio[level], fmt, ap);
	} else {
		fprintf(stderr, "%s %s[%s]: ", stamp, sink.ident, level_names[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
