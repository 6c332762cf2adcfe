#include "config.h"
#include "station/stationdb.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

struct stationdb {
	struct db *db;
	int64_t key;      /* station.id: every row carries it */
	char *name;
};

/* ---------------------------------------------------------------- schema */

/* Released steps are never edited: changes go into new steps. Every table
 * leads with the station key, so each station's rows sit together in the
 * primary key and no query needs a second index. */
static const struct db_migration migrations[] = {
	{ 1,
	  "CREATE TABLE station ("
	  " id INTEGER PRIMARY KEY,"
	  " name TEXT NOT NULL UNIQUE);"

	  "CREATE TABLE config ("
	  " station INTEGER NOT NULL REFERENCES station(id) ON DELETE CASCADE,"
	  " key TEXT NOT NULL,"
	  " value TEXT NOT NULL,"
	  " PRIMARY KEY (station, key)) WITHOUT ROWID;"

	  /* csms_id: the central system's transactionId, once known. */
	  "CREATE TABLE txn ("
	  " station INTEGER NOT NULL REFERENCES station(id) ON DELETE CASCADE,"
	  " ref TEXT NOT NULL,"
	  " connector INTEGER NOT NULL,"
	  " id_tag TEXT NOT NULL,"
	  " meter_start INTEGER NOT NULL,"
	  " start_ms INTEGER NOT NULL,"
	  " csms_id INTEGER,"
	  " meter_stop INTEGER,"
	  " stop_ms INTEGER,"
	  " stop_reason TEXT,"
	  " PRIMARY KEY (station, ref)) WITHOUT ROWID;"
	  /* At most one open transaction per connector. */
	  "CREATE UNIQUE INDEX txn_open ON txn(station, connector) WHERE stop_ms IS NULL;"

	  /* AUTOINCREMENT: a sequence number is never reused, even after the
	  * newest message was removed. */
	  "CREATE TABLE queue ("
	  " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	  " station INTEGER NOT NULL REFERENCES station(id) ON DELETE CASCADE,"
	  " action TEXT NOT NULL,"
	  " payload TEXT NOT NULL,"
	  " tx_ref TEXT,"
	  " attempts INTEGER NOT NULL DEFAULT 0,"
	  " last_attempt_ms INTEGER,"
	  " FOREIGN KEY (station, tx_ref) REFERENCES txn(station, ref));"
	  "CREATE INDEX queue_station ON queue(station, seq);"
	  "CREATE INDEX queue_tx ON queue(station, tx_ref) WHERE tx_ref IS NOT NULL;"

	  "CREATE TABLE meter ("
	  " station INTEGER NOT NULL REFERENCES station(id) ON DELETE CASCADE,"
	  " connector INTEGER NOT NULL,"
	  " wh INTEGER NOT NULL,"
	  " time_ms INTEGER NOT NULL,"
	  " PRIMARY KEY (station, connector)) WITHOUT ROWID;"

	  "CREATE TABLE local_list_meta ("
	  " station INTEGER PRIMARY KEY REFERENCES station(id) ON DELETE CASCADE,"
	  " version INTEGER NOT NULL);"
	  "CREATE TABLE local_list ("
	  " station INTEGER NOT NULL REFERENCES station(id) ON DELETE CASCADE,"
	  " id_tag TEXT NOT NULL,"
	  " info TEXT NOT NULL,"
	  " PRIMARY KEY (station, id_tag)) WITHOUT ROWID;"

	  "CREATE TABLE auth_cache ("
	  " station INTEGER NOT NULL REFERENCES station(id) ON DELETE CASCADE,"
	  " id_tag TEXT NOT NULL,"
	  " info TEXT NOT NULL,"
	  " expiry_ms INTEGER,"
	  " PRIMARY KEY (station, id_tag)) WITHOUT ROWID;"

	  "CREATE TABLE reservation ("
	  " station INTEGER NOT NULL REFERENCES station(id) ON DELETE CASCADE,"
	  " id INTEGER NOT NULL,"
	  " connector INTEGER NOT NULL,"
	  " id_tag TEXT NOT NULL,"
	  " parent_id_tag TEXT,"
	  " expiry_ms INTEGER NOT NULL,"
	  " PRIMARY KEY (station, id)) WITHOUT ROWID;"

	  "CREATE TABLE profile ("
	  " station INTEGER NOT NULL REFERENCES station(id) ON DELETE CASCADE,"
	  " id INTEGER NOT NULL,"
	  " connector INTEGER NOT NULL,"
	  " body TEXT NOT NULL,"
	  " PRIMARY KEY (station, id)) WITHOUT ROWID;"

	  "CREATE TABLE state ("
	  " station INTEGER NOT NULL REFERENCES station(id) ON DELETE CASCADE,"
	  " key TEXT NOT NULL,"
	  " value TEXT NOT NULL,"
	  " PRIMARY KEY (station, key)) WITHOUT ROWID;" },
	/* Readings of a running transaction kept for its stop message
	 * (1.6 StopTxnSampledData / StopTxnAlignedData): on disk as they are
	 * taken, so a crash does not lose them. kind: enum stationdb_sample_kind;
	 * body: the version's JSON for one reading. */
	{ 2,
	  "CREATE TABLE txn_sample ("
	  " station INTEGER NOT NULL,"
	  " ref TEXT NOT NULL,"
	  " seq INTEGER NOT NULL,"
	  " kind INTEGER NOT NULL,"
	  " time_ms INTEGER NOT NULL,"
	  " body TEXT NOT NULL,"
	  " PRIMARY KEY (station, ref, seq),"
	  " FOREIGN KEY (station, ref) REFERENCES txn(station, ref) ON DELETE CASCADE)"
	  " WITHOUT ROWID;" },
};

