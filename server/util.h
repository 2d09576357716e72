/*
 * util.h - small pure helpers shared by every module: ids, strings, UTF-8.
 *
 * Nothing here allocates unless its comment says so; nothing here logs.
 */
#ifndef MGMTD_UTIL_H
#define MGMTD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A lower-case UUID string, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", plus NUL. */
#define UUID_STR_SIZE 37

/* Writes a fresh random (libsodium) version 4 UUID into out. */
void uuid_v4_generate(char out[UUID_STR_SIZE]);

/* True when s is a lower-case canonical UUID of version 4 (the only ids we mint). */
bool uuid_is_valid(const char *s);

/*
 * Parses a database or table id: decimal digits only, no sign, no leading
 * zero, from 1 to INT64_MAX. False for anything else.
 */
bool id_parse(const char *s, int64_t *out);

/*
 * Copies src into dst of size dstsize, always NUL-terminating when dstsize > 0.
 * Returns false when src did not fit (dst then holds a truncated copy).
 */
bool str_copy(char *dst, size_t dstsize, const char *src);

/*
 * Counts the Unicode code points of a NUL-terminated string.
 * Returns -1 when s is not valid UTF-8 (overlongs, surrogates and bytes past
 * U+10FFFF count as invalid).
 */
long utf8_length(const char *s);

/* True when every byte of s is printable ASCII or valid UTF-8 without C0 controls. */
bool str_is_clean_text(const char *s);

/*
 * Formats a message into err (of errlen bytes) for the "char *err, size_t
 * errlen" out-parameters used across the modules. Does nothing when err is
 * NULL or errlen is 0.
 */
void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The value of a hexadecimal digit (either case), or -1. */
int hex_digit_value(char c);

/*
 * The origin of an http:// or https:// URL as a browser serializes it
 * (location.origin): "scheme://host[:port]", scheme and host in lower case,
 * the scheme's default port left out. False, with out "", when url is not
 * plainly one (another scheme, no host, a byte outside letters, digits and
 * ".-:[]" in host and port) or out is too small.
 */
bool url_origin(const char *url, char *out, size_t outsize);

#endif
