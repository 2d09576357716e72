/*
 * periodic.c - the thread of periodic.h.
 */
#include <errno.h>
#include <time.h>

#include "periodic.h"

static void *periodic_main(void *arg)
{
	struct periodic *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct timespec until;
		int64_t ns;

		p->kicked = false;
		pthread_mutex_unlock(&p->lock);
		p->run(p->arg);
		pthread_mutex_lock(&p->lock);
		/* the condition variable waits by the realtime clock (its default) */
		clock_gettime(CLOCK_REALTIME, &until);
		ns = (int64_t)until.tv_nsec + (p->interval_us % 1000000) * 1000;
		until.tv_sec += (time_t)(p->interval_us / 1000000 + ns / 1000000000);
		until.tv_nsec = (long)(ns % 1000000000);
		while (!p->stop && !p->kicked &&
		       pthread_cond_timedwait(&p->wake, &p->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int periodic_start(struct periodic *p, int64_t interval_us, void (*run)(void *arg), void *arg)
{
	int rc;

	p->run = run;
	p->arg = arg;
	p->interval_us = interval_us > 0 ? interval_us : 1;
	p->stop = p->kicked = false;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	rc = pthread_create(&p->thread, NULL, periodic_main, p);
	if (rc != 0) {
		pthread_cond_destroy(&p->wake);
		pthread_mutex_destroy(&p->lock);
		return rc;
	}
	p->running = true;
	return 0;
}

void periodic_kick(struct periodic *p)
{
	if (!p->running)
		return;
	pthread_mutex_lock(&p->lock);
	p->kicked = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void periodic_stop(struct periodic *p)
{
	if (!p->running)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	p->running = false;
}
