/* Unit tests: the SQLite layer. Migrations (fresh, incremental, a newer
 * file, a failing step), the statement cache, transactions, errors. Files
 * go into a mkdtemp directory removed at the end. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/db.h"

struct scratch {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct scratch *s = calloc(1, sizeof *s);

	snprintf(s->dir, sizeof s->dir, "/tmp/evctl-test-db-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->path, sizeof s->path, "%s/test.db", s->dir);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct scratch *s = *state;
	char file[512];
	struct dirent *e;
	DIR *d = opendir(s->dir);

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(file, sizeof file, "%s/%s", s->dir, e->d_name);
		unlink(file);
	}
	if (d)
		closedir(d);
	rmdir(s->dir);
	free(s);
	return 0;
}

static const struct db_migration v1[] = {
	{ 1, "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);" },
};
static const struct db_migration v2[] = {
	{ 1, "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);" },
	/* Fails if applied twice: the column would exist already. */
	{ 2, "ALTER TABLE item ADD COLUMN colour TEXT;"
	     "CREATE TABLE tag (item INTEGER NOT NULL REFERENCES item(id), tag TEXT);" },
};
static const struct db_migration v3_broken[] = {
	{ 1, "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);" },
	{ 2, "ALTER TABLE item ADD COLUMN colour TEXT;"
	     "CREATE TABLE tag (item INTEGER NOT NULL REFERENCES item(id), tag TEXT);" },
	{ 3, "CREATE TABLE extra (x INTEGER);"
	     "INSERT INTO item(name) VALUES ('from step 3');"
	     "THIS IS NOT SQL;" },
};

#define N(a) (sizeof (a) / sizeof (a)[0])

static int open_with(const char *path, const struct db_migration *m, size_t n,
		     struct db **out, char *err, size_t errsize)
{
	struct db_options opt = { .migrations = m, .n_migrations = n };
	return db_open(path, &opt, out, err, errsize);
}

static int version_of(struct db *db)
{
	int v = -1;
	assert_int_equal(db_version(db, &v), 0);
	return v;
}

static int table_exists(struct db *db, const char *name)
{
	sqlite3_stmt *s;
	int rc;

	assert_int_equal(db_prepare(db, "SELECT 1 FROM sqlite_master WHERE type = 'table'"
				    " AND name = ?1", &s), 0);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = db_step(db, s);
	db_done(db, s);
	assert_true(rc >= 0);
	return rc == 1;
}

static int pragma(struct db *db, const char *sql, char *out, size_t size)
{
	sqlite3_stmt *s;
	int rc;

	assert_int_equal(db_prepare(db, sql, &s), 0);
	rc = db_step(db, s);
	assert_int_equal(rc, 1);
	snprintf(out, size, "%s", (const char *)sqlite3_column_text(s, 0));
	db_done(db, s);
	return 0;
}

static void test_fresh(void **state)
{
	struct scratch *s = *state;
	struct db *db;
	char err[DB_ERRMSG_MAX], val[32];

	assert_int_equal(open_with(s->path, v2, N(v2), &db, err, sizeof err), 0);
	assert_int_equal(version_of(db), 2);
	assert_true(table_exists(db, "item"));
	assert_true(table_exists(db, "tag"));
	/* The connection settings. */
	pragma(db, "PRAGMA journal_mode", val, sizeof val);
	assert_string_equal(val, "wal");
	pragma(db, "PRAGMA foreign_keys", val, sizeof val);
	assert_string_equal(val, "1");
	pragma(db, "PRAGMA synchronous", val, sizeof val);
	assert_string_equal(val, "2");  /* FULL */
	assert_int_equal(db_tx_depth(db), 0);
	db_close(db);

	/* synchronous is configurable. */
	struct db_options opt = { .sync = DB_SYNC_NORMAL };
	assert_int_equal(db_open(s->path, &opt, &db, err, sizeof err), -ENOTSUP);
	opt.migrations = v2;
	opt.n_migrations = N(v2);
	assert_int_equal(db_open(s->path, &opt, &db, err, sizeof err), 0);
	pragma(db, "PRAGMA synchronous", val, sizeof val);
	assert_string_equal(val, "1");
	db_close(db);
}

static void test_incremental(void **state)
{
	struct scratch *s = *state;
	struct db *db;
	char err[DB_ERRMSG_MAX];

	assert_int_equal(open_with(s->path, v1, N(v1), &db, err, sizeof err), 0);
	assert_int_equal(version_of(db), 1);
	assert_false(table_exists(db, "tag"));
	assert_int_equal(db_exec(db, "INSERT INTO item(name) VALUES ('kept')"), 0);
	db_close(db);

	/* Only step 2 runs (step 1 again would fail: the table exists). */
	assert_int_equal(open_with(s->path, v2, N(v2), &db, err, sizeof err), 0);
	assert_int_equal(version_of(db), 2);
	assert_true(table_exists(db, "tag"));
	assert_int_equal(db_run(db, "UPDATE item SET colour = 'red' WHERE name = 'kept'"), 0);
	assert_int_equal(db_changes(db), 1);
	db_close(db);

	/* Up to date: nothing runs. */
	assert_int_equal(open_with(s->path, v2, N(v2), &db, err, sizeof err), 0);
	assert_int_equal(version_of(db), 2);
	db_close(db);
}

