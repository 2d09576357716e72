/*
 * store_pg.c - the PostgreSQL backend of store.h (libpq), for one or several
 * mgmtd replicas on one database (docs/scaling.md).
 *
 * Every SQL text lives in pq_sql[] below, indexed by enum pq_id. A
 * connection prepares each one at its first use (PQprepare) and again after
 * a reconnect. Parameters go as text, hashes as binary; results come as text.
 *
 * Every decision is the database's: unique indexes name the conflicts (two
 * replicas creating one name), the last-admin rule runs under a lock on the
 * account row, a revocation keeps the first revoked_at inside its UPDATE.
 * Transactions run READ COMMITTED (each statement sees the latest commits,
 * which the locking relies on); read snapshots REPEATABLE READ READ ONLY.
 *
 * A lost connection is noticed before a statement is sent (the server's
 * goodbye is already waiting on the socket) or when one fails, and the
 * connection is reset at its next use. Nothing is ever resent: a change whose
 * connection broke may or may not have committed, and the caller answers 503
 * rather than guess.
 *
 * No call waits for the server without a bound (docs/scaling.md, failover): a
 * statement or a COMMIT that gets no answer within the connection's timeout
 * (a stopped server, a partition, a COMMIT waiting for a synchronous standby
 * that was promoted elsewhere) drops the connection, which answers
 * STORE_UNAVAILABLE. A connection is only ever made to a primary
 * (target_session_attrs=primary unless the connection string says otherwise);
 * a primary does not turn into a standby under it (a demotion restarts the
 * server, which closes every connection), so the next connection finds the
 * primary of the moment.
 */
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "schema.h"
#include "store_backend.h"
#include "timeutil.h"

/* pg_advisory_lock keys: "mgmtd" in ASCII, then what the lock guards. */
#define MIGRATION_LOCK  "7165829112210817281"
#define SERIAL_TX_LOCK  "7165829112210817282"
#define CONNECT_TIMEOUT "5" /* seconds, unless the connection string says otherwise */
#define MAX_PARAMS      12
/*
 * The retention task's deletes hold up no request and may have much to do the
 * first time: they may take up to the task's period (maintenance.c), not the
 * timeout of a request's statement.
 */
#define BULK_TIMEOUT_MS (10 * 60 * 1000)

enum pq_id {
	P_BEGIN,
	P_BEGIN_READ,
	P_COMMIT,
	P_ROLLBACK,
	P_SERIAL_LOCK,
	P_SAVEPOINT,
	P_SAVEPOINT_RELEASE,
	P_SAVEPOINT_ROLLBACK,
	P_SCHEMA_VERSION,
	P_PING,

	P_ACCOUNT_INSERT,
	P_ACCOUNT_GET,
	P_ACCOUNT_LOCK,

	P_CLUSTER_INSERT,
	P_CLUSTER_BY_ID,
	P_CLUSTER_GET,
	P_CLUSTER_LIST,

	P_USER_INSERT,
	P_USER_GET,
	P_USER_BY_EMAIL,
	P_USER_BY_SUBJECT,
	P_USER_BY_EMAIL_UNLINKED,
	P_USER_LINK,
	P_USERS_UNBOUND,
	P_USERS_BIND_ALL,
	P_USER_BIND,
	P_USER_LIST,
	P_USER_BY_EMAIL_ANY,
	P_USER_CHECK,
	P_USER_UPDATE,
	P_USER_DELETE,
	P_ADMIN_COUNT,

	P_TOKEN_INSERT,
	P_TOKEN_GET,
	P_TOKEN_BY_HASH,
	P_TOKEN_LIST_ALL,
	P_TOKEN_LIST_ACTIVE,
	P_TOKEN_LIST_EXPIRED,
	P_TOKEN_LIST_REVOKED,
	P_TOKEN_SCAN,
	P_TOKEN_REVOKE,
	P_TOKEN_TOUCH,
	P_TOKEN_LIST_SUSPENDED,
	P_TOKEN_ROTATE,
	P_TOKEN_SUSPEND,
	P_TOKEN_RESUME,
	P_TOKEN_TOUCH_PREVIOUS,

	P_DB_INSERT,
	P_DB_GET,
	P_DB_GET_ID,
	P_DB_LIST_LIVE,
	P_DB_LIST_DELETED,
	P_DB_UPDATE,
	P_DB_DELETE,
	P_DB_RENAME,
	P_DB_UNDELETE,

	P_TABLE_INSERT,
	P_TABLE_GET,
	P_TABLE_GET_ID,
	P_TABLE_LIST_LIVE,
	P_TABLE_LIST_DELETED,
	P_TABLE_DELETE,
	P_TABLE_RENAME,
	P_TABLE_UNDELETE,
	P_TABLE_ICEBERG,

	P_DBTOKEN_INSERT,
	P_DBTOKEN_GET,
	P_DBTOKEN_BY_HASH,
	P_DBTOKEN_LIST_ALL,
	P_DBTOKEN_LIST_UNREVOKED,
	P_DBTOKEN_SCAN,
	P_DBTOKEN_UPDATE,
	P_DBTOKEN_REVOKE,
	P_DBTOKEN_ROTATE,
	P_DBTOKEN_SUSPEND,
	P_DBTOKEN_RESUME,
	P_DBTOKEN_TOUCH_PREVIOUS,
	P_DBPERM_DELETE,
	P_DBPERM_INSERT,
	P_DB_AUTHORIZE,

	P_INVITE_INSERT,
	P_INVITE_GET,
	P_INVITE_BY_EMAIL,
	P_INVITE_LIST,
	P_INVITE_PENDING_ONE,
	P_INVITE_PENDING_EMAIL,
	P_INVITE_PENDING_ALL,
	P_INVITE_REPLACE_EXPIRED,
	P_INVITE_REVOKE,
	P_INVITE_ACCEPT,
	P_USER_LIST_ALL,

	P_AUDIT_INSERT,
	P_AUDIT_LIST,
	P_AUDIT_PRUNE,
	P_PRUNE_MGMT_TOKENS,
	P_PRUNE_DB_PERMISSIONS,
	P_PRUNE_DB_TOKENS,
	P_PURGE_TABLES,
	P_PURGE_DATABASES,
	P_DB_NAME_HELD,
	P_COUNT_MGMT_TOKENS,
	P_COUNT_DB_TOKENS,
	P_META_GET,
	P_META_SET,
	P_META_CLAIM,
	P_DBTOKEN_TOUCH,
	P_MGMT_EXPIRY_CLAIM,
	P_DB_EXPIRY_CLAIM,
	P_ACCOUNT_DELETE_DBPERMS,
	P_ACCOUNT_DELETE_DBTOKENS,
	P_ACCOUNT_DELETE_TABLES,
	P_ACCOUNT_DELETE_DATABASES,
	P_ACCOUNT_DELETE_MGMT,
	P_ACCOUNT_DELETE_INVITES,
	P_ACCOUNT_DELETE_USERS,
	P_ACCOUNT_DELETE_AUDIT,
	P_ACCOUNT_DELETE_CLUSTERS,
	P_ACCOUNT_DELETE_ACCOUNT,

	P_TABLE_NAMES,
	P_OUTBOX_INSERT,
	P_OUTBOX_CLAIM,
	P_OUTBOX_DELIVERED,
	P_OUTBOX_RETRY,
	P_OUTBOX_PENDING,
	P_IDENTITY_COLUMNS,

	PQ_COUNT
};

/* The column lists of the shared row shapes are in store_backend.h; these are ours. */
/* A database token row and one of its permissions (NULL when it has none). */
#define DBTOKEN_COLS                                                                               \
	"t.id, t.account_id, t.cluster_id, t.description, t.created_at, t.created_by, "            \
	"t.expires_at, t.revoked_at, t.last_used_at, " LIFECYCLE_COLS_OF_T                         \
	", p.action, p.resource"
/* Where a permission's action and resource are in such a row, and what follows them. */
#define DBTOKEN_ACTION_COL   DBTOKEN_OWN_NCOLS
#define DBTOKEN_RESOURCE_COL (DBTOKEN_OWN_NCOLS + 1)
#define DBTOKEN_AFTER_COL    (DBTOKEN_OWN_NCOLS + 2)
#define DBTOKEN_JOIN         " LEFT JOIN database_token_permissions p ON p.token_id = t.id"
/*
 * ?expiringWithin in a scan (store_token_query): $8 the window (ms) or NULL
 * for none, $9 now. Live tokens only, as the window means to warn of them.
 */
#define EXPIRING_WITHIN                                                                            \
	" AND ($8::bigint IS NULL OR (revoked_at IS NULL AND expires_at > $9::bigint"              \
	" AND expires_at <= $9::bigint + $8::bigint))"
/*
 * Claims tokens entering the expiry warning window (store_tokens_expiry_claim):
 * $1 now, $2 the window's end, $3 the most rows. A replica that meets a row
 * another one is claiming skips it, and the outer condition is checked again
 * on the locked row: each token is claimed by one replica, once.
 */
#define EXPIRY_CLAIM(table, cluster)                                                               \
	"UPDATE " table " SET expiry_warned_at = $1::bigint WHERE expiry_warned_at IS NULL"        \
	" AND id IN (SELECT id FROM " table " WHERE expiry_warned_at IS NULL"                      \
	" AND revoked_at IS NULL AND expires_at > $1::bigint AND expires_at <= $2::bigint"         \
	" ORDER BY expires_at, seq LIMIT $3::bigint FOR UPDATE SKIP LOCKED)"                       \
	" RETURNING id, account_id, " cluster ", description, expires_at"
/* Of the active tokens (state 0), those expiring by $2, $3, $4 (store_expiring_days). */
#define COUNT_EXPIRING                                                                             \
	" count(*) FILTER (WHERE expires_at <= $2::bigint),"                                       \
	" count(*) FILTER (WHERE expires_at <= $3::bigint),"                                       \
	" count(*) FILTER (WHERE expires_at <= $4::bigint)"
/* ASCII case folding only, as SQLite's NOCASE: lower() under the C collation. */
#define EMAIL_IS(param) "lower(email COLLATE \"C\") = lower(" param "::text COLLATE \"C\")"
/* Oldest first; seq (an identity) breaks ties in insertion order. */
#define OLDEST_FIRST " ORDER BY created_at, seq"

