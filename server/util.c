/*
 * util.c - ids, bounded string copies, UTF-8 and what its characters are.
 *
 * Everything here is pure apart from uuid_v4_generate, which draws on libsodium's
 * CSPRNG (sodium_init must have run, as main does once before threads start).
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "util.h"

static const char hex_digits[] = "0123456789abcdef";

/* 16 bytes as a UUID of that version and RFC 4122's variant (10xx). */
static void uuid_format(unsigned char b[16], unsigned version, char out[UUID_STR_SIZE])
{
	size_t o = 0;

	b[6] = (unsigned char)((b[6] & 0x0f) | (version << 4));
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex_digits[b[i] >> 4];
		out[o++] = hex_digits[b[i] & 0x0f];
	}
	out[o] = '\0';
}

/* The derived stream: its key and the number of the next call; off while 0. */
static unsigned char derived_key[crypto_generichash_KEYBYTES];
static _Atomic uint32_t derived_seed;
static _Atomic uint64_t derived_calls;

void ids_derive_from(uint32_t seed)
{
	static const char domain[] = "mgmtd/testing-ids";
	unsigned char input[sizeof(domain) + 4];

	memcpy(input, domain, sizeof(domain));
	for (int i = 0; i < 4; i++)
		input[sizeof(domain) + i] = (unsigned char)(seed >> (8 * i));
	crypto_generichash(derived_key, sizeof(derived_key), input, sizeof(input), NULL, 0);
	atomic_store(&derived_calls, 0);
	atomic_store(&derived_seed, seed);
}

void id_random_bytes(void *buf, size_t n)
{
	unsigned char call_key[randombytes_SEEDBYTES], call[8];
	uint64_t i;

	if (atomic_load(&derived_seed) == 0) {
		randombytes_buf(buf, n);
		return;
	}
	/* the i-th call's bytes: ChaCha20 under BLAKE2b(key, i), whatever n was before */
	i = atomic_fetch_add(&derived_calls, 1);
	for (int k = 0; k < 8; k++)
		call[k] = (unsigned char)(i >> (8 * k));
	crypto_generichash(call_key, sizeof(call_key), call, sizeof(call), derived_key,
	                   sizeof(derived_key));
	randombytes_buf_deterministic(buf, n, call_key);
	sodium_memzero(call_key, sizeof(call_key));
}

void uuid_v4_generate(char out[UUID_STR_SIZE])
{
	unsigned char b[16];

	id_random_bytes(b, sizeof(b));
	uuid_format(b, 4, out);
}

void uuid_v8_derive(const void *name, size_t len, char out[UUID_STR_SIZE])
{
	unsigned char b[16];

	crypto_generichash(b, sizeof(b), name, len, NULL, 0);
	uuid_format(b, 8, out);
}

size_t uri_component_byte(unsigned char c, char out[3])
{
	static const char upper_hex[] = "0123456789ABCDEF";

	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~') {
		out[0] = (char)c;
		return 1;
	}
	out[0] = '%';
	out[1] = upper_hex[c >> 4];
	out[2] = upper_hex[c & 0xf];
	return 3;
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

size_t utf8_decode(const char *s, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
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

size_t utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

long utf8_length(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long count = 0;

	if (s == NULL)
		return -1;
	while (*p != '\0') {
		uint32_t cp;
		size_t n = utf8_decode((const char *)p, &cp);

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
		size_t n = utf8_decode((const char *)p, &cp);

		if (n == 0 || cp < 0x20 || cp == 0x7f)
			return false;
		p += n;
	}
	return true;
}

enum text_hazard text_hazard(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
		return TEXT_CONTROL;
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return TEXT_BIDI;
	if (cp == 0x2028 || cp == 0x2029)
		return TEXT_SEPARATOR;
	/*
	 * Zero-width characters with no job in any script: a hidden break, the
	 * word joiner and invisible operators, the deprecated shaping and digit
	 * controls (U+206A-U+206F), the byte order mark, and tag characters,
	 * which spell ASCII no one sees.
	 */
	if (cp == 0x200b || (cp >= 0x2060 && cp <= 0x2065) || (cp >= 0x206a && cp <= 0x206f) ||
	    cp == 0xfeff || (cp >= 0xe0000 && cp <= 0xe007f))
		return TEXT_INVISIBLE;
	return TEXT_PLAIN;
}

bool text_is_default_ignorable(uint32_t cp)
{
	/* Unicode 15's Default_Ignorable_Code_Point (DerivedCoreProperties.txt). */
	static const uint32_t ranges[][2] = {
	    {0x00ad, 0x00ad},   {0x034f, 0x034f}, {0x061c, 0x061c},   {0x115f, 0x1160},
	    {0x17b4, 0x17b5},   {0x180b, 0x180f}, {0x200b, 0x200f},   {0x202a, 0x202e},
	    {0x2060, 0x206f},   {0x3164, 0x3164}, {0xfe00, 0xfe0f},   {0xfeff, 0xfeff},
	    {0xffa0, 0xffa0},   {0xfff0, 0xfff8}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a},
	    {0xe0000, 0xe0fff},
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return true;
	return false;
}

bool text_is_space(uint32_t cp)
{
	/* Unicode's White_Space characters that are not controls (those are refused). */
	return cp == 0x20 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
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
