/*
 * toml.c - the strict TOML subset reader (see toml.h for what it reads).
 */
#include "toml.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "util.h"

#define MAX_PATH_KEYS 16
#define MAX_ITEMS     4096 /* per array or table: far past any profile file */

struct parser {
	const char *s;
	size_t len, pos;
	int line;
	int *err_line;
	char *err;
	size_t errlen;
	bool failed;
};

static void fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	*p->err_line = p->line;
	if (p->err && p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
}

static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int peek_at(const struct parser *p, size_t ahead)
{
	return p->pos + ahead < p->len ? (unsigned char)p->s[p->pos + ahead] : -1;
}

static void skip_blanks(struct parser *p)
{
	while (peek(p) == ' ' || peek(p) == '\t')
		p->pos++;
}

/* A comment runs to the end of the line; it may hold any text but control characters. */
static void skip_comment(struct parser *p)
{
	if (peek(p) != '#')
		return;
	while (p->pos < p->len && p->s[p->pos] != '\n') {
		unsigned char c = (unsigned char)p->s[p->pos];

		if ((c < 0x20 && c != '\t' && !(c == '\r' && peek_at(p, 1) == '\n')) || c == 0x7f) {
			fail(p, "a control character in a comment");
			return;
		}
		p->pos++;
	}
}

/* Consumes one line end ("\n" or "\r\n"); false when there is none here. */
static bool eat_line_end(struct parser *p)
{
	if (peek(p) == '\r' && peek_at(p, 1) == '\n')
		p->pos++;
	if (peek(p) != '\n')
		return false;
	p->pos++;
	p->line++;
	return true;
}

/* After a value or header: blanks, a comment, then the end of the line. */
static void end_of_line(struct parser *p)
{
	skip_blanks(p);
	skip_comment(p);
	if (!p->failed && !eat_line_end(p) && peek(p) != -1)
		fail(p, "unexpected text after the value; one key = value per line");
}

/* Blanks, comments and line ends, as allowed inside an array. */
static void skip_space_and_lines(struct parser *p)
{
	do {
		skip_blanks(p);
		skip_comment(p);
	} while (!p->failed && eat_line_end(p));
}

/* ---- values ---- */

static struct toml_value *new_value(struct parser *p, enum toml_type type)
{
	struct toml_value *v = calloc(1, sizeof(*v));

	if (!v) {
		fail(p, "out of memory");
		return NULL;
	}
	v->type = type;
	v->line = p->line;
	return v;
}

void toml_free(struct toml_value *v)
{
	if (!v)
		return;
	free(v->string);
	for (size_t i = 0; i < v->count; i++)
		toml_free(v->items[i]);
	free(v->items);
	for (size_t i = 0; i < v->entry_count; i++) {
		free(v->entries[i].key);
		toml_free(v->entries[i].value);
	}
	free(v->entries);
	free(v);
}

/* The \uXXXX or \UXXXXXXXX escape after the 'u'/'U'; ndigits is 4 or 8. */
static bool read_unicode_escape(struct parser *p, int ndigits, struct strbuf *b)
{
	unsigned long cp = 0;
	char enc[4];

	for (int i = 0; i < ndigits; i++) {
		int d = hex_digit_value((char)peek(p));

		if (peek(p) == -1 || d < 0) {
			fail(p, "a \\%c escape needs %d hexadecimal digits",
			     ndigits == 4 ? 'u' : 'U', ndigits);
			return false;
		}
		cp = cp * 16 + (unsigned long)d;
		p->pos++;
	}
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		fail(p, "the escape \\%c%0*lX is not a character that may appear in a string",
		     ndigits == 4 ? 'u' : 'U', ndigits, cp);
		return false;
	}
	if (!strbuf_add(b, enc, utf8_encode((uint32_t)cp, enc))) {
		fail(p, "out of memory");
		return false;
	}
	return true;
}

