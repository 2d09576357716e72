/*
 * views.c - stored objects as the JSON the API answers.
 */
#include <stdlib.h>

#include "reply.h"
#include "dbtoken.h"
#include "views.h"

const char *mgmt_token_status(const struct store_mgmt_token *t, int64_t now)
{
	if (t->revoked_at != 0)
		return "revoked";
	if (t->expires_at != 0 && t->expires_at <= now)
		return "expired";
	/* mgmtd extension: refused until resumed; an expired token stays expired */
	if (t->suspended_at != 0)
		return "suspended";
	return "active";
}

/* The end of a rotation's grace while it runs at now; 0 when none runs. */
static int64_t grace_until(int64_t previous_expires_at, int64_t now)
{
	return previous_expires_at > now ? previous_expires_at : 0;
}

/*
 * The lifecycle fields (mgmtd extensions, docs/api.md): never a secret, only
 * whether a previous one still works and until when.
 */
static int lifecycle_fields(json_t *o, int64_t previous_expires_at, int64_t previous_last_used_at,
                            int64_t suspended_at, const char *suspended_by, int64_t now)
{
	int bad = 0;

	bad |= json_set_time(o, "previousSecretExpiresAt", grace_until(previous_expires_at, now));
	bad |= json_set_time(o, "previousSecretLastUsedAt", previous_last_used_at);
	bad |= json_set_time(o, "suspendedAt", suspended_at);
	bad |= json_set_text(o, "suspendedBy", suspended_by);
	return bad;
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
	bad |= json_object_set_new(o, "description", json_text(t->description));
	bad |= json_object_set_new(o, "tokenPrefix", json_string(t->prefix));
	bad |= json_object_set_new(o, "status", json_string(mgmt_token_status(t, now)));
	bad |= json_set_time(o, "createdAt", t->created_at);
	bad |= json_object_set_new(o, "createdBy", json_string(t->created_by));
	bad |= json_set_time(o, "expiresAt", t->expires_at);
	bad |= json_set_time(o, "revokedAt", t->revoked_at);
	bad |= json_set_text(o, "revokedBy", t->revoked_by);
	bad |= json_set_time(o, "lastUsedAt", t->last_used_at);
	bad |= lifecycle_fields(o, t->previous_expires_at, t->previous_last_used_at,
	                        t->suspended_at, t->suspended_by, now);
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
	bad |= json_object_set_new(o, "email", json_text(u->email));
	bad |= json_set_text(o, "firstName", u->first_name);
	bad |= json_set_text(o, "lastName", u->last_name);
	bad |= json_object_set_new(o, "group", json_string(user_group_name(u->group)));
	bad |= json_set_text(o, "idpIssuer", u->idp_issuer);
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
	bad |= json_object_set_new(o, "name", json_text(c->name));
	/* Every cluster of this control plane is usable as soon as it exists. */
	bad |= json_object_set_new(o, "state", json_string("ready"));
	bad |= json_object_set_new(o, "url", json_text(c->url));
	bad |= json_set_time(o, "createdAt", c->created_at);
	bad |= json_object_set_new(o, "category", json_integer(c->category));
	return finish(o, bad);
}

/* A stored partition template ("" = none) as JSON, under "partitionTemplate". */
static int set_template(json_t *o, const char *stored)
{
	json_t *tpl;

	if (stored[0] == '\0')
		return 0;
	/* Stored by us after validation: failing to parse it means a damaged row. */
	tpl = json_loads(stored, JSON_REJECT_DUPLICATES, NULL);
	if (tpl == NULL)
		return -1;
	return json_object_set_new(o, "partitionTemplate", tpl);
}

json_t *view_database(const struct store_database *d, bool with_id)
{
	json_t *o = json_object();
	int bad = 0;

	if (o == NULL)
		return NULL;
	bad |= json_object_set_new(o, "accountId", json_string(d->account_id));
	bad |= json_object_set_new(o, "clusterId", json_string(d->cluster_id));
	if (with_id)
		bad |= json_object_set_new(o, "id", json_integer(d->id));
	bad |= json_object_set_new(o, "name", json_text(d->name));
	bad |= json_object_set_new(o, "maxTables", json_integer(d->max_tables));
	bad |= json_object_set_new(o, "maxColumnsPerTable", json_integer(d->max_columns_per_table));
	bad |= json_object_set_new(o, "retentionPeriod", json_integer(d->retention_period));
	bad |= set_template(o, d->partition_template);
	return finish(o, bad);
}

