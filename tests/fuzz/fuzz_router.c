/*
 * fuzz_router.c - the path parser and router (router.c over the real route
 * table), then the same method and path through the whole request path with
 * the Authorization header taken from the input (auth.c's header parsing).
 *
 * Input: METHOD NUL PATH NUL AUTHORIZATION (missing parts are empty; an
 * AUTHORIZATION of "!" means the harness's valid management token).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "router.h"

static void check_match(const char *method, const char *path, enum router_result r,
                        const struct route_match *m)
{
	switch (r) {
	case ROUTER_FOUND:
		if (m->route == NULL || m->param_count > ROUTER_MAX_PARAMS)
			abort();
		for (size_t i = 0; i < m->param_count; i++) {
			const char *v = m->param_values[i];

			/* A capture is one whole, non-empty, decoded segment. */
			if (v[0] == '\0' || strnlen(v, 256) >= 256)
				abort();
		}
		break;
	case ROUTER_WRONG_METHOD:
		if (m->route != NULL || m->allow[0] == '\0' ||
		    strnlen(m->allow, ROUTER_ALLOW_SIZE) >= ROUTER_ALLOW_SIZE)
			abort();
		break;
	case ROUTER_NOT_FOUND:
		if (m->route != NULL)
			abort();
		break;
	}
	(void)method;
	(void)path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_server *fs = fuzz_server();
	struct route_match m;
	enum router_result r;
	char *copy, *method, *path, *auth, *end;

	/* Room for the three parts; strings end at the first NUL, as MHD hands them over. */
	copy = malloc(size + 3);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	memset(copy + size, 0, 3);
	end = copy + size;
	method = copy;
	path = method + strlen(method) + 1;
	auth = path <= end ? path + strlen(path) + 1 : end;
	if (path > end)
		path = end;
	if (auth > end)
		auth = end;

	r = router_match(routes, route_count, method, path, &m);
	check_match(method, path, r, &m);
	fuzz_request(fs, method, path, strcmp(auth, "!") == 0 ? fs->bearer : auth,
	             "application/json", NULL, 0);
	free(copy);
	return 0;
}
