/*
 * harness.c - the shared part of the fuzzers (see harness.h).
 */
#define _GNU_SOURCE /* memmem */
#include "harness.h"

#include <dirent.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dispatch.h"
#include "log.h"
#include "mgmt.h"
#include "reply.h"
#include "dbtoken.h"
#include "request.h"
#include "seed.h"
#include "store.h"
#include "timeutil.h"

/*
 * Two accounts, one cluster, an admin and a member in A, an admin in B, one
 * database in A's cluster; build() adds a table and a database token.
 */
static const char seed_text[] =
    "{\"accounts\": ["
    "  {\"id\": \"" FUZZ_ACCOUNT_A "\", \"name\": \"Account A\"},"
    "  {\"id\": \"" FUZZ_ACCOUNT_B "\", \"name\": \"Account B\"}],"
    " \"clusters\": ["
    "  {\"id\": \"" FUZZ_CLUSTER_A "\", \"accountId\": \"" FUZZ_ACCOUNT_A "\","
    "   \"name\": \"cluster-a\"}],"
    " \"users\": ["
    "  {\"accountId\": \"" FUZZ_ACCOUNT_A "\", \"email\": \"admin@example.com\","
    "   \"group\": \"admin\", \"idpSubject\": \"admin-1\"},"
    "  {\"accountId\": \"" FUZZ_ACCOUNT_A "\", \"email\": \"member@example.com\","
    "   \"group\": \"member\"},"
    "  {\"accountId\": \"" FUZZ_ACCOUNT_B "\", \"email\": \"admin-b@example.com\","
    "   \"group\": \"admin\"}],"
    " \"databases\": ["
    "  {\"accountId\": \"" FUZZ_ACCOUNT_A "\", \"clusterId\": \"" FUZZ_CLUSTER_A "\","
    "   \"name\": \"fuzzdb\"}]}";

static char tempdirs[8][PATH_MAX];
static size_t tempdir_count;

static void die(const char *what)
{
	fprintf(stderr, "fuzz harness: %s\n", what);
	abort();
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX + 256];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void remove_tempdirs(void)
{
	for (size_t i = 0; i < tempdir_count; i++)
		remove_tree(tempdirs[i]);
}

void fuzz_tempdir(char *out, size_t size)
{
	const char *base = getenv("TMPDIR");
	int n;

	if (base == NULL || base[0] == '\0')
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	n = snprintf(out, size, "%s/mgmtd-fuzz.XXXXXX", base);
	if (n < 0 || (size_t)n >= size || mkdtemp(out) == NULL)
		die("cannot make a temporary directory");
	if (tempdir_count == sizeof(tempdirs) / sizeof(tempdirs[0]))
		die("too many temporary directories");
	if (tempdir_count == 0)
		atexit(remove_tempdirs);
	snprintf(tempdirs[tempdir_count++], PATH_MAX, "%s", out);
}

static void user_id(struct store *s, const char *email, char out[UUID_STR_SIZE])
{
	struct store_user u;

	if (store_user_by_email(s, FUZZ_ACCOUNT_A, email, &u) != STORE_OK)
		die("seeded user missing");
	memcpy(out, u.id, UUID_STR_SIZE);
}

/* A table "t1" in fuzzdb and a database token reading it, for the v0 API's rows. */
static void add_table_and_db_token(struct store *s, struct fuzz_server *fs)
{
	struct store_database db;
	struct store_table table;
	struct store_db_token t;
	char secret[TOKEN_DB_SIZE];

	if (store_database_get(s, FUZZ_ACCOUNT_A, FUZZ_CLUSTER_A, "fuzzdb", &db) != STORE_OK)
		die("seeded database missing");
	memset(&table, 0, sizeof(table));
	table.database_id = db.id;
	snprintf(table.name, sizeof(table.name), "t1");
	table.created_at = time_now_ms();
	if (store_table_insert(s, &table) != STORE_OK)
		die("cannot add the harness table");
	memset(&t, 0, sizeof(t));
	snprintf(t.account_id, sizeof(t.account_id), "%s", FUZZ_ACCOUNT_A);
	snprintf(t.cluster_id, sizeof(t.cluster_id), "%s", FUZZ_CLUSTER_A);
	snprintf(t.description, sizeof(t.description), "fuzz reader");
	t.permission_count = 1;
	t.permissions[0].action = DB_ACTION_READ;
	snprintf(t.permissions[0].resource, sizeof(t.permissions[0].resource), "fuzzdb");
	snprintf(t.created_by, sizeof(t.created_by), "%s", fs->admin_id);
	t.created_at = time_now_ms();
	if (dbtoken_issue(s, &fs->app.token_key, &t, secret) != STORE_OK)
		die("cannot issue the harness database token");
	sodium_memzero(secret, sizeof(secret));
	memcpy(fs->db_token_id, t.id, UUID_STR_SIZE);
}

