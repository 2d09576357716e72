/*
 * test_idtoken.c - IdP JWT verification: header checks (typ JWT and RFC 9068's
 * at+jwt), alg allow-list, key choice, signatures (libjwt-made and
 * independently made) and claims, and one attack corpus run under every
 * accepted header type.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include <jwt.h>

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
	const char *label; /* what a failure message names: the corpus's signer and typ */
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

/* Signs input into out (at most cap bytes); returns the signature's length. */
typedef size_t (*sign_fn)(const void *how, const char *input, unsigned char *out, size_t cap);

/* A compact JWS over exactly the header and payload texts given, signed by fn. Caller frees. */
static char *compose(const char *header, const char *payload, sign_fn fn, const void *how)
{
	char *h = tk_b64url(header, strlen(header));
	char *p = tk_b64url(payload, strlen(payload));
	char *input = join3(h, p, "");
	unsigned char sigbin[1024];
	size_t siglen;
	char *sig, *tok;

	input[strlen(input) - 1] = '\0'; /* "h.p" */
	siglen = fn(how, input, sigbin, sizeof(sigbin));
	sig = tk_b64url(sigbin, siglen);
	tok = join3(h, p, sig);
	free(h);
	free(p);
	free(input);
	free(sig);
	return tok;
}

struct evp_signer {
	EVP_PKEY *pk;
	const char *md;
	bool raw_ec;
};

static size_t evp_sign(const void *how, const char *input, unsigned char *out, size_t cap)
{
	const struct evp_signer *e = how;

	return tk_sign(e->pk, e->md, input, strlen(input), e->raw_ec, out, cap);
}

/*
 * A compact JWS made without libjwt, following RFC 7515/7518 (ECDSA as the
 * raw r||s pair; as OpenSSL's DER when der_ecdsa, which RFC 7518 forbids),
 * over exactly the header and payload texts given. Caller frees.
 */
static char *craft_form(EVP_PKEY *pk, const char *md, const char *header, const char *payload,
                        bool der_ecdsa)
{
	const struct evp_signer e = {pk, md, !der_ecdsa};

	return compose(header, payload, evp_sign, &e);
}

static char *craft(EVP_PKEY *pk, const char *md, const char *header, const char *payload)
{
	return craft_form(pk, md, header, payload, false);
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

/* Verifies tok (and frees it), expecting want. */
static void expect(char *tok, enum idtoken_result want)
{
	struct idtoken_claims c;
	enum idtoken_result got = idtoken_verify(&X.v, tok, NOW, &c);

	if (got != want)
		fail_msg("%sgot %d (%s), want %d (%s)", X.label ? X.label : "", got,
		         idtoken_result_message(got), want, idtoken_result_message(want));
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

/* A header with alg, and kid and typ when not NULL, as JSON text (escaped). Caller frees. */
static char *header_text(const char *alg, const char *kid, const char *typ)
{
	json_t *h = json_pack("{s:s}", "alg", alg);
	char *s;

	assert_non_null(h);
	if (kid)
		assert_int_equal(json_object_set_new(h, "kid", json_string(kid)), 0);
	if (typ)
		assert_int_equal(json_object_set_new(h, "typ", json_string(typ)), 0);
	s = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_non_null(s);
	json_decref(h);
	return s;
}

/* Who signs a corpus token: a key in the set, its alg and kid, and a kid of the other type. */
struct signer {
	EVP_PKEY *pk;
	const char *md, *alg, *kid, *other_kid;
};

/* A token signed by sg under header type typ (NULL: no typ). Takes the claims. Caller frees. */
static char *typed_token(const struct signer *sg, const char *typ, json_t *claims)
{
	char *h = header_text(sg->alg, sg->kid, typ);
	char *tok = craft_claims(sg->pk, sg->md, h, claims);

	free(h);
	return tok;
}

/* tok with part idx (0 header, 1 payload, 2 signature) replaced by part. Caller frees. */
static char *with_part(const char *tok, int idx, const char *part)
{
	const char *p1 = strchr(tok, '.') + 1, *p2 = strchr(p1, '.') + 1;
	char *h = strndup(tok, (size_t)(p1 - 1 - tok));
	char *p = strndup(p1, (size_t)(p2 - 1 - p1));
	char *sig = strdup(p2), *out;

	assert_non_null(h);
	assert_non_null(p);
	assert_non_null(sig);
	out = join3(idx == 0 ? part : h, idx == 1 ? part : p, idx == 2 ? part : sig);
	free(h);
	free(p);
	free(sig);
	return out;
}

/* The decoded signature of tok, in buf; returns its length. */
static size_t sig_bytes(const char *tok, unsigned char *buf, size_t cap)
{
	const char *sig = strrchr(tok, '.') + 1;
	size_t len = 0;

	assert_int_equal(sodium_base642bin(buf, cap, sig, strlen(sig), NULL, &len, NULL,
	                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	                 0);
	return len;
}

/* tok with its signature bytes replaced by sig. Caller frees. */
static char *with_sig(const char *tok, const unsigned char *sig, size_t len)
{
	char *b64 = tk_b64url(sig, len);
	char *out = with_part(tok, 2, b64);

	free(b64);
	return out;
}

struct hmac_signer {
	const char *key;
	size_t len;
};

static size_t hmac_sign(const void *how, const char *input, unsigned char *out, size_t cap)
{
	const struct hmac_signer *k = how;
	crypto_auth_hmacsha256_state st;

	assert_true(cap >= crypto_auth_hmacsha256_BYTES);
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)k->key, k->len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)input, strlen(input));
	crypto_auth_hmacsha256_final(&st, out);
	return crypto_auth_hmacsha256_BYTES;
}

