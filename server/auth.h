/*
 * auth.h - who is calling, and may they do this.
 *
 * A credential is a management token ("M.V1.", refused before any lookup when
 * its checksum fails) or an IdP JWT mapped to a provisioned user of the
 * account in the path. The rights table (CONTRACT 2) lives in auth.c.
 */
#ifndef MGMTD_AUTH_H
#define MGMTD_AUTH_H

#include <stdbool.h>

#include "reply.h"
#include "router.h"
#include "store.h"
#include "util.h"

/*
 * PRINCIPAL_DB_TOKEN is set only by the data-plane check (api_authorize.c),
 * for the access log; it has no row in the rights table, so it can never
 * pass auth_access.
 */
enum principal_kind {
	PRINCIPAL_NONE = 0,
	PRINCIPAL_USER,
	PRINCIPAL_MGMT_TOKEN,
	PRINCIPAL_DB_TOKEN
};

struct principal {
	enum principal_kind kind;
	char account_id[UUID_STR_SIZE];
	/* PRINCIPAL_USER */
	char user_id[UUID_STR_SIZE];
	enum user_group group;
	/* PRINCIPAL_MGMT_TOKEN, PRINCIPAL_DB_TOKEN */
	char token_id[UUID_STR_SIZE];
	char token_created_by[UUID_STR_SIZE];
	char token_prefix[TOKEN_PREFIX_SIZE]; /* PRINCIPAL_MGMT_TOKEN: its public prefix */
	bool last_used_due;                   /* lastUsedAt is to be written (auth_after_request) */
	bool previous_used_due; /* a rotated token's previous secret was used: record it (idem) */
	/*
	 * A good JWT with an email its provider vouches for and no user of that
	 * identity: a user to link by that email, or an invite pending for it.
	 */
	bool first_sign_in_due;
};

/* Minimum time between two lastUsedAt writes of one token. */
#define AUTH_LAST_USED_INTERVAL_MS 60000

/*
 * The credential of req's Authorization header: "Bearer <credential>", and
 * with token_scheme also "Token <credential>" (the InfluxDB data-plane
 * form). *out points into the header. 401 when there is none.
 */
enum api_status auth_credential(struct request *req, bool token_scheme, const char **out);

/*
 * Authenticates req's Authorization header for the account in the path and
 * fills req->principal. 401 for a missing or bad credential (database
 * tokens included: they never reach the Management API); 404 for a token
 * of another account; 403 for a JWT of nobody provisioned in it. A JWT
 * stands for the user with its identity: the issuer that verified it and
 * its "sub" (identity.h); its email only ever leads to a first sign-in.
 */
enum api_status auth_authenticate(struct request *req, const char *account_id);

/*
 * After auth_authenticate answered 403 with principal.first_sign_in_due set:
 * a person's first sign-in, in one store transaction (so call it outside any
 * read snapshot) with its audit row. The user without a subject whose email
 * the JWT's verified email is gets bound to the JWT's (issuer, subject);
 * else the invite pending for that email is accepted, creating the user in
 * the invite's group. Fills req->principal; 403 as before when neither is
 * there.
 */
enum api_status auth_first_sign_in(struct request *req, const char *account_id);

enum access { ACCESS_DENY = 0, ACCESS_ALLOW, ACCESS_SELF /* only the caller's own user */ };

/* What the rights table says for the principal, resource and operation. */
enum access auth_access(const struct principal *p, enum resource res, enum operation op,
                        bool tokens_may_mint);

/*
 * Writes what authentication only noted (the token's lastUsedAt), once the
 * request's reads are done and outside its read snapshot. Failures are
 * logged, never answered: lastUsedAt is a hint.
 */
void auth_after_request(struct request *req);

/* The principal's id as recorded in createdBy/revokedBy-style fields. */
const char *auth_actor_id(const struct principal *p);

#endif
