/* A HAL driver that runs the integrator's commands: a real charge
 * controller can be brought up with a few scripts and no C.
 *
 * Commands. Each request runs one command, with libuv's uv_spawn on the
 * station's loop; nothing waits for it:
 *
 *   lock-cmd       %c %s %b      lock (on) or unlock (off) the cable
 *   contactor-cmd  %c %s %b      close (on) or open (off) the contactor
 *   limit-cmd      %c %v %u %p   offer value in unit (A per phase, or W)
 *                                on phases
 *   display-cmd    %c %t         show text (connector 0: the station's screen)
 *   meter-cmd      %c            print a reading (format below)
 *   events-cmd                   runs all the time; prints events (below)
 *
 * Placeholders: %c connector (1..n; 0 for the station's display), %s "on" or
 * "off", %b "1" or "0", %v the limit as a plain decimal ("16", "6.5",
 * "11000"), %u "A" or "W", %p phases 1..3 (when the core leaves it open:
 * the connector's supply phases; 0 for DC), %t the text ("" to clear), %n
 * the number of connectors (in every command), %% a literal %. Any other %
 * is a configuration error, and so is a command without %c on a station of
 * several connectors (each connector would drive the same hardware), except
 * display-cmd and events-cmd.
 *
 * Quoting. No shell is involved: the command is split into words at blanks;
 * '...' quotes literally, "..." quotes with \" and \\ as escapes, and a
 * backslash outside quotes takes the next character literally. Placeholders
 * are substituted inside each word afterwards (quoted or not), so a value
 * never splits into several arguments or becomes shell syntax. The first
 * word is looked up in PATH (and must exist when the driver starts, unless
 * it holds a placeholder). For pipes or redirections, run a shell and pass
 * values as its positional parameters, never inside the script text:
 *     display-cmd = sh -c 'printf "%%s\n" "$1" > "/dev/lcd$2"' display %t %c
 * The command gets stdin from /dev/null and the daemon's environment; each
 * line it writes to stderr is logged (warn); stdout is ignored except for
 * meter-cmd and events-cmd. It runs in a process group of its own, and is
 * done when it exited and closed its output (a background child that keeps
 * stdout or stderr open is waited for one second at most).
 *
 * Requests (lock, contactor, limit, display) return -EINPROGRESS and report
 * through events->done once the command exited: rc 0 for exit status 0,
 * -EIO for another status or a signal, -ETIMEDOUT if it ran longer than
 * command-timeout-ms (its process group then gets SIGTERM, and SIGKILL one
 * second later; the outcome is reported when it is gone). A command that
 * cannot be started at all is -EIO at once (logged).
 * Only then does hal_status show the new lock, contactor or limit state (at
 * start: unlocked, open, the connector's maximum). At most one command per
 * connector and request kind runs at a time; a request made meanwhile waits,
 * and a newer one replaces it: the replaced request is reported done with
 * -ECANCELED when the running one finishes. Refused at once, as hal.h says:
 * closing the contactor with no EV (-ENOTCONN) or while faulted (-EIO); a
 * bad limit (-EINVAL). Without lock-cmd or display-cmd, set_lock and
 * set_display succeed at once (a tethered cable, no screen).
 *
 * meter-cmd output: whitespace-separated key=value pairs, on one line or
 * several, e.g.
 *     energy_wh=12345.6 power_w=7200 current_a=10.1,10.0,9.9 voltage_v=230,231,229 soc=55
 *   energy_wh  the import register in Wh: required, >= 0, never decreasing
 *   power_w    active import power in W, >= 0
 *   current_a  1 to 3 comma-separated currents in A (L1..L3; DC: one), >= 0
 *   voltage_v  1 to 3 comma-separated voltages in V (AC L-N; DC: one), >= 0
 *   soc        the EV's state of charge, 0..100 (DC)
 * Numbers are plain decimals ("12345.6", "1e3"; no "nan", no hex, a point,
 * never a comma, as decimal mark). Unknown keys are ignored, a repeated key
 * counts once (the last). At most 4096 bytes. A non-zero exit, a timeout,
 * an unparsable output, or an energy register lower than the last reading
 * makes the reading fail.
 *
 * The meter is polled in the background: meter-cmd runs for each connector
 * every meter-interval-ms (skipped while the previous run still runs), and
 * again as soon as a contactor or limit command succeeded. hal_read_meter
 * answers at once with the latest good reading, -EAGAIN before the first.
 * When no good reading came for meter-stale-ms, it returns -EIO if the last
 * attempt failed, -ETIMEDOUT if it timed out or none finished; the next
 * good reading clears that. The meter event reports each change of this
 * error (err 0: working again), and hal_status's meter_error is the same
 * error (0 before the first reading, while hal_read_meter says -EAGAIN).
 *
 * events-cmd output: one event per line; words are separated by blanks; C
 * is a connector number:
 *   plug C               an EV was plugged in (IEC 61851 state B); nothing
 *                        changes if one is already plugged in
 *   ready C              the EV asks for energy (state C/D); implies plugged
 *   suspended C          the EV is plugged in but does not ask (state B)
 *   unplug C             the EV is gone (state A)
 *   token C ID [TYPE]    a token was presented; C 0 is the station's reader;
 *                        TYPE an IdTokenEnumType: Central, eMAID, ISO14443
 *                        (default), ISO15693, KeyCode, Local, MacAddress,
 *                        NoAuthorization; ID at most 36 characters
 *   fault C CODE [INFO]  a fault (CODE as OCPP 1.6's ChargePointErrorCode,
 *                        e.g. GroundFailure; at most 50 characters); INFO is
 *                        the rest of the line (cut at 50 bytes)
 *   clear C              the fault is gone
 *   meter-error C [INFO] the meter is broken: hal_read_meter returns -EIO
 *                        until meter-ok, whatever meter-cmd prints
 *   meter-ok C           the meter works again
 * Blank lines and lines starting with # are ignored; so is any other line,
 * with a warning (unknown keyword, bad connector, extra words, a line over
 * 1024 bytes, bytes that are not UTF-8 text). States are reported to the
 * core only when they change, so the command should print the state of
 * every connector when it starts (it is restarted, see below).
 *
 * If events-cmd exits, it is started again after events-restart-min-ms
 * (1 s), the delay doubling up to events-restart-max-ms (60 s) while it
 * keeps failing; it starts over after a run of at least the maximum.
 * Meanwhile the station cannot see EVs, tokens or faults, and must not go
 * on charging blind: every connector reports the fault InternalError
 * ("events-cmd not running"), which the core treats like any fault, until
 * the restarted command has been running for events-restart-min-ms. A
 * fault the command itself reported wins over it. The first start happens
 * in hal_exec_new, which fails if the command cannot be started.
 *
 * Time: unlike the simulator this driver lives on a real libuv loop: its
 * timers (timeouts, meter polling, staleness, restarts) run on the loop
 * given at creation, and the core's now_ms arguments are not used.
 * hal_tick does nothing and hal_next_deadline is -1; hal_fd is -1.
 * Events and done reports come from the driver's own loop callbacks, never
 * from inside a hal_* call, so the core needs no polling to hear them.
 *
 * hal_exec_free ends the events and meter commands (SIGTERM to their process
 * groups, SIGKILL a second later) and lets running lock, contactor, limit
 * and display commands finish (up to their timeout), reporting nothing:
 * a contactor opened at shutdown is still opened. The loop must run on
 * until they are gone (as at the end of evstationd). */
