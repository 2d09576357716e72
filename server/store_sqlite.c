/*
 * store_sqlite.c - the SQLite backend of store.h (store_backend.h says how
 * backends plug in), and with store_pg.c the only files with SQL.
 *
 * Every SQL text lives in stmt_sql[] below, indexed by enum stmt_id. A
 * connection prepares each one on first use and keeps it; every use ends in
 * stmt_done() (reset and clear bindings) on every path, because a statement
 * left un-reset pins its WAL snapshot and blocks checkpoints.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "schema.h"
#include "store_backend.h"

#define BUSY_TIMEOUT_MS 5000

enum stmt_id {
	S_BEGIN,
	S_BEGIN_READ,
	S_TOUCH,
	S_SNAPSHOT,
	S_SAVEPOINT,
	S_SAVEPOINT_RELEASE,
	S_SAVEPOINT_ROLLBACK,
	S_COMMIT,
	S_ROLLBACK,
	S_USER_VERSION,

	S_ACCOUNT_INSERT,
	S_ACCOUNT_GET,

	S_CLUSTER_INSERT,
	S_CLUSTER_BY_ID,
	S_CLUSTER_GET,
	S_CLUSTER_LIST,

	S_USER_INSERT,
	S_USER_GET,
	S_USER_BY_EMAIL,
	S_USER_BY_SUBJECT,
	S_USER_BY_EMAIL_NO_SUBJECT,
	S_USER_LINK,
	S_USERS_UNBOUND,
	S_USERS_BIND_ALL,
	S_USER_BIND,
	S_USER_LIST,
	S_USER_BY_EMAIL_ANY,
	S_USER_GROUP,
	S_USER_UPDATE,
	S_USER_DELETE,
	S_ADMIN_COUNT,

	S_TOKEN_INSERT,
	S_TOKEN_GET,
	S_TOKEN_BY_HASH,
	S_TOKEN_LIST_ALL,
	S_TOKEN_LIST_ACTIVE,
	S_TOKEN_LIST_EXPIRED,
	S_TOKEN_LIST_REVOKED,
	S_TOKEN_SCAN,
	S_TOKEN_REVOKE,
	S_TOKEN_TOUCH,
	S_TOKEN_LIST_SUSPENDED,
	S_TOKEN_ROTATE,
	S_TOKEN_SUSPEND,
	S_TOKEN_RESUME,
	S_TOKEN_TOUCH_PREVIOUS,

	S_DB_INSERT,
	S_DB_GET,
	S_DB_GET_ID,
	S_DB_LIST_LIVE,
	S_DB_LIST_DELETED,
	S_DB_UPDATE,
	S_DB_DELETE,
	S_DB_RENAME,
	S_DB_UNDELETE,

	S_TABLE_INSERT,
	S_TABLE_GET,
	S_TABLE_GET_ID,
	S_TABLE_LIST_LIVE,
	S_TABLE_LIST_DELETED,
	S_TABLE_DELETE,
	S_TABLE_RENAME,
	S_TABLE_UNDELETE,
	S_TABLE_ICEBERG,

	S_DBTOKEN_INSERT,
	S_DBTOKEN_GET,
	S_DBTOKEN_BY_HASH,
	S_DBTOKEN_LIST_ALL,
	S_DBTOKEN_LIST_UNREVOKED,
	S_DBTOKEN_SCAN,
	S_DBTOKEN_UPDATE,
	S_DBTOKEN_REVOKE,
	S_DBTOKEN_ROTATE,
	S_DBTOKEN_SUSPEND,
	S_DBTOKEN_RESUME,
	S_DBTOKEN_TOUCH_PREVIOUS,
	S_DBPERM_INSERT,
	S_DBPERM_DELETE,
	S_DBPERM_LIST,
	S_DB_AUTHORIZE,
	S_TABLE_NAMES,
	S_OUTBOX_INSERT,
	S_OUTBOX_CLAIM,
	S_OUTBOX_DELIVERED,
	S_OUTBOX_RETRY,
	S_OUTBOX_PENDING,

	S_INVITE_INSERT,
	S_INVITE_GET,
	S_INVITE_BY_EMAIL,
	S_INVITE_LIST,
	S_INVITE_PENDING_ONE,
	S_INVITE_PENDING_EMAIL,
	S_INVITE_PENDING_ALL,
	S_INVITE_REPLACE_EXPIRED,
	S_INVITE_REVOKE,
	S_INVITE_ACCEPT,
	S_USER_LIST_ALL,
	/* audit trail, retention, counts, facts (schema/0004_audit.sql) */
	S_AUDIT_INSERT,
	S_AUDIT_LIST,
	S_AUDIT_PRUNE,
	S_PRUNE_MGMT_TOKENS,
	S_PRUNE_DB_PERMISSIONS,
	S_PRUNE_DB_TOKENS,
	S_PURGE_TABLES,
	S_PURGE_DATABASES,
	S_DB_NAME_HELD,
	S_COUNT_MGMT_TOKENS,
	S_COUNT_DB_TOKENS,
	S_META_GET,
	S_META_SET,
	S_META_CLAIM,
	S_DBTOKEN_TOUCH,
	S_MGMT_EXPIRY_CLAIM,
	S_DB_EXPIRY_CLAIM,
	S_ACCOUNT_DELETE_DBPERMS,
	S_ACCOUNT_DELETE_DBTOKENS,
	S_ACCOUNT_DELETE_TABLES,
	S_ACCOUNT_DELETE_DATABASES,
	S_ACCOUNT_DELETE_MGMT,
	S_ACCOUNT_DELETE_INVITES,
	S_ACCOUNT_DELETE_USERS,
	S_ACCOUNT_DELETE_AUDIT,
	S_ACCOUNT_DELETE_CLUSTERS,
	S_ACCOUNT_DELETE_ACCOUNT,

	STMT_COUNT
};

/* The column lists of the shared row shapes are in store_backend.h; this one is ours. */
#define DBTOKEN_COLS                                                                               \
	"id, account_id, cluster_id, description, created_at, created_by, expires_at, "            \
	"revoked_at, last_used_at, " LIFECYCLE_COLS
/*
 * ?expiringWithin in a scan (store_token_query): ?8 the window (ms) or NULL
 * for none, ?9 now. Live tokens only, as the window means to warn of them.
 */
#define EXPIRING_WITHIN                                                                            \
	" AND (?8 IS NULL OR (revoked_at IS NULL AND expires_at > ?9 AND expires_at <= ?9 + ?8))"
/*
 * Claims tokens entering the expiry warning window (store_tokens_expiry_claim):
 * ?1 now, ?2 the window's end, ?3 the most rows. Picking and marking are one
 * statement under the write lock: no other connection claims the same row.
 */
#define EXPIRY_CLAIM(table, cluster)                                                               \
	"UPDATE " table " SET expiry_warned_at = ?1 WHERE rowid IN (SELECT rowid FROM " table      \
	" WHERE expiry_warned_at IS NULL AND revoked_at IS NULL AND expires_at > ?1"               \
	" AND expires_at <= ?2 ORDER BY expires_at, rowid LIMIT ?3)"                               \
	" RETURNING id, account_id, " cluster ", description, expires_at"
/* Oldest first; rowid breaks ties in insertion order. */
#define OLDEST_FIRST " ORDER BY created_at, rowid"
/* Of the active tokens (state 0), those expiring by ?2, ?3, ?4 (store_expiring_days). */
#define COUNT_EXPIRING                                                                             \
	" count(*) FILTER (WHERE expires_at <= ?2), count(*) FILTER (WHERE expires_at <= ?3),"     \
	" count(*) FILTER (WHERE expires_at <= ?4)"

