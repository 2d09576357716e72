/*
 * jsonsplit.h - the items of a JSON array as its text arrives, in pieces of
 * any size: what lets mgmtctl print a list of any length in bounded memory.
 *
 * The splitter follows only the array's own structure: the opening '[',
 * the commas between items and the closing ']', with strings (and their
 * escapes) and nesting depth tracked so that a comma or bracket inside an
 * item is not taken for one of the array's. Each item's text (as sent,
 * whitespace around it included) is handed over whole once its end is
 * seen; the caller parses it (jansson), which checks everything the
 * splitter does not. So the splitter holds one item at a time, never more
 * than max_item bytes, whatever the length of the array.
 *
 * Refused, with a sentence: text that does not start with '[' (after
 * whitespace), an empty item ("[1,,2]", "[1,]"), brackets that close more
 * than an item opened, an item longer than max_item, text after the closing
 * ']', and (at the end) an array that never closed: a cut-off answer is
 * never taken for a whole one.
 *
 * Pure: no I/O; the only allocation is the item being gathered.
 */
#ifndef MGMTCTL_JSONSPLIT_H
#define MGMTCTL_JSONSPLIT_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

enum jsonsplit_state {
	JSONSPLIT_BEFORE, /* nothing but whitespace yet */
	JSONSPLIT_OPEN,   /* after '[': an item or ']' comes */
	JSONSPLIT_ITEM,   /* inside an item */
	JSONSPLIT_COMMA,  /* after ',': an item comes */
	JSONSPLIT_DONE,   /* after the closing ']': only whitespace may follow */
	JSONSPLIT_FAILED, /* refused: why says it */
};

struct jsonsplit {
	enum jsonsplit_state state;
	size_t max_item;
	size_t depth;   /* brackets and braces open inside the current item */
	bool in_string; /* inside a string of the current item */
	bool escaped;   /* the previous byte was a backslash inside a string */
	struct strbuf item;
	size_t items;  /* items handed over so far */
	size_t offset; /* bytes read so far */
	char why[160];
};

/*
 * Called with each item's text (len bytes, NUL-terminated, from its first
 * byte that is not whitespace to the array's ',' or ']' after it). Returns 0
 * to go on; anything else stops the splitter, which then fails with why
 * "item N was refused" (the caller knows its own reason).
 */
typedef int (*jsonsplit_item_fn)(void *arg, const char *text, size_t len);

void jsonsplit_init(struct jsonsplit *s, size_t max_item);

/*
 * Reads len more bytes of the array's text, calling item() for each item
 * completed by them. Returns 0, or -1 once refused or stopped (and on every
 * later call).
 */
int jsonsplit_feed(struct jsonsplit *s, const char *data, size_t len, jsonsplit_item_fn item,
                   void *arg);

/* The text has ended: 0 when it was a whole array, else -1 with why set. */
int jsonsplit_finish(struct jsonsplit *s);

void jsonsplit_release(struct jsonsplit *s);

#endif
