#include "config.h"
#include "station/station_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/rfc3339.h"
#include "util/uvtimer.h"

#define BOOT_RETRY_DEFAULT_S 30   /* when the central system names no interval */

static int64_t mono_ms(const struct station *st)
{
	return (int64_t)uv_now(st->loop);
}

int64_t station_now_ms(const struct station *st)
{
	return ev_now_ms() + st->clock_offset_ms;
}

/* Keeps the RPC engine's deadline (a call's timeout) on a libuv timer. */
static void rpc_timer_fired(uv_timer_t *t);

static void rearm_rpc_timer(struct station *st)
{
	int64_t deadline = ocpp_rpc_next_deadline(st->rpc), now = mono_ms(st);

	if (deadline < 0) {
		uv_timer_stop(st->rpc_timer);
		return;
	}
	uv_timer_start(st->rpc_timer, rpc_timer_fired, deadline > now ? (uint64_t)(deadline - now) : 0, 0);
}

static void rpc_timer_fired(uv_timer_t *t)
{
	struct station *st = t->data;
	ocpp_rpc_tick(st->rpc, mono_ms(st));
	rearm_rpc_timer(st);
}

int station_call(struct station *st, const char *action, json_t *payload,
		 ocpp_result_fn fn, void *arg)
{
	int rc;

	if (st->closing) {
		json_decref(payload);
		return -ECANCELED;
	}
	rc = ocpp_rpc_call(st->rpc, action, payload, st->cfg.call_timeout_s * 1000,
			   fn, arg, mono_ms(st), NULL);
	if (rc)
		log_error("%s: cannot send %s: %s", st->id, action, strerror(-rc));
	rearm_rpc_timer(st);
	return rc;
}

int station_reply(struct station *st, const char *id, json_t *payload)
{
	int rc = ocpp_rpc_reply(st->rpc, id, payload);
	rearm_rpc_timer(st);
	return rc;
}

int station_reply_error(struct station *st, const char *id, enum ocpp_error code,
			const char *description)
{
	return ocpp_rpc_reply_error(st->rpc, id, code, description);
}

/* ------------------------------------------------------------ timers */

static void heartbeat_fired(uv_timer_t *t)
{
	struct station *st = t->data;
	if (st->registration == STATION_ACCEPTED && ws_client_is_open(st->ws))
		st->adapter->heartbeat(st);
}

void station_set_heartbeat_interval(struct station *st, unsigned seconds)
{
	st->heartbeat_interval_s = seconds;
	if (seconds && st->registration == STATION_ACCEPTED)
		uv_timer_start(st->heartbeat_timer, heartbeat_fired, seconds * 1000ULL,
			       seconds * 1000ULL);
	else
		uv_timer_stop(st->heartbeat_timer);
}

void station_set_ping_interval(struct station *st, unsigned seconds)
{
	if (st->ws)
		ws_client_set_ping_interval(st->ws, seconds);
}

static void boot_fired(uv_timer_t *t)
{
	struct station *st = t->data;
	if (ws_client_is_open(st->ws))
		st->adapter->boot(st);
}

void station_boot_answered(struct station *st, enum station_registration reg,
			   unsigned interval_s, int64_t central_now_ms)
{
	enum station_registration before = st->registration;

	if (central_now_ms)
		st->clock_offset_ms = central_now_ms - ev_now_ms();
	st->registration = reg;
	if (reg == STATION_ACCEPTED) {
		log_info("%s: accepted by the central system (heartbeat %us)", st->id, interval_s);
		station_set_heartbeat_interval(st, interval_s ? interval_s : st->heartbeat_interval_s);
		charging_set_sample_interval(st, (unsigned)st->adapter->setting(st, SET_METER_SAMPLE_INTERVAL));
		charging_align_clock(st);
		if (before != STATION_ACCEPTED)
			charging_announce(st);
		charging_pump(st);
		return;
	}
	/* Pending, Rejected, or no usable answer: boot again later. */
	if (!interval_s)
		interval_s = BOOT_RETRY_DEFAULT_S;
	log_info("%s: registration %s; booting again in %us", st->id,
		 reg == STATION_PENDING ? "pending" : reg == STATION_REJECTED ? "rejected" : "unanswered",
		 interval_s);
	uv_timer_start(st->boot_timer, boot_fired, interval_s * 1000ULL, 0);
}

void station_restart(struct station *st)
{
	log_info("%s: restarting the OCPP session", st->id);
	st->registration = STATION_BOOTING;
	uv_timer_stop(st->heartbeat_timer);
	ws_client_drop(st->ws, "reset");
}

/* -------------------------------------------------------- connection */

