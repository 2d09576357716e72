/*
 * test_jwks.c - JWKS parsing and key lookup.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <unistd.h>

#include "jwks.h"
#include "testkeys.h"

struct keys {
	EVP_PKEY *rsa;
	EVP_PKEY *p256;
	EVP_PKEY *p384;
	EVP_PKEY *p521;
};

static struct keys K;

static int setup(void **state)
{
	K.rsa = tk_keygen_rsa(2048);
	K.p256 = tk_keygen_ec("P-256");
	K.p384 = tk_keygen_ec("P-384");
	K.p521 = tk_keygen_ec("P-521");
	return 0;
}

static int teardown(void **state)
{
	EVP_PKEY_free(K.rsa);
	EVP_PKEY_free(K.p256);
	EVP_PKEY_free(K.p384);
	EVP_PKEY_free(K.p521);
	return 0;
}

/* Parses text (and frees it); asserts success. */
static struct jwks *parse_ok(char *text)
{
	struct jwks *set = NULL;
	char err[256] = "";

	if (jwks_parse(text, strlen(text), &set, err, sizeof(err)) != 0)
		fail_msg("jwks_parse failed: %s", err);
	assert_non_null(set);
	free(text);
	return set;
}

/* Parses text (and frees it); asserts failure and that err contains want. */
static void parse_fails(char *text, const char *want)
{
	struct jwks *set = (struct jwks *)&set;
	char err[256] = "";

	assert_int_equal(jwks_parse(text, strlen(text), &set, err, sizeof(err)), -1);
	assert_null(set);
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
	free(text);
}

static void assert_pem_of(const struct jwk *key, EVP_PKEY *pk)
{
	char *want = tk_public_pem(pk);

	assert_string_equal(key->pem, want);
	assert_int_equal(key->pem_len, strlen(want));
	free(want);
}

static void test_rsa(void **state)
{
	struct jwks *set = parse_ok(tk_jwks_text(tk_jwk(K.rsa, "r1", "RS256"), NULL));

	assert_int_equal(set->count, 1);
	assert_int_equal(set->keys[0].type, JWK_RSA);
	assert_string_equal(set->keys[0].kid, "r1");
	assert_string_equal(set->keys[0].alg, "RS256");
	assert_pem_of(&set->keys[0], K.rsa);
	jwks_free(set);
}

static void test_ec(void **state)
{
	struct jwks *set = parse_ok(
	    tk_jwks_text(tk_jwk(K.p256, "e256", NULL), tk_jwk(K.p384, "e384", NULL), NULL));

	assert_int_equal(set->count, 2);
	assert_int_equal(set->keys[0].type, JWK_EC_P256);
	assert_string_equal(set->keys[0].kid, "e256");
	assert_string_equal(set->keys[0].alg, "");
	assert_pem_of(&set->keys[0], K.p256);
	assert_int_equal(set->keys[1].type, JWK_EC_P384);
	assert_pem_of(&set->keys[1], K.p384);
	jwks_free(set);
}

/* A coordinate with leading zero bytes may be sent short; it must be padded back. */
static void test_ec_short_coordinate(void **state)
{
	EVP_PKEY *pk = NULL;
	BIGNUM *x = NULL;
	struct jwks *set;
	json_t *jwk;

	/* About one key in 256 has a leading zero byte in x; search for one. */
	for (int i = 0; i < 4096; i++) {
		pk = tk_keygen_ec("P-256");
		assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
		if (BN_num_bytes(x) < 32)
			break;
		BN_free(x);
		x = NULL;
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	assert_non_null(pk);
	jwk = tk_jwk(pk, "short", NULL);
	json_object_set_new(jwk, "x", tk_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, 0));
	set = parse_ok(tk_jwks_text(jwk, NULL));
	assert_int_equal(set->count, 1);
	assert_pem_of(&set->keys[0], pk);
	jwks_free(set);
	BN_free(x);
	EVP_PKEY_free(pk);
}

static void test_x5c_only(void **state)
{
	struct jwks *set = parse_ok(
	    tk_jwks_text(tk_jwk_x5c(K.rsa, "cert-rsa"), tk_jwk_x5c(K.p384, "cert-ec"), NULL));

	assert_int_equal(set->count, 2);
	assert_int_equal(set->keys[0].type, JWK_RSA);
	assert_string_equal(set->keys[0].kid, "cert-rsa");
	assert_pem_of(&set->keys[0], K.rsa);
	assert_int_equal(set->keys[1].type, JWK_EC_P384);
	assert_pem_of(&set->keys[1], K.p384);
	jwks_free(set);
}

