/*
 * profile.c - config.toml profiles, MGMTCTL_* variables and global flags.
 */
#define _GNU_SOURCE /* asprintf */
#include "profile.h"
#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "toml.h"
#include "util.h"

/* ---- what a profile may hold ---- */

struct key_rule {
	const char *key;
	enum toml_type type;
	const struct key_rule *table; /* for TOML_TABLE: its keys */
	const char *hint;             /* said when the key has the wrong type */
};

static const struct key_rule tls_keys[] = {
    {"insecure", TOML_BOOLEAN, NULL, "true or false"},
    {"disable", TOML_BOOLEAN, NULL, "true or false"},
    {"cert", TOML_STRING, NULL, "a file name"},
    {"key", TOML_STRING, NULL, "a file name"},
    {"ca", TOML_STRING, NULL, "a file name"},
    {NULL, 0, NULL, NULL},
};

static const struct key_rule oauth2_keys[] = {
    {"client_id", TOML_STRING, NULL, "a string"},
    {"scopes", TOML_ARRAY, NULL, "an array of strings such as [\"openid\", \"email\"]"},
    {"parameters", TOML_TABLE, NULL, "an inline table of strings such as { audience = \"mgmtd\" }"},
    {"token_url", TOML_STRING, NULL, "a URL"},
    {"device_url", TOML_STRING, NULL, "a URL"},
    {NULL, 0, NULL, NULL},
};

static const struct key_rule token_file_keys[] = {
    {"token_file", TOML_STRING, NULL, "a file name"},
    {NULL, 0, NULL, NULL},
};

static const struct key_rule auth_keys[] = {
    {"oauth2", TOML_TABLE, oauth2_keys, "a [profile.auth.oauth2] table"},
    {"token", TOML_TABLE, token_file_keys, "a [profile.auth.token] table"},
    {NULL, 0, NULL, NULL},
};

static const struct key_rule profile_keys[] = {
    {"name", TOML_STRING, NULL, "a string"},
    {"product", TOML_STRING, NULL, "\"dedicated\" or \"clustered\""},
    {"host", TOML_STRING, NULL, "a string"},
    {"port", TOML_STRING, NULL, "a string such as \"443\""},
    {"database", TOML_STRING, NULL, "a string"},
    {"token", TOML_STRING, NULL, "a string"},
    {"account_id", TOML_STRING, NULL, "a string"},
    {"cluster_id", TOML_STRING, NULL, "a string"},
    {"mgmt_token", TOML_STRING, NULL, "a string"},
    {"url", TOML_STRING, NULL, "a URL such as \"http://127.0.0.1:8080\""},
    {"tls", TOML_TABLE, tls_keys, "a [profile.tls] table"},
    {"auth", TOML_TABLE, auth_keys, "a [profile.auth.oauth2] table"},
    {NULL, 0, NULL, NULL},
};

/* Keys influxctl once had, with what to say about them. */
static const char *retired_hint(const char *key)
{
	if (strcmp(key, "client_secret") == 0)
		return " (influxctl removed it in 2.9.8: device authorization needs no secret)";
	return "";
}

