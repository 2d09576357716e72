/*
 * request.h - one HTTP request as the handlers see it, free of any
 * libmicrohttpd type. http.c fills the input half; dispatch.c, auth.c and
 * the handlers fill the rest; reply.c renders the outcome.
 */
#ifndef MGMTD_REQUEST_H
#define MGMTD_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "audit.h"
#include "auth.h"
#include "faults.h"
#include "reply.h"
#include "router.h"

struct stream;

#define REQUEST_MAX_QUERY    16
#define REQUEST_MESSAGE_SIZE 512
/* Bodies larger than this are answered 413 (CONTRACT 1). */
#define REQUEST_MAX_BODY (64 * 1024)

/*
 * An answer that is not JSON: the Admin UI's files, the dev IdP's page, a
 * redirect (reply.h api_raw, api_redirect). http.c sends it with the status
 * of the request. Owned pointers are freed by request_release.
 */
struct raw_answer {
	const char *body; /* NULL for none; body_owned says whether it is malloc'ed */
	size_t len;
	bool body_owned;
	const char *content_type;  /* static */
	const char *etag;          /* static, a quoted strong validator; NULL = none */
	const char *cache_control; /* static; NULL = no-store */
	char *csp;                 /* owned; NULL = the JSON answers' policy */
	char *location;            /* owned; a redirect's target */
	char *link;                /* owned; a Link header (the next page of a list) */
	struct stream *stream;     /* owned; the rest of the body, read as it goes out (stream.h) */
};

/* Headers a request must not send twice (request.repeated_headers). */
#define REQUEST_REPEATED_AUTHORIZATION    (1u << 0)
#define REQUEST_REPEATED_CONTENT_TYPE     (1u << 1)
#define REQUEST_REPEATED_FORWARDED_METHOD (1u << 2)
#define REQUEST_REPEATED_FORWARDED_URI    (1u << 3)

struct query_param {
	const char *key;   /* not owned */
	const char *value; /* not owned; "" for a bare key */
};

struct request {
	struct app *app;

	/* input, set by http.c; strings are not owned and live as long as the request */
	const char *method;
	const char *path; /* as sent: percent-encoded (router.c decodes each segment) */
	const char *authorization;
	const char *content_type;
	const char *if_none_match;
	/* the original request, from a proxy in front of a database (api_authorize.c) */
	const char *forwarded_method; /* X-Forwarded-Method */
	const char *forwarded_uri;    /* X-Forwarded-Uri */
	unsigned repeated_headers;    /* REQUEST_REPEATED_* */
	struct query_param query[REQUEST_MAX_QUERY];
	size_t query_count;
	const char *body; /* NULL or body_len bytes (not NUL-terminated) */
	size_t body_len;
	bool body_too_large;
	bool url_has_nul; /* the URL held %00, which would cut a string short */
	/* static: why the message's framing is refused (http.c); 400, then the connection closes */
	const char *bad_framing;
	bool client_known;
	bool metrics_listener; /* came in on [metrics] listen, which serves /metrics only */
	/* IPv6, or IPv4 mapped; a trusted proxy's client (proxies.h) rather than the proxy */
	unsigned char client_addr[THROTTLE_ADDR_LEN];
	/* the test harness's named fault this request meets (faults.h: inject), and
	 * slow_commit's delay; dispatch.c hands it to the store, auth.c meets the IdP's */
	enum fault_named fault;
	int fault_delay_ms;

	/* set by dispatch.c */
	struct route_match match;
	json_t *json; /* the parsed body of a JSON route; owned, freed by request_release */
	bool form;    /* json came from a form body: every value is a string */
	struct store *store;
	int64_t now; /* ms; one clock reading for the whole request */
	struct principal principal;
	bool auth_refused; /* the credential was refused (401, or 403/404 of authentication) */
	const char *refusal_reason; /* static: why, in metrics.h's words ("unknown", "revoked") */
	bool write_tx;              /* a change runs in a write transaction (audit_begin) */
	bool write_tx_own; /* ... which audit_begin began (else the caller's: the fuzzers') */
	bool in_savepoint; /* ... the writer's, shared, under a savepoint of its own (commitq.h) */
	void (*queued_done)(void *cls); /* dispatch_queue: called once the change is answered */
	void *queued_cls;
	struct store_audit_event *committed_event; /* owned: its line waits for the commit */

	/* set by the handler of a change: what it changed (audit.h) */
	struct audit_note audit;

	/* outcome */
	enum api_status status;
	json_t *reply;          /* owned */
	struct raw_answer *raw; /* owned; NULL for a JSON answer */
	char message[REQUEST_MESSAGE_SIZE];
	int retry_after; /* seconds, for a 429; 0 = no Retry-After header */
};

/* Zeroes req and ties it to app. */
void request_init(struct request *req, struct app *app);

/* Frees what the request owns (json, reply). */
void request_release(struct request *req);

/* Frees req->raw (a JSON answer or an error replaces it). */
void request_drop_raw(struct request *req);

/* A path capture ("accountId") or NULL. */
const char *request_param(const struct request *req, const char *name);

/* A query parameter's value or NULL when absent. */
const char *request_query(const struct request *req, const char *key);

/* The client's address as text ("127.0.0.1", "::1"); "" when unknown. */
void request_client_text(const struct request *req, char *out, size_t outsize);

#endif
