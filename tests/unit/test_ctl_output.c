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
	/* the newline is shown as its escape, and the column is as wide as the escape */
	assert_string_equal(text, "+----+-----------------+\n"
	                          "| ID | DESCRIPTION     |\n"
	                          "+----+-----------------+\n"
	                          "| a  | \xe6\x97\xa5\xe6\x9c\xac            |\n"
	                          "| b  | line\\u000abreak |\n"
	                          "+----+-----------------+\n");
	free(text);
}

/* out_escape(s), compared with want and freed. */
static void assert_escaped(const char *s, const char *want)
{
	char *got = out_escape(s);

	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("out_escape(\"%s\") is \"%s\", not \"%s\"", s, got, want);
	free(got);
}

static void test_escape_shows_every_hazard(void **state)
{
	/* each class at both ends of its range, and the characters just outside */
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"", ""},
	    {"plain text, caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", NULL},
	    {"a\x01"
	     "b",
	     "a\\u0001b"},
	    {"\x1b[31mred", "\\u001b[31mred"},
	    {"tab\there", "tab\\u0009here"},
	    {"\x1f\x20", "\\u001f "},
	    {"\x7e\x7f", "~\\u007f"},
	    {"\xc2\x80", "\\u0080"}, /* first C1 */
	    {"csi \xc2\x9b"
	     "2J",
	     "csi \\u009b2J"},                       /* the C1 of the issue */
	    {"\xc2\x9f\xc2\xa0", "\\u009f\xc2\xa0"}, /* last C1; NBSP is text */
	    {"\xe2\x80\xa9\xe2\x80\xaa", "\\u2029\\u202a"},
	    {"abc\xe2\x80\xae"
	     "def",
	     "abc\\u202edef"},                                   /* RIGHT-TO-LEFT OVERRIDE */
	    {"\xe2\x80\xae\xe2\x80\xaf", "\\u202e\xe2\x80\xaf"}, /* U+202F is a space */
	    {"\xe2\x81\xa5\xe2\x81\xa6\xe2\x81\xa9\xe2\x81\xaa", "\\u2065\\u2066\\u2069\\u206a"},
	    {"\xe2\x80\xa8", "\\u2028"},
	    {"zw\xe2\x80\x8bsp", "zw\\u200bsp"},
	    {"\xef\xbb\xbf"
	     "bom",
	     "\\ufeffbom"},
	    {"\xf3\xa0\x81\x81", "\\U000e0041"}, /* TAG LATIN CAPITAL LETTER A */
	    /* the marks scripts need are shown as they are */
	    {"\xe2\x80\x8c\xe2\x80\x8d\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", NULL},
	    {"\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85", NULL},
	    /* bytes that are not UTF-8 */
	    {"a\xff"
	     "b",
	     "a\\xffb"},
	    {"\xc0\xaf", "\\xc0\\xaf"},
	    {"\xed\xa0\x80", "\\xed\\xa0\\x80"},
	    {"cut \xe2\x82", "cut \\xe2\\x82"},
	    /* a backslash is doubled only where it would start an escape */
	    {"C:\\data\\", "C:\\data\\"},
	    {"\\u202e", "\\\\u202e"},
	    {"\\U1 \\x2 \\\\", "\\\\U1 \\\\x2 \\\\\\"},
	    {"\\\xe2\x80\xae", "\\\\\\u202e"},
	    {"\\\xff", "\\\\\\xff"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_escaped(cases[i].in, cases[i].out ? cases[i].out : cases[i].in);
	assert_escaped(NULL, "");
}

