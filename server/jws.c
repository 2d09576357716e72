/*
 * jws.c - JWS signature verification with OpenSSL 3 (EVP_DigestVerify).
 *
 * The key is the EVP_PKEY the key set parsed once (jwks.c); nothing is parsed
 * per token. ECDSA signatures arrive as the fixed-size r||s pair of RFC 7518
 * 3.4 and are re-encoded as the DER ECDSA-Sig-Value OpenSSL verifies.
 */
#include "jws.h"

#include <string.h>

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

/* The mask bits are libjwt's enum so that config_algorithm_mask's masks mean the same here. */
static const struct jws_alg algs[] = {
    {"RS256", JWT_ALG_RS256, JWK_RSA, "SHA256", 0},
    {"RS384", JWT_ALG_RS384, JWK_RSA, "SHA384", 0},
    {"RS512", JWT_ALG_RS512, JWK_RSA, "SHA512", 0},
    {"ES256", JWT_ALG_ES256, JWK_EC_P256, "SHA256", 32},
    {"ES384", JWT_ALG_ES384, JWK_EC_P384, "SHA384", 48},
};

const struct jws_alg *jws_alg_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

/* The key's EVP type must be the one the alg needs, whatever jwks_find already checked. */
static bool key_fits_alg(const struct jws_alg *alg, const struct jwk *key)
{
	if (!key->pkey || key->type != alg->key)
		return false;
	if (alg->key == JWK_RSA)
		return EVP_PKEY_get_base_id(key->pkey) == EVP_PKEY_RSA;
	return EVP_PKEY_get_base_id(key->pkey) == EVP_PKEY_EC &&
	       (size_t)(EVP_PKEY_get_bits(key->pkey) + 7) / 8 == alg->ec_coord_len;
}

/*
 * The raw r||s signature as DER (i2d_ECDSA_SIG). Returns the length and sets
 * *der (caller frees with OPENSSL_free), or 0 when sig has the wrong length.
 */
static size_t ec_raw_to_der(const struct jws_alg *alg, const unsigned char *sig, size_t sig_len,
                            unsigned char **der)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	int len;

	*der = NULL;
	if (sig_len != 2 * alg->ec_coord_len)
		return 0;
	r = BN_bin2bn(sig, (int)alg->ec_coord_len, NULL);
	s = BN_bin2bn(sig + alg->ec_coord_len, (int)alg->ec_coord_len, NULL);
	es = ECDSA_SIG_new();
	if (!r || !s || !es || ECDSA_SIG_set0(es, r, s) != 1)
		goto fail;
	r = s = NULL; /* owned by es now */
	len = i2d_ECDSA_SIG(es, der);
	if (len <= 0)
		goto fail;
	ECDSA_SIG_free(es);
	return (size_t)len;
fail:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	OPENSSL_free(*der);
	*der = NULL;
	return 0;
}

bool jws_verify(const struct jws_alg *alg, const struct jwk *key, const char *input,
                size_t input_len, const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *der = NULL;
	const unsigned char *checked = sig;
	size_t checked_len = sig_len;
	bool ok = false;

	if (!alg || !key || !input || !sig || !key_fits_alg(alg, key))
		goto out;
	if (alg->key == JWK_RSA) {
		/* OpenSSL refuses other lengths too; saying it here keeps the rule visible. */
		if (sig_len != (size_t)EVP_PKEY_get_size(key->pkey))
			goto out;
	} else {
		checked_len = ec_raw_to_der(alg, sig, sig_len, &der);
		if (checked_len == 0)
			goto out;
		checked = der;
	}

	ctx = EVP_MD_CTX_new();
	if (!ctx ||
	    EVP_DigestVerifyInit_ex(ctx, &pctx, alg->digest, NULL, NULL, key->pkey, NULL) != 1)
		goto out;
	if (alg->key == JWK_RSA && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	ok = EVP_DigestVerify(ctx, checked, checked_len, (const unsigned char *)input, input_len) ==
	     1;
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	/* A refused signature leaves OpenSSL's reasons on this thread's queue; nobody reads them.
	 */
	ERR_clear_error();
	return ok;
}
