/* OCPP 1.6J for the central system: what each message a station sends
 * means for the store, and how each operator operation (doc/API.md) is
 * spelled as a 1.6 request. Payloads arrive validated against the official
 * schemas, so handlers read fields without re-checking their types. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csms/csms_priv.h"
#include "util/log.h"
#include "util/rfc3339.h"

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_int_t num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* A station's timestamp, or now if it sent none (or nonsense). */
static time_t when(const json_t *o, const char *key)
{
	struct ev_timestamp ts;
	const char *s = str(o, key);

	if (s && rfc3339_parse(s, &ts) == 0)
		return (time_t)(ts.unix_ms / 1000);
	return time(NULL);
}

static json_t *now_json(void)
{
	char buf[RFC3339_MAX];

	rfc3339_format_ms(ev_now_ms(), buf, sizeof buf);
	return json_string(buf);
}

static json_t *time_json(time_t t)
{
	char buf[RFC3339_MAX];

	rfc3339_format_ms((int64_t)t * 1000, buf, sizeof buf);
	return json_string(buf);
}

/* A write failed: no answer that claims it was stored. */
static int failed(struct csms_station *st, const char *id, int rc)
{
	if (rc >= 0)
		return 0;
	log_error("station %s: store: %s", st->id, db_errmsg(st->cs->db));
	csms_reply_error(st, id, OCPP_ERR_INTERNAL, "could not store the message; send it again");
	return 1;
}

/* ---------------------------------------------------------------- handlers */

static void boot(struct csms_station *st, const char *id, json_t *p)
{
	struct csms *cs = st->cs;
	struct store_station s;
	struct store_boot b = {
		str(p, "chargePointVendor"), str(p, "chargePointModel"),
		str(p, "chargePointSerialNumber"), str(p, "chargeBoxSerialNumber"),
		str(p, "firmwareVersion"), str(p, "iccid"), str(p, "imsi"),
		str(p, "meterType"), str(p, "meterSerialNumber"),
	};
	static const char *const spelled[] = { "Accepted", "Pending", "Rejected" };
	int rc = store_station_get(cs->db, st->id, &s);

	if (rc == -ENOENT) {
		/* Removed while connected: nothing to store, and no way in. */
		st->registration = REG_REJECTED;
		csms_reply(st, id, json_pack("{s:s, s:o, s:i}", "status", "Rejected",
					     "currentTime", now_json(),
					     "interval", (int)cs->cfg.pending_interval_s));
		return;
	}
	if (failed(st, id, rc))
		return;
	if (failed(st, id, csms_begin(cs)) ||
	    failed(st, id, store_station_boot(cs->db, st->id, &b, "1.6", time(NULL))))
		return;
	st->registration = s.registration;
	log_info("station %s booted: %s %s, firmware %s: %s", st->id, b.vendor, b.model,
		 b.firmware ? b.firmware : "?", spelled[s.registration]);
	csms_publish(cs, "station.boot", st->id,
		     json_pack("{s:s, s:s, s:s?, s:s}", "vendor", b.vendor, "model", b.model,
			       "firmware", b.firmware, "registration", registration_name(s.registration)));
	csms_reply(st, id, json_pack("{s:s, s:o, s:i}", "status", spelled[s.registration],
				     "currentTime", now_json(),
				     "interval", s.registration == REG_ACCEPTED
				     ? (int)cs->cfg.heartbeat_interval_s : (int)cs->cfg.pending_interval_s));
}

static void heartbeat(struct csms_station *st, const char *id, json_t *p)
{
	(void)p;
	csms_reply(st, id, json_pack("{s:o}", "currentTime", now_json()));
}

static void status_notification(struct csms_station *st, const char *id, json_t *p)
{
	struct store_status s = {
		.connector = (int)num(p, "connectorId"), .status = str(p, "status"),
		.error_code = str(p, "errorCode"), .info = str(p, "info"),
		.vendor_id = str(p, "vendorId"), .vendor_error_code = str(p, "vendorErrorCode"),
		.time = when(p, "timestamp"),
	};

	if (failed(st, id, csms_begin(st->cs)) ||
	    failed(st, id, store_status_add(st->cs->db, st->id, &s, time(NULL))))
		return;
	csms_publish(st->cs, "status", st->id,
		     json_pack("{s:i, s:s, s:s}", "connector", s.connector, "status", s.status,
			       "error_code", s.error_code));
	csms_reply(st, id, json_object());
}

