/*
 * api_invites.c - /api/v0/accounts/{accountId}/invites[/{inviteId}] (CONTRACT 5).
 *
 * Admins and management tokens invite and revoke, auditors read, members
 * have no access (the rights table). Whether an email is free to invite is
 * decided by the store inside its transaction; the first sign-in that
 * accepts an invite is in auth.c.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "audit.h"
#include "body.h"
#include "invite.h"
#include "request.h"
#include "views.h"

enum api_status api_invite_list(struct request *req)
{
	struct store_invite *invites = NULL;
	enum store_status st;
	size_t n = 0;
	json_t *list;

	st = store_invite_list(req->store, req->principal.account_id, &invites, &n);
	if (st != STORE_OK)
		return api_from_store(req, st, "invite", NULL);
	list = json_array();
	for (size_t i = 0; list && i < n; i++)
		view_list_append(&list, view_invite(&invites[i], req->now));
	free(invites);
	return api_ok(req, list);
}

enum api_status api_invite_create(struct request *req)
{
	static const char *const fields[] = {"email", "group", NULL};
	const char *email, *group_name;
	struct store_invite invite;
	enum user_group group;
	enum store_status st;
	char why[REQUEST_MESSAGE_SIZE];

	if (body_check_fields(req, fields) != API_OK ||
	    body_string(req, "email", true, false, &email) != API_OK ||
	    body_string(req, "group", true, false, &group_name) != API_OK)
		return req->status;
	if (user_group_parse(group_name, &group) != 0)
		return api_fail(req, API_BAD_REQUEST,
		                "group must be one of admin, member, auditor");
	audit_note(req, "invite.create", NULL);
	audit_detail(req, "invited as %s", user_group_name(group));
	if (invite_create(req->store, req->principal.account_id, email, group,
	                  auth_actor_id(&req->principal), req->now, req->app->cfg.invite_days,
	                  &invite, &st, why, sizeof(why)) != 0) {
		if (st == STORE_OK)
			return api_fail(req, API_BAD_REQUEST, "%s", why);
		return api_from_store(req, st, "invite", why);
	}
	audit_note(req, "invite.create", invite.id);
	return api_ok(req, view_invite(&invite, req->now));
}

enum api_status api_invite_get(struct request *req)
{
	const char *id = request_param(req, "inviteId");
	struct store_invite invite;
	enum store_status st;

	if (!uuid_is_valid(id))
		return api_fail(req, API_NOT_FOUND, "invite not found");
	st = store_invite_get(req->store, req->principal.account_id, id, &invite);
	if (st != STORE_OK)
		return api_from_store(req, st, "invite", NULL);
	return api_ok(req, view_invite(&invite, req->now));
}

enum api_status api_invite_revoke(struct request *req)
{
	const char *id = request_param(req, "inviteId");
	struct store_invite invite;
	enum store_status st;

	audit_note(req, "invite.revoke", uuid_is_valid(id) ? id : NULL);
	if (!uuid_is_valid(id))
		return api_fail(req, API_NOT_FOUND, "invite not found");
	st = store_invite_revoke(req->store, req->principal.account_id, id, req->now,
	                         auth_actor_id(&req->principal), &invite);
	if (st != STORE_OK)
		return api_from_store(req, st, "invite",
		                      "the invite has been accepted; remove the user instead");
	return api_no_content(req);
}
