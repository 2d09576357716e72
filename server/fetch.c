/*
 * fetch.c - HTTP GET with libcurl, bounded in size and time, for the keys of
 * identity providers. One easy handle per fetch: fetches are rare (minutes
 * apart), so connection reuse is not worth shared state between threads.
 */
#include "fetch.h"
#include "util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_AGE_LIMIT (365L * 24 * 3600)
#define MAX_REDIRECTS 3L

struct sink {
	char *buf;
	size_t len, cap;
	bool too_big;
	long max_age;
	const atomic_bool *cancel;
};

int fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void fetch_global_cleanup(void)
{
	curl_global_cleanup();
}

/* The smaller of two max-age answers, where -1 means "nothing said". */
static long min_age(long a, long b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* Reads a max-age value: digits, optionally quoted. -1 when malformed. */
static long age_value(const char *p, const char *end)
{
	long v = 0;
	bool quoted = p < end && *p == '"';

	if (quoted) {
		if (end - p < 2 || end[-1] != '"')
			return -1;
		p++;
		end--;
	}
	if (p == end)
		return -1;
	for (; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		if (v < MAX_AGE_LIMIT)
			v = v * 10 + (*p - '0');
	}
	return v > MAX_AGE_LIMIT ? MAX_AGE_LIMIT : v;
}

long fetch_max_age(const char *cc)
{
	long age = -1;

	if (!cc)
		return -1;
	for (const char *p = cc; *p;) {
		const char *end = p + strcspn(p, ",");
		const char *name, *name_end, *eq;

		name = p;
		while (name < end && isspace((unsigned char)*name))
			name++;
		eq = memchr(name, '=', (size_t)(end - name));
		name_end = eq ? eq : end;
		while (name_end > name && isspace((unsigned char)name_end[-1]))
			name_end--;
		if ((size_t)(name_end - name) == 7 && strncasecmp(name, "max-age", 7) == 0 && eq) {
			const char *v = eq + 1, *vend = end;

			while (v < vend && isspace((unsigned char)*v))
				v++;
			while (vend > v && isspace((unsigned char)vend[-1]))
				vend--;
			age = min_age(age, age_value(v, vend));
		} else if (((size_t)(name_end - name) == 8 &&
		            strncasecmp(name, "no-store", 8) == 0) ||
		           ((size_t)(name_end - name) == 8 &&
		            strncasecmp(name, "no-cache", 8) == 0)) {
			age = 0;
		}
		p = *end ? end + 1 : end;
	}
	return age;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct sink *s = userp;
	size_t n = size * nmemb;

	if (n > FETCH_MAX_BODY - s->len) {
		s->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 8192;
		char *grown;

		while (cap < s->len + n + 1)
			cap *= 2;
		grown = realloc(s->buf, cap);
		if (!grown)
			return 0;
		s->buf = grown;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static size_t on_header(char *data, size_t size, size_t nitems, void *userp)
{
	static const char name[] = "cache-control:";
	struct sink *s = userp;
	size_t n = size * nitems;
	char value[512];
	size_t vlen;

	/* Each response of a redirect chain starts anew with its status line. */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		s->max_age = -1;
		return n;
	}
	if (n < sizeof(name) - 1 || strncasecmp(data, name, sizeof(name) - 1) != 0)
		return n;
	vlen = n - (sizeof(name) - 1);
	if (vlen >= sizeof(value))
		vlen = sizeof(value) - 1; /* a longer header is nonsense; read what fits */
	memcpy(value, data + sizeof(name) - 1, vlen);
	value[vlen] = '\0';
	value[strcspn(value, "\r\n")] = '\0';
	s->max_age = min_age(s->max_age, fetch_max_age(value));
	return n;
}

static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct sink *s = userp;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return s->cancel && atomic_load(s->cancel) ? 1 : 0;
}

/*
 * What every request of ours sets: http or https only, a time limit in all, no signals
 * (threads), the answer's body into s (bounded), cancellation through s. Every value is
 * one libcurl 7.88 knows: a failure is a bug or out of memory.
 */
static bool common_options(CURL *h, const char *url, long timeout_ms, struct curl_slist *headers,
                           char curl_err[CURL_ERROR_SIZE], struct sink *s)
{
	return curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_USERAGENT, "mgmtd") == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_WRITEDATA, s) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_XFERINFODATA, s) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
}