static const char *const stmt_sql[STMT_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    /* Deferred: a read snapshot that takes no write lock. */
    [S_BEGIN_READ] = "BEGIN",
    /* reads nothing, but begins the read transaction of a deferred BEGIN */
    [S_TOUCH] = "SELECT 1 FROM store_meta LIMIT 0",
    /*
     * A read snapshot's holder (sqlite_read_begin): stepped to its one row and
     * left there, it keeps its read transaction open, and every statement run
     * meanwhile reads in it; its reset ends it.
     */
    [S_SNAPSHOT] = "PRAGMA data_version",
    [S_SAVEPOINT] = "SAVEPOINT change",
    [S_SAVEPOINT_RELEASE] = "RELEASE change",
    /* back to the savepoint, which then ends: the transaction goes on */
    [S_SAVEPOINT_ROLLBACK] = "ROLLBACK TO change",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_USER_VERSION] = "PRAGMA user_version",

    [S_ACCOUNT_INSERT] = "INSERT INTO accounts (id, name, created_at) VALUES (?1, ?2, ?3)",
    [S_ACCOUNT_GET] = "SELECT id, name, created_at FROM accounts WHERE id = ?1",

    [S_CLUSTER_INSERT] = "INSERT INTO clusters (" CLUSTER_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_CLUSTER_BY_ID] = "SELECT " CLUSTER_COLS " FROM clusters WHERE id = ?1",
    [S_CLUSTER_GET] = "SELECT " CLUSTER_COLS " FROM clusters WHERE account_id = ?1 AND id = ?2",
    [S_CLUSTER_LIST] = "SELECT " CLUSTER_COLS " FROM clusters WHERE account_id = ?1" OLDEST_FIRST,

    [S_USER_INSERT] = "INSERT INTO users (" USER_COLS ")"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_USER_GET] = "SELECT " USER_COLS " FROM users WHERE account_id = ?1 AND id = ?2",
    /* email has NOCASE collation in the schema, so = ignores ASCII case. */
    [S_USER_BY_EMAIL] = "SELECT " USER_COLS " FROM users WHERE account_id = ?1 AND email = ?2",
    /* An identity is the pair: a subject of another issuer is another person. */
    [S_USER_BY_SUBJECT] = "SELECT " USER_COLS " FROM users WHERE account_id = ?1"
                          " AND idp_issuer = ?2 AND idp_subject = ?3",
    [S_USER_BY_EMAIL_NO_SUBJECT] = "SELECT " USER_COLS " FROM users"
                                   " WHERE account_id = ?1 AND email = ?3"
                                   " AND idp_subject IS NULL"
                                   " AND (idp_issuer IS NULL OR idp_issuer = ?2)",
    /* The same conditions as the lookup, so that two first sign-ins link once. */
    [S_USER_LINK] = "UPDATE users SET idp_issuer = ?3, idp_subject = ?4 WHERE account_id = ?1"
                    " AND id = ?2 AND idp_subject IS NULL"
                    " AND (idp_issuer IS NULL OR idp_issuer = ?3)",
    [S_USERS_UNBOUND] =
        "SELECT " USER_COLS " FROM users WHERE idp_subject IS NOT NULL"
        " AND idp_issuer IS NULL AND (?1 IS NULL OR account_id = ?1)" OLDEST_FIRST " LIMIT ?2",
    [S_USERS_BIND_ALL] = "UPDATE users SET idp_issuer = ?1 WHERE idp_subject IS NOT NULL"
                         " AND idp_issuer IS NULL",
    [S_USER_BIND] = "UPDATE users SET idp_issuer = ?3 WHERE account_id = ?1 AND id = ?2"
                    " AND idp_subject IS NOT NULL AND idp_issuer IS NULL",
    [S_USER_LIST] = "SELECT " USER_COLS " FROM users WHERE account_id = ?1" OLDEST_FIRST,
    [S_USER_BY_EMAIL_ANY] = "SELECT " USER_COLS " FROM users WHERE email = ?1" OLDEST_FIRST,
    [S_USER_GROUP] = "SELECT grp FROM users WHERE account_id = ?1 AND id = ?2",
    /* id, account_id and created_at never change. */
    [S_USER_UPDATE] = "UPDATE users SET email = ?3, first_name = ?4, last_name = ?5, grp = ?6,"
                      " idp_subject = ?7, idp_issuer = ?8 WHERE account_id = ?1 AND id = ?2",
    [S_USER_DELETE] = "DELETE FROM users WHERE account_id = ?1 AND id = ?2",
    [S_ADMIN_COUNT] = "SELECT count(*) FROM users WHERE account_id = ?1 AND grp = 'admin'",

    [S_TOKEN_INSERT] = "INSERT INTO management_tokens (id, account_id, description, prefix,"
                       " hash, hash_scheme, created_at, created_by, expires_at, revoked_at,"
                       " revoked_by, last_used_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [S_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM management_tokens"
                    " WHERE account_id = ?1 AND id = ?2",
    /* The hash comes last so that read_token sees the same columns as elsewhere. */
    [S_TOKEN_BY_HASH] =
        "SELECT " TOKEN_COLS ", hash, previous_hash FROM management_tokens" BY_HASH_FILTER("?1"),
    /* ?2, where used, is now; the four filters partition the tokens. */
    [S_TOKEN_LIST_ALL] = "SELECT " TOKEN_COLS " FROM management_tokens"
                         " WHERE account_id = ?1" OLDEST_FIRST,
    [S_TOKEN_LIST_ACTIVE] = "SELECT " TOKEN_COLS " FROM management_tokens"
                            " WHERE account_id = ?1 AND revoked_at IS NULL"
                            " AND suspended_at IS NULL"
                            " AND (expires_at IS NULL OR expires_at > ?2)" OLDEST_FIRST,
    [S_TOKEN_LIST_EXPIRED] = "SELECT " TOKEN_COLS " FROM management_tokens"
                             " WHERE account_id = ?1 AND revoked_at IS NULL"
                             " AND expires_at IS NOT NULL AND expires_at <= ?2" OLDEST_FIRST,
    [S_TOKEN_LIST_REVOKED] = "SELECT " TOKEN_COLS " FROM management_tokens"
                             " WHERE account_id = ?1 AND revoked_at IS NOT NULL" OLDEST_FIRST,
    /*
     * A batch of a list: ?2 is the status filter (enum token_status_filter) at
     * time ?3, ?4 the search text or NULL, (?5, ?6) the key the batch resumes
     * after, ?7 the most rows. The index (account_id, created_at) ends in the
     * rowid, so each batch starts where the last one stopped.
     */
    [S_TOKEN_SCAN] = "SELECT " TOKEN_COLS ", rowid FROM management_tokens WHERE account_id = ?1"
                     " AND (?2 = 0"
                     " OR (?2 = 1 AND revoked_at IS NULL AND suspended_at IS NULL"
                     " AND (expires_at IS NULL OR expires_at > ?3))"
                     " OR (?2 = 2 AND revoked_at IS NULL AND expires_at <= ?3)"
                     " OR (?2 = 3 AND revoked_at IS NOT NULL)"
                     " OR (?2 = 4 AND revoked_at IS NULL AND suspended_at IS NOT NULL"
                     " AND (expires_at IS NULL OR expires_at > ?3)))"
                     " AND (?4 IS NULL OR instr(lower(description), lower(?4)) > 0"
                     " OR substr(prefix, 1, length(?4)) = ?4)" EXPIRING_WITHIN
                     " AND (created_at, rowid) > (?5, ?6) ORDER BY created_at, rowid LIMIT ?7",
    /* The first revocation wins: a second one changes nothing. */
    [S_TOKEN_REVOKE] = "UPDATE management_tokens SET revoked_at = ?3, revoked_by = ?4"
                       " WHERE account_id = ?1 AND id = ?2 AND revoked_at IS NULL",
    /* Skipping recent touches spares a write on every authenticated request. */
    [S_TOKEN_TOUCH] = "UPDATE management_tokens SET last_used_at = ?2 WHERE id = ?1"
                      " AND (last_used_at IS NULL OR last_used_at <= ?2 - ?3)",
    /* Revoked wins over expired, expired over suspended (token_status_filter). */
    [S_TOKEN_LIST_SUSPENDED] = "SELECT " TOKEN_COLS " FROM management_tokens"
                               " WHERE account_id = ?1 AND revoked_at IS NULL"
                               " AND suspended_at IS NOT NULL"
                               " AND (expires_at IS NULL OR expires_at > ?2)" OLDEST_FIRST,
    /*
     * The current hash becomes the previous one (SET reads the row as it was),
     * the oldest goes; ?5 ends its grace, ?6 is now.
     */
    [S_TOKEN_ROTATE] = "UPDATE management_tokens SET previous_hash = hash,"
                       " previous_hash_scheme = hash_scheme, previous_expires_at = ?5,"
                       " previous_last_used_at = NULL, hash = ?3, hash_scheme = ?4, prefix = ?7"
                       " WHERE account_id = ?1 AND id = ?2 AND revoked_at IS NULL"
                       " AND (expires_at IS NULL OR expires_at > ?6)",
    /* The first suspension stays until a resumption. */
    [S_TOKEN_SUSPEND] = "UPDATE management_tokens SET suspended_at = ?3, suspended_by = ?4"
                        " WHERE account_id = ?1 AND id = ?2 AND revoked_at IS NULL"
                        " AND suspended_at IS NULL",
    [S_TOKEN_RESUME] = "UPDATE management_tokens SET suspended_at = NULL, suspended_by = NULL"
                       " WHERE account_id = ?1 AND id = ?2 AND revoked_at IS NULL"
                       " AND suspended_at IS NOT NULL",
    [S_TOKEN_TOUCH_PREVIOUS] = "UPDATE management_tokens SET previous_last_used_at = ?2"
                               " WHERE id = ?1 AND previous_hash IS NOT NULL"
                               " AND (previous_last_used_at IS NULL"
                               " OR previous_last_used_at <= ?2 - ?3)",

    [S_DB_INSERT] = "INSERT INTO databases (account_id, cluster_id, name, max_tables,"
                    " max_columns_per_table, retention_period, partition_template, created_at)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    /* "deleted_at IS NULL" lets the planner use the partial unique index. */
    [S_DB_GET] = "SELECT " DB_COLS " FROM databases WHERE account_id = ?1 AND cluster_id = ?2"
                 " AND name = ?3 AND deleted_at IS NULL",
    [S_DB_GET_ID] = "SELECT " DB_COLS " FROM databases WHERE account_id = ?1"
                    " AND cluster_id = ?2 AND id = ?3",
    [S_DB_LIST_LIVE] = "SELECT " DB_COLS " FROM databases WHERE account_id = ?1"
                       " AND cluster_id = ?2 AND deleted_at IS NULL" OLDEST_FIRST,
    [S_DB_LIST_DELETED] = "SELECT " DB_COLS " FROM databases WHERE account_id = ?1"
                          " AND cluster_id = ?2 AND deleted_at IS NOT NULL" OLDEST_FIRST,
    /* name, partition_template and the owners never change here. */
    [S_DB_UPDATE] = "UPDATE databases SET max_tables = ?4, max_columns_per_table = ?5,"
                    " retention_period = ?6 WHERE account_id = ?1 AND cluster_id = ?2"
                    " AND id = ?3 AND deleted_at IS NULL",
    [S_DB_DELETE] = "UPDATE databases SET deleted_at = ?4 WHERE account_id = ?1"
                    " AND cluster_id = ?2 AND name = ?3 AND deleted_at IS NULL",
    [S_DB_RENAME] = "UPDATE databases SET name = ?4 WHERE account_id = ?1 AND cluster_id = ?2"
                    " AND name = ?3 AND deleted_at IS NULL",
    [S_DB_UNDELETE] = "UPDATE databases SET deleted_at = NULL WHERE account_id = ?1"
                      " AND cluster_id = ?2 AND id = ?3 AND deleted_at IS NOT NULL",

    [S_TABLE_INSERT] = "INSERT INTO database_tables (database_id, name, partition_template,"
                       " created_at) VALUES (?1, ?2, ?3, ?4)",
    [S_TABLE_GET] = "SELECT " TABLE_COLS " FROM database_tables WHERE database_id = ?1"
                    " AND name = ?2 AND deleted_at IS NULL",
    [S_TABLE_GET_ID] = "SELECT " TABLE_COLS " FROM database_tables WHERE database_id = ?1"
                       " AND id = ?2",
    [S_TABLE_LIST_LIVE] = "SELECT " TABLE_COLS " FROM database_tables WHERE database_id = ?1"
                          " AND deleted_at IS NULL" OLDEST_FIRST,
    [S_TABLE_LIST_DELETED] = "SELECT " TABLE_COLS " FROM database_tables"
                             " WHERE database_id = ?1 AND deleted_at IS NOT NULL" OLDEST_FIRST,
    [S_TABLE_DELETE] = "UPDATE database_tables SET deleted_at = ?3 WHERE database_id = ?1"
                       " AND name = ?2 AND deleted_at IS NULL",
    [S_TABLE_RENAME] = "UPDATE database_tables SET name = ?3 WHERE database_id = ?1"
                       " AND name = ?2 AND deleted_at IS NULL",
    /* SQLite counts a row set to the value it had as changed: enabling twice finds it. */
    [S_TABLE_ICEBERG] = "UPDATE database_tables SET iceberg_export = ?3 WHERE database_id = ?1"
                        " AND name = ?2 AND deleted_at IS NULL",
    [S_TABLE_UNDELETE] = "UPDATE database_tables SET deleted_at = NULL WHERE database_id = ?1"
                         " AND id = ?2 AND deleted_at IS NOT NULL",

    [S_DBTOKEN_INSERT] = "INSERT INTO database_tokens (id, account_id, cluster_id, description,"
                         " hash, hash_scheme, created_at, created_by, expires_at, revoked_at)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_DBTOKEN_GET] = "SELECT " DBTOKEN_COLS " FROM database_tokens WHERE account_id = ?1"
                      " AND cluster_id = ?2 AND id = ?3",
    /* The hash comes last so that read_db_token sees the same columns as elsewhere. */
    [S_DBTOKEN_BY_HASH] =
        "SELECT " DBTOKEN_COLS ", hash, previous_hash FROM database_tokens" BY_HASH_FILTER("?1"),
    [S_DBTOKEN_LIST_ALL] = "SELECT " DBTOKEN_COLS " FROM database_tokens WHERE account_id = ?1"
                           " AND cluster_id = ?2" OLDEST_FIRST,
    [S_DBTOKEN_LIST_UNREVOKED] = "SELECT " DBTOKEN_COLS " FROM database_tokens"
                                 " WHERE account_id = ?1 AND cluster_id = ?2"
                                 " AND revoked_at IS NULL" OLDEST_FIRST,
    /*
     * As S_TOKEN_SCAN; ?3 is include_revoked. A token comes with its
     * permissions, one row each (one row with NULLs when it has none).
     */
    [S_DBTOKEN_SCAN] =
        "SELECT t.id, t.account_id, t.cluster_id, t.description, t.created_at,"
        " t.created_by, t.expires_at, t.revoked_at, t.last_used_at, " LIFECYCLE_COLS_OF_T
        ", t.seq, p.action, p.resource"
        " FROM (SELECT " DBTOKEN_COLS ", rowid AS seq FROM database_tokens"
        " WHERE account_id = ?1 AND cluster_id = ?2 AND (?3 OR revoked_at IS NULL)"
        " AND (?4 IS NULL OR instr(lower(description), lower(?4)) > 0)" EXPIRING_WITHIN
        " AND (created_at, rowid) > (?5, ?6) ORDER BY created_at, rowid LIMIT ?7) t"
        " LEFT JOIN database_token_permissions p ON p.token_id = t.id"
        " ORDER BY t.created_at, t.seq, p.position",
    [S_DBTOKEN_UPDATE] = "UPDATE database_tokens SET description = ?4 WHERE account_id = ?1"
                         " AND cluster_id = ?2 AND id = ?3",
    /* The first revocation wins: a second one changes nothing. */
    [S_DBTOKEN_REVOKE] = "UPDATE database_tokens SET revoked_at = ?4 WHERE account_id = ?1"
                         " AND cluster_id = ?2 AND id = ?3 AND revoked_at IS NULL",
    /* As S_TOKEN_ROTATE; ?6 ends the previous secret's grace, ?7 is now. */
    [S_DBTOKEN_ROTATE] = "UPDATE database_tokens SET previous_hash = hash,"
                         " previous_hash_scheme = hash_scheme, previous_expires_at = ?6,"
                         " previous_last_used_at = NULL, hash = ?4, hash_scheme = ?5"
                         " WHERE account_id = ?1 AND cluster_id = ?2 AND id = ?3"
                         " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?7)",
    [S_DBTOKEN_SUSPEND] = "UPDATE database_tokens SET suspended_at = ?4, suspended_by = ?5"
                          " WHERE account_id = ?1 AND cluster_id = ?2 AND id = ?3"
                          " AND revoked_at IS NULL AND suspended_at IS NULL",
    [S_DBTOKEN_RESUME] = "UPDATE database_tokens SET suspended_at = NULL, suspended_by = NULL"
                         " WHERE account_id = ?1 AND cluster_id = ?2 AND id = ?3"
                         " AND revoked_at IS NULL AND suspended_at IS NOT NULL",
    [S_DBTOKEN_TOUCH_PREVIOUS] = "UPDATE database_tokens SET previous_last_used_at = ?2"
                                 " WHERE id = ?1 AND previous_hash IS NOT NULL"
                                 " AND (previous_last_used_at IS NULL"
                                 " OR previous_last_used_at <= ?2 - ?3)",
    [S_DBPERM_INSERT] = "INSERT INTO database_token_permissions (token_id, position, action,"
                        " resource) VALUES (?1, ?2, ?3, ?4)",
    [S_DBPERM_DELETE] = "DELETE FROM database_token_permissions WHERE token_id = ?1",
    [S_DBPERM_LIST] = "SELECT action, resource FROM database_token_permissions"
                      " WHERE token_id = ?1 ORDER BY position",
    /*
     * The data-plane check in one statement: the token by its unique hash,
     * then two index lookups under it. Never a scan (store_db_authorize_plan
     * checks that).
     */
    [S_DB_AUTHORIZE] = "SELECT t.id, t.account_id, t.cluster_id, t.expires_at, t.revoked_at,"
                       " t.hash,"
                       " EXISTS (SELECT 1 FROM database_token_permissions p"
                       "  WHERE p.token_id = t.id AND p.action = ?2"
                       "  AND p.resource IN (?3, '*')),"
                       " EXISTS (SELECT 1 FROM databases d WHERE d.cluster_id = t.cluster_id"
                       "  AND d.name = ?3 AND d.deleted_at IS NULL),"
                       " t.created_at, t.previous_hash, t.previous_expires_at, t.suspended_at,"
                       " t.previous_last_used_at, t.last_used_at"
                       " FROM database_tokens t WHERE t.hash = ?1 OR t.previous_hash = ?1",
    /* Every table of ours and SQLite's AUTOINCREMENT counters: what store_clear_all empties. */
    [S_TABLE_NAMES] = "SELECT name FROM sqlite_schema WHERE type = 'table'"
                      " AND (name NOT LIKE 'sqlite!_%' ESCAPE '!' OR name = 'sqlite_sequence')",

    [S_OUTBOX_INSERT] = "INSERT INTO webhook_outbox (" OUTBOX_COLS ")"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* ?1 now, ?2 the lease's end, ?3 how many: claimed and moved in one statement */
    [S_OUTBOX_CLAIM] = "UPDATE webhook_outbox SET next_attempt_at = ?2 WHERE id IN"
                       " (SELECT id FROM webhook_outbox WHERE next_attempt_at <= ?1"
                       " ORDER BY next_attempt_at, created_at LIMIT ?3) RETURNING " OUTBOX_COLS,
    [S_OUTBOX_DELIVERED] = "DELETE FROM webhook_outbox WHERE id = ?1",
    [S_OUTBOX_RETRY] = "UPDATE webhook_outbox SET attempts = ?2, next_attempt_at = ?3,"
                       " last_error = ?4 WHERE id = ?1",
    [S_OUTBOX_PENDING] = "SELECT count(*), COALESCE(min(created_at), 0) FROM webhook_outbox",

    [S_INVITE_INSERT] = "INSERT INTO invites (id, account_id, email, grp, invited_at, invited_by,"
                        " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_INVITE_GET] = "SELECT " INVITE_COLS " FROM invites WHERE account_id = ?1 AND id = ?2",
    /* email has NOCASE collation in the schema, so = ignores ASCII case. */
    [S_INVITE_BY_EMAIL] = "SELECT " INVITE_COLS " FROM invites WHERE account_id = ?1"
                          " AND email = ?2 ORDER BY invited_at DESC, rowid DESC LIMIT 1",
    [S_INVITE_LIST] = "SELECT " INVITE_COLS " FROM invites WHERE account_id = ?1"
                      " ORDER BY invited_at, rowid",
    /* ?3 is now. The open condition lets the planner use the partial unique index. */
    [S_INVITE_PENDING_ONE] = "SELECT " INVITE_COLS " FROM invites WHERE account_id = ?1"
                             " AND email = ?2 AND " INVITE_OPEN " AND expires_at > ?3",
    [S_INVITE_PENDING_EMAIL] = "SELECT " INVITE_COLS " FROM invites WHERE email = ?1"
                               " AND " INVITE_OPEN " AND expires_at > ?2"
                               " ORDER BY invited_at, rowid LIMIT ?3",
    [S_INVITE_PENDING_ALL] = "SELECT " INVITE_COLS " FROM invites WHERE " INVITE_OPEN
                             " AND expires_at > ?1 ORDER BY invited_at, rowid LIMIT ?2",
    /* ?3 is now: expired open invites of the email are closed before a new one opens. */
    [S_INVITE_REPLACE_EXPIRED] = "UPDATE invites SET replaced_at = ?3 WHERE account_id = ?1"
                                 " AND email = ?2 AND " INVITE_OPEN " AND expires_at <= ?3",
    /* The first revocation wins; an accepted invite stays accepted. */
    [S_INVITE_REVOKE] = "UPDATE invites SET revoked_at = ?3, revoked_by = ?4"
                        " WHERE account_id = ?1 AND id = ?2 AND revoked_at IS NULL"
                        " AND accepted_at IS NULL",
    [S_INVITE_ACCEPT] =
        "UPDATE invites SET accepted_at = ?3, accepted_user_id = ?4"
        " WHERE account_id = ?1 AND id = ?2 AND " INVITE_OPEN " AND expires_at > ?3",
    [S_USER_LIST_ALL] = "SELECT " USER_COLS " FROM users" OLDEST_FIRST " LIMIT ?1",
    [S_AUDIT_INSERT] = "INSERT INTO audit_events (" AUDIT_INSERT_COLS ")"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    /*
     * Every filter is optional (NULL); the index (account_id, id) walks the
     * account's events newest first and stops after ?8 rows.
     */
    [S_AUDIT_LIST] = "SELECT id, " AUDIT_INSERT_COLS " FROM audit_events WHERE account_id = ?1"
                     " AND (?2 IS NULL OR at >= ?2) AND (?3 IS NULL OR at < ?3)"
                     " AND (?4 IS NULL OR action = ?4) AND (?5 IS NULL OR action GLOB ?5)"
                     " AND (?6 IS NULL OR actor_id = ?6 OR credential = ?6)"
                     " AND (?7 IS NULL OR id < ?7) ORDER BY id DESC LIMIT ?8",
    [S_AUDIT_PRUNE] = "DELETE FROM audit_events WHERE at < ?1",
    /* NULL < ?1 is not true: a token that never expires is kept until revoked. */
    [S_PRUNE_MGMT_TOKENS] = "DELETE FROM management_tokens WHERE revoked_at < ?1"
                            " OR expires_at < ?1",
    [S_PRUNE_DB_PERMISSIONS] = "DELETE FROM database_token_permissions WHERE token_id IN"
                               " (SELECT id FROM database_tokens WHERE revoked_at < ?1"
                               " OR expires_at < ?1)",
    [S_PRUNE_DB_TOKENS] = "DELETE FROM database_tokens WHERE revoked_at < ?1"
                          " OR expires_at < ?1",
    /* Tables first: a purged database takes its tables, live or deleted, with it. */
    [S_PURGE_TABLES] = "DELETE FROM database_tables WHERE deleted_at < ?1 OR database_id IN"
                       " (SELECT id FROM databases WHERE deleted_at < ?1)",
    [S_PURGE_DATABASES] = "DELETE FROM databases WHERE deleted_at < ?1",
    /* NULL when none: read as 0 */
    [S_DB_NAME_HELD] = "SELECT max(deleted_at) FROM databases WHERE account_id = ?1"
                       " AND cluster_id = ?2 AND name = ?3 AND deleted_at >= ?4",
    /* The states of token_status_filter: revoked wins over expired. */
    [S_COUNT_MGMT_TOKENS] =
        "SELECT CASE WHEN revoked_at IS NOT NULL THEN 2"
        " WHEN expires_at IS NOT NULL AND expires_at <= ?1 THEN 1"
        " ELSE 0 END AS state, count(*)," COUNT_EXPIRING " FROM management_tokens GROUP BY state",
    [S_COUNT_DB_TOKENS] =
        "SELECT CASE WHEN revoked_at IS NOT NULL THEN 2"
        " WHEN expires_at IS NOT NULL AND expires_at <= ?1 THEN 1"
        " ELSE 0 END AS state, count(*)," COUNT_EXPIRING " FROM database_tokens GROUP BY state",
    [S_META_GET] = "SELECT value FROM store_meta WHERE name = ?1",
    [S_META_SET] = "INSERT INTO store_meta (name, value) VALUES (?1, ?2)"
                   " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    [S_META_CLAIM] = "INSERT INTO store_meta (name, value) VALUES (?1, ?2)"
                     " ON CONFLICT (name) DO NOTHING",
    /* As S_TOKEN_TOUCH: at most one write a minute per token on the data-plane path. */
    [S_DBTOKEN_TOUCH] = "UPDATE database_tokens SET last_used_at = ?2 WHERE id = ?1"
                        " AND (last_used_at IS NULL OR last_used_at <= ?2 - ?3)",
    [S_MGMT_EXPIRY_CLAIM] = EXPIRY_CLAIM("management_tokens", "''"),
    [S_DB_EXPIRY_CLAIM] = EXPIRY_CLAIM("database_tokens", "cluster_id"),
    /* An account and everything in it ([testing] DELETE /_test/tenants), children first. */
    [S_ACCOUNT_DELETE_DBPERMS] =
        "DELETE FROM database_token_permissions WHERE token_id IN (SELECT id"
        " FROM database_tokens WHERE account_id = ?1)",
    [S_ACCOUNT_DELETE_DBTOKENS] = "DELETE FROM database_tokens WHERE account_id = ?1",
    [S_ACCOUNT_DELETE_TABLES] = "DELETE FROM database_tables WHERE database_id IN (SELECT id FROM"
                                " databases WHERE account_id = ?1)",
    [S_ACCOUNT_DELETE_DATABASES] = "DELETE FROM databases WHERE account_id = ?1",
    [S_ACCOUNT_DELETE_MGMT] = "DELETE FROM management_tokens WHERE account_id = ?1",
    [S_ACCOUNT_DELETE_INVITES] = "DELETE FROM invites WHERE account_id = ?1",
    [S_ACCOUNT_DELETE_USERS] = "DELETE FROM users WHERE account_id = ?1",
    [S_ACCOUNT_DELETE_AUDIT] = "DELETE FROM audit_events WHERE account_id = ?1",
    [S_ACCOUNT_DELETE_CLUSTERS] = "DELETE FROM clusters WHERE account_id = ?1",
    [S_ACCOUNT_DELETE_ACCOUNT] = "DELETE FROM accounts WHERE id = ?1",
};

/* A connection; base comes first, so a struct store * of ours is one of these. */
struct sqlite_store {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *stmts[STMT_COUNT]; /* prepared lazily, finalized in store_close */
	bool writing;                    /* holds write_lock: in store_tx_begin's transaction */
	bool reading;                    /* in a read snapshot: S_SNAPSHOT stands on its row */
	bool injected;                   /* the last failure was the test harness's (step) */
	uint32_t serial;                 /* tells this connection's epochs from others' */
};

static const struct store_ops sqlite_ops;

/*
 * Our connection behind a struct store. A store of another backend here is
 * a bug that would read its memory as ours: stop at once instead.
 */
static struct sqlite_store *sq(struct store *s)
{
	if (s->ops != &sqlite_ops) {
		log_error("store: a %s store was passed to the SQLite backend", s->ops->name);
		abort();
	}
	return (struct sqlite_store *)s;
}

/*
 * One writer at a time within the process. SQLite alone would make the
 * others poll with sleeps of 1 ms and more (its busy handler) while a commit
 * takes a tenth of that: under concurrent creates most of the time went into
 * those sleeps. A mutex hands the lock over as soon as it is free. Writers in
 * other processes (the offline CLI) are still met by the busy timeout.
 */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- result codes, statements, bindings ---- */

/*
 * Turns a failed SQLite call into a status, logging what an operator needs.
 * Must run before anything else touches the connection, which would replace
 * the message.
 */
