/*
 * testkeys.h - key material for the jwks and idtoken unit tests.
 *
 * Keys are made fresh with OpenSSL and exported as JWKs the way an IdP would
 * publish them, so the tests never depend on fixtures that could go stale.
 * Include after <cmocka.h>: every helper fails the running test on error.
 */
#ifndef MGMTD_TESTKEYS_H
#define MGMTD_TESTKEYS_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#define TK_UNUSED __attribute__((unused))

static TK_UNUSED EVP_PKEY *tk_keygen_rsa(unsigned bits)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);

	assert_non_null(pk);
	return pk;
}

/* curve: "P-256" or "P-384". */
static TK_UNUSED EVP_PKEY *tk_keygen_ec(const char *curve)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	assert_non_null(pk);
	return pk;
}

/* Caller frees. */
static TK_UNUSED char *tk_b64(const void *bin, size_t len, int variant)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, variant);
	char *s = malloc(cap);

	assert_non_null(s);
	assert_non_null(sodium_bin2base64(s, cap, bin, len, variant));
	return s;
}

static TK_UNUSED char *tk_b64url(const void *bin, size_t len)
{
	return tk_b64(bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* A BIGNUM parameter as base64url of its big-endian bytes, left-padded to pad bytes. */
static TK_UNUSED json_t *tk_bn_param(EVP_PKEY *pk, const char *param, int pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int len;
	char *s;
	json_t *j;

	assert_int_equal(EVP_PKEY_get_bn_param(pk, param, &bn), 1);
	len = pad > 0 ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	assert_true(len > 0 && len <= (int)sizeof(buf));
	s = tk_b64url(buf, (size_t)len);
	j = json_string(s);
	assert_non_null(j);
	free(s);
	BN_free(bn);
	return j;
}

/* The public JWK of pk (RSA n/e or EC crv/x/y). kid and alg may be NULL. Caller decrefs. */
static TK_UNUSED json_t *tk_jwk(EVP_PKEY *pk, const char *kid, const char *alg)
{
	json_t *k = json_object();

	assert_non_null(k);
	if (EVP_PKEY_is_a(pk, "RSA")) {
		json_object_set_new(k, "kty", json_string("RSA"));
		json_object_set_new(k, "n", tk_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, 0));
		json_object_set_new(k, "e", tk_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, 0));
	} else {
		int fs = EVP_PKEY_get_bits(pk) == 256 ? 32 : 48;

		json_object_set_new(k, "kty", json_string("EC"));
		json_object_set_new(k, "crv", json_string(fs == 32 ? "P-256" : "P-384"));
		json_object_set_new(k, "x", tk_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, fs));
		json_object_set_new(k, "y", tk_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, fs));
	}
	if (kid)
		json_object_set_new(k, "kid", json_string(kid));
	if (alg)
		json_object_set_new(k, "alg", json_string(alg));
	return k;
}

/* A JWK carrying only kid and x5c: a self-signed certificate of pk. Caller decrefs. */
static TK_UNUSED json_t *tk_jwk_x5c(EVP_PKEY *pk, const char *kid)
{
	X509 *c = X509_new();
	X509_NAME *name;
	unsigned char *der = NULL;
	int len;
	char *b64;
	json_t *k;

	assert_non_null(c);
	assert_int_equal(X509_set_version(c, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(c), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(c), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(c), 3600));
	assert_int_equal(X509_set_pubkey(c, pk), 1);
	name = X509_get_subject_name(c);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                                            (const unsigned char *)"mgmtd test", -1, -1, 0),
	                 1);
	assert_int_equal(X509_set_issuer_name(c, name), 1);
	assert_true(X509_sign(c, pk, EVP_sha256()) > 0);
	len = i2d_X509(c, &der);
	assert_true(len > 0);
	b64 = tk_b64(der, (size_t)len, sodium_base64_VARIANT_ORIGINAL);
	k = json_pack("{s:s, s:[s]}", "kid", kid, "x5c", b64);
	assert_non_null(k);
	free(b64);
	OPENSSL_free(der);
	X509_free(c);
	return k;
}

/* The SubjectPublicKeyInfo PEM of pk, as OpenSSL writes it. Caller frees. */
static TK_UNUSED char *tk_public_pem(EVP_PKEY *pk)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *s;
	long n;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, pk), 1);
	n = BIO_get_mem_data(bio, &data);
	assert_true(n > 0);
	/* BIO memory is not NUL-terminated: copy exactly n bytes (strndup may read past). */
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	BIO_free(bio);
	return s;
}

/* The private key PEM libjwt signs with. Caller frees. */
static TK_UNUSED char *tk_private_pem(EVP_PKEY *pk)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *s;
	long n;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(bio, &data);
	assert_true(n > 0);
	/* BIO memory is not NUL-terminated: copy exactly n bytes (strndup may read past). */
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	BIO_free(bio);
	return s;
}

/*
 * pk's signature over in with digest md (an OpenSSL name), into out; returns
 * its length. EC signatures come as OpenSSL's DER, or with raw_ec as JWS's
 * fixed-size r||s (RFC 7518 3.4).
 */
static TK_UNUSED size_t tk_sign(EVP_PKEY *pk, const char *md, const void *in, size_t inlen,
                                bool raw_ec, unsigned char *out, size_t cap)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[1024];
	const unsigned char *dp = der;
	size_t derlen = sizeof(der);
	ECDSA_SIG *es;
	int fs;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, pk, NULL), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &derlen, in, inlen), 1);
	EVP_MD_CTX_free(ctx);
	if (!raw_ec || !EVP_PKEY_is_a(pk, "EC")) {
		assert_true(derlen <= cap);
		memcpy(out, der, derlen);
		return derlen;
	}
	es = d2i_ECDSA_SIG(NULL, &dp, (long)derlen);
	fs = (EVP_PKEY_get_bits(pk) + 7) / 8;
	assert_non_null(es);
	assert_true(2 * (size_t)fs <= cap);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), out, fs), fs);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), out + fs, fs), fs);
	ECDSA_SIG_free(es);
	return 2 * (size_t)fs;
}

/* {"keys": [jwks...]} as text; takes the references of the NULL-terminated jwks. Caller frees. */
static TK_UNUSED char *tk_jwks_text(json_t *first, ...)
{
	json_t *keys = json_array(), *root;
	va_list ap;
	char *s;

	assert_non_null(keys);
	va_start(ap, first);
	for (json_t *k = first; k; k = va_arg(ap, json_t *))
		assert_int_equal(json_array_append_new(keys, k), 0);
	va_end(ap);
	root = json_pack("{s:o}", "keys", keys);
	assert_non_null(root);
	s = json_dumps(root, JSON_COMPACT);
	assert_non_null(s);
	json_decref(root);
	return s;
}

#endif
