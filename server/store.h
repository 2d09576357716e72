/*
 * store.h - durable state, the only contract of the store. Each database
 * has its own backend behind it (store_sqlite.c; store_backend.h says how
 * one plugs in); what they share lives in store_common.c. Nothing above the store
 * knows SQL or can tell the backends apart.
 *
 * A struct store is one connection and belongs to one thread at a time. The
 * server gets its thread's connection from a store_pool. Every function
 * returns a store_status; output structs are filled only on STORE_OK.
 * Optional text fields are "" when absent; optional times are 0 when absent.
 * Times are milliseconds since the epoch (timeutil.h).
 *
 * Functions that must be atomic open their own transaction (SQLite: BEGIN
 * IMMEDIATE) unless the caller already holds one (store_tx_begin), in which
 * case they run inside it. Every rule the store states (unique names, the
 * last admin, the first revocation) holds across connections and processes
 * sharing one database: the database decides, not this process's memory.
 */
#ifndef MGMTD_STORE_H
#define MGMTD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "token.h"
#include "util.h"

enum store_status {
	STORE_OK = 0,
	STORE_NOT_FOUND,
	STORE_CONFLICT,    /* a unique name, email, subject, id or hash is taken */
	STORE_LAST_ADMIN,  /* the change would leave the account without an admin */
	STORE_FULL,        /* the disk or database is full: writes fail, reads go on */
	STORE_BUSY,        /* locked past the busy timeout */
	STORE_READONLY,    /* the file cannot be written; or the database accepts no writes */
	STORE_UNAVAILABLE, /* the database server cannot be reached (down, restarting) */
	STORE_ERROR,       /* anything else; logged with the database's message */
};

const char *store_status_name(enum store_status st);

struct store;

/* ---- where a store lives ---- */

enum store_backend { STORE_BACKEND_SQLITE = 0, STORE_BACKEND_POSTGRES };

/* "sqlite" or "postgres", as [store] backend names them, to the enum; 0 or -1. */
int store_backend_parse(const char *name, enum store_backend *out);

struct store_target {
	enum store_backend backend;
	/*
	 * sqlite: the database file, or a store_memory_path name. postgres: a
	 * libpq connection URL or key=value string; "" leaves everything to
	 * libpq's PG* environment variables and service file. May hold a
	 * password: never logged.
	 */
	const char *location;
	/* store_pool_new_target: connections the threads share; 0 = one per thread. */
	int pool_size;
	/*
	 * postgres: how long one statement or COMMIT may wait for the server, in
	 * milliseconds (0: STORE_PG_TIMEOUT_MS); past it the connection is
	 * dropped and the call answers STORE_UNAVAILABLE. SQLite ignores it.
	 */
	int timeout_ms;
};

#define STORE_PG_TIMEOUT_MS 5000

/*
 * Opens the store of t and applies pending migrations, as store_open does
 * for SQLite. PostgreSQL: the migrations of schema/postgres/ in order, each
 * in its own transaction, under a session advisory lock so that replicas
 * starting together apply each one once; a schema newer than this build is
 * refused. Returns 0, or -1 with a message in err.
 */
int store_connect(const struct store_target *t, struct store **out, char *err, size_t errlen);

/*
 * The SQLite store at path (store_connect of a SQLite target). Opens
 * (creating, mode 0600) the database at path, sets WAL,
 * synchronous=FULL, foreign_keys, busy_timeout, and applies pending
 * migrations (schema.h) in order, each in its own transaction, recording
 * the version in PRAGMA user_version. A database newer than this build is
 * refused. path may also come from store_memory_path: then nothing touches
 * the disk. Returns 0, or -1 with a message in err.
 */
int store_open(const char *path, struct store **out, char *err, size_t errlen);

#define STORE_MEMORY_PATH_SIZE 64

/*
 * A fresh name for an in-memory database ([server] data_dir = :memory:),
 * shared by every connection of this process that opens it, and gone when
 * the last of them closes: keep one open for the life of the server.
 */
void store_memory_path(char out[STORE_MEMORY_PATH_SIZE]);

/* Finalizes every kept statement and closes the connection. NULL is fine. */
void store_close(struct store *s);

/* The schema version of an open store (SQLite: PRAGMA user_version). */
int store_schema_version(struct store *s);

/*
 * Whether the database answers now (GET /ready): OK, or UNAVAILABLE and
 * the like. SQLite, a file this process holds open, always answers OK.
 */
enum store_status store_ping(struct store *s);

/*
 * Explicit transactions for multi-step work (the seed), one at a time: SQLite
 * BEGIN IMMEDIATE; PostgreSQL a transaction that takes an advisory lock first,
 * so that the seeds of replicas starting together run one after the other.
 * A function that fails inside such a transaction with anything but
 * NOT_FOUND or LAST_ADMIN (which change nothing) may have spoilt it
 * (PostgreSQL aborts a transaction at its first failed statement): roll back.
 */
enum store_status store_tx_begin(struct store *s);
enum store_status store_tx_commit(struct store *s);
void store_tx_rollback(struct store *s);

/*
 * For work that must be atomic whoever calls it: begins a transaction unless
 * the caller already holds one (then joins it), and says in *began which.
 * store_tx_leave(s, began, st) then commits on STORE_OK or rolls back, but
 * only what store_tx_enter began; it returns the final status.
 */
enum store_status store_tx_enter(struct store *s, bool *began);
enum store_status store_tx_leave(struct store *s, bool began, enum store_status st);

/*
 * Inside a transaction the caller holds: a savepoint (one at a time), then
 * either its release (what was done since stays in the transaction) or its
 * rollback (undone; the transaction goes on). For changes that share one
 * transaction and one commit (commitq.h), each refused on its own.
 */
enum store_status store_savepoint(struct store *s);
enum store_status store_savepoint_release(struct store *s);
enum store_status store_savepoint_rollback(struct store *s);

/*
 * Whether this store lets one writer at a time commit (SQLite): changes then
 * gain from sharing a transaction and its commit (commitq.h). PostgreSQL
 * commits concurrent transactions side by side and flushes them together.
 */
