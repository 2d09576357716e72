/*
 * test_config.c - defaults, the INI file, environment, flags, validation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char tmpdir[] = "/tmp/mgmtd-test-config-XXXXXX";

/* Every MGMTD_ variable a test may set, cleared around each test. */
static const char *const env_vars[] = {
    "MGMTD_SERVER_LISTEN",          "MGMTD_SERVER_THREADS",       "MGMTD_IDP_JWKS_FILE",
    "MGMTD_DEV_IDP_ENABLED",        "MGMTD_IDP_ALGORITHMS",       "MGMTD_IDP_AUTH0_LEEWAY",
    "MGMTD_IDP_KEY_CLOAK_AUDIENCE", "MGMTD_IDP_KEY_CLOAK_LEEWAY", "MGMTD_AUTH_FAILED_AUTH_BURST",
    "MGMTD_TESTING_ENABLED",        "MGMTD_IDP_AUTH0_TRUST_EMAIL"};

static void clear_env(void)
{
	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
}

static int group_setup(void **state)
{
	clear_env();
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	clear_env();
	return rmdir(tmpdir);
}

/* Writes text to a fresh file in tmpdir; path gets its name. The caller unlinks it. */
static void write_file(const char *text, char path[PATH_MAX])
{
	int fd;
	size_t len = strlen(text);

	snprintf(path, PATH_MAX, "%s/cfg-XXXXXX", tmpdir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/*
 * Loads text as a file over cfg from path, the caller's buffer: the config
 * keeps pointing at it for the places of later messages (config_validate).
 */
static int load_text_at(struct config *cfg, const char *text, struct config_errors *errs,
                        char path[PATH_MAX])
{
	int n;

	write_file(text, path);
	n = config_load_file(cfg, path, errs);
	assert_int_equal(unlink(path), 0);
	return n;
}

/* Loads text as a file over cfg; path (optional) gets the name used in messages. */
static int load_text(struct config *cfg, const char *text, struct config_errors *errs,
                     char *path_out)
{
	char path[PATH_MAX];
	int n;

	write_file(text, path);
	n = config_load_file(cfg, path, errs);
	assert_int_equal(unlink(path), 0);
	if (path_out)
		strcpy(path_out, path);
	return n;
}

/* Fails the test unless errs holds a line that starts with the text formatted from fmt. */
__attribute__((format(printf, 2, 3))) static void assert_has_line(const struct config_errors *errs,
                                                                  const char *fmt, ...)
{
	char want[PATH_MAX + 512];
	va_list ap;
	const char *p;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	for (p = errs->text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len >= strlen(want) && strncmp(p, want, strlen(want)) == 0)
			return;
		p += len + (nl ? 1 : 0);
	}
	fail_msg("no line starting with \"%s\" in:\n%s", want, errs->text);
}

static void test_defaults(void **state)
{
	struct config cfg;

	memset(&cfg, 0x5a, sizeof(cfg));
	config_defaults(&cfg);
	assert_string_equal(cfg.listen, "127.0.0.1:8080");
	assert_string_equal(cfg.data_dir, "var");
	assert_int_equal(cfg.threads, 0);
	assert_int_equal(cfg.max_connections, 1024);
	assert_int_equal(cfg.request_timeout, 30);
	assert_string_equal(cfg.tls_cert, "");
	assert_string_equal(cfg.tls_key, "");
	assert_string_equal(cfg.store_backend, "sqlite");
	assert_string_equal(cfg.postgres_url, "");
	assert_int_equal(cfg.postgres_pool, 0);
	assert_string_equal(cfg.token_key_file, "");
	assert_int_equal(cfg.keep_expired_days, 0);
	assert_string_equal(cfg.idp.issuer, "");
	assert_string_equal(cfg.idp.audience, "mgmtd");
	assert_string_equal(cfg.idp.jwks_file, "");
	assert_string_equal(cfg.idp.jwks_url, "");
	assert_false(cfg.idp.discovery);
	assert_string_equal(cfg.idp.algorithms, "RS256,ES256");
	assert_int_equal(cfg.idp.leeway, 60);
	assert_false(cfg.tokens_may_mint);
	assert_false(cfg.dev_idp_enabled);
	assert_false(cfg.testing_enabled);

	struct config_errors errs = {0};
	assert_int_equal(config_validate(&cfg, &errs), 0);
	assert_int_equal(errs.count, 0);
}

/* The example file is the table printed: loading it must give the defaults exactly. */
static void test_example_round_trip(void **state)
{
	struct config want, got;
	struct config_errors errs = {0};
	char path[PATH_MAX], *text = NULL;
	size_t textsize = 0;
	FILE *f = open_memstream(&text, &textsize);

	assert_non_null(f);
	config_write_example(f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "[server]\n"));
	assert_non_null(strstr(text, "listen = 127.0.0.1:8080\n"));
	assert_non_null(strstr(text, "MGMTD_DEV_IDP_ENABLED"));
	assert_non_null(strstr(text, "[testing]\n"));

	config_defaults(&want);
	memset(&got, 0, sizeof(got));
	config_defaults(&got);
	/* start from other values so that the file must set every key */
	assert_int_equal(load_text(&got,
	                           "[server]\nlisten=h:1\nthreads=7\n[idp]\nalgorithms=ES384\n"
	                           "audience=x\n[auth]\ntokens_may_mint=yes\n",
	                           &errs, NULL),
	                 0);
	assert_int_not_equal(memcmp(&want, &got, sizeof(want)), 0);
	write_file(text, path);
	assert_int_equal(config_load_file(&got, path, &errs), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(errs.count, 0);
	/* the file names every key, so each counts as given; the values are the defaults */
	assert_true(config_given(&got, "server", "listen"));
	assert_true(config_given(&got, "auth", "failed_auth_burst"));
	memset(got.given, 0, sizeof(got.given));
	/* and each has the file's line as its origin, for messages about two keys */
	for (size_t i = 0; i < CONFIG_MAX_OPTIONS; i++)
		assert_true(got.origin[i] == NULL ||
		            (got.origin[i] == path && got.origin_line[i] > 0));
	memset(got.origin, 0, sizeof(got.origin));
	memset(got.origin_line, 0, sizeof(got.origin_line));
	/* the [idp] keys too: messages about an identity provider name their lines */
	for (size_t i = 0; i < CONFIG_IDP_KEYS; i++)
		assert_true(got.idp.origin[i] == NULL ||
		            (got.idp.origin[i] == path && got.idp.origin_line[i] > 0));
	{
		/* every [idp] key of the example has room for its origin (CONFIG_IDP_KEYS) */
		const char *p = strstr(text, "\n[idp]\n"), *end;
		size_t keys = 0;

		assert_non_null(p);
		end = strstr(p + 1, "\n[");
		assert_non_null(end);
		for (; p && p < end; p = strchr(p + 1, '\n'))
			keys += p[1] >= 'a' && p[1] <= 'z' && strchr(p + 1, '=') &&
			        strchr(p + 1, '=') < strchr(p + 1, '\n');
		assert_true(keys >= 8 && keys <= CONFIG_IDP_KEYS);
		for (size_t i = 0; i < keys; i++)
			assert_non_null(got.idp.origin[i]);
	}
	memset(got.idp.origin, 0, sizeof(got.idp.origin));
	memset(got.idp.origin_line, 0, sizeof(got.idp.origin_line));
	assert_memory_equal(&want, &got, sizeof(want));
	free(text);
}

static void test_full_file(void **state)
{
	struct config cfg;
	struct config_errors errs = {0};

	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg,
	                           "; a full file\n"
	                           "[server]\n"
	                           "listen = [::1]:9090\n"
	                           "data_dir = /srv/mgmtd\n"
	                           "threads = 8\n"
	                           "max_connections = 1000000\n"
	                           "request_timeout = 3600\n"
	                           "tls_cert = /etc/c.pem\n"
	                           "tls_key = /etc/k.pem\n"
	                           "[store]\n"
	                           "backend = postgres\n"
	                           "postgres_url = postgresql://u@h:5432/db\n"
	                           "postgres_pool = 16\n"
	                           "token_key_file = /etc/mgmtd/token.key\n"
	                           "keep_expired_days = 36500\n"
	                           "[idp]\n"
	                           "issuer = https://idp.example.test/\n"
	                           "audience = api://mgmtd\n"
	                           "jwks_file = /etc/jwks.json\n"
	                           "jwks_url = https://idp.example.test/jwks\n"
	                           "discovery = TRUE\n"
	                           "algorithms = RS384, RS512 ,ES384\n"
	                           "leeway = 0\n"
	                           "[auth]\n"
	                           "tokens_may_mint = On\n"
	                           "[dev_idp]\n"
	                           "enabled = 1\n"
	                           "[testing]\n"
	                           "enabled = yes\n",
	                           &errs, NULL),
	                 0);
	assert_int_equal(errs.count, 0);
	assert_string_equal(errs.text, "");
	assert_string_equal(cfg.listen, "[::1]:9090");
	assert_string_equal(cfg.data_dir, "/srv/mgmtd");
	assert_int_equal(cfg.threads, 8);
	assert_int_equal(cfg.max_connections, 1000000);
	assert_int_equal(cfg.request_timeout, 3600);
	assert_string_equal(cfg.tls_cert, "/etc/c.pem");
	assert_string_equal(cfg.tls_key, "/etc/k.pem");
	assert_string_equal(cfg.store_backend, "postgres");
	assert_string_equal(cfg.postgres_url, "postgresql://u@h:5432/db");
	assert_int_equal(cfg.postgres_pool, 16);
	assert_string_equal(cfg.token_key_file, "/etc/mgmtd/token.key");
	assert_int_equal(cfg.keep_expired_days, 36500);
	assert_string_equal(cfg.idp.issuer, "https://idp.example.test/");
	assert_string_equal(cfg.idp.audience, "api://mgmtd");
	assert_string_equal(cfg.idp.jwks_file, "/etc/jwks.json");
	assert_string_equal(cfg.idp.jwks_url, "https://idp.example.test/jwks");
	assert_true(cfg.idp.discovery);
	assert_string_equal(cfg.idp.algorithms, "RS384, RS512 ,ES384");
	assert_int_equal(cfg.idp.leeway, 0);
	assert_true(cfg.tokens_may_mint);
	assert_true(cfg.dev_idp_enabled);
	assert_true(cfg.testing_enabled);

	/* false spellings, and a later duplicate key wins */
	assert_int_equal(load_text(&cfg,
	                           "[idp]\ndiscovery = off\n[auth]\ntokens_may_mint = No\n"
	                           "[dev_idp]\nenabled = 0\n[testing]\nenabled = FALSE\n"
	                           "[server]\nthreads = 1\nthreads = 2\n",
	                           &errs, NULL),
	                 0);
	assert_false(cfg.idp.discovery);
	assert_false(cfg.tokens_may_mint);
	assert_false(cfg.dev_idp_enabled);
	assert_false(cfg.testing_enabled);
	assert_int_equal(cfg.threads, 2);
	assert_int_equal(errs.count, 0);
}

