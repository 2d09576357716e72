/*
 * client.c - HTTP with libcurl: every exchange with mgmtd and the identity
 * provider, the --debug/--trace log with secrets redacted, and the API call
 * the nouns use.
 */
#define _GNU_SOURCE /* asprintf */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <sodium.h>

#include "ctl.h"
#include "jsonsplit.h"
#include "netcheck.h"
#include "output.h"
#include "safefile.h"
#include "strbuf.h"
#include "timeutil.h"
#include "util.h"

/* An answer larger than this is no answer of mgmtd's or of an IdP's. */
#define MAX_ANSWER (16 * 1024 * 1024)

/* ---- redaction ---- */

/*
 * Whether a field (JSON key, form or query parameter) of len bytes at key
 * carries a secret: any name holding "token" or "secret" (access_token,
 * accessToken, refresh_token, id_token, csrf_token, client_secret...), and
 * the OAuth names that do not say so: code (an authorization code),
 * device_code, code_verifier, password, assertion. Judged by name, so that
 * a field an identity provider invents is covered too.
 */
static bool is_secret_name(const char *key, size_t len)
{
	static const char *const exact[] = {
	    "code", "device_code", "code_verifier", "password", "client_assertion", "assertion",
	};
	char lower[64];

	if (len == 0 || len >= sizeof(lower))
		return false;
	for (size_t i = 0; i < len; i++)
		lower[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] - 'A' + 'a' : key[i]);
	lower[len] = '\0';
	if (strstr(lower, "token") || strstr(lower, "secret"))
		return true;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		if (strcmp(lower, exact[i]) == 0)
			return true;
	}
	return false;
}

/* Replaces the scalar values of secret fields, at any depth, with [REDACTED]. */
static void redact_json(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, item)
		{
			if (!json_is_object(item) && !json_is_array(item) && !json_is_null(item) &&
			    is_secret_name(key, strlen(key)))
				json_object_set_new(v, key, json_string("[REDACTED]"));
			else
				redact_json(item);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item) redact_json(item);
	}
}

static bool b64url_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_';
}

/* Length of a JWT (three base64url parts, the first starting "eyJ") at s, or 0. */
static size_t jwt_at(const char *s)
{
	size_t n = 0;
	int dots = 0;

	if (strncmp(s, "eyJ", 3) != 0)
		return 0;
	while (b64url_char(s[n]) || (s[n] == '.' && dots < 2 && (dots++, true)))
		n++;
	return dots == 2 ? n : 0;
}

/* Headers whose whole value is a secret, and those that keep their scheme. */
static const char *const secret_headers[] = {"Cookie:", "Set-Cookie:", NULL};
static const char *const auth_headers[] = {"Authorization:", "Proxy-Authorization:", NULL};

static size_t header_at(const char *s, const char *const names[])
{
	for (size_t i = 0; names[i]; i++) {
		size_t n = strlen(names[i]);

		if (strncasecmp(s, names[i], n) == 0)
			return n;
	}
	return 0;
}

/*
 * A form or query field that carries a secret at s ("name="), at a field's
 * start: the length of "name=", or 0.
 */
static size_t secret_assignment(const char *s, const char *start)
{
	bool at_boundary = s == start || s[-1] == '&' || s[-1] == '?' || s[-1] == '\n' ||
	                   s[-1] == ' ' || s[-1] == ';';
	size_t n = 0;

	if (!at_boundary)
		return 0;
	while (b64url_char(s[n]) || s[n] == '.')
		n++;
	return n > 0 && s[n] == '=' && is_secret_name(s, n) ? n + 1 : 0;
}

/*
 * A JSON member holding a secret in text that did not parse as JSON (a cut
 * body, two documents): at s, "name" then ':' then a string. Sets *value to
 * the string's opening quote and returns the bytes up to it, or 0.
 */
static size_t secret_member(const char *s, const char **value)
{
	const char *p = s + 1, *name = p;

	if (*s != '"')
		return 0;
	while (*p && *p != '"' && *p != '\\')
		p++;
	if (*p != '"' || !is_secret_name(name, (size_t)(p - name)))
		return 0;
	p++;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p++ != ':')
		return 0;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p != '"')
		return 0;
	*value = p;
	return (size_t)(p - s);
}

