/*
 * router.c - matching a method and path against the route table.
 */
#include <string.h>

#include "router.h"
#include "util.h"

/* Splits path into segments in place; returns the count or -1 when malformed. */
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
		if (*p == '\0' || count == ROUTER_MAX_SEGMENTS) /* "//", trailing "/", too deep */
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

/*
 * Does pattern match the split path? Fills the captures of m when it does.
 * The pattern is walked in place, without copying it.
 */
static bool pattern_matches(const char *pattern, char *const segments[], int count,
                            struct route_match *m)
{
	const char *p = pattern;
	int i = 0;
	size_t params = 0;

	while (*p == '/') {
		const char *start = ++p;
		size_t len;

		while (*p && *p != '/')
			p++;
		len = (size_t)(p - start);
		if (i >= count)
			return false;
		if (is_capture(start, len)) {
			if (params == ROUTER_MAX_PARAMS ||
			    !str_copy(m->param_values[params], sizeof(m->param_values[params]),
			              segments[i]))
				return false;
			m->param_names[params++] = start;
		} else if (strlen(segments[i]) != len || memcmp(start, segments[i], len) != 0) {
			return false;
		}
		i++;
	}
	if (i != count)
		return false;
	m->param_count = params;
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
	struct route_match candidate;
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
		memset(&candidate, 0, sizeof(candidate));
		if (!pattern_matches(table[i].pattern, segments, nseg, &candidate))
			continue;
		path_known = true;
		allow_add(m->allow, table[i].method);
		if (m->route == NULL && strcmp(table[i].method, want) == 0) {
			m->route = &table[i];
			m->param_count = candidate.param_count;
			memcpy(m->param_names, candidate.param_names, sizeof(m->param_names));
			memcpy(m->param_values, candidate.param_values, sizeof(m->param_values));
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
