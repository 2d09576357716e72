/*
 * test_idtoken.c - IdP JWT verification: header checks, alg allow-list, key
 * choice, signatures (libjwt-made and independently made) and claims.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include <jwt.h>
#include <openssl/ecdsa.h>

#include "idtoken.h"
#include "testkeys.h"

#define NOW    INT64_C(1700000000)
#define ISSUER "https://idp.example.test/"
#define AUD    "mgmtd"

#define BIT(a) (1u << (unsigned)(a))

struct fixture {
	EVP_PKEY *rsa, *rsa_other, *p256, *p384, *p256_cert;
	char *rsa_priv, *rsa_other_priv, *p256_priv, *p384_priv, *p256_cert_priv;
	struct jwks *set;
	struct idtoken_verifier v;
};

static struct fixture X;

static int setup(void **state)
{
	char *text;
	char err[256] = "";

	X.rsa = tk_keygen_rsa(2048);
	X.rsa_other = tk_keygen_rsa(2048);
	X.p256 = tk_keygen_ec("P-256");
	X.p384 = tk_keygen_ec("P-384");
	X.p256_cert = tk_keygen_ec("P-256");
	X.rsa_priv = tk_private_pem(X.rsa);
	X.rsa_other_priv = tk_private_pem(X.rsa_other);
	X.p256_priv = tk_private_pem(X.p256);
	X.p384_priv = tk_private_pem(X.p384);
	X.p256_cert_priv = tk_private_pem(X.p256_cert);

	text = tk_jwks_text(tk_jwk(X.rsa, "rsa1", NULL), tk_jwk(X.p256, "ec256", NULL),
	                    tk_jwk(X.p384, "ec384", NULL), tk_jwk_x5c(X.p256_cert, "cert"), NULL);
	if (jwks_parse(text, strlen(text), &X.set, err, sizeof(err)) != 0)
		fail_msg("jwks_parse: %s", err);
	free(text);
	assert_int_equal(X.set->count, 4);
	return 0;
}

static int teardown(void **state)
{
	jwks_free(X.set);
	EVP_PKEY_free(X.rsa);
	EVP_PKEY_free(X.rsa_other);
	EVP_PKEY_free(X.p256);
	EVP_PKEY_free(X.p384);
	EVP_PKEY_free(X.p256_cert);
	free(X.rsa_priv);
	free(X.rsa_other_priv);
	free(X.p256_priv);
	free(X.p384_priv);
	free(X.p256_cert_priv);
	return 0;
}

/* Every test starts from the same verifier. */
static int reset(void **state)
{
	X.v = (struct idtoken_verifier){
	    .keys = X.set,
	    .issuer = ISSUER,
	    .audience = AUD,
	    .alg_mask = BIT(JWT_ALG_RS256) | BIT(JWT_ALG_ES256) | BIT(JWT_ALG_ES384),
	    .leeway = 60,
	};
	return 0;
}

/* Claims of a good token. Caller decrefs. */
static json_t *good_claims(void)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "iss", ISSUER, "aud", AUD, "sub",
	                      "user-1", "email", "ada@example.com", "exp", (json_int_t)(NOW + 600),
	                      "iat", (json_int_t)NOW);

	assert_non_null(c);
	return c;
}

/* A token signed by libjwt. Takes the claims reference; kid may be NULL. Caller frees. */
static char *libjwt_token(const char *key, size_t keylen, jwt_alg_t alg, const char *kid,
                          json_t *claims)
{
	jwt_t *j = NULL;
	char *cj = json_dumps(claims, JSON_COMPACT);
	char *tok;

	assert_non_null(cj);
	assert_int_equal(jwt_new(&j), 0);
	assert_int_equal(jwt_add_grants_json(j, cj), 0);
	if (kid)
		assert_int_equal(jwt_add_header(j, "kid", kid), 0);
	assert_int_equal(jwt_set_alg(j, alg, (const unsigned char *)key, (int)keylen), 0);
	tok = jwt_encode_str(j);
	assert_non_null(tok);
	jwt_free(j);
	free(cj);
	json_decref(claims);
	return tok;
}

static char *sign(const char *priv_pem, jwt_alg_t alg, const char *kid, json_t *claims)
{
	return libjwt_token(priv_pem, strlen(priv_pem), alg, kid, claims);
}