static void test_inline_comments(void **state)
{
	struct config cfg;
	struct config_errors errs = {0};

	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg,
	                           "# a comment\n"
	                           "   ; an indented comment\n"
	                           "[server]                ; the section\n"
	                           "listen = 127.0.0.1:9000        ; HOST:PORT\n"
	                           "data_dir = /d#x;y     # kept: no blank before\n"
	                           "threads = 4\t;tab before\r\n"
	                           "tls_cert =                      ; planned\n"
	                           "   max_connections = 5\n"
	                           "[idp]\n"
	                           "audience = a ; b ; c\n"
	                           "issuer=https://i/;x\n"
	                           "jwks_file=/j\n",
	                           &errs, NULL),
	                 0);
	assert_int_equal(errs.count, 0);
	assert_string_equal(cfg.listen, "127.0.0.1:9000");
	assert_string_equal(cfg.data_dir, "/d#x;y");
	assert_int_equal(cfg.threads, 4);
	assert_string_equal(cfg.tls_cert, "");
	assert_int_equal(cfg.max_connections, 5);
	assert_string_equal(cfg.idp.audience, "a");
	assert_string_equal(cfg.idp.issuer, "https://i/;x");

	/* the CONTRACT 8 example, as printed there, loads without a problem */
	assert_int_equal(
	    load_text(&cfg,
	              "[server]\n"
	              "listen = 127.0.0.1:8080        ; HOST:PORT, [::1]:PORT\n"
	              "data_dir = var                  ; database and token.key\n"
	              "tls_cert =                      ; planned: PEM files\n"
	              "tls_key =\n"
	              "[store]\n"
	              "backend = sqlite                ; sqlite | postgres\n"
	              "postgres_url =                  ; postgresql://user@host:port/db\n"
	              "postgres_pool = 0               ; connections per replica\n"
	              "[idp]\n"
	              "issuer = https://idp.example.test/   ; expected \"iss\"\n"
	              "algorithms = RS256,ES256             ; allow-list\n"
	              "[dev_idp]                ; a built-in test identity provider\n"
	              "enabled = false\n",
	              &errs, NULL),
	    0);
	assert_string_equal(cfg.listen, "127.0.0.1:8080");
	assert_string_equal(cfg.postgres_url, "");
	assert_string_equal(cfg.idp.issuer, "https://idp.example.test/");
}

