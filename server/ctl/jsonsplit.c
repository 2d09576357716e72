/*
 * jsonsplit.c - the items of a JSON array as its text arrives.
 */
#include "jsonsplit.h"

#include <stdio.h>
#include <string.h>

void jsonsplit_init(struct jsonsplit *s, size_t max_item)
{
	memset(s, 0, sizeof(*s));
	s->state = JSONSPLIT_BEFORE;
	s->max_item = max_item;
	s->item = (struct strbuf)STRBUF_INIT;
}

void jsonsplit_release(struct jsonsplit *s)
{
	strbuf_release(&s->item, false);
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static int fail(struct jsonsplit *s, size_t at, const char *what)
{
	s->state = JSONSPLIT_FAILED;
	snprintf(s->why, sizeof(s->why), "%s at byte %zu", what, at);
	return -1;
}

/* Adds n bytes to the item being gathered, within the bound. */
static int gather(struct jsonsplit *s, const char *data, size_t n, size_t at)
{
	char what[96];

	if (n > s->max_item - s->item.len) {
		snprintf(what, sizeof(what), "an item of the list is longer than %zu bytes",
		         s->max_item);
		return fail(s, at, what);
	}
	if (!strbuf_add(&s->item, data, n))
		return fail(s, at, "out of memory");
	return 0;
}

/* The item is whole: hands it over and empties the buffer for the next one. */
static int hand_over(struct jsonsplit *s, jsonsplit_item_fn item, void *arg, size_t at)
{
	int rc;

	if (!s->item.data && !strbuf_add(&s->item, "", 0))
		return fail(s, at, "out of memory");
	rc = item(arg, s->item.data, s->item.len);
	s->item.len = 0;
	s->item.data[0] = '\0';
	s->items++;
	if (rc != 0) {
		s->state = JSONSPLIT_FAILED;
		if (!s->why[0])
			snprintf(s->why, sizeof(s->why), "item %zu was refused", s->items);
		return -1;
	}
	return 0;
}

/*
 * One byte of an item (outside any string, or inside one). Returns 1 when it
 * ends the item (the array's ',' or ']'), 0 to go on, -1 when refused.
 */
static int item_byte(struct jsonsplit *s, char ch, size_t at)
{
	if (s->in_string) {
		if (s->escaped)
			s->escaped = false;
		else if (ch == '\\')
			s->escaped = true;
		else if (ch == '"')
			s->in_string = false;
		return 0;
	}
	switch (ch) {
	case '"':
		s->in_string = true;
		return 0;
	case '[':
	case '{':
		s->depth++;
		return 0;
	case ']':
	case '}':
		if (s->depth > 0) {
			s->depth--;
			return 0;
		}
		if (ch == '}')
			return fail(s, at, "a '}' that closes nothing");
		return 1;
	case ',':
		return s->depth == 0 ? 1 : 0;
	default:
		return 0;
	}
}

int jsonsplit_feed(struct jsonsplit *s, const char *data, size_t len, jsonsplit_item_fn item,
                   void *arg)
{
	size_t start = 0; /* where the item's bytes in data begin, in JSONSPLIT_ITEM */

	for (size_t i = 0; i < len; i++) {
		size_t at = s->offset + i;
		char ch = data[i];
		int end;

		switch (s->state) {
		case JSONSPLIT_FAILED:
			return -1;
		case JSONSPLIT_BEFORE:
			if (is_space(ch))
				continue;
			if (ch != '[')
				return fail(s, at, "the answer is not a list");
			s->state = JSONSPLIT_OPEN;
			continue;
		case JSONSPLIT_DONE:
			if (!is_space(ch))
				return fail(s, at, "text after the end of the list");
			continue;
		case JSONSPLIT_OPEN:
		case JSONSPLIT_COMMA:
			if (is_space(ch))
				continue;
			if (ch == ']' && s->state == JSONSPLIT_OPEN) {
				s->state = JSONSPLIT_DONE;
				continue;
			}
			if (ch == ']' || ch == ',')
				return fail(s, at, "an empty item in the list");
			s->state = JSONSPLIT_ITEM;
			s->depth = 0;
			s->in_string = s->escaped = false;
			start = i;
			break;
		case JSONSPLIT_ITEM:
			break;
		}
		end = item_byte(s, ch, at);
		if (end < 0)
			return -1;
		if (end == 0)
			continue;
		if (gather(s, data + start, i - start, at) != 0 || hand_over(s, item, arg, at) != 0)
			return -1;
		s->state = ch == ']' ? JSONSPLIT_DONE : JSONSPLIT_COMMA;
	}
	if (s->state == JSONSPLIT_ITEM &&
	    gather(s, data + start, len - start, s->offset + len) != 0)
		return -1;
	s->offset += len;
	return s->state == JSONSPLIT_FAILED ? -1 : 0;
}

int jsonsplit_finish(struct jsonsplit *s)
{
	switch (s->state) {
	case JSONSPLIT_DONE:
		return 0;
	case JSONSPLIT_FAILED:
		return -1;
	case JSONSPLIT_BEFORE:
		return fail(s, s->offset, "the answer is empty, not a list");
	default:
		return fail(s, s->offset, "the list was cut off");
	}
}