static char *join3(const char *a, const char *b, const char *c)
{
	size_t len = strlen(a) + strlen(b) + strlen(c) + 3;
	char *s = malloc(len);

	assert_non_null(s);
	snprintf(s, len, "%s.%s.%s", a, b, c);
	return s;
}

/*
 * A compact JWS made without libjwt, following RFC 7515/7518 (ECDSA as the
 * raw r||s pair), over exactly the header and payload texts given. Caller frees.
 */
static char *craft(EVP_PKEY *pk, const char *md, const char *header, const char *payload)
{
	char *h = tk_b64url(header, strlen(header));
	char *p = tk_b64url(payload, strlen(payload));
	char *input = join3(h, p, "");
	unsigned char der[1024], raw[2 * 66];
	const unsigned char *dp = der;
	size_t derlen = sizeof(der), rawlen;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char *sig, *tok;

	input[strlen(input) - 1] = '\0'; /* "h.p" */
	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, pk, NULL), 1);
	assert_int_equal(
	    EVP_DigestSign(ctx, der, &derlen, (const unsigned char *)input, strlen(input)), 1);
	if (EVP_PKEY_is_a(pk, "EC")) {
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &dp, (long)derlen);
		int fs = (EVP_PKEY_get_bits(pk) + 7) / 8;

		assert_non_null(es);
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, fs), fs);
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + fs, fs), fs);
		rawlen = 2 * (size_t)fs;
		ECDSA_SIG_free(es);
		sig = tk_b64url(raw, rawlen);
	} else {
		sig = tk_b64url(der, derlen);
	}
	tok = join3(h, p, sig);
	EVP_MD_CTX_free(ctx);
	free(h);
	free(p);
	free(input);
	free(sig);
	return tok;
}

static char *craft_claims(EVP_PKEY *pk, const char *md, const char *header, json_t *claims)
{
	char *cj = json_dumps(claims, JSON_COMPACT);
	char *tok;

	assert_non_null(cj);
	tok = craft(pk, md, header, cj);
	free(cj);
	json_decref(claims);
	return tok;
}

/* Verifies tok (and frees it), expecting want. */
static void expect(char *tok, enum idtoken_result want)
{
	struct idtoken_claims c;
	enum idtoken_result got = idtoken_verify(&X.v, tok, NOW, &c);

	if (got != want)
		fail_msg("got %d (%s), want %d (%s)", got, idtoken_result_message(got), want,
		         idtoken_result_message(want));
	if (got != IDTOKEN_OK)
		assert_string_equal(c.sub, "");
	free(tok);
}

static void test_good_rs256(void **state)
{
	char *tok = sign(X.rsa_priv, JWT_ALG_RS256, "rsa1", good_claims());
	struct idtoken_claims c;

	assert_int_equal(idtoken_verify(&X.v, tok, NOW, &c), IDTOKEN_OK);
	assert_string_equal(c.sub, "user-1");
	assert_string_equal(c.email, "ada@example.com");
	assert_int_equal(c.exp, NOW + 600);
	free(tok);
}

static void test_good_es256_es384(void **state)
{
	expect(sign(X.p256_priv, JWT_ALG_ES256, "ec256", good_claims()), IDTOKEN_OK);
	expect(sign(X.p384_priv, JWT_ALG_ES384, "ec384", good_claims()), IDTOKEN_OK);
	expect(sign(X.p256_cert_priv, JWT_ALG_ES256, "cert", good_claims()), IDTOKEN_OK);
}

/* Tokens signed the way other IdPs sign them, not by libjwt. */
static void test_good_independent_signatures(void **state)
{
	expect(
	    craft_claims(X.p256, "SHA256", "{\"alg\":\"ES256\",\"kid\":\"ec256\"}", good_claims()),
	    IDTOKEN_OK);
	expect(
	    craft_claims(X.p384, "SHA384", "{\"alg\":\"ES384\",\"kid\":\"ec384\"}", good_claims()),
	    IDTOKEN_OK);
	expect(craft_claims(X.rsa, "SHA256", "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"rsa1\"}",
	                    good_claims()),
	       IDTOKEN_OK);
	/* A one-byte change in the payload breaks the signature. */
	{
		char *tok = craft_claims(X.p256, "SHA256", "{\"alg\":\"ES256\",\"kid\":\"ec256\"}",
		                         good_claims());
		char *p = strchr(tok, '.') + 5;

		*p = *p == 'A' ? 'B' : 'A';
		expect(tok, IDTOKEN_BAD_SIGNATURE);
	}
}

