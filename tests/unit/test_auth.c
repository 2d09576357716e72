/* Unit tests of the rights table in auth.c against CONTRACT 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"

static struct principal user(enum user_group g)
{
	struct principal p;

	memset(&p, 0, sizeof(p));
	p.kind = PRINCIPAL_USER;
	p.group = g;
	strcpy(p.user_id, "u");
	return p;
}

static struct principal token(void)
{
	struct principal p;

	memset(&p, 0, sizeof(p));
	p.kind = PRINCIPAL_MGMT_TOKEN;
	strcpy(p.token_id, "t");
	return p;
}

/* Expected rights, written out from CONTRACT 2: R C U D for each resource. */
struct expect {
	const char *who;
	struct principal p;
	const char *mgmt, *users, *clusters, *databases, *tables, *db_tokens;
};

static enum access letter(char c)
{
	return c == 'A' ? ACCESS_ALLOW : c == 'S' ? ACCESS_SELF : ACCESS_DENY;
}

static void check(const struct expect *e, enum resource res, const char *row, bool mint)
{
	for (int op = 0; op < OP_COUNT; op++) {
		enum access got = auth_access(&e->p, res, (enum operation)op, mint);

		if (got != letter(row[op]))
			fail_msg("%s on resource %d op %d: got %d, want %c", e->who, res, op, got,
			         row[op]);
	}
}

static void test_contract_table(void **state)
{
	/* Ops in order: read, create, update, delete (revoke). */
	const struct expect rows[] = {
	    /* who, principal: mgmt tokens, users, clusters, databases, tables, db tokens */
	    {"admin", user(GROUP_ADMIN), "AADA", "AAAA", "ADDD", "AAAA", "AAAA", "AAAA"},
	    {"member", user(GROUP_MEMBER), "DDDD", "SDDD", "ADDD", "ADDD", "ADDD", "AADD"},
	    {"auditor", user(GROUP_AUDITOR), "ADDD", "ADDD", "ADDD", "ADDD", "ADDD", "ADDD"},
	    {"token", token(), "ADDA", "AAAA", "ADDD", "AAAA", "AAAA", "AAAA"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		check(&rows[i], RES_MGMT_TOKENS, rows[i].mgmt, false);
		check(&rows[i], RES_USERS, rows[i].users, false);
		check(&rows[i], RES_CLUSTERS, rows[i].clusters, false);
		check(&rows[i], RES_DATABASES, rows[i].databases, false);
		check(&rows[i], RES_TABLES, rows[i].tables, false);
		check(&rows[i], RES_DB_TOKENS, rows[i].db_tokens, false);
	}
}

/* A database token is never a management principal: no right anywhere. */
static void test_db_token_has_no_rights(void **state)
{
	struct principal p;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.kind = PRINCIPAL_DB_TOKEN;
	strcpy(p.token_id, "d");
	for (int res = RES_NONE + 1; res < RES_COUNT; res++)
		for (int op = 0; op < OP_COUNT; op++)
			assert_int_equal(
			    auth_access(&p, (enum resource)res, (enum operation)op, true),
			    ACCESS_DENY);
	assert_string_equal(auth_actor_id(&p), "d");
}

static void test_tokens_may_mint(void **state)
{
	struct principal t = token(), m = user(GROUP_MEMBER), a = user(GROUP_AUDITOR);

	(void)state;
	assert_int_equal(auth_access(&t, RES_MGMT_TOKENS, OP_CREATE, true), ACCESS_ALLOW);
	/* The switch is about tokens only: it gives users nothing. */
	assert_int_equal(auth_access(&m, RES_MGMT_TOKENS, OP_CREATE, true), ACCESS_DENY);
	assert_int_equal(auth_access(&a, RES_MGMT_TOKENS, OP_CREATE, true), ACCESS_DENY);
}

static void test_nobody_and_public(void **state)
{
	struct principal none;

	(void)state;
	memset(&none, 0, sizeof(none));
	assert_int_equal(auth_access(&none, RES_USERS, OP_READ, false), ACCESS_DENY);
	assert_int_equal(auth_access(&none, RES_NONE, OP_READ, false), ACCESS_ALLOW);
}

static void test_actor_id(void **state)
{
	struct principal u = user(GROUP_ADMIN), t = token(), none;

	(void)state;
	memset(&none, 0, sizeof(none));
	assert_string_equal(auth_actor_id(&u), "u");
	assert_string_equal(auth_actor_id(&t), "t");
	assert_string_equal(auth_actor_id(&none), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_contract_table),  cmocka_unit_test(test_db_token_has_no_rights),
	    cmocka_unit_test(test_tokens_may_mint), cmocka_unit_test(test_nobody_and_public),
	    cmocka_unit_test(test_actor_id),
	};

	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
