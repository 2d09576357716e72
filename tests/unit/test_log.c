/*
 * test_log.c - line format, sanitising, truncation and levels.
 *
 * stderr is pointed at a temporary file for each test and read back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "log.h"

struct capture {
	int saved_stderr;
	FILE *file;
};

static int capture_setup(void **state)
{
	struct capture *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	c->file = tmpfile();
	if (c->file == NULL)
		goto fail;
	c->saved_stderr = dup(STDERR_FILENO);
	if (c->saved_stderr < 0)
		goto fail_file;
	if (dup2(fileno(c->file), STDERR_FILENO) < 0)
		goto fail_dup;
	*state = c;
	return 0;

fail_dup:
	close(c->saved_stderr);
fail_file:
	fclose(c->file);
fail:
	free(c);
	return -1;
}

/*
 * cmocka reports a failed assertion on stderr, into the capture: hand on to the
 * real stderr every captured line that is not a log line.
 */
static int capture_teardown(void **state)
{
	struct capture *c = *state;
	char line[8192];

	fflush(stderr);
	dup2(c->saved_stderr, STDERR_FILENO);
	rewind(c->file);
	while (fgets(line, sizeof(line), c->file) != NULL)
		if ((line[0] < '0' || line[0] > '9') && line[0] != '{')
			fputs(line, stderr);
	close(c->saved_stderr);
	fclose(c->file);
	free(c);
	return 0;
}

/* Everything logged since setup, NUL-terminated, into buf. */
static size_t captured(struct capture *c, char *buf, size_t size)
{
	ssize_t n = pread(fileno(c->file), buf, size - 1, 0);

	assert_true(n >= 0);
	buf[n] = '\0';
	return (size_t)n;
}

static void assert_timestamp(const char *line)
{
	/* "2026-11-27T18:00:00.123Z " */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ ";

	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd')
			assert_true(line[i] >= '0' && line[i] <= '9');
		else
			assert_int_equal(line[i], shape[i]);
	}
}

/* Runs first: the environment is read once, on the first log call. */
static void test_env_level(void **state)
{
	struct capture *c = *state;
	char buf[256];

	assert_int_equal(setenv("MGMTD_LOG_LEVEL", "WaRn", 1), 0);
	log_info("quiet");
	log_warn("loud");
	captured(c, buf, sizeof(buf));
	assert_null(strstr(buf, "quiet"));
	assert_non_null(strstr(buf, " WARN loud\n"));

	/* Read once: changing it later does nothing. */
	assert_int_equal(setenv("MGMTD_LOG_LEVEL", "debug", 1), 0);
	log_info("still quiet");
	captured(c, buf, sizeof(buf));
	assert_null(strstr(buf, "still quiet"));
	unsetenv("MGMTD_LOG_LEVEL");

	/* log_set_level wins over the environment. */
	log_set_level(LOGL_INFO);
	log_info("now heard");
	captured(c, buf, sizeof(buf));
	assert_non_null(strstr(buf, " INFO now heard\n"));
}

static void test_format(void **state)
{
	struct capture *c = *state;
	char buf[256];
	size_t n;

	log_set_level(LOGL_DEBUG);
	log_info("hello %d %s", 42, "world");
	n = captured(c, buf, sizeof(buf));
	assert_int_equal(n, 24 + 1 + 4 + 1 + 14 + 1);
	assert_timestamp(buf);
	assert_string_equal(buf + 25, "INFO hello 42 world\n");

	log_debug("d");
	log_warn("w");
	log_error("e");
	n = captured(c, buf, sizeof(buf));
	assert_non_null(strstr(buf, "Z DEBUG d\n"));
	assert_non_null(strstr(buf, "Z WARN w\n"));
	assert_non_null(strstr(buf, "Z ERROR e\n"));
	assert_int_equal(buf[n - 1], '\n');
}

