/* Unit tests: the central system's usage store. Schema and reopening,
 * stations and their JSON, connector status and history, sessions (re-sent
 * starts and stops, meter values, energy, list filters), token checks for
 * every answer, audit, message log, API clients, and store calls inside a
 * caller's transaction. Files go into a mkdtemp directory removed at the
 * end. */
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

#include "csms/store.h"
#include "station/stationdb.h"
#include "store/db.h"

/* The number of store.c's migrations: a new one changes it here. */
#define STORE_LATEST 4

/* 2026-11-22T10:00:00Z */
#define T0 ((time_t)1795341600)

struct fixture {
	char dir[64];
	char path[128];
	struct db *db;
};

static void open_store(struct fixture *f)
{
	char err[DB_ERRMSG_MAX];

	if (store_open(f->path, DB_SYNC_NORMAL, &f->db, err, sizeof err))
		fail_msg("open %s: %s", f->path, err);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/evctl-test-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/usage.db", f->dir);
	open_store(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char file[512];
	struct dirent *e;
	DIR *d;

	db_close(f->db);
	d = opendir(f->dir);
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(file, sizeof file, "%s/%s", f->dir, e->d_name);
		unlink(file);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Compares got (consumed) with the JSON text want. */
static void expect_json(json_t *got, const char *want)
{
	json_error_t e;
	json_t *w = json_loads(want, 0, &e);
	char *g, *ws;

	if (!w)
		fail_msg("bad expectation at %d: %s", e.position, e.text);
	if (!got)
		fail_msg("got NULL, expected %s", want);
	if (!json_equal(got, w)) {
		g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
		ws = json_dumps(w, JSON_SORT_KEYS | JSON_COMPACT);
		print_error("got      %s\nexpected %s\n", g, ws);
		free(g);
		free(ws);
		json_decref(got);
		json_decref(w);
		fail();
	}
	json_decref(got);
	json_decref(w);
}

/* The member path ("sessions", 1, "id") of j, borrowed. */
static json_t *at(json_t *j, const char *key, int index)
{
	json_t *v = json_object_get(j, key);

	return index >= 0 ? json_array_get(v, (size_t)index) : v;
}

static int64_t count_rows(struct db *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t n = -1;

	assert_int_equal(db_prepare(db, sql, &s), 0);
	if (db_step(db, s) == 1)
		n = sqlite3_column_int64(s, 0);
	db_done(db, s);
	return n;
}

static int64_t start(struct db *db, const char *station, int connector, const char *tag,
		     int64_t meter, time_t t, int *dup)
{
	struct store_start st = { .station = station, .id_tag = tag, .connector = connector,
				  .meter_start = meter, .time = t };
	int64_t id = 0;

	assert_int_equal(store_session_start(db, &st, &id, dup), 0);
	return id;
}

static int stop(struct db *db, const char *station, int64_t tx, int64_t meter, time_t t,
		const char *reason)
{
	struct store_stop st = { .station = station, .transaction = tx, .meter_stop = meter,
				 .time = t, .reason = reason };

	return store_session_stop(db, &st);
}

/* ---------------------------------------------------------------- tests */

static void test_open_reopen(void **state)
{
	struct fixture *f = *state;
	char err[DB_ERRMSG_MAX];
	struct store_station st;
	struct db *other;
	int v;

	assert_int_equal(db_version(f->db, &v), 0);
	assert_int_equal(v, STORE_LATEST);
	assert_int_equal(count_rows(f->db, "PRAGMA application_id"), 0x45564353);
	assert_int_equal(store_station_add(f->db, "CP-1", REG_ACCEPTED, NULL, T0), 0);

	db_close(f->db);
	open_store(f);
	assert_int_equal(db_version(f->db, &v), 0);
	assert_int_equal(v, STORE_LATEST);
	assert_int_equal(store_station_get(f->db, "CP-1", &st), 0);

	/* A station's database is not a usage store, nor the other way round. */
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(stationdb_open(f->path, &other, err, sizeof err), -EBADMSG);
	assert_null(other);
	open_store(f);

	/* ":memory:" works too. */
	assert_int_equal(store_open(":memory:", DB_SYNC_OFF, &other, err, sizeof err), 0);
	assert_int_equal(db_version(other, &v), 0);
	assert_int_equal(v, STORE_LATEST);
	db_close(other);
}

static void test_names(void **state)
{
	enum registration r;
	enum token_status t;

	(void)state;
	assert_string_equal(registration_name(REG_PENDING), "pending");
	assert_int_equal(registration_parse("rejected", &r), 0);
	assert_int_equal(r, REG_REJECTED);
	assert_int_equal(registration_parse("Accepted", &r), 0);
	assert_int_equal(r, REG_ACCEPTED);
	assert_int_equal(registration_parse("maybe", &r), -EINVAL);
	assert_int_equal(registration_parse(NULL, &r), -EINVAL);

	assert_string_equal(token_status_name(TOKEN_CONCURRENT_TX), "ConcurrentTx");
	assert_string_equal(token_status_name(TOKEN_EXPIRED), "Expired");
	assert_int_equal(token_status_parse("Blocked", &t), 0);
	assert_int_equal(t, TOKEN_BLOCKED);
	assert_int_equal(token_status_parse("ConcurrentTx", &t), -EINVAL);
	assert_int_equal(token_status_parse("", &t), -EINVAL);
}

static void test_stations(void **state)
{
	struct fixture *f = *state;
	struct store_station st;

	assert_int_equal(store_station_add(f->db, "CP-1", REG_ACCEPTED, NULL, T0), 0);
	assert_int_equal(store_station_add(f->db, "CP-2", REG_PENDING, "hash-2", T0), 0);
	assert_int_equal(store_station_add(f->db, "CP-1", REG_REJECTED, NULL, T0), -EEXIST);
	assert_non_null(strstr(db_errmsg(f->db), "exists"));
	assert_int_equal(store_station_add(f->db, "", REG_ACCEPTED, NULL, T0), -EINVAL);
	assert_int_equal(store_station_add(f->db, NULL, REG_ACCEPTED, NULL, T0), -EINVAL);
	assert_int_equal(store_station_add(f->db, "bad\xff", REG_ACCEPTED, NULL, T0), -EINVAL);

	assert_int_equal(store_station_get(f->db, "CP-1", &st), 0);
	assert_true(st.rowid > 0);
	assert_int_equal(st.registration, REG_ACCEPTED);
	assert_string_equal(st.password_hash, "");
	assert_int_equal(st.booted, 0);
	assert_int_equal(store_station_get(f->db, "CP-2", &st), 0);
	assert_int_equal(st.registration, REG_PENDING);
	assert_string_equal(st.password_hash, "hash-2");
	assert_int_equal(store_station_get(f->db, "CP-3", &st), -ENOENT);
	assert_int_equal(store_station_get(f->db, NULL, &st), -ENOENT);

	assert_int_equal(store_station_set_password(f->db, "CP-1", "hash-1"), 0);
	assert_int_equal(store_station_set_password(f->db, "CP-2", NULL), 0);
	assert_int_equal(store_station_set_registration(f->db, "CP-2", REG_REJECTED), 0);
	assert_int_equal(store_station_set_password(f->db, "CP-3", "x"), -ENOENT);
	assert_int_equal(store_station_set_registration(f->db, "CP-3", REG_PENDING), -ENOENT);
	assert_int_equal(store_station_get(f->db, "CP-1", &st), 0);
	assert_string_equal(st.password_hash, "hash-1");
	assert_int_equal(store_station_get(f->db, "CP-2", &st), 0);
	assert_string_equal(st.password_hash, "");
	assert_int_equal(st.registration, REG_REJECTED);

	/* Removing a station keeps its sessions and history, not its
	 * connectors. */
	struct store_status s = { .connector = 1, .status = "Available", .time = T0 };
	assert_int_equal(store_status_add(f->db, "CP-1", &s, T0), 0);
	int64_t id = start(f->db, "CP-1", 1, "TAG-1", 0, T0, NULL);
	assert_int_equal(store_station_remove(f->db, "CP-1"), 0);
	assert_int_equal(store_station_remove(f->db, "CP-1"), -ENOENT);
	assert_int_equal(store_station_get(f->db, "CP-1", &st), -ENOENT);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM sessions"), 1);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM status_history"), 1);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM connectors"), 0);
	assert_int_equal(store_session_active(f->db, "CP-1", 1), id);
	errno = 0;
	assert_null(store_station_json(f->db, "CP-1"));
	assert_int_equal(errno, ENOENT);
}

