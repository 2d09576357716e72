/*
 * api_authorize.c - GET .../clusters/{clusterId}/authorize (CONTRACT 4.4):
 * the data-plane check a proxy in front of a database runs before every
 * write and query (nginx auth_request, Caddy forward_auth, Traefik
 * ForwardAuth).
 *
 * Two forms, told apart by the headers:
 *  - forwarded: X-Forwarded-Method and X-Forwarded-Uri carry the original
 *    request (with its Content-Type), and mgmtd reads database and action
 *    from it as the database will (dataplane.h, influxql.h); the check's
 *    own URL then has no query parameters;
 *  - parameters: ?database=DB&action=read|write, for callers that decide
 *    those themselves.
 * Both at once, or half of the forwarded form, is 400.
 *
 * The database token is the credential (Bearer or Token scheme); no
 * management credential is involved and none is accepted. 204 when the
 * token is active and grants the action on the database, 401 when the
 * token is missing, malformed, unknown (also: of another cluster), revoked
 * or expired (dispatch.c throttles these per client address), 403 when it
 * lacks the permission, the database does not exist or a query statement
 * is not a read of that database, 404 for a path the database has no
 * writes or queries on, 400 for what cannot be read or could be read two
 * ways. One indexed query answers it all (store_db_authorize). The only
 * write is the token's lastUsedAt, at most once a minute per token, after the
 * answer is decided (auth_after_request).
 */
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "api.h"
#include "audit.h"
#include "credcache.h"
#include "dataplane.h"
#include "delays.h"
#include "lifecycle.h"
#include "log.h"
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

/*
 * What the store says of credential, action and database: from this thread's
 * cache when a read snapshot of the same change epoch answered it before
 * (credcache.h), else from the store (then kept). The snapshot is this
 * function's own: the check is a read, and nothing else runs in it.
 */
static enum store_status find_grant(struct request *req, const char *credential,
                                    const struct dataplane_target *target,
                                    struct store_db_grant *out)
{
	const char *const parts[] = {db_action_name(target->action), target->database, NULL};
	unsigned char hash[TOKEN_HASH_LEN];
	struct credcache_key key;
	enum store_status st;
	bool began = false, cacheable;
	uint64_t epoch;

	st = store_read_begin(req->store, &began);
	if (st != STORE_OK)
		return st;
	cacheable = store_change_epoch(req->store, &epoch) &&
	            credcache_key("grant", credential, parts, &key);
	if (cacheable && credcache_get_grant(&key, epoch, out))
		goto out;
	token_hash(&req->app->token_key, credential, hash);
	st = store_db_authorize(req->store, hash, target->action, target->database, out);
	sodium_memzero(hash, sizeof(hash));
	if (st == STORE_OK && cacheable)
		credcache_put_grant(&key, epoch, out);
out:
	store_read_end(req->store, began);
	return st;
}

/*
 * A use of a rotated token's previous secret within its grace: counted, and
 * recorded at most once a minute (the one write this check makes, and only
 * for a client that has not switched yet).
 */
static void previous_secret_used(struct request *req, const struct store_db_grant *g)
{
	enum store_status st;

	metrics_previous_secret_use(true);
	if (g->previous_last_used_at != 0 &&
	    req->now - g->previous_last_used_at < LIFECYCLE_PREVIOUS_USE_INTERVAL_MS)
		return;
	st = store_db_token_touch_previous(req->store, g->token_id, req->now,
	                                   LIFECYCLE_PREVIOUS_USE_INTERVAL_MS);
	if (st != STORE_OK)
		log_warn("could not record previousSecretLastUsedAt of database token %s: %s",
		         g->token_id, store_status_name(st));
}

/* The forwarded form: database and action from the original request. */
static enum api_status forwarded_target(struct request *req, struct dataplane_target *target)
{
	if (req->forwarded_method == NULL || req->forwarded_uri == NULL)
		return api_fail(req, API_BAD_REQUEST,
		                "a forwarded request needs both X-Forwarded-Method and "
		                "X-Forwarded-Uri");
	if (req->repeated_headers &
	    (REQUEST_REPEATED_FORWARDED_METHOD | REQUEST_REPEATED_FORWARDED_URI |
	     REQUEST_REPEATED_CONTENT_TYPE))
		return api_fail(
		    req, API_BAD_REQUEST,
		    "X-Forwarded-Method, X-Forwarded-Uri and Content-Type must each come "
		    "at most once");
	switch (
	    dataplane_read(req->forwarded_method, req->forwarded_uri, req->content_type, target)) {
	case DATAPLANE_OK:
		return API_OK;
	case DATAPLANE_MALFORMED:
		return api_fail(req, API_BAD_REQUEST, "%s", target->why);
	case DATAPLANE_NO_SUCH_PATH:
		return api_fail(req, API_NOT_FOUND, "%s", target->why);
	case DATAPLANE_REFUSED:
		return api_fail(req, API_FORBIDDEN, "%s", target->why);
	}
	return api_fail(req, API_INTERNAL, "unknown data-plane verdict");
}

/* The parameter form: ?database=DB&action=read|write. */
static enum api_status parameter_target(struct request *req, struct dataplane_target *target)
{
	const char *database = request_query(req, "database");
	const char *action_name = request_query(req, "action");

