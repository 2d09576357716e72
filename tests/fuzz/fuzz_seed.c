/*
 * fuzz_seed.c - the seed reader (seed.c) on a fresh, migrated database each
 * time.
 *
 * Property: a seed that applies once applies again (a restart with the same
 * seed is a no-op, CONTRACT 9); one that fails leaves nothing behind (a
 * second try fails the same way). Inputs of odd length meet one identity
 * provider ([idp]), the others two ([idp], [idp b]), where a subject
 * needs its idpIssuer.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "identity.h"
#include "log.h"
#include "seed.h"
#include "store.h"

static char dir[PATH_MAX - 32];
static struct token_key key;
static struct config one_idp, two_idps;
static struct identity_issuers one_issuer, two_issuers;

static void make_issuers(void)
{
	config_defaults(&one_idp);
	snprintf(one_idp.idp.issuer, sizeof(one_idp.idp.issuer), "https://idp.fuzz.test/");
	identity_issuers_init(&one_issuer, &one_idp, NULL);
	two_idps = one_idp;
	two_idps.idp_count = 1;
	snprintf(two_idps.idps[0].name, sizeof(two_idps.idps[0].name), "b");
	snprintf(two_idps.idps[0].issuer, sizeof(two_idps.idps[0].issuer), "https://b.fuzz.test");
	identity_issuers_init(&two_issuers, &two_idps, NULL);
}

static void reset_db(char *path, size_t size)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	char p[PATH_MAX];

	snprintf(path, size, "%s/seed.db", dir);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		unlink(p);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX], err[1024], err2[1024];
	struct store *s = NULL;
	const struct identity_issuers *issuers;
	int first, second;

	if (dir[0] == '\0') {
		if (sodium_init() < 0)
			abort();
		log_set_level(LOGL_ERROR);
		fuzz_freeze_clock();
		fuzz_tempdir(dir, sizeof(dir));
		memset(key.bytes, 0x42, sizeof(key.bytes));
		make_issuers();
	}
	issuers = size % 2 ? &one_issuer : &two_issuers;
	reset_db(path, sizeof(path));
	if (store_open(path, &s, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		abort();
	}
	err[0] = err2[0] = '\0';
	first = seed_apply_text(s, &key, 7, issuers, (const char *)data, size, err, sizeof(err));
	second = seed_apply_text(s, &key, 7, issuers, (const char *)data, size, err2, sizeof(err2));
	if (first != second) {
		fprintf(stderr, "seed applied %d then %d: '%s' / '%s'\n", first, second, err, err2);
		abort();
	}
	if (first != 0 && (err[0] == '\0' || strcmp(err, err2) != 0)) {
		fprintf(stderr, "seed failed without a stable message: '%s' / '%s'\n", err, err2);
		abort();
	}
	store_close(s);
	return 0;
}