#ifndef EV_STATION_HAL_EXEC_H
#define EV_STATION_HAL_EXEC_H

#include <stddef.h>
#include <uv.h>

#include "station/hal.h"

#define HAL_EXEC_TIMEOUT_MS 10000       /* default command timeout */
#define HAL_EXEC_METER_INTERVAL_MS 1000 /* default meter poll interval */
#define HAL_EXEC_STALE_FACTOR 3         /* default meter-stale: this many intervals */
#define HAL_EXEC_RESTART_MIN_MS 1000
#define HAL_EXEC_RESTART_MAX_MS 60000
#define HAL_EXEC_MAX_MS 3600000u        /* no time setting may exceed an hour */
#define HAL_EXEC_LINE_MAX 1024          /* an events-cmd line, in bytes */
#define HAL_EXEC_METER_OUT_MAX 4096     /* meter-cmd's output, in bytes */

/* Fixed facts about a connector, as in hal_sim. */
struct hal_exec_connector {
	enum hal_connector_type type;
	int phases;                /* AC supply phases: 1..3 (Type1: 1); ignored for DC */
	double max_current_a;      /* AC: per phase, > 0; DC: output current, 0: no limit */
	double max_power_w;        /* AC: 0 means I * V * phases; DC: > 0 */
	double voltage_v;          /* AC nominal voltage; 0: 230 V */
};

