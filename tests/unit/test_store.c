/*
 * test_store.c - the SQLite store against a real file in a fresh directory.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema.h"
#include "store.h"

#define ACCT   "11111111-1111-4111-8111-111111111111"
#define ACCT2  "22222222-2222-4222-8222-222222222222"
#define ISS    "https://idp.example.test/"
#define NOACCT "99999999-9999-4999-8999-999999999999"
#define CL1    "33333333-3333-4333-8333-333333333331"
#define CL2    "33333333-3333-4333-8333-333333333332"
#define U1     "44444444-4444-4444-8444-444444444441"
#define U2     "44444444-4444-4444-8444-444444444442"
#define U3     "44444444-4444-4444-8444-444444444443"
#define T1     "55555555-5555-4555-8555-555555555551"
#define T2     "55555555-5555-4555-8555-555555555552"
#define T3     "55555555-5555-4555-8555-555555555553"
#define T4     "55555555-5555-4555-8555-555555555554"

struct fixture {
	char dir[64];
	char path[128];
	struct store *s;
};

static void path_in(const struct fixture *f, const char *suffix, char *out, size_t size)
{
	snprintf(out, size, "%s%s", f->path, suffix);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/mgmtd.db", f->dir);
	if (store_open(f->path, &f->s, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		rmdir(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* Removes the database at path, its companions, and the directory dir. */
static void remove_db(const char *dir, const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	char p[160];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		unlink(p);
	}
	rmdir(dir);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	remove_db(f->dir, f->path);
	free(f);
	return 0;
}

/* A plain SQLite connection beside the store, to look behind its back. */
static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
	sqlite3_free(msg);
	assert_int_equal(rc, SQLITE_OK);
}

/* The first column of the first row of sql, as text ("" for NULL or no row). */
static void raw_text(sqlite3 *db, const char *sql, char *out, size_t size)
{
	sqlite3_stmt *q = NULL;
	const unsigned char *t;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	out[0] = '\0';
	if (sqlite3_step(q) == SQLITE_ROW && (t = sqlite3_column_text(q, 0)) != NULL)
		snprintf(out, size, "%s", (const char *)t);
	sqlite3_finalize(q);
}

static void add_account(struct store *s, const char *id, const char *name)
{
	struct store_account a = {.created_at = 1000};

	strcpy(a.id, id);
	strcpy(a.name, name);
	assert_int_equal(store_account_ensure(s, &a), STORE_OK);
}

static struct store_user make_user(const char *id, const char *email, enum user_group g,
                                   const char *sub, int64_t created_at)
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
	u.created_at = created_at;
	return u;
}

static struct store_mgmt_token make_token(const char *id, int64_t created_at, int64_t expires_at)
{
	struct store_mgmt_token t;

	memset(&t, 0, sizeof(t));
	strcpy(t.id, id);
	strcpy(t.account_id, ACCT);
	snprintf(t.description, sizeof(t.description), "token %s", id);
	strcpy(t.prefix, "M.V1.abcd");
	strcpy(t.created_by, U1);
	t.created_at = created_at;
	t.expires_at = expires_at;
	return t;
}

static void fill_hash(unsigned char h[TOKEN_HASH_LEN], unsigned char seed)
{
	for (int i = 0; i < TOKEN_HASH_LEN; i++)
		h[i] = (unsigned char)(seed * 31 + i);
}

/*
 * Fails when any statement of the store was left un-reset: a kept read
 * snapshot makes a TRUNCATE checkpoint from another connection busy.
 */
static void assert_no_open_snapshot(const char *path)
{
	sqlite3 *db = raw_open(path);
	int log_frames = -1, done = -1;

	assert_int_equal(
	    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &done),
	    SQLITE_OK);
	sqlite3_close(db);
}

/* ---- open and migrations ---- */

/* The newest migration's number (the numbers may have gaps while branches merge). */
#define LATEST_VERSION (schema_migrations[schema_migration_count - 1].version)

static void test_open_creates_private_wal_file(void **state)
{
	struct fixture f;
	struct store *s = NULL;
	struct stat st;
	char err[256], p[160], mode[32];
	mode_t old = umask(0);
	sqlite3 *db;

	strcpy(f.dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof(f.path), "%s/new.db", f.dir);
	assert_int_equal(store_open(f.path, &s, err, sizeof(err)), 0);
	umask(old);
	assert_non_null(s);
	add_account(s, ACCT, "Example"); /* so that -wal exists */

	assert_int_equal(stat(f.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	path_in(&f, "-wal", p, sizeof(p));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(store_schema_version(s), LATEST_VERSION);
	assert_true(schema_migration_count >= 1);

	db = raw_open(f.path);
	raw_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	raw_text(db, "PRAGMA user_version", mode, sizeof(mode));
	assert_int_equal(atoi(mode), schema_migrations[schema_migration_count - 1].version);
	sqlite3_close(db);

	store_close(s);
	remove_db(f.dir, f.path);
}

static void test_reopen_is_idempotent(void **state)
{
	struct fixture *f = *state;
	struct store_account a;
	char err[256];

	add_account(f->s, ACCT, "Example");
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->path, &f->s, err, sizeof(err)), 0);
	assert_int_equal(store_schema_version(f->s), LATEST_VERSION);
	assert_int_equal(store_account_get(f->s, ACCT, &a), STORE_OK);
	assert_string_equal(a.name, "Example");

	/* A second connection at the same time migrates nothing either. */
	struct store *s2 = NULL;

	assert_int_equal(store_open(f->path, &s2, err, sizeof(err)), 0);
	assert_int_equal(store_schema_version(s2), LATEST_VERSION);
	store_close(s2);
}

static void test_newer_database_is_refused(void **state)
{
	struct fixture *f = *state;
	struct store *s2 = (struct store *)1;
	char err[256] = "";
	sqlite3 *db;

	db = raw_open(f->path);
	raw_exec(db, "PRAGMA user_version = 999");
	sqlite3_close(db);

	assert_int_equal(store_open(f->path, &s2, err, sizeof(err)), -1);
	assert_null(s2);
	assert_non_null(strstr(err, "999"));
	assert_non_null(strstr(err, "newer"));
}

/*
 * 0005_user_issuer rebuilds users: a file written at version 4 keeps every
 * row, their order and their subjects, which stay unbound (no issuer) for
 * the start to bind (identity.h), and a subject becomes unique per issuer.
 */