static const char *const pq_sql[PQ_COUNT] = {
    [P_BEGIN] = "BEGIN ISOLATION LEVEL READ COMMITTED",
    [P_BEGIN_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    [P_COMMIT] = "COMMIT",
    [P_ROLLBACK] = "ROLLBACK",
    /* store_tx_begin's transactions (the seed) run one at a time, in every replica. */
    [P_SERIAL_LOCK] = "SELECT pg_advisory_xact_lock(" SERIAL_TX_LOCK ")",
    [P_SAVEPOINT] = "SAVEPOINT change",
    [P_SAVEPOINT_RELEASE] = "RELEASE SAVEPOINT change",
    [P_SAVEPOINT_ROLLBACK] = "ROLLBACK TO SAVEPOINT change",
    [P_SCHEMA_VERSION] = "SELECT coalesce(max(version), 0) FROM mgmtd_schema",
    [P_PING] = "SELECT 1",

    /* The seed's ensure: whoever inserts first wins, the others compare. */
    [P_ACCOUNT_INSERT] = "INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)"
                         " ON CONFLICT (id) DO NOTHING",
    [P_ACCOUNT_GET] = "SELECT id, name, created_at FROM accounts WHERE id = $1",
    /* Every change that can take an admin away queues on its account's row. */
    [P_ACCOUNT_LOCK] = "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE",

    [P_CLUSTER_INSERT] = "INSERT INTO clusters (" CLUSTER_COLS ") VALUES ($1, $2, $3, $4, $5, $6)"
                         " ON CONFLICT (id) DO NOTHING",
    [P_CLUSTER_BY_ID] = "SELECT " CLUSTER_COLS " FROM clusters WHERE id = $1",
    [P_CLUSTER_GET] = "SELECT " CLUSTER_COLS " FROM clusters WHERE account_id = $1 AND id = $2",
    [P_CLUSTER_LIST] = "SELECT " CLUSTER_COLS " FROM clusters WHERE account_id = $1" OLDEST_FIRST,

    [P_USER_INSERT] = "INSERT INTO users (" USER_COLS ")"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    [P_USER_GET] = "SELECT " USER_COLS " FROM users WHERE account_id = $1 AND id = $2",
    [P_USER_BY_EMAIL] = "SELECT " USER_COLS " FROM users WHERE account_id = $1 AND " EMAIL_IS("$2"),
    /* An identity is the pair: a subject of another issuer is another person. */
    [P_USER_BY_SUBJECT] = "SELECT " USER_COLS " FROM users WHERE account_id = $1"
                          " AND idp_issuer = $2 AND idp_subject = $3",
    [P_USER_BY_EMAIL_UNLINKED] =
        "SELECT " USER_COLS " FROM users WHERE account_id = $1"
        " AND " EMAIL_IS("$3") " AND idp_subject IS NULL"
                               " AND (idp_issuer IS NULL OR idp_issuer = $2)",
    /* The same conditions as the lookup, so that two first sign-ins link once. */
    [P_USER_LINK] = "UPDATE users SET idp_issuer = $3, idp_subject = $4 WHERE account_id = $1"
                    " AND id = $2 AND idp_subject IS NULL"
                    " AND (idp_issuer IS NULL OR idp_issuer = $3)",
    [P_USERS_UNBOUND] =
        "SELECT " USER_COLS " FROM users WHERE idp_subject IS NOT NULL"
        " AND idp_issuer IS NULL AND ($1::text IS NULL OR account_id = $1)" OLDEST_FIRST
        " LIMIT $2::bigint",
    [P_USERS_BIND_ALL] = "UPDATE users SET idp_issuer = $1 WHERE idp_subject IS NOT NULL"
                         " AND idp_issuer IS NULL",
    [P_USER_BIND] = "UPDATE users SET idp_issuer = $3 WHERE account_id = $1 AND id = $2"
                    " AND idp_subject IS NOT NULL AND idp_issuer IS NULL",
    [P_USER_LIST] = "SELECT " USER_COLS " FROM users WHERE account_id = $1" OLDEST_FIRST,
    [P_USER_BY_EMAIL_ANY] = "SELECT " USER_COLS " FROM users WHERE " EMAIL_IS("$1") OLDEST_FIRST,
    /* Under P_ACCOUNT_LOCK: the user's group and the account's admins, as committed. */
    [P_USER_CHECK] = "SELECT grp, (SELECT count(*) FROM users a WHERE a.account_id = $1"
                     " AND a.grp = 'admin') FROM users WHERE account_id = $1 AND id = $2",
    [P_USER_UPDATE] = "UPDATE users SET email = $3, first_name = $4, last_name = $5, grp = $6,"
                      " idp_subject = $7, idp_issuer = $8 WHERE account_id = $1 AND id = $2",
    [P_USER_DELETE] = "DELETE FROM users WHERE account_id = $1 AND id = $2",
    [P_ADMIN_COUNT] = "SELECT count(*) FROM users WHERE account_id = $1 AND grp = 'admin'",

    [P_TOKEN_INSERT] = "INSERT INTO management_tokens (id, account_id, description, prefix,"
                       " hash, hash_scheme, created_at, created_by, expires_at, revoked_at,"
                       " revoked_by, last_used_at)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    [P_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM management_tokens"
                    " WHERE account_id = $1 AND id = $2",
    /* The hash comes last so that read_token sees the same columns as elsewhere. */
    [P_TOKEN_BY_HASH] =
        "SELECT " TOKEN_COLS ", hash, previous_hash FROM management_tokens" BY_HASH_FILTER("$1"),
    /* $2, where used, is now; the four filters partition the tokens. */
    [P_TOKEN_LIST_ALL] = "SELECT " TOKEN_COLS " FROM management_tokens"
                         " WHERE account_id = $1" OLDEST_FIRST,
    [P_TOKEN_LIST_ACTIVE] = "SELECT " TOKEN_COLS " FROM management_tokens"
                            " WHERE account_id = $1 AND revoked_at IS NULL"
                            " AND suspended_at IS NULL"
                            " AND (expires_at IS NULL OR expires_at > $2::bigint)" OLDEST_FIRST,
    [P_TOKEN_LIST_EXPIRED] =
        "SELECT " TOKEN_COLS " FROM management_tokens"
        " WHERE account_id = $1 AND revoked_at IS NULL"
        " AND expires_at IS NOT NULL AND expires_at <= $2::bigint" OLDEST_FIRST,
    [P_TOKEN_LIST_REVOKED] = "SELECT " TOKEN_COLS " FROM management_tokens"
                             " WHERE account_id = $1 AND revoked_at IS NOT NULL" OLDEST_FIRST,
    /*
     * A batch of a list: $2 is the status filter (enum token_status_filter)
     * at time $3, $4 the search text or NULL (ASCII case folding only, as
     * SQLite's lower()), ($5, $6) the key the batch resumes after, $7 the
     * most rows; the index (account_id, created_at, seq) gives them in order.
     */
    [P_TOKEN_SCAN] =
        "SELECT " TOKEN_COLS ", seq FROM management_tokens WHERE account_id = $1"
        " AND ($2::int = 0"
        " OR ($2::int = 1 AND revoked_at IS NULL AND suspended_at IS NULL"
        " AND (expires_at IS NULL OR expires_at > $3::bigint))"
        " OR ($2::int = 2 AND revoked_at IS NULL AND expires_at <= $3::bigint)"
        " OR ($2::int = 3 AND revoked_at IS NOT NULL)"
        " OR ($2::int = 4 AND revoked_at IS NULL AND suspended_at IS NOT NULL"
        " AND (expires_at IS NULL OR expires_at > $3::bigint)))"
        " AND ($4::text IS NULL"
        " OR strpos(lower(description COLLATE \"C\"), lower($4::text COLLATE \"C\")) > 0"
        " OR starts_with(prefix, $4::text))" EXPIRING_WITHIN
        " AND (created_at, seq) > ($5::bigint, $6::bigint)"
        " ORDER BY created_at, seq LIMIT $7::bigint",
    /*
     * The first revocation wins, decided on the row itself: a second one,
     * from this replica or another, waits for the first's row lock, then
     * finds revoked_at set and keeps it. The row after comes back at once.
     */
    [P_TOKEN_REVOKE] = "UPDATE management_tokens"
                       " SET revoked_by = CASE WHEN revoked_at IS NULL THEN $4::text"
                       " ELSE revoked_by END, revoked_at = coalesce(revoked_at, $3::bigint)"
                       " WHERE account_id = $1 AND id = $2 RETURNING " TOKEN_COLS,
    /* Skipping recent touches spares a write on every authenticated request. */
    [P_TOKEN_TOUCH] = "UPDATE management_tokens SET last_used_at = $2::bigint WHERE id = $1"
                      " AND (last_used_at IS NULL OR last_used_at <= $2::bigint - $3::bigint)",
    /* Revoked wins over expired, expired over suspended (token_status_filter). */
    [P_TOKEN_LIST_SUSPENDED] = "SELECT " TOKEN_COLS " FROM management_tokens"
                               " WHERE account_id = $1 AND revoked_at IS NULL"
                               " AND suspended_at IS NOT NULL"
                               " AND (expires_at IS NULL OR expires_at > $2::bigint)" OLDEST_FIRST,
    /*
     * The current hash becomes the previous one (SET reads the row as it was),
     * the oldest goes; $5 ends its grace, $6 is now. A rotation racing a
     * revocation waits for the row lock and then sees revoked_at.
     */
    [P_TOKEN_ROTATE] = "UPDATE management_tokens SET previous_hash = hash,"
                       " previous_hash_scheme = hash_scheme, previous_expires_at = $5::bigint,"
                       " previous_last_used_at = NULL, hash = $3, hash_scheme = $4, prefix = $7"
                       " WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL"
                       " AND (expires_at IS NULL OR expires_at > $6::bigint)",
    [P_TOKEN_SUSPEND] = "UPDATE management_tokens SET suspended_at = $3::bigint,"
                        " suspended_by = $4::text"
                        " WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL"
                        " AND suspended_at IS NULL",
    [P_TOKEN_RESUME] = "UPDATE management_tokens SET suspended_at = NULL, suspended_by = NULL"
                       " WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL"
                       " AND suspended_at IS NOT NULL",
    [P_TOKEN_TOUCH_PREVIOUS] = "UPDATE management_tokens SET previous_last_used_at = $2::bigint"
                               " WHERE id = $1 AND previous_hash IS NOT NULL"
                               " AND (previous_last_used_at IS NULL"
                               " OR previous_last_used_at <= $2::bigint - $3::bigint)",

    [P_DB_INSERT] = "INSERT INTO databases (account_id, cluster_id, name, max_tables,"
                    " max_columns_per_table, retention_period, partition_template, created_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    [P_DB_GET] = "SELECT " DB_COLS " FROM databases WHERE account_id = $1 AND cluster_id = $2"
                 " AND name = $3 AND deleted_at IS NULL",
    [P_DB_GET_ID] = "SELECT " DB_COLS " FROM databases WHERE account_id = $1"
                    " AND cluster_id = $2 AND id = $3",
    [P_DB_LIST_LIVE] = "SELECT " DB_COLS " FROM databases WHERE account_id = $1"
                       " AND cluster_id = $2 AND deleted_at IS NULL ORDER BY created_at, id",
    [P_DB_LIST_DELETED] = "SELECT " DB_COLS " FROM databases WHERE account_id = $1"
                          " AND cluster_id = $2 AND deleted_at IS NOT NULL"
                          " ORDER BY created_at, id",
    [P_DB_UPDATE] = "UPDATE databases SET max_tables = $4, max_columns_per_table = $5,"
                    " retention_period = $6 WHERE account_id = $1 AND cluster_id = $2"
                    " AND id = $3 AND deleted_at IS NULL",
    [P_DB_DELETE] = "UPDATE databases SET deleted_at = $4 WHERE account_id = $1"
                    " AND cluster_id = $2 AND name = $3 AND deleted_at IS NULL",
    [P_DB_RENAME] = "UPDATE databases SET name = $4 WHERE account_id = $1 AND cluster_id = $2"
                    " AND name = $3 AND deleted_at IS NULL RETURNING " DB_COLS,
    /* A live database with the same name makes the unique index refuse: CONFLICT. */
    [P_DB_UNDELETE] = "UPDATE databases SET deleted_at = NULL WHERE account_id = $1"
                      " AND cluster_id = $2 AND id = $3 AND deleted_at IS NOT NULL"
                      " RETURNING " DB_COLS,

    [P_TABLE_INSERT] = "INSERT INTO database_tables (database_id, name, partition_template,"
                       " created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    [P_TABLE_GET] = "SELECT " TABLE_COLS " FROM database_tables WHERE database_id = $1"
                    " AND name = $2 AND deleted_at IS NULL",
    [P_TABLE_GET_ID] = "SELECT " TABLE_COLS " FROM database_tables WHERE database_id = $1"
                       " AND id = $2",
    [P_TABLE_LIST_LIVE] = "SELECT " TABLE_COLS " FROM database_tables WHERE database_id = $1"
                          " AND deleted_at IS NULL ORDER BY created_at, id",
    [P_TABLE_LIST_DELETED] = "SELECT " TABLE_COLS " FROM database_tables"
                             " WHERE database_id = $1 AND deleted_at IS NOT NULL"
                             " ORDER BY created_at, id",
    [P_TABLE_DELETE] = "UPDATE database_tables SET deleted_at = $3 WHERE database_id = $1"
                       " AND name = $2 AND deleted_at IS NULL",
    [P_TABLE_RENAME] = "UPDATE database_tables SET name = $3 WHERE database_id = $1"
                       " AND name = $2 AND deleted_at IS NULL RETURNING " TABLE_COLS,
    [P_TABLE_UNDELETE] = "UPDATE database_tables SET deleted_at = NULL WHERE database_id = $1"
                         " AND id = $2 AND deleted_at IS NOT NULL RETURNING " TABLE_COLS,
    /* RETURNING yields the row also when it already had the value: idempotent. */
    [P_TABLE_ICEBERG] = "UPDATE database_tables SET iceberg_export = $3 WHERE database_id = $1"
                        " AND name = $2 AND deleted_at IS NULL RETURNING " TABLE_COLS,

    /* The token and its permissions in one statement, so in one commit. */
    [P_DBTOKEN_INSERT] = "WITH t AS (INSERT INTO database_tokens (id, account_id, cluster_id,"
                         " description, hash, hash_scheme, created_at, created_by, expires_at,"
                         " revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                         " RETURNING id)"
                         " INSERT INTO database_token_permissions (token_id, position, action,"
                         " resource) SELECT t.id, p.ord - 1, p.action, p.resource"
                         " FROM t, unnest($11::text[], $12::text[]) WITH ORDINALITY"
                         " AS p (action, resource, ord)",
    /* A token with its permissions: one row per permission, in their order. */
    [P_DBTOKEN_GET] = "SELECT " DBTOKEN_COLS " FROM database_tokens t" DBTOKEN_JOIN
                      " WHERE t.account_id = $1 AND t.cluster_id = $2 AND t.id = $3"
                      " ORDER BY p.position",
    /* The hash comes last, after the columns read_db_token_rows reads. */
    [P_DBTOKEN_BY_HASH] = "SELECT " DBTOKEN_COLS ", t.hash, t.previous_hash"
                          " FROM database_tokens t" DBTOKEN_JOIN
                          " WHERE t.hash = $1 OR t.previous_hash = $1 ORDER BY p.position",
    [P_DBTOKEN_LIST_ALL] = "SELECT " DBTOKEN_COLS " FROM database_tokens t" DBTOKEN_JOIN
                           " WHERE t.account_id = $1 AND t.cluster_id = $2"
                           " ORDER BY t.created_at, t.seq, p.position",
    [P_DBTOKEN_LIST_UNREVOKED] = "SELECT " DBTOKEN_COLS " FROM database_tokens t" DBTOKEN_JOIN
                                 " WHERE t.account_id = $1 AND t.cluster_id = $2"
                                 " AND t.revoked_at IS NULL"
                                 " ORDER BY t.created_at, t.seq, p.position",
    /* As P_TOKEN_SCAN, the tokens first, then their permissions; $3 is include_revoked. */
    [P_DBTOKEN_SCAN] = "WITH t AS (SELECT * FROM database_tokens WHERE account_id = $1"
                       " AND cluster_id = $2 AND ($3::boolean OR revoked_at IS NULL)"
                       " AND ($4::text IS NULL OR strpos(lower(description COLLATE \"C\"),"
                       " lower($4::text COLLATE \"C\")) > 0)" EXPIRING_WITHIN
                       " AND (created_at, seq) > ($5::bigint, $6::bigint)"
                       " ORDER BY created_at, seq LIMIT $7::bigint)"
                       " SELECT " DBTOKEN_COLS ", t.seq FROM t" DBTOKEN_JOIN
                       " ORDER BY t.created_at, t.seq, p.position",
    [P_DBTOKEN_UPDATE] = "UPDATE database_tokens SET description = $4 WHERE account_id = $1"
                         " AND cluster_id = $2 AND id = $3",
    /* The first revocation wins (as P_TOKEN_REVOKE); the row after comes back with it. */
    [P_DBTOKEN_REVOKE] = "WITH t AS (UPDATE database_tokens"
                         " SET revoked_at = coalesce(revoked_at, $4::bigint)"
                         " WHERE account_id = $1 AND cluster_id = $2 AND id = $3 RETURNING *)"
                         " SELECT " DBTOKEN_COLS " FROM t" DBTOKEN_JOIN " ORDER BY p.position",
    /* As P_TOKEN_ROTATE; $6 ends the previous secret's grace, $7 is now. */
    [P_DBTOKEN_ROTATE] =
        "UPDATE database_tokens SET previous_hash = hash,"
        " previous_hash_scheme = hash_scheme, previous_expires_at = $6::bigint,"
        " previous_last_used_at = NULL, hash = $4, hash_scheme = $5"
        " WHERE account_id = $1 AND cluster_id = $2 AND id = $3"
        " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $7::bigint)",
    [P_DBTOKEN_SUSPEND] = "UPDATE database_tokens SET suspended_at = $4::bigint,"
                          " suspended_by = $5::text"
                          " WHERE account_id = $1 AND cluster_id = $2 AND id = $3"
                          " AND revoked_at IS NULL AND suspended_at IS NULL",
    [P_DBTOKEN_RESUME] = "UPDATE database_tokens SET suspended_at = NULL, suspended_by = NULL"
                         " WHERE account_id = $1 AND cluster_id = $2 AND id = $3"
                         " AND revoked_at IS NULL AND suspended_at IS NOT NULL",
    [P_DBTOKEN_TOUCH_PREVIOUS] = "UPDATE database_tokens SET previous_last_used_at = $2::bigint"
                                 " WHERE id = $1 AND previous_hash IS NOT NULL"
                                 " AND (previous_last_used_at IS NULL"
                                 " OR previous_last_used_at <= $2::bigint - $3::bigint)",
    [P_DBPERM_DELETE] = "DELETE FROM database_token_permissions WHERE token_id = $1",
    [P_DBPERM_INSERT] = "INSERT INTO database_token_permissions (token_id, position, action,"
                        " resource) SELECT $1, p.ord - 1, p.action, p.resource"
                        " FROM unnest($2::text[], $3::text[]) WITH ORDINALITY"
                        " AS p (action, resource, ord)",
    /*
     * The data-plane check in one statement: the token by its unique hash,
     * then two index lookups under it (store_db_authorize_plan checks that).
     */
    [P_DB_AUTHORIZE] = "SELECT t.id, t.account_id, t.cluster_id, t.expires_at, t.revoked_at,"
                       " t.hash,"
                       " EXISTS (SELECT 1 FROM database_token_permissions p"
                       "  WHERE p.token_id = t.id AND p.action = $2::text"
                       "  AND p.resource IN ($3::text, '*')),"
                       " EXISTS (SELECT 1 FROM databases d WHERE d.cluster_id = t.cluster_id"
                       "  AND d.name = $3::text AND d.deleted_at IS NULL),"
                       " t.created_at, t.previous_hash, t.previous_expires_at, t.suspended_at,"
                       " t.previous_last_used_at, t.last_used_at"
                       " FROM database_tokens t WHERE t.hash = $1 OR t.previous_hash = $1",

    /* Any conflict (the id, or a second open invite of the email) inserts nothing. */
    [P_INVITE_INSERT] = "INSERT INTO invites (id, account_id, email, grp, invited_at, invited_by,"
                        " expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                        " ON CONFLICT DO NOTHING RETURNING id",
    [P_INVITE_GET] = "SELECT " INVITE_COLS " FROM invites WHERE account_id = $1 AND id = $2",
    [P_INVITE_BY_EMAIL] = "SELECT " INVITE_COLS " FROM invites WHERE account_id = $1"
                          " AND " EMAIL_IS("$2") " ORDER BY invited_at DESC, seq DESC LIMIT 1",
    [P_INVITE_LIST] = "SELECT " INVITE_COLS " FROM invites WHERE account_id = $1"
                      " ORDER BY invited_at, seq",
    /* $3 is now; the open condition lets the planner use the partial unique index. */
    [P_INVITE_PENDING_ONE] =
        "SELECT " INVITE_COLS " FROM invites WHERE account_id = $1"
        " AND " EMAIL_IS("$2") " AND " INVITE_OPEN " AND expires_at > $3::bigint",
    [P_INVITE_PENDING_EMAIL] =
        "SELECT " INVITE_COLS
        " FROM invites WHERE " EMAIL_IS("$1") " AND " INVITE_OPEN " AND expires_at > $2::bigint"
                                              " ORDER BY invited_at, seq LIMIT $3::bigint",
    [P_INVITE_PENDING_ALL] = "SELECT " INVITE_COLS " FROM invites WHERE " INVITE_OPEN
                             " AND expires_at > $1::bigint ORDER BY invited_at, seq"
                             " LIMIT $2::bigint",
    /* $3 is now: expired open invites of the email are closed before a new one opens. */
    [P_INVITE_REPLACE_EXPIRED] =
        "UPDATE invites SET replaced_at = $3::bigint"
        " WHERE account_id = $1 AND " EMAIL_IS("$2") " AND " INVITE_OPEN
                                                     " AND expires_at <= $3::bigint",
    /*
     * The first revocation wins and an accepted invite stays accepted,
     * decided on the row: the row after comes back either way.
     */
    [P_INVITE_REVOKE] = "UPDATE invites SET revoked_by = CASE WHEN revoked_at IS NULL"
                        " AND accepted_at IS NULL THEN $4::text ELSE revoked_by END,"
                        " revoked_at = CASE WHEN accepted_at IS NULL"
                        " THEN coalesce(revoked_at, $3::bigint) END"
                        " WHERE account_id = $1 AND id = $2 RETURNING " INVITE_COLS,
    [P_INVITE_ACCEPT] = "UPDATE invites SET accepted_at = $3::bigint, accepted_user_id = $4"
                        " WHERE account_id = $1 AND id = $2 AND " INVITE_OPEN
                        " AND expires_at > $3::bigint RETURNING " INVITE_COLS,
    [P_USER_LIST_ALL] = "SELECT " USER_COLS " FROM users" OLDEST_FIRST " LIMIT $1::bigint",

    [P_AUDIT_INSERT] = "INSERT INTO audit_events (" AUDIT_INSERT_COLS ")"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    /*
     * Every filter is optional (NULL); the index (account_id, id) walks the
     * account's events newest first and stops after $8 rows. $5 is an action
     * prefix ("database." for "database.*").
     */
    [P_AUDIT_LIST] = "SELECT id, " AUDIT_INSERT_COLS " FROM audit_events WHERE account_id = $1"
                     " AND ($2::bigint IS NULL OR at >= $2::bigint)"
                     " AND ($3::bigint IS NULL OR at < $3::bigint)"
                     " AND ($4::text IS NULL OR action = $4::text)"
                     " AND ($5::text IS NULL OR left(action, char_length($5::text)) = $5::text)"
                     " AND ($6::text IS NULL OR actor_id = $6::text OR credential = $6::text)"
                     " AND ($7::bigint IS NULL OR id < $7::bigint)"
                     " ORDER BY id DESC LIMIT $8::bigint",
    [P_AUDIT_PRUNE] = "DELETE FROM audit_events WHERE at < $1::bigint",
    /* NULL < $1 is not true: a token that never expires is kept until revoked. */
    [P_PRUNE_MGMT_TOKENS] = "DELETE FROM management_tokens WHERE revoked_at < $1::bigint"
                            " OR expires_at < $1::bigint",
    [P_PRUNE_DB_PERMISSIONS] = "DELETE FROM database_token_permissions WHERE token_id IN"
                               " (SELECT id FROM database_tokens WHERE revoked_at < $1::bigint"
                               " OR expires_at < $1::bigint)",
    [P_PRUNE_DB_TOKENS] = "DELETE FROM database_tokens WHERE revoked_at < $1::bigint"
                          " OR expires_at < $1::bigint",
    /* Tables first: a purged database takes its tables, live or deleted, with it. */
    [P_PURGE_TABLES] = "DELETE FROM database_tables WHERE deleted_at < $1::bigint"
                       " OR database_id IN (SELECT id FROM databases"
                       " WHERE deleted_at < $1::bigint)",
    [P_PURGE_DATABASES] = "DELETE FROM databases WHERE deleted_at < $1::bigint",
    /* NULL when none: read as 0 */
    [P_DB_NAME_HELD] = "SELECT max(deleted_at) FROM databases WHERE account_id = $1"
                       " AND cluster_id = $2 AND name = $3 AND deleted_at >= $4::bigint",
    /* The states of token_status_filter: revoked wins over expired. */
    [P_COUNT_MGMT_TOKENS] =
        "SELECT CASE WHEN revoked_at IS NOT NULL THEN 2"
        " WHEN expires_at IS NOT NULL AND expires_at <= $1::bigint THEN 1"
        " ELSE 0 END AS state, count(*)," COUNT_EXPIRING " FROM management_tokens GROUP BY 1",
    [P_COUNT_DB_TOKENS] =
        "SELECT CASE WHEN revoked_at IS NOT NULL THEN 2"
        " WHEN expires_at IS NOT NULL AND expires_at <= $1::bigint THEN 1"
        " ELSE 0 END AS state, count(*)," COUNT_EXPIRING " FROM database_tokens GROUP BY 1",
    /* SQLite's store_meta is mgmtd_settings here. */
    [P_META_GET] = "SELECT value FROM mgmtd_settings WHERE name = $1",
    [P_META_SET] = "INSERT INTO mgmtd_settings (name, value) VALUES ($1, $2)"
                   " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    /* The first replica to record wins; the others then read what it recorded. */
    [P_META_CLAIM] = "INSERT INTO mgmtd_settings (name, value) VALUES ($1, $2)"
                     " ON CONFLICT (name) DO NOTHING",
    /* As P_TOKEN_TOUCH: at most one write a minute per token on the data-plane path. */
    [P_DBTOKEN_TOUCH] = "UPDATE database_tokens SET last_used_at = $2::bigint WHERE id = $1"
                        " AND (last_used_at IS NULL OR last_used_at <= $2::bigint - $3::bigint)",
    [P_MGMT_EXPIRY_CLAIM] = EXPIRY_CLAIM("management_tokens", "''"),
    [P_DB_EXPIRY_CLAIM] = EXPIRY_CLAIM("database_tokens", "cluster_id"),
    /* An account and everything in it ([testing] DELETE /_test/tenants), children first. */
    [P_ACCOUNT_DELETE_DBPERMS] =
        "DELETE FROM database_token_permissions WHERE token_id IN (SELECT id"
        " FROM database_tokens WHERE account_id = $1)",
    [P_ACCOUNT_DELETE_DBTOKENS] = "DELETE FROM database_tokens WHERE account_id = $1",
    [P_ACCOUNT_DELETE_TABLES] = "DELETE FROM database_tables WHERE database_id IN (SELECT id FROM"
                                " databases WHERE account_id = $1)",
    [P_ACCOUNT_DELETE_DATABASES] = "DELETE FROM databases WHERE account_id = $1",
    [P_ACCOUNT_DELETE_MGMT] = "DELETE FROM management_tokens WHERE account_id = $1",
    [P_ACCOUNT_DELETE_INVITES] = "DELETE FROM invites WHERE account_id = $1",
    [P_ACCOUNT_DELETE_USERS] = "DELETE FROM users WHERE account_id = $1",
    [P_ACCOUNT_DELETE_AUDIT] = "DELETE FROM audit_events WHERE account_id = $1",
    [P_ACCOUNT_DELETE_CLUSTERS] = "DELETE FROM clusters WHERE account_id = $1",
    [P_ACCOUNT_DELETE_ACCOUNT] = "DELETE FROM accounts WHERE id = $1",

    /* Every table of ours but the bookkeeping (mgmtd_*): what store_clear_all empties. */
    [P_TABLE_NAMES] = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                      " AND tablename NOT LIKE 'mgmtd!_%' ESCAPE '!' ORDER BY tablename",
    [P_OUTBOX_INSERT] = "INSERT INTO webhook_outbox (" OUTBOX_COLS ")"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
    /* $1 now, $2 the lease's end, $3 how many; SKIP LOCKED: replicas claim apart */
    [P_OUTBOX_CLAIM] = "UPDATE webhook_outbox SET next_attempt_at = $2 WHERE id IN"
                       " (SELECT id FROM webhook_outbox WHERE next_attempt_at <= $1"
                       " ORDER BY next_attempt_at, created_at LIMIT $3 FOR UPDATE SKIP LOCKED)"
                       " RETURNING " OUTBOX_COLS,
    [P_OUTBOX_DELIVERED] = "DELETE FROM webhook_outbox WHERE id = $1",
    [P_OUTBOX_RETRY] = "UPDATE webhook_outbox SET attempts = $2, next_attempt_at = $3,"
                       " last_error = $4 WHERE id = $1",
    [P_OUTBOX_PENDING] = "SELECT count(*), COALESCE(min(created_at), 0) FROM webhook_outbox",
    /* The sequences of the id columns store_clear_all starts again from 1, as SQLite's are. */
    [P_IDENTITY_COLUMNS] = "SELECT pg_get_serial_sequence(format('%I', table_name), column_name),"
                           " table_name, column_name"
                           " FROM information_schema.columns"
                           " WHERE table_schema = current_schema() AND is_identity = 'YES'"
                           " AND table_name NOT LIKE 'mgmtd!_%' ESCAPE '!'"
                           " ORDER BY table_name, column_name",
};

