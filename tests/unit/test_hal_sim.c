/* Unit tests: the simulated charger and EV behind the HAL, driven through
 * the core's interface (hal_*) with a fake core and explicit times.
 * Expected values are worked out by hand from the physics in hal_sim.h. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "station/hal_sim.h"

#define MIN_MS (60 * 1000LL)
#define HOUR_MS (60 * MIN_MS)
#define T0 1000000LL              /* an arbitrary monotonic start */

/* The fake core: what the driver told it. */
struct core {
	int ev_events, token_events, fault_events, meter_events;
	int last_connector;
	enum hal_ev_state last_ev;
	char token[64], token_type[32], fault_code[64], fault_info[64], meter_info[64];
	int fault_cleared, meter_err;
};

static void on_ev_state(void *ctx, int c, enum hal_ev_state st)
{
	struct core *k = ctx;
	k->ev_events++;
	k->last_connector = c;
	k->last_ev = st;
}

static void on_token(void *ctx, int c, const char *id, const char *type)
{
	struct core *k = ctx;
	k->token_events++;
	k->last_connector = c;
	snprintf(k->token, sizeof k->token, "%s", id);
	snprintf(k->token_type, sizeof k->token_type, "%s", type);
}

static void on_fault(void *ctx, int c, const char *code, const char *info)
{
	struct core *k = ctx;
	k->fault_events++;
	k->last_connector = c;
	k->fault_cleared = code == NULL;
	snprintf(k->fault_code, sizeof k->fault_code, "%s", code ? code : "");
	snprintf(k->fault_info, sizeof k->fault_info, "%s", info ? info : "");
}

static void on_meter(void *ctx, int c, int err, const char *info)
{
	struct core *k = ctx;
	k->meter_events++;
	k->last_connector = c;
	k->meter_err = err;
	snprintf(k->meter_info, sizeof k->meter_info, "%s", info ? info : "");
}

static const struct hal_events events = { on_ev_state, on_token, on_fault, on_meter, NULL };

/* Connector 1: AC Type 2, 3 x 32 A at 230 V (22,080 W), register at 1000 Wh.
 * Connector 2: DC CCS, 150 kW, no current limit, register at 0.
 * Connector 3: AC Type 1, 1 x 32 A (7,360 W). */
static const struct hal_sim_connector_config station_cfg[] = {
	{ .type = HAL_CONN_AC_TYPE2, .phases = 3, .max_current_a = 32, .meter_start_wh = 1000 },
	{ .type = HAL_CONN_DC_CCS, .max_power_w = 150000 },
	{ .type = HAL_CONN_AC_TYPE1, .phases = 1, .max_current_a = 32 },
};

#define AC 1
#define DC 2
#define T1 3

/* An AC EV that takes 3 x 32 A; a DC EV of 50 kW at 400 V. */
static const struct hal_sim_ev ac_ev = { .capacity_kwh = 60, .soc_pct = 20,
					 .ac_max_current_a = 32, .ac_phases = 3 };
static const struct hal_sim_ev dc_ev = { .capacity_kwh = 50, .soc_pct = 70,
					 .dc_max_power_kw = 50 };

struct fixture {
	struct hal_sim *sim;
	struct hal *hal;
	struct core core;
};

static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->sim = hal_sim_new(station_cfg, 3);
	assert_non_null(f->sim);
	f->hal = hal_sim_hal(f->sim);
	hal_attach(f->hal, &events, &f->core);
	return f;
}

static void teardown_fixture(struct fixture *f)
{
	hal_free(f->hal);
	free(f);
}

static void assert_near(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.9f, want %.9f (+/- %g)", got, want, tol);
}

static struct hal_meter meter(struct fixture *f, int c, int64_t now)
{
	struct hal_meter m;
	assert_int_equal(hal_read_meter(f->hal, c, now, &m), 0);
	return m;
}

static void set_limit(struct fixture *f, int c, double v, enum hal_unit u, int phases, int64_t now)
{
	struct hal_limit lim = { v, u, phases };
	assert_int_equal(hal_set_limit(f->hal, c, &lim, now), 0);
}

/* Plugs ev into c at T0 and closes the contactor: energy flows from T0. */
static void start(struct fixture *f, int c, const struct hal_sim_ev *ev)
{
	assert_int_equal(hal_sim_plug(f->sim, c, ev, T0), 0);
	assert_int_equal(hal_set_contactor(f->hal, c, 1, T0), 0);
}

