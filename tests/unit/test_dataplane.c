/*
 * Unit tests of dataplane.c: the forwarded request of the data-plane check,
 * read as InfluxDB reads it (Go's url.ParseQuery and ParseForm), and every
 * class of request two parsers could read differently refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane.h"

struct case_ {
	const char *method;
	const char *uri;
	const char *content_type;
	enum dataplane_verdict want;
	const char *database; /* when OK */
	enum db_action action;
};

#define R DB_ACTION_READ
#define W DB_ACTION_WRITE

static void run_cases(const struct case_ *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct dataplane_target t;
		enum dataplane_verdict got =
		    dataplane_read(cases[i].method, cases[i].uri, cases[i].content_type, &t);

		if (got != cases[i].want)
			fail_msg("%s %s [%s]: verdict %d, want %d (%s)", cases[i].method,
			         cases[i].uri, cases[i].content_type ? cases[i].content_type : "-",
			         (int)got, (int)cases[i].want, t.why);
		if (got == DATAPLANE_OK) {
			if (strcmp(t.database, cases[i].database) != 0 ||
			    t.action != cases[i].action)
				fail_msg("%s %s: database %s action %d, want %s %d",
				         cases[i].method, cases[i].uri, t.database, (int)t.action,
				         cases[i].database, (int)cases[i].action);
		} else {
			assert_true(t.why[0] != '\0');
			assert_string_equal(t.database, "");
		}
	}
}

