/*
 * seed.c - applying a seed file (CONTRACT 9) in one transaction.
 *
 * Each entry is either new (inserted), already there with the same content
 * (left alone, so a restart with the same seed is a no-op), or in conflict
 * (everything is rolled back and the entry is named).
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbtoken.h"
#include "identity.h"
#include "invite.h"
#include "log.h"
#include "mgmt.h"
#include "rules.h"
#include "seed.h"
#include "snapshot.h"
#include "timeutil.h"
#include "util.h"

/* Where we are in the seed, for messages: "users[2] (a@b.c)". */
struct seed_ctx {
	struct store *store;
	const struct token_key *key;
	int invite_days;
	const struct identity_issuers *issuers; /* NULL: none configured */
	int64_t now;
	char where[160];
	char *err;
	size_t errlen;
};

static int fail(struct seed_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct seed_ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "seed %s: %s", c->where, msg);
	return -1;
}

static int store_fail(struct seed_ctx *c, enum store_status st)
{
	return fail(c, "the store refused it (%s)", store_status_name(st));
}

static int check_fields(struct seed_ctx *c, json_t *entry, const char *const allowed[])
{
	const char *key;
	json_t *value;

	if (!json_is_object(entry))
		return fail(c, "each entry must be a JSON object");
	json_object_foreach(entry, key, value)
	{
		size_t i;

		(void)value;
		for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++)
			;
		if (allowed[i] == NULL)
			return fail(c, "unknown field \"%.64s\"", key);
	}
	return 0;
}

/* A string field; *out stays NULL when the field is absent and optional. */
static int get_string(struct seed_ctx *c, json_t *entry, const char *field, bool required,
                      const char **out)
{
	json_t *v = json_object_get(entry, field);

	*out = NULL;
	if (v == NULL) {
		if (required)
			return fail(c, "\"%s\" is required", field);
		return 0;
	}
	if (!json_is_string(v))
		return fail(c, "\"%s\" must be a string", field);
	*out = json_string_value(v);
	return 0;
}

static int get_uuid(struct seed_ctx *c, json_t *entry, const char *field, bool required,
                    const char **out)
{
	if (get_string(c, entry, field, required, out) != 0)
		return -1;
	if (*out && !uuid_is_valid(*out))
		return fail(c, "\"%s\" must be a lower-case UUIDv4", field);
	return 0;
}

static int need_account(struct seed_ctx *c, const char *account_id)
{
	struct store_account a;
	enum store_status st = store_account_get(c->store, account_id, &a);

	if (st == STORE_NOT_FOUND)
		return fail(c, "no account %s (list it under \"accounts\")", account_id);
	return st == STORE_OK ? 0 : store_fail(c, st);
}

static int seed_account(struct seed_ctx *c, json_t *e)
{
	static const char *const fields[] = {"id", "name", NULL};
	struct store_account a;
	const char *id, *name;
	char why[RULE_WHY_SIZE];
	enum store_status st;

	if (check_fields(c, e, fields) || get_uuid(c, e, "id", true, &id) ||
	    get_string(c, e, "name", true, &name))
		return -1;
	if (rule_display_name("name", name, why) != NULL)
		return fail(c, "%s", why);
	memset(&a, 0, sizeof(a));
	str_copy(a.id, sizeof(a.id), id);
	str_copy(a.name, sizeof(a.name), name);
	a.created_at = c->now;
	st = store_account_ensure(c->store, &a);
	if (st == STORE_CONFLICT)
		return fail(c, "account %s already exists with another name", id);
	return st == STORE_OK ? 0 : store_fail(c, st);
}

