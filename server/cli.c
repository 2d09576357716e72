/*
 * cli.c - offline subcommands and the option handling they share with serve.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "backup.h"
#include "cli.h"
#include "devidp.h"
#include "identity.h"
#include "invite.h"
#include "jwks.h"
#include "log.h"
#include "mgmt.h"
#include "rules.h"
#include "seed.h"
#include "store.h"
#include "timeutil.h"
#include "tls.h"
#include "token.h"
#include "util.h"
#include "version.h"
#include "webhook.h"
#include "views.h"

void cli_usage(FILE *out)
{
	fputs("usage: mgmtd COMMAND [OPTIONS]\n"
	      "\n"
	      "commands:\n"
	      "  serve          run the HTTP server\n"
	      "  check-config   check a configuration file and exit\n"
	      "  user           add, list or invite users (offline, on the same store)\n"
	      "  management     create, list or revoke management tokens (offline)\n"
	      "  token          mint a JWT with the built-in dev identity provider (offline)\n"
	      "  audit          list the audit trail of an account (offline)\n"
	      "  backup         copy the store while the server runs (--to FILE)\n"
	      "  restore        put a backup in place of a stopped server's store (--from FILE)\n"
	      "  verify         check a data directory's store or a backup file\n"
	      "  version        print the version and the libraries' versions (also --version)\n"
	      "\n"
	      "Run 'mgmtd COMMAND --help' for a command's options.\n",
	      out);
}

static void print_errors(const struct config_errors *errs)
{
	fputs(errs->text, stderr);
	if (errs->count > 0 && errs->text[0] == '\0')
		fprintf(stderr, "%d configuration errors\n", errs->count);
}

/* [log] format and level, for every line from here on. */
static void apply_log_settings(const struct config *cfg)
{
	enum log_level level;

	log_set_format(strcmp(cfg->log_format, "json") == 0 ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
	if (log_level_parse(cfg->log_level, &level) == 0)
		log_set_level(level);
}

int cli_load_config(const struct cli_common *common, struct config *cfg)
{
	struct config_errors errs;

	memset(&errs, 0, sizeof(errs));
	config_defaults(cfg);
	if (common->config_file)
		config_load_file(cfg, common->config_file, &errs);
	config_apply_env(cfg, &errs);
	if (common->data_dir)
		config_set(cfg, "server", "data_dir", common->data_dir, "--data-dir", &errs);
	if (common->listen)
		config_set(cfg, "server", "listen", common->listen, "--listen", &errs);
	if (common->seed)
		config_set(cfg, "server", "seed_file", common->seed, "--seed", &errs);
	/*
	 * Every problem at once, also those of two keys when one key is bad by
	 * itself: a bad value is never applied (its default stays), so the
	 * checks of the whole read a consistent configuration.
	 */
	config_validate(cfg, &errs);
	if (common->check_files)
		config_check_files(cfg, &errs);
	if (errs.count > 0) {
		print_errors(&errs);
		return -1;
	}
	apply_log_settings(cfg);
	/* the outbox is written by whoever changes a token, offline commands too; the
	 * server sends it */
	webhook_set_enabled(cfg->webhook_url[0] != '\0');
	return 0;
}

int cli_make_data_dir(const char *path)
{
	char buf[PATH_MAX];
	struct stat st;

	if (!str_copy(buf, sizeof(buf), path) || buf[0] == '\0') {
		fprintf(stderr, "mgmtd: bad data directory \"%s\"\n", path);
		return -1;
	}
	/* Create each missing component, 0700: the store holds hashes of secrets. */
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
				fprintf(stderr, "mgmtd: cannot create %s: %s\n", buf,
				        strerror(errno));
				return -1;
			}
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "mgmtd: data directory %s is not a directory\n", path);
		return -1;
	}
	if (st.st_mode & 077)
		fprintf(stderr,
		        "mgmtd: warning: data directory %s is accessible to other users "
		        "(chmod 700 it)\n",
		        path);
	return 0;
}

/* ---- option parsing ---- */

enum {
	OPT_CONFIG = 256,
	OPT_DATA_DIR,
	OPT_ACCOUNT,
	OPT_EMAIL,
	OPT_GROUP,
	OPT_SUBJECT,
	OPT_FIRST,
	OPT_LAST,
	OPT_FORMAT,
	OPT_AS,
	OPT_DESCRIPTION,
	OPT_EXPIRES_AT,
	OPT_PRINT_DEFAULTS,
	OPT_HELP,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_ACTION,
	OPT_ACTOR,
	OPT_LIMIT,
	OPT_TO,
	OPT_FROM,
	OPT_FORCE,
	OPT_ISSUER,
};

struct cli_args {
	struct cli_common common;
	const char *account, *email, *group, *subject, *issuer, *first, *last, *format, *as;
	const char *description, *expires_at;
	const char *since, *until, *action, *actor, *limit, *to, *from;
	bool print_defaults, help, force;
	int first_operand; /* index in argv of the first non-option */
};

static const struct option all_options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
    {"account", required_argument, NULL, OPT_ACCOUNT},
    {"email", required_argument, NULL, OPT_EMAIL},
    {"group", required_argument, NULL, OPT_GROUP},
    {"subject", required_argument, NULL, OPT_SUBJECT},
    {"first-name", required_argument, NULL, OPT_FIRST},
    {"last-name", required_argument, NULL, OPT_LAST},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"as", required_argument, NULL, OPT_AS},
    {"description", required_argument, NULL, OPT_DESCRIPTION},
    {"expires-at", required_argument, NULL, OPT_EXPIRES_AT},
    {"print-defaults", no_argument, NULL, OPT_PRINT_DEFAULTS},
    {"help", no_argument, NULL, OPT_HELP},
    {"since", required_argument, NULL, OPT_SINCE},
    {"until", required_argument, NULL, OPT_UNTIL},
    {"action", required_argument, NULL, OPT_ACTION},
    {"actor", required_argument, NULL, OPT_ACTOR},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"to", required_argument, NULL, OPT_TO},
    {"from", required_argument, NULL, OPT_FROM},
    {"force", no_argument, NULL, OPT_FORCE},
    {"issuer", required_argument, NULL, OPT_ISSUER},
    {NULL, 0, NULL, 0},
};

/*
 * Parses argv (argv[0] is the command's name) allowing only the options
 * named in allowed (by value). Returns 0, or EXIT_USAGE after printing why.
 */
static int parse_args(int argc, char **argv, const int *allowed, const char *usage,
                      struct cli_args *a)
{
	int opt;

	memset(a, 0, sizeof(*a));
	optind = 0; /* GNU: restart scanning for each command */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", all_options, NULL)) != -1) {
		bool ok = false;

