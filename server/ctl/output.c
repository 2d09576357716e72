/*
 * output.c - influxctl's tables, JSON and log lines.
 */
#include "output.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

struct out_table {
	size_t ncols;
	bool kv;
	char **headers; /* ncols, NULL for a key/value table */
	bool *right;
	char **cells; /* rows * ncols */
	size_t rows, cap;
};

/* ---- display width ---- */

/* Decodes one UTF-8 sequence at s; returns its length (1 for a stray byte). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if ((s[0] & 0xf0) == 0xe0 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) |
		      (s[2] & 0x3f);
		return 3;
	}
	if ((s[0] & 0xf8) == 0xf0 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 &&
	    (s[3] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
		      ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
		return 4;
	}
	*cp = 0xfffd;
	return 1;
}

/* Columns a code point takes on a terminal, as go-runewidth counts them (roughly). */
static int cp_width(uint32_t cp)
{
	if ((cp >= 0x300 && cp <= 0x36f) || cp == 0x200b || (cp >= 0xfe00 && cp <= 0xfe0f))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
	    (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

static size_t text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;

	while (*p) {
		uint32_t cp;

		p += utf8_next(p, &cp);
		w += (size_t)cp_width(cp);
	}
	return w;
}

/* A copy of s fit for one table cell: control characters become spaces. */
static char *cell_copy(const char *s)
{
	char *c = strdup(s ? s : "");

	for (char *p = c; p && *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	return c;
}

/* ---- tables ---- */

static struct out_table *table_alloc(size_t ncols)
{
	struct out_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	t->right = calloc(ncols, sizeof(*t->right));
	if (!t->right) {
		free(t);
		return NULL;
	}
	return t;
}

struct out_table *out_table_new(size_t ncols, const char *const headers[], const bool right[])
{
	struct out_table *t = table_alloc(ncols);

	if (!t)
		return NULL;
	t->headers = calloc(ncols, sizeof(*t->headers));
	if (!t->headers)
		goto fail;
	for (size_t i = 0; i < ncols; i++) {
		t->headers[i] = cell_copy(headers[i]);
		if (!t->headers[i])
			goto fail;
		t->right[i] = right ? right[i] : false;
	}
	return t;
fail:
	out_table_free(t);
	return NULL;
}

struct out_table *out_kv_new(void)
{
	struct out_table *t = table_alloc(2);

	if (t) {
		t->kv = true;
		t->right[0] = true;
	}
	return t;
}

int out_table_row(struct out_table *t, const char *const cells[])
{
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		char **grown = realloc(t->cells, cap * t->ncols * sizeof(*grown));

		if (!grown)
			return -1;
		t->cells = grown;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		t->cells[t->rows * t->ncols + i] = cell_copy(cells[i]);
		if (!t->cells[t->rows * t->ncols + i]) {
			while (i-- > 0)
				free(t->cells[t->rows * t->ncols + i]);
			return -1;
		}
	}
	t->rows++;
	return 0;
}

int out_kv(struct out_table *t, const char *key, const char *value)
{
	const char *cells[2] = {key, value};

	return out_table_row(t, cells);
}

static void print_rule(FILE *f, const size_t *widths, size_t ncols)
{
	fputc('+', f);
	for (size_t i = 0; i < ncols; i++) {
		for (size_t k = 0; k < widths[i] + 2; k++)
			fputc('-', f);
		fputc('+', f);
	}
	fputc('\n', f);
}

static void print_row(FILE *f, char *const *cells, const size_t *widths, const bool *right,
                      size_t ncols)
{
	fputc('|', f);
	for (size_t i = 0; i < ncols; i++) {
		size_t pad = widths[i] - text_width(cells[i]);

		fputc(' ', f);
		if (right[i])
			fprintf(f, "%*s%s", (int)pad, "", cells[i]);
		else
			fprintf(f, "%s%*s", cells[i], (int)pad, "");
		fputs(" |", f);
	}
	fputc('\n', f);
}

void out_table_print(FILE *f, const struct out_table *t)
{
	size_t *widths = calloc(t->ncols, sizeof(*widths));

	if (!widths)
		return;
	for (size_t i = 0; i < t->ncols; i++) {
		if (t->headers)
			widths[i] = text_width(t->headers[i]);
		for (size_t r = 0; r < t->rows; r++) {
			size_t w = text_width(t->cells[r * t->ncols + i]);

			if (w > widths[i])
				widths[i] = w;
		}
	}
	print_rule(f, widths, t->ncols);
	if (t->headers) {
		bool *left = calloc(t->ncols, sizeof(*left));

		/* go-pretty's headers are left-aligned whatever their column holds */
		if (!left) {
			free(widths);
			return;
		}
		print_row(f, t->headers, widths, left, t->ncols);
		free(left);
		print_rule(f, widths, t->ncols);
	}
	for (size_t r = 0; r < t->rows; r++)
		print_row(f, &t->cells[r * t->ncols], widths, t->right, t->ncols);
	print_rule(f, widths, t->ncols);
	free(widths);
}

void out_table_free(struct out_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->headers && i < t->ncols; i++)
		free(t->headers[i]);
	free(t->headers);
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->right);
	free(t);
}

