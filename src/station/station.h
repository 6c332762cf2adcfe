/* A charging station instance: the version-neutral station core.
 *
 * No globals: one process can run many stations (evstationd --count) on
 * one libuv loop and one ws_net. The core owns the connection to the
 * central system, the RPC engine, the timers and the registration state;
 * everything OCPP-version specific is in an adapter (ocpp16.c). */
#ifndef EV_STATION_H
#define EV_STATION_H

#include <jansson.h>
#include <uv.h>

#include "net/wsclient.h"
#include "ocpp/version.h"

struct db;
struct hal_sim;
struct transfer_mgr;
struct hal_exec_config;

struct station;

struct station_config {
	const char *id;             /* the station identity (last URL segment) */
	const char *url;            /* ws[s]://central-system/path */
	enum ocpp_version version;
	const char *password;       /* Basic Auth; NULL for none */
	const char *ca_file, *cert_file, *key_file;
	const char *vendor, *model, *serial, *firmware_version;
	int connectors;             /* 1.. */
	struct db *db;              /* the state database, shared by the process's stations */
	struct transfer_mgr *transfers;  /* downloads and uploads, shared */
	const char *work_dir;       /* this station's own files (firmware) */
	const char *firmware_hook;  /* installs a downloaded firmware image */
	/* Real hardware through external commands; NULL: simulated. */
	const struct hal_exec_config *hal_exec;
	unsigned call_timeout_s;    /* how long to wait for an answer */
	/* WebSocketPingInterval until the central system sets one; < 0: 60 */
	long ping_interval_s;
	unsigned reconnect_min_ms, reconnect_max_ms;  /* back-off; 0: 1 s, 60 s */
};

enum station_registration {
	STATION_BOOTING,            /* no BootNotification answered yet */
	STATION_PENDING,
	STATION_ACCEPTED,
	STATION_REJECTED,
};

struct station *station_new(uv_loop_t *loop, struct ws_net *net,
			    const struct station_config *cfg, char *err, size_t errlen);
/* Applies the settings of cfg that may change while the station runs
 * (evstationd's SIGHUP): the call timeout, the reconnect back-off and the
 * default ping interval (a WebSocketPingInterval the central system set
 * stays). The rest of cfg is ignored. */
void station_reconfigure(struct station *st, const struct station_config *cfg);
/* Closes the connection and frees the station. */
void station_free(struct station *st);
/* The daemon is stopping: running transactions end (reason Reboot, the
 * closest OCPP 1.6 has to "the station's software was stopped"). Returns
 * 1 once their messages are delivered or cannot be now (offline); what is
 * left is delivered at the next start. */
int station_shutdown(struct station *st);

const char *station_id(const struct station *st);
/* The simulated hardware, for the control socket; NULL with real hardware. */
struct hal_sim *station_sim(struct station *st);
/* Wakes the core after the simulated hardware was driven from outside. */
void station_hardware_changed(struct station *st);
/* Fills obj with the station's state (registration, connectors,
 * transactions, hardware) for the control socket. */
void station_state_json(struct station *st, json_t *obj);
enum station_registration station_registration(const struct station *st);
int station_is_connected(const struct station *st);

#endif