static void test_newer_refused(void **state)
{
	struct scratch *s = *state;
	struct db *db;
	char err[DB_ERRMSG_MAX];

	assert_int_equal(open_with(s->path, v2, N(v2), &db, err, sizeof err), 0);
	db_close(db);
	db = (struct db *)1;
	assert_int_equal(open_with(s->path, v1, N(v1), &db, err, sizeof err), -ENOTSUP);
	assert_null(db);
	assert_non_null(strstr(err, "newer"));
	assert_non_null(strstr(err, "version 2"));
	/* Untouched. */
	assert_int_equal(open_with(s->path, v2, N(v2), &db, err, sizeof err), 0);
	assert_int_equal(version_of(db), 2);
	db_close(db);
}

static void test_failing_migration_rolls_back(void **state)
{
	struct scratch *s = *state;
	struct db *db;
	char err[DB_ERRMSG_MAX];

	/* From version 1, steps 2 and 3 are pending; 3 fails: neither stays. */
	assert_int_equal(open_with(s->path, v1, N(v1), &db, err, sizeof err), 0);
	db_close(db);
	assert_true(open_with(s->path, v3_broken, N(v3_broken), &db, err, sizeof err) < 0);
	assert_null(db);
	assert_non_null(strstr(err, "migration 3 failed"));
	assert_non_null(strstr(err, "syntax error"));

	assert_int_equal(open_with(s->path, v1, N(v1), &db, err, sizeof err), 0);
	assert_int_equal(version_of(db), 1);
	assert_false(table_exists(db, "tag"));
	assert_false(table_exists(db, "extra"));
	assert_int_equal(db_run(db, "DELETE FROM item WHERE name = 'from step 3'"), 0);
	assert_int_equal(db_changes(db), 0);
	db_close(db);

	/* A fresh file that fails stays empty. */
	unlink(s->path);
	assert_true(open_with(s->path, v3_broken, N(v3_broken), &db, err, sizeof err) < 0);
	assert_int_equal(open_with(s->path, NULL, 0, &db, err, sizeof err), 0);
	assert_int_equal(version_of(db), 0);
	assert_false(table_exists(db, "item"));
	db_close(db);
}

