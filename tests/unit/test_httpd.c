/* Unit tests: the HTTP server on a real libuv loop. The loop runs in the
 * test's thread; a client thread drives it with libcurl (and raw sockets
 * for what curl would never send), keeps what it saw and wakes the loop
 * when it is done. Assertions run in the test's thread, after the client
 * has been joined. Waits are bounded: the limits are generous upper
 * bounds, never delays the tests rely on. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <curl/curl.h>
#include <jansson.h>
#include <uv.h>
#include <cmocka.h>

#include "net/httpd.h"

#define WAIT_MS 10000           /* upper bound for anything to happen */
#define MAX_RESP 10
#define MAX_RAW 16
#define MANY 64                 /* concurrent connections */

/* A self-signed certificate for localhost and 127.0.0.1, valid 2000-2100. */
static const char test_cert[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBaDCCAQ2gAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAlsb2NhbGhv\n"
	"c3QwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM\n"
	"CWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABD4lNgu9wddemupa\n"
	"O1Tax97nVvv9khMpw4m6n0OEiylOMaUBUvb2OoaKNnXPoNC12G6kayqrucIHJ2Ls\n"
	"hKQqvcejTjBMMA8GA1UdEwEB/wQFMAMBAf8wGgYDVR0RBBMwEYIJbG9jYWxob3N0\n"
	"hwR/AAABMB0GA1UdDgQWBBQTziGgb8s18E/fmwMIaZTWR6akrjAKBggqhkjOPQQD\n"
	"AgNJADBGAiEAk9TzWCbqtwzNYfd7KLQ0vAFr42vUY4DbLomiA0qFppwCIQCiL2MD\n"
	"6ra6awWQC5qb+VUQB36dZ2ByVLN0ZKNhTGQAoQ==\n"
	"-----END CERTIFICATE-----\n";
static const char test_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg542AUy0ezNj8uw74\n"
	"d5A4GQPR+p3Sxwh+xxvbI/pOS8ihRANCAAQ+JTYLvcHXXprqWjtU2sfe51b7/ZIT\n"
	"KcOJup9DhIspTjGlAVL29jqGijZ1z6DQtdhupGsqq7nCBydi7ISkKr3H\n"
	"-----END PRIVATE KEY-----\n";

/* What the client saw of one exchange. */
struct resp {
	CURLcode rc;
	long status;
	long connects;          /* new connections this request needed */
	long version;           /* CURL_HTTP_VERSION_* */
	double seconds;
	curl_off_t length;      /* Content-Length, -1 if none */
	char *body;
	size_t len;
	char headers[4096];
	size_t hlen;
};

enum stream_mode { SSE_EVENTS, SSE_FLOOD, SSE_OWNER_CLOSE };

struct fx {
	uv_loop_t loop;
	struct httpd_config cfg;
	struct httpd *h;
	int port;
	int closed;
	char dir[64];
	char cert[96], key[96];

	/* the client thread and what it saw */
	uv_thread_t thread;
	void (*client)(struct fx *f);
	uv_async_t done_async, sse_async;
	int client_done, sse_seen;
	struct resp resp[MAX_RESP];
	char raw[MAX_RAW][2048];
	int n_raw;
	unsigned raw_slowest_ms;
	char sse_text[8192];
	size_t sse_len;
	int sse_signalled, sse_abort;
	int many_ok;

	/* the server's side */
	uv_timer_t guard, timer;
	uv_check_t check;
	unsigned iterations;    /* loop iterations since the last /hold */
	int handled;
	char last_method[16], last_path[256];
	struct http_req *held;
	int gone_seen, held_answered;
	unsigned iterations_at_gone;
	struct http_req *many[MANY];
	int n_many;
	enum stream_mode mode;
	struct http_stream *stream;
	int on_close_calls, on_close_at_send, send_in_close;
	int send_rc[64];
	int n_send;
};

/* ------------------------------------------------------------ the server */

static json_t *echo(struct http_req *r)
{
	size_t len;
	const char *body = http_req_body(r, &len);

	return json_pack("{s:s, s:s, s:{s:s?, s:s?, s:s?, s:s?, s:s?},"
			 " s:{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}, s:s, s:s%}",
			 "method", http_req_method(r), "path", http_req_path(r),
			 "query", "a", http_req_query(r, "a"), "b", http_req_query(r, "b"),
			 "c", http_req_query(r, "c"), "empty", http_req_query(r, "empty"),
			 "missing", http_req_query(r, "missing"),
			 "headers", "authorization", http_req_header(r, "AUTHORIZATION"),
			 "accept", http_req_header(r, "Accept"),
			 "last-event-id", http_req_header(r, "last-event-id"),
			 "x-request-id", http_req_header(r, "X-Request-ID"),
			 "content-type", http_req_header(r, "content-type"),
			 "x-unknown", http_req_header(r, "x-unknown"),
			 "peer", http_req_peer(r), "body", body, len);
}

static void answer_later(uv_timer_t *t)
{
	struct fx *f = t->data;
	struct http_req *r = f->held;

	f->held = NULL;
	http_reply_json(r, 200, json_pack("{s:b, s:s}", "late", 1, "path", http_req_path(r)));
}

/* Waits for the client of /hold to go away, then answers anyway. */
static void check_gone(uv_timer_t *t)
{
	struct fx *f = t->data;

	if (!http_req_is_gone(f->held))
		return;
	f->gone_seen = 1;
	f->iterations_at_gone = f->iterations;
	uv_timer_stop(t);
	http_reply_json(f->held, 200, json_pack("{s:s}", "too", "late"));
	f->held = NULL;
	f->held_answered = 1;
}

static void count_iteration(uv_check_t *c)
{
	((struct fx *)c->data)->iterations++;
}

static void on_close(void *arg)
{
	struct fx *f = arg;
	json_t *v = json_true();

	f->on_close_calls++;
	/* Both allowed here, and harmless. */
	f->send_in_close = http_stream_send(f->stream, "late", v);
	http_stream_close(f->stream);
	json_decref(v);
	f->stream = NULL;
}

static void open_events(struct fx *f, struct http_req *r)
{
	json_t *v;

	f->stream = http_stream_open(r, on_close, f);
	assert_non_null(f->stream);
	switch (f->mode) {
	case SSE_EVENTS:
		v = json_pack("{s:s}", "station", "CP-1");
		f->send_rc[f->n_send++] = http_stream_send(f->stream, "station.connected", v);
		json_decref(v);
		v = json_pack("[i,i,i]", 1, 2, 3);
		f->send_rc[f->n_send++] = http_stream_send(f->stream, "status", v);
		json_decref(v);
		break;
	case SSE_FLOOD: {
		char big[1000];

		/* Far more than max_stream_queue at once: a client cannot
		 * keep up with that. */
		memset(big, 'x', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		v = json_string(big);
		while (f->n_send < 60) {
			int rc = http_stream_send(f->stream, "meter", v);
			f->send_rc[f->n_send++] = rc;
			if (rc)
				break;
		}
		f->send_rc[f->n_send++] = http_stream_send(f->stream, "meter", v);
		f->on_close_at_send = f->on_close_calls;
		json_decref(v);
		break;
	}
	case SSE_OWNER_CLOSE:
		v = json_pack("{s:b}", "bye", 1);
		f->send_rc[f->n_send++] = http_stream_send(f->stream, NULL, v);
		json_decref(v);
		http_stream_close(f->stream);
		f->stream = NULL;
		break;
	}
}

static void answer_many(struct fx *f)
{
	for (int i = 0; i < MANY; i++) {
		struct http_req *r = f->many[i];
		http_reply_json(r, 200, json_pack("{s:s?}", "i", http_req_query(r, "i")));
	}
}

static void handler(void *arg, struct http_req *r)
{
	struct fx *f = arg;
	const char *path = http_req_path(r);

	f->handled++;
	snprintf(f->last_method, sizeof f->last_method, "%s", http_req_method(r));
	snprintf(f->last_path, sizeof f->last_path, "%s", path);
	if (strcmp(path, "/echo") == 0) {
		assert_int_equal(http_reply_header(r, "X-Echo", "yes"), 0);
		http_reply_json(r, 200, echo(r));
	} else if (strcmp(path, "/created") == 0) {
		assert_int_equal(http_reply_header(r, "Location", "/things/7"), 0);
		assert_int_equal(http_reply_header(r, "Bad: Name", "x"), -EINVAL);
		assert_int_equal(http_reply_header(r, "X-Split", "a\r\nb"), -EINVAL);
		http_reply_json(r, 201, json_pack("{s:i}", "id", 7));
	} else if (strcmp(path, "/nothing") == 0) {
		http_reply_json(r, 204, NULL);
	} else if (strcmp(path, "/later") == 0) {
		f->held = r;
		uv_timer_start(&f->timer, answer_later, 100, 0);
	} else if (strcmp(path, "/hold") == 0) {
		f->held = r;
		f->iterations = 0;
		uv_timer_start(&f->timer, check_gone, 10, 10);
	} else if (strcmp(path, "/park") == 0) {
		f->held = r;
	} else if (strcmp(path, "/many") == 0) {
		f->many[f->n_many++] = r;
		if (f->n_many == MANY)
			answer_many(f);
	} else if (strcmp(path, "/events") == 0) {
		open_events(f, r);
	} else {
		http_reply_error(r, 404, "not_found", "no route '%s'", path);
	}
}

/* ------------------------------------------------------------ the fixture */

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void on_done(uv_async_t *a)
{
	((struct fx *)a->data)->client_done = 1;
}

static void on_sse_seen(uv_async_t *a)
{
	((struct fx *)a->data)->sse_seen = 1;
}

/* The loop's handles, without the server. */
static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	uv_timer_init(&f->loop, &f->guard);
	uv_timer_init(&f->loop, &f->timer);
	f->timer.data = f;
	uv_check_init(&f->loop, &f->check);
	f->check.data = f;
	uv_check_start(&f->check, count_iteration);
	uv_async_init(&f->loop, &f->done_async, on_done);
	f->done_async.data = f;
	uv_async_init(&f->loop, &f->sse_async, on_sse_seen);
	f->sse_async.data = f;
	snprintf(f->dir, sizeof f->dir, "/tmp/evhttpd-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cert, sizeof f->cert, "%s/cert.pem", f->dir);
	snprintf(f->key, sizeof f->key, "%s/key.pem", f->dir);
	write_file(f->cert, test_cert);
	write_file(f->key, test_key);
	f->cfg.address = "127.0.0.1";
	return f;
}

static void fx_start(struct fx *f)
{
	char err[256] = "";

	f->h = httpd_new(&f->loop, &f->cfg, handler, f, err, sizeof err);
	if (!f->h)
		fail_msg("httpd_new: %s", err);
	f->port = httpd_port(f->h);
	assert_true(f->port > 0);
}

static struct fx *fx_server(const struct httpd_config *cfg)
{
	struct fx *f = fx_new();

	if (cfg)
		f->cfg = *cfg;
	if (!f->cfg.address)
		f->cfg.address = "127.0.0.1";
	fx_start(f);
	return f;
}

static void closed_noop(uv_handle_t *h)
{
	(void)h;
}

/* Everything must be closed: uv_loop_close fails if a handle was leaked. */
static void fx_free(struct fx *f)
{
	if (f->h && !f->closed)
		httpd_close(f->h);
	/* Every request is answered, even after the server closed. */
	if (f->held)
		http_reply_error(f->held, 503, "busy", "closing");
	uv_close((uv_handle_t *)&f->guard, closed_noop);
	uv_close((uv_handle_t *)&f->timer, closed_noop);
	uv_close((uv_handle_t *)&f->check, closed_noop);
	uv_close((uv_handle_t *)&f->done_async, closed_noop);
	uv_close((uv_handle_t *)&f->sse_async, closed_noop);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	httpd_free(f->h);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	for (int i = 0; i < MAX_RESP; i++)
		free(f->resp[i].body);
	unlink(f->cert);
	unlink(f->key);
	rmdir(f->dir);
	free(f);
}

static void expire(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* Runs the loop until *flag is set or ms have passed; returns *flag. */
static int run_until(struct fx *f, const int *flag, unsigned ms)
{
	int expired = 0;

	f->guard.data = &expired;
	uv_timer_start(&f->guard, expire, ms, 0);
	while (!*flag && !expired)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_timer_stop(&f->guard);
	return *flag;
}

static void client_main(void *arg)
{
	struct fx *f = arg;

	f->client(f);
	uv_async_send(&f->done_async);
}

/* Runs the client in its thread while the loop serves it. */
static void run_client(struct fx *f, void (*client)(struct fx *f))
{
	f->client = client;
	f->client_done = 0;
	assert_int_equal(uv_thread_create(&f->thread, client_main, f), 0);
	if (!run_until(f, &f->client_done, 3 * WAIT_MS))
		fail_msg("the client did not finish");
	assert_int_equal(uv_thread_join(&f->thread), 0);
}

/* ------------------------------------------------------------ the client */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	char *b = realloc(r->body, r->len + size * n + 1);

	if (!b)
		return 0;
	memcpy(b + r->len, p, size * n);
	r->body = b;
	r->len += size * n;
	b[r->len] = '\0';
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = size * n;

	if (r->hlen + len < sizeof r->headers) {
		memcpy(r->headers + r->hlen, p, len);
		r->hlen += len;
		r->headers[r->hlen] = '\0';
	}
	return len;
}

static CURL *easy_new(void)
{
	CURL *c = curl_easy_init();

	if (c) {
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_PROXY, "");
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)WAIT_MS);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	}
	return c;
}

