/*
 * config.c - the configuration: one descriptor table drives the defaults, the
 * INI file (libinih), the environment, flags, validation and the example file.
 *
 * Each setter validates before it stores, so a struct config filled only
 * through this file always holds values within their documented bounds; a
 * refused value leaves the field as it was.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <jwt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxies.h"

/*
 * What a value must be. Each type has one check (value_refusal) and one rule
 * line in the example file (option_rule), so what --print-defaults says a key
 * takes is what the file, the environment and the flags are held to.
 */
enum opt_type {
	OPT_STRING,     /* any text that fits; with choices, one of them */
	OPT_PATH,       /* a path that fits (the file may not exist yet) */
	OPT_FILE,       /* empty, or a file that must be there to read (config_check_files) */
	OPT_DIR,        /* the data directory: a path with room for the files under it */
	OPT_INT,        /* min..max */
	OPT_BOOL,       /* true/false, yes/no, on/off, 1/0 */
	OPT_LISTEN,     /* HOST:PORT or [V6]:PORT (or empty where the default is) */
	OPT_ALGORITHMS, /* the JWT algorithm allow-list */
	OPT_PROXIES,    /* addresses and networks (proxies.h) */
	OPT_KEYS_URL,   /* empty, or a URL keys may be fetched from (config_url_allowed) */
	OPT_WEB_URL,    /* empty, or an http:// or https:// URL */
	OPT_UI_TEXT,    /* printable ASCII without quotes, angle brackets or backslashes */
};

/*
 * What an offset is relative to: struct config, or the struct idp_config of
 * the identity provider section being read ([idp] or [idp NAME]), so that the
 * named sections share the [idp] rows of the table instead of copying them.
 */
enum opt_scope { SCOPE_CONFIG, SCOPE_IDP };

struct option {
	const char *section;
	const char *key;
	enum opt_type type;
	enum opt_scope scope;
	size_t offset;       /* of the target field in struct config or struct idp_config */
	size_t size;         /* of the target field */
	int min, max;        /* OPT_INT only */
	const char *choices; /* OPT_STRING: NULL, or the allowed values, "a|b" */
	bool nocase;         /* choices match in any case */
	bool required;       /* OPT_STRING: the empty string is refused */
	const char *def;     /* default, as it would be written in the file */
	const char *doc;
};

#define MEMBER_OF(type, m) (((type *)0)->m)
/*
 * The _Generic has no default branch, so a descriptor whose type does not
 * match its field's C type does not compile (char arrays decay to char *).
 */
#define TARGET_IN(type, sc, m, ctype)                                                              \
	.scope = (sc), .offset = offsetof(type, m),                                                \
	.size = sizeof(MEMBER_OF(type, m)) * _Generic(MEMBER_OF(type, m), ctype : 1)
#define TARGET(m, ctype)     TARGET_IN(struct config, SCOPE_CONFIG, m, ctype)
#define IDP_TARGET(m, ctype) TARGET_IN(struct idp_config, SCOPE_IDP, m, ctype)
#define STRING(m)            .type = OPT_STRING, TARGET(m, char *)
#define PATH(m)              .type = OPT_PATH, TARGET(m, char *)
#define FILE_PATH(m)         .type = OPT_FILE, TARGET(m, char *)
#define DIR_PATH(m)          .type = OPT_DIR, TARGET(m, char *)
#define WEB_URL(m)           .type = OPT_WEB_URL, TARGET(m, char *)
#define UI_TEXT(m)           .type = OPT_UI_TEXT, TARGET(m, char *)
#define INT(m, lo, hi)       .type = OPT_INT, TARGET(m, int), .min = (lo), .max = (hi)
#define BOOL(m)              .type = OPT_BOOL, TARGET(m, bool)
#define LISTEN(m)            .type = OPT_LISTEN, TARGET(m, char *)
#define PROXIES(m)           .type = OPT_PROXIES, TARGET(m, char *)
#define IDP_STRING(m)        .type = OPT_STRING, IDP_TARGET(m, char *)
#define IDP_FILE(m)          .type = OPT_FILE, IDP_TARGET(m, char *)
#define IDP_KEYS_URL(m)      .type = OPT_KEYS_URL, IDP_TARGET(m, char *)
#define IDP_INT(m, lo, hi)   .type = OPT_INT, IDP_TARGET(m, int), .min = (lo), .max = (hi)
#define IDP_BOOL(m)          .type = OPT_BOOL, IDP_TARGET(m, bool)
#define IDP_ALGS(m)          .type = OPT_ALGORITHMS, IDP_TARGET(m, char *)

