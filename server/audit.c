/*
 * audit.c - rows of the audit trail for changes, refused changes and refused
 * credentials, written in the change's own transaction (audit.h), and the
 * admin-action log line that goes with each.
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "idtoken.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "router.h"
#include "timeutil.h"
#include "token.h"
#include "webhook.h"

/* The object type of each resource, the first half of its default actions. */
static const char *const resource_types[RES_COUNT] = {
    [RES_NONE] = "server",
    [RES_MGMT_TOKENS] = "management_token",
    [RES_USERS] = "user",
    [RES_CLUSTERS] = "cluster",
    [RES_DATABASES] = "database",
    [RES_TABLES] = "table",
    [RES_DB_TOKENS] = "database_token",
    [RES_INVITES] = "invite",
    [RES_AUDIT] = "audit",
};

static const char *const operation_names[OP_COUNT] = {
    [OP_READ] = "read",
    [OP_CREATE] = "create",
    [OP_UPDATE] = "update",
    [OP_DELETE] = "delete",
};

/*
 * The verb of a lifecycle route of a token (".../{tokenId}/rotate" and the
 * like, mgmtd extensions), or NULL: a request refused before its handler ran
 * (403) is then named "management_token.rotate", not after the revocation
 * whose rights it shares.
 */
static const char *token_verb(const struct request *req)
{
	static const char mark[] = "{tokenId}/";
	const char *at;

	if (req->match.route == NULL)
		return NULL;
	at = strstr(req->match.route->pattern, mark);
	return at != NULL ? at + sizeof(mark) - 1 : NULL;
}

void audit_note(struct request *req, const char *action, const char *object_id)
{
	req->audit.action = action;
	str_copy(req->audit.object_id, sizeof(req->audit.object_id), object_id ? object_id : "");
}

void audit_detail(struct request *req, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->audit.detail, sizeof(req->audit.detail), fmt, ap);
	va_end(ap);
}

/* Copies text that came from a client, keeping it printable and short. */
static void copy_clean(char *dst, size_t dstsize, const char *src, size_t max)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)src; *p && n + 1 < dstsize && n < max;
	     p++)
		dst[n++] = (*p >= 0x20 && *p < 0x7f) ? (char)*p : '?';
	dst[n] = '\0';
}

void audit_credential_hint(const char *credential, char *out, size_t outsize)
{
	char prefix[TOKEN_PREFIX_SIZE];
	size_t mark;

	if (outsize == 0)
		return;
	out[0] = '\0';
	if (credential == NULL || credential[0] == '\0') {
		snprintf(out, outsize, "none");
		return;
	}
	if (strncmp(credential, TOKEN_MGMT_MARK, strlen(TOKEN_MGMT_MARK)) == 0 ||
	    strncmp(credential, TOKEN_DB_MARK, strlen(TOKEN_DB_MARK)) == 0) {
		/* The mark and at most 4 more characters: what tokenPrefix shows anyway. */
		mark = strncmp(credential, TOKEN_MGMT_MARK, strlen(TOKEN_MGMT_MARK)) == 0
		           ? strlen(TOKEN_MGMT_MARK)
		           : strlen(TOKEN_DB_MARK);
		copy_clean(prefix, sizeof(prefix), credential, mark + 4);
		snprintf(out, outsize, "%s", prefix);
		return;
	}
	/* Nothing of a refused JWT: its claims are whatever its sender wrote. */
	if (idtoken_looks_like_jwt(credential)) {
		snprintf(out, outsize, "jwt");
		return;
	}
	snprintf(out, outsize, "unrecognised credential");
}

/* The credential of the Authorization header, whatever its scheme, or NULL. */
static const char *sent_credential(const struct request *req)
{
	const char *h = req->authorization;

	if (h == NULL)
		return NULL;
	if (strncasecmp(h, "Bearer ", 7) == 0)
		h += 7;
	else if (strncasecmp(h, "Token ", 6) == 0)
		h += 6;
	else
		return "";
	while (*h == ' ')
		h++;
	return h;
}

void audit_request_hint(const struct request *req, char *out, size_t outsize)
{
	audit_credential_hint(sent_credential(req), out, outsize);
}