		if (opt == 'h')
			opt = OPT_HELP;
		for (const int *p = allowed; *p; p++)
			ok |= (*p == opt);
		if (opt == OPT_HELP) {
			a->help = true;
			continue;
		}
		if (opt == '?' || opt == ':' || !ok) {
			const char *bad = argv[optind - 1];

			if (opt == '?' && optopt)
				fprintf(stderr, "mgmtd %s: option %s needs a value or is unknown\n",
				        argv[0], bad);
			else
				fprintf(stderr, "mgmtd %s: unknown option %s\n", argv[0], bad);
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
		switch (opt) {
		case OPT_CONFIG:
			a->common.config_file = optarg;
			break;
		case OPT_DATA_DIR:
			a->common.data_dir = optarg;
			break;
		case OPT_ACCOUNT:
			a->account = optarg;
			break;
		case OPT_EMAIL:
			a->email = optarg;
			break;
		case OPT_GROUP:
			a->group = optarg;
			break;
		case OPT_SUBJECT:
			a->subject = optarg;
			break;
		case OPT_FIRST:
			a->first = optarg;
			break;
		case OPT_LAST:
			a->last = optarg;
			break;
		case OPT_FORMAT:
			a->format = optarg;
			break;
		case OPT_AS:
			a->as = optarg;
			break;
		case OPT_DESCRIPTION:
			a->description = optarg;
			break;
		case OPT_EXPIRES_AT:
			a->expires_at = optarg;
			break;
		case OPT_PRINT_DEFAULTS:
			a->print_defaults = true;
			break;
		case OPT_SINCE:
			a->since = optarg;
			break;
		case OPT_UNTIL:
			a->until = optarg;
			break;
		case OPT_ACTION:
			a->action = optarg;
			break;
		case OPT_ACTOR:
			a->actor = optarg;
			break;
		case OPT_LIMIT:
			a->limit = optarg;
			break;
		case OPT_TO:
			a->to = optarg;
			break;
		case OPT_FROM:
			a->from = optarg;
			break;
		case OPT_FORCE:
			a->force = true;
			break;
		case OPT_ISSUER:
			a->issuer = optarg;
			break;
		}
	}
	a->first_operand = optind;
	return 0;
}

static int usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fputs("mgmtd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage, stderr);
	return EXIT_USAGE;
}

/* A noun's verb: its name and what runs it (on argv from the verb on). */
struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
};

/* Runs the verb argv[1] names among subs (ended by a NULL name), or says how. */
static int run_subcommand(int argc, char **argv, const char *usage, const char *noun,
                          const struct subcommand *subs)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (; subs->name != NULL; subs++)
		if (strcmp(argv[1], subs->name) == 0)
			return subs->run(argc - 1, argv + 1);
	return usage_error(usage, "unknown %s command %s", noun, argv[1]);
}

/* Checks --format: table unless json is asked for, as influxctl does. */
static int parse_format(const char *usage, const char *format, bool *json)
{
	*json = false;
	if (format == NULL || strcmp(format, "table") == 0)
		return 0;
	if (strcmp(format, "json") == 0) {
		*json = true;
		return 0;
	}
	return usage_error(usage, "--format must be table or json, not %s", format);
}

const char cli_key_mismatch[] =
    "this token key is not the one the database was set up with (the database keeps a "
    "fingerprint of that key, and it differs); every replica and offline command must use "
    "the same [store] token_key_file: copy it from the first replica";

int cli_store_target(const struct config *cfg, char path[PATH_MAX], struct store_target *t)
{
	memset(t, 0, sizeof(*t));
	if (store_backend_parse(cfg->store_backend, &t->backend) != 0) {
		fprintf(stderr, "mgmtd: [store] backend %s is not one this build knows\n",
		        cfg->store_backend);
		return -1;
	}
	if (t->backend == STORE_BACKEND_POSTGRES) {
		t->location = cfg->postgres_url;
		t->pool_size = cfg->postgres_pool;
		t->timeout_ms = cfg->postgres_timeout * 1000;
		return 0;
	}
	if (config_in_memory(cfg))
		store_memory_path(path);
	else
		config_db_path(cfg, path);
	t->location = path;
	return 0;
}

/* Opens the configured store, creating it (and the data directory) when new. */
static struct store *open_store(const struct cli_common *common, struct config *cfg)
{
	char path[PATH_MAX], err[512];
	struct store_target target;
	struct store *s = NULL;

	if (cli_load_config(common, cfg) != 0)
		return NULL;
	if (config_in_memory(cfg)) {
		fprintf(stderr,
		        "mgmtd: data_dir is :memory:: that data lives only inside the running "
		        "server; offline commands need a data directory\n");
		return NULL;
	}
	if (cli_make_data_dir(cfg->data_dir) != 0 || cli_store_target(cfg, path, &target) != 0)
		return NULL;
	if (store_connect(&target, &s, err, sizeof(err)) != 0) {
		fprintf(stderr, "mgmtd: %s\n", err);
		return NULL;
	}
	return s;
}

static int need_account(struct store *s, const char *account_id)
{
	struct store_account a;
	enum store_status st;

	if (!uuid_is_valid(account_id)) {
		fprintf(stderr, "mgmtd: --account must be an account id (a UUID)\n");
		return -1;
	}
	st = store_account_get(s, account_id, &a);
	if (st == STORE_NOT_FOUND)
		fprintf(stderr, "mgmtd: no account %s (accounts are created by the seed file)\n",
		        account_id);
	else if (st != STORE_OK)
		fprintf(stderr, "mgmtd: store error: %s\n", store_status_name(st));
	return st == STORE_OK ? 0 : -1;
}

/* True when what starts at p, written as it is after a backslash, would read as an escape. */
static bool opens_escape(const char *p)
{
	uint32_t cp;
	size_t k;

	if (*p == '\\' || *p == 'u' || *p == 'U' || *p == 'x')
		return true;
	k = *p ? utf8_decode(p, &cp) : 1;
	return k == 0 || (*p && text_hazard(cp) != TEXT_PLAIN);
}

/*
 * Stored text as a table shows it, in mgmtctl's notation (docs/mgmtctl.md):
 * a character util.h's text_hazard() flags (controls, bidirectional
 * overrides and isolates, invisible characters) becomes \uXXXX (\UXXXXXXXX
 * past U+FFFF), a byte that is not UTF-8 \xNN, and a backslash is doubled
 * where it would otherwise start one, so that nothing stored acts on the
 * terminal or reads as something else. Returns s itself when it needs
 * nothing, else buf (cut short when it fills).
 */
static const char *shown(const char *s, char *buf, size_t size)
{
	size_t used = 0;
	const char *p;

	for (p = s; *p;) {
		uint32_t cp;
		size_t k = utf8_decode(p, &cp);

		if (k == 0 || text_hazard(cp) != TEXT_PLAIN || (*p == '\\' && opens_escape(p + 1)))
			break;
		p += k;
	}
	if (*p == '\0')
		return s;
	for (p = s; *p && used + 11 < size;) {
		uint32_t cp;
		size_t k = utf8_decode(p, &cp);
		int n;

		if (k == 0)
			n = snprintf(buf + used, size - used, "\\x%02x", (unsigned char)*p), k = 1;
		else if (text_hazard(cp) != TEXT_PLAIN)
			n = cp > 0xffff
			        ? snprintf(buf + used, size - used, "\\U%08x", (unsigned)cp)
			        : snprintf(buf + used, size - used, "\\u%04x", (unsigned)cp);
		else if (*p == '\\' && opens_escape(p + 1))
			n = snprintf(buf + used, size - used, "\\\\");
		else
			n = snprintf(buf + used, size - used, "%.*s", (int)k, p);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
		p += k;
	}
	buf[used] = '\0';
	return buf;
}

