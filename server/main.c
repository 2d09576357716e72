/*
 * main.c - mgmtd's entry point. `serve` is here, in the order things start:
 * flags, config, the data directory's lock, store, TLS certificate,
 * listening sockets (bound, or passed by socket activation), identity
 * provider keys (the dev IdP's issuer needs the bound port), HTTP threads,
 * retention, then READY=1 to the service manager once /ready would answer
 * 200; shutdown runs in reverse. The offline commands live in cli.c.
 */
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "backup.h"
#include "cli.h"
#include "commitq.h"
#include "devidp.h"
#include "dispatch.h"
#include "fetch.h"
#include "http.h"
#include "identity.h"
#include "issuers.h"
#include "delays.h"
#include "faults.h"
#include "journal.h"
#include "log.h"
#include "maintenance.h"
#include "metrics.h"
#include "notify.h"
#include "seed.h"
#include "snapshots.h"
#include "store.h"
#include "tenants.h"
#include "tls.h"
#include "webhook.h"
#include "util.h"
#include "version.h"

static const char serve_usage[] =
    "usage: mgmtd serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR] [--seed FILE]\n"
    "  Serves the management API. Flags beat MGMTD_* environment variables,\n"
    "  which beat the file. --listen 127.0.0.1:0 picks a free port; the log\n"
    "  says which (\"listening on http://...\"). --data-dir :memory: keeps\n"
    "  everything in memory and writes no file. SIGTERM or SIGINT stop it\n"
    "  gracefully; SIGHUP reloads key files, refetches key URLs and rereads the\n"
    "  TLS certificate and key. Under systemd it reports readiness (Type=notify),\n"
    "  feeds the watchdog and takes sockets passed by socket activation.\n";

/* The HOST of listen without brackets, and the port. */
static int listen_address(const struct config *cfg, char *host, size_t hostsize, unsigned *port)
{
	if (config_split_listen(cfg->listen, host, hostsize, port) != 0) {
		fprintf(stderr, "mgmtd: bad listen address %s\n", cfg->listen);
		return -1;
	}
	return 0;
}

/*
 * Subjects stored before issuers were recorded get the only configured
 * issuer, or stop the start (identity.h); then the seed, whose users may
 * name the dev IdP by its URL only when the configuration fixes it (the port
 * is not bound yet; open_dev_idp names the real one).
 */
