/*
 * jwtcache.h - the verified-JWT cache: a JWT seen again costs no signature check.
 *
 * Keyed by SipHash-2-4 (128 bits) of the token under a key drawn at start,
 * never the token itself: a token that is not in the cache cannot be made to
 * look like one that is without that key (and a JWT of a kilobyte costs a
 * fifth of what an unkeyed hash of it would, on every request). It
 * remembers what verification found (the claims, which issuer and which key
 * set generation), not who the user is: the caller still maps the claims to
 * a provisioned user on every request, so a deleted user is refused at once.
 *
 * Bounded: a fixed number of entries, allocated once; when a set of slots
 * is full, an expired entry or else the oldest one gives way. An entry is
 * used only while valid_from <= now < valid_until (the token's exp), so it
 * never outlives the token. Thread-safe: one lock per set of 8 slots, so
 * the worker threads rarely meet.
 */
#ifndef MGMTD_JWTCACHE_H
#define MGMTD_JWTCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idtoken.h"

#define JWTCACHE_KEY_LEN 16

struct jwtcache;

struct jwtcache_entry {
	unsigned issuer;     /* the caller's index of the issuer that verified it */
	uint64_t generation; /* of the key set that verified it */
	int64_t valid_from;  /* seconds; the entry serves from here (INT64_MIN: always) */
	int64_t valid_until; /* seconds; ... until just before here: the token's exp */
	struct idtoken_claims claims;
};

/* A cache of at least capacity entries (rounded up to a power of two); NULL when out of memory. */
struct jwtcache *jwtcache_new(size_t capacity);

/* NULL is fine. */
void jwtcache_free(struct jwtcache *c);

/* The key of a token: its keyed SipHash (libsodium must be initialised). */
void jwtcache_key(const char *token, unsigned char key[JWTCACHE_KEY_LEN]);

/*
 * Finds the entry for key that is valid at now (seconds) and copies it to
 * out. An entry found past its valid_until is dropped. Returns true on a hit.
 */
bool jwtcache_get(struct jwtcache *c, const unsigned char key[JWTCACHE_KEY_LEN], int64_t now,
                  struct jwtcache_entry *out);

/* Stores (or replaces) the entry for key; now decides which entries have expired. */
void jwtcache_put(struct jwtcache *c, const unsigned char key[JWTCACHE_KEY_LEN],
                  const struct jwtcache_entry *e, int64_t now);

/* Entries held, expired ones included (for tests and statistics). */
size_t jwtcache_count(struct jwtcache *c);

/* Number of entries the cache holds at most. */
size_t jwtcache_capacity(const struct jwtcache *c);

#endif
