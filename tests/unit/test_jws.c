/*
 * test_jws.c - the JWS signature check on its own: the alg table, every alg
 * with its key, the key-type check at the verify site, signature lengths, and
 * an empty OpenSSL error queue after a refusal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include <jwt.h>
#include <openssl/err.h>

#include "jws.h"
#include "testkeys.h"

static const char INPUT[] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ";

static struct {
	EVP_PKEY *rsa, *p256, *p384;
	struct jwks *set;
	const struct jwk *k_rsa, *k_p256, *k_p384;
} K;

static int setup(void **state)
{
	char err[256] = "";
	char *text;

	K.rsa = tk_keygen_rsa(2048);
	K.p256 = tk_keygen_ec("P-256");
	K.p384 = tk_keygen_ec("P-384");
	text = tk_jwks_text(tk_jwk(K.rsa, "rsa", NULL), tk_jwk(K.p256, "p256", NULL),
	                    tk_jwk(K.p384, "p384", NULL), NULL);
	if (jwks_parse(text, strlen(text), &K.set, err, sizeof(err)) != 0)
		fail_msg("jwks_parse: %s", err);
	free(text);
	K.k_rsa = jwks_find(K.set, "rsa", "RS256");
	K.k_p256 = jwks_find(K.set, "p256", "ES256");
	K.k_p384 = jwks_find(K.set, "p384", "ES384");
	assert_non_null(K.k_rsa);
	assert_non_null(K.k_p256);
	assert_non_null(K.k_p384);
	return 0;
}

static int teardown(void **state)
{
	jwks_free(K.set);
	EVP_PKEY_free(K.rsa);
	EVP_PKEY_free(K.p256);
	EVP_PKEY_free(K.p384);
	return 0;
}

static bool verify(const char *alg, const struct jwk *key, const unsigned char *sig, size_t len)
{
	return jws_verify(jws_alg_find(alg), key, INPUT, strlen(INPUT), sig, len);
}

static void test_alg_table(void **state)
{
	static const struct {
		const char *name;
		unsigned bit;
		enum jwk_type key;
	} want[] = {
	    {"RS256", JWT_ALG_RS256, JWK_RSA},     {"RS384", JWT_ALG_RS384, JWK_RSA},
	    {"RS512", JWT_ALG_RS512, JWK_RSA},     {"ES256", JWT_ALG_ES256, JWK_EC_P256},
	    {"ES384", JWT_ALG_ES384, JWK_EC_P384},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct jws_alg *a = jws_alg_find(want[i].name);

		assert_non_null(a);
		assert_string_equal(a->name, want[i].name);
		/* the bit config_algorithm_mask sets for this name */
		assert_int_equal(a->mask_bit, want[i].bit);
		assert_int_equal(a->key, want[i].key);
	}
	/* names are case-sensitive (RFC 7515 4.1.1); no symmetric alg, no none */
	assert_null(jws_alg_find("rs256"));
	assert_null(jws_alg_find("HS256"));
	assert_null(jws_alg_find("none"));
	assert_null(jws_alg_find("PS256"));
	assert_null(jws_alg_find("ES512"));
	assert_null(jws_alg_find(""));
	assert_null(jws_alg_find(NULL));
}

static void test_every_alg_verifies(void **state)
{
	unsigned char sig[1024];
	size_t len;

	len = tk_sign(K.rsa, "SHA256", INPUT, strlen(INPUT), true, sig, sizeof(sig));
	assert_true(verify("RS256", K.k_rsa, sig, len));
	assert_false(verify("RS384", K.k_rsa, sig, len)); /* the hash is part of the alg */
	len = tk_sign(K.rsa, "SHA384", INPUT, strlen(INPUT), true, sig, sizeof(sig));
	assert_true(verify("RS384", K.k_rsa, sig, len));
	len = tk_sign(K.rsa, "SHA512", INPUT, strlen(INPUT), true, sig, sizeof(sig));
	assert_true(verify("RS512", K.k_rsa, sig, len));
	len = tk_sign(K.p256, "SHA256", INPUT, strlen(INPUT), true, sig, sizeof(sig));
	assert_int_equal(len, 64);
	assert_true(verify("ES256", K.k_p256, sig, len));
	len = tk_sign(K.p384, "SHA384", INPUT, strlen(INPUT), true, sig, sizeof(sig));
	assert_int_equal(len, 96);
	assert_true(verify("ES384", K.k_p384, sig, len));
	/* the signing input is every byte given, no more, no less */
	assert_false(
	    jws_verify(jws_alg_find("ES384"), K.k_p384, INPUT, strlen(INPUT) - 1, sig, len));
}

