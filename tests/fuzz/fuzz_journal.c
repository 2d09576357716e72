/*
 * fuzz_journal.c - the request journal's redaction (server/journal.c), which reads
 * the bodies anyone sends a test server.
 *
 * Properties: any JSON is redacted without a crash, and no string value that comes
 * out holds a token marker ("M.V1.", "apiv1_"). (Object keys are names a client
 * chose, kept as sent.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "journal.h"
#include "harness.h"

static void check(const json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_string(v) &&
	    (strstr(json_string_value(v), "M.V1.") || strstr(json_string_value(v), "apiv1_")))
		abort();
	json_object_foreach((json_t *)v, key, item) check(item);
	json_array_foreach(v, i, item) check(item);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL), *out;

	if (in == NULL)
		return 0;
	out = journal_redact(in);
	if (out == NULL)
		abort(); /* only out of memory may fail, and inputs are small */
	check(out);
	json_decref(out);
	json_decref(in);
	return 0;
}
