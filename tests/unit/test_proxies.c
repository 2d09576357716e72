/* Unit tests of proxies.c: [server] trusted_proxies and the client named by X-Forwarded-For. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxies.h"

static void addr(const char *text, unsigned char out[16])
{
	assert_true(proxies_parse_address(text, strlen(text), out));
}

static struct proxies parsed(const char *text)
{
	struct proxies p;
	char why[128];

	if (proxies_parse(text, &p, why, sizeof(why)) != 0)
		fail_msg("%s: %s", text, why);
	return p;
}

static void test_parse_lists(void **state)
{
	struct proxies p;
	char why[128];

	(void)state;
	p = parsed("");
	assert_int_equal(p.count, 0);
	p = parsed(" 127.0.0.1, ::1 10.0.0.0/8,fd00::/8 ,[::2]");
	assert_int_equal(p.count, 5);
	assert_int_equal(p.nets[0].prefix, 128);
	assert_int_equal(p.nets[2].prefix, 96 + 8);
	assert_int_equal(p.nets[3].prefix, 8);
	p = parsed("0.0.0.0/0");
	assert_int_equal(p.nets[0].prefix, 96);

	static const char *bad[] = {
	    "localhost", "127.0.0.1/33", "::1/129",       "10.0.0.1/8",
	    "10.0.0.0/", "10.0.0.0/x",   "10.0.0.0/0008", "1.2.3.4:80",
	    "[1.2.3.4]", "fe80::1%eth0", "127.0.0.1;",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (proxies_parse(bad[i], &p, why, sizeof(why)) != -1)
			fail_msg("%s was accepted", bad[i]);
		assert_true(why[0] != '\0');
		assert_int_equal(p.count, 0);
	}
}

static void test_too_many_entries(void **state)
{
	char text[PROXIES_MAX * 16 + 32] = "";
	struct proxies p;
	char why[128];

	(void)state;
	for (int i = 0; i < PROXIES_MAX; i++) {
		char one[16];

		snprintf(one, sizeof(one), "10.0.%d.%d ", i / 250, i % 250);
		strcat(text, one);
	}
	assert_int_equal(proxies_parse(text, &p, why, sizeof(why)), 0);
	strcat(text, "10.9.9.9");
	assert_int_equal(proxies_parse(text, &p, why, sizeof(why)), -1);
}

static void test_contains_respects_prefix_boundaries(void **state)
{
	struct proxies p = parsed("10.1.2.0/23, 2001:db8::/33, 127.0.0.1");
	unsigned char a[16];

	(void)state;
	addr("10.1.2.0", a);
	assert_true(proxies_contains(&p, a));
	addr("10.1.3.255", a);
	assert_true(proxies_contains(&p, a));
	addr("10.1.4.0", a);
	assert_false(proxies_contains(&p, a));
	addr("10.1.1.255", a);
	assert_false(proxies_contains(&p, a));
	addr("2001:db8:7fff::1", a);
	assert_true(proxies_contains(&p, a));
	addr("2001:db8:8000::1", a);
	assert_false(proxies_contains(&p, a));
	addr("127.0.0.1", a);
	assert_true(proxies_contains(&p, a));
	addr("127.0.0.2", a);
	assert_false(proxies_contains(&p, a));
	/* an IPv4 network never matches IPv6 addresses that share its bytes */
	addr("::a01:200", a);
	assert_false(proxies_contains(&p, a));
}

static void test_client_is_the_rightmost_untrusted(void **state)
{
	struct proxies p = parsed("127.0.0.1, 10.0.0.0/8");
	unsigned char got[16], want[16];

	(void)state;
	/* what the client wrote itself stays left of what the proxies appended */
	assert_true(proxies_client(&p, "6.6.6.6, 192.0.2.7, 10.0.0.5", got));
	addr("192.0.2.7", want);
	assert_memory_equal(got, want, 16);
	assert_true(proxies_client(&p, "192.0.2.8", got));
	addr("192.0.2.8", want);
	assert_memory_equal(got, want, 16);
	assert_true(proxies_client(&p, " 2001:db8::1 ,\t[2001:db8::2] ", got));
	addr("2001:db8::2", want);
	assert_memory_equal(got, want, 16);
	/* every one a proxy: the leftmost */
	assert_true(proxies_client(&p, "10.0.0.9, 127.0.0.1", got));
	addr("10.0.0.9", want);
	assert_memory_equal(got, want, 16);
	/* unreadable before an untrusted one is reached: the last good one */
	assert_true(proxies_client(&p, "192.0.2.9, junk, 10.0.0.3", got));
	addr("10.0.0.3", want);
	assert_memory_equal(got, want, 16);
	assert_true(proxies_client(&p, ",10.0.0.4", got));
	addr("10.0.0.4", want);
	assert_memory_equal(got, want, 16);
	/* nothing readable at the right end: no answer, the peer stands */
	memset(got, 0x5a, sizeof(got));
	assert_false(proxies_client(&p, "192.0.2.1, junk", got));
	assert_false(proxies_client(&p, "", got));
	assert_false(proxies_client(&p, " , ", got));
	assert_false(proxies_client(&p, NULL, got));
	assert_false(proxies_client(&p, "192.0.2.1:4711", got));
	for (size_t i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], 0x5a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_lists),
	    cmocka_unit_test(test_too_many_entries),
	    cmocka_unit_test(test_contains_respects_prefix_boundaries),
	    cmocka_unit_test(test_client_is_the_rightmost_untrusted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