static int rpc_send(void *ctx, const char *text, size_t len)
{
	struct station *st = ctx;
	return ws_client_send(st->ws, text, len) ? -1 : 0;
}

static void rpc_on_call(void *ctx, const char *id, const struct ocpp_action *a, json_t *payload)
{
	struct station *st = ctx;

	/* A rejected station answers nothing but boots again (1.6 4.2.1,
	 * 2.0.1 B02); a pending one takes calls. */
	if (st->registration == STATION_REJECTED || st->registration == STATION_BOOTING) {
		station_reply_error(st, id, OCPP_ERR_SECURITY, "not registered with the central system");
		return;
	}
	st->adapter->on_call(st, id, a, payload);
}

static const struct ocpp_rpc_ops rpc_ops = { rpc_send, rpc_on_call, NULL };

static void ws_open(void *ctx)
{
	struct station *st = ctx;

	ocpp_rpc_connected(st->rpc, mono_ms(st));
	/* A station that was accepted before does not boot again on a mere
	 * reconnect (OCPP-J 5.4); one that was not, does. */
	if (st->registration != STATION_ACCEPTED)
		st->adapter->boot(st);
	else
		charging_reconnected(st);
	rearm_rpc_timer(st);
}

static void ws_message(void *ctx, const char *text, size_t len)
{
	struct station *st = ctx;
	ocpp_rpc_receive(st->rpc, text, len, mono_ms(st));
	rearm_rpc_timer(st);
}

static void ws_close(void *ctx, const char *why, unsigned retry_ms)
{
	struct station *st = ctx;
	log_info("%s: disconnected (%s); retrying in %.1fs", st->id, why, retry_ms / 1000.0);
	ocpp_rpc_disconnected(st->rpc);
	uv_timer_stop(st->boot_timer);
	rearm_rpc_timer(st);
}

static const struct ws_client_ops ws_ops = { ws_open, ws_message, ws_close };

/* ---------------------------------------------------------- lifetime */


/* Copies the config's strings so the caller's may go away. */
static int keep_strings(struct station *st, const struct station_config *cfg)
{
	const char **fields[] = { &st->cfg.id, &st->cfg.url, &st->cfg.password, &st->cfg.ca_file,
				  &st->cfg.cert_file, &st->cfg.key_file, &st->cfg.vendor,
				  &st->cfg.model, &st->cfg.serial, &st->cfg.firmware_version,
				  &st->cfg.work_dir, &st->cfg.firmware_hook };

	st->cfg = *cfg;
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		if (!*fields[i])
			continue;
		st->strings[i] = strdup(*fields[i]);
		if (!st->strings[i])
			return -1;
		*fields[i] = st->strings[i];
	}
	st->id = st->strings[0];
	return 0;
}

struct station *station_new(uv_loop_t *loop, struct ws_net *net,
			    const struct station_config *cfg, char *err, size_t errlen)
{
	struct station *st = calloc(1, sizeof *st);
	struct ws_client_config wc = { 0 };

	if (!st || !cfg->id || keep_strings(st, cfg)) {
		snprintf(err, errlen, cfg->id ? "out of memory" : "a station needs an id");
		station_free(st);
		return NULL;
	}
	if (cfg->version != OCPP_V16) {
		snprintf(err, errlen, "%s: OCPP %s stations are not supported yet", cfg->id,
			 ocpp_version_name(cfg->version));
		station_free(st);
		return NULL;
	}
	st->loop = loop;
	st->adapter = &station_adapter_16;
	st->heartbeat_interval_s = 300;
	if (!st->cfg.call_timeout_s)
		st->cfg.call_timeout_s = 30;
	st->rpc = ocpp_rpc_new(cfg->version, OCPP_ROLE_STATION, &rpc_ops, st);
	st->rpc_timer = ev_timer_new(loop, st);
	st->heartbeat_timer = ev_timer_new(loop, st);
	st->boot_timer = ev_timer_new(loop, st);
	if (!st->rpc || !st->rpc_timer || !st->heartbeat_timer || !st->boot_timer) {
		snprintf(err, errlen, "out of memory");
		station_free(st);
		return NULL;
	}
	/* The station's own state first: the adapter restores from it. */
	if (!cfg->db || stationdb_new(cfg->db, st->id, &st->db)) {
		snprintf(err, errlen, "%s: cannot open its state", st->id);
		station_free(st);
		return NULL;
	}
	if (st->adapter->init(st, err, errlen) || charging_init(st, err, errlen)) {
		station_free(st);
		return NULL;
	}
	wc.url = st->cfg.url;
	wc.station_id = st->id;
	wc.subprotocol = ocpp_version_subprotocol(cfg->version);
	wc.password = st->cfg.password;
	/* An AuthorizationKey the central system set replaces the
	 * configured password (1.6 security whitepaper). */
	{
		char *key = NULL;
		if (stationdb_config_get(st->db, "AuthorizationKey", &key) == 0 && key && *key) {
			free(st->strings[2]);
			st->strings[2] = key;
			st->cfg.password = key;
			wc.password = key;
		} else {
			free(key);
		}
	}
	wc.ca_file = st->cfg.ca_file;
	wc.cert_file = st->cfg.cert_file;
	wc.key_file = st->cfg.key_file;
	wc.ping_interval_s = (unsigned)st->adapter->setting(st, SET_PING_INTERVAL);
	wc.backoff_min_ms = cfg->reconnect_min_ms;
	wc.backoff_max_ms = cfg->reconnect_max_ms;
	st->ws = ws_client_new(net, &wc, &ws_ops, st, err, errlen);
	if (!st->ws) {
		station_free(st);
		return NULL;
	}
	return st;
}

