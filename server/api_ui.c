/*
 * api_ui.c - the Admin UI at /ui/ ([ui] enabled): its embedded files
 * (ui.h), served from memory with their content type and ETag, and
 * /ui/config.json, what the UI needs to know to sign in.
 *
 * Every answer carries a Content-Security-Policy that allows only this
 * server's own scripts, styles and images, nothing inline, and fetches only
 * to this server and the identity provider's origin (its discovery document
 * and token endpoint); with the safety headers http.c adds to everything.
 * The page itself is never cached (no-store); the other files are
 * revalidated by ETag (no-cache, 304).
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "request.h"
#include "ui.h"

#define UI_CSP_SIZE 1536

/*
 * The issuer the UI signs in through: the dev IdP when it is on, else the
 * plain [idp], else the first [idp NAME] section; NULL when there is none.
 */
static const char *ui_issuer(const struct app *app)
{
	if (app->dev_idp)
		return dev_idp_issuer(app->dev_idp);
	if (app->cfg.idp.issuer[0])
		return app->cfg.idp.issuer;
	if (app->cfg.idp_count > 0)
		return app->cfg.idps[0].issuer;
	return NULL;
}

static void ui_csp(const struct app *app, char out[UI_CSP_SIZE])
{
	char origin[CONFIG_STR_SIZE];

	url_origin(ui_issuer(app), origin, sizeof(origin)); /* "" when there is none */
	snprintf(out, UI_CSP_SIZE,
	         "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
	         "connect-src 'self'%s%s; form-action 'self'; frame-ancestors 'none'; "
	         "base-uri 'none'; object-src 'none'",
	         origin[0] ? " " : "", origin);
}

bool ui_etag_listed(const char *header, const char *etag)
{
	size_t n = strlen(etag);

	while (header && *header) {
		size_t len;

		header += strspn(header, " \t,");
		if (header[0] == '*')
			return true;
		if (strncmp(header, "W/", 2) == 0)
			header += 2;
		len = strcspn(header, ",");
		while (len > 0 && (header[len - 1] == ' ' || header[len - 1] == '\t'))
			len--;
		if (len == n && strncmp(header, etag, n) == 0)
			return true;
		header += strcspn(header, ",");
	}
	return false;
}

static enum api_status serve_file(struct request *req, const char *name)
{
	char csp[UI_CSP_SIZE];
	const struct ui_file *f = NULL;
	enum api_status st;

	ui_csp(req->app, csp);
	for (size_t i = 0; i < ui_file_count && !f; i++)
		if (strcmp(ui_files[i].name, name) == 0)
			f = &ui_files[i];
	if (f == NULL)
		return api_raw(req, API_NOT_FOUND, "text/plain; charset=utf-8", "no such file\n",
		               13, false, csp);
	if (ui_etag_listed(req->if_none_match, f->etag))
		st = api_raw(req, API_NOT_MODIFIED, NULL, NULL, 0, false, csp);
	else
		st = api_raw(req, API_OK, f->content_type, f->data, f->len, false, csp);
	if (req->raw) {
		req->raw->etag = f->etag;
		/* The page is fetched afresh every time; the rest is revalidated. */
		req->raw->cache_control = strcmp(name, "index.html") == 0 ? "no-store" : "no-cache";
	}
	return st;
}

enum api_status api_ui_redirect(struct request *req)
{
	return api_redirect(req, "/ui/");
}

enum api_status api_ui_index(struct request *req)
{
	return serve_file(req, "index.html");
}

enum api_status api_ui_file(struct request *req)
{
	return serve_file(req, request_param(req, "file"));
}

enum api_status api_ui_config(struct request *req)
{
	const struct config *cfg = &req->app->cfg;
	const char *issuer = ui_issuer(req->app);
	char csp[UI_CSP_SIZE], *text;
	json_t *o, *sign_in = NULL;
	int bad = 0;

	o = json_pack("{s:b, s:i}", "tokensMayMint", cfg->tokens_may_mint, "inviteDays",
	              cfg->invite_days);
	if (o && issuer && cfg->ui_client_id[0]) {
		sign_in = json_pack("{s:s, s:s, s:s, s:b}", "issuer", issuer, "clientId",
		                    cfg->ui_client_id, "scopes", cfg->ui_scopes, "devIdp",
		                    req->app->dev_idp != NULL);
		if (sign_in && json_set_text(sign_in, "audience", cfg->ui_audience) != 0) {
			json_decref(sign_in);
			sign_in = NULL;
		}
		/* json_object_set_new takes sign_in, also when it fails */
		bad |= json_object_set_new(o, "signIn", sign_in);
	}
	text = o && !bad ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	ui_csp(req->app, csp);
	return api_raw(req, API_OK, "application/json", text, strlen(text), true, csp);
}