static void test_x5c_with_kty(void **state)
{
	json_t *jwk = tk_jwk_x5c(K.p256, "c");
	struct jwks *set;

	json_object_set_new(jwk, "kty", json_string("EC"));
	json_object_set_new(jwk, "crv", json_string("P-256"));
	set = parse_ok(tk_jwks_text(jwk, NULL));
	assert_int_equal(set->count, 1);
	assert_int_equal(set->keys[0].type, JWK_EC_P256);
	assert_pem_of(&set->keys[0], K.p256);
	jwks_free(set);

	jwk = tk_jwk_x5c(K.p256, "c");
	json_object_set_new(jwk, "kty", json_string("RSA"));
	parse_fails(tk_jwks_text(jwk, NULL), "key 0 (kid \"c\")");
}

static void test_x5c_bad(void **state)
{
	parse_fails(tk_jwks_text(json_pack("{s:s, s:[s]}", "kid", "c", "x5c", "!!!"), NULL),
	            "not valid base64");
	parse_fails(tk_jwks_text(json_pack("{s:s, s:s, s:[s]}", "kid", "c", "kty", "RSA", "x5c",
	                                   "aGVsbG8gd29ybGQ="),
	                         NULL),
	            "not a DER certificate");
	parse_fails(
	    tk_jwks_text(json_pack("{s:s, s:s, s:[]}", "kid", "c", "kty", "EC", "x5c"), NULL),
	    "x5c");
}

static void test_skipped_keys(void **state)
{
	json_t *enc = tk_jwk(K.rsa, "enc", NULL);
	json_t *sig = tk_jwk(K.p256, "sig", NULL);
	json_t *odd_use = tk_jwk(K.p256, "odd", NULL);
	json_t *p521 = tk_jwk(K.p256, "p521", NULL);
	struct jwks *set;

	json_object_set_new(enc, "use", json_string("enc"));
	json_object_set_new(sig, "use", json_string("sig"));
	json_object_set_new(odd_use, "use", json_integer(1));
	json_object_set_new(p521, "crv", json_string("P-521"));
	set = parse_ok(tk_jwks_text(
	    enc, sig, odd_use, p521, json_pack("{s:s, s:s}", "kty", "oct", "k", "c2VjcmV0"),
	    json_pack("{s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x", "!!"),
	    json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "secp256k1", "x", "AA", "y",
	              "AA"),
	    json_pack("{s:s}", "kid", "no-kty"), tk_jwk_x5c(K.p521, "cert-p521"),
	    json_pack("{s:s, s:s}", "kty", "RSA", "alg", "SOME-VERY-LONG-ALG-NAME"), NULL));
	assert_int_equal(set->count, 1);
	assert_string_equal(set->keys[0].kid, "sig");
	jwks_free(set);
}

static void test_empty_set(void **state)
{
	struct jwks *set = parse_ok(strdup("{\"keys\": []}"));

	assert_int_equal(set->count, 0);
	assert_null(jwks_find(set, "", "RS256"));
	jwks_free(set);
}

static void test_malformed_keys(void **state)
{
	json_t *jwk;

	jwk = tk_jwk(K.rsa, "bad-n", NULL);
	json_object_set_new(jwk, "n", json_string("not*base64url"));
	parse_fails(tk_jwks_text(tk_jwk(K.p256, "fine", NULL), jwk, NULL),
	            "key 1 (kid \"bad-n\"): \"n\" is not valid base64url");

	jwk = tk_jwk(K.rsa, NULL, NULL);
	json_object_del(jwk, "e");
	parse_fails(tk_jwks_text(jwk, NULL), "key 0: \"e\" is missing");

	jwk = tk_jwk(K.rsa, "k", NULL);
	json_object_set_new(jwk, "kid", json_integer(7));
	parse_fails(tk_jwks_text(jwk, NULL), "\"kid\"");

	jwk = tk_jwk(K.p256, "nocrv", NULL);
	json_object_del(jwk, "crv");
	parse_fails(tk_jwks_text(jwk, NULL), "\"crv\" is missing");

	/* A point that is not on the curve. */
	jwk = tk_jwk(K.p256, "offcurve", NULL);
	json_object_set(jwk, "y", json_object_get(jwk, "x"));
	parse_fails(tk_jwks_text(jwk, NULL), "key 0 (kid \"offcurve\")");

	/* A P-384 coordinate given for a P-256 key. */
	jwk = tk_jwk(K.p256, "long", NULL);
	json_object_set_new(jwk, "x", tk_bn_param(K.p384, OSSL_PKEY_PARAM_EC_PUB_X, 48));
	parse_fails(tk_jwks_text(jwk, NULL), "longer than the curve's field");

	parse_fails(tk_jwks_text(json_string("a key"), NULL), "key 0: not a JSON object");
}

