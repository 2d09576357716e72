/*
 * seed.h - the seed file (CONTRACT 9): accounts, clusters, users, management
 * tokens, databases, database tokens and invites applied at start,
 * idempotently, in one transaction. invite_days is how long a seeded invite
 * stays pending ([auth] invite_days); issuers are the identity providers a
 * user's idpIssuer may name (identity.h; NULL: none), the only one of which
 * a subject without idpIssuer gets.
 */
#ifndef MGMTD_SEED_H
#define MGMTD_SEED_H

#include <stddef.h>

#include "identity.h"
#include "store.h"
#include "token.h"

/*
 * Applies the seed at path. Entries that already exist with the same content
 * are left alone; an entry that breaks a rule stops everything (nothing is
 * written) and err names it ("users[2] (a@b.c): no account 1111...").
 * Returns 0 or -1.
 */
int seed_apply_file(struct store *s, const struct token_key *key, int invite_days,
                    const struct identity_issuers *issuers, const char *path, char *err,
                    size_t errlen);

/* The same for seed text already in memory (used by tests and fuzzers). */
int seed_apply_text(struct store *s, const struct token_key *key, int invite_days,
                    const struct identity_issuers *issuers, const char *text, size_t len, char *err,
                    size_t errlen);

/*
 * [testing] reset: in one transaction, empties every table and applies the
 * seed text (NULL: none), so other connections see the state before or
 * after, never between. Returns 0, or -1 (nothing changed) with err set.
 */
int seed_reset_text(struct store *s, const struct token_key *key, int invite_days,
                    const struct identity_issuers *issuers, const char *text, size_t len, char *err,
                    size_t errlen);

/*
 * [testing] tenant reset: in one transaction, deletes the account account_id with
 * everything in it and applies text, the seed it was made from. Returns 0, or -1
 * (nothing changed) with err set.
 */
int seed_replace_account_text(struct store *s, const struct token_key *key, int invite_days,
                              const struct identity_issuers *issuers, const char *account_id,
                              const char *text, size_t len, char *err, size_t errlen);

/*
 * Reads a seed file into *text (NUL-terminated, *len bytes without the NUL),
 * to be freed with seed_text_free, which wipes it: a seed may hold secrets.
 */
int seed_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen);
void seed_text_free(char *text, size_t len);

#endif
