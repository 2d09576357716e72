/*
 * test_ctl_toml.c - the strict TOML reader and the profile layer of
 * mgmtctl: every config.toml example of influxctl's documentation
 * (INFLUXCTL.md 2) reads as influxctl reads it; what the subset refuses is
 * refused with its line; flags beat MGMTCTL_* variables beat the file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/profile.h"
#include "ctl/toml.h"

/* influxctl's Dedicated sample, its placeholder host rendered as the docs render it. */
static const char dedicated_sample[] =
    "## influxctl - example configuration\n"
    "\n"
    "[[profile]]\n"
    "    ## Profile name\n"
    "    ## Users can define multiple profile sections and reference them via the\n"
    "    ## `--profile {name}` global option. By default, the profile named\n"
    "    ## \"default\" is loaded and used.\n"
    "    name = \"PROFILE_NAME\"\n"
    "\n"
    "    ## Product type\n"
    "    ## Choose from \"clustered\" or \"dedicated\"\n"
    "    product = \"dedicated\"\n"
    "\n"
    "    ## Host and port\n"
    "    host = \"cluster-id.a.influxdb.io\"\n"
    "    # port = \"443\"\n"
    "\n"
    "    ## Database and token\n"
    "    # database = \"\"\n"
    "    # token = \"\"\n"
    "\n"
    "    ### Dedicated Specific Options ###\n"
    "    account_id = \"ACCOUNT_ID\"\n"
    "    cluster_id = \"CLUSTER_ID\"\n"
    "\n"
    "    # [profile.tls]\n"
    "        # insecure = false\n"
    "        # cert = \"\"\n"
    "        # key = \"\"\n"
    "        # ca = \"\"\n"
    "\n"
    "    ## OAuth2 client authorization settings\n"
    "    # [profile.auth.oauth2]\n"
    "        # client_id = \"\"\n"
    "        # scopes = [\"\"]\n"
    "        # parameters = { audience = \"\" }\n"
    "        # token_url = \"https://indentityprovider/oauth2/v2/token\"\n"
    "        # device_url = \"https://indentityprovider/oauth2/v2/auth/device\"\n"
    "\n";

/* The management-token profile of "Use a management token". */
static const char mgmt_token_profile[] = "[[profile]]\n"
                                         "  name = \"default\"\n"
                                         "  product = \"dedicated\"\n"
                                         "  account_id = \"ACCOUNT_ID\"\n"
                                         "  cluster_id = \"CLUSTER_ID\"\n"
                                         "  mgmt_token = \"MANAGEMENT_TOKEN\"\n";

/* The Clustered sample's [profile.tls] and [profile.auth.oauth2], its keys set. */
static const char clustered_profile[] =
    "[[profile]]\n"
    "    name = \"default\"\n"
    "    product = \"clustered\"\n"
    "    host = \"cluster-host.com\"\n"
    "    port = \"INFLUXDB_PORT\"\n"
    "    # account_id = \"ACCOUNT_ID\"\n"
    "    [profile.tls]\n"
    "        ## When true, `insecure` influxctl configures HTTPS clients to not\n"
    "        insecure = false\n"
    "        disable = false\n"
    "        cert = \"\"\n"
    "        key = \"\"\n"
    "        ca = \"\"\n"
    "\n"
    "    ## OAuth2 client authorization settings\n"
    "    [profile.auth.oauth2]\n"
    "        client_id = \"OAUTH_CLIENT_ID\"\n"
    "        scopes = [\"\"]\n"
    "        parameters = { audience = \"\" }\n"
    "        token_url = \"OAUTH_TOKEN_URL\"\n"
    "        device_url = \"OAUTH_DEVICE_URL\"\n";

/* Clustered's admin-token bypass. */
static const char token_file_profile[] = "[[profile]]\n"
                                         "# ...\n"
                                         "  name = \"default\"\n"
                                         "  [profile.auth.token]\n"
                                         "    token_file = \"/DIRECTORY_PATH/token.json\"\n";

/* The 1.x file migrated to 2.0. */
static const char migrated_profile[] =
    "[[profile]]\n"
    "    name = \"default\"\n"
    "    product = \"dedicated\"\n"
    "    account_id = \"dff3ee52-b494-47c1-9e2c-ab59d90d94eb\"\n"
    "    cluster_id = \"5827cdeb-b868-4446-b40e-e08de116fddf\"\n";