/* idTagInfo for a tag; except: the session being started (0: none). */
static json_t *id_tag_info(struct csms_station *st, const char *tag, int64_t except)
{
	enum token_status status;
	char parent[64];
	time_t expiry;
	json_t *info;

	if (store_token_check(st->cs->db, tag, time(NULL), except, &status, parent, sizeof parent,
			      &expiry))
		status = TOKEN_INVALID;
	info = json_pack("{s:s}", "status", token_status_name(status));
	if (status != TOKEN_INVALID && parent[0])
		json_object_set_new(info, "parentIdTag", json_string(parent));
	if (status != TOKEN_INVALID && expiry)
		json_object_set_new(info, "expiryDate", time_json(expiry));
	return info;
}

static void authorize(struct csms_station *st, const char *id, json_t *p)
{
	csms_reply(st, id, json_pack("{s:o}", "idTagInfo", id_tag_info(st, str(p, "idTag"), 0)));
}

static void start_transaction(struct csms_station *st, const char *id, json_t *p)
{
	struct store_start s = {
		.station = st->id, .id_tag = str(p, "idTag"),
		.connector = (int)num(p, "connectorId"), .meter_start = num(p, "meterStart"),
		.time = when(p, "timestamp"), .reservation = (int)num(p, "reservationId"),
	};
	int64_t session = 0;
	int duplicate = 0;

	if (failed(st, id, csms_begin(st->cs)) ||
	    failed(st, id, store_session_start(st->cs->db, &s, &session, &duplicate)))
		return;
	if (duplicate) {
		log_info("station %s: StartTransaction re-sent; it is session %lld", st->id,
			 (long long)session);
	} else {
		log_info("station %s: session %lld started on connector %d for %s", st->id,
			 (long long)session, s.connector, s.id_tag);
		csms_publish(st->cs, "session.started", st->id,
			     json_pack("{s:I, s:i, s:s, s:I}", "session", (json_int_t)session,
				       "connector", s.connector, "id_tag", s.id_tag,
				       "meter_start", (json_int_t)s.meter_start));
	}
	csms_reply(st, id, json_pack("{s:I, s:o}", "transactionId", (json_int_t)session,
				     "idTagInfo", id_tag_info(st, s.id_tag, session)));
}

/* One sampledValue's energy register reading in Wh, or -1. */
static int64_t register_wh(const json_t *sv)
{
	const char *measurand = str(sv, "measurand"), *unit = str(sv, "unit");
	const char *format = str(sv, "format"), *value = str(sv, "value");
	char *end;
	double v;

	if ((measurand && strcmp(measurand, "Energy.Active.Import.Register") != 0) ||
	    (format && strcmp(format, "Raw") != 0) || !value)
		return -1;
	v = strtod(value, &end);
	if (end == value || *end || !(v >= 0 && v <= 1e15))   /* also NaN */
		return -1;
	if (unit && strcmp(unit, "kWh") == 0)
		v *= 1000;
	else if (unit && strcmp(unit, "Wh") != 0)
		return -1;
	return (int64_t)(v + 0.5);
}

/* The values of one meterValue for the event stream. */
static json_t *event_values(const json_t *sampled)
{
	json_t *values = json_array(), *sv;
	size_t k;

	json_array_foreach(sampled, k, sv) {
		const char *measurand = str(sv, "measurand");
		json_array_append_new(values, json_pack("{s:s, s:s?, s:s?, s:s}",
			"measurand", measurand ? measurand : "Energy.Active.Import.Register",
			"phase", str(sv, "phase"), "unit", str(sv, "unit"),
			"value", str(sv, "value")));
	}
	return values;
}

/* Stores meterValue[] of a MeterValues or a StopTransaction's
 * transactionData, a row per timestamp; returns the values of the last one
 * (for the event). */
