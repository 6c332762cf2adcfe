/* A simulated charger with a simulated EV per connector: a HAL driver for
 * operators who want realistic stations without hardware, and for tests.
 *
 * Physics is a pure function of the times passed in: nothing happens
 * between calls, and every call that can change the power flow first
 * integrates each affected connector up to its now_ms. Time that goes
 * backwards is ignored (nothing integrates; the change still applies).
 *
 * Power. Energy flows only while the EV is plugged in and asking for energy,
 * the contactor is closed and no fault is active. Then
 *
 *     P = min(EV acceptance at this SoC, EVSE limit, connector maximum)
 *
 * - AC: the EV draws on n phases at the nominal voltage V (230 V unless
 *   configured): n is the least of the EV's phases, the connector's and the
 *   limit's (hal_limit.phases, when not 0). Its maximum is
 *   I_ev * V * n; a limit or connector maximum in A becomes A * V * n; the
 *   meter shows I = P / (V * n) on L1..Ln, 0 A on the other supply
 *   phases, V on every supply phase. The EV reports no SoC (IEC 61851).
 * - DC: the EV's maximum is its DC power; a limit or connector maximum in A
 *   becomes A * U with U the EV's battery voltage (400 V unless given,
 *   constant over the charge); the meter shows U and P / U while energy
 *   flows, and the SoC.
 * - No losses: the energy the meter counts is the energy the battery gets.
 *
 * Charging curve: the EV accepts its full maximum P_ev up to 80 % SoC, then
 * a share falling linearly from 100 % at 80 % SoC to 5 % (the trickle) at
 * 100 % SoC:  P_acc(s) = P_ev * (1 - 0.95 * (s - 80) / 20)  for s >= 80.
 * At 100 % the EV is full: it stops asking for energy (its state drops from
 * HAL_EV_READY to HAL_EV_CONNECTED; the core reports SuspendedEV).
 * SoC and energy are integrated in closed form: at constant power
 * dE = P dt and ds = 100 dE / capacity; in the taper, where the EV's
 * acceptance is the smaller term, the share x = P_acc / P_ev decays as
 * x(t) = x0 * exp(-k t) with k = 100 * 0.0475 * P_ev / capacity (per hour,
 * capacity in Wh), so the result does not depend on how often the core
 * ticks. The energy register only grows; it starts at the configured
 * value and is in Wh.
 *
 * Events: EV becoming full is noticed while integrating and delivered from
 * the next hal_tick / hal_sim_advance (hal_next_deadline says when: the
 * moment the EV will be full, or at once if an event waits); hal_status
 * already shows the new state. The operator's entry points below deliver
 * their events at once.
 *
 * Defaults: a fresh connector offers its maximum (the limit is its max
 * current for AC, its max power for DC), the contactor is open and the
 * cable unlocked. */
#ifndef EV_STATION_HAL_SIM_H
#define EV_STATION_HAL_SIM_H

#include <stdint.h>
#include <jansson.h>

#include "station/hal.h"

#define HAL_SIM_TAPER_SOC 80.0     /* % SoC where the taper starts */
#define HAL_SIM_TRICKLE 0.05       /* share of P_ev accepted just before 100 % */
#define HAL_SIM_AC_VOLTAGE 230.0   /* default nominal phase voltage */
#define HAL_SIM_DC_VOLTAGE 400.0   /* default EV battery voltage */

struct hal_sim_connector_config {
	enum hal_connector_type type;
	int phases;                /* AC supply phases: 1..3 (Type1: 1); ignored for DC */
	double max_current_a;      /* AC: per phase, > 0; DC: output current, 0: no limit */
	double max_power_w;        /* AC: 0 means I * V * phases; DC: > 0 */
	double voltage_v;          /* AC nominal voltage; 0: 230 V */
	double meter_start_wh;     /* the energy register's first value, >= 0 */
};

/* A simulated EV. An EV may have both an AC and a DC side; the connector it
 * is plugged into chooses which is used, and that side must be set. */
