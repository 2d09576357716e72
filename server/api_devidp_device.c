/*
 * api_devidp_device.c - the dev identity provider's device authorization
 * grant (RFC 8628): POST /oauth/device/code, the device_code grant of POST
 * /oauth/token, and the verification page GET|POST /activate.
 *
 * A TEST DEVICE (devidp.h): the page lets whoever reaches it approve a code
 * for any provisioned user. Its design still follows what a real one needs:
 * the decision is a POST of a form that carries the authorization's own
 * random token (so another site cannot make a browser approve: it cannot read
 * the page that holds the token), the person sees and confirms the code the
 * device shows, and the page is never framed and loads nothing (http.c sets
 * the headers). The grant serves one client, mgmtctl, and one client address
 * holds only its share of the pending codes (devdevice.h), so the device
 * cannot be used by other programs or jammed from one place. The routes
 * exist only while [dev_idp] is enabled (routes.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "devdevice.h"
#include "devidp.h"
#include "request.h"
#include "rules.h"
#include "timeutil.h"
#include "util.h"

/* The pages are forms: no script, nothing loaded, posted only here, never framed. */
#define PAGE_CSP                                                                                   \
	"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "                      \
	"frame-ancestors 'none'; base-uri 'none'"

/* A string field of a form or JSON body; NULL when absent or not a string. */
static const char *field(const struct request *req, const char *name)
{
	json_t *v = req->json ? json_object_get(req->json, name) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The issuer without its trailing slashes, as the base of the endpoints' URLs. */
static int issuer_base(const struct request *req)
{
	const char *issuer = dev_idp_issuer(req->app->dev_idp);
	size_t len = strlen(issuer);

	while (len > 0 && issuer[len - 1] == '/')
		len--;
	return (int)len;
}

/*
 * The grant has one client, mgmtctl (devdevice.h): a request naming none or
 * another is refused, on the device code endpoint and on every poll. True
 * when refused (the answer is recorded: return req->status).
 */
static bool client_refused(struct request *req)
{
	const char *client_id = field(req, "client_id");

	if (!client_id)
		api_oauth_error(req, "invalid_request",
		                "the field \"client_id\" is required: \"" DEV_DEVICE_CLIENT_ID
		                "\", the one client of this grant");
	else if (strcmp(client_id, DEV_DEVICE_CLIENT_ID) != 0)
		api_oauth_error(
		    req, "invalid_client",
		    "unknown client_id: the dev identity provider's device grant serves "
		    "mgmtctl only (client_id \"" DEV_DEVICE_CLIENT_ID "\")");
	else
		return false;
	return true;
}

enum api_status api_dev_idp_device_code(struct request *req)
{
	/* RFC 6749 3.1: unknown parameters (scope, audience...) are ignored */
	const char *issuer = dev_idp_issuer(req->app->dev_idp);
	char verify[CONFIG_STR_SIZE + 64], complete[CONFIG_STR_SIZE + 96], why[192];
	struct dev_device_start start;
	json_t *answer;
	int base = issuer_base(req);

	if (client_refused(req))
		return req->status;
	switch (dev_devices_start(dev_idp_devices(req->app->dev_idp), DEV_DEVICE_CLIENT_ID,
	                          req->client_known ? req->client_addr : NULL, req->now, &start)) {
	case DEV_DEVICE_STARTED:
		break;
	case DEV_DEVICE_ADDRESS_SLOTS_TAKEN:
		snprintf(
		    why, sizeof(why),
		    "this address already holds %d device authorizations, the most one address "
		    "may: finish or deny one, or retry in %ld seconds when the first expires",
		    DEV_DEVICE_SLOTS_PER_ADDRESS, start.retry_in);
		req->retry_after = (int)start.retry_in;
		return api_oauth_refusal(req, API_TOO_MANY_REQUESTS, "temporarily_unavailable",
		                         why);
	case DEV_DEVICE_ALL_SLOTS_TAKEN:
		snprintf(why, sizeof(why),
		         "%d device authorizations are held, the most this server keeps: retry in "
		         "%ld seconds",
		         DEV_DEVICE_SLOTS, start.retry_in);
		return api_oauth_refusal(req, API_UNAVAILABLE, "temporarily_unavailable", why);
	}
	snprintf(verify, sizeof(verify), "%.*s%s", base, issuer, DEV_DEVICE_VERIFY_PATH);
	snprintf(complete, sizeof(complete), "%s?user_code=%s", verify, start.user_code);
	answer = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "device_code", start.device_code,
	                   "user_code", start.user_code, "verification_uri", verify,
	                   "verification_uri_complete", complete, "expires_in",
	                   (json_int_t)start.expires_in, "interval", (json_int_t)start.interval);
	sodium_memzero(&start, sizeof(start));
	return api_ok(req, answer);
}

