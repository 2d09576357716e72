/*
 * store_common.c - the backend-neutral half of the store: what every backend
 * shares (status, group and action names, the checks made before a backend
 * is called, the per-thread pool) and the store.h functions, which call the
 * backend of the connection through its table (store_backend.h). No SQL.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_backend.h"

/* How long store_pool_get waits for a connection when all of a bounded pool are lent. */
#define POOL_WAIT_MS 5000

struct store_pool {
	struct store_target target; /* its location is the pool's own copy */
	char *location;
	size_t size; /* 0: one connection per thread */
	/* size 0: the thread's own store; size N: the store lent to the thread, if any */
	pthread_key_t key;
	pthread_mutex_t lock;
	pthread_cond_t returned; /* size N: a store came back, or a slot freed */
	struct store **all;      /* every store opened through the pool, under lock */
	size_t n, cap;
	struct store **idle; /* size N: the stores not lent, under lock */
	size_t nidle;
	size_t opening; /* size N: opens under way, which count against size */
};

const char *store_status_name(enum store_status st)
{
	switch (st) {
	case STORE_OK:
		return "ok";
	case STORE_NOT_FOUND:
		return "not found";
	case STORE_CONFLICT:
		return "conflict";
	case STORE_LAST_ADMIN:
		return "last admin";
	case STORE_FULL:
		return "store full";
	case STORE_BUSY:
		return "store busy";
	case STORE_READONLY:
		return "store read-only";
	case STORE_UNAVAILABLE:
		return "store unavailable";
	case STORE_ERROR:
		break;
	}
	return "store error";
}

const char *user_group_name(enum user_group g)
{
	switch (g) {
	case GROUP_ADMIN:
		return "admin";
	case GROUP_MEMBER:
		return "member";
	case GROUP_AUDITOR:
		return "auditor";
	}
	return "unknown";
}

const char *db_action_name(enum db_action a)
{
	switch (a) {
	case DB_ACTION_READ:
		return "read";
	case DB_ACTION_WRITE:
		return "write";
	}
	return "unknown";
}

int db_action_parse(const char *name, enum db_action *out)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "read") == 0)
		*out = DB_ACTION_READ;
	else if (strcmp(name, "write") == 0)
		*out = DB_ACTION_WRITE;
	else
		return -1;
	return 0;
}

int user_group_parse(const char *name, enum user_group *out)
{
	static const enum user_group groups[] = {GROUP_ADMIN, GROUP_MEMBER, GROUP_AUDITOR};

	if (name == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (strcmp(name, user_group_name(groups[i])) == 0) {
			*out = groups[i];
			return 0;
		}
	}
	return -1;
}

int store_backend_parse(const char *name, enum store_backend *out)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "sqlite") == 0)
		*out = STORE_BACKEND_SQLITE;
	else if (strcmp(name, "postgres") == 0)
		*out = STORE_BACKEND_POSTGRES;
	else
		return -1;
	return 0;
}

/* ---- row shapes ---- */

#define FIELD_OF(type, f) (((type *)0)->f)
/* The _Generic has no default: a column whose field has another C type does not compile. */
#define TEXT_COL(type, f)                                                                          \
	{                                                                                          \
		STORE_COL_TEXT, offsetof(type, f),                                                 \
		    sizeof(FIELD_OF(type, f)) * _Generic(FIELD_OF(type, f), char * : 1), #f        \
	}
#define INT_COL(type, f)                                                                           \
	{                                                                                          \
		STORE_COL_INT, offsetof(type, f),                                                  \
		    sizeof(FIELD_OF(type, f)) * _Generic(FIELD_OF(type, f), int64_t : 1), #f       \
	}
#define INT32_COL(type, f)                                                                         \
	{                                                                                          \
		STORE_COL_INT32, offsetof(type, f),                                                \
		    sizeof(FIELD_OF(type, f)) * _Generic(FIELD_OF(type, f), int : 1), #f           \
	}
#define GROUP_COL(type, f)                                                                         \
	{                                                                                          \
		STORE_COL_GROUP, offsetof(type, f),                                                \
		    sizeof(FIELD_OF(type, f)) * _Generic(FIELD_OF(type, f), enum user_group : 1),  \
		    "grp"                                                                          \
	}
#define BOOL_COL(type, f)                                                                          \
	{                                                                                          \
		STORE_COL_BOOL, offsetof(type, f),                                                 \
		    sizeof(FIELD_OF(type, f)) * _Generic(FIELD_OF(type, f), bool : 1), #f          \
	}
#define SHAPE(name, table, type, cols)                                                             \
	const struct store_row_shape name = {table, sizeof(type), sizeof(cols) / sizeof(cols[0]),  \
	                                     cols}

static const struct store_col account_cols[] = {
    TEXT_COL(struct store_account, id),
    TEXT_COL(struct store_account, name),
    INT_COL(struct store_account, created_at),
};
SHAPE(store_account_row, "accounts", struct store_account, account_cols);

static const struct store_col cluster_cols[] = {
    TEXT_COL(struct store_cluster, id),      TEXT_COL(struct store_cluster, account_id),
    TEXT_COL(struct store_cluster, name),    TEXT_COL(struct store_cluster, url),
    INT_COL(struct store_cluster, category), INT_COL(struct store_cluster, created_at),
};
SHAPE(store_cluster_row, "clusters", struct store_cluster, cluster_cols);

static const struct store_col user_cols[] = {
    TEXT_COL(struct store_user, id),          TEXT_COL(struct store_user, account_id),
    TEXT_COL(struct store_user, email),       TEXT_COL(struct store_user, first_name),
    TEXT_COL(struct store_user, last_name),   GROUP_COL(struct store_user, group),
    TEXT_COL(struct store_user, idp_subject), TEXT_COL(struct store_user, idp_issuer),
    INT_COL(struct store_user, created_at),
};
SHAPE(store_user_row, "users", struct store_user, user_cols);

