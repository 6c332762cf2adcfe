/* The SQLite layer shared by the station and the central system.
 *
 * - db_open sets the connection up (WAL, busy timeout, foreign keys,
 *   synchronous) and brings the schema up to date from the caller's static
 *   list of numbered migrations. All pending steps run in one transaction:
 *   a failing step leaves the file exactly as it was. The version applied is
 *   PRAGMA user_version; a file newer than the code is refused.
 * - db_prepare hands out prepared statements from a small cache keyed by
 *   the SQL text; give each back with db_done. Only prepared statements
 *   with bound parameters: SQL is never built from data.
 * - db_begin/db_commit/db_rollback nest: the outermost level is a real
 *   transaction (BEGIN IMMEDIATE), inner levels are savepoints. Work is
 *   durable (per the synchronous setting) once the outermost commit
 *   returns 0.
 *
 * Errors are negative errno values; db_errmsg says what went wrong in words.
 * A struct db is one SQLite connection: use it from one thread at a time,
 * and never across fork(). */
#ifndef EV_STORE_DB_H
#define EV_STORE_DB_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

struct db;

/* One schema step. Versions start at 1 and increase; sql may hold several
 * statements. Steps are never edited once released: add a new one. */
struct db_migration {
	int version;
	const char *sql;
};

/* PRAGMA synchronous. FULL (the default) makes a commit survive a power
 * cut; NORMAL in WAL mode survives a crash of the process only. */
enum db_sync { DB_SYNC_FULL = 0, DB_SYNC_NORMAL, DB_SYNC_OFF, DB_SYNC_EXTRA };

struct db_options {
	enum db_sync sync;
	int busy_timeout_ms;            /* 0: DB_DEFAULT_BUSY_MS */
	unsigned stmt_cache;            /* statements kept; 0: DB_DEFAULT_CACHE */
	int32_t application_id;         /* 0: neither checked nor set */
	const struct db_migration *migrations;
	size_t n_migrations;
};

#define DB_DEFAULT_BUSY_MS 5000
#define DB_DEFAULT_CACHE 64
#define DB_ERRMSG_MAX 512

/* Opens (creating if need be) and migrates path (":memory:" works too).
 * opt may be NULL for the defaults and no schema. Returns 0 and *out, or a
 * negative errno with the reason in err (if not NULL) and *out NULL:
 * -ENOTSUP for a schema newer than the migrations, -EBADMSG for a file that
 * is not a database or belongs to another application (application_id),
 * -EINVAL for a broken migration list, or what SQLite reported. */
int db_open(const char *path, const struct db_options *opt, struct db **out,
	    char *err, size_t errsize);
/* Finalizes the cached statements and closes; an open transaction is
 * rolled back. NULL is fine. */
void db_close(struct db *db);

/* The last error in words ("" if none yet). Valid until the next call. */
const char *db_errmsg(const struct db *db);
/* Records an error of a layer above (a bad argument, say) so that db_errmsg
 * reports it; returns rc. */
int db_set_error(struct db *db, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The schema version of the file (PRAGMA user_version). */
int db_version(struct db *db, int *version);
sqlite3 *db_handle(struct db *db);

/* Runs SQL without results (several statements allowed). Only for fixed
 * SQL text: nothing from outside may be pasted into it. */
int db_exec(struct db *db, const char *sql);

/* A prepared statement for sql (exactly one statement), from the cache if
 * possible, with no bindings. The caller binds, steps and then must call
 * db_done, which resets it for the next user. A statement still in use is
 * never handed out twice: a nested user of the same SQL gets a private copy,
 * which db_done finalizes. */
int db_prepare(struct db *db, const char *sql, sqlite3_stmt **out);
void db_done(struct db *db, sqlite3_stmt *stmt);
/* sqlite3_step: 1 for a row, 0 when done, or a negative errno (message
 * recorded). */
int db_step(struct db *db, sqlite3_stmt *stmt);
/* Prepare, bind nothing, step to the end, done: for fixed statements. */
int db_run(struct db *db, const char *sql);

int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);
/* Nesting depth of db_begin (0: none open). */
int db_tx_depth(const struct db *db);

/* Rows changed by the last statement, and the last rowid inserted. */
int db_changes(struct db *db);
int64_t db_last_rowid(struct db *db);

/* Statement cache counters (for tests and statistics). */
struct db_stats {
	unsigned long hits, misses, evictions;
	size_t cached;
};
void db_get_stats(const struct db *db, struct db_stats *out);

/* SQLite result code -> negative errno (0 for OK, ROW, DONE). Constraint
 * failures: -EEXIST for a primary key or unique index, -ENOENT for a
 * foreign key (the row referred to does not exist), -EINVAL otherwise. */
int db_errno(int sqlite_rc);

#endif