/* A buffer for shown() of a field of n bytes: at most 6 characters a byte (\u0000). */
#define SHOWN_SIZE(n) ((n)*6 + 1)

static int print_json(json_t *value)
{
	char *text;
	int rc = 0;

	if (value == NULL) {
		fprintf(stderr, "mgmtd: out of memory\n");
		return EXIT_FAILED;
	}
	/*
	 * Every character past ASCII as a \u escape, and DEL (which jansson
	 * leaves as it is; only a string can hold it) too: still the same JSON,
	 * and nothing stored (a control, a bidirectional override) reaches a
	 * terminal.
	 */
	text = json_dumps(value, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(value);
	if (text == NULL) {
		fprintf(stderr, "mgmtd: out of memory\n");
		return EXIT_FAILED;
	}
	for (const char *p = text; *p && rc != EOF; p++)
		rc = *p == 0x7f ? fputs("\\u007f", stdout) : fputc(*p, stdout);
	if (rc != EOF)
		rc = fputc('\n', stdout);
	free(text);
	return rc == EOF ? EXIT_FAILED : EXIT_OK;
}

/* ---- check-config ---- */

static const char check_config_usage[] =
    "usage: mgmtd check-config [--config FILE] [--data-dir DIR] [--print-defaults]\n"
    "  Reads the configuration (file, then MGMTD_* environment), reports every\n"
    "  problem with FILE:LINE, loads every jwks_file, and exits 0 when it is\n"
    "  good, 1 when it is not. It does not fetch jwks_url or discovery.\n"
    "  --print-defaults prints every option with its default and exits.\n";

/*
 * The seed's entries against serve's rules: applied to an empty in-memory store with
 * a throwaway token key, so nothing on disk is read or changed. A seed that conflicts
 * with what the data directory already holds is still found by serve alone. 0, or -1
 * (said).
 */
static int check_seed(const struct config *cfg)
{
	char path[STORE_MEMORY_PATH_SIZE], err[3072], at[2 * PATH_MAX + 16];
	struct identity_issuers ids;
	struct token_key key;
	struct store *s = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc = -1;

	config_where2(cfg, "server", "seed_file", NULL, NULL, at, sizeof(at));
	if (seed_read_file(cfg->seed_file, &text, &len, err, sizeof(err)) != 0)
		goto out;
	store_memory_path(path);
	/* a scratch store: its migrations and the seed's own lines are no news to the reader */
	log_set_level(LOGL_WARN);
	if (store_open(path, &s, err, sizeof(err)) != 0)
		goto out;
	randombytes_buf(key.bytes, sizeof(key.bytes));
	identity_issuers_init(&ids, cfg, NULL);
	rc = seed_apply_text(s, &key, cfg->invite_days, &ids, text, len, err, sizeof(err));
	sodium_memzero(&key, sizeof(key));
out:
	if (rc != 0)
		fprintf(stderr, "%s[server] seed_file %s: %s\n", at, cfg->seed_file, err);
	store_close(s);
	seed_text_free(text, len);
	return rc;
}

int cli_check_config(int argc, char **argv)
{
	static const int allowed[] = {OPT_CONFIG, OPT_DATA_DIR, OPT_PRINT_DEFAULTS, 0};
	const struct idp_config *idps[CONFIG_MAX_IDPS + 1];
	static struct config cfg; /* about 150 KiB with every [idp NAME] */
	struct cli_args a;
	bool failed = false;
	size_t n;
	int rc = parse_args(argc, argv, allowed, check_config_usage, &a);

	if (rc != 0)
		return rc;
	if (a.help) {
		fputs(check_config_usage, stdout);
		return EXIT_OK;
	}
	if (a.first_operand < argc)
		return usage_error(check_config_usage, "unexpected argument %s",
		                   argv[a.first_operand]);
	if (a.print_defaults) {
		config_write_example(stdout);
		return EXIT_OK;
	}
	a.common.check_files = true; /* what serve opens at start, serve's way */
	if (cli_load_config(&a.common, &cfg) != 0)
		return EXIT_FAILED;
	n = config_idps(&cfg, idps, CONFIG_MAX_IDPS + 1);
	for (size_t i = 0; i < n; i++) {
		struct jwks *keys = NULL;
		char err[512], label[64];

		config_idp_label(idps[i], label, sizeof(label));
		if (!idps[i]->jwks_file[0]) {
			/* check-config stays offline: it does not contact identity providers */
			printf("%s: keys are fetched when the server runs (%s)\n", label,
			       idps[i]->discovery ? "discovery" : idps[i]->jwks_url);
			continue;
		}
		if (jwks_load_file(idps[i]->jwks_file, &keys, err, sizeof(err)) != 0) {
			char at[PATH_MAX + 64];

			fprintf(stderr, "%s%s jwks_file %s: %s\n",
			        config_idp_where(idps[i], "jwks_file", at, sizeof(at)), label,
			        idps[i]->jwks_file, err);
			failed = true;
			continue;
		}
		if (keys->count == 0)
			fprintf(stderr, "warning: %s: %s has no usable signing key\n", label,
			        idps[i]->jwks_file);
		jwks_free(keys);
	}
	/* serve refuses a certificate and key that do not go together: so does the check */
	if (config_tls(&cfg)) {
		struct tls_holder *tls = NULL;
		char err[1024], at[2 * PATH_MAX + 16];

		if (tls_holder_new(cfg.tls_cert, cfg.tls_key, &tls, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s%s\n",
			        config_where2(&cfg, "server", "tls_cert", "server", "tls_key", at,
			                      sizeof(at)),
			        err);
			failed = true;
		} else
			tls_holder_free(tls);
	}
	if (cfg.seed_file[0] && check_seed(&cfg) != 0)
		failed = true;
	if (failed)
		return EXIT_FAILED;
	printf("configuration OK%s%s\n", a.common.config_file ? ": " : "",
	       a.common.config_file ? a.common.config_file : "");
	return EXIT_OK;
}

/* ---- user ---- */

static const char user_usage[] =
    "usage: mgmtd user add --account ID --email EMAIL --group admin|member|auditor\n"
    "                      [--subject SUB [--issuer ISSUER]] [--first-name F] [--last-name L]\n"
    "       mgmtd user list --account ID [--format table|json]\n"
    "       mgmtd user invite --account ID --email EMAIL --group admin|member|auditor\n"
    "       mgmtd user bind --issuer ISSUER [--account ID [--email EMAIL]]\n"
    "  All take --config FILE and --data-dir DIR, and work while the server runs.\n"
    "  A user is the pair (ISSUER, SUB): ISSUER is the issuer URL or the section\n"
    "  name of a configured identity provider (dev_idp for [dev_idp]); a --subject\n"
    "  without --issuer gets the only one configured. An invite stays pending for\n"
    "  [auth] invite_days; the person's first sign-in with a JWT of that verified\n"
    "  email makes the user. bind gives subjects stored without an issuer (before\n"
    "  mgmtd recorded issuers) the issuer ISSUER: all of them, those of one account,\n"
    "  or one user.\n";

/* The issuer u gets: --issuer, or for a --subject the only configured one. 0 or -1 (said). */
static int cli_user_issuer(const struct config *cfg, const char *issuer, struct store_user *u)
{
	struct identity_issuers ids;
	char why[1536];

	identity_issuers_init(&ids, cfg, NULL);
	if (issuer && identity_issuer_resolve(&ids, issuer, u->idp_issuer, sizeof(u->idp_issuer),
	                                      why, sizeof(why)) != 0) {
		fprintf(stderr, "mgmtd: --issuer: %s\n", why);
		return -1;
	}
	if (!issuer && u->idp_subject[0] &&
	    identity_issuer_default(&ids, u->idp_issuer, sizeof(u->idp_issuer), why, sizeof(why)) !=
	        0) {
		fprintf(stderr, "mgmtd: --subject needs --issuer: %s\n", why);
		return -1;
	}
	return 0;
}

static int user_add(int argc, char **argv)
{
	static const int allowed[] = {OPT_CONFIG,  OPT_DATA_DIR, OPT_ACCOUNT, OPT_EMAIL, OPT_GROUP,
	                              OPT_SUBJECT, OPT_ISSUER,   OPT_FIRST,   OPT_LAST,  0};
	struct store_user u;
	struct cli_args a;
	struct config cfg;
	struct store *s;
	char why[RULE_WHY_SIZE];
	enum store_status st;
	int rc = parse_args(argc, argv, allowed, user_usage, &a);

	if (rc != 0)
		return rc;
	if (a.help) {
		fputs(user_usage, stdout);
		return EXIT_OK;
	}
	if (a.first_operand < argc)
		return usage_error(user_usage, "unexpected argument %s", argv[a.first_operand]);
	if (!a.account || !a.email || !a.group)
		return usage_error(user_usage, "%s", "--account, --email and --group are required");
	memset(&u, 0, sizeof(u));
	if (user_group_parse(a.group, &u.group) != 0)
		return usage_error(user_usage, "--group must be admin, member or auditor, not %s",
		                   a.group);
	if (rule_email("--email", a.email, why) ||
	    (a.subject && rule_idp_subject("--subject", a.subject, why)) ||
	    (a.first && rule_person_name("--first-name", a.first, why)) ||
	    (a.last && rule_person_name("--last-name", a.last, why)))
		return usage_error(user_usage, "%s", why);

	s = open_store(&a.common, &cfg);
	if (s == NULL)
		return EXIT_FAILED;
	rc = EXIT_FAILED;
	str_copy(u.idp_subject, sizeof(u.idp_subject), a.subject ? a.subject : "");
	if (need_account(s, a.account) != 0 || cli_user_issuer(&cfg, a.issuer, &u) != 0)
		goto out;
	uuid_v4_generate(u.id);
	str_copy(u.account_id, sizeof(u.account_id), a.account);
	str_copy(u.email, sizeof(u.email), a.email);
	str_copy(u.first_name, sizeof(u.first_name), a.first ? a.first : "");
	str_copy(u.last_name, sizeof(u.last_name), a.last ? a.last : "");
	u.created_at = time_now_ms();
	/* The change and its audit row commit together. */
	st = store_tx_begin(s);
	if (st == STORE_OK) {
		st = store_user_insert(s, &u);
		if (st == STORE_OK)
			st = audit_local(s, a.account, NULL, "user.create", u.id, NULL);
		st = store_tx_leave(s, true, st);
	}
	if (st == STORE_CONFLICT) {
		fprintf(stderr,
		        "mgmtd: a user with email %s, or with subject %s at issuer %s, already "
		        "exists\n",
		        a.email, a.subject ? a.subject : "(none)",
		        u.idp_issuer[0] ? u.idp_issuer : "(none)");
		goto out;
	}
	if (st != STORE_OK) {
		fprintf(stderr, "mgmtd: store error: %s\n", store_status_name(st));
		goto out;
	}
	printf("added user %s (%s, %s)\n", u.id, u.email, user_group_name(u.group));
	rc = EXIT_OK;
out:
	store_close(s);
	return rc;
}

static int user_list(int argc, char **argv)
{
	static const int allowed[] = {OPT_CONFIG, OPT_DATA_DIR, OPT_ACCOUNT, OPT_FORMAT, 0};
	struct store_user *users = NULL;
	struct cli_args a;
	struct config cfg;
	struct store *s;
	enum store_status st;
	bool json;
	size_t n = 0;
	int rc = parse_args(argc, argv, allowed, user_usage, &a);

	if (rc != 0)
		return rc;
	if (a.help) {
		fputs(user_usage, stdout);
		return EXIT_OK;
	}
	if (a.first_operand < argc)
		return usage_error(user_usage, "unexpected argument %s", argv[a.first_operand]);
	if (!a.account)
		return usage_error(user_usage, "%s", "--account is required");
	if ((rc = parse_format(user_usage, a.format, &json)) != 0)
		return rc;
	s = open_store(&a.common, &cfg);
	if (s == NULL)
		return EXIT_FAILED;
	rc = EXIT_FAILED;
	if (need_account(s, a.account) != 0)
		goto out;
	st = store_user_list(s, a.account, &users, &n);
	if (st != STORE_OK) {
		fprintf(stderr, "mgmtd: store error: %s\n", store_status_name(st));
		goto out;
	}
	if (json) {
		json_t *list = json_array();

		for (size_t i = 0; list && i < n; i++)
			view_list_append(&list, view_user(&users[i]));
		rc = print_json(list);
		goto out;
	}
	printf("%-36s  %-8s  %-32s  %-24s  %s\n", "ID", "GROUP", "EMAIL", "IDP SUBJECT",
	       "IDP ISSUER");
	for (size_t i = 0; i < n; i++) {
		const struct store_user *u = &users[i];
		char email[SHOWN_SIZE(sizeof(u->email))],
		    subject[SHOWN_SIZE(sizeof(u->idp_subject))];

		printf("%-36s  %-8s  %-32s  %-24s  %s\n", u->id, user_group_name(u->group),
		       shown(u->email, email, sizeof(email)),
		       u->idp_subject[0] ? shown(u->idp_subject, subject, sizeof(subject)) : "-",
		       u->idp_issuer[0]    ? u->idp_issuer
		       : u->idp_subject[0] ? "(none: mgmtd user bind)"
		                           : "-");
	}
	rc = EXIT_OK;
out:
	free(users);
	store_close(s);
	return rc;
}

static int user_invite(int argc, char **argv)
{
	static const int allowed[] = {OPT_CONFIG, OPT_DATA_DIR, OPT_ACCOUNT,
	                              OPT_EMAIL,  OPT_GROUP,    0};
	struct store_invite inv;
	enum user_group group;
	struct cli_args a;
	struct config cfg;
	struct store *s;
	enum store_status st;
	char why[512], expires[RFC3339_SIZE];
	int rc = parse_args(argc, argv, allowed, user_usage, &a);

	if (rc != 0)
		return rc;
	if (a.help) {
		fputs(user_usage, stdout);
		return EXIT_OK;
	}
	if (a.first_operand < argc)
		return usage_error(user_usage, "unexpected argument %s", argv[a.first_operand]);
	if (!a.account || !a.email || !a.group)
		return usage_error(user_usage, "%s", "--account, --email and --group are required");
	if (user_group_parse(a.group, &group) != 0)
		return usage_error(user_usage, "--group must be admin, member or auditor, not %s",
		                   a.group);
	if (rule_email("--email", a.email, why) != NULL)
		return usage_error(user_usage, "%s", why);

	s = open_store(&a.common, &cfg);
	if (s == NULL)
		return EXIT_FAILED;
	rc = EXIT_FAILED;
	if (need_account(s, a.account) != 0)
		goto out;
	/* The invite and its audit row commit together. */
	st = store_tx_begin(s);
	if (st != STORE_OK) {
		fprintf(stderr, "mgmtd: store error: %s\n", store_status_name(st));
		goto out;
	}
	if (invite_create(s, a.account, a.email, group, "", time_now_ms(), cfg.invite_days, &inv,
	                  &st, why, sizeof(why)) != 0) {
		store_tx_rollback(s);
		fprintf(stderr, "mgmtd: %s\n", why);
		goto out;
	}
	st =
	    store_tx_leave(s, true, audit_local(s, a.account, NULL, "invite.create", inv.id, NULL));
	if (st != STORE_OK) {
		fprintf(stderr, "mgmtd: store error: %s\n", store_status_name(st));
		goto out;
	}
	time_format_rfc3339(inv.expires_at, expires);
	printf("invited %s as %s: invite %s, pending until %s\n", inv.email,
	       user_group_name(inv.group), inv.id, expires);
	rc = EXIT_OK;
out:
	store_close(s);
	return rc;
}

/* Binds the unbound user u to issuer, with its audit row, and says so. */
static enum store_status bind_one(struct store *s, const struct store_user *u, const char *issuer)
{
	char detail[STORE_AUDIT_DETAIL_SIZE];
	enum store_status st;
	int64_t bound;

	st = store_users_bind_issuer(s, u->account_id, u->id, issuer, &bound);
	if (st == STORE_OK && bound == 0) {
		/* another command or server bound or changed it since it was read */
		fprintf(stderr, "mgmtd: user %s (%s) changed meanwhile; run the command again\n",
		        u->id, u->email);
		st = STORE_NOT_FOUND;
	}
	if (st == STORE_CONFLICT)
		fprintf(stderr,
		        "mgmtd: user %s (%s) of account %s: another user of the account already "
		        "has subject %s at %s; change one of them first\n",
		        u->id, u->email, u->account_id, u->idp_subject, issuer);
	if (st != STORE_OK)
		return st;
	snprintf(detail, sizeof(detail), "subject %.200s bound to issuer %.300s", u->idp_subject,
	         issuer);
	st = audit_local(s, u->account_id, NULL, "user.bind", u->id, detail);
	if (st == STORE_OK)
		printf("bound user %s (%s, subject %s) of account %s to %s\n", u->id, u->email,
		       u->idp_subject, u->account_id, issuer);
	return st;
}

/* The one user --email names, which must be unbound. */
static enum store_status find_unbound(struct store *s, const char *account_id, const char *email,
                                      struct store_user *out)
{
	enum store_status st = store_user_by_email(s, account_id, email, out);

	if (st == STORE_NOT_FOUND)
		fprintf(stderr, "mgmtd: no user %s in account %s\n", email, account_id);
	else if (st == STORE_OK && out->idp_subject[0] == '\0')
		fprintf(stderr,
		        "mgmtd: user %s has no subject: nothing to bind (its first sign-in with a "
		        "verified email binds it)\n",
		        email);
	else if (st == STORE_OK && out->idp_issuer[0] != '\0')
		fprintf(stderr,
		        "mgmtd: user %s is already bound to %s (change it with PATCH "
		        ".../users/ID {\"idpIssuer\": ...})\n",
		        email, out->idp_issuer);
	if (st == STORE_OK && (out->idp_subject[0] == '\0' || out->idp_issuer[0] != '\0'))
		return STORE_NOT_FOUND;
	return st;
}

/* How many unbound users user_bind reads at a time. */
#define BIND_BATCH 100

static int user_bind(int argc, char **argv)
{
	static const int allowed[] = {OPT_CONFIG, OPT_DATA_DIR, OPT_ACCOUNT,
	                              OPT_EMAIL,  OPT_ISSUER,   0};
	struct identity_issuers ids;
	struct store_user *users = NULL, one;
	char issuer[STORE_ISSUER_SIZE], why[1536];
	struct cli_args a;
	struct config cfg;
	struct store *s;
	enum store_status st;
	size_t n, total = 0;
	int rc = parse_args(argc, argv, allowed, user_usage, &a);

	if (rc != 0)
		return rc;
	if (a.help) {
		fputs(user_usage, stdout);
		return EXIT_OK;
	}
	if (a.first_operand < argc)
		return usage_error(user_usage, "unexpected argument %s", argv[a.first_operand]);
	if (!a.issuer)
		return usage_error(user_usage, "%s", "--issuer is required");
	if (a.email && !a.account)
		return usage_error(user_usage, "%s", "--email needs --account");
	s = open_store(&a.common, &cfg);
	if (s == NULL)
		return EXIT_FAILED;
	rc = EXIT_FAILED;
	identity_issuers_init(&ids, &cfg, NULL);
	if (identity_issuer_resolve(&ids, a.issuer, issuer, sizeof(issuer), why, sizeof(why)) !=
	    0) {
		fprintf(stderr, "mgmtd: --issuer: %s\n", why);
		goto out;
	}
	if (a.account && need_account(s, a.account) != 0)
		goto out;
	/* Every binding and its audit row commit together, or none does. */
	st = store_tx_begin(s);
	if (st != STORE_OK) {
		fprintf(stderr, "mgmtd: store error: %s\n", store_status_name(st));
		goto out;
	}
	if (a.email) {
		st = find_unbound(s, a.account, a.email, &one);
		if (st == STORE_OK)
			st = bind_one(s, &one, issuer);
		total = st == STORE_OK;
	}
	while (st == STORE_OK && !a.email) {
		st = store_users_unbound(s, a.account, BIND_BATCH, &users, &n);
		for (size_t i = 0; st == STORE_OK && i < n; i++) {
			st = bind_one(s, &users[i], issuer);
			total += st == STORE_OK;
		}
		free(users);
		users = NULL;
		if (n == 0)
			break;
	}
	st = store_tx_leave(s, true, st);
	if (st != STORE_OK) {
		if (st != STORE_NOT_FOUND && st != STORE_CONFLICT)
			fprintf(stderr, "mgmtd: store error: %s\n", store_status_name(st));
		goto out;
	}
	printf("%zu user%s bound to %s\n", total, total == 1 ? "" : "s", issuer);
	rc = EXIT_OK;
out:
	store_close(s);
	return rc;
}

int cli_user(int argc, char **argv)
{
	static const struct subcommand subs[] = {{"add", user_add},
	                                         {"list", user_list},
	                                         {"invite", user_invite},
	                                         {"bind", user_bind},
	                                         {NULL, NULL}};

	return run_subcommand(argc, argv, user_usage, "user", subs);
}

/* ---- management ---- */

static const char management_usage[] =
    "usage: mgmtd management create --account ID --as EMAIL --description TEXT\n"
    "                               [--expires-at RFC3339] [--format table|json]\n"
    "       mgmtd management list --account ID [--format table|json]\n"
    "       mgmtd management revoke --account ID TOKEN_ID...\n"
    "  All take --config FILE and --data-dir DIR, and work while the server runs.\n"
    "  create prints the token's secret once; only its hash is stored.\n";

static int management_create(int argc, char **argv)
{
	static const int allowed[] = {OPT_CONFIG,      OPT_DATA_DIR,   OPT_ACCOUNT, OPT_AS,
	                              OPT_DESCRIPTION, OPT_EXPIRES_AT, OPT_FORMAT,  0};
	char secret[TOKEN_MGMT_SIZE], key_path[PATH_MAX], err[512];
	struct store_mgmt_token t;
	struct token_key key;
	struct store_user creator;
	struct cli_args a;
	struct config cfg;
	struct store *s;
	char why[RULE_WHY_SIZE];
	const char *problem;
	enum store_status st;
	int64_t expires_at = 0, now = time_now_ms();
	long admins = 0;
	bool json;
	int rc = parse_args(argc, argv, allowed, management_usage, &a);

	if (rc != 0)
		return rc;
	if (a.help) {
		fputs(management_usage, stdout);
		return EXIT_OK;
	}
	if (a.first_operand < argc)
		return usage_error(management_usage, "unexpected argument %s",
		                   argv[a.first_operand]);
	if (!a.account || !a.as || !a.description)
		return usage_error(management_usage, "%s",
		                   "--account, --as and --description are required");
	if ((rc = parse_format(management_usage, a.format, &json)) != 0)
		return rc;
	if (rule_description("--description", a.description, why) != NULL)
		return usage_error(management_usage, "%s", why);
	if (a.expires_at && time_parse_rfc3339(a.expires_at, &expires_at) != 0)
		return usage_error(management_usage,
		                   "--expires-at must be an RFC 3339 date-time, not %s",
		                   a.expires_at);
	if (a.expires_at && (problem = rule_expiry(expires_at, now)) != NULL)
		return usage_error(management_usage, "%s", problem);

	s = open_store(&a.common, &cfg);
	if (s == NULL)
		return EXIT_FAILED;
	rc = EXIT_FAILED;
	if (need_account(s, a.account) != 0)
		goto out;
	st = store_admin_count(s, a.account, &admins);
	if (st == STORE_OK && admins == 0) {
		fprintf(stderr,
		        "mgmtd: account %s has no admin user. Add one first:\n"
		        "  mgmtd user add --account %s --email EMAIL --group admin\n",
		        a.account, a.account);
		goto out;
	}
	st = st == STORE_OK ? store_user_by_email(s, a.account, a.as, &creator) : st;
	if (st == STORE_NOT_FOUND || (st == STORE_OK && creator.group != GROUP_ADMIN)) {
		fprintf(stderr,
		        "mgmtd: %s is not an admin user of account %s; only admins may create "
		        "management tokens.\n  See the admins with: mgmtd user list --account %s\n",
		        a.as, a.account, a.account);
		goto out;
	}
	if (st != STORE_OK) {
		fprintf(stderr, "mgmtd: store error: %s\n", store_status_name(st));
		goto out;
	}
	config_token_key_path(&cfg, key_path);
	if (token_key_load_or_create(key_path, &key, err, sizeof(err)) != 0) {
		fprintf(stderr, "mgmtd: %s\n", err);
		goto out;
	}
	/* On a database replicas share, only the key it records may issue tokens (main.c). */
	if (strcmp(cfg.store_backend, "postgres") == 0 && backup_check_store_key(s, &key) != 0) {
		fprintf(stderr, "mgmtd: %s: %s\n", key_path, cli_key_mismatch);
		sodium_memzero(&key, sizeof(key));
		goto out;
	}
	st = store_tx_begin(s);
	if (st == STORE_OK) {
		st = mgmt_token_issue(s, &key, a.account, a.description, expires_at, creator.id,
		                      now, &t, secret);
		if (st == STORE_OK)
			st = audit_local(s, a.account, creator.id, "management_token.create", t.id,
			                 NULL);
		st = store_tx_leave(s, true, st);
		if (st != STORE_OK)
			sodium_memzero(secret, sizeof(secret));
	}
	sodium_memzero(&key, sizeof(key));
	if (st != STORE_OK) {
		fprintf(stderr, "mgmtd: store error: %s\n", store_status_name(st));
		goto out;
	}
	if (json) {
		json_t *o = view_mgmt_token(&t, now);

		if (o && json_object_set_new(o, "accessToken", json_string(secret)) != 0) {
			json_decref(o);
			o = NULL;
		}
		rc = print_json(o);
	} else {
		printf("id:          %s\n", t.id);
		printf("description: %s\n", t.description);
		printf("token:       %s\n", secret);
		printf("\nStore the token now: it is not shown again, only its prefix %s.\n",
		       t.prefix);
		rc = EXIT_OK;
	}
	sodium_memzero(secret, sizeof(secret));
out:
	store_close(s);
	return rc;
}

static int management_list(int argc, char **argv)
{
	static const int allowed[] = {OPT_CONFIG, OPT_DATA_DIR, OPT_ACCOUNT, OPT_FORMAT, 0};
	struct store_mgmt_token *tokens = NULL;
	struct cli_args a;
	struct config cfg;
	struct store *s;
	enum store_status st;
	int64_t now = time_now_ms();
	size_t n = 0;
	bool json;
	int rc = parse_args(argc, argv, allowed, management_usage, &a);

	if (rc != 0)
		return rc;
	if (a.help) {
		fputs(management_usage, stdout);
		return EXIT_OK;
	}
	if (a.first_operand < argc)
		return usage_error(management_usage, "unexpected argument %s",
		                   argv[a.first_operand]);
	if (!a.account)
		return usage_error(management_usage, "%s", "--account is required");
	if ((rc = parse_format(management_usage, a.format, &json)) != 0)
		return rc;
	s = open_store(&a.common, &cfg);
	if (s == NULL)
		return EXIT_FAILED;
	rc = EXIT_FAILED;
	if (need_account(s, a.account) != 0)
		goto out;
	st = store_mgmt_token_list(s, a.account, TOKEN_FILTER_ALL, now, &tokens, &n);
	if (st != STORE_OK) {
		fprintf(stderr, "mgmtd: store error: %s\n", store_status_name(st));
		goto out;
	}
	if (json) {
		json_t *list = json_array();

		for (size_t i = 0; list && i < n; i++)
			view_list_append(&list, view_mgmt_token(&tokens[i], now));
		rc = print_json(list);
		goto out;
	}
	printf("%-36s  %-9s  %-7s  %-24s  %s\n", "ID", "PREFIX", "STATUS", "EXPIRES",
	       "DESCRIPTION");
	for (size_t i = 0; i < n; i++) {
		char expires[RFC3339_SIZE] = "never";
		char description[SHOWN_SIZE(sizeof(tokens[i].description))];

		if (tokens[i].expires_at)
			time_format_rfc3339(tokens[i].expires_at, expires);
		printf("%-36s  %-9s  %-7s  %-24s  %s\n", tokens[i].id, tokens[i].prefix,
		       mgmt_token_status(&tokens[i], now), expires,
		       shown(tokens[i].description, description, sizeof(description)));
	}
	rc = EXIT_OK;
out:
	free(tokens);
	store_close(s);
	return rc;
}

static int management_revoke(int argc, char **argv)
{
	static const int allowed[] = {OPT_CONFIG, OPT_DATA_DIR, OPT_ACCOUNT, 0};
	struct store_mgmt_token t;
	struct cli_args a;
	struct config cfg;
	struct store *s;
	int failures = 0;
	int rc = parse_args(argc, argv, allowed, management_usage, &a);

	if (rc != 0)
		return rc;
	if (a.help) {
		fputs(management_usage, stdout);
		return EXIT_OK;
	}
	if (!a.account)
		return usage_error(management_usage, "%s", "--account is required");
	if (a.first_operand >= argc)
		return usage_error(management_usage, "%s", "give at least one TOKEN_ID to revoke");
	s = open_store(&a.common, &cfg);
	if (s == NULL)
		return EXIT_FAILED;
	if (need_account(s, a.account) != 0) {
		store_close(s);
		return EXIT_FAILED;
	}
	for (int i = a.first_operand; i < argc; i++) {
		enum store_status st = uuid_is_valid(argv[i]) ? store_tx_begin(s) : STORE_NOT_FOUND;

		if (uuid_is_valid(argv[i]) && st == STORE_OK) {
			st = store_mgmt_token_revoke(s, a.account, argv[i], time_now_ms(), "", &t);
			if (st == STORE_OK)
				st = audit_local(s, a.account, NULL, "management_token.revoke",
				                 argv[i], NULL);
			st = store_tx_leave(s, true, st);
		}

		if (st == STORE_OK) {
			printf("revoked %s\n", argv[i]);
		} else {
			fprintf(stderr, "mgmtd: %s: %s\n", argv[i],
			        st == STORE_NOT_FOUND ? "no such management token in this account"
			                              : store_status_name(st));
			failures++;
		}
	}
	store_close(s);
	return failures ? EXIT_FAILED : EXIT_OK;
}

int cli_management(int argc, char **argv)
{
	static const struct subcommand subs[] = {{"create", management_create},
	                                         {"list", management_list},
	                                         {"revoke", management_revoke},
	                                         {NULL, NULL}};

	return run_subcommand(argc, argv, management_usage, "management", subs);
}

/* ---- token ---- */

static const char token_usage[] =
    "usage: mgmtd token mint --email EMAIL [--account ID]\n"
    "  Prints a JWT signed by the built-in dev identity provider ([dev_idp],\n"
    "  which must be enabled) for the provisioned user with this email, valid\n"
    "  for an hour. --account picks the account when users of several accounts\n"
    "  share the email. Takes --config FILE and --data-dir DIR; uses the same\n"
    "  key (dev-idp.key) as the server. A test device, for scripts.\n";

static int token_mint(int argc, char **argv)
{
	static const int allowed[] = {OPT_CONFIG, OPT_DATA_DIR, OPT_EMAIL, OPT_ACCOUNT, 0};
	char issuer[CONFIG_STR_SIZE], key_path[PATH_MAX], err[512], why[256];
	static struct config cfg;
	struct dev_idp *d = NULL;
	struct cli_args a;
	struct store *s;
	enum dev_idp_result r;
	enum store_status st;
	char *jwt = NULL;
	int rc = parse_args(argc, argv, allowed, token_usage, &a);

	if (rc != 0)
		return rc;
	if (a.help) {
		fputs(token_usage, stdout);
		return EXIT_OK;
	}
	if (a.first_operand < argc)
		return usage_error(token_usage, "unexpected argument %s", argv[a.first_operand]);
	if (!a.email)
		return usage_error(token_usage, "%s", "--email is required");
	if (a.account && !uuid_is_valid(a.account))
		return usage_error(token_usage, "%s", "--account must be an account id (a UUID)");
	s = open_store(&a.common, &cfg);
	if (s == NULL)
		return EXIT_FAILED;
	rc = EXIT_FAILED;
	if (!cfg.dev_idp_enabled) {
		fprintf(stderr, "mgmtd: [dev_idp] is not enabled in this configuration, so the "
		                "server would not trust the JWT\n");
		goto out;
	}
	if (config_dev_idp_issuer(&cfg, 0, issuer, sizeof(issuer)) != 0) {
		fprintf(stderr, "mgmtd: [server] listen has port 0, so the dev IdP's issuer is not "
		                "known offline; set [dev_idp] issuer\n");
		goto out;
	}
	config_dev_idp_key_path(&cfg, key_path);
	if (dev_idp_open(key_path, issuer, cfg.dev_idp_audience, &d, err, sizeof(err)) != 0) {
		fprintf(stderr, "mgmtd: %s\n", err);
		goto out;
	}
	r = dev_idp_mint(d, s, a.email, a.account, NULL, time_now_ms() / 1000, DEV_IDP_LIFETIME,
	                 &jwt, &st, why, sizeof(why));
	if (r == DEV_IDP_STORE)
		fprintf(stderr, "mgmtd: store error: %s\n", store_status_name(st));
	else if (r != DEV_IDP_OK)
		fprintf(stderr, "mgmtd: %s\n", why);
	else {
		printf("%s\n", jwt);
		rc = EXIT_OK;
	}
	free(jwt);
out:
	dev_idp_free(d);
	store_close(s);
	return rc;
}

int cli_token(int argc, char **argv)
{
	static const struct subcommand subs[] = {{"mint", token_mint}, {NULL, NULL}};

	return run_subcommand(argc, argv, token_usage, "token", subs);
}

/* ---- version ---- */

static const char version_usage[] =
    "usage: mgmtd version\n"
    "  Prints mgmtd's version and the versions of the libraries it\n"
    "  runs with and was built with. Also: mgmtd --version.\n";

int cli_version(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(version_usage, stdout);
		return EXIT_OK;
	}
	if (argc > 1)
		return usage_error(version_usage, "unexpected argument %s", argv[1]);
	version_print(stdout);
	return EXIT_OK;
}

