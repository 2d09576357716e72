/*
 * dataplane.h - the original request a proxy forwards to the data-plane
 * check (CONTRACT 4.4, docs/nginx.md): which database it acts on and how,
 * read the way the database behind the proxy will read it.
 *
 * The request is the method, the request target exactly as the client sent
 * it (nginx's $request_uri, the X-Forwarded-Uri of Caddy's forward_auth and
 * Traefik's ForwardAuth) and the Content-Type. The paths are InfluxDB's:
 *
 *   POST /write              v1: db, rp from the URL (database db, or db/rp)  write
 *   GET|POST /query          v1: db, rp, q from the URL (db/rp as above)      read
 *   POST /api/v2/write       bucket from the URL                               write
 *   POST /api/v3/write_lp    db from the URL                                   write
 *   GET /api/v3/query_sql, GET /api/v3/query_influxql: db, q from the URL      read
 *
 * The query string is read as Go's url.ParseQuery reads it (InfluxDB 1.x is
 * written in Go): pairs split on '&', '+' as a space, %XX decoded, names
 * case-sensitive. Whatever two parsers could read differently is refused
 * instead of guessed at: a db, rp, q, bucket, org or orgID parameter twice
 * or in another case, an encoded parameter name, a bad %-escape, a ';', a
 * '#', an encoded NUL, a path that is not byte for byte one of the above
 * (encoded, repeated or trailing slashes, dot segments, another case), a
 * form body on /query (InfluxDB reads parameters from it), a POST to an
 * InfluxDB 3 query path (its db is in a JSON body the check never sees),
 * credentials in the URL (u, p), a v1 db or rp holding '/' (db/rp is how a
 * database and retention policy are named here). The action comes from the
 * path alone. The InfluxQL of a v1 query or an InfluxDB 3 InfluxQL query
 * must pass influxql_check_read (influxql.h).
 *
 * Pure: no I/O, no state; thread-safe.
 */
#ifndef MGMTD_DATAPLANE_H
#define MGMTD_DATAPLANE_H

#include <stddef.h>

#include "store.h"

/* Longer request targets are refused (a proxy's header limit comes first). */
#define DATAPLANE_MAX_URI  32768
#define DATAPLANE_WHY_SIZE 256

enum dataplane_verdict {
	DATAPLANE_OK,           /* target.database and target.action are set */
	DATAPLANE_MALFORMED,    /* 400: unreadable, ambiguous, or not how the database takes it */
	DATAPLANE_NO_SUCH_PATH, /* 404: no write or query path of the database */
	DATAPLANE_REFUSED,      /* 403: a statement a read token may not run */
};

enum dataplane_endpoint {
	DATAPLANE_V1_WRITE,
	DATAPLANE_V1_QUERY,
	DATAPLANE_V2_WRITE,
	DATAPLANE_V3_WRITE_LP,
	DATAPLANE_V3_QUERY_SQL,
	DATAPLANE_V3_QUERY_INFLUXQL,
};

struct dataplane_target {
	enum dataplane_endpoint endpoint;
	enum db_action action;
	char database[STORE_DB_NAME_SIZE];
	char why[DATAPLANE_WHY_SIZE]; /* a one-line reason when the verdict is not OK */
};

/*
 * Reads the original request: method and uri as the client sent them,
 * content_type its Content-Type header (NULL when it had none). Any of them
 * may be NULL; what is missing is refused.
 */
enum dataplane_verdict dataplane_read(const char *method, const char *uri, const char *content_type,
                                      struct dataplane_target *out);

/*
 * What a Content-Type is to Go's ParseForm: no form, a form (urlencoded or
 * multipart/...), or a value whose media type cannot be told for sure
 * (anything but token/token after trimming spaces and tabs).
 */
enum dataplane_content_type { DATAPLANE_CT_NONE, DATAPLANE_CT_FORM, DATAPLANE_CT_UNCLEAR };

enum dataplane_content_type dataplane_content_type(const char *content_type);

#endif