static const struct store_col token_cols[] = {
    TEXT_COL(struct store_mgmt_token, id),
    TEXT_COL(struct store_mgmt_token, account_id),
    TEXT_COL(struct store_mgmt_token, description),
    TEXT_COL(struct store_mgmt_token, prefix),
    INT_COL(struct store_mgmt_token, created_at),
    TEXT_COL(struct store_mgmt_token, created_by),
    INT_COL(struct store_mgmt_token, expires_at),
    INT_COL(struct store_mgmt_token, revoked_at),
    TEXT_COL(struct store_mgmt_token, revoked_by),
    INT_COL(struct store_mgmt_token, last_used_at),
    INT_COL(struct store_mgmt_token, previous_expires_at),
    INT_COL(struct store_mgmt_token, previous_last_used_at),
    INT_COL(struct store_mgmt_token, suspended_at),
    TEXT_COL(struct store_mgmt_token, suspended_by),
};
SHAPE(store_mgmt_token_row, "management_tokens", struct store_mgmt_token, token_cols);

static const struct store_col database_cols[] = {
    INT_COL(struct store_database, id),
    TEXT_COL(struct store_database, account_id),
    TEXT_COL(struct store_database, cluster_id),
    TEXT_COL(struct store_database, name),
    INT_COL(struct store_database, max_tables),
    INT_COL(struct store_database, max_columns_per_table),
    INT_COL(struct store_database, retention_period),
    TEXT_COL(struct store_database, partition_template),
    INT_COL(struct store_database, created_at),
    INT_COL(struct store_database, deleted_at),
};
SHAPE(store_database_row, "databases", struct store_database, database_cols);

static const struct store_col table_cols[] = {
    INT_COL(struct store_table, id),
    INT_COL(struct store_table, database_id),
    TEXT_COL(struct store_table, name),
    TEXT_COL(struct store_table, partition_template),
    INT_COL(struct store_table, created_at),
    INT_COL(struct store_table, deleted_at),
    BOOL_COL(struct store_table, iceberg_export),
};
SHAPE(store_table_row, "database_tables", struct store_table, table_cols);

/*
 * id, account_id, cluster_id, description, created_at, created_by, expires_at, revoked_at,
 * last_used_at, then LIFECYCLE_COLS
 */
static const struct store_col db_token_cols[] = {
    TEXT_COL(struct store_db_token, id),
    TEXT_COL(struct store_db_token, account_id),
    TEXT_COL(struct store_db_token, cluster_id),
    TEXT_COL(struct store_db_token, description),
    INT_COL(struct store_db_token, created_at),
    TEXT_COL(struct store_db_token, created_by),
    INT_COL(struct store_db_token, expires_at),
    INT_COL(struct store_db_token, revoked_at),
    INT_COL(struct store_db_token, last_used_at),
    INT_COL(struct store_db_token, previous_expires_at),
    INT_COL(struct store_db_token, previous_last_used_at),
    INT_COL(struct store_db_token, suspended_at),
    TEXT_COL(struct store_db_token, suspended_by),
};
SHAPE(store_db_token_row, "database_tokens", struct store_db_token, db_token_cols);

static const struct store_col invite_cols[] = {
    TEXT_COL(struct store_invite, id),
    TEXT_COL(struct store_invite, account_id),
    TEXT_COL(struct store_invite, email),
    GROUP_COL(struct store_invite, group),
    INT_COL(struct store_invite, invited_at),
    TEXT_COL(struct store_invite, invited_by),
    INT_COL(struct store_invite, expires_at),
    INT_COL(struct store_invite, accepted_at),
    TEXT_COL(struct store_invite, accepted_user_id),
    INT_COL(struct store_invite, revoked_at),
    TEXT_COL(struct store_invite, revoked_by),
    INT_COL(struct store_invite, replaced_at),
};
SHAPE(store_invite_row, "invites", struct store_invite, invite_cols);

static const struct store_col audit_cols[] = {
    INT_COL(struct store_audit_event, id),         TEXT_COL(struct store_audit_event, account_id),
    INT_COL(struct store_audit_event, at),         TEXT_COL(struct store_audit_event, actor_type),
    TEXT_COL(struct store_audit_event, actor_id),  TEXT_COL(struct store_audit_event, credential),
    TEXT_COL(struct store_audit_event, action),    TEXT_COL(struct store_audit_event, object_type),
    TEXT_COL(struct store_audit_event, object_id), TEXT_COL(struct store_audit_event, client),
    TEXT_COL(struct store_audit_event, outcome),   INT32_COL(struct store_audit_event, status),
    TEXT_COL(struct store_audit_event, detail),
};
SHAPE(store_audit_row, "audit_events", struct store_audit_event, audit_cols);

static const struct store_col outbox_cols[] = {
    TEXT_COL(struct store_outbox_event, id),
    TEXT_COL(struct store_outbox_event, account_id),
    TEXT_COL(struct store_outbox_event, type),
    TEXT_COL(struct store_outbox_event, body),
    INT_COL(struct store_outbox_event, created_at),
    INT_COL(struct store_outbox_event, attempts),
    INT_COL(struct store_outbox_event, next_attempt_at),
};
SHAPE(store_outbox_row, "webhook_outbox", struct store_outbox_event, outbox_cols);

/*
 * Zeroes out (shape->size bytes) but for the text fields larger than a few
 * words: decoding writes each of those whole (up to its NUL), and a
 * description's or a template's 4 KB would otherwise be cleared for every
 * row read, for nothing.
 */
static void zero_row(const struct store_row_shape *shape, void *out)
{
	enum { SMALL_TEXT = 64 };
	char *row = out;
	size_t pos = 0;

	for (;;) {
		const struct store_col *next = NULL;

		/* the next large text field at or after pos (a shape has a dozen columns) */
		for (size_t i = 0; i < shape->ncols; i++) {
			const struct store_col *c = &shape->cols[i];

			if (c->kind == STORE_COL_TEXT && c->size > SMALL_TEXT && c->offset >= pos &&
			    (next == NULL || c->offset < next->offset))
				next = c;
		}
		if (next == NULL)
			break;
		memset(row + pos, 0, next->offset - pos);
		row[next->offset] = '\0';
		pos = next->offset + next->size;
	}
	memset(row + pos, 0, shape->size - pos);
}

enum store_status store_row_read(const struct store_row_shape *shape,
                                 const struct store_row_source *src, void *out)
{
	zero_row(shape, out);
	return store_row_refill(shape, src, out);
}