static void target(CURL *c, const struct fx *f, const char *path, struct resp *r)
{
	char url[512];

	free(r->body);
	memset(r, 0, sizeof *r);
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", f->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
}

static void collect(CURL *c, struct resp *r)
{
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &r->connects);
	curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &r->version);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->seconds);
	curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &r->length);
}

static void perform(CURL *c, struct resp *r)
{
	r->rc = curl_easy_perform(c);
	collect(c, r);
}

/* One request on handle c. method NULL: GET, or POST with a body. */
static void request(CURL *c, const struct fx *f, const char *method, const char *path,
		    const char *body, struct curl_slist *headers, struct resp *r)
{
	target(c, f, path, r);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (method && strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (method)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	perform(c, r);
}

/* Sends data (shutting down our side if asked), reads until EOF or a
 * timeout; keeps the text in out. */
static void raw_exchange(struct fx *f, const char *data, size_t len, int shut, char *out,
			 size_t size)
{
	uint64_t start = uv_hrtime(), ms;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)f->port) };
	struct timeval tv = { .tv_sec = 3 };
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	out[0] = '\0';
	if (fd < 0)
		return;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
		/* (The server may hang up before it all went: fine.) */
		if (send(fd, data, len, MSG_NOSIGNAL) >= 0 && shut)
			shutdown(fd, SHUT_WR);
		for (;;) {
			ssize_t n = recv(fd, out + got, size - 1 - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
			if (got == size - 1)
				break;
		}
	}
	out[got] = '\0';
	close(fd);
	/* The server ended each exchange, rather than the 3 s timeout. */
	ms = (uv_hrtime() - start) / 1000000;
	if (ms > f->raw_slowest_ms)
		f->raw_slowest_ms = (unsigned)ms;
}

