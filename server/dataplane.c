/*
 * dataplane.c - the forwarded request of the data-plane check, read as
 * InfluxDB reads it, refused where two readings could differ (dataplane.h).
 */
#include "dataplane.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "influxql.h"
#include "rules.h"

struct endpoint {
	const char *path;
	enum dataplane_endpoint id;
	enum db_action action;
	const char *methods;    /* those the database takes it with, "GET|POST" */
	const char *db_param;   /* the parameter naming the database */
	bool takes_rp;          /* v1: rp names the retention policy */
	bool influxql;          /* q is InfluxQL the scan must pass */
	bool takes_q;           /* q is required */
	bool form_body_matters; /* the database also reads a form body's parameters */
};

static const struct endpoint endpoints[] = {
    {"/write", DATAPLANE_V1_WRITE, DB_ACTION_WRITE, "POST", "db", true, false, false, false},
    {"/query", DATAPLANE_V1_QUERY, DB_ACTION_READ, "GET|POST", "db", true, true, true, true},
    {"/api/v2/write", DATAPLANE_V2_WRITE, DB_ACTION_WRITE, "POST", "bucket", false, false, false,
     false},
    {"/api/v3/write_lp", DATAPLANE_V3_WRITE_LP, DB_ACTION_WRITE, "POST", "db", false, false, false,
     false},
    {"/api/v3/query_sql", DATAPLANE_V3_QUERY_SQL, DB_ACTION_READ, "GET", "db", false, false, true,
     false},
    {"/api/v3/query_influxql", DATAPLANE_V3_QUERY_INFLUXQL, DB_ACTION_READ, "GET", "db", false,
     true, true, false},
};

#define N_ENDPOINTS (sizeof(endpoints) / sizeof(endpoints[0]))

/*
 * The parameters whose reading decides the database or the statement, in
 * the spelling the databases read them (case-sensitively). Another spelling
 * of one is refused: some reader might fold case. u and p (InfluxDB 1.x's
 * credentials in the URL) and bucketID (a bucket without its name) are
 * refused whenever present.
 */
enum param_id { P_DB, P_RP, P_Q, P_BUCKET, P_ORG, P_ORGID, P_U, P_P, P_BUCKETID, P_COUNT };

static const struct {
	const char *name;
	bool refused;
} params[P_COUNT] = {
    [P_DB] = {"db", false},
    [P_RP] = {"rp", false},
    [P_Q] = {"q", false},
    [P_BUCKET] = {"bucket", false},
    [P_ORG] = {"org", false},
    [P_ORGID] = {"orgID", false},
    [P_U] = {"u", true},
    [P_P] = {"p", true},
    [P_BUCKETID] = {"bucketID", true},
};

struct query {
	const char *value[P_COUNT]; /* decoded, in arena; NULL = absent */
	char *arena;
};