/* The Entra ID example's scopes, with the Auth0 one's client_secret (removed in 2.9.8). */
static const char auth0_profile[] = "[[profile]]\n"
                                    "  name = \"default\"\n"
                                    "  [profile.auth.oauth2]\n"
                                    "    client_id = \"AUTH0_CLIENT_ID\"\n"
                                    "    client_secret = \"AUTH0_CLIENT_SECRET\"\n";

static void clear_env(void)
{
	static const char *const names[] = {"MGMTCTL_URL",     "MGMTCTL_TOKEN",   "MGMTCTL_ACCOUNT",
	                                    "MGMTCTL_CLUSTER", "MGMTCTL_PROFILE", "MGMTCTL_CONFIG"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unsetenv(names[i]);
}

static int load(const char *text, const struct profile_flags *flags, struct ctl_settings *s,
                char *err, size_t errlen)
{
	static const struct profile_flags none = {NULL, NULL, NULL, NULL};

	return profile_load_text(text, strlen(text), "config.toml", flags ? flags : &none, s, err,
	                         errlen);
}

static void test_dedicated_sample(void **state)
{
	struct profile_flags f = {NULL, "PROFILE_NAME", NULL, NULL};
	struct ctl_settings s;
	char err[512];

	clear_env();
	assert_int_equal(load(dedicated_sample, &f, &s, err, sizeof(err)), 0);
	assert_string_equal(s.product, "dedicated");
	assert_string_equal(s.host, "cluster-id.a.influxdb.io");
	assert_string_equal(s.account_id, "ACCOUNT_ID");
	assert_string_equal(s.cluster_id, "CLUSTER_ID");
	assert_null(s.port);
	assert_null(s.mgmt_token);
	assert_null(s.oauth2.client_id);
	assert_string_equal(s.url, PROFILE_DEFAULT_URL);
	assert_string_equal(s.url_from, "default");
	assert_int_equal(s.profile_line, 3);
	profile_release(&s);
	/* without --profile, "default" is wanted: the sample has none */
	assert_int_not_equal(load(dedicated_sample, NULL, &s, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "no profile named \"default\""));
	assert_non_null(strstr(err, "PROFILE_NAME"));
	profile_release(&s);
}

static void test_mgmt_token_and_migrated_profiles(void **state)
{
	struct ctl_settings s;
	char err[512];

	clear_env();
	assert_int_equal(load(mgmt_token_profile, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s.mgmt_token, "MANAGEMENT_TOKEN");
	assert_string_equal(s.mgmt_token_from, "profile");
	profile_release(&s);
	assert_int_equal(load(migrated_profile, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s.account_id, "dff3ee52-b494-47c1-9e2c-ab59d90d94eb");
	assert_string_equal(s.cluster_id, "5827cdeb-b868-4446-b40e-e08de116fddf");
	profile_release(&s);
}

static void test_clustered_tls_and_oauth2(void **state)
{
	struct ctl_settings s;
	char err[512];

	clear_env();
	assert_int_equal(load(clustered_profile, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s.port, "INFLUXDB_PORT");
	assert_false(s.tls.insecure);
	assert_false(s.tls.disable);
	assert_string_equal(s.tls.ca, "");
	assert_string_equal(s.oauth2.client_id, "OAUTH_CLIENT_ID");
	assert_string_equal(s.oauth2.token_url, "OAUTH_TOKEN_URL");
	assert_string_equal(s.oauth2.device_url, "OAUTH_DEVICE_URL");
	/* scopes = [""] and { audience = "" }: nothing to send */
	assert_int_equal(s.oauth2.scope_count, 0);
	assert_int_equal(s.oauth2.param_count, 0);
	profile_release(&s);
}

static void test_token_file(void **state)
{
	struct ctl_settings s;
	char err[512];

	clear_env();
	assert_int_equal(load(token_file_profile, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s.token_file, "/DIRECTORY_PATH/token.json");
	profile_release(&s);
}

static void test_client_secret_is_refused_by_line(void **state)
{
	struct ctl_settings s;
	char err[512];

	clear_env();
	assert_int_not_equal(load(auth0_profile, NULL, &s, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "config.toml:5: unknown key client_secret in "
	                            "[profile.auth.oauth2]"));
	assert_non_null(strstr(err, "2.9.8"));
	profile_release(&s);
}

static void test_scopes_and_parameters(void **state)
{
	static const char text[] =
	    "[[profile]]\n"
	    "name = \"default\"\n"
	    "url = \"https://mgmtd.example.test:8443/\"\n"
	    "[profile.auth.oauth2]\n"
	    "client_id = 'AZURE_CLIENT_ID'\n"
	    "scopes = [\n"
	    "  \"AZURE_CLIENT_ID/.default\", # the Entra form\n"
	    "  \"offline_access\",\n"
	    "]\n"
	    "parameters = { audience = \"mgmtd\", \"prompt\" = \"login\" }\n";
	struct ctl_settings s;
	char err[512];

	clear_env();
	assert_int_equal(load(text, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s.url, "https://mgmtd.example.test:8443/");
	assert_int_equal(s.oauth2.scope_count, 2);
	assert_string_equal(s.oauth2.scopes[0], "AZURE_CLIENT_ID/.default");
	assert_int_equal(s.oauth2.param_count, 2);
	assert_string_equal(s.oauth2.params[1].key, "prompt");
	assert_string_equal(s.oauth2.params[1].value, "login");
	profile_release(&s);
}

/* Each refused file, and the "line: message" it must give. */
static void test_refusals(void **state)
{
	static const struct {
		const char *text, *error;
	} cases[] = {
	    {"[[profile]]\nname = \"default\"\nregion = \"x\"\n",
	     "config.toml:3: unknown key region"},
	    {"[[profile]]\nname = \"default\"\n[profile.tls]\nverify = true\n",
	     "config.toml:4: unknown key verify in [profile.tls]"},
	    {"[[profile]]\nname = \"default\"\n[profile.auth.oidc]\nx = \"y\"\n",
	     "config.toml:3: unknown key oidc in [profile.auth]"},
	    {"name = \"default\"\n", "config.toml:1: unknown key name: the file holds [[profile]]"},
	    {"[profile]\nname = \"default\"\n",
	     "config.toml:1: profile must be written [[profile]]"},
	    {"[[profile]]\nname = \"default\"\nport = 443\n",
	     "config.toml:3: port must be a string such as \"443\", not an integer"},
	    {"[[profile]]\nname = \"default\"\n[profile.tls]\ninsecure = \"yes\"\n",
	     "config.toml:4: insecure must be true or false, not a string"},
	    {"[[profile]]\nname = \"default\"\n[profile.auth.oauth2]\nscopes = \"openid\"\n",
	     "config.toml:4: scopes must be an array of strings"},
	    {"[[profile]]\nname = \"default\"\n[profile.auth.oauth2]\nparameters = { a = 1 }\n",
	     "config.toml:4: parameters must be an inline table of strings"},
	    {"[[profile]]\nname = \"default\"\nproduct = \"serverless\"\n",
	     "config.toml:3: product must be \"dedicated\" or \"clustered\""},
	    {"[[profile]]\nname = \"default\"\n[[profile]]\nname = \"default\"\n",
	     "config.toml:4: a second profile named \"default\" (the first is at line 1)"},
	    /* what the subset refuses */
	    {"[[profile]]\nname = \"\"\"default\"\"\"\n", "config.toml:2: multi-line strings"},
	    {"[[profile]]\nname = \"default\"\nport = 4.5\n", "config.toml:3: floats"},
	    {"[[profile]]\nname = \"default\"\nport = 1e3\n", "config.toml:3: floats"},
	    {"[[profile]]\nname = \"default\"\nport = 2024-01-01\n", "config.toml:3: dates"},
	    {"[[profile]]\nname = \"default\"\nport = 0x1bb\n", "config.toml:3: hexadecimal"},
	    {"[[profile]]\nname = \"default\"\ntls.insecure = true\n",
	     "config.toml:3: dotted keys"},
	    {"[[profile]]\nname = \"default\"\nname = \"again\"\n",
	     "config.toml:3: the key name is already defined at line 2"},
	    {"[[profile]]\nname = \"default\"\n[profile.tls]\n[profile.tls]\n",
	     "config.toml:4: the table tls is already defined"},
	    {"[[profile]]\nname = \"default\"\n[profile.auth.oauth2]\nscopes = [1, 2]\n",
	     "config.toml:4: arrays hold strings only"},
	    {"[[profile]]\nname = \"default\"\n[profile.auth.oauth2]\nscopes = [\"a\"\n",
	     "the array is not closed"},
	    {"[[profile]]\nname = \"default\"\n[profile.auth.oauth2]\nparameters = { a = "
	     "\"b\",\n}\n",
	     "config.toml:4:"},
	    {"[[profile]]\nname = \"default\nport = \"1\"\n",
	     "config.toml:2: the string is not closed"},
	    {"[[profile]]\nname = \"de\\qfault\"\n", "config.toml:2: unknown escape \\q"},
	    {"[[profile]]\nname = \"\\u0000\"\n", "config.toml:2: the escape \\u0000"},
	    {"[[profile]]\nname = default\n", "config.toml:2: a value is expected"},
	    {"[[profile]]\nname = \"default\" port = \"1\"\n", "config.toml:2: unexpected text"},
	    {"[[profile\nname = \"default\"\n", "config.toml:1: ]] is expected"},
	    {"[[profile]]\nname \"default\"\n", "config.toml:2: = is expected"},
	    {"[[profile]]\n= \"default\"\n", "config.toml:2: a key is expected"},
	    {"[[profile]]\nname = \"a\tb\x01\"\n", "config.toml:2: a control character"},
	    {"[[profile]]\nname = \"\xff\"\n", "config.toml: the file is not valid UTF-8"},
	    {"[[profile]]\nport = 0123\n", "config.toml:2: an integer cannot have leading zeros"},
	    {"[[profile]]\nport = 99999999999999999999\n", "config.toml:2: the integer is"},
	};
	struct ctl_settings s;
	char err[512];

	clear_env();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (load(cases[i].text, NULL, &s, err, sizeof(err)) == 0)
			fail_msg("accepted:\n%s", cases[i].text);
		if (!strstr(err, cases[i].error))
			fail_msg("\"%s\" does not say \"%s\" for:\n%s", err, cases[i].error,
			         cases[i].text);
		profile_release(&s);
	}
}

/* What TOML allows and the subset keeps: literal strings, escapes, CRLF, comments anywhere. */
static void test_reader_details(void **state)
{
	static const char text[] =
	    "\xef\xbb\xbf# a BOM first\r\n"
	    "[[ profile ]] # spaces inside the brackets\r\n"
	    "\"name\" = 'default'\r\n"
	    "database = \"tab\\there \\\"quoted\\\" \\u00e9 \\U0001F600\"\r\n"
	    "token = 'C:\\no\\escapes'\r\n"
	    "[[profile]]\n"
	    "name = \"second\"\n"
	    "[profile.tls]\n"
	    "insecure = true\n";
	struct ctl_settings s;
	struct profile_flags second = {NULL, "second", NULL, NULL};
	char err[512];

	clear_env();
	assert_int_equal(load(text, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s.database, "tab\there \"quoted\" \xc3\xa9 \xf0\x9f\x98\x80");
	assert_string_equal(s.token, "C:\\no\\escapes");
	assert_false(s.tls.insecure);
	profile_release(&s);
	/* [profile.tls] belongs to the second [[profile]] */
	assert_int_equal(load(text, &second, &s, err, sizeof(err)), 0);
	assert_true(s.tls.insecure);
	assert_int_equal(s.profile_line, 6);
	profile_release(&s);
}

static void test_tree(void **state)
{
	static const char text[] = "a = 1\nb = -2\nc = +3\nd = 1_000\ne = true\nf = false\n"
	                           "g = []\n[t]\nk = \"v\"\n[[arr]]\nx = 1\n[[arr]]\nx = 2\n";
	struct toml_value *root;
	char err[256];
	int line;

	root = toml_parse(text, strlen(text), &line, err, sizeof(err));
	assert_non_null(root);
	assert_int_equal(toml_get(root, "a")->integer, 1);
	assert_int_equal(toml_get(root, "b")->integer, -2);
	assert_int_equal(toml_get(root, "c")->integer, 3);
	assert_int_equal(toml_get(root, "d")->integer, 1000);
	assert_true(toml_get(root, "e")->boolean);
	assert_false(toml_get(root, "f")->boolean);
	assert_int_equal(toml_get(root, "g")->count, 0);
	assert_string_equal(toml_get(toml_get(root, "t"), "k")->string, "v");
	assert_int_equal(toml_get(root, "arr")->count, 2);
	assert_int_equal(toml_get(toml_get(root, "arr")->items[1], "x")->integer, 2);
	assert_int_equal(toml_get(toml_get(root, "arr")->items[1], "x")->line, 13);
	toml_free(root);
	/* a NUL byte: not text */
	assert_null(toml_parse("a = 1\0", 6, &line, err, sizeof(err)));
	assert_int_equal(line, 0);
}

static void test_precedence(void **state)
{
	static const char text[] = "[[profile]]\n"
	                           "name = \"default\"\n"
	                           "url = \"http://file.test:1\"\n"
	                           "account_id = \"file-account\"\n"
	                           "cluster_id = \"file-cluster\"\n"
	                           "mgmt_token = \"file-token\"\n"
	                           "[[profile]]\n"
	                           "name = \"other\"\n"
	                           "account_id = \"other-account\"\n";
	struct profile_flags flags = {NULL, NULL, "flag-account", NULL};
	struct profile_flags other = {NULL, "other", NULL, NULL};
	struct ctl_settings s;
	char err[512];

	clear_env();
	/* the file alone */
	assert_int_equal(load(text, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s.url, "http://file.test:1");
	assert_string_equal(s.account_id, "file-account");
	profile_release(&s);
	/* the environment over the file */
	setenv("MGMTCTL_URL", "http://env.test:2", 1);
	setenv("MGMTCTL_TOKEN", "env-token", 1);
	setenv("MGMTCTL_ACCOUNT", "env-account", 1);
	setenv("MGMTCTL_CLUSTER", "env-cluster", 1);
	assert_int_equal(load(text, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s.url, "http://env.test:2");
	assert_string_equal(s.url_from, "MGMTCTL_URL");
	assert_string_equal(s.mgmt_token, "env-token");
	assert_string_equal(s.account_id, "env-account");
	assert_string_equal(s.cluster_id, "env-cluster");
	profile_release(&s);
	/* flags over the environment */
	assert_int_equal(load(text, &flags, &s, err, sizeof(err)), 0);
	assert_string_equal(s.account_id, "flag-account");
	assert_string_equal(s.account_from, "--account");
	assert_string_equal(s.cluster_id, "env-cluster");
	profile_release(&s);
	/* MGMTCTL_PROFILE names the profile; --profile beats it */
	clear_env();
	setenv("MGMTCTL_PROFILE", "other", 1);
	assert_int_equal(load(text, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s.account_id, "other-account");
	assert_null(s.mgmt_token);
	profile_release(&s);
	setenv("MGMTCTL_PROFILE", "nope", 1);
	assert_int_equal(load(text, &other, &s, err, sizeof(err)), 0);
	assert_string_equal(s.profile_name, "other");
	profile_release(&s);
	/* an empty variable is no setting */
	clear_env();
	setenv("MGMTCTL_ACCOUNT", "", 1);
	assert_int_equal(load(text, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s.account_id, "file-account");
	profile_release(&s);
	/* a URL that is not HTTP */
	clear_env();
	setenv("MGMTCTL_URL", "ftp://x", 1);
	assert_int_not_equal(load(text, NULL, &s, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "MGMTCTL_URL"));
	profile_release(&s);
	clear_env();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dedicated_sample),
	    cmocka_unit_test(test_mgmt_token_and_migrated_profiles),
	    cmocka_unit_test(test_clustered_tls_and_oauth2),
	    cmocka_unit_test(test_token_file),
	    cmocka_unit_test(test_client_secret_is_refused_by_line),
	    cmocka_unit_test(test_scopes_and_parameters),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_reader_details),
	    cmocka_unit_test(test_tree),
	    cmocka_unit_test(test_precedence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