static const struct option options[] = {
    {"server", "listen", LISTEN(listen), .def = "127.0.0.1:8080",
     .doc = "HOST:PORT or [V6]:PORT; port 0 picks any free port"},
    {"server", "data_dir", DIR_PATH(data_dir), .def = "var",
     .doc = "the database (mgmtd.db), token.key and dev-idp.key live here; "
            ":memory: keeps everything in memory, writing no file"},
    {"server", "seed_file", FILE_PATH(seed_file), .def = "",
     .doc = "a JSON seed applied at every start, as --seed FILE (which beats it); empty = "
            "none"},
    {"server", "threads", INT(threads, 0, 1024), .def = "0",
     .doc = "worker threads; 0 = number of CPUs"},
    {"server", "max_connections", INT(max_connections, 1, 1000000), .def = "1024",
     .doc = "connections served at once"},
    {"server", "max_connections_per_address", INT(max_connections_per_address, 0, 1000000),
     .def = "256",
     .doc = "connections one client address may hold at once (idle ones count); 0 = no "
            "limit"},
    {"server", "request_timeout", INT(request_timeout, 1, 3600), .def = "30",
     .doc = "seconds a connection may stay idle"},
    {"server", "access_log", BOOL(access_log), .def = "true",
     .doc = "one log line per request (method, path, status, time, who); false saves a "
            "write per request"},
    {"server", "tls_cert", FILE_PATH(tls_cert), .def = "",
     .doc = "PEM certificate chain (leaf first); with tls_key, HTTPS only (TLS 1.2 and "
            "1.3); SIGHUP rereads both"},
    {"server", "tls_key", FILE_PATH(tls_key), .def = "",
     .doc = "PEM private key of tls_cert (unencrypted; keep it 0600)"},
    {"server", "trusted_proxies", PROXIES(trusted_proxies), .def = "",
     .doc = "addresses and networks (127.0.0.1, 10.0.0.0/8, ::1) of proxies whose "
            "X-Forwarded-For names the client for throttling and logs; empty = trust none"},

    {"store", "backend", STRING(store_backend), .choices = "sqlite|postgres", .def = "sqlite",
     .doc = "sqlite (one file in data_dir) or postgres (replicas may share one database)"},
    {"store", "postgres_url", STRING(postgres_url), .def = "",
     .doc = "backend = postgres: libpq URL or key=value, postgresql://user@host:port/db; "
            "empty = libpq's PG* variables and service file"},
    {"store", "postgres_pool", INT(postgres_pool, 0, 1024), .def = "0",
     .doc = "backend = postgres: connections per replica; 0 = one per worker thread"},
    {"store", "postgres_timeout", INT(postgres_timeout, 1, 3600), .def = "5",
     .doc = "backend = postgres: seconds one statement or commit may wait for the database; "
            "then the request answers 503 and the connection is dropped"},
    {"store", "token_key_file", PATH(token_key_file), .def = "",
     .doc = "default <data_dir>/token.key; replicas share one key"},
    {"store", "keep_expired_days", INT(keep_expired_days, 0, 36500), .def = "0",
     .doc = "delete management and database tokens this many days after they expired or "
            "were revoked; 0 = keep them forever"},
    {"store", "keep_audit_days", INT(keep_audit_days, 0, 36500), .def = "0",
     .doc = "delete audit events older than this many days; 0 = keep the audit trail "
            "forever"},

    {"idp", "issuer", IDP_STRING(issuer), .def = "",
     .doc = "expected \"iss\" of identity tokens; empty = no identity provider"},
    {"idp", "audience", IDP_STRING(audience), .def = "mgmtd",
     .doc = "expected \"aud\" (the string, or one of an array)"},
    {"idp", "jwks_file", IDP_FILE(jwks_file), .def = "",
     .doc = "keys, one of three: the identity provider's JWKS on disk (reread on SIGHUP)"},
    {"idp", "jwks_url", IDP_KEYS_URL(jwks_url), .def = "",
     .doc = "keys, one of three: JWKS fetched over HTTPS, cached, refetched on an unknown kid"},
    {"idp", "discovery", IDP_BOOL(discovery), .def = "false",
     .doc = "keys, one of three: true finds jwks_uri in "
            "issuer/.well-known/openid-configuration"},
    {"idp", "algorithms", IDP_ALGS(algorithms), .def = "RS256,ES256",
     .doc = "allow-list from RS256 RS384 RS512 ES256 ES384; never none or HS*"},
    {"idp", "leeway", IDP_INT(leeway, 0, 3600), .def = "60",
     .doc = "seconds of clock skew allowed for exp/nbf/iat"},
    {"idp", "trust_email", IDP_BOOL(trust_email), .def = "false",
     .doc = "true: its \"email\" claims count as verified unless the token says "
            "\"email_verified\": false (they link users and accept invites); only for a "
            "provider that never issues an address it has not verified"},

    {"auth", "tokens_may_mint", BOOL(tokens_may_mint), .def = "false",
     .doc = "true: a management token may create management tokens"},
    {"auth", "failed_auth_burst", INT(failed_auth_burst, 0, 1000000), .def = "20",
     .doc = "failed authentications a client address may make at once before 429; 0 = "
            "no throttling"},
    {"auth", "failed_auth_per_minute", INT(failed_auth_per_minute, 1, 1000000), .def = "30",
     .doc = "failed authentications an address is allowed again each minute"},
    {"auth", "failed_auth_addresses", INT(failed_auth_addresses, 1, 10000000), .def = "4096",
     .doc = "addresses the throttle remembers at once (32 bytes each)"},
    {"auth", "invite_days", INT(invite_days, 1, 3650), .def = "7",
     .doc = "days an invite stays pending before it expires"},

    {"tokens", "expiry_warning_days", INT(expiry_warning_days, 0, 3650), .def = "7",
     .doc = "log a warning once per token, of either kind, as it comes within this many "
            "days of its expiresAt; 0 = never"},

    {"dev_idp", "enabled", BOOL(dev_idp_enabled), .def = "false",
     .doc = "TEST DEVICE: a built-in IdP whose POST /oauth/token signs a JWT for any "
            "provisioned user; never on a network"},
    {"dev_idp", "issuer", WEB_URL(dev_idp_issuer), .def = "",
     .doc = "its \"iss\"; empty = this server's own URL, http://LISTEN-HOST:PORT"},
    {"dev_idp", "audience", STRING(dev_idp_audience), .required = true, .def = "mgmtd",
     .doc = "the \"aud\" of the JWTs it signs"},

    {"testing", "enabled", BOOL(testing_enabled), .def = "false",
     .doc = "TEST DEVICE: /_test/reset and /_test/clock, without credentials; failed "
            "authentications are not throttled unless [auth] failed_auth_* is set; never "
            "on a network"},
    {"testing", "seed", INT(testing_seed, 0, 2147483647), .def = "0",
     .doc = "not 0: ids and token secrets derive from this number, the same calls answering "
            "the same bytes in every run (and again after each /_test/reset); guessable, so "
            "refused unless enabled = true"},
    {"testing", "journal_entries", INT(testing_journal_entries, 1, 1000000), .def = "1000",
     .doc = "requests GET /_test/requests keeps, in memory, the oldest dropped first"},
    {"testing", "token_activation_seconds", INT(testing_token_activation_seconds, 0, 604800),
     .def = "0",
     .doc = "not 0: a new database token is refused at /authorize, as an unknown one, for "
            "this many seconds after its creation (Cloud Dedicated: a few seconds to a few "
            "minutes); only with enabled = true"},
    {"testing", "database_name_hold_seconds", INT(testing_database_name_hold_seconds, 0, 604800),
     .def = "0",
     .doc = "not 0: a deleted database's name is refused (409) for a create or a rename "
            "for this many seconds after the delete (Cloud Dedicated: two to three "
            "minutes); only with enabled = true"},
    {"testing", "purge_after_days", INT(testing_purge_after_days, 0, 3650), .def = "0",
     .doc = "not 0: deleted databases and tables are purged, undelete answering 404, this "
            "many days after the delete (Cloud Dedicated: about 7); only with enabled = "
            "true"},

    {"ui", "enabled", BOOL(ui_enabled), .def = "false",
     .doc = "the Admin UI at /ui/, signing in through the identity provider (authorization "
            "code + PKCE) or with a management token"},
    {"ui", "client_id", UI_TEXT(ui_client_id), .def = "",
     .doc = "the UI's OAuth client id at the identity provider (a public client, no secret)"},
    {"ui", "scopes", UI_TEXT(ui_scopes), .def = "openid email",
     .doc = "scopes the UI asks for, space-separated"},
    {"ui", "audience", UI_TEXT(ui_audience), .def = "",
     .doc = "sent as the audience parameter of the authorization request when set "
            "(some identity providers need it to issue a JWT for mgmtd)"},
    {"log", "format", STRING(log_format), .choices = "text|json", .def = "text",
     .doc = "text: \"TIME LEVEL message\" lines; json: one JSON object per line"},
    {"log", "level", STRING(log_level), .choices = "debug|info|warn|error", .nocase = true,
     .def = "info", .doc = "debug, info, warn or error: lines below it are not written"},

    {"metrics", "enabled", BOOL(metrics_enabled), .def = "false",
     .doc = "true: GET /metrics answers in the Prometheus text format, without a "
            "credential"},
    {"metrics", "listen", LISTEN(metrics_listen), .def = "",
     .doc = "HOST:PORT of a listener of its own for /metrics (then the main one has "
            "none); empty = the main listener"},

    {"webhook", "url", WEB_URL(webhook_url), .def = "",
     .doc = "http(s) URL that token events (revoked, rotated, suspended, ...) are POSTed to, "
            "signed, from an outbox in the store: retried until taken, across restarts; "
            "empty = no events"},
    {"webhook", "secret_file", FILE_PATH(webhook_secret_file), .def = "",
     .doc = "file holding the secret of the events' X-Mgmtd-Signature (HMAC-SHA256 of the "
            "body); required with url"},
    {"webhook", "timeout", INT(webhook_timeout, 1, 60), .def = "5",
     .doc = "seconds one POST may take, connection included; then it is tried again later"},
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))
_Static_assert(N_OPTIONS <= CONFIG_MAX_OPTIONS, "raise CONFIG_MAX_OPTIONS");

/* The place of an [idp] row among the [idp] rows: its index in idp_config's origin. */
static size_t idp_key_index(const struct option *o)
{
	size_t k = 0;

	for (const struct option *p = options; p < o; p++)
		k += p->scope == SCOPE_IDP;
	return k;
}

/*
 * Remembers that o was set from outside (file, environment, flag) and where:
 * in cfg for its own rows, in idp (the section being read) for the [idp] rows.
 */
static void note_given(struct config *cfg, struct idp_config *idp, const struct option *o,
                       const char *origin, int line)
{
	size_t i = (size_t)(o - options);

	if (o->scope == SCOPE_CONFIG) {
		cfg->given[i / 8] |= (unsigned char)(1u << (i % 8));
		cfg->origin[i] = origin;
		cfg->origin_line[i] = line;
	} else if (idp && (i = idp_key_index(o)) < CONFIG_IDP_KEYS) {
		idp->origin[i] = origin;
		idp->origin_line[i] = line;
	}
}

/* Room kept at the end of config_errors.text for this line, so a full buffer says so. */
static const char errors_full[] = "... (further problems not shown)\n";

/* Appends one message line; always counts it, stores it only while it fits. Returns 1. */
__attribute__((format(printf, 2, 3))) static int add_error(struct config_errors *errs,
                                                           const char *fmt, ...)
{
	char line[PATH_MAX + 1024];
	va_list ap;
	size_t used, len;

	if (!errs)
		return 1;
	errs->count++;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return 1;
	len = strlen(line);

	used = strnlen(errs->text, sizeof(errs->text));
	if (used >= sizeof(errs->text)) { /* not terminated: the caller did not zero it */
		errs->text[0] = '\0';
		used = 0;
	}
	if (used >= strlen(errors_full) &&
	    strcmp(errs->text + used - strlen(errors_full), errors_full) == 0)
		return 1; /* already full */
	if (used + len + 1 + sizeof(errors_full) <= sizeof(errs->text)) {
		memcpy(errs->text + used, line, len);
		errs->text[used + len] = '\n';
		errs->text[used + len + 1] = '\0';
	} else {
		/* sizeof(errors_full) bytes are always free for this */
		memcpy(errs->text + used, errors_full, sizeof(errors_full));
	}
	return 1;
}

/*
 * Copies at most a short, printable excerpt of untrusted text for a message:
 * a config line may hold anything, and messages end up on terminals.
 */
static const char *excerpt(const char *s, char *out, size_t outsize)
{
	size_t i = 0, max = outsize - 4; /* room for "..." */

	for (; *s && i < max; s++)
		out[i++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (*s) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

#define EXCERPT_SIZE 68

static const struct option *option_find(const char *section, const char *key)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (strcmp(options[i].section, section) == 0 && strcmp(options[i].key, key) == 0)
			return &options[i];
	return NULL;
}

/* The table's own copy of a section name, or NULL for an unknown section. */
static const char *section_find(const char *section)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (strcmp(options[i].section, section) == 0)
			return options[i].section;
	return NULL;
}