static int line_error(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int line_error(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		set_err(err, errlen, "%s:%d: %s", path, line, msg);
	else
		set_err(err, errlen, "%s: %s", path, msg);
	return -1;
}

/* "[[profile]]" + "tls" -> "[profile.tls]"; "[profile.auth]" + "oauth2" -> "[profile.auth.oauth2]"
 */
static void subtable_name(const char *where, const char *key, char *out, size_t size)
{
	const char *b = where;

	while (*b == '[')
		b++;
	snprintf(out, size, "[%.*s.%s]", (int)strcspn(b, "]"), b, key);
}

static int check_keys(const struct toml_value *table, const struct key_rule *rules,
                      const char *where, const char *path, char *err, size_t errlen)
{
	for (size_t i = 0; i < table->entry_count; i++) {
		const struct toml_entry *e = &table->entries[i];
		const struct key_rule *r = rules;
		char inner[128];

		while (r->key && strcmp(r->key, e->key) != 0)
			r++;
		if (!r->key)
			return line_error(err, errlen, path, e->line, "unknown key %s in %s%s",
			                  e->key, where, retired_hint(e->key));
		if (e->value->type != r->type || (r->type == TOML_ARRAY && e->value->of_tables))
			return line_error(
			    err, errlen, path, e->line, "%s must be %s, not %s %s", e->key, r->hint,
			    e->value->type == TOML_INTEGER || e->value->type == TOML_ARRAY ? "an"
			                                                                   : "a",
			    toml_type_name(e->value));
		if (r->type == TOML_ARRAY) {
			for (size_t k = 0; k < e->value->count; k++) {
				if (e->value->items[k]->type != TOML_STRING)
					return line_error(err, errlen, path, e->line,
					                  "%s must be %s", e->key, r->hint);
			}
		}
		if (r->type == TOML_TABLE && r->table) {
			subtable_name(where, e->key, inner, sizeof(inner));
			if (check_keys(e->value, r->table, inner, path, err, errlen) != 0)
				return -1;
		}
		if (r->type == TOML_TABLE && !r->table) {
			/* parameters: strings only */
			for (size_t k = 0; k < e->value->entry_count; k++) {
				if (e->value->entries[k].value->type != TOML_STRING)
					return line_error(err, errlen, path,
					                  e->value->entries[k].line,
					                  "%s must be %s", e->key, r->hint);
			}
		}
	}
	return 0;
}

/* ---- reading the chosen profile ---- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static const char *string_at(const struct toml_value *t, const char *key)
{
	const struct toml_value *v = toml_get(t, key);

	return v && v->type == TOML_STRING ? v->string : NULL;
}

static bool bool_at(const struct toml_value *t, const char *key)
{
	const struct toml_value *v = toml_get(t, key);

	return v && v->type == TOML_BOOLEAN && v->boolean;
}

static int copy_profile(const struct toml_value *p, struct ctl_settings *s)
{
	const struct toml_value *tls = toml_get(p, "tls"), *auth = toml_get(p, "auth");
	const struct toml_value *oauth2 = auth ? toml_get(auth, "oauth2") : NULL;
	const struct toml_value *tfile = auth ? toml_get(auth, "token") : NULL;
	const struct toml_value *scopes, *params;

	s->profile_line = p->line;
	if ((string_at(p, "url") && !(s->url = strdup(string_at(p, "url")))) ||
	    (string_at(p, "account_id") && !(s->account_id = strdup(string_at(p, "account_id")))) ||
	    (string_at(p, "cluster_id") && !(s->cluster_id = strdup(string_at(p, "cluster_id")))) ||
	    (string_at(p, "mgmt_token") && !(s->mgmt_token = strdup(string_at(p, "mgmt_token")))))
		return -1;
	if (s->url)
		s->url_from = "profile";
	if (s->account_id)
		s->account_from = "profile";
	if (s->cluster_id)
		s->cluster_from = "profile";
	if (s->mgmt_token)
		s->mgmt_token_from = "profile";
	s->product = dup_or_null(string_at(p, "product"));
	s->host = dup_or_null(string_at(p, "host"));
	s->port = dup_or_null(string_at(p, "port"));
	s->database = dup_or_null(string_at(p, "database"));
	s->token = dup_or_null(string_at(p, "token"));
	if (tls) {
		s->tls.insecure = bool_at(tls, "insecure");
		s->tls.disable = bool_at(tls, "disable");
		s->tls.cert = dup_or_null(string_at(tls, "cert"));
		s->tls.key = dup_or_null(string_at(tls, "key"));
		s->tls.ca = dup_or_null(string_at(tls, "ca"));
	}
	if (tfile)
		s->token_file = dup_or_null(string_at(tfile, "token_file"));
	if (!oauth2)
		return 0;
	s->oauth2.client_id = dup_or_null(string_at(oauth2, "client_id"));
	s->oauth2.token_url = dup_or_null(string_at(oauth2, "token_url"));
	s->oauth2.device_url = dup_or_null(string_at(oauth2, "device_url"));
	scopes = toml_get(oauth2, "scopes");
	if (scopes && scopes->count) {
		s->oauth2.scopes = calloc(scopes->count, sizeof(char *));
		if (!s->oauth2.scopes)
			return -1;
		for (size_t i = 0; i < scopes->count; i++) {
			/* influxctl's sample writes scopes = [""]: an empty scope is no scope */
			if (scopes->items[i]->string[0] == '\0')
				continue;
			s->oauth2.scopes[s->oauth2.scope_count] = strdup(scopes->items[i]->string);
			if (!s->oauth2.scopes[s->oauth2.scope_count++])
				return -1;
		}
	}
	params = toml_get(oauth2, "parameters");
	if (params && params->entry_count) {
		s->oauth2.params = calloc(params->entry_count, sizeof(*s->oauth2.params));
		if (!s->oauth2.params)
			return -1;
		for (size_t i = 0; i < params->entry_count; i++) {
			const struct toml_entry *e = &params->entries[i];

			/* { audience = "" } in the sample: an empty parameter is not sent */
			if (e->value->string[0] == '\0')
				continue;
			s->oauth2.params[s->oauth2.param_count].key = strdup(e->key);
			s->oauth2.params[s->oauth2.param_count].value = strdup(e->value->string);
			if (!s->oauth2.params[s->oauth2.param_count].key ||
			    !s->oauth2.params[s->oauth2.param_count++].value)
				return -1;
		}
	}
	return 0;
}