static void test_ac_energy(void **state)
{
	struct fixture *f = setup();
	struct hal_meter m;
	(void)state;

	start(f, AC, &ac_ev);
	/* 11 kW (in W) for 30 minutes is 5500 Wh, on top of the 1000 Wh the
	 * register started at; 5.5 kWh of 60 kWh is 9.1667 % SoC. */
	set_limit(f, AC, 11000, HAL_UNIT_W, 0, T0);
	m = meter(f, AC, T0 + 30 * MIN_MS);
	assert_near(m.energy_wh, 6500, 1e-9);
	assert_near(m.power_w, 11000, 1e-9);
	/* 11000 W / (230 V * 3) = 15.942 A per phase. */
	assert_int_equal(m.lines, 3);
	for (int i = 0; i < 3; i++) {
		assert_near(m.current_a[i], 11000.0 / 690, 1e-9);
		assert_near(m.voltage_v[i], 230, 1e-12);
	}
	/* An AC EV does not tell its SoC. */
	assert_false(m.have & HAL_METER_SOC);
	assert_true(m.have & HAL_METER_ENERGY);

	/* The same half hour again, in 1800 ticks of a second: same result. */
	for (int s = 1; s <= 1800; s++)
		hal_tick(f->hal, T0 + 30 * MIN_MS + s * 1000LL);
	m = meter(f, AC, T0 + 60 * MIN_MS);
	assert_near(m.energy_wh, 12000, 1e-6);

	/* Without a limit, 3 x 32 A x 230 V = 22,080 W: 11,040 Wh in 30 min. */
	set_limit(f, AC, 32, HAL_UNIT_A, 0, T0 + 60 * MIN_MS);
	m = meter(f, AC, T0 + 90 * MIN_MS);
	assert_near(m.power_w, 22080, 1e-9);
	assert_near(m.energy_wh, 12000 + 11040, 1e-6);
	assert_near(m.current_a[0], 32, 1e-9);
	teardown_fixture(f);
}

static void test_limit_in_amperes_and_watts(void **state)
{
	struct fixture *f = setup();
	struct hal_sim_ev one_phase = ac_ev;
	struct hal_meter m;
	(void)state;

	start(f, AC, &ac_ev);
	/* 10 A per phase: 10 * 230 * 3 = 6900 W; 6900 Wh in an hour. */
	set_limit(f, AC, 10, HAL_UNIT_A, 0, T0);
	m = meter(f, AC, T0 + HOUR_MS);
	assert_near(m.power_w, 6900, 1e-9);
	assert_near(m.current_a[2], 10, 1e-9);
	assert_near(m.energy_wh, 1000 + 6900, 1e-6);

	/* 4600 W: 4600 / 690 = 6.667 A per phase; 2300 Wh in 30 min. */
	set_limit(f, AC, 4600, HAL_UNIT_W, 0, T0 + HOUR_MS);
	m = meter(f, AC, T0 + 90 * MIN_MS);
	assert_near(m.power_w, 4600, 1e-9);
	assert_near(m.current_a[1], 4600.0 / 690, 1e-9);
	assert_near(m.energy_wh, 1000 + 6900 + 2300, 1e-6);

	/* 16 A on one phase only (numberPhases 1): 3680 W on L1. */
	set_limit(f, AC, 16, HAL_UNIT_A, 1, T0 + 90 * MIN_MS);
	m = meter(f, AC, T0 + 2 * HOUR_MS);
	assert_near(m.power_w, 3680, 1e-9);
	assert_near(m.current_a[0], 16, 1e-9);
	assert_near(m.current_a[1], 0, 0);
	assert_near(m.voltage_v[1], 230, 0);
	assert_near(m.energy_wh, 1000 + 6900 + 2300 + 1840, 1e-6);

	/* Above the connector's maximum: capped at 32 A. */
	set_limit(f, AC, 100, HAL_UNIT_A, 0, T0 + 2 * HOUR_MS);
	assert_near(meter(f, AC, T0 + 2 * HOUR_MS).power_w, 22080, 1e-9);

	/* A single-phase EV on the three-phase connector: 32 A on L1 = 7360 W. */
	assert_int_equal(hal_sim_unplug(f->sim, AC, 0, T0 + 2 * HOUR_MS), 0);
	one_phase.ac_phases = 1;
	assert_int_equal(hal_sim_plug(f->sim, AC, &one_phase, T0 + 2 * HOUR_MS), 0);
	assert_int_equal(hal_set_contactor(f->hal, AC, 1, T0 + 2 * HOUR_MS), 0);
	m = meter(f, AC, T0 + 3 * HOUR_MS);
	assert_near(m.power_w, 7360, 1e-9);
	assert_near(m.current_a[0], 32, 1e-9);
	assert_near(m.current_a[2], 0, 0);

	/* On Type 1 (one phase) a three-phase EV also gets 32 A * 230 V. */
	start(f, T1, &ac_ev);
	m = meter(f, T1, T0 + HOUR_MS);
	assert_int_equal(m.lines, 1);
	assert_near(m.power_w, 7360, 1e-9);
	assert_near(m.energy_wh, 7360, 1e-6);
	teardown_fixture(f);
}

