/*
 * fuzz_text.c - the text rule (server/rules.c) and mgmtctl's escaping of
 * text from outside (server/ctl/output.c), on any bytes.
 *
 * Properties:
 * - the rule accepts exactly the valid UTF-8 without a code point that
 *   text_hazard() flags, and a refusal names the field and a character
 *   position within the text;
 * - out_escape's text is valid UTF-8 without a flagged code point, and
 *   reading its notation back (\\, \uXXXX, \UXXXXXXXX, \xNN) gives the input
 *   byte for byte: nothing is hidden and nothing is ambiguous;
 * - the JSON string printed for it parses, holds no flagged code point raw,
 *   and gives the input back when the input is UTF-8.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/output.h"
#include "harness.h"
#include "rules.h"
#include "util.h"

/* True when s (len bytes) is UTF-8 without a flagged code point. */
static bool plain_text(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t k = utf8_decode(s + i, &cp);

		if (k == 0 || i + k > len || text_hazard(cp) != TEXT_PLAIN)
			return false;
		i += k;
	}
	return true;
}

static int hex_run(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++) {
		int d = hex_digit_value(s[i]);

		if (d < 0)
			return -1;
		v = v * 16 + (uint32_t)d;
	}
	*out = v;
	return 0;
}

/* Reads the text notation back into out (room for strlen(s) bytes); returns its length. */
static size_t unescape(const char *s, char *out)
{
	size_t o = 0;

	while (*s) {
		uint32_t v;

		if (s[0] == '\\' && s[1] == '\\') {
			out[o++] = '\\';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'u' && strlen(s) >= 6 &&
		           hex_run(s + 2, 4, &v) == 0) {
			o += utf8_encode(v, out + o);
			s += 6;
		} else if (s[0] == '\\' && s[1] == 'U' && strlen(s) >= 10 &&
		           hex_run(s + 2, 8, &v) == 0) {
			o += utf8_encode(v, out + o);
			s += 10;
		} else if (s[0] == '\\' && s[1] == 'x' && strlen(s) >= 4 &&
		           hex_run(s + 2, 2, &v) == 0) {
			out[o++] = (char)v;
			s += 4;
		} else if (s[0] == '\\' && (s[1] == 'u' || s[1] == 'U' || s[1] == 'x')) {
			abort(); /* a backslash before u, U or x that starts no escape: ambiguous */
		} else {
			out[o++] = *s++;
		}
	}
	return o;
}

static void check_rule(const char *text, size_t len)
{
	char why[RULE_WHY_SIZE];
	const char *at;

	if (rule_text("field", text, why) == NULL) {
		if (!plain_text(text, len))
			abort();
		return;
	}
	if (plain_text(text, len) || strncmp(why, "field must ", 11) != 0 ||
	    (at = strstr(why, " at character ")) == NULL ||
	    strtoul(at + strlen(" at character "), NULL, 10) > len)
		abort();
	/* the other text rules refuse at least what the text rule refuses */
	if (rule_description("f", text, why) == NULL || rule_person_name("f", text, why) == NULL ||
	    rule_email("f", text, why) == NULL || rule_display_name("f", text, why) == NULL)
		abort();
}

static void check_escape(const char *text, size_t len)
{
	char *shown = out_escape(text), *back;

	if (shown == NULL)
		abort();
	if (!plain_text(shown, strlen(shown)))
		abort();
	back = malloc(strlen(shown) + 1);
	if (back == NULL || unescape(shown, back) != len || memcmp(back, text, len) != 0)
		abort();
	free(back);
	free(shown);
}

static void check_json(const char *text, size_t len)
{
	json_t *v = json_stringn_nocheck(text, len), *parsed;
	char *printed = NULL;
	size_t printed_len = 0;
	FILE *f = open_memstream(&printed, &printed_len);

	if (v == NULL || f == NULL)
		abort();
	out_json_print(f, v);
	fclose(f);
	json_decref(v);
	/* printed ends in a newline, which is not in a string */
	if (!plain_text(printed, printed_len - 1))
		abort();
	parsed = json_loadb(printed, printed_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (parsed == NULL || !json_is_string(parsed))
		abort();
	if (utf8_length(text) >= 0 && (json_string_length(parsed) != len ||
	                               memcmp(json_string_value(parsed), text, len) != 0))
		abort();
	json_decref(parsed);
	free(printed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512];

	if (size >= sizeof(text) || memchr(data, 0, size) != NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_rule(text, size);
	check_escape(text, size);
	check_json(text, size);
	return 0;
}