static void test_threshold(void **state)
{
	struct capture *c = *state;
	char buf[256];

	log_set_level(LOGL_ERROR);
	log_debug("no-debug");
	log_info("no-info");
	log_warn("no-warn");
	assert_int_equal(captured(c, buf, sizeof(buf)), 0);
	log_error("yes-error");
	captured(c, buf, sizeof(buf));
	assert_non_null(strstr(buf, " ERROR yes-error\n"));
	/* the server's own life is told at every level */
	log_notice("listening");
	captured(c, buf, sizeof(buf));
	assert_non_null(strstr(buf, " NOTICE listening\n"));

	log_set_level(LOGL_WARN);
	log_info("no-info");
	log_warn("yes-warn");
	captured(c, buf, sizeof(buf));
	assert_null(strstr(buf, "no-info"));
	assert_non_null(strstr(buf, " WARN yes-warn\n"));
	log_set_level(LOGL_INFO);
}

static void test_control_characters(void **state)
{
	struct capture *c = *state;
	char buf[512];
	const char *forged = "user\n2026-11-27T18:00:00.000Z ERROR forged\r\x1b[2K\ttab\x7f\x01";

	log_set_level(LOGL_INFO);
	log_info("login by %s", forged);
	captured(c, buf, sizeof(buf));
	/* One line only, with every control byte shown as '?'. */
	assert_non_null(strchr(buf, '\n'));
	assert_int_equal(strchr(buf, '\n') - buf, (long)strlen(buf) - 1);
	assert_string_equal(buf + 25, "INFO login by user?2026-11-27T18:00:00.000Z ERROR "
	                              "forged??[2K?tab??\n");
}

static void test_utf8_kept(void **state)
{
	struct capture *c = *state;
	char buf[256];

	log_info("caf\xc3\xa9 \xe2\x82\xac");
	captured(c, buf, sizeof(buf));
	assert_string_equal(buf + 25, "INFO caf\xc3\xa9 \xe2\x82\xac\n");
}

static void test_truncation(void **state)
{
	struct capture *c = *state;
	static char big[20000];
	static char buf[32768];
	size_t n;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("start %s end", big);
	n = captured(c, buf, sizeof(buf));
	assert_true(n <= 4096);
	assert_true(n > 4000);
	assert_string_equal(buf + n - 4, "...\n");
	assert_memory_equal(buf + 25, "INFO start xxx", 14);
	assert_null(strstr(buf, "end"));
	assert_int_equal(strchr(buf, '\n') - buf, (long)n - 1);
}

