/*
 * fuzz_jwks.c - the JWKS reader (jwks.c): JSON, JWK fields, RSA/EC/x5c to PEM
 * with OpenSSL, then key choice for a few header forms.
 */
#include <stdint.h>
#include <stdlib.h>

#include "jwks.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const algs[] = {"RS256", "ES256", "ES384", "HS256", ""};
	struct jwks *set = NULL;
	char err[256];

	if (jwks_parse((const char *)data, size, &set, err, sizeof(err)) != 0)
		return 0;
	for (size_t i = 0; i < set->count; i++) {
		const struct jwk *k = &set->keys[i];

		if (k->pem == NULL || k->pem_len == 0)
			abort();
		for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++)
			(void)jwks_find(set, k->kid, algs[a]);
	}
	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++)
		(void)jwks_find(set, "", algs[a]);
	jwks_free(set);
	return 0;
}
