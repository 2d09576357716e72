/*
 * jwtcache.c - a set-associative cache of verified JWTs.
 *
 * The key is a cryptographic hash, so its first bytes pick a set uniformly
 * and nobody can aim many tokens at one set. Each set has WAYS slots and its
 * own mutex; the critical sections copy an entry and nothing more.
 *
 * The mutexes live in an array of their own, not in the sets: the sets take
 * a few megabytes, allocated zeroed and left untouched until tokens arrive,
 * while initialising a mutex at the head of each set touched one page of
 * every set (2 MiB resident from the start, half of an idle server's own
 * memory).
 */
#include "jwtcache.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 8

struct slot {
	bool used;
	uint64_t stamp; /* insertion order within the cache, for eviction */
	unsigned char key[JWTCACHE_KEY_LEN];
	struct jwtcache_entry entry;
};

struct set {
	uint64_t clock; /* next stamp */
	struct slot slots[WAYS];
};

struct jwtcache {
	size_t nsets; /* a power of two */
	struct set *sets;
	pthread_mutex_t *locks; /* locks[i] guards sets[i] */
};

struct jwtcache *jwtcache_new(size_t capacity)
{
	struct jwtcache *c = calloc(1, sizeof(*c));
	size_t nsets = 1;

	if (!c)
		return NULL;
	while (nsets * WAYS < capacity && nsets < ((size_t)1 << 20))
		nsets *= 2;
	c->sets = calloc(nsets, sizeof(*c->sets));
	c->locks = calloc(nsets, sizeof(*c->locks));
	if (!c->sets || !c->locks) {
		free(c->sets);
		free(c->locks);
		free(c);
		return NULL;
	}
	c->nsets = nsets;
	for (size_t i = 0; i < nsets; i++) {
		if (pthread_mutex_init(&c->locks[i], NULL) != 0) {
			c->nsets = i;
			jwtcache_free(c);
			return NULL;
		}
	}
	return c;
}

void jwtcache_free(struct jwtcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nsets; i++)
		pthread_mutex_destroy(&c->locks[i]);
	/* The claims hold subjects and emails: leave nothing behind in freed memory. */
	sodium_memzero(c->sets, c->nsets * sizeof(*c->sets));
	free(c->sets);
	free(c->locks);
	free(c);
}

static unsigned char process_key[crypto_shorthash_siphashx24_KEYBYTES];
static pthread_once_t process_key_once = PTHREAD_ONCE_INIT;

static void draw_process_key(void)
{
	randombytes_buf(process_key, sizeof(process_key));
}

void jwtcache_key(const char *token, unsigned char key[JWTCACHE_KEY_LEN])
{
	_Static_assert(JWTCACHE_KEY_LEN == crypto_shorthash_siphashx24_BYTES, "a SipHash-128 key");
	pthread_once(&process_key_once, draw_process_key);
	crypto_shorthash_siphashx24(key, (const unsigned char *)token, strlen(token), process_key);
}

static size_t set_of(const struct jwtcache *c, const unsigned char key[JWTCACHE_KEY_LEN])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)(h & (c->nsets - 1));
}

static bool key_equal(const unsigned char *a, const unsigned char *b)
{
	return sodium_memcmp(a, b, JWTCACHE_KEY_LEN) == 0;
}

bool jwtcache_get(struct jwtcache *c, const unsigned char key[JWTCACHE_KEY_LEN], int64_t now,
                  struct jwtcache_entry *out)
{
	struct set *s;
	size_t i_set;
	bool hit = false;

	if (!c)
		return false;
	i_set = set_of(c, key);
	s = &c->sets[i_set];
	pthread_mutex_lock(&c->locks[i_set]);
	for (int i = 0; i < WAYS; i++) {
		struct slot *sl = &s->slots[i];

		if (!sl->used || !key_equal(sl->key, key))
			continue;
		if (now >= sl->entry.valid_until) {
			sl->used = false; /* past exp: never again */
			break;
		}
		/* Not valid yet at this time (a clock set back): verify afresh. */
		if (now >= sl->entry.valid_from) {
			*out = sl->entry;
			hit = true;
		}
		break;
	}
	pthread_mutex_unlock(&c->locks[i_set]);
	return hit;
}

void jwtcache_put(struct jwtcache *c, const unsigned char key[JWTCACHE_KEY_LEN],
                  const struct jwtcache_entry *e, int64_t now)
{
	struct slot *victim = NULL;
	struct set *s;
	size_t i_set;

	if (!c || now >= e->valid_until)
		return;
	i_set = set_of(c, key);
	s = &c->sets[i_set];
	pthread_mutex_lock(&c->locks[i_set]);
	for (int i = 0; i < WAYS && !victim; i++)
		if (s->slots[i].used && key_equal(s->slots[i].key, key))
			victim = &s->slots[i];
	for (int i = 0; i < WAYS && !victim; i++)
		if (!s->slots[i].used || now >= s->slots[i].entry.valid_until)
			victim = &s->slots[i];
	if (!victim) { /* the set is full of live entries: the oldest goes */
		victim = &s->slots[0];
		for (int i = 1; i < WAYS; i++)
			if (s->slots[i].stamp < victim->stamp)
				victim = &s->slots[i];
	}
	victim->used = true;
	victim->stamp = s->clock++;
	memcpy(victim->key, key, JWTCACHE_KEY_LEN);
	victim->entry = *e;
	pthread_mutex_unlock(&c->locks[i_set]);
}

size_t jwtcache_count(struct jwtcache *c)
{
	size_t n = 0;

	for (size_t i = 0; c && i < c->nsets; i++) {
		pthread_mutex_lock(&c->locks[i]);
		for (int w = 0; w < WAYS; w++)
			n += c->sets[i].slots[w].used;
		pthread_mutex_unlock(&c->locks[i]);
	}
	return n;
}

size_t jwtcache_capacity(const struct jwtcache *c)
{
	return c ? c->nsets * WAYS : 0;
}