enum store_status store_row_refill(const struct store_row_shape *shape,
                                   const struct store_row_source *src, void *out)
{
	for (size_t i = 0; i < shape->ncols; i++) {
		const struct store_col *c = &shape->cols[i];
		char *field = (char *)out + c->offset;
		enum user_group g;
		char name[16];
		int64_t v;

		switch (c->kind) {
		case STORE_COL_TEXT:
			if (!src->text(src->row, (int)i, field, c->size))
				goto bad;
			break;
		case STORE_COL_INT:
			v = src->integer(src->row, (int)i);
			memcpy(field, &v, sizeof(v));
			break;
		case STORE_COL_INT32:
			v = src->integer(src->row, (int)i);
			if (v < INT32_MIN || v > INT32_MAX)
				goto bad;
			memcpy(field, &(int){(int)v}, sizeof(int));
			break;
		case STORE_COL_BOOL:
			/* the CHECK of the column allows no more; anything else is not ours */
			v = src->integer(src->row, (int)i);
			if (v != 0 && v != 1)
				goto bad;
			memcpy(field, &(bool){v == 1}, sizeof(bool));
			break;
		case STORE_COL_GROUP:
			if (!src->text(src->row, (int)i, name, sizeof(name)) ||
			    user_group_parse(name, &g) != 0)
				goto bad;
			memcpy(field, &g, sizeof(g));
			break;
		}
		continue;
	bad:
		log_error("store: a %s row has a %s that does not fit this build; refusing it",
		          shape->table, c->name);
		return STORE_ERROR;
	}
	return STORE_OK;
}

/* ---- open and close ---- */

/* A connection to the store of t; migrated too unless connect_only. */
static int open_target(const struct store_target *t, bool connect_only, struct store **out,
                       char *err, size_t errlen)
{
	const char *location = t->location ? t->location : "";

	switch (t->backend) {
	case STORE_BACKEND_SQLITE:
		/* A check of user_version is all a migrated SQLite file costs. */
		return store_sqlite_open(location, out, err, errlen);
	case STORE_BACKEND_POSTGRES:
		return store_pg_open(location, !connect_only, t->timeout_ms, out, err, errlen);
	}
	*out = NULL;
	snprintf(err, errlen, "unknown store backend %d", (int)t->backend);
	return -1;
}

int store_connect(const struct store_target *t, struct store **out, char *err, size_t errlen)
{
	return open_target(t, false, out, err, errlen);
}

int store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	return store_sqlite_open(path, out, err, errlen);
}

void store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

void store_tx_rollback(struct store *s)
{
	if (s != NULL)
		s->ops->tx_rollback(s);
}

void store_read_end(struct store *s, bool began)
{
	s->ops->read_end(s, began);
}

/* ---- through the backend ---- */

int store_schema_version(struct store *s)
{
	return s->ops->schema_version(s);
}

enum store_status store_ping(struct store *s)
{
	return s->ops->ping(s);
}

enum store_status store_tx_begin(struct store *s)
{
	return s->ops->tx_begin(s);
}

enum store_status store_tx_commit(struct store *s)
{
	return s->ops->tx_commit(s);
}

/* ---- the test harness's faults (store.h: store_fault_set) ---- */

void store_fault_set(struct store *s, enum store_fault f, int delay_ms)
{
	if (s == NULL)
		return;
	s->fault = f;
	s->fault_delay_ms = f == STORE_FAULT_SLOW_COMMIT && delay_ms > 0 ? delay_ms : 0;
}

static void wait_ms(int ms)
{
	struct timespec left = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	/* a signal cuts the wait short; the rest is still waited for */
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
}

enum store_status store_fault_on_write(struct store *s, bool in_tx)
{
	switch (s->fault) {
	case STORE_FAULT_NONE:
		break;
	case STORE_FAULT_READ_ONLY:
		return STORE_READONLY;
	case STORE_FAULT_FULL:
		return STORE_FULL;
	case STORE_FAULT_SLOW_COMMIT:
		if (!in_tx)
			wait_ms(s->fault_delay_ms);
		else if (s->commit_owed_ms < s->fault_delay_ms)
			s->commit_owed_ms = s->fault_delay_ms;
		break;
	}
	return STORE_OK;
}

void store_fault_before_commit(struct store *s)
{
	int ms = s->commit_owed_ms;

	s->commit_owed_ms = 0;
	if (ms > 0)
		wait_ms(ms);
}

void store_fault_after_rollback(struct store *s)
{
	s->commit_owed_ms = 0;
}

static atomic_uint_fast64_t error_counts[STORE_ERROR_KINDS], busy_retry_count;

void store_count_error(enum store_status st)
{
	enum store_error_kind kind;

	switch (st) {
	case STORE_FULL:
		kind = STORE_ERROR_FULL;
		break;
	case STORE_BUSY:
		kind = STORE_ERROR_BUSY;
		break;
	case STORE_READONLY:
		kind = STORE_ERROR_READONLY;
		break;
	case STORE_OK:
	case STORE_NOT_FOUND:
	case STORE_CONFLICT:
	case STORE_LAST_ADMIN:
		return; /* answers, not errors */
	default:
		kind = STORE_ERROR_OTHER;
		break;
	}
	atomic_fetch_add_explicit(&error_counts[kind], 1, memory_order_relaxed);
}

void store_count_busy_retry(void)
{
	atomic_fetch_add_explicit(&busy_retry_count, 1, memory_order_relaxed);
}

void store_counters_read(struct store_counters *out)
{
	for (size_t i = 0; i < STORE_ERROR_KINDS; i++)
		out->errors[i] = atomic_load_explicit(&error_counts[i], memory_order_relaxed);
	out->busy_retries = atomic_load_explicit(&busy_retry_count, memory_order_relaxed);
}

bool store_change_epoch(struct store *s, uint64_t *out)
{
	return s != NULL && s->ops->change_epoch(s, out);
}

enum store_status store_savepoint(struct store *s)
{
	return s->ops->savepoint(s);
}

enum store_status store_savepoint_release(struct store *s)
{
	return s->ops->savepoint_release(s);
}

enum store_status store_savepoint_rollback(struct store *s)
{
	return s->ops->savepoint_rollback(s);
}

bool store_commits_serialized(struct store *s)
{
	return s != NULL && s->ops->commits_serialized;
}

bool store_changes_heard(struct store *s)
{
	return s != NULL && s->ops->changes_heard(s);
}

enum store_status store_read_begin(struct store *s, bool *began)
{
	return s->ops->read_begin(s, began);
}

enum store_status store_account_ensure(struct store *s, const struct store_account *a)
{
	return s->ops->account_ensure(s, a);
}

enum store_status store_account_get(struct store *s, const char *id, struct store_account *out)
{
	return s->ops->account_get(s, id, out);
}

