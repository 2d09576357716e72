/*
 * token.h - secrets: generation, format, checksum and keyed hashing.
 *
 * Management tokens look like "M.V1." + base64url(32 random bytes, 43 chars)
 * + a 6-character checksum (base64url of the first 4 bytes of BLAKE2b over
 * everything before it). The documented regular expression is
 *   M\.V1\.[A-Za-z0-9_-]{49}
 * so a secret scanner matches it, and a mistyped or truncated token is refused
 * before any lookup.
 *
 * Database tokens look like "apiv1_" + base64url(64 random bytes, 86 chars).
 *
 * Only keyed hashes (HMAC-SHA-512 under the 32-byte token key) are ever stored.
 * The token key lives in its own file (mode 0600) beside the database.
 */
#ifndef MGMTD_TOKEN_H
#define MGMTD_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_MGMT_MARK      "M.V1."
#define TOKEN_MGMT_BODY_LEN  43
#define TOKEN_MGMT_CHECK_LEN 6
#define TOKEN_MGMT_LEN       (5 + TOKEN_MGMT_BODY_LEN + TOKEN_MGMT_CHECK_LEN)
#define TOKEN_MGMT_SIZE      (TOKEN_MGMT_LEN + 1)

#define TOKEN_DB_MARK     "apiv1_"
#define TOKEN_DB_BODY_LEN 86
#define TOKEN_DB_LEN      (6 + TOKEN_DB_BODY_LEN)
#define TOKEN_DB_SIZE     (TOKEN_DB_LEN + 1)

/* tokenPrefix: the mark plus the next 4 characters ("M.V1.abcd"). */
#define TOKEN_PREFIX_SIZE 16

#define TOKEN_HASH_LEN 64
/* Stored beside every hash so that the scheme can change later. */
#define TOKEN_HASH_SCHEME "hmac-sha512-v1"

#define TOKEN_KEY_LEN 32

struct token_key {
	unsigned char bytes[TOKEN_KEY_LEN];
};

/*
 * Reads the key from path, or creates it (mode 0600, O_EXCL, fsynced) with
 * fresh random bytes when the file does not exist. A file of the wrong size or
 * readable by group/others is refused. Returns 0, or -1 with a message in err.
 */
int token_key_load_or_create(const char *path, struct token_key *key, char *err, size_t errlen);

/* Fills out with a fresh management token. */
void token_mgmt_generate(char out[TOKEN_MGMT_SIZE]);

/* True when s has the management-token mark, length, alphabet and a good checksum. */
bool token_mgmt_well_formed(const char *s);

/* Fills out with a fresh database token. */
void token_db_generate(char out[TOKEN_DB_SIZE]);

/* True when s has the database-token mark, length and alphabet. */
bool token_db_well_formed(const char *s);

/* The public prefix of a secret: its mark and the next 4 characters. */
void token_prefix(const char *secret, char out[TOKEN_PREFIX_SIZE]);

/* The keyed hash of a secret, as stored. */
void token_hash(const struct token_key *key, const char *secret, unsigned char out[TOKEN_HASH_LEN]);

/* Constant-time equality of two stored hashes. */
bool token_hash_equal(const unsigned char a[TOKEN_HASH_LEN], const unsigned char b[TOKEN_HASH_LEN]);

#endif
