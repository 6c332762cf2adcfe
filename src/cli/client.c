#include "config.h"
#include "cli/client.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>


#include <curl/curl.h>

#include "cli/output.h"
#include "util/cfgfile.h"
#include "util/exitcode.h"

#define API_MAX_ANSWER (64L << 20)  /* a list of 10,000 sessions fits easily */

struct api {
	char *server;
	char *token;
	char token_from[PATH_MAX + 16];  /* "--token", "EVCTL_TOKEN", a file */
	char token_file[PATH_MAX];       /* the local token file looked for */
	char config_file[PATH_MAX];
	int json;
	int transient;   /* the last failure may pass by itself */
	long timeout;
	int curl_ready;  /* curl_global_init done */
	CURL *curl;
	char curl_err[CURL_ERROR_SIZE];
	char msg[1024];

	/* The answer being received. */
	char *body;
	size_t body_len, body_cap;
	long http;
	api_stream_fn stream_fn;
	void *stream_arg;
	int stream_status;
	int streaming;
};

/* ------------------------------------------------------------ settings */

struct file_settings {
	char *server;
	char *token;
};

static const struct cfg_option file_options[] = {
	{ "server", CFG_STRING, offsetof(struct file_settings, server), NULL, 0, 0, NULL,
	  "URL of the central system's API" },
	{ "token", CFG_STRING, offsetof(struct file_settings, token), NULL, 0, 0, NULL,
	  "API bearer token" },
	{ NULL, CFG_STRING, 0, NULL, 0, 0, NULL, NULL }
};

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

void api_config_path(char *buf, size_t size)
{
	const char *xdg = env("XDG_CONFIG_HOME"), *home = env("HOME");

	if (xdg)
		snprintf(buf, size, "%s/evctl/config", xdg);
	else if (home)
		snprintf(buf, size, "%s/.config/evctl/config", home);
	else
		snprintf(buf, size, "%s", "");
}

void api_token_path(char *buf, size_t size)
{
	const char *xdg = env("XDG_STATE_HOME"), *home = env("HOME");
	static const char system_file[] = "/var/lib/evctl/api-token";

	if (xdg)
		snprintf(buf, size, "%s/evctl/api-token", xdg);
	else if (geteuid() == 0 && access(system_file, F_OK) == 0)
		snprintf(buf, size, "%s", system_file);   /* evctl serve as a system service */
	else if (home)
		snprintf(buf, size, "%s/.local/state/evctl/api-token", home);
	else
		snprintf(buf, size, "%s", "");
}

/* The local token file is only offered to a server on this machine
 * (localhost, 127.0.0.0/8, [::1]): a credential found on disk must not
 * travel to wherever --server points. Anything unusual (user info, a
 * name that merely starts like one) counts as remote. */
static int loopback(const char *url)
{
	const char *host = strstr(url, "://");
	unsigned a, b, c, d;
	char h[64], end;
	size_t len;

	host = host ? host + 3 : url;
	len = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/?#");
	if (len >= sizeof h || (host[len] && !strchr(":/?#", host[len])))
		return 0;
	memcpy(h, host, len);
	h[len] = '\0';
	if (strcasecmp(h, "localhost") == 0 || strcmp(h, "[::1]") == 0)
		return 1;
	return sscanf(h, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &end) == 4 &&
	       a == 127 && b < 256 && c < 256 && d < 256;
}

/* A token goes into a header: printable ASCII only. */
static int token_valid(const char *t)
{
	if (!*t)
		return 0;
	for (; *t; t++)
		if (*t < 0x21 || *t > 0x7e)
			return 0;
	return 1;
}

/* Reads the token file; leaves api->token NULL if there is none. */
static void read_token_file(struct api *api)
{
	char buf[1024];
	FILE *f;
	size_t n;

	api_token_path(api->token_file, sizeof api->token_file);
	if (!*api->token_file || !(f = fopen(api->token_file, "r")))
		return;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (token_valid(buf)) {
		api->token = strdup(buf);
		snprintf(api->token_from, sizeof api->token_from, "%s", api->token_file);
	}
}