bool store_commits_serialized(struct store *s);

/*
 * A read snapshot: several reads see one state of the database and share one
 * set of locks (each statement outside a transaction takes and drops its
 * own). Begins nothing, and says so in *began, when a transaction is already
 * open. Only reads belong inside; store_read_end(s, began) ends it.
 */
enum store_status store_read_begin(struct store *s, bool *began);
void store_read_end(struct store *s, bool began);

/*
 * The store's change epoch as this connection's read snapshot sees it: a
 * number that moves whenever a change may have been committed by anyone
 * (this server, an offline command, another replica), for caches that must
 * never answer from before a commit (credcache.h). Call it inside a read
 * snapshot (store_read_begin), before the reads whose answers are kept:
 * they stay true for any later snapshot of the same epoch. False when the
 * backend cannot tell now (no read snapshot, or inside a write transaction
 * whose reads may be rolled back; on PostgreSQL, while its change channel
 * is down): cache nothing then.
 */
bool store_change_epoch(struct store *s, uint64_t *out);

/*
 * Whether the backend hears of every change now: always on SQLite (its
 * file tells); on PostgreSQL while the change channel listens.
 */
bool store_changes_heard(struct store *s);

/*
 * The test harness's named store faults (faults.h), for one request: dispatch.c sets
 * one on the request's connection before its handler runs and sets STORE_FAULT_NONE
 * once the request is done with it (store_pool_put does too). While one is set:
 *   STORE_FAULT_READ_ONLY  every statement that would write fails with STORE_READONLY
 *                          and changes nothing, as on a read-only database; reads,
 *                          BEGIN, COMMIT, ROLLBACK and savepoints work;
 *   STORE_FAULT_FULL       the same with STORE_FULL, as on a full disk;
 *   STORE_FAULT_SLOW_COMMIT (delay_ms) a write inside a transaction owes that
 *                          transaction's COMMIT a wait of delay_ms, which it makes
 *                          before it commits (a rollback forgets it); a write outside
 *                          one, its own commit, waits before it runs. What is owed
 *                          outlives STORE_FAULT_NONE, so that a change sharing a
 *                          transaction with others (commitq.h) still delays its commit.
 * Both backends meet them where the real failures would arise (SQLite: a statement
 * that is not sqlite3_stmt_readonly; PostgreSQL: an INSERT, UPDATE or DELETE) and
 * count and log them as the real ones, so everything above answers as it would.
 */
enum store_fault {
	STORE_FAULT_NONE = 0,
	STORE_FAULT_READ_ONLY,
	STORE_FAULT_FULL,
	STORE_FAULT_SLOW_COMMIT,
};

void store_fault_set(struct store *s, enum store_fault f, int delay_ms);

/* What every store connection of the process counted since start (for /metrics). */
enum store_error_kind {
	STORE_ERROR_FULL = 0,
	STORE_ERROR_BUSY,
	STORE_ERROR_READONLY,
	STORE_ERROR_OTHER,
	STORE_ERROR_KINDS
};

struct store_counters {
	uint64_t errors[STORE_ERROR_KINDS]; /* failed calls, by kind */
	uint64_t busy_retries;              /* waits for a lock another connection held */
};

void store_counters_read(struct store_counters *out);

/*
 * Connections for the server's threads. With a pool_size of 0, one per
 * thread: store_pool_get opens the calling thread's connection on first use
 * and keeps it for that thread. With pool_size N, at most N connections,
 * shared: store_pool_get lends one (waiting a while when all are lent) and
 * store_pool_put gives it back. Call store_pool_put after every
 * store_pool_get whatever the size (it does nothing for a per-thread pool).
 * The connections are opened without migrating (the server migrates once at
 * start). store_pool_free closes them all and must run only after every
 * thread that used the pool has stopped.
 */
struct store_pool;
int store_pool_new_target(const struct store_target *t, struct store_pool **out, char *err,
                          size_t errlen);
/* store_pool_new_target of the SQLite file at path, one connection per thread. */
int store_pool_new(const char *path, struct store_pool **out, char *err, size_t errlen);
struct store *store_pool_get(struct store_pool *pool); /* NULL when it cannot open or lend */
void store_pool_put(struct store_pool *pool, struct store *s); /* NULL s is fine */
void store_pool_free(struct store_pool *pool);

/* ---- accounts and clusters ---- */

struct store_account {
	char id[UUID_STR_SIZE];
	char name[256];
	int64_t created_at;
};

struct store_cluster {
	char id[UUID_STR_SIZE];
	char account_id[UUID_STR_SIZE];
	char name[256];
	char url[512];
	int64_t category; /* the number influxctl prints; 1 unless the seed says */
	int64_t created_at;
};

/*
 * The *_ensure functions serve the seed: insert when the id is new, OK when
 * a row with this id and the same content exists, CONFLICT when it differs.
 * created_at is ignored for the comparison.
 */
enum store_status store_account_ensure(struct store *s, const struct store_account *a);
enum store_status store_account_get(struct store *s, const char *id, struct store_account *out);

enum store_status store_cluster_ensure(struct store *s, const struct store_cluster *c);
enum store_status store_cluster_get(struct store *s, const char *account_id, const char *id,
                                    struct store_cluster *out);
/* Oldest first. *out is malloc'ed (NULL when *n is 0); the caller frees it. */
enum store_status store_cluster_list(struct store *s, const char *account_id,
                                     struct store_cluster **out, size_t *n);

/* ---- users ---- */

enum user_group { GROUP_ADMIN = 0, GROUP_MEMBER, GROUP_AUDITOR };

/* An issuer as users record it: an issuer URL of the configuration (at most 1023 bytes). */
#define STORE_ISSUER_SIZE 1024

const char *user_group_name(enum user_group g);
int user_group_parse(const char *name, enum user_group *out); /* 0 or -1 */

