/*
 * devidp.h - the built-in development identity provider ([dev_idp]).
 *
 * A TEST DEVICE: it signs a JWT for any provisioned user who asks, without
 * any credential. It exists so that a test suite or a newcomer gets an admin
 * JWT without running Keycloak; it must never face a network.
 *
 * Its signing key is an EC P-256 key (ES256), created at first start as
 * <data_dir>/dev-idp.key (PKCS#8 PEM, mode 0600) and reused afterwards; with
 * data_dir = :memory: it lives in memory only. Its kid is the key's RFC 7638
 * thumbprint. mgmtd trusts it by itself (issuers.h, struct issuer_given),
 * and publishes its discovery document and JWKS so that other programs can.
 */
#ifndef MGMTD_DEVIDP_H
#define MGMTD_DEVIDP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct dev_devices;

/* Lifetime of a minted JWT unless asked otherwise (like a real login), and its bounds. */
#define DEV_IDP_LIFETIME     3600
#define DEV_IDP_MAX_LIFETIME 86400

struct dev_idp;

/*
 * Loads the signing key from key_path, creating it (0600) when the file does
 * not exist; key_path "" keeps a fresh key in memory only. issuer is the
 * "iss" to sign with, audience the "aud". Returns 0, or -1 with err set.
 */
int dev_idp_open(const char *key_path, const char *issuer, const char *audience,
                 struct dev_idp **out, char *err, size_t errlen);

/* NULL is fine. */
void dev_idp_free(struct dev_idp *d);

const char *dev_idp_issuer(const struct dev_idp *d);
const char *dev_idp_audience(const struct dev_idp *d);

/* The public JWKS, as JSON text (owned by d), and its length. */
const char *dev_idp_jwks(const struct dev_idp *d, size_t *len);

/* The device authorization grant's state (devdevice.h), owned by d. */
struct dev_devices *dev_idp_devices(const struct dev_idp *d);

/* The OpenID discovery document; a new reference, NULL when out of memory. */
json_t *dev_idp_discovery(const struct dev_idp *d);

/* The authorization codes of the authorization-code grant (authcode.h), owned by d. */
struct authcodes *dev_idp_codes(const struct dev_idp *d);

enum dev_idp_result {
	DEV_IDP_OK = 0,
	DEV_IDP_UNKNOWN_USER, /* no user it can sign in has this email (in this account) */
	DEV_IDP_AMBIGUOUS,    /* users of several accounts have it: say which account */
	DEV_IDP_BAD_CLAIMS,   /* the extra claims name a claim the IdP sets itself */
	DEV_IDP_STORE,        /* *st says what */
	DEV_IDP_INTERNAL,     /* out of memory, signing failed */
};

/*
 * Signs a JWT for the user with this email (in account_id, or in the only
 * account that has such a user when account_id is NULL): "sub" is the user's
 * idpSubject, or the user's id when it has none (then the "email" claim,
 * which is always set and verified, links the user at its first use). Only
 * users bound to the dev IdP (idpIssuer "dev_idp", identity.h) or to no
 * issuer yet: a user of another identity provider is DEV_IDP_UNKNOWN_USER,
 * with why saying so. A person with no user but a pending
 * invite gets a JWT whose "sub" is the invite's id: its first use makes the
 * user, with that subject. Claims: iss, aud, sub, email,
 * email_verified, iat, exp = now + lifetime, then extra (a JSON object or
 * NULL), which may not set iss, sub, email, iat or exp. now is in seconds.
 * *jwt is malloc'ed; the caller frees it. why gets a sentence on failure.
 */
enum dev_idp_result dev_idp_mint(const struct dev_idp *d, struct store *s, const char *email,
                                 const char *account_id, const json_t *extra, int64_t now,
                                 long lifetime, char **jwt, enum store_status *st, char *why,
                                 size_t whylen);

#endif
