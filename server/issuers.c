/*
 * issuers.c - trusted identity providers: key sets, their refresh, and JWT
 * verification through the verified-JWT cache.
 *
 * Locking: each issuer has one mutex guarding its current key set pointer and
 * its fetch state; it is held for pointer swaps and bookkeeping only, never
 * across a network call or a signature check. A fetch is owned by whoever
 * set `fetching`; others wanting one wait on `fetched` for it to end and use
 * its result. The refresher thread sleeps on its own condition variable
 * until the earliest issuer is due.
 */
#include "issuers.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetch.h"
#include "metrics.h"
#include "jwks.h"
#include "jwtcache.h"
#include "log.h"
#include "timeutil.h"

#define US_PER_S INT64_C(1000000)

enum key_source { SRC_FILE, SRC_URL, SRC_DISCOVERY, SRC_GIVEN };

/* An immutable key set shared by the requests that verify with it. */
struct keyset {
	atomic_uint refs;
	struct jwks *jwks;
	uint64_t generation; /* unique across issuers; names this content */
	unsigned char digest[crypto_generichash_BYTES];
};

struct issuer {
	unsigned index;
	char label[48];
	enum key_source source;
	char issuer[CONFIG_STR_SIZE];
	char identity[CONFIG_STR_SIZE]; /* what users record for it (identity.h) */
	bool trust_email;               /* [idp] trust_email */
	char audience[CONFIG_STR_SIZE];
	char location[PATH_MAX]; /* the file or URL; for discovery, the issuer */
	unsigned alg_mask;
	int leeway;
	const atomic_bool *cancel;

	pthread_mutex_t lock;
	pthread_cond_t fetched;
	struct keyset *keys;         /* under lock; NULL until the first load */
	_Atomic uint64_t generation; /* keys->generation, readable without the lock */
	bool fetching;               /* a fetch is under way */
	uint64_t fetch_seq;          /* counts finished fetches */
	int64_t last_miss_us;        /* monotonic start of the last fetch for an unknown kid */
	int64_t next_refresh_us;     /* monotonic time the refresher fetches again */
	int failures;                /* in a row */
	bool stale;
	int64_t last_good_ms;
	char error[256];
	char jwks_uri[CONFIG_STR_SIZE]; /* discovered; "" = discover again */
};

struct issuers {
	struct issuer *list;
	size_t count;
	struct jwtcache *cache;
	atomic_bool cancel;

	pthread_mutex_t wake_lock;
	pthread_cond_t wake; /* CLOCK_MONOTONIC */
	bool stopping;       /* under wake_lock */
	bool kicked;         /* under wake_lock: look at the due times again */
	bool thread_running;
	pthread_t thread;
};

static _Atomic uint64_t next_generation = 1;

long issuers_refresh_seconds(long max_age)
{
	if (max_age < 0)
		return ISSUERS_DEFAULT_AGE;
	if (max_age < ISSUERS_MIN_AGE)
		return ISSUERS_MIN_AGE;
	if (max_age > ISSUERS_MAX_AGE)
		return ISSUERS_MAX_AGE;
	return max_age;
}

/* ---- key sets ---- */

/* A digest of the usable keys, so that a refetch of the same keys changes nothing. */
static void set_digest(const struct jwks *set, unsigned char out[crypto_generichash_BYTES])
{
	crypto_generichash_state st;
	unsigned char type;

	crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES);
	for (size_t i = 0; i < set->count; i++) {
		const struct jwk *k = &set->keys[i];

		type = (unsigned char)k->type;
		/* each field with its terminating NUL, so fields cannot run together */
		crypto_generichash_update(&st, (const unsigned char *)k->kid, strlen(k->kid) + 1);
		crypto_generichash_update(&st, (const unsigned char *)k->alg, strlen(k->alg) + 1);
		crypto_generichash_update(&st, &type, 1);
		crypto_generichash_update(&st, (const unsigned char *)k->pem, k->pem_len);
	}
	crypto_generichash_final(&st, out, crypto_generichash_BYTES);
}

