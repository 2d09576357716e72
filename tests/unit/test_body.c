/*
 * test_body.c - reading request bodies: the form parser behind POST /oauth/token.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "body.h"
#include "request.h"

/* Parses text as a form into req (released by the caller). */
static enum api_status parse(struct request *req, const char *text)
{
	request_init(req, NULL);
	req->body = text;
	req->body_len = strlen(text);
	return body_parse_form(req);
}

static const char *field(struct request *req, const char *name)
{
	return json_string_value(json_object_get(req->json, name));
}

static void test_form(void **state)
{
	struct request req;

	assert_int_equal(parse(&req, "email=admin%40example.com&lifetime=60&x=a+b%2Bc&empty=&bare"),
	                 API_OK);
	assert_true(req.form);
	assert_string_equal(field(&req, "email"), "admin@example.com");
	assert_string_equal(field(&req, "lifetime"), "60");
	assert_string_equal(field(&req, "x"), "a b+c");
	assert_string_equal(field(&req, "empty"), "");
	assert_string_equal(field(&req, "bare"), "");
	assert_int_equal(json_object_size(req.json), 5);
	request_release(&req);

	/* UTF-8 by escapes, empty pairs skipped */
	assert_int_equal(parse(&req, "&&name=Ren%C3%A9e&&"), API_OK);
	assert_string_equal(field(&req, "name"), "Ren\xc3\xa9"
	                                         "e");
	request_release(&req);
}

static void test_form_refusals(void **state)
{
	static const char *const bad[] = {
	    "a=%",      "a=%4",   "a=%zz",   "a=%00b",      "%C3=x",
	    "a=%C3%28", "=value", "a=1&a=2", "a=1&b=2&a=3",
	};
	struct request req;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&req, bad[i]) != API_BAD_REQUEST)
			fail_msg("accepted: %s", bad[i]);
		assert_null(req.json);
		request_release(&req);
	}
	assert_int_equal(parse(&req, ""), API_BAD_REQUEST);
	request_release(&req);
	assert_int_equal(parse(&req, "a=1&a=2"), API_BAD_REQUEST);
	assert_non_null(strstr(req.message, "\"a\" is given twice"));
	request_release(&req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_form),
	    cmocka_unit_test(test_form_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
