/*
 * credcache.h - per-thread caches of credential lookups that cannot go stale.
 *
 * An entry holds what the store answered for one credential (a management
 * token's row, a database token's grant for one action on one database, the
 * user of a JWT's identity in an account), stamped with the store's change
 * epoch of the snapshot it was read in (store_change_epoch). It answers only a
 * request whose own snapshot has the same epoch: a commit anywhere (this
 * server, an offline command, another replica) moves the epoch, and every
 * entry read before it is ignored. A revocation is therefore honoured from
 * the first request whose snapshot sees it, exactly as without the cache.
 *
 * What a request that may use an entry does, in one read snapshot:
 *   1. store_change_epoch(s, &epoch) (false: no cache for this request);
 *   2. credcache_get_*(key, epoch, &v): a hit is the answer;
 *   3. otherwise ask the store, and credcache_put_*(key, epoch, &v).
 *
 * Keys are SipHash-2-4 with a 128-bit output of the credential and what
 * narrows the question (the action and database, the account), under a key
 * drawn at start: the secret itself is never kept. Negative answers (an
 * unknown token) are never cached. The cache is per thread (no lock), fixed
 * in size, and allocated on a thread's first use.
 */
#ifndef MGMTD_CREDCACHE_H
#define MGMTD_CREDCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define CREDCACHE_KEY_SIZE 16

struct credcache_key {
	unsigned char bytes[CREDCACHE_KEY_SIZE];
};

/* What authentication needs of a management token's row. */
struct credcache_mgmt {
	char id[UUID_STR_SIZE];
	char account_id[UUID_STR_SIZE];
	char created_by[UUID_STR_SIZE];
	char prefix[TOKEN_PREFIX_SIZE];
	int64_t expires_at;
	int64_t revoked_at;
	int64_t last_used_at;
	/*
	 * The lifecycle as the row has it: the verdict on a previous secret's
	 * grace is made on each use from previous_expires_at and the clock, never
	 * kept (its end is a time, not a change that moves the epoch).
	 */
	bool by_previous; /* the credential is the token's previous secret */
	int64_t previous_expires_at;
	int64_t previous_last_used_at;
	int64_t suspended_at;
};

/* What authentication needs of a user matched by a JWT's identity. */
struct credcache_user {
	char id[UUID_STR_SIZE];
	char account_id[UUID_STR_SIZE];
	enum user_group group;
};

/* The most a question's pieces and their lengths may take (a token, a name or two). */
#define CREDCACHE_KEY_INPUT_MAX 2048

/*
 * The key of a question about credential: kind names the question
 * ("mgmt", "grant", "user"), parts (NULL-terminated, or NULL) what narrows
 * it. Different kinds or parts give different keys. False for a question
 * too long to ask the cache: the caller goes to the store.
 */
bool credcache_key(const char *kind, const char *credential, const char *const parts[],
                   struct credcache_key *out);

bool credcache_get_mgmt(const struct credcache_key *k, uint64_t epoch, struct credcache_mgmt *out);
void credcache_put_mgmt(const struct credcache_key *k, uint64_t epoch,
                        const struct credcache_mgmt *v);

bool credcache_get_grant(const struct credcache_key *k, uint64_t epoch, struct store_db_grant *out);
void credcache_put_grant(const struct credcache_key *k, uint64_t epoch,
                         const struct store_db_grant *v);

bool credcache_get_user(const struct credcache_key *k, uint64_t epoch, struct credcache_user *out);
void credcache_put_user(const struct credcache_key *k, uint64_t epoch,
                        const struct credcache_user *v);

/* Hits and misses of every thread since start (for /metrics and the tests). */
void credcache_counts(uint64_t *hits, uint64_t *misses);

#endif
