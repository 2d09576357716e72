/*
 * test_store_contract.c - store.h's promises, run against every backend:
 * SQLite in a fresh file, and PostgreSQL when MGMTD_TEST_POSTGRES_URL names
 * a database (`make unit` runs this binary under tests/tools/pgserver.py, so
 * both always run there). Only store.h is used: what holds here holds for
 * whichever backend a server is given. SQLite's own details (files, WAL,
 * pragmas) are in test_store.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "store.h"
#include "timeutil.h"

#define ACCT  "11111111-1111-4111-8111-111111111111"
#define ACCT2 "22222222-2222-4222-8222-222222222222"
#define CL1   "33333333-3333-4333-8333-333333333331"
#define U1    "44444444-4444-4444-8444-444444444441"
#define U2    "44444444-4444-4444-8444-444444444442"
#define U3    "44444444-4444-4444-8444-444444444443"
#define T1    "55555555-5555-4555-8555-555555555551"
#define T2    "55555555-5555-4555-8555-555555555552"
#define T3    "55555555-5555-4555-8555-555555555553"
#define ISS   "https://idp.example.test/"
#define ISS2  "https://other-idp.example.test"

/* The backend under test, chosen by main() for each run of the group. */
static struct store_target target;
static char sqlite_dir[64], sqlite_path[128];

struct fixture {
	struct store *s;
};

static struct store *open_target(void)
{
	struct store *s = NULL;
	char err[512];

	if (store_connect(&target, &s, err, sizeof(err)) != 0)
		fail_msg("store_connect: %s", err);
	return s;
}

/* Every test starts from an empty store (and an unbound token key). */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (target.backend == STORE_BACKEND_SQLITE)
		unlink(sqlite_path);
	f->s = open_target();
	if (store_tx_begin(f->s) != STORE_OK || store_clear_all(f->s) != STORE_OK ||
	    store_tx_commit(f->s) != STORE_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char wal[160], shm[160];

	store_close(f->s);
	free(f);
	if (target.backend == STORE_BACKEND_SQLITE) {
		snprintf(wal, sizeof(wal), "%s-wal", sqlite_path);
		snprintf(shm, sizeof(shm), "%s-shm", sqlite_path);
		unlink(sqlite_path);
		unlink(wal);
		unlink(shm);
	}
	return 0;
}

static void add_account(struct store *s, const char *id)
{
	struct store_account a = {.created_at = 1000};

	strcpy(a.id, id);
	strcpy(a.name, "Account");
	assert_int_equal(store_account_ensure(s, &a), STORE_OK);
}

static void add_cluster(struct store *s)
{
	struct store_cluster c = {.created_at = 1000, .category = 7}, got;

	strcpy(c.id, CL1);
	strcpy(c.account_id, ACCT);
	strcpy(c.name, "c1");
	strcpy(c.url, "https://c1.example");
	assert_int_equal(store_cluster_ensure(s, &c), STORE_OK);
	/* the category is kept, and part of what "the same cluster" means */
	assert_int_equal(store_cluster_get(s, ACCT, CL1, &got), STORE_OK);
	assert_int_equal(got.category, 7);
	c.category = 1;
	assert_int_equal(store_cluster_ensure(s, &c), STORE_CONFLICT);
	c.category = 7;
	assert_int_equal(store_cluster_ensure(s, &c), STORE_OK);
}

static struct store_user make_user(const char *id, const char *email, enum user_group g,
                                   const char *sub)
{
	struct store_user u;

	memset(&u, 0, sizeof(u));
	strcpy(u.id, id);
	strcpy(u.account_id, ACCT);
	strcpy(u.email, email);
	u.group = g;
	strcpy(u.idp_subject, sub);
	if (sub[0])
		strcpy(u.idp_issuer, ISS);
	u.created_at = 5000; /* one instant for all: ties keep insertion order */
	return u;
}

static struct store_user make_user_at(const char *id, const char *email, enum user_group g,
                                      const char *sub, int64_t created_at)
{
	struct store_user u = make_user(id, email, g, sub);

	u.created_at = created_at;
	return u;
}

static void fill_hash(unsigned char h[TOKEN_HASH_LEN], unsigned char seed)
{
	for (int i = 0; i < TOKEN_HASH_LEN; i++)
		h[i] = (unsigned char)(seed * 31 + i);
}

static struct store_mgmt_token make_token(const char *id, int64_t expires_at)
{
	struct store_mgmt_token t;

	memset(&t, 0, sizeof(t));
	strcpy(t.id, id);
	strcpy(t.account_id, ACCT);
	strcpy(t.description, "a token");
	strcpy(t.prefix, "M.V1.abcd");
	strcpy(t.created_by, U1);
	t.created_at = 7000;
	t.expires_at = expires_at;
	return t;
}

/* ---- the tests ---- */

static void test_accounts_and_clusters(void **state)
{
	struct fixture *f = *state;
	struct store_account a = {.created_at = 1}, got;
	struct store_cluster *list = NULL;
	size_t n = 0;

	add_account(f->s, ACCT);
	add_account(f->s, ACCT); /* the same again: fine */
	strcpy(a.id, ACCT);
	strcpy(a.name, "Another name");
	assert_int_equal(store_account_ensure(f->s, &a), STORE_CONFLICT);
	assert_int_equal(store_account_get(f->s, ACCT, &got), STORE_OK);
	assert_string_equal(got.name, "Account");
	assert_int_equal(store_account_get(f->s, ACCT2, &got), STORE_NOT_FOUND);
	add_cluster(f->s);
	add_cluster(f->s);
	assert_int_equal(store_cluster_list(f->s, ACCT, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].url, "https://c1.example");
	free(list);
}

