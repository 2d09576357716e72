/*
 * profile.h - mgmtctl's settings: influxctl's config.toml connection
 * profiles, the MGMTCTL_* environment and the global flags, in that order
 * of increasing precedence.
 *
 * The file is ~/.config/mgmtctl/config.toml ($XDG_CONFIG_HOME honoured),
 * or MGMTCTL_CONFIG, or --config. It holds [[profile]] tables with
 * influxctl's keys (name, product, host, port, database, token, account_id,
 * cluster_id, mgmt_token, [profile.tls], [profile.auth.oauth2],
 * [profile.auth.token]) and one of mgmtctl's own, url (mgmtd's base URL).
 * Like influxctl, every key of every profile is checked: an unknown key or a
 * value of the wrong type is an error naming the file and the line. The
 * profile used is --profile, else MGMTCTL_PROFILE, else "default"; a file
 * that does not exist at the default place is no error (nothing is set),
 * one named by --config or MGMTCTL_CONFIG must exist.
 */
#ifndef MGMTCTL_PROFILE_H
#define MGMTCTL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* mgmtd's address when nothing sets one: where `make run` serves. */
#define PROFILE_DEFAULT_URL  "http://127.0.0.1:8080"
#define PROFILE_DEFAULT_NAME "default"

struct profile_param {
	char *key, *value;
};

/* Every string is malloc'ed or NULL (not set); *_from says which layer set it. */
struct ctl_settings {
	char *config_path; /* the file read, or the default path that does not exist */
	bool config_found;
	unsigned config_mode; /* the permission bits of the file read (a mgmt_token in it) */
	char *profile_name;
	int profile_line; /* of its [[profile]] header; 0 when no profile was read */

	char *url;
	const char *url_from; /* "MGMTCTL_URL", "profile", "default" */
	char *account_id;
	const char *account_from; /* "--account", "MGMTCTL_ACCOUNT", "profile" */
	char *cluster_id;
	const char *cluster_from;
	char *mgmt_token; /* a secret */
	const char *mgmt_token_from;

	/* influxctl's data-plane keys: read and shown, unused by mgmtctl */
	char *product, *host, *port, *database, *token;

	struct {
		bool insecure, disable;
		char *cert, *key, *ca;
	} tls;
	struct {
		char *client_id;
		char **scopes;
		size_t scope_count;
		struct profile_param *params;
		size_t param_count;
		char *token_url, *device_url;
	} oauth2;
	char *token_file; /* [profile.auth.token]: a file holding the credential */
};

/* The global flags that override the file and the environment; NULL = not given. */
struct profile_flags {
	const char *config;
	const char *profile;
	const char *account;
	const char *cluster;
};

/*
 * Fills out from the file, the environment and the flags. Returns 0, or -1
 * with a sentence in err ("FILE:LINE: ..." when it is about a line).
 * Release out with profile_release in both cases.
 */
int profile_load(const struct profile_flags *flags, struct ctl_settings *out, char *err,
                 size_t errlen);

/*
 * The same from a file's text already read (config_path names it in
 * messages); the environment and flags are applied as by profile_load. For
 * tests and the fuzzer.
 */
int profile_load_text(const char *text, size_t len, const char *config_path,
                      const struct profile_flags *flags, struct ctl_settings *out, char *err,
                      size_t errlen);

/* Wipes the secrets and frees. */
void profile_release(struct ctl_settings *s);

/* The default file: $XDG_CONFIG_HOME/mgmtctl/config.toml or ~/.config/mgmtctl/config.toml;
 * malloc'ed. */
char *profile_default_path(void);

/*
 * mgmtctl's directory of an XDG kind: $<xdg_variable>/mgmtctl when that is an
 * absolute path, else ~/<under_home>/mgmtctl (HOME, or the password entry's
 * home). malloc'ed; NULL when out of memory. cache.c uses it too.
 */
char *profile_xdg_dir(const char *xdg_variable, const char *under_home);

#endif
