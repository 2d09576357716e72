/*
 * proxies.c - trusted proxies and the client behind them (proxies.h).
 */
#include "proxies.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool proxies_parse_address(const char *s, size_t len, unsigned char out[16])
{
	char text[INET6_ADDRSTRLEN + 2];
	struct in_addr v4;

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		if (len == 0 || len >= sizeof(text) || memchr(s, ':', len) == NULL)
			return false;
		memcpy(text, s, len);
		text[len] = '\0';
		return inet_pton(AF_INET6, text, out) == 1;
	}
	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	if (inet_pton(AF_INET, text, &v4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &v4, 4);
		return true;
	}
	return inet_pton(AF_INET6, text, out) == 1;
}

static bool is_v4_mapped(const unsigned char a[16])
{
	static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

static bool in_net(const struct proxy_net *n, const unsigned char a[16])
{
	unsigned whole = n->prefix / 8, rest = n->prefix % 8;

	if (memcmp(n->addr, a, whole) != 0)
		return false;
	return rest == 0 || ((n->addr[whole] ^ a[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* One "ADDR" or "ADDR/BITS" of the list. */
static int parse_net(const char *s, size_t len, struct proxy_net *n, char *why, size_t whysize)
{
	const char *slash = memchr(s, '/', len);
	size_t addr_len = slash ? (size_t)(slash - s) : len;
	unsigned max, bits;

	if (!proxies_parse_address(s, addr_len, n->addr)) {
		snprintf(why, whysize, "not an IPv4 or IPv6 address: '%.*s'",
		         (int)(addr_len < 64 ? addr_len : 64), s);
		return -1;
	}
	max = is_v4_mapped(n->addr) && memchr(s, ':', addr_len) == NULL ? 32 : 128;
	bits = max;
	if (slash) {
		const char *p = slash + 1, *end = s + len;

		bits = 0;
		if (p == end || end - p > 3) {
			snprintf(why, whysize, "not a prefix length: '%.*s'",
			         (int)(len < 64 ? len : 64), s);
			return -1;
		}
		for (; p < end; p++) {
			if (*p < '0' || *p > '9') {
				snprintf(why, whysize, "not a prefix length: '%.*s'",
				         (int)(len < 64 ? len : 64), s);
				return -1;
			}
			bits = bits * 10 + (unsigned)(*p - '0');
		}
		if (bits > max) {
			snprintf(why, whysize, "a prefix longer than %u bits: '%.*s'", max,
			         (int)(len < 64 ? len : 64), s);
			return -1;
		}
	}
	n->prefix = max == 32 ? bits + 96 : bits;
	/* host bits set (10.0.0.1/8) are most likely a typo for something else */
	for (unsigned b = n->prefix; b < 128; b++)
		if (n->addr[b / 8] & (0x80 >> (b % 8))) {
			snprintf(why, whysize, "the address has bits set past its prefix: '%.*s'",
			         (int)(len < 64 ? len : 64), s);
			return -1;
		}
	return 0;
}

int proxies_parse(const char *text, struct proxies *out, char *why, size_t whysize)
{
	const char *p = text;

	memset(out, 0, sizeof(*out));
	while (*p) {
		size_t len;

		p += strspn(p, ", \t");
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		if (out->count == PROXIES_MAX) {
			snprintf(why, whysize, "more than %d addresses or networks", PROXIES_MAX);
			goto fail;
		}
		if (parse_net(p, len, &out->nets[out->count], why, whysize) != 0)
			goto fail;
		out->count++;
		p += len;
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return -1;
}

bool proxies_contains(const struct proxies *p, const unsigned char addr[16])
{
	for (size_t i = 0; i < p->count; i++)
		if (in_net(&p->nets[i], addr))
			return true;
	return false;
}

/* The entry of list that ends at end (exclusive), trimmed; *start is set to its first byte. */
static size_t last_entry(const char *list, const char *end, const char **start)
{
	const char *s = end;

	while (end > list && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	s = end;
	while (s > list && s[-1] != ',')
		s--;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	*start = s;
	return (size_t)(end - s);
}

bool proxies_client(const struct proxies *p, const char *forwarded_for, unsigned char client[16])
{
	const char *end, *start;
	unsigned char addr[16], last[16];
	bool have = false;

	if (forwarded_for == NULL)
		return false;
	end = forwarded_for + strlen(forwarded_for);
	while (end > forwarded_for) {
		size_t len = last_entry(forwarded_for, end, &start);

		if (!proxies_parse_address(start, len, addr))
			break;
		memcpy(last, addr, sizeof(last));
		have = true;
		if (!proxies_contains(p, addr))
			break;
		/* past this entry and its comma */
		end = start;
		while (end > forwarded_for && end[-1] != ',')
			end--;
		if (end > forwarded_for)
			end--;
		else
			break;
	}
	if (have)
		memcpy(client, last, sizeof(last));
	return have;
}
