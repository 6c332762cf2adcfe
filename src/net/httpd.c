#include "config.h"
#include "net/httpd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <libwebsockets.h>

#include "util/log.h"
#include "util/uvtimer.h"

#define DEFAULT_MAX_BODY (1024 * 1024)
#define DEFAULT_KEEPALIVE_MS 15000
#define DEFAULT_MAX_QUEUE (1024 * 1024)
#define WRITE_STEP 65536        /* most bytes handed to lws per writable callback */
#define HEADER_ROOM 1024        /* status line and our own headers */

/* Headers lws does not know by name; it can only look them up, not list
 * them, so these are the ones copied. */
static const char *const custom_headers[] = { "last-event-id:", "x-request-id:" };

/* One piece of output, with the headroom lws_write needs in front. A body
 * goes out in steps; each step's headroom is the part already sent. */
struct chunk {
	struct chunk *next;
	size_t len, off;
	int headers;               /* an answer's status line and headers */
	int final;                 /* the end of an answer (ends an h2 stream) */
	unsigned char buf[];       /* LWS_PRE + len */
};

/* What a connection does once its output queue is empty. */
enum after { AFTER_NOTHING, AFTER_NEXT, AFTER_CLOSE };

struct conn {
	struct conn *next, *prev;  /* in h->conns */
	struct httpd *h;
	struct lws *wsi;
	struct http_req *req;      /* being read, or awaiting its answer */
	struct http_stream *stream;
	struct watch *watch;       /* while the connection waits on us */
	struct chunk *out_head, *out_tail;
	size_t out_bytes;
	enum after after;
	int busy;                  /* from a request's start to its answer's end */
	int completions;           /* body completions lws reported for it */
};

/* Watches a connection's socket (through a duplicate descriptor: libuv
 * takes one poll handle per descriptor, and lws has the original) while
 * the request waits for its answer or is an event stream. See
 * watch_start. */
struct watch {
	uv_poll_t poll;
	int fd;
	struct conn *conn;         /* NULL once stopped */
};

struct field {
	char *name, *value;
};

struct http_req {
	struct conn *conn;         /* NULL: the client has gone */
	int dispatched;            /* handed to the handler */
	int head;                  /* HEAD: the answer has no body */
	const char *method;
	char *path;
	char peer[64];
	struct field *query, *headers, *reply_headers;
	size_t n_query, n_headers, n_reply_headers;
	char *body;
	size_t body_len, body_cap;
};

struct http_stream {
	struct conn *conn;         /* NULL once the connection has ended */
	uv_timer_t *timer;         /* keep-alive comments */
	unsigned keepalive_ms;
	size_t max_queue;
	int dropped;               /* too slow: being disconnected */
	int in_on_close;
	void (*on_close)(void *arg);
	void *arg;
};

struct httpd {
	uv_loop_t *loop;
	struct lws_context *ctx;
	httpd_handler handler;
	void *handler_ctx;
	int port;
	int closed;
	size_t max_body;
	unsigned keepalive_ms;
	size_t max_queue;
	struct conn *conns;
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		    void *in, size_t len);

static const struct lws_protocols protocols[] = {
	{ "http", callback, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* (lws has one log sink per process, shared with the OCPP side.) */
static void lws_log_to_ours(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		n--;
	if (level & LLL_ERR)
		log_warn("lws: %.*s", (int)n, line);
	else
		log_debug("lws: %.*s", (int)n, line);
}

/* ------------------------------------------------------------ requests */

static void fields_free(struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].value);
	}
	free(f);
}

static void req_free(struct http_req *r)
{
	fields_free(r->query, r->n_query);
	fields_free(r->headers, r->n_headers);
	fields_free(r->reply_headers, r->n_reply_headers);
	free(r->path);
	free(r->body);
	free(r);
}

/* Takes name and value (both malloc'd, or NULL for out of memory). */
static int field_add(struct field **f, size_t *n, char *name, char *value)
{
	struct field *nf;

	if (!name || !value)
		goto fail;
	nf = realloc(*f, (*n + 1) * sizeof **f);
	if (!nf)
		goto fail;
	*f = nf;
	nf[*n].name = name;
	nf[*n].value = value;
	(*n)++;
	return 0;
fail:
	free(name);
	free(value);
	return -ENOMEM;
}

static const char *field_get(const struct field *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(f[i].name, name) == 0)
			return f[i].value;
	return NULL;
}

static const char *field_get_exact(const struct field *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return f[i].value;
	return NULL;
}

/* The name of a header token without its colon, lowercase; NULL for the
 * tokens that are not request headers (the method lines, h2 pseudo
 * headers, lws's internal ones). */
