#include "config.h"
#include "cli/events.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"

struct buf {
	char *p;       /* NUL-terminated once anything was added */
	size_t len, cap;
};

struct sse_parser {
	sse_event_fn fn;
	void *arg;
	struct buf line, data, type, id;
	long retry;
	int cr;         /* the last byte was CR: an LF right after it belongs to it */
	int started;    /* a line was seen since the (re)start: no BOM any more */
	int skip_line;  /* the line is over the limit: drop it */
	int skip_event; /* the event is over the limit: drop it */
	int err;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap)))
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int buf_set(struct buf *b, const char *s, size_t n)
{
	b->len = 0;
	return buf_add(b, s, n);
}

static const char *buf_str(const struct buf *b)
{
	return b->len ? b->p : "";
}

struct sse_parser *sse_parser_new(sse_event_fn fn, void *arg)
{
	struct sse_parser *p = calloc(1, sizeof *p);

	if (p) {
		p->fn = fn;
		p->arg = arg;
		p->retry = -1;
	}
	return p;
}

void sse_parser_free(struct sse_parser *p)
{
	if (!p)
		return;
	free(p->line.p);
	free(p->data.p);
	free(p->type.p);
	free(p->id.p);
	free(p);
}

void sse_reset(struct sse_parser *p)
{
	p->line.len = p->data.len = p->type.len = 0;
	p->cr = p->started = p->skip_line = p->skip_event = p->err = 0;
}

long sse_retry_ms(const struct sse_parser *p)
{
	return p->retry;
}

static int dispatch(struct sse_parser *p)
{
	struct sse_event ev;
	int rc = 0;

	if (p->data.len && !p->skip_event) {
		p->data.p[--p->data.len] = '\0';   /* the '\n' after the last line */
		ev.type = p->type.len ? p->type.p : "message";
		ev.data = p->data.p;
		ev.data_len = p->data.len;
		ev.id = buf_str(&p->id);
		rc = p->fn(&ev, p->arg);
	}
	p->data.len = p->type.len = 0;
	p->skip_event = 0;
	return rc;
}

static void field(struct sse_parser *p, const char *name, size_t name_len,
		  const char *value, size_t len)
{
#define IS(s) (name_len == sizeof(s) - 1 && memcmp(name, s, name_len) == 0)
	if (IS("data")) {
		if (p->data.len + len + 1 > SSE_LINE_MAX) {
			p->skip_event = 1;
			p->err = -1;
		}
		if (!p->skip_event && (buf_add(&p->data, value, len) || buf_add(&p->data, "\n", 1))) {
			p->skip_event = 1;
			p->err = -1;
		}
	} else if (IS("event")) {
		if (buf_set(&p->type, value, len))
			p->err = -1;
	} else if (IS("id")) {
		if (!memchr(value, '\0', len) && buf_set(&p->id, value, len))
			p->err = -1;
	} else if (IS("retry")) {
		long ms = 0;
		size_t i;
		for (i = 0; i < len && value[i] >= '0' && value[i] <= '9' && ms < 100000000; i++)
			ms = ms * 10 + (value[i] - '0');
		if (len && i == len)
			p->retry = ms;
	}
#undef IS
}

static int end_line(struct sse_parser *p)
{
	const char *s = buf_str(&p->line), *colon, *value;
	size_t len = p->line.len, name_len, value_len;

	p->line.len = 0;
	if (p->skip_line) {
		p->skip_line = 0;
		return 0;
	}
	if (!p->started) {
		p->started = 1;
		if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
			s += 3, len -= 3;
	}
	if (len == 0)
		return dispatch(p);
	if (s[0] == ':')
		return 0;   /* a comment (the server's keep-alive) */
	colon = memchr(s, ':', len);
	name_len = colon ? (size_t)(colon - s) : len;
	value = colon ? colon + 1 : s + len;
	value_len = len - name_len - (colon ? 1 : 0);
	if (value_len && *value == ' ')
		value++, value_len--;
	field(p, s, name_len, value, value_len);
	return 0;
}

