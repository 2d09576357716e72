/*
 * auth.c - credentials to principals, and the rights table of CONTRACT 2.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "auth.h"
#include "credcache.h"
#include "idtoken.h"
#include "issuers.h"
#include "lifecycle.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "token.h"

enum principal_class { PC_ADMIN = 0, PC_MEMBER, PC_AUDITOR, PC_TOKEN, PC_COUNT };

#define A ACCESS_ALLOW
#define D ACCESS_DENY
#define S ACCESS_SELF

/* rights[class][resource][operation]; operations are read, create, update, delete. */
static const unsigned char rights[PC_COUNT][RES_COUNT][OP_COUNT] =
    {
        [PC_ADMIN] =
            {
                [RES_MGMT_TOKENS] = {A, A, D, A},
                [RES_USERS] = {A, A, A, A},
                [RES_CLUSTERS] = {A, D, D, D},
                [RES_DATABASES] = {A, A, A, A},
                [RES_TABLES] = {A, A, A, A},
                [RES_DB_TOKENS] = {A, A, A, A},
                [RES_INVITES] = {A, A, D, A},
                [RES_AUDIT] = {A, D, D, D},
            },
        [PC_MEMBER] =
            {
                [RES_MGMT_TOKENS] = {D, D, D, D},
                [RES_USERS] = {S, D, D, D},
                [RES_CLUSTERS] = {A, D, D, D},
                [RES_DATABASES] = {A, D, D, D},
                [RES_TABLES] = {A, D, D, D},
                /* Members may issue database tokens, but not change or revoke them. */
                [RES_DB_TOKENS] = {A, A, D, D},
                [RES_INVITES] = {D, D, D, D},
                [RES_AUDIT] = {D, D, D, D},
            },
        [PC_AUDITOR] =
            {
                [RES_MGMT_TOKENS] = {A, D, D, D},
                [RES_USERS] = {A, D, D, D},
                [RES_CLUSTERS] = {A, D, D, D},
                [RES_DATABASES] = {A, D, D, D},
                [RES_TABLES] = {A, D, D, D},
                [RES_DB_TOKENS] = {A, D, D, D},
                [RES_INVITES] = {A, D, D, D},
                [RES_AUDIT] = {A, D, D, D},
            },
        /* Creating management tokens with one is decided by [auth] tokens_may_mint. */
        [PC_TOKEN] =
            {
                [RES_MGMT_TOKENS] = {A, D, D, A},
                [RES_USERS] = {A, A, A, A},
                [RES_CLUSTERS] = {A, D, D, D},
                [RES_DATABASES] = {A, A, A, A},
                [RES_TABLES] = {A, A, A, A},
                [RES_DB_TOKENS] = {A, A, A, A},
                [RES_INVITES] = {A, A, D, A},
                [RES_AUDIT] = {A, D, D, D},
            },
};

#undef A
#undef D
#undef S

static int principal_class_of(const struct principal *p)
{
	if (p->kind == PRINCIPAL_MGMT_TOKEN)
		return PC_TOKEN;
	if (p->kind != PRINCIPAL_USER)
		return -1;
	switch (p->group) {
	case GROUP_ADMIN:
		return PC_ADMIN;
	case GROUP_MEMBER:
		return PC_MEMBER;
	case GROUP_AUDITOR:
		return PC_AUDITOR;
	}
	return -1;
}

enum access auth_access(const struct principal *p, enum resource res, enum operation op,
                        bool tokens_may_mint)
{
	int pc = principal_class_of(p);

	if (res == RES_NONE)
		return ACCESS_ALLOW;
	if (pc < 0 || (unsigned)res >= RES_COUNT || (unsigned)op >= OP_COUNT)
		return ACCESS_DENY;
	if (pc == PC_TOKEN && res == RES_MGMT_TOKENS && op == OP_CREATE && tokens_may_mint)
		return ACCESS_ALLOW;
	return (enum access)rights[pc][res][op];
}