static void test_truncation_keeps_utf8_whole(void **state)
{
	struct capture *c = *state;
	static char big[12000];
	static char buf[32768];
	size_t n;

	/* Two-byte characters after an odd-length head: a naive cut would split one. */
	for (size_t i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[sizeof(big) - 2] = '\0';
	for (int shift = 0; shift < 2; shift++) {
		assert_int_equal(ftruncate(fileno(c->file), 0), 0);
		log_info("%.*s%s", shift, "a", big);
		n = captured(c, buf, sizeof(buf));
		assert_string_equal(buf + n - 4, "...\n");
		/* The byte before "..." ends a whole "é". */
		assert_int_equal((unsigned char)buf[n - 5], 0xa9);
		assert_int_equal((unsigned char)buf[n - 6], 0xc3);
	}
}

/* The last line captured, parsed as a JSON object (the caller decrefs). */
static json_t *last_json_line(struct capture *c)
{
	static char buf[16384];
	size_t n = captured(c, buf, sizeof(buf));
	char *start;
	json_error_t err;
	json_t *o;

	assert_true(n > 0 && buf[n - 1] == '\n');
	buf[n - 1] = '\0';
	start = strrchr(buf, '\n');
	start = start ? start + 1 : buf;
	o = json_loads(start, 0, &err);
	if (o == NULL)
		fail_msg("not JSON (%s): %s", err.text, start);
	assert_true(json_is_object(o));
	return o;
}

static void test_json_lines(void **state)
{
	struct capture *c = *state;
	json_t *o;

	log_set_level(LOGL_INFO);
	log_set_format(LOG_FORMAT_JSON);
	log_warn("say \"hi\"\\ to\n%s", "caf\xc3\xa9 \xff\x01 end");
	o = last_json_line(c);
	assert_string_equal(json_string_value(json_object_get(o, "level")), "warn");
	/* escaped, control bytes kept as escapes, a byte that is not UTF-8 as '?' */
	assert_string_equal(json_string_value(json_object_get(o, "msg")),
	                    "say \"hi\"\\ to\ncaf\xc3\xa9 ?\x01 end");
	assert_true(strlen(json_string_value(json_object_get(o, "ts"))) == 24);
	json_decref(o);

	{
		const struct log_field f[] = {
		    LOG_TEXT("route", "/api/v0/{x}"), LOG_INT("status", 201),
		    LOG_REAL("duration_ms", 1.5),     LOG_TEXT("skipped", NULL),
		    LOG_TEXT("who", "a\"b"),
		};

		log_event(LOGL_INFO, f, sizeof(f) / sizeof(f[0]), "GET %s", "/x");
	}
	o = last_json_line(c);
	assert_string_equal(json_string_value(json_object_get(o, "msg")), "GET /x");
	assert_string_equal(json_string_value(json_object_get(o, "route")), "/api/v0/{x}");
	assert_int_equal(json_integer_value(json_object_get(o, "status")), 201);
	assert_true(json_real_value(json_object_get(o, "duration_ms")) == 1.5);
	assert_null(json_object_get(o, "skipped"));
	assert_string_equal(json_string_value(json_object_get(o, "who")), "a\"b");
	json_decref(o);
	log_set_format(LOG_FORMAT_TEXT);
}

/* A message far too long still gives one line of valid JSON, with its fields. */
static void test_json_truncation(void **state)
{
	struct capture *c = *state;
	static char big[20000];
	const struct log_field f[] = {LOG_INT("status", 200)};
	json_t *o;

	memset(big, '"', sizeof(big) - 1); /* each one doubles when escaped */
	big[sizeof(big) - 1] = '\0';
	log_set_format(LOG_FORMAT_JSON);
	log_event(LOGL_INFO, f, 1, "%s", big);
	o = last_json_line(c);
	assert_int_equal(json_integer_value(json_object_get(o, "status")), 200);
	assert_true(strlen(json_string_value(json_object_get(o, "msg"))) > 1000);
	json_decref(o);
	log_set_format(LOG_FORMAT_TEXT);
}

static void test_level_parse(void **state)
{
	enum log_level l;

	(void)state;
	assert_int_equal(log_level_parse("DeBuG", &l), 0);
	assert_int_equal(l, LOGL_DEBUG);
	assert_int_equal(log_level_parse("error", &l), 0);
	assert_int_equal(l, LOGL_ERROR);
	assert_int_equal(log_level_parse("verbose", &l), -1);
	assert_int_equal(log_level_parse(NULL, &l), -1);
	assert_int_equal(log_level_parse("notice", &l), -1); /* not a threshold */
}

static void test_errno_preserved(void **state)
{
	errno = EACCES;
	log_info("something");
	assert_int_equal(errno, EACCES);
	log_debug("filtered"); /* filtered out at INFO */
	assert_int_equal(errno, EACCES);

	/* Even when the write itself fails (EBADF with stderr closed). */
	assert_int_equal(close(STDERR_FILENO), 0);
	errno = EACCES;
	log_error("into the void");
	assert_int_equal(errno, EACCES);
}

/* Three lines a window: the fourth is held back, and the next window's first says so. */
static void test_limit_budget_and_held_back_count(void **state)
{
	struct log_limit l = LOG_LIMIT_INIT;
	uint64_t held = 99;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_true(log_limit_take(&l, 3, 1000, 5000 + i, &held));
		assert_int_equal(held, 0);
	}
	assert_false(log_limit_take(&l, 3, 1000, 5003, &held));
	assert_false(log_limit_take(&l, 3, 1000, 5999, &held));
	/* the window is measured from its first line: 999 ms later is still inside */
	assert_true(log_limit_take(&l, 3, 1000, 6000, &held));
	assert_int_equal(held, 2);
	assert_true(log_limit_take(&l, 3, 1000, 6001, &held));
	assert_int_equal(held, 0);
}

