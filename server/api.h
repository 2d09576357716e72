/*
 * api.h - the REST handlers, one file per resource. Each is called by
 * dispatch.c with an authenticated, authorized request whose JSON body (if
 * the route takes one) is parsed, and returns its outcome (reply.h).
 */
#ifndef MGMTD_API_H
#define MGMTD_API_H

#include <stdbool.h>

#include "reply.h"
#include "store.h"

struct request;

/* api_health.c */
enum api_status api_health(struct request *req);
enum api_status api_ready(struct request *req);

/* api_mgmt_tokens.c */
enum api_status api_mgmt_token_list(struct request *req);
enum api_status api_mgmt_token_create(struct request *req);
enum api_status api_mgmt_token_get(struct request *req);
enum api_status api_mgmt_token_revoke(struct request *req);

/* api_users.c */
enum api_status api_user_list(struct request *req);
enum api_status api_user_create(struct request *req);
enum api_status api_user_get(struct request *req);
enum api_status api_user_update(struct request *req);
enum api_status api_user_delete(struct request *req);

/* api_invites.c */
enum api_status api_invite_list(struct request *req);
enum api_status api_invite_create(struct request *req);
enum api_status api_invite_get(struct request *req);
enum api_status api_invite_revoke(struct request *req);

/* api_clusters.c */
enum api_status api_cluster_list(struct request *req);
enum api_status api_cluster_get(struct request *req);
/* For the cluster-scoped handlers: 404 unless {clusterId} is a cluster of the caller's account. */
enum api_status api_require_cluster(struct request *req);

/* api_databases.c */
enum api_status api_database_list(struct request *req);
enum api_status api_database_create(struct request *req);
enum api_status api_database_update(struct request *req);
enum api_status api_database_delete(struct request *req);
enum api_status api_database_rename(struct request *req);
enum api_status api_database_undelete(struct request *req);
/* Shared with api_tables.c: */
/* The live database named by the path capture param; 404 when there is none. */
enum api_status api_load_database(struct request *req, const char *param,
                                  struct store_database *out);
/* Validates the body's "partitionTemplate" (absent or null: out is "") into compact JSON. */
enum api_status api_partition_template(struct request *req, char out[STORE_TEMPLATE_SIZE]);
/* ?status=active (the default) or deleted, for lists. */
enum api_status api_list_status(struct request *req, bool *deleted);

/* api_tables.c */
enum api_status api_table_list(struct request *req);
enum api_status api_table_create(struct request *req);
enum api_status api_table_delete(struct request *req);
enum api_status api_table_rename(struct request *req);
enum api_status api_table_undelete(struct request *req);
enum api_status api_table_iceberg_enable(struct request *req);
enum api_status api_table_iceberg_disable(struct request *req);

/* api_db_tokens.c */
enum api_status api_db_token_list(struct request *req);
enum api_status api_db_token_create(struct request *req);
enum api_status api_db_token_get(struct request *req);
enum api_status api_db_token_update(struct request *req);
enum api_status api_db_token_revoke(struct request *req);

/* api_token_lifecycle.c (mgmtd extensions: rotation, suspension, resumption) */
enum api_status api_mgmt_token_rotate(struct request *req);
enum api_status api_mgmt_token_suspend(struct request *req);
enum api_status api_mgmt_token_resume(struct request *req);
enum api_status api_db_token_rotate(struct request *req);
enum api_status api_db_token_suspend(struct request *req);
enum api_status api_db_token_resume(struct request *req);

/* api_audit.c */
enum api_status api_audit_list(struct request *req);

/* api_metrics.c: only while [metrics] is enabled */
enum api_status api_metrics(struct request *req);

/* api_authorize.c */
enum api_status api_authorize(struct request *req);

/* api_devidp.c: only while [dev_idp] is enabled */
enum api_status api_dev_idp_discovery(struct request *req);
enum api_status api_dev_idp_jwks(struct request *req);
enum api_status api_dev_idp_token(struct request *req);

/* api_devidp_authorize.c: the authorization-code grant, only while [dev_idp] is enabled */
enum api_status api_dev_idp_authorize_page(struct request *req);
enum api_status api_dev_idp_authorize_pick(struct request *req);
/* POST /oauth/token with grant_type=authorization_code, or any other naming a code */
enum api_status api_dev_idp_code_grant(struct request *req);

/* api_ui.c: the Admin UI, only while [ui] is enabled */
enum api_status api_ui_redirect(struct request *req);
enum api_status api_ui_index(struct request *req);
enum api_status api_ui_file(struct request *req);
enum api_status api_ui_config(struct request *req);

/* api_devidp_device.c: the device authorization grant of the dev IdP */
enum api_status api_dev_idp_device_code(struct request *req);
/* True when a POST /oauth/token asks for the device_code grant. */
bool api_dev_idp_is_device_grant(const struct request *req);
enum api_status api_dev_idp_device_token(struct request *req);
enum api_status api_dev_idp_verify_page(struct request *req);
enum api_status api_dev_idp_verify(struct request *req);

/* api_testing.c: only while [testing] is enabled */
enum api_status api_test_reset(struct request *req);
enum api_status api_test_clock_get(struct request *req);
enum api_status api_test_clock_set(struct request *req);
enum api_status api_test_clock_clear(struct request *req);
enum api_status api_test_clock_advance(struct request *req);
enum api_status api_test_tenant_create(struct request *req);
enum api_status api_test_tenant_delete(struct request *req);
enum api_status api_test_tenant_reset(struct request *req);
enum api_status api_test_requests_list(struct request *req);
enum api_status api_test_requests_verify(struct request *req);
enum api_status api_test_requests_clear(struct request *req);
enum api_status api_test_snapshot_put(struct request *req);
enum api_status api_test_snapshot_get(struct request *req);
enum api_status api_test_snapshot_list(struct request *req);
enum api_status api_test_snapshot_restore(struct request *req);
enum api_status api_test_snapshot_delete(struct request *req);
enum api_status api_test_faults_set(struct request *req);
enum api_status api_test_faults_get(struct request *req);
enum api_status api_test_faults_clear(struct request *req);
enum api_status api_test_delays_get(struct request *req);
enum api_status api_test_delays_set(struct request *req);
enum api_status api_test_delays_clear(struct request *req);
/* Purges now what the delays make due (api_delays.c), for the clock's handlers. */
void api_delays_purge_now(struct request *req);

#endif