/* An optional integer field from min to max; *out keeps its default when absent. */
static int get_int(struct seed_ctx *c, json_t *entry, const char *field, int64_t min, int64_t max,
                   int64_t *out)
{
	json_t *v = json_object_get(entry, field);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return fail(c, "\"%s\" must be an integer from %lld to %lld", field, (long long)min,
		            (long long)max);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int seed_cluster(struct seed_ctx *c, json_t *e)
{
	static const char *const fields[] = {"id", "accountId", "name", "url", "category", NULL};
	struct store_cluster cl;
	const char *id, *account_id, *name, *url;
	char why[RULE_WHY_SIZE];
	enum store_status st;

	if (check_fields(c, e, fields) || get_uuid(c, e, "id", true, &id) ||
	    get_uuid(c, e, "accountId", true, &account_id) ||
	    get_string(c, e, "name", true, &name) || get_string(c, e, "url", false, &url) ||
	    need_account(c, account_id))
		return -1;
	memset(&cl, 0, sizeof(cl));
	/* 1 as the docs' one cluster shows it; the numbers' names are not documented */
	cl.category = 1;
	if (get_int(c, e, "category", 0, INT32_MAX, &cl.category))
		return -1;
	str_copy(cl.id, sizeof(cl.id), id);
	str_copy(cl.account_id, sizeof(cl.account_id), account_id);
	if (rule_display_name("name", name, why) != NULL)
		return fail(c, "%s", why);
	str_copy(cl.name, sizeof(cl.name), name);
	/* The real service's cluster URLs look like this; a seed may say otherwise. */
	if (url == NULL)
		snprintf(cl.url, sizeof(cl.url), "https://%s.a.influxdb.io", id);
	else if (!str_copy(cl.url, sizeof(cl.url), url))
		return fail(c, "\"url\" is too long");
	cl.created_at = c->now;
	st = store_cluster_ensure(c->store, &cl);
	if (st == STORE_CONFLICT)
		return fail(c, "cluster %s already exists with other content", id);
	return st == STORE_OK ? 0 : store_fail(c, st);
}

/*
 * Whether the stored user a is the seed's b. A seed entry without
 * idpSubject leaves the identity to the first sign-in, which links it
 * (auth.c): whatever identity a got that way still is b (of b's issuer,
 * when b names one), so that a restart with the same seed goes on.
 */
static bool same_identity(const struct store_user *a, const struct store_user *b)
{
	if (b->idp_subject[0] == '\0')
		return b->idp_issuer[0] == '\0' || strcmp(a->idp_issuer, b->idp_issuer) == 0;
	return strcmp(a->idp_subject, b->idp_subject) == 0 &&
	       strcmp(a->idp_issuer, b->idp_issuer) == 0;
}

static bool same_user(const struct store_user *a, const struct store_user *b)
{
	return a->group == b->group && same_identity(a, b) &&
	       strcmp(a->first_name, b->first_name) == 0 &&
	       strcmp(a->last_name, b->last_name) == 0 &&
	       (b->id[0] == '\0' || strcmp(a->id, b->id) == 0);
}

/*
 * u's issuer: idpIssuer by its URL or section name, or for a subject without
 * one the only configured issuer (CONTRACT 9: required with several).
 */
static int seed_identity(struct seed_ctx *c, const char *issuer, struct store_user *u)
{
	static const struct identity_issuers none;
	const struct identity_issuers *ids = c->issuers ? c->issuers : &none;
	char why[1536];

	if (issuer && identity_issuer_resolve(ids, issuer, u->idp_issuer, sizeof(u->idp_issuer),
	                                      why, sizeof(why)) != 0)
		return fail(c, "\"idpIssuer\": %s", why);
	if (!issuer && u->idp_subject[0] &&
	    identity_issuer_default(ids, u->idp_issuer, sizeof(u->idp_issuer), why, sizeof(why)) !=
	        0)
		return fail(c, "\"idpSubject\" needs an \"idpIssuer\": %s", why);
	return 0;
}

static int seed_user(struct seed_ctx *c, json_t *e)
{
	static const char *const fields[] = {"id",        "accountId",  "email",
	                                     "group",     "idpSubject", "idpIssuer",
	                                     "firstName", "lastName",   NULL};
	const char *id, *account_id, *email, *group, *subject, *issuer, *first, *last;
	struct store_user u, existing;
	char why[RULE_WHY_SIZE];
	enum store_status st;

	if (check_fields(c, e, fields) || get_uuid(c, e, "id", false, &id) ||
	    get_uuid(c, e, "accountId", true, &account_id) ||
	    get_string(c, e, "email", true, &email) || get_string(c, e, "group", true, &group) ||
	    get_string(c, e, "idpSubject", false, &subject) ||
	    get_string(c, e, "idpIssuer", false, &issuer) ||
	    get_string(c, e, "firstName", false, &first) ||
	    get_string(c, e, "lastName", false, &last) || need_account(c, account_id))
		return -1;
	if (rule_email("email", email, why) ||
	    (subject && rule_idp_subject("idpSubject", subject, why)) ||
	    (first && rule_person_name("firstName", first, why)) ||
	    (last && rule_person_name("lastName", last, why)))
		return fail(c, "%s", why);
	memset(&u, 0, sizeof(u));
	if (user_group_parse(group, &u.group) != 0)
		return fail(c, "\"group\" must be admin, member or auditor");
	str_copy(u.account_id, sizeof(u.account_id), account_id);
	str_copy(u.email, sizeof(u.email), email);
	str_copy(u.idp_subject, sizeof(u.idp_subject), subject ? subject : "");
	str_copy(u.first_name, sizeof(u.first_name), first ? first : "");
	str_copy(u.last_name, sizeof(u.last_name), last ? last : "");
	str_copy(u.id, sizeof(u.id), id ? id : "");
	if (seed_identity(c, issuer, &u) != 0)
		return -1;

	st = store_user_by_email(c->store, account_id, email, &existing);
	if (st == STORE_OK)
		return same_user(&existing, &u)
		           ? 0
		           : fail(c, "a user with this email exists with other content");
	if (st != STORE_NOT_FOUND)
		return store_fail(c, st);
	if (u.id[0] == '\0')
		uuid_v4_generate(u.id);
	u.created_at = c->now;
	st = store_user_insert(c->store, &u);
	if (st == STORE_CONFLICT)
		return fail(c, "its id, or its idpSubject at its idpIssuer, is already taken by "
		               "another user");
	return st == STORE_OK ? 0 : store_fail(c, st);
}

/* createdBy names a user of the account by email or by id. */
static int find_creator(struct seed_ctx *c, const char *account_id, const char *who,
                        struct store_user *out)
{
	enum store_status st = uuid_is_valid(who)
	                           ? store_user_get(c->store, account_id, who, out)
	                           : store_user_by_email(c->store, account_id, who, out);

	if (st == STORE_NOT_FOUND)
		return fail(c, "createdBy \"%.64s\" is not a user of account %s", who, account_id);
	return st == STORE_OK ? 0 : store_fail(c, st);
}

static int seed_mgmt_token(struct seed_ctx *c, json_t *e)
{
	static const char *const fields[] = {"accountId", "description", "accessToken",
	                                     "createdBy", "expiresAt",   NULL};
	const char *account_id, *description, *secret, *created_by, *expires;
	struct store_mgmt_token t, existing;
	char why[RULE_WHY_SIZE];
	unsigned char hash[TOKEN_HASH_LEN];
	struct store_user creator;
	int64_t expires_at = 0;
	enum store_status st;

	if (check_fields(c, e, fields) || get_uuid(c, e, "accountId", true, &account_id) ||
	    get_string(c, e, "description", true, &description) ||
	    get_string(c, e, "accessToken", true, &secret) ||
	    get_string(c, e, "createdBy", true, &created_by) ||
	    get_string(c, e, "expiresAt", false, &expires) || need_account(c, account_id))
		return -1;
	if (!token_mgmt_well_formed(secret))
		return fail(c, "\"accessToken\" is not a well-formed management token "
		               "(M.V1. + 49 characters with a valid checksum)");
	if (rule_description("description", description, why) != NULL)
		return fail(c, "%s", why);
	/* A seed may hold an already expired token on purpose, to test expiry. */
	if (expires && time_parse_rfc3339(expires, &expires_at) != 0)
		return fail(c, "\"expiresAt\" must be an RFC 3339 date-time");
	if (find_creator(c, account_id, created_by, &creator) != 0)
		return -1;

	token_hash(c->key, secret, hash);
	st = store_mgmt_token_by_hash(c->store, hash, &existing);
	sodium_memzero(hash, sizeof(hash));
	if (st == STORE_OK) {
		if (strcmp(existing.account_id, account_id) == 0 &&
		    strcmp(existing.description, description) == 0 &&
		    existing.expires_at == expires_at &&
		    strcmp(existing.created_by, creator.id) == 0)
			return 0;
		return fail(c, "this accessToken is already stored with other content");
	}
	if (st != STORE_NOT_FOUND)
		return store_fail(c, st);
	st = mgmt_token_store_secret(c->store, c->key, secret, account_id, description, expires_at,
	                             creator.id, c->now, &t);
	return st == STORE_OK ? 0 : store_fail(c, st);
}

/* The cluster must exist and belong to the account. */
static int need_cluster(struct seed_ctx *c, const char *account_id, const char *cluster_id)
{
	struct store_cluster cl;
	enum store_status st = store_cluster_get(c->store, account_id, cluster_id, &cl);

	if (st == STORE_NOT_FOUND)
		return fail(c, "no cluster %s in account %s (list it under \"clusters\")",
		            cluster_id, account_id);
	return st == STORE_OK ? 0 : store_fail(c, st);
}

static int seed_database(struct seed_ctx *c, json_t *e)
{
	static const char *const fields[] = {
	    "accountId",       "clusterId",         "name", "maxTables", "maxColumnsPerTable",
	    "retentionPeriod", "partitionTemplate", NULL};
	const char *account_id, *cluster_id, *name, *problem;
	struct store_database d, existing;
	char why[RULE_WHY_SIZE];
	json_t *tpl;
	enum store_status st;

	memset(&d, 0, sizeof(d));
	d.max_tables = RULE_DB_DEFAULT_MAX_TABLES;
	d.max_columns_per_table = RULE_DB_DEFAULT_MAX_COLUMNS;
	if (check_fields(c, e, fields) || get_uuid(c, e, "accountId", true, &account_id) ||
	    get_uuid(c, e, "clusterId", true, &cluster_id) ||
	    get_string(c, e, "name", true, &name) || need_account(c, account_id) ||
	    need_cluster(c, account_id, cluster_id) ||
	    get_int(c, e, "maxTables", 1, RULE_INT32_MAX, &d.max_tables) ||
	    get_int(c, e, "maxColumnsPerTable", 1, RULE_INT32_MAX, &d.max_columns_per_table) ||
	    get_int(c, e, "retentionPeriod", 0, INT64_MAX, &d.retention_period))
		return -1;
	if ((problem = rule_database_name(name)) != NULL)
		return fail(c, "%s", problem);
	tpl = json_object_get(e, "partitionTemplate");
	if (tpl != NULL && !json_is_null(tpl)) {
		char *text;
		bool fits;

		if (rule_partition_template(tpl, why) != NULL)
			return fail(c, "%s", why);
		text = json_dumps(tpl, JSON_COMPACT);
		if (text == NULL)
			return fail(c, "out of memory");
		fits = str_copy(d.partition_template, sizeof(d.partition_template), text);
		free(text);
		if (!fits)
			return fail(c, "\"partitionTemplate\" is too large");
	}
	str_copy(d.account_id, sizeof(d.account_id), account_id);
	str_copy(d.cluster_id, sizeof(d.cluster_id), cluster_id);
	str_copy(d.name, sizeof(d.name), name);

	st = store_database_get(c->store, account_id, cluster_id, name, &existing);
	if (st == STORE_OK)
		return existing.max_tables == d.max_tables &&
		               existing.max_columns_per_table == d.max_columns_per_table &&
		               existing.retention_period == d.retention_period &&
		               strcmp(existing.partition_template, d.partition_template) == 0
		           ? 0
		           : fail(c, "a database with this name exists with other content");
	if (st != STORE_NOT_FOUND)
		return store_fail(c, st);
	d.created_at = c->now;
	st = store_database_insert(c->store, &d);
	return st == STORE_OK ? 0 : store_fail(c, st);
}

static bool same_db_token(const struct store_db_token *a, const struct store_db_token *b)
{
	if (strcmp(a->account_id, b->account_id) != 0 ||
	    strcmp(a->cluster_id, b->cluster_id) != 0 ||
	    strcmp(a->description, b->description) != 0 || a->expires_at != b->expires_at ||
	    a->permission_count != b->permission_count)
		return false;
	for (size_t i = 0; i < a->permission_count; i++)
		if (a->permissions[i].action != b->permissions[i].action ||
		    strcmp(a->permissions[i].resource, b->permissions[i].resource) != 0)
			return false;
	return true;
}

static int seed_db_token(struct seed_ctx *c, json_t *e)
{
	static const char *const fields[] = {"accountId",   "clusterId",   "description",
	                                     "accessToken", "permissions", "expiresAt",
	                                     NULL};
	const char *account_id, *cluster_id, *description, *secret, *expires;
	struct store_db_token *t = NULL, *existing = NULL;
	unsigned char hash[TOKEN_HASH_LEN];
	char why[RULE_WHY_SIZE];
	json_t *perms;
	enum store_status st;
	size_t missing = 0;
	int rc = -1;

	if (check_fields(c, e, fields) || get_uuid(c, e, "accountId", true, &account_id) ||
	    get_uuid(c, e, "clusterId", true, &cluster_id) ||
	    get_string(c, e, "description", true, &description) ||
	    get_string(c, e, "accessToken", true, &secret) ||
	    get_string(c, e, "expiresAt", false, &expires) || need_account(c, account_id) ||
	    need_cluster(c, account_id, cluster_id))
		return -1;
	if (!token_db_well_formed(secret))
		return fail(c, "\"accessToken\" is not a well-formed database token "
		               "(apiv1_ + 86 base64url characters)");
	if (rule_description("description", description, why) != NULL)
		return fail(c, "%s", why);
	t = calloc(1, sizeof(*t));
	existing = calloc(1, sizeof(*existing));
	if (t == NULL || existing == NULL) {
		fail(c, "out of memory");
		goto out;
	}
	/* A seed may hold an already expired token on purpose, to test expiry. */
	if (expires && time_parse_rfc3339(expires, &t->expires_at) != 0) {
		fail(c, "\"expiresAt\" must be an RFC 3339 date-time");
		goto out;
	}
	str_copy(t->account_id, sizeof(t->account_id), account_id);
	str_copy(t->cluster_id, sizeof(t->cluster_id), cluster_id);
	str_copy(t->description, sizeof(t->description), description);
	perms = json_object_get(e, "permissions");
	if (perms != NULL && rule_permissions(perms, t->permissions, &t->permission_count, why)) {
		fail(c, "%s", why);
		goto out;
	}
	st = dbtoken_check_resources(c->store, t, &missing);
	if (st == STORE_NOT_FOUND) {
		fail(c,
		     "permissions name the database \"%s\", which does not exist in cluster %s "
		     "(list it under \"databases\")",
		     t->permissions[missing].resource, cluster_id);
		goto out;
	}
	if (st != STORE_OK) {
		store_fail(c, st);
		goto out;
	}

	token_hash(c->key, secret, hash);
	st = store_db_token_by_hash(c->store, hash, existing);
	sodium_memzero(hash, sizeof(hash));
	if (st == STORE_OK) {
		/* Already there (perhaps revoked since: it stays so). */
		rc = same_db_token(existing, t)
		         ? 0
		         : fail(c, "this accessToken is already stored with other content");
		goto out;
	}
	if (st != STORE_NOT_FOUND) {
		store_fail(c, st);
		goto out;
	}
	t->created_at = c->now;
	st = dbtoken_store_secret(c->store, c->key, secret, t);
	rc = st == STORE_OK ? 0 : store_fail(c, st);
out:
	free(t);
	free(existing);
	return rc;
}

/*
 * An invite is made once: when the account already has one for the email
 * with the same group, in whatever state (pending, accepted since, expired),
 * the entry is done; a restart does not invite again.
 */
static int seed_invite(struct seed_ctx *c, json_t *e)
{
	static const char *const fields[] = {"accountId", "email", "group", NULL};
	const char *account_id, *email, *group_name;
	struct store_invite existing, made;
	enum user_group group;
	enum store_status st;
	char why[256];

	if (check_fields(c, e, fields) || get_uuid(c, e, "accountId", true, &account_id) ||
	    get_string(c, e, "email", true, &email) ||
	    get_string(c, e, "group", true, &group_name) || need_account(c, account_id))
		return -1;
	if (user_group_parse(group_name, &group) != 0)
		return fail(c, "\"group\" must be admin, member or auditor");
	st = store_invite_by_email(c->store, account_id, email, &existing);
	if (st == STORE_OK)
		return existing.group == group
		           ? 0
		           : fail(c, "an invite for this email exists with another group");
	if (st != STORE_NOT_FOUND)
		return store_fail(c, st);
	if (invite_create(c->store, account_id, email, group, "", c->now, c->invite_days, &made,
	                  &st, why, sizeof(why)) != 0)
		return fail(c, "%s", why);
	return 0;
}

struct section {
	const char *name;
	int (*apply)(struct seed_ctx *c, json_t *entry);
	const char *(*label)(json_t *entry);
};

static const char *label_id(json_t *e)
{
	return json_string_value(json_object_get(e, "id"));
}

static const char *label_email(json_t *e)
{
	return json_string_value(json_object_get(e, "email"));
}

static const char *label_name(json_t *e)
{
	return json_string_value(json_object_get(e, "name"));
}

static const char *label_description(json_t *e)
{
	return json_string_value(json_object_get(e, "description"));
}

/*
 * Order matters: accounts before what belongs to them, users before tokens,
 * databases before the database tokens that name them.
 */
static const struct section sections[] = {
    {"accounts", seed_account, label_id},
    {"clusters", seed_cluster, label_id},
    {"users", seed_user, label_email},
    {"managementTokens", seed_mgmt_token, label_description},
    {"databases", seed_database, label_name},
    {"databaseTokens", seed_db_token, label_description},
    {"invites", seed_invite, label_email},
};

static int apply_all(struct seed_ctx *c, json_t *root)
{
	const char *key;
	json_t *value;

	snprintf(c->where, sizeof(c->where), "file");
	if (!json_is_object(root))
		return fail(c, "the seed must be a JSON object");
	json_object_foreach(root, key, value)
	{
		size_t i;

		if (strcmp(key, "snapshot") == 0) {
			if (!json_is_object(value))
				return fail(c, "\"snapshot\" must be an object");
			continue;
		}
		for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
			if (strcmp(sections[i].name, key) == 0)
				break;
		if (i == sizeof(sections) / sizeof(sections[0]))
			return fail(c, "unknown section \"%.64s\"", key);
		if (!json_is_array(value))
			return fail(c, "\"%s\" must be an array", key);
		if (sections[i].apply == NULL && json_array_size(value) > 0)
			return fail(c, "\"%s\" is not supported by this version of mgmtd yet", key);
	}
	/* A snapshot's rows first: the entries after it may name what it holds. */
	if ((value = json_object_get(root, "snapshot")) != NULL) {
		bool loaded;

		if (snapshot_load(c->store, c->key, value, &loaded, c->err, c->errlen) != 0)
			return -1;
		if (!loaded)
			log_info("seed: the snapshot's accounts are in the store already; "
			         "not loaded again");
	}
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		json_t *list = json_object_get(root, sections[i].name);
		size_t idx;
		json_t *entry;

		if (list == NULL || sections[i].apply == NULL)
			continue;
		json_array_foreach(list, idx, entry)
		{
			const char *label = json_is_object(entry) ? sections[i].label(entry) : NULL;
			char why[RULE_WHY_SIZE];

			/* A label that is not text is the entry's fault, never part of the message.
			 */
			if (label && rule_text("label", label, why) == NULL)
				snprintf(c->where, sizeof(c->where), "%s[%zu] (%.64s)",
				         sections[i].name, idx, label);
			else
				snprintf(c->where, sizeof(c->where), "%s[%zu]", sections[i].name,
				         idx);
			if (sections[i].apply(c, entry) != 0)
				return -1;
		}
	}
	return 0;
}