enum store_status store_cluster_ensure(struct store *s, const struct store_cluster *c)
{
	return s->ops->cluster_ensure(s, c);
}

enum store_status store_cluster_get(struct store *s, const char *account_id, const char *id,
                                    struct store_cluster *out)
{
	return s->ops->cluster_get(s, account_id, id, out);
}

enum store_status store_cluster_list(struct store *s, const char *account_id,
                                     struct store_cluster **out, size_t *n)
{
	return s->ops->cluster_list(s, account_id, out, n);
}

enum store_status store_user_insert(struct store *s, const struct store_user *u)
{
	return s->ops->user_insert(s, u);
}

enum store_status store_user_get(struct store *s, const char *account_id, const char *id,
                                 struct store_user *out)
{
	return s->ops->user_get(s, account_id, id, out);
}

enum store_status store_user_by_email(struct store *s, const char *account_id, const char *email,
                                      struct store_user *out)
{
	return s->ops->user_by_email(s, account_id, email, out);
}

enum store_status store_users_by_email(struct store *s, const char *email, struct store_user **out,
                                       size_t *n)
{
	return s->ops->users_by_email(s, email, out, n);
}

enum store_status store_user_list(struct store *s, const char *account_id, struct store_user **out,
                                  size_t *n)
{
	return s->ops->user_list(s, account_id, out, n);
}

enum store_status store_user_update(struct store *s, const struct store_user *u)
{
	return s->ops->user_update(s, u);
}

enum store_status store_user_delete(struct store *s, const char *account_id, const char *id)
{
	return s->ops->user_delete(s, account_id, id);
}

enum store_status store_admin_count(struct store *s, const char *account_id, long *count)
{
	return s->ops->admin_count(s, account_id, count);
}

enum store_status store_mgmt_token_insert(struct store *s, const struct store_mgmt_token *t,
                                          const unsigned char hash[TOKEN_HASH_LEN])
{
	return s->ops->mgmt_token_insert(s, t, hash);
}

enum store_status store_mgmt_token_get(struct store *s, const char *account_id, const char *id,
                                       struct store_mgmt_token *out)
{
	return s->ops->mgmt_token_get(s, account_id, id, out);
}

enum store_status store_mgmt_token_by_hash(struct store *s,
                                           const unsigned char hash[TOKEN_HASH_LEN],
                                           struct store_mgmt_token *out)
{
	return s->ops->mgmt_token_by_hash(s, hash, out);
}

enum store_status store_mgmt_token_list(struct store *s, const char *account_id,
                                        enum token_status_filter filter, int64_t now,
                                        struct store_mgmt_token **out, size_t *n)
{
	return s->ops->mgmt_token_list(s, account_id, filter, now, out, n);
}

/* Scans are bounded and their search text too: the backends rely on it. */
static bool token_query_ok(const struct store_token_query *q, bool db_tokens)
{
	if (q->account_id == NULL || (db_tokens && q->cluster_id == NULL) || q->max == 0 ||
	    q->max > STORE_SCAN_MAX ||
	    (q->search != NULL && strlen(q->search) > STORE_SEARCH_MAX)) {
		log_error("store: a token scan out of bounds");
		return false;
	}
	return true;
}

enum store_status store_mgmt_token_scan(struct store *s, const struct store_token_query *q,
                                        store_mgmt_token_visit visit, void *ctx, size_t *rows)
{
	*rows = 0;
	if (!token_query_ok(q, false))
		return STORE_ERROR;
	return s->ops->mgmt_token_scan(s, q, visit, ctx, rows);
}

enum store_status store_db_token_scan(struct store *s, const struct store_token_query *q,
                                      store_db_token_visit visit, void *ctx, size_t *rows)
{
	*rows = 0;
	if (!token_query_ok(q, true))
		return STORE_ERROR;
	return s->ops->db_token_scan(s, q, visit, ctx, rows);
}

enum store_status store_mgmt_token_revoke(struct store *s, const char *account_id, const char *id,
                                          int64_t now, const char *revoked_by,
                                          struct store_mgmt_token *out)
{
	return s->ops->mgmt_token_revoke(s, account_id, id, now, revoked_by, out);
}

enum store_status store_mgmt_token_touch(struct store *s, const char *id, int64_t now,
                                         int64_t min_interval_ms)
{
	return s->ops->mgmt_token_touch(s, id, now, min_interval_ms);
}

/*
 * What a lifecycle change that updated no row means, from the row as it is:
 * NOT_FOUND (no such token), OK (a suspension or resumption with nothing to
 * do) or CONFLICT (revoked; for a rotation, also expired).
 */
static enum store_status lifecycle_unchanged(bool rotation, int64_t revoked_at, int64_t expires_at,
                                             int64_t now)
{
	if (revoked_at != 0)
		return STORE_CONFLICT;
	if (rotation)
		return expires_at != 0 && expires_at <= now ? STORE_CONFLICT : STORE_ERROR;
	return STORE_OK;
}

enum store_status store_mgmt_token_rotate(struct store *s, const char *account_id, const char *id,
                                          const unsigned char hash[TOKEN_HASH_LEN],
                                          const char *prefix, int64_t now, int64_t previous_until,
                                          struct store_mgmt_token *out)
{
	enum store_status st;
	bool began, changed = false;

	/* The update and the row read after it: one transaction, one state. */
	st = store_tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = s->ops->mgmt_token_rotate(s, account_id, id, hash, prefix, now, previous_until,
	                               &changed);
	if (st == STORE_OK)
		st = store_mgmt_token_get(s, account_id, id, out);
	if (st == STORE_OK && !changed)
		st = lifecycle_unchanged(true, out->revoked_at, out->expires_at, now);
	return store_tx_leave(s, began, st);
}

enum store_status store_mgmt_token_suspend(struct store *s, const char *account_id, const char *id,
                                           bool suspend, int64_t now, const char *by,
                                           struct store_mgmt_token *out)
{
	enum store_status st;
	bool began, changed = false;

	st = store_tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = s->ops->mgmt_token_suspend(s, account_id, id, suspend, now, by, &changed);
	if (st == STORE_OK)
		st = store_mgmt_token_get(s, account_id, id, out);
	if (st == STORE_OK && !changed)
		st = lifecycle_unchanged(false, out->revoked_at, out->expires_at, now);
	return store_tx_leave(s, began, st);
}