static void test_boot_json(void **state)
{
	struct fixture *f = *state;
	struct store_boot b = { .vendor = "evctl", .model = "sim", .serial = "S-1",
				.box_serial = "B-1", .firmware = "1.2.0", .meter_type = "AC" };
	struct store_station st;

	assert_int_equal(store_station_add(f->db, "CP-B", REG_ACCEPTED, "h", T0), 0);
	assert_int_equal(store_station_add(f->db, "CP-A", REG_PENDING, NULL, T0), 0);
	expect_json(store_station_json(f->db, "CP-A"),
		    "{\"id\": \"CP-A\", \"connected\": false, \"ocpp\": null,"
		    " \"registration\": \"unknown\", \"vendor\": null, \"model\": null,"
		    " \"serial\": null, \"firmware\": null, \"iccid\": null, \"imsi\": null,"
		    " \"meter_type\": null, \"meter_serial\": null, \"has_password\": false,"
		    " \"first_seen\": null, \"last_seen\": null, \"last_boot\": null,"
		    " \"remote_address\": null, \"connectors\": [], \"sessions\": []}");

	assert_int_equal(store_station_seen(f->db, "CP-B", "127.0.0.1", T0 + 10), 0);
	assert_int_equal(store_station_boot(f->db, "CP-B", &b, "1.6", T0 + 11), 0);
	assert_int_equal(store_station_seen(f->db, "CP-B", NULL, T0 + 12), 0);
	assert_int_equal(store_station_boot(f->db, "CP-X", &b, "1.6", T0), -ENOENT);
	assert_int_equal(store_station_seen(f->db, "CP-X", NULL, T0), -ENOENT);
	assert_int_equal(store_station_get(f->db, "CP-B", &st), 0);
	assert_int_equal(st.booted, 1);
	expect_json(store_station_json(f->db, "CP-B"),
		    "{\"id\": \"CP-B\", \"connected\": true, \"ocpp\": \"1.6\","
		    " \"registration\": \"accepted\", \"vendor\": \"evctl\", \"model\": \"sim\","
		    " \"serial\": \"S-1\", \"firmware\": \"1.2.0\", \"iccid\": null,"
		    " \"imsi\": null, \"meter_type\": \"AC\", \"meter_serial\": null,"
		    " \"has_password\": true,"
		    " \"first_seen\": \"2026-11-22T10:00:10Z\","
		    " \"last_seen\": \"2026-11-22T10:00:12Z\","
		    " \"last_boot\": \"2026-11-22T10:00:11Z\","
		    " \"remote_address\": \"127.0.0.1\", \"connectors\": [], \"sessions\": []}");

	/* A pending station's boot is recorded, but it was not accepted. */
	assert_int_equal(store_station_boot(f->db, "CP-A", NULL, "1.6", T0 + 20), 0);
	assert_int_equal(store_station_get(f->db, "CP-A", &st), 0);
	assert_int_equal(st.booted, 0);
	json_t *a = store_station_json(f->db, "CP-A");
	assert_string_equal(json_string_value(at(a, "registration", -1)), "pending");
	json_decref(a);

	/* The list: sorted by id, filtered by connection, without sessions. */
	json_t *all = store_stations_json(f->db, -1);
	assert_int_equal(json_array_size(at(all, "stations", -1)), 2);
	assert_string_equal(json_string_value(at(at(all, "stations", 0), "id", -1)), "CP-A");
	assert_string_equal(json_string_value(at(at(all, "stations", 1), "id", -1)), "CP-B");
	assert_null(at(at(all, "stations", 1), "sessions", -1));
	json_decref(all);
	json_t *on = store_stations_json(f->db, 1);
	assert_int_equal(json_array_size(at(on, "stations", -1)), 1);
	assert_string_equal(json_string_value(at(at(on, "stations", 0), "id", -1)), "CP-B");
	json_decref(on);

	assert_int_equal(store_station_set_connected(f->db, "CP-B", 0, T0 + 30), 0);
	assert_int_equal(store_station_seen(f->db, "CP-A", "10.0.0.2", T0 + 31), 0);
	assert_int_equal(store_stations_reset_connected(f->db), 0);
	expect_json(store_stations_json(f->db, 1), "{\"stations\": []}");
	json_t *off = store_stations_json(f->db, 0);
	assert_int_equal(json_array_size(at(off, "stations", -1)), 2);
	assert_string_equal(json_string_value(at(at(off, "stations", 1), "last_seen", -1)),
			    "2026-11-22T10:00:30Z");
	json_decref(off);

	/* Connected without a seen: first seen all the same. */
	assert_int_equal(store_station_add(f->db, "CP-C", REG_ACCEPTED, NULL, T0), 0);
	assert_int_equal(store_station_set_connected(f->db, "CP-C", 1, T0 + 40), 0);
	assert_int_equal(store_station_set_connected(f->db, "CP-C", 0, T0 + 50), 0);
	assert_int_equal(store_station_set_connected(f->db, "CP-X", 0, T0), -ENOENT);
	json_t *c = store_station_json(f->db, "CP-C");
	assert_string_equal(json_string_value(at(c, "first_seen", -1)), "2026-11-22T10:00:40Z");
	assert_string_equal(json_string_value(at(c, "last_seen", -1)), "2026-11-22T10:00:50Z");
	assert_true(json_is_false(at(c, "connected", -1)));
	json_decref(c);

	assert_int_equal(store_station_firmware_status(f->db, "CP-B", "Downloading", T0), 0);
	assert_int_equal(store_station_diagnostics_status(f->db, "CP-B", "Uploaded", T0), 0);
	assert_int_equal(store_station_firmware_status(f->db, "CP-X", "Idle", T0), -ENOENT);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM stations WHERE"
				    " firmware_status = 'Downloading' AND"
				    " diagnostics_status = 'Uploaded'"), 1);
}