/* A connection; base comes first, so a struct store * of ours is one of these. */
struct pg_store {
	struct store base;
	PGconn *conn;
	bool prepared[PQ_COUNT]; /* on this connection; cleared by a reconnect */
	bool in_tx;              /* between our BEGIN and its COMMIT or ROLLBACK */
	bool begin_pending;      /* in_tx, but its BEGIN goes out with the first statement */
	bool commit_pending;     /* a snapshot's COMMIT was sent; its answer is still to read */
	bool down;               /* the loss was logged; the recovery will be too */
	bool warned;             /* the server sent a WARNING since this was last cleared */
	bool writing;            /* in_tx, in an explicit transaction (not a read snapshot) */
	int timeout_ms;          /* how long one statement or COMMIT may wait for an answer */
};

static const struct store_ops pg_ops;

static void note_change(void);
static PGconn *connect_to(const char *conninfo, const char *application_name);

static struct pg_store *pg(struct store *s)
{
	if (s->ops != &pg_ops) {
		log_error("store: a %s store was passed to the PostgreSQL backend", s->ops->name);
		abort();
	}
	return (struct pg_store *)s;
}

/* ---- parameters ---- */

/* The values of one statement; strings are borrowed from the caller for the call. */
struct pq_params {
	int n;
	bool not_utf8; /* a text value is not UTF-8: no stored row can hold it */
	const char *values[MAX_PARAMS];
	int lengths[MAX_PARAMS];
	int formats[MAX_PARAMS];
	char numbers[MAX_PARAMS][24];
};

/* A statement with more parameters than MAX_PARAMS is a bug of this file: stop. */
static void p_room(const struct pq_params *p)
{
	if (p->n >= MAX_PARAMS) {
		log_error("store: more than %d parameters for one statement", MAX_PARAMS);
		abort();
	}
}

static void p_text(struct pq_params *p, const char *v)
{
	p_room(p);
	if (v != NULL && utf8_length(v) < 0)
		p->not_utf8 = true;
	p->values[p->n] = v;
	p->lengths[p->n] = 0;
	p->formats[p->n] = 0;
	p->n++;
}

/* "" is stored as NULL. */
static void p_opt_text(struct pq_params *p, const char *v)
{
	p_text(p, v != NULL && v[0] != '\0' ? v : NULL);
}

static void p_int(struct pq_params *p, int64_t v)
{
	p_room(p);
	snprintf(p->numbers[p->n], sizeof(p->numbers[p->n]), "%lld", (long long)v);
	p_text(p, p->numbers[p->n]);
}

/* 0 is stored as NULL. */
static void p_opt_int(struct pq_params *p, int64_t v)
{
	if (v == 0)
		p_text(p, NULL);
	else
		p_int(p, v);
}

static void p_hash(struct pq_params *p, const unsigned char hash[TOKEN_HASH_LEN])
{
	p_room(p);
	p->values[p->n] = (const char *)hash;
	p->lengths[p->n] = TOKEN_HASH_LEN;
	p->formats[p->n] = 1; /* binary: bytea as is */
	p->n++;
}

/*
 * A text[] literal of the n strings that get(i) gives, every element quoted
 * ({"a","b \"c\""}), for unnest(). NULL when out of memory; the caller frees.
 */
static char *text_array(size_t n, const char *(*get)(const struct store_db_token *, size_t),
                        const struct store_db_token *t)
{
	size_t cap = 3, len = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		cap += 2 * strlen(get(t, i)) + 3;
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	out[len++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			out[len++] = ',';
		out[len++] = '"';
		for (const char *c = get(t, i); *c; c++) {
			if (*c == '"' || *c == '\\')
				out[len++] = '\\';
			out[len++] = *c;
		}
		out[len++] = '"';
	}
	out[len++] = '}';
	out[len] = '\0';
	return out;
}

static const char *perm_action(const struct store_db_token *t, size_t i)
{
	return db_action_name(t->permissions[i].action);
}

static const char *perm_resource(const struct store_db_token *t, size_t i)
{
	return t->permissions[i].resource;
}

/* ---- connection, results, errors ---- */

/* libpq's multi-line messages on one line: each run of white space becomes one space. */
static void one_line(const char *in, char *out, size_t size)
{
	size_t n = 0;
	bool space = false;

	for (; *in && n + 1 < size; in++) {
		if (*in == ' ' || *in == '\n' || *in == '\t' || *in == '\r') {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < size)
			out[n++] = ' ';
		space = false;
		out[n++] = *in;
	}
	out[n] = '\0';
}

/*
 * libpq's notices (NOTICE, WARNING from the server) go to our log, not to
 * stderr. A WARNING is remembered: the one that comes with a COMMIT whose wait
 * for the synchronous standby was cancelled says that it committed here but
 * may not be on the standby, which commit() must not call a success.
 */
static void on_notice(void *arg, const PGresult *r)
{
	struct pg_store *s = arg;
	const char *severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
	char line[512];

	if (severity != NULL && strcmp(severity, "WARNING") == 0)
		s->warned = true;
	one_line(PQresultErrorMessage(r), line, sizeof(line));
	log_warn("store: PostgreSQL says: %s", line);
}

static void report_down(struct pg_store *s, const char *why)
{
	char line[512];

	one_line(why, line, sizeof(line));
	if (!s->down)
		log_error("store: the PostgreSQL connection is lost: %s", line);
	s->down = true;
}

/*
 * Turns a failed statement into a status, logging what an operator needs
 * (the server's primary message, never the DETAIL, which can quote a row).
 */
static enum store_status pq_status(struct pg_store *s, const PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (PQstatus(s->conn) != CONNECTION_OK) {
		report_down(s, msg ? msg : PQerrorMessage(s->conn));
		return STORE_UNAVAILABLE;
	}
	if (msg == NULL)
		msg = PQerrorMessage(s->conn);
	if (state == NULL) {
		log_error("store: %s: %s", what, msg);
		return STORE_ERROR;
	}
	if (strcmp(state, "23505") == 0) /* unique_violation */
		return STORE_CONFLICT;
	if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	    strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0) {
		/* connection exceptions; the server shutting down or starting up */
		report_down(s, msg);
		return STORE_UNAVAILABLE;
	}
	if (strcmp(state, "53100") == 0) { /* disk_full */
		log_error("store: %s: %s", what, msg);
		return STORE_FULL;
	}
	if (strcmp(state, "25006") == 0) { /* read_only_sql_transaction: a standby */
		log_error("store: %s: %s", what, msg);
		return STORE_READONLY;
	}
	if (strncmp(state, "40", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0) {
		/* serialization failure, deadlock, resources, lock or statement timeout */
		log_warn("store: %s: %s (SQLSTATE %s)", what, msg, state);
		return STORE_BUSY;
	}
	log_error("store: %s: %s (SQLSTATE %s)", what, msg, state);
	return STORE_ERROR;
}

/* pq_status, counted for /metrics (which ignores conflicts: they are answers). */
static enum store_status pq_fail(struct pg_store *s, const PGresult *r, const char *what)
{
	enum store_status st = pq_status(s, r, what);

	store_count_error(st);
	return st;
}

/* ---- waiting for the server, within a bound ---- */

static int64_t deadline_after(int timeout_ms)
{
	return time_monotonic_us() + (int64_t)timeout_ms * 1000;
}

/*
 * Drops a connection whose server did not answer in time. Whatever it was
 * doing (a statement, a COMMIT waiting for a standby) may or may not complete
 * there, and no later answer on this connection could be told apart from the
 * next statement's. The socket is shut down under libpq, which then reads the
 * end of the stream: the pending call fails at once with the connection's
 * loss, and the next use connects anew.
 */
static void drop_late(struct pg_store *s, int timeout_ms)
{
	int fd = PQsocket(s->conn);

	log_error("store: PostgreSQL did not answer within %d ms; dropping the connection",
	          timeout_ms);
	if (fd >= 0)
		(void)shutdown(fd, SHUT_RDWR);
	(void)PQconsumeInput(s->conn);
}

/*
 * Reads what the server sends until PQgetResult can answer without waiting,
 * but not past deadline (monotonic microseconds): then the connection is
 * dropped, and PQgetResult answers at once with its loss.
 */
static void await_result(struct pg_store *s, int64_t deadline, int timeout_ms)
{
	while (PQisBusy(s->conn)) {
		struct pollfd pfd = {.fd = PQsocket(s->conn), .events = POLLIN};
		int64_t left = deadline - time_monotonic_us();
		int rc;

		if (pfd.fd < 0)
			return; /* lost already: PQgetResult says so */
		if (left <= 0) {
			drop_late(s, timeout_ms);
			return;
		}
		rc = poll(&pfd, 1, (int)((left + 999) / 1000));
		if (rc < 0 && errno != EINTR) {
			log_error("store: poll on the PostgreSQL connection: %s", strerror(errno));
			drop_late(s, timeout_ms);
			return;
		}
		if (rc > 0 && !PQconsumeInput(s->conn))
			return; /* lost: PQgetResult says so */
	}
}

static bool is_failure(const PGresult *r)
{
	ExecStatusType es = PQresultStatus(r);

	return es == PGRES_FATAL_ERROR || es == PGRES_BAD_RESPONSE || es == PGRES_NONFATAL_ERROR;
}

/*
 * The answer to the one command sent, as PQexec gives it (its last result, or
 * its first failure), waiting at most timeout_ms for all of it; NULL when
 * nothing came (the connection was lost or dropped: PQstatus says so).
 */
static PGresult *collect(struct pg_store *s, int timeout_ms)
{
	int64_t deadline = deadline_after(timeout_ms);
	PGresult *r, *out = NULL;

	for (;;) {
		await_result(s, deadline, timeout_ms);
		r = PQgetResult(s->conn);
		if (r == NULL)
			break;
		if (out != NULL && is_failure(out)) {
			PQclear(r);
			continue;
		}
		PQclear(out);
		out = r;
	}
	return out;
}

/* How long statement id may take: the retention task's deletes get longer. */
static int timeout_of(const struct pg_store *s, enum pq_id id)
{
	switch (id) {
	case P_AUDIT_PRUNE:
	case P_PRUNE_MGMT_TOKENS:
	case P_PRUNE_DB_PERMISSIONS:
	case P_PRUNE_DB_TOKENS:
	case P_PURGE_TABLES:
	case P_PURGE_DATABASES:
		return s->timeout_ms > BULK_TIMEOUT_MS ? s->timeout_ms : BULK_TIMEOUT_MS;
	default:
		return s->timeout_ms;
	}
}

/*
 * True when the server has spoken on an idle connection. Nothing is asked of
 * it there (the pool's connections LISTEN to nothing), so whatever came is
 * its goodbye: a shutdown notice or a FATAL error, then the end of the
 * stream. libpq may have read the first without the second yet and still
 * call the connection fine, so waiting for PQstatus to say so would send the
 * next statement into a closed connection and fail a request that a new
 * connection would serve. A poll with no wait.
 */
static bool server_hung_up(struct pg_store *s)
{
	struct pollfd pfd = {.fd = PQsocket(s->conn), .events = POLLIN};

	if (pfd.fd < 0)
		return true;
	if (poll(&pfd, 1, 0) <= 0)
		return false; /* nothing unasked arrived: the usual case */
	/* Parsed, so that the notice processor logs what the server said. */
	if (PQconsumeInput(s->conn))
		(void)PQisBusy(s->conn);
	log_warn("store: the server closed an idle PostgreSQL connection; opening a new one");
	return true;
}

/*
 * Reads the answer to a read snapshot's COMMIT that pg_read_end sent without
 * waiting for it (the server ended the snapshot at once; only our reading of
 * its answer was put off). Nothing was written, so a failure is only logged.
 */
static void settle(struct pg_store *s)
{
	int64_t deadline = deadline_after(s->timeout_ms);
	PGresult *r;

	if (!s->commit_pending)
		return;
	s->commit_pending = false;
	for (;;) {
		await_result(s, deadline, s->timeout_ms);
		if ((r = PQgetResult(s->conn)) == NULL)
			break;
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			pq_fail(s, r, "COMMIT of a read snapshot");
		PQclear(r);
	}
}

/*
 * Makes the connection usable: as it is, or reset when it was lost. A
 * transaction dies with its connection, so none is resumed on a new one
 * (one whose BEGIN has not gone out yet has nothing to lose).
 */
static enum store_status pq_usable(struct pg_store *s)
{
	settle(s);
	if (PQstatus(s->conn) == CONNECTION_OK && !server_hung_up(s))
		return STORE_OK;
	if (s->in_tx && !s->begin_pending)
		return STORE_UNAVAILABLE; /* the caller rolls back, which ends it here */
	/* Bounded by connect_timeout for each host of the connection string. */
	PQreset(s->conn);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		report_down(s, PQerrorMessage(s->conn));
		return STORE_UNAVAILABLE;
	}
	memset(s->prepared, 0, sizeof(s->prepared));
	if (s->down)
		log_info("store: the PostgreSQL connection is back");
	s->down = false;
	return STORE_OK;
}

/* Prepares statement id on this connection unless it is; its name goes to name. */
static enum store_status pq_prepare(struct pg_store *s, enum pq_id id, int nparams, char name[16])
{
	enum store_status st = STORE_OK;
	PGresult *r;

	snprintf(name, 16, "mgmtd_%d", (int)id);
	if (s->prepared[id])
		return STORE_OK;
	if (!PQsendPrepare(s->conn, name, pq_sql[id], nparams, NULL))
		return pq_fail(s, NULL, pq_sql[id]);
	r = collect(s, s->timeout_ms);
	if (PQresultStatus(r) == PGRES_COMMAND_OK)
		s->prepared[id] = true;
	else
		st = pq_fail(s, r, pq_sql[id]);
	PQclear(r);
	return st;
}

/*
 * The first statement of a read snapshot, sent in one pipeline behind the
 * snapshot's BEGIN: one round trip for both. Returns the statement's result
 * or NULL with *st set; the snapshot is open afterwards only if BEGIN worked.
 */
static PGresult *run_with_begin(struct pg_store *s, const char *name, const struct pq_params *p,
                                enum store_status *st)
{
	char begin[16];
	PGresult *r, *out = NULL;
	bool begun = false, synced = false;
	int n = p ? p->n : 0, query = 0, nulls = 0;
	int64_t deadline;

	s->begin_pending = false;
	s->in_tx = false;
	*st = pq_prepare(s, P_BEGIN_READ, 0, begin);
	if (*st != STORE_OK)
		return NULL;
	if (!PQenterPipelineMode(s->conn) ||
	    !PQsendQueryPrepared(s->conn, begin, 0, NULL, NULL, NULL, 0) ||
	    !PQsendQueryPrepared(s->conn, name, n, p ? p->values : NULL, p ? p->lengths : NULL,
	                         p ? p->formats : NULL, 0) ||
	    !PQpipelineSync(s->conn)) {
		*st = pq_fail(s, NULL, "sending a read snapshot");
		PQexitPipelineMode(s->conn);
		return NULL;
	}
	/* BEGIN's result and a NULL, the statement's and a NULL, then the sync. */
	*st = STORE_ERROR;
	deadline = deadline_after(s->timeout_ms);
	while (!synced && nulls < 4) {
		await_result(s, deadline, s->timeout_ms);
		r = PQgetResult(s->conn);
		if (r == NULL) {
			if (PQstatus(s->conn) != CONNECTION_OK)
				break;
			query++;
			nulls++;
			continue;
		}
		switch (PQresultStatus(r)) {
		case PGRES_PIPELINE_SYNC:
			synced = true;
			PQclear(r);
			break;
		case PGRES_COMMAND_OK:
		case PGRES_TUPLES_OK:
			if (query == 0) {
				begun = true;
				PQclear(r);
			} else {
				PQclear(out);
				out = r;
				*st = STORE_OK;
			}
			break;
		case PGRES_PIPELINE_ABORTED: /* after a failed BEGIN, already reported */
			PQclear(r);
			break;
		default:
			*st = pq_fail(s, r, query == 0 ? pq_sql[P_BEGIN_READ] : "a statement");
			PQclear(r);
			break;
		}
	}
	if (!PQexitPipelineMode(s->conn) && PQstatus(s->conn) == CONNECTION_OK)
		log_error("store: cannot leave pipeline mode: %s", PQerrorMessage(s->conn));
	if (!synced && PQstatus(s->conn) != CONNECTION_OK) {
		report_down(s, PQerrorMessage(s->conn));
		*st = STORE_UNAVAILABLE;
	}
	s->in_tx = begun && PQstatus(s->conn) == CONNECTION_OK;
	if (*st != STORE_OK) {
		PQclear(out);
		return NULL;
	}
	return out;
}

/* Whether sql changes rows: an INSERT, UPDATE or DELETE, or a WITH that holds one. */
static bool statement_writes(const char *sql)
{
	static const char *const verbs[] = {"INSERT ", "UPDATE ", "DELETE "};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strncmp(sql, verbs[i], strlen(verbs[i])) == 0)
			return true;
		if (strncmp(sql, "WITH ", 5) == 0 && strstr(sql, verbs[i]) != NULL)
			return true;
	}
	return false;
}

/*
 * The test harness's fault (store_fault_set) for statement id, met where the server's
 * error would arrive: STORE_OK to run it, else the status of the real failure (SQLSTATE
 * 25006 read_only_sql_transaction, 53100 disk_full), counted and logged as that is.
 */
static enum store_status injected_fault(struct pg_store *s, enum pq_id id)
{
	enum store_status st;

	if (s->base.fault == STORE_FAULT_NONE || !statement_writes(pq_sql[id]))
		return STORE_OK;
	st = store_fault_on_write(&s->base, s->in_tx && s->writing);
	if (st != STORE_OK) {
		log_error("store: %s: %s (a fault the test harness injected)", pq_sql[id],
		          st == STORE_FULL
		              ? "could not extend file: No space left on device"
		              : "cannot execute this statement in a read-only transaction");
		store_count_error(st);
	}
	return st;
}

/*
 * Runs statement id with p (NULL: none), preparing it first on this
 * connection. Returns the result (the caller PQclears it), or NULL with *st
 * set.
 */
static PGresult *pq_run(struct pg_store *s, enum pq_id id, const struct pq_params *p,
                        enum store_status *st)
{
	char name[16];
	PGresult *r;
	ExecStatusType es;
	int n = p ? p->n : 0;

	/*
	 * PostgreSQL refuses such text outright, where SQLite compares bytes and
	 * finds nothing. Values that are stored were checked as UTF-8 above the
	 * store; what is left are keys from a URL (%ff): nothing matches them.
	 */
	if (p != NULL && p->not_utf8) {
		*st = STORE_NOT_FOUND;
		return NULL;
	}
	*st = pq_usable(s);
	if (*st != STORE_OK)
		return NULL;
	*st = injected_fault(s, id);
	if (*st != STORE_OK)
		return NULL;
	*st = pq_prepare(s, id, n, name);
	if (*st != STORE_OK)
		return NULL;
	if (s->begin_pending)
		return run_with_begin(s, name, p, st);
	if (!PQsendQueryPrepared(s->conn, name, n, p ? p->values : NULL, p ? p->lengths : NULL,
	                         p ? p->formats : NULL, 0)) {
		*st = pq_fail(s, NULL, pq_sql[id]);
		return NULL;
	}
	r = collect(s, timeout_of(s, id));
	es = PQresultStatus(r);
	if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK)
		return r;
	*st = pq_fail(s, r, pq_sql[id]);
	PQclear(r);
	return NULL;
}

