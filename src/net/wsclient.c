#include "config.h"
#include "net/wsclient.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libwebsockets.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include "net/rxbuf.h"
#include "net/txqueue.h"
#include "net/wsproto.h"
#include "util/log.h"
#include "util/uvtimer.h"

#define DEFAULT_MAX_FRAME (1024 * 1024)

/* Two transports behind one API. ws:// is ours: uv_tcp and wsproto.
 * wss:// is libwebsockets, opened at the first wss:// client rather than
 * linked: it links OpenSSL, and loading the two costs a station 2 MiB
 * that a plain ws:// station never uses (bench/README.md). The soname is
 * the one of the headers we build with. */
#define LWS_LIBRARY "libwebsockets.so.17"

#define CONNECT_TIMEOUT_S 20   /* resolve, connect and handshake (lws's default) */
#define CLOSE_TIMEOUT_S 5      /* for the peer to answer our close */
#define TCP_KEEPALIVE_S 60
#define READ_BUFFER 16384

/* libwebsockets' functions, from dlsym. Process-wide on purpose: the
 * library is, and it is never unloaded (OpenSSL's exit handlers and the
 * libuv plugin stay registered once it has run). */
#define LWS_FN(name) __typeof__(lws_##name) *name
static struct lws_api {
	void *lib;
	LWS_FN(create_context);
	LWS_FN(context_destroy);
	LWS_FN(create_vhost);
	LWS_FN(set_log_level);
	LWS_FN(client_connect_via_info);
	LWS_FN(set_opaque_user_data);
	LWS_FN(get_opaque_user_data);
	LWS_FN(set_timeout);
	LWS_FN(callback_on_writable);
	LWS_FN(add_http_header_by_token);
	LWS_FN(is_first_fragment);
	LWS_FN(is_final_fragment);
	LWS_FN(remaining_packet_payload);
	LWS_FN(close_reason);
	LWS_FN(frame_is_binary);
	LWS_FN(write);
	LWS_FN(validity_confirmed);
	LWS_FN(cancel_service);
} L;
#undef LWS_FN

#define SYM(name) { "lws_" #name, offsetof(struct lws_api, name) }
static const struct { const char *name; size_t offset; } lws_symbols[] = {
	SYM(create_context), SYM(context_destroy), SYM(create_vhost), SYM(set_log_level),
	SYM(client_connect_via_info), SYM(set_opaque_user_data), SYM(get_opaque_user_data),
	SYM(set_timeout), SYM(callback_on_writable), SYM(add_http_header_by_token),
	SYM(is_first_fragment), SYM(is_final_fragment), SYM(remaining_packet_payload),
	SYM(close_reason), SYM(frame_is_binary), SYM(write), SYM(validity_confirmed),
	SYM(cancel_service),
};
#undef SYM

/* Client vhosts, one per distinct TLS setup. */
struct vhost {
	struct vhost *next;
	char *key;                 /* ca \n cert \n key */
	struct lws_vhost *vh;
};

struct ws_net {
	uv_loop_t *loop;
	struct lws_context *ctx;   /* created at the first wss:// client */
	unsigned connections;      /* sizes lws's tables */
	struct vhost *vhosts;
	struct ws_client *clients;
	struct conn *conns;        /* every TCP connection not yet closed */
	unsigned vhost_count;
	uint64_t rng;
	char *rbuf;                /* reads of all ws:// connections, one at a time */
};

/* One ws:// TCP connection. It outlives its client when the client lets
 * go first: libuv's requests on it complete, then its close callback
 * frees it. */
struct conn {
	uv_tcp_t tcp;
	struct conn *next;         /* in net->conns */
	struct ws_net *net;
	struct ws_client *c;       /* NULL once detached */
	struct addrinfo *ai;       /* the address being tried */
	char *hs;                  /* handshake response so far; NULL once open */
	size_t hs_len;
	char key[25];
	int open, close_sent, pinged;
	struct wsp_decoder dec;
};

/* A name being resolved, detached (c NULL) if its client went first. */
struct resolve {
	uv_getaddrinfo_t req;
	struct ws_client *c;
};

struct write_req {
	uv_write_t req;
	struct conn *conn;
	uint8_t data[];
};

enum state { WS_WAITING, WS_CONNECTING, WS_OPEN };

struct ws_client {
	struct ws_client *next;    /* in net->clients */
	struct ws_net *net;
	const struct ws_client_ops *ops;
	void *ctx;
	enum state state;
	uv_timer_t *timer;         /* retry timer; freed by libuv's close callback */
	/* connection target */
	char *url, *address, *path, *host_header, *origin, *subprotocol, *auth_header;
	int port, tls;
	size_t max_frame;
	unsigned backoff_min, backoff_max, jitter, attempts, ping_s;
	const char *drop_reason;   /* set: close after what is queued */
	/* wss://: libwebsockets */
	struct lws *wsi;
	struct lws_vhost *vh;
	lws_retry_bo_t idle_policy;
	struct rxbuf rx;           /* inbound reassembly */
	struct txqueue tx;         /* wss:// only */
	/* ws://: ours */
	struct conn *conn;
	struct resolve *resolving;
	struct addrinfo *addrs;
	uv_timer_t *conn_timer;    /* connect timeout, pings, close timeout */
};

