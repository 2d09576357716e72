/*
 * dispatch.c - route, authenticate, authorize, check the body, run the handler.
 *
 * The order is deliberate: a caller without a good credential learns nothing
 * about bodies or resources; a body is looked at only once the caller may act.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "auth.h"
#include "body.h"
#include "commitq.h"
#include "dispatch.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "router.h"
#include "timeutil.h"

static const char *const resource_names[RES_COUNT] = {
    [RES_NONE] = "this resource",
    [RES_MGMT_TOKENS] = "management tokens",
    [RES_USERS] = "users",
    [RES_CLUSTERS] = "clusters",
    [RES_DATABASES] = "databases",
    [RES_TABLES] = "tables",
    [RES_DB_TOKENS] = "database tokens",
    [RES_INVITES] = "invites",
    [RES_AUDIT] = "the audit trail",
};

static const char *const operation_verbs[OP_COUNT] = {
    [OP_READ] = "read",
    [OP_CREATE] = "create",
    [OP_UPDATE] = "change",
    [OP_DELETE] = "delete or revoke",
};

static const char *principal_name(const struct principal *p)
{
	if (p->kind == PRINCIPAL_MGMT_TOKEN)
		return "management tokens";
	switch (p->group) {
	case GROUP_ADMIN:
		return "admin users";
	case GROUP_MEMBER:
		return "member users";
	case GROUP_AUDITOR:
		return "auditor users";
	}
	return "this credential";
}

/* "application/json", any case, optionally followed by parameters. */
static bool is_json_content_type(const char *ct)
{
	static const char json[] = "application/json";
	size_t n = sizeof(json) - 1;

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, json, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* "application/x-www-form-urlencoded", any case, optionally followed by parameters. */
static bool is_form_content_type(const char *ct)
{
	static const char form[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(form) - 1;

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, form, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/*
 * The optional features this server has enabled, as route flags. /metrics
 * is on the main listener unless it has one of its own.
 */
static unsigned enabled_features(const struct request *req)
{
	const struct app *app = req->app;
	bool metrics = app->cfg.metrics_enabled &&
	               (req->metrics_listener || app->cfg.metrics_listen[0] == '\0');

	return (app->dev_idp ? ROUTE_DEV_IDP : 0) | (app->cfg.testing_enabled ? ROUTE_TESTING : 0) |
	       (app->cfg.ui_enabled ? ROUTE_UI : 0) | (metrics ? ROUTE_METRICS : 0);
}

static enum api_status forbidden(struct request *req, const struct route *route)
{
	if (route->resource == RES_MGMT_TOKENS && route->op == OP_CREATE &&
	    req->principal.kind == PRINCIPAL_MGMT_TOKEN)
		return api_fail(req, API_FORBIDDEN,
		                "management tokens may not create management tokens; an admin user "
		                "signed in through the identity provider must do it");
	if (route->resource == RES_MGMT_TOKENS && route->op == OP_CREATE)
		return api_fail(req, API_FORBIDDEN,
		                "only admin users may create management tokens");
	return api_fail(req, API_FORBIDDEN, "%s may not %s %s", principal_name(&req->principal),
	                operation_verbs[route->op], resource_names[route->resource]);
}

/*
 * A failed authentication spends one of the client address's credits; with
 * none left the answer is 429 instead of 401 (throttle.h). Successful ones
 * never get here.
 */
static enum api_status throttled(struct request *req)
{
	int wait;

	if (req->app->throttle == NULL || !req->client_known)
		return req->status;
	wait = throttle_fail(req->app->throttle, req->client_addr, time_monotonic_us() / 1000);
	if (wait == 0)
		return req->status;
	metrics_throttled();
	req->retry_after = wait;
	return api_fail(req, API_TOO_MANY_REQUESTS,
	                "too many failed authentication attempts from this address; retry in "
	                "%d seconds",
	                wait);
}

/*
 * The store's part of the request's named fault (faults.h), on the connection that
 * serves it; store_fault_set(s, STORE_FAULT_NONE, 0) takes it off again.
 */
static void store_fault_of(const struct request *req, struct store *s)
{
	switch (req->fault) {
	case FAULT_STORE_READ_ONLY:
		store_fault_set(s, STORE_FAULT_READ_ONLY, 0);
		break;
	case FAULT_STORE_FULL:
		store_fault_set(s, STORE_FAULT_FULL, 0);
		break;
	case FAULT_SLOW_COMMIT:
		store_fault_set(s, STORE_FAULT_SLOW_COMMIT, req->fault_delay_ms);
		break;
	case FAULT_IDP_KEYS_UNAVAILABLE: /* auth.c's */
	case FAULT_NAMED_NONE:
		break;
	}
}

static enum api_status run(struct request *req, bool *read_began, bool *queue)
{
	const struct route *route;
	enum store_status sst;
	enum api_status st;

	/* Where this message ends is in doubt: nothing of it is acted on. */
	if (req->bad_framing)
		return api_fail(req, API_BAD_REQUEST, "%s", req->bad_framing);
	/* An encoded NUL would silently cut the path or a query value short. */
	if (req->url_has_nul)
		return api_fail(req, API_BAD_REQUEST,
		                "the URL must not hold an encoded NUL (%%00)");
	switch (router_match_features(routes, route_count, enabled_features(req), req->method,
	                              req->path, &req->match)) {
	case ROUTER_NOT_FOUND:
		return api_fail(req, API_NOT_FOUND, "no such path");
	case ROUTER_WRONG_METHOD:
		if (req->metrics_listener) {
			req->match.allow[0] = '\0';
			return api_fail(req, API_NOT_FOUND, "no such path");
		}
		return api_fail(req, API_METHOD_NOT_ALLOWED, "this path takes %s, not %.16s",
		                req->match.allow, req->method);
	case ROUTER_FOUND:
		break;
	}
	route = req->match.route;
	/* A listener of its own for /metrics serves nothing else. */
	if (req->metrics_listener && !(route->flags & ROUTE_METRICS)) {
		req->match.route = NULL;
		return api_fail(req, API_NOT_FOUND, "no such path");
	}
	if (req->body_too_large)
		return api_fail(req, API_PAYLOAD_TOO_LARGE,
		                "the request body is larger than the limit of %d bytes",
		                REQUEST_MAX_BODY);
	req->now = time_now_ms();

	/* The data plane's database token is the credential its handler checks. */
	if ((route->flags & (ROUTE_DATA_PLANE | ROUTE_STORE)) || route->resource != RES_NONE) {
		req->store = store_pool_get(req->app->stores);
		if (req->store == NULL)
			return api_fail(
			    req, API_UNAVAILABLE,
			    "the store's database cannot be opened or reached; retry later");
		/* an injected fault meets this request's store (faults.h); /_test/ never has one */
		store_fault_of(req, req->store);
	}
	if (route->resource != RES_NONE) {
		/* A read: authentication and handler share one snapshot (store.h). */
		if (route->op == OP_READ && !*read_began &&
		    (sst = store_read_begin(req->store, read_began)) != STORE_OK)
			return sst == STORE_UNAVAILABLE
			           ? api_from_store(req, sst, "store", NULL)
			           : api_fail(req, API_UNAVAILABLE,
			                      "the store is busy; retry the request");
		st = auth_authenticate(req, request_param(req, "accountId"));
		if (st == API_FORBIDDEN && req->principal.first_sign_in_due) {
			/* A first sign-in links a user or accepts an invite: a write, so outside
			 * the snapshot. */
			store_read_end(req->store, *read_began);
			*read_began = false;
			st = auth_first_sign_in(req, request_param(req, "accountId"));
			if (st == API_OK && route->op == OP_READ &&
			    store_read_begin(req->store, read_began) != STORE_OK)
				return api_fail(req, API_UNAVAILABLE,
				                "the store is busy; retry the request");
		}
		/* 503 (keys not loaded, store busy) is no verdict on the credential */
		req->auth_refused = st != API_OK && st != API_UNAVAILABLE;
		if (st == API_UNAUTHORIZED)
			return throttled(req);
		if (st != API_OK)
			return st;
		if (auth_access(&req->principal, route->resource, route->op,
		                req->app->cfg.tokens_may_mint) == ACCESS_DENY)
			return forbidden(req, route);
		/*
		 * A change: its handler and its audit row share one transaction
		 * (audit.h): the writer's, shared with other changes (commitq.h),
		 * once the body is read; else its own, from here.
		 */
		*queue = route->op != OP_READ && req->app->commitq != NULL &&
		         store_commits_serialized(req->store);
		if (route->op != OP_READ && !*queue && (st = audit_begin(req)) != API_OK)
			return st;
	}

	if (route->flags & ROUTE_JSON_BODY) {
		if (req->body_len > 0 && !is_json_content_type(req->content_type))
			return api_fail(req, API_UNSUPPORTED_MEDIA_TYPE,
			                "the request body must be sent with Content-Type: "
			                "application/json");
		st = body_parse_object(req);
		if (st != API_OK)
			return st;
	}
	if (route->flags & ROUTE_FORM_BODY) {
		/* nothing sent: say what is missing rather than which type it lacks */
		if (req->body_len == 0 || is_form_content_type(req->content_type))
			st = body_parse_form(req);
		else if (is_json_content_type(req->content_type))
			st = body_parse_object(req);
		else
			st = api_fail(req, API_UNSUPPORTED_MEDIA_TYPE,
			              "the request body must be sent with Content-Type: "
			              "application/x-www-form-urlencoded or application/json");
		if (st != API_OK)
			return st;
	}
	if (*queue)
		return API_OK; /* the handler runs on the writer's thread (dispatch_change) */
	st = route->handler(req);
	/* A refused database token is a failed authentication like any other. */
	if ((route->flags & ROUTE_DATA_PLANE) && st == API_UNAUTHORIZED)
		return throttled(req);
	return st;
}

enum dispatch_result dispatch_request(struct request *req)
{
	bool read_began = false, queue = false;

	req->status = run(req, &read_began, &queue);
	if (queue && req->status == API_OK)
		return DISPATCH_QUEUE;
	if (req->store != NULL) {
		store_read_end(req->store, read_began);
		audit_finish(req);
		auth_after_request(req);
		store_fault_set(req->store, STORE_FAULT_NONE, 0);
		/* Handlers that took a connection themselves left it here too. */
		store_pool_put(req->app->stores, req->store);
		req->store = NULL;
	}
	return DISPATCH_DONE;
}

/*
 * The writer's part of a queued change (commitq.h: run): inside the shared
 * transaction, under a savepoint of its own, the handler and the audit row;
 * a refused change is undone alone and leaves its row (audit_finish).
 */
static void run_change(void *change, struct store *writer)
{
	struct request *req = change;
	enum store_status st;

	req->store = writer;
	st = store_savepoint(writer);
	if (st != STORE_OK) {
		req->status = api_from_store(req, st, "store", NULL);
		req->store = NULL;
		return;
	}
	req->write_tx = true;
	req->in_savepoint = true;
	/* this change's alone: the others of the transaction meet no fault (a slow commit
	 * it owes stays owed to the shared COMMIT) */
	store_fault_of(req, writer);
	req->status = req->match.route->handler(req);
	audit_finish(req);
	auth_after_request(req);
	store_fault_set(writer, STORE_FAULT_NONE, 0);
	req->store = NULL;
}

/* ... and what is answered once the shared commit is decided (commitq.h: finish). */
static void finish_change(void *change, enum store_status commit_status)
{
	struct request *req = change;
	bool answered_success = req->status == API_OK || req->status == API_NO_CONTENT;

	audit_after_commit(req, commit_status);
	/* An answer of success promises a durable change: not without its commit. */
	if (commit_status != STORE_OK && answered_success) {
		request_drop_raw(req);
		json_decref(req->reply);
		req->reply = NULL;
		api_from_store(req, commit_status, "change", NULL);
	}
	req->queued_done(req->queued_cls);
}

const struct commitq_ops dispatch_commit_ops = {.run = run_change, .finish = finish_change};

void dispatch_queue(struct request *req, void (*done)(void *cls), void *cls)
{
	req->queued_done = done;
	req->queued_cls = cls;
	/* the worker's connection served the authentication; the writer has its own */
	store_pool_put(req->app->stores, req->store);
	req->store = NULL;
	if (!commitq_submit(req->app->commitq, req)) {
		/* stopping: the change runs here, in a transaction of its own */
		req->store = store_pool_get(req->app->stores);
		if (req->store == NULL) {
			api_fail(req, API_UNAVAILABLE,
			         "the store's database cannot be opened or reached; retry later");
		} else {
			store_fault_of(req, req->store);
			if ((req->status = audit_begin(req)) == API_OK)
				req->status = req->match.route->handler(req);
		}
		if (req->store != NULL) {
			audit_finish(req);
			auth_after_request(req);
			store_fault_set(req->store, STORE_FAULT_NONE, 0);
			store_pool_put(req->app->stores, req->store);
			req->store = NULL;
		}
		done(cls);
	}
}

const char *dispatch_allow_header(const struct request *req)
{
	if (req->status == API_METHOD_NOT_ALLOWED && req->match.allow[0])
		return req->match.allow;
	return NULL;
}