bool api_dev_idp_is_device_grant(const struct request *req)
{
	const char *grant = field(req, "grant_type");

	return grant && strcmp(grant, DEV_DEVICE_GRANT_TYPE) == 0;
}

enum api_status api_dev_idp_device_token(struct request *req)
{
	static const char *const why[] = {
	    [DEV_DEVICE_PENDING] = "the code has not been approved yet",
	    [DEV_DEVICE_SLOW_DOWN] = "polled sooner than the interval allows; wait longer",
	    [DEV_DEVICE_DENIED] = "the request was denied on the verification page",
	    [DEV_DEVICE_EXPIRED] = "the device code has expired; start the sign-in again",
	    [DEV_DEVICE_INVALID] = "no such device code",
	};
	const char *device_code = field(req, "device_code");
	enum dev_device_poll p;
	char *jwt = NULL;
	long expires_in;
	json_t *answer;

	if (client_refused(req))
		return req->status;
	if (!device_code || !device_code[0])
		return api_oauth_error(req, "invalid_request",
		                       "the field \"device_code\" is required");
	p = dev_devices_poll(dev_idp_devices(req->app->dev_idp), device_code, req->now,
	                     time_monotonic_us() / 1000, &jwt, &expires_in);
	if (p != DEV_DEVICE_GRANTED)
		return api_oauth_error(req, dev_devices_poll_error(p), why[p]);
	answer = json_pack("{s:s, s:s, s:I}", "access_token", jwt, "token_type", "Bearer",
	                   "expires_in", (json_int_t)expires_in);
	sodium_memzero(jwt, strlen(jwt));
	free(jwt);
	return api_ok(req, answer);
}

/* ---- the verification page ---- */

static void html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

struct page {
	FILE *f;
	char *text;
	size_t len;
};

static bool page_begin(struct page *p)
{
	p->text = NULL;
	p->f = open_memstream(&p->text, &p->len);
	if (!p->f)
		return false;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<title>Sign in a device - mgmtd dev identity provider</title>\n"
	      "<style>body{font-family:sans-serif;max-width:38em;margin:2em auto;padding:0 1em}"
	      "label{display:block;margin:1em 0}input{font-size:1em}"
	      ".code{font-family:monospace;font-size:1.6em;letter-spacing:.1em}"
	      ".note{color:#555}.error{color:#a00}</style>\n"
	      "</head><body>\n<h1>Sign in a device</h1>\n"
	      "<p class=\"note\">mgmtd's built-in dev identity provider, a test device: whoever "
	      "reaches this page may sign a device in as any provisioned user.</p>\n",
	      p->f);
	return true;
}

/* The finished page (malloc'ed) or NULL when out of memory. */
static char *page_end(struct page *p)
{
	fputs("</body></html>\n", p->f);
	if (fclose(p->f) != 0) {
		free(p->text);
		return NULL;
	}
	return p->text;
}

static void page_error(struct page *p, const char *message)
{
	fputs("<p class=\"error\">", p->f);
	html_text(p->f, message);
	fputs("</p>\n", p->f);
}

/* The form asking for the code the device shows (a GET: it decides nothing). */
static void page_code_form(struct page *p)
{
	fputs("<form method=\"get\" action=\"" DEV_DEVICE_VERIFY_PATH "\">\n"
	      "<label>The code your device shows <input name=\"user_code\" autocomplete=\"off\" "
	      "autocapitalize=\"characters\" required placeholder=\"BCDF-GHJK\"></label>\n"
	      "<button type=\"submit\">Continue</button>\n</form>\n",
	      p->f);
}

/* Users listed on the page to pick from; more can be typed in. */
#define PAGE_MAX_USERS 100

