/*
 * api_token_lifecycle.c - rotation with a grace window, suspension and
 * resumption of management tokens (.../management/tokens/{tokenId}/...) and
 * database tokens (.../clusters/{clusterId}/tokens/{tokenId}/...): mgmtd
 * extensions (CONTRACT 10, docs/tokens.md "Lifecycle").
 *
 * POST .../rotate {"graceSeconds": N} (optional body; default and maximum in
 * lifecycle.h) answers 200 with the token and its new secret, once, as a
 * create does: same id, description, permissions and expiry. The previous
 * secret keeps working until now + N seconds; a second rotation ends the
 * oldest secret at once. A revoked or expired token is 409.
 * POST .../suspend and .../resume answer 200 with the token. Suspending a
 * suspended token or resuming an active one changes nothing (200); a revoked
 * token is 409. The rights are those of revocation (routes.c: OP_DELETE).
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "body.h"
#include "lifecycle.h"
#include "request.h"
#include "token.h"
#include "views.h"

/* The rotation's grace in ms from the optional body {"graceSeconds": N}. */
static enum api_status grace_of(struct request *req, int64_t *grace_ms)
{
	static const char *const fields[] = {"graceSeconds", NULL};
	int64_t seconds = LIFECYCLE_GRACE_DEFAULT_S;
	bool present;

	if (req->body_len > 0 && body_parse_object(req) != API_OK)
		return req->status;
	if (req->json != NULL &&
	    (body_check_fields(req, fields) != API_OK ||
	     body_int(req, "graceSeconds", 0, LIFECYCLE_GRACE_MAX_S, &seconds, &present) != API_OK))
		return req->status;
	audit_detail(req, "grace %llds", (long long)seconds);
	*grace_ms = seconds * 1000;
	return API_OK;
}

/* Adds the new secret to a token's view (which it takes) and answers 200 with it. */
static enum api_status answer_with_secret(struct request *req, json_t *view, const char *secret)
{
	if (view != NULL && json_object_set_new(view, "accessToken", json_string(secret)) != 0) {
		json_decref(view);
		view = NULL;
	}
	return api_ok(req, view);
}

/* ---- management tokens ---- */

enum api_status api_mgmt_token_rotate(struct request *req)
{
	const char *id = request_param(req, "tokenId");
	unsigned char hash[TOKEN_HASH_LEN];
	char secret[TOKEN_MGMT_SIZE], prefix[TOKEN_PREFIX_SIZE];
	struct store_mgmt_token token;
	enum store_status st;
	int64_t grace_ms = 0;

	audit_note(req, "management_token.rotate", id);
	if (!uuid_is_valid(id))
		return api_fail(req, API_NOT_FOUND, "management token not found");
	if (grace_of(req, &grace_ms) != API_OK)
		return req->status;
	token_mgmt_generate(secret);
	token_prefix(secret, prefix);
	token_hash(&req->app->token_key, secret, hash);
	st = store_mgmt_token_rotate(req->store, req->principal.account_id, id, hash, prefix,
	                             req->now, req->now + grace_ms, &token);
	sodium_memzero(hash, sizeof(hash));
	if (st != STORE_OK) {
		sodium_memzero(secret, sizeof(secret));
		return api_from_store(req, st, "management token",
		                      "the management token is revoked or expired: it cannot be "
		                      "rotated; create a new one");
	}
	answer_with_secret(req, view_mgmt_token(&token, req->now), secret);
	sodium_memzero(secret, sizeof(secret));
	return req->status;
}

static enum api_status mgmt_token_suspend(struct request *req, bool suspend)
{
	const char *id = request_param(req, "tokenId");
	struct store_mgmt_token token;
	enum store_status st;
	struct jsontext text;

	audit_note(req, suspend ? "management_token.suspend" : "management_token.resume", id);
	if (!uuid_is_valid(id))
		return api_fail(req, API_NOT_FOUND, "management token not found");
	st = store_mgmt_token_suspend(req->store, req->principal.account_id, id, suspend, req->now,
	                              auth_actor_id(&req->principal), &token);
	if (st != STORE_OK)
		return api_from_store(req, st, "management token",
		                      suspend ? "the management token is revoked: it cannot be "
		                                "suspended"
		                              : "the management token is revoked: it cannot be "
		                                "resumed");
	jsontext_init(&text);
	view_mgmt_token_text(&text, &token, req->now);
	return api_ok_jsontext(req, &text);
}

enum api_status api_mgmt_token_suspend(struct request *req)
{
	return mgmt_token_suspend(req, true);
}

enum api_status api_mgmt_token_resume(struct request *req)
{
	return mgmt_token_suspend(req, false);
}

/* ---- database tokens ---- */

enum api_status api_db_token_rotate(struct request *req)
{
	const char *id = request_param(req, "tokenId");
	unsigned char hash[TOKEN_HASH_LEN];
	char secret[TOKEN_DB_SIZE];
	struct store_db_token *t;
	enum store_status st;
	int64_t grace_ms = 0;

	audit_note(req, "database_token.rotate", id);
	if (api_require_cluster(req) != API_OK)
		return req->status;
	if (!uuid_is_valid(id))
		return api_fail(req, API_NOT_FOUND, "database token not found");
	if (grace_of(req, &grace_ms) != API_OK)
		return req->status;
	/* About 13 KiB: on the heap rather than a worker thread's stack. */
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	token_db_generate(secret);
	token_hash(&req->app->token_key, secret, hash);
	st = store_db_token_rotate(req->store, req->principal.account_id,
	                           request_param(req, "clusterId"), id, hash, req->now,
	                           req->now + grace_ms, t);
	sodium_memzero(hash, sizeof(hash));
	if (st != STORE_OK)
		api_from_store(req, st, "database token",
		               "the database token is revoked or expired: it cannot be rotated; "
		               "create a new one");
	else
		answer_with_secret(req, view_db_token(t, req->now), secret);
	sodium_memzero(secret, sizeof(secret));
	free(t);
	return req->status;
}

static enum api_status db_token_suspend(struct request *req, bool suspend)
{
	const char *id = request_param(req, "tokenId");
	struct store_db_token *t;
	enum store_status st;

	audit_note(req, suspend ? "database_token.suspend" : "database_token.resume", id);
	if (api_require_cluster(req) != API_OK)
		return req->status;
	if (!uuid_is_valid(id))
		return api_fail(req, API_NOT_FOUND, "database token not found");
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	st = store_db_token_suspend(req->store, req->principal.account_id,
	                            request_param(req, "clusterId"), id, suspend, req->now,
	                            auth_actor_id(&req->principal), t);
	if (st != STORE_OK) {
		api_from_store(req, st, "database token",
		               suspend ? "the database token is revoked: it cannot be suspended"
		                       : "the database token is revoked: it cannot be resumed");
	} else {
		struct jsontext text;

		jsontext_init(&text);
		view_db_token_text(&text, t, req->now);
		api_ok_jsontext(req, &text);
	}
	free(t);
	return req->status;
}

enum api_status api_db_token_suspend(struct request *req)
{
	return db_token_suspend(req, true);
}

enum api_status api_db_token_resume(struct request *req)
{
	return db_token_suspend(req, false);
}