static void test_limit_zero_suspends(void **state)
{
	struct fixture *f = setup();
	struct hal_status st;
	struct hal_meter m;
	(void)state;

	start(f, AC, &ac_ev);
	set_limit(f, AC, 0, HAL_UNIT_A, 0, T0);
	m = meter(f, AC, T0 + HOUR_MS);
	assert_near(m.energy_wh, 1000, 0);
	assert_near(m.power_w, 0, 0);
	assert_near(m.current_a[0], 0, 0);
	/* The EV still wants energy: SuspendedEVSE, not SuspendedEV. */
	assert_int_equal(hal_status(f->hal, AC, &st), 0);
	assert_int_equal(st.ev, HAL_EV_READY);
	assert_int_equal(st.contactor_closed, 1);
	assert_near(st.limit.value, 0, 0);
	assert_int_equal(hal_next_deadline(f->hal), -1);
	/* Lifting it: 16 A * 230 V * 3 = 11,040 W for 30 min = 5520 Wh. */
	set_limit(f, AC, 16, HAL_UNIT_A, 0, T0 + HOUR_MS);
	assert_near(meter(f, AC, T0 + 90 * MIN_MS).energy_wh, 1000 + 5520, 1e-6);
	teardown_fixture(f);
}

static void test_contactor(void **state)
{
	struct fixture *f = setup();
	(void)state;

	/* No EV: the interlock refuses to energise the socket. */
	assert_int_equal(hal_set_contactor(f->hal, AC, 1, T0), -ENOTCONN);
	assert_int_equal(hal_sim_plug(f->sim, AC, &ac_ev, T0), 0);
	/* Plugged in, contactor open: nothing flows. */
	assert_near(meter(f, AC, T0 + HOUR_MS).energy_wh, 1000, 0);
	assert_near(meter(f, AC, T0 + HOUR_MS).power_w, 0, 0);
	/* Closed for 15 minutes at 22,080 W = 5520 Wh, then opened. */
	assert_int_equal(hal_set_contactor(f->hal, AC, 1, T0 + HOUR_MS), 0);
	assert_int_equal(hal_set_contactor(f->hal, AC, 0, T0 + HOUR_MS + 15 * MIN_MS), 0);
	assert_near(meter(f, AC, T0 + 5 * HOUR_MS).energy_wh, 1000 + 5520, 1e-6);
	/* Unplugging opens it. */
	assert_int_equal(hal_set_contactor(f->hal, AC, 1, T0 + 5 * HOUR_MS), 0);
	assert_int_equal(hal_sim_unplug(f->sim, AC, 0, T0 + 5 * HOUR_MS), 0);
	struct hal_status st;
	assert_int_equal(hal_status(f->hal, AC, &st), 0);
	assert_int_equal(st.contactor_closed, 0);
	assert_int_equal(st.ev, HAL_EV_UNPLUGGED);
	teardown_fixture(f);
}

