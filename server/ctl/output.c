/*
 * output.c - influxctl's tables, JSON and log lines.
 */
#define _GNU_SOURCE /* vasprintf */
#include "output.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "timeutil.h"
#include "util.h"

struct out_table {
	size_t ncols;
	bool kv;
	char **headers; /* ncols, NULL for a key/value table */
	bool *right;
	size_t *widths; /* per column, the widest cell met so far, headers included */
	char **cells;   /* rows * ncols, kept until printed */
	size_t rows, cap;
	bool measuring; /* rows only widen the columns (out_table_measure) */
	FILE *stream;   /* out_table_stream: where the rows go once streaming */
	size_t max_kept, kept_bytes;
	bool streaming; /* the header is out: each row prints as it comes */
};

/* ---- text from outside: the one escaping every printer uses ---- */

enum notation {
	NOTATION_TEXT, /* tables, key/value rows, lines: \u202e, \U000e0041, \xff, \\ */
	NOTATION_JSON, /* inside a JSON string, as Go's encoding/json plus the hazards */
};

static const char hex[] = "0123456789abcdef";

/* Where escaped text goes: a string being built, or straight to a stream. */
struct sink {
	struct strbuf *b;
	FILE *f;
};

static void sink_add(struct sink *o, const char *s, size_t n)
{
	if (o->f)
		fwrite(s, 1, n, o->f);
	else
		strbuf_add(o->b, s, n);
}

static void add_u16(struct sink *out, uint32_t unit)
{
	char e[6] = {'\\',
	             'u',
	             hex[(unit >> 12) & 15],
	             hex[(unit >> 8) & 15],
	             hex[(unit >> 4) & 15],
	             hex[unit & 15]};

	sink_add(out, e, sizeof(e));
}

/* cp as an escape: \uXXXX; past U+FFFF \UXXXXXXXX in text, a surrogate pair in JSON. */
static void add_code_point(struct sink *out, uint32_t cp, enum notation n)
{
	char e[11]; /* \U, 8 digits, NUL */

	if (cp <= 0xffff) {
		add_u16(out, cp);
	} else if (n == NOTATION_JSON) {
		add_u16(out, 0xd800 + ((cp - 0x10000) >> 10));
		add_u16(out, 0xdc00 + ((cp - 0x10000) & 0x3ff));
	} else {
		snprintf(e, sizeof(e), "\\U%08x", (unsigned)cp);
		sink_add(out, e, 10);
	}
}

/* The code point at p (before end), or 0 when p does not start valid UTF-8. */
static size_t decode(const char *p, const char *end, uint32_t *cp)
{
	size_t k = utf8_decode(p, cp);

	return k != 0 && k <= (size_t)(end - p) ? k : 0;
}

/* True when the text notation writes what starts at p as an escape, or as a letter
 * that a backslash before it would turn into the start of one. */
static bool opens_escape(const char *p, const char *end)
{
	uint32_t cp;

	if (p == end)
		return false;
	if (*p == '\\' || *p == 'u' || *p == 'U' || *p == 'x')
		return true;
	return decode(p, end, &cp) == 0 || text_hazard(cp) != TEXT_PLAIN;
}

/* Go's short escapes for the controls that have one. */
static const char *go_short_escape(uint32_t cp)
{
	switch (cp) {
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	default:
		return NULL;
	}
}

/*
 * Appends len bytes of s as notation n writes them. Every character that
 * util.h's text_hazard() flags (controls, bidirectional overrides and
 * isolates, line separators, invisible characters) becomes an escape of its
 * code point, so a terminal never acts on it and a reader sees it; a byte
 * that is not UTF-8 becomes \xNN (text) or \ufffd (JSON, as Go writes it).
 * In text, a backslash is doubled only where it would otherwise read as the
 * start of an escape, so every other text prints as it is and none is
 * ambiguous. JSON also escapes what Go escapes: " \ < > & and the controls.
 */