void stationdb_db_options(struct db_options *opt)
{
	*opt = (struct db_options){
		.sync = DB_SYNC_FULL,
		.application_id = STATIONDB_APP_ID,
		.migrations = migrations,
		.n_migrations = sizeof migrations / sizeof migrations[0],
	};
}

int stationdb_open(const char *path, struct db **out, char *err, size_t errsize)
{
	struct db_options opt;

	stationdb_db_options(&opt);
	return db_open(path, &opt, out, err, errsize);
}

/* --------------------------------------------------------------- helpers */

/* Refuses bad input: -EINVAL, with why as the database's error. */
#define bad(st, ...) db_set_error((st)->db, -EINVAL, __VA_ARGS__)

static int check_text(struct stationdb *st, const char *what, const char *v, size_t max)
{
	if (!v || !*v)
		return bad(st, "%s is missing", what);
	if (strlen(v) > max)
		return bad(st, "%s is longer than %zu bytes", what, max);
	return 0;
}

/* What we store as JSON must come back out as JSON: a broken payload at the
 * head of the queue would block it for good. */
static int check_json(struct stationdb *st, const char *what, const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	int ok = json_is_object(j);

	json_decref(j);
	return ok ? 0 : bad(st, "%s is not a JSON object", what);
}

static int check_connector(struct stationdb *st, int connector)
{
	return connector >= 0 ? 0 : bad(st, "invalid connector %d", connector);
}

/* Binds parameters 1, 2, ... from fmt: 'k' the station key (no argument),
 * 'I' int64_t, 'i' int, 't' text (NULL binds NULL; borrowed until the
 * statement is done). */
static int bind_v(struct stationdb *st, sqlite3_stmt *s, const char *fmt, va_list ap)
{
	int col = 1, rc = SQLITE_OK;

	for (const char *p = fmt; *p && rc == SQLITE_OK; p++, col++) {
		switch (*p) {
		case 'k':
			rc = sqlite3_bind_int64(s, col, st->key);
			break;
		case 'I':
			rc = sqlite3_bind_int64(s, col, va_arg(ap, int64_t));
			break;
		case 'i':
			rc = sqlite3_bind_int(s, col, va_arg(ap, int));
			break;
		case 't':
			rc = sqlite3_bind_text(s, col, va_arg(ap, const char *), -1, SQLITE_STATIC);
			break;
		default:
			rc = SQLITE_MISUSE;
		}
	}
	if (rc == SQLITE_OK)
		return 0;
	return db_set_error(st->db, db_errno(rc), "bind parameter %d: %s", col - 1,
			    sqlite3_errstr(rc));
}

/* Prepares and binds a query; the caller steps it and calls db_done. */
static int query(struct stationdb *st, sqlite3_stmt **out, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc = db_prepare(st->db, sql, out);

	if (rc)
		return rc;
	va_start(ap, fmt);
	rc = bind_v(st, *out, fmt, ap);
	va_end(ap);
	if (rc) {
		db_done(st->db, *out);
		*out = NULL;
	}
	return rc;
}