static void test_dc_taper_and_full(void **state)
{
	struct fixture *f = setup();
	struct hal_status st;
	struct hal_meter m;
	/* 50 kW EV, 50 kWh, from 70 %: 50 kW to 80 % (5 kWh, 0.1 h); then
	 * the taper with k = 100 * 0.0475 * 50000 / 50000 = 4.75 per hour:
	 * full after ln(1 / 0.05) / 4.75 = 0.630680 h more. Full at
	 * 0.730680 h = 2,630,449.72 ms; the register then shows 30 % of
	 * 50 kWh = 15,000 Wh. */
	const int64_t full_ms = 2630450;
	(void)state;

	start(f, DC, &dc_ev);
	assert_int_equal(f->core.ev_events, 1);
	assert_int_equal(f->core.last_ev, HAL_EV_READY);
	assert_int_equal(hal_next_deadline(f->hal), T0 + full_ms);

	m = meter(f, DC, T0 + 6 * MIN_MS);
	assert_near(m.energy_wh, 5000, 1e-6);
	assert_near(m.soc_pct, 80, 1e-9);
	assert_near(m.power_w, 50000, 1e-6);
	/* DC: battery voltage 400 V, 50 kW / 400 V = 125 A, and the SoC. */
	assert_true(m.have & HAL_METER_SOC);
	assert_int_equal(m.lines, 1);
	assert_near(m.voltage_v[0], 400, 0);
	assert_near(m.current_a[0], 125, 1e-9);

	/* 0.1 h into the taper: x = exp(-0.475) = 0.621885, so P = 31,094.25 W,
	 * SoC = 80 + (1 - x) / 0.0475 = 87.9603 %, energy 3980.157 Wh more. */
	m = meter(f, DC, T0 + 12 * MIN_MS);
	assert_near(m.power_w, 31094.2528, 1e-3);
	assert_near(m.soc_pct, 87.960315, 1e-5);
	assert_near(m.energy_wh, 5000 + 3980.1573, 1e-3);
	/* The answer does not depend on how often the core looks. */
	{
		struct fixture *g = setup();
		start(g, DC, &dc_ev);
		for (int64_t t = T0; t <= T0 + 12 * MIN_MS; t += 7001)
			hal_tick(g->hal, t);
		assert_near(meter(g, DC, T0 + 12 * MIN_MS).energy_wh, 5000 + 3980.1573, 1e-3);
		teardown_fixture(g);
	}

	/* Reading the meter never calls the core back; the deadline has not
	 * moved (the plan is the same). */
	assert_int_equal(f->core.ev_events, 1);
	assert_int_equal(hal_next_deadline(f->hal), T0 + full_ms);
	/* Just before: still charging, at nearly the trickle. */
	hal_tick(f->hal, T0 + full_ms - 1000);
	assert_int_equal(f->core.ev_events, 1);
	m = meter(f, DC, T0 + full_ms - 1000);
	assert_true(m.soc_pct < 100);
	assert_true(m.power_w > 2500 && m.power_w < 2600);
	/* At the deadline: full, 15,000 Wh, the EV stops asking. */
	hal_tick(f->hal, T0 + full_ms);
	assert_int_equal(f->core.ev_events, 2);
	assert_int_equal(f->core.last_connector, DC);
	assert_int_equal(f->core.last_ev, HAL_EV_CONNECTED);
	m = meter(f, DC, T0 + 2 * full_ms);
	assert_near(m.soc_pct, 100, 0);
	assert_near(m.energy_wh, 15000, 1e-6);
	assert_near(m.power_w, 0, 0);
	assert_near(m.current_a[0], 0, 0);
	assert_int_equal(hal_status(f->hal, DC, &st), 0);
	assert_int_equal(st.ev, HAL_EV_CONNECTED);
	assert_int_equal(st.contactor_closed, 1);
	assert_int_equal(hal_next_deadline(f->hal), -1);
	teardown_fixture(f);
}

