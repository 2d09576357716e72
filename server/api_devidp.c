/*
 * api_devidp.c - the built-in dev identity provider's endpoints ([dev_idp]):
 * its OpenID discovery document, its JWKS, and POST /oauth/token.
 *
 * A TEST DEVICE: /oauth/token signs a JWT for any provisioned user, asked by
 * anyone. The routes exist only while [dev_idp] is enabled (routes.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "body.h"
#include "devdevice.h"
#include "devidp.h"
#include "log.h"
#include "request.h"
#include "rules.h"

enum api_status api_dev_idp_discovery(struct request *req)
{
	json_t *doc = dev_idp_discovery(req->app->dev_idp);

	/* the device authorization grant's fields (devdevice.h) */
	if (doc && dev_devices_describe(doc, dev_idp_issuer(req->app->dev_idp)) != 0) {
		json_decref(doc);
		doc = NULL;
	}
	return api_ok(req, doc);
}

enum api_status api_dev_idp_jwks(struct request *req)
{
	size_t len;
	const char *text = dev_idp_jwks(req->app->dev_idp, &len);

	return api_ok(req, json_loadb(text, len, 0, NULL));
}

/* "lifetime": an integer in JSON, a decimal string in a form; absent = DEV_IDP_LIFETIME. */
static enum api_status read_lifetime(struct request *req, long *out)
{
	json_t *v = json_object_get(req->json, "lifetime");
	long value = -1;

	*out = DEV_IDP_LIFETIME;
	if (!v)
		return API_OK;
	if (json_is_integer(v) && json_integer_value(v) <= DEV_IDP_MAX_LIFETIME)
		value = (long)json_integer_value(v);
	else if (req->form && json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;

		errno = 0;
		value = (s[0] >= '0' && s[0] <= '9') ? strtol(s, &end, 10) : -1;
		if (value >= 0 && (errno != 0 || *end != '\0'))
			value = -1;
	}
	if (value < 1 || value > DEV_IDP_MAX_LIFETIME)
		return api_fail(
		    req, API_BAD_REQUEST,
		    "the field \"lifetime\" must be a whole number of seconds from 1 to %d",
		    DEV_IDP_MAX_LIFETIME);
	*out = value;
	return API_OK;
}

/* True when the body's grant_type is grant (the email grant sends none or any other). */
static bool grant_type_is(struct request *req, const char *grant)
{
	const char *given = json_string_value(json_object_get(req->json, "grant_type"));

	return given != NULL && strcmp(given, grant) == 0;
}

enum api_status api_dev_idp_token(struct request *req)
{
	/* grant_type, scope and client_id: what OAuth clients send anyway; ignored */
	static const char *const json_fields[] = {"email", "accountId", "claims", "lifetime", NULL};
	static const char *const form_fields[] = {"email", "accountId", "lifetime", "grant_type",
	                                          "scope", "client_id", NULL};
	const char *email, *account_id, *problem;
	const json_t *claims = NULL;
	enum dev_idp_result r;
	enum store_status st;
	struct store *store;
	char why[256], *jwt = NULL;
	long lifetime;
	json_t *answer;

	/* A named code is spent whatever the rest of the request says (the code grant). */
	if (grant_type_is(req, "authorization_code") || json_object_get(req->json, "code"))
		return api_dev_idp_code_grant(req);
	if (api_dev_idp_is_device_grant(req))
		return api_dev_idp_device_token(req);
	if (body_check_fields(req, req->form ? form_fields : json_fields) != API_OK ||
	    body_string(req, "email", true, false, &email) != API_OK ||
	    body_string(req, "accountId", false, true, &account_id) != API_OK ||
	    read_lifetime(req, &lifetime) != API_OK)
		return req->status;
	if ((problem = rule_email("email", email, why)) != NULL)
		return api_fail(req, API_BAD_REQUEST, "%s", problem);
	if (account_id && !uuid_is_valid(account_id))
		return api_fail(req, API_BAD_REQUEST,
		                "the field \"accountId\" must be an account id");
	if (!req->form) {
		claims = json_object_get(req->json, "claims");
		if (claims && json_is_null(claims))
			claims = NULL;
		if (claims && !json_is_object(claims))
			return api_fail(req, API_BAD_REQUEST,
			                "the field \"claims\" must be an object of extra claims");
	}

	store = store_pool_get(req->app->stores);
	if (store == NULL)
		return api_fail(req, API_UNAVAILABLE,
		                "the store's database cannot be opened or reached; retry later");
	req->store = store; /* dispatch_request gives it back */
	r = dev_idp_mint(req->app->dev_idp, store, email, account_id, claims, req->now / 1000,
	                 lifetime, &jwt, &st, why, sizeof(why));
	switch (r) {
	case DEV_IDP_OK:
		break;
	case DEV_IDP_UNKNOWN_USER:
	case DEV_IDP_AMBIGUOUS:
	case DEV_IDP_BAD_CLAIMS:
		return api_fail(req, API_BAD_REQUEST, "%s", why);
	case DEV_IDP_STORE:
		return api_from_store(req, st, "user", NULL);
	case DEV_IDP_INTERNAL:
		return api_fail(req, API_INTERNAL, "%s", why);
	}
	/* The shape of an OAuth 2.0 token answer (RFC 6749, 5.1). */
	answer = json_pack("{s:s, s:s, s:i}", "access_token", jwt, "token_type", "Bearer",
	                   "expires_in", (int)lifetime);
	free(jwt);
	return api_ok(req, answer);
}