static void test_bad_open(void **state)
{
	struct scratch *s = *state;
	static const struct db_migration unordered[] = { { 2, "SELECT 1;" }, { 1, "SELECT 1;" } };
	struct db_options opt = { .application_id = 0x1234 };
	char err[DB_ERRMSG_MAX], path[256];
	struct db *db;
	FILE *f;

	assert_int_equal(open_with(s->path, unordered, N(unordered), &db, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "migration list"));

	/* Another application's file. */
	assert_int_equal(db_open(s->path, &opt, &db, err, sizeof err), 0);
	db_close(db);
	opt.application_id = 0x5678;
	assert_int_equal(db_open(s->path, &opt, &db, err, sizeof err), -EBADMSG);
	assert_non_null(strstr(err, "application_id"));

	/* Not a database at all. */
	snprintf(path, sizeof path, "%s/garbage.db", s->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite file\n", f);
	fclose(f);
	assert_int_equal(db_open(path, NULL, &db, err, sizeof err), -EBADMSG);
	assert_non_null(strstr(err, "not a database"));

	/* A directory that does not exist. */
	snprintf(path, sizeof path, "%s/no/such/dir.db", s->dir);
	assert_true(db_open(path, NULL, &db, err, sizeof err) < 0);
	assert_non_null(strstr(err, "cannot open"));

	/* Invalid settings, no path. */
	opt = (struct db_options){ .sync = (enum db_sync)42 };
	assert_int_equal(db_open(s->path, &opt, &db, err, sizeof err), -EINVAL);
	assert_int_equal(db_open(NULL, NULL, &db, NULL, 0), -EINVAL);
}

static void test_stmt_cache(void **state)
{
	struct scratch *s = *state;
	struct db_options opt = { .stmt_cache = 2, .migrations = v1, .n_migrations = N(v1) };
	const char *q1 = "SELECT count(*) FROM item";
	struct db_stats st0, st;
	sqlite3_stmt *a, *b, *c;
	char err[DB_ERRMSG_MAX];
	struct db *db;

	assert_int_equal(db_open(s->path, &opt, &db, err, sizeof err), 0);
	db_get_stats(db, &st0);

	/* Same text, statement given back: the same statement again. */
	assert_int_equal(db_prepare(db, q1, &a), 0);
	assert_int_equal(db_step(db, a), 1);
	db_done(db, a);
	assert_int_equal(db_prepare(db, q1, &b), 0);
	assert_ptr_equal(a, b);
	/* Still reset: it steps from the start. */
	assert_int_equal(db_step(db, b), 1);
	assert_int_equal(sqlite3_column_int(b, 0), 0);
	db_get_stats(db, &st);
	assert_int_equal(st.hits, st0.hits + 1);

	/* While in use, a nested user gets a private copy, finalized by done
	 * (the sanitizer would report a leak otherwise). */
	assert_int_equal(db_prepare(db, q1, &c), 0);
	assert_ptr_not_equal(b, c);
	db_done(db, c);
	db_done(db, b);

	/* Over capacity: the least recently used statement goes. */
	db_get_stats(db, &st0);
	assert_int_equal(db_run(db, "SELECT 1"), 0);
	assert_int_equal(db_run(db, "SELECT 2"), 0);
	assert_int_equal(db_run(db, "SELECT 3"), 0);
	db_get_stats(db, &st);
	assert_true(st.evictions > st0.evictions);
	assert_true(st.cached <= 2);

	/* All slots held: still served, uncached. */
	assert_int_equal(db_prepare(db, "SELECT 10", &a), 0);
	assert_int_equal(db_prepare(db, "SELECT 11", &b), 0);
	assert_int_equal(db_prepare(db, "SELECT 12", &c), 0);
	assert_int_equal(db_step(db, c), 1);
	assert_int_equal(sqlite3_column_int(c, 0), 12);
	db_done(db, c);
	db_done(db, b);
	db_done(db, a);

	/* One statement at a time; errors are words, not aborts. */
	assert_int_equal(db_prepare(db, "SELECT 1; SELECT 2", &a), -EINVAL);
	assert_null(a);
	assert_non_null(strstr(db_errmsg(db), "one statement"));
	assert_int_equal(db_prepare(db, "SELEKT 1", &a), -EINVAL);
	assert_non_null(strstr(db_errmsg(db), "syntax error"));
	assert_int_equal(db_prepare(db, "SELECT * FROM nowhere", &a), -EINVAL);
	assert_non_null(strstr(db_errmsg(db), "no such table"));
	db_close(db);
}

static int count_items(struct db *db)
{
	sqlite3_stmt *s;
	int n;

	assert_int_equal(db_prepare(db, "SELECT count(*) FROM item", &s), 0);
	assert_int_equal(db_step(db, s), 1);
	n = sqlite3_column_int(s, 0);
	db_done(db, s);
	return n;
}

static void test_transactions(void **state)
{
	struct scratch *s = *state;
	char err[DB_ERRMSG_MAX];
	struct db *db;

	assert_int_equal(open_with(s->path, v2, N(v2), &db, err, sizeof err), 0);

	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_run(db, "INSERT INTO item(name) VALUES ('a')"), 0);
	assert_int_equal(db_rollback(db), 0);
	assert_int_equal(count_items(db), 0);

	/* Nested: the inner level rolls back alone. */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_run(db, "INSERT INTO item(name) VALUES ('outer')"), 0);
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_tx_depth(db), 2);
	assert_int_equal(db_run(db, "INSERT INTO item(name) VALUES ('inner')"), 0);
	assert_int_equal(db_rollback(db), 0);
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_run(db, "INSERT INTO item(name) VALUES ('inner 2')"), 0);
	assert_int_equal(db_commit(db), 0);
	assert_int_equal(db_commit(db), 0);
	assert_int_equal(db_tx_depth(db), 0);
	assert_int_equal(count_items(db), 2);

	/* Misuse is an error, not a crash. */
	assert_int_equal(db_commit(db), -EINVAL);
	assert_int_equal(db_rollback(db), -EINVAL);

	/* Constraint failures map to errno values. */
	assert_int_equal(db_run(db, "INSERT INTO item(name) VALUES ('outer')"), -EEXIST);
	assert_non_null(strstr(db_errmsg(db), "UNIQUE"));
	assert_int_equal(db_run(db, "INSERT INTO tag(item, tag) VALUES (999, 'x')"), -ENOENT);
	assert_int_equal(db_run(db, "INSERT INTO item(name) VALUES (NULL)"), -EINVAL);
	assert_int_equal(db_errno(SQLITE_BUSY), -EBUSY);
	assert_int_equal(db_errno(SQLITE_FULL), -ENOSPC);
	assert_int_equal(db_errno(SQLITE_DONE), 0);

	/* Closing inside a transaction rolls it back. */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_run(db, "INSERT INTO item(name) VALUES ('lost')"), 0);
	db_close(db);
	assert_int_equal(open_with(s->path, v2, N(v2), &db, err, sizeof err), 0);
	assert_int_equal(count_items(db), 2);
	db_close(db);
}

static void test_memory_db(void **state)
{
	struct db *db;
	char err[DB_ERRMSG_MAX];
	(void)state;

	assert_int_equal(open_with(":memory:", v2, N(v2), &db, err, sizeof err), 0);
	assert_int_equal(version_of(db), 2);
	assert_non_null(db_handle(db));
	assert_int_equal(db_run(db, "INSERT INTO item(name) VALUES ('m')"), 0);
	assert_int_equal(db_last_rowid(db), 1);
	db_close(db);
	db_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incremental, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_migration_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stmt_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test(test_memory_db),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