/* Holds a json_t from the body; NULL if it is not JSON. */
static json_t *body_json(const struct resp *r)
{
	return r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
}

static void assert_contains(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("no '%s' in:\n%s", part, text);
}

static void assert_header(const struct resp *r, const char *line)
{
	if (!strcasestr(r->headers, line))
		fail_msg("no header '%s' in:\n%s", line, r->headers);
}

static void assert_json_str(json_t *v, const char *path_a, const char *path_b, const char *want)
{
	json_t *x = json_object_get(v, path_a);

	if (path_b)
		x = json_object_get(x, path_b);
	if (!want) {
		if (!json_is_null(x))
			fail_msg("%s.%s: expected null", path_a, path_b ? path_b : "");
		return;
	}
	if (!json_is_string(x))
		fail_msg("%s.%s: expected \"%s\", got no string", path_a,
			 path_b ? path_b : "", want);
	assert_string_equal(json_string_value(x), want);
}

/* ------------------------------------------------------------ tests */

static void client_basic(struct fx *f)
{
	CURL *c = easy_new();
	struct curl_slist *hs = NULL, *js = NULL;

	hs = curl_slist_append(hs, "Authorization: Bearer t0k3n");
	hs = curl_slist_append(hs, "Accept: application/json");
	hs = curl_slist_append(hs, "Last-Event-ID: 41");
	hs = curl_slist_append(hs, "X-Request-Id: rid-1");
	hs = curl_slist_append(hs, "X-Unknown: zz");
	js = curl_slist_append(js, "Content-Type: application/json");
	/* All on one connection: keep-alive must hold up through each. */
	request(c, f, NULL, "/echo?a=1&b=hello%20world&c=x%26y%3Dz&empty=&a=2", NULL, hs,
		&f->resp[0]);
	request(c, f, NULL, "/echo", "{\"k\":[1,2]}", js, &f->resp[1]);
	request(c, f, "HEAD", "/echo", NULL, NULL, &f->resp[2]);
	request(c, f, "PATCH", "/echo?a=p", "x=1", NULL, &f->resp[3]);
	request(c, f, NULL, "/echo", "", NULL, &f->resp[4]);
	request(c, f, NULL, "/nothing", NULL, NULL, &f->resp[5]);
	request(c, f, NULL, "/nope", NULL, NULL, &f->resp[6]);
	request(c, f, "DELETE", "/created", NULL, NULL, &f->resp[7]);
	curl_slist_free_all(hs);
	curl_slist_free_all(js);
	curl_easy_cleanup(c);
}

