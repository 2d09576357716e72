/*
 * fuzz_jwt.c - the JWT pre-checks, signature check (jws.c) and claim checks
 * (idtoken.c) against a fixed key set: an EC P-256 key "fuzz" and an RSA key
 * "fuzz-rsa" made at start, published as a JWKS through jwks_parse like the
 * daemon's.
 *
 * Input: one mode byte, then
 *   mode 0: a compact JWT as text: shape, header, alg allow-list, key choice,
 *           signature (a fuzzer cannot forge one, so this ends there)
 *   mode 1: HEADER NUL PAYLOAD, both raw bytes, base64url-encoded and signed
 *           with the key (ES256): the header (typ included) and claim checks
 *           after a good signature, on anything at all
 *   mode 2: PAYLOAD alone under a good header {"alg":"ES256","kid":"fuzz"}
 *   mode 3: SEL DELTA MASK...: a good token (SEL: ES256 or RS256, and which
 *           typ: none, JWT, at+jwt, application/at+jwt) whose signature is
 *           made DELTA (signed) bytes longer or shorter and XORed with MASK:
 *           the raw-signature handling next to a valid signature
 *
 * Properties: a token that verifies named an allowed alg and typ, the right
 * issuer and audience, and gave a non-empty subject; a refused typ is named
 * bounded and printable; an untouched mode-3 token verifies and one whose
 * signature length changed never does.
 */
#include <jansson.h>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "idtoken.h"
#include "jwks.h"
#include "harness.h"

#define NOW    INT64_C(1700000000)
#define ISSUER "https://idp.fuzz.test/"
#define AUD    "mgmtd"

static EVP_PKEY *key, *rsa_key;
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

/* The RSA key's n or e as base64url, into out. */
static void rsa_param(const char *name, char *out, size_t outsize)
{
	unsigned char raw[512];
	BIGNUM *bn = NULL;
	int len;

	if (EVP_PKEY_get_bn_param(rsa_key, name, &bn) != 1 || (len = BN_bn2bin(bn, raw)) <= 0)
		abort();
	BN_free(bn);
	b64url(raw, (size_t)len, out, outsize);
}

static void setup(void)
{
	char x[64], y[64], n[400], e[16], text[1024], err[256];

	if (sodium_init() < 0)
		abort();
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (key == NULL || rsa_key == NULL)
		abort();
	coordinate(OSSL_PKEY_PARAM_EC_PUB_X, x);
	coordinate(OSSL_PKEY_PARAM_EC_PUB_Y, y);
	rsa_param(OSSL_PKEY_PARAM_RSA_N, n, sizeof(n));
	rsa_param(OSSL_PKEY_PARAM_RSA_E, e, sizeof(e));
	snprintf(text, sizeof(text),
	         "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"fuzz\",\"use\":\"sig\",\"alg\":\"ES256\","
	         "\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"},"
	         "{\"kty\":\"RSA\",\"kid\":\"fuzz-rsa\",\"n\":\"%s\",\"e\":\"%s\"}]}",
	         x, y, n, e);
	if (jwks_parse(text, strlen(text), &keys, err, sizeof(err)) != 0 || keys->count != 2) {
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

/*
 * header.payload.signature, by pk (the EC key: ES256, raw r||s; the RSA key:
 * RS256) over the first two, the signature made delta bytes longer (zeros)
 * or shorter and XORed with mask. Caller frees.
 */
static char *sign_changed(EVP_PKEY *pk, const unsigned char *header, size_t hlen,
                          const unsigned char *payload, size_t plen, int delta,
                          const unsigned char *mask, size_t masklen)
{
	size_t cap = (hlen + plen) * 4 / 3 + 800, siglen = 0, rawlen;
	unsigned char der[512], raw[512 + 128];
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
	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestSign(ctx, der, &siglen, (unsigned char *)out, used) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	memset(raw, 0, sizeof(raw));
	if (pk == key) {
		if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)siglen)) == NULL)
			abort();
		ECDSA_SIG_get0(sig, &r, &s);
		if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32)
			abort();
		ECDSA_SIG_free(sig);
		rawlen = 64;
	} else {
		memcpy(raw, der, siglen);
		rawlen = siglen;
	}
	if (delta < -(int)rawlen + 1)
		delta = -(int)rawlen + 1; /* an empty signature part is only a shape error */
	rawlen = (size_t)((int)rawlen + delta);
	for (size_t i = 0; i < masklen && i < rawlen; i++)
		raw[i] ^= mask[i];
	out[used++] = '.';
	b64url(raw, rawlen, out + used, cap - used);
	return out;
}

