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

/*
 * n bytes for an id or a secret: libsodium's CSPRNG, unless ids_derive_from has
 * switched it to a stream derived from a number ([testing] seed), whose i-th call
 * answers the same bytes in every run. Only ids and secrets draw from it, so that
 * the same calls, made one after another, get the same answers; keys and everything
 * else stay random.
 */
void id_random_bytes(void *buf, size_t n);

/*
 * From now on id_random_bytes derives from seed (0: back to random), its stream
 * started again from its beginning. For [testing] only: such ids and secrets are
 * guessable.
 */
void ids_derive_from(uint32_t seed);

/* Writes a fresh version 4 UUID (id_random_bytes) into out. */
void uuid_v4_generate(char out[UUID_STR_SIZE]);

/*
 * Writes the version 8 UUID (RFC 9562) named by the len bytes at name: their
 * BLAKE2b-128, so the same name gives the same id everywhere, and ids of different
 * names differ as random ones do. For ids that follow from other data and are
 * never stored (a database token's permissions).
 */
void uuid_v8_derive(const void *name, size_t len, char out[UUID_STR_SIZE]);

/*
 * One byte of a URI component (a query value): the byte itself when RFC 3986 leaves it
 * unreserved (ALPHA, DIGIT, "-._~"), else "%XX" in upper-case hex. Writes 1 or 3 bytes
 * to out, no NUL, and returns how many.
 */
size_t uri_component_byte(unsigned char c, char out[3]);

/* True when s is a lower-case canonical UUID of version 4 (the ids stored objects get). */
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
 * Decodes the UTF-8 sequence at s: stores its code point in *cp and returns
 * its length (1 to 4 bytes), or returns 0 when s does not start a valid
 * sequence (a stray or missing continuation byte, a sequence cut short, an
 * overlong form, a UTF-16 surrogate, a value past U+10FFFF). A NUL decodes as
 * U+0000 of length 1, and never counts as a continuation, so a NUL-terminated
 * string is never read past its end.
 */
size_t utf8_decode(const char *s, uint32_t *cp);

/* Writes code point cp (at most U+10FFFF) as UTF-8 into out; returns its length, 1 to 4. */
size_t utf8_encode(uint32_t cp, char out[4]);

/*
 * Counts the Unicode code points of a NUL-terminated string.
 * Returns -1 when s is not valid UTF-8 (overlongs, surrogates and bytes past
 * U+10FFFF count as invalid).
 */
long utf8_length(const char *s);

/* True when every byte of s is printable ASCII or valid UTF-8 without C0 controls. */
bool str_is_clean_text(const char *s);

/*
 * What a code point does when text is shown to a person: nothing unusual
 * (TEXT_PLAIN), or one of the kinds that hide, reorder or break what is
 * around it. Text fields refuse these (rules.h) and every display of stored
 * text shows them escaped (mgmtctl's output.c, the Admin UI's dom.js, which
 * keeps the same list). The zero-width marks that scripts need are plain:
 * ZWNJ and ZWJ (U+200C, U+200D: Persian, Indic scripts, emoji sequences) and
 * the directional marks LRM, RLM and ALM (U+200E, U+200F, U+061C), which
 * steer only the neutral characters beside them, as any Hebrew or Arabic
 * letter does.
 */
enum text_hazard {
	TEXT_PLAIN = 0,
	TEXT_CONTROL,   /* C0 U+0000-U+001F (TAB and newlines too), DEL U+007F, C1 U+0080-U+009F */
	TEXT_BIDI,      /* embeddings and overrides U+202A-U+202E, isolates U+2066-U+2069 */
	TEXT_SEPARATOR, /* U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR */
	TEXT_INVISIBLE, /* U+200B, U+2060-U+2065, U+206A-U+206F, U+FEFF, tags U+E0000-U+E007F */
};
enum text_hazard text_hazard(uint32_t cp);

/*
 * Unicode's Default_Ignorable_Code_Point: everything a renderer draws as
 * nothing, the marks above included. Identifiers (emails) refuse them all.
 */
bool text_is_default_ignorable(uint32_t cp);

/* Unicode White_Space other than the controls: U+0020, NBSP, the typographic spaces... */
bool text_is_space(uint32_t cp);

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
