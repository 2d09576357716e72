/*
 * api_db_tokens.c - .../clusters/{clusterId}/tokens (CONTRACT 4.3): database
 * tokens. The secret ("apiv1_" + 86 characters) is shown once, in the create
 * answer; only its keyed hash is stored. DELETE revokes (kept, with revokedAt).
 *
 * Permissions name databases by name or "*", as in the real service; each
 * named database must exist (live) in the cluster when the token is created
 * or changed. Renaming or deleting a database later does not touch tokens.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "body.h"
#include "dbtoken.h"
#include "request.h"
#include "rules.h"
#include "tokenlist.h"
#include "views.h"

static const char *cluster_of(const struct request *req)
{
	return request_param(req, "clusterId");
}

enum api_status api_db_token_list(struct request *req)
{
	const char *include = request_query(req, "includeRevoked");
	struct store_token_query q = {0};
	size_t limit;

	/* the cluster is checked by token_list_answer, when no token shows it exists */
	if (include != NULL) {
		if (strcmp(include, "true") == 0)
			q.include_revoked = true;
		else if (strcmp(include, "false") != 0)
			return api_fail(req, API_BAD_REQUEST,
			                "includeRevoked must be true or false");
	}
	if (token_list_params(req, &q, &limit) != API_OK)
		return req->status;
	q.account_id = req->principal.account_id;
	q.cluster_id = cluster_of(req);
	q.now = req->now;
	return token_list_answer(req, TOKEN_LIST_DB, &q, limit);
}

/*
 * Reads "permissions" (when present) into t, checking the values and that
 * each named database is a live database of the cluster.
 */
static enum api_status apply_permissions(struct request *req, struct store_db_token *t)
{
	json_t *v = json_object_get(req->json, "permissions");
	char why[RULE_WHY_SIZE];
	enum store_status st;
	size_t missing = 0;

	if (v == NULL)
		return API_OK;
	if (rule_permissions(v, t->permissions, &t->permission_count, why) != NULL)
		return api_fail(req, API_BAD_REQUEST, "%s", why);
	st = dbtoken_check_resources(req->store, t, &missing);
	if (st == STORE_NOT_FOUND)
		return api_fail(
		    req, API_BAD_REQUEST,
		    "permissions name the database \"%s\", which does not exist in this "
		    "cluster",
		    t->permissions[missing].resource);
	if (st != STORE_OK)
		return api_from_store(req, st, "database", NULL);
	return API_OK;
}

static enum api_status apply_description(struct request *req, struct store_db_token *t,
                                         bool required)
{
	char why[RULE_WHY_SIZE];
	const char *description;

	if (body_string(req, "description", required, false, &description) != API_OK)
		return req->status;
	if (description == NULL)
		return API_OK;
	if (rule_description("description", description, why) != NULL)
		return api_fail(req, API_BAD_REQUEST, "%s", why);
	str_copy(t->description, sizeof(t->description), description);
	return API_OK;
}

/*
 * expiresAt, with the influxctl/console companion field expirationType:
 * "datetime" needs expiresAt, "noExpiration" forbids it.
 */
static enum api_status apply_expiry(struct request *req, struct store_db_token *t)
{
	const char *type, *problem;

	if (body_time(req, "expiresAt", &t->expires_at) != API_OK ||
	    body_string(req, "expirationType", false, true, &type) != API_OK)
		return req->status;
	if (type != NULL && strcmp(type, "datetime") == 0) {
		if (t->expires_at == 0)
			return api_fail(req, API_BAD_REQUEST,
			                "expirationType \"datetime\" needs expiresAt");
	} else if (type != NULL && strcmp(type, "noExpiration") == 0) {
		if (t->expires_at != 0)
			return api_fail(req, API_BAD_REQUEST,
			                "expirationType \"noExpiration\" cannot go with expiresAt");
	} else if (type != NULL) {
		return api_fail(req, API_BAD_REQUEST,
		                "expirationType must be datetime or noExpiration");
	}
	if (t->expires_at != 0 && (problem = rule_expiry(t->expires_at, req->now)) != NULL)
		return api_fail(req, API_BAD_REQUEST, "%s", problem);
	return API_OK;
}