json_t *view_table(const struct store_table *t, const struct store_database *db, bool with_id)
{
	json_t *o = json_object();
	int bad = 0;

	if (o == NULL)
		return NULL;
	bad |= json_object_set_new(o, "accountId", json_string(db->account_id));
	bad |= json_object_set_new(o, "clusterId", json_string(db->cluster_id));
	bad |= json_object_set_new(o, "databaseName", json_text(db->name));
	if (with_id)
		bad |= json_object_set_new(o, "id", json_integer(t->id));
	bad |= json_object_set_new(o, "name", json_text(t->name));
	bad |= set_template(o, t->partition_template);
	/* an mgmtd extension (influxctl table iceberg enable|disable); always present */
	bad |= json_object_set_new(o, "icebergExport", json_boolean(t->iceberg_export));
	return finish(o, bad);
}

json_t *view_db_token(const struct store_db_token *t, int64_t now)
{
	json_t *o = json_object();
	json_t *perms = json_array();
	int bad = 0;

	if (o == NULL || perms == NULL) {
		json_decref(o);
		json_decref(perms);
		return NULL;
	}
	for (size_t i = 0; i < t->permission_count; i++) {
		char id[UUID_STR_SIZE];

		dbtoken_permission_id(t->id, &t->permissions[i], id);
		bad |=
		    json_array_append_new(perms, json_pack("{s:s, s:s, s:s}", "id", id, "action",
		                                           db_action_name(t->permissions[i].action),
		                                           "resource", t->permissions[i].resource));
	}
	bad |= json_object_set_new(o, "accountId", json_string(t->account_id));
	bad |= json_object_set_new(o, "clusterId", json_string(t->cluster_id));
	bad |= json_object_set_new(o, "id", json_string(t->id));
	bad |= json_object_set_new(o, "description", json_text(t->description));
	bad |= json_object_set_new(o, "permissions", perms);
	bad |= json_set_time(o, "createdAt", t->created_at);
	bad |= json_set_time(o, "expiresAt", t->expires_at);
	bad |= json_set_time(o, "revokedAt", t->revoked_at);
	bad |= json_set_time(o, "lastUsedAt", t->last_used_at);
	bad |= lifecycle_fields(o, t->previous_expires_at, t->previous_last_used_at,
	                        t->suspended_at, t->suspended_by, now);
	return finish(o, bad);
}

/* ,"key":"value" ("key" a string literal, spelled as JSON by the caller) */
static void put_text_field(struct jsontext *w, const char *key, size_t key_len, const char *value)
{
	jsontext_raw(w, key, key_len);
	jsontext_string(w, value);
}
#define text_field(w, key, value) put_text_field(w, key, sizeof(key) - 1, value)

/* The field only when the time is set, as json_set_time. */
static void put_time_field(struct jsontext *w, const char *key, size_t key_len, int64_t ms)
{
	if (ms == 0)
		return;
	jsontext_raw(w, key, key_len);
	jsontext_time(w, ms);
}
#define time_field(w, key, ms) put_time_field(w, key, sizeof(key) - 1, ms)

/* A key and its colon (a string literal) */
#define put_key(w, key) jsontext_raw(w, key, sizeof(key) - 1)

/* As lifecycle_fields, into text. */
static void lifecycle_text(struct jsontext *w, int64_t previous_expires_at,
                           int64_t previous_last_used_at, int64_t suspended_at,
                           const char *suspended_by, int64_t now)
{
	time_field(w, ",\"previousSecretExpiresAt\":", grace_until(previous_expires_at, now));
	time_field(w, ",\"previousSecretLastUsedAt\":", previous_last_used_at);
	time_field(w, ",\"suspendedAt\":", suspended_at);
	if (suspended_by[0] != '\0')
		text_field(w, ",\"suspendedBy\":", suspended_by);
}

void view_mgmt_token_text(struct jsontext *w, const struct store_mgmt_token *t, int64_t now)
{
	text_field(w, "{\"id\":", t->id);
	text_field(w, ",\"accountId\":", t->account_id);
	text_field(w, ",\"description\":", t->description);
	text_field(w, ",\"tokenPrefix\":", t->prefix);
	text_field(w, ",\"status\":", mgmt_token_status(t, now));
	time_field(w, ",\"createdAt\":", t->created_at);
	text_field(w, ",\"createdBy\":", t->created_by);
	time_field(w, ",\"expiresAt\":", t->expires_at);
	time_field(w, ",\"revokedAt\":", t->revoked_at);
	if (t->revoked_by[0] != '\0')
		text_field(w, ",\"revokedBy\":", t->revoked_by);
	time_field(w, ",\"lastUsedAt\":", t->last_used_at);
	lifecycle_text(w, t->previous_expires_at, t->previous_last_used_at, t->suspended_at,
	               t->suspended_by, now);
	jsontext_raw(w, "}", 1);
}

