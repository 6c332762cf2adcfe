#include "config.h"
#include "net/transfer.h"
#include "util/log.h"
#include "util/uvtimer.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>

#define DEFAULT_MAX_DOWNLOAD (1024ULL * 1024 * 1024)
#define MAX_REDIRECTS 5L

/* libcurl, opened at the first transfer rather than linked: loading it
 * loads its TLS, SSH, LDAP, Kerberos, IDN... libraries and runs their
 * constructors, megabytes of memory that a station that never transfers
 * a file should not carry (bench/README.md). The soname is the one of the
 * headers we build with. */
#define CURL_LIBRARY "libcurl.so.4"

struct curl_api {
	void *lib;
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *m, CURLMoption o, ...);
	CURLMcode (*multi_socket_action)(CURLM *m, curl_socket_t fd, int ev, int *running);
	CURLMcode (*multi_assign)(CURLM *m, curl_socket_t fd, void *p);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *e);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *e);
	CURLMcode (*multi_cleanup)(CURLM *m);
	CURLMsg *(*multi_info_read)(CURLM *m, int *left);
	const char *(*multi_strerror)(CURLMcode rc);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *e, CURLoption o, ...);
	CURLcode (*easy_getinfo)(CURL *e, CURLINFO i, ...);
	void (*easy_cleanup)(CURL *e);
	const char *(*easy_strerror)(CURLcode rc);
};

#define SYM(name) { "curl_" #name, offsetof(struct curl_api, name) }
static const struct { const char *name; size_t offset; } curl_symbols[] = {
	SYM(global_init), SYM(global_cleanup), SYM(multi_init), SYM(multi_setopt),
	SYM(multi_socket_action), SYM(multi_assign), SYM(multi_add_handle),
	SYM(multi_remove_handle), SYM(multi_cleanup), SYM(multi_info_read), SYM(multi_strerror),
	SYM(easy_init), SYM(easy_setopt), SYM(easy_getinfo), SYM(easy_cleanup), SYM(easy_strerror),
};
#undef SYM

struct transfer_mgr {
	uv_loop_t *loop;
	struct curl_api curl;
	CURLM *multi;
	uv_timer_t *timer;         /* curl's timeout; freed by its close callback */
	uv_timer_t *later;         /* delivers failures found before curl ran */
	struct transfer *transfers;
	struct sock *socks;
	char *ca_file;
	uint64_t max_download;
	long connect_timeout, low_speed_bytes, low_speed_time;
	int allow_file;
	int closing;
};

/* One socket curl wants watched. */
struct sock {
	struct sock *next;         /* in m->socks */
	struct transfer_mgr *m;
	curl_socket_t fd;
	uv_poll_t poll;            /* the sock is freed by its close callback */
};

struct transfer {
	struct transfer *next;     /* in m->transfers */
	struct transfer_mgr *m;
	enum transfer_dir dir;
	CURL *easy;
	int added;                 /* easy is in the multi handle */
	FILE *fp;
	char *path, *part;         /* part: the download's temporary file */
	transfer_done_fn fn;
	void *arg;
	uint64_t bytes;
	int too_big, io_errno;
	int early;                 /* failed before curl ran: the negative errno */
	char early_msg[256];
	char errbuf[CURL_ERROR_SIZE];
};

static void sock_closed(uv_handle_t *h)
{
	free(h->data);
}

/* ---------------------------------------------------------------- curl <-> libuv */

static void check_done(struct transfer_mgr *m);

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct sock *s = h->data;
	struct transfer_mgr *m = s->m;
	int flags = 0, running;

	if (status < 0)
		flags |= CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	/* s may be closed in here (CURL_POLL_REMOVE); m stays. */
	m->curl.multi_socket_action(m->multi, s->fd, flags, &running);
	check_done(m);
}

static void on_timeout(uv_timer_t *h)
{
	struct transfer_mgr *m = h->data;
	int running;

	m->curl.multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(m);
}