static const char *outcome_of(enum api_status st)
{
	switch (st) {
	case API_OK:
	case API_NO_CONTENT:
		return "success";
	case API_UNAUTHORIZED:
	case API_TOO_MANY_REQUESTS:
		return "refused";
	case API_FORBIDDEN:
		return "denied";
	default:
		return "failed";
	}
}

/*
 * Text from a client (a name in a path, a message echoing a field) may not be
 * UTF-8; the row must always render as JSON, so such text is kept as ASCII.
 */
static void make_clean(char *field, size_t size)
{
	char copy[STORE_AUDIT_DETAIL_SIZE];

	if (str_is_clean_text(field))
		return;
	str_copy(copy, sizeof(copy), field);
	copy_clean(field, size, copy, size);
}

static void clean_event(struct store_audit_event *e)
{
	make_clean(e->credential, sizeof(e->credential));
	make_clean(e->object_id, sizeof(e->object_id));
	make_clean(e->detail, sizeof(e->detail));
}

/* The row common to every request-made event. */
static void event_from_request(const struct request *req, struct store_audit_event *e)
{
	const struct route *route = req->match.route;
	const struct principal *p = &req->principal;
	const char *account = request_param(req, "accountId");
	unsigned res = route ? (unsigned)route->resource : RES_NONE;
	unsigned op = route ? (unsigned)route->op : OP_READ;
	const char *type =
	    res < RES_COUNT && resource_types[res] ? resource_types[res] : "resource";
	const char *dot, *verb;

	memset(e, 0, sizeof(*e));
	str_copy(e->account_id, sizeof(e->account_id),
	         p->kind != PRINCIPAL_NONE ? p->account_id : (account ? account : ""));
	e->at = req->now ? req->now : time_now_ms();
	if (req->audit.action) {
		str_copy(e->action, sizeof(e->action), req->audit.action);
	} else if ((verb = token_verb(req)) != NULL) {
		snprintf(e->action, sizeof(e->action), "%s.%s", type, verb);
	} else {
		snprintf(e->action, sizeof(e->action), "%s.%s", type,
		         op < OP_COUNT ? operation_names[op] : "change");
	}
	dot = strchr(e->action, '.');
	snprintf(e->object_type, sizeof(e->object_type), "%.*s",
	         (int)(dot ? (size_t)(dot - e->action) : strlen(e->action)), e->action);
	str_copy(e->object_id, sizeof(e->object_id), req->audit.object_id);
	request_client_text(req, e->client, sizeof(e->client));
	switch (p->kind) {
	case PRINCIPAL_USER:
		str_copy(e->actor_type, sizeof(e->actor_type), "user");
		str_copy(e->actor_id, sizeof(e->actor_id), p->user_id);
		break;
	case PRINCIPAL_MGMT_TOKEN:
		str_copy(e->actor_type, sizeof(e->actor_type), "managementToken");
		str_copy(e->actor_id, sizeof(e->actor_id), p->token_id);
		str_copy(e->credential, sizeof(e->credential), p->token_prefix);
		break;
	case PRINCIPAL_DB_TOKEN:
		/* found by its hash: what was sent is the token, and its start its prefix */
		str_copy(e->actor_type, sizeof(e->actor_type), "databaseToken");
		str_copy(e->actor_id, sizeof(e->actor_id), p->token_id);
		audit_request_hint(req, e->credential, sizeof(e->credential));
		break;
	default:
		str_copy(e->actor_type, sizeof(e->actor_type), "anonymous");
		audit_request_hint(req, e->credential, sizeof(e->credential));
		break;
	}
	str_copy(e->outcome, sizeof(e->outcome), outcome_of(req->status));
	e->status = (int)api_http_status(req->status);
	if (req->status != API_OK && req->status != API_NO_CONTENT)
		str_copy(e->detail, sizeof(e->detail), req->message);
	else
		str_copy(e->detail, sizeof(e->detail), req->audit.detail);
	clean_event(e);
}

