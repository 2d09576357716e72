/*
 * tenants.h - the seeds of the test harness's tenants ([testing]), kept so that
 * POST /_test/tenants/{accountId}/reset can put one tenant back as it was made.
 *
 * Each seed holds the tenant's secrets: copies are wiped when they go. Safe from
 * any thread.
 */
#ifndef MGMTD_TENANTS_H
#define MGMTD_TENANTS_H

#include <stddef.h>

struct tenants;

/* An empty registry; NULL when out of memory. */
struct tenants *tenants_new(void);
void tenants_free(struct tenants *t);

/* Keeps a copy of the seed text of the tenant account_id. -1 when out of memory. */
int tenants_put(struct tenants *t, const char *account_id, const char *text, size_t len);

/*
 * A copy of the tenant's seed text (the caller wipes and frees it with
 * tenants_text_free), or NULL when none is kept (or out of memory: *len is then 1).
 */
char *tenants_get(struct tenants *t, const char *account_id, size_t *len);
void tenants_text_free(char *text, size_t len);

/*
 * Copies into dst the seeds src keeps: every one, or account_id's alone (when not
 * NULL; none is fine). Seeds dst holds for the same accounts are replaced. -1 when
 * out of memory (dst may then hold some of them).
 */
int tenants_copy(struct tenants *dst, struct tenants *src, const char *account_id);

/* Forgets one tenant, or all of them. */
void tenants_forget(struct tenants *t, const char *account_id);
void tenants_forget_all(struct tenants *t);

#endif