static void test_bad_values(void **state)
{
	struct config cfg, before;
	struct config_errors errs = {0};
	char path[PATH_MAX];

	config_defaults(&cfg);
	before = cfg;
	assert_int_equal(load_text(&cfg,
	                           "[server]\n"
	                           "threads = x\n"                      /* 2 */
	                           "threads = 1025\n"                   /* 3 */
	                           "threads = -1\n"                     /* 4 */
	                           "max_connections = 0\n"              /* 5 */
	                           "request_timeout = 99999999999999\n" /* 6 */
	                           "request_timeout = 3x\n"             /* 7 */
	                           "listen = 127.0.0.1\n"               /* 8 */
	                           "listen = h:65536\n"                 /* 9 */
	                           "threads =\n"                        /* 10 */
	                           "threads = +5\n"                     /* 11 */
	                           "[store]\n"                          /* 12 */
	                           "backend = mysql\n"                  /* 13 */
	                           "keep_expired_days = 36501\n"        /* 14 */
	                           "[idp]\n"                            /* 15 */
	                           "discovery = maybe\n"                /* 16 */
	                           "algorithms = none\n"                /* 17 */
	                           "algorithms = RS256,HS256\n"         /* 18 */
	                           "algorithms = RS256,,ES256\n"        /* 19 */
	                           "algorithms = XYZ\n"                 /* 20 */
	                           "leeway = 3601\n"                    /* 21 */
	                           "[auth]\n"                           /* 22 */
	                           "tokens_may_mint = 2\n",             /* 23 */
	                           &errs, path),
	                 19);
	assert_int_equal(errs.count, 19);
	assert_has_line(&errs, "%s:2: [server] threads: not an integer between 0 and 1024: 'x'",
	                path);
	assert_has_line(&errs, "%s:3: [server] threads: not an integer between 0 and 1024: '1025'",
	                path);
	assert_has_line(&errs, "%s:4: [server] threads: not an integer", path);
	assert_has_line(&errs,
	                "%s:5: [server] max_connections: not an integer between 1 and 1000000: '0'",
	                path);
	assert_has_line(&errs, "%s:6: [server] request_timeout: not an integer between 1 and 3600",
	                path);
	assert_has_line(&errs, "%s:7: [server] request_timeout: not an integer", path);
	assert_has_line(&errs, "%s:8: [server] listen: not HOST:PORT or [V6]:PORT", path);
	assert_has_line(&errs, "%s:9: [server] listen: not HOST:PORT", path);
	assert_has_line(&errs, "%s:10: [server] threads: not an integer between 0 and 1024: ''",
	                path);
	assert_has_line(&errs, "%s:11: [server] threads: not an integer", path);
	assert_has_line(&errs, "%s:13: [store] backend: must be one of sqlite|postgres: 'mysql'",
	                path);
	assert_has_line(&errs, "%s:14: [store] keep_expired_days: not an integer between 0 and",
	                path);
	assert_has_line(&errs, "%s:16: [idp] discovery: not a boolean", path);
	assert_has_line(&errs, "%s:17: [idp] algorithms: 'none': would accept tokens without",
	                path);
	assert_has_line(&errs, "%s:18: [idp] algorithms: 'HS256': HMAC would", path);
	assert_has_line(&errs, "%s:19: [idp] algorithms: empty item in the list", path);
	assert_has_line(&errs, "%s:20: [idp] algorithms: 'XYZ': not one of", path);
	assert_has_line(&errs, "%s:21: [idp] leeway: not an integer between 0 and 3600", path);
	assert_has_line(&errs, "%s:23: [auth] tokens_may_mint: not a boolean", path);
	/* a refused value leaves the field as it was */
	assert_memory_equal(&cfg, &before, sizeof(cfg));
}

static void test_value_too_long(void **state)
{
	struct config cfg;
	struct config_errors errs = {0};
	char path[PATH_MAX], *text = malloc(3 * PATH_MAX), longval[600];
	size_t i;

	assert_non_null(text);
	config_defaults(&cfg);

	/* longer than inih's line buffer, shorter than the field: accepted whole */
	for (i = 0; i < sizeof(longval) - 1; i++)
		longval[i] = (char)('a' + i % 26);
	longval[0] = '/';
	longval[sizeof(longval) - 1] = '\0';
	snprintf(text, 3 * PATH_MAX, "[idp]\njwks_file = %s   ; c\nbogus = %s\n%s = 1\n", longval,
	         longval, longval);
	assert_int_equal(load_text(&cfg, text, &errs, path), 2);
	assert_string_equal(cfg.idp.jwks_file, longval);
	assert_has_line(&errs, "%s:3: unknown key 'bogus' in [idp]", path);
	/* a key name longer than inih's line buffer */
	assert_has_line(&errs, "%s:4: unknown key '/bcdefg", path);
	assert_non_null(strstr(errs.text, "...' in [idp]\n"));

	/* longer than the field: refused, and the value is not echoed */
	memset(&errs, 0, sizeof(errs));
	memset(longval, 'u', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	snprintf(text, 3 * PATH_MAX, "[idp]\n\naudience = %s%s\nleeway = x\n", longval, longval);
	assert_int_equal(load_text(&cfg, text, &errs, path), 2);
	assert_has_line(&errs, "%s:3: [idp] audience: too long (at most 1023 bytes)", path);
	assert_has_line(&errs, "%s:4: [idp] leeway", path);
	assert_string_equal(cfg.idp.audience, "mgmtd");
	assert_null(strstr(errs.text, "uuuu"));
	free(text);
}

static void test_unknown_and_syntax(void **state)
{
	struct config cfg;
	struct config_errors errs = {0};
	char path[PATH_MAX];

	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg,
	                           "stray = 1\n"           /* 1 */
	                           "[server]\n"            /* 2 */
	                           "bar = 1\n"             /* 3 */
	                           "\n"                    /* 4 */
	                           "[foo]\n"               /* 5 */
	                           "listen = 1.2.3.4:5\n"  /* 6: not reported, [foo] was */
	                           "[server]\n"            /* 7 */
	                           "this is not a pair\n"  /* 8 */
	                           "threads = 3\n"         /* 9 */
	                           "[idp\n"                /* 10 */
	                           "leeway = 1\n"          /* 11 */
	                           "[idp] junk\n"          /* 12 */
	                           "[idp NAME]\n"          /* 13 */
	                           "[idp]\n"               /* 14 */
	                           "LEEWAY = 2\n"          /* 15 */
	                           "another bad line\n"    /* 16 */
	                           "algorithms = ES384\n", /* 17 */
	                           &errs, path),
	                 9);
	assert_int_equal(errs.count, 9);
	assert_has_line(&errs, "%s:1: key 'stray' is outside any section", path);
	assert_has_line(&errs, "%s:3: unknown key 'bar' in [server]", path);
	assert_has_line(&errs, "%s:5: unknown section [foo]", path);
	assert_has_line(&errs, "%s:8: syntax error", path);
	assert_has_line(&errs, "%s:10: syntax error", path);
	assert_has_line(&errs, "%s:12: syntax error", path);
	assert_has_line(&errs, "%s:13: [idp NAME]: a section name takes only a-z, 0-9", path);
	assert_has_line(&errs, "%s:15: unknown key 'LEEWAY' in [idp]", path);
	assert_has_line(&errs, "%s:16: syntax error", path);
	/* good lines among bad ones still apply; keys under bad headers do not */
	assert_int_equal(cfg.threads, 3);
	assert_string_equal(cfg.listen, "127.0.0.1:8080");
	assert_int_equal(cfg.idp.leeway, 60);
	assert_string_equal(cfg.idp.algorithms, "ES384");
	/* messages come in file order */
	assert_true(strstr(errs.text, ":3: ") < strstr(errs.text, ":5: "));
	assert_true(strstr(errs.text, ":12: ") < strstr(errs.text, ":16: "));
}

