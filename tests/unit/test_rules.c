/*
 * Unit tests of rules.c: text fields (descriptions, names, emails, subjects),
 * database and table names, partition templates, database-token permissions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rules.h"

static void test_database_names(void **state)
{
	static const char *const good[] = {
	    "mydb", "sensor_data", "prod-metrics", "logs/application", "telegraf/autogen",
	    "a",    "0db",         "-x",           "A_b-C/9"};
	static const char *const bad[] = {"",           "_internal",   "my database", "sensor.data",
	                                  "app@server", "caf\xc3\xa9", "tab\there",   "a%2Fb"};
	char max[RULE_DB_NAME_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (rule_database_name(good[i]) != NULL)
			fail_msg("\"%s\" should be a good database name", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (rule_database_name(bad[i]) == NULL)
			fail_msg("\"%s\" should be refused", bad[i]);
	memset(max, 'x', sizeof(max));
	max[RULE_DB_NAME_MAX] = '\0';
	assert_null(rule_database_name(max));
	max[RULE_DB_NAME_MAX] = 'x';
	max[RULE_DB_NAME_MAX + 1] = '\0';
	assert_non_null(rule_database_name(max));
}

static void test_table_names(void **state)
{
	char max[RULE_TABLE_NAME_MAX + 2];

	(void)state;
	assert_null(rule_table_name("cpu"));
	assert_null(rule_table_name("system.load-1_m"));
	assert_non_null(rule_table_name(""));
	assert_non_null(rule_table_name("_cpu"));
	assert_non_null(rule_table_name("a/b"));
	assert_non_null(rule_table_name("a b"));
	assert_non_null(rule_table_name("."));
	assert_non_null(rule_table_name(".."));
	assert_non_null(rule_table_name(".hidden"));
	assert_null(rule_table_name("a.."));
	memset(max, 't', sizeof(max));
	max[RULE_TABLE_NAME_MAX] = '\0';
	assert_null(rule_table_name(max));
	max[RULE_TABLE_NAME_MAX] = 't';
	max[RULE_TABLE_NAME_MAX + 1] = '\0';
	assert_non_null(rule_table_name(max));
}

/* NULL when the template text is accepted, else the refusal. */
static const char *template_check(const char *text, char why[RULE_WHY_SIZE])
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
	const char *r;

	if (v == NULL)
		fail_msg("bad test JSON %s: %s", text, err.text);
	r = rule_partition_template(v, why);
	json_decref(v);
	return r;
}