static void test_status(void **state)
{
	struct fixture *f = *state;
	struct store_status s = { .connector = 1, .status = "Available",
				  .error_code = "NoError", .time = T0 };

	assert_int_equal(store_station_add(f->db, "CP-1", REG_ACCEPTED, NULL, T0), 0);
	assert_int_equal(store_status_add(f->db, "CP-1", &s, T0), 0);
	s.connector = 0;
	assert_int_equal(store_status_add(f->db, "CP-1", &s, T0), 0);
	s = (struct store_status){ .connector = 1, .status = "Preparing",
				   .error_code = "NoError", .time = T0 + 60 };
	assert_int_equal(store_status_add(f->db, "CP-1", &s, T0 + 61), 0);
	/* The same status again: its since stays. */
	s = (struct store_status){ .connector = 1, .status = "Preparing",
				   .error_code = "OtherError", .info = "lid", .vendor_id = "acme",
				   .vendor_error_code = "E7", .time = T0 + 120 };
	assert_int_equal(store_status_add(f->db, "CP-1", &s, T0 + 121), 0);
	/* No timestamp: ours. */
	s = (struct store_status){ .connector = 2, .status = "Faulted",
				   .error_code = "GroundFailure" };
	assert_int_equal(store_status_add(f->db, "CP-1", &s, T0 + 180), 0);
	/* Unknown station; a bad connector. */
	assert_int_equal(store_status_add(f->db, "CP-X", &s, T0), -ENOENT);
	s.connector = -1;
	assert_int_equal(store_status_add(f->db, "CP-1", &s, T0), -EINVAL);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM status_history"), 5);

	int64_t id = start(f->db, "CP-1", 1, "TAG-1", 0, T0 + 150, NULL);
	json_t *j = store_station_json(f->db, "CP-1");
	expect_json(json_incref(at(j, "connectors", -1)),
		    "[{\"connector\": 0, \"status\": \"Available\", \"error_code\": \"NoError\","
		    "  \"info\": null, \"vendor_error_code\": null,"
		    "  \"since\": \"2026-11-22T10:00:00Z\"},"
		    " {\"connector\": 1, \"status\": \"Preparing\", \"error_code\": \"OtherError\","
		    "  \"info\": \"lid\", \"vendor_error_code\": \"E7\","
		    "  \"since\": \"2026-11-22T10:01:00Z\", \"session\": 1},"
		    " {\"connector\": 2, \"status\": \"Faulted\","
		    "  \"error_code\": \"GroundFailure\", \"info\": null, \"vendor_error_code\": null,"
		    "  \"since\": \"2026-11-22T10:03:00Z\"}]");
	assert_int_equal(json_integer_value(at(at(j, "sessions", 0), "id", -1)), id);
	assert_int_equal(json_array_size(at(j, "sessions", -1)), 1);
	json_decref(j);
	/* The list carries the connectors too. */
	j = store_stations_json(f->db, -1);
	assert_int_equal(json_array_size(at(at(j, "stations", 0), "connectors", -1)), 3);
	json_decref(j);

	/* History: newest first; by connector; limited. */
	expect_json(store_status_history_json(f->db, "CP-1", 1, 0),
		    "{\"history\": ["
		    " {\"time\": \"2026-11-22T10:02:00Z\", \"connector\": 1,"
		    "  \"status\": \"Preparing\", \"error_code\": \"OtherError\","
		    "  \"info\": \"lid\", \"vendor_error_code\": \"E7\", \"vendor_id\": \"acme\"},"
		    " {\"time\": \"2026-11-22T10:01:00Z\", \"connector\": 1,"
		    "  \"status\": \"Preparing\", \"error_code\": \"NoError\","
		    "  \"info\": null, \"vendor_error_code\": null, \"vendor_id\": null},"
		    " {\"time\": \"2026-11-22T10:00:00Z\", \"connector\": 1,"
		    "  \"status\": \"Available\", \"error_code\": \"NoError\","
		    "  \"info\": null, \"vendor_error_code\": null, \"vendor_id\": null}]}");
	j = store_status_history_json(f->db, "CP-1", -1, 2);
	assert_int_equal(json_array_size(at(j, "history", -1)), 2);
	assert_int_equal(json_integer_value(at(at(j, "history", 0), "connector", -1)), 2);
	assert_int_equal(json_integer_value(at(at(j, "history", 1), "connector", -1)), 1);
	json_decref(j);
	j = store_status_history_json(f->db, "CP-1", -1, 0);
	assert_int_equal(json_array_size(at(j, "history", -1)), 5);
	/* Same time: the later report first. */
	assert_int_equal(json_integer_value(at(at(j, "history", 3), "connector", -1)), 0);
	assert_int_equal(json_integer_value(at(at(j, "history", 4), "connector", -1)), 1);
	json_decref(j);
	expect_json(store_status_history_json(f->db, "CP-9", -1, 0), "{\"history\": []}");
}