static void test_errors_bounded(void **state)
{
	struct config cfg;
	struct config_errors errs = {0};
	size_t size = 64 + 1000 * 16, len = 0;
	char *text = malloc(size);

	assert_non_null(text);
	len += (size_t)snprintf(text, size, "[server]\n");
	for (int i = 0; i < 1000; i++)
		len += (size_t)snprintf(text + len, size - len, "nokey%d = 1\n", i);
	len += (size_t)snprintf(text + len, size - len, "threads = 9\n");
	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg, text, &errs, NULL), 1000);
	assert_int_equal(errs.count, 1000);
	assert_true(strlen(errs.text) < sizeof(errs.text));
	assert_non_null(strstr(errs.text, "nokey0'"));
	assert_null(strstr(errs.text, "nokey999'"));
	len = strlen(errs.text);
	assert_string_equal(errs.text + len - strlen("(further problems not shown)\n"),
	                    "(further problems not shown)\n");
	assert_int_equal(cfg.threads, 9);

	/* a full buffer still counts */
	assert_int_equal(config_set(&cfg, "server", "threads", "x", "--threads", &errs), 1);
	assert_int_equal(errs.count, 1001);
	assert_int_equal(strlen(errs.text), len);
	free(text);
}

static void test_missing_file(void **state)
{
	struct config cfg;
	struct config_errors errs = {0};
	char path[PATH_MAX];

	config_defaults(&cfg);
	snprintf(path, sizeof(path), "%s/does-not-exist.ini", tmpdir);
	assert_int_equal(config_load_file(&cfg, path, &errs), 1);
	assert_int_equal(errs.count, 1);
	assert_has_line(&errs, "%s: cannot open: No such file or directory", path);

	/* a directory opens but cannot be read */
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(config_load_file(&cfg, tmpdir, &errs), 1);
	assert_has_line(&errs, "%s: cannot read: ", tmpdir);

	/* an empty file is fine */
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(load_text(&cfg, "", &errs, NULL), 0);
	assert_int_equal(errs.count, 0);
}

static void test_env_and_flags(void **state)
{
	struct config cfg;
	struct config_errors errs = {0};

	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg,
	                           "[server]\nlisten = 127.0.0.1:1\nthreads = 2\n"
	                           "[idp]\njwks_file = /file\n[dev_idp]\nenabled = false\n",
	                           &errs, NULL),
	                 0);

	/* nothing set: nothing changes */
	assert_int_equal(config_apply_env(&cfg, &errs), 0);
	assert_string_equal(cfg.listen, "127.0.0.1:1");

	assert_int_equal(setenv("MGMTD_SERVER_LISTEN", "127.0.0.1:2", 1), 0);
	assert_int_equal(setenv("MGMTD_IDP_JWKS_FILE", "/env", 1), 0);
	assert_int_equal(setenv("MGMTD_DEV_IDP_ENABLED", "true", 1), 0);
	assert_int_equal(config_apply_env(&cfg, &errs), 0);
	assert_string_equal(cfg.listen, "127.0.0.1:2");
	assert_string_equal(cfg.idp.jwks_file, "/env");
	assert_true(cfg.dev_idp_enabled);
	assert_int_equal(cfg.threads, 2);

	/* a flag beats the environment */
	assert_int_equal(config_set(&cfg, "server", "listen", "[::1]:3", "--listen", &errs), 0);
	assert_string_equal(cfg.listen, "[::1]:3");

	/* bad values name their source (the listen variable would win over the flag again) */
	assert_int_equal(unsetenv("MGMTD_SERVER_LISTEN"), 0);
	assert_int_equal(setenv("MGMTD_SERVER_THREADS", "many", 1), 0);
	assert_int_equal(setenv("MGMTD_IDP_ALGORITHMS", "HS256", 1), 0);
	assert_int_equal(config_apply_env(&cfg, &errs), 2);
	assert_has_line(
	    &errs, "environment MGMTD_SERVER_THREADS: not an integer between 0 and 1024: 'many'");
	assert_has_line(&errs, "environment MGMTD_IDP_ALGORITHMS: 'HS256': HMAC");
	assert_int_equal(cfg.threads, 2);
	assert_string_equal(cfg.idp.algorithms, "RS256,ES256");

	assert_int_equal(config_set(&cfg, "server", "listen", "nope", "--listen", &errs), 1);
	assert_has_line(&errs, "--listen: not HOST:PORT or [V6]:PORT with a port from 0 to 65535: "
	                       "'nope'");
	assert_string_equal(cfg.listen, "[::1]:3");
	assert_int_equal(config_set(&cfg, "server", "nope", "1", "--nope", &errs), 1);
	assert_has_line(&errs, "--nope: unknown option [server] nope");
	assert_int_equal(config_set(&cfg, "server", "data_dir", "/x", "--data-dir", &errs), 0);
	assert_string_equal(cfg.data_dir, "/x");
	assert_int_equal(config_set(&cfg, "server", "threads", "-3", NULL, &errs), 1);
	assert_has_line(&errs, "[server] threads: not an integer");
	assert_int_equal(errs.count, 5);
	clear_env();
}