static uint64_t next_random(struct ws_net *net)
{
	uint64_t z = (net->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void random_bytes(struct ws_net *net, uint8_t *out, size_t n)
{
	while (n) {
		uint64_t r = next_random(net);
		size_t k = n < sizeof r ? n : sizeof r;
		memcpy(out, &r, k);
		out += k;
		n -= k;
	}
}

struct ws_net *ws_net_new(uv_loop_t *loop)
{
	return ws_net_new_sized(loop, 0);
}

struct ws_net *ws_net_new_sized(uv_loop_t *loop, unsigned connections)
{
	struct ws_net *net = calloc(1, sizeof *net);

	if (!net)
		return NULL;
	net->loop = loop;
	net->connections = connections;
#ifdef HAVE_GETRANDOM
	if (getrandom(&net->rng, sizeof net->rng, 0) != (ssize_t)sizeof net->rng)
#endif
		net->rng = (uint64_t)uv_hrtime() ^ (uint64_t)(uintptr_t)net;
	return net;
}

static void conn_detach(struct conn *conn, int graceful);
static int conn_send_close(struct conn *conn, unsigned code, const char *reason);

/* Lets go of the ws:// connection attempt or connection, if any. */
static void tcp_release(struct ws_client *c, int graceful)
{
	if (c->resolving) {
		c->resolving->c = NULL;
		uv_cancel((uv_req_t *)&c->resolving->req);
		c->resolving = NULL;
	}
	if (c->conn)
		conn_detach(c->conn, graceful);
	if (c->addrs) {
		uv_freeaddrinfo(c->addrs);
		c->addrs = NULL;
	}
	if (c->conn_timer)
		uv_timer_stop(c->conn_timer);
}

static void client_release(struct ws_client *c)
{
	if (c->wsi) {
		/* Orphan the connection: lws closes it, we hear no more. */
		L.set_opaque_user_data(c->wsi, NULL);
		L.set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	/* An open ws:// connection says goodbye, as lws does on its own. */
	if (c->conn && c->conn->open && !c->conn->close_sent)
		conn_send_close(c->conn, WSP_CLOSE_GOING_AWAY, "going away");
	tcp_release(c, 1);
	ev_timer_free(c->timer);
	ev_timer_free(c->conn_timer);
	txq_clear(&c->tx);
	rxbuf_free(&c->rx);
	free(c->url);
	free(c->address);
	free(c->path);
	free(c->host_header);
	free(c->origin);
	free(c->subprotocol);
	free(c->auth_header);
	free(c);
}

void ws_net_close(struct ws_net *net)
{
	if (!net)
		return;
	while (net->clients)
		ws_client_free(net->clients);
	/* Connections still saying goodbye go now: the loop must run dry. */
	for (struct conn *conn = net->conns; conn; conn = conn->next)
		if (!uv_is_closing((uv_handle_t *)&conn->tcp))
			conn_detach(conn, 0);
	if (net->ctx)
		L.context_destroy(net->ctx);
}

void ws_net_free(struct ws_net *net)
{
	if (!net)
		return;
	ws_net_close(net);
	/* Completes a destruction the loop has finished running. */
	if (net->ctx)
		L.context_destroy(net->ctx);
	while (net->vhosts) {
		struct vhost *v = net->vhosts;
		net->vhosts = v->next;
		free(v->key);
		free(v);
	}
	free(net->rbuf);
	free(net);
}

/* ---------------------------------------------------------------- target */

/* Percent-encodes what may not stand in a URL path segment. */
static void append_encoded(char *out, size_t size, const char *id)
{
	size_t n = strlen(out);
	for (; *id && n + 4 < size; id++) {
		unsigned char ch = (unsigned char)*id;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch))
			out[n++] = (char)ch;
		else
			n += (size_t)snprintf(out + n, size - n, "%%%02X", ch);
	}
	out[n] = '\0';
}

/* scheme://host[:port][/path], as lws_parse_uri reads it: an IPv6 host in
 * brackets, the port defaulting by scheme, path without its '/'. */
static int parse_url(char *s, const char **scheme, const char **host, int *port,
		     const char **path)
{
	char *p = strstr(s, "://"), *h;

	if (!p)
		return -1;
	*p = '\0';
	*scheme = s;
	h = p + 3;
	if (*h == '[') {
		*host = ++h;
		if (!(p = strchr(h, ']')))
			return -1;
		*p++ = '\0';
	} else {
		*host = h;
		p = h + strcspn(h, ":/");
	}
	*port = strcmp(*scheme, "wss") == 0 ? 443 : 80;
	if (*p == ':') {
		char *end;
		long v;
		*p++ = '\0';
		v = strtol(p, &end, 10);
		if (end == p || v <= 0 || v > 65535 || (*end && *end != '/'))
			return -1;
		*port = (int)v;
		p = end;
	}
	if (*p == '/')
		*p++ = '\0';
	else if (*p)
		return -1;
	*path = p;
	return 0;
}

static int set_target(struct ws_client *c, const struct ws_client_config *cfg,
		      char *err, size_t errlen)
{
	char copy[1024], path[1536], host[300];
	const char *prot, *ads, *p;
	int port;

	if (!cfg->url || strlen(cfg->url) >= sizeof copy) {
		snprintf(err, errlen, "missing or overlong central system URL");
		return -1;
	}
	snprintf(copy, sizeof copy, "%s", cfg->url);
	if (parse_url(copy, &prot, &ads, &port, &p) || !*ads || strlen(ads) > 256) {
		snprintf(err, errlen, "'%s' is not a URL", cfg->url);
		return -1;
	}
	if (strcmp(prot, "ws") == 0)
		c->tls = 0;
	else if (strcmp(prot, "wss") == 0)
		c->tls = 1;
	else {
		snprintf(err, errlen, "'%s': the scheme must be ws or wss", cfg->url);
		return -1;
	}
	/* OCPP-J: the station id is the last path segment. */
	snprintf(path, sizeof path, "/%s", p);
	if (path[strlen(path) - 1] != '/')
		strncat(path, "/", sizeof path - strlen(path) - 1);
	append_encoded(path, sizeof path, cfg->station_id);
	snprintf(host, sizeof host, strchr(ads, ':') ? "[%s]:%d" : "%s:%d", ads, port);
	c->port = port;
	c->address = strdup(ads);
	c->path = strdup(path);
	c->host_header = strdup(host);
	/* What libwebsockets sends as Origin, for ws:// too. */
	if (asprintf(&c->origin, "http://%s", ads) < 0)
		c->origin = NULL;
	return c->address && c->path && c->host_header && c->origin ? 0 : -1;
}

static int set_auth(struct ws_client *c, const struct ws_client_config *cfg)
{
	return ws_client_set_password(c, cfg->station_id, cfg->password);
}

int ws_client_set_password(struct ws_client *c, const char *station_id, const char *password)
{
	char plain[512], b64[700];

	free(c->auth_header);
	c->auth_header = NULL;
	if (!password)
		return 0;
	snprintf(plain, sizeof plain, "%s:%s", station_id, password);
	if (!wsp_base64(plain, strlen(plain), b64, sizeof b64))
		return -1;
	if (asprintf(&c->auth_header, "Basic %s", b64) < 0) {
		c->auth_header = NULL;
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- common */

static void retry_timer(uv_timer_t *t);

/* The connection is gone: schedule the next attempt, report once. */
static void lost(struct ws_client *c, const char *why)
{
	unsigned delay;

	if (c->state == WS_WAITING)
		return;
	c->state = WS_WAITING;
	c->wsi = NULL;
	rxbuf_reset(&c->rx);
	c->drop_reason = NULL;
	txq_clear(&c->tx);
	tcp_release(c, 1);
	delay = c->backoff_min;
	for (unsigned i = 0; i < c->attempts && delay < c->backoff_max; i++)
		delay *= 2;
	if (delay > c->backoff_max)
		delay = c->backoff_max;
	delay += c->jitter ? (unsigned)(next_random(c->net) % c->jitter) : 0;
	c->attempts++;
	uv_timer_start(c->timer, retry_timer, delay, 0);
	if (c->ops->on_close)
		c->ops->on_close(c->ctx, why, delay);
}

static void opened(struct ws_client *c)
{
	c->state = WS_OPEN;
	c->attempts = 0;
	log_info("websocket: connected to %s", c->url);
	c->ops->on_open(c->ctx);
}

static void lws_connect(struct ws_client *c);
static void tcp_connect(struct ws_client *c);

static void connect_now(struct ws_client *c)
{
	c->state = WS_CONNECTING;
	log_debug("websocket: connecting to %s://%s%s", c->tls ? "wss" : "ws", c->host_header, c->path);
	if (c->tls)
		lws_connect(c);
	else
		tcp_connect(c);
}

static void retry_timer(uv_timer_t *t)
{
	connect_now(t->data);
}

static void set_backoff(struct ws_client *c, unsigned min_ms, unsigned max_ms)
{
	c->backoff_min = min_ms ? min_ms : 1000;
	c->backoff_max = max_ms ? max_ms : 60000;
	if (c->backoff_max < c->backoff_min)
		c->backoff_max = c->backoff_min;
}

/* ---------------------------------------------------------------- ws:// */

static void arm_validity(struct ws_client *c);

static void conn_closed(uv_handle_t *h)
{
	struct conn *conn = h->data, **pp;

	for (pp = &conn->net->conns; *pp; pp = &(*pp)->next) {
		if (*pp == conn) {
			*pp = conn->next;
			break;
		}
	}
	wsp_decoder_clear(&conn->dec);
	free(conn->hs);
	free(conn);
}

static void shutdown_done(uv_shutdown_t *req, int status)
{
	uv_handle_t *h = (uv_handle_t *)req->handle;

	if (!uv_is_closing(h))
		uv_close(h, conn_closed);
	free(req);
}

/* The client is done with conn. Graceful: what is written goes out
 * first (a close frame), then the socket closes. */
static void conn_detach(struct conn *conn, int graceful)
{
	uv_shutdown_t *req;

	if (conn->c && conn->c->conn == conn)
		conn->c->conn = NULL;
	conn->c = NULL;
	if (uv_is_closing((uv_handle_t *)&conn->tcp))
		return;
	uv_read_stop((uv_stream_t *)&conn->tcp);
	if (graceful && conn->open && (req = malloc(sizeof *req))) {
		if (uv_shutdown(req, (uv_stream_t *)&conn->tcp, shutdown_done) == 0)
			return;
		free(req);
	}
	uv_close((uv_handle_t *)&conn->tcp, conn_closed);
}

static void write_done(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct conn *conn = w->conn;
	struct ws_client *c = conn->c;

	free(w);
	if (status < 0 && status != UV_ECANCELED && c) {
		log_debug("websocket: write failed: %s", uv_strerror(status));
		conn_detach(conn, 0);
		lost(c, "connection closed");
	}
}

/* Queues raw bytes (libuv writes them in order). */
static int conn_write(struct conn *conn, struct write_req *w, size_t len)
{
	uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)len);
	int rc;

	w->conn = conn;
	rc = uv_write(&w->req, (uv_stream_t *)&conn->tcp, &buf, 1, write_done);
	if (rc) {
		free(w);
		return -EIO;
	}
	return 0;
}

static int conn_send(struct conn *conn, enum wsp_opcode op, const void *data, size_t len)
{
	struct write_req *w = malloc(sizeof *w + WSP_MAX_HEADER + len);
	uint8_t mask[4];

	if (!w)
		return -ENOMEM;
	random_bytes(conn->net, mask, sizeof mask);
	return conn_write(conn, w, wsp_encode(w->data, op, data, len, mask));
}

static int conn_send_close(struct conn *conn, unsigned code, const char *reason)
{
	struct write_req *w = malloc(sizeof *w + WSP_MAX_HEADER + WSP_MAX_CONTROL);
	uint8_t mask[4];

	if (!w)
		return -ENOMEM;
	random_bytes(conn->net, mask, sizeof mask);
	conn->close_sent = 1;
	return conn_write(conn, w, wsp_encode_close(w->data, code, reason, mask));
}

/* Closes with a code after a protocol violation or an unwanted frame. */
static void conn_fail(struct conn *conn, unsigned code, const char *reason)
{
	struct ws_client *c = conn->c;

	if (!c)
		return;
	if (!conn->close_sent)
		conn_send_close(conn, code, reason);
	conn_detach(conn, 1);
	lost(c, "connection closed");
}

static int on_ws_message(void *ctx, int binary, const char *data, size_t len)
{
	struct conn *conn = ctx;

	if (binary) {
		log_warn("websocket: ignoring a binary frame (OCPP-J is text)");
		return 0;
	}
	if (conn->close_sent)
		return 0;
	conn->c->ops->on_message(conn->c->ctx, data, len);
	/* The owner may have dropped or freed the client meanwhile. */
	return !conn->c;
}

static int on_ws_ping(void *ctx, const uint8_t *data, size_t len)
{
	struct conn *conn = ctx;

	if (!conn->close_sent)
		conn_send(conn, WSP_OP_PONG, data, len);
	return 0;
}

static int on_ws_pong(void *ctx, const uint8_t *data, size_t len)
{
	struct conn *conn = ctx;

	/* What libwebsockets takes as proof that the connection lives. */
	if (!conn->close_sent)
		arm_validity(conn->c);
	return 0;
}

static int on_ws_close(void *ctx, unsigned code, const char *reason, size_t len)
{
	struct conn *conn = ctx;
	struct ws_client *c = conn->c;

	log_debug("websocket: closed by the peer (%u %.*s)", code, (int)len, reason);
	/* Echo the close (unless this answers ours), then hang up. */
	if (!conn->close_sent)
		conn_send_close(conn, code == WSP_CLOSE_NO_STATUS ? 0 : code, NULL);
	conn_detach(conn, 1);
	lost(c, "connection closed");
	return 1;
}

static const struct wsp_decoder_ops decoder_ops = {
	on_ws_message, on_ws_ping, on_ws_pong, on_ws_close
};

/* Pings after ping_s of no proof of life, hangs up at 2 * ping_s + 10. */
static void validity_timer(uv_timer_t *t)
{
	struct ws_client *c = t->data;
	struct conn *conn = c->conn;

	if (c->state == WS_CONNECTING) {
		tcp_release(c, 0);
		lost(c, "timed out connecting");
	} else if (conn && !conn->close_sent && c->drop_reason) {
		/* A drop, one loop turn later (where lws would find the socket
		 * writable): what was sent until now goes out before the close. */
		if (conn_send_close(conn, WSP_CLOSE_NORMAL, c->drop_reason)) {
			tcp_release(c, 0);
			lost(c, c->drop_reason);
			return;
		}
		uv_timer_start(t, validity_timer, CLOSE_TIMEOUT_S * 1000, 0);
	} else if (!conn || conn->close_sent) {
		/* the peer did not answer our close */
		tcp_release(c, 0);
		lost(c, "connection closed");
	} else if (!conn->pinged && c->ping_s) {
		conn->pinged = 1;
		conn_send(conn, WSP_OP_PING, NULL, 0);
		uv_timer_start(t, validity_timer, (uint64_t)(c->ping_s + 10) * 1000, 0);
	} else {
		log_warn("websocket: no answer to a ping; closing");
		tcp_release(c, 0);
		lost(c, "connection closed");
	}
}

static void arm_validity(struct ws_client *c)
{
	if (!c->conn || !c->conn->open || c->conn->close_sent || c->drop_reason)
		return;
	c->conn->pinged = 0;
	if (c->ping_s)
		uv_timer_start(c->conn_timer, validity_timer, (uint64_t)c->ping_s * 1000, 0);
	else
		uv_timer_stop(c->conn_timer);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *conn = h->data;

	if (!conn->net->rbuf)
		conn->net->rbuf = malloc(READ_BUFFER);
	*buf = uv_buf_init(conn->net->rbuf, conn->net->rbuf ? READ_BUFFER : 0);
}

/* Handshake bytes: the response header, perhaps frames after it. */
static int handshake_read(struct conn *conn, const char *data, size_t len, size_t *used)
{
	struct ws_client *c = conn->c;
	size_t take = WSP_MAX_RESPONSE - conn->hs_len, hdr;
	char err[160];
	int rc, status;

	if (take > len)
		take = len;
	memcpy(conn->hs + conn->hs_len, data, take);
	conn->hs_len += take;
	rc = wsp_check_response(conn->hs, conn->hs_len, conn->key, c->subprotocol,
				&hdr, &status, err, sizeof err);
	if (rc == -EAGAIN)
		return rc;
	if (rc) {
		if (status == 401)
			snprintf(err, sizeof err, "HS: ws upgrade unauthorized");
		tcp_release(c, 0);
		lost(c, err);
		return rc;
	}
	/* The bytes of data after the header are frames. */
	*used = take - (conn->hs_len - hdr);
	free(conn->hs);
	conn->hs = NULL;
	conn->open = 1;
	uv_timer_stop(c->conn_timer);
	arm_validity(c);
	opened(c);
	return 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *conn = s->data;
	const char *data = buf->base;
	size_t len = n > 0 ? (size_t)n : 0, used = 0;
	int rc;

	if (!conn->c)
		return;
	if (n < 0) {
		struct ws_client *c = conn->c;
		tcp_release(c, 0);
		lost(c, conn->open ? "connection closed" :
		     n == UV_EOF ? "HS: connection closed before the response" : uv_strerror((int)n));
		return;
	}
	if (conn->hs) {
		if (handshake_read(conn, data, len, &used))
			return;
		if (!conn->c)
			return;   /* on_open let go */
		data += used;
		len -= used;
	}
	rc = wsp_decode(&conn->dec, (const uint8_t *)data, len);
	if (rc > 0) {
		if (rc == WSP_CLOSE_TOO_BIG)
			log_warn("websocket: frame larger than %zu bytes; closing", conn->c->max_frame);
		else
			log_warn("websocket: protocol error from the peer; closing with %d", rc);
		conn_fail(conn, (unsigned)rc, rc == WSP_CLOSE_TOO_BIG ? "frame too large" : NULL);
	} else if (rc == -ENOMEM) {
		conn_fail(conn, 1011, NULL);
	}
}

static void tcp_connect_to(struct ws_client *c, struct addrinfo *ai);

/* The request, as libwebsockets would send it (and with Basic Auth). */
static struct write_req *build_request(struct ws_client *c, struct conn *conn, size_t *len)
{
	struct wsp_request r = { c->host_header, c->path, c->origin, c->subprotocol, c->auth_header };
	size_t size = 512 + strlen(c->host_header) + strlen(c->path) + strlen(c->origin) +
		      strlen(c->subprotocol) + (c->auth_header ? strlen(c->auth_header) : 0);
	struct write_req *w = malloc(sizeof *w + size);
	uint8_t nonce[16];
	int n;

	if (!w)
		return NULL;
	random_bytes(c->net, nonce, sizeof nonce);
	n = wsp_build_request((char *)w->data, size, &r, nonce, conn->key);
	if (n < 0) {
		free(w);
		return NULL;
	}
	*len = (size_t)n;
	return w;
}

static void on_connect(uv_connect_t *req, int status)
{
	struct conn *conn = req->handle->data;
	struct ws_client *c = conn->c;
	struct write_req *w;
	size_t len;

	free(req);
	if (!c)
		return;
	if (status < 0) {
		struct addrinfo *next = conn->ai->ai_next;
		log_debug("websocket: connecting to %s: %s", c->host_header, uv_strerror(status));
		conn_detach(conn, 0);
		if (next) {
			tcp_connect_to(c, next);
			return;
		}
		tcp_release(c, 0);
		lost(c, uv_strerror(status));
		return;
	}
	uv_tcp_nodelay(&conn->tcp, 1);
	uv_tcp_keepalive(&conn->tcp, 1, TCP_KEEPALIVE_S);
	if (!(conn->hs = malloc(WSP_MAX_RESPONSE)) || !(w = build_request(c, conn, &len)) ||
	    conn_write(conn, w, len) ||
	    uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read)) {
		tcp_release(c, 0);
		lost(c, "cannot send the handshake");
	}
}

