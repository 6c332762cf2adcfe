/* evstationd: the charging-station daemon.
 *
 * Every setting is one entry of `settings` below: the config file
 * (evstationd.conf(5)) and the command line (--name value) fill the same
 * struct, the command line last. One libuv loop runs every station. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "net/transfer.h"
#include "net/wsclient.h"
#include "station/ctl.h"
#include "station/hal_exec.h"
#include "station/hal_sim.h"
#include "station/station.h"
#include "station/stationdb.h"
#include "store/db.h"
#include "util/cfgfile.h"
#include "util/exitcode.h"
#include "util/log.h"

struct settings {
	char *url, *id, *password, *ca_file, *cert_file, *key_file;
	char *vendor, *model, *serial, *firmware_version, *state_dir, *ctl_socket;
	char *firmware_hook, *transfer_ca_file;
	char *lock_cmd, *contactor_cmd, *limit_cmd, *meter_cmd, *display_cmd, *events_cmd;
	long command_timeout_ms, meter_interval_ms, connector_phases, connector_max_current,
	     connector_max_power;
	int hal, connector_type;
	long count, first, connectors, call_timeout;
	long ping_interval, reconnect_min, reconnect_max, log_buffer;
	int ocpp, log_level, syslog;
};

static const char *const versions[] = { "1.6", "2.0.1", NULL };
static const char *const levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const hals[] = { "sim", "exec", NULL };
static const char *const connector_types[] = { "Type1", "Type2", "CCS", NULL };

#define S(name, type, field, def, min, max, choices, help) \
	{ name, type, offsetof(struct settings, field), def, min, max, choices, help }

static const struct cfg_option settings_table[] = {
	S("url", CFG_STRING, url, "ws://127.0.0.1:8180/ocpp", 0, 0, NULL,
	  "central system URL (ws:// or wss://); the station id is appended"),
	S("id", CFG_STRING, id, "CP001", 0, 0, NULL,
	  "station id; with count > 1 a printf pattern such as SIM%04ld"),
	S("count", CFG_INT, count, "1", 1, 100000, NULL, "how many stations to run"),
	S("first", CFG_INT, first, "1", 0, 100000000, NULL, "number of the first station (with count)"),
	S("ocpp", CFG_ENUM, ocpp, "1.6", 0, 0, versions, "OCPP version"),
	S("password", CFG_STRING, password, NULL, 0, 0, NULL,
	  "Basic Auth password (security profiles 1 and 2)"),
	S("ca-file", CFG_STRING, ca_file, NULL, 0, 0, NULL, "CA certificate that signs the central system's"),
	S("cert-file", CFG_STRING, cert_file, NULL, 0, 0, NULL, "client certificate (security profile 3)"),
	S("key-file", CFG_STRING, key_file, NULL, 0, 0, NULL, "client certificate's private key"),
	S("connectors", CFG_INT, connectors, "2", 1, 64, NULL, "connectors per station"),
	S("vendor", CFG_STRING, vendor, "evctl", 0, 0, NULL, "chargePointVendor in BootNotification"),
	S("model", CFG_STRING, model, "evstationd-sim", 0, 0, NULL, "chargePointModel in BootNotification"),
	S("serial", CFG_STRING, serial, NULL, 0, 0, NULL, "chargePointSerialNumber"),
	S("firmware-version", CFG_STRING, firmware_version, NULL, 0, 0, NULL,
	  "firmwareVersion (default: evstationd's version)"),
	S("firmware-hook", CFG_STRING, firmware_hook, NULL, 0, 0, NULL,
	  "command that installs a downloaded firmware image (given its path; prints the new version)"),
	S("transfer-ca-file", CFG_STRING, transfer_ca_file, NULL, 0, 0, NULL,
	  "CA certificate for https/ftps firmware downloads and diagnostics uploads"),
	S("hal", CFG_ENUM, hal, "sim", 0, 0, hals,
	  "the hardware: sim (simulated EV and charger) or exec (external commands)"),
	S("lock-cmd", CFG_STRING, lock_cmd, NULL, 0, 0, NULL, "exec: locks or unlocks a cable (%c %s)"),
	S("contactor-cmd", CFG_STRING, contactor_cmd, NULL, 0, 0, NULL, "exec: closes or opens a contactor (%c %s)"),
	S("limit-cmd", CFG_STRING, limit_cmd, NULL, 0, 0, NULL, "exec: sets the offered limit (%c %v %u %p)"),
	S("meter-cmd", CFG_STRING, meter_cmd, NULL, 0, 0, NULL, "exec: prints a meter reading (%c)"),
	S("display-cmd", CFG_STRING, display_cmd, NULL, 0, 0, NULL, "exec: shows a text (%c %t)"),
	S("events-cmd", CFG_STRING, events_cmd, NULL, 0, 0, NULL,
	  "exec: runs for good, printing plug, token and fault events"),
	S("command-timeout-ms", CFG_INT, command_timeout_ms, "10000", 100, 3600000, NULL,
	  "exec: how long a command may run"),
	S("meter-interval-ms", CFG_INT, meter_interval_ms, "1000", 100, 3600000, NULL,
	  "exec: how often meter-cmd is run"),
	S("connector-type", CFG_ENUM, connector_type, "Type2", 0, 0, connector_types,
	  "exec: every connector's type: Type1, Type2 or CCS"),
	S("connector-phases", CFG_INT, connector_phases, "3", 1, 3, NULL, "exec: phases of every connector"),
	S("connector-max-current", CFG_INT, connector_max_current, "32", 1, 1000, NULL,
	  "exec: each connector's maximum current (A)"),
	S("connector-max-power", CFG_INT, connector_max_power, "0", 0, 1000000, NULL,
	  "exec: each connector's maximum power (W); 0: current x 230 V x phases"),
	S("call-timeout", CFG_INT, call_timeout, "30", 1, 3600, NULL,
	  "seconds to wait for the central system's answer"),
	S("ping-interval", CFG_INT, ping_interval, "60", 0, 86400, NULL,
	  "WebSocket ping after this many idle seconds (0: none) until the central system sets WebSocketPingInterval"),
	S("reconnect-min", CFG_INT, reconnect_min, "1", 1, 3600, NULL,
	  "seconds before the first reconnect attempt (doubling from there)"),
	S("reconnect-max", CFG_INT, reconnect_max, "60", 1, 86400, NULL,
	  "longest wait between reconnect attempts, in seconds"),
	S("state-dir", CFG_STRING, state_dir, NULL, 0, 0, NULL,
	  "where the stations keep their state (default: $XDG_STATE_HOME/evstationd, /var/lib/evstationd for root)"),
	S("ctl-socket", CFG_STRING, ctl_socket, NULL, 0, 0, NULL,
	  "the control socket (default: STATE-DIR/evstationd.sock; \"none\" for none)"),
	S("log-level", CFG_ENUM, log_level, "info", 0, 0, levels, "error, warn, info or debug"),
	S("syslog", CFG_BOOL, syslog, "no", 0, 0, NULL, "log to syslog instead of stderr"),
	S("log-buffer", CFG_INT, log_buffer, "64", 0, 65536, NULL,
	  "KiB of the most recent log lines kept in memory for GetDiagnostics (0: none)"),
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL }
};

struct daemon {
	uv_loop_t *loop;
	struct ws_net *net;
	struct transfer_mgr *transfers;
	struct db *db;
	struct ctl *ctl;
	struct station **stations;
	long n_stations;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t grace;           /* delivering the last messages before exit */
	int stopping;
	uint64_t grace_started;
	const char *config_path;
	struct settings *settings;  /* in force */
	int argc;                   /* the command line, read again on SIGHUP */
	char **argv;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evstationd [-c FILE] [--NAME VALUE...] [--check-config]\n\n"
		"Runs OCPP charging stations (with simulated hardware) connected to a\n"
		"central system.\n\n"
		"options:\n"
		"  -c, --config FILE        read settings from FILE (evstationd.conf(5))\n"
		"      --check-config       check the settings and exit\n"
		"  -h, --help               show this help\n"
		"  -V, --version            print the version\n\n"
		"settings (in FILE as 'name = value', here as --name VALUE):\n");
	for (const struct cfg_option *o = settings_table; o->name; o++) {
		char left[64];
		snprintf(left, sizeof left, "--%s VALUE", o->name);
		fprintf(out, "  %-24s %s%s%s%s\n", left, o->help, o->def ? " [" : "",
			o->def ? o->def : "", o->def ? "]" : "");
	}
	fprintf(out, "\nexit status: 0 ok, 1 failure, 2 usage error, 3 configuration error.\n");
}

