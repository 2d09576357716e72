/*
 * webhook.c - the webhook's events, their signature and the sender (webhook.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "fetch.h"
#include "log.h"
#include "timeutil.h"
#include "util.h"
#include "webhook.h"

#define POLL_MS        500
#define CLAIM_MAX      16
#define BACKOFF_MAX_MS (3600 * 1000LL)
#define SECRET_MAX     1024

static atomic_bool enabled;

void webhook_set_enabled(bool on)
{
	atomic_store(&enabled, on);
}

bool webhook_enabled(void)
{
	return atomic_load(&enabled);
}

/* ---- events ---- */

/*
 * Audit actions ("management_token.revoke") to event types, by the action's verb;
 * success: whether only a change that was made counts (a refusal tells of nothing).
 */
static const struct {
	const char *verb, *type;
	bool success;
} kinds[] = {
    {"revoke", "token.revoked", true},
    {"rotate", "token.rotated", true},
    {"suspend", "token.suspended", true},
    {"resume", "token.resumed", true},
    {"used_after_rotation", "token.used_after_rotation", false},
};

/*
 * The event of type about token_id (a management token when management) of account_id,
 * at the instant at, made by actor (type and id; "" for none), with the token's expiresAt
 * when expires_at is not 0. False (logged) when it does not fit.
 */
static bool make_event(const char *type, const char *account_id, bool management,
                       const char *token_id, const char *actor_type, const char *actor_id,
                       int64_t at, int64_t expires_at, struct store_outbox_event *out)
{
	char when[RFC3339_SIZE], expires[RFC3339_SIZE];
	json_t *body;
	char *text;

	memset(out, 0, sizeof(*out));
	uuid_v4_generate(out->id);
	str_copy(out->account_id, sizeof(out->account_id), account_id);
	str_copy(out->type, sizeof(out->type), type);
	out->created_at = at;
	out->next_attempt_at = at;
	time_format_rfc3339(at, when);
	time_format_rfc3339(expires_at, expires);
	/* what comes here never holds a secret (store.h): neither does the event */
	body = json_pack("{s:s,s:s,s:s,s:s*,s:{s:s,s:s,s:s*},s:{s:s,s:s*}}", "id", out->id, "type",
	                 type, "occurredAt", when, "accountId", account_id[0] ? account_id : NULL,
	                 "token", "kind", management ? "managementToken" : "databaseToken", "id",
	                 token_id, "expiresAt", expires_at ? expires : NULL, "actor", "type",
	                 actor_type, "id", actor_id[0] ? actor_id : NULL);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (text == NULL || !str_copy(out->body, sizeof(out->body), text)) {
		free(text);
		log_error("webhook: cannot write the %s event of %s", type, token_id);
		return false;
	}
	free(text);
	return true;
}

bool webhook_event_from_audit(const struct store_audit_event *row, struct store_outbox_event *out)
{
	const char *dot = strchr(row->action, '.'), *type = NULL;
	bool management;

	if (dot == NULL)
		return false;
	if (strncmp(row->action, "management_token.", (size_t)(dot - row->action) + 1) == 0)
		management = true;
	else if (strncmp(row->action, "database_token.", (size_t)(dot - row->action) + 1) == 0)
		management = false;
	else
		return false;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(dot + 1, kinds[i].verb) == 0 &&
		    (!kinds[i].success || strcmp(row->outcome, "success") == 0))
			type = kinds[i].type;
	return type != NULL && make_event(type, row->account_id, management, row->object_id,
	                                  row->actor_type, row->actor_id, row->at, 0, out);
}

bool webhook_event_expiring(const struct store_expiring_token *t, int64_t now,
                            struct store_outbox_event *out)
{
	return make_event("token.expiring", t->account_id, t->management, t->id, "mgmtd", "", now,
	                  t->expires_at, out);
}

int64_t webhook_backoff_ms(int64_t attempts)
{
	int64_t ms = 1000;

	for (int64_t i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

void webhook_sign(const unsigned char *key, size_t keylen, const char *body, size_t len,
                  char out[WEBHOOK_SIGNATURE_SIZE])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, WEBHOOK_SIGNATURE_SIZE - 7, mac, sizeof(mac));
}