/* One radio button per provisioned user (the first PAGE_MAX_USERS): "ACCOUNT EMAIL". */
static void page_users(struct page *p, struct request *req)
{
	struct store *s = req->store ? req->store : store_pool_get(req->app->stores);
	struct store_user *users = NULL;
	size_t n = 0;

	req->store = s; /* dispatch_request gives it back */
	if (!s || store_user_list_all(s, PAGE_MAX_USERS, &users, &n) != STORE_OK) {
		fputs("<p class=\"error\">The store could not list the users: type an email.</p>\n",
		      p->f);
		return;
	}
	fputs("<fieldset><legend>Sign in as</legend>\n", p->f);
	for (size_t i = 0; i < n; i++) {
		struct store_account a;

		fputs("<label><input type=\"radio\" name=\"login\" value=\"", p->f);
		html_text(p->f, users[i].account_id);
		fputc(' ', p->f);
		html_text(p->f, users[i].email);
		fputs("\"> ", p->f);
		html_text(p->f, users[i].email);
		fprintf(p->f, " (%s in ", user_group_name(users[i].group));
		html_text(p->f, store_account_get(s, users[i].account_id, &a) == STORE_OK
		                    ? a.name
		                    : users[i].account_id);
		fputs(")</label>\n", p->f);
	}
	if (n == 0)
		fputs("<p>Nobody is provisioned yet (mgmtd user add).</p>\n", p->f);
	fputs("</fieldset>\n", p->f);
	free(users);
}

/*
 * The decision form for one pending authorization: the code to compare, the
 * provisioned users to pick from, or an email to type. What the person typed
 * is not echoed back after a refusal: a page repeats nothing a request sent.
 */
static void page_decision_form(struct page *p, struct request *req, const struct dev_device_view *v)
{
	fputs("<p>A device", p->f);
	if (v->client_id[0]) {
		fputs(" (client <strong>", p->f);
		html_text(p->f, v->client_id);
		fputs("</strong>)", p->f);
	}
	fputs(" asks to sign in. Approve only if it shows this code:</p>\n<p class=\"code\">",
	      p->f);
	html_text(p->f, v->user_code);
	fputs("</p>\n<form method=\"post\" action=\"" DEV_DEVICE_VERIFY_PATH "\">\n"
	      "<input type=\"hidden\" name=\"user_code\" value=\"",
	      p->f);
	html_text(p->f, v->user_code);
	fputs("\">\n<input type=\"hidden\" name=\"csrf_token\" value=\"", p->f);
	html_text(p->f, v->csrf_token);
	fputs("\">\n", p->f);
	page_users(p, req);
	fputs("<label>Or type the email of a provisioned user <input type=\"email\" "
	      "name=\"email\" autocomplete=\"email\"></label>\n"
	      "<label>and the account id, when users of several accounts have it "
	      "<input name=\"account_id\" autocomplete=\"off\"></label>\n"
	      "<button type=\"submit\" name=\"action\" value=\"approve\">Approve</button>\n"
	      "<button type=\"submit\" name=\"action\" value=\"deny\">Deny</button>\n"
	      "</form>\n",
	      p->f);
}

static enum api_status page_answer(struct request *req, struct page *p, enum api_status st)
{
	char *html = page_end(p);

	if (!html)
		return api_fail(req, API_INTERNAL, "out of memory");
	return api_raw(req, st, "text/html; charset=utf-8", html, strlen(html), true, PAGE_CSP);
}

enum api_status api_dev_idp_verify_page(struct request *req)
{
	const char *code = request_query(req, "user_code");
	struct dev_device_view view;
	struct page p;

	if (!page_begin(&p))
		return api_fail(req, API_INTERNAL, "out of memory");
	if (!code || !code[0]) {
		page_code_form(&p);
		return page_answer(req, &p, API_OK);
	}
	if (!dev_devices_find(dev_idp_devices(req->app->dev_idp), code, req->now, &view)) {
		page_error(&p, "No device is waiting for this code: it is mistyped, has expired or "
		               "was already used. Start the sign-in on the device again.");
		page_code_form(&p);
		return page_answer(req, &p, API_NOT_FOUND);
	}
	page_decision_form(&p, req, &view);
	sodium_memzero(&view, sizeof(view));
	return page_answer(req, &p, API_OK);
}