struct store_user {
	char id[UUID_STR_SIZE];
	char account_id[UUID_STR_SIZE];
	char email[321]; /* stored as given; matched without regard to ASCII case */
	char first_name[1025];
	char last_name[1025];
	enum user_group group;
	char idp_subject[1025];
	/*
	 * Who vouches for idp_subject (identity.h says what is stored); "" for none
	 * yet. A subject without an issuer is "unbound": it matches no JWT.
	 */
	char idp_issuer[STORE_ISSUER_SIZE];
	int64_t created_at;
};

/*
 * CONFLICT when the email, or the pair (idp_issuer, idp_subject) with a
 * non-empty subject, is taken in the account.
 */
enum store_status store_user_insert(struct store *s, const struct store_user *u);
enum store_status store_user_get(struct store *s, const char *account_id, const char *id,
                                 struct store_user *out);
enum store_status store_user_by_email(struct store *s, const char *account_id, const char *email,
                                      struct store_user *out);
/*
 * The user a verified JWT stands for in an account: the one whose identity
 * is (issuer, sub); else, when email is non-empty (pass only an address the
 * identity provider vouches for), the one without idp_subject whose email
 * it is and whose idp_issuer is empty or issuer. The caller tells the two
 * apart by out->idp_subject (empty: matched by email, to be linked).
 */
enum store_status store_user_for_idp(struct store *s, const char *account_id, const char *issuer,
                                     const char *sub, const char *email, struct store_user *out);
/*
 * Binds the user id, who has no subject yet, to (issuer, sub), unless an
 * issuer other than issuer was set for it: the first sign-in of a user
 * matched by email. NOT_FOUND when no such user is left (another request
 * linked it meanwhile); CONFLICT when another user of the account has that
 * identity.
 */
enum store_status store_user_link(struct store *s, const char *account_id, const char *id,
                                  const char *issuer, const char *sub);
/*
 * Users with a subject but no issuer (stored before issuers were recorded,
 * or while no identity provider was configured), of account_id or of every
 * account (NULL), oldest first, at most max; the caller frees *out.
 */
enum store_status store_users_unbound(struct store *s, const char *account_id, size_t max,
                                      struct store_user **out, size_t *n);
/*
 * Binds unbound subjects (above) to issuer: the one user id of account_id,
 * or, with both NULL, every unbound user of every account. *bound says how
 * many rows changed (0 when the user is not unbound). CONFLICT when a user
 * would take an identity another user of its account has.
 */
enum store_status store_users_bind_issuer(struct store *s, const char *account_id, const char *id,
                                          const char *issuer, int64_t *bound);
/* Users of every account with this email (ASCII case-insensitive), oldest first; caller frees. */
enum store_status store_users_by_email(struct store *s, const char *email, struct store_user **out,
                                       size_t *n);
/* Oldest first; the caller frees *out. */
enum store_status store_user_list(struct store *s, const char *account_id, struct store_user **out,
                                  size_t *n);
/*
 * Replaces the row with u (matched by account_id and id). LAST_ADMIN when u
 * demotes the account's last admin; CONFLICT on a taken email or subject.
 */
enum store_status store_user_update(struct store *s, const struct store_user *u);
/* LAST_ADMIN when the user is the account's last admin. */
enum store_status store_user_delete(struct store *s, const char *account_id, const char *id);
enum store_status store_admin_count(struct store *s, const char *account_id, long *count);

enum token_status_filter {
	TOKEN_FILTER_ALL = 0,
	TOKEN_FILTER_ACTIVE,
	TOKEN_FILTER_EXPIRED,
	TOKEN_FILTER_REVOKED,
	TOKEN_FILTER_SUSPENDED, /* mgmtd extension: suspended, neither revoked nor expired */
};

/* ---- token lists read a batch at a time ---- */

/*
 * Where a list resumes: after the row with this sort key. Token lists are in
 * (created_at, seq) order, seq being the row's insertion order in its
 * backend; above the store a cursor is opaque (tokenlist.c spells it).
 */
struct store_cursor {
	int64_t created_at;
	int64_t seq;
};

/* The longest search text, and the most rows one scan answers. */
#define STORE_SEARCH_MAX 256
#define STORE_SCAN_MAX   1001

/* Which tokens a scan answers (fields not of the scan's kind are ignored). */
struct store_token_query {
	const char *account_id;
	const char *cluster_id;          /* database tokens */
	enum token_status_filter filter; /* management tokens, by status at time now */
	int64_t now;
	bool include_revoked; /* database tokens */
	/*
	 * 0: no such filter. Else only live tokens (neither revoked nor expired
	 * at now) whose expires_at is at most now + expiring_within (ms):
	 * ?expiringWithin, combined with every other field.
	 */
	int64_t expiring_within;
	/*
	 * NULL or "": every token. Else those whose description contains it
	 * (ASCII letters in either case), and the management tokens whose prefix
	 * starts with it (exactly).
	 */
	const char *search;
	bool has_after; /* resume after the row at after */
	struct store_cursor after;
	size_t max; /* 1 to STORE_SCAN_MAX rows */
};

/* ---- management tokens ---- */

struct store_mgmt_token {
	char id[UUID_STR_SIZE];
	char account_id[UUID_STR_SIZE];
	char description[4097]; /* at most 1024 code points of UTF-8 */
	char prefix[TOKEN_PREFIX_SIZE];
	int64_t created_at;
	char created_by[UUID_STR_SIZE]; /* user id */
	int64_t expires_at;             /* 0 = never */
	int64_t revoked_at;             /* 0 = not revoked */
	char revoked_by[UUID_STR_SIZE]; /* user or management-token id; "" when unknown */
	int64_t last_used_at;           /* 0 = never used */
	/* lifecycle (mgmtd extension): see "rotation and suspension" below */
	int64_t previous_expires_at;      /* 0 = no previous secret; else its grace ends then */
	int64_t previous_last_used_at;    /* 0 = the previous secret was not used since rotation */
	int64_t suspended_at;             /* 0 = not suspended */
	char suspended_by[UUID_STR_SIZE]; /* "" when unknown or not suspended */
	bool by_previous; /* set by store_mgmt_token_by_hash: the hash was the previous one */
};