/* ---- audit ---- */

static const char audit_usage[] =
    "usage: mgmtd audit list --account ID [--since T] [--until T] [--action A] [--actor X]\n"
    "                        [--limit N] [--format table|json]\n"
    "  The account's audit trail, newest first: every change made through the API or\n"
    "  these commands, every refused change and every refused credential. --since and\n"
    "  --until are RFC 3339 (since inclusive, until exclusive); --action is an action\n"
    "  (database.create) or a prefix ending in * (database.*); --actor is a user or\n"
    "  management-token id, or a credential as shown (M.V1.abcd); --limit defaults to\n"
    "  100. Takes --config FILE and --data-dir DIR, and works while the server runs.\n";

static int audit_list(int argc, char **argv)
{
	static const int allowed[] = {OPT_CONFIG, OPT_DATA_DIR, OPT_ACCOUNT, OPT_SINCE,  OPT_UNTIL,
	                              OPT_ACTION, OPT_ACTOR,    OPT_LIMIT,   OPT_FORMAT, 0};
	struct store_audit_filter f = {.limit = 100};
	struct store_audit_event *events = NULL;
	struct cli_args a;
	struct config cfg;
	struct store *s;
	enum store_status st;
	int64_t limit;
	size_t n = 0;
	bool json;
	int rc = parse_args(argc, argv, allowed, audit_usage, &a);

	if (rc != 0)
		return rc;
	if (a.help) {
		fputs(audit_usage, stdout);
		return EXIT_OK;
	}
	if (a.first_operand < argc)
		return usage_error(audit_usage, "unexpected argument %s", argv[a.first_operand]);
	if (!a.account)
		return usage_error(audit_usage, "%s", "--account is required");
	if ((rc = parse_format(audit_usage, a.format, &json)) != 0)
		return rc;
	if (a.since && time_parse_rfc3339(a.since, &f.since) != 0)
		return usage_error(audit_usage, "--since must be an RFC 3339 date-time, not %s",
		                   a.since);
	if (a.until && time_parse_rfc3339(a.until, &f.until) != 0)
		return usage_error(audit_usage, "--until must be an RFC 3339 date-time, not %s",
		                   a.until);
	if (a.limit) {
		if (!id_parse(a.limit, &limit) || limit > 1000000)
			return usage_error(audit_usage,
			                   "--limit must be an integer from 1 to 1000000");
		f.limit = (size_t)limit;
	}
	f.action = a.action;
	f.actor = a.actor;
	s = open_store(&a.common, &cfg);
	if (s == NULL)
		return EXIT_FAILED;
	rc = EXIT_FAILED;
	if (need_account(s, a.account) != 0)
		goto out;
	st = store_audit_list(s, a.account, &f, &events, &n);
	if (st != STORE_OK) {
		fprintf(stderr, "mgmtd: store error: %s\n", store_status_name(st));
		goto out;
	}
	if (json) {
		json_t *list = json_array();

		for (size_t i = 0; list && i < n; i++)
			view_list_append(&list, view_audit_event(&events[i]));
		rc = print_json(list);
		goto out;
	}
	printf("%-24s  %-26s  %-7s  %-52s  %s\n", "TIME", "ACTION", "OUTCOME", "ACTOR", "OBJECT");
	for (size_t i = 0; i < n; i++) {
		const struct store_audit_event *e = &events[i];
		char when[RFC3339_SIZE], who[STORE_AUDIT_CREDENTIAL_SIZE + 64];
		char who_shown[SHOWN_SIZE(sizeof(who))], object[SHOWN_SIZE(sizeof(e->object_id))];

		time_format_rfc3339(e->at, when);
		snprintf(who, sizeof(who), "%s %s", e->actor_type,
		         e->actor_id[0] ? e->actor_id : e->credential);
		printf("%-24s  %-26s  %-7s  %-52s  %s\n", when, e->action, e->outcome,
		       shown(who, who_shown, sizeof(who_shown)),
		       e->object_id[0] ? shown(e->object_id, object, sizeof(object)) : "-");
	}
	rc = EXIT_OK;
out:
	free(events);
	store_close(s);
	return rc;
}