/*
 * Parses and applies text in one transaction, after emptying the store when clear is
 * set, or after deleting the account replace when it is not NULL.
 */
static int apply_text(struct store *s, const struct token_key *key, int invite_days,
                      const struct identity_issuers *issuers, const char *text, size_t len,
                      bool clear, const char *replace, char *err, size_t errlen)
{
	struct seed_ctx c = {.store = s,
	                     .key = key,
	                     .invite_days = invite_days,
	                     .issuers = issuers,
	                     .now = time_now_ms(),
	                     .err = err,
	                     .errlen = errlen};
	json_error_t jerr;
	enum store_status st;
	json_t *root = NULL;
	int rc;

	if (text) {
		root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
		if (root == NULL) {
			snprintf(err, errlen, "seed: malformed JSON at line %d, column %d: %s",
			         jerr.line, jerr.column, jerr.text);
			return -1;
		}
	}
	st = store_tx_begin(s);
	if (st != STORE_OK) {
		json_decref(root);
		snprintf(err, errlen, "seed: cannot begin a transaction (%s)",
		         store_status_name(st));
		return -1;
	}
	rc = 0;
	if (clear && (st = store_clear_all(s)) != STORE_OK) {
		snprintf(err, errlen, "seed: cannot empty the store (%s)", store_status_name(st));
		rc = -1;
	}
	if (replace && (st = store_account_delete(s, replace)) != STORE_OK &&
	    st != STORE_NOT_FOUND) {
		snprintf(err, errlen, "seed: cannot remove account %s (%s)", replace,
		         store_status_name(st));
		rc = -1;
	}
	if (rc == 0 && root)
		rc = apply_all(&c, root);
	if (rc == 0) {
		st = store_tx_commit(s);
		if (st != STORE_OK) {
			snprintf(err, errlen, "seed: cannot commit (%s)", store_status_name(st));
			rc = -1;
		}
	}
	if (rc != 0)
		store_tx_rollback(s);
	json_decref(root);
	return rc;
}