/* The admin-action line: what the row says, for journald and log pipelines. */
static void log_action(const struct store_audit_event *e)
{
	const struct log_field f[] = {
	    LOG_TEXT("event", "audit"),
	    LOG_TEXT("action", e->action),
	    LOG_TEXT("outcome", e->outcome),
	    LOG_INT("status", e->status),
	    LOG_TEXT("account", e->account_id),
	    LOG_TEXT("actor_type", e->actor_type),
	    LOG_TEXT("actor", e->actor_id[0] ? e->actor_id : NULL),
	    LOG_TEXT("credential", e->credential[0] ? e->credential : NULL),
	    LOG_TEXT("object", e->object_id[0] ? e->object_id : NULL),
	    LOG_TEXT("client", e->client[0] ? e->client : NULL),
	};
	char who[STORE_AUDIT_CREDENTIAL_SIZE + 64];

	if (e->actor_id[0])
		snprintf(who, sizeof(who), "%s %s", e->actor_type, e->actor_id);
	else
		snprintf(who, sizeof(who), "%s %s", e->actor_type, e->credential);
	log_event(strcmp(e->outcome, "success") == 0 ? LOGL_INFO : LOGL_WARN, f,
	          sizeof(f) / sizeof(f[0]), "audit: %s%s%s in account %s by %s%s%s: %s", e->action,
	          e->object_id[0] ? " " : "", e->object_id, e->account_id, who,
	          e->client[0] ? " from " : "", e->client, e->outcome);
}

/*
 * Writes e and the webhook event it tells of, if any (webhook.h), in the caller's
 * transaction when one is open: a change, its row and its event commit together or
 * not at all.
 */
static enum store_status record(struct store *s, struct store_audit_event *e)
{
	struct store_outbox_event event;
	enum store_status st = store_audit_insert(s, e);

	if (st == STORE_OK && webhook_enabled() && webhook_event_from_audit(e, &event))
		st = store_outbox_insert(s, &event);
	return st;
}

/* Writes e on its own (no transaction of the caller's is open). */
static void write_alone(struct store *s, struct store_audit_event *e)
{
	enum store_status st = record(s, e);

	if (st != STORE_OK) {
		metrics_audit_write_failed();
		log_error("audit: could not record %s (%s) in account %s: %s", e->action,
		          e->outcome, e->account_id, store_status_name(st));
	}
}

enum api_status audit_begin(struct request *req)
{
	enum store_status st = store_tx_enter(req->store, &req->write_tx_own);

	if (st != STORE_OK)
		return api_from_store(req, st, "store", NULL);
	req->write_tx = true;
	return API_OK;
}

/*
 * Refusals that anyone can cause at will (made-up tokens, JWTs of strangers)
 * are not the account's history: a metric (counted where they are refused)
 * and a line from this budget, about one a second at most.
 */
#define REFUSAL_LOG_LINES     10
#define REFUSAL_LOG_WINDOW_MS 10000
static struct log_limit refusal_log = LOG_LIMIT_INIT;

static void log_anonymous_refusal(const struct request *req)
{
	const char *account = request_param(req, "accountId");
	char hint[STORE_AUDIT_CREDENTIAL_SIZE], acct[UUID_STR_SIZE + 8],
	    client[STORE_AUDIT_CLIENT_SIZE], more[64] = "";
	uint64_t held_back;

	if (!log_enabled(LOGL_WARN) ||
	    !log_limit_take(&refusal_log, REFUSAL_LOG_LINES, REFUSAL_LOG_WINDOW_MS,
	                    time_monotonic_us() / 1000, &held_back))
		return;
	audit_request_hint(req, hint, sizeof(hint));
	copy_clean(acct, sizeof(acct), account ? account : "", UUID_STR_SIZE - 1);
	request_client_text(req, client, sizeof(client));
	if (held_back > 0)
		snprintf(more, sizeof(more), " (%llu more since the last such line)",
		         (unsigned long long)held_back);
	{
		const struct log_field f[] = {
		    LOG_TEXT("event", "refused"),
		    LOG_TEXT("reason", req->refusal_reason),
		    LOG_INT("status", api_http_status(req->status)),
		    LOG_TEXT("account", acct[0] ? acct : NULL),
		    LOG_TEXT("credential", hint),
		    LOG_TEXT("client", client[0] ? client : NULL),
		    LOG_INT("held_back", (int64_t)held_back),
		};

		log_event(LOGL_WARN, f, sizeof(f) / sizeof(f[0]),
		          "refused credential %s (%s) for account %s from %s: no audit row%s", hint,
		          req->refusal_reason ? req->refusal_reason : "refused",
		          acct[0] ? acct : "-", client[0] ? client : "-", more);
	}
}