	if (database == NULL || database[0] == '\0')
		return api_fail(req, API_BAD_REQUEST, "the query parameter database is required");
	if (rule_database_name(database) != NULL)
		return api_fail(req, API_BAD_REQUEST, "the query parameter database: %s",
		                rule_database_name(database));
	if (db_action_parse(action_name, &target->action) != 0)
		return api_fail(req, API_BAD_REQUEST,
		                "the query parameter action must be read or write");
	str_copy(target->database, sizeof(target->database), database);
	return API_OK;
}

enum api_status api_authorize(struct request *req)
{
	bool forwarded = req->forwarded_method != NULL || req->forwarded_uri != NULL;
	struct dataplane_target target;
	struct store_db_grant g;
	const char *credential;
	enum store_status st;
	enum api_status as;
	int64_t activation;

	memset(&target, 0, sizeof(target));
	/* which of two credentials would count is a guess this check does not make */
	if (req->repeated_headers & REQUEST_REPEATED_AUTHORIZATION)
		return api_fail(req, API_BAD_REQUEST, "the Authorization header must come once");
	if (forwarded && req->query_count > 0)
		return api_fail(
		    req, API_BAD_REQUEST,
		    "a forwarded request (X-Forwarded-Method, X-Forwarded-Uri) and query "
		    "parameters on the check's own URL: send one form, not both");
	if (auth_credential(req, true, &credential) != API_OK) {
		metrics_auth(METRICS_CRED_NONE, req->authorization ? "wrong_scheme" : "missing");
		return req->status;
	}
	/* Cheap refusals first: no lookup for something that is no database token. */
	if (!token_db_well_formed(credential))
		return refused(req, "malformed",
		               "the credential is not a database token (apiv1_ and 86 characters)");
	as = forwarded ? forwarded_target(req, &target) : parameter_target(req, &target);
	if (as != API_OK)
		return as;

	st = find_grant(req, credential, &target, &g);
	/* A token of another account or cluster is, here, unknown: no existence leaks. */
	if (st == STORE_NOT_FOUND ||
	    (st == STORE_OK && (strcmp(g.account_id, request_param(req, "accountId")) != 0 ||
	                        strcmp(g.cluster_id, request_param(req, "clusterId")) != 0)))
		return refused(req, "unknown", "the database token is not valid");
	if (st != STORE_OK) {
		metrics_auth(METRICS_CRED_DB_TOKEN, "unavailable");
		return api_from_store(req, st, "database token", NULL);
	}
	/*
	 * The test harness's activation delay: a token younger than it is, as
	 * Cloud Dedicated answers it, unknown. Decided here, on the clock of this
	 * request, from the creation time (cached with the grant): never a verdict
	 * kept from an earlier request.
	 */
	activation = delays_token_activation_ms(req->app->delays);
	if (activation > 0 && req->now - g.created_at < activation)
		return refused(req, "unknown", "the database token is not valid");

	req->principal.kind = PRINCIPAL_DB_TOKEN;
	str_copy(req->principal.account_id, sizeof(req->principal.account_id), g.account_id);
	str_copy(req->principal.token_id, sizeof(req->principal.token_id), g.token_id);
	/* a refusal from here on is the account's business: its row names the database */
	audit_note(req, "data_plane.authorize", target.database);
	if (g.revoked_at != 0)
		return refused(req, "revoked", "the database token has been revoked");
	if (g.expires_at != 0 && g.expires_at <= req->now)
		return refused(req, "expired", "the database token has expired");
	/*
	 * A rotated-away secret past its grace (decided on this request's clock,
	 * never cached): refused, and named in a throttled audit row.
	 */
	if (g.by_previous && g.previous_expires_at <= req->now) {
		if (lifecycle_late_use_audit_due(g.token_id, req->now))
			audit_note(req, "database_token.used_after_rotation", g.token_id);
		else
			memset(&req->principal, 0, sizeof(req->principal));
		return refused(req, "used_after_rotation",
		               "the database token's secret was replaced by a rotation and its "
		               "grace has ended; use the new secret");
	}
	if (g.suspended_at != 0)
		return refused(req, "suspended", "the database token is suspended");
	metrics_auth(METRICS_CRED_DB_TOKEN, "ok");
	/*
	 * lastUsedAt, as for management tokens: written after the answer is
	 * decided (auth_after_request), at most once a minute per token; the
	 * cached grant carries the time, so most checks write nothing.
	 */
	req->principal.last_used_due =
	    g.last_used_at == 0 || req->now - g.last_used_at >= AUTH_LAST_USED_INTERVAL_MS;
	if (g.by_previous)
		previous_secret_used(req, &g);
	if (!g.permitted)
		return api_fail(req, API_FORBIDDEN, "the database token may not %s database \"%s\"",
		                target.action == DB_ACTION_WRITE ? "write to" : "read",
		                target.database);
	/* Never let traffic through to a database this control plane does not know. */
	if (!g.database_exists)
		return api_fail(req, API_FORBIDDEN, "there is no database \"%s\" in this cluster",
		                target.database);
	return api_no_content(req);
}