static char *token_name(int t)
{
	const char *s = (const char *)lws_token_to_string((enum lws_token_indexes)t);
	size_t n;
	char *name;

	if (!s || !*s || *s == ':')
		return NULL;
	n = strlen(s);
	if (s[n - 1] != ':')
		return NULL;
	name = strndup(s, n - 1);
	for (char *p = name; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return name;
}

static char *header_copy(struct lws *wsi, int t)
{
	int n = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
	char *v;

	if (n <= 0)
		return NULL;
	v = malloc((size_t)n + 1);
	if (v && lws_hdr_copy(wsi, v, n + 1, (enum lws_token_indexes)t) < 0) {
		free(v);
		return NULL;
	}
	return v;
}

/* Copies what the handler may ask for out of lws's header table, which
 * is not ours to keep while the answer is awaited. */
static int copy_headers(struct http_req *r, struct lws *wsi)
{
	for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
		char *name, *value;

		if (lws_hdr_total_length(wsi, (enum lws_token_indexes)t) <= 0)
			continue;
		if (!(name = token_name(t)))
			continue;
		value = header_copy(wsi, t);
		if (!value) {
			free(name);
			continue;
		}
		if (field_add(&r->headers, &r->n_headers, name, value))
			return -ENOMEM;
	}
	for (size_t i = 0; i < sizeof custom_headers / sizeof *custom_headers; i++) {
		const char *h = custom_headers[i];
		int hl = (int)strlen(h);
		int n = lws_hdr_custom_length(wsi, h, hl);
		char *value;

		if (n < 0)
			continue;
		value = malloc((size_t)n + 1);
		if (value && lws_hdr_custom_copy(wsi, value, n + 1, h, hl) < 0) {
			free(value);
			continue;
		}
		if (field_add(&r->headers, &r->n_headers, strndup(h, (size_t)hl - 1), value))
			return -ENOMEM;
	}
	return 0;
}

/* lws keeps the query decoded, one "name=value" fragment per argument. */
static int copy_query(struct http_req *r, struct lws *wsi)
{
	for (int i = 0;; i++) {
		int n = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
		char *frag, *eq;

		if (n <= 0)
			return 0;
		frag = malloc((size_t)n + 1);
		if (!frag)
			return -ENOMEM;
		if (lws_hdr_copy_fragment(wsi, frag, n + 1, WSI_TOKEN_HTTP_URI_ARGS, i) < 0) {
			free(frag);
			return 0;
		}
		eq = strchr(frag, '=');
		if (eq)
			*eq = '\0';
		n = field_add(&r->query, &r->n_query, strdup(frag), strdup(eq ? eq + 1 : ""));
		free(frag);
		if (n)
			return n;
	}
}

static void peer_name(struct lws *wsi, char *buf, size_t size)
{
	buf[0] = '\0';
	lws_get_peer_simple(wsi, buf, size);
	/* An IPv4 client of a dual-stack socket is still an IPv4 client. */
	if (strncmp(buf, "::ffff:", 7) == 0 && strchr(buf + 7, '.'))
		memmove(buf, buf + 7, strlen(buf + 7) + 1);
}

static const char *method_name(int m)
{
	switch (m) {
	case LWSHUMETH_GET: return "GET";
	case LWSHUMETH_POST: return "POST";
	case LWSHUMETH_OPTIONS: return "OPTIONS";
	case LWSHUMETH_PUT: return "PUT";
	case LWSHUMETH_PATCH: return "PATCH";
	case LWSHUMETH_DELETE: return "DELETE";
	case LWSHUMETH_CONNECT: return "CONNECT";
	case LWSHUMETH_HEAD: return "HEAD";
	default: return NULL;
	}
}

const char *http_req_method(const struct http_req *r)
{
	return r->method;
}

const char *http_req_path(const struct http_req *r)
{
	return r->path;
}

const char *http_req_query(const struct http_req *r, const char *name)
{
	return field_get_exact(r->query, r->n_query, name);
}

const char *http_req_header(const struct http_req *r, const char *name)
{
	return field_get(r->headers, r->n_headers, name);
}

const char *http_req_body(const struct http_req *r, size_t *len)
{
	if (len)
		*len = r->body_len;
	return r->body ? r->body : "";
}

const char *http_req_peer(const struct http_req *r)
{
	return r->peer;
}

int http_req_is_gone(const struct http_req *r)
{
	return !r->conn;
}

/* ----------------------------------------------------------- watching */