static enum store_status sql_status(struct store *s, int rc, const char *what)
{
	if (sq(s)->injected) { /* SQLite's own message is some earlier call's */
		sq(s)->injected = false;
		log_error("store: %s: %s (a fault the test harness injected)", what,
		          sqlite3_errstr(rc));
		return (rc & 0xff) == SQLITE_FULL ? STORE_FULL : STORE_READONLY;
	}
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return STORE_CONFLICT;
		break;
	case SQLITE_FULL:
		log_error("store: %s: %s", what, sqlite3_errmsg(sq(s)->db));
		return STORE_FULL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		log_warn("store: %s: %s", what, sqlite3_errmsg(sq(s)->db));
		return STORE_BUSY;
	case SQLITE_READONLY:
		log_error("store: %s: %s", what, sqlite3_errmsg(sq(s)->db));
		return STORE_READONLY;
	default:
		break;
	}
	log_error("store: %s: %s (code %d)", what, sqlite3_errmsg(sq(s)->db), rc);
	return STORE_ERROR;
}

/* sql_status, counted for /metrics (which ignores conflicts: they are answers). */
static enum store_status sql_fail(struct store *s, int rc, const char *what)
{
	enum store_status st = sql_status(s, rc, what);

	store_count_error(st);
	return st;
}

/*
 * SQLite's busy handler: waits for a lock another connection or process
 * holds, as sqlite3_busy_timeout would (the same schedule of sleeps, up to
 * BUSY_TIMEOUT_MS), and counts every wait for /metrics.
 */
static int busy_wait(void *arg, int count)
{
	static const int delays_ms[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
	const int n = (int)(sizeof(delays_ms) / sizeof(delays_ms[0]));
	int waited = 0, delay;

	(void)arg;
	for (int i = 0; i < count && i < n; i++)
		waited += delays_ms[i];
	if (count >= n)
		waited += (count - n) * delays_ms[n - 1];
	delay = count < n ? delays_ms[count] : delays_ms[n - 1];
	if (waited + delay > BUSY_TIMEOUT_MS) {
		delay = BUSY_TIMEOUT_MS - waited;
		if (delay <= 0)
			return 0; /* give up: SQLITE_BUSY */
	}
	store_count_busy_retry();
	sqlite3_sleep(delay);
	return 1;
}

/* The kept statement id, prepared on first use; NULL with *st set on failure. */
static sqlite3_stmt *stmt_get(struct store *s, enum stmt_id id, enum store_status *st)
{
	int rc;

	if (sq(s)->stmts[id] != NULL)
		return sq(s)->stmts[id];
	rc = sqlite3_prepare_v3(sq(s)->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
	                        &sq(s)->stmts[id], NULL);
	if (rc != SQLITE_OK) {
		*st = sql_fail(s, rc, stmt_sql[id]);
		sqlite3_finalize(sq(s)->stmts[id]);
		sq(s)->stmts[id] = NULL;
		return NULL;
	}
	return sq(s)->stmts[id];
}

/*
 * Ends every use of a kept statement. The reset's return value repeats the
 * step's error, which was already handled.
 */
static void stmt_done(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

/*
 * The bind helpers carry the first failure in *rc so that a run of bindings
 * is checked once. SQLITE_STATIC is safe: stmt_done clears the bindings
 * before the caller's strings can go away.
 */
static void bind_text(sqlite3_stmt *q, int i, const char *v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

/* "" is stored as NULL. */
static void bind_opt_text(sqlite3_stmt *q, int i, const char *v, int *rc)
{
	if (*rc != SQLITE_OK)
		return;
	if (v == NULL || v[0] == '\0')
		*rc = sqlite3_bind_null(q, i);
	else
		*rc = sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

static void bind_int(sqlite3_stmt *q, int i, int64_t v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_int64(q, i, v);
}

/* 0 is stored as NULL. */
static void bind_opt_int(sqlite3_stmt *q, int i, int64_t v, int *rc)
{
	if (*rc != SQLITE_OK)
		return;
	if (v == 0)
		*rc = sqlite3_bind_null(q, i);
	else
		*rc = sqlite3_bind_int64(q, i, v);
}

static void bind_blob(sqlite3_stmt *q, int i, const void *v, int len, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_blob(q, i, v, len, SQLITE_STATIC);
}

/*
 * Copies a text column into a fixed-size field; NULL becomes "". False when
 * the value does not fit (the API bounds lengths, so that means a damaged or
 * foreign row) or SQLite ran out of memory converting it.
 */
static bool col_text(sqlite3_stmt *q, int col, char *dst, size_t size)
{
	/*
	 * The column's value once, then its type, text and length from it: each
	 * sqlite3_column_* call finds the column again and takes the
	 * connection's mutex, three times per text column of every row read.
	 * The value is "unprotected", which only matters to a connection shared
	 * between threads; ours are opened SQLITE_OPEN_NOMUTEX, one thread each.
	 */
	sqlite3_value *v = sqlite3_column_value(q, col);
	const unsigned char *t;
	int len;

	/* The type must be asked before sqlite3_value_text converts the value. */
	if (v == NULL)
		return false;
	if (sqlite3_value_type(v) == SQLITE_NULL) {
		dst[0] = '\0';
		return true;
	}
	t = sqlite3_value_text(v);
	if (t == NULL)
		return false;
	len = sqlite3_value_bytes(v);
	if (len < 0 || (size_t)len >= size)
		return false;
	memcpy(dst, t, (size_t)len);
	dst[len] = '\0';
	return true;
}

/* NULL becomes 0. */
static int64_t col_int(sqlite3_stmt *q, int col)
{
	return sqlite3_column_int64(q, col);
}

static enum store_status bad_row(const char *table, const char *column)
{
	log_error("store: a %s row has a %s that does not fit this build; refusing it", table,
	          column);
	return STORE_ERROR;
}

/*
 * sqlite3_step, but a statement that would write meets the test harness's fault first
 * (store_fault_set): it answers SQLITE_READONLY or SQLITE_FULL, as the real failure
 * does, and nothing of it runs. COMMIT, ROLLBACK and savepoints count as read-only to
 * SQLite and go on; BEGIN IMMEDIATE does not (it takes the write lock), but goes on as
 * well, as store.h promises of both backends: what fails is the write itself.
 */
static int step(struct store *s, sqlite3_stmt *q)
{
	if (s->fault != STORE_FAULT_NONE && q != sq(s)->stmts[S_BEGIN] &&
	    !sqlite3_stmt_readonly(q)) {
		switch (store_fault_on_write(s, !sqlite3_get_autocommit(sq(s)->db))) {
		case STORE_READONLY:
			sq(s)->injected = true;
			return SQLITE_READONLY;
		case STORE_FULL:
			sq(s)->injected = true;
			return SQLITE_FULL;
		default:
			break;
		}
	}
	return sqlite3_step(q);
}

/* Runs a statement that takes no parameters and yields no rows. */
static enum store_status exec_stmt(struct store *s, enum stmt_id id)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, id, &st);
	int rc;

	if (q == NULL)
		return st;
	rc = step(s, q);
	if (rc != SQLITE_DONE)
		st = sql_fail(s, rc, stmt_sql[id]);
	stmt_done(q);
	return st;
}

/* ---- row decoding ---- */

typedef enum store_status (*row_reader)(sqlite3_stmt *q, void *out);

static bool source_text(void *row, int col, char *dst, size_t size)
{
	return col_text(row, col, dst, size);
}

static int64_t source_int(void *row, int col)
{
	return col_int(row, col);
}

/* A row of q through the shared decoder (store_backend.h). */
static enum store_status read_shape(const struct store_row_shape *shape, sqlite3_stmt *q, void *out)
{
	struct store_row_source src = {q, source_text, source_int};

	return store_row_read(shape, &src, out);
}

static enum store_status read_account(sqlite3_stmt *q, void *out)
{
	return read_shape(&store_account_row, q, out);
}

static enum store_status read_cluster(sqlite3_stmt *q, void *out)
{
	return read_shape(&store_cluster_row, q, out);
}

static enum store_status read_user(sqlite3_stmt *q, void *out)
{
	return read_shape(&store_user_row, q, out);
}

static enum store_status read_token(sqlite3_stmt *q, void *out)
{
	return read_shape(&store_mgmt_token_row, q, out);
}

static enum store_status read_database(sqlite3_stmt *q, void *out)
{
	return read_shape(&store_database_row, q, out);
}

static enum store_status read_table(sqlite3_stmt *q, void *out)
{
	return read_shape(&store_table_row, q, out);
}

/* The token's own columns; its permissions are read by load_permissions. */
static enum store_status read_db_token(sqlite3_stmt *q, void *out)
{
	return read_shape(&store_db_token_row, q, out);
}

static enum store_status read_invite(sqlite3_stmt *q, void *out)
{
	return read_shape(&store_invite_row, q, out);
}

/* Room for any one row, so that fetch_one needs no allocation. */
union any_row {
	struct store_invite invite;
	struct store_database database;
	struct store_table table;
	struct store_db_token db_token;
	struct store_account account;
	struct store_cluster cluster;
	struct store_user user;
	struct store_mgmt_token token;
	struct store_audit_event audit;
};

/*
 * Steps a bound statement for at most one row and decodes it into out
 * (size bytes), which is written only on STORE_OK. Resets q in every case.
 */
static enum store_status fetch_one(struct store *s, sqlite3_stmt *q, row_reader read, void *out,
                                   size_t size)
{
	union any_row tmp;
	enum store_status st;
	int rc;

	if (size > sizeof(tmp)) {
		log_error("store: row buffer too small");
		stmt_done(q);
		return STORE_ERROR;
	}
	rc = step(s, q);
	if (rc == SQLITE_ROW)
		st = read(q, &tmp);
	else if (rc == SQLITE_DONE)
		st = STORE_NOT_FOUND;
	else
		st = sql_fail(s, rc, sqlite3_sql(q));
	stmt_done(q);
	if (st == STORE_OK)
		memcpy(out, &tmp, size);
	return st;
}

/*
 * Steps a bound statement to the end, decoding every row into a malloc'ed
 * array of elements of size bytes. *out and *n are set only on STORE_OK
 * (*out NULL when there is no row); the caller frees *out. Resets q.
 */
static enum store_status fetch_all(struct store *s, sqlite3_stmt *q, row_reader read, size_t size,
                                   void **out, size_t *n)
{
	enum store_status st = STORE_OK;
	char *rows = NULL;
	size_t count = 0, cap = 0;
	int rc;

	while ((rc = step(s, q)) == SQLITE_ROW) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char *grown;

			if (ncap > SIZE_MAX / size ||
			    (grown = realloc(rows, ncap * size)) == NULL) {
				log_error("store: out of memory listing rows");
				st = STORE_ERROR;
				goto out;
			}
			rows = grown;
			cap = ncap;
		}
		st = read(q, rows + count * size);
		if (st != STORE_OK)
			goto out;
		count++;
	}
	if (rc != SQLITE_DONE)
		st = sql_fail(s, rc, sqlite3_sql(q));
out:
	stmt_done(q);
	if (st != STORE_OK) {
		free(rows);
		return st;
	}
	if (count == 0) {
		free(rows);
		rows = NULL;
	}
	*out = rows;
	*n = count;
	return STORE_OK;
}

/*
 * Steps a bound statement that changes rows; *changes gets how many. Resets q.
 * Outside a transaction the statement is its own write transaction, and
 * takes its turn at write_lock like the others.
 */
static enum store_status run_change(struct store *s, sqlite3_stmt *q, int *changes)
{
	enum store_status st = STORE_OK;
	bool own = sqlite3_get_autocommit(sq(s)->db) && !sq(s)->writing;
	int rc;

	if (own)
		pthread_mutex_lock(&write_lock);
	rc = step(s, q);
	if (own)
		pthread_mutex_unlock(&write_lock);

	if (rc == SQLITE_DONE) {
		if (changes != NULL)
			*changes = sqlite3_changes(sq(s)->db);
	} else {
		st = sql_fail(s, rc, sqlite3_sql(q));
	}
	stmt_done(q);
	return st;
}

/* For a bind failure: the statement is reset and the failure mapped. */
static enum store_status bind_failed(struct store *s, sqlite3_stmt *q, int rc)
{
	enum store_status st = sql_fail(s, rc, sqlite3_sql(q));

	stmt_done(q);
	return st;
}

/* ---- transactions ---- */

static void write_unlock(struct store *s)
{
	if (sq(s)->writing) {
		sq(s)->writing = false;
		pthread_mutex_unlock(&write_lock);
	}
}

static void sqlite_tx_rollback(struct store *s)
{
	if (s == NULL)
		return;
	store_fault_after_rollback(s);
	/* SQLite rolls back by itself after some errors (full, I/O, busy). */
	if (!sqlite3_get_autocommit(sq(s)->db) && exec_stmt(s, S_ROLLBACK) != STORE_OK)
		log_error("store: rollback failed");
	write_unlock(s);
}

static enum store_status sqlite_tx_begin(struct store *s)
{
	enum store_status st;

	pthread_mutex_lock(&write_lock);
	sq(s)->writing = true;
	st = exec_stmt(s, S_BEGIN);
	if (st != STORE_OK)
		write_unlock(s);
	return st;
}

static enum store_status sqlite_tx_commit(struct store *s)
{
	enum store_status st;

	store_fault_before_commit(s);
	st = exec_stmt(s, S_COMMIT);

	if (st != STORE_OK)
		store_tx_rollback(s);
	write_unlock(s);
	return st;
}

/*
 * A read snapshot is one statement left standing on its row rather than a
 * BEGIN ... COMMIT: while it stands, SQLite keeps its read transaction open
 * and every other statement of the connection reads in it; resetting it ends
 * the transaction. The same snapshot for two statements fewer (5 700
 * instructions of a management-token GET went to BEGIN and COMMIT), and it
 * has begun its read transaction by itself: the change epoch needs no touch.
 */
static enum store_status sqlite_read_begin(struct store *s, bool *began)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q;
	int rc;

	*began = false;
	if (!sqlite3_get_autocommit(sq(s)->db) || sq(s)->reading)
		return STORE_OK;
	q = stmt_get(s, S_SNAPSHOT, &st);
	if (q == NULL)
		return st;
	rc = step(s, q);
	if (rc != SQLITE_ROW) {
		st = sql_fail(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, stmt_sql[S_SNAPSHOT]);
		stmt_done(q);
		return st;
	}
	sq(s)->reading = true;
	*began = true;
	return STORE_OK;
}

/*
 * SQLite counts, per connection, the changes committed to the file by any
 * connection of any process (its data version), and notices others' when a
 * read transaction begins. In a read snapshot (sqlite_read_begin) that has
 * happened; in a transaction of BEGIN, the touch makes sure it has.
 */
static bool sqlite_change_epoch(struct store *s, uint64_t *out)
{
	unsigned version = 0;

	if (!sq(s)->reading &&
	    (sqlite3_get_autocommit(sq(s)->db) || exec_stmt(s, S_TOUCH) != STORE_OK))
		return false;
	if (sqlite3_txn_state(sq(s)->db, "main") != SQLITE_TXN_READ ||
	    sqlite3_file_control(sq(s)->db, "main", SQLITE_FCNTL_DATA_VERSION, &version) !=
	        SQLITE_OK)
		return false;
	*out = (uint64_t)sq(s)->serial << 32 | version;
	return true;
}

static enum store_status sqlite_savepoint(struct store *s)
{
	return exec_stmt(s, S_SAVEPOINT);
}

static enum store_status sqlite_savepoint_release(struct store *s)
{
	return exec_stmt(s, S_SAVEPOINT_RELEASE);
}

static enum store_status sqlite_savepoint_rollback(struct store *s)
{
	enum store_status st = exec_stmt(s, S_SAVEPOINT_ROLLBACK);

	return st == STORE_OK ? exec_stmt(s, S_SAVEPOINT_RELEASE) : st;
}

static bool sqlite_changes_heard(struct store *s)
{
	(void)s;
	return true;
}

static void sqlite_read_end(struct store *s, bool began)
{
	if (!began || !sq(s)->reading)
		return;
	/* Nothing was written in it: its end cannot lose anything. */
	stmt_done(sq(s)->stmts[S_SNAPSHOT]);
	sq(s)->reading = false;
}

/*
 * For functions that must be atomic: begins a transaction unless the caller
 * holds one, and says in *began whether it did, so that tx_leave ends only
 * what tx_enter began.
 */
static enum store_status tx_enter(struct store *s, bool *began)
{
	enum store_status st;

	*began = false;
	if (!sqlite3_get_autocommit(sq(s)->db))
		return STORE_OK;
	st = store_tx_begin(s);
	if (st == STORE_OK)
		*began = true;
	return st;
}

/* Commits on STORE_OK, else rolls back; returns the final status. */
static enum store_status tx_leave(struct store *s, bool began, enum store_status st)
{
	if (!began)
		return st;
	if (st == STORE_OK)
		return store_tx_commit(s);
	store_tx_rollback(s);
	return st;
}

static enum store_status sqlite_tx_enter(struct store *s, bool *began)
{
	return tx_enter(s, began);
}

static enum store_status sqlite_tx_leave(struct store *s, bool began, enum store_status st)
{
	return tx_leave(s, began, st);
}

/* ---- open, migrate, close ---- */

static int read_user_version(struct store *s, int *version)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_USER_VERSION, &st);
	int rc;

	if (q == NULL)
		return -1;
	rc = step(s, q);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(q, 0);
	else
		sql_fail(s, rc, "PRAGMA user_version");
	stmt_done(q);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int sqlite_schema_version(struct store *s)
{
	int version;

	return read_user_version(s, &version) == 0 ? version : -1;
}

/*
 * Runs one PRAGMA and checks the text of its answer (expect NULL: no check).
 * Returns 0, the failing SQLite result code, or -1 for an unexpected answer;
 * err says which.
 */
static int pragma(struct store *s, const char *sql, const char *expect, char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(sq(s)->db, sql, -1, &q, NULL);
	int ret = -1;

	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", sql, sqlite3_errmsg(sq(s)->db));
		ret = rc;
		goto out;
	}
	rc = step(s, q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", sql, sqlite3_errmsg(sq(s)->db));
		ret = rc;
		goto out;
	}
	if (expect != NULL) {
		const unsigned char *got = rc == SQLITE_ROW ? sqlite3_column_text(q, 0) : NULL;

		if (got == NULL || strcmp((const char *)got, expect) != 0) {
			snprintf(err, errlen, "%s answered %s, not %s", sql,
			         got ? (const char *)got : "nothing", expect);
			goto out;
		}
	}
	ret = 0;
out:
	sqlite3_finalize(q);
	return ret;
}

/*
 * Switching a fresh file to WAL needs an exclusive lock, and SQLite answers
 * BUSY at once, without the busy handler, when another connection is doing
 * the same (waiting could deadlock). So we wait here, as long as the busy
 * timeout would.
 */