static void test_sessions(void **state)
{
	struct fixture *f = *state;
	struct store_reading m = { .station = "CP-1", .connector = 1, .time = T0 + 60,
				   .sampled = "[{\"value\":\"1500\",\"context\":\"Sample.Periodic\","
					      "\"measurand\":\"Energy.Active.Import.Register\","
					      "\"unit\":\"Wh\"}]" };
	char station[64];
	int dup = -1;

	int64_t id = start(f->db, "CP-1", 1, "TAG-1", 1000, T0, &dup);
	assert_true(id > 0);
	assert_int_equal(dup, 0);
	/* Re-sent after an outage: the same session. */
	assert_int_equal(start(f->db, "CP-1", 1, "TAG-1", 1000, T0, &dup), id);
	assert_int_equal(dup, 1);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM sessions"), 1);
	/* Any difference is a new session. */
	int64_t other = start(f->db, "CP-1", 2, "TAG-1", 1000, T0, &dup);
	assert_int_not_equal(other, id);
	assert_int_equal(dup, 0);
	assert_int_equal(store_session_active(f->db, "CP-1", 1), id);
	assert_int_equal(store_session_active(f->db, "CP-1", 2), other);
	assert_int_equal(store_session_active(f->db, "CP-1", 3), 0);
	assert_int_equal(store_session_active(f->db, "CP-2", 1), 0);

	struct store_start bad = { .station = "CP-1", .connector = 1, .time = T0 };
	int64_t none = -1;
	assert_int_equal(store_session_start(f->db, &bad, &none, &dup), -EINVAL);
	bad.id_tag = "123456789012345678901";   /* 21 characters */
	assert_int_equal(store_session_start(f->db, &bad, &none, &dup), -EINVAL);

	/* Meter values: kept for this station's session, refused for another's. */
	m.session = id;
	assert_int_equal(store_reading_add(f->db, &m), 0);
	assert_int_equal(store_session_energy(f->db, id, 1500), 0);
	m.time = T0 + 120;
	m.sampled = "[{\"value\":\"2345.5\",\"context\":\"Sample.Periodic\","
		    "\"measurand\":\"Energy.Active.Import.Register\",\"phase\":\"L1\","
		    "\"location\":\"Outlet\",\"unit\":\"Wh\"},"
		    "{\"value\":\"16.2\",\"measurand\":\"Current.Import\",\"unit\":\"A\"}]";
	assert_int_equal(store_reading_add(f->db, &m), 0);
	assert_int_equal(store_session_energy(f->db, id, 3345), 0);
	/* An older reading arriving late does not lower the energy. */
	assert_int_equal(store_session_energy(f->db, id, 2000), 0);
	m.station = "CP-2";
	assert_int_equal(store_reading_add(f->db, &m), -ENOENT);
	m.session = 0;
	assert_int_equal(store_reading_add(f->db, &m), 0);   /* outside a session */
	m.sampled = "[{\"value\":";
	assert_int_equal(store_reading_add(f->db, &m), -EINVAL);
	m.sampled = NULL;
	assert_int_equal(store_reading_add(f->db, &m), -EINVAL);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM meter_readings"), 3);
	assert_int_equal(store_session_energy(f->db, 999, 1), -ENOENT);

	expect_json(store_session_json(f->db, id),
		    "{\"id\": 1, \"station\": \"CP-1\", \"connector\": 1, \"transaction\": 1,"
		    " \"id_tag\": \"TAG-1\", \"status\": \"active\","
		    " \"start\": \"2026-11-22T10:00:00Z\", \"stop\": null,"
		    " \"meter_start\": 1000, \"meter_stop\": null, \"energy_wh\": 2345,"
		    " \"stop_reason\": null, \"stop_id_tag\": null, \"reservation\": null,"
		    " \"meter_values\": ["
		    "  {\"time\": \"2026-11-22T10:01:00Z\", \"context\": \"Sample.Periodic\","
		    "   \"measurand\": \"Energy.Active.Import.Register\", \"phase\": null,"
		    "   \"location\": null, \"unit\": \"Wh\", \"value\": \"1500\"},"
		    "  {\"time\": \"2026-11-22T10:02:00Z\", \"context\": \"Sample.Periodic\","
		    "   \"measurand\": \"Energy.Active.Import.Register\", \"phase\": \"L1\","
		    "   \"location\": \"Outlet\", \"unit\": \"Wh\", \"value\": \"2345.5\"},"
		    "  {\"time\": \"2026-11-22T10:02:00Z\", \"context\": null,"
		    "   \"measurand\": \"Current.Import\", \"phase\": null,"
		    "   \"location\": null, \"unit\": \"A\", \"value\": \"16.2\"}],"
		    " \"meter_values_next\": null}");

	/* Stop: not a session of that station; then for real; then again. */
	assert_int_equal(stop(f->db, "CP-2", id, 4000, T0 + 600, NULL), -ENOENT);
	assert_int_equal(stop(f->db, "CP-1", 999, 4000, T0 + 600, NULL), -ENOENT);
	struct store_stop st = { .station = "CP-1", .transaction = id, .id_tag = "TAG-2",
				 .meter_stop = 4000, .time = T0 + 600 };
	assert_int_equal(store_session_stop(f->db, &st), 0);
	assert_int_equal(stop(f->db, "CP-1", id, 9999, T0 + 900, "EVDisconnected"), 0);
	/* After the stop the energy is final. */
	assert_int_equal(store_session_energy(f->db, id, 9000), 0);
	assert_int_equal(store_session_active(f->db, "CP-1", 1), 0);

	json_t *j = store_session_json(f->db, id);
	json_object_del(j, "meter_values");
	json_object_del(j, "meter_values_next");
	expect_json(j, "{\"id\": 1, \"station\": \"CP-1\", \"connector\": 1, \"transaction\": 1,"
		    " \"id_tag\": \"TAG-1\", \"status\": \"completed\","
		    " \"start\": \"2026-11-22T10:00:00Z\", \"stop\": \"2026-11-22T10:10:00Z\","
		    " \"meter_start\": 1000, \"meter_stop\": 4000, \"energy_wh\": 3000,"
		    " \"stop_reason\": \"Local\", \"stop_id_tag\": \"TAG-2\","
		    " \"reservation\": null}");

	assert_int_equal(store_session_station(f->db, other, station, sizeof station), 0);
	assert_string_equal(station, "CP-1");
	assert_int_equal(store_session_station(f->db, 999, station, sizeof station), -ENOENT);
	assert_int_equal(store_session_station(f->db, other, station, 3), -ERANGE);
	errno = 0;
	assert_null(store_session_json(f->db, 999));
	assert_int_equal(errno, ENOENT);

	/* A reservation and a reason given. */
	struct store_start rs = { .station = "CP-1", .id_tag = "TAG-3", .connector = 1,
				  .meter_start = 4000, .time = T0 + 1000, .reservation = 77 };
	int64_t r;
	assert_int_equal(store_session_start(f->db, &rs, &r, NULL), 0);
	assert_int_equal(stop(f->db, "CP-1", r, 4100, T0 + 1100, "EVDisconnected"), 0);
	j = store_session_json(f->db, r);
	assert_int_equal(json_integer_value(at(j, "reservation", -1)), 77);
	assert_int_equal(json_integer_value(at(j, "energy_wh", -1)), 100);
	assert_string_equal(json_string_value(at(j, "stop_reason", -1)), "EVDisconnected");
	assert_true(json_is_null(at(j, "stop_id_tag", -1)));
	json_decref(j);
}