static void test_requests_and_answers(void **state)
{
	struct fx *f = fx_server(NULL);
	json_t *v;

	(void)state;
	run_client(f, client_basic);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(f->resp[i].rc, CURLE_OK);
		/* one connection for all of them */
		assert_int_equal(f->resp[i].connects, i == 0 ? 1 : 0);
	}
	assert_int_equal(f->handled, 8);

	/* GET: query decoded, first of a repeated name; headers by any case */
	assert_int_equal(f->resp[0].status, 200);
	assert_header(&f->resp[0], "content-type: application/json\r\n");
	assert_header(&f->resp[0], "x-echo: yes\r\n");
	assert_int_equal(f->resp[0].length, (curl_off_t)f->resp[0].len);
	v = body_json(&f->resp[0]);
	assert_non_null(v);
	assert_json_str(v, "method", NULL, "GET");
	assert_json_str(v, "path", NULL, "/echo");
	assert_json_str(v, "query", "a", "1");
	assert_json_str(v, "query", "b", "hello world");
	assert_json_str(v, "query", "c", "x&y=z");
	assert_json_str(v, "query", "empty", "");
	assert_json_str(v, "query", "missing", NULL);
	assert_json_str(v, "headers", "authorization", "Bearer t0k3n");
	assert_json_str(v, "headers", "accept", "application/json");
	assert_json_str(v, "headers", "last-event-id", "41");
	assert_json_str(v, "headers", "x-request-id", "rid-1");
	assert_json_str(v, "headers", "x-unknown", NULL);   /* (documented) */
	assert_json_str(v, "peer", NULL, "127.0.0.1");
	assert_json_str(v, "body", NULL, "");
	json_decref(v);

	/* POST with a JSON body */
	assert_int_equal(f->resp[1].status, 200);
	v = body_json(&f->resp[1]);
	assert_json_str(v, "method", NULL, "POST");
	assert_json_str(v, "headers", "content-type", "application/json");
	assert_json_str(v, "body", NULL, "{\"k\":[1,2]}");
	json_decref(v);

	/* HEAD: the length of what GET would send, and no body (or the
	 * next answer on the connection would be garbled) */
	assert_int_equal(f->resp[2].status, 200);
	assert_true(f->resp[2].length > 0);
	assert_int_equal(f->resp[2].len, 0);

	v = body_json(&f->resp[3]);
	assert_json_str(v, "method", NULL, "PATCH");
	assert_json_str(v, "query", "a", "p");
	assert_json_str(v, "body", NULL, "x=1");
	json_decref(v);

	/* POST with an empty body (Content-Length: 0) */
	v = body_json(&f->resp[4]);
	assert_json_str(v, "method", NULL, "POST");
	assert_json_str(v, "body", NULL, "");
	json_decref(v);

	/* 204: no body, no length, no type */
	assert_int_equal(f->resp[5].status, 204);
	assert_int_equal(f->resp[5].len, 0);
	assert_null(strcasestr(f->resp[5].headers, "content-length"));
	assert_null(strcasestr(f->resp[5].headers, "content-type"));

	/* an error as doc/API.md has it */
	assert_int_equal(f->resp[6].status, 404);
	assert_header(&f->resp[6], "content-type: application/json\r\n");
	v = body_json(&f->resp[6]);
	assert_json_str(v, "error", "code", "not_found");
	assert_json_str(v, "error", "message", "no route '/nope'");
	assert_int_equal(json_object_size(v), 1);
	json_decref(v);

	/* extra headers */
	assert_int_equal(f->resp[7].status, 201);
	assert_header(&f->resp[7], "location: /things/7\r\n");
	assert_null(strcasestr(f->resp[7].headers, "x-split"));
	assert_string_equal(f->resp[7].body, "{\"id\":7}");
	assert_string_equal(f->last_method, "DELETE");
	fx_free(f);
}

