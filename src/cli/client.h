/* The client of evctl serve's REST API (doc/API.md).
 *
 * Where to connect and with which token, in this order: --server/--token,
 * $EVCTL_SERVER/$EVCTL_TOKEN, the config file ($XDG_CONFIG_HOME/evctl/config,
 * `server = URL` and `token = T` lines), else http://127.0.0.1:8181 and the
 * token file a local `evctl serve` writes. Requests block (the commands are
 * one-shot); API errors become one message and an exit status (EV_EXIT_*).
 *
 * Ownership: request bodies are borrowed; answers are new references the
 * caller decrefs. */
#ifndef EV_CLI_CLIENT_H
#define EV_CLI_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "cli/cmd.h"

#define API_DEFAULT_SERVER "http://127.0.0.1:8181"
#define API_CONNECT_TIMEOUT 5L  /* s */
#define API_TIMEOUT 60L         /* s: a request that needs no station */
#define API_OP_TIMEOUT 30L      /* s: the server's default wait for a station */
#define API_OP_MARGIN 15L       /* s: on top of the server's wait */

struct api;

/* Resolves server and token and prepares a connection. On failure prints
 * the error, sets *status (EV_EXIT_CONFIG, ...) and returns NULL. */
struct api *api_open(const struct cmd_ctx *ctx, int *status);
void api_close(struct api *api);

/* The base URL in use (no trailing '/'). */
const char *api_server(const struct api *api);

/* Limits the next requests to `seconds` in all (0: no limit). */
void api_set_timeout(struct api *api, long seconds);

/* One request to path (below the base URL, e.g. "/api/v1/stations").
 * body may be NULL. On success returns EV_EXIT_OK and *out is the decoded
 * answer (NULL for an empty one); otherwise prints the error (and, with
 * --json, the API's error object on stdout) and returns its exit status. */
int api_request(struct api *api, const char *method, const char *path,
		const json_t *body, json_t **out);

static inline int api_get(struct api *api, const char *path, json_t **out)
{
	return api_request(api, "GET", path, NULL, out);
}

static inline int api_post(struct api *api, const char *path, const json_t *body, json_t **out)
{
	return api_request(api, "POST", path, body, out);
}

static inline int api_patch(struct api *api, const char *path, const json_t *body, json_t **out)
{
	return api_request(api, "PATCH", path, body, out);
}

static inline int api_delete(struct api *api, const char *path)
{
	return api_request(api, "DELETE", path, NULL, NULL);
}

/* A streamed GET (server-sent events): every chunk of a 200 answer goes to
 * fn, which returns 0 to go on or an exit status to stop. A stream idle for
 * idle_s seconds counts as lost. Returns API_STREAM_ENDED when the stream
 * ended or broke after it had begun (the caller may reconnect), fn's
 * status, or the exit status of a failure; nothing is printed: the
 * message is api_error(). */
#define API_STREAM_ENDED (-1)
typedef int (*api_stream_fn)(const char *data, size_t len, void *arg);
int api_stream(struct api *api, const char *path, api_stream_fn fn, void *arg, long idle_s);

/* Whether the last failure may pass by itself: no connection, or a
 * gateway's 502/503/504 (the server restarting behind a proxy). */
int api_transient(const struct api *api);

/* The message of the last failure ("cannot reach ..."), "" if none. */
const char *api_error(const struct api *api);

/* Paths: segments and query values percent-encoded as they are added. */
struct api_path {
	char buf[2048];
	size_t len;
	int has_query;
	int overflow;
};

void api_path_init(struct api_path *p, const char *base);
void api_path_seg(struct api_path *p, const char *segment);
void api_path_param(struct api_path *p, const char *name, const char *value);
void api_path_param_long(struct api_path *p, const char *name, long value);

/* One request for a command, the whole of it: connects with its
 * --server/--token, sends body (borrowed; NULL: none) to path, waits up to
 * timeout_s seconds (0: API_TIMEOUT), disconnects. Prints errors; returns
 * the exit status and, on success, *out as api_request does. */
int api_call(const struct cmd_ctx *ctx, const char *method, const struct api_path *path,
	     const json_t *body, long timeout_s, json_t **out);

/* GETs path and shows the answer: with --json as it is, else by show(). */
int api_get_show(const struct cmd_ctx *ctx, const struct api_path *path,
		 int (*show)(const json_t *answer));

/* Whether a station's answer status means it will do it (Accepted,
 * Scheduled, Unlocked, RebootRequired). */
int api_status_ok(const char *status);

/* Where the config file and the local server's token file are ($HOME and
 * the XDG variables); "" when there is no home. */
void api_config_path(char *buf, size_t size);
void api_token_path(char *buf, size_t size);

#endif
