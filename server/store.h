/*
 * store.h - durable state. The only module that knows SQL; a second backend
 * (PostgreSQL is planned) implements this same interface.
 *
 * A struct store is one connection and belongs to one thread at a time. The
 * server gets its thread's connection from a store_pool. Every function
 * returns a store_status; output structs are filled only on STORE_OK.
 * Optional text fields are "" when absent; optional times are 0 when absent.
 * Times are milliseconds since the epoch (timeutil.h).
 *
 * Functions that must be atomic open their own BEGIN IMMEDIATE transaction
 * unless the caller already holds one (store_tx_begin), in which case they
 * run inside it.
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
	STORE_CONFLICT,   /* a unique name, email, subject, id or hash is taken */
	STORE_LAST_ADMIN, /* the change would leave the account without an admin */
	STORE_FULL,       /* the disk or database is full: writes fail, reads go on */
	STORE_BUSY,       /* locked past the busy timeout */
	STORE_READONLY,   /* the file cannot be written */
	STORE_ERROR,      /* anything else; logged with SQLite's message */
};

const char *store_status_name(enum store_status st);

struct store;

/*
 * Opens (creating, mode 0600) the database at path, sets WAL,
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

/* PRAGMA user_version of an open store. */
int store_schema_version(struct store *s);

/* Explicit transactions for multi-step work (the seed). BEGIN IMMEDIATE. */
enum store_status store_tx_begin(struct store *s);
enum store_status store_tx_commit(struct store *s);
void store_tx_rollback(struct store *s);

/*
 * One connection per thread for the server: store_pool_get opens the calling
 * thread's connection on first use. store_pool_free closes them all and must
 * run only after every thread that used the pool has stopped.
 */
struct store_pool;
int store_pool_new(const char *path, struct store_pool **out, char *err, size_t errlen);
struct store *store_pool_get(struct store_pool *pool); /* NULL when it cannot open */
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
	int64_t created_at;
};

/* CONFLICT when the email, or a non-empty idp_subject, is taken in the account. */
enum store_status store_user_insert(struct store *s, const struct store_user *u);
enum store_status store_user_get(struct store *s, const char *account_id, const char *id,
                                 struct store_user *out);
enum store_status store_user_by_email(struct store *s, const char *account_id, const char *email,
                                      struct store_user *out);
/*
 * The user a verified JWT stands for in an account: the one whose
 * idp_subject is sub, else the one without idp_subject whose email is email
 * (when email is non-empty).
 */
enum store_status store_user_for_idp(struct store *s, const char *account_id, const char *sub,
                                     const char *email, struct store_user *out);
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
};

enum token_status_filter {
	TOKEN_FILTER_ALL = 0,
	TOKEN_FILTER_ACTIVE,
	TOKEN_FILTER_EXPIRED,
	TOKEN_FILTER_REVOKED,
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
 * Revokes at time now by revoked_by ("" for none). A token already revoked
 * keeps its first revoked_at and revoked_by. Fills out with the row after.
 */
enum store_status store_mgmt_token_revoke(struct store *s, const char *account_id, const char *id,
                                          int64_t now, const char *revoked_by,
                                          struct store_mgmt_token *out);
/* Sets last_used_at = now unless it was set less than min_interval_ms ago. */
enum store_status store_mgmt_token_touch(struct store *s, const char *id, int64_t now,
                                         int64_t min_interval_ms);

/* ---- test harness ([testing] POST /_test/reset) ---- */

/*
 * Deletes every row of every table (and AUTOINCREMENT counters), inside the
 * caller's transaction, so that the caller can put the seed back before it
 * commits: other connections see the old state or the new, never between.
 */
enum store_status store_clear_all(struct store *s);

#endif
