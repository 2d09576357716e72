/* Unit tests of authcode.c: single use, lifetime, the bounded table, PKCE S256. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "authcode.h"

static int setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

static struct authcode_grant grant(const char *email)
{
	struct authcode_grant g;

	memset(&g, 0, sizeof(g));
	snprintf(g.email, sizeof(g.email), "%s", email);
	snprintf(g.client_id, sizeof(g.client_id), "ui");
	snprintf(g.redirect_uri, sizeof(g.redirect_uri), "http://127.0.0.1:1/ui/");
	return g;
}

static void test_issue_take_once(void **state)
{
	struct authcodes *c = authcodes_new();
	struct authcode_grant g = grant("a@example.com"), got;
	char code[AUTHCODE_SIZE], other[AUTHCODE_SIZE];

	(void)state;
	assert_non_null(c);
	authcodes_issue(c, &g, 1000, code);
	authcodes_issue(c, &g, 1000, other);
	assert_int_equal(strlen(code), AUTHCODE_SIZE - 1);
	assert_string_not_equal(code, other);
	assert_true(authcodes_take(c, code, 1000 + AUTHCODE_TTL_MS - 1, &got));
	assert_string_equal(got.email, "a@example.com");
	assert_string_equal(got.redirect_uri, g.redirect_uri);
	/* single use */
	assert_false(authcodes_take(c, code, 1001, &got));
	/* too old; and taken by that attempt too */
	assert_false(authcodes_take(c, other, 1000 + AUTHCODE_TTL_MS, &got));
	assert_false(authcodes_take(c, other, 1001, &got));
	/* unknown, truncated, empty */
	authcodes_issue(c, &g, 1000, code);
	code[10] = code[10] == 'A' ? 'B' : 'A';
	assert_false(authcodes_take(c, code, 1001, &got));
	code[5] = '\0';
	assert_false(authcodes_take(c, code, 1001, &got));
	assert_false(authcodes_take(c, "", 1001, &got));
	authcodes_free(c);
	authcodes_free(NULL);
}

static void test_full_table_drops_the_oldest(void **state)
{
	struct authcodes *c = authcodes_new();
	struct authcode_grant g = grant("b@example.com"), got;
	char first[AUTHCODE_SIZE], second[AUTHCODE_SIZE], code[AUTHCODE_SIZE];

	(void)state;
	authcodes_issue(c, &g, 1, first);
	authcodes_issue(c, &g, 2, second);
	for (int i = 0; i < AUTHCODE_CAPACITY - 1; i++)
		authcodes_issue(c, &g, 10 + i, code);
	assert_false(authcodes_take(c, first, 500, &got));
	assert_true(authcodes_take(c, second, 500, &got));
	assert_true(authcodes_take(c, code, 500, &got));
	authcodes_free(c);
}

static void test_pkce(void **state)
{
	/* RFC 7636, appendix B */
	const char *verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	const char *challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
	char longest[AUTHCODE_PKCE_MAX + 2];

	(void)state;
	assert_true(authcode_pkce_well_formed(verifier));
	assert_true(authcode_pkce_well_formed(challenge));
	assert_true(authcode_pkce_matches(verifier, challenge));
	assert_false(authcode_pkce_matches(challenge, challenge));
	assert_false(
	    authcode_pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
	assert_false(authcode_pkce_matches(verifier, "short"));
	assert_false(authcode_pkce_well_formed("too-short"));
	assert_false(authcode_pkce_well_formed("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+"));
	memset(longest, 'a', sizeof(longest));
	longest[AUTHCODE_PKCE_MAX] = '\0';
	assert_true(authcode_pkce_well_formed(longest));
	longest[AUTHCODE_PKCE_MAX] = 'a';
	longest[AUTHCODE_PKCE_MAX + 1] = '\0';
	assert_false(authcode_pkce_well_formed(longest));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_issue_take_once),
	    cmocka_unit_test(test_full_table_drops_the_oldest),
	    cmocka_unit_test(test_pkce),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