/* One string ("basic" or 'literal') starting at the quote; the text, malloc'ed. */
static char *read_string(struct parser *p)
{
	char quote = (char)peek(p);
	struct strbuf b = STRBUF_INIT;

	if (peek_at(p, 1) == quote && peek_at(p, 2) == quote) {
		fail(p,
		     "multi-line strings (%c%c%c) are not supported here; keep the value on one "
		     "line",
		     quote, quote, quote);
		return NULL;
	}
	p->pos++;
	if (!strbuf_add(&b, "", 0))
		goto oom;
	for (;;) {
		int c = peek(p);

		if (c == -1 || c == '\n' || (c == '\r' && peek_at(p, 1) == '\n')) {
			fail(p, "the string is not closed on its line");
			goto fail;
		}
		if (c == quote) {
			p->pos++;
			break;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			fail(p, "a control character in a string; write it as an escape");
			goto fail;
		}
		if (quote == '"' && c == '\\') {
			static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
			const char *hit;
			int e = peek_at(p, 1);

			p->pos += 2;
			if (e == 'u' || e == 'U') {
				if (!read_unicode_escape(p, e == 'u' ? 4 : 8, &b))
					goto fail;
				continue;
			}
			hit = e > 0 ? strchr(from, e) : NULL;
			if (!hit) {
				p->pos -= 1;
				fail(p, "unknown escape \\%c in a string", e > 0x20 ? e : '?');
				goto fail;
			}
			if (!strbuf_add(&b, &to[hit - from], 1))
				goto oom;
			continue;
		}
		if (!strbuf_add(&b, &p->s[p->pos], 1))
			goto oom;
		p->pos++;
	}
	if (utf8_length(b.data) < 0) {
		fail(p, "the string is not valid UTF-8");
		goto fail;
	}
	return b.data;
oom:
	fail(p, "out of memory");
fail:
	free(b.data);
	return NULL;
}

static bool is_bare_key_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* A bare or quoted key; malloc'ed. */
static char *read_key(struct parser *p)
{
	size_t start = p->pos;
	char *key;

	if (peek(p) == '"' || peek(p) == '\'')
		return read_string(p);
	while (is_bare_key_char(peek(p)))
		p->pos++;
	if (p->pos == start) {
		fail(p, "a key is expected here (letters, digits, _ and -, or a quoted key)");
		return NULL;
	}
	key = strndup(p->s + start, p->pos - start);
	if (!key)
		fail(p, "out of memory");
	return key;
}

/* A decimal integer, or one of the refused number forms (named). */
static struct toml_value *read_number(struct parser *p)
{
	size_t start = p->pos;
	char digits[32];
	size_t n = 0;
	bool last_digit = false;
	struct toml_value *v;
	long long value;
	char *end;

	if (peek(p) == '+' || peek(p) == '-')
		digits[n++] = (char)p->s[p->pos++];
	if (peek(p) == '0' &&
	    (peek_at(p, 1) == 'x' || peek_at(p, 1) == 'o' || peek_at(p, 1) == 'b')) {
		fail(p, "hexadecimal, octal and binary integers are not supported here");
		return NULL;
	}
	if (p->len - p->pos >= 3 &&
	    (strncmp(p->s + p->pos, "inf", 3) == 0 || strncmp(p->s + p->pos, "nan", 3) == 0)) {
		fail(p, "floats are not supported here");
		return NULL;
	}
	while (p->pos < p->len) {
		int c = peek(p);

		if (c >= '0' && c <= '9') {
			if (n >= sizeof(digits) - 1) {
				fail(p, "the integer is too large");
				return NULL;
			}
			digits[n++] = (char)c;
			last_digit = true;
		} else if (c == '_' && last_digit && peek_at(p, 1) >= '0' && peek_at(p, 1) <= '9') {
			last_digit = false;
		} else {
			break;
		}
		p->pos++;
	}
	digits[n] = '\0';
	if (peek(p) == '.' || peek(p) == 'e' || peek(p) == 'E') {
		fail(p, "floats are not supported here");
		return NULL;
	}
	if (peek(p) == '-' || peek(p) == ':' || peek(p) == 'T') {
		fail(p, "dates and times are not supported here; write them as strings");
		return NULL;
	}
	if (!last_digit) {
		p->pos = start;
		fail(p, "a value is expected here: a \"string\", an integer, true, false, "
		        "[\"an\", \"array\"] or { an = \"inline table\" }");
		return NULL;
	}
	{
		const char *d = digits + (digits[0] == '+' || digits[0] == '-');

		if (d[0] == '0' && d[1] != '\0') {
			fail(p, "an integer cannot have leading zeros");
			return NULL;
		}
	}
	errno = 0;
	value = strtoll(digits, &end, 10);
	if (errno != 0 || *end != '\0') {
		fail(p, "the integer is out of range");
		return NULL;
	}
	v = new_value(p, TOML_INTEGER);
	if (v)
		v->integer = value;
	return v;
}

