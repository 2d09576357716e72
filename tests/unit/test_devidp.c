/*
 * test_devidp.c - the built-in dev identity provider: its key file, its
 * published JWKS and discovery document, and the JWTs it mints, checked with
 * the same verifier that checks real identity providers' JWTs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devidp.h"
#include "identity.h"
#include "idtoken.h"
#include "jwks.h"
#include "store.h"

#define ISSUER "http://127.0.0.1:8080"
#define ACCT   "11111111-1111-4111-8111-111111111111"
#define ACCT2  "22222222-2222-4222-8222-222222222222"
#define NOW    INT64_C(1700000000)

static char dir[] = "/tmp/test_devidp.XXXXXX";
static char key_path[128], db_path[128];
static struct store *st;

/* A user; one with a subject is bound to issuer (identity.h), "" leaves it unbound. */
static void add_user_at(const char *account, const char *id, const char *email, const char *subject,
                        const char *issuer)
{
	struct store_user u;

	memset(&u, 0, sizeof(u));
	strcpy(u.id, id);
	strcpy(u.account_id, account);
	strcpy(u.email, email);
	strcpy(u.idp_subject, subject);
	strcpy(u.idp_issuer, issuer);
	strcpy(u.first_name, "Ada");
	u.group = GROUP_ADMIN;
	u.created_at = NOW * 1000;
	assert_int_equal(store_user_insert(st, &u), STORE_OK);
}

static void add_user(const char *account, const char *id, const char *email, const char *subject)
{
	add_user_at(account, id, email, subject, subject[0] ? IDENTITY_DEV_IDP : "");
}

static int setup(void **state)
{
	struct store_account a = {.id = ACCT, .name = "A", .created_at = 1};
	struct store_account b = {.id = ACCT2, .name = "B", .created_at = 1};
	char err[256];

	if (sodium_init() < 0 || !mkdtemp(dir))
		return -1;
	snprintf(key_path, sizeof(key_path), "%s/dev-idp.key", dir);
	snprintf(db_path, sizeof(db_path), "%s/mgmtd.db", dir);
	if (store_open(db_path, &st, err, sizeof(err)) != 0)
		return -1;
	if (store_account_ensure(st, &a) != STORE_OK || store_account_ensure(st, &b) != STORE_OK)
		return -1;
	add_user(ACCT, "44444444-4444-4444-8444-444444444441", "admin@example.com", "");
	add_user(ACCT, "44444444-4444-4444-8444-444444444442", "sub@example.com", "idp-sub-1");
	/* the same email in two accounts with different subjects: ambiguous */
	add_user(ACCT, "44444444-4444-4444-8444-444444444443", "twice@example.com", "s-a");
	add_user(ACCT2, "44444444-4444-4444-8444-444444444444", "twice@example.com", "s-b");
	/* users another identity provider signs in, or none yet */
	add_user_at(ACCT, "44444444-4444-4444-8444-444444444445", "okta@example.com", "okta-sub",
	            "https://okta.example.test");
	add_user_at(ACCT, "44444444-4444-4444-8444-444444444446", "pinned@example.com", "",
	            "https://okta.example.test");
	add_user_at(ACCT, "44444444-4444-4444-8444-444444444447", "unbound@example.com", "old-sub",
	            "");
	return 0;
}

static int teardown(void **state)
{
	static const char *const files[] = {"mgmtd.db", "mgmtd.db-wal", "mgmtd.db-shm",
	                                    "dev-idp.key"};
	char p[160];

	store_close(st);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	return rmdir(dir);
}

/* Verifies jwt against d's own JWKS, as mgmtd's issuer for it does. */
static enum idtoken_result verify(const struct dev_idp *d, const char *jwt, int64_t now,
                                  struct idtoken_claims *claims)
{
	struct idtoken_verifier v = {
	    .issuer = ISSUER, .audience = "mgmtd", .alg_mask = 1u << JWT_ALG_ES256, .leeway = 0};
	struct jwks *set = NULL;
	size_t len;
	const char *text = dev_idp_jwks(d, &len);
	char err[256];
	enum idtoken_result r;