static void tcp_connect_to(struct ws_client *c, struct addrinfo *ai)
{
	struct conn *conn = calloc(1, sizeof *conn);
	uv_connect_t *req = malloc(sizeof *req);
	int rc = -ENOMEM;

	if (!conn || !req)
		goto fail;
	if ((rc = uv_tcp_init(c->net->loop, &conn->tcp)))
		goto fail;
	conn->tcp.data = conn;
	conn->net = c->net;
	conn->c = c;
	conn->ai = ai;
	wsp_decoder_init(&conn->dec, c->max_frame, &decoder_ops, conn);
	conn->next = c->net->conns;
	c->net->conns = conn;
	c->conn = conn;
	if ((rc = uv_tcp_connect(req, &conn->tcp, ai->ai_addr, on_connect))) {
		free(req);
		tcp_release(c, 0);
		lost(c, uv_strerror(rc));
	}
	return;
fail:
	free(conn);
	free(req);
	tcp_release(c, 0);
	lost(c, rc == -ENOMEM ? "out of memory" : uv_strerror(rc));
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct resolve *r = (struct resolve *)req;
	struct ws_client *c = r->c;

	free(r);
	if (!c) {
		uv_freeaddrinfo(res);
		return;
	}
	c->resolving = NULL;
	if (status < 0 || !res) {
		uv_freeaddrinfo(res);
		tcp_release(c, 0);
		lost(c, status < 0 ? uv_strerror(status) : "no address");
		return;
	}
	c->addrs = res;
	tcp_connect_to(c, res);
}