/* HS256 keyed with key (the classic confusion: a public key PEM as the secret). Caller frees. */
static char *hs256_token(const char *key, size_t keylen, const char *header, json_t *claims)
{
	const struct hmac_signer k = {key, keylen};
	char *payload = json_dumps(claims, JSON_COMPACT), *tok;

	assert_non_null(payload);
	tok = compose(header, payload, hmac_sign, &k);
	free(payload);
	json_decref(claims);
	return tok;
}

/* Good claims with name set to value (taken). Caller decrefs. */
static json_t *claims_with(const char *name, json_t *value)
{
	json_t *c = good_claims();

	assert_int_equal(json_object_set_new(c, name, value), 0);
	return c;
}

/* Verifies tok (and frees it), expecting OK and the claims of want. */
static void expect_same_principal(char *tok, const struct idtoken_claims *want)
{
	struct idtoken_claims c;

	expect(strdup(tok), IDTOKEN_OK);
	assert_int_equal(idtoken_verify(&X.v, tok, NOW, &c), IDTOKEN_OK);
	assert_string_equal(c.sub, want->sub);
	assert_string_equal(c.email, want->email);
	assert_int_equal(c.exp, want->exp);
	assert_int_equal(c.not_before, want->not_before);
	free(tok);
}

/* Every spelling RFC 7515 4.1.9, RFC 7519 5.1 and RFC 9068 2.1 allow for the two types. */
static void test_typ_accepted(void **state)
{
	static const char *const typs[] = {
	    "JWT",    "jwt",    "Jwt",    "application/jwt",    "APPLICATION/JWT",
	    "at+jwt", "AT+JWT", "At+Jwt", "application/at+jwt", "Application/AT+JWT",
	};
	const struct signer sg = {X.rsa, "SHA256", "RS256", "rsa1", "ec256"};
	struct idtoken_claims base;
	struct idtoken_header h;
	char *tok;

	tok = typed_token(&sg, NULL, good_claims());
	assert_int_equal(idtoken_verify(&X.v, tok, NOW, &base), IDTOKEN_OK);
	assert_string_equal(base.sub, "user-1");
	free(tok);
	for (size_t i = 0; i < sizeof(typs) / sizeof(typs[0]); i++) {
		tok = typed_token(&sg, typs[i], good_claims());
		assert_int_equal(idtoken_parse_header(tok, &h), IDTOKEN_OK);
		assert_string_equal(h.typ, typs[i]);
		expect_same_principal(tok, &base);
	}
}