int cli_audit(int argc, char **argv)
{
	static const struct subcommand subs[] = {{"list", audit_list}, {NULL, NULL}};

	return run_subcommand(argc, argv, audit_usage, "audit", subs);
}

/* ---- backup, restore, verify ---- */

static const char backup_usage[] =
    "usage: mgmtd backup --to FILE [--config FILE] [--data-dir DIR]\n"
    "  Copies the store (mgmtd.db) to FILE, which must not exist, as one consistent\n"
    "  state, while servers keep running and writing. FILE holds keyed hashes only:\n"
    "  token.key is not in it, and a restore needs the same key.\n";

static const char restore_usage[] =
    "usage: mgmtd restore --from FILE [--force] [--config FILE] [--data-dir DIR]\n"
    "  Puts the backup FILE in place of the data directory's store. Refused while a\n"
    "  server runs on the directory, when FILE does not check out or is newer than\n"
    "  this mgmtd, and when the directory's token.key is not the key the backup was\n"
    "  made with (--force restores anyway: every stored token is then invalid).\n";

static const char verify_usage[] =
    "usage: mgmtd verify [FILE] [--config FILE] [--data-dir DIR]\n"
    "  Checks the data directory's store, or the backup FILE: integrity, schema\n"
    "  version, and the fingerprint of the token.key it was made with against the\n"
    "  data directory's key. Changes nothing. Exit 0 when all is well, 1 when not.\n";