static void test_typ(void **state)
{
	char *tok;
	jwt_t *j = NULL;

	expect(craft_claims(X.rsa, "SHA256", "{\"alg\":\"RS256\",\"typ\":\"jwt\",\"kid\":\"rsa1\"}",
	                    good_claims()),
	       IDTOKEN_OK);
	expect(craft_claims(X.rsa, "SHA256",
	                    "{\"alg\":\"RS256\",\"typ\":\"logout+jwt\",\"kid\":\"rsa1\"}",
	                    good_claims()),
	       IDTOKEN_MALFORMED);
	expect(craft_claims(X.rsa, "SHA256", "{\"alg\":\"RS256\",\"typ\":1,\"kid\":\"rsa1\"}",
	                    good_claims()),
	       IDTOKEN_MALFORMED);

	/*
	 * at+jwt (RFC 9068) is refused because libjwt 1.10.2 cannot verify it:
	 * should a libjwt update accept it, this control fails and the refusal
	 * in idtoken_parse_header can go.
	 */
	tok =
	    craft_claims(X.rsa, "SHA256", "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"rsa1\"}",
	                 good_claims());
	assert_int_not_equal(jwt_decode(&j, tok, (const unsigned char *)X.set->keys[0].pem,
	                                (int)X.set->keys[0].pem_len),
	                     0);
	assert_null(j);
	expect(tok, IDTOKEN_MALFORMED);
}

static void test_header_tricks(void **state)
{
	/* Critical extensions we do not implement. */
	expect(craft_claims(X.rsa, "SHA256",
	                    "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"b64\"],\"b64\":false}",
	                    good_claims()),
	       IDTOKEN_MALFORMED);
	/* Two algs: the reader that takes the other one must never be asked. */
	expect(craft_claims(X.rsa, "SHA256",
	                    "{\"alg\":\"HS256\",\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
	                    good_claims()),
	       IDTOKEN_MALFORMED);
	expect(craft_claims(X.rsa, "SHA256", "{\"alg\":\"RS256\",\"kid\":7}", good_claims()),
	       IDTOKEN_MALFORMED);
	expect(
	    craft_claims(X.rsa, "SHA256", "{\"alg\":[\"RS256\"],\"kid\":\"rsa1\"}", good_claims()),
	    IDTOKEN_MALFORMED);
	expect(craft_claims(X.rsa, "SHA256", "{\"kid\":\"rsa1\"}", good_claims()),
	       IDTOKEN_MALFORMED);
	expect(craft_claims(X.rsa, "SHA256", "{\"alg\":\"RS256-AND-A-LONG-TAIL\"}", good_claims()),
	       IDTOKEN_ALG_NOT_ALLOWED);
	/* Payloads that are not one JSON object, under a good signature. */
	expect(craft(X.rsa, "SHA256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", "[1,2]"),
	       IDTOKEN_MALFORMED);
	expect(craft(X.rsa, "SHA256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
	             "{\"sub\":\"a\",\"sub\":\"b\"}"),
	       IDTOKEN_MALFORMED);
}

static void test_wrong_key(void **state)
{
	expect(sign(X.rsa_other_priv, JWT_ALG_RS256, "rsa1", good_claims()), IDTOKEN_BAD_SIGNATURE);
	expect(sign(X.p256_cert_priv, JWT_ALG_ES256, "ec256", good_claims()),
	       IDTOKEN_BAD_SIGNATURE);
}

static void test_unknown_kid(void **state)
{
	expect(sign(X.rsa_priv, JWT_ALG_RS256, "who", good_claims()), IDTOKEN_UNKNOWN_KEY);
	/* The kid names a key of another type. */
	expect(sign(X.rsa_priv, JWT_ALG_RS256, "ec256", good_claims()), IDTOKEN_UNKNOWN_KEY);
	expect(sign(X.p384_priv, JWT_ALG_ES384, "ec256", good_claims()), IDTOKEN_UNKNOWN_KEY);
}

static void test_no_kid(void **state)
{
	/* One RSA key: it is the one. */
	expect(sign(X.rsa_priv, JWT_ALG_RS256, NULL, good_claims()), IDTOKEN_OK);
	expect(sign(X.p384_priv, JWT_ALG_ES384, NULL, good_claims()), IDTOKEN_OK);
	/* Two P-256 keys: no guessing. */
	expect(sign(X.p256_priv, JWT_ALG_ES256, NULL, good_claims()), IDTOKEN_UNKNOWN_KEY);
}