/* The ids of a session list, as "3,2,1". */
static void expect_ids(json_t *list, const char *want)
{
	char got[256] = "";
	size_t i, len;
	json_t *s;

	assert_non_null(list);
	json_array_foreach(at(list, "sessions", -1), i, s) {
		len = strlen(got);
		snprintf(got + len, sizeof got - len, "%s%lld", i ? "," : "",
			 (long long)json_integer_value(json_object_get(s, "id")));
	}
	json_decref(list);
	assert_string_equal(got, want);
}

/* A store from before migration 4 (one row per sampled value) keeps its
 * meter values: grouped by timestamp, absent fields left out. */
static void test_migrate_meter_values(void **state)
{
	struct fixture *f = *state;
	int dup, v;
	int64_t id = start(f->db, "CP-1", 1, "TAG-1", 1000, T0, &dup);

	assert_int_equal(db_exec(f->db,
		"DROP TABLE meter_readings;"
		"CREATE TABLE meter_values (id INTEGER PRIMARY KEY,"
		" session INTEGER REFERENCES sessions(id), station TEXT NOT NULL,"
		" connector INTEGER NOT NULL, time INTEGER NOT NULL, value TEXT NOT NULL,"
		" context TEXT, format TEXT, measurand TEXT, phase TEXT, location TEXT, unit TEXT);"
		"CREATE INDEX meter_values_session ON meter_values(session, time)"
		" WHERE session IS NOT NULL;"
		"INSERT INTO meter_values(session, station, connector, time, value, context,"
		" measurand, unit) VALUES"
		" (1, 'CP-1', 1, 1795341660, '1500', 'Sample.Periodic',"
		"  'Energy.Active.Import.Register', 'Wh'),"
		" (1, 'CP-1', 1, 1795341660, '16', NULL, 'Current.Import', 'A'),"
		" (1, 'CP-1', 1, 1795341720, '2000', NULL, NULL, NULL),"
		" (NULL, 'CP-1', 0, 1795341720, '230', NULL, 'Voltage', 'V');"
		"PRAGMA user_version = 3;"), 0);
	db_close(f->db);
	open_store(f);
	assert_int_equal(db_version(f->db, &v), 0);
	assert_int_equal(v, STORE_LATEST);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM meter_readings"), 3);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM sqlite_schema"
				    " WHERE name = 'meter_values'"), 0);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM meter_readings WHERE sampled ="
				    " '[{\"value\":\"1500\",\"context\":\"Sample.Periodic\","
				    "\"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"Wh\"},"
				    "{\"value\":\"16\",\"measurand\":\"Current.Import\","
				    "\"unit\":\"A\"}]'"), 1);
	json_t *s = store_session_json(f->db, id);
	expect_json(json_incref(json_object_get(s, "meter_values")),
		    "[{\"time\": \"2026-11-22T10:01:00Z\", \"context\": \"Sample.Periodic\","
		    "  \"measurand\": \"Energy.Active.Import.Register\", \"phase\": null,"
		    "  \"location\": null, \"unit\": \"Wh\", \"value\": \"1500\"},"
		    " {\"time\": \"2026-11-22T10:01:00Z\", \"context\": null,"
		    "  \"measurand\": \"Current.Import\", \"phase\": null,"
		    "  \"location\": null, \"unit\": \"A\", \"value\": \"16\"},"
		    " {\"time\": \"2026-11-22T10:02:00Z\", \"context\": null,"
		    "  \"measurand\": null, \"phase\": null,"
		    "  \"location\": null, \"unit\": null, \"value\": \"2000\"}]");
	json_decref(s);
}

/* A long session's meter values come a page at a time, in time order
 * (readings arriving late slot in), each reading's sampled values whole. */
static void test_meter_pages(void **state)
{
	struct fixture *f = *state;
	struct store_reading r = { .station = "CP-1", .connector = 1,
				   .sampled = "[{\"value\":\"1\"},{\"value\":\"2\"}]" };
	int dup;
	int64_t id = start(f->db, "CP-1", 1, "TAG-1", 1000, T0, &dup);
	const time_t times[] = { T0 + 10, T0 + 30, T0 + 20, T0 + 40, T0 + 40 };
	json_t *page, *next;

	r.session = id;
	for (size_t i = 0; i < sizeof times / sizeof *times; i++) {
		r.time = times[i];
		assert_int_equal(store_reading_add(f->db, &r), 0);
	}
	/* Two readings (four values) a page: T0+10, T0+20 | T0+30, T0+40 | T0+40. */
	page = store_session_meter_json(f->db, id, NULL, 2);
	assert_non_null(page);
	assert_int_equal(json_array_size(json_object_get(page, "meter_values")), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(page, "meter_values"), 2), "time")), "2026-11-22T10:00:20Z");
	next = json_object_get(page, "next");
	assert_string_equal(json_string_value(next), "1795341620-3");
	json_t *page2 = store_session_meter_json(f->db, id, json_string_value(next), 2);
	assert_non_null(page2);
	assert_int_equal(json_array_size(json_object_get(page2, "meter_values")), 4);
	next = json_object_get(page2, "next");
	assert_string_equal(json_string_value(next), "1795341640-4");
	json_t *page3 = store_session_meter_json(f->db, id, json_string_value(next), 2);
	assert_int_equal(json_array_size(json_object_get(page3, "meter_values")), 2);
	assert_true(json_is_null(json_object_get(page3, "next")));
	json_decref(page);
	json_decref(page2);
	json_decref(page3);

	/* The session itself brings the first page and no cursor when it is all. */
	page = store_session_json(f->db, id);
	assert_int_equal(json_array_size(json_object_get(page, "meter_values")), 10);
	assert_true(json_is_null(json_object_get(page, "meter_values_next")));
	json_decref(page);

	/* Bad cursors, and sessions that do not exist. */
	errno = 0;
	assert_null(store_session_meter_json(f->db, id, "12", 2));
	assert_int_equal(errno, EINVAL);
	assert_null(store_session_meter_json(f->db, id, "1795341620-3x", 2));
	assert_int_equal(errno, EINVAL);
	assert_null(store_session_meter_json(f->db, 999, NULL, 2));
	assert_int_equal(errno, ENOENT);

	/* More readings than a page: the session says where to go on. */
	assert_int_equal(db_begin(f->db), 0);
	r.sampled = "[{\"value\":\"3\"}]";
	for (int i = 0; i < STORE_METER_PAGE; i++) {
		r.time = T0 + 100 + i;
		assert_int_equal(store_reading_add(f->db, &r), 0);
	}
	assert_int_equal(db_commit(f->db), 0);
	page = store_session_json(f->db, id);
	assert_int_equal(json_array_size(json_object_get(page, "meter_values")),
			 10 + (STORE_METER_PAGE - 5));
	assert_true(json_is_string(json_object_get(page, "meter_values_next")));
	page2 = store_session_meter_json(f->db, id,
					 json_string_value(json_object_get(page, "meter_values_next")),
					 STORE_METER_PAGE);
	assert_int_equal(json_array_size(json_object_get(page2, "meter_values")), 5);
	assert_true(json_is_null(json_object_get(page2, "next")));
	json_decref(page);
	json_decref(page2);
}