enum store_status store_mgmt_token_touch_previous(struct store *s, const char *id, int64_t now,
                                                  int64_t min_interval_ms)
{
	return s->ops->mgmt_token_touch_previous(s, id, now, min_interval_ms);
}

enum store_status store_db_token_rotate(struct store *s, const char *account_id,
                                        const char *cluster_id, const char *id,
                                        const unsigned char hash[TOKEN_HASH_LEN], int64_t now,
                                        int64_t previous_until, struct store_db_token *out)
{
	enum store_status st;
	bool began, changed = false;

	st = store_tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = s->ops->db_token_rotate(s, account_id, cluster_id, id, hash, now, previous_until,
	                             &changed);
	if (st == STORE_OK)
		st = store_db_token_get(s, account_id, cluster_id, id, out);
	if (st == STORE_OK && !changed)
		st = lifecycle_unchanged(true, out->revoked_at, out->expires_at, now);
	return store_tx_leave(s, began, st);
}

enum store_status store_db_token_suspend(struct store *s, const char *account_id,
                                         const char *cluster_id, const char *id, bool suspend,
                                         int64_t now, const char *by, struct store_db_token *out)
{
	enum store_status st;
	bool began, changed = false;

	st = store_tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = s->ops->db_token_suspend(s, account_id, cluster_id, id, suspend, now, by, &changed);
	if (st == STORE_OK)
		st = store_db_token_get(s, account_id, cluster_id, id, out);
	if (st == STORE_OK && !changed)
		st = lifecycle_unchanged(false, out->revoked_at, out->expires_at, now);
	return store_tx_leave(s, began, st);
}

enum store_status store_db_token_touch_previous(struct store *s, const char *id, int64_t now,
                                                int64_t min_interval_ms)
{
	return s->ops->db_token_touch_previous(s, id, now, min_interval_ms);
}

enum store_status store_database_insert(struct store *s, struct store_database *d)
{
	return s->ops->database_insert(s, d);
}

enum store_status store_database_get(struct store *s, const char *account_id,
                                     const char *cluster_id, const char *name,
                                     struct store_database *out)
{
	return s->ops->database_get(s, account_id, cluster_id, name, out);
}

enum store_status store_database_get_id(struct store *s, const char *account_id,
                                        const char *cluster_id, int64_t id,
                                        struct store_database *out)
{
	return s->ops->database_get_id(s, account_id, cluster_id, id, out);
}

enum store_status store_database_list(struct store *s, const char *account_id,
                                      const char *cluster_id, bool deleted,
                                      struct store_database **out, size_t *n)
{
	return s->ops->database_list(s, account_id, cluster_id, deleted, out, n);
}

enum store_status store_database_scan(struct store *s, const char *account_id,
                                      const char *cluster_id, bool deleted,
                                      store_database_visit visit, void *ctx)
{
	return s->ops->database_scan(s, account_id, cluster_id, deleted, visit, ctx);
}

enum store_status store_database_update(struct store *s, const struct store_database *d)
{
	return s->ops->database_update(s, d);
}

enum store_status store_database_delete(struct store *s, const char *account_id,
                                        const char *cluster_id, const char *name, int64_t now)
{
	return s->ops->database_delete(s, account_id, cluster_id, name, now);
}

enum store_status store_database_rename(struct store *s, const char *account_id,
                                        const char *cluster_id, const char *name,
                                        const char *new_name, struct store_database *out)
{
	return s->ops->database_rename(s, account_id, cluster_id, name, new_name, out);
}

enum store_status store_database_undelete(struct store *s, const char *account_id,
                                          const char *cluster_id, int64_t id,
                                          struct store_database *out)
{
	return s->ops->database_undelete(s, account_id, cluster_id, id, out);
}

enum store_status store_table_insert(struct store *s, struct store_table *t)
{
	return s->ops->table_insert(s, t);
}

enum store_status store_table_get(struct store *s, int64_t database_id, const char *name,
                                  struct store_table *out)
{
	return s->ops->table_get(s, database_id, name, out);
}

enum store_status store_table_get_id(struct store *s, int64_t database_id, int64_t id,
                                     struct store_table *out)
{
	return s->ops->table_get_id(s, database_id, id, out);
}

enum store_status store_table_list(struct store *s, int64_t database_id, bool deleted,
                                   struct store_table **out, size_t *n)
{
	return s->ops->table_list(s, database_id, deleted, out, n);
}

enum store_status store_table_delete(struct store *s, int64_t database_id, const char *name,
                                     int64_t now)
{
	return s->ops->table_delete(s, database_id, name, now);
}

enum store_status store_table_rename(struct store *s, int64_t database_id, const char *name,
                                     const char *new_name, struct store_table *out)
{
	return s->ops->table_rename(s, database_id, name, new_name, out);
}

enum store_status store_table_undelete(struct store *s, int64_t database_id, int64_t id,
                                       struct store_table *out)
{
	return s->ops->table_undelete(s, database_id, id, out);
}

enum store_status store_table_set_iceberg(struct store *s, int64_t database_id, const char *name,
                                          bool enabled, struct store_table *out)
{
	return s->ops->table_set_iceberg(s, database_id, name, enabled, out);
}

enum store_status store_db_token_get(struct store *s, const char *account_id,
                                     const char *cluster_id, const char *id,
                                     struct store_db_token *out)
{
	return s->ops->db_token_get(s, account_id, cluster_id, id, out);
}

enum store_status store_db_token_by_hash(struct store *s, const unsigned char hash[TOKEN_HASH_LEN],
                                         struct store_db_token *out)
{
	return s->ops->db_token_by_hash(s, hash, out);
}

enum store_status store_db_token_list(struct store *s, const char *account_id,
                                      const char *cluster_id, bool include_revoked,
                                      struct store_db_token **out, size_t *n)
{
	return s->ops->db_token_list(s, account_id, cluster_id, include_revoked, out, n);
}

enum store_status store_db_token_revoke(struct store *s, const char *account_id,
                                        const char *cluster_id, const char *id, int64_t now,
                                        struct store_db_token *out)
{
	return s->ops->db_token_revoke(s, account_id, cluster_id, id, now, out);
}

enum store_status store_db_authorize(struct store *s, const unsigned char hash[TOKEN_HASH_LEN],
                                     enum db_action action, const char *database,
                                     struct store_db_grant *out)
{
	return s->ops->db_authorize(s, hash, action, database, out);
}

