/*
 * expiry.c - the expiry warning (expiry.h).
 */
#include <stdlib.h>

#include "expiry.h"
#include "log.h"
#include "store.h"
#include "timeutil.h"
#include "webhook.h"

/* Tokens claimed per store call: a bounded allocation however many expire at once. */
#define CLAIM_BATCH 100

/*
 * The line of one token: its id, kind, account (and cluster), description and
 * expiresAt, in words and as fields of JSON lines; the store never gives a
 * secret, so none can reach the log.
 */
static void announce(const struct store_expiring_token *t)
{
	const char *kind = t->management ? "management" : "database";
	char expires[RFC3339_SIZE];
	const struct log_field f[] = {
	    LOG_TEXT("event", "token.expiring"),
	    LOG_TEXT("token_kind", kind),
	    LOG_TEXT("token_id", t->id),
	    LOG_TEXT("account", t->account_id),
	    LOG_TEXT("cluster", t->cluster_id[0] ? t->cluster_id : NULL),
	    LOG_TEXT("description", t->description),
	    LOG_TEXT("expires_at", expires),
	};

	time_format_rfc3339(t->expires_at, expires);
	log_event(LOGL_WARN, f, sizeof(f) / sizeof(f[0]),
	          "token expiring: %s token %s of account %s%s%s (\"%s\") expires at %s", kind,
	          t->id, t->account_id, t->cluster_id[0] ? " cluster " : "", t->cluster_id,
	          t->description, expires);
}

int64_t expiry_warn_pass(struct store *s, int64_t now_ms, int days)
{
	struct store_expiring_token *batch;
	enum store_status st;
	int64_t announced = 0;
	size_t n;

	if (days <= 0)
		return 0;
	do {
		bool began;

		/* the claim and the webhook's events commit together: announced once, sent once */
		n = 0;
		batch = NULL;
		st = store_tx_enter(s, &began);
		if (st == STORE_OK)
			st = store_tokens_expiry_claim(s, now_ms, now_ms + days * STORE_DAY_MS,
			                               CLAIM_BATCH, &batch, &n);
		for (size_t i = 0; st == STORE_OK && webhook_enabled() && i < n; i++) {
			struct store_outbox_event event;

			if (webhook_event_expiring(&batch[i], now_ms, &event))
				st = store_outbox_insert(s, &event);
		}
		if (began)
			st = store_tx_leave(s, began, st);
		for (size_t i = 0; st == STORE_OK && i < n; i++)
			announce(&batch[i]);
		free(batch);
		if (st == STORE_OK)
			announced += (int64_t)n;
	} while (st == STORE_OK && n == CLAIM_BATCH);
	if (st != STORE_OK) {
		log_error("expiry warning: cannot read the tokens about to expire: %s",
		          store_status_name(st));
		return -1;
	}
	return announced;
}
