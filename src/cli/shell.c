/* evctl shell: see shell.h.
 *
 * On a terminal, one libuv loop drives everything: a uv_poll on standard
 * input feeds readline's callback interface (rl_callback_read_char), and
 * the event stream (GET /api/v1/events) runs on libcurl's multi interface
 * with a uv_poll per socket and one timer. A command runs inside readline's
 * line handler, so the loop (and the event stream) waits while it runs;
 * events that arrived meanwhile are printed after it, above the prompt. */
#include "config.h"
#include "cli/shell.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <readline/history.h>
#include <readline/readline.h>
#include <uv.h>

#include "cli/client.h"
#include "cli/events.h"
#include "util/cfgfile.h"
#include "util/exitcode.h"

#define PROMPT "evctl> "
#define HISTORY_MAX 1000
#define COMPLETE_TIMEOUT 2L      /* s: asking the API for station ids */
#define EVENTS_IDLE 45L          /* s: keep-alives come every 15 s */
#define EVENTS_RETRY_MIN 2000    /* ms */
#define EVENTS_RETRY_MAX 30000

/* ------------------------------------------------------------ splitting */

struct wordbuf {
	char **words;
	int n, cap;
};

static int push_word(struct wordbuf *b, const char *w, size_t len)
{
	char *copy;

	if (b->n + 2 > b->cap) {
		int cap = b->cap ? b->cap * 2 : 8;
		char **p = realloc(b->words, (size_t)cap * sizeof *p);
		if (!p)
			return -1;
		b->words = p;
		b->cap = cap;
	}
	if (!(copy = strndup(w, len)))
		return -1;
	b->words[b->n++] = copy;
	b->words[b->n] = NULL;
	return 0;
}

void shell_free_words(char **words)
{
	for (char **w = words; w && *w; w++)
		free(*w);
	free(words);
}

int shell_split(const char *line, int *n, char ***words, char *err, size_t errlen)
{
	struct wordbuf b = { NULL, 0, 0 };
	char *buf = malloc(strlen(line) + 1);
	const char *p = line;

	*n = 0;
	*words = NULL;
	if (!buf || push_word(&b, "", 0)) {   /* an empty list is still a list */
		free(buf);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(b.words[--b.n]);
	b.words[0] = NULL;
	for (;;) {
		size_t len = 0;
		int in_word = 0;

		p += strspn(p, " \t\r\n");
		if (!*p || *p == '#')
			break;
		while (*p && !strchr(" \t\r\n", *p)) {
			in_word = 1;
			if (*p == '\'') {
				const char *end = strchr(p + 1, '\'');
				if (!end) {
					snprintf(err, errlen, "unterminated quote (')");
					goto fail;
				}
				memcpy(buf + len, p + 1, (size_t)(end - p - 1));
				len += (size_t)(end - p - 1);
				p = end + 1;
			} else if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
						p++;
					buf[len++] = *p;
				}
				if (*p != '"') {
					snprintf(err, errlen, "unterminated quote (\")");
					goto fail;
				}
				p++;
			} else if (*p == '\\') {
				if (!p[1]) {
					snprintf(err, errlen, "the line ends with a backslash");
					goto fail;
				}
				buf[len++] = p[1];
				p += 2;
			} else {
				buf[len++] = *p++;
			}
		}
		if (in_word && push_word(&b, buf, len)) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	free(buf);
	*n = b.n;
	*words = b.words;
	return 0;
fail:
	free(buf);
	shell_free_words(b.words);
	return -1;
}

/* ---------------------------------------------------------------- state */

struct events;

struct shell {
	const struct cmd_ctx *ctx;
	const struct shell_opts *opts;
	int tty;
	int status;              /* of the last command that failed */
	int done, exit_code;
	int prompting;           /* readline's handler is installed */
	char history[PATH_MAX];

	uv_loop_t loop;
	uv_poll_t input;
	uv_signal_t sigint, sigwinch, sigterm, sighup;
	struct events *events;

	/* The candidates of the completion in progress, for the generator. */
	char **matches;
	size_t n_matches, next_match;
};

