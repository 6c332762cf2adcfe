#include "config.h"
#include "station/hal_sim.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define NEVER INT64_MIN                 /* a connector that has seen no time yet */
#define MS_PER_HOUR 3600000.0
#define TAPER_SLOPE ((1.0 - HAL_SIM_TRICKLE) / (100.0 - HAL_SIM_TAPER_SOC))  /* per % */
/* Within this much of reaching a threshold counts as reaching it, so that
 * a tick at the deadline we announced finishes the charge despite
 * rounding (3.6 us: far below what a meter shows). */
#define EPS_HOURS 1e-9
#define MAX_DEADLINE_MS 1e15            /* ~31,000 years: "not in practice" */

struct sim_conn {
	struct hal_sim_connector_config cfg;   /* defaults resolved */
	int64_t t_ms;                          /* integrated up to here */
	int plugged, paused;
	struct hal_sim_ev ev;
	double soc;
	enum hal_ev_state reported;            /* last state told to the core */
	int locked, lock_failure, contactor;
	struct hal_limit limit;
	int faulted;
	char fault_code[HAL_CODE_MAX + 1], fault_info[HAL_INFO_MAX + 1];
	int meter_err;
	char meter_info[HAL_INFO_MAX + 1];
	double energy_wh;
	char *display;
};

struct hal_sim {
	struct hal base;                       /* first: a struct hal * is a struct hal_sim * */
	char *display;                         /* the station's own screen */
	struct sim_conn conn[];
};

static const struct hal_ops sim_ops;

static struct sim_conn *conn_of(struct hal_sim *sim, int c)
{
	return c >= 1 && c <= sim->base.n_connectors ? &sim->conn[c - 1] : NULL;
}

static int is_dc(const struct sim_conn *k) { return hal_connector_is_dc(k->cfg.type); }
static int is_full(const struct sim_conn *k) { return k->soc >= 100.0; }

static enum hal_ev_state ev_state(const struct sim_conn *k)
{
	if (!k->plugged)
		return HAL_EV_UNPLUGGED;
	return is_full(k) || k->paused ? HAL_EV_CONNECTED : HAL_EV_READY;
}

/* ---- physics */

/* AC phases the EV draws on: what it has, the supply has and the limit
 * allows. */
static int lines(const struct sim_conn *k)
{
	int n = k->cfg.phases;

	if (k->plugged && k->ev.ac_phases < n)
		n = k->ev.ac_phases;
	if (k->limit.phases > 0 && k->limit.phases < n)
		n = k->limit.phases;
	return n;
}

/* AC: nominal phase voltage; DC: the EV's battery voltage. */
static double volts(const struct sim_conn *k)
{
	if (!is_dc(k))
		return k->cfg.voltage_v;
	return k->plugged ? k->ev.dc_voltage_v : HAL_SIM_DC_VOLTAGE;
}

static double to_watts(const struct sim_conn *k, double value, enum hal_unit unit)
{
	if (unit == HAL_UNIT_W)
		return value;
	return is_dc(k) ? value * volts(k) : value * volts(k) * lines(k);
}

/* What the charger can give and is allowed to give: connector maximum and
 * EVSE limit. */
static double supply_w(const struct sim_conn *k)
{
	double max = k->cfg.max_power_w;

	if (k->cfg.max_current_a > 0)
		max = fmin(max, to_watts(k, k->cfg.max_current_a, HAL_UNIT_A));
	return fmin(max, to_watts(k, k->limit.value, k->limit.unit));
}

/* The EV's maximum, before the taper. */
static double ev_max_w(const struct sim_conn *k)
{
	return is_dc(k) ? k->ev.dc_max_power_kw * 1000.0 : to_watts(k, k->ev.ac_max_current_a, HAL_UNIT_A);
}

/* Share of ev_max_w the EV accepts at SoC s. */
static double share(double s)
{
	return s <= HAL_SIM_TAPER_SOC ? 1.0 : 1.0 - TAPER_SLOPE * (s - HAL_SIM_TAPER_SOC);
}

static int flowing(const struct sim_conn *k)
{
	return ev_state(k) == HAL_EV_READY && k->contactor && !k->faulted && supply_w(k) > 0;
}

static double power_w(const struct sim_conn *k)
{
	return flowing(k) ? fmin(supply_w(k), ev_max_w(k) * share(k->soc)) : 0.0;
}

/* One charge in closed form: a constant-power stretch while the EV accepts
 * more than the supply gives (up to SoC s_const), then the taper. */