/*
 * "MGMTD_" SECTION ["_" NAME] "_" KEY, upper-cased, '-' as '_'; idp_name is
 * the NAME of an [idp NAME] section, or NULL.
 */
static void env_name(const struct option *o, const char *idp_name, char *out, size_t outsize)
{
	int n = idp_name ? snprintf(out, outsize, "MGMTD_%s_%s_%s", o->section, idp_name, o->key)
	                 : snprintf(out, outsize, "MGMTD_%s_%s", o->section, o->key);

	if (n < 0)
		out[0] = '\0';
	for (char *p = out; *p; p++)
		*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
}

static bool parse_int(const char *s, long min, long max, int *out)
{
	const char *p = s;
	char *end;
	long v;

	/* strtol alone would take leading blanks and '+' */
	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = (int)v;
	return true;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool choice_ok(const char *choices, const char *value, bool nocase)
{
	size_t len = strlen(value);

	for (const char *c = choices; *c;) {
		const char *bar = strchr(c, '|');
		size_t clen = bar ? (size_t)(bar - c) : strlen(c);

		if (clen == len &&
		    (nocase ? strncasecmp(c, value, len) : strncmp(c, value, len)) == 0)
			return true;
		if (!bar)
			break;
		c = bar + 1;
	}
	return false;
}

/* Why an algorithm name is refused, or NULL when it is allowed; *alg is set when allowed. */
static const char *algorithm_refusal(const char *name, jwt_alg_t *alg)
{
	jwt_alg_t a;

	if (*name == '\0')
		return "empty item in the list";
	a = jwt_str_alg(name);
	switch (a) {
	case JWT_ALG_RS256:
	case JWT_ALG_RS384:
	case JWT_ALG_RS512:
	case JWT_ALG_ES256:
	case JWT_ALG_ES384:
		*alg = a;
		return NULL;
	case JWT_ALG_NONE:
		return "would accept tokens without a signature";
	case JWT_ALG_HS256:
	case JWT_ALG_HS384:
	case JWT_ALG_HS512:
		return "HMAC would turn the identity provider's public key into a shared "
		       "secret anyone can sign with";
	default:
		return "not one of RS256, RS384, RS512, ES256, ES384";
	}
}

/*
 * Parses the allow-list; on failure writes why into why (when given) and
 * returns -1. An algorithm named twice is harmless and accepted.
 */
static int algorithms_parse(const char *list, unsigned *mask, char *why, size_t whysize)
{
	char item[64], ex[EXCERPT_SIZE];
	const char *refusal = NULL;
	unsigned m = 0;

	if (!list) {
		refusal = "no list";
		ex[0] = '\0';
		goto refuse;
	}
	for (const char *p = list;;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		jwt_alg_t alg = JWT_ALG_INVAL;
		size_t len;

		while (p < end && isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		len = (size_t)(end - p);
		if (len >= sizeof(item))
			len = sizeof(item) - 1; /* no algorithm name is this long: still refused */
		memcpy(item, p, len);
		item[len] = '\0';
		excerpt(item, ex, sizeof(ex));
		refusal = algorithm_refusal(item, &alg);
		if (refusal)
			goto refuse;
		m |= 1u << alg;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (mask)
		*mask = m;
	return 0;

refuse:
	if (why && whysize > 0) {
		if (ex[0])
			snprintf(why, whysize, "'%s': %s", ex, refusal);
		else
			snprintf(why, whysize, "%s", refusal);
	}
	return -1;
}

int config_algorithm_mask(const char *list, unsigned *mask)
{
	return algorithms_parse(list, mask, NULL, 0);
}

int config_split_listen(const char *listen, char *host, size_t hostsize, unsigned *port)
{
	const char *h, *hend, *p;
	unsigned long v = 0;
	size_t hlen, digits = 0;

	if (!listen || !host || hostsize == 0 || !port)
		return -1;
	if (listen[0] == '[') {
		h = listen + 1;
		hend = strchr(h, ']');
		if (!hend || hend[1] != ':')
			return -1;
		p = hend + 2;
	} else {
		h = listen;
		hend = strchr(h, ':');
		/* a bare IPv6 address is ambiguous: it must be bracketed */
		if (!hend || strchr(hend + 1, ':'))
			return -1;
		p = hend + 1;
	}
	hlen = (size_t)(hend - h);
	if (hlen == 0 || hlen >= hostsize)
		return -1;
	for (const char *c = h; c < hend; c++)
		if (*c <= 0x20 || *c >= 0x7f || *c == '[' || *c == ']' || *c == '/')
			return -1;
	for (; *p; p++, digits++) {
		if (!isdigit((unsigned char)*p) || digits >= 5)
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (digits == 0 || v > 65535)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (unsigned)v;
	return 0;
}

/* Printable ASCII without quotes, angle brackets or backslashes: it goes into URLs and pages. */
static bool plain_ui_text(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || strchr("\"'<>\\", *s))
			return false;
	return true;
}

/*
 * Why value does not suit the text option o (any type but OPT_INT and
 * OPT_BOOL), or NULL when it does; the one check of a text value, for the
 * file, the environment, flags and fields written directly. why holds the
 * detail. Values are echoed only where they cannot hold a secret.
 */
static const char *value_refusal(const struct option *o, const char *value, char *why,
                                 size_t whysize)
{
	char host[CONFIG_STR_SIZE], ex[EXCERPT_SIZE];
	struct proxies proxies;
	size_t len = strlen(value);
	unsigned port;

	if (len >= o->size) {
		snprintf(why, whysize, "too long (at most %zu bytes)", o->size - 1);
		return why;
	}
	switch (o->type) {
	case OPT_INT:
	case OPT_BOOL:
		return NULL; /* not text: parse_int and parse_bool check them */
	case OPT_STRING:
		if (o->required && len == 0)
			return "must not be empty";
		if (o->choices && !choice_ok(o->choices, value, o->nocase)) {
			snprintf(why, whysize, "must be one of %s: '%s'", o->choices,
			         excerpt(value, ex, sizeof(ex)));
			return why;
		}
		return NULL;
	case OPT_PATH:
	case OPT_FILE:
		return NULL;
	case OPT_DIR:
		if (len == 0)
			return "must not be empty";
		if (len + sizeof("/dev-idp.key") > PATH_MAX)
			return "too long for the files under it";
		return NULL;
	case OPT_LISTEN:
		/* empty where the default is: a listener of its own that is not asked for */
		if (len == 0 && o->def[0] == '\0')
			return NULL;
		if (config_split_listen(value, host, sizeof(host), &port) != 0) {
			snprintf(why, whysize,
			         "not HOST:PORT or [V6]:PORT with a port from 0 to 65535: '%s'",
			         excerpt(value, ex, sizeof(ex)));
			return why;
		}
		return NULL;
	case OPT_ALGORITHMS:
		return algorithms_parse(value, NULL, why, whysize) != 0 ? why : NULL;
	case OPT_PROXIES:
		return proxies_parse(value, &proxies, why, whysize) != 0 ? why : NULL;
	case OPT_KEYS_URL:
		if (len > 0 && !config_url_allowed(value))
			return "must be an https:// URL (http:// only to 127.0.0.1, [::1] or "
			       "localhost)";
		return NULL;
	case OPT_WEB_URL:
		if (len > 0 && strncmp(value, "http://", 7) != 0 &&
		    strncmp(value, "https://", 8) != 0)
			return "must be an http:// or https:// URL";
		return NULL;
	case OPT_UI_TEXT:
		if (!plain_ui_text(value))
			return "printable ASCII without quotes, angle brackets or backslashes";
		return NULL;
	}
	return "of an unknown type";
}

/* The struct an option's offset is relative to: cfg, or idp for the [idp] rows. */
static char *option_base(struct config *cfg, struct idp_config *idp, const struct option *o)
{
	return o->scope == SCOPE_IDP ? (char *)idp : (char *)cfg;
}

int config_dev_idp_issuer(const struct config *cfg, unsigned bound_port, char *out, size_t outsize)
{
	char host[CONFIG_STR_SIZE];
	unsigned port;
	int n;

	if (cfg->dev_idp_issuer[0])
		n = snprintf(out, outsize, "%s", cfg->dev_idp_issuer);
	else if (config_split_listen(cfg->listen, host, sizeof(host), &port) != 0 ||
	         (port == 0 && bound_port == 0))
		return -1;
	else
		n = snprintf(out, outsize, strchr(host, ':') ? "%s://[%s]:%u" : "%s://%s:%u",
		             config_tls(cfg) ? "https" : "http", host, port ? port : bound_port);
	return n < 0 || (size_t)n >= outsize ? -1 : 0;
}

/*
 * Validates value for o and stores it in the struct at base (option_base).
 * where starts each message ("FILE:LINE: [server] threads", "environment
 * MGMTD_SERVER_THREADS"). Returns the number of problems reported (0 or 1);
 * the field is untouched on error. String values are never echoed: they may
 * hold credentials (postgres_url).
 */
static int option_set(char *base, const struct option *o, const char *value, const char *where,
                      struct config_errors *errs)
{
	char *field = base + o->offset;
	char ex[EXCERPT_SIZE], why[256];
	const char *refusal;
	size_t len = strlen(value);
	int iv;
	bool bv;

	switch (o->type) {
	case OPT_INT:
		if (!parse_int(value, o->min, o->max, &iv))
			return add_error(errs, "%s: not an integer between %d and %d: '%s'", where,
			                 o->min, o->max, excerpt(value, ex, sizeof(ex)));
		memcpy(field, &iv, sizeof(iv));
		return 0;
	case OPT_BOOL:
		if (!parse_bool(value, &bv))
			return add_error(
			    errs, "%s: not a boolean (true/false, yes/no, on/off, 1/0): '%s'",
			    where, excerpt(value, ex, sizeof(ex)));
		memcpy(field, &bv, sizeof(bv));
		return 0;
	default:
		refusal = value_refusal(o, value, why, sizeof(why));
		if (refusal)
			return add_error(errs, "%s: %s", where, refusal);
		break;
	}
	/* the whole field is rewritten so no stale bytes stay behind the NUL */
	memset(field, 0, o->size);
	memcpy(field, value, len);
	return 0;
}

/* Fills an identity provider section with the defaults of the [idp] rows. */
static void idp_defaults(struct idp_config *idp)
{
	memset(idp, 0, sizeof(*idp));
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (options[i].scope == SCOPE_IDP)
			(void)option_set((char *)idp, &options[i], options[i].def, options[i].key,
			                 NULL);
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* every default passes its own check: the unit tests load the example file */
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (options[i].scope == SCOPE_CONFIG)
			(void)option_set((char *)cfg, &options[i], options[i].def, options[i].key,
			                 NULL);
	idp_defaults(&cfg->idp);
}

void config_idp_label(const struct idp_config *idp, char *out, size_t outsize)
{
	if (idp->name[0])
		snprintf(out, outsize, "[idp %.*s]", (int)sizeof(idp->name) - 1, idp->name);
	else
		snprintf(out, outsize, "[idp]");
}

/* Why NAME cannot name an [idp NAME] section, or NULL when it can. */
static const char *idp_name_refusal(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "the section name is empty";
	if (len >= CONFIG_IDP_NAME_SIZE)
		return "the section name is longer than 32 characters";
	/* users name the dev IdP so (identity.h): one name, one provider */
	if (strcmp(name, "dev_idp") == 0)
		return "dev_idp names the built-in dev IdP ([dev_idp]); choose another name";
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-'))
			return "a section name takes only a-z, 0-9, '_' and '-'";
	return NULL;
}

/* Two names whose environment variables would be the same ("a-b", "a_b"). */
static bool idp_names_clash(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char ca = *a == '-' ? '_' : *a, cb = *b == '-' ? '_' : *b;

		if (ca != cb)
			return false;
	}
	return *a == *b;
}

/* ---- the INI file ---- */

enum section_state { SECTION_NONE, SECTION_OK, SECTION_BAD };

/*
 * Shared by the reader and the handler: inih calls the reader once per line
 * and the handler for that line before reading the next one, so lineno and
 * long_value always describe the line the handler is looking at.
 */
struct file_ctx {
	FILE *fp;
	const char *path;
	struct config *cfg;
	struct config_errors *errs;
	int problems;
	int lineno;
	int read_errno;
	char *buf; /* getline's, freed by config_load_file */
	size_t bufsize;
	enum section_state state;
	const char *section;    /* the table's name for it, when state is SECTION_OK */
	struct idp_config *idp; /* the target of [idp] rows: cfg->idp or an [idp NAME] */
	char label[48];         /* the section as written in messages: "idp", "idp okta" */
	const char *long_value; /* into buf: the value of a line too long for inih */
};

/* Cuts a comment (';' or '#' at the start or after a blank), then trims both ends. */
static char *clean_line(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	for (char *p = s; *p; p++) {
		if ((*p == ';' || *p == '#') && (p == s || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			break;
		}
	}
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/*
 * The [idp NAME] section called name: the one already read, or a new one
 * with the defaults. NULL (reported) when the name is bad or there are too many.
 */
static struct idp_config *named_idp(struct file_ctx *c, const char *name)
{
	struct config *cfg = c->cfg;
	const char *refusal = idp_name_refusal(name);
	char ex[EXCERPT_SIZE];
	struct idp_config *idp;

	if (refusal) {
		c->problems += add_error(c->errs, "%s:%d: [idp %s]: %s", c->path, c->lineno,
		                         excerpt(name, ex, sizeof(ex)), refusal);
		return NULL;
	}
	for (int i = 0; i < cfg->idp_count; i++) {
		if (strcmp(cfg->idps[i].name, name) == 0)
			return &cfg->idps[i];
		if (idp_names_clash(cfg->idps[i].name, name)) {
			c->problems += add_error(
			    c->errs,
			    "%s:%d: [idp %s]: too like [idp %s]: both would read the same "
			    "MGMTD_IDP_* environment variables",
			    c->path, c->lineno, name, cfg->idps[i].name);
			return NULL;
		}
	}
	if (cfg->idp_count < 0 || cfg->idp_count >= CONFIG_MAX_IDPS) {
		c->problems += add_error(c->errs, "%s:%d: more than %d [idp NAME] sections",
		                         c->path, c->lineno, CONFIG_MAX_IDPS);
		return NULL;
	}
	idp = &cfg->idps[cfg->idp_count++];
	idp_defaults(idp);
	memcpy(idp->name, name, strlen(name) + 1);
	return idp;
}

static void read_section_line(struct file_ctx *c, char *line, int num, char *out)
{
	char *close = strchr(line, ']');
	char *name = line + 1;
	char ex[EXCERPT_SIZE];

	c->state = SECTION_BAD; /* keys below a broken header are not reported one by one */
	c->idp = NULL;
	strcpy(out, "[]\n");
	if (!close) {
		c->problems +=
		    add_error(c->errs, "%s:%d: syntax error: missing ']'", c->path, c->lineno);
		return;
	}
	if (close[1] != '\0') {
		c->problems +=
		    add_error(c->errs, "%s:%d: syntax error: text after ']'", c->path, c->lineno);
		return;
	}
	*close = '\0';
	/* "[idp NAME]": the same keys as [idp], for one more identity provider */
	if (strncmp(name, "idp", 3) == 0 && isspace((unsigned char)name[3])) {
		char *n = clean_line(name + 3);

		c->idp = named_idp(c, n);
		if (!c->idp)
			return;
		c->section = section_find("idp");
		snprintf(c->label, sizeof(c->label), "idp %s", c->idp->name);
		c->state = SECTION_OK;
		snprintf(out, (size_t)num, "[idp]\n");
		return;
	}
	c->section = section_find(name);
	if (!c->section) {
		c->problems += add_error(c->errs, "%s:%d: unknown section [%s]", c->path, c->lineno,
		                         excerpt(name, ex, sizeof(ex)));
		return;
	}
	if (strcmp(c->section, "idp") == 0)
		c->idp = &c->cfg->idp;
	snprintf(c->label, sizeof(c->label), "%s", c->section);
	c->state = SECTION_OK;
	/* known names are short, num is at least a few dozen bytes */
	snprintf(out, (size_t)num, "[%s]\n", c->section);
}

/*
 * inih's reader: hands over one line at a time, cleaned, so that comments,
 * line numbers and errors are handled here the same whatever inih was built
 * with. Lines inih would reject are reported here and replaced by a blank line
 * (so each is reported, not only the first); a key line longer than inih's
 * buffer goes over as "key=" with the value kept in long_value.
 */
static char *file_reader(char *out, int num, void *stream)
{
	struct file_ctx *c = stream;
	ssize_t n;
	char *line, *sep;
	size_t len;

	c->long_value = NULL;
	errno = 0;
	n = getline(&c->buf, &c->bufsize, c->fp);
	if (n < 0) {
		if (ferror(c->fp))
			c->read_errno = errno ? errno : EIO;
		return NULL;
	}
	if (num < 8) { /* inih offers ini_max_line (200): this is only a guard */
		c->read_errno = ENOBUFS;
		return NULL;
	}
	c->lineno++;
	line = c->buf;
	if (c->lineno == 1 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
	    (unsigned char)line[2] == 0xBF)
		line += 3;
	if (strlen(c->buf) != (size_t)n) {
		c->problems += add_error(c->errs, "%s:%d: syntax error: NUL byte in the line",
		                         c->path, c->lineno);
		strcpy(out, "\n");
		return out;
	}
	line = clean_line(line);
	len = strlen(line);

	if (len == 0) {
		strcpy(out, "\n");
		return out;
	}
	if (line[0] == '[') {
		read_section_line(c, line, num, out);
		return out;
	}
	/* inih splits at the first '=' or ':' too */
	sep = strpbrk(line, "=:");
	if (!sep) {
		c->problems += add_error(c->errs, "%s:%d: syntax error: expected key = value",
		                         c->path, c->lineno);
		strcpy(out, "\n");
		return out;
	}
	if (len + 2 <= (size_t)num) {
		memcpy(out, line, len);
		memcpy(out + len, "\n", 2);
		return out;
	}
	if ((size_t)(sep - line) + 3 > (size_t)num) {
		/* no option has a name this long: report it as the handler would */
		char ex[EXCERPT_SIZE];

		*sep = '\0';
		excerpt(clean_line(line), ex, sizeof(ex));
		if (c->state == SECTION_NONE)
			c->problems += add_error(c->errs, "%s:%d: key '%s' is outside any section",
			                         c->path, c->lineno, ex);
		else if (c->state == SECTION_OK)
			c->problems += add_error(c->errs, "%s:%d: unknown key '%s' in [%s]",
			                         c->path, c->lineno, ex, c->label);
		strcpy(out, "\n");
		return out;
	}
	memcpy(out, line, (size_t)(sep - line) + 1);
	memcpy(out + (sep - line) + 1, "\n", 2);
	c->long_value = sep + 1;
	while (isspace((unsigned char)*c->long_value))
		c->long_value++;
	return out;
}

static int file_handler(void *user, const char *section, const char *name, const char *value)
{
	struct file_ctx *c = user;
	const struct option *o;
	char where[PATH_MAX + 128], ex[EXCERPT_SIZE];

	if (c->long_value)
		value = c->long_value;
	switch (c->state) {
	case SECTION_BAD:
		return 1; /* its header was reported */
	case SECTION_NONE:
		c->problems += add_error(c->errs, "%s:%d: key '%s' is outside any section", c->path,
		                         c->lineno, excerpt(name, ex, sizeof(ex)));
		return 1;
	case SECTION_OK:
		break;
	}
	(void)section; /* inih's copy may be cut short; c->section is the table's own */
	o = option_find(c->section, name);
	if (!o) {
		c->problems += add_error(c->errs, "%s:%d: unknown key '%s' in [%s]", c->path,
		                         c->lineno, excerpt(name, ex, sizeof(ex)), c->label);
		return 1;
	}
	snprintf(where, sizeof(where), "%s:%d: [%s] %s", c->path, c->lineno, c->label, o->key);
	if (option_set(option_base(c->cfg, c->idp, o), o, value, where, c->errs) != 0)
		c->problems++;
	else
		note_given(c->cfg, c->idp, o, c->path, c->lineno);
	return 1; /* keep going: every problem in the file is reported */
}

/* On errors, the values that were good are applied and the bad ones are not. */
int config_load_file(struct config *cfg, const char *path, struct config_errors *errs)
{
	struct file_ctx c = {.path = path, .cfg = cfg, .errs = errs};
	int rc;

	if (!path)
		return add_error(errs, "no configuration file given");
	c.fp = fopen(path, "r");
	if (!c.fp)
		return add_error(errs, "%s: cannot open: %s", path, strerror(errno));

	rc = ini_parse_stream(file_reader, &c, file_handler, &c);
	if (c.read_errno != 0)
		c.problems += add_error(errs, "%s: cannot read: %s", path, strerror(c.read_errno));
	else if (rc == -2)
		c.problems += add_error(errs, "%s: out of memory", path);
	else if (rc != 0 && c.problems == 0)
		/* the reader should have caught everything inih refuses */
		c.problems += add_error(errs, "%s:%d: syntax error", path, rc);

	free(c.buf);
	fclose(c.fp);
	return c.problems;
}

/* Applies one option's environment variable, when it is set; *set says whether it was. */
static int env_apply(char *base, const struct option *o, const char *idp_name, bool *set,
                     struct config_errors *errs)
{
	char name[160], where[192];
	const char *value;

	*set = false;
	env_name(o, idp_name, name, sizeof(name));
	value = getenv(name);
	if (!value)
		return 0;
	snprintf(where, sizeof(where), "environment %s", name);
	if (option_set(base, o, value, where, errs) != 0)
		return 1;
	*set = true;
	return 0;
}

int config_apply_env(struct config *cfg, struct config_errors *errs)
{
	int problems = 0;
	bool set;

	for (size_t i = 0; i < N_OPTIONS; i++) {
		problems += env_apply(option_base(cfg, &cfg->idp, &options[i]), &options[i], NULL,
		                      &set, errs);
		if (set)
			note_given(cfg, &cfg->idp, &options[i], "environment", -1);
	}
	for (int n = 0; n < cfg->idp_count && n < CONFIG_MAX_IDPS; n++)
		for (size_t i = 0; i < N_OPTIONS; i++) {
			if (options[i].scope != SCOPE_IDP)
				continue;
			problems += env_apply((char *)&cfg->idps[n], &options[i], cfg->idps[n].name,
			                      &set, errs);
			if (set)
				note_given(cfg, &cfg->idps[n], &options[i], "environment", -1);
		}
	return problems;
}

int config_set(struct config *cfg, const char *section, const char *key, const char *value,
               const char *origin, struct config_errors *errs)
{
	const struct option *o;
	char where[256], ex[EXCERPT_SIZE];

	if (!section || !key)
		return add_error(errs, "%s: no option named", origin ? origin : "config_set");
	o = option_find(section, key);
	if (!o)
		return add_error(errs, "%s: unknown option [%s] %s", origin ? origin : "config_set",
		                 section, excerpt(key, ex, sizeof(ex)));
	if (origin)
		snprintf(where, sizeof(where), "%s", origin);
	else
		snprintf(where, sizeof(where), "[%s] %s", o->section, o->key);
	if (!value)
		return add_error(errs, "%s: no value", where);
	if (option_set(option_base(cfg, &cfg->idp, o), o, value, where, errs) != 0)
		return 1;
	note_given(cfg, &cfg->idp, o, origin ? origin : "config_set", 0);
	return 0;
}

bool config_given(const struct config *cfg, const char *section, const char *key)
{
	const struct option *o = option_find(section, key);
	size_t i;

	if (!o || o->scope != SCOPE_CONFIG)
		return false;
	i = (size_t)(o - options);
	return (cfg->given[i / 8] & (1u << (i % 8))) != 0;
}

int config_failed_auth_burst(const struct config *cfg)
{
	if (cfg->testing_enabled && !config_given(cfg, "auth", "failed_auth_burst") &&
	    !config_given(cfg, "auth", "failed_auth_per_minute") &&
	    !config_given(cfg, "auth", "failed_auth_addresses"))
		return 0;
	return cfg->failed_auth_burst;
}

/* Rechecks one field against its descriptor; label names the section in messages. */
static int recheck_field(const char *base, const struct option *o, const char *label,
                         struct config_errors *errs)
{
	const char *field = base + o->offset;
	const char *refusal;
	char why[256];
	int iv, problems = 0;

	switch (o->type) {
	case OPT_INT:
		memcpy(&iv, field, sizeof(iv));
		if (iv < o->min || iv > o->max)
			problems += add_error(errs, "[%s] %s: not between %d and %d: %d", label,
			                      o->key, o->min, o->max, iv);
		return problems;
	case OPT_BOOL:
		return 0;
	default:
		break;
	}
	if (strnlen(field, o->size) >= o->size)
		return add_error(errs, "[%s] %s: not a terminated string", label, o->key);
	refusal = value_refusal(o, field, why, sizeof(why));
	if (refusal)
		problems += add_error(errs, "[%s] %s: %s", label, o->key, refusal);
	return problems;
}

/*
 * Rechecks every field against its descriptor: callers may have written the
 * struct directly, and a non-terminated string must never reach a strlen.
 */
static int recheck_fields(const struct config *cfg, struct config_errors *errs)
{
	int problems = 0;

	for (size_t i = 0; i < N_OPTIONS; i++)
		problems += recheck_field(options[i].scope == SCOPE_IDP ? (const char *)&cfg->idp
		                                                        : (const char *)cfg,
		                          &options[i], options[i].section, errs);
	if (cfg->idp_count < 0 || cfg->idp_count > CONFIG_MAX_IDPS)
		return problems + add_error(errs,
		                            "[idp NAME]: the section count %d is not between "
		                            "0 and %d",
		                            cfg->idp_count, CONFIG_MAX_IDPS);
	for (int n = 0; n < cfg->idp_count; n++) {
		const struct idp_config *idp = &cfg->idps[n];
		char label[64];

		if (strnlen(idp->name, sizeof(idp->name)) >= sizeof(idp->name) ||
		    idp_name_refusal(idp->name)) {
			problems +=
			    add_error(errs, "[idp NAME] number %d: not a good section name", n + 1);
			continue;
		}
		snprintf(label, sizeof(label), "idp %s", idp->name);
		for (size_t i = 0; i < N_OPTIONS; i++)
			if (options[i].scope == SCOPE_IDP)
				problems +=
				    recheck_field((const char *)idp, &options[i], label, errs);
	}
	return problems;
}

/* Is host (len bytes, brackets removed) a name for this machine's loopback? */
static bool loopback_host(const char *host, size_t len)
{
	static const char *const names[] = {"127.0.0.1", "::1", "localhost"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && strncasecmp(host, names[i], len) == 0)
			return true;
	return false;
}

bool config_url_allowed(const char *url)
{
	const char *host, *end, *close, *colon;

	if (!url)
		return false;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return false;
	end = host + strcspn(host, "/?#");
	if (end == host || memchr(host, '@', (size_t)(end - host)))
		return false; /* no host, or credentials in the URL */
	if (host == url + 8)
		return true;
	/* plain HTTP: only where nobody can change the keys on the way */
	if (*host == '[') {
		close = memchr(host, ']', (size_t)(end - host));
		return close && loopback_host(host + 1, (size_t)(close - host - 1)) &&
		       (close + 1 == end || close[1] == ':');
	}
	colon = memchr(host, ':', (size_t)(end - host));
	return loopback_host(host, (size_t)((colon ? colon : end) - host));
}

size_t config_idps(const struct config *cfg, const struct idp_config *out[], size_t max)
{
	size_t n = 0;

	if (cfg->idp.issuer[0] && n < max)
		out[n++] = &cfg->idp;
	for (int i = 0; i < cfg->idp_count && i < CONFIG_MAX_IDPS && n < max; i++)
		out[n++] = &cfg->idps[i];
	return n;
}

/*
 * Appends one place a key was set to out: "FILE:LINE" (line > 0),
 * "environment NAME" (line < 0) or a flag's name (line 0); nothing for a
 * default (origin NULL), which has nowhere to point at.
 */
static void append_place(const struct option *o, const char *idp_name, const char *origin, int line,
                         char *out, size_t size)
{
	size_t used = strlen(out);
	const char *sep = used ? ", " : "";
	char env[160];

	if (!origin || used >= size)
		return;
	if (line > 0)
		snprintf(out + used, size - used, "%s%s:%d", sep, origin, line);
	else if (line < 0) {
		env_name(o, idp_name, env, sizeof(env));
		snprintf(out + used, size - used, "%senvironment %s", sep, env);
	} else
		snprintf(out + used, size - used, "%s%s", sep, origin);
}

/* Appends where [section] key of cfg's own rows was set ("FILE:LINE", "--flag", ...). */
static void append_origin(const struct config *cfg, const char *section, const char *key, char *out,
                          size_t size)
{
	const struct option *o = option_find(section, key);
	size_t i;

	if (!o || o->scope != SCOPE_CONFIG)
		return;
	i = (size_t)(o - options);
	if (cfg->given[i / 8] & (1u << (i % 8)))
		append_place(o, NULL, cfg->origin[i], cfg->origin_line[i], out, size);
}

/* Appends where key of an identity provider section was set. */
static void append_idp_origin(const struct idp_config *idp, const char *key, char *out, size_t size)
{
	const struct option *o = option_find("idp", key);
	size_t k;

	if (!o || (k = idp_key_index(o)) >= CONFIG_IDP_KEYS)
		return;
	append_place(o, idp->name[0] ? idp->name : NULL, idp->origin[k], idp->origin_line[k], out,
	             size);
}

/* Ends a list of places with ": ", so that a message can follow it; "" stays "". */
static const char *end_places(char *out, size_t size)
{
	size_t n = strlen(out);

	if (n > 0 && n + 3 <= size)
		memcpy(out + n, ": ", 3);
	return out;
}

/*
 * "FILE:LINE, FILE:LINE: " for a problem of two keys (key2 may be NULL), so
 * that the person finds both lines; "" when both are defaults.
 */
static const char *where2(const struct config *cfg, const char *section1, const char *key1,
                          const char *section2, const char *key2, char *out, size_t size)
{
	out[0] = '\0';
	append_origin(cfg, section1, key1, out, size);
	if (key2)
		append_origin(cfg, section2, key2, out, size);
	return end_places(out, size);
}

/* The same for the keys of one identity provider section, key2 and key3 may be NULL. */
static const char *idp_where(const struct idp_config *idp, const char *key1, const char *key2,
                             const char *key3, char *out, size_t size)
{
	out[0] = '\0';
	append_idp_origin(idp, key1, out, size);
	if (key2)
		append_idp_origin(idp, key2, out, size);
	if (key3)
		append_idp_origin(idp, key3, out, size);
	return end_places(out, size);
}

/* One identity provider section: an issuer and exactly one source of keys. */
static int validate_idp(const struct idp_config *idp, struct config_errors *errs)
{
	int sources = (idp->jwks_file[0] != '\0') + (idp->jwks_url[0] != '\0') + idp->discovery;
	char label[64], at[3 * PATH_MAX + 64];
	int problems = 0;

	config_idp_label(idp, label, sizeof(label));
	if (!idp->name[0] && !idp->issuer[0] && sources == 0)
		return 0; /* no [idp] at all: JWTs are refused */
	if (!idp->issuer[0])
		return add_error(
		    errs, "%s%s issuer: required%s",
		    idp_where(idp, "jwks_file", "jwks_url", "discovery", at, sizeof(at)), label,
		    idp->name[0] ? "" : " with jwks_file, jwks_url or discovery");
	if (sources == 0)
		problems += add_error(errs,
		                      "%s%s: no keys for issuer; set one of jwks_file, jwks_url "
		                      "or discovery = true",
		                      idp_where(idp, "issuer", NULL, NULL, at, sizeof(at)), label);
	else if (sources > 1)
		problems += add_error(
		    errs,
		    "%s%s: jwks_file, jwks_url and discovery exclude each other; set exactly one",
		    idp_where(idp, "jwks_file", "jwks_url", "discovery", at, sizeof(at)), label);
	if (idp->discovery && !config_url_allowed(idp->issuer))
		problems +=
		    add_error(errs,
		              "%s%s discovery: the issuer must be an https:// URL (http:// "
		              "only to 127.0.0.1, [::1] or localhost)",
		              idp_where(idp, "discovery", "issuer", NULL, at, sizeof(at)), label);
	return problems;
}

/* idp: the first identity provider in use, or NULL. */
static int validate_ui(const struct config *cfg, const struct idp_config *idp,
                       struct config_errors *errs)
{
	char at[2 * PATH_MAX + 64];
	int problems = 0;

	/* the form of each text is the descriptor's (recheck_fields); here only its company */
	if (!cfg->ui_enabled || cfg->ui_client_id[0] || (!idp && !cfg->dev_idp_enabled))
		return problems;
	/* both lines: [ui] enabled, and the identity provider the UI would sign in through */
	if (cfg->dev_idp_enabled)
		where2(cfg, "ui", "enabled", "dev_idp", "enabled", at, sizeof(at));
	else {
		at[0] = '\0';
		append_origin(cfg, "ui", "enabled", at, sizeof(at));
		append_idp_origin(idp, "issuer", at, sizeof(at));
		end_places(at, sizeof(at));
	}
	problems += add_error(errs,
	                      "%s[ui] client_id: required when [ui] is enabled and an identity "
	                      "provider is configured (the UI signs in through it)",
	                      at);
	return problems;
}

const char *config_where2(const struct config *cfg, const char *section1, const char *key1,
                          const char *section2, const char *key2, char *out, size_t size)
{
	out[0] = '\0';
	if (section1 && key1)
		append_origin(cfg, section1, key1, out, size);
	if (section2 && key2)
		append_origin(cfg, section2, key2, out, size);
	return end_places(out, size);
}

const char *config_idp_where(const struct idp_config *idp, const char *key, char *out, size_t size)
{
	return idp_where(idp, key, NULL, NULL, out, size);
}

bool config_tls(const struct config *cfg)
{
	return cfg->tls_cert[0] != '\0' && cfg->tls_key[0] != '\0';
}

bool config_in_memory(const struct config *cfg)
{
	return strcmp(cfg->data_dir, CONFIG_MEMORY_DIR) == 0;
}

/*
 * The test harness's delays (delays.h) only with [testing] enabled, as its
 * seed: a delay outside testing would slow a real deployment for nothing.
 */
static int validate_delays(const struct config *cfg, struct config_errors *errs)
{
	static const char *const keys[] = {"token_activation_seconds", "database_name_hold_seconds",
	                                   "purge_after_days"};
	const int values[] = {cfg->testing_token_activation_seconds,
	                      cfg->testing_database_name_hold_seconds,
	                      cfg->testing_purge_after_days};
	char at[3 * PATH_MAX + 64];
	int problems = 0;

	if (cfg->testing_enabled)
		return 0;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		if (values[i] == 0)
			continue;
		problems += add_error(
		    errs,
		    "%s[testing] %s: set only with enabled = true (a delay of the test harness)",
		    where2(cfg, "testing", keys[i], "testing", "enabled", at, sizeof(at)), keys[i]);
	}
	return problems;
}

int config_validate(const struct config *cfg, struct config_errors *errs)
{
	const struct idp_config *idps[CONFIG_MAX_IDPS + 1];
	char dev_issuer[CONFIG_STR_SIZE], at[3 * PATH_MAX + 64];
	bool have_dev_issuer;
	size_t n;
	int problems = recheck_fields(cfg, errs);

	if (problems)
		return problems; /* the checks below read the strings */

	if (config_in_memory(cfg) && cfg->token_key_file[0])
		problems += add_error(
		    errs,
		    "%s[store] token_key_file: not with data_dir = :memory:, "
		    "which writes no file and keeps its key in memory",
		    where2(cfg, "store", "token_key_file", "server", "data_dir", at, sizeof(at)));
	if ((cfg->tls_cert[0] != '\0') != (cfg->tls_key[0] != '\0'))
		problems += add_error(
		    errs,
		    "%s[server] tls_cert and tls_key: set both (HTTPS) or "
		    "neither (HTTP)",
		    where2(cfg, "server", "tls_cert", "server", "tls_key", at, sizeof(at)));
	if (strcmp(cfg->store_backend, "postgres") == 0) {
		if (config_in_memory(cfg))
			problems += add_error(
			    errs,
			    "%s[server] data_dir: :memory: keeps a SQLite store in memory; with "
			    "[store] backend = postgres set a data directory",
			    where2(cfg, "server", "data_dir", "store", "backend", at, sizeof(at)));
	} else {
		if (cfg->postgres_url[0])
			problems += add_error(
			    errs,
			    "%s[store] postgres_url: set, but backend is sqlite; set backend = "
			    "postgres (or leave postgres_url empty)",
			    where2(cfg, "store", "postgres_url", "store", "backend", at,
			           sizeof(at)));
		if (cfg->postgres_pool != 0)
			problems += add_error(
			    errs,
			    "%s[store] postgres_pool: set, but backend is sqlite; set backend = "
			    "postgres (or use 0)",
			    where2(cfg, "store", "postgres_pool", "store", "backend", at,
			           sizeof(at)));
	}
	/* Its form is the descriptor's (recheck_fields); here only its company. */
	if (cfg->testing_seed != 0 && !cfg->testing_enabled)
		problems += add_error(
		    errs,
		    "%s[testing] seed: set only with enabled = true (ids and secrets derived from "
		    "it are guessable)",
		    where2(cfg, "testing", "seed", "testing", "enabled", at, sizeof(at)));
	problems += validate_delays(cfg, errs);
	if (cfg->metrics_listen[0] && !cfg->metrics_enabled)
		problems += add_error(
		    errs, "%s[metrics] listen: set only with enabled = true",
		    where2(cfg, "metrics", "listen", "metrics", "enabled", at, sizeof(at)));
	if (cfg->webhook_url[0] && !cfg->webhook_secret_file[0])
		problems += add_error(
		    errs,
		    "%s[webhook] url: set, but secret_file is not; events are signed with its "
		    "secret (a file of random bytes, 0600)",
		    where2(cfg, "webhook", "url", "webhook", "secret_file", at, sizeof(at)));
	if (cfg->webhook_secret_file[0] && !cfg->webhook_url[0])
		problems += add_error(
		    errs, "%s[webhook] secret_file: set only with url",
		    where2(cfg, "webhook", "secret_file", "webhook", "url", at, sizeof(at)));

	problems += validate_idp(&cfg->idp, errs);
	for (int i = 0; i < cfg->idp_count; i++)
		problems += validate_idp(&cfg->idps[i], errs);
	n = config_idps(cfg, idps, CONFIG_MAX_IDPS + 1);
	have_dev_issuer = cfg->dev_idp_enabled &&
	                  config_dev_idp_issuer(cfg, 0, dev_issuer, sizeof(dev_issuer)) == 0;
	for (size_t i = 0; i < n; i++) {
		char a[64], b[64];

		if (idps[i]->issuer[0] == '\0')
			continue; /* reported above */
		for (size_t j = 0; j < i; j++) {
			if (strcmp(idps[i]->issuer, idps[j]->issuer) != 0)
				continue;
			config_idp_label(idps[j], a, sizeof(a));
			config_idp_label(idps[i], b, sizeof(b));
			at[0] = '\0';
			append_idp_origin(idps[j], "issuer", at, sizeof(at));
			append_idp_origin(idps[i], "issuer", at, sizeof(at));
			problems += add_error(errs,
			                      "%s%s issuer: the same as in %s; the JWT's iss picks "
			                      "the section, so each issuer takes one section",
			                      end_places(at, sizeof(at)), b, a);
			break;
		}
		/*
		 * The dev IdP's issuer is this server's own URL unless set: serve
		 * refuses an [idp] with it when it starts the dev IdP, so the check
		 * must too (with listen's port; port 0 is known only once bound,
		 * where serve alone can tell).
		 */
		if (have_dev_issuer && strcmp(idps[i]->issuer, dev_issuer) == 0) {
			config_idp_label(idps[i], b, sizeof(b));
			at[0] = '\0';
			append_idp_origin(idps[i], "issuer", at, sizeof(at));
			if (cfg->dev_idp_issuer[0]) {
				append_origin(cfg, "dev_idp", "issuer", at, sizeof(at));
				problems +=
				    add_error(errs,
				              "%s%s issuer: the same as [dev_idp] issuer, which "
				              "mgmtd trusts by itself",
				              end_places(at, sizeof(at)), b);
			} else {
				append_origin(cfg, "server", "listen", at, sizeof(at));
				problems += add_error(
				    errs,
				    "%s%s issuer: the same as the dev IdP's issuer, this server's "
				    "own URL from [server] listen, which mgmtd trusts by itself "
				    "(set [dev_idp] issuer to another URL, or change this one)",
				    end_places(at, sizeof(at)), b);
			}
		}
	}
	problems += validate_ui(cfg, n > 0 ? idps[0] : NULL, errs);
	return problems;
}

/*
 * One file the configuration names (OPT_FILE): a regular file this process
 * can open for reading. at is where it was set ("FILE:LINE: " or ""), label
 * its section ("[server]", "[idp okta]").
 */
static int check_file(const char *path, size_t size, const char *at, const char *label,
                      const char *key, struct config_errors *errs)
{
	struct stat st;
	int fd, problems = 0;

	if (strnlen(path, size) >= size || path[0] == '\0')
		return 0; /* not terminated: recheck_fields says so; empty: no file */
	/* O_NONBLOCK: a FIFO must not hang the check; it is refused below */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return add_error(errs, "%s%s %s %s: cannot read: %s", at, label, key, path,
		                 strerror(errno));
	if (fstat(fd, &st) != 0)
		problems += add_error(errs, "%s%s %s %s: cannot read: %s", at, label, key, path,
		                      strerror(errno));
	else if (!S_ISREG(st.st_mode))
		problems += add_error(errs, "%s%s %s %s: cannot read: not a regular file", at,
		                      label, key, path);
	close(fd);
	return problems;
}

/*
 * The data directory serve creates at start (cli_make_data_dir): it, or the
 * nearest of its parents that is there, must be a directory; a path through
 * a regular file is refused by serve and so here.
 */
static int check_dir(const struct config *cfg, struct config_errors *errs)
{
	char dir[PATH_MAX], at[PATH_MAX + 64];
	struct stat st;
	size_t len = strnlen(cfg->data_dir, sizeof(cfg->data_dir));

	if (len == 0 || len >= sizeof(dir) || config_in_memory(cfg))
		return 0; /* empty or too long: the descriptor says so; :memory:: no directory */
	memcpy(dir, cfg->data_dir, len + 1);
	for (;;) {
		char *slash;

		if (stat(dir, &st) == 0)
			break;
		if (errno != ENOENT)
			return add_error(
			    errs, "%s[server] data_dir %s: cannot reach %s: %s",
			    where2(cfg, "server", "data_dir", NULL, NULL, at, sizeof(at)),
			    cfg->data_dir, dir, strerror(errno));
		/* not there yet: serve creates it, so look at its parent */
		slash = strrchr(dir, '/');
		if (!slash)
			return 0; /* a relative name in the working directory */
		if (slash == dir) {
			dir[1] = '\0'; /* the root */
			continue;
		}
		*slash = '\0';
	}
	if (!S_ISDIR(st.st_mode))
		return add_error(errs, "%s[server] data_dir %s: %s is not a directory",
		                 where2(cfg, "server", "data_dir", NULL, NULL, at, sizeof(at)),
		                 cfg->data_dir, dir);
	return 0;
}

/*
 * [store] token_key_file, which serve reads, or creates (the file only, not
 * its directory) when it is not there: a readable regular file, or a name in
 * a directory that is there or is data_dir (which serve creates first).
 */
static int check_key_file(const struct config *cfg, struct config_errors *errs)
{
	char dir[PATH_MAX], at[PATH_MAX + 64];
	const char *path = cfg->token_key_file;
	size_t len = strnlen(path, sizeof(cfg->token_key_file)), dlen;
	struct stat st;
	char *slash;

	if (len == 0 || len >= sizeof(dir) || config_in_memory(cfg))
		return 0; /* none given, or a problem config_validate reports */
	where2(cfg, "store", "token_key_file", NULL, NULL, at, sizeof(at));
	if (stat(path, &st) == 0)
		return check_file(path, sizeof(cfg->token_key_file), at, "[store]",
		                  "token_key_file", errs);
	if (errno != ENOENT)
		return add_error(errs, "%s[store] token_key_file %s: cannot reach: %s", at, path,
		                 strerror(errno));
	memcpy(dir, path, len + 1);
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;           /* in the working directory */
	slash[slash == dir] = '\0'; /* "/k" lies in "/" */
	dlen = strnlen(cfg->data_dir, sizeof(cfg->data_dir));
	while (dlen > 1 && cfg->data_dir[dlen - 1] == '/')
		dlen--;
	if (strlen(dir) == dlen && strncmp(dir, cfg->data_dir, dlen) == 0)
		return 0; /* serve makes data_dir before it makes the key */
	if (stat(dir, &st) != 0)
		return add_error(errs, "%s[store] token_key_file %s: cannot create it in %s: %s",
		                 at, path, dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return add_error(errs, "%s[store] token_key_file %s: %s is not a directory", at,
		                 path, dir);
	return 0;
}

int config_check_files(const struct config *cfg, struct config_errors *errs)
{
	char at[PATH_MAX + 64], label[64];
	int problems = check_dir(cfg, errs) + check_key_file(cfg, errs);

	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct option *o = &options[i];

		if (o->type != OPT_FILE)
			continue;
		if (o->scope == SCOPE_CONFIG) {
			snprintf(label, sizeof(label), "[%s]", o->section);
			problems +=
			    check_file((const char *)cfg + o->offset, o->size,
			               where2(cfg, o->section, o->key, NULL, NULL, at, sizeof(at)),
			               label, o->key, errs);
			continue;
		}
		for (int n = -1; n < cfg->idp_count && n < CONFIG_MAX_IDPS; n++) {
			const struct idp_config *idp = n < 0 ? &cfg->idp : &cfg->idps[n];

			config_idp_label(idp, label, sizeof(label));
			problems += check_file((const char *)idp + o->offset, o->size,
			                       idp_where(idp, o->key, NULL, NULL, at, sizeof(at)),
			                       label, o->key, errs);
		}
	}
	return problems;
}

/* dir + "/" + name; an empty result when it does not fit, never a cut path. */
static void path_under(const char *dir, const char *name, char out[PATH_MAX])
{
	size_t dlen = strnlen(dir, PATH_MAX);
	const char *slash = (dlen > 0 && dir[dlen - 1] == '/') ? "" : "/";
	int n = snprintf(out, PATH_MAX, "%.*s%s%s", (int)dlen, dir, slash, name);

	if (n < 0 || n >= PATH_MAX)
		out[0] = '\0';
}

void config_db_path(const struct config *cfg, char out[PATH_MAX])
{
	if (config_in_memory(cfg))
		out[0] = '\0';
	else
		path_under(cfg->data_dir, "mgmtd.db", out);
}

void config_dev_idp_key_path(const struct config *cfg, char out[PATH_MAX])
{
	if (config_in_memory(cfg))
		out[0] = '\0';
	else
		path_under(cfg->data_dir, "dev-idp.key", out);
}

void config_token_key_path(const struct config *cfg, char out[PATH_MAX])
{
	size_t len = strnlen(cfg->token_key_file, PATH_MAX);

	if (config_in_memory(cfg))
		out[0] = '\0';
	else if (len == 0)
		path_under(cfg->data_dir, "token.key", out);
	else if (len < PATH_MAX)
		memcpy(out, cfg->token_key_file, len + 1);
	else
		out[0] = '\0';
}

/*
 * What value_refusal lets through for o, in words: the example file's rule
 * line, which the tests read to make a value each key refuses. No default
 * branch: a new type does not compile without its rule.
 */
static void option_rule(const struct option *o, char *out, size_t size)
{
	switch (o->type) {
	case OPT_INT:
		snprintf(out, size, "integer %d..%d", o->min, o->max);
		return;
	case OPT_BOOL:
		snprintf(out, size, "boolean");
		return;
	case OPT_STRING:
		if (o->choices)
			snprintf(out, size, "one of %s%s", o->choices,
			         o->nocase ? " in any case" : "");
		else
			snprintf(out, size, "text%s, at most %zu bytes",
			         o->required ? ", not empty" : "", o->size - 1);
		return;
	case OPT_PATH:
		snprintf(out, size, "path, at most %zu bytes", o->size - 1);
		return;
	case OPT_FILE:
		snprintf(out, size, "empty, or the path of a readable file");
		return;
	case OPT_DIR:
		snprintf(out, size, "directory path, not empty, at most %zu bytes",
		         PATH_MAX - sizeof("/dev-idp.key"));
		return;
	case OPT_LISTEN:
		snprintf(out, size, "address HOST:PORT or [V6]:PORT%s",
		         o->def[0] ? "" : ", or empty");
		return;
	case OPT_ALGORITHMS:
		snprintf(out, size, "list of RS256 RS384 RS512 ES256 ES384");
		return;
	case OPT_PROXIES:
		snprintf(out, size, "list of addresses and networks");
		return;
	case OPT_KEYS_URL:
		snprintf(out, size, "empty, or an https:// URL (http:// only to loopback)");
		return;
	case OPT_WEB_URL:
		snprintf(out, size, "empty, or an http:// or https:// URL");
		return;
	case OPT_UI_TEXT:
		snprintf(
		    out, size,
		    "printable ASCII without quotes, angle brackets or backslashes, at most %zu "
		    "bytes",
		    o->size - 1);
		return;
	}
	snprintf(out, size, "unknown");
}

/* Writes one option as the example file shows it: what it does, its rule, its default. */
static void write_option(FILE *out, const struct option *o)
{
	char env[128], rule[160];

	env_name(o, NULL, env, sizeof(env));
	option_rule(o, rule, sizeof(rule));
	fprintf(out, "\n; %s\n", o->doc);
	fprintf(out, "; %s, environment %s\n", rule, env);
	fprintf(out, "%s =%s%s\n", o->key, o->def[0] ? " " : "", o->def);
}

void config_write_example(FILE *out)
{
	const char *section = NULL;

	fputs("; mgmtd configuration: every option with its default.\n"
	      "; Each can also be set in the environment as MGMTD_<SECTION>_<KEY>;\n"
	      "; flags beat the environment, the environment beats this file.\n"
	      "; Booleans: true/false, yes/no, on/off, 1/0.\n",
	      out);
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct option *o = &options[i];

		if (!section || strcmp(section, o->section) != 0) {
			if (section && strcmp(section, "idp") == 0)
				fprintf(out,
				        "\n; More identity providers: one [idp NAME] section each "
				        "(NAME: 1-32 of a-z 0-9 _ -, not dev_idp),\n"
				        "; with the keys of [idp]; the JWT's \"iss\" picks the "
				        "section. Environment:\n"
				        "; MGMTD_IDP_<NAME>_<KEY>, for sections the file has. "
				        "For example:\n"
				        ";   [idp okta]\n"
				        ";   issuer = https://example.okta.com/oauth2/default\n"
				        ";   audience = api://mgmtd\n"
				        ";   discovery = true\n");
			fprintf(out, "\n[%s]", o->section);
			section = o->section;
		}
		write_option(out, o);
	}
}
