/*
 * views.c - stored objects as the JSON the API answers.
 */
#include "reply.h"
#include "views.h"

const char *mgmt_token_status(const struct store_mgmt_token *t, int64_t now)
{
	if (t->revoked_at != 0)
		return "revoked";
	if (t->expires_at != 0 && t->expires_at <= now)
		return "expired";
	return "active";
}

/* Takes ownership of obj; frees it and answers NULL when any setter failed. */
static json_t *finish(json_t *obj, int failures)
{
	if (failures != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

json_t *view_mgmt_token(const struct store_mgmt_token *t, int64_t now)
{
	json_t *o = json_object();
	int bad = 0;

	if (o == NULL)
		return NULL;
	bad |= json_object_set_new(o, "id", json_string(t->id));
	bad |= json_object_set_new(o, "accountId", json_string(t->account_id));
	bad |= json_object_set_new(o, "description", json_string(t->description));
	bad |= json_object_set_new(o, "tokenPrefix", json_string(t->prefix));
	bad |= json_object_set_new(o, "status", json_string(mgmt_token_status(t, now)));
	bad |= json_set_time(o, "createdAt", t->created_at);
	bad |= json_object_set_new(o, "createdBy", json_string(t->created_by));
	bad |= json_set_time(o, "expiresAt", t->expires_at);
	bad |= json_set_time(o, "revokedAt", t->revoked_at);
	bad |= json_set_text(o, "revokedBy", t->revoked_by);
	bad |= json_set_time(o, "lastUsedAt", t->last_used_at);
	return finish(o, bad);
}

json_t *view_user(const struct store_user *u)
{
	json_t *o = json_object();
	int bad = 0;

	if (o == NULL)
		return NULL;
	bad |= json_object_set_new(o, "id", json_string(u->id));
	bad |= json_object_set_new(o, "accountId", json_string(u->account_id));
	bad |= json_object_set_new(o, "email", json_string(u->email));
	bad |= json_set_text(o, "firstName", u->first_name);
	bad |= json_set_text(o, "lastName", u->last_name);
	bad |= json_object_set_new(o, "group", json_string(user_group_name(u->group)));
	bad |= json_set_text(o, "idpSubject", u->idp_subject);
	bad |= json_set_time(o, "createdAt", u->created_at);
	return finish(o, bad);
}

json_t *view_cluster(const struct store_cluster *c)
{
	json_t *o = json_object();
	int bad = 0;

	if (o == NULL)
		return NULL;
	bad |= json_object_set_new(o, "id", json_string(c->id));
	bad |= json_object_set_new(o, "accountId", json_string(c->account_id));
	bad |= json_object_set_new(o, "name", json_string(c->name));
	/* Every cluster of this control plane is usable as soon as it exists. */
	bad |= json_object_set_new(o, "state", json_string("ready"));
	bad |= json_object_set_new(o, "url", json_string(c->url));
	bad |= json_set_time(o, "createdAt", c->created_at);
	return finish(o, bad);
}