static void test_validate(void **state)
{
	struct config cfg;
	struct config_errors errs = {0};

	config_defaults(&cfg);
	strcpy(cfg.tls_key, "/k");
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[server] tls_cert and tls_key: set both (HTTPS) or neither (HTTP)");
	strcpy(cfg.tls_cert, "/c");
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(config_validate(&cfg, &errs), 0);
	assert_true(config_tls(&cfg));

	/* [log] level in any case; [metrics] listen only with enabled, and a good address */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	strcpy(cfg.log_level, "WARN");
	strcpy(cfg.metrics_listen, "127.0.0.1:9100");
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[metrics] listen: set only with enabled = true");
	cfg.metrics_enabled = true;
	strcpy(cfg.log_level, "loud");
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[log] level: must be one of debug|info|warn|error");
	strcpy(cfg.log_level, "debug");
	strcpy(cfg.metrics_listen, "nope");
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[metrics] listen: not HOST:PORT");
	/* in a file, a bad one is refused at its line and the field keeps its empty default */
	{
		char path[PATH_MAX];

		config_defaults(&cfg);
		memset(&errs, 0, sizeof(errs));
		assert_int_equal(
		    load_text(&cfg, "[metrics]\nenabled = true\nlisten = nope\n", &errs, path), 1);
		assert_has_line(&errs, "%s:3: [metrics] listen: not HOST:PORT", path);
		assert_string_equal(cfg.metrics_listen, "");
		/* empty is its default: the main listener */
		assert_int_equal(
		    load_text(&cfg, "[metrics]\nenabled = true\nlisten =\n", &errs, NULL), 0);
		assert_string_equal(cfg.metrics_listen, "");
		/* [server] listen has a default, so empty is no listener there */
		assert_int_equal(load_text(&cfg, "[server]\nlisten =\n", &errs, NULL), 1);
		assert_string_equal(cfg.listen, "127.0.0.1:8080");
	}

	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	strcpy(cfg.store_backend, "postgres");
	strcpy(cfg.idp.issuer, "https://i/");
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[idp]: no keys for issuer; set one of jwks_file, jwks_url or "
	                       "discovery = true");

	/* postgres keeps no SQLite store, so :memory: has nothing to hold */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	strcpy(cfg.store_backend, "postgres");
	strcpy(cfg.data_dir, ":memory:");
	cfg.postgres_pool = 4;
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[server] data_dir: :memory: keeps a SQLite store in memory; with "
	                       "[store] backend = postgres set a data directory");

	/* postgres settings without backend = postgres would be ignored: refused instead */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	cfg.postgres_pool = 4;
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[store] postgres_pool: set, but backend is sqlite");

	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	strcpy(cfg.postgres_url, "postgresql://u:secret@h/db");
	strcpy(cfg.idp.jwks_file, "/j");
	cfg.keep_expired_days = 7; /* built: retention */
	cfg.keep_audit_days = 30;
	assert_int_equal(config_validate(&cfg, &errs), 2);
	assert_has_line(&errs, "[store] postgres_url: set, but backend is sqlite; set backend = "
	                       "postgres");
	assert_has_line(&errs, "[idp] issuer: required with jwks_file, jwks_url or discovery");
	assert_null(strstr(errs.text, "secret"));
	/* the data directory's form is its descriptor's, checked before the rest */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	cfg.data_dir[0] = '\0';
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[server] data_dir: must not be empty");

	/* what used to be planned is built: jwks_url, discovery, [dev_idp], [testing] */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	strcpy(cfg.idp.issuer, "https://i/");
	strcpy(cfg.idp.jwks_url, "https://i/jwks");
	cfg.dev_idp_enabled = true;
	cfg.testing_enabled = true;
	assert_int_equal(config_validate(&cfg, &errs), 0);
	strcpy(cfg.idp.jwks_url, "");
	cfg.idp.discovery = true;
	assert_int_equal(config_validate(&cfg, &errs), 0);

	/* exactly one source of keys */
	strcpy(cfg.idp.jwks_file, "/j");
	strcpy(cfg.idp.jwks_url, "https://i/jwks");
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[idp]: jwks_file, jwks_url and discovery exclude each other");

	/* keys over plain HTTP only from this machine */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	strcpy(cfg.idp.issuer, "http://idp.example.test/");
	strcpy(cfg.idp.jwks_url, "http://idp.example.test/jwks");
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[idp] jwks_url: must be an https:// URL (http:// only to "
	                       "127.0.0.1, [::1] or localhost)");
	strcpy(cfg.idp.jwks_url, "");
	cfg.idp.discovery = true;
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[idp] discovery: the issuer must be an https:// URL");
	strcpy(cfg.idp.issuer, "http://127.0.0.1:9999");
	assert_int_equal(config_validate(&cfg, NULL), 0);

	/* :memory: writes no file, so no key file either */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	strcpy(cfg.data_dir, ":memory:");
	assert_int_equal(config_validate(&cfg, &errs), 0);
	strcpy(cfg.token_key_file, "/k");
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[store] token_key_file: not with data_dir = :memory:");

	/* the dev IdP */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	cfg.dev_idp_enabled = true;
	strcpy(cfg.dev_idp_issuer, "dev-idp");
	cfg.dev_idp_audience[0] = '\0';
	assert_int_equal(config_validate(&cfg, &errs), 2);
	assert_has_line(&errs, "[dev_idp] issuer: must be an http:// or https:// URL");
	assert_has_line(&errs, "[dev_idp] audience: must not be empty");
	strcpy(cfg.dev_idp_issuer, "http://dev.test");
	strcpy(cfg.dev_idp_audience, "mgmtd");
	strcpy(cfg.idp.issuer, "http://dev.test");
	strcpy(cfg.idp.jwks_file, "/j");
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[idp] issuer: the same as [dev_idp] issuer");

	/* fields written directly are still checked against the table */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	cfg.threads = 5000;
	strcpy(cfg.listen, "nope");
	strcpy(cfg.idp.algorithms, "none");
	strcpy(cfg.store_backend, "mysql");
	assert_int_equal(config_validate(&cfg, &errs), 4);
	assert_has_line(&errs, "[server] threads: not between 0 and 1024: 5000");
	assert_has_line(&errs, "[server] listen: ");
	assert_has_line(&errs, "[idp] algorithms: 'none'");
	assert_has_line(&errs, "[store] backend: must be one of sqlite|postgres");

	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	memset(cfg.idp.audience, 'a', sizeof(cfg.idp.audience));
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[idp] audience: not a terminated string");

	/* and so are the named sections' */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	cfg.idp_count = 1;
	strcpy(cfg.idps[0].name, "x");
	strcpy(cfg.idps[0].algorithms, "HS256");
	assert_true(config_validate(&cfg, &errs) >= 1);
	assert_has_line(&errs, "[idp x] algorithms: 'HS256'");
	cfg.idp_count = CONFIG_MAX_IDPS + 1;
	assert_true(config_validate(&cfg, &errs) >= 1);
	assert_has_line(&errs, "[idp NAME]: the section count");
}