char *client_redact(const struct ctl *c, const char *text, size_t len)
{
	json_t *doc = NULL;
	char *copy = NULL, *work;
	struct strbuf out = STRBUF_INIT;
	const char *p;

	/* parsed whatever its first byte: JSON may start with whitespace */
	doc = len > 0 ? json_loadb(text, len, 0, NULL) : NULL;
	if (doc) {
		redact_json(doc);
		copy = json_dumps(doc, JSON_COMPACT);
		json_decref(doc);
	} else {
		copy = strndup(text, len);
	}
	if (!copy)
		return NULL;
	work = copy;
	/* the secrets of this run, wherever they are */
	for (size_t i = 0; i < c->secret_count; i++) {
		size_t n = strlen(c->secrets[i]);
		char *hit;

		while (n >= 8 && (hit = strstr(work, c->secrets[i])) != NULL) {
			memset(hit, '\x01', n); /* marked, collapsed below */
		}
	}
	for (p = work; *p && !out.failed;) {
		const char *value;
		size_t n;

		if (*p == '\x01') {
			while (*p == '\x01')
				p++;
			strbuf_addstr(&out, "[REDACTED]");
		} else if ((p == work || p[-1] == '\n') && (n = header_at(p, auth_headers)) > 0) {
			/* "Authorization: Bearer x": keep the scheme, hide the rest of the line */
			strbuf_add(&out, p, n);
			p += n;
			while (*p == ' ')
				strbuf_add(&out, p++, 1);
			while (*p && *p != ' ' && *p != '\r' && *p != '\n')
				strbuf_add(&out, p++, 1);
			while (*p && *p != '\r' && *p != '\n')
				p++;
			strbuf_addstr(&out, " [REDACTED]");
		} else if ((p == work || p[-1] == '\n') && (n = header_at(p, secret_headers)) > 0) {
			/* cookies are sessions: the whole value */
			strbuf_add(&out, p, n);
			p += n;
			while (*p && *p != '\r' && *p != '\n')
				p++;
			strbuf_addstr(&out, " [REDACTED]");
		} else if ((n = secret_assignment(p, work)) > 0) {
			strbuf_add(&out, p, n);
			p += n;
			while (*p && *p != '&' && *p != ' ' && *p != ';' && *p != '\r' &&
			       *p != '\n')
				p++;
			strbuf_addstr(&out, "[REDACTED]");
		} else if ((n = secret_member(p, &value)) > 0) {
			/* "name": "value" in text that is not whole JSON: the string, to its end */
			strbuf_add(&out, p, n);
			p = value + 1;
			while (*p && *p != '"')
				p += p[0] == '\\' && p[1] ? 2 : 1;
			if (*p == '"')
				p++;
			strbuf_addstr(&out, "\"[REDACTED]\"");
		} else if (strncmp(p, "M.V1.", 5) == 0 || strncmp(p, "apiv1_", 6) == 0) {
			n = p[0] == 'M' ? 5 : 6;
			strbuf_add(&out, p, n);
			p += n;
			while (b64url_char(*p))
				p++;
			strbuf_addstr(&out, "[REDACTED]");
		} else if ((n = jwt_at(p)) > 0) {
			p += n;
			strbuf_addstr(&out, "[REDACTED JWT]");
		} else {
			strbuf_add(&out, p++, 1);
		}
	}
	sodium_memzero(copy, strlen(copy));
	free(copy);
	if (out.failed || !out.data) {
		free(out.data);
		return strdup("[unprintable]");
	}
	return out.data;
}

void client_add_secret(struct ctl *c, const char *secret)
{
	if (!secret || strlen(secret) < 8 ||
	    c->secret_count == sizeof(c->secrets) / sizeof(c->secrets[0]))
		return;
	c->secrets[c->secret_count] = strdup(secret);
	if (c->secrets[c->secret_count])
		c->secret_count++;
}

void client_forget_secrets(struct ctl *c)
{
	for (size_t i = 0; i < c->secret_count; i++) {
		sodium_memzero(c->secrets[i], strlen(c->secrets[i]));
		free(c->secrets[i]);
	}
	c->secret_count = 0;
}