static int store_meter_values(struct csms_station *st, int connector, int64_t session,
			      const json_t *list, json_t **last, int track_energy)
{
	size_t i, k;
	json_t *mv, *sv;
	const json_t *sampled = NULL;
	int64_t energy = -1;
	int rc = 0;

	json_array_foreach(list, i, mv) {
		struct store_reading r = {
			.station = st->id, .connector = connector, .session = session,
			.time = when(mv, "timestamp"),
		};
		char *text;

		sampled = json_object_get(mv, "sampledValue");
		r.sampled = text = json_dumps(sampled, JSON_COMPACT);
		rc = text ? store_reading_add(st->cs->db, &r) : -ENOMEM;
		free(text);
		if (rc)
			return rc;
		json_array_foreach(sampled, k, sv) {
			int64_t wh = register_wh(sv);
			if (wh > energy)
				energy = wh;
		}
	}
	/* The event's copy of the values is only made for listeners. */
	if (st->cs->subs && sampled)
		*last = event_values(sampled);
	if (track_energy && session && energy >= 0)
		rc = store_session_energy(st->cs->db, session, energy);
	return rc;
}

static int own_session(struct csms_station *st, int64_t session)
{
	char owner[256];

	return store_session_station(st->cs->db, session, owner, sizeof owner) == 0 &&
	       strcmp(owner, st->id) == 0;
}

static void meter_values(struct csms_station *st, const char *id, json_t *p)
{
	int connector = (int)num(p, "connectorId");
	int64_t session = num(p, "transactionId");
	json_t *last = NULL;

	if (failed(st, id, csms_begin(st->cs)))
		return;
	if (!json_object_get(p, "transactionId") && connector > 0)
		session = store_session_active(st->cs->db, st->id, connector);
	else if (session && !own_session(st, session)) {
		log_warn("station %s: meter values for transaction %lld, which is not its own",
			 st->id, (long long)session);
		session = 0;
	}
	if (session < 0)
		session = 0;
	if (failed(st, id, store_meter_values(st, connector, session, json_object_get(p, "meterValue"),
					      &last, 1))) {
		json_decref(last);
		return;
	}
	if (last) {
		json_t *ev = json_pack("{s:i, s:o}", "connector", connector, "values", last);
		if (session)
			json_object_set_new(ev, "session", json_integer(session));
		csms_publish(st->cs, "meter", st->id, ev);
	}
	csms_reply(st, id, json_object());
}

static void stop_transaction(struct csms_station *st, const char *id, json_t *p)
{
	struct store_stop s = {
		.station = st->id, .transaction = num(p, "transactionId"),
		.id_tag = str(p, "idTag"), .meter_stop = num(p, "meterStop"),
		.time = when(p, "timestamp"), .reason = str(p, "reason"),
	};
	json_t *data = json_object_get(p, "transactionData"), *last = NULL, *answer, *session;
	int rc;

	if (failed(st, id, csms_begin(st->cs)))
		return;
	rc = store_session_stop(st->cs->db, &s);
	if (rc == -ENOENT) {
		/* Answer anyway: a station would otherwise retry for ever. */
		log_warn("station %s: StopTransaction for unknown transaction %lld", st->id,
			 (long long)s.transaction);
	} else if (failed(st, id, rc)) {
		return;
	}
	if (data && failed(st, id, store_meter_values(st, 0, rc == -ENOENT ? 0 : s.transaction,
						      data, &last, 0))) {
		json_decref(last);
		return;
	}
	json_decref(last);
	if (rc == 0) {
		session = store_session_json(st->cs->db, s.transaction);
		log_info("station %s: session %lld stopped (%s)", st->id, (long long)s.transaction,
			 s.reason ? s.reason : "Local");
		csms_publish(st->cs, "session.stopped", st->id,
			     json_pack("{s:I, s:I, s:O?, s:s}", "session", (json_int_t)s.transaction,
				       "meter_stop", (json_int_t)s.meter_stop,
				       "energy_wh", json_object_get(session, "energy_wh"),
				       "reason", s.reason ? s.reason : "Local"));
		json_decref(session);
	}
	answer = json_object();
	if (s.id_tag)
		json_object_set_new(answer, "idTagInfo", id_tag_info(st, s.id_tag, s.transaction));
	csms_reply(st, id, answer);
}

