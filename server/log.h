/*
 * log.h - one line per event on stderr, as text ("TIMESTAMP LEVEL message")
 * or as one JSON object per line ({"ts","level","msg", fields...}).
 *
 * Thread-safe (one write(2) per line). Never pass a secret: callers log token
 * ids and prefixes, never credentials or Authorization headers.
 */
#ifndef MGMTD_LOG_H
#define MGMTD_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * LOGL_NOTICE is for the few lines about the server's own life (starting,
 * listening on, stopping, stopped): written whatever the level, since an
 * operator or a supervisor reads the address from them.
 */
enum log_level { LOGL_DEBUG, LOGL_INFO, LOGL_WARN, LOGL_ERROR, LOGL_NOTICE };

enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };

void log_set_level(enum log_level level);

/* Text (the default) or JSON lines; set once at start, before threads. */
void log_set_format(enum log_format format);

/* "debug", "info", "warn", "error" in any case. Returns 0, or -1 for anything else. */
int log_level_parse(const char *name, enum log_level *out);

/* True when a line of this level would be written (to skip building costly fields). */
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * One named value of a structured line. In JSON lines each field is a key
 * of the object; text lines show only the message, which should say the
 * same in words. A field whose text is NULL is left out.
 */
enum log_field_type { LOG_FIELD_TEXT, LOG_FIELD_INT, LOG_FIELD_REAL };

struct log_field {
	const char *key;
	enum log_field_type type;
	const char *text;
	int64_t integer;
	double real;
};

#define LOG_TEXT(k, v) ((struct log_field){.key = (k), .type = LOG_FIELD_TEXT, .text = (v)})
#define LOG_INT(k, v)  ((struct log_field){.key = (k), .type = LOG_FIELD_INT, .integer = (v)})
#define LOG_REAL(k, v) ((struct log_field){.key = (k), .type = LOG_FIELD_REAL, .real = (v)})

/* A line with fields: the access log, admin actions. */
void log_event(enum log_level level, const struct log_field *fields, size_t nfields,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * A budget for lines that clients can cause at will (refused credentials
 * without an audit row): at most `lines` per window of `window_ms`; what
 * is held back is counted, and the next line let through says how many.
 * Initialise with LOG_LIMIT_INIT; thread-safe.
 */
struct log_limit {
	pthread_mutex_t lock;
	int64_t window_start_ms;
	unsigned used;
	uint64_t held_back;
};
#define LOG_LIMIT_INIT                                                                             \
	{                                                                                          \
		PTHREAD_MUTEX_INITIALIZER, 0, 0, 0                                                 \
	}

/*
 * Whether a line may be written at now_ms (a monotonic clock). When it may,
 * *held_back is the number of lines held back since the last one let through.
 */
bool log_limit_take(struct log_limit *l, unsigned lines, int64_t window_ms, int64_t now_ms,
                    uint64_t *held_back);

/*
 * The access line of one request (http.c): the line log_event would write
 * with the message "METHOD ROUTE STATUS D.Dms[ by PRINCIPAL][ from CLIENT]"
 * (ROUTE: the route's pattern, or the path as sent when none matched) and
 * the fields event=access, method, route, path, status, duration_ms,
 * principal, client; made without printf, since every request has one.
 */
struct log_access {
	const char *method;
	const char *route; /* NULL: no route matched */
	const char *path;
	unsigned status;
	int64_t duration_us;
	const char *principal; /* NULL or "": none */
	const char *client;    /* NULL or "": unknown */
};

void log_access(const struct log_access *a);

#define log_debug(...)  log_msg(LOGL_DEBUG, __VA_ARGS__)
#define log_info(...)   log_msg(LOGL_INFO, __VA_ARGS__)
#define log_warn(...)   log_msg(LOGL_WARN, __VA_ARGS__)
#define log_error(...)  log_msg(LOGL_ERROR, __VA_ARGS__)
#define log_notice(...) log_msg(LOGL_NOTICE, __VA_ARGS__)

#endif
