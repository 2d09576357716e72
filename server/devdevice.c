/*
 * devdevice.c - pending device authorizations of the dev identity provider.
 */
#include "devdevice.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util.h"

/* RFC 8628 6.1: consonants only, so that no word is spelt and none is misread. */
static const char user_code_alphabet[] = "BCDFGHJKLMNPQRSTVWXZ";
#define USER_CODE_LETTERS 8

enum slot_state { SLOT_FREE = 0, SLOT_PENDING, SLOT_APPROVED, SLOT_DENIED };

struct slot {
	enum slot_state state;
	unsigned char code_hash[crypto_generichash_BYTES]; /* of the device code */
	char user_code[DEV_DEVICE_USER_CODE_SIZE];
	char csrf_token[DEV_DEVICE_SECRET_SIZE];
	char client_id[DEV_DEVICE_CLIENT_SIZE];
	unsigned char address[THROTTLE_ADDR_LEN]; /* who asked, as throttle_address_key counts */
	int64_t expires_at;                       /* ms, time_now_ms clock */
	long interval;                            /* seconds */
	int64_t last_poll;                        /* ms, monotonic; 0 = never polled */
	char *jwt;                                /* once approved */
	int64_t jwt_exp;                          /* s */
};

struct dev_devices {
	pthread_mutex_t lock;
	struct slot slots[DEV_DEVICE_SLOTS];
};

static void slot_clear(struct slot *s)
{
	if (s->jwt) {
		sodium_memzero(s->jwt, strlen(s->jwt));
		free(s->jwt);
	}
	sodium_memzero(s, sizeof(*s));
}

struct dev_devices *dev_devices_new(void)
{
	struct dev_devices *g = calloc(1, sizeof(*g));

	if (g && pthread_mutex_init(&g->lock, NULL) != 0) {
		free(g);
		g = NULL;
	}
	return g;
}

void dev_devices_free(struct dev_devices *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < DEV_DEVICE_SLOTS; i++)
		slot_clear(&g->slots[i]);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static void random_secret(char out[DEV_DEVICE_SECRET_SIZE])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, DEV_DEVICE_SECRET_SIZE, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

static void hash_code(const char *code, unsigned char out[crypto_generichash_BYTES])
{
	crypto_generichash(out, crypto_generichash_BYTES, (const unsigned char *)code, strlen(code),
	                   NULL, 0);
}

static void random_user_code(char out[DEV_DEVICE_USER_CODE_SIZE])
{
	size_t k = 0;

	for (int i = 0; i < USER_CODE_LETTERS; i++) {
		if (i == USER_CODE_LETTERS / 2)
			out[k++] = '-';
		out[k++] = user_code_alphabet[randombytes_uniform(sizeof(user_code_alphabet) - 1)];
	}
	out[k] = '\0';
}

bool dev_devices_normalize_user_code(const char *user_code, char out[DEV_DEVICE_USER_CODE_SIZE])
{
	int letters = 0;
	size_t k = 0;

	for (const char *p = user_code; *p; p++) {
		char c = *p;

		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c == '\0' || !strchr(user_code_alphabet, c) || letters == USER_CODE_LETTERS)
			return false;
		if (letters == USER_CODE_LETTERS / 2)
			out[k++] = '-';
		out[k++] = c;
		letters++;
	}
	out[k] = '\0';
	return letters == USER_CODE_LETTERS;
}

/* Frees slots whose time is up; the caller holds the lock. */
static void expire(struct dev_devices *g, int64_t now)
{
	for (size_t i = 0; i < DEV_DEVICE_SLOTS; i++) {
		if (g->slots[i].state != SLOT_FREE && g->slots[i].expires_at <= now)
			slot_clear(&g->slots[i]);
	}
}

/* The live slot of a canonical user code; the caller holds the lock. */
static struct slot *by_user_code(struct dev_devices *g, const char *canonical, int64_t now)
{
	for (size_t i = 0; i < DEV_DEVICE_SLOTS; i++) {
		struct slot *s = &g->slots[i];

		if (s->state != SLOT_FREE && s->expires_at > now &&
		    strcmp(s->user_code, canonical) == 0)
			return s;
	}
	return NULL;
}

