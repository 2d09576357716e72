/*
 * store_backend.h - what a store backend provides to store_common.c. Only store_common.c
 * and the backends (store_sqlite.c, ...) include it; everything else sees
 * store.h alone and cannot tell the backends apart.
 *
 * A backend's connection struct begins with a struct store whose ops point
 * at the backend's table; store_common.c calls through it. Each operation has the
 * meaning and the ownership rules of the store.h function of the same name
 * and is called only with arguments store_common.c has checked (non-NULL store,
 * permission counts within bounds). What the backends share (status and
 * group names, row shapes, the pool, the checks) lives in store_common.c.
 */
#ifndef MGMTD_STORE_BACKEND_H
#define MGMTD_STORE_BACKEND_H

#include "store.h"

struct store_ops;

/* Counting for store_counters_read: a failed call's status (answers such as NOT_FOUND are
 * not counted), a wait for another connection's lock. */
void store_count_error(enum store_status st);
void store_count_busy_retry(void);

struct store {
	const struct store_ops *ops;
	/* the test harness's fault for the request on this connection (store_fault_set) */
	enum store_fault fault;
	int fault_delay_ms;
	int commit_owed_ms; /* STORE_FAULT_SLOW_COMMIT: what the open transaction's COMMIT waits */
};

/* A table or column name of our own schema (lower case, digits, '_', at most 63
 * bytes): safe to put between double quotes in SQL text. */
bool store_plain_name(const char *name);

/*
 * A snapshot row's INSERT: INSERT INTO "table" ("c1", ...)<between>VALUES (<mark>1, ...),
 * with the backend's placeholder mark ('?' or '$') and what goes before VALUES (" " or
 * " OVERRIDING SYSTEM VALUE "). Names were checked (store_row_load). False when it does
 * not fit size.
 */
bool store_row_insert_sql(char *out, size_t size, const char *table, size_t ncols,
                          const char *const *columns, const char *between, char mark);

/*
 * The backends' side of store_fault_set, called where a statement that writes is about
 * to run (in_tx: inside a transaction that a COMMIT will end): STORE_OK to run it, or
 * the status the real failure maps to (not counted yet: the backend counts and logs it
 * as it would the real one). A slow commit is owed here, or waited for at once outside
 * a transaction.
 */
enum store_status store_fault_on_write(struct store *s, bool in_tx);

/* Before a COMMIT of a transaction that wrote: waits what is owed to it. After a ROLLBACK:
 * forgets it. */
void store_fault_before_commit(struct store *s);
void store_fault_after_rollback(struct store *s);

struct store_ops {
	const char *name; /* "sqlite", "postgres": for messages */

	void (*close)(struct store *s);
	int (*schema_version)(struct store *s);
	enum store_status (*ping)(struct store *s);
	enum store_status (*tx_begin)(struct store *s);
	enum store_status (*tx_commit)(struct store *s);
	void (*tx_rollback)(struct store *s);
	enum store_status (*read_begin)(struct store *s, bool *began);
	void (*read_end)(struct store *s, bool began);
	bool (*change_epoch)(struct store *s, uint64_t *out);
	enum store_status (*savepoint)(struct store *s);
	enum store_status (*savepoint_release)(struct store *s);
	enum store_status (*savepoint_rollback)(struct store *s);
	bool commits_serialized;
	bool (*changes_heard)(struct store *s);

	enum store_status (*account_ensure)(struct store *s, const struct store_account *a);
	enum store_status (*account_get)(struct store *s, const char *id,
	                                 struct store_account *out);
	enum store_status (*cluster_ensure)(struct store *s, const struct store_cluster *c);
	enum store_status (*cluster_get)(struct store *s, const char *account_id, const char *id,
	                                 struct store_cluster *out);
	enum store_status (*cluster_list)(struct store *s, const char *account_id,
	                                  struct store_cluster **out, size_t *n);

