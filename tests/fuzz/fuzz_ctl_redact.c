/*
 * fuzz_ctl_redact.c - what mgmtctl decides about text from outside before
 * it shows or uses it: --trace redaction (client_redact in
 * server/ctl/client.c) and the checks of server/ctl/netcheck.c.
 *
 * Properties: any bytes are redacted without a crash or leak; a secret the
 * run has met (the first input bytes, made alphanumeric) never survives
 * redaction, wherever the rest of the input puts it; a link allowed to a
 * browser starts with http and holds printable ASCII only, of the IdP's
 * origin; a token allowed into a header holds no control, space or byte past
 * ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl/ctl.h"
#include "ctl/netcheck.h"
#include "harness.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	struct ctl c;
	char secret[17], *text, *out, origin[512], idp_origin[512];
	const char *why;

	if (size < sizeof(secret) || size > 65536)
		return 0;
	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i + 1 < sizeof(secret); i++)
		secret[i] = alnum[data[i] % (sizeof(alnum) - 1)];
	secret[sizeof(secret) - 1] = '\0';
	data += sizeof(secret) - 1;
	size -= sizeof(secret) - 1;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	client_add_secret(&c, secret);
	out = client_redact(&c, text, size);
	if (!out || strstr(out, secret))
		abort();
	free(out);
	client_forget_secrets(&c);

	/* the text as a link from an IdP at a fixed origin */
	why = net_link_refusal(text, "https://idp.example.com/device");
	if (!why) {
		if (strncasecmp(text, "http", 4) != 0)
			abort();
		for (const unsigned char *p = (const unsigned char *)text; *p; p++)
			if (*p <= 0x20 || *p >= 0x7f)
				abort();
		if (!url_origin(text, origin, sizeof(origin)) ||
		    !url_origin("https://idp.example.com/device", idp_origin, sizeof(idp_origin)) ||
		    strcmp(origin, idp_origin) != 0)
			abort();
	}
	/* the text as a token */
	if (!net_token_refusal(text)) {
		for (const unsigned char *p = (const unsigned char *)text; *p; p++)
			if (*p <= 0x20 || *p >= 0x7f)
				abort();
	}
	(void)net_host_is_loopback(text);
	(void)net_url_is_loopback(text);
	free(text);
	return 0;
}