/* Takes ownership of set. NULL when out of memory (set is then freed). */
static struct keyset *keyset_new(struct jwks *set)
{
	struct keyset *ks = calloc(1, sizeof(*ks));

	if (!ks) {
		jwks_free(set);
		return NULL;
	}
	atomic_init(&ks->refs, 1);
	ks->jwks = set;
	ks->generation = atomic_fetch_add(&next_generation, 1);
	set_digest(set, ks->digest);
	return ks;
}

static void keyset_put(struct keyset *ks)
{
	if (ks && atomic_fetch_sub(&ks->refs, 1) == 1) {
		jwks_free(ks->jwks);
		free(ks);
	}
}

/* The issuer's current set with a reference the caller drops with keyset_put; or NULL. */
static struct keyset *keyset_get(struct issuer *iss)
{
	struct keyset *ks;

	pthread_mutex_lock(&iss->lock);
	ks = iss->keys;
	if (ks)
		atomic_fetch_add(&ks->refs, 1);
	pthread_mutex_unlock(&iss->lock);
	return ks;
}

/* ---- loading and fetching ---- */

static int64_t backoff_us(int failures)
{
	int64_t s = 1;

	for (int i = 1; i < failures && s < ISSUERS_MAX_BACKOFF; i++)
		s *= 2;
	return (s > ISSUERS_MAX_BACKOFF ? ISSUERS_MAX_BACKOFF : s) * US_PER_S;
}

/*
 * Makes set the issuer's keys (unless they are the same keys as now) and
 * records a success; max_age is the answer's (-1 for files). Takes set.
 */
static void install(struct issuer *iss, struct jwks *set, long max_age, const char *from)
{
	struct keyset *fresh = NULL, *old = NULL;
	unsigned char digest[crypto_generichash_BYTES];
	long keep = issuers_refresh_seconds(max_age);
	bool changed, recovered;
	size_t count = set->count;

	set_digest(set, digest);
	pthread_mutex_lock(&iss->lock);
	changed = !iss->keys || memcmp(iss->keys->digest, digest, sizeof(digest)) != 0;
	pthread_mutex_unlock(&iss->lock);
	if (changed) {
		fresh = keyset_new(set);
		if (!fresh) {
			log_error("identity provider %s %s: out of memory for its keys",
			          iss->issuer, iss->label);
			return;
		}
	} else {
		jwks_free(set);
	}

	pthread_mutex_lock(&iss->lock);
	if (fresh) {
		old = iss->keys;
		iss->keys = fresh;
		atomic_store(&iss->generation, fresh->generation);
	}
	recovered = iss->stale;
	iss->stale = false;
	iss->failures = 0;
	iss->error[0] = '\0';
	iss->last_good_ms = time_real_ms();
	iss->next_refresh_us = time_monotonic_us() + keep * US_PER_S;
	pthread_mutex_unlock(&iss->lock);
	keyset_put(old);

	if (changed)
		log_info("identity provider %s %s: %zu signing keys from %s%s", iss->issuer,
		         iss->label, count, from, old ? " (replacing the previous set)" : "");
	else if (recovered)
		log_info("identity provider %s %s: keys from %s are fresh again", iss->issuer,
		         iss->label, from);
	if (count == 0 && changed)
		log_warn("identity provider %s %s: %s holds no usable signing key; its JWTs are "
		         "refused",
		         iss->issuer, iss->label, from);
	if (iss->source == SRC_URL || iss->source == SRC_DISCOVERY)
		log_debug("identity provider %s: keys kept %ld s before the next fetch",
		          iss->issuer, keep);
}

