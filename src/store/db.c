#include "config.h"
#include "store/db.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct cached {
	char *sql;
	uint32_t hash;
	sqlite3_stmt *stmt;
	int in_use;
	unsigned long last_used;   /* for least-recently-used eviction */
};

struct db {
	sqlite3 *conn;
	struct cached *cache;
	size_t n_cached, max_cached;
	unsigned long clock;
	struct db_stats stats;
	int depth;                 /* db_begin nesting */
	char err[DB_ERRMSG_MAX];
};

int db_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_INTERRUPT:
		return -EINTR;
	case SQLITE_ABORT:
		return -ECANCELED;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
			return -EEXIST;
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			return -ENOENT;
		return -EINVAL;
	case SQLITE_ERROR:
	case SQLITE_RANGE:
	case SQLITE_MISUSE:
	case SQLITE_MISMATCH:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static int fail(struct db *db, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int vfail(struct db *db, int rc, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static int vfail(struct db *db, int rc, const char *fmt, va_list ap)
{
	vsnprintf(db->err, sizeof db->err, fmt, ap);
	return rc;
}

static int fail(struct db *db, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(db, rc, fmt, ap);
	va_end(ap);
	return rc;
}

int db_set_error(struct db *db, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(db, rc, fmt, ap);
	va_end(ap);
	return rc;
}

/* Records SQLite's message for a failed operation. */
static int fail_sqlite(struct db *db, int sqlite_rc, const char *sql)
{
	int rc = db_errno(sqlite_rc);

	if (sql)
		return fail(db, rc ? rc : -EIO, "%s [%.80s]", sqlite3_errmsg(db->conn), sql);
	return fail(db, rc ? rc : -EIO, "%s", sqlite3_errmsg(db->conn));
}

const char *db_errmsg(const struct db *db) { return db ? db->err : "out of memory"; }
sqlite3 *db_handle(struct db *db) { return db->conn; }
int db_tx_depth(const struct db *db) { return db->depth; }
int db_changes(struct db *db) { return sqlite3_changes(db->conn); }
int64_t db_last_rowid(struct db *db) { return sqlite3_last_insert_rowid(db->conn); }

void db_get_stats(const struct db *db, struct db_stats *out)
{
	*out = db->stats;
	out->cached = db->n_cached;
}

/* ------------------------------------------------------------ statements */

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int only_space(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s) && *s != ';')
			return 0;
	return 1;
}

static int prepare_raw(struct db *db, const char *sql, unsigned flags, sqlite3_stmt **out)
{
	const char *tail = NULL;
	int rc = sqlite3_prepare_v3(db->conn, sql, -1, flags, out, &tail);

	if (rc != SQLITE_OK) {
		*out = NULL;
		return fail_sqlite(db, rc, sql);
	}
	if (!*out || (tail && !only_space(tail))) {
		sqlite3_finalize(*out);
		*out = NULL;
		return fail(db, -EINVAL, "expected exactly one statement [%.80s]", sql);
	}
	return 0;
}

/* The slot a new statement may take: a free one, else the least recently
 * used statement nobody holds (finalized), else none. */
static struct cached *free_slot(struct db *db)
{
	struct cached *victim = NULL;

	if (db->n_cached < db->max_cached)
		return &db->cache[db->n_cached++];
	for (size_t i = 0; i < db->n_cached; i++) {
		struct cached *c = &db->cache[i];
		if (!c->in_use && (!victim || c->last_used < victim->last_used))
			victim = c;
	}
	if (victim) {
		sqlite3_finalize(victim->stmt);
		free(victim->sql);
		memset(victim, 0, sizeof *victim);
		db->stats.evictions++;
	}
	return victim;
}