void station_reconfigure(struct station *st, const struct station_config *cfg)
{
	st->cfg.call_timeout_s = cfg->call_timeout_s ? cfg->call_timeout_s : 30;
	st->cfg.reconnect_min_ms = cfg->reconnect_min_ms;
	st->cfg.reconnect_max_ms = cfg->reconnect_max_ms;
	ws_client_set_backoff(st->ws, cfg->reconnect_min_ms, cfg->reconnect_max_ms);
	if (cfg->ping_interval_s != st->cfg.ping_interval_s) {
		st->cfg.ping_interval_s = cfg->ping_interval_s;
		st->adapter->default_setting(st, SET_PING_INTERVAL,
					     cfg->ping_interval_s < 0 ? 60 : cfg->ping_interval_s);
	}
}

void station_free(struct station *st)
{
	if (!st)
		return;
	st->closing = 1;
	ws_client_free(st->ws);
	ocpp_rpc_free(st->rpc);
	charging_fini(st);
	ev_timer_free(st->rpc_timer);
	ev_timer_free(st->heartbeat_timer);
	ev_timer_free(st->boot_timer);
	if (st->proto)
		st->adapter->fini(st);
	if (st->db)
		stationdb_free(st->db);
	for (size_t i = 0; i < sizeof st->strings / sizeof *st->strings; i++)
		free(st->strings[i]);
	free(st);
}

int station_shutdown(struct station *st)
{
	station_stop_all(st, STOP_REBOOT);
	return !station_is_connected(st) || st->registration != STATION_ACCEPTED ||
	       charging_queue_empty(st);
}

const char *station_id(const struct station *st) { return st->id; }
struct hal_sim *station_sim(struct station *st) { return st->sim; }

void station_hardware_changed(struct station *st)
{
	/* The simulation delivered its events already; its next deadline
	 * (an EV getting full) may have moved. */
	hal_tick(st->hal, (int64_t)uv_now(st->loop));
}

void station_state_json(struct station *st, json_t *obj)
{
	static const char *const reg[] = { "booting", "pending", "accepted", "rejected" };
	json_t *conns = json_array();

	if (st->sim)
		hal_sim_advance(st->sim, (int64_t)uv_now(st->loop));
	json_object_set_new(obj, "id", json_string(st->id));
	json_object_set_new(obj, "hardware", json_string(st->sim ? "simulated" : "external commands"));
	json_object_set_new(obj, "registration", json_string(reg[st->registration]));
	json_object_set_new(obj, "connected", json_boolean(station_is_connected(st)));
	for (unsigned c = 0; c <= (unsigned)st->cfg.connectors; c++) {
		json_t *o = json_object();
		const struct station_tx *tx = &st->conn[c].tx;
		json_object_set_new(o, "connectorId", json_integer(c));
		json_object_set_new(o, "status", json_string(connector_status_name(connector_status(&st->sm[c]))));
		if (c > 0 && st->sim) {
			json_t *hw = json_object();
			hal_sim_state_json(st->sim, (int)c, hw);
			json_object_set_new(o, "hardware", hw);
		}
		if (tx->active)
			json_object_set_new(o, "transaction", json_pack("{s:s, s:s, s:I, s:o}",
				"ref", tx->ref, "idTag", tx->id_tag, "meterStart", (json_int_t)tx->meter_start_wh,
				"transactionId", tx->has_id ? json_integer(tx->id) : json_null()));
		json_array_append_new(conns, o);
	}
	json_object_set_new(obj, "connectors", conns);
}
enum station_registration station_registration(const struct station *st) { return st->registration; }
int station_is_connected(const struct station *st) { return ws_client_is_open(st->ws); }