/* Runs a statement for its effect alone. */
static enum store_status pq_exec(struct pg_store *s, enum pq_id id, const struct pq_params *p)
{
	enum store_status st;
	PGresult *r = pq_run(s, id, p, &st);

	PQclear(r);
	return st;
}

/* Runs a change and maps "no row changed" to NOT_FOUND. */
static enum store_status change_one(struct pg_store *s, enum pq_id id, const struct pq_params *p)
{
	enum store_status st;
	PGresult *r = pq_run(s, id, p, &st);

	if (r != NULL && atol(PQcmdTuples(r)) == 0)
		st = STORE_NOT_FOUND;
	PQclear(r);
	return st;
}

/*
 * Copies a text value into a fixed-size field; NULL becomes "". False when
 * it does not fit (the API bounds lengths: a damaged or foreign row).
 */
static bool get_text(const PGresult *r, int row, int col, char *dst, size_t size)
{
	int len;

	if (PQgetisnull(r, row, col)) {
		dst[0] = '\0';
		return true;
	}
	len = PQgetlength(r, row, col);
	if (len < 0 || (size_t)len >= size)
		return false;
	memcpy(dst, PQgetvalue(r, row, col), (size_t)len);
	dst[len] = '\0';
	return true;
}

/* NULL becomes 0. */
static int64_t get_int(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool get_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

/*
 * Whether the bytea at (row, col) is hash. The index lookup that found the
 * row is not constant-time, but it only finds a row for a hash that is
 * already right; the final compare, on which the answer rests, is.
 */
static bool hash_matches(const PGresult *r, int row, int col,
                         const unsigned char hash[TOKEN_HASH_LEN])
{
	size_t len = 0;
	unsigned char *got;
	bool same;

	if (PQgetisnull(r, row, col))
		return false;
	got = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &len);
	if (got == NULL)
		return false;
	same = len == TOKEN_HASH_LEN && sodium_memcmp(got, hash, TOKEN_HASH_LEN) == 0;
	PQfreemem(got);
	return same;
}

/*
 * A row found by hash or previous hash (columns col and previous_col): which
 * of them is hash (*previous), or false for neither. Both are compared.
 */
static bool which_hash2(const PGresult *r, int row, int col, int previous_col,
                        const unsigned char hash[TOKEN_HASH_LEN], bool *previous)
{
	bool current = hash_matches(r, row, col, hash);
	bool prev = hash_matches(r, row, previous_col, hash);

	*previous = !current && prev;
	return current || prev;
}

/* which_hash2 with the previous hash in the column after the hash. */
static bool which_hash(const PGresult *r, int row, int col,
                       const unsigned char hash[TOKEN_HASH_LEN], bool *previous)
{
	return which_hash2(r, row, col, col + 1, hash, previous);
}

static enum store_status bad_row(const char *table, const char *column)
{
	log_error("store: a %s row has a %s that does not fit this build; refusing it", table,
	          column);
	return STORE_ERROR;
}

/* ---- row decoding ---- */

typedef enum store_status (*row_reader)(const PGresult *r, int row, void *out);

/* A row of a result, as store_row_read sees it. */
struct result_row {
	const PGresult *r;
	int row;
};

static bool source_text(void *row, int col, char *dst, size_t size)
{
	const struct result_row *rr = row;

	return get_text(rr->r, rr->row, col, dst, size);
}

static int64_t source_int(void *row, int col)
{
	const struct result_row *rr = row;

	return get_int(rr->r, rr->row, col);
}

/* Row row of r through the shared decoder (store_backend.h). */
static enum store_status read_shape(const struct store_row_shape *shape, const PGresult *r, int row,
                                    void *out)
{
	struct result_row rr = {r, row};
	struct store_row_source src = {&rr, source_text, source_int};

	return store_row_read(shape, &src, out);
}

static enum store_status read_account(const PGresult *r, int row, void *out)
{
	return read_shape(&store_account_row, r, row, out);
}

static enum store_status read_cluster(const PGresult *r, int row, void *out)
{
	return read_shape(&store_cluster_row, r, row, out);
}

static enum store_status read_user(const PGresult *r, int row, void *out)
{
	return read_shape(&store_user_row, r, row, out);
}

static enum store_status read_token(const PGresult *r, int row, void *out)
{
	return read_shape(&store_mgmt_token_row, r, row, out);
}

static enum store_status read_database(const PGresult *r, int row, void *out)
{
	return read_shape(&store_database_row, r, row, out);
}

static enum store_status read_table(const PGresult *r, int row, void *out)
{
	return read_shape(&store_table_row, r, row, out);
}

static enum store_status read_invite(const PGresult *r, int row, void *out)
{
	return read_shape(&store_invite_row, r, row, out);
}

/*
 * Reads the database token of *row (DBTOKEN_COLS) and its permissions from
 * that row and the following ones of the same token; *row ends past them.
 */
/*
 * The token at *row and its permissions, one per row, up to the next token's
 * first row, where *row ends. With decode false the caller has decoded the
 * token's own columns already (and set permission_count to 0).
 */
static enum store_status read_db_token_rows(const PGresult *r, int *row, struct store_db_token *t,
                                            bool decode)
{
	int nrows = PQntuples(r);
	enum store_status st = decode ? read_shape(&store_db_token_row, r, *row, t) : STORE_OK;
	char action[16];

	if (st != STORE_OK)
		return st;
	for (; *row < nrows && strcmp(PQgetvalue(r, *row, 0), t->id) == 0; (*row)++) {
		struct store_db_permission *p = &t->permissions[t->permission_count];

		if (PQgetisnull(r, *row, DBTOKEN_ACTION_COL))
			continue; /* the LEFT JOIN's row of a token without permissions */
		if (t->permission_count == STORE_DB_TOKEN_MAX_PERMISSIONS)
			return bad_row("database_token_permissions", "count");
		if (!get_text(r, *row, DBTOKEN_ACTION_COL, action, sizeof(action)) ||
		    db_action_parse(action, &p->action) != 0)
			return bad_row("database_token_permissions", "action");
		if (!get_text(r, *row, DBTOKEN_RESOURCE_COL, p->resource, sizeof(p->resource)))
			return bad_row("database_token_permissions", "resource");
		t->permission_count++;
	}
	return STORE_OK;
}

/* Runs a statement for at most one row, decoded into out only on STORE_OK. */
static enum store_status fetch_one(struct pg_store *s, enum pq_id id, const struct pq_params *p,
                                   row_reader read, void *out)
{
	enum store_status st;
	PGresult *r = pq_run(s, id, p, &st);

	if (r == NULL)
		return st;
	st = PQntuples(r) == 0 ? STORE_NOT_FOUND : read(r, 0, out);
	PQclear(r);
	return st;
}

/*
 * Runs a statement and decodes every row into a malloc'ed array of elements
 * of size bytes; *out (NULL when no row) and *n are set only on STORE_OK.
 */
static enum store_status fetch_all(struct pg_store *s, enum pq_id id, const struct pq_params *p,
                                   row_reader read, size_t size, void **out, size_t *n)
{
	enum store_status st;
	PGresult *r = pq_run(s, id, p, &st);
	char *rows = NULL;
	int count;

	if (r == NULL)
		return st;
	count = PQntuples(r);
	if (count > 0 && (rows = calloc((size_t)count, size)) == NULL) {
		log_error("store: out of memory listing rows");
		st = STORE_ERROR;
	}
	for (int i = 0; st == STORE_OK && i < count; i++)
		st = read(r, i, rows + (size_t)i * size);
	PQclear(r);
	if (st != STORE_OK) {
		free(rows);
		return st;
	}
	*out = rows;
	*n = (size_t)count;
	return STORE_OK;
}

/* fetch_all into *out, a pointer to the caller's array pointer (void * so that any will do). */
static enum store_status fetch_list(struct pg_store *s, enum pq_id id, const struct pq_params *p,
                                    row_reader read, size_t size, void *out, size_t *n)
{
	void *rows = NULL;
	enum store_status st = fetch_all(s, id, p, read, size, &rows, n);

	if (st == STORE_OK)
		memcpy(out, &rows, sizeof(rows));
	return st;
}

/* ---- transactions ---- */

static enum store_status pg_tx_begin_plain(struct pg_store *s, enum pq_id begin)
{
	enum store_status st;

	if (s->in_tx) {
		log_error("store: a transaction is already open on this connection");
		return STORE_ERROR;
	}
	st = pq_exec(s, begin, NULL);
	if (st == STORE_OK)
		s->in_tx = s->writing = true; /* an explicit transaction may write */
	return st;
}

static void pg_tx_rollback(struct store *base)
{
	struct pg_store *s = pg(base);
	enum store_status st;

	store_fault_after_rollback(base);
	if (!s->in_tx)
		return;
	if (s->begin_pending) { /* nothing went out */
		s->begin_pending = false;
		s->in_tx = false;
		return;
	}
	/* A lost connection took the transaction with it: nothing to send. */
	if (PQstatus(s->conn) == CONNECTION_OK && (st = pq_exec(s, P_ROLLBACK, NULL)) != STORE_OK &&
	    st != STORE_UNAVAILABLE)
		log_error("store: rollback failed");
	s->in_tx = false;
	s->writing = false;
}

/*
 * Ends our transaction with COMMIT; one that had failed answers ROLLBACK
 * instead. A COMMIT that came with a WARNING is no success: the one PostgreSQL
 * sends when a COMMIT's wait for the synchronous standby is cancelled says the
 * change is committed here but may be missing on the standby that a failover
 * would promote. The caller answers that it may have been made.
 */
static enum store_status commit(struct pg_store *s)
{
	enum store_status st;
	PGresult *r;

	if (s->begin_pending) { /* nothing went out */
		s->begin_pending = false;
		s->in_tx = false;
		return STORE_OK;
	}
	if (s->writing)
		store_fault_before_commit(&s->base);
	s->warned = false;
	r = pq_run(s, P_COMMIT, NULL, &st);
	s->in_tx = false;
	if (s->writing) {
		/*
		 * Whatever the answer (the change may have been made), this process's
		 * caches move on before it answers: its next request asks the database.
		 * Others hear of it through the change channel.
		 */
		s->writing = false;
		note_change();
	}
	if (r == NULL)
		return st; /* the connection broke: whether it committed is unknown */
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		log_error("store: COMMIT answered %s: an earlier statement had failed",
		          PQcmdStatus(r));
		st = STORE_ERROR;
	} else if (s->warned) {
		log_error("store: COMMIT came with a warning (above): the change may not be on the "
		          "synchronous standby; answering that it may have been made");
		store_count_error(STORE_UNAVAILABLE);
		st = STORE_UNAVAILABLE;
	}
	PQclear(r);
	return st;
}

static enum store_status pg_tx_begin(struct store *base)
{
	struct pg_store *s = pg(base);
	enum store_status st = pg_tx_begin_plain(s, P_BEGIN);

	if (st == STORE_OK && (st = pq_exec(s, P_SERIAL_LOCK, NULL)) != STORE_OK)
		pg_tx_rollback(base);
	return st;
}

static enum store_status pg_tx_commit(struct store *base)
{
	struct pg_store *s = pg(base);

	if (!s->in_tx) {
		log_error("store: commit without a transaction");
		return STORE_ERROR;
	}
	return commit(s);
}

/*
 * A read snapshot costs no round trip of its own: its BEGIN goes out in one
 * pipeline with its first statement (run_with_begin), and its COMMIT is sent
 * without waiting for the answer, which the next use of the connection reads.
 */
static enum store_status pg_read_begin(struct store *base, bool *began)
{
	struct pg_store *s = pg(base);

	*began = false;
	if (s->in_tx)
		return STORE_OK;
	s->in_tx = true;
	s->begin_pending = true;
	*began = true;
	return STORE_OK;
}

/* ---- the change channel (store_backend.h: store_pg_watch_start) ---- */

#define CHANNEL "mgmtd_change"
/* How often the channel proves it is alive, and waits before reconnecting. */
#define WATCH_PING_MS  1000
#define WATCH_RETRY_MS 1000

static struct {
	pthread_mutex_t lock; /* start and stop */
	pthread_t thread;
	bool started;
	int wake[2]; /* a byte on wake[1] stops the thread */
	char *conninfo;
	int timeout_ms;
	atomic_bool listening;           /* LISTEN in place on a live connection */
	atomic_uint_fast64_t generation; /* moves with every change heard of or made here */
} watch = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = {-1, -1}};

static void note_change(void)
{
	atomic_fetch_add(&watch.generation, 1);
}

/*
 * The generation of changes, and the second it is read in: an entry a cache
 * keeps is ignored after the next change heard of, and in any case after the
 * second it was read in, the bound for a change whose notification is late.
 */
static bool pg_change_epoch(struct store *base, uint64_t *out)
{
	struct pg_store *s = pg(base);

	if (!atomic_load(&watch.listening) || (s->in_tx && s->writing))
		return false;
	*out = (uint64_t)atomic_load(&watch.generation) << 32 |
	       (uint32_t)(time_monotonic_us() / 1000000);
	return true;
}

static enum store_status pg_savepoint(struct store *base)
{
	return pq_exec(pg(base), P_SAVEPOINT, NULL);
}

static enum store_status pg_savepoint_release(struct store *base)
{
	return pq_exec(pg(base), P_SAVEPOINT_RELEASE, NULL);
}

static enum store_status pg_savepoint_rollback(struct store *base)
{
	enum store_status st = pq_exec(pg(base), P_SAVEPOINT_ROLLBACK, NULL);

	return st == STORE_OK ? pq_exec(pg(base), P_SAVEPOINT_RELEASE, NULL) : st;
}

static bool pg_changes_heard(struct store *base)
{
	(void)base;
	return atomic_load(&watch.listening);
}

/* Waits up to ms for conn's socket (fd, or -1) or the wake pipe: 1 the socket, 0 time, -1 stop. */
static int watch_wait(int fd, int ms)
{
	struct pollfd p[2] = {{.fd = watch.wake[0], .events = POLLIN},
	                      {.fd = fd, .events = POLLIN}};
	int n = poll(p, fd >= 0 ? 2 : 1, ms);

	if (n < 0 && errno != EINTR)
		return -1;
	if (n > 0 && p[0].revents)
		return -1;
	return n > 0 && fd >= 0 && p[1].revents ? 1 : 0;
}

/*
 * One statement on the channel's connection, its result checked, waiting at
 * most the statements' timeout: a server that stops answering is a broken
 * channel, not a thread stuck with the caches still trusted.
 */
static bool watch_exec(PGconn *c, const char *sql)
{
	int64_t deadline = time_monotonic_us() / 1000 + watch.timeout_ms;
	PGresult *r;
	bool ok = true;

	if (!PQsendQuery(c, sql))
		return false;
	while (PQisBusy(c)) {
		int64_t now = time_monotonic_us() / 1000;

		if (now >= deadline || watch_wait(PQsocket(c), (int)(deadline - now)) < 0 ||
		    !PQconsumeInput(c))
			return false;
	}
	while ((r = PQgetResult(c)) != NULL) {
		ok = ok && (PQresultStatus(r) == PGRES_COMMAND_OK ||
		            PQresultStatus(r) == PGRES_TUPLES_OK);
		PQclear(r);
	}
	return ok;
}

/* Listens until the connection fails (false) or the thread is told to stop (true). */
static bool watch_listen(PGconn *c)
{
	int64_t next_ping = time_monotonic_us() / 1000 + WATCH_PING_MS;

	if (!watch_exec(c, "LISTEN " CHANNEL))
		return false;
	/* anything may have changed while nobody listened */
	note_change();
	atomic_store(&watch.listening, true);
	log_info("store: listening for changes on PostgreSQL channel " CHANNEL);
	for (;;) {
		int64_t now = time_monotonic_us() / 1000;
		int w = watch_wait(PQsocket(c), (int)(next_ping > now ? next_ping - now : 0));
		PGnotify *n;

		if (w < 0)
			return true;
		if (w == 0) { /* quiet: prove the connection still answers */
			next_ping = now + WATCH_PING_MS;
			if (!watch_exec(c, "SELECT 1"))
				return false;
		} else if (!PQconsumeInput(c)) {
			return false;
		}
		while ((n = PQnotifies(c)) != NULL) {
			note_change();
			PQfreemem(n);
		}
		if (PQstatus(c) != CONNECTION_OK)
			return false;
	}
}

static void *watch_main(void *arg)
{
	(void)arg;
	for (;;) {
		PGconn *c = connect_to(watch.conninfo, "mgmtd-changes");
		bool stop = false;

		if (c != NULL && PQstatus(c) == CONNECTION_OK) {
			stop = watch_listen(c);
			if (!stop)
				log_warn(
				    "store: the change channel broke (%s); credential caches are "
				    "off until it is back",
				    PQerrorMessage(c));
		}
		atomic_store(&watch.listening, false);
		note_change();
		PQfinish(c);
		if (stop || watch_wait(-1, WATCH_RETRY_MS) < 0)
			return NULL;
	}
}

