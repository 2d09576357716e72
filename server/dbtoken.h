/*
 * dbtoken.h - issuing database tokens, shared by the REST handler and the
 * seed (the management-token counterpart is mgmt.h).
 */
#ifndef MGMTD_DBTOKEN_H
#define MGMTD_DBTOKEN_H

#include <stddef.h>

#include "store.h"
#include "token.h"

/*
 * Stores t with the keyed hash of secret (a well-formed "apiv1_" token):
 * gives t a fresh id first. The caller has set every other field and
 * checked it against rules.h. CONFLICT when a token with this secret exists.
 */
enum store_status dbtoken_store_secret(struct store *s, const struct token_key *key,
                                       const char *secret, struct store_db_token *t);

/*
 * Generates a secret and stores t as above. The caller shows the secret
 * once and then wipes it (sodium_memzero); it is wiped here on failure.
 */
enum store_status dbtoken_issue(struct store *s, const struct token_key *key,
                                struct store_db_token *t, char secret[TOKEN_DB_SIZE]);

/*
 * Checks that every database a permission of t names (all but "*") is a live
 * database of t's cluster. NOT_FOUND with the permission's index in *missing
 * when one is not.
 */
enum store_status dbtoken_check_resources(struct store *s, const struct store_db_token *t,
                                          size_t *missing);

/*
 * The id of permission p of the database token token_id: derived, not stored, so it
 * is the same in every answer and on every replica, stays when other permissions of
 * the token change, and differs from token to token (docs/api.md, Database tokens).
 */
void dbtoken_permission_id(const char *token_id, const struct store_db_permission *p,
                           char out[UUID_STR_SIZE]);

#endif
