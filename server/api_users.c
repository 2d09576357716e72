/*
 * api_users.c - /api/v0/accounts/{accountId}/users[/{userId}] (CONTRACT 5).
 *
 * Members see only themselves; the last admin of an account can be neither
 * demoted nor removed (the store enforces it inside its transaction). A
 * user's identity is (idpIssuer, idpSubject) (identity.h): idpIssuer names a
 * configured identity provider, and a subject given without one gets the
 * only one configured, or is refused when there are several.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "body.h"
#include "identity.h"
#include "request.h"
#include "rules.h"
#include "views.h"

static const char *const user_fields[] = {"email",      "group",     "firstName", "lastName",
                                          "idpSubject", "idpIssuer", NULL};

static bool sees_only_self(const struct request *req)
{
	return auth_access(&req->principal, RES_USERS, OP_READ, false) == ACCESS_SELF;
}

/*
 * The identity fields of the body onto u: idpIssuer by its URL or section
 * name, stored as identity.h says; a subject whose issuer the body leaves
 * undetermined gets the only configured one (400 when there are several).
 * Called after idpSubject was applied.
 */
static enum api_status apply_identity(struct request *req, struct store_user *u, const char *issuer)
{
	const struct identity_issuers *ids = &req->app->identities;
	char why[1536];

	if (body_has(req, "idpIssuer")) {
		if (issuer == NULL)
			u->idp_issuer[0] = '\0';
		else if (identity_issuer_resolve(ids, issuer, u->idp_issuer, sizeof(u->idp_issuer),
		                                 why, sizeof(why)) != 0)
			return api_fail(req, API_BAD_REQUEST, "idpIssuer: %s", why);
	}
	if (u->idp_subject[0] && !u->idp_issuer[0] &&
	    (body_has(req, "idpSubject") || body_has(req, "idpIssuer")) &&
	    identity_issuer_default(ids, u->idp_issuer, sizeof(u->idp_issuer), why, sizeof(why)) !=
	        0)
		return api_fail(req, API_BAD_REQUEST, "idpSubject needs an idpIssuer: %s", why);
	return API_OK;
}

/*
 * Applies the body's fields onto u, checking each. Absent fields leave u as
 * it is; null removes an optional field.
 */
static enum api_status apply_user_fields(struct request *req, struct store_user *u, bool creating)
{
	const char *email, *group, *first, *last, *subject, *issuer;
	char why[RULE_WHY_SIZE];

	if (body_string(req, "email", creating, false, &email) != API_OK ||
	    body_string(req, "group", creating, false, &group) != API_OK ||
	    body_string(req, "firstName", false, true, &first) != API_OK ||
	    body_string(req, "lastName", false, true, &last) != API_OK ||
	    body_string(req, "idpSubject", false, true, &subject) != API_OK ||
	    body_string(req, "idpIssuer", false, true, &issuer) != API_OK)
		return req->status;

	if (email) {
		if (rule_email("email", email, why) != NULL)
			return api_fail(req, API_BAD_REQUEST, "%s", why);
		str_copy(u->email, sizeof(u->email), email);
	}
	if (group && user_group_parse(group, &u->group) != 0)
		return api_fail(req, API_BAD_REQUEST,
		                "group must be one of admin, member, auditor");
	if ((first && rule_person_name("firstName", first, why) != NULL) ||
	    (last && rule_person_name("lastName", last, why) != NULL) ||
	    (subject && rule_idp_subject("idpSubject", subject, why) != NULL))
		return api_fail(req, API_BAD_REQUEST, "%s", why);
	/* Present means set (or, for null, clear); absent means keep. */
	if (body_has(req, "firstName"))
		str_copy(u->first_name, sizeof(u->first_name), first ? first : "");
	if (body_has(req, "lastName"))
		str_copy(u->last_name, sizeof(u->last_name), last ? last : "");
	if (body_has(req, "idpSubject"))
		str_copy(u->idp_subject, sizeof(u->idp_subject), subject ? subject : "");
	return apply_identity(req, u, issuer);
}

#define USER_CONFLICT                                                                              \
	"a user with this email, or with this idpSubject at this idpIssuer, already exists in "    \
	"the account"

enum api_status api_user_list(struct request *req)
{
	struct store_user *users = NULL;
	enum store_status st;
	size_t n = 0;
	json_t *list;
	bool only_self = sees_only_self(req);

	st = store_user_list(req->store, req->principal.account_id, &users, &n);
	if (st != STORE_OK)
		return api_from_store(req, st, "user", NULL);
	list = json_array();
	for (size_t i = 0; list && i < n; i++) {
		if (only_self && strcmp(users[i].id, req->principal.user_id) != 0)
			continue;
		view_list_append(&list, view_user(&users[i]));
	}
	free(users);
	return api_ok(req, list);
}

enum api_status api_user_create(struct request *req)
{
	struct store_user user;
	enum store_status st;

	memset(&user, 0, sizeof(user));
	if (body_check_fields(req, user_fields) != API_OK ||
	    apply_user_fields(req, &user, true) != API_OK)
		return req->status;
	uuid_v4_generate(user.id);
	audit_note(req, "user.create", user.id);
	str_copy(user.account_id, sizeof(user.account_id), req->principal.account_id);
	user.created_at = req->now;
	st = store_user_insert(req->store, &user);
	if (st != STORE_OK)
		return api_from_store(req, st, "user", USER_CONFLICT);
	return api_ok(req, view_user(&user));
}

/* Loads the user of the path, applying the members-see-only-themselves rule. */
static enum api_status load_user(struct request *req, struct store_user *user)
{
	const char *id = request_param(req, "userId");
	enum store_status st;

	if (!uuid_is_valid(id))
		return api_fail(req, API_NOT_FOUND, "user not found");
	if (sees_only_self(req) && strcmp(id, req->principal.user_id) != 0)
		return api_fail(req, API_FORBIDDEN, "member users may read only their own user");
	st = store_user_get(req->store, req->principal.account_id, id, user);
	if (st != STORE_OK)
		return api_from_store(req, st, "user", NULL);
	return API_OK;
}

enum api_status api_user_get(struct request *req)
{
	struct store_user user;

	if (load_user(req, &user) != API_OK)
		return req->status;
	return api_ok(req, view_user(&user));
}

enum api_status api_user_update(struct request *req)
{
	struct store_user user;
	enum store_status st;

	audit_note(req, "user.update", request_param(req, "userId"));
	if (body_check_fields(req, user_fields) != API_OK ||
	    body_require_any(req, user_fields) != API_OK || load_user(req, &user) != API_OK ||
	    apply_user_fields(req, &user, false) != API_OK)
		return req->status;
	st = store_user_update(req->store, &user);
	if (st != STORE_OK)
		return api_from_store(req, st, "user", USER_CONFLICT);
	return api_ok(req, view_user(&user));
}

enum api_status api_user_delete(struct request *req)
{
	const char *id = request_param(req, "userId");
	enum store_status st;

	audit_note(req, "user.delete", id);
	if (!uuid_is_valid(id))
		return api_fail(req, API_NOT_FOUND, "user not found");
	st = store_user_delete(req->store, req->principal.account_id, id);
	if (st != STORE_OK)
		return api_from_store(req, st, "user", NULL);
	return api_no_content(req);
}
