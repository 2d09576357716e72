/*
 * webhook.h - events about tokens POSTed to a receiver ([webhook] url), signed, retried,
 * never lost and never holding a secret.
 *
 * An event is written to the store's outbox (store.h) in the transaction of the change
 * it tells of: audit.c asks webhook_event_from_audit for every audit row it writes, so
 * a change that rolls back sends nothing and one that commits cannot be forgotten, by a
 * crash either. The sender (one thread per server; on PostgreSQL the replicas share the
 * outbox and claim its rows apart) looks for due events twice a second and POSTs each
 * with
 *
 *   Content-Type: application/json
 *   X-Mgmtd-Event: token.revoked
 *   X-Mgmtd-Delivery: <the event's id>
 *   X-Mgmtd-Signature: sha256=<hex HMAC-SHA256 of the body under [webhook] secret_file>
 *
 * A 2xx answer delivers it (the row goes); anything else, or no answer, tries again
 * after 1 s, 2 s, 4 s, ... at most an hour apart, for as long as it takes, across
 * restarts. Delivery is at least once: a receiver dedupes by the event's id.
 */
#ifndef MGMTD_WEBHOOK_H
#define MGMTD_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Whether events are written at all (a [webhook] url is set); set once at start. */
void webhook_set_enabled(bool enabled);
bool webhook_enabled(void);

/*
 * The event an audit row tells of, if it is one the webhook sends ("token.revoked",
 * "token.rotated", ...; docs/operations.md lists them), in *out; false when it is not.
 * Pure but for the event's random id.
 */
bool webhook_event_from_audit(const struct store_audit_event *row, struct store_outbox_event *out);

/* The "token.expiring" event of a token the expiry warning claimed (expiry.h), at now. */
bool webhook_event_expiring(const struct store_expiring_token *t, int64_t now,
                            struct store_outbox_event *out);

/* The delay before attempt number attempts + 1 (ms): 1 s, doubled each time, at most 1 h. */
int64_t webhook_backoff_ms(int64_t attempts);

/* "sha256=" and the hex HMAC-SHA256 of body under key: out holds 7 + 64 + 1 bytes. */
#define WEBHOOK_SIGNATURE_SIZE 72
void webhook_sign(const unsigned char *key, size_t keylen, const char *body, size_t len,
                  char out[WEBHOOK_SIGNATURE_SIZE]);

struct webhook;
struct store_pool;

/*
 * Starts the sender: url, the secret (copied; wiped when it stops), a POST's time
 * limit, the store pool it borrows connections from. NULL with err set when the
 * thread cannot start.
 */
struct webhook *webhook_start(const char *url, const unsigned char *secret, size_t secret_len,
                              int timeout_ms, struct store_pool *pool, char *err, size_t errlen);

/* Stops the sender (a POST under way ends within its time limit) and frees w. */
void webhook_stop(struct webhook *w);

/*
 * The secret of [webhook] secret_file: its bytes, one trailing newline taken off.
 * 0, or -1 with err set (unreadable, empty, over 1 KiB). Wipe *secret after use.
 */
int webhook_read_secret(const char *path, unsigned char secret[1024], size_t *len, char *err,
                        size_t errlen);

#endif