/* Records a failed load or fetch: the last good set stays in use. */
static void failed(struct issuer *iss, const char *why)
{
	char retry[64];
	int64_t wait;
	bool had;

	pthread_mutex_lock(&iss->lock);
	iss->failures++;
	wait = backoff_us(iss->failures);
	iss->next_refresh_us = time_monotonic_us() + wait;
	had = iss->keys != NULL;
	iss->stale = had;
	snprintf(iss->error, sizeof(iss->error), "%s", why);
	pthread_mutex_unlock(&iss->lock);

	if (iss->source == SRC_FILE) /* files are only reread on SIGHUP */
		snprintf(retry, sizeof(retry), "fix the file and send SIGHUP");
	else
		snprintf(retry, sizeof(retry), "next attempt in %lld s",
		         (long long)(wait / US_PER_S));
	if (had)
		log_warn("identity provider %s %s: %s; keys are STALE: keeping the last good key "
		         "set; %s",
		         iss->issuer, iss->label, why, retry);
	else
		log_error("identity provider %s %s: %s; no keys yet, its JWTs are refused; %s",
		          iss->issuer, iss->label, why, retry);
}

static int load_file(struct issuer *iss)
{
	struct jwks *set = NULL;
	char err[512];

	if (jwks_load_file(iss->location, &set, err, sizeof(err)) != 0) {
		failed(iss, err);
		return -1;
	}
	install(iss, set, -1, iss->location);
	return 0;
}

/* The jwks_uri of a discovery issuer, into uri. */
static int discover(struct issuer *iss, char *uri, size_t urisize, char *err, size_t errlen)
{
	char url[CONFIG_STR_SIZE + 64];
	struct fetch_result res;
	json_error_t jerr;
	json_t *doc = NULL;
	const char *doc_issuer, *jwks_uri;
	size_t len = strlen(iss->issuer);
	int rc = -1;

	while (len > 0 && iss->issuer[len - 1] == '/')
		len--;
	snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration", (int)len, iss->issuer);
	if (fetch_get(url, iss->cancel, &res, err, errlen) != 0)
		return -1;
	doc = json_loadb(res.body, res.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "%.300s is not a JSON object", url);
		goto out;
	}
	doc_issuer = json_string_value(json_object_get(doc, "issuer"));
	jwks_uri = json_string_value(json_object_get(doc, "jwks_uri"));
	/* OpenID Connect Discovery 1.0, 4.3: they must be identical. */
	if (!doc_issuer || strcmp(doc_issuer, iss->issuer) != 0) {
		snprintf(
		    err, errlen,
		    "%.300s names another issuer (%.200s) than the configured one; check [idp] "
		    "issuer, trailing slash included",
		    url, doc_issuer ? doc_issuer : "none");
		goto out;
	}
	if (!jwks_uri || !config_url_allowed(jwks_uri) || strlen(jwks_uri) >= urisize) {
		snprintf(
		    err, errlen,
		    "%.300s: jwks_uri is missing, too long, or not an https:// URL (http:// only "
		    "to loopback)",
		    url);
		goto out;
	}
	memcpy(uri, jwks_uri, strlen(jwks_uri) + 1);
	rc = 0;
out:
	json_decref(doc);
	fetch_result_release(&res);
	return rc;
}

/* One fetch of a URL or discovery issuer's keys; the caller owns `fetching`. */
static void fetch_keys(struct issuer *iss)
{
	char url[CONFIG_STR_SIZE], err[1024];

	_Static_assert(sizeof(url) >= sizeof(((struct idp_config *)0)->jwks_url), "URL fits");
	struct fetch_result res = {0};
	struct jwks *set = NULL;

	if (iss->source == SRC_DISCOVERY) {
		pthread_mutex_lock(&iss->lock);
		memcpy(url, iss->jwks_uri, sizeof(url));
		pthread_mutex_unlock(&iss->lock);
		if (url[0] == '\0') {
			if (discover(iss, url, sizeof(url), err, sizeof(err)) != 0)
				goto fail;
			pthread_mutex_lock(&iss->lock);
			memcpy(iss->jwks_uri, url, sizeof(url));
			pthread_mutex_unlock(&iss->lock);
		}
	} else {
		snprintf(url, sizeof(url), "%.*s", (int)sizeof(url) - 1, iss->location);
	}
	if (fetch_get(url, iss->cancel, &res, err, sizeof(err)) != 0)
		goto fail;
	if (jwks_parse(res.body, res.len, &set, err, sizeof(err)) != 0)
		goto fail;
	install(iss, set, res.max_age, url);
	fetch_result_release(&res);
	metrics_jwks_fetch(1);
	return;
fail:
	fetch_result_release(&res);
	metrics_jwks_fetch(0);
	if (iss->source == SRC_DISCOVERY) {
		/* the IdP may have moved its keys: ask its discovery document again next time */
		pthread_mutex_lock(&iss->lock);
		iss->jwks_uri[0] = '\0';
		pthread_mutex_unlock(&iss->lock);
	}
	failed(iss, err);
}

