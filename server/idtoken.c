/*
 * idtoken.c - verification of IdP-issued JWTs.
 *
 * The header is decoded and judged here first (typ, alg allow-list, kid);
 * the signature is checked by jws_verify over the exact bytes of the token,
 * the same way for every accepted typ; claims are read from our own decoding
 * of the payload only after that. Nothing here logs.
 */
#include "idtoken.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "jws.h"

/* Claim times beyond this (about year 318857) are nonsense and could overflow sums. */
#define TIME_LIMIT INT64_C(10000000000000)

/* What each byte is in a JWT's compact form: every request with a JWT scans one. */
enum { JWT_OTHER = 0, JWT_B64 = 1, JWT_DOT = 2 };

static const unsigned char jwt_class[256] = {
    ['A' ... 'Z'] = JWT_B64, ['a' ... 'z'] = JWT_B64, ['0' ... '9'] = JWT_B64,
    ['-'] = JWT_B64,         ['_'] = JWT_B64,         ['.'] = JWT_DOT,
};

bool idtoken_looks_like_jwt(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t part_len = 0;
	int dots = 0;

	if (!s)
		return false;
	for (; *p; p++) {
		unsigned char c = jwt_class[*p];

		if (c == JWT_B64) {
			part_len++;
		} else if (c == JWT_DOT) {
			if (part_len == 0 || ++dots > 2)
				return false;
			part_len = 0;
		} else {
			return false;
		}
	}
	return dots == 2 && part_len > 0;
}

/*
 * Decodes len bytes of base64url at s (padding tolerated). Returns a buffer
 * the caller frees and sets *outlen, or NULL when it is empty, too long or
 * not base64url (libsodium also refuses non-zero trailing bits, so one
 * signature has one spelling).
 */