	enum store_status (*user_insert)(struct store *s, const struct store_user *u);
	enum store_status (*user_get)(struct store *s, const char *account_id, const char *id,
	                              struct store_user *out);
	enum store_status (*user_by_email)(struct store *s, const char *account_id,
	                                   const char *email, struct store_user *out);
	/* The user whose identity is (issuer, sub) (neither empty here). */
	enum store_status (*user_by_subject)(struct store *s, const char *account_id,
	                                     const char *issuer, const char *sub,
	                                     struct store_user *out);
	/*
	 * The user without an idp_subject whose email is email and whose
	 * idp_issuer is NULL or issuer (neither empty here).
	 */
	enum store_status (*user_by_email_unlinked)(struct store *s, const char *account_id,
	                                            const char *issuer, const char *email,
	                                            struct store_user *out);
	enum store_status (*user_link)(struct store *s, const char *account_id, const char *id,
	                               const char *issuer, const char *sub);
	enum store_status (*users_unbound)(struct store *s, const char *account_id, size_t max,
	                                   struct store_user **out, size_t *n);
	/* account_id and id both NULL (every unbound user) or both set (one). */
	enum store_status (*users_bind_issuer)(struct store *s, const char *account_id,
	                                       const char *id, const char *issuer, int64_t *bound);
	enum store_status (*users_by_email)(struct store *s, const char *email,
	                                    struct store_user **out, size_t *n);
	enum store_status (*user_list)(struct store *s, const char *account_id,
	                               struct store_user **out, size_t *n);
	enum store_status (*user_update)(struct store *s, const struct store_user *u);
	enum store_status (*user_delete)(struct store *s, const char *account_id, const char *id);
	enum store_status (*admin_count)(struct store *s, const char *account_id, long *count);

	enum store_status (*mgmt_token_insert)(struct store *s, const struct store_mgmt_token *t,
	                                       const unsigned char hash[TOKEN_HASH_LEN]);
	enum store_status (*mgmt_token_get)(struct store *s, const char *account_id, const char *id,
	                                    struct store_mgmt_token *out);
	enum store_status (*mgmt_token_by_hash)(struct store *s,
	                                        const unsigned char hash[TOKEN_HASH_LEN],
	                                        struct store_mgmt_token *out);
	enum store_status (*mgmt_token_list)(struct store *s, const char *account_id,
	                                     enum token_status_filter filter, int64_t now,
	                                     struct store_mgmt_token **out, size_t *n);
	enum store_status (*mgmt_token_scan)(struct store *s, const struct store_token_query *q,
	                                     store_mgmt_token_visit visit, void *ctx, size_t *rows);
	enum store_status (*mgmt_token_revoke)(struct store *s, const char *account_id,
	                                       const char *id, int64_t now, const char *revoked_by,
	                                       struct store_mgmt_token *out);
	enum store_status (*mgmt_token_touch)(struct store *s, const char *id, int64_t now,
	                                      int64_t min_interval_ms);
	/*
	 * The lifecycle changes as conditional UPDATEs (store_common.c wraps them in
	 * a transaction and reads the row after): rotate only a token neither revoked
	 * nor expired at now, suspend or resume only one not revoked. *changed says
	 * whether a row was updated.
	 */
	enum store_status (*mgmt_token_rotate)(struct store *s, const char *account_id,
	                                       const char *id,
	                                       const unsigned char hash[TOKEN_HASH_LEN],
	                                       const char *prefix, int64_t now,
	                                       int64_t previous_until, bool *changed);
	enum store_status (*mgmt_token_suspend)(struct store *s, const char *account_id,
	                                        const char *id, bool suspend, int64_t now,
	                                        const char *by, bool *changed);
	enum store_status (*mgmt_token_touch_previous)(struct store *s, const char *id, int64_t now,
	                                               int64_t min_interval_ms);

	enum store_status (*database_insert)(struct store *s, struct store_database *d);
	enum store_status (*database_get)(struct store *s, const char *account_id,
	                                  const char *cluster_id, const char *name,
	                                  struct store_database *out);
	enum store_status (*database_get_id)(struct store *s, const char *account_id,
	                                     const char *cluster_id, int64_t id,
	                                     struct store_database *out);
	enum store_status (*database_list)(struct store *s, const char *account_id,
	                                   const char *cluster_id, bool deleted,
	                                   struct store_database **out, size_t *n);
	enum store_status (*database_scan)(struct store *s, const char *account_id,
	                                   const char *cluster_id, bool deleted,
	                                   store_database_visit visit, void *ctx);
	enum store_status (*database_update)(struct store *s, const struct store_database *d);
	enum store_status (*database_delete)(struct store *s, const char *account_id,
	                                     const char *cluster_id, const char *name, int64_t now);
	enum store_status (*database_rename)(struct store *s, const char *account_id,
	                                     const char *cluster_id, const char *name,
	                                     const char *new_name, struct store_database *out);
	enum store_status (*database_undelete)(struct store *s, const char *account_id,
	                                       const char *cluster_id, int64_t id,
	                                       struct store_database *out);

