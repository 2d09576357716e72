/*
 * output.h - what mgmtctl prints, in influxctl's shapes.
 *
 * Tables are go-pretty's default style (ASCII box, one space of padding, a
 * line above and below the header and one closing the table, no lines
 * between rows). A list table has upper-case headers given by the caller,
 * text cells left-aligned and numeric columns right-aligned. A key/value
 * table (one object) has no header: keys right-aligned, values left. Every
 * header and cell goes through out_escape.
 *
 * JSON is what Go's encoding/json MarshalIndent(v, "", "  ") prints for
 * influxctl's protobuf structs: keys in the order the caller set them,
 * strings escaped as Go escapes them (<, >, & and U+2028/9 included), empty
 * arrays as [], one trailing newline; beyond Go, every character that
 * util.h's text_hazard() flags is escaped too (out_escape below). The
 * helpers below leave out zero and absent values as Go's omitempty does, and
 * turn REST timestamps into {"seconds", "nanos"} objects.
 *
 * Log lines go to stderr as "level<TAB>message", like influxctl's.
 */
#ifndef MGMTCTL_OUTPUT_H
#define MGMTCTL_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* ---- text from outside ---- */

/*
 * s as mgmtctl prints any text it did not write itself (what the server
 * stores and answers): each character that util.h's text_hazard() flags
 * (C0 and C1 controls, DEL, bidirectional overrides, embeddings and
 * isolates, line and paragraph separators, invisible characters) as the
 * escape of its code point, \u009b or \u202e (lower-case hex), \U000e0041
 * past U+FFFF; each byte that is not UTF-8 as \xff; a backslash as \\ only
 * where the next thing printed is \, u, U or x, so that every escape reads
 * one way and other text prints as it is. Table cells and key/value rows go
 * through it, and JSON strings through the same code with JSON's escapes
 * (\u009b, a surrogate pair past U+FFFF, \ufffd for a byte that is not
 * UTF-8), so that a terminal never receives a raw control or override.
 * NULL is "". Returns a new string (the caller frees it), NULL when out of
 * memory.
 */
char *out_escape(const char *s);

/* ---- tables ---- */

struct out_table;

/*
 * A list table of ncols columns: headers (upper-case, as printed) and, per
 * column, whether its cells are right-aligned (numbers). NULL when out of
 * memory.
 */
struct out_table *out_table_new(size_t ncols, const char *const headers[], const bool right[]);

/* A key/value table: rows are added with out_table_row({key, value}). */
struct out_table *out_kv_new(void);

/* Copies the row's ncols cells (NULL prints empty). Returns 0 or -1 (out of memory). */
int out_table_row(struct out_table *t, const char *const cells[]);

/* Shorthand for a key/value table's row. */
int out_kv(struct out_table *t, const char *key, const char *value);

/*
 * Prints the table; a list without rows prints its header and the closing
 * line. A streamed table (below) prints to its stream what it still holds,
 * or only its closing line when its rows have gone out already.
 */
void out_table_print(FILE *f, struct out_table *t);

/*
 * A list of any length in bounded memory. out_table_stream: rows are kept
 * (as usual) until their cells pass max_kept bytes; then the header and the
 * kept rows go to f with the column widths met so far, and each later row
 * is printed as it is added, in those widths: a wider cell later pushes the
 * rest of its own line to the right and changes no other line. A list
 * within the bound prints exactly as an unstreamed one.
 *
 * out_table_measure(t, true): rows added only widen the columns and are
 * dropped; once every row has been measured so (a sorted list's first
 * pass), the rows added again after out_table_measure(t, false) print in
 * the widths of the whole list, streamed or not.
 */
void out_table_stream(struct out_table *t, FILE *f, size_t max_kept);
void out_table_measure(struct out_table *t, bool on);
/* True once a streamed table has printed its header. */
bool out_table_streaming(const struct out_table *t);

/* NULL is fine. */
void out_table_free(struct out_table *t);

/* ---- JSON ---- */

/* Prints v as Go's json.MarshalIndent(v, "", "  ") would, then a newline. */
void out_json_print(FILE *f, const json_t *v);

/*
 * A list printed item by item, as out_json_print prints the whole array:
 * each item with its index (0 first), then the end with the count.
 */
void out_json_list_item(FILE *f, const json_t *v, size_t index);
void out_json_list_end(FILE *f, size_t count);

/* Each returns 0 or -1 (out of memory) and sets nothing for zero or absent values. */
int out_set_string(json_t *obj, const char *key, const char *s);
int out_set_int(json_t *obj, const char *key, json_int_t v);
/* A REST RFC 3339 timestamp (NULL = absent) as {"seconds": S, "nanos": N}, zero parts left out. */
int out_set_timestamp(json_t *obj, const char *key, const char *rest_time);

/* ---- values in tables ---- */

/* "2024-03-12T19:58:47Z" plus NUL, five-digit years included. */
#define OUT_TIME_SIZE 32

/*
 * A REST timestamp in a table: RFC 3339 UTC at second precision; absent
 * (NULL or unparsable) prints as `absent` ("" or "1970-01-01T00:00:00Z").
 */
void out_table_time(const char *rest_time, const char *absent, char out[OUT_TIME_SIZE]);

/* The "no expiry" and "not revoked" of management list: the Unix epoch. */
#define OUT_EPOCH "1970-01-01T00:00:00Z"

/* obj[key], a positive integer, as a table cell; "" when absent or not positive. */
#define OUT_INT_SIZE 24
void out_int_cell(const json_t *obj, const char *key, char out[OUT_INT_SIZE]);

/* The string of obj[key], or NULL when absent or not a string. */
const char *out_str(const json_t *obj, const char *key);

/* ---- log lines on stderr ---- */

void out_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define out_error(...) out_log("error", __VA_ARGS__)
#define out_warn(...)  out_log("warn", __VA_ARGS__)
#define out_info(...)  out_log("info", __VA_ARGS__)
#define out_debug(...) out_log("debug", __VA_ARGS__)

#endif
