/*
 * issuers.h - the identity providers mgmtd trusts, their signing keys, and
 * verification of the JWTs they sign.
 *
 * One issuer per [idp] / [idp NAME] section, plus the built-in dev IdP when
 * it is enabled. The JWT's "iss" (read before verification, only to choose)
 * picks the issuer; its keys, audience, algorithms and leeway then decide.
 *
 * Keys come from
 *   - jwks_file: read at start (a bad file stops the start) and on SIGHUP;
 *   - jwks_url: fetched in the background at start, kept for the answer's
 *     Cache-Control max-age bounded to ISSUERS_MIN_AGE..ISSUERS_MAX_AGE
 *     (ISSUERS_DEFAULT_AGE without one), refetched at once on SIGHUP, and on a
 *     token whose kid is unknown at most once per ISSUERS_MISS_INTERVAL per
 *     issuer; requests that miss together share that one fetch;
 *   - discovery: as jwks_url, with the jwks_uri of the issuer's
 *     /.well-known/openid-configuration, whose "issuer" must be the configured one;
 *   - given (the dev IdP): never change.
 * A failed fetch or reload keeps the last good key set (the issuer is then
 * "stale", which the log and /ready say) and is retried with a backoff of
 * 1, 2, 4 ... ISSUERS_MAX_BACKOFF seconds.
 *
 * Each key set is immutable and reference-counted: a request takes a
 * reference, verifies, and drops it, so a set replaced by a refresh or a
 * SIGHUP is freed only when its last reader is done.
 *
 * Verified JWTs are cached (jwtcache.h, ISSUERS_JWT_CACHE entries) against
 * the key set that verified them: once the keys change, a cached JWT is
 * verified again before it is trusted.
 */
#ifndef MGMTD_ISSUERS_H
#define MGMTD_ISSUERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "idtoken.h"

#define ISSUERS_MIN_AGE       60    /* seconds a fetched key set is kept at least */
#define ISSUERS_MAX_AGE       86400 /* ... and at most */
#define ISSUERS_DEFAULT_AGE   300   /* ... when the answer has no max-age */
#define ISSUERS_MISS_INTERVAL 30    /* seconds between two fetches for unknown kids */
#define ISSUERS_MAX_BACKOFF   60    /* seconds between retries of a failing fetch, at most */
#define ISSUERS_JWT_CACHE     4096  /* verified JWTs remembered */

/* At most: [idp], every [idp NAME], and the dev IdP. */
#define ISSUERS_MAX (CONFIG_MAX_IDPS + 2)

struct issuers;

/* An issuer whose keys are given rather than fetched: the built-in dev IdP. */
struct issuer_given {
	const char *label;    /* for messages: "[dev_idp]" */
	const char *identity; /* what users record for it (identity.h): "dev_idp" */
	const char *issuer;
	const char *audience;
	const char *algorithms; /* allow-list, as in [idp] algorithms */
	const char *jwks_json;
	size_t jwks_len;
};

/*
 * Builds the issuers of cfg's identity provider sections, plus given (NULL
 * for none). Key files are read now; a bad one fails with err naming it.
 * Keys from URLs are fetched once issuers_start runs. Returns 0 or -1.
 */
int issuers_new(const struct config *cfg, const struct issuer_given *given, struct issuers **out,
                char *err, size_t errlen);

/* Starts the thread that fetches and refreshes keys from URLs. Returns 0 or -1 (logged). */
int issuers_start(struct issuers *reg);

/*
 * Aborts fetches under way and refuses new ones, so that nothing waits on
 * the network during shutdown. Call before stopping the HTTP threads.
 */
void issuers_cancel(struct issuers *reg);

/* Stops the refresher and frees everything. Only after every request thread stopped. */
void issuers_free(struct issuers *reg);

/* Number of trusted issuers (0: every JWT is refused). */
size_t issuers_count(const struct issuers *reg);

/*
 * SIGHUP: rereads every key file and refetches every key URL (discovery
 * included), waiting for the fetches. Requests go on meanwhile with the
 * key sets they hold. Logs what changed and what failed.
 */
void issuers_reload(struct issuers *reg);

/* Which trusted issuer verified a JWT, and what mgmtd makes of its emails. */
struct issuer_ref {
	const char *identity; /* what users record for it (identity.h); owned by the registry */
	bool trust_email;     /* [idp] trust_email: "email" counts as verified */
};

/*
 * Verifies jwt at time now (seconds): picks the issuer by "iss", then checks
 * with its keys and rules (idtoken.h). IDTOKEN_BAD_ISSUER when no issuer is
 * trusted for that "iss"; IDTOKEN_KEYS_NOT_LOADED when its keys have never
 * been loaded. Fills out, and by (NULL is fine), on IDTOKEN_OK.
 */
enum idtoken_result issuers_verify(struct issuers *reg, const char *jwt, int64_t now,
                                   struct idtoken_claims *out, struct issuer_ref *by);

/*
 * issuers_verify's answer when jwt is in the verified-JWT cache (and still
 * valid at now): true, with out and by (NULL is fine) filled; false for
 * anything else, which issuers_verify must then decide. A hit proves jwt
 * was verified before, so has a JWT's shape: the caller need not scan its
 * every byte to tell it from other credentials.
 */
bool issuers_verify_cached(struct issuers *reg, const char *jwt, int64_t now,
                           struct idtoken_claims *out, struct issuer_ref *by);

/* What /ready and operators need to know about one issuer. */
struct issuer_health {
	char label[48]; /* "[idp]", "[idp okta]", "[dev_idp]" */
	char issuer[CONFIG_STR_SIZE];
	bool loaded;          /* a key set has been loaded at least once */
	bool stale;           /* the last fetch or reload failed; the last good set is in use */
	int64_t last_good_ms; /* wall-clock time of the last good load; 0 never */
	char error[256];      /* why the last attempt failed; "" after a success */
};

/* Fills out with the state of up to max issuers, in configuration order; returns how many. */
size_t issuers_health(struct issuers *reg, struct issuer_health *out, size_t max);

/* How long a fetched key set is kept, given the answer's max-age (-1: none). Pure. */
long issuers_refresh_seconds(long max_age);

#endif