static void kill_conn(struct conn *c)
{
	/* lws closes it from the loop; conn_gone follows. */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void watch_closed(uv_handle_t *handle)
{
	struct watch *w = handle->data;

	close(w->fd);
	free(w);
}

static void watch_stop(struct conn *c)
{
	struct watch *w = c->watch;

	if (w) {
		c->watch = NULL;
		w->conn = NULL;
		uv_close((uv_handle_t *)&w->poll, watch_closed);
	}
}

static void watch_event(uv_poll_t *poll, int status, int events)
{
	struct watch *w = poll->data;
	struct conn *c = w->conn;
	char b;

	if (!c)
		return;
	if (status == 0 && recv(w->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	/* The client hung up, or sent more while it should be waiting:
	 * we do not pipeline, and event stream clients have nothing to say. */
	watch_stop(c);
	kill_conn(c);
}

/* lws 4.1 neither reads nor stops polling a connection whose request is
 * being handled (state DOING_TRANSACTION, which a deferred answer and an
 * event stream stay in): a hang-up or stray bytes would spin the loop, and
 * a client that went away would go unnoticed until the answer is written.
 * (lws_rx_flow_control is no cure: an h1 server connection under it gets
 * no writable callbacks either.) So we watch for that ourselves and drop
 * the connection when it happens. */
static void watch_start(struct conn *c)
{
	struct watch *w;
	int fd;

	if (c->watch)
		return;
	fd = fcntl(lws_get_socket_fd(c->wsi), F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return;
	w = calloc(1, sizeof *w);
	if (!w || uv_poll_init_socket(c->h->loop, &w->poll, fd)) {
		free(w);
		close(fd);
		return;
	}
	w->fd = fd;
	w->conn = c;
	w->poll.data = w;
	c->watch = w;
	uv_poll_start(&w->poll, UV_READABLE | UV_DISCONNECT, watch_event);
}

/* ---------------------------------------------------------------- output */

static struct chunk *chunk_new(size_t len)
{
	struct chunk *k = malloc(sizeof *k + LWS_PRE + len);

	if (k) {
		k->next = NULL;
		k->len = len;
		k->off = 0;
		k->headers = 0;
		k->final = 0;
	}
	return k;
}

static void queue(struct conn *c, struct chunk *k)
{
	if (c->out_tail)
		c->out_tail->next = k;
	else
		c->out_head = k;
	c->out_tail = k;
	c->out_bytes += k->len;
	lws_callback_on_writable(c->wsi);
}

static void free_output(struct conn *c)
{
	while (c->out_head) {
		struct chunk *k = c->out_head;
		c->out_head = k->next;
		free(k);
	}
	c->out_tail = NULL;
	c->out_bytes = 0;
}

/* One step of output per writable callback, as lws wants it (h2 needs
 * it, and a slow client then cannot make us buffer more than one step). */
static int write_step(struct conn *c)
{
	struct chunk *k = c->out_head;
	enum lws_write_protocol wp;
	size_t n;

	if (k) {
		n = k->len - k->off;
		if (n > WRITE_STEP)
			n = WRITE_STEP;
		if (k->headers)
			wp = LWS_WRITE_HTTP_HEADERS | (k->final ? LWS_WRITE_H2_STREAM_END : 0);
		else
			wp = k->final && k->off + n == k->len ? LWS_WRITE_HTTP_FINAL
							       : LWS_WRITE_HTTP;
		if (lws_write(c->wsi, k->buf + LWS_PRE + k->off, n, wp) != (int)n)
			return -1;
		k->off += n;
		if (k->off < k->len) {
			lws_callback_on_writable(c->wsi);
			return 0;
		}
		c->out_head = k->next;
		if (!c->out_head)
			c->out_tail = NULL;
		c->out_bytes -= k->len;
		free(k);
		if (c->out_head) {
			lws_callback_on_writable(c->wsi);
			return 0;
		}
	}
	switch (c->after) {
	case AFTER_CLOSE:
		return -1;
	case AFTER_NEXT:
		/* The answer is out: the connection may take the next request. */
		c->after = AFTER_NOTHING;
		c->busy = 0;
		watch_stop(c);
		return lws_http_transaction_completed(c->wsi) ? -1 : 0;
	default:
		return 0;
	}
}

/* Hands all that is queued to lws at once (it keeps what the socket does
 * not take). For the answers the server gives before reading a body:
 * they must be out before lws reads on, or a client that hangs up after
 * sending would never see them. HTTP/1 only. */
static void flush_now(struct conn *c)
{
	while (c->out_head) {
		struct chunk *k = c->out_head;
		size_t n = k->len - k->off;
		enum lws_write_protocol wp = k->headers ? LWS_WRITE_HTTP_HEADERS :
					     k->final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP;

		if (lws_write(c->wsi, k->buf + LWS_PRE + k->off, n, wp) != (int)n) {
			c->after = AFTER_CLOSE;
			free_output(c);
			break;
		}
		c->out_head = k->next;
		c->out_bytes -= k->len;
		free(k);
	}
	c->out_tail = NULL;
	/* The close, or the next request, follows on the writable callback. */
	lws_callback_on_writable(c->wsi);
}

/* The status line and headers of an answer into a new chunk. */
static struct chunk *headers_chunk(struct conn *c, const struct http_req *r, int status,
				   const char *type, long long length, int close)
{
	size_t room = HEADER_ROOM;
	unsigned char *start, *p, *end;
	struct chunk *k;

	for (size_t i = 0; r && i < r->n_reply_headers; i++)
		room += strlen(r->reply_headers[i].name) + strlen(r->reply_headers[i].value) + 4;
	k = chunk_new(room);
	if (!k)
		return NULL;
	start = p = k->buf + LWS_PRE;
	end = start + room;
	if (lws_add_http_header_status(c->wsi, (unsigned)status, &p, end))
		goto fail;
	if (type && lws_add_http_header_by_token(c->wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
						 (const unsigned char *)type, (int)strlen(type),
						 &p, end))
		goto fail;
	if (length >= 0 &&
	    lws_add_http_header_content_length(c->wsi, (lws_filepos_t)length, &p, end))
		goto fail;
	if (close && lws_add_http_header_by_token(c->wsi, WSI_TOKEN_CONNECTION,
						  (const unsigned char *)"close", 5, &p, end))
		goto fail;
	for (size_t i = 0; r && i < r->n_reply_headers; i++) {
		const struct field *f = &r->reply_headers[i];
		if (lws_add_http_header_by_name(c->wsi, (const unsigned char *)f->name,
						(const unsigned char *)f->value,
						(int)strlen(f->value), &p, end))
			goto fail;
	}
	if (lws_finalize_http_header(c->wsi, &p, end))
		goto fail;
	k->len = (size_t)(p - start);
	k->headers = 1;
	return k;
fail:
	free(k);
	return NULL;
}

/* Queues the answer to the request on c (r may be NULL: no extra
 * headers). body is a chunk without its flags, or NULL. */
static int queue_answer(struct conn *c, const struct http_req *r, int status,
			struct chunk *body, int close)
{
	int no_length;
	struct chunk *hk;

	if (status < 200 || status > 599) {
		log_warn("http: no such final status as %d; answering 500", status);
		status = 500;
	}
	no_length = status == 204 || status == 304;
	if (no_length && body) {
		free(body);     /* these have no body, by definition */
		body = NULL;
	}
	hk = headers_chunk(c, r, status, body ? "application/json" : NULL,
			   no_length ? -1 : (long long)(body ? body->len : 0), close);
	if (!hk) {
		free(body);
		c->after = AFTER_CLOSE;
		lws_callback_on_writable(c->wsi);
		return -ENOMEM;
	}
	if (body && r && r->head) {
		free(body);
		body = NULL;
	}
	hk->final = !body;
	queue(c, hk);
	if (body) {
		body->final = 1;
		queue(c, body);
	}
	c->after = close ? AFTER_CLOSE : AFTER_NEXT;
	return 0;
}

static struct chunk *json_chunk(const json_t *v)
{
	const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
	size_t n = json_dumpb(v, NULL, 0, flags);
	struct chunk *k;

	if (!n)
		return NULL;
	k = chunk_new(n);
	if (k && json_dumpb(v, (char *)k->buf + LWS_PRE, n, flags) != n) {
		free(k);
		return NULL;
	}
	return k;
}

static struct chunk *error_chunk(const char *code, const char *message)
{
	json_t *msg = json_string(message);
	json_t *v;
	struct chunk *k;

	/* A message is built from what clients sent; keep it JSON. */
	if (!msg)
		msg = json_string("(message not valid UTF-8)");
	v = json_pack("{s:{s:s,s:o}}", "error", "code", code, "message", msg);
	k = v ? json_chunk(v) : NULL;
	json_decref(v);
	return k;
}

/* An answer the server gives on its own (413, malformed, ...). */
static void answer_error(struct conn *c, int status, const char *code, const char *message,
			 int close)
{
	queue_answer(c, NULL, status, error_chunk(code, message), close);
}

int http_reply_header(struct http_req *r, const char *name, const char *value)
{
	char *n;
	size_t len = strlen(name);

	if (!len || strpbrk(name, ": \t\r\n") || strpbrk(value, "\r\n"))
		return -EINVAL;
	n = malloc(len + 2);
	if (!n)
		return -ENOMEM;
	memcpy(n, name, len);
	memcpy(n + len, ":", 2);
	return field_add(&r->reply_headers, &r->n_reply_headers, n, strdup(value));
}

/* Ends r: it is answered, or its client has gone. */
static void req_done(struct http_req *r)
{
	if (r->conn)
		r->conn->req = NULL;
	req_free(r);
}

void http_reply_json(struct http_req *r, int status, json_t *body)
{
	struct chunk *k = NULL;

	if (r->conn && body) {
		k = json_chunk(body);
		if (!k) {
			log_warn("http: cannot encode the answer to %s %s", r->method, r->path);
			status = 500;
			k = error_chunk("internal", "cannot encode the answer");
		}
	}
	json_decref(body);
	if (r->conn)
		queue_answer(r->conn, r, status, k, 0);
	req_done(r);
}

void http_reply_error(struct http_req *r, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (r->conn) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		queue_answer(r->conn, r, status, error_chunk(code, msg), 0);
	}
	req_done(r);
}

/* ------------------------------------------------------------- streams */

static void stream_free(struct http_stream *s)
{
	ev_timer_free(s->timer);
	free(s);
}

/* The connection under s has ended. */
static void stream_ended(struct http_stream *s)
{
	s->conn = NULL;
	uv_timer_stop(s->timer);
	s->in_on_close = 1;
	if (s->on_close)
		s->on_close(s->arg);
	stream_free(s);
}

static void keepalive(uv_timer_t *t);

static int stream_queue(struct http_stream *s, struct chunk *k)
{
	struct conn *c = s->conn;

	queue(c, k);
	if (c->out_bytes > s->max_queue) {
		/* Too slow to keep up: let it go rather than hoard memory.
		 * lws closes it from the loop and on_close follows. */
		char peer[64];
		peer_name(c->wsi, peer, sizeof peer);
		log_warn("http: event stream to %s is %zu bytes behind; dropping it",
			 peer, c->out_bytes);
		free_output(c);
		s->dropped = 1;
		uv_timer_stop(s->timer);
		kill_conn(c);
		return -ENOBUFS;
	}
	/* Keep-alive comments only fill silence. */
	uv_timer_start(s->timer, keepalive, s->keepalive_ms, s->keepalive_ms);
	return 0;
}

static void keepalive(uv_timer_t *t)
{
	static const char text[] = ": keep-alive\n\n";
	struct http_stream *s = t->data;
	struct chunk *k;

	if (!s->conn || s->dropped)
		return;
	k = chunk_new(sizeof text - 1);
	if (!k)
		return;
	memcpy(k->buf + LWS_PRE, text, sizeof text - 1);
	stream_queue(s, k);
}

struct http_stream *http_stream_open(struct http_req *r, void (*on_close)(void *arg), void *arg)
{
	struct conn *c = r->conn;
	struct http_stream *s;
	struct chunk *hk;

	if (!c) {
		req_done(r);
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (!s || !(s->timer = ev_timer_new(c->h->loop, s)))
		goto fail;
	/* No Content-Length: the end of the connection ends the stream. */
	if (http_reply_header(r, "Cache-Control", "no-cache"))
		goto fail;
	hk = headers_chunk(c, r, 200, "text/event-stream", -1, 1);
	if (!hk)
		goto fail;
	s->conn = c;
	s->keepalive_ms = c->h->keepalive_ms;
	s->max_queue = c->h->max_queue;
	s->on_close = on_close;
	s->arg = arg;
	c->stream = s;
	c->after = AFTER_NOTHING;
	req_done(r);
	/* No timeouts from now on, and lws may reuse the header table.
	 * (lws_http_mark_sse does that, but logs an error on h1 in 4.1.) */
	if (lws_get_network_wsi(c->wsi) != c->wsi) {
		lws_http_mark_sse(c->wsi);
	} else {
		lws_http_headers_detach(c->wsi);
		lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	}
	watch_start(c);
	queue(c, hk);
	uv_timer_start(s->timer, keepalive, s->keepalive_ms, s->keepalive_ms);
	return s;
fail:
	if (s)
		stream_free(s);
	c->after = AFTER_CLOSE;
	lws_callback_on_writable(c->wsi);
	req_done(r);
	return NULL;
}

int http_stream_send(struct http_stream *s, const char *event, const json_t *data)
{
	const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
	size_t n, ev_len = event ? strlen(event) : 0, len;
	struct chunk *k;
	char *p;

	if (!s->conn || s->dropped)
		return -ENOTCONN;
	if (event && strpbrk(event, "\r\n"))
		return -EINVAL;
	/* Compact JSON has no line breaks: one data line. */
	n = json_dumpb(data, NULL, 0, flags);
	if (!n)
		return -EINVAL;
	len = (event ? 7 + ev_len + 1 : 0) + 6 + n + 2;
	k = chunk_new(len);
	if (!k)
		return -ENOMEM;
	p = (char *)k->buf + LWS_PRE;
	if (event) {
		memcpy(p, "event: ", 7);
		memcpy(p + 7, event, ev_len);
		p[7 + ev_len] = '\n';
		p += 7 + ev_len + 1;
	}
	memcpy(p, "data: ", 6);
	if (json_dumpb(data, p + 6, n, flags) != n) {
		free(k);
		return -EINVAL;
	}
	memcpy(p + 6 + n, "\n\n", 2);
	return stream_queue(s, k);
}

void http_stream_close(struct http_stream *s)
{
	struct conn *c;

	if (!s || s->in_on_close)
		return;
	c = s->conn;
	if (c) {
		c->stream = NULL;
		c->after = AFTER_CLOSE;
		lws_callback_on_writable(c->wsi);
	}
	stream_free(s);
}

/* --------------------------------------------------------- connections */

static struct conn *conn_get(struct httpd *h, struct lws *wsi)
{
	struct conn *c = lws_get_opaque_user_data(wsi);

	if (c)
		return c;
	c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->h = h;
	c->wsi = wsi;
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	lws_set_opaque_user_data(wsi, c);
	return c;
}

/* The connection is over (closed by either side, or the server is
 * closing): forget it, tell whoever waits on it. */
static void conn_gone(struct conn *c)
{
	struct http_stream *s = c->stream;

	if (c->prev)
		c->prev->next = c->next;
	else
		c->h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	lws_set_opaque_user_data(c->wsi, NULL);
	watch_stop(c);
	if (c->req) {
		if (c->req->dispatched)
			c->req->conn = NULL;  /* its owner still answers it */
		else
			req_free(c->req);
	}
	free_output(c);
	free(c);
	if (s)
		stream_ended(s);
}

static void dispatch(struct conn *c)
{
	struct http_req *r = c->req;
	struct httpd *h = c->h;

	r->dispatched = 1;
	if (!r->body) {
		r->body = strdup("");
		if (!r->body) {
			answer_error(c, 500, "internal", "out of memory", 1);
			req_done(r);
			return;
		}
	}
	r->body[r->body_len] = '\0';
	/* However long the answer takes: the API sets its own timeouts. */
	lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	h->handler(h->handler_ctx, r);
	if (h->closed || c->req != r)
		return;  /* answered (or the server closed from the handler) */
	/* Deferred: everything is copied out of lws's header table, which
	 * another connection can use meanwhile; lws would drop a connection
	 * that held one for over six minutes. */
	lws_http_headers_detach(c->wsi);
	watch_start(c);
}

/* Answers a request the handler will never see, and closes: its body, if
 * any, is not read. */
static void refuse(struct conn *c, struct http_req *r, int status, const char *code,
		   const char *message)
{
	answer_error(c, status, code, message, 1);
	flush_now(c);
	req_done(r);
}

static int parse_length(const char *s, unsigned long long *out)
{
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int on_request(struct httpd *h, struct lws *wsi)
{
	struct conn *c = conn_get(h, wsi);
	const char *clen, *te;
	unsigned long long length = 0;
	struct http_req *r;
	char *uri;
	int m, ulen;

	if (!c)
		return -1;
	if (c->busy || c->stream) {
		/* A pipelined request before the last one's answer is out;
		 * nobody pipelines in practice. */
		log_debug("http: pipelined request; closing the connection");
		return -1;
	}
	c->busy = 1;
	c->completions = 0;
	r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	r->conn = c;
	c->req = r;
	m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	r->method = method_name(m);
	peer_name(wsi, r->peer, sizeof r->peer);
	if (!r->method || ulen < 0 || !(r->path = strndup(uri, (size_t)ulen)) ||
	    copy_query(r, wsi) || copy_headers(r, wsi)) {
		refuse(c, r, r->method ? 500 : 400, r->method ? "internal" : "bad_request",
		       r->method ? "out of memory" : "unsupported method");
		return 0;
	}
	r->head = m == LWSHUMETH_HEAD;
	clen = http_req_header(r, "content-length");
	te = http_req_header(r, "transfer-encoding");
	if (clen && parse_length(clen, &length)) {
		refuse(c, r, 400, "bad_request", "invalid Content-Length");
		return 0;
	}
	if (length > h->max_body) {
		/* Before the body: close after the answer rather than read it. */
		char msg[128];
		snprintf(msg, sizeof msg, "request body over %zu bytes", h->max_body);
		refuse(c, r, 413, "too_large", msg);
		return 0;
	}
	if (te && strcasecmp(te, "identity")) {
		/* lws 4.1 does not decode chunked request bodies. */
		refuse(c, r, 411, "bad_request", "a request body needs a Content-Length");
		return 0;
	}
	if (length) {
		const char *expect = http_req_header(r, "expect");

		r->body_cap = (size_t)length + 1;
		r->body = malloc(r->body_cap);
		if (!r->body) {
			refuse(c, r, 500, "internal", "out of memory");
			return 0;
		}
		/* lws 4.1 ignores Expect; a client would wait (curl: 1 s). */
		if (expect && strcasecmp(expect, "100-continue") == 0) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
			unsigned char buf[LWS_PRE + sizeof cont];

			memcpy(buf + LWS_PRE, cont, sizeof cont - 1);
			if (lws_write(wsi, buf + LWS_PRE, sizeof cont - 1, LWS_WRITE_HTTP) < 0)
				return -1;
		}
		return 0;  /* the body follows */
	}
	dispatch(c);
	return 0;
}

static int on_body(struct conn *c, const char *in, size_t len)
{
	struct http_req *r = c->req;

	if (!r || r->dispatched)
		return 0;  /* answered early (413): the body goes nowhere */
	if (r->body_len + len > c->h->max_body) {
		char msg[128];
		snprintf(msg, sizeof msg, "request body over %zu bytes", c->h->max_body);
		refuse(c, r, 413, "too_large", msg);
		return 0;
	}
	if (r->body_len + len + 1 > r->body_cap) {
		size_t cap = (r->body_len + len + 1) * 2;
		char *p;
		if (cap > c->h->max_body + 1)
			cap = c->h->max_body + 1;
		p = realloc(r->body, cap);
		if (!p)
			return -1;
		r->body = p;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, in, len);
	r->body_len += len;
	return 0;
}

/* lws 4.1 cannot be told to ignore an Upgrade header and answer in
 * HTTP/1.1, and the request is not ours yet: refuse it in words, at once
 * (lws buffers what the socket does not take). WebSocket is the OCPP
 * server's, on its own port; h2c (curl --http2) would put us on HTTP/2,
 * which this server does not speak. */
static int refuse_upgrade(struct lws *wsi, const char *what)
{
	unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE;
	char body[160];
	int n, m;

	/* (lws_add_http_header_status would say HTTP/1.0: lws has not
	 * noted the request's version yet.) */
	if (!what || strpbrk(what, "\"\\") || strlen(what) > 32)
		what = "that";
	n = snprintf(body, sizeof body,
		     "{\"error\":{\"code\":\"bad_request\",\"message\":\"no upgrade to %s here\"}}",
		     what);
	m = snprintf((char *)start, sizeof buf - LWS_PRE,
		     "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
		     "content-length: %d\r\nconnection: close\r\n\r\n%s", n, body);
	if (lws_write(wsi, start, (size_t)m, LWS_WRITE_HTTP) != m)
		return -1;
	return 1;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		    void *in, size_t len)
{
	struct lws_context *cx = lws_get_context(wsi);
	struct httpd *h = cx ? lws_context_user(cx) : NULL;
	struct conn *c = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (!h || h->closed)
			return -1;
		return on_request(h, wsi);
	case LWS_CALLBACK_HTTP_BODY:
		return c ? on_body(c, in, len) : 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!c)
			return 0;
		/* lws 4.1 (h1) stays in its body state after the body: bytes
		 * pipelined behind one bring us here again and again, never
		 * consumed, and the loop spins. We do not pipeline: hang up. */
		if (++c->completions > 1)
			return -1;
		if (c->req && !c->req->dispatched)
			dispatch(c);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return c ? write_step(c) : -1;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return refuse_upgrade(wsi, in);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_WSI_DESTROY:
		if (c)
			conn_gone(c);
		return 0;
	default:
		return 0;
	}
}

/* ---------------------------------------------------------------- server */

/* lws 4.1 on a foreign loop frees a context only in a second
 * lws_context_destroy, after the loop has closed the handles the first
 * one let go of (destroying twice at once leaves close callbacks running
 * on freed memory). When httpd_new fails half-way nobody would make that
 * second call, so this does, from the loop: once none of the context's
 * handles is left and nothing is still closing (two iterations). */
#define REAP_CHECK_MS 5
#define REAP_TRIES 400

struct reaper {
	uv_timer_t timer;
	struct httpd *h;
	int busy;
	unsigned tries;
};

static void reaper_walk(uv_handle_t *handle, void *arg)
{
	struct reaper *rp = arg;

	if (handle != (uv_handle_t *)&rp->timer &&
	    ((rp->h->ctx && handle->data == rp->h->ctx) || uv_is_closing(handle)))
		rp->busy = 1;
}

static void reaper_closed(uv_handle_t *handle)
{
	struct reaper *rp = handle->data;

	free(rp->h);  /* (NULL if leaked) */
	free(rp);
}

static void reap(uv_timer_t *t)
{
	struct reaper *rp = t->data;

	rp->busy = 0;
	uv_walk(t->loop, reaper_walk, rp);
	if (rp->busy && ++rp->tries < REAP_TRIES)
		return;
	if (rp->busy) {
		/* Better a leak than a use after free. */
		log_warn("http: the server context would not go away; leaking it");
		rp->h = NULL;
	} else if (rp->h->ctx) {
		lws_context_destroy(rp->h->ctx);
	}
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, reaper_closed);
}

static void abandon(struct httpd *h)
{
	struct reaper *rp = calloc(1, sizeof *rp);

	h->closed = 1;
	lws_context_destroy(h->ctx);
	if (!rp) {
		log_warn("http: out of memory; leaking a server context");
		return;
	}
	rp->h = h;
	uv_timer_init(h->loop, &rp->timer);
	rp->timer.data = rp;
	uv_timer_start(&rp->timer, reap, REAP_CHECK_MS, REAP_CHECK_MS);
}

/* lws says no more than "cannot bind" (and not at all for a missing
 * file); find out why first, in words. 0, or -1 with err set. */
static int precheck(const struct httpd_config *cfg, const char *address, int tls,
		    char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	char port[16];
	int fd, one = 1, rc = 0;

	if (tls && (access(cfg->cert_file, R_OK) || access(cfg->key_file, R_OK))) {
		const char *f = access(cfg->cert_file, R_OK) ? cfg->cert_file : cfg->key_file;
		snprintf(err, errlen, "cannot read '%s': %s", f, strerror(errno));
		return -1;
	}
	if (!cfg->port)
		return 0;
	snprintf(port, sizeof port, "%d", cfg->port);
	if (getaddrinfo(address, port, &hints, &ai))
		return 0;  /* an interface name: lws's business */
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		/* As lws binds: a socket in TIME_WAIT is no obstacle. */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen)) {
			snprintf(err, errlen, "cannot listen on %s port %d: %s", address, cfg->port,
				 strerror(errno));
			rc = -1;
		}
		close(fd);
	}
	freeaddrinfo(ai);
	return rc;
}

