#include "config.h"
#include "net/wsserver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libwebsockets.h>

#include "net/rxbuf.h"
#include "net/txqueue.h"
#include "util/log.h"

#define DEFAULT_MAX_FRAME (1024 * 1024)
#define DEFAULT_MAX_QUEUE (4 * 1024 * 1024)
#define MAX_SUBPROTOCOLS 4

struct ws_server {
	uv_loop_t *loop;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	const struct ws_server_ops *ops;
	void *ctx_arg;
	char *prefix;
	size_t max_frame, max_queue;
	lws_retry_bo_t idle_policy;
	struct lws_protocols protocols[MAX_SUBPROTOCOLS + 2];
	char *names[MAX_SUBPROTOCOLS];
	struct ws_conn *conns;       /* open connections */
};

struct ws_conn {
	struct ws_conn *next, **pprev;
	struct ws_server *srv;
	struct lws *wsi;
	void *ctx;                   /* the owner's, from on_open */
	int open;                    /* on_open was called */
	char peer[64];
	char *station_id, *user, *password, *cert_cn;
	struct rxbuf rx;
	struct txqueue tx;
	const char *close_reason;    /* set: close once the queue is written */
};

/* What lws keeps per connection for us: the conn, once admitted. */
struct pss {
	struct ws_conn *conn;
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		    void *in, size_t len);

static void lws_log_to_ours(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		n--;
	if (level & LLL_ERR)
		log_warn("websocket server: %.*s", (int)n, line);
	else
		log_debug("websocket server: %.*s", (int)n, line);
}

static void conn_free(struct ws_conn *c)
{
	if (c->pprev) {
		*c->pprev = c->next;
		if (c->next)
			c->next->pprev = c->pprev;
	}
	txq_clear(&c->tx);
	rxbuf_free(&c->rx);
	free(c->station_id);
	free(c->user);
	free(c->password);
	free(c->cert_cn);
	free(c);
}

struct ws_server *ws_server_new(uv_loop_t *loop, const struct ws_server_config *cfg,
				const struct ws_server_ops *ops, void *ctx,
				char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct ws_server *s = calloc(1, sizeof *s);
	void *loops[1] = { loop };
	int tls = cfg->cert_file && cfg->key_file;
	size_t n = 0;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = loop;
	s->ops = ops;
	s->ctx_arg = ctx;
	s->max_frame = cfg->max_frame ? cfg->max_frame : DEFAULT_MAX_FRAME;
	s->max_queue = cfg->max_queue ? cfg->max_queue : DEFAULT_MAX_QUEUE;
	s->prefix = strdup(cfg->path_prefix ? cfg->path_prefix : "");
	if (!s->prefix)
		goto nomem;
	/* Protocol 0 gets plain HTTP requests and handshakes that offer none
	 * of ours; the others are the OCPP subprotocols by name. */
	s->protocols[0] = (struct lws_protocols){ "http", callback, sizeof(struct pss), 0, 0, NULL, 0 };
	for (const char *const *p = cfg->subprotocols; p && *p && n < MAX_SUBPROTOCOLS; p++, n++) {
		if (!(s->names[n] = strdup(*p)))
			goto nomem;
		/* A small receive buffer: idle connections are most of them,
		 * and frames are reassembled in our own buffer anyway. */
		s->protocols[n + 1] = (struct lws_protocols){ s->names[n], callback, sizeof(struct pss),
							      512, 0, NULL, 0 };
	}
	lws_set_log_level(LLL_ERR | LLL_WARN | (ev_log_get_level() >= EV_LOG_DEBUG ? LLL_NOTICE : 0),
			  lws_log_to_ours);

	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		       (tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
	info.foreign_loops = loops;
	info.pcontext = &s->ctx;
	s->ctx = lws_create_context(&info);
	if (!s->ctx) {
		snprintf(err, errlen, "cannot create the websocket context");
		goto fail;
	}

	memset(&info, 0, sizeof info);
	info.vhost_name = "ocpp";
	info.port = cfg->port;
	info.iface = cfg->address ? cfg->address : "127.0.0.1";
	info.protocols = s->protocols;
	info.user = s;
	/* lws pings after this much silence and hangs up when nothing comes
	 * back; without pings, a dead station is noticed by TCP alone. */
	s->idle_policy.secs_since_valid_ping = cfg->ping_interval_s ? (uint16_t)cfg->ping_interval_s : 0xffff;
	s->idle_policy.secs_since_valid_hangup = cfg->ping_interval_s ?
		(uint16_t)(2 * cfg->ping_interval_s + 10) : 0xffff;
	info.retry_and_idle_policy = &s->idle_policy;
	if (tls) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cfg->cert_file;
		info.ssl_private_key_filepath = cfg->key_file;
		if (cfg->ca_file) {
			info.ssl_ca_filepath = cfg->ca_file;
			info.options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT;
		}
	}
	s->vh = lws_create_vhost(s->ctx, &info);
	if (!s->vh) {
		snprintf(err, errlen, "cannot listen on %s:%d%s", info.iface, cfg->port,
			 tls ? " with the certificate and key given" : "");
		goto fail;
	}
	return s;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	ws_server_close(s);
	ws_server_free(s);
	return NULL;
}

