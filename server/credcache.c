/*
 * credcache.c - per-thread caches of credential lookups stamped with the
 * store's change epoch (credcache.h).
 */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "credcache.h"

/* Slots per thread: a power of two; two ways per set. */
#define CREDCACHE_SETS 256
#define CREDCACHE_WAYS 2

enum entry_kind { ENTRY_FREE = 0, ENTRY_MGMT, ENTRY_GRANT, ENTRY_USER };

struct entry {
	struct credcache_key key;
	uint64_t epoch;
	enum entry_kind kind;
	union {
		struct credcache_mgmt mgmt;
		struct store_db_grant grant;
		struct credcache_user user;
	} v;
};

struct cache {
	struct entry sets[CREDCACHE_SETS][CREDCACHE_WAYS];
	unsigned char next_victim[CREDCACHE_SETS];
};

static unsigned char siphash_key[crypto_shorthash_siphashx24_KEYBYTES];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_slot;
static bool cache_slot_ok;
static atomic_uint_fast64_t hits, misses;

static void init_once(void)
{
	randombytes_buf(siphash_key, sizeof(siphash_key));
	cache_slot_ok = pthread_key_create(&cache_slot, free) == 0;
}

/* This thread's cache, made on first use; NULL when out of memory (no caching). */
static struct cache *thread_cache(void)
{
	struct cache *c;

	pthread_once(&key_once, init_once);
	if (!cache_slot_ok)
		return NULL;
	c = pthread_getspecific(cache_slot);
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c != NULL && pthread_setspecific(cache_slot, c) != 0) {
			free(c);
			c = NULL;
		}
	}
	return c;
}

bool credcache_key(const char *kind, const char *credential, const char *const parts[],
                   struct credcache_key *out)
{
	unsigned char buf[CREDCACHE_KEY_INPUT_MAX];
	size_t len = 0;
	bool fits = true;

	pthread_once(&key_once, init_once);
	/* Each piece with its length before it: no two different questions give one input. */
	for (size_t i = 0; fits; i++) {
		const char *p = i == 0 ? kind : i == 1 ? credential : parts ? parts[i - 2] : NULL;
		size_t n;

		if (p == NULL)
			break;
		n = strlen(p);
		if (n > sizeof(buf) - 4 - len) {
			fits = false;
			break;
		}
		buf[len++] = (unsigned char)(n >> 24);
		buf[len++] = (unsigned char)(n >> 16);
		buf[len++] = (unsigned char)(n >> 8);
		buf[len++] = (unsigned char)n;
		memcpy(buf + len, p, n);
		len += n;
	}
	if (fits)
		crypto_shorthash_siphashx24(out->bytes, buf, len, siphash_key);
	sodium_memzero(buf, len);
	return fits;
}

static size_t set_of(const struct credcache_key *k)
{
	return ((size_t)k->bytes[0] | (size_t)k->bytes[1] << 8) & (CREDCACHE_SETS - 1);
}

static const struct entry *find(const struct credcache_key *k, uint64_t epoch, enum entry_kind kind)
{
	struct cache *c = thread_cache();

	if (c != NULL) {
		const struct entry *set = c->sets[set_of(k)];

		for (size_t w = 0; w < CREDCACHE_WAYS; w++)
			if (set[w].kind == kind && set[w].epoch == epoch &&
			    sodium_memcmp(set[w].key.bytes, k->bytes, sizeof(k->bytes)) == 0) {
				atomic_fetch_add_explicit(&hits, 1, memory_order_relaxed);
				return &set[w];
			}
	}
	atomic_fetch_add_explicit(&misses, 1, memory_order_relaxed);
	return NULL;
}

/* The slot for a new entry of k: a free or stale one, else the set's next victim. */
static struct entry *slot_for(const struct credcache_key *k, uint64_t epoch)
{
	struct cache *c = thread_cache();
	size_t s;
	struct entry *set;

	if (c == NULL)
		return NULL;
	s = set_of(k);
	set = c->sets[s];
	for (size_t w = 0; w < CREDCACHE_WAYS; w++)
		if (set[w].kind == ENTRY_FREE || set[w].epoch != epoch ||
		    memcmp(set[w].key.bytes, k->bytes, sizeof(k->bytes)) == 0)
			return &set[w];
	c->next_victim[s] = (unsigned char)((c->next_victim[s] + 1) % CREDCACHE_WAYS);
	return &set[c->next_victim[s]];
}

/* The value of kind under k and epoch into out (size bytes), or false. */
static bool get(const struct credcache_key *k, uint64_t epoch, enum entry_kind kind, void *out,
                size_t size)
{
	const struct entry *e = find(k, epoch, kind);

	if (e != NULL)
		memcpy(out, &e->v, size);
	return e != NULL;
}

static void put(const struct credcache_key *k, uint64_t epoch, enum entry_kind kind, const void *v,
                size_t size)
{
	struct entry *e = slot_for(k, epoch);

	if (e == NULL)
		return;
	e->key = *k;
	e->epoch = epoch;
	e->kind = kind;
	memcpy(&e->v, v, size);
}

bool credcache_get_mgmt(const struct credcache_key *k, uint64_t epoch, struct credcache_mgmt *out)
{
	return get(k, epoch, ENTRY_MGMT, out, sizeof(*out));
}

void credcache_put_mgmt(const struct credcache_key *k, uint64_t epoch,
                        const struct credcache_mgmt *v)
{
	put(k, epoch, ENTRY_MGMT, v, sizeof(*v));
}

bool credcache_get_grant(const struct credcache_key *k, uint64_t epoch, struct store_db_grant *out)
{
	return get(k, epoch, ENTRY_GRANT, out, sizeof(*out));
}

void credcache_put_grant(const struct credcache_key *k, uint64_t epoch,
                         const struct store_db_grant *v)
{
	put(k, epoch, ENTRY_GRANT, v, sizeof(*v));
}

bool credcache_get_user(const struct credcache_key *k, uint64_t epoch, struct credcache_user *out)
{
	return get(k, epoch, ENTRY_USER, out, sizeof(*out));
}

void credcache_put_user(const struct credcache_key *k, uint64_t epoch,
                        const struct credcache_user *v)
{
	put(k, epoch, ENTRY_USER, v, sizeof(*v));
}

void credcache_counts(uint64_t *hit_count, uint64_t *miss_count)
{
	*hit_count = atomic_load_explicit(&hits, memory_order_relaxed);
	*miss_count = atomic_load_explicit(&misses, memory_order_relaxed);
}