	if (jwks_parse(text, len, &set, err, sizeof(err)) != 0)
		fail_msg("jwks_parse: %s", err);
	v.keys = set;
	r = idtoken_verify(&v, jwt, now, claims);
	jwks_free(set);
	return r;
}

static void test_key_file(void **state)
{
	struct dev_idp *d1 = NULL, *d2 = NULL, *m1 = NULL, *m2 = NULL;
	char err[256];
	struct stat sb;

	assert_int_equal(dev_idp_open(key_path, ISSUER, "mgmtd", &d1, err, sizeof(err)), 0);
	assert_int_equal(stat(key_path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* reopened: the same key */
	assert_int_equal(dev_idp_open(key_path, ISSUER, "mgmtd", &d2, err, sizeof(err)), 0);
	assert_string_equal(dev_idp_jwks(d1, NULL), dev_idp_jwks(d2, NULL));
	/* in memory: a fresh key every time, and no file */
	assert_int_equal(dev_idp_open("", ISSUER, "mgmtd", &m1, err, sizeof(err)), 0);
	assert_int_equal(dev_idp_open("", ISSUER, "mgmtd", &m2, err, sizeof(err)), 0);
	assert_string_not_equal(dev_idp_jwks(m1, NULL), dev_idp_jwks(m2, NULL));
	assert_string_not_equal(dev_idp_jwks(m1, NULL), dev_idp_jwks(d1, NULL));
	/* the JWKS has no private part */
	assert_null(strstr(dev_idp_jwks(d1, NULL), "\"d\""));
	assert_non_null(strstr(dev_idp_jwks(d1, NULL), "\"alg\":\"ES256\""));
	dev_idp_free(d1);
	dev_idp_free(d2);
	dev_idp_free(m1);
	dev_idp_free(m2);
	dev_idp_free(NULL);

	/* a key others may read is refused, and so is a file that is not a key */
	assert_int_equal(chmod(key_path, 0644), 0);
	assert_int_equal(dev_idp_open(key_path, ISSUER, "mgmtd", &d1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "readable by other users"));
	assert_null(d1);
	assert_int_equal(chmod(key_path, 0600), 0);
	{
		int fd = open(key_path, O_WRONLY | O_TRUNC);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "junk\n", 5), 5);
		close(fd);
	}
	assert_int_equal(dev_idp_open(key_path, ISSUER, "mgmtd", &d1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a PEM EC P-256 private key"));
	assert_int_equal(unlink(key_path), 0);
}

static void test_discovery(void **state)
{
	struct dev_idp *d = NULL;
	char err[256];
	json_t *doc;

	assert_int_equal(dev_idp_open("", ISSUER "/", "mgmtd", &d, err, sizeof(err)), 0);
	doc = dev_idp_discovery(d);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "issuer")), ISSUER "/");
	assert_string_equal(json_string_value(json_object_get(doc, "jwks_uri")),
	                    ISSUER "/.well-known/jwks.json");
	assert_string_equal(json_string_value(json_object_get(doc, "token_endpoint")),
	                    ISSUER "/oauth/token");
	json_decref(doc);
	dev_idp_free(d);
}