	enum store_status (*table_insert)(struct store *s, struct store_table *t);
	enum store_status (*table_get)(struct store *s, int64_t database_id, const char *name,
	                               struct store_table *out);
	enum store_status (*table_get_id)(struct store *s, int64_t database_id, int64_t id,
	                                  struct store_table *out);
	enum store_status (*table_list)(struct store *s, int64_t database_id, bool deleted,
	                                struct store_table **out, size_t *n);
	enum store_status (*table_delete)(struct store *s, int64_t database_id, const char *name,
	                                  int64_t now);
	enum store_status (*table_rename)(struct store *s, int64_t database_id, const char *name,
	                                  const char *new_name, struct store_table *out);
	enum store_status (*table_undelete)(struct store *s, int64_t database_id, int64_t id,
	                                    struct store_table *out);
	enum store_status (*table_set_iceberg)(struct store *s, int64_t database_id,
	                                       const char *name, bool enabled,
	                                       struct store_table *out);

	enum store_status (*db_token_insert)(struct store *s, const struct store_db_token *t,
	                                     const unsigned char hash[TOKEN_HASH_LEN]);
	enum store_status (*db_token_get)(struct store *s, const char *account_id,
	                                  const char *cluster_id, const char *id,
	                                  struct store_db_token *out);
	enum store_status (*db_token_by_hash)(struct store *s,
	                                      const unsigned char hash[TOKEN_HASH_LEN],
	                                      struct store_db_token *out);
	enum store_status (*db_token_list)(struct store *s, const char *account_id,
	                                   const char *cluster_id, bool include_revoked,
	                                   struct store_db_token **out, size_t *n);
	enum store_status (*db_token_scan)(struct store *s, const struct store_token_query *q,
	                                   store_db_token_visit visit, void *ctx, size_t *rows);
	enum store_status (*db_token_update)(struct store *s, const struct store_db_token *t);
	enum store_status (*db_token_revoke)(struct store *s, const char *account_id,
	                                     const char *cluster_id, const char *id, int64_t now,
	                                     struct store_db_token *out);
	enum store_status (*db_token_rotate)(struct store *s, const char *account_id,
	                                     const char *cluster_id, const char *id,
	                                     const unsigned char hash[TOKEN_HASH_LEN], int64_t now,
	                                     int64_t previous_until, bool *changed);
	enum store_status (*db_token_suspend)(struct store *s, const char *account_id,
	                                      const char *cluster_id, const char *id, bool suspend,
	                                      int64_t now, const char *by, bool *changed);
	enum store_status (*db_token_touch_previous)(struct store *s, const char *id, int64_t now,
	                                             int64_t min_interval_ms);
	enum store_status (*db_authorize)(struct store *s, const unsigned char hash[TOKEN_HASH_LEN],
	                                  enum db_action action, const char *database,
	                                  struct store_db_grant *out);
	enum store_status (*db_authorize_plan)(struct store *s, bool *indexed);

	enum store_status (*clear_all)(struct store *s);
	enum store_status (*account_delete)(struct store *s, const char *account_id);
	/*
	 * Snapshots: rows of table (a name store_common.c checked) where filter (SQL
	 * with $1 for account_id, or NULL: every row) holds, ordered by order (SQL) or,
	 * when NULL, in the order they were made; then the backend's own table names,
	 * to find one no rule covers.
	 */
	enum store_status (*rows_dump)(struct store *s, const char *table, const char *filter,
	                               const char *order, const char *account_id,
	                               const struct store_rows_visitor *v);
	enum store_status (*table_names)(struct store *s, char names[][64], size_t max, size_t *n);
	enum store_status (*rows_load_begin)(struct store *s);
	enum store_status (*row_load)(struct store *s, const char *table, size_t ncols,
	                              const char *const *columns, const struct store_value *values);
	enum store_status (*rows_load_end)(struct store *s);
	enum store_status (*outbox_insert)(struct store *s, const struct store_outbox_event *e);
	enum store_status (*outbox_claim)(struct store *s, int64_t now, int64_t lease_until,
	                                  size_t max, struct store_outbox_event **out, size_t *n);
	enum store_status (*outbox_delivered)(struct store *s, const char *id);
	enum store_status (*outbox_retry)(struct store *s, const char *id, int64_t attempts,
	                                  int64_t next_attempt_at, const char *last_error);
	enum store_status (*outbox_pending)(struct store *s, int64_t *count, int64_t *oldest);