void view_db_token_text(struct jsontext *w, const struct store_db_token *t, int64_t now)
{
	text_field(w, "{\"accountId\":", t->account_id);
	text_field(w, ",\"clusterId\":", t->cluster_id);
	text_field(w, ",\"id\":", t->id);
	text_field(w, ",\"description\":", t->description);
	put_key(w, ",\"permissions\":[");
	for (size_t i = 0; i < t->permission_count; i++) {
		char id[UUID_STR_SIZE];

		if (i > 0)
			jsontext_raw(w, ",", 1);
		dbtoken_permission_id(t->id, &t->permissions[i], id);
		text_field(w, "{\"id\":", id);
		text_field(w, ",\"action\":", db_action_name(t->permissions[i].action));
		text_field(w, ",\"resource\":", t->permissions[i].resource);
		jsontext_raw(w, "}", 1);
	}
	jsontext_raw(w, "]", 1);
	time_field(w, ",\"createdAt\":", t->created_at);
	time_field(w, ",\"expiresAt\":", t->expires_at);
	time_field(w, ",\"revokedAt\":", t->revoked_at);
	time_field(w, ",\"lastUsedAt\":", t->last_used_at);
	lifecycle_text(w, t->previous_expires_at, t->previous_last_used_at, t->suspended_at,
	               t->suspended_by, now);
	jsontext_raw(w, "}", 1);
}

bool view_database_text(struct jsontext *w, const struct store_database *d, bool with_id)
{
	text_field(w, "{\"accountId\":", d->account_id);
	text_field(w, ",\"clusterId\":", d->cluster_id);
	if (with_id) {
		put_key(w, ",\"id\":");
		jsontext_int(w, d->id);
	}
	text_field(w, ",\"name\":", d->name);
	put_key(w, ",\"maxTables\":");
	jsontext_int(w, d->max_tables);
	put_key(w, ",\"maxColumnsPerTable\":");
	jsontext_int(w, d->max_columns_per_table);
	put_key(w, ",\"retentionPeriod\":");
	jsontext_int(w, d->retention_period);
	if (d->partition_template[0] != '\0') {
		/* rare, and the one nested value: as the tree view writes it */
		json_t *tpl = json_loads(d->partition_template, JSON_REJECT_DUPLICATES, NULL);
		char *text = tpl ? json_dumps(tpl, JSON_COMPACT) : NULL;

		json_decref(tpl);
		if (text == NULL)
			return false;
		put_key(w, ",\"partitionTemplate\":");
		jsontext_lit(w, text);
		free(text);
	}
	jsontext_raw(w, "}", 1);
	return true;
}

const char *invite_status(const struct store_invite *i, int64_t now)
{
	if (i->accepted_at != 0)
		return "accepted";
	if (i->revoked_at != 0)
		return "revoked";
	/* A replaced invite had expired when the new one closed it, whatever the clock says now. */
	if (i->replaced_at != 0 || i->expires_at <= now)
		return "expired";
	return "pending";
}

json_t *view_invite(const struct store_invite *i, int64_t now)
{
	json_t *o = json_object();
	int bad = 0;

	if (o == NULL)
		return NULL;
	bad |= json_object_set_new(o, "id", json_string(i->id));
	bad |= json_object_set_new(o, "accountId", json_string(i->account_id));
	bad |= json_object_set_new(o, "email", json_text(i->email));
	bad |= json_object_set_new(o, "group", json_string(user_group_name(i->group)));
	bad |= json_object_set_new(o, "status", json_string(invite_status(i, now)));
	bad |= json_set_time(o, "invitedAt", i->invited_at);
	bad |= json_set_text(o, "invitedBy", i->invited_by);
	bad |= json_set_time(o, "expiresAt", i->expires_at);
	bad |= json_set_time(o, "acceptedAt", i->accepted_at);
	bad |= json_set_time(o, "revokedAt", i->revoked_at);
	return finish(o, bad);
}

void view_list_append(json_t **list, json_t *item)
{
	if (*list == NULL) {
		json_decref(item);
		return;
	}
	/* json_array_append_new releases item itself, also when it fails. */
	if (item == NULL || json_array_append_new(*list, item) != 0) {
		json_decref(*list);
		*list = NULL;
	}
}

json_t *view_audit_event(const struct store_audit_event *e)
{
	json_t *o = json_object();
	int bad = 0;

	if (o == NULL)
		return NULL;
	bad |= json_object_set_new(o, "id", json_integer(e->id));
	bad |= json_object_set_new(o, "accountId", json_string(e->account_id));
	bad |= json_set_time(o, "time", e->at);
	bad |= json_object_set_new(o, "actorType", json_string(e->actor_type));
	bad |= json_set_text(o, "actorId", e->actor_id);
	bad |= json_set_text(o, "credential", e->credential);
	bad |= json_object_set_new(o, "action", json_string(e->action));
	bad |= json_set_text(o, "objectType", e->object_type);
	bad |= json_set_text(o, "objectId", e->object_id);
	bad |= json_set_text(o, "clientAddress", e->client);
	bad |= json_object_set_new(o, "outcome", json_string(e->outcome));
	if (e->status != 0)
		bad |= json_object_set_new(o, "status", json_integer(e->status));
	bad |= json_set_text(o, "detail", e->detail);
	return finish(o, bad);
}
