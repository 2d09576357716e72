/*
 * api_audit.c - GET /api/v0/accounts/{accountId}/audit: the account's audit
 * trail, newest first, for admins, auditors and management tokens.
 *
 * Filters: since and until (RFC 3339; since inclusive, until exclusive),
 * action (exact, or a prefix ending in "*": "database.*"), actor (an actor
 * id, or a credential as recorded: "M.V1.abcd", "jwt sub=..."), limit
 * (1-1000, default 100) and cursor (the nextCursor of the previous page).
 * Answer: {"events": [...], "nextCursor": "..."}, nextCursor only when more
 * events match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "request.h"
#include "timeutil.h"
#include "views.h"

#define AUDIT_DEFAULT_LIMIT 100
#define AUDIT_MAX_LIMIT     1000

/* An action filter: letters, digits, '_' and '.', optionally ending in '*'. */
static bool action_filter_ok(const char *a)
{
	size_t len = strlen(a);

	if (len == 0 || len >= STORE_AUDIT_ACTION_SIZE)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = a[i];

		if (c == '*' && i == len - 1 && i > 0)
			continue;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.'))
			return false;
	}
	return true;
}

static enum api_status time_param(struct request *req, const char *name, int64_t *out)
{
	const char *v = request_query(req, name);

	*out = 0;
	if (v == NULL)
		return API_OK;
	if (time_parse_rfc3339(v, out) != 0 || *out <= 0)
		return api_fail(req, API_BAD_REQUEST,
		                "%s must be an RFC 3339 date-time such as 2026-11-28T18:00:00Z",
		                name);
	return API_OK;
}

/* Reads the query into f. Strings point into the request. */
static enum api_status read_filter(struct request *req, struct store_audit_filter *f)
{
	const char *limit = request_query(req, "limit");
	const char *cursor = request_query(req, "cursor");
	int64_t n;

	memset(f, 0, sizeof(*f));
	f->limit = AUDIT_DEFAULT_LIMIT;
	if (time_param(req, "since", &f->since) != API_OK ||
	    time_param(req, "until", &f->until) != API_OK)
		return req->status;
	if (f->since && f->until && f->until <= f->since)
		return api_fail(req, API_BAD_REQUEST, "until must be later than since");
	f->action = request_query(req, "action");
	if (f->action && !action_filter_ok(f->action))
		return api_fail(req, API_BAD_REQUEST,
		                "action must be an action name (database.create) or a prefix "
		                "ending in * (database.*)");
	f->actor = request_query(req, "actor");
	if (f->actor && (f->actor[0] == '\0' || strlen(f->actor) >= STORE_AUDIT_CREDENTIAL_SIZE ||
	                 !str_is_clean_text(f->actor)))
		return api_fail(req, API_BAD_REQUEST,
		                "actor must be a user or management-token id, or a credential as "
		                "the trail shows it");
	if (limit) {
		if (!id_parse(limit, &n) || n > AUDIT_MAX_LIMIT)
			return api_fail(req, API_BAD_REQUEST,
			                "limit must be an integer from 1 to %d", AUDIT_MAX_LIMIT);
		f->limit = (size_t)n;
	}
	if (cursor) {
		if (!id_parse(cursor, &f->before_id))
			return api_fail(req, API_BAD_REQUEST,
			                "cursor must be the nextCursor of a previous answer");
	}
	return API_OK;
}

enum api_status api_audit_list(struct request *req)
{
	struct store_audit_filter f;
	struct store_audit_event *events = NULL;
	enum store_status st;
	size_t n = 0, shown;
	json_t *list, *answer;

	if (read_filter(req, &f) != API_OK)
		return req->status;
	/* One more than asked: whether there is a next page, without a count. */
	f.limit++;
	st = store_audit_list(req->store, req->principal.account_id, &f, &events, &n);
	if (st != STORE_OK)
		return api_from_store(req, st, "audit trail", NULL);
	shown = n < f.limit ? n : f.limit - 1;
	list = json_array();
	for (size_t i = 0; list && i < shown; i++)
		view_list_append(&list, view_audit_event(&events[i]));
	answer = list ? json_pack("{s:o}", "events", list) : NULL;
	if (answer && n > shown) {
		char next[24];

		snprintf(next, sizeof(next), "%lld", (long long)events[shown - 1].id);
		if (json_object_set_new(answer, "nextCursor", json_string(next)) != 0) {
			json_decref(answer);
			answer = NULL;
		}
	}
	free(events);
	return api_ok(req, answer);
}
