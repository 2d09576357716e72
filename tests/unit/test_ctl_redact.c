/*
 * test_ctl_redact.c - what --trace hides (client_redact in ctl/client.c):
 * secrets found by parsing, not by the first byte, and wherever they are.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/ctl.h"

static char *redact(const char *text)
{
	static struct ctl c;
	char *out = client_redact(&c, text, strlen(text));

	assert_non_null(out);
	return out;
}

/* text, redacted, holds none of the secrets and all of the kept words */
static void check(const char *text, const char *const secrets[], const char *const kept[])
{
	char *out = redact(text);

	for (size_t i = 0; secrets[i]; i++) {
		if (strstr(out, secrets[i]))
			fail_msg("%s left in %s", secrets[i], out);
	}
	for (size_t i = 0; kept[i]; i++) {
		if (!strstr(out, kept[i]))
			fail_msg("%s lost from %s", kept[i], out);
	}
	free(out);
}

static void test_json_whatever_its_first_byte(void **state)
{
	(void)state;
	check(" \n\t{\"access_token\": \"opaque-secret-1\", \"expires_in\": 3600}",
	      (const char *const[]){"opaque-secret-1", NULL},
	      (const char *const[]){"[REDACTED]", "expires_in", NULL});
	check("\r\n[{\"device_code\": \"dc-secret-2\", \"user_code\": \"BCDF-GHJK\"}]",
	      (const char *const[]){"dc-secret-2", NULL}, (const char *const[]){"BCDF-GHJK", NULL});
}

static void test_fields_by_name_at_any_depth(void **state)
{
	(void)state;
	check("{\"a\": {\"b\": [{\"sessionToken\": \"s3\", \"clientSecret\": \"s4\", "
	      "\"my_secret_key\": 12345678, \"code\": \"s5\", \"password\": \"s6\"}]}, "
	      "\"name\": \"kept-name\"}",
	      (const char *const[]){"s3", "s4", "12345678", "s5", "s6", NULL},
	      (const char *const[]){"kept-name", NULL});
}

static void test_text_that_is_not_whole_json(void **state)
{
	(void)state;
	/* a cut body: the members are still found */
	check("{\"id_token\": \"cut-secret-7\", \"refresh_token\" : \"cut\\\"secret-8\", \"x",
	      (const char *const[]){"cut-secret-7", "secret-8", NULL},
	      (const char *const[]){"\"x", NULL});
}

static void test_forms_and_queries(void **state)
{
	(void)state;
	check("grant_type=authorization_code&code=form-secret-9&code_verifier=v10&client_id=cli",
	      (const char *const[]){"form-secret-9", "v10", NULL},
	      (const char *const[]){"client_id=cli", "grant_type=authorization_code", NULL});
	check("GET /cb?state=kept-state&code=q-secret-11 HTTP/1.1",
	      (const char *const[]){"q-secret-11", NULL},
	      (const char *const[]){"kept-state", "HTTP/1.1", NULL});
}

static void test_headers(void **state)
{
	(void)state;
	check("Set-Cookie: session=cookie-secret-12; Path=/; HttpOnly\r\n",
	      (const char *const[]){"cookie-secret-12", NULL},
	      (const char *const[]){"Set-Cookie:", NULL});
	check(
	    "GET / HTTP/1.1\r\nHost: h\r\ncookie: a=cookie-secret-13\r\n"
	    "Proxy-Authorization: Basic cHJveHk6c2VjcmV0\r\n"
	    "authorization: Bearer opaque-secret-14\r\n",
	    (const char *const[]){"cookie-secret-13", "cHJveHk6c2VjcmV0", "opaque-secret-14", NULL},
	    (const char *const[]){"Host: h", "Basic", "Bearer", NULL});
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_whatever_its_first_byte),
	    cmocka_unit_test(test_fields_by_name_at_any_depth),
	    cmocka_unit_test(test_text_that_is_not_whole_json),
	    cmocka_unit_test(test_forms_and_queries),
	    cmocka_unit_test(test_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