static void test_session_filters(void **state)
{
	struct fixture *f = *state;
	struct store_session_filter q;

	/* 1: A TAG-1 done, 2: B tag-2 done, 3: A TAG-2 active, 4: B TAG-1 active */
	start(f->db, "A", 1, "TAG-1", 0, T0, NULL);
	start(f->db, "B", 1, "tag-2", 0, T0 + 100, NULL);
	start(f->db, "A", 2, "TAG-2", 0, T0 + 200, NULL);
	start(f->db, "B", 2, "TAG-1", 0, T0 + 300, NULL);
	assert_int_equal(stop(f->db, "A", 1, 10, T0 + 50, NULL), 0);
	assert_int_equal(stop(f->db, "B", 2, 10, T0 + 150, NULL), 0);

	expect_ids(store_sessions_json(f->db, NULL), "4,3,2,1");
	q = (struct store_session_filter){ .active = -1 };
	expect_ids(store_sessions_json(f->db, &q), "4,3,2,1");
	q.station = "A";
	expect_ids(store_sessions_json(f->db, &q), "3,1");
	q.active = 1;
	expect_ids(store_sessions_json(f->db, &q), "3");
	q = (struct store_session_filter){ .active = 0 };
	expect_ids(store_sessions_json(f->db, &q), "2,1");
	/* Id tags compare case-insensitively (CiString). */
	q = (struct store_session_filter){ .active = -1, .id_tag = "TAG-2" };
	expect_ids(store_sessions_json(f->db, &q), "3,2");
	q.station = "B";
	expect_ids(store_sessions_json(f->db, &q), "2");
	/* [since, until) over the start. */
	q = (struct store_session_filter){ .active = -1, .since = T0 + 100, .until = T0 + 300 };
	expect_ids(store_sessions_json(f->db, &q), "3,2");
	q.until = 0;
	expect_ids(store_sessions_json(f->db, &q), "4,3,2");
	q = (struct store_session_filter){ .active = -1, .until = T0 + 100 };
	expect_ids(store_sessions_json(f->db, &q), "1");
	q = (struct store_session_filter){ .active = -1, .limit = 2 };
	expect_ids(store_sessions_json(f->db, &q), "4,3");
	q = (struct store_session_filter){ .active = -1, .station = "C" };
	expect_ids(store_sessions_json(f->db, &q), "");

	/* The default limit is 100, the largest 10000. */
	for (int i = 0; i < 150; i++)
		start(f->db, "C", 1, "T", i, T0 + 1000 + i, NULL);
	q = (struct store_session_filter){ .active = -1, .station = "C" };
	json_t *j = store_sessions_json(f->db, &q);
	assert_int_equal(json_array_size(at(j, "sessions", -1)), 100);
	json_decref(j);
	q.limit = 1000000;
	j = store_sessions_json(f->db, &q);
	assert_int_equal(json_array_size(at(j, "sessions", -1)), 150);
	json_decref(j);
}

static void check(struct db *db, const char *tag, time_t now, int64_t except,
		  enum token_status want, const char *want_parent, time_t want_expiry)
{
	enum token_status st = TOKEN_ACCEPTED;
	char parent[21] = "junk";
	time_t expiry = 1;

	assert_int_equal(store_token_check(db, tag, now, except, &st, parent, sizeof parent,
					   &expiry), 0);
	if (st != want)
		fail_msg("%s: got %s, expected %s", tag, token_status_name(st),
			 token_status_name(want));
	assert_string_equal(parent, want_parent);
	assert_int_equal(expiry, want_expiry);
}