/* Stops watching: both the stop and the close happen now, while fd is
 * still curl's socket, so a later socket with the same number is safe. */
static void sock_close(struct transfer_mgr *m, struct sock *s)
{
	struct sock **pp;

	for (pp = &m->socks; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	m->curl.multi_assign(m->multi, s->fd, NULL);
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, sock_closed);
}

static struct sock *sock_new(struct transfer_mgr *m, curl_socket_t fd)
{
	struct sock *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	if (uv_poll_init_socket(m->loop, &s->poll, fd)) {
		free(s);
		return NULL;
	}
	s->m = m;
	s->fd = fd;
	s->poll.data = s;
	s->next = m->socks;
	m->socks = s;
	m->curl.multi_assign(m->multi, fd, s);
	return s;
}

/* CURLMOPT_SOCKETFUNCTION: what curl wants to know about fd. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct transfer_mgr *m = userp;
	struct sock *s = socketp;
	int events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (s)
			sock_close(m, s);
		return 0;
	}
	if (m->closing)
		return 0;
	if (!s && !(s = sock_new(m, fd)))
		return -1;
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	return uv_poll_start(&s->poll, events, on_poll) ? -1 : 0;
}

/* CURLMOPT_TIMERFUNCTION. Even 0 goes through the timer: curl must not be
 * called back from inside its own callbacks. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct transfer_mgr *m = userp;

	if (m->closing)
		return 0;
	if (timeout_ms < 0)
		uv_timer_stop(m->timer);
	else
		uv_timer_start(m->timer, on_timeout, (uint64_t)timeout_ms, 0);
	return 0;
}

/* ---------------------------------------------------------------- the manager */

struct transfer_mgr *transfer_mgr_new(uv_loop_t *loop, const struct transfer_config *cfg)
{
	static const struct transfer_config defaults;
	struct transfer_mgr *m = calloc(1, sizeof *m);

	if (!cfg)
		cfg = &defaults;
	if (!m)
		return NULL;
	m->loop = loop;
	m->max_download = cfg->max_download ? cfg->max_download : DEFAULT_MAX_DOWNLOAD;
	m->connect_timeout = cfg->connect_timeout_s ? (long)cfg->connect_timeout_s : 30;
	m->low_speed_bytes = cfg->low_speed_bytes ? (long)cfg->low_speed_bytes : 1;
	m->low_speed_time = cfg->low_speed_time_s ? (long)cfg->low_speed_time_s : 60;
	m->allow_file = cfg->allow_file_urls;
	m->timer = ev_timer_new(loop, m);
	m->later = ev_timer_new(loop, m);
	if (cfg->ca_file)
		m->ca_file = strdup(cfg->ca_file);
	if (!m->timer || !m->later || (cfg->ca_file && !m->ca_file))
		goto fail;
	return m;
fail:
	ev_timer_free(m->timer);   /* registered with the loop: close, not free */
	ev_timer_free(m->later);
	free(m->ca_file);
	free(m);
	return NULL;
}

