/*
 * mgmt.c - management tokens come to life here.
 */
#include <sodium.h>
#include <string.h>

#include "mgmt.h"
#include "util.h"

enum store_status mgmt_token_store_secret(struct store *s, const struct token_key *key,
                                          const char *secret, const char *account_id,
                                          const char *description, int64_t expires_at,
                                          const char *created_by, int64_t now,
                                          struct store_mgmt_token *out)
{
	unsigned char hash[TOKEN_HASH_LEN];
	enum store_status st;

	memset(out, 0, sizeof(*out));
	uuid_v4_generate(out->id);
	if (!str_copy(out->account_id, sizeof(out->account_id), account_id) ||
	    !str_copy(out->description, sizeof(out->description), description) ||
	    !str_copy(out->created_by, sizeof(out->created_by), created_by))
		return STORE_ERROR;
	token_prefix(secret, out->prefix);
	out->created_at = now;
	out->expires_at = expires_at;

	token_hash(key, secret, hash);
	st = store_mgmt_token_insert(s, out, hash);
	sodium_memzero(hash, sizeof(hash));
	return st;
}

enum store_status mgmt_token_issue(struct store *s, const struct token_key *key,
                                   const char *account_id, const char *description,
                                   int64_t expires_at, const char *created_by, int64_t now,
                                   struct store_mgmt_token *out, char secret[TOKEN_MGMT_SIZE])
{
	enum store_status st;

	token_mgmt_generate(secret);
	st = mgmt_token_store_secret(s, key, secret, account_id, description, expires_at,
	                             created_by, now, out);
	if (st != STORE_OK)
		sodium_memzero(secret, TOKEN_MGMT_SIZE);
	return st;
}