static void tcp_connect(struct ws_client *c)
{
	struct addrinfo hints = { 0 };
	char port[8];
	struct resolve *r = calloc(1, sizeof *r);
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%d", c->port);
	uv_timer_start(c->conn_timer, validity_timer, CONNECT_TIMEOUT_S * 1000, 0);
	if (!r) {
		lost(c, "out of memory");
		return;
	}
	r->c = c;
	c->resolving = r;
	rc = uv_getaddrinfo(c->net->loop, &r->req, on_resolved, c->address, port, &hints);
	if (rc) {
		free(r);
		c->resolving = NULL;
		tcp_release(c, 0);
		lost(c, uv_strerror(rc));
	}
}

/* ---------------------------------------------------------------- wss:// */

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		    void *in, size_t len);

static const struct lws_protocols protocols[] = {
	{ "ocpp", callback, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Opens libwebsockets and finds its functions; 0 or -ENOSYS. */
static int load_lws(char *err, size_t errlen)
{
	void *lib;

	if (L.lib)
		return 0;
	if (!(lib = dlopen(LWS_LIBRARY, RTLD_NOW | RTLD_LOCAL))) {
		snprintf(err, errlen, "cannot load %s: %s", LWS_LIBRARY, dlerror());
		return -ENOSYS;
	}
	for (size_t i = 0; i < sizeof lws_symbols / sizeof *lws_symbols; i++) {
		void *sym = dlsym(lib, lws_symbols[i].name);
		if (!sym) {
			snprintf(err, errlen, "%s has no %s", LWS_LIBRARY, lws_symbols[i].name);
			dlclose(lib);
			return -ENOSYS;
		}
		/* (POSIX: a data pointer from dlsym holds a function's address.) */
		memcpy((char *)&L + lws_symbols[i].offset, &sym, sizeof sym);
	}
	L.lib = lib;
	return 0;
}

static void lws_log_to_ours(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		n--;
	if (level & LLL_ERR)
		log_warn("websocket: %.*s", (int)n, line);
	else
		log_debug("websocket: %.*s", (int)n, line);
}

/* The libwebsockets context, at the first wss:// client. */
static int ensure_context(struct ws_net *net, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	void *loops[1] = { net->loop };

	if (net->ctx)
		return 0;
	if (load_lws(err, errlen))
		return -ENOSYS;
	L.set_log_level(LLL_ERR | LLL_WARN | (ev_log_get_level() >= EV_LOG_DEBUG ? LLL_NOTICE : 0),
			lws_log_to_ours);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	/* TLS is set up per vhost, for the TLS setups in use. */
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.foreign_loops = loops;
	/* lws sizes (and zeroes) its fd tables by the process's fd limit:
	 * 320 KiB with a limit of 20,000. Room for the connections, a socket
	 * and a file for each transfer, and what else the process holds. */
	if (net->connections)
		info.fd_limit_per_thread = 2 * net->connections + 64;
	info.pcontext = &net->ctx;   /* lws clears it when the context is gone */
	net->ctx = L.create_context(&info);
	if (!net->ctx) {
		snprintf(err, errlen, "cannot create the libwebsockets context");
		return -ENOMEM;
	}
	return 0;
}

static struct lws_vhost *get_vhost(struct ws_net *net, const struct ws_client_config *cfg, int tls)
{
	struct lws_context_creation_info info;
	char key[4096], name[32];
	struct vhost *v;

	snprintf(key, sizeof key, "%d\n%s\n%s\n%s", tls, cfg->ca_file ? cfg->ca_file : "",
		 cfg->cert_file ? cfg->cert_file : "", cfg->key_file ? cfg->key_file : "");
	for (v = net->vhosts; v; v = v->next)
		if (strcmp(v->key, key) == 0)
			return v->vh;
	v = calloc(1, sizeof *v);
	if (!v || !(v->key = strdup(key))) {
		free(v);
		return NULL;
	}
	snprintf(name, sizeof name, "client-%u", net->vhost_count++);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.vhost_name = name;
	if (tls) {
		info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.client_ssl_ca_filepath = cfg->ca_file;
		info.client_ssl_cert_filepath = cfg->cert_file;
		info.client_ssl_private_key_filepath = cfg->key_file;
	}
	v->vh = L.create_vhost(net->ctx, &info);
	if (!v->vh) {
		free(v->key);
		free(v);
		return NULL;
	}
	v->next = net->vhosts;
	net->vhosts = v;
	return v->vh;
}

static void lws_connect(struct ws_client *c)
{
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof ci);
	ci.context = c->net->ctx;
	ci.vhost = c->vh;
	ci.address = c->address;
	ci.port = c->port;
	ci.path = c->path;
	ci.host = c->host_header;
	ci.origin = c->address;
	ci.protocol = c->subprotocol;
	ci.local_protocol_name = "ocpp";
	ci.ssl_connection = LCCSCF_USE_SSL;
	ci.opaque_user_data = c;
	ci.retry_and_idle_policy = &c->idle_policy;
	ci.pwsi = &c->wsi;
	if (!L.client_connect_via_info(&ci)) {
		c->wsi = NULL;
		c->state = WS_WAITING;
		uv_timer_start(c->timer, retry_timer, c->backoff_min, 0);
	}
}

static int receive(struct ws_client *c, struct lws *wsi, const char *in, size_t len)
{
	if (L.is_first_fragment(wsi))
		rxbuf_reset(&c->rx);
	if (rxbuf_append(&c->rx, in, len, c->max_frame))
		return -1;
	if (!L.is_final_fragment(wsi) || L.remaining_packet_payload(wsi))
		return 0;
	/* Read to the end of the message, then drop the connection: a peer
	 * that sends oversized frames is broken. */
	if (c->rx.oversized) {
		log_warn("websocket: frame larger than %zu bytes; closing", c->max_frame);
		L.close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
			       (unsigned char *)"frame too large", 15);
		return -1;
	}
	if (L.frame_is_binary(wsi)) {
		log_warn("websocket: ignoring a binary frame (OCPP-J is text)");
		return 0;
	}
	c->ops->on_message(c->ctx, c->rx.data, c->rx.len);
	return 0;
}