static void test_no_keys(void **state)
{
	struct jwks *empty = NULL;
	char err[128];

	X.v.keys = NULL;
	expect(sign(X.rsa_priv, JWT_ALG_RS256, "rsa1", good_claims()), IDTOKEN_NO_KEYS);
	assert_int_equal(jwks_parse("{\"keys\":[]}", 11, &empty, err, sizeof(err)), 0);
	X.v.keys = empty;
	expect(sign(X.rsa_priv, JWT_ALG_RS256, "rsa1", good_claims()), IDTOKEN_NO_KEYS);
	jwks_free(empty);
}

/* The claims as a base64url payload part. Takes the reference. Caller frees. */
static char *claims_part(json_t *claims)
{
	char *cj = json_dumps(claims, JSON_COMPACT);
	char *p;

	assert_non_null(cj);
	p = tk_b64url(cj, strlen(cj));
	free(cj);
	json_decref(claims);
	return p;
}

static void test_alg_none(void **state)
{
	const char *none_hdr = "eyJhbGciOiJub25lIn0"; /* {"alg":"none"} */
	char *p = claims_part(good_claims());
	char *kid_hdr = tk_b64url("{\"alg\":\"none\",\"kid\":\"rsa1\"}", 27);
	char *unsigned_tok = join3(none_hdr, p, "");
	struct idtoken_header h;
	jwt_t *j = NULL;

	/* Control: libjwt on its own accepts this token. */
	assert_int_equal(jwt_decode(&j, unsigned_tok, NULL, 0), 0);
	jwt_free(j);
	assert_int_equal(idtoken_parse_header(unsigned_tok, &h), IDTOKEN_OK);
	assert_string_equal(h.alg, "none");

	/* Even a mask that names none does not let it in. */
	X.v.alg_mask |= BIT(JWT_ALG_NONE);
	expect(unsigned_tok, IDTOKEN_MALFORMED);
	expect(join3(none_hdr, p, "AAAA"), IDTOKEN_ALG_NOT_ALLOWED);
	expect(join3(kid_hdr, p, "c2lnbmF0dXJl"), IDTOKEN_ALG_NOT_ALLOWED);
	free(p);
	free(kid_hdr);
}

/* The classic confusion: an RSA public key PEM used as an HMAC secret. */
static void test_hs256_with_public_key(void **state)
{
	const struct jwk *k = jwks_find(X.set, "rsa1", "RS256");
	char *tok;
	jwt_t *j = NULL;

	assert_non_null(k);
	tok = libjwt_token(k->pem, k->pem_len, JWT_ALG_HS256, "rsa1", good_claims());
	/* Control: libjwt given the key we hold for rsa1 accepts the forgery. */
	assert_int_equal(jwt_decode(&j, tok, (const unsigned char *)k->pem, (int)k->pem_len), 0);
	jwt_free(j);

	X.v.alg_mask |= BIT(JWT_ALG_HS256) | BIT(JWT_ALG_HS384) | BIT(JWT_ALG_HS512);
	expect(tok, IDTOKEN_ALG_NOT_ALLOWED);
	expect(libjwt_token(k->pem, k->pem_len, JWT_ALG_HS256, NULL, good_claims()),
	       IDTOKEN_ALG_NOT_ALLOWED);
	expect(libjwt_token(k->pem, k->pem_len, JWT_ALG_HS512, "rsa1", good_claims()),
	       IDTOKEN_ALG_NOT_ALLOWED);
}

static void test_alg_not_in_mask(void **state)
{
	X.v.alg_mask = BIT(JWT_ALG_RS256);
	expect(sign(X.rsa_priv, JWT_ALG_RS384, "rsa1", good_claims()), IDTOKEN_ALG_NOT_ALLOWED);
	expect(sign(X.p256_priv, JWT_ALG_ES256, "ec256", good_claims()), IDTOKEN_ALG_NOT_ALLOWED);
	X.v.alg_mask |= BIT(JWT_ALG_RS384);
	expect(sign(X.rsa_priv, JWT_ALG_RS384, "rsa1", good_claims()), IDTOKEN_OK);
	X.v.alg_mask = 0;
	expect(sign(X.rsa_priv, JWT_ALG_RS256, "rsa1", good_claims()), IDTOKEN_ALG_NOT_ALLOWED);
}