/* Stores t with the keyed hash of its secret. CONFLICT when id or hash exists. */
enum store_status store_mgmt_token_insert(struct store *s, const struct store_mgmt_token *t,
                                          const unsigned char hash[TOKEN_HASH_LEN]);
enum store_status store_mgmt_token_get(struct store *s, const char *account_id, const char *id,
                                       struct store_mgmt_token *out);
/* The token with this keyed hash, in any account and any state. */
enum store_status store_mgmt_token_by_hash(struct store *s,
                                           const unsigned char hash[TOKEN_HASH_LEN],
                                           struct store_mgmt_token *out);
/* Oldest first, filtered by status at time now; the caller frees *out. */
enum store_status store_mgmt_token_list(struct store *s, const char *account_id,
                                        enum token_status_filter filter, int64_t now,
                                        struct store_mgmt_token **out, size_t *n);
/*
 * Calls visit with each token the query selects, in list order, at most q->max
 * of them, from one consistent read of the store that ends before this
 * returns: no transaction is held between two scans. row and key live during
 * the call only; a row costs what it holds (one row buffer serves the whole
 * scan). visit returns false to stop the scan, which then answers
 * STORE_ERROR. *rows gets how many rows were visited.
 */
typedef bool (*store_mgmt_token_visit)(void *ctx, const struct store_mgmt_token *row,
                                       const struct store_cursor *key);
enum store_status store_mgmt_token_scan(struct store *s, const struct store_token_query *q,
                                        store_mgmt_token_visit visit, void *ctx, size_t *rows);
/*
 * Revokes at time now by revoked_by ("" for none). A token already revoked
 * keeps its first revoked_at and revoked_by. Fills out with the row after.
 */
enum store_status store_mgmt_token_revoke(struct store *s, const char *account_id, const char *id,
                                          int64_t now, const char *revoked_by,
                                          struct store_mgmt_token *out);
/* Sets last_used_at = now unless it was set less than min_interval_ms ago. */
enum store_status store_mgmt_token_touch(struct store *s, const char *id, int64_t now,
                                         int64_t min_interval_ms);

/*
 * ---- rotation and suspension (both kinds; mgmtd extensions) ----
 *
 * A rotation stores the hash of a new secret and keeps the current one as
 * the previous hash, valid until previous_until (<= now: ended at once). One
 * previous secret at most: rotating again drops the oldest. The hash lookups
 * (*_by_hash, store_db_authorize) find a token by either hash and say which
 * (by_previous); whether the previous secret is still within its grace is the
 * caller's to decide on its own clock, as for expires_at. CONFLICT for a
 * revoked token or one expired at now; NOT_FOUND for an unknown one. Fills out
 * with the row after. A management token's prefix becomes the new secret's.
 *
 * Suspension (suspend true) sets suspended_at = now and suspended_by (kept
 * when already suspended); resumption (suspend false) clears them (nothing to
 * do when not suspended). Both are CONFLICT for a revoked token.
 *
 * *_touch_previous sets previous_last_used_at = now unless it was set less
 * than min_interval_ms ago.
 */
enum store_status store_mgmt_token_rotate(struct store *s, const char *account_id, const char *id,
                                          const unsigned char hash[TOKEN_HASH_LEN],
                                          const char *prefix, int64_t now, int64_t previous_until,
                                          struct store_mgmt_token *out);
enum store_status store_mgmt_token_suspend(struct store *s, const char *account_id, const char *id,
                                           bool suspend, int64_t now, const char *by,
                                           struct store_mgmt_token *out);
enum store_status store_mgmt_token_touch_previous(struct store *s, const char *id, int64_t now,
                                                  int64_t min_interval_ms);

/* ---- databases and tables (CONTRACT 4.1, 4.2) ---- */

#define STORE_DB_NAME_SIZE    65   /* database names: 1 to 64 bytes */
#define STORE_TABLE_NAME_SIZE 256  /* table names: 1 to 255 bytes */
#define STORE_TEMPLATE_SIZE   4096 /* a partition template as compact JSON */

struct store_database {
	int64_t id; /* set by store_database_insert */
	char account_id[UUID_STR_SIZE];
	char cluster_id[UUID_STR_SIZE];
	char name[STORE_DB_NAME_SIZE];
	int64_t max_tables;
	int64_t max_columns_per_table;
	int64_t retention_period;                     /* nanoseconds; 0 = forever */
	char partition_template[STORE_TEMPLATE_SIZE]; /* JSON array as given; "" = none */
	int64_t created_at;
	int64_t deleted_at; /* 0 = live */
};

/*
 * Inserts d (live) and sets d->id. CONFLICT when a live database of the
 * cluster has this name; deleted ones do not hold their names.
 */
enum store_status store_database_insert(struct store *s, struct store_database *d);
/* The live database of the cluster with this name. */
enum store_status store_database_get(struct store *s, const char *account_id,
                                     const char *cluster_id, const char *name,
                                     struct store_database *out);
/* The database of the cluster with this id, live or deleted. */
enum store_status store_database_get_id(struct store *s, const char *account_id,
                                        const char *cluster_id, int64_t id,
                                        struct store_database *out);
/* Live (deleted false) or deleted databases, oldest first; the caller frees *out. */
enum store_status store_database_list(struct store *s, const char *account_id,
                                      const char *cluster_id, bool deleted,
                                      struct store_database **out, size_t *n);
/*
 * The same rows, each given to visit in turn (one row buffer for them all;
 * row lives during the call only). visit returns false to stop, and the
 * scan answers STORE_ERROR.
 */
typedef bool (*store_database_visit)(void *ctx, const struct store_database *row);
enum store_status store_database_scan(struct store *s, const char *account_id,
                                      const char *cluster_id, bool deleted,
                                      store_database_visit visit, void *ctx);
/* Writes the limits and retention period of the live database d->id. */
enum store_status store_database_update(struct store *s, const struct store_database *d);
/* Soft-deletes the live database with this name at time now. */
enum store_status store_database_delete(struct store *s, const char *account_id,
                                        const char *cluster_id, const char *name, int64_t now);
