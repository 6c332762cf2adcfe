/* The HTTP server under `evctl serve`'s REST API and its server-sent event
 * stream, on libwebsockets over the process's one libuv loop.
 *
 * An httpd is one listener with its own libwebsockets context (the OCPP
 * server has another on the same loop). HTTP/1.1 with keep-alive, or
 * HTTP/1.0; optionally over TLS, where ALPN offers http/1.1 only. Every
 * request is read whole - headers, then a body of Content-Length bytes up
 * to max_body (a longer one gets 413 and the connection is closed; a
 * chunked one 411) - and copied out of libwebsockets, then handed to the
 * handler, which answers exactly once: at once or later (deferred, for
 * example when a station has answered), with http_reply_json /
 * http_reply_error, or by turning the request into an event stream with
 * http_stream_open. Answers carry Content-Type: application/json and a
 * Content-Length; errors the server gives itself (413, 411, a bad
 * Content-Length, an Upgrade) use doc/API.md's error body too. What
 * libwebsockets rejects before we see it (a request line it cannot
 * parse, a bad %-escape, headers over 8 KiB) gets its own plain answer or
 * none.
 *
 * Pipelining is not supported: a request sent before the previous answer
 * is complete closes the connection (requests already sent together with
 * a bodyless one are answered in order).
 *
 * Ownership: a request belongs to the handler from the handler call until
 * it is answered, even if the client goes away meanwhile (the answer is
 * then dropped) and even after httpd_close, so code that waits never holds
 * a dangling pointer; every request must be answered, or it leaks. JSON
 * bodies given to a reply are stolen. An event stream belongs to the
 * server: its owner hears of its end through on_close, or ends it with
 * http_stream_close.
 *
 * Everything runs in the loop's thread; nothing blocks. */
#ifndef EV_NET_HTTPD_H
#define EV_NET_HTTPD_H

#include <stddef.h>
#include <jansson.h>
#include <uv.h>

struct httpd;
struct http_req;
struct http_stream;

struct httpd_config {
	const char *address;      /* listen address, e.g. "127.0.0.1", "::1"; NULL: 127.0.0.1 */
	int port;                 /* 0: pick a free port; httpd_port() tells which */
	const char *cert_file;    /* both set: HTTPS (PEM files); one alone is an error */
	const char *key_file;
	size_t max_body;          /* request body limit in bytes; 0: 1 MiB; longer: 413 */
	unsigned keepalive_ms;    /* event streams: ": keep-alive" after this much
				   * silence; 0: 15 s */
	size_t max_stream_queue;  /* event streams: a client with more than this
				   * unsent is dropped; 0: 1 MiB */
};

/* Called once per complete request (headers + whole body). The handler
 * answers now or later, exactly once, with http_reply_* or
 * http_stream_open. */
typedef void (*httpd_handler)(void *ctx, struct http_req *req);

/* Listens at once. NULL with *err set if it cannot ("cannot listen on
 * 127.0.0.1 port 8181: Address already in use", an unreadable or bad
 * certificate, ...). A failure after libwebsockets was set up leaves its
 * teardown to the loop: run the loop before closing it, as the two-step
 * teardown below does anyway. */
struct httpd *httpd_new(uv_loop_t *loop, const struct httpd_config *cfg, httpd_handler h,
			void *ctx, char *err, size_t errlen);
/* The port listened on (the one picked when cfg->port was 0). */
int httpd_port(const struct httpd *h);
/* Two steps, as libwebsockets on a foreign loop needs. httpd_close, in the
 * loop: stops listening and drops every client (each open event stream's
 * on_close is called before it returns; requests still unanswered become
 * gone and still need their answer), and starts taking the context down.
 * Once the loop has run dry, httpd_free finishes and frees. Not from
 * inside the handler or an on_close: from a timer or idle callback. */
void httpd_close(struct httpd *h);
void httpd_free(struct httpd *h);

/* The request. Strings are valid until it is answered. */
const char *http_req_method(const struct http_req *r);  /* "GET", "POST", "PATCH", ... */
/* The path without the query, as libwebsockets leaves it: %-decoded and
 * cleaned ("/a/../b" is "/b"), so "/stations/CP%2F1" arrives as
 * "/stations/CP/1" - an id with a slash cannot be told apart. */
const char *http_req_path(const struct http_req *r);
/* The decoded value of the first query parameter called name (case
 * matters; '+' is a space; "" for "?name" or "?name="), or NULL. */
const char *http_req_query(const struct http_req *r, const char *name);
/* A request header by case-insensitive name, or NULL. Every header
 * libwebsockets knows by name is kept (authorization, content-type,
 * accept, host, user-agent, content-length, ...) plus last-event-id and
 * x-request-id; any other is not available. */
const char *http_req_header(const struct http_req *r, const char *name);
/* The body, NUL-terminated (so text can be parsed as it is); "" if none. */
const char *http_req_body(const struct http_req *r, size_t *len);
const char *http_req_peer(const struct http_req *r);    /* "127.0.0.1", "::1" */
/* The client disconnected while its answer was awaited. */
int http_req_is_gone(const struct http_req *r);

/* Adds a header to the coming answer (Location, WWW-Authenticate, ...);
 * Content-Type and Content-Length are the server's. 0; -EINVAL for a name
 * or value that could not stand in a header; -ENOMEM. */
int http_reply_header(struct http_req *r, const char *name, const char *value);

/* Answers and ends the request: r is freed. body is stolen, sent compact;
 * NULL sends none ("Content-Length: 0", or no length at all for 204). A
 * status outside 200-599 becomes 500. If the client has gone, the answer
 * is dropped. */
void http_reply_json(struct http_req *r, int status, json_t *body);
/* {"error": {"code": code, "message": <printf>}} as doc/API.md has it. */
void http_reply_error(struct http_req *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Server-sent events: answers 200 text/event-stream (Cache-Control:
 * no-cache) and turns the request into a stream; r is consumed either
 * way. NULL if the client has already gone (or out of memory: the client
 * is then dropped); on_close is then never called. Otherwise on_close(arg)
 * is called exactly once when the stream ends for any reason but
 * http_stream_close: the client went away, it fell more than
 * max_stream_queue behind, or httpd_close. It is never called from inside
 * http_stream_send or http_stream_close; the stream is freed when it
 * returns (http_stream_send and http_stream_close on it from on_close are
 * allowed and do nothing). */
struct http_stream *http_stream_open(struct http_req *r, void (*on_close)(void *arg), void *arg);
/* Queues "event: <event>\ndata: <compact json>\n\n" (event NULL: no event
 * line, so the client sees a "message"). 0; -ENOTCONN if the stream has
 * ended (on_close follows if it has not been called yet); -ENOBUFS if this
 * made the client too slow (it is dropped, on_close follows); -EINVAL for
 * an event name with a line break or data that will not encode; -ENOMEM. */
int http_stream_send(struct http_stream *s, const char *event, const json_t *data);
/* Ends the stream after what is queued has been sent, and frees s;
 * on_close is not called. */
void http_stream_close(struct http_stream *s);

#endif