/* What the daemon read from its configuration. Strings are copied; NULL or
 * "" means not configured. Times in ms; 0 means the default. */
struct hal_exec_config {
	const char *lock_cmd;          /* optional */
	const char *contactor_cmd;     /* required */
	const char *limit_cmd;         /* required */
	const char *meter_cmd;         /* required */
	const char *display_cmd;       /* optional */
	const char *events_cmd;        /* required */
	unsigned timeout_ms;           /* each run of every command but events-cmd */
	unsigned meter_interval_ms;
	unsigned meter_stale_ms;       /* >= meter_interval_ms; 0: 3 intervals */
	unsigned restart_min_ms;       /* events-cmd back-off */
	unsigned restart_max_ms;       /* >= restart_min_ms */
	int n_connectors;              /* 1..HAL_MAX_CONNECTORS */
	const struct hal_exec_connector *connectors;
};

struct hal_exec;

/* Checks cfg, parses the commands and starts events-cmd and meter polling on
 * loop. NULL with errno EINVAL (a configuration error; err says which
 * setting and why: "limit-cmd: unknown placeholder %x"), ENOENT (a command
 * that cannot be found or run) or ENOMEM; err may be NULL, then the reason
 * is logged. */
struct hal_exec *hal_exec_new(uv_loop_t *loop, const struct hal_exec_config *cfg,
			      char *err, size_t errlen);
void hal_exec_free(struct hal_exec *x);
/* The driver as the core sees it; hal_free(hal_exec_hal(x)) frees x. */
struct hal *hal_exec_hal(struct hal_exec *x);

/* ---- the formats, for tests and for tools that check an integrator's
 * scripts */

/* Parses meter-cmd's output (NUL-terminated). 0, or -EINVAL with the
 * reason in err. */
int hal_exec_parse_meter(const char *text, struct hal_meter *out, char *err, size_t errlen);

enum hal_exec_event_type {
	HAL_EXEC_EV_NONE,          /* blank line or comment */
	HAL_EXEC_EV_PLUG,
	HAL_EXEC_EV_STATE,         /* ready, suspended, unplug: ev says which */
	HAL_EXEC_EV_TOKEN,
	HAL_EXEC_EV_FAULT,
	HAL_EXEC_EV_CLEAR,
	HAL_EXEC_EV_METER_ERROR,
	HAL_EXEC_EV_METER_OK,
};

struct hal_exec_event {
	enum hal_exec_event_type type;
	int connector;
	enum hal_ev_state ev;                       /* HAL_EXEC_EV_STATE */
	char id[HAL_TOKEN_MAX + 1];                 /* HAL_EXEC_EV_TOKEN */
	char token_type[HAL_TOKEN_TYPE_MAX + 1];
	char code[HAL_CODE_MAX + 1];                /* HAL_EXEC_EV_FAULT */
	char info[HAL_INFO_MAX + 1];                /* FAULT, METER_ERROR; "" if none */
};

/* Parses one events-cmd line (without its newline; a trailing \r is
 * ignored) for a station of n connectors. 0, or -EINVAL with the reason in
 * err. */
int hal_exec_parse_event(const char *line, int n, struct hal_exec_event *out,
			 char *err, size_t errlen);

#endif
