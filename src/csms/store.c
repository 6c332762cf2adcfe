#include "config.h"
#include "csms/store.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/rfc3339.h"

#define STORE_APP_ID 0x45564353       /* "EVCS" in PRAGMA application_id */
#define STATION_ID_MAX 255
#define ID_TAG_MAX 20                  /* OCPP 1.6 IdToken: CiString20 */
#define TEXT_MAX 1000                  /* any other field the station reports */
#define CLIENT_NAME_MAX 128
#define LIMIT_DEFAULT 100
#define LIMIT_MAX 10000

/* ---------------------------------------------------------------- schema */

/* Released steps are never edited: changes go into new steps.
 *
 * Rows about a station (sessions, history, meter values, audit, messages)
 * name it by its text id, not by a foreign key: deleting a station keeps
 * them, and they join up again if the id is registered anew. Only its
 * current connector state goes with it. Times are Unix seconds. */
static const struct db_migration migrations[] = {
	{ 1,
	  /* registration is what a BootNotification will be answered;
	   * booted: one was ever accepted. */
	  "CREATE TABLE stations ("
	  " key INTEGER PRIMARY KEY,"
	  " id TEXT NOT NULL UNIQUE,"
	  " registration TEXT NOT NULL DEFAULT 'accepted'"
	  "  CHECK (registration IN ('accepted', 'pending', 'rejected')),"
	  " password_hash TEXT,"
	  " booted INTEGER NOT NULL DEFAULT 0,"
	  " vendor TEXT, model TEXT, serial TEXT, box_serial TEXT, firmware TEXT,"
	  " iccid TEXT, imsi TEXT, meter_type TEXT, meter_serial TEXT,"
	  " ocpp_version TEXT,"
	  " created INTEGER NOT NULL,"
	  " first_seen INTEGER, last_seen INTEGER, last_boot INTEGER,"
	  " remote_address TEXT,"
	  " connected INTEGER NOT NULL DEFAULT 0,"
	  " firmware_status TEXT, firmware_status_time INTEGER,"
	  " diagnostics_status TEXT, diagnostics_status_time INTEGER);"
	  "CREATE INDEX stations_connected ON stations(connected, id);"

	  /* since: when the current status began. */
	  "CREATE TABLE connectors ("
	  " station TEXT NOT NULL REFERENCES stations(id) ON DELETE CASCADE ON UPDATE CASCADE,"
	  " connector INTEGER NOT NULL,"
	  " status TEXT NOT NULL,"
	  " error_code TEXT, info TEXT, vendor_id TEXT, vendor_error_code TEXT,"
	  " since INTEGER NOT NULL,"
	  " PRIMARY KEY (station, connector)) WITHOUT ROWID;"

	  /* time: the station's timestamp; received: ours. */
	  "CREATE TABLE status_history ("
	  " id INTEGER PRIMARY KEY,"
	  " station TEXT NOT NULL,"
	  " connector INTEGER NOT NULL,"
	  " time INTEGER NOT NULL,"
	  " received INTEGER NOT NULL,"
	  " status TEXT NOT NULL,"
	  " error_code TEXT, info TEXT, vendor_id TEXT, vendor_error_code TEXT);"
	  "CREATE INDEX status_history_station ON status_history(station, time);"
	  "CREATE INDEX status_history_connector ON status_history(station, connector, time);"

	  /* id is the transactionId: AUTOINCREMENT so that one is never
	   * handed out twice. Id tags are case-insensitive (CiString). */
	  "CREATE TABLE sessions ("
	  " id INTEGER PRIMARY KEY AUTOINCREMENT,"
	  " station TEXT NOT NULL,"
	  " connector INTEGER NOT NULL,"
	  " id_tag TEXT NOT NULL COLLATE NOCASE,"
	  " start INTEGER NOT NULL,"
	  " stop INTEGER,"
	  " meter_start INTEGER NOT NULL,"
	  " meter_stop INTEGER,"
	  " energy_wh INTEGER NOT NULL DEFAULT 0,"
	  " stop_reason TEXT,"
	  " stop_id_tag TEXT,"
	  " reservation INTEGER);"
	  /* A StartTransaction re-sent after an outage is this same key. */
	  "CREATE UNIQUE INDEX sessions_resent"
	  " ON sessions(station, connector, id_tag, meter_start, start);"
	  "CREATE INDEX sessions_station ON sessions(station, start);"
	  "CREATE INDEX sessions_id_tag ON sessions(id_tag, start);"
	  "CREATE INDEX sessions_start ON sessions(start);"
	  "CREATE INDEX sessions_active ON sessions(station, connector) WHERE stop IS NULL;"
	  "CREATE INDEX sessions_active_tag ON sessions(id_tag) WHERE stop IS NULL;"

	  "CREATE TABLE meter_values ("
	  " id INTEGER PRIMARY KEY,"
	  " session INTEGER REFERENCES sessions(id),"
	  " station TEXT NOT NULL,"
	  " connector INTEGER NOT NULL,"
	  " time INTEGER NOT NULL,"
	  " value TEXT NOT NULL,"
	  " context TEXT, format TEXT, measurand TEXT, phase TEXT, location TEXT, unit TEXT);"
	  "CREATE INDEX meter_values_session ON meter_values(session, time)"
	  " WHERE session IS NOT NULL;"
	  "CREATE INDEX meter_values_station ON meter_values(station, time);"

	  "CREATE TABLE tokens ("
	  " id_tag TEXT PRIMARY KEY COLLATE NOCASE,"
	  " status TEXT NOT NULL CHECK (status IN ('Accepted', 'Blocked', 'Expired', 'Invalid')),"
	  " expiry INTEGER,"
	  " parent_id_tag TEXT,"
	  " created INTEGER NOT NULL,"
	  " updated INTEGER NOT NULL) WITHOUT ROWID;"

	  /* request and response: compact JSON text. */
	  "CREATE TABLE audit ("
	  " id INTEGER PRIMARY KEY,"
	  " time INTEGER NOT NULL,"
	  " client TEXT,"
	  " station TEXT,"
	  " operation TEXT NOT NULL,"
	  " request TEXT,"
	  " result TEXT,"
	  " response TEXT);"
	  "CREATE INDEX audit_time ON audit(time);"
	  "CREATE INDEX audit_station ON audit(station, time);"

	  "CREATE TABLE messages ("
	  " id INTEGER PRIMARY KEY,"
	  " time INTEGER NOT NULL,"
	  " station TEXT NOT NULL,"
	  " dir TEXT NOT NULL CHECK (dir IN ('i', 'o')),"
	  " text TEXT NOT NULL);"
	  "CREATE INDEX messages_time ON messages(time);"

	  "CREATE TABLE api_clients ("
	  " id INTEGER PRIMARY KEY,"
	  " name TEXT NOT NULL UNIQUE,"
	  " token_sha256 TEXT NOT NULL UNIQUE,"
	  " created INTEGER NOT NULL);" },
	{ 2,
	  /* The message log is read a station at a time. */
	  "CREATE INDEX messages_station ON messages(station, id);" },
	{ 3,
	  /* Nothing reads meter values by station and time yet (sessions
	   * lead to them), and keeping that index cost every MeterValues
	   * one more page written. */
	  "DROP INDEX meter_values_station;" },
	{ 4,
	  /* One row per meterValue (a timestamp and its sampled values as the
	   * station sent them) instead of one per sampled value: a MeterValues
	   * costs one insert and one index entry per timestamp. Old rows are
	   * grouped by timestamp; json_patch drops the absent fields. */
	  "CREATE TABLE meter_readings ("
	  " id INTEGER PRIMARY KEY,"
	  " session INTEGER REFERENCES sessions(id),"
	  " station TEXT NOT NULL,"
	  " connector INTEGER NOT NULL,"
	  " time INTEGER NOT NULL,"
	  " sampled TEXT NOT NULL CHECK (json_valid(sampled)));"
	  "INSERT INTO meter_readings(session, station, connector, time, sampled)"
	  " SELECT session, station, connector, time, json_group_array(json(v)) FROM"
	  " (SELECT session, station, connector, time, id, json_patch('{}', json_object("
	  "  'value', value, 'context', context, 'format', format, 'measurand', measurand,"
	  "  'phase', phase, 'location', location, 'unit', unit)) AS v"
	  "  FROM meter_values ORDER BY id)"
	  " GROUP BY session, station, connector, time ORDER BY min(id);"
	  "CREATE INDEX meter_readings_session ON meter_readings(session, time)"
	  " WHERE session IS NOT NULL;"
	  "DROP TABLE meter_values;" },
};