int db_prepare(struct db *db, const char *sql, sqlite3_stmt **out)
{
	uint32_t h = fnv1a(sql);
	struct cached *slot;
	char *key;
	int busy = 0, rc;

	*out = NULL;
	for (size_t i = 0; i < db->n_cached; i++) {
		struct cached *c = &db->cache[i];
		if (c->hash != h || strcmp(c->sql, sql) != 0)
			continue;
		if (c->in_use) {
			busy = 1;   /* a nested user: give it a private copy */
			break;
		}
		c->in_use = 1;
		c->last_used = ++db->clock;
		db->stats.hits++;
		*out = c->stmt;
		return 0;
	}
	db->stats.misses++;
	if (busy)
		return prepare_raw(db, sql, 0, out);
	rc = prepare_raw(db, sql, SQLITE_PREPARE_PERSISTENT, out);
	if (rc)
		return rc;
	key = strdup(sql);
	slot = key ? free_slot(db) : NULL;
	if (!slot) {
		free(key);  /* served uncached; db_done finalizes it */
		return 0;
	}
	*slot = (struct cached){ .sql = key, .hash = h, .stmt = *out, .in_use = 1,
				 .last_used = ++db->clock };
	return 0;
}

void db_done(struct db *db, sqlite3_stmt *stmt)
{
	if (!stmt)
		return;
	for (size_t i = 0; i < db->n_cached; i++) {
		if (db->cache[i].stmt == stmt) {
			sqlite3_reset(stmt);
			sqlite3_clear_bindings(stmt);
			db->cache[i].in_use = 0;
			return;
		}
	}
	sqlite3_finalize(stmt);
}

int db_step(struct db *db, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return fail_sqlite(db, rc, sqlite3_sql(stmt));
}

int db_run(struct db *db, const char *sql)
{
	sqlite3_stmt *s;
	int rc = db_prepare(db, sql, &s);

	if (rc == 0)
		while ((rc = db_step(db, s)) == 1)
			;
	db_done(db, s);
	return rc;
}

