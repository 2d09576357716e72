/*
 * api_devidp_authorize.c - the dev identity provider's authorization-code
 * grant with PKCE (RFC 6749 4.1, RFC 7636): the /oauth/authorize page where
 * a person picks a provisioned user (or a pending invite), and the
 * "authorization_code" grant of POST /oauth/token.
 *
 * A TEST DEVICE like the rest of the dev IdP: no password, anyone may pick
 * anyone. What it does check is what a real IdP checks of a public client,
 * so that the Admin UI's sign-in is exercised for real: the one registered
 * client (the Admin UI) and its redirect URI, the redirect URI and client id
 * the code was issued for, a single use within 60 s, and the PKCE verifier
 * (S256 only). Codes go to the Admin UI and nowhere else.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "authcode.h"
#include "body.h"
#include "devidp.h"
#include "log.h"
#include "request.h"
#include "rules.h"
#include "timeutil.h"
#include "util.h"

/*
 * The page looks like the Admin UI it signs in to: the UI's own stylesheet
 * (served on the same origin, since this page works only with [ui] enabled),
 * and still nothing else: no script, no inline style.
 */
#define PAGE_CSP "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'"
/* Users and invites listed on the page; more can be typed in. */
#define PAGE_MAX_CHOICES 100

/* The OAuth parameters the page carries from GET to POST. */
static const char *const carried[] = {
    "response_type",         "client_id", "redirect_uri", "scope", "state", "code_challenge",
    "code_challenge_method", "nonce",     "audience",     NULL};

/* ---- a growable text buffer for the page ---- */

struct page {
	char *text;
	size_t len, cap;
	bool failed; /* out of memory: every later append is dropped */
};

static void page_put(struct page *p, const char *s, size_t n)
{
	if (p->failed)
		return;
	if (p->len + n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;
		char *grown;

		while (cap < p->len + n + 1)
			cap *= 2;
		grown = realloc(p->text, cap);
		if (grown == NULL) {
			p->failed = true;
			return;
		}
		p->text = grown;
		p->cap = cap;
	}
	memcpy(p->text + p->len, s, n);
	p->len += n;
	p->text[p->len] = '\0';
}

static void page_raw(struct page *p, const char *s)
{
	page_put(p, s, strlen(s));
}

/* Text for an HTML element or a double-quoted attribute. */
static void page_text(struct page *p, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			page_raw(p, "&amp;");
			break;
		case '<':
			page_raw(p, "&lt;");
			break;
		case '>':
			page_raw(p, "&gt;");
			break;
		case '"':
			page_raw(p, "&quot;");
			break;
		case '\'':
			page_raw(p, "&#39;");
			break;
		default:
			page_put(p, s, 1);
		}
	}
}

/* ---- the request's OAuth parameters ---- */