/* Prints text (redacted) as debug lines, each prefixed. */
static void trace_lines(const struct ctl *c, const char *prefix, const char *text, size_t len)
{
	char *safe = client_redact(c, text, len);
	char *line, *save = NULL;

	if (!safe)
		return;
	for (line = strtok_r(safe, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save))
		out_debug("%s%s", prefix, line);
	free(safe);
}

/* ---- libcurl ---- */

int client_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void client_cleanup(void)
{
	curl_global_cleanup();
}

struct exchange {
	struct ctl *c;
	CURL *h;
	struct strbuf body;
	bool too_large;
	/* a sink takes a 2xx body as it comes (decided at its first byte) */
	const struct ctl_body_sink *sink;
	bool decided, sinking, sink_stopped;
	/* with a sink, --timeout bounds each wait for the server, not the whole answer */
	int64_t idle_limit_us, last_activity_us;
	curl_off_t last_received;
	bool idle_expired;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct exchange *x = userdata;
	size_t n = size * nmemb;

	if (x->sink && !x->decided) {
		long status = 0;

		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
		x->sinking = status >= 200 && status < 300;
		x->decided = true;
	}
	if (x->sinking) {
		if (x->sink->take(x->sink->arg, ptr, n) != 0) {
			x->sink_stopped = true;
			return 0;
		}
		/* time spent printing (into a pager that waits) is not waiting for mgmtd */
		x->last_activity_us = time_monotonic_us();
		return n;
	}
	if (x->body.len + n > MAX_ANSWER) {
		x->too_large = true;
		return 0;
	}
	strbuf_add(&x->body, ptr, n);
	return x->body.failed ? 0 : n;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct exchange *x = userdata;
	int64_t now = time_monotonic_us();

	if (dlnow != x->last_received) {
		x->last_received = dlnow;
		x->last_activity_us = now;
	}
	if (now - x->last_activity_us > x->idle_limit_us) {
		x->idle_expired = true;
		return 1;
	}
	return 0;
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *userdata)
{
	struct exchange *x = userdata;

	(void)h;
	if (type == CURLINFO_HEADER_OUT)
		trace_lines(x->c, "> ", data, size);
	else if (type == CURLINFO_HEADER_IN)
		trace_lines(x->c, "< ", data, size);
	else if (type == CURLINFO_TEXT)
		trace_lines(x->c, "* ", data, size);
	return 0;
}

/* True when url is below mgmtd's base URL (the profile's TLS settings are for it). */
static bool is_mgmtd(const struct ctl *c, const char *url)
{
	const char *base = c->settings.url;
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	return strncmp(url, base, n) == 0 && (url[n] == '/' || url[n] == '\0' || url[n] == '?');
}

/*
 * The files of [profile.tls], before libcurl opens them: each must be a
 * regular file (a FIFO would hang the run inside OpenSSL), and a private
 * key others may read is said once a run, with the chmod to run. A file
 * that does not exist is left for libcurl to report. 0, or -1 with err.
 */
static int tls_files_check(struct ctl *c, char *err, size_t errlen)
{
	const struct {
		const char *path, *name;
	} files[] = {
	    {c->settings.tls.ca, "ca"},
	    {c->settings.tls.cert, "cert"},
	    {c->settings.tls.key, "key"},
	};
	struct stat st;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!files[i].path || stat(files[i].path, &st) != 0)
			continue;
		if (!S_ISREG(st.st_mode)) {
			set_err(err, errlen, "the [profile.tls] %s %s is not a regular file",
			        files[i].name, files[i].path);
			return -1;
		}
		if (files[i].path == c->settings.tls.key && safefile_loose(&st) &&
		    !c->warned_tls_key) {
			c->warned_tls_key = true;
			out_warn("the [profile.tls] key %s is open to other users (mode %04o): run "
			         "chmod 600 %s",
			         files[i].path, (unsigned)(st.st_mode & 07777), files[i].path);
		}
	}
	return 0;
}

int client_exchange(struct ctl *c, const char *method, const char *url, const char *bearer,
                    const char *content_type, const char *body, size_t body_len,
                    struct ctl_response *out, char *err, size_t errlen)
{
	return client_exchange_to(c, method, url, bearer, content_type, body, body_len, NULL, out,
	                          err, errlen);
}