void fuzz_freeze_clock(void)
{
	time_fake_set(FUZZ_NOW_MS);
}

static struct fuzz_server *build(void)
{
	static struct fuzz_server fs;
	struct store_mgmt_token t;
	struct store *s = NULL;
	char err[1024], key_path[PATH_MAX + 16];

	if (sodium_init() < 0)
		die("sodium_init");
	fuzz_freeze_clock();
	/* Expected refusals (constraint failures...) must not flood the fuzzer's output. */
	log_set_level(LOGL_ERROR);
	fuzz_tempdir(fs.dir, sizeof(fs.dir));
	config_defaults(&fs.app.cfg);
	snprintf(fs.app.cfg.data_dir, sizeof(fs.app.cfg.data_dir), "%s", fs.dir);
	/* So that POST management/tokens is reachable with the harness's token. */
	fs.app.cfg.tokens_may_mint = true;
	snprintf(key_path, sizeof(key_path), "%s/token.key", fs.dir);
	if (token_key_load_or_create(key_path, &fs.app.token_key, err, sizeof(err)) != 0)
		die(err);
	config_db_path(&fs.app.cfg, fs.db_path);
	if (store_open(fs.db_path, &s, err, sizeof(err)) != 0)
		die(err);
	identity_issuers_init(&fs.app.identities, &fs.app.cfg, NULL);
	if (seed_apply_text(s, &fs.app.token_key, 7, &fs.app.identities, seed_text,
	                    sizeof(seed_text) - 1, err, sizeof(err)) != 0)
		die(err);
	user_id(s, "admin@example.com", fs.admin_id);
	user_id(s, "member@example.com", fs.member_id);
	if (mgmt_token_issue(s, &fs.app.token_key, FUZZ_ACCOUNT_A, "fuzz", 0, fs.admin_id,
	                     time_now_ms(), &t, fs.token) != STORE_OK)
		die("cannot issue the harness token");
	memcpy(fs.token_id, t.id, UUID_STR_SIZE);
	add_table_and_db_token(s, &fs);
	snprintf(fs.bearer, sizeof(fs.bearer), "Bearer %s", fs.token);
	store_close(s);
	if (store_pool_new(fs.db_path, &fs.app.stores, err, sizeof(err)) != 0)
		die(err);
	atomic_store(&fs.app.ready, true);
	return &fs;
}

struct fuzz_server *fuzz_server(void)
{
	static struct fuzz_server *fs;

	if (fs == NULL)
		fs = build();
	return fs;
}

void fuzz_expand_path(const struct fuzz_server *fs, const char *tmpl, char *out, size_t size)
{
	const struct {
		const char *name;
		const char *value;
	} vars[] = {
	    {"{accountId}", FUZZ_ACCOUNT_A},  {"{otherAccountId}", FUZZ_ACCOUNT_B},
	    {"{clusterId}", FUZZ_CLUSTER_A},  {"{tokenId}", fs->token_id},
	    {"{adminId}", fs->admin_id},      {"{memberId}", fs->member_id},
	    {"{dbTokenId}", fs->db_token_id},
	};
	size_t used = 0;

	while (*tmpl) {
		const char *value = NULL;
		size_t skip = 1, len;

		for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
			size_t n = strlen(vars[i].name);

			if (strncmp(tmpl, vars[i].name, n) == 0) {
				value = vars[i].value;
				skip = n;
				break;
			}
		}
		len = value ? strlen(value) : 1;
		if (used + len + 1 > size)
			die("expanded path too long");
		memcpy(out + used, value ? value : tmpl, len);
		used += len;
		tmpl += skip;
	}
	out[used] = '\0';
}

/* Aborts with the request and the answer when an invariant does not hold. */
static void violated(const char *what, const struct request *req, unsigned status, const char *body,
                     size_t len)
{
	fprintf(stderr, "fuzz invariant violated: %s\n  %s %s -> %u %.*s\n  message: %s\n", what,
	        req->method, req->path, status, (int)(len > 2000 ? 2000 : len), body ? body : "",
	        req->message);
	abort();
}

/*
 * True when the answer holds the harness's token and the client did not send
 * it (a description, a form field may say anything, and libFuzzer learns the
 * token from the comparisons it watches): then it came from the server.
 */
static bool leaks_token(const struct fuzz_server *fs, const struct request *req, const char *body,
                        size_t len)
{
	if (body == NULL || memmem(body, len, fs->token, TOKEN_MGMT_LEN) == NULL)
		return false;
	return req->body == NULL ||
	       memmem(req->body, req->body_len, fs->token, TOKEN_MGMT_LEN) == NULL;
}