static int set_wal(struct store *s, char *err, size_t errlen)
{
	const int step_ms = 10;
	int rc;

	for (int waited = 0;; waited += step_ms) {
		rc = pragma(s, "PRAGMA journal_mode = WAL", "wal", err, errlen);
		if (rc == 0)
			return 0;
		if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) ||
		    waited >= BUSY_TIMEOUT_MS)
			return -1;
		sqlite3_sleep(step_ms);
	}
}

/*
 * Applies one migration unless another process got there first: the version
 * is read again under the write lock that BEGIN IMMEDIATE takes.
 */
static int apply_migration(struct store *s, const struct schema_migration *m, char *err,
                           size_t errlen)
{
	char sql[64];
	char *msg = NULL;
	int version, rc;

	if (store_tx_begin(s) != STORE_OK) {
		snprintf(err, errlen, "migration %s: cannot begin: %s", m->name,
		         sqlite3_errmsg(sq(s)->db));
		return -1;
	}
	if (read_user_version(s, &version) != 0) {
		snprintf(err, errlen, "migration %s: cannot read the schema version", m->name);
		goto fail;
	}
	if (version >= m->version) {
		store_tx_rollback(s);
		return 0;
	}
	rc = sqlite3_exec(sq(s)->db, m->sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "migration %s failed: %s", m->name,
		         msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		goto fail;
	}
	/* PRAGMA takes no parameters; the version is our own integer. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", m->version);
	rc = sqlite3_exec(sq(s)->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "migration %s: cannot record the version: %s", m->name,
		         msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		goto fail;
	}
	if (store_tx_commit(s) != STORE_OK) {
		snprintf(err, errlen, "migration %s: cannot commit: %s", m->name,
		         sqlite3_errmsg(sq(s)->db));
		return -1;
	}
	log_info("store: applied migration %s", m->name);
	return 0;
fail:
	store_tx_rollback(s);
	return -1;
}

static int migrate(struct store *s, const char *path, char *err, size_t errlen)
{
	int latest = 0, version;

	/* Versions must rise strictly so that user_version orders them. */
	for (size_t i = 0; i < schema_migration_count; i++) {
		if (schema_migrations[i].version <= latest) {
			snprintf(err, errlen, "embedded migration %s is out of order",
			         schema_migrations[i].name);
			return -1;
		}
		latest = schema_migrations[i].version;
	}
	if (read_user_version(s, &version) != 0) {
		snprintf(err, errlen, "%s: cannot read the schema version: %s", path,
		         sqlite3_errmsg(sq(s)->db));
		return -1;
	}
	for (size_t i = 0; i < schema_migration_count; i++) {
		if (version > latest)
			break;
		if (schema_migrations[i].version <= version)
			continue;
		if (apply_migration(s, &schema_migrations[i], err, errlen) != 0)
			return -1;
		/* Another process may have gone further meanwhile. */
		if (read_user_version(s, &version) != 0) {
			snprintf(err, errlen, "%s: cannot read the schema version: %s", path,
			         sqlite3_errmsg(sq(s)->db));
			return -1;
		}
	}
	if (version > latest) {
		snprintf(err, errlen,
		         "%s has schema version %d, newer than this mgmtd knows (%d); "
		         "run a newer mgmtd or restore a backup",
		         path, version, latest);
		return -1;
	}
	return 0;
}

/* The memdb VFS shares a database among the connections of a process that name it alike. */
#define MEMORY_PREFIX "file:/mgmtd-"
#define MEMORY_SUFFIX "?vfs=memdb"

void store_memory_path(char out[STORE_MEMORY_PATH_SIZE])
{
	unsigned char r[12];
	char hex[sizeof(r) * 2 + 1];

	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
	snprintf(out, STORE_MEMORY_PATH_SIZE, MEMORY_PREFIX "%s" MEMORY_SUFFIX, hex);
}

static bool is_memory_path(const char *path)
{
	return strncmp(path, MEMORY_PREFIX, strlen(MEMORY_PREFIX)) == 0;
}

/*
 * Process-wide SQLite settings, before its first use. Memory statistics are
 * off: they put a global mutex around every allocation, which every worker
 * thread then queues on.
 */
static void configure_sqlite(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/*
 * Creates the database file 0600 whatever the umask, when it does not exist
 * yet; SQLite gives its -wal and -shm files the database file's mode. An
 * existing file is never opened here: close() of any descriptor of a file
 * drops every POSIX lock this process holds on it, SQLite's included, and
 * another process could then delete the live WAL under our connections.
 * O_EXCL makes the file ours alone: no connection can hold a lock on a file
 * that did not exist a moment ago.
 */
static int create_db_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
	return -1;
}

static atomic_uint next_serial;

int store_sqlite_open(const char *path, struct store **out, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	bool memory = is_memory_path(path);
	struct sqlite_store *conn;
	struct store *s;
	int rc;

	*out = NULL;
	pthread_once(&once, configure_sqlite);
	conn = calloc(1, sizeof(*conn));
	if (conn == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	conn->base.ops = &sqlite_ops;
	conn->serial = atomic_fetch_add(&next_serial, 1);
	s = &conn->base;
	if (!memory && create_db_file(path, err, errlen) != 0)
		goto fail;

	rc = sqlite3_open_v2(path, &sq(s)->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
	                         (memory ? SQLITE_OPEN_URI : 0),
	                     NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		         sq(s)->db ? sqlite3_errmsg(sq(s)->db) : sqlite3_errstr(rc));
		goto fail;
	}
	/* So that a UNIQUE violation can be told from a foreign-key one. */
	sqlite3_extended_result_codes(sq(s)->db, 1);
	rc = sqlite3_busy_handler(sq(s)->db, busy_wait, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot set the busy handler: %s", path,
		         sqlite3_errmsg(sq(s)->db));
		goto fail;
	}
	/*
	 * synchronous=FULL: with NORMAL a revocation acknowledged just before a
	 * power failure could be lost, and the token would work again.
	 */
	/*
	 * A memdb database cannot use WAL; its rollback journal is in memory and
	 * the busy timeout still serialises writers. Nothing to make durable.
	 */
	if ((!memory && set_wal(s, err, errlen) != 0) ||
	    pragma(s, "PRAGMA synchronous = FULL", NULL, err, errlen) != 0 ||
	    pragma(s, "PRAGMA synchronous", "2", err, errlen) != 0 ||
	    pragma(s, "PRAGMA foreign_keys = ON", NULL, err, errlen) != 0 ||
	    pragma(s, "PRAGMA foreign_keys", "1", err, errlen) != 0)
		goto fail;
	if (migrate(s, path, err, errlen) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return -1;
}

/* The file is held open by this process: nothing to reach. */
static enum store_status sqlite_ping(struct store *s)
{
	return STORE_OK;
}

static void sqlite_close(struct store *s)
{
	if (s == NULL)
		return;
	write_unlock(s); /* a transaction left open is rolled back by sqlite3_close */
	for (size_t i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(sq(s)->stmts[i]);
	/* Every statement is finalized, so close cannot be left busy. */
	if (sq(s)->db != NULL && sqlite3_close(sq(s)->db) != SQLITE_OK)
		log_error("store: close: %s", sqlite3_errmsg(sq(s)->db));
	free(sq(s));
}

/* ---- accounts and clusters ---- */

static enum store_status account_get(struct store *s, const char *id, struct store_account *out)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_ACCOUNT_GET, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, id, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return fetch_one(s, q, read_account, out, sizeof(*out));
}

static enum store_status sqlite_account_get(struct store *s, const char *id,
                                            struct store_account *out)
{
	return account_get(s, id, out);
}

static enum store_status account_insert(struct store *s, const struct store_account *a)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_ACCOUNT_INSERT, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, a->id, &rc);
	bind_text(q, 2, a->name, &rc);
	bind_int(q, 3, a->created_at, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return run_change(s, q, NULL);
}

static enum store_status sqlite_account_ensure(struct store *s, const struct store_account *a)
{
	struct store_account existing;
	enum store_status st;
	bool began;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = account_get(s, a->id, &existing);
	if (st == STORE_OK)
		st = strcmp(existing.name, a->name) == 0 ? STORE_OK : STORE_CONFLICT;
	else if (st == STORE_NOT_FOUND)
		st = account_insert(s, a);
	return tx_leave(s, began, st);
}

static enum store_status cluster_insert(struct store *s, const struct store_cluster *c)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_CLUSTER_INSERT, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, c->id, &rc);
	bind_text(q, 2, c->account_id, &rc);
	bind_text(q, 3, c->name, &rc);
	bind_text(q, 4, c->url, &rc);
	bind_int(q, 5, c->category, &rc);
	bind_int(q, 6, c->created_at, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return run_change(s, q, NULL);
}

static enum store_status sqlite_cluster_ensure(struct store *s, const struct store_cluster *c)
{
	struct store_cluster existing;
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	/* By id alone: the same id in another account is a conflict, not a new row. */
	q = stmt_get(s, S_CLUSTER_BY_ID, &st);
	if (q == NULL)
		goto out;
	bind_text(q, 1, c->id, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = fetch_one(s, q, read_cluster, &existing, sizeof(existing));
	if (st == STORE_OK)
		st = strcmp(existing.account_id, c->account_id) == 0 &&
		             strcmp(existing.name, c->name) == 0 &&
		             strcmp(existing.url, c->url) == 0 && existing.category == c->category
		         ? STORE_OK
		         : STORE_CONFLICT;
	else if (st == STORE_NOT_FOUND)
		st = cluster_insert(s, c);
out:
	return tx_leave(s, began, st);
}

static enum store_status sqlite_cluster_get(struct store *s, const char *account_id, const char *id,
                                            struct store_cluster *out)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_CLUSTER_GET, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	bind_text(q, 2, id, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return fetch_one(s, q, read_cluster, out, sizeof(*out));
}

static enum store_status sqlite_cluster_list(struct store *s, const char *account_id,
                                             struct store_cluster **out, size_t *n)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_CLUSTER_LIST, &st);
	void *rows;
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = fetch_all(s, q, read_cluster, sizeof(**out), &rows, n);
	if (st == STORE_OK)
		*out = rows;
	return st;
}

/* ---- users ---- */

/* The user statements that yield one user row, with ?1..?n bound to keys[0..n-1]. */
static enum store_status user_lookup_keys(struct store *s, enum stmt_id id,
                                          const char *const keys[], int n, struct store_user *out)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, id, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	for (int i = 0; i < n; i++)
		bind_text(q, i + 1, keys[i], &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return fetch_one(s, q, read_user, out, sizeof(*out));
}

/* The user statements that take (account_id, key). */
static enum store_status user_lookup(struct store *s, enum stmt_id id, const char *account_id,
                                     const char *key, struct store_user *out)
{
	const char *const keys[] = {account_id, key};

	return user_lookup_keys(s, id, keys, 2, out);
}

/* The user statements that take (account_id, issuer, key). */
static enum store_status user_lookup_at(struct store *s, enum stmt_id id, const char *account_id,
                                        const char *issuer, const char *key, struct store_user *out)
{
	const char *const keys[] = {account_id, issuer, key};

	return user_lookup_keys(s, id, keys, 3, out);
}

/* Binds ?3..?8 of the user INSERT and UPDATE, which share that layout. */
static void bind_user_fields(sqlite3_stmt *q, const struct store_user *u, int *rc)
{
	bind_text(q, 3, u->email, rc);
	bind_opt_text(q, 4, u->first_name, rc);
	bind_opt_text(q, 5, u->last_name, rc);
	bind_text(q, 6, user_group_name(u->group), rc);
	bind_opt_text(q, 7, u->idp_subject, rc);
	bind_opt_text(q, 8, u->idp_issuer, rc);
}

static enum store_status sqlite_user_insert(struct store *s, const struct store_user *u)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_USER_INSERT, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, u->id, &rc);
	bind_text(q, 2, u->account_id, &rc);
	bind_user_fields(q, u, &rc);
	bind_int(q, 9, u->created_at, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return run_change(s, q, NULL);
}

static enum store_status sqlite_user_get(struct store *s, const char *account_id, const char *id,
                                         struct store_user *out)
{
	return user_lookup(s, S_USER_GET, account_id, id, out);
}

static enum store_status sqlite_user_by_email(struct store *s, const char *account_id,
                                              const char *email, struct store_user *out)
{
	return user_lookup(s, S_USER_BY_EMAIL, account_id, email, out);
}

static enum store_status sqlite_user_by_subject(struct store *s, const char *account_id,
                                                const char *issuer, const char *sub,
                                                struct store_user *out)
{
	return user_lookup_at(s, S_USER_BY_SUBJECT, account_id, issuer, sub, out);
}

static enum store_status sqlite_user_by_email_unlinked(struct store *s, const char *account_id,
                                                       const char *issuer, const char *email,
                                                       struct store_user *out)
{
	return user_lookup_at(s, S_USER_BY_EMAIL_NO_SUBJECT, account_id, issuer, email, out);
}

static enum store_status sqlite_user_link(struct store *s, const char *account_id, const char *id,
                                          const char *issuer, const char *sub)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_USER_LINK, &st);
	int rc = SQLITE_OK, changes = 0;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	bind_text(q, 2, id, &rc);
	bind_text(q, 3, issuer, &rc);
	bind_text(q, 4, sub, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = run_change(s, q, &changes);
	if (st == STORE_OK && changes == 0)
		st = STORE_NOT_FOUND;
	return st;
}

static enum store_status sqlite_users_unbound(struct store *s, const char *account_id, size_t max,
                                              struct store_user **out, size_t *n)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_USERS_UNBOUND, &st);
	void *rows;
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_opt_text(q, 1, account_id, &rc);
	bind_int(q, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = fetch_all(s, q, read_user, sizeof(**out), &rows, n);
	if (st == STORE_OK)
		*out = rows;
	return st;
}

static enum store_status sqlite_users_bind_issuer(struct store *s, const char *account_id,
                                                  const char *id, const char *issuer,
                                                  int64_t *bound)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, id ? S_USER_BIND : S_USERS_BIND_ALL, &st);
	int rc = SQLITE_OK, changes = 0;

	if (q == NULL)
		return st;
	if (id) {
		bind_text(q, 1, account_id, &rc);
		bind_text(q, 2, id, &rc);
		bind_text(q, 3, issuer, &rc);
	} else {
		bind_text(q, 1, issuer, &rc);
	}
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = run_change(s, q, &changes);
	if (st == STORE_OK)
		*bound = changes;
	return st;
}

static enum store_status sqlite_user_list(struct store *s, const char *account_id,
                                          struct store_user **out, size_t *n)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_USER_LIST, &st);
	void *rows;
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = fetch_all(s, q, read_user, sizeof(**out), &rows, n);
	if (st == STORE_OK)
		*out = rows;
	return st;
}

static enum store_status sqlite_users_by_email(struct store *s, const char *email,
                                               struct store_user **out, size_t *n)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_USER_BY_EMAIL_ANY, &st);
	void *rows;
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, email, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = fetch_all(s, q, read_user, sizeof(**out), &rows, n);
	if (st == STORE_OK)
		*out = rows;
	return st;
}

static enum store_status sqlite_admin_count(struct store *s, const char *account_id, long *count)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_ADMIN_COUNT, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	rc = step(s, q);
	if (rc == SQLITE_ROW)
		*count = (long)sqlite3_column_int64(q, 0);
	else
		st = sql_fail(s, rc, stmt_sql[S_ADMIN_COUNT]);
	stmt_done(q);
	return st;
}

/*
 * Inside the caller's transaction: NOT_FOUND when the user does not exist,
 * LAST_ADMIN when it is an admin and would take the account's last admin
 * with it (removes_admin), else OK.
 */
static enum store_status check_last_admin(struct store *s, const char *account_id, const char *id,
                                          bool removes_admin_if_admin)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_USER_GROUP, &st);
	enum user_group g = GROUP_MEMBER;
	char grp[16];
	long admins;
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	bind_text(q, 2, id, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	rc = step(s, q);
	if (rc == SQLITE_ROW) {
		if (!col_text(q, 0, grp, sizeof(grp)) || user_group_parse(grp, &g) != 0)
			st = bad_row("users", "grp");
	} else if (rc == SQLITE_DONE) {
		st = STORE_NOT_FOUND;
	} else {
		st = sql_fail(s, rc, stmt_sql[S_USER_GROUP]);
	}
	stmt_done(q);
	if (st != STORE_OK || g != GROUP_ADMIN || !removes_admin_if_admin)
		return st;
	st = store_admin_count(s, account_id, &admins);
	if (st == STORE_OK && admins <= 1)
		st = STORE_LAST_ADMIN;
	return st;
}

static enum store_status sqlite_user_update(struct store *s, const struct store_user *u)
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK, changes = 0;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = check_last_admin(s, u->account_id, u->id, u->group != GROUP_ADMIN);
	if (st != STORE_OK)
		goto out;
	q = stmt_get(s, S_USER_UPDATE, &st);
	if (q == NULL)
		goto out;
	bind_text(q, 1, u->account_id, &rc);
	bind_text(q, 2, u->id, &rc);
	bind_user_fields(q, u, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = run_change(s, q, &changes);
	if (st == STORE_OK && changes == 0)
		st = STORE_NOT_FOUND;
out:
	return tx_leave(s, began, st);
}

static enum store_status sqlite_user_delete(struct store *s, const char *account_id, const char *id)
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK, changes = 0;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = check_last_admin(s, account_id, id, true);
	if (st != STORE_OK)
		goto out;
	q = stmt_get(s, S_USER_DELETE, &st);
	if (q == NULL)
		goto out;
	bind_text(q, 1, account_id, &rc);
	bind_text(q, 2, id, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = run_change(s, q, &changes);
	if (st == STORE_OK && changes == 0)
		st = STORE_NOT_FOUND;
out:
	return tx_leave(s, began, st);
}

/* ---- management tokens ---- */

static enum store_status sqlite_mgmt_token_insert(struct store *s, const struct store_mgmt_token *t,
                                                  const unsigned char hash[TOKEN_HASH_LEN])
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_TOKEN_INSERT, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, t->id, &rc);
	bind_text(q, 2, t->account_id, &rc);
	bind_text(q, 3, t->description, &rc);
	bind_text(q, 4, t->prefix, &rc);
	bind_blob(q, 5, hash, TOKEN_HASH_LEN, &rc);
	bind_text(q, 6, TOKEN_HASH_SCHEME, &rc);
	bind_int(q, 7, t->created_at, &rc);
	bind_opt_text(q, 8, t->created_by, &rc);
	bind_opt_int(q, 9, t->expires_at, &rc);
	bind_opt_int(q, 10, t->revoked_at, &rc);
	bind_opt_text(q, 11, t->revoked_by, &rc);
	bind_opt_int(q, 12, t->last_used_at, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return run_change(s, q, NULL);
}

