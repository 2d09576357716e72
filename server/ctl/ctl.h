/*
 * ctl.h - mgmtctl, the influxctl look-alike client of mgmtd: the state of
 * one run, the command table's types, and every cross-file function of the
 * client, under the file that defines it.
 *
 * The reference for commands, flags and printed shapes is influxctl's
 * public documentation (../shared/INFLUXCTL.md); docs/mgmtctl.md says what
 * mgmtctl does, including where influxctl's documentation is silent.
 */
#ifndef MGMTCTL_CTL_H
#define MGMTCTL_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "profile.h"
#include "timeutil.h"

#define MGMTCTL_VERSION "0.1.0"

/* Exit status (CONTRACT 7). */
enum { CTL_OK = 0, CTL_FAILED = 1, CTL_USAGE = 2 };

/* ---- the command table (commands.c) ---- */

enum ctl_flag_kind {
	FLAG_BOOL,  /* --force, --force=true|false */
	FLAG_VALUE, /* --format json, --format=json; the last one given wins */
	FLAG_LIST,  /* --read-database a --read-database b: repeatable, in order */
};

struct ctl_flag {
	const char *name; /* without dashes; NULL ends a list */
	enum ctl_flag_kind kind;
	const char *value_name; /* in help: --format FORMAT */
	const char *choices;    /* the values it takes, space-separated; NULL = any */
	const char *help;
};

#define CTL_MAX_FLAGS 16
#define CTL_MAX_LIST  64

struct ctl_command;

/* What one command line said. Strings point into argv. */
struct ctl_args {
	const struct ctl_command *cmd;
	const struct ctl_flag *flags; /* the flags the values below are for */
	bool given[CTL_MAX_FLAGS];
	const char *value[CTL_MAX_FLAGS]; /* FLAG_VALUE, and "true"/"false" for FLAG_BOOL */
	const char *list[CTL_MAX_FLAGS][CTL_MAX_LIST];
	size_t list_count[CTL_MAX_FLAGS];
	char **pos; /* positional arguments */
	size_t npos;
};

/* What a command needs before it runs. */
enum { NEEDS_ACCOUNT = 1 << 0, NEEDS_CLUSTER = 1 << 1, NO_SETTINGS = 1 << 2 };

struct ctl;

struct ctl_command {
	const char *noun, *verb, *alias; /* alias may be NULL */
	const char *arguments;           /* shown after the options in the usage line */
	const char *summary;
	const struct ctl_flag *flags;
	int min_args, max_args; /* max_args -1: any number */
	unsigned needs;
	int (*run)(struct ctl *c, const struct ctl_args *a);
};

struct ctl_noun {
	const char *name;
	const char *summary;
};

/*
 * A word under a noun that leads to verbs of its own, as influxctl's
 * `table iceberg enable`: its commands' verb is "NAME VERB" ("iceberg enable"),
 * so that usage lines and help print the whole command.
 */
struct ctl_group {
	const char *noun, *name;
	const char *summary;
};

extern const struct ctl_command ctl_commands[];
extern const size_t ctl_command_count;
extern const struct ctl_noun ctl_nouns[];
extern const size_t ctl_noun_count;
extern const struct ctl_group ctl_groups[];
extern const size_t ctl_group_count;
extern const struct ctl_flag ctl_global_flags[];

/* ---- one run ---- */

enum ctl_credential_kind { CRED_NONE, CRED_MGMT_TOKEN, CRED_TOKEN_FILE, CRED_IDP };

struct ctl {
	struct ctl_settings settings;
	int64_t timeout_ms; /* per API call; 0 = none */
	int verbosity;      /* 0, 1 (--debug), 2 (--trace) */
	bool json;          /* --format json */
	/* the command running: its flags name the API's fields in error messages */
	const struct ctl_command *cmd;

	/* the credential for mgmtd, once found (auth.c) */
	char *credential;
	enum ctl_credential_kind credential_kind;
	char *cache_path; /* the cache file it came from or went to (CRED_IDP) */

	/* secrets met during this run, redacted from --debug/--trace output */
	char *secrets[8];
	size_t secret_count;