/* Checks the whole file and copies the profile named s->profile_name. */
static int read_profiles(const char *text, size_t len, struct ctl_settings *s, char *err,
                         size_t errlen)
{
	const struct toml_value *profiles, *chosen = NULL;
	struct toml_value *root;
	char names[256] = "";
	int line = 0, rc = -1;
	char why[256];

	root = toml_parse(text, len, &line, why, sizeof(why));
	if (!root)
		return line_error(err, errlen, s->config_path, line, "%s", why);
	for (size_t i = 0; i < root->entry_count; i++) {
		if (strcmp(root->entries[i].key, "profile") != 0) {
			line_error(err, errlen, s->config_path, root->entries[i].line,
			           "unknown key %s: the file holds [[profile]] tables only",
			           root->entries[i].key);
			goto out;
		}
	}
	profiles = toml_get(root, "profile");
	if (profiles && !(profiles->type == TOML_ARRAY && profiles->of_tables)) {
		line_error(err, errlen, s->config_path, profiles->line,
		           "profile must be written [[profile]] (an array of tables)");
		goto out;
	}
	for (size_t i = 0; profiles && i < profiles->count; i++) {
		const struct toml_value *p = profiles->items[i];
		const char *name = string_at(p, "name"), *product;

		if (check_keys(p, profile_keys, "[[profile]]", s->config_path, err, errlen) != 0)
			goto out;
		product = string_at(p, "product");
		if (product && strcmp(product, "dedicated") != 0 &&
		    strcmp(product, "clustered") != 0) {
			line_error(err, errlen, s->config_path, toml_get(p, "product")->line,
			           "product must be \"dedicated\" or \"clustered\", not \"%s\"",
			           product);
			goto out;
		}
		if (!name)
			continue;
		for (size_t k = 0; k < i; k++) {
			const char *other = string_at(profiles->items[k], "name");

			if (other && strcmp(other, name) == 0) {
				line_error(
				    err, errlen, s->config_path, toml_get(p, "name")->line,
				    "a second profile named \"%s\" (the first is at line %d)", name,
				    profiles->items[k]->line);
				goto out;
			}
		}
		if (strlen(names) + strlen(name) + 4 < sizeof(names))
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			         names[0] ? ", " : "", name);
		if (strcmp(name, s->profile_name) == 0)
			chosen = p;
	}
	if (!chosen) {
		line_error(err, errlen, s->config_path, 0,
		           "no profile named \"%s\" (%s%s); choose one with --profile, "
		           "MGMTCTL_PROFILE or INFLUXCTL_PROFILE",
		           s->profile_name, names[0] ? "profiles: " : "the file has no profiles",
		           names);
		goto out;
	}
	if (copy_profile(chosen, s) != 0) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	toml_free(root);
	return rc;
}

