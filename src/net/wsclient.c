#include "config.h"
#include "net/wsclient.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libwebsockets.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include "util/log.h"
#include "util/uvtimer.h"

#define DEFAULT_MAX_FRAME (1024 * 1024)

/* Client vhosts, one per distinct TLS setup. */
struct vhost {
	struct vhost *next;
	char *key;                 /* ca \n cert \n key */
	struct lws_vhost *vh;
};

struct ws_net {
	uv_loop_t *loop;
	struct lws_context *ctx;
	struct vhost *vhosts;
	struct ws_client *clients;
	unsigned vhost_count;
	uint64_t rng;
};

/* One queued frame, with the headroom lws_write needs in front. */
struct frame {
	struct frame *next;
	size_t len;
	unsigned char buf[];       /* LWS_PRE + len */
};

enum state { WS_WAITING, WS_CONNECTING, WS_OPEN };

struct ws_client {
	struct ws_client *next;    /* in net->clients */
	struct ws_net *net;
	const struct ws_client_ops *ops;
	void *ctx;
	enum state state;
	struct lws *wsi;
	struct lws_vhost *vh;
	uv_timer_t *timer;         /* retry timer; freed by libuv's close callback */
	lws_retry_bo_t idle_policy;
	/* connection target */
	char *url, *address, *path, *host_header, *subprotocol, *auth_header;
	int port, tls;
	size_t max_frame;
	unsigned backoff_min, backoff_max, jitter, attempts;
	/* inbound reassembly and outbound queue */
	char *rx;
	size_t rx_len, rx_cap;
	int rx_oversized;
	struct frame *tx_head, *tx_tail;
	const char *drop_reason;   /* set: close at the next writable */
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		    void *in, size_t len);