/* Runs one write; returns the number of rows changed or a negative errno. */
static int run(struct stationdb *st, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int rc = db_prepare(st->db, sql, &s);

	if (rc)
		return rc;
	va_start(ap, fmt);
	rc = bind_v(st, s, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = db_step(st->db, s);
	if (rc >= 0)
		rc = db_changes(st->db);
	db_done(st->db, s);
	return rc;
}

/* 0 rows changed becomes -ENOENT. */
static int run_one(struct stationdb *st, int rc, const char *what)
{
	if (rc == 0)
		return db_set_error(st->db, -ENOENT, "no such %s", what);
	return rc < 0 ? rc : 0;
}

static int col_copy(struct stationdb *st, sqlite3_stmt *s, int col, char *buf, size_t size)
{
	const char *v = (const char *)sqlite3_column_text(s, col);
	size_t len = v ? (size_t)sqlite3_column_bytes(s, col) : 0;

	if (len >= size)
		return db_set_error(st->db, -EBADMSG, "stored %s too long (%zu bytes)",
				    sqlite3_column_name(s, col), len);
	if (len)
		memcpy(buf, v, len);
	buf[len] = '\0';
	return 0;
}

static int col_dup(struct stationdb *st, sqlite3_stmt *s, int col, char **out)
{
	const char *v = (const char *)sqlite3_column_text(s, col);

	*out = strdup(v ? v : "");
	return *out ? 0 : db_set_error(st->db, -ENOMEM, "out of memory");
}

/* One text column of the first row, malloc'd; -ENOENT if no row. */
static int get_text(struct stationdb *st, sqlite3_stmt *s, const char *what, char **out)
{
	int rc = db_step(st->db, s);

	*out = NULL;
	if (rc == 1)
		rc = col_dup(st, s, 0, out);
	else if (rc == 0)
		rc = db_set_error(st->db, -ENOENT, "no such %s", what);
	db_done(st->db, s);
	return rc;
}

/* Calls fn for each (text, text) row. */
static int each_pair(struct stationdb *st, sqlite3_stmt *s, stationdb_pair_fn fn, void *arg)
{
	int rc;

	while ((rc = db_step(st->db, s)) == 1) {
		const char *k = (const char *)sqlite3_column_text(s, 0);
		const char *v = (const char *)sqlite3_column_text(s, 1);
		rc = fn(arg, k ? k : "", v ? v : "");
		if (rc)
			break;
	}
	db_done(st->db, s);
	return rc;
}

typedef int (*read_fn)(struct stationdb *st, sqlite3_stmt *s, void *row);

/* Steps s to the end, reading each row into a malloc'd array. */
static int collect(struct stationdb *st, sqlite3_stmt *s, size_t size, read_fn read,
		   void **out, size_t *n)
{
	char *rows = NULL, *grown;
	size_t count = 0, cap = 0;
	int rc;

	while ((rc = db_step(st->db, s)) == 1) {
		if (count == cap) {
			cap = cap ? 2 * cap : 8;
			grown = realloc(rows, cap * size);
			if (!grown) {
				rc = db_set_error(st->db, -ENOMEM, "out of memory");
				break;
			}
			rows = grown;
		}
		rc = read(st, s, rows + count * size);
		if (rc)
			break;
		count++;
	}
	db_done(st->db, s);
	if (rc) {
		free(rows);
		rows = NULL;
		count = 0;
	}
	*out = rows;
	*n = count;
	return rc;
}

/* A multi-statement write as one unit: commits if rc is 0, else rolls
 * back; returns rc, or the commit's error. */
static int finish(struct stationdb *st, int rc)
{
	char msg[DB_ERRMSG_MAX];

	if (rc == 0)
		return db_commit(st->db);
	snprintf(msg, sizeof msg, "%s", db_errmsg(st->db));
	db_rollback(st->db);
	db_set_error(st->db, rc, "%s", msg);
	return rc;
}

/* --------------------------------------------------------------- station */

int stationdb_new(struct db *db, const char *station_id, struct stationdb **out)
{
	struct stationdb *st = calloc(1, sizeof *st);
	sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	if (!st || !(st->name = strdup(station_id ? station_id : ""))) {
		free(st);
		return db_set_error(db, -ENOMEM, "out of memory");
	}
	st->db = db;
	rc = check_text(st, "station id", station_id, 255);
	if (rc == 0)
		rc = run(st, "INSERT INTO station(name) VALUES (?1) ON CONFLICT(name) DO NOTHING",
			 "t", station_id);
	if (rc >= 0)
		rc = query(st, &s, "SELECT id FROM station WHERE name = ?1", "t", station_id);
	if (rc >= 0 && (rc = db_step(db, s)) == 1) {
		st->key = sqlite3_column_int64(s, 0);
		rc = 0;
	} else if (rc == 0) {
		rc = db_set_error(db, -EIO, "station row vanished");
	}
	db_done(db, s);
	if (rc) {
		stationdb_free(st);
		return rc;
	}
	*out = st;
	return 0;
}

void stationdb_free(struct stationdb *st)
{
	if (!st)
		return;
	free(st->name);
	free(st);
}

const char *stationdb_name(const struct stationdb *st) { return st->name; }
struct db *stationdb_db(struct stationdb *st) { return st->db; }
const char *stationdb_errmsg(const struct stationdb *st) { return db_errmsg(st->db); }
int stationdb_begin(struct stationdb *st) { return db_begin(st->db); }
int stationdb_commit(struct stationdb *st) { return db_commit(st->db); }
int stationdb_rollback(struct stationdb *st) { return db_rollback(st->db); }

/* ---------------------------------------------------------- config, state */

/* config and state share their shape; table names are fixed strings. */
static int kv_set(struct stationdb *st, const char *upsert, const char *key, const char *value)
{
	int rc = check_text(st, "key", key, STATIONDB_KEY_MAX);

	if (rc == 0 && !value)
		rc = bad(st, "value of %s is missing", key);
	if (rc == 0)
		rc = run(st, upsert, "ktt", key, value);
	return rc < 0 ? rc : 0;
}

int stationdb_config_set(struct stationdb *st, const char *key, const char *value)
{
	return kv_set(st, "INSERT INTO config(station, key, value) VALUES (?1, ?2, ?3)"
		      " ON CONFLICT(station, key) DO UPDATE SET value = excluded.value",
		      key, value);
}

int stationdb_config_get(struct stationdb *st, const char *key, char **value)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT value FROM config WHERE station = ?1 AND key = ?2",
		       "kt", key ? key : "");

	*value = NULL;
	return rc ? rc : get_text(st, s, "configuration key", value);
}

int stationdb_config_delete(struct stationdb *st, const char *key)
{
	return run_one(st, run(st, "DELETE FROM config WHERE station = ?1 AND key = ?2",
			       "kt", key ? key : ""), "configuration key");
}

int stationdb_config_each(struct stationdb *st, stationdb_pair_fn fn, void *arg)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT key, value FROM config WHERE station = ?1 ORDER BY key",
		       "k");

	return rc ? rc : each_pair(st, s, fn, arg);
}

