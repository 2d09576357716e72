/*
 * token.c - `token create|list|get|update|revoke` (alias delete): database
 * tokens.
 *
 * influxctl's shapes (INFLUXCTL.md 7): the list table has ID and
 * DESCRIPTION; the JSON account_id, cluster_id, id, description,
 * permissions [{id, action, resource}], then created_at, expires_at and
 * revoked_at when set. A create prints like `management create`. The
 * description of `token create` is its argument, unlike `management create`.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctl.h"
#include "duration.h"
#include "output.h"
#include "timeutil.h"

static json_t *permissions_json(const json_t *perms)
{
	json_t *out = json_array(), *p;
	size_t i;

	json_array_foreach(perms, i, p)
	{
		json_t *o = json_object();

		if (!out || !o || out_set_string(o, "id", out_str(p, "id")) ||
		    out_set_string(o, "action", out_str(p, "action")) ||
		    out_set_string(o, "resource", out_str(p, "resource")) ||
		    json_array_append_new(out, o)) {
			json_decref(o);
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

static json_t *json(const json_t *t)
{
	json_t *o = json_object(), *perms = permissions_json(json_object_get(t, "permissions"));

	if (!o || !perms || out_set_string(o, "account_id", out_str(t, "accountId")) ||
	    out_set_string(o, "cluster_id", out_str(t, "clusterId")) ||
	    out_set_string(o, "id", out_str(t, "id")) ||
	    out_set_string(o, "description", out_str(t, "description")) ||
	    json_object_set_new(o, "permissions", perms) ||
	    out_set_timestamp(o, "created_at", out_str(t, "createdAt")) ||
	    out_set_timestamp(o, "expires_at", out_str(t, "expiresAt")) ||
	    out_set_timestamp(o, "revoked_at", out_str(t, "revokedAt")) || lifecycle_json(o, t)) {
		if (!o)
			json_decref(perms);
		json_decref(o);
		return NULL;
	}
	return o;
}

static int row(struct out_table *t, const json_t *tok)
{
	const char *cells[] = {out_str(tok, "id"), out_str(tok, "description")};

	return out_table_row(t, cells);
}

/* "read:mydb, write:*" */
static char *permissions_text(const json_t *perms)
{
	size_t len = 1, i;
	json_t *p;
	char *text;

	json_array_foreach(perms, i, p)
	{
		const char *action = out_str(p, "action"), *resource = out_str(p, "resource");

		len += (action ? strlen(action) : 0) + (resource ? strlen(resource) : 0) + 3;
	}
	text = calloc(1, len);
	if (!text)
		return NULL;
	json_array_foreach(perms, i, p)
	{
		const char *action = out_str(p, "action"), *resource = out_str(p, "resource");

		if (i)
			strcat(text, ", ");
		strcat(text, action ? action : "");
		strcat(text, ":");
		strcat(text, resource ? resource : "");
	}
	return text;
}

static int kv(struct out_table *t, const json_t *tok)
{
	char created[OUT_TIME_SIZE], expires[OUT_TIME_SIZE], revoked[OUT_TIME_SIZE];
	char *perms = permissions_text(json_object_get(tok, "permissions"));
	int rc;

	out_table_time(out_str(tok, "createdAt"), "", created);
	out_table_time(out_str(tok, "expiresAt"), "", expires);
	out_table_time(out_str(tok, "revokedAt"), "", revoked);
	rc = !perms || out_kv(t, "id", out_str(tok, "id")) ||
	     out_kv(t, "description", out_str(tok, "description")) ||
	     out_kv(t, "permissions", perms) || out_kv(t, "created at", created) ||
	     out_kv(t, "expires at", expires) || out_kv(t, "revoked at", revoked);
	free(perms);
	return rc ? -1 : 0;
}

/* The permissions of --read-database and --write-database, reads first, in the order given. */
static json_t *permission_flags(const struct ctl_args *a, bool *given)
{
	static const char *const actions[][2] = {{"read-database", "read"},
	                                         {"write-database", "write"}};
	json_t *perms = json_array();

	*given = false;
	for (size_t k = 0; perms && k < 2; k++) {
		size_t n;
		const char *const *names = args_list(a, actions[k][0], &n);

		for (size_t i = 0; i < n; i++) {
			json_t *p =
			    json_pack("{s:s, s:s}", "action", actions[k][1], "resource", names[i]);

			*given = true;
			if (!p || json_array_append_new(perms, p)) {
				json_decref(perms);
				return NULL;
			}
		}
	}
	return perms;
}

static int path_of(struct ctl *c, const char *id, char path[512])
{
	return ctl_path(c, true, path, 512, "tokens", id, NULL);
}