/* A good RS256 token whose claim name is set to value (taken), or removed when value is NULL. */
static char *token_with(const char *name, json_t *value)
{
	json_t *c = good_claims();

	if (value)
		assert_int_equal(json_object_set_new(c, name, value), 0);
	else
		json_object_del(c, name);
	return sign(X.rsa_priv, JWT_ALG_RS256, "rsa1", c);
}

static void test_issuer(void **state)
{
	expect(token_with("iss", json_string("https://evil.example.test/")), IDTOKEN_BAD_ISSUER);
	expect(token_with("iss", json_string("https://idp.example.test")), IDTOKEN_BAD_ISSUER);
	expect(token_with("iss", json_integer(1)), IDTOKEN_BAD_ISSUER);
	expect(token_with("iss", NULL), IDTOKEN_BAD_ISSUER);
	/*
	 * A NUL byte must not cut the comparison short. libjwt 1.10.2 already
	 * refuses to read such a payload (its answer counts as a bad signature);
	 * our own length-checked comparison is the second line.
	 */
	{
		json_t *c = good_claims();

		json_object_set_new(c, "iss", json_stringn(ISSUER "\0evil", strlen(ISSUER) + 5));
		expect(craft_claims(X.rsa, "SHA256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", c),
		       IDTOKEN_BAD_SIGNATURE);
	}
	X.v.issuer = NULL;
	expect(token_with("iss", json_string(ISSUER)), IDTOKEN_BAD_ISSUER);
}

static void test_audience(void **state)
{
	expect(token_with("aud", json_string("other")), IDTOKEN_BAD_AUDIENCE);
	expect(token_with("aud", json_string("mgmtd2")), IDTOKEN_BAD_AUDIENCE);
	expect(token_with("aud", NULL), IDTOKEN_BAD_AUDIENCE);
	expect(token_with("aud", json_pack("[s,s]", "other", AUD)), IDTOKEN_OK);
	expect(token_with("aud", json_pack("[s,s]", "other", "more")), IDTOKEN_BAD_AUDIENCE);
	expect(token_with("aud", json_pack("[]")), IDTOKEN_BAD_AUDIENCE);
	expect(token_with("aud", json_pack("[[s]]", AUD)), IDTOKEN_BAD_AUDIENCE);
	expect(token_with("aud", json_pack("{s:s}", "aud", AUD)), IDTOKEN_BAD_AUDIENCE);
}

static void test_expiry(void **state)
{
	expect(token_with("exp", json_integer(NOW - 61)), IDTOKEN_EXPIRED);
	expect(token_with("exp", json_integer(NOW - 60)), IDTOKEN_OK);
	expect(token_with("exp", json_real((double)NOW - 60.5)), IDTOKEN_EXPIRED);
	expect(token_with("exp", json_real((double)NOW - 59.5)), IDTOKEN_OK);
	expect(token_with("exp", json_real((double)NOW + 600.25)), IDTOKEN_OK);
	expect(token_with("exp", NULL), IDTOKEN_MISSING_CLAIM);
	expect(token_with("exp", json_string("tomorrow")), IDTOKEN_MALFORMED);
	expect(token_with("exp", json_real(1e300)), IDTOKEN_MALFORMED);
	X.v.leeway = 0;
	expect(token_with("exp", json_integer(NOW)), IDTOKEN_OK);
	expect(token_with("exp", json_integer(NOW - 1)), IDTOKEN_EXPIRED);
}

static void test_not_before(void **state)
{
	expect(token_with("nbf", json_integer(NOW + 61)), IDTOKEN_NOT_YET_VALID);
	expect(token_with("nbf", json_integer(NOW + 60)), IDTOKEN_OK);
	expect(token_with("nbf", json_real((double)NOW + 60.5)), IDTOKEN_OK);
	expect(token_with("nbf", json_real((double)NOW + 61.5)), IDTOKEN_NOT_YET_VALID);
	expect(token_with("nbf", json_string("now")), IDTOKEN_MALFORMED);
}