int client_exchange_to(struct ctl *c, const char *method, const char *url, const char *bearer,
                       const char *content_type, const char *body, size_t body_len,
                       const struct ctl_body_sink *sink, struct ctl_response *out, char *err,
                       size_t errlen)
{
	char curl_err[CURL_ERROR_SIZE] = "", *auth = NULL, *ct = NULL, *shown_url = NULL;
	struct exchange x = {.c = c, .body = STRBUF_INIT, .sink = sink};
	struct curl_slist *headers = NULL, *grown;
	const char *got_type = NULL, *why;
	int64_t started = time_monotonic_us();
	CURL *h = curl_easy_init();
	CURLcode rc;
	int result = -1;

	memset(out, 0, sizeof(out[0]));
	x.h = h;
	if (!h) {
		set_err(err, errlen, "cannot start an HTTP request");
		return -1;
	}
	/* a CR or LF in a token would end the header and start one of the sender's choosing */
	if (bearer && (why = net_token_refusal(bearer)) != NULL) {
		set_err(err, errlen, "the token is not sent to %s: %s", url, why);
		goto out;
	}
	if (bearer && asprintf(&auth, "Authorization: Bearer %s", bearer) < 0)
		auth = NULL;
	if (content_type && asprintf(&ct, "Content-Type: %s", content_type) < 0)
		ct = NULL;
	if ((bearer && !auth) || (content_type && !ct)) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	grown = curl_slist_append(headers, "Accept: application/json");
	headers = grown ? grown : headers;
	grown = grown ? curl_slist_append(headers, "User-Agent: mgmtctl/" MGMTCTL_VERSION) : NULL;
	headers = grown ? grown : headers;
	if (grown && auth)
		headers = (grown = curl_slist_append(headers, auth)) ? grown : headers;
	if (grown && ct)
		headers = (grown = curl_slist_append(headers, ct)) ? grown : headers;
	/* no "Expect: 100-continue" round trip for small bodies */
	if (grown)
		headers = (grown = curl_slist_append(headers, "Expect:")) ? grown : headers;
	if (!grown) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	if (c->timeout_ms > 0 && sink) {
		x.idle_limit_us = c->timeout_ms * 1000;
		x.last_activity_us = started;
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	} else if (c->timeout_ms > 0) {
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	}
	/*
	 * Go's net/http, which influxctl uses, never sends loopback traffic to a
	 * proxy: a proxy would otherwise receive the token meant for a server on
	 * this machine, in clear. "" disables the proxy for this exchange alone;
	 * other destinations keep http_proxy, https_proxy and NO_PROXY as libcurl
	 * reads them.
	 */
	if (net_url_is_loopback(url))
		curl_easy_setopt(h, CURLOPT_PROXY, "");
	if (is_mgmtd(c, url)) {
		if (tls_files_check(c, err, errlen) != 0)
			goto out;
		if (c->settings.tls.ca)
			curl_easy_setopt(h, CURLOPT_CAINFO, c->settings.tls.ca);
		if (c->settings.tls.cert)
			curl_easy_setopt(h, CURLOPT_SSLCERT, c->settings.tls.cert);
		if (c->settings.tls.key)
			curl_easy_setopt(h, CURLOPT_SSLKEY, c->settings.tls.key);
		if (c->settings.tls.insecure) {
			/* influxctl says nothing; a credential sent so deserves a word */
			if (!c->warned_insecure && strncasecmp(url, "https://", 8) == 0) {
				c->warned_insecure = true;
				out_warn("insecure = true: mgmtd's certificate is not verified, so "
				         "anyone on the way can pose as mgmtd and take the "
				         "credential; set ca in [profile.tls] instead");
			}
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	if (c->verbosity >= 2) {
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
		curl_easy_setopt(h, CURLOPT_DEBUGDATA, &x);
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	}
	/* a query string may carry a secret too (?code=, ?access_token=) */
	if (c->verbosity >= 1) {
		shown_url = client_redact(c, url, strlen(url));
		out_debug("%s %s", method, shown_url ? shown_url : "[unprintable]");
	}
	if (c->verbosity >= 2 && body && body_len)
		trace_lines(c, "> ", body, body_len);

	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		if (x.too_large)
			set_err(err, errlen, "%s %s: the answer is larger than %d bytes", method,
			        url, MAX_ANSWER);
		else if (x.sink_stopped)
			set_err(err, errlen, "%s %s: the answer was refused while it came", method,
			        url);
		else if (x.idle_expired && !x.decided)
			set_err(err, errlen, "cannot reach %s: timed out after %lld ms (--timeout)",
			        url, (long long)c->timeout_ms);
		else if (x.idle_expired)
			set_err(err, errlen,
			        "%s %s: the answer was cut off: timed out after %lld ms without a "
			        "byte (--timeout)",
			        method, url, (long long)c->timeout_ms);
		else if (x.decided)
			set_err(err, errlen, "%s %s: the answer was cut off: %s", method, url,
			        curl_err[0] ? curl_err : curl_easy_strerror(rc));
		else
			set_err(err, errlen, "cannot reach %s: %s", url,
			        curl_err[0] ? curl_err : curl_easy_strerror(rc));
		if (c->verbosity >= 1)
			out_debug("%s %s failed after %lld ms", method,
			          shown_url ? shown_url : "[unprintable]",
			          (long long)((time_monotonic_us() - started) / 1000));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &got_type);
	out->content_type = got_type ? strdup(got_type) : NULL;
	out->body = x.body.data ? x.body.data : strdup("");
	out->len = x.body.len;
	x.body.data = NULL;
	if (!out->body) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	if (c->verbosity >= 1)
		out_debug("HTTP %ld from %s %s in %lld ms", out->status, method,
		          shown_url ? shown_url : "[unprintable]",
		          (long long)((time_monotonic_us() - started) / 1000));
	if (c->verbosity >= 2 && out->len)
		trace_lines(c, "< ", out->body, out->len);
	result = 0;
out:
	curl_easy_cleanup(h);
	curl_slist_free_all(headers);
	if (auth) {
		sodium_memzero(auth, strlen(auth));
		free(auth);
	}
	free(ct);
	free(shown_url);
	free(x.body.data);
	if (result != 0)
		client_response_release(out);
	return result;
}

void client_response_release(struct ctl_response *r)
{
	if (r->body) {
		sodium_memzero(r->body, r->len);
		free(r->body);
	}
	free(r->content_type);
	memset(r, 0, sizeof(*r));
}

void client_warn_cleartext(const char *url, const char *what, bool *once)
{
	char scheme[8], host[256];

	if (*once || !net_url_is_cleartext_remote(url) ||
	    !net_url_parts(url, scheme, sizeof(scheme), host, sizeof(host)))
		return;
	*once = true;
	out_warn("%s goes over plain http:// to %s: anyone on the way can read it and use it; "
	         "use https://",
	         what, host);
}

/* ---- the API ---- */

static void percent_encode(struct strbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (b64url_char((char)ch) || ch == '.' || ch == '~') {
			strbuf_add(b, s, 1);
		} else {
			char esc[3] = {'%', hex[ch >> 4], hex[ch & 15]};

			strbuf_add(b, esc, 3);
		}
	}
}

