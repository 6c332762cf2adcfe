/* The central system: stations connect over OCPP-J (wsserver), what they
 * report goes to the usage store (store.h), operators act through the REST
 * API (api.c). One struct csms per `evctl serve` process, on one libuv
 * loop. */
#ifndef EV_CSMS_CSMS_H
#define EV_CSMS_CSMS_H

#include <uv.h>

#include "csms/store.h"

struct csms;

struct csms_config {
	const char *db_path;
	enum db_sync sync;
	unsigned commit_interval_ms;  /* group commit window; 0: every iteration */
	/* OCPP listener */
	const char *ocpp_address;     /* NULL: 127.0.0.1 */
	int ocpp_port;                /* 0: any free port */
	const char *path_prefix;      /* "/ocpp" */
	const char *tls_cert, *tls_key; /* wss:// */
	const char *tls_ca;           /* client certificates required (profile 3) */
	unsigned ping_interval_s;
	/* API listener */
	const char *api_address;
	int api_port;
	const char *api_cert, *api_key;
	const char *token_file;       /* the local API token is written here */
	/* policies */
	int auto_admission;           /* unknown ids are registered on connect */
	enum registration auto_registration; /* ...with this registration */
	unsigned heartbeat_interval_s;
	unsigned pending_interval_s;  /* boot retry for Pending / Rejected */
	unsigned call_timeout_s;      /* default wait for a station's answer */
	int message_log;              /* keep every OCPP frame in the store */
	unsigned message_log_days;
};

/* Opens the store and both listeners. On failure (-1, message in err) *out
 * may still be set: tear it down like a running one. */
int csms_new(uv_loop_t *loop, const struct csms_config *cfg, struct csms **out,
	     char *err, size_t errlen);
/* In the loop: drops connections, closes listeners. csms_free after the
 * loop ran dry. */
void csms_close(struct csms *cs);
void csms_free(struct csms *cs);
int csms_ocpp_port(const struct csms *cs);
int csms_api_port(const struct csms *cs);

#endif
