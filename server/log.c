/*
 * log.c - one line per event on stderr:
 *   text: "2026-11-27T18:00:00.123Z INFO message"
 *   json: {"ts":"2026-11-27T18:00:00.123Z","level":"info","msg":"message",...}
 *
 * Each line is formatted into a stack buffer and written with one write(2), so
 * lines from different threads never interleave (a line fits in PIPE_BUF) and
 * logging never allocates. A message too long for the buffer is cut and ends
 * in "...". In text lines, control bytes (below 0x20, and 0x7f) become '?', so
 * a client-supplied string cannot start a forged line or move the terminal; in
 * JSON lines they are escaped, and bytes that are not UTF-8 become '?', so
 * that every line parses (jq).
 *
 * The threshold is INFO unless the environment says otherwise:
 *   MGMTD_LOG_LEVEL=debug|info|warn|error   (case-insensitive)
 * It is read once, on the first log call or log_set_level; an unknown value is
 * reported with a WARN line and ignored. log_set_level always wins over it.
 * (The server also reads MGMTD_LOG_LEVEL as [log] level, config.h.)
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"

#define LOG_LINE_MAX 4096 /* == PIPE_BUF on Linux: a write this size is atomic on a pipe */
#define LOG_ENV      "MGMTD_LOG_LEVEL"
/* In JSON lines the message leaves this much room for the fields after it. */
#define JSON_FIELDS_ROOM 1024

static const char *const level_words[] = {
    [LOGL_DEBUG] = "DEBUG", [LOGL_INFO] = "INFO",     [LOGL_WARN] = "WARN",
    [LOGL_ERROR] = "ERROR", [LOGL_NOTICE] = "NOTICE",
};

static const char *const level_names[] = {
    [LOGL_DEBUG] = "debug", [LOGL_INFO] = "info",     [LOGL_WARN] = "warn",
    [LOGL_ERROR] = "error", [LOGL_NOTICE] = "notice",
};

#define N_LEVELS (sizeof(level_names) / sizeof(level_names[0]))

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
/* Read without a lock by every thread: ints written whole, as atomics. */
static int threshold = LOGL_INFO;
static int format = LOG_FORMAT_TEXT;

/* A bounded writer into one line; once full, further appends do nothing. */
struct line {
	char *buf;
	size_t len, cap;
};

static bool put(struct line *l, const char *s, size_t n)
{
	if (n > l->cap - l->len)
		return false;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	return true;
}