char *client_form(const char *const kv[])
{
	struct strbuf b = STRBUF_INIT;

	strbuf_addstr(&b, "");
	for (size_t i = 0; kv[i] && kv[i + 1]; i += 2) {
		if (i)
			strbuf_addstr(&b, "&");
		percent_encode(&b, kv[i]);
		strbuf_addstr(&b, "=");
		percent_encode(&b, kv[i + 1]);
	}
	if (b.failed) {
		free(b.data);
		return NULL;
	}
	return b.data;
}

int ctl_path(const struct ctl *c, bool with_cluster, char *out, size_t size, ...)
{
	struct strbuf b = STRBUF_INIT;
	const char *seg;
	va_list ap;
	int rc = -1;

	strbuf_addstr(&b, "/api/v0/accounts/");
	percent_encode(&b, c->settings.account_id ? c->settings.account_id : "");
	if (with_cluster) {
		strbuf_addstr(&b, "/clusters/");
		percent_encode(&b, c->settings.cluster_id ? c->settings.cluster_id : "");
	}
	va_start(ap, size);
	while ((seg = va_arg(ap, const char *)) != NULL) {
		strbuf_addstr(&b, "/");
		percent_encode(&b, seg);
	}
	va_end(ap);
	if (!b.failed && b.data && b.len < size) {
		memcpy(out, b.data, b.len + 1);
		rc = 0;
	} else {
		out_error("the names and ids given make a request path longer than %zu bytes",
		          size);
	}
	free(b.data);
	return rc;
}

