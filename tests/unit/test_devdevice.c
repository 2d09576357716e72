/*
 * test_devdevice.c - the dev IdP's pending device authorizations: codes,
 * decisions, polling pace and expiry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "devdevice.h"

#define NOW  1800000000000LL /* ms; any instant does */
#define MONO 5000000LL

static int setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	*state = dev_devices_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	dev_devices_free(*state);
	return 0;
}

static void test_user_code_forms(void **state)
{
	char out[DEV_DEVICE_USER_CODE_SIZE];

	assert_true(dev_devices_normalize_user_code("BCDF-GHJK", out));
	assert_string_equal(out, "BCDF-GHJK");
	assert_true(dev_devices_normalize_user_code("bcdfghjk", out));
	assert_string_equal(out, "BCDF-GHJK");
	assert_true(dev_devices_normalize_user_code(" bc-df gh-jk ", out));
	assert_string_equal(out, "BCDF-GHJK");
	assert_false(dev_devices_normalize_user_code("BCDF-GHJ", out));   /* 7 letters */
	assert_false(dev_devices_normalize_user_code("BCDF-GHJKL", out)); /* 9 */
	assert_false(dev_devices_normalize_user_code("ABCD-GHJK", out));  /* a vowel */
	assert_false(dev_devices_normalize_user_code("BCDF-GHJ1", out));  /* a digit */
	assert_false(dev_devices_normalize_user_code("", out));
	assert_false(dev_devices_normalize_user_code("BCDF\xc3\xa9GHJK", out));
}

static void test_start_gives_fresh_codes(void **state)
{
	struct dev_device_start a, b;
	char canonical[DEV_DEVICE_USER_CODE_SIZE];

	assert_int_equal(dev_devices_start(*state, "cli", NULL, NOW, &a), 0);
	assert_int_equal(dev_devices_start(*state, "cli", NULL, NOW, &b), 0);
	assert_int_equal(strlen(a.device_code), 43);
	assert_string_not_equal(a.device_code, b.device_code);
	assert_string_not_equal(a.user_code, b.user_code);
	assert_true(dev_devices_normalize_user_code(a.user_code, canonical));
	assert_string_equal(canonical, a.user_code);
	assert_int_equal(a.expires_in, DEV_DEVICE_LIFETIME_S);
	assert_int_equal(a.interval, DEV_DEVICE_INTERVAL_S);
}

static void test_approve_then_poll(void **state)
{
	struct dev_device_start s;
	struct dev_device_view v;
	char *jwt = NULL;
	long expires_in;

	assert_int_equal(dev_devices_start(*state, "mgmtctl", NULL, NOW, &s), 0);
	assert_int_equal(dev_devices_poll(*state, s.device_code, NOW, MONO, &jwt, &expires_in),
	                 DEV_DEVICE_PENDING);
	assert_true(dev_devices_find(*state, s.user_code, NOW, &v));
	assert_string_equal(v.client_id, "mgmtctl");
	assert_int_equal(strlen(v.csrf_token), 43);
	/* a wrong form token decides nothing */
	assert_int_equal(dev_devices_decide(*state, s.user_code, "nope", strdup("x.y.z"), 0, NOW),
	                 DEV_DEVICE_BAD_CSRF);
	assert_int_equal(dev_devices_decide(*state, s.user_code, v.csrf_token, strdup("h.p.s"),
	                                    NOW / 1000 + 3600, NOW + 1000),
	                 DEV_DEVICE_DECIDED);
	/* decided: no longer on the page, and a second decision is refused */
	assert_false(dev_devices_find(*state, s.user_code, NOW, &v));
	assert_int_equal(dev_devices_decide(*state, s.user_code, v.csrf_token, NULL, 0, NOW),
	                 DEV_DEVICE_NO_SUCH_CODE);
	assert_int_equal(
	    dev_devices_poll(*state, s.device_code, NOW + 10000, MONO + 2000, &jwt, &expires_in),
	    DEV_DEVICE_GRANTED);
	assert_string_equal(jwt, "h.p.s");
	assert_int_equal(expires_in, 3590);
	free(jwt);
	/* one use */
	assert_int_equal(
	    dev_devices_poll(*state, s.device_code, NOW + 11000, MONO + 4000, &jwt, &expires_in),
	    DEV_DEVICE_INVALID);
	assert_null(jwt);
}

