/*
 * log.h - one line per event on stderr: "TIMESTAMP LEVEL message".
 *
 * Thread-safe (one write(2) per line). Never pass a secret: callers log token
 * ids and prefixes, never credentials or Authorization headers.
 */
#ifndef MGMTD_LOG_H
#define MGMTD_LOG_H

enum log_level { LOGL_DEBUG, LOGL_INFO, LOGL_WARN, LOGL_ERROR };

void log_set_level(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOGL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOGL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)

#endif
