/*
 * toml.h - a strict reader for the part of TOML that influxctl's config.toml
 * uses, and nothing more.
 *
 * Read: comments; bare and quoted keys; basic strings ("..." with the TOML
 * escapes) and literal strings ('...'); decimal integers; booleans; arrays
 * of strings (over several lines, with comments and a trailing comma);
 * inline tables of strings, integers and booleans on one line; table
 * headers [a.b.c] and arrays of tables [[a.b]].
 *
 * Refused, each with the line it is on: multi-line strings, floats, dates
 * and times, hexadecimal/octal/binary integers, dotted keys in assignments,
 * arrays of anything but strings, nested inline values, a key or table
 * defined twice, and everything that is not TOML. Refusing beats guessing:
 * a profile this reader cannot read exactly is an error, never a profile
 * read half.
 *
 * Pure: it reads a buffer and allocates the tree; no I/O.
 */
#ifndef MGMTCTL_TOML_H
#define MGMTCTL_TOML_H

#include <stdbool.h>
#include <stddef.h>

/* Bigger than any profile file; the reader refuses longer input. */
#define TOML_MAX_INPUT (1024 * 1024)

enum toml_type { TOML_STRING, TOML_INTEGER, TOML_BOOLEAN, TOML_ARRAY, TOML_TABLE };

struct toml_entry;

struct toml_value {
	enum toml_type type;
	int line; /* where it was defined (1-based) */
	char *string;
	long long integer;
	bool boolean;
	/* TOML_ARRAY: items (strings, or tables for an array of tables) */
	struct toml_value **items;
	size_t count;
	bool of_tables; /* [[...]] */
	/* TOML_TABLE: entries in the order they appear */
	struct toml_entry *entries;
	size_t entry_count;
	bool header_seen; /* defined by its own [header], not only on the way to another */
	bool inline_table;
};

struct toml_entry {
	char *key;
	struct toml_value *value;
	int line;
};

/*
 * Parses len bytes of text (need not be NUL-terminated) into a root table.
 * Returns it (free with toml_free), or NULL with a sentence in err and the
 * line it is about in *err_line (0 when it is about the whole input).
 */
struct toml_value *toml_parse(const char *text, size_t len, int *err_line, char *err,
                              size_t errlen);

/* NULL is fine. */
void toml_free(struct toml_value *v);

/* The value of key in table, or NULL. */
const struct toml_value *toml_get(const struct toml_value *table, const char *key);

/* "string", "integer", "boolean", "array", "table": for messages. */
const char *toml_type_name(const struct toml_value *v);

#endif
