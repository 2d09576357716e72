/*
 * dbtoken.c - database tokens come to life here.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "dbtoken.h"
#include "util.h"

enum store_status dbtoken_store_secret(struct store *s, const struct token_key *key,
                                       const char *secret, struct store_db_token *t)
{
	unsigned char hash[TOKEN_HASH_LEN];
	enum store_status st;

	uuid_v4_generate(t->id);
	token_hash(key, secret, hash);
	st = store_db_token_insert(s, t, hash);
	sodium_memzero(hash, sizeof(hash));
	return st;
}

void dbtoken_permission_id(const char *token_id, const struct store_db_permission *p,
                           char out[UUID_STR_SIZE])
{
	/* "mgmtd/permission" NUL token id NUL action NUL resource: NULs keep the parts apart,
	 * and no part holds one. */
	static const char domain[] = "mgmtd/permission";
	char name[sizeof(domain) + UUID_STR_SIZE + 8 + sizeof(p->resource)];
	const char *action = db_action_name(p->action);
	size_t n = 0;

	memcpy(name + n, domain, sizeof(domain));
	n += sizeof(domain);
	n += (size_t)snprintf(name + n, sizeof(name) - n, "%s", token_id) + 1;
	n += (size_t)snprintf(name + n, sizeof(name) - n, "%s", action ? action : "") + 1;
	n += (size_t)snprintf(name + n, sizeof(name) - n, "%s", p->resource);
	uuid_v8_derive(name, n < sizeof(name) ? n : sizeof(name), out);
}

enum store_status dbtoken_issue(struct store *s, const struct token_key *key,
                                struct store_db_token *t, char secret[TOKEN_DB_SIZE])
{
	enum store_status st;

	token_db_generate(secret);
	st = dbtoken_store_secret(s, key, secret, t);
	if (st != STORE_OK)
		sodium_memzero(secret, TOKEN_DB_SIZE);
	return st;
}

enum store_status dbtoken_check_resources(struct store *s, const struct store_db_token *t,
                                          size_t *missing)
{
	struct store_database db;
	enum store_status st;

	for (size_t i = 0; i < t->permission_count; i++) {
		if (strcmp(t->permissions[i].resource, "*") == 0)
			continue;
		st = store_database_get(s, t->account_id, t->cluster_id, t->permissions[i].resource,
		                        &db);
		if (st == STORE_NOT_FOUND)
			*missing = i;
		if (st != STORE_OK)
			return st;
	}
	return STORE_OK;
}