static const char *config_path_of(int argc, char **argv)
{
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
	}
	return path;
}

/* Reads defaults, the file, then the command line into s: an exit status,
 * and on failure the reason in err. */
static int read_settings(struct settings *s, int argc, char **argv, const char *config_path,
			 int *check_only, char *err, size_t errlen)
{
	int i;

	*check_only = 0;
	if (cfg_defaults(settings_table, s, err, errlen))
		return EV_EXIT_SOFTWARE;
	if (config_path) {
		int rc = cfg_load(settings_table, s, config_path, err, errlen);
		if (rc)
			return rc == -2 ? EV_EXIT_IO : EV_EXIT_CONFIG;
	}
	for (i = 1; i < argc; i++) {
		char name[64], *eq;
		const char *value;
		const struct cfg_option *o;

		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
			i++;
			continue;
		}
		if (strncmp(argv[i], "--config=", 9) == 0)
			continue;
		if (strcmp(argv[i], "--check-config") == 0) {
			*check_only = 1;
			continue;
		}
		if (strncmp(argv[i], "--", 2) != 0) {
			snprintf(err, errlen, "unexpected argument '%s' (see 'evstationd --help')", argv[i]);
			return EV_EXIT_USAGE;
		}
		snprintf(name, sizeof name, "%s", argv[i] + 2);
		eq = strchr(name, '=');
		if (eq)
			*eq = '\0';
		if (!(o = cfg_find(settings_table, name))) {
			snprintf(err, errlen, "unknown option '--%s' (see 'evstationd --help')", name);
			return EV_EXIT_USAGE;
		}
		if (eq) {
			value = strchr(argv[i], '=') + 1;
		} else if (o->type == CFG_BOOL && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) {
			value = "yes";
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			snprintf(err, errlen, "--%s needs a value", name);
			return EV_EXIT_USAGE;
		}
		if (cfg_set(settings_table, s, name, value, "command line", err, errlen))
			return EV_EXIT_USAGE;
	}
	if (s->hal == 1 && s->count > 1) {
		snprintf(err, errlen, "hal = exec drives one station's hardware: count must be 1");
		return EV_EXIT_CONFIG;
	}
	if (s->count > 1 && !strchr(s->id, '%')) {
		snprintf(err, errlen, "with count %ld, id must be a pattern such as SIM%%04ld", s->count);
		return EV_EXIT_CONFIG;
	}
	if (s->reconnect_max < s->reconnect_min) {
		snprintf(err, errlen, "reconnect-max (%ld) is below reconnect-min (%ld)", s->reconnect_max,
			 s->reconnect_min);
		return EV_EXIT_CONFIG;
	}
	return EV_EXIT_OK;
}

