/*
 * router.c - matching a method and path against the route table.
 */
#include <string.h>

#include "router.h"
#include "util.h"

/*
 * Percent-decodes one segment in place. Done after splitting, so "%2F" is a
 * '/' inside a segment (a name may hold one), never a segment boundary.
 * False for a broken escape or "%00", which would cut the value short.
 */
static bool decode_segment(char *seg)
{
	char *in = seg, *out = seg;

	while (*in) {
		if (*in == '%') {
			int hi = hex_digit_value(in[1]), lo = hi < 0 ? -1 : hex_digit_value(in[2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return false;
			*out++ = (char)(hi * 16 + lo);
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return true;
}

/*
 * Splits a path as sent (still percent-encoded) into decoded segments in
 * place; returns the count or -1 when malformed.
 */
static int split_path(char *path, char *segments[ROUTER_MAX_SEGMENTS])
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

		if (slash)
			*slash = '\0';
		if (count == ROUTER_MAX_SEGMENTS) /* too deep */
			return -1;
		/* A trailing "/" is an empty last segment, which only a pattern ending in "/"
		 * takes. */
		if (*p == '\0' && slash == NULL && count > 0) {
			segments[count++] = p;
			return count;
		}
		if (*p == '\0') /* "//" */
			return -1;
		if (!decode_segment(p) || *p == '\0')
			return -1;
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

/* Where a pattern's captures are: their names (into the pattern) and segments. */
struct captures {
	size_t count;
	const char *names[ROUTER_MAX_PARAMS];
	int segment[ROUTER_MAX_PARAMS];
};

/*
 * Does pattern match the split path? Notes where its captures are; nothing
 * is copied (most routes do not match, and this runs for every route).
 */
static bool pattern_matches(const char *pattern, char *const segments[], int count,
                            struct captures *c)
{
	const char *p = pattern;
	int i = 0;

	c->count = 0;
	while (*p == '/') {
		const char *start = ++p;
		size_t len;

		while (*p && *p != '/')
			p++;
		len = (size_t)(p - start);
		if (i >= count)
			return false;
		if (is_capture(start, len)) {
			if (c->count == ROUTER_MAX_PARAMS || segments[i][0] == '\0')
				return false;
			c->names[c->count] = start;
			c->segment[c->count++] = i;
		} else if (strncmp(start, segments[i], len) != 0 || segments[i][len] != '\0') {
			return false;
		}
		i++;
	}
	return i == count;
}

/*
 * A value too long for its capture field makes the route not match (404),
 * rather than match with a cut id.
 */
static bool captures_fit(const struct captures *c, char *const segments[])
{
	const size_t room = sizeof(((struct route_match *)0)->param_values[0]);

	for (size_t k = 0; k < c->count; k++)
		if (strnlen(segments[c->segment[k]], room) >= room)
			return false;
	return true;
}
/* Copies the captured values, which fit, into m. */
static void take_captures(const struct captures *c, char *const segments[], struct route_match *m)
{
	for (size_t k = 0; k < c->count; k++) {
		str_copy(m->param_values[k], sizeof(m->param_values[k]), segments[c->segment[k]]);
		m->param_names[k] = c->names[k];
	}
	m->param_count = c->count;
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

enum router_result router_match(const struct route *table, size_t count, const char *method,
                                const char *path, struct route_match *m)
{
	return router_match_features(table, count, ROUTE_FEATURES, method, path, m);
}

enum router_result router_match_features(const struct route *table, size_t count, unsigned features,
                                         const char *method, const char *path,
                                         struct route_match *m)
{
	char copy[ROUTER_MAX_PATH];
	char *segments[ROUTER_MAX_SEGMENTS];
	struct captures caps;
	int nseg;
	bool path_known = false;
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;

	memset(m, 0, sizeof(*m));
	if (!str_copy(copy, sizeof(copy), path))
		return ROUTER_NOT_FOUND;
	nseg = split_path(copy, segments);
	if (nseg < 0)
		return ROUTER_NOT_FOUND;

	/* One pass: the first route of the method wins; every matching route adds to Allow. */
	for (size_t i = 0; i < count; i++) {
		if (table[i].flags & ROUTE_FEATURES & ~features)
			continue;
		if (!pattern_matches(table[i].pattern, segments, nseg, &caps) ||
		    !captures_fit(&caps, segments))
			continue;
		path_known = true;
		allow_add(m->allow, table[i].method);
		if (m->route == NULL && strcmp(table[i].method, want) == 0) {
			take_captures(&caps, segments, m);
			m->route = &table[i];
		}
	}
	if (m->route)
		return ROUTER_FOUND;
	return path_known ? ROUTER_WRONG_METHOD : ROUTER_NOT_FOUND;
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