/* Mints the JWT the device gets once approved; a sentence in why when it cannot. */
static char *mint_for(struct request *req, const char *email, const char *account_id, int64_t *exp,
                      char *why, size_t whylen)
{
	enum dev_idp_result r;
	enum store_status st;
	struct store *store;
	char email_why[RULE_WHY_SIZE];
	const char *problem;
	char *jwt = NULL;

	if ((problem = rule_email("email", email, email_why)) != NULL) {
		set_err(why, whylen, "%s", problem);
		return NULL;
	}
	if (account_id && !uuid_is_valid(account_id)) {
		set_err(why, whylen,
		        "the account id must be a UUID such as "
		        "11111111-1111-4111-8111-111111111111");
		return NULL;
	}
	store = req->store ? req->store : store_pool_get(req->app->stores);
	if (!store) {
		set_err(why, whylen, "the store cannot be opened; retry later");
		return NULL;
	}
	req->store = store; /* dispatch_request gives it back */
	r = dev_idp_mint(req->app->dev_idp, store, email, account_id, NULL, req->now / 1000,
	                 DEV_IDP_LIFETIME, &jwt, &st, why, whylen);
	if (r == DEV_IDP_STORE)
		set_err(why, whylen, "store error: %s", store_status_name(st));
	*exp = req->now / 1000 + DEV_IDP_LIFETIME;
	return r == DEV_IDP_OK ? jwt : NULL;
}

enum api_status api_dev_idp_verify(struct request *req)
{
	struct dev_devices *devices = dev_idp_devices(req->app->dev_idp);
	const char *code = field(req, "user_code"), *csrf = field(req, "csrf_token");
	const char *action = field(req, "action"), *email = field(req, "email");
	const char *account_id = field(req, "account_id"), *login = field(req, "login");
	char why[256], picked_account[UUID_STR_SIZE];
	struct dev_device_view view;
	enum api_status st = API_OK;
	bool approve;
	char *jwt = NULL;
	int64_t exp = 0;
	struct page p;

	/* a picked user ("ACCOUNT EMAIL") wins over what was typed */
	if (login && strlen(login) > UUID_STR_SIZE && login[UUID_STR_SIZE - 1] == ' ') {
		memcpy(picked_account, login, UUID_STR_SIZE - 1);
		picked_account[UUID_STR_SIZE - 1] = '\0';
		account_id = picked_account;
		email = login + UUID_STR_SIZE;
	}
	if (account_id && !account_id[0])
		account_id = NULL;
	if (!page_begin(&p))
		return api_fail(req, API_INTERNAL, "out of memory");
	if (!code || !dev_devices_find(devices, code, req->now, &view)) {
		page_error(&p, "No device is waiting for this code: it has expired or was already "
		               "decided. Start the sign-in on the device again.");
		page_code_form(&p);
		return page_answer(req, &p, API_NOT_FOUND);
	}
	/* Before anything is minted: the form must be the one this page gave out. */
	if (!csrf || strlen(csrf) != strlen(view.csrf_token) ||
	    sodium_memcmp(csrf, view.csrf_token, strlen(csrf)) != 0) {
		page_error(&p, "This form did not come from this page (its token does not match). "
		               "Open the verification link again.");
		st = API_FORBIDDEN;
		goto out;
	}
	if (!action || (strcmp(action, "approve") != 0 && strcmp(action, "deny") != 0)) {
		page_error(&p, "Choose Approve or Deny.");
		page_decision_form(&p, req, &view);
		st = API_BAD_REQUEST;
		goto out;
	}
	approve = strcmp(action, "approve") == 0;
	if (approve &&
	    !(jwt = mint_for(req, email ? email : "", account_id, &exp, why, sizeof(why)))) {
		page_error(&p, why);
		page_decision_form(&p, req, &view);
		st = API_BAD_REQUEST;
		goto out;
	}
	switch (dev_devices_decide(devices, code, csrf, jwt, exp, req->now)) {
	case DEV_DEVICE_DECIDED:
		break;
	case DEV_DEVICE_BAD_CSRF: /* raced with nothing that could change it; kept for safety */
		page_error(&p, "This form did not come from this page.");
		st = API_FORBIDDEN;
		goto out;
	case DEV_DEVICE_NO_SUCH_CODE:
		page_error(&p, "The code expired or was decided meanwhile.");
		st = API_NOT_FOUND;
		goto out;
	}
	if (approve) {
		fputs("<p>Signed in as <strong>", p.f);
		html_text(p.f, email);
		fputs("</strong>. You can close this page and go back to the device.</p>\n", p.f);
	} else {
		fputs("<p>Denied: the device is not signed in.</p>\n", p.f);
	}
out:
	sodium_memzero(&view, sizeof(view));
	return page_answer(req, &p, st);
}
