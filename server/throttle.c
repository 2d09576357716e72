/*
 * throttle.c - token buckets per client address in a fixed-size table.
 *
 * Credits are counted in units of 1/60000 so that a refill of per_minute
 * credits a minute is exactly per_minute units a millisecond: no floating
 * point, no drift. Slots are found by SipHash (libsodium, random key) of the
 * key, then a short linear probe, so that an attacker cannot aim many
 * addresses at one slot.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"

#define UNIT  INT64_C(60000) /* units per credit */
#define PROBE 8              /* slots looked at per address */

struct entry {
	unsigned char key[THROTTLE_ADDR_LEN];
	bool used;
	int64_t units;   /* credits * UNIT at last_ms */
	int64_t last_ms; /* when units was computed */
};

struct throttle {
	pthread_mutex_t lock;
	int64_t capacity; /* burst * UNIT */
	int64_t refill;   /* units per millisecond (= per_minute) */
	size_t slots;
	unsigned char hash_key[crypto_shorthash_KEYBYTES];
	struct entry entries[];
};

struct throttle *throttle_new(int burst, int per_minute, size_t slots)
{
	struct throttle *t;

	if (burst < 1 || per_minute < 1 || slots < 1 ||
	    slots > (SIZE_MAX - sizeof(*t)) / sizeof(struct entry))
		return NULL;
	t = calloc(1, sizeof(*t) + slots * sizeof(struct entry));
	if (t == NULL)
		return NULL;
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		free(t);
		return NULL;
	}
	t->capacity = (int64_t)burst * UNIT;
	t->refill = per_minute;
	t->slots = slots;
	randombytes_buf(t->hash_key, sizeof(t->hash_key));
	return t;
}

void throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void throttle_address_key(const unsigned char addr[THROTTLE_ADDR_LEN],
                          unsigned char key[THROTTLE_ADDR_LEN])
{
	static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memcpy(key, addr, THROTTLE_ADDR_LEN);
	if (memcmp(addr, v4_mapped, sizeof(v4_mapped)) != 0)
		memset(key + 8, 0, THROTTLE_ADDR_LEN - 8);
}

/* The entry's units at now, refilled and capped. */
static int64_t refilled(const struct throttle *t, const struct entry *e, int64_t now_ms)
{
	int64_t elapsed = now_ms - e->last_ms;

	if (elapsed <= 0)
		return e->units; /* the clock went back: no refill, no penalty */
	if (elapsed >= (t->capacity - e->units) / t->refill + 1)
		return t->capacity;
	return e->units + elapsed * t->refill;
}

/* The slot for key: its own, else a free or refilled one, else the least throttled. */
static struct entry *find_slot(struct throttle *t, const unsigned char key[THROTTLE_ADDR_LEN],
                               int64_t now_ms)
{
	unsigned char h[crypto_shorthash_BYTES];
	struct entry *spare = NULL, *victim = NULL;
	int64_t victim_units = -1;
	uint64_t start;

	crypto_shorthash(h, key, THROTTLE_ADDR_LEN, t->hash_key);
	memcpy(&start, h, sizeof(start));
	for (size_t i = 0; i < PROBE && i < t->slots; i++) {
		struct entry *e = &t->entries[(start + i) % t->slots];
		int64_t units;

		if (e->used && memcmp(e->key, key, THROTTLE_ADDR_LEN) == 0)
			return e;
		if (!e->used) {
			if (spare == NULL)
				spare = e;
			continue;
		}
		units = refilled(t, e, now_ms);
		if (units >= t->capacity) { /* as good as absent */
			e->used = false;
			if (spare == NULL)
				spare = e;
		} else if (units > victim_units) {
			victim = e;
			victim_units = units;
		}
	}
	if (spare == NULL)
		spare = victim;
	memcpy(spare->key, key, THROTTLE_ADDR_LEN);
	spare->used = true;
	spare->units = t->capacity;
	spare->last_ms = now_ms;
	return spare;
}

int throttle_fail(struct throttle *t, const unsigned char addr[THROTTLE_ADDR_LEN], int64_t now_ms)
{
	unsigned char key[THROTTLE_ADDR_LEN];
	struct entry *e;
	int64_t units, wait_ms;
	int wait_s = 0;

	throttle_address_key(addr, key);
	pthread_mutex_lock(&t->lock);
	e = find_slot(t, key, now_ms);
	units = refilled(t, e, now_ms);
	if (units >= UNIT) {
		units -= UNIT;
	} else {
		/* Time until one whole credit, rounded up to whole seconds. */
		wait_ms = (UNIT - units + t->refill - 1) / t->refill;
		wait_s = (int)((wait_ms + 999) / 1000);
		if (wait_s < 1)
			wait_s = 1;
	}
	e->units = units;
	if (now_ms > e->last_ms)
		e->last_ms = now_ms;
	pthread_mutex_unlock(&t->lock);
	return wait_s;
}

size_t throttle_entries(struct throttle *t)
{
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->slots; i++)
		n += t->entries[i].used;
	pthread_mutex_unlock(&t->lock);
	return n;
}