/* A parameter from the query (GET) or the form (POST); NULL when absent. */
static const char *param(struct request *req, const char *name)
{
	json_t *v;

	if (strcmp(req->method, "POST") != 0)
		return request_query(req, name);
	v = json_object_get(req->json, name);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Printable ASCII of 1..max bytes (absent counts as good when optional). */
static bool plain_param(const char *v, size_t max, bool required)
{
	if (v == NULL)
		return !required;
	if (v[0] == '\0' || strlen(v) > max)
		return false;
	for (; *v; v++)
		if (*v < 0x20 || *v > 0x7e)
			return false;
	return true;
}

/* An absolute http(s) URL without a fragment, as RFC 6749 3.1.2 asks of redirect URIs. */
static bool good_redirect_uri(const char *uri)
{
	return plain_param(uri, sizeof(((struct authcode_grant *)0)->redirect_uri) - 1, true) &&
	       (strncmp(uri, "http://", 7) == 0 || strncmp(uri, "https://", 8) == 0) &&
	       strchr(uri, '#') == NULL && strchr(uri, ' ') == NULL;
}

/*
 * The grant's one client is the Admin UI: [ui] client_id, while [ui] is
 * enabled. Its one redirect URI is the page it signs in from and comes back
 * to, /ui/ on the issuer's origin (server/ui/session.js: location.origin +
 * "/ui/"): the UI can only sign in through the dev IdP from that origin
 * anyway, since it fetches the discovery document and the token endpoint
 * itself and mgmtd answers no cross-origin request. Compared as exact strings
 * (RFC 9700 2.1), before anything else of the request: an unknown client or
 * redirect URI gets the error page, never a redirect (RFC 6749 4.1.2.1).
 * NULL when both are the UI's, else a sentence (in why) saying what is wrong.
 */
static const char *unknown_client(struct request *req, const char *client_id, const char *uri,
                                  char *why, size_t whylen)
{
	const struct config *cfg = &req->app->cfg;
	char origin[CONFIG_STR_SIZE], expected[CONFIG_STR_SIZE + 8];

	if (!cfg->ui_enabled || !cfg->ui_client_id[0] || strcmp(client_id, cfg->ui_client_id) != 0)
		return "unknown client_id: this identity provider signs in the Admin UI only (its "
		       "[ui] client_id, while [ui] is enabled)";
	if (!url_origin(dev_idp_issuer(req->app->dev_idp), origin, sizeof(origin)))
		return "the issuer is no http(s) URL, so the Admin UI has no redirect_uri here";
	snprintf(expected, sizeof(expected), "%s/ui/", origin);
	if (strcmp(uri, expected) == 0)
		return NULL;
	set_err(why, whylen, "redirect_uri must be the Admin UI's, %s", expected);
	return why;
}

/*
 * Checks the authorization request; fills g (without the user) and returns
 * NULL, or a sentence (perhaps in why) saying what is wrong.
 */
static const char *check_request(struct request *req, struct authcode_grant *g, char *why,
                                 size_t whylen)
{
	const char *client_id = param(req, "client_id"), *uri = param(req, "redirect_uri");
	const char *type = param(req, "response_type"),
	           *method = param(req, "code_challenge_method");
	const char *challenge = param(req, "code_challenge"), *scope = param(req, "scope");
	const char *state = param(req, "state"), *nonce = param(req, "nonce"), *problem;

	memset(g, 0, sizeof(*g));
	if (!plain_param(client_id, sizeof(g->client_id) - 1, true))
		return "client_id is missing or not plain text of at most 255 bytes";
	if (!good_redirect_uri(uri))
		return "redirect_uri must be an absolute http:// or https:// URL without a "
		       "fragment";
	if ((problem = unknown_client(req, client_id, uri, why, whylen)) != NULL)
		return problem;
	if (type == NULL || strcmp(type, "code") != 0)
		return "response_type must be \"code\": this identity provider offers the "
		       "authorization-code grant";
	if (challenge == NULL || !authcode_pkce_well_formed(challenge))
		return "code_challenge is required (PKCE, RFC 7636): 43 to 128 characters of "
		       "A-Z a-z 0-9 - . _ ~";
	if (method == NULL || strcmp(method, "S256") != 0)
		return "code_challenge_method must be S256";
	if (!plain_param(scope, sizeof(g->scope) - 1, false) ||
	    !plain_param(nonce, sizeof(g->nonce) - 1, false) || !plain_param(state, 1024, false))
		return "scope, state and nonce must be plain text (at most 511, 1024 and 255 "
		       "bytes)";
	str_copy(g->client_id, sizeof(g->client_id), client_id);
	str_copy(g->redirect_uri, sizeof(g->redirect_uri), uri);
	str_copy(g->code_challenge, sizeof(g->code_challenge), challenge);
	str_copy(g->scope, sizeof(g->scope), scope ? scope : "");
	str_copy(g->nonce, sizeof(g->nonce), nonce ? nonce : "");
	return NULL;
}

/* ---- the page ---- */

static void page_hidden_fields(struct page *p, struct request *req)
{
	for (size_t i = 0; carried[i]; i++) {
		const char *v = param(req, carried[i]);

		if (v == NULL)
			continue;
		page_raw(p, "<input type=\"hidden\" name=\"");
		page_raw(p, carried[i]);
		page_raw(p, "\" value=\"");
		page_text(p, v);
		page_raw(p, "\">\n");
	}
}

static void page_account_name(struct page *p, struct store *s, const char *account_id)
{
	struct store_account a;

	page_text(p, store_account_get(s, account_id, &a) == STORE_OK ? a.name : account_id);
}

/* One button: "EMAIL <before>GROUP<between>ACCOUNT", picking that email in that account. */
static void page_choice(struct page *p, struct store *s, const char *account_id, const char *email,
                        const char *before, enum user_group group, const char *between)
{
	page_raw(p, "<li><button type=\"submit\" name=\"login\" value=\"");
	page_text(p, account_id);
	page_raw(p, " ");
	page_text(p, email);
	page_raw(p, "\">");
	page_text(p, email);
	page_raw(p, "</button> ");
	page_raw(p, before);
	page_raw(p, user_group_name(group));
	page_raw(p, between);
	page_account_name(p, s, account_id);
	page_raw(p, "</li>\n");
}

/* One button per user and per pending invite (the first PAGE_MAX_CHOICES of each). */
static void page_choices(struct page *p, struct request *req, struct store *s)
{
	struct store_invite *invites = NULL;
	struct store_user *users = NULL;
	size_t nu = 0, ni = 0;

	if (store_user_list_all(s, PAGE_MAX_CHOICES, &users, &nu) != STORE_OK ||
	    store_invites_pending(s, NULL, req->now, PAGE_MAX_CHOICES, &invites, &ni) != STORE_OK)
		page_raw(p, "<p role=\"alert\">The store could not list the users.</p>\n");
	page_raw(p, "<form method=\"post\" action=\"authorize\">\n");
	page_hidden_fields(p, req);
	page_raw(p, "<h2 id=\"pick\">Choose who you are</h2>\n<ul class=\"choices\" "
	            "aria-labelledby=\"pick\">\n");
	for (size_t i = 0; i < nu; i++)
		page_choice(p, s, users[i].account_id, users[i].email, "", users[i].group, " in ");
	for (size_t i = 0; i < ni; i++)
		page_choice(p, s, invites[i].account_id, invites[i].email, "invited as ",
		            invites[i].group, " to ");
	if (nu + ni == 0)
		page_raw(p, "<li>Nobody is provisioned yet.</li>\n");
	page_raw(p, "</ul>\n</form>\n");
	free(users);
	free(invites);
}

/*
 * The sign-in page with status st: the choices when the request is good
 * (problem NULL or a complaint about the pick), else only what is wrong.
 */
static enum api_status render_page(struct request *req, enum api_status st, const char *problem,
                                   bool request_ok)
{
	struct page p = {0};
	struct store *s = req->store ? req->store : store_pool_get(req->app->stores);

	req->store = s; /* dispatch_request gives it back */

	page_raw(&p,
	         "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	         "<meta name=\"color-scheme\" content=\"light dark\">\n"
	         "<title>Sign in - mgmtd dev identity provider</title>\n"
	         "<link rel=\"stylesheet\" href=\"../ui/app.css\">\n</head>\n<body>\n"
	         "<header class=\"top\"><p class=\"brand\"><span class=\"logo\" "
	         "aria-hidden=\"true\">&#9670;</span> mgmtd dev identity provider</p></header>\n"
	         "<main class=\"idp\">\n<h1>Sign in to mgmtd (dev identity provider)</h1>\n"
	         "<p class=\"warning\"><strong>Test device:</strong> this identity provider signs "
	         "anyone in as any provisioned user, without a password. Never let it face a "
	         "network.</p>\n");
	if (problem) {
		page_raw(&p, "<p class=\"error\" role=\"alert\">");
		page_text(&p, problem);
		page_raw(&p, "</p>\n");
	}
	if (request_ok && s != NULL) {
		page_raw(&p, "<p>The application <code>");
		page_text(&p, param(req, "client_id"));
		page_raw(&p, "</code> asks you to sign in; you will go back to <code>");
		page_text(&p, param(req, "redirect_uri"));
		page_raw(&p, "</code>.</p>\n");
		page_choices(&p, req, s);
		page_raw(&p, "<form method=\"post\" action=\"authorize\">\n");
		page_hidden_fields(&p, req);
		page_raw(&p, "<h2>Or type an email</h2>\n<div class=\"field\"><label for=\"email\">"
		             "Email of a user or of a pending invite</label>\n<input id=\"email\" "
		             "name=\"email\" type=\"email\" autocomplete=\"email\" required>\n"
		             "<button type=\"submit\" class=\"primary\">Sign in</button></div>\n"
		             "</form>\n");
	}
	page_raw(&p, "</main>\n</body>\n</html>\n");
	if (p.failed) {
		free(p.text);
		return api_fail(req, API_INTERNAL, "out of memory");
	}
	return api_raw(req, st, "text/html; charset=utf-8", p.text, p.len, true, PAGE_CSP);
}

enum api_status api_dev_idp_authorize_page(struct request *req)
{
	struct authcode_grant g;
	char why[CONFIG_STR_SIZE + 64];
	const char *problem = check_request(req, &g, why, sizeof(why));

	return render_page(req, problem ? API_BAD_REQUEST : API_OK, problem, problem == NULL);
}

/* redirect_uri with code and state added to its query. */
static char *redirect_location(const char *uri, const char *code, const char *state)
{
	struct page p = {0};

	page_raw(&p, uri);
	page_raw(&p, strchr(uri, '?') ? "&code=" : "?code=");
	page_raw(&p, code); /* base64url: nothing to escape */
	if (state) {
		page_raw(&p, "&state=");
		for (const unsigned char *c = (const unsigned char *)state; *c; c++) {
			char out[3];

			page_put(&p, out, uri_component_byte(*c, out));
		}
	}
	if (p.failed) {
		free(p.text);
		return NULL;
	}
	return p.text;
}

enum api_status api_dev_idp_authorize_pick(struct request *req)
{
	const char *login = param(req, "login"), *typed = param(req, "email"), *problem;
	struct authcode_grant g;
	enum dev_idp_result r;
	enum store_status st;
	struct store *s;
	char why[CONFIG_STR_SIZE + 64], code[AUTHCODE_SIZE], *jwt = NULL, *location;
	const char *space;
	enum api_status ret;

	if ((problem = check_request(req, &g, why, sizeof(why))) != NULL)
		return render_page(req, API_BAD_REQUEST, problem, false);
	/* "ACCOUNT-ID EMAIL" from a button, or an email typed in */
	if (login && (space = strchr(login, ' ')) != NULL && space - login == UUID_STR_SIZE - 1) {
		memcpy(g.account_id, login, UUID_STR_SIZE - 1);
		g.account_id[UUID_STR_SIZE - 1] = '\0';
		typed = space + 1;
		if (!uuid_is_valid(g.account_id))
			typed = NULL;
	}
	if (typed == NULL || (problem = rule_email("email", typed, why)) != NULL ||
	    !str_copy(g.email, sizeof(g.email), typed))
		return render_page(req, API_BAD_REQUEST, problem ? problem : "choose a user", true);

	/* A JWT is minted and dropped here only to find out now whether the token
	 * endpoint will be able to mint one: the same rules, in one place. */
	s = req->store ? req->store : store_pool_get(req->app->stores);
	if (s == NULL)
		return api_fail(req, API_UNAVAILABLE,
		                "the store's database cannot be opened or reached; retry later");
	req->store = s; /* dispatch_request gives it back */
	r = dev_idp_mint(req->app->dev_idp, s, g.email, g.account_id[0] ? g.account_id : NULL, NULL,
	                 req->now / 1000, 60, &jwt, &st, why, sizeof(why));
	free(jwt);
	if (r == DEV_IDP_UNKNOWN_USER || r == DEV_IDP_AMBIGUOUS)
		return render_page(req, API_BAD_REQUEST, why, true);
	if (r == DEV_IDP_STORE)
		return api_from_store(req, st, "user", NULL);
	if (r != DEV_IDP_OK)
		return api_fail(req, API_INTERNAL, "%s", why);

	authcodes_issue(dev_idp_codes(req->app->dev_idp), &g, time_monotonic_us() / 1000, code);
	location = redirect_location(g.redirect_uri, code, param(req, "state"));
	sodium_memzero(code, sizeof(code));
	if (location == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	ret = api_redirect(req, location);
	sodium_memzero(location, strlen(location));
	free(location);
	return ret;
}

/* True when the space-separated scope list holds word. */
static bool scope_has(const char *scope, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = scope; (p = strstr(p, word)) != NULL; p += n)
		if ((p == scope || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

enum api_status api_dev_idp_code_grant(struct request *req)
{
	static const char *const fields[] = {"grant_type", "code",          "redirect_uri",
	                                     "client_id",  "code_verifier", NULL};
	const char *code, *uri, *client_id, *verifier;
	struct dev_idp *idp = req->app->dev_idp;
	char why[256], *access = NULL, *id_token = NULL;
	json_t *named = json_object_get(req->json, "code");
	json_t *grant = json_object_get(req->json, "grant_type");
	struct authcode_grant g;
	enum dev_idp_result r;
	enum store_status st;
	json_t *extra, *answer;
	struct store *s;
	bool taken = false;

	/*
	 * Taken before anything else is looked at: a request that names a code
	 * spends it, whatever else is wrong or missing (RFC 6749 4.1.2: single
	 * use), so that a code seen by someone else is worth one try at most.
	 */
	if (json_is_string(named))
		taken = authcodes_take(dev_idp_codes(idp), json_string_value(named),
		                       time_monotonic_us() / 1000, &g);
	if (!json_is_string(grant) || strcmp(json_string_value(grant), "authorization_code") != 0)
		return api_oauth_error(req, "invalid_request",
		                       "a code is traded with grant_type=authorization_code");
	if (body_check_fields(req, fields) != API_OK ||
	    body_string(req, "code", true, false, &code) != API_OK ||
	    body_string(req, "redirect_uri", true, false, &uri) != API_OK ||
	    body_string(req, "client_id", true, false, &client_id) != API_OK ||
	    body_string(req, "code_verifier", true, false, &verifier) != API_OK)
		return api_oauth_error(req, "invalid_request", req->message);
	if (!taken) {
		snprintf(why, sizeof(why), "the code is unknown, used or older than %d seconds",
		         AUTHCODE_TTL_MS / 1000);
		return api_oauth_error(req, "invalid_grant", why);
	}
	if (strcmp(g.client_id, client_id) != 0 || strcmp(g.redirect_uri, uri) != 0)
		return api_oauth_error(req, "invalid_grant",
		                       "the code was issued to another client_id or redirect_uri");
	if (!authcode_pkce_well_formed(verifier) ||
	    !authcode_pkce_matches(verifier, g.code_challenge))
		return api_oauth_error(req, "invalid_grant",
		                       "the code_verifier does not match the code_challenge");

	s = req->store ? req->store : store_pool_get(req->app->stores);
	if (s == NULL)
		return api_fail(req, API_UNAVAILABLE,
		                "the store's database cannot be opened or reached; retry later");
	req->store = s; /* dispatch_request gives it back */
	r = dev_idp_mint(idp, s, g.email, g.account_id[0] ? g.account_id : NULL, NULL,
	                 req->now / 1000, DEV_IDP_LIFETIME, &access, &st, why, sizeof(why));
	/* OpenID Connect: an ID token for the client itself when "openid" was asked for. */
	if (r == DEV_IDP_OK && scope_has(g.scope, "openid")) {
		extra = json_pack("{s:s}", "aud", g.client_id);
		if (extra && g.nonce[0])
			json_object_set_new(extra, "nonce", json_string(g.nonce));
		r = extra ? dev_idp_mint(idp, s, g.email, g.account_id[0] ? g.account_id : NULL,
		                         extra, req->now / 1000, DEV_IDP_LIFETIME, &id_token, &st,
		                         why, sizeof(why))
		          : DEV_IDP_INTERNAL;
		json_decref(extra);
	}
	switch (r) {
	case DEV_IDP_OK:
		break;
	case DEV_IDP_UNKNOWN_USER:
	case DEV_IDP_AMBIGUOUS:
	case DEV_IDP_BAD_CLAIMS:
		free(access);
		return api_oauth_error(req, "invalid_grant", why);
	case DEV_IDP_STORE:
		free(access);
		return api_from_store(req, st, "user", NULL);
	case DEV_IDP_INTERNAL:
		free(access);
		return api_fail(req, API_INTERNAL, "%s", why);
	}
	answer = json_pack("{s:s, s:s, s:i, s:s}", "access_token", access, "token_type", "Bearer",
	                   "expires_in", DEV_IDP_LIFETIME, "scope", g.scope);
	if (answer && id_token && json_object_set_new(answer, "id_token", json_string(id_token)))
		answer = (json_decref(answer), NULL);
	free(access);
	free(id_token);
	return api_ok(req, answer);
}