int stationdb_state_set(struct stationdb *st, const char *key, const char *value)
{
	return kv_set(st, "INSERT INTO state(station, key, value) VALUES (?1, ?2, ?3)"
		      " ON CONFLICT(station, key) DO UPDATE SET value = excluded.value",
		      key, value);
}

int stationdb_state_get(struct stationdb *st, const char *key, char **value)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT value FROM state WHERE station = ?1 AND key = ?2",
		       "kt", key ? key : "");

	*value = NULL;
	return rc ? rc : get_text(st, s, "state key", value);
}

int stationdb_state_delete(struct stationdb *st, const char *key)
{
	return run_one(st, run(st, "DELETE FROM state WHERE station = ?1 AND key = ?2",
			       "kt", key ? key : ""), "state key");
}

/* ----------------------------------------------------------------- queue */

int stationdb_queue_push(struct stationdb *st, const char *action, const char *payload,
			 const char *tx_ref, int64_t *seq)
{
	int rc = check_text(st, "action", action, STATIONDB_ACTION_MAX);

	if (tx_ref && !*tx_ref)
		tx_ref = NULL;
	if (rc == 0 && tx_ref)
		rc = check_text(st, "transaction reference", tx_ref, STATIONDB_REF_MAX);
	if (rc == 0)
		rc = check_json(st, "payload", payload);
	if (rc == 0)
		rc = run(st, "INSERT INTO queue(station, action, payload, tx_ref)"
			 " VALUES (?1, ?2, ?3, ?4)", "kttt", action, payload, tx_ref);
	if (rc == -ENOENT)   /* the foreign key */
		return db_set_error(st->db, rc, "no transaction '%s'", tx_ref);
	if (rc < 0)
		return rc;
	if (seq)
		*seq = db_last_rowid(st->db);
	return 0;
}

void stationdb_msg_clear(struct stationdb_msg *m)
{
	free(m->payload);
	memset(m, 0, sizeof *m);
}

static int read_msg(struct stationdb *st, sqlite3_stmt *s, struct stationdb_msg *m)
{
	int rc;

	memset(m, 0, sizeof *m);
	m->seq = sqlite3_column_int64(s, 0);
	rc = col_copy(st, s, 1, m->action, sizeof m->action);
	if (rc == 0)
		rc = col_copy(st, s, 3, m->tx_ref, sizeof m->tx_ref);
	if (rc == 0)
		rc = col_dup(st, s, 2, &m->payload);
	m->attempts = sqlite3_column_int(s, 4);
	m->last_attempt_ms = sqlite3_column_int64(s, 5);
	m->has_transaction_id = sqlite3_column_type(s, 6) != SQLITE_NULL;
	m->transaction_id = sqlite3_column_int64(s, 6);
	return rc;
}

int stationdb_queue_peek(struct stationdb *st, struct stationdb_msg *m)
{
	sqlite3_stmt *s;
	int rc = query(st, &s,
		       "SELECT q.seq, q.action, q.payload, q.tx_ref, q.attempts,"
		       " q.last_attempt_ms, t.csms_id"
		       " FROM queue q LEFT JOIN txn t ON t.station = q.station AND t.ref = q.tx_ref"
		       " WHERE q.station = ?1 ORDER BY q.seq LIMIT 1", "k");

	memset(m, 0, sizeof *m);
	if (rc)
		return rc;
	rc = db_step(st->db, s);
	if (rc == 1)
		rc = read_msg(st, s, m);
	else if (rc == 0)
		rc = db_set_error(st->db, -ENOENT, "the queue is empty");
	db_done(st->db, s);
	if (rc)
		stationdb_msg_clear(m);
	return rc;
}

int stationdb_msg_payload(const struct stationdb_msg *m, json_t **out)
{
	json_t *p = m->payload ? json_loads(m->payload, 0, NULL) : NULL;

	*out = NULL;
	if (!json_is_object(p)) {
		json_decref(p);
		return -EBADMSG;
	}
	if (m->has_transaction_id && strcmp(m->action, "StartTransaction") != 0 &&
	    json_object_set_new(p, "transactionId", json_integer(m->transaction_id))) {
		json_decref(p);
		return -ENOMEM;
	}
	*out = p;
	return 0;
}

int stationdb_queue_attempt(struct stationdb *st, int64_t seq, int64_t now_ms, int *attempts)
{
	sqlite3_stmt *s;
	int rc = run_one(st, run(st, "UPDATE queue SET attempts = attempts + 1,"
				 " last_attempt_ms = ?3 WHERE station = ?1 AND seq = ?2",
				 "kII", seq, now_ms), "queued message");

	if (rc || !attempts)
		return rc;
	rc = query(st, &s, "SELECT attempts FROM queue WHERE station = ?1 AND seq = ?2",
		   "kI", seq);
	if (rc == 0 && (rc = db_step(st->db, s)) == 1) {
		*attempts = sqlite3_column_int(s, 0);
		rc = 0;
	} else if (rc == 0) {
		rc = db_set_error(st->db, -ENOENT, "no such queued message");
	}
	db_done(st->db, s);
	return rc;
}

