/*
 * jwks.h - a JSON Web Key Set turned into OpenSSL public keys.
 *
 * RSA keys (n/e) and EC keys on P-256/P-384 (crv/x/y) are converted with
 * OpenSSL 3; a key that carries only x5c is read from its first certificate.
 * Each key is kept parsed (for jws_verify) and as PEM (its stable identity).
 * Keys that are not for signatures ("use" other than "sig") or of other types
 * are skipped, not errors. A loaded set is immutable and may be shared by
 * threads without locks.
 */
#ifndef MGMTD_JWKS_H
#define MGMTD_JWKS_H

#include <stddef.h>

#include <openssl/types.h>

enum jwk_type { JWK_RSA, JWK_EC_P256, JWK_EC_P384 };

struct jwk {
	char kid[256]; /* empty when the JWK has none */
	enum jwk_type type;
	char alg[16]; /* the JWK's own "alg", empty when absent */
	char *pem;    /* SubjectPublicKeyInfo PEM, owned by the set */
	size_t pem_len;
	EVP_PKEY *pkey; /* the same key parsed, owned by the set; only read after loading */
};

struct jwks {
	struct jwk *keys;
	size_t count;
};

/* Parses JWKS JSON text. Returns 0 and a set the caller frees with jwks_free, or -1. */
int jwks_parse(const char *json, size_t len, struct jwks **out, char *err, size_t errlen);

/* Reads and parses a JWKS file. */
int jwks_load_file(const char *path, struct jwks **out, char *err, size_t errlen);

void jwks_free(struct jwks *set);

/*
 * The key for a token header: by kid when kid is non-empty; with no kid, the
 * only key of the right type. The key's type must fit alg ("RS256" needs RSA,
 * "ES256" P-256, "ES384" P-384). NULL when none fits.
 */
const struct jwk *jwks_find(const struct jwks *set, const char *kid, const char *alg);

#endif