int store_open(const char *path, enum db_sync sync, struct db **out, char *err, size_t errlen)
{
	const struct db_options opt = {
		.sync = sync,
		.stmt_cache = 128,   /* every statement below stays prepared */
		.application_id = STORE_APP_ID,
		.migrations = migrations,
		.n_migrations = sizeof migrations / sizeof migrations[0],
	};

	int rc = db_open(path, &opt, out, err, errlen);

	/* The indexes that every message touches stay in memory for some
	 * thousands of stations: 16 MiB of page cache instead of 2. */
	if (rc == 0 && (rc = db_exec(*out, "PRAGMA cache_size = -16384"))) {
		snprintf(err, errlen, "%s: %s", path, db_errmsg(*out));
		db_close(*out);
		*out = NULL;
	}
	return rc;
}

/* ----------------------------------------------------------------- names */

static const char *const registration_names[] = {
	[REG_ACCEPTED] = "accepted",
	[REG_PENDING] = "pending",
	[REG_REJECTED] = "rejected",
};

const char *registration_name(enum registration r)
{
	if ((unsigned)r < sizeof registration_names / sizeof registration_names[0])
		return registration_names[r];
	return "unknown";
}

int registration_parse(const char *s, enum registration *out)
{
	for (size_t i = 0; s && i < sizeof registration_names / sizeof registration_names[0]; i++) {
		if (strcasecmp(s, registration_names[i]) == 0) {
			*out = (enum registration)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const token_names[] = {
	[TOKEN_ACCEPTED] = "Accepted",
	[TOKEN_BLOCKED] = "Blocked",
	[TOKEN_EXPIRED] = "Expired",
	[TOKEN_INVALID] = "Invalid",
	[TOKEN_CONCURRENT_TX] = "ConcurrentTx",
};

const char *token_status_name(enum token_status s)
{
	if ((unsigned)s < sizeof token_names / sizeof token_names[0])
		return token_names[s];
	return "Invalid";
}

/* ConcurrentTx is an answer, never a stored status. */
int token_status_parse(const char *s, enum token_status *out)
{
	for (int i = TOKEN_ACCEPTED; s && i <= TOKEN_INVALID; i++) {
		if (strcasecmp(s, token_names[i]) == 0) {
			*out = (enum token_status)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* --------------------------------------------------------------- helpers */

/* Refuses bad input: -EINVAL, with why as the store's error. */
#define bad(db, ...) db_set_error((db), -EINVAL, __VA_ARGS__)

/* Text we may have to hand back inside JSON must be UTF-8; jansson is the
 * judge (json_string refuses anything else). */
static int check_text(struct db *db, const char *what, const char *v, size_t max, int required)
{
	json_t *j;

	if (!v || !*v)
		return required ? bad(db, "%s is missing", what) : 0;
	if (strlen(v) > max)
		return bad(db, "%s is longer than %zu bytes", what, max);
	j = json_string(v);
	if (!j)
		return bad(db, "%s is not UTF-8", what);
	json_decref(j);
	return 0;
}

static int check_connector(struct db *db, int connector)
{
	return connector >= 0 ? 0 : bad(db, "invalid connector %d", connector);
}

static int check_limit(int limit)
{
	if (limit <= 0)
		return LIMIT_DEFAULT;
	return limit > LIMIT_MAX ? LIMIT_MAX : limit;
}

/* Binds parameters 1, 2, ... from fmt: 'I' int64_t, 'Z' int64_t with 0
 * binding NULL, 'P' const int64_t * (NULL binds NULL), 'i' int, 't' text
 * (NULL binds NULL), 'e' text with "" also binding NULL, 'b' text and
 * size_t length. Text is borrowed until the statement is done. */
static int bind_v(struct db *db, sqlite3_stmt *s, const char *fmt, va_list ap)
{
	int col = 1, rc = SQLITE_OK;
	const int64_t *ptr;
	const char *t;
	int64_t v;
	size_t len;

	for (const char *p = fmt; *p && rc == SQLITE_OK; p++, col++) {
		switch (*p) {
		case 'I':
			rc = sqlite3_bind_int64(s, col, va_arg(ap, int64_t));
			break;
		case 'Z':
			v = va_arg(ap, int64_t);
			rc = v ? sqlite3_bind_int64(s, col, v) : sqlite3_bind_null(s, col);
			break;
		case 'P':
			ptr = va_arg(ap, const int64_t *);
			rc = ptr ? sqlite3_bind_int64(s, col, *ptr) : sqlite3_bind_null(s, col);
			break;
		case 'i':
			rc = sqlite3_bind_int(s, col, va_arg(ap, int));
			break;
		case 't':
			rc = sqlite3_bind_text(s, col, va_arg(ap, const char *), -1, SQLITE_STATIC);
			break;
		case 'e':
			t = va_arg(ap, const char *);
			rc = sqlite3_bind_text(s, col, t && *t ? t : NULL, -1, SQLITE_STATIC);
			break;
		case 'b':
			t = va_arg(ap, const char *);
			len = va_arg(ap, size_t);
			rc = len > INT_MAX ? SQLITE_TOOBIG
					   : sqlite3_bind_text(s, col, t, (int)len, SQLITE_STATIC);
			break;
		default:
			rc = SQLITE_MISUSE;
		}
	}
	if (rc == SQLITE_OK)
		return 0;
	return db_set_error(db, db_errno(rc), "bind parameter %d: %s", col - 1,
			    sqlite3_errstr(rc));
}

/* Prepares and binds a query; the caller steps it and calls db_done. */
static int query(struct db *db, sqlite3_stmt **out, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc = db_prepare(db, sql, out);

	if (rc)
		return rc;
	va_start(ap, fmt);
	rc = bind_v(db, *out, fmt, ap);
	va_end(ap);
	if (rc) {
		db_done(db, *out);
		*out = NULL;
	}
	return rc;
}

/* Runs one write; returns the number of rows changed or a negative errno. */
static int run(struct db *db, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int rc = db_prepare(db, sql, &s);

	if (rc)
		return rc;
	va_start(ap, fmt);
	rc = bind_v(db, s, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = db_step(db, s);
	if (rc >= 0)
		rc = db_changes(db);
	db_done(db, s);
	return rc;
}

/* 0 rows changed becomes -ENOENT. */
static int run_one(struct db *db, int rc, const char *what, const char *name)
{
	if (rc == 0)
		return db_set_error(db, -ENOENT, "no %s '%s'", what, name ? name : "");
	return rc < 0 ? rc : 0;
}

/* The first row's first column as an integer; -ENOENT if there is no row. */
static int get_int64(struct db *db, sqlite3_stmt *s, int64_t *out)
{
	int rc = db_step(db, s);

	if (rc == 1) {
		*out = sqlite3_column_int64(s, 0);
		rc = 0;
	} else if (rc == 0) {
		rc = -ENOENT;
	}
	db_done(db, s);
	return rc;
}

static int col_copy(struct db *db, sqlite3_stmt *s, int col, char *buf, size_t size)
{
	const char *v = (const char *)sqlite3_column_text(s, col);
	size_t len = v ? (size_t)sqlite3_column_bytes(s, col) : 0;

	if (len >= size)
		return db_set_error(db, -ERANGE, "%s does not fit (%zu bytes)",
				    sqlite3_column_name(s, col), len);
	if (len)
		memcpy(buf, v, len);
	buf[len] = '\0';
	return 0;
}

/* A multi-statement write as one unit (a savepoint inside the caller's
 * transaction): commits if rc is 0, else rolls back; returns rc, or the
 * commit's error. */
static int finish(struct db *db, int rc)
{
	char msg[DB_ERRMSG_MAX];

	if (rc == 0)
		return db_commit(db);
	snprintf(msg, sizeof msg, "%s", db_errmsg(db));
	db_rollback(db);
	db_set_error(db, rc, "%s", msg);
	return rc;
}

/* RFC 3339 text -> Unix seconds (rounded down). */
static int parse_time(struct db *db, const char *what, const char *text, int64_t *out)
{
	struct ev_timestamp ts;

	if (rfc3339_parse(text, &ts))
		return bad(db, "%s '%s' is not an RFC 3339 time", what, text);
	*out = ts.unix_ms / 1000 - (ts.unix_ms % 1000 < 0);
	return 0;
}

/* ------------------------------------------------------------ JSON output */

/* How a column becomes a member: text or null, integer or null, time or
 * null, boolean, stored JSON text or null, or an integer left out when
 * null. */
enum ftype { F_TEXT, F_INT, F_TIME, F_BOOL, F_JSON, F_OPT_INT };

struct field {
	const char *key;
	enum ftype type;
};

#define N_FIELDS(a) (sizeof (a) / sizeof (a)[0])

/* Whole seconds: "2026-11-22T10:00:00Z", as doc/API.md writes them. */
static json_t *time_json(int64_t t)
{
	char buf[RFC3339_MAX + 8];
	size_t n;

	if (t > INT64_MAX / 1000 || t < INT64_MIN / 1000)
		return NULL;
	n = rfc3339_format_ms(t * 1000, buf, sizeof buf);
	if (n < 5 || strcmp(buf + n - 5, ".000Z") != 0)
		return NULL;
	memcpy(buf + n - 5, "Z", 2);
	return json_string(buf);
}

static json_t *col_json(sqlite3_stmt *s, int col, enum ftype type)
{
	const char *text;
	json_error_t e;

	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return type == F_BOOL ? json_false() : json_null();
	switch (type) {
	case F_TEXT:
		text = (const char *)sqlite3_column_text(s, col);
		return text ? json_stringn(text, (size_t)sqlite3_column_bytes(s, col)) : NULL;
	case F_INT:
	case F_OPT_INT:
		return json_integer(sqlite3_column_int64(s, col));
	case F_TIME:
		return time_json(sqlite3_column_int64(s, col));
	case F_BOOL:
		return json_boolean(sqlite3_column_int64(s, col) != 0);
	case F_JSON:
		text = (const char *)sqlite3_column_text(s, col);
		return text ? json_loadb(text, (size_t)sqlite3_column_bytes(s, col),
					 JSON_DECODE_ANY, &e) : NULL;
	}
	return NULL;
}

/* Columns first, first + 1, ... of the current row as an object. */
static int row_object(struct db *db, sqlite3_stmt *s, int first, const struct field *f,
		      size_t n, json_t **out)
{
	json_t *o = json_object(), *v;

	*out = NULL;
	for (size_t i = 0; o && i < n; i++) {
		int col = first + (int)i;
		if (f[i].type == F_OPT_INT && sqlite3_column_type(s, col) == SQLITE_NULL)
			continue;
		v = col_json(s, col, f[i].type);
		if (!v || json_object_set_new(o, f[i].key, v)) {
			json_decref(o);
			return db_set_error(db, -EBADMSG, "stored %s cannot be read back as JSON",
					    f[i].key);
		}
	}
	if (!o)
		return db_set_error(db, -ENOMEM, "out of memory");
	*out = o;
	return 0;
}

/* Steps s to the end, appending one object per row to the array arr. */
static int rows_append(struct db *db, sqlite3_stmt *s, const struct field *f, size_t n,
		       json_t *arr)
{
	json_t *o;
	int rc;

	while ((rc = db_step(db, s)) == 1) {
		rc = row_object(db, s, 0, f, n, &o);
		if (rc)
			break;
		if (json_array_append_new(arr, o)) {
			rc = db_set_error(db, -ENOMEM, "out of memory");
			break;
		}
	}
	db_done(db, s);
	return rc;
}

/* The result of a read: the object, or NULL with errno set (ENOENT when
 * the thing does not exist). */
static json_t *read_result(json_t *j, int rc)
{
	if (rc == 0)
		return j;
	json_decref(j);
	errno = -rc;
	return NULL;
}

/* {"key": [rows]} from a prepared query (rc: the query's preparation). */
static json_t *list_json(struct db *db, int rc, sqlite3_stmt *s, const char *key,
			 const struct field *f, size_t n)
{
	json_t *arr, *o;

	if (rc)
		return read_result(NULL, rc);
	arr = json_array();
	o = json_object();
	if (!arr || !o || json_object_set(o, key, arr)) {
		db_done(db, s);
		json_decref(arr);
		return read_result(o, db_set_error(db, -ENOMEM, "out of memory"));
	}
	rc = rows_append(db, s, f, n, arr);
	json_decref(arr);
	return read_result(o, rc);
}

/* -------------------------------------------------------------- stations */

#define STATION_COLS "id, connected, ocpp_version," \
	" CASE WHEN last_boot IS NULL THEN 'unknown' ELSE registration END," \
	" vendor, model, serial, firmware, iccid, imsi, meter_type, meter_serial," \
	" password_hash IS NOT NULL, first_seen, last_seen, last_boot, remote_address"

static const struct field station_fields[] = {
	{ "id", F_TEXT }, { "connected", F_BOOL }, { "ocpp", F_TEXT },
	{ "registration", F_TEXT }, { "vendor", F_TEXT }, { "model", F_TEXT },
	{ "serial", F_TEXT }, { "firmware", F_TEXT }, { "iccid", F_TEXT },
	{ "imsi", F_TEXT }, { "meter_type", F_TEXT }, { "meter_serial", F_TEXT },
	{ "has_password", F_BOOL }, { "first_seen", F_TIME }, { "last_seen", F_TIME },
	{ "last_boot", F_TIME }, { "remote_address", F_TEXT },
};

/* Column 0 is the station id, the members follow. */
#define CONNECTOR_COLS "c.station, c.connector, c.status, c.error_code, c.info," \
	" c.vendor_error_code, c.since, (SELECT max(s.id) FROM sessions s" \
	" WHERE s.station = c.station AND s.connector = c.connector AND s.stop IS NULL)"

static const struct field connector_fields[] = {
	{ "connector", F_INT }, { "status", F_TEXT }, { "error_code", F_TEXT },
	{ "info", F_TEXT }, { "vendor_error_code", F_TEXT }, { "since", F_TIME },
	{ "session", F_OPT_INT },
};

#define SESSION_COLS "id, station, connector, id, id_tag," \
	" CASE WHEN stop IS NULL THEN 'active' ELSE 'completed' END," \
	" start, stop, meter_start, meter_stop, energy_wh, stop_reason, stop_id_tag, reservation"

static const struct field session_fields[] = {
	{ "id", F_INT }, { "station", F_TEXT }, { "connector", F_INT },
	{ "transaction", F_INT }, { "id_tag", F_TEXT }, { "status", F_TEXT },
	{ "start", F_TIME }, { "stop", F_TIME }, { "meter_start", F_INT },
	{ "meter_stop", F_INT }, { "energy_wh", F_INT }, { "stop_reason", F_TEXT },
	{ "stop_id_tag", F_TEXT }, { "reservation", F_INT },
};

int store_station_get(struct db *db, const char *id, struct store_station *out)
{
	sqlite3_stmt *s;
	int rc = query(db, &s, "SELECT key, registration, password_hash, booted"
		       " FROM stations WHERE id = ?1", "t", id ? id : "");

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	rc = db_step(db, s);
	if (rc == 1) {
		out->rowid = sqlite3_column_int64(s, 0);
		rc = registration_parse((const char *)sqlite3_column_text(s, 1),
					&out->registration);
		if (rc == 0)
			rc = col_copy(db, s, 2, out->password_hash, sizeof out->password_hash);
		out->booted = sqlite3_column_int(s, 3) != 0;
	} else if (rc == 0) {
		rc = db_set_error(db, -ENOENT, "no station '%s'", id ? id : "");
	}
	db_done(db, s);
	return rc;
}

static int check_hash(struct db *db, const char *hash)
{
	if (hash && strlen(hash) >= sizeof ((struct store_station *)0)->password_hash)
		return bad(db, "password hash is too long");
	return 0;
}

int store_station_add(struct db *db, const char *id, enum registration reg,
		      const char *password_hash, time_t now)
{
	int rc = check_text(db, "station id", id, STATION_ID_MAX, 1);

	if (rc == 0 && (unsigned)reg > REG_REJECTED)
		rc = bad(db, "invalid registration %d", (int)reg);
	if (rc == 0)
		rc = check_hash(db, password_hash);
	if (rc == 0)
		rc = run(db, "INSERT INTO stations(id, registration, password_hash, created)"
			 " VALUES (?1, ?2, ?3, ?4)", "tteI",
			 id, registration_name(reg), password_hash, (int64_t)now);
	if (rc == -EEXIST)
		return db_set_error(db, rc, "station '%s' exists already", id);
	return rc < 0 ? rc : 0;
}

int store_station_set_password(struct db *db, const char *id, const char *password_hash)
{
	int rc = check_hash(db, password_hash);

	if (rc == 0)
		rc = run_one(db, run(db, "UPDATE stations SET password_hash = ?2 WHERE id = ?1",
				     "te", id ? id : "", password_hash), "station", id);
	return rc;
}

int store_station_set_registration(struct db *db, const char *id, enum registration reg)
{
	if ((unsigned)reg > REG_REJECTED)
		return bad(db, "invalid registration %d", (int)reg);
	return run_one(db, run(db, "UPDATE stations SET registration = ?2 WHERE id = ?1",
			       "tt", id ? id : "", registration_name(reg)), "station", id);
}

/* Its connectors go with it; sessions, history and logs stay. */
int store_station_remove(struct db *db, const char *id)
{
	return run_one(db, run(db, "DELETE FROM stations WHERE id = ?1", "t", id ? id : ""),
		       "station", id);
}

int store_station_boot(struct db *db, const char *id, const struct store_boot *b,
		       const char *ocpp_version, time_t now)
{
	static const struct store_boot none;
	const char *fields[10];
	int rc = 0;

	if (!b)
		b = &none;
	fields[0] = b->vendor;
	fields[1] = b->model;
	fields[2] = b->serial;
	fields[3] = b->box_serial;
	fields[4] = b->firmware;
	fields[5] = b->iccid;
	fields[6] = b->imsi;
	fields[7] = b->meter_type;
	fields[8] = b->meter_serial;
	fields[9] = ocpp_version;
	for (size_t i = 0; i < N_FIELDS(fields) && rc == 0; i++)
		rc = check_text(db, "boot field", fields[i], TEXT_MAX, 0);
	if (rc)
		return rc;
	/* The answer to this boot is the station's registration: if that is
	 * accepted, the station has now been accepted once. */
	return run_one(db, run(db, "UPDATE stations SET vendor = ?2, model = ?3, serial = ?4,"
			       " box_serial = ?5, firmware = ?6, iccid = ?7, imsi = ?8,"
			       " meter_type = ?9, meter_serial = ?10, ocpp_version = ?11,"
			       " last_boot = ?12, last_seen = ?12,"
			       " first_seen = coalesce(first_seen, ?12),"
			       " booted = booted OR registration = 'accepted'"
			       " WHERE id = ?1", "tttttttttttI", id ? id : "",
			       b->vendor, b->model, b->serial, b->box_serial, b->firmware,
			       b->iccid, b->imsi, b->meter_type, b->meter_serial, ocpp_version,
			       (int64_t)now), "station", id);
}

int store_station_seen(struct db *db, const char *id, const char *remote_address, time_t now)
{
	int rc = check_text(db, "remote address", remote_address, TEXT_MAX, 0);

	if (rc)
		return rc;
	/* No address given: keep the one we know. */
	return run_one(db, run(db, "UPDATE stations SET last_seen = ?2, connected = 1,"
			       " first_seen = coalesce(first_seen, ?2),"
			       " remote_address = coalesce(?3, remote_address) WHERE id = ?1",
			       "tIe", id ? id : "", (int64_t)now, remote_address), "station", id);
}

int store_station_set_connected(struct db *db, const char *id, int connected, time_t now)
{
	return run_one(db, run(db, "UPDATE stations SET connected = ?2, last_seen = ?3,"
			       " first_seen = CASE WHEN ?2 THEN coalesce(first_seen, ?3)"
			       "  ELSE first_seen END WHERE id = ?1", "tiI", id ? id : "",
			       connected != 0, (int64_t)now), "station", id);
}

int store_stations_reset_connected(struct db *db)
{
	int rc = run(db, "UPDATE stations SET connected = 0 WHERE connected <> 0", "");

	return rc < 0 ? rc : 0;
}

int store_station_firmware_status(struct db *db, const char *id, const char *status, time_t now)
{
	int rc = check_text(db, "firmware status", status, TEXT_MAX, 1);

	if (rc == 0)
		rc = run_one(db, run(db, "UPDATE stations SET firmware_status = ?2,"
				     " firmware_status_time = ?3 WHERE id = ?1", "ttI",
				     id ? id : "", status, (int64_t)now), "station", id);
	return rc;
}

int store_station_diagnostics_status(struct db *db, const char *id, const char *status,
				     time_t now)
{
	int rc = check_text(db, "diagnostics status", status, TEXT_MAX, 1);

	if (rc == 0)
		rc = run_one(db, run(db, "UPDATE stations SET diagnostics_status = ?2,"
				     " diagnostics_status_time = ?3 WHERE id = ?1", "ttI",
				     id ? id : "", status, (int64_t)now), "station", id);
	return rc;
}

/* Adds "connectors" to each station object of index (id -> object) from a
 * connector query whose column 0 is the station id. */
static int add_connectors(struct db *db, sqlite3_stmt *s, json_t *index)
{
	json_t *station, *arr, *c;
	int rc;

	while ((rc = db_step(db, s)) == 1) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		station = id ? json_object_get(index, id) : NULL;
		if (!station)
			continue;   /* filtered out */
		arr = json_object_get(station, "connectors");
		rc = row_object(db, s, 1, connector_fields, N_FIELDS(connector_fields), &c);
		if (rc)
			break;
		if (json_array_append_new(arr, c)) {
			rc = db_set_error(db, -ENOMEM, "out of memory");
			break;
		}
	}
	db_done(db, s);
	return rc;
}

/* Station objects from s, each with an empty "connectors" array, appended
 * to arr and entered into index by id. */
static int read_stations(struct db *db, sqlite3_stmt *s, json_t *arr, json_t *index)
{
	json_t *o;
	int rc;

	while ((rc = db_step(db, s)) == 1) {
		rc = row_object(db, s, 0, station_fields, N_FIELDS(station_fields), &o);
		if (rc)
			break;
		if (json_object_set_new(o, "connectors", json_array()) ||
		    json_object_set(index, json_string_value(json_object_get(o, "id")), o) ||
		    json_array_append_new(arr, o)) {
			rc = db_set_error(db, -ENOMEM, "out of memory");
			break;
		}
	}
	db_done(db, s);
	return rc;
}

json_t *store_stations_json(struct db *db, int connected_filter)
{
	json_t *out = json_object(), *arr = json_array(), *index = json_object();
	sqlite3_stmt *s;
	int rc = 0;

	if (!out || !arr || !index || json_object_set(out, "stations", arr))
		rc = db_set_error(db, -ENOMEM, "out of memory");
	if (rc == 0 && connected_filter < 0)
		rc = query(db, &s, "SELECT " STATION_COLS " FROM stations ORDER BY id", "");
	else if (rc == 0)
		rc = query(db, &s, "SELECT " STATION_COLS " FROM stations WHERE connected = ?1"
			   " ORDER BY id", "i", connected_filter != 0);
	if (rc == 0)
		rc = read_stations(db, s, arr, index);
	if (rc == 0)
		rc = query(db, &s, "SELECT " CONNECTOR_COLS " FROM connectors c"
			   " ORDER BY c.station, c.connector", "");
	if (rc == 0)
		rc = add_connectors(db, s, index);
	json_decref(arr);
	json_decref(index);
	return read_result(out, rc);
}

json_t *store_station_json(struct db *db, const char *id)
{
	json_t *out = NULL, *arr = json_array(), *index = json_object();
	sqlite3_stmt *s;
	int rc = 0;

	if (!arr || !index)
		rc = db_set_error(db, -ENOMEM, "out of memory");
	if (rc == 0)
		rc = query(db, &s, "SELECT " STATION_COLS " FROM stations WHERE id = ?1", "t",
			   id ? id : "");
	if (rc == 0)
		rc = read_stations(db, s, arr, index);
	if (rc == 0 && !(out = json_incref(json_array_get(arr, 0))))
		rc = db_set_error(db, -ENOENT, "no station '%s'", id ? id : "");
	if (rc == 0)
		rc = query(db, &s, "SELECT " CONNECTOR_COLS " FROM connectors c"
			   " WHERE c.station = ?1 ORDER BY c.connector", "t", id);
	if (rc == 0)
		rc = add_connectors(db, s, index);
	json_decref(arr);
	json_decref(index);
	if (rc == 0) {
		json_t *sessions = json_array();
		if (!sessions || json_object_set_new(out, "sessions", sessions))
			rc = db_set_error(db, -ENOMEM, "out of memory");
		if (rc == 0)
			rc = query(db, &s, "SELECT " SESSION_COLS " FROM sessions"
				   " WHERE station = ?1 AND stop IS NULL"
				   " ORDER BY start DESC, id DESC", "t", id);
		if (rc == 0)
			rc = rows_append(db, s, session_fields, N_FIELDS(session_fields),
					 sessions);
	}
	return read_result(out, rc);
}

/* -------------------------------------------------------- connector status */

int store_status_add(struct db *db, const char *station, const struct store_status *st,
		     time_t now)
{
	int64_t t = st->time ? (int64_t)st->time : (int64_t)now;
	int rc = check_text(db, "station id", station, STATION_ID_MAX, 1);

	if (rc == 0)
		rc = check_connector(db, st->connector);
	if (rc == 0)
		rc = check_text(db, "status", st->status, TEXT_MAX, 1);
	if (rc == 0)
		rc = check_text(db, "error code", st->error_code, TEXT_MAX, 0);
	if (rc == 0)
		rc = check_text(db, "info", st->info, TEXT_MAX, 0);
	if (rc == 0)
		rc = check_text(db, "vendor id", st->vendor_id, TEXT_MAX, 0);
	if (rc == 0)
		rc = check_text(db, "vendor error code", st->vendor_error_code, TEXT_MAX, 0);
	if (rc == 0)
		rc = db_begin(db);
	if (rc)
		return rc;
	/* since moves only when the status itself changes (SET reads the old
	 * row on every right-hand side). */
	rc = run(db, "INSERT INTO connectors(station, connector, status, error_code, info,"
		 " vendor_id, vendor_error_code, since) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
		 " ON CONFLICT(station, connector) DO UPDATE SET"
		 " since = CASE WHEN status = excluded.status THEN since ELSE excluded.since END,"
		 " status = excluded.status, error_code = excluded.error_code,"
		 " info = excluded.info, vendor_id = excluded.vendor_id,"
		 " vendor_error_code = excluded.vendor_error_code",
		 "titeeeeI", station, st->connector, st->status, st->error_code, st->info,
		 st->vendor_id, st->vendor_error_code, t);
	if (rc == -ENOENT)   /* the foreign key */
		rc = db_set_error(db, rc, "no station '%s'", station);
	if (rc >= 0)
		rc = run(db, "INSERT INTO status_history(station, connector, time, received,"
			 " status, error_code, info, vendor_id, vendor_error_code)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", "tiIIteeee",
			 station, st->connector, t, (int64_t)now, st->status, st->error_code,
			 st->info, st->vendor_id, st->vendor_error_code);
	return finish(db, rc < 0 ? rc : 0);
}

static const struct field history_fields[] = {
	{ "time", F_TIME }, { "connector", F_INT }, { "status", F_TEXT },
	{ "error_code", F_TEXT }, { "info", F_TEXT }, { "vendor_error_code", F_TEXT },
	{ "vendor_id", F_TEXT },
};

#define HISTORY_COLS "time, connector, status, error_code, info, vendor_error_code, vendor_id"

json_t *store_status_history_json(struct db *db, const char *station, int connector, int limit)
{
	sqlite3_stmt *s = NULL;
	int rc;

	limit = check_limit(limit);
	if (connector < 0)
		rc = query(db, &s, "SELECT " HISTORY_COLS " FROM status_history"
			   " WHERE station = ?1 ORDER BY time DESC, id DESC LIMIT ?2", "ti",
			   station ? station : "", limit);
	else
		rc = query(db, &s, "SELECT " HISTORY_COLS " FROM status_history"
			   " WHERE station = ?1 AND connector = ?2"
			   " ORDER BY time DESC, id DESC LIMIT ?3", "tii",
			   station ? station : "", connector, limit);
	return list_json(db, rc, s, "history", history_fields, N_FIELDS(history_fields));
}

/* -------------------------------------------------------------- sessions */

int store_session_start(struct db *db, const struct store_start *st, int64_t *session_id,
			int *duplicate)
{
	sqlite3_stmt *s;
	int rc = check_text(db, "station id", st->station, STATION_ID_MAX, 1);

	*session_id = 0;
	if (duplicate)
		*duplicate = 0;
	if (rc == 0)
		rc = check_text(db, "id tag", st->id_tag, ID_TAG_MAX, 1);
	if (rc == 0)
		rc = check_connector(db, st->connector);
	if (rc == 0)
		rc = run(db, "INSERT INTO sessions(station, connector, id_tag, start, meter_start,"
			 " reservation) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
			 " ON CONFLICT(station, connector, id_tag, meter_start, start) DO NOTHING",
			 "titIIZ", st->station, st->connector, st->id_tag, (int64_t)st->time,
			 st->meter_start, (int64_t)st->reservation);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		*session_id = db_last_rowid(db);
		return 0;
	}
	/* Nothing inserted: the same StartTransaction once more. */
	rc = query(db, &s, "SELECT id FROM sessions WHERE station = ?1 AND connector = ?2"
		   " AND id_tag = ?3 AND meter_start = ?4 AND start = ?5", "titII",
		   st->station, st->connector, st->id_tag, st->meter_start, (int64_t)st->time);
	if (rc == 0)
		rc = get_int64(db, s, session_id);
	if (rc == -ENOENT)
		rc = db_set_error(db, -EIO, "re-sent session vanished");
	if (rc == 0 && duplicate)
		*duplicate = 1;
	return rc;
}

int store_session_stop(struct db *db, const struct store_stop *st)
{
	sqlite3_stmt *s;
	int64_t id;
	int rc = check_text(db, "station id", st->station, STATION_ID_MAX, 1);

	if (rc == 0)
		rc = check_text(db, "id tag", st->id_tag, ID_TAG_MAX, 0);
	if (rc == 0)
		rc = check_text(db, "stop reason", st->reason, TEXT_MAX, 0);
	if (rc == 0)
		rc = run(db, "UPDATE sessions SET stop = ?3, meter_stop = ?4,"
			 " energy_wh = ?4 - meter_start, stop_reason = ?5, stop_id_tag = ?6"
			 " WHERE id = ?1 AND station = ?2 AND stop IS NULL", "ItIIte",
			 st->transaction, st->station, (int64_t)st->time, st->meter_stop,
			 st->reason && *st->reason ? st->reason : "Local", st->id_tag);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	/* Completed already (a re-sent stop), or not ours at all. */
	rc = query(db, &s, "SELECT id FROM sessions WHERE id = ?1 AND station = ?2", "It",
		   st->transaction, st->station);
	if (rc == 0)
		rc = get_int64(db, s, &id);
	if (rc == -ENOENT)
		return db_set_error(db, rc, "no session %lld of station '%s'",
				    (long long)st->transaction, st->station);
	return rc;
}

int store_reading_add(struct db *db, const struct store_reading *r)
{
	int rc = check_text(db, "station id", r->station, STATION_ID_MAX, 1);

	if (rc == 0)
		rc = check_connector(db, r->connector);
	if (rc == 0 && !r->sampled)
		rc = bad(db, "sampled values are missing");
	if (rc)
		return rc;
	/* A reading for a session is kept only if the session is this
	 * station's; the CHECK refuses what is not JSON. */
	rc = run(db, "INSERT INTO meter_readings(session, station, connector, time, sampled)"
		 " SELECT ?1, ?2, ?3, ?4, ?5 WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM sessions"
		 " WHERE id = ?1 AND station = ?2)", "ZtiIt",
		 r->session, r->station, r->connector, (int64_t)r->time, r->sampled);
	if (rc == 0)
		return db_set_error(db, -ENOENT, "no session %lld of station '%s'",
				    (long long)r->session, r->station);
	return rc < 0 ? rc : 0;
}

/* The register only grows, so the largest reading is the latest even when
 * values arrive out of order; a completed session keeps its total. */
int store_session_energy(struct db *db, int64_t session, int64_t register_wh)
{
	sqlite3_stmt *s;
	int64_t id;
	int rc = run(db, "UPDATE sessions SET energy_wh = max(energy_wh, ?2 - meter_start)"
		     " WHERE id = ?1 AND stop IS NULL", "II", session, register_wh);

	if (rc != 0)
		return rc < 0 ? rc : 0;
	/* Completed already, or no such session. */
	rc = query(db, &s, "SELECT id FROM sessions WHERE id = ?1", "I", session);
	if (rc == 0)
		rc = get_int64(db, s, &id);
	if (rc == -ENOENT)
		return db_set_error(db, rc, "no session %lld", (long long)session);
	return rc;
}

/* A negative errno if the query failed: callers test for > 0. */
int64_t store_session_active(struct db *db, const char *station, int connector)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc = query(db, &s, "SELECT max(id) FROM sessions WHERE station = ?1"
		       " AND connector = ?2 AND stop IS NULL", "ti", station ? station : "",
		       connector);

	if (rc == 0)
		rc = get_int64(db, s, &id);   /* max() of nothing: NULL, read as 0 */
	return rc ? rc : id;
}

/* The station and id tag filters decide the index, so each combination is
 * its own fixed statement; the rest are bound. */
#define SESSIONS_SQL(where) "SELECT " SESSION_COLS " FROM sessions WHERE " where \
	" start >= ?3 AND start < ?4 AND (?5 < 0 OR (stop IS NULL) = ?5)" \
	" ORDER BY start DESC, id DESC LIMIT ?6"

json_t *store_sessions_json(struct db *db, const struct store_session_filter *f)
{
	static const char *const sql[4] = {
		SESSIONS_SQL(""),
		SESSIONS_SQL("station = ?1 AND"),
		SESSIONS_SQL("id_tag = ?2 AND"),
		SESSIONS_SQL("station = ?1 AND id_tag = ?2 AND"),
	};
	static const struct store_session_filter any = { .active = -1 };
	sqlite3_stmt *s = NULL;
	int which, rc;

	if (!f)
		f = &any;
	which = (f->station ? 1 : 0) | (f->id_tag ? 2 : 0);
	/* The window is [since, until) over the start time. */
	rc = query(db, &s, sql[which], "ttIIii", f->station, f->id_tag,
		   f->since ? (int64_t)f->since : INT64_MIN,
		   f->until ? (int64_t)f->until : INT64_MAX,
		   f->active < 0 ? -1 : f->active != 0, check_limit(f->limit));
	return list_json(db, rc, s, "sessions", session_fields, N_FIELDS(session_fields));
}

static const struct field meter_fields[] = {
	{ "time", F_TIME }, { "context", F_TEXT }, { "measurand", F_TEXT },
	{ "phase", F_TEXT }, { "location", F_TEXT }, { "unit", F_TEXT }, { "value", F_TEXT },
};

/* Appends to values a page of a session's meter values: the readings
 * after (*time, *id) in (time, id) order, at most limit of them, one
 * object per sampled value. Leaves in (*time, *id) the last reading
 * appended when more follow, else sets *id to 0. */
static int meter_page(struct db *db, int64_t session, int64_t *time, int64_t *id, int limit,
		      json_t *values)
{
	sqlite3_stmt *s;
	int64_t last_id = 0, last_time = 0;
	int readings = 0, more = 0;
	json_t *o;
	/* One reading more than asked for tells whether there is a next page. */
	int rc = query(db, &s, "SELECT r.id, r.time, v.value ->> 'context', v.value ->> 'measurand',"
		       " v.value ->> 'phase', v.value ->> 'location', v.value ->> 'unit',"
		       " v.value ->> 'value' FROM (SELECT id, time, sampled FROM meter_readings"
		       " WHERE session = ?1 AND (time, id) > (?2, ?3) ORDER BY time, id LIMIT ?4) AS r,"
		       " json_each(r.sampled) AS v ORDER BY r.time, r.id, v.key", "IIIi",
		       session, *time, *id, limit + 1);

	if (rc)
		return rc;
	while ((rc = db_step(db, s)) == 1) {
		if (sqlite3_column_int64(s, 0) != last_id) {
			if (readings == limit) {
				more = 1;
				break;
			}
			readings++;
			last_id = sqlite3_column_int64(s, 0);
			last_time = sqlite3_column_int64(s, 1);
		}
		rc = row_object(db, s, 1, meter_fields, N_FIELDS(meter_fields), &o);
		if (rc)
			break;
		if (json_array_append_new(values, o)) {
			rc = db_set_error(db, -ENOMEM, "out of memory");
			break;
		}
	}
	db_done(db, s);
	if (rc < 0)
		return rc;
	*time = last_time;
	*id = more ? last_id : 0;
	return 0;
}

/* A page's cursor: "TIME-ID" of its last reading, or JSON null. */
static json_t *cursor_json(int64_t time, int64_t id)
{
	char buf[48];

	if (!id)
		return json_null();
	snprintf(buf, sizeof buf, "%lld-%lld", (long long)time, (long long)id);
	return json_string(buf);
}

static int cursor_parse(struct db *db, const char *text, int64_t *time, int64_t *id)
{
	long long t, i;
	int end = 0;

	*time = INT64_MIN;
	*id = 0;
	if (!text)
		return 0;
	if (sscanf(text, "%lld-%lld%n", &t, &i, &end) != 2 || text[end] || i <= 0)
		return bad(db, "bad cursor '%.40s': expected what a page's \"next\" said", text);
	*time = t;
	*id = i;
	return 0;
}

json_t *store_session_json(struct db *db, int64_t id)
{
	json_t *out = NULL, *values;
	sqlite3_stmt *s;
	int64_t t = INT64_MIN, next = 0;
	int rc = query(db, &s, "SELECT " SESSION_COLS " FROM sessions WHERE id = ?1", "I", id);

	if (rc == 0) {
		rc = db_step(db, s);
		if (rc == 1)
			rc = row_object(db, s, 0, session_fields, N_FIELDS(session_fields), &out);
		else if (rc == 0)
			rc = db_set_error(db, -ENOENT, "no session %lld", (long long)id);
		db_done(db, s);
	}
	if (rc)
		return read_result(out, rc);
	values = json_array();
	if (!values || json_object_set_new(out, "meter_values", values))
		return read_result(out, db_set_error(db, -ENOMEM, "out of memory"));
	rc = meter_page(db, id, &t, &next, STORE_METER_PAGE, values);
	if (rc == 0 && json_object_set_new(out, "meter_values_next", cursor_json(t, next)))
		rc = db_set_error(db, -ENOMEM, "out of memory");
	return read_result(out, rc);
}

json_t *store_session_meter_json(struct db *db, int64_t session, const char *after, int limit)
{
	json_t *out = json_object(), *values = json_array();
	sqlite3_stmt *s;
	int64_t t, next, found;
	int rc = cursor_parse(db, after, &t, &next);

	if (rc == 0 && (!out || !values || json_object_set(out, "meter_values", values)))
		rc = db_set_error(db, -ENOMEM, "out of memory");
	/* An unknown session is "not found", not an empty page. */
	if (rc == 0)
		rc = query(db, &s, "SELECT id FROM sessions WHERE id = ?1", "I", session);
	if (rc == 0)
		rc = get_int64(db, s, &found);
	if (rc == -ENOENT)
		rc = db_set_error(db, rc, "no session %lld", (long long)session);
	if (rc == 0)
		rc = meter_page(db, session, &t, &next, check_limit(limit), values);
	if (rc == 0 && json_object_set_new(out, "next", cursor_json(t, next)))
		rc = db_set_error(db, -ENOMEM, "out of memory");
	json_decref(values);
	return read_result(out, rc);
}

int store_session_station(struct db *db, int64_t id, char *station, size_t size)
{
	sqlite3_stmt *s;
	int rc = query(db, &s, "SELECT station FROM sessions WHERE id = ?1", "I", id);

	if (size)
		station[0] = '\0';
	if (rc)
		return rc;
	rc = db_step(db, s);
	if (rc == 1)
		rc = size ? col_copy(db, s, 0, station, size) : -ERANGE;
	else if (rc == 0)
		rc = db_set_error(db, -ENOENT, "no session %lld", (long long)id);
	db_done(db, s);
	return rc;
}

/* ---------------------------------------------------------------- tokens */

int store_token_check(struct db *db, const char *id_tag, time_t now, int64_t except_session,
		      enum token_status *status, char *parent, size_t parent_size, time_t *expiry)
{
	enum token_status st = TOKEN_INVALID;
	int64_t busy, exp = 0;
	sqlite3_stmt *s;
	int rc;

	*status = TOKEN_INVALID;
	if (parent && parent_size)
		parent[0] = '\0';
	if (expiry)
		*expiry = 0;
	rc = query(db, &s, "SELECT status, expiry, parent_id_tag FROM tokens WHERE id_tag = ?1",
		   "t", id_tag ? id_tag : "");
	if (rc)
		return rc;
	rc = db_step(db, s);
	if (rc == 1) {
		rc = token_status_parse((const char *)sqlite3_column_text(s, 0), &st);
		if (rc)
			st = TOKEN_INVALID;   /* cannot be: the CHECK constraint */
		exp = sqlite3_column_int64(s, 1);
		if (sqlite3_column_type(s, 1) != SQLITE_NULL && exp <= (int64_t)now &&
		    st == TOKEN_ACCEPTED)
			st = TOKEN_EXPIRED;
		rc = 0;
		if (parent && parent_size)
			rc = col_copy(db, s, 2, parent, parent_size);
	}
	db_done(db, s);
	if (rc < 0)
		return rc;
	if (st == TOKEN_ACCEPTED) {
		rc = query(db, &s, "SELECT count(*) FROM sessions WHERE id_tag = ?1"
			   " AND stop IS NULL AND id <> ?2", "tI", id_tag, except_session);
		if (rc == 0)
			rc = get_int64(db, s, &busy);
		if (rc)
			return rc;
		if (busy)
			st = TOKEN_CONCURRENT_TX;
	}
	*status = st;
	if (expiry)
		*expiry = (time_t)exp;
	return 0;
}

/* Checks a token's fields; *expiry points at the expiry to write, or is
 * NULL when none was given or it is "" (no expiry). */
static int token_fields(struct db *db, const struct store_token *t, int64_t *buf,
			const int64_t **expiry, const char **status)
{
	enum token_status st;
	int rc = check_text(db, "id tag", t->id_tag, ID_TAG_MAX, 1);

	*expiry = NULL;
	*status = NULL;
	if (rc == 0 && t->status) {
		if (token_status_parse(t->status, &st))
			return bad(db, "invalid token status '%s'", t->status);
		*status = token_status_name(st);
	}
	if (rc == 0)
		rc = check_text(db, "parent id tag", t->parent, ID_TAG_MAX, 0);
	if (rc == 0 && t->expiry && *t->expiry) {
		rc = parse_time(db, "expiry", t->expiry, buf);
		*expiry = buf;
	}
	return rc;
}

int store_token_add(struct db *db, const struct store_token *t, time_t now)
{
	const int64_t *expiry;
	const char *status;
	int64_t buf;
	int rc = token_fields(db, t, &buf, &expiry, &status);

	if (rc == 0)
		rc = run(db, "INSERT INTO tokens(id_tag, status, expiry, parent_id_tag, created,"
			 " updated) VALUES (?1, ?2, ?3, ?4, ?5, ?5)", "ttPeI", t->id_tag,
			 status ? status : "Accepted", expiry, t->parent, (int64_t)now);
	if (rc == -EEXIST)
		return db_set_error(db, rc, "token '%s' exists already", t->id_tag);
	return rc < 0 ? rc : 0;
}

int store_token_set(struct db *db, const struct store_token *t, time_t now)
{
	const int64_t *expiry;
	const char *status;
	int64_t buf;
	int rc = token_fields(db, t, &buf, &expiry, &status);

	if (rc)
		return rc;
	/* ?3, ?5: whether expiry and parent change (to NULL for ""). */
	return run_one(db, run(db, "UPDATE tokens SET status = coalesce(?2, status),"
			       " expiry = CASE WHEN ?3 THEN ?4 ELSE expiry END,"
			       " parent_id_tag = CASE WHEN ?5 THEN ?6 ELSE parent_id_tag END,"
			       " updated = ?7 WHERE id_tag = ?1", "ttiPieI",
			       t->id_tag, status, t->expiry != NULL, expiry, t->parent != NULL,
			       t->parent, (int64_t)now),
		       "token", t->id_tag);
}

int store_token_remove(struct db *db, const char *id_tag)
{
	return run_one(db, run(db, "DELETE FROM tokens WHERE id_tag = ?1", "t",
			       id_tag ? id_tag : ""), "token", id_tag);
}

static const struct field token_fields_json[] = {
	{ "id_tag", F_TEXT }, { "status", F_TEXT }, { "expiry", F_TIME },
	{ "parent_id_tag", F_TEXT }, { "created", F_TIME }, { "updated", F_TIME },
};

#define TOKEN_COLS "id_tag, status, expiry, parent_id_tag, created, updated"

json_t *store_tokens_json(struct db *db)
{
	sqlite3_stmt *s = NULL;
	int rc = query(db, &s, "SELECT " TOKEN_COLS " FROM tokens ORDER BY id_tag", "");

	return list_json(db, rc, s, "tokens", token_fields_json, N_FIELDS(token_fields_json));
}

json_t *store_token_json(struct db *db, const char *id_tag)
{
	json_t *out = NULL;
	sqlite3_stmt *s;
	int rc = query(db, &s, "SELECT " TOKEN_COLS " FROM tokens WHERE id_tag = ?1", "t",
		       id_tag ? id_tag : "");

	if (rc)
		return read_result(NULL, rc);
	rc = db_step(db, s);
	if (rc == 1)
		rc = row_object(db, s, 0, token_fields_json, N_FIELDS(token_fields_json), &out);
	else if (rc == 0)
		rc = db_set_error(db, -ENOENT, "no token '%s'", id_tag ? id_tag : "");
	db_done(db, s);
	return read_result(out, rc);
}

/* ------------------------------------------------------------ audit, log */

/* Compact JSON text of v, or NULL for NULL (*rc set on failure). */
static char *dump(struct db *db, const json_t *v, int *rc)
{
	char *text;

	if (!v)
		return NULL;
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		*rc = db_set_error(db, -ENOMEM, "cannot encode JSON");
	return text;
}

int store_audit_add(struct db *db, const char *client, const char *station, const char *operation,
		    const json_t *request, const char *result, const json_t *response, time_t now)
{
	char *req = NULL, *resp = NULL;
	int rc = check_text(db, "operation", operation, TEXT_MAX, 1);

	if (rc == 0)
		rc = check_text(db, "client", client, TEXT_MAX, 0);
	if (rc == 0)
		rc = check_text(db, "station id", station, STATION_ID_MAX, 0);
	if (rc == 0)
		rc = check_text(db, "result", result, TEXT_MAX, 0);
	if (rc == 0)
		req = dump(db, request, &rc);
	if (rc == 0)
		resp = dump(db, response, &rc);
	if (rc == 0)
		rc = run(db, "INSERT INTO audit(time, client, station, operation, request, result,"
			 " response) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", "Ieettet",
			 (int64_t)now, client, station, operation, req, result, resp);
	free(req);
	free(resp);
	return rc < 0 ? rc : 0;
}

static const struct field audit_fields[] = {
	{ "time", F_TIME }, { "client", F_TEXT }, { "station", F_TEXT },
	{ "operation", F_TEXT }, { "request", F_JSON }, { "result", F_TEXT },
	{ "response", F_JSON },
};

#define AUDIT_COLS "time, client, station, operation, request, result, response"

json_t *store_audit_json(struct db *db, const char *station, int limit)
{
	sqlite3_stmt *s = NULL;
	int rc;

	limit = check_limit(limit);
	if (station)
		rc = query(db, &s, "SELECT " AUDIT_COLS " FROM audit WHERE station = ?1"
			   " ORDER BY time DESC, id DESC LIMIT ?2", "ti", station, limit);
	else
		rc = query(db, &s, "SELECT " AUDIT_COLS " FROM audit"
			   " ORDER BY time DESC, id DESC LIMIT ?1", "i", limit);
	return list_json(db, rc, s, "audit", audit_fields, N_FIELDS(audit_fields));
}

int store_message_add(struct db *db, const char *station, char dir, const char *text,
		      size_t len, time_t now)
{
	const char d[2] = { dir, '\0' };
	int rc;

	if (!station || !text)
		return bad(db, "message log: station or text missing");
	if (dir != 'i' && dir != 'o')
		return bad(db, "message log: invalid direction");
	rc = run(db, "INSERT INTO messages(time, station, dir, text) VALUES (?1, ?2, ?3, ?4)",
		 "Ittb", (int64_t)now, station, d, text, len);
	return rc < 0 ? rc : 0;
}

static const struct field message_fields[] = {
	{ "time", F_TIME }, { "direction", F_TEXT }, { "text", F_TEXT },
};

json_t *store_messages_json(struct db *db, const char *station, int limit)
{
	sqlite3_stmt *s = NULL;
	int rc;

	limit = check_limit(limit);
	rc = query(db, &s, "SELECT time, CASE dir WHEN 'i' THEN 'in' ELSE 'out' END, text"
		   " FROM messages WHERE station = ?1 ORDER BY id DESC LIMIT ?2", "ti", station, limit);
	return list_json(db, rc, s, "messages", message_fields, N_FIELDS(message_fields));
}

int store_messages_prune(struct db *db, time_t before)
{
	int rc = run(db, "DELETE FROM messages WHERE time < ?1", "I", (int64_t)before);

	return rc < 0 ? rc : 0;
}

/* ----------------------------------------------------------- API clients */

/* 64 hex digits, written lower-case into out. */
static int check_sha256(struct db *db, const char *hex, char out[65])
{
	size_t i;

	for (i = 0; hex && hex[i] && i < 64; i++) {
		if (!isxdigit((unsigned char)hex[i]))
			break;
		out[i] = (char)tolower((unsigned char)hex[i]);
	}
	out[i] = '\0';
	if (i != 64 || hex[i])
		return bad(db, "token hash is not 64 hex digits");
	return 0;
}

int store_api_client_set(struct db *db, const char *name, const char *token_sha256_hex, time_t now)
{
	char hash[65];
	int rc = check_text(db, "client name", name, CLIENT_NAME_MAX, 1);

	if (rc == 0)
		rc = check_sha256(db, token_sha256_hex, hash);
	if (rc == 0)
		rc = run(db, "INSERT INTO api_clients(name, token_sha256, created)"
			 " VALUES (?1, ?2, ?3) ON CONFLICT(name) DO UPDATE SET"
			 " token_sha256 = excluded.token_sha256, created = excluded.created",
			 "ttI", name, hash, (int64_t)now);
	if (rc == -EEXIST)   /* the token belongs to another client */
		return db_set_error(db, rc, "token of client '%s' is another client's", name);
	return rc < 0 ? rc : 0;
}

int store_api_client_find(struct db *db, const char *token_sha256_hex, char *name, size_t size)
{
	char hash[65];
	sqlite3_stmt *s;
	int rc;

	if (size)
		name[0] = '\0';
	if (check_sha256(db, token_sha256_hex, hash))
		return db_set_error(db, -ENOENT, "no API client for that token");
	rc = query(db, &s, "SELECT name FROM api_clients WHERE token_sha256 = ?1", "t", hash);
	if (rc)
		return rc;
	rc = db_step(db, s);
	if (rc == 1)
		rc = size ? col_copy(db, s, 0, name, size) : -ERANGE;
	else if (rc == 0)
		rc = db_set_error(db, -ENOENT, "no API client for that token");
	db_done(db, s);
	return rc;
}