/*
 * Renames the live database name to new_name and fills out with the row
 * after. CONFLICT when another live database has new_name.
 */
enum store_status store_database_rename(struct store *s, const char *account_id,
                                        const char *cluster_id, const char *name,
                                        const char *new_name, struct store_database *out);
/*
 * Makes the deleted database id live again and fills out. NOT_FOUND when no
 * deleted database has this id; CONFLICT when a live one has its name.
 */
enum store_status store_database_undelete(struct store *s, const char *account_id,
                                          const char *cluster_id, int64_t id,
                                          struct store_database *out);
/*
 * Whether a deleted database of the cluster had this name and was deleted at
 * or after since (the test harness's name hold, delays.h): OK with the latest
 * such deletion time in *deleted_at, or NOT_FOUND when there is none.
 */
enum store_status store_database_name_held(struct store *s, const char *account_id,
                                           const char *cluster_id, const char *name, int64_t since,
                                           int64_t *deleted_at);

struct store_table {
	int64_t id; /* set by store_table_insert */
	int64_t database_id;
	char name[STORE_TABLE_NAME_SIZE];
	char partition_template[STORE_TEMPLATE_SIZE]; /* "" = none */
	int64_t created_at;
	int64_t deleted_at; /* 0 = live */
	/* Iceberg exports on (influxctl table iceberg enable); off when inserted */
	bool iceberg_export;
};

/* Inserts t (live) and sets t->id. CONFLICT when a live table of the database has its name. */
enum store_status store_table_insert(struct store *s, struct store_table *t);
/* The live table of the database with this name. */
enum store_status store_table_get(struct store *s, int64_t database_id, const char *name,
                                  struct store_table *out);
/* The table of the database with this id, live or deleted. */
enum store_status store_table_get_id(struct store *s, int64_t database_id, int64_t id,
                                     struct store_table *out);
/* Live or deleted tables of a database, oldest first; the caller frees *out. */
enum store_status store_table_list(struct store *s, int64_t database_id, bool deleted,
                                   struct store_table **out, size_t *n);
enum store_status store_table_delete(struct store *s, int64_t database_id, const char *name,
                                     int64_t now);
/* As store_database_rename, within one database. */
enum store_status store_table_rename(struct store *s, int64_t database_id, const char *name,
                                     const char *new_name, struct store_table *out);
/* As store_database_undelete, within one database. */
enum store_status store_table_undelete(struct store *s, int64_t database_id, int64_t id,
                                       struct store_table *out);
/*
 * Turns Iceberg exports of the live table of the database with this name on
 * or off and fills out with the table. Setting what is already set is no
 * error (enable and disable are idempotent). NOT_FOUND when no live table
 * has the name.
 */
enum store_status store_table_set_iceberg(struct store *s, int64_t database_id, const char *name,
                                          bool enabled, struct store_table *out);

/* ---- database tokens (CONTRACT 4.3, 4.4) ---- */

/* Enough for every database of a cluster twice over in practice; "*" covers the rest. */
#define STORE_DB_TOKEN_MAX_PERMISSIONS 64

enum db_action { DB_ACTION_READ = 0, DB_ACTION_WRITE };

const char *db_action_name(enum db_action a);
int db_action_parse(const char *name, enum db_action *out); /* 0 or -1 */

struct store_db_permission {
	enum db_action action;
	char resource[STORE_DB_NAME_SIZE]; /* a database name or "*" */
};

struct store_db_token {
	char id[UUID_STR_SIZE];
	char account_id[UUID_STR_SIZE];
	char cluster_id[UUID_STR_SIZE];
	char description[4097]; /* at most 1024 code points of UTF-8 */
	size_t permission_count;
	struct store_db_permission permissions[STORE_DB_TOKEN_MAX_PERMISSIONS];
	int64_t created_at;
	char created_by[UUID_STR_SIZE]; /* user or management-token id; "" when unknown */
	int64_t expires_at;             /* 0 = never */
	int64_t revoked_at;             /* 0 = not revoked */
	int64_t last_used_at;           /* 0 = never used (set by store_db_token_touch) */
	/* lifecycle (mgmtd extension), as in struct store_mgmt_token */
	int64_t previous_expires_at;
	int64_t previous_last_used_at;
	int64_t suspended_at;
	char suspended_by[UUID_STR_SIZE];
	bool by_previous; /* set by store_db_token_by_hash */
};

/* Stores t, its permissions and the keyed hash of its secret. CONFLICT when id or hash exists. */
enum store_status store_db_token_insert(struct store *s, const struct store_db_token *t,
                                        const unsigned char hash[TOKEN_HASH_LEN]);
enum store_status store_db_token_get(struct store *s, const char *account_id,
                                     const char *cluster_id, const char *id,
                                     struct store_db_token *out);
/* The token with this keyed hash, in any account, cluster and state. */
enum store_status store_db_token_by_hash(struct store *s, const unsigned char hash[TOKEN_HASH_LEN],
                                         struct store_db_token *out);
/* Oldest first; revoked ones only when include_revoked. The caller frees *out. */
enum store_status store_db_token_list(struct store *s, const char *account_id,
                                      const char *cluster_id, bool include_revoked,
                                      struct store_db_token **out, size_t *n);
/* As store_mgmt_token_scan, for the database tokens of q->cluster_id. */
typedef bool (*store_db_token_visit)(void *ctx, const struct store_db_token *row,
                                     const struct store_cursor *key);
enum store_status store_db_token_scan(struct store *s, const struct store_token_query *q,
                                      store_db_token_visit visit, void *ctx, size_t *rows);
/* Replaces the description and the permissions of the token t->id. */
enum store_status store_db_token_update(struct store *s, const struct store_db_token *t);
/*
 * Revokes at time now; a token already revoked keeps its first revoked_at.
 * Fills out with the row after.
 */
