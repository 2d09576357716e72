/*
 * device.c - the device authorization grant, from the device's side.
 */
#define _GNU_SOURCE /* asprintf */
#include "device.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "netcheck.h"
#include "output.h"
#include "timeutil.h"

#define GRANT_TYPE "urn:ietf:params:oauth:grant-type:device_code"

struct endpoints {
	char *device_url, *token_url;
};

static void endpoints_release(struct endpoints *e)
{
	free(e->device_url);
	free(e->token_url);
}

void device_token_release(struct device_token *t)
{
	if (t->access_token) {
		sodium_memzero(t->access_token, strlen(t->access_token));
		free(t->access_token);
	}
	free(t->token_type);
	memset(t, 0, sizeof(*t));
}

/* GET or POST, then the answer as JSON (any status); NULL with the error printed. */
static json_t *exchange_json(struct ctl *c, const char *method, const char *url, const char *form,
                             long *status)
{
	struct ctl_response r;
	char err[1024];
	json_t *doc;

	if (client_exchange(c, method, url, NULL, form ? "application/x-www-form-urlencoded" : NULL,
	                    form, form ? strlen(form) : 0, &r, err, sizeof(err)) != 0) {
		out_error("%s", err);
		return NULL;
	}
	*status = r.status;
	doc = json_loadb(r.body, r.len, 0, NULL);
	if (!doc || !json_is_object(doc)) {
		out_error("%s answered HTTP %ld with a body that is not a JSON object", url,
		          r.status);
		json_decref(doc);
		doc = NULL;
	}
	client_response_release(&r);
	return doc;
}

static int find_endpoints(struct ctl *c, struct endpoints *e)
{
	const struct ctl_settings *s = &c->settings;
	const char *device, *token;
	char *url = NULL;
	size_t n = strlen(s->url);
	json_t *doc;
	long status = 0;
	int rc = CTL_FAILED;

	memset(e, 0, sizeof(*e));
	if (s->oauth2.device_url && s->oauth2.token_url) {
		e->device_url = strdup(s->oauth2.device_url);
		e->token_url = strdup(s->oauth2.token_url);
		return e->device_url && e->token_url ? CTL_OK : CTL_FAILED;
	}
	while (n > 0 && s->url[n - 1] == '/')
		n--;
	if (asprintf(&url, "%.*s/.well-known/openid-configuration", (int)n, s->url) < 0)
		return CTL_FAILED;
	doc = exchange_json(c, "GET", url, NULL, &status);
	if (!doc)
		goto out;
	if (status != 200) {
		out_error(
		    "%s answered HTTP %ld: no OpenID discovery document there; set device_url "
		    "and token_url in [profile.auth.oauth2]",
		    url, status);
		goto out;
	}
	device = s->oauth2.device_url ? s->oauth2.device_url
	                              : out_str(doc, "device_authorization_endpoint");
	token = s->oauth2.token_url ? s->oauth2.token_url : out_str(doc, "token_endpoint");
	if (!device || !token) {
		out_error(
		    "the identity provider of %s offers no device authorization grant (no %s in "
		    "its discovery document); set device_url and token_url in "
		    "[profile.auth.oauth2]",
		    url, device ? "token_endpoint" : "device_authorization_endpoint");
		goto out;
	}
	e->device_url = strdup(device);
	e->token_url = strdup(token);
	rc = e->device_url && e->token_url ? CTL_OK : CTL_FAILED;
out:
	json_decref(doc);
	free(url);
	return rc;
}

/*
 * Opens url in a browser when there is a display to show one; never waits
 * for it. The caller has checked url (net_link_refusal): it starts with
 * "http", so xdg-open, which takes no "--" and refuses any argument starting
 * with '-', can only read it as the link.
 */