static void test_token_check(void **state)
{
	struct fixture *f = *state;
	struct store_token t[] = {
		{ .id_tag = "OK", .parent = "GROUP" },
		{ .id_tag = "BLK", .status = "Blocked" },
		{ .id_tag = "EXP", .status = "Expired" },
		{ .id_tag = "INV", .status = "Invalid" },
		{ .id_tag = "OLD", .expiry = "2026-11-22T10:00:00Z" },
		{ .id_tag = "NEW", .expiry = "2026-11-22T11:00:00+01:00" },  /* = T0 */
		{ .id_tag = "LATER", .expiry = "2026-11-22T12:00:00Z" },
		{ .id_tag = "BLKOLD", .status = "Blocked", .expiry = "2020-01-01T00:00:00Z" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		assert_int_equal(store_token_add(f->db, &t[i], T0), 0);

	check(f->db, "OK", T0, 0, TOKEN_ACCEPTED, "GROUP", 0);
	check(f->db, "ok", T0, 0, TOKEN_ACCEPTED, "GROUP", 0);
	check(f->db, "BLK", T0, 0, TOKEN_BLOCKED, "", 0);
	check(f->db, "EXP", T0, 0, TOKEN_EXPIRED, "", 0);
	check(f->db, "INV", T0, 0, TOKEN_INVALID, "", 0);
	check(f->db, "NOPE", T0, 0, TOKEN_INVALID, "", 0);
	/* Expired once expiry <= now, whatever the status says. */
	check(f->db, "OLD", T0 - 1, 0, TOKEN_ACCEPTED, "", T0);
	check(f->db, "OLD", T0, 0, TOKEN_EXPIRED, "", T0);
	check(f->db, "NEW", T0, 0, TOKEN_EXPIRED, "", T0);
	check(f->db, "LATER", T0, 0, TOKEN_ACCEPTED, "", T0 + 7200);
	check(f->db, "BLKOLD", T0, 0, TOKEN_BLOCKED, "", 1577836800);

	/* An active session elsewhere: ConcurrentTx, except for that very
	 * session; a completed one does not count. */
	int64_t id = start(f->db, "CP-1", 1, "ok", 0, T0, NULL);
	check(f->db, "OK", T0, 0, TOKEN_CONCURRENT_TX, "GROUP", 0);
	check(f->db, "OK", T0, id, TOKEN_ACCEPTED, "GROUP", 0);
	int64_t id2 = start(f->db, "CP-1", 2, "OK", 0, T0, NULL);
	check(f->db, "OK", T0, id2, TOKEN_CONCURRENT_TX, "GROUP", 0);
	assert_int_equal(stop(f->db, "CP-1", id, 5, T0 + 10, NULL), 0);
	check(f->db, "OK", T0, id2, TOKEN_ACCEPTED, "GROUP", 0);
	/* A blocked tag stays blocked with a session running. */
	start(f->db, "CP-1", 3, "BLK", 0, T0, NULL);
	check(f->db, "BLK", T0, 0, TOKEN_BLOCKED, "", 0);

	/* Without parent and expiry buffers. */
	enum token_status st;
	assert_int_equal(store_token_check(f->db, "LATER", T0, 0, &st, NULL, 0, NULL), 0);
	assert_int_equal(st, TOKEN_ACCEPTED);
}

static void test_tokens(void **state)
{
	struct fixture *f = *state;
	struct store_token t = { .id_tag = "TAG-1" };

	assert_int_equal(store_token_add(f->db, &t, T0), 0);
	assert_int_equal(store_token_add(f->db, &t, T0), -EEXIST);
	t.id_tag = "tag-1";
	assert_int_equal(store_token_add(f->db, &t, T0), -EEXIST);   /* CiString */
	t = (struct store_token){ .id_tag = "A-0", .status = "Blocked",
				  .expiry = "2027-01-01T00:00:00.900Z", .parent = "P" };
	assert_int_equal(store_token_add(f->db, &t, T0), 0);

	/* Bad fields. */
	t = (struct store_token){ .id_tag = "X", .status = "Maybe" };
	assert_int_equal(store_token_add(f->db, &t, T0), -EINVAL);
	t = (struct store_token){ .id_tag = "X", .status = "ConcurrentTx" };
	assert_int_equal(store_token_add(f->db, &t, T0), -EINVAL);
	t = (struct store_token){ .id_tag = "X", .expiry = "tomorrow" };
	assert_int_equal(store_token_add(f->db, &t, T0), -EINVAL);
	t = (struct store_token){ .id_tag = "123456789012345678901" };
	assert_int_equal(store_token_add(f->db, &t, T0), -EINVAL);
	t = (struct store_token){ .id_tag = "" };
	assert_int_equal(store_token_add(f->db, &t, T0), -EINVAL);

	expect_json(store_tokens_json(f->db),
		    "{\"tokens\": ["
		    " {\"id_tag\": \"A-0\", \"status\": \"Blocked\","
		    "  \"expiry\": \"2027-01-01T00:00:00Z\", \"parent_id_tag\": \"P\","
		    "  \"created\": \"2026-11-22T10:00:00Z\","
		    "  \"updated\": \"2026-11-22T10:00:00Z\"},"
		    " {\"id_tag\": \"TAG-1\", \"status\": \"Accepted\", \"expiry\": null,"
		    "  \"parent_id_tag\": null, \"created\": \"2026-11-22T10:00:00Z\","
		    "  \"updated\": \"2026-11-22T10:00:00Z\"}]}");

	/* Set: NULL leaves a field, "" clears it. */
	t = (struct store_token){ .id_tag = "a-0", .status = "accepted" };
	assert_int_equal(store_token_set(f->db, &t, T0 + 60), 0);
	expect_json(store_token_json(f->db, "A-0"),
		    "{\"id_tag\": \"A-0\", \"status\": \"Accepted\","
		    " \"expiry\": \"2027-01-01T00:00:00Z\", \"parent_id_tag\": \"P\","
		    " \"created\": \"2026-11-22T10:00:00Z\","
		    " \"updated\": \"2026-11-22T10:01:00Z\"}");
	t = (struct store_token){ .id_tag = "A-0", .expiry = "", .parent = "" };
	assert_int_equal(store_token_set(f->db, &t, T0 + 120), 0);
	expect_json(store_token_json(f->db, "A-0"),
		    "{\"id_tag\": \"A-0\", \"status\": \"Accepted\", \"expiry\": null,"
		    " \"parent_id_tag\": null, \"created\": \"2026-11-22T10:00:00Z\","
		    " \"updated\": \"2026-11-22T10:02:00Z\"}");
	t = (struct store_token){ .id_tag = "A-0", .expiry = "1970-01-01T00:00:00Z",
				  .parent = "Q" };
	assert_int_equal(store_token_set(f->db, &t, T0 + 180), 0);
	json_t *j = store_token_json(f->db, "A-0");
	assert_string_equal(json_string_value(at(j, "expiry", -1)), "1970-01-01T00:00:00Z");
	assert_string_equal(json_string_value(at(j, "parent_id_tag", -1)), "Q");
	json_decref(j);
	t = (struct store_token){ .id_tag = "NOPE", .status = "Blocked" };
	assert_int_equal(store_token_set(f->db, &t, T0), -ENOENT);
	t = (struct store_token){ .id_tag = "A-0", .status = "Nope" };
	assert_int_equal(store_token_set(f->db, &t, T0), -EINVAL);

	assert_int_equal(store_token_remove(f->db, "TAG-1"), 0);
	assert_int_equal(store_token_remove(f->db, "TAG-1"), -ENOENT);
	errno = 0;
	assert_null(store_token_json(f->db, "TAG-1"));
	assert_int_equal(errno, ENOENT);
	j = store_tokens_json(f->db);
	assert_int_equal(json_array_size(at(j, "tokens", -1)), 1);
	json_decref(j);
}

static void test_audit(void **state)
{
	struct fixture *f = *state;
	json_t *req = json_pack("{s:s, s:{s:i, s:[i,i]}}", "type", "hard", "extra", "n", 1,
				"list", 1, 2);
	json_t *resp = json_pack("{s:s}", "status", "Accepted");

	assert_int_equal(store_audit_add(f->db, "admin", "CP-1", "reset", req, "Accepted", resp,
					 T0), 0);
	assert_int_equal(store_audit_add(f->db, "ops", "CP-2", "unlock", NULL, "timeout", NULL,
					 T0 + 1), 0);
	assert_int_equal(store_audit_add(f->db, NULL, NULL, "token-add", req, NULL, NULL,
					 T0 + 2), 0);
	assert_int_equal(store_audit_add(f->db, "x", "CP-1", NULL, NULL, NULL, NULL, T0),
			 -EINVAL);
	json_decref(req);
	json_decref(resp);

	expect_json(store_audit_json(f->db, "CP-1", 0),
		    "{\"audit\": [{\"time\": \"2026-11-22T10:00:00Z\", \"client\": \"admin\","
		    " \"station\": \"CP-1\", \"operation\": \"reset\","
		    " \"request\": {\"type\": \"hard\", \"extra\": {\"n\": 1, \"list\": [1, 2]}},"
		    " \"result\": \"Accepted\", \"response\": {\"status\": \"Accepted\"}}]}");
	json_t *j = store_audit_json(f->db, NULL, 2);
	assert_int_equal(json_array_size(at(j, "audit", -1)), 2);
	assert_string_equal(json_string_value(at(at(j, "audit", 0), "operation", -1)), "token-add");
	assert_true(json_is_null(at(at(j, "audit", 0), "station", -1)));
	assert_true(json_is_object(at(at(j, "audit", 0), "request", -1)));
	assert_string_equal(json_string_value(at(at(j, "audit", 1), "operation", -1)), "unlock");
	assert_true(json_is_null(at(at(j, "audit", 1), "request", -1)));
	json_decref(j);
}

static void test_messages(void **state)
{
	struct fixture *f = *state;
	const char frame[] = "[2,\"1\",\"Heartbeat\",{}]";

	assert_int_equal(store_message_add(f->db, "CP-1", 'i', frame, strlen(frame), T0), 0);
	assert_int_equal(store_message_add(f->db, "CP-1", 'o', "[3,\"1\",{}]", 10, T0 + 100), 0);
	assert_int_equal(store_message_add(f->db, "CP-2", 'i', frame, 4, T0 + 200), 0);
	assert_int_equal(store_message_add(f->db, "CP-2", 'x', frame, 4, T0), -EINVAL);
	assert_int_equal(store_message_add(f->db, "CP-2", 'i', NULL, 0, T0), -EINVAL);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM messages WHERE text = '[2,\"'"),
			 1);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM messages WHERE dir = 'o'"
				    " AND text = '[3,\"1\",{}]'"), 1);

	/* Strictly older rows go. */
	assert_int_equal(store_messages_prune(f->db, T0 + 100), 0);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM messages"), 2);
	assert_int_equal(count_rows(f->db, "SELECT min(time) FROM messages"), T0 + 100);
	assert_int_equal(store_messages_prune(f->db, T0 + 1000), 0);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM messages"), 0);
}