int webhook_read_secret(const char *path, unsigned char secret[SECRET_MAX], size_t *len, char *err,
                        size_t errlen)
{
	unsigned char buf[SECRET_MAX + 1];
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "[webhook] secret_file %s: %s", path, strerror(errno));
		return -1;
	}
	while (got < sizeof(buf) && (n = read(fd, buf + got, sizeof(buf) - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "[webhook] secret_file %s: %s", path,
			         strerror(errno));
			close(fd);
			sodium_memzero(buf, sizeof(buf));
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	if (got > 0 && buf[got - 1] == '\n')
		got--;
	if (got > 0 && buf[got - 1] == '\r')
		got--;
	if (got == 0 || got > SECRET_MAX) {
		snprintf(err, errlen, "[webhook] secret_file %s: %s", path,
		         got == 0 ? "empty: the signature needs a secret"
		                  : "longer than 1024 bytes");
		sodium_memzero(buf, sizeof(buf));
		return -1;
	}
	memcpy(secret, buf, got);
	*len = got;
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

/* ---- the sender ---- */

struct webhook {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	atomic_bool stop;
	char *url;
	unsigned char secret[SECRET_MAX];
	size_t secret_len;
	int timeout_ms;
	struct store_pool *pool;
};

/* Sends one event; true when the receiver took it, else why in err. */
static bool send_event(struct webhook *w, const struct store_outbox_event *e, char *err,
                       size_t errlen)
{
	char signature[WEBHOOK_SIGNATURE_SIZE];
	char h_event[80], h_delivery[64], h_signature[100];
	const char *headers[] = {h_event, h_delivery, h_signature, NULL};
	size_t len = strlen(e->body);
	long status;

	webhook_sign(w->secret, w->secret_len, e->body, len, signature);
	snprintf(h_event, sizeof(h_event), "X-Mgmtd-Event: %s", e->type);
	snprintf(h_delivery, sizeof(h_delivery), "X-Mgmtd-Delivery: %s", e->id);
	snprintf(h_signature, sizeof(h_signature), "X-Mgmtd-Signature: %s", signature);
	status = fetch_post(w->url, headers, e->body, len, w->timeout_ms, &w->stop, err, errlen);
	if (status >= 200 && status < 300)
		return true;
	if (status > 0)
		snprintf(err, errlen, "the receiver answered HTTP %ld", status);
	return false;
}

/* What became of a send, told to the store; a store that fails leaves the lease to end. */
static void settle(struct webhook *w, const struct store_outbox_event *e, bool sent,
                   const char *why)
{
	struct store *s = store_pool_get(w->pool);
	enum store_status st;
	int64_t attempts = e->attempts + 1, delay = webhook_backoff_ms(attempts);

	if (s == NULL) {
		log_error("webhook: the store cannot be reached to record event %s", e->id);
		return;
	}
	if (sent) {
		st = store_outbox_delivered(s, e->id);
		log_info("webhook: %s event %s delivered", e->type, e->id);
	} else {
		st = store_outbox_retry(s, e->id, attempts, time_now_ms() + delay, why);
		log_warn("webhook: %s event %s not delivered (attempt %lld): %s; next in %lld s",
		         e->type, e->id, (long long)attempts, why, (long long)(delay / 1000));
	}
	if (st != STORE_OK && st != STORE_NOT_FOUND)
		log_error("webhook: cannot record event %s (%s): it may be sent again", e->id,
		          store_status_name(st));
	store_pool_put(w->pool, s);
}

/* Sends what is due; false when there was nothing (or the store failed). */
static bool send_due(struct webhook *w)
{
	struct store_outbox_event *events = NULL;
	struct store *s = store_pool_get(w->pool);
	enum store_status st;
	int64_t now = time_now_ms();
	size_t n = 0;

	if (s == NULL)
		return false;
	/* the lease outlasts the sends of the whole claim: nobody else takes them meanwhile */
	st = store_outbox_claim(s, now, now + (int64_t)CLAIM_MAX * w->timeout_ms + 60000, CLAIM_MAX,
	                        &events, &n);
	store_pool_put(w->pool, s);
	if (st != STORE_OK) {
		log_error("webhook: cannot read the outbox (%s)", store_status_name(st));
		return false;
	}
	for (size_t i = 0; i < n && !atomic_load(&w->stop); i++) {
		char why[STORE_OUTBOX_ERROR_SIZE] = "";
		bool sent = send_event(w, &events[i], why, sizeof(why));

		settle(w, &events[i], sent, why);
	}
	free(events);
	return n == CLAIM_MAX;
}

static void *sender_main(void *arg)
{
	struct webhook *w = arg;

	while (!atomic_load(&w->stop)) {
		struct timespec until;

		if (send_due(w))
			continue; /* more may be due at once */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += POLL_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&w->lock);
		if (!atomic_load(&w->stop))
			pthread_cond_timedwait(&w->wake, &w->lock, &until);
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

struct webhook *webhook_start(const char *url, const unsigned char *secret, size_t secret_len,
                              int timeout_ms, struct store_pool *pool, char *err, size_t errlen)
{
	struct webhook *w = calloc(1, sizeof(*w));

	if (w == NULL || secret_len > SECRET_MAX || (w->url = strdup(url)) == NULL) {
		snprintf(err, errlen, "webhook: out of memory");
		goto fail;
	}
	memcpy(w->secret, secret, secret_len);
	w->secret_len = secret_len;
	w->timeout_ms = timeout_ms;
	w->pool = pool;
	if (pthread_mutex_init(&w->lock, NULL) != 0 || pthread_cond_init(&w->wake, NULL) != 0 ||
	    pthread_create(&w->thread, NULL, sender_main, w) != 0) {
		snprintf(err, errlen, "webhook: cannot start the sender thread");
		goto fail;
	}
	return w;
fail:
	if (w) {
		sodium_memzero(w->secret, sizeof(w->secret));
		free(w->url);
	}
	free(w);
	return NULL;
}

void webhook_stop(struct webhook *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->stop, true);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	sodium_memzero(w->secret, sizeof(w->secret));
	free(w->url);
	free(w);
}