static void test_partition_templates(void **state)
{
	static const char *const good[] = {
	    "[{\"type\":\"time\",\"value\":\"%Y-%m-%d\"}]",
	    "[{\"type\":\"time\",\"value\":\"%Y\"},{\"type\":\"tag\",\"value\":\"bananas\"},"
	    "{\"type\":\"tag\",\"value\":\"pl\xc3\xa1tanos\"},"
	    "{\"type\":\"bucket\",\"value\":{\"tagName\":\"c\",\"numberOfBuckets\":10}}]",
	    "[{\"type\":\"tag\",\"value\":\"abc\"},"
	    "{\"type\":\"bucket\",\"value\":{\"tagName\":\"def\",\"numberOfBuckets\":100000}}]",
	    "[{\"type\":\"tag\",\"value\":\"a\"},{\"type\":\"tag\",\"value\":\"b\"},"
	    "{\"type\":\"tag\",\"value\":\"c\"},{\"type\":\"tag\",\"value\":\"d\"},"
	    "{\"type\":\"tag\",\"value\":\"e\"},{\"type\":\"tag\",\"value\":\"f\"},"
	    "{\"type\":\"tag\",\"value\":\"g\"},{\"type\":\"time\",\"value\":\"%Y/%m\"}]",
	};
	static const struct {
		const char *text, *why;
	} bad[] = {
	    {"[]", "1 to 8"},
	    {"{}", "1 to 8"},
	    {"\"%Y\"", "1 to 8"},
	    {"[{\"type\":\"tag\",\"value\":\"a\"},{\"type\":\"tag\",\"value\":\"b\"},"
	     "{\"type\":\"tag\",\"value\":\"c\"},{\"type\":\"tag\",\"value\":\"d\"},"
	     "{\"type\":\"tag\",\"value\":\"e\"},{\"type\":\"tag\",\"value\":\"f\"},"
	     "{\"type\":\"tag\",\"value\":\"g\"},{\"type\":\"tag\",\"value\":\"h\"},"
	     "{\"type\":\"time\",\"value\":\"%Y\"}]",
	     "1 to 8"},
	    {"[1]", "must be an object"},
	    {"[{\"type\":\"tag\"}]", "value is required"},
	    {"[{\"value\":\"x\"}]", "type must be"},
	    {"[{\"type\":\"hash\",\"value\":\"x\"}]", "type must be"},
	    {"[{\"type\":\"tag\",\"value\":\"x\",\"extra\":1}]", "\"extra\""},
	    {"[{\"type\":\"tag\",\"value\":\"\"}]", "1 to 200"},
	    {"[{\"type\":\"tag\",\"value\":5}]", "must be a string"},
	    {"[{\"type\":\"tag\",\"value\":\"a\\u202e\"}]",
	     "partitionTemplate[0].value must not contain bidirectional override or isolate "
	     "characters (found U+202E at character 2)"},
	    {"[{\"type\":\"tag\",\"value\":\"a\\u0009\"}]", "control characters"},
	    {"[{\"type\":\"bucket\",\"value\":{\"tagName\":\"\\u009b\",\"numberOfBuckets\":2}}]",
	     "partitionTemplate[0].value.tagName must not contain control characters (found "
	     "U+009B"},
	    {"[{\"type\":\"tag\",\"value\":\"time\"}]", "reserved"},
	    {"[{\"type\":\"tag\",\"value\":\"a\"},{\"type\":\"tag\",\"value\":\"a\"}]",
	     "more than one part"},
	    {"[{\"type\":\"tag\",\"value\":\"a\"},"
	     "{\"type\":\"bucket\",\"value\":{\"tagName\":\"a\",\"numberOfBuckets\":2}}]",
	     "more than one part"},
	    {"[{\"type\":\"time\",\"value\":\"%Y\"},{\"type\":\"time\",\"value\":\"%m\"}]",
	     "at most one time part"},
	    {"[{\"type\":\"time\",\"value\":\"%H\"}]", "%Y, %m and %d"},
	    {"[{\"type\":\"time\",\"value\":\"%\"}]", "%Y, %m and %d"},
	    {"[{\"type\":\"time\",\"value\":\"year\"}]", "at least one"},
	    {"[{\"type\":\"time\",\"value\":\"%Y|%m\"}]", "printable ASCII"},
	    {"[{\"type\":\"time\",\"value\":\"%Y %m\"}]", "printable ASCII"},
	    {"[{\"type\":\"bucket\",\"value\":\"a\"}]", "must be an object"},
	    {"[{\"type\":\"bucket\",\"value\":{\"tagName\":\"a\",\"numberOfBuckets\":0}}]",
	     "1 to 100000"},
	    {"[{\"type\":\"bucket\",\"value\":{\"tagName\":\"a\",\"numberOfBuckets\":100001}}]",
	     "1 to 100000"},
	    {"[{\"type\":\"bucket\",\"value\":{\"tagName\":\"a\",\"numberOfBuckets\":1.5}}]",
	     "1 to 100000"},
	    {"[{\"type\":\"bucket\",\"value\":{\"numberOfBuckets\":3}}]", "tagName is required"},
	    {"[{\"type\":\"bucket\",\"value\":{\"tagName\":\"a\",\"numberOfBuckets\":3,\"x\":1}}]",
	     "\"x\""},
	};
	char why[RULE_WHY_SIZE];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (template_check(good[i], why) != NULL)
			fail_msg("%s refused: %s", good[i], why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (template_check(bad[i].text, why) == NULL)
			fail_msg("%s accepted", bad[i].text);
		if (strstr(why, bad[i].why) == NULL)
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].text, why, bad[i].why);
	}
}