/* Whole seconds (at least 1) from now until expires_at. */
static long seconds_until(int64_t expires_at, int64_t now)
{
	int64_t ms = expires_at - now;

	return ms <= 1000 ? 1 : (long)((ms + 999) / 1000);
}

enum dev_device_started dev_devices_start(struct dev_devices *g, const char *client_id,
                                          const unsigned char client_addr[THROTTLE_ADDR_LEN],
                                          int64_t now, struct dev_device_start *out)
{
	static const unsigned char unknown[THROTTLE_ADDR_LEN];
	unsigned char address[THROTTLE_ADDR_LEN];
	int64_t first_end = INT64_MAX, first_end_here = INT64_MAX;
	enum dev_device_started rc = DEV_DEVICE_ALL_SLOTS_TAKEN;
	struct slot *free_slot = NULL;
	int here = 0;

	memset(out, 0, sizeof(*out));
	throttle_address_key(client_addr ? client_addr : unknown, address);
	pthread_mutex_lock(&g->lock);
	expire(g, now);
	for (size_t i = 0; i < DEV_DEVICE_SLOTS; i++) {
		struct slot *s = &g->slots[i];

		if (s->state == SLOT_FREE) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (s->expires_at < first_end)
			first_end = s->expires_at;
		if (memcmp(s->address, address, sizeof(address)) == 0) {
			here++;
			if (s->expires_at < first_end_here)
				first_end_here = s->expires_at;
		}
	}
	if (here >= DEV_DEVICE_SLOTS_PER_ADDRESS) {
		rc = DEV_DEVICE_ADDRESS_SLOTS_TAKEN;
		out->retry_in = seconds_until(first_end_here, now);
		goto out;
	}
	if (!free_slot) {
		out->retry_in = seconds_until(first_end, now);
		goto out;
	}
	/* a user code names one pending authorization: draw again on a clash */
	do {
		random_user_code(out->user_code);
	} while (by_user_code(g, out->user_code, now));
	random_secret(out->device_code);
	free_slot->state = SLOT_PENDING;
	hash_code(out->device_code, free_slot->code_hash);
	memcpy(free_slot->user_code, out->user_code, sizeof(out->user_code));
	random_secret(free_slot->csrf_token);
	str_copy(free_slot->client_id, sizeof(free_slot->client_id), client_id ? client_id : "");
	memcpy(free_slot->address, address, sizeof(address));
	free_slot->expires_at = now + (int64_t)DEV_DEVICE_LIFETIME_S * 1000;
	free_slot->interval = DEV_DEVICE_INTERVAL_S;
	out->expires_in = DEV_DEVICE_LIFETIME_S;
	out->interval = DEV_DEVICE_INTERVAL_S;
	rc = DEV_DEVICE_STARTED;
out:
	pthread_mutex_unlock(&g->lock);
	return rc;
}

bool dev_devices_find(struct dev_devices *g, const char *user_code, int64_t now,
                      struct dev_device_view *out)
{
	char canonical[DEV_DEVICE_USER_CODE_SIZE];
	struct slot *s;
	bool found = false;

	memset(out, 0, sizeof(*out));
	if (!dev_devices_normalize_user_code(user_code, canonical))
		return false;
	pthread_mutex_lock(&g->lock);
	s = by_user_code(g, canonical, now);
	if (s && s->state == SLOT_PENDING) {
		memcpy(out->user_code, s->user_code, sizeof(out->user_code));
		memcpy(out->client_id, s->client_id, sizeof(out->client_id));
		memcpy(out->csrf_token, s->csrf_token, sizeof(out->csrf_token));
		found = true;
	}
	pthread_mutex_unlock(&g->lock);
	return found;
}

