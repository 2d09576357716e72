/*
 * fuzz_dataplane.c - the data-plane check's reading of a forwarded request
 * (server/dataplane.c) and of X-Forwarded-For (server/proxies.c).
 *
 * Input: a method byte, a Content-Type byte, then the URI (up to the first
 * NUL); what follows a NUL is read as a trusted_proxies list and, after a
 * second NUL, as an X-Forwarded-For value.
 *
 * Properties: no crash, leak or undefined behaviour; a request that passes
 * names a valid database and the action of its path, and stops passing once
 * its database parameter is given again, or in another case; a refusal says
 * why and names no database; a trusted_proxies list that parses has no host
 * bits past a prefix, and the client named by X-Forwarded-For is one of its
 * entries.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane.h"
#include "harness.h"
#include "proxies.h"
#include "rules.h"

static const char *const methods[] = {"GET", "POST", "HEAD", "OPTIONS", "post", "PUT"};
static const char *const types[] = {NULL,
                                    "",
                                    "text/plain",
                                    "application/x-www-form-urlencoded",
                                    "Multipart/Form-Data; boundary=x",
                                    "application/json"};

static void check_uri(const char *method, const char *type, const char *uri)
{
	struct dataplane_target t, t2;
	enum dataplane_verdict v = dataplane_read(method, uri, type, &t);
	const char *param;
	char *longer;
	size_t n;

	if (v != DATAPLANE_OK) {
		if (t.why[0] == '\0' || t.database[0] != '\0')
			abort();
		return;
	}
	if (rule_database_name(t.database) != NULL)
		abort();
	if ((t.endpoint == DATAPLANE_V1_QUERY || t.endpoint == DATAPLANE_V3_QUERY_SQL ||
	     t.endpoint == DATAPLANE_V3_QUERY_INFLUXQL) != (t.action == DB_ACTION_READ))
		abort();
	param = t.endpoint == DATAPLANE_V2_WRITE ? "bucket" : "db";
	n = strlen(uri) + 16;
	longer = malloc(n);
	if (longer == NULL)
		abort();
	snprintf(longer, n, "%s&%s=x", uri, param);
	if (dataplane_read(method, longer, type, &t2) == DATAPLANE_OK)
		abort();
	snprintf(longer, n, "%s&%c%s=x", uri, param[0] - 32, param + 1);
	if (dataplane_read(method, longer, type, &t2) == DATAPLANE_OK)
		abort();
	free(longer);
}

static void check_proxies(const char *list, const char *forwarded_for)
{
	struct proxies p;
	unsigned char client[16], entry[16];
	char why[128];

	if (proxies_parse(list, &p, why, sizeof(why)) != 0) {
		if (why[0] == '\0' || p.count != 0)
			abort();
		return;
	}
	for (size_t i = 0; i < p.count; i++)
		for (unsigned b = p.nets[i].prefix; b < 128; b++)
			if (p.nets[i].addr[b / 8] & (0x80 >> (b % 8)))
				abort();
	if (forwarded_for && proxies_client(&p, forwarded_for, client)) {
		/* the answer is one of the header's entries */
		const char *s = forwarded_for;
		int found = 0;

		while (*s && !found) {
			size_t len = strcspn(s, ",");
			const char *e = s + len;

			while (s < e && (*s == ' ' || *s == '\t'))
				s++;
			while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			found = proxies_parse_address(s, (size_t)(e - s), entry) &&
			        memcmp(entry, client, 16) == 0;
			s += strcspn(s, ",");
			if (*s == ',')
				s++;
		}
		if (!found)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *list, *forwarded_for = NULL;

	if (size < 2 || size > 8192)
		return 0;
	text = malloc(size - 2 + 2);
	if (text == NULL)
		abort();
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	text[size - 1] = '\0';
	check_uri(methods[data[0] % 6], types[data[1] % 6], text);
	list = text + strlen(text) + 1;
	if (list < text + size - 1) {
		forwarded_for = list + strlen(list) + 1;
		if (forwarded_for >= text + size - 1)
			forwarded_for = NULL;
		check_proxies(list, forwarded_for);
	}
	free(text);
	return 0;
}
