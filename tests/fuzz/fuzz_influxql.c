/*
 * fuzz_influxql.c - the data-plane check's InfluxQL scan (server/influxql.c).
 *
 * Input: one flag byte (bit 0: the request names rp "rp1"), then the query.
 *
 * Properties: any text gets a verdict without a crash, leak or undefined
 * behaviour; the same text gets the same verdict twice; a refusal says why
 * in printable text, a pass says nothing; and a query that passes stops
 * passing once a statement reading another database, or dropping one, is
 * appended after a line break (so the lexer never ends a query in a state
 * that would swallow or hide what follows).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "influxql.h"

static const char *const tails[] = {
    "\n;SELECT * FROM secret..m",
    "\n;DROP DATABASE allowed",
    "\n;SHOW MEASUREMENTS ON secret",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[128], why2[128];
	enum influxql_verdict v;
	const char *rp, *q;
	size_t len;

	if (size < 1 || size > 4096)
		return 0;
	rp = (data[0] & 1) ? "rp1" : NULL;
	q = (const char *)data + 1;
	len = size - 1;
	v = influxql_check_read(q, len, "allowed", rp, why, sizeof(why));
	if (influxql_check_read(q, len, "allowed", rp, why2, sizeof(why2)) != v ||
	    strcmp(why, why2) != 0)
		abort();
	if (v == INFLUXQL_READ_OK) {
		if (why[0] != '\0')
			abort();
	} else {
		if (why[0] == '\0')
			abort();
		for (const char *p = why; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				abort();
		return 0;
	}
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		size_t tail = strlen(tails[i]);
		char *longer = malloc(len + tail);

		if (longer == NULL)
			abort();
		memcpy(longer, q, len);
		memcpy(longer + len, tails[i], tail);
		if (influxql_check_read(longer, len + tail, "allowed", rp, why, sizeof(why)) ==
		    INFLUXQL_READ_OK)
			abort();
		free(longer);
	}
	return 0;
}
