/*
 * periodic.h - a background thread that runs one function now and then:
 * at start, every interval, and at once when kicked; stopped and joined on
 * demand. The retention task and the systemd watchdog are two of them.
 */
#ifndef MGMTD_PERIODIC_H
#define MGMTD_PERIODIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct periodic {
	void (*run)(void *arg);
	void *arg;
	int64_t interval_us;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool running, stop, kicked;
};

/*
 * Starts a thread that calls run(arg) at once and then every interval_us
 * (or sooner when kicked). Returns 0, or the pthread error number.
 */
int periodic_start(struct periodic *p, int64_t interval_us, void (*run)(void *arg), void *arg);

/* The next run now rather than at its time; nothing when p is not running. */
void periodic_kick(struct periodic *p);

/* Stops p and waits for its thread (a run under way finishes first). */
void periodic_stop(struct periodic *p);

#endif
