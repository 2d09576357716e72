/*
 * mgmt.h - issuing management tokens, shared by the REST handler and the
 * offline `mgmtd management create`.
 */
#ifndef MGMTD_MGMT_H
#define MGMTD_MGMT_H

#include <stdint.h>

#include "store.h"
#include "token.h"

/*
 * Generates a secret, stores its keyed hash with the token's fields, and
 * fills *out and secret. The caller shows the secret once and then wipes it
 * (sodium_memzero). description and expires_at must have passed rules.h.
 */
enum store_status mgmt_token_issue(struct store *s, const struct token_key *key,
                                   const char *account_id, const char *description,
                                   int64_t expires_at, const char *created_by, int64_t now,
                                   struct store_mgmt_token *out, char secret[TOKEN_MGMT_SIZE]);

/*
 * Stores a token whose secret is given (the seed). Same as above otherwise;
 * CONFLICT when a token with this secret exists.
 */
enum store_status mgmt_token_store_secret(struct store *s, const struct token_key *key,
                                          const char *secret, const char *account_id,
                                          const char *description, int64_t expires_at,
                                          const char *created_by, int64_t now,
                                          struct store_mgmt_token *out);

#endif
