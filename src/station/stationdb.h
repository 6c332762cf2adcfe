/* The station's persistent state, on store/db.
 *
 * One database file may hold many stations (one process can simulate a
 * thousand): a struct stationdb is one station's view of a shared struct db,
 * and every row is keyed by the station. Times are Unix milliseconds (the
 * caller's clock), energy is Wh.
 *
 * What is committed when:
 * - Every call that writes is atomic and durable when it returns 0: with
 *   the station's options (synchronous=FULL, WAL) the commit is on disk and
 *   survives a crash or a power cut. Multi-row operations (local list
 *   update, ack of a StartTransaction, reservation expiry) are one
 *   transaction each.
 * - Inside stationdb_begin ... stationdb_commit, calls join the caller's
 *   transaction and nothing is durable before that commit returns 0. Use it
 *   to make steps atomic together (create a transaction and queue its
 *   StartTransaction) and to batch: a process running many stations should
 *   write one tick's meter readings and MeterValues in one transaction,
 *   which costs one fsync instead of one per row. Transactions belong to
 *   the connection: they span every station sharing the struct db.
 * - Answer a CALL (or send what was queued) only after the write it
 *   depends on returned 0.
 *
 * The transaction-message queue (OCPP 1.6 StartTransaction, MeterValues of a
 * transaction, StopTransaction) delivers in order, one at a time: peek the
 * oldest, record the attempt, send, and remove it once the central system
 * acknowledged it. A message is removed only by that acknowledgement, so
 * nothing is lost to an outage, a crash or a power cut. The one window for
 * a duplicate is a crash between receiving the answer and the removal's
 * commit; attempts > 0 tells the sender a message may have been seen.
 * When a StartTransaction is answered, stationdb_queue_ack_start removes it
 * and records the central system's transactionId for its local reference
 * in one commit; messages queued for that reference then come out of
 * stationdb_msg_payload with the real transactionId.
 *
 * Errors are negative errno values: -EINVAL for bad arguments (nothing is
 * written), -ENOENT for no such row, -EEXIST for a duplicate, or what the
 * database reported; stationdb_errmsg has the words. */
#ifndef EV_STATION_STATIONDB_H
#define EV_STATION_STATIONDB_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct db;
struct db_options;
struct stationdb;

#define STATIONDB_APP_ID 0x45565354   /* "EVST" in PRAGMA application_id */
#define STATIONDB_REF_MAX 64          /* local transaction reference */
#define STATIONDB_IDTAG_MAX 64        /* 1.6 idTag: 20, 2.0.1 idToken: 36 */
#define STATIONDB_ACTION_MAX 64
#define STATIONDB_REASON_MAX 32
#define STATIONDB_KEY_MAX 128         /* configuration and state keys */

/* The station schema's options: migrations, application id, WAL with
 * synchronous=FULL. A caller may change sync (a load test, say) and pass
 * them to db_open. */
void stationdb_db_options(struct db_options *opt);
/* db_open with stationdb_db_options. */
int stationdb_open(const char *path, struct db **out, char *err, size_t errsize);

/* A station's view of db; the station's row is created on first use. The
 * db must outlive it. */
int stationdb_new(struct db *db, const char *station_id, struct stationdb **out);
void stationdb_free(struct stationdb *st);
const char *stationdb_name(const struct stationdb *st);
struct db *stationdb_db(struct stationdb *st);
const char *stationdb_errmsg(const struct stationdb *st);

/* Make several calls one atomic, durable unit (see above). They nest. */
int stationdb_begin(struct stationdb *st);
int stationdb_commit(struct stationdb *st);
int stationdb_rollback(struct stationdb *st);

/* Called for each row of a listing, with strings borrowed for the call.
 * Returning non-zero stops the listing, which then returns that value. The
 * callback may write other tables, not the one being listed. */
typedef int (*stationdb_pair_fn)(void *arg, const char *key, const char *value);

/* ---- configuration keys. get: *value is malloc'd, the caller frees it. */
int stationdb_config_set(struct stationdb *st, const char *key, const char *value);
int stationdb_config_get(struct stationdb *st, const char *key, char **value);
int stationdb_config_delete(struct stationdb *st, const char *key);
int stationdb_config_each(struct stationdb *st, stationdb_pair_fn fn, void *arg);