enum fetch_reason { FETCH_DUE, FETCH_MISS, FETCH_RELOAD };

static void kick_refresher(struct issuers *reg)
{
	pthread_mutex_lock(&reg->wake_lock);
	reg->kicked = true;
	pthread_cond_signal(&reg->wake);
	pthread_mutex_unlock(&reg->wake_lock);
}

/*
 * Fetches the issuer's keys, or, when a fetch is already under way, waits
 * for it and takes its result. A miss (unknown kid) fetches at most once
 * per ISSUERS_MISS_INTERVAL. Returns true when a fetch ran, here or in
 * another thread, so that the caller may look at the keys again.
 */
static bool refresh(struct issuers *reg, struct issuer *iss, enum fetch_reason why)
{
	int64_t now = time_monotonic_us();

	if (iss->source != SRC_URL && iss->source != SRC_DISCOVERY)
		return false;
	pthread_mutex_lock(&iss->lock);
	if (iss->fetching) {
		uint64_t seq = iss->fetch_seq;

		while (iss->fetch_seq == seq)
			pthread_cond_wait(&iss->fetched, &iss->lock);
		pthread_mutex_unlock(&iss->lock);
		return true;
	}
	if (why == FETCH_MISS) {
		if (iss->last_miss_us != 0 &&
		    now - iss->last_miss_us < ISSUERS_MISS_INTERVAL * US_PER_S) {
			pthread_mutex_unlock(&iss->lock);
			return false;
		}
		iss->last_miss_us = now;
	}
	if (why == FETCH_RELOAD && iss->source == SRC_DISCOVERY)
		iss->jwks_uri[0] = '\0';
	iss->fetching = true;
	pthread_mutex_unlock(&iss->lock);

	fetch_keys(iss);

	pthread_mutex_lock(&iss->lock);
	iss->fetching = false;
	iss->fetch_seq++;
	pthread_cond_broadcast(&iss->fetched);
	pthread_mutex_unlock(&iss->lock);
	if (why != FETCH_DUE)
		kick_refresher(reg); /* the due time moved */
	return true;
}

/* ---- the refresher thread ---- */

static void *refresher_main(void *arg)
{
	struct issuers *reg = arg;

	pthread_mutex_lock(&reg->wake_lock);
	while (!reg->stopping) {
		int64_t now = time_monotonic_us(), earliest = now + 3600 * US_PER_S;
		struct issuer *due = NULL;
		struct timespec ts;

		for (size_t i = 0; i < reg->count && !due; i++) {
			struct issuer *iss = &reg->list[i];
			int64_t next;

			if (iss->source != SRC_URL && iss->source != SRC_DISCOVERY)
				continue;
			pthread_mutex_lock(&iss->lock);
			next = iss->next_refresh_us;
			pthread_mutex_unlock(&iss->lock);
			if (next <= now)
				due = iss;
			else if (next < earliest)
				earliest = next;
		}
		if (due) {
			pthread_mutex_unlock(&reg->wake_lock);
			refresh(reg, due, FETCH_DUE);
			pthread_mutex_lock(&reg->wake_lock);
			continue;
		}
		if (reg->kicked) {
			reg->kicked = false;
			continue;
		}
		ts.tv_sec = (time_t)(earliest / US_PER_S);
		ts.tv_nsec = (long)(earliest % US_PER_S) * 1000;
		pthread_cond_timedwait(&reg->wake, &reg->wake_lock, &ts);
		reg->kicked = false;
	}
	pthread_mutex_unlock(&reg->wake_lock);
	return NULL;
}

/* ---- life cycle ---- */

