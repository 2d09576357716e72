/*
 * fuzz_token.c - the management-token parser and checksum, the database-token
 * format check, the public prefix and the keyed hash (token.c).
 *
 * Properties: a well-formed token has exactly the documented shape; changing
 * any one character of a well-formed token makes it ill-formed (the checksum
 * catches every single-character typo in the body); the prefix never reveals
 * more than the mark and 4 characters.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"
#include "harness.h"

static bool documented_shape(const char *s)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	if (strlen(s) != TOKEN_MGMT_LEN || strncmp(s, TOKEN_MGMT_MARK, 5) != 0)
		return false;
	return strspn(s + 5, alphabet) == TOKEN_MGMT_LEN - 5;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct token_key key;
	static bool ready;
	unsigned char hash[TOKEN_HASH_LEN], again[TOKEN_HASH_LEN];
	char prefix[TOKEN_PREFIX_SIZE];
	char *s;

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		memset(key.bytes, 0x5a, sizeof(key.bytes));
		ready = true;
	}
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (token_mgmt_well_formed(s)) {
		if (!documented_shape(s))
			abort();
		for (size_t i = 5; i < TOKEN_MGMT_LEN - TOKEN_MGMT_CHECK_LEN; i++) {
			char saved = s[i];

			s[i] = saved == 'A' ? 'B' : 'A';
			if (token_mgmt_well_formed(s))
				abort();
			s[i] = saved;
		}
	}
	if (token_db_well_formed(s) &&
	    (strlen(s) != TOKEN_DB_LEN || strncmp(s, TOKEN_DB_MARK, 6) != 0))
		abort();

	token_prefix(s, prefix);
	if (strlen(prefix) > 10 || strncmp(prefix, s, strlen(prefix)) != 0)
		abort();

	token_hash(&key, s, hash);
	token_hash(&key, s, again);
	if (!token_hash_equal(hash, again))
		abort();
	free(s);
	return 0;
}