int ws_server_port(const struct ws_server *s)
{
	return lws_get_vhost_listen_port(s->vh);
}

void ws_server_close(struct ws_server *s)
{
	if (!s)
		return;
	/* Orphan every connection: the owner hears nothing more. */
	while (s->conns) {
		struct ws_conn *c = s->conns;
		if (c->wsi)
			lws_set_opaque_user_data(c->wsi, NULL);
		conn_free(c);
	}
	if (s->ctx)
		lws_context_destroy(s->ctx);
}

void ws_server_free(struct ws_server *s)
{
	if (!s)
		return;
	ws_server_close(s);
	if (s->ctx)
		lws_context_destroy(s->ctx);
	for (size_t i = 0; i < MAX_SUBPROTOCOLS; i++)
		free(s->names[i]);
	free(s->prefix);
	free(s);
}

const char *ws_conn_peer(const struct ws_conn *c)
{
	return c->peer;
}

void ws_conn_set_ctx(struct ws_conn *c, void *ctx)
{
	c->ctx = ctx;
}

/* A message written at once, when nothing is queued before it and the
 * socket takes more: asking libwebsockets for a writable callback instead
 * costs two epoll_ctl calls and a loop turn per message. What the kernel
 * does not take, libwebsockets keeps and sends itself. */
#define DIRECT_MAX 4096

