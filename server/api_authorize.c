/*
 * api_authorize.c - GET .../clusters/{clusterId}/authorize?database=DB&action=
 * read|write (CONTRACT 4.4): the data-plane check, shaped for nginx
 * auth_request, which runs it before every write and query.
 *
 * The database token is the credential (Bearer or Token scheme); no
 * management credential is involved and none is accepted. 204 when the
 * token is active and grants the action on the database, 401 when the
 * token is missing, malformed, unknown (also: of another cluster), revoked
 * or expired, 403 when it lacks the permission or the database does not
 * exist, 400 for bad parameters. One indexed query answers it all
 * (store_db_authorize); nothing is written, so the check never waits for
 * the disk.
 */
#include <sodium.h>
#include <string.h>

#include "api.h"
#include "metrics.h"
#include "request.h"
#include "rules.h"
#include "token.h"

/* 401 for a database token that is refused, counted by reason (metrics.h). */
static enum api_status refused(struct request *req, const char *reason, const char *message)
{
	metrics_auth(METRICS_CRED_DB_TOKEN, reason);
	req->refusal_reason = reason;
	return api_fail(req, API_UNAUTHORIZED, "%s", message);
}

enum api_status api_authorize(struct request *req)
{
	const char *credential, *database, *action_name;
	unsigned char hash[TOKEN_HASH_LEN];
	struct store_db_grant g;
	enum db_action action;
	enum store_status st;

	if (auth_credential(req, true, &credential) != API_OK) {
		metrics_auth(METRICS_CRED_NONE, req->authorization ? "wrong_scheme" : "missing");
		return req->status;
	}
	/* Cheap refusals first: no lookup for something that is no database token. */
	if (!token_db_well_formed(credential))
		return refused(req, "malformed",
		               "the credential is not a database token (apiv1_ and 86 characters)");
	database = request_query(req, "database");
	action_name = request_query(req, "action");
	if (database == NULL || database[0] == '\0')
		return api_fail(req, API_BAD_REQUEST, "the query parameter database is required");
	if (rule_database_name(database) != NULL)
		return api_fail(req, API_BAD_REQUEST, "the query parameter database: %s",
		                rule_database_name(database));
	if (db_action_parse(action_name, &action) != 0)
		return api_fail(req, API_BAD_REQUEST,
		                "the query parameter action must be read or write");

	token_hash(&req->app->token_key, credential, hash);
	st = store_db_authorize(req->store, hash, action, database, &g);
	sodium_memzero(hash, sizeof(hash));
	/* A token of another account or cluster is, here, unknown: no existence leaks. */
	if (st == STORE_NOT_FOUND ||
	    (st == STORE_OK && (strcmp(g.account_id, request_param(req, "accountId")) != 0 ||
	                        strcmp(g.cluster_id, request_param(req, "clusterId")) != 0)))
		return refused(req, "unknown", "the database token is not valid");
	if (st != STORE_OK) {
		metrics_auth(METRICS_CRED_DB_TOKEN, "unavailable");
		return api_from_store(req, st, "database token", NULL);
	}

	req->principal.kind = PRINCIPAL_DB_TOKEN;
	str_copy(req->principal.account_id, sizeof(req->principal.account_id), g.account_id);
	str_copy(req->principal.token_id, sizeof(req->principal.token_id), g.token_id);
	if (g.revoked_at != 0)
		return refused(req, "revoked", "the database token has been revoked");
	if (g.expires_at != 0 && g.expires_at <= req->now)
		return refused(req, "expired", "the database token has expired");
	metrics_auth(METRICS_CRED_DB_TOKEN, "ok");
	if (!g.permitted)
		return api_fail(req, API_FORBIDDEN, "the database token may not %s database \"%s\"",
		                action == DB_ACTION_WRITE ? "write to" : "read", database);
	/* Never let traffic through to a database this control plane does not know. */
	if (!g.database_exists)
		return api_fail(req, API_FORBIDDEN, "there is no database \"%s\" in this cluster",
		                database);
	return api_no_content(req);
}