int stationdb_queue_remove(struct stationdb *st, int64_t seq)
{
	return run_one(st, run(st, "DELETE FROM queue WHERE station = ?1 AND seq = ?2",
			       "kI", seq), "queued message");
}

static int queued_tx_ref(struct stationdb *st, int64_t seq, char ref[STATIONDB_REF_MAX + 1])
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT tx_ref FROM queue WHERE station = ?1 AND seq = ?2",
		       "kI", seq);

	if (rc)
		return rc;
	rc = db_step(st->db, s);
	if (rc == 1 && sqlite3_column_type(s, 0) == SQLITE_NULL)
		rc = bad(st, "queued message %lld has no transaction reference", (long long)seq);
	else if (rc == 1)
		rc = col_copy(st, s, 0, ref, STATIONDB_REF_MAX + 1);
	else if (rc == 0)
		rc = db_set_error(st->db, -ENOENT, "no such queued message");
	db_done(st->db, s);
	return rc;
}

int stationdb_queue_ack_start(struct stationdb *st, int64_t seq, int64_t transaction_id)
{
	char ref[STATIONDB_REF_MAX + 1];
	int rc = db_begin(st->db);

	if (rc)
		return rc;
	rc = queued_tx_ref(st, seq, ref);
	if (rc == 0)
		rc = stationdb_tx_set_id(st, ref, transaction_id);
	if (rc == 0)
		rc = stationdb_queue_remove(st, seq);
	return finish(st, rc);
}

int stationdb_queue_count(struct stationdb *st, size_t *n)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT count(*) FROM queue WHERE station = ?1", "k");

	*n = 0;
	if (rc == 0 && (rc = db_step(st->db, s)) == 1) {
		*n = (size_t)sqlite3_column_int64(s, 0);
		rc = 0;
	}
	db_done(st->db, s);
	return rc;
}

/* ---------------------------------------------------------- transactions */

#define TX_COLS "ref, connector, id_tag, meter_start, start_ms, csms_id," \
		" meter_stop, stop_ms, stop_reason"

static int read_tx(struct stationdb *st, sqlite3_stmt *s, void *row)
{
	struct stationdb_tx *t = row;
	int rc;

	memset(t, 0, sizeof *t);
	rc = col_copy(st, s, 0, t->ref, sizeof t->ref);
	if (rc == 0)
		rc = col_copy(st, s, 2, t->id_tag, sizeof t->id_tag);
	if (rc == 0)
		rc = col_copy(st, s, 8, t->stop_reason, sizeof t->stop_reason);
	t->connector = sqlite3_column_int(s, 1);
	t->meter_start_wh = sqlite3_column_int64(s, 3);
	t->start_ms = sqlite3_column_int64(s, 4);
	t->has_transaction_id = sqlite3_column_type(s, 5) != SQLITE_NULL;
	t->transaction_id = sqlite3_column_int64(s, 5);
	t->meter_stop_wh = sqlite3_column_int64(s, 6);
	t->open = sqlite3_column_type(s, 7) == SQLITE_NULL;
	t->stop_ms = sqlite3_column_int64(s, 7);
	return rc;
}

/* The first row of a transaction query; -ENOENT if none. */
static int one_tx(struct stationdb *st, sqlite3_stmt *s, struct stationdb_tx *out)
{
	int rc = db_step(st->db, s);

	if (rc == 1)
		rc = read_tx(st, s, out);
	else if (rc == 0)
		rc = db_set_error(st->db, -ENOENT, "no such transaction");
	db_done(st->db, s);
	return rc;
}

int stationdb_tx_create(struct stationdb *st, const char *ref, int connector,
			const char *id_tag, int64_t meter_start_wh, int64_t start_ms)
{
	int rc = check_text(st, "transaction reference", ref, STATIONDB_REF_MAX);

	if (rc == 0)
		rc = check_text(st, "idTag", id_tag, STATIONDB_IDTAG_MAX);
	if (rc == 0)
		rc = check_connector(st, connector);
	if (rc == 0)
		rc = run(st, "INSERT INTO txn(station, ref, connector, id_tag, meter_start, start_ms)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "ktitII",
			 ref, connector, id_tag, meter_start_wh, start_ms);
	return rc < 0 ? rc : 0;
}

int stationdb_tx_set_id(struct stationdb *st, const char *ref, int64_t transaction_id)
{
	return run_one(st, run(st, "UPDATE txn SET csms_id = ?3 WHERE station = ?1 AND ref = ?2",
			       "ktI", ref ? ref : "", transaction_id), "transaction");
}

int stationdb_tx_finish(struct stationdb *st, const char *ref, int64_t meter_stop_wh,
			int64_t stop_ms, const char *reason)
{
	int rc = 0;

	if (reason && strlen(reason) > STATIONDB_REASON_MAX)
		rc = bad(st, "stop reason is longer than %d bytes", STATIONDB_REASON_MAX);
	if (rc == 0)
		rc = run_one(st, run(st, "UPDATE txn SET meter_stop = ?3, stop_ms = ?4,"
				     " stop_reason = ?5"
				     " WHERE station = ?1 AND ref = ?2 AND stop_ms IS NULL",
				     "ktIIt", ref ? ref : "", meter_stop_wh, stop_ms, reason),
			     "open transaction");
	return rc;
}

