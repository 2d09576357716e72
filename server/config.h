/*
 * config.h - the configuration: defaults, INI file (libinih), environment, flags.
 *
 * One descriptor table in config.c drives parsing, validation and the
 * environment names (MGMTD_<SECTION>_<KEY>), so they cannot drift apart.
 * Precedence: flags beat environment, environment beats the file.
 *
 * Error reporting: functions that can fail append one line per problem to
 * a struct config_errors and return the number of problems they added.
 */
#ifndef MGMTD_CONFIG_H
#define MGMTD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CONFIG_STR_SIZE 1024

/* [idp NAME] sections beside the plain [idp]; NAME is 1-32 of a-z 0-9 _ -, not dev_idp */
#define CONFIG_MAX_IDPS      16
#define CONFIG_IDP_NAME_SIZE 33

/* Room in the descriptor table (config.c checks it at compile time). */
#define CONFIG_MAX_OPTIONS 256
/* Room for the keys of an identity provider section (config.c checks it too). */
#define CONFIG_IDP_KEYS 16

/* data_dir value that keeps everything in memory: no file is ever written. */
#define CONFIG_MEMORY_DIR ":memory:"

/* One identity provider: the plain [idp] section or an [idp NAME] section. */
struct idp_config {
	char name[CONFIG_IDP_NAME_SIZE]; /* "" for [idp] */
	char issuer[CONFIG_STR_SIZE];
	char audience[CONFIG_STR_SIZE];
	char jwks_file[PATH_MAX];
	char jwks_url[CONFIG_STR_SIZE];
	bool discovery;
	char algorithms[CONFIG_STR_SIZE]; /* comma-separated allow-list */
	int leeway;                       /* seconds */
	bool trust_email; /* its emails count as verified unless a token says otherwise */
	/*
	 * Where each key of the section was set, by its place among the [idp]
	 * rows of the table, as struct config's origin and origin_line below:
	 * messages about an identity provider name the lines they come from.
	 */
	const char *origin[CONFIG_IDP_KEYS];
	int origin_line[CONFIG_IDP_KEYS];
};

struct config {
	/* [server] */
	char listen[CONFIG_STR_SIZE];
	char data_dir[PATH_MAX];
	/* "" = no seed; serve's --seed sets it too */
	char seed_file[PATH_MAX];
	int threads; /* 0 = number of CPUs */
	int max_connections;
	int max_connections_per_address; /* 0 = no per-address limit */
	int request_timeout;             /* seconds */
	bool access_log;                 /* one INFO line per request */
	char tls_cert[PATH_MAX];
	char tls_key[PATH_MAX];
	char trusted_proxies[CONFIG_STR_SIZE]; /* proxies.h list; "" = none */
	/* [store] */
	char store_backend[CONFIG_STR_SIZE]; /* sqlite | postgres */
	char postgres_url[CONFIG_STR_SIZE];  /* "" = libpq's PG* variables and service file */
	int postgres_pool;                   /* connections per replica; 0 = one per thread */
	int postgres_timeout;                /* seconds a statement or commit may wait */
	char token_key_file[PATH_MAX];       /* empty = <data_dir>/token.key */
	int keep_expired_days;               /* 0 = keep expired and revoked tokens forever */
	int keep_audit_days;                 /* 0 = keep the audit trail forever */
	/* [idp] */
	struct idp_config idp;
	/* [idp NAME], in the order they first appear */
	struct idp_config idps[CONFIG_MAX_IDPS];
	int idp_count;
	/* [auth] */
	bool tokens_may_mint;
	int failed_auth_burst;      /* 0 = no throttling */
	int failed_auth_per_minute; /* credits back a minute */
	int failed_auth_addresses;  /* slots of the per-address table */
	int invite_days;            /* how long an invite stays pending */
	/* [tokens] */
	int expiry_warning_days; /* expiry.h: the warning window; 0 = no warnings */
	/* [dev_idp] */
	bool dev_idp_enabled;
	char dev_idp_issuer[CONFIG_STR_SIZE]; /* "" = http://LISTEN-HOST:PORT */
	char dev_idp_audience[CONFIG_STR_SIZE];
	/* [testing] */
	bool testing_enabled;
	int testing_seed; /* 0: ids and secrets random */
	int testing_journal_entries;
	int testing_token_activation_seconds; /* delays.h; 0 = off */
	int testing_database_name_hold_seconds;
	int testing_purge_after_days;
	/* [ui] */
	bool ui_enabled;
	char ui_client_id[CONFIG_STR_SIZE];
	char ui_scopes[CONFIG_STR_SIZE];
	char ui_audience[CONFIG_STR_SIZE];
	/* [log] */
	char log_format[16]; /* text | json */
	char log_level[16];  /* debug | info | warn | error, any case */
	/* [metrics] */
	bool metrics_enabled;
	char metrics_listen[CONFIG_STR_SIZE]; /* "" = the main listener */

	/* [webhook] */
	char webhook_url[CONFIG_STR_SIZE]; /* "" = no events */
	char webhook_secret_file[PATH_MAX];
	int webhook_timeout; /* seconds */
	/* Which options a file, the environment or a flag set (by descriptor index), not defaults.
	 */
	unsigned char given[CONFIG_MAX_OPTIONS / 8];
	/*
	 * Where each given option came from, for messages about two keys: the
	 * file's path (the caller's string, which outlives the config) with
	 * origin_line > 0, "environment" with -1, or a flag's name with 0.
	 */
	const char *origin[CONFIG_MAX_OPTIONS];
	int origin_line[CONFIG_MAX_OPTIONS];
};