static void test_named_sections(void **state)
{
	static struct config cfg;
	struct config_errors errs = {0};
	const struct idp_config *idps[CONFIG_MAX_IDPS + 1];
	char path[PATH_MAX];

	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg,
	                           "[idp]\n"                                  /* 1 */
	                           "issuer = https://plain.test/\n"           /* 2 */
	                           "jwks_file = /plain.json\n"                /* 3 */
	                           "[idp auth0]\n"                            /* 4 */
	                           "issuer = https://tenant.auth0.test/\n"    /* 5 */
	                           "jwks_url = https://tenant.auth0.test/k\n" /* 6 */
	                           "leeway = 5\n"                             /* 7 */
	                           "[idp  key-cloak ]\n"                      /* 8 */
	                           "issuer = https://kc.test/realms/r\n"      /* 9 */
	                           "discovery = yes\n"                        /* 10 */
	                           "algorithms = RS512\n"                     /* 11 */
	                           "[server]\n"                               /* 12 */
	                           "threads = 4\n"                            /* 13 */
	                           "[idp auth0]\n"                            /* 14: reopened */
	                           "audience = api://mgmtd\n",                /* 15 */
	                           &errs, path),
	                 0);
	assert_int_equal(cfg.idp_count, 2);
	/* each section starts from the [idp] defaults, not from [idp] */
	assert_string_equal(cfg.idps[0].name, "auth0");
	assert_string_equal(cfg.idps[0].issuer, "https://tenant.auth0.test/");
	assert_string_equal(cfg.idps[0].jwks_url, "https://tenant.auth0.test/k");
	assert_string_equal(cfg.idps[0].jwks_file, "");
	assert_string_equal(cfg.idps[0].audience, "api://mgmtd");
	assert_string_equal(cfg.idps[0].algorithms, "RS256,ES256");
	assert_int_equal(cfg.idps[0].leeway, 5);
	assert_string_equal(cfg.idps[1].name, "key-cloak");
	assert_true(cfg.idps[1].discovery);
	assert_string_equal(cfg.idps[1].algorithms, "RS512");
	assert_int_equal(cfg.idps[1].leeway, 60);
	assert_string_equal(cfg.idp.issuer, "https://plain.test/");
	assert_string_equal(cfg.idp.audience, "mgmtd");
	assert_int_equal(cfg.idp.leeway, 60);
	assert_int_equal(cfg.threads, 4);
	assert_int_equal(config_validate(&cfg, &errs), 0);

	/* the plain section first, then the named ones in file order */
	assert_int_equal(config_idps(&cfg, idps, CONFIG_MAX_IDPS + 1), 3);
	assert_ptr_equal(idps[0], &cfg.idp);
	assert_ptr_equal(idps[1], &cfg.idps[0]);
	assert_ptr_equal(idps[2], &cfg.idps[1]);
	assert_int_equal(config_idps(&cfg, idps, 1), 1);

	/* the environment reaches the named sections the file has */
	assert_int_equal(setenv("MGMTD_IDP_AUTH0_LEEWAY", "7", 1), 0);
	assert_int_equal(setenv("MGMTD_IDP_KEY_CLOAK_AUDIENCE", "kc-aud", 1), 0);
	assert_int_equal(setenv("MGMTD_IDP_KEY_CLOAK_LEEWAY", "x", 1), 0);
	assert_int_equal(setenv("MGMTD_IDP_AUTH0_TRUST_EMAIL", "true", 1), 0);
	assert_false(cfg.idps[0].trust_email); /* off unless a provider's section says so */
	assert_int_equal(config_apply_env(&cfg, &errs), 1);
	assert_has_line(&errs, "environment MGMTD_IDP_KEY_CLOAK_LEEWAY: not an integer");
	assert_int_equal(cfg.idps[0].leeway, 7);
	assert_true(cfg.idps[0].trust_email);
	assert_false(cfg.idps[1].trust_email);
	assert_false(cfg.idp.trust_email);
	assert_string_equal(cfg.idps[1].audience, "kc-aud");
	assert_int_equal(cfg.idp.leeway, 60);
	clear_env();

	/* messages name the section */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(load_text(&cfg,
	                           "[idp a]\n"       /* 1 */
	                           "leeway = -1\n"   /* 2 */
	                           "tls_cert = x\n"  /* 3 */
	                           "[idp Upper]\n"   /* 4 */
	                           "issuer = lost\n" /* 5: under a refused header */
	                           "[idp a_b]\n"     /* 6 */
	                           "[idp a-b]\n"     /* 7: same environment names */
	                           "[idp ]\n"        /* 8 */
	                           "[idp 123456789012345678901234567890123]\n" /* 9 */
	                           "[idp dev_idp]\n", /* 10: users name the dev IdP so */
	                           &errs, path),
	                 7);
	assert_has_line(&errs, "%s:2: [idp a] leeway: not an integer between 0 and 3600", path);
	assert_has_line(&errs, "%s:3: unknown key 'tls_cert' in [idp a]", path);
	assert_has_line(&errs, "%s:4: [idp Upper]: a section name takes only", path);
	assert_has_line(&errs, "%s:7: [idp a-b]: too like [idp a_b]", path);
	assert_has_line(&errs, "%s:8: [idp ]: the section name is empty", path);
	assert_has_line(&errs, "%s:9: [idp 1234", path);
	assert_has_line(&errs, "%s:10: [idp dev_idp]: dev_idp names the built-in dev IdP", path);
	assert_int_equal(cfg.idp_count, 2);

	/* a named section needs an issuer and exactly one source; issuers are unique */
	memset(&errs, 0, sizeof(errs));
	if (config_validate(&cfg, &errs) != 2)
		fail_msg("%s", errs.text);
	assert_has_line(&errs, "[idp a] issuer: required");
	assert_has_line(&errs, "[idp a_b] issuer: required");
	strcpy(cfg.idps[0].issuer, "https://same/");
	strcpy(cfg.idps[1].issuer, "https://same/");
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(config_validate(&cfg, &errs), 3);
	assert_has_line(&errs, "[idp a]: no keys for issuer");
	assert_has_line(&errs, "[idp a_b] issuer: the same as in [idp a]");
	strcpy(cfg.idps[0].jwks_file, "/a");
	strcpy(cfg.idps[1].jwks_file, "/b");
	strcpy(cfg.idps[1].issuer, "https://other/");
	assert_int_equal(config_validate(&cfg, NULL), 0);

	/* at most CONFIG_MAX_IDPS */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	{
		char text[4096] = "";

		for (int i = 0; i <= CONFIG_MAX_IDPS; i++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text),
			         "[idp n%d]\nleeway = 1\n", i);
		assert_int_equal(load_text(&cfg, text, &errs, path), 1);
		assert_has_line(&errs, "%s:%d: more than %d [idp NAME] sections", path,
		                2 * CONFIG_MAX_IDPS + 1, CONFIG_MAX_IDPS);
		assert_int_equal(cfg.idp_count, CONFIG_MAX_IDPS);
	}
}

static void test_url_allowed(void **state)
{
	static const char *const good[] = {
	    "https://idp.example.test/.well-known/jwks.json",
	    "https://idp.example.test",
	    "HTTPS://idp:8443/x?y#z",
	    "http://127.0.0.1:8080/jwks",
	    "http://localhost/jwks",
	    "http://LOCALHOST:1",
	    "http://[::1]:8080/jwks",
	    "http://127.0.0.1",
	};
	static const char *const bad[] = {
	    "",
	    "ftp://idp/",
	    "file:///etc/passwd",
	    "http://idp.example.test/jwks",
	    "http://127.0.0.2/jwks",
	    "http://127.0.0.1.evil.test/jwks",
	    "http://localhost.evil.test/",
	    "http://[::2]/",
	    "http://[::1/",
	    "http://user@127.0.0.1/",
	    "https://user:pw@idp.example.test/",
	    "https://",
	    "https:///path",
	    "https://idp.example.test/a b",
	    "idp.example.test/jwks",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!config_url_allowed(good[i]))
			fail_msg("refused: %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (config_url_allowed(bad[i]))
			fail_msg("allowed: %s", bad[i]);
	assert_false(config_url_allowed(NULL));
}

static void test_memory_and_dev_idp(void **state)
{
	struct config cfg;
	char out[PATH_MAX], issuer[256];

	config_defaults(&cfg);
	assert_false(config_in_memory(&cfg));
	config_dev_idp_key_path(&cfg, out);
	assert_string_equal(out, "var/dev-idp.key");
	strcpy(cfg.data_dir, ":memory:");
	assert_true(config_in_memory(&cfg));
	config_db_path(&cfg, out);
	assert_string_equal(out, "");
	config_token_key_path(&cfg, out);
	assert_string_equal(out, "");
	config_dev_idp_key_path(&cfg, out);
	assert_string_equal(out, "");

	/* the dev IdP's issuer: this server's URL unless set */
	assert_int_equal(config_dev_idp_issuer(&cfg, 0, issuer, sizeof(issuer)), 0);
	assert_string_equal(issuer, "http://127.0.0.1:8080");
	strcpy(cfg.listen, "127.0.0.1:0");
	assert_int_equal(config_dev_idp_issuer(&cfg, 0, issuer, sizeof(issuer)), -1);
	assert_int_equal(config_dev_idp_issuer(&cfg, 4321, issuer, sizeof(issuer)), 0);
	assert_string_equal(issuer, "http://127.0.0.1:4321");
	strcpy(cfg.listen, "[::1]:0");
	assert_int_equal(config_dev_idp_issuer(&cfg, 9, issuer, sizeof(issuer)), 0);
	assert_string_equal(issuer, "http://[::1]:9");
	assert_int_equal(config_dev_idp_issuer(&cfg, 9, issuer, 10), -1);
	strcpy(cfg.dev_idp_issuer, "https://dev.test");
	assert_int_equal(config_dev_idp_issuer(&cfg, 0, issuer, sizeof(issuer)), 0);
	assert_string_equal(issuer, "https://dev.test");
}

static void test_paths(void **state)
{
	struct config cfg;
	char out[PATH_MAX];

	config_defaults(&cfg);
	config_db_path(&cfg, out);
	assert_string_equal(out, "var/mgmtd.db");
	config_token_key_path(&cfg, out);
	assert_string_equal(out, "var/token.key");
	strcpy(cfg.data_dir, "/srv/m/");
	config_db_path(&cfg, out);
	assert_string_equal(out, "/srv/m/mgmtd.db");
	strcpy(cfg.token_key_file, "/etc/k");
	config_token_key_path(&cfg, out);
	assert_string_equal(out, "/etc/k");

	/* too long: no overflow, and no cut path that names another file */
	memset(cfg.data_dir, 'd', PATH_MAX - 3);
	cfg.data_dir[PATH_MAX - 3] = '\0';
	config_db_path(&cfg, out);
	assert_string_equal(out, "");
	cfg.token_key_file[0] = '\0';
	config_token_key_path(&cfg, out);
	assert_string_equal(out, "");

	struct config_errors errs = {0};
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "[server] data_dir: too long");
}