static int issuer_init(struct issuers *reg, struct issuer *iss, unsigned index, const char *label,
                       const char *issuer, const char *audience, const char *algorithms, int leeway,
                       char *err, size_t errlen)
{
	iss->index = index;
	iss->cancel = &reg->cancel;
	snprintf(iss->label, sizeof(iss->label), "%s", label);
	snprintf(iss->issuer, sizeof(iss->issuer), "%s", issuer);
	snprintf(iss->audience, sizeof(iss->audience), "%s", audience);
	iss->leeway = leeway;
	if (config_algorithm_mask(algorithms, &iss->alg_mask) != 0) {
		snprintf(err, errlen, "%s algorithms: not a valid allow-list", label);
		return -1;
	}
	if (pthread_mutex_init(&iss->lock, NULL) != 0) {
		snprintf(err, errlen, "%s: cannot create a lock", label);
		return -1;
	}
	if (pthread_cond_init(&iss->fetched, NULL) != 0) {
		pthread_mutex_destroy(&iss->lock);
		snprintf(err, errlen, "%s: cannot create a condition variable", label);
		return -1;
	}
	return 0;
}

static void issuer_release(struct issuer *iss)
{
	keyset_put(iss->keys);
	iss->keys = NULL;
	pthread_cond_destroy(&iss->fetched);
	pthread_mutex_destroy(&iss->lock);
}

int issuers_new(const struct config *cfg, const struct issuer_given *given, struct issuers **out,
                char *err, size_t errlen)
{
	const struct idp_config *idps[CONFIG_MAX_IDPS + 1];
	size_t n = config_idps(cfg, idps, CONFIG_MAX_IDPS + 1);
	struct issuers *reg;
	pthread_condattr_t attr;

	*out = NULL;
	reg = calloc(1, sizeof(*reg));
	if (!reg || !(reg->list = calloc(n + 1, sizeof(*reg->list))) ||
	    !(reg->cache = jwtcache_new(ISSUERS_JWT_CACHE))) {
		snprintf(err, errlen, "out of memory for the identity providers");
		goto fail_alloc;
	}
	atomic_init(&reg->cancel, false);
	if (pthread_condattr_init(&attr) != 0) {
		snprintf(err, errlen, "cannot create a condition variable");
		goto fail_alloc;
	}
	/* The refresher sleeps by the monotonic clock: a fake or stepped clock must not matter. */
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&reg->wake, &attr) != 0) {
		pthread_condattr_destroy(&attr);
		snprintf(err, errlen, "cannot create a condition variable");
		goto fail_alloc;
	}
	pthread_condattr_destroy(&attr);
	if (pthread_mutex_init(&reg->wake_lock, NULL) != 0) {
		pthread_cond_destroy(&reg->wake);
		snprintf(err, errlen, "cannot create a lock");
		goto fail_alloc;
	}

	for (size_t i = 0; i < n; i++) {
		const struct idp_config *idp = idps[i];
		struct issuer *iss = &reg->list[reg->count];
		char label[48];

		config_idp_label(idp, label, sizeof(label));
		if (issuer_init(reg, iss, (unsigned)reg->count, label, idp->issuer, idp->audience,
		                idp->algorithms, idp->leeway, err, errlen) != 0)
			goto fail;
		reg->count++;
		snprintf(iss->identity, sizeof(iss->identity), "%s", idp->issuer);
		iss->trust_email = idp->trust_email;
		if (idp->jwks_file[0]) {
			iss->source = SRC_FILE;
			snprintf(iss->location, sizeof(iss->location), "%s", idp->jwks_file);
			if (load_file(iss) != 0) {
				snprintf(err, errlen, "identity provider %s %s: %s", idp->issuer,
				         label, iss->error);
				goto fail;
			}
		} else if (idp->jwks_url[0]) {
			iss->source = SRC_URL;
			snprintf(iss->location, sizeof(iss->location), "%s", idp->jwks_url);
		} else {
			iss->source = SRC_DISCOVERY;
			snprintf(iss->location, sizeof(iss->location), "%s", idp->issuer);
		}
	}
	if (given) {
		struct issuer *iss = &reg->list[reg->count];
		struct jwks *set = NULL;

		for (size_t i = 0; i < reg->count; i++) {
			if (strcmp(reg->list[i].issuer, given->issuer) == 0) {
				snprintf(err, errlen,
				         "%s and %s both trust issuer %s; each issuer takes one "
				         "section",
				         reg->list[i].label, given->label, given->issuer);
				goto fail;
			}
		}
		if (issuer_init(reg, iss, (unsigned)reg->count, given->label, given->issuer,
		                given->audience, given->algorithms, 60, err, errlen) != 0)
			goto fail;
		reg->count++;
		snprintf(iss->identity, sizeof(iss->identity), "%s",
		         given->identity ? given->identity : given->issuer);
		iss->source = SRC_GIVEN;
		snprintf(iss->location, sizeof(iss->location), "%s", given->label);
		if (jwks_parse(given->jwks_json, given->jwks_len, &set, err, errlen) != 0)
			goto fail;
		install(iss, set, -1, given->label);
	}
	*out = reg;
	return 0;
