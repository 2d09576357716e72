/*
 * test_util.c - ids, bounded copies, UTF-8 and what its characters are.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "util.h"

static int setup(void **state)
{
	return sodium_init() < 0 ? -1 : 0;
}

static void test_uuid_generate_is_valid(void **state)
{
	char a[UUID_STR_SIZE], b[UUID_STR_SIZE];

	for (int i = 0; i < 1000; i++) {
		uuid_v4_generate(a);
		assert_int_equal(strlen(a), 36);
		assert_true(uuid_is_valid(a));
		assert_int_equal(a[14], '4');
		assert_non_null(strchr("89ab", a[19]));
	}
	uuid_v4_generate(b);
	assert_string_not_equal(a, b);
}

static void test_uuid_generate_uses_all_bits(void **state)
{
	/* Over many ids, every free hex position takes many values; fixed ones do not. */
	char seen[36][16];
	char u[UUID_STR_SIZE];

	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 2000; i++) {
		uuid_v4_generate(u);
		for (int j = 0; j < 36; j++) {
			const char *d = strchr("0123456789abcdef", u[j]);

			if (d != NULL && *d != '\0')
				seen[j][d - "0123456789abcdef"] = 1;
		}
	}
	for (int j = 0; j < 36; j++) {
		int distinct = 0;

		for (int k = 0; k < 16; k++)
			distinct += seen[j][k];
		if (j == 8 || j == 13 || j == 18 || j == 23)
			assert_int_equal(distinct, 0);
		else if (j == 14)
			assert_int_equal(distinct, 1);
		else if (j == 19)
			assert_int_equal(distinct, 4);
		else
			assert_int_equal(distinct, 16);
	}
}

/* Every byte: the unreserved ones as themselves, the rest %XX that decodes back to it. */
static void test_uri_component_byte(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		char out[3];
		size_t n = uri_component_byte((unsigned char)c, out);
		bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		                  (c >= '0' && c <= '9') || (c != 0 && strchr("-._~", c));

		if (unreserved) {
			assert_int_equal(n, 1);
			assert_int_equal((unsigned char)out[0], c);
		} else {
			assert_int_equal(n, 3);
			assert_int_equal(out[0], '%');
			assert_int_equal(hex_digit_value(out[1]) * 16 + hex_digit_value(out[2]), c);
			assert_false(out[1] >= 'a' && out[1] <= 'f');
			assert_false(out[2] >= 'a' && out[2] <= 'f');
		}
	}
}

static void test_uuid_v8_derive(void **state)
{
	char a[UUID_STR_SIZE], b[UUID_STR_SIZE], c[UUID_STR_SIZE];

	(void)state;
	uuid_v8_derive("one", 3, a);
	uuid_v8_derive("one", 3, b);
	uuid_v8_derive("one\0", 4, c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '8');           /* version 8 */
	assert_non_null(strchr("89ab", a[19])); /* RFC 4122 variant */
	assert_false(uuid_is_valid(a));         /* not an id objects are stored with */
}

static void test_uuid_is_valid(void **state)
{
	assert_true(uuid_is_valid("123e4567-e89b-42d3-a456-426614174000"));
	assert_true(uuid_is_valid("00000000-0000-4000-8000-000000000000"));
	assert_true(uuid_is_valid("ffffffff-ffff-4fff-bfff-ffffffffffff"));
	assert_true(uuid_is_valid("ffffffff-ffff-4fff-9fff-ffffffffffff"));

	assert_false(uuid_is_valid(NULL));
	assert_false(uuid_is_valid(""));
	/* upper case */
	assert_false(uuid_is_valid("123E4567-E89B-42D3-A456-426614174000"));
	assert_false(uuid_is_valid("123e4567-e89b-42d3-A456-426614174000"));
	/* version 1, 5 */
	assert_false(uuid_is_valid("123e4567-e89b-12d3-a456-426614174000"));
	assert_false(uuid_is_valid("123e4567-e89b-52d3-a456-426614174000"));
	/* variant */
	assert_false(uuid_is_valid("123e4567-e89b-42d3-c456-426614174000"));
	assert_false(uuid_is_valid("123e4567-e89b-42d3-7456-426614174000"));
	/* length, dashes, characters */
	assert_false(uuid_is_valid("123e4567-e89b-42d3-a456-42661417400"));
	assert_false(uuid_is_valid("123e4567-e89b-42d3-a456-4266141740000"));
	assert_false(uuid_is_valid("123e4567e89b-42d3-a456-4266141740000"));
	assert_false(uuid_is_valid("123e4567-e89b-42d3-a456_426614174000"));
	assert_false(uuid_is_valid("123e4567-e89b-42d3-a456-42661417400g"));
	assert_false(uuid_is_valid("{123e4567-e89b-42d3-a456-426614174000}"));
	assert_false(uuid_is_valid("123e4567-e89b-42d3-a456-426614174000\n"));
	assert_false(uuid_is_valid(" 123e4567-e89b-42d3-a456-42661417400"));
}