static void open_browser(const char *url)
{
	pid_t pid;

	if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY"))
		return;
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		/* a grandchild runs the opener, so that nothing is left to reap */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (fork() != 0)
			_exit(0);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		setsid();
		execlp("xdg-open", "xdg-open", url, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/*
 * Shows the person how to sign in, every piece of it escaped (the link and
 * the code are the identity provider's text), and opens the link only when
 * net_link_refusal() finds nothing wrong with it; else says why not, so that
 * a link to somewhere else is not followed blindly. 0, or -1 (printed).
 */
static int show_and_open(const char *user_code, const char *uri, const char *complete,
                         const char *idp_url)
{
	const char *link = complete ? complete : uri;
	const char *why = net_link_refusal(link, idp_url);
	char *code = out_escape(user_code), *shown = out_escape(link);
	int rc = -1;

	if (!code || !shown) {
		out_error("out of memory");
		goto out;
	}
	fflush(stdout);
	if (complete)
		fprintf(stderr,
		        "To sign in, open this link in a browser and check that it shows the code "
		        "%s:\n\n    %s\n\n",
		        code, shown);
	else
		fprintf(stderr, "To sign in, open %s in a browser and enter the code %s\n\n", shown,
		        code);
	if (why)
		out_warn("the link is not opened in a browser: %s", why);
	fprintf(stderr, "Waiting for the sign-in to be approved...\n");
	fflush(stderr);
	if (!why)
		open_browser(link);
	rc = 0;
out:
	free(code);
	free(shown);
	return rc;
}

static void sleep_seconds(long seconds)
{
	struct timespec ts = {seconds, 0};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static const char *client_id(const struct ctl *c)
{
	return c->settings.oauth2.client_id ? c->settings.oauth2.client_id
	                                    : DEVICE_DEFAULT_CLIENT_ID;
}

/* The device authorization request's form: client_id, scope, the profile's parameters. */
static char *request_form(const struct ctl *c)
{
	const struct ctl_settings *s = &c->settings;
	const char **kv = calloc(4 + 2 * s->oauth2.param_count + 1, sizeof(*kv));
	char *scope = NULL, *form = NULL;
	size_t n = 0, len = 0;

	if (!kv)
		return NULL;
	kv[n++] = "client_id";
	kv[n++] = client_id(c);
	for (size_t i = 0; i < s->oauth2.scope_count; i++)
		len += strlen(s->oauth2.scopes[i]) + 1;
	if (len) {
		scope = calloc(1, len);
		if (!scope)
			goto out;
		for (size_t i = 0; i < s->oauth2.scope_count; i++) {
			if (i)
				strcat(scope, " ");
			strcat(scope, s->oauth2.scopes[i]);
		}
		kv[n++] = "scope";
		kv[n++] = scope;
	}
	for (size_t i = 0; i < s->oauth2.param_count; i++) {
		kv[n++] = s->oauth2.params[i].key;
		kv[n++] = s->oauth2.params[i].value;
	}
	form = client_form(kv);
out:
	free(scope);
	free(kv);
	return form;
}

static long json_long(const json_t *obj, const char *key, long fallback)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 86400 * 7)
		return (long)json_integer_value(v);
	/* some IdPs send numbers as strings */
	if (json_is_string(v)) {
		char *end;
		long n = strtol(json_string_value(v), &end, 10);

		if (*end == '\0' && n > 0 && n < 86400 * 7)
			return n;
	}
	return fallback;
}

/* An OAuth error answer as a sentence: "error: description". */
static void oauth_error_text(const json_t *doc, long status, char *out, size_t size)
{
	const char *error = out_str(doc, "error"), *description = out_str(doc, "error_description");

	if (!description)
		description = out_str(doc, "message");
	if (error && description)
		snprintf(out, size, "%s: %s", error, description);
	else if (error || description)
		snprintf(out, size, "%s", error ? error : description);
	else
		snprintf(out, size, "HTTP %ld", status);
}

/* Polls until approved, denied or expired. */
static int poll_token(struct ctl *c, const struct endpoints *e, const char *device_code,
                      long interval, long expires_in, struct device_token *out)
{
	const char *kv[] = {"grant_type", GRANT_TYPE,   "device_code", device_code,
	                    "client_id",  client_id(c), NULL};
	int64_t deadline = time_monotonic_us() + (int64_t)expires_in * 1000000;
	char *form = client_form(kv);
	char why[512];
	int rc = CTL_FAILED;

	if (!form) {
		out_error("out of memory");
		return CTL_FAILED;
	}
	for (;;) {
		const char *error, *token;
		json_t *doc;
		long status = 0;

		if (time_monotonic_us() + (int64_t)interval * 1000000 > deadline) {
			out_error(
			    "the code expired before the sign-in was approved; run the command "
			    "again to get a new one");
			break;
		}
		sleep_seconds(interval);
		doc = exchange_json(c, "POST", e->token_url, form, &status);
		if (!doc)
			break;
		token = out_str(doc, "access_token");
		error = out_str(doc, "error");
		if (status == 200 && token && token[0] && net_token_refusal(token)) {
			/* never cached, never sent: it would inject headers into every request */
			out_error("the identity provider's access token cannot be used: %s",
			          net_token_refusal(token));
			json_decref(doc);
			break;
		}
		if (status == 200 && token && token[0]) {
			out->access_token = strdup(token);
			out->token_type = strdup(
			    out_str(doc, "token_type") ? out_str(doc, "token_type") : "Bearer");
			out->expires_in = json_long(doc, "expires_in", 0);
			client_add_secret(c, token);
			sodium_memzero((char *)token, strlen(token));
			json_decref(doc);
			rc = out->access_token && out->token_type ? CTL_OK : CTL_FAILED;
			break;
		}
		if (error && strcmp(error, "authorization_pending") == 0) {
			json_decref(doc);
			continue;
		}
		if (error && strcmp(error, "slow_down") == 0) {
			interval += DEVICE_SLOW_DOWN_STEP;
			json_decref(doc);
			continue;
		}
		oauth_error_text(doc, status, why, sizeof(why));
		if (error && strcmp(error, "access_denied") == 0)
			out_error("the sign-in was denied (%s)", why);
		else if (error && strcmp(error, "expired_token") == 0)
			out_error("the code expired before the sign-in was approved (%s); run the "
			          "command again to get a new one",
			          why);
		else
			out_error("the identity provider refused the sign-in: %s", why);
		json_decref(doc);
		break;
	}
	sodium_memzero(form, strlen(form));
	free(form);
	return rc;
}

int device_sign_in(struct ctl *c, struct device_token *out)
{
	const char *device_code, *user_code, *uri, *complete;
	struct endpoints e;
	char *form = NULL, why[512];
	json_t *doc = NULL;
	long status = 0, interval, expires_in;
	int rc = CTL_FAILED;

	memset(out, 0, sizeof(*out));
	if (find_endpoints(c, &e) != CTL_OK)
		goto out;
	/* the device code goes there, and the token comes back from there */
	client_warn_cleartext(e.token_url, "the sign-in", &c->warned_cleartext_idp);
	form = request_form(c);
	if (!form) {
		out_error("out of memory");
		goto out;
	}
	doc = exchange_json(c, "POST", e.device_url, form, &status);
	if (!doc)
		goto out;
	device_code = out_str(doc, "device_code");
	user_code = out_str(doc, "user_code");
	/* verification_url: the name some IdPs (Google) use */
	uri = out_str(doc, "verification_uri") ? out_str(doc, "verification_uri")
	                                       : out_str(doc, "verification_url");
	complete = out_str(doc, "verification_uri_complete");
	if (status != 200 || !device_code || !user_code || !uri) {
		oauth_error_text(doc, status, why, sizeof(why));
		out_error("the identity provider at %s did not start a device sign-in: %s",
		          e.device_url,
		          status == 200 ? "its answer lacks device_code, user_code or "
		                          "verification_uri"
		                        : why);
		goto out;
	}
	client_add_secret(c, device_code);
	interval = json_long(doc, "interval", DEVICE_DEFAULT_INTERVAL);
	expires_in = json_long(doc, "expires_in", 600);

	if (show_and_open(user_code, uri, complete, e.device_url) != 0)
		goto out;

	rc = poll_token(c, &e, device_code, interval, expires_in, out);
	if (rc == CTL_OK)
		fprintf(stderr, "Signed in.\n");
out:
	if (doc) {
		json_t *dc = json_object_get(doc, "device_code");

		if (json_is_string(dc))
			sodium_memzero((char *)json_string_value(dc), json_string_length(dc));
	}
	json_decref(doc);
	free(form);
	endpoints_release(&e);
	return rc;
}
