/*
 * management.c - `management create|list|revoke`: management tokens; and the
 * mgmtd extensions `management rotate|suspend|resume`.
 *
 * influxctl's shapes (INFLUXCTL.md 8): the list table has ID, DESCRIPTION,
 * PREFIX, CREATED AT, EXPIRES AT, REVOKED AT, where "never" and "not
 * revoked" print as the Unix epoch (a nil protobuf Timestamp); the JSON keys
 * come in the order id, account_id, token_prefix, expires_at, revoked_at,
 * created_at, description, created_by. A create prints a key/value table,
 * two warn lines on stderr, and the secret alone on the last line of stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctl.h"
#include "duration.h"
#include "output.h"
#include "timeutil.h"

int lifecycle_json(json_t *o, const json_t *rest)
{
	return out_set_timestamp(o, "suspended_at", out_str(rest, "suspendedAt")) ||
	       out_set_timestamp(o, "previous_secret_expires_at",
	                         out_str(rest, "previousSecretExpiresAt"));
}

static json_t *json(const json_t *t)
{
	json_t *o = json_object();

	if (!o || out_set_string(o, "id", out_str(t, "id")) ||
	    out_set_string(o, "account_id", out_str(t, "accountId")) ||
	    out_set_string(o, "token_prefix", out_str(t, "tokenPrefix")) ||
	    out_set_timestamp(o, "expires_at", out_str(t, "expiresAt")) ||
	    out_set_timestamp(o, "revoked_at", out_str(t, "revokedAt")) ||
	    out_set_timestamp(o, "created_at", out_str(t, "createdAt")) ||
	    out_set_string(o, "description", out_str(t, "description")) ||
	    out_set_string(o, "created_by", out_str(t, "createdBy")) || lifecycle_json(o, t)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int row(struct out_table *t, const json_t *m)
{
	char created[OUT_TIME_SIZE], expires[OUT_TIME_SIZE], revoked[OUT_TIME_SIZE];
	const char *cells[] = {out_str(m, "id"),
	                       out_str(m, "description"),
	                       out_str(m, "tokenPrefix"),
	                       created,
	                       expires,
	                       revoked};

	out_table_time(out_str(m, "createdAt"), OUT_EPOCH, created);
	out_table_time(out_str(m, "expiresAt"), OUT_EPOCH, expires);
	out_table_time(out_str(m, "revokedAt"), OUT_EPOCH, revoked);
	return out_table_row(t, cells);
}

/* The table or JSON of a created token, the warnings, then the secret; takes json_out. */
static int print_created(struct ctl *c, const json_t *rest, json_t *json_out, const char *secret)
{
	char expires[OUT_TIME_SIZE], revoked[OUT_TIME_SIZE];
	struct out_table *t = NULL;
	int rc = CTL_FAILED;

	if (c->json) {
		json_t *copy = json_string(secret);

		if (!json_out || json_object_set_new(json_out, "access_token", copy))
			goto oom;
		out_json_print(stdout, json_out);
		/* printed: wiped from memory */
		sodium_memzero((char *)json_string_value(copy), json_string_length(copy));
	} else {
		t = out_kv_new();
		out_table_time(out_str(rest, "expiresAt"), "", expires);
		out_table_time(out_str(rest, "revokedAt"), "", revoked);
		if (!t || out_kv(t, "id", out_str(rest, "id")) ||
		    out_kv(t, "description", out_str(rest, "description")) ||
		    out_kv(t, "expires at", expires) || out_kv(t, "revoked at", revoked))
			goto oom;
		out_table_print(stdout, t);
	}
	out_warn("please copy the token and store in a safe place");
	out_warn("this is the *only time* you will see the token");
	if (!c->json) {
		/* the server's text like any other: a real token has nothing to escape */
		char *shown = out_escape(secret);

		if (!shown)
			goto oom;
		printf("%s\n", shown);
		fflush(stdout);
		sodium_memzero(shown, strlen(shown));
		free(shown);
	}
	rc = CTL_OK;
	goto out;
oom:
	out_error("out of memory");
out:
	out_table_free(t);
	json_decref(json_out);
	return rc;
}

/* POSTs body to path and prints the secret answered; a rotation also says how long the last
 * one lives. */
static int post_secret(struct ctl *c, const char *path, const json_t *body, ctl_json_fn json_of,
                       bool rotation)
{
	json_t *created = NULL, *secret;
	int rc = CTL_FAILED;

	if (ctl_api(c, "POST", path, body, &created) != CTL_OK)
		return CTL_FAILED;
	secret = json_object_get(created, "accessToken");
	if (!json_is_string(secret)) {
		out_error("mgmtd's answer holds no token");
	} else {
		client_add_secret(c, json_string_value(secret));
		if (rotation && out_str(created, "previousSecretExpiresAt"))
			out_warn("the previous token keeps working until %s, then is refused",
			         out_str(created, "previousSecretExpiresAt"));
		else if (rotation)
			out_warn("the previous token no longer works");
		rc = print_created(c, created, json_of(created), json_string_value(secret));
		sodium_memzero((char *)json_string_value(secret), json_string_length(secret));
	}
	json_decref(created);
	return rc;
}

int management_create_secret(struct ctl *c, const char *path, const json_t *body,
                             ctl_json_fn json_of)
{
	return post_secret(c, path, body, json_of, false);
}

