/*
 * fuzz_jwt.c - the JWT pre-checks and claim checks (idtoken.c) against a
 * fixed key set: an EC P-256 key made at start, published as a JWKS through
 * jwks_parse like the daemon's.
 *
 * Input: one mode byte, then
 *   mode 0: a compact JWT as text: shape, header, alg allow-list, key choice,
 *           signature (a fuzzer cannot forge one, so this ends there)
 *   mode 1: HEADER NUL PAYLOAD, both raw bytes, base64url-encoded and signed
 *           with the key (ES256): the header and claim checks after a good
 *           signature, on anything at all
 *   mode 2: PAYLOAD alone under a good header {"alg":"ES256","kid":"fuzz"}
 *
 * Properties: a token that verifies named an allowed alg, the right issuer
 * and audience, and gave a non-empty subject.
 */
#include <jansson.h>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idtoken.h"
#include "jwks.h"
#include "harness.h"

#define NOW    INT64_C(1700000000)
#define ISSUER "https://idp.fuzz.test/"
#define AUD    "mgmtd"

static EVP_PKEY *key;
static struct jwks *keys;
static struct idtoken_verifier verifier;

static void b64url(const unsigned char *bin, size_t len, char *out, size_t outsize)
{
	if (sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING) > outsize)
		abort();
	sodium_bin2base64(out, outsize, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void coordinate(const char *name, char out[64])
{
	unsigned char raw[32];
	BIGNUM *bn = NULL;

	if (EVP_PKEY_get_bn_param(key, name, &bn) != 1 || BN_bn2binpad(bn, raw, 32) != 32)
		abort();
	BN_free(bn);
	b64url(raw, sizeof(raw), out, 64);
}

static void setup(void)
{
	char x[64], y[64], text[512], err[256];

	if (sodium_init() < 0)
		abort();
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (key == NULL)
		abort();
	coordinate(OSSL_PKEY_PARAM_EC_PUB_X, x);
	coordinate(OSSL_PKEY_PARAM_EC_PUB_Y, y);
	snprintf(text, sizeof(text),
	         "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"fuzz\",\"use\":\"sig\",\"alg\":\"ES256\","
	         "\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}",
	         x, y);
	if (jwks_parse(text, strlen(text), &keys, err, sizeof(err)) != 0 || keys->count != 1) {
		fprintf(stderr, "jwks_parse: %s\n", err);
		abort();
	}
	verifier = (struct idtoken_verifier){
	    .keys = keys,
	    .issuer = ISSUER,
	    .audience = AUD,
	    .alg_mask = (1u << JWT_ALG_ES256) | (1u << JWT_ALG_RS256),
	    .leeway = 60,
	};
}

/* header.payload.signature, ES256 over the first two; caller frees. */
static char *sign(const unsigned char *header, size_t hlen, const unsigned char *payload,
                  size_t plen)
{
	size_t cap = (hlen + plen) * 4 / 3 + 200, siglen = 0;
	unsigned char der[128], raw[64];
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig = NULL;
	EVP_MD_CTX *ctx;
	char *out = malloc(cap);
	size_t used;

	if (out == NULL)
		abort();
	b64url(header, hlen, out, cap);
	used = strlen(out);
	out[used++] = '.';
	b64url(payload, plen, out + used, cap - used);
	used += strlen(out + used);

	ctx = EVP_MD_CTX_new();
	siglen = sizeof(der);
	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, der, &siglen, (unsigned char *)out, used) != 1 ||
	    (sig = d2i_ECDSA_SIG(NULL, &p, (long)siglen)) == NULL)
		abort();
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32)
		abort();
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	out[used++] = '.';
	b64url(raw, sizeof(raw), out + used, cap - used);
	return out;
}

static void verify(const char *jwt)
{
	struct idtoken_header hdr;
	struct idtoken_claims claims;
	enum idtoken_result r;

	(void)idtoken_looks_like_jwt(jwt);
	(void)idtoken_parse_header(jwt, &hdr);
	r = idtoken_verify(&verifier, jwt, NOW, &claims);
	if (idtoken_result_message(r) == NULL)
		abort();
	if (r == IDTOKEN_OK) {
		if (idtoken_parse_header(jwt, &hdr) != IDTOKEN_OK || strcmp(hdr.alg, "ES256") != 0)
			abort();
		if (claims.sub[0] == '\0' || claims.exp + 60 < NOW)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char good_header[] = "{\"alg\":\"ES256\",\"kid\":\"fuzz\"}";
	const unsigned char *rest = data + 1, *nul;
	size_t rlen = size ? size - 1 : 0;
	char *jwt;

	if (key == NULL)
		setup();
	if (size < 1 || size > IDTOKEN_MAX_LEN)
		return 0;
	switch (data[0] % 3) {
	case 0:
		jwt = malloc(rlen + 1);
		if (jwt == NULL)
			return 0;
		memcpy(jwt, rest, rlen);
		jwt[rlen] = '\0';
		break;
	case 1:
		nul = memchr(rest, '\0', rlen);
		if (nul == NULL)
			return 0;
		jwt = sign(rest, (size_t)(nul - rest), nul + 1, rlen - (size_t)(nul - rest) - 1);
		break;
	default:
		jwt = sign((const unsigned char *)good_header, sizeof(good_header) - 1, rest, rlen);
		break;
	}
	verify(jwt);
	free(jwt);
	return 0;
}