static const struct lws_protocols protocols[] = {
	{ "ocpp", callback, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static uint64_t next_random(struct ws_net *net)
{
	uint64_t z = (net->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
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

struct ws_net *ws_net_new(uv_loop_t *loop)
{
	return ws_net_new_sized(loop, 0);
}

struct ws_net *ws_net_new_sized(uv_loop_t *loop, unsigned connections)
{
	struct lws_context_creation_info info;
	struct ws_net *net = calloc(1, sizeof *net);
	void *loops[1] = { loop };

	if (!net)
		return NULL;
	net->loop = loop;
#ifdef HAVE_GETRANDOM
	if (getrandom(&net->rng, sizeof net->rng, 0) != (ssize_t)sizeof net->rng)
#endif
		net->rng = (uint64_t)uv_hrtime() ^ (uint64_t)(uintptr_t)net;
	lws_set_log_level(LLL_ERR | LLL_WARN | (ev_log_get_level() >= EV_LOG_DEBUG ? LLL_NOTICE : 0),
			  lws_log_to_ours);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	/* TLS is set up per vhost, only for wss:// stations: initialising
	 * OpenSSL costs a plain ws:// station half its memory. */
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.foreign_loops = loops;
	/* lws sizes (and zeroes) its fd tables by the process's fd limit:
	 * 320 KiB with a limit of 20,000. Room for the connections, a socket
	 * and a file for each transfer, and what else the process holds. */
	if (connections)
		info.fd_limit_per_thread = 2 * connections + 64;
	info.pcontext = &net->ctx;   /* lws clears it when the context is gone */
	net->ctx = lws_create_context(&info);
	if (!net->ctx) {
		free(net);
		return NULL;
	}
	return net;
}

static void free_frames(struct ws_client *c)
{
	while (c->tx_head) {
		struct frame *f = c->tx_head;
		c->tx_head = f->next;
		free(f);
	}
	c->tx_tail = NULL;
}

static void client_release(struct ws_client *c)
{
	if (c->wsi) {
		/* Orphan the connection: lws closes it, we hear no more. */
		lws_set_opaque_user_data(c->wsi, NULL);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	ev_timer_free(c->timer);
	free_frames(c);
	free(c->rx);
	free(c->url);
	free(c->address);
	free(c->path);
	free(c->host_header);
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
	if (net->ctx)
		lws_context_destroy(net->ctx);
}

void ws_net_free(struct ws_net *net)
{
	if (!net)
		return;
	ws_net_close(net);
	/* Completes a destruction the loop has finished running. */
	if (net->ctx)
		lws_context_destroy(net->ctx);
	while (net->vhosts) {
		struct vhost *v = net->vhosts;
		net->vhosts = v->next;
		free(v->key);
		free(v);
	}
	free(net);
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
	v->vh = lws_create_vhost(net->ctx, &info);
	if (!v->vh) {
		free(v->key);
		free(v);
		return NULL;
	}
	v->next = net->vhosts;
	net->vhosts = v;
	return v->vh;
}

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
	if (lws_parse_uri(copy, &prot, &ads, &port, &p) || !*ads) {
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
	snprintf(host, sizeof host, "%s:%d", ads, port);
	c->port = port;
	c->address = strdup(ads);
	c->path = strdup(path);
	c->host_header = strdup(host);
	return c->address && c->path && c->host_header ? 0 : -1;
}

static int set_auth(struct ws_client *c, const struct ws_client_config *cfg)
{
	return ws_client_set_password(c, cfg->station_id, cfg->password);
}

int ws_client_set_password(struct ws_client *c, const char *station_id, const char *password)
{
	char plain[512], b64[700];
	int n;

	free(c->auth_header);
	c->auth_header = NULL;
	if (!password)
		return 0;
	snprintf(plain, sizeof plain, "%s:%s", station_id, password);
	n = lws_b64_encode_string(plain, (int)strlen(plain), b64, sizeof b64);
	if (n < 0)
		return -1;
	if (asprintf(&c->auth_header, "Basic %s", b64) < 0) {
		c->auth_header = NULL;
		return -1;
	}
	return 0;
}

static void retry_timer(uv_timer_t *t);

static void connect_now(struct ws_client *c)
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
	ci.ssl_connection = c->tls ? LCCSCF_USE_SSL : 0;
	ci.opaque_user_data = c;
	ci.retry_and_idle_policy = &c->idle_policy;
	ci.pwsi = &c->wsi;
	c->state = WS_CONNECTING;
	log_debug("websocket: connecting to %s://%s%s", c->tls ? "wss" : "ws", c->host_header, c->path);
	if (!lws_client_connect_via_info(&ci)) {
		c->wsi = NULL;
		c->state = WS_WAITING;
		uv_timer_start(c->timer, retry_timer, c->backoff_min, 0);
	}
}

static void retry_timer(uv_timer_t *t)
{
	connect_now(t->data);
}

/* The connection is gone: schedule the next attempt, report once. */
static void lost(struct ws_client *c, const char *why)
{
	unsigned delay;

	if (c->state == WS_WAITING)
		return;
	c->state = WS_WAITING;
	c->wsi = NULL;
	c->rx_len = 0;
	c->rx_oversized = 0;
	c->drop_reason = NULL;
	free_frames(c);
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

/* lws pings after this much silence and hangs up if nothing comes back
 * (its fields are 16-bit seconds); 0 disables pinging: the nearest lws
 * has is a ping after 18 hours. */
static void set_idle_policy(struct ws_client *c, unsigned ping)
{
	if (ping > 30000)
		ping = 30000;
	c->idle_policy.secs_since_valid_ping = ping ? (uint16_t)ping : 0xfffe;
	c->idle_policy.secs_since_valid_hangup = ping ? (uint16_t)(2 * ping + 10) : 0xffff;
}

static void set_backoff(struct ws_client *c, unsigned min_ms, unsigned max_ms)
{
	c->backoff_min = min_ms ? min_ms : 1000;
	c->backoff_max = max_ms ? max_ms : 60000;
	if (c->backoff_max < c->backoff_min)
		c->backoff_max = c->backoff_min;
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
	c->vh = get_vhost(net, cfg, c->tls);
	if (!c->vh) {
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
	struct frame *f;

	/* (Frames queued while a drop is pending still go out before it.) */
	if (c->state != WS_OPEN)
		return -ENOTCONN;
	f = malloc(sizeof *f + LWS_PRE + len);
	if (!f)
		return -ENOMEM;
	f->next = NULL;
	f->len = len;
	memcpy(f->buf + LWS_PRE, text, len);
	if (c->tx_tail)
		c->tx_tail->next = f;
	else
		c->tx_head = f;
	c->tx_tail = f;
	lws_callback_on_writable(c->wsi);
	return 0;
}

void ws_client_drop(struct ws_client *c, const char *why)
{
	if (c->state == WS_OPEN && c->wsi) {
		c->drop_reason = why;
		lws_callback_on_writable(c->wsi);
	} else if (c->state == WS_CONNECTING && c->wsi) {
		lws_set_opaque_user_data(c->wsi, NULL);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		lost(c, why);
	}
}

void ws_client_set_ping_interval(struct ws_client *c, unsigned seconds)
{
	set_idle_policy(c, seconds);
	/* The connection reads the policy through our pointer; restarting
	 * its validity timer makes the new interval count from now. Outside
	 * its own callbacks lws does not re-arm its loop timer for that: wake
	 * it so that it does. */
	if (c->state == WS_OPEN && c->wsi) {
		lws_validity_confirmed(c->wsi);
		lws_cancel_service(c->net->ctx);
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

static int receive(struct ws_client *c, struct lws *wsi, const char *in, size_t len)
{
	if (lws_is_first_fragment(wsi)) {
		c->rx_len = 0;
		c->rx_oversized = 0;
	}
	if (c->rx_oversized || c->rx_len + len > c->max_frame) {
		/* Keep reading to the end of the message, then drop the
		 * connection: a peer that sends oversized frames is broken. */
		c->rx_oversized = 1;
	} else {
		if (c->rx_len + len + 1 > c->rx_cap) {
			size_t cap = (c->rx_len + len + 1) * 2;
			char *p = realloc(c->rx, cap);
			if (!p)
				return -1;
			c->rx = p;
			c->rx_cap = cap;
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	if (c->rx_oversized) {
		log_warn("websocket: frame larger than %zu bytes; closing", c->max_frame);
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
				 (unsigned char *)"frame too large", 15);
		return -1;
	}
	if (lws_frame_is_binary(wsi)) {
		log_warn("websocket: ignoring a binary frame (OCPP-J is text)");
		return 0;
	}
	c->rx[c->rx_len] = '\0';
	c->ops->on_message(c->ctx, c->rx, c->rx_len);
	return 0;
}

static int write_one(struct ws_client *c, struct lws *wsi)
{
	struct frame *f = c->tx_head;

	/* A drop closes after what was queued before it has gone out. */
	if (!f && c->drop_reason) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL,
				 (unsigned char *)c->drop_reason, strlen(c->drop_reason));
		return -1;
	}
	if (!f)
		return 0;
	if (lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len)
		return -1;
	c->tx_head = f->next;
	if (!c->tx_head)
		c->tx_tail = NULL;
	free(f);
	if (c->tx_head || c->drop_reason)
		lws_callback_on_writable(wsi);
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		    void *in, size_t len)
{
	struct ws_client *c = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (c && c->auth_header) {
			unsigned char **p = in, *end = *p + len;
			if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
							 (unsigned char *)c->auth_header,
							 (int)strlen(c->auth_header), p, end))
				return -1;
		}
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!c)
			return -1;
		c->state = WS_OPEN;
		c->wsi = wsi;
		c->attempts = 0;
		log_info("websocket: connected to %s", c->url);
		c->ops->on_open(c->ctx);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return c ? receive(c, wsi, in, len) : -1;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return c ? write_one(c, wsi) : -1;
	/* The connection is over for us: forget it, so that a client freed
	 * before libwebsockets destroys it is never looked at again. */
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c) {
			lws_set_opaque_user_data(wsi, NULL);
			lost(c, in && len ? (const char *)in : "connection failed");
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c) {
			lws_set_opaque_user_data(wsi, NULL);
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