void auth_after_request(struct request *req)
{
	const struct principal *p = &req->principal;
	enum store_status st;

	if (req->store == NULL)
		return;
	if (p->kind == PRINCIPAL_DB_TOKEN && p->last_used_due) {
		/* set by /authorize (api_authorize.c), the hot path: a write a minute at most */
		st = store_db_token_touch(req->store, p->token_id, req->now,
		                          AUTH_LAST_USED_INTERVAL_MS);
		if (st != STORE_OK)
			log_warn("could not record lastUsedAt of database token %s: %s",
			         p->token_id, store_status_name(st));
		return;
	}
	if (p->kind != PRINCIPAL_MGMT_TOKEN)
		return;
	if (p->last_used_due) {
		st = store_mgmt_token_touch(req->store, p->token_id, req->now,
		                            AUTH_LAST_USED_INTERVAL_MS);
		if (st != STORE_OK)
			log_warn("could not record lastUsedAt of management token %s: %s",
			         p->token_id, store_status_name(st));
	}
	if (p->previous_used_due) {
		st = store_mgmt_token_touch_previous(req->store, p->token_id, req->now,
		                                     LIFECYCLE_PREVIOUS_USE_INTERVAL_MS);
		if (st != STORE_OK)
			log_warn("could not record previousSecretLastUsedAt of management token "
			         "%s: %s",
			         p->token_id, store_status_name(st));
	}
}

const char *auth_actor_id(const struct principal *p)
{
	switch (p->kind) {
	case PRINCIPAL_USER:
		return p->user_id;
	case PRINCIPAL_MGMT_TOKEN:
	case PRINCIPAL_DB_TOKEN:
		return p->token_id;
	case PRINCIPAL_NONE:
		break;
	}
	return "";
}