static void data_transfer(struct csms_station *st, const char *id, json_t *p)
{
	log_info("station %s: DataTransfer from vendor '%s' (message '%s')", st->id,
		 str(p, "vendorId"), str(p, "messageId") ? str(p, "messageId") : "");
	csms_publish(st->cs, "data_transfer", st->id,
		     json_pack("{s:s, s:s?, s:s?}", "vendor_id", str(p, "vendorId"),
			       "message_id", str(p, "messageId"), "data", str(p, "data")));
	csms_reply(st, id, json_pack("{s:s}", "status", "UnknownVendorId"));
}

static void firmware_status(struct csms_station *st, const char *id, json_t *p)
{
	const char *status = str(p, "status");

	if (failed(st, id, csms_begin(st->cs)) ||
	    failed(st, id, store_station_firmware_status(st->cs->db, st->id, status, time(NULL))))
		return;
	csms_publish(st->cs, "firmware", st->id, json_pack("{s:s}", "status", status));
	csms_reply(st, id, json_object());
}

static void diagnostics_status(struct csms_station *st, const char *id, json_t *p)
{
	const char *status = str(p, "status");

	if (failed(st, id, csms_begin(st->cs)) ||
	    failed(st, id, store_station_diagnostics_status(st->cs->db, st->id, status, time(NULL))))
		return;
	csms_publish(st->cs, "diagnostics", st->id, json_pack("{s:s}", "status", status));
	csms_reply(st, id, json_object());
}

/* The 1.6 security whitepaper's notifications: kept in the log and the
 * event stream; certificate signing is not offered. */
static void security_event(struct csms_station *st, const char *id, json_t *p)
{
	log_warn("station %s: security event %s%s%s", st->id, str(p, "type"),
		 str(p, "techInfo") ? ": " : "", str(p, "techInfo") ? str(p, "techInfo") : "");
	csms_publish(st->cs, "security", st->id,
		     json_pack("{s:s, s:s?}", "type", str(p, "type"), "info", str(p, "techInfo")));
	csms_reply(st, id, json_object());
}

static void signed_firmware_status(struct csms_station *st, const char *id, json_t *p)
{
	firmware_status(st, id, p);
}

static void log_status(struct csms_station *st, const char *id, json_t *p)
{
	diagnostics_status(st, id, p);
}

static void sign_certificate(struct csms_station *st, const char *id, json_t *p)
{
	(void)p;
	log_info("station %s: asked to sign a certificate; this central system has no CA", st->id);
	csms_reply(st, id, json_pack("{s:s}", "status", "Rejected"));
}

static const struct {
	const char *action;
	void (*fn)(struct csms_station *st, const char *id, json_t *payload);
} handlers[] = {
	{ "Authorize", authorize },
	{ "BootNotification", boot },
	{ "DataTransfer", data_transfer },
	{ "DiagnosticsStatusNotification", diagnostics_status },
	{ "FirmwareStatusNotification", firmware_status },
	{ "Heartbeat", heartbeat },
	{ "LogStatusNotification", log_status },
	{ "MeterValues", meter_values },
	{ "SecurityEventNotification", security_event },
	{ "SignCertificate", sign_certificate },
	{ "SignedFirmwareStatusNotification", signed_firmware_status },
	{ "StartTransaction", start_transaction },
	{ "StatusNotification", status_notification },
	{ "StopTransaction", stop_transaction },
};

static void on_call(struct csms_station *st, const char *id, const struct ocpp_action *a,
		    json_t *payload)
{
	if (a->origin == OCPP_FROM_CSMS) {
		csms_reply_error(st, id, OCPP_ERR_NOT_SUPPORTED,
				 "a central system does not answer this action");
		return;
	}
	/* Until accepted, a station may only boot (1.6 section 4.2). */
	if (st->registration != REG_ACCEPTED && strcmp(a->name, "BootNotification") != 0) {
		csms_reply_error(st, id, OCPP_ERR_SECURITY,
				 "not accepted by the central system; send BootNotification");
		return;
	}
	for (size_t i = 0; i < sizeof handlers / sizeof *handlers; i++) {
		if (strcmp(handlers[i].action, a->name) == 0) {
			handlers[i].fn(st, id, payload);
			return;
		}
	}
	csms_reply_error(st, id, OCPP_ERR_NOT_IMPLEMENTED, "not implemented by this central system");
}