static struct toml_value *read_value(struct parser *p, int depth);

static struct toml_value *read_array(struct parser *p)
{
	struct toml_value *arr = new_value(p, TOML_ARRAY);

	if (!arr)
		return NULL;
	p->pos++; /* [ */
	for (;;) {
		struct toml_value *item, **grown;

		skip_space_and_lines(p);
		if (p->failed)
			goto fail;
		if (peek(p) == ']') {
			p->pos++;
			return arr;
		}
		if (peek(p) != '"' && peek(p) != '\'') {
			if (peek(p) == -1)
				fail(p, "the array is not closed (it begins at line %d)",
				     arr->line);
			else
				fail(p, "arrays hold strings only here");
			goto fail;
		}
		item = read_value(p, 1);
		if (!item)
			goto fail;
		if (arr->count >= MAX_ITEMS ||
		    !(grown = realloc(arr->items, (arr->count + 1) * sizeof(*grown)))) {
			toml_free(item);
			fail(p,
			     arr->count >= MAX_ITEMS ? "the array is too long" : "out of memory");
			goto fail;
		}
		arr->items = grown;
		arr->items[arr->count++] = item;
		skip_space_and_lines(p);
		if (p->failed)
			goto fail;
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) != ']') {
			if (peek(p) == -1)
				fail(p, "the array is not closed (it begins at line %d)",
				     arr->line);
			else
				fail(p, "a comma or ] is expected in the array");
			goto fail;
		}
	}
fail:
	toml_free(arr);
	return NULL;
}

static bool table_add(struct parser *p, struct toml_value *table, char *key, struct toml_value *v,
                      int line);

static struct toml_value *read_inline_table(struct parser *p)
{
	struct toml_value *t = new_value(p, TOML_TABLE);

	if (!t)
		return NULL;
	t->inline_table = true;
	t->header_seen = true;
	p->pos++; /* { */
	skip_blanks(p);
	if (peek(p) == '}') {
		p->pos++;
		return t;
	}
	for (;;) {
		struct toml_value *v;
		char *key;

		skip_blanks(p);
		key = read_key(p);
		if (!key)
			goto fail;
		skip_blanks(p);
		if (peek(p) == '.') {
			free(key);
			fail(p, "dotted keys are not supported here");
			goto fail;
		}
		if (peek(p) != '=') {
			free(key);
			fail(p, "= is expected after the key");
			goto fail;
		}
		p->pos++;
		skip_blanks(p);
		v = read_value(p, 1);
		if (!v) {
			free(key);
			goto fail;
		}
		if (v->type == TOML_ARRAY || v->type == TOML_TABLE) {
			free(key);
			toml_free(v);
			fail(p, "an inline table holds strings, integers and booleans only here");
			goto fail;
		}
		if (!table_add(p, t, key, v, p->line))
			goto fail;
		skip_blanks(p);
		if (peek(p) == ',') {
			p->pos++;
			skip_blanks(p);
			if (peek(p) == '}') {
				fail(p, "an inline table cannot end with a comma");
				goto fail;
			}
			continue;
		}
		if (peek(p) == '}') {
			p->pos++;
			return t;
		}
		fail(p, "a comma or } is expected in the inline table, on the same line");
		goto fail;
	}
fail:
	toml_free(t);
	return NULL;
}

static struct toml_value *read_value(struct parser *p, int depth)
{
	int c = peek(p);
	struct toml_value *v;

