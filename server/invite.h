/*
 * invite.h - making an invite (CONTRACT 5), shared by the API, the offline
 * CLI and the seed: the checks, the expiry and the store's conflicts in one
 * place, so that the three cannot disagree.
 */
#ifndef MGMTD_INVITE_H
#define MGMTD_INVITE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define INVITE_DAY_MS (86400 * (int64_t)1000)

/*
 * Invites email into account_id as group at time now, pending for days
 * days; invited_by is the inviting user's or token's id ("" offline).
 * Checks the email first (why gets the problem, st is then STORE_OK and
 * the answer is -1). On a store failure returns -1 with *st set and why
 * saying, for a conflict, what is in the way. On success fills out and
 * returns 0.
 */
int invite_create(struct store *s, const char *account_id, const char *email, enum user_group group,
                  const char *invited_by, int64_t now, int days, struct store_invite *out,
                  enum store_status *st, char *why, size_t whylen);

#endif
