/*
 * fuzz_ctl_jsonsplit.c - mgmtctl's streaming splitter of a JSON array
 * (server/ctl/jsonsplit.c), against jansson reading the whole text.
 *
 * The first byte picks the size of the pieces the rest is fed in (1 to
 * 64 bytes, or all at once); the rest is the answer's body.
 *
 * Properties: no crash, leak or read past the input; the same items and the
 * same verdict in pieces as all at once; a refusal says why; an item never
 * starts with whitespace nor passes the bound; when jansson reads the whole
 * text as an array, the splitter accepts it and its items read (jansson,
 * one by one) as the array's elements, in order; when the splitter accepts
 * and every item reads, jansson reads the whole text as that array (unless
 * only its nesting limit, one level deeper for the whole, tells them apart).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl/jsonsplit.h"
#include "harness.h"

#define MAX_ITEM 4096

struct items {
	json_t *parsed; /* each item read by jansson; a null where it did not read */
	size_t unreadable;
	char *texts; /* the items' texts, each NUL-terminated, for comparison */
	size_t texts_len;
};

static int take(void *arg, const char *text, size_t len)
{
	struct items *it = arg;
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY, NULL);
	char *grown;

	if (len > MAX_ITEM || strlen(text) > len ||
	    (len > 0 && (text[0] == ' ' || text[0] == '\t' || text[0] == '\n' || text[0] == '\r')))
		abort();
	if (!v)
		it->unreadable++;
	json_array_append_new(it->parsed, v ? v : json_null());
	grown = realloc(it->texts, it->texts_len + len + 1);
	if (!grown)
		abort();
	it->texts = grown;
	memcpy(it->texts + it->texts_len, text, len + 1);
	it->texts_len += len + 1;
	return 0;
}

/* Splits data in pieces of step bytes (0: at once); returns the verdict. */
static int split(const char *data, size_t size, size_t step, struct items *it)
{
	struct jsonsplit s;
	size_t off = 0;
	int rc = 0;

	it->parsed = json_array();
	it->unreadable = 0;
	it->texts = NULL;
	it->texts_len = 0;
	jsonsplit_init(&s, MAX_ITEM);
	while (rc == 0 && off < size) {
		size_t n = step && size - off > step ? step : size - off;

		rc = jsonsplit_feed(&s, data + off, n, take, it);
		off += n;
	}
	if (rc == 0)
		rc = jsonsplit_finish(&s);
	if (rc != 0 && s.why[0] == '\0')
		abort();
	jsonsplit_release(&s);
	return rc;
}

static void release(struct items *it)
{
	json_decref(it->parsed);
	free(it->texts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct items whole, pieces;
	size_t step;
	char *text;
	json_error_t e;
	json_t *all;
	int rc_whole, rc_pieces;

	if (size < 1)
		return 0;
	step = data[0] % 65;
	/* an exact-size copy: ASan sees any read past the end */
	text = malloc(size - 1 ? size - 1 : 1);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	size--;

	rc_whole = split(text, size, 0, &whole);
	rc_pieces = split(text, size, step ? step : 1, &pieces);
	if (rc_whole != rc_pieces || whole.texts_len != pieces.texts_len ||
	    (whole.texts_len && memcmp(whole.texts, pieces.texts, whole.texts_len) != 0))
		abort();

	all = json_loadb(text, size, 0, &e);
	if (json_is_array(all)) {
		/* within MAX_ITEM bytes in all, no item can pass the bound */
		if (size <= MAX_ITEM &&
		    (rc_whole != 0 || whole.unreadable != 0 || !json_equal(all, whole.parsed)))
			abort();
	} else if (rc_whole == 0 && whole.unreadable == 0 && !strstr(e.text, "depth")) {
		abort();
	}
	json_decref(all);
	release(&whole);
	release(&pieces);
	free(text);
	return 0;
}
