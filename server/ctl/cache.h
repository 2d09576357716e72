/*
 * cache.h - signed-in tokens kept between runs, as influxctl keeps its own
 * under ~/.cache/influxctl/.
 *
 * The directory is $XDG_CACHE_HOME/mgmtctl or ~/.cache/mgmtctl, mode 0700
 * (made so when it is wider); each file is mode 0600, written whole to a
 * temporary file and renamed into place. One file per identity provider and
 * client (a hash of the token endpoint, or of mgmtd's URL when the endpoints
 * come from discovery, with the client id, scopes and parameters), holding
 * the token and when it stops being used: never later than the JWT's own
 * "exp", nor than the lifetime the identity provider gave it. A file that is
 * not private to the user is ignored.
 */
#ifndef MGMTCTL_CACHE_H
#define MGMTCTL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* A cached token this close to its end is not used: a command must have time to run. */
#define CACHE_MARGIN_MS 10000

struct cache_entry {
	char *access_token; /* a secret */
	char *token_type;
	int64_t expiry_ms;
};

/* malloc'ed, NULL when out of memory. */
char *cache_dir(void);
char *cache_file_for(const struct ctl_settings *s);

/*
 * Loads path. Returns 0 with *e filled when it holds a token good past
 * now + CACHE_MARGIN_MS; 1 when there is none usable (absent, expired,
 * unreadable, not private: *why says which when not absent; *expired is true
 * when it was there but is past its end).
 */
int cache_load(const char *path, int64_t now_ms, struct cache_entry *e, char *why, size_t whylen,
               bool *expired);

/* Writes e to path (directory made first). 0, or -1 with a sentence in err. */
int cache_store(const char *path, const struct cache_entry *e, char *err, size_t errlen);

/* 0 removed, 1 there was none, -1 with errno set. */
int cache_remove(const char *path);

/* Removes every cached token; *removed counts them. 0, or -1 with err. */
int cache_remove_all(size_t *removed, char *err, size_t errlen);

/*
 * When a token just received stops being used: now + expires_in (seconds; <=
 * 0 = not said), but never past the "exp" of a JWT; an hour when neither
 * says, as influxctl's logins last.
 */
int64_t cache_expiry(const char *access_token, long expires_in, int64_t now_ms);

/* The JWT's claim as a string (e.g. "email"), malloc'ed; NULL when absent or not a JWT. */
char *cache_jwt_claim(const char *access_token, const char *claim);

void cache_entry_release(struct cache_entry *e);

#endif
