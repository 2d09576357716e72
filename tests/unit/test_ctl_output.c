/*
 * test_ctl_output.c - mgmtctl's printed shapes: go-pretty's default tables
 * (INFLUXCTL.md 1.4: the database list example reproduced byte for byte),
 * key/value tables (the 2.11 create example), Go encoding/json output, and
 * the redaction of --trace output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/ctl.h"
#include "ctl/output.h"

/* What f received, as a string (malloc'ed). */
static char *captured(FILE *f)
{
	long n;
	char *s;

	fflush(f);
	n = ftell(f);
	s = calloc(1, (size_t)n + 1);
	rewind(f);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

static void test_list_table_is_go_pretty_default(void **state)
{
	/* influxctl's `database list` example, exactly (its cells as influxctl printed them) */
	static const char expected[] =
	    "+---------------+------------------+------------+-----------------------+\n"
	    "| DATABASE NAME | RETENTION PERIOD | MAX TABLES | MAX COLUMNS PER TABLE |\n"
	    "+---------------+------------------+------------+-----------------------+\n"
	    "| mydb1         | infinite         |        500 |                   250 |\n"
	    "| mydb2         | infinite         |        500 |                   200 |\n"
	    "| mydb3         | 24h              |        100 |                   200 |\n"
	    "+---------------+------------------+------------+-----------------------+\n";
	static const char *const headers[] = {"DATABASE NAME", "RETENTION PERIOD", "MAX TABLES",
	                                      "MAX COLUMNS PER TABLE"};
	static const bool right[] = {false, false, true, true};
	static const char *const rows[][4] = {{"mydb1", "infinite", "500", "250"},
	                                      {"mydb2", "infinite", "500", "200"},
	                                      {"mydb3", "24h", "100", "200"}};
	struct out_table *t = out_table_new(4, headers, right);
	FILE *f = tmpfile();
	char *text;

	for (size_t i = 0; i < 3; i++)
		assert_int_equal(out_table_row(t, rows[i]), 0);
	out_table_print(f, t);
	out_table_free(t);
	text = captured(f);
	assert_string_equal(text, expected);
	free(text);
}

static void test_kv_table_is_the_create_shape(void **state)
{
	/* the shape of influxctl 2.11's create output, before its warn lines */
	static const char expected[] = "+-------------+--------------------------------------+\n"
	                               "|          id | 11111111-1111-1111-1111-111111111111 |\n"
	                               "| description | Example Token                        |\n"
	                               "|  expires at | 2025-10-24T00:00:00Z                 |\n"
	                               "|  revoked at |                                      |\n"
	                               "+-------------+--------------------------------------+\n";
	struct out_table *t = out_kv_new();
	FILE *f = tmpfile();
	char *text;

	assert_int_equal(out_kv(t, "id", "11111111-1111-1111-1111-111111111111"), 0);
	assert_int_equal(out_kv(t, "description", "Example Token"), 0);
	assert_int_equal(out_kv(t, "expires at", "2025-10-24T00:00:00Z"), 0);
	assert_int_equal(out_kv(t, "revoked at", NULL), 0);
	out_table_print(f, t);
	out_table_free(t);
	text = captured(f);
	assert_string_equal(text, expected);
	free(text);
}

static void test_empty_list_and_wide_text(void **state)
{
	static const char *const headers[] = {"ID", "DESCRIPTION"};
	struct out_table *t = out_table_new(2, headers, NULL);
	const char *row[] = {"a", "\xe6\x97\xa5\xe6\x9c\xac"}; /* two wide characters */
	const char *bad[] = {"b", "line\nbreak"};
	FILE *f = tmpfile();
	char *text;

	out_table_print(f, t);
	text = captured(f);
	assert_string_equal(text, "+----+-------------+\n"
	                          "| ID | DESCRIPTION |\n"
	                          "+----+-------------+\n"
	                          "+----+-------------+\n");
	free(text);
	assert_int_equal(out_table_row(t, row), 0);
	assert_int_equal(out_table_row(t, bad), 0);
	f = tmpfile();
	out_table_print(f, t);
	out_table_free(t);
	text = captured(f);
	assert_string_equal(text, "+----+-------------+\n"
	                          "| ID | DESCRIPTION |\n"
	                          "+----+-------------+\n"
	                          "| a  | \xe6\x97\xa5\xe6\x9c\xac        |\n"
	                          "| b  | line break  |\n"
	                          "+----+-------------+\n");
	free(text);
}

static char *go_json(const char *rest)
{
	json_t *v = json_loads(rest, JSON_DECODE_ANY, NULL);
	FILE *f = tmpfile();

	assert_non_null(v);
	out_json_print(f, v);
	json_decref(v);
	return captured(f);
}

static void test_json_is_go_marshal_indent(void **state)
{
	char *text = go_json("[{\"b\": 1, \"a\": {\"seconds\": 2, \"nanos\": 3}, \"c\": [], \"d\": "
	                     "{}, \"e\": [\"x\", true, null]}]");

	/* keys in the order given, two-space indents, [] and {} when empty */
	assert_string_equal(text, "[\n"
	                          "  {\n"
	                          "    \"b\": 1,\n"
	                          "    \"a\": {\n"
	                          "      \"seconds\": 2,\n"
	                          "      \"nanos\": 3\n"
	                          "    },\n"
	                          "    \"c\": [],\n"
	                          "    \"d\": {},\n"
	                          "    \"e\": [\n"
	                          "      \"x\",\n"
	                          "      true,\n"
	                          "      null\n"
	                          "    ]\n"
	                          "  }\n"
	                          "]\n");
	free(text);
	text = go_json("[]");
	assert_string_equal(text, "[]\n");
	free(text);
	/* Go escapes HTML characters and the line separators; keeps other UTF-8 as is */
	text = go_json("\"<a&b>\\u2028\\u2029\\u0001\\t\\n\\r\\b\\f\\\"\\\\/ \xc3\xa9\"");
	assert_string_equal(text,
	                    "\"\\u003ca\\u0026b\\u003e\\u2028\\u2029\\u0001\\t\\n\\r\\b\\f\\\""
	                    "\\\\/ \xc3\xa9\"\n");
	free(text);
}

static void test_omitempty_helpers(void **state)
{
	json_t *o = json_object();
	FILE *f = tmpfile();
	char *text;

	assert_int_equal(out_set_string(o, "empty", ""), 0);
	assert_int_equal(out_set_string(o, "null", NULL), 0);
	assert_int_equal(out_set_int(o, "zero", 0), 0);
	assert_int_equal(out_set_timestamp(o, "absent", NULL), 0);
	assert_int_equal(out_set_timestamp(o, "whole", "2024-06-27T12:34:56.000Z"), 0);
	assert_int_equal(out_set_timestamp(o, "frac", "2024-03-12T19:58:47.622Z"), 0);
	assert_int_equal(out_set_timestamp(o, "epoch", "1970-01-01T00:00:00.000Z"), 0);
	assert_int_equal(out_set_int(o, "n", 7), 0);
	out_json_print(f, o);
	json_decref(o);
	text = captured(f);
	assert_string_equal(text, "{\n"
	                          "  \"whole\": {\n"
	                          "    \"seconds\": 1719491696\n"
	                          "  },\n"
	                          "  \"frac\": {\n"
	                          "    \"seconds\": 1710273527,\n"
	                          "    \"nanos\": 622000000\n"
	                          "  },\n"
	                          "  \"epoch\": {},\n"
	                          "  \"n\": 7\n"
	                          "}\n");
	free(text);
}

static void test_table_times(void **state)
{
	char out[OUT_TIME_SIZE];

	out_table_time("2024-03-12T19:58:47.999Z", OUT_EPOCH, out);
	assert_string_equal(out, "2024-03-12T19:58:47Z");
	out_table_time(NULL, OUT_EPOCH, out);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	out_table_time(NULL, "", out);
	assert_string_equal(out, "");
	out_table_time("not a time", "", out);
	assert_string_equal(out, "");
}

static char *redact(const struct ctl *c, const char *text)
{
	return client_redact(c, text, strlen(text));
}

static void test_redaction(void **state)
{
	static const char jwt[] = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZG1pbi0xIn0.c2lnbmF0dXJl";
	struct ctl c;
	char *r;

	memset(&c, 0, sizeof(c));
	client_add_secret(&c, "the-secret-of-this-run");
	r = redact(&c, "{\"accessToken\":\"M.V1.abc\",\"id\":\"x\"}");
	assert_string_equal(r, "{\"accessToken\":\"[REDACTED]\",\"id\":\"x\"}");
	free(r);
	r = redact(&c, "grant_type=x&device_code=abcdef123&client_id=mgmtctl");
	assert_string_equal(r, "grant_type=x&device_code=[REDACTED]&client_id=mgmtctl");
	free(r);
	r = redact(&c, "Authorization: Bearer M.V1.abcdefghijkl\r\nHost: x");
	assert_string_equal(r, "Authorization: Bearer [REDACTED]\r\nHost: x");
	free(r);
	r = redact(&c, "a M.V1.QUJDRA_x-y b apiv1_QUJD c");
	assert_string_equal(r, "a M.V1.[REDACTED] b apiv1_[REDACTED] c");
	free(r);
	r = redact(&c, jwt);
	assert_string_equal(r, "[REDACTED JWT]");
	free(r);
	r = redact(&c, "x the-secret-of-this-run y");
	assert_string_equal(r, "x [REDACTED] y");
	free(r);
	/* nested JSON, the device grant's fields */
	r = redact(&c, "[{\"a\":{\"device_code\":\"d\",\"user_code\":\"BCDF-GHJK\"}}]");
	assert_string_equal(
	    r, "[{\"a\":{\"device_code\":\"[REDACTED]\",\"user_code\":\"BCDF-GHJK\"}}]");
	free(r);
	client_forget_secrets(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_table_is_go_pretty_default),
	    cmocka_unit_test(test_kv_table_is_the_create_shape),
	    cmocka_unit_test(test_empty_list_and_wide_text),
	    cmocka_unit_test(test_json_is_go_marshal_indent),
	    cmocka_unit_test(test_omitempty_helpers),
	    cmocka_unit_test(test_table_times),
	    cmocka_unit_test(test_redaction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