/*
 * A refused credential: a row in the account of the path only when the
 * credential is a token of that account (revoked, expired); anything else
 * is nobody the account knows.
 */
static void finish_refused(struct request *req)
{
	struct store_audit_event e;

	/* Once an address is throttled its attempts are counted (metrics), not recorded. */
	if (req->status == API_TOO_MANY_REQUESTS)
		return;
	if (req->principal.kind == PRINCIPAL_NONE) {
		log_anonymous_refusal(req);
		return;
	}
	/* the data-plane check notes the database it decided on (api_authorize.c) */
	if ((req->match.route->flags & ROUTE_DATA_PLANE) && req->audit.action == NULL)
		audit_note(req, "data_plane.authorize", NULL);
	event_from_request(req, &e);
	/* the 403 and 404 of authentication refuse the credential too */
	str_copy(e.outcome, sizeof(e.outcome), "refused");
	write_alone(req->store, &e);
	log_action(&e);
}

/*
 * A change run under a savepoint of the writer's shared transaction
 * (commitq.h): a refused one is undone alone and its row written in the
 * transaction; a done one keeps its row beside it. Whether any of it lasts
 * is the shared commit's to say: the admin-action line waits for it
 * (audit_after_commit).
 */
static void finish_in_savepoint(struct request *req, struct store_audit_event *e, bool success)
{
	enum store_status st;

	req->in_savepoint = false;
	/* (store_savepoint_rollback also ends the savepoint) */
	if (!success) {
		if (store_savepoint_rollback(req->store) != STORE_OK)
			log_error("audit: could not undo the refused %s", e->action);
		if (record(req->store, e) != STORE_OK)
			metrics_audit_write_failed();
	} else if ((st = record(req->store, e)) != STORE_OK) {
		/* No change without its row: undo it, and say so. */
		(void)store_savepoint_rollback(req->store);
		metrics_audit_write_failed();
		log_error("audit: could not record %s; the change is rolled back: %s", e->action,
		          store_status_name(st));
		api_from_store(req, st, "audit event", NULL);
		event_from_request(req, e);
		if (record(req->store, e) != STORE_OK)
			metrics_audit_write_failed();
	} else if ((st = store_savepoint_release(req->store)) != STORE_OK) {
		(void)store_savepoint_rollback(req->store);
		api_from_store(req, st, "change", NULL);
	}
	free(req->committed_event);
	req->committed_event = malloc(sizeof(*e));
	if (req->committed_event != NULL)
		*req->committed_event = *e;
}

void audit_after_commit(struct request *req, enum store_status commit_status)
{
	struct store_audit_event *e = req->committed_event;

	if (e == NULL)
		return;
	req->committed_event = NULL;
	if (commit_status == STORE_OK) {
		log_action(e);
	} else {
		metrics_audit_write_failed();
		log_error("audit: %s (%s) in account %s was not recorded: the shared commit failed "
		          "(%s); the change was not made",
		          e->action, e->outcome, e->account_id, store_status_name(commit_status));
	}
	free(e);
}

