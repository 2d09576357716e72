/*
 * router.c - matching a method and path against the route table.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "util.h"

/*
 * Percent-decodes the len bytes of one segment in place and ends it with a
 * NUL. Done after splitting, so "%2F" is a '/' inside a segment (a name may
 * hold one), never a segment boundary. Returns the decoded length, or -1 for
 * a broken escape or "%00", which would cut the value short. Most segments
 * hold no escape: those are only looked at by memchr.
 */
static long decode_segment(char *seg, size_t len)
{
	char *in = memchr(seg, '%', len), *end = seg + len, *out = in;

	if (in == NULL)
		return (long)len;
	while (in < end) {
		if (*in == '%') {
			/* seg[len] is a NUL: a cut escape stops at it */
			int hi = hex_digit_value(in[1]), lo = hi < 0 ? -1 : hex_digit_value(in[2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*out++ = (char)(hi * 16 + lo);
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return (long)(out - seg);
}

/*
 * Splits a path as sent (still percent-encoded) into decoded segments in
 * place, with their lengths; returns the count or -1 when malformed.
 */
static int split_path(char *path, char *segments[ROUTER_MAX_SEGMENTS],
                      size_t lengths[ROUTER_MAX_SEGMENTS])
{
	int count = 0;
	char *p;

	if (path[0] != '/')
		return -1;
	if (path[1] == '\0')
		return 0;
	p = path + 1;
	for (;;) {
		char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		long decoded;

		if (slash)
			*slash = '\0';
		if (count == ROUTER_MAX_SEGMENTS) /* too deep */
			return -1;
		/* A trailing "/" is an empty last segment, which only a pattern ending in "/"
		 * takes. */
		if (len == 0 && slash == NULL && count > 0) {
			lengths[count] = 0;
			segments[count++] = p;
			return count;
		}
		if (len == 0) /* "//" */
			return -1;
		decoded = decode_segment(p, len);
		if (decoded <= 0)
			return -1;
		lengths[count] = (size_t)decoded;
		segments[count++] = p;
		if (slash == NULL)
			return count;
		p = slash + 1;
	}
}

static bool is_capture(const char *seg, size_t len)
{
	return len > 2 && seg[0] == '{' && seg[len - 1] == '}';
}

/* One segment of a pattern, parsed once: a literal to compare, or a capture. */
struct pattern_segment {
	const char *text; /* into the pattern; for a capture, its "{name}" */
	size_t len;
	bool capture;
};

struct compiled_route {
	int count; /* segments; -1 for a pattern that can never match */
	struct pattern_segment segments[ROUTER_MAX_SEGMENTS];
};

static void compile_route(const char *pattern, struct compiled_route *c)
{
	const char *p = pattern;

	c->count = 0;
	if (*p != '/') {
		c->count = -1;
		return;
	}
	if (p[1] == '\0')
		return;
	while (*p == '/') {
		const char *start = ++p;

		while (*p && *p != '/')
			p++;
		if (c->count == ROUTER_MAX_SEGMENTS) {
			c->count = -1;
			return;
		}
		c->segments[c->count].text = start;
		c->segments[c->count].len = (size_t)(p - start);
		c->segments[c->count].capture = is_capture(start, (size_t)(p - start));
		c->count++;
	}
}

/*
 * A table compiled: its patterns, in its order, and for each segment count
 * the routes of that count, in table order (a path is only compared with
 * patterns of as many segments: a handful instead of the whole table).
 */
struct compiled_table {
	struct compiled_route *routes;
	size_t *by_count;                      /* indexes into routes, grouped by count */
	size_t first[ROUTER_MAX_SEGMENTS + 2]; /* count c's group: first[c] .. first[c+1] */
};

static void free_compiled(struct compiled_table *t)
{
	if (t == NULL)
		return;
	free(t->routes);
	free(t->by_count);
	free(t);
}

/* NULL when out of memory. */
static struct compiled_table *compile_table(const struct route *table, size_t count)
{
	struct compiled_table *t = calloc(1, sizeof(*t));
	size_t n = 0;

	if (t == NULL)
		return NULL;
	t->routes = calloc(count ? count : 1, sizeof(*t->routes));
	t->by_count = calloc(count ? count : 1, sizeof(*t->by_count));
	if (t->routes == NULL || t->by_count == NULL) {
		free_compiled(t);
		return NULL;
	}
	for (size_t i = 0; i < count; i++)
		compile_route(table[i].pattern, &t->routes[i]);
	/* a pattern that can never match (-1) is in no group */
	for (int c = 0; c <= ROUTER_MAX_SEGMENTS; c++) {
		t->first[c] = n;
		for (size_t i = 0; i < count; i++)
			if (t->routes[i].count == c)
				t->by_count[n++] = i;
	}
	t->first[ROUTER_MAX_SEGMENTS + 1] = n;
	return t;
}

/*
 * The program's own table is compiled once; any other (the unit tests')
 * at each call.
 */
static struct compiled_table *compiled_routes;
static pthread_once_t compile_once = PTHREAD_ONCE_INIT;

static void compile_program_table(void)
{
	compiled_routes = compile_table(routes, route_count);
}

/*
 * Does the compiled pattern match the split path (of as many segments)?
 * Captures go into m. The literals are compared from the last: the leading
 * ones ("api", "v0", "accounts") are what most patterns share.
 */
static bool pattern_matches(const struct compiled_route *c, char *const segments[],
                            const size_t lengths[], int count, struct route_match *m)
{
	size_t captures = 0;

	for (int i = count - 1; i >= 0; i--) {
		const struct pattern_segment *ps = &c->segments[i];

		if (ps->capture) {
			/* empty: no value; too long: 404 rather than a cut id */
			if (lengths[i] == 0 || lengths[i] > ROUTER_MAX_VALUE)
				return false;
		} else if (ps->len != lengths[i] || memcmp(ps->text, segments[i], ps->len) != 0) {
			return false;
		}
	}
	for (int i = 0; i < count; i++) {
		if (!c->segments[i].capture)
			continue;
		if (captures == ROUTER_MAX_PARAMS)
			return false;
		m->param_names[captures] = c->segments[i].text;
		m->param_values[captures++] = segments[i];
	}
	m->param_count = captures;
	return true;
}

static void allow_add(char allow[ROUTER_ALLOW_SIZE], const char *method)
{
	size_t used = strlen(allow);
	const char *p = allow;
	size_t mlen = strlen(method);

	/* Keep each method once even when two routes share it (not expected, harmless). */
	while ((p = strstr(p, method)) != NULL) {
		if ((p == allow || p[-1] == ' ') && (p[mlen] == '\0' || p[mlen] == ','))
			return;
		p += mlen;
	}
	if (used + (used ? 2 : 0) + mlen + 1 > ROUTER_ALLOW_SIZE)
		return;
	if (used)
		strcat(allow, ", ");
	strcat(allow, method);
}

/*
 * One pass over the routes of nseg segments: the first route of the method
 * wins; every matching route adds to m->allow.
 */
static enum router_result match_segments(const struct route *table,
                                         const struct compiled_table *compiled, unsigned features,
                                         const char *want, char *const segments[],
                                         const size_t lengths[], int nseg, struct route_match *m)
{
	enum router_result result = ROUTER_NOT_FOUND;
	struct route_match found;

	for (size_t g = compiled->first[nseg]; g < compiled->first[nseg + 1]; g++) {
		size_t i = compiled->by_count[g];

		if (table[i].flags & ROUTE_FEATURES & ~features)
			continue;
		if (!pattern_matches(&compiled->routes[i], segments, lengths, nseg, &found))
			continue;
		if (result == ROUTER_NOT_FOUND)
			result = ROUTER_WRONG_METHOD;
		allow_add(m->allow, table[i].method);
		if (m->route == NULL && strcmp(table[i].method, want) == 0) {
			m->route = &table[i];
			m->param_count = found.param_count;
			for (size_t k = 0; k < found.param_count; k++) {
				m->param_names[k] = found.param_names[k];
				m->param_values[k] = found.param_values[k];
			}
			result = ROUTER_FOUND;
		}
	}
	return result;
}

enum router_result router_match(const struct route *table, size_t count, const char *method,
                                const char *path, struct route_match *m)
{
	return router_match_features(table, count, ROUTE_FEATURES, method, path, m);
}

enum router_result router_match_features(const struct route *table, size_t count, unsigned features,
                                         const char *method, const char *path,
                                         struct route_match *m)
{
	char *segments[ROUTER_MAX_SEGMENTS];
	size_t lengths[ROUTER_MAX_SEGMENTS];
	struct compiled_table *compiled, *owned = NULL;
	enum router_result result;
	int nseg;
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;

	m->route = NULL;
	m->param_count = 0;
	m->allow[0] = '\0';
	if (!str_copy(m->path, sizeof(m->path), path))
		return ROUTER_NOT_FOUND;
	nseg = split_path(m->path, segments, lengths);
	if (nseg < 0)
		return ROUTER_NOT_FOUND;
	if (table == routes && count == route_count) {
		pthread_once(&compile_once, compile_program_table);
		compiled = compiled_routes;
	} else {
		compiled = owned = compile_table(table, count);
	}
	if (compiled == NULL)
		return ROUTER_NOT_FOUND;

	result = match_segments(table, compiled, features, want, segments, lengths, nseg, m);
	/* "X/" means X on every route that has no pattern of its own ending in "/": the public
	 * docs print some paths with a trailing slash, and a client that adds one must not
	 * meet a 404 (docs/api.md, "Paths"). Only one slash: "X//" stays malformed. */
	if (result == ROUTER_NOT_FOUND && nseg > 1 && lengths[nseg - 1] == 0) {
		m->allow[0] = '\0';
		result =
		    match_segments(table, compiled, features, want, segments, lengths, nseg - 1, m);
	}
	free_compiled(owned);
	return result;
}

const char *route_param(const struct route_match *m, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < m->param_count; i++) {
		const char *p = m->param_names[i];

		/* param_names point at "{name}..." inside the pattern */
		if (strncmp(p + 1, name, nlen) == 0 && p[1 + nlen] == '}')
			return m->param_values[i];
	}
	return NULL;
}