static void test_typ_refused(void **state)
{
	/* Other explicit types: tokens meant for something else (RFC 8725 3.11). */
	static const char *const typs[] = {
	    "logout+jwt",
	    "application/logout+jwt",
	    "secevent+jwt",
	    "JWS",
	    "jose",
	    "application/jose",
	    "text/jwt",
	    "application/application/jwt",
	    "at+jwt ",
	    " JWT",
	    "at+jwt; q=1",
	    "application/at+jwt/x",
	    "",
	    "at-jwt",
	    "atjwt",
	    "id_token+jwt",
	};
	const struct signer signers[] = {
	    {X.rsa, "SHA256", "RS256", "rsa1", "ec256"},
	    {X.p256, "SHA256", "ES256", "ec256", "rsa1"},
	};
	char msg[128], want[128];
	struct idtoken_header h;
	char *tok;

	for (size_t s = 0; s < 2; s++) {
		for (size_t i = 0; i < sizeof(typs) / sizeof(typs[0]); i++) {
			tok = typed_token(&signers[s], typs[i], good_claims());
			assert_int_equal(idtoken_parse_header(tok, &h), IDTOKEN_TYPE_NOT_ACCEPTED);
			assert_string_equal(h.alg, "");
			assert_string_equal(h.kid, "");
			snprintf(want, sizeof(want), "the token's type \"%s\" is not accepted here",
			         h.typ);
			assert_string_equal(
			    idtoken_describe(IDTOKEN_TYPE_NOT_ACCEPTED, tok, msg, sizeof(msg)),
			    want);
			/* a good signature by a known key does not make it acceptable */
			expect(tok, IDTOKEN_TYPE_NOT_ACCEPTED);
		}
	}
	tok = typed_token(&signers[0], "logout+jwt", good_claims());
	assert_string_equal(idtoken_describe(IDTOKEN_TYPE_NOT_ACCEPTED, tok, msg, sizeof(msg)),
	                    "the token's type \"logout+jwt\" is not accepted here");
	free(tok);

	/* A typ that is not a string is a malformed header, not a type. */
	expect(craft_claims(X.rsa, "SHA256", "{\"alg\":\"RS256\",\"typ\":1,\"kid\":\"rsa1\"}",
	                    good_claims()),
	       IDTOKEN_MALFORMED);
	expect(craft_claims(X.rsa, "SHA256", "{\"alg\":\"RS256\",\"typ\":null,\"kid\":\"rsa1\"}",
	                    good_claims()),
	       IDTOKEN_MALFORMED);
	expect(craft_claims(X.rsa, "SHA256",
	                    "{\"alg\":\"RS256\",\"typ\":[\"at+jwt\"],\"kid\":\"rsa1\"}",
	                    good_claims()),
	       IDTOKEN_MALFORMED);
	expect(craft_claims(X.rsa, "SHA256",
	                    "{\"alg\":\"RS256\",\"typ\":\"at+jwt\\u0000\",\"kid\":\"rsa1\"}",
	                    good_claims()),
	       IDTOKEN_MALFORMED);
	/* Two typs: one reader might take either. */
	expect(craft_claims(X.rsa, "SHA256",
	                    "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"typ\":\"logout+jwt\","
	                    "\"kid\":\"rsa1\"}",
	                    good_claims()),
	       IDTOKEN_MALFORMED);
}

/* What a refused typ's message names is bounded and printable, whatever the token says. */
static void test_typ_refused_message_is_bounded(void **state)
{
	const struct signer sg = {X.rsa, "SHA256", "RS256", "rsa1", "ec256"};
	char long_typ[301], msg[128], tiny[8];
	char *tok;

	memset(long_typ, 'a', sizeof(long_typ) - 1);
	long_typ[sizeof(long_typ) - 1] = '\0';
	tok = typed_token(&sg, long_typ, good_claims());
	assert_string_equal(idtoken_describe(IDTOKEN_TYPE_NOT_ACCEPTED, tok, msg, sizeof(msg)),
	                    "the token's type \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is not "
	                    "accepted here");
	free(tok);

	/* quotes, backslashes, controls, spaces and non-ASCII bytes become '?' */
	tok = typed_token(&sg, "a\"b\\c\nd e\x01\xc3\xa9", good_claims());
	assert_string_equal(idtoken_describe(IDTOKEN_TYPE_NOT_ACCEPTED, tok, msg, sizeof(msg)),
	                    "the token's type \"a?b?c?d?e???\" is not accepted here");
	/* a buffer too small cuts the sentence, never overruns */
	assert_string_equal(idtoken_describe(IDTOKEN_TYPE_NOT_ACCEPTED, tok, tiny, sizeof(tiny)),
	                    "the tok");
	free(tok);

	/* Other results are described by their plain sentence. */
	assert_string_equal(idtoken_describe(IDTOKEN_EXPIRED, "a.b.c", msg, sizeof(msg)),
	                    "the token has expired");
	assert_string_equal(idtoken_describe(IDTOKEN_TYPE_NOT_ACCEPTED, NULL, msg, sizeof(msg)),
	                    idtoken_result_message(IDTOKEN_TYPE_NOT_ACCEPTED));
	assert_string_equal(idtoken_describe(IDTOKEN_MALFORMED, NULL, NULL, 0),
	                    idtoken_result_message(IDTOKEN_MALFORMED));
	assert_non_null(strstr(idtoken_result_message(IDTOKEN_TYPE_NOT_ACCEPTED), "type"));
}

