/*
 * authcode.c - a small table of authorization codes behind one mutex.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "authcode.h"

struct slot {
	bool used;
	unsigned char hash[crypto_generichash_BYTES];
	int64_t issued_ms;
	struct authcode_grant grant;
};

struct authcodes {
	pthread_mutex_t lock;
	struct slot slots[AUTHCODE_CAPACITY];
};

struct authcodes *authcodes_new(void)
{
	struct authcodes *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void authcodes_free(struct authcodes *codes)
{
	if (codes == NULL)
		return;
	pthread_mutex_destroy(&codes->lock);
	sodium_memzero(codes, sizeof(*codes));
	free(codes);
}

static void hash_code(const char *code, unsigned char out[crypto_generichash_BYTES])
{
	crypto_generichash(out, crypto_generichash_BYTES, (const unsigned char *)code, strlen(code),
	                   NULL, 0);
}

void authcodes_issue(struct authcodes *codes, const struct authcode_grant *g, int64_t now_ms,
                     char code[AUTHCODE_SIZE])
{
	unsigned char raw[32];
	struct slot *pick = NULL;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(code, AUTHCODE_SIZE, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	pthread_mutex_lock(&codes->lock);
	/* A free or expired slot, else the oldest one: its code dies early. */
	for (size_t i = 0; i < AUTHCODE_CAPACITY; i++) {
		struct slot *s = &codes->slots[i];

		if (!s->used || now_ms - s->issued_ms >= AUTHCODE_TTL_MS) {
			pick = s;
			break;
		}
		if (pick == NULL || s->issued_ms < pick->issued_ms)
			pick = s;
	}
	pick->used = true;
	pick->issued_ms = now_ms;
	pick->grant = *g;
	hash_code(code, pick->hash);
	pthread_mutex_unlock(&codes->lock);
}

bool authcodes_take(struct authcodes *codes, const char *code, int64_t now_ms,
                    struct authcode_grant *out)
{
	unsigned char hash[crypto_generichash_BYTES];
	bool found = false;

	if (strlen(code) != AUTHCODE_SIZE - 1)
		return false;
	hash_code(code, hash);
	pthread_mutex_lock(&codes->lock);
	for (size_t i = 0; i < AUTHCODE_CAPACITY; i++) {
		struct slot *s = &codes->slots[i];

		if (!s->used || sodium_memcmp(s->hash, hash, sizeof(hash)) != 0)
			continue;
		found = now_ms - s->issued_ms < AUTHCODE_TTL_MS && now_ms >= s->issued_ms;
		if (found)
			*out = s->grant;
		sodium_memzero(s, sizeof(*s));
		break;
	}
	pthread_mutex_unlock(&codes->lock);
	return found;
}

bool authcode_pkce_well_formed(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || c == '~'))
			return false;
		if (n >= AUTHCODE_PKCE_MAX)
			return false;
	}
	return n >= AUTHCODE_PKCE_MIN;
}

bool authcode_pkce_matches(const char *verifier, const char *challenge)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char expect[AUTHCODE_SIZE];

	crypto_hash_sha256(digest, (const unsigned char *)verifier, strlen(verifier));
	sodium_bin2base64(expect, sizeof(expect), digest, sizeof(digest),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return strlen(challenge) == strlen(expect) &&
	       sodium_memcmp(expect, challenge, strlen(expect)) == 0;
}
