/*
 * identity.c - the issuers users are bound to: how input names them, what is
 * stored, and the start-up binding of subjects stored without one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "log.h"
#include "util.h"

/* Unbound users read at start to count and name them; more are "at least" this many. */
#define UNBOUND_LOOKED_AT 1000
/* ... of which the refusal names this many. */
#define UNBOUND_NAMED 3

void identity_issuers_init(struct identity_issuers *out, const struct config *cfg,
                           const char *dev_url)
{
	const struct idp_config *idps[CONFIG_MAX_IDPS + 1];
	size_t n = config_idps(cfg, idps, CONFIG_MAX_IDPS + 1);

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n && out->count < IDENTITY_MAX; i++) {
		struct identity_issuer *e = &out->list[out->count++];

		config_idp_label(idps[i], e->label, sizeof(e->label));
		e->name = idps[i]->name[0] ? idps[i]->name : NULL;
		str_copy(e->url, sizeof(e->url), idps[i]->issuer);
		e->stored = idps[i]->issuer;
	}
	if (cfg->dev_idp_enabled && out->count < IDENTITY_MAX) {
		struct identity_issuer *e = &out->list[out->count++];

		str_copy(e->label, sizeof(e->label), "[dev_idp]");
		e->name = IDENTITY_DEV_IDP;
		if (dev_url)
			str_copy(e->url, sizeof(e->url), dev_url);
		else if (config_dev_idp_issuer(cfg, 0, e->url, sizeof(e->url)) != 0)
			e->url[0] = '\0';
		e->stored = IDENTITY_DEV_IDP;
	}
}

/* Appends to buf (always terminated, cut when full). */
static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strnlen(buf, size);
	va_list ap;

	if (used + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

/* "[idp] https://a/, [idp okta] https://b/, [dev_idp] dev_idp" into buf. */
static void describe(const struct identity_issuers *ids, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < ids->count; i++)
		append(buf, size, "%s%s %s", i ? ", " : "", ids->list[i].label,
		       ids->list[i].url[0] ? ids->list[i].url : ids->list[i].stored);
}

int identity_issuer_resolve(const struct identity_issuers *ids, const char *input, char *out,
                            size_t outsize, char *why, size_t whylen)
{
	char known[1024];

	for (size_t i = 0; input && input[0] && i < ids->count; i++) {
		const struct identity_issuer *e = &ids->list[i];

		if ((e->url[0] && strcmp(input, e->url) == 0) ||
		    (e->name && strcmp(input, e->name) == 0) || strcmp(input, e->stored) == 0) {
			if (!str_copy(out, outsize, e->stored))
				break;
			return 0;
		}
	}
	if (ids->count == 0) {
		snprintf(why, whylen,
		         "\"%.200s\" is not an identity provider of this server: it "
		         "has none configured",
		         input ? input : "");
		return -1;
	}
	describe(ids, known, sizeof(known));
	snprintf(why, whylen,
	         "\"%.200s\" is not an identity provider of this server; give the issuer URL or "
	         "the section name of one of: %s",
	         input ? input : "", known);
	return -1;
}

int identity_issuer_default(const struct identity_issuers *ids, char *out, size_t outsize,
                            char *why, size_t whylen)
{
	char known[1024];

	if (ids->count == 0) {
		str_copy(out, outsize, "");
		return 0;
	}
	if (ids->count == 1 && str_copy(out, outsize, ids->list[0].stored))
		return 0;
	describe(ids, known, sizeof(known));
	snprintf(why, whylen,
	         "%zu identity providers are configured (%s), and a subject is unique only "
	         "within its issuer: say which one this subject belongs to",
	         ids->count, known);
	return -1;
}

/* The refusal of a start with several issuers and unbound subjects. */
static void unbound_refusal(const struct identity_issuers *ids, const struct store_user *users,
                            size_t n, char *err, size_t errlen)
{
	char known[1024];

	describe(ids, known, sizeof(known));
	snprintf(err, errlen,
	         "%s%zu user%s ha%s an IdP subject but no issuer (stored before mgmtd recorded "
	         "issuers), and %zu identity providers are configured (%s): a subject is unique "
	         "only within its issuer, so mgmtd will not guess. Bind them, then start again: "
	         "`mgmtd user bind --issuer NAME` binds all of them to the provider NAME (a "
	         "section name or issuer URL), `mgmtd user bind --issuer NAME --account ID "
	         "[--email EMAIL]` those of one account or one user; give it the server's "
	         "--config (docs/operations.md). Unbound:",
	         n >= UNBOUND_LOOKED_AT ? "at least " : "", n, n == 1 ? "" : "s",
	         n == 1 ? "s" : "ve", ids->count, known);
	for (size_t i = 0; i < n && i < UNBOUND_NAMED; i++)
		append(err, errlen, "%s %.100s (subject %.100s) in account %s", i ? "," : "",
		       users[i].email, users[i].idp_subject, users[i].account_id);
	if (n > UNBOUND_NAMED)
		append(err, errlen, " and %zu more (mgmtd user list --account ID)",
		       n - UNBOUND_NAMED);
}

int identity_bind_unbound(struct store *s, const struct identity_issuers *ids, char *err,
                          size_t errlen)
{
	struct store_user *users = NULL;
	enum store_status st;
	int64_t bound = 0;
	size_t n = 0;

	if (ids->count == 0)
		return 0; /* nobody can sign in: they wait for an issuer */
	if (ids->count == 1) {
		st = store_users_bind_issuer(s, NULL, NULL, ids->list[0].stored, &bound);
		if (st == STORE_CONFLICT) {
			snprintf(err, errlen,
			         "cannot bind the users without an issuer to %s %s: some of them "
			         "have a subject another user of their account has at that issuer; "
			         "change one of them (mgmtd user list, PATCH .../users/ID)",
			         ids->list[0].label, ids->list[0].stored);
			return -1;
		}
		if (st != STORE_OK) {
			snprintf(err, errlen, "cannot bind the users without an issuer: %s",
			         store_status_name(st));
			return -1;
		}
		if (bound > 0)
			log_notice("bound %lld user subject%s stored without an issuer to %s %s, "
			           "the only identity provider configured",
			           (long long)bound, bound == 1 ? "" : "s", ids->list[0].label,
			           ids->list[0].stored);
		return 0;
	}
	st = store_users_unbound(s, NULL, UNBOUND_LOOKED_AT, &users, &n);
	if (st != STORE_OK) {
		snprintf(err, errlen, "cannot look for users without an issuer: %s",
		         store_status_name(st));
		return -1;
	}
	if (n > 0)
		unbound_refusal(ids, users, n, err, errlen);
	free(users);
	return n > 0 ? -1 : 0;
}
