/*
 * fuzz_lists.c - the token lists' query parameters (tokenlist.c: limit,
 * after, search, status, includeRevoked) through the real request path, on
 * an account with more tokens than one batch, so that whole lists stream
 * (stream.c) and are read to their end.
 *
 * Input: one byte of flags (bit 0: the database tokens' list, bits 1-5:
 * which parameters are sent), then the values of limit, after, search and
 * the filter, separated by '\n'.
 *
 * Invariants: no 500; 200 or 400; a 200 is a JSON array of at most limit
 * objects (when limit was sent), and its Link, if any, names the same list
 * and carries a cursor; a 400 is a JSON error.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbtoken.h"
#include "dispatch.h"
#include "harness.h"
#include "mgmt.h"
#include "reply.h"
#include "request.h"
#include "stream.h"
#include "tokenlist.h"

/* More than one batch (tokenlist.c reads 200 rows at a time). */
#define EXTRA_TOKENS 450

static void add_tokens(struct fuzz_server *fs)
{
	struct store *s = store_pool_get(fs->app.stores);
	char account[64], cluster[64];

	fuzz_expand_path(fs, "{accountId}", account, sizeof(account));
	fuzz_expand_path(fs, "{clusterId}", cluster, sizeof(cluster));
	if (s == NULL || store_tx_begin(s) != STORE_OK)
		abort();
	for (int i = 0; i < EXTRA_TOKENS; i++) {
		struct store_mgmt_token mt;
		struct store_db_token *dt = calloc(1, sizeof(*dt));
		char description[64], msecret[TOKEN_MGMT_SIZE], dsecret[TOKEN_DB_SIZE];

		if (dt == NULL)
			abort();
		snprintf(description, sizeof(description), "Fuzz token %03d %s", i,
		         i % 3 ? "nightly" : "hourly");
		/* some created at the same instant, as a shared commit makes them */
		if (mgmt_token_issue(s, &fs->app.token_key, account, description, 0, "",
		                     FUZZ_NOW_MS - 1000 + i / 4, &mt, msecret) != STORE_OK)
			abort();
		strcpy(dt->account_id, account);
		strcpy(dt->cluster_id, cluster);
		strcpy(dt->description, description);
		dt->permission_count = 1;
		dt->permissions[0].action = DB_ACTION_READ;
		strcpy(dt->permissions[0].resource, "*");
		dt->created_at = FUZZ_NOW_MS - 1000 + i / 4;
		if (dbtoken_issue(s, &fs->app.token_key, dt, dsecret) != STORE_OK)
			abort();
		free(dt);
	}
	if (store_tx_commit(s) != STORE_OK)
		abort();
	store_pool_put(fs->app.stores, s);
}

/* The whole body of a 200: its bytes, or a stream read to its end. */
static char *answer_body(struct request *req, size_t *len)
{
	struct raw_answer *raw = req->raw;
	char *out = NULL, chunk[4096];
	size_t cap = 0;
	ssize_t n;

	*len = 0;
	if (raw->stream == NULL) {
		out = malloc(raw->len + 1);
		if (out == NULL)
			abort();
		memcpy(out, raw->body, raw->len);
		*len = raw->len;
		return out;
	}
	while ((n = stream_read(raw->stream, chunk, sizeof(chunk))) > 0) {
		if (*len + (size_t)n > cap) {
			cap = (*len + (size_t)n) * 2;
			out = realloc(out, cap);
			if (out == NULL)
				abort();
		}
		memcpy(out + *len, chunk, (size_t)n);
		*len += (size_t)n;
	}
	if (n < 0)
		abort(); /* the store does not fail here: a cut list is a bug */
	return out;
}

static void check_ok(struct request *req, const char *path, long limit)
{
	size_t len;
	char *body = answer_body(req, &len);
	json_t *doc = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, NULL);
	const char *link = req->raw->link;

	if (doc == NULL || !json_is_array(doc))
		abort();
	if (limit > 0 && json_array_size(doc) > (size_t)limit)
		abort();
	if (link != NULL &&
	    (link[0] != '<' || strncmp(link + 1, path, strlen(path)) != 0 ||
	     strstr(link, "&after=") == NULL || strstr(link, "; rel=\"next\"") == NULL))
		abort();
	json_decref(doc);
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"limit", "after", "search"};
	static bool ready = false;
	struct fuzz_server *fs = fuzz_server();
	char path[512], *text, *fields[4] = {NULL, NULL, NULL, NULL};
	struct request req;
	struct store *s;
	unsigned flags, status;
	long limit = 0;
	bool db;

	if (!ready) {
		add_tokens(fs);
		ready = true;
	}
	if (size < 1)
		return 0;
	flags = data[0];
	db = flags & 1;
	text = malloc(size);
	if (text == NULL)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	for (int i = 0, at = 0; i < 4; i++) {
		fields[i] = text + at;
		at += (int)strcspn(text + at, "\n");
		if (text[at] == '\0')
			break;
		text[at++] = '\0';
	}
	fuzz_expand_path(fs,
	                 db ? "/api/v0/accounts/{accountId}/clusters/{clusterId}/tokens"
	                    : "/api/v0/accounts/{accountId}/management/tokens",
	                 path, sizeof(path));

	s = store_pool_get(fs->app.stores);
	if (s == NULL || store_tx_begin(s) != STORE_OK)
		abort();
	request_init(&req, &fs->app);
	req.method = "GET";
	req.path = path;
	req.authorization = fs->bearer;
	for (int i = 0; i < 3; i++) {
		if (!(flags & (2u << i)) || fields[i] == NULL)
			continue;
		req.query[req.query_count].key = names[i];
		req.query[req.query_count].value = fields[i];
		req.query_count++;
	}
	if ((flags & 16) && fields[3] != NULL) {
		req.query[req.query_count].key = db ? "includeRevoked" : "status";
		req.query[req.query_count].value = fields[3];
		req.query_count++;
	}
	if ((flags & 2) && fields[0] != NULL)
		limit = strtol(fields[0], NULL, 10);
	dispatch_request(&req);
	status = api_http_status(req.status);
	if (status == 200) {
		if (req.raw == NULL)
			abort();
		check_ok(&req, "/api/v0/accounts/", limit);
	} else if (status != 400 || req.raw != NULL) {
		abort(); /* a refusal is the usual JSON error, and only a 400 */
	}
	store_tx_rollback(s);
	request_release(&req);
	free(text);
	return 0;
}