/* readline's callbacks (the line handler, the completion functions) take
 * no argument: this is how they find the shell. Set while the shell runs,
 * which also tells a nested `evctl shell` that it is nested. */
static struct shell *the_shell;

/* Prints a line above the prompt without disturbing what is being typed:
 * readline draws an empty prompt and line (clearing what was there), we
 * print, then prompt and line come back with the cursor where it was. */
static void print_above(struct shell *sh, FILE *out, const char *text)
{
	char *line;
	int point;

	if (!sh->prompting || !(line = rl_copy_text(0, rl_end))) {
		fprintf(out, "%s\n", text);
		fflush(out);
		return;
	}
	point = rl_point;
	rl_save_prompt();
	rl_replace_line("", 0);
	rl_redisplay();
	fflush(rl_outstream ? rl_outstream : stdout);
	fprintf(out, "%s\n", text);
	fflush(out);
	rl_restore_prompt();
	rl_replace_line(line, 0);
	rl_point = point;
	rl_forced_update_display();
	free(line);
}

/* -------------------------------------------------------- event stream */

/* The token for the event stream, found as the client finds it
 * (client.c: --token, $EVCTL_TOKEN, the config file, the local token file
 * for a server on this machine), since client.h does not hand it out. */
struct token_file_settings {
	char *server, *token;
};

static const struct cfg_option token_file_options[] = {
	{ "server", CFG_STRING, offsetof(struct token_file_settings, server), NULL, 0, 0, NULL, "" },
	{ "token", CFG_STRING, offsetof(struct token_file_settings, token), NULL, 0, 0, NULL, "" },
	{ NULL, CFG_STRING, 0, NULL, 0, 0, NULL, NULL }
};

static int is_loopback(const char *url)
{
	const char *host = strstr(url, "://");
	size_t len;

	host = host ? host + 3 : url;
	if (host[0] == '[')
		return strncmp(host, "[::1]", 5) == 0;
	len = strcspn(host, ":/?#");
	return (len == 9 && strncasecmp(host, "localhost", 9) == 0) || strncmp(host, "127.", 4) == 0;
}

static char *find_token(const struct cmd_ctx *ctx, const char *server)
{
	struct token_file_settings fs = { NULL, NULL };
	const char *env = getenv("EVCTL_TOKEN");
	char path[PATH_MAX], err[PATH_MAX + 256], buf[1024], *token = NULL;
	FILE *f;

	if (ctx->token)
		return strdup(ctx->token);
	if (env && *env)
		return strdup(env);
	api_config_path(path, sizeof path);
	if (*path && cfg_load(token_file_options, &fs, path, err, sizeof err) == 0 && fs.token)
		token = strdup(fs.token);
	cfg_free(token_file_options, &fs);
	if (token || !is_loopback(server))
		return token;
	api_token_path(path, sizeof path);
	if (!*path || !(f = fopen(path, "r")))
		return NULL;
	buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return *buf ? strdup(buf) : NULL;
}

struct events {
	struct shell *sh;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	struct sse_parser *parser;
	uv_timer_t timeout;        /* libcurl's */
	uv_timer_t retry;          /* the next connection */
	char *server;
	char errbuf[CURL_ERROR_SIZE];
	long http;
	int live;                  /* the stream is flowing */
	int was_live, warned;
	unsigned delay_ms;
	int open_handles;          /* freed when both timers are closed */
};

struct sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct events *ev;
};

static void events_start(struct events *ev);

static void on_retry(uv_timer_t *t)
{
	events_start(t->data);
}

static int on_event(const struct sse_event *e, void *arg)
{
	struct events *ev = arg;
	json_t *data = json_loadb(e->data, e->data_len, JSON_DECODE_ANY, NULL);
	char line[2048];

	event_describe(e->type, data ? data : json_null(), line, sizeof line);
	json_decref(data);
	print_above(ev->sh, stdout, line);
	return 0;
}

