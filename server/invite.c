/*
 * invite.c - making an invite: checks, expiry, and what a conflict means.
 */
#include <string.h>

#include "invite.h"
#include "rules.h"
#include "util.h"

int invite_create(struct store *s, const char *account_id, const char *email, enum user_group group,
                  const char *invited_by, int64_t now, int days, struct store_invite *out,
                  enum store_status *st, char *why, size_t whylen)
{
	enum invite_conflict conflict;
	char email_why[RULE_WHY_SIZE];
	const char *problem;

	*st = STORE_OK;
	if ((problem = rule_email("email", email, email_why)) != NULL) {
		set_err(why, whylen, "%s", problem);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	uuid_v4_generate(out->id);
	str_copy(out->account_id, sizeof(out->account_id), account_id);
	str_copy(out->email, sizeof(out->email), email);
	str_copy(out->invited_by, sizeof(out->invited_by), invited_by ? invited_by : "");
	out->group = group;
	out->invited_at = now;
	out->expires_at = now + days * INVITE_DAY_MS;
	*st = store_invite_insert(s, out, now, &conflict);
	if (*st == STORE_OK)
		return 0;
	if (conflict == INVITE_CONFLICT_USER)
		set_err(why, whylen, "a user with the email %s already exists in the account",
		        email);
	else if (conflict == INVITE_CONFLICT_PENDING)
		set_err(why, whylen,
		        "an invite for %s is already pending; revoke it before inviting again",
		        email);
	else
		set_err(why, whylen, "the store refused the invite (%s)", store_status_name(*st));
	return -1;
}