static void client_too_large(struct fx *f)
{
	CURL *c = easy_new();
	struct curl_slist *expect = curl_slist_append(NULL, "Expect: 100-continue");
	char body[2001], *raw;
	size_t n;

	memset(body, 'a', sizeof body - 1);
	body[sizeof body - 1] = '\0';
	request(c, f, NULL, "/echo", body, NULL, &f->resp[0]);
	request(c, f, NULL, "/echo", body, expect, &f->resp[1]);
	body[1000] = '\0';      /* exactly the limit */
	request(c, f, NULL, "/echo", body, expect, &f->resp[2]);
	curl_slist_free_all(expect);
	curl_easy_cleanup(c);

	/* a client that sends its body regardless */
	raw = malloc(8000);
	n = (size_t)snprintf(raw, 8000, "POST /echo HTTP/1.1\r\nHost: x\r\n"
			     "Content-Length: 5000\r\n\r\n");
	memset(raw + n, 'b', 2000);
	raw_exchange(f, raw, n + 2000, 0, f->raw[0], sizeof f->raw[0]);
	free(raw);
	/* lws 4.1 cannot read chunked bodies: refused, not hung */
	raw = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "5\r\nhello\r\n0\r\n\r\n";
	raw_exchange(f, raw, strlen(raw), 0, f->raw[1], sizeof f->raw[1]);
}

static void test_body_limit(void **state)
{
	struct httpd_config cfg = { .max_body = 1000 };
	struct fx *f = fx_server(&cfg);
	json_t *v;

	(void)state;
	run_client(f, client_too_large);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(f->resp[i].status, 413);
		assert_header(&f->resp[i], "content-type: application/json\r\n");
		assert_header(&f->resp[i], "connection: close\r\n");
		v = body_json(&f->resp[i]);
		assert_json_str(v, "error", "code", "too_large");
		assert_json_str(v, "error", "message", "request body over 1000 bytes");
		json_decref(v);
	}
	/* 100-continue: curl would wait a second for it otherwise */
	assert_int_equal(f->resp[2].status, 200);
	assert_true(f->resp[2].seconds < 0.9);
	v = body_json(&f->resp[2]);
	assert_int_equal(strlen(json_string_value(json_object_get(v, "body"))), 1000);
	json_decref(v);
	assert_contains(f->raw[0], "HTTP/1.1 413 ");
	assert_contains(f->raw[0], "\"code\":\"too_large\"");
	assert_contains(f->raw[1], "HTTP/1.1 411 ");
	assert_contains(f->raw[1], "\"code\":\"bad_request\"");
	assert_int_equal(f->handled, 1);
	fx_free(f);
}

static void client_later(struct fx *f)
{
	CURL *c = easy_new();

	request(c, f, NULL, "/later", NULL, NULL, &f->resp[0]);
	request(c, f, NULL, "/echo?a=after", NULL, NULL, &f->resp[1]);
	curl_easy_cleanup(c);
}

static void test_deferred_answer(void **state)
{
	struct fx *f = fx_server(NULL);
	json_t *v;

	(void)state;
	run_client(f, client_later);
	assert_int_equal(f->resp[0].rc, CURLE_OK);
	assert_int_equal(f->resp[0].status, 200);
	assert_true(f->resp[0].seconds >= 0.09);  /* it did wait for the timer */
	assert_string_equal(f->resp[0].body, "{\"late\":true,\"path\":\"/later\"}");
	assert_int_equal(f->resp[0].length, (curl_off_t)f->resp[0].len);
	/* and the connection goes on */
	assert_int_equal(f->resp[1].connects, 0);
	v = body_json(&f->resp[1]);
	assert_json_str(v, "query", "a", "after");
	json_decref(v);
	fx_free(f);
}

static void client_impatient(struct fx *f)
{
	CURL *c = easy_new();

	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 300L);
	request(c, f, NULL, "/hold", NULL, NULL, &f->resp[0]);
	curl_easy_cleanup(c);
}

static void test_client_gone_before_answer(void **state)
{
	struct fx *f = fx_server(NULL);

	(void)state;
	run_client(f, client_impatient);
	assert_int_equal(f->resp[0].rc, CURLE_OPERATION_TIMEDOUT);
	assert_true(run_until(f, &f->held_answered, WAIT_MS));
	assert_int_equal(f->gone_seen, 1);
	/* The hang-up was noticed without the loop spinning meanwhile
	 * (lws 4.1 alone would spin on it until the answer): a few dozen
	 * iterations for 300 ms of 10 ms timer ticks, not hundreds of
	 * thousands. */
	assert_true(f->iterations_at_gone < 1000);
	/* The request was answered after it was gone: dropped, and under
	 * LeakSanitizer freed. The server still serves. */
	run_client(f, client_later);
	assert_int_equal(f->resp[0].status, 200);
	fx_free(f);
}