	enum store_status (*invite_insert)(struct store *s, const struct store_invite *i,
	                                   int64_t now, enum invite_conflict *why);
	enum store_status (*invite_get)(struct store *s, const char *account_id, const char *id,
	                                struct store_invite *out);
	enum store_status (*invite_by_email)(struct store *s, const char *account_id,
	                                     const char *email, struct store_invite *out);
	enum store_status (*invite_list)(struct store *s, const char *account_id,
	                                 struct store_invite **out, size_t *n);
	enum store_status (*invites_pending)(struct store *s, const char *email, int64_t now,
	                                     size_t max, struct store_invite **out, size_t *n);
	enum store_status (*invite_revoke)(struct store *s, const char *account_id, const char *id,
	                                   int64_t now, const char *revoked_by,
	                                   struct store_invite *out);
	enum store_status (*invite_accept)(struct store *s, struct store_user *u, int64_t now,
	                                   struct store_invite *out);
	enum store_status (*user_list_all)(struct store *s, size_t max, struct store_user **out,
	                                   size_t *n);

	enum store_status (*tx_enter)(struct store *s, bool *began);
	enum store_status (*tx_leave)(struct store *s, bool began, enum store_status st);
	enum store_status (*audit_insert)(struct store *s, struct store_audit_event *e);
	enum store_status (*audit_list)(struct store *s, const char *account_id,
	                                const struct store_audit_filter *f,
	                                struct store_audit_event **out, size_t *n);
	enum store_status (*audit_prune)(struct store *s, int64_t before, int64_t *deleted);
	enum store_status (*tokens_prune)(struct store *s, int64_t before, int64_t *mgmt,
	                                  int64_t *db);
	enum store_status (*deleted_purge)(struct store *s, int64_t before, int64_t *databases,
	                                   int64_t *tables);
	enum store_status (*database_name_held)(struct store *s, const char *account_id,
	                                        const char *cluster_id, const char *name,
	                                        int64_t since, int64_t *deleted_at);
	enum store_status (*token_counts)(struct store *s, int64_t now,
	                                  struct store_token_counts *out);
	enum store_status (*meta_get)(struct store *s, const char *name, char *out, size_t outsize);
	enum store_status (*meta_set)(struct store *s, const char *name, const char *value);
	enum store_status (*meta_claim)(struct store *s, const char *name, const char *value,
	                                char *recorded, size_t size);
	/* token expiry and use (issue 24) */
	enum store_status (*db_token_touch)(struct store *s, const char *id, int64_t now,
	                                    int64_t min_interval_ms);
	enum store_status (*tokens_expiry_claim)(struct store *s, int64_t now, int64_t before,
	                                         size_t max, struct store_expiring_token **out,
	                                         size_t *n);
};

/* ---- row shapes: what both backends' SELECTs yield, decoded once ---- */

/*
 * The column lists of the rows store.h returns, in the order of the shapes
 * below, for both backends' SELECTs (their tables have the same columns).
 */
#define CLUSTER_COLS "id, account_id, name, url, category, created_at"
#define USER_COLS                                                                                  \
	"id, account_id, email, first_name, last_name, grp, idp_subject, idp_issuer, created_at"
/* A token's lifecycle columns (schema/0009_token_lifecycle.sql), the same for both kinds. */
#define LIFECYCLE_COLS "previous_expires_at, previous_last_used_at, suspended_at, suspended_by"
#define LIFECYCLE_COLS_OF_T                                                                        \
	"t.previous_expires_at, t.previous_last_used_at, t.suspended_at, t.suspended_by"
#define LIFECYCLE_NCOLS 4
#define TOKEN_COLS                                                                                 \
	"id, account_id, description, prefix, created_at, created_by, expires_at, revoked_at, "    \
	"revoked_by, last_used_at, " LIFECYCLE_COLS
/* How many columns TOKEN_COLS has: what a statement selects after them starts there. */
#define TOKEN_NCOLS (10 + LIFECYCLE_NCOLS)
/* The columns of database tokens' own (before the backends' additions), and their count. */
#define DBTOKEN_OWN_NCOLS (9 + LIFECYCLE_NCOLS)
/*
 * What a lookup by hash answers besides the row: the filter is one index
 * search on each of the two unique hashes.
 */
#define BY_HASH_FILTER(param) " WHERE hash = " param " OR previous_hash = " param
#define DB_COLS                                                                                    \
	"id, account_id, cluster_id, name, max_tables, max_columns_per_table, retention_period, "  \
	"partition_template, created_at, deleted_at"