static void test_short_rsa_refused(void **state)
{
	EVP_PKEY *small = tk_keygen_rsa(1024);

	parse_fails(tk_jwks_text(tk_jwk(small, "small", NULL), NULL), "bits");
	EVP_PKEY_free(small);
}

static void test_not_a_jwks(void **state)
{
	parse_fails(strdup("not json"), "not valid JSON");
	parse_fails(strdup("{\"keys\": [}"), "not valid JSON");
	parse_fails(strdup("{}"), "\"keys\" array");
	parse_fails(strdup("{\"keys\": {}}"), "\"keys\" array");
	parse_fails(strdup("[{\"keys\": []}]"), "\"keys\" array");
	parse_fails(strdup("{\"keys\": [], \"keys\": []}"), "not valid JSON");
}

static void test_find(void **state)
{
	struct jwks *set =
	    parse_ok(tk_jwks_text(tk_jwk(K.rsa, "r1", "RS256"), tk_jwk(K.p256, "e256", NULL),
	                          tk_jwk(K.p384, "e384", NULL), tk_jwk(K.p256, NULL, NULL), NULL));
	const struct jwk *k;

	k = jwks_find(set, "r1", "RS256");
	assert_ptr_equal(k, &set->keys[0]);
	k = jwks_find(set, "e384", "ES384");
	assert_ptr_equal(k, &set->keys[2]);
	k = jwks_find(set, "e256", "ES256");
	assert_ptr_equal(k, &set->keys[1]);

	/* The kid names a key of another type. */
	assert_null(jwks_find(set, "e256", "RS256"));
	assert_null(jwks_find(set, "e256", "ES384"));
	assert_null(jwks_find(set, "r1", "ES256"));
	/* The JWK says it is for RS256 only. */
	assert_null(jwks_find(set, "r1", "RS384"));
	assert_null(jwks_find(set, "nope", "RS256"));
	assert_null(jwks_find(set, "r1", "HS256"));
	assert_null(jwks_find(set, "r1", "none"));

	/* No kid: the only key of the type, never a guess among several. */
	assert_ptr_equal(jwks_find(set, "", "RS256"), &set->keys[0]);
	assert_ptr_equal(jwks_find(set, NULL, "ES384"), &set->keys[2]);
	assert_null(jwks_find(set, "", "ES256"));
	assert_null(jwks_find(NULL, "r1", "RS256"));
	jwks_free(set);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/test_jwks_XXXXXX";
	char *text = tk_jwks_text(tk_jwk(K.p256, "file", NULL), NULL);
	struct jwks *set = NULL;
	char err[256] = "";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	free(text);
	assert_int_equal(jwks_load_file(path, &set, err, sizeof(err)), 0);
	assert_int_equal(set->count, 1);
	assert_string_equal(set->keys[0].kid, "file");
	jwks_free(set);
	unlink(path);

	set = (struct jwks *)&set;
	assert_int_equal(jwks_load_file(path, &set, err, sizeof(err)), -1);
	assert_null(set);
	assert_non_null(strstr(err, path));
	assert_int_equal(jwks_load_file("/tmp", &set, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rsa),
	    cmocka_unit_test(test_ec),
	    cmocka_unit_test(test_ec_short_coordinate),
	    cmocka_unit_test(test_x5c_only),
	    cmocka_unit_test(test_x5c_with_kty),
	    cmocka_unit_test(test_x5c_bad),
	    cmocka_unit_test(test_skipped_keys),
	    cmocka_unit_test(test_empty_set),
	    cmocka_unit_test(test_malformed_keys),
	    cmocka_unit_test(test_short_rsa_refused),
	    cmocka_unit_test(test_not_a_jwks),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