static char *sign(const unsigned char *header, size_t hlen, const unsigned char *payload,
                  size_t plen)
{
	return sign_changed(key, header, hlen, payload, plen, 0, NULL, 0);
}

static bool typ_is_accepted(const char *typ)
{
	static const char *const ok[] = {"", "jwt", "at+jwt", "application/jwt",
	                                 "application/at+jwt"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcasecmp(typ, ok[i]) == 0)
			return true;
	return false;
}

/* A refused typ as a message shows it: at most IDTOKEN_TYP_SHOWN bytes (+ "..."), printable. */
static void check_shown_typ(const char *jwt, const char *typ)
{
	char msg[160];
	size_t len = strlen(typ);

	if (len > IDTOKEN_TYP_SHOWN + 3)
		abort();
	for (const char *p = typ; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			abort();
	idtoken_describe(IDTOKEN_TYPE_NOT_ACCEPTED, jwt, msg, sizeof(msg));
	if (strstr(msg, typ) == NULL)
		abort();
}

static enum idtoken_result verify(const char *jwt)
{
	struct idtoken_header hdr;
	struct idtoken_claims claims;
	enum idtoken_result r, hr;

	(void)idtoken_looks_like_jwt(jwt);
	hr = idtoken_parse_header(jwt, &hdr);
	if (hr == IDTOKEN_TYPE_NOT_ACCEPTED)
		check_shown_typ(jwt, hdr.typ);
	r = idtoken_verify(&verifier, jwt, NOW, &claims);
	if (idtoken_result_message(r) == NULL)
		abort();
	if (r == IDTOKEN_OK) {
		if (idtoken_parse_header(jwt, &hdr) != IDTOKEN_OK ||
		    (strcmp(hdr.alg, "ES256") != 0 && strcmp(hdr.alg, "RS256") != 0) ||
		    !typ_is_accepted(hdr.typ))
			abort();
		if (claims.sub[0] == '\0' || claims.exp + 60 < NOW)
			abort();
	}
	return r;
}

/* Mode 3: a good token, its signature's length changed by delta and its bytes XORed. */
static void changed_signature(const unsigned char *in, size_t len)
{
	static const char *const typs[] = {"", ",\"typ\":\"JWT\"", ",\"typ\":\"at+jwt\"",
	                                   ",\"typ\":\"application/at+jwt\""};
	static const char payload[] = "{\"iss\":\"" ISSUER "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	                              "\"exp\":1700000600}";
	char header[96];
	bool rsa;
	int delta;
	size_t masklen;
	bool untouched = true;
	enum idtoken_result r;
	char *jwt;

	if (len < 2)
		return;
	rsa = in[0] & 1;
	delta = (int)(signed char)in[1];
	snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"kid\":\"%s\"%s}",
	         rsa ? "RS256" : "ES256", rsa ? "fuzz-rsa" : "fuzz", typs[(in[0] >> 1) & 3]);
	masklen = len - 2;
	for (size_t i = 0; i < masklen; i++)
		if (in[2 + i] != 0)
			untouched = false;
	jwt = sign_changed(rsa ? rsa_key : key, (const unsigned char *)header, strlen(header),
	                   (const unsigned char *)payload, sizeof(payload) - 1, delta, in + 2,
	                   masklen);
	r = verify(jwt);
	if (delta == 0 && untouched && r != IDTOKEN_OK)
		abort();
	if (delta != 0 && r == IDTOKEN_OK)
		abort();
	free(jwt);
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
	switch (data[0] % 4) {
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
	case 2:
		jwt = sign((const unsigned char *)good_header, sizeof(good_header) - 1, rest, rlen);
		break;
	default:
		changed_signature(rest, rlen);
		return 0;
	}
	verify(jwt);
	free(jwt);
	return 0;
}
