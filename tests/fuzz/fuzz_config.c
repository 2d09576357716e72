/*
 * fuzz_config.c - the configuration reader (config.c with libinih): the file
 * as a whole, then validation, the listen-address and algorithm-list parsers,
 * and one option set as a flag would set it.
 *
 * Input: the file text. Its first line, split at '=' and then at '.', is
 * also given to config_set as SECTION.KEY=VALUE.
 *
 * Property: whatever the file holds, the configuration stays valid per
 * field (config_validate finds no out-of-bounds or unterminated field; the
 * setters refuse bad values and leave the field as it was).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "harness.h"

static char path[PATH_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static struct config_errors errs;
	char host[CONFIG_STR_SIZE], line[512], *eq, *dot;
	unsigned port, mask;
	size_t n;
	FILE *f;

	if (path[0] == '\0') {
		char dir[PATH_MAX - 16];

		fuzz_tempdir(dir, sizeof(dir));
		snprintf(path, sizeof(path), "%s/fuzz.ini", dir);
	}
	f = fopen(path, "w");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();

	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	(void)config_load_file(&cfg, path, &errs);
	if (strnlen(errs.text, sizeof(errs.text)) >= sizeof(errs.text))
		abort();
	(void)config_validate(&cfg, &errs);

	n = 0;
	while (n < size && n < sizeof(line) - 1 && data[n] != '\n' && data[n] != '\0') {
		line[n] = (char)data[n];
		n++;
	}
	line[n] = '\0';
	(void)config_split_listen(line, host, sizeof(host), &port);
	(void)config_algorithm_mask(line, &mask);
	eq = strchr(line, '=');
	if (eq) {
		*eq = '\0';
		dot = strchr(line, '.');
		if (dot) {
			*dot = '\0';
			memset(&errs, 0, sizeof(errs));
			(void)config_set(&cfg, line, dot + 1, eq + 1, "--fuzz", &errs);
		}
	}
	/* Only the per-field checks: planned features are refused, not broken. */
	memset(&errs, 0, sizeof(errs));
	config_validate(&cfg, &errs);
	if (strstr(errs.text, "not between") || strstr(errs.text, "not a terminated") ||
	    strstr(errs.text, "not HOST:PORT") || strstr(errs.text, "must be one of") ||
	    strstr(errs.text, "printable ASCII") || strstr(errs.text, "must not be empty"))
		abort();
	return 0;
}
