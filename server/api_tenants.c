/*
 * api_tenants.c - the test harness's tenants ([testing]): an account of its own for
 * each test of a parallel suite, made and removed over HTTP (docs/api.md, Test
 * harness).
 *
 * A tenant is written as a seed (seed.h) with fresh ids and secrets and applied in
 * one transaction, so it obeys every rule a seed file does and fails whole; its
 * answer holds the secrets it made, once, as a create's does. A TEST DEVICE: no
 * credential is asked, and the routes exist only while [testing] is enabled.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "body.h"
#include "log.h"
#include "request.h"
#include "seed.h"
#include "tenants.h"
#include "token.h"
#include "util.h"

/* What a tenant was made with: its ids and the secrets the answer shows once. */
struct tenant {
	char account_id[UUID_STR_SIZE];
	char cluster_id[UUID_STR_SIZE];
	char admin_id[UUID_STR_SIZE];
	char admin_email[96];
	char mgmt_secret[TOKEN_MGMT_SIZE];
};

/* Wipes every "accessToken" of the seed's token lists, then frees it. */
static void seed_free(json_t *seed)
{
	static const char *const lists[] = {"managementTokens", "databaseTokens"};

	if (seed == NULL)
		return;
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		json_t *list = json_object_get(seed, lists[l]), *entry;
		size_t i;

		json_array_foreach(list, i, entry)
		{
			json_t *secret = json_object_get(entry, "accessToken");

			if (json_is_string(secret))
				sodium_memzero((char *)json_string_value(secret),
				               json_string_length(secret));
		}
	}
	json_decref(seed);
}

/*
 * Copies the body's entries of list into the seed's, each with the tenant's account
 * and cluster (and a fresh secret for a database token). Refuses fields the tenant
 * sets itself.
 */
static enum api_status add_entries(struct request *req, json_t *seed, const char *list,
                                   const struct tenant *t, bool with_secret)
{
	static const char *const owned[] = {"accountId", "clusterId", "accessToken", NULL};
	json_t *given = json_object_get(req->json, list), *out, *entry;
	size_t i;

	if (given == NULL)
		return API_OK;
	if (!json_is_array(given))
		return api_fail(req, API_BAD_REQUEST, "%s must be an array", list);
	out = json_array();
	if (out == NULL || json_object_set_new(seed, list, out) != 0)
		return api_fail(req, API_INTERNAL, "out of memory");
	json_array_foreach(given, i, entry)
	{
		json_t *copy;

		if (!json_is_object(entry))
			return api_fail(req, API_BAD_REQUEST, "%s[%zu] must be an object", list, i);
		for (size_t k = 0; owned[k]; k++)
			if (json_object_get(entry, owned[k]))
				return api_fail(req, API_BAD_REQUEST,
				                "%s[%zu].%s is the tenant's own: leave it out",
				                list, i, owned[k]);
		copy = json_deep_copy(entry);
		if (copy == NULL || json_array_append_new(out, copy) != 0 ||
		    json_object_set_new(copy, "accountId", json_string(t->account_id)) != 0 ||
		    json_object_set_new(copy, "clusterId", json_string(t->cluster_id)) != 0)
			return api_fail(req, API_INTERNAL, "out of memory");
		if (with_secret) {
			char secret[TOKEN_DB_SIZE];
			int bad;

			token_db_generate(secret);
			bad = json_object_set_new(copy, "accessToken", json_string(secret));
			sodium_memzero(secret, sizeof(secret));
			if (bad)
				return api_fail(req, API_INTERNAL, "out of memory");
		}
	}
	return API_OK;
}

/* The seed of a new tenant from the request's body; NULL with req->status set. */
static json_t *tenant_seed(struct request *req, struct tenant *t)
{
	static const char *const fields[] = {"name", "adminEmail", "databases", "databaseTokens",
	                                     NULL};
	const char *name, *email;
	char default_name[64];
	json_t *seed;

	if (body_check_fields(req, fields) != API_OK ||
	    body_string(req, "name", false, false, &name) != API_OK ||
	    body_string(req, "adminEmail", false, false, &email) != API_OK)
		return NULL;
	uuid_v4_generate(t->account_id);
	uuid_v4_generate(t->cluster_id);
	uuid_v4_generate(t->admin_id);
	/* Unique across tenants, so that the dev IdP signs in this tenant's admin. */
	if (email == NULL)
		snprintf(t->admin_email, sizeof(t->admin_email), "admin@%.8s.tenant.test",
		         t->account_id);
	else if (!str_copy(t->admin_email, sizeof(t->admin_email), email)) {
		api_fail(req, API_BAD_REQUEST, "adminEmail is too long");
		return NULL;
	}
	snprintf(default_name, sizeof(default_name), "tenant %.8s", t->account_id);
	token_mgmt_generate(t->mgmt_secret);
	seed = json_pack("{s:[{s:s, s:s}], s:[{s:s, s:s, s:s}], s:[{s:s, s:s, s:s, s:s}],"
	                 " s:[{s:s, s:s, s:s, s:s}]}",
	                 "accounts", "id", t->account_id, "name", name ? name : default_name,
	                 "clusters", "id", t->cluster_id, "accountId", t->account_id, "name",
	                 "tenant cluster", "users", "id", t->admin_id, "accountId", t->account_id,
	                 "email", t->admin_email, "group", "admin", "managementTokens", "accountId",
	                 t->account_id, "description", "the tenant's", "accessToken",
	                 t->mgmt_secret, "createdBy", t->admin_email);
	if (seed == NULL) {
		api_fail(req, API_BAD_REQUEST, "adminEmail or name is not UTF-8 text");
		return NULL;
	}
	if (add_entries(req, seed, "databases", t, false) != API_OK ||
	    add_entries(req, seed, "databaseTokens", t, true) != API_OK) {
		seed_free(seed);
		return NULL;
	}
	return seed;
}

