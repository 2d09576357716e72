/*
 * api_snapshots.c - the test harness's named snapshots ([testing]): take the whole
 * store or one tenant's account, restore it atomically (as a reset does), export it
 * as a seed file that --seed loads, drop it. snapshot.h says what one holds,
 * snapshots.h where they are kept.
 *
 * A TEST DEVICE: no credential is asked. The routes exist only while [testing] is
 * enabled (routes.c).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "body.h"
#include "log.h"
#include "request.h"
#include "seed.h"
#include "snapshot.h"
#include "snapshots.h"
#include "tenants.h"
#include "timeutil.h"
#include "util.h"

/* The {name} of the path, or NULL after answering 400. */
static const char *snapshot_name(struct request *req)
{
	const char *name = request_param(req, "name");

	if (name == NULL || !snapshot_name_valid(name)) {
		api_fail(req, API_BAD_REQUEST,
		         "a snapshot's name is 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-', "
		         "beginning with a letter or a digit");
		return NULL;
	}
	return name;
}

static enum api_status no_such_snapshot(struct request *req, const char *name)
{
	return api_fail(req, API_NOT_FOUND, "no snapshot named %s", name);
}

/* The account the body names ({"accountId": ...}; none: the whole store), or answers 400. */
static bool account_of_body(struct request *req, char account_id[UUID_STR_SIZE])
{
	static const char *const fields[] = {"accountId", NULL};
	const json_t *given;

	account_id[0] = '\0';
	if (req->body_len == 0)
		return true;
	if (body_parse_object(req) != API_OK || body_check_fields(req, fields) != API_OK)
		return false;
	given = json_object_get(req->json, "accountId");
	if (given == NULL || json_is_null(given))
		return true;
	if (!json_is_string(given) || !uuid_is_valid(json_string_value(given))) {
		api_fail(req, API_BAD_REQUEST, "accountId must be an account's id (a UUID)");
		return false;
	}
	return str_copy(account_id, UUID_STR_SIZE, json_string_value(given));
}

enum api_status api_test_snapshot_put(struct request *req)
{
	const char *name = snapshot_name(req);
	struct snapshot_info info;
	struct tenants *tenants = NULL;
	struct store_account account;
	json_t *snap = NULL, *seed = NULL;
	char *text = NULL, err[256];
	enum store_status sst;
	enum api_status st;
	int kept;

	memset(&info, 0, sizeof(info));
	if (name == NULL || !account_of_body(req, info.account_id))
		return req->status;
	if (info.account_id[0] &&
	    (sst = store_account_get(req->store, info.account_id, &account)) != STORE_OK)
		return sst == STORE_NOT_FOUND
		           ? api_fail(req, API_NOT_FOUND, "no account %s", info.account_id)
		           : api_from_store(req, sst, "account", NULL);
	str_copy(info.name, sizeof(info.name), name);
	info.taken_at = time_now_ms();
	snap = snapshot_take(req->store, &req->app->token_key,
	                     info.account_id[0] ? info.account_id : NULL, &info.rows, err,
	                     sizeof(err));
	if (snap == NULL) {
		st = api_fail(req, API_UNAVAILABLE, "the snapshot failed: %s", err);
		goto out;
	}
	seed = json_pack("{s:o}", "snapshot", snap);
	text = seed ? json_dumps(seed, JSON_COMPACT) : NULL;
	tenants = tenants_new();
	if (text == NULL || tenants == NULL ||
	    tenants_copy(tenants, req->app->tenants, info.account_id[0] ? info.account_id : NULL) !=
	        0) {
		tenants_free(tenants);
		st = api_fail(req, API_INTERNAL, "out of memory");
		goto out;
	}
	kept = snapshots_put(req->app->snapshots, &info, text, strlen(text), tenants);
	if (kept != 0) {
		st = kept == -2 ? api_fail(req, API_CONFLICT,
		                           "%d snapshots are kept already: delete one first",
		                           SNAPSHOTS_MAX)
		                : api_fail(req, API_INTERNAL, "out of memory");
		goto out;
	}
	log_info("test harness: snapshot %s taken (%zu rows%s%s)", info.name, info.rows,
	         info.account_id[0] ? " of account " : "", info.account_id);
	st = api_ok(req, json_pack("{s:s,s:s*,s:I}", "name", info.name, "accountId",
	                           info.account_id[0] ? info.account_id : NULL, "rows",
	                           (json_int_t)info.rows));
out:
	free(text);
	json_decref(seed);
	return st;
}

enum api_status api_test_snapshot_get(struct request *req)
{
	const char *name = snapshot_name(req);
	struct snapshot_info info;
	size_t len;
	char *text;

	if (name == NULL)
		return req->status;
	text = snapshots_get(req->app->snapshots, name, &info, &len, NULL);
	if (text == NULL)
		return len ? api_fail(req, API_INTERNAL, "out of memory")
		           : no_such_snapshot(req, name);
	return api_ok_text(req, text, len, "application/json");
}

enum api_status api_test_snapshot_list(struct request *req)
{
	return api_ok(req, json_pack("{s:o*}", "snapshots", snapshots_list(req->app->snapshots)));
}

enum api_status api_test_snapshot_restore(struct request *req)
{
	const char *name = snapshot_name(req);
	struct snapshot_info info;
	struct tenants *tenants = NULL;
	const char *account;
	char *text = NULL, err[512];
	size_t len = 0;
	enum api_status st;
	int rc;

	if (name == NULL)
		return req->status;
	tenants = tenants_new();
	if (tenants == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	text = snapshots_get(req->app->snapshots, name, &info, &len, tenants);
	if (text == NULL) {
		st = len ? api_fail(req, API_INTERNAL, "out of memory")
		         : no_such_snapshot(req, name);
		goto out;
	}
	account = info.account_id[0] ? info.account_id : NULL;
	/* One transaction, as a reset: a request in flight sees before or after, never between. */
	if (account)
		rc = seed_replace_account_text(req->store, &req->app->token_key,
		                               req->app->cfg.invite_days, &req->app->identities,
		                               account, text, len, err, sizeof(err));
	else
		rc = seed_reset_text(req->store, &req->app->token_key, req->app->cfg.invite_days,
		                     &req->app->identities, text, len, err, sizeof(err));
	if (rc != 0) {
		log_error("test harness: restoring snapshot %s failed: %s", name, err);
		st = api_fail(req, API_UNAVAILABLE, "the restore failed: %s", err);
		goto out;
	}
	/* The tenants come back with the rows: a tenant's reset works as when it was taken. */
	if (account)
		tenants_forget(req->app->tenants, account);
	else
		tenants_forget_all(req->app->tenants);
	if (tenants_copy(req->app->tenants, tenants, NULL) != 0)
		log_error("test harness: snapshot %s restored, but not every tenant's seed "
		          "(out of memory): those tenants cannot be reset",
		          name);
	log_info("test harness: snapshot %s restored", name);
	st = api_no_content(req);
out:
	free(text);
	tenants_free(tenants);
	return st;
}

enum api_status api_test_snapshot_delete(struct request *req)
{
	const char *name = snapshot_name(req);

	if (name == NULL)
		return req->status;
	if (snapshots_drop(req->app->snapshots, name) != 0)
		return no_such_snapshot(req, name);
	log_info("test harness: snapshot %s dropped", name);
	return api_no_content(req);
}
