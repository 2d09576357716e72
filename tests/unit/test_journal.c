/*
 * test_journal.c - the request journal's redaction and ring (server/journal.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "journal.h"

static char *redacted(const char *json)
{
	json_t *in = json_loads(json, JSON_DECODE_ANY, NULL), *out;
	char *text;

	assert_non_null(in);
	out = journal_redact(in);
	assert_non_null(out);
	text = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(in);
	json_decref(out);
	return text;
}

static void expect(const char *in, const char *want)
{
	char *got = redacted(in);

	if (strcmp(got, want) != 0)
		fail_msg("%s: got %s, want %s", in, got, want);
	free(got);
}

static void test_secrets_by_name_and_by_look(void **state)
{
	(void)state;
	expect("{\"accessToken\":\"x\",\"Password\":1,\"code\":null,\"name\":\"db\"}",
	       "{\"accessToken\":\"[redacted]\",\"Password\":\"[redacted]\",\"code\":null,"
	       "\"name\":\"db\"}");
	expect("[\"apiv1_abc-_9\",\"M.V1.abc\",\"eyJa.eyJb.sig\",\"eyJust one word\"]",
	       "[\"[redacted]\",\"[redacted]\",\"[redacted]\",\"eyJust one word\"]");
	expect("{\"d\":\"a M.V1.xyz_- b apiv1_q and eyJh.eyJp.s9 end\"}",
	       "{\"d\":\"a [redacted] b [redacted] and [redacted] end\"}");
	expect("{\"a\":[{\"b\":{\"token\":[1,2]}}]}",
	       "{\"a\":[{\"b\":{\"token\":\"[redacted]\"}}]}");
	expect("\"M.V1.abc\"", "\"[redacted]\"");
	expect("{\"description\":\"plain\"}", "{\"description\":\"plain\"}");
}

static void record(struct journal *j, const char *route, unsigned status, const char *actor)
{
	struct journal_request r = {.method = "GET",
	                            .route = route,
	                            .path = route,
	                            .status = status,
	                            .actor_kind = actor ? "user" : "none",
	                            .actor_id = actor,
	                            .at_ms = 1000};

	journal_record(j, &r);
}

static void test_ring_filters_and_clear(void **state)
{
	struct journal *j = journal_new(3);
	struct journal_filter all = {0}, ok = {.status = 200}, mine = {.actor = "u1"};
	size_t n = 0, len = 0;
	char *text;
	json_t *arr;

	(void)state;
	assert_non_null(j);
	record(j, "/a", 200, "u1");
	record(j, "/b", 404, NULL);
	record(j, "/c", 200, "u2");
	record(j, "/d", 200, "u1"); /* the first goes */
	assert_int_equal(journal_count(j, &all), 3);
	assert_int_equal(journal_count(j, &ok), 2);
	assert_int_equal(journal_count(j, &mine), 1);
	text = journal_query(j, &all, &n, &len);
	assert_non_null(text);
	assert_int_equal(n, 3);
	arr = json_loads(text, 0, NULL);
	assert_non_null(arr);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "seq")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 2), "route")),
	                    "/d");
	assert_null(json_object_get(json_object_get(json_array_get(arr, 0), "actor"), "id"));
	json_decref(arr);
	free(text);
	journal_clear(j);
	assert_int_equal(journal_count(j, &all), 0);
	record(j, "/e", 200, NULL);
	text = journal_query(j, &all, &n, &len);
	assert_non_null(strstr(text, "\"seq\":5"));
	free(text);
	journal_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_secrets_by_name_and_by_look),
	    cmocka_unit_test(test_ring_filters_and_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