int store_pg_watch_start(const char *conninfo, int timeout_ms, char *err, size_t errlen)
{
	int rc = -1;

	pthread_mutex_lock(&watch.lock);
	if (watch.started) {
		rc = 0; /* one channel per process */
		goto out;
	}
	watch.conninfo = strdup(conninfo);
	if (watch.conninfo == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	watch.timeout_ms = timeout_ms > 0 ? timeout_ms : STORE_PG_TIMEOUT_MS;
	if (pipe(watch.wake) != 0) {
		watch.wake[0] = watch.wake[1] = -1;
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	if (fcntl(watch.wake[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(watch.wake[1], F_SETFD, FD_CLOEXEC) != 0) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		goto fail;
	}
	if (pthread_create(&watch.thread, NULL, watch_main, NULL) != 0) {
		snprintf(err, errlen, "cannot start the change channel's thread");
		goto fail;
	}
	watch.started = true;
	rc = 0;
	goto out;
fail:
	if (watch.wake[0] >= 0) {
		close(watch.wake[0]);
		close(watch.wake[1]);
	}
	watch.wake[0] = watch.wake[1] = -1;
	free(watch.conninfo);
	watch.conninfo = NULL;
out:
	pthread_mutex_unlock(&watch.lock);
	return rc;
}

void store_pg_watch_stop(void)
{
	pthread_mutex_lock(&watch.lock);
	if (watch.started) {
		if (write(watch.wake[1], "x", 1) < 0)
			log_error("store: cannot stop the change channel: %s", strerror(errno));
		pthread_join(watch.thread, NULL);
		close(watch.wake[0]);
		close(watch.wake[1]);
		watch.wake[0] = watch.wake[1] = -1;
		free(watch.conninfo);
		watch.conninfo = NULL;
		watch.started = false;
		atomic_store(&watch.listening, false);
	}
	pthread_mutex_unlock(&watch.lock);
}

static void pg_read_end(struct store *base, bool began)
{
	struct pg_store *s = pg(base);
	char name[16];

	if (!began || !s->in_tx)
		return;
	if (s->begin_pending) { /* no statement ran: no snapshot was opened */
		s->begin_pending = false;
		s->in_tx = false;
		return;
	}
	/* Nothing was written: ending the snapshot cannot lose anything. */
	if (!s->prepared[P_COMMIT] || PQstatus(s->conn) != CONNECTION_OK) {
		if (commit(s) != STORE_OK)
			pg_tx_rollback(base);
		return;
	}
	snprintf(name, sizeof(name), "mgmtd_%d", (int)P_COMMIT);
	s->in_tx = false;
	if (PQsendQueryPrepared(s->conn, name, 0, NULL, NULL, NULL, 0))
		s->commit_pending = true;
	else
		report_down(s, PQerrorMessage(s->conn));
}

/*
 * For functions that must be atomic: begins a transaction unless the caller
 * holds one, and says in *began whether it did, so that tx_leave ends only
 * what tx_enter began.
 */
static enum store_status tx_enter(struct pg_store *s, bool *began)
{
	enum store_status st;

	*began = false;
	if (s->in_tx)
		return STORE_OK;
	st = pg_tx_begin_plain(s, P_BEGIN);
	*began = st == STORE_OK;
	return st;
}

/* Commits on STORE_OK, else rolls back; returns the final status. */
static enum store_status tx_leave(struct pg_store *s, bool began, enum store_status st)
{
	if (!began)
		return st;
	if (st == STORE_OK)
		return commit(s);
	pg_tx_rollback(&s->base);
	return st;
}

/* ---- open, migrate, close ---- */

/* Runs sql (no parameters, maybe several statements) outside the prepared table. */
static int simple_exec(struct pg_store *s, const char *sql, const char *what, char *err,
                       size_t errlen)
{
	PGresult *r = PQexec(s->conn, sql);
	ExecStatusType es = PQresultStatus(r);
	int rc = 0;

	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

		snprintf(err, errlen, "%s: %s", what, msg ? msg : PQerrorMessage(s->conn));
		rc = -1;
	}
	PQclear(r);
	return rc;
}

/* The single value sql yields, as an integer; -1 on failure with err set. */
static long long simple_value(struct pg_store *s, const char *sql, const char *what, char *err,
                              size_t errlen)
{
	PGresult *r = PQexec(s->conn, sql);
	long long v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = PQgetisnull(r, 0, 0) ? 0 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else
		snprintf(err, errlen, "%s: %s", what, PQerrorMessage(s->conn));
	PQclear(r);
	return v;
}

static int apply_migration(struct pg_store *s, const struct schema_migration *m, char *err,
                           size_t errlen)
{
	struct pq_params p = {0};
	enum store_status st;
	char what[128];

	snprintf(what, sizeof(what), "migration %s", m->name);
	if (simple_exec(s, "BEGIN", what, err, errlen) != 0)
		return -1;
	s->in_tx = true;
	if (simple_exec(s, m->sql, what, err, errlen) != 0)
		goto fail;
	p_int(&p, m->version);
	p_text(&p, m->name);
	p_int(&p, time(NULL) * 1000LL);
	{
		PGresult *r = PQexecParams(s->conn,
		                           "INSERT INTO mgmtd_schema (version, name, applied_at)"
		                           " VALUES ($1, $2, $3)",
		                           p.n, NULL, p.values, p.lengths, p.formats, 0);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;

		PQclear(r);
		if (!ok) {
			snprintf(err, errlen, "%s: cannot record the version: %s", what,
			         PQerrorMessage(s->conn));
			goto fail;
		}
	}
	st = commit(s);
	if (st != STORE_OK) {
		snprintf(err, errlen, "%s: cannot commit (%s)", what, store_status_name(st));
		return -1;
	}
	log_info("store: applied PostgreSQL migration %s", m->name);
	return 0;
fail:
	pg_tx_rollback(&s->base);
	return -1;
}

/*
 * Under the migration lock, so that replicas starting together apply each
 * migration once: reads the version, refuses a newer schema, applies the
 * missing migrations in order.
 */
static int migrate(struct pg_store *s, char *err, size_t errlen)
{
	int latest = 0, rc = -1;
	long long version;
	char unlock_err[256];

	for (size_t i = 0; i < postgres_schema_migration_count; i++) {
		if (postgres_schema_migrations[i].version <= latest) {
			snprintf(err, errlen, "embedded migration postgres/%s is out of order",
			         postgres_schema_migrations[i].name);
			return -1;
		}
		latest = postgres_schema_migrations[i].version;
	}
	if (simple_exec(s, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")",
	                "cannot take the migration lock", err, errlen) != 0)
		return -1;
	version = simple_value(s, "SELECT (to_regclass('mgmtd_schema') IS NOT NULL)::int",
	                       "cannot look for mgmtd_schema", err, errlen);
	if (version < 0)
		goto out;
	if (version == 0 && simple_exec(s,
	                                "CREATE TABLE mgmtd_schema (version integer PRIMARY KEY,"
	                                " name text NOT NULL, applied_at bigint NOT NULL)",
	                                "cannot create mgmtd_schema", err, errlen) != 0)
		goto out;
	version = simple_value(s, pq_sql[P_SCHEMA_VERSION], "cannot read the schema version", err,
	                       errlen);
	if (version < 0)
		goto out;
	if (version > latest) {
		snprintf(err, errlen,
		         "the PostgreSQL database has schema version %lld, newer than this mgmtd "
		         "knows (%d); run a newer mgmtd",
		         version, latest);
		goto out;
	}
	for (size_t i = 0; i < postgres_schema_migration_count; i++) {
		if (postgres_schema_migrations[i].version <= version)
			continue;
		if (apply_migration(s, &postgres_schema_migrations[i], err, errlen) != 0)
			goto out;
	}
	rc = 0;
out:
	/* The lock also goes with the session, should this fail. */
	if (simple_exec(s, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")",
	                "cannot release the migration lock", unlock_err, sizeof(unlock_err)) != 0)
		log_warn("store: %s", unlock_err);
	return rc;
}

/* What mgmtd needs of the server, checked once at start. */
static int check_server(struct pg_store *s, char *err, size_t errlen)
{
	const char *encoding = PQparameterStatus(s->conn, "server_encoding");
	PGresult *r;

	if (PQserverVersion(s->conn) < 110000) {
		snprintf(err, errlen, "PostgreSQL %d.%d is too old; mgmtd needs 11 or later",
		         PQserverVersion(s->conn) / 10000, PQserverVersion(s->conn) / 100 % 100);
		return -1;
	}
	if (encoding == NULL || strcmp(encoding, "UTF8") != 0) {
		snprintf(err, errlen,
		         "the PostgreSQL database's encoding is %s; mgmtd needs UTF8 "
		         "(CREATE DATABASE ... ENCODING 'UTF8')",
		         encoding ? encoding : "unknown");
		return -1;
	}
	r = PQexec(s->conn, "SHOW synchronous_commit");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	    strcmp(PQgetvalue(r, 0, 0), "off") == 0)
		log_warn("store: PostgreSQL synchronous_commit is off: an acknowledged change, a "
		         "revocation included, can be lost when the database crashes");
	PQclear(r);
	return 0;
}

/*
 * A new connection to conninfo (a NULL answer is out of memory; look at
 * PQstatus). Later entries win: the connection string may override the
 * timeout and the kind of server (a primary: mgmtd writes, and a standby's
 * reads may miss a revocation the primary has acknowledged), not the encoding.
 */
static PGconn *connect_to(const char *conninfo, const char *application_name)
{
	/*
	 * Plans that stay right as the tables grow, statistics or not. Custom
	 * plans always: a prepared statement's generic plan, chosen while its
	 * tables were small (every fresh store), would keep reading every token
	 * of the account to find one, until an ANALYZE; planning a statement of
	 * ours costs microseconds. No sorts where an index gives the order:
	 * before its first ANALYZE a grown table looks like a few rows, and a
	 * list's batch of 100 was a bitmap scan and a sort of the whole account
	 * (150 ms at 100 000 tokens, against 0.3 ms in index order). Every
	 * statement of mgmtd is an index lookup or an index-ordered scan; a sort
	 * with no alternative still runs. A conninfo with its own "options"
	 * replaces these (docs/configuration.md).
	 */
	const char *keys[] = {"connect_timeout",
	                      "application_name",
	                      "target_session_attrs",
	                      "options",
	                      "dbname",
	                      "client_encoding",
	                      NULL};
	const char *values[] = {CONNECT_TIMEOUT,
	                        application_name,
	                        "primary",
	                        "-c plan_cache_mode=force_custom_plan -c enable_sort=off",
	                        conninfo,
	                        "UTF8",
	                        NULL};

	if (conninfo[0] == '\0') {
		/* libpq's PG* variables and service file decide everything else */
		keys[4] = "client_encoding";
		values[4] = "UTF8";
		keys[5] = NULL;
		values[5] = NULL;
	}
	return PQconnectdbParams(keys, values, 1);
}

int store_pg_open(const char *conninfo, bool migrate_now, int timeout_ms, struct store **out,
                  char *err, size_t errlen)
{
	struct pg_store *s;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->base.ops = &pg_ops;
	s->timeout_ms = timeout_ms > 0 ? timeout_ms : STORE_PG_TIMEOUT_MS;
	s->conn = connect_to(conninfo, "mgmtd");
	if (s->conn == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (PQstatus(s->conn) != CONNECTION_OK) {
		/* libpq's message names host and port, never the password */
		char msg[512];
		size_t len;

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(s->conn));
		len = strlen(msg);
		while (len > 0 && msg[len - 1] == '\n')
			msg[--len] = '\0';
		snprintf(err, errlen, "cannot connect to PostgreSQL ([store] postgres_url): %s",
		         msg);
		goto fail;
	}
	PQsetNoticeReceiver(s->conn, on_notice, s);
	if (migrate_now && (check_server(s, err, errlen) != 0 || migrate(s, err, errlen) != 0))
		goto fail;
	*out = &s->base;
	return 0;
fail:
	PQfinish(s->conn);
	free(s);
	return -1;
}

static void pg_close(struct store *base)
{
	struct pg_store *s = pg(base);

	PQfinish(s->conn); /* a transaction left open is rolled back by the server */
	free(s);
}

static int pg_schema_version(struct store *base)
{
	enum store_status st;
	PGresult *r = pq_run(pg(base), P_SCHEMA_VERSION, NULL, &st);
	int version = -1;

	if (r != NULL && PQntuples(r) == 1)
		version = (int)get_int(r, 0, 0);
	PQclear(r);
	return version;
}

static enum store_status pg_ping(struct store *base)
{
	return pq_exec(pg(base), P_PING, NULL);
}

/* ---- accounts and clusters ---- */

static enum store_status account_get(struct pg_store *s, const char *id, struct store_account *out)
{
	struct pq_params p = {0};

	p_text(&p, id);
	return fetch_one(s, P_ACCOUNT_GET, &p, read_account, out);
}

static enum store_status pg_account_get(struct store *base, const char *id,
                                        struct store_account *out)
{
	return account_get(pg(base), id, out);
}

static enum store_status pg_account_ensure(struct store *base, const struct store_account *a)
{
	struct pg_store *s = pg(base);
	struct store_account existing;
	struct pq_params p = {0};
	enum store_status st;

	p_text(&p, a->id);
	p_text(&p, a->name);
	p_int(&p, a->created_at);
	st = pq_exec(s, P_ACCOUNT_INSERT, &p);
	if (st == STORE_OK)
		st = account_get(s, a->id, &existing);
	if (st == STORE_OK && strcmp(existing.name, a->name) != 0)
		st = STORE_CONFLICT;
	return st;
}

static enum store_status pg_cluster_ensure(struct store *base, const struct store_cluster *c)
{
	struct pg_store *s = pg(base);
	struct store_cluster existing;
	struct pq_params p = {0};
	enum store_status st;

	p_text(&p, c->id);
	p_text(&p, c->account_id);
	p_text(&p, c->name);
	p_text(&p, c->url);
	p_int(&p, c->category);
	p_int(&p, c->created_at);
	st = pq_exec(s, P_CLUSTER_INSERT, &p);
	if (st != STORE_OK)
		return st;
	/* By id alone: the same id in another account is a conflict, not a new row. */
	memset(&p, 0, sizeof(p));
	p_text(&p, c->id);
	st = fetch_one(s, P_CLUSTER_BY_ID, &p, read_cluster, &existing);
	if (st == STORE_OK &&
	    (strcmp(existing.account_id, c->account_id) != 0 ||
	     strcmp(existing.name, c->name) != 0 || strcmp(existing.url, c->url) != 0 ||
	     existing.category != c->category))
		st = STORE_CONFLICT;
	return st;
}

static enum store_status pg_cluster_get(struct store *base, const char *account_id, const char *id,
                                        struct store_cluster *out)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	p_text(&p, id);
	return fetch_one(pg(base), P_CLUSTER_GET, &p, read_cluster, out);
}

static enum store_status pg_cluster_list(struct store *base, const char *account_id,
                                         struct store_cluster **out, size_t *n)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	return fetch_list(pg(base), P_CLUSTER_LIST, &p, read_cluster, sizeof(**out), (void *)out,
	                  n);
}

/* ---- users ---- */

/* The user statements that take (account_id, key) and yield one user row. */
static enum store_status user_lookup(struct store *base, enum pq_id id, const char *account_id,
                                     const char *key, struct store_user *out)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	p_text(&p, key);
	return fetch_one(pg(base), id, &p, read_user, out);
}

/* The user statements that take (account_id, issuer, key) and yield one user row. */
static enum store_status user_lookup_at(struct store *base, enum pq_id id, const char *account_id,
                                        const char *issuer, const char *key, struct store_user *out)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	p_text(&p, issuer);
	p_text(&p, key);
	return fetch_one(pg(base), id, &p, read_user, out);
}

/* $3..$8 of the user INSERT and UPDATE, which share that layout. */
static void user_fields(struct pq_params *p, const struct store_user *u)
{
	p_text(p, u->email);
	p_opt_text(p, u->first_name);
	p_opt_text(p, u->last_name);
	p_text(p, user_group_name(u->group));
	p_opt_text(p, u->idp_subject);
	p_opt_text(p, u->idp_issuer);
}

static enum store_status pg_user_insert(struct store *base, const struct store_user *u)
{
	struct pq_params p = {0};

	p_text(&p, u->id);
	p_text(&p, u->account_id);
	user_fields(&p, u);
	p_int(&p, u->created_at);
	return pq_exec(pg(base), P_USER_INSERT, &p);
}

static enum store_status pg_user_get(struct store *base, const char *account_id, const char *id,
                                     struct store_user *out)
{
	return user_lookup(base, P_USER_GET, account_id, id, out);
}

static enum store_status pg_user_by_email(struct store *base, const char *account_id,
                                          const char *email, struct store_user *out)
{
	return user_lookup(base, P_USER_BY_EMAIL, account_id, email, out);
}

static enum store_status pg_user_by_subject(struct store *base, const char *account_id,
                                            const char *issuer, const char *sub,
                                            struct store_user *out)
{
	return user_lookup_at(base, P_USER_BY_SUBJECT, account_id, issuer, sub, out);
}

static enum store_status pg_user_by_email_unlinked(struct store *base, const char *account_id,
                                                   const char *issuer, const char *email,
                                                   struct store_user *out)
{
	return user_lookup_at(base, P_USER_BY_EMAIL_UNLINKED, account_id, issuer, email, out);
}

static enum store_status pg_user_link(struct store *base, const char *account_id, const char *id,
                                      const char *issuer, const char *sub)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	p_text(&p, id);
	p_text(&p, issuer);
	p_text(&p, sub);
	return change_one(pg(base), P_USER_LINK, &p);
}

static enum store_status pg_users_unbound(struct store *base, const char *account_id, size_t max,
                                          struct store_user **out, size_t *n)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	p_int(&p, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	return fetch_list(pg(base), P_USERS_UNBOUND, &p, read_user, sizeof(**out), (void *)out, n);
}

static enum store_status pg_users_bind_issuer(struct store *base, const char *account_id,
                                              const char *id, const char *issuer, int64_t *bound)
{
	struct pq_params p = {0};
	enum store_status st;
	PGresult *r;

	if (id) {
		p_text(&p, account_id);
		p_text(&p, id);
	}
	p_text(&p, issuer);
	r = pq_run(pg(base), id ? P_USER_BIND : P_USERS_BIND_ALL, &p, &st);
	if (r != NULL)
		*bound = atoll(PQcmdTuples(r));
	PQclear(r);
	return st;
}

static enum store_status pg_user_list(struct store *base, const char *account_id,
                                      struct store_user **out, size_t *n)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	return fetch_list(pg(base), P_USER_LIST, &p, read_user, sizeof(**out), (void *)out, n);
}

static enum store_status pg_users_by_email(struct store *base, const char *email,
                                           struct store_user **out, size_t *n)
{
	struct pq_params p = {0};

	p_text(&p, email);
	return fetch_list(pg(base), P_USER_BY_EMAIL_ANY, &p, read_user, sizeof(**out), (void *)out,
	                  n);
}

static enum store_status pg_admin_count(struct store *base, const char *account_id, long *count)
{
	struct pq_params p = {0};
	enum store_status st;
	PGresult *r;

	p_text(&p, account_id);
	r = pq_run(pg(base), P_ADMIN_COUNT, &p, &st);
	if (r == NULL)
		return st;
	*count = (long)get_int(r, 0, 0);
	PQclear(r);
	return STORE_OK;
}

/*
 * Inside the caller's transaction: locks the account's row, so that two
 * changes that could each take away one of its last two admins run one
 * after the other, whichever replica they come through; then reads, as
 * committed, the user's group and the account's admins. NOT_FOUND when the
 * user does not exist, LAST_ADMIN when it is an admin and the change would
 * take the last one (removes_admin_if_admin), else OK.
 */
static enum store_status check_last_admin(struct pg_store *s, const char *account_id,
                                          const char *id, bool removes_admin_if_admin)
{
	enum user_group g = GROUP_MEMBER;
	struct pq_params p = {0};
	enum store_status st;
	char grp[16];
	PGresult *r;

	p_text(&p, account_id);
	r = pq_run(s, P_ACCOUNT_LOCK, &p, &st);
	if (r == NULL)
		return st;
	st = PQntuples(r) == 0 ? STORE_NOT_FOUND : STORE_OK;
	PQclear(r);
	if (st != STORE_OK)
		return st;
	p_text(&p, id);
	r = pq_run(s, P_USER_CHECK, &p, &st);
	if (r == NULL)
		return st;
	if (PQntuples(r) == 0)
		st = STORE_NOT_FOUND;
	else if (!get_text(r, 0, 0, grp, sizeof(grp)) || user_group_parse(grp, &g) != 0)
		st = bad_row("users", "grp");
	else if (g == GROUP_ADMIN && removes_admin_if_admin && get_int(r, 0, 1) <= 1)
		st = STORE_LAST_ADMIN;
	PQclear(r);
	return st;
}

static enum store_status pg_user_update(struct store *base, const struct store_user *u)
{
	struct pg_store *s = pg(base);
	struct pq_params p = {0};
	enum store_status st;
	bool began;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = check_last_admin(s, u->account_id, u->id, u->group != GROUP_ADMIN);
	if (st == STORE_OK) {
		p_text(&p, u->account_id);
		p_text(&p, u->id);
		user_fields(&p, u);
		st = change_one(s, P_USER_UPDATE, &p);
	}
	return tx_leave(s, began, st);
}

static enum store_status pg_user_delete(struct store *base, const char *account_id, const char *id)
{
	struct pg_store *s = pg(base);
	struct pq_params p = {0};
	enum store_status st;
	bool began;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = check_last_admin(s, account_id, id, true);
	if (st == STORE_OK) {
		p_text(&p, account_id);
		p_text(&p, id);
		st = change_one(s, P_USER_DELETE, &p);
	}
	return tx_leave(s, began, st);
}

/* ---- management tokens ---- */

static enum store_status pg_mgmt_token_insert(struct store *base, const struct store_mgmt_token *t,
                                              const unsigned char hash[TOKEN_HASH_LEN])
{
	struct pq_params p = {0};

	p_text(&p, t->id);
	p_text(&p, t->account_id);
	p_text(&p, t->description);
	p_text(&p, t->prefix);
	p_hash(&p, hash);
	p_text(&p, TOKEN_HASH_SCHEME);
	p_int(&p, t->created_at);
	p_opt_text(&p, t->created_by);
	p_opt_int(&p, t->expires_at);
	p_opt_int(&p, t->revoked_at);
	p_opt_text(&p, t->revoked_by);
	p_opt_int(&p, t->last_used_at);
	return pq_exec(pg(base), P_TOKEN_INSERT, &p);
}

static enum store_status pg_mgmt_token_get(struct store *base, const char *account_id,
                                           const char *id, struct store_mgmt_token *out)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	p_text(&p, id);
	return fetch_one(pg(base), P_TOKEN_GET, &p, read_token, out);
}

static enum store_status pg_mgmt_token_by_hash(struct store *base,
                                               const unsigned char hash[TOKEN_HASH_LEN],
                                               struct store_mgmt_token *out)
{
	struct store_mgmt_token t;
	struct pq_params p = {0};
	enum store_status st;
	PGresult *r;