static int send_now(struct ws_conn *c, const char *text, size_t len)
{
	unsigned char buf[LWS_PRE + DIRECT_MAX];

	memcpy(buf + LWS_PRE, text, len);
	if (lws_write(c->wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len) {
		ws_conn_close(c, "write failed");
		return -EIO;
	}
	return 0;
}

int ws_conn_send(struct ws_conn *c, const char *text, size_t len)
{
	if (!c->wsi || c->close_reason)
		return -ENOTCONN;
	if (c->tx.bytes + len > c->srv->max_queue) {
		log_warn("station %s: not reading (%zu bytes queued); dropping it",
			 c->station_id, c->tx.bytes);
		txq_clear(&c->tx);
		ws_conn_close(c, "not reading");
		return -ENOBUFS;
	}
	if (!c->tx.head && len <= DIRECT_MAX && !lws_send_pipe_choked(c->wsi))
		return send_now(c, text, len);
	if (txq_push(&c->tx, text, len))
		return -ENOMEM;
	lws_callback_on_writable(c->wsi);
	return 0;
}

void ws_conn_close(struct ws_conn *c, const char *why)
{
	if (!c->wsi || c->close_reason)
		return;
	c->close_reason = why;
	lws_callback_on_writable(c->wsi);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
		return (ch | 0x20) - 'a' + 10;
	return -1;
}

/* "%41" and the like in the station id; lws leaves the path encoded. */
static char *url_decode(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static char *header(struct lws *wsi, enum lws_token_indexes token)
{
	int n = lws_hdr_total_length(wsi, token);
	char *v;

	if (n <= 0)
		return NULL;
	v = malloc((size_t)n + 1);
	if (v && lws_hdr_copy(wsi, v, n + 1, token) < 0) {
		free(v);
		return NULL;
	}
	return v;
}

/* Basic Auth "user:password" into the conn. */
static void read_basic_auth(struct ws_conn *c, struct lws *wsi)
{
	char *h = header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION), plain[512], *colon;
	int n;

	if (!h)
		return;
	if (strncasecmp(h, "Basic ", 6) == 0) {
		n = lws_b64_decode_string(h + 6, plain, sizeof plain - 1);
		if (n > 0) {
			plain[n] = '\0';
			/* Refuse what cannot be compared as text. */
			colon = strlen(plain) == (size_t)n ? strchr(plain, ':') : NULL;
			if (colon) {
				*colon = '\0';
				c->user = strdup(plain);
				c->password = strdup(colon + 1);
			}
		}
		explicit_bzero(plain, sizeof plain);
	}
	free(h);
}

static void read_client_cert(struct ws_conn *c, struct lws *wsi)
{
	union {
		union lws_tls_cert_info_results r;
		char space[sizeof(union lws_tls_cert_info_results) + 256];
	} u;

	if (!lws_is_ssl(wsi))
		return;
	memset(&u, 0, sizeof u);
	if (lws_tls_peer_cert_info(wsi, LWS_TLS_CERT_INFO_COMMON_NAME, &u.r,
				   sizeof u.space - sizeof u.r + sizeof u.r.ns.name) == 0)
		c->cert_cn = strndup(u.r.ns.name, (size_t)u.r.ns.len);
}

/* The handshake: station id from the path, credentials, owner's verdict.
 * Returns 0 to go on, or an HTTP status to refuse with. */
static int admit(struct ws_server *s, struct lws *wsi, struct pss *pss)
{
	const struct lws_protocols *proto = lws_get_protocol(wsi);
	char *uri = header(wsi, WSI_TOKEN_GET_URI), *offered;
	size_t plen = strlen(s->prefix);
	struct ws_admission a;
	struct ws_conn *c;
	const char *id;
	int status;

	offered = header(wsi, WSI_TOKEN_PROTOCOL);
	if (!proto || proto == &s->protocols[0] || !offered) {
		log_info("websocket server: refusing a handshake without an OCPP subprotocol (offered: %s)",
			 offered ? offered : "none");
		free(uri);
		free(offered);
		return HTTP_STATUS_BAD_REQUEST;
	}
	free(offered);
	if (!uri || strncmp(uri, s->prefix, plen) != 0 || uri[plen] != '/' ||
	    !uri[plen + 1] || strchr(uri + plen + 1, '/')) {
		free(uri);
		return HTTP_STATUS_NOT_FOUND;
	}
	id = uri + plen + 1;
	c = calloc(1, sizeof *c);
	if (!c || !(c->station_id = url_decode(id))) {
		free(c);
		free(uri);
		return HTTP_STATUS_INTERNAL_SERVER_ERROR;
	}
	free(uri);
	c->srv = s;
	lws_get_peer_simple(wsi, c->peer, sizeof c->peer);
	/* An IPv4 peer on a dual-stack socket: show it as IPv4. */
	if (strncmp(c->peer, "::ffff:", 7) == 0 && strchr(c->peer + 7, '.'))
		memmove(c->peer, c->peer + 7, strlen(c->peer + 7) + 1);
	read_basic_auth(c, wsi);
	read_client_cert(c, wsi);
	a = (struct ws_admission){ c->station_id, proto->name, c->user, c->password,
				   c->cert_cn, c->peer };
	status = s->ops->admit(s->ctx_arg, &a);
	if (c->password)
		explicit_bzero(c->password, strlen(c->password));
	if (status) {
		conn_free(c);
		return status;
	}
	c->wsi = wsi;
	pss->conn = c;
	return 0;
}

static int receive(struct ws_conn *c, struct lws *wsi, const char *in, size_t len)
{
	if (lws_is_first_fragment(wsi))
		rxbuf_reset(&c->rx);
	if (rxbuf_append(&c->rx, in, len, c->srv->max_frame))
		return -1;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	if (c->rx.oversized) {
		log_warn("station %s: frame larger than %zu bytes; closing", c->station_id,
			 c->srv->max_frame);
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
				 (unsigned char *)"frame too large", 15);
		return -1;
	}
	if (lws_frame_is_binary(wsi)) {
		log_warn("station %s: ignoring a binary frame (OCPP-J is text)", c->station_id);
		return 0;
	}
	c->srv->ops->on_message(c->ctx, c->rx.data, c->rx.len);
	/* Keep big buffers from lingering on idle connections. */
	rxbuf_trim(&c->rx, 65536);
	return 0;
}

