/*
 * fuzz_faults.c - the test harness's fault rules (server/faults.c): the body of
 * PUT /_test/faults, which anyone can send a test server.
 *
 * Properties: any JSON is taken or refused without a crash; a refusal names why
 * (a non-empty message within the buffer) and leaves the rules as they were; taken
 * rules list back as many as were given, each with exactly one action (a named
 * fault's slow_commit with its delayMs), and decide on a few requests without a
 * crash, never on the harness's own paths.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "faults.h"
#include "harness.h"

static const char *const actions[] = {"status", "delayMs", "drop", "reset", "inject", NULL};

static void check_listed(const json_t *list, size_t want)
{
	const json_t *r;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) != want)
		abort();
	json_array_foreach(list, i, r)
	{
		int n = 0;
		const char *named = json_string_value(json_object_get(r, "inject"));

		for (size_t k = 0; actions[k]; k++)
			n += json_object_get(r, actions[k]) != NULL;
		/* slow_commit lists its delayMs beside inject */
		if (n != 1 + (named != NULL && strcmp(named, "slow_commit") == 0))
			abort();
		if (named != NULL && strcmp(named, "slow_commit") == 0 &&
		    !json_is_integer(json_object_get(r, "delayMs")))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {"/health", "/api/v0/accounts/a/clusters/b/databases",
	                                    "/_test/faults", "/"};
	struct faults *f = faults_new();
	json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	json_t *before, *after;
	char why[256];
	const char *refused;

	if (f == NULL)
		abort();
	if (in == NULL)
		goto out;
	/* one rule first, that a refused list must leave in place */
	{
		json_t *one = json_pack("[{s:s, s:s}]", "path", "/ready", "inject", "store_full");

		if (one == NULL || faults_set(f, one, why, sizeof(why)) != NULL)
			abort();
		json_decref(one);
	}
	before = faults_list(f);
	refused = faults_set(f, in, why, sizeof(why));
	after = faults_list(f);
	if (before == NULL || after == NULL)
		abort();
	if (refused != NULL) {
		if (refused[0] == '\0' || strnlen(refused, sizeof(why)) >= sizeof(why) ||
		    !json_equal(before, after))
			abort();
	} else {
		check_listed(after, json_array_size(in));
	}
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct fault_decision d = faults_decide(f, i % 2 ? "POST" : "GET", paths[i]);

		if (strncmp(paths[i], "/_test/", 7) == 0 && d.action != FAULT_NONE)
			abort();
		if (d.action == FAULT_INJECT && fault_named_name(d.named) == NULL)
			abort();
	}
	json_decref(before);
	json_decref(after);
	json_decref(in);
out:
	faults_free(f);
	return 0;
}