int sse_feed(struct sse_parser *p, const char *bytes, size_t len)
{
	size_t i = 0;
	int rc;

	while (i < len) {
		size_t span;

		if (p->cr) {
			p->cr = 0;
			if (bytes[i] == '\n') {
				i++;
				continue;
			}
		}
		for (span = 0; i + span < len && bytes[i + span] != '\r' && bytes[i + span] != '\n'; span++)
			;
		if (!p->skip_line) {
			if (p->line.len + span > SSE_LINE_MAX) {
				p->skip_line = 1;
				p->skip_event = 1;
				p->err = -1;
			} else if (buf_add(&p->line, bytes + i, span)) {
				p->skip_line = 1;
				p->skip_event = 1;
				p->err = -1;
			}
		}
		i += span;
		if (i == len)
			break;
		p->cr = bytes[i] == '\r';
		i++;
		if ((rc = end_line(p)) != 0)
			return rc;
	}
	rc = p->err;
	p->err = 0;
	return rc;
}

/* ------------------------------------------------------------ describing */

static void cat(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void cat(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

/* A member as text ("-" when absent or null). */
static const char *text(const json_t *data, const char *key, char *tmp, size_t size)
{
	return output_text(json_object_get(data, key), tmp, size);
}

static void describe_meter(const json_t *data, char *buf, size_t size)
{
	const json_t *values = json_object_get(data, "values"), *v;
	char a[64], b[64];
	size_t i;

	cat(buf, size, "connector %s meter", text(data, "connector", a, sizeof a));
	if (json_object_get(data, "session") && !json_is_null(json_object_get(data, "session")))
		cat(buf, size, " (session %s)", text(data, "session", a, sizeof a));
	json_array_foreach(values, i, v) {
		const json_t *m = json_object_get(v, "measurand"), *ph = json_object_get(v, "phase");
		const json_t *unit = json_object_get(v, "unit");
		cat(buf, size, "%s %s", i ? "," : ":",
		    json_is_string(m) ? json_string_value(m) : "Energy.Active.Import.Register");
		if (json_is_string(ph))
			cat(buf, size, " %s", json_string_value(ph));
		cat(buf, size, " %s", text(v, "value", a, sizeof a));
		if (json_is_string(unit))
			cat(buf, size, " %s", output_text(unit, b, sizeof b));
	}
}

const char *event_describe(const char *type, const json_t *data, char *buf, size_t size)
{
	char a[128], b[128], c[128], d[128];

	if (!size)
		return buf;
	buf[0] = '\0';
	cat(buf, size, "%s %s ", text(data, "time", a, sizeof a), text(data, "station", b, sizeof b));
	if (strcmp(type, "station.connected") == 0) {
		cat(buf, size, "connected from %s", text(data, "remote_address", a, sizeof a));
	} else if (strcmp(type, "station.disconnected") == 0) {
		cat(buf, size, "disconnected");
		if (json_is_string(json_object_get(data, "reason")))
			cat(buf, size, " (%s)", text(data, "reason", a, sizeof a));
	} else if (strcmp(type, "station.boot") == 0) {
		cat(buf, size, "booted: %s %s, firmware %s, registration %s",
		    text(data, "vendor", a, sizeof a), text(data, "model", b, sizeof b),
		    text(data, "firmware", c, sizeof c), text(data, "registration", d, sizeof d));
	} else if (strcmp(type, "status") == 0) {
		const char *err = json_string_value(json_object_get(data, "error_code"));
		cat(buf, size, "connector %s %s", text(data, "connector", a, sizeof a),
		    text(data, "status", b, sizeof b));
		if (err && strcmp(err, "NoError") != 0)
			cat(buf, size, " (%s)", err);
	} else if (strcmp(type, "session.started") == 0) {
		cat(buf, size, "session %s started on connector %s by %s, meter %s Wh",
		    text(data, "session", a, sizeof a), text(data, "connector", b, sizeof b),
		    text(data, "id_tag", c, sizeof c), text(data, "meter_start", d, sizeof d));
	} else if (strcmp(type, "session.stopped") == 0) {
		cat(buf, size, "session %s stopped: %s Wh", text(data, "session", a, sizeof a),
		    text(data, "energy_wh", b, sizeof b));
		if (json_is_string(json_object_get(data, "reason")))
			cat(buf, size, ", reason %s", text(data, "reason", a, sizeof a));
	} else if (strcmp(type, "meter") == 0) {
		describe_meter(data, buf, size);
	} else if (strcmp(type, "firmware") == 0 || strcmp(type, "diagnostics") == 0) {
		cat(buf, size, "%s %s", type, text(data, "status", a, sizeof a));
	} else {
		char *json = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
		cat(buf, size, "%s %s", type, json ? json : "");
		free(json);
	}
	output_sanitize(buf);
	return buf;
}