static void test_issued_at(void **state)
{
	expect(token_with("iat", json_integer(NOW + 61)), IDTOKEN_ISSUED_IN_FUTURE);
	expect(token_with("iat", json_integer(NOW + 60)), IDTOKEN_OK);
	expect(token_with("iat", NULL), IDTOKEN_OK);
	expect(token_with("iat", json_true()), IDTOKEN_MALFORMED);
}

static void test_subject(void **state)
{
	char longsub[300];

	expect(token_with("sub", NULL), IDTOKEN_MISSING_CLAIM);
	expect(token_with("sub", json_string("")), IDTOKEN_MISSING_CLAIM);
	expect(token_with("sub", json_integer(42)), IDTOKEN_MISSING_CLAIM);
	memset(longsub, 'a', sizeof(longsub) - 1);
	longsub[sizeof(longsub) - 1] = '\0';
	expect(token_with("sub", json_string(longsub)), IDTOKEN_MALFORMED);
	/* Refused by libjwt already, see test_issuer. */
	{
		json_t *c = good_claims();

		json_object_set_new(c, "sub", json_stringn("ab\0c", 4));
		expect(craft_claims(X.rsa, "SHA256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", c),
		       IDTOKEN_BAD_SIGNATURE);
	}
}

static void test_email(void **state)
{
	char longmail[400];
	struct idtoken_claims c;
	char *tok;
	json_t *claims;

	expect(token_with("email", json_integer(1)), IDTOKEN_MALFORMED);
	memset(longmail, 'a', sizeof(longmail) - 1);
	longmail[sizeof(longmail) - 1] = '\0';
	expect(token_with("email", json_string(longmail)), IDTOKEN_MALFORMED);

	tok = token_with("email", NULL);
	assert_int_equal(idtoken_verify(&X.v, tok, NOW, &c), IDTOKEN_OK);
	assert_string_equal(c.email, "");
	assert_string_equal(c.sub, "user-1");
	free(tok);

	/* An address the IdP has not verified must not be used to match a user. */
	claims = good_claims();
	json_object_set_new(claims, "email_verified", json_false());
	tok = sign(X.rsa_priv, JWT_ALG_RS256, "rsa1", claims);
	assert_int_equal(idtoken_verify(&X.v, tok, NOW, &c), IDTOKEN_OK);
	assert_string_equal(c.email, "");
	free(tok);

	claims = good_claims();
	json_object_set_new(claims, "email_verified", json_true());
	tok = sign(X.rsa_priv, JWT_ALG_RS256, "rsa1", claims);
	assert_int_equal(idtoken_verify(&X.v, tok, NOW, &c), IDTOKEN_OK);
	assert_string_equal(c.email, "ada@example.com");
	free(tok);
}

static void test_garbage(void **state)
{
	struct idtoken_claims c;
	char *good = sign(X.rsa_priv, JWT_ALG_RS256, "rsa1", good_claims());
	char *not_json = tk_b64url("not json", 8);
	char *array = tk_b64url("[\"alg\",\"RS256\"]", 15);
	char *big;
	size_t len;

	assert_int_equal(idtoken_verify(&X.v, NULL, NOW, &c), IDTOKEN_MALFORMED);
	assert_int_equal(idtoken_verify(NULL, good, NOW, &c), IDTOKEN_MALFORMED);
	assert_int_equal(idtoken_verify(&X.v, good, NOW, NULL), IDTOKEN_MALFORMED);
	expect(strdup(""), IDTOKEN_MALFORMED);
	expect(strdup("garbage"), IDTOKEN_MALFORMED);
	expect(strdup("M.V1.abcdefgh"), IDTOKEN_MALFORMED);
	expect(strdup("eyJhbGciOiJSUzI1NiJ9.e30"), IDTOKEN_MALFORMED);
	expect(join3(good, "e30", "AAAA"), IDTOKEN_MALFORMED); /* five parts */
	len = strlen(good) + 6;
	big = malloc(len);
	assert_non_null(big);
	snprintf(big, len, "%s.AAAA", good); /* four parts */
	expect(big, IDTOKEN_MALFORMED);
	expect(strdup("eyJhbGciOiJSUzI1NiJ9.e30=.AAAA"), IDTOKEN_MALFORMED);
	expect(strdup("eyJhbGciOiJSUzI1NiJ9.e+30.AAAA"), IDTOKEN_MALFORMED);
	expect(strdup("eyJhbGciOiJSUzI1NiJ9.e30.AA AA"), IDTOKEN_MALFORMED);
	expect(strdup("eyJhbGciOiJSUzI1NiJ9..AAAA"), IDTOKEN_MALFORMED);
	expect(strdup("eyJhb.e30.AAAA"), IDTOKEN_MALFORMED); /* impossible base64 length */
	expect(join3(not_json, "e30", "AAAA"), IDTOKEN_MALFORMED);
	expect(join3(array, "e30", "AAAA"), IDTOKEN_MALFORMED);

	/* Over the length bound, even with a good signature. */
	{
		char pad[IDTOKEN_MAX_LEN];
		json_t *claims = good_claims();

		memset(pad, 'x', sizeof(pad) - 1);
		pad[sizeof(pad) - 1] = '\0';
		json_object_set_new(claims, "pad", json_string(pad));
		expect(sign(X.rsa_priv, JWT_ALG_RS256, "rsa1", claims), IDTOKEN_MALFORMED);
	}
	free(good);
	free(not_json);
	free(array);
}