/*
 * The attack corpus for one signer under one header type: every answer must
 * be what it is under the other types (the caller runs each).
 */
static void attack_corpus(const struct signer *sg, const char *typ,
                          const struct idtoken_claims *base)
{
	const struct jwk *rsa_key = jwks_find(X.set, "rsa1", "RS256");
	unsigned char sig[1024], bad[1024];
	char *good = typed_token(sg, typ, good_claims());
	char *hdr, *part, *tok;
	char label[64];
	size_t len;
	bool ec = strcmp(sg->alg, "ES256") == 0;

	snprintf(label, sizeof(label), "%s, typ %s: ", sg->alg, typ ? typ : "absent");
	X.label = label;

	expect_same_principal(strdup(good), base);

	/* tampered payload: the admin's claims under the user's signature */
	part = claims_part(claims_with("sub", json_string("admin-1")));
	expect(with_part(good, 1, part), IDTOKEN_BAD_SIGNATURE);
	free(part);

	/* tampered signature: one bit of the first and of the last byte */
	len = sig_bytes(good, sig, sizeof(sig));
	memcpy(bad, sig, len);
	bad[0] ^= 0x01;
	expect(with_sig(good, bad, len), IDTOKEN_BAD_SIGNATURE);
	memcpy(bad, sig, len);
	bad[len - 1] ^= 0x80;
	expect(with_sig(good, bad, len), IDTOKEN_BAD_SIGNATURE);

	/* signatures of another length: cut, grown, zero-prefixed */
	expect(with_sig(good, sig, len - 1), IDTOKEN_BAD_SIGNATURE);
	memcpy(bad, sig, len);
	bad[len] = 0;
	expect(with_sig(good, bad, len + 1), IDTOKEN_BAD_SIGNATURE);
	bad[0] = 0;
	memcpy(bad + 1, sig, len);
	expect(with_sig(good, bad, len + 1), IDTOKEN_BAD_SIGNATURE);

	if (ec) {
		/* the DER ECDSA-Sig OpenSSL makes, instead of the raw r||s JWS wants */
		json_t *c = good_claims();
		char *payload = json_dumps(c, JSON_COMPACT);

		assert_non_null(payload);
		hdr = header_text(sg->alg, sg->kid, typ);
		tok = craft_form(sg->pk, sg->md, hdr, payload, true);
		assert_true(sig_bytes(tok, bad, sizeof(bad)) != 64);
		expect(tok, IDTOKEN_BAD_SIGNATURE);
		free(hdr);
		free(payload);
		json_decref(c);
		/* r = s = 0, and r beyond the group order */
		memset(bad, 0, 64);
		expect(with_sig(good, bad, 64), IDTOKEN_BAD_SIGNATURE);
		memcpy(bad, sig, 64);
		memset(bad, 0xff, 32);
		expect(with_sig(good, bad, 64), IDTOKEN_BAD_SIGNATURE);
		/* a P-384-sized signature under ES256 */
		memset(bad, 0x11, 96);
		expect(with_sig(good, bad, 96), IDTOKEN_BAD_SIGNATURE);
	}

	/* signed by a key that is not in the set, under a kid that is */
	{
		struct signer rogue = *sg;

		rogue.pk = ec ? X.p256_cert : X.rsa_other;
		expect(typed_token(&rogue, typ, good_claims()), IDTOKEN_BAD_SIGNATURE);
	}

	/* the claims */
	expect(typed_token(sg, typ, claims_with("exp", json_integer(NOW - 120))), IDTOKEN_EXPIRED);
	expect(typed_token(sg, typ, claims_with("aud", json_string("other-api"))),
	       IDTOKEN_BAD_AUDIENCE);
	expect(typed_token(sg, typ, claims_with("iss", json_string("https://evil.example.test/"))),
	       IDTOKEN_BAD_ISSUER);
	expect(typed_token(sg, typ, claims_with("nbf", json_integer(NOW + 300))),
	       IDTOKEN_NOT_YET_VALID);

	/* kid of the other key type */
	{
		struct signer other = *sg;

		other.kid = sg->other_kid;
		expect(typed_token(&other, typ, good_claims()), IDTOKEN_UNKNOWN_KEY);
	}

	/* alg confusion: HS256 keyed with the RSA public PEM, even when the mask names HS256 */
	X.v.alg_mask |= BIT(JWT_ALG_HS256) | BIT(JWT_ALG_NONE);
	hdr = header_text("HS256", "rsa1", typ);
	expect(hs256_token(rsa_key->pem, rsa_key->pem_len, hdr, good_claims()),
	       IDTOKEN_ALG_NOT_ALLOWED);
	free(hdr);
	hdr = header_text("HS256", NULL, typ);
	expect(hs256_token(rsa_key->pem, rsa_key->pem_len, hdr, good_claims()),
	       IDTOKEN_ALG_NOT_ALLOWED);
	free(hdr);

	/* alg none, with an empty and with a made-up signature part */
	hdr = header_text("none", sg->kid, typ);
	{
		char *h = tk_b64url(hdr, strlen(hdr));

		part = claims_part(good_claims());
		expect(join3(h, part, ""), IDTOKEN_MALFORMED);
		expect(join3(h, part, "AAAA"), IDTOKEN_ALG_NOT_ALLOWED);
		free(h);
		free(part);
	}
	free(hdr);
	X.v.alg_mask &= ~(BIT(JWT_ALG_HS256) | BIT(JWT_ALG_NONE));
	X.label = NULL;
	free(good);
}

