/*
 * main.c - mgmtd's entry point. `serve` is here, in the order things start:
 * flags, config, store, identity provider keys, HTTP, signals; shutdown runs
 * in reverse. The offline commands live in cli.c.
 */
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "http.h"
#include "log.h"
#include "seed.h"
#include "store.h"

static const char serve_usage[] =
    "usage: mgmtd serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR] [--seed FILE]\n"
    "  Serves the management API. Flags beat MGMTD_* environment variables,\n"
    "  which beat the file. --listen 127.0.0.1:0 picks a free port; the log\n"
    "  says which (\"listening on http://...\"). SIGTERM or SIGINT stop it\n"
    "  gracefully.\n";

/* The HOST of listen without brackets, and the port. */
static int listen_address(const struct config *cfg, char *host, size_t hostsize, unsigned *port)
{
	if (config_split_listen(cfg->listen, host, hostsize, port) != 0) {
		fprintf(stderr, "mgmtd: bad listen address %s\n", cfg->listen);
		return -1;
	}
	return 0;
}

/* Migrates the store and applies the seed on one connection of the main thread. */
static int prepare_store(struct app *app, const char *seed)
{
	char path[PATH_MAX], err[1024];
	struct store *s = NULL;
	int rc = -1;

	config_db_path(&app->cfg, path);
	if (store_open(path, &s, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	log_info("store %s at schema version %d", path, store_schema_version(s));
	if (seed) {
		if (seed_apply_file(s, &app->token_key, seed, err, sizeof(err)) != 0) {
			log_error("%s", err);
			goto out;
		}
		log_info("seed %s applied", seed);
	}
	if (store_pool_new(path, &app->stores, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	rc = 0;
out:
	store_close(s);
	return rc;
}

static int load_idp(struct app *app)
{
	const struct idp_config *idp = &app->cfg.idp;
	char err[512] = "the algorithms list is not valid";
	unsigned mask = 0;

	if (idp->issuer[0] == '\0') {
		log_warn("no identity provider configured ([idp] issuer): JWTs are refused, "
		         "only management tokens work");
		return 0;
	}
	if (config_algorithm_mask(idp->algorithms, &mask) != 0 ||
	    jwks_load_file(idp->jwks_file, &app->jwks, err, sizeof(err)) != 0) {
		log_error("identity provider keys %s: %s", idp->jwks_file, err);
		return -1;
	}
	if (app->jwks->count == 0)
		log_warn("%s holds no usable signing key: every JWT will be refused",
		         idp->jwks_file);
	app->verifier.keys = app->jwks;
	app->verifier.issuer = idp->issuer;
	app->verifier.audience = idp->audience;
	app->verifier.alg_mask = mask;
	app->verifier.leeway = idp->leeway;
	app->idp_configured = true;
	log_info("identity provider %s: %zu keys from %s", idp->issuer, app->jwks->count,
	         idp->jwks_file);
	return 0;
}

/* Waits for SIGTERM or SIGINT (blocked in every thread, so they come here). */
static void wait_for_stop(const sigset_t *set)
{
	for (;;) {
		int sig = 0;

		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("%s received: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			return;
		}
		if (sig == SIGHUP)
			log_warn("SIGHUP: reloading is not supported yet; restart to reload");
	}
}

static int serve(int argc, char **argv)
{
	static struct app app; /* large (config paths); static keeps it off the stack */
	struct cli_common common = {0};
	struct http_server *http = NULL;
	char host[256];
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

	if (cli_make_data_dir(app.cfg.data_dir) != 0)
		return EXIT_FAILED;
	{
		char key_path[PATH_MAX], err[512];

		config_token_key_path(&app.cfg, key_path);
		if (token_key_load_or_create(key_path, &app.token_key, err, sizeof(err)) != 0) {
			log_error("%s", err);
			return EXIT_FAILED;
		}
	}
	if (prepare_store(&app, common.seed) != 0)
		goto out;
	if (load_idp(&app) != 0)
		goto out;
	if (app.cfg.failed_auth_burst > 0) {
		app.throttle =
		    throttle_new(app.cfg.failed_auth_burst, app.cfg.failed_auth_per_minute,
		                 (size_t)app.cfg.failed_auth_addresses);
		if (app.throttle == NULL) {
			log_error("out of memory for the failed-authentication throttle");
			goto out;
		}
	}
	{
		char err[512];

		if (http_start(&app, host, port, &http, err, sizeof(err)) != 0) {
			log_error("%s", err);
			goto out;
		}
	}
	atomic_store(&app.ready, true);
	log_info(strchr(host, ':') ? "listening on http://[%s]:%u" : "listening on http://%s:%u",
	         host, http_port(http));

	wait_for_stop(&stop_signals);
	atomic_store(&app.ready, false);
	http_stop(http, app.cfg.request_timeout * 1000);
	rc = EXIT_OK;
out:
	store_pool_free(app.stores);
	throttle_free(app.throttle);
	jwks_free(app.jwks);
	sodium_memzero(&app.token_key, sizeof(app.token_key));
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
	fprintf(stderr, "mgmtd: unknown command %s\n", cmd);
	cli_usage(stderr);
	return EXIT_USAGE;
}