fail:
	issuers_free(reg);
	return -1;
fail_alloc:
	if (reg) {
		jwtcache_free(reg->cache);
		free(reg->list);
	}
	free(reg);
	return -1;
}

int issuers_start(struct issuers *reg)
{
	bool fetched = false;
	int rc;

	for (size_t i = 0; i < reg->count; i++)
		fetched |= reg->list[i].source == SRC_URL || reg->list[i].source == SRC_DISCOVERY;
	if (!fetched)
		return 0; /* nothing to refresh: no thread */
	rc = pthread_create(&reg->thread, NULL, refresher_main, reg);
	if (rc != 0) {
		log_error("cannot start the key refresher thread: %s", strerror(rc));
		return -1;
	}
	reg->thread_running = true;
	return 0;
}

void issuers_cancel(struct issuers *reg)
{
	if (reg)
		atomic_store(&reg->cancel, true);
}

void issuers_free(struct issuers *reg)
{
	if (!reg)
		return;
	atomic_store(&reg->cancel, true);
	if (reg->thread_running) {
		pthread_mutex_lock(&reg->wake_lock);
		reg->stopping = true;
		pthread_cond_signal(&reg->wake);
		pthread_mutex_unlock(&reg->wake_lock);
		pthread_join(reg->thread, NULL);
	}
	for (size_t i = 0; i < reg->count; i++)
		issuer_release(&reg->list[i]);
	pthread_cond_destroy(&reg->wake);
	pthread_mutex_destroy(&reg->wake_lock);
	jwtcache_free(reg->cache);
	free(reg->list);
	free(reg);
}

size_t issuers_count(const struct issuers *reg)
{
	return reg ? reg->count : 0;
}

void issuers_reload(struct issuers *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->count; i++) {
		struct issuer *iss = &reg->list[i];

		switch (iss->source) {
		case SRC_FILE:
			(void)load_file(iss);
			break;
		case SRC_URL:
		case SRC_DISCOVERY:
			refresh(reg, iss, FETCH_RELOAD);
			break;
		case SRC_GIVEN:
			break;
		}
	}
}

/* ---- verification ---- */

static struct issuer *find(struct issuers *reg, const char *issuer)
{
	for (size_t i = 0; i < reg->count; i++)
		if (strcmp(reg->list[i].issuer, issuer) == 0)
			return &reg->list[i];
	return NULL;
}

/* Fills by (when asked) with what users know of iss. */
static void refer(const struct issuer *iss, struct issuer_ref *by)
{
	if (by) {
		by->identity = iss->identity;
		by->trust_email = iss->trust_email;
	}
}

/* The cache's entry for the token of key, when it is still good (issuers_verify_cached). */
static bool cached(struct issuers *reg, const unsigned char key[JWTCACHE_KEY_LEN], int64_t now,
                   struct idtoken_claims *out, struct issuer_ref *by)
{
	struct jwtcache_entry hit;