/* The id of the token (a management token's or a database token's) with this secret. */
static bool token_id(struct request *req, const char *secret, bool management,
                     char out[UUID_STR_SIZE])
{
	unsigned char hash[TOKEN_HASH_LEN];
	struct store_mgmt_token mgmt;
	struct store_db_token db;
	enum store_status st;

	token_hash(&req->app->token_key, secret, hash);
	st = management ? store_mgmt_token_by_hash(req->store, hash, &mgmt)
	                : store_db_token_by_hash(req->store, hash, &db);
	sodium_memzero(hash, sizeof(hash));
	return st == STORE_OK && str_copy(out, UUID_STR_SIZE, management ? mgmt.id : db.id);
}

/* The answer: ids, and each secret made, once. NULL when out of memory. */
static json_t *tenant_answer(struct request *req, const struct tenant *t, const json_t *seed)
{
	json_t *dbs = json_array(), *tokens = json_array(), *entry, *answer = NULL;
	char mgmt_id[UUID_STR_SIZE];
	size_t i;

	if (dbs == NULL || tokens == NULL || !token_id(req, t->mgmt_secret, true, mgmt_id))
		goto out;
	json_array_foreach(json_object_get(seed, "databases"), i, entry)
	{
		if (json_array_append(dbs, json_object_get(entry, "name")) != 0)
			goto out;
	}
	json_array_foreach(json_object_get(seed, "databaseTokens"), i, entry)
	{
		const char *secret = json_string_value(json_object_get(entry, "accessToken"));
		char id[UUID_STR_SIZE];

		if (secret == NULL || !token_id(req, secret, false, id) ||
		    json_array_append_new(tokens,
		                          json_pack("{s:s, s:O, s:s}", "id", id, "description",
		                                    json_object_get(entry, "description"),
		                                    "accessToken", secret)) != 0)
			goto out;
	}
	answer = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:O, s:O}", "accountId",
	                   t->account_id, "clusterId", t->cluster_id, "admin", "id", t->admin_id,
	                   "email", t->admin_email, "managementToken", "id", mgmt_id, "accessToken",
	                   t->mgmt_secret, "databases", dbs, "databaseTokens", tokens);
out:
	json_decref(dbs);
	json_decref(tokens);
	return answer;
}

enum api_status api_test_tenant_create(struct request *req)
{
	struct tenant t;
	json_t *seed = NULL, *answer;
	char *text = NULL, err[512];
	size_t len = 0;
	enum api_status st;

	memset(&t, 0, sizeof(t));
	if ((seed = tenant_seed(req, &t)) == NULL) {
		st = req->status;
		goto out;
	}
	text = json_dumps(seed, JSON_COMPACT);
	if (text == NULL) {
		st = api_fail(req, API_INTERNAL, "out of memory");
		goto out;
	}
	len = strlen(text);
	if (seed_apply_text(req->store, &req->app->token_key, req->app->cfg.invite_days,
	                    &req->app->identities, text, len, err, sizeof(err)) != 0) {
		/* the seed's own words: "databases[0] (x): ..." names the body's entry */
		st = api_fail(req, API_BAD_REQUEST, "%s", err);
		goto out;
	}
	answer = tenant_answer(req, &t, seed);
	if (answer == NULL || tenants_put(req->app->tenants, t.account_id, text, len) != 0) {
		json_decref(answer);
		st = api_fail(req, API_INTERNAL, "the tenant was made, but its answer was not");
		goto out;
	}
	log_info("test harness: tenant %s made", t.account_id);
	st = api_ok(req, answer);
out:
	if (text) {
		sodium_memzero(text, len);
		free(text);
	}
	seed_free(seed);
	sodium_memzero(t.mgmt_secret, sizeof(t.mgmt_secret));
	return st;
}

enum api_status api_test_tenant_delete(struct request *req)
{
	const char *account_id = request_param(req, "accountId");
	enum store_status st;

	if (!uuid_is_valid(account_id))
		return api_fail(req, API_NOT_FOUND, "no such tenant");
	st = store_account_delete(req->store, account_id);
	tenants_forget(req->app->tenants, account_id);
	if (st == STORE_NOT_FOUND)
		return api_fail(req, API_NOT_FOUND, "no such tenant");
	if (st != STORE_OK)
		return api_from_store(req, st, "tenant", NULL);
	log_info("test harness: tenant %s removed", account_id);
	return api_no_content(req);
}

enum api_status api_test_tenant_reset(struct request *req)
{
	const char *account_id = request_param(req, "accountId");
	char *text = NULL, err[512];
	size_t len = 0;
	enum api_status st;

	if (uuid_is_valid(account_id))
		text = tenants_get(req->app->tenants, account_id, &len);
	if (text == NULL)
		return len ? api_fail(req, API_INTERNAL, "out of memory")
		           : api_fail(
		                 req, API_NOT_FOUND,
		                 "no tenant %s made by POST /_test/tenants since the last reset",
		                 uuid_is_valid(account_id) ? account_id : "of that id");
	/* the same ids and secrets as when it was made: its seed, applied again */
	if (seed_replace_account_text(req->store, &req->app->token_key, req->app->cfg.invite_days,
	                              &req->app->identities, account_id, text, len, err,
	                              sizeof(err)) != 0)
		st = api_fail(req, API_UNAVAILABLE, "the tenant's reset failed: %s", err);
	else
		st = api_no_content(req);
	tenants_text_free(text, len);
	if (st == API_NO_CONTENT)
		log_info("test harness: tenant %s is back as it was made", account_id);
	return st;
}
