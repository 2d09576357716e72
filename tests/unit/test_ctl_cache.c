/*
 * test_ctl_cache.c - when a signed-in token stops being used
 * (cache_expiry in ctl/cache.c): never past its JWT's exp nor the IdP's
 * expires_in, and an exp from outside bounded before it is scaled (an exp
 * near INT64_MIN overflowed, which the sanitized build of this test
 * reports).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "ctl/cache.h"

/* An unsigned JWT whose payload is the JSON text given. */
static char *jwt(const char *payload)
{
	static const char header[] = "{\"alg\":\"none\"}";
	char h[64], p[256], *out = malloc(512);

	assert_non_null(out);
	sodium_bin2base64(h, sizeof(h), (const unsigned char *)header, strlen(header),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_bin2base64(p, sizeof(p), (const unsigned char *)payload, strlen(payload),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(out, 512, "%s.%s.sig", h, p);
	return out;
}

static int64_t expiry_of(const char *payload, long expires_in, int64_t now_ms)
{
	char *t = jwt(payload);
	int64_t e = cache_expiry(t, expires_in, now_ms);

	free(t);
	return e;
}

static void test_bounds(void **state)
{
	const int64_t now = 1700000000000LL; /* a fixed instant: no calendar involved */

	(void)state;
	/* the earlier of exp and expires_in */
	assert_int_equal(expiry_of("{\"exp\":1700000100}", 600, now), 1700000100000LL);
	assert_int_equal(expiry_of("{\"exp\":1800000000}", 600, now), now + 600000);
	/* neither: an hour */
	assert_int_equal(expiry_of("{}", 0, now), now + 3600000);
	/* from outside, past every bound: at the epoch at worst, never overflowed */
	assert_int_equal(expiry_of("{\"exp\":-9223372036854775808}", 600, now), 0);
	assert_int_equal(expiry_of("{\"exp\":-9223372036854}", 600, now), 0);
	assert_int_equal(expiry_of("{\"exp\":-1}", 600, now), 0);
	assert_int_equal(expiry_of("{\"exp\":9223372036854775807}", 600, now), now + 600000);
	assert_int_equal(expiry_of("{\"exp\":9223372036854775}", 600, now), now + 600000);
	/* not a number: not an exp */
	assert_int_equal(expiry_of("{\"exp\":\"1\"}", 600, now), now + 600000);
	assert_int_equal(expiry_of("{\"exp\":1e300}", 600, now), now + 600000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bounds),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