/* The sentence of an error answer: the API's message, or what the answer was. */
static void answer_message(const struct ctl_response *r, const char *url, char *out, size_t size)
{
	json_t *doc = json_loadb(r->body, r->len, 0, NULL);
	const char *msg = doc ? out_str(doc, "message") : NULL;

	if (msg && msg[0])
		snprintf(out, size, "%s", msg);
	else
		snprintf(out, size, "%s answered HTTP %ld%s", url, r->status,
		         r->len ? " with a body that is not an error of mgmtd's" : "");
	json_decref(doc);
}

/*
 * The part of every API call before the answer is read: the credential, the
 * URL and the exchange (a 2xx body goes to sink when given). *url is set
 * (the caller frees it) unless -1. Returns 0 when an answer came; -1 when
 * it failed before the exchange (printed); -2 when the exchange failed, with
 * the sentence in err (not printed).
 */
static int api_call(struct ctl *c, const char *method, const char *path, const json_t *body,
                    const struct ctl_body_sink *sink, struct ctl_response *r, char **url, char *err,
                    size_t errlen)
{
	char *text = NULL;
	size_t n = strlen(c->settings.url);
	int rc;

	*url = NULL;
	if (auth_ensure(c) != CTL_OK)
		return -1;
	while (n > 0 && c->settings.url[n - 1] == '/')
		n--;
	if (asprintf(url, "%.*s%s", (int)n, c->settings.url, path) < 0) {
		*url = NULL;
		out_error("out of memory");
		return -1;
	}
	client_warn_cleartext(*url, "the credential", &c->warned_cleartext_api);
	if (body && !(text = json_dumps(body, JSON_COMPACT))) {
		free(*url);
		*url = NULL;
		out_error("out of memory");
		return -1;
	}
	rc = client_exchange_to(c, method, *url, c->credential, body ? "application/json" : NULL,
	                        text, text ? strlen(text) : 0, sink, r, err, errlen) == 0
	         ? 0
	         : -2;
	if (text) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	return rc;
}

/* The API's field names and the flags of mgmtctl that set them. */
static const struct {
	const char *field, *flag;
} field_flags[] = {
    {"expiresAt", "--expires-at"},
    {"retentionPeriod", "--retention-period"},
    {"maxTables", "--max-tables"},
    {"maxColumnsPerTable", "--max-columns"},
    {"partitionTemplate", "the partition template (--template-tag, --template-tag-bucket, "
                          "--template-timeformat)"},
};

static bool has_flag(const struct ctl_command *cmd, const char *flag)
{
	for (int i = 0; cmd && cmd->flags[i].name; i++) {
		if (strcmp(cmd->flags[i].name, flag) == 0)
			return true;
	}
	return false;
}

static bool word_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/*
 * msg with the API's field names the command has flags for written as those
 * flags: the person typed --expires-at, not expiresAt. A field's index and
 * path ("partitionTemplate[0].value") go with it: the flags do not number
 * their parts.
 */
static void in_flag_words(const struct ctl_command *cmd, const char *msg, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = msg; *p && o + 1 < size;) {
		const char *flag = NULL;
		size_t n = 0;

		if (p == msg || !word_char(p[-1])) {
			for (size_t i = 0; i < sizeof(field_flags) / sizeof(field_flags[0]); i++) {
				n = strlen(field_flags[i].field);
				if (strncmp(p, field_flags[i].field, n) == 0 && !word_char(p[n]) &&
				    has_flag(cmd, field_flags[i].flag[0] == '-'
				                      ? field_flags[i].flag + 2
				                      : "template-timeformat")) {
					flag = field_flags[i].flag;
					break;
				}
			}
		}
		if (!flag) {
			out[o++] = *p++;
			continue;
		}
		p += n;
		while (*p == '[' || *p == '.') { /* [0].value.tagName */
			p++;
			while (word_char(*p) || *p == ']')
				p++;
		}
		o += (size_t)snprintf(out + o, size - o, "%s", flag);
		if (o >= size)
			o = size - 1;
	}
	out[o] = '\0';
}