static void check_answer(struct fuzz_server *fs, struct request *req, unsigned status,
                         const char *body, size_t len)
{
	json_error_t jerr;
	json_t *doc;

	if (status == 500)
		violated("a client's request caused a 500", req, status, body, len);
	if (status == 204) {
		if (body != NULL || len != 0)
			violated("204 with a body", req, status, body, len);
		return;
	}
	if (body == NULL || len == 0)
		violated("no body", req, status, body, len);
	if (leaks_token(fs, req, body, len))
		violated("the caller's secret is in the answer", req, status, body, len);
	doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		violated("the body is not JSON", req, status, body, len);
	if (status >= 400) {
		json_t *code = json_object_get(doc, "code");
		json_t *message = json_object_get(doc, "message");

		if (json_object_size(doc) != 2 || !json_is_integer(code) ||
		    json_integer_value(code) != (json_int_t)status || !json_is_string(message) ||
		    json_string_length(message) == 0)
			violated("error body is not {code, message}", req, status, body, len);
	} else if (!json_is_object(doc) && !json_is_array(doc)) {
		violated("200 body is neither object nor array", req, status, body, len);
	}
	json_decref(doc);
}

/*
 * A raw JSON answer (the OAuth 2.0 token endpoints', objects and lists written
 * from rows): an object or, answering 2xx, a list; an error one carries its
 * "error" code. It may quote the request: JSON with nosniff is never rendered
 * as markup.
 */
static void check_raw_json(struct request *req, unsigned status, const char *body, size_t len)
{
	json_t *doc = json_loadb(body, len, 0, NULL);

	/* lists written from rows (views.h) are raw JSON answers too */
	if (!json_is_object(doc) && !(status < 300 && json_is_array(doc)))
		violated("a JSON answer that is neither an object nor a list", req, status, body,
		         len);
	if (status >= 400 && !json_is_string(json_object_get(doc, "error")))
		violated("an OAuth error without its \"error\" code", req, status, body, len);
	json_decref(doc);
}

/*
 * The only places mgmtd redirects to: the Admin UI from /ui, and the UI's
 * page of the dev IdP the fuzzers open (issuer http://127.0.0.1:1), with a code.
 */
static bool known_redirect(const char *location)
{
	static const char ui_with_code[] = "http://127.0.0.1:1/ui/?code=";

	return location != NULL && (strcmp(location, "/ui/") == 0 ||
	                            strncmp(location, ui_with_code, sizeof(ui_with_code) - 1) == 0);
}

/*
 * A raw answer: no 500; a redirect goes to the Admin UI only (no code is
 * ever sent elsewhere); a page never holds markup that came from the request
 * (everything is escaped), nor the secret.
 */
static void check_raw_answer(struct fuzz_server *fs, struct request *req, unsigned status)
{
	const struct raw_answer *raw = req->raw;
	const char *body = raw->body;
	size_t len = raw->len;

	if (status == 500)
		violated("a client's request caused a 500", req, status, body, len);
	if (status == 303 && !known_redirect(raw->location))
		violated("a redirect elsewhere than the Admin UI", req, status, body, len);
	/* a list streamed from the store has no body here: fuzz_lists reads those */
	if (status != 303 && status != 304 && raw->stream == NULL &&
	    (body == NULL || raw->content_type == NULL))
		violated("a raw answer without a body or a type", req, status, body, len);
	if (body && raw->content_type && strcmp(raw->content_type, "application/json") == 0)
		check_raw_json(req, status, body, len);
	else if (body && (memmem(body, len, "<script", 7) || memmem(body, len, "<x", 2)))
		violated("the page holds markup from the request", req, status, body, len);
	if (leaks_token(fs, req, body, len))
		violated("the page holds the caller's secret", req, status, body, len);
}

unsigned fuzz_request(struct fuzz_server *fs, const char *method, const char *path,
                      const char *authorization, const char *content_type, const char *body,
                      size_t body_len)
{
	struct request req;
	struct store *s;
	unsigned status;
	size_t len;
	char *out;

	s = store_pool_get(fs->app.stores);
	if (s == NULL || store_tx_begin(s) != STORE_OK)
		die("cannot begin the request's transaction");
	request_init(&req, &fs->app);
	req.method = method;
	req.path = path;
	req.authorization = authorization;
	req.content_type = content_type;
	req.body = body;
	req.body_len = body_len;
	req.body_too_large = body_len > REQUEST_MAX_BODY;
	dispatch_request(&req);
	if (req.raw) {
		/* A page, a file or a redirect (request.h): http.c sends it as it is. */
		status = api_http_status(req.status);
		store_tx_rollback(s);
		check_raw_answer(fs, &req, status);
		request_release(&req);
		return status;
	}
	out = reply_render(&req, &len, &status);
	store_tx_rollback(s);
	check_answer(fs, &req, status, out, len);
	free(out);
	request_release(&req);
	return status;
}