	if (c == '"' || c == '\'') {
		char *s = read_string(p);

		if (!s)
			return NULL;
		v = new_value(p, TOML_STRING);
		if (!v) {
			free(s);
			return NULL;
		}
		v->string = s;
		return v;
	}
	if (c == '[' && depth == 0)
		return read_array(p);
	if (c == '{' && depth == 0)
		return read_inline_table(p);
	if (c == '[' || c == '{') {
		fail(p, "nested arrays and tables are not supported here");
		return NULL;
	}
	if (p->len - p->pos >= 4 && strncmp(p->s + p->pos, "true", 4) == 0 &&
	    !is_bare_key_char(peek_at(p, 4))) {
		p->pos += 4;
		v = new_value(p, TOML_BOOLEAN);
		if (v)
			v->boolean = true;
		return v;
	}
	if (p->len - p->pos >= 5 && strncmp(p->s + p->pos, "false", 5) == 0 &&
	    !is_bare_key_char(peek_at(p, 5))) {
		p->pos += 5;
		return new_value(p, TOML_BOOLEAN);
	}
	return read_number(p);
}

/* ---- tables ---- */

static struct toml_entry *find_entry(const struct toml_value *table, const char *key)
{
	for (size_t i = 0; i < table->entry_count; i++) {
		if (strcmp(table->entries[i].key, key) == 0)
			return &table->entries[i];
	}
	return NULL;
}

const struct toml_value *toml_get(const struct toml_value *table, const char *key)
{
	struct toml_entry *e;

	if (!table || table->type != TOML_TABLE)
		return NULL;
	e = find_entry(table, key);
	return e ? e->value : NULL;
}

const char *toml_type_name(const struct toml_value *v)
{
	static const char *const names[] = {"string", "integer", "boolean", "array", "table"};

	return v->type == TOML_ARRAY && v->of_tables ? "array of tables" : names[v->type];
}

/* Takes ownership of key and v in every case. */
static bool table_add(struct parser *p, struct toml_value *table, char *key, struct toml_value *v,
                      int line)
{
	struct toml_entry *e = find_entry(table, key), *grown;

	if (e) {
		fail(p, "the key %s is already defined at line %d", key, e->line);
		goto fail;
	}
	if (table->entry_count >= MAX_ITEMS ||
	    !(grown = realloc(table->entries, (table->entry_count + 1) * sizeof(*grown)))) {
		fail(p, table->entry_count >= MAX_ITEMS ? "the table has too many keys"
		                                        : "out of memory");
		goto fail;
	}
	table->entries = grown;
	table->entries[table->entry_count++] = (struct toml_entry){key, v, line};
	return true;
fail:
	free(key);
	toml_free(v);
	return false;
}

/* The table a key names on the way to a header: created, entered, or the last of an array. */
static struct toml_value *descend(struct parser *p, struct toml_value *table, const char *key)
{
	struct toml_entry *e = find_entry(table, key);
	struct toml_value *t;
	char *copy;

	if (!e) {
		t = new_value(p, TOML_TABLE);
		copy = strdup(key);
		if (!t || !copy) {
			free(copy);
			toml_free(t);
			fail(p, "out of memory");
			return NULL;
		}
		return table_add(p, table, copy, t, p->line) ? t : NULL;
	}
	t = e->value;
	if (t->type == TOML_ARRAY && t->of_tables)
		return t->items[t->count - 1];
	if (t->type != TOML_TABLE || t->inline_table) {
		fail(p, "%s is already defined at line %d as a %s", key, e->line,
		     t->inline_table ? "inline table" : toml_type_name(t));
		return NULL;
	}
	return t;
}

/* Reads "[a.b]" or "[[a.b]]" and returns the table that keys below it go into. */
static struct toml_value *read_header(struct parser *p, struct toml_value *root)
{
	bool array = peek_at(p, 1) == '[';
	char *keys[MAX_PATH_KEYS];
	size_t n = 0;
	struct toml_value *t = NULL, *table = root;
	struct toml_entry *e;