enum store_status store_db_authorize_plan(struct store *s, bool *indexed)
{
	return s->ops->db_authorize_plan(s, indexed);
}

enum store_status store_clear_all(struct store *s)
{
	return s->ops->clear_all(s);
}

enum store_status store_account_delete(struct store *s, const char *account_id)
{
	return s->ops->account_delete(s, account_id);
}

bool store_plain_name(const char *name)
{
	if (name[0] == '\0' || strlen(name) > 63)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/* ---- snapshots ---- */
bool store_row_insert_sql(char *out, size_t size, const char *table, size_t ncols,
                          const char *const *columns, const char *between, char mark)
{
	size_t used = (size_t)snprintf(out, size, "INSERT INTO \"%s\" (", table);

	for (size_t i = 0; i < ncols && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s\"%s\"", i ? ", " : "",
		                         columns[i]);
	if (used < size)
		used += (size_t)snprintf(out + used, size - used, ")%sVALUES (", between);
	for (size_t i = 0; i < ncols && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%c%zu", i ? ", " : "", mark,
		                         i + 1);
	if (used < size)
		used += (size_t)snprintf(out + used, size - used, ")");
	return used < size;
}

/*
 * The tables a snapshot takes, parents first (the order a load needs), and which of
 * their rows are one account's ($1: its id). A table of the store that is neither
 * here nor bookkeeping stops a dump: a new migration's table must be added here.
 */
static const struct snapshot_table {
	const char *name;
	const char *account_filter;
	const char *key_order; /* NULL: the order rows were made in, as the backend keeps it */
} snapshot_tables[] = {
    {"accounts", "id = $1", "id"},
    {"clusters", "account_id = $1", NULL},
    {"users", "account_id = $1", NULL},
    {"management_tokens", "account_id = $1", NULL},
    {"databases", "account_id = $1", "id"},
    {"database_tables", "database_id IN (SELECT id FROM databases WHERE account_id = $1)", "id"},
    {"database_tokens", "account_id = $1", NULL},
    {"database_token_permissions",
     "token_id IN (SELECT id FROM database_tokens WHERE account_id = $1)", "token_id, position"},
    {"invites", "account_id = $1", NULL},
    {"audit_events", "account_id = $1", "id"},
    {"webhook_outbox", "account_id = $1", "created_at, id"},
};

/* Not state: the token key's fingerprint and SQLite's id counters (made again on load). */
static const char *const snapshot_bookkeeping[] = {"store_meta", "sqlite_sequence"};

#define SNAPSHOT_TABLE_COUNT (sizeof(snapshot_tables) / sizeof(snapshot_tables[0]))

static bool snapshot_table_known(const char *name)
{
	for (size_t i = 0; i < SNAPSHOT_TABLE_COUNT; i++)
		if (strcmp(snapshot_tables[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < sizeof(snapshot_bookkeeping) / sizeof(snapshot_bookkeeping[0]); i++)
		if (strcmp(snapshot_bookkeeping[i], name) == 0)
			return true;
	return false;
}

enum store_status store_rows_dump(struct store *s, const char *account_id,
                                  const struct store_rows_visitor *v)
{
	char names[64][64];
	size_t n = 0;
	enum store_status st;
	bool began;

	st = store_tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = s->ops->table_names(s, names, sizeof(names) / sizeof(names[0]), &n);
	for (size_t i = 0; i < n && st == STORE_OK; i++)
		if (!snapshot_table_known(names[i])) {
			log_error("store: table %s has no snapshot rule (store_common.c)",
			          names[i]);
			st = STORE_ERROR;
		}
	for (size_t i = 0; i < SNAPSHOT_TABLE_COUNT && st == STORE_OK; i++)
		st = s->ops->rows_dump(s, snapshot_tables[i].name,
		                       account_id ? snapshot_tables[i].account_filter : NULL,
		                       snapshot_tables[i].key_order, account_id, v);
	return store_tx_leave(s, began, st);
}

enum store_status store_rows_load_begin(struct store *s)
{
	return s->ops->rows_load_begin(s);
}

enum store_status store_row_load(struct store *s, const char *table, size_t ncols,
                                 const char *const *columns, const struct store_value *values)
{
	size_t i;

	for (i = 0; i < SNAPSHOT_TABLE_COUNT; i++)
		if (strcmp(snapshot_tables[i].name, table) == 0)
			break;
	if (i == SNAPSHOT_TABLE_COUNT || ncols == 0 || ncols > STORE_ROW_MAX_COLUMNS) {
		log_error("store: a snapshot row for a table it cannot hold");
		return STORE_ERROR;
	}
	for (i = 0; i < ncols; i++)
		if (!store_plain_name(columns[i])) {
			log_error("store: a snapshot column name that is not one of ours");
			return STORE_ERROR;
		}
	return s->ops->row_load(s, table, ncols, columns, values);
}

enum store_status store_rows_load_end(struct store *s)
{
	return s->ops->rows_load_end(s);
}

enum store_status store_outbox_insert(struct store *s, const struct store_outbox_event *e)
{
	return s->ops->outbox_insert(s, e);
}

enum store_status store_outbox_claim(struct store *s, int64_t now, int64_t lease_until, size_t max,
                                     struct store_outbox_event **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (max == 0)
		return STORE_OK;
	return s->ops->outbox_claim(s, now, lease_until, max, out, n);
}

enum store_status store_outbox_delivered(struct store *s, const char *id)
{
	return s->ops->outbox_delivered(s, id);
}

enum store_status store_outbox_retry(struct store *s, const char *id, int64_t attempts,
                                     int64_t next_attempt_at, const char *last_error)
{
	return s->ops->outbox_retry(s, id, attempts, next_attempt_at, last_error);
}

enum store_status store_outbox_pending(struct store *s, int64_t *count, int64_t *oldest)
{
	return s->ops->outbox_pending(s, count, oldest);
}

static bool is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

enum store_status store_user_for_idp(struct store *s, const char *account_id, const char *issuer,
                                     const char *sub, const char *email, struct store_user *out)
{
	enum store_status st = STORE_NOT_FOUND;

	/* Empty values are stored as NULL: an unbound subject matches no JWT. */
	if (!is_set(issuer))
		return STORE_NOT_FOUND;
	if (is_set(sub))
		st = s->ops->user_by_subject(s, account_id, issuer, sub, out);
	if (st == STORE_NOT_FOUND && is_set(email))
		st = s->ops->user_by_email_unlinked(s, account_id, issuer, email, out);
	return st;
}

enum store_status store_user_link(struct store *s, const char *account_id, const char *id,
                                  const char *issuer, const char *sub)
{
	if (!is_set(issuer) || !is_set(sub))
		return STORE_ERROR;
	return s->ops->user_link(s, account_id, id, issuer, sub);
}

enum store_status store_users_unbound(struct store *s, const char *account_id, size_t max,
                                      struct store_user **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return s->ops->users_unbound(s, account_id, max, out, n);
}

enum store_status store_users_bind_issuer(struct store *s, const char *account_id, const char *id,
                                          const char *issuer, int64_t *bound)
{
	*bound = 0;
	if (!is_set(issuer) || (account_id == NULL) != (id == NULL))
		return STORE_ERROR;
	return s->ops->users_bind_issuer(s, account_id, id, issuer, bound);
}

enum store_status store_db_token_insert(struct store *s, const struct store_db_token *t,
                                        const unsigned char hash[TOKEN_HASH_LEN])
{
	if (t->permission_count > STORE_DB_TOKEN_MAX_PERMISSIONS)
		return STORE_ERROR;
	return s->ops->db_token_insert(s, t, hash);
}

enum store_status store_db_token_update(struct store *s, const struct store_db_token *t)
{
	if (t->permission_count > STORE_DB_TOKEN_MAX_PERMISSIONS)
		return STORE_ERROR;
	return s->ops->db_token_update(s, t);
}

enum store_status store_invite_insert(struct store *s, const struct store_invite *i, int64_t now,
                                      enum invite_conflict *why)
{
	*why = INVITE_CONFLICT_NONE;
	return s->ops->invite_insert(s, i, now, why);
}

enum store_status store_invite_get(struct store *s, const char *account_id, const char *id,
                                   struct store_invite *out)
{
	return s->ops->invite_get(s, account_id, id, out);
}

enum store_status store_invite_by_email(struct store *s, const char *account_id, const char *email,
                                        struct store_invite *out)
{
	return s->ops->invite_by_email(s, account_id, email, out);
}

enum store_status store_invite_list(struct store *s, const char *account_id,
                                    struct store_invite **out, size_t *n)
{
	return s->ops->invite_list(s, account_id, out, n);
}

enum store_status store_invites_pending(struct store *s, const char *email, int64_t now, size_t max,
                                        struct store_invite **out, size_t *n)
{
	return s->ops->invites_pending(s, email, now, max, out, n);
}

enum store_status store_invite_revoke(struct store *s, const char *account_id, const char *id,
                                      int64_t now, const char *revoked_by, struct store_invite *out)
{
	return s->ops->invite_revoke(s, account_id, id, now, revoked_by, out);
}

enum store_status store_invite_accept(struct store *s, struct store_user *u, int64_t now,
                                      struct store_invite *out)
{
	return s->ops->invite_accept(s, u, now, out);
}

enum store_status store_user_list_all(struct store *s, size_t max, struct store_user **out,
                                      size_t *n)
{
	return s->ops->user_list_all(s, max, out, n);
}

enum store_status store_tx_enter(struct store *s, bool *began)
{
	return s->ops->tx_enter(s, began);
}

enum store_status store_tx_leave(struct store *s, bool began, enum store_status st)
{
	return s->ops->tx_leave(s, began, st);
}

enum store_status store_audit_insert(struct store *s, struct store_audit_event *e)
{
	return s->ops->audit_insert(s, e);
}

enum store_status store_audit_list(struct store *s, const char *account_id,
                                   const struct store_audit_filter *f,
                                   struct store_audit_event **out, size_t *n)
{
	return s->ops->audit_list(s, account_id, f, out, n);
}

enum store_status store_audit_prune(struct store *s, int64_t before, int64_t *deleted)
{
	return s->ops->audit_prune(s, before, deleted);
}

enum store_status store_tokens_prune(struct store *s, int64_t before, int64_t *mgmt, int64_t *db)
{
	*mgmt = *db = 0;
	return s->ops->tokens_prune(s, before, mgmt, db);
}

enum store_status store_deleted_purge(struct store *s, int64_t before, int64_t *databases,
                                      int64_t *tables)
{
	*databases = *tables = 0;
	return s->ops->deleted_purge(s, before, databases, tables);
}

enum store_status store_database_name_held(struct store *s, const char *account_id,
                                           const char *cluster_id, const char *name, int64_t since,
                                           int64_t *deleted_at)
{
	*deleted_at = 0;
	return s->ops->database_name_held(s, account_id, cluster_id, name, since, deleted_at);
}

const int store_expiring_days[STORE_EXPIRING_WINDOWS] = {1, 7, 30};

enum store_status store_db_token_touch(struct store *s, const char *id, int64_t now,
                                       int64_t min_interval_ms)
{
	return s->ops->db_token_touch(s, id, now, min_interval_ms);
}

enum store_status store_tokens_expiry_claim(struct store *s, int64_t now, int64_t before,
                                            size_t max, struct store_expiring_token **out,
                                            size_t *n)
{
	*out = NULL;
	*n = 0;
	if (max == 0)
		return STORE_OK;
	return s->ops->tokens_expiry_claim(s, now, before, max, out, n);
}

enum store_status store_token_counts(struct store *s, int64_t now, struct store_token_counts *out)
{
	return s->ops->token_counts(s, now, out);
}

enum store_status store_meta_get(struct store *s, const char *name, char *out, size_t outsize)
{
	return s->ops->meta_get(s, name, out, outsize);
}

enum store_status store_meta_set(struct store *s, const char *name, const char *value)
{
	return s->ops->meta_set(s, name, value);
}

enum store_status store_meta_claim(struct store *s, const char *name, const char *value,
                                   char *recorded, size_t size)
{
	return s->ops->meta_claim(s, name, value, recorded, size);
}

/* ---- pool ---- */

int store_pool_new_target(const struct store_target *t, struct store_pool **out, char *err,
                          size_t errlen)
{
	struct store_pool *p;
	int rc;

	*out = NULL;
	if (t->pool_size < 0) {
		snprintf(err, errlen, "a pool of %d connections", t->pool_size);
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->location = strdup(t->location ? t->location : "")) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail_alloc;
	}
	p->target = *t;
	p->target.location = p->location;
	p->size = (size_t)t->pool_size;
	if (p->size > 0 && (p->idle = calloc(p->size, sizeof(*p->idle))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail_alloc;
	}
	/* No destructor: store_pool_free closes every store, whatever thread opened it. */
	rc = pthread_key_create(&p->key, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "pthread_key_create: %s", strerror(rc));
		goto fail_alloc;
	}
	rc = pthread_mutex_init(&p->lock, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "pthread_mutex_init: %s", strerror(rc));
		goto fail_key;
	}
	rc = pthread_cond_init(&p->returned, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "pthread_cond_init: %s", strerror(rc));
		goto fail_lock;
	}
	if (t->backend == STORE_BACKEND_POSTGRES &&
	    store_pg_watch_start(p->location, t->timeout_ms, err, errlen) != 0) {
		pthread_cond_destroy(&p->returned);
		goto fail_lock;
	}
	*out = p;
	return 0;
fail_lock:
	pthread_mutex_destroy(&p->lock);
fail_key:
	pthread_key_delete(p->key);
fail_alloc:
	if (p != NULL) {
		free(p->idle);
		free(p->location);
	}
	free(p);
	return -1;
}