struct plan {
	double p_const, s_const, h_const;  /* power, SoC where it ends, hours to get there */
	double k;                          /* taper decay rate, per hour */
};

static void make_plan(const struct sim_conn *k, struct plan *p)
{
	double cap_wh = k->ev.capacity_kwh * 1000.0, pev = ev_max_w(k), sup = supply_w(k);

	p->p_const = fmin(sup, pev);
	if (sup >= pev)
		p->s_const = HAL_SIM_TAPER_SOC;
	else
		p->s_const = fmin(100.0, HAL_SIM_TAPER_SOC + (1.0 - sup / pev) / TAPER_SLOPE);
	p->h_const = k->soc < p->s_const ? (p->s_const - k->soc) * cap_wh / 100.0 / p->p_const : 0.0;
	p->k = 100.0 * TAPER_SLOPE * pev / cap_wh;
}

/* Hours until the EV is full at the present settings, or -1. */
static double hours_to_full(const struct sim_conn *k)
{
	struct plan p;

	if (!flowing(k))
		return -1.0;
	make_plan(k, &p);
	if (p.s_const >= 100.0)
		return p.h_const;
	return p.h_const + log(share(fmax(k->soc, p.s_const)) / HAL_SIM_TRICKLE) / p.k;
}

static void add_energy(struct sim_conn *k, double to_soc)
{
	k->energy_wh += (to_soc - k->soc) * k->ev.capacity_kwh * 10.0;   /* % of kWh -> Wh */
	k->soc = to_soc;
}

static void integrate(struct sim_conn *k, double hours)
{
	double cap_wh = k->ev.capacity_kwh * 1000.0, x0, x1, t_full;
	struct plan p;

	if (hours <= 0 || !flowing(k))
		return;
	make_plan(k, &p);
	if (k->soc < p.s_const) {
		if (hours < p.h_const - EPS_HOURS) {
			/* Energy from power and time, not from SoC: exact for
			 * the simple cases (11 kW for 30 min is 5500 Wh). */
			k->energy_wh += p.p_const * hours;
			k->soc += p.p_const * hours * 100.0 / cap_wh;
			return;
		}
		add_energy(k, p.s_const);
		hours -= p.h_const;
		if (p.s_const >= 100.0)
			return;
	}
	x0 = share(k->soc);
	t_full = log(x0 / HAL_SIM_TRICKLE) / p.k;
	if (hours >= t_full - EPS_HOURS) {
		add_energy(k, 100.0);
		return;
	}
	x1 = x0 * exp(-p.k * hours);
	add_energy(k, HAL_SIM_TAPER_SOC + (1.0 - x1) / TAPER_SLOPE);
}

/* Brings one connector up to now_ms. */
static int advance_conn(struct sim_conn *k, int64_t now_ms)
{
	if (k->t_ms != NEVER && now_ms < k->t_ms)
		return -EINVAL;
	if (k->t_ms != NEVER)
		integrate(k, (double)(now_ms - k->t_ms) / MS_PER_HOUR);
	k->t_ms = now_ms;
	return 0;
}

/* Tells the core what changed in EV states since it last heard. */
static void flush(struct hal_sim *sim)
{
	for (int i = 0; i < sim->base.n_connectors; i++) {
		struct sim_conn *k = &sim->conn[i];
		enum hal_ev_state st = ev_state(k);

		if (st == k->reported)
			continue;
		k->reported = st;
		log_debug("sim: connector %d: EV %s", i + 1, hal_ev_state_name(st));
		hal_emit_ev_state(&sim->base, i + 1, st);
	}
}

int hal_sim_advance(struct hal_sim *sim, int64_t now_ms)
{
	int rc = 0;

	for (int i = 0; i < sim->base.n_connectors; i++)
		if (advance_conn(&sim->conn[i], now_ms))
			rc = -EINVAL;
	flush(sim);
	return rc;
}

static void fill_meter(const struct sim_conn *k, struct hal_meter *m)
{
	double p = power_w(k);
	int n;

	memset(m, 0, sizeof *m);
	m->have = HAL_METER_ENERGY | HAL_METER_POWER | HAL_METER_CURRENT | HAL_METER_VOLTAGE;
	m->energy_wh = k->energy_wh;
	m->power_w = p;
	if (is_dc(k)) {
		m->lines = 1;
		if (p > 0) {
			m->voltage_v[0] = volts(k);
			m->current_a[0] = p / volts(k);
		}
		if (k->plugged) {
			m->have |= HAL_METER_SOC;
			m->soc_pct = k->soc;
		}
		return;
	}
	m->lines = k->cfg.phases;
	n = lines(k);
	for (int i = 0; i < m->lines; i++) {
		m->voltage_v[i] = k->cfg.voltage_v;
		m->current_a[i] = i < n ? p / (k->cfg.voltage_v * n) : 0.0;
	}
}

