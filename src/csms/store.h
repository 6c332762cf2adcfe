/* The central system's usage store: one SQLite file (WAL) with everything
 * stations report and operators do.
 *
 * Writes are plain calls; the caller (csms core) groups them: it opens a
 * transaction with db_begin before the first write of a loop iteration and
 * commits once per iteration (group commit), answering the stations only
 * after that commit. Store functions therefore never commit on their own;
 * each is correct inside or outside an open transaction.
 *
 * Reads that feed the REST API return jansson objects shaped exactly as in
 * doc/API.md (new references; NULL with errno ENOENT when the thing does
 * not exist, another errno when the query failed). Times in and out are RFC 3339 UTC strings; in the
 * database they are integer Unix seconds.
 *
 * Errors are negative errno values: -ENOENT not found, -EEXIST exists
 * already, -EINVAL bad argument, others from the database (db_errmsg). */
#ifndef EV_CSMS_STORE_H
#define EV_CSMS_STORE_H

#include <stdint.h>
#include <time.h>
#include <jansson.h>

#include "store/db.h"

/* Opens (creating, migrating) the usage store. */
int store_open(const char *path, enum db_sync sync, struct db **out, char *err, size_t errlen);

/* ---- stations */

enum registration { REG_ACCEPTED, REG_PENDING, REG_REJECTED };
const char *registration_name(enum registration r);        /* "accepted", ... */
int registration_parse(const char *s, enum registration *out);

/* What the admission check needs about a station. */
struct store_station {
	int64_t rowid;
	enum registration registration;
	char password_hash[160];   /* "" : no Basic Auth required */
	int booted;                /* a BootNotification was ever accepted */
};

/* -ENOENT if the id is not registered. */
int store_station_get(struct db *db, const char *id, struct store_station *out);
/* Registers a station; -EEXIST if it is. password_hash may be NULL. */
int store_station_add(struct db *db, const char *id, enum registration reg,
		      const char *password_hash, time_t now);
int store_station_set_password(struct db *db, const char *id, const char *password_hash /* NULL: none */);
int store_station_set_registration(struct db *db, const char *id, enum registration reg);
int store_station_remove(struct db *db, const char *id);

/* The fields of a BootNotification (NULL for absent ones). */
struct store_boot {
	const char *vendor, *model, *serial, *box_serial, *firmware;
	const char *iccid, *imsi, *meter_type, *meter_serial;
};
int store_station_boot(struct db *db, const char *id, const struct store_boot *b,
		       const char *ocpp_version, time_t now);
/* Connection seen: last_seen, remote address, connected flag. */
int store_station_seen(struct db *db, const char *id, const char *remote_address, time_t now);
int store_station_set_connected(struct db *db, const char *id, int connected, time_t now);
/* At start: every station is disconnected until it connects again. */
int store_stations_reset_connected(struct db *db);
/* Firmware / diagnostics status notifications (kept on the station row). */
int store_station_firmware_status(struct db *db, const char *id, const char *status, time_t now);
int store_station_diagnostics_status(struct db *db, const char *id, const char *status, time_t now);

/* API views: {"stations":[...]} with connectors; connected_filter -1 all,
 * 0/1 only those. One station adds its active "sessions". */
json_t *store_stations_json(struct db *db, int connected_filter);
json_t *store_station_json(struct db *db, const char *id);

/* ---- connector status */

struct store_status {
	int connector;
	const char *status, *error_code, *info, *vendor_id, *vendor_error_code;
	time_t time;               /* the station's timestamp, or now */
};
/* Current state per connector plus a history row. */
int store_status_add(struct db *db, const char *station, const struct store_status *s, time_t now);
/* {"history":[...]} newest first; connector < 0: all. */
json_t *store_status_history_json(struct db *db, const char *station, int connector, int limit);

/* ---- sessions (transactions) */

struct store_start {
	const char *station, *id_tag;
	int connector;
	int64_t meter_start;       /* Wh */
	time_t time;               /* the station's timestamp */
	int reservation;           /* 0: none */
};
/* Starts a session and returns its id (which is the transactionId sent to
 * the station). A StartTransaction re-sent after an outage (same station,
 * connector, id tag, meter start and timestamp) returns the existing
 * session's id with *duplicate set, and inserts nothing. */
int store_session_start(struct db *db, const struct store_start *s, int64_t *session_id,
			int *duplicate);

struct store_stop {
	const char *station;
	int64_t transaction;       /* the id the station got from us */
	const char *id_tag;        /* may be NULL */
	int64_t meter_stop;
	time_t time;
	const char *reason;        /* may be NULL (1.6: Local) */
};
/* Ends a session; -ENOENT if no such session of this station. A stop for a
 * session already completed changes nothing and returns 0 (re-sent after an
 * outage). */