	if (!jwtcache_get(reg->cache, key, now, &hit) || hit.issuer >= reg->count ||
	    hit.generation != atomic_load(&reg->list[hit.issuer].generation))
		return false;
	*out = hit.claims;
	refer(&reg->list[hit.issuer], by);
	return true;
}

bool issuers_verify_cached(struct issuers *reg, const char *jwt, int64_t now,
                           struct idtoken_claims *out, struct issuer_ref *by)
{
	unsigned char key[JWTCACHE_KEY_LEN];

	memset(out, 0, sizeof(*out));
	if (by)
		memset(by, 0, sizeof(*by));
	if (!reg || !jwt || strnlen(jwt, IDTOKEN_MAX_LEN + 1) > IDTOKEN_MAX_LEN)
		return false;
	jwtcache_key(jwt, key);
	return cached(reg, key, now, out, by);
}

enum idtoken_result issuers_verify(struct issuers *reg, const char *jwt, int64_t now,
                                   struct idtoken_claims *out, struct issuer_ref *by)
{
	unsigned char key[JWTCACHE_KEY_LEN];
	char name[CONFIG_STR_SIZE];
	struct issuer *iss;
	enum idtoken_result r;
	uint64_t generation = 0;

	memset(out, 0, sizeof(*out));
	if (by)
		memset(by, 0, sizeof(*by));
	if (!reg || !jwt || strnlen(jwt, IDTOKEN_MAX_LEN + 1) > IDTOKEN_MAX_LEN)
		return IDTOKEN_MALFORMED;

	/* only verified JWTs are cached: a hit needs no second look at the token's shape */
	jwtcache_key(jwt, key);
	if (cached(reg, key, now, out, by))
		return IDTOKEN_OK;
	if (!idtoken_looks_like_jwt(jwt))
		return IDTOKEN_MALFORMED;

	r = idtoken_peek_issuer(jwt, name, sizeof(name));
	if (r != IDTOKEN_OK)
		return r;
	iss = find(reg, name);
	if (!iss)
		return IDTOKEN_BAD_ISSUER;

	for (int attempt = 0;; attempt++) {
		struct keyset *ks = keyset_get(iss);

		if (ks) {
			struct idtoken_verifier v = {
			    .keys = ks->jwks,
			    .issuer = iss->issuer,
			    .audience = iss->audience,
			    .alg_mask = iss->alg_mask,
			    .leeway = iss->leeway,
			};

			r = idtoken_verify(&v, jwt, now, out);
			generation = ks->generation;
			keyset_put(ks);
		} else {
			r = IDTOKEN_KEYS_NOT_LOADED;
		}
		/* An unknown kid may be a key the IdP rotated in: look once more. */
		if (attempt == 0 &&
		    (r == IDTOKEN_UNKNOWN_KEY || r == IDTOKEN_NO_KEYS ||
		     r == IDTOKEN_KEYS_NOT_LOADED) &&
		    refresh(reg, iss, FETCH_MISS))
			continue;
		break;
	}
	if (r == IDTOKEN_OK) {
		struct jwtcache_entry e = {
		    .issuer = iss->index,
		    .generation = generation,
		    .valid_from =
		        out->not_before == INT64_MIN ? INT64_MIN : out->not_before - iss->leeway,
		    .valid_until = out->exp,
		    .claims = *out,
		};

		jwtcache_put(reg->cache, key, &e, now);
		refer(iss, by);
	}
	return r;
}

size_t issuers_health(struct issuers *reg, struct issuer_health *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; reg && i < reg->count && n < max; i++, n++) {
		struct issuer *iss = &reg->list[i];
		struct issuer_health *h = &out[n];

		memset(h, 0, sizeof(*h));
		snprintf(h->label, sizeof(h->label), "%s", iss->label);
		snprintf(h->issuer, sizeof(h->issuer), "%s", iss->issuer);
		pthread_mutex_lock(&iss->lock);
		h->loaded = iss->keys != NULL;
		h->stale = iss->stale;
		h->last_good_ms = iss->last_good_ms;
		snprintf(h->error, sizeof(h->error), "%s", iss->error);
		pthread_mutex_unlock(&iss->lock);
	}
	return n;
}
