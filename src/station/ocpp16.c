/* The OCPP 1.6J adapter of the station core. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "station/station_priv.h"
#include "util/log.h"
#include "util/rfc3339.h"

static json_t *timestamp(const struct station *st)
{
	char buf[RFC3339_MAX];
	rfc3339_format_ms(station_now_ms(st), buf, sizeof buf);
	return json_string(buf);
}

/* ------------------------------------------------------ BootNotification */

static void boot_answered(void *arg, const struct ocpp_result *r)
{
	struct station *st = arg;
	const char *status;
	struct ev_timestamp now = { 0 };
	json_int_t interval;

	if (r->status != OCPP_RESULT_OK) {
		if (r->status != OCPP_RESULT_CLOSED)
			station_boot_answered(st, STATION_BOOTING, 0, 0);
		return;
	}
	status = json_string_value(json_object_get(r->payload, "status"));
	interval = json_integer_value(json_object_get(r->payload, "interval"));
	rfc3339_parse(json_string_value(json_object_get(r->payload, "currentTime")), &now);
	station_boot_answered(st,
			      strcmp(status, "Accepted") == 0 ? STATION_ACCEPTED :
			      strcmp(status, "Pending") == 0 ? STATION_PENDING : STATION_REJECTED,
			      interval > 0 ? (unsigned)interval : 0, now.unix_ms);
}

static void boot(struct station *st)
{
	json_t *p = json_pack("{s:s, s:s}", "chargePointVendor", st->cfg.vendor ? st->cfg.vendor : "evctl",
			      "chargePointModel", st->cfg.model ? st->cfg.model : "evstationd");
	if (!p)
		return;
	if (st->cfg.serial)
		json_object_set_new(p, "chargePointSerialNumber", json_string(st->cfg.serial));
	json_object_set_new(p, "firmwareVersion",
			    json_string(st->cfg.firmware_version ? st->cfg.firmware_version : PACKAGE_VERSION));
	station_call(st, "BootNotification", p, boot_answered, st);
}

/* --------------------------------------------------------------- Heartbeat */

static void heartbeat_answered(void *arg, const struct ocpp_result *r)
{
	struct station *st = arg;
	struct ev_timestamp now;

	/* The answer carries the central system's clock. */
	if (r->status == OCPP_RESULT_OK &&
	    rfc3339_parse(json_string_value(json_object_get(r->payload, "currentTime")), &now) == 0)
		st->clock_offset_ms = now.unix_ms - ev_now_ms();
}

static void heartbeat(struct station *st)
{
	station_call(st, "Heartbeat", json_object(), heartbeat_answered, st);
}

/* ------------------------------------------------------ StatusNotification */

static void status_notification(struct station *st, int connector, const char *status,
				const char *error_code)
{
	json_t *p = json_pack("{s:i, s:s, s:s, s:o}", "connectorId", connector,
			      "errorCode", error_code, "status", status, "timestamp", timestamp(st));
	if (p)
		station_call(st, "StatusNotification", p, NULL, NULL);
}

static void announce(struct station *st)
{
	for (int c = 0; c <= st->cfg.connectors; c++)
		status_notification(st, c, "Available", "NoError");
}

/* ------------------------------------------------------------- CALLs in */

static void trigger_message(struct station *st, const char *id, json_t *p)
{
	const char *what = json_string_value(json_object_get(p, "requestedMessage"));
	json_t *connector = json_object_get(p, "connectorId");
	int c = connector ? (int)json_integer_value(connector) : -1;

	if (connector && (c < 0 || c > st->cfg.connectors)) {
		station_reply(st, id, json_pack("{s:s}", "status", "Rejected"));
		return;
	}
	if (strcmp(what, "BootNotification") != 0 && strcmp(what, "Heartbeat") != 0 &&
	    strcmp(what, "StatusNotification") != 0) {
		station_reply(st, id, json_pack("{s:s}", "status", "NotImplemented"));
		return;
	}
	/* Answer first, then send what was asked for (1.6 5.17). */
	station_reply(st, id, json_pack("{s:s}", "status", "Accepted"));
	if (strcmp(what, "BootNotification") == 0) {
		boot(st);
	} else if (strcmp(what, "Heartbeat") == 0) {
		heartbeat(st);
	} else {
		for (int i = c < 0 ? 0 : c; i <= (c < 0 ? st->cfg.connectors : c); i++)
			status_notification(st, i, "Available", "NoError");
	}
}

static void on_call(struct station *st, const char *id, const struct ocpp_action *a,
		    json_t *payload)
{
	if (strcmp(a->name, "TriggerMessage") == 0) {
		trigger_message(st, id, payload);
	} else if (strcmp(a->name, "DataTransfer") == 0) {
		station_reply(st, id, json_pack("{s:s}", "status", "UnknownVendorId"));
	} else {
		char why[96];
		snprintf(why, sizeof why, "%s is not supported by this station yet", a->name);
		station_reply_error(st, id, OCPP_ERR_NOT_SUPPORTED, why);
	}
}

const struct station_adapter station_adapter_16 = {
	.version = OCPP_V16,
	.boot = boot,
	.heartbeat = heartbeat,
	.announce = announce,
	.on_call = on_call,
};
