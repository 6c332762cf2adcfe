/* WebSocket client connections for OCPP-J, on libwebsockets over the
 * process's one libuv loop.
 *
 * A ws_net is the shared part (one per process: the libwebsockets context
 * and one client vhost per distinct TLS setup, so a thousand simulated
 * stations share one SSL context). A ws_client is one station's connection:
 * it connects, reconnects after a loss with exponential back-off and
 * jitter, pings, authenticates (Basic Auth for security profiles 1 and 2, a
 * client certificate for profile 3), enforces a frame-size limit, and hands
 * whole text frames to its owner. Sending queues frames; they are written
 * when the socket is writable, in order. */
#ifndef EV_NET_WSCLIENT_H
#define EV_NET_WSCLIENT_H

#include <stddef.h>
#include <uv.h>

struct ws_net;
struct ws_client;

struct ws_net *ws_net_new(uv_loop_t *loop);
/* The same for a process that opens about `connections` connections (0:
 * unknown): libwebsockets' tables are sized for them, not for the fd
 * limit. */
struct ws_net *ws_net_new_sized(uv_loop_t *loop, unsigned connections);
/* Two steps, as libwebsockets on a foreign loop needs: ws_net_close, in the
 * loop, frees every client and starts taking the context down; once the
 * loop has run dry, ws_net_free finishes and frees. */
void ws_net_close(struct ws_net *net);
void ws_net_free(struct ws_net *net);

struct ws_client_config {
	const char *url;          /* ws[s]://host[:port][/path]; the station id is appended */
	const char *station_id;
	const char *subprotocol;  /* "ocpp1.6" or "ocpp2.0.1" */
	const char *password;     /* Basic Auth (profiles 1, 2); NULL for none */
	const char *ca_file;      /* wss: the CA that signs the server; NULL: system store */
	const char *cert_file;    /* profile 3: our client certificate and key */
	const char *key_file;
	unsigned ping_interval_s; /* 0: no pings */
	size_t max_frame;         /* inbound limit in bytes; 0: 1 MiB */
	unsigned backoff_min_ms;  /* first retry after this (plus jitter); 0: 1 s */
	unsigned backoff_max_ms;  /* doubling stops here; 0: 60 s */
	unsigned jitter_ms;       /* random extra delay, up to this; 0: 1 s */
};

struct ws_client_ops {
	void (*on_open)(void *ctx);
	void (*on_message)(void *ctx, const char *text, size_t len);
	/* The connection is gone (or could not be made); a retry is
	 * scheduled after retry_ms. */
	void (*on_close)(void *ctx, const char *why, unsigned retry_ms);
};

/* Creates the client and starts connecting. The strings in cfg are
 * copied. NULL with *err set on a bad URL or TLS setup. */
struct ws_client *ws_client_new(struct ws_net *net, const struct ws_client_config *cfg,
				const struct ws_client_ops *ops, void *ctx,
				char *err, size_t errlen);
/* Closes the connection (if any) and frees the client; no callback is
 * called afterwards. */
void ws_client_free(struct ws_client *c);

/* Queues one text frame. -ENOTCONN when not connected, -ENOMEM. */
int ws_client_send(struct ws_client *c, const char *text, size_t len);
int ws_client_is_open(const struct ws_client *c);
/* Drops the connection once the frames already queued are written (the
 * peer misbehaved, or a reconnect is wanted); the usual back-off applies. */
void ws_client_drop(struct ws_client *c, const char *why);
/* New Basic Auth password (NULL: none), used from the next connection. */
int ws_client_set_password(struct ws_client *c, const char *station_id, const char *password);
/* A new ping interval (0: no pings), in force on the open connection at
 * once, counted from now. */
void ws_client_set_ping_interval(struct ws_client *c, unsigned seconds);
/* New reconnect back-off bounds (0: the defaults), from the next retry. */
void ws_client_set_backoff(struct ws_client *c, unsigned min_ms, unsigned max_ms);
/* Reconnects now instead of waiting for the back-off. */
void ws_client_connect_now(struct ws_client *c);

#endif
