/*
 * authcode.h - the dev IdP's OAuth 2.0 authorization codes (RFC 6749 4.1,
 * PKCE RFC 7636): short-lived, single-use, bound to the client, the
 * redirect URI and the PKCE challenge, kept in memory.
 *
 * Only a BLAKE2b hash of each code is kept, so the table holds no secret.
 * The table is bounded: when it is full, the oldest code goes. Safe from any
 * thread. Times are milliseconds of a clock the caller picks (the monotonic
 * one: the fake clock of the test harness must not make codes live longer).
 */
#ifndef MGMTD_AUTHCODE_H
#define MGMTD_AUTHCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define AUTHCODE_TTL_MS   60000
#define AUTHCODE_CAPACITY 256
/* 32 random bytes in base64url without padding (43 characters), plus NUL. */
#define AUTHCODE_SIZE 44

/* PKCE code challenges and verifiers: 43 to 128 characters (RFC 7636 4.1, 4.2). */
#define AUTHCODE_PKCE_MIN 43
#define AUTHCODE_PKCE_MAX 128

/* What a code was issued for. */
struct authcode_grant {
	char email[321];
	char account_id[UUID_STR_SIZE]; /* "" = the only account that has the email */
	char client_id[256];
	char redirect_uri[1024];
	char code_challenge[AUTHCODE_PKCE_MAX + 1]; /* S256 */
	char scope[512];
	char nonce[256];
};

struct authcodes;

/* NULL when out of memory. */
struct authcodes *authcodes_new(void);
/* NULL is fine. */
void authcodes_free(struct authcodes *codes);

/* Issues a fresh code for g at time now_ms into code. */
void authcodes_issue(struct authcodes *codes, const struct authcode_grant *g, int64_t now_ms,
                     char code[AUTHCODE_SIZE]);

/*
 * Takes the grant of code: true and *out filled when the code was issued
 * less than AUTHCODE_TTL_MS ago and not taken before. A code is taken once,
 * whatever the caller then finds wrong with the request.
 */
bool authcodes_take(struct authcodes *codes, const char *code, int64_t now_ms,
                    struct authcode_grant *out);

/* True when s is a PKCE verifier or challenge: 43-128 of A-Z a-z 0-9 - . _ ~. */
bool authcode_pkce_well_formed(const char *s);

/* True when BASE64URL(SHA-256(verifier)) equals challenge (S256), compared in constant time. */
bool authcode_pkce_matches(const char *verifier, const char *challenge);

#endif
