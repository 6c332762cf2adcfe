/* Unit tests: file transfers on a real libuv loop, with file:// URLs in a
 * temporary directory and a tiny TCP server for the HTTP cases. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "net/transfer.h"

#define WAIT_MS 10000   /* generous: every wait ends long before */

struct env {
	uv_loop_t loop;
	char dir[64];
	struct transfer_mgr *m;
};

struct done {
	int called;
	int status;
	char error[512];
	long http_status;
	uint64_t bytes;
};

static void on_done(void *arg, const struct transfer_result *r)
{
	struct done *d = arg;
	d->called++;
	d->status = r->status;
	snprintf(d->error, sizeof d->error, "%s", r->error ? r->error : "");
	d->http_status = r->http_status;
	d->bytes = r->bytes;
}

static const struct transfer_config with_files = { .allow_file_urls = 1 };

static struct env *env_new(const struct transfer_config *cfg)
{
	struct env *e = calloc(1, sizeof *e);
	assert_non_null(e);
	snprintf(e->dir, sizeof e->dir, "/tmp/evtransfer-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	assert_int_equal(uv_loop_init(&e->loop), 0);
	e->m = transfer_mgr_new(&e->loop, cfg);
	assert_non_null(e->m);
	return e;
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	assert_non_null(d);
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Everything must be closed: uv_loop_close fails if a handle was leaked. */
static void env_free(struct env *e)
{
	transfer_mgr_free(e->m);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&e->loop), 0);
	remove_tree(e->dir);
	free(e);
}

