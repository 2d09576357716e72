/* Unit tests of request.c: the client address as text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "request.h"

static void text_of(const char *addr, char *out, size_t outsize)
{
	struct request req;

	memset(&req, 0, sizeof(req));
	req.client_known = true;
	if (strchr(addr, ':') != NULL) {
		assert_int_equal(inet_pton(AF_INET6, addr, req.client_addr), 1);
	} else {
		req.client_addr[10] = req.client_addr[11] = 0xff;
		assert_int_equal(inet_pton(AF_INET, addr, req.client_addr + 12), 1);
	}
	request_client_text(&req, out, outsize);
}

/* IPv4 is written by hand: every number of digits, both ends of the range. */
static void test_ipv4_as_inet_ntop_writes_it(void **state)
{
	static const char *const addrs[] = {"0.0.0.0",         "127.0.0.1",    "10.200.100.1",
	                                    "255.255.255.255", "9.99.100.199", "1.2.3.4"};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		text_of(addrs[i], out, sizeof(out));
		assert_string_equal(out, addrs[i]);
	}
	/* a buffer too small for an address of four full numbers: cut, never overrun */
	text_of("255.255.255.255", out, 8);
	assert_true(strlen(out) < 8);
}

static void test_ipv6_and_unknown(void **state)
{
	struct request req;
	char out[64];

	(void)state;
	text_of("2001:db8::1", out, sizeof(out));
	assert_string_equal(out, "2001:db8::1");
	text_of("::1", out, sizeof(out));
	assert_string_equal(out, "::1");
	memset(&req, 0, sizeof(req));
	strcpy(out, "x");
	request_client_text(&req, out, sizeof(out));
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4_as_inet_ntop_writes_it),
	    cmocka_unit_test(test_ipv6_and_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