/* ---------------------------------------------------------------- operations */

struct builder {
	const json_t *params;
	json_t *used;              /* the fields read, to refuse the others */
	json_t *payload;
	char *err;
	size_t errlen;
	int bad;
};

/* params[field], remembered as used. */
static json_t *field_of(struct builder *b, const char *field)
{
	json_object_set_new(b->used, field, json_true());
	return json_object_get(b->params, field);
}

static void bad(struct builder *b, const char *field, const char *what)
{
	if (!b->bad)
		snprintf(b->err, b->errlen, "%s: %s", field, what);
	b->bad = 1;
}

/* Copies params[field] into payload[key] if present (or complains if it
 * is required); type checks here give the operator a message in our names,
 * the schema check after catches the rest. */
static void take_int(struct builder *b, const char *field, const char *key, int required)
{
	json_t *v = field_of(b, field);

	if (!v) {
		if (required)
			bad(b, field, "missing");
		return;
	}
	if (!json_is_integer(v)) {
		bad(b, field, "expected a whole number");
		return;
	}
	json_object_set(b->payload, key, v);
}

static void take_str(struct builder *b, const char *field, const char *key, int required)
{
	json_t *v = field_of(b, field);

	if (!v) {
		if (required)
			bad(b, field, "missing");
		return;
	}
	if (!json_is_string(v)) {
		bad(b, field, "expected a string");
		return;
	}
	json_object_set(b->payload, key, v);
}

static void take_obj(struct builder *b, const char *field, const char *key, int required)
{
	json_t *v = field_of(b, field);

	if (!v) {
		if (required)
			bad(b, field, "missing");
		return;
	}
	if (!json_is_object(v)) {
		bad(b, field, "expected an object");
		return;
	}
	json_object_set(b->payload, key, v);
}

/* A choice among our names -> its 1.6 spelling. */
static void take_enum(struct builder *b, const char *field, const char *key, int required,
		      const char *dflt, const char *const *ours, const char *const *theirs)
{
	json_t *v = field_of(b, field);
	const char *s = json_string_value(v);

	if (!v && !dflt) {
		if (required)
			bad(b, field, "missing");
		return;
	}
	if (!v)
		s = dflt;
	for (size_t i = 0; s && ours[i]; i++) {
		if (strcmp(s, ours[i]) == 0) {
			json_object_set_new(b->payload, key, json_string(theirs[i]));
			return;
		}
	}
	bad(b, field, "not one of the values allowed (see doc/API.md)");
}

static void default_time(struct builder *b, const char *field, const char *key)
{
	if (field_of(b, field))
		take_str(b, field, key, 1);
	else
		json_object_set_new(b->payload, key, now_json());
}

static void build_local_list(struct builder *b)
{
	json_t *list = field_of(b, "list"), *e, *out;
	size_t i;

	if (!list)
		return;
	if (!json_is_array(list)) {
		bad(b, "list", "expected an array");
		return;
	}
	out = json_array();
	json_array_foreach(list, i, e) {
		json_t *entry = json_pack("{s:O?}", "idTag", json_object_get(e, "id_tag")), *info;
		if (!json_is_string(json_object_get(e, "id_tag"))) {
			bad(b, "list", "every entry needs an id_tag string");
			json_decref(entry);
			break;
		}
		if (json_object_get(e, "status")) {
			info = json_pack("{s:O, s:O*, s:O*}", "status", json_object_get(e, "status"),
					 "expiryDate", json_object_get(e, "expiry"),
					 "parentIdTag", json_object_get(e, "parent_id_tag"));
			if (!info) {
				bad(b, "list", "bad entry");
				json_decref(entry);
				break;
			}
			json_object_set_new(entry, "idTagInfo", info);
		}
		json_array_append_new(out, entry);
	}
	json_object_set_new(b->payload, "localAuthorizationList", out);
}

