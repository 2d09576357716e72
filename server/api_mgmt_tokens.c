/*
 * api_mgmt_tokens.c - /api/v0/accounts/{accountId}/management/tokens (CONTRACT 3).
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "body.h"
#include "mgmt.h"
#include "request.h"
#include "rules.h"
#include "tokenlist.h"
#include "views.h"

static enum api_status parse_status_filter(struct request *req, enum token_status_filter *out)
{
	static const struct {
		const char *name;
		enum token_status_filter filter;
	} filters[] = {
	    {"active", TOKEN_FILTER_ACTIVE},
	    {"expired", TOKEN_FILTER_EXPIRED},
	    {"revoked", TOKEN_FILTER_REVOKED},
	    {"suspended", TOKEN_FILTER_SUSPENDED}, /* mgmtd extension */
	};
	const char *value = request_query(req, "status");

	*out = TOKEN_FILTER_ALL;
	if (value == NULL)
		return API_OK;
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		if (strcmp(value, filters[i].name) == 0) {
			*out = filters[i].filter;
			return API_OK;
		}
	}
	return api_fail(req, API_BAD_REQUEST,
	                "status must be one of active, expired, revoked, suspended");
}

enum api_status api_mgmt_token_list(struct request *req)
{
	struct store_token_query q = {0};
	size_t limit;

	if (parse_status_filter(req, &q.filter) != API_OK ||
	    token_list_params(req, &q, &limit) != API_OK)
		return req->status;
	q.account_id = req->principal.account_id;
	q.now = req->now;
	return token_list_answer(req, TOKEN_LIST_MGMT, &q, limit);
}

static const char *creator_of(const struct principal *p)
{
	/* A token minting a token (tokens_may_mint) passes on the admin who made it. */
	if (p->kind == PRINCIPAL_MGMT_TOKEN)
		return p->token_created_by;
	return p->user_id;
}

enum api_status api_mgmt_token_create(struct request *req)
{
	static const char *const fields[] = {"description", "expiresAt", NULL};
	const char *account_id = req->principal.account_id;
	struct store_mgmt_token token;
	char secret[TOKEN_MGMT_SIZE];
	const char *description;
	char why[RULE_WHY_SIZE];
	const char *problem;
	int64_t expires_at;
	enum store_status st;
	long admins = 0;
	json_t *answer;

	if (body_check_fields(req, fields) != API_OK ||
	    body_string(req, "description", true, false, &description) != API_OK ||
	    body_time(req, "expiresAt", &expires_at) != API_OK)
		return req->status;
	if (rule_description("description", description, why) != NULL)
		return api_fail(req, API_BAD_REQUEST, "%s", why);
	if (expires_at != 0 && (problem = rule_expiry(expires_at, req->now)) != NULL)
		return api_fail(req, API_BAD_REQUEST, "%s", problem);

	st = store_admin_count(req->store, account_id, &admins);
	if (st != STORE_OK)
		return api_from_store(req, st, "account", NULL);
	if (admins == 0)
		return api_fail(req, API_CONFLICT,
		                "the account has no admin user; add one first (mgmtd user add "
		                "--account %s --email EMAIL --group admin)",
		                account_id);

	st = mgmt_token_issue(req->store, &req->app->token_key, account_id, description, expires_at,
	                      creator_of(&req->principal), req->now, &token, secret);
	if (st != STORE_OK)
		return api_from_store(req, st, "management token", NULL);
	audit_note(req, "management_token.create", token.id);

	answer = view_mgmt_token(&token, req->now);
	if (answer && json_object_set_new(answer, "accessToken", json_string(secret)) != 0) {
		json_decref(answer);
		answer = NULL;
	}
	sodium_memzero(secret, sizeof(secret));
	return api_ok(req, answer);
}

enum api_status api_mgmt_token_get(struct request *req)
{
	const char *id = request_param(req, "tokenId");
	struct store_mgmt_token token;
	enum store_status st;

	if (!uuid_is_valid(id))
		return api_fail(req, API_NOT_FOUND, "management token not found");
	struct jsontext text;

	st = store_mgmt_token_get(req->store, req->principal.account_id, id, &token);
	if (st != STORE_OK)
		return api_from_store(req, st, "management token", NULL);
	jsontext_init(&text);
	view_mgmt_token_text(&text, &token, req->now);
	return api_ok_jsontext(req, &text);
}

enum api_status api_mgmt_token_revoke(struct request *req)
{
	const char *id = request_param(req, "tokenId");
	struct store_mgmt_token token;
	enum store_status st;

	audit_note(req, "management_token.revoke", id);
	if (!uuid_is_valid(id))
		return api_fail(req, API_NOT_FOUND, "management token not found");
	/* Durable before the 204 leaves: the store commits with synchronous=FULL. */
	st = store_mgmt_token_revoke(req->store, req->principal.account_id, id, req->now,
	                             auth_actor_id(&req->principal), &token);
	if (st != STORE_OK)
		return api_from_store(req, st, "management token", NULL);
	return api_no_content(req);
}