static void client_parked(struct fx *f)
{
	CURL *c = easy_new();

	request(c, f, NULL, "/park", NULL, NULL, &f->resp[0]);
	curl_easy_cleanup(c);
}

static void test_close_with_request_waiting(void **state)
{
	struct fx *f = fx_server(NULL);

	(void)state;
	f->client = client_parked;
	assert_int_equal(uv_thread_create(&f->thread, client_main, f), 0);
	assert_true(run_until(f, &f->handled, WAIT_MS));
	assert_non_null(f->held);
	assert_int_equal(http_req_is_gone(f->held), 0);
	httpd_close(f->h);
	f->closed = 1;
	/* still ours to answer, and the answer goes nowhere */
	assert_int_equal(http_req_is_gone(f->held), 1);
	assert_string_equal(http_req_path(f->held), "/park");
	http_reply_error(f->held, 503, "busy", "closing");
	f->held = NULL;
	assert_true(run_until(f, &f->client_done, WAIT_MS));
	assert_int_equal(uv_thread_join(&f->thread), 0);
	assert_int_equal(f->resp[0].rc, CURLE_GOT_NOTHING);
	fx_free(f);
}

static size_t on_sse(char *p, size_t size, size_t n, void *arg)
{
	struct fx *f = arg;
	size_t len = size * n;

	if (f->sse_len + len < sizeof f->sse_text) {
		memcpy(f->sse_text + f->sse_len, p, len);
		f->sse_len += len;
		f->sse_text[f->sse_len] = '\0';
	}
	if (f->sse_abort && strstr(f->sse_text, "\n\n"))
		return 0;  /* hang up after the first event */
	if (!f->sse_signalled && strstr(f->sse_text, "\n\n: keep-alive\n\n")) {
		f->sse_signalled = 1;
		uv_async_send(&f->sse_async);
	}
	return len;
}

static void client_sse(struct fx *f)
{
	CURL *c = easy_new();
	struct resp *r = &f->resp[0];

	target(c, f, "/events", r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_sse);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	perform(c, r);
	curl_easy_cleanup(c);
}

static void test_event_stream(void **state)
{
	struct httpd_config cfg = { .keepalive_ms = 100 };
	struct fx *f = fx_server(&cfg);

	(void)state;
	f->mode = SSE_EVENTS;
	f->client = client_sse;
	assert_int_equal(uv_thread_create(&f->thread, client_main, f), 0);
	/* two events, then a keep-alive comment in the silence after */
	assert_true(run_until(f, &f->sse_seen, WAIT_MS));
	assert_int_equal(f->on_close_calls, 0);
	assert_non_null(f->stream);
	/* the server closes: the stream's owner hears of it, once */
	httpd_close(f->h);
	f->closed = 1;
	assert_int_equal(f->on_close_calls, 1);
	assert_int_equal(f->send_in_close, -ENOTCONN);
	assert_true(run_until(f, &f->client_done, WAIT_MS));
	assert_int_equal(uv_thread_join(&f->thread), 0);

	assert_int_equal(f->n_send, 2);
	assert_int_equal(f->send_rc[0], 0);
	assert_int_equal(f->send_rc[1], 0);
	assert_int_equal(f->resp[0].status, 200);
	assert_header(&f->resp[0], "content-type: text/event-stream\r\n");
	assert_header(&f->resp[0], "cache-control: no-cache\r\n");
	assert_null(strcasestr(f->resp[0].headers, "content-length"));
	assert_memory_equal(f->sse_text,
			    "event: station.connected\ndata: {\"station\":\"CP-1\"}\n\n"
			    "event: status\ndata: [1,2,3]\n\n"
			    ": keep-alive\n\n",
			    strlen("event: station.connected\ndata: {\"station\":\"CP-1\"}\n\n"
				   "event: status\ndata: [1,2,3]\n\n: keep-alive\n\n"));
	fx_free(f);
}

static void test_event_stream_client_gone(void **state)
{
	struct fx *f = fx_server(NULL);     /* keep-alives 15 s apart */

	(void)state;
	f->mode = SSE_EVENTS;
	f->sse_abort = 1;
	run_client(f, client_sse);
	assert_int_equal(f->resp[0].rc, CURLE_WRITE_ERROR);
	f->iterations = 0;
	/* noticed at once, not at the next write */
	assert_true(run_until(f, &f->on_close_calls, 2000));
	assert_int_equal(f->on_close_calls, 1);
	assert_null(f->stream);
	assert_true(f->iterations < 1000);
	fx_free(f);
}

