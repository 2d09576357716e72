/*
 * test_jsontext.c - JSON text written from rows is byte for byte what jansson
 * writes for the same values, also for hostile text; the views' text forms
 * equal json_dumps of their trees.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>

#include "jsontext.h"
#include "reply.h"
#include "views.h"

static int setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

/* jansson's text of the string s, repaired as json_text() repairs it. */
static char *jansson_string(const char *s)
{
	json_t *v = json_text(s);
	char *text;

	assert_non_null(v);
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	assert_non_null(text);
	return text;
}

static void check_string(const char *s)
{
	struct jsontext w;
	char *want = jansson_string(s);

	jsontext_init(&w);
	jsontext_string(&w, s);
	assert_true(jsontext_ok(&w));
	assert_string_equal(w.buf, want);
	assert_int_equal(w.len, strlen(want));
	jsontext_release(&w);
	free(want);
}

static void test_strings_as_jansson_writes_them(void **state)
{
	static const char *const cases[] = {
	    "",
	    "plain ascii",
	    "quote \" backslash \\ slash / del \x7f",
	    "\b\f\n\r\t\x01\x1f",
	    "caf\xc3\xa9 \xe2\x80\xa8 \xe2\x80\xae bidi \xf0\x9f\x98\x80",
	    "\xc2\x9b C1 CSI",
	    "bad \xff byte, cut \xe2\x82, overlong \xc0\xaf, surrogate \xed\xa0\x80",
	    "\xf4\x90\x80\x80 past U+10FFFF",
	    "</script><script>alert(1)</script>",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_string(cases[i]);
}

static void test_random_bytes_as_jansson_writes_them(void **state)
{
	char s[64];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = randombytes_uniform(sizeof(s) - 1);

		randombytes_buf(s, n);
		for (size_t i = 0; i < n; i++)
			if (s[i] == '\0')
				s[i] = (char)0x80;
		s[n] = '\0';
		check_string(s);
	}
}

static void check_view_mgmt(const struct store_mgmt_token *t, int64_t now)
{
	json_t *tree = view_mgmt_token(t, now);
	char *want = json_dumps(tree, JSON_COMPACT);
	struct jsontext w;

	jsontext_init(&w);
	view_mgmt_token_text(&w, t, now);
	assert_true(jsontext_ok(&w));
	assert_string_equal(w.buf, want);
	jsontext_release(&w);
	free(want);
	json_decref(tree);
}

static void test_mgmt_token_view(void **state)
{
	struct store_mgmt_token t;

	(void)state;
	memset(&t, 0, sizeof(t));
	strcpy(t.id, "0b0d4a1e-6c4f-4a4b-9c1e-2f1f1f1f1f1f");
	strcpy(t.account_id, "11111111-1111-4111-8111-111111111111");
	strcpy(t.description, "nightly \"export\"\n\xc3\xa9");
	strcpy(t.prefix, "M.V1.abcd");
	t.created_at = 1700000000123;
	check_view_mgmt(&t, 1700000000200);
	/* every optional field set, and a status that depends on the time */
	strcpy(t.created_by, "22222222-2222-4222-8222-222222222222");
	t.expires_at = 1800000000000;
	t.last_used_at = 1700000001000;
	check_view_mgmt(&t, 1700000000200);
	check_view_mgmt(&t, 1900000000000);
	t.revoked_at = 1750000000000;
	strcpy(t.revoked_by, "33333333-3333-4333-8333-333333333333");
	check_view_mgmt(&t, 1700000000200);
	t.description[0] = '\0';
	check_view_mgmt(&t, 1700000000200);
	/* suspended, and a rotation's grace, before and at its end */
	t.revoked_at = 0;
	t.suspended_at = 1700000000150;
	strcpy(t.suspended_by, "22222222-2222-4222-8222-222222222222");
	t.previous_expires_at = 1700000000300;
	t.previous_last_used_at = 1700000000100;
	check_view_mgmt(&t, 1700000000200);
	check_view_mgmt(&t, 1700000000300);
}

static void check_view_db(const struct store_db_token *t, int64_t now)
{
	json_t *tree = view_db_token(t, now);
	char *want = json_dumps(tree, JSON_COMPACT);
	struct jsontext w;

	jsontext_init(&w);
	view_db_token_text(&w, t, now);
	assert_true(jsontext_ok(&w));
	assert_string_equal(w.buf, want);
	jsontext_release(&w);
	free(want);
	json_decref(tree);
}