/* ---- the transaction-message queue */
struct stationdb_msg {
	int64_t seq;                          /* increasing, never reused */
	char action[STATIONDB_ACTION_MAX + 1];
	char *payload;                        /* JSON text as queued (owned) */
	char tx_ref[STATIONDB_REF_MAX + 1];   /* "" if none */
	int has_transaction_id;               /* the central system's id is known */
	int64_t transaction_id;
	int attempts;                         /* recorded delivery attempts */
	int64_t last_attempt_ms;              /* 0: never tried */
};

/* Queues a message; payload must be a JSON object. tx_ref (may be NULL)
 * names a transaction created with stationdb_tx_create (-ENOENT if not).
 * The sequence number is written to *seq if not NULL. */
int stationdb_queue_push(struct stationdb *st, const char *action, const char *payload,
			 const char *tx_ref, int64_t *seq);
/* The oldest message; -ENOENT if the queue is empty. Release m with
 * stationdb_msg_clear. */
int stationdb_queue_peek(struct stationdb *st, struct stationdb_msg *m);
void stationdb_msg_clear(struct stationdb_msg *m);
/* m's payload as JSON, its top-level transactionId set to the central
 * system's id when that is known (never for a StartTransaction, which has
 * none). *out is a new reference. -EBADMSG if the text is not an object. */
int stationdb_msg_payload(const struct stationdb_msg *m, json_t **out);
/* Records a delivery attempt (count + time) before sending; the new count
 * is written to *attempts if not NULL. */
int stationdb_queue_attempt(struct stationdb *st, int64_t seq, int64_t now_ms, int *attempts);
/* Removes a message the central system acknowledged (or one given up). */
int stationdb_queue_remove(struct stationdb *st, int64_t seq);
/* A StartTransaction was answered: removes it and maps its tx_ref to
 * transaction_id, in one commit. -EINVAL if the message has no tx_ref. */
int stationdb_queue_ack_start(struct stationdb *st, int64_t seq, int64_t transaction_id);
int stationdb_queue_count(struct stationdb *st, size_t *n);

/* ---- transactions */
struct stationdb_tx {
	char ref[STATIONDB_REF_MAX + 1];
	int connector;
	char id_tag[STATIONDB_IDTAG_MAX + 1];
	int64_t meter_start_wh, start_ms;
	int has_transaction_id;
	int64_t transaction_id;
	int open;
	int64_t meter_stop_wh, stop_ms;       /* when !open */
	char stop_reason[STATIONDB_REASON_MAX + 1];
};

/* -EEXIST if ref exists or the connector already has an open transaction. */
int stationdb_tx_create(struct stationdb *st, const char *ref, int connector,
			const char *id_tag, int64_t meter_start_wh, int64_t start_ms);
int stationdb_tx_set_id(struct stationdb *st, const char *ref, int64_t transaction_id);
/* Ends an open transaction (reason may be NULL); -ENOENT if ref is not
 * open. */
int stationdb_tx_finish(struct stationdb *st, const char *ref, int64_t meter_stop_wh,
			int64_t stop_ms, const char *reason);
int stationdb_tx_get(struct stationdb *st, const char *ref, struct stationdb_tx *out);
int stationdb_tx_find_open(struct stationdb *st, int connector, struct stationdb_tx *out);
/* The open transactions, by connector, as one malloc'd array (free()); at
 * start-up these are the ones a crash or power cut interrupted. */
int stationdb_tx_list_open(struct stationdb *st, struct stationdb_tx **out, size_t *n);
/* Deletes finished transactions stopped before stopped_before_ms that no
 * queued message refers to; the number deleted goes to *n if not NULL. */
int stationdb_tx_purge(struct stationdb *st, int64_t stopped_before_ms, size_t *n);

/* ---- readings of a running transaction, for its stop message */
enum stationdb_sample_kind {
	STATIONDB_SAMPLE_BEGIN,      /* at the start; never dropped */
	STATIONDB_SAMPLE_PERIODIC,   /* every sample interval from the start */
	STATIONDB_SAMPLE_CLOCK,      /* clock-aligned */
};

