/*
 * fuzz_ctl_duration.c - mgmtctl's duration and instant parsers
 * (server/ctl/duration.c).
 *
 * Properties: any text is read or refused without a crash; what is read is
 * not negative; printing a value and reading it back gives the same value,
 * both for the values read and for any int64 the input spells.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/duration.h"
#include "timeutil.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256], printed[DURATION_TEXT_SIZE], err[512];
	int64_t ns, back, ms, raw = 0;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (duration_parse(text, &ns, err, sizeof(err)) == 0) {
		if (ns < 0)
			abort();
		duration_format(ns, printed);
		if (duration_parse(printed, &back, err, sizeof(err)) != 0 || back != ns)
			abort();
	} else if (err[0] == '\0') {
		abort();
	}
	(void)time_parse_rfc3339(text, &ms);
	memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
	raw = raw < 0 ? -(raw + 1) : raw;
	duration_format(raw, printed);
	if (duration_parse(printed, &back, err, sizeof(err)) != 0 || back != raw)
		abort();
	return 0;
}