static const char *const reset_ours[] = { "soft", "hard", NULL };
static const char *const reset_16[] = { "Soft", "Hard", NULL };
static const char *const update_ours[] = { "full", "differential", NULL };
static const char *const update_16[] = { "Full", "Differential", NULL };
static const char *const trigger_ours[] = { "boot", "heartbeat", "status", "meter_values",
					    "firmware_status", "diagnostics_status", NULL };
static const char *const trigger_16[] = { "BootNotification", "Heartbeat", "StatusNotification",
					  "MeterValues", "FirmwareStatusNotification",
					  "DiagnosticsStatusNotification", NULL };
static const char *const unit_ours[] = { "A", "W", NULL };
static const char *const purpose_ours[] = { "tx", "tx_default", "max", NULL };
static const char *const purpose_16[] = { "TxProfile", "TxDefaultProfile", "ChargePointMaxProfile", NULL };

static int build(struct csms_station *st, const char *op, const json_t *params,
		 const char **action, json_t **payload, char *err, size_t errlen)
{
	struct builder b = { params, json_object(), json_object(), err, errlen, 0 };
	struct ocpp_violation v;
	const char *key;
	json_t *x;

	json_object_set_new(b.used, "timeout", json_true());    /* csms_operate's */
	if (!json_is_object(params)) {
		snprintf(err, errlen, "the request body must be a JSON object");
		json_decref(b.payload);
		json_decref(b.used);
		return -EINVAL;
	}
	if (strcmp(op, "start") == 0) {
		*action = "RemoteStartTransaction";
		take_str(&b, "id_tag", "idTag", 1);
		take_int(&b, "connector", "connectorId", 0);
		take_obj(&b, "profile", "chargingProfile", 0);
	} else if (strcmp(op, "stop") == 0) {
		*action = "RemoteStopTransaction";
		if (json_object_get(params, "session") && json_object_get(params, "transaction"))
			bad(&b, "session", "give the session or the transaction, not both");
		else if (json_object_get(params, "session"))
			take_int(&b, "session", "transactionId", 1);   /* the same number */
		else
			take_int(&b, "transaction", "transactionId", 1);
	} else if (strcmp(op, "reset") == 0) {
		*action = "Reset";
		take_enum(&b, "type", "type", 1, "soft", reset_ours, reset_16);
	} else if (strcmp(op, "unlock") == 0) {
		*action = "UnlockConnector";
		take_int(&b, "connector", "connectorId", 1);
	} else if (strcmp(op, "availability") == 0) {
		*action = "ChangeAvailability";
		take_int(&b, "connector", "connectorId", 1);
		x = field_of(&b, "available");
		if (!json_is_boolean(x))
			bad(&b, "available", "expected true or false");
		else
			json_object_set_new(b.payload, "type",
					    json_string(json_is_true(x) ? "Operative" : "Inoperative"));
	} else if (strcmp(op, "trigger") == 0) {
		*action = "TriggerMessage";
		take_enum(&b, "message", "requestedMessage", 1, NULL, trigger_ours, trigger_16);
		take_int(&b, "connector", "connectorId", 0);
	} else if (strcmp(op, "config-get") == 0) {
		*action = "GetConfiguration";
		x = field_of(&b, "keys");
		if (x && !json_is_array(x))
			bad(&b, "keys", "expected an array of strings");
		else if (x && json_array_size(x))
			json_object_set(b.payload, "key", x);
	} else if (strcmp(op, "config-set") == 0) {
		*action = "ChangeConfiguration";
		take_str(&b, "key", "key", 1);
		take_str(&b, "value", "value", 1);
	} else if (strcmp(op, "clear-cache") == 0) {
		*action = "ClearCache";
	} else if (strcmp(op, "data-transfer") == 0) {
		*action = "DataTransfer";
		take_str(&b, "vendor_id", "vendorId", 1);
		take_str(&b, "message_id", "messageId", 0);
		take_str(&b, "data", "data", 0);
	} else if (strcmp(op, "local-list-send") == 0) {
		*action = "SendLocalList";
		take_int(&b, "version", "listVersion", 1);
		take_enum(&b, "update", "updateType", 1, NULL, update_ours, update_16);
		build_local_list(&b);
	} else if (strcmp(op, "local-list-version") == 0) {
		*action = "GetLocalListVersion";
	} else if (strcmp(op, "reserve") == 0) {
		*action = "ReserveNow";
		take_int(&b, "connector", "connectorId", 1);
		take_str(&b, "id_tag", "idTag", 1);
		take_str(&b, "expiry", "expiryDate", 1);
		take_str(&b, "parent_id_tag", "parentIdTag", 0);
		if (field_of(&b, "reservation"))
			take_int(&b, "reservation", "reservationId", 1);
		else
			json_object_set_new(b.payload, "reservationId",
					    json_integer(++st->cs->next_reservation));
	} else if (strcmp(op, "cancel-reservation") == 0) {
		*action = "CancelReservation";
		take_int(&b, "reservation", "reservationId", 1);
	} else if (strcmp(op, "profile-set") == 0) {
		*action = "SetChargingProfile";
		take_int(&b, "connector", "connectorId", 1);
		take_obj(&b, "profile", "csChargingProfiles", 1);
	} else if (strcmp(op, "profile-clear") == 0) {
		*action = "ClearChargingProfile";
		take_int(&b, "id", "id", 0);
		take_int(&b, "connector", "connectorId", 0);
		if (field_of(&b, "purpose"))
			take_enum(&b, "purpose", "chargingProfilePurpose", 1, NULL, purpose_ours, purpose_16);
		take_int(&b, "stack_level", "stackLevel", 0);
	} else if (strcmp(op, "composite") == 0) {
		*action = "GetCompositeSchedule";
		take_int(&b, "connector", "connectorId", 1);
		take_int(&b, "duration", "duration", 1);
		if (field_of(&b, "unit"))
			take_enum(&b, "unit", "chargingRateUnit", 1, NULL, unit_ours, unit_ours);
	} else if (strcmp(op, "firmware-update") == 0) {
		*action = "UpdateFirmware";
		take_str(&b, "location", "location", 1);
		default_time(&b, "retrieve_date", "retrieveDate");
		take_int(&b, "retries", "retries", 0);
		take_int(&b, "retry_interval", "retryInterval", 0);
	} else if (strcmp(op, "diagnostics") == 0) {
		*action = "GetDiagnostics";
		take_str(&b, "location", "location", 1);
		take_str(&b, "start", "startTime", 0);
		take_str(&b, "stop", "stopTime", 0);
		take_int(&b, "retries", "retries", 0);
		take_int(&b, "retry_interval", "retryInterval", 0);
	} else if (strcmp(op, "call") == 0) {
		const struct ocpp_action *a;
		*action = json_string_value(field_of(&b, "action"));
		a = *action ? ocpp_action_find(ocpp_schemas(OCPP_V16), *action) : NULL;
		if (!*action)
			bad(&b, "action", "missing");
		else if (!a || a->origin == OCPP_FROM_STATION)
			bad(&b, "action", "not an OCPP 1.6 action a central system sends");
		else
			*action = a->name;    /* static storage, outlives params */
		x = field_of(&b, "payload");
		if (!b.bad && !json_is_object(x))
			bad(&b, "payload", "expected an object");
		else if (!b.bad)
			json_object_update(b.payload, x);
	} else {
		snprintf(err, errlen, "no operation '%s'", op);
		json_decref(b.payload);
		json_decref(b.used);
		return -ENOENT;
	}
	/* A field we do not know is a typo or a misunderstanding: say so
	 * rather than send something else than meant. */
	json_object_foreach((json_t *)params, key, x) {
		if (!b.bad && !json_object_get(b.used, key)) {
			snprintf(err, errlen, "%s: not a field of the %s operation (see doc/API.md)", key, op);
			b.bad = 1;
		}
	}
	json_decref(b.used);
	if (!b.bad && ocpp_validate_message(ocpp_schemas(OCPP_V16), *action, 0, b.payload, &v)) {
		snprintf(err, errlen, "not a valid %s request: %s", *action, v.reason);
		b.bad = 1;
	}
	if (b.bad) {
		json_decref(b.payload);
		return -EINVAL;
	}
	*payload = b.payload;
	return 0;
}

const struct csms_adapter csms_adapter_16 = {
	.version = OCPP_V16,
	.on_call = on_call,
	.build = build,
};