int db_exec(struct db *db, const char *sql)
{
	int rc = sqlite3_exec(db->conn, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail_sqlite(db, rc, NULL);
}

/* Reads a one-integer PRAGMA. */
static int pragma_int(struct db *db, const char *sql, int *value)
{
	sqlite3_stmt *s;
	int rc = db_prepare(db, sql, &s);

	if (rc == 0 && (rc = db_step(db, s)) == 1) {
		*value = sqlite3_column_int(s, 0);
		rc = 0;
	} else if (rc == 0) {
		rc = fail(db, -EIO, "%s returned nothing", sql);
	}
	db_done(db, s);
	return rc;
}

int db_version(struct db *db, int *version)
{
	return pragma_int(db, "PRAGMA user_version", version);
}

/* ---------------------------------------------------------- transactions */

int db_begin(struct db *db)
{
	int rc = db_run(db, db->depth ? "SAVEPOINT db_nested" : "BEGIN IMMEDIATE");

	if (rc == 0)
		db->depth++;
	return rc;
}

/* After some errors (disk full, I/O) SQLite rolls the whole transaction
 * back by itself: the levels still open only have to be unwound. */
static int vanished(const struct db *db)
{
	return sqlite3_get_autocommit(db->conn);
}

int db_commit(struct db *db)
{
	char saved[DB_ERRMSG_MAX];
	int rc;

	if (db->depth == 0)
		return fail(db, -EINVAL, "commit without a transaction");
	if (vanished(db)) {
		db->depth--;
		return fail(db, -ECANCELED, "transaction already rolled back after an error");
	}
	if (db->depth > 1) {
		rc = db_run(db, "RELEASE db_nested");
		if (rc == 0)
			db->depth--;
		return rc;
	}
	rc = db_run(db, "COMMIT");
	if (rc && !vanished(db)) {
		/* Not committed: leave the connection clean, keep the reason. */
		memcpy(saved, db->err, sizeof saved);
		db_run(db, "ROLLBACK");
		memcpy(db->err, saved, sizeof saved);
	}
	db->depth = 0;
	return rc;
}

int db_rollback(struct db *db)
{
	int rc = 0;

	if (db->depth == 0)
		return fail(db, -EINVAL, "rollback without a transaction");
	if (vanished(db)) {
		db->depth--;
		return 0;
	}
	if (db->depth > 1) {
		rc = db_run(db, "ROLLBACK TO db_nested");
		if (rc == 0)
			rc = db_run(db, "RELEASE db_nested");
		db->depth--;
		return rc;
	}
	rc = db_run(db, "ROLLBACK");
	db->depth = 0;
	return rc;
}

/* ------------------------------------------------------------- open/close */

static const char *sync_pragma(enum db_sync s)
{
	switch (s) {
	case DB_SYNC_FULL: return "PRAGMA synchronous=FULL";
	case DB_SYNC_NORMAL: return "PRAGMA synchronous=NORMAL";
	case DB_SYNC_OFF: return "PRAGMA synchronous=OFF";
	case DB_SYNC_EXTRA: return "PRAGMA synchronous=EXTRA";
	}
	return NULL;
}

static int set_journal_wal(struct db *db, const char *path)
{
	sqlite3_stmt *s;
	int rc = db_prepare(db, "PRAGMA journal_mode=WAL", &s);

	if (rc == 0 && (rc = db_step(db, s)) == 1) {
		const char *mode = (const char *)sqlite3_column_text(s, 0);
		/* An in-memory database reports "memory"; anything else means
		 * the file system cannot do WAL (no shared memory). */
		if (mode && strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)
			log_warn("%s: WAL not available, journal mode is %s", path, mode);
		rc = 0;
	}
	db_done(db, s);
	return rc;
}

static int configure(struct db *db, const struct db_options *opt, const char *path)
{
	const char *sync = sync_pragma(opt->sync);
	int rc;

	if (!sync)
		return fail(db, -EINVAL, "invalid synchronous setting %d", (int)opt->sync);
	sqlite3_extended_result_codes(db->conn, 1);
	sqlite3_busy_timeout(db->conn, opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms
					: DB_DEFAULT_BUSY_MS);
	rc = set_journal_wal(db, path);
	if (rc == 0)
		rc = db_run(db, "PRAGMA foreign_keys=ON");
	if (rc == 0)
		rc = db_run(db, sync);
	return rc;
}

static int check_migrations(struct db *db, const struct db_options *opt)
{
	int prev = 0;

	for (size_t i = 0; i < opt->n_migrations; i++) {
		const struct db_migration *m = &opt->migrations[i];
		if (m->version <= prev || !m->sql)
			return fail(db, -EINVAL, "migration list broken at entry %zu (version %d)",
				    i, m->version);
		prev = m->version;
	}
	return 0;
}

static int check_version(struct db *db, const char *path, int have, int want)
{
	if (have > want)
		return fail(db, -ENOTSUP, "%s: database schema version %d is newer than this "
			    "program supports (%d); refusing to open it", path, have, want);
	if (have < 0)
		return fail(db, -EBADMSG, "%s: invalid schema version %d", path, have);
	return 0;
}

static int check_app_id(struct db *db, const char *path, int32_t want, int *have)
{
	int rc = pragma_int(db, "PRAGMA application_id", have);

	if (rc == 0 && want && *have && *have != want)
		rc = fail(db, -EBADMSG, "%s: not a database of this program (application_id "
			  "0x%08x, expected 0x%08x)", path, (unsigned)*have, (unsigned)want);
	return rc;
}

/* PRAGMAs take no parameters: these integers come from the program's own
 * tables, never from outside. */
static int set_pragma_int(struct db *db, const char *name, int value)
{
	char sql[64];

	snprintf(sql, sizeof sql, "PRAGMA %s=%d", name, value);
	return db_exec(db, sql);
}

static int apply_steps(struct db *db, const struct db_options *opt, const char *path, int from)
{
	char saved[DB_ERRMSG_MAX];
	int rc = 0, last = from;

	for (size_t i = 0; i < opt->n_migrations && rc == 0; i++) {
		const struct db_migration *m = &opt->migrations[i];
		if (m->version <= from)
			continue;
		rc = db_exec(db, m->sql);
		if (rc) {
			memcpy(saved, db->err, sizeof saved);
			fail(db, rc, "%s: migration %d failed: %s", path, m->version, saved);
		}
		last = m->version;
	}
	if (rc == 0 && last != from)
		rc = set_pragma_int(db, "user_version", last);
	return rc;
}

/* All pending steps in one transaction: on failure the file is as before.
 * The version is read again under the write lock, in case another process
 * migrated the file in the meantime. */
static int migrate(struct db *db, const struct db_options *opt, const char *path)
{
	int want = opt->n_migrations ? opt->migrations[opt->n_migrations - 1].version : 0;
	int have, app, rc;

	/* Another program's file first: its version number means nothing. */
	rc = check_migrations(db, opt);
	if (rc == 0)
		rc = check_app_id(db, path, opt->application_id, &app);
	if (rc == 0)
		rc = db_version(db, &have);
	if (rc == 0)
		rc = check_version(db, path, have, want);
	/* Nothing to write: up to date and the application id in place (a
	 * file without one is adopted). */
	if (rc || (have == want && (app || !opt->application_id)))
		return rc;

	rc = db_begin(db);
	if (rc == 0)
		rc = check_app_id(db, path, opt->application_id, &app);
	if (rc == 0)
		rc = db_version(db, &have);
	if (rc == 0)
		rc = check_version(db, path, have, want);
	if (rc == 0 && opt->application_id && !app)
		rc = set_pragma_int(db, "application_id", opt->application_id);
	if (rc == 0)
		rc = apply_steps(db, opt, path, have);
	if (rc == 0)
		return db_commit(db);
	if (db->depth)
		db_rollback(db);
	return rc;
}

static int open_conn(struct db *db, const char *path)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(path, &db->conn, flags, NULL);
	int sys;

	if (rc == SQLITE_OK)
		return 0;
	sys = db->conn ? sqlite3_system_errno(db->conn) : 0;
	return fail(db, sys > 0 ? -sys : db_errno(rc), "%s: cannot open: %s", path,
		    db->conn ? sqlite3_errmsg(db->conn) : sqlite3_errstr(rc));
}