static void test_dc_limits(void **state)
{
	struct fixture *f = setup();
	struct hal_meter m;
	(void)state;

	start(f, DC, &dc_ev);
	/* 25 kW: half the EV's maximum. It accepts more than that until
	 * share = 0.5, at 80 + 0.5 / 0.0475 = 90.53 %; in 0.4 h: 10 kWh. */
	set_limit(f, DC, 25000, HAL_UNIT_W, 0, T0);
	m = meter(f, DC, T0 + 24 * MIN_MS);
	assert_near(m.energy_wh, 10000, 1e-6);
	assert_near(m.soc_pct, 90, 1e-9);
	assert_near(m.power_w, 25000, 1e-9);
	/* 50 A at 400 V = 20 kW, but at 90 % the EV takes 50 kW * (1 -
	 * 0.0475 * 10) = 26.25 kW: 20 kW it is. */
	set_limit(f, DC, 50, HAL_UNIT_A, 0, T0 + 24 * MIN_MS);
	m = meter(f, DC, T0 + 24 * MIN_MS);
	assert_near(m.power_w, 20000, 1e-9);
	assert_near(m.current_a[0], 50, 1e-9);
	teardown_fixture(f);

	/* Below the trickle (2 kW < 5 % of 50 kW) the power is constant all
	 * the way: 15 kWh at 2 kW take exactly 7.5 h. */
	f = setup();
	start(f, DC, &dc_ev);
	set_limit(f, DC, 2000, HAL_UNIT_W, 0, T0);
	assert_int_equal(hal_next_deadline(f->hal), T0 + 15 * HOUR_MS / 2);
	hal_tick(f->hal, T0 + 7 * HOUR_MS);
	assert_near(meter(f, DC, T0 + 7 * HOUR_MS).energy_wh, 14000, 1e-6);
	assert_int_equal(f->core.last_ev, HAL_EV_READY);
	hal_tick(f->hal, T0 + 15 * HOUR_MS / 2);
	assert_int_equal(f->core.last_ev, HAL_EV_CONNECTED);
	assert_near(meter(f, DC, T0 + 8 * HOUR_MS).energy_wh, 15000, 1e-6);
	teardown_fixture(f);
}

static void test_ev_events(void **state)
{
	struct fixture *f = setup();
	struct hal_sim_ev full = dc_ev;
	(void)state;

	assert_int_equal(hal_sim_plug(f->sim, AC, &ac_ev, T0), 0);
	assert_int_equal(f->core.ev_events, 1);
	assert_int_equal(f->core.last_connector, AC);
	assert_int_equal(f->core.last_ev, HAL_EV_READY);
	assert_int_equal(hal_sim_plug(f->sim, AC, &ac_ev, T0), -EBUSY);
	/* The EV pauses (departure timer): SuspendedEV; nothing flows. */
	assert_int_equal(hal_set_contactor(f->hal, AC, 1, T0), 0);
	assert_int_equal(hal_sim_ev_pause(f->sim, AC, 1, T0), 0);
	assert_int_equal(f->core.last_ev, HAL_EV_CONNECTED);
	assert_near(meter(f, AC, T0 + HOUR_MS).energy_wh, 1000, 0);
	assert_int_equal(hal_sim_ev_pause(f->sim, AC, 0, T0 + HOUR_MS), 0);
	assert_int_equal(f->core.last_ev, HAL_EV_READY);
	assert_int_equal(f->core.ev_events, 3);
	/* Unplugged. */
	assert_int_equal(hal_sim_unplug(f->sim, AC, 0, T0 + HOUR_MS), 0);
	assert_int_equal(f->core.last_ev, HAL_EV_UNPLUGGED);
	assert_int_equal(hal_sim_unplug(f->sim, AC, 0, T0 + HOUR_MS), -ENOENT);
	/* A full EV never asks. */
	full.soc_pct = 100;
	assert_int_equal(hal_sim_plug(f->sim, DC, &full, T0), 0);
	assert_int_equal(f->core.last_ev, HAL_EV_CONNECTED);
	assert_int_equal(f->core.ev_events, 5);
	/* Without a core attached nothing is delivered, and nothing breaks. */
	hal_attach(f->hal, NULL, NULL);
	assert_int_equal(hal_sim_unplug(f->sim, DC, 0, T0), 0);
	assert_int_equal(hal_sim_present_token(f->sim, 0, "AB", NULL), 0);
	assert_int_equal(f->core.ev_events, 5);
	teardown_fixture(f);
}