static void test_split_listen(void **state)
{
	char host[64];
	unsigned port = 1234;
	static const char *const bad[] = {
	    "127.0.0.1", ":80",    "[::1]80", "h:65536", "h:-1",   "h:8x",          "h:",
	    "[]:80",     "::1:80", "[::1",    "h :80",   "h:+80",  "h:000080",      "",
	    "[::1]:",    "a:b:c",  "h:80 ",   "[a]b]:1", "h/x:80", "h:99999999999",
	};

	assert_int_equal(config_split_listen("127.0.0.1:8080", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_int_equal(config_split_listen("[::1]:9", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9);
	assert_int_equal(config_split_listen("localhost:0", host, sizeof(host), &port), 0);
	assert_string_equal(host, "localhost");
	assert_int_equal(port, 0);
	assert_int_equal(config_split_listen("h:65535", host, sizeof(host), &port), 0);
	assert_int_equal(port, 65535);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (config_split_listen(bad[i], host, sizeof(host), &port) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* the host must fit the caller's buffer */
	assert_int_equal(config_split_listen("abcdefgh:1", host, 8, &port), -1);
	assert_int_equal(config_split_listen("abcdefg:1", host, 8, &port), 0);
	assert_string_equal(host, "abcdefg");
}

static void test_algorithm_mask(void **state)
{
	unsigned mask = 0;
	static const char *const bad[] = {"none", "HS256", "HS384", "HS512",  "RS256,,ES256", "XYZ",
	                                  "",     "ES512", " , ",   "RS256,", "RS256 ES256"};

	assert_int_equal(config_algorithm_mask("RS256, ES256", &mask), 0);
	assert_int_equal(mask, (1u << JWT_ALG_RS256) | (1u << JWT_ALG_ES256));
	assert_int_equal(config_algorithm_mask("RS256,RS384,RS512,ES256,ES384", &mask), 0);
	assert_int_equal(mask, (1u << JWT_ALG_RS256) | (1u << JWT_ALG_RS384) |
	                           (1u << JWT_ALG_RS512) | (1u << JWT_ALG_ES256) |
	                           (1u << JWT_ALG_ES384));
	assert_false(mask & (1u << JWT_ALG_NONE));
	assert_int_equal(config_algorithm_mask(" ES384 ", &mask), 0);
	assert_int_equal(mask, 1u << JWT_ALG_ES384);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mask = 12345;
		if (config_algorithm_mask(bad[i], &mask) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(mask, 12345);
	}
}

/*
 * Testing mode turns throttling off unless a failed_auth_* option was given,
 * by the file, the environment or a flag; a default never counts as given.
 */
static void test_testing_mode_throttle(void **state)
{
	struct config cfg;
	struct config_errors errs = {0};

	config_defaults(&cfg);
	assert_false(config_given(&cfg, "auth", "failed_auth_burst"));
	assert_int_equal(config_failed_auth_burst(&cfg), 20); /* production default */

	assert_int_equal(load_text(&cfg, "[testing]\nenabled = true\n", &errs, NULL), 0);
	assert_true(config_given(&cfg, "testing", "enabled"));
	assert_int_equal(config_failed_auth_burst(&cfg), 0);

	/* an explicit burst, even the default value, keeps throttling on */
	assert_int_equal(load_text(&cfg, "[auth]\nfailed_auth_burst = 20\n", &errs, NULL), 0);
	assert_int_equal(config_failed_auth_burst(&cfg), 20);

	/* any of the three keys counts */
	config_defaults(&cfg);
	assert_int_equal(
	    load_text(&cfg, "[testing]\nenabled = true\n[auth]\nfailed_auth_per_minute = 5\n",
	              &errs, NULL),
	    0);
	assert_int_equal(config_failed_auth_burst(&cfg), 20);

	/* the environment and flags count too */
	config_defaults(&cfg);
	setenv("MGMTD_TESTING_ENABLED", "true", 1);
	assert_int_equal(config_apply_env(&cfg, &errs), 0);
	assert_int_equal(config_failed_auth_burst(&cfg), 0);
	setenv("MGMTD_AUTH_FAILED_AUTH_BURST", "7", 1);
	assert_int_equal(config_apply_env(&cfg, &errs), 0);
	assert_int_equal(config_failed_auth_burst(&cfg), 7);
	clear_env();

	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "testing", "enabled", "true", "--flag", &errs), 0);
	assert_int_equal(config_failed_auth_burst(&cfg), 0);
	assert_int_equal(config_set(&cfg, "auth", "failed_auth_burst", "3", "--flag", &errs), 0);
	assert_int_equal(config_failed_auth_burst(&cfg), 3);

	/* a refused value is not "given" */
	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "testing", "enabled", "true", "--flag", &errs), 0);
	assert_int_equal(config_set(&cfg, "auth", "failed_auth_burst", "-1", "--flag", &errs), 1);
	assert_false(config_given(&cfg, "auth", "failed_auth_burst"));
	assert_int_equal(config_failed_auth_burst(&cfg), 0);
	assert_false(config_given(&cfg, "no", "such"));
}

/* [server] trusted_proxies is checked by proxies.h's reader at every source. */
static void test_trusted_proxies(void **state)
{
	struct config cfg;
	struct config_errors errs = {0};

	(void)state;
	config_defaults(&cfg);
	assert_string_equal(cfg.trusted_proxies, "");
	assert_int_equal(config_set(&cfg, "server", "trusted_proxies", "127.0.0.1, 10.0.0.0/8 ::1",
	                            "--x", &errs),
	                 0);
	assert_string_equal(cfg.trusted_proxies, "127.0.0.1, 10.0.0.0/8 ::1");
	assert_int_equal(config_set(&cfg, "server", "trusted_proxies", "10.0.0.1/8", "--x", &errs),
	                 1);
	assert_has_line(&errs, "--x: the address has bits set past its prefix: '10.0.0.1/8'");
	assert_int_equal(
	    config_set(&cfg, "server", "trusted_proxies", "proxy.example", "--x", &errs), 1);
	assert_has_line(&errs, "--x: not an IPv4 or IPv6 address: 'proxy.example'");
	assert_string_equal(cfg.trusted_proxies, "127.0.0.1, 10.0.0.0/8 ::1");
	assert_int_equal(config_validate(&cfg, &errs), 0);
	/* a value written into the struct directly is rechecked */
	snprintf(cfg.trusted_proxies, sizeof(cfg.trusted_proxies), "%s", "::1/200");
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs,
	                "[server] trusted_proxies: a prefix longer than 128 bits: '::1/200'");
}