static void test_str_copy(void **state)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	assert_true(str_copy(buf, sizeof(buf), "abc"));
	assert_string_equal(buf, "abc");

	assert_true(str_copy(buf, sizeof(buf), "1234567")); /* exactly fits */
	assert_string_equal(buf, "1234567");

	assert_false(str_copy(buf, sizeof(buf), "12345678"));
	assert_string_equal(buf, "1234567");

	assert_false(str_copy(buf, sizeof(buf), "a much longer string"));
	assert_string_equal(buf, "a much ");

	assert_true(str_copy(buf, sizeof(buf), ""));
	assert_string_equal(buf, "");

	assert_true(str_copy(buf, 1, ""));
	assert_false(str_copy(buf, 1, "a"));
	assert_string_equal(buf, "");

	buf[0] = 'z';
	assert_false(str_copy(buf, 0, ""));
	assert_int_equal(buf[0], 'z'); /* size 0: nothing written */

	strcpy(buf, "keep");
	assert_false(str_copy(buf, sizeof(buf), NULL));
	assert_string_equal(buf, "");
}

static void test_utf8_length_valid(void **state)
{
	assert_int_equal(utf8_length(""), 0);
	assert_int_equal(utf8_length("hello"), 5);
	assert_int_equal(utf8_length("h\xc3\xa9llo"), 5);     /* é */
	assert_int_equal(utf8_length("\xe2\x82\xac"), 1);     /* € */
	assert_int_equal(utf8_length("\xf0\x9f\x98\x80"), 1); /* U+1F600 */
	assert_int_equal(utf8_length("\xc2\x80"), 1);         /* U+0080 smallest 2-byte */
	assert_int_equal(utf8_length("\xdf\xbf"), 1);         /* U+07FF */
	assert_int_equal(utf8_length("\xe0\xa0\x80"), 1);     /* U+0800 smallest 3-byte */
	assert_int_equal(utf8_length("\xed\x9f\xbf"), 1);     /* U+D7FF below surrogates */
	assert_int_equal(utf8_length("\xee\x80\x80"), 1);     /* U+E000 above surrogates */
	assert_int_equal(utf8_length("\xef\xbf\xbf"), 1);     /* U+FFFF */
	assert_int_equal(utf8_length("\xf0\x90\x80\x80"), 1); /* U+10000 */
	assert_int_equal(utf8_length("\xf4\x8f\xbf\xbf"), 1); /* U+10FFFF */
	assert_int_equal(utf8_length("a\xe2\x82\xac\xf0\x9f\x98\x80z"), 4);
	assert_int_equal(utf8_length("\x01\x1f\x7f"), 3); /* controls are valid UTF-8 */
}

static void test_utf8_length_invalid(void **state)
{
	static const char *const bad[] = {
	    "\x80",                 /* stray continuation */
	    "a\xbf",                /* stray continuation */
	    "\xc0\x80",             /* overlong NUL */
	    "\xc1\xbf",             /* overlong 0x7f */
	    "\xe0\x80\x80",         /* overlong 3-byte */
	    "\xe0\x9f\xbf",         /* overlong U+07FF */
	    "\xf0\x80\x80\x80",     /* overlong 4-byte */
	    "\xf0\x8f\xbf\xbf",     /* overlong U+FFFF */
	    "\xed\xa0\x80",         /* U+D800 */
	    "\xed\xbf\xbf",         /* U+DFFF */
	    "\xf4\x90\x80\x80",     /* U+110000 */
	    "\xf5\x80\x80\x80",     /* lead byte past range */
	    "\xf8\x88\x80\x80\x80", /* 5-byte form */
	    "\xfe",
	    "\xff",
	    "\xc3",             /* truncated at end */
	    "\xe2\x82",         /* truncated at end */
	    "\xf0\x9f\x98",     /* truncated at end */
	    "\xc3x",            /* continuation missing */
	    "\xe2\x82x",        /* continuation missing */
	    "\xf0\x9f\x98\xc3", /* lead byte where continuation expected */
	    "ok\xe2\x82\xacok\xff",
	};

	assert_int_equal(utf8_length(NULL), -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (utf8_length(bad[i]) != -1)
			fail_msg("accepted bad UTF-8 #%zu", i);
	}
}

