/*
 * views.h - the JSON shape of each stored object, shared by the REST
 * handlers and the offline CLI so that both print the same fields.
 * Every function returns a new reference (caller json_decref's) or NULL when
 * out of memory. Fields that do not apply are left out, never null.
 */
#ifndef MGMTD_VIEWS_H
#define MGMTD_VIEWS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "jsontext.h"
#include "store.h"

/* "active", "expired" or "revoked" at time now; or "suspended" (an mgmtd extension). */
const char *mgmt_token_status(const struct store_mgmt_token *t, int64_t now);

json_t *view_mgmt_token(const struct store_mgmt_token *t, int64_t now);
json_t *view_user(const struct store_user *u);
json_t *view_cluster(const struct store_cluster *c);

/* Database; with_id adds "id" (DatabaseWithId). */
json_t *view_database(const struct store_database *d, bool with_id);
/* Table of database db; with_id adds "id" (TableWithId). */
json_t *view_table(const struct store_table *t, const struct store_database *db, bool with_id);
/* DatabaseToken, without the secret. */
json_t *view_db_token(const struct store_db_token *t, int64_t now);

/*
 * The same objects written as text into w (jsontext.h), the same bytes as
 * json_dumps(view_..., JSON_COMPACT): for lists, which need no tree.
 */
void view_mgmt_token_text(struct jsontext *w, const struct store_mgmt_token *t, int64_t now);
void view_db_token_text(struct jsontext *w, const struct store_db_token *t, int64_t now);
/* False when the stored partition template is not JSON (a damaged row). */
bool view_database_text(struct jsontext *w, const struct store_database *d, bool with_id);

/* "pending", "accepted", "expired" or "revoked" at time now. */
const char *invite_status(const struct store_invite *i, int64_t now);
/* Invite (CONTRACT 5) at time now. */
json_t *view_invite(const struct store_invite *i, int64_t now);
/* One event of the audit trail (GET .../audit, mgmtd audit list). */
json_t *view_audit_event(const struct store_audit_event *e);

/*
 * Appends item (a new reference, or NULL when building it failed) to *list,
 * taking ownership of it. On any failure frees *list and sets it to NULL, so
 * a loop "for (...; list && i < n; ...) view_list_append(&list, view(...))"
 * ends with a whole list or NULL (out of memory).
 */
void view_list_append(json_t **list, json_t *item);

#endif
