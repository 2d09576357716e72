/*
 * delays.c - the delays in force, behind one lock (delays.h).
 */
#include "delays.h"

#include <pthread.h>
#include <stdlib.h>

#define SECOND_MS 1000LL
#define DAY_MS    (24LL * 60 * 60 * SECOND_MS)

struct delays {
	pthread_mutex_t lock;
	struct delays_values configured;
	struct delays_values now; /* in force */
};

struct delays *delays_new(const struct delays_values *configured)
{
	struct delays *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	if (pthread_mutex_init(&d->lock, NULL) != 0) {
		free(d);
		return NULL;
	}
	d->configured = d->now = *configured;
	return d;
}

void delays_free(struct delays *d)
{
	if (d == NULL)
		return;
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void delays_get(struct delays *d, struct delays_values *out)
{
	if (d == NULL) {
		*out = (struct delays_values){0, 0, 0};
		return;
	}
	pthread_mutex_lock(&d->lock);
	*out = d->now;
	pthread_mutex_unlock(&d->lock);
}

void delays_set(struct delays *d, const struct delays_values *v)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->now = *v;
	pthread_mutex_unlock(&d->lock);
}

void delays_restore(struct delays *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->now = d->configured;
	pthread_mutex_unlock(&d->lock);
}

int64_t delays_token_activation_ms(struct delays *d)
{
	struct delays_values v;

	delays_get(d, &v);
	return v.token_activation_s * SECOND_MS;
}

int64_t delays_name_hold_ms(struct delays *d)
{
	struct delays_values v;

	delays_get(d, &v);
	return v.name_hold_s * SECOND_MS;
}

int64_t delays_purge_before(struct delays *d, int64_t now_ms)
{
	struct delays_values v;

	delays_get(d, &v);
	if (v.purge_after_days == 0)
		return INT64_MIN;
	return now_ms - v.purge_after_days * DAY_MS;
}