int stationdb_tx_get(struct stationdb *st, const char *ref, struct stationdb_tx *out)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT " TX_COLS " FROM txn WHERE station = ?1 AND ref = ?2",
		       "kt", ref ? ref : "");

	return rc ? rc : one_tx(st, s, out);
}

int stationdb_tx_find_open(struct stationdb *st, int connector, struct stationdb_tx *out)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT " TX_COLS " FROM txn"
		       " WHERE station = ?1 AND connector = ?2 AND stop_ms IS NULL", "ki",
		       connector);

	return rc ? rc : one_tx(st, s, out);
}

int stationdb_tx_list_open(struct stationdb *st, struct stationdb_tx **out, size_t *n)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT " TX_COLS " FROM txn"
		       " WHERE station = ?1 AND stop_ms IS NULL ORDER BY connector", "k");

	*out = NULL;
	*n = 0;
	return rc ? rc : collect(st, s, sizeof **out, read_tx, (void **)out, n);
}

int stationdb_tx_purge(struct stationdb *st, int64_t stopped_before_ms, size_t *n)
{
	int rc = run(st, "DELETE FROM txn WHERE station = ?1 AND stop_ms IS NOT NULL"
		     " AND stop_ms < ?2 AND NOT EXISTS (SELECT 1 FROM queue q"
		     " WHERE q.station = txn.station AND q.tx_ref = txn.ref)",
		     "kI", stopped_before_ms);

	if (n)
		*n = rc > 0 ? (size_t)rc : 0;
	return rc < 0 ? rc : 0;
}

/* ----------------------------------------------------------------- meter */

int stationdb_meter_set(struct stationdb *st, int connector, int64_t wh, int64_t time_ms)
{
	int rc = check_connector(st, connector);

	if (rc == 0)
		rc = run(st, "INSERT INTO meter(station, connector, wh, time_ms)"
			 " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(station, connector)"
			 " DO UPDATE SET wh = excluded.wh, time_ms = excluded.time_ms",
			 "kiII", connector, wh, time_ms);
	return rc < 0 ? rc : 0;
}

int stationdb_meter_get(struct stationdb *st, int connector, int64_t *wh, int64_t *time_ms)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT wh, time_ms FROM meter WHERE station = ?1 AND connector = ?2",
		       "ki", connector);

	if (rc)
		return rc;
	rc = db_step(st->db, s);
	if (rc == 1) {
		*wh = sqlite3_column_int64(s, 0);
		*time_ms = sqlite3_column_int64(s, 1);
		rc = 0;
	} else if (rc == 0) {
		rc = db_set_error(st->db, -ENOENT, "no meter reading for connector %d", connector);
	}
	db_done(st->db, s);
	return rc;
}

/* ------------------------------------------------------------ local list */

int stationdb_local_list_version(struct stationdb *st, int *version)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT version FROM local_list_meta WHERE station = ?1", "k");

	*version = 0;
	if (rc == 0 && (rc = db_step(st->db, s)) == 1) {
		*version = sqlite3_column_int(s, 0);
		rc = 0;
	}
	db_done(st->db, s);
	return rc;
}

static int check_entries(struct stationdb *st, const struct stationdb_auth_entry *e, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = check_text(st, "idTag", e[i].id_tag, STATIONDB_IDTAG_MAX);
		if (rc == 0 && e[i].info)
			rc = check_json(st, "idTagInfo", e[i].info);
	}
	return rc;
}

static int write_entries(struct stationdb *st, const struct stationdb_auth_entry *e, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc >= 0; i++) {
		if (e[i].info)
			rc = run(st, "INSERT INTO local_list(station, id_tag, info) VALUES (?1, ?2, ?3)"
				 " ON CONFLICT(station, id_tag) DO UPDATE SET info = excluded.info",
				 "ktt", e[i].id_tag, e[i].info);
		else
			rc = run(st, "DELETE FROM local_list WHERE station = ?1 AND id_tag = ?2",
				 "kt", e[i].id_tag);
	}
	return rc < 0 ? rc : 0;
}

int stationdb_local_list_update(struct stationdb *st, int version, int full,
				const struct stationdb_auth_entry *entries, size_t n)
{
	int rc = check_entries(st, entries, n);

	if (rc == 0)
		rc = db_begin(st->db);
	if (rc)
		return rc;
	if (full)
		rc = run(st, "DELETE FROM local_list WHERE station = ?1", "k");
	if (rc >= 0)
		rc = write_entries(st, entries, n);
	if (rc >= 0)
		rc = run(st, "INSERT INTO local_list_meta(station, version) VALUES (?1, ?2)"
			 " ON CONFLICT(station) DO UPDATE SET version = excluded.version",
			 "ki", version);
	return finish(st, rc < 0 ? rc : 0);
}

int stationdb_local_list_get(struct stationdb *st, const char *id_tag, char **info)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT info FROM local_list WHERE station = ?1 AND id_tag = ?2",
		       "kt", id_tag ? id_tag : "");

	*info = NULL;
	return rc ? rc : get_text(st, s, "idTag in the local list", info);
}

int stationdb_local_list_count(struct stationdb *st, size_t *n)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT count(*) FROM local_list WHERE station = ?1", "k");

	*n = 0;
	if (rc == 0 && (rc = db_step(st->db, s)) == 1) {
		*n = (size_t)sqlite3_column_int64(s, 0);
		rc = 0;
	}
	db_done(st->db, s);
	return rc;
}

