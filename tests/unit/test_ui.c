/* Unit tests of api_ui.c's pure part and of the embedded files (ui.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ui.h"

#define TAG "\"0123456789abcdef0123456789abcdef\""

static void test_etag_listed(void **state)
{
	(void)state;
	assert_true(ui_etag_listed(TAG, TAG));
	assert_true(ui_etag_listed("W/" TAG, TAG));
	assert_true(ui_etag_listed("\"a\", " TAG, TAG));
	assert_true(ui_etag_listed(" \"a\" ,W/" TAG " , \"b\"", TAG));
	assert_true(ui_etag_listed("*", TAG));
	assert_false(ui_etag_listed(NULL, TAG));
	assert_false(ui_etag_listed("", TAG));
	assert_false(ui_etag_listed("\"a\"", TAG));
	assert_false(ui_etag_listed("0123456789abcdef0123456789abcdef", TAG)); /* unquoted */
	assert_false(ui_etag_listed(TAG "x", TAG));
	assert_false(ui_etag_listed(",,,", TAG));
}

static void test_embedded_files(void **state)
{
	size_t total = 0;
	bool index = false;

	(void)state;
	assert_true(ui_file_count >= 3);
	for (size_t i = 0; i < ui_file_count; i++) {
		const struct ui_file *f = &ui_files[i];

		assert_int_equal(strlen(f->data), f->len);
		assert_int_equal(strlen(f->etag), 34);
		assert_non_null(f->content_type);
		index |= strcmp(f->name, "index.html") == 0;
		total += f->len;
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(ui_files[j].etag, f->etag);
	}
	assert_true(index);
	assert_true(total < 200 * 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_etag_listed),
	    cmocka_unit_test(test_embedded_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