static unsigned char *decode_part(const char *s, size_t len, size_t *outlen)
{
	unsigned char *buf;
	size_t cap;
	const char *end = NULL;
	int pad = 0;

	while (len > 0 && s[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if (len == 0 || len > IDTOKEN_MAX_LEN)
		return NULL;
	cap = len / 4 * 3 + 3;
	buf = malloc(cap);
	if (!buf)
		return NULL;
	if (sodium_base642bin(buf, cap, s, len, NULL, outlen, &end,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != s + len) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * Decodes a base64url part and parses it as a JSON object. Returns a
 * reference the caller releases with json_decref, or NULL. Duplicate names are
 * refused: two readers of one token must never see different values.
 */
static json_t *decode_json_part(const char *s, size_t len)
{
	size_t binlen = 0;
	unsigned char *buf = decode_part(s, len, &binlen);
	json_t *obj;

	if (!buf)
		return NULL;
	obj = json_loadb((const char *)buf, binlen, JSON_REJECT_DUPLICATES, NULL);
	if (obj && !json_is_object(obj)) {
		json_decref(obj);
		obj = NULL;
	}
	free(buf);
	return obj;
}

/* A JSON string without embedded NUL bytes (which would shorten it for strcmp), or NULL. */
static const char *plain_string(const json_t *v)
{
	const char *s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return NULL;
	return s;
}

/*
 * RFC 7515 4.1.9: a typ without '/' stands for "application/" + typ, and
 * media types compare case-insensitively. JWT is RFC 7519's type, at+jwt
 * RFC 9068's for access tokens; any other explicit type (logout+jwt,
 * secevent+jwt...) is a token meant for something else (RFC 8725 3.11).
 */
static bool typ_accepted(const char *typ)
{
	static const char prefix[] = "application/";
	const char *subtype = typ;

	if (strncasecmp(typ, prefix, sizeof(prefix) - 1) == 0)
		subtype = typ + sizeof(prefix) - 1;
	else if (strchr(typ, '/'))
		return false;
	return strcasecmp(subtype, "jwt") == 0 || strcasecmp(subtype, "at+jwt") == 0;
}

/* typ as it may be shown in a message: bounded, printable ASCII, no quotes or backslashes. */
static void typ_for_message(const char *typ, char *out, size_t outsize)
{
	size_t shown = strlen(typ), i;
	bool cut = shown > IDTOKEN_TYP_SHOWN;

	if (cut)
		shown = IDTOKEN_TYP_SHOWN;
	for (i = 0; i < shown && i + 4 < outsize; i++) {
		unsigned char c = (unsigned char)typ[i];

		out[i] = c > 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c : '?';
	}
	out[i] = '\0';
	if (cut)
		memcpy(out + i, "...", 4);
}

enum idtoken_result idtoken_parse_header(const char *jwt, struct idtoken_header *out)
{
	const char *dot;
	json_t *hdr = NULL;
	const json_t *v;
	const char *alg, *typ, *kid;
	enum idtoken_result r = IDTOKEN_MALFORMED;

	if (!out)
		return IDTOKEN_MALFORMED;
	memset(out, 0, sizeof(*out));
	if (!jwt)
		return IDTOKEN_MALFORMED;
	dot = memchr(jwt, '.', strnlen(jwt, IDTOKEN_MAX_LEN + 1));
	if (!dot)
		return IDTOKEN_MALFORMED;
	hdr = decode_json_part(jwt, (size_t)(dot - jwt));
	if (!hdr)
		goto out;

	/* We implement no JWS extension, so any critical one makes the token unusable. */
	if (json_object_get(hdr, "crit"))
		goto out;

	alg = plain_string(json_object_get(hdr, "alg"));
	if (!alg)
		goto out;

	v = json_object_get(hdr, "typ");
	if (v) {
		typ = plain_string(v);
		if (!typ)
			goto out;
		if (!typ_accepted(typ)) {
			r = IDTOKEN_TYPE_NOT_ACCEPTED;
			typ_for_message(typ, out->typ, sizeof(out->typ));
			goto out;
		}
		/* An accepted typ is at most "application/at+jwt": it fits. */
		memcpy(out->typ, typ, strlen(typ) + 1);
	}

	v = json_object_get(hdr, "kid");
	if (v) {
		kid = plain_string(v);
		if (!kid || strlen(kid) >= sizeof(out->kid))
			goto out;
		memcpy(out->kid, kid, strlen(kid) + 1);
	}

	if (strlen(alg) >= sizeof(out->alg)) {
		/* Longer than any alg name there is, so not one we allow. */
		r = IDTOKEN_ALG_NOT_ALLOWED;
		goto out;
	}
	memcpy(out->alg, alg, strlen(alg) + 1);
	r = IDTOKEN_OK;
out:
	json_decref(hdr);
	if (r != IDTOKEN_OK) {
		char shown[sizeof(out->typ)];

		/* A refused typ stays, for the message that names it; nothing else does. */
		memcpy(shown, out->typ, sizeof(shown));
		memset(out, 0, sizeof(*out));
		if (r == IDTOKEN_TYPE_NOT_ACCEPTED)
			memcpy(out->typ, shown, sizeof(shown));
	}
	return r;
}

/*
 * Only asymmetric algs we can find a JWK for (jws_alg_find knows no others).
 * HS* is refused whatever the mask says: with a public key as the HMAC secret
 * anyone could sign; none needs no signature at all.
 */
static const struct jws_alg *alg_allowed(const char *name, unsigned mask)
{
	const struct jws_alg *alg = jws_alg_find(name);

	return alg && (mask & (1u << alg->mask_bit)) ? alg : NULL;
}

/* Reads a NumericDate claim. Returns 0 when absent, 1 when read, -1 when not a sane number. */
static int claim_time(const json_t *claims, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(claims, name);
	double d;
	int64_t t;

	if (!v)
		return 0;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < -TIME_LIMIT || i > TIME_LIMIT)
			return -1;
		*out = (int64_t)i;
		return 1;
	}
	if (!json_is_real(v))
		return -1;
	d = json_real_value(v);
	if (!(d >= (double)-TIME_LIMIT && d <= (double)TIME_LIMIT))
		return -1;
	t = (int64_t)d;
	if ((double)t > d)
		t--; /* floor, also for negative times */
	*out = t;
	return 1;
}

/* True when v is a string equal to want, byte for byte. */
static bool string_is(const json_t *v, const char *want)
{
	const char *s = plain_string(v);

	return s && strcmp(s, want) == 0;
}

static bool audience_ok(const json_t *aud, const char *want)
{
	size_t i;
	const json_t *item;

	if (json_is_array(aud)) {
		json_array_foreach(aud, i, item)
		{
			if (string_is(item, want))
				return true;
		}
		return false;
	}
	return string_is(aud, want);
}

/* Checks the claims of a verified payload and fills out. */
static enum idtoken_result check_claims(const struct idtoken_verifier *v, const json_t *claims,
                                        int64_t now, struct idtoken_claims *out)
{
	int64_t leeway = v->leeway > 0 ? v->leeway : 0;
	int64_t exp = 0, nbf = 0, iat = 0;
	const json_t *sub, *email, *verified;
	const char *s;
	int got;

	out->not_before = INT64_MIN;
	if (!v->issuer || !string_is(json_object_get(claims, "iss"), v->issuer))
		return IDTOKEN_BAD_ISSUER;
	if (!v->audience || !audience_ok(json_object_get(claims, "aud"), v->audience))
		return IDTOKEN_BAD_AUDIENCE;

	got = claim_time(claims, "exp", &exp);
	if (got == 0)
		return IDTOKEN_MISSING_CLAIM;
	if (got < 0)
		return IDTOKEN_MALFORMED;
	if (now > exp + leeway)
		return IDTOKEN_EXPIRED;

	got = claim_time(claims, "nbf", &nbf);
	if (got < 0)
		return IDTOKEN_MALFORMED;
	if (got > 0 && now + leeway < nbf)
		return IDTOKEN_NOT_YET_VALID;

	if (got > 0)
		out->not_before = nbf;

	got = claim_time(claims, "iat", &iat);
	if (got < 0)
		return IDTOKEN_MALFORMED;
	if (got > 0 && iat > now + leeway)
		return IDTOKEN_ISSUED_IN_FUTURE;
	if (got > 0 && iat > out->not_before)
		out->not_before = iat;

	sub = json_object_get(claims, "sub");
	if (!json_is_string(sub) || json_string_length(sub) == 0)
		return IDTOKEN_MISSING_CLAIM;
	s = plain_string(sub);
	if (!s || strlen(s) >= sizeof(out->sub))
		return IDTOKEN_MALFORMED;
	memcpy(out->sub, s, strlen(s) + 1);

	email = json_object_get(claims, "email");
	if (email) {
		s = plain_string(email);
		if (!s || strlen(s) >= sizeof(out->email))
			return IDTOKEN_MALFORMED;
		memcpy(out->email, s, strlen(s) + 1);
		verified = json_object_get(claims, "email_verified");
		out->email_verified = json_is_true(verified)    ? EMAIL_VERIFIED_TRUE
		                      : json_is_false(verified) ? EMAIL_VERIFIED_FALSE
		                                                : EMAIL_VERIFIED_UNSAID;
	}
	out->exp = exp;
	return IDTOKEN_OK;
}

/* A string claim of an unverified token; missing is returned when it has none. */
static enum idtoken_result peek_string(const char *jwt, const char *claim, char *out,
                                       size_t outsize, enum idtoken_result missing)
{
	const char *payload, *sig;
	const char *value;
	json_t *body;
	enum idtoken_result r = missing;

	if (!out || outsize == 0)
		return IDTOKEN_MALFORMED;
	out[0] = '\0';
	if (!jwt || strnlen(jwt, IDTOKEN_MAX_LEN + 1) > IDTOKEN_MAX_LEN ||
	    !idtoken_looks_like_jwt(jwt))
		return IDTOKEN_MALFORMED;
	payload = strchr(jwt, '.') + 1;
	sig = strchr(payload, '.');
	body = decode_json_part(payload, (size_t)(sig - payload));
	if (!body)
		return IDTOKEN_MALFORMED;
	value = plain_string(json_object_get(body, claim));
	if (value && strlen(value) < outsize) {
		memcpy(out, value, strlen(value) + 1);
		r = IDTOKEN_OK;
	}
	json_decref(body);
	return r;
}

enum idtoken_result idtoken_peek_issuer(const char *jwt, char *out, size_t outsize)
{
	return peek_string(jwt, "iss", out, outsize, IDTOKEN_BAD_ISSUER);
}

enum idtoken_result idtoken_peek_subject(const char *jwt, char *out, size_t outsize)
{
	return peek_string(jwt, "sub", out, outsize, IDTOKEN_MISSING_CLAIM);
}

enum idtoken_result idtoken_verify(const struct idtoken_verifier *v, const char *jwt, int64_t now,
                                   struct idtoken_claims *out)
{
	struct idtoken_header hdr;
	struct idtoken_claims claims;
	const struct jws_alg *alg;
	const struct jwk *key;
	const char *payload, *sig;
	unsigned char *sigbin = NULL;
	size_t siglen = 0;
	json_t *body = NULL;
	enum idtoken_result r;

	memset(&claims, 0, sizeof(claims));
	if (out)
		memset(out, 0, sizeof(*out));
	if (!v || !jwt || !out)
		return IDTOKEN_MALFORMED;
	if (strnlen(jwt, IDTOKEN_MAX_LEN + 1) > IDTOKEN_MAX_LEN || !idtoken_looks_like_jwt(jwt))
		return IDTOKEN_MALFORMED;

	r = idtoken_parse_header(jwt, &hdr);
	if (r != IDTOKEN_OK)
		return r;
	alg = alg_allowed(hdr.alg, v->alg_mask);
	if (!alg)
		return IDTOKEN_ALG_NOT_ALLOWED;

	if (!v->keys || v->keys->count == 0)
		return IDTOKEN_NO_KEYS;
	key = jwks_find(v->keys, hdr.kid, hdr.alg);
	if (!key)
		return IDTOKEN_UNKNOWN_KEY;

	payload = strchr(jwt, '.') + 1;
	sig = strchr(payload, '.');
	sigbin = decode_part(sig + 1, strlen(sig + 1), &siglen);
	if (!sigbin) {
		r = IDTOKEN_MALFORMED;
		goto out;
	}
	/* The signing input is header.payload exactly as sent. */
	if (!jws_verify(alg, key, jwt, (size_t)(sig - jwt), sigbin, siglen)) {
		r = IDTOKEN_BAD_SIGNATURE;
		goto out;
	}

	body = decode_json_part(payload, (size_t)(sig - payload));
	if (!body) {
		r = IDTOKEN_MALFORMED;
		goto out;
	}
	r = check_claims(v, body, now, &claims);
	if (r == IDTOKEN_OK)
		*out = claims;
out:
	json_decref(body);
	free(sigbin);
	return r;
}

const char *idtoken_result_message(enum idtoken_result r)
{
	switch (r) {
	case IDTOKEN_OK:
		return "the token is valid";
	case IDTOKEN_MALFORMED:
		return "the token is not a well-formed JWT";
	case IDTOKEN_ALG_NOT_ALLOWED:
		return "the token's signing algorithm is not allowed";
	case IDTOKEN_UNKNOWN_KEY:
		return "the token is signed with an unknown key";
	case IDTOKEN_BAD_SIGNATURE:
		return "the token's signature is not valid";
	case IDTOKEN_BAD_ISSUER:
		return "the token was not issued by a trusted identity provider";
	case IDTOKEN_BAD_AUDIENCE:
		return "the token is not meant for this service";
	case IDTOKEN_EXPIRED:
		return "the token has expired";
	case IDTOKEN_NOT_YET_VALID:
		return "the token is not valid yet";
	case IDTOKEN_ISSUED_IN_FUTURE:
		return "the token was issued in the future";
	case IDTOKEN_MISSING_CLAIM:
		return "the token lacks a required claim";
	case IDTOKEN_NO_KEYS:
		return "no signing keys are available to verify the token";
	case IDTOKEN_KEYS_NOT_LOADED:
		return "the identity provider's keys are not loaded yet; retry later";
	case IDTOKEN_TYPE_NOT_ACCEPTED:
		return "the token's header type is not accepted here";
	}
	return "the token is not valid";
}

const char *idtoken_describe(enum idtoken_result r, const char *jwt, char *buf, size_t bufsize)
{
	struct idtoken_header hdr;

	if (!buf || bufsize == 0)
		return idtoken_result_message(r);
	if (r == IDTOKEN_TYPE_NOT_ACCEPTED &&
	    idtoken_parse_header(jwt, &hdr) == IDTOKEN_TYPE_NOT_ACCEPTED) {
		snprintf(buf, bufsize, "the token's type \"%s\" is not accepted here", hdr.typ);
		return buf;
	}
	snprintf(buf, bufsize, "%s", idtoken_result_message(r));
	return buf;
}