static int bind_and_seed(struct app *app, struct store *s, const char *seed)
{
	char err[3072];

	identity_issuers_init(&app->identities, &app->cfg, NULL);
	if (identity_bind_unbound(s, &app->identities, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	if (seed) {
		/* kept for POST /_test/reset only; a seed may hold secrets */
		if (seed_read_file(seed, &app->seed_text, &app->seed_len, err, sizeof(err)) != 0 ||
		    seed_apply_text(s, &app->token_key, app->cfg.invite_days, &app->identities,
		                    app->seed_text, app->seed_len, err, sizeof(err)) != 0) {
			log_error("%s", err);
			return -1;
		}
		if (!app->cfg.testing_enabled) {
			seed_text_free(app->seed_text, app->seed_len);
			app->seed_text = NULL;
			app->seed_len = 0;
		}
		log_info("seed %s applied", seed);
	}
	return 0;
}

/*
 * Migrates the store, binds old subjects and applies the seed on one
 * connection of the main thread. With data_dir = :memory: that connection
 * stays open as the anchor that keeps the in-memory database alive.
 */
static int prepare_store(struct app *app)
{
	const char *seed = app->cfg.seed_file[0] ? app->cfg.seed_file : NULL;
	char path[PATH_MAX], key_path[PATH_MAX], err[1024];
	struct store_target target;
	struct store *s = NULL;
	int rc = -1;

	if (cli_store_target(&app->cfg, path, &target) != 0)
		return -1;
	if (store_connect(&target, &s, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	log_info("store %s at schema version %d",
	         target.backend == STORE_BACKEND_POSTGRES ? "on PostgreSQL"
	         : config_in_memory(&app->cfg)            ? "in memory"
	                                                  : path,
	         store_schema_version(s));
	switch (backup_check_store_key(s, &app->token_key)) {
	case 0:
		break;
	case 1:
		/*
		 * A database that replicas share refuses the odd key: its tokens
		 * would fail on every other replica. One server's own file only
		 * warns, so that a restore forced on purpose can start.
		 */
		if (target.backend == STORE_BACKEND_POSTGRES) {
			config_token_key_path(&app->cfg, key_path);
			log_error("%s: %s", key_path, cli_key_mismatch);
			goto out;
		}
		log_warn(
		    "%s was made with another token.key than %s: no stored token will "
		    "authenticate (restore the key the store was made with; docs/operations.md)",
		    path,
		    app->cfg.token_key_file[0] ? app->cfg.token_key_file
		                               : "the data "
		                                 "directory's");
		break;
	default:
		log_error("cannot record the token key's fingerprint in the store");
		goto out;
	}
	if (bind_and_seed(app, s, seed) != 0)
		goto out;
	if (store_pool_new_target(&target, &app->stores, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	/* One writer at a time: concurrent changes share its transaction and commit. */
	if (store_commits_serialized(s) &&
	    (app->commitq = commitq_new(&target, &dispatch_commit_ops, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto out;
	}
	if (config_in_memory(&app->cfg)) {
		app->anchor = s;
		s = NULL;
	}
	rc = 0;
out:
	store_close(s);
	return rc;
}

/* The token key: from its file, or made up in memory when nothing may be written. */
static int load_token_key(struct app *app)
{
	char path[PATH_MAX], err[512];

	if (config_in_memory(&app->cfg) && app->cfg.testing_seed != 0) {
		/* Derived like the secrets: a snapshot exported by one run loads in the next. */
		static const char label[] = "mgmtd [testing] seed token key";
		uint32_t seed = (uint32_t)app->cfg.testing_seed;

		return crypto_generichash(app->token_key.bytes, sizeof(app->token_key.bytes),
		                          (const unsigned char *)&seed, sizeof(seed),
		                          (const unsigned char *)label, sizeof(label) - 1) == 0
		           ? 0
		           : -1;
	}
	if (config_in_memory(&app->cfg)) {
		randombytes_buf(app->token_key.bytes, sizeof(app->token_key.bytes));
		return 0;
	}
	config_token_key_path(&app->cfg, path);
	if (token_key_load_or_create(path, &app->token_key, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

/* The webhook's sender, when [webhook] url is set: events are written from now on. */
static int start_webhook(struct app *app, char *err, size_t errlen)
{
	unsigned char secret[1024];
	size_t len = 0;

	if (app->cfg.webhook_url[0] == '\0')
		return 0;
	if (webhook_read_secret(app->cfg.webhook_secret_file, secret, &len, err, errlen) != 0)
		return -1;
	app->webhook = webhook_start(app->cfg.webhook_url, secret, len,
	                             app->cfg.webhook_timeout * 1000, app->stores, err, errlen);
	sodium_memzero(secret, sizeof(secret));
	if (app->webhook == NULL)
		return -1;
	log_info("webhook: token events go to %s", app->cfg.webhook_url);
	return 0;
}

/* Whether some identity provider's keys come from a URL (jwks_url, discovery). */
static bool fetches_keys(const struct config *cfg)
{
	for (int i = 0; i < cfg->idp_count; i++)
		if (cfg->idps[i].jwks_url[0] != '\0' || cfg->idps[i].discovery)
			return true;
	return false;
}

static bool loopback_listen(const char *host)
{
	return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "localhost") == 0;
}

/* The dev IdP, once the port is known: its default issuer is this server's URL. */
static int open_dev_idp(struct app *app, const char *host, unsigned port)
{
	char issuer[CONFIG_STR_SIZE], key_path[PATH_MAX], err[512];

	if (!app->cfg.dev_idp_enabled)
		return 0;
	if (config_dev_idp_issuer(&app->cfg, port, issuer, sizeof(issuer)) != 0) {
		log_error(
		    "[dev_idp]: cannot make an issuer URL from [server] listen; set [dev_idp] "
		    "issuer");
		return -1;
	}
	config_dev_idp_key_path(&app->cfg, key_path);
	if (dev_idp_open(key_path, issuer, app->cfg.dev_idp_audience, &app->dev_idp, err,
	                 sizeof(err)) != 0) {
		log_error("[dev_idp]: %s", err);
		return -1;
	}
	/* From now on users may name the dev IdP by its URL too. */
	identity_issuers_init(&app->identities, &app->cfg, dev_idp_issuer(app->dev_idp));
	log_warn("[dev_idp] is enabled: TEST DEVICE. Anyone who reaches this server can get a JWT "
	         "for any provisioned user, admins included, with POST /oauth/token. Issuer %s",
	         issuer);
	if (!loopback_listen(host))
		log_warn("[dev_idp] is enabled on a non-loopback address (%s): never let it face a "
		         "network",
		         host);
	return 0;
}

static int load_idp(struct app *app)
{
	struct issuer_given dev = {0};
	char err[1024];

	if (app->dev_idp) {
		dev.label = "[dev_idp]";
		dev.identity = IDENTITY_DEV_IDP;
		dev.issuer = dev_idp_issuer(app->dev_idp);
		dev.audience = dev_idp_audience(app->dev_idp);
		dev.algorithms = "ES256";
		dev.jwks_json = dev_idp_jwks(app->dev_idp, &dev.jwks_len);
	}
	if (issuers_new(&app->cfg, app->dev_idp ? &dev : NULL, &app->issuers, err, sizeof(err)) !=
	    0) {
		log_error("%s", err);
		return -1;
	}
	if (issuers_count(app->issuers) == 0)
		log_warn("no identity provider configured ([idp] issuer): JWTs are refused, "
		         "only management tokens work");
	return issuers_start(app->issuers);
}

static void reload(struct app *app)
{
	char err[1024], what[600];

	notify_reloading();
	log_info("SIGHUP received: reloading key files and refetching key URLs%s",
	         app->tls ? ", rereading the TLS certificate and key" : "");
	issuers_reload(app->issuers);
	if (app->tls) {
		/* A bad file keeps the certificate in use: HTTPS never stops for a typo. */
		if (tls_holder_reload(app->tls, err, sizeof(err)) != 0) {
			log_error(
			    "SIGHUP: TLS certificate not reloaded, the old one stays in use: %s",
			    err);
			metrics_tls_reload(0);
		} else {
			tls_holder_describe(app->tls, what, sizeof(what));
			log_info("SIGHUP: TLS certificate reloaded: %s", what);
			metrics_tls_reload(1);
		}
	}
	log_info("SIGHUP: reload done");
	notify_reloaded();
}

/*
 * Waits for a signal (they are blocked in every thread, so they come here)
 * for at most timeout_ms (-1: forever). Returns the signal, or 0 on timeout.
 */
static int next_signal(const sigset_t *set, int timeout_ms)
{
	struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
	int sig;

	if (timeout_ms < 0)
		return sigwait(set, &sig) == 0 ? sig : 0;
	sig = sigtimedwait(set, NULL, &ts);
	return sig > 0 ? sig : 0;
}

/* Handles sig; true when it asks to stop. */
static bool handle_signal(struct app *app, int sig)
{
	if (sig == SIGTERM || sig == SIGINT) {
		log_notice("%s received: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return true;
	}
	if (sig == SIGHUP)
		reload(app);
	return false;
}

/* What /ready answers: ready, and every identity provider's keys loaded once. */
static bool ready_now(struct app *app, char *why, size_t whylen)
{
	struct issuer_health health[ISSUERS_MAX];
	size_t n = issuers_health(app->issuers, health, ISSUERS_MAX);

	for (size_t i = 0; i < n; i++)
		if (!health[i].loaded) {
			snprintf(why, whylen, "waiting for the signing keys of %s %s%s%s",
			         health[i].label, health[i].issuer, health[i].error[0] ? ": " : "",
			         health[i].error);
			return false;
		}
	return atomic_load(&app->ready);
}

/*
 * READY=1 once /ready would answer 200: until every identity provider's keys
 * are in, the service manager hears why it waits (STATUS=). Returns false
 * when a stop signal came first.
 */
static bool wait_until_ready(struct app *app, const sigset_t *set)
{
	char why[1200] = "", said[1200] = "";

	while (!ready_now(app, why, sizeof(why))) {
		int sig;

		if (strcmp(why, said) != 0) {
			notify_status("%s", why);
			memcpy(said, why, sizeof(said));
		}
		sig = next_signal(set, 50);
		if (sig && handle_signal(app, sig))
			return false;
	}
	return true;
}

/* Waits for SIGTERM or SIGINT; SIGHUP reloads meanwhile, while requests go on. */
static void wait_for_stop(struct app *app, const sigset_t *set)
{
	while (!handle_signal(app, next_signal(set, -1)))
		;
}

/*
 * The listening sockets: passed by socket activation, or bound here. The
 * metrics listener exists only with [metrics] listen (or a passed socket
 * named "metrics").
 */
static int open_listeners(struct app *app, const char *host, unsigned port,
                          struct http_server **http, struct http_server **metrics)
{
	char err[512], mhost[256];
	int main_fd, metrics_fd;
	unsigned mport;

	if (notify_listen_fds(&main_fd, &metrics_fd, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	if (main_fd >= 0) {
		if (http_adopt(main_fd, http, err, sizeof(err)) != 0) {
			log_error("%s", err);
			return -1;
		}
		log_info("socket activation: serving on the passed socket (port %u); [server] "
		         "listen is not used",
		         http_port(*http));
	} else if (http_bind(host, port, http, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	if (metrics_fd >= 0 && !app->cfg.metrics_enabled) {
		log_error(
		    "socket activation: a \"metrics\" socket was passed but [metrics] enabled "
		    "is false");
		return -1;
	}
	if (metrics_fd >= 0) {
		if (http_adopt(metrics_fd, metrics, err, sizeof(err)) != 0) {
			log_error("%s", err);
			return -1;
		}
	} else if (app->cfg.metrics_enabled && app->cfg.metrics_listen[0]) {
		if (config_split_listen(app->cfg.metrics_listen, mhost, sizeof(mhost), &mport) !=
		        0 ||
		    http_bind(mhost, mport, metrics, err, sizeof(err)) != 0) {
			log_error("[metrics] listen: %s", err);
			return -1;
		}
	}
	if (*metrics)
		http_serve_metrics_only(*metrics);
	return 0;
}

/* The host of the metrics listener, for the log line. */
static const char *metrics_host(const struct app *app)
{
	static char host[256];
	unsigned port;

	if (app->cfg.metrics_listen[0] == '\0' ||
	    config_split_listen(app->cfg.metrics_listen, host, sizeof(host), &port) != 0)
		return "(passed socket)";
	return host;
}

static void log_listening(const char *what, const char *host, const struct app *app,
                          const struct http_server *srv)
{
	const char *scheme = app->tls ? "https" : "http";

	log_notice(strchr(host, ':') ? "%s on %s://[%s]:%u" : "%s on %s://%s:%u", what, scheme,
	           host, http_port(srv));
}

static int serve(int argc, char **argv)
{
	static struct app app; /* large (config paths); static keeps it off the stack */
	struct cli_common common = {.check_files = true};
	struct http_server *http = NULL, *metrics = NULL;
	char host[256], err[1024], what[600];
	unsigned port;
	sigset_t stop_signals;
	int rc = EXIT_FAILED, lock_fd = -1;

	for (int i = 1; i < argc; i++) {
		const char **target = NULL;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(serve_usage, stdout);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--config") == 0)
			target = &common.config_file;
		else if (strcmp(argv[i], "--listen") == 0)
			target = &common.listen;
		else if (strcmp(argv[i], "--data-dir") == 0)
			target = &common.data_dir;
		else if (strcmp(argv[i], "--seed") == 0)
			target = &common.seed;
		if (target == NULL || i + 1 == argc) {
			fprintf(stderr, "mgmtd serve: %s %s\n", argv[i],
			        target ? "needs a value" : "is not an option");
			fputs(serve_usage, stderr);
			return EXIT_USAGE;
		}
		*target = argv[++i];
	}

	if (cli_load_config(&common, &app.cfg) != 0 ||
	    listen_address(&app.cfg, host, sizeof(host), &port) != 0)
		return EXIT_FAILED;
	/* Before the seed is applied: its users without an id get derived ones too. */
	if (app.cfg.testing_seed != 0) {
		ids_derive_from((uint32_t)app.cfg.testing_seed);
		log_warn("[testing] seed = %d: ids and token secrets are derived from it and "
		         "GUESSABLE; never let this server face a network",
		         app.cfg.testing_seed);
	}
	/* Block before any thread starts so that every thread inherits the mask. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * libcurl's global state: once, before any thread, and only when an
	 * identity provider's keys are fetched (it loads all of OpenSSL: about
	 * 2 MiB of resident memory a server with key files never needs).
	 */
	if (fetches_keys(&app.cfg) && fetch_global_init() != 0) {
		log_error("libcurl cannot initialise");
		return EXIT_FAILED;
	}

	log_notice("mgmtd %s starting", version_string());
	notify_status("opening the store");
	if (!config_in_memory(&app.cfg) && cli_make_data_dir(app.cfg.data_dir) != 0)
		goto out;
	/* Held until exit: `mgmtd restore` refuses a data directory a server uses. */
	if (!config_in_memory(&app.cfg) &&
	    (lock_fd = backup_hold_data_dir(app.cfg.data_dir, err, sizeof(err))) < 0) {
		log_error("%s", err);
		goto out;
	}
	if (load_token_key(&app) != 0 || prepare_store(&app) != 0)
		goto out;
	if (config_failed_auth_burst(&app.cfg) > 0) {
		app.throttle =
		    throttle_new(app.cfg.failed_auth_burst, app.cfg.failed_auth_per_minute,
		                 (size_t)app.cfg.failed_auth_addresses);
		if (app.throttle == NULL) {
			log_error("out of memory for the failed-authentication throttle");
			goto out;
		}
	}
	if (app.cfg.testing_enabled &&
	    ((app.journal = journal_new((size_t)app.cfg.testing_journal_entries)) == NULL ||
	     (app.faults = faults_new()) == NULL || (app.tenants = tenants_new()) == NULL ||
	     (app.snapshots = snapshots_new()) == NULL)) {
		log_error("out of memory for the request journal ([testing] journal_entries)");
		goto out;
	}
	if (app.cfg.testing_enabled) {
		const struct delays_values configured = {
		    .token_activation_s = app.cfg.testing_token_activation_seconds,
		    .name_hold_s = app.cfg.testing_database_name_hold_seconds,
		    .purge_after_days = app.cfg.testing_purge_after_days};

		if ((app.delays = delays_new(&configured)) == NULL) {
			log_error("out of memory for the test harness's delays");
			goto out;
		}
	}
	/* validated with the rest of the config: this cannot fail here */
	if (proxies_parse(app.cfg.trusted_proxies, &app.trusted_proxies, err, sizeof(err)) != 0) {
		log_error("[server] trusted_proxies: %s", err);
		goto out;
	}
	if (config_tls(&app.cfg)) {
		if (tls_holder_new(app.cfg.tls_cert, app.cfg.tls_key, &app.tls, err, sizeof(err)) !=
		    0) {
			log_error("%s", err);
			goto out;
		}
		tls_holder_describe(app.tls, what, sizeof(what));
		log_info("TLS: HTTPS only (TLS 1.2 and 1.3), certificate %s", what);
	}
	if (open_listeners(&app, host, port, &http, &metrics) != 0)
		goto out;
	if (open_dev_idp(&app, host, http_port(http)) != 0 || load_idp(&app) != 0)
		goto out;
	if (http_run(http, &app, err, sizeof(err)) != 0 ||
	    (metrics && http_run(metrics, &app, err, sizeof(err)) != 0)) {
		log_error("%s", err);
		goto out;
	}
	if (maintenance_start(&app, err, sizeof(err)) != 0 ||
	    start_webhook(&app, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	atomic_store(&app.ready, true);
	if (app.cfg.testing_enabled)
		log_warn("[testing] is enabled: TEST DEVICE. /_test/reset and /_test/clock answer "
		         "anyone, without a credential; never let this server face a network%s",
		         loopback_listen(host) ? "" : " (it listens on a non-loopback address)");
	if (app.cfg.testing_enabled && app.throttle == NULL && app.cfg.failed_auth_burst > 0)
		log_info("failed-authentication throttling is off in testing mode; set [auth] "
		         "failed_auth_burst to turn it on");
	log_listening("listening", host, &app, http);
	if (metrics)
		log_listening("serving /metrics", metrics_host(&app), &app, metrics);

	if (wait_until_ready(&app, &stop_signals)) {
		snprintf(what, sizeof(what), "serving on port %u", http_port(http));
		notify_ready(what);
		if (notify_watchdog_start(&app, err, sizeof(err)) != 0)
			log_error("%s", err); /* the service manager will restart us: say why */
		wait_for_stop(&app, &stop_signals);
	}
	notify_stopping();
	atomic_store(&app.ready, false);
	/* Nothing may wait on an identity provider while the requests drain. */
	issuers_cancel(app.issuers);
	rc = EXIT_OK;
out:
	notify_watchdog_stop();
	maintenance_stop();
	webhook_stop(app.webhook); /* a POST under way ends within [webhook] timeout */
	/* the writer finishes (and answers) what it holds while the threads still serve */
	http_drain(http, app.cfg.request_timeout * 1000);
	commitq_free(app.commitq);
	http_stop(http, app.cfg.request_timeout * 1000);
	http_stop(metrics, 1000);
	issuers_free(app.issuers);
	store_pool_free(app.stores);
	throttle_free(app.throttle);
	journal_free(app.journal); /* after http_stop: no request records any more */
	faults_free(app.faults);
	delays_free(app.delays);
	tenants_free(app.tenants);
	snapshots_free(app.snapshots);
	store_close(app.anchor);
	tls_holder_free(app.tls);
	if (lock_fd >= 0)
		close(lock_fd);
	dev_idp_free(app.dev_idp);
	seed_text_free(app.seed_text, app.seed_len);
	sodium_memzero(&app.token_key, sizeof(app.token_key));
	if (fetches_keys(&app.cfg))
		fetch_global_cleanup();
	log_notice("stopped");
	return rc;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (cmd == NULL) {
		cli_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		cli_usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0)
		return cli_version(argc - 1, argv + 1);
	if (sodium_init() < 0) {
		fprintf(stderr, "mgmtd: libsodium cannot initialise\n");
		return EXIT_FAILED;
	}
	if (strcmp(cmd, "serve") == 0)
		return serve(argc - 1, argv + 1);
	if (strcmp(cmd, "check-config") == 0)
		return cli_check_config(argc - 1, argv + 1);
	if (strcmp(cmd, "user") == 0)
		return cli_user(argc - 1, argv + 1);
	if (strcmp(cmd, "management") == 0)
		return cli_management(argc - 1, argv + 1);
	if (strcmp(cmd, "token") == 0)
		return cli_token(argc - 1, argv + 1);
	if (strcmp(cmd, "audit") == 0)
		return cli_audit(argc - 1, argv + 1);
	if (strcmp(cmd, "backup") == 0)
		return cli_backup(argc - 1, argv + 1);
	if (strcmp(cmd, "restore") == 0)
		return cli_restore(argc - 1, argv + 1);
	if (strcmp(cmd, "verify") == 0)
		return cli_verify(argc - 1, argv + 1);
	fprintf(stderr, "mgmtd: unknown command %s\n", cmd);
	cli_usage(stderr);
	return EXIT_USAGE;
}