/* ---- JSON, as Go's encoding/json writes it ---- */

static void json_string_go(FILE *f, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	fputc('"', f);
	while (p < end) {
		uint32_t cp;
		size_t n;

		if (*p < 0x80) {
			unsigned char c = *p++;

			switch (c) {
			case '"':
				fputs("\\\"", f);
				break;
			case '\\':
				fputs("\\\\", f);
				break;
			case '\n':
				fputs("\\n", f);
				break;
			case '\r':
				fputs("\\r", f);
				break;
			case '\t':
				fputs("\\t", f);
				break;
			case '\b':
				fputs("\\b", f);
				break;
			case '\f':
				fputs("\\f", f);
				break;
			case '<':
			case '>':
			case '&':
				fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
				break;
			default:
				if (c < 0x20)
					fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
				else
					fputc(c, f);
			}
			continue;
		}
		n = utf8_next(p, &cp);
		if (p + n > end || cp == 0xfffd) {
			fputs("\\ufffd", f);
			p += (p + n > end) ? 1 : n;
			continue;
		}
		if (cp == 0x2028 || cp == 0x2029)
			fprintf(f, "\\u%04x", (unsigned)cp);
		else
			fwrite(p, 1, n, f);
		p += n;
	}
	fputc('"', f);
}

static void indent(FILE *f, int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", f);
}

static void json_go(FILE *f, const json_t *v, int depth)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *item;
		bool first = true;

		if (json_object_size(v) == 0) {
			fputs("{}", f);
			return;
		}
		fputs("{\n", f);
		json_object_foreach((json_t *)v, key, item)
		{
			if (!first)
				fputs(",\n", f);
			first = false;
			indent(f, depth + 1);
			json_string_go(f, key, strlen(key));
			fputs(": ", f);
			json_go(f, item, depth + 1);
		}
		fputc('\n', f);
		indent(f, depth);
		fputc('}', f);
		return;
	}
	case JSON_ARRAY:
		if (json_array_size(v) == 0) {
			fputs("[]", f);
			return;
		}
		fputs("[\n", f);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				fputs(",\n", f);
			indent(f, depth + 1);
			json_go(f, json_array_get(v, i), depth + 1);
		}
		fputc('\n', f);
		indent(f, depth);
		fputc(']', f);
		return;
	case JSON_STRING:
		json_string_go(f, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	case JSON_REAL:
		fprintf(f, "%.17g", json_real_value(v));
		return;
	case JSON_TRUE:
		fputs("true", f);
		return;
	case JSON_FALSE:
		fputs("false", f);
		return;
	case JSON_NULL:
		fputs("null", f);
		return;
	}
}

void out_json_print(FILE *f, const json_t *v)
{
	json_go(f, v, 0);
	fputc('\n', f);
}

int out_set_string(json_t *obj, const char *key, const char *s)
{
	if (!s || !s[0])
		return 0;
	return json_object_set_new(obj, key, json_string(s));
}

int out_set_int(json_t *obj, const char *key, json_int_t v)
{
	if (v == 0)
		return 0;
	return json_object_set_new(obj, key, json_integer(v));
}

int out_set_timestamp(json_t *obj, const char *key, const char *rest_time)
{
	json_t *ts;
	int64_t ms, seconds, nanos;

	if (!rest_time || time_parse_rfc3339(rest_time, &ms) != 0)
		return 0;
	/* protobuf's Timestamp: nanos are never negative */
	seconds = ms / 1000;
	nanos = (ms % 1000) * 1000000;
	if (nanos < 0) {
		seconds -= 1;
		nanos += 1000000000;
	}
	ts = json_object();
	if (!ts || out_set_int(ts, "seconds", seconds) != 0 ||
	    out_set_int(ts, "nanos", nanos) != 0) {
		json_decref(ts);
		return -1;
	}
	return json_object_set_new(obj, key, ts);
}

void out_table_time(const char *rest_time, const char *absent, char out[OUT_TIME_SIZE])
{
	int64_t ms;
	char *dot;

	if (!rest_time || time_parse_rfc3339(rest_time, &ms) != 0) {
		snprintf(out, OUT_TIME_SIZE, "%s", absent);
		return;
	}
	/* second precision, truncated as Go's RFC3339 layout does */
	ms -= ((ms % 1000) + 1000) % 1000;
	time_format_rfc3339(ms, out);
	dot = strchr(out, '.');
	if (dot) {
		dot[0] = 'Z';
		dot[1] = '\0';
	}
}

void out_int_cell(const json_t *obj, const char *key, char out[OUT_INT_SIZE])
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v) && json_integer_value(v) > 0)
		snprintf(out, OUT_INT_SIZE, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		out[0] = '\0';
}

const char *out_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

void out_log(const char *level, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout); /* keep the order of stdout and stderr on one terminal */
	fprintf(stderr, "%s\t", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