typedef int (*stationdb_sample_fn)(void *arg, enum stationdb_sample_kind kind, int64_t time_ms,
				   const char *body);

/* Keeps one reading of transaction ref (body: a JSON object). When more
 * than max_intermediate readings other than BEGIN are kept, every other one
 * of them is dropped, oldest first, until they fit: the rest still spans
 * the transaction. One commit (or the caller's transaction). */
int stationdb_sample_add(struct stationdb *st, const char *ref, enum stationdb_sample_kind kind,
			 int64_t time_ms, const char *body, long max_intermediate);
/* The kept readings of ref, oldest first. */
int stationdb_sample_each(struct stationdb *st, const char *ref, stationdb_sample_fn fn, void *arg);
/* Forgets them (once they are in the queued stop message). Deleting the
 * transaction (stationdb_tx_purge) deletes them too. */
int stationdb_sample_clear(struct stationdb *st, const char *ref);

/* ---- last meter reading per connector (one small upsert) */
int stationdb_meter_set(struct stationdb *st, int connector, int64_t wh, int64_t time_ms);
int stationdb_meter_get(struct stationdb *st, int connector, int64_t *wh, int64_t *time_ms);

/* ---- local authorization list */
struct stationdb_auth_entry {
	const char *id_tag;
	const char *info;   /* idTagInfo JSON object; NULL removes (differential) */
};

/* 0 if no list was ever installed. */
int stationdb_local_list_version(struct stationdb *st, int *version);
/* Full (replace everything) or differential update and the new version,
 * in one commit. All entries are checked before anything is written. */
int stationdb_local_list_update(struct stationdb *st, int version, int full,
				const struct stationdb_auth_entry *entries, size_t n);
int stationdb_local_list_get(struct stationdb *st, const char *id_tag, char **info);
int stationdb_local_list_count(struct stationdb *st, size_t *n);
int stationdb_local_list_each(struct stationdb *st, stationdb_pair_fn fn, void *arg);

/* ---- authorization cache. expiry_ms 0: none. get reports expired entries
 * too (with their expiry): the caller decides. */
int stationdb_auth_cache_put(struct stationdb *st, const char *id_tag, const char *info,
			     int64_t expiry_ms);
int stationdb_auth_cache_get(struct stationdb *st, const char *id_tag, char **info,
			     int64_t *expiry_ms);
int stationdb_auth_cache_clear(struct stationdb *st);

/* ---- reservations */
struct stationdb_resv {
	int id;
	int connector;
	char id_tag[STATIONDB_IDTAG_MAX + 1];
	char parent_id_tag[STATIONDB_IDTAG_MAX + 1];   /* "" if none */
	int64_t expiry_ms;
};

/* Adds, or replaces the reservation with the same id. */
int stationdb_resv_put(struct stationdb *st, const struct stationdb_resv *r);
int stationdb_resv_cancel(struct stationdb *st, int id);
/* All reservations by id, as one malloc'd array (free()). */
int stationdb_resv_list(struct stationdb *st, struct stationdb_resv **out, size_t *n);
/* Deletes those with expiry_ms <= now_ms and, if out is not NULL, returns
 * them (free()) so the caller can announce the connectors free again. */
int stationdb_resv_expire(struct stationdb *st, int64_t now_ms, struct stationdb_resv **out,
			  size_t *n);

/* ---- charging profiles (the JSON text as received) */
typedef int (*stationdb_profile_fn)(void *arg, int id, int connector, const char *json);

/* Adds, or replaces the profile with the same id. */
int stationdb_profile_put(struct stationdb *st, int id, int connector, const char *json);
int stationdb_profile_delete(struct stationdb *st, int id);
/* Profiles of one connector, or all with connector -1, by id. */
int stationdb_profile_each(struct stationdb *st, int connector, stationdb_profile_fn fn,
			   void *arg);

/* ---- small key/value state (firmware update, diagnostics upload) */
int stationdb_state_set(struct stationdb *st, const char *key, const char *value);
int stationdb_state_get(struct stationdb *st, const char *key, char **value);
int stationdb_state_delete(struct stationdb *st, const char *key);

#endif