static void test_looks_like_jwt(void **state)
{
	assert_true(idtoken_looks_like_jwt("a.b.c"));
	assert_true(idtoken_looks_like_jwt("eyJ-_09.AZaz.x_-"));
	assert_false(idtoken_looks_like_jwt(NULL));
	assert_false(idtoken_looks_like_jwt(""));
	assert_false(idtoken_looks_like_jwt(".."));
	assert_false(idtoken_looks_like_jwt("a.b"));
	assert_false(idtoken_looks_like_jwt("a.b."));
	assert_false(idtoken_looks_like_jwt(".b.c"));
	assert_false(idtoken_looks_like_jwt("a..c"));
	assert_false(idtoken_looks_like_jwt("a.b.c.d"));
	assert_false(idtoken_looks_like_jwt("a.b.c="));
	assert_false(idtoken_looks_like_jwt("a.b/c.d"));
	/* Only a shape: callers must look for the M.V1. prefix before asking. */
	assert_true(idtoken_looks_like_jwt("M.V1.abc"));
}

static void test_parse_header(void **state)
{
	struct idtoken_header h;
	char *tok = sign(X.p384_priv, JWT_ALG_ES384, "ec384", good_claims());

	assert_int_equal(idtoken_parse_header(tok, &h), IDTOKEN_OK);
	assert_string_equal(h.alg, "ES384");
	assert_string_equal(h.kid, "ec384");
	free(tok);
	tok = sign(X.rsa_priv, JWT_ALG_RS256, NULL, good_claims());
	assert_int_equal(idtoken_parse_header(tok, &h), IDTOKEN_OK);
	assert_string_equal(h.alg, "RS256");
	assert_string_equal(h.kid, "");
	free(tok);
	assert_int_equal(idtoken_parse_header("bm9wZQ", &h), IDTOKEN_MALFORMED);
	assert_int_equal(idtoken_parse_header(NULL, &h), IDTOKEN_MALFORMED);
}

static void test_messages(void **state)
{
	for (int i = IDTOKEN_OK; i <= IDTOKEN_KEYS_NOT_LOADED; i++) {
		const char *m = idtoken_result_message((enum idtoken_result)i);

		assert_non_null(m);
		assert_true(strlen(m) > 10);
		for (int k = IDTOKEN_OK; k < i; k++)
			assert_string_not_equal(m, idtoken_result_message((enum idtoken_result)k));
	}
	assert_string_equal(idtoken_result_message(IDTOKEN_EXPIRED), "the token has expired");
	assert_string_equal(idtoken_result_message(IDTOKEN_ALG_NOT_ALLOWED),
	                    "the token's signing algorithm is not allowed");
}

/* RS384 and RS512 with the same RSA key, when the allow-list has them. */
static void test_rsa_sha2_family(void **state)
{
	X.v.alg_mask |= BIT(JWT_ALG_RS384) | BIT(JWT_ALG_RS512);
	expect(sign(X.rsa_priv, JWT_ALG_RS384, "rsa1", good_claims()), IDTOKEN_OK);
	expect(sign(X.rsa_priv, JWT_ALG_RS512, "rsa1", good_claims()), IDTOKEN_OK);
	expect(craft_claims(X.rsa, "SHA512", "{\"alg\":\"RS512\",\"kid\":\"rsa1\"}", good_claims()),
	       IDTOKEN_OK);
	/* the header says RS512, the signature is RS256's */
	expect(craft_claims(X.rsa, "SHA256", "{\"alg\":\"RS512\",\"kid\":\"rsa1\"}", good_claims()),
	       IDTOKEN_BAD_SIGNATURE);
}

