/*
 * harness.h - what the libFuzzer harnesses share: a private temporary
 * directory, and a whole mgmtd request path without HTTP.
 *
 * fuzz_server() builds, once per process, the state the daemon builds at
 * start (struct app with a store pool on a fresh database in a temporary
 * directory, the seed in harness.c applied, one management token issued) so
 * that fuzz_request() runs the real dispatch_request() - route, authenticate,
 * authorize, body checks, handler, store - and renders the answer as http.c
 * would. Each request runs inside a transaction that is rolled back, so every
 * input meets the same database and a crash reproduces from its input alone.
 *
 * Invariants checked on every answer (a violation aborts, which libFuzzer
 * reports as a crash): no 500, a body that is valid JSON and, for an error,
 * {"code": status, "message": ...}; the harness's own token never appears.
 */
#ifndef MGMTD_FUZZ_HARNESS_H
#define MGMTD_FUZZ_HARNESS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "token.h"

/* The fixed ids of the harness seed. */
#define FUZZ_ACCOUNT_A "11111111-1111-4111-8111-111111111111"
#define FUZZ_ACCOUNT_B "22222222-2222-4222-8222-222222222222"
#define FUZZ_CLUSTER_A "33333333-3333-4333-8333-333333333333"

/*
 * The instant the harnesses freeze the clock at (2026-01-01T00:00:00Z), so
 * that an input is judged the same on any day: the committed corpora's
 * expiresAt values lie after it, and "now" never catches up with them.
 */
#define FUZZ_NOW_MS INT64_C(1767225600000)

/* What every harness defines (libFuzzer's entry point). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_server {
	struct app app;
	char dir[PATH_MAX];
	char db_path[PATH_MAX];
	char token[TOKEN_MGMT_SIZE]; /* a management token of account A */
	char token_id[UUID_STR_SIZE];
	char admin_id[UUID_STR_SIZE];    /* admin@example.com, the account's only admin */
	char member_id[UUID_STR_SIZE];   /* member@example.com */
	char db_token_id[UUID_STR_SIZE]; /* a database token reading fuzzdb */
	char bearer[TOKEN_MGMT_SIZE + 8];
};

/*
 * Makes a fresh private directory (mode 0700) under $TMPDIR, else /dev/shm
 * (fsync is cheap there), else /tmp, removed with its files at exit. Aborts
 * on failure.
 */
void fuzz_tempdir(char *out, size_t size);

/* Freezes time_now_ms at FUZZ_NOW_MS (timeutil.h); fuzz_server does it too. */
void fuzz_freeze_clock(void);

/* The process's server, built on first call. Aborts when it cannot be built. */
struct fuzz_server *fuzz_server(void);

/*
 * Expands the placeholders {accountId}, {otherAccountId}, {clusterId},
 * {tokenId}, {adminId}, {memberId} and {dbTokenId} of a path template. Aborts when the
 * result does not fit.
 */
void fuzz_expand_path(const struct fuzz_server *fs, const char *tmpl, char *out, size_t size);

/*
 * Runs one request through dispatch_request and reply_render and checks the
 * invariants above. authorization and content_type may be NULL; body need not
 * be NUL-terminated. Returns the HTTP status.
 */
unsigned fuzz_request(struct fuzz_server *fs, const char *method, const char *path,
                      const char *authorization, const char *content_type, const char *body,
                      size_t body_len);

#endif
