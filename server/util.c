/*
 * util.c - ids, bounded string copies and UTF-8 checks.
 *
 * Everything here is pure apart from uuid_v4_generate, which draws on libsodium's
 * CSPRNG (sodium_init must have run, as main does once before threads start).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "util.h"

static const char hex_digits[] = "0123456789abcdef";

void uuid_v4_generate(char out[UUID_STR_SIZE])
{
	unsigned char b[16];
	size_t o = 0;

	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10xx (RFC 4122) */
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex_digits[b[i] >> 4];
		out[o++] = hex_digits[b[i] & 0x0f];
	}
	out[o] = '\0';
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool uuid_is_valid(const char *s)
{
	if (s == NULL)
		return false;
	for (size_t i = 0; i < UUID_STR_SIZE - 1; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!is_lower_hex(s[i])) {
			/* Also stops at a NUL, so a short string never reads past its end. */
			return false;
		}
	}
	if (s[UUID_STR_SIZE - 1] != '\0')
		return false;
	return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

bool id_parse(const char *s, int64_t *out)
{
	int64_t n = 0;

	if (s == NULL || s[0] < '1' || s[0] > '9')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > (INT64_MAX - (*s - '0')) / 10)
			return false;
		n = n * 10 + (*s - '0');
	}
	*out = n;
	return true;
}

bool str_copy(char *dst, size_t dstsize, const char *src)
{
	size_t len;

	if (dst == NULL || dstsize == 0)
		return false;
	if (src == NULL) {
		/* A missing source is reported as a failed copy rather than a crash. */
		dst[0] = '\0';
		return false;
	}
	len = strnlen(src, dstsize);
	if (len == dstsize) {
		memcpy(dst, src, dstsize - 1);
		dst[dstsize - 1] = '\0';
		return false;
	}
	memcpy(dst, src, len + 1);
	return true;
}

/*
 * Decodes one code point at p. Returns the number of bytes it takes (1-4) and
 * stores the code point in *cp, or returns 0 when the sequence is not valid
 * UTF-8: a stray continuation byte, a lead byte of 0xc0/0xc1/0xf5+, a sequence
 * cut short (a NUL is never a continuation byte, so this never reads past the
 * terminator), an overlong form, a UTF-16 surrogate or a value past U+10FFFF.
 */
static size_t utf8_decode(const unsigned char *p, uint32_t *cp)
{
	uint32_t c = p[0];
	uint32_t min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		min = 0x80;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		min = 0x800;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		min = 0x10000;
		c &= 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

long utf8_length(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long count = 0;

	if (s == NULL)
		return -1;
	while (*p != '\0') {
		uint32_t cp;
		size_t n = utf8_decode(p, &cp);

		if (n == 0)
			return -1;
		p += n;
		count++;
	}
	return count;
}

bool str_is_clean_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return false;
	while (*p != '\0') {
		uint32_t cp;
		size_t n = utf8_decode(p, &cp);

		if (n == 0 || cp < 0x20 || cp == 0x7f)
			return false;
		p += n;
	}
	return true;
}

void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool url_origin(const char *url, char *out, size_t outsize)
{
	static const char authority_bytes[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                      "0123456789.-:[]";
	const char *scheme, *default_port, *authority, *port;
	size_t len, port_len;
	int n;

	if (outsize > 0)
		out[0] = '\0';
	if (url == NULL || outsize == 0)
		return false;
	if (strncasecmp(url, "https://", 8) == 0) {
		scheme = "https";
		default_port = "443";
		authority = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		scheme = "http";
		default_port = "80";
		authority = url + 7;
	} else {
		return false;
	}
	len = strcspn(authority, "/?#");
	if (len == 0 || strspn(authority, authority_bytes) < len)
		return false;
	/* the port follows the last colon, unless that colon is inside [an IPv6 address] */
	port = NULL;
	for (size_t i = len; i > 0 && port == NULL; i--)
		if (authority[i - 1] == ':')
			port = authority + i - 1;
	if (port != NULL && !memchr(port, ']', len - (size_t)(port - authority))) {
		port++;
		port_len = len - (size_t)(port - authority);
		if (port_len == 0 ||
		    (port_len == strlen(default_port) && memcmp(port, default_port, port_len) == 0))
			len = (size_t)(port - 1 - authority);
	}
	if (len == 0)
		return false;
	n = snprintf(out, outsize, "%s://%.*s", scheme, (int)len, authority);
	if (n < 0 || (size_t)n >= outsize) {
		out[0] = '\0';
		return false;
	}
	for (char *c = out + strlen(scheme) + 3; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return true;
}
