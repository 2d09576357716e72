/*
 * test_ctl_extsort.c - mgmtctl's external merge sort (server/ctl/extsort.c):
 * the order of strcmp() with ties in the order of addition, in memory and
 * through temporary files (one run, several, merge passes before the last),
 * the memory bound deciding when a run is written, and a temporary
 * directory that cannot be written named in the error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/extsort.h"

#define N 2000

struct seen {
	size_t n;
	char last_key[32];
	long last_seq;
	size_t stop_at;
};

/* data is "key seq": keys never go down, and equal keys keep their seq order. */
static int check_order(void *arg, const char *data, size_t len)
{
	struct seen *s = arg;
	char key[32];
	long seq;

	assert_true(len < 64);
	assert_int_equal(sscanf(data, "%31s %ld", key, &seq), 2);
	if (s->n > 0) {
		int d = strcmp(s->last_key, key);

		assert_true(d <= 0);
		if (d == 0)
			assert_true(s->last_seq < seq);
	}
	snprintf(s->last_key, sizeof(s->last_key), "%s", key);
	s->last_seq = seq;
	s->n++;
	return s->stop_at && s->n == s->stop_at ? -1 : 0;
}

/* Sorts n records with few distinct keys (many ties), holding about memory bytes. */
static size_t sort_with(size_t memory, long n, size_t *runs)
{
	struct extsort *x = extsort_new(memory);
	struct seen s = {0};

	assert_non_null(x);
	srand(7);
	for (long i = 0; i < n; i++) {
		char key[16], data[64];
		/* "k10" sorts before "k9", and "k" before both, as strcmp() has it */
		int k = rand() % 23;
		size_t key_len = (size_t)snprintf(key, sizeof(key), k ? "k%d" : "k", k);
		int len = snprintf(data, sizeof(data), "%s %ld", key, i);

		assert_int_equal(extsort_add(x, key, key_len, data, (size_t)len), 0);
	}
	assert_int_equal(extsort_finish(x, check_order, &s), 0);
	assert_string_equal(extsort_error(x), "");
	*runs = extsort_runs(x);
	extsort_free(x);
	return s.n;
}

static void test_in_memory(void **state)
{
	size_t runs;

	assert_int_equal(sort_with(64 * 1024 * 1024, N, &runs), N);
	assert_int_equal(runs, 0);
}

static void test_through_temporary_files(void **state)
{
	size_t runs;

	/* a few runs, merged at once */
	assert_int_equal(sort_with(32 * 1024, N, &runs), N);
	assert_true(runs > 1 && runs <= EXTSORT_FAN_IN);
	/* one record a run: 300 runs, merged in two passes (19 runs, then 2) and then at once */
	assert_int_equal(sort_with(1, 300, &runs), 300);
	assert_int_equal(runs, 300);
	/* 17 runs: a pass of one group of 16 and one run left as it is */
	assert_int_equal(sort_with(1, 17, &runs), 17);
}

static void test_memory_bound_decides_the_runs(void **state)
{
	/* a record counts its header, key, data and a pointer: find what one counts */
	struct extsort *x = NULL;
	struct seen s = {0};
	size_t one;

	for (one = 1; one < 256; one++) {
		extsort_free(x);
		x = extsort_new(one + 1);
		assert_int_equal(extsort_add(x, "k", 1, "k 1", 3), 0);
		if (extsort_runs(x) == 0)
			break;
	}
	assert_true(one > 4 && one < 256);
	/* one record stays in memory within a bound one byte larger than it... */
	extsort_free(x);
	x = extsort_new(one + 1);
	assert_int_equal(extsort_add(x, "k", 1, "k 1", 3), 0);
	assert_int_equal(extsort_runs(x), 0);
	/* ...and goes to a file at exactly the bound */
	extsort_free(x);
	x = extsort_new(one);
	assert_int_equal(extsort_add(x, "k", 1, "k 1", 3), 0);
	assert_int_equal(extsort_runs(x), 1);
	assert_int_equal(extsort_add(x, "j", 1, "j 2", 3), 0);
	assert_int_equal(extsort_finish(x, check_order, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.last_key, "k");
	extsort_free(x);
}

static void test_nothing_to_sort(void **state)
{
	struct extsort *x = extsort_new(1024);
	struct seen s = {0};

	assert_int_equal(extsort_finish(x, check_order, &s), 0);
	assert_int_equal(s.n, 0);
	extsort_free(x);
}

static void test_a_stopped_merge(void **state)
{
	struct extsort *x = extsort_new(1);
	struct seen s = {.stop_at = 3};

	for (int i = 0; i < 10; i++) {
		char data[8];

		snprintf(data, sizeof(data), "k %d", i);
		assert_int_equal(extsort_add(x, "k", 1, data, strlen(data)), 0);
	}
	assert_int_equal(extsort_finish(x, check_order, &s), -1);
	assert_int_equal(s.n, 3);
	extsort_free(x);
}

static void test_unwritable_temporary_directory(void **state)
{
	struct extsort *x = extsort_new(1);
	char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;

	setenv("TMPDIR", "/nonexistent-mgmtctl-dir", 1);
	assert_int_equal(extsort_add(x, "k", 1, "k 1", 3), -1);
	assert_non_null(strstr(extsort_error(x), "temporary file in /nonexistent-mgmtctl-dir"));
	extsort_free(x);
	if (old) {
		setenv("TMPDIR", old, 1);
		free(old);
	} else {
		unsetenv("TMPDIR");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_memory),
	    cmocka_unit_test(test_through_temporary_files),
	    cmocka_unit_test(test_memory_bound_decides_the_runs),
	    cmocka_unit_test(test_nothing_to_sort),
	    cmocka_unit_test(test_a_stopped_merge),
	    cmocka_unit_test(test_unwritable_temporary_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