static void escape_into(struct sink *out, const char *s, size_t len, enum notation n)
{
	const char *p = s, *end = s + len;

	while (p < end) {
		uint32_t cp;
		size_t k = decode(p, end, &cp);
		const char *short_form;

		if (k == 0) {
			char e[4] = {'\\', 'x', hex[(unsigned char)*p >> 4], hex[*p & 15]};

			if (n == NOTATION_JSON)
				sink_add(out, "\\ufffd", 6);
			else
				sink_add(out, e, sizeof(e));
			p++;
			continue;
		}
		if (n == NOTATION_JSON && (short_form = go_short_escape(cp)) != NULL)
			sink_add(out, short_form, 2);
		else if (text_hazard(cp) != TEXT_PLAIN)
			add_code_point(out, cp, n);
		else if (n == NOTATION_JSON && (cp == '"' || cp == '\\'))
			sink_add(out, (const char[]){'\\', (char)cp}, 2);
		else if (n == NOTATION_JSON && (cp == '<' || cp == '>' || cp == '&'))
			add_u16(out, cp);
		else if (n == NOTATION_TEXT && cp == '\\' && opens_escape(p + 1, end))
			sink_add(out, "\\\\", 2);
		else
			sink_add(out, p, k);
		p += k;
	}
}

char *out_escape(const char *s)
{
	struct strbuf b = STRBUF_INIT;
	struct sink out = {&b, NULL};

	if (!strbuf_add(&b, "", 0))
		return NULL;
	escape_into(&out, s ? s : "", s ? strlen(s) : 0, NOTATION_TEXT);
	if (b.failed) {
		strbuf_release(&b, false);
		return NULL;
	}
	return b.data;
}

/* ---- display width ---- */

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

/* The columns of an escaped cell (valid UTF-8, so every sequence decodes). */
static size_t text_width(const char *s)
{
	size_t w = 0;

	while (*s) {
		uint32_t cp = 0xfffd;
		size_t k = utf8_decode(s, &cp);

		s += k ? k : 1;
		w += (size_t)cp_width(cp);
	}
	return w;
}

/* ---- tables ---- */