/* ---- layers ---- */

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

/* Replaces *slot with value when value is set; *from records the layer. */
static int override(char **slot, const char **from, const char *value, const char *layer)
{
	char *copy;

	if (!value)
		return 0;
	copy = strdup(value);
	if (!copy)
		return -1;
	if (*slot) {
		sodium_memzero(*slot, strlen(*slot));
		free(*slot);
	}
	*slot = copy;
	*from = layer;
	return 0;
}

char *profile_xdg_dir(const char *xdg_variable, const char *under_home)
{
	const char *base = env(xdg_variable), *home = env("HOME");
	char *dir = NULL;

	if (!home) {
		struct passwd *pw = getpwuid(getuid());

		home = pw ? pw->pw_dir : "/";
	}
	if (base && base[0] == '/') {
		if (asprintf(&dir, "%s/mgmtctl", base) < 0)
			dir = NULL;
	} else if (asprintf(&dir, "%s/%s/mgmtctl", home, under_home) < 0) {
		dir = NULL;
	}
	return dir;
}

char *profile_default_path(void)
{
	char *dir = profile_xdg_dir("XDG_CONFIG_HOME", ".config"), *path = NULL;

	if (dir && asprintf(&path, "%s/config.toml", dir) < 0)
		path = NULL;
	free(dir);
	return path;
}

/*
 * influxctl's INFLUXCTL_PROFILE, which its release notes call a profile name (2.10.1) and
 * the profile file's path (2.10.2): a value with a '/' or ending in ".toml" is a path,
 * anything else a name, so that either reading works (docs/mgmtctl.md). mgmtctl's own
 * variables and the flags come first.
 */
static const char *influxctl_profile(bool want_path)
{
	const char *v = env("INFLUXCTL_PROFILE");
	size_t len = v ? strlen(v) : 0;
	bool is_path = v && (strchr(v, '/') || (len > 5 && strcmp(v + len - 5, ".toml") == 0));

	return v && is_path == want_path ? v : NULL;
}

static const char *asked_profile_name(const struct profile_flags *flags)
{
	if (flags->profile)
		return flags->profile;
	if (env("MGMTCTL_PROFILE"))
		return env("MGMTCTL_PROFILE");
	return influxctl_profile(false);
}

static const char *asked_config_path(const struct profile_flags *flags)
{
	if (flags->config)
		return flags->config;
	if (env("MGMTCTL_CONFIG"))
		return env("MGMTCTL_CONFIG");
	return influxctl_profile(true);
}

