/*
 * jws.h - JWS signature verification (RFC 7515/7518) with OpenSSL 3.
 *
 * One path for every IdP-issued token, whatever its header "typ" says: the
 * signature is checked over the signing input (header.payload, the bytes as
 * sent) with EVP_DigestVerify and the key's parsed EVP_PKEY. Only the
 * asymmetric algs in the table are known; HS* and none are not, so no key
 * can ever be used as an HMAC secret here.
 */
#ifndef MGMTD_JWS_H
#define MGMTD_JWS_H

#include <stdbool.h>
#include <stddef.h>

#include "jwks.h"

struct jws_alg {
	const char *name;    /* "RS256" */
	unsigned mask_bit;   /* libjwt's jwt_alg_t, the bit of this alg in alg masks */
	enum jwk_type key;   /* the only key type that may verify it */
	const char *digest;  /* OpenSSL digest name */
	size_t ec_coord_len; /* ECDSA: bytes of r and of s in the raw signature; 0 for RSA */
};

/* The alg of that exact (case-sensitive) name: RS256/384/512, ES256/384; NULL for others. */
const struct jws_alg *jws_alg_find(const char *name);

/*
 * True when sig (the decoded third part) is alg's signature by key over
 * input. RS*: RSASSA-PKCS1-v1_5, the signature exactly the modulus size.
 * ES*: the raw r||s of exactly 2 * ec_coord_len bytes (a DER-encoded one is
 * refused). False when the key's type is not the alg's. Leaves OpenSSL's
 * error queue empty.
 */
bool jws_verify(const struct jws_alg *alg, const struct jwk *key, const char *input,
                size_t input_len, const unsigned char *sig, size_t sig_len);

#endif