static void test_db_token_view(void **state)
{
	struct store_db_token *t = calloc(1, sizeof(*t));

	(void)state;
	assert_non_null(t);
	strcpy(t->id, "0b0d4a1e-6c4f-4a4b-9c1e-2f1f1f1f1f1f");
	strcpy(t->account_id, "11111111-1111-4111-8111-111111111111");
	strcpy(t->cluster_id, "33333333-3333-4333-8333-333333333333");
	strcpy(t->description, "tab\there");
	t->created_at = 1700000000123;
	check_view_db(t, 1700000000200); /* no permissions: [] */
	t->permission_count = 2;
	t->permissions[0].action = DB_ACTION_READ;
	strcpy(t->permissions[0].resource, "*");
	t->permissions[1].action = DB_ACTION_WRITE;
	strcpy(t->permissions[1].resource, "telegraf/autogen");
	t->expires_at = 1800000000000;
	t->revoked_at = 1750000000000;
	check_view_db(t, 1700000000200);
	/* the lifecycle's fields (mgmtd extensions): a grace shown only while it runs */
	t->previous_expires_at = 1700000000300;
	t->previous_last_used_at = 1700000000100;
	t->suspended_at = 1700000000150;
	strcpy(t->suspended_by, "22222222-2222-4222-8222-222222222222");
	check_view_db(t, 1700000000200);
	check_view_db(t, 1700000000300);
	free(t);
}

static void check_view_database(const struct store_database *d, bool with_id)
{
	json_t *tree = view_database(d, with_id);
	char *want = json_dumps(tree, JSON_COMPACT);
	struct jsontext w;

	jsontext_init(&w);
	assert_true(view_database_text(&w, d, with_id));
	assert_true(jsontext_ok(&w));
	assert_string_equal(w.buf, want);
	jsontext_release(&w);
	free(want);
	json_decref(tree);
}

static void test_database_view(void **state)
{
	struct store_database *d = calloc(1, sizeof(*d));
	struct jsontext w;

	(void)state;
	assert_non_null(d);
	d->id = 42;
	strcpy(d->account_id, "11111111-1111-4111-8111-111111111111");
	strcpy(d->cluster_id, "33333333-3333-4333-8333-333333333333");
	strcpy(d->name, "telegraf/autogen");
	d->max_tables = 500;
	d->max_columns_per_table = 200;
	d->retention_period = 2592000000000000LL;
	check_view_database(d, false);
	check_view_database(d, true);
	/* a template as a client sent it, spaces and all, is written as jansson writes it */
	strcpy(d->partition_template, "[ {\"type\": \"tag\", \"value\": \"room\"}, "
	                              "{\"type\":\"time\",\"value\":\"%Y-%m\"} ]");
	check_view_database(d, true);
	/* a damaged one is refused, not written */
	strcpy(d->partition_template, "[{\"type\":");
	jsontext_init(&w);
	assert_false(view_database_text(&w, d, false));
	jsontext_release(&w);
	free(d);
}

static void test_take_and_failure(void **state)
{
	struct jsontext w;
	size_t len;
	char *text;

	(void)state;
	jsontext_init(&w);
	assert_null(jsontext_take(&w, &len)); /* nothing written */
	jsontext_lit(&w, "[");
	jsontext_int(&w, -42);
	jsontext_raw(&w, ",", 1);
	jsontext_time(&w, 0);
	jsontext_raw(&w, "]", 1);
	text = jsontext_take(&w, &len);
	assert_string_equal(text, "[-42,\"1970-01-01T00:00:00.000Z\"]");
	assert_int_equal(len, strlen(text));
	free(text);
	assert_int_equal(w.len, 0);
	/* integers as jansson writes them, the extremes too */
	{
		static const int64_t values[] = {0, 7, -7, 1234567890123, INT64_MAX, INT64_MIN};

		for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			json_t *v = json_integer(values[i]);
			char *want = json_dumps(v, JSON_ENCODE_ANY);

			jsontext_int(&w, values[i]);
			assert_string_equal(w.buf, want);
			jsontext_clear(&w);
			free(want);
			json_decref(v);
		}
	}
	/* a failed writer stays failed and hands nothing over */
	jsontext_lit(&w, "x");
	w.failed = true;
	jsontext_lit(&w, "y");
	assert_false(jsontext_ok(&w));
	assert_null(jsontext_take(&w, &len));
	jsontext_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strings_as_jansson_writes_them),
	    cmocka_unit_test(test_random_bytes_as_jansson_writes_them),
	    cmocka_unit_test(test_mgmt_token_view),
	    cmocka_unit_test(test_db_token_view),
	    cmocka_unit_test(test_database_view),
	    cmocka_unit_test(test_take_and_failure),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