struct httpd *httpd_new(uv_loop_t *loop, const struct httpd_config *cfg, httpd_handler handler,
			void *ctx, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct httpd *h;
	void *loops[1] = { loop };
	const char *address = cfg->address ? cfg->address : "127.0.0.1";
	int has_cert = cfg->cert_file && *cfg->cert_file;
	int has_key = cfg->key_file && *cfg->key_file;
	int tls = has_cert && has_key;
	struct lws_vhost *vh;

	if (has_cert != has_key) {
		/* Never fall back to plain HTTP by mistake. */
		snprintf(err, errlen, "HTTPS needs both a certificate and a key file");
		return NULL;
	}
	if (precheck(cfg, address, tls, err, errlen))
		return NULL;
	h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->loop = loop;
	h->handler = handler;
	h->handler_ctx = ctx;
	h->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
	h->keepalive_ms = cfg->keepalive_ms ? cfg->keepalive_ms : DEFAULT_KEEPALIVE_MS;
	h->max_queue = cfg->max_stream_queue ? cfg->max_stream_queue : DEFAULT_MAX_QUEUE;
	lws_set_log_level(LLL_ERR | LLL_WARN | (ev_log_get_level() >= EV_LOG_DEBUG ? LLL_NOTICE : 0),
			  lws_log_to_ours);

	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		       LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
		       (tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
	info.foreign_loops = loops;
	info.pcontext = &h->ctx;   /* lws clears it when the context is gone */
	info.user = h;
	info.server_string = "evctl";
	/* Room for long tokens and query strings (the default is 4096). */
	info.max_http_header_data = 8192;
	h->ctx = lws_create_context(&info);
	if (!h->ctx) {
		snprintf(err, errlen, "cannot set up the HTTP server");
		free(h);
		return NULL;
	}

	memset(&info, 0, sizeof info);
	info.vhost_name = "api";
	info.iface = address;
	info.port = cfg->port;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	if (tls) {
		/* (lws 4.1 serves plain HTTP if the vhost lacks this.) */
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cfg->cert_file;
		info.ssl_private_key_filepath = cfg->key_file;
		info.alpn = "http/1.1";
	}
	vh = lws_create_vhost(h->ctx, &info);
	if (!vh) {
		if (tls)
			snprintf(err, errlen,
				 "cannot listen on %s port %d with certificate '%s' and key '%s'",
				 address, cfg->port, cfg->cert_file, cfg->key_file);
		else
			snprintf(err, errlen, "cannot listen on %s port %d", address, cfg->port);
		abandon(h);
		return NULL;
	}
	h->port = lws_get_vhost_listen_port(vh);
	return h;
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_close(struct httpd *h)
{
	if (!h)
		return;
	h->closed = 1;
	while (h->conns) {
		struct conn *c = h->conns;
		/* Orphan the connection: lws closes it, we hear no more. */
		kill_conn(c);
		conn_gone(c);
	}
	if (h->ctx)
		lws_context_destroy(h->ctx);
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	httpd_close(h);
	/* Completes a destruction the loop has finished running. */
	if (h->ctx)
		lws_context_destroy(h->ctx);
	free(h);
}