/* ---- configuration */

static int check_config(const struct hal_sim_connector_config *c, int i)
{
	const char *why = NULL;

	if (c->type < HAL_CONN_AC_TYPE1 || c->type > HAL_CONN_DC_CCS)
		why = "unknown connector type";
	else if (!isfinite(c->max_current_a) || !isfinite(c->max_power_w) ||
		 !isfinite(c->voltage_v) || !isfinite(c->meter_start_wh))
		why = "values must be finite";
	else if (c->max_current_a < 0 || c->max_power_w < 0 || c->voltage_v < 0 ||
		 c->meter_start_wh < 0)
		why = "values must not be negative";
	else if (c->type == HAL_CONN_DC_CCS && c->max_power_w <= 0)
		why = "a DC connector needs a maximum power";
	else if (c->type != HAL_CONN_DC_CCS && c->max_current_a <= 0)
		why = "an AC connector needs a maximum current";
	else if (c->type != HAL_CONN_DC_CCS && (c->phases < 1 || c->phases > 3))
		why = "AC phases must be 1, 2 or 3";
	else if (c->type == HAL_CONN_AC_TYPE1 && c->phases != 1)
		why = "Type 1 is single-phase";
	if (why)
		log_error("sim: connector %d: %s", i + 1, why);
	return why ? -EINVAL : 0;
}

static void init_conn(struct sim_conn *k, const struct hal_sim_connector_config *c)
{
	k->cfg = *c;
	if (is_dc(k)) {
		k->cfg.phases = 0;
		k->cfg.voltage_v = 0;
		k->limit = (struct hal_limit){ c->max_power_w, HAL_UNIT_W, 0 };
	} else {
		if (k->cfg.voltage_v == 0)
			k->cfg.voltage_v = HAL_SIM_AC_VOLTAGE;
		if (k->cfg.max_power_w == 0)
			k->cfg.max_power_w = c->max_current_a * k->cfg.voltage_v * c->phases;
		k->limit = (struct hal_limit){ c->max_current_a, HAL_UNIT_A, 0 };
	}
	k->t_ms = NEVER;
	k->energy_wh = c->meter_start_wh;
	k->reported = HAL_EV_UNPLUGGED;
}

struct hal_sim *hal_sim_new(const struct hal_sim_connector_config *cfg, int n)
{
	struct hal_sim *sim;

	if (n < 1 || n > HAL_MAX_CONNECTORS) {
		log_error("sim: %d connectors (1 to %d)", n, HAL_MAX_CONNECTORS);
		errno = EINVAL;
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		if (check_config(&cfg[i], i)) {
			errno = EINVAL;
			return NULL;
		}
	}
	sim = calloc(1, sizeof *sim + (size_t)n * sizeof sim->conn[0]);
	if (!sim) {
		errno = ENOMEM;
		return NULL;
	}
	sim->base.ops = &sim_ops;
	sim->base.n_connectors = n;
	for (int i = 0; i < n; i++)
		init_conn(&sim->conn[i], &cfg[i]);
	return sim;
}

void hal_sim_free(struct hal_sim *sim)
{
	if (!sim)
		return;
	for (int i = 0; i < sim->base.n_connectors; i++)
		free(sim->conn[i].display);
	free(sim->display);
	free(sim);
}

struct hal *hal_sim_hal(struct hal_sim *sim) { return &sim->base; }

/* ---- the operator's side: the EV, tokens, injected trouble */

static int check_ev(const struct sim_conn *k, const struct hal_sim_ev *ev)
{
	if (!isfinite(ev->capacity_kwh) || ev->capacity_kwh <= 0 ||
	    !isfinite(ev->soc_pct) || ev->soc_pct < 0 || ev->soc_pct > 100)
		return -EINVAL;
	if (is_dc(k))
		return isfinite(ev->dc_max_power_kw) && ev->dc_max_power_kw > 0 &&
		       isfinite(ev->dc_voltage_v) && ev->dc_voltage_v >= 0 ? 0 : -EINVAL;
	return isfinite(ev->ac_max_current_a) && ev->ac_max_current_a > 0 &&
	       ev->ac_phases >= 1 && ev->ac_phases <= 3 ? 0 : -EINVAL;
}