static int resolve(struct api *api, const struct cmd_ctx *ctx)
{
	struct file_settings fs = { NULL, NULL };
	const char *server = ctx->server ? ctx->server : env("EVCTL_SERVER");
	const char *token = ctx->token ? ctx->token : env("EVCTL_TOKEN");
	char err[PATH_MAX + 256];
	size_t len;

	api_config_path(api->config_file, sizeof api->config_file);
	if ((!server || !token) && *api->config_file) {
		int rc = cfg_load(file_options, &fs, api->config_file, err, sizeof err);
		if (rc == -1 || (rc == -2 && errno != ENOENT)) {
			cmd_error("%s", err);
			cfg_free(file_options, &fs);
			return EV_EXIT_CONFIG;
		}
	}
	if (!server)
		server = fs.server ? fs.server : API_DEFAULT_SERVER;
	api->server = strdup(server);
	if (token) {
		api->token = strdup(token);
		snprintf(api->token_from, sizeof api->token_from, "%s",
			 ctx->token ? "--token" : "EVCTL_TOKEN");
	} else if (fs.token) {
		api->token = strdup(fs.token);
		snprintf(api->token_from, sizeof api->token_from, "%s", api->config_file);
	}
	cfg_free(file_options, &fs);
	if (!api->server || (token && !api->token)) {
		cmd_error("out of memory");
		return EV_EXIT_SOFTWARE;
	}
	len = strlen(api->server);
	while (len > 0 && api->server[len - 1] == '/')
		api->server[--len] = '\0';
	if (!*api->server) {
		cmd_error("the server URL is empty");
		return EV_EXIT_USAGE;
	}
	if (api->token && !token_valid(api->token)) {
		cmd_error("the token from %s is not printable ASCII", api->token_from);
		return ctx->token ? EV_EXIT_USAGE : EV_EXIT_CONFIG;
	}
	if (!api->token && loopback(api->server))
		read_token_file(api);
	return EV_EXIT_OK;
}

struct api *api_open(const struct cmd_ctx *ctx, int *status)
{
	struct api *api = calloc(1, sizeof *api);

	if (!api) {
		cmd_error("out of memory");
		*status = EV_EXIT_SOFTWARE;
		return NULL;
	}
	api->json = ctx->json;
	api->timeout = API_TIMEOUT;
	*status = resolve(api, ctx);
	if (*status) {
		api_close(api);
		return NULL;
	}
	/* Reference-counted: pairs with the cleanup in api_close. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cmd_error("cannot initialise libcurl");
		*status = EV_EXIT_SOFTWARE;
		api_close(api);
		return NULL;
	}
	api->curl_ready = 1;
	if (!(api->curl = curl_easy_init())) {
		cmd_error("cannot initialise libcurl");
		*status = EV_EXIT_SOFTWARE;
		api_close(api);
		return NULL;
	}
	return api;
}

void api_close(struct api *api)
{
	if (!api)
		return;
	if (api->curl)
		curl_easy_cleanup(api->curl);
	if (api->curl_ready)
		curl_global_cleanup();
	free(api->server);
	free(api->token);
	free(api->body);
	free(api);
}

const char *api_server(const struct api *api) { return api->server; }
const char *api_error(const struct api *api) { return api->msg; }
int api_transient(const struct api *api) { return api->transient; }
void api_set_timeout(struct api *api, long seconds) { api->timeout = seconds; }

/* ------------------------------------------------------------ paths */

static void path_add(struct api_path *p, const char *s, int escape)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s && !p->overflow; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = !escape || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || strchr("-._~", c);
		if (p->len + (plain ? 1 : 3) >= sizeof p->buf) {
			p->overflow = 1;
			break;
		}
		if (plain) {
			p->buf[p->len++] = (char)c;
		} else {
			p->buf[p->len++] = '%';
			p->buf[p->len++] = hex[c >> 4];
			p->buf[p->len++] = hex[c & 15];
		}
	}
	p->buf[p->len] = '\0';
}

void api_path_init(struct api_path *p, const char *base)
{
	p->len = 0;
	p->has_query = 0;
	p->overflow = 0;
	p->buf[0] = '\0';
	path_add(p, base, 0);
}

void api_path_seg(struct api_path *p, const char *segment)
{
	path_add(p, "/", 0);
	path_add(p, segment, 1);
}

void api_path_param(struct api_path *p, const char *name, const char *value)
{
	if (!value)
		return;
	path_add(p, p->has_query ? "&" : "?", 0);
	p->has_query = 1;
	path_add(p, name, 1);
	path_add(p, "=", 0);
	path_add(p, value, 1);
}

void api_path_param_long(struct api_path *p, const char *name, long value)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%ld", value);
	api_path_param(p, name, buf);
}

/* ------------------------------------------------------------ answers */

int api_status_ok(const char *status)
{
	static const char *const ok[] = { "Accepted", "Scheduled", "Unlocked", "RebootRequired", NULL };

	for (int i = 0; status && ok[i]; i++)
		if (strcmp(status, ok[i]) == 0)
			return 1;
	return 0;
}

static int fail(struct api *api, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct api *api, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(api->msg, sizeof api->msg, fmt, ap);
	va_end(ap);
	return status;
}