/* A refused call: the API's message printed; a 401 removes a cached sign-in. */
static void api_refused(struct ctl *c, const struct ctl_response *r, const char *url)
{
	char msg[1024], said[1280];

	answer_message(r, url, msg, sizeof(msg));
	in_flag_words(c->cmd, msg, said, sizeof(said));
	out_error("%s", said);
	if (r->status == 401)
		auth_refused(c);
}

int ctl_api(struct ctl *c, const char *method, const char *path, const json_t *body,
            json_t **answer)
{
	struct ctl_response r;
	char *url = NULL, err[1024];
	int rc = CTL_FAILED;

	if (answer)
		*answer = NULL;
	switch (api_call(c, method, path, body, NULL, &r, &url, err, sizeof(err))) {
	case -1:
		return CTL_FAILED;
	case -2:
		out_error("%s", err);
		free(url);
		return CTL_FAILED;
	}
	if (r.status >= 200 && r.status < 300) {
		rc = CTL_OK;
		if (answer && r.status != 204 && r.len > 0) {
			*answer = json_loadb(r.body, r.len, 0, NULL);
			if (!*answer) {
				out_error("%s answered HTTP %ld with a body that is not JSON", url,
				          r.status);
				rc = CTL_FAILED;
			}
		}
	} else {
		api_refused(c, &r, url);
	}
	client_response_release(&r);
	free(url);
	return rc;
}

/* ---- lists, item by item ---- */

/* An answer longer than this for one item of a list is no answer of mgmtd's. */
#define MAX_LIST_ITEM (1024 * 1024)

struct list_sink {
	struct ctl *c;
	struct jsonsplit split;
	ctl_item_fn each;
	void *arg;
	bool each_failed; /* each() stopped the list and said why */
	char why[256];    /* why an item was refused, when it was not each() */
};

static int list_item(void *arg, const char *text, size_t len)
{
	struct list_sink *ls = arg;
	json_error_t e;
	json_t *item;
	int rc;

	if (ls->c->verbosity >= 2)
		trace_lines(ls->c, "< ", text, len);
	item = json_loadb(text, len, JSON_DECODE_ANY, &e);
	if (!item) {
		snprintf(ls->why, sizeof(ls->why), "item %zu of the list is not JSON: %s",
		         ls->split.items + 1, e.text);
		return -1;
	}
	rc = ls->each(ls->arg, item);
	json_decref(item);
	if (rc != 0)
		ls->each_failed = true;
	return rc;
}

static int list_take(void *arg, const char *data, size_t len)
{
	struct list_sink *ls = arg;

	return jsonsplit_feed(&ls->split, data, len, list_item, ls);
}

int ctl_api_list(struct ctl *c, const char *path, ctl_item_fn each, void *arg)
{
	struct list_sink ls = {.c = c, .each = each, .arg = arg};
	struct ctl_body_sink sink = {list_take, &ls};
	struct ctl_response r;
	char *url = NULL, err[1024];
	int rc = CTL_FAILED;

	jsonsplit_init(&ls.split, MAX_LIST_ITEM);
	switch (api_call(c, "GET", path, NULL, &sink, &r, &url, err, sizeof(err))) {
	case -1:
		goto out;
	case -2:
		if (ls.each_failed)
			; /* said */
		else if (ls.why[0])
			out_error("%s: %s", url, ls.why);
		else if (ls.split.state == JSONSPLIT_FAILED)
			out_error("%s answered something that is not a list: %s", url,
			          ls.split.why);
		else if (ls.split.items > 0)
			out_error("%s (after %zu items)", err, ls.split.items);
		else
			out_error("%s", err);
		goto out;
	}
	if (r.status < 200 || r.status >= 300) {
		api_refused(c, &r, url);
	} else if (jsonsplit_finish(&ls.split) != 0) {
		out_error("%s answered something that is not a list: %s", url, ls.split.why);
	} else {
		rc = CTL_OK;
	}
	client_response_release(&r);
out:
	jsonsplit_release(&ls.split);
	free(url);
	return rc;
}
