/*
 * backup.h - backups of a data directory, their restore and verification,
 * the token key's fingerprint, and the lock that tells a running server's
 * data directory from a stopped one.
 *
 * A backup holds the store only: keyed hashes of the secrets, never the
 * secrets, and never token.key. Restored beside another key, every token is
 * invalid; so the store records the fingerprint of its key (store_meta), and
 * restore and verify compare it with the key at hand.
 */
#ifndef MGMTD_BACKUP_H
#define MGMTD_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "store.h"
#include "token.h"

/* "blake2b:" and 32 hex digits. */
#define BACKUP_FINGERPRINT_SIZE 48

/* A one-way fingerprint of key: tells keys apart, reveals nothing of them. */
void backup_key_fingerprint(const struct token_key *key, char out[BACKUP_FINGERPRINT_SIZE]);

/*
 * At start: records key's fingerprint in a store that has none, and says
 * whether it matches the one recorded. Returns 0 when it matches (or was
 * just recorded), 1 when another key's is recorded, -1 on a store error.
 */
int backup_check_store_key(struct store *s, const struct token_key *key);

/*
 * The server's hold on its data directory (<data_dir>/mgmtd.lock, flock):
 * shared, so that several servers and the offline commands go on as before,
 * while restore, which needs it exclusively, refuses a directory in use.
 * Returns the lock's fd (close it to let go), or -1 with a message in err.
 */
int backup_hold_data_dir(const char *data_dir, char *err, size_t errlen);

/* `mgmtd backup --to FILE`: the store of cfg copied to FILE. Exit status. */
int backup_to(const struct config *cfg, const char *dest, FILE *out);

/*
 * `mgmtd restore --from FILE`: FILE in place of cfg's store, which no server
 * may hold. Refused unless the backup checks out, its schema is one this
 * build knows, and its key fingerprint is that of the data directory's key
 * (force: restore all the same, knowing that every token is then invalid).
 */
int backup_restore(const struct config *cfg, const char *src, bool force, FILE *out);

/* `mgmtd verify [FILE]`: FILE, or cfg's store when NULL. Exit status. */
int backup_verify(const struct config *cfg, const char *file, FILE *out);

#endif
