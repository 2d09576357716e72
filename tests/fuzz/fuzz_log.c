/*
 * fuzz_log.c - log lines built from client-controlled text (paths, names,
 * credentials' subjects) in both formats (log.c), and the audit trail's
 * credential hint (audit.c).
 *
 * Input: the first byte splits the rest into a message and a field value.
 * Properties: a JSON line is one line that jansson parses, whose "msg" and
 * field are strings; a text line is one line without control bytes; the
 * credential hint never holds more than the token mark and 4 characters of a
 * token, and is always printable.
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "harness.h"
#include "log.h"
#include "store.h"

static int read_end = -1, write_end = -1, real_stderr = -1;

/* Everything written to stderr since the last call, NUL-terminated. */
static size_t drain(char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && (n = read(read_end, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return len;
}

static void setup(void)
{
	int fds[2];

	if (pipe(fds) != 0 || fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0 ||
	    (real_stderr = dup(STDERR_FILENO)) < 0)
		abort();
	read_end = fds[0];
	write_end = fds[1];
	log_set_level(LOGL_DEBUG);
}

/*
 * One log call with stderr on the pipe, and the line it wrote; stderr is
 * libFuzzer's again in between, so that its reports are seen.
 */
static size_t logged(char *out, size_t size, enum log_format format, const struct log_field *f,
                     size_t n, const char *msg)
{
	if (dup2(write_end, STDERR_FILENO) < 0)
		abort();
	log_set_format(format);
	log_event(LOGL_INFO, f, n, "GET %s", msg);
	if (dup2(real_stderr, STDERR_FILENO) < 0)
		abort();
	return drain(out, size);
}

static void check_json_line(const char *line, size_t len)
{
	json_error_t err;
	json_t *o;

	if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1) != NULL)
		abort(); /* exactly one line */
	o = json_loadb(line, len - 1, 0, &err);
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "msg")) ||
	    !json_is_string(json_object_get(o, "ts")))
		abort();
	json_decref(o);
}

static void check_text_line(const char *line, size_t len)
{
	if (len == 0 || line[len - 1] != '\n')
		abort();
	for (size_t i = 0; i + 1 < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[16384];
	char hint[STORE_AUDIT_CREDENTIAL_SIZE];
	size_t split, len;
	char *msg, *field;

	if (read_end < 0)
		setup();
	if (size == 0)
		return 0;
	split = data[0] < size - 1 ? data[0] : size - 1;
	msg = strndup((const char *)data + 1, split);
	field = strndup((const char *)data + 1 + split, size - 1 - split);
	if (msg == NULL || field == NULL)
		goto out;
	{
		const struct log_field f[] = {LOG_TEXT("path", field), LOG_INT("status", 200)};

		len = logged(out, sizeof(out), LOG_FORMAT_JSON, f, 2, msg);
		check_json_line(out, len);
		len = logged(out, sizeof(out), LOG_FORMAT_TEXT, f, 2, msg);
		check_text_line(out, len);
	}
	audit_credential_hint(field, hint, sizeof(hint));
	for (const char *p = hint; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			abort();
	if ((strncmp(field, "M.V1.", 5) == 0 || strncmp(field, "apiv1_", 6) == 0) &&
	    strlen(hint) > (field[0] == 'M' ? 9u : 10u))
		abort();
out:
	free(msg);
	free(field);
	return 0;
}
