/*
 * snapshot.h - the store's state as JSON and back ([testing] /_test/snapshots; a
 * seed file's "snapshot" section).
 *
 * A snapshot is every row of the store (or of one account), keyed hashes included
 * and never a secret, in the form store.h's store_rows_dump gives them:
 *
 *   {"format": 1, "tokenKey": "blake2b:...", "accountId": "..." (one account's only),
 *    "tables": {"accounts": {"columns": ["id", ...], "rows": [["...", ...], ...]}, ...}}
 *
 * A value is a JSON integer, string or null, or {"hex": "..."} for bytes. The keyed
 * hashes verify only under the token key that made them, whose one-way fingerprint
 * "tokenKey" names: a load under another key is refused rather than leaving every
 * token of the snapshot dead.
 */
#ifndef MGMTD_SNAPSHOT_H
#define MGMTD_SNAPSHOT_H

#include <stddef.h>

#include <jansson.h>

#include "store.h"
#include "token.h"

#define SNAPSHOT_FORMAT 1

/*
 * The rows of the store, or of the account account_id alone (when not NULL), as a
 * snapshot object (the caller owns it); *rows gets how many rows it holds. NULL
 * with err set when the store fails (STORE_ERROR: see the log) or memory runs out.
 */
json_t *snapshot_take(struct store *s, const struct token_key *key, const char *account_id,
                      size_t *rows, char *err, size_t errlen);

/*
 * Loads a snapshot object inside the caller's transaction. When every account of the
 * snapshot is already in the store, nothing is loaded (*loaded false): a seed file
 * holding a snapshot may be given at every start of a lasting store. When some are and
 * others not, or the snapshot is malformed, made under another token key or breaks a
 * rule of the store, -1 with err naming what (the caller rolls back). 0 otherwise.
 */
int snapshot_load(struct store *s, const struct token_key *key, const json_t *snapshot,
                  bool *loaded, char *err, size_t errlen);

#endif