static void test_fault(void **state)
{
	struct fixture *f = setup();
	struct hal_status st;
	(void)state;

	start(f, AC, &ac_ev);
	/* 10 minutes at 22,080 W = 3680 Wh, then a ground fault. */
	assert_int_equal(hal_sim_inject_fault(f->sim, AC, "GroundFailure", "RCD tripped",
					      T0 + 10 * MIN_MS), 0);
	assert_int_equal(f->core.fault_events, 1);
	assert_int_equal(f->core.last_connector, AC);
	assert_string_equal(f->core.fault_code, "GroundFailure");
	assert_string_equal(f->core.fault_info, "RCD tripped");
	assert_int_equal(hal_status(f->hal, AC, &st), 0);
	assert_true(st.faulted);
	assert_string_equal(st.fault_code, "GroundFailure");
	assert_int_equal(st.contactor_closed, 0);
	assert_near(meter(f, AC, T0 + HOUR_MS).energy_wh, 1000 + 3680, 1e-6);
	/* The contactor stays open until the fault is cleared. */
	assert_int_equal(hal_set_contactor(f->hal, AC, 1, T0 + HOUR_MS), -EIO);
	assert_int_equal(hal_sim_clear_fault(f->sim, AC), 0);
	assert_int_equal(f->core.fault_events, 2);
	assert_true(f->core.fault_cleared);
	assert_int_equal(hal_sim_clear_fault(f->sim, AC), -ENOENT);
	assert_int_equal(hal_status(f->hal, AC, &st), 0);
	assert_false(st.faulted);
	assert_string_equal(st.fault_code, "");
	assert_int_equal(hal_set_contactor(f->hal, AC, 1, T0 + HOUR_MS), 0);
	/* Codes must be given and fit. */
	assert_int_equal(hal_sim_inject_fault(f->sim, AC, "", NULL, T0), -EINVAL);
	assert_int_equal(hal_sim_inject_fault(f->sim, AC, NULL, NULL, T0), -EINVAL);
	assert_int_equal(hal_sim_inject_fault(f->sim, AC,
		"ThisCodeIsFarTooLongToBeAnOcppErrorCodeOfAnyKindReally", NULL, T0), -EINVAL);
	assert_int_equal(f->core.fault_events, 2);
	teardown_fixture(f);
}

static void test_meter_error(void **state)
{
	struct fixture *f = setup();
	struct hal_meter m;
	struct hal_status st;
	(void)state;

	start(f, AC, &ac_ev);
	assert_int_equal(hal_sim_inject_meter_error(f->sim, AC, -EIO, "CRC error"), 0);
	assert_int_equal(f->core.meter_events, 1);
	assert_int_equal(f->core.meter_err, -EIO);
	assert_string_equal(f->core.meter_info, "CRC error");
	assert_int_equal(hal_read_meter(f->hal, AC, T0 + 30 * MIN_MS, &m), -EIO);
	assert_int_equal(hal_status(f->hal, AC, &st), 0);
	assert_int_equal(st.meter_error, -EIO);
	/* The meter goes silent instead. */
	assert_int_equal(hal_sim_inject_meter_error(f->sim, AC, -ETIMEDOUT, NULL), 0);
	assert_int_equal(hal_read_meter(f->hal, AC, T0 + 30 * MIN_MS, &m), -ETIMEDOUT);
	assert_int_equal(hal_sim_inject_meter_error(f->sim, AC, 0, NULL), -EINVAL);
	/* Back: the energy kept flowing: an hour at 22,080 W. */
	assert_int_equal(hal_sim_clear_meter_error(f->sim, AC), 0);
	assert_int_equal(f->core.meter_events, 3);
	assert_int_equal(f->core.meter_err, 0);
	assert_int_equal(hal_sim_clear_meter_error(f->sim, AC), -ENOENT);
	assert_near(meter(f, AC, T0 + HOUR_MS).energy_wh, 1000 + 22080, 1e-6);
	teardown_fixture(f);
}

static void test_lock(void **state)
{
	struct fixture *f = setup();
	struct hal_status st;
	(void)state;

	assert_int_equal(hal_sim_plug(f->sim, AC, &ac_ev, T0), 0);
	assert_int_equal(hal_set_lock(f->hal, AC, 1), 0);
	assert_int_equal(hal_status(f->hal, AC, &st), 0);
	assert_true(st.locked);
	/* A locked cable cannot be pulled out, unless by force. */
	assert_int_equal(hal_sim_unplug(f->sim, AC, 0, T0), -EBUSY);
	/* The lock jams: unlocking fails, the lock stays. */
	assert_int_equal(hal_sim_set_lock_failure(f->sim, AC, 1), 0);
	assert_int_equal(hal_set_lock(f->hal, AC, 0), -EIO);
	assert_int_equal(hal_status(f->hal, AC, &st), 0);
	assert_true(st.locked);
	assert_int_equal(hal_sim_set_lock_failure(f->sim, AC, 0), 0);
	assert_int_equal(hal_set_lock(f->hal, AC, 0), 0);
	assert_int_equal(hal_sim_unplug(f->sim, AC, 0, T0), 0);
	/* Forced. */
	assert_int_equal(hal_sim_plug(f->sim, AC, &ac_ev, T0), 0);
	assert_int_equal(hal_set_lock(f->hal, AC, 1), 0);
	assert_int_equal(hal_sim_unplug(f->sim, AC, 1, T0), 0);
	teardown_fixture(f);
}