	p_hash(&p, hash);
	r = pq_run(pg(base), P_TOKEN_BY_HASH, &p, &st);
	if (r == NULL)
		return st;
	if (PQntuples(r) == 0)
		st = STORE_NOT_FOUND;
	else if ((st = read_token(r, 0, &t)) == STORE_OK &&
	         !which_hash(r, 0, TOKEN_NCOLS, hash, &t.by_previous))
		st = STORE_NOT_FOUND;
	PQclear(r);
	if (st == STORE_OK)
		*out = t;
	return st;
}

static enum store_status pg_mgmt_token_list(struct store *base, const char *account_id,
                                            enum token_status_filter filter, int64_t now,
                                            struct store_mgmt_token **out, size_t *n)
{
	struct pq_params p = {0};
	enum pq_id id;

	p_text(&p, account_id);
	switch (filter) {
	case TOKEN_FILTER_ALL:
		id = P_TOKEN_LIST_ALL;
		break;
	case TOKEN_FILTER_ACTIVE:
		id = P_TOKEN_LIST_ACTIVE;
		p_int(&p, now);
		break;
	case TOKEN_FILTER_EXPIRED:
		id = P_TOKEN_LIST_EXPIRED;
		p_int(&p, now);
		break;
	case TOKEN_FILTER_REVOKED:
		id = P_TOKEN_LIST_REVOKED;
		break;
	case TOKEN_FILTER_SUSPENDED:
		id = P_TOKEN_LIST_SUSPENDED;
		p_int(&p, now);
		break;
	default:
		log_error("store: unknown token filter %d", (int)filter);
		return STORE_ERROR;
	}
	return fetch_list(pg(base), id, &p, read_token, sizeof(**out), (void *)out, n);
}

/* The query's search, resume key and size as $4 .. $7 of a scan. */
static void p_scan(struct pq_params *p, const struct store_token_query *q)
{
	p_opt_text(p, q->search);
	p_int(p, q->has_after ? q->after.created_at : INT64_MIN);
	p_int(p, q->has_after ? q->after.seq : INT64_MIN);
	p_int(p, (int64_t)q->max);
	p_opt_int(p, q->expiring_within);
	p_int(p, q->now);
}

/* A scan's row buffer is reused: a row costs what it holds, not the struct's size. */
static enum store_status refill_shape(const struct store_row_shape *shape, const PGresult *r,
                                      int row, void *out)
{
	struct result_row rr = {r, row};
	struct store_row_source src = {&rr, source_text, source_int};

	return store_row_refill(shape, &src, out);
}

static enum store_status pg_mgmt_token_scan(struct store *base, const struct store_token_query *q,
                                            store_mgmt_token_visit visit, void *ctx, size_t *rows)
{
	struct store_mgmt_token row;
	struct pq_params p = {0};
	struct store_cursor key;
	enum store_status st;
	PGresult *r;
	int n;

	p_text(&p, q->account_id);
	p_int(&p, (int64_t)q->filter);
	p_int(&p, q->now);
	p_scan(&p, q);
	r = pq_run(pg(base), P_TOKEN_SCAN, &p, &st);
	if (r == NULL)
		return st;
	n = PQntuples(r);
	for (int i = 0; st == STORE_OK && i < n; i++) {
		st = refill_shape(&store_mgmt_token_row, r, i, &row);
		if (st != STORE_OK)
			break;
		key.created_at = row.created_at;
		key.seq = strtoll(PQgetvalue(r, i, TOKEN_NCOLS), NULL, 10);
		if (!visit(ctx, &row, &key))
			st = STORE_ERROR;
		else
			(*rows)++;
	}
	PQclear(r);
	return st;
}

static enum store_status pg_mgmt_token_revoke(struct store *base, const char *account_id,
                                              const char *id, int64_t now, const char *revoked_by,
                                              struct store_mgmt_token *out)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	p_text(&p, id);
	p_int(&p, now);
	p_opt_text(&p, revoked_by);
	return fetch_one(pg(base), P_TOKEN_REVOKE, &p, read_token, out);
}

static enum store_status pg_mgmt_token_touch(struct store *base, const char *id, int64_t now,
                                             int64_t min_interval_ms)
{
	struct pq_params p = {0};

	p_text(&p, id);
	p_int(&p, now);
	p_int(&p, min_interval_ms);
	return pq_exec(pg(base), P_TOKEN_TOUCH, &p);
}

/* Runs a change and says whether it updated a row. */
static enum store_status change_flag(struct pg_store *s, enum pq_id id, const struct pq_params *p,
                                     bool *changed)
{
	enum store_status st;
	PGresult *r = pq_run(s, id, p, &st);

	*changed = r != NULL && st == STORE_OK && atol(PQcmdTuples(r)) > 0;
	PQclear(r);
	return st;
}

static enum store_status pg_mgmt_token_rotate(struct store *base, const char *account_id,
                                              const char *id,
                                              const unsigned char hash[TOKEN_HASH_LEN],
                                              const char *prefix, int64_t now,
                                              int64_t previous_until, bool *changed)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	p_text(&p, id);
	p_hash(&p, hash);
	p_text(&p, TOKEN_HASH_SCHEME);
	p_int(&p, previous_until);
	p_int(&p, now);
	p_text(&p, prefix);
	return change_flag(pg(base), P_TOKEN_ROTATE, &p, changed);
}

static enum store_status pg_mgmt_token_suspend(struct store *base, const char *account_id,
                                               const char *id, bool suspend, int64_t now,
                                               const char *by, bool *changed)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	p_text(&p, id);
	if (suspend) {
		p_int(&p, now);
		p_opt_text(&p, by);
	}
	return change_flag(pg(base), suspend ? P_TOKEN_SUSPEND : P_TOKEN_RESUME, &p, changed);
}

/* Sets a lastUsedAt column (one of the *_TOUCH* statements): (id, now, min_interval_ms). */
static enum store_status touch_row(struct store *base, enum pq_id qid, const char *id, int64_t now,
                                   int64_t min_interval_ms)
{
	struct pq_params p = {0};

	p_text(&p, id);
	p_int(&p, now);
	p_int(&p, min_interval_ms);
	return pq_exec(pg(base), qid, &p);
}

/* The database token's lastUsedAt, as the management token's (P_DBTOKEN_TOUCH). */
static enum store_status pg_db_token_touch(struct store *base, const char *id, int64_t now,
                                           int64_t min_interval_ms)
{
	return touch_row(base, P_DBTOKEN_TOUCH, id, now, min_interval_ms);
}

/*
 * One kind's claim, appended to *out (*n rows, at most max in all). Each
 * statement commits on its own: a claimed row is claimed for good, and its
 * warning is logged by the caller right after.
 */
static enum store_status claim_kind(struct pg_store *s, enum pq_id id, bool management, int64_t now,
                                    int64_t before, size_t max, struct store_expiring_token **out,
                                    size_t *n)
{
	struct store_expiring_token *grown;
	struct pq_params p = {0};
	enum store_status st;
	PGresult *r;
	int count;

	p_int(&p, now);
	p_int(&p, before);
	p_int(&p, (int64_t)(max - *n));
	r = pq_run(s, id, &p, &st);
	if (r == NULL)
		return st;
	count = PQntuples(r);
	if (count == 0)
		goto out;
	grown = realloc(*out, (*n + (size_t)count) * sizeof(**out));
	if (grown == NULL) {
		log_error("store: out of memory claiming expiring tokens");
		st = STORE_ERROR;
		goto out;
	}
	*out = grown;
	for (int i = 0; i < count; i++) {
		struct store_expiring_token *t = &grown[*n];

		memset(t, 0, sizeof(*t));
		t->management = management;
		if (!get_text(r, i, 0, t->id, sizeof(t->id)) ||
		    !get_text(r, i, 1, t->account_id, sizeof(t->account_id)) ||
		    !get_text(r, i, 2, t->cluster_id, sizeof(t->cluster_id)) ||
		    !get_text(r, i, 3, t->description, sizeof(t->description))) {
			st = bad_row("tokens", "expiry claim");
			goto out;
		}
		t->expires_at = get_int(r, i, 4);
		(*n)++;
	}
out:
	PQclear(r);
	return st;
}

static enum store_status pg_tokens_expiry_claim(struct store *base, int64_t now, int64_t before,
                                                size_t max, struct store_expiring_token **out,
                                                size_t *n)
{
	enum store_status st;

	st = claim_kind(pg(base), P_MGMT_EXPIRY_CLAIM, true, now, before, max, out, n);
	if (st == STORE_OK && *n < max)
		st = claim_kind(pg(base), P_DB_EXPIRY_CLAIM, false, now, before, max, out, n);
	return st;
}

static enum store_status pg_mgmt_token_touch_previous(struct store *base, const char *id,
                                                      int64_t now, int64_t min_interval_ms)
{
	return touch_row(base, P_TOKEN_TOUCH_PREVIOUS, id, now, min_interval_ms);
}

/* ---- databases ---- */

/* Runs an INSERT ... RETURNING id; *id gets the new row's id. */
static enum store_status insert_returning_id(struct pg_store *s, enum pq_id id,
                                             const struct pq_params *p, int64_t *out)
{
	enum store_status st;
	PGresult *r = pq_run(s, id, p, &st);

	if (r == NULL)
		return st;
	*out = get_int(r, 0, 0);
	PQclear(r);
	return STORE_OK;
}

static enum store_status pg_database_insert(struct store *base, struct store_database *d)
{
	struct pq_params p = {0};
	enum store_status st;

	p_text(&p, d->account_id);
	p_text(&p, d->cluster_id);
	p_text(&p, d->name);
	p_int(&p, d->max_tables);
	p_int(&p, d->max_columns_per_table);
	p_int(&p, d->retention_period);
	p_opt_text(&p, d->partition_template);
	p_int(&p, d->created_at);
	st = insert_returning_id(pg(base), P_DB_INSERT, &p, &d->id);
	if (st == STORE_OK)
		d->deleted_at = 0;
	return st;
}

static void db_key(struct pq_params *p, const char *account_id, const char *cluster_id)
{
	p_text(p, account_id);
	p_text(p, cluster_id);
}

static enum store_status pg_database_get(struct store *base, const char *account_id,
                                         const char *cluster_id, const char *name,
                                         struct store_database *out)
{
	struct pq_params p = {0};

	db_key(&p, account_id, cluster_id);
	p_text(&p, name);
	return fetch_one(pg(base), P_DB_GET, &p, read_database, out);
}

static enum store_status pg_database_get_id(struct store *base, const char *account_id,
                                            const char *cluster_id, int64_t id,
                                            struct store_database *out)
{
	struct pq_params p = {0};

	db_key(&p, account_id, cluster_id);
	p_int(&p, id);
	return fetch_one(pg(base), P_DB_GET_ID, &p, read_database, out);
}

static enum store_status pg_database_list(struct store *base, const char *account_id,
                                          const char *cluster_id, bool deleted,
                                          struct store_database **out, size_t *n)
{
	struct pq_params p = {0};

	db_key(&p, account_id, cluster_id);
	return fetch_list(pg(base), deleted ? P_DB_LIST_DELETED : P_DB_LIST_LIVE, &p, read_database,
	                  sizeof(**out), (void *)out, n);
}

static enum store_status pg_database_scan(struct store *base, const char *account_id,
                                          const char *cluster_id, bool deleted,
                                          store_database_visit visit, void *ctx)
{
	struct store_database row;
	struct pq_params p = {0};
	enum store_status st;
	PGresult *r;
	int n;

	db_key(&p, account_id, cluster_id);
	r = pq_run(pg(base), deleted ? P_DB_LIST_DELETED : P_DB_LIST_LIVE, &p, &st);
	if (r == NULL)
		return st;
	n = PQntuples(r);
	for (int i = 0; st == STORE_OK && i < n; i++) {
		st = refill_shape(&store_database_row, r, i, &row);
		if (st == STORE_OK && !visit(ctx, &row))
			st = STORE_ERROR;
	}
	PQclear(r);
	return st;
}

static enum store_status pg_database_update(struct store *base, const struct store_database *d)
{
	struct pq_params p = {0};

	db_key(&p, d->account_id, d->cluster_id);
	p_int(&p, d->id);
	p_int(&p, d->max_tables);
	p_int(&p, d->max_columns_per_table);
	p_int(&p, d->retention_period);
	return change_one(pg(base), P_DB_UPDATE, &p);
}

static enum store_status pg_database_delete(struct store *base, const char *account_id,
                                            const char *cluster_id, const char *name, int64_t now)
{
	struct pq_params p = {0};

	db_key(&p, account_id, cluster_id);
	p_text(&p, name);
	p_int(&p, now);
	return change_one(pg(base), P_DB_DELETE, &p);
}

static enum store_status pg_database_rename(struct store *base, const char *account_id,
                                            const char *cluster_id, const char *name,
                                            const char *new_name, struct store_database *out)
{
	struct pq_params p = {0};

	db_key(&p, account_id, cluster_id);
	p_text(&p, name);
	p_text(&p, new_name);
	return fetch_one(pg(base), P_DB_RENAME, &p, read_database, out);
}

static enum store_status pg_database_undelete(struct store *base, const char *account_id,
                                              const char *cluster_id, int64_t id,
                                              struct store_database *out)
{
	struct pq_params p = {0};

	db_key(&p, account_id, cluster_id);
	p_int(&p, id);
	return fetch_one(pg(base), P_DB_UNDELETE, &p, read_database, out);
}

/* ---- tables ---- */

static enum store_status pg_table_insert(struct store *base, struct store_table *t)
{
	struct pq_params p = {0};
	enum store_status st;

	p_int(&p, t->database_id);
	p_text(&p, t->name);
	p_opt_text(&p, t->partition_template);
	p_int(&p, t->created_at);
	st = insert_returning_id(pg(base), P_TABLE_INSERT, &p, &t->id);
	if (st == STORE_OK) {
		t->deleted_at = 0;
		t->iceberg_export = false; /* the column's default */
	}
	return st;
}

static enum store_status pg_table_get(struct store *base, int64_t database_id, const char *name,
                                      struct store_table *out)
{
	struct pq_params p = {0};

	p_int(&p, database_id);
	p_text(&p, name);
	return fetch_one(pg(base), P_TABLE_GET, &p, read_table, out);
}

static enum store_status pg_table_get_id(struct store *base, int64_t database_id, int64_t id,
                                         struct store_table *out)
{
	struct pq_params p = {0};

	p_int(&p, database_id);
	p_int(&p, id);
	return fetch_one(pg(base), P_TABLE_GET_ID, &p, read_table, out);
}

static enum store_status pg_table_list(struct store *base, int64_t database_id, bool deleted,
                                       struct store_table **out, size_t *n)
{
	struct pq_params p = {0};

	p_int(&p, database_id);
	return fetch_list(pg(base), deleted ? P_TABLE_LIST_DELETED : P_TABLE_LIST_LIVE, &p,
	                  read_table, sizeof(**out), (void *)out, n);
}

static enum store_status pg_table_delete(struct store *base, int64_t database_id, const char *name,
                                         int64_t now)
{
	struct pq_params p = {0};

	p_int(&p, database_id);
	p_text(&p, name);
	p_int(&p, now);
	return change_one(pg(base), P_TABLE_DELETE, &p);
}

static enum store_status pg_table_rename(struct store *base, int64_t database_id, const char *name,
                                         const char *new_name, struct store_table *out)
{
	struct pq_params p = {0};

	p_int(&p, database_id);
	p_text(&p, name);
	p_text(&p, new_name);
	return fetch_one(pg(base), P_TABLE_RENAME, &p, read_table, out);
}

static enum store_status pg_table_undelete(struct store *base, int64_t database_id, int64_t id,
                                           struct store_table *out)
{
	struct pq_params p = {0};

	p_int(&p, database_id);
	p_int(&p, id);
	return fetch_one(pg(base), P_TABLE_UNDELETE, &p, read_table, out);
}

static enum store_status pg_table_set_iceberg(struct store *base, int64_t database_id,
                                              const char *name, bool enabled,
                                              struct store_table *out)
{
	struct pq_params p = {0};

	p_int(&p, database_id);
	p_text(&p, name);
	p_int(&p, enabled ? 1 : 0);
	return fetch_one(pg(base), P_TABLE_ICEBERG, &p, read_table, out);
}

/* ---- database tokens ---- */

/* The two text[] literals of t's permissions; false when out of memory (freed then). */
static bool permission_arrays(const struct store_db_token *t, char **actions, char **resources)
{
	*actions = text_array(t->permission_count, perm_action, t);
	*resources = text_array(t->permission_count, perm_resource, t);
	if (*actions != NULL && *resources != NULL)
		return true;
	free(*actions);
	free(*resources);
	log_error("store: out of memory writing permissions");
	return false;
}

static enum store_status pg_db_token_insert(struct store *base, const struct store_db_token *t,
                                            const unsigned char hash[TOKEN_HASH_LEN])
{
	struct pq_params p = {0};
	char *actions, *resources;
	enum store_status st;

	if (!permission_arrays(t, &actions, &resources))
		return STORE_ERROR;
	p_text(&p, t->id);
	p_text(&p, t->account_id);
	p_text(&p, t->cluster_id);
	p_text(&p, t->description);
	p_hash(&p, hash);
	p_text(&p, TOKEN_HASH_SCHEME);
	p_int(&p, t->created_at);
	p_opt_text(&p, t->created_by);
	p_opt_int(&p, t->expires_at);
	p_opt_int(&p, t->revoked_at);
	p_text(&p, actions);
	p_text(&p, resources);
	st = pq_exec(pg(base), P_DBTOKEN_INSERT, &p);
	free(actions);
	free(resources);
	return st;
}

/* A statement of P_DBTOKEN_GET's shape for one token: NOT_FOUND without rows. */
static enum store_status fetch_db_token(struct pg_store *s, enum pq_id id,
                                        const struct pq_params *p, const unsigned char *hash,
                                        struct store_db_token *out)
{
	struct store_db_token t;
	enum store_status st;
	PGresult *r = pq_run(s, id, p, &st);
	int row = 0;

	if (r == NULL)
		return st;
	if (PQntuples(r) == 0)
		st = STORE_NOT_FOUND;
	else if ((st = read_db_token_rows(r, &row, &t, true)) == STORE_OK && hash != NULL &&
	         !which_hash(r, 0, DBTOKEN_AFTER_COL, hash, &t.by_previous))
		st = STORE_NOT_FOUND;
	PQclear(r);
	if (st == STORE_OK)
		*out = t;
	return st;
}

static enum store_status pg_db_token_get(struct store *base, const char *account_id,
                                         const char *cluster_id, const char *id,
                                         struct store_db_token *out)
{
	struct pq_params p = {0};

	db_key(&p, account_id, cluster_id);
	p_text(&p, id);
	return fetch_db_token(pg(base), P_DBTOKEN_GET, &p, NULL, out);
}

static enum store_status pg_db_token_by_hash(struct store *base,
                                             const unsigned char hash[TOKEN_HASH_LEN],
                                             struct store_db_token *out)
{
	struct pq_params p = {0};

	p_hash(&p, hash);
	return fetch_db_token(pg(base), P_DBTOKEN_BY_HASH, &p, hash, out);
}

static enum store_status pg_db_token_list(struct store *base, const char *account_id,
                                          const char *cluster_id, bool include_revoked,
                                          struct store_db_token **out, size_t *n)
{
	struct store_db_token *tokens = NULL;
	struct pq_params p = {0};
	enum store_status st;
	size_t count = 0;
	PGresult *r;
	int rows, row = 0;

	db_key(&p, account_id, cluster_id);
	r = pq_run(pg(base), include_revoked ? P_DBTOKEN_LIST_ALL : P_DBTOKEN_LIST_UNREVOKED, &p,
	           &st);
	if (r == NULL)
		return st;
	rows = PQntuples(r);
	/* At most one token per row; most have one permission, so little is wasted. */
	if (rows > 0 && (tokens = calloc((size_t)rows, sizeof(*tokens))) == NULL) {
		log_error("store: out of memory listing database tokens");
		st = STORE_ERROR;
	}
	while (st == STORE_OK && row < rows)
		st = read_db_token_rows(r, &row, &tokens[count++], true);
	PQclear(r);
	if (st != STORE_OK) {
		free(tokens);
		return st;
	}
	if (count == 0) {
		free(tokens);
		tokens = NULL;
	}
	*out = tokens;
	*n = count;
	return STORE_OK;
}