	/* warnings said once a run: credential and sign-in over http://, insecure = true */
	bool warned_cleartext_api, warned_cleartext_idp, warned_insecure, warned_tls_key;
};

/* ---- args.c: command lines ---- */

/*
 * Parses argv[0..argc) for cmd's flags (before, between and after the
 * positional arguments; "--" ends them), storing global flags met on the way
 * into globals. Returns CTL_OK; CTL_USAGE after printing why and the usage;
 * or -1 when -h/--help was asked (the help is printed, the run ends with 0).
 */
int args_parse(const struct ctl_command *cmd, const struct ctl_flag *flags, int argc, char **argv,
               struct ctl_args *out, struct ctl_args *globals);

/* A flag's value (the last given), or NULL. */
const char *args_value(const struct ctl_args *a, const char *name);
/* A FLAG_BOOL's value. */
bool args_bool(const struct ctl_args *a, const char *name);
/* A FLAG_LIST's values, in order; *n set. */
const char *const *args_list(const struct ctl_args *a, const char *name, size_t *n);
bool args_given(const struct ctl_args *a, const char *name);

/* Words longer than this are never near another (the edit distance's table is on the stack). */
#define ARGS_WORD_MAX 64
/* Edits (insert, delete, change, swap of neighbours) from a to b; SIZE_MAX past ARGS_WORD_MAX. */
size_t args_edit_distance(const char *a, const char *b);
/* Whether typed, distance edits from candidate, is worth a "did you mean". */
bool args_close_enough(const char *typed, const char *candidate, size_t distance);