#define TABLE_COLS                                                                                 \
	"id, database_id, name, partition_template, created_at, deleted_at, iceberg_export"
#define INVITE_COLS                                                                                \
	"id, account_id, email, grp, invited_at, invited_by, expires_at, accepted_at, "            \
	"accepted_user_id, revoked_at, revoked_by, replaced_at"
#define AUDIT_INSERT_COLS                                                                          \
	"account_id, at, actor_type, actor_id, credential, action, object_type, object_id, "       \
	"client, outcome, status, detail"
#define OUTBOX_COLS "id, account_id, type, body, created_at, attempts, next_attempt_at"
/* An invite neither accepted, revoked nor replaced (the partial unique index's condition). */
#define INVITE_OPEN "accepted_at IS NULL AND revoked_at IS NULL AND replaced_at IS NULL"

enum store_col_kind {
	STORE_COL_TEXT,  /* char[size]; NULL reads as "" */
	STORE_COL_INT,   /* int64_t; NULL reads as 0 */
	STORE_COL_INT32, /* int; NULL reads as 0 */
	STORE_COL_GROUP, /* enum user_group, stored as its name */
	STORE_COL_BOOL,  /* bool, stored as the integer 0 or 1 (NULL reads as false) */
};

struct store_col {
	enum store_col_kind kind;
	size_t offset, size; /* of the field in the row's struct */
	const char *name;    /* the column, for messages */
};

struct store_row_shape {
	const char *table;
	size_t size; /* of the row's struct */
	size_t ncols;
	const struct store_col *cols; /* columns 0..ncols-1 of a result row, in order */
};

/* accounts (id, name, created_at) and the *_COLS lists above; db tokens: their own columns */
extern const struct store_row_shape store_account_row, store_cluster_row, store_user_row,
    store_mgmt_token_row, store_database_row, store_table_row, store_db_token_row, store_invite_row;
/* audit events: "id, " AUDIT_INSERT_COLS */
extern const struct store_row_shape store_audit_row;
/* the webhook's outbox: OUTBOX_COLS */
extern const struct store_row_shape store_outbox_row;

/* A backend's view of one result row, for store_row_read. */
struct store_row_source {
	void *row; /* the backend's handle of the row */
	/* Copies column col into dst (size bytes); NULL becomes "". False when it does not fit. */
	bool (*text)(void *row, int col, char *dst, size_t size);
	int64_t (*integer)(void *row, int col); /* NULL becomes 0 */
};

/*
 * As store_row_read, without zeroing out first: for a scan, which reuses one
 * row buffer and whose shape writes every field it reads.
 */
enum store_status store_row_refill(const struct store_row_shape *shape,
                                   const struct store_row_source *src, void *out);

/*
 * Decodes the shape's columns of a row into out (shape->size bytes, zeroed
 * first, but for the bytes of large text fields past the text decoded into
 * them). A value that does not fit the struct (a damaged or foreign row) is
 * logged and answers STORE_ERROR.
 */
enum store_status store_row_read(const struct store_row_shape *shape,
                                 const struct store_row_source *src, void *out);

/* ---- the backends' constructors (store_common.c picks one by the target's backend) ---- */

/* store_sqlite.c: store_open's work for the SQLite file (or memdb name) at path. */
int store_sqlite_open(const char *path, struct store **out, char *err, size_t errlen);

/*
 * store_pg.c: a connection to the PostgreSQL database conninfo names (a URL,
 * key=value pairs, or "" for libpq's environment); with migrate, the checks
 * and migrations store_connect promises, else the connection alone. Each
 * statement and COMMIT on it waits at most timeout_ms (0: STORE_PG_TIMEOUT_MS).
 */
int store_pg_open(const char *conninfo, bool migrate, int timeout_ms, struct store **out, char *err,
                  size_t errlen);

/*
 * store_pg.c: the change channel of a server's pool: a thread with a
 * connection of its own that LISTENs to the notifications every change to
 * the database sends (a trigger of postgres/0007), so that
 * store_change_epoch moves within moments of a change made anywhere. Started
 * with the pool of a server (store_pool_new_target) and stopped when it is
 * freed; while it is not listening, store_change_epoch answers false.
 * Returns -1 (err says why) when the thread cannot be started.
 */
int store_pg_watch_start(const char *conninfo, int timeout_ms, char *err, size_t errlen);
void store_pg_watch_stop(void);

#endif