static void test_event_stream_too_slow(void **state)
{
	struct httpd_config cfg = { .max_stream_queue = 4096 };
	struct fx *f = fx_server(&cfg);
	int i;

	(void)state;
	f->mode = SSE_FLOOD;
	run_client(f, client_sse);
	assert_true(run_until(f, &f->on_close_calls, WAIT_MS));
	/* a few fit, the one past the limit drops the client, and the
	 * stream is over for every send after */
	for (i = 0; i < f->n_send && f->send_rc[i] == 0; i++)
		;
	assert_true(i >= 3);
	assert_true(i < 6);
	assert_int_equal(f->send_rc[i], -ENOBUFS);
	assert_int_equal(i + 2, f->n_send);
	assert_int_equal(f->send_rc[i + 1], -ENOTCONN);
	/* on_close comes from the loop, not from inside the send */
	assert_int_equal(f->on_close_at_send, 0);
	assert_int_equal(f->on_close_calls, 1);
	/* dropped before even the headers went out */
	assert_int_equal(f->resp[0].rc, CURLE_GOT_NOTHING);
	assert_int_equal(f->sse_len, 0);
	fx_free(f);
}

static void test_event_stream_closed_by_owner(void **state)
{
	struct fx *f = fx_server(NULL);

	(void)state;
	f->mode = SSE_OWNER_CLOSE;
	run_client(f, client_sse);
	/* what was queued goes out first, then the end of the stream */
	assert_int_equal(f->resp[0].rc, CURLE_OK);
	assert_int_equal(f->send_rc[0], 0);
	assert_string_equal(f->sse_text, "data: {\"bye\":true}\n\n");
	run_until(f, &f->on_close_calls, 200);
	assert_int_equal(f->on_close_calls, 0);
	fx_free(f);
}

static void client_many(struct fx *f)
{
	CURLM *m = curl_multi_init();
	CURL *c[MANY];
	struct resp r[MANY];
	int running = 1;

	memset(r, 0, sizeof r);
	for (int i = 0; i < MANY; i++) {
		char path[32];

		snprintf(path, sizeof path, "/many?i=%d", i);
		c[i] = easy_new();
		target(c[i], f, path, &r[i]);
		curl_multi_add_handle(m, c[i]);
	}
	while (running) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (running)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	for (int i = 0; i < MANY; i++) {
		char want[32];

		collect(c[i], &r[i]);
		snprintf(want, sizeof want, "{\"i\":\"%d\"}", i);
		if (r[i].status == 200 && r[i].body && strcmp(r[i].body, want) == 0)
			f->many_ok++;
		curl_multi_remove_handle(m, c[i]);
		curl_easy_cleanup(c[i]);
		free(r[i].body);
	}
	curl_multi_cleanup(m);
}

static void test_many_connections(void **state)
{
	struct fx *f = fx_server(NULL);

	(void)state;
	/* every one waits until all are in: they are open at once */
	run_client(f, client_many);
	assert_int_equal(f->n_many, MANY);
	assert_int_equal(f->many_ok, MANY);
	fx_free(f);
}

static void client_malformed(struct fx *f)
{
	static const char nul_path[] = "GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char *const cases[] = {   /* each on a new connection */
		"GARBAGE\r\n\r\n",
		"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n"
		"\r\nhello",
		"GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost:",
		"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
		"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
		"\r\n\r\n\r\n",
		"GET /echo?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET /echo?a=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		/* (lws 4.1 would spin on what follows a body) */
		"POST /later HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
		"GET /echo?a=3 HTTP/1.1\r\nHost: x\r\n\r\n",
	};
	size_t n = sizeof cases / sizeof *cases, i;
	char *big = malloc(30000);
	uint32_t seed = 12345;
	CURL *c;
	size_t k;

	/* (Our side is shut after sending, so that the server sees the end
	 * of what it got; not for the pipelined ones, which it would take
	 * for a client gone before its answers.) */
	for (i = 0; i < n; i++)
		raw_exchange(f, cases[i], strlen(cases[i]), i < 9, f->raw[i], sizeof f->raw[0]);
	raw_exchange(f, nul_path, sizeof nul_path - 1, 1, f->raw[i++], sizeof f->raw[0]);
	/* a header past what lws keeps */
	k = (size_t)snprintf(big, 30000, "GET /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ");
	memset(big + k, 't', 20000);
	memcpy(big + k + 20000, "\r\n\r\n", 4);
	raw_exchange(f, big, k + 20004, 1, f->raw[i++], sizeof f->raw[0]);
	/* noise */
	for (int j = 0; j < 8192; j++) {
		seed = seed * 1103515245 + 12345;
		big[j] = (char)(seed >> 16);
	}
	raw_exchange(f, big, 8192, 1, f->raw[i++], sizeof f->raw[0]);
	free(big);
	f->n_raw = (int)i;

	c = easy_new();
	request(c, f, NULL, "/echo?a=ok", NULL, NULL, &f->resp[0]);
	curl_easy_cleanup(c);
}

