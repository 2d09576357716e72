/*
 * identity.h - who a user is to mgmtd: the pair (issuer, subject) (CONTRACT 2).
 *
 * A subject is unique only within its issuer (OpenID Connect Core 1.0, 2), so
 * a user records both, and a JWT stands for a user only when the issuer that
 * verified it and its "sub" are the user's. What a user records as its issuer
 * (store.h idp_issuer, the API's idpIssuer):
 *   - for an [idp] or [idp NAME] section, its issuer URL, exactly as its JWTs
 *     carry it in "iss";
 *   - for the built-in dev IdP, IDENTITY_DEV_IDP ("dev_idp"): its URL is this
 *     server's own, port included, and a binding must survive a start on
 *     another port.
 * Input (the API, the seed, `mgmtd user add --issuer`) may name an issuer by
 * that URL or by its section's NAME ("dev_idp" for the dev IdP, whose URL is
 * accepted too when it is known).
 *
 * Existing subjects without an issuer ("unbound", from before issuers were
 * recorded) are bound at start to the only configured issuer; with several,
 * mgmtd refuses to start until `mgmtd user bind` says which
 * (identity_bind_unbound).
 */
#ifndef MGMTD_IDENTITY_H
#define MGMTD_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "store.h"

/* What users record for the dev IdP; no [idp NAME] section may take this name. */
#define IDENTITY_DEV_IDP "dev_idp"

/* At most: [idp], every [idp NAME], and the dev IdP. */
#define IDENTITY_MAX (CONFIG_MAX_IDPS + 2)

/* One configured issuer, as users name it. The pointers are into the config. */
struct identity_issuer {
	char label[48];            /* "[idp]", "[idp okta]", "[dev_idp]": for messages */
	const char *name;          /* the section's NAME, "dev_idp"; NULL for the plain [idp] */
	char url[CONFIG_STR_SIZE]; /* its "iss"; "" for the dev IdP while its URL is unknown */
	const char *stored;        /* what users record: the URL, or IDENTITY_DEV_IDP */
};

/* The issuers of a configuration, in its order ([idp], [idp NAME]..., [dev_idp]). */
struct identity_issuers {
	size_t count;
	struct identity_issuer list[IDENTITY_MAX];
};

/*
 * Fills out from cfg, which must outlive it. dev_url is the dev IdP's issuer
 * URL when [dev_idp] is enabled; NULL: what the configuration alone says
 * (config_dev_idp_issuer), unknown with listen port 0 and no [dev_idp] issuer.
 */
void identity_issuers_init(struct identity_issuers *out, const struct config *cfg,
                           const char *dev_url);

/*
 * What users record for the issuer named by input (an issuer URL or a
 * section name), copied into out. Returns 0, or -1 with why (a sentence that
 * names the configured issuers) when no configured issuer has that name.
 */
int identity_issuer_resolve(const struct identity_issuers *ids, const char *input, char *out,
                            size_t outsize, char *why, size_t whylen);

/*
 * The issuer a subject given without one gets: the only configured issuer,
 * or "" when none is configured (the subject stays unbound until one is).
 * Returns 0, or -1 with why when several are configured.
 */
int identity_issuer_default(const struct identity_issuers *ids, char *out, size_t outsize,
                            char *why, size_t whylen);

/*
 * Start-up: binds every unbound subject to the only configured issuer (one
 * statement, logged). With several issuers and unbound subjects, returns -1
 * with err saying which users wait and the command that binds them; with
 * none, leaves them be. Returns 0 or -1.
 */
int identity_bind_unbound(struct store *s, const struct identity_issuers *ids, char *err,
                          size_t errlen);

#endif