static void finish_change(struct request *req)
{
	struct store_audit_event e;
	bool success = req->status == API_OK || req->status == API_NO_CONTENT;
	enum store_status st;

	event_from_request(req, &e);
	if (!req->write_tx) { /* refused before the transaction: 403, 503 */
		write_alone(req->store, &e);
		log_action(&e);
		return;
	}
	req->write_tx = false;
	if (req->in_savepoint) {
		finish_in_savepoint(req, &e, success);
		return;
	}
	if (!req->write_tx_own) {
		/* The caller's transaction: the row goes in it, whatever the outcome. */
		if (record(req->store, &e) != STORE_OK)
			metrics_audit_write_failed();
		log_action(&e);
		return;
	}
	req->write_tx_own = false;
	if (!success) {
		store_tx_rollback(req->store);
		write_alone(req->store, &e);
		log_action(&e);
		return;
	}
	st = record(req->store, &e);
	if (st != STORE_OK) {
		/* No change without its row: undo it, and say so. */
		store_tx_rollback(req->store);
		metrics_audit_write_failed();
		log_error("audit: could not record %s; the change is rolled back: %s", e.action,
		          store_status_name(st));
		api_from_store(req, st, "audit event", NULL);
		return;
	}
	/* store_tx_commit rolls back by itself when the commit fails. */
	st = store_tx_commit(req->store);
	if (st != STORE_OK) {
		api_from_store(req, st, "change", NULL);
		event_from_request(req, &e);
		write_alone(req->store, &e);
	}
	log_action(&e);
}

void audit_finish(struct request *req)
{
	const struct route *route = req->match.route;

	if (route == NULL || req->store == NULL) {
		if (req->write_tx && req->write_tx_own) /* never: begun only with both */
			store_tx_rollback(req->store);
		req->write_tx = req->write_tx_own = false;
		return;
	}
	if (req->auth_refused ||
	    ((route->flags & ROUTE_DATA_PLANE) && req->status == API_UNAUTHORIZED)) {
		finish_refused(req);
		return;
	}
	if (route->resource != RES_NONE && route->op != OP_READ &&
	    req->principal.kind != PRINCIPAL_NONE)
		finish_change(req);
}

/*
 * The row of a change a first sign-in made (its note is in req->audit), in
 * the caller's transaction, with the signed-in user as the actor.
 */
static enum store_status write_sign_in_row(struct request *req)
{
	struct store_audit_event e;
	enum store_status st;

	event_from_request(req, &e);
	/* the request itself may be a read, and its answer is not decided yet */
	str_copy(e.outcome, sizeof(e.outcome), "success");
	e.status = 200;
	str_copy(e.detail, sizeof(e.detail), req->audit.detail);
	clean_event(&e);
	st = record(req->store, &e);
	if (st == STORE_OK)
		log_action(&e);
	else
		metrics_audit_write_failed();
	/* the note was this row's; the request's own change (if any) names itself */
	memset(&req->audit, 0, sizeof(req->audit));
	return st;
}

enum store_status audit_invite_accepted(struct request *req, const char *invite_id)
{
	audit_note(req, "invite.accept", invite_id);
	audit_detail(req, "user %s joined as %s", req->principal.user_id,
	             user_group_name(req->principal.group));
	return write_sign_in_row(req);
}

enum store_status audit_user_linked(struct request *req, const char *user_id)
{
	audit_note(req, "user.link", user_id);
	audit_detail(req, "matched by its verified email and bound to its identity provider's "
	                  "subject");
	return write_sign_in_row(req);
}

enum store_status audit_local(struct store *s, const char *account_id, const char *actor_id,
                              const char *action, const char *object_id, const char *detail)
{
	struct store_audit_event e;
	struct passwd *pw = getpwuid(geteuid());
	const char *dot;

	memset(&e, 0, sizeof(e));
	str_copy(e.account_id, sizeof(e.account_id), account_id);
	e.at = time_now_ms();
	str_copy(e.actor_type, sizeof(e.actor_type), "local");
	str_copy(e.actor_id, sizeof(e.actor_id), actor_id ? actor_id : "");
	/* The operating-system user: whoever could open the store's files. */
	snprintf(e.credential, sizeof(e.credential), "unix uid %u (%s)", (unsigned)geteuid(),
	         pw && pw->pw_name ? pw->pw_name : "?");
	str_copy(e.action, sizeof(e.action), action);
	dot = strchr(action, '.');
	snprintf(e.object_type, sizeof(e.object_type), "%.*s",
	         (int)(dot ? (size_t)(dot - action) : strlen(action)), action);
	str_copy(e.object_id, sizeof(e.object_id), object_id ? object_id : "");
	str_copy(e.outcome, sizeof(e.outcome), "success");
	str_copy(e.detail, sizeof(e.detail), detail ? detail : "");
	return record(s, &e);
}