/* The name and path layers, before the file is read. */
static int begin(const struct profile_flags *flags, struct ctl_settings *s, char *err,
                 size_t errlen)
{
	const char *name = asked_profile_name(flags);
	const char *path = asked_config_path(flags);

	memset(s, 0, sizeof(*s));
	s->profile_name = strdup(name ? name : PROFILE_DEFAULT_NAME);
	s->config_path = path ? strdup(path) : profile_default_path();
	if (!s->profile_name || !s->config_path) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* The environment and the flags over what the file set. */
static int finish(const struct profile_flags *flags, struct ctl_settings *s, char *err,
                  size_t errlen)
{
	if (override(&s->url, &s->url_from, env("MGMTCTL_URL"), "MGMTCTL_URL") != 0 ||
	    override(&s->mgmt_token, &s->mgmt_token_from, env("MGMTCTL_TOKEN"), "MGMTCTL_TOKEN") !=
	        0 ||
	    override(&s->account_id, &s->account_from, env("MGMTCTL_ACCOUNT"), "MGMTCTL_ACCOUNT") !=
	        0 ||
	    override(&s->cluster_id, &s->cluster_from, env("MGMTCTL_CLUSTER"), "MGMTCTL_CLUSTER") !=
	        0 ||
	    override(&s->account_id, &s->account_from, flags->account, "--account") != 0 ||
	    override(&s->cluster_id, &s->cluster_from, flags->cluster, "--cluster") != 0 ||
	    (!s->url && override(&s->url, &s->url_from, PROFILE_DEFAULT_URL, "default") != 0)) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	if (strncmp(s->url, "http://", 7) != 0 && strncmp(s->url, "https://", 8) != 0) {
		set_err(err, errlen,
		        "mgmtd's URL \"%s\" (from %s) must start with http:// or https://", s->url,
		        strcmp(s->url_from, "profile") == 0 ? s->config_path : s->url_from);
		return -1;
	}
	return 0;
}

int profile_load_text(const char *text, size_t len, const char *config_path,
                      const struct profile_flags *flags, struct ctl_settings *out, char *err,
                      size_t errlen)
{
	struct profile_flags f = *flags;

	f.config = config_path;
	if (begin(&f, out, err, errlen) != 0)
		return -1;
	out->config_found = true;
	if (read_profiles(text, len, out, err, errlen) != 0)
		return -1;
	return finish(flags, out, err, errlen);
}

/*
 * Reads the whole file; *absent when it does not exist; *mode its
 * permission bits. A FIFO or device is refused without being waited on
 * (safefile.h).
 */
static char *read_file(const char *path, size_t *len, bool *absent, unsigned *mode, char *err,
                       size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	int fd;

	*absent = false;
	fd = safefile_open(path, 0, &st);
	if (fd == -2) {
		set_err(err, errlen, "%s: not a regular file", path);
		return NULL;
	}
	if (fd < 0) {
		if (errno == ENOENT)
			*absent = true;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	*mode = (unsigned)(st.st_mode & 07777);
	if (st.st_size > TOML_MAX_INPUT) {
		set_err(err, errlen, "%s: larger than %d bytes: not a profile file", path,
		        TOML_MAX_INPUT);
		goto fail;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			set_err(err, errlen, "%s: %s", path,
			        n < 0 ? strerror(errno) : "short read");
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	text[got] = '\0';
	*len = got;
	return text;
fail:
	free(text);
	close(fd);
	return NULL;
}

int profile_load(const struct profile_flags *flags, struct ctl_settings *out, char *err,
                 size_t errlen)
{
	bool explicit = asked_config_path(flags) != NULL;
	bool absent;
	unsigned mode = 0;
	size_t len = 0;
	char *text;
	int rc;

	if (begin(flags, out, err, errlen) != 0)
		return -1;
	text = read_file(out->config_path, &len, &absent, &mode, err, errlen);
	if (!text) {
		if (!absent || explicit)
			return -1;
		/* no file at the default place: nothing set, unless a profile was asked for */
		if (asked_profile_name(flags)) {
			set_err(err, errlen, "no profile named \"%s\": %s does not exist",
			        out->profile_name, out->config_path);
			return -1;
		}
		return finish(flags, out, err, errlen);
	}
	out->config_found = true;
	out->config_mode = mode;
	rc = read_profiles(text, len, out, err, errlen);
	sodium_memzero(text, len);
	free(text);
	if (rc != 0)
		return -1;
	return finish(flags, out, err, errlen);
}

static void wipe(char **s)
{
	if (*s) {
		sodium_memzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void profile_release(struct ctl_settings *s)
{
	free(s->config_path);
	free(s->profile_name);
	free(s->url);
	free(s->account_id);
	free(s->cluster_id);
	wipe(&s->mgmt_token);
	free(s->product);
	free(s->host);
	free(s->port);
	free(s->database);
	wipe(&s->token);
	free(s->tls.cert);
	free(s->tls.key);
	free(s->tls.ca);
	free(s->oauth2.client_id);
	for (size_t i = 0; i < s->oauth2.scope_count; i++)
		free(s->oauth2.scopes[i]);
	free(s->oauth2.scopes);
	for (size_t i = 0; i < s->oauth2.param_count; i++) {
		free(s->oauth2.params[i].key);
		free(s->oauth2.params[i].value);
	}
	free(s->oauth2.params);
	free(s->oauth2.token_url);
	free(s->oauth2.device_url);
	free(s->token_file);
	memset(s, 0, sizeof(*s));
}