static const char *permissions_check(const char *text, struct store_db_permission *out, size_t *n,
                                     char why[RULE_WHY_SIZE])
{
	json_t *v = json_loads(text, 0, NULL);
	const char *r;

	if (v == NULL)
		fail_msg("bad test JSON %s", text);
	r = rule_permissions(v, out, n, why);
	json_decref(v);
	return r;
}

static void test_permissions(void **state)
{
	struct store_db_permission p[STORE_DB_TOKEN_MAX_PERMISSIONS];
	char why[RULE_WHY_SIZE], text[8192];
	size_t n = 99;

	(void)state;
	assert_null(permissions_check("[]", p, &n, why));
	assert_int_equal(n, 0);
	assert_null(permissions_check("[{\"action\":\"read\",\"resource\":\"a/b\"},"
	                              "{\"action\":\"write\",\"resource\":\"*\"},"
	                              "{\"action\":\"read\",\"resource\":\"a/b\"}]",
	                              p, &n, why));
	assert_int_equal(n, 2); /* the exact repeat is dropped */
	assert_int_equal(p[0].action, DB_ACTION_READ);
	assert_string_equal(p[0].resource, "a/b");
	assert_int_equal(p[1].action, DB_ACTION_WRITE);
	assert_string_equal(p[1].resource, "*");

	assert_non_null(permissions_check("{}", p, &n, why));
	assert_non_null(permissions_check("[\"read\"]", p, &n, why));
	assert_non_null(
	    permissions_check("[{\"action\":\"admin\",\"resource\":\"a\"}]", p, &n, why));
	assert_non_null(strstr(why, "read or write"));
	assert_non_null(permissions_check("[{\"action\":\"read\"}]", p, &n, why));
	assert_non_null(
	    permissions_check("[{\"action\":\"read\",\"resource\":\"_x\"}]", p, &n, why));
	assert_non_null(
	    permissions_check("[{\"action\":\"read\",\"resource\":\"**\"}]", p, &n, why));
	assert_non_null(
	    permissions_check("[{\"action\":\"read\",\"resource\":\"a\",\"x\":1}]", p, &n, why));
	assert_non_null(strstr(why, "\"x\""));

	/* At most STORE_DB_TOKEN_MAX_PERMISSIONS distinct entries. */
	strcpy(text, "[");
	for (int i = 0; i <= STORE_DB_TOKEN_MAX_PERMISSIONS; i++) {
		char one[64];

		snprintf(one, sizeof(one), "%s{\"action\":\"read\",\"resource\":\"db%d\"}",
		         i ? "," : "", i);
		strcat(text, one);
	}
	strcat(text, "]");
	assert_non_null(permissions_check(text, p, &n, why));
	assert_non_null(strstr(why, "at most"));
}

/* rule(field "f", s) refuses s and its message holds want. */
typedef const char *(*text_rule)(const char *field, const char *s, char why[RULE_WHY_SIZE]);

static void assert_refused(text_rule rule, const char *s, const char *want)
{
	char why[RULE_WHY_SIZE];

	if (rule("f", s, why) == NULL)
		fail_msg("\"%s\" accepted, expected \"%s\"", s, want);
	if (strstr(why, want) == NULL)
		fail_msg("\"%s\": \"%s\" does not say \"%s\"", s, why, want);
}

static void assert_accepted(text_rule rule, const char *s)
{
	char why[RULE_WHY_SIZE];

	if (rule("f", s, why) != NULL)
		fail_msg("\"%s\" refused: %s", s, why);
}