static void test_deny(void **state)
{
	struct dev_device_start s;
	struct dev_device_view v;
	char *jwt;
	long e;

	assert_int_equal(dev_devices_start(*state, "", NULL, NOW, &s), 0);
	assert_true(dev_devices_find(*state, "  " /* typed badly */, NOW, &v) == false);
	assert_true(dev_devices_find(*state, s.user_code, NOW, &v));
	assert_int_equal(dev_devices_decide(*state, s.user_code, v.csrf_token, NULL, 0, NOW),
	                 DEV_DEVICE_DECIDED);
	assert_int_equal(dev_devices_poll(*state, s.device_code, NOW, MONO, &jwt, &e),
	                 DEV_DEVICE_DENIED);
	assert_string_equal(dev_devices_poll_error(DEV_DEVICE_DENIED), "access_denied");
	assert_int_equal(dev_devices_poll(*state, s.device_code, NOW, MONO, &jwt, &e),
	                 DEV_DEVICE_INVALID);
}

static void test_slow_down_grows_the_interval(void **state)
{
	struct dev_device_start s;
	char *jwt;
	long e;

	assert_int_equal(dev_devices_start(*state, "", NULL, NOW, &s), 0);
	assert_int_equal(dev_devices_poll(*state, s.device_code, NOW, MONO, &jwt, &e),
	                 DEV_DEVICE_PENDING);
	assert_int_equal(dev_devices_poll(*state, s.device_code, NOW, MONO + 500, &jwt, &e),
	                 DEV_DEVICE_SLOW_DOWN);
	/* now 6 s are needed */
	assert_int_equal(dev_devices_poll(*state, s.device_code, NOW, MONO + 500 + 5000, &jwt, &e),
	                 DEV_DEVICE_SLOW_DOWN);
	assert_int_equal(
	    dev_devices_poll(*state, s.device_code, NOW, MONO + 5500 + 17000, &jwt, &e),
	    DEV_DEVICE_PENDING);
	assert_string_equal(dev_devices_poll_error(DEV_DEVICE_SLOW_DOWN), "slow_down");
}

static void test_expiry_by_the_clock(void **state)
{
	struct dev_device_start s;
	struct dev_device_view v;
	int64_t end = NOW + (int64_t)DEV_DEVICE_LIFETIME_S * 1000;
	char *jwt;
	long e;

	assert_int_equal(dev_devices_start(*state, "", NULL, NOW, &s), 0);
	assert_true(dev_devices_find(*state, s.user_code, end - 1, &v));
	assert_false(dev_devices_find(*state, s.user_code, end, &v));
	assert_int_equal(
	    dev_devices_decide(*state, s.user_code, v.csrf_token, strdup("a.b.c"), 0, end),
	    DEV_DEVICE_NO_SUCH_CODE);
	assert_int_equal(dev_devices_poll(*state, s.device_code, end, MONO, &jwt, &e),
	                 DEV_DEVICE_EXPIRED);
	assert_int_equal(dev_devices_poll(*state, s.device_code, end, MONO, &jwt, &e),
	                 DEV_DEVICE_INVALID);
}

/* The IPv4 address 10.0.0.n, mapped into IPv6 as the request carries it. */
static const unsigned char *ipv4(unsigned char out[THROTTLE_ADDR_LEN], unsigned char n)
{
	memset(out, 0, THROTTLE_ADDR_LEN);
	out[10] = out[11] = 0xff;
	out[12] = 10;
	out[15] = n;
	return out;
}

static void test_full_table_evicts_only_expired(void **state)
{
	int per = DEV_DEVICE_SLOTS_PER_ADDRESS;
	int64_t end = NOW + (int64_t)DEV_DEVICE_LIFETIME_S * 1000;
	unsigned char a[THROTTLE_ADDR_LEN];
	struct dev_device_start s;

	/* as many addresses as it takes, each with its share */
	for (int i = 0; i < DEV_DEVICE_SLOTS; i++)
		assert_int_equal(
		    dev_devices_start(*state, "", ipv4(a, (unsigned char)(i / per)), NOW + i, &s),
		    DEV_DEVICE_STARTED);
	assert_int_equal(dev_devices_start(*state, "", ipv4(a, 200), NOW + 1000, &s),
	                 DEV_DEVICE_ALL_SLOTS_TAKEN);
	assert_int_equal(s.retry_in, DEV_DEVICE_LIFETIME_S - 1);
	assert_int_equal(s.device_code[0], '\0');
	/* the first one's time is up: its slot is the next one's */
	assert_int_equal(dev_devices_start(*state, "", ipv4(a, 200), end, &s), DEV_DEVICE_STARTED);
	assert_int_equal(dev_devices_start(*state, "", ipv4(a, 201), end, &s),
	                 DEV_DEVICE_ALL_SLOTS_TAKEN);
}

