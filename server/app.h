/*
 * app.h - the state the server shares with every request. Built by main.c
 * before the HTTP server starts and read-only afterwards, except the atomics.
 */
#ifndef MGMTD_APP_H
#define MGMTD_APP_H

#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "idtoken.h"
#include "jwks.h"
#include "store.h"
#include "throttle.h"
#include "token.h"

struct app {
	struct config cfg;
	struct store_pool *stores;
	struct token_key token_key;
	struct jwks *jwks; /* NULL when no IdP is configured */
	struct idtoken_verifier verifier;
	bool idp_configured;
	struct throttle *throttle; /* NULL when [auth] failed_auth_burst is 0 */
	atomic_bool ready;
	atomic_long in_flight; /* requests between first callback and completion */
};

#endif
