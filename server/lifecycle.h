/*
 * lifecycle.h - what the credential checks share about a token's lifecycle
 * (rotation with a grace window, suspension; docs/tokens.md "Lifecycle"):
 * the rotation grace's bounds, and the throttle of the audit rows that name
 * a token whose previous secret is still used after its grace.
 */
#ifndef MGMTD_LIFECYCLE_H
#define MGMTD_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

/* The grace of a rotation when the body names none, and the longest one, in seconds. */
#define LIFECYCLE_GRACE_DEFAULT_S 3600
#define LIFECYCLE_GRACE_MAX_S     (7 * 24 * 3600)

/* Uses of a previous secret are recorded at most this often per token (as lastUsedAt). */
#define LIFECYCLE_PREVIOUS_USE_INTERVAL_MS 60000
/* A token's "used after rotation" audit row is written at most this often. */
#define LIFECYCLE_LATE_USE_AUDIT_INTERVAL_MS 60000

/*
 * Whether a use of token_id's previous secret after its grace, at time now,
 * is to get an audit row: true at most once per LIFECYCLE_LATE_USE_AUDIT_INTERVAL_MS
 * per token in this process, so that a client (or an attacker) repeating a
 * dead secret cannot fill the audit trail. Thread-safe. A table of fixed
 * size: tokens that share a slot may each get a row sooner, never none.
 */
bool lifecycle_late_use_audit_due(const char *token_id, int64_t now);

#endif
