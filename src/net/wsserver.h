/* The OCPP-J WebSocket server, on libwebsockets over the process's libuv
 * loop.
 *
 * Stations connect to ws[s]://HOST:PORT<prefix>/<StationId> offering an
 * OCPP subprotocol. Admission happens during the handshake: the server
 * reads the station id from the path, the Basic Auth credentials and the
 * client certificate's common name, and asks its owner (ops->admit), which
 * answers 0 to let the station in or an HTTP status to refuse it. A
 * refused or subprotocol-less handshake never becomes a connection.
 *
 * A ws_conn is one accepted connection: whole text frames go to
 * ops->on_message; frames larger than max_frame close it (1009); sends are
 * queued and written in order when the socket is writable. */
#ifndef EV_NET_WSSERVER_H
#define EV_NET_WSSERVER_H

#include <stddef.h>
#include <uv.h>

struct ws_server;
struct ws_conn;

struct ws_server_config {
	const char *address;      /* NULL: 127.0.0.1 */
	int port;                 /* 0: any free port (ws_server_port tells) */
	const char *path_prefix;  /* "/ocpp": stations connect to /ocpp/<id> */
	const char *cert_file;    /* set with key_file: wss:// */
	const char *key_file;
	const char *ca_file;      /* set: client certificates are required and
	                             checked against it (security profile 3) */
	const char *const *subprotocols; /* offered ones we speak, best first */
	size_t max_frame;         /* inbound limit in bytes; 0: 1 MiB */
	size_t max_queue;         /* outbound bytes queued before the
	                             connection is dropped; 0: 4 MiB */
	unsigned ping_interval_s; /* 0: no pings */
};

/* What the handshake told us about a station. */
struct ws_admission {
	const char *station_id;   /* decoded last path segment */
	const char *subprotocol;  /* the one chosen */
	const char *user;         /* Basic Auth user, NULL if none */
	const char *password;     /* Basic Auth password, NULL if none */
	const char *cert_cn;      /* client certificate CN, NULL if none */
	const char *peer;         /* remote address */
};

struct ws_server_ops {
	/* 0 admits; otherwise the HTTP status to refuse with (401, 403, 404). */
	int (*admit)(void *ctx, const struct ws_admission *a);
	/* The connection is open; returns the context for its callbacks. */
	void *(*on_open)(void *ctx, struct ws_conn *conn, const struct ws_admission *a);
	void (*on_message)(void *conn_ctx, const char *text, size_t len);
	/* The connection is gone; conn must not be used afterwards. */
	void (*on_close)(void *conn_ctx, const char *why);
};

struct ws_server *ws_server_new(uv_loop_t *loop, const struct ws_server_config *cfg,
				const struct ws_server_ops *ops, void *ctx,
				char *err, size_t errlen);
int ws_server_port(const struct ws_server *s);
/* As for ws_net: ws_server_close in the loop (drops every connection
 * without calling on_close), ws_server_free after the loop ran dry. */
void ws_server_close(struct ws_server *s);
void ws_server_free(struct ws_server *s);

/* Queues one text frame: 0, -ENOTCONN once the connection is closing,
 * -ENOBUFS (and the connection is dropped) when the peer does not read. */
int ws_conn_send(struct ws_conn *c, const char *text, size_t len);
/* Closes after the frames already queued; on_close follows. */
void ws_conn_close(struct ws_conn *c, const char *why);
const char *ws_conn_peer(const struct ws_conn *c);
/* Changes the context the callbacks get (NULL: the owner has let go of
 * this connection and hears no more of it). */
void ws_conn_set_ctx(struct ws_conn *c, void *ctx);

#endif