/* The station settings that may change while running (station_reconfigure). */
static void live_station_config(const struct settings *s, struct station_config *sc)
{
	sc->call_timeout_s = (unsigned)s->call_timeout;
	sc->ping_interval_s = s->ping_interval;
	sc->reconnect_min_ms = (unsigned)s->reconnect_min * 1000;
	sc->reconnect_max_ms = (unsigned)s->reconnect_max * 1000;
}

static void make_id(const struct settings *s, long n, char *out, size_t size)
{
	/* The pattern holds one integer conversion; the number is a long. */
	if (strchr(s->id, '%')) {
		char fmt[128];
		const char *conv = strchr(s->id, '%');
		size_t spec = strspn(conv + 1, "0123456789");
		/* Accept %d, %04d, %ld, %04ld: normalise to a long conversion. */
		const char *rest = conv + 1 + spec;
		if (*rest == 'l')
			rest++;
		if (*rest == 'd' && !strchr(rest + 1, '%')) {
			snprintf(fmt, sizeof fmt, "%.*s%%%.*sld%s", (int)(conv - s->id), s->id,
				 (int)spec, conv + 1, rest + 1);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			snprintf(out, size, fmt, n);
#pragma GCC diagnostic pop
			return;
		}
	}
	snprintf(out, size, "%s", s->id);
}