static void test_users_and_emails(void **state)
{
	struct fixture *f = *state;
	struct store_user a = make_user(U1, "Ann@Example.com", GROUP_ADMIN, "sub-a");
	struct store_user b = make_user(U2, "ann@example.COM", GROUP_MEMBER, "");
	struct store_user c = make_user(U3, "\xc3\x89le@example.com", GROUP_MEMBER, ""); /* Éle */
	struct store_user got, *list = NULL;
	size_t n = 0;

	add_account(f->s, ACCT);
	assert_int_equal(store_user_insert(f->s, &a), STORE_OK);
	/* ASCII case is ignored... */
	assert_int_equal(store_user_insert(f->s, &b), STORE_CONFLICT);
	assert_int_equal(store_user_by_email(f->s, ACCT, "ANN@example.com", &got), STORE_OK);
	assert_string_equal(got.id, U1);
	assert_string_equal(got.email, "Ann@Example.com"); /* stored as given */
	/* ...but only ASCII case: \xc3\xa9 (é) is another address than \xc3\x89 (É) */
	assert_int_equal(store_user_insert(f->s, &c), STORE_OK);
	strcpy(b.email, "\xc3\xa9le@example.com");
	assert_int_equal(store_user_insert(f->s, &b), STORE_OK);
	/* an identity (issuer, subject) is unique in the account */
	strcpy(c.id, "44444444-4444-4444-8444-444444444449");
	strcpy(c.email, "other@example.com");
	strcpy(c.idp_subject, "sub-a");
	strcpy(c.idp_issuer, ISS);
	assert_int_equal(store_user_insert(f->s, &c), STORE_CONFLICT);

	assert_int_equal(store_user_for_idp(f->s, ACCT, ISS, "sub-a", "", &got), STORE_OK);
	assert_string_equal(got.id, U1);
	assert_string_equal(got.idp_issuer, ISS);
	/* by email only for a user without a subject */
	assert_int_equal(store_user_for_idp(f->s, ACCT, ISS, "nobody", "ann@example.com", &got),
	                 STORE_NOT_FOUND);
	assert_int_equal(
	    store_user_for_idp(f->s, ACCT, ISS, "nobody", "\xc3\xa9le@example.com", &got),
	    STORE_OK);
	assert_string_equal(got.id, U2);

	/* one instant for all three: oldest first means insertion order */
	assert_int_equal(store_user_list(f->s, ACCT, &list, &n), STORE_OK);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].id, U1);
	assert_string_equal(list[1].id, U3);
	assert_string_equal(list[2].id, U2);
	free(list);
	assert_int_equal(store_users_by_email(f->s, "ann@EXAMPLE.com", &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	free(list);

	/* keys that are not UTF-8 (a URL's %ff) find nothing, and fail nothing */
	assert_int_equal(store_user_get(f->s, ACCT, "\xff\xfe", &got), STORE_NOT_FOUND);
	assert_int_equal(store_user_by_email(f->s, ACCT, "\xff@x", &got), STORE_NOT_FOUND);
	assert_int_equal(store_user_get(f->s, ACCT, U1, &got), STORE_OK);

	strcpy(a.id, "44444444-4444-4444-8444-444444444448");
	assert_int_equal(store_user_update(f->s, &a), STORE_NOT_FOUND);
	assert_int_equal(store_user_delete(f->s, ACCT, a.id), STORE_NOT_FOUND);
}

static void test_last_admin(void **state)
{
	struct fixture *f = *state;
	struct store_user a = make_user(U1, "a@example.com", GROUP_ADMIN, "");
	struct store_user b = make_user(U2, "b@example.com", GROUP_ADMIN, "");
	long admins = 0;

	add_account(f->s, ACCT);
	assert_int_equal(store_user_insert(f->s, &a), STORE_OK);
	assert_int_equal(store_user_insert(f->s, &b), STORE_OK);
	a.group = GROUP_MEMBER;
	assert_int_equal(store_user_update(f->s, &a), STORE_OK);
	b.group = GROUP_AUDITOR;
	assert_int_equal(store_user_update(f->s, &b), STORE_LAST_ADMIN);
	assert_int_equal(store_user_delete(f->s, ACCT, U2), STORE_LAST_ADMIN);
	assert_int_equal(store_admin_count(f->s, ACCT, &admins), STORE_OK);
	assert_int_equal(admins, 1);
	/* LAST_ADMIN inside a caller's transaction leaves it usable */
	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	assert_int_equal(store_user_delete(f->s, ACCT, U2), STORE_LAST_ADMIN);
	assert_int_equal(store_user_delete(f->s, ACCT, U1), STORE_OK);
	assert_int_equal(store_tx_commit(f->s), STORE_OK);
	assert_int_equal(store_user_delete(f->s, ACCT, U1), STORE_NOT_FOUND);
}

static void test_management_tokens(void **state)
{
	struct fixture *f = *state;
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN], other[TOKEN_HASH_LEN];
	struct store_mgmt_token t1 = make_token(T1, 0), t2 = make_token(T2, 9000), got, *list;
	size_t n = 0;

	fill_hash(h1, 1);
	fill_hash(h2, 2);
	fill_hash(other, 3);
	add_account(f->s, ACCT);
	assert_int_equal(store_mgmt_token_insert(f->s, &t1, h1), STORE_OK);
	assert_int_equal(store_mgmt_token_insert(f->s, &t1, h2), STORE_CONFLICT); /* id */
	assert_int_equal(store_mgmt_token_insert(f->s, &t2, h1), STORE_CONFLICT); /* hash */
	assert_int_equal(store_mgmt_token_insert(f->s, &t2, h2), STORE_OK);
	assert_int_equal(store_mgmt_token_by_hash(f->s, h2, &got), STORE_OK);
	assert_string_equal(got.id, T2);
	assert_int_equal(got.expires_at, 9000);
	assert_int_equal(got.revoked_at, 0);
	assert_string_equal(got.revoked_by, "");
	assert_int_equal(store_mgmt_token_by_hash(f->s, other, &got), STORE_NOT_FOUND);

	assert_int_equal(store_mgmt_token_list(f->s, ACCT, TOKEN_FILTER_ACTIVE, 9000, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 1); /* t2 expires at 9000: not active at 9000 */
	free(list);
	assert_int_equal(store_mgmt_token_list(f->s, ACCT, TOKEN_FILTER_EXPIRED, 9000, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, T2);
	free(list);

	/* the first revocation stays, whoever revokes again */
	assert_int_equal(store_mgmt_token_revoke(f->s, ACCT, T1, 10000, U1, &got), STORE_OK);
	assert_int_equal(got.revoked_at, 10000);
	assert_int_equal(store_mgmt_token_revoke(f->s, ACCT, T1, 20000, U2, &got), STORE_OK);
	assert_int_equal(got.revoked_at, 10000);
	assert_string_equal(got.revoked_by, U1);
	assert_int_equal(store_mgmt_token_revoke(f->s, ACCT2, T1, 30000, "", &got),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_mgmt_token_list(f->s, ACCT, TOKEN_FILTER_REVOKED, 0, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 1);
	free(list);

	assert_int_equal(store_mgmt_token_touch(f->s, T2, 50000, 60000), STORE_OK);
	assert_int_equal(store_mgmt_token_touch(f->s, T2, 80000, 60000), STORE_OK); /* too soon */
	assert_int_equal(store_mgmt_token_get(f->s, ACCT, T2, &got), STORE_OK);
	assert_int_equal(got.last_used_at, 50000);
}

static void test_databases_and_tables(void **state)
{
	struct fixture *f = *state;
	struct store_database d = {.max_tables = 5, .max_columns_per_table = 7, .created_at = 100},
	                      d2, got, *list = NULL;
	struct store_table t = {.created_at = 100}, tgot;
	size_t n = 0;

	add_account(f->s, ACCT);
	add_cluster(f->s);
	strcpy(d.account_id, ACCT);
	strcpy(d.cluster_id, CL1);
	strcpy(d.name, "a/db");
	strcpy(d.partition_template, "[{\"type\":\"time\",\"value\":\"%Y\"}]");
	assert_int_equal(store_database_insert(f->s, &d), STORE_OK);
	assert_true(d.id > 0);
	d2 = d;
	assert_int_equal(store_database_insert(f->s, &d2), STORE_CONFLICT);
	strcpy(d2.name, "b");
	assert_int_equal(store_database_insert(f->s, &d2), STORE_OK);
	assert_true(d2.id > d.id);
	assert_int_equal(store_database_rename(f->s, ACCT, CL1, "b", "a/db", &got), STORE_CONFLICT);
	assert_int_equal(store_database_delete(f->s, ACCT, CL1, "a/db", 200), STORE_OK);
	/* a deleted database frees its name, and cannot come back while it is taken */
	assert_int_equal(store_database_rename(f->s, ACCT, CL1, "b", "a/db", &got), STORE_OK);
	assert_int_equal(got.id, d2.id);
	assert_int_equal(store_database_undelete(f->s, ACCT, CL1, d.id, &got), STORE_CONFLICT);
	assert_int_equal(store_database_list(f->s, ACCT, CL1, true, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].deleted_at, 200);
	assert_string_equal(list[0].partition_template, d.partition_template);
	free(list);
	assert_int_equal(store_database_rename(f->s, ACCT, CL1, "a/db", "b", &got), STORE_OK);
	assert_int_equal(store_database_undelete(f->s, ACCT, CL1, d.id, &got), STORE_OK);
	assert_int_equal(got.deleted_at, 0);
	assert_int_equal(store_database_undelete(f->s, ACCT, CL1, d.id, &got), STORE_NOT_FOUND);
	d.max_tables = 9;
	assert_int_equal(store_database_update(f->s, &d), STORE_OK);
	assert_int_equal(store_database_get(f->s, ACCT, CL1, "a/db", &got), STORE_OK);
	assert_int_equal(got.max_tables, 9);
	assert_int_equal(store_database_get(f->s, ACCT, CL1, "\xff", &got), STORE_NOT_FOUND);

	t.database_id = d.id;
	strcpy(t.name, "t1");
	assert_int_equal(store_table_insert(f->s, &t), STORE_OK);
	assert_int_equal(store_table_insert(f->s, &t), STORE_CONFLICT);
	assert_int_equal(store_table_delete(f->s, d.id, "t1", 300), STORE_OK);
	assert_int_equal(store_table_delete(f->s, d.id, "t1", 300), STORE_NOT_FOUND);
	assert_int_equal(store_table_undelete(f->s, d.id, t.id, &tgot), STORE_OK);
	assert_int_equal(store_table_rename(f->s, d.id, "t1", "t2", &tgot), STORE_OK);
	assert_string_equal(tgot.name, "t2");
}

/*
 * The test harness's name hold and purge (delays.h): which deleted databases
 * hold a name since when, and what a purge takes: databases deleted before
 * the bound with every table of theirs, and tables deleted before it.
 */
static void test_deleted_hold_and_purge(void **state)
{
	struct fixture *f = *state;
	struct store_database d = {.max_tables = 5, .max_columns_per_table = 7, .created_at = 100},
	                      old, kept, got;
	struct store_table t = {.created_at = 100}, tgot;
	int64_t at = 0, databases = -1, tables = -1, old_table, kept_live, kept_deleted, stale;

	add_account(f->s, ACCT);
	add_cluster(f->s);
	strcpy(d.account_id, ACCT);
	strcpy(d.cluster_id, CL1);
	strcpy(d.name, "x");
	old = kept = d;
	assert_int_equal(store_database_insert(f->s, &old), STORE_OK);
	assert_int_equal(store_database_name_held(f->s, ACCT, CL1, "x", 0, &at), STORE_NOT_FOUND);
	assert_int_equal(store_database_delete(f->s, ACCT, CL1, "x", 1000), STORE_OK);
	assert_int_equal(store_database_insert(f->s, &kept),
	                 STORE_OK); /* the store holds nothing */
	assert_int_equal(store_database_delete(f->s, ACCT, CL1, "x", 5000), STORE_OK);
	/* the latest deletion at or after since */
	assert_int_equal(store_database_name_held(f->s, ACCT, CL1, "x", 1000, &at), STORE_OK);
	assert_int_equal(at, 5000);
	assert_int_equal(store_database_name_held(f->s, ACCT, CL1, "x", 5000, &at), STORE_OK);
	assert_int_equal(at, 5000);
	assert_int_equal(store_database_name_held(f->s, ACCT, CL1, "x", 5001, &at),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_database_name_held(f->s, ACCT, CL1, "y", 0, &at), STORE_NOT_FOUND);
	assert_int_equal(store_database_name_held(f->s, ACCT2, CL1, "x", 0, &at), STORE_NOT_FOUND);

	/* tables: one of the old database, one live and one deleted late in the kept one,
	 * one deleted early in it */
	t.database_id = old.id;
	strcpy(t.name, "t");
	assert_int_equal(store_table_insert(f->s, &t), STORE_OK);
	old_table = t.id;
	t.database_id = kept.id;
	assert_int_equal(store_table_insert(f->s, &t), STORE_OK);
	kept_live = t.id;
	strcpy(t.name, "late");
	assert_int_equal(store_table_insert(f->s, &t), STORE_OK);
	kept_deleted = t.id;
	assert_int_equal(store_table_delete(f->s, kept.id, "late", 4000), STORE_OK);
	strcpy(t.name, "early");
	assert_int_equal(store_table_insert(f->s, &t), STORE_OK);
	stale = t.id;
	assert_int_equal(store_table_delete(f->s, kept.id, "early", 2000), STORE_OK);

	/* nothing deleted before the bound: nothing goes */
	assert_int_equal(store_deleted_purge(f->s, 1000, &databases, &tables), STORE_OK);
	assert_int_equal(databases, 0);
	assert_int_equal(tables, 0);
	assert_int_equal(store_deleted_purge(f->s, 3000, &databases, &tables), STORE_OK);
	assert_int_equal(databases, 1);
	assert_int_equal(tables, 2); /* the old database's, and "early" */
	assert_int_equal(store_database_get_id(f->s, ACCT, CL1, old.id, &got), STORE_NOT_FOUND);
	assert_int_equal(store_database_undelete(f->s, ACCT, CL1, old.id, &got), STORE_NOT_FOUND);
	assert_int_equal(store_table_get_id(f->s, old.id, old_table, &tgot), STORE_NOT_FOUND);
	assert_int_equal(store_table_get_id(f->s, kept.id, stale, &tgot), STORE_NOT_FOUND);
	assert_int_equal(store_table_get_id(f->s, kept.id, kept_live, &tgot), STORE_OK);
	assert_int_equal(store_table_get_id(f->s, kept.id, kept_deleted, &tgot), STORE_OK);
	assert_int_equal(store_database_name_held(f->s, ACCT, CL1, "x", 0, &at), STORE_OK);
	assert_int_equal(at, 5000);
	/* the kept database goes with its tables, live or deleted */
	assert_int_equal(store_deleted_purge(f->s, 5001, &databases, &tables), STORE_OK);
	assert_int_equal(databases, 1);
	assert_int_equal(tables, 2);
	assert_int_equal(store_database_get_id(f->s, ACCT, CL1, kept.id, &got), STORE_NOT_FOUND);
	assert_int_equal(store_database_name_held(f->s, ACCT, CL1, "x", 0, &at), STORE_NOT_FOUND);
}

/* A table's Iceberg export setting: off at first, idempotent, kept by rename and undelete. */
static void test_table_iceberg(void **state)
{
	struct fixture *f = *state;
	struct store_database d = {.max_tables = 5, .max_columns_per_table = 7, .created_at = 100};
	struct store_table t = {.created_at = 100}, other = {.created_at = 101}, got, *list = NULL;
	size_t n = 0;

	add_account(f->s, ACCT);
	add_cluster(f->s);
	strcpy(d.account_id, ACCT);
	strcpy(d.cluster_id, CL1);
	strcpy(d.name, "db");
	assert_int_equal(store_database_insert(f->s, &d), STORE_OK);
	t.database_id = other.database_id = d.id;
	strcpy(t.name, "t1");
	strcpy(other.name, "t2");
	t.iceberg_export = true; /* ignored: a new table starts off */
	assert_int_equal(store_table_insert(f->s, &t), STORE_OK);
	assert_false(t.iceberg_export);
	assert_int_equal(store_table_insert(f->s, &other), STORE_OK);
	assert_int_equal(store_table_get(f->s, d.id, "t1", &got), STORE_OK);
	assert_false(got.iceberg_export);

	assert_int_equal(store_table_set_iceberg(f->s, d.id, "t1", true, &got), STORE_OK);
	assert_int_equal(got.id, t.id);
	assert_string_equal(got.name, "t1");
	assert_true(got.iceberg_export);
	/* enabling an enabled table is no error and changes nothing */
	memset(&got, 0, sizeof(got));
	assert_int_equal(store_table_set_iceberg(f->s, d.id, "t1", true, &got), STORE_OK);
	assert_int_equal(got.id, t.id);
	assert_true(got.iceberg_export);
	/* only that table */
	assert_int_equal(store_table_get(f->s, d.id, "t2", &got), STORE_OK);
	assert_false(got.iceberg_export);
	assert_int_equal(store_table_list(f->s, d.id, false, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_true(list[0].iceberg_export);
	assert_false(list[1].iceberg_export);
	free(list);
	list = NULL;

	/* kept across rename, delete and undelete ("the same ... other table settings") */
	assert_int_equal(store_table_rename(f->s, d.id, "t1", "t3", &got), STORE_OK);
	assert_true(got.iceberg_export);
	assert_int_equal(store_table_delete(f->s, d.id, "t3", 200), STORE_OK);
	assert_int_equal(store_table_set_iceberg(f->s, d.id, "t3", false, &got), STORE_NOT_FOUND);
	assert_int_equal(store_table_list(f->s, d.id, true, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_true(list[0].iceberg_export);
	free(list);
	assert_int_equal(store_table_undelete(f->s, d.id, t.id, &got), STORE_OK);
	assert_true(got.iceberg_export);

	assert_int_equal(store_table_set_iceberg(f->s, d.id, "t3", false, &got), STORE_OK);
	assert_false(got.iceberg_export);
	assert_int_equal(store_table_set_iceberg(f->s, d.id, "t3", false, &got), STORE_OK);
	assert_false(got.iceberg_export);
	assert_int_equal(store_table_get_id(f->s, d.id, t.id, &got), STORE_OK);
	assert_false(got.iceberg_export);
	/* unknown names and another database's id find nothing */
	assert_int_equal(store_table_set_iceberg(f->s, d.id, "t1", true, &got), STORE_NOT_FOUND);
	assert_int_equal(store_table_set_iceberg(f->s, d.id + 1000, "t3", true, &got),
	                 STORE_NOT_FOUND);
}

static void test_database_tokens(void **state)
{
	struct fixture *f = *state;
	/* names with the characters a text[] literal must escape, and a comma */
	static const char *const names[] = {"plain", "with \"quotes\"", "back\\slash", "a,b {c}"};
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN];
	struct store_db_token t, got, *list = NULL;
	struct store_database d = {.max_tables = 1, .max_columns_per_table = 1, .created_at = 1};
	struct store_db_grant g;
	size_t n = 0;

	add_account(f->s, ACCT);
	add_cluster(f->s);
	strcpy(d.account_id, ACCT);
	strcpy(d.cluster_id, CL1);
	strcpy(d.name, "a,b {c}");
	assert_int_equal(store_database_insert(f->s, &d), STORE_OK);
	memset(&t, 0, sizeof(t));
	strcpy(t.id, T1);
	strcpy(t.account_id, ACCT);
	strcpy(t.cluster_id, CL1);
	strcpy(t.description, "reader");
	t.created_at = 10;
	for (size_t i = 0; i < 4; i++) {
		t.permissions[i].action = i % 2 ? DB_ACTION_WRITE : DB_ACTION_READ;
		strcpy(t.permissions[i].resource, names[i]);
	}
	t.permission_count = 4;
	fill_hash(h1, 7);
	fill_hash(h2, 8);
	assert_int_equal(store_db_token_insert(f->s, &t, h1), STORE_OK);
	assert_int_equal(store_db_token_get(f->s, ACCT, CL1, T1, &got), STORE_OK);
	assert_int_equal(got.permission_count, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(got.permissions[i].resource, names[i]);
		assert_int_equal(got.permissions[i].action, t.permissions[i].action);
	}
	/* a token without permissions, and the list */
	strcpy(t.id, T2);
	t.permission_count = 0;
	assert_int_equal(store_db_token_insert(f->s, &t, h2), STORE_OK);
	assert_int_equal(store_db_token_list(f->s, ACCT, CL1, false, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, T1);
	assert_int_equal(list[0].permission_count, 4);
	assert_int_equal(list[1].permission_count, 0);
	free(list);

	assert_int_equal(store_db_authorize(f->s, h1, DB_ACTION_READ, "a,b {c}", &g), STORE_OK);
	assert_false(g.permitted); /* that one is write */
	assert_true(g.database_exists);
	assert_int_equal(g.created_at, 10); /* the activation delay counts from it */
	assert_int_equal(store_db_authorize(f->s, h1, DB_ACTION_WRITE, "a,b {c}", &g), STORE_OK);
	assert_true(g.permitted);

	/* update replaces the permissions */
	strcpy(t.id, T1);
	t.permission_count = 1;
	t.permissions[0].action = DB_ACTION_READ;
	strcpy(t.permissions[0].resource, "*");
	strcpy(t.description, "changed");
	assert_int_equal(store_db_token_update(f->s, &t), STORE_OK);
	assert_int_equal(store_db_token_by_hash(f->s, h1, &got), STORE_OK);
	assert_int_equal(got.permission_count, 1);
	assert_string_equal(got.description, "changed");
	assert_int_equal(store_db_authorize(f->s, h1, DB_ACTION_READ, "anything", &g), STORE_OK);
	assert_true(g.permitted);
	assert_false(g.database_exists);

	assert_int_equal(store_db_token_revoke(f->s, ACCT, CL1, T1, 500, &got), STORE_OK);
	assert_int_equal(store_db_token_revoke(f->s, ACCT, CL1, T1, 900, &got), STORE_OK);
	assert_int_equal(got.revoked_at, 500);
	assert_int_equal(got.permission_count, 1);
	assert_int_equal(store_db_token_list(f->s, ACCT, CL1, false, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	free(list);
	strcpy(t.id, "55555555-5555-4555-8555-555555555559");
	assert_int_equal(store_db_token_update(f->s, &t), STORE_NOT_FOUND);
	t.permission_count = STORE_DB_TOKEN_MAX_PERMISSIONS + 1;
	assert_int_equal(store_db_token_update(f->s, &t), STORE_ERROR);
}

/* Rotation keeps the previous hash until told, suspension comes and goes (both kinds). */
static void test_token_lifecycle(void **state)
{
	struct fixture *f = *state;
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN], h3[TOKEN_HASH_LEN];
	struct store_mgmt_token t1 = make_token(T1, 0), t2 = make_token(T2, 9000), got, *list;
	struct store_db_token d, dgot;
	struct store_db_grant g;
	size_t n = 0;

	fill_hash(h1, 11);
	fill_hash(h2, 12);
	fill_hash(h3, 13);
	add_account(f->s, ACCT);
	add_cluster(f->s);
	assert_int_equal(store_mgmt_token_insert(f->s, &t1, h1), STORE_OK);
	assert_int_equal(store_mgmt_token_by_hash(f->s, h1, &got), STORE_OK);
	assert_false(got.by_previous);
	assert_int_equal(got.previous_expires_at, 0);

	/* rotate: the new hash is current, the old one previous until 8000 */
	assert_int_equal(store_mgmt_token_rotate(f->s, ACCT, T1, h2, "M.V1.new1", 7500, 8000, &got),
	                 STORE_OK);
	assert_int_equal(got.previous_expires_at, 8000);
	assert_string_equal(got.description, "a token");
	assert_string_equal(got.prefix, "M.V1.new1");
	assert_int_equal(store_mgmt_token_by_hash(f->s, h2, &got), STORE_OK);
	assert_false(got.by_previous);
	assert_int_equal(store_mgmt_token_by_hash(f->s, h1, &got), STORE_OK);
	assert_true(got.by_previous);
	assert_string_equal(got.id, T1);
	assert_int_equal(store_mgmt_token_touch_previous(f->s, T1, 7600, 60000), STORE_OK);
	assert_int_equal(store_mgmt_token_touch_previous(f->s, T1, 7700, 60000), STORE_OK);
	assert_int_equal(store_mgmt_token_get(f->s, ACCT, T1, &got), STORE_OK);
	assert_int_equal(got.previous_last_used_at, 7600); /* at most once a minute */

	/* rotate again: the oldest hash is gone, only the newest previous remains */
	assert_int_equal(store_mgmt_token_rotate(f->s, ACCT, T1, h3, "M.V1.new1", 7800, 9999, &got),
	                 STORE_OK);
	assert_int_equal(got.previous_last_used_at, 0);
	assert_int_equal(store_mgmt_token_by_hash(f->s, h1, &got), STORE_NOT_FOUND);
	assert_int_equal(store_mgmt_token_by_hash(f->s, h2, &got), STORE_OK);
	assert_true(got.by_previous);
	assert_int_equal(got.previous_expires_at, 9999);

	/* rotation: unknown, other account, expired (t2 at 9000), revoked */
	assert_int_equal(store_mgmt_token_rotate(f->s, ACCT, T2, h1, "M.V1.new1", 7800, 7800, &got),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_mgmt_token_insert(f->s, &t2, h1), STORE_OK);
	assert_int_equal(
	    store_mgmt_token_rotate(f->s, ACCT2, T2, h1, "M.V1.new1", 7800, 7800, &got),
	    STORE_NOT_FOUND);
	fill_hash(h1, 14);
	assert_int_equal(store_mgmt_token_rotate(f->s, ACCT, T2, h1, "M.V1.new1", 9000, 9000, &got),
	                 STORE_CONFLICT);

	/* suspend: idempotent, keeps the first; list filters; resume idempotent */
	assert_int_equal(store_mgmt_token_suspend(f->s, ACCT, T1, true, 8100, U1, &got), STORE_OK);
	assert_int_equal(got.suspended_at, 8100);
	assert_string_equal(got.suspended_by, U1);
	assert_int_equal(store_mgmt_token_suspend(f->s, ACCT, T1, true, 8200, U2, &got), STORE_OK);
	assert_int_equal(got.suspended_at, 8100);
	assert_string_equal(got.suspended_by, U1);
	assert_int_equal(store_mgmt_token_list(f->s, ACCT, TOKEN_FILTER_SUSPENDED, 8300, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, T1);
	free(list);
	assert_int_equal(store_mgmt_token_list(f->s, ACCT, TOKEN_FILTER_ACTIVE, 8300, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, T2);
	free(list);
	assert_int_equal(store_mgmt_token_suspend(f->s, ACCT, T1, false, 8400, U1, &got), STORE_OK);
	assert_int_equal(got.suspended_at, 0);
	assert_string_equal(got.suspended_by, "");
	assert_int_equal(store_mgmt_token_suspend(f->s, ACCT, T1, false, 8500, U1, &got), STORE_OK);
	assert_int_equal(store_mgmt_token_suspend(f->s, ACCT,
	                                          "55555555-5555-4555-8555-555555555553", true,
	                                          8500, U1, &got),
	                 STORE_NOT_FOUND);
	/* a revoked token is neither rotated, suspended nor resumed */
	assert_int_equal(store_mgmt_token_revoke(f->s, ACCT, T1, 8600, U1, &got), STORE_OK);
	assert_int_equal(store_mgmt_token_rotate(f->s, ACCT, T1, h1, "M.V1.new1", 8700, 8700, &got),
	                 STORE_CONFLICT);
	assert_int_equal(store_mgmt_token_suspend(f->s, ACCT, T1, true, 8700, U1, &got),
	                 STORE_CONFLICT);
	assert_int_equal(store_mgmt_token_suspend(f->s, ACCT, T1, false, 8700, U1, &got),
	                 STORE_CONFLICT);

	/* database tokens: the same, and the data-plane check by either hash */
	memset(&d, 0, sizeof(d));
	strcpy(d.id, T1);
	strcpy(d.account_id, ACCT);
	strcpy(d.cluster_id, CL1);
	strcpy(d.description, "db");
	d.created_at = 10;
	d.permission_count = 1;
	d.permissions[0].action = DB_ACTION_READ;
	strcpy(d.permissions[0].resource, "*");
	fill_hash(h1, 21);
	fill_hash(h2, 22);
	fill_hash(h3, 23);
	assert_int_equal(store_db_token_insert(f->s, &d, h1), STORE_OK);
	assert_int_equal(store_db_token_rotate(f->s, ACCT, CL1, T1, h2, 100, 200, &dgot), STORE_OK);
	assert_int_equal(dgot.previous_expires_at, 200);
	assert_int_equal(dgot.permission_count, 1);
	assert_int_equal(store_db_authorize(f->s, h1, DB_ACTION_READ, "x", &g), STORE_OK);
	assert_true(g.by_previous);
	assert_int_equal(g.previous_expires_at, 200);
	assert_true(g.permitted);
	assert_int_equal(store_db_authorize(f->s, h2, DB_ACTION_READ, "x", &g), STORE_OK);
	assert_false(g.by_previous);
	assert_int_equal(store_db_token_by_hash(f->s, h1, &dgot), STORE_OK);
	assert_true(dgot.by_previous);
	assert_int_equal(dgot.permission_count, 1);
	assert_int_equal(store_db_token_touch_previous(f->s, T1, 150, 60000), STORE_OK);
	assert_int_equal(store_db_authorize(f->s, h1, DB_ACTION_READ, "x", &g), STORE_OK);
	assert_int_equal(g.previous_last_used_at, 150);
	assert_int_equal(store_db_token_rotate(f->s, ACCT, CL1, T1, h3, 160, 300, &dgot), STORE_OK);
	assert_int_equal(store_db_authorize(f->s, h1, DB_ACTION_READ, "x", &g), STORE_NOT_FOUND);
	assert_int_equal(store_db_token_suspend(f->s, ACCT, CL1, T1, true, 170, U1, &dgot),
	                 STORE_OK);
	assert_int_equal(dgot.suspended_at, 170);
	assert_int_equal(store_db_authorize(f->s, h3, DB_ACTION_READ, "x", &g), STORE_OK);
	assert_int_equal(g.suspended_at, 170);
	assert_int_equal(store_db_token_suspend(f->s, ACCT, CL1, T1, false, 180, U1, &dgot),
	                 STORE_OK);
	assert_int_equal(dgot.suspended_at, 0);
	assert_int_equal(store_db_token_suspend(f->s, ACCT, CL1, T2, true, 180, U1, &dgot),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_db_token_revoke(f->s, ACCT, CL1, T1, 190, &dgot), STORE_OK);
	assert_int_equal(store_db_token_rotate(f->s, ACCT, CL1, T1, h1, 195, 300, &dgot),
	                 STORE_CONFLICT);
	assert_int_equal(store_db_token_suspend(f->s, ACCT, CL1, T1, true, 195, U1, &dgot),
	                 STORE_CONFLICT);
}

static void test_transactions_and_snapshots(void **state)
{
	struct fixture *f = *state;
	struct store *other = open_target();
	struct store_account got;
	bool began = false;

	assert_int_equal(store_clear_all(f->s), STORE_ERROR); /* only inside a transaction */
	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	add_account(f->s, ACCT);
	store_tx_rollback(f->s);
	assert_int_equal(store_account_get(f->s, ACCT, &got), STORE_NOT_FOUND);

	/* a snapshot keeps seeing what was there when it began */
	assert_int_equal(store_read_begin(other, &began), STORE_OK);
	assert_true(began);
	assert_int_equal(store_account_get(other, ACCT, &got), STORE_NOT_FOUND);
	add_account(f->s, ACCT);
	assert_int_equal(store_account_get(other, ACCT, &got), STORE_NOT_FOUND);
	store_read_end(other, began);
	assert_int_equal(store_account_get(other, ACCT, &got), STORE_OK);

	/* a reset empties everything at one commit */
	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	assert_int_equal(store_clear_all(f->s), STORE_OK);
	assert_int_equal(store_account_get(other, ACCT, &got), STORE_OK);
	assert_int_equal(store_tx_commit(f->s), STORE_OK);
	assert_int_equal(store_account_get(other, ACCT, &got), STORE_NOT_FOUND);
	assert_int_equal(store_ping(other), STORE_OK);
	store_close(other);
}

/* Inserts a live database named name into CL1 and returns its id. */
static int64_t insert_database(struct store *s, const char *name)
{
	struct store_database d = {.max_tables = 5, .max_columns_per_table = 7, .created_at = 100};

	strcpy(d.account_id, ACCT);
	strcpy(d.cluster_id, CL1);
	strcpy(d.name, name);
	assert_int_equal(store_database_insert(s, &d), STORE_OK);
	return d.id;
}

/*
 * A reset starts ids again from 1, as after a fresh start (a seed gets the
 * same ids on either backend); a reset that is rolled back keeps the
 * counters, so that no id is handed out twice.
 */
static void test_reset_restarts_ids(void **state)
{
	struct fixture *f = *state;
	int64_t first, second;

	add_account(f->s, ACCT);
	add_cluster(f->s);
	first = insert_database(f->s, "one");
	second = insert_database(f->s, "two");
	assert_true(second > first);

	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	assert_int_equal(store_clear_all(f->s), STORE_OK);
	store_tx_rollback(f->s);
	assert_true(insert_database(f->s, "three") > second);

	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	assert_int_equal(store_clear_all(f->s), STORE_OK);
	add_account(f->s, ACCT);
	add_cluster(f->s);
	assert_int_equal(insert_database(f->s, "again"), 1);
	assert_int_equal(store_tx_commit(f->s), STORE_OK);
	assert_int_equal(insert_database(f->s, "next"), 2);
}

/* ---- audit trail, retention, counts, facts (moved here from test_store.c) ---- */

static struct store_audit_event make_event(const char *account, int64_t at, const char *action,
                                           const char *actor)
{
	struct store_audit_event e;

	memset(&e, 0, sizeof(e));
	strcpy(e.account_id, account);
	e.at = at;
	strcpy(e.actor_type, "user");
	strcpy(e.actor_id, actor);
	strcpy(e.action, action);
	strcpy(e.outcome, "success");
	e.status = 200;
	return e;
}

static void test_audit(void **state)
{
	struct fixture *f = *state;
	struct store_audit_event e, *list = NULL;
	struct store_audit_filter all = {.limit = 100}, flt;
	int64_t ids[6], deleted = -1;
	size_t n = 0;

	e = make_event(ACCT, 100, "database.create", U1);
	strcpy(e.object_type, "database");
	strcpy(e.object_id, "db1");
	strcpy(e.client, "127.0.0.1");
	assert_int_equal(store_audit_insert(f->s, &e), STORE_OK);
	ids[0] = e.id;
	e = make_event(ACCT, 200, "database.delete", U2);
	assert_int_equal(store_audit_insert(f->s, &e), STORE_OK);
	ids[1] = e.id;
	/* The clock may go backwards (a fake one): id, not at, orders the trail. */
	e = make_event(ACCT, 50, "management_token.create", U1);
	assert_int_equal(store_audit_insert(f->s, &e), STORE_OK);
	ids[2] = e.id;
	e = make_event(ACCT2, 300, "database.create", U1);
	assert_int_equal(store_audit_insert(f->s, &e), STORE_OK);
	ids[3] = e.id;
	e = make_event(ACCT, 400, "database_token.create", "");
	strcpy(e.actor_type, "anonymous");
	strcpy(e.credential, "M.V1.abcd");
	strcpy(e.outcome, "refused");
	e.status = 401;
	assert_int_equal(store_audit_insert(f->s, &e), STORE_OK);
	ids[4] = e.id;
	assert_true(ids[0] < ids[1] && ids[1] < ids[2] && ids[2] < ids[4]);

	assert_int_equal(store_audit_list(f->s, ACCT, &all, &list, &n), STORE_OK);
	assert_int_equal(n, 4); /* not the other account's */
	assert_int_equal(list[0].id, ids[4]);
	assert_string_equal(list[0].credential, "M.V1.abcd");
	assert_string_equal(list[0].actor_id, "");
	assert_int_equal(list[0].status, 401);
	assert_int_equal(list[3].id, ids[0]);
	assert_string_equal(list[3].object_id, "db1");
	assert_string_equal(list[3].client, "127.0.0.1");
	free(list);

	flt = all;
	flt.action = "database.*"; /* a prefix: not database_token.create */
	assert_int_equal(store_audit_list(f->s, ACCT, &flt, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].action, "database.delete");
	free(list);
	flt.action = "database.create";
	assert_int_equal(store_audit_list(f->s, ACCT, &flt, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	free(list);
	flt.action = "data*base"; /* not a prefix: matches as written, i.e. nothing */
	assert_int_equal(store_audit_list(f->s, ACCT, &flt, &list, &n), STORE_OK);
	assert_int_equal(n, 0);

	flt = all;
	flt.actor = U1;
	assert_int_equal(store_audit_list(f->s, ACCT, &flt, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	free(list);
	flt.actor = "M.V1.abcd";
	assert_int_equal(store_audit_list(f->s, ACCT, &flt, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	free(list);

	flt = all;
	flt.since = 100;
	flt.until = 400; /* since inclusive, until exclusive */
	assert_int_equal(store_audit_list(f->s, ACCT, &flt, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	free(list);

	/* Pages: limit, then the cursor (id of the last row seen). */
	flt = all;
	flt.limit = 3;
	assert_int_equal(store_audit_list(f->s, ACCT, &flt, &list, &n), STORE_OK);
	assert_int_equal(n, 3);
	flt.before_id = list[2].id;
	free(list);
	assert_int_equal(store_audit_list(f->s, ACCT, &flt, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, ids[0]);
	free(list);

	assert_int_equal(store_audit_prune(f->s, 150, &deleted), STORE_OK);
	assert_int_equal(deleted, 2); /* at 100 and at 50 */
	assert_int_equal(store_audit_list(f->s, ACCT, &all, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	free(list);

	/* Inside a caller's transaction, the row goes with it. */
	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	e = make_event(ACCT, 500, "user.create", U1);
	assert_int_equal(store_audit_insert(f->s, &e), STORE_OK);
	store_tx_rollback(f->s);
	assert_int_equal(store_audit_list(f->s, ACCT, &all, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	free(list);
}

static void test_meta(void **state)
{
	struct fixture *f = *state;
	char buf[64];

	assert_int_equal(store_meta_get(f->s, "x", buf, sizeof(buf)), STORE_NOT_FOUND);
	assert_int_equal(store_meta_set(f->s, "x", "one"), STORE_OK);
	assert_int_equal(store_meta_set(f->s, "x", "two"), STORE_OK);
	assert_int_equal(store_meta_get(f->s, "x", buf, sizeof(buf)), STORE_OK);
	assert_string_equal(buf, "two");
	assert_int_equal(store_meta_get(f->s, "x", buf, 2), STORE_ERROR); /* does not fit */
}

/* Of replicas recording one fact at once the first wins, and each learns which. */
static void test_meta_claim_and_key(void **state)
{
	struct fixture *f = *state;
	struct store *other = open_target();
	struct token_key k1, k2;
	char got[64];

	assert_int_equal(store_meta_claim(f->s, "y", "first", got, sizeof(got)), STORE_OK);
	assert_string_equal(got, "first");
	assert_int_equal(store_meta_claim(other, "y", "second", got, sizeof(got)), STORE_OK);
	assert_string_equal(got, "first");
	/* the token key: recorded by the first start, refused (1) when another comes */
	memset(&k1, 1, sizeof(k1));
	memset(&k2, 2, sizeof(k2));
	assert_int_equal(backup_check_store_key(f->s, &k1), 0);
	assert_int_equal(backup_check_store_key(other, &k1), 0);
	assert_int_equal(backup_check_store_key(other, &k2), 1);
	assert_int_equal(store_meta_get(f->s, "token_key_fingerprint", got, sizeof(got)), STORE_OK);
	assert_true(strncmp(got, "blake2b:", 8) == 0);
	store_close(other);
}

static void test_retention_and_counts(void **state)
{
	struct fixture *f = *state;
	const int64_t day = 86400000, now = 100 * day;
	struct store_mgmt_token t1 = make_token(T1, 0), t2 = make_token(T2, now - 40 * day), got;
	struct store_db_token d;
	struct store_token_counts c;
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN], h3[TOKEN_HASH_LEN];
	int64_t mgmt = -1, db = -1;

	add_account(f->s, ACCT);
	add_cluster(f->s);
	fill_hash(h1, 1);
	fill_hash(h2, 2);
	fill_hash(h3, 3);
	assert_int_equal(store_mgmt_token_insert(f->s, &t1, h1), STORE_OK);
	assert_int_equal(store_mgmt_token_insert(f->s, &t2, h2), STORE_OK);
	memset(&d, 0, sizeof(d));
	strcpy(d.id, T1);
	strcpy(d.account_id, ACCT);
	strcpy(d.cluster_id, CL1);
	strcpy(d.description, "old");
	d.created_at = 1;
	d.permission_count = 1;
	strcpy(d.permissions[0].resource, "*");
	assert_int_equal(store_db_token_insert(f->s, &d, h3), STORE_OK);
	assert_int_equal(store_db_token_revoke(f->s, ACCT, CL1, T1, now - 31 * day, &d), STORE_OK);

	assert_int_equal(store_token_counts(f->s, now, &c), STORE_OK);
	assert_int_equal(c.mgmt[TOKEN_STATE_ACTIVE], 1);
	assert_int_equal(c.mgmt[TOKEN_STATE_EXPIRED], 1);
	assert_int_equal(c.mgmt[TOKEN_STATE_REVOKED], 0);
	assert_int_equal(c.db[TOKEN_STATE_REVOKED], 1);
	assert_int_equal(store_tokens_prune(f->s, now - 30 * day, &mgmt, &db), STORE_OK);
	assert_int_equal(mgmt, 1);
	assert_int_equal(db, 1); /* with its permission: the foreign key would refuse otherwise */
	assert_int_equal(store_mgmt_token_get(f->s, ACCT, T1, &got), STORE_OK);
	assert_int_equal(store_mgmt_token_get(f->s, ACCT, T2, &got), STORE_NOT_FOUND);
	assert_int_equal(store_db_token_get(f->s, ACCT, CL1, T1, &d), STORE_NOT_FOUND);
}

/* Scan visitors: the last digit of each token id seen, appended to ctx. */
static bool collect_id(void *ctx, const struct store_mgmt_token *row,
                       const struct store_cursor *key)
{
	char *ids = ctx;

	(void)key;
	strcat(ids, row->id[35] == '1' ? "1" : row->id[35] == '2' ? "2" : "3");
	return true;
}

static bool collect_db_id(void *ctx, const struct store_db_token *row,
                          const struct store_cursor *key)
{
	char *ids = ctx;

	(void)key;
	strcat(ids, row->id[35] == '1' ? "1" : row->id[35] == '2' ? "2" : "3");
	return true;
}

/* Issue 24: lastUsedAt of database tokens, ?expiringWithin, the counts and the claim. */
static void test_token_expiry(void **state)
{
	struct fixture *f = *state;
	const int64_t day = STORE_DAY_MS, now = 100 * day;
	struct store_mgmt_token m1 = make_token(T1, now + day), m2 = make_token(T2, now + 7 * day),
	                        m3 = make_token(T3, now + 7 * day + 1);
	struct store_token_query q = {
	    .account_id = ACCT, .cluster_id = CL1, .now = now, .max = 100, .include_revoked = true};
	struct store_expiring_token *claimed;
	struct store_token_counts c;
	struct store_db_token d, got;
	struct store_db_grant g;
	unsigned char h[4][TOKEN_HASH_LEN];
	char ids[16] = "";
	size_t rows = 0, n = 0;

	add_account(f->s, ACCT);
	add_cluster(f->s);
	for (int i = 0; i < 4; i++)
		fill_hash(h[i], 40 + i);
	assert_int_equal(store_mgmt_token_insert(f->s, &m1, h[0]), STORE_OK);
	assert_int_equal(store_mgmt_token_insert(f->s, &m2, h[1]), STORE_OK);
	assert_int_equal(store_mgmt_token_insert(f->s, &m3, h[2]), STORE_OK);
	memset(&d, 0, sizeof(d));
	strcpy(d.id, T1);
	strcpy(d.account_id, ACCT);
	strcpy(d.cluster_id, CL1);
	strcpy(d.description, "ingest");
	d.created_at = 1;
	d.expires_at = now + 2 * day;
	d.permission_count = 1;
	strcpy(d.permissions[0].resource, "*");
	assert_int_equal(store_db_token_insert(f->s, &d, h[3]), STORE_OK);

	/* lastUsedAt: written, then not again within the interval */
	assert_int_equal(store_db_token_get(f->s, ACCT, CL1, T1, &got), STORE_OK);
	assert_int_equal(got.last_used_at, 0);
	assert_int_equal(store_db_token_touch(f->s, T1, 50000, 60000), STORE_OK);
	assert_int_equal(store_db_token_touch(f->s, T1, 80000, 60000), STORE_OK); /* too soon */
	assert_int_equal(store_db_token_get(f->s, ACCT, CL1, T1, &got), STORE_OK);
	assert_int_equal(got.last_used_at, 50000);
	assert_int_equal(store_db_authorize(f->s, h[3], DB_ACTION_READ, "x", &g), STORE_OK);
	assert_int_equal(g.last_used_at, 50000);
	assert_int_equal(store_db_token_touch(f->s, T1, 110000, 60000), STORE_OK);
	assert_int_equal(store_db_token_by_hash(f->s, h[3], &got), STORE_OK);
	assert_int_equal(got.last_used_at, 110000);
	assert_int_equal(got.permission_count, 1);

	/* expiring within 7 days: the boundary is in, a millisecond past it out */
	q.expiring_within = 7 * day;
	assert_int_equal(store_mgmt_token_scan(f->s, &q, collect_id, ids, &rows), STORE_OK);
	assert_string_equal(ids, "12");
	ids[0] = '\0';
	q.expiring_within = day;
	assert_int_equal(store_db_token_scan(f->s, &q, collect_db_id, ids, &rows), STORE_OK);
	assert_string_equal(ids, "");
	q.expiring_within = 2 * day;
	assert_int_equal(store_db_token_scan(f->s, &q, collect_db_id, ids, &rows), STORE_OK);
	assert_string_equal(ids, "1");
	ids[0] = '\0';
	q.now = now + 2 * day; /* then it has expired */
	assert_int_equal(store_db_token_scan(f->s, &q, collect_db_id, ids, &rows), STORE_OK);
	assert_string_equal(ids, "");

	/* counts: 1, 7 and 30 days */
	assert_int_equal(store_token_counts(f->s, now, &c), STORE_OK);
	assert_int_equal(c.mgmt_expiring[0], 1);
	assert_int_equal(c.mgmt_expiring[1], 2);
	assert_int_equal(c.mgmt_expiring[2], 3);
	assert_int_equal(c.db_expiring[0], 0);
	assert_int_equal(c.db_expiring[1], 1);

	/* the claim: once per token, revoked ones never */
	assert_int_equal(store_mgmt_token_revoke(f->s, ACCT, T2, now, "", &m2), STORE_OK);
	assert_int_equal(store_tokens_expiry_claim(f->s, now, now + 7 * day + 1, 2, &claimed, &n),
	                 STORE_OK);
	assert_int_equal(n, 2); /* at most max; in no promised order */
	assert_true(claimed[0].management && claimed[1].management);
	assert_string_equal(claimed[0].cluster_id, "");
	assert_true((strcmp(claimed[0].id, T1) == 0 && strcmp(claimed[1].id, T3) == 0) ||
	            (strcmp(claimed[0].id, T3) == 0 && strcmp(claimed[1].id, T1) == 0));
	free(claimed);
	assert_int_equal(store_tokens_expiry_claim(f->s, now, now + 7 * day + 1, 2, &claimed, &n),
	                 STORE_OK);
	assert_int_equal(n, 1);
	assert_false(claimed[0].management);
	assert_string_equal(claimed[0].id, T1);
	assert_string_equal(claimed[0].cluster_id, CL1);
	assert_string_equal(claimed[0].description, "ingest");
	assert_int_equal(claimed[0].expires_at, now + 2 * day);
	free(claimed);
	assert_int_equal(store_tokens_expiry_claim(f->s, now, now + 30 * day, 10, &claimed, &n),
	                 STORE_OK);
	assert_int_equal(n, 0);
	assert_null(claimed);
}

/* Two connections race to demote the last two admins, many times: one always stays. */
struct racer {
	struct store *s;
	struct store_user user; /* demoted */
	pthread_barrier_t *start;
	enum store_status st;
};

static void *demote(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->start);
	r->st = store_user_update(r->s, &r->user);
	return NULL;
}

static void test_last_admin_race(void **state)
{
	struct fixture *f = *state;
	struct store *other = open_target();
	pthread_barrier_t start;

	for (int round = 0; round < 30; round++) {
		struct store_user a = make_user(U1, "a@x.com", GROUP_ADMIN, "");
		struct store_user b = make_user(U2, "b@x.com", GROUP_ADMIN, "");
		struct racer r1 = {f->s, a, &start, STORE_ERROR},
		             r2 = {other, b, &start, STORE_ERROR};
		pthread_t t1, t2;
		long admins = -1;

		/* a fresh account and users each round */
		snprintf(a.account_id, sizeof(a.account_id),
		         "11111111-1111-4111-8111-1111111111%02d", round);
		strcpy(b.account_id, a.account_id);
		snprintf(a.id, sizeof(a.id), "44444444-4444-4444-8444-4444444444%02d", round);
		snprintf(b.id, sizeof(b.id), "44444444-4444-4444-8444-4444444445%02d", round);
		add_account(f->s, a.account_id);
		assert_int_equal(store_user_insert(f->s, &a), STORE_OK);
		assert_int_equal(store_user_insert(f->s, &b), STORE_OK);
		r1.user = a;
		r2.user = b;
		r1.user.group = r2.user.group = GROUP_MEMBER;
		assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
		assert_int_equal(pthread_create(&t1, NULL, demote, &r1), 0);
		assert_int_equal(pthread_create(&t2, NULL, demote, &r2), 0);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		pthread_barrier_destroy(&start);
		assert_true((r1.st == STORE_OK && r2.st == STORE_LAST_ADMIN) ||
		            (r1.st == STORE_LAST_ADMIN && r2.st == STORE_OK));
		assert_int_equal(store_admin_count(f->s, a.account_id, &admins), STORE_OK);
		assert_int_equal(admins, 1);
	}
	store_close(other);
}

#define I1 "66666666-6666-4666-8666-666666666661"
#define I2 "66666666-6666-4666-8666-666666666662"
#define I3 "66666666-6666-4666-8666-666666666663"
#define I4 "66666666-6666-4666-8666-666666666664"

static struct store_invite make_invite(const char *id, const char *email, enum user_group g,
                                       int64_t invited_at, int64_t expires_at)
{
	struct store_invite i;

	memset(&i, 0, sizeof(i));
	strcpy(i.id, id);
	strcpy(i.account_id, ACCT);
	strcpy(i.email, email);
	i.group = g;
	strcpy(i.invited_by, U1);
	i.invited_at = invited_at;
	i.expires_at = expires_at;
	return i;
}

/* ---- invites (moved here from test_store.c: they hold for every backend) ---- */

static void test_invites(void **state)
{
	struct fixture *f = *state;
	struct store_user admin = make_user_at(U1, "admin@example.com", GROUP_ADMIN, "a", 1);
	struct store_invite a = make_invite(I1, "New@example.com", GROUP_MEMBER, 100, 200);
	struct store_invite b = make_invite(I2, "new@EXAMPLE.com", GROUP_AUDITOR, 150, 300);
	struct store_invite c = make_invite(I3, "admin@EXAMPLE.com", GROUP_MEMBER, 100, 200);
	struct store_invite got, *list = NULL;
	enum invite_conflict why = INVITE_CONFLICT_ID;
	size_t n = 9;

	add_account(f->s, ACCT);
	add_account(f->s, ACCT2);
	assert_int_equal(store_user_insert(f->s, &admin), STORE_OK);

	assert_int_equal(store_invite_insert(f->s, &a, 100, &why), STORE_OK);
	assert_int_equal(why, INVITE_CONFLICT_NONE);
	assert_int_equal(store_invite_get(f->s, ACCT, I1, &got), STORE_OK);
	assert_string_equal(got.email, "New@example.com");
	assert_int_equal(got.group, GROUP_MEMBER);
	assert_string_equal(got.invited_by, U1);
	assert_int_equal(got.expires_at, 200);
	assert_int_equal(got.accepted_at + got.revoked_at + got.replaced_at, 0);
	assert_int_equal(store_invite_get(f->s, ACCT2, I1, &got), STORE_NOT_FOUND);

	/* an existing user's email, in any case */
	assert_int_equal(store_invite_insert(f->s, &c, 100, &why), STORE_CONFLICT);
	assert_int_equal(why, INVITE_CONFLICT_USER);
	/* a second invite while the first is pending, in any case */
	assert_int_equal(store_invite_insert(f->s, &b, 199, &why), STORE_CONFLICT);
	assert_int_equal(why, INVITE_CONFLICT_PENDING);
	/* the same id */
	strcpy(c.email, "other@example.com");
	strcpy(c.id, I1);
	assert_int_equal(store_invite_insert(f->s, &c, 100, &why), STORE_CONFLICT);
	assert_int_equal(why, INVITE_CONFLICT_ID);
	/* in another account the email is free */
	strcpy(b.account_id, ACCT2);
	assert_int_equal(store_invite_insert(f->s, &b, 150, &why), STORE_OK);
	strcpy(b.account_id, ACCT);
	strcpy(b.id, I4);

	/* once the first expired, a new invite closes it and opens */
	assert_int_equal(store_invite_insert(f->s, &b, 200, &why), STORE_OK);
	assert_int_equal(store_invite_get(f->s, ACCT, I1, &got), STORE_OK);
	assert_int_equal(got.replaced_at, 200);
	assert_int_equal(store_invite_by_email(f->s, ACCT, "NEW@example.com", &got), STORE_OK);
	assert_string_equal(got.id, I4);
	assert_int_equal(store_invite_list(f->s, ACCT, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, I1);
	assert_string_equal(list[1].id, I4);
	free(list);

	/* pending ones by email across accounts, and all of them */
	assert_int_equal(store_invites_pending(f->s, "new@example.com", 250, 10, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].account_id, ACCT2);
	assert_string_equal(list[1].id, I4);
	free(list);
	assert_int_equal(store_invites_pending(f->s, NULL, 250, 1, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	free(list);
	assert_int_equal(store_invites_pending(f->s, "new@example.com", 300, 10, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 0);
	assert_null(list);
}

static void test_invite_accept_and_revoke(void **state)
{
	struct fixture *f = *state;
	struct store_invite a = make_invite(I1, "new@example.com", GROUP_AUDITOR, 100, 200);
	struct store_invite b = make_invite(I2, "late@example.com", GROUP_MEMBER, 100, 200);
	struct store_user u = make_user_at(U2, "NEW@example.com", GROUP_MEMBER, "sub-new", 150);
	struct store_user late = make_user_at(U3, "late@example.com", GROUP_ADMIN, "sub-late", 250);
	struct store_invite got;
	struct store_user user;
	enum invite_conflict why;

	add_account(f->s, ACCT);
	assert_int_equal(store_invite_insert(f->s, &a, 100, &why), STORE_OK);
	assert_int_equal(store_invite_insert(f->s, &b, 100, &why), STORE_OK);

	/* accepted in one transaction: the user is made in the invite's group */
	assert_int_equal(store_invite_accept(f->s, &u, 150, &got), STORE_OK);
	assert_int_equal(u.group, GROUP_AUDITOR);
	assert_int_equal(got.accepted_at, 150);
	assert_string_equal(got.accepted_user_id, U2);
	assert_int_equal(store_user_get(f->s, ACCT, U2, &user), STORE_OK);
	assert_int_equal(user.group, GROUP_AUDITOR);
	assert_string_equal(user.idp_subject, "sub-new");
	/* only once */
	strcpy(u.id, U3);
	assert_int_equal(store_invite_accept(f->s, &u, 160, &got), STORE_NOT_FOUND);
	/* an accepted invite cannot be revoked */
	assert_int_equal(store_invite_revoke(f->s, ACCT, I1, 170, U1, &got), STORE_CONFLICT);
	assert_int_equal(got.revoked_at, 0);

	/* an expired invite is not accepted, and nothing is written */
	assert_int_equal(store_invite_accept(f->s, &late, 250, &got), STORE_NOT_FOUND);
	assert_int_equal(store_user_get(f->s, ACCT, U3, &user), STORE_NOT_FOUND);

	/* revoking keeps the first revocation; a revoked invite is not accepted */
	assert_int_equal(store_invite_revoke(f->s, ACCT, I2, 180, U1, &got), STORE_OK);
	assert_int_equal(got.revoked_at, 180);
	assert_string_equal(got.revoked_by, U1);
	assert_int_equal(store_invite_revoke(f->s, ACCT, I2, 190, "", &got), STORE_OK);
	assert_int_equal(got.revoked_at, 180);
	assert_string_equal(got.revoked_by, U1);
	late.created_at = 185;
	assert_int_equal(store_invite_accept(f->s, &late, 185, &got), STORE_NOT_FOUND);
	assert_int_equal(store_invite_revoke(f->s, ACCT, I3, 190, "", &got), STORE_NOT_FOUND);
	assert_int_equal(store_invite_revoke(f->s, ACCT2, I2, 190, "", &got), STORE_NOT_FOUND);

	/* a user already holding the email makes the acceptance fail whole */
	b = make_invite(I3, "taken@example.com", GROUP_ADMIN, 200, 400);
	assert_int_equal(store_invite_insert(f->s, &b, 200, &why), STORE_OK);
	late = make_user_at(U3, "taken@example.com", GROUP_MEMBER, "sub-new", 300);
	assert_int_equal(store_invite_accept(f->s, &late, 300, &got), STORE_CONFLICT);
	assert_int_equal(store_invite_get(f->s, ACCT, I3, &got), STORE_OK);
	assert_int_equal(got.accepted_at, 0);
	assert_int_equal(store_user_get(f->s, ACCT, U3, &user), STORE_NOT_FOUND);
}

/* CONTRACT 2: a user is (issuer, subject); a subject of another issuer is another person. */
static void test_identity_is_issuer_and_subject(void **state)
{
	struct fixture *f = *state;
	struct store_user a = make_user(U1, "a@example.com", GROUP_ADMIN, "same-sub");
	struct store_user b = make_user(U2, "b@example.com", GROUP_MEMBER, "same-sub");
	struct store_user got;

	add_account(f->s, ACCT);
	strcpy(b.idp_issuer, ISS2);
	assert_int_equal(store_user_insert(f->s, &a), STORE_OK);
	/* the same subject at another issuer is another user */
	assert_int_equal(store_user_insert(f->s, &b), STORE_OK);
	assert_int_equal(store_user_for_idp(f->s, ACCT, ISS, "same-sub", NULL, &got), STORE_OK);
	assert_string_equal(got.id, U1);
	assert_int_equal(store_user_for_idp(f->s, ACCT, ISS2, "same-sub", NULL, &got), STORE_OK);
	assert_string_equal(got.id, U2);
	assert_int_equal(
	    store_user_for_idp(f->s, ACCT, "https://third.example", "same-sub", NULL, &got),
	    STORE_NOT_FOUND);
	/* no issuer, no match: an unbound subject stands for nobody */
	assert_int_equal(store_user_for_idp(f->s, ACCT, "", "same-sub", NULL, &got),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_user_for_idp(f->s, ACCT, NULL, "same-sub", "a@example.com", &got),
	                 STORE_NOT_FOUND);
	/* an update onto the other's identity is a conflict; onto its subject alone is not */
	strcpy(b.idp_issuer, ISS);
	assert_int_equal(store_user_update(f->s, &b), STORE_CONFLICT);
	strcpy(b.idp_issuer, "");
	assert_int_equal(store_user_update(f->s, &b), STORE_OK);
	assert_int_equal(store_user_get(f->s, ACCT, U2, &got), STORE_OK);
	assert_string_equal(got.idp_issuer, "");
	assert_string_equal(got.idp_subject, "same-sub");
}

/* A user without a subject is linked once, by email, to an identity of the issuer it allows. */
static void test_link_by_email(void **state)
{
	struct fixture *f = *state;
	struct store_user free_user = make_user(U1, "free@example.com", GROUP_ADMIN, "");
	struct store_user pinned = make_user(U2, "pinned@example.com", GROUP_MEMBER, "");
	struct store_user got;

	add_account(f->s, ACCT);
	strcpy(pinned.idp_issuer, ISS2); /* an issuer without a subject: only ISS2 may link it */
	assert_int_equal(store_user_insert(f->s, &free_user), STORE_OK);
	assert_int_equal(store_user_insert(f->s, &pinned), STORE_OK);

	assert_int_equal(store_user_for_idp(f->s, ACCT, ISS, "s1", "pinned@example.com", &got),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_user_link(f->s, ACCT, U2, ISS, "s1"), STORE_NOT_FOUND);
	assert_int_equal(store_user_for_idp(f->s, ACCT, ISS2, "s2", "PINNED@example.com", &got),
	                 STORE_OK);
	assert_string_equal(got.id, U2);
	assert_string_equal(got.idp_subject, "");
	assert_int_equal(store_user_link(f->s, ACCT, U2, ISS2, "s2"), STORE_OK);
	assert_int_equal(store_user_for_idp(f->s, ACCT, ISS2, "s2", NULL, &got), STORE_OK);
	assert_string_equal(got.id, U2);

	/* once linked, the email picks nobody: only the identity does */
	assert_int_equal(store_user_for_idp(f->s, ACCT, ISS, "free-sub", "free@example.com", &got),
	                 STORE_OK);
	assert_int_equal(store_user_link(f->s, ACCT, U1, ISS, "free-sub"), STORE_OK);
	assert_int_equal(store_user_link(f->s, ACCT, U1, ISS, "another"), STORE_NOT_FOUND);
	assert_int_equal(store_user_for_idp(f->s, ACCT, ISS, "another", "free@example.com", &got),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_user_get(f->s, ACCT, U1, &got), STORE_OK);
	assert_string_equal(got.idp_issuer, ISS);
	assert_string_equal(got.idp_subject, "free-sub");
	/* an identity another user has cannot be linked */
	free_user = make_user(U3, "third@example.com", GROUP_MEMBER, "");
	assert_int_equal(store_user_insert(f->s, &free_user), STORE_OK);
	assert_int_equal(store_user_link(f->s, ACCT, U3, ISS, "free-sub"), STORE_CONFLICT);
	assert_int_equal(store_user_link(f->s, ACCT, U3, "", "free-sub"), STORE_ERROR);
}

/* Subjects stored without an issuer: listed, then bound all at once or one by one. */
static void test_unbound_subjects(void **state)
{
	struct fixture *f = *state;
	struct store_user a = make_user_at(U1, "a@example.com", GROUP_ADMIN, "sub-a", 3);
	struct store_user b = make_user_at(U2, "b@example.com", GROUP_MEMBER, "sub-b", 1);
	struct store_user c = make_user_at(U3, "c@example.com", GROUP_MEMBER, "", 2);
	struct store_user *list = NULL, got;
	int64_t bound = -1;
	size_t n = 0;

	add_account(f->s, ACCT);
	add_account(f->s, ACCT2);
	a.idp_issuer[0] = b.idp_issuer[0] = '\0';
	strcpy(b.account_id, ACCT2);
	assert_int_equal(store_user_insert(f->s, &a), STORE_OK);
	assert_int_equal(store_user_insert(f->s, &b), STORE_OK);
	assert_int_equal(store_user_insert(f->s, &c), STORE_OK); /* no subject: not unbound */

	assert_int_equal(store_users_unbound(f->s, NULL, 10, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, U2); /* oldest first */
	assert_string_equal(list[1].id, U1);
	free(list);
	assert_int_equal(store_users_unbound(f->s, ACCT, 10, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, U1);
	free(list);
	assert_int_equal(store_users_unbound(f->s, NULL, 1, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	free(list);

	/* one user */
	assert_int_equal(store_users_bind_issuer(f->s, ACCT, U1, ISS2, &bound), STORE_OK);
	assert_int_equal(bound, 1);
	assert_int_equal(store_users_bind_issuer(f->s, ACCT, U1, ISS, &bound), STORE_OK);
	assert_int_equal(bound, 0); /* bound already: left alone */
	assert_int_equal(store_users_bind_issuer(f->s, ACCT, U3, ISS, &bound), STORE_OK);
	assert_int_equal(bound, 0); /* no subject: nothing to bind */
	assert_int_equal(store_user_get(f->s, ACCT, U1, &got), STORE_OK);
	assert_string_equal(got.idp_issuer, ISS2);
	assert_int_equal(store_users_bind_issuer(f->s, ACCT, NULL, ISS, &bound), STORE_ERROR);

	/* every one left */
	assert_int_equal(store_users_bind_issuer(f->s, NULL, NULL, ISS, &bound), STORE_OK);
	assert_int_equal(bound, 1);
	assert_int_equal(store_user_get(f->s, ACCT2, U2, &got), STORE_OK);
	assert_string_equal(got.idp_issuer, ISS);
	assert_int_equal(store_user_get(f->s, ACCT, U3, &got), STORE_OK);
	assert_string_equal(got.idp_issuer, "");
	assert_int_equal(store_users_unbound(f->s, NULL, 10, &list, &n), STORE_OK);
	assert_int_equal(n, 0);

	/* binding onto an identity another user of the account has is a conflict */
	c = make_user_at(U3, "c@example.com", GROUP_MEMBER, "sub-a", 2);
	assert_int_equal(store_user_update(f->s, &c), STORE_OK); /* (ISS, sub-a) */
	a.group = GROUP_ADMIN;
	strcpy(a.idp_issuer, "");
	assert_int_equal(store_user_update(f->s, &a), STORE_OK); /* unbound again */
	assert_int_equal(store_users_bind_issuer(f->s, NULL, NULL, ISS, &bound), STORE_CONFLICT);
	assert_int_equal(store_users_bind_issuer(f->s, ACCT, U1, ISS, &bound), STORE_CONFLICT);
}

/* An account goes with everything in it; another account keeps all of its own. */
static void test_account_delete(void **state)
{
	struct fixture *f = *state;
	struct store_cluster c2 = {.created_at = 1000, .category = 1}, cgot;
	struct store_database d = {.max_tables = 1, .max_columns_per_table = 1, .created_at = 1},
	                      dgot;
	struct store_table t = {.created_at = 2};
	struct store_db_token dt;
	struct store_mgmt_token mt = make_token(T1, 0), mgot;
	struct store_user u = make_user(U1, "a@example.com", GROUP_ADMIN, "sub-a");
	struct store_user u2 = make_user("44444444-4444-4444-8444-444444444442", "b@example.com",
	                                 GROUP_ADMIN, "sub-b");
	struct store_audit_event e = make_event(ACCT, 100, "database.create", U1);
	struct store_audit_event e2 = make_event(ACCT2, 100, "database.create", U1);
	struct store_db_token dtgot;
	struct store_account agot;
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN];

	add_account(f->s, ACCT);
	add_account(f->s, ACCT2);
	add_cluster(f->s);
	strcpy(c2.id, "33333333-3333-4333-8333-333333333332");
	strcpy(c2.account_id, ACCT2);
	strcpy(c2.name, "c2");
	strcpy(c2.url, "https://c2.example");
	assert_int_equal(store_cluster_ensure(f->s, &c2), STORE_OK);
	assert_int_equal(store_user_insert(f->s, &u), STORE_OK);
	strcpy(u2.account_id, ACCT2);
	assert_int_equal(store_user_insert(f->s, &u2), STORE_OK);
	fill_hash(h1, 1);
	fill_hash(h2, 2);
	assert_int_equal(store_mgmt_token_insert(f->s, &mt, h1), STORE_OK);
	strcpy(d.account_id, ACCT);
	strcpy(d.cluster_id, CL1);
	strcpy(d.name, "db");
	assert_int_equal(store_database_insert(f->s, &d), STORE_OK);
	t.database_id = d.id;
	strcpy(t.name, "cpu");
	assert_int_equal(store_table_insert(f->s, &t), STORE_OK);
	memset(&dt, 0, sizeof(dt));
	strcpy(dt.id, T2);
	strcpy(dt.account_id, ACCT);
	strcpy(dt.cluster_id, CL1);
	strcpy(dt.description, "w");
	dt.permission_count = 1;
	dt.permissions[0].action = DB_ACTION_WRITE;
	strcpy(dt.permissions[0].resource, "db");
	dt.created_at = 3;
	assert_int_equal(store_db_token_insert(f->s, &dt, h2), STORE_OK);
	assert_int_equal(store_audit_insert(f->s, &e), STORE_OK);
	assert_int_equal(store_audit_insert(f->s, &e2), STORE_OK);

	assert_int_equal(store_account_delete(f->s, ACCT), STORE_OK);
	assert_int_equal(store_account_get(f->s, ACCT, &agot), STORE_NOT_FOUND);
	assert_int_equal(store_cluster_get(f->s, ACCT, CL1, &cgot), STORE_NOT_FOUND);
	assert_int_equal(store_mgmt_token_by_hash(f->s, h1, &mgot), STORE_NOT_FOUND);
	assert_int_equal(store_db_token_by_hash(f->s, h2, &dtgot), STORE_NOT_FOUND);
	assert_int_equal(store_database_get(f->s, ACCT, CL1, "db", &dgot), STORE_NOT_FOUND);
	/* the other account is whole */
	assert_int_equal(store_account_get(f->s, ACCT2, &agot), STORE_OK);
	assert_int_equal(store_cluster_get(f->s, ACCT2, c2.id, &cgot), STORE_OK);
	/* twice: nothing left to delete */
	assert_int_equal(store_account_delete(f->s, ACCT), STORE_NOT_FOUND);
	/* the ids are free again: the same account can be made anew */
	add_account(f->s, ACCT);
	add_cluster(f->s);
	assert_int_equal(store_mgmt_token_insert(f->s, &mt, h1), STORE_OK);
}

/* ---- snapshots: every row, out and back in, the same on each backend ---- */

struct dump_text {
	char buf[16384];
	size_t used;
};

static void dump_printf(struct dump_text *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void dump_printf(struct dump_text *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(d->buf + d->used, sizeof(d->buf) - d->used, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(d->buf) - d->used);
	d->used += (size_t)n;
}

static bool dump_table(void *ctx, const char *table, size_t ncols, const char *const *columns)
{
	dump_printf(ctx, "[%s]", table);
	for (size_t i = 0; i < ncols; i++)
		dump_printf(ctx, " %s", columns[i]);
	dump_printf(ctx, "\n");
	return true;
}

static bool dump_row(void *ctx, const char *table, size_t ncols, const struct store_value *v)
{
	(void)table;
	for (size_t i = 0; i < ncols; i++) {
		switch (v[i].type) {
		case STORE_VALUE_INT:
			dump_printf(ctx, "%lld|", (long long)v[i].i);
			break;
		case STORE_VALUE_TEXT:
			dump_printf(ctx, "'%s'|", v[i].text);
			break;
		case STORE_VALUE_BLOB:
			dump_printf(ctx, "x%zu:%02x%02x|", v[i].len, v[i].blob[0],
			            v[i].blob[v[i].len - 1]);
			break;
		default:
			dump_printf(ctx, "NULL|");
		}
	}
	dump_printf(ctx, "\n");
	return true;
}

/* The rows of a dump kept to be loaded again (values copied out of the store's buffers). */
struct kept_rows {
	char table[32][64];
	char columns[32][STORE_ROW_MAX_COLUMNS][64];
	size_t ncols[32];
	size_t ntables;
	struct {
		size_t table;
		struct store_value v[STORE_ROW_MAX_COLUMNS];
		char text[STORE_ROW_MAX_COLUMNS][320];
		unsigned char blob[STORE_ROW_MAX_COLUMNS][TOKEN_HASH_LEN];
	} rows[64];
	size_t nrows;
};

static bool keep_table(void *ctx, const char *table, size_t ncols, const char *const *columns)
{
	struct kept_rows *k = ctx;

	assert_true(k->ntables < 32 && ncols <= STORE_ROW_MAX_COLUMNS);
	strcpy(k->table[k->ntables], table);
	for (size_t i = 0; i < ncols; i++)
		strcpy(k->columns[k->ntables][i], columns[i]);
	k->ncols[k->ntables++] = ncols;
	return true;
}

static bool keep_row(void *ctx, const char *table, size_t ncols, const struct store_value *v)
{
	struct kept_rows *k = ctx;

	(void)table;
	assert_true(k->nrows < 64);
	k->rows[k->nrows].table = k->ntables - 1;
	for (size_t i = 0; i < ncols; i++) {
		k->rows[k->nrows].v[i] = v[i];
		if (v[i].type == STORE_VALUE_TEXT) {
			assert_true(strlen(v[i].text) < 320);
			strcpy(k->rows[k->nrows].text[i], v[i].text);
			k->rows[k->nrows].v[i].text = k->rows[k->nrows].text[i];
		} else if (v[i].type == STORE_VALUE_BLOB) {
			assert_true(v[i].len <= TOKEN_HASH_LEN);
			memcpy(k->rows[k->nrows].blob[i], v[i].blob, v[i].len);
			k->rows[k->nrows].v[i].blob = k->rows[k->nrows].blob[i];
		}
	}
	k->nrows++;
	return true;
}

static void load_kept(struct store *s, const struct kept_rows *k)
{
	for (size_t r = 0; r < k->nrows; r++) {
		size_t t = k->rows[r].table;
		const char *names[STORE_ROW_MAX_COLUMNS];

		for (size_t i = 0; i < k->ncols[t]; i++)
			names[i] = k->columns[t][i];
		assert_int_equal(store_row_load(s, k->table[t], k->ncols[t], names, k->rows[r].v),
		                 STORE_OK);
	}
}

static void populate_two_accounts(struct store *s)
{
	struct store_database d = {.max_tables = 1, .max_columns_per_table = 1, .created_at = 1};
	struct store_table t = {.created_at = 2};
	struct store_db_token dt;
	struct store_mgmt_token mt = make_token(T1, 0);
	struct store_user u = make_user(U1, "a@example.com", GROUP_ADMIN, "sub-a");
	struct store_audit_event e = make_event(ACCT, 100, "database.create", U1);
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN];

	add_account(s, ACCT);
	add_account(s, ACCT2);
	add_cluster(s);
	assert_int_equal(store_user_insert(s, &u), STORE_OK);
	fill_hash(h1, 1);
	fill_hash(h2, 2);
	assert_int_equal(store_mgmt_token_insert(s, &mt, h1), STORE_OK);
	strcpy(d.account_id, ACCT);
	strcpy(d.cluster_id, CL1);
	strcpy(d.name, "db");
	assert_int_equal(store_database_insert(s, &d), STORE_OK);
	t.database_id = d.id;
	strcpy(t.name, "cpu");
	assert_int_equal(store_table_insert(s, &t), STORE_OK);
	memset(&dt, 0, sizeof(dt));
	strcpy(dt.id, T2);
	strcpy(dt.account_id, ACCT);
	strcpy(dt.cluster_id, CL1);
	strcpy(dt.description, "w");
	dt.permission_count = 2;
	dt.permissions[0].action = DB_ACTION_WRITE;
	strcpy(dt.permissions[0].resource, "db");
	dt.permissions[1].action = DB_ACTION_READ;
	strcpy(dt.permissions[1].resource, "*");
	dt.created_at = 3;
	assert_int_equal(store_db_token_insert(s, &dt, h2), STORE_OK);
	assert_int_equal(store_audit_insert(s, &e), STORE_OK);
}

static void test_snapshot_rows_out_and_back(void **state)
{
	struct fixture *f = *state;
	static struct dump_text before, after, one;
	static struct kept_rows kept;
	struct store_rows_visitor text = {dump_table, dump_row, &before};
	struct store_rows_visitor keep = {keep_table, keep_row, &kept};
	struct store_database d = {.max_tables = 1, .max_columns_per_table = 1, .created_at = 9},
	                      got;
	struct store_db_token tok;
	unsigned char h2[TOKEN_HASH_LEN];

	memset(&before, 0, sizeof(before));
	memset(&after, 0, sizeof(after));
	memset(&one, 0, sizeof(one));
	memset(&kept, 0, sizeof(kept));
	populate_two_accounts(f->s);
	assert_int_equal(store_rows_dump(f->s, NULL, &text), STORE_OK);
	assert_int_equal(store_rows_dump(f->s, NULL, &keep), STORE_OK);
	/* parents first, and what the snapshot leaves out is not there */
	assert_non_null(strstr(before.buf, "[accounts]"));
	assert_true(strstr(before.buf, "[accounts]") < strstr(before.buf, "[clusters]"));
	assert_null(strstr(before.buf, " seq"));
	assert_null(strstr(before.buf, "[store_meta]"));

	/* emptied and loaded in one transaction: the same rows, the same order */
	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	assert_int_equal(store_clear_all(f->s), STORE_OK);
	assert_int_equal(store_rows_load_begin(f->s), STORE_OK);
	load_kept(f->s, &kept);
	assert_int_equal(store_rows_load_end(f->s), STORE_OK);
	assert_int_equal(store_tx_commit(f->s), STORE_OK);
	text.ctx = &after;
	assert_int_equal(store_rows_dump(f->s, NULL, &text), STORE_OK);
	assert_string_equal(after.buf, before.buf);
	/* the loaded rows work as stored rows: the token by its hash, its permissions in order */
	fill_hash(h2, 2);
	assert_int_equal(store_db_token_by_hash(f->s, h2, &tok), STORE_OK);
	assert_int_equal(tok.permission_count, 2);
	assert_string_equal(tok.permissions[1].resource, "*");
	/* the id counters are past the loaded ids */
	strcpy(d.account_id, ACCT);
	strcpy(d.cluster_id, CL1);
	strcpy(d.name, "next");
	assert_int_equal(store_database_insert(f->s, &d), STORE_OK);
	assert_int_equal(store_database_get(f->s, ACCT, CL1, "db", &got), STORE_OK);
	assert_true(d.id > got.id);

	/* loading rows whose keys are taken: a conflict, and nothing changes */
	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	assert_int_equal(store_rows_load_begin(f->s), STORE_OK);
	{
		const char *names[STORE_ROW_MAX_COLUMNS];

		for (size_t i = 0; i < kept.ncols[0]; i++)
			names[i] = kept.columns[0][i];
		assert_int_equal(
		    store_row_load(f->s, kept.table[0], kept.ncols[0], names, kept.rows[0].v),
		    STORE_CONFLICT);
	}
	store_tx_rollback(f->s);
	/* a table or column that is not ours is refused before any SQL */
	assert_int_equal(
	    store_row_load(f->s, "sqlite_master", 1, (const char *const[]){"name"}, kept.rows[0].v),
	    STORE_ERROR);
	assert_int_equal(
	    store_row_load(f->s, "accounts", 1, (const char *const[]){"id\" --"}, kept.rows[0].v),
	    STORE_ERROR);

	/* one account's rows: none of the other's */
	text.ctx = &one;
	assert_int_equal(store_rows_dump(f->s, ACCT2, &text), STORE_OK);
	assert_non_null(strstr(one.buf, "'" ACCT2 "'"));
	assert_null(strstr(one.buf, "'" ACCT "'"));
	assert_null(strstr(one.buf, "'db'"));
}

/* ---- the webhook's outbox ---- */

static void test_outbox(void **state)
{
	struct fixture *f = *state;
	struct store_outbox_event e = {.created_at = 100, .next_attempt_at = 100}, *got = NULL;
	size_t n = 0;
	int64_t count = -1, oldest = -1;

	strcpy(e.id, T1);
	strcpy(e.account_id, ACCT);
	strcpy(e.type, "token.revoked");
	strcpy(e.body, "{\"type\":\"token.revoked\"}");
	assert_int_equal(store_outbox_insert(f->s, &e), STORE_OK);
	strcpy(e.id, T2);
	e.account_id[0] = '\0';
	e.created_at = e.next_attempt_at = 200;
	assert_int_equal(store_outbox_insert(f->s, &e), STORE_OK);
	assert_int_equal(store_outbox_insert(f->s, &e), STORE_CONFLICT); /* one id, once */
	assert_int_equal(store_outbox_pending(f->s, &count, &oldest), STORE_OK);
	assert_true(count == 2 && oldest == 100);

	/* due at 150: the first alone, leased until 1000 */
	assert_int_equal(store_outbox_claim(f->s, 150, 1000, 10, &got, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(got[0].id, T1);
	assert_string_equal(got[0].account_id, ACCT);
	assert_string_equal(got[0].body, "{\"type\":\"token.revoked\"}");
	assert_int_equal(got[0].next_attempt_at, 1000);
	free(got);
	/* leased: not claimed again before the lease ends, the second now is */
	assert_int_equal(store_outbox_claim(f->s, 500, 1000, 10, &got, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(got[0].id, T2);
	assert_string_equal(got[0].account_id, "");
	free(got);
	assert_int_equal(store_outbox_claim(f->s, 999, 2000, 10, &got, &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_null(got);

	/* a failed send: attempts and the next try; a delivered one goes */
	assert_int_equal(store_outbox_retry(f->s, T1, 1, 1500, "HTTP 503"), STORE_OK);
	/* at 1500 both are due (T2's lease ended at 1000): the one due first comes first */
	assert_int_equal(store_outbox_claim(f->s, 1500, 3000, 1, &got, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(got[0].id, T2);
	free(got);
	assert_int_equal(store_outbox_claim(f->s, 1500, 3000, 1, &got, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(got[0].id, T1);
	assert_int_equal(got[0].attempts, 1);
	free(got);
	assert_int_equal(store_outbox_delivered(f->s, T1), STORE_OK);
	assert_int_equal(store_outbox_delivered(f->s, T1), STORE_NOT_FOUND);
	assert_int_equal(store_outbox_retry(f->s, T1, 2, 1, "x"), STORE_NOT_FOUND);
	assert_int_equal(store_outbox_pending(f->s, &count, &oldest), STORE_OK);
	assert_true(count == 1 && oldest == 200);
	assert_int_equal(store_outbox_claim(f->s, 0, 1, 0, &got, &n), STORE_OK); /* none asked */
	assert_int_equal(n, 0);
}

static void test_user_list_all(void **state)
{
	struct fixture *f = *state;
	struct store_user a = make_user_at(U1, "a@example.com", GROUP_ADMIN, "", 2);
	struct store_user b = make_user_at(U2, "b@example.com", GROUP_MEMBER, "", 1);
	struct store_user *list = NULL;
	size_t n = 0;

	add_account(f->s, ACCT);
	add_account(f->s, ACCT2);
	strcpy(b.account_id, ACCT2);
	assert_int_equal(store_user_insert(f->s, &a), STORE_OK);
	assert_int_equal(store_user_insert(f->s, &b), STORE_OK);
	assert_int_equal(store_user_list_all(f->s, 10, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, U2);
	free(list);
	assert_int_equal(store_user_list_all(f->s, 1, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	free(list);
}

/* A bounded pool lends at most its size, the same store again to the same thread. */
static void test_bounded_pool(void **state)
{
	struct store_target t = target;
	struct store_pool *pool = NULL;
	struct store *a, *b;
	char err[256];

	(void)state;
	t.pool_size = 1;
	assert_int_equal(store_pool_new_target(&t, &pool, err, sizeof(err)), 0);
	a = store_pool_get(pool);
	assert_non_null(a);
	b = store_pool_get(pool);
	assert_ptr_equal(a, b);
	assert_int_equal(store_ping(a), STORE_OK);
	store_pool_put(pool, a);
	b = store_pool_get(pool);
	assert_ptr_equal(a, b); /* the one connection, lent again */
	/* a transaction left open does not travel to the next borrower */
	assert_int_equal(store_tx_begin(b), STORE_OK);
	store_pool_put(pool, b);
	b = store_pool_get(pool);
	assert_int_equal(store_tx_begin(b), STORE_OK);
	store_tx_rollback(b);
	store_pool_put(pool, b);
	store_pool_free(pool);
}

/*
 * The test harness's store faults (store_fault_set): a write fails as the real
 * failure does and leaves nothing, reads and the transaction's own statements go on,
 * and NONE takes the fault off; a slow commit waits before the COMMIT it is owed to.
 */
static void test_faults(void **state)
{
	struct fixture *f = *state;
	struct store_account got;
	int64_t started;

	add_account(f->s, ACCT);
	add_cluster(f->s);
	store_fault_set(f->s, STORE_FAULT_READ_ONLY, 0);
	{
		struct store_database d = {.max_tables = 5, .max_columns_per_table = 7};

		strcpy(d.account_id, ACCT);
		strcpy(d.cluster_id, CL1);
		strcpy(d.name, "refused");
		assert_int_equal(store_database_insert(f->s, &d), STORE_READONLY);
		/* inside a transaction too, which stays usable for reads and its ROLLBACK */
		assert_int_equal(store_tx_begin(f->s), STORE_OK);
		assert_int_equal(store_database_insert(f->s, &d), STORE_READONLY);
		assert_int_equal(store_account_get(f->s, ACCT, &got), STORE_OK);
		store_tx_rollback(f->s);
		store_fault_set(f->s, STORE_FAULT_FULL, 0);
		assert_int_equal(store_database_insert(f->s, &d), STORE_FULL);
		assert_int_equal(store_account_get(f->s, ACCT, &got), STORE_OK);
		store_fault_set(f->s, STORE_FAULT_NONE, 0);
		{
			struct store_database none;

			assert_int_equal(store_database_get(f->s, ACCT, CL1, "refused", &none),
			                 STORE_NOT_FOUND);
		}
	}
	insert_database(f->s, "after");

	/* a write in a transaction owes its COMMIT the delay, even once the fault is off */
	store_fault_set(f->s, STORE_FAULT_SLOW_COMMIT, 150);
	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	insert_database(f->s, "slow");
	store_fault_set(f->s, STORE_FAULT_NONE, 0);
	started = time_monotonic_us();
	assert_int_equal(store_tx_commit(f->s), STORE_OK);
	assert_true(time_monotonic_us() - started >= 150 * 1000);
	/* a rollback forgets what was owed: the next commit does not wait for it */
	store_fault_set(f->s, STORE_FAULT_SLOW_COMMIT, 60000);
	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	insert_database(f->s, "rolled-back");
	store_tx_rollback(f->s);
	store_fault_set(f->s, STORE_FAULT_NONE, 0);
	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	insert_database(f->s, "quick");
	started = time_monotonic_us();
	assert_int_equal(store_tx_commit(f->s), STORE_OK);
	/* half the forgotten 60 s: no machine is that slow to commit one row */
	assert_true(time_monotonic_us() - started < 30 * 1000000LL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_accounts_and_clusters, setup, teardown),
    cmocka_unit_test_setup_teardown(test_users_and_emails, setup, teardown),
    cmocka_unit_test_setup_teardown(test_last_admin, setup, teardown),
    cmocka_unit_test_setup_teardown(test_management_tokens, setup, teardown),
    cmocka_unit_test_setup_teardown(test_token_lifecycle, setup, teardown),
    cmocka_unit_test_setup_teardown(test_databases_and_tables, setup, teardown),
    cmocka_unit_test_setup_teardown(test_table_iceberg, setup, teardown),
    cmocka_unit_test_setup_teardown(test_deleted_hold_and_purge, setup, teardown),
    cmocka_unit_test_setup_teardown(test_database_tokens, setup, teardown),
    cmocka_unit_test_setup_teardown(test_transactions_and_snapshots, setup, teardown),
    cmocka_unit_test_setup_teardown(test_reset_restarts_ids, setup, teardown),
    cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
    cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
    cmocka_unit_test_setup_teardown(test_meta_claim_and_key, setup, teardown),
    cmocka_unit_test_setup_teardown(test_retention_and_counts, setup, teardown),
    cmocka_unit_test_setup_teardown(test_token_expiry, setup, teardown),
    cmocka_unit_test_setup_teardown(test_last_admin_race, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bounded_pool, setup, teardown),
    cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
    cmocka_unit_test_setup_teardown(test_invites, setup, teardown),
    cmocka_unit_test_setup_teardown(test_invite_accept_and_revoke, setup, teardown),
    cmocka_unit_test_setup_teardown(test_user_list_all, setup, teardown),
    cmocka_unit_test_setup_teardown(test_account_delete, setup, teardown),
    cmocka_unit_test_setup_teardown(test_snapshot_rows_out_and_back, setup, teardown),
    cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
    cmocka_unit_test_setup_teardown(test_identity_is_issuer_and_subject, setup, teardown),
    cmocka_unit_test_setup_teardown(test_link_by_email, setup, teardown),
    cmocka_unit_test_setup_teardown(test_unbound_subjects, setup, teardown),
};

int main(void)
{
	const char *pg_url = getenv("MGMTD_TEST_POSTGRES_URL");
	int failed;

	if (sodium_init() < 0)
		return 1;
	strcpy(sqlite_dir, "/tmp/test_store_contract.XXXXXX");
	if (mkdtemp(sqlite_dir) == NULL)
		return 1;
	snprintf(sqlite_path, sizeof(sqlite_path), "%s/mgmtd.db", sqlite_dir);
	target.backend = STORE_BACKEND_SQLITE;
	target.location = sqlite_path;
	failed = cmocka_run_group_tests_name("store contract, sqlite", tests, NULL, NULL);
	rmdir(sqlite_dir);
	if (pg_url == NULL) {
		printf("store contract, postgres: not run here (no MGMTD_TEST_POSTGRES_URL); `make "
		       "unit` runs it\n");
		return failed;
	}
	target.backend = STORE_BACKEND_POSTGRES;
	target.location = pg_url;
	return failed + cmocka_run_group_tests_name("store contract, postgres", tests, NULL, NULL);
}