static enum store_status sqlite_mgmt_token_get(struct store *s, const char *account_id,
                                               const char *id, struct store_mgmt_token *out)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_TOKEN_GET, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	bind_text(q, 2, id, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return fetch_one(s, q, read_token, out, sizeof(*out));
}

/* Whether column col of q holds exactly hash: compared in constant time. */
static bool hash_in_column(sqlite3_stmt *q, int col, const unsigned char hash[TOKEN_HASH_LEN])
{
	const void *got = sqlite3_column_blob(q, col);

	return got != NULL && sqlite3_column_bytes(q, col) == TOKEN_HASH_LEN &&
	       sodium_memcmp(got, hash, TOKEN_HASH_LEN) == 0;
}

/*
 * A row found by hash or previous hash (columns col and col + 1): which of
 * them is hash (*previous), or false for neither.
 */
static bool which_hash(sqlite3_stmt *q, int col, const unsigned char hash[TOKEN_HASH_LEN],
                       bool *previous)
{
	bool current = hash_in_column(q, col, hash);
	bool prev = hash_in_column(q, col + 1, hash);

	*previous = !current && prev;
	return current || prev;
}

static enum store_status sqlite_mgmt_token_by_hash(struct store *s,
                                                   const unsigned char hash[TOKEN_HASH_LEN],
                                                   struct store_mgmt_token *out)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_TOKEN_BY_HASH, &st);
	struct store_mgmt_token t;
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_blob(q, 1, hash, TOKEN_HASH_LEN, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	rc = step(s, q);
	if (rc == SQLITE_ROW) {
		st = read_token(q, &t);
		/*
		 * The index lookup is not constant-time, but it only finds a
		 * row for a hash that is already right; the final compare,
		 * on which the answer rests, is.
		 */
		if (st == STORE_OK && !which_hash(q, TOKEN_NCOLS, hash, &t.by_previous))
			st = STORE_NOT_FOUND;
	} else if (rc == SQLITE_DONE) {
		st = STORE_NOT_FOUND;
	} else {
		st = sql_fail(s, rc, stmt_sql[S_TOKEN_BY_HASH]);
	}
	stmt_done(q);
	if (st == STORE_OK)
		*out = t;
	return st;
}

static enum store_status sqlite_mgmt_token_list(struct store *s, const char *account_id,
                                                enum token_status_filter filter, int64_t now,
                                                struct store_mgmt_token **out, size_t *n)
{
	enum store_status st = STORE_OK;
	enum stmt_id id;
	sqlite3_stmt *q;
	void *rows;
	int rc = SQLITE_OK;

	switch (filter) {
	case TOKEN_FILTER_ALL:
		id = S_TOKEN_LIST_ALL;
		break;
	case TOKEN_FILTER_ACTIVE:
		id = S_TOKEN_LIST_ACTIVE;
		break;
	case TOKEN_FILTER_EXPIRED:
		id = S_TOKEN_LIST_EXPIRED;
		break;
	case TOKEN_FILTER_REVOKED:
		id = S_TOKEN_LIST_REVOKED;
		break;
	case TOKEN_FILTER_SUSPENDED:
		id = S_TOKEN_LIST_SUSPENDED;
		break;
	default:
		log_error("store: unknown token filter %d", (int)filter);
		return STORE_ERROR;
	}
	q = stmt_get(s, id, &st);
	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	if (sqlite3_bind_parameter_count(q) >= 2)
		bind_int(q, 2, now, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = fetch_all(s, q, read_token, sizeof(**out), &rows, n);
	if (st == STORE_OK)
		*out = rows;
	return st;
}

/* Binds the query's search, resume key and size to ?4 .. ?7 of a scan. */
static void bind_scan(sqlite3_stmt *q, const struct store_token_query *query, int *rc)
{
	bind_opt_text(q, 4, query->search, rc);
	bind_int(q, 5, query->has_after ? query->after.created_at : INT64_MIN, rc);
	bind_int(q, 6, query->has_after ? query->after.seq : INT64_MIN, rc);
	bind_int(q, 7, (int64_t)query->max, rc);
	bind_opt_int(q, 8, query->expiring_within, rc);
	bind_int(q, 9, query->now, rc);
}

static enum store_status sqlite_mgmt_token_scan(struct store *s,
                                                const struct store_token_query *query,
                                                store_mgmt_token_visit visit, void *ctx,
                                                size_t *rows)
{
	struct store_row_source src;
	struct store_mgmt_token row;
	enum store_status st = STORE_OK;
	struct store_cursor key;
	sqlite3_stmt *q;
	int rc = SQLITE_OK;

	q = stmt_get(s, S_TOKEN_SCAN, &st);
	if (q == NULL)
		return st;
	bind_text(q, 1, query->account_id, &rc);
	bind_int(q, 2, (int64_t)query->filter, &rc);
	bind_int(q, 3, query->now, &rc);
	bind_scan(q, query, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	src = (struct store_row_source){q, source_text, source_int};
	/* One statement is one read: the batch is consistent, and nothing stays open. */
	while ((rc = step(s, q)) == SQLITE_ROW) {
		st = store_row_refill(&store_mgmt_token_row, &src, &row);
		if (st != STORE_OK)
			goto out;
		key.created_at = row.created_at;
		key.seq = sqlite3_column_int64(q, TOKEN_NCOLS);
		if (!visit(ctx, &row, &key)) {
			st = STORE_ERROR;
			goto out;
		}
		(*rows)++;
	}
	if (rc != SQLITE_DONE)
		st = sql_fail(s, rc, stmt_sql[S_TOKEN_SCAN]);
out:
	stmt_done(q);
	return st;
}

static enum store_status sqlite_mgmt_token_revoke(struct store *s, const char *account_id,
                                                  const char *id, int64_t now,
                                                  const char *revoked_by,
                                                  struct store_mgmt_token *out)
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	q = stmt_get(s, S_TOKEN_REVOKE, &st);
	if (q == NULL)
		goto out;
	bind_text(q, 1, account_id, &rc);
	bind_text(q, 2, id, &rc);
	bind_int(q, 3, now, &rc);
	bind_opt_text(q, 4, revoked_by, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = run_change(s, q, NULL);
	/* Read back: a token revoked before shows its first revocation. */
	if (st == STORE_OK)
		st = store_mgmt_token_get(s, account_id, id, out);
out:
	return tx_leave(s, began, st);
}

static enum store_status sqlite_mgmt_token_touch(struct store *s, const char *id, int64_t now,
                                                 int64_t min_interval_ms)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_TOKEN_TOUCH, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, id, &rc);
	bind_int(q, 2, now, &rc);
	bind_int(q, 3, min_interval_ms, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return run_change(s, q, NULL);
}

/* Runs a bound change and says whether it updated a row. */
static enum store_status change_flag(struct store *s, sqlite3_stmt *q, int rc, bool *changed)
{
	enum store_status st;
	int changes = 0;

	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = run_change(s, q, &changes);
	*changed = st == STORE_OK && changes > 0;
	return st;
}

static enum store_status sqlite_mgmt_token_rotate(struct store *s, const char *account_id,
                                                  const char *id,
                                                  const unsigned char hash[TOKEN_HASH_LEN],
                                                  const char *prefix, int64_t now,
                                                  int64_t previous_until, bool *changed)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_TOKEN_ROTATE, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	bind_text(q, 2, id, &rc);
	bind_blob(q, 3, hash, TOKEN_HASH_LEN, &rc);
	bind_text(q, 4, TOKEN_HASH_SCHEME, &rc);
	bind_int(q, 5, previous_until, &rc);
	bind_int(q, 6, now, &rc);
	bind_text(q, 7, prefix, &rc);
	return change_flag(s, q, rc, changed);
}

static enum store_status sqlite_mgmt_token_suspend(struct store *s, const char *account_id,
                                                   const char *id, bool suspend, int64_t now,
                                                   const char *by, bool *changed)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, suspend ? S_TOKEN_SUSPEND : S_TOKEN_RESUME, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	bind_text(q, 2, id, &rc);
	if (suspend) {
		bind_int(q, 3, now, &rc);
		bind_opt_text(q, 4, by, &rc);
	}
	return change_flag(s, q, rc, changed);
}

/* Sets a lastUsedAt column (one of the *_TOUCH* statements): (id, now, min_interval_ms). */
static enum store_status touch_row(struct store *s, enum stmt_id sid, const char *id, int64_t now,
                                   int64_t min_interval_ms)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, sid, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, id, &rc);
	bind_int(q, 2, now, &rc);
	bind_int(q, 3, min_interval_ms, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return run_change(s, q, NULL);
}

/* The database token's lastUsedAt, as the management token's (S_DBTOKEN_TOUCH). */
static enum store_status sqlite_db_token_touch(struct store *s, const char *id, int64_t now,
                                               int64_t min_interval_ms)
{
	return touch_row(s, S_DBTOKEN_TOUCH, id, now, min_interval_ms);
}

static enum store_status sqlite_mgmt_token_touch_previous(struct store *s, const char *id,
                                                          int64_t now, int64_t min_interval_ms)
{
	return touch_row(s, S_TOKEN_TOUCH_PREVIOUS, id, now, min_interval_ms);
}

/*
 * For reads that span several statements: a deferred transaction (no write
 * lock) unless the caller holds one. Ended by tx_leave like the others.
 */
static enum store_status tx_enter_read(struct store *s, bool *began)
{
	enum store_status st;

	*began = false;
	if (!sqlite3_get_autocommit(sq(s)->db) || sq(s)->reading)
		return STORE_OK;
	st = exec_stmt(s, S_BEGIN_READ);
	if (st == STORE_OK)
		*began = true;
	return st;
}

/* Runs a bound UPDATE and maps "no row changed" to NOT_FOUND. Resets q. */
static enum store_status change_one(struct store *s, sqlite3_stmt *q)
{
	int changes = 0;
	enum store_status st = run_change(s, q, &changes);

	if (st == STORE_OK && changes == 0)
		st = STORE_NOT_FOUND;
	return st;
}

/* ---- databases ---- */

/* The statements that take (account_id, cluster_id, name) and change one live row. */
static sqlite3_stmt *bind_db_key(struct store *s, enum stmt_id id, const char *account_id,
                                 const char *cluster_id, enum store_status *st, int *rc)
{
	sqlite3_stmt *q = stmt_get(s, id, st);

	if (q == NULL)
		return NULL;
	bind_text(q, 1, account_id, rc);
	bind_text(q, 2, cluster_id, rc);
	return q;
}

static enum store_status sqlite_database_insert(struct store *s, struct store_database *d)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_DB_INSERT, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, d->account_id, &rc);
	bind_text(q, 2, d->cluster_id, &rc);
	bind_text(q, 3, d->name, &rc);
	bind_int(q, 4, d->max_tables, &rc);
	bind_int(q, 5, d->max_columns_per_table, &rc);
	bind_int(q, 6, d->retention_period, &rc);
	bind_opt_text(q, 7, d->partition_template, &rc);
	bind_int(q, 8, d->created_at, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = run_change(s, q, NULL);
	/* Our own connection's last insert: no other statement ran in between. */
	if (st == STORE_OK) {
		d->id = sqlite3_last_insert_rowid(sq(s)->db);
		d->deleted_at = 0;
	}
	return st;
}

static enum store_status sqlite_database_get(struct store *s, const char *account_id,
                                             const char *cluster_id, const char *name,
                                             struct store_database *out)
{
	enum store_status st = STORE_OK;
	int rc = SQLITE_OK;
	sqlite3_stmt *q = bind_db_key(s, S_DB_GET, account_id, cluster_id, &st, &rc);

	if (q == NULL)
		return st;
	bind_text(q, 3, name, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return fetch_one(s, q, read_database, out, sizeof(*out));
}

static enum store_status sqlite_database_get_id(struct store *s, const char *account_id,
                                                const char *cluster_id, int64_t id,
                                                struct store_database *out)
{
	enum store_status st = STORE_OK;
	int rc = SQLITE_OK;
	sqlite3_stmt *q = bind_db_key(s, S_DB_GET_ID, account_id, cluster_id, &st, &rc);

	if (q == NULL)
		return st;
	bind_int(q, 3, id, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return fetch_one(s, q, read_database, out, sizeof(*out));
}

static enum store_status sqlite_database_list(struct store *s, const char *account_id,
                                              const char *cluster_id, bool deleted,
                                              struct store_database **out, size_t *n)
{
	enum store_status st = STORE_OK;
	int rc = SQLITE_OK;
	sqlite3_stmt *q = bind_db_key(s, deleted ? S_DB_LIST_DELETED : S_DB_LIST_LIVE, account_id,
	                              cluster_id, &st, &rc);
	void *rows;

	if (q == NULL)
		return st;
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = fetch_all(s, q, read_database, sizeof(**out), &rows, n);
	if (st == STORE_OK)
		*out = rows;
	return st;
}

static enum store_status sqlite_database_scan(struct store *s, const char *account_id,
                                              const char *cluster_id, bool deleted,
                                              store_database_visit visit, void *ctx)
{
	enum store_status st = STORE_OK;
	int rc = SQLITE_OK;
	sqlite3_stmt *q = bind_db_key(s, deleted ? S_DB_LIST_DELETED : S_DB_LIST_LIVE, account_id,
	                              cluster_id, &st, &rc);
	struct store_row_source src = {q, source_text, source_int};
	struct store_database row;

	if (q == NULL)
		return st;
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	while ((rc = step(s, q)) == SQLITE_ROW) {
		st = store_row_refill(&store_database_row, &src, &row);
		if (st == STORE_OK && !visit(ctx, &row))
			st = STORE_ERROR;
		if (st != STORE_OK)
			goto out;
	}
	if (rc != SQLITE_DONE)
		st = sql_fail(s, rc, sqlite3_sql(q));
out:
	stmt_done(q);
	return st;
}

static enum store_status sqlite_database_update(struct store *s, const struct store_database *d)
{
	enum store_status st = STORE_OK;
	int rc = SQLITE_OK;
	sqlite3_stmt *q = bind_db_key(s, S_DB_UPDATE, d->account_id, d->cluster_id, &st, &rc);

	if (q == NULL)
		return st;
	bind_int(q, 3, d->id, &rc);
	bind_int(q, 4, d->max_tables, &rc);
	bind_int(q, 5, d->max_columns_per_table, &rc);
	bind_int(q, 6, d->retention_period, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return change_one(s, q);
}

static enum store_status sqlite_database_delete(struct store *s, const char *account_id,
                                                const char *cluster_id, const char *name,
                                                int64_t now)
{
	enum store_status st = STORE_OK;
	int rc = SQLITE_OK;
	sqlite3_stmt *q = bind_db_key(s, S_DB_DELETE, account_id, cluster_id, &st, &rc);

	if (q == NULL)
		return st;
	bind_text(q, 3, name, &rc);
	bind_int(q, 4, now, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return change_one(s, q);
}

static enum store_status sqlite_database_rename(struct store *s, const char *account_id,
                                                const char *cluster_id, const char *name,
                                                const char *new_name, struct store_database *out)
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	q = bind_db_key(s, S_DB_RENAME, account_id, cluster_id, &st, &rc);
	if (q == NULL)
		goto out;
	bind_text(q, 3, name, &rc);
	bind_text(q, 4, new_name, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = change_one(s, q);
	if (st == STORE_OK)
		st = store_database_get(s, account_id, cluster_id, new_name, out);
out:
	return tx_leave(s, began, st);
}

static enum store_status sqlite_database_undelete(struct store *s, const char *account_id,
                                                  const char *cluster_id, int64_t id,
                                                  struct store_database *out)
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	q = bind_db_key(s, S_DB_UNDELETE, account_id, cluster_id, &st, &rc);
	if (q == NULL)
		goto out;
	bind_int(q, 3, id, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	/* A live database with the same name makes the unique index refuse: CONFLICT. */
	st = change_one(s, q);
	if (st == STORE_OK)
		st = store_database_get_id(s, account_id, cluster_id, id, out);
out:
	return tx_leave(s, began, st);
}

/* ---- tables ---- */

static enum store_status sqlite_table_insert(struct store *s, struct store_table *t)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_TABLE_INSERT, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_int(q, 1, t->database_id, &rc);
	bind_text(q, 2, t->name, &rc);
	bind_opt_text(q, 3, t->partition_template, &rc);
	bind_int(q, 4, t->created_at, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = run_change(s, q, NULL);
	if (st == STORE_OK) {
		t->id = sqlite3_last_insert_rowid(sq(s)->db);
		t->deleted_at = 0;
		t->iceberg_export = false; /* the column's default */
	}
	return st;
}

/* The table statements that take (database_id, name) and yield one row. */
static enum store_status sqlite_table_get(struct store *s, int64_t database_id, const char *name,
                                          struct store_table *out)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_TABLE_GET, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_int(q, 1, database_id, &rc);
	bind_text(q, 2, name, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return fetch_one(s, q, read_table, out, sizeof(*out));
}

static enum store_status sqlite_table_get_id(struct store *s, int64_t database_id, int64_t id,
                                             struct store_table *out)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_TABLE_GET_ID, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_int(q, 1, database_id, &rc);
	bind_int(q, 2, id, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return fetch_one(s, q, read_table, out, sizeof(*out));
}

static enum store_status sqlite_table_list(struct store *s, int64_t database_id, bool deleted,
                                           struct store_table **out, size_t *n)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, deleted ? S_TABLE_LIST_DELETED : S_TABLE_LIST_LIVE, &st);
	void *rows;
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_int(q, 1, database_id, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = fetch_all(s, q, read_table, sizeof(**out), &rows, n);
	if (st == STORE_OK)
		*out = rows;
	return st;
}

static enum store_status sqlite_table_delete(struct store *s, int64_t database_id, const char *name,
                                             int64_t now)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_TABLE_DELETE, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_int(q, 1, database_id, &rc);
	bind_text(q, 2, name, &rc);
	bind_int(q, 3, now, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return change_one(s, q);
}

static enum store_status sqlite_table_rename(struct store *s, int64_t database_id, const char *name,
                                             const char *new_name, struct store_table *out)
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	q = stmt_get(s, S_TABLE_RENAME, &st);
	if (q == NULL)
		goto out;
	bind_int(q, 1, database_id, &rc);
	bind_text(q, 2, name, &rc);
	bind_text(q, 3, new_name, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = change_one(s, q);
	if (st == STORE_OK)
		st = store_table_get(s, database_id, new_name, out);
out:
	return tx_leave(s, began, st);
}

static enum store_status sqlite_table_undelete(struct store *s, int64_t database_id, int64_t id,
                                               struct store_table *out)
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	q = stmt_get(s, S_TABLE_UNDELETE, &st);
	if (q == NULL)
		goto out;
	bind_int(q, 1, database_id, &rc);
	bind_int(q, 2, id, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = change_one(s, q);
	if (st == STORE_OK)
		st = store_table_get_id(s, database_id, id, out);
out:
	return tx_leave(s, began, st);
}

static enum store_status sqlite_table_set_iceberg(struct store *s, int64_t database_id,
                                                  const char *name, bool enabled,
                                                  struct store_table *out)
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	/* the change and the row read back in one transaction: no rename slips between */
	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	q = stmt_get(s, S_TABLE_ICEBERG, &st);
	if (q == NULL)
		goto out;
	bind_int(q, 1, database_id, &rc);
	bind_text(q, 2, name, &rc);
	bind_int(q, 3, enabled ? 1 : 0, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = change_one(s, q);
	if (st == STORE_OK)
		st = store_table_get(s, database_id, name, out);
out:
	return tx_leave(s, began, st);
}

/* ---- database tokens ---- */

/* Reads the permissions of t->id into t, in their stored order. */
static enum store_status load_permissions(struct store *s, struct store_db_token *t)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_DBPERM_LIST, &st);
	char action[16];
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, t->id, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	t->permission_count = 0;
	while ((rc = step(s, q)) == SQLITE_ROW) {
		struct store_db_permission *p = &t->permissions[t->permission_count];

		if (t->permission_count == STORE_DB_TOKEN_MAX_PERMISSIONS) {
			st = bad_row("database_token_permissions", "count");
			goto out;
		}
		if (!col_text(q, 0, action, sizeof(action)) ||
		    db_action_parse(action, &p->action) != 0) {
			st = bad_row("database_token_permissions", "action");
			goto out;
		}
		if (!col_text(q, 1, p->resource, sizeof(p->resource))) {
			st = bad_row("database_token_permissions", "resource");
			goto out;
		}
		t->permission_count++;
	}
	if (rc != SQLITE_DONE)
		st = sql_fail(s, rc, stmt_sql[S_DBPERM_LIST]);
out:
	stmt_done(q);
	return st;
}

/* Replaces the stored permissions of t->id with t's; inside the caller's transaction. */
static enum store_status write_permissions(struct store *s, const struct store_db_token *t)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_DBPERM_DELETE, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, t->id, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = run_change(s, q, NULL);
	for (size_t i = 0; st == STORE_OK && i < t->permission_count; i++) {
		q = stmt_get(s, S_DBPERM_INSERT, &st);
		if (q == NULL)
			break;
		bind_text(q, 1, t->id, &rc);
		bind_int(q, 2, (int64_t)i, &rc);
		bind_text(q, 3, db_action_name(t->permissions[i].action), &rc);
		bind_text(q, 4, t->permissions[i].resource, &rc);
		if (rc != SQLITE_OK)
			return bind_failed(s, q, rc);
		st = run_change(s, q, NULL);
	}
	return st;
}