/* Reads the common options of backup, restore and verify; cfg is loaded. */
static int store_file_command(int argc, char **argv, const int *allowed, const char *usage,
                              struct cli_args *a, struct config *cfg)
{
	int rc = parse_args(argc, argv, allowed, usage, a);

	if (rc != 0)
		return rc;
	if (a->help) {
		fputs(usage, stdout);
		return -1;
	}
	if (cli_load_config(&a->common, cfg) != 0)
		return EXIT_FAILED;
	return 0;
}

int cli_backup(int argc, char **argv)
{
	static const int allowed[] = {OPT_CONFIG, OPT_DATA_DIR, OPT_TO, 0};
	static struct config cfg;
	struct cli_args a;
	int rc = store_file_command(argc, argv, allowed, backup_usage, &a, &cfg);

	if (rc != 0)
		return rc < 0 ? EXIT_OK : rc;
	if (a.first_operand < argc)
		return usage_error(backup_usage, "unexpected argument %s", argv[a.first_operand]);
	if (!a.to)
		return usage_error(backup_usage, "%s", "--to FILE is required");
	return backup_to(&cfg, a.to, stdout);
}

int cli_restore(int argc, char **argv)
{
	static const int allowed[] = {OPT_CONFIG, OPT_DATA_DIR, OPT_FROM, OPT_FORCE, 0};
	static struct config cfg;
	struct cli_args a;
	int rc = store_file_command(argc, argv, allowed, restore_usage, &a, &cfg);

	if (rc != 0)
		return rc < 0 ? EXIT_OK : rc;
	if (a.first_operand < argc)
		return usage_error(restore_usage, "unexpected argument %s", argv[a.first_operand]);
	if (!a.from)
		return usage_error(restore_usage, "%s", "--from FILE is required");
	return backup_restore(&cfg, a.from, a.force, stdout);
}

int cli_verify(int argc, char **argv)
{
	static const int allowed[] = {OPT_CONFIG, OPT_DATA_DIR, 0};
	static struct config cfg;
	const char *file = NULL;
	struct cli_args a;
	int rc;

	/* FILE may come first or after the options. */
	if (argc > 1 && argv[1][0] != '-') {
		file = argv[1];
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	rc = store_file_command(argc, argv, allowed, verify_usage, &a, &cfg);
	if (rc != 0)
		return rc < 0 ? EXIT_OK : rc;
	if (a.first_operand < argc && file == NULL)
		file = argv[a.first_operand++];
	if (a.first_operand < argc)
		return usage_error(verify_usage, "unexpected argument %s", argv[a.first_operand]);
	return backup_verify(&cfg, file, stdout);
}