struct hal_sim_ev {
	double capacity_kwh;       /* > 0 */
	double soc_pct;            /* at plug-in, 0..100 */
	double ac_max_current_a;   /* per phase, on-board charger */
	int ac_phases;             /* 1 or 3 */
	double dc_max_power_kw;
	double dc_voltage_v;       /* 0: 400 V */
};

struct hal_sim;

/* NULL with errno EINVAL (bad configuration, logged) or ENOMEM. */
struct hal_sim *hal_sim_new(const struct hal_sim_connector_config *cfg, int n);
void hal_sim_free(struct hal_sim *sim);
/* The driver as the core sees it; hal_free(hal_sim_hal(sim)) frees sim. */
struct hal *hal_sim_hal(struct hal_sim *sim);

/* Integrates every connector up to now_ms and delivers pending events
 * (the same as hal_tick). -EINVAL if now_ms is before an earlier time. */
int hal_sim_advance(struct hal_sim *sim, int64_t now_ms);

/* Plugs an EV in: -EBUSY if one is already there, -EINVAL if the EV lacks
 * what the connector needs. The EV asks for energy at once unless full. */
int hal_sim_plug(struct hal_sim *sim, int c, const struct hal_sim_ev *ev, int64_t now_ms);
/* Unplugs: -ENOENT if no EV, -EBUSY while the cable is locked unless force.
 * The charger opens the contactor when the EV goes (as IEC 61851 wants). */
int hal_sim_unplug(struct hal_sim *sim, int c, int force, int64_t now_ms);
/* The EV stops (paused != 0) or resumes asking for energy though not full,
 * as an EV with a departure timer does. */
int hal_sim_ev_pause(struct hal_sim *sim, int c, int paused, int64_t now_ms);

/* A token presented at connector c, or at the station's reader (0). type
 * NULL means "ISO14443". -EINVAL if id is empty or longer than
 * HAL_TOKEN_MAX. */
int hal_sim_present_token(struct hal_sim *sim, int c, const char *id, const char *type);

/* A fault (e.g. "GroundFailure"): opens the contactor and refuses to close
 * it until cleared. A new fault replaces the old. info may be NULL. */
int hal_sim_inject_fault(struct hal_sim *sim, int c, const char *code, const char *info,
			 int64_t now_ms);
int hal_sim_clear_fault(struct hal_sim *sim, int c);
/* The meter reports an error (err -EIO) or stops answering (-ETIMEDOUT):
 * hal_read_meter returns err until cleared. Energy still flows and is
 * counted; the next good reading shows it. */
int hal_sim_inject_meter_error(struct hal_sim *sim, int c, int err, const char *info);
int hal_sim_clear_meter_error(struct hal_sim *sim, int c);
/* While on, locking and unlocking fail with -EIO and the lock stays put. */
int hal_sim_set_lock_failure(struct hal_sim *sim, int c, int on);

/* Fills obj with connector c's state as of the last integration (call
 * hal_sim_advance first), for the control socket:
 *   connector, type ("Type1" "Type2" "CCS"), phases, voltage, maxCurrent,
 *   maxPower, ev ("unplugged" "connected" "ready"), vehicle (null, or
 *   {capacityKWh, soc, acMaxCurrent, acPhases | dcMaxPowerKW, dcVoltage,
 *   paused, full}), locked, lockFailure, contactorClosed,
 *   limit {value, unit, phases}, charging (energy flows),
 *   meter {energyWh, powerW, currentA[], voltageV[], soc (DC only, else
 *   null)}: the true values even while the meter "fails",
 *   fault (null or {code, info}), meterError (null or {kind: "error" |
 *   "timeout", info}), display (null or text), asOfMs (null before any
 *   time was given).
 * c == 0 gives the station: {connectors, display}. -EINVAL for a bad c or
 * obj, -ENOMEM. */
int hal_sim_state_json(const struct hal_sim *sim, int c, json_t *obj);

#endif