static enum store_status sqlite_db_token_insert(struct store *s, const struct store_db_token *t,
                                                const unsigned char hash[TOKEN_HASH_LEN])
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	q = stmt_get(s, S_DBTOKEN_INSERT, &st);
	if (q == NULL)
		goto out;
	bind_text(q, 1, t->id, &rc);
	bind_text(q, 2, t->account_id, &rc);
	bind_text(q, 3, t->cluster_id, &rc);
	bind_text(q, 4, t->description, &rc);
	bind_blob(q, 5, hash, TOKEN_HASH_LEN, &rc);
	bind_text(q, 6, TOKEN_HASH_SCHEME, &rc);
	bind_int(q, 7, t->created_at, &rc);
	bind_opt_text(q, 8, t->created_by, &rc);
	bind_opt_int(q, 9, t->expires_at, &rc);
	bind_opt_int(q, 10, t->revoked_at, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = run_change(s, q, NULL);
	if (st == STORE_OK)
		st = write_permissions(s, t);
out:
	return tx_leave(s, began, st);
}

/* fetch_one of a token row, then its permissions, in one snapshot. */
static enum store_status fetch_db_token(struct store *s, sqlite3_stmt *q,
                                        struct store_db_token *out)
{
	enum store_status st = fetch_one(s, q, read_db_token, out, sizeof(*out));

	if (st == STORE_OK)
		st = load_permissions(s, out);
	return st;
}

static enum store_status sqlite_db_token_get(struct store *s, const char *account_id,
                                             const char *cluster_id, const char *id,
                                             struct store_db_token *out)
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter_read(s, &began);
	if (st != STORE_OK)
		return st;
	q = bind_db_key(s, S_DBTOKEN_GET, account_id, cluster_id, &st, &rc);
	if (q == NULL)
		goto out;
	bind_text(q, 3, id, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = fetch_db_token(s, q, out);
out:
	return tx_leave(s, began, st);
}

static enum store_status sqlite_db_token_by_hash(struct store *s,
                                                 const unsigned char hash[TOKEN_HASH_LEN],
                                                 struct store_db_token *out)
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter_read(s, &began);
	if (st != STORE_OK)
		return st;
	q = stmt_get(s, S_DBTOKEN_BY_HASH, &st);
	if (q == NULL)
		goto out;
	bind_blob(q, 1, hash, TOKEN_HASH_LEN, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	rc = step(s, q);
	if (rc == SQLITE_ROW) {
		st = read_db_token(q, out);
		/* As for management tokens: the answer rests on a constant-time compare. */
		if (st == STORE_OK && !which_hash(q, DBTOKEN_OWN_NCOLS, hash, &out->by_previous))
			st = STORE_NOT_FOUND;
	} else if (rc == SQLITE_DONE) {
		st = STORE_NOT_FOUND;
	} else {
		st = sql_fail(s, rc, stmt_sql[S_DBTOKEN_BY_HASH]);
	}
	stmt_done(q);
	if (st == STORE_OK)
		st = load_permissions(s, out);
out:
	return tx_leave(s, began, st);
}

static enum store_status sqlite_db_token_list(struct store *s, const char *account_id,
                                              const char *cluster_id, bool include_revoked,
                                              struct store_db_token **out, size_t *n)
{
	struct store_db_token *rows = NULL;
	enum store_status st;
	sqlite3_stmt *q;
	void *raw = NULL;
	size_t count = 0;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter_read(s, &began);
	if (st != STORE_OK)
		return st;
	q = bind_db_key(s, include_revoked ? S_DBTOKEN_LIST_ALL : S_DBTOKEN_LIST_UNREVOKED,
	                account_id, cluster_id, &st, &rc);
	if (q == NULL)
		goto out;
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = fetch_all(s, q, read_db_token, sizeof(*rows), &raw, &count);
	rows = raw;
	/* One small indexed query per token: cheap in-process, and simple. */
	for (size_t i = 0; st == STORE_OK && i < count; i++)
		st = load_permissions(s, &rows[i]);
out:
	st = tx_leave(s, began, st);
	if (st != STORE_OK) {
		free(rows);
		return st;
	}
	*out = rows;
	*n = count;
	return STORE_OK;
}

/* The columns of a scan's row after the token's own: its seq, then one permission. */
#define SCAN_SEQ_COL      DBTOKEN_OWN_NCOLS
#define SCAN_ACTION_COL   (DBTOKEN_OWN_NCOLS + 1)
#define SCAN_RESOURCE_COL (DBTOKEN_OWN_NCOLS + 2)

/* Adds the permission in the action and resource columns of a scan's row to t. */
static enum store_status scan_permission(sqlite3_stmt *q, struct store_db_token *t)
{
	struct store_db_permission *p = &t->permissions[t->permission_count];
	char action[16];

	if (sqlite3_column_type(q, SCAN_ACTION_COL) == SQLITE_NULL)
		return STORE_OK; /* the LEFT JOIN's row of a token without permissions */
	if (t->permission_count == STORE_DB_TOKEN_MAX_PERMISSIONS)
		return bad_row("database_token_permissions", "count");
	if (!col_text(q, SCAN_ACTION_COL, action, sizeof(action)) ||
	    db_action_parse(action, &p->action) != 0)
		return bad_row("database_token_permissions", "action");
	if (!col_text(q, SCAN_RESOURCE_COL, p->resource, sizeof(p->resource)))
		return bad_row("database_token_permissions", "resource");
	t->permission_count++;
	return STORE_OK;
}

static enum store_status sqlite_db_token_scan(struct store *s,
                                              const struct store_token_query *query,
                                              store_db_token_visit visit, void *ctx, size_t *rows)
{
	struct store_row_source src;
	struct store_db_token *row;
	enum store_status st = STORE_OK;
	struct store_cursor key = {0, 0};
	bool have = false; /* row holds a token not yet visited */
	sqlite3_stmt *q;
	int rc = SQLITE_OK;

	/* the one row buffer of the scan: 9 KB is more than a worker's stack should hold */
	row = malloc(sizeof(*row));
	if (row == NULL) {
		log_error("store: out of memory listing database tokens");
		return STORE_ERROR;
	}
	q = bind_db_key(s, S_DBTOKEN_SCAN, query->account_id, query->cluster_id, &st, &rc);
	if (q == NULL)
		goto out_free;
	bind_int(q, 3, query->include_revoked ? 1 : 0, &rc);
	bind_scan(q, query, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out_free;
	}
	src = (struct store_row_source){q, source_text, source_int};
	/* one statement, one read: the tokens and their permissions agree */
	while ((rc = step(s, q)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(q, SCAN_SEQ_COL);

		if (!have || seq != key.seq) {
			if (have && !visit(ctx, row, &key)) {
				st = STORE_ERROR;
				goto out;
			}
			if (have)
				(*rows)++;
			st = store_row_refill(&store_db_token_row, &src, row);
			if (st != STORE_OK)
				goto out;
			row->permission_count = 0;
			key.created_at = row->created_at;
			key.seq = seq;
			have = true;
		}
		st = scan_permission(q, row);
		if (st != STORE_OK)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		st = sql_fail(s, rc, stmt_sql[S_DBTOKEN_SCAN]);
		goto out;
	}
	if (have) {
		if (!visit(ctx, row, &key))
			st = STORE_ERROR;
		else
			(*rows)++;
	}
out:
	stmt_done(q);
out_free:
	free(row);
	return st;
}

static enum store_status sqlite_db_token_update(struct store *s, const struct store_db_token *t)
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	q = bind_db_key(s, S_DBTOKEN_UPDATE, t->account_id, t->cluster_id, &st, &rc);
	if (q == NULL)
		goto out;
	bind_text(q, 3, t->id, &rc);
	bind_text(q, 4, t->description, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = change_one(s, q);
	if (st == STORE_OK)
		st = write_permissions(s, t);
out:
	return tx_leave(s, began, st);
}

static enum store_status sqlite_db_token_revoke(struct store *s, const char *account_id,
                                                const char *cluster_id, const char *id, int64_t now,
                                                struct store_db_token *out)
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	q = bind_db_key(s, S_DBTOKEN_REVOKE, account_id, cluster_id, &st, &rc);
	if (q == NULL)
		goto out;
	bind_text(q, 3, id, &rc);
	bind_int(q, 4, now, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = run_change(s, q, NULL);
	/* Read back: a token revoked before shows its first revocation; unknown is NOT_FOUND. */
	if (st == STORE_OK)
		st = store_db_token_get(s, account_id, cluster_id, id, out);
out:
	return tx_leave(s, began, st);
}

static enum store_status sqlite_db_token_rotate(struct store *s, const char *account_id,
                                                const char *cluster_id, const char *id,
                                                const unsigned char hash[TOKEN_HASH_LEN],
                                                int64_t now, int64_t previous_until, bool *changed)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q;
	int rc = SQLITE_OK;

	q = bind_db_key(s, S_DBTOKEN_ROTATE, account_id, cluster_id, &st, &rc);
	if (q == NULL)
		return st;
	bind_text(q, 3, id, &rc);
	bind_blob(q, 4, hash, TOKEN_HASH_LEN, &rc);
	bind_text(q, 5, TOKEN_HASH_SCHEME, &rc);
	bind_int(q, 6, previous_until, &rc);
	bind_int(q, 7, now, &rc);
	return change_flag(s, q, rc, changed);
}

static enum store_status sqlite_db_token_suspend(struct store *s, const char *account_id,
                                                 const char *cluster_id, const char *id,
                                                 bool suspend, int64_t now, const char *by,
                                                 bool *changed)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q;
	int rc = SQLITE_OK;

	q = bind_db_key(s, suspend ? S_DBTOKEN_SUSPEND : S_DBTOKEN_RESUME, account_id, cluster_id,
	                &st, &rc);
	if (q == NULL)
		return st;
	bind_text(q, 3, id, &rc);
	if (suspend) {
		bind_int(q, 4, now, &rc);
		bind_opt_text(q, 5, by, &rc);
	}
	return change_flag(s, q, rc, changed);
}

static enum store_status sqlite_db_token_touch_previous(struct store *s, const char *id,
                                                        int64_t now, int64_t min_interval_ms)
{
	return touch_row(s, S_DBTOKEN_TOUCH_PREVIOUS, id, now, min_interval_ms);
}

static enum store_status sqlite_db_authorize(struct store *s,
                                             const unsigned char hash[TOKEN_HASH_LEN],
                                             enum db_action action, const char *database,
                                             struct store_db_grant *out)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_DB_AUTHORIZE, &st);
	struct store_db_grant g;
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_blob(q, 1, hash, TOKEN_HASH_LEN, &rc);
	bind_text(q, 2, db_action_name(action), &rc);
	bind_text(q, 3, database, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	memset(&g, 0, sizeof(g));
	rc = step(s, q);
	if (rc == SQLITE_ROW) {
		if (!col_text(q, 0, g.token_id, sizeof(g.token_id)) ||
		    !col_text(q, 1, g.account_id, sizeof(g.account_id)) ||
		    !col_text(q, 2, g.cluster_id, sizeof(g.cluster_id)))
			st = bad_row("database_tokens", "id");
		g.expires_at = col_int(q, 3);
		g.revoked_at = col_int(q, 4);
		/* the hash (5) or the previous hash (9) */
		if (st == STORE_OK && !hash_in_column(q, 5, hash)) {
			if (hash_in_column(q, 9, hash))
				g.by_previous = true;
			else
				st = STORE_NOT_FOUND;
		}
		g.permitted = col_int(q, 6) != 0;
		g.database_exists = col_int(q, 7) != 0;
		g.created_at = col_int(q, 8);
		g.previous_expires_at = col_int(q, 10);
		g.suspended_at = col_int(q, 11);
		g.previous_last_used_at = col_int(q, 12);
		g.last_used_at = col_int(q, 13);
	} else if (rc == SQLITE_DONE) {
		st = STORE_NOT_FOUND;
	} else {
		st = sql_fail(s, rc, stmt_sql[S_DB_AUTHORIZE]);
	}
	stmt_done(q);
	if (st == STORE_OK)
		*out = g;
	return st;
}

static enum store_status sqlite_db_authorize_plan(struct store *s, bool *indexed)
{
	sqlite3_stmt *q = NULL;
	char *sql;
	int rc;
	enum store_status st = STORE_OK;

	*indexed = true;
	sql = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", stmt_sql[S_DB_AUTHORIZE]);
	if (sql == NULL)
		return STORE_ERROR;
	rc = sqlite3_prepare_v2(sq(s)->db, sql, -1, &q, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return sql_fail(s, rc, "EXPLAIN QUERY PLAN of the data-plane check");
	/* Each row's fourth column describes one step: "SEARCH ..." or "SCAN ...". */
	while ((rc = step(s, q)) == SQLITE_ROW) {
		const unsigned char *detail = sqlite3_column_text(q, 3);

		if (detail != NULL && strncmp((const char *)detail, "SCAN", 4) == 0) {
			log_error("store: the data-plane check scans: %s", detail);
			*indexed = false;
		}
	}
	if (rc != SQLITE_DONE)
		st = sql_fail(s, rc, "EXPLAIN QUERY PLAN of the data-plane check");
	sqlite3_finalize(q);
	return st;
}

/* ---- invites ---- */

/* The invite statements that take (account_id, key) and yield one invite row. */
static enum store_status invite_lookup(struct store *s, enum stmt_id id, const char *account_id,
                                       const char *key, struct store_invite *out)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, id, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	bind_text(q, 2, key, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return fetch_one(s, q, read_invite, out, sizeof(*out));
}

/* The invite of email pending at now in the account. */
static enum store_status invite_pending_one(struct store *s, const char *account_id,
                                            const char *email, int64_t now,
                                            struct store_invite *out)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_INVITE_PENDING_ONE, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	bind_text(q, 2, email, &rc);
	bind_int(q, 3, now, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return fetch_one(s, q, read_invite, out, sizeof(*out));
}

/* Inside the caller's transaction: closes the open invites of email that expired by now. */
static enum store_status invite_replace_expired(struct store *s, const char *account_id,
                                                const char *email, int64_t now)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_INVITE_REPLACE_EXPIRED, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	bind_text(q, 2, email, &rc);
	bind_int(q, 3, now, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return run_change(s, q, NULL);
}

static enum store_status invite_row_insert(struct store *s, const struct store_invite *i)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_INVITE_INSERT, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, i->id, &rc);
	bind_text(q, 2, i->account_id, &rc);
	bind_text(q, 3, i->email, &rc);
	bind_text(q, 4, user_group_name(i->group), &rc);
	bind_int(q, 5, i->invited_at, &rc);
	bind_opt_text(q, 6, i->invited_by, &rc);
	bind_int(q, 7, i->expires_at, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return run_change(s, q, NULL);
}

static enum store_status sqlite_invite_insert(struct store *s, const struct store_invite *i,
                                              int64_t now, enum invite_conflict *why)
{
	struct store_invite pending;
	struct store_user user;
	enum store_status st;
	bool began;

	*why = INVITE_CONFLICT_NONE;
	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = user_lookup(s, S_USER_BY_EMAIL, i->account_id, i->email, &user);
	if (st == STORE_OK) {
		*why = INVITE_CONFLICT_USER;
		st = STORE_CONFLICT;
		goto out;
	}
	if (st != STORE_NOT_FOUND)
		goto out;
	st = invite_replace_expired(s, i->account_id, i->email, now);
	if (st != STORE_OK)
		goto out;
	/* The unique index refuses a second open invite; this only tells the two conflicts apart.
	 */
	st = invite_row_insert(s, i);
	if (st == STORE_CONFLICT)
		*why = invite_pending_one(s, i->account_id, i->email, now, &pending) == STORE_OK
		           ? INVITE_CONFLICT_PENDING
		           : INVITE_CONFLICT_ID;
out:
	return tx_leave(s, began, st);
}

