/*
 * routes.c - every route of the API in one table: method, path, handler,
 * and what it acts on (the rights table in auth.c decides who may).
 */
#include "api.h"
#include "devdevice.h"
#include "router.h"

#define ACCOUNT "/api/v0/accounts/{accountId}"
#define CLUSTER ACCOUNT "/clusters/{clusterId}"

const struct route routes[] = {
    {"GET", "/health", api_health, RES_NONE, OP_READ, 0},
    {"GET", "/ready", api_ready, RES_NONE, OP_READ, 0},

    {"GET", ACCOUNT "/management/tokens", api_mgmt_token_list, RES_MGMT_TOKENS, OP_READ, 0},
    {"POST", ACCOUNT "/management/tokens", api_mgmt_token_create, RES_MGMT_TOKENS, OP_CREATE,
     ROUTE_JSON_BODY},
    {"GET", ACCOUNT "/management/tokens/{tokenId}", api_mgmt_token_get, RES_MGMT_TOKENS, OP_READ,
     0},
    {"DELETE", ACCOUNT "/management/tokens/{tokenId}", api_mgmt_token_revoke, RES_MGMT_TOKENS,
     OP_DELETE, 0},
    /* mgmtd extensions: the rights of revocation (docs/tokens.md "Lifecycle") */
    {"POST", ACCOUNT "/management/tokens/{tokenId}/rotate", api_mgmt_token_rotate, RES_MGMT_TOKENS,
     OP_DELETE, 0},
    {"POST", ACCOUNT "/management/tokens/{tokenId}/suspend", api_mgmt_token_suspend,
     RES_MGMT_TOKENS, OP_DELETE, 0},
    {"POST", ACCOUNT "/management/tokens/{tokenId}/resume", api_mgmt_token_resume, RES_MGMT_TOKENS,
     OP_DELETE, 0},

    {"GET", ACCOUNT "/users", api_user_list, RES_USERS, OP_READ, 0},
    {"POST", ACCOUNT "/users", api_user_create, RES_USERS, OP_CREATE, ROUTE_JSON_BODY},
    {"GET", ACCOUNT "/users/{userId}", api_user_get, RES_USERS, OP_READ, 0},
    {"PATCH", ACCOUNT "/users/{userId}", api_user_update, RES_USERS, OP_UPDATE, ROUTE_JSON_BODY},
    {"DELETE", ACCOUNT "/users/{userId}", api_user_delete, RES_USERS, OP_DELETE, 0},

    {"GET", ACCOUNT "/invites", api_invite_list, RES_INVITES, OP_READ, 0},
    {"POST", ACCOUNT "/invites", api_invite_create, RES_INVITES, OP_CREATE, ROUTE_JSON_BODY},
    {"GET", ACCOUNT "/invites/{inviteId}", api_invite_get, RES_INVITES, OP_READ, 0},
    {"DELETE", ACCOUNT "/invites/{inviteId}", api_invite_revoke, RES_INVITES, OP_DELETE, 0},
    {"GET", ACCOUNT "/audit", api_audit_list, RES_AUDIT, OP_READ, 0},

    {"GET", ACCOUNT "/clusters", api_cluster_list, RES_CLUSTERS, OP_READ, 0},
    {"GET", ACCOUNT "/clusters/{clusterId}", api_cluster_get, RES_CLUSTERS, OP_READ, 0},

    {"GET", CLUSTER "/databases", api_database_list, RES_DATABASES, OP_READ, 0},
    {"POST", CLUSTER "/databases", api_database_create, RES_DATABASES, OP_CREATE, ROUTE_JSON_BODY},
    {"PATCH", CLUSTER "/databases/{databaseName}", api_database_update, RES_DATABASES, OP_UPDATE,
     ROUTE_JSON_BODY},
    {"DELETE", CLUSTER "/databases/{databaseName}", api_database_delete, RES_DATABASES, OP_DELETE,
     0},
    {"PUT", CLUSTER "/databases/{databaseName}/rename", api_database_rename, RES_DATABASES,
     OP_UPDATE, ROUTE_JSON_BODY},
    {"PUT", CLUSTER "/databases/{databaseId}/undelete", api_database_undelete, RES_DATABASES,
     OP_UPDATE, 0},

    {"GET", CLUSTER "/databases/{databaseName}/tables", api_table_list, RES_TABLES, OP_READ, 0},
    {"POST", CLUSTER "/databases/{databaseName}/tables", api_table_create, RES_TABLES, OP_CREATE,
     ROUTE_JSON_BODY},
    {"DELETE", CLUSTER "/databases/{databaseName}/tables/{tableName}", api_table_delete, RES_TABLES,
     OP_DELETE, 0},
    {"PUT", CLUSTER "/databases/{databaseName}/tables/{tableName}/rename", api_table_rename,
     RES_TABLES, OP_UPDATE, ROUTE_JSON_BODY},
    {"PUT", CLUSTER "/databases/{databaseName}/tables/{tableId}/undelete", api_table_undelete,
     RES_TABLES, OP_UPDATE, 0},
    /* mgmtd extensions: influxctl table iceberg enable|disable (no body, idempotent) */
    {"PUT", CLUSTER "/databases/{databaseName}/tables/{tableName}/iceberg/enable",
     api_table_iceberg_enable, RES_TABLES, OP_UPDATE, 0},
    {"PUT", CLUSTER "/databases/{databaseName}/tables/{tableName}/iceberg/disable",
     api_table_iceberg_disable, RES_TABLES, OP_UPDATE, 0},

    {"GET", CLUSTER "/tokens", api_db_token_list, RES_DB_TOKENS, OP_READ, 0},
    {"POST", CLUSTER "/tokens", api_db_token_create, RES_DB_TOKENS, OP_CREATE, ROUTE_JSON_BODY},
    {"GET", CLUSTER "/tokens/{tokenId}", api_db_token_get, RES_DB_TOKENS, OP_READ, 0},
    {"PATCH", CLUSTER "/tokens/{tokenId}", api_db_token_update, RES_DB_TOKENS, OP_UPDATE,
     ROUTE_JSON_BODY},
    {"DELETE", CLUSTER "/tokens/{tokenId}", api_db_token_revoke, RES_DB_TOKENS, OP_DELETE, 0},
    /* mgmtd extensions: the rights of revocation (docs/tokens.md "Lifecycle") */
    {"POST", CLUSTER "/tokens/{tokenId}/rotate", api_db_token_rotate, RES_DB_TOKENS, OP_DELETE, 0},
    {"POST", CLUSTER "/tokens/{tokenId}/suspend", api_db_token_suspend, RES_DB_TOKENS, OP_DELETE,
     0},
    {"POST", CLUSTER "/tokens/{tokenId}/resume", api_db_token_resume, RES_DB_TOKENS, OP_DELETE, 0},

    /* The data-plane check: a database token, not a management credential. */
    {"GET", CLUSTER "/authorize", api_authorize, RES_NONE, OP_READ, ROUTE_DATA_PLANE},
    /* The built-in dev identity provider: a test device, no credential. */
    {"GET", "/.well-known/openid-configuration", api_dev_idp_discovery, RES_NONE, OP_READ,
     ROUTE_DEV_IDP},
    {"GET", "/.well-known/jwks.json", api_dev_idp_jwks, RES_NONE, OP_READ, ROUTE_DEV_IDP},
    {"POST", "/oauth/token", api_dev_idp_token, RES_NONE, OP_CREATE,
     ROUTE_DEV_IDP | ROUTE_FORM_BODY},
    /* its device authorization grant (RFC 8628) and verification page */
    {"POST", DEV_DEVICE_CODE_PATH, api_dev_idp_device_code, RES_NONE, OP_CREATE,
     ROUTE_DEV_IDP | ROUTE_FORM_BODY},
    {"GET", DEV_DEVICE_VERIFY_PATH, api_dev_idp_verify_page, RES_NONE, OP_READ, ROUTE_DEV_IDP},
    {"POST", DEV_DEVICE_VERIFY_PATH, api_dev_idp_verify, RES_NONE, OP_UPDATE,
     ROUTE_DEV_IDP | ROUTE_FORM_BODY},
    {"GET", "/oauth/authorize", api_dev_idp_authorize_page, RES_NONE, OP_READ, ROUTE_DEV_IDP},
    {"POST", "/oauth/authorize", api_dev_idp_authorize_pick, RES_NONE, OP_CREATE,
     ROUTE_DEV_IDP | ROUTE_FORM_BODY},

    /* The Admin UI: static files; the page signs in and calls the API itself. */
    {"GET", "/ui", api_ui_redirect, RES_NONE, OP_READ, ROUTE_UI},
    {"GET", "/ui/", api_ui_index, RES_NONE, OP_READ, ROUTE_UI},
    {"GET", "/ui/config.json", api_ui_config, RES_NONE, OP_READ, ROUTE_UI},
    {"GET", "/ui/{file}", api_ui_file, RES_NONE, OP_READ, ROUTE_UI},

    /* Prometheus scrapes, without a credential ([metrics] enabled). */
    {"GET", "/metrics", api_metrics, RES_NONE, OP_READ, ROUTE_METRICS},

    /* The test harness: a test device, no credential. */
    {"POST", "/_test/reset", api_test_reset, RES_NONE, OP_UPDATE,
     ROUTE_TESTING | ROUTE_STORE},
    {"GET", "/_test/clock", api_test_clock_get, RES_NONE, OP_READ, ROUTE_TESTING},
    {"PUT", "/_test/clock", api_test_clock_set, RES_NONE, OP_UPDATE,
     ROUTE_TESTING | ROUTE_JSON_BODY},
    {"DELETE", "/_test/clock", api_test_clock_clear, RES_NONE, OP_DELETE, ROUTE_TESTING},
    {"POST", "/_test/clock/advance", api_test_clock_advance, RES_NONE, OP_UPDATE,
     ROUTE_TESTING | ROUTE_JSON_BODY},
    {"POST", "/_test/tenants", api_test_tenant_create, RES_NONE, OP_CREATE,
     ROUTE_TESTING | ROUTE_JSON_BODY | ROUTE_STORE},
    {"DELETE", "/_test/tenants/{accountId}", api_test_tenant_delete, RES_NONE, OP_DELETE,
     ROUTE_TESTING | ROUTE_STORE},
    {"POST", "/_test/tenants/{accountId}/reset", api_test_tenant_reset, RES_NONE, OP_UPDATE,
     ROUTE_TESTING | ROUTE_STORE},
    {"GET", "/_test/snapshots", api_test_snapshot_list, RES_NONE, OP_READ, ROUTE_TESTING},
    {"PUT", "/_test/snapshots/{name}", api_test_snapshot_put, RES_NONE, OP_UPDATE,
     ROUTE_TESTING | ROUTE_STORE},
    {"GET", "/_test/snapshots/{name}", api_test_snapshot_get, RES_NONE, OP_READ, ROUTE_TESTING},
    {"DELETE", "/_test/snapshots/{name}", api_test_snapshot_delete, RES_NONE, OP_DELETE,
     ROUTE_TESTING},
    {"POST", "/_test/snapshots/{name}/restore", api_test_snapshot_restore, RES_NONE, OP_UPDATE,
     ROUTE_TESTING | ROUTE_STORE},
    {"GET", "/_test/requests", api_test_requests_list, RES_NONE, OP_READ, ROUTE_TESTING},
    {"POST", "/_test/requests/verify", api_test_requests_verify, RES_NONE, OP_READ,
     ROUTE_TESTING | ROUTE_JSON_BODY},
    {"DELETE", "/_test/requests", api_test_requests_clear, RES_NONE, OP_DELETE, ROUTE_TESTING},
    {"GET", "/_test/faults", api_test_faults_get, RES_NONE, OP_READ, ROUTE_TESTING},
    {"PUT", "/_test/faults", api_test_faults_set, RES_NONE, OP_UPDATE,
     ROUTE_TESTING | ROUTE_JSON_BODY},
    {"DELETE", "/_test/faults", api_test_faults_clear, RES_NONE, OP_DELETE, ROUTE_TESTING},
    {"GET", "/_test/delays", api_test_delays_get, RES_NONE, OP_READ, ROUTE_TESTING},
    {"PUT", "/_test/delays", api_test_delays_set, RES_NONE, OP_UPDATE,
     ROUTE_TESTING | ROUTE_JSON_BODY},
    {"DELETE", "/_test/delays", api_test_delays_clear, RES_NONE, OP_DELETE, ROUTE_TESTING},
};

const size_t route_count = sizeof(routes) / sizeof(routes[0]);