static void test_api_clients(void **state)
{
	struct fixture *f = *state;
	const char *h1 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	const char *h2 = "FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210";
	char name[32];

	assert_int_equal(store_api_client_set(f->db, "local", h1, T0), 0);
	assert_int_equal(store_api_client_find(f->db, h1, name, sizeof name), 0);
	assert_string_equal(name, "local");
	assert_int_equal(store_api_client_find(f->db, h2, name, sizeof name), -ENOENT);
	assert_string_equal(name, "");
	/* Same name: replaced; the old token no longer works. Hex in any
	 * case. */
	assert_int_equal(store_api_client_set(f->db, "local", h2, T0 + 1), 0);
	assert_int_equal(store_api_client_find(f->db, h1, name, sizeof name), -ENOENT);
	assert_int_equal(store_api_client_find(f->db,
		"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
		name, sizeof name), 0);
	assert_string_equal(name, "local");
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM api_clients"), 1);
	/* A token is one client's only. */
	assert_int_equal(store_api_client_set(f->db, "other", h2, T0), -EEXIST);
	assert_int_equal(store_api_client_set(f->db, "other", h1, T0), 0);
	assert_int_equal(store_api_client_find(f->db, h1, name, sizeof name), 0);
	assert_string_equal(name, "other");
	assert_int_equal(store_api_client_find(f->db, h1, name, 3), -ERANGE);

	assert_int_equal(store_api_client_set(f->db, "bad", "abc", T0), -EINVAL);
	assert_int_equal(store_api_client_set(f->db, "", h1, T0), -EINVAL);
	assert_int_equal(store_api_client_find(f->db, "abc", name, sizeof name), -ENOENT);
	assert_int_equal(store_api_client_find(f->db, NULL, name, sizeof name), -ENOENT);
}

/* Inside the caller's transaction a store call is a savepoint: a failed
 * one leaves the caller's earlier work in place, and nothing is committed
 * before the caller commits. */
static void test_in_transaction(void **state)
{
	struct fixture *f = *state;
	struct store_status s = { .connector = 1, .status = "Available", .time = T0 };
	struct store_station st;

	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(store_station_add(f->db, "CP-1", REG_ACCEPTED, NULL, T0), 0);
	assert_int_equal(store_status_add(f->db, "CP-1", &s, T0), 0);
	assert_int_equal(store_status_add(f->db, "CP-X", &s, T0), -ENOENT);
	assert_int_equal(db_tx_depth(f->db), 1);
	start(f->db, "CP-1", 1, "TAG", 0, T0, NULL);
	assert_int_equal(db_rollback(f->db), 0);
	assert_int_equal(store_station_get(f->db, "CP-1", &st), -ENOENT);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM sessions"), 0);

	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(store_station_add(f->db, "CP-1", REG_ACCEPTED, NULL, T0), 0);
	assert_int_equal(store_status_add(f->db, "CP-1", &s, T0), 0);
	assert_int_equal(store_status_add(f->db, "CP-X", &s, T0), -ENOENT);
	assert_int_equal(db_commit(f->db), 0);
	assert_int_equal(db_tx_depth(f->db), 0);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM status_history"), 1);
	assert_int_equal(count_rows(f->db, "SELECT count(*) FROM connectors"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_reopen, setup, teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_stations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_meter_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meter_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_transaction, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