static void shutdown_all(struct daemon *d)
{
	ctl_free(d->ctl);
	d->ctl = NULL;
	for (long i = 0; i < d->n_stations; i++)
		station_free(d->stations[i]);
	d->n_stations = 0;
	transfer_mgr_free(d->transfers);   /* after the stations' firmware objects */
	d->transfers = NULL;
	ws_net_close(d->net);
	uv_close((uv_handle_t *)&d->grace, NULL);
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
}

#define GRACE_MS 5000   /* for the last StopTransactions to go out */

static void grace_check(uv_timer_t *t)
{
	struct daemon *d = t->data;
	int done = 1;

	for (long i = 0; i < d->n_stations; i++)
		done &= station_shutdown(d->stations[i]);
	if (done || uv_now(d->loop) - d->grace_started >= GRACE_MS) {
		if (!done)
			log_warn("evstationd: undelivered messages stay queued for the next start");
		shutdown_all(d);
	}
}

/* The first SIGTERM/SIGINT ends transactions and waits (briefly) for their
 * StopTransaction to be delivered; a second one exits at once. */
static void on_stop_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (d->stopping++) {
		log_info("evstationd: %s again: exiting now", strsignal(signum));
		uv_timer_stop(&d->grace);
		shutdown_all(d);
		return;
	}
	log_info("evstationd: %s: shutting down", strsignal(signum));
	d->grace_started = uv_now(d->loop);
	uv_timer_start(&d->grace, grace_check, 0, 100);
}

/* What SIGHUP applies to a running daemon; everything else needs a restart. */
static int live_setting(const char *name)
{
	static const char *const live[] = { "log-level", "syslog", "log-buffer", "call-timeout",
		"ping-interval", "reconnect-min", "reconnect-max", NULL };

	for (const char *const *p = live; *p; p++)
		if (strcmp(*p, name) == 0)
			return 1;
	return 0;
}

static size_t value_size(const struct cfg_option *o)
{
	return o->type == CFG_STRING ? sizeof(char *) : o->type == CFG_INT ? sizeof(long) : sizeof(int);
}

static int same_value(const struct cfg_option *o, const struct settings *a, const struct settings *b)
{
	const char *x = (const char *)a + o->offset, *y = (const char *)b + o->offset;

	if (o->type == CFG_STRING) {
		const char *sx = *(char *const *)x, *sy = *(char *const *)y;
		return sx == sy || (sx && sy && strcmp(sx, sy) == 0);
	}
	return memcmp(x, y, value_size(o)) == 0;
}

static void swap_value(const struct cfg_option *o, struct settings *a, struct settings *b)
{
	char tmp[sizeof(long) > sizeof(char *) ? sizeof(long) : sizeof(char *)];
	char *x = (char *)a + o->offset, *y = (char *)b + o->offset;
	size_t n = value_size(o);

	memcpy(tmp, x, n);
	memcpy(x, y, n);
	memcpy(y, tmp, n);
}

static void value_text(const struct cfg_option *o, const struct settings *s, char *out, size_t size)
{
	const char *v = (const char *)s + o->offset;

	if (o->type == CFG_STRING)
		snprintf(out, size, "%s", *(char *const *)v ? *(char *const *)v : "(none)");
	else if (o->type == CFG_INT)
		snprintf(out, size, "%ld", *(const long *)v);
	else if (o->type == CFG_BOOL)
		snprintf(out, size, "%s", *(const int *)v ? "yes" : "no");
	else
		snprintf(out, size, "%s", o->choices[*(const int *)v]);
}

static void apply_live(struct daemon *d, const struct settings *old, const struct settings *s)
{
	struct station_config sc = { 0 };

	if (s->syslog != old->syslog) {
		ev_log_close();
		ev_log_open("evstationd", (enum ev_log_level)s->log_level, s->syslog);
	} else {
		ev_log_set_level((enum ev_log_level)s->log_level);
	}
	if (s->log_buffer != old->log_buffer && ev_log_ring_enable((size_t)s->log_buffer * 1024))
		log_error("evstationd: no memory for a %ld KiB log buffer", s->log_buffer);
	live_station_config(s, &sc);
	for (long i = 0; i < d->n_stations; i++)
		station_reconfigure(d->stations[i], &sc);
}

/* SIGHUP: the settings are read again as at the start (defaults, file,
 * command line). What can change live is applied; the rest stays as it is
 * until a restart, and says so. */