static enum store_status sqlite_invite_get(struct store *s, const char *account_id, const char *id,
                                           struct store_invite *out)
{
	return invite_lookup(s, S_INVITE_GET, account_id, id, out);
}

static enum store_status sqlite_invite_by_email(struct store *s, const char *account_id,
                                                const char *email, struct store_invite *out)
{
	return invite_lookup(s, S_INVITE_BY_EMAIL, account_id, email, out);
}

static enum store_status sqlite_invite_list(struct store *s, const char *account_id,
                                            struct store_invite **out, size_t *n)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_INVITE_LIST, &st);
	void *rows;
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = fetch_all(s, q, read_invite, sizeof(**out), &rows, n);
	if (st == STORE_OK)
		*out = rows;
	return st;
}

static enum store_status sqlite_invites_pending(struct store *s, const char *email, int64_t now,
                                                size_t max, struct store_invite **out, size_t *n)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, email ? S_INVITE_PENDING_EMAIL : S_INVITE_PENDING_ALL, &st);
	int64_t limit = max > INT64_MAX ? INT64_MAX : (int64_t)max;
	void *rows;
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	if (email) {
		bind_text(q, 1, email, &rc);
		bind_int(q, 2, now, &rc);
		bind_int(q, 3, limit, &rc);
	} else {
		bind_int(q, 1, now, &rc);
		bind_int(q, 2, limit, &rc);
	}
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = fetch_all(s, q, read_invite, sizeof(**out), &rows, n);
	if (st == STORE_OK)
		*out = rows;
	return st;
}

static enum store_status sqlite_invite_revoke(struct store *s, const char *account_id,
                                              const char *id, int64_t now, const char *revoked_by,
                                              struct store_invite *out)
{
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	q = stmt_get(s, S_INVITE_REVOKE, &st);
	if (q == NULL)
		goto out;
	bind_text(q, 1, account_id, &rc);
	bind_text(q, 2, id, &rc);
	bind_int(q, 3, now, &rc);
	bind_opt_text(q, 4, revoked_by, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = run_change(s, q, NULL);
	/* Read back: unknown is NOT_FOUND, accepted is CONFLICT, revoked before keeps its time. */
	if (st == STORE_OK)
		st = store_invite_get(s, account_id, id, out);
	if (st == STORE_OK && out->accepted_at != 0)
		st = STORE_CONFLICT;
out:
	return tx_leave(s, began, st);
}

static enum store_status sqlite_invite_accept(struct store *s, struct store_user *u, int64_t now,
                                              struct store_invite *out)
{
	struct store_invite inv;
	enum store_status st;
	sqlite3_stmt *q;
	bool began;
	int rc = SQLITE_OK;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = invite_pending_one(s, u->account_id, u->email, now, &inv);
	if (st != STORE_OK)
		goto out;
	u->group = inv.group;
	st = store_user_insert(s, u);
	if (st != STORE_OK)
		goto out;
	q = stmt_get(s, S_INVITE_ACCEPT, &st);
	if (q == NULL)
		goto out;
	bind_text(q, 1, inv.account_id, &rc);
	bind_text(q, 2, inv.id, &rc);
	bind_int(q, 3, now, &rc);
	bind_text(q, 4, u->id, &rc);
	if (rc != SQLITE_OK) {
		st = bind_failed(s, q, rc);
		goto out;
	}
	st = change_one(s, q);
	if (st == STORE_OK)
		st = store_invite_get(s, inv.account_id, inv.id, out);
out:
	return tx_leave(s, began, st);
}

static enum store_status sqlite_user_list_all(struct store *s, size_t max, struct store_user **out,
                                              size_t *n)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_USER_LIST_ALL, &st);
	void *rows;
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_int(q, 1, max > INT64_MAX ? INT64_MAX : (int64_t)max, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = fetch_all(s, q, read_user, sizeof(**out), &rows, n);
	if (st == STORE_OK)
		*out = rows;
	return st;
}

/* ---- the webhook's outbox ---- */

static enum store_status read_outbox(sqlite3_stmt *q, void *out)
{
	return read_shape(&store_outbox_row, q, out);
}

static enum store_status sqlite_outbox_insert(struct store *s, const struct store_outbox_event *e)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_OUTBOX_INSERT, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, e->id, &rc);
	bind_opt_text(q, 2, e->account_id, &rc);
	bind_text(q, 3, e->type, &rc);
	bind_text(q, 4, e->body, &rc);
	bind_int(q, 5, e->created_at, &rc);
	bind_int(q, 6, e->attempts, &rc);
	bind_int(q, 7, e->next_attempt_at, &rc);
	return rc != SQLITE_OK ? bind_failed(s, q, rc) : run_change(s, q, NULL);
}

static enum store_status sqlite_outbox_claim(struct store *s, int64_t now, int64_t lease_until,
                                             size_t max, struct store_outbox_event **out, size_t *n)
{
	enum store_status st;
	sqlite3_stmt *q;
	void *rows = NULL;
	int rc = SQLITE_OK;
	bool began;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	q = stmt_get(s, S_OUTBOX_CLAIM, &st);
	if (q != NULL) {
		bind_int(q, 1, now, &rc);
		bind_int(q, 2, lease_until, &rc);
		bind_int(q, 3, max > INT64_MAX ? INT64_MAX : (int64_t)max, &rc);
		st = rc != SQLITE_OK ? bind_failed(s, q, rc)
		                     : fetch_all(s, q, read_outbox, sizeof(**out), &rows, n);
	}
	st = tx_leave(s, began, st);
	if (st != STORE_OK) {
		free(rows);
		return st;
	}
	*out = rows;
	return STORE_OK;
}

static enum store_status sqlite_outbox_delivered(struct store *s, const char *id)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_OUTBOX_DELIVERED, &st);
	int rc = SQLITE_OK, changes = 0;

	if (q == NULL)
		return st;
	bind_text(q, 1, id, &rc);
	st = rc != SQLITE_OK ? bind_failed(s, q, rc) : run_change(s, q, &changes);
	return st == STORE_OK && changes == 0 ? STORE_NOT_FOUND : st;
}

static enum store_status sqlite_outbox_retry(struct store *s, const char *id, int64_t attempts,
                                             int64_t next_attempt_at, const char *last_error)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_OUTBOX_RETRY, &st);
	int rc = SQLITE_OK, changes = 0;

	if (q == NULL)
		return st;
	bind_text(q, 1, id, &rc);
	bind_int(q, 2, attempts, &rc);
	bind_int(q, 3, next_attempt_at, &rc);
	bind_opt_text(q, 4, last_error, &rc);
	st = rc != SQLITE_OK ? bind_failed(s, q, rc) : run_change(s, q, &changes);
	return st == STORE_OK && changes == 0 ? STORE_NOT_FOUND : st;
}

static enum store_status sqlite_outbox_pending(struct store *s, int64_t *count, int64_t *oldest)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_OUTBOX_PENDING, &st);
	int rc;

	if (q == NULL)
		return st;
	rc = step(s, q);
	if (rc == SQLITE_ROW) {
		*count = col_int(q, 0);
		*oldest = col_int(q, 1);
	} else {
		st = sql_fail(s, rc, stmt_sql[S_OUTBOX_PENDING]);
	}
	stmt_done(q);
	return st;
}

/* ---- test harness ---- */

/* The store's tables: ours and SQLite's AUTOINCREMENT counters. */
static enum store_status sqlite_table_names(struct store *s, char names[][64], size_t max,
                                            size_t *n)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_TABLE_NAMES, &st);
	int rc;

	*n = 0;
	if (q == NULL)
		return st;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);

		if (*n == max || !name || !store_plain_name(name)) {
			stmt_done(q);
			log_error("store: a table name this build cannot handle");
			return STORE_ERROR;
		}
		memcpy(names[(*n)++], name, strlen(name) + 1);
	}
	if (rc != SQLITE_DONE)
		st = sql_fail(s, rc, stmt_sql[S_TABLE_NAMES]);
	stmt_done(q);
	return st;
}

static enum store_status sqlite_clear_all(struct store *s)
{
	enum store_status st;
	char names[64][64];
	size_t n = 0;
	int rc;

	if (sqlite3_get_autocommit(sq(s)->db)) {
		log_error("store: store_clear_all outside a transaction");
		return STORE_ERROR;
	}
	/*
	 * Foreign keys are checked at COMMIT instead of at each DELETE, so the
	 * tables can be emptied in any order, including tables that later
	 * migrations add. The pragma ends with the transaction by itself.
	 */
	rc = sqlite3_exec(sq(s)->db, "PRAGMA defer_foreign_keys = ON", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(s, rc, "PRAGMA defer_foreign_keys");
	st = sqlite_table_names(s, names, sizeof(names) / sizeof(names[0]), &n);
	for (size_t i = 0; i < n && st == STORE_OK; i++) {
		char sql[96];

		/* names come from our schema and passed store_plain_name: no quoting issue */
		snprintf(sql, sizeof(sql), "DELETE FROM \"%s\"", names[i]);
		rc = sqlite3_exec(sq(s)->db, sql, NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			st = sql_fail(s, rc, sql);
	}
	return st;
}

/* Column i of the current row as a snapshot value; false for a type we never store. */
static bool column_value(sqlite3_stmt *q, int i, struct store_value *out)
{
	memset(out, 0, sizeof(*out));
	switch (sqlite3_column_type(q, i)) {
	case SQLITE_NULL:
		out->type = STORE_VALUE_NULL;
		return true;
	case SQLITE_INTEGER:
		out->type = STORE_VALUE_INT;
		out->i = sqlite3_column_int64(q, i);
		return true;
	case SQLITE_TEXT:
		out->type = STORE_VALUE_TEXT;
		out->text = (const char *)sqlite3_column_text(q, i);
		return out->text != NULL;
	case SQLITE_BLOB:
		out->type = STORE_VALUE_BLOB;
		out->blob = sqlite3_column_blob(q, i);
		out->len = (size_t)sqlite3_column_bytes(q, i);
		return out->blob != NULL || out->len == 0;
	default:
		return false;
	}
}

/* rowid: the order rows were made in, which lists follow on ties. */
static enum store_status sqlite_rows_dump(struct store *s, const char *table, const char *filter,
                                          const char *order, const char *account_id,
                                          const struct store_rows_visitor *v)
{
	const char *columns[STORE_ROW_MAX_COLUMNS];
	struct store_value values[STORE_ROW_MAX_COLUMNS];
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = NULL;
	char sql[512];
	int rc, ncols;

	snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\"%s%s ORDER BY %s", table,
	         filter ? " WHERE " : "", filter ? filter : "", order ? order : "rowid");
	rc = sqlite3_prepare_v2(sq(s)->db, sql, -1, &q, NULL);
	if (rc == SQLITE_OK && filter)
		rc = sqlite3_bind_text(q, 1, account_id, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		st = sql_fail(s, rc, sql);
		goto out;
	}
	ncols = sqlite3_column_count(q);
	if (ncols <= 0 || ncols > STORE_ROW_MAX_COLUMNS) {
		log_error("store: table %s has more columns than a snapshot takes", table);
		st = STORE_ERROR;
		goto out;
	}
	for (int i = 0; i < ncols; i++)
		columns[i] = sqlite3_column_name(q, i);
	if (!v->table(v->ctx, table, (size_t)ncols, columns)) {
		st = STORE_ERROR;
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		for (int i = 0; i < ncols; i++)
			if (!column_value(q, i, &values[i])) {
				log_error("store: a value of %s.%s a snapshot cannot take", table,
				          columns[i]);
				st = STORE_ERROR;
				goto out;
			}
		if (!v->row(v->ctx, table, (size_t)ncols, values)) {
			st = STORE_ERROR;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		st = sql_fail(s, rc, sql);
out:
	sqlite3_finalize(q);
	return st;
}

static enum store_status sqlite_rows_load_begin(struct store *s)
{
	int rc;

	if (sqlite3_get_autocommit(sq(s)->db)) {
		log_error("store: a snapshot load outside a transaction");
		return STORE_ERROR;
	}
	/* Rows of a table may name rows loaded after them (a database's creator, say). */
	rc = sqlite3_exec(sq(s)->db, "PRAGMA defer_foreign_keys = ON", NULL, NULL, NULL);
	return rc == SQLITE_OK ? STORE_OK : sql_fail(s, rc, "PRAGMA defer_foreign_keys");
}

static enum store_status sqlite_row_load(struct store *s, const char *table, size_t ncols,
                                         const char *const *columns,
                                         const struct store_value *values)
{
	char sql[2048];
	sqlite3_stmt *q = NULL;
	enum store_status st;
	int rc = SQLITE_OK;

	if (!store_row_insert_sql(sql, sizeof(sql), table, ncols, columns, " ", '?')) {
		log_error("store: a snapshot row too wide for %s", table);
		return STORE_ERROR;
	}
	rc = sqlite3_prepare_v2(sq(s)->db, sql, -1, &q, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(q);
		return sql_fail(s, rc, sql);
	}
	for (size_t i = 0; i < ncols && rc == SQLITE_OK; i++) {
		int at = (int)i + 1;

		switch (values[i].type) {
		case STORE_VALUE_INT:
			rc = sqlite3_bind_int64(q, at, values[i].i);
			break;
		case STORE_VALUE_TEXT:
			rc = sqlite3_bind_text(q, at, values[i].text, -1, SQLITE_STATIC);
			break;
		case STORE_VALUE_BLOB:
			rc = sqlite3_bind_blob(q, at, values[i].blob, (int)values[i].len,
			                       SQLITE_STATIC);
			break;
		default:
			rc = sqlite3_bind_null(q, at);
			break;
		}
	}
	st = rc == SQLITE_OK ? run_change(s, q, NULL) : sql_fail(s, rc, sql);
	sqlite3_finalize(q);
	return st;
}

/* AUTOINCREMENT counters follow the largest id inserted by themselves. */
static enum store_status sqlite_rows_load_end(struct store *s)
{
	(void)s;
	return STORE_OK;
}

/* ---- audit trail ---- */

static enum store_status sqlite_audit_insert(struct store *s, struct store_audit_event *e)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_AUDIT_INSERT, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, e->account_id, &rc);
	bind_int(q, 2, e->at, &rc);
	bind_text(q, 3, e->actor_type, &rc);
	bind_opt_text(q, 4, e->actor_id, &rc);
	bind_opt_text(q, 5, e->credential, &rc);
	bind_text(q, 6, e->action, &rc);
	bind_opt_text(q, 7, e->object_type, &rc);
	bind_opt_text(q, 8, e->object_id, &rc);
	bind_opt_text(q, 9, e->client, &rc);
	bind_text(q, 10, e->outcome, &rc);
	bind_opt_int(q, 11, e->status, &rc);
	bind_opt_text(q, 12, e->detail, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = run_change(s, q, NULL);
	if (st == STORE_OK)
		e->id = sqlite3_last_insert_rowid(sq(s)->db);
	return st;
}

static enum store_status read_audit(sqlite3_stmt *q, void *out)
{
	return read_shape(&store_audit_row, q, out);
}

/* A glob for an action prefix ("database.*"); false when the filter is not one. */
static bool action_glob(const char *action, char *out, size_t outsize)
{
	size_t len = strlen(action);

	if (len < 2 || action[len - 1] != '*' || len >= outsize)
		return false;
	/* Only the trailing '*' may be a wildcard. */
	if (strcspn(action, "*?[]") != len - 1)
		return false;
	memcpy(out, action, len + 1);
	return true;
}

static enum store_status sqlite_audit_list(struct store *s, const char *account_id,
                                           const struct store_audit_filter *f,
                                           struct store_audit_event **out, size_t *n)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_AUDIT_LIST, &st);
	char glob[STORE_AUDIT_ACTION_SIZE + 1];
	bool prefix = f->action && action_glob(f->action, glob, sizeof(glob));
	void *rows;
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	bind_opt_int(q, 2, f->since, &rc);
	bind_opt_int(q, 3, f->until, &rc);
	bind_opt_text(q, 4, prefix ? NULL : f->action, &rc);
	bind_opt_text(q, 5, prefix ? glob : NULL, &rc);
	bind_opt_text(q, 6, f->actor, &rc);
	bind_opt_int(q, 7, f->before_id, &rc);
	bind_int(q, 8, f->limit > 0 && f->limit < INT32_MAX ? (int64_t)f->limit : 1, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = fetch_all(s, q, read_audit, sizeof(**out), &rows, n);
	if (st == STORE_OK)
		*out = rows;
	return st;
}

/* Runs a DELETE that takes one time bound, counting the rows. */
static enum store_status delete_before(struct store *s, enum stmt_id id, int64_t before,
                                       int64_t *deleted)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, id, &st);
	int rc = SQLITE_OK, changes = 0;

	if (q == NULL)
		return st;
	bind_int(q, 1, before, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = run_change(s, q, &changes);
	if (st == STORE_OK && deleted)
		*deleted = changes;
	return st;
}

static enum store_status sqlite_audit_prune(struct store *s, int64_t before, int64_t *deleted)
{
	return delete_before(s, S_AUDIT_PRUNE, before, deleted);
}

/* ---- retention, counts, facts ---- */

static enum store_status sqlite_tokens_prune(struct store *s, int64_t before, int64_t *mgmt,
                                             int64_t *db)
{
	enum store_status st;
	bool began;

	*mgmt = *db = 0;
	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = delete_before(s, S_PRUNE_MGMT_TOKENS, before, mgmt);
	if (st == STORE_OK)
		st = delete_before(s, S_PRUNE_DB_PERMISSIONS, before, NULL);
	if (st == STORE_OK)
		st = delete_before(s, S_PRUNE_DB_TOKENS, before, db);
	return tx_leave(s, began, st);
}

static enum store_status sqlite_deleted_purge(struct store *s, int64_t before, int64_t *databases,
                                              int64_t *tables)
{
	enum store_status st;
	bool began;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = delete_before(s, S_PURGE_TABLES, before, tables);
	if (st == STORE_OK)
		st = delete_before(s, S_PURGE_DATABASES, before, databases);
	return tx_leave(s, began, st);
}

static enum store_status sqlite_database_name_held(struct store *s, const char *account_id,
                                                   const char *cluster_id, const char *name,
                                                   int64_t since, int64_t *deleted_at)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_DB_NAME_HELD, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, account_id, &rc);
	bind_text(q, 2, cluster_id, &rc);
	bind_text(q, 3, name, &rc);
	bind_int(q, 4, since, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*deleted_at = col_int(q, 0);
		if (*deleted_at == 0)
			st = STORE_NOT_FOUND;
	} else {
		st = sql_fail(s, rc, stmt_sql[S_DB_NAME_HELD]);
	}
	stmt_done(q);
	return st;
}