enum store_status store_db_token_revoke(struct store *s, const char *account_id,
                                        const char *cluster_id, const char *id, int64_t now,
                                        struct store_db_token *out);
/* As store_mgmt_token_rotate, suspend and touch_previous, for database tokens. */
enum store_status store_db_token_rotate(struct store *s, const char *account_id,
                                        const char *cluster_id, const char *id,
                                        const unsigned char hash[TOKEN_HASH_LEN], int64_t now,
                                        int64_t previous_until, struct store_db_token *out);
enum store_status store_db_token_suspend(struct store *s, const char *account_id,
                                         const char *cluster_id, const char *id, bool suspend,
                                         int64_t now, const char *by, struct store_db_token *out);
enum store_status store_db_token_touch_previous(struct store *s, const char *id, int64_t now,
                                                int64_t min_interval_ms);

/* As store_mgmt_token_touch, for the database token id (the data-plane check). */
enum store_status store_db_token_touch(struct store *s, const char *id, int64_t now,
                                       int64_t min_interval_ms);

/* What the data-plane check needs to know, from one indexed query. */
struct store_db_grant {
	char token_id[UUID_STR_SIZE];
	char account_id[UUID_STR_SIZE];
	char cluster_id[UUID_STR_SIZE];
	int64_t expires_at;   /* 0 = never */
	int64_t revoked_at;   /* 0 = not revoked */
	int64_t created_at;   /* the token's; the test harness's activation delay counts from it */
	bool permitted;       /* a permission names action on database or "*" */
	bool database_exists; /* a live database of the token's cluster has this name */
	int64_t last_used_at; /* 0 = never; whether a touch is due */
	int64_t suspended_at; /* 0 = not suspended */
	bool by_previous;     /* the hash was the token's previous one (a rotation's) */
	int64_t previous_expires_at;   /* when by_previous: the end of its grace */
	int64_t previous_last_used_at; /* when by_previous: its last recorded use; 0 = none */
};

/*
 * Looks the token up by keyed hash and answers, in the same statement,
 * whether it grants action on database. NOT_FOUND for an unknown hash.
 */
enum store_status store_db_authorize(struct store *s, const unsigned char hash[TOKEN_HASH_LEN],
                                     enum db_action action, const char *database,
                                     struct store_db_grant *out);

/*
 * Asks the database how it runs store_db_authorize: *indexed is false when
 * any step scans a table instead of searching an index (a test guards
 * "never a scan"; PostgreSQL is asked with sequential scans disfavoured, as
 * its planner rightly scans tables of a few rows).
 */
enum store_status store_db_authorize_plan(struct store *s, bool *indexed);
/* ---- invites (CONTRACT 5) ---- */

struct store_invite {
	char id[UUID_STR_SIZE];
	char account_id[UUID_STR_SIZE];
	char email[321]; /* matched without regard to ASCII case, like users' */
	enum user_group group;
	int64_t invited_at;
	char invited_by[UUID_STR_SIZE]; /* user or management-token id; "" when made offline */
	int64_t expires_at;
	int64_t accepted_at;                  /* 0 = not accepted */
	char accepted_user_id[UUID_STR_SIZE]; /* the user the acceptance created */
	int64_t revoked_at;                   /* 0 = not revoked */
	char revoked_by[UUID_STR_SIZE];       /* "" when unknown */
	int64_t replaced_at; /* 0, or when a new invite for the email closed this expired one */
};

/* Why store_invite_insert answered CONFLICT. */
enum invite_conflict {
	INVITE_CONFLICT_NONE = 0,
	INVITE_CONFLICT_USER,    /* a user of the account has the email */
	INVITE_CONFLICT_PENDING, /* an invite for the email is pending */
	INVITE_CONFLICT_ID,      /* the id is taken */
};

/*
 * Inserts i (open; its accepted, revoked and replaced fields are ignored) in
 * one transaction: CONFLICT, with *why saying which, when a user of the
 * account has i->email or an invite for it is pending at time now. Open
 * invites for the email that expired by now are closed first (replaced_at).
 */
enum store_status store_invite_insert(struct store *s, const struct store_invite *i, int64_t now,
                                      enum invite_conflict *why);
enum store_status store_invite_get(struct store *s, const char *account_id, const char *id,
                                   struct store_invite *out);
/* The most recent invite for email in the account, in any state. */
enum store_status store_invite_by_email(struct store *s, const char *account_id, const char *email,
                                        struct store_invite *out);
/* Oldest first, in every state; the caller frees *out. */
enum store_status store_invite_list(struct store *s, const char *account_id,
                                    struct store_invite **out, size_t *n);
/*
 * Invites pending at time now for email (any ASCII case) in every account,
 * oldest first (email NULL: every pending invite, at most max); the caller
 * frees *out.
 */
enum store_status store_invites_pending(struct store *s, const char *email, int64_t now, size_t max,
                                        struct store_invite **out, size_t *n);
/*
 * Revokes at time now by revoked_by ("" for none) and fills out with the row
 * after. An invite already revoked keeps its first revocation; an accepted
 * one cannot be revoked (CONFLICT: remove the user instead).
 */
enum store_status store_invite_revoke(struct store *s, const char *account_id, const char *id,
                                      int64_t now, const char *revoked_by,
                                      struct store_invite *out);
/*
 * A first sign-in: in one transaction, the invite for u->email pending at
 * time now in u->account_id is accepted and u is inserted in the invite's
 * group (u->group is set from it; u->id, idp_subject and created_at are the
 * caller's). NOT_FOUND when no invite is pending; CONFLICT when the user
 * cannot be inserted (its email or subject is taken). Fills out with the
 * invite after.
 */
enum store_status store_invite_accept(struct store *s, struct store_user *u, int64_t now,
                                      struct store_invite *out);

/* Users of every account, oldest first, at most max; the caller frees *out. */
enum store_status store_user_list_all(struct store *s, size_t max, struct store_user **out,
                                      size_t *n);

/* ---- test harness ([testing] POST /_test/reset) ---- */