/* RS256 and ES256 tokens and their attack corpus, with no typ and each accepted typ. */
static void test_attack_corpus_under_every_typ(void **state)
{
	static const char *const typs[] = {NULL, "JWT", "at+jwt", "application/at+jwt"};
	const struct signer signers[] = {
	    {X.rsa, "SHA256", "RS256", "rsa1", "ec256"},
	    {X.p256, "SHA256", "ES256", "ec256", "rsa1"},
	};
	struct idtoken_claims base;
	char *tok;

	for (size_t s = 0; s < 2; s++) {
		/* the principal every good token must name, whatever its typ or key */
		tok = typed_token(&signers[s], NULL, good_claims());
		assert_int_equal(idtoken_verify(&X.v, tok, NOW, &base), IDTOKEN_OK);
		assert_string_equal(base.sub, "user-1");
		assert_string_equal(base.email, "ada@example.com");
		assert_int_equal(base.exp, NOW + 600);
		assert_int_equal(base.not_before, NOW);
		free(tok);
		for (size_t t = 0; t < sizeof(typs) / sizeof(typs[0]); t++)
			attack_corpus(&signers[s], typs[t], &base);
	}
}

/* ES384's raw signature is 96 bytes; neighbouring lengths and DER are refused. */
static void test_es_signature_forms(void **state)
{
	const struct signer sg = {X.p384, "SHA384", "ES384", "ec384", "rsa1"};
	unsigned char sig[256], bad[256];
	char *good = typed_token(&sg, "at+jwt", good_claims());
	char *hdr = header_text("ES384", "ec384", "at+jwt");
	size_t len = sig_bytes(good, sig, sizeof(sig));
	char *tok;

	assert_int_equal(len, 96);
	expect(strdup(good), IDTOKEN_OK);
	expect(with_sig(good, sig, 95), IDTOKEN_BAD_SIGNATURE);
	expect(with_sig(good, sig, 64), IDTOKEN_BAD_SIGNATURE);
	memcpy(bad, sig, len);
	bad[96] = 0;
	expect(with_sig(good, bad, 97), IDTOKEN_BAD_SIGNATURE);
	tok = craft_form(X.p384, "SHA384", hdr,
	                 "{\"iss\":\"" ISSUER "\",\"aud\":\"" AUD
	                 "\",\"sub\":\"user-1\",\"exp\":1700000600}",
	                 true);
	expect(tok, IDTOKEN_BAD_SIGNATURE);
	/* the same token with its raw signature: the DER one failed for its form alone */
	tok = craft_form(X.p384, "SHA384", hdr,
	                 "{\"iss\":\"" ISSUER "\",\"aud\":\"" AUD
	                 "\",\"sub\":\"user-1\",\"exp\":1700000600}",
	                 false);
	expect(tok, IDTOKEN_OK);
	free(hdr);
	free(good);
}