/* "error<TAB>message", then the command's usage line; returns CTL_USAGE. */
int args_usage_error(const struct ctl_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* --format: sets c->json; CTL_USAGE (printed) for anything but table or json. */
int args_format(struct ctl *c, const struct ctl_args *a);

/*
 * An --expires-at flag (RFC 3339, or an offset without colon) as the API's
 * RFC 3339 into out; "" when not given. CTL_OK or CTL_USAGE (printed).
 */
int args_instant(const struct ctl_args *a, const char *name, char out[RFC3339_SIZE]);

/*
 * --expiring-within DURATION (duration.h, as --retention-period) as the query
 * of a token list, "?expiringWithin=<ms>ms" appended to path (of size
 * pathsize); nothing when the flag is not given. The API's unit is whole
 * milliseconds: a fraction of one counts as one. CTL_OK or CTL_USAGE (printed).
 */
int args_expiring_within(const struct ctl_args *a, char *path, size_t pathsize);

/* An integer flag of at least min, when given. CTL_OK or CTL_USAGE (printed). */
int args_int(const struct ctl_args *a, const char *name, long long min, long long max,
             long long *out, bool *given);

/* ---- commands.c: help ---- */

void commands_help_top(FILE *f);
void commands_help_noun(FILE *f, const char *noun);
void commands_help_command(FILE *f, const struct ctl_command *cmd);
/* "mgmtctl NOUN VERB [command options] ARGS" */
void commands_usage_line(FILE *f, const struct ctl_command *cmd);
const struct ctl_command *commands_find(const char *noun, const char *verb);
bool commands_noun_exists(const char *noun);
/* The group of noun named word ("table", "iceberg"); NULL when there is none. */
const struct ctl_group *commands_find_group(const char *noun, const char *word);
/* The command of group g whose own verb is verb ("enable"); NULL when none. */
const struct ctl_command *commands_find_in_group(const struct ctl_group *g, const char *verb);
void commands_help_group(FILE *f, const struct ctl_group *g);
/* For "did you mean": the noun (or the noun's command) nearest to a mistyped word; NULL when
 * none is near. */
const char *commands_nearest_noun(const char *typed);
const struct ctl_command *commands_nearest_verb(const char *noun, const char *typed);
/* The group of noun ("iceberg") nearest to a mistyped word; NULL when none is near. */
const struct ctl_group *commands_nearest_group(const char *noun, const char *typed);
/* The command of group g whose own verb is nearest to a mistyped word; NULL when none. */
const struct ctl_command *commands_nearest_in_group(const struct ctl_group *g, const char *typed);
/* The bash completion script (`mgmtctl completion bash`). */
void commands_bash_completion(FILE *f);

/* ---- client.c: HTTP ---- */

struct ctl_response {
	long status;
	char *body; /* NUL-terminated, len bytes before it */
	size_t len;
	char *content_type;
};

/* libcurl's global state: once, at start. */
int client_init(void);
void client_cleanup(void);

/*
 * One HTTP exchange with url: body (may be NULL) sent with content_type,
 * bearer (may be NULL) as "Authorization: Bearer ...". TLS settings of the
 * profile apply when url is mgmtd's. Logs on --debug/--trace with secrets
 * redacted. Returns 0 when an answer came (any status), -1 with a sentence
 * naming the URL and the cause in err.
 */
int client_exchange(struct ctl *c, const char *method, const char *url, const char *bearer,
                    const char *content_type, const char *body, size_t body_len,
                    struct ctl_response *out, char *err, size_t errlen);
void client_response_release(struct ctl_response *r);

/* Takes a 2xx answer's body as it arrives, instead of it being kept. */
struct ctl_body_sink {
	/* 0 to go on; anything else ends the exchange (the sink knows why) */
	int (*take)(void *arg, const char *data, size_t len);
	void *arg;
};

/*
 * client_exchange with the body of a 2xx answer given to sink as it comes
 * (out->body stays empty); other answers are kept as client_exchange keeps
 * them. With a sink, the run's --timeout bounds each wait for the server
 * (to connect, to answer, then between two pieces of the body) instead of
 * the whole exchange, and time spent inside take() does not count: a long
 * list printed into a pager that waits for its reader does not time out.
 */
int client_exchange_to(struct ctl *c, const char *method, const char *url, const char *bearer,
                       const char *content_type, const char *body, size_t body_len,
                       const struct ctl_body_sink *sink, struct ctl_response *out, char *err,
                       size_t errlen);

/*
 * A warn line when url is http:// to a host that is not loopback: what (a
 * sentence's subject: "the credential") goes there in clear, for anyone on
 * the way to read. Nothing for https:// or loopback, nor when *once is set
 * (it is set when warned: once a run).
 */
void client_warn_cleartext(const char *url, const char *what, bool *once);

/* "k=v&k=v" of the NULL-terminated key, value list, percent-encoded; malloc'ed. */
char *client_form(const char *const kv[]);

/* Remembers a secret to redact from debug output (copied). */
void client_add_secret(struct ctl *c, const char *secret);
void client_forget_secrets(struct ctl *c);

/*
 * A copy of text fit for --trace output: JSON and form fields holding
 * secrets, bearer headers, management and database tokens, JWTs and every
 * secret given to client_add_secret replaced by [REDACTED]. malloc'ed.
 */
char *client_redact(const struct ctl *c, const char *text, size_t len);

/*
 * Calls mgmtd's API: path (already encoded) below the URL, body (may be NULL)
 * sent as JSON, with the run's credential (found or signed in on first use).
 * A 2xx sets *answer (a new reference, or NULL for 204 or when answer is
 * NULL) and returns CTL_OK; anything else is printed and returns CTL_FAILED.
 */
int ctl_api(struct ctl *c, const char *method, const char *path, const json_t *body,
            json_t **answer);

/* Called with each item of a list; 0 to go on, or -1 having printed why. */
typedef int (*ctl_item_fn)(void *arg, const json_t *item);

/*
 * GETs the list at path and gives each of its items to each() as it
 * arrives (jsonsplit.h), never holding more than one: a list of any length
 * in bounded memory. CTL_OK once the whole list came; else CTL_FAILED,
 * printed: an error answer as ctl_api prints it, an answer that is not a
 * JSON array of JSON items, or a list cut off (the connection closed or
 * --timeout passed between two pieces), after the items already given.
 */
int ctl_api_list(struct ctl *c, const char *path, ctl_item_fn each, void *arg);

/*
 * Builds "/api/v0/accounts/{account}[/clusters/{cluster}]/seg/seg..." with
 * each segment percent-encoded, into out. with_cluster adds the run's
 * cluster. The segments end with NULL. Returns 0, or -1 (printed) when it does not fit.
 */
int ctl_path(const struct ctl *c, bool with_cluster, char *out, size_t size, ...)
    __attribute__((sentinel));

/* ---- confirm.c ---- */

/*
 * Asks question (ending in "?") and " [y/N] " on the terminal. --force
 * (force) answers yes; without a terminal on stdin the answer is no and the
 * message says to use --force. Returns true to go on.
 */
bool ctl_confirm(bool force, const char *question);

/* ---- auth.c: credentials and `auth` ---- */

/* Finds the credential: mgmt_token, token_file, cached login, or a new login. CTL_OK or printed
 * CTL_FAILED. */
int auth_ensure(struct ctl *c);
/* mgmtd answered 401: a cached login is removed (said on stderr). */
void auth_refused(struct ctl *c);
int ctl_auth_login(struct ctl *c, const struct ctl_args *a);
int ctl_auth_logout(struct ctl *c, const struct ctl_args *a);

/* ---- the nouns ---- */

/* cluster.c */
int ctl_cluster_list(struct ctl *c, const struct ctl_args *a);
int ctl_cluster_get(struct ctl *c, const struct ctl_args *a);

/* database.c */
int ctl_database_create(struct ctl *c, const struct ctl_args *a);
int ctl_database_list(struct ctl *c, const struct ctl_args *a);
int ctl_database_update(struct ctl *c, const struct ctl_args *a);
int ctl_database_delete(struct ctl *c, const struct ctl_args *a);
int ctl_database_rename(struct ctl *c, const struct ctl_args *a);
int ctl_database_undelete(struct ctl *c, const struct ctl_args *a);
/*
 * The partition template of --template-tag, --template-tag-bucket and
 * --template-timeformat (shared with table.c): NULL in *out when none was
 * given. CTL_OK or CTL_USAGE (printed).
 */
int database_template_flags(const struct ctl_args *a, json_t **out);
/* A REST partition template in a table cell ("" when absent); malloc'ed. */
char *database_template_text(const json_t *template);
/* The REST template in influxctl's JSON (snake_case), or NULL when absent. */
json_t *database_template_json(const json_t *template);

/* table.c */
int ctl_table_create(struct ctl *c, const struct ctl_args *a);
int ctl_table_list(struct ctl *c, const struct ctl_args *a);
int ctl_table_delete(struct ctl *c, const struct ctl_args *a);
int ctl_table_rename(struct ctl *c, const struct ctl_args *a);
int ctl_table_undelete(struct ctl *c, const struct ctl_args *a);
int ctl_table_iceberg_enable(struct ctl *c, const struct ctl_args *a);
int ctl_table_iceberg_disable(struct ctl *c, const struct ctl_args *a);

/* token.c */
int ctl_token_create(struct ctl *c, const struct ctl_args *a);
int ctl_token_list(struct ctl *c, const struct ctl_args *a);
int ctl_token_get(struct ctl *c, const struct ctl_args *a);
int ctl_token_update(struct ctl *c, const struct ctl_args *a);
int ctl_token_revoke(struct ctl *c, const struct ctl_args *a);
int ctl_token_rotate(struct ctl *c, const struct ctl_args *a);
int ctl_token_suspend(struct ctl *c, const struct ctl_args *a);
int ctl_token_resume(struct ctl *c, const struct ctl_args *a);

/* management.c */
int ctl_management_create(struct ctl *c, const struct ctl_args *a);
int ctl_management_list(struct ctl *c, const struct ctl_args *a);
int ctl_management_revoke(struct ctl *c, const struct ctl_args *a);
int ctl_management_rotate(struct ctl *c, const struct ctl_args *a);
int ctl_management_suspend(struct ctl *c, const struct ctl_args *a);
int ctl_management_resume(struct ctl *c, const struct ctl_args *a);

/* user.c */
int ctl_user_list(struct ctl *c, const struct ctl_args *a);

/* config.c: the `config show`, `version` and `completion` commands */
int ctl_config_show(struct ctl *c, const struct ctl_args *a);
int ctl_version(struct ctl *c, const struct ctl_args *a);
int ctl_completion(struct ctl *c, const struct ctl_args *a);

/* ---- listing.c: lists, printed as they arrive ---- */

struct out_table;

/* Adds one row (a list) or the rows of one object (key/value) to t; 0 or -1. */
typedef int (*ctl_rows_fn)(struct out_table *t, const json_t *rest);
/* influxctl's JSON of one REST object; a new reference, NULL when out of memory. */
typedef json_t *(*ctl_json_fn)(const json_t *rest);

/*
 * GETs the REST list at path and prints it as it arrives, in bounded memory
 * whatever its length (docs/mgmtctl.md, "Long lists"): as the table t (taken;
 * a row per item from row()) or, with --format json, as the array of json()
 * of each item. With sort_key (a REST string field; absent sorts first,
 * equals keep the API's order) the items are sorted first, through
 * temporary files past a bound (extsort.h), and the table is as wide as its
 * widest cell; without, a table holds its rows up to a bound and then
 * prints them as they come in the widths met so far (output.h). CTL_OK or
 * CTL_FAILED (printed; a list cut off leaves its output without its end).
 */
int ctl_show_list(struct ctl *c, const char *path, struct out_table *t, ctl_rows_fn row,
                  ctl_json_fn json, const char *sort_key);

/* ---- shared by the nouns (commands.c) ---- */

/* Calls method path with body (may be NULL) and prints the answer, one object, with kv() or json().
 */
int ctl_show_object(struct ctl *c, const char *method, const char *path, const json_t *body,
                    ctl_rows_fn kv, ctl_json_fn json);

/* The renames: PUT {"name": name} to path, then the answer as ctl_show_object prints it. */
int ctl_rename(struct ctl *c, const char *path, const char *name, ctl_rows_fn kv, ctl_json_fn json);

/* Prints one REST object already fetched: a key/value table from kv() or json(). */
int ctl_print_object(struct ctl *c, const json_t *obj, ctl_rows_fn kv, ctl_json_fn json);

/*
 * Both creates of a token with a secret (shared with token.c): POSTs body to
 * path, then prints the key/value table (id, description, expires at,
 * revoked at) on stdout, the two warn lines on stderr, and the secret alone
 * on stdout; with --format json, json() of the answer plus access_token
 * instead of the table and the secret. CTL_OK or CTL_FAILED (printed).
 */
int management_create_secret(struct ctl *c, const char *path, const json_t *body, ctl_json_fn json);

/*
 * The rotations of both kinds (mgmtd extensions): POSTs {"graceSeconds": N}
 * (from --grace; without it the server's default) to path and prints as
 * management_create_secret, with one more warn line saying until when the
 * previous secret works.
 */
int management_rotate_secret(struct ctl *c, const struct ctl_args *a, const char *path,
                             ctl_json_fn json);

/*
 * Adds the lifecycle's keys (mgmtd extensions) to influxctl's JSON of a token,
 * after influxctl's own and only when set: suspended_at and
 * previous_secret_expires_at, timestamps as influxctl prints them. 0 or -1.
 */
int lifecycle_json(json_t *o, const json_t *rest);

/* suspend and resume of both kinds: POSTs to path, then ctl_say_done(done, what, id). */
int management_post_verb(struct ctl *c, const char *path, const char *done, const char *what,
                         const char *id);

/* One line on stdout saying what was done: "deleted database mydb". */
void ctl_say_done(const char *done, const char *what, const char *id);

/*
 * The revoke and delete commands: asks once for all items (unless --force),
 * then runs one() on each, going on after a failure as influxctl does since
 * 2.9.8, and says "<done> <what> <item>" for each success. CTL_OK when all
 * succeeded, else CTL_FAILED.
 */
int ctl_for_each(struct ctl *c, const struct ctl_args *a, const char *verb, const char *done,
                 const char *what, const char *warning,
                 int (*one)(struct ctl *c, const char *item));

#endif