static void test_text_messages_name_field_character_and_place(void **state)
{
	char why[RULE_WHY_SIZE];

	(void)state;
	assert_ptr_equal(rule_description("description", "toke\xc2\x9bn", why), why);
	assert_string_equal(why, "description must not contain control characters (found U+009B at "
	                         "character 5)");
	/* characters, not bytes, are counted */
	assert_non_null(rule_person_name("firstName", "\xd7\xa9\xd7\x9c\xe2\x80\xae", why));
	assert_string_equal(why, "firstName must not contain bidirectional override or isolate "
	                         "characters (found U+202E at character 3)");
	assert_non_null(rule_text("partitionTemplate[0].value", "a\xe2\x80\xa8", why));
	assert_string_equal(why, "partitionTemplate[0].value must not contain line or paragraph "
	                         "separators (found U+2028 at character 2)");
	assert_non_null(rule_description("--description", "\xef\xbb\xbfx", why));
	assert_string_equal(why,
	                    "--description must not contain invisible characters (found U+FEFF "
	                    "at character 1)");
	assert_non_null(rule_email("email", "a\xc0\xaf@b.c", why));
	assert_string_equal(why, "email must be UTF-8 text (found the byte 0xC0 at character 2)");
	assert_non_null(rule_email("email", "a\xe2\x80\x8d@b.c", why));
	assert_string_equal(why, "email must not contain invisible characters (found U+200D at "
	                         "character 2)");
	assert_non_null(rule_email("email", "a\xc2\xa0@b.c", why));
	assert_string_equal(why, "email must not contain spaces (found U+00A0 at character 2)");
}

static void test_text_refuses_every_hazard(void **state)
{
	static const char *const controls[] = {"\x01", "tab\there", "new\nline", "cr\r",    "\x1f",
	                                       "\x7f", "\xc2\x80",  "\xc2\x9b",  "\xc2\x9f"};
	static const char *const bidi[] = {"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac",
	                                   "\xe2\x80\xad", "\xe2\x80\xae", "\xe2\x81\xa6",
	                                   "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9"};
	static const char *const invisible[] = {
	    "\xe2\x80\x8b", "\xe2\x81\xa0", "\xe2\x81\xa4",     "\xe2\x81\xaa",
	    "\xe2\x81\xaf", "\xef\xbb\xbf", "\xf3\xa0\x80\x81", "\xf3\xa0\x81\xbf"};
	static const char *const not_utf8[] = {
	    "\xc0\xaf",         /* overlong "/" */
	    "\xe0\x80\xaf",     /* overlong, 3 bytes */
	    "\xed\xa0\x80",     /* U+D800, a surrogate */
	    "\xed\xbf\xbf",     /* U+DFFF */
	    "\xf4\x90\x80\x80", /* past U+10FFFF */
	    "\xf8\x88\x80\x80", /* a 5-byte lead */
	    "\xe2\x82",         /* cut short */
	    "\x9b",             /* a lone continuation byte: C1 in Latin-1 */
	};
	static const text_rule rules[] = {rule_text, rule_description, rule_person_name,
	                                  rule_idp_subject, rule_display_name};
	char text[32];

	(void)state;
	for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]); r++) {
		for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
			snprintf(text, sizeof(text), "ok %s", controls[i]);
			assert_refused(rules[r], text, "f must not contain control characters");
		}
		for (size_t i = 0; i < sizeof(bidi) / sizeof(bidi[0]); i++) {
			snprintf(text, sizeof(text), "ok %s", bidi[i]);
			assert_refused(rules[r], text, "bidirectional override or isolate");
		}
		assert_refused(rules[r], "a\xe2\x80\xa8", "line or paragraph separators");
		assert_refused(rules[r], "a\xe2\x80\xa9", "line or paragraph separators");
		for (size_t i = 0; i < sizeof(invisible) / sizeof(invisible[0]); i++) {
			snprintf(text, sizeof(text), "ok %s", invisible[i]);
			assert_refused(rules[r], text, "invisible characters");
		}
		for (size_t i = 0; i < sizeof(not_utf8) / sizeof(not_utf8[0]); i++) {
			snprintf(text, sizeof(text), "ok %s", not_utf8[i]);
			assert_refused(rules[r], text, "f must be UTF-8 text (found the byte 0x");
		}
		/* just outside the ranges, and what people write */
		assert_accepted(rules[r], "tilde~ nbsp\xc2\xa0 soft\xc2\xad"
		                          "hyphen \xe2\x80\xaf\xe2\x81\xb0");
		/* Hebrew with an RLM, Arabic with an ALM, Persian with a ZWNJ, a ZWJ emoji */
		assert_accepted(rules[r], "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d 123\xe2\x80\x8f.");
		assert_accepted(rules[r], "\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85\xd8\x9c 1");
		assert_accepted(
		    rules[r],
		    "\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85");
		assert_accepted(rules[r],
		                "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb \xe2\x80\x8e");
	}
}