/*
 * Deletes every row of every table (and AUTOINCREMENT counters), inside the
 * caller's transaction, so that the caller can put the seed back before it
 * commits: other connections see the old state or the new, never between.
 */
enum store_status store_clear_all(struct store *s);

/*
 * Deletes the account and every row that belongs to it (clusters, users, tokens of
 * both kinds, databases and their tables, invites, its audit trail), in one
 * transaction (or the caller's). NOT_FOUND when there is no such account.
 */
enum store_status store_account_delete(struct store *s, const char *account_id);

/* ---- the webhook's outbox (webhook.h; schema/0011_webhook_outbox.sql) ---- */

#define STORE_OUTBOX_TYPE_SIZE  48
#define STORE_OUTBOX_BODY_SIZE  2048
#define STORE_OUTBOX_ERROR_SIZE 200

/* An event waiting to be sent: its JSON body as it will go out, never a secret. */
struct store_outbox_event {
	char id[UUID_STR_SIZE];
	char account_id[UUID_STR_SIZE]; /* "" when none */
	char type[STORE_OUTBOX_TYPE_SIZE];
	char body[STORE_OUTBOX_BODY_SIZE];
	int64_t created_at;
	int64_t attempts;        /* sends tried and failed so far */
	int64_t next_attempt_at; /* not sent before */
};

/* Adds e, in the caller's transaction when it holds one (the change's). */
enum store_status store_outbox_insert(struct store *s, const struct store_outbox_event *e);

/*
 * Up to max events due at now (next_attempt_at <= now), each moved to
 * next_attempt_at = lease_until in the same statement, so that no other sender
 * (another replica) takes it until the lease ends; *out (malloc'ed, in no
 * particular order) holds them as they are after the move.
 */
enum store_status store_outbox_claim(struct store *s, int64_t now, int64_t lease_until, size_t max,
                                     struct store_outbox_event **out, size_t *n);

/* The receiver took it: it goes. NOT_FOUND when it is gone already. */
enum store_status store_outbox_delivered(struct store *s, const char *id);

/* A send failed: attempts and when to try again, with why (text for a person). */
enum store_status store_outbox_retry(struct store *s, const char *id, int64_t attempts,
                                     int64_t next_attempt_at, const char *last_error);

/* How many events wait, and the oldest one's created_at (0 when none). */
enum store_status store_outbox_pending(struct store *s, int64_t *count, int64_t *oldest);

/* ---- test harness snapshots ([testing] /_test/snapshots) ---- */

/*
 * A snapshot is the rows of every table of accounts and what belongs to them, as
 * they are stored (keyed hashes included, never a secret), in a form both backends
 * read and write alike: a table's columns by name, each value an integer, a text,
 * bytes or NULL. Columns a backend keeps for its own ordering are left out and made
 * again on load, so rows move between backends.
 */
enum store_value_type { STORE_VALUE_NULL = 0, STORE_VALUE_INT, STORE_VALUE_TEXT, STORE_VALUE_BLOB };

/* One column's value; borrowed for the call. text is NUL-terminated; blob has len bytes. */
struct store_value {
	enum store_value_type type;
	int64_t i;
	const char *text;
	const unsigned char *blob;
	size_t len;
};

#define STORE_ROW_MAX_COLUMNS 32

/*
 * What store_rows_dump calls: table once for each table (parents first, every
 * table in the order a load needs), then row for each of its rows in the order
 * they were made. Returning false stops the dump (it then returns STORE_ERROR;
 * the visitor knows why).
 */
struct store_rows_visitor {
	bool (*table)(void *ctx, const char *table, size_t ncols, const char *const *columns);
	bool (*row)(void *ctx, const char *table, size_t ncols, const struct store_value *values);
	void *ctx;
};

/*
 * Every row of every table, or only those of the account account_id (when not NULL),
 * read in one transaction. STORE_ERROR also when the store holds a table the
 * snapshot does not know how to take: a snapshot never silently leaves one out.
 */
enum store_status store_rows_dump(struct store *s, const char *account_id,
                                  const struct store_rows_visitor *v);

/*
 * Loading a dump, inside the caller's transaction (after store_clear_all or
 * store_account_delete): store_rows_load_begin, then store_row_load for each
 * row (the tables in store_rows_dump's order), then store_rows_load_end, which
 * moves the id counters past the loaded ids. Keys are checked at commit.
 * store_row_load answers CONFLICT for a row whose key is taken, and STORE_ERROR
 * for a table or column this store does not have (logged).
 */
enum store_status store_rows_load_begin(struct store *s);
enum store_status store_row_load(struct store *s, const char *table, size_t ncols,
                                 const char *const *columns, const struct store_value *values);
enum store_status store_rows_load_end(struct store *s);

/* ---- audit trail (schema/0004_audit.sql; audit.h writes it) ---- */

#define STORE_AUDIT_ACTOR_TYPE_SIZE 24
#define STORE_AUDIT_CREDENTIAL_SIZE 300 /* a token prefix or "jwt sub=..." */
#define STORE_AUDIT_ACTION_SIZE     64
#define STORE_AUDIT_OBJECT_SIZE     384 /* "database/table" names fit */
#define STORE_AUDIT_CLIENT_SIZE     64
#define STORE_AUDIT_OUTCOME_SIZE    16
#define STORE_AUDIT_DETAIL_SIZE     600

struct store_audit_event {
	int64_t id; /* set by store_audit_insert; rises with every row */
	char account_id[UUID_STR_SIZE];
	int64_t at;
	char actor_type[STORE_AUDIT_ACTOR_TYPE_SIZE]; /* user managementToken databaseToken local
	                                                 anonymous */
	char actor_id[UUID_STR_SIZE];                 /* user or management-token id; "" */
	char credential[STORE_AUDIT_CREDENTIAL_SIZE]; /* never a secret; "" */
	char action[STORE_AUDIT_ACTION_SIZE];         /* "database.create" */
	char object_type[32];                         /* "database"; "" */
	char object_id[STORE_AUDIT_OBJECT_SIZE];      /* "" */
	char client[STORE_AUDIT_CLIENT_SIZE];         /* "127.0.0.1"; "" */
	char outcome[STORE_AUDIT_OUTCOME_SIZE];       /* success denied failed refused */
	int status;                                   /* the HTTP status; 0 offline */
	char detail[STORE_AUDIT_DETAIL_SIZE];         /* ""; never a secret */
};