/* The API's error codes (doc/API.md "Errors") and what they mean here. */
static const struct {
	const char *code;
	int status;
} error_codes[] = {
	{ "bad_request", EV_EXIT_USAGE },
	{ "too_large", EV_EXIT_USAGE },
	{ "unauthorized", EV_EXIT_SERVER },
	{ "not_found", EV_EXIT_NOTFOUND },
	{ "method_not_allowed", EV_EXIT_SOFTWARE },
	{ "conflict", EV_EXIT_FAILURE },
	{ "station_offline", EV_EXIT_STATION },
	{ "rejected", EV_EXIT_STATION },
	{ "bad_response", EV_EXIT_STATION },
	{ "busy", EV_EXIT_STATION },
	{ "timeout", EV_EXIT_STATION },
	{ "internal", EV_EXIT_SERVER },
};

static int unauthorized(struct api *api)
{
	if (api->token)
		return fail(api, EV_EXIT_SERVER, "%s refused the token from %s",
			    api->server, api->token_from);
	if (*api->token_file)
		return fail(api, EV_EXIT_SERVER,
			    "%s wants a token: use --token, EVCTL_TOKEN or 'token =' in %s "
			    "(a local evctl serve writes it to %s)",
			    api->server, *api->config_file ? api->config_file : "the config file",
			    api->token_file);
	return fail(api, EV_EXIT_SERVER, "%s wants a token: use --token, EVCTL_TOKEN or 'token =' in %s",
		    api->server, *api->config_file ? api->config_file : "the config file");
}

/* Turns an error answer into a message and an exit status. */
static int http_error(struct api *api, json_t *answer)
{
	json_t *e = json_object_get(answer, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *message = json_string_value(json_object_get(e, "message"));
	const char *ocpp = json_string_value(json_object_get(e, "ocpp_error"));
	const char *desc = json_string_value(json_object_get(e, "ocpp_description"));
	int status = api->http == 404 ? EV_EXIT_NOTFOUND : EV_EXIT_SERVER;

	if (api->http == 401 || (code && strcmp(code, "unauthorized") == 0))
		return unauthorized(api);
	if (!code || !message) {
		api->transient = api->http == 502 || api->http == 503 || api->http == 504;
		return fail(api, status, "%s: unexpected answer: HTTP %ld", api->server, api->http);
	}
	for (size_t i = 0; i < sizeof error_codes / sizeof *error_codes; i++)
		if (strcmp(code, error_codes[i].code) == 0)
			status = error_codes[i].status;
	if (ocpp && !strstr(message, ocpp))
		return fail(api, status, "%s: %s%s%s", message, ocpp,
			    desc && *desc ? ": " : "", desc && *desc ? desc : "");
	return fail(api, status, "%s", message);
}

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
	struct api *api = arg;
	size_t len = size * n;

	if (!api->http)
		curl_easy_getinfo(api->curl, CURLINFO_RESPONSE_CODE, &api->http);
	if (api->stream_fn && api->http == 200) {
		api->streaming = 1;
		api->stream_status = api->stream_fn(data, len, api->stream_arg);
		return api->stream_status ? 0 : len;
	}
	if (api->body_len + len + 1 > api->body_cap) {
		size_t cap = api->body_cap ? api->body_cap : 4096;
		char *p;
		while (cap < api->body_len + len + 1)
			cap *= 2;
		if (cap > API_MAX_ANSWER || !(p = realloc(api->body, cap)))
			return 0;
		api->body = p;
		api->body_cap = cap;
	}
	memcpy(api->body + api->body_len, data, len);
	api->body_len += len;
	api->body[api->body_len] = '\0';
	return len;
}

/* Sets up one request; returns the header list to free after it. */
static struct curl_slist *prepare(struct api *api, const char *method, const char *url,
				  const char *payload, int stream)
{
	struct curl_slist *h = NULL;
	const char *lines[4];
	char auth[1100];
	size_t n = 0;
	CURL *c = api->curl;

	curl_easy_reset(c);
	api->body_len = 0;
	api->http = 0;
	api->msg[0] = '\0';
	api->curl_err[0] = '\0';
	api->streaming = 0;
	api->stream_status = 0;
	api->transient = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, api->curl_err);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "evctl/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, API_CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, api);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (stream) {
		/* Keep-alive comments come every 15 s: silence means a dead peer. */
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, api->timeout);
	} else {
		curl_easy_setopt(c, CURLOPT_TIMEOUT, api->timeout);
	}
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	/* A POST without a body still says so (Content-Length: 0). */
	if (payload || strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload ? payload : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, payload ? (long)strlen(payload) : 0L);
	}
	lines[n++] = stream ? "Accept: text/event-stream" : "Accept: application/json";
	lines[n++] = "Expect:";   /* no 100-continue round trip */
	/* "Content-Type:" alone drops the form type curl would give a POST. */
	lines[n++] = payload ? "Content-Type: application/json" : "Content-Type:";
	if (api->token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", api->token);
		lines[n++] = auth;
	}
	for (size_t i = 0; i < n; i++) {
		struct curl_slist *next = curl_slist_append(h, lines[i]);
		if (!next) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = next;
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	return h;
}

