#include "config.h"
#include "station/ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

struct client {
	struct client *next;
	struct ctl *ctl;
	uv_pipe_t pipe;
	char *buf;
	size_t len, cap;
	int discarding;     /* an overlong line is being skipped */
};

struct ctl {
	uv_pipe_t server;
	char *path;
	ctl_handler fn;
	void *ctx;
	struct client *clients;
};

static void client_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	free(c->buf);
	free(c);
}

static void drop_client(struct client *c)
{
	struct client **pp;

	for (pp = &c->ctl->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	uv_close((uv_handle_t *)&c->pipe, client_closed);
}

static void written(uv_write_t *w, int status)
{
	free(w->data);
	free(w);
	(void)status;
}

static void send_reply(struct client *c, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT | JSON_REAL_PRECISION(12));
	uv_write_t *w = malloc(sizeof *w);
	size_t n;
	uv_buf_t buf;

	if (!text || !w) {
		free(text);
		free(w);
		return;
	}
	n = strlen(text);
	text[n] = '\n';   /* json_dumps left room: replace the NUL */
	buf = uv_buf_init(text, (unsigned)n + 1);
	w->data = text;
	if (uv_write(w, (uv_stream_t *)&c->pipe, &buf, 1, written)) {
		free(text);
		free(w);
	}
}

static void handle_line(struct client *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, 0, &jerr), *reply = json_pack("{s:b}", "ok", 1);
	char err[256] = "";

	if (!req || !json_is_object(req)) {
		snprintf(err, sizeof err, req ? "a request must be a JSON object"
					      : "not JSON: %s", jerr.text);
	} else if (c->ctl->fn(c->ctl->ctx, req, reply, err, sizeof err)) {
		if (!err[0])
			snprintf(err, sizeof err, "request failed");
	}
	if (err[0]) {
		json_decref(reply);
		reply = json_pack("{s:b, s:s}", "ok", 0, "error", err);
	}
	if (reply)
		send_reply(c, reply);
	json_decref(reply);
	json_decref(req);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct client *c = h->data;
	if (c->cap - c->len < 4096) {
		size_t cap = c->cap ? c->cap * 2 : 8192;
		char *p = realloc(c->buf, cap);
		if (!p) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		c->buf = p;
		c->cap = cap;
	}
	*buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
	(void)suggested;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct client *c = s->data;
	char *nl;

	if (n < 0) {
		drop_client(c);
		return;
	}
	c->len += (size_t)n;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t line = (size_t)(nl - c->buf);
		if (c->discarding)
			c->discarding = 0;
		else if (line > 0)
			handle_line(c, c->buf, line);
		memmove(c->buf, nl + 1, c->len - line - 1);
		c->len -= line + 1;
	}
	if (c->len > CTL_LINE_MAX) {
		json_t *reply = json_pack("{s:b, s:s}", "ok", 0, "error", "line too long");
		if (!c->discarding && reply)
			send_reply(c, reply);
		json_decref(reply);
		c->discarding = 1;
		c->len = 0;
	}
	(void)buf;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct ctl *ctl = server->data;
	struct client *c;

	if (status < 0 || !(c = calloc(1, sizeof *c)))
		return;
	c->ctl = ctl;
	uv_pipe_init(server->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) || uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read)) {
		uv_close((uv_handle_t *)&c->pipe, client_closed);
		return;
	}
	c->next = ctl->clients;
	ctl->clients = c;
}

struct ctl *ctl_new(uv_loop_t *loop, const char *path, ctl_handler fn, void *ctx,
		    char *err, size_t errlen)
{
	struct ctl *ctl = calloc(1, sizeof *ctl);
	mode_t old;
	int rc;

	if (!ctl || !(ctl->path = strdup(path))) {
		free(ctl);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->fn = fn;
	ctl->ctx = ctx;
	uv_pipe_init(loop, &ctl->server, 0);
	ctl->server.data = ctl;
	unlink(path);   /* a socket left by a process that died */
	old = umask(0077);
	rc = uv_pipe_bind(&ctl->server, path);
	umask(old);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&ctl->server, 16, on_connection);
	if (rc) {
		snprintf(err, errlen, "control socket %s: %s", path, uv_strerror(rc));
		ctl_free(ctl);
		return NULL;
	}
	return ctl;
}

static void server_closed(uv_handle_t *h)
{
	struct ctl *ctl = h->data;
	free(ctl->path);
	free(ctl);
}

void ctl_free(struct ctl *ctl)
{
	if (!ctl)
		return;
	while (ctl->clients)
		drop_client(ctl->clients);
	unlink(ctl->path);
	uv_close((uv_handle_t *)&ctl->server, server_closed);
}