int hal_sim_plug(struct hal_sim *sim, int c, const struct hal_sim_ev *ev, int64_t now_ms)
{
	struct sim_conn *k = conn_of(sim, c);

	if (!k || !ev || check_ev(k, ev))
		return -EINVAL;
	if (k->plugged)
		return -EBUSY;
	advance_conn(k, now_ms);
	k->ev = *ev;
	if (k->ev.dc_voltage_v == 0)
		k->ev.dc_voltage_v = HAL_SIM_DC_VOLTAGE;
	k->soc = ev->soc_pct;
	k->plugged = 1;
	k->paused = 0;
	flush(sim);
	return 0;
}

int hal_sim_unplug(struct hal_sim *sim, int c, int force, int64_t now_ms)
{
	struct sim_conn *k = conn_of(sim, c);

	if (!k)
		return -EINVAL;
	if (!k->plugged)
		return -ENOENT;
	if (k->locked && !force)
		return -EBUSY;
	advance_conn(k, now_ms);
	k->plugged = 0;
	k->contactor = 0;
	flush(sim);
	return 0;
}

int hal_sim_ev_pause(struct hal_sim *sim, int c, int paused, int64_t now_ms)
{
	struct sim_conn *k = conn_of(sim, c);

	if (!k)
		return -EINVAL;
	if (!k->plugged)
		return -ENOENT;
	advance_conn(k, now_ms);
	k->paused = !!paused;
	flush(sim);
	return 0;
}

int hal_sim_present_token(struct hal_sim *sim, int c, const char *id, const char *type)
{
	size_t len = id ? strlen(id) : 0;

	if ((c != 0 && !conn_of(sim, c)) || len == 0 || len > HAL_TOKEN_MAX ||
	    (type && (!*type || strlen(type) > HAL_TOKEN_TYPE_MAX)))
		return -EINVAL;
	log_debug("sim: connector %d: token %s", c, id);
	hal_emit_token(&sim->base, c, id, type ? type : "ISO14443");
	return 0;
}

int hal_sim_inject_fault(struct hal_sim *sim, int c, const char *code, const char *info,
			 int64_t now_ms)
{
	struct sim_conn *k = conn_of(sim, c);

	if (!k || !code || !*code || strlen(code) > HAL_CODE_MAX ||
	    (info && strlen(info) > HAL_INFO_MAX))
		return -EINVAL;
	advance_conn(k, now_ms);
	/* The safety circuit opens the contactor before anyone is told. */
	k->contactor = 0;
	k->faulted = 1;
	snprintf(k->fault_code, sizeof k->fault_code, "%s", code);
	snprintf(k->fault_info, sizeof k->fault_info, "%s", info ? info : "");
	log_debug("sim: connector %d: fault %s", c, code);
	hal_emit_fault(&sim->base, c, k->fault_code, info ? k->fault_info : NULL);
	return 0;
}

int hal_sim_clear_fault(struct hal_sim *sim, int c)
{
	struct sim_conn *k = conn_of(sim, c);

	if (!k)
		return -EINVAL;
	if (!k->faulted)
		return -ENOENT;
	k->faulted = 0;
	k->fault_code[0] = k->fault_info[0] = '\0';
	hal_emit_fault(&sim->base, c, NULL, NULL);
	return 0;
}

int hal_sim_inject_meter_error(struct hal_sim *sim, int c, int err, const char *info)
{
	struct sim_conn *k = conn_of(sim, c);

	if (!k || err >= 0 || (info && strlen(info) > HAL_INFO_MAX))
		return -EINVAL;
	k->meter_err = err;
	snprintf(k->meter_info, sizeof k->meter_info, "%s", info ? info : "");
	hal_emit_meter(&sim->base, c, err, info ? k->meter_info : NULL);
	return 0;
}

int hal_sim_clear_meter_error(struct hal_sim *sim, int c)
{
	struct sim_conn *k = conn_of(sim, c);

	if (!k)
		return -EINVAL;
	if (!k->meter_err)
		return -ENOENT;
	k->meter_err = 0;
	k->meter_info[0] = '\0';
	hal_emit_meter(&sim->base, c, 0, NULL);
	return 0;
}

int hal_sim_set_lock_failure(struct hal_sim *sim, int c, int on)
{
	struct sim_conn *k = conn_of(sim, c);

	if (!k)
		return -EINVAL;
	k->lock_failure = !!on;
	return 0;
}

