/*
 * maintenance.h - the background task of the server: retention.
 *
 * [store] keep_expired_days: management and database tokens revoked, or
 * expired, more than that many days ago are deleted; keep_audit_days: audit
 * events older than that. 0 (the default) keeps them forever, and then the
 * task does not run at all. It runs at start, every 10 minutes, and at once
 * when kicked (a test harness moving the fake clock): the clock is
 * time_now_ms, so retention follows a fake clock like every expiry does.
 *
 * Each pass also logs the expiry warnings that are due ([tokens]
 * expiry_warning_days, expiry.h); the task runs when they are on (the default).
 *
 * With [testing] enabled the task runs always, and each pass also purges the
 * deleted databases and tables that the test harness's purge_after_days
 * (delays.h) has made due.
 */
#ifndef MGMTD_MAINTENANCE_H
#define MGMTD_MAINTENANCE_H

#include <stddef.h>

struct app;
struct store;

/* Starts the task when a retention is configured. 0, or -1 with a message in err. */
int maintenance_start(struct app *app, char *err, size_t errlen);

/* Runs a pass now (from any thread); nothing when the task is not running. */
void maintenance_kick(void);

/* Stops the task and waits for it. */
void maintenance_stop(void);

/* One pass on store s at time now (the task's work, for tests). 0 or -1 (logged). */
int maintenance_pass(struct app *app, struct store *s, long long now_ms);

/*
 * The purge alone, on store s at time now: what the test harness runs before
 * it answers a move of the clock or a change of the delays, so that the purge
 * is done when the answer comes. 0 (also when purging is off) or -1 (logged).
 */
int maintenance_purge(struct app *app, struct store *s, long long now_ms);

#endif