int stationdb_local_list_each(struct stationdb *st, stationdb_pair_fn fn, void *arg)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT id_tag, info FROM local_list WHERE station = ?1"
		       " ORDER BY id_tag", "k");

	return rc ? rc : each_pair(st, s, fn, arg);
}

/* ------------------------------------------------------------ auth cache */

int stationdb_auth_cache_put(struct stationdb *st, const char *id_tag, const char *info,
			     int64_t expiry_ms)
{
	int rc = check_text(st, "idTag", id_tag, STATIONDB_IDTAG_MAX);

	if (rc == 0)
		rc = check_json(st, "idTagInfo", info);
	if (rc == 0)
		rc = run(st, "INSERT INTO auth_cache(station, id_tag, info, expiry_ms)"
			 " VALUES (?1, ?2, ?3, nullif(?4, 0)) ON CONFLICT(station, id_tag)"
			 " DO UPDATE SET info = excluded.info, expiry_ms = excluded.expiry_ms",
			 "kttI", id_tag, info, expiry_ms);
	return rc < 0 ? rc : 0;
}

int stationdb_auth_cache_get(struct stationdb *st, const char *id_tag, char **info,
			     int64_t *expiry_ms)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT info, expiry_ms FROM auth_cache"
		       " WHERE station = ?1 AND id_tag = ?2", "kt", id_tag ? id_tag : "");

	*info = NULL;
	*expiry_ms = 0;
	if (rc)
		return rc;
	rc = db_step(st->db, s);
	if (rc == 1) {
		*expiry_ms = sqlite3_column_int64(s, 1);
		rc = col_dup(st, s, 0, info);
	} else if (rc == 0) {
		rc = db_set_error(st->db, -ENOENT, "idTag not in the authorization cache");
	}
	db_done(st->db, s);
	return rc;
}

int stationdb_auth_cache_clear(struct stationdb *st)
{
	int rc = run(st, "DELETE FROM auth_cache WHERE station = ?1", "k");

	return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------- reservations */

#define RESV_COLS "id, connector, id_tag, parent_id_tag, expiry_ms"

static int read_resv(struct stationdb *st, sqlite3_stmt *s, void *row)
{
	struct stationdb_resv *r = row;
	int rc;

	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int(s, 0);
	r->connector = sqlite3_column_int(s, 1);
	r->expiry_ms = sqlite3_column_int64(s, 4);
	rc = col_copy(st, s, 2, r->id_tag, sizeof r->id_tag);
	if (rc == 0)
		rc = col_copy(st, s, 3, r->parent_id_tag, sizeof r->parent_id_tag);
	return rc;
}

int stationdb_resv_put(struct stationdb *st, const struct stationdb_resv *r)
{
	const char *parent = r->parent_id_tag[0] ? r->parent_id_tag : NULL;
	int rc = check_text(st, "idTag", r->id_tag, STATIONDB_IDTAG_MAX);

	if (rc == 0 && parent)
		rc = check_text(st, "parentIdTag", parent, STATIONDB_IDTAG_MAX);
	if (rc == 0)
		rc = check_connector(st, r->connector);
	if (rc == 0)
		rc = run(st, "INSERT INTO reservation(station, " RESV_COLS ")"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(station, id) DO UPDATE SET"
			 " connector = excluded.connector, id_tag = excluded.id_tag,"
			 " parent_id_tag = excluded.parent_id_tag, expiry_ms = excluded.expiry_ms",
			 "kiittI", r->id, r->connector, r->id_tag, parent, r->expiry_ms);
	return rc < 0 ? rc : 0;
}

int stationdb_resv_cancel(struct stationdb *st, int id)
{
	return run_one(st, run(st, "DELETE FROM reservation WHERE station = ?1 AND id = ?2",
			       "ki", id), "reservation");
}

int stationdb_resv_list(struct stationdb *st, struct stationdb_resv **out, size_t *n)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT " RESV_COLS " FROM reservation WHERE station = ?1"
		       " ORDER BY id", "k");

	*out = NULL;
	*n = 0;
	return rc ? rc : collect(st, s, sizeof **out, read_resv, (void **)out, n);
}

int stationdb_resv_expire(struct stationdb *st, int64_t now_ms, struct stationdb_resv **out,
			  size_t *n)
{
	struct stationdb_resv *gone = NULL;
	sqlite3_stmt *s;
	size_t count = 0;
	int rc = db_begin(st->db);

	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (rc)
		return rc;
	/* Read and delete under one lock: what is returned is what went. */
	rc = query(st, &s, "SELECT " RESV_COLS " FROM reservation"
		   " WHERE station = ?1 AND expiry_ms <= ?2 ORDER BY id", "kI", now_ms);
	if (rc == 0)
		rc = collect(st, s, sizeof *gone, read_resv, (void **)&gone, &count);
	if (rc == 0)
		rc = run(st, "DELETE FROM reservation WHERE station = ?1 AND expiry_ms <= ?2",
			 "kI", now_ms);
	rc = finish(st, rc < 0 ? rc : 0);
	if (rc == 0 && out) {
		*out = gone;
		gone = NULL;
	}
	if (rc == 0 && n)
		*n = count;
	free(gone);
	return rc;
}