int store_session_stop(struct db *db, const struct store_stop *s);

/* One meterValue as the station sent it: a timestamp and its sampled
 * values, kept as one row (the sampledValue array as compact JSON) so that
 * a MeterValues costs the store one insert per timestamp, not one per
 * value. */
struct store_reading {
	const char *station;
	int connector;
	int64_t session;           /* 0: not part of a session */
	time_t time;
	const char *sampled;       /* a JSON array of sampledValue objects */
};
int store_reading_add(struct db *db, const struct store_reading *r);
/* Keeps a session's energy current from an Energy.Active.Import.Register
 * reading (Wh). */
int store_session_energy(struct db *db, int64_t session, int64_t register_wh);

/* The active session of a connector (for meter values without a
 * transactionId): 0 if none. */
int64_t store_session_active(struct db *db, const char *station, int connector);

/* Filters for the session list; NULL / 0 / -1 mean "any". */
struct store_session_filter {
	const char *station, *id_tag;
	int active;                /* -1 any, 1 active, 0 completed */
	time_t since, until;       /* 0: unbounded */
	int limit;
};
json_t *store_sessions_json(struct db *db, const struct store_session_filter *f);
/* Session with its "meter_values" (oldest first), one object per sampled
 * value: the first STORE_METER_PAGE readings (timestamps), and in
 * "meter_values_next" the cursor of the next page, or null. */
#define STORE_METER_PAGE 1000
json_t *store_session_json(struct db *db, int64_t id);
/* A page of a session's meter values: the readings after the cursor
 * `after` (NULL: from the first), at most limit of them (0: the default):
 * {"meter_values": [...], "next": cursor or null}. NULL with errno EINVAL
 * for a bad cursor, ENOENT for no such session. */
json_t *store_session_meter_json(struct db *db, int64_t session, const char *after, int limit);
/* The station a session belongs to, and its transactionId (the same number
 * today); -ENOENT. */
int store_session_station(struct db *db, int64_t id, char *station, size_t size);

/* ---- id tokens */

enum token_status { TOKEN_ACCEPTED, TOKEN_BLOCKED, TOKEN_EXPIRED, TOKEN_INVALID,
		    TOKEN_CONCURRENT_TX };
const char *token_status_name(enum token_status s);       /* OCPP spelling */
int token_status_parse(const char *s, enum token_status *out); /* Accepted|Blocked|Expired|Invalid */

/* What Authorize / Start answer for a tag: unknown tags are Invalid; an
 * expiry in the past is Expired; a tag with an active session elsewhere is
 * ConcurrentTx (except_session: the session being started, 0 for none).
 * parent (size >= 21) gets the parent id tag or "". expiry gets the expiry
 * or 0. */
int store_token_check(struct db *db, const char *id_tag, time_t now, int64_t except_session,
		      enum token_status *status, char *parent, size_t parent_size, time_t *expiry);

struct store_token {
	const char *id_tag;
	const char *status;        /* NULL: unchanged (set) or Accepted (add) */
	const char *expiry;        /* RFC 3339; "" clears (set); NULL unchanged */
	const char *parent;        /* "" clears (set); NULL unchanged */
};
int store_token_add(struct db *db, const struct store_token *t, time_t now);
int store_token_set(struct db *db, const struct store_token *t, time_t now);
int store_token_remove(struct db *db, const char *id_tag);
json_t *store_tokens_json(struct db *db);
json_t *store_token_json(struct db *db, const char *id_tag);

/* ---- audit log and message log */

int store_audit_add(struct db *db, const char *client, const char *station, const char *operation,
		    const json_t *request, const char *result, const json_t *response, time_t now);
json_t *store_audit_json(struct db *db, const char *station, int limit);

/* dir: 'i' received, 'o' sent. */
int store_message_add(struct db *db, const char *station, char dir, const char *text,
		      size_t len, time_t now);
/* {"messages":[{"time","direction":"in"|"out","text"}]} newest first. */
json_t *store_messages_json(struct db *db, const char *station, int limit);
/* Deletes message-log rows older than before. */
int store_messages_prune(struct db *db, time_t before);

/* ---- API clients */

/* name -> SHA-256 (hex) of the token. Replaces a client of the same name. */
int store_api_client_set(struct db *db, const char *name, const char *token_sha256_hex, time_t now);
/* The client's name for a token hash, -ENOENT if none. */
int store_api_client_find(struct db *db, const char *token_sha256_hex, char *name, size_t size);

#endif