static enum store_status sqlite_account_delete(struct store *s, const char *account_id)
{
	enum store_status st;
	bool began;
	int changes = 0;

	st = tx_enter(s, &began);
	for (enum stmt_id id = S_ACCOUNT_DELETE_DBPERMS;
	     id <= S_ACCOUNT_DELETE_ACCOUNT && st == STORE_OK; id++) {
		sqlite3_stmt *q = stmt_get(s, id, &st);
		int rc = SQLITE_OK;

		if (q == NULL)
			break;
		bind_text(q, 1, account_id, &rc);
		st = rc != SQLITE_OK ? bind_failed(s, q, rc) : run_change(s, q, &changes);
	}
	if (st == STORE_OK && changes == 0) /* the last statement: the account's own row */
		st = STORE_NOT_FOUND;
	return tx_leave(s, began, st);
}

static enum store_status count_states(struct store *s, enum stmt_id id, int64_t now,
                                      int64_t counts[TOKEN_STATE_COUNT],
                                      int64_t expiring[STORE_EXPIRING_WINDOWS])
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, id, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_int(q, 1, now, &rc);
	for (int i = 0; i < STORE_EXPIRING_WINDOWS; i++)
		bind_int(q, 2 + i, now + store_expiring_days[i] * STORE_DAY_MS, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	for (int i = 0; i < TOKEN_STATE_COUNT; i++)
		counts[i] = 0;
	for (int i = 0; i < STORE_EXPIRING_WINDOWS; i++)
		expiring[i] = 0;
	while ((rc = step(s, q)) == SQLITE_ROW) {
		int64_t state = col_int(q, 0);

		if (state >= 0 && state < TOKEN_STATE_COUNT)
			counts[state] = col_int(q, 1);
		/* only active tokens are about to expire */
		for (int i = 0; state == TOKEN_STATE_ACTIVE && i < STORE_EXPIRING_WINDOWS; i++)
			expiring[i] = col_int(q, 2 + i);
	}
	if (rc != SQLITE_DONE)
		st = sql_fail(s, rc, stmt_sql[id]);
	stmt_done(q);
	return st;
}

static enum store_status sqlite_token_counts(struct store *s, int64_t now,
                                             struct store_token_counts *out)
{
	struct store_token_counts c;
	enum store_status st;
	bool began;

	st = store_read_begin(s, &began);
	if (st != STORE_OK)
		return st;
	st = count_states(s, S_COUNT_MGMT_TOKENS, now, c.mgmt, c.mgmt_expiring);
	if (st == STORE_OK)
		st = count_states(s, S_COUNT_DB_TOKENS, now, c.db, c.db_expiring);
	store_read_end(s, began);
	if (st == STORE_OK)
		*out = c;
	return st;
}

/* A row of S_*_EXPIRY_CLAIM's RETURNING: id, account_id, cluster_id, description, expires_at. */
static enum store_status read_expiring(sqlite3_stmt *q, void *out)
{
	struct store_expiring_token *t = out;

	memset(t, 0, sizeof(*t));
	if (!col_text(q, 0, t->id, sizeof(t->id)) ||
	    !col_text(q, 1, t->account_id, sizeof(t->account_id)) ||
	    !col_text(q, 2, t->cluster_id, sizeof(t->cluster_id)) ||
	    !col_text(q, 3, t->description, sizeof(t->description)))
		return bad_row("tokens", "expiry claim");
	t->expires_at = col_int(q, 4);
	return STORE_OK;
}

/* One kind's claim, appended to *out (*n rows, at most max in all). */
static enum store_status claim_kind(struct store *s, enum stmt_id id, bool management, int64_t now,
                                    int64_t before, size_t max, struct store_expiring_token **out,
                                    size_t *n)
{
	struct store_expiring_token *rows, *grown;
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, id, &st);
	size_t count;
	void *raw;
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_int(q, 1, now, &rc);
	bind_int(q, 2, before, &rc);
	bind_int(q, 3, (int64_t)(max - *n), &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = fetch_all(s, q, read_expiring, sizeof(**out), &raw, &count);
	if (st != STORE_OK || count == 0)
		return st;
	rows = raw;
	grown = realloc(*out, (*n + count) * sizeof(**out));
	if (grown == NULL) {
		free(rows);
		log_error("store: out of memory claiming expiring tokens");
		return STORE_ERROR;
	}
	for (size_t i = 0; i < count; i++) {
		rows[i].management = management;
		grown[*n + i] = rows[i];
	}
	free(rows);
	*out = grown;
	*n += count;
	return STORE_OK;
}

static enum store_status sqlite_tokens_expiry_claim(struct store *s, int64_t now, int64_t before,
                                                    size_t max, struct store_expiring_token **out,
                                                    size_t *n)
{
	enum store_status st;
	bool began;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = claim_kind(s, S_MGMT_EXPIRY_CLAIM, true, now, before, max, out, n);
	if (st == STORE_OK && *n < max)
		st = claim_kind(s, S_DB_EXPIRY_CLAIM, false, now, before, max, out, n);
	st = tx_leave(s, began, st);
	if (st != STORE_OK) {
		/* rolled back: nothing was claimed */
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return st;
}

static enum store_status sqlite_meta_get(struct store *s, const char *name, char *out,
                                         size_t outsize)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_META_GET, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, name, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	rc = step(s, q);
	if (rc == SQLITE_ROW)
		st = col_text(q, 0, out, outsize) ? STORE_OK : bad_row("store_meta", "value");
	else if (rc == SQLITE_DONE)
		st = STORE_NOT_FOUND;
	else
		st = sql_fail(s, rc, stmt_sql[S_META_GET]);
	stmt_done(q);
	return st;
}

static enum store_status sqlite_meta_set(struct store *s, const char *name, const char *value)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_META_SET, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, name, &rc);
	bind_text(q, 2, value, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	return run_change(s, q, NULL);
}

static enum store_status sqlite_meta_claim(struct store *s, const char *name, const char *value,
                                           char *recorded, size_t size)
{
	enum store_status st = STORE_OK;
	sqlite3_stmt *q = stmt_get(s, S_META_CLAIM, &st);
	int rc = SQLITE_OK;

	if (q == NULL)
		return st;
	bind_text(q, 1, name, &rc);
	bind_text(q, 2, value, &rc);
	if (rc != SQLITE_OK)
		return bind_failed(s, q, rc);
	st = run_change(s, q, NULL);
	return st == STORE_OK ? sqlite_meta_get(s, name, recorded, size) : st;
}

/* ---- backup, restore, verify ---- */

/*
 * Copies every page of src into dst in one step (one read transaction on
 * src: a consistent state), retrying while a writer holds a lock SQLite
 * cannot wait on inside the backup API.
 */
static int copy_database(sqlite3 *src, sqlite3 *dst, char *err, size_t errlen)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc;

	if (b == NULL) {
		set_err(err, errlen, "cannot start the copy: %s", sqlite3_errmsg(dst));
		return -1;
	}
	for (int waited = 0;; waited += 10) {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_DONE)
			break;
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited >= BUSY_TIMEOUT_MS) {
			set_err(err, errlen, "the copy failed: %s", sqlite3_errstr(rc));
			sqlite3_backup_finish(b);
			return -1;
		}
		sqlite3_sleep(10);
	}
	rc = sqlite3_backup_finish(b);
	if (rc != SQLITE_OK) {
		set_err(err, errlen, "the copy failed: %s", sqlite3_errmsg(dst));
		return -1;
	}
	return 0;
}

/* Opens an existing database file (never creating one). */
static int open_existing(const char *path, int flags, sqlite3 **out, char *err, size_t errlen)
{
	int rc;

	*out = NULL;
	if (access(path, F_OK) != 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = sqlite3_open_v2(path, out, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(*out, BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK) {
		set_err(err, errlen, "cannot open %s: %s", path,
		        *out ? sqlite3_errmsg(*out) : sqlite3_errstr(rc));
		sqlite3_close(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Runs sql and, when out is given, copies the first column of its first row. */
static int query_text(sqlite3 *db, const char *sql, char *out, size_t outsize)
{
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && out) {
		const unsigned char *t = sqlite3_column_text(q, 0);

		snprintf(out, outsize, "%s", t ? (const char *)t : "");
	}
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(q);
	return rc;
}

static int64_t query_count(sqlite3 *db, const char *table)
{
	char sql[96], text[32] = "";

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	if (query_text(db, sql, text, sizeof(text)) != SQLITE_OK || text[0] == '\0')
		return -1; /* no such table in that schema version */
	return strtoll(text, NULL, 10);
}

int store_backup(const char *db_path, const char *dest, char *err, size_t errlen)
{
	sqlite3 *src = NULL, *dst = NULL;
	char check[64] = "";
	int fd, rc = -1;

	if (open_existing(db_path, SQLITE_OPEN_READONLY, &src, err, errlen) != 0)
		return -1;
	/* O_EXCL: never write over a file, whatever it is; 0600: it holds hashes. */
	fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		set_err(err, errlen, "cannot create %s: %s", dest, strerror(errno));
		goto out;
	}
	close(fd);
	if (sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		set_err(err, errlen, "cannot open %s: %s", dest, sqlite3_errmsg(dst));
		goto fail;
	}
	if (copy_database(src, dst, err, errlen) != 0)
		goto fail;
	/* One self-contained file: no -wal beside it to forget when it is copied away. */
	if (query_text(dst, "PRAGMA journal_mode = DELETE", NULL, 0) != SQLITE_OK ||
	    query_text(dst, "PRAGMA quick_check", check, sizeof(check)) != SQLITE_OK ||
	    strcmp(check, "ok") != 0) {
		set_err(err, errlen, "the copy in %s does not check out: %s", dest,
		        check[0] ? check : sqlite3_errmsg(dst));
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	sqlite3_close(dst);
	dst = NULL;
	unlink(dest);
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	return rc;
}

int store_verify_file(const char *path, struct store_file_report *out, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	char text[256];
	int rc;

	memset(out, 0, sizeof(*out));
	out->schema_latest =
	    schema_migration_count ? schema_migrations[schema_migration_count - 1].version : 0;
	/* Read-write without create: a live WAL database needs its -shm; nothing is written. */
	if (open_existing(path, SQLITE_OPEN_READWRITE, &db, err, errlen) != 0)
		return -1;
	rc = query_text(db, "PRAGMA integrity_check", out->integrity, sizeof(out->integrity));
	if ((rc & 0xff) == SQLITE_CORRUPT) {
		snprintf(out->integrity, sizeof(out->integrity), "%s", sqlite3_errmsg(db));
	} else if (rc != SQLITE_OK) {
		set_err(err, errlen, "%s is not a database this build can read: %s", path,
		        sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	out->integrity_ok = strcmp(out->integrity, "ok") == 0;
	if (query_text(db, "PRAGMA user_version", text, sizeof(text)) == SQLITE_OK)
		out->schema_version = atoi(text);
	if (query_text(db, "SELECT value FROM store_meta WHERE name = 'token_key_fingerprint'",
	               out->key_fingerprint, sizeof(out->key_fingerprint)) != SQLITE_OK)
		out->key_fingerprint[0] = '\0'; /* before schema 4 */
	out->accounts = query_count(db, "accounts");
	out->management_tokens = query_count(db, "management_tokens");
	out->database_tokens = query_count(db, "database_tokens");
	out->audit_events = query_count(db, "audit_events");
	sqlite3_close(db);
	return 0;
}

int store_restore(const char *src_path, const char *db_path, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 16], wal[PATH_MAX + 8], shm[PATH_MAX + 8];
	sqlite3 *src = NULL, *dst = NULL;
	int fd, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.restoring", db_path) >= (int)sizeof(tmp) ||
	    snprintf(wal, sizeof(wal), "%s-wal", db_path) >= (int)sizeof(wal) ||
	    snprintf(shm, sizeof(shm), "%s-shm", db_path) >= (int)sizeof(shm)) {
		set_err(err, errlen, "the data directory's path is too long");
		return -1;
	}
	if (open_existing(src_path, SQLITE_OPEN_READONLY, &src, err, errlen) != 0)
		return -1;
	unlink(tmp); /* left by a restore that was interrupted */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		set_err(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		set_err(err, errlen, "cannot open %s: %s", tmp, sqlite3_errmsg(dst));
		goto fail;
	}
	if (copy_database(src, dst, err, errlen) != 0 ||
	    query_text(dst, "PRAGMA journal_mode = DELETE", NULL, 0) != SQLITE_OK)
		goto fail;
	sqlite3_close(dst);
	dst = NULL;
	/*
	 * The old database's -wal and -shm go first: left beside the new file
	 * they would be replayed into it. Then one rename puts it in place.
	 */
	if ((unlink(wal) != 0 && errno != ENOENT) || (unlink(shm) != 0 && errno != ENOENT) ||
	    rename(tmp, db_path) != 0) {
		set_err(err, errlen, "cannot put the restored database in place: %s",
		        strerror(errno));
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	sqlite3_close(dst);
	dst = NULL;
	unlink(tmp);
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	return rc;
}

/* ---- the table store_common.c calls through ---- */

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .schema_version = sqlite_schema_version,
    .ping = sqlite_ping,
    .tx_begin = sqlite_tx_begin,
    .tx_commit = sqlite_tx_commit,
    .tx_rollback = sqlite_tx_rollback,
    .read_begin = sqlite_read_begin,
    .read_end = sqlite_read_end,
    .change_epoch = sqlite_change_epoch,
    .changes_heard = sqlite_changes_heard,
    .savepoint = sqlite_savepoint,
    .savepoint_release = sqlite_savepoint_release,
    .savepoint_rollback = sqlite_savepoint_rollback,
    .commits_serialized = true,
    .account_ensure = sqlite_account_ensure,
    .account_get = sqlite_account_get,
    .cluster_ensure = sqlite_cluster_ensure,
    .cluster_get = sqlite_cluster_get,
    .cluster_list = sqlite_cluster_list,
    .user_insert = sqlite_user_insert,
    .user_get = sqlite_user_get,
    .user_by_email = sqlite_user_by_email,
    .user_by_subject = sqlite_user_by_subject,
    .user_by_email_unlinked = sqlite_user_by_email_unlinked,
    .users_by_email = sqlite_users_by_email,
    .user_link = sqlite_user_link,
    .users_unbound = sqlite_users_unbound,
    .users_bind_issuer = sqlite_users_bind_issuer,
    .user_list = sqlite_user_list,
    .user_update = sqlite_user_update,
    .user_delete = sqlite_user_delete,
    .admin_count = sqlite_admin_count,
    .mgmt_token_insert = sqlite_mgmt_token_insert,
    .mgmt_token_get = sqlite_mgmt_token_get,
    .mgmt_token_by_hash = sqlite_mgmt_token_by_hash,
    .mgmt_token_list = sqlite_mgmt_token_list,
    .mgmt_token_scan = sqlite_mgmt_token_scan,
    .mgmt_token_revoke = sqlite_mgmt_token_revoke,
    .mgmt_token_touch = sqlite_mgmt_token_touch,
    .mgmt_token_rotate = sqlite_mgmt_token_rotate,
    .mgmt_token_suspend = sqlite_mgmt_token_suspend,
    .mgmt_token_touch_previous = sqlite_mgmt_token_touch_previous,
    .database_insert = sqlite_database_insert,
    .database_get = sqlite_database_get,
    .database_get_id = sqlite_database_get_id,
    .database_list = sqlite_database_list,
    .database_scan = sqlite_database_scan,
    .database_update = sqlite_database_update,
    .database_delete = sqlite_database_delete,
    .database_rename = sqlite_database_rename,
    .database_undelete = sqlite_database_undelete,
    .table_insert = sqlite_table_insert,
    .table_get = sqlite_table_get,
    .table_get_id = sqlite_table_get_id,
    .table_list = sqlite_table_list,
    .table_delete = sqlite_table_delete,
    .table_rename = sqlite_table_rename,
    .table_undelete = sqlite_table_undelete,
    .table_set_iceberg = sqlite_table_set_iceberg,
    .db_token_insert = sqlite_db_token_insert,
    .db_token_get = sqlite_db_token_get,
    .db_token_by_hash = sqlite_db_token_by_hash,
    .db_token_list = sqlite_db_token_list,
    .db_token_scan = sqlite_db_token_scan,
    .db_token_update = sqlite_db_token_update,
    .db_token_revoke = sqlite_db_token_revoke,
    .db_token_rotate = sqlite_db_token_rotate,
    .db_token_suspend = sqlite_db_token_suspend,
    .db_token_touch_previous = sqlite_db_token_touch_previous,
    .db_authorize = sqlite_db_authorize,
    .db_authorize_plan = sqlite_db_authorize_plan,
    .clear_all = sqlite_clear_all,
    .rows_dump = sqlite_rows_dump,
    .table_names = sqlite_table_names,
    .rows_load_begin = sqlite_rows_load_begin,
    .row_load = sqlite_row_load,
    .rows_load_end = sqlite_rows_load_end,
    .outbox_insert = sqlite_outbox_insert,
    .outbox_claim = sqlite_outbox_claim,
    .outbox_delivered = sqlite_outbox_delivered,
    .outbox_retry = sqlite_outbox_retry,
    .outbox_pending = sqlite_outbox_pending,
    .account_delete = sqlite_account_delete,
    .invite_insert = sqlite_invite_insert,
    .invite_get = sqlite_invite_get,
    .invite_by_email = sqlite_invite_by_email,
    .invite_list = sqlite_invite_list,
    .invites_pending = sqlite_invites_pending,
    .invite_revoke = sqlite_invite_revoke,
    .invite_accept = sqlite_invite_accept,
    .user_list_all = sqlite_user_list_all,
    .tx_enter = sqlite_tx_enter,
    .tx_leave = sqlite_tx_leave,
    .audit_insert = sqlite_audit_insert,
    .audit_list = sqlite_audit_list,
    .audit_prune = sqlite_audit_prune,
    .tokens_prune = sqlite_tokens_prune,
    .deleted_purge = sqlite_deleted_purge,
    .database_name_held = sqlite_database_name_held,
    .token_counts = sqlite_token_counts,
    .db_token_touch = sqlite_db_token_touch,
    .tokens_expiry_claim = sqlite_tokens_expiry_claim,
    .meta_get = sqlite_meta_get,
    .meta_set = sqlite_meta_set,
    .meta_claim = sqlite_meta_claim,
};