/* The key must be of the alg's type here too, whatever chose it. */
static void test_key_type_checked_at_verify(void **state)
{
	unsigned char sig[1024];
	struct jwk forged;
	size_t len = 0;
	EVP_MD_CTX *ctx;
	int control;

	len = tk_sign(K.rsa, "SHA256", INPUT, strlen(INPUT), true, sig, sizeof(sig));
	assert_false(verify("ES256", K.k_rsa, sig, len));
	len = tk_sign(K.p256, "SHA256", INPUT, strlen(INPUT), true, sig, sizeof(sig));
	assert_false(verify("RS256", K.k_p256, sig, len));
	assert_false(verify("ES384", K.k_p256, sig, len));

	/*
	 * A key that says RSA but holds an EC key, and an ECDSA DER signature as
	 * long as an "RSA" signature of that key must be: OpenSSL alone accepts
	 * it (the control), jws_verify must not.
	 */
	for (int i = 0; i < 200 && len != (size_t)EVP_PKEY_get_size(K.p256); i++)
		len = tk_sign(K.p256, "SHA256", INPUT, strlen(INPUT), false, sig, sizeof(sig));
	assert_int_equal(len, EVP_PKEY_get_size(K.p256));
	ctx = EVP_MD_CTX_new();
	assert_non_null(ctx);
	assert_int_equal(EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, K.p256, NULL), 1);
	control = EVP_DigestVerify(ctx, sig, len, (const unsigned char *)INPUT, strlen(INPUT));
	EVP_MD_CTX_free(ctx);
	assert_int_equal(control, 1);
	forged = *K.k_p256;
	forged.type = JWK_RSA;
	assert_false(verify("RS256", &forged, sig, len));
	/* a key without its parsed form */
	len = tk_sign(K.p384, "SHA384", INPUT, strlen(INPUT), true, sig, sizeof(sig));
	forged = *K.k_p384;
	assert_true(verify("ES384", &forged, sig, len));
	forged.pkey = NULL;
	assert_false(verify("ES384", &forged, sig, len));
}

static void test_signature_lengths(void **state)
{
	unsigned char sig[1024], big[1100];
	size_t len;

	len = tk_sign(K.p256, "SHA256", INPUT, strlen(INPUT), true, sig, sizeof(sig));
	assert_false(verify("ES256", K.k_p256, sig, len - 1));
	memcpy(big, sig, len);
	big[len] = 0;
	assert_false(verify("ES256", K.k_p256, big, len + 1));
	assert_false(verify("ES256", K.k_p256, sig, 0));
	/* DER is what OpenSSL verifies, but not what a JWS carries */
	len = tk_sign(K.p256, "SHA256", INPUT, strlen(INPUT), false, sig, sizeof(sig));
	assert_true(len != 64);
	assert_false(verify("ES256", K.k_p256, sig, len));

	len = tk_sign(K.rsa, "SHA256", INPUT, strlen(INPUT), true, sig, sizeof(sig));
	assert_int_equal(len, 256);
	big[0] = 0;
	memcpy(big + 1, sig, len);
	assert_false(verify("RS256", K.k_rsa, big, len + 1));
	assert_false(verify("RS256", K.k_rsa, sig + 1, len - 1));
}

static void test_error_queue_left_empty(void **state)
{
	unsigned char sig[1024];
	size_t len = tk_sign(K.rsa, "SHA256", INPUT, strlen(INPUT), true, sig, sizeof(sig));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	/* Control: OpenSSL on its own leaves a reason behind for a bad RSA signature. */
	sig[10] ^= 1;
	ERR_clear_error();
	assert_non_null(ctx);
	assert_int_equal(EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, K.rsa, NULL), 1);
	assert_int_not_equal(
	    EVP_DigestVerify(ctx, sig, len, (const unsigned char *)INPUT, strlen(INPUT)), 1);
	EVP_MD_CTX_free(ctx);
	assert_int_not_equal(ERR_peek_error(), 0);
	ERR_clear_error();

	assert_false(verify("RS256", K.k_rsa, sig, len));
	assert_int_equal(ERR_peek_error(), 0);
	assert_false(verify("RS256", K.k_rsa, sig, len - 1));
	assert_int_equal(ERR_peek_error(), 0);
	memset(sig, 0, 64);
	assert_false(verify("ES256", K.k_p256, sig, 64));
	assert_int_equal(ERR_peek_error(), 0);
}

static void test_null_arguments(void **state)
{
	unsigned char sig[64] = {0};
	const struct jws_alg *es256 = jws_alg_find("ES256");

	assert_false(jws_verify(NULL, K.k_p256, INPUT, strlen(INPUT), sig, 64));
	assert_false(jws_verify(es256, NULL, INPUT, strlen(INPUT), sig, 64));
	assert_false(jws_verify(es256, K.k_p256, NULL, 0, sig, 64));
	assert_false(jws_verify(es256, K.k_p256, INPUT, strlen(INPUT), NULL, 64));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alg_table),
	    cmocka_unit_test(test_every_alg_verifies),
	    cmocka_unit_test(test_key_type_checked_at_verify),
	    cmocka_unit_test(test_signature_lengths),
	    cmocka_unit_test(test_error_queue_left_empty),
	    cmocka_unit_test(test_null_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