/* The access line: the message log_event's format would make, and its fields. */
/* The last line of what was captured, without its newline's successor. */
static const char *last_line(char *buf)
{
	size_t n = strlen(buf);
	char *p;

	if (n == 0)
		return buf;
	buf[n - 1] = buf[n - 1] == '\n' ? '\0' : buf[n - 1];
	p = strrchr(buf, '\n');
	return p ? p + 1 : buf;
}

static void test_access_line(void **state)
{
	struct capture *c = *state;
	char buf[4096];
	size_t before;
	struct log_access a = {.method = "GET",
	                       .route = "/api/v0/accounts/{accountId}/users",
	                       .path = "/api/v0/accounts/x/users",
	                       .status = 200,
	                       .duration_us = 1249,
	                       .principal = "user u-1",
	                       .client = "127.0.0.1"};
	json_t *j;

	log_set_level(LOGL_INFO);
	log_access(&a);
	captured(c, buf, sizeof(buf));
	assert_timestamp(last_line(buf));
	assert_string_equal(last_line(buf) + 25, "INFO GET /api/v0/accounts/{accountId}/users 200 "
	                                         "1.2ms by user u-1 from 127.0.0.1");
	/* no route: the path as sent; rounding to tenths; no principal, no client */
	a.route = NULL;
	a.path = "/nowhere\x1b[31m";
	a.status = 404;
	a.duration_us = 50;
	a.principal = "";
	a.client = NULL;
	log_access(&a);
	captured(c, buf, sizeof(buf));
	assert_string_equal(last_line(buf) + 25, "INFO GET /nowhere?[31m 404 0.1ms");

	log_set_format(LOG_FORMAT_JSON);
	a.route = "/health";
	a.duration_us = 123456;
	a.principal = "refused jwt";
	a.client = "::1";
	log_access(&a);
	captured(c, buf, sizeof(buf));
	log_set_format(LOG_FORMAT_TEXT);
	j = json_loads(last_line(buf), 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "msg")),
	                    "GET /health 404 123.5ms by refused jwt from ::1");
	assert_string_equal(json_string_value(json_object_get(j, "event")), "access");
	assert_string_equal(json_string_value(json_object_get(j, "route")), "/health");
	assert_string_equal(json_string_value(json_object_get(j, "path")), "/nowhere\x1b[31m");
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
	assert_true(json_real_value(json_object_get(j, "duration_ms")) > 123.45 &&
	            json_real_value(json_object_get(j, "duration_ms")) < 123.46);
	assert_string_equal(json_string_value(json_object_get(j, "client")), "::1");
	json_decref(j);

	/* below the level: nothing */
	before = captured(c, buf, sizeof(buf));
	log_set_level(LOGL_WARN);
	log_access(&a);
	assert_int_equal(captured(c, buf, sizeof(buf)), before);
	log_set_level(LOGL_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_env_level, capture_setup, capture_teardown),
	    cmocka_unit_test_setup_teardown(test_format, capture_setup, capture_teardown),
	    cmocka_unit_test_setup_teardown(test_threshold, capture_setup, capture_teardown),
	    cmocka_unit_test_setup_teardown(test_control_characters, capture_setup,
	                                    capture_teardown),
	    cmocka_unit_test_setup_teardown(test_utf8_kept, capture_setup, capture_teardown),
	    cmocka_unit_test_setup_teardown(test_truncation, capture_setup, capture_teardown),
	    cmocka_unit_test_setup_teardown(test_truncation_keeps_utf8_whole, capture_setup,
	                                    capture_teardown),
	    cmocka_unit_test_setup_teardown(test_json_lines, capture_setup, capture_teardown),
	    cmocka_unit_test_setup_teardown(test_json_truncation, capture_setup, capture_teardown),
	    cmocka_unit_test(test_level_parse),
	    cmocka_unit_test(test_limit_budget_and_held_back_count),
	    cmocka_unit_test_setup_teardown(test_access_line, capture_setup, capture_teardown),
	    cmocka_unit_test_setup_teardown(test_errno_preserved, capture_setup, capture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