static void test_malformed_requests(void **state)
{
	struct fx *f = fx_server(NULL);
	json_t *v;

	(void)state;
	run_client(f, client_malformed);
	for (int i = 0; i < f->n_raw; i++) {
		/* never a 200, except for the pipelined requests */
		if (i == 9 || i == 10)
			continue;
		if (strstr(f->raw[i], " 200 "))
			fail_msg("case %d answered 200:\n%s", i, f->raw[i]);
	}
	/* lws's own answers to what it cannot parse */
	assert_contains(f->raw[0], " 403 ");
	assert_contains(f->raw[1], " 403 ");
	/* ours, in JSON */
	for (int i = 2; i <= 4; i++) {
		assert_contains(f->raw[i], "HTTP/1.1 400 ");
		assert_contains(f->raw[i], "\"message\":\"invalid Content-Length\"");
	}
	assert_string_equal(f->raw[5], "");
	assert_contains(f->raw[6], "HTTP/1.1 400 ");
	assert_contains(f->raw[6], "no upgrade to websocket here");
	assert_contains(f->raw[7], "no upgrade to h2c here");
	/* pipelined requests are both answered, in order */
	assert_contains(f->raw[9], "\"a\":\"1\"");
	assert_contains(f->raw[9], "\"a\":\"2\"");
	assert_true(strstr(f->raw[9], "\"a\":\"1\"") < strstr(f->raw[9], "\"a\":\"2\""));
	/* the request behind a body: the connection is dropped instead */
	assert_null(strstr(f->raw[10], "\"a\":\"3\""));
	/* no exchange was left hanging */
	assert_true(f->raw_slowest_ms < 2000);
	/* and the server is fine */
	assert_int_equal(f->resp[0].status, 200);
	v = body_json(&f->resp[0]);
	assert_json_str(v, "query", "a", "ok");
	json_decref(v);
	/* the two pipelined GETs, POST /later, and the last */
	assert_int_equal(f->handled, 4);
	fx_free(f);
}

static void client_tls(struct fx *f)
{
	CURL *c = easy_new();
	struct curl_slist *resolve;
	char url[128], entry[64];

	snprintf(entry, sizeof entry, "localhost:%d:127.0.0.1", f->port);
	resolve = curl_slist_append(NULL, entry);
	curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(c, CURLOPT_CAINFO, f->cert);
	snprintf(url, sizeof url, "https://localhost:%d/echo?a=tls", f->port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &f->resp[0]);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &f->resp[0]);
	perform(c, &f->resp[0]);
	snprintf(url, sizeof url, "https://localhost:%d/later", f->port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &f->resp[1]);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &f->resp[1]);
	perform(c, &f->resp[1]);
	curl_easy_cleanup(c);
	curl_slist_free_all(resolve);
}

static void test_https(void **state)
{
	struct fx *f = fx_new();
	json_t *v;

	(void)state;
	f->cfg.cert_file = f->cert;
	f->cfg.key_file = f->key;
	fx_start(f);
	run_client(f, client_tls);
	assert_int_equal(f->resp[0].rc, CURLE_OK);
	assert_int_equal(f->resp[0].status, 200);
	/* curl offers h2; we speak HTTP/1.1 only */
	assert_int_equal(f->resp[0].version, CURL_HTTP_VERSION_1_1);
	v = body_json(&f->resp[0]);
	assert_json_str(v, "query", "a", "tls");
	json_decref(v);
	assert_int_equal(f->resp[1].rc, CURLE_OK);
	assert_int_equal(f->resp[1].connects, 0);
	assert_string_equal(f->resp[1].body, "{\"late\":true,\"path\":\"/later\"}");
	fx_free(f);
}

static void test_setup_errors(void **state)
{
	struct fx *f = fx_server(NULL);
	struct httpd_config cfg = { .address = "127.0.0.1" };
	char err[256], want[256];

	(void)state;
	/* the port is taken */
	cfg.port = f->port;
	err[0] = '\0';
	assert_null(httpd_new(&f->loop, &cfg, handler, f, err, sizeof err));
	snprintf(want, sizeof want, "cannot listen on 127.0.0.1 port %d: %s", f->port,
		 strerror(EADDRINUSE));
	assert_string_equal(err, want);
	/* half a TLS setup is an error, not plain HTTP */
	cfg.port = 0;
	cfg.cert_file = f->cert;
	assert_null(httpd_new(&f->loop, &cfg, handler, f, err, sizeof err));
	assert_string_equal(err, "HTTPS needs both a certificate and a key file");
	/* a certificate that is not there */
	cfg.cert_file = "/nonexistent/cert.pem";
	cfg.key_file = f->key;
	assert_null(httpd_new(&f->loop, &cfg, handler, f, err, sizeof err));
	assert_string_equal(err, "cannot read '/nonexistent/cert.pem': No such file or directory");
	/* one lws refuses: the key is a certificate; what was set up goes
	 * away on the loop (uv_loop_close checks) */
	cfg.cert_file = f->cert;
	cfg.key_file = f->cert;
	assert_null(httpd_new(&f->loop, &cfg, handler, f, err, sizeof err));
	assert_contains(err, "with certificate '");
	/* the first server is unharmed */
	run_client(f, client_later);
	assert_int_equal(f->resp[0].status, 200);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_and_answers),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_deferred_answer),
		cmocka_unit_test(test_client_gone_before_answer),
		cmocka_unit_test(test_close_with_request_waiting),
		cmocka_unit_test(test_event_stream),
		cmocka_unit_test(test_event_stream_client_gone),
		cmocka_unit_test(test_event_stream_too_slow),
		cmocka_unit_test(test_event_stream_closed_by_owner),
		cmocka_unit_test(test_many_connections),
		cmocka_unit_test(test_malformed_requests),
		cmocka_unit_test(test_https),
		cmocka_unit_test(test_setup_errors),
	};
	int rc;

	/* The tests talk to 127.0.0.1 directly. */
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	unsetenv("HTTPS_PROXY");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