static void test_one_address_holds_only_its_share(void **state)
{
	int64_t end = NOW + (int64_t)DEV_DEVICE_LIFETIME_S * 1000;
	unsigned char a[THROTTLE_ADDR_LEN], b[THROTTLE_ADDR_LEN], v6[THROTTLE_ADDR_LEN];
	struct dev_device_start first, s;
	struct dev_device_view v;
	char *jwt;
	long e;

	ipv4(a, 1);
	ipv4(b, 2);
	assert_int_equal(dev_devices_start(*state, "", a, NOW, &first), DEV_DEVICE_STARTED);
	for (int i = 1; i < DEV_DEVICE_SLOTS_PER_ADDRESS; i++)
		assert_int_equal(dev_devices_start(*state, "", a, NOW + 1000, &s),
		                 DEV_DEVICE_STARTED);
	assert_int_equal(dev_devices_start(*state, "", a, NOW + 1000, &s),
	                 DEV_DEVICE_ADDRESS_SLOTS_TAKEN);
	assert_int_equal(s.retry_in, DEV_DEVICE_LIFETIME_S - 1);
	/* another address is not held back */
	assert_int_equal(dev_devices_start(*state, "", b, NOW + 1000, &s), DEV_DEVICE_STARTED);
	/* a decided and polled authorization gives its slot back */
	assert_true(dev_devices_find(*state, first.user_code, NOW, &v));
	assert_int_equal(dev_devices_decide(*state, first.user_code, v.csrf_token, NULL, 0, NOW),
	                 DEV_DEVICE_DECIDED);
	assert_int_equal(dev_devices_start(*state, "", a, NOW + 1000, &s),
	                 DEV_DEVICE_ADDRESS_SLOTS_TAKEN);
	assert_int_equal(dev_devices_poll(*state, first.device_code, NOW, MONO, &jwt, &e),
	                 DEV_DEVICE_DENIED);
	assert_int_equal(dev_devices_start(*state, "", a, NOW + 1000, &s), DEV_DEVICE_STARTED);
	assert_int_equal(dev_devices_start(*state, "", a, NOW + 1000, &s),
	                 DEV_DEVICE_ADDRESS_SLOTS_TAKEN);
	/* expired ones too */
	assert_int_equal(dev_devices_start(*state, "", a, end + 1000, &s), DEV_DEVICE_STARTED);

	/* IPv6 addresses count by their /64: another host of the same /64 is the same */
	memset(v6, 0, sizeof(v6));
	v6[0] = 0x20;
	v6[1] = 0x01;
	for (int i = 0; i < DEV_DEVICE_SLOTS_PER_ADDRESS; i++) {
		v6[15] = (unsigned char)i;
		assert_int_equal(dev_devices_start(*state, "", v6, NOW, &s), DEV_DEVICE_STARTED);
	}
	v6[15] = 0xee;
	assert_int_equal(dev_devices_start(*state, "", v6, NOW, &s),
	                 DEV_DEVICE_ADDRESS_SLOTS_TAKEN);
	v6[7] = 1; /* the next /64 */
	assert_int_equal(dev_devices_start(*state, "", v6, NOW, &s), DEV_DEVICE_STARTED);
}

static void test_discovery_fields(void **state)
{
	json_t *doc = json_pack("{s:s}", "issuer", "http://127.0.0.1:8080/");

	assert_int_equal(dev_devices_describe(doc, "http://127.0.0.1:8080/"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(doc, "device_authorization_endpoint")),
	    "http://127.0.0.1:8080/oauth/device/code");
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(doc, "grant_types_supported"), 0)),
	    DEV_DEVICE_GRANT_TYPE);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_user_code_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_gives_fresh_codes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_approve_then_poll, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deny, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slow_down_grows_the_interval, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expiry_by_the_clock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_table_evicts_only_expired, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_address_holds_only_its_share, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_discovery_fields, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