/* Frees t's resources; a download that did not succeed leaves no file. */
static void release(struct transfer *t, int succeeded)
{
	struct transfer **pp;

	for (pp = &t->m->transfers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	if (t->easy) {
		if (t->added)
			t->m->curl.multi_remove_handle(t->m->multi, t->easy);
		t->m->curl.easy_cleanup(t->easy);
	}
	if (t->fp)
		fclose(t->fp);
	if (t->part && !succeeded)
		unlink(t->part);
	free(t->path);
	free(t->part);
	free(t);
}

/* Opens libcurl and finds its functions; 0 or -ENOSYS. */
static int load_curl(struct curl_api *api)
{
	void *lib = dlopen(CURL_LIBRARY, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		log_error("transfers: cannot load %s: %s", CURL_LIBRARY, dlerror());
		return -ENOSYS;
	}
	for (size_t i = 0; i < sizeof curl_symbols / sizeof *curl_symbols; i++) {
		void *sym = dlsym(lib, curl_symbols[i].name);
		if (!sym) {
			log_error("transfers: %s has no %s", CURL_LIBRARY, curl_symbols[i].name);
			dlclose(lib);
			return -ENOSYS;
		}
		/* (POSIX: a data pointer from dlsym holds a function's address.) */
		memcpy((char *)api + curl_symbols[i].offset, &sym, sizeof sym);
	}
	api->lib = lib;
	return 0;
}

/* libcurl is loaded and set up at the first transfer, not before (see
 * CURL_LIBRARY). */
static int ensure_curl(struct transfer_mgr *m)
{
	int rc;

	if (m->multi)
		return 0;
	if (!m->curl.lib && (rc = load_curl(&m->curl)))
		return rc;
	/* curl_global_init is reference-counted: one per manager is fine. */
	if (m->curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	if (!(m->multi = m->curl.multi_init())) {
		m->curl.global_cleanup();
		return -ENOMEM;
	}
	m->curl.multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	m->curl.multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	m->curl.multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	m->curl.multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	return 0;
}

void transfer_mgr_free(struct transfer_mgr *m)
{
	if (!m)
		return;
	m->closing = 1;
	while (m->transfers)
		release(m->transfers, 0);
	while (m->socks)
		sock_close(m, m->socks);
	if (m->multi) {
		m->curl.multi_cleanup(m->multi);
		m->curl.global_cleanup();
	}
	if (m->curl.lib)
		dlclose(m->curl.lib);
	ev_timer_free(m->timer);
	ev_timer_free(m->later);
	free(m->ca_file);
	free(m);
}

/* ---------------------------------------------------------------- completion */

/* Hands the result over after t is gone, so that fn may start or cancel
 * transfers freely. */
static void deliver(struct transfer *t, int status, const char *error, long http_status,
		    int succeeded)
{
	transfer_done_fn fn = t->fn;
	void *arg = t->arg;
	char copy[CURL_ERROR_SIZE + 128];
	struct transfer_result r = { status, status ? copy : NULL, http_status, t->bytes };

	snprintf(copy, sizeof copy, "%s", error);   /* error may live in t */
	release(t, succeeded);
	fn(arg, &r);
}

static int status_of(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_FILE_COULDNT_READ_FILE:
	case CURLE_REMOTE_FILE_NOT_FOUND:
		return -ENOENT;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EPROTONOSUPPORT;
	default:
		return -EIO;
	}
}

static long http_status_of(const struct curl_api *api, CURL *easy)
{
	char *scheme = NULL;
	long code = 0;

	if (api->easy_getinfo(easy, CURLINFO_SCHEME, &scheme) != CURLE_OK || !scheme ||
	    strncasecmp(scheme, "http", 4) != 0)
		return 0;
	api->easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

/* The download is complete: make it appear under its name. */
static int commit_download(struct transfer *t, char *msg, size_t size)
{
	int rc = fclose(t->fp);

	t->fp = NULL;
	if (rc == 0 && rename(t->part, t->path) == 0)
		return 0;
	snprintf(msg, size, "%s %s: %s", rc ? "writing" : "renaming to", t->path, strerror(errno));
	return -EIO;
}

static void complete(struct transfer *t, CURLcode rc)
{
	char msg[CURL_ERROR_SIZE + 128];
	long http = http_status_of(&t->m->curl, t->easy);
	int status = 0;

	t->m->curl.multi_remove_handle(t->m->multi, t->easy);
	t->added = 0;
	if (t->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(msg, sizeof msg, "larger than the limit of %llu bytes",
			 (unsigned long long)t->m->max_download);
		status = -EFBIG;
	} else if (t->io_errno) {
		snprintf(msg, sizeof msg, "%s %s: %s", t->dir == TRANSFER_DOWNLOAD ? "writing" : "reading",
			 t->dir == TRANSFER_DOWNLOAD ? t->part : t->path, strerror(t->io_errno));
		status = -EIO;
	} else if (http >= 400) {
		snprintf(msg, sizeof msg, "HTTP status %ld", http);
		status = -EIO;
	} else if (rc != CURLE_OK) {
		snprintf(msg, sizeof msg, "%s", t->errbuf[0] ? t->errbuf : t->m->curl.easy_strerror(rc));
		status = status_of(rc);
	} else if (t->dir == TRANSFER_DOWNLOAD) {
		status = commit_download(t, msg, sizeof msg);
	}
	deliver(t, status, msg, http, status == 0);
}

static void check_done(struct transfer_mgr *m)
{
	CURLMsg *msg;
	int left;

	/* One at a time: a callback may cancel a transfer whose message is
	 * queued, and curl then drops that message. */
	while ((msg = m->curl.multi_info_read(m->multi, &left))) {
		char *priv = NULL;
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		m->curl.easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		complete((struct transfer *)priv, rc);
	}
}

static void on_later(uv_timer_t *h)
{
	struct transfer_mgr *m = h->data;
	struct transfer *t;

	/* Look again after each callback: it may start or cancel transfers. */
	for (;;) {
		for (t = m->transfers; t && !t->early; t = t->next)
			;
		if (!t)
			break;
		deliver(t, t->early, t->early_msg, 0, 0);
	}
}

/* ---------------------------------------------------------------- starting */

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;

	if (t->bytes + len > t->m->max_download) {
		t->too_big = 1;
		return 0;
	}
	if (fwrite(data, 1, len, t->fp) != len) {
		t->io_errno = errno ? errno : EIO;
		return 0;
	}
	t->bytes += len;
	return len;
}

/* What a server answers to an upload is not wanted (curl would print it). */
static size_t on_discard(char *data, size_t size, size_t n, void *arg)
{
	return size * n;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t got = fread(buf, 1, size * n, t->fp);

	if (got == 0 && ferror(t->fp)) {
		t->io_errno = errno ? errno : EIO;
		return CURL_READFUNC_ABORT;
	}
	t->bytes += got;
	return got;
}

static int fail_early(struct transfer *t, int status, const char *doing, const char *what)
{
	snprintf(t->early_msg, sizeof t->early_msg, "%s %s: %s", doing, what, strerror(-status));
	t->early = status;
	return status;
}

/* Opens the local side: the temporary file of a download, the file to
 * upload (whose size curl needs). */
static int open_local(struct transfer *t, curl_off_t *size)
{
	struct stat st;

	if (t->dir == TRANSFER_DOWNLOAD) {
		if (asprintf(&t->part, "%s.part", t->path) < 0) {
			t->part = NULL;
			return fail_early(t, -ENOMEM, "starting", "the download");
		}
		if (!(t->fp = fopen(t->part, "wbe")))
			return fail_early(t, -errno, "cannot create", t->part);
		return 0;
	}
	if (!(t->fp = fopen(t->path, "rbe")))
		return fail_early(t, -errno, "cannot open", t->path);
	if (fstat(fileno(t->fp), &st))
		return fail_early(t, -errno, "cannot stat", t->path);
	*size = (curl_off_t)st.st_size;
	return 0;
}

static void set_protocols(const struct curl_api *api, CURL *e, int allow_file)
{
#if LIBCURL_VERSION_NUM >= 0x075500
	api->easy_setopt(e, CURLOPT_PROTOCOLS_STR,
			 allow_file ? "http,https,ftp,ftps,file" : "http,https,ftp,ftps");
	api->easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https,ftp,ftps");
#else
	long net = CURLPROTO_HTTP | CURLPROTO_HTTPS | CURLPROTO_FTP | CURLPROTO_FTPS;
	api->easy_setopt(e, CURLOPT_PROTOCOLS, allow_file ? net | CURLPROTO_FILE : net);
	api->easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, net);
#endif
}

