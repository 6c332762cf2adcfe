/* evctl serve: the central system. Stations connect over OCPP-J; the REST
 * API (doc/API.md) serves every other evctl command. With no options it
 * keeps its store in the user's state directory and listens on loopback
 * only. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "cli/cmd.h"
#include "csms/csms.h"
#include "util/exitcode.h"
#include "util/log.h"

struct serve_opts {
	const char *config, *listen, *path, *api_listen, *state_dir, *db;
	const char *tls_cert, *tls_key, *tls_ca, *api_tls_cert, *api_tls_key;
	int admission, auto_registration, sync, log_level;
	long heartbeat_interval, call_timeout, ping_interval, message_log_days;
	const char *commit_interval;  /* a string: 0 is a choice, absence the default */
	int message_log, syslog;
};

static const char *const admissions[] = { "known", "auto", NULL };
/* The first choice of each is the default (an enum option starts at 0). */
static const char *const registrations[] = { "pending", "accepted", "rejected", NULL };
static const char *const syncs[] = { "full", "normal", NULL };
static const char *const levels[] = { "info", "warn", "error", "debug", NULL };
static const enum ev_log_level level_values[] = { EV_LOG_INFO, EV_LOG_WARN, EV_LOG_ERROR, EV_LOG_DEBUG };
static const enum registration registration_values[] = { REG_PENDING, REG_ACCEPTED, REG_REJECTED };

#define O(field) offsetof(struct serve_opts, field)
static const struct opt serve_opts[] = {
	{ OPT_STRING, 'c', "config", "FILE", "read settings from FILE (lines of 'name = value', the long options)", O(config), NULL, 0, 0 },
	{ OPT_STRING, 0, "listen", "ADDR:PORT", "OCPP listener (default 127.0.0.1:8180; PORT 0 picks one)", O(listen), NULL, 0, 0 },
	{ OPT_STRING, 0, "path", "PREFIX", "stations connect to PREFIX/<id> (default /ocpp)", O(path), NULL, 0, 0 },
	{ OPT_STRING, 0, "api-listen", "ADDR:PORT", "REST API listener (default 127.0.0.1:8181)", O(api_listen), NULL, 0, 0 },
	{ OPT_STRING, 0, "state-dir", "DIR", "database and API token file (default $XDG_STATE_HOME/evctl)", O(state_dir), NULL, 0, 0 },
	{ OPT_STRING, 0, "db", "FILE", "usage store (default STATE-DIR/evctl.db)", O(db), NULL, 0, 0 },
	{ OPT_STRING, 0, "tls-cert", "FILE", "serve wss:// with this certificate (PEM)", O(tls_cert), NULL, 0, 0 },
	{ OPT_STRING, 0, "tls-key", "FILE", "private key of --tls-cert", O(tls_key), NULL, 0, 0 },
	{ OPT_STRING, 0, "tls-ca", "FILE", "require station certificates signed by this CA (security profile 3)", O(tls_ca), NULL, 0, 0 },
	{ OPT_STRING, 0, "api-tls-cert", "FILE", "serve the API over HTTPS with this certificate", O(api_tls_cert), NULL, 0, 0 },
	{ OPT_STRING, 0, "api-tls-key", "FILE", "private key of --api-tls-cert", O(api_tls_key), NULL, 0, 0 },
	{ OPT_ENUM, 0, "admission", "POLICY", "known: only registered stations; auto: register unknown ones on connect", O(admission), admissions, 0, 0 },
	{ OPT_ENUM, 0, "auto-registration", "STATUS", "what auto-admitted stations get at boot (default pending)", O(auto_registration), registrations, 0, 0 },
	{ OPT_INT, 0, "heartbeat-interval", "SECONDS", "heartbeat interval given to stations (default 300)", O(heartbeat_interval), NULL, 1, 86400 },
	{ OPT_INT, 0, "call-timeout", "SECONDS", "default wait for a station's answer (default 30)", O(call_timeout), NULL, 1, 300 },
	{ OPT_INT, 0, "ping-interval", "SECONDS", "WebSocket ping after this much silence; 0: none (default 60)", O(ping_interval), NULL, 0, 3600 },
	{ OPT_BOOL, 0, "message-log", NULL, "keep every OCPP frame in the store", O(message_log), NULL, 0, 0 },
	{ OPT_INT, 0, "message-log-days", "DAYS", "how long the message log is kept (default 7)", O(message_log_days), NULL, 1, 3650 },
	{ OPT_STRING, 0, "commit-interval", "MS", "messages arriving within MS share one commit; 0: one per loop iteration (default 2)", O(commit_interval), NULL, 0, 0 },
	{ OPT_ENUM, 0, "sync", "MODE", "full: commits survive a power cut (default); normal: a crash only", O(sync), syncs, 0, 0 },
	{ OPT_ENUM, 0, "log-level", "LEVEL", "error, warn, info (default) or debug", O(log_level), levels, 0, 0 },
	{ OPT_BOOL, 0, "syslog", NULL, "log to syslog instead of standard error", O(syslog), NULL, 0, 0 },
	OPT_END_MARK
};
#undef O