static enum store_status pg_db_token_scan(struct store *base, const struct store_token_query *q,
                                          store_db_token_visit visit, void *ctx, size_t *rows)
{
	struct store_db_token *row;
	struct pq_params p = {0};
	struct store_cursor key;
	enum store_status st;
	PGresult *r;
	int n, i = 0;

	db_key(&p, q->account_id, q->cluster_id);
	p_text(&p, q->include_revoked ? "true" : "false");
	p_scan(&p, q);
	r = pq_run(pg(base), P_DBTOKEN_SCAN, &p, &st);
	if (r == NULL)
		return st;
	/* the one row buffer of the scan: 9 KB is more than a worker's stack should hold */
	row = malloc(sizeof(*row));
	if (row == NULL) {
		log_error("store: out of memory listing database tokens");
		st = STORE_ERROR;
	}
	n = PQntuples(r);
	while (st == STORE_OK && i < n) {
		int first = i;

		row->permission_count = 0;
		st = refill_shape(&store_db_token_row, r, i, row);
		if (st == STORE_OK)
			st = read_db_token_rows(r, &i, row, false);
		if (st != STORE_OK)
			break;
		key.created_at = row->created_at;
		key.seq = strtoll(PQgetvalue(r, first, DBTOKEN_AFTER_COL), NULL, 10);
		if (!visit(ctx, row, &key))
			st = STORE_ERROR;
		else
			(*rows)++;
	}
	free(row);
	PQclear(r);
	return st;
}

static enum store_status pg_db_token_update(struct store *base, const struct store_db_token *t)
{
	struct pg_store *s = pg(base);
	struct pq_params p = {0};
	char *actions, *resources;
	enum store_status st;
	bool began;

	if (!permission_arrays(t, &actions, &resources))
		return STORE_ERROR;
	st = tx_enter(s, &began);
	if (st != STORE_OK)
		goto out;
	db_key(&p, t->account_id, t->cluster_id);
	p_text(&p, t->id);
	p_text(&p, t->description);
	st = change_one(s, P_DBTOKEN_UPDATE, &p);
	if (st == STORE_OK) {
		memset(&p, 0, sizeof(p));
		p_text(&p, t->id);
		st = pq_exec(s, P_DBPERM_DELETE, &p);
	}
	if (st == STORE_OK) {
		p_text(&p, actions);
		p_text(&p, resources);
		st = pq_exec(s, P_DBPERM_INSERT, &p);
	}
	st = tx_leave(s, began, st);
out:
	free(actions);
	free(resources);
	return st;
}

static enum store_status pg_db_token_revoke(struct store *base, const char *account_id,
                                            const char *cluster_id, const char *id, int64_t now,
                                            struct store_db_token *out)
{
	struct pq_params p = {0};

	db_key(&p, account_id, cluster_id);
	p_text(&p, id);
	p_int(&p, now);
	return fetch_db_token(pg(base), P_DBTOKEN_REVOKE, &p, NULL, out);
}

static enum store_status pg_db_token_rotate(struct store *base, const char *account_id,
                                            const char *cluster_id, const char *id,
                                            const unsigned char hash[TOKEN_HASH_LEN], int64_t now,
                                            int64_t previous_until, bool *changed)
{
	struct pq_params p = {0};

	db_key(&p, account_id, cluster_id);
	p_text(&p, id);
	p_hash(&p, hash);
	p_text(&p, TOKEN_HASH_SCHEME);
	p_int(&p, previous_until);
	p_int(&p, now);
	return change_flag(pg(base), P_DBTOKEN_ROTATE, &p, changed);
}

static enum store_status pg_db_token_suspend(struct store *base, const char *account_id,
                                             const char *cluster_id, const char *id, bool suspend,
                                             int64_t now, const char *by, bool *changed)
{
	struct pq_params p = {0};

	db_key(&p, account_id, cluster_id);
	p_text(&p, id);
	if (suspend) {
		p_int(&p, now);
		p_opt_text(&p, by);
	}
	return change_flag(pg(base), suspend ? P_DBTOKEN_SUSPEND : P_DBTOKEN_RESUME, &p, changed);
}

static enum store_status pg_db_token_touch_previous(struct store *base, const char *id, int64_t now,
                                                    int64_t min_interval_ms)
{
	return touch_row(base, P_DBTOKEN_TOUCH_PREVIOUS, id, now, min_interval_ms);
}

static enum store_status pg_db_authorize(struct store *base,
                                         const unsigned char hash[TOKEN_HASH_LEN],
                                         enum db_action action, const char *database,
                                         struct store_db_grant *out)
{
	struct store_db_grant g;
	struct pq_params p = {0};
	enum store_status st;
	PGresult *r;

	p_hash(&p, hash);
	p_text(&p, db_action_name(action));
	p_text(&p, database);
	r = pq_run(pg(base), P_DB_AUTHORIZE, &p, &st);
	if (r == NULL)
		return st;
	memset(&g, 0, sizeof(g));
	if (PQntuples(r) == 0) {
		st = STORE_NOT_FOUND;
	} else if (!get_text(r, 0, 0, g.token_id, sizeof(g.token_id)) ||
	           !get_text(r, 0, 1, g.account_id, sizeof(g.account_id)) ||
	           !get_text(r, 0, 2, g.cluster_id, sizeof(g.cluster_id))) {
		st = bad_row("database_tokens", "id");
	} else if (!which_hash2(r, 0, 5, 9, hash, &g.by_previous)) {
		st = STORE_NOT_FOUND;
	} else {
		g.expires_at = get_int(r, 0, 3);
		g.revoked_at = get_int(r, 0, 4);
		g.permitted = get_bool(r, 0, 6);
		g.database_exists = get_bool(r, 0, 7);
		g.created_at = get_int(r, 0, 8);
		g.previous_expires_at = get_int(r, 0, 10);
		g.suspended_at = get_int(r, 0, 11);
		g.previous_last_used_at = get_int(r, 0, 12);
		g.last_used_at = get_int(r, 0, 13);
	}
	PQclear(r);
	if (st == STORE_OK)
		*out = g;
	return st;
}

static enum store_status pg_db_authorize_plan(struct store *base, bool *indexed)
{
	struct pg_store *s = pg(base);
	static const unsigned char no_hash[TOKEN_HASH_LEN];
	struct pq_params p = {0};
	enum store_status st;
	char sql[2048];
	PGresult *r;

	*indexed = true;
	snprintf(sql, sizeof(sql), "EXPLAIN %s", pq_sql[P_DB_AUTHORIZE]);
	p_hash(&p, no_hash);
	p_text(&p, "read");
	p_text(&p, "db");
	st = pg_tx_begin_plain(s, P_BEGIN);
	if (st != STORE_OK)
		return st;
	/* With few rows a scan is the planner's right answer; ask what it can do with the indexes.
	 */
	r = PQexec(s->conn, "SET LOCAL enable_seqscan = off");
	st = PQresultStatus(r) == PGRES_COMMAND_OK ? STORE_OK : pq_fail(s, r, "SET enable_seqscan");
	PQclear(r);
	if (st == STORE_OK) {
		r = PQexecParams(s->conn, sql, p.n, NULL, p.values, p.lengths, p.formats, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			st = pq_fail(s, r, "EXPLAIN of the data-plane check");
		for (int i = 0; st == STORE_OK && i < PQntuples(r); i++) {
			if (strstr(PQgetvalue(r, i, 0), "Seq Scan") != NULL) {
				log_error("store: the data-plane check scans: %s",
				          PQgetvalue(r, i, 0));
				*indexed = false;
			}
		}
		PQclear(r);
	}
	pg_tx_rollback(base);
	return st;
}

/* ---- invites ---- */

/* The invite statements that take (account_id, key) and yield one invite row. */
static enum store_status invite_lookup(struct pg_store *s, enum pq_id id, const char *account_id,
                                       const char *key, struct store_invite *out)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	p_text(&p, key);
	return fetch_one(s, id, &p, read_invite, out);
}

/* The invite of email pending at now in the account. */
static enum store_status invite_pending_one(struct pg_store *s, const char *account_id,
                                            const char *email, int64_t now,
                                            struct store_invite *out)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	p_text(&p, email);
	p_int(&p, now);
	return fetch_one(s, P_INVITE_PENDING_ONE, &p, read_invite, out);
}

static enum store_status pg_invite_insert(struct store *base, const struct store_invite *i,
                                          int64_t now, enum invite_conflict *why)
{
	struct pg_store *s = pg(base);
	struct store_invite pending;
	struct store_user user;
	struct pq_params p = {0};
	enum store_status st;
	PGresult *r;
	bool began;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = user_lookup(base, P_USER_BY_EMAIL, i->account_id, i->email, &user);
	if (st == STORE_OK) {
		*why = INVITE_CONFLICT_USER;
		st = STORE_CONFLICT;
		goto out;
	}
	if (st != STORE_NOT_FOUND)
		goto out;
	p_text(&p, i->account_id);
	p_text(&p, i->email);
	p_int(&p, now);
	st = pq_exec(s, P_INVITE_REPLACE_EXPIRED, &p);
	if (st != STORE_OK)
		goto out;
	memset(&p, 0, sizeof(p));
	p_text(&p, i->id);
	p_text(&p, i->account_id);
	p_text(&p, i->email);
	p_text(&p, user_group_name(i->group));
	p_int(&p, i->invited_at);
	p_opt_text(&p, i->invited_by);
	p_int(&p, i->expires_at);
	/*
	 * The unique index decides, also against another replica's insert (this
	 * one waits for it); nothing inserted means a conflict, and the
	 * transaction goes on, so a read can tell which.
	 */
	r = pq_run(s, P_INVITE_INSERT, &p, &st);
	if (r != NULL) {
		if (PQntuples(r) == 0) {
			st = STORE_CONFLICT;
			*why = invite_pending_one(s, i->account_id, i->email, now, &pending) ==
			               STORE_OK
			           ? INVITE_CONFLICT_PENDING
			           : INVITE_CONFLICT_ID;
		}
		PQclear(r);
	}
out:
	return tx_leave(s, began, st);
}

static enum store_status pg_invite_get(struct store *base, const char *account_id, const char *id,
                                       struct store_invite *out)
{
	return invite_lookup(pg(base), P_INVITE_GET, account_id, id, out);
}

static enum store_status pg_invite_by_email(struct store *base, const char *account_id,
                                            const char *email, struct store_invite *out)
{
	return invite_lookup(pg(base), P_INVITE_BY_EMAIL, account_id, email, out);
}

static enum store_status pg_invite_list(struct store *base, const char *account_id,
                                        struct store_invite **out, size_t *n)
{
	struct pq_params p = {0};

	p_text(&p, account_id);
	return fetch_list(pg(base), P_INVITE_LIST, &p, read_invite, sizeof(**out), (void *)out, n);
}

static enum store_status pg_invites_pending(struct store *base, const char *email, int64_t now,
                                            size_t max, struct store_invite **out, size_t *n)
{
	int64_t limit = max > INT64_MAX ? INT64_MAX : (int64_t)max;
	struct pq_params p = {0};

	if (email)
		p_text(&p, email);
	p_int(&p, now);
	p_int(&p, limit);
	return fetch_list(pg(base), email ? P_INVITE_PENDING_EMAIL : P_INVITE_PENDING_ALL, &p,
	                  read_invite, sizeof(**out), (void *)out, n);
}

static enum store_status pg_invite_revoke(struct store *base, const char *account_id,
                                          const char *id, int64_t now, const char *revoked_by,
                                          struct store_invite *out)
{
	struct pq_params p = {0};
	enum store_status st;

	p_text(&p, account_id);
	p_text(&p, id);
	p_int(&p, now);
	p_opt_text(&p, revoked_by);
	st = fetch_one(pg(base), P_INVITE_REVOKE, &p, read_invite, out);
	/* An accepted invite is not revoked: remove the user instead. */
	if (st == STORE_OK && out->accepted_at != 0)
		st = STORE_CONFLICT;
	return st;
}

static enum store_status pg_invite_accept(struct store *base, struct store_user *u, int64_t now,
                                          struct store_invite *out)
{
	struct pg_store *s = pg(base);
	struct store_invite inv;
	struct pq_params p = {0};
	enum store_status st;
	bool began;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = invite_pending_one(s, u->account_id, u->email, now, &inv);
	if (st != STORE_OK)
		goto out;
	u->group = inv.group;
	/* The user's unique email decides between two first sign-ins at once. */
	st = pg_user_insert(base, u);
	if (st != STORE_OK)
		goto out;
	p_text(&p, inv.account_id);
	p_text(&p, inv.id);
	p_int(&p, now);
	p_text(&p, u->id);
	st = fetch_one(s, P_INVITE_ACCEPT, &p, read_invite, out);
out:
	return tx_leave(s, began, st);
}

static enum store_status pg_user_list_all(struct store *base, size_t max, struct store_user **out,
                                          size_t *n)
{
	struct pq_params p = {0};

	p_int(&p, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	return fetch_list(pg(base), P_USER_LIST_ALL, &p, read_user, sizeof(**out), (void *)out, n);
}

/* ---- audit trail, retention, counts, facts ---- */

static enum store_status pg_tx_enter(struct store *base, bool *began)
{
	return tx_enter(pg(base), began);
}

static enum store_status pg_tx_leave(struct store *base, bool began, enum store_status st)
{
	return tx_leave(pg(base), began, st);
}

static enum store_status pg_audit_insert(struct store *base, struct store_audit_event *e)
{
	struct pq_params p = {0};

	p_text(&p, e->account_id);
	p_int(&p, e->at);
	p_text(&p, e->actor_type);
	p_opt_text(&p, e->actor_id);
	p_opt_text(&p, e->credential);
	p_text(&p, e->action);
	p_opt_text(&p, e->object_type);
	p_opt_text(&p, e->object_id);
	p_opt_text(&p, e->client);
	p_text(&p, e->outcome);
	p_opt_int(&p, e->status);
	p_opt_text(&p, e->detail);
	return insert_returning_id(pg(base), P_AUDIT_INSERT, &p, &e->id);
}

static enum store_status read_audit(const PGresult *r, int row, void *out)
{
	return read_shape(&store_audit_row, r, row, out);
}

/* The prefix of an action filter "database.*" ("database."); false when it is not one. */
static bool action_prefix(const char *action, char *out, size_t outsize)
{
	size_t len = strlen(action);

	if (len < 2 || action[len - 1] != '*' || len > outsize)
		return false;
	/* Only the trailing '*' may be a wildcard, as for SQLite's GLOB. */
	if (strcspn(action, "*?[]") != len - 1)
		return false;
	memcpy(out, action, len - 1);
	out[len - 1] = '\0';
	return true;
}

static enum store_status pg_audit_list(struct store *base, const char *account_id,
                                       const struct store_audit_filter *f,
                                       struct store_audit_event **out, size_t *n)
{
	char prefix[STORE_AUDIT_ACTION_SIZE + 1];
	bool by_prefix = f->action && action_prefix(f->action, prefix, sizeof(prefix));
	struct pq_params p = {0};

	p_text(&p, account_id);
	p_opt_int(&p, f->since);
	p_opt_int(&p, f->until);
	p_opt_text(&p, by_prefix ? NULL : f->action);
	p_opt_text(&p, by_prefix ? prefix : NULL);
	p_opt_text(&p, f->actor);
	p_opt_int(&p, f->before_id);
	p_int(&p, f->limit > 0 && f->limit < INT32_MAX ? (int64_t)f->limit : 1);
	return fetch_list(pg(base), P_AUDIT_LIST, &p, read_audit, sizeof(**out), (void *)out, n);
}

/* Runs a DELETE that takes one time bound; *deleted (when given) gets how many rows. */
static enum store_status delete_before(struct pg_store *s, enum pq_id id, int64_t before,
                                       int64_t *deleted)
{
	struct pq_params p = {0};
	enum store_status st;
	PGresult *r;

	p_int(&p, before);
	r = pq_run(s, id, &p, &st);
	if (r == NULL)
		return st;
	if (deleted)
		*deleted = atoll(PQcmdTuples(r));
	PQclear(r);
	return STORE_OK;
}

static enum store_status pg_audit_prune(struct store *base, int64_t before, int64_t *deleted)
{
	return delete_before(pg(base), P_AUDIT_PRUNE, before, deleted);
}

static enum store_status pg_tokens_prune(struct store *base, int64_t before, int64_t *mgmt,
                                         int64_t *db)
{
	struct pg_store *s = pg(base);
	enum store_status st;
	bool began;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = delete_before(s, P_PRUNE_MGMT_TOKENS, before, mgmt);
	if (st == STORE_OK)
		st = delete_before(s, P_PRUNE_DB_PERMISSIONS, before, NULL);
	if (st == STORE_OK)
		st = delete_before(s, P_PRUNE_DB_TOKENS, before, db);
	return tx_leave(s, began, st);
}

static enum store_status pg_deleted_purge(struct store *base, int64_t before, int64_t *databases,
                                          int64_t *tables)
{
	struct pg_store *s = pg(base);
	enum store_status st;
	bool began;

	st = tx_enter(s, &began);
	if (st != STORE_OK)
		return st;
	st = delete_before(s, P_PURGE_TABLES, before, tables);
	if (st == STORE_OK)
		st = delete_before(s, P_PURGE_DATABASES, before, databases);
	return tx_leave(s, began, st);
}

static enum store_status pg_database_name_held(struct store *base, const char *account_id,
                                               const char *cluster_id, const char *name,
                                               int64_t since, int64_t *deleted_at)
{
	struct pq_params p = {0};
	enum store_status st;
	PGresult *r;

	p_text(&p, account_id);
	p_text(&p, cluster_id);
	p_text(&p, name);
	p_int(&p, since);
	r = pq_run(pg(base), P_DB_NAME_HELD, &p, &st);
	if (r == NULL)
		return st;
	*deleted_at = PQntuples(r) > 0 ? get_int(r, 0, 0) : 0;
	PQclear(r);
	return *deleted_at == 0 ? STORE_NOT_FOUND : STORE_OK;
}

static enum store_status pg_account_delete(struct store *base, const char *account_id)
{
	struct pg_store *s = pg(base);
	enum store_status st;
	bool began;
	int64_t deleted = 0;

	st = tx_enter(s, &began);
	for (enum pq_id id = P_ACCOUNT_DELETE_DBPERMS;
	     id <= P_ACCOUNT_DELETE_ACCOUNT && st == STORE_OK; id++) {
		struct pq_params p = {0};
		PGresult *r;

		p_text(&p, account_id);
		r = pq_run(s, id, &p, &st);
		if (r == NULL)
			break;
		deleted = atoll(PQcmdTuples(r));
		PQclear(r);
	}
	if (st == STORE_OK && deleted == 0) /* the last statement: the account's own row */
		st = STORE_NOT_FOUND;
	return tx_leave(s, began, st);
}

static enum store_status count_states(struct pg_store *s, enum pq_id id, int64_t now,
                                      int64_t counts[TOKEN_STATE_COUNT],
                                      int64_t expiring[STORE_EXPIRING_WINDOWS])
{
	struct pq_params p = {0};
	enum store_status st;
	PGresult *r;

	p_int(&p, now);
	for (int i = 0; i < STORE_EXPIRING_WINDOWS; i++)
		p_int(&p, now + store_expiring_days[i] * STORE_DAY_MS);
	r = pq_run(s, id, &p, &st);
	if (r == NULL)
		return st;
	for (int i = 0; i < TOKEN_STATE_COUNT; i++)
		counts[i] = 0;
	for (int i = 0; i < STORE_EXPIRING_WINDOWS; i++)
		expiring[i] = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t state = get_int(r, i, 0);

		if (state >= 0 && state < TOKEN_STATE_COUNT)
			counts[state] = get_int(r, i, 1);
		/* only active tokens are about to expire */
		for (int w = 0; state == TOKEN_STATE_ACTIVE && w < STORE_EXPIRING_WINDOWS; w++)
			expiring[w] = get_int(r, i, 2 + w);
	}
	PQclear(r);
	return STORE_OK;
}