static struct out_table *table_alloc(size_t ncols)
{
	struct out_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	t->right = calloc(ncols, sizeof(*t->right));
	t->widths = calloc(ncols, sizeof(*t->widths));
	if (!t->right || !t->widths) {
		out_table_free(t);
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
		t->headers[i] = out_escape(headers[i]);
		if (!t->headers[i])
			goto fail;
		t->widths[i] = text_width(t->headers[i]);
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

/* One line of cells; a cell wider than its column (a streamed table) widens its line only. */
static void print_row(FILE *f, char *const *cells, const size_t *widths, const bool *right,
                      size_t ncols)
{
	fputc('|', f);
	for (size_t i = 0; i < ncols; i++) {
		size_t w = text_width(cells[i]);
		size_t pad = w < widths[i] ? widths[i] - w : 0;

		fputc(' ', f);
		if (right[i])
			fprintf(f, "%*s%s", (int)pad, "", cells[i]);
		else
			fprintf(f, "%s%*s", cells[i], (int)pad, "");
		fputs(" |", f);
	}
	fputc('\n', f);
}

static void free_row(char **cells, size_t ncols)
{
	for (size_t i = 0; i < ncols; i++) {
		free(cells[i]);
		cells[i] = NULL;
	}
}

/* The rule above and below the header, the header, then the kept rows (freed when release). */
static void print_top_and_kept(FILE *f, struct out_table *t, bool release)
{
	print_rule(f, t->widths, t->ncols);
	if (t->headers) {
		bool *left = calloc(t->ncols, sizeof(*left));

		/* go-pretty's headers are left-aligned whatever their column holds */
		if (left)
			print_row(f, t->headers, t->widths, left, t->ncols);
		free(left);
		print_rule(f, t->widths, t->ncols);
	}
	for (size_t r = 0; r < t->rows; r++) {
		print_row(f, &t->cells[r * t->ncols], t->widths, t->right, t->ncols);
		if (release)
			free_row(&t->cells[r * t->ncols], t->ncols);
	}
	if (release) {
		t->rows = 0;
		t->kept_bytes = 0;
	}
}

void out_table_measure(struct out_table *t, bool on)
{
	t->measuring = on;
}

void out_table_stream(struct out_table *t, FILE *f, size_t max_kept)
{
	t->stream = f;
	t->max_kept = max_kept;
}

/* Escapes the cells into row[] and widens the columns; 0, or -1 (out of memory, row[] freed). */
static int escape_row(struct out_table *t, const char *const cells[], char **row, size_t *bytes)
{
	*bytes = 0;
	for (size_t i = 0; i < t->ncols; i++) {
		size_t w;

		row[i] = out_escape(cells[i]);
		if (!row[i]) {
			free_row(row, i);
			return -1;
		}
		w = text_width(row[i]);
		if (w > t->widths[i] && !t->streaming)
			t->widths[i] = w;
		*bytes += strlen(row[i]) + sizeof(char *);
	}
	return 0;
}

int out_table_row(struct out_table *t, const char *const cells[])
{
	size_t bytes;
	char **row;

	if (t->measuring || t->streaming) {
		char *scratch[16],
		    **tmp = t->ncols <= 16 ? scratch : calloc(t->ncols, sizeof(*tmp));

		if (!tmp || escape_row(t, cells, tmp, &bytes) != 0) {
			if (tmp != scratch)
				free(tmp);
			return -1;
		}
		if (t->streaming)
			print_row(t->stream, tmp, t->widths, t->right, t->ncols);
		free_row(tmp, t->ncols);
		if (tmp != scratch)
			free(tmp);
		return 0;
	}
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		char **grown = realloc(t->cells, cap * t->ncols * sizeof(*grown));

		if (!grown)
			return -1;
		t->cells = grown;
		t->cap = cap;
	}
	row = &t->cells[t->rows * t->ncols];
	if (escape_row(t, cells, row, &bytes) != 0)
		return -1;
	t->rows++;
	t->kept_bytes += bytes;
	if (t->stream && t->kept_bytes > t->max_kept) {
		/* past the bound: the widths so far are the table's from here on */
		print_top_and_kept(t->stream, t, true);
		t->streaming = true;
	}
	return 0;
}

int out_kv(struct out_table *t, const char *key, const char *value)
{
	const char *cells[2] = {key, value};

	return out_table_row(t, cells);
}

bool out_table_streaming(const struct out_table *t)
{
	return t->streaming;
}

void out_table_print(FILE *f, struct out_table *t)
{
	if (!t->streaming)
		print_top_and_kept(f, t, false);
	print_rule(f, t->widths, t->ncols);
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
	free(t->widths);
	free(t);
}

/* ---- JSON, as Go's encoding/json writes it ---- */

static void json_string_go(FILE *f, const char *s, size_t len)
{
	struct sink out = {NULL, f};

	fputc('"', f);
	escape_into(&out, s, len, NOTATION_JSON);
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

void out_json_list_item(FILE *f, const json_t *v, size_t index)
{
	fputs(index ? ",\n" : "[\n", f);
	indent(f, 1);
	json_go(f, v, 1);
}

void out_json_list_end(FILE *f, size_t count)
{
	fputs(count ? "\n]\n" : "[]\n", f);
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
	struct sink err = {NULL, stderr};
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	fflush(stdout); /* keep the order of stdout and stderr on one terminal */
	fprintf(stderr, "%s\t", level);
	/*
	 * Messages carry text from outside (mgmtd's error messages, the IdP's
	 * error_description, URLs from a discovery document, --trace lines): the
	 * whole line goes through the one escaping, so that no control, OSC,
	 * bidi override or invisible character reaches the terminal. mgmtctl's
	 * own words are plain text, which the escaping leaves as it is.
	 */
	if (n >= 0)
		escape_into(&err, msg, (size_t)n, NOTATION_TEXT);
	else
		fputs("(a message that could not be formatted: out of memory)", stderr);
	fputc('\n', stderr);
	free(msg);
}