static int parse_listen(const char *text, const char *dflt, char *addr, size_t size, int *port)
{
	const char *s = text ? text : dflt, *colon = strrchr(s, ':');
	char *end;
	long p;

	if (!colon || colon == s || (size_t)(colon - s) >= size)
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || p < 0 || p > 65535)
		return -1;
	/* [::1]:8180 */
	if (s[0] == '[' && colon[-1] == ']')
		snprintf(addr, size, "%.*s", (int)(colon - s - 2), s + 1);
	else
		snprintf(addr, size, "%.*s", (int)(colon - s), s);
	*port = (int)p;
	return 0;
}

static int mkdirs(const char *path)
{
	char buf[4096];

	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* $XDG_STATE_HOME/evctl, ~/.local/state/evctl, or /var/lib/evctl for a
 * root without a home environment (a system service). */
static int default_state_dir(char *out, size_t size)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (xdg && *xdg)
		return snprintf(out, size, "%s/evctl", xdg) < (int)size ? 0 : -1;
	if (geteuid() == 0 && !(home && *home))
		return snprintf(out, size, "/var/lib/evctl") < (int)size ? 0 : -1;
	if (!home || !*home)
		return -1;
	return snprintf(out, size, "%s/.local/state/evctl", home) < (int)size ? 0 : -1;
}

struct serve {
	uv_loop_t loop;
	uv_signal_t sigterm, sigint;
	struct csms *cs;
	int stopping;
};

static void on_signal(uv_signal_t *h, int signum)
{
	struct serve *s = h->data;

	if (s->stopping)
		return;
	s->stopping = 1;
	log_info("signal %d: stopping", signum);
	csms_close(s->cs);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	uv_close((uv_handle_t *)&s->sigint, NULL);
}