static bool puts_(struct line *l, const char *s)
{
	return put(l, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (of at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * Appends s (n bytes) as the inside of a JSON string, escaped, cutting it
 * (with "...") rather than overflowing limit bytes of the line.
 */
static void put_json_chars(struct line *l, const char *s, size_t n, size_t limit)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t stop = limit < l->cap ? limit : l->cap;

	for (size_t i = 0; i < n;) {
		char esc[8];
		const char *out = esc;
		size_t len = 1, advance = 1;

		if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			len = 2;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
			len = 6;
		} else if (p[i] < 0x80) {
			esc[0] = (char)p[i];
		} else if ((advance = utf8_seq(p + i, n - i)) != 0) {
			out = (const char *)p + i;
			len = advance;
		} else {
			esc[0] = '?'; /* not UTF-8: JSON readers would refuse the line */
			advance = 1;
		}
		if (l->len + len + 3 > stop) {
			(void)put(l, "...", 3);
			return;
		}
		(void)put(l, out, len);
		i += advance;
	}
}

static void put_json_string(struct line *l, const char *s, size_t limit)
{
	(void)put(l, "\"", 1);
	put_json_chars(l, s, strlen(s), limit - 1);
	(void)put(l, "\"", 1);
}

/*
 * Formats the message into msg (LOG_LINE_MAX bytes). A message too long is
 * cut before "..." without splitting a UTF-8 sequence. Returns its length.
 */
static size_t format_message(char *msg, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static size_t format_message(char *msg, const char *fmt, va_list ap)
{
	int n = vsnprintf(msg, LOG_LINE_MAX, fmt, ap);
	size_t len;

	if (n < 0)
		return (size_t)snprintf(msg, LOG_LINE_MAX, "(unformattable log message)");
	if ((size_t)n < LOG_LINE_MAX)
		return (size_t)n;
	len = LOG_LINE_MAX - 1 - 3;
	while (len > 0 && ((unsigned char)msg[len] & 0xc0) == 0x80)
		len--;
	memcpy(msg + len, "...", 4);
	return len + 3;
}

static void write_line(const char *line, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t w = write(STDERR_FILENO, line + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere left to report it */
		done += (size_t)w;
	}
}

/* Does any byte of the word lie below 0x20, or equal 0x7f? (exact, for any bytes) */
static bool word_has_control(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t del = w ^ (ones * 0x7f);

	return (((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) & highs;
}

/*
 * Control bytes (below 0x20, and 0x7f) become '?'. Every access line passes
 * here: eight bytes are looked at together, one at a time only in a word that
 * holds one.
 */
static void blank_controls(char *s, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, sizeof(w));
		if (!word_has_control(w))
			continue;
		for (size_t k = i; k < i + 8; k++)
			if ((unsigned char)s[k] < 0x20 || (unsigned char)s[k] == 0x7f)
				s[k] = '?';
	}
	for (; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			s[i] = '?';
}

static void emit_text(enum log_level level, const char *ts, const char *msg, size_t msglen)
{
	char buf[LOG_LINE_MAX];
	struct line l = {buf, 0, sizeof(buf) - 1}; /* one byte kept for the newline */
	size_t head;

	(void)puts_(&l, ts);
	(void)puts_(&l, " ");
	(void)puts_(&l, level_words[level]);
	(void)puts_(&l, " ");
	head = l.len;
	if (!put(&l, msg, msglen)) {
		/* Cut before "..." without splitting a UTF-8 sequence. */
		size_t keep;

		if (head + 4 > l.cap) /* never: the head is a few dozen bytes */
			return;
		keep = l.cap - 3 - head;

		/* one byte more than kept, so that msg[keep] shows where a sequence starts */
		memcpy(buf + head, msg, keep + 1);
		while (keep > 0 && ((unsigned char)msg[keep] & 0xc0) == 0x80)
			keep--;
		memcpy(buf + head + keep, "...", 3);
		l.len = head + keep + 3;
	}
	blank_controls(buf + head, l.len - head);
	buf[l.len++] = '\n';
	write_line(buf, l.len);
}

static void emit_json(enum log_level level, const char *ts, const char *msg, size_t msglen,
                      const struct log_field *fields, size_t nfields)
{
	char buf[LOG_LINE_MAX];
	/* two bytes kept for "}\n" */
	struct line l = {buf, 0, sizeof(buf) - 2};

	(void)puts_(&l, "{\"ts\":\"");
	(void)puts_(&l, ts);
	(void)puts_(&l, "\",\"level\":\"");
	(void)puts_(&l, level_names[level]);
	(void)puts_(&l, "\",\"msg\":\"");
	put_json_chars(&l, msg, msglen, l.cap - (nfields ? JSON_FIELDS_ROOM : 0) - 1);
	(void)put(&l, "\"", 1);
	for (size_t i = 0; i < nfields; i++) {
		const struct log_field *f = &fields[i];
		char num[64];
		size_t mark = l.len;
		bool ok;

		if (f->key == NULL || (f->type == LOG_FIELD_TEXT && f->text == NULL))
			continue;
		ok = put(&l, ",\"", 2) && puts_(&l, f->key) && put(&l, "\":", 2);
		switch (f->type) {
		case LOG_FIELD_TEXT:
			if (ok && l.cap - l.len > 8)
				put_json_string(&l, f->text, l.len + 512);
			else
				ok = false;
			break;
		case LOG_FIELD_INT:
			snprintf(num, sizeof(num), "%lld", (long long)f->integer);
			ok = ok && puts_(&l, num);
			break;
		case LOG_FIELD_REAL:
			snprintf(num, sizeof(num), "%.3f", f->real);
			ok = ok && puts_(&l, num);
			break;
		}
		if (!ok || l.len > l.cap)
			l.len = mark; /* left out whole, the line stays valid JSON */
	}
	buf[l.len++] = '}';
	buf[l.len++] = '\n';
	write_line(buf, l.len);
}

static void emit(enum log_level level, const struct log_field *fields, size_t nfields,
                 const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/*
 * The time of a line, real even under a fake clock. The date and time to the
 * second are formatted once a second per thread (a busy server logs many
 * lines a second): only the milliseconds change between.
 */
static void format_now(char ts[RFC3339_SIZE])
{
	static __thread int64_t last_second = INT64_MIN;
	static __thread char last[RFC3339_SIZE];
	int64_t ms = time_real_ms();
	int64_t second = ms >= 0 ? ms / 1000 : INT64_MIN;
	unsigned frac = (unsigned)(ms >= 0 ? ms % 1000 : 0);

	if (second == INT64_MIN || second != last_second) {
		time_format_rfc3339(ms, ts);
		if (second != INT64_MIN && strlen(ts) == 24 && ts[19] == '.') {
			memcpy(last, ts, RFC3339_SIZE);
			last_second = second;
		}
		return;
	}
	memcpy(ts, last, RFC3339_SIZE);
	ts[20] = (char)('0' + frac / 100);
	ts[21] = (char)('0' + frac / 10 % 10);
	ts[22] = (char)('0' + frac % 10);
}

/* A line whose message is already made (msglen < LOG_LINE_MAX). */
static void emit_message(enum log_level level, const struct log_field *fields, size_t nfields,
                         const char *msg, size_t msglen)
{
	char ts[RFC3339_SIZE];

	if ((unsigned)level >= N_LEVELS)
		level = LOGL_ERROR;
	/* The real time even under a fake clock: logs are read against other logs. */
	format_now(ts);
	if (__atomic_load_n(&format, __ATOMIC_RELAXED) == LOG_FORMAT_JSON)
		emit_json(level, ts, msg, msglen, fields, nfields);
	else
		emit_text(level, ts, msg, msglen);
}

static void emit(enum log_level level, const struct log_field *fields, size_t nfields,
                 const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];
	size_t msglen = format_message(msg, fmt, ap);

	emit_message(level, fields, nfields, msg, msglen);
}

static void emit_f(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void emit_f(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, NULL, 0, fmt, ap);
	va_end(ap);
}

int log_level_parse(const char *name, enum log_level *out)
{
	if (name == NULL)
		return -1;
	/* notice is no threshold: it would hide errors */
	for (size_t i = 0; i <= LOGL_ERROR; i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void read_env(void)
{
	const char *v = getenv(LOG_ENV);
	enum log_level level;

	if (v == NULL || v[0] == '\0')
		return;
	if (log_level_parse(v, &level) == 0) {
		__atomic_store_n(&threshold, (int)level, __ATOMIC_RELAXED);
		return;
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

void log_set_format(enum log_format f)
{
	__atomic_store_n(&format, f == LOG_FORMAT_JSON ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT,
	                 __ATOMIC_RELAXED);
}

bool log_enabled(enum log_level level)
{
	pthread_once(&env_once, read_env);
	return (int)level >= __atomic_load_n(&threshold, __ATOMIC_RELAXED);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	int saved_errno = errno; /* callers often log, then look at errno */
	va_list ap;

	if (!log_enabled(level))
		goto out;
	va_start(ap, fmt);
	emit(level, NULL, 0, fmt, ap);
	va_end(ap);
out:
	errno = saved_errno;
}

void log_event(enum log_level level, const struct log_field *fields, size_t nfields,
               const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	if (!log_enabled(level))
		goto out;
	va_start(ap, fmt);
	emit(level, fields, nfields, fmt, ap);
	va_end(ap);
out:
	errno = saved_errno;
}

bool log_limit_take(struct log_limit *l, unsigned lines, int64_t window_ms, int64_t now_ms,
                    uint64_t *held_back)
{
	bool take;

	pthread_mutex_lock(&l->lock);
	if (l->used == 0 || now_ms - l->window_start_ms >= window_ms) {
		l->window_start_ms = now_ms;
		l->used = 0;
	}
	take = l->used < lines;
	if (take) {
		l->used++;
		*held_back = l->held_back;
		l->held_back = 0;
	} else {
		l->held_back++;
	}
	pthread_mutex_unlock(&l->lock);
	return take;
}

/* Appends the decimal digits of v. */
static void put_uint(struct line *l, uint64_t v)
{
	char digits[20];
	size_t n = 0;

	do {
		digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n < sizeof(digits));
	(void)put(l, digits + sizeof(digits) - n, n);
}

void log_access(const struct log_access *a)
{
	char msg[LOG_LINE_MAX];
	/* the message as "%s %s %u %.1fms by %s from %s" would make it, cut like it */
	struct line l = {msg, 0, LOG_LINE_MAX - 1};
	int64_t tenths = a->duration_us < 0 ? 0 : (a->duration_us + 50) / 100;
	int saved_errno = errno;

	if (!log_enabled(LOGL_INFO))
		goto out;
	(void)puts_(&l, a->method);
	(void)put(&l, " ", 1);
	(void)puts_(&l, a->route ? a->route : a->path);
	(void)put(&l, " ", 1);
	put_uint(&l, a->status);
	(void)put(&l, " ", 1);
	put_uint(&l, (uint64_t)(tenths / 10));
	(void)put(&l, ".", 1);
	put_uint(&l, (uint64_t)(tenths % 10));
	(void)put(&l, "ms", 2);
	if (a->principal && a->principal[0]) {
		(void)put(&l, " by ", 4);
		(void)puts_(&l, a->principal);
	}
	if (a->client && a->client[0]) {
		(void)put(&l, " from ", 6);
		(void)puts_(&l, a->client);
	}
	{
		const struct log_field f[] = {
		    LOG_TEXT("event", "access"),
		    LOG_TEXT("method", a->method),
		    LOG_TEXT("route", a->route),
		    LOG_TEXT("path", a->path),
		    LOG_INT("status", a->status),
		    LOG_REAL("duration_ms", (double)a->duration_us / 1000.0),
		    LOG_TEXT("principal", a->principal && a->principal[0] ? a->principal : NULL),
		    LOG_TEXT("client", a->client && a->client[0] ? a->client : NULL),
		};

		emit_message(LOGL_INFO, f, sizeof(f) / sizeof(f[0]), msg, l.len);
	}
out:
	errno = saved_errno;
}
