/*
 * proxies.h - [server] trusted_proxies: the peers whose X-Forwarded-For
 * header names the client, so that the failed-authentication throttle, the
 * access log and the audit trail see the client behind a proxy rather than
 * the proxy (docs/configuration.md, docs/nginx.md).
 *
 * Only X-Forwarded-For is read, and only from a trusted peer: one header,
 * so no proxy can pass a client's own X-Real-IP (or the like) through while
 * setting another. The client is the rightmost address in it that is not a
 * trusted proxy (each proxy appends the peer it saw), so what a client
 * writes into the header itself is never reached while a trusted proxy
 * appends the real address after it.
 *
 * Pure and thread-safe; a parsed list is immutable.
 */
#ifndef MGMTD_PROXIES_H
#define MGMTD_PROXIES_H

#include <stdbool.h>
#include <stddef.h>

#define PROXIES_MAX 64

/* Addresses are 16 bytes: IPv6, or IPv4 mapped (::ffff:a.b.c.d), as throttle.h has them. */
struct proxy_net {
	unsigned char addr[16];
	unsigned prefix; /* bits of the 128 that must match (an IPv4 /24 is 120) */
};

struct proxies {
	size_t count;
	struct proxy_net nets[PROXIES_MAX];
};

/*
 * Parses a list of addresses and networks, "127.0.0.1, 10.0.0.0/8, ::1,
 * fd00::/8", separated by commas and/or spaces; "" is the empty list.
 * Returns 0, or -1 with why set (out is then empty).
 */
int proxies_parse(const char *text, struct proxies *out, char *why, size_t whysize);

bool proxies_contains(const struct proxies *p, const unsigned char addr[16]);

/*
 * The client a trusted peer reports in its X-Forwarded-For value: walking
 * from the right, the first address that is not a trusted proxy; when every
 * one is, the leftmost; when an entry cannot be read, the last good one
 * before it. Returns false (client untouched) when the rightmost entry
 * cannot be read or the value is empty.
 */
bool proxies_client(const struct proxies *p, const char *forwarded_for, unsigned char client[16]);

/* One address, IPv4 dotted or IPv6 (optionally in brackets), as 16 bytes. */
bool proxies_parse_address(const char *s, size_t len, unsigned char out[16]);

#endif