static void on_hup(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;
	struct settings s = { 0 };
	char err[512], applied[512] = "", later[512] = "";
	int check_only, n_applied = 0, n_later = 0;

	(void)signum;
	if (!d->config_path) {
		log_info("evstationd: SIGHUP: no config file to reload");
		return;
	}
	if (read_settings(&s, d->argc, d->argv, d->config_path, &check_only, err, sizeof err)) {
		log_error("evstationd: reload failed, keeping the settings in force: %s", err);
		cfg_free(settings_table, &s);
		return;
	}
	for (const struct cfg_option *o = settings_table; o->name; o++) {
		int changed = !same_value(o, d->settings, &s);
		char *list = live_setting(o->name) ? applied : later;

		if (!live_setting(o->name))
			swap_value(o, d->settings, &s);   /* the old value stays in force */
		if (!changed)
			continue;
		if (live_setting(o->name)) {
			char v[128];
			value_text(o, &s, v, sizeof v);
			log_info("evstationd: reload: %s is now %s", o->name, v);
			n_applied++;
		} else {
			log_warn("evstationd: reload: %s changed; it takes effect after a restart", o->name);
			n_later++;
		}
		if (strlen(list) + strlen(o->name) + 3 < sizeof applied)
			snprintf(list + strlen(list), sizeof applied - strlen(list), "%s%s",
				 *list ? ", " : "", o->name);
	}
	/* s now holds the settings in force, d->settings what they replace. */
	apply_live(d, d->settings, &s);
	for (const struct cfg_option *o = settings_table; o->name; o++)
		swap_value(o, d->settings, &s);
	cfg_free(settings_table, &s);
	log_info("evstationd: reloaded %s: %s%s%s%s", d->config_path,
		 n_applied ? "applied " : "nothing to apply", applied,
		 n_later ? "; needs a restart: " : "", later);
}

