/* Unit tests of rules.c: names, partition templates, database-token permissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_database_names),
	    cmocka_unit_test(test_table_names),
	    cmocka_unit_test(test_partition_templates),
	    cmocka_unit_test(test_permissions),
	};

	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