static void test_mint(void **state)
{
	struct idtoken_claims c;
	struct dev_idp *d = NULL;
	enum store_status sst;
	char err[256], why[256];
	char *jwt = NULL;
	json_t *extra;

	assert_int_equal(dev_idp_open(key_path, ISSUER, "mgmtd", &d, err, sizeof(err)), 0);

	/* a user without subject: sub is the user's id, the email picks the user */
	assert_int_equal(dev_idp_mint(d, st, "ADMIN@example.com", NULL, NULL, NOW, 3600, &jwt, &sst,
	                              why, sizeof(why)),
	                 DEV_IDP_OK);
	assert_int_equal(verify(d, jwt, NOW, &c), IDTOKEN_OK);
	assert_string_equal(c.sub, "44444444-4444-4444-8444-444444444441");
	assert_string_equal(c.email, "admin@example.com");
	assert_int_equal(c.exp, NOW + 3600);
	/* an hour later it has expired */
	assert_int_equal(verify(d, jwt, NOW + 3601, &c), IDTOKEN_EXPIRED);
	free(jwt);

	/* a user with a subject: sub is the subject; extra claims ride along */
	extra = json_pack("{s:s, s:b}", "aud", "other", "email_verified", 0);
	assert_int_equal(dev_idp_mint(d, st, "sub@example.com", ACCT, extra, NOW, 60, &jwt, &sst,
	                              why, sizeof(why)),
	                 DEV_IDP_OK);
	assert_int_equal(verify(d, jwt, NOW, &c), IDTOKEN_BAD_AUDIENCE);
	json_decref(extra);
	free(jwt);
	assert_int_equal(dev_idp_mint(d, st, "sub@example.com", NULL, NULL, NOW, 60, &jwt, &sst,
	                              why, sizeof(why)),
	                 DEV_IDP_OK);
	assert_int_equal(verify(d, jwt, NOW, &c), IDTOKEN_OK);
	assert_string_equal(c.sub, "idp-sub-1");
	free(jwt);

	/* refusals */
	assert_int_equal(dev_idp_mint(d, st, "nobody@example.com", NULL, NULL, NOW, 60, &jwt, &sst,
	                              why, sizeof(why)),
	                 DEV_IDP_UNKNOWN_USER);
	assert_null(jwt);
	assert_int_equal(dev_idp_mint(d, st, "admin@example.com", ACCT2, NULL, NOW, 60, &jwt, &sst,
	                              why, sizeof(why)),
	                 DEV_IDP_UNKNOWN_USER);
	assert_int_equal(dev_idp_mint(d, st, "twice@example.com", NULL, NULL, NOW, 60, &jwt, &sst,
	                              why, sizeof(why)),
	                 DEV_IDP_AMBIGUOUS);
	assert_non_null(strstr(why, "accountId"));
	assert_int_equal(dev_idp_mint(d, st, "twice@example.com", ACCT2, NULL, NOW, 60, &jwt, &sst,
	                              why, sizeof(why)),
	                 DEV_IDP_OK);
	assert_int_equal(verify(d, jwt, NOW, &c), IDTOKEN_OK);
	assert_string_equal(c.sub, "s-b");
	free(jwt);
	extra = json_pack("{s:s}", "sub", "someone-else");
	assert_int_equal(dev_idp_mint(d, st, "admin@example.com", NULL, extra, NOW, 60, &jwt, &sst,
	                              why, sizeof(why)),
	                 DEV_IDP_BAD_CLAIMS);
	assert_non_null(strstr(why, "\"sub\""));
	json_decref(extra);

	/* the dev IdP signs in only its own users (idpIssuer dev_idp) and unbound emails */
	{
		const struct {
			const char *email, *account, *says;
		} others[] = {
		    {"okta@example.com", ACCT, "https://okta.example.test"},
		    {"pinned@example.com", NULL, "https://okta.example.test"},
		    {"unbound@example.com", ACCT, "mgmtd user bind"},
		};

		for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
			assert_int_equal(dev_idp_mint(d, st, others[i].email, others[i].account,
			                              NULL, NOW, 60, &jwt, &sst, why, sizeof(why)),
			                 DEV_IDP_UNKNOWN_USER);
			assert_null(jwt);
			assert_non_null(strstr(why, others[i].says));
		}
	}
	dev_idp_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_file),
	    cmocka_unit_test(test_discovery),
	    cmocka_unit_test(test_mint),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
