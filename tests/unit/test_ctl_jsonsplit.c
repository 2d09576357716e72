/*
 * test_ctl_jsonsplit.c - mgmtctl's streaming splitter of a JSON array
 * (server/ctl/jsonsplit.c): items as sent, whatever the pieces the text
 * comes in; commas and brackets inside strings and nested values; every
 * refusal, and the item-length bound at its edge.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/jsonsplit.h"

struct got {
	char items[16][128];
	size_t n;
	size_t stop_at; /* refuse the item with this number (1-based); 0: never */
};

static int collect(void *arg, const char *text, size_t len)
{
	struct got *g = arg;

	assert_true(g->n < 16 && len < 128);
	assert_int_equal(strlen(text), len); /* NUL-terminated, no NUL inside */
	memcpy(g->items[g->n], text, len + 1);
	g->n++;
	return g->stop_at == g->n ? -1 : 0;
}

/* Feeds text in pieces of step bytes (0: all at once); returns feed's and finish's result. */
static int split(const char *text, size_t step, size_t max_item, struct got *g, char *why)
{
	struct jsonsplit s;
	size_t len = strlen(text), off = 0;
	int rc = 0;

	jsonsplit_init(&s, max_item);
	do {
		size_t n = step && len - off > step ? step : len - off;

		rc = jsonsplit_feed(&s, text + off, n, collect, g);
		off += n;
	} while (rc == 0 && off < len);
	if (rc == 0)
		rc = jsonsplit_finish(&s);
	if (why)
		snprintf(why, 160, "%s", s.why);
	if (rc != 0)
		assert_true(s.why[0] != '\0');
	jsonsplit_release(&s);
	return rc;
}

static void test_items_as_sent_in_any_pieces(void **state)
{
	static const char text[] = " \n[ {\"a\":\"x,]}\\\"\",\"b\":[1,{\"c\":[]}]} "
	                           ",[1,2],\"s\\\\\",\"q\\\"]\" ,3, null ]\r\n";
	static const char *const want[] = {"{\"a\":\"x,]}\\\"\",\"b\":[1,{\"c\":[]}]} ",
	                                   "[1,2]",
	                                   "\"s\\\\\"",
	                                   "\"q\\\"]\" ",
	                                   "3",
	                                   "null "};

	for (size_t step = 0; step <= 7; step++) {
		struct got g = {0};

		assert_int_equal(split(text, step, 1024, &g, NULL), 0);
		assert_int_equal(g.n, 6);
		for (size_t i = 0; i < 6; i++)
			assert_string_equal(g.items[i], want[i]);
	}
}

static void test_empty_lists(void **state)
{
	static const char *const empty[] = {"[]", " [ ] \n", "\t[\n]"};

	for (size_t i = 0; i < 3; i++) {
		struct got g = {0};

		assert_int_equal(split(empty[i], 1, 16, &g, NULL), 0);
		assert_int_equal(g.n, 0);
	}
}

static void test_refusals_say_why(void **state)
{
	static const struct {
		const char *text, *why;
		size_t items; /* handed over before the refusal */
	} cases[] = {
	    {"", "empty, not a list", 0},
	    {"  ", "empty, not a list", 0},
	    {"{\"a\":1}", "not a list at byte 0", 0},
	    {"\xef\xbb\xbf[]", "not a list at byte 0", 0},
	    {"[1,,2]", "empty item in the list at byte 3", 1},
	    {"[1,]", "empty item in the list at byte 3", 1},
	    {"[,1]", "empty item", 0},
	    {"[1", "cut off at byte 2", 0},
	    {"[{\"a\":\"]\"}", "cut off", 0},
	    {"[1,2", "cut off", 1},
	    {"[\"a]", "cut off", 0},
	    {"[1] x", "text after the end of the list at byte 4", 1},
	    {"[1][2]", "text after the end", 1},
	    {"[}]", "closes nothing at byte 1", 0},
	    {"[1}", "closes nothing", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t step = 0; step <= 1; step++) {
			struct got g = {0};
			char why[160];

			assert_int_equal(split(cases[i].text, step, 64, &g, why), -1);
			if (!strstr(why, cases[i].why))
				fail_msg("%s: %s", cases[i].text, why);
			assert_int_equal(g.n, cases[i].items);
		}
	}
}

static void test_item_length_bound(void **state)
{
	struct got g = {0};
	char why[160];

	/* "12345678" is 8 bytes: within a bound of 8, past one of 7, in any pieces */
	for (size_t step = 0; step <= 3; step++) {
		memset(&g, 0, sizeof(g));
		assert_int_equal(split("[12345678, 1]", step, 8, &g, why), 0);
		assert_string_equal(g.items[0], "12345678");
		memset(&g, 0, sizeof(g));
		assert_int_equal(split("[12345678, 1]", step, 7, &g, why), -1);
		assert_non_null(strstr(why, "longer than 7 bytes"));
		assert_int_equal(g.n, 0);
	}
	/* whitespace before an item does not count; after it, it does */
	memset(&g, 0, sizeof(g));
	assert_int_equal(split("[      1234]", 0, 4, &g, why), 0);
	assert_int_equal(split("[1234 ]", 0, 4, &g, why), -1);
}

static void test_a_refused_item_stops_the_split(void **state)
{
	struct got g = {.stop_at = 2};
	char why[160];

	assert_int_equal(split("[1,2,3]", 0, 16, &g, why), -1);
	assert_int_equal(g.n, 2);
	assert_non_null(strstr(why, "item 2 was refused"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_items_as_sent_in_any_pieces),
	    cmocka_unit_test(test_empty_lists),
	    cmocka_unit_test(test_refusals_say_why),
	    cmocka_unit_test(test_item_length_bound),
	    cmocka_unit_test(test_a_refused_item_stops_the_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
