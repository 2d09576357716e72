/*
 * test_jwtcache.c - the verified-JWT cache: keys, validity window, bounds,
 * eviction, and use from several threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "jwtcache.h"

#define NOW INT64_C(1700000000)

static struct jwtcache_entry entry(const char *sub, int64_t from, int64_t until)
{
	struct jwtcache_entry e;

	memset(&e, 0, sizeof(e));
	e.issuer = 1;
	e.generation = 7;
	e.valid_from = from;
	e.valid_until = until;
	snprintf(e.claims.sub, sizeof(e.claims.sub), "%s", sub);
	e.claims.exp = until;
	return e;
}

static void key_of(int i, unsigned char key[JWTCACHE_KEY_LEN])
{
	char token[64];

	snprintf(token, sizeof(token), "header.payload-%d.signature", i);
	jwtcache_key(token, key);
}

static void test_key(void **state)
{
	unsigned char a[JWTCACHE_KEY_LEN], b[JWTCACHE_KEY_LEN], c[JWTCACHE_KEY_LEN];
	static const char token[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b.c";

	jwtcache_key(token, a);
	jwtcache_key(token, b);
	jwtcache_key("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab.b.c", c);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
	/* the key is a hash, not the token's bytes */
	assert_memory_not_equal(a, token, sizeof(a));
}

static void test_hit_and_window(void **state)
{
	struct jwtcache *c = jwtcache_new(64);
	unsigned char k[JWTCACHE_KEY_LEN], other[JWTCACHE_KEY_LEN];
	struct jwtcache_entry e = entry("alice", NOW - 10, NOW + 100), got;

	assert_non_null(c);
	key_of(1, k);
	key_of(2, other);
	assert_false(jwtcache_get(c, k, NOW, &got));
	jwtcache_put(c, k, &e, NOW);
	assert_true(jwtcache_get(c, k, NOW, &got));
	assert_string_equal(got.claims.sub, "alice");
	assert_int_equal(got.issuer, 1);
	assert_int_equal(got.generation, 7);
	assert_false(jwtcache_get(c, other, NOW, &got));

	/* before valid_from (a clock set back): a miss, but the entry stays */
	assert_false(jwtcache_get(c, k, NOW - 11, &got));
	assert_true(jwtcache_get(c, k, NOW - 10, &got));
	assert_int_equal(jwtcache_count(c), 1);

	/* never at or past exp, and the entry is dropped for good */
	assert_true(jwtcache_get(c, k, NOW + 99, &got));
	assert_false(jwtcache_get(c, k, NOW + 100, &got));
	assert_int_equal(jwtcache_count(c), 0);
	assert_false(jwtcache_get(c, k, NOW, &got));

	/* an entry already expired is not stored */
	jwtcache_put(c, k, &e, NOW + 100);
	assert_int_equal(jwtcache_count(c), 0);

	/* a second put replaces */
	jwtcache_put(c, k, &e, NOW);
	e = entry("bob", INT64_MIN, NOW + 50);
	jwtcache_put(c, k, &e, NOW);
	assert_int_equal(jwtcache_count(c), 1);
	assert_true(jwtcache_get(c, k, INT64_MIN / 2, &got));
	assert_string_equal(got.claims.sub, "bob");
	jwtcache_free(c);
	jwtcache_free(NULL);
}

static void test_bounded(void **state)
{
	struct jwtcache *c = jwtcache_new(100);
	unsigned char k[JWTCACHE_KEY_LEN];
	size_t cap;

	assert_non_null(c);
	cap = jwtcache_capacity(c);
	assert_true(cap >= 100);
	assert_true(cap <= 256);
	for (int i = 0; i < (int)cap * 10; i++) {
		struct jwtcache_entry e = entry("x", NOW, NOW + 1000 + i);

		key_of(i, k);
		jwtcache_put(c, k, &e, NOW);
		assert_true(jwtcache_count(c) <= cap);
	}
	/* the most recent one is always there */
	{
		struct jwtcache_entry got;

		assert_true(jwtcache_get(c, k, NOW, &got));
	}
	jwtcache_free(c);
}

static void test_eviction_order(void **state)
{
	/* capacity 8: one set of 8 slots, so every key lands in it */
	struct jwtcache *c = jwtcache_new(8);
	unsigned char k[10][JWTCACHE_KEY_LEN];
	struct jwtcache_entry e, got;

	assert_int_equal(jwtcache_capacity(c), 8);
	for (int i = 0; i < 10; i++)
		key_of(i, k[i]);
	for (int i = 0; i < 8; i++) {
		/* key 3 expires early */
		e = entry("x", NOW, i == 3 ? NOW + 5 : NOW + 1000);
		jwtcache_put(c, k[i], &e, NOW);
	}
	assert_int_equal(jwtcache_count(c), 8);
	/* full: the expired entry gives way first */
	e = entry("x", NOW, NOW + 1000);
	jwtcache_put(c, k[8], &e, NOW + 10);
	assert_false(jwtcache_get(c, k[3], NOW, &got));
	assert_true(jwtcache_get(c, k[0], NOW + 10, &got));
	/* then the oldest */
	jwtcache_put(c, k[9], &e, NOW + 10);
	assert_false(jwtcache_get(c, k[0], NOW + 10, &got));
	for (int i = 1; i < 10; i++)
		if (i != 3 && !jwtcache_get(c, k[i], NOW + 10, &got))
			fail_msg("key %d was evicted", i);
	jwtcache_free(c);
}

#define THREADS 4
#define ROUNDS  20000

static struct jwtcache *shared;

static void *hammer(void *arg)
{
	int base = (int)(intptr_t)arg;

	for (int r = 0; r < ROUNDS; r++) {
		int i = base * 7 + r % 97;
		unsigned char k[JWTCACHE_KEY_LEN];
		struct jwtcache_entry e, got;
		char sub[32];

		snprintf(sub, sizeof(sub), "sub-%d", i);
		key_of(i, k);
		if (jwtcache_get(shared, k, NOW, &got)) {
			/* a hit is always the entry stored under that key, never a torn one */
			if (strcmp(got.claims.sub, sub) != 0 || got.valid_until != NOW + 1000 + i)
				return (void *)1;
		} else {
			e = entry(sub, NOW, NOW + 1000 + i);
			jwtcache_put(shared, k, &e, NOW);
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[THREADS];

	shared = jwtcache_new(64);
	assert_non_null(shared);
	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *)i), 0);
	for (int i = 0; i < THREADS; i++) {
		void *rv;

		assert_int_equal(pthread_join(t[i], &rv), 0);
		assert_null(rv);
	}
	assert_true(jwtcache_count(shared) <= jwtcache_capacity(shared));
	jwtcache_free(shared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key),     cmocka_unit_test(test_hit_and_window),
	    cmocka_unit_test(test_bounded), cmocka_unit_test(test_eviction_order),
	    cmocka_unit_test(test_threads),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