int fetch_get(const char *url, const atomic_bool *cancel, struct fetch_result *out, char *err,
              size_t errlen)
{
	struct sink s = {.max_age = -1, .cancel = cancel};
	char curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	CURL *h = NULL;
	CURLcode rc;
	long status = 0;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	out->max_age = -1;
	if (cancel && atomic_load(cancel)) {
		set_err(err, errlen, "shutting down");
		return -1;
	}
	h = curl_easy_init();
	headers = curl_slist_append(NULL, "Accept: application/json");
	if (!h || !headers) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	if (!common_options(h, url, FETCH_TIMEOUT_MS, headers, curl_err, &s) ||
	    /* a redirect must not downgrade to plain HTTP */
	    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAXREDIRS, MAX_REDIRECTS) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FETCH_MAX_BODY) !=
	        CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HEADERDATA, &s) != CURLE_OK) {
		set_err(err, errlen, "cannot set up the HTTP client");
		goto out;
	}
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED)
			set_err(err, errlen, "GET %s: the answer is larger than %d bytes", url,
			        FETCH_MAX_BODY);
		else if (rc == CURLE_ABORTED_BY_CALLBACK)
			set_err(err, errlen, "GET %s: cancelled", url);
		else
			set_err(err, errlen, "GET %s: %s", url,
			        curl_err[0] ? curl_err : curl_easy_strerror(rc));
		goto out;
	}
	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200) {
		set_err(err, errlen, "GET %s: HTTP status %ld, not 200", url, status);
		goto out;
	}
	if (!s.buf) {
		set_err(err, errlen, "GET %s: empty answer", url);
		goto out;
	}
	out->body = s.buf;
	out->len = s.len;
	out->max_age = s.max_age;
	s.buf = NULL;
	ret = 0;
out:
	free(s.buf);
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	return ret;
}

long fetch_post(const char *url, const char *const *headers, const char *body, size_t len,
                int timeout_ms, const atomic_bool *cancel, char *err, size_t errlen)
{
	struct sink s = {.max_age = -1, .cancel = cancel};
	char curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *list = NULL, *grown;
	CURL *h = NULL;
	CURLcode rc;
	long status = -1;

	if (cancel && atomic_load(cancel)) {
		set_err(err, errlen, "shutting down");
		return -1;
	}
	h = curl_easy_init();
	list = curl_slist_append(NULL, "Content-Type: application/json");
	for (size_t i = 0; list && headers && headers[i]; i++) {
		grown = curl_slist_append(list, headers[i]);
		if (grown == NULL) {
			curl_slist_free_all(list);
			list = NULL;
		}
		list = grown;
	}
	if (!h || !list) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	if (!common_options(h, url, timeout_ms, list, curl_err, &s) ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK) {
		set_err(err, errlen, "cannot set up the HTTP client");
		goto out;
	}
	rc = curl_easy_perform(h);
	/* an answer larger than we read still answered: its status counts */
	if (rc != CURLE_OK && !(s.too_big || rc == CURLE_WRITE_ERROR)) {
		set_err(err, errlen, "POST %s: %s", url,
		        rc == CURLE_ABORTED_BY_CALLBACK ? "cancelled"
		        : curl_err[0]                   ? curl_err
		                                        : curl_easy_strerror(rc));
		goto out;
	}
	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status == 0) {
		set_err(err, errlen, "POST %s: no HTTP status", url);
		status = -1;
	}
out:
	free(s.buf);
	curl_slist_free_all(list);
	curl_easy_cleanup(h);
	return status;
}

void fetch_result_release(struct fetch_result *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}
