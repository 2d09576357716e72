/*
 * notify.h - life under a service manager (systemd, libsystemd's sd-daemon):
 * READY=1, RELOADING=1, STOPPING=1 and STATUS= lines through sd_notify; the
 * watchdog (WATCHDOG=1 at half of WatchdogSec while a self-check passes);
 * and socket activation (sd_listen_fds).
 *
 * Without NOTIFY_SOCKET or LISTEN_FDS in the environment every call is a
 * cheap no-op, so the same binary runs by hand, in a container, or under
 * systemd.
 */
#ifndef MGMTD_NOTIFY_H
#define MGMTD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

struct app;

/* STATUS=<text>: what the server is doing, for `systemctl status`. */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* READY=1 with a STATUS line: start-up is complete. */
void notify_ready(const char *status);

/* RELOADING=1 (SIGHUP begins) and READY=1 again (it ended). */
void notify_reloading(void);
void notify_reloaded(void);

/* STOPPING=1: shutdown has begun. */
void notify_stopping(void);

/*
 * Starts the watchdog thread when the service manager asks for one
 * (WATCHDOG_USEC): it checks that the store answers on a connection of its
 * own and then sends WATCHDOG=1, twice per interval. Returns 0 (also when
 * no watchdog is asked for), or -1 with a message in err.
 */
int notify_watchdog_start(struct app *app, char *err, size_t errlen);
void notify_watchdog_stop(void);

/*
 * Listening sockets passed by socket activation (LISTEN_FDS, LISTEN_PID):
 * *main_fd is the first, or the one named "http" (FileDescriptorName=);
 * *metrics_fd the one named "metrics", or -1. Both -1 when none was passed.
 * Returns 0, or -1 with a message in err when the passed descriptors are not
 * listening TCP sockets or more were passed than used.
 */
int notify_listen_fds(int *main_fd, int *metrics_fd, char *err, size_t errlen);

#endif