static int write_one(struct ws_client *c, struct lws *wsi)
{
	struct txq_frame *f = c->tx.head;

	/* A drop closes after what was queued before it has gone out. */
	if (!f && c->drop_reason) {
		L.close_reason(wsi, LWS_CLOSE_STATUS_NORMAL,
			       (unsigned char *)c->drop_reason, strlen(c->drop_reason));
		return -1;
	}
	if (!f)
		return 0;
	if (L.write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len)
		return -1;
	txq_pop(&c->tx);
	if (c->tx.head || c->drop_reason)
		L.callback_on_writable(wsi);
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		    void *in, size_t len)
{
	struct ws_client *c = L.get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (c && c->auth_header) {
			unsigned char **p = in, *end = *p + len;
			if (L.add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
						       (unsigned char *)c->auth_header,
						       (int)strlen(c->auth_header), p, end))
				return -1;
		}
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!c)
			return -1;
		c->wsi = wsi;
		opened(c);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return c ? receive(c, wsi, in, len) : -1;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return c ? write_one(c, wsi) : -1;
	/* The connection is over for us: forget it, so that a client freed
	 * before libwebsockets destroys it is never looked at again. */
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c) {
			L.set_opaque_user_data(wsi, NULL);
			lost(c, in && len ? (const char *)in : "connection failed");
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c) {
			L.set_opaque_user_data(wsi, NULL);
			lost(c, "connection closed");
		}
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (c && c->wsi == wsi)
			lost(c, "connection closed");
		return 0;
	default:
		return 0;
	}
}