/* The state directory: the setting, else XDG, else /var/lib for root. */
static int state_dir(const struct settings *s, char *out, size_t size)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (s->state_dir)
		snprintf(out, size, "%s", s->state_dir);
	else if (geteuid() == 0)
		snprintf(out, size, "/var/lib/evstationd");
	else if (xdg && *xdg)
		snprintf(out, size, "%s/evstationd", xdg);
	else if (home && *home)
		snprintf(out, size, "%s/.local/state/evstationd", home);
	else
		return -1;
	/* mkdir -p, private to us. */
	for (char *p = out + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(out, 0700);
			*p = '/';
		}
	}
	return mkdir(out, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* ----------------------------------------------------- control socket */

static struct station *find_station(struct daemon *d, json_t *req, char *err, size_t errlen)
{
	const char *id = json_string_value(json_object_get(req, "station"));

	if (!id && d->n_stations == 1)
		return d->stations[0];
	if (!id) {
		snprintf(err, errlen, "which station? (\"station\": ID)");
		return NULL;
	}
	for (long i = 0; i < d->n_stations; i++)
		if (strcmp(station_id(d->stations[i]), id) == 0)
			return d->stations[i];
	snprintf(err, errlen, "no station '%.60s'", id);
	return NULL;
}

static double num(json_t *req, const char *key, double def)
{
	json_t *v = json_object_get(req, key);
	return json_is_number(v) ? json_number_value(v) : def;
}

static int ctl_request(void *ctx, json_t *req, json_t *reply, char *err, size_t errlen)
{
	struct daemon *d = ctx;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	struct station *st;
	struct hal_sim *sim;
	int64_t now = (int64_t)uv_now(d->loop);
	int c = (int)num(req, "connector", 1), rc;

	if (!cmd) {
		snprintf(err, errlen, "a request needs \"cmd\"");
		return -1;
	}
	if (strcmp(cmd, "list") == 0) {
		json_t *list = json_array();
		for (long i = 0; i < d->n_stations; i++) {
			json_t *o = json_object();
			station_state_json(d->stations[i], o);
			json_object_del(o, "connectors");
			json_array_append_new(list, o);
		}
		json_object_set_new(reply, "stations", list);
		return 0;
	}
	if (!(st = find_station(d, req, err, errlen)))
		return -1;
	sim = station_sim(st);
	if (strcmp(cmd, "state") == 0) {
		station_state_json(st, reply);
		return 0;
	} else if (!sim) {
		snprintf(err, errlen, "%s: the hardware is real (hal = exec), not simulated", cmd);
		return -1;
	} else if (strcmp(cmd, "plug") == 0) {
		struct hal_sim_ev ev = {
			.capacity_kwh = num(req, "capacityKwh", 60), .soc_pct = num(req, "soc", 20),
			.ac_max_current_a = num(req, "maxCurrent", 32), .ac_phases = (int)num(req, "phases", 3),
			.dc_max_power_kw = num(req, "maxPowerKw", 0),
		};
		rc = hal_sim_plug(sim, c, &ev, now);
	} else if (strcmp(cmd, "unplug") == 0) {
		rc = hal_sim_unplug(sim, c, json_is_true(json_object_get(req, "force")), now);
	} else if (strcmp(cmd, "token") == 0) {
		const char *id = json_string_value(json_object_get(req, "id"));
		rc = id ? hal_sim_present_token(sim, (int)num(req, "connector", 0), id, "ISO14443") : -EINVAL;
	} else if (strcmp(cmd, "fault") == 0) {
		const char *code = json_string_value(json_object_get(req, "code"));
		rc = hal_sim_inject_fault(sim, c, code ? code : "OtherError",
					  json_string_value(json_object_get(req, "info")), now);
	} else if (strcmp(cmd, "clear-fault") == 0) {
		rc = hal_sim_clear_fault(sim, c);
	} else {
		snprintf(err, errlen, "unknown cmd '%.40s' (list, state, plug, unplug, token, fault, clear-fault)", cmd);
		return -1;
	}
	if (rc) {
		snprintf(err, errlen, "%s: %s", cmd, strerror(-rc));
		return -1;
	}
	station_hardware_changed(st);
	station_state_json(st, reply);
	return 0;
}

int main(int argc, char **argv)
{
	struct settings s = { 0 };
	struct daemon d = { 0 };
	uv_loop_t loop;
	char dir[4096] = "", err[512];
	int check_only, rc;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return EV_EXIT_OK;
	}
	if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("evstationd %s (OCPP 1.6)\n", PACKAGE_VERSION);
		return EV_EXIT_OK;
	}
	d.config_path = config_path_of(argc, argv);
	rc = read_settings(&s, argc, argv, d.config_path, &check_only, err, sizeof err);
	/* From here on every path frees the settings at the end. */
	if (rc != EV_EXIT_OK || check_only) {
		if (rc == EV_EXIT_OK)
			printf("evstationd: settings are valid\n");
		else
			fprintf(stderr, "evstationd: %s\n", err);
		cfg_free(settings_table, &s);
		return rc;
	}
	d.settings = &s;
	d.argc = argc;
	d.argv = argv;
	ev_log_open("evstationd", (enum ev_log_level)s.log_level, s.syslog);
	/* SQLite's lookaside buffer (120 KiB per connection, all of it touched
	 * at open) saves mallocs we do not need to save: one small database. */
	sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
	/* The most recent lines go into diagnostics uploads. */
	if (s.log_buffer && ev_log_ring_enable((size_t)s.log_buffer * 1024))
		log_warn("evstationd: no memory for a log buffer");
	signal(SIGPIPE, SIG_IGN);

	uv_loop_init(&loop);
	d.loop = &loop;
	d.net = ws_net_new_sized(&loop, (unsigned)s.count);
	/* Before any station: shutdown_all closes these handles. */
	uv_signal_init(&loop, &d.sig_term);
	uv_signal_init(&loop, &d.sig_int);
	uv_signal_init(&loop, &d.sig_hup);
	uv_timer_init(&loop, &d.grace);
	d.sig_term.data = d.sig_int.data = d.sig_hup.data = d.grace.data = &d;
	d.stations = calloc((size_t)s.count, sizeof *d.stations);
	if (!d.net || !d.stations) {
		log_error("evstationd: cannot start the network layer");
		ws_net_free(d.net);
		free(d.stations);
		cfg_free(settings_table, &s);
		return EV_EXIT_SOFTWARE;
	}
	{
		char path[4200];
		if (state_dir(&s, dir, sizeof dir)) {
			log_error("evstationd: cannot make the state directory %s: %s", dir, strerror(errno));
			rc = EV_EXIT_IO;
		} else {
			snprintf(path, sizeof path, "%s/evstationd.db", dir);
			if (stationdb_open(path, &d.db, err, sizeof err)) {
				log_error("evstationd: %s", err);
				rc = EV_EXIT_IO;
			}
		}
		if (rc == EV_EXIT_OK && !(s.ctl_socket && strcmp(s.ctl_socket, "none") == 0)) {
			if (s.ctl_socket)
				snprintf(path, sizeof path, "%s", s.ctl_socket);
			else
				snprintf(path, sizeof path, "%s/evstationd.sock", dir);
			d.ctl = ctl_new(&loop, path, ctl_request, &d, err, sizeof err);
			if (!d.ctl) {
				log_error("evstationd: %s", err);
				rc = EV_EXIT_IO;
			}
		}
	}
	{
		struct transfer_config tc = { .ca_file = s.transfer_ca_file };
		d.transfers = transfer_mgr_new(&loop, &tc);
	}
	struct hal_exec_connector exec_conns[64];
	struct hal_exec_config exec = {
		.lock_cmd = s.lock_cmd, .contactor_cmd = s.contactor_cmd, .limit_cmd = s.limit_cmd,
		.meter_cmd = s.meter_cmd, .display_cmd = s.display_cmd, .events_cmd = s.events_cmd,
		.timeout_ms = (unsigned)s.command_timeout_ms, .meter_interval_ms = (unsigned)s.meter_interval_ms,
		.n_connectors = (int)s.connectors, .connectors = exec_conns,
	};
	for (long c = 0; c < s.connectors; c++)
		exec_conns[c] = (struct hal_exec_connector){
			.type = s.connector_type == 0 ? HAL_CONN_AC_TYPE1 : s.connector_type == 1 ? HAL_CONN_AC_TYPE2
										: HAL_CONN_DC_CCS,
			.phases = (int)s.connector_phases, .max_current_a = (double)s.connector_max_current,
			.max_power_w = (double)s.connector_max_power, .voltage_v = 230 };
	for (long i = 0; rc == EV_EXIT_OK && i < s.count; i++) {
		struct station_config sc = { 0 };
		char work[4300];
		char id[128];

		make_id(&s, s.first + i, id, sizeof id);
		sc.id = id;
		sc.url = s.url;
		sc.version = s.ocpp == 0 ? OCPP_V16 : OCPP_V201;
		sc.password = s.password;
		sc.ca_file = s.ca_file;
		sc.cert_file = s.cert_file;
		sc.key_file = s.key_file;
		sc.vendor = s.vendor;
		sc.model = s.model;
		sc.serial = s.serial;
		sc.firmware_version = s.firmware_version;
		sc.connectors = (int)s.connectors;
		live_station_config(&s, &sc);
		sc.db = d.db;
		sc.transfers = d.transfers;
		sc.firmware_hook = s.firmware_hook;
		sc.hal_exec = s.hal == 1 ? &exec : NULL;
		/* A directory of its own for each station's files. */
		snprintf(work, sizeof work, "%s/%s", dir, id);
		if (mkdir(work, 0700) == 0 || errno == EEXIST)
			sc.work_dir = work;
		d.stations[i] = station_new(&loop, d.net, &sc, err, sizeof err);
		if (!d.stations[i]) {
			log_error("evstationd: %s", err);
			d.n_stations = i;
			rc = EV_EXIT_CONFIG;
			break;
		}
		d.n_stations = i + 1;
	}
	if (rc == EV_EXIT_OK) {
		uv_signal_start(&d.sig_term, on_stop_signal, SIGTERM);
		uv_signal_start(&d.sig_int, on_stop_signal, SIGINT);
		uv_signal_start(&d.sig_hup, on_hup, SIGHUP);
		log_info("evstationd: %ld station%s for %s", s.count, s.count == 1 ? "" : "s", s.url);
	}

	if (rc != EV_EXIT_OK)
		shutdown_all(&d);
	uv_run(&loop, UV_RUN_DEFAULT);
	ws_net_free(d.net);
	db_close(d.db);
	uv_loop_close(&loop);
	free(d.stations);
	cfg_free(settings_table, &s);
	ev_log_close();
	ev_log_ring_enable(0);
	return rc;
}