/* What store_audit_list returns: every given condition holds. */
struct store_audit_filter {
	int64_t since;      /* at >= since; 0 = no bound */
	int64_t until;      /* at < until; 0 = no bound */
	const char *action; /* NULL = any; "database.*" matches by prefix */
	const char *actor;  /* NULL = any; an actor id, or a credential as recorded */
	int64_t before_id;  /* id < before_id (the cursor); 0 = from the newest */
	size_t limit;       /* rows at most, >= 1 */
};

/*
 * Inserts e (e->id is set) inside the caller's transaction when there is
 * one, so that the row commits or rolls back with the change it records.
 */
enum store_status store_audit_insert(struct store *s, struct store_audit_event *e);
/* Newest first (id DESC); the caller frees *out. */
enum store_status store_audit_list(struct store *s, const char *account_id,
                                   const struct store_audit_filter *f,
                                   struct store_audit_event **out, size_t *n);
/* Deletes the events with at < before; *deleted gets how many. */
enum store_status store_audit_prune(struct store *s, int64_t before, int64_t *deleted);

/* ---- retention, counts, facts ---- */

/*
 * Deletes management and database tokens that were revoked, or expired,
 * before `before` (database tokens with their permissions), in one
 * transaction. *mgmt and *db get how many.
 */
enum store_status store_tokens_prune(struct store *s, int64_t before, int64_t *mgmt, int64_t *db);

/*
 * Deletes for good the databases deleted before `before` (with all their
 * tables) and the tables deleted before `before`, in one transaction (or
 * the caller's): an undelete of them is NOT_FOUND from then on. *databases
 * and *tables get how many rows went.
 */
enum store_status store_deleted_purge(struct store *s, int64_t before, int64_t *databases,
                                      int64_t *tables);

enum store_token_state { TOKEN_STATE_ACTIVE = 0, TOKEN_STATE_EXPIRED, TOKEN_STATE_REVOKED };
#define TOKEN_STATE_COUNT 3

/* The windows of store_token_counts' expiring counts, in days: 1, 7 and 30. */
#define STORE_EXPIRING_WINDOWS 3
#define STORE_DAY_MS           (86400 * (int64_t)1000)
extern const int store_expiring_days[STORE_EXPIRING_WINDOWS];

/*
 * Tokens of every account by state at time now, for /metrics; and the
 * active ones whose expires_at is at most now + store_expiring_days[i].
 */
struct store_token_counts {
	int64_t mgmt[TOKEN_STATE_COUNT];
	int64_t db[TOKEN_STATE_COUNT];
	int64_t mgmt_expiring[STORE_EXPIRING_WINDOWS];
	int64_t db_expiring[STORE_EXPIRING_WINDOWS];
};
enum store_status store_token_counts(struct store *s, int64_t now, struct store_token_counts *out);

/* A token whose coming expiry store_tokens_expiry_claim picked. */
struct store_expiring_token {
	bool management; /* else a database token */
	char id[UUID_STR_SIZE];
	char account_id[UUID_STR_SIZE];
	char cluster_id[UUID_STR_SIZE]; /* database tokens; "" otherwise */
	char description[4097];
	int64_t expires_at;
};

/*
 * Claims the live tokens of both kinds, of every account, that expire after
 * now and at most at before, and were not claimed yet: marks them claimed at
 * now and returns them, in one statement per kind, so that of several
 * processes sharing the store each token goes to exactly one, once for good.
 * At most max tokens a call (call again while *n == max). The caller frees
 * *out (NULL when *n is 0), also on failure: what *out then holds was
 * claimed before the failure and is the caller's to announce.
 */
enum store_status store_tokens_expiry_claim(struct store *s, int64_t now, int64_t before,
                                            size_t max, struct store_expiring_token **out,
                                            size_t *n);

/* A named fact (store_meta): NOT_FOUND when it was never set. */
enum store_status store_meta_get(struct store *s, const char *name, char *out, size_t outsize);
/* Sets (or replaces) a named fact. */
enum store_status store_meta_set(struct store *s, const char *name, const char *value);
/*
 * Records value under name unless a value is recorded already, and copies
 * the recorded one, whichever that is, to recorded: of several replicas
 * starting at once, the first to record wins, and all of them learn which.
 */
enum store_status store_meta_claim(struct store *s, const char *name, const char *value,
                                   char *recorded, size_t size);

/* ---- backup, restore, verify (files of this backend) ---- */

/*
 * Copies the database at db_path into a new file dest (mode 0600; refused
 * when dest exists) with SQLite's online backup: one consistent state, taken
 * while servers keep writing. Returns 0, or -1 with a message in err.
 */
int store_backup(const char *db_path, const char *dest, char *err, size_t errlen);

struct store_file_report {
	bool integrity_ok;        /* PRAGMA integrity_check said ok */
	char integrity[256];      /* its first complaint otherwise */
	int schema_version;       /* PRAGMA user_version */
	int schema_latest;        /* the newest this build knows */
	char key_fingerprint[80]; /* as recorded; "" when none is */
	int64_t accounts, management_tokens, database_tokens, audit_events;
};

/*
 * Opens the database file at path read-only, without migrating or changing
 * anything, and reports on it. Returns 0 (even when the report shows a
 * problem), or -1 with a message in err when it cannot be read as a database.
 */
int store_verify_file(const char *path, struct store_file_report *out, char *err, size_t errlen);

/*
 * Replaces the database at db_path (which no server may be using) with a copy
 * of the backup at src, through SQLite's backup API, so that stale -wal and
 * -shm files cannot mix with it. Returns 0, or -1 with a message in err.
 */
int store_restore(const char *src, const char *db_path, char *err, size_t errlen);

#endif