__attribute__((format(printf, 3, 4))) static enum dataplane_verdict
say(struct dataplane_target *out, enum dataplane_verdict v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
	return v;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

/*
 * Go's QueryUnescape of s[0..len) into out (which has room for len + 1):
 * '+' is a space, %XX a byte. Returns false on a '%' not followed by two
 * hex digits, where Go drops the whole pair.
 */
static bool query_unescape(const char *s, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
				return false;
			out[n++] = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
			i += 2;
		} else {
			out[n++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	out[n] = '\0';
	return true;
}

/* The request target's bytes: printable ASCII, no spaces; nothing a request line may not hold. */
static bool target_bytes_ok(const char *uri)
{
	for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return false;
	return true;
}

/*
 * Reads the query string (without its '?') into q. Every pair is checked,
 * not only the ones that matter, since Go would drop a pair with a bad
 * escape while another reader kept it.
 */
static enum dataplane_verdict read_query(const char *query, struct query *q,
                                         struct dataplane_target *out)
{
	size_t len = strlen(query), used = 0;
	const char *p = query;

	memset(q->value, 0, sizeof(q->value));
	q->arena = malloc(len + 1 + P_COUNT);
	if (q->arena == NULL)
		return say(out, DATAPLANE_MALFORMED, "out of memory reading the query string");
	if (strchr(query, ';') != NULL)
		return say(out, DATAPLANE_MALFORMED,
		           "a ';' in the query string: Go's InfluxDB drops the pair, older readers "
		           "split on it");
	while (*p) {
		size_t pair_len = strcspn(p, "&"), key_len = strcspn(p, "=&");
		const char *value = key_len < pair_len ? p + key_len + 1 : p + pair_len;
		size_t value_len = (size_t)(p + pair_len - value);
		int id = -1;

		if (pair_len == 0) {
			p++;
			continue;
		}
		if (memchr(p, '%', key_len) != NULL)
			return say(out, DATAPLANE_MALFORMED,
			           "an encoded parameter name (%.*s): name every parameter plainly",
			           (int)(key_len < 40 ? key_len : 40), p);
		for (int i = 0; i < P_COUNT; i++)
			if (strlen(params[i].name) == key_len &&
			    strncasecmp(p, params[i].name, key_len) == 0)
				id = i;
		if (id >= 0) {
			if (strncmp(p, params[id].name, key_len) != 0)
				return say(
				    out, DATAPLANE_MALFORMED,
				    "the parameter %s in another case (%.*s): the database reads "
				    "names as they are written",
				    params[id].name, (int)key_len, p);
			if (params[id].refused)
				return say(
				    out, DATAPLANE_MALFORMED,
				    "the parameter %s: credentials and bucket ids in the URL are "
				    "not accepted; send the database token in the Authorization "
				    "header and name the bucket",
				    params[id].name);
			if (q->value[id] != NULL)
				return say(
				    out, DATAPLANE_MALFORMED,
				    "the parameter %s given twice: readers differ on which one "
				    "counts",
				    params[id].name);
		}
		if (!query_unescape(value, value_len, q->arena + used))
			return say(
			    out, DATAPLANE_MALFORMED,
			    "a bad %%-escape in the value of %.*s: Go's InfluxDB drops such a "
			    "pair, others keep it",
			    (int)(key_len < 40 ? key_len : 40), p);
		if (id >= 0) {
			q->value[id] = q->arena + used;
			used += strlen(q->arena + used) + 1;
		}
		p += pair_len;
		if (*p == '&')
			p++;
	}
	return DATAPLANE_OK;
}

/* A path that looks like one of ours written another way: 400 rather than 404. */
static bool path_variant(const char *path, size_t len)
{
	for (size_t i = 0; i < N_ENDPOINTS; i++)
		if (strlen(endpoints[i].path) == len &&
		    strncasecmp(path, endpoints[i].path, len) == 0)
			return true;
	for (size_t i = 0; i < len; i++) {
		if (path[i] == '%' || path[i] == ';' || path[i] == '\\')
			return true;
		if (path[i] == '/' && i + 1 < len && path[i + 1] == '/')
			return true;
		if (path[i] == '/' && i + 1 < len && path[i + 1] == '.' &&
		    (i + 2 == len || path[i + 2] == '/' ||
		     (path[i + 2] == '.' && (i + 3 == len || path[i + 3] == '/'))))
			return true;
	}
	return len > 1 && path[len - 1] == '/';
}

static bool method_allowed(const char *methods, const char *method)
{
	size_t n = strlen(method);

	for (const char *m = methods; *m;) {
		size_t k = strcspn(m, "|");

		if (k == n && strncmp(m, method, n) == 0)
			return true;
		m += k;
		if (*m == '|')
			m++;
	}
	return false;
}

enum dataplane_content_type dataplane_content_type(const char *ct)
{
	static const char tspecials[] = "()<>@,;:\\\"/[]?={} \t";
	const char *start, *end, *slash = NULL;
	size_t len;

	if (ct == NULL)
		return DATAPLANE_CT_NONE;
	start = ct;
	end = ct + strcspn(ct, ";");
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (start == end)
		return DATAPLANE_CT_NONE; /* Go: no media type, no form */
	for (const char *p = start; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '/' && slash == NULL && p != start && p + 1 != end) {
			slash = p;
			continue;
		}
		if (c <= 0x20 || c >= 0x7f || strchr(tspecials, c) != NULL)
			return DATAPLANE_CT_UNCLEAR;
	}
	if (slash == NULL)
		return DATAPLANE_CT_UNCLEAR;
	len = (size_t)(end - start);
	if ((len == strlen("application/x-www-form-urlencoded") &&
	     strncasecmp(start, "application/x-www-form-urlencoded", len) == 0) ||
	    strncasecmp(start, "multipart/", strlen("multipart/")) == 0)
		return DATAPLANE_CT_FORM;
	return DATAPLANE_CT_NONE;
}

/* The v1 database name for db and rp: "db", or "db/rp" as Cloud Dedicated maps them. */
static enum dataplane_verdict v1_database(const char *db, const char *rp,
                                          struct dataplane_target *out)
{
	if (strchr(db, '/') != NULL || (rp && strchr(rp, '/') != NULL))
		return say(out, DATAPLANE_MALFORMED,
		           "a v1 db or rp with '/': here db/rp is the database db with retention "
		           "policy rp, so neither may hold one");
	if (rp && rp[0] &&
	    snprintf(out->database, sizeof(out->database), "%s/%s", db, rp) >=
	        (int)sizeof(out->database))
		return say(out, DATAPLANE_MALFORMED, "db/rp is longer than a database name may be");
	if (!(rp && rp[0]) &&
	    snprintf(out->database, sizeof(out->database), "%s", db) >= (int)sizeof(out->database))
		return say(out, DATAPLANE_MALFORMED, "db is longer than a database name may be");
	return DATAPLANE_OK;
}

enum dataplane_verdict dataplane_read(const char *method, const char *uri, const char *content_type,
                                      struct dataplane_target *out)
{
	const struct endpoint *ep = NULL;
	struct query q = {0};
	const char *query, *db, *rule;
	enum dataplane_verdict v;
	size_t path_len;

	memset(out, 0, sizeof(*out));
	if (method == NULL || method[0] == '\0' || uri == NULL || uri[0] == '\0')
		return say(out, DATAPLANE_MALFORMED,
		           "the original request's method and URI are both needed "
		           "(X-Forwarded-Method, X-Forwarded-Uri)");
	if (strlen(uri) > DATAPLANE_MAX_URI)
		return say(out, DATAPLANE_MALFORMED, "the URI is longer than %d bytes",
		           DATAPLANE_MAX_URI);
	if (uri[0] != '/' || !target_bytes_ok(uri))
		return say(out, DATAPLANE_MALFORMED,
		           "the URI must be a path and query as sent in the request line "
		           "(printable ASCII, starting with '/')");
	if (strchr(uri, '#') != NULL)
		return say(out, DATAPLANE_MALFORMED,
		           "a '#' in the URI: Go's InfluxDB reads it as part of the query");
	if (strstr(uri, "%00") != NULL)
		return say(out, DATAPLANE_MALFORMED, "an encoded NUL (%%00) in the URI");
	path_len = strcspn(uri, "?");
	query = uri[path_len] == '?' ? uri + path_len + 1 : "";
	for (size_t i = 0; i < N_ENDPOINTS; i++)
		if (strlen(endpoints[i].path) == path_len &&
		    strncmp(uri, endpoints[i].path, path_len) == 0)
			ep = &endpoints[i];
	if (ep == NULL) {
		if (path_variant(uri, path_len))
			return say(out, DATAPLANE_MALFORMED,
			           "the path %.*s is a variant of a write or query path: send it "
			           "exactly (no encoding, case change, repeated or trailing slash, "
			           "dot segment or ';')",
			           (int)(path_len < 60 ? path_len : 60), uri);
		return say(out, DATAPLANE_NO_SUCH_PATH,
		           "%.*s is no write or query path of the database this check guards",
		           (int)(path_len < 60 ? path_len : 60), uri);
	}
	out->endpoint = ep->id;
	out->action = ep->action; /* from the path alone, never from the client */
	if (!method_allowed(ep->methods, method)) {
		if (strcmp(method, "POST") == 0 && ep->takes_q)
			return say(
			    out, DATAPLANE_MALFORMED,
			    "a POST to %s carries its database in a JSON body this check never "
			    "sees: send GET with db and q in the URL",
			    ep->path);
		return say(out, DATAPLANE_MALFORMED, "%s takes %s, not %.16s", ep->path,
		           ep->methods, method);
	}
	if (ep->form_body_matters && dataplane_content_type(content_type) != DATAPLANE_CT_NONE)
		return say(out, DATAPLANE_MALFORMED,
		           "a form body (or a Content-Type that could be one) on %s: InfluxDB "
		           "reads db, rp and q from it, which this check never sees; send them in "
		           "the URL",
		           ep->path);
	if ((v = read_query(query, &q, out)) != DATAPLANE_OK)
		goto out;
	db = q.value[strcmp(ep->db_param, "db") == 0 ? P_DB : P_BUCKET];
	if (db == NULL || db[0] == '\0') {
		v = say(out, DATAPLANE_MALFORMED, "the %s parameter is required", ep->db_param);
		goto out;
	}
	if (ep->takes_rp)
		v = v1_database(db, q.value[P_RP], out);
	else if (snprintf(out->database, sizeof(out->database), "%s", db) >=
	         (int)sizeof(out->database))
		v = say(out, DATAPLANE_MALFORMED, "%s is longer than a database name may be",
		        ep->db_param);
	if (v != DATAPLANE_OK)
		goto out;
	if ((rule = rule_database_name(out->database)) != NULL) {
		v = say(out, DATAPLANE_MALFORMED, "%s", rule);
		goto out;
	}
	if (ep->takes_q && (q.value[P_Q] == NULL || q.value[P_Q][0] == '\0')) {
		v = say(out, DATAPLANE_MALFORMED, "the q parameter is required");
		goto out;
	}
	if (ep->influxql) {
		switch (influxql_check_read(q.value[P_Q], strlen(q.value[P_Q]), db,
		                            ep->takes_rp ? q.value[P_RP] : NULL, out->why,
		                            sizeof(out->why))) {
		case INFLUXQL_READ_OK:
			break;
		case INFLUXQL_UNREADABLE:
			v = DATAPLANE_MALFORMED;
			goto out;
		case INFLUXQL_REFUSED:
			v = DATAPLANE_REFUSED;
			goto out;
		}
	}
	v = DATAPLANE_OK;
out:
	free(q.arena);
	if (v != DATAPLANE_OK)
		out->database[0] = '\0';
	return v;
}