/* ---------------------------------------------------------------- API */

/* lws pings after this much silence and hangs up if nothing comes back
 * (its fields are 16-bit seconds); 0 disables pinging: the nearest lws
 * has is a ping after 18 hours. Our own transport follows the same
 * rule, without the 16 bits. */
static void set_idle_policy(struct ws_client *c, unsigned ping)
{
	c->ping_s = ping;
	if (ping > 30000)
		ping = 30000;
	c->idle_policy.secs_since_valid_ping = ping ? (uint16_t)ping : 0xfffe;
	c->idle_policy.secs_since_valid_hangup = ping ? (uint16_t)(2 * ping + 10) : 0xffff;
}

struct ws_client *ws_client_new(struct ws_net *net, const struct ws_client_config *cfg,
				const struct ws_client_ops *ops, void *ctx,
				char *err, size_t errlen)
{
	struct ws_client *c = calloc(1, sizeof *c);

	if (!c || !(c->timer = ev_timer_new(net->loop, c))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->net = net;
	c->ops = ops;
	c->ctx = ctx;
	c->state = WS_WAITING;
	c->max_frame = cfg->max_frame ? cfg->max_frame : DEFAULT_MAX_FRAME;
	set_backoff(c, cfg->backoff_min_ms, cfg->backoff_max_ms);
	c->jitter = cfg->jitter_ms ? cfg->jitter_ms : 1000;
	set_idle_policy(c, cfg->ping_interval_s);
	c->subprotocol = strdup(cfg->subprotocol ? cfg->subprotocol : "ocpp1.6");
	c->url = strdup(cfg->url ? cfg->url : "");
	c->next = net->clients;
	net->clients = c;
	if (!c->subprotocol || !c->url || set_target(c, cfg, err, errlen) ||
	    set_auth(c, cfg)) {
		if (!*err)
			snprintf(err, errlen, "out of memory");
		ws_client_free(c);
		return NULL;
	}
	if (!c->tls) {
		if (!(c->conn_timer = ev_timer_new(net->loop, c))) {
			snprintf(err, errlen, "out of memory");
			ws_client_free(c);
			return NULL;
		}
	} else if (ensure_context(net, err, errlen)) {
		ws_client_free(c);
		return NULL;
	} else if (!(c->vh = get_vhost(net, cfg, c->tls))) {
		snprintf(err, errlen, "cannot set up TLS (CA '%s', certificate '%s', key '%s')",
			 cfg->ca_file ? cfg->ca_file : "-", cfg->cert_file ? cfg->cert_file : "-",
			 cfg->key_file ? cfg->key_file : "-");
		ws_client_free(c);
		return NULL;
	}
	connect_now(c);
	return c;
}

void ws_client_free(struct ws_client *c)
{
	struct ws_client **pp;

	if (!c)
		return;
	for (pp = &c->net->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	client_release(c);
}

int ws_client_is_open(const struct ws_client *c)
{
	return c->state == WS_OPEN;
}

int ws_client_send(struct ws_client *c, const char *text, size_t len)
{
	/* (Frames queued while a drop is pending still go out before it.) */
	if (c->state != WS_OPEN)
		return -ENOTCONN;
	if (!c->tls) {
		/* Once our close is out nothing follows it, as with lws. */
		if (c->conn->close_sent)
			return 0;
		return conn_send(c->conn, WSP_OP_TEXT, text, len) == -ENOMEM ? -ENOMEM : 0;
	}
	if (txq_push(&c->tx, text, len))
		return -ENOMEM;
	L.callback_on_writable(c->wsi);
	return 0;
}

void ws_client_drop(struct ws_client *c, const char *why)
{
	if (!c->tls) {
		if (c->state == WS_OPEN && !c->conn->close_sent && !c->drop_reason) {
			/* The close follows the frames queued until the next
			 * turn of the loop; the peer answers it, or we hang up
			 * after a while. */
			c->drop_reason = why;
			uv_timer_start(c->conn_timer, validity_timer, 0, 0);
		} else if (c->state == WS_CONNECTING) {
			tcp_release(c, 0);
			lost(c, why);
		}
		return;
	}
	if (c->state == WS_OPEN && c->wsi) {
		c->drop_reason = why;
		L.callback_on_writable(c->wsi);
	} else if (c->state == WS_CONNECTING && c->wsi) {
		L.set_opaque_user_data(c->wsi, NULL);
		L.set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		lost(c, why);
	}
}

void ws_client_set_ping_interval(struct ws_client *c, unsigned seconds)
{
	set_idle_policy(c, seconds);
	if (!c->tls) {
		if (c->state == WS_OPEN)
			arm_validity(c);
		return;
	}
	/* The connection reads the policy through our pointer; restarting
	 * its validity timer makes the new interval count from now. Outside
	 * its own callbacks lws does not re-arm its loop timer for that: wake
	 * it so that it does. */
	if (c->state == WS_OPEN && c->wsi) {
		L.validity_confirmed(c->wsi);
		L.cancel_service(c->net->ctx);
	}
}

void ws_client_set_backoff(struct ws_client *c, unsigned min_ms, unsigned max_ms)
{
	set_backoff(c, min_ms, max_ms);
}

void ws_client_connect_now(struct ws_client *c)
{
	if (c->state == WS_WAITING) {
		uv_timer_stop(c->timer);
		connect_now(c);
	}
}