static void test_token_and_display(void **state)
{
	struct fixture *f = setup();
	json_t *o = json_object();
	(void)state;

	assert_int_equal(hal_sim_present_token(f->sim, AC, "04A1B2C3", NULL), 0);
	assert_int_equal(f->core.token_events, 1);
	assert_int_equal(f->core.last_connector, AC);
	assert_string_equal(f->core.token, "04A1B2C3");
	assert_string_equal(f->core.token_type, "ISO14443");
	assert_int_equal(hal_sim_present_token(f->sim, 0, "app-user-7", "Central"), 0);
	assert_int_equal(f->core.last_connector, 0);
	assert_string_equal(f->core.token_type, "Central");
	assert_int_equal(hal_sim_present_token(f->sim, AC, "", NULL), -EINVAL);
	assert_int_equal(hal_sim_present_token(f->sim, AC,
		"0123456789012345678901234567890123456", NULL), -EINVAL);   /* 37 */
	assert_int_equal(hal_sim_present_token(f->sim, 4, "X", NULL), -EINVAL);
	assert_int_equal(f->core.token_events, 2);

	assert_int_equal(hal_set_display(f->hal, 0, "Welcome"), 0);
	assert_int_equal(hal_set_display(f->hal, AC, "Present your card"), 0);
	assert_int_equal(hal_set_display(f->hal, AC, NULL), 0);
	assert_int_equal(hal_set_display(f->hal, 9, "x"), -EINVAL);
	assert_int_equal(hal_sim_state_json(f->sim, 0, o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "display")), "Welcome");
	assert_int_equal(json_integer_value(json_object_get(o, "connectors")), 3);
	json_object_clear(o);
	assert_int_equal(hal_sim_state_json(f->sim, AC, o), 0);
	assert_true(json_is_null(json_object_get(o, "display")));
	json_decref(o);
	teardown_fixture(f);
}

static void test_state_json(void **state)
{
	struct fixture *f = setup();
	json_t *o = json_object(), *m;
	(void)state;

	start(f, AC, &ac_ev);
	set_limit(f, AC, 16, HAL_UNIT_A, 0, T0);
	assert_int_equal(hal_sim_advance(f->sim, T0 + 30 * MIN_MS), 0);
	assert_int_equal(hal_sim_inject_fault(f->sim, DC, "OverVoltage", NULL, T0 + 30 * MIN_MS), 0);

	assert_int_equal(hal_sim_state_json(f->sim, AC, o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "Type2");
	assert_string_equal(json_string_value(json_object_get(o, "ev")), "ready");
	assert_true(json_is_true(json_object_get(o, "contactorClosed")));
	assert_true(json_is_true(json_object_get(o, "charging")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "limit"), "unit")), "A");
	m = json_object_get(o, "meter");
	/* 11,040 W for 30 min = 5520 Wh on top of 1000. */
	assert_near(json_real_value(json_object_get(m, "energyWh")), 6520, 1e-6);
	assert_near(json_real_value(json_object_get(m, "powerW")), 11040, 1e-9);
	assert_int_equal(json_array_size(json_object_get(m, "currentA")), 3);
	assert_true(json_is_null(json_object_get(m, "soc")));
	/* 5.52 kWh of 60 kWh: 20 % + 9.2 %. */
	assert_near(json_real_value(json_object_get(json_object_get(o, "vehicle"), "soc")), 29.2, 1e-9);
	assert_true(json_is_null(json_object_get(o, "fault")));
	assert_int_equal(json_integer_value(json_object_get(o, "asOfMs")), T0 + 30 * MIN_MS);

	json_object_clear(o);
	assert_int_equal(hal_sim_state_json(f->sim, DC, o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "CCS");
	assert_string_equal(json_string_value(json_object_get(o, "ev")), "unplugged");
	assert_true(json_is_null(json_object_get(o, "vehicle")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "fault"), "code")),
			    "OverVoltage");
	assert_int_equal(hal_sim_state_json(f->sim, 4, o), -EINVAL);
	json_decref(o);
	teardown_fixture(f);
}

