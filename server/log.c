/*
 * log.c - one line per event on stderr: "2026-11-27T18:00:00.123Z INFO message".
 *
 * Each line is formatted into a stack buffer and written with one write(2), so
 * lines from different threads never interleave (a line fits in PIPE_BUF) and
 * logging never allocates. A message too long for the buffer is cut and ends
 * in "...". Control bytes (below 0x20, and 0x7f) in the message become '?', so
 * a client-supplied string cannot start a forged line or move the terminal.
 *
 * The threshold is INFO unless the environment says otherwise:
 *   MGMTD_LOG_LEVEL=debug|info|warn|error   (case-insensitive)
 * It is read once, on the first log call or log_set_level; an unknown value is
 * reported with a WARN line and ignored. log_set_level always wins over it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"

#define LOG_LINE_MAX 4096 /* == PIPE_BUF on Linux: a write this size is atomic on a pipe */
#define LOG_ENV      "MGMTD_LOG_LEVEL"

static const char *const level_words[] = {
    [LOGL_DEBUG] = "DEBUG",
    [LOGL_INFO] = "INFO",
    [LOGL_WARN] = "WARN",
    [LOGL_ERROR] = "ERROR",
};

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
/* Read without a lock by every thread: an int written whole, as an atomic. */
static int threshold = LOGL_INFO;

static void emit(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void emit(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	char ts[RFC3339_SIZE];
	const char *word;
	size_t head, len, room;
	int n;

	word = (unsigned)level < sizeof(level_words) / sizeof(level_words[0]) ? level_words[level]
	                                                                      : "ERROR";
	/* The real time even under a fake clock: logs are read against other logs. */
	time_format_rfc3339(time_real_ms(), ts);
	n = snprintf(line, sizeof(line), "%s %s ", ts, word);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	head = (size_t)n;

	/* One byte of the buffer is kept for the newline that replaces the NUL. */
	room = sizeof(line) - 1 - head;
	n = vsnprintf(line + head, room, fmt, ap);
	if (n < 0) {
		len = head + (size_t)snprintf(line + head, room, "(unformattable log message)");
	} else if ((size_t)n >= room) {
		/* Cut before "..." without splitting a UTF-8 sequence. */
		len = sizeof(line) - 1 - 4;
		while (len > head && ((unsigned char)line[len] & 0xc0) == 0x80)
			len--;
		memcpy(line + len, "...", 3);
		len += 3;
	} else {
		len = head + (size_t)n;
	}
	for (size_t i = head; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f)
			line[i] = '?';
	}
	line[len++] = '\n';

	for (size_t done = 0; done < len;) {
		ssize_t w = write(STDERR_FILENO, line + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere left to report it */
		done += (size_t)w;
	}
}

static void emit_f(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void emit_f(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, fmt, ap);
	va_end(ap);
}

static void read_env(void)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
	    {"debug", LOGL_DEBUG},
	    {"info", LOGL_INFO},
	    {"warn", LOGL_WARN},
	    {"error", LOGL_ERROR},
	};
	const char *v = getenv(LOG_ENV);

	if (v == NULL || v[0] == '\0')
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(v, names[i].name) == 0) {
			__atomic_store_n(&threshold, (int)names[i].level, __ATOMIC_RELAXED);
			return;
		}
	}
	/* emit, not log_msg: log_msg would wait on the pthread_once running this. */
	emit_f(LOGL_WARN, "ignoring %s=%.32s: expected debug, info, warn or error", LOG_ENV, v);
}

void log_set_level(enum log_level level)
{
	/* Settle the environment first so that it cannot override this later. */
	pthread_once(&env_once, read_env);
	__atomic_store_n(&threshold, (int)level, __ATOMIC_RELAXED);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	int saved_errno = errno; /* callers often log, then look at errno */
	va_list ap;

	pthread_once(&env_once, read_env);
	if ((int)level < __atomic_load_n(&threshold, __ATOMIC_RELAXED))
		goto out;
	va_start(ap, fmt);
	emit(level, fmt, ap);
	va_end(ap);
out:
	errno = saved_errno;
}