enum api_status api_db_token_create(struct request *req)
{
	static const char *const fields[] = {"description", "permissions", "expiresAt",
	                                     "expirationType", NULL};
	struct store_db_token *t;
	char secret[TOKEN_DB_SIZE];
	enum store_status st;
	json_t *answer;

	if (api_require_cluster(req) != API_OK || body_check_fields(req, fields) != API_OK)
		return req->status;
	/* About 13 KiB: on the heap rather than a worker thread's stack. */
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	str_copy(t->account_id, sizeof(t->account_id), req->principal.account_id);
	str_copy(t->cluster_id, sizeof(t->cluster_id), cluster_of(req));
	if (apply_description(req, t, true) != API_OK || apply_expiry(req, t) != API_OK ||
	    apply_permissions(req, t) != API_OK)
		goto out;
	t->created_at = req->now;
	str_copy(t->created_by, sizeof(t->created_by), auth_actor_id(&req->principal));
	st = dbtoken_issue(req->store, &req->app->token_key, t, secret);
	if (st != STORE_OK) {
		api_from_store(req, st, "database token", NULL);
		goto out;
	}
	audit_note(req, "database_token.create", t->id);
	answer = view_db_token(t, req->now);
	if (answer && json_object_set_new(answer, "accessToken", json_string(secret)) != 0) {
		json_decref(answer);
		answer = NULL;
	}
	sodium_memzero(secret, sizeof(secret));
	api_ok(req, answer);
out:
	free(t);
	return req->status;
}

/* The token of the path; 404 for an unknown id or one that is not a UUID. */
static enum api_status load_token(struct request *req, struct store_db_token *t)
{
	const char *id = request_param(req, "tokenId");
	enum store_status st;

	if (!uuid_is_valid(id))
		return api_fail(req, API_NOT_FOUND, "database token not found");
	st = store_db_token_get(req->store, req->principal.account_id, cluster_of(req), id, t);
	if (st != STORE_OK)
		return api_from_store(req, st, "database token", NULL);
	return API_OK;
}

enum api_status api_db_token_get(struct request *req)
{
	struct store_db_token *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	if (api_require_cluster(req) == API_OK && load_token(req, t) == API_OK) {
		struct jsontext text;

		jsontext_init(&text);
		view_db_token_text(&text, t, req->now);
		api_ok_jsontext(req, &text);
	}
	free(t);
	return req->status;
}

enum api_status api_db_token_update(struct request *req)
{
	static const char *const fields[] = {"description", "permissions", NULL};
	struct store_db_token *t;
	enum store_status st;

	audit_note(req, "database_token.update", request_param(req, "tokenId"));
	if (api_require_cluster(req) != API_OK)
		return req->status;
	if (body_has(req, "expiresAt") || body_has(req, "expirationType"))
		return api_fail(req, API_BAD_REQUEST,
		                "the expiry of a database token is fixed at creation; create a new "
		                "token instead");
	if (body_check_fields(req, fields) != API_OK || body_require_any(req, fields) != API_OK)
		return req->status;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	if (load_token(req, t) != API_OK)
		goto out;
	if (t->revoked_at != 0) {
		api_fail(req, API_CONFLICT, "the database token is revoked and cannot be changed");
		goto out;
	}
	/* Permissions, when given, replace the old ones whole. */
	if (apply_description(req, t, false) != API_OK || apply_permissions(req, t) != API_OK)
		goto out;
	st = store_db_token_update(req->store, t);
	if (st != STORE_OK) {
		api_from_store(req, st, "database token", NULL);
		goto out;
	}
	api_ok(req, view_db_token(t, req->now));
out:
	free(t);
	return req->status;
}

enum api_status api_db_token_revoke(struct request *req)
{
	const char *id = request_param(req, "tokenId");
	struct store_db_token *t;
	enum store_status st;

	audit_note(req, "database_token.revoke", id);
	if (api_require_cluster(req) != API_OK)
		return req->status;
	if (!uuid_is_valid(id))
		return api_fail(req, API_NOT_FOUND, "database token not found");
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	/* Durable before the 204 leaves: from then on /authorize answers 401. */
	st = store_db_token_revoke(req->store, req->principal.account_id, cluster_of(req), id,
	                           req->now, t);
	if (st != STORE_OK)
		api_from_store(req, st, "database token", NULL);
	else
		api_no_content(req);
	free(t);
	return req->status;
}