/* A refused credential: counted (metrics.h), then answered like api_fail. */
static enum api_status refuse(struct request *req, enum metrics_cred kind, const char *reason,
                              enum api_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum api_status refuse(struct request *req, enum metrics_cred kind, const char *reason,
                              enum api_status st, const char *fmt, ...)
{
	va_list ap;

	metrics_auth(kind, reason);
	req->refusal_reason = reason;
	va_start(ap, fmt);
	vsnprintf(req->message, sizeof(req->message), fmt, ap);
	va_end(ap);
	req->status = st;
	return st;
}

static void set_token_principal(struct request *req, const struct credcache_mgmt *t)
{
	req->principal.kind = PRINCIPAL_MGMT_TOKEN;
	str_copy(req->principal.account_id, sizeof(req->principal.account_id), t->account_id);
	str_copy(req->principal.token_id, sizeof(req->principal.token_id), t->id);
	str_copy(req->principal.token_created_by, sizeof(req->principal.token_created_by),
	         t->created_by);
	str_copy(req->principal.token_prefix, sizeof(req->principal.token_prefix), t->prefix);
}

/*
 * The management token whose secret is credential: from this thread's cache
 * when the request's read snapshot has the epoch it was read in, else from
 * the store by its keyed hash (and then kept). A credential that is not
 * well formed is NOT_FOUND with *malformed set; only well-formed ones are
 * ever cached, so a cached one needs no second look at its checksum.
 */
static enum store_status find_mgmt_token(struct request *req, const char *credential,
                                         struct credcache_mgmt *out, bool *malformed)
{
	unsigned char hash[TOKEN_HASH_LEN];
	struct store_mgmt_token t;
	struct credcache_key key;
	enum store_status st;
	uint64_t epoch;
	bool cacheable =
	    store_change_epoch(req->store, &epoch) && credcache_key("mgmt", credential, NULL, &key);

	*malformed = false;
	if (cacheable && credcache_get_mgmt(&key, epoch, out))
		return STORE_OK;
	/* The checksum turns typos and truncations away before any lookup. */
	if (!token_mgmt_well_formed(credential)) {
		*malformed = true;
		return STORE_NOT_FOUND;
	}
	token_hash(&req->app->token_key, credential, hash);
	st = store_mgmt_token_by_hash(req->store, hash, &t);
	sodium_memzero(hash, sizeof(hash));
	if (st != STORE_OK)
		return st;
	memset(out, 0, sizeof(*out));
	str_copy(out->id, sizeof(out->id), t.id);
	str_copy(out->account_id, sizeof(out->account_id), t.account_id);
	str_copy(out->created_by, sizeof(out->created_by), t.created_by);
	str_copy(out->prefix, sizeof(out->prefix), t.prefix);
	out->expires_at = t.expires_at;
	out->revoked_at = t.revoked_at;
	out->last_used_at = t.last_used_at;
	out->by_previous = t.by_previous;
	out->previous_expires_at = t.previous_expires_at;
	out->previous_last_used_at = t.previous_last_used_at;
	out->suspended_at = t.suspended_at;
	if (cacheable)
		credcache_put_mgmt(&key, epoch, out);
	return STORE_OK;
}

static enum api_status authenticate_mgmt_token(struct request *req, const char *credential,
                                               const char *account_id)
{
	struct credcache_mgmt t;
	enum store_status st;
	bool malformed;

	st = find_mgmt_token(req, credential, &t, &malformed);
	if (malformed)
		return refuse(req, METRICS_CRED_MGMT_TOKEN, "malformed", API_UNAUTHORIZED,
		              "the management token is malformed (wrong length or checksum)");
	if (st == STORE_NOT_FOUND)
		return refuse(req, METRICS_CRED_MGMT_TOKEN, "unknown", API_UNAUTHORIZED,
		              "the management token is not valid");
	if (st != STORE_OK) {
		metrics_auth(METRICS_CRED_MGMT_TOKEN, "unavailable");
		return api_from_store(req, st, "management token", NULL);
	}
	/*
	 * A token of this account is named even when it is refused: its audit
	 * row says which one. Another account's is not (audit.c records only
	 * credentials that exist in the account of the path).
	 */
	if (account_id != NULL && strcmp(t.account_id, account_id) == 0)
		set_token_principal(req, &t);
	if (t.revoked_at != 0)
		return refuse(req, METRICS_CRED_MGMT_TOKEN, "revoked", API_UNAUTHORIZED,
		              "the management token has been revoked");
	if (t.expires_at != 0 && t.expires_at <= req->now)
		return refuse(req, METRICS_CRED_MGMT_TOKEN, "expired", API_UNAUTHORIZED,
		              "the management token has expired");
	/*
	 * A rotated-away secret past its grace: refused as a revoked one, and
	 * named in the audit trail (throttled) so that an operator finds the
	 * client nobody updated.
	 */
	if (t.by_previous && t.previous_expires_at <= req->now) {
		if (req->principal.kind == PRINCIPAL_MGMT_TOKEN) {
			if (lifecycle_late_use_audit_due(t.id, req->now))
				audit_note(req, "management_token.used_after_rotation", t.id);
			else
				memset(&req->principal, 0, sizeof(req->principal));
		}
		return refuse(req, METRICS_CRED_MGMT_TOKEN, "used_after_rotation", API_UNAUTHORIZED,
		              "the management token's secret was replaced by a rotation and its "
		              "grace has ended; use the new secret");
	}
	if (t.suspended_at != 0)
		return refuse(req, METRICS_CRED_MGMT_TOKEN, "suspended", API_UNAUTHORIZED,
		              "the management token is suspended");
	/* A token never reaches another account, nor learns whether it exists. */
	if (account_id == NULL || strcmp(t.account_id, account_id) != 0)
		return refuse(req, METRICS_CRED_MGMT_TOKEN, "other_account", API_NOT_FOUND,
		              "account not found");
	metrics_auth(METRICS_CRED_MGMT_TOKEN, "ok");

	/* lastUsedAt is a hint, not a ledger: at most one write a minute per token. */
	req->principal.last_used_due =
	    t.last_used_at == 0 || req->now - t.last_used_at >= AUTH_LAST_USED_INTERVAL_MS;
	if (t.by_previous) {
		/* within the grace: allowed, counted, and recorded like lastUsedAt */
		metrics_previous_secret_use(false);
		req->principal.previous_used_due =
		    t.previous_last_used_at == 0 ||
		    req->now - t.previous_last_used_at >= LIFECYCLE_PREVIOUS_USE_INTERVAL_MS;
	}
	return API_OK;
}

static void set_known_user_principal(struct request *req, const struct credcache_user *user)
{
	req->principal.kind = PRINCIPAL_USER;
	str_copy(req->principal.account_id, sizeof(req->principal.account_id), user->account_id);
	str_copy(req->principal.user_id, sizeof(req->principal.user_id), user->id);
	req->principal.group = user->group;
}

/* What the principal and the cache keep of a user. */
static void known_user_of(const struct store_user *user, struct credcache_user *out)
{
	memset(out, 0, sizeof(*out));
	str_copy(out->id, sizeof(out->id), user->id);
	str_copy(out->account_id, sizeof(out->account_id), user->account_id);
	out->group = user->group;
}

static void set_user_principal(struct request *req, const struct store_user *user)
{
	struct credcache_user known;

	known_user_of(user, &known);
	set_known_user_principal(req, &known);
}

/*
 * The JWT's email when users may be matched by it (a user without a subject
 * yet, a pending invite): the identity provider says it verified the
 * address ("email_verified": true), or its section trusts its addresses
 * ([idp] trust_email) and the token does not say false. NULL otherwise: an
 * unverified address is anyone's to claim.
 */
static const char *vouched_email(const struct idtoken_claims *claims, const struct issuer_ref *by)
{
	bool vouched = claims->email_verified == EMAIL_VERIFIED_TRUE ||
	               (by->trust_email && claims->email_verified != EMAIL_VERIFIED_FALSE);

	return claims->email[0] != '\0' && vouched ? claims->email : NULL;
}

/*
 * claims and by: what the verified-JWT cache already holds for credential
 * (auth_authenticate), or NULL: verified here.
 */
static enum api_status authenticate_jwt(struct request *req, const char *credential,
                                        const char *account_id,
                                        const struct idtoken_claims *cached_claims,
                                        const struct issuer_ref *cached_by)
{
	struct app *app = req->app;
	struct idtoken_claims claims;
	struct issuer_ref by;
	struct store_user user;
	enum idtoken_result r = IDTOKEN_OK;
	enum store_status st;
	const char *email;

	if (cached_claims != NULL) {
		claims = *cached_claims;
		by = *cached_by;
	} else if (issuers_count(app->issuers) == 0) {
		return refuse(req, METRICS_CRED_JWT, "no_idp", API_UNAUTHORIZED,
		              "this server accepts no JWTs: no identity provider is configured");
	} else if (req->fault == FAULT_IDP_KEYS_UNAVAILABLE) {
		/*
		 * The test harness's fault (faults.h): no key set, as when the JWKS could
		 * not be fetched since start. The verified-JWT cache is passed by too: it
		 * holds only what keys verified, and with none there would be nothing in it.
		 */
		r = IDTOKEN_KEYS_NOT_LOADED;
	} else {
		/* Through the verified-JWT cache; the user is looked up afresh below all the
		 * same. */
		r = issuers_verify(app->issuers, credential, req->now / 1000, &claims, &by);
	}
	/* Not the caller's fault: the keys have not arrived yet. */
	if (r == IDTOKEN_KEYS_NOT_LOADED)
		return refuse(req, METRICS_CRED_JWT, "keys_not_loaded", API_UNAVAILABLE, "%s",
		              idtoken_result_message(r));
	if (r != IDTOKEN_OK) {
		char why[128];

		return refuse(req, METRICS_CRED_JWT, r == IDTOKEN_EXPIRED ? "expired" : "invalid",
		              API_UNAUTHORIZED, "%s",
		              idtoken_describe(r, credential, why, sizeof(why)));
	}
	if (account_id == NULL)
		return refuse(req, METRICS_CRED_JWT, "not_provisioned", API_FORBIDDEN,
		              "user is not provisioned in this account");
	email = vouched_email(&claims, &by);
	{
		/* the user bound to this identity: only that answer is kept (credcache.h) */
		const char *const parts[] = {by.identity, account_id, NULL};
		struct credcache_user known;
		struct credcache_key key;
		uint64_t epoch;
		bool cacheable = store_change_epoch(req->store, &epoch) &&
		                 credcache_key("user", claims.sub, parts, &key);

		if (cacheable && credcache_get_user(&key, epoch, &known)) {
			metrics_auth(METRICS_CRED_JWT, "ok");
			set_known_user_principal(req, &known);
			return API_OK;
		}
		st = store_user_for_idp(req->store, account_id, by.identity, claims.sub, email,
		                        &user);
		if (st == STORE_OK && user.idp_subject[0] != '\0') {
			known_user_of(&user, &known);
			if (cacheable)
				credcache_put_user(&key, epoch, &known);
			metrics_auth(METRICS_CRED_JWT, "ok");
			set_known_user_principal(req, &known);
			return API_OK;
		}
	}
	if (st == STORE_OK || (st == STORE_NOT_FOUND && email != NULL)) {
		/*
		 * A user to link by email, or maybe a pending invite: a first
		 * sign-in, which writes, so outside the read snapshot (dispatch.c
		 * calls auth_first_sign_in, which counts the outcome).
		 */
		req->principal.first_sign_in_due = true;
		return api_fail(req, API_FORBIDDEN, "user is not provisioned in this account");
	}
	if (st == STORE_NOT_FOUND)
		return refuse(req, METRICS_CRED_JWT, "not_provisioned", API_FORBIDDEN,
		              "user is not provisioned in this account");
	metrics_auth(METRICS_CRED_JWT, "unavailable");
	return api_from_store(req, st, "user", NULL);
}

/*
 * Inside the caller's transaction: links the user matched by email to the
 * JWT's identity, or accepts the invite pending for the email, making the
 * user; with the audit row of either. Fills *user. NOT_FOUND when neither is
 * there (any more).
 */
static enum store_status first_sign_in(struct request *req, const char *account_id,
                                       const char *issuer, const char *sub, const char *email,
                                       struct store_user *user)
{
	struct store_invite invite;
	enum store_status st;

	st = store_user_for_idp(req->store, account_id, issuer, sub, email, user);
	if (st == STORE_OK && user->idp_subject[0] != '\0')
		return STORE_OK; /* a request of the same person got here first */
	if (st == STORE_OK) {
		st = store_user_link(req->store, account_id, user->id, issuer, sub);
		if (st != STORE_OK)
			return st;
		str_copy(user->idp_issuer, sizeof(user->idp_issuer), issuer);
		str_copy(user->idp_subject, sizeof(user->idp_subject), sub);
		set_user_principal(req, user);
		st = audit_user_linked(req, user->id);
		if (st == STORE_OK)
			log_info(
			    "user %s (%s) of account %s signed in for the first time: bound to "
			    "subject %s of %s",
			    user->id, user->email, account_id, sub, issuer);
		return st;
	}
	if (st != STORE_NOT_FOUND)
		return st;
	memset(user, 0, sizeof(*user));
	uuid_v4_generate(user->id);
	str_copy(user->account_id, sizeof(user->account_id), account_id);
	str_copy(user->email, sizeof(user->email), email);
	str_copy(user->idp_subject, sizeof(user->idp_subject), sub);
	str_copy(user->idp_issuer, sizeof(user->idp_issuer), issuer);
	user->created_at = req->now;
	st = store_invite_accept(req->store, user, req->now, &invite);
	if (st != STORE_OK)
		return st;
	set_user_principal(req, user);
	st = audit_invite_accepted(req, invite.id);
	if (st == STORE_OK)
		log_info("invite %s accepted: user %s (%s) joined account %s as %s", invite.id,
		         user->id, user->email, account_id, user_group_name(user->group));
	return st;
}

enum api_status auth_first_sign_in(struct request *req, const char *account_id)
{
	struct idtoken_claims claims;
	struct issuer_ref by;
	struct store_user user;
	const char *credential, *email = NULL;
	enum store_status st;
	bool began = false;

	memset(&req->principal, 0, sizeof(req->principal));
	if (account_id != NULL && auth_credential(req, false, &credential) == API_OK &&
	    issuers_verify(req->app->issuers, credential, req->now / 1000, &claims, &by) ==
	        IDTOKEN_OK)
		email = vouched_email(&claims, &by);
	if (email == NULL)
		return refuse(req, METRICS_CRED_JWT, "not_provisioned", API_FORBIDDEN,
		              "user is not provisioned in this account");
	/* The link or the new user, and the audit row, commit together. */
	st = store_tx_enter(req->store, &began);
	if (st == STORE_OK)
		st = first_sign_in(req, account_id, by.identity, claims.sub, email, &user);
	st = store_tx_leave(req->store, began, st);
	if (st == STORE_NOT_FOUND || st == STORE_CONFLICT) {
		/* A request of the same person may have done it a moment ago. */
		st = store_user_for_idp(req->store, account_id, by.identity, claims.sub, NULL,
		                        &user);
	}
	if (st == STORE_NOT_FOUND) {
		memset(&req->principal, 0, sizeof(req->principal));
		return refuse(req, METRICS_CRED_JWT, "not_provisioned", API_FORBIDDEN,
		              "user is not provisioned in this account");
	}
	if (st != STORE_OK) {
		memset(&req->principal, 0, sizeof(req->principal));
		metrics_auth(METRICS_CRED_JWT, "unavailable");
		return api_from_store(req, st, "user", NULL);
	}
	metrics_auth(METRICS_CRED_JWT, "ok");
	set_user_principal(req, &user);
	return API_OK;
}

enum api_status auth_credential(struct request *req, bool token_scheme, const char **out)
{
	const char *header = req->authorization;
	const char *credential = NULL;

	*out = NULL;
	if (header == NULL || header[0] == '\0')
		return api_fail(req, API_UNAUTHORIZED,
		                token_scheme ? "an Authorization header with a Bearer or Token "
		                               "credential is required"
		                             : "an Authorization header with a Bearer credential "
		                               "is required");
	if (strncasecmp(header, "Bearer ", 7) == 0)
		credential = header + 7;
	else if (token_scheme && strncasecmp(header, "Token ", 6) == 0)
		credential = header + 6;
	else
		return api_fail(req, API_UNAUTHORIZED,
		                token_scheme
		                    ? "the Authorization header must use the Bearer or "
		                      "Token scheme"
		                    : "the Authorization header must use the Bearer scheme");
	while (*credential == ' ')
		credential++;
	if (*credential == '\0')
		return api_fail(req, API_UNAUTHORIZED, "the credential is empty");
	*out = credential;
	return API_OK;
}

enum api_status auth_authenticate(struct request *req, const char *account_id)
{
	struct idtoken_claims claims;
	struct issuer_ref by;
	const char *credential;

	memset(&req->principal, 0, sizeof(req->principal));
	if (auth_credential(req, false, &credential) != API_OK) {
		metrics_auth(METRICS_CRED_NONE, req->authorization ? "wrong_scheme" : "missing");
		return req->status;
	}
	if (strncmp(credential, TOKEN_MGMT_MARK, strlen(TOKEN_MGMT_MARK)) == 0)
		return authenticate_mgmt_token(req, credential, account_id);
	/*
	 * A JWT verified before is in the verified-JWT cache, which proves its
	 * shape: found there, it is not scanned byte by byte to be told from
	 * other credentials (a kilobyte of them, on every request).
	 */
	if (req->fault != FAULT_IDP_KEYS_UNAVAILABLE &&
	    issuers_verify_cached(req->app->issuers, credential, req->now / 1000, &claims, &by))
		return authenticate_jwt(req, credential, account_id, &claims, &by);
	if (idtoken_looks_like_jwt(credential))
		return authenticate_jwt(req, credential, account_id, NULL, NULL);
	/* Never looked up: a database token is a data-plane credential only. */
	if (strncmp(credential, TOKEN_DB_MARK, strlen(TOKEN_DB_MARK)) == 0)
		return refuse(req, METRICS_CRED_DB_TOKEN, "invalid", API_UNAUTHORIZED,
		              "database tokens (apiv1_...) only authorize reads and writes of "
		              "databases; the Management API needs a management token or a JWT");
	return refuse(req, METRICS_CRED_OTHER, "malformed", API_UNAUTHORIZED,
	              "the credential is neither a management token nor a JWT");
}
