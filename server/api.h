/*
 * api.h - the REST handlers, one file per resource. Each is called by
 * dispatch.c with an authenticated, authorized request whose JSON body (if
 * the route takes one) is parsed, and returns its outcome (reply.h).
 */
#ifndef MGMTD_API_H
#define MGMTD_API_H

#include "reply.h"

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

/* api_clusters.c */
enum api_status api_cluster_list(struct request *req);
enum api_status api_cluster_get(struct request *req);

/* api_devidp.c: only while [dev_idp] is enabled */
enum api_status api_dev_idp_discovery(struct request *req);
enum api_status api_dev_idp_jwks(struct request *req);
enum api_status api_dev_idp_token(struct request *req);

/* api_testing.c: only while [testing] is enabled */
enum api_status api_test_reset(struct request *req);
enum api_status api_test_clock_get(struct request *req);
enum api_status api_test_clock_set(struct request *req);
enum api_status api_test_clock_clear(struct request *req);

#endif