/* ---- the core's side: struct hal_ops */

static struct hal_sim *sim_of(struct hal *h) { return (struct hal_sim *)h; }

static int op_info(struct hal *h, int c, struct hal_connector_info *out)
{
	const struct sim_conn *k = conn_of(sim_of(h), c);

	if (!k)
		return -EINVAL;
	out->type = k->cfg.type;
	out->phases = k->cfg.phases;
	out->voltage_v = k->cfg.voltage_v;
	out->max_current_a = k->cfg.max_current_a;
	out->max_power_w = k->cfg.max_power_w;
	return 0;
}

static int op_status(struct hal *h, int c, struct hal_status *out)
{
	const struct sim_conn *k = conn_of(sim_of(h), c);

	if (!k)
		return -EINVAL;
	memset(out, 0, sizeof *out);
	out->ev = ev_state(k);
	out->locked = k->locked;
	out->contactor_closed = k->contactor;
	out->limit = k->limit;
	out->faulted = k->faulted;
	memcpy(out->fault_code, k->fault_code, sizeof out->fault_code);
	memcpy(out->fault_info, k->fault_info, sizeof out->fault_info);
	out->meter_error = k->meter_err;
	return 0;
}

static int op_set_lock(struct hal *h, int c, int locked)
{
	struct sim_conn *k = conn_of(sim_of(h), c);

	if (!k)
		return -EINVAL;
	if (k->lock_failure)
		return -EIO;
	k->locked = !!locked;
	return 0;
}

static int op_set_contactor(struct hal *h, int c, int closed, int64_t now_ms)
{
	struct sim_conn *k = conn_of(sim_of(h), c);

	if (!k)
		return -EINVAL;
	if (closed && !k->plugged)
		return -ENOTCONN;
	if (closed && k->faulted)
		return -EIO;
	advance_conn(k, now_ms);
	k->contactor = !!closed;
	return 0;
}

static int op_set_limit(struct hal *h, int c, const struct hal_limit *lim, int64_t now_ms)
{
	struct sim_conn *k = conn_of(sim_of(h), c);

	if (!k || !lim || !isfinite(lim->value) || lim->value < 0 ||
	    (lim->unit != HAL_UNIT_A && lim->unit != HAL_UNIT_W) ||
	    lim->phases < 0 || lim->phases > 3)
		return -EINVAL;
	advance_conn(k, now_ms);
	k->limit = *lim;
	return 0;
}

static int op_read_meter(struct hal *h, int c, int64_t now_ms, struct hal_meter *out)
{
	struct sim_conn *k = conn_of(sim_of(h), c);

	if (!k)
		return -EINVAL;
	advance_conn(k, now_ms);
	if (k->meter_err)
		return k->meter_err;
	fill_meter(k, out);
	return 0;
}

