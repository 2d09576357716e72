/*
 * audit.h - the audit trail: every change made through the API or the
 * offline CLI, every refused attempt to make one and every refused
 * credential, as rows of the store's audit_events (store.h), plus one log
 * line per admin action.
 *
 * Atomicity: for a route that changes something (routes.c: operation other
 * than read), dispatch.c calls audit_begin before the body is read, which
 * opens a write transaction on the request's store connection; every store
 * call of the handler then runs inside it (store.h: functions join a
 * transaction the caller holds), and audit_finish writes the row in the same
 * transaction before it commits. A change and its row commit together or
 * not at all. A refusal or a failure rolls the transaction back and writes
 * its row on its own.
 *
 * What a handler adds is one line, naming the action and the object:
 *     audit_note(req, "invite.create", invite.id);
 * Without it, the row still names the route's resource and operation
 * ("invite.create" for a POST on an invite route) with no object id.
 */
#ifndef MGMTD_AUDIT_H
#define MGMTD_AUDIT_H

#include <stddef.h>

#include "reply.h"
#include "store.h"

struct request;

/* What a handler says about the change it made (held in struct request). */
struct audit_note {
	const char *action; /* a string literal; NULL = the route's default */
	char object_id[STORE_AUDIT_OBJECT_SIZE];
	char detail[STORE_AUDIT_DETAIL_SIZE];
};

/*
 * Names the action ("database.rename"; the part before the dot is the object
 * type) and the object (an id or a name; NULL for none). Called by handlers.
 */
void audit_note(struct request *req, const char *action, const char *object_id);

/* Adds a short sentence to the row (never a secret). */
void audit_detail(struct request *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * dispatch.c, once a change was authenticated and authorized: opens the
 * write transaction the handler and the audit row share. 503 when the store
 * cannot begin one.
 */
enum api_status audit_begin(struct request *req);

/*
 * dispatch.c, after every request: writes the row the outcome calls for
 * (a change, a refused change, a refused token of the account; nothing for
 * a read, nor for a credential that names nobody of the account: that is a
 * rate-limited log line, since anyone can send one),
 * commits the change with it or rolls it back, and logs the admin action. A
 * change whose row cannot be written is rolled back and answered 503.
 */
void audit_finish(struct request *req);

/*
 * What may be recorded of a credential, never the credential: a management
 * or database token's public prefix ("M.V1.abcd", "apiv1_abcd"), "jwt" for
 * a JWT (nothing of its claims: they are not verified here), or a word for
 * anything else.
 */
void audit_credential_hint(const char *credential, char *out, size_t outsize);

/* audit_credential_hint of the credential in req's Authorization header. */
void audit_request_hint(const struct request *req, char *out, size_t outsize);

/*
 * dispatch.c, for a change that ran in a transaction shared with others
 * (commitq.h), once that transaction's commit is decided: the admin-action
 * line of the row written then, or the error that it was lost.
 */
void audit_after_commit(struct request *req, enum store_status commit_status);

/*
 * auth.c, when a first sign-in accepts an invite: the row for it, written
 * inside the transaction that made the user (the caller's), with the new
 * user (req's principal by now) as the actor.
 */
enum store_status audit_invite_accepted(struct request *req, const char *invite_id);

/*
 * auth.c, when a first sign-in links a user without a subject (matched by
 * verified email) to the JWT's identity: its row, as above.
 */
enum store_status audit_user_linked(struct request *req, const char *user_id);

/*
 * For the offline CLI: a change made outside the server, inside the
 * caller's transaction (store_tx_begin) so that it commits with the change.
 * actor_id is the user acting (management create --as), or NULL; the row
 * names the operating-system user that ran the command.
 */
enum store_status audit_local(struct store *s, const char *account_id, const char *actor_id,
                              const char *action, const char *object_id, const char *detail);

#endif
