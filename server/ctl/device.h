/*
 * device.h - signing in with the OAuth 2.0 device authorization grant
 * (RFC 8628), as influxctl does.
 *
 * The endpoints are the profile's [profile.auth.oauth2] device_url and
 * token_url, or, when either is absent, those of the OpenID discovery
 * document of mgmtd's URL (where the built-in dev identity provider
 * publishes it). The request carries client_id (default "mgmtctl"), the
 * scopes and the extra parameters of the profile. The verification link and
 * the code are printed on stderr, the browser is opened when a display is
 * there to show it (xdg-open), and the token endpoint is polled every
 * `interval` seconds (5 when the IdP says nothing; 5 more after each
 * slow_down) until the code is approved, denied or expires.
 */
#ifndef MGMTCTL_DEVICE_H
#define MGMTCTL_DEVICE_H

#include "ctl.h"

#define DEVICE_DEFAULT_CLIENT_ID "mgmtctl"
#define DEVICE_DEFAULT_INTERVAL  5
#define DEVICE_SLOW_DOWN_STEP    5

struct device_token {
	char *access_token; /* a secret */
	char *token_type;
	long expires_in; /* seconds; 0 when not said */
};

/* CTL_OK with *out filled, or CTL_FAILED (printed). */
int device_sign_in(struct ctl *c, struct device_token *out);

void device_token_release(struct device_token *t);

#endif