static void test_bad_input(void **state)
{
	struct fixture *f = setup();
	struct hal_sim_connector_config bad = { .type = HAL_CONN_AC_TYPE2, .phases = 3 };
	struct hal_sim_ev ev = ac_ev;
	struct hal_limit lim = { -1, HAL_UNIT_A, 0 };
	struct hal_connector_info info;
	struct hal_meter m;
	(void)state;

	/* Configurations. */
	errno = 0;
	assert_null(hal_sim_new(&bad, 1));              /* AC without a current */
	assert_int_equal(errno, EINVAL);
	bad.max_current_a = 16;
	bad.type = HAL_CONN_AC_TYPE1;                   /* Type 1 on three phases */
	assert_null(hal_sim_new(&bad, 1));
	bad.type = HAL_CONN_DC_CCS;                     /* DC without a power */
	assert_null(hal_sim_new(&bad, 1));
	assert_null(hal_sim_new(station_cfg, 0));
	assert_null(hal_sim_new(station_cfg, HAL_MAX_CONNECTORS + 1));

	/* Connector numbers. */
	assert_int_equal(hal_connectors(f->hal), 3);
	assert_int_equal(hal_info(f->hal, 0, &info), -EINVAL);
	assert_int_equal(hal_info(f->hal, 4, &info), -EINVAL);
	assert_int_equal(hal_read_meter(f->hal, -1, T0, &m), -EINVAL);
	assert_int_equal(hal_sim_plug(f->sim, 4, &ac_ev, T0), -EINVAL);
	assert_int_equal(hal_sim_inject_fault(f->sim, 0, "X", NULL, T0), -EINVAL);

	/* Connector facts, with defaults resolved. */
	assert_int_equal(hal_info(f->hal, AC, &info), 0);
	assert_int_equal(info.type, HAL_CONN_AC_TYPE2);
	assert_near(info.voltage_v, 230, 0);
	assert_near(info.max_power_w, 22080, 1e-9);
	assert_int_equal(hal_info(f->hal, DC, &info), 0);
	assert_int_equal(info.phases, 0);

	/* EVs. */
	ev.ac_phases = 0;
	assert_int_equal(hal_sim_plug(f->sim, AC, &ev, T0), -EINVAL);
	ev = ac_ev;
	ev.soc_pct = 101;
	assert_int_equal(hal_sim_plug(f->sim, AC, &ev, T0), -EINVAL);
	ev = ac_ev;                                     /* no DC side */
	assert_int_equal(hal_sim_plug(f->sim, DC, &ev, T0), -EINVAL);
	assert_int_equal(hal_sim_plug(f->sim, AC, NULL, T0), -EINVAL);

	/* Limits. */
	assert_int_equal(hal_set_limit(f->hal, AC, &lim, T0), -EINVAL);
	lim.value = NAN;
	assert_int_equal(hal_set_limit(f->hal, AC, &lim, T0), -EINVAL);
	lim = (struct hal_limit){ 10, HAL_UNIT_A, 4 };
	assert_int_equal(hal_set_limit(f->hal, AC, &lim, T0), -EINVAL);

	/* Time going backwards integrates nothing. (100 kWh: no taper in 2 h.) */
	ev = ac_ev;
	ev.capacity_kwh = 100;
	start(f, AC, &ev);
	assert_near(meter(f, AC, T0 + HOUR_MS).energy_wh, 1000 + 22080, 1e-6);
	assert_int_equal(hal_sim_advance(f->sim, T0), -EINVAL);
	assert_near(meter(f, AC, T0 + 30 * MIN_MS).energy_wh, 1000 + 22080, 1e-6);
	assert_near(meter(f, AC, T0 + 2 * HOUR_MS).energy_wh, 1000 + 2 * 22080, 1e-6);

	/* Names. */
	assert_int_equal(hal_connector_type_parse("CCS"), HAL_CONN_DC_CCS);
	assert_int_equal(hal_connector_type_parse("Type3"), -EINVAL);
	teardown_fixture(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ac_energy),
		cmocka_unit_test(test_limit_in_amperes_and_watts),
		cmocka_unit_test(test_limit_zero_suspends),
		cmocka_unit_test(test_contactor),
		cmocka_unit_test(test_dc_taper_and_full),
		cmocka_unit_test(test_dc_limits),
		cmocka_unit_test(test_ev_events),
		cmocka_unit_test(test_fault),
		cmocka_unit_test(test_meter_error),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_token_and_display),
		cmocka_unit_test(test_state_json),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
