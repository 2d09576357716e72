/*
 * fuzz_request.c - the body of every JSON endpoint, through the real request
 * path (dispatch.c: route, authenticate, authorize, content type, JSON parse,
 * handler, store), with a valid management token of the account.
 *
 * Input: one byte choosing the endpoint (modulo the table), one byte of
 * flags, then the body.
 *   flags & 1: send the body with Content-Type "text/plain" (415 path)
 *   flags & 2: no Authorization header (401 path, the body is never read)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/*
 * Every route with ROUTE_JSON_BODY, with its path in the harness's seed
 * (harness.c: database fuzzdb with table t1, a database token). A new JSON
 * route adds its row here; test_fuzz_endpoints.py checks that none is missing.
 */
static const struct {
	const char *method;
	const char *path;
} endpoints[] = {
    {"POST", "/api/v0/accounts/{accountId}/management/tokens"},
    {"POST", "/api/v0/accounts/{accountId}/users"},
    {"PATCH", "/api/v0/accounts/{accountId}/users/{memberId}"},
    /* the account's only admin: the last-admin rule */
    {"PATCH", "/api/v0/accounts/{accountId}/users/{adminId}"},
    {"POST", "/api/v0/accounts/{accountId}/clusters/{clusterId}/databases"},
    {"PATCH", "/api/v0/accounts/{accountId}/clusters/{clusterId}/databases/fuzzdb"},
    {"PUT", "/api/v0/accounts/{accountId}/clusters/{clusterId}/databases/fuzzdb/rename"},
    {"POST", "/api/v0/accounts/{accountId}/clusters/{clusterId}/databases/fuzzdb/tables"},
    {"PUT", "/api/v0/accounts/{accountId}/clusters/{clusterId}/databases/fuzzdb/tables/t1/rename"},
    {"POST", "/api/v0/accounts/{accountId}/clusters/{clusterId}/tokens"},
    {"PATCH", "/api/v0/accounts/{accountId}/clusters/{clusterId}/tokens/{dbTokenId}"},
    {"POST", "/api/v0/accounts/{accountId}/invites"},
};

#define N_ENDPOINTS (sizeof(endpoints) / sizeof(endpoints[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_server *fs = fuzz_server();
	char path[512];
	unsigned which, flags;

	if (size < 2)
		return 0;
	which = data[0] % N_ENDPOINTS;
	flags = data[1];
	fuzz_expand_path(fs, endpoints[which].path, path, sizeof(path));
	fuzz_request(fs, endpoints[which].method, path, (flags & 2) ? NULL : fs->bearer,
	             (flags & 1) ? "text/plain" : "application/json", (const char *)data + 2,
	             size - 2);
	return 0;
}