/* not_before: what the verified-JWT cache needs to serve a token no earlier than verification
 * would. */
static void test_not_before_claim(void **state)
{
	struct idtoken_claims c;
	json_t *claims;
	char *tok;

	tok = token_with("iat", NULL);
	assert_int_equal(idtoken_verify(&X.v, tok, NOW, &c), IDTOKEN_OK);
	assert_true(c.not_before == INT64_MIN);
	free(tok);

	tok = token_with("iat", json_integer(NOW - 5));
	assert_int_equal(idtoken_verify(&X.v, tok, NOW, &c), IDTOKEN_OK);
	assert_int_equal(c.not_before, NOW - 5);
	free(tok);

	/* the later of nbf and iat */
	claims = good_claims();
	json_object_set_new(claims, "nbf", json_integer(NOW + 10));
	tok = sign(X.rsa_priv, JWT_ALG_RS256, "rsa1", claims);
	assert_int_equal(idtoken_verify(&X.v, tok, NOW, &c), IDTOKEN_OK);
	assert_int_equal(c.not_before, NOW + 10);
	free(tok);
	claims = good_claims();
	json_object_set_new(claims, "nbf", json_integer(NOW - 100));
	tok = sign(X.rsa_priv, JWT_ALG_RS256, "rsa1", claims);
	assert_int_equal(idtoken_verify(&X.v, tok, NOW, &c), IDTOKEN_OK);
	assert_int_equal(c.not_before, NOW);
	free(tok);
}

static void test_peek_issuer(void **state)
{
	char iss[64];
	char *tok = sign(X.rsa_priv, JWT_ALG_RS256, "rsa1", good_claims());
	json_t *c;

	assert_int_equal(idtoken_peek_issuer(tok, iss, sizeof(iss)), IDTOKEN_OK);
	assert_string_equal(iss, ISSUER);
	/* too long for the buffer: no issuer, not a cut one */
	assert_int_equal(idtoken_peek_issuer(tok, iss, 5), IDTOKEN_BAD_ISSUER);
	assert_string_equal(iss, "");
	free(tok);
	tok = token_with("iss", NULL);
	assert_int_equal(idtoken_peek_issuer(tok, iss, sizeof(iss)), IDTOKEN_BAD_ISSUER);
	free(tok);
	tok = token_with("iss", json_integer(3));
	assert_int_equal(idtoken_peek_issuer(tok, iss, sizeof(iss)), IDTOKEN_BAD_ISSUER);
	free(tok);
	/* unverified: a forged signature still shows its iss, which is all it is for */
	c = good_claims();
	tok = craft_claims(X.rsa_other, "SHA256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", c);
	assert_int_equal(idtoken_peek_issuer(tok, iss, sizeof(iss)), IDTOKEN_OK);
	expect(tok, IDTOKEN_BAD_SIGNATURE);
	assert_int_equal(idtoken_peek_issuer("a.b.c", iss, sizeof(iss)), IDTOKEN_MALFORMED);
	assert_int_equal(idtoken_peek_issuer("not a jwt", iss, sizeof(iss)), IDTOKEN_MALFORMED);
	assert_int_equal(idtoken_peek_issuer(NULL, iss, sizeof(iss)), IDTOKEN_MALFORMED);
}

#define T(f) cmocka_unit_test_setup(f, reset)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_good_rs256),
	    T(test_good_es256_es384),
	    T(test_good_independent_signatures),
	    T(test_typ),
	    T(test_header_tricks),
	    T(test_wrong_key),
	    T(test_unknown_kid),
	    T(test_no_kid),
	    T(test_no_keys),
	    T(test_alg_none),
	    T(test_hs256_with_public_key),
	    T(test_alg_not_in_mask),
	    T(test_issuer),
	    T(test_audience),
	    T(test_expiry),
	    T(test_not_before),
	    T(test_issued_at),
	    T(test_subject),
	    T(test_email),
	    T(test_garbage),
	    T(test_looks_like_jwt),
	    T(test_parse_header),
	    T(test_messages),
	    T(test_rsa_sha2_family),
	    T(test_not_before_claim),
	    T(test_peek_issuer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