static void set_options(struct transfer *t, const char *url, unsigned timeout_s, curl_off_t size)
{
	struct transfer_mgr *m = t->m;
	CURL *e = t->easy;

	m->curl.easy_setopt(e, CURLOPT_URL, url);
	m->curl.easy_setopt(e, CURLOPT_PRIVATE, (void *)t);
	m->curl.easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	m->curl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	m->curl.easy_setopt(e, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	set_protocols(&m->curl, e, m->allow_file);
	m->curl.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	m->curl.easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
	m->curl.easy_setopt(e, CURLOPT_FAILONERROR, 1L);
	m->curl.easy_setopt(e, CURLOPT_CONNECTTIMEOUT, m->connect_timeout);
	m->curl.easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, m->low_speed_bytes);
	m->curl.easy_setopt(e, CURLOPT_LOW_SPEED_TIME, m->low_speed_time);
	m->curl.easy_setopt(e, CURLOPT_TIMEOUT, (long)timeout_s);
	if (m->ca_file)
		m->curl.easy_setopt(e, CURLOPT_CAINFO, m->ca_file);
	if (t->dir == TRANSFER_DOWNLOAD) {
		m->curl.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
		m->curl.easy_setopt(e, CURLOPT_WRITEDATA, (void *)t);
		m->curl.easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)m->max_download);
	} else {
		m->curl.easy_setopt(e, CURLOPT_UPLOAD, 1L);
		m->curl.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_discard);
		m->curl.easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		m->curl.easy_setopt(e, CURLOPT_READDATA, (void *)t);
		m->curl.easy_setopt(e, CURLOPT_INFILESIZE_LARGE, size);
	}
}

