/* Unit tests: the station's persistent state. Every API, two stations in
 * one file kept apart, the queue's order and transactionId mapping,
 * persistence across reopening, and a crash (a child that _exit()s in the
 * middle of its work). Files go into a mkdtemp directory removed at the end. */
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
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "station/stationdb.h"
#include "store/db.h"

struct fixture {
	char dir[64];
	char path[128];
	struct db *db;
	struct stationdb *a, *b;   /* two stations sharing the file */
};

static void open_all(struct fixture *f)
{
	char err[DB_ERRMSG_MAX];

	if (stationdb_open(f->path, &f->db, err, sizeof err))
		fail_msg("open %s: %s", f->path, err);
	assert_int_equal(stationdb_new(f->db, "CP-A", &f->a), 0);
	assert_int_equal(stationdb_new(f->db, "CP-B", &f->b), 0);
}

static void close_all(struct fixture *f)
{
	stationdb_free(f->a);
	stationdb_free(f->b);
	db_close(f->db);
	f->a = f->b = NULL;
	f->db = NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/evctl-test-stationdb-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/station.db", f->dir);
	open_all(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char file[512];
	struct dirent *e;
	DIR *d;

	close_all(f);
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

static void reopen(struct fixture *f)
{
	close_all(f);
	open_all(f);
}

/* got by address: the call filling it is another argument, evaluated in no
 * particular order. */
static void assert_text(int rc, char **got, const char *want)
{
	assert_int_equal(rc, 0);
	assert_string_equal(*got, want);
	free(*got);
}

/* Collects a listing into one "k=v;k=v;" string. */
struct pairs {
	char text[512];
	int stop_after;
	int seen;
};

static int add_pair(void *arg, const char *k, const char *v)
{
	struct pairs *p = arg;
	size_t len = strlen(p->text);

	snprintf(p->text + len, sizeof p->text - len, "%s=%s;", k, v);
	return ++p->seen == p->stop_after ? 42 : 0;
}

static void test_config(void **state)
{
	struct fixture *f = *state;
	struct pairs p = { .text = "" };
	char *v;

	assert_int_equal(stationdb_config_set(f->a, "HeartbeatInterval", "300"), 0);
	assert_int_equal(stationdb_config_set(f->a, "AuthorizeRemoteTxRequests", "true"), 0);
	assert_int_equal(stationdb_config_set(f->a, "HeartbeatInterval", "60"), 0);
	assert_int_equal(stationdb_config_set(f->b, "HeartbeatInterval", "900"), 0);
	assert_text(stationdb_config_get(f->a, "HeartbeatInterval", &v), &v, "60");
	assert_text(stationdb_config_get(f->b, "HeartbeatInterval", &v), &v, "900");
	assert_int_equal(stationdb_config_get(f->b, "AuthorizeRemoteTxRequests", &v), -ENOENT);
	assert_null(v);

	assert_int_equal(stationdb_config_each(f->a, add_pair, &p), 0);
	assert_string_equal(p.text, "AuthorizeRemoteTxRequests=true;HeartbeatInterval=60;");
	/* A callback can stop the listing. */
	p = (struct pairs){ .text = "", .stop_after = 1 };
	assert_int_equal(stationdb_config_each(f->a, add_pair, &p), 42);
	assert_int_equal(p.seen, 1);

	/* Empty values are values; a missing one is an error. */
	assert_int_equal(stationdb_config_set(f->a, "Empty", ""), 0);
	assert_text(stationdb_config_get(f->a, "Empty", &v), &v, "");
	assert_int_equal(stationdb_config_delete(f->a, "Empty"), 0);
	assert_int_equal(stationdb_config_delete(f->a, "Empty"), -ENOENT);
	assert_int_equal(stationdb_config_set(f->a, "X", NULL), -EINVAL);
	assert_int_equal(stationdb_config_set(f->a, NULL, "1"), -EINVAL);
	assert_non_null(strstr(stationdb_errmsg(f->a), "key is missing"));
	assert_int_equal(stationdb_config_get(f->a, NULL, &v), -ENOENT);
}

static void test_state(void **state)
{
	struct fixture *f = *state;
	char *v;

	assert_int_equal(stationdb_state_set(f->a, "firmware.status", "Downloading"), 0);
	assert_int_equal(stationdb_state_set(f->a, "firmware.status", "Installed"), 0);
	assert_int_equal(stationdb_state_set(f->a, "diagnostics.status", "Uploading"), 0);
	assert_text(stationdb_state_get(f->a, "firmware.status", &v), &v, "Installed");
	assert_int_equal(stationdb_state_get(f->b, "firmware.status", &v), -ENOENT);
	assert_int_equal(stationdb_state_delete(f->a, "diagnostics.status"), 0);
	assert_int_equal(stationdb_state_get(f->a, "diagnostics.status", &v), -ENOENT);
	/* Config and state are separate name spaces. */
	assert_int_equal(stationdb_config_get(f->a, "firmware.status", &v), -ENOENT);
}

static void test_transactions(void **state)
{
	struct fixture *f = *state;
	struct stationdb_tx t, *open;
	size_t n;

	assert_int_equal(stationdb_tx_create(f->a, "a-1", 1, "TAG1", 1000, 1700000000000), 0);
	/* One open transaction per connector; references are unique. */
	assert_int_equal(stationdb_tx_create(f->a, "a-2", 1, "TAG2", 0, 1700000000000), -EEXIST);
	assert_int_equal(stationdb_tx_create(f->a, "a-1", 2, "TAG2", 0, 1700000000000), -EEXIST);
	assert_int_equal(stationdb_tx_create(f->a, "a-2", 2, "TAG2", 50, 1700000001000), 0);
	/* Another station may reuse both. */
	assert_int_equal(stationdb_tx_create(f->b, "a-1", 1, "TAG9", 7, 1700000002000), 0);

	assert_int_equal(stationdb_tx_find_open(f->a, 1, &t), 0);
	assert_string_equal(t.ref, "a-1");
	assert_string_equal(t.id_tag, "TAG1");
	assert_int_equal(t.meter_start_wh, 1000);
	assert_int_equal(t.start_ms, 1700000000000);
	assert_true(t.open);
	assert_false(t.has_transaction_id);

	assert_int_equal(stationdb_tx_set_id(f->a, "a-1", 4711), 0);
	assert_int_equal(stationdb_tx_set_id(f->a, "nope", 1), -ENOENT);
	assert_int_equal(stationdb_tx_finish(f->a, "a-1", 2500, 1700000060000, "Local"), 0);
	assert_int_equal(stationdb_tx_finish(f->a, "a-1", 2600, 1700000070000, "Local"), -ENOENT);
	assert_int_equal(stationdb_tx_find_open(f->a, 1, &t), -ENOENT);
	assert_int_equal(stationdb_tx_get(f->a, "a-1", &t), 0);
	assert_false(t.open);
	assert_true(t.has_transaction_id);
	assert_int_equal(t.transaction_id, 4711);
	assert_int_equal(t.meter_stop_wh, 2500);
	assert_int_equal(t.stop_ms, 1700000060000);
	assert_string_equal(t.stop_reason, "Local");
	/* The connector is free again. */
	assert_int_equal(stationdb_tx_create(f->a, "a-3", 1, "TAG3", 2500, 1700000080000), 0);

	assert_int_equal(stationdb_tx_list_open(f->a, &open, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(open[0].ref, "a-3");
	assert_string_equal(open[1].ref, "a-2");
	free(open);
	assert_int_equal(stationdb_tx_list_open(f->b, &open, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(open[0].id_tag, "TAG9");
	free(open);

	/* Purge: only finished ones, stopped before the time given. */
	assert_int_equal(stationdb_tx_purge(f->a, 1700000060000, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(stationdb_tx_purge(f->a, 1700000060001, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(stationdb_tx_get(f->a, "a-1", &t), -ENOENT);
	assert_int_equal(stationdb_tx_get(f->a, "a-2", &t), 0);

	/* Bad input is refused, nothing written. */
	assert_int_equal(stationdb_tx_create(f->a, "", 3, "T", 0, 0), -EINVAL);
	assert_int_equal(stationdb_tx_create(f->a, "x", -1, "T", 0, 0), -EINVAL);
	assert_int_equal(stationdb_tx_create(f->a, "x", 3, NULL, 0, 0), -EINVAL);
	assert_int_equal(stationdb_tx_create(f->a, "x", 3,
		"0123456789012345678901234567890123456789012345678901234567890123456789", 0, 0),
		-EINVAL);
	assert_int_equal(stationdb_tx_get(f->a, "x", &t), -ENOENT);
	assert_int_equal(stationdb_tx_finish(f->a, "a-2", 0, 0,
		"a reason far longer than any OCPP reason could be"), -EINVAL);
}

static void push(struct stationdb *st, const char *action, const char *payload, const char *ref,
		 int64_t *seq)
{
	int rc = stationdb_queue_push(st, action, payload, ref, seq);
	if (rc)
		fail_msg("push %s: %s", action, stationdb_errmsg(st));
}

static void expect_head(struct stationdb *st, int64_t seq, const char *action)
{
	struct stationdb_msg m;

	assert_int_equal(stationdb_queue_peek(st, &m), 0);
	assert_int_equal(m.seq, seq);
	assert_string_equal(m.action, action);
	stationdb_msg_clear(&m);
}

static void test_queue_order_and_mapping(void **state)
{
	struct fixture *f = *state;
	int64_t s1, s2, s3, s4, sb;
	struct stationdb_msg m;
	json_t *p;
	size_t n;
	int attempts;

	assert_int_equal(stationdb_queue_peek(f->a, &m), -ENOENT);
	assert_int_equal(stationdb_tx_create(f->a, "r1", 1, "TAG1", 100, 1000), 0);
	assert_int_equal(stationdb_tx_create(f->b, "r1", 1, "TAGB", 0, 1000), 0);
	push(f->a, "StartTransaction",
	     "{\"connectorId\":1,\"idTag\":\"TAG1\",\"meterStart\":100,"
	     "\"timestamp\":\"2024-01-01T00:00:00Z\"}", "r1", &s1);
	push(f->b, "StartTransaction", "{\"connectorId\":1}", "r1", &sb);
	push(f->a, "MeterValues", "{\"connectorId\":1,\"meterValue\":[]}", "r1", &s2);
	push(f->a, "StopTransaction", "{\"transactionId\":-1,\"meterStop\":900}", "r1", &s3);
	push(f->a, "DataTransfer", "{\"vendorId\":\"x\"}", NULL, &s4);
	assert_true(s1 < s2 && s2 < s3 && s3 < s4);
	assert_int_equal(stationdb_queue_count(f->a, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(stationdb_queue_count(f->b, &n), 0);
	assert_int_equal(n, 1);

	/* The head, tried twice. */
	assert_int_equal(stationdb_queue_peek(f->a, &m), 0);
	assert_int_equal(m.seq, s1);
	assert_string_equal(m.action, "StartTransaction");
	assert_string_equal(m.tx_ref, "r1");
	assert_int_equal(m.attempts, 0);
	assert_int_equal(m.last_attempt_ms, 0);
	assert_false(m.has_transaction_id);
	assert_int_equal(stationdb_msg_payload(&m, &p), 0);
	assert_null(json_object_get(p, "transactionId"));
	assert_int_equal(json_integer_value(json_object_get(p, "meterStart")), 100);
	json_decref(p);
	stationdb_msg_clear(&m);
	assert_int_equal(stationdb_queue_attempt(f->a, s1, 5000, &attempts), 0);
	assert_int_equal(attempts, 1);
	assert_int_equal(stationdb_queue_attempt(f->a, s1, 6000, NULL), 0);
	assert_int_equal(stationdb_queue_peek(f->a, &m), 0);
	assert_int_equal(m.attempts, 2);
	assert_int_equal(m.last_attempt_ms, 6000);
	stationdb_msg_clear(&m);

	/* Answered: gone, and the id known for what follows. */
	assert_int_equal(stationdb_queue_ack_start(f->a, s1, 4711), 0);
	assert_int_equal(stationdb_queue_ack_start(f->a, s1, 4711), -ENOENT);
	assert_int_equal(stationdb_queue_peek(f->a, &m), 0);
	assert_int_equal(m.seq, s2);
	assert_true(m.has_transaction_id);
	assert_int_equal(m.transaction_id, 4711);
	assert_int_equal(stationdb_msg_payload(&m, &p), 0);
	assert_int_equal(json_integer_value(json_object_get(p, "transactionId")), 4711);
	json_decref(p);
	stationdb_msg_clear(&m);
	assert_int_equal(stationdb_queue_remove(f->a, s2), 0);
	assert_int_equal(stationdb_queue_remove(f->a, s2), -ENOENT);

	/* The placeholder is replaced. */
	assert_int_equal(stationdb_queue_peek(f->a, &m), 0);
	assert_int_equal(m.seq, s3);
	assert_int_equal(stationdb_msg_payload(&m, &p), 0);
	assert_int_equal(json_integer_value(json_object_get(p, "transactionId")), 4711);
	assert_int_equal(json_integer_value(json_object_get(p, "meterStop")), 900);
	json_decref(p);
	stationdb_msg_clear(&m);
	/* Acknowledging a start needs a message with a transaction. */
	assert_int_equal(stationdb_queue_ack_start(f->a, s4, 1), -EINVAL);
	assert_int_equal(stationdb_queue_remove(f->a, s3), 0);

	/* Without a transaction reference nothing is filled in. */
	assert_int_equal(stationdb_queue_peek(f->a, &m), 0);
	assert_int_equal(m.seq, s4);
	assert_string_equal(m.tx_ref, "");
	assert_int_equal(stationdb_msg_payload(&m, &p), 0);
	assert_null(json_object_get(p, "transactionId"));
	json_decref(p);
	stationdb_msg_clear(&m);
	/* Another station's sequence number is not ours to remove. */
	assert_int_equal(stationdb_queue_remove(f->a, sb), -ENOENT);
	assert_int_equal(stationdb_queue_remove(f->a, s4), 0);
	assert_int_equal(stationdb_queue_peek(f->a, &m), -ENOENT);

	/* Station B's transaction was not mapped by A's answer. */
	assert_int_equal(stationdb_queue_peek(f->b, &m), 0);
	assert_int_equal(m.seq, sb);
	assert_false(m.has_transaction_id);
	stationdb_msg_clear(&m);

	/* Sequence numbers are never reused, even once the queue is empty. */
	push(f->a, "DataTransfer", "{\"vendorId\":\"y\"}", NULL, &s1);
	assert_true(s1 > s4);

	/* Refused: unknown transaction, not a JSON object, no action. */
	assert_int_equal(stationdb_queue_push(f->a, "MeterValues", "{}", "nope", NULL), -ENOENT);
	assert_non_null(strstr(stationdb_errmsg(f->a), "nope"));
	assert_int_equal(stationdb_queue_push(f->a, "MeterValues", "{\"broken\"", NULL, NULL), -EINVAL);
	assert_int_equal(stationdb_queue_push(f->a, "MeterValues", "[1]", NULL, NULL), -EINVAL);
	assert_int_equal(stationdb_queue_push(f->a, "MeterValues", NULL, NULL, NULL), -EINVAL);
	assert_int_equal(stationdb_queue_push(f->a, "", "{}", NULL, NULL), -EINVAL);
	assert_int_equal(stationdb_queue_count(f->a, &n), 0);
	assert_int_equal(n, 1);

	/* A transaction with queued messages is not purged. */
	assert_int_equal(stationdb_tx_finish(f->b, "r1", 0, 2000, NULL), 0);
	assert_int_equal(stationdb_tx_purge(f->b, INT64_MAX, &n), 0);
	assert_int_equal(n, 0);
}

/* StartTransaction queued together with the transaction, or neither. */
static void test_atomic_steps(void **state)
{
	struct fixture *f = *state;
	struct stationdb_tx t;
	size_t n;

	assert_int_equal(stationdb_begin(f->a), 0);
	assert_int_equal(stationdb_tx_create(f->a, "t1", 1, "TAG", 0, 1), 0);
	push(f->a, "StartTransaction", "{}", "t1", NULL);
	assert_int_equal(stationdb_rollback(f->a), 0);
	assert_int_equal(stationdb_tx_get(f->a, "t1", &t), -ENOENT);
	assert_int_equal(stationdb_queue_count(f->a, &n), 0);
	assert_int_equal(n, 0);

	assert_int_equal(stationdb_begin(f->a), 0);
	assert_int_equal(stationdb_tx_create(f->a, "t1", 1, "TAG", 0, 1), 0);
	push(f->a, "StartTransaction", "{}", "t1", NULL);
	/* A multi-row call failing inside (here after its own begin: the
	 * message has no transaction) rolls back only its own part. */
	int64_t plain;
	push(f->a, "DataTransfer", "{}", NULL, &plain);
	assert_int_equal(stationdb_queue_ack_start(f->a, plain, 1), -EINVAL);
	assert_non_null(strstr(stationdb_errmsg(f->a), "no transaction reference"));
	assert_int_equal(db_tx_depth(stationdb_db(f->a)), 1);
	assert_int_equal(stationdb_commit(f->a), 0);
	assert_int_equal(stationdb_tx_get(f->a, "t1", &t), 0);
	assert_int_equal(stationdb_queue_count(f->a, &n), 0);
	assert_int_equal(n, 2);
}

static void test_meter(void **state)
{
	struct fixture *f = *state;
	int64_t wh, t;

	assert_int_equal(stationdb_meter_get(f->a, 1, &wh, &t), -ENOENT);
	assert_int_equal(stationdb_meter_set(f->a, 1, 100, 1000), 0);
	assert_int_equal(stationdb_meter_set(f->a, 1, 150, 2000), 0);
	assert_int_equal(stationdb_meter_set(f->a, 0, 99999, 2000), 0);
	assert_int_equal(stationdb_meter_set(f->b, 1, 7, 3000), 0);
	assert_int_equal(stationdb_meter_get(f->a, 1, &wh, &t), 0);
	assert_int_equal(wh, 150);
	assert_int_equal(t, 2000);
	assert_int_equal(stationdb_meter_get(f->b, 1, &wh, &t), 0);
	assert_int_equal(wh, 7);
	assert_int_equal(stationdb_meter_set(f->a, -2, 1, 1), -EINVAL);
}

static void test_local_list(void **state)
{
	struct fixture *f = *state;
	static const struct stationdb_auth_entry full[] = {
		{ "A", "{\"status\":\"Accepted\"}" },
		{ "B", "{\"status\":\"Blocked\"}" },
		{ "C", "{\"status\":\"Accepted\",\"expiryDate\":\"2030-01-01T00:00:00Z\"}" },
	};
	static const struct stationdb_auth_entry diff[] = {
		{ "B", NULL },                           /* removed */
		{ "C", "{\"status\":\"Expired\"}" },     /* changed */
		{ "D", "{\"status\":\"Accepted\"}" },    /* added */
	};
	static const struct stationdb_auth_entry broken[] = {
		{ "E", "{\"status\":\"Accepted\"}" },
		{ "F", "{\"status\":" },
	};
	struct pairs p = { .text = "" };
	int version;
	size_t n;
	char *v;

	assert_int_equal(stationdb_local_list_version(f->a, &version), 0);
	assert_int_equal(version, 0);
	assert_int_equal(stationdb_local_list_update(f->a, 3, 1, full, 3), 0);
	assert_int_equal(stationdb_local_list_update(f->b, 9, 1, full, 1), 0);
	assert_int_equal(stationdb_local_list_version(f->a, &version), 0);
	assert_int_equal(version, 3);
	assert_int_equal(stationdb_local_list_count(f->a, &n), 0);
	assert_int_equal(n, 3);
	assert_text(stationdb_local_list_get(f->a, "B", &v), &v, "{\"status\":\"Blocked\"}");

	assert_int_equal(stationdb_local_list_update(f->a, 4, 0, diff, 3), 0);
	assert_int_equal(stationdb_local_list_each(f->a, add_pair, &p), 0);
	assert_string_equal(p.text, "A={\"status\":\"Accepted\"};C={\"status\":\"Expired\"};"
			    "D={\"status\":\"Accepted\"};");
	assert_int_equal(stationdb_local_list_get(f->a, "B", &v), -ENOENT);

	/* A broken update changes nothing, version included. */
	assert_int_equal(stationdb_local_list_update(f->a, 5, 1, broken, 2), -EINVAL);
	assert_int_equal(stationdb_local_list_version(f->a, &version), 0);
	assert_int_equal(version, 4);
	assert_int_equal(stationdb_local_list_count(f->a, &n), 0);
	assert_int_equal(n, 3);

	/* A full update replaces everything; an empty one clears. */
	assert_int_equal(stationdb_local_list_update(f->a, 6, 1, broken, 1), 0);
	assert_int_equal(stationdb_local_list_count(f->a, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(stationdb_local_list_update(f->a, 7, 1, NULL, 0), 0);
	assert_int_equal(stationdb_local_list_count(f->a, &n), 0);
	assert_int_equal(n, 0);
	/* Station B's list was never touched. */
	assert_int_equal(stationdb_local_list_version(f->b, &version), 0);
	assert_int_equal(version, 9);
	assert_int_equal(stationdb_local_list_count(f->b, &n), 0);
	assert_int_equal(n, 1);
}

static void test_auth_cache(void **state)
{
	struct fixture *f = *state;
	int64_t expiry;
	char *v;

	assert_int_equal(stationdb_auth_cache_put(f->a, "T1", "{\"status\":\"Accepted\"}", 5000), 0);
	assert_int_equal(stationdb_auth_cache_put(f->a, "T2", "{\"status\":\"Invalid\"}", 0), 0);
	assert_int_equal(stationdb_auth_cache_put(f->b, "T1", "{\"status\":\"Blocked\"}", 0), 0);
	assert_int_equal(stationdb_auth_cache_get(f->a, "T1", &v, &expiry), 0);
	assert_string_equal(v, "{\"status\":\"Accepted\"}");
	assert_int_equal(expiry, 5000);
	free(v);
	assert_int_equal(stationdb_auth_cache_get(f->a, "T2", &v, &expiry), 0);
	assert_int_equal(expiry, 0);
	free(v);
	/* Replaced. */
	assert_int_equal(stationdb_auth_cache_put(f->a, "T1", "{\"status\":\"Expired\"}", 9000), 0);
	assert_int_equal(stationdb_auth_cache_get(f->a, "T1", &v, &expiry), 0);
	assert_string_equal(v, "{\"status\":\"Expired\"}");
	assert_int_equal(expiry, 9000);
	free(v);

	assert_int_equal(stationdb_auth_cache_clear(f->a), 0);
	assert_int_equal(stationdb_auth_cache_get(f->a, "T1", &v, &expiry), -ENOENT);
	assert_null(v);
	assert_int_equal(stationdb_auth_cache_get(f->b, "T1", &v, &expiry), 0);
	free(v);
	assert_int_equal(stationdb_auth_cache_put(f->a, "T3", "Accepted", 0), -EINVAL);
}

static void test_reservations(void **state)
{
	struct fixture *f = *state;
	struct stationdb_resv r = { .id = 1, .connector = 1, .id_tag = "T1", .expiry_ms = 1000 };
	struct stationdb_resv *list;
	size_t n;

	assert_int_equal(stationdb_resv_put(f->a, &r), 0);
	r = (struct stationdb_resv){ .id = 2, .connector = 2, .id_tag = "T2",
				     .parent_id_tag = "P", .expiry_ms = 3000 };
	assert_int_equal(stationdb_resv_put(f->a, &r), 0);
	r = (struct stationdb_resv){ .id = 1, .connector = 0, .id_tag = "TB", .expiry_ms = 500 };
	assert_int_equal(stationdb_resv_put(f->b, &r), 0);
	/* Same id: replaced. */
	r = (struct stationdb_resv){ .id = 1, .connector = 3, .id_tag = "T1b", .expiry_ms = 2000 };
	assert_int_equal(stationdb_resv_put(f->a, &r), 0);

	assert_int_equal(stationdb_resv_list(f->a, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, 1);
	assert_int_equal(list[0].connector, 3);
	assert_string_equal(list[0].id_tag, "T1b");
	assert_string_equal(list[0].parent_id_tag, "");
	assert_string_equal(list[1].parent_id_tag, "P");
	assert_int_equal(list[1].expiry_ms, 3000);
	free(list);

	/* Expiry returns what it removed. */
	assert_int_equal(stationdb_resv_expire(f->a, 2000, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, 1);
	free(list);
	assert_int_equal(stationdb_resv_expire(f->a, 2000, &list, &n), 0);
	assert_int_equal(n, 0);
	assert_null(list);
	assert_int_equal(stationdb_resv_expire(f->a, 2000, NULL, NULL), 0);

	assert_int_equal(stationdb_resv_cancel(f->a, 2), 0);
	assert_int_equal(stationdb_resv_cancel(f->a, 2), -ENOENT);
	assert_int_equal(stationdb_resv_list(f->a, &list, &n), 0);
	assert_int_equal(n, 0);
	free(list);
	/* B's reservation expired in the past but nobody asked for B. */
	assert_int_equal(stationdb_resv_list(f->b, &list, &n), 0);
	assert_int_equal(n, 1);
	free(list);

	r = (struct stationdb_resv){ .id = 5, .connector = 1, .expiry_ms = 1 };
	assert_int_equal(stationdb_resv_put(f->a, &r), -EINVAL);
}

static int add_profile(void *arg, int id, int connector, const char *json)
{
	struct pairs *p = arg;
	size_t len = strlen(p->text);

	snprintf(p->text + len, sizeof p->text - len, "%d@%d:%s;", id, connector, json);
	return 0;
}

static void test_profiles(void **state)
{
	struct fixture *f = *state;
	struct pairs p = { .text = "" };

	assert_int_equal(stationdb_profile_put(f->a, 10, 0, "{\"stackLevel\":0}"), 0);
	assert_int_equal(stationdb_profile_put(f->a, 11, 1, "{\"stackLevel\":1}"), 0);
	assert_int_equal(stationdb_profile_put(f->a, 12, 2, "{\"stackLevel\":2}"), 0);
	assert_int_equal(stationdb_profile_put(f->b, 10, 1, "{\"b\":1}"), 0);
	assert_int_equal(stationdb_profile_put(f->a, 11, 1, "{\"stackLevel\":5}"), 0);

	assert_int_equal(stationdb_profile_each(f->a, -1, add_profile, &p), 0);
	assert_string_equal(p.text, "10@0:{\"stackLevel\":0};11@1:{\"stackLevel\":5};"
			    "12@2:{\"stackLevel\":2};");
	p.text[0] = '\0';
	assert_int_equal(stationdb_profile_each(f->a, 1, add_profile, &p), 0);
	assert_string_equal(p.text, "11@1:{\"stackLevel\":5};");

	assert_int_equal(stationdb_profile_delete(f->a, 11), 0);
	assert_int_equal(stationdb_profile_delete(f->a, 11), -ENOENT);
	p.text[0] = '\0';
	assert_int_equal(stationdb_profile_each(f->b, -1, add_profile, &p), 0);
	assert_string_equal(p.text, "10@1:{\"b\":1};");
	assert_int_equal(stationdb_profile_put(f->a, 13, 1, "nope"), -EINVAL);
}

static void test_persistence(void **state)
{
	struct fixture *f = *state;
	static const struct stationdb_auth_entry e = { "A", "{\"status\":\"Accepted\"}" };
	struct stationdb_resv r = { .id = 3, .connector = 1, .id_tag = "R", .expiry_ms = 99 };
	struct stationdb_tx t;
	struct stationdb_msg m;
	int64_t wh, ms;
	int version;
	char *v;

	assert_int_equal(stationdb_config_set(f->a, "K", "V"), 0);
	assert_int_equal(stationdb_tx_create(f->a, "p1", 1, "TAG", 10, 1), 0);
	push(f->a, "StartTransaction", "{\"meterStart\":10}", "p1", NULL);
	assert_int_equal(stationdb_meter_set(f->a, 1, 12, 2), 0);
	assert_int_equal(stationdb_local_list_update(f->a, 2, 1, &e, 1), 0);
	assert_int_equal(stationdb_auth_cache_put(f->a, "C", "{}", 0), 0);
	assert_int_equal(stationdb_resv_put(f->a, &r), 0);
	assert_int_equal(stationdb_profile_put(f->a, 1, 1, "{}"), 0);
	assert_int_equal(stationdb_state_set(f->a, "fw", "Idle"), 0);

	reopen(f);
	assert_text(stationdb_config_get(f->a, "K", &v), &v, "V");
	assert_int_equal(stationdb_tx_find_open(f->a, 1, &t), 0);
	assert_string_equal(t.ref, "p1");
	assert_int_equal(stationdb_queue_peek(f->a, &m), 0);
	assert_string_equal(m.action, "StartTransaction");
	assert_string_equal(m.payload, "{\"meterStart\":10}");
	stationdb_msg_clear(&m);
	assert_int_equal(stationdb_meter_get(f->a, 1, &wh, &ms), 0);
	assert_int_equal(wh, 12);
	assert_int_equal(stationdb_local_list_version(f->a, &version), 0);
	assert_int_equal(version, 2);
	assert_text(stationdb_local_list_get(f->a, "A", &v), &v, "{\"status\":\"Accepted\"}");
	assert_int_equal(stationdb_auth_cache_get(f->a, "C", &v, &ms), 0);
	free(v);
	assert_text(stationdb_state_get(f->a, "fw", &v), &v, "Idle");
	/* And station B still sees none of it. */
	assert_int_equal(stationdb_queue_peek(f->b, &m), -ENOENT);
	assert_int_equal(stationdb_config_get(f->b, "K", &v), -ENOENT);
}

/* The child opens its own connection (never carried across fork), commits
 * some work, leaves more half done inside a transaction, and dies without
 * closing anything. */
static void crash_child(const char *path)
{
	struct stationdb *st;
	struct db *db;
	char err[DB_ERRMSG_MAX];

	if (stationdb_open(path, &db, err, sizeof err) || stationdb_new(db, "CP-A", &st))
		_exit(2);
	if (stationdb_tx_create(st, "c1", 1, "TAG", 1000, 1000) ||
	    stationdb_queue_push(st, "StartTransaction", "{\"meterStart\":1000}", "c1", NULL))
		_exit(3);
	for (int i = 0; i < 5; i++) {
		if (stationdb_meter_set(st, 1, 1000 + 100 * i, 2000 + i) ||
		    stationdb_queue_push(st, "MeterValues", "{\"connectorId\":1}", "c1", NULL))
			_exit(4);
	}
	/* Half done: the stop is never committed. */
	if (stationdb_begin(st) ||
	    stationdb_tx_finish(st, "c1", 9999, 9999, "Local") ||
	    stationdb_queue_push(st, "StopTransaction", "{\"meterStop\":9999}", "c1", NULL))
		_exit(5);
	_exit(0);
}

static void test_crash_recovery(void **state)
{
	struct fixture *f = *state;
	struct stationdb_tx *open;
	struct stationdb_msg m;
	int64_t wh, ms, last = 0;
	size_t n;
	pid_t pid;
	int status;

	/* The parent's connection stays open across the child's crash, as
	 * another process sharing the file would. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		crash_child(f->path);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	reopen(f);
	/* What was committed is there; the half-done stop is not. */
	assert_int_equal(stationdb_queue_count(f->a, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(stationdb_tx_list_open(f->a, &open, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(open[0].ref, "c1");
	assert_int_equal(stationdb_meter_get(f->a, open[0].connector, &wh, &ms), 0);
	assert_int_equal(wh, 1400);
	assert_int_equal(ms, 2004);

	/* Recovery as the station does it: end the interrupted transaction
	 * with its last reading and queue the stop, atomically. */
	assert_int_equal(stationdb_begin(f->a), 0);
	assert_int_equal(stationdb_tx_finish(f->a, open[0].ref, wh, 50000, "PowerLoss"), 0);
	push(f->a, "StopTransaction", "{\"meterStop\":1400,\"reason\":\"PowerLoss\"}",
	     open[0].ref, NULL);
	assert_int_equal(stationdb_commit(f->a), 0);
	free(open);

	/* The queue delivers everything in order once connected. */
	assert_int_equal(stationdb_queue_peek(f->a, &m), 0);
	assert_string_equal(m.action, "StartTransaction");
	assert_int_equal(stationdb_queue_ack_start(f->a, m.seq, 77), 0);
	stationdb_msg_clear(&m);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(stationdb_queue_peek(f->a, &m), 0);
		assert_string_equal(m.action, "MeterValues");
		assert_int_equal(m.transaction_id, 77);
		assert_int_equal(stationdb_queue_remove(f->a, m.seq), 0);
		last = m.seq;
		stationdb_msg_clear(&m);
	}
	/* The crashed child's uncommitted stop took no sequence number. */
	expect_head(f->a, last + 1, "StopTransaction");
	assert_int_equal(stationdb_tx_list_open(f->a, &open, &n), 0);
	assert_int_equal(n, 0);
	free(open);
}

struct seen {
	int n;
	int kinds[16];
	int64_t times[16];
	char bodies[16][64];
};

static int see_sample(void *arg, enum stationdb_sample_kind kind, int64_t time_ms, const char *body)
{
	struct seen *s = arg;

	if (s->n < 16) {
		s->kinds[s->n] = (int)kind;
		s->times[s->n] = time_ms;
		snprintf(s->bodies[s->n], sizeof s->bodies[s->n], "%s", body);
	}
	s->n++;
	return 0;
}

static struct seen samples_of(struct stationdb *st, const char *ref)
{
	struct seen s = { 0 };
	assert_int_equal(stationdb_sample_each(st, ref, see_sample, &s), 0);
	return s;
}

/* Readings kept for a stop message: in order, bounded by thinning the
 * intermediate ones (never the first), kept apart per station, durable,
 * gone with their transaction. */
static void test_samples(void **state)
{
	struct fixture *f = *state;
	struct seen s;
	char body[64];
	size_t n;

	assert_int_equal(stationdb_tx_create(f->a, "s-1", 1, "TAG", 100, 1000), 0);
	assert_int_equal(stationdb_tx_create(f->b, "s-1", 1, "TAG", 100, 1000), 0);
	assert_int_equal(stationdb_sample_add(f->a, "s-1", STATIONDB_SAMPLE_BEGIN, 1000, "{\"v\":0}", 4), 0);
	for (int i = 1; i <= 4; i++) {
		snprintf(body, sizeof body, "{\"v\":%d}", i);
		assert_int_equal(stationdb_sample_add(f->a, "s-1", i == 3 ? STATIONDB_SAMPLE_CLOCK
						      : STATIONDB_SAMPLE_PERIODIC, 1000 + i, body, 4), 0);
	}
	s = samples_of(f->a, "s-1");
	assert_int_equal(s.n, 5);
	assert_int_equal(s.kinds[0], STATIONDB_SAMPLE_BEGIN);
	assert_int_equal(s.kinds[3], STATIONDB_SAMPLE_CLOCK);
	assert_string_equal(s.bodies[4], "{\"v\":4}");
	assert_int_equal(s.times[4], 1004);
	/* A fifth intermediate one: the 1st, 3rd and 5th go, the begin stays. */
	assert_int_equal(stationdb_sample_add(f->a, "s-1", STATIONDB_SAMPLE_PERIODIC, 1005, "{\"v\":5}", 4), 0);
	s = samples_of(f->a, "s-1");
	assert_int_equal(s.n, 3);
	assert_string_equal(s.bodies[0], "{\"v\":0}");
	assert_string_equal(s.bodies[1], "{\"v\":2}");
	assert_string_equal(s.bodies[2], "{\"v\":4}");
	/* No room for intermediate ones at all. */
	assert_int_equal(stationdb_sample_add(f->a, "s-1", STATIONDB_SAMPLE_PERIODIC, 1006, "{}", 0), 0);
	s = samples_of(f->a, "s-1");
	assert_int_equal(s.n, 1);
	assert_int_equal(s.kinds[0], STATIONDB_SAMPLE_BEGIN);
	/* The other station's transaction of the same name has none. */
	assert_int_equal(samples_of(f->b, "s-1").n, 0);

	/* Bad input. */
	assert_int_equal(stationdb_sample_add(f->a, "nope", STATIONDB_SAMPLE_PERIODIC, 1, "{}", 9), -ENOENT);
	assert_int_equal(stationdb_sample_add(f->a, "s-1", STATIONDB_SAMPLE_PERIODIC, 1, "[1]", 9), -EINVAL);
	assert_int_equal(stationdb_sample_add(f->a, "s-1", (enum stationdb_sample_kind)7, 1, "{}", 9), -EINVAL);
	assert_int_equal(stationdb_sample_add(f->a, "", STATIONDB_SAMPLE_PERIODIC, 1, "{}", 9), -EINVAL);

	/* Durable; cleared; gone with the transaction. */
	assert_int_equal(stationdb_sample_add(f->a, "s-1", STATIONDB_SAMPLE_PERIODIC, 1007, "{\"v\":7}", 9), 0);
	reopen(f);
	assert_int_equal(samples_of(f->a, "s-1").n, 2);
	assert_int_equal(stationdb_sample_clear(f->a, "s-1"), 0);
	assert_int_equal(samples_of(f->a, "s-1").n, 0);
	assert_int_equal(stationdb_sample_add(f->b, "s-1", STATIONDB_SAMPLE_BEGIN, 1, "{}", 9), 0);
	assert_int_equal(stationdb_tx_finish(f->b, "s-1", 200, 2000, "Local"), 0);
	assert_int_equal(stationdb_tx_purge(f->b, 3000, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(samples_of(f->b, "s-1").n, 0);
}

/* A file made by the first schema gets the samples table, its data intact. */
static void test_migration_2(void **state)
{
	struct fixture *f = *state;
	struct db_options opt;
	struct db *db;
	struct stationdb *st;
	struct stationdb_tx t;
	char path[256], err[DB_ERRMSG_MAX];
	int version;

	snprintf(path, sizeof path, "%s/old.db", f->dir);
	stationdb_db_options(&opt);
	opt.n_migrations = 1;
	assert_int_equal(db_open(path, &opt, &db, err, sizeof err), 0);
	assert_int_equal(stationdb_new(db, "CP-OLD", &st), 0);
	assert_int_equal(stationdb_tx_create(st, "old-1", 1, "TAG", 5, 6), 0);
	stationdb_free(st);
	db_close(db);

	assert_int_equal(stationdb_open(path, &db, err, sizeof err), 0);
	assert_int_equal(db_version(db, &version), 0);
	assert_int_equal(version, 2);
	assert_int_equal(stationdb_new(db, "CP-OLD", &st), 0);
	assert_int_equal(stationdb_tx_get(st, "old-1", &t), 0);
	assert_true(t.open);
	assert_int_equal(stationdb_sample_add(st, "old-1", STATIONDB_SAMPLE_BEGIN, 6, "{}", 9), 0);
	assert_int_equal(samples_of(st, "old-1").n, 1);
	stationdb_free(st);
	db_close(db);
}

/* Many stations in one file, one transaction per tick. */
static void test_many_stations(void **state)
{
	struct fixture *f = *state;
	enum { N_ST = 1000 };
	struct stationdb **st = calloc(N_ST, sizeof *st);
	char name[32];
	int64_t wh, ms;

	assert_non_null(st);
	for (int i = 0; i < N_ST; i++) {
		snprintf(name, sizeof name, "SIM-%04d", i);
		assert_int_equal(stationdb_new(f->db, name, &st[i]), 0);
	}
	for (int tick = 0; tick < 3; tick++) {
		assert_int_equal(stationdb_begin(st[0]), 0);
		for (int i = 0; i < N_ST; i++)
			assert_int_equal(stationdb_meter_set(st[i], 1, i * 10 + tick, tick), 0);
		assert_int_equal(stationdb_commit(st[0]), 0);
	}
	for (int i = 0; i < N_ST; i += 97) {
		assert_int_equal(stationdb_meter_get(st[i], 1, &wh, &ms), 0);
		assert_int_equal(wh, i * 10 + 2);
	}
	assert_int_equal(stationdb_meter_get(f->a, 1, &wh, &ms), -ENOENT);
	/* The same name is the same station. */
	struct stationdb *again;
	assert_int_equal(stationdb_new(f->db, "SIM-0042", &again), 0);
	assert_int_equal(stationdb_meter_get(again, 1, &wh, &ms), 0);
	assert_int_equal(wh, 422);
	assert_string_equal(stationdb_name(again), "SIM-0042");
	assert_ptr_equal(stationdb_db(again), f->db);
	stationdb_free(again);
	for (int i = 0; i < N_ST; i++)
		stationdb_free(st[i]);
	free(st);
	assert_int_equal(stationdb_new(f->db, "", &again), -EINVAL);
	assert_null(again);
}

static void test_refuses_other_files(void **state)
{
	struct fixture *f = *state;
	static const struct db_migration other[] = { { 1, "CREATE TABLE t (x);" } };
	struct db_options opt = { .application_id = 0x12345678, .migrations = other,
				  .n_migrations = 1 };
	char path[256], err[DB_ERRMSG_MAX];
	struct db *db;

	snprintf(path, sizeof path, "%s/other.db", f->dir);
	assert_int_equal(db_open(path, &opt, &db, err, sizeof err), 0);
	db_close(db);
	assert_int_equal(stationdb_open(path, &db, err, sizeof err), -EBADMSG);
	assert_null(db);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config),
		T(test_state),
		T(test_transactions),
		T(test_queue_order_and_mapping),
		T(test_atomic_steps),
		T(test_meter),
		T(test_local_list),
		T(test_auth_cache),
		T(test_reservations),
		T(test_profiles),
		T(test_persistence),
		T(test_crash_recovery),
		T(test_samples),
		T(test_migration_2),
		T(test_many_stations),
		T(test_refuses_other_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