/* An RS256 signature is exactly the modulus size. */
static void test_rsa_signature_length(void **state)
{
	const struct signer sg = {X.rsa, "SHA256", "RS256", "rsa1", "ec256"};
	unsigned char sig[600], bad[600];
	char *good = typed_token(&sg, "application/at+jwt", good_claims());
	size_t len = sig_bytes(good, sig, sizeof(sig));

	assert_int_equal(len, 256);
	expect(strdup(good), IDTOKEN_OK);
	expect(with_sig(good, sig, 255), IDTOKEN_BAD_SIGNATURE);
	expect(with_sig(good, sig, 1), IDTOKEN_BAD_SIGNATURE);
	bad[0] = 0;
	memcpy(bad + 1, sig, len);
	expect(with_sig(good, bad, 257), IDTOKEN_BAD_SIGNATURE);
	memcpy(bad, sig, len);
	memcpy(bad + len, sig, len);
	expect(with_sig(good, bad, 512), IDTOKEN_BAD_SIGNATURE);
	/* a signature part that is not base64url at all */
	expect(with_part(good, 2, "AAAAA"), IDTOKEN_MALFORMED);
	free(good);
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
	 * A NUL byte must not cut the comparison short. The payload reader
	 * refuses \u0000 outright (jansson without JSON_ALLOW_NUL), under a good
	 * signature; our own length-checked comparison is the second line.
	 */
	{
		json_t *c = good_claims();

		json_object_set_new(c, "iss", json_stringn(ISSUER "\0evil", strlen(ISSUER) + 5));
		expect(craft_claims(X.rsa, "SHA256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", c),
		       IDTOKEN_MALFORMED);
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
	/* Refused by the payload reader, see test_issuer. */
	{
		json_t *c = good_claims();

		json_object_set_new(c, "sub", json_stringn("ab\0c", 4));
		expect(craft_claims(X.rsa, "SHA256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", c),
		       IDTOKEN_MALFORMED);
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
	assert_int_equal(c.email_verified, EMAIL_VERIFIED_UNSAID);
	assert_string_equal(c.sub, "user-1");
	free(tok);

	/*
	 * What "email_verified" says: only the JSON booleans OpenID Connect defines
	 * count; without the claim, or with a string, the address is not verified
	 * (auth.c matches users only by verified ones). The address is kept.
	 */
	{
		const struct {
			json_t *value; /* NULL: no claim */
			enum email_verified want;
		} cases[] = {
		    {NULL, EMAIL_VERIFIED_UNSAID},
		    {json_false(), EMAIL_VERIFIED_FALSE},
		    {json_string("true"), EMAIL_VERIFIED_UNSAID},
		    {json_string("false"), EMAIL_VERIFIED_UNSAID},
		    {json_true(), EMAIL_VERIFIED_TRUE},
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			claims = good_claims();
			if (cases[i].value)
				json_object_set_new(claims, "email_verified", cases[i].value);
			tok = sign(X.rsa_priv, JWT_ALG_RS256, "rsa1", claims);
			assert_int_equal(idtoken_verify(&X.v, tok, NOW, &c), IDTOKEN_OK);
			assert_string_equal(c.email, "ada@example.com");
			assert_int_equal(c.email_verified, cases[i].want);
			free(tok);
		}
	}
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
	for (int i = IDTOKEN_OK; i <= IDTOKEN_TYPE_NOT_ACCEPTED; i++) {
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
	    T(test_typ_accepted),
	    T(test_typ_refused),
	    T(test_typ_refused_message_is_bounded),
	    T(test_attack_corpus_under_every_typ),
	    T(test_es_signature_forms),
	    T(test_rsa_signature_length),
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