static void note(struct events *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct events *ev, const char *fmt, ...)
{
	char text[CURL_ERROR_SIZE + 512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	print_above(ev->sh, stderr, text);
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct events *ev = arg;

	if (!ev->http)
		curl_easy_getinfo(ev->easy, CURLINFO_RESPONSE_CODE, &ev->http);
	if (ev->http != 200)
		return 0;
	if (!ev->live) {
		ev->live = 1;
		ev->delay_ms = 0;
		if (ev->warned)
			note(ev, "evctl: events: receiving from %s again", ev->server);
		ev->warned = 0;
		ev->was_live = 1;
	}
	sse_feed(ev->parser, data, size * n);
	return size * n;
}

/* The stream ended or never began: say so once, try again later. */
static void events_ended(struct events *ev, CURLcode rc)
{
	char why[CURL_ERROR_SIZE + 64];
	long asked = sse_retry_ms(ev->parser);

	curl_multi_remove_handle(ev->multi, ev->easy);
	if (ev->http && ev->http != 200)
		snprintf(why, sizeof why, "HTTP %ld%s", ev->http,
			 ev->http == 401 ? " (the token was refused)" : "");
	else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		snprintf(why, sizeof why, "%s", curl_easy_strerror(rc));   /* the short story */
	else if (rc != CURLE_OK)
		snprintf(why, sizeof why, "%s", *ev->errbuf ? ev->errbuf : curl_easy_strerror(rc));
	else
		snprintf(why, sizeof why, "the server ended the stream");
	if (!ev->warned)
		note(ev, ev->was_live ? "evctl: events: lost %s: %s; reconnecting"
				      : "evctl: events: none from %s: %s; retrying (--no-events: off)",
		     ev->server, why);
	ev->warned = 1;
	ev->live = 0;
	ev->delay_ms = ev->delay_ms ? ev->delay_ms * 2 : EVENTS_RETRY_MIN;
	if (ev->delay_ms > EVENTS_RETRY_MAX)
		ev->delay_ms = EVENTS_RETRY_MAX;
	/* The server's "retry:" wins over our back-off. */
	uv_timer_start(&ev->retry, on_retry, asked > 0 ? (uint64_t)asked : ev->delay_ms, 0);
}

static void check_done(struct events *ev)
{
	CURLMsg *m;
	int pending;

	while ((m = curl_multi_info_read(ev->multi, &pending)))
		if (m->msg == CURLMSG_DONE)
			events_ended(ev, m->data.result);
}

static void on_socket_ready(uv_poll_t *h, int status, int events)
{
	struct sock *s = h->data;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(s->ev->multi, s->fd, flags, &running);
	check_done(s->ev);
}

static void on_curl_timeout(uv_timer_t *t)
{
	struct events *ev = t->data;
	int running;

	curl_multi_socket_action(ev->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(ev);
}

static void sock_closed(uv_handle_t *h)
{
	free(h->data);
}

static int curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct events *ev = userp;
	struct sock *s = socketp;
	int flags = 0;

	if (what == CURL_POLL_REMOVE) {
		if (s) {
			uv_poll_stop(&s->poll);
			uv_close((uv_handle_t *)&s->poll, sock_closed);
			curl_multi_assign(ev->multi, fd, NULL);
		}
		return 0;
	}
	if (!s) {
		if (!(s = calloc(1, sizeof *s)))
			return -1;
		s->fd = fd;
		s->ev = ev;
		s->poll.data = s;
		if (uv_poll_init_socket(&ev->sh->loop, &s->poll, fd)) {
			free(s);
			return -1;
		}
		curl_multi_assign(ev->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		flags |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		flags |= UV_WRITABLE;
	uv_poll_start(&s->poll, flags, on_socket_ready);
	(void)easy;
	return 0;
}

static int curl_timer(CURLM *multi, long ms, void *userp)
{
	struct events *ev = userp;

	if (ms < 0)
		uv_timer_stop(&ev->timeout);
	else
		uv_timer_start(&ev->timeout, on_curl_timeout, (uint64_t)ms, 0);
	(void)multi;
	return 0;
}

/* Commands run in this process and may start programs (sim start): the
 * stream's socket must not outlive the shell in them. */
static int cloexec_socket(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	(void)arg;
	(void)purpose;
	return CURL_SOCKOPT_OK;
}

static void events_start(struct events *ev)
{
	ev->http = 0;
	ev->errbuf[0] = '\0';
	sse_reset(ev->parser);
	curl_multi_add_handle(ev->multi, ev->easy);
}

static void timer_closed(uv_handle_t *h)
{
	struct events *ev = h->data;
	if (--ev->open_handles == 0)
		free(ev);
}

static void events_free(struct events *ev)
{
	if (!ev)
		return;
	if (ev->multi && ev->easy)
		curl_multi_remove_handle(ev->multi, ev->easy);
	if (ev->easy)
		curl_easy_cleanup(ev->easy);
	if (ev->multi)
		curl_multi_cleanup(ev->multi);
	curl_slist_free_all(ev->headers);
	sse_parser_free(ev->parser);
	free(ev->server);
	/* The timers go last: libcurl may still have asked for one above. */
	uv_close((uv_handle_t *)&ev->timeout, timer_closed);
	uv_close((uv_handle_t *)&ev->retry, timer_closed);
}

/* Subscribes to the API's events. Tolerant: without a server the shell
 * works all the same, and says so once. */
static struct events *events_new(struct shell *sh)
{
	struct events *ev = calloc(1, sizeof *ev);
	struct api *api;
	char *url = NULL, *token = NULL, auth[1100], *station = NULL;
	int status, rc = -1;

	if (!ev)
		return NULL;
	ev->sh = sh;
	uv_timer_init(&sh->loop, &ev->timeout);
	uv_timer_init(&sh->loop, &ev->retry);
	ev->timeout.data = ev->retry.data = ev;
	ev->open_handles = 2;
	api = api_open(sh->ctx, &status);   /* says what is wrong with the settings */
	if (api) {
		ev->server = strdup(api_server(api));
		api_close(api);
	}
	ev->parser = sse_parser_new(on_event, ev);
	ev->multi = curl_multi_init();
	ev->easy = curl_easy_init();
	if (!ev->server || !ev->parser || !ev->multi || !ev->easy)
		goto out;
	if (sh->opts->station && !(station = curl_easy_escape(ev->easy, sh->opts->station, 0)))
		goto out;
	if (asprintf(&url, "%s/api/v1/events%s%s", ev->server, station ? "?station=" : "",
		     station ? station : "") < 0) {
		url = NULL;
		goto out;
	}
	token = find_token(sh->ctx, ev->server);
	ev->headers = curl_slist_append(NULL, "Accept: text/event-stream");
	if (token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		ev->headers = ev->headers ? curl_slist_append(ev->headers, auth) : NULL;
	}
	if (!ev->headers)
		goto out;
	curl_multi_setopt(ev->multi, CURLMOPT_SOCKETFUNCTION, curl_socket);
	curl_multi_setopt(ev->multi, CURLMOPT_SOCKETDATA, ev);
	curl_multi_setopt(ev->multi, CURLMOPT_TIMERFUNCTION, curl_timer);
	curl_multi_setopt(ev->multi, CURLMOPT_TIMERDATA, ev);
	curl_easy_setopt(ev->easy, CURLOPT_URL, url);
	curl_easy_setopt(ev->easy, CURLOPT_HTTPHEADER, ev->headers);
	curl_easy_setopt(ev->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ev->easy, CURLOPT_ERRORBUFFER, ev->errbuf);
	curl_easy_setopt(ev->easy, CURLOPT_USERAGENT, "evctl/" PACKAGE_VERSION);
	curl_easy_setopt(ev->easy, CURLOPT_CONNECTTIMEOUT, (long)API_CONNECT_TIMEOUT);
	curl_easy_setopt(ev->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(ev->easy, CURLOPT_LOW_SPEED_TIME, EVENTS_IDLE);
	curl_easy_setopt(ev->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(ev->easy, CURLOPT_WRITEDATA, ev);
	curl_easy_setopt(ev->easy, CURLOPT_SOCKOPTFUNCTION, cloexec_socket);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(ev->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(ev->easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	events_start(ev);
	rc = 0;
out:
	if (token)
		memset(token, 0, strlen(token));
	free(token);
	free(url);
	curl_free(station);
	if (rc) {
		events_free(ev);
		return NULL;
	}
	return ev;
}

/* ----------------------------------------------------- running commands */

static void shell_help(void)
{
	printf("\nIn the shell, commands are typed without 'evctl'; 'exit' or 'quit' (or ^D)\n"
	       "leaves. TAB completes commands, options, their values and station ids.\n");
}

/* Runs one line. */
static void run_line(struct shell *sh, const char *line)
{
	char err[128], **words, **argv;
	int n, rc, first = 0;

	if (shell_split(line, &n, &words, err, sizeof err)) {
		cmd_error("shell: %s", err);
		sh->status = EV_EXIT_USAGE;
		return;
	}
	if (n > 0 && strcmp(words[0], "evctl") == 0)
		first = 1;   /* a line pasted from elsewhere */
	if (n == first) {
		shell_free_words(words);
		return;
	}
	if (strcmp(words[first], "exit") == 0 || strcmp(words[first], "quit") == 0) {
		char *end;
		long code = n > first + 1 ? strtol(words[first + 1], &end, 10) : sh->status;
		if (n > first + 2 || (n > first + 1 && (*end || code < 0 || code > 255))) {
			cmd_error("%s: takes at most one number from 0 to 255", words[first]);
			sh->status = EV_EXIT_USAGE;
		} else {
			sh->done = 1;
			sh->exit_code = (int)code;
		}
		shell_free_words(words);
		return;
	}
	argv = calloc((size_t)(n - first + 2), sizeof *argv);
	if (!argv) {
		cmd_error("out of memory");
		sh->status = EV_EXIT_SOFTWARE;
		shell_free_words(words);
		return;
	}
	argv[0] = "evctl";
	for (int i = first; i < n; i++)
		argv[i - first + 1] = words[i];
	rc = cmd_main(n - first + 1, argv);
	if (rc == EV_EXIT_OK && n == first + 1 && strcmp(words[first], "help") == 0)
		shell_help();
	/* A write error was reported with that command's status; the next
	 * command starts afresh. */
	clearerr(stdout);
	fflush(stdout);
	if (rc)
		sh->status = rc;
	free(argv);
	shell_free_words(words);
}

/* Standard input is not a terminal: one command per line, nothing else. */
static int run_script(struct shell *sh)
{
	char *line = NULL;
	size_t cap = 0;

	while (!sh->done && getline(&line, &cap, stdin) >= 0)
		run_line(sh, line);
	free(line);
	if (ferror(stdin)) {
		cmd_error("shell: standard input: %s", strerror(errno));
		sh->status = EV_EXIT_IO;
	}
	return sh->done ? sh->exit_code : sh->status;
}

/* ------------------------------------------------------------ completion */

struct candidates {
	const char *prefix;
	int options;          /* offer words starting with '-' */
	char **words;
	size_t n, cap;
};

static void add_candidate(const char *word, void *arg)
{
	struct candidates *c = arg;
	char *copy;

	if (strncmp(word, c->prefix, strlen(c->prefix)) != 0 || (word[0] == '-' && !c->options))
		return;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->words[i], word) == 0)
			return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		char **p = realloc(c->words, cap * sizeof *p);
		if (!p)
			return;
		c->words = p;
		c->cap = cap;
	}
	if ((copy = strdup(word)))
		c->words[c->n++] = copy;
}

/* Station ids from the API, once per completion; nothing (and no message:
 * the line being typed must stay intact) when there is no server. */
void shell_complete_stations(const struct cmd_ctx *ctx, cmd_complete_fn fn, void *arg)
{
	int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int status;
	struct api *api;
	json_t *answer = NULL, *st;
	size_t i;

	/* The client reports failures on stderr: here they are expected. */
	fflush(stderr);
	if (saved >= 0 && null >= 0)
		dup2(null, STDERR_FILENO);
	api = api_open(ctx, &status);
	if (api) {
		api_set_timeout(api, COMPLETE_TIMEOUT);
		if (api_get(api, "/api/v1/stations", &answer) == EV_EXIT_OK)
			json_array_foreach(json_object_get(answer, "stations"), i, st)
				if (json_is_string(json_object_get(st, "id")))
					fn(json_string_value(json_object_get(st, "id")), arg);
		json_decref(answer);
		api_close(api);
	}
	fflush(stderr);
	if (saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
	}
	if (null >= 0)
		close(null);
}

static char *next_match(const char *text, int state)
{
	struct shell *sh = the_shell;

	if (state == 0)
		sh->next_match = 0;
	if (sh->next_match >= sh->n_matches)
		return NULL;
	return strdup(sh->matches[sh->next_match++]);
}

static void free_matches(struct shell *sh)
{
	for (size_t i = 0; i < sh->n_matches; i++)
		free(sh->matches[i]);
	free(sh->matches);
	sh->matches = NULL;
	sh->n_matches = 0;
}

static char **complete(const char *text, int start, int end)
{
	struct shell *sh = the_shell;
	struct candidates c = { .prefix = text, .options = text[0] == '-' };
	char *before = strndup(rl_line_buffer, (size_t)start), **words = NULL, operand[64] = "", err[64];
	int n = 0, first = 0;

	rl_attempted_completion_over = 1;   /* no file names unless below */
	free_matches(sh);
	if (!before || shell_split(before, &n, &words, err, sizeof err)) {
		free(before);
		return NULL;
	}
	free(before);
	if (n > 0 && strcmp(words[0], "evctl") == 0)
		first = 1;
	cmd_complete(n - first, words + first, add_candidate, &c, operand, sizeof operand);
	if (n == first) {
		add_candidate("exit", &c);
		add_candidate("quit", &c);
	}
	if (strcmp(operand, "STATION") == 0 && !c.options)
		shell_complete_stations(sh->ctx, add_candidate, &c);
	else if (!c.options && c.n == 0 && (*operand || (n > first && words[n - 1][0] == '-')))
		rl_attempted_completion_over = 0;   /* a FILE, an option's free-form value */
	shell_free_words(words);
	sh->matches = c.words;
	sh->n_matches = c.n;
	(void)end;
	return c.n ? rl_completion_matches(text, next_match) : NULL;
}

/* ------------------------------------------------------------- terminal */

static void shell_stop(struct shell *sh)
{
	if (sh->prompting) {
		rl_callback_handler_remove();
		sh->prompting = 0;
	}
	uv_poll_stop(&sh->input);
	uv_close((uv_handle_t *)&sh->input, NULL);
	uv_close((uv_handle_t *)&sh->sigint, NULL);
	uv_close((uv_handle_t *)&sh->sigwinch, NULL);
	uv_close((uv_handle_t *)&sh->sigterm, NULL);
	uv_close((uv_handle_t *)&sh->sighup, NULL);
	events_free(sh->events);
	sh->events = NULL;
}

static void on_sigint(uv_signal_t *h, int signum);

static void on_line(char *line)
{
	struct shell *sh = the_shell;

	if (!line) {           /* ^D */
		printf("\n");
		sh->done = 1;
		sh->exit_code = sh->status;
	} else {
		if (*line && !isspace((unsigned char)*line)) {
			/* A line typed with a leading blank is left out (as
			 * bash's ignorespace), for tokens and passwords. */
			HIST_ENTRY *last = history_length ? history_get(history_base + history_length - 1) : NULL;
			if (!last || strcmp(last->line, line) != 0) {
				add_history(line);
				if (*sh->history)
					append_history(1, sh->history);
			}
		}
		/* ^C while a command runs ends the shell as it would end
		 * evctl: commands run here and cannot be interrupted safely. */
		uv_signal_stop(&sh->sigint);
		run_line(sh, line);
		uv_signal_start(&sh->sigint, on_sigint, SIGINT);
		free(line);
	}
	if (sh->done)
		shell_stop(sh);
}

static void on_input(uv_poll_t *h, int status, int events)
{
	struct shell *sh = h->data;

	if (status < 0) {
		sh->done = 1;
		sh->exit_code = EV_EXIT_IO;
		shell_stop(sh);
		return;
	}
	rl_callback_read_char();
	(void)events;
}

/* ^C at the prompt drops the line being typed, as in sh. */
static void on_sigint(uv_signal_t *h, int signum)
{
	struct shell *sh = h->data;

	if (!sh->prompting)
		return;
	rl_free_line_state();
	rl_callback_sigcleanup();
	rl_replace_line("", 0);
	printf("^C\n");
	rl_on_new_line();
	rl_redisplay();
	(void)signum;
}

static void on_sigwinch(uv_signal_t *h, int signum)
{
	rl_resize_terminal();
	(void)h;
	(void)signum;
}

/* SIGTERM, SIGHUP: leave the terminal as it was found. */
static void on_sigquit(uv_signal_t *h, int signum)
{
	struct shell *sh = h->data;

	sh->done = 1;
	sh->exit_code = 128 + signum;
	shell_stop(sh);
}

static void history_file(char *out, size_t size)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX];

	*out = '\0';
	if (xdg && *xdg)
		snprintf(dir, sizeof dir, "%s/evctl", xdg);
	else if (home && *home)
		snprintf(dir, sizeof dir, "%s/.local/state/evctl", home);
	else
		return;
	for (char *p = dir + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(dir, 0700);
			*p = '/';
		}
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return;
	if (snprintf(out, size, "%s/history", dir) >= (int)size)
		*out = '\0';
}

static int run_terminal(struct shell *sh)
{
	int fd;

	history_file(sh->history, sizeof sh->history);
	using_history();
	stifle_history(HISTORY_MAX);
	if (*sh->history) {
		/* Private, like a shell's history. */
		if ((fd = open(sh->history, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
			close(fd);
		read_history(sh->history);
	}
	rl_readline_name = "evctl";
	rl_attempted_completion_function = complete;
	rl_completer_quote_characters = "'\"";
	rl_completer_word_break_characters = " \t\n";
	/* Signals are the loop's (below), not readline's: with the callback
	 * interface readline's handlers would only run between keys. */
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;

	uv_loop_init(&sh->loop);
	uv_poll_init(&sh->loop, &sh->input, STDIN_FILENO);
	uv_signal_init(&sh->loop, &sh->sigint);
	uv_signal_init(&sh->loop, &sh->sigwinch);
	uv_signal_init(&sh->loop, &sh->sigterm);
	uv_signal_init(&sh->loop, &sh->sighup);
	sh->input.data = sh->sigint.data = sh->sigwinch.data = sh->sigterm.data = sh->sighup.data = sh;
	uv_signal_start(&sh->sigint, on_sigint, SIGINT);
	uv_signal_start(&sh->sigwinch, on_sigwinch, SIGWINCH);
	uv_signal_start(&sh->sigterm, on_sigquit, SIGTERM);
	uv_signal_start(&sh->sighup, on_sigquit, SIGHUP);
	if (!sh->opts->no_events)
		sh->events = events_new(sh);
	rl_callback_handler_install(PROMPT, on_line);
	sh->prompting = 1;
	uv_poll_start(&sh->input, UV_READABLE, on_input);
	uv_run(&sh->loop, UV_RUN_DEFAULT);
	uv_loop_close(&sh->loop);
	free_matches(sh);
	if (*sh->history)
		history_truncate_file(sh->history, HISTORY_MAX);
	clear_history();
	return sh->exit_code;
}

int shell_run(const struct cmd_ctx *ctx, const struct shell_opts *opts)
{
	struct shell sh = { .ctx = ctx, .opts = opts };
	int rc;

	if (the_shell) {
		cmd_error("shell: already in the shell");
		return EV_EXIT_USAGE;
	}
	/* Commands run inside take the shell's server and token. */
	if (ctx->server)
		setenv("EVCTL_SERVER", ctx->server, 1);
	if (ctx->token)
		setenv("EVCTL_TOKEN", ctx->token, 1);
	the_shell = &sh;
	sh.tty = isatty(STDIN_FILENO);
	if (sh.tty) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = run_terminal(&sh);
		curl_global_cleanup();
	} else {
		rc = run_script(&sh);
	}
	the_shell = NULL;
	return rc;
}
