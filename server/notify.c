/*
 * notify.c - sd_notify, the watchdog thread and socket activation.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "app.h"
#include "log.h"
#include "notify.h"
#include "periodic.h"
#include "store.h"
#include "util.h"

static struct periodic watchdog;

/* Sends one message; a failure to reach the manager is logged, never fatal. */
static void send_state(const char *state)
{
	int rc = sd_notify(0, state);

	if (rc < 0)
		log_warn("cannot notify the service manager: %s", strerror(-rc));
}

void notify_status(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "STATUS=");
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	/* one line: a newline would start another assignment */
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	send_state(msg);
}

void notify_ready(const char *status)
{
	char msg[600];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%.500s", status);
	send_state(msg);
}

void notify_reloading(void)
{
	char msg[128];
	struct timespec ts;

	/* MONOTONIC_USEC lets newer managers tell this reload from the next one. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg),
	         "RELOADING=1\nSTATUS=reloading keys and certificates\n"
	         "MONOTONIC_USEC=%llu",
	         (unsigned long long)ts.tv_sec * 1000000ull +
	             (unsigned long long)ts.tv_nsec / 1000);
	send_state(msg);
}

void notify_reloaded(void)
{
	send_state("READY=1\nSTATUS=serving");
}

void notify_stopping(void)
{
	send_state("STOPPING=1\nSTATUS=stopping: finishing the requests in flight");
}

/*
 * The watchdog's self-check: the store answers a read on this thread's
 * connection, or says that its database server cannot be reached, which a
 * restart of this process would not mend (PostgreSQL: the replica waits,
 * /ready says 503, and it reconnects by itself).
 */
static bool healthy(struct app *app)
{
	struct store *s = store_pool_get(app->stores);
	bool ok = s != NULL && (store_schema_version(s) > 0 || store_ping(s) == STORE_UNAVAILABLE);

	store_pool_put(app->stores, s);
	return ok;
}

static void watchdog_run(void *arg)
{
	if (healthy(arg))
		send_state("WATCHDOG=1");
	else
		log_error(
		    "watchdog: the store does not answer; not reassuring the service manager");
}

int notify_watchdog_start(struct app *app, char *err, size_t errlen)
{
	uint64_t usec = 0;
	int rc = sd_watchdog_enabled(0, &usec);

	if (rc <= 0 || usec == 0)
		return 0;
	/* twice per interval: one late ping is no restart */
	rc = periodic_start(&watchdog, (int64_t)(usec / 2), watchdog_run, app);
	if (rc != 0) {
		set_err(err, errlen, "cannot start the watchdog thread: %s", strerror(rc));
		return -1;
	}
	log_info("watchdog: WATCHDOG=1 every %llu ms", (unsigned long long)usec / 2000);
	return 0;
}

void notify_watchdog_stop(void)
{
	periodic_stop(&watchdog);
}

int notify_listen_fds(int *main_fd, int *metrics_fd, char *err, size_t errlen)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names), rc = 0, used = 0;

	*main_fd = *metrics_fd = -1;
	if (n < 0) {
		set_err(err, errlen, "socket activation: %s", strerror(-n));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		const char *name = names && names[i] ? names[i] : "";

		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			set_err(err, errlen,
			        "socket activation: descriptor %d (%s) is not a listening stream "
			        "socket",
			        fd, name[0] ? name : "unnamed");
			rc = -1;
			continue;
		}
		if (strcmp(name, "metrics") == 0 && *metrics_fd < 0) {
			*metrics_fd = fd;
			used++;
		} else if (*main_fd < 0 && (strcmp(name, "http") == 0 || i == 0 ||
		                            name[0] == '\0' || strcmp(name, "unknown") == 0)) {
			*main_fd = fd;
			used++;
		}
	}
	if (rc == 0 && used < n) {
		set_err(err, errlen,
		        "socket activation: %d sockets passed, %d used; name them \"http\" and "
		        "\"metrics\" (FileDescriptorName=)",
		        n, used);
		rc = -1;
	}
	if (rc == 0 && n > 0 && *main_fd < 0) {
		set_err(err, errlen, "socket activation: no socket for the API (name it \"http\")");
		rc = -1;
	}
	for (int i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
	return rc;
}