static void test_tables_and_json_escape_alike(void **state)
{
	static const char description[] = "a\xc2\x9b\xe2\x80\xae\x1b\xf3\xa0\x81\x81\xff";
	struct out_table *t = out_kv_new();
	FILE *f = tmpfile();
	json_t *v;
	char *text;

	assert_int_equal(out_kv(t, "description", description), 0);
	out_table_print(f, t);
	out_table_free(t);
	text = captured(f);
	assert_string_equal(text, "+-------------+-----------------------------------+\n"
	                          "| description | a\\u009b\\u202e\\u001b\\U000e0041\\xff |\n"
	                          "+-------------+-----------------------------------+\n");
	free(text);

	/* JSON: the same characters as JSON escapes (one that parses back to the same text) */
	v = json_stringn_nocheck(description, sizeof(description) - 1);
	f = tmpfile();
	out_json_print(f, v);
	json_decref(v);
	text = captured(f);
	assert_string_equal(text, "\"a\\u009b\\u202e\\u001b\\udb40\\udc41\\ufffd\"\n");
	v = json_loads(text, JSON_DECODE_ANY, NULL);
	assert_non_null(v);
	assert_string_equal(json_string_value(v),
	                    "a\xc2\x9b\xe2\x80\xae\x1b\xf3\xa0\x81\x81\xef\xbf\xbd");
	json_decref(v);
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

/* Prints t (streamed into f from the start); what f received must be want. */
static void assert_printed(FILE *f, struct out_table *t, const char *want)
{
	char *text;

	out_table_print(f, t);
	out_table_free(t);
	text = captured(f);
	assert_string_equal(text, want);
	free(text);
}

/* An ID, DESCRIPTION table streamed into f past max_kept bytes of cells. */
static struct out_table *streamed(FILE *f, size_t max_kept)
{
	static const char *const headers[] = {"ID", "DESCRIPTION"};
	struct out_table *t = out_table_new(2, headers, NULL);

	assert_non_null(t);
	out_table_stream(t, f, max_kept);
	return t;
}

static const char *const stream_rows[][2] = {
    {"1", "short"}, {"2", "longer text"}, {"3", "x"}, {"4", "the widest of all"}};

static void add_rows(struct out_table *t, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		assert_int_equal(out_table_row(t, stream_rows[i]), 0);
}

static void test_streamed_table(void **state)
{
	static const char whole[] = "+----+-------------------+\n"
	                            "| ID | DESCRIPTION       |\n"
	                            "+----+-------------------+\n"
	                            "| 1  | short             |\n"
	                            "| 2  | longer text       |\n"
	                            "| 3  | x                 |\n"
	                            "| 4  | the widest of all |\n"
	                            "+----+-------------------+\n";
	struct out_table *t;
	FILE *f;

	/* within the bound: exactly the table printed whole */
	f = tmpfile();
	t = streamed(f, 1 << 20);
	add_rows(t, 0, 4);
	assert_false(out_table_streaming(t));
	assert_printed(f, t, whole);

	/* past the bound after two rows: their widths hold; a wider cell widens its line only */
	f = tmpfile();
	/* two rows of cells: "1" "short" "2" "longer text" and four pointers */
	t = streamed(f, 1 + 5 + 1 + 11 + 4 * sizeof(char *) - 1);
	add_rows(t, 0, 1);
	assert_false(out_table_streaming(t));
	add_rows(t, 1, 2);
	assert_true(out_table_streaming(t));
	add_rows(t, 2, 4);
	assert_printed(f, t,
	               "+----+-------------+\n"
	               "| ID | DESCRIPTION |\n"
	               "+----+-------------+\n"
	               "| 1  | short       |\n"
	               "| 2  | longer text |\n"
	               "| 3  | x           |\n"
	               "| 4  | the widest of all |\n"
	               "+----+-------------+\n");

	/* measured first (a sorted list), then streamed: the widths of every row */
	f = tmpfile();
	t = streamed(f, 0);
	out_table_measure(t, true);
	add_rows(t, 0, 4);
	assert_false(out_table_streaming(t));
	out_table_measure(t, false);
	add_rows(t, 0, 4);
	assert_true(out_table_streaming(t));
	assert_printed(f, t, whole);

	/* an empty list, streamed: the header and the closing line */
	f = tmpfile();
	assert_printed(f, streamed(f, 0),
	               "+----+-------------+\n"
	               "| ID | DESCRIPTION |\n"
	               "+----+-------------+\n"
	               "+----+-------------+\n");
}

static void test_json_list_item_by_item(void **state)
{
	static const char *const lists[] = {"[]", "[{\"a\": 1}]",
	                                    "[{\"a\": [1, {}]}, {}, {\"b\": \"<x>\"}]"};

	for (size_t k = 0; k < 3; k++) {
		json_t *list = json_loads(lists[k], 0, NULL), *item;
		char *whole = go_json(lists[k]), *text;
		FILE *f = tmpfile();
		size_t i;

		json_array_foreach(list, i, item) out_json_list_item(f, item, i);
		out_json_list_end(f, json_array_size(list));
		text = captured(f);
		assert_string_equal(text, whole);
		free(text);
		free(whole);
		json_decref(list);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_table_is_go_pretty_default),
	    cmocka_unit_test(test_kv_table_is_the_create_shape),
	    cmocka_unit_test(test_empty_list_and_wide_text),
	    cmocka_unit_test(test_escape_shows_every_hazard),
	    cmocka_unit_test(test_tables_and_json_escape_alike),
	    cmocka_unit_test(test_json_is_go_marshal_indent),
	    cmocka_unit_test(test_omitempty_helpers),
	    cmocka_unit_test(test_table_times),
	    cmocka_unit_test(test_redaction),
	    cmocka_unit_test(test_streamed_table),
	    cmocka_unit_test(test_json_list_item_by_item),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