static int setup(struct transfer *t, const char *url, unsigned timeout_s)
{
	curl_off_t size = 0;
	CURLMcode mc;
	int rc;

	if ((rc = open_local(t, &size)))
		return rc;
	if (!(t->easy = t->m->curl.easy_init()))
		return fail_early(t, -ENOMEM, "starting", "curl");
	set_options(t, url, timeout_s, size);
	if ((mc = t->m->curl.multi_add_handle(t->m->multi, t->easy)) != CURLM_OK) {
		snprintf(t->early_msg, sizeof t->early_msg, "%s", t->m->curl.multi_strerror(mc));
		t->early = -EIO;
		return -EIO;
	}
	t->added = 1;
	return 0;
}

struct transfer *transfer_start(struct transfer_mgr *m, enum transfer_dir dir,
				const char *url, const char *path, unsigned timeout_s,
				transfer_done_fn fn, void *arg)
{
	struct transfer *t;

	if (ensure_curl(m))
		return NULL;
	t = calloc(1, sizeof *t);
	if (!t || !(t->path = strdup(path))) {
		free(t);
		return NULL;
	}
	t->m = m;
	t->dir = dir;
	t->fn = fn;
	t->arg = arg;
	t->next = m->transfers;
	m->transfers = t;
	if (setup(t, url, timeout_s))
		uv_timer_start(m->later, on_later, 0, 0);
	return t;
}

void transfer_cancel(struct transfer *t)
{
	if (t)
		release(t, 0);
}

/* ---------------------------------------------------------------- URLs */

char *transfer_join_url(const char *location, const char *name)
{
	size_t cut = strcspn(location, "?#");
	char *out = malloc(strlen(location) + 3 * strlen(name) + 2), *p = out;

	if (!out)
		return NULL;
	memcpy(p, location, cut);
	p += cut;
	if (cut == 0 || location[cut - 1] != '/')
		*p++ = '/';
	for (; *name; name++) {
		unsigned char ch = (unsigned char)*name;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch))
			*p++ = (char)ch;
		else
			p += sprintf(p, "%%%02X", ch);
	}
	strcpy(p, location + cut);
	return out;
}

void transfer_redact_url(const char *url, char *out, size_t size)
{
	const char *auth = strstr(url, "://"), *end, *at = NULL, *colon;

	if (!auth) {
		snprintf(out, size, "%s", url);
		return;
	}
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (!colon) {
		snprintf(out, size, "%s", url);
		return;
	}
	snprintf(out, size, "%.*s:***%s", (int)(colon - url), url, at);
}