static void test_description_and_names_are_not_blank_and_bounded(void **state)
{
	char text[4 * 1100];

	(void)state;
	assert_refused(rule_description, "", "f must not be empty or blank");
	assert_refused(rule_description, "   ", "empty or blank");
	assert_refused(rule_description, "\xc2\xa0\xe3\x80\x80",
	               "empty or blank"); /* NBSP, U+3000 */
	assert_refused(rule_person_name, " ", "empty or blank");
	assert_refused(rule_display_name, "", "empty or blank");
	assert_accepted(rule_description, " x ");

	/* 1024 four-byte characters are fine, 1025 are not: code points, not bytes */
	text[0] = '\0';
	for (int i = 0; i < RULE_DESCRIPTION_MAX; i++)
		strcat(text, "\xf0\x9f\x98\x80");
	assert_accepted(rule_description, text);
	strcat(text, "x");
	assert_refused(rule_description, text, "at most 1024 characters");

	memset(text, 0, sizeof(text));
	for (int i = 0; i < RULE_NAME_MAX; i++)
		strcat(text, "\xc3\xa9");
	assert_accepted(rule_person_name, text);
	strcat(text, "e");
	assert_refused(rule_person_name, text, "at most 256 characters");

	memset(text, 'n', RULE_DISPLAY_NAME_MAX);
	text[RULE_DISPLAY_NAME_MAX] = '\0';
	assert_accepted(rule_display_name, text);
	strcat(text, "n");
	assert_refused(rule_display_name, text, "at most 255 bytes");

	memset(text, 's', RULE_SUBJECT_MAX);
	text[RULE_SUBJECT_MAX] = '\0';
	assert_accepted(rule_idp_subject, text);
	strcat(text, "s");
	assert_refused(rule_idp_subject, text, "at most 1024 bytes");
	assert_refused(rule_idp_subject, "", "must not be empty");
}

static void test_emails_refuse_what_hides(void **state)
{
	static const char *const invisible[] = {"\xe2\x80\x8c", "\xe2\x80\x8d", "\xe2\x80\x8e",
	                                        "\xe2\x80\x8f", "\xd8\x9c",     "\xc2\xad",
	                                        "\xef\xb8\x8f", "\xe3\x85\xa4"};
	static const char *const spaces[] = {" ", "\xc2\xa0", "\xe2\x80\x80", "\xe3\x80\x80"};
	char text[64];

	(void)state;
	assert_accepted(rule_email, "a@b");
	assert_accepted(rule_email, "j\xc3\xbcrgen@ex\xc3\xa4mple.test");
	for (size_t i = 0; i < sizeof(invisible) / sizeof(invisible[0]); i++) {
		snprintf(text, sizeof(text), "a%s@b.test", invisible[i]);
		assert_refused(rule_email, text, "invisible characters (found U+");
	}
	for (size_t i = 0; i < sizeof(spaces) / sizeof(spaces[0]); i++) {
		snprintf(text, sizeof(text), "a%s@b.test", spaces[i]);
		assert_refused(rule_email, text, "spaces (found U+");
	}
	assert_refused(rule_email, "a\xc2\x9b@b.test", "control characters (found U+009B");
	assert_refused(rule_email, "a\xe2\x80\xae@b.test", "bidirectional");
	assert_refused(rule_email, "", "must not be empty");
	assert_refused(rule_email, "ab.test", "name@domain");
	assert_refused(rule_email, "a@b@c", "name@domain");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_database_names),
	    cmocka_unit_test(test_table_names),
	    cmocka_unit_test(test_partition_templates),
	    cmocka_unit_test(test_permissions),
	    cmocka_unit_test(test_text_messages_name_field_character_and_place),
	    cmocka_unit_test(test_text_refuses_every_hazard),
	    cmocka_unit_test(test_description_and_names_are_not_blank_and_bounded),
	    cmocka_unit_test(test_emails_refuse_what_hides),
	};

	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
