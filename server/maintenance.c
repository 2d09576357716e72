/*
 * maintenance.c - the retention task.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "log.h"
#include "maintenance.h"
#include "metrics.h"
#include "store.h"
#include "timeutil.h"
#include "util.h"

#define PASS_INTERVAL_S (10 * 60)
#define DAY_MS          (24LL * 60 * 60 * 1000)

static struct {
	pthread_t thread;
	bool running, stop, kicked;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct app *app;
} task = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

int maintenance_pass(struct app *app, struct store *s, long long now_ms)
{
	int64_t mgmt = 0, db = 0, audit = 0;
	enum store_status st;
	int rc = 0;

	if (app->cfg.keep_expired_days > 0) {
		st =
		    store_tokens_prune(s, now_ms - app->cfg.keep_expired_days * DAY_MS, &mgmt, &db);
		if (st != STORE_OK) {
			log_error("retention: cannot delete old tokens: %s", store_status_name(st));
			rc = -1;
		}
	}
	if (app->cfg.keep_audit_days > 0) {
		st = store_audit_prune(s, now_ms - app->cfg.keep_audit_days * DAY_MS, &audit);
		if (st != STORE_OK) {
			log_error("retention: cannot delete old audit events: %s",
			          store_status_name(st));
			rc = -1;
		}
	}
	metrics_retention(mgmt, db, audit);
	log_info("retention: pass done: deleted %lld management tokens and %lld database tokens "
	         "(keep_expired_days %d), %lld audit events (keep_audit_days %d)",
	         (long long)mgmt, (long long)db, app->cfg.keep_expired_days, (long long)audit,
	         app->cfg.keep_audit_days);
	return rc;
}

static void *task_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&task.lock);
	while (!task.stop) {
		struct timespec until;
		struct store *s;

		task.kicked = false;
		pthread_mutex_unlock(&task.lock);
		s = store_pool_get(task.app->stores);
		if (s != NULL)
			maintenance_pass(task.app, s, time_now_ms());
		else
			log_error("retention: the store cannot be opened; next pass later");
		pthread_mutex_lock(&task.lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += PASS_INTERVAL_S;
		while (!task.stop && !task.kicked &&
		       pthread_cond_timedwait(&task.wake, &task.lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&task.lock);
	return NULL;
}

int maintenance_start(struct app *app, char *err, size_t errlen)
{
	int rc;

	if (app->cfg.keep_expired_days == 0 && app->cfg.keep_audit_days == 0)
		return 0;
	task.app = app;
	task.stop = task.kicked = false;
	rc = pthread_create(&task.thread, NULL, task_main, NULL);
	if (rc != 0) {
		set_err(err, errlen, "cannot start the retention task: %s", strerror(rc));
		return -1;
	}
	task.running = true;
	return 0;
}

void maintenance_kick(void)
{
	pthread_mutex_lock(&task.lock);
	task.kicked = true;
	pthread_cond_signal(&task.wake);
	pthread_mutex_unlock(&task.lock);
}

void maintenance_stop(void)
{
	if (!task.running)
		return;
	pthread_mutex_lock(&task.lock);
	task.stop = true;
	pthread_cond_signal(&task.wake);
	pthread_mutex_unlock(&task.lock);
	pthread_join(task.thread, NULL);
	task.running = false;
}