static void watchdog(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

struct wait {
	const int *flag;
	int expired;
};

/* Just before the loop would block: stop if there is nothing to wait for. */
static void check_flag(uv_prepare_t *p)
{
	struct wait *w = p->data;
	if (*w->flag || w->expired)
		uv_stop(p->loop);
}

/* Runs the loop until *flag is set or ms have passed; returns *flag. */
static int run_until(uv_loop_t *loop, const int *flag, unsigned ms)
{
	struct wait w = { flag, 0 };
	uv_timer_t t;
	uv_prepare_t p;

	uv_timer_init(loop, &t);
	t.data = &w.expired;
	uv_timer_start(&t, watchdog, ms, 0);
	uv_prepare_init(loop, &p);
	p.data = &w;
	uv_prepare_start(&p, check_flag);
	while (!*flag && !w.expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_close((uv_handle_t *)&p, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return *flag;
}

static void run_for(uv_loop_t *loop, unsigned ms)
{
	int never = 0;
	run_until(loop, &never, ms);
}

static void path_in(const struct env *e, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", e->dir, name);
}

static void write_file(const char *path, size_t size)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (size_t i = 0; i < size; i++)
		fputc((int)((i * 7 + i / 251) & 0xff), f);
	assert_int_equal(fclose(f), 0);
}

static int same_content(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int ca, cb, same = fa && fb;

	while (same) {
		ca = fgetc(fa);
		cb = fgetc(fb);
		if (ca != cb)
			same = 0;
		if (ca == EOF || cb == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* ---------------------------------------------------------------- a tiny server */

enum server_mode { SERVER_SILENT, SERVER_NOT_FOUND, SERVER_OK };

struct server {
	uv_tcp_t tcp;
	enum server_mode mode;
	int port;
	int accepted;
	struct client *clients;
	char request[8192];        /* what the first client sent */
	size_t request_len;
};

struct client {
	uv_tcp_t tcp;
	struct client *next;
	struct server *srv;
	int replied, continued;
	uv_write_t w, w100;
	char buf[4096];
};

static const char not_found[] =
	"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char ok[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world";

static void client_closed(uv_handle_t *h)
{
	free(h->data);
}

static void client_drop(struct client *c)
{
	struct client **pp;
	for (pp = &c->srv->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	uv_close((uv_handle_t *)&c->tcp, client_closed);
}

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct client *c = h->data;
	*buf = uv_buf_init(c->buf, sizeof c->buf);
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct client *c = s->data;
	struct server *srv = c->srv;
	const char *answer = srv->mode == SERVER_OK ? ok : not_found;
	uv_buf_t reply = uv_buf_init((char *)answer, (unsigned)strlen(answer));
	size_t room = sizeof srv->request - 1 - srv->request_len;

	if (n < 0) {
		client_drop(c);
		return;
	}
	if ((size_t)n > room)
		n = (ssize_t)room;
	memcpy(srv->request + srv->request_len, buf->base, (size_t)n);
	srv->request_len += (size_t)n;
	srv->request[srv->request_len] = '\0';
	if (!c->continued && strstr(srv->request, "Expect: 100-continue\r\n")) {
		uv_buf_t go_on = uv_buf_init((char *)"HTTP/1.1 100 Continue\r\n\r\n", 25);
		c->continued = 1;
		uv_write(&c->w100, s, &go_on, 1, NULL);
	}
	/* Answer once the request (and any body) seems complete. */
	if (srv->mode != SERVER_SILENT && !c->replied &&
	    (strstr(srv->request, "\r\n\r\n") && (strncmp(srv->request, "PUT", 3) != 0 ||
						   strstr(srv->request, "THE END")))) {
		c->replied = 1;
		uv_write(&c->w, s, &reply, 1, NULL);
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct server *srv = server->data;
	struct client *c = calloc(1, sizeof *c);

	assert_int_equal(status, 0);
	assert_non_null(c);
	c->srv = srv;
	uv_tcp_init(server->loop, &c->tcp);
	c->tcp.data = c;
	assert_int_equal(uv_accept(server, (uv_stream_t *)&c->tcp), 0);
	uv_read_start((uv_stream_t *)&c->tcp, client_alloc, client_read);
	c->next = srv->clients;
	srv->clients = c;
	srv->accepted++;
}

static void server_start(struct server *srv, uv_loop_t *loop, enum server_mode mode)
{
	struct sockaddr_in addr;
	struct sockaddr_storage bound;
	int len = sizeof bound;

	memset(srv, 0, sizeof *srv);
	srv->mode = mode;
	uv_tcp_init(loop, &srv->tcp);
	srv->tcp.data = srv;
	uv_ip4_addr("127.0.0.1", 0, &addr);
	assert_int_equal(uv_tcp_bind(&srv->tcp, (const struct sockaddr *)&addr, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&srv->tcp, 8, on_connection), 0);
	assert_int_equal(uv_tcp_getsockname(&srv->tcp, (struct sockaddr *)&bound, &len), 0);
	srv->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

static void server_stop(struct server *srv)
{
	while (srv->clients)
		client_drop(srv->clients);
	uv_close((uv_handle_t *)&srv->tcp, NULL);
}

/* ---------------------------------------------------------------- tests */

static void test_download_file(void **state)
{
	struct env *e = env_new(&with_files);
	struct done d = { 0 };
	char src[256], dst[256], part[300], url[300];
	struct transfer *t;
	(void)state;

	path_in(e, "firmware.bin", src, sizeof src);
	path_in(e, "got.bin", dst, sizeof dst);
	snprintf(part, sizeof part, "%s.part", dst);
	snprintf(url, sizeof url, "file://%s", src);
	write_file(src, 300000);

	t = transfer_start(e->m, TRANSFER_DOWNLOAD, url, dst, 0, on_done, &d);
	assert_non_null(t);
	assert_int_equal(d.called, 0);   /* never from inside transfer_start */
	assert_true(run_until(&e->loop, &d.called, WAIT_MS));
	assert_int_equal(d.called, 1);
	assert_int_equal(d.status, 0);
	assert_string_equal(d.error, "");
	assert_int_equal(d.bytes, 300000);
	assert_int_equal(d.http_status, 0);
	assert_true(same_content(src, dst));
	assert_false(exists(part));
	env_free(e);
}

static void test_upload_file(void **state)
{
	struct env *e = env_new(&with_files);
	struct done d = { 0 };
	char src[256], updir[256], location[300], got[300], *url;
	(void)state;

	path_in(e, "diag.txt", src, sizeof src);
	path_in(e, "incoming", updir, sizeof updir);
	assert_int_equal(mkdir(updir, 0700), 0);
	write_file(src, 12345);
	snprintf(location, sizeof location, "file://%s", updir);
	/* OCPP: the location is a directory; the name goes after it. */
	url = transfer_join_url(location, "CP 1 diagnostics.txt");
	assert_non_null(url);
	assert_non_null(strstr(url, "/incoming/CP%201%20diagnostics.txt"));

	assert_non_null(transfer_start(e->m, TRANSFER_UPLOAD, url, src, 0, on_done, &d));
	assert_true(run_until(&e->loop, &d.called, WAIT_MS));
	assert_int_equal(d.status, 0);
	assert_int_equal(d.bytes, 12345);
	snprintf(got, sizeof got, "%s/CP 1 diagnostics.txt", updir);
	assert_true(same_content(src, got));
	free(url);
	env_free(e);
}

static void test_unreachable(void **state)
{
	struct env *e = env_new(&with_files);
	struct done d = { 0 };
	char dst[256], part[300];
	(void)state;

	path_in(e, "fw.bin", dst, sizeof dst);
	snprintf(part, sizeof part, "%s.part", dst);
	assert_non_null(transfer_start(e->m, TRANSFER_DOWNLOAD, "http://127.0.0.1:1/fw.bin", dst,
				       30, on_done, &d));
	assert_true(run_until(&e->loop, &d.called, WAIT_MS));
	assert_int_equal(d.called, 1);
	assert_true(d.status < 0);
	assert_true(strlen(d.error) > 0);
	assert_false(exists(dst));
	assert_false(exists(part));
	env_free(e);
}

static void test_missing_files(void **state)
{
	struct env *e = env_new(&with_files);
	struct done d1 = { 0 }, d2 = { 0 }, d3 = { 0 };
	char dst[256], src[256], url[300];
	(void)state;

	/* The remote file is missing. */
	path_in(e, "fw.bin", dst, sizeof dst);
	snprintf(url, sizeof url, "file://%s/nothing-here.bin", e->dir);
	assert_non_null(transfer_start(e->m, TRANSFER_DOWNLOAD, url, dst, 0, on_done, &d1));
	/* The local file to upload is missing: still reported through the
	 * callback, later. */
	path_in(e, "no-such-file.txt", src, sizeof src);
	snprintf(url, sizeof url, "file://%s/up.txt", e->dir);
	assert_non_null(transfer_start(e->m, TRANSFER_UPLOAD, url, src, 0, on_done, &d2));
	assert_int_equal(d2.called, 0);
	/* A scheme we do not speak. */
	assert_non_null(transfer_start(e->m, TRANSFER_DOWNLOAD, "gopher://127.0.0.1/x", dst, 0,
				       on_done, &d3));
	assert_true(run_until(&e->loop, &d1.called, WAIT_MS));
	assert_true(run_until(&e->loop, &d2.called, WAIT_MS));
	assert_true(run_until(&e->loop, &d3.called, WAIT_MS));
	assert_int_equal(d1.status, -ENOENT);
	assert_int_equal(d2.status, -ENOENT);
	assert_non_null(strstr(d2.error, "no-such-file.txt"));
	assert_int_equal(d3.status, -EPROTONOSUPPORT);
	assert_true(strlen(d3.error) > 0);
	assert_false(exists(dst));
	env_free(e);
}

static void test_cancel(void **state)
{
	struct env *e = env_new(&with_files);
	struct server srv;
	struct done d1 = { 0 }, d2 = { 0 };
	struct transfer *t;
	char dst[256], part[300], url[128], src[256];
	(void)state;

	server_start(&srv, &e->loop, SERVER_SILENT);
	path_in(e, "fw.bin", dst, sizeof dst);
	snprintf(part, sizeof part, "%s.part", dst);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/fw.bin", srv.port);
	t = transfer_start(e->m, TRANSFER_DOWNLOAD, url, dst, 0, on_done, &d1);
	assert_non_null(t);
	/* In flight: connected, waiting for an answer that never comes. */
	assert_true(run_until(&e->loop, &srv.accepted, WAIT_MS));
	assert_true(exists(part));
	transfer_cancel(t);
	assert_false(exists(part));

	/* A failure waiting to be reported is cancelled too. */
	path_in(e, "missing.txt", src, sizeof src);
	t = transfer_start(e->m, TRANSFER_UPLOAD, url, src, 0, on_done, &d2);
	transfer_cancel(t);

	run_for(&e->loop, 200);
	assert_int_equal(d1.called, 0);
	assert_int_equal(d2.called, 0);
	assert_false(exists(dst));
	server_stop(&srv);
	env_free(e);
}

static void test_file_urls_off_by_default(void **state)
{
	struct env *e = env_new(NULL);
	struct done d = { 0 }, u = { 0 };
	char src[256], dst[256], url[300];
	(void)state;

	/* A central system must not read or write local files. */
	path_in(e, "secret.txt", src, sizeof src);
	path_in(e, "got.txt", dst, sizeof dst);
	write_file(src, 10);
	snprintf(url, sizeof url, "file://%s", src);
	assert_non_null(transfer_start(e->m, TRANSFER_DOWNLOAD, url, dst, 0, on_done, &d));
	snprintf(url, sizeof url, "file://%s/written.txt", e->dir);
	assert_non_null(transfer_start(e->m, TRANSFER_UPLOAD, url, src, 0, on_done, &u));
	assert_true(run_until(&e->loop, &d.called, WAIT_MS));
	assert_true(run_until(&e->loop, &u.called, WAIT_MS));
	assert_int_equal(d.status, -EPROTONOSUPPORT);
	assert_int_equal(u.status, -EPROTONOSUPPORT);
	assert_false(exists(dst));
	snprintf(url, sizeof url, "%s/written.txt", e->dir);
	assert_false(exists(url));
	env_free(e);
}

static void test_size_limit(void **state)
{
	struct transfer_config cfg = { .max_download = 1000, .allow_file_urls = 1 };
	struct env *e = env_new(&cfg);
	struct done d = { 0 };
	char src[256], dst[256], part[300], url[300];
	(void)state;

	path_in(e, "big.bin", src, sizeof src);
	path_in(e, "got.bin", dst, sizeof dst);
	snprintf(part, sizeof part, "%s.part", dst);
	snprintf(url, sizeof url, "file://%s", src);
	write_file(src, 5000);
	assert_non_null(transfer_start(e->m, TRANSFER_DOWNLOAD, url, dst, 0, on_done, &d));
	assert_true(run_until(&e->loop, &d.called, WAIT_MS));
	assert_int_equal(d.status, -EFBIG);
	assert_non_null(strstr(d.error, "limit of 1000 bytes"));
	assert_false(exists(dst));
	assert_false(exists(part));

	/* At the limit is fine. */
	write_file(src, 1000);
	memset(&d, 0, sizeof d);
	assert_non_null(transfer_start(e->m, TRANSFER_DOWNLOAD, url, dst, 0, on_done, &d));
	assert_true(run_until(&e->loop, &d.called, WAIT_MS));
	assert_int_equal(d.status, 0);
	assert_true(same_content(src, dst));
	env_free(e);
}

static void test_http_error_status(void **state)
{
	struct env *e = env_new(&with_files);
	struct server srv;
	struct done d = { 0 };
	char dst[256], url[128];
	(void)state;

	server_start(&srv, &e->loop, SERVER_NOT_FOUND);
	path_in(e, "fw.bin", dst, sizeof dst);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/fw.bin", srv.port);
	assert_non_null(transfer_start(e->m, TRANSFER_DOWNLOAD, url, dst, 0, on_done, &d));
	assert_true(run_until(&e->loop, &d.called, WAIT_MS));
	assert_int_equal(d.status, -EIO);
	assert_int_equal(d.http_status, 404);
	assert_string_equal(d.error, "HTTP status 404");
	assert_false(exists(dst));
	server_stop(&srv);
	env_free(e);
}

static void test_http(void **state)
{
	struct env *e = env_new(&with_files);
	struct server srv;
	struct done d = { 0 }, u = { 0 };
	char dst[256], src[256], url[128];
	FILE *f;
	(void)state;

	server_start(&srv, &e->loop, SERVER_OK);
	path_in(e, "fw.bin", dst, sizeof dst);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/fw.bin", srv.port);
	assert_non_null(transfer_start(e->m, TRANSFER_DOWNLOAD, url, dst, 0, on_done, &d));
	assert_true(run_until(&e->loop, &d.called, WAIT_MS));
	assert_int_equal(d.status, 0);
	assert_int_equal(d.http_status, 200);
	assert_int_equal(d.bytes, 11);
	assert_non_null(strstr(srv.request, "GET /fw.bin HTTP/1.1\r\n"));
	f = fopen(dst, "r");
	assert_non_null(f);
	assert_non_null(fgets(src, sizeof src, f));
	fclose(f);
	assert_string_equal(src, "hello world");

	/* Uploads are a PUT to location/name. */
	srv.request_len = 0;
	path_in(e, "diag.txt", src, sizeof src);
	f = fopen(src, "w");
	assert_non_null(f);
	fputs("log line\nTHE END\n", f);
	fclose(f);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/up/diag.txt", srv.port);
	assert_non_null(transfer_start(e->m, TRANSFER_UPLOAD, url, src, 0, on_done, &u));
	assert_true(run_until(&e->loop, &u.called, WAIT_MS));
	assert_int_equal(u.status, 0);
	assert_int_equal(u.http_status, 200);
	assert_int_equal(u.bytes, 17);
	assert_non_null(strstr(srv.request, "PUT /up/diag.txt HTTP/1.1\r\n"));
	assert_non_null(strstr(srv.request, "\r\n\r\nlog line\nTHE END\n"));
	server_stop(&srv);
	env_free(e);
}

static void test_timeouts(void **state)
{
	struct transfer_config cfg = { .low_speed_time_s = 1 };
	struct env *e = env_new(&cfg);
	struct server srv;
	struct done slow = { 0 }, whole = { 0 };
	char dst[256], dst2[256], url[128];
	(void)state;

	server_start(&srv, &e->loop, SERVER_SILENT);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/fw.bin", srv.port);
	path_in(e, "a.bin", dst, sizeof dst);
	path_in(e, "b.bin", dst2, sizeof dst2);
	/* Nothing arrives: the low-speed limit ends one, the overall timeout
	 * the other. */
	assert_non_null(transfer_start(e->m, TRANSFER_DOWNLOAD, url, dst, 0, on_done, &slow));
	assert_non_null(transfer_start(e->m, TRANSFER_DOWNLOAD, url, dst2, 1, on_done, &whole));
	assert_true(run_until(&e->loop, &slow.called, WAIT_MS));
	assert_true(run_until(&e->loop, &whole.called, WAIT_MS));
	assert_int_equal(slow.status, -ETIMEDOUT);
	assert_int_equal(whole.status, -ETIMEDOUT);
	assert_true(strlen(slow.error) > 0);
	assert_false(exists(dst));
	assert_false(exists(dst2));
	server_stop(&srv);
	env_free(e);
}

static void test_urls(void **state)
{
	char out[256], *u;
	(void)state;

	u = transfer_join_url("ftp://u:p@host/diag", "a b.txt");
	assert_string_equal(u, "ftp://u:p@host/diag/a%20b.txt");
	free(u);
	u = transfer_join_url("http://host/up/", "x.txt");
	assert_string_equal(u, "http://host/up/x.txt");
	free(u);
	u = transfer_join_url("https://host/up?sig=1#f", "x.txt");
	assert_string_equal(u, "https://host/up/x.txt?sig=1#f");
	free(u);
	u = transfer_join_url("ftp://host", "x.txt");
	assert_string_equal(u, "ftp://host/x.txt");
	free(u);

	transfer_redact_url("ftp://user:secret@host:21/fw.bin", out, sizeof out);
	assert_string_equal(out, "ftp://user:***@host:21/fw.bin");
	transfer_redact_url("ftp://user@host/fw.bin", out, sizeof out);
	assert_string_equal(out, "ftp://user@host/fw.bin");
	transfer_redact_url("http://host/a@b:c", out, sizeof out);
	assert_string_equal(out, "http://host/a@b:c");
	transfer_redact_url("not a url", out, sizeof out);
	assert_string_equal(out, "not a url");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_download_file),
		cmocka_unit_test(test_upload_file),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_file_urls_off_by_default),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_http_error_status),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_urls),
	};

	/* The tests talk to 127.0.0.1 directly. */
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	unsetenv("HTTPS_PROXY");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