static int op_set_display(struct hal *h, int c, const char *text)
{
	struct hal_sim *sim = sim_of(h);
	char **slot = c == 0 ? &sim->display : conn_of(sim, c) ? &sim->conn[c - 1].display : NULL;
	char *copy = NULL;

	if (!slot || (text && strlen(text) > HAL_DISPLAY_MAX))
		return -EINVAL;
	if (text && !(copy = strdup(text)))
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

static void op_tick(struct hal *h, int64_t now_ms) { hal_sim_advance(sim_of(h), now_ms); }

static int64_t op_next_deadline(const struct hal *h)
{
	const struct hal_sim *sim = (const struct hal_sim *)h;
	int64_t best = -1;

	for (int i = 0; i < h->n_connectors; i++) {
		const struct sim_conn *k = &sim->conn[i];
		double hours = hours_to_full(k), ms;
		int64_t at;

		if (ev_state(k) != k->reported)
			at = k->t_ms;                   /* an event waits */
		else if (hours >= 0 && k->t_ms != NEVER) {
			ms = ceil(hours * MS_PER_HOUR);
			at = k->t_ms + (int64_t)fmin(ms, MAX_DEADLINE_MS);
		} else
			continue;
		if (best < 0 || at < best)
			best = at;
	}
	return best;
}

static void op_free(struct hal *h) { hal_sim_free(sim_of(h)); }

static const struct hal_ops sim_ops = {
	.name = "sim",
	.info = op_info,
	.status = op_status,
	.set_lock = op_set_lock,
	.set_contactor = op_set_contactor,
	.set_limit = op_set_limit,
	.read_meter = op_read_meter,
	.set_display = op_set_display,
	.tick = op_tick,
	.next_deadline = op_next_deadline,
	.fd = NULL,
	.free = op_free,
};

/* ---- state as JSON, for the local control socket */

static int put(json_t *obj, const char *key, json_t *v)
{
	return v ? json_object_set_new(obj, key, v) : -1;
}

static json_t *text_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *vehicle_json(const struct sim_conn *k)
{
	if (!k->plugged)
		return json_null();
	/* The simulator's truth: the SoC even where the EV would not tell it. */
	if (is_dc(k))
		return json_pack("{s:f,s:f,s:f,s:f,s:b,s:b}", "capacityKWh", k->ev.capacity_kwh,
				 "soc", k->soc, "dcMaxPowerKW", k->ev.dc_max_power_kw,
				 "dcVoltage", k->ev.dc_voltage_v, "paused", k->paused,
				 "full", is_full(k));
	return json_pack("{s:f,s:f,s:f,s:i,s:b,s:b}", "capacityKWh", k->ev.capacity_kwh,
			 "soc", k->soc, "acMaxCurrent", k->ev.ac_max_current_a,
			 "acPhases", k->ev.ac_phases, "paused", k->paused, "full", is_full(k));
}

static json_t *meter_json(const struct sim_conn *k)
{
	struct hal_meter m;
	json_t *cur = json_array(), *volt = json_array(), *o;

	fill_meter(k, &m);
	for (int i = 0; i < m.lines && cur && volt; i++) {
		json_array_append_new(cur, json_real(m.current_a[i]));
		json_array_append_new(volt, json_real(m.voltage_v[i]));
	}
	o = json_pack("{s:f,s:f,s:o*,s:o*,s:o}", "energyWh", m.energy_wh, "powerW", m.power_w,
		      "currentA", cur, "voltageV", volt,
		      "soc", m.have & HAL_METER_SOC ? json_real(m.soc_pct) : json_null());
	return o;
}

static json_t *fault_json(const struct sim_conn *k)
{
	if (!k->faulted)
		return json_null();
	return json_pack("{s:s,s:s}", "code", k->fault_code, "info", k->fault_info);
}

static json_t *meter_error_json(const struct sim_conn *k)
{
	if (!k->meter_err)
		return json_null();
	return json_pack("{s:s,s:s}", "kind", k->meter_err == -ETIMEDOUT ? "timeout" : "error",
			 "info", k->meter_info);
}

int hal_sim_state_json(const struct hal_sim *sim, int c, json_t *obj)
{
	const struct sim_conn *k;
	int rc = 0;

	if (!json_is_object(obj))
		return -EINVAL;
	if (c == 0) {
		/* The station as a whole. */
		rc |= put(obj, "connectors", json_integer(sim->base.n_connectors));
		rc |= put(obj, "display", text_or_null(sim->display));
		return rc ? -ENOMEM : 0;
	}
	if (c < 1 || c > sim->base.n_connectors)
		return -EINVAL;
	k = &sim->conn[c - 1];
	rc |= put(obj, "connector", json_integer(c));
	rc |= put(obj, "type", json_string(hal_connector_type_name(k->cfg.type)));
	rc |= put(obj, "phases", json_integer(k->cfg.phases));
	rc |= put(obj, "voltage", json_real(k->cfg.voltage_v));
	rc |= put(obj, "maxCurrent", json_real(k->cfg.max_current_a));
	rc |= put(obj, "maxPower", json_real(k->cfg.max_power_w));
	rc |= put(obj, "ev", json_string(hal_ev_state_name(ev_state(k))));
	rc |= put(obj, "vehicle", vehicle_json(k));
	rc |= put(obj, "locked", json_boolean(k->locked));
	rc |= put(obj, "lockFailure", json_boolean(k->lock_failure));
	rc |= put(obj, "contactorClosed", json_boolean(k->contactor));
	rc |= put(obj, "limit", json_pack("{s:f,s:s,s:i}", "value", k->limit.value,
					  "unit", hal_unit_name(k->limit.unit),
					  "phases", k->limit.phases));
	rc |= put(obj, "charging", json_boolean(power_w(k) > 0));
	rc |= put(obj, "meter", meter_json(k));
	rc |= put(obj, "fault", fault_json(k));
	rc |= put(obj, "meterError", meter_error_json(k));
	rc |= put(obj, "display", text_or_null(k->display));
	rc |= put(obj, "asOfMs", k->t_ms == NEVER ? json_null() : json_integer(k->t_ms));
	return rc ? -ENOMEM : 0;
}
