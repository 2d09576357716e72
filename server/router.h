/*
 * router.h - path matching over one table of routes (routes.c).
 *
 * A pattern is a path whose segments are literals or {name} captures; a
 * capture matches one non-empty segment. A path ending in "/" matches only a
 * pattern ending in "/" ("/ui/"). Matching is pure and allocation-free.
 *
 * Paths are given as sent, percent-encoded: they are split at '/' first and
 * each segment is decoded afterwards, so "%2F" is a '/' inside a segment and
 * never a boundary ("a%2Fb" captures "a/b": database names may contain "/").
 * A broken escape or "%00" matches nothing (404).
 */
#ifndef MGMTD_ROUTER_H
#define MGMTD_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "reply.h"

struct request;

/* What a route acts on and how: the rights table in auth.c is indexed by these. */
enum resource {
	RES_NONE = 0, /* public: no credential */
	RES_MGMT_TOKENS,
	RES_USERS,
	RES_CLUSTERS,
	RES_DATABASES,
	RES_TABLES,
	RES_DB_TOKENS,
	RES_INVITES,
	RES_AUDIT, /* the audit trail: read only */
	RES_COUNT
};

enum operation { OP_READ = 0, OP_CREATE, OP_UPDATE, OP_DELETE, OP_COUNT };

enum route_flags {
	ROUTE_JSON_BODY = 1 << 0, /* takes a JSON object body */
	/*
	 * The data-plane check (RES_NONE): no management credential; the
	 * handler gets the store and checks the database token itself.
	 */
	ROUTE_DATA_PLANE = 1 << 1,
	ROUTE_FORM_BODY = 1 << 2, /* takes a form (x-www-form-urlencoded) or JSON object body */
	/* Features: a route exists only while its feature is enabled (router_match_features). */
	ROUTE_DEV_IDP = 1 << 3, /* [dev_idp] enabled */
	ROUTE_TESTING = 1 << 4, /* [testing] enabled */
	ROUTE_UI = 1 << 5,      /* [ui] enabled */
	ROUTE_METRICS = 1 << 6, /* [metrics] enabled (on its own listener when it has one) */
	/* No credential (RES_NONE), but the handler works on the store: the dispatcher lends
	 * it a connection (or answers 503) and takes it back. */
	ROUTE_STORE = 1 << 7,
};

#define ROUTE_FEATURES (ROUTE_DEV_IDP | ROUTE_TESTING | ROUTE_UI | ROUTE_METRICS)

typedef enum api_status (*route_handler)(struct request *req);

struct route {
	const char *method;
	const char *pattern;
	route_handler handler;
	enum resource resource;
	enum operation op;
	unsigned flags;
};

#define ROUTER_MAX_PARAMS   4
#define ROUTER_MAX_SEGMENTS 16
#define ROUTER_MAX_PATH     1024
#define ROUTER_MAX_VALUE    255 /* a longer capture matches nothing (404) */
#define ROUTER_ALLOW_SIZE   64

/*
 * Filled by the matcher, which writes only what it sets (no memset of the
 * whole: it is on every request's path).
 */
struct route_match {
	const struct route *route;
	size_t param_count;
	const char *param_names[ROUTER_MAX_PARAMS];  /* point into the pattern */
	const char *param_values[ROUTER_MAX_PARAMS]; /* decoded, point into path */
	char allow[ROUTER_ALLOW_SIZE];               /* "GET, POST" when the path is known */
	char path[ROUTER_MAX_PATH];                  /* the path, split and decoded in place */
};

enum router_result { ROUTER_FOUND, ROUTER_WRONG_METHOD, ROUTER_NOT_FOUND };

/*
 * Finds the route for method and path in table, every feature enabled. On
 * ROUTER_WRONG_METHOD, m->allow lists the methods the path takes. A HEAD
 * request matches GET routes.
 */
enum router_result router_match(const struct route *table, size_t count, const char *method,
                                const char *path, struct route_match *m);

/*
 * router_match over the routes whose feature flags (ROUTE_FEATURES) are all
 * in features: a disabled feature's paths answer 404, not 405, and leave no
 * trace in Allow.
 */
enum router_result router_match_features(const struct route *table, size_t count, unsigned features,
                                         const char *method, const char *path,
                                         struct route_match *m);

/* The value captured for name, or NULL. */
const char *route_param(const struct route_match *m, const char *name);

/* The program's route table (routes.c). */
extern const struct route routes[];
extern const size_t route_count;

#endif