/* ------------------------------------------------------ charging profiles */

int stationdb_profile_put(struct stationdb *st, int id, int connector, const char *json)
{
	int rc = check_connector(st, connector);

	if (rc == 0)
		rc = check_json(st, "charging profile", json);
	if (rc == 0)
		rc = run(st, "INSERT INTO profile(station, id, connector, body) VALUES (?1, ?2, ?3, ?4)"
			 " ON CONFLICT(station, id) DO UPDATE SET connector = excluded.connector,"
			 " body = excluded.body", "kiit", id, connector, json);
	return rc < 0 ? rc : 0;
}

int stationdb_profile_delete(struct stationdb *st, int id)
{
	return run_one(st, run(st, "DELETE FROM profile WHERE station = ?1 AND id = ?2",
			       "ki", id), "charging profile");
}

int stationdb_profile_each(struct stationdb *st, int connector, stationdb_profile_fn fn,
			   void *arg)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT id, connector, body FROM profile WHERE station = ?1"
		       " AND (?2 < 0 OR connector = ?2) ORDER BY id", "ki", connector);

	if (rc)
		return rc;
	while ((rc = db_step(st->db, s)) == 1) {
		const char *body = (const char *)sqlite3_column_text(s, 2);
		rc = fn(arg, sqlite3_column_int(s, 0), sqlite3_column_int(s, 1), body ? body : "");
		if (rc)
			break;
	}
	db_done(st->db, s);
	return rc;
}

/* ------------------------------------------------- transaction samples */

/* Halves the intermediate readings (the 1st, 3rd, 5th...) while there are
 * more than max: what is left still spans the whole transaction, and the
 * first reading (kind BEGIN) is never dropped (1.6 errata 3.91). */
static int thin_samples(struct stationdb *st, const char *ref, long max)
{
	sqlite3_stmt *s;
	int64_t n = 0;
	int rc;

	for (;;) {
		rc = query(st, &s, "SELECT count(*) FROM txn_sample"
			   " WHERE station = ?1 AND ref = ?2 AND kind <> ?3", "kti",
			   ref, STATIONDB_SAMPLE_BEGIN);
		if (rc)
			return rc;
		rc = db_step(st->db, s);
		n = rc == 1 ? sqlite3_column_int64(s, 0) : 0;
		db_done(st->db, s);
		if (rc < 0)
			return rc;
		if (n <= max)
			return 0;
		rc = run(st, "DELETE FROM txn_sample WHERE station = ?1 AND ref = ?2 AND seq IN"
			 " (SELECT seq FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS rn"
			 " FROM txn_sample WHERE station = ?1 AND ref = ?2 AND kind <> ?3)"
			 " WHERE rn % 2 = 1)", "kti", ref, STATIONDB_SAMPLE_BEGIN);
		if (rc < 0)
			return rc;
	}
}

int stationdb_sample_add(struct stationdb *st, const char *ref, enum stationdb_sample_kind kind,
			 int64_t time_ms, const char *body, long max_intermediate)
{
	int rc = check_text(st, "transaction reference", ref, STATIONDB_REF_MAX);

	if (rc == 0 && (kind < STATIONDB_SAMPLE_BEGIN || kind > STATIONDB_SAMPLE_CLOCK))
		rc = bad(st, "unknown kind of sample %d", (int)kind);
	if (rc == 0)
		rc = check_json(st, "sample", body);
	if (rc == 0)
		rc = db_begin(st->db);
	if (rc)
		return rc;
	rc = run(st, "INSERT INTO txn_sample(station, ref, seq, kind, time_ms, body)"
		 " SELECT ?1, ?2, coalesce(max(seq), 0) + 1, ?3, ?4, ?5 FROM txn_sample"
		 " WHERE station = ?1 AND ref = ?2", "ktiIt", ref, (int)kind, time_ms, body);
	if (rc == -ENOENT)   /* the foreign key */
		rc = db_set_error(st->db, rc, "no transaction '%s'", ref);
	if (rc >= 0 && kind != STATIONDB_SAMPLE_BEGIN)
		rc = thin_samples(st, ref, max_intermediate < 0 ? 0 : max_intermediate);
	return finish(st, rc < 0 ? rc : 0);
}

int stationdb_sample_each(struct stationdb *st, const char *ref, stationdb_sample_fn fn, void *arg)
{
	sqlite3_stmt *s;
	int rc = query(st, &s, "SELECT kind, time_ms, body FROM txn_sample"
		       " WHERE station = ?1 AND ref = ?2 ORDER BY seq", "kt", ref ? ref : "");

	if (rc)
		return rc;
	while ((rc = db_step(st->db, s)) == 1) {
		const char *body = (const char *)sqlite3_column_text(s, 2);
		rc = fn(arg, (enum stationdb_sample_kind)sqlite3_column_int(s, 0),
			sqlite3_column_int64(s, 1), body ? body : "");
		if (rc)
			break;
	}
	db_done(st->db, s);
	return rc;
}

int stationdb_sample_clear(struct stationdb *st, const char *ref)
{
	int rc = run(st, "DELETE FROM txn_sample WHERE station = ?1 AND ref = ?2", "kt",
		     ref ? ref : "");

	return rc < 0 ? rc : 0;
}
