/*
 * expiry.h - the warning that a token is about to expire ([tokens]
 * expiry_warning_days): one WARN line per token, of either kind, as it comes
 * within that many days of its expiresAt.
 *
 * Once per token for good: the store records the warning in the same
 * statement that picks the token (store_tokens_expiry_claim), so a restart
 * does not repeat it and of several PostgreSQL replicas only one logs it; the
 * webhook's "token.expiring" event (webhook.h) commits with that claim.
 * Run from the maintenance pass (maintenance.h), on its clock: a fake clock
 * moved by the test harness moves the window too. A token already within the
 * window when it is made, or when the window is widened, is announced at the
 * next pass; one that expires between two passes unannounced is not (it is
 * then expired, which lists and metrics show).
 */
#ifndef MGMTD_EXPIRY_H
#define MGMTD_EXPIRY_H

#include <stdint.h>

struct store;

/*
 * Announces every token of store s entering the window [now, now + days]
 * and not announced yet. days 0 does nothing. Returns how many it announced,
 * or -1 when the store failed (logged; what was claimed is still announced).
 */
int64_t expiry_warn_pass(struct store *s, int64_t now_ms, int days);

#endif