struct config_errors {
	char text[8192]; /* lines, each ending in '\n' */
	int count;
};

/* Fills every field with its documented default. */
void config_defaults(struct config *cfg);

/*
 * Reads an INI file over cfg. Unknown sections and keys, bad values and syntax
 * errors are reported as "FILE:LINE: message". A missing file is an error.
 * "[idp NAME]" opens (or reopens) a named identity provider section, which
 * takes the keys of [idp] and starts from their defaults.
 */
int config_load_file(struct config *cfg, const char *path, struct config_errors *errs);

/*
 * Applies MGMTD_<SECTION>_<KEY> variables from the environment over cfg; for
 * the [idp NAME] sections cfg already has, MGMTD_IDP_<NAME>_<KEY> (NAME
 * upper-cased, '-' as '_'). Environment variables cannot create a section.
 */
int config_apply_env(struct config *cfg, struct config_errors *errs);

/*
 * Sets one option by section and key, as a flag would ("server", "listen").
 * origin names the source in messages ("--listen").
 */
int config_set(struct config *cfg, const char *section, const char *key, const char *value,
               const char *origin, struct config_errors *errs);

/* True when [server] tls_cert and tls_key are set: HTTPS only. */
bool config_tls(const struct config *cfg);

/*
 * Checks what no single key can: planned features that are not built yet,
 * IdP settings that only make sense together (an issuer and exactly one key
 * source; no issuer trusted by two sections). Call after every source is applied.
 */
int config_validate(const struct config *cfg, struct config_errors *errs);

/*
 * Checks the files the configuration names and serve opens at start (the
 * seed, the TLS certificate and key, every jwks_file): each must be a
 * readable regular file; and the data directory, which serve creates: it,
 * or the nearest parent that is there, must be a directory; [store]
 * token_key_file, when set: a readable file, or a name in a directory that
 * is there (or is data_dir). Serve and check-config both call it
 * (through cli_load_config), so neither passes what the other refuses.
 */
int config_check_files(const struct config *cfg, struct config_errors *errs);

/*
 * The identity provider sections that are in use, plain [idp] first (when
 * it names an issuer), then the [idp NAME] sections. Returns how many were
 * written to out (at most max).
 */
size_t config_idps(const struct config *cfg, const struct idp_config *out[], size_t max);

/* "[idp]" or "[idp NAME]", for messages. */
void config_idp_label(const struct idp_config *idp, char *out, size_t outsize);

/* True when data_dir is ":memory:": no data directory, no files. */
bool config_in_memory(const struct config *cfg);

/* Resolved paths under data_dir; "" when the data lives in memory. */
void config_db_path(const struct config *cfg, char out[PATH_MAX]);
void config_token_key_path(const struct config *cfg, char out[PATH_MAX]);
void config_dev_idp_key_path(const struct config *cfg, char out[PATH_MAX]);

/*
 * True for a URL mgmtd may fetch keys from: https://, or http:// to a
 * loopback host (127.0.0.1, [::1], localhost), where nobody can tamper
 * with the answer on the way.
 */
bool config_url_allowed(const char *url);

/*
 * Splits "HOST:PORT", "[V6]:PORT" into host (without brackets) and port.
 * Returns 0, or -1 when the form or the port (0..65535) is bad.
 */
int config_split_listen(const char *listen, char *host, size_t hostsize, unsigned *port);

/*
 * The dev IdP's issuer: [dev_idp] issuer, or else this server's own URL,
 * "http://HOST:PORT" (IPv6 hosts bracketed) from [server] listen, with port
 * the bound port when listen says 0 (https:// when TLS is on). Returns 0, or -1 when the port is
 * unknown (listen port 0 and bound_port 0) or the result does not fit.
 */
int config_dev_idp_issuer(const struct config *cfg, unsigned bound_port, char *out, size_t outsize);

/*
 * "FILE:LINE, FILE:LINE: " (or "environment NAME", a flag) of [section1] key1
 * and [section2] key2 (both may be NULL), for messages about them made
 * outside this module; "" when neither was set. Returns out.
 */
const char *config_where2(const struct config *cfg, const char *section1, const char *key1,
                          const char *section2, const char *key2, char *out, size_t size);

/* The same for one key of an identity provider section ([idp] or [idp NAME]). */
const char *config_idp_where(const struct idp_config *idp, const char *key, char *out, size_t size);

/* True when a file, the environment or a flag set [section] key (not its default). */
bool config_given(const struct config *cfg, const char *section, const char *key);

/*
 * The failed-authentication burst in force: [auth] failed_auth_burst, except
 * that with [testing] enabled throttling is off (0) unless some [auth]
 * failed_auth_* option was set: test suites send bad credentials on purpose.
 */
int config_failed_auth_burst(const struct config *cfg);

/* Parses the algorithms allow-list into a bit mask of enum jwt_alg values (1u << alg). */
int config_algorithm_mask(const char *list, unsigned *mask);

/*
 * Writes every option as an example INI file: sections in order, each key
 * with its default and a comment saying what it does and its environment name.
 * Loading the output with config_load_file gives config_defaults.
 */
void config_write_example(FILE *out);

#endif