int ctl_token_create(struct ctl *c, const struct ctl_args *a)
{
	char path[512], expires[RFC3339_SIZE];
	json_t *body, *perms;
	bool given;
	int rc = args_format(c, a);

	if (rc != CTL_OK || (rc = args_instant(a, "expires-at", expires)) != CTL_OK)
		return rc;
	perms = permission_flags(a, &given);
	body =
	    perms ? json_pack("{s:s, s:o}", "description", a->pos[0], "permissions", perms) : NULL;
	if (!body || (expires[0] && json_object_set_new(body, "expiresAt", json_string(expires)))) {
		json_decref(body);
		out_error("out of memory (or a description that is not UTF-8 text)");
		return CTL_FAILED;
	}
	rc = CTL_FAILED;
	if (path_of(c, NULL, path) == 0)
		rc = management_create_secret(c, path, body, json);
	json_decref(body);
	return rc;
}

/* ---- lifecycle (mgmtd extensions, docs/tokens.md "Lifecycle") ---- */

int ctl_token_rotate(struct ctl *c, const struct ctl_args *a)
{
	char path[512];

	if (ctl_path(c, true, path, sizeof(path), "tokens", a->pos[0], "rotate", NULL) != 0)
		return CTL_FAILED;
	return management_rotate_secret(c, a, path, json);
}

static int token_verb(struct ctl *c, const struct ctl_args *a, const char *verb, const char *done)
{
	char path[512];

	if (ctl_path(c, true, path, sizeof(path), "tokens", a->pos[0], verb, NULL) != 0)
		return CTL_FAILED;
	return management_post_verb(c, path, done, "database token", a->pos[0]);
}

int ctl_token_suspend(struct ctl *c, const struct ctl_args *a)
{
	return token_verb(c, a, "suspend", "suspended");
}

int ctl_token_resume(struct ctl *c, const struct ctl_args *a)
{
	return token_verb(c, a, "resume", "resumed");
}

int ctl_token_list(struct ctl *c, const struct ctl_args *a)
{
	static const char *const headers[] = {"ID", "DESCRIPTION"};
	const char *sort = args_value(a, "sort");
	char path[512 + 32];
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if (path_of(c, NULL, path) != 0)
		return CTL_FAILED;
	if (args_bool(a, "include-revoked"))
		strcat(path, "?includeRevoked=true");
	if ((rc = args_expiring_within(a, path, sizeof(path))) != CTL_OK)
		return rc;
	/* sorted by id unless told otherwise, as influxctl's --sort default */
	return ctl_show_list(c, path, out_table_new(2, headers, NULL), row, json,
	                     sort && strcmp(sort, "description") == 0 ? "description" : "id");
}

int ctl_token_get(struct ctl *c, const struct ctl_args *a)
{
	char path[512];
	json_t *tok;
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if (path_of(c, a->pos[0], path) != 0 || ctl_api(c, "GET", path, NULL, &tok) != CTL_OK)
		return CTL_FAILED;
	if (out_str(tok, "revokedAt") && !args_bool(a, "include-revoked")) {
		out_error("database token %s is revoked; add --include-revoked to show it",
		          a->pos[0]);
		json_decref(tok);
		return CTL_FAILED;
	}
	rc = ctl_print_object(c, tok, kv, json);
	json_decref(tok);
	return rc;
}

int ctl_token_update(struct ctl *c, const struct ctl_args *a)
{
	const char *description = args_value(a, "description");
	char path[512];
	json_t *body, *perms;
	bool given;
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	perms = permission_flags(a, &given);
	if (perms && !given && !description) {
		json_decref(perms);
		return args_usage_error(a, "nothing to update: give --description, or "
		                           "--read-database/--write-database to replace the "
		                           "permissions");
	}
	body = json_object();
	if (!perms || !body ||
	    (description && json_object_set_new(body, "description", json_string(description))) ||
	    (given && json_object_set(body, "permissions", perms))) {
		json_decref(perms);
		json_decref(body);
		out_error("out of memory (or a description that is not UTF-8 text)");
		return CTL_FAILED;
	}
	json_decref(perms);
	rc = CTL_FAILED;
	if (path_of(c, a->pos[0], path) == 0)
		rc = ctl_show_object(c, "PATCH", path, body, kv, json);
	json_decref(body);
	return rc;
}

static int revoke_one(struct ctl *c, const char *id)
{
	char path[512];

	if (path_of(c, id, path) != 0)
		return CTL_FAILED;
	return ctl_api(c, "DELETE", path, NULL, NULL);
}

int ctl_token_revoke(struct ctl *c, const struct ctl_args *a)
{
	return ctl_for_each(c, a, "Revoke", "revoked", "database token",
	                    "It stops working at once; this cannot be undone.", revoke_one);
}