static void test_paths_name_database_and_action(void **state)
{
	static const struct case_ cases[] = {
	    {"POST", "/write?db=allowed", NULL, DATAPLANE_OK, "allowed", W},
	    {"POST", "/write?db=allowed&rp=autogen&precision=s", "text/plain", DATAPLANE_OK,
	     "allowed/autogen", W},
	    {"POST", "/write?db=allowed&rp=", NULL, DATAPLANE_OK, "allowed", W},
	    /* curl --data-binary sends a form type; InfluxDB never reads /write's body as one */
	    {"POST", "/write?db=allowed", "application/x-www-form-urlencoded", DATAPLANE_OK,
	     "allowed", W},
	    {"GET", "/query?db=allowed&q=SELECT+*+FROM+m", NULL, DATAPLANE_OK, "allowed", R},
	    {"POST", "/query?db=allowed&rp=r1&q=SELECT%20*%20FROM%20m", "", DATAPLANE_OK,
	     "allowed/r1", R},
	    {"POST", "/query?q=SHOW+MEASUREMENTS&db=allowed&epoch=ms&chunked=true", "text/plain",
	     DATAPLANE_OK, "allowed", R},
	    {"POST", "/api/v2/write?org=o&bucket=allowed&precision=ns", NULL, DATAPLANE_OK,
	     "allowed", W},
	    {"POST", "/api/v2/write?bucket=allowed%2Fautogen", NULL, DATAPLANE_OK,
	     "allowed/autogen", W},
	    {"POST", "/api/v3/write_lp?db=allowed&accept_partial=true", NULL, DATAPLANE_OK,
	     "allowed", W},
	    {"GET", "/api/v3/query_sql?db=allowed&q=SELECT+1", NULL, DATAPLANE_OK, "allowed", R},
	    {"GET", "/api/v3/query_influxql?db=allowed&q=SHOW+MEASUREMENTS", NULL, DATAPLANE_OK,
	     "allowed", R},
	    /* empty pairs and bare names are Go's too */
	    {"POST", "/write?&&db=allowed&&flag&", NULL, DATAPLANE_OK, "allowed", W},
	    {"POST", "/write?db=a%2Db", NULL, DATAPLANE_OK, "a-b", W},
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* The four tricks of the issue and their cousins. */
static void test_ambiguous_parameters_are_refused(void **state)
{
	static const struct case_ cases[] = {
	    {"GET", "/query?DB=allowed&db=secret&q=SELECT+1", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"GET", "/query?Db=allowed&db=secret&q=SELECT+1", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"GET", "/query?d%62=secret&db=allowed&q=SELECT+1", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/query?db=allowed", "application/x-www-form-urlencoded", DATAPLANE_MALFORMED,
	     NULL, R},
	    {"POST", "/query?db=allowed&q=SELECT+1", "Application/X-WWW-Form-Urlencoded; charset=x",
	     DATAPLANE_MALFORMED, NULL, R},
	    {"GET", "/query?db=allowed&q=SELECT+1", "multipart/form-data; boundary=x",
	     DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/query?db=allowed&q=SELECT+1", "multipart/mixed", DATAPLANE_MALFORMED, NULL,
	     R},
	    {"POST", "/query?db=allowed&q=SELECT+1", "application/x-www-form-urlencoded\xc2\xa0",
	     DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/query?db=allowed&q=SELECT+1", "form", DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed&db=secret", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=secret&DB=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed&rp=a&rp=b", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed&RP=x", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"GET", "/query?db=allowed&q=SELECT+1&q=DROP+DATABASE+x", NULL, DATAPLANE_MALFORMED,
	     NULL, R},
	    {"GET", "/query?db=allowed&Q=DROP+DATABASE+x&q=SELECT+1", NULL, DATAPLANE_MALFORMED,
	     NULL, R},
	    {"POST", "/api/v2/write?bucket=allowed&Bucket=secret", NULL, DATAPLANE_MALFORMED, NULL,
	     R},
	    {"POST", "/api/v2/write?bucket=allowed&bucketID=0123", NULL, DATAPLANE_MALFORMED, NULL,
	     R},
	    {"POST", "/api/v2/write?bucket=allowed&org=a&org=b", NULL, DATAPLANE_MALFORMED, NULL,
	     R},
	    {"POST", "/api/v2/write?bucket=allowed&orgid=a", NULL, DATAPLANE_MALFORMED, NULL, R},
	    /* Go drops a pair with a bad escape; another reader keeps it */
	    {"POST", "/write?db=secret%zz&db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed&x=%4", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed&x=%", NULL, DATAPLANE_MALFORMED, NULL, R},
	    /* Go 1.17+ drops pairs with ';', older ones split on it */
	    {"POST", "/write?db=secret;db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?x=1;db=secret&db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed%00secret", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed#&db=secret", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed&x=#", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed&x=\x01", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed&x=%FF", NULL, DATAPLANE_OK, "allowed", W},
	    /* credentials in the URL */
	    {"GET", "/query?db=allowed&q=SELECT+1&u=admin&p=x", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed&p=x", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed&U=x", NULL, DATAPLANE_MALFORMED, NULL, R},
	    /* db/rp is the naming here: a '/' in either is ambiguous */
	    {"POST", "/write?db=allowed%2Fx", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed&rp=a%2Fb", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?rp=autogen", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=a+b", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=_internal", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"GET", "/query?db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"GET", "/query?db=allowed&q=", NULL, DATAPLANE_MALFORMED, NULL, R},
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_methods_and_paths(void **state)
{
	static const struct case_ cases[] = {
	    {"GET", "/write?db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"HEAD", "/query?db=allowed&q=SELECT+1", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"OPTIONS", "/query?db=allowed&q=SELECT+1", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"post", "/write?db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"DELETE", "/query?db=allowed&q=SELECT+1", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/api/v3/query_sql?db=allowed&q=SELECT+1", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/api/v3/query_influxql?db=allowed&q=SELECT+1", NULL, DATAPLANE_MALFORMED,
	     NULL, R},
	    {"POST", "//write?db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write/?db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/WRITE?db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/wr%69te?db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write;x?db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/./write?db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/x/../write?db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/api%2Fv2/write?bucket=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/api/v2//write?bucket=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"GET", "/api/v2/buckets", NULL, DATAPLANE_NO_SUCH_PATH, NULL, R},
	    {"GET", "/debug/vars", NULL, DATAPLANE_NO_SUCH_PATH, NULL, R},
	    {"POST", "/api/v1/prom/write?db=allowed", NULL, DATAPLANE_NO_SUCH_PATH, NULL, R},
	    {"GET", "/", NULL, DATAPLANE_NO_SUCH_PATH, NULL, R},
	    {"POST", "http://db.example/write?db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "*", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=all owed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=allowed\x7f", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", "/write?db=caf\xc3\xa9", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {NULL, "/write?db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"POST", NULL, NULL, DATAPLANE_MALFORMED, NULL, R},
	    {"", "/write?db=allowed", NULL, DATAPLANE_MALFORMED, NULL, R},
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_influxql_is_scanned(void **state)
{
	static const struct case_ cases[] = {
	    {"GET", "/query?db=allowed&q=SELECT+*+FROM+%22secret%22.%22autogen%22.%22m%22", NULL,
	     DATAPLANE_REFUSED, NULL, R},
	    {"GET", "/query?db=allowed&q=SELECT+*+FROM+secret..m", NULL, DATAPLANE_REFUSED, NULL,
	     R},
	    {"GET", "/query?db=allowed&q=SHOW+MEASUREMENTS+ON+secret", NULL, DATAPLANE_REFUSED,
	     NULL, R},
	    {"GET", "/query?db=allowed&q=SELECT+*+INTO+secret..m+FROM+m", NULL, DATAPLANE_REFUSED,
	     NULL, R},
	    {"GET", "/query?db=allowed&q=CREATE+DATABASE+x", NULL, DATAPLANE_REFUSED, NULL, R},
	    {"GET", "/query?db=allowed&q=SHOW+DATABASES", NULL, DATAPLANE_REFUSED, NULL, R},
	    {"GET", "/query?db=allowed&q=SELECT+1+FROM+m%3BDROP+DATABASE+allowed", NULL,
	     DATAPLANE_REFUSED, NULL, R},
	    {"GET", "/query?db=allowed&rp=r1&q=SELECT+*+FROM+r2.m", NULL, DATAPLANE_REFUSED, NULL,
	     R},
	    {"GET", "/query?db=allowed&rp=r1&q=SELECT+*+FROM+r1.m", NULL, DATAPLANE_OK,
	     "allowed/r1", R},
	    {"GET", "/query?db=allowed&q=SELECT+*+FROM+m+WHERE+a%3D%27open", NULL,
	     DATAPLANE_MALFORMED, NULL, R},
	    {"GET", "/api/v3/query_influxql?db=allowed&q=SHOW+MEASUREMENTS+ON+secret", NULL,
	     DATAPLANE_REFUSED, NULL, R},
	    /* SQL is not InfluxQL: InfluxDB 3 runs it inside db */
	    {"GET", "/api/v3/query_sql?db=allowed&q=SELECT+*+FROM+secret", NULL, DATAPLANE_OK,
	     "allowed", R},
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_content_type(void **state)
{
	(void)state;
	assert_int_equal(dataplane_content_type(NULL), DATAPLANE_CT_NONE);
	assert_int_equal(dataplane_content_type(""), DATAPLANE_CT_NONE);
	assert_int_equal(dataplane_content_type("; x=y"), DATAPLANE_CT_NONE);
	assert_int_equal(dataplane_content_type("text/plain"), DATAPLANE_CT_NONE);
	assert_int_equal(dataplane_content_type(" application/json ; charset=utf-8"),
	                 DATAPLANE_CT_NONE);
	assert_int_equal(dataplane_content_type("application/x-www-form-urlencoded"),
	                 DATAPLANE_CT_FORM);
	assert_int_equal(dataplane_content_type("\tAPPLICATION/X-WWW-FORM-URLENCODED\t;a"),
	                 DATAPLANE_CT_FORM);
	assert_int_equal(dataplane_content_type("multipart/anything"), DATAPLANE_CT_FORM);
	assert_int_equal(dataplane_content_type("application/x-www-form-urlencodedx"),
	                 DATAPLANE_CT_NONE);
	assert_int_equal(dataplane_content_type("text"), DATAPLANE_CT_UNCLEAR);
	assert_int_equal(dataplane_content_type("/plain"), DATAPLANE_CT_UNCLEAR);
	assert_int_equal(dataplane_content_type("text/"), DATAPLANE_CT_UNCLEAR);
	assert_int_equal(dataplane_content_type("a/b/c"), DATAPLANE_CT_UNCLEAR);
	assert_int_equal(dataplane_content_type("text/pl ain"), DATAPLANE_CT_UNCLEAR);
	assert_int_equal(dataplane_content_type("\vapplication/x-www-form-urlencoded"),
	                 DATAPLANE_CT_UNCLEAR);
}

static void test_long_uri_is_refused(void **state)
{
	static char uri[DATAPLANE_MAX_URI + 2];
	struct dataplane_target t;

	(void)state;
	strcpy(uri, "/write?db=allowed&x=");
	memset(uri + strlen(uri), 'a', DATAPLANE_MAX_URI - strlen(uri));
	uri[DATAPLANE_MAX_URI] = '\0';
	assert_int_equal(dataplane_read("POST", uri, NULL, &t), DATAPLANE_OK);
	uri[DATAPLANE_MAX_URI] = 'a';
	uri[DATAPLANE_MAX_URI + 1] = '\0';
	assert_int_equal(dataplane_read("POST", uri, NULL, &t), DATAPLANE_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths_name_database_and_action),
	    cmocka_unit_test(test_ambiguous_parameters_are_refused),
	    cmocka_unit_test(test_methods_and_paths),
	    cmocka_unit_test(test_influxql_is_scanned),
	    cmocka_unit_test(test_content_type),
	    cmocka_unit_test(test_long_uri_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
