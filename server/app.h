/*
 * app.h - the state the server shares with every request. Built by main.c
 * before the HTTP server starts and read-only afterwards, except the atomics
 * and what the modules behind the pointers guard themselves (issuers.h).
 */
#ifndef MGMTD_APP_H
#define MGMTD_APP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "devidp.h"
#include "identity.h"
#include "issuers.h"
#include "proxies.h"
#include "store.h"
#include "throttle.h"
#include "token.h"

struct tls_holder;

struct app {
	struct config cfg;
	struct store_pool *stores;
	struct commitq *commitq; /* NULL unless changes share commits (store_commits_serialized) */
	struct store *anchor;    /* data_dir = :memory:: keeps the in-memory database alive */
	struct token_key token_key;
	struct issuers *issuers; /* the trusted identity providers; may hold none */
	struct dev_idp *dev_idp; /* NULL unless [dev_idp] enabled */
	/* The issuers users may be bound to (identity.h); the dev IdP's URL once it is known. */
	struct identity_issuers identities;
	char *seed_text; /* the --seed given at start, for POST /_test/reset; may be NULL */
	size_t seed_len;
	struct throttle *throttle;      /* NULL when [auth] failed_auth_burst is 0 */
	struct journal *journal;        /* NULL unless [testing] enabled */
	struct faults *faults;          /* NULL unless [testing] enabled */
	struct delays *delays;          /* NULL unless [testing] enabled: all of them off */
	struct tenants *tenants;        /* NULL unless [testing] enabled: their seeds */
	struct snapshots *snapshots;    /* NULL unless [testing] enabled */
	struct webhook *webhook;        /* NULL unless [webhook] url is set */
	struct tls_holder *tls;         /* NULL unless [server] tls_cert and tls_key are set */
	struct proxies trusted_proxies; /* [server] trusted_proxies, parsed */
	atomic_bool ready;
	atomic_long in_flight; /* requests between first callback and completion */
};

#endif