int store_pool_new(const char *path, struct store_pool **out, char *err, size_t errlen)
{
	struct store_target t = {.backend = STORE_BACKEND_SQLITE, .location = path};

	return store_pool_new_target(&t, out, err, errlen);
}

/* Under pool->lock: remembers s for store_pool_free. False when out of memory. */
static bool pool_record(struct store_pool *pool, struct store *s)
{
	if (pool->n == pool->cap) {
		size_t ncap = pool->cap ? pool->cap * 2 : 16;
		struct store **grown = realloc(pool->all, ncap * sizeof(*grown));

		if (grown == NULL) {
			log_error("store: out of memory recording a connection");
			return false;
		}
		pool->all = grown;
		pool->cap = ncap;
	}
	pool->all[pool->n++] = s;
	return true;
}

/* Under pool->lock: forgets s, which the caller closes. */
static void pool_forget(struct store_pool *pool, struct store *s)
{
	for (size_t i = 0; i < pool->n; i++) {
		if (pool->all[i] == s) {
			pool->all[i] = pool->all[--pool->n];
			return;
		}
	}
}

static struct store *pool_open(struct store_pool *pool)
{
	struct store *s;
	char err[512];

	if (open_target(&pool->target, true, &s, err, sizeof(err)) != 0) {
		log_error("store: %s", err);
		return NULL;
	}
	return s;
}