static void test_str_is_clean_text(void **state)
{
	assert_true(str_is_clean_text(""));
	assert_true(str_is_clean_text("a plain description, with punctuation!?~"));
	assert_true(str_is_clean_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));

	assert_false(str_is_clean_text(NULL));
	assert_false(str_is_clean_text("line\nbreak"));
	assert_false(str_is_clean_text("carriage\rreturn"));
	assert_false(str_is_clean_text("tab\there"));
	assert_false(str_is_clean_text("escape\x1b[31m"));
	assert_false(str_is_clean_text("\x01"));
	assert_false(str_is_clean_text("\x1f"));
	assert_false(str_is_clean_text("del\x7f"));
	assert_false(str_is_clean_text("bad \xc0\x8a utf8"));
	assert_false(str_is_clean_text("surrogate \xed\xa0\x80"));
	assert_false(str_is_clean_text("truncated \xe2\x82"));
}

static void test_url_origin(void **state)
{
	static const struct {
		const char *url, *origin; /* origin NULL: refused */
	} cases[] = {
	    {"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
	    {"HTTPS://Mgmt.Example:443/a?b#c", "https://mgmt.example"},
	    {"http://h:80", "http://h"},
	    {"http://h:", "http://h"},
	    {"http://h:443", "http://h:443"}, /* not http's default */
	    {"https://[::1]:8443/x", "https://[::1]:8443"},
	    {"https://[::1]/x", "https://[::1]"},
	    {"https://[::1]:443", "https://[::1]"},
	    {"ftp://h/", NULL},
	    {"http:///x", NULL},
	    {"http://:80/", NULL},
	    {"http://us@h/", NULL},
	    {"http://h%2e/", NULL},
	    {NULL, NULL},
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = url_origin(cases[i].url, out, sizeof(out));

		assert_int_equal(ok, cases[i].origin != NULL);
		assert_string_equal(out, ok ? cases[i].origin : "");
	}
	/* too long for out: refused, never cut */
	assert_false(url_origin("http://a-rather-long-host-name.example:8080", out, 20));
	assert_string_equal(out, "");
}

static void test_utf8_decode(void **state)
{
	uint32_t cp = 0;

	assert_int_equal(utf8_decode("A", &cp), 1);
	assert_int_equal(cp, 0x41);
	assert_int_equal(utf8_decode("", &cp), 1); /* the NUL itself */
	assert_int_equal(cp, 0);
	assert_int_equal(utf8_decode("\xc2\x9b", &cp), 2);
	assert_int_equal(cp, 0x9b);
	assert_int_equal(utf8_decode("\xe2\x80\xae!", &cp), 3);
	assert_int_equal(cp, 0x202e);
	assert_int_equal(utf8_decode("\xf3\xa0\x81\x81", &cp), 4);
	assert_int_equal(cp, 0xe0041);
	assert_int_equal(utf8_decode("\xc0\x80", &cp), 0);     /* overlong */
	assert_int_equal(utf8_decode("\xed\xa0\x80", &cp), 0); /* surrogate */
	assert_int_equal(utf8_decode("\xf4\x90\x80\x80", &cp), 0);
	assert_int_equal(utf8_decode("\xe2\x80", &cp), 0); /* cut short by the NUL */
	assert_int_equal(utf8_decode("\x9b", &cp), 0);
}

static void test_text_hazard_ranges(void **state)
{
	/* every range at both ends, and the code points just outside it */
	static const struct {
		uint32_t cp;
		enum text_hazard want;
	} cases[] = {
	    {0x00, TEXT_CONTROL},      {0x09, TEXT_CONTROL},      {0x0a, TEXT_CONTROL},
	    {0x1f, TEXT_CONTROL},      {0x20, TEXT_PLAIN},        {0x7e, TEXT_PLAIN},
	    {0x7f, TEXT_CONTROL},      {0x80, TEXT_CONTROL},      {0x9b, TEXT_CONTROL},
	    {0x9f, TEXT_CONTROL},      {0xa0, TEXT_PLAIN},        {0xad, TEXT_PLAIN},
	    {0x061c, TEXT_PLAIN},      {0x200a, TEXT_PLAIN},      {0x200b, TEXT_INVISIBLE},
	    {0x200c, TEXT_PLAIN},      {0x200d, TEXT_PLAIN},      {0x200e, TEXT_PLAIN},
	    {0x200f, TEXT_PLAIN},      {0x2027, TEXT_PLAIN},      {0x2028, TEXT_SEPARATOR},
	    {0x2029, TEXT_SEPARATOR},  {0x202a, TEXT_BIDI},       {0x202e, TEXT_BIDI},
	    {0x202f, TEXT_PLAIN},      {0x205f, TEXT_PLAIN},      {0x2060, TEXT_INVISIBLE},
	    {0x2065, TEXT_INVISIBLE},  {0x2066, TEXT_BIDI},       {0x2069, TEXT_BIDI},
	    {0x206a, TEXT_INVISIBLE},  {0x206f, TEXT_INVISIBLE},  {0x2070, TEXT_PLAIN},
	    {0xfefe, TEXT_PLAIN},      {0xfeff, TEXT_INVISIBLE},  {0xff00, TEXT_PLAIN},
	    {0xdffff, TEXT_PLAIN},     {0xe0000, TEXT_INVISIBLE}, {0xe0001, TEXT_INVISIBLE},
	    {0xe007f, TEXT_INVISIBLE}, {0xe0080, TEXT_PLAIN},     {0xe0100, TEXT_PLAIN},
	    {0x1f600, TEXT_PLAIN},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (text_hazard(cases[i].cp) != cases[i].want)
			fail_msg("text_hazard(U+%04X) is %d, not %d", (unsigned)cases[i].cp,
			         (int)text_hazard(cases[i].cp), (int)cases[i].want);
}

static void test_default_ignorable_and_spaces(void **state)
{
	static const uint32_t ignorable[] = {
	    0xad,   0x34f,  0x61c,   0x115f,  0x1160,  0x17b4,  0x17b5,  0x180b, 0x180f, 0x200b,
	    0x200f, 0x202a, 0x202e,  0x2060,  0x206f,  0x3164,  0xfe00,  0xfe0f, 0xfeff, 0xffa0,
	    0xfff0, 0xfff8, 0x1bca0, 0x1bca3, 0x1d173, 0x1d17a, 0xe0000, 0xe0fff};
	static const uint32_t shown[] = {0x20,   0xac,   0xae,    0x34e,   0x350,   0x61b,
	                                 0x61d,  0x115e, 0x1161,  0x180a,  0x1810,  0x200a,
	                                 0x2010, 0x2029, 0x202f,  0x205f,  0x2070,  0xfdff,
	                                 0xfe10, 0xfff9, 0x1bca4, 0x1d172, 0x1d17b, 0xe1000};
	static const uint32_t spaces[] = {0x20,   0xa0,   0x1680, 0x2000, 0x200a,
	                                  0x2028, 0x2029, 0x202f, 0x205f, 0x3000};
	static const uint32_t not_spaces[] = {0x1f, 0x21, 0x9f, 0xa1, 0x200b, 0x2030, 0x3001};

	for (size_t i = 0; i < sizeof(ignorable) / sizeof(ignorable[0]); i++)
		if (!text_is_default_ignorable(ignorable[i]))
			fail_msg("U+%04X is default-ignorable", (unsigned)ignorable[i]);
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		if (text_is_default_ignorable(shown[i]))
			fail_msg("U+%04X is not default-ignorable", (unsigned)shown[i]);
	for (size_t i = 0; i < sizeof(spaces) / sizeof(spaces[0]); i++)
		if (!text_is_space(spaces[i]))
			fail_msg("U+%04X is a space", (unsigned)spaces[i]);
	for (size_t i = 0; i < sizeof(not_spaces) / sizeof(not_spaces[0]); i++)
		if (text_is_space(not_spaces[i]))
			fail_msg("U+%04X is not a space", (unsigned)not_spaces[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uuid_generate_is_valid),
	    cmocka_unit_test(test_uuid_generate_uses_all_bits),
	    cmocka_unit_test(test_uuid_is_valid),
	    cmocka_unit_test(test_uuid_v8_derive),
	    cmocka_unit_test(test_uri_component_byte),
	    cmocka_unit_test(test_str_copy),
	    cmocka_unit_test(test_utf8_length_valid),
	    cmocka_unit_test(test_utf8_length_invalid),
	    cmocka_unit_test(test_str_is_clean_text),
	    cmocka_unit_test(test_url_origin),
	    cmocka_unit_test(test_utf8_decode),
	    cmocka_unit_test(test_text_hazard_ranges),
	    cmocka_unit_test(test_default_ignorable_and_spaces),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