int management_rotate_secret(struct ctl *c, const struct ctl_args *a, const char *path,
                             ctl_json_fn json_of)
{
	const char *grace = args_value(a, "grace");
	char err[160];
	int64_t ns = 0;
	json_t *body;
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if (grace && duration_parse(grace, &ns, err, sizeof(err)) != 0)
		return args_usage_error(a, "--grace: %s", err);
	/* whole seconds, as the API takes them; the server checks the maximum */
	if (grace && ns % NS_PER_SECOND != 0)
		return args_usage_error(a, "--grace takes whole seconds, such as 90s, 1h or 7d");
	body = json_object();
	if (!body || (grace && json_object_set_new(body, "graceSeconds",
	                                           json_integer(ns / NS_PER_SECOND)))) {
		json_decref(body);
		out_error("out of memory");
		return CTL_FAILED;
	}
	rc = post_secret(c, path, body, json_of, true);
	json_decref(body);
	return rc;
}

/* The verbs after a token's path that answer the token: "suspend", "resume". */
int management_post_verb(struct ctl *c, const char *path, const char *done, const char *what,
                         const char *id)
{
	if (ctl_api(c, "POST", path, NULL, NULL) != CTL_OK)
		return CTL_FAILED;
	ctl_say_done(done, what, id);
	return CTL_OK;
}

int ctl_management_create(struct ctl *c, const struct ctl_args *a)
{
	const char *description = args_value(a, "description");
	char path[512], expires[RFC3339_SIZE], now[RFC3339_SIZE], generated[64 + RFC3339_SIZE];
	json_t *body;
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	/* A given description is never empty (influxctl 2.10.0); none at all is the docs'
	 * "management create" example, and the API needs one: say where the token came from
	 * (docs/mgmtctl.md). */
	if (description && !description[0])
		return args_usage_error(a, "--description must not be empty: say what the token is "
		                           "for, or leave the flag out");
	if ((rc = args_instant(a, "expires-at", expires)) != CTL_OK)
		return rc;
	if (!description) {
		time_format_rfc3339(time_now_ms(), now);
		snprintf(generated, sizeof(generated), "created by mgmtctl at %.19sZ", now);
		description = generated;
	}
	body = json_pack("{s:s}", "description", description);
	if (!body || (expires[0] && json_object_set_new(body, "expiresAt", json_string(expires)))) {
		json_decref(body);
		out_error("out of memory (or a description that is not UTF-8 text)");
		return CTL_FAILED;
	}
	rc = CTL_FAILED;
	if (ctl_path(c, false, path, sizeof(path), "management", "tokens", NULL) == 0)
		rc = management_create_secret(c, path, body, json);
	json_decref(body);
	return rc;
}

/* ---- list ---- */

int ctl_management_list(struct ctl *c, const struct ctl_args *a)
{
	static const char *const headers[] = {"ID",         "DESCRIPTION", "PREFIX",
	                                      "CREATED AT", "EXPIRES AT",  "REVOKED AT"};
	static const char *const sorts[][2] = {
	    {"created", "createdAt"},       {"id", "id"},
	    {"description", "description"}, {"prefix", "tokenPrefix"},
	    {"expires", "expiresAt"},       {"revoked", "revokedAt"},
	};
	const char *sort = args_value(a, "sort"), *key = NULL;
	char path[512];
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	for (size_t i = 0; sort && i < sizeof(sorts) / sizeof(sorts[0]); i++) {
		if (strcmp(sort, sorts[i][0]) == 0)
			key = sorts[i][1];
	}
	if (ctl_path(c, false, path, sizeof(path), "management", "tokens", NULL) != 0)
		return CTL_FAILED;
	if ((rc = args_expiring_within(a, path, sizeof(path))) != CTL_OK)
		return rc;
	/* the API lists oldest first: "created", the default, needs no sorting */
	return ctl_show_list(c, path, out_table_new(6, headers, NULL), row, json, key);
}

static int revoke_one(struct ctl *c, const char *id)
{
	char path[512];

	if (ctl_path(c, false, path, sizeof(path), "management", "tokens", id, NULL) != 0)
		return CTL_FAILED;
	return ctl_api(c, "DELETE", path, NULL, NULL);
}

int ctl_management_revoke(struct ctl *c, const struct ctl_args *a)
{
	return ctl_for_each(c, a, "Revoke", "revoked", "management token",
	                    "It stops working at once; this cannot be undone.", revoke_one);
}

/* ---- lifecycle (mgmtd extensions, docs/tokens.md "Lifecycle") ---- */

int ctl_management_rotate(struct ctl *c, const struct ctl_args *a)
{
	char path[512];

	if (ctl_path(c, false, path, sizeof(path), "management", "tokens", a->pos[0], "rotate",
	             NULL) != 0)
		return CTL_FAILED;
	return management_rotate_secret(c, a, path, json);
}

static int management_verb(struct ctl *c, const struct ctl_args *a, const char *verb,
                           const char *done)
{
	char path[512];

	if (ctl_path(c, false, path, sizeof(path), "management", "tokens", a->pos[0], verb, NULL) !=
	    0)
		return CTL_FAILED;
	return management_post_verb(c, path, done, "management token", a->pos[0]);
}

int ctl_management_suspend(struct ctl *c, const struct ctl_args *a)
{
	return management_verb(c, a, "suspend", "suspended");
}

int ctl_management_resume(struct ctl *c, const struct ctl_args *a)
{
	return management_verb(c, a, "resume", "resumed");
}