int seed_apply_text(struct store *s, const struct token_key *key, int invite_days,
                    const struct identity_issuers *issuers, const char *text, size_t len, char *err,
                    size_t errlen)
{
	if (!text) {
		snprintf(err, errlen, "seed: no text");
		return -1;
	}
	return apply_text(s, key, invite_days, issuers, text, len, false, NULL, err, errlen);
}

int seed_reset_text(struct store *s, const struct token_key *key, int invite_days,
                    const struct identity_issuers *issuers, const char *text, size_t len, char *err,
                    size_t errlen)
{
	return apply_text(s, key, invite_days, issuers, text, len, true, NULL, err, errlen);
}

int seed_replace_account_text(struct store *s, const struct token_key *key, int invite_days,
                              const struct identity_issuers *issuers, const char *account_id,
                              const char *text, size_t len, char *err, size_t errlen)
{
	return apply_text(s, key, invite_days, issuers, text, len, false, account_id, err, errlen);
}

int seed_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t used = 0, cap = 0;

	*text = NULL;
	*len = 0;
	if (f == NULL) {
		snprintf(err, errlen, "seed %s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t got;

		if (cap - used < 4096) {
			char *grown;

			if (cap > 64u * 1024 * 1024) {
				snprintf(err, errlen, "seed %s: larger than 64 MiB", path);
				goto fail;
			}
			cap = cap ? cap * 2 : 8192;
			/* not realloc: the old buffer may hold secrets and must be wiped */
			grown = malloc(cap);
			if (grown == NULL) {
				snprintf(err, errlen, "seed %s: out of memory", path);
				goto fail;
			}
			if (buf) {
				memcpy(grown, buf, used);
				sodium_memzero(buf, used);
				free(buf);
			}
			buf = grown;
		}
		got = fread(buf + used, 1, cap - used - 1, f);
		used += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "seed %s: read error", path);
		goto fail;
	}
	fclose(f);
	buf[used] = '\0';
	*text = buf;
	*len = used;
	return 0;
fail:
	if (buf) {
		sodium_memzero(buf, used);
		free(buf);
	}
	fclose(f);
	return -1;
}

void seed_text_free(char *text, size_t len)
{
	if (!text)
		return;
	sodium_memzero(text, len);
	free(text);
}

int seed_apply_file(struct store *s, const struct token_key *key, int invite_days,
                    const struct identity_issuers *issuers, const char *path, char *err,
                    size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	if (seed_read_file(path, &text, &len, err, errlen) != 0)
		return -1;
	rc = seed_apply_text(s, key, invite_days, issuers, text, len, err, errlen);
	seed_text_free(text, len);
	return rc;
}
