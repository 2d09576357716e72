/*
 * maintenance.c - the retention task.
 */
#include <string.h>

#include "app.h"
#include "delays.h"
#include "expiry.h"
#include "log.h"
#include "maintenance.h"
#include "metrics.h"
#include "periodic.h"
#include "store.h"
#include "timeutil.h"
#include "util.h"

#define PASS_INTERVAL_S (10 * 60)
#define DAY_MS          (24LL * 60 * 60 * 1000)

static struct periodic task;

/* Retention ([store] keep_*): only when configured, so that no pass is logged otherwise. */
static int retention_pass(struct app *app, struct store *s, long long now_ms)
{
	int64_t mgmt = 0, db = 0, audit = 0;
	enum store_status st;
	int rc = 0;

	if (app->cfg.keep_expired_days == 0 && app->cfg.keep_audit_days == 0)
		return 0;
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

int maintenance_pass(struct app *app, struct store *s, long long now_ms)
{
	int rc = retention_pass(app, s, now_ms);

	if (maintenance_purge(app, s, now_ms) != 0)
		rc = -1;
	if (expiry_warn_pass(s, now_ms, app->cfg.expiry_warning_days) < 0)
		rc = -1;
	return rc;
}

int maintenance_purge(struct app *app, struct store *s, long long now_ms)
{
	int64_t before = delays_purge_before(app->delays, now_ms);
	int64_t databases = 0, tables = 0;
	enum store_status st;

	if (before == INT64_MIN)
		return 0;
	st = store_deleted_purge(s, before, &databases, &tables);
	if (st != STORE_OK) {
		log_error("purge: cannot delete deleted databases and tables: %s",
		          store_status_name(st));
		return -1;
	}
	if (databases > 0 || tables > 0)
		log_info("purge: %lld deleted databases and %lld deleted tables are gone for good "
		         "([testing] purge_after_days)",
		         (long long)databases, (long long)tables);
	return 0;
}

static void task_run(void *arg)
{
	struct app *app = arg;
	struct store *s = store_pool_get(app->stores);

	if (s != NULL) {
		maintenance_pass(app, s, time_now_ms());
		store_pool_put(app->stores, s);
	} else
		log_error("retention: the store cannot be opened; next pass later");
}

int maintenance_start(struct app *app, char *err, size_t errlen)
{
	int rc;

	/* With [testing], the purge of deleted databases may be turned on at any time. */
	if (app->cfg.keep_expired_days == 0 && app->cfg.keep_audit_days == 0 &&
	    app->cfg.expiry_warning_days == 0 && !app->cfg.testing_enabled)
		return 0;
	rc = periodic_start(&task, PASS_INTERVAL_S * 1000000LL, task_run, app);
	if (rc != 0) {
		set_err(err, errlen, "cannot start the retention task: %s", strerror(rc));
		return -1;
	}
	return 0;
}

void maintenance_kick(void)
{
	periodic_kick(&task);
}

void maintenance_stop(void)
{
	periodic_stop(&task);
}