	p->pos += array ? 2 : 1;
	for (;;) {
		skip_blanks(p);
		if (n == MAX_PATH_KEYS) {
			fail(p, "the table name has too many parts");
			goto out;
		}
		keys[n] = read_key(p);
		if (!keys[n])
			goto out;
		n++;
		skip_blanks(p);
		if (peek(p) == '.') {
			p->pos++;
			continue;
		}
		break;
	}
	if (peek(p) != ']' || (array && peek_at(p, 1) != ']')) {
		fail(p, "%s is expected to close the table name", array ? "]]" : "]");
		goto out;
	}
	p->pos += array ? 2 : 1;
	for (size_t i = 0; i + 1 < n; i++) {
		table = descend(p, table, keys[i]);
		if (!table)
			goto out;
	}
	e = find_entry(table, keys[n - 1]);
	if (array) {
		struct toml_value *arr, **grown;

		if (e && !(e->value->type == TOML_ARRAY && e->value->of_tables)) {
			fail(p, "%s is already defined at line %d as a %s", keys[n - 1], e->line,
			     toml_type_name(e->value));
			goto out;
		}
		if (!e) {
			arr = new_value(p, TOML_ARRAY);
			if (!arr)
				goto out;
			arr->of_tables = true;
			if (!table_add(p, table, keys[n - 1], arr, p->line)) {
				keys[n - 1] = NULL;
				goto out;
			}
			keys[n - 1] = NULL;
		} else {
			arr = e->value;
		}
		t = new_value(p, TOML_TABLE);
		if (!t)
			goto out;
		t->header_seen = true;
		if (arr->count >= MAX_ITEMS ||
		    !(grown = realloc(arr->items, (arr->count + 1) * sizeof(*grown)))) {
			fail(p, "too many [[%s]] tables", keys[0]);
			toml_free(t);
			t = NULL;
			goto out;
		}
		arr->items = grown;
		arr->items[arr->count++] = t;
		goto out;
	}
	if (e) {
		t = e->value;
		if (t->type != TOML_TABLE || t->inline_table || t->header_seen) {
			fail(p, "the table %s is already defined at line %d", keys[n - 1], e->line);
			t = NULL;
			goto out;
		}
		t->header_seen = true;
		goto out;
	}
	t = new_value(p, TOML_TABLE);
	if (!t)
		goto out;
	t->header_seen = true;
	if (!table_add(p, table, keys[n - 1], t, p->line))
		t = NULL;
	keys[n - 1] = NULL;
out:
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	return t;
}

struct toml_value *toml_parse(const char *text, size_t len, int *err_line, char *err, size_t errlen)
{
	struct parser p = {text, len, 0, 1, err_line, err, errlen, false};
	struct toml_value *root, *current;

	*err_line = 0;
	if (len > TOML_MAX_INPUT) {
		set_err(err, errlen, "the file is larger than %d bytes", TOML_MAX_INPUT);
		return NULL;
	}
	if (memchr(text, '\0', len)) {
		set_err(err, errlen, "the file holds a NUL byte: it is not a text file");
		return NULL;
	}
	{
		char *copy = strndup(text, len);
		bool valid = copy && utf8_length(copy) >= 0;

		free(copy);
		if (!valid) {
			set_err(err, errlen, "the file is not valid UTF-8 text");
			return NULL;
		}
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		p.pos = 3;
	root = new_value(&p, TOML_TABLE);
	if (!root)
		return NULL;
	current = root;
	while (!p.failed && p.pos < p.len) {
		skip_blanks(&p);
		if (peek(&p) == '#' || peek(&p) == '\n' || peek(&p) == '\r' || peek(&p) == -1) {
			end_of_line(&p);
			continue;
		}
		if (peek(&p) == '[') {
			current = read_header(&p, root);
			if (current)
				end_of_line(&p);
			continue;
		}
		{
			int line = p.line;
			char *key = read_key(&p);
			struct toml_value *v;

			if (!key)
				break;
			skip_blanks(&p);
			if (peek(&p) == '.') {
				free(key);
				fail(&p,
				     "dotted keys are not supported here; use a [table] header");
				break;
			}
			if (peek(&p) != '=') {
				free(key);
				fail(&p, "= is expected after the key");
				break;
			}
			p.pos++;
			skip_blanks(&p);
			v = read_value(&p, 0);
			if (!v) {
				free(key);
				break;
			}
			v->line = line;
			if (!table_add(&p, current, key, v, line))
				break;
			end_of_line(&p);
		}
	}
	if (p.failed) {
		toml_free(root);
		return NULL;
	}
	return root;
}