static enum store_status pg_token_counts(struct store *base, int64_t now,
                                         struct store_token_counts *out)
{
	struct pg_store *s = pg(base);
	struct store_token_counts c;
	enum store_status st;
	bool began;

	st = pg_read_begin(base, &began);
	if (st != STORE_OK)
		return st;
	st = count_states(s, P_COUNT_MGMT_TOKENS, now, c.mgmt, c.mgmt_expiring);
	if (st == STORE_OK)
		st = count_states(s, P_COUNT_DB_TOKENS, now, c.db, c.db_expiring);
	pg_read_end(base, began);
	if (st == STORE_OK)
		*out = c;
	return st;
}

static enum store_status pg_meta_get(struct store *base, const char *name, char *out,
                                     size_t outsize)
{
	struct pq_params p = {0};
	enum store_status st;
	PGresult *r;

	p_text(&p, name);
	r = pq_run(pg(base), P_META_GET, &p, &st);
	if (r == NULL)
		return st;
	if (PQntuples(r) == 0)
		st = STORE_NOT_FOUND;
	else if (!get_text(r, 0, 0, out, outsize))
		st = bad_row("mgmtd_settings", "value");
	PQclear(r);
	return st;
}

static enum store_status pg_meta_set(struct store *base, const char *name, const char *value)
{
	struct pq_params p = {0};

	p_text(&p, name);
	p_text(&p, value);
	return pq_exec(pg(base), P_META_SET, &p);
}

static enum store_status pg_meta_claim(struct store *base, const char *name, const char *value,
                                       char *recorded, size_t size)
{
	struct pq_params p = {0};
	enum store_status st;

	p_text(&p, name);
	p_text(&p, value);
	st = pq_exec(pg(base), P_META_CLAIM, &p);
	/* A statement of its own, so that it sees the winner's committed row. */
	return st == STORE_OK ? pg_meta_get(base, name, recorded, size) : st;
}

/* ---- test harness ---- */

/* Runs one statement of ours that returns no rows (sql is built from store_plain_name names). */
static enum store_status exec_plain(struct pg_store *s, const char *sql)
{
	PGresult *r = PQexec(s->conn, sql);
	enum store_status st =
	    PQresultStatus(r) == PGRES_COMMAND_OK ? STORE_OK : pq_fail(s, r, sql);

	PQclear(r);
	return st;
}

/* "schema.name" or "name", each part a plain_name: what pg_get_serial_sequence gives ours. */
static bool plain_qualified_name(const char *name)
{
	const char *dot = strchr(name, '.');
	char schema[64];

	if (dot == NULL)
		return store_plain_name(name);
	if ((size_t)(dot - name) >= sizeof(schema))
		return false;
	memcpy(schema, name, (size_t)(dot - name));
	schema[dot - name] = '\0';
	return store_plain_name(schema) && store_plain_name(dot + 1);
}

/*
 * DELETE, not TRUNCATE: other connections' snapshots keep seeing the old rows
 * until the reset commits. Ids start again from 1, so that a seed gets the
 * ids it gets after a fresh start, on either backend. ALTER SEQUENCE RESTART
 * is transactional (a rollback keeps the old counters, so no id is handed out
 * twice) and locks only the sequence: readers go on, and an insert meanwhile
 * waits for the reset to end. The sequences go first: a DELETE leaves
 * deferred key checks pending.
 */
static enum store_status pg_clear_all(struct store *base)
{
	struct pg_store *s = pg(base);
	enum store_status st;
	PGresult *names = NULL, *seqs = NULL;
	char sql[256];

	if (!s->in_tx) {
		log_error("store: store_clear_all outside a transaction");
		return STORE_ERROR;
	}
	/* Foreign keys are DEFERRABLE: checked at COMMIT, so any order of DELETEs will do. */
	st = exec_plain(s, "SET CONSTRAINTS ALL DEFERRED");
	if (st != STORE_OK)
		return st;
	seqs = pq_run(s, P_IDENTITY_COLUMNS, NULL, &st);
	for (int i = 0; seqs && st == STORE_OK && i < PQntuples(seqs); i++) {
		const char *seq = PQgetvalue(seqs, i, 0);

		if (!plain_qualified_name(seq)) {
			log_error("store: an id sequence this build cannot restart");
			st = STORE_ERROR;
			break;
		}
		snprintf(sql, sizeof(sql), "ALTER SEQUENCE %s RESTART", seq);
		st = exec_plain(s, sql);
	}
	if (st == STORE_OK)
		names = pq_run(s, P_TABLE_NAMES, NULL, &st);
	for (int i = 0; names && st == STORE_OK && i < PQntuples(names); i++) {
		const char *name = PQgetvalue(names, i, 0);

		if (!store_plain_name(name)) {
			log_error("store: a table name this build cannot clear");
			st = STORE_ERROR;
			break;
		}
		snprintf(sql, sizeof(sql), "DELETE FROM \"%s\"", name);
		st = exec_plain(s, sql);
	}
	PQclear(seqs);
	PQclear(names);
	return st;
}

/* ---- the webhook's outbox ---- */

static enum store_status read_outbox(const PGresult *r, int row, void *out)
{
	return read_shape(&store_outbox_row, r, row, out);
}

static enum store_status pg_outbox_insert(struct store *base, const struct store_outbox_event *e)
{
	struct pq_params p = {0};

	p_text(&p, e->id);
	p_opt_text(&p, e->account_id);
	p_text(&p, e->type);
	p_text(&p, e->body);
	p_int(&p, e->created_at);
	p_int(&p, e->attempts);
	p_int(&p, e->next_attempt_at);
	return pq_exec(pg(base), P_OUTBOX_INSERT, &p);
}

static enum store_status pg_outbox_claim(struct store *base, int64_t now, int64_t lease_until,
                                         size_t max, struct store_outbox_event **out, size_t *n)
{
	struct pq_params p = {0};

	p_int(&p, now);
	p_int(&p, lease_until);
	p_int(&p, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	return fetch_list(pg(base), P_OUTBOX_CLAIM, &p, read_outbox, sizeof(**out), out, n);
}

static enum store_status pg_outbox_delivered(struct store *base, const char *id)
{
	struct pq_params p = {0};

	p_text(&p, id);
	return change_one(pg(base), P_OUTBOX_DELIVERED, &p);
}

static enum store_status pg_outbox_retry(struct store *base, const char *id, int64_t attempts,
                                         int64_t next_attempt_at, const char *last_error)
{
	struct pq_params p = {0};

	p_text(&p, id);
	p_int(&p, attempts);
	p_int(&p, next_attempt_at);
	p_opt_text(&p, last_error);
	return change_one(pg(base), P_OUTBOX_RETRY, &p);
}

static enum store_status pg_outbox_pending(struct store *base, int64_t *count, int64_t *oldest)
{
	enum store_status st;
	PGresult *r = pq_run(pg(base), P_OUTBOX_PENDING, NULL, &st);

	if (r == NULL)
		return st;
	if (PQntuples(r) == 1) {
		*count = get_int(r, 0, 0);
		*oldest = get_int(r, 0, 1);
	} else {
		st = STORE_ERROR;
	}
	PQclear(r);
	return st;
}

/* ---- snapshots ---- */

static enum store_status pg_table_names(struct store *base, char names[][64], size_t max, size_t *n)
{
	struct pg_store *s = pg(base);
	enum store_status st;
	PGresult *r = pq_run(s, P_TABLE_NAMES, NULL, &st);

	*n = 0;
	for (int i = 0; r && i < PQntuples(r); i++) {
		const char *name = PQgetvalue(r, i, 0);

		if (*n == max || !store_plain_name(name)) {
			log_error("store: a table name this build cannot handle");
			st = STORE_ERROR;
			break;
		}
		memcpy(names[(*n)++], name, strlen(name) + 1);
	}
	PQclear(r);
	return st;
}

/* Field (row, col) as a snapshot value; *unescaped is bytea's copy, freed by the caller. */
static bool field_value(const PGresult *r, int row, int col, struct store_value *out,
                        unsigned char **unescaped)
{
	const char *text = PQgetvalue(r, row, col);
	char *end;

	memset(out, 0, sizeof(*out));
	if (PQgetisnull(r, row, col)) {
		out->type = STORE_VALUE_NULL;
		return true;
	}
	switch (PQftype(r, col)) {
	case 16: /* bool */
		out->type = STORE_VALUE_INT;
		out->i = text[0] == 't';
		return true;
	case 20: /* int8 */
	case 21: /* int2 */
	case 23: /* int4 */
		out->type = STORE_VALUE_INT;
		errno = 0;
		out->i = strtoll(text, &end, 10);
		return errno == 0 && end != text && *end == '\0';
	case 17: /* bytea */
		out->type = STORE_VALUE_BLOB;
		*unescaped = PQunescapeBytea((const unsigned char *)text, &out->len);
		out->blob = *unescaped;
		return *unescaped != NULL;
	default:
		out->type = STORE_VALUE_TEXT;
		out->text = text;
		return true;
	}
}

/*
 * seq: the order rows were made in, our tie-breaker, which a snapshot leaves out and
 * a load makes again in row order.
 */
static enum store_status pg_rows_dump(struct store *base, const char *table, const char *filter,
                                      const char *order, const char *account_id,
                                      const struct store_rows_visitor *v)
{
	struct pg_store *s = pg(base);
	const char *columns[STORE_ROW_MAX_COLUMNS];
	struct store_value values[STORE_ROW_MAX_COLUMNS];
	int fields[STORE_ROW_MAX_COLUMNS];
	enum store_status st;
	PGresult *r = NULL;
	size_t ncols = 0;
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\"%s%s ORDER BY %s", table,
	         filter ? " WHERE " : "", filter ? filter : "", order ? order : "seq");
	st = pq_usable(s);
	if (st != STORE_OK)
		return st;
	r = PQexecParams(s->conn, sql, filter ? 1 : 0, NULL, filter ? &account_id : NULL, NULL,
	                 NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		st = pq_fail(s, r, sql);
		goto out;
	}
	for (int i = 0; i < PQnfields(r); i++) {
		if (strcmp(PQfname(r, i), "seq") == 0)
			continue;
		if (ncols == STORE_ROW_MAX_COLUMNS) {
			log_error("store: table %s has more columns than a snapshot takes", table);
			st = STORE_ERROR;
			goto out;
		}
		fields[ncols] = i;
		columns[ncols++] = PQfname(r, i);
	}
	if (!v->table(v->ctx, table, ncols, columns)) {
		st = STORE_ERROR;
		goto out;
	}
	for (int row = 0; row < PQntuples(r) && st == STORE_OK; row++) {
		unsigned char *unescaped[STORE_ROW_MAX_COLUMNS] = {0};

		for (size_t i = 0; i < ncols && st == STORE_OK; i++)
			if (!field_value(r, row, fields[i], &values[i], &unescaped[i])) {
				log_error("store: a value of %s.%s a snapshot cannot take", table,
				          columns[i]);
				st = STORE_ERROR;
			}
		if (st == STORE_OK && !v->row(v->ctx, table, ncols, values))
			st = STORE_ERROR;
		for (size_t i = 0; i < ncols; i++)
			PQfreemem(unescaped[i]);
	}
out:
	PQclear(r);
	return st;
}

static enum store_status pg_rows_load_begin(struct store *base)
{
	struct pg_store *s = pg(base);

	if (!s->in_tx) {
		log_error("store: a snapshot load outside a transaction");
		return STORE_ERROR;
	}
	/* Rows of a table may name rows loaded after them; keys are DEFERRABLE. */
	return exec_plain(s, "SET CONSTRAINTS ALL DEFERRED");
}

/* Ids as loaded, whatever the identity would give: OVERRIDING SYSTEM VALUE. */
static enum store_status pg_row_load(struct store *base, const char *table, size_t ncols,
                                     const char *const *columns, const struct store_value *values)
{
	struct pg_store *s = pg(base);
	const char *params[STORE_ROW_MAX_COLUMNS];
	int lengths[STORE_ROW_MAX_COLUMNS], formats[STORE_ROW_MAX_COLUMNS];
	char numbers[STORE_ROW_MAX_COLUMNS][24];
	enum store_status st;
	PGresult *r;
	char sql[2048];

	if (!store_row_insert_sql(sql, sizeof(sql), table, ncols, columns,
	                          " OVERRIDING SYSTEM VALUE ", '$')) {
		log_error("store: a snapshot row too wide for %s", table);
		return STORE_ERROR;
	}
	for (size_t i = 0; i < ncols; i++) {
		lengths[i] = 0;
		formats[i] = 0;
		switch (values[i].type) {
		case STORE_VALUE_INT:
			snprintf(numbers[i], sizeof(numbers[i]), "%lld", (long long)values[i].i);
			params[i] = numbers[i];
			break;
		case STORE_VALUE_TEXT:
			if (utf8_length(values[i].text) < 0) {
				log_error("store: a snapshot text of %s.%s is not UTF-8", table,
				          columns[i]);
				return STORE_ERROR;
			}
			params[i] = values[i].text;
			break;
		case STORE_VALUE_BLOB:
			params[i] = (const char *)values[i].blob;
			lengths[i] = (int)values[i].len;
			formats[i] = 1; /* binary: bytea as is */
			break;
		default:
			params[i] = NULL;
			break;
		}
	}
	st = pq_usable(s);
	if (st != STORE_OK)
		return st;
	r = PQexecParams(s->conn, sql, (int)ncols, NULL, params, lengths, formats, 0);
	st = PQresultStatus(r) == PGRES_COMMAND_OK ? STORE_OK : pq_fail(s, r, sql);
	PQclear(r);
	return st;
}

/*
 * Each identity past the largest id loaded, never back: like SQLite's
 * AUTOINCREMENT, an id handed out once (then deleted) is not handed out again.
 */
static enum store_status pg_rows_load_end(struct store *base)
{
	struct pg_store *s = pg(base);
	enum store_status st;
	PGresult *ids = pq_run(s, P_IDENTITY_COLUMNS, NULL, &st);
	char sql[512];

	for (int i = 0; ids && st == STORE_OK && i < PQntuples(ids); i++) {
		const char *seq = PQgetvalue(ids, i, 0), *table = PQgetvalue(ids, i, 1),
		           *column = PQgetvalue(ids, i, 2);
		PGresult *r;

		if (!plain_qualified_name(seq) || !store_plain_name(table) ||
		    !store_plain_name(column)) {
			log_error("store: an id sequence this build cannot move");
			st = STORE_ERROR;
			break;
		}
		snprintf(sql, sizeof(sql),
		         "SELECT setval('%s', m) FROM (SELECT max(\"%s\") AS m FROM \"%s\") x"
		         " WHERE m >= COALESCE(pg_sequence_last_value('%s'), 0)",
		         seq, column, table, seq);
		r = PQexec(s->conn, sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			st = pq_fail(s, r, sql);
		PQclear(r);
	}
	PQclear(ids);
	return st;
}

/* ---- the table store_common.c calls through ---- */

static const struct store_ops pg_ops = {
    .name = "postgres",
    .close = pg_close,
    .schema_version = pg_schema_version,
    .ping = pg_ping,
    .tx_begin = pg_tx_begin,
    .tx_commit = pg_tx_commit,
    .tx_rollback = pg_tx_rollback,
    .read_begin = pg_read_begin,
    .read_end = pg_read_end,
    .change_epoch = pg_change_epoch,
    .changes_heard = pg_changes_heard,
    .savepoint = pg_savepoint,
    .savepoint_release = pg_savepoint_release,
    .savepoint_rollback = pg_savepoint_rollback,
    .commits_serialized = false,
    .account_ensure = pg_account_ensure,
    .account_get = pg_account_get,
    .cluster_ensure = pg_cluster_ensure,
    .cluster_get = pg_cluster_get,
    .cluster_list = pg_cluster_list,
    .user_insert = pg_user_insert,
    .user_get = pg_user_get,
    .user_by_email = pg_user_by_email,
    .user_by_subject = pg_user_by_subject,
    .user_by_email_unlinked = pg_user_by_email_unlinked,
    .users_by_email = pg_users_by_email,
    .user_link = pg_user_link,
    .users_unbound = pg_users_unbound,
    .users_bind_issuer = pg_users_bind_issuer,
    .user_list = pg_user_list,
    .user_update = pg_user_update,
    .user_delete = pg_user_delete,
    .admin_count = pg_admin_count,
    .mgmt_token_insert = pg_mgmt_token_insert,
    .mgmt_token_get = pg_mgmt_token_get,
    .mgmt_token_by_hash = pg_mgmt_token_by_hash,
    .mgmt_token_list = pg_mgmt_token_list,
    .mgmt_token_scan = pg_mgmt_token_scan,
    .mgmt_token_revoke = pg_mgmt_token_revoke,
    .mgmt_token_touch = pg_mgmt_token_touch,
    .mgmt_token_rotate = pg_mgmt_token_rotate,
    .mgmt_token_suspend = pg_mgmt_token_suspend,
    .mgmt_token_touch_previous = pg_mgmt_token_touch_previous,
    .database_insert = pg_database_insert,
    .database_get = pg_database_get,
    .database_get_id = pg_database_get_id,
    .database_list = pg_database_list,
    .database_scan = pg_database_scan,
    .database_update = pg_database_update,
    .database_delete = pg_database_delete,
    .database_rename = pg_database_rename,
    .database_undelete = pg_database_undelete,
    .table_insert = pg_table_insert,
    .table_get = pg_table_get,
    .table_get_id = pg_table_get_id,
    .table_list = pg_table_list,
    .table_delete = pg_table_delete,
    .table_rename = pg_table_rename,
    .table_undelete = pg_table_undelete,
    .table_set_iceberg = pg_table_set_iceberg,
    .db_token_insert = pg_db_token_insert,
    .db_token_get = pg_db_token_get,
    .db_token_by_hash = pg_db_token_by_hash,
    .db_token_list = pg_db_token_list,
    .db_token_scan = pg_db_token_scan,
    .db_token_update = pg_db_token_update,
    .db_token_revoke = pg_db_token_revoke,
    .db_token_rotate = pg_db_token_rotate,
    .db_token_suspend = pg_db_token_suspend,
    .db_token_touch_previous = pg_db_token_touch_previous,
    .db_authorize = pg_db_authorize,
    .db_authorize_plan = pg_db_authorize_plan,
    .clear_all = pg_clear_all,
    .rows_dump = pg_rows_dump,
    .table_names = pg_table_names,
    .rows_load_begin = pg_rows_load_begin,
    .row_load = pg_row_load,
    .rows_load_end = pg_rows_load_end,
    .outbox_insert = pg_outbox_insert,
    .outbox_claim = pg_outbox_claim,
    .outbox_delivered = pg_outbox_delivered,
    .outbox_retry = pg_outbox_retry,
    .outbox_pending = pg_outbox_pending,
    .account_delete = pg_account_delete,
    .invite_insert = pg_invite_insert,
    .invite_get = pg_invite_get,
    .invite_by_email = pg_invite_by_email,
    .invite_list = pg_invite_list,
    .invites_pending = pg_invites_pending,
    .invite_revoke = pg_invite_revoke,
    .invite_accept = pg_invite_accept,
    .user_list_all = pg_user_list_all,
    .tx_enter = pg_tx_enter,
    .tx_leave = pg_tx_leave,
    .audit_insert = pg_audit_insert,
    .audit_list = pg_audit_list,
    .audit_prune = pg_audit_prune,
    .tokens_prune = pg_tokens_prune,
    .deleted_purge = pg_deleted_purge,
    .database_name_held = pg_database_name_held,
    .token_counts = pg_token_counts,
    .db_token_touch = pg_db_token_touch,
    .tokens_expiry_claim = pg_tokens_expiry_claim,
    .meta_get = pg_meta_get,
    .meta_set = pg_meta_set,
    .meta_claim = pg_meta_claim,
};