enum dev_device_decision dev_devices_decide(struct dev_devices *g, const char *user_code,
                                            const char *csrf_token, char *jwt, int64_t jwt_exp,
                                            int64_t now)
{
	enum dev_device_decision r = DEV_DEVICE_NO_SUCH_CODE;
	char canonical[DEV_DEVICE_USER_CODE_SIZE];
	struct slot *s = NULL;

	pthread_mutex_lock(&g->lock);
	if (dev_devices_normalize_user_code(user_code, canonical))
		s = by_user_code(g, canonical, now);
	if (!s || s->state != SLOT_PENDING)
		goto out;
	if (strlen(csrf_token) != strlen(s->csrf_token) ||
	    sodium_memcmp(csrf_token, s->csrf_token, strlen(s->csrf_token)) != 0) {
		r = DEV_DEVICE_BAD_CSRF;
		goto out;
	}
	s->state = jwt ? SLOT_APPROVED : SLOT_DENIED;
	s->jwt = jwt;
	s->jwt_exp = jwt_exp;
	jwt = NULL;
	r = DEV_DEVICE_DECIDED;
out:
	pthread_mutex_unlock(&g->lock);
	if (jwt) {
		sodium_memzero(jwt, strlen(jwt));
		free(jwt);
	}
	return r;
}

enum dev_device_poll dev_devices_poll(struct dev_devices *g, const char *device_code, int64_t now,
                                      int64_t mono, char **jwt, long *expires_in)
{
	unsigned char hash[crypto_generichash_BYTES];
	enum dev_device_poll r = DEV_DEVICE_INVALID;
	struct slot *s = NULL;

	*jwt = NULL;
	*expires_in = 0;
	hash_code(device_code, hash);
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < DEV_DEVICE_SLOTS && !s; i++) {
		if (g->slots[i].state != SLOT_FREE &&
		    sodium_memcmp(g->slots[i].code_hash, hash, sizeof(hash)) == 0)
			s = &g->slots[i];
	}
	if (!s)
		goto out;
	if (s->expires_at <= now) {
		r = DEV_DEVICE_EXPIRED;
		slot_clear(s);
		goto out;
	}
	switch (s->state) {
	case SLOT_APPROVED:
		*jwt = s->jwt;
		s->jwt = NULL;
		*expires_in = (long)(s->jwt_exp - now / 1000);
		if (*expires_in < 1)
			*expires_in = 1;
		r = DEV_DEVICE_GRANTED;
		slot_clear(s);
		break;
	case SLOT_DENIED:
		r = DEV_DEVICE_DENIED;
		slot_clear(s);
		break;
	default:
		/* 50 ms of slack: a client that waits the interval from the answer is never slowed
		 */
		if (s->last_poll != 0 && mono - s->last_poll < (int64_t)s->interval * 1000 - 50) {
			s->interval += DEV_DEVICE_SLOW_DOWN_S;
			r = DEV_DEVICE_SLOW_DOWN;
		} else {
			r = DEV_DEVICE_PENDING;
		}
		s->last_poll = mono;
		break;
	}
out:
	pthread_mutex_unlock(&g->lock);
	return r;
}

const char *dev_devices_poll_error(enum dev_device_poll p)
{
	switch (p) {
	case DEV_DEVICE_PENDING:
		return "authorization_pending";
	case DEV_DEVICE_SLOW_DOWN:
		return "slow_down";
	case DEV_DEVICE_DENIED:
		return "access_denied";
	case DEV_DEVICE_EXPIRED:
		return "expired_token";
	case DEV_DEVICE_INVALID:
		return "invalid_grant";
	case DEV_DEVICE_GRANTED:
		break;
	}
	return NULL;
}

int dev_devices_describe(json_t *discovery, const char *issuer)
{
	size_t len = strlen(issuer);
	json_t *types;
	char *url;

	while (len > 0 && issuer[len - 1] == '/')
		len--;
	url = malloc(len + sizeof(DEV_DEVICE_CODE_PATH));
	if (!url)
		return -1;
	memcpy(url, issuer, len);
	memcpy(url + len, DEV_DEVICE_CODE_PATH, sizeof(DEV_DEVICE_CODE_PATH));
	if (json_object_set_new(discovery, "device_authorization_endpoint", json_string(url)) !=
	    0) {
		free(url);
		return -1;
	}
	free(url);
	types = json_object_get(discovery, "grant_types_supported");
	if (!types) {
		types = json_array();
		if (!types || json_object_set_new(discovery, "grant_types_supported", types) != 0)
			return -1;
	}
	return json_array_append_new(types, json_string(DEV_DEVICE_GRANT_TYPE));
}