static int exec_serve(struct cmd_ctx *ctx, void *opts_, int argc, char **argv)
{
	struct serve_opts *o = opts_;
	struct csms_config cfg = { 0 };
	char ocpp_addr[256], api_addr[256], state[4096], db[4200], token[4200], err[512];
	struct serve s = { 0 };

	(void)argv;
	if (argc > 1) {
		cmd_error("serve: takes no operands (see 'evctl serve --help')");
		return EV_EXIT_USAGE;
	}
	ev_log_open("evctl", level_values[o->log_level], o->syslog);
	if (parse_listen(o->listen, "127.0.0.1:8180", ocpp_addr, sizeof ocpp_addr, &cfg.ocpp_port)) {
		cmd_error("serve: --listen: expected ADDRESS:PORT, got '%s'", o->listen);
		return EV_EXIT_USAGE;
	}
	if (parse_listen(o->api_listen, "127.0.0.1:8181", api_addr, sizeof api_addr, &cfg.api_port)) {
		cmd_error("serve: --api-listen: expected ADDRESS:PORT, got '%s'", o->api_listen);
		return EV_EXIT_USAGE;
	}
	if (!o->tls_cert != !o->tls_key || !o->api_tls_cert != !o->api_tls_key) {
		cmd_error("serve: a TLS certificate needs its key, and a key its certificate");
		return EV_EXIT_USAGE;
	}
	if (o->tls_ca && !o->tls_cert) {
		cmd_error("serve: --tls-ca needs --tls-cert and --tls-key (client certificates need TLS)");
		return EV_EXIT_USAGE;
	}
	if (o->state_dir)
		snprintf(state, sizeof state, "%s", o->state_dir);
	else if (default_state_dir(state, sizeof state)) {
		cmd_error("serve: no state directory: set --state-dir, XDG_STATE_HOME or HOME");
		return EV_EXIT_CONFIG;
	}
	if (mkdirs(state)) {
		cmd_error("serve: %s: %s", state, strerror(errno));
		return EV_EXIT_IO;
	}
	snprintf(db, sizeof db, "%s", o->db ? o->db : "");
	if (!o->db)
		snprintf(db, sizeof db, "%s/evctl.db", state);
	snprintf(token, sizeof token, "%s/api-token", state);

	cfg.db_path = db;
	cfg.sync = o->sync == 1 ? DB_SYNC_NORMAL : DB_SYNC_FULL;
	cfg.commit_interval_ms = 2;
	if (o->commit_interval) {
		char *end;
		long ms = strtol(o->commit_interval, &end, 10);
		if (!*o->commit_interval || *end || ms < 0 || ms > 1000) {
			cmd_error("serve: --commit-interval: expected milliseconds from 0 to 1000");
			return EV_EXIT_USAGE;
		}
		cfg.commit_interval_ms = (unsigned)ms;
	}
	cfg.ocpp_address = ocpp_addr;
	cfg.path_prefix = o->path ? o->path : "/ocpp";
	cfg.tls_cert = o->tls_cert;
	cfg.tls_key = o->tls_key;
	cfg.tls_ca = o->tls_ca;
	cfg.ping_interval_s = o->ping_interval ? (unsigned)o->ping_interval : 60;
	cfg.api_address = api_addr;
	cfg.api_cert = o->api_tls_cert;
	cfg.api_key = o->api_tls_key;
	cfg.token_file = token;
	cfg.auto_admission = o->admission == 1;
	cfg.auto_registration = registration_values[o->auto_registration];
	cfg.heartbeat_interval_s = o->heartbeat_interval ? (unsigned)o->heartbeat_interval : 300;
	cfg.pending_interval_s = 60;
	cfg.call_timeout_s = o->call_timeout ? (unsigned)o->call_timeout : 30;
	cfg.message_log = o->message_log;
	cfg.message_log_days = o->message_log_days ? (unsigned)o->message_log_days : 7;
	if (cfg.path_prefix[0] != '/' || cfg.path_prefix[strlen(cfg.path_prefix) - 1] == '/') {
		if (strcmp(cfg.path_prefix, "/") == 0)
			cfg.path_prefix = "";
		else {
			cmd_error("serve: --path: expected /SOMETHING without a trailing slash");
			return EV_EXIT_USAGE;
		}
	}

	uv_loop_init(&s.loop);
	signal(SIGPIPE, SIG_IGN);
	if (csms_new(&s.loop, &cfg, &s.cs, err, sizeof err)) {
		cmd_error("serve: %s", err);
		csms_close(s.cs);
		uv_run(&s.loop, UV_RUN_DEFAULT);
		csms_free(s.cs);
		uv_loop_close(&s.loop);
		return EV_EXIT_IO;
	}
	uv_signal_init(&s.loop, &s.sigterm);
	uv_signal_init(&s.loop, &s.sigint);
	s.sigterm.data = s.sigint.data = &s;
	uv_signal_start(&s.sigterm, on_signal, SIGTERM);
	uv_signal_start(&s.sigint, on_signal, SIGINT);
	if (ctx->json)
		printf("{\"ocpp\":\"%s://%s:%d%s\",\"api\":\"%s://%s:%d/api/v1\",\"state_dir\":\"%s\"}\n",
		       cfg.tls_cert ? "wss" : "ws", ocpp_addr, csms_ocpp_port(s.cs), cfg.path_prefix,
		       cfg.api_cert ? "https" : "http", api_addr, csms_api_port(s.cs), state);
	else
		printf("evctl serve: stations connect to %s://%s:%d%s/<id>; API at %s://%s:%d/api/v1; "
		       "state in %s\n", cfg.tls_cert ? "wss" : "ws", ocpp_addr, csms_ocpp_port(s.cs),
		       cfg.path_prefix, cfg.api_cert ? "https" : "http", api_addr,
		       csms_api_port(s.cs), state);
	fflush(stdout);
	uv_run(&s.loop, UV_RUN_DEFAULT);
	csms_free(s.cs);
	if (uv_loop_close(&s.loop) == UV_EBUSY)
		log_warn("serve: handles left open at exit");
	log_info("stopped");
	return EV_EXIT_OK;
}

const struct cmd serve_commands[] = {
	{ .name = "serve", .operands = "",
	  .summary = "run the central system (OCPP server, usage store, REST API)",
	  .description =
	  "Listens for stations on --listen (OCPP-J 1.6 over WebSocket) and for API clients\n"
	  "on --api-listen, keeps everything stations report in the usage store, and\n"
	  "answers every other evctl command. With no options it keeps its store in the\n"
	  "user's state directory and listens on loopback only. On its first start it\n"
	  "writes an API token to STATE-DIR/api-token for local evctl commands.\n"
	  "Stops cleanly on SIGTERM or SIGINT.",
	  .opts = serve_opts, .opts_size = sizeof(struct serve_opts), .exec = exec_serve,
	  .flags = CMD_CONFIG_FILE },
	{ .name = NULL }
};