static int transport_error(struct api *api, CURLcode rc)
{
	const char *why = *api->curl_err ? api->curl_err : curl_easy_strerror(rc);
	curl_off_t connected = 0;

	curl_easy_getinfo(api->curl, CURLINFO_CONNECT_TIME_T, &connected);
	api->transient = 1;
	if (rc == CURLE_OPERATION_TIMEDOUT && connected > 0)
		return fail(api, EV_EXIT_SERVER, "%s: no answer within %ld s", api->server, api->timeout);
	if (rc == CURLE_WRITE_ERROR && !api->stream_status)
		return fail(api, EV_EXIT_SERVER, "%s: answer too large or out of memory", api->server);
	return fail(api, EV_EXIT_SERVER, "cannot reach %s: %s", api->server, why);
}

static int perform(struct api *api, const char *method, const char *path, const json_t *body,
		   json_t **out, int stream)
{
	struct curl_slist *headers;
	char *payload = NULL, *url;
	json_t *answer = NULL;
	json_error_t jerr;
	CURLcode rc;
	int status;

	if (out)
		*out = NULL;
	if (body && !(payload = json_dumps(body, JSON_COMPACT)))
		return fail(api, EV_EXIT_SOFTWARE, "out of memory");
	if (asprintf(&url, "%s%s", api->server, path) < 0) {
		free(payload);
		return fail(api, EV_EXIT_SOFTWARE, "out of memory");
	}
	headers = prepare(api, method, url, payload, stream);
	if (!headers) {
		free(url);
		free(payload);
		return fail(api, EV_EXIT_SOFTWARE, "out of memory");
	}
	rc = curl_easy_perform(api->curl);
	curl_slist_free_all(headers);
	free(url);
	free(payload);
	if (api->stream_status)
		return api->stream_status;
	if (api->streaming)
		return API_STREAM_ENDED;   /* however it ended, it had begun */
	if (rc != CURLE_OK)
		return transport_error(api, rc);
	curl_easy_getinfo(api->curl, CURLINFO_RESPONSE_CODE, &api->http);
	if (api->body_len) {
		answer = json_loadb(api->body, api->body_len, 0, &jerr);
		if (!answer) {
			api->transient = api->http == 502 || api->http == 503 || api->http == 504;
			return fail(api, EV_EXIT_SERVER,
				    "%s: the answer is not JSON (HTTP %ld; is this evctl serve's API?)",
				    api->server, api->http);
		}
	}
	if (api->http >= 200 && api->http < 300 && !stream) {
		if (out)
			*out = answer;
		else
			json_decref(answer);
		return EV_EXIT_OK;
	}
	status = api->http >= 200 && api->http < 300
		? fail(api, EV_EXIT_SERVER, "%s%s: not an event stream", api->server, path)
		: http_error(api, answer);
	if (api->json && json_object_get(answer, "error") && out)
		*out = answer;   /* the caller shows the API's error object */
	else
		json_decref(answer);
	return status;
}

int api_request(struct api *api, const char *method, const char *path,
		const json_t *body, json_t **out)
{
	json_t *answer = NULL;
	int status;

	api->stream_fn = NULL;
	status = perform(api, method, path, body, &answer, 0);
	if (status) {
		if (answer) {
			output_json(answer);
			json_decref(answer);
		}
		cmd_error("%s", api->msg);
		return status;
	}
	if (out)
		*out = answer;
	else
		json_decref(answer);
	return EV_EXIT_OK;
}

int api_stream(struct api *api, const char *path, api_stream_fn fn, void *arg, long idle_s)
{
	long saved = api->timeout;
	int status;

	api->stream_fn = fn;
	api->stream_arg = arg;
	api->timeout = idle_s;
	status = perform(api, "GET", path, NULL, NULL, 1);
	api->timeout = saved;
	api->stream_fn = NULL;
	return status;
}

int api_call(const struct cmd_ctx *ctx, const char *method, const struct api_path *path,
	     const json_t *body, long timeout_s, json_t **out)
{
	struct api *api;
	int rc;

	*out = NULL;
	if (path->overflow) {
		cmd_error("%s: operands too long", ctx->path);
		return EV_EXIT_USAGE;
	}
	if (!(api = api_open(ctx, &rc)))
		return rc;
	if (timeout_s)
		api_set_timeout(api, timeout_s);
	rc = api_request(api, method, path->buf, body, out);
	api_close(api);
	return rc;
}

int api_get_show(const struct cmd_ctx *ctx, const struct api_path *path,
		 int (*show)(const json_t *answer))
{
	json_t *answer;
	int rc = api_call(ctx, "GET", path, NULL, 0, &answer);

	if (rc == EV_EXIT_OK) {
		if (ctx->json)
			output_json(answer);
		else
			rc = show(answer);
	}
	json_decref(answer);
	return rc;
}
