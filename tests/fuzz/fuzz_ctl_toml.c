/*
 * fuzz_ctl_toml.c - mgmtctl's config.toml reader (server/ctl/toml.c) and
 * the profile checks on top of it (profile.c).
 *
 * Properties: any input is read or refused without a crash, a leak or a
 * read past it; a refusal names a line within the input; what is read has
 * lines within the input and strings that are valid UTF-8 without NUL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/profile.h"
#include "ctl/toml.h"
#include "harness.h"
#include "util.h"

static int lines_of(const uint8_t *data, size_t size)
{
	int n = 1;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n;
}

static void check(const struct toml_value *v, int max_line)
{
	if (v->line < 1 || v->line > max_line)
		abort();
	if (v->type == TOML_STRING && utf8_length(v->string) < 0)
		abort();
	for (size_t i = 0; i < v->count; i++)
		check(v->items[i], max_line);
	for (size_t i = 0; i < v->entry_count; i++) {
		if (utf8_length(v->entries[i].key) < 0 || v->entries[i].line > max_line)
			abort();
		check(v->entries[i].value, max_line);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct profile_flags none = {NULL, NULL, NULL, NULL};
	struct ctl_settings s;
	struct toml_value *root;
	char err[512];
	int line = -1, max_line = lines_of(data, size);

	/* an exact-size copy: ASan sees any read past the end */
	char *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	root = toml_parse(copy, size, &line, err, sizeof(err));
	if (root) {
		check(root, max_line);
		toml_free(root);
	} else if (line < 0 || line > max_line || err[0] == '\0') {
		abort();
	}
	(void)profile_load_text(copy, size, "fuzz.toml", &none, &s, err, sizeof(err));
	profile_release(&s);
	free(copy);
	return 0;
}