static int write_one(struct ws_conn *c, struct lws *wsi)
{
	struct txq_frame *f = c->tx.head;

	if (!f && c->close_reason) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)c->close_reason,
				 strlen(c->close_reason));
		return -1;
	}
	if (!f)
		return 0;
	if (lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len)
		return -1;
	txq_pop(&c->tx);
	if (c->tx.head || c->close_reason)
		lws_callback_on_writable(wsi);
	return 0;
}

static void closed(struct ws_conn *c, const char *why)
{
	struct ws_server *s = c->srv;
	void *ctx = c->ctx;
	int was_open = c->open;

	c->wsi = NULL;
	conn_free(c);
	if (was_open)
		s->ops->on_close(ctx, why);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		    void *in, size_t len)
{
	struct pss *pss = user;
	struct ws_server *s = lws_get_vhost_user(lws_get_vhost(wsi));
	struct ws_conn *c = lws_get_opaque_user_data(wsi);
	int status;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		/* Not a WebSocket handshake. */
		lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND,
				       "OCPP-J: connect with WebSocket to <prefix>/<station id>");
		return -1;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (!s || !pss)
			return -1;
		status = admit(s, wsi, pss);
		if (status) {
			lws_return_http_status(wsi, (unsigned)status, NULL);
			return -1;
		}
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		if (!s || !pss || !pss->conn)
			return -1;
		/* From here the connection list owns it (ws_server_close
		 * frees it), reached through the wsi's opaque pointer. */
		c = pss->conn;
		pss->conn = NULL;
		lws_set_opaque_user_data(wsi, c);
		c->next = s->conns;
		if (s->conns)
			s->conns->pprev = &c->next;
		s->conns = c;
		c->pprev = &s->conns;
		c->open = 1;
		c->ctx = s->ops->on_open(s->ctx_arg, c, &(struct ws_admission){
			c->station_id, lws_get_protocol(wsi)->name, c->user, NULL, c->cert_cn, c->peer });
		return 0;
	case LWS_CALLBACK_RECEIVE:
		return c ? receive(c, wsi, in, len) : -1;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c ? write_one(c, wsi) : -1;
	case LWS_CALLBACK_CLOSED:
		if (c) {
			lws_set_opaque_user_data(wsi, NULL);
			if (pss)
				pss->conn = NULL;
			closed(c, c->close_reason ? c->close_reason : "connection closed");
		}
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		/* Admitted but never established, or closed without CLOSED. */
		if (c) {
			lws_set_opaque_user_data(wsi, NULL);
			closed(c, "connection lost");
		} else if (pss && pss->conn) {
			conn_free(pss->conn);
		}
		if (pss)
			pss->conn = NULL;
		return 0;
	default:
		return 0;
	}
}
