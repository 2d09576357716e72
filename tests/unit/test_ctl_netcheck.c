/*
 * test_ctl_netcheck.c - mgmtctl's decisions about URLs and header values
 * (ctl/netcheck.h): what is loopback (as Go's net/http judges it), which
 * verification links may go to a browser, which tokens may go into a header.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/netcheck.h"

static void test_loopback_hosts(void **state)
{
	static const char *const yes[] = {
	    "localhost",
	    "LocalHost",
	    "localhost.",
	    "127.0.0.1",
	    "127.255.255.254",
	    "127.0.0.0",
	    "::1",
	    "[::1]",
	    "[0:0:0:0:0:0:0:1]",
	    "::ffff:127.0.0.1",
	    "[::ffff:127.1.2.3]",
	};
	static const char *const no[] = {
	    "",
	    "example.com",
	    "localhost.example.com",
	    "mylocalhost",
	    "128.0.0.1",
	    "126.255.255.255",
	    "127.1", /* a name for Go, not an address */
	    "2130706433",
	    "::2",
	    "[::1",
	    "::1]",
	    "[]",
	    "0.0.0.0",
	    "::",
	    "::ffff:10.0.0.1",
	    "10.0.0.1",
	    "127.0.0.1.nip.io",
	    "127.0.0.1.",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!net_host_is_loopback(yes[i]))
			fail_msg("%s should be loopback", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (net_host_is_loopback(no[i]))
			fail_msg("%s should not be loopback", no[i]);
	}
	assert_false(net_host_is_loopback(NULL));
}

static void test_loopback_urls(void **state)
{
	(void)state;
	assert_true(net_url_is_loopback("http://127.0.0.1:8080"));
	assert_true(net_url_is_loopback("http://localhost/api"));
	assert_true(net_url_is_loopback("https://[::1]:8443/x"));
	/* libcurl's reading of the URL: the host is after the user name */
	assert_false(net_url_is_loopback("http://127.0.0.1@evil.example/"));
	assert_false(net_url_is_loopback("http://evil.example/?127.0.0.1"));
	assert_false(net_url_is_loopback("ftp://127.0.0.1/"));
	assert_false(net_url_is_loopback("not a url"));

	assert_true(net_url_is_cleartext_remote("http://mgmtd.example:8080/"));
	assert_true(net_url_is_cleartext_remote("HTTP://mgmtd.example/"));
	assert_false(net_url_is_cleartext_remote("https://mgmtd.example/"));
	assert_false(net_url_is_cleartext_remote("http://127.0.0.1:8080/"));
	assert_false(net_url_is_cleartext_remote("http://[::1]/"));
}

static void test_links(void **state)
{
	static const char *const idp = "https://auth.example.com/oauth/device/code";
	static const struct {
		const char *link;
		const char *why; /* NULL: opened */
	} cases[] = {
	    {"https://auth.example.com/activate?user_code=BCDF-GHJK", NULL},
	    {"HTTPS://AUTH.example.com:443/activate", NULL},
	    {"https://auth.example.com", NULL},
	    {"file:///etc/passwd", "not an https"},
	    {"javascript:alert(1)", "not an https"},
	    {"smb://auth.example.com/share", "not an https"},
	    {"--help", "not an https"},
	    {"-", "not an https"},
	    {"", "empty"},
	    {"http://auth.example.com/activate", "not this machine"},
	    {"https://auth.example.com.evil.example/activate", "identity provider"},
	    {"https://auth.example.com:8443/activate", "identity provider"},
	    {"https://evil.example/activate", "identity provider"},
	    {"https://auth.example.com@evil.example/", "not plainly written"},
	    {"https://auth.example.com/a b", "characters"},
	    {"https://auth.example.com/\x1b]8;;x\x07", "characters"},
	    {"https://auth.example.com/\xc2\x9b", "characters"},
	    {"https://auth.example.com/\"onload", "characters"},
	    {"https://auth.example.com\\@evil.example/", "characters"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = net_link_refusal(cases[i].link, idp);

		if (!cases[i].why && why)
			fail_msg("%s refused: %s", cases[i].link, why);
		if (cases[i].why && (!why || !strstr(why, cases[i].why)))
			fail_msg("%s: got %s, want %s", cases[i].link, why ? why : "opened",
			         cases[i].why);
	}
	/* http:// only on this machine, and only to the IdP that sent it */
	assert_null(net_link_refusal("http://127.0.0.1:8080/activate", "http://127.0.0.1:8080/d"));
	assert_null(net_link_refusal("http://localhost:8080/activate", "http://LOCALHOST:8080/"));
	assert_null(net_link_refusal("http://[::1]:8080/activate", "http://[::1]:8080/device"));
	assert_non_null(
	    net_link_refusal("http://127.0.0.1:8081/activate", "http://127.0.0.1:8080/device"));
	assert_non_null(net_link_refusal("https://auth.example.com/", NULL));
}

static void test_tokens(void **state)
{
	(void)state;
	assert_null(net_token_refusal("M.V1.abcdefghijklmnop_-"));
	assert_null(net_token_refusal("eyJhbGciOi.eyJzdWIiOi.c2ln+/=="));
	assert_non_null(net_token_refusal("abc\r\nX-Injected: 1"));
	assert_non_null(net_token_refusal("abc\n"));
	assert_non_null(net_token_refusal("abc\t"));
	assert_non_null(net_token_refusal("abc def"));
	assert_non_null(net_token_refusal("abc\x7f"));
	assert_non_null(net_token_refusal("abc\xc3\xa9"));
	assert_non_null(net_token_refusal(""));
	assert_non_null(net_token_refusal(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_loopback_hosts),
	    cmocka_unit_test(test_loopback_urls),
	    cmocka_unit_test(test_links),
	    cmocka_unit_test(test_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
