/*
 * netcheck.h - what mgmtctl decides about a URL or a header before it uses
 * it: whether a destination is loopback (no proxy, no plain-http warning, as
 * Go's net/http that influxctl uses), whether a link an identity provider
 * sent may be handed to a browser, and whether a token may go into a header.
 *
 * Pure functions: no I/O, no state; the unit tests hold them to their word
 * (tests/unit/test_ctl_netcheck.c).
 */
#ifndef MGMTCTL_NETCHECK_H
#define MGMTCTL_NETCHECK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when host (a URL's host: a name, a dotted IPv4 address, an IPv6
 * address with or without its brackets) is a loopback destination as Go's
 * net/http judges it: "localhost" (any case, a trailing dot allowed),
 * 127.0.0.0/8, ::1, and 127.0.0.0/8 mapped into IPv6. Names that merely
 * resolve to loopback are not: a DNS answer can change, the name cannot.
 */
bool net_host_is_loopback(const char *host);

/*
 * The scheme ("http" or "https", lower case) and host of url, as libcurl
 * (which makes the connection) reads them, into the buffers. False when url
 * is not an http(s) URL libcurl accepts, or a buffer is too small.
 */
bool net_url_parts(const char *url, char *scheme, size_t scheme_size, char *host, size_t host_size);

/* net_url_parts, then net_host_is_loopback of the host; false for what does not parse. */
bool net_url_is_loopback(const char *url);

/* True when url is http:// (not https://) to a host that is not loopback. */
bool net_url_is_cleartext_remote(const char *url);

/*
 * Whether a verification link from an identity provider may be given to a
 * browser opener: NULL when it may, or the reason it may not (a sentence
 * without a subject, "it is not an https:// link"). It may when it is
 * https:// (or http:// to a loopback host), plainly formed (printable
 * ASCII only, no user name or password, a host of letters, digits, '.',
 * '-', ':' and brackets), and of the same origin as idp_url, the identity
 * provider's endpoint that sent it. Such a link starts with "http" and so
 * can never be taken for an option of the opener.
 */
const char *net_link_refusal(const char *url, const char *idp_url);

/*
 * NULL when value may be sent as a header's value (printable ASCII without
 * spaces: what RFC 6750 allows a bearer token, and never CR or LF, which
 * would start a header of its own); else why not.
 */
const char *net_token_refusal(const char *value);

#endif