int db_open(const char *path, const struct db_options *opt, struct db **out,
	    char *err, size_t errsize)
{
	static const struct db_options defaults;
	struct db *db;
	int rc;

	*out = NULL;
	if (!opt)
		opt = &defaults;
	db = calloc(1, sizeof *db);
	if (db) {
		db->max_cached = opt->stmt_cache ? opt->stmt_cache : DB_DEFAULT_CACHE;
		db->cache = calloc(db->max_cached, sizeof *db->cache);
	}
	if (!db || !db->cache) {
		free(db);
		if (err)
			snprintf(err, errsize, "out of memory");
		return -ENOMEM;
	}
	if (!path)
		rc = fail(db, -EINVAL, "no database path");
	else
		rc = open_conn(db, path);
	if (rc == 0)
		rc = configure(db, opt, path);
	if (rc == 0)
		rc = migrate(db, opt, path);
	if (rc) {
		if (err)
			snprintf(err, errsize, "%s", db->err);
		db_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	if (db->depth)
		log_warn("database closed inside a transaction: rolled back");
	for (size_t i = 0; i < db->n_cached; i++) {
		if (db->cache[i].in_use)
			log_warn("database closed with a statement in use [%.80s]", db->cache[i].sql);
		sqlite3_finalize(db->cache[i].stmt);
		free(db->cache[i].sql);
	}
	/* v2: a statement a caller still holds keeps the connection alive until
	 * it is finalized, instead of the close failing. */
	sqlite3_close_v2(db->conn);
	free(db->cache);
	free(db);
}
