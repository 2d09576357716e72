/*
 * main.c - mgmtd's entry point. `serve` is here, in the order things start:
 * flags, config, store, listening socket, identity provider keys (the dev
 * IdP's issuer needs the bound port), HTTP threads, signals; shutdown runs
 * in reverse. The offline commands live in cli.c.
 */
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "devidp.h"
#include "fetch.h"
#include "http.h"
#include "issuers.h"
#include "log.h"
#include "seed.h"
#include "store.h"

static const char serve_usage[] =
    "usage: mgmtd serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR] [--seed FILE]\n"
    "  Serves the management API. Flags beat MGMTD_* environment variables,\n"
    "  which beat the file. --listen 127.0.0.1:0 picks a free port; the log\n"
    "  says which (\"listening on http://...\"). --data-dir :memory: keeps\n"
    "  everything in memory and writes no file. SIGTERM or SIGINT stop it\n"
    "  gracefully; SIGHUP reloads key files and refetches key URLs.\n";

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
 * Migrates the store and applies the seed on one connection of the main
 * thread. With data_dir = :memory: that connection stays open as the
 * anchor that keeps the in-memory database alive.
 */
static int prepare_store(struct app *app, const char *seed)
{
	char path[PATH_MAX], key_path[PATH_MAX], err[1024];
	struct store_target target;
	struct store *s = NULL;
	enum store_status st;
	int rc = -1;

	if (cli_store_target(&app->cfg, path, &target) != 0)
		return -1;
	if (store_connect(&target, &s, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	st = store_token_key_check(s, &app->token_key);
	if (st != STORE_OK) {
		config_token_key_path(&app->cfg, key_path);
		if (st == STORE_CONFLICT)
			log_error("%s: %s", key_path, cli_key_mismatch);
		else
			log_error("cannot check the token key against the store: %s",
			          store_status_name(st));
		goto out;
	}
	log_info("store %s at schema version %d",
	         target.backend == STORE_BACKEND_POSTGRES ? "on PostgreSQL"
	         : config_in_memory(&app->cfg)            ? "in memory"
	                                                  : path,
	         store_schema_version(s));
	if (seed) {
		/* kept for POST /_test/reset only; a seed may hold secrets */
		if (seed_read_file(seed, &app->seed_text, &app->seed_len, err, sizeof(err)) != 0 ||
		    seed_apply_text(s, &app->token_key, app->cfg.invite_days, app->seed_text,
		                    app->seed_len, err, sizeof(err)) != 0) {
			log_error("%s", err);
			goto out;
		}
		if (!app->cfg.testing_enabled) {
			seed_text_free(app->seed_text, app->seed_len);
			app->seed_text = NULL;
			app->seed_len = 0;
		}
		log_info("seed %s applied", seed);
	}
	if (store_pool_new_target(&target, &app->stores, err, sizeof(err)) != 0) {
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

/*
 * Waits for SIGTERM or SIGINT (blocked in every thread, so they come here).
 * SIGHUP reloads the identity providers' keys meanwhile; requests go on.
 */
static void wait_for_stop(struct app *app, const sigset_t *set)
{
	for (;;) {
		int sig = 0;

		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("%s received: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			return;
		}
		if (sig == SIGHUP) {
			log_info("SIGHUP received: reloading key files and refetching key URLs");
			issuers_reload(app->issuers);
			log_info("SIGHUP: reload done");
		}
	}
}

static int serve(int argc, char **argv)
{
	static struct app app; /* large (config paths); static keeps it off the stack */
	struct cli_common common = {0};
	struct http_server *http = NULL;
	char host[256], err[512];
	unsigned port;
	sigset_t stop_signals;
	int rc = EXIT_FAILED;

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
	/* Block before any thread starts so that every thread inherits the mask. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* libcurl's global state: once, before any thread */
	if (fetch_global_init() != 0) {
		log_error("libcurl cannot initialise");
		return EXIT_FAILED;
	}

	if (!config_in_memory(&app.cfg) && cli_make_data_dir(app.cfg.data_dir) != 0)
		goto out;
	if (load_token_key(&app) != 0 || prepare_store(&app, common.seed) != 0)
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
	if (http_bind(host, port, &http, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	if (open_dev_idp(&app, host, http_port(http)) != 0 || load_idp(&app) != 0)
		goto out;
	if (http_run(http, &app, err, sizeof(err)) != 0) {
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
	log_info(strchr(host, ':') ? "listening on http://[%s]:%u" : "listening on http://%s:%u",
	         host, http_port(http));

	wait_for_stop(&app, &stop_signals);
	atomic_store(&app.ready, false);
	/* Nothing may wait on an identity provider while the requests drain. */
	issuers_cancel(app.issuers);
	rc = EXIT_OK;
out:
	http_stop(http, app.cfg.request_timeout * 1000);
	issuers_free(app.issuers);
	store_pool_free(app.stores);
	throttle_free(app.throttle);
	store_close(app.anchor);
	dev_idp_free(app.dev_idp);
	seed_text_free(app.seed_text, app.seed_len);
	sodium_memzero(&app.token_key, sizeof(app.token_key));
	fetch_global_cleanup();
	log_info("stopped");
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
	fprintf(stderr, "mgmtd: unknown command %s\n", cmd);
	cli_usage(stderr);
	return EXIT_USAGE;
}
