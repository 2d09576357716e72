/*
 * netcheck.c - decisions about URLs and header values (netcheck.h).
 */
#include "netcheck.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "util.h"

bool net_host_is_loopback(const char *host)
{
	char bare[INET6_ADDRSTRLEN + 16];
	struct in6_addr a6;
	struct in_addr a4;
	size_t n;

	if (!host || !host[0])
		return false;
	n = strlen(host);
	/* "[::1]": the brackets are the URL's, not the address's */
	if (host[0] == '[') {
		if (n < 3 || host[n - 1] != ']' || n - 2 >= sizeof(bare))
			return false;
		memcpy(bare, host + 1, n - 2);
		bare[n - 2] = '\0';
	} else {
		if (n >= sizeof(bare))
			return false;
		memcpy(bare, host, n + 1);
		/* "localhost." is the same name, fully qualified (RFC 6761 keeps it on loopback) */
		if (strcasecmp(bare, "localhost") == 0 || strcasecmp(bare, "localhost.") == 0)
			return true;
	}
	/* inet_pton takes only the four-part dotted form: "127.1" is a name, as for Go */
	if (inet_pton(AF_INET, bare, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, bare, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

bool net_url_parts(const char *url, char *scheme, size_t scheme_size, char *host, size_t host_size)
{
	CURLU *u = curl_url();
	char *s = NULL, *h = NULL;
	bool ok = false;

	if (!u)
		return false;
	/* the parser of the transfer itself, so that the host judged is the host reached */
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK)
		goto out;
	if (strcmp(s, "http") != 0 && strcmp(s, "https") != 0)
		goto out;
	if (strlen(s) >= scheme_size || strlen(h) >= host_size)
		goto out;
	memcpy(scheme, s, strlen(s) + 1);
	memcpy(host, h, strlen(h) + 1);
	ok = true;
out:
	curl_free(s);
	curl_free(h);
	curl_url_cleanup(u);
	return ok;
}

bool net_url_is_loopback(const char *url)
{
	char scheme[8], host[256];

	return net_url_parts(url, scheme, sizeof(scheme), host, sizeof(host)) &&
	       net_host_is_loopback(host);
}

bool net_url_is_cleartext_remote(const char *url)
{
	char scheme[8], host[256];

	if (!net_url_parts(url, scheme, sizeof(scheme), host, sizeof(host)))
		return false;
	return strcmp(scheme, "http") == 0 && !net_host_is_loopback(host);
}

/* The host of an origin "scheme://host[:port]" (url_origin's form), into out. */
static void origin_host(const char *origin, char *out, size_t size)
{
	const char *h = strstr(origin, "://");
	size_t n;

	h = h ? h + 3 : origin;
	if (h[0] == '[')
		n = strcspn(h, "]") + 1;
	else
		n = strcspn(h, ":");
	snprintf(out, size, "%.*s", (int)n, h);
}

const char *net_link_refusal(const char *url, const char *idp_url)
{
	char origin[512], idp_origin[512], host[512];

	if (!url || !url[0])
		return "it is empty";
	/* a plain link: no space, control, quote or byte past ASCII to confuse an opener */
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\'' || *p == '\\' ||
		    *p == '`' || *p == '<' || *p == '>')
			return "it holds characters no plain link has";
	}
	if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
		return "it is not an https:// link";
	/* url_origin refuses a user name or password ('@'), odd bytes in the host, no host */
	if (!url_origin(url, origin, sizeof(origin)))
		return "its host is not plainly written";
	if (strncmp(origin, "http://", 7) == 0) {
		origin_host(origin, host, sizeof(host));
		if (!net_host_is_loopback(host))
			return "it is an http:// link to a host that is not this machine";
	}
	if (!idp_url || !url_origin(idp_url, idp_origin, sizeof(idp_origin)) ||
	    strcmp(origin, idp_origin) != 0)
		return "it does not lead to the identity provider that sent it";
	return NULL;
}

const char *net_token_refusal(const char *value)
{
	if (!value || !value[0])
		return "it is empty";
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return "it holds a control character";
		if (*p == 0x20 || *p > 0x7f)
			return "it holds a space or a character past ASCII";
	}
	return NULL;
}