static void test_migration_to_issuer_bound_users(void **state)
{
	struct fixture f;
	struct store *s = NULL;
	struct store_user *list = NULL, got;
	struct store_user again = make_user(U3, "again@example.com", GROUP_MEMBER, "sub-old", 9);
	char err[256], sql[64];
	size_t n = 0;
	sqlite3 *db;

	strcpy(f.dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof(f.path), "%s/old.db", f.dir);
	assert_int_equal(close(open(f.path, O_RDWR | O_CREAT, 0600)), 0);
	db = raw_open(f.path);
	for (size_t i = 0; i < schema_migration_count && schema_migrations[i].version <= 4; i++)
		raw_exec(db, schema_migrations[i].sql);
	raw_exec(db, "PRAGMA user_version = 4");
	raw_exec(db, "INSERT INTO accounts (id, name, created_at) VALUES ('" ACCT "', 'A', 1)");
	/* one instant for both: rowid order decides, and must survive the rebuild */
	raw_exec(db, "INSERT INTO users (id, account_id, email, first_name, grp, idp_subject, "
	             "created_at) VALUES ('" U2 "', '" ACCT "', 'Old@example.com', 'Old', 'admin', "
	             "'sub-old', 5)");
	raw_exec(db, "INSERT INTO users (id, account_id, email, grp, created_at) VALUES ('" U1
	             "', '" ACCT "', 'plain@example.com', 'member', 5)");
	sqlite3_close(db);

	assert_int_equal(store_open(f.path, &s, err, sizeof(err)), 0);
	assert_true(store_schema_version(s) >= 5);
	assert_int_equal(store_user_list(s, ACCT, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, U2);
	assert_string_equal(list[0].email, "Old@example.com");
	assert_string_equal(list[0].first_name, "Old");
	assert_string_equal(list[0].idp_subject, "sub-old");
	assert_string_equal(list[0].idp_issuer, "");
	assert_int_equal(list[0].group, GROUP_ADMIN);
	assert_string_equal(list[1].id, U1);
	free(list);
	assert_int_equal(store_users_unbound(s, NULL, 10, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, U2);
	free(list);
	/* still case-insensitive emails; the old subject at an issuer is a new identity */
	assert_int_equal(store_user_by_email(s, ACCT, "OLD@example.com", &got), STORE_OK);
	assert_int_equal(store_user_insert(s, &again), STORE_OK);
	strcpy(again.id, "44444444-4444-4444-8444-44444444444b");
	strcpy(again.email, "third@example.com");
	assert_int_equal(store_user_insert(s, &again), STORE_CONFLICT);
	/* the index of the old table came back */
	db = raw_open(f.path);
	raw_text(db,
	         "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
	         "name = 'users_by_account' AND tbl_name = 'users'",
	         sql, sizeof(sql));
	assert_string_equal(sql, "1");
	sqlite3_close(db);
	store_close(s);
	remove_db(f.dir, f.path);
}

#define RACERS 8
#define ROUNDS 10

struct race {
	const char *path;
	pthread_barrier_t *start;
	int rc;
	int version;
	char err[256];
};

static void *race_open(void *arg)
{
	struct race *r = arg;
	struct store *s = NULL;

	pthread_barrier_wait(r->start);
	r->rc = store_open(r->path, &s, r->err, sizeof(r->err));
	r->version = r->rc == 0 ? store_schema_version(s) : -1;
	store_close(s);
	return NULL;
}

/*
 * Several processes may start on a fresh file at once: each migration must
 * run once (a second run would fail on CREATE TABLE), all must succeed.
 */
static void test_concurrent_first_open(void **state)
{
	char dir[64], path[128];
	struct race r[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t start;

	for (int round = 0; round < ROUNDS; round++) {
		strcpy(dir, "/tmp/test_store.XXXXXX");
		assert_non_null(mkdtemp(dir));
		snprintf(path, sizeof(path), "%s/race.db", dir);
		assert_int_equal(pthread_barrier_init(&start, NULL, RACERS), 0);
		for (int i = 0; i < RACERS; i++) {
			memset(&r[i], 0, sizeof(r[i]));
			r[i].path = path;
			r[i].start = &start;
			assert_int_equal(pthread_create(&th[i], NULL, race_open, &r[i]), 0);
		}
		for (int i = 0; i < RACERS; i++)
			assert_int_equal(pthread_join(th[i], NULL), 0);
		pthread_barrier_destroy(&start);
		remove_db(dir, path);
		for (int i = 0; i < RACERS; i++) {
			if (r[i].rc != 0)
				fprintf(stderr, "round %d, open %d: %s\n", round, i, r[i].err);
			assert_int_equal(r[i].rc, 0);
			assert_int_equal(r[i].version, LATEST_VERSION);
		}
	}
}

static void test_names(void **state)
{
	enum user_group g;

	assert_string_equal(store_status_name(STORE_OK), "ok");
	assert_string_equal(store_status_name(STORE_CONFLICT), "conflict");
	assert_string_equal(user_group_name(GROUP_ADMIN), "admin");
	assert_string_equal(user_group_name(GROUP_MEMBER), "member");
	assert_string_equal(user_group_name(GROUP_AUDITOR), "auditor");
	assert_int_equal(user_group_parse("auditor", &g), 0);
	assert_int_equal(g, GROUP_AUDITOR);
	assert_int_equal(user_group_parse("member", &g), 0);
	assert_int_equal(g, GROUP_MEMBER);
	assert_int_equal(user_group_parse("admin", &g), 0);
	assert_int_equal(g, GROUP_ADMIN);
	assert_int_equal(user_group_parse("Admin", &g), -1);
	assert_int_equal(user_group_parse("", &g), -1);
	assert_int_equal(user_group_parse(NULL, &g), -1);
}

/* ---- accounts and clusters ---- */

static void test_account_ensure(void **state)
{
	struct fixture *f = *state;
	struct store_account a = {.id = ACCT, .name = "Example", .created_at = 1000}, got;

	assert_int_equal(store_account_get(f->s, ACCT, &got), STORE_NOT_FOUND);
	assert_int_equal(store_account_ensure(f->s, &a), STORE_OK);
	a.created_at = 2000; /* ignored by the comparison */
	assert_int_equal(store_account_ensure(f->s, &a), STORE_OK);
	strcpy(a.name, "Other");
	assert_int_equal(store_account_ensure(f->s, &a), STORE_CONFLICT);

	assert_int_equal(store_account_get(f->s, ACCT, &got), STORE_OK);
	assert_string_equal(got.id, ACCT);
	assert_string_equal(got.name, "Example");
	assert_int_equal(got.created_at, 1000);
	assert_no_open_snapshot(f->path);
}

static void test_cluster_ensure_get_list(void **state)
{
	struct fixture *f = *state;
	struct store_cluster c = {.id = CL1,
	                          .account_id = ACCT,
	                          .name = "b",
	                          .url = "https://b",
	                          .category = 3,
	                          .created_at = 200};
	struct store_cluster got, *list = (struct store_cluster *)1;
	size_t n = 99;

	add_account(f->s, ACCT, "Example");
	add_account(f->s, ACCT2, "Second");
	assert_int_equal(store_cluster_list(f->s, ACCT, &list, &n), STORE_OK);
	assert_null(list);
	assert_int_equal(n, 0);

	assert_int_equal(store_cluster_ensure(f->s, &c), STORE_OK);
	c.created_at = 5;
	assert_int_equal(store_cluster_ensure(f->s, &c), STORE_OK);
	strcpy(c.url, "https://other");
	assert_int_equal(store_cluster_ensure(f->s, &c), STORE_CONFLICT);
	strcpy(c.url, "https://b");
	strcpy(c.name, "renamed");
	assert_int_equal(store_cluster_ensure(f->s, &c), STORE_CONFLICT);
	strcpy(c.name, "b");
	c.category = 1;
	assert_int_equal(store_cluster_ensure(f->s, &c), STORE_CONFLICT);
	c.category = 3;
	strcpy(c.account_id, ACCT2);
	assert_int_equal(store_cluster_ensure(f->s, &c), STORE_CONFLICT);

	/* Older but inserted later: listed first. */
	struct store_cluster c1 = {
	    .id = CL2, .account_id = ACCT, .name = "a", .url = "https://a", .created_at = 100};

	assert_int_equal(store_cluster_ensure(f->s, &c1), STORE_OK);

	assert_int_equal(store_cluster_get(f->s, ACCT, CL1, &got), STORE_OK);
	assert_string_equal(got.name, "b");
	assert_string_equal(got.url, "https://b");
	assert_int_equal(got.category, 3);
	assert_string_equal(got.account_id, ACCT);
	assert_int_equal(got.created_at, 200);
	assert_int_equal(store_cluster_get(f->s, ACCT2, CL1, &got), STORE_NOT_FOUND);

	assert_int_equal(store_cluster_list(f->s, ACCT, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, CL2);
	assert_string_equal(list[1].id, CL1);
	free(list);
	assert_int_equal(store_cluster_list(f->s, ACCT2, &list, &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_null(list);
	assert_no_open_snapshot(f->path);
}

/* ---- users ---- */

static void test_users_crud(void **state)
{
	struct fixture *f = *state;
	struct store_user u1 = make_user(U1, "Ann@Example.com", GROUP_ADMIN, "sub-ann", 300);
	struct store_user u2 = make_user(U2, "bob@example.com", GROUP_MEMBER, "", 100);
	struct store_user u3 = make_user(U3, "cy@example.com", GROUP_AUDITOR, "", 200);
	struct store_user got, *list = NULL;
	size_t n = 0;
	char buf[64];
	sqlite3 *db;

	add_account(f->s, ACCT, "Example");
	strcpy(u1.first_name, "Ann");
	strcpy(u1.last_name, "Example");
	assert_int_equal(store_user_insert(f->s, &u1), STORE_OK);
	assert_int_equal(store_user_insert(f->s, &u2), STORE_OK);
	/* Several users without a subject are fine. */
	assert_int_equal(store_user_insert(f->s, &u3), STORE_OK);

	assert_int_equal(store_user_get(f->s, ACCT, U1, &got), STORE_OK);
	assert_string_equal(got.email, "Ann@Example.com");
	assert_string_equal(got.first_name, "Ann");
	assert_string_equal(got.last_name, "Example");
	assert_string_equal(got.idp_subject, "sub-ann");
	assert_int_equal(got.group, GROUP_ADMIN);
	assert_int_equal(got.created_at, 300);
	assert_int_equal(store_user_get(f->s, ACCT2, U1, &got), STORE_NOT_FOUND);

	assert_int_equal(store_user_get(f->s, ACCT, U2, &got), STORE_OK);
	assert_string_equal(got.first_name, "");
	assert_string_equal(got.idp_subject, "");
	assert_int_equal(got.group, GROUP_MEMBER);

	/* Absent optional values are NULL in the database. */
	db = raw_open(f->path);
	raw_text(db, "SELECT count(*) FROM users WHERE idp_subject IS NULL AND first_name IS NULL",
	         buf, sizeof(buf));
	assert_string_equal(buf, "2");
	sqlite3_close(db);

	assert_int_equal(store_user_by_email(f->s, ACCT, "ann@example.COM", &got), STORE_OK);
	assert_string_equal(got.id, U1);
	assert_int_equal(store_user_by_email(f->s, ACCT, "nobody@example.com", &got),
	                 STORE_NOT_FOUND);

	/* Duplicates: email in any case, identity (issuer and subject). */
	struct store_user dup = make_user("44444444-4444-4444-8444-444444444449", "BOB@example.com",
	                                  GROUP_MEMBER, "", 1);

	assert_int_equal(store_user_insert(f->s, &dup), STORE_CONFLICT);
	strcpy(dup.email, "new@example.com");
	strcpy(dup.idp_subject, "sub-ann");
	strcpy(dup.idp_issuer, ISS);
	assert_int_equal(store_user_insert(f->s, &dup), STORE_CONFLICT);
	strcpy(dup.idp_issuer, "");
	strcpy(dup.id, U1);
	strcpy(dup.idp_subject, "");
	assert_int_equal(store_user_insert(f->s, &dup), STORE_CONFLICT);

	assert_int_equal(store_user_list(f->s, ACCT, &list, &n), STORE_OK);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].id, U2);
	assert_string_equal(list[1].id, U3);
	assert_string_equal(list[2].id, U1);
	free(list);

	/* Update: new names, a subject, a group; id and created_at stay. */
	u2 = make_user(U2, "Robert@example.com", GROUP_AUDITOR, "sub-bob", 999);
	strcpy(u2.first_name, "Robert");
	assert_int_equal(store_user_update(f->s, &u2), STORE_OK);
	assert_int_equal(store_user_get(f->s, ACCT, U2, &got), STORE_OK);
	assert_string_equal(got.email, "Robert@example.com");
	assert_string_equal(got.first_name, "Robert");
	assert_string_equal(got.idp_subject, "sub-bob");
	assert_int_equal(got.group, GROUP_AUDITOR);
	assert_int_equal(got.created_at, 100);

	/* Taking another user's email or subject. */
	strcpy(u2.email, "CY@example.com");
	assert_int_equal(store_user_update(f->s, &u2), STORE_CONFLICT);
	strcpy(u2.email, "robert@example.com");
	strcpy(u2.idp_subject, "sub-ann");
	assert_int_equal(store_user_update(f->s, &u2), STORE_CONFLICT);
	assert_int_equal(store_user_get(f->s, ACCT, U2, &got), STORE_OK);
	assert_string_equal(got.idp_subject, "sub-bob");

	struct store_user ghost =
	    make_user("44444444-4444-4444-8444-44444444444a", "g@example.com", GROUP_MEMBER, "", 1);

	assert_int_equal(store_user_update(f->s, &ghost), STORE_NOT_FOUND);

	assert_int_equal(store_user_delete(f->s, ACCT, U3), STORE_OK);
	assert_int_equal(store_user_get(f->s, ACCT, U3, &got), STORE_NOT_FOUND);
	assert_int_equal(store_user_delete(f->s, ACCT, U3), STORE_NOT_FOUND);
	assert_no_open_snapshot(f->path);
}

static void test_user_for_idp(void **state)
{
	struct fixture *f = *state;
	struct store_user with_sub = make_user(U1, "ann@example.com", GROUP_ADMIN, "sub-ann", 1);
	struct store_user no_sub = make_user(U2, "Bob@Example.com", GROUP_MEMBER, "", 2);
	struct store_user got;

	add_account(f->s, ACCT, "Example");
	add_account(f->s, ACCT2, "Second");
	assert_int_equal(store_user_insert(f->s, &with_sub), STORE_OK);
	assert_int_equal(store_user_insert(f->s, &no_sub), STORE_OK);

	/* The identity decides, whatever the email claim says. */
	assert_int_equal(store_user_for_idp(f->s, ACCT, ISS, "sub-ann", "bob@example.com", &got),
	                 STORE_OK);
	assert_string_equal(got.id, U1);
	/* Email fallback only for a user without a subject, case-insensitively. */
	assert_int_equal(
	    store_user_for_idp(f->s, ACCT, ISS, "sub-unknown", "bob@example.com", &got), STORE_OK);
	assert_string_equal(got.id, U2);
	assert_int_equal(
	    store_user_for_idp(f->s, ACCT, ISS, "sub-unknown", "ann@example.com", &got),
	    STORE_NOT_FOUND);
	assert_int_equal(store_user_for_idp(f->s, ACCT, ISS, "sub-unknown", "", &got),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_user_for_idp(f->s, ACCT, ISS, "", "", &got), STORE_NOT_FOUND);
	/* Never across accounts. */
	assert_int_equal(store_user_for_idp(f->s, ACCT2, ISS, "sub-ann", "bob@example.com", &got),
	                 STORE_NOT_FOUND);
	assert_no_open_snapshot(f->path);
}

static void test_last_admin(void **state)
{
	struct fixture *f = *state;
	struct store_user admin = make_user(U1, "a@example.com", GROUP_ADMIN, "", 1);
	struct store_user member = make_user(U2, "m@example.com", GROUP_MEMBER, "", 2);
	struct store_user got, demoted;
	long count = -1;

	add_account(f->s, ACCT, "Example");
	assert_int_equal(store_user_insert(f->s, &admin), STORE_OK);
	assert_int_equal(store_user_insert(f->s, &member), STORE_OK);
	assert_int_equal(store_admin_count(f->s, ACCT, &count), STORE_OK);
	assert_int_equal(count, 1);

	demoted = admin;
	demoted.group = GROUP_MEMBER;
	strcpy(demoted.first_name, "Changed");
	assert_int_equal(store_user_update(f->s, &demoted), STORE_LAST_ADMIN);
	assert_int_equal(store_user_get(f->s, ACCT, U1, &got), STORE_OK);
	assert_int_equal(got.group, GROUP_ADMIN);
	assert_string_equal(got.first_name, "");
	assert_int_equal(store_user_delete(f->s, ACCT, U1), STORE_LAST_ADMIN);
	assert_int_equal(store_user_get(f->s, ACCT, U1, &got), STORE_OK);

	/* The last admin may still change other things. */
	strcpy(admin.first_name, "Still");
	assert_int_equal(store_user_update(f->s, &admin), STORE_OK);
	/* Members come and go freely. */
	member.group = GROUP_AUDITOR;
	assert_int_equal(store_user_update(f->s, &member), STORE_OK);

	/* With two admins one may go, then the other is the last. */
	member.group = GROUP_ADMIN;
	assert_int_equal(store_user_update(f->s, &member), STORE_OK);
	assert_int_equal(store_admin_count(f->s, ACCT, &count), STORE_OK);
	assert_int_equal(count, 2);
	assert_int_equal(store_user_delete(f->s, ACCT, U1), STORE_OK);
	assert_int_equal(store_user_delete(f->s, ACCT, U2), STORE_LAST_ADMIN);
	member.group = GROUP_MEMBER;
	assert_int_equal(store_user_update(f->s, &member), STORE_LAST_ADMIN);
	assert_int_equal(store_admin_count(f->s, ACCT, &count), STORE_OK);
	assert_int_equal(count, 1);
	assert_no_open_snapshot(f->path);
}

/* Inside a caller's transaction the atomic functions neither commit nor end it. */
static void test_caller_transaction(void **state)
{
	struct fixture *f = *state;
	struct store_user admin = make_user(U1, "a@example.com", GROUP_ADMIN, "", 1);
	struct store_account got;

	add_account(f->s, ACCT, "Example");
	assert_int_equal(store_user_insert(f->s, &admin), STORE_OK);

	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	add_account(f->s, ACCT2, "Second");
	assert_int_equal(store_user_delete(f->s, ACCT, U1), STORE_LAST_ADMIN);
	store_tx_rollback(f->s);
	assert_int_equal(store_account_get(f->s, ACCT2, &got), STORE_NOT_FOUND);

	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	add_account(f->s, ACCT2, "Second");
	assert_int_equal(store_user_delete(f->s, ACCT, U1), STORE_LAST_ADMIN);
	assert_int_equal(store_tx_commit(f->s), STORE_OK);
	assert_int_equal(store_account_get(f->s, ACCT2, &got), STORE_OK);
	/* Rolling back with nothing open is harmless. */
	store_tx_rollback(f->s);
	assert_no_open_snapshot(f->path);
}

static void test_foreign_key_refused(void **state)
{
	struct fixture *f = *state;
	struct store_user u = make_user(U1, "a@example.com", GROUP_ADMIN, "", 1);
	struct store_cluster c = {.id = CL1, .account_id = NOACCT, .name = "x", .url = "u"};
	struct store_mgmt_token t = make_token(T1, 1, 0);
	unsigned char h[TOKEN_HASH_LEN];

	strcpy(u.account_id, NOACCT);
	assert_int_equal(store_user_insert(f->s, &u), STORE_ERROR);
	assert_int_equal(store_cluster_ensure(f->s, &c), STORE_ERROR);
	strcpy(t.account_id, NOACCT);
	fill_hash(h, 1);
	assert_int_equal(store_mgmt_token_insert(f->s, &t, h), STORE_ERROR);
	assert_no_open_snapshot(f->path);
}

/* A value too long for its struct field is refused, not cut. */
static void test_oversized_value_refused(void **state)
{
	struct fixture *f = *state;
	struct store_user u = make_user(U1, "a@example.com", GROUP_ADMIN, "", 1), got, *list;
	size_t n;
	sqlite3 *db;

	add_account(f->s, ACCT, "Example");
	assert_int_equal(store_user_insert(f->s, &u), STORE_OK);
	db = raw_open(f->path);
	raw_exec(db, "UPDATE users SET first_name = printf('%.2000c', 'x')");
	sqlite3_close(db);

	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(store_user_get(f->s, ACCT, U1, &got), STORE_ERROR);
	/* Output untouched on failure. */
	assert_int_equal((unsigned char)got.id[0], 0x5a);
	assert_int_equal(store_user_list(f->s, ACCT, &list, &n), STORE_ERROR);
	assert_no_open_snapshot(f->path);
}

/* ---- management tokens ---- */

static void test_tokens(void **state)
{
	struct fixture *f = *state;
	const int64_t now = 10000;
	struct store_mgmt_token t1 = make_token(T1, 250, 0);          /* active, never expires */
	struct store_mgmt_token t2 = make_token(T2, 200, now - 1);    /* expired */
	struct store_mgmt_token t3 = make_token(T3, 300, now + 1000); /* active until later */
	struct store_mgmt_token t4 = make_token(T4, 400, now);        /* expires exactly now */
	struct store_mgmt_token got, *list = NULL;
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN], h3[TOKEN_HASH_LEN],
	    h4[TOKEN_HASH_LEN], other[TOKEN_HASH_LEN];
	size_t n = 0;
	char buf[64];
	sqlite3 *db;

	add_account(f->s, ACCT, "Example");
	add_account(f->s, ACCT2, "Second");
	fill_hash(h1, 1);
	fill_hash(h2, 2);
	fill_hash(h3, 3);
	fill_hash(h4, 4);
	fill_hash(other, 9);
	strcpy(t1.created_by, ""); /* e.g. minted by a management token */
	assert_int_equal(store_mgmt_token_insert(f->s, &t1, h1), STORE_OK);
	assert_int_equal(store_mgmt_token_insert(f->s, &t2, h2), STORE_OK);
	assert_int_equal(store_mgmt_token_insert(f->s, &t3, h3), STORE_OK);
	assert_int_equal(store_mgmt_token_insert(f->s, &t4, h4), STORE_OK);
	/* Same hash, or same id: conflict. */
	struct store_mgmt_token dup = make_token("55555555-5555-4555-8555-555555555559", 1, 0);

	assert_int_equal(store_mgmt_token_insert(f->s, &dup, h1), STORE_CONFLICT);
	assert_int_equal(store_mgmt_token_insert(f->s, &t1, other), STORE_CONFLICT);

	db = raw_open(f->path);
	raw_text(db, "SELECT hash_scheme FROM management_tokens LIMIT 1", buf, sizeof(buf));
	assert_string_equal(buf, TOKEN_HASH_SCHEME);
	raw_text(db,
	         "SELECT count(*) FROM management_tokens WHERE created_by IS NULL"
	         " AND expires_at IS NULL AND revoked_at IS NULL AND last_used_at IS NULL",
	         buf, sizeof(buf));
	assert_string_equal(buf, "1");
	sqlite3_close(db);

	assert_int_equal(store_mgmt_token_get(f->s, ACCT, T3, &got), STORE_OK);
	assert_string_equal(got.description, "token " T3);
	assert_string_equal(got.prefix, "M.V1.abcd");
	assert_string_equal(got.created_by, U1);
	assert_int_equal(got.created_at, 300);
	assert_int_equal(got.expires_at, now + 1000);
	assert_int_equal(got.revoked_at, 0);
	assert_string_equal(got.revoked_by, "");
	assert_int_equal(got.last_used_at, 0);
	assert_int_equal(store_mgmt_token_get(f->s, ACCT2, T3, &got), STORE_NOT_FOUND);

	assert_int_equal(store_mgmt_token_by_hash(f->s, h2, &got), STORE_OK);
	assert_string_equal(got.id, T2);
	assert_int_equal(store_mgmt_token_by_hash(f->s, other, &got), STORE_NOT_FOUND);

	assert_int_equal(store_mgmt_token_list(f->s, ACCT, TOKEN_FILTER_ALL, now, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 4);
	assert_string_equal(list[0].id, T2);
	assert_string_equal(list[1].id, T1);
	assert_string_equal(list[2].id, T3);
	assert_string_equal(list[3].id, T4);
	free(list);
	assert_int_equal(store_mgmt_token_list(f->s, ACCT, TOKEN_FILTER_ACTIVE, now, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, T1);
	assert_string_equal(list[1].id, T3);
	free(list);
	assert_int_equal(store_mgmt_token_list(f->s, ACCT, TOKEN_FILTER_EXPIRED, now, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, T2);
	assert_string_equal(list[1].id, T4);
	free(list);
	list = (struct store_mgmt_token *)1;
	assert_int_equal(store_mgmt_token_list(f->s, ACCT, TOKEN_FILTER_REVOKED, now, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 0);
	assert_null(list);

	/* Revoke: the first revocation stays. An expired token becomes revoked. */
	assert_int_equal(store_mgmt_token_revoke(f->s, ACCT, T3, now + 5, U1, &got), STORE_OK);
	assert_int_equal(got.revoked_at, now + 5);
	assert_string_equal(got.revoked_by, U1);
	assert_int_equal(store_mgmt_token_revoke(f->s, ACCT, T3, now + 99, T1, &got), STORE_OK);
	assert_int_equal(got.revoked_at, now + 5);
	assert_string_equal(got.revoked_by, U1);
	assert_int_equal(store_mgmt_token_revoke(f->s, ACCT, T2, now, "", &got), STORE_OK);
	assert_string_equal(got.revoked_by, "");
	assert_int_equal(store_mgmt_token_revoke(f->s, ACCT2, T1, now, U1, &got), STORE_NOT_FOUND);
	assert_int_equal(store_mgmt_token_revoke(f->s, ACCT, "nope", now, U1, &got),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_mgmt_token_get(f->s, ACCT, T1, &got), STORE_OK);
	assert_int_equal(got.revoked_at, 0);

	assert_int_equal(store_mgmt_token_list(f->s, ACCT, TOKEN_FILTER_REVOKED, now, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, T2);
	assert_string_equal(list[1].id, T3);
	free(list);
	assert_int_equal(store_mgmt_token_list(f->s, ACCT, TOKEN_FILTER_EXPIRED, now, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, T4);
	free(list);
	assert_int_equal(store_mgmt_token_list(f->s, ACCT, TOKEN_FILTER_ACTIVE, now, &list, &n),
	                 STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, T1);
	free(list);
	/* A revoked token is still found by hash: callers decide what state means. */
	assert_int_equal(store_mgmt_token_by_hash(f->s, h3, &got), STORE_OK);
	assert_int_equal(got.revoked_at, now + 5);

	/* Touch: at most once per interval. */
	assert_int_equal(store_mgmt_token_touch(f->s, T1, 1000, 500), STORE_OK);
	assert_int_equal(store_mgmt_token_get(f->s, ACCT, T1, &got), STORE_OK);
	assert_int_equal(got.last_used_at, 1000);
	assert_int_equal(store_mgmt_token_touch(f->s, T1, 1499, 500), STORE_OK);
	assert_int_equal(store_mgmt_token_get(f->s, ACCT, T1, &got), STORE_OK);
	assert_int_equal(got.last_used_at, 1000);
	assert_int_equal(store_mgmt_token_touch(f->s, T1, 1500, 500), STORE_OK);
	assert_int_equal(store_mgmt_token_get(f->s, ACCT, T1, &got), STORE_OK);
	assert_int_equal(got.last_used_at, 1500);
	assert_int_equal(store_mgmt_token_touch(f->s, "nope", 1500, 500), STORE_OK);
	assert_no_open_snapshot(f->path);
}

/* ---- connections and the pool ---- */

static void test_two_connections_see_commits(void **state)
{
	struct fixture *f = *state;
	struct store *s2 = NULL;
	struct store_account a;
	struct store_user u = make_user(U1, "a@example.com", GROUP_ADMIN, "", 1), got;
	char err[256];

	assert_int_equal(store_open(f->path, &s2, err, sizeof(err)), 0);
	/* s2 reads first, so that a stale snapshot would show. */
	assert_int_equal(store_account_get(s2, ACCT, &a), STORE_NOT_FOUND);
	add_account(f->s, ACCT, "Example");
	assert_int_equal(store_account_get(s2, ACCT, &a), STORE_OK);

	assert_int_equal(store_tx_begin(s2), STORE_OK);
	assert_int_equal(store_user_insert(s2, &u), STORE_OK);
	assert_int_equal(store_user_get(f->s, ACCT, U1, &got), STORE_NOT_FOUND);
	assert_int_equal(store_tx_commit(s2), STORE_OK);
	assert_int_equal(store_user_get(f->s, ACCT, U1, &got), STORE_OK);
	store_close(s2);
}

/* A read snapshot sees one state of the database until it ends. */
static void test_read_snapshot(void **state)
{
	struct fixture *f = *state;
	struct store *s2 = NULL;
	struct store_account a;
	bool began = false, inner = true;
	char err[256];

	assert_int_equal(store_open(f->path, &s2, err, sizeof(err)), 0);
	assert_int_equal(store_read_begin(s2, &began), STORE_OK);
	assert_true(began);
	assert_int_equal(store_account_get(s2, ACCT, &a), STORE_NOT_FOUND);
	add_account(f->s, ACCT, "Example"); /* another connection commits meanwhile */
	assert_int_equal(store_account_get(s2, ACCT, &a), STORE_NOT_FOUND);
	store_read_end(s2, began);
	assert_int_equal(store_account_get(s2, ACCT, &a), STORE_OK);

	/* Inside a caller's transaction it begins nothing and ends nothing. */
	assert_int_equal(store_tx_begin(s2), STORE_OK);
	assert_int_equal(store_read_begin(s2, &inner), STORE_OK);
	assert_false(inner);
	store_read_end(s2, inner);
	assert_int_equal(store_tx_commit(s2), STORE_OK);
	store_close(s2);
	assert_no_open_snapshot(f->path);
}

#define WRITERS 4
#define WRITES  40

struct writer_arg {
	const char *path;
	int n;
	int failures;
};

/* Each thread has its own connection, as the server's workers do. */
static void *writer(void *arg)
{
	struct writer_arg *w = arg;
	struct store *s = NULL;
	char err[256];

	if (store_open(w->path, &s, err, sizeof(err)) != 0) {
		w->failures = WRITES;
		return NULL;
	}
	for (int i = 0; i < WRITES; i++) {
		struct store_account a = {.created_at = 1};

		snprintf(a.id, sizeof(a.id), "%08x-0000-4000-8000-%012x", (unsigned)w->n,
		         (unsigned)i);
		snprintf(a.name, sizeof(a.name), "w%d-%d", w->n, i);
		if (store_account_ensure(s, &a) != STORE_OK) /* a write transaction */
			w->failures++;
	}
	store_close(s);
	return NULL;
}

/*
 * Writers of one process queue on the store's write mutex instead of SQLite's
 * sleeping busy handler: every write succeeds, none is refused as busy.
 */
static void test_concurrent_writers(void **state)
{
	struct fixture *f = *state;
	struct writer_arg w[WRITERS];
	pthread_t th[WRITERS];
	struct store_account a;

	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer_arg){.path = f->path, .n = i};
		assert_int_equal(pthread_create(&th[i], NULL, writer, &w[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	assert_int_equal(store_account_get(f->s, "00000003-0000-4000-8000-000000000027", &a),
	                 STORE_OK);
	assert_string_equal(a.name, "w3-39");
}

struct pool_arg {
	struct store_pool *pool;
	struct store *first, *second;
};

static void *pool_user(void *arg)
{
	struct pool_arg *p = arg;
	struct store_account a;

	p->first = store_pool_get(p->pool);
	p->second = store_pool_get(p->pool);
	if (p->first != NULL && store_account_get(p->first, ACCT, &a) != STORE_OK)
		p->first = NULL;
	return NULL;
}

static void test_pool_per_thread(void **state)
{
	struct fixture *f = *state;
	struct store_pool *pool = NULL;
	struct pool_arg a = {0}, b = {0};
	pthread_t ta, tb;
	char err[256];

	add_account(f->s, ACCT, "Example");
	assert_int_equal(store_pool_new(f->path, &pool, err, sizeof(err)), 0);
	a.pool = b.pool = pool;
	assert_int_equal(pthread_create(&ta, NULL, pool_user, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, pool_user, &b), 0);
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(pthread_join(tb, NULL), 0);
	assert_non_null(a.first);
	assert_non_null(b.first);
	assert_ptr_equal(a.first, a.second);
	assert_ptr_equal(b.first, b.second);
	assert_ptr_not_equal(a.first, b.first);
	/* Both connections belong to threads that are gone: free must close them (valgrind). */
	store_pool_free(pool);
	store_pool_free(NULL);
}

static void test_pool_unopenable(void **state)
{
	struct store_pool *pool = NULL;
	char err[256];

	assert_int_equal(store_pool_new("/nonexistent-dir/x.db", &pool, err, sizeof(err)), 0);
	assert_null(store_pool_get(pool));
	store_pool_free(pool);
}

/* ---- databases, tables, database tokens ---- */

static void add_cluster(struct store *s, const char *id, const char *account)
{
	struct store_cluster c = {.created_at = 1000};

	strcpy(c.id, id);
	strcpy(c.account_id, account);
	strcpy(c.name, "c");
	strcpy(c.url, "https://c");
	assert_int_equal(store_cluster_ensure(s, &c), STORE_OK);
}

static struct store_database make_db(const char *cluster, const char *name, int64_t created_at)
{
	struct store_database d;

	memset(&d, 0, sizeof(d));
	strcpy(d.account_id, ACCT);
	strcpy(d.cluster_id, cluster);
	strcpy(d.name, name);
	d.max_tables = 500;
	d.max_columns_per_table = 250;
	d.created_at = created_at;
	return d;
}

static void databases_fixture(struct store *s)
{
	add_account(s, ACCT, "Example");
	add_account(s, ACCT2, "Second");
	add_cluster(s, CL1, ACCT);
	add_cluster(s, CL2, ACCT);
}

static void test_databases(void **state)
{
	struct fixture *f = *state;
	struct store_database a = make_db(CL1, "alpha", 100), b = make_db(CL1, "beta", 200);
	struct store_database other = make_db(CL2, "alpha", 300), got, *list = NULL;
	size_t n = 0;

	databases_fixture(f->s);
	strcpy(a.partition_template, "[{\"type\":\"time\",\"value\":\"%Y\"}]");
	a.retention_period = 3600000000000;
	assert_int_equal(store_database_insert(f->s, &a), STORE_OK);
	assert_int_equal(store_database_insert(f->s, &b), STORE_OK);
	/* The same name in another cluster is another database. */
	assert_int_equal(store_database_insert(f->s, &other), STORE_OK);
	assert_true(a.id >= 1 && b.id > a.id && other.id > b.id);
	struct store_database dup = make_db(CL1, "alpha", 400);

	assert_int_equal(store_database_insert(f->s, &dup), STORE_CONFLICT);

	assert_int_equal(store_database_get(f->s, ACCT, CL1, "alpha", &got), STORE_OK);
	assert_int_equal(got.id, a.id);
	assert_string_equal(got.partition_template, a.partition_template);
	assert_int_equal(got.retention_period, 3600000000000);
	assert_int_equal(got.deleted_at, 0);
	/* Scoped: another account or cluster does not see it. */
	assert_int_equal(store_database_get(f->s, ACCT2, CL1, "alpha", &got), STORE_NOT_FOUND);
	assert_int_equal(store_database_get_id(f->s, ACCT, CL2, a.id, &got), STORE_NOT_FOUND);

	/* Update changes the limits only. */
	got = b;
	got.max_tables = 7;
	got.retention_period = 5;
	assert_int_equal(store_database_update(f->s, &got), STORE_OK);
	assert_int_equal(store_database_get(f->s, ACCT, CL1, "beta", &got), STORE_OK);
	assert_int_equal(got.max_tables, 7);
	assert_int_equal(got.max_columns_per_table, 250);
	assert_int_equal(got.retention_period, 5);

	/* Soft delete frees the name; the row stays, listed as deleted. */
	assert_int_equal(store_database_delete(f->s, ACCT, CL1, "alpha", 999), STORE_OK);
	assert_int_equal(store_database_delete(f->s, ACCT, CL1, "alpha", 999), STORE_NOT_FOUND);
	assert_int_equal(store_database_get(f->s, ACCT, CL1, "alpha", &got), STORE_NOT_FOUND);
	assert_int_equal(store_database_get_id(f->s, ACCT, CL1, a.id, &got), STORE_OK);
	assert_int_equal(got.deleted_at, 999);
	got.max_tables = 1;
	assert_int_equal(store_database_update(f->s, &got), STORE_NOT_FOUND);
	assert_int_equal(store_database_list(f->s, ACCT, CL1, false, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, "beta");
	free(list);
	assert_int_equal(store_database_list(f->s, ACCT, CL1, true, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, a.id);
	free(list);

	struct store_database again = make_db(CL1, "alpha", 1000);

	assert_int_equal(store_database_insert(f->s, &again), STORE_OK);
	assert_true(again.id != a.id);
	/* Undelete while the name is taken: conflict, nothing changes. */
	assert_int_equal(store_database_undelete(f->s, ACCT, CL1, a.id, &got), STORE_CONFLICT);
	assert_int_equal(store_database_rename(f->s, ACCT, CL1, "alpha", "beta", &got),
	                 STORE_CONFLICT);
	assert_int_equal(store_database_rename(f->s, ACCT, CL1, "alpha", "gamma", &got), STORE_OK);
	assert_int_equal(got.id, again.id);
	assert_string_equal(got.name, "gamma");
	assert_int_equal(store_database_rename(f->s, ACCT, CL1, "alpha", "delta", &got),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_database_undelete(f->s, ACCT, CL1, a.id, &got), STORE_OK);
	assert_string_equal(got.name, "alpha");
	assert_int_equal(got.deleted_at, 0);
	assert_string_equal(got.partition_template, a.partition_template);
	/* Only deleted databases can be undeleted. */
	assert_int_equal(store_database_undelete(f->s, ACCT, CL1, a.id, &got), STORE_NOT_FOUND);
	assert_int_equal(store_database_list(f->s, ACCT, CL1, false, &list, &n), STORE_OK);
	assert_int_equal(n, 3); /* alpha (oldest), beta, gamma */
	assert_string_equal(list[0].name, "alpha");
	assert_string_equal(list[2].name, "gamma");
	free(list);
	assert_no_open_snapshot(f->path);
}

static void test_tables(void **state)
{
	struct fixture *f = *state;
	struct store_database d1 = make_db(CL1, "one", 1), d2 = make_db(CL1, "two", 2);
	struct store_table t, got, *list = NULL;
	size_t n = 0;

	databases_fixture(f->s);
	assert_int_equal(store_database_insert(f->s, &d1), STORE_OK);
	assert_int_equal(store_database_insert(f->s, &d2), STORE_OK);
	memset(&t, 0, sizeof(t));
	t.database_id = d1.id;
	strcpy(t.name, "cpu");
	t.created_at = 5;
	assert_int_equal(store_table_insert(f->s, &t), STORE_OK);
	assert_true(t.id >= 1);
	int64_t cpu = t.id;

	assert_int_equal(store_table_insert(f->s, &t), STORE_CONFLICT);
	t.database_id = d2.id; /* same name, other database: fine */
	assert_int_equal(store_table_insert(f->s, &t), STORE_OK);
	assert_int_equal(store_table_get(f->s, d1.id, "cpu", &got), STORE_OK);
	assert_int_equal(got.id, cpu);
	assert_int_equal(store_table_get_id(f->s, d2.id, cpu, &got), STORE_NOT_FOUND);

	assert_int_equal(store_table_rename(f->s, d1.id, "cpu", "cpu2", &got), STORE_OK);
	assert_int_equal(got.id, cpu);
	assert_int_equal(store_table_delete(f->s, d1.id, "cpu2", 77), STORE_OK);
	assert_int_equal(store_table_delete(f->s, d1.id, "cpu2", 77), STORE_NOT_FOUND);
	assert_int_equal(store_table_list(f->s, d1.id, false, &list, &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_null(list);
	assert_int_equal(store_table_list(f->s, d1.id, true, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].deleted_at, 77);
	free(list);
	t.database_id = d1.id;
	strcpy(t.name, "cpu2");
	assert_int_equal(store_table_insert(f->s, &t), STORE_OK);
	assert_int_equal(store_table_undelete(f->s, d1.id, cpu, &got), STORE_CONFLICT);
	assert_int_equal(store_table_delete(f->s, d1.id, "cpu2", 78), STORE_OK);
	/* Two deleted tables may share a name; undelete brings back the one asked for. */
	assert_int_equal(store_table_undelete(f->s, d1.id, cpu, &got), STORE_OK);
	assert_int_equal(got.id, cpu);
	assert_string_equal(got.name, "cpu2");
	/* Tables follow their database through a rename: they hang on its id. */
	assert_int_equal(store_database_rename(f->s, ACCT, CL1, "one", "uno", &d1), STORE_OK);
	assert_int_equal(store_table_get(f->s, d1.id, "cpu2", &got), STORE_OK);
	assert_no_open_snapshot(f->path);
}

static struct store_db_token make_db_token(const char *id, const char *cluster, int64_t created_at)
{
	struct store_db_token t;

	memset(&t, 0, sizeof(t));
	strcpy(t.id, id);
	strcpy(t.account_id, ACCT);
	strcpy(t.cluster_id, cluster);
	snprintf(t.description, sizeof(t.description), "token %s", id);
	t.created_at = created_at;
	return t;
}

static void add_permission(struct store_db_token *t, enum db_action a, const char *resource)
{
	t->permissions[t->permission_count].action = a;
	strcpy(t->permissions[t->permission_count].resource, resource);
	t->permission_count++;
}

static void test_db_tokens(void **state)
{
	struct fixture *f = *state;
	struct store_db_token t1 = make_db_token(T1, CL1, 10), t2 = make_db_token(T2, CL1, 20);
	struct store_db_token t3 = make_db_token(T3, CL2, 30), *got, *list = NULL;
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN], h3[TOKEN_HASH_LEN];
	size_t n = 0;

	databases_fixture(f->s);
	fill_hash(h1, 1);
	fill_hash(h2, 2);
	fill_hash(h3, 3);
	add_permission(&t1, DB_ACTION_WRITE, "db/rp");
	add_permission(&t1, DB_ACTION_READ, "other");
	add_permission(&t2, DB_ACTION_READ, "*");
	t2.expires_at = 5000;
	assert_int_equal(store_db_token_insert(f->s, &t1, h1), STORE_OK);
	assert_int_equal(store_db_token_insert(f->s, &t2, h2), STORE_OK);
	assert_int_equal(store_db_token_insert(f->s, &t3, h3), STORE_OK);
	assert_int_equal(store_db_token_insert(f->s, &t1, h1), STORE_CONFLICT);

	got = calloc(1, sizeof(*got));
	assert_non_null(got);
	assert_int_equal(store_db_token_get(f->s, ACCT, CL1, T1, got), STORE_OK);
	assert_int_equal(got->permission_count, 2);
	assert_int_equal(got->permissions[0].action, DB_ACTION_WRITE);
	assert_string_equal(got->permissions[0].resource, "db/rp");
	assert_string_equal(got->permissions[1].resource, "other");
	assert_int_equal(store_db_token_get(f->s, ACCT, CL2, T1, got), STORE_NOT_FOUND);
	assert_int_equal(store_db_token_by_hash(f->s, h2, got), STORE_OK);
	assert_string_equal(got->id, T2);
	assert_int_equal(got->expires_at, 5000);

	/* Update replaces the permissions whole. */
	*got = t1;
	strcpy(got->description, "changed");
	got->permission_count = 0;
	add_permission(got, DB_ACTION_READ, "third");
	assert_int_equal(store_db_token_update(f->s, got), STORE_OK);
	assert_int_equal(store_db_token_get(f->s, ACCT, CL1, T1, got), STORE_OK);
	assert_string_equal(got->description, "changed");
	assert_int_equal(got->permission_count, 1);
	assert_string_equal(got->permissions[0].resource, "third");

	/* Revoke: first one wins; the list hides revoked tokens unless asked. */
	assert_int_equal(store_db_token_revoke(f->s, ACCT, CL1, T2, 700, got), STORE_OK);
	assert_int_equal(got->revoked_at, 700);
	assert_int_equal(store_db_token_revoke(f->s, ACCT, CL1, T2, 800, got), STORE_OK);
	assert_int_equal(got->revoked_at, 700);
	assert_int_equal(store_db_token_revoke(f->s, ACCT, CL2, T2, 800, got), STORE_NOT_FOUND);
	assert_int_equal(store_db_token_list(f->s, ACCT, CL1, false, &list, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, T1);
	assert_int_equal(list[0].permission_count, 1);
	free(list);
	assert_int_equal(store_db_token_list(f->s, ACCT, CL1, true, &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[1].id, T2);
	assert_string_equal(list[1].permissions[0].resource, "*");
	free(list);
	free(got);
	assert_no_open_snapshot(f->path);
}

static void test_db_authorize(void **state)
{
	struct fixture *f = *state;
	struct store_db_token t1 = make_db_token(T1, CL1, 10), t2 = make_db_token(T2, CL1, 20);
	struct store_database live = make_db(CL1, "live", 1), gone = make_db(CL1, "gone", 2);
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN], other[TOKEN_HASH_LEN];
	struct store_db_grant g;
	bool indexed = false;

	databases_fixture(f->s);
	assert_int_equal(store_database_insert(f->s, &live), STORE_OK);
	assert_int_equal(store_database_insert(f->s, &gone), STORE_OK);
	assert_int_equal(store_database_delete(f->s, ACCT, CL1, "gone", 3), STORE_OK);
	fill_hash(h1, 1);
	fill_hash(h2, 2);
	fill_hash(other, 9);
	add_permission(&t1, DB_ACTION_WRITE, "live");
	add_permission(&t1, DB_ACTION_READ, "gone");
	add_permission(&t2, DB_ACTION_READ, "*");
	assert_int_equal(store_db_token_insert(f->s, &t1, h1), STORE_OK);
	assert_int_equal(store_db_token_insert(f->s, &t2, h2), STORE_OK);

	assert_int_equal(store_db_authorize(f->s, h1, DB_ACTION_WRITE, "live", &g), STORE_OK);
	assert_string_equal(g.token_id, T1);
	assert_string_equal(g.account_id, ACCT);
	assert_string_equal(g.cluster_id, CL1);
	assert_true(g.permitted && g.database_exists);
	/* write does not imply read, nor the other way round */
	assert_int_equal(store_db_authorize(f->s, h1, DB_ACTION_READ, "live", &g), STORE_OK);
	assert_false(g.permitted);
	assert_int_equal(store_db_authorize(f->s, h1, DB_ACTION_READ, "gone", &g), STORE_OK);
	assert_true(g.permitted);
	assert_false(g.database_exists);
	/* "*" covers every name, and only that action */
	assert_int_equal(store_db_authorize(f->s, h2, DB_ACTION_READ, "anything", &g), STORE_OK);
	assert_true(g.permitted);
	assert_false(g.database_exists);
	assert_int_equal(store_db_authorize(f->s, h2, DB_ACTION_WRITE, "live", &g), STORE_OK);
	assert_false(g.permitted);
	assert_int_equal(store_db_authorize(f->s, other, DB_ACTION_READ, "live", &g),
	                 STORE_NOT_FOUND);

	/* Never a scan: hash, then index lookups under the token and the cluster. */
	assert_int_equal(store_db_authorize_plan(f->s, &indexed), STORE_OK);
	assert_true(indexed);
	assert_no_open_snapshot(f->path);
}

/* ---- test harness support ---- */

static void test_users_by_email(void **state)
{
	struct fixture *f = *state;
	struct store_user a = make_user(U1, "Same@example.com", GROUP_ADMIN, "", 2);
	struct store_user b = make_user(U2, "same@EXAMPLE.com", GROUP_MEMBER, "s", 1);
	struct store_user *list = NULL;
	size_t n = 9;

	add_account(f->s, ACCT, "A");
	add_account(f->s, ACCT2, "B");
	strcpy(b.account_id, ACCT2);
	assert_int_equal(store_user_insert(f->s, &a), STORE_OK);
	assert_int_equal(store_user_insert(f->s, &b), STORE_OK);
	/* every account, any ASCII case, oldest first */
	assert_int_equal(store_users_by_email(f->s, "SAME@example.com", &list, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, U2);
	assert_string_equal(list[1].id, U1);
	free(list);
	assert_int_equal(store_users_by_email(f->s, "other@example.com", &list, &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_null(list);
	assert_no_open_snapshot(f->path);
}

/* ---- invites ---- */

static void test_clear_all(void **state)
{
	struct fixture *f = *state;
	struct store_user u = make_user(U1, "a@example.com", GROUP_ADMIN, "", 1);
	struct store_mgmt_token t = make_token(T1, 1, 0), got_t;
	unsigned char h[TOKEN_HASH_LEN];
	struct store_account got_a;
	struct store_user got_u;
	char buf[64];
	sqlite3 *db;

	add_account(f->s, ACCT, "A");
	assert_int_equal(store_user_insert(f->s, &u), STORE_OK);
	fill_hash(h, 1);
	assert_int_equal(store_mgmt_token_insert(f->s, &t, h), STORE_OK);
	/* a table a later migration might add, with a foreign key and AUTOINCREMENT */
	db = raw_open(f->path);
	raw_exec(db, "CREATE TABLE extra (id INTEGER PRIMARY KEY AUTOINCREMENT, "
	             "account_id TEXT NOT NULL REFERENCES accounts (id))");
	raw_exec(db, "INSERT INTO extra (account_id) VALUES ('" ACCT "')");

	/* only inside the caller's transaction */
	assert_int_equal(store_clear_all(f->s), STORE_ERROR);

	/* rolled back: nothing happened */
	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	assert_int_equal(store_clear_all(f->s), STORE_OK);
	assert_int_equal(store_account_get(f->s, ACCT, &got_a), STORE_NOT_FOUND);
	store_tx_rollback(f->s);
	assert_int_equal(store_account_get(f->s, ACCT, &got_a), STORE_OK);

	/* committed: every table is empty, whatever the order of foreign keys */
	assert_int_equal(store_tx_begin(f->s), STORE_OK);
	assert_int_equal(store_clear_all(f->s), STORE_OK);
	/* the caller puts a seed back in the same transaction */
	add_account(f->s, ACCT2, "B");
	assert_int_equal(store_tx_commit(f->s), STORE_OK);
	assert_int_equal(store_account_get(f->s, ACCT, &got_a), STORE_NOT_FOUND);
	assert_int_equal(store_account_get(f->s, ACCT2, &got_a), STORE_OK);
	assert_int_equal(store_user_get(f->s, ACCT, U1, &got_u), STORE_NOT_FOUND);
	assert_int_equal(store_mgmt_token_by_hash(f->s, h, &got_t), STORE_NOT_FOUND);
	raw_text(db, "SELECT count(*) FROM extra", buf, sizeof(buf));
	assert_string_equal(buf, "0");
	raw_text(db, "SELECT count(*) FROM sqlite_sequence", buf, sizeof(buf));
	assert_string_equal(buf, "0");
	/* the schema stays */
	raw_text(db, "PRAGMA user_version", buf, sizeof(buf));
	assert_int_equal(atoi(buf), store_schema_version(f->s));
	/* and foreign keys are enforced again after the transaction */
	assert_int_equal(store_user_insert(f->s, &u), STORE_ERROR);
	sqlite3_close(db);
	assert_no_open_snapshot(f->path);
}

static void test_memory(void **state)
{
	char path[STORE_MEMORY_PATH_SIZE], other[STORE_MEMORY_PATH_SIZE], err[256];
	struct store *a = NULL, *b = NULL, *c = NULL;
	struct store_account got;

	store_memory_path(path);
	store_memory_path(other);
	assert_string_not_equal(path, other);
	assert_int_equal(store_open(path, &a, err, sizeof(err)), 0);
	assert_int_equal(store_open(path, &b, err, sizeof(err)), 0);
	assert_int_equal(store_open(other, &c, err, sizeof(err)), 0);
	/* one database for every connection of the same name: migrated once */
	assert_int_equal(store_schema_version(b), store_schema_version(a));
	add_account(a, ACCT, "A");
	assert_int_equal(store_account_get(b, ACCT, &got), STORE_OK);
	/* and none shared with another name */
	assert_int_equal(store_account_get(c, ACCT, &got), STORE_NOT_FOUND);
	/* a writer makes the others wait, not fail */
	assert_int_equal(store_tx_begin(a), STORE_OK);
	add_account(a, ACCT2, "B");
	assert_int_equal(store_tx_commit(a), STORE_OK);
	assert_int_equal(store_account_get(b, ACCT2, &got), STORE_OK);
	store_close(a);
	store_close(b);
	store_close(c);
	/* gone with its last connection */
	assert_int_equal(store_open(path, &a, err, sizeof(err)), 0);
	assert_int_equal(store_account_get(a, ACCT, &got), STORE_NOT_FOUND);
	store_close(a);
}

/* ---- retention, counts, backup (the audit trail and facts: test_store_contract.c) ---- */

static void test_retention_and_counts(void **state)
{
	struct fixture *f = *state;
	const int64_t day = 86400000, now = 100 * day;
	struct store_mgmt_token t1 = make_token(T1, 1, 0);              /* active */
	struct store_mgmt_token t2 = make_token(T2, 1, now - 40 * day); /* expired long ago */
	struct store_mgmt_token t3 = make_token(T3, 1, now - day);      /* expired yesterday */
	struct store_mgmt_token t4 = make_token(T4, 1, 0);              /* revoked below */
	struct store_db_token d1 = make_db_token(T1, CL1, 10), d2 = make_db_token(T2, CL1, 20);
	struct store_mgmt_token got;
	struct store_token_counts c;
	unsigned char h[TOKEN_HASH_LEN];
	int64_t mgmt = -1, db = -1;
	char buf[32];
	sqlite3 *raw;

	databases_fixture(f->s);
	fill_hash(h, 1);
	assert_int_equal(store_mgmt_token_insert(f->s, &t1, h), STORE_OK);
	fill_hash(h, 2);
	assert_int_equal(store_mgmt_token_insert(f->s, &t2, h), STORE_OK);
	fill_hash(h, 3);
	assert_int_equal(store_mgmt_token_insert(f->s, &t3, h), STORE_OK);
	fill_hash(h, 4);
	assert_int_equal(store_mgmt_token_insert(f->s, &t4, h), STORE_OK);
	assert_int_equal(store_mgmt_token_revoke(f->s, ACCT, T4, now - 31 * day, "", &got),
	                 STORE_OK);
	add_permission(&d1, DB_ACTION_READ, "*");
	add_permission(&d2, DB_ACTION_READ, "*");
	fill_hash(h, 5);
	assert_int_equal(store_db_token_insert(f->s, &d1, h), STORE_OK);
	fill_hash(h, 6);
	assert_int_equal(store_db_token_insert(f->s, &d2, h), STORE_OK);
	assert_int_equal(store_db_token_revoke(f->s, ACCT, CL1, T2, now - 31 * day, &d2), STORE_OK);

	assert_int_equal(store_token_counts(f->s, now, &c), STORE_OK);
	assert_int_equal(c.mgmt[TOKEN_STATE_ACTIVE], 1);
	assert_int_equal(c.mgmt[TOKEN_STATE_EXPIRED], 2);
	assert_int_equal(c.mgmt[TOKEN_STATE_REVOKED], 1);
	assert_int_equal(c.db[TOKEN_STATE_ACTIVE], 1);
	assert_int_equal(c.db[TOKEN_STATE_REVOKED], 1);

	/* Keep 30 days: the token expired yesterday and the active one stay. */
	assert_int_equal(store_tokens_prune(f->s, now - 30 * day, &mgmt, &db), STORE_OK);
	assert_int_equal(mgmt, 2);
	assert_int_equal(db, 1);
	assert_int_equal(store_mgmt_token_get(f->s, ACCT, T1, &got), STORE_OK);
	assert_int_equal(store_mgmt_token_get(f->s, ACCT, T3, &got), STORE_OK);
	assert_int_equal(store_mgmt_token_get(f->s, ACCT, T2, &got), STORE_NOT_FOUND);
	assert_int_equal(store_mgmt_token_get(f->s, ACCT, T4, &got), STORE_NOT_FOUND);
	raw = raw_open(f->path);
	raw_text(raw, "SELECT count(*) FROM database_token_permissions", buf, sizeof(buf));
	assert_string_equal(buf, "1"); /* the pruned token's went with it */
	sqlite3_close(raw);
	assert_no_open_snapshot(f->path);
}

static void test_backup_verify_restore(void **state)
{
	struct fixture *f = *state;
	struct store_file_report r;
	struct store_account a;
	char backup[160], err[256];

	add_account(f->s, ACCT, "Before");
	assert_int_equal(store_meta_set(f->s, "token_key_fingerprint", "fp-1"), STORE_OK);
	path_in(f, ".backup", backup, sizeof(backup));
	assert_int_equal(store_backup(f->path, backup, err, sizeof(err)), 0);
	/* Never over an existing file. */
	assert_int_equal(store_backup(f->path, backup, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exists"));

	assert_int_equal(store_verify_file(backup, &r, err, sizeof(err)), 0);
	assert_true(r.integrity_ok);
	assert_int_equal(r.schema_version, LATEST_VERSION);
	assert_int_equal(r.schema_latest, LATEST_VERSION);
	assert_string_equal(r.key_fingerprint, "fp-1");
	assert_int_equal(r.accounts, 1);
	assert_int_equal(r.management_tokens, 0);

	/* Changes after the backup are gone once it is restored. */
	add_account(f->s, ACCT2, "After");
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_restore(backup, f->path, err, sizeof(err)), 0);
	assert_int_equal(store_open(f->path, &f->s, err, sizeof(err)), 0);
	assert_int_equal(store_account_get(f->s, ACCT, &a), STORE_OK);
	assert_int_equal(store_account_get(f->s, ACCT2, &a), STORE_NOT_FOUND);

	/* A damaged file is reported, not repaired. */
	{
		unsigned char junk[4096];
		int fd = open(backup, O_WRONLY);

		memset(junk, 0xa5, sizeof(junk));
		assert_true(fd >= 0);
		/* page 3 onwards: the schema on page 1 still reads */
		assert_int_equal(pwrite(fd, junk, sizeof(junk), 2 * 4096), (ssize_t)sizeof(junk));
		close(fd);
	}
	assert_int_equal(store_verify_file(backup, &r, err, sizeof(err)), 0);
	assert_false(r.integrity_ok);
	unlink(backup);
	assert_int_equal(store_verify_file(backup, &r, err, sizeof(err)), -1);
	assert_int_equal(store_backup("/nonexistent/mgmtd.db", backup, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_open_creates_private_wal_file),
	    cmocka_unit_test(test_concurrent_first_open),
	    cmocka_unit_test(test_migration_to_issuer_bound_users),
	    cmocka_unit_test_setup_teardown(test_reopen_is_idempotent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_database_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_account_ensure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cluster_ensure_get_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_users_crud, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_for_idp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_last_admin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_caller_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_key_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_value_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_databases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_db_tokens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_db_authorize, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_connections_see_commits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pool_per_thread, setup, teardown),
	    cmocka_unit_test(test_pool_unopenable),
	    cmocka_unit_test_setup_teardown(test_users_by_email, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clear_all, setup, teardown),
	    cmocka_unit_test(test_memory),
	    cmocka_unit_test_setup_teardown(test_retention_and_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backup_verify_restore, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