/* size 0: the calling thread's own connection, opened on first use. */
static struct store *pool_get_own(struct store_pool *pool)
{
	struct store *s = pthread_getspecific(pool->key);
	int rc;

	if (s != NULL)
		return s;
	s = pool_open(pool);
	if (s == NULL)
		return NULL;
	pthread_mutex_lock(&pool->lock);
	if (!pool_record(pool, s))
		goto fail;
	rc = pthread_setspecific(pool->key, s);
	if (rc != 0) {
		log_error("store: pthread_setspecific: %s", strerror(rc));
		pool_forget(pool, s);
		goto fail;
	}
	pthread_mutex_unlock(&pool->lock);
	return s;
fail:
	pthread_mutex_unlock(&pool->lock);
	store_close(s);
	return NULL;
}

/* size N: an idle connection, or a new one while fewer than N exist, or wait. */
static struct store *pool_lend(struct store_pool *pool)
{
	struct store *s = pthread_getspecific(pool->key);
	struct timespec deadline;
	int rc = 0;

	if (s != NULL)
		return s; /* already lent to this thread: the same one again */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += POOL_WAIT_MS / 1000;
	deadline.tv_nsec += (long)(POOL_WAIT_MS % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&pool->lock);
	while (pool->nidle == 0 && pool->n + pool->opening >= pool->size && rc == 0)
		rc = pthread_cond_timedwait(&pool->returned, &pool->lock, &deadline);
	if (pool->nidle > 0) {
		s = pool->idle[--pool->nidle];
	} else if (pool->n + pool->opening < pool->size) {
		/* Open outside the lock: a slow connect must not hold up the others. */
		pool->opening++;
		pthread_mutex_unlock(&pool->lock);
		s = pool_open(pool);
		pthread_mutex_lock(&pool->lock);
		pool->opening--;
		if (s != NULL && !pool_record(pool, s)) {
			store_close(s);
			s = NULL;
		}
		if (s == NULL)
			pthread_cond_signal(&pool->returned); /* the slot is free again */
	} else {
		log_warn("store: all %zu connections of the pool stayed busy for %d ms", pool->size,
		         POOL_WAIT_MS);
	}
	pthread_mutex_unlock(&pool->lock);
	if (s != NULL && (rc = pthread_setspecific(pool->key, s)) != 0) {
		log_error("store: pthread_setspecific: %s", strerror(rc));
		store_pool_put(pool, s);
		return NULL;
	}
	return s;
}

struct store *store_pool_get(struct store_pool *pool)
{
	return pool->size == 0 ? pool_get_own(pool) : pool_lend(pool);
}

void store_pool_put(struct store_pool *pool, struct store *s)
{
	/* a fault is one request's: never the next one's on this connection */
	if (s != NULL) {
		s->fault = STORE_FAULT_NONE;
		s->commit_owed_ms = 0;
	}
	if (pool == NULL || s == NULL || pool->size == 0)
		return;
	/* A transaction left open by an error path must not travel to the next borrower. */
	store_tx_rollback(s);
	pthread_setspecific(pool->key, NULL);
	pthread_mutex_lock(&pool->lock);
	pool->idle[pool->nidle++] = s;
	pthread_cond_signal(&pool->returned);
	pthread_mutex_unlock(&pool->lock);
}

void store_pool_free(struct store_pool *pool)
{
	if (pool == NULL)
		return;
	if (pool->target.backend == STORE_BACKEND_POSTGRES)
		store_pg_watch_stop();
	for (size_t i = 0; i < pool->n; i++)
		store_close(pool->all[i]);
	free(pool->all);
	free(pool->idle);
	pthread_key_delete(pool->key);
	pthread_cond_destroy(&pool->returned);
	pthread_mutex_destroy(&pool->lock);
	free(pool->location);
	free(pool);
}
