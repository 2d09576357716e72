/*
 * fuzz_devidp.c - what browsers and OAuth clients send the dev IdP's
 * authorization-code grant, through the real request path (dispatch.c,
 * form and JSON parsing, the handlers, the code table), and the Admin UI's
 * If-None-Match matching.
 *
 * Input: one byte choosing the target, then the rest:
 *   0: the body of POST /oauth/authorize (a form: the page's pick)
 *   1: the body of POST /oauth/token as a form, after "grant_type=authorization_code&"
 *   2: the same as JSON
 *   3: a real code of member@example.com first, then "grant_type=...&code=CODE&" + the rest
 *   4: an If-None-Match header value against a fixed ETag
 * Raw answers (pages, redirects, OAuth JSON) are checked by the harness: no
 * 500, no markup or secret from the request in a page, redirects only to
 * http(s), JSON answers objects and their errors OAuth-shaped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devidp.h"
#include "dispatch.h"
#include "harness.h"
#include "request.h"
#include "ui.h"

#define GOOD_PICK                                                                                  \
	"response_type=code&client_id=ui&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fui%2F"          \
	"&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"   \
	"&state=s&login=" FUZZ_ACCOUNT_A "+member%40example.com"

static struct fuzz_server *server(void)
{
	struct fuzz_server *fs = fuzz_server();
	char err[256];

	if (fs->app.dev_idp == NULL && dev_idp_open("", "http://127.0.0.1:1", "mgmtd",
	                                            &fs->app.dev_idp, err, sizeof(err)) != 0)
		abort();
	/* the grant's one client: the Admin UI, back at http://127.0.0.1:1/ui/ */
	fs->app.cfg.ui_enabled = true;
	snprintf(fs->app.cfg.ui_client_id, sizeof(fs->app.cfg.ui_client_id), "ui");
	return fs;
}

static void post(struct fuzz_server *fs, const char *path, const char *type, const char *prefix,
                 const uint8_t *data, size_t size)
{
	size_t n = strlen(prefix);
	char *body = malloc(n + size + 1);

	if (body == NULL)
		abort();
	memcpy(body, prefix, n);
	memcpy(body + n, data, size);
	fuzz_request(fs, "POST", path, NULL, type, body, n + size);
	free(body);
}

/*
 * Picks member@example.com on the page and returns "grant_type=...&code=CODE&"
 * (malloc'ed). Not the admin: its idpSubject is bound to no identity
 * provider, and the dev IdP refuses to sign such a user in.
 */
static char *good_code(struct fuzz_server *fs)
{
	static const char form[] = "application/x-www-form-urlencoded";
	struct request req;
	const char *code;
	char *out = NULL;

	request_init(&req, &fs->app);
	req.method = "POST";
	req.path = "/oauth/authorize";
	req.content_type = form;
	req.body = GOOD_PICK;
	req.body_len = sizeof(GOOD_PICK) - 1;
	dispatch_request(&req);
	if (req.raw == NULL || req.raw->location == NULL ||
	    (code = strstr(req.raw->location, "code=")) == NULL)
		abort(); /* the fixed good pick must work */
	code += 5;
	out = malloc(128);
	if (out == NULL)
		abort();
	snprintf(out, 128, "grant_type=authorization_code&code=%.*s&", (int)strcspn(code, "&"),
	         code);
	request_release(&req);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char form[] = "application/x-www-form-urlencoded";
	struct fuzz_server *fs = server();
	char *text, *prefix;

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		post(fs, "/oauth/authorize", form, "", data + 1, size - 1);
		break;
	case 1:
		post(fs, "/oauth/token", form, "grant_type=authorization_code&", data + 1,
		     size - 1);
		break;
	case 2:
		post(fs, "/oauth/token", "application/json",
		     "{\"grant_type\":\"authorization_code\",", data + 1, size - 1);
		break;
	case 3:
		prefix = good_code(fs);
		post(fs, "/oauth/token", form, prefix, data + 1, size - 1);
		free(prefix);
		break;
	default:
		text = strndup((const char *)data + 1, size - 1);
		if (text == NULL)
			abort();
		(void)ui_etag_listed(text, "\"0123456789abcdef0123456789abcdef\"");
		free(text);
		break;
	}
	return 0;
}
