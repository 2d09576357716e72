/*
 * idtoken.h - verification of IdP-issued JWTs.
 *
 * Order matters: the header is parsed, its "typ" checked (JWT or RFC 9068's
 * at+jwt, with or without "application/", any case) and its "alg" against
 * the allow-list before any key is touched, so a token naming HS256 or none
 * is refused whatever it was made with. Then the key is chosen by kid, the
 * signature verified over the bytes as sent (jws.h, OpenSSL; the same path
 * for every accepted typ), and iss, aud (string or array), exp, nbf and iat
 * checked with the leeway.
 */
#ifndef MGMTD_IDTOKEN_H
#define MGMTD_IDTOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jwks.h"

#define IDTOKEN_MAX_LEN 16384

enum idtoken_result {
	IDTOKEN_OK = 0,
	IDTOKEN_MALFORMED,
	IDTOKEN_ALG_NOT_ALLOWED,
	IDTOKEN_UNKNOWN_KEY,
	IDTOKEN_BAD_SIGNATURE,
	IDTOKEN_BAD_ISSUER,
	IDTOKEN_BAD_AUDIENCE,
	IDTOKEN_EXPIRED,
	IDTOKEN_NOT_YET_VALID,
	IDTOKEN_ISSUED_IN_FUTURE,
	IDTOKEN_MISSING_CLAIM,
	IDTOKEN_NO_KEYS,
	IDTOKEN_KEYS_NOT_LOADED,   /* the issuer's keys have not been fetched yet: retry later */
	IDTOKEN_TYPE_NOT_ACCEPTED, /* an explicit "typ" other than JWT / at+jwt (logout+jwt...) */
};

/* At most this many bytes of a refused typ are named in a message. */
#define IDTOKEN_TYP_SHOWN 32

struct idtoken_verifier {
	const struct jwks *keys; /* not owned */
	const char *issuer;      /* not owned */
	const char *audience;    /* not owned */
	unsigned alg_mask;       /* 1u << jwt_alg_t for every allowed alg */
	int leeway;              /* seconds */
};

/*
 * What "email_verified" says. Only the JSON booleans OpenID Connect Core 5.1
 * defines count: a string "true" or "false" says nothing.
 */
enum email_verified { EMAIL_VERIFIED_UNSAID = 0, EMAIL_VERIFIED_TRUE, EMAIL_VERIFIED_FALSE };

struct idtoken_claims {
	char sub[256];
	char email[321]; /* empty when the token has none */
	enum email_verified email_verified;
	int64_t exp;        /* seconds since the epoch */
	int64_t not_before; /* the later of nbf and iat; INT64_MIN when neither is given */
};

/* Parsed header of a compact JWS, before any verification. */
struct idtoken_header {
	char alg[16];
	char kid[256];
	char typ[IDTOKEN_TYP_SHOWN + 4]; /* as given; empty when absent (see parse_header) */
};

/* True when s has the shape of a compact JWS: three base64url parts. */
bool idtoken_looks_like_jwt(const char *s);

/*
 * Decodes and checks the header part (JSON object, "alg" a string, "typ"
 * accepted). On IDTOKEN_TYPE_NOT_ACCEPTED only out->typ is filled, cut to
 * IDTOKEN_TYP_SHOWN bytes ("..." after) with everything but printable ASCII,
 * '"' and backslash turned into '?': safe to name in a message.
 */
enum idtoken_result idtoken_parse_header(const char *jwt, struct idtoken_header *out);

/*
 * The "iss" of an unverified token, only to choose which identity provider's
 * keys and rules verify it; never trust it for anything else. IDTOKEN_OK,
 * IDTOKEN_MALFORMED, or IDTOKEN_BAD_ISSUER when there is no usable "iss".
 */
enum idtoken_result idtoken_peek_issuer(const char *jwt, char *out, size_t outsize);

/*
 * The "sub" of an unverified token, only to name a refused token in the
 * audit trail; never trust it. IDTOKEN_OK, IDTOKEN_MALFORMED, or
 * IDTOKEN_MISSING_CLAIM when there is no usable "sub".
 */
enum idtoken_result idtoken_peek_subject(const char *jwt, char *out, size_t outsize);

/* Verifies jwt at time now (seconds since the epoch) and fills out on success. */
enum idtoken_result idtoken_verify(const struct idtoken_verifier *v, const char *jwt, int64_t now,
                                   struct idtoken_claims *out);

/* A plain sentence for the 401 message ("the token has expired"). */
const char *idtoken_result_message(enum idtoken_result r);

/*
 * The 401 message for r about jwt, written into buf: idtoken_result_message's
 * sentence, except that a refused typ is named (sanitised, see
 * idtoken_parse_header). Returns buf (or the plain sentence when buf is NULL).
 */
const char *idtoken_describe(enum idtoken_result r, const char *jwt, char *buf, size_t bufsize);

#endif