/*
 * The rules of one key (URLs, the UI's texts, the dev IdP's audience, the data
 * directory) are the descriptor's: a file's bad value names its line, and is
 * not applied, like any other bad value.
 */
static void test_one_key_rules_name_their_line(void **state)
{
	static struct config cfg;
	struct config_errors errs = {0};
	char path[PATH_MAX];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg,
	                           "[idp]\n"                                   /* 1 */
	                           "jwks_url = http://idp.example.test/keys\n" /* 2 */
	                           "[dev_idp]\n"                               /* 3 */
	                           "issuer = ftp://dev.test\n"                 /* 4 */
	                           "audience =\n"                              /* 5 */
	                           "[ui]\n"                                    /* 6 */
	                           "scopes = openid <email>\n"                 /* 7 */
	                           "[server]\n"                                /* 8 */
	                           "data_dir =\n",                             /* 9 */
	                           &errs, path),
	                 5);
	assert_has_line(&errs,
	                "%s:2: [idp] jwks_url: must be an https:// URL (http:// only to "
	                "127.0.0.1, [::1] or localhost)",
	                path);
	assert_has_line(&errs, "%s:4: [dev_idp] issuer: must be an http:// or https:// URL", path);
	assert_has_line(&errs, "%s:5: [dev_idp] audience: must not be empty", path);
	assert_has_line(&errs, "%s:7: [ui] scopes: printable ASCII without quotes", path);
	assert_has_line(&errs, "%s:9: [server] data_dir: must not be empty", path);
	/* none was applied */
	assert_string_equal(cfg.idp.jwks_url, "");
	assert_string_equal(cfg.dev_idp_issuer, "");
	assert_string_equal(cfg.dev_idp_audience, "mgmtd");
	assert_string_equal(cfg.ui_scopes, "openid email");
	assert_string_equal(cfg.data_dir, "var");
	/* the good forms pass */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(load_text(&cfg,
	                           "[idp]\nissuer = https://i/\njwks_url = http://127.0.0.1:1/k\n"
	                           "[dev_idp]\nissuer = https://dev.test\n",
	                           &errs, NULL),
	                 0);
	assert_int_equal(config_validate(&cfg, &errs), 0);
}

/* Problems of an identity provider section name the lines of its keys, of both sections. */
static void test_identity_provider_problems_name_their_lines(void **state)
{
	static struct config cfg;
	struct config_errors errs = {0};
	char path[PATH_MAX];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(load_text_at(&cfg,
	                              "[idp]\n"                       /* 1 */
	                              "issuer = https://same/\n"      /* 2 */
	                              "jwks_file = /a\n"              /* 3 */
	                              "jwks_url = https://same/k\n"   /* 4 */
	                              "[idp b]\n"                     /* 5 */
	                              "issuer = https://same/\n"      /* 6 */
	                              "[idp c]\n"                     /* 7 */
	                              "discovery = true\n"            /* 8 */
	                              "issuer = http://c.example/\n", /* 9 */
	                              &errs, path),
	                 0);
	assert_int_equal(config_validate(&cfg, &errs), 4);
	assert_has_line(&errs,
	                "%s:3, %s:4: [idp]: jwks_file, jwks_url and discovery exclude each other",
	                path, path);
	assert_has_line(&errs, "%s:6: [idp b]: no keys for issuer", path);
	assert_has_line(&errs, "%s:2, %s:6: [idp b] issuer: the same as in [idp]", path, path);
	assert_has_line(&errs, "%s:8, %s:9: [idp c] discovery: the issuer must be an https:// URL",
	                path, path);
	/* from the environment: the variable's name */
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	setenv("MGMTD_IDP_JWKS_FILE", "/j", 1);
	assert_int_equal(config_apply_env(&cfg, &errs), 0);
	unsetenv("MGMTD_IDP_JWKS_FILE");
	assert_int_equal(config_validate(&cfg, &errs), 1);
	assert_has_line(&errs, "environment MGMTD_IDP_JWKS_FILE: [idp] issuer: required");
}

/* The files serve opens at start: there, readable, regular; each named by its line. */
static void test_check_files(void **state)
{
	static struct config cfg;
	struct config_errors errs = {0};
	char path[PATH_MAX], text[4 * PATH_MAX], good[PATH_MAX];

	(void)state;
	write_file("{}", good);
	snprintf(text, sizeof(text),
	         "[server]\n"                 /* 1 */
	         "seed_file = %s/absent\n"    /* 2 */
	         "tls_cert = %s\n"            /* 3 */
	         "tls_key = %s\n"             /* 4 */
	         "[idp]\n"                    /* 5 */
	         "issuer = https://i/\n"      /* 6 */
	         "jwks_file = %s\n"           /* 7 */
	         "[idp b]\n"                  /* 8 */
	         "issuer = https://b/\n"      /* 9 */
	         "jwks_file = %s/absent-b\n", /* 10 */
	         tmpdir, good, tmpdir, good, tmpdir);
	config_defaults(&cfg);
	assert_int_equal(load_text_at(&cfg, text, &errs, path), 0);
	assert_int_equal(config_check_files(&cfg, &errs), 3);
	assert_has_line(&errs, "%s:2: [server] seed_file %s/absent: cannot read: ", path, tmpdir);
	assert_has_line(&errs, "%s:4: [server] tls_key %s: cannot read: not a regular file", path,
	                tmpdir);
	assert_has_line(&errs, "%s:10: [idp b] jwks_file %s/absent-b: cannot read: ", path, tmpdir);
	assert_null(strstr(errs.text, ":3:"));
	assert_null(strstr(errs.text, ":7:"));
	/* the defaults name no file */
	config_defaults(&cfg);
	assert_int_equal(config_check_files(&cfg, NULL), 0);
	assert_int_equal(unlink(good), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_example_round_trip),
	    cmocka_unit_test(test_full_file),
	    cmocka_unit_test(test_inline_comments),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_value_too_long),
	    cmocka_unit_test(test_unknown_and_syntax),
	    cmocka_unit_test(test_errors_bounded),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_env_and_flags),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_split_listen),
	    cmocka_unit_test(test_algorithm_mask),
	    cmocka_unit_test(test_named_sections),
	    cmocka_unit_test(test_url_allowed),
	    cmocka_unit_test(test_memory_and_dev_idp),
	    cmocka_unit_test(test_testing_mode_throttle),
	    cmocka_unit_test(test_trusted_proxies),
	    cmocka_unit_test(test_one_key_rules_name_their_line),
	    cmocka_unit_test(test_identity_provider_problems_name_their_lines),
	    cmocka_unit_test(test_check_files),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
