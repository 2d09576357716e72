/*
 * cache.c - the signed-in token cache.
 */
#define _GNU_SOURCE /* asprintf */
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "safefile.h"
#include "timeutil.h"
#include "util.h"

#define CACHE_FILE_MAX      (64 * 1024)
#define DEFAULT_LIFETIME_MS (3600 * 1000LL)

char *cache_dir(void)
{
	return profile_xdg_dir("XDG_CACHE_HOME", ".cache");
}

char *cache_file_for(const struct ctl_settings *s)
{
	unsigned char digest[16];
	char hex[33], *dir = cache_dir(), *path = NULL;
	crypto_generichash_state st;

#define FEED(str)                                                                                  \
	do {                                                                                       \
		const char *v_ = (str) ? (str) : "";                                               \
		crypto_generichash_update(&st, (const unsigned char *)v_, strlen(v_) + 1);         \
	} while (0)
	if (!dir)
		return NULL;
	crypto_generichash_init(&st, NULL, 0, sizeof(digest));
	FEED("mgmtctl token cache v1");
	FEED(s->oauth2.token_url ? s->oauth2.token_url : s->url);
	FEED(s->oauth2.client_id);
	for (size_t i = 0; i < s->oauth2.scope_count; i++)
		FEED(s->oauth2.scopes[i]);
	FEED("");
	for (size_t i = 0; i < s->oauth2.param_count; i++) {
		FEED(s->oauth2.params[i].key);
		FEED(s->oauth2.params[i].value);
	}
#undef FEED
	crypto_generichash_final(&st, digest, sizeof(digest));
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	if (asprintf(&path, "%s/%s.json", dir, hex) < 0)
		path = NULL;
	free(dir);
	return path;
}

void cache_entry_release(struct cache_entry *e)
{
	if (e->access_token) {
		sodium_memzero(e->access_token, strlen(e->access_token));
		free(e->access_token);
	}
	free(e->token_type);
	memset(e, 0, sizeof(*e));
}

/*
 * The cache directory of path, checked before a file in it is read: it must
 * be this user's directory (not a symbolic link), and is made private when
 * it is not, so that nothing another user could put in it while it was
 * open is trusted later. 0 to go on (also when it does not exist: there is
 * nothing to read); -1 with *why when it is not fit.
 */
static int check_dir_before_reading(const char *path, char *why, size_t whylen)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash && slash != path ? strndup(path, (size_t)(slash - path)) : NULL;
	struct stat st;
	int rc = -1;

	if (!slash || slash == path)
		return 0;
	if (!dir) {
		set_err(why, whylen, "out of memory");
		return -1;
	}
	if (lstat(dir, &st) != 0) {
		rc = errno == ENOENT ? 0 : -1;
		if (rc)
			set_err(why, whylen, "cannot read %s: %s", dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		set_err(why, whylen,
		        "%s is not a directory of this user: the cached sign-in is "
		        "not read",
		        dir);
		goto out;
	}
	if ((st.st_mode & 077) && chmod(dir, 0700) != 0) {
		set_err(why, whylen, "cannot make %s private (%s): the cached sign-in is not read",
		        dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

int cache_load(const char *path, int64_t now_ms, struct cache_entry *e, char *why, size_t whylen,
               bool *expired)
{
	char buf[CACHE_FILE_MAX + 1];
	json_t *doc = NULL;
	const char *token, *type, *expiry;
	struct stat st;
	ssize_t n;
	int64_t ms;
	int fd, rc = 1;

	memset(e, 0, sizeof(*e));
	*expired = false;
	if (why && whylen)
		why[0] = '\0';
	if (check_dir_before_reading(path, why, whylen) != 0)
		return 1;
	/* O_NONBLOCK inside: a FIFO planted here is refused, not waited on */
	fd = safefile_open(path, O_NOFOLLOW, &st);
	if (fd == -2) {
		set_err(why, whylen, "%s is not a private file of this user: ignored", path);
		return 1;
	}
	if (fd < 0) {
		if (errno != ENOENT)
			set_err(why, whylen, "cannot read %s: %s", path, strerror(errno));
		return 1;
	}
	if (st.st_size > CACHE_FILE_MAX) {
		set_err(why, whylen, "%s is larger than %d bytes: ignored", path, CACHE_FILE_MAX);
		goto out;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		set_err(why, whylen, "%s is not a private file of this user: ignored", path);
		goto out;
	}
	n = read(fd, buf, CACHE_FILE_MAX);
	if (n <= 0)
		goto out;
	doc = json_loadb(buf, (size_t)n, 0, NULL);
	sodium_memzero(buf, sizeof(buf));
	token = doc ? json_string_value(json_object_get(doc, "access_token")) : NULL;
	type = doc ? json_string_value(json_object_get(doc, "token_type")) : NULL;
	expiry = doc ? json_string_value(json_object_get(doc, "expiry")) : NULL;
	if (!token || !token[0] || !expiry || time_parse_rfc3339(expiry, &ms) != 0) {
		set_err(why, whylen, "%s is not a token cache file: ignored", path);
		goto out;
	}
	if (ms <= now_ms + CACHE_MARGIN_MS) {
		char when[RFC3339_SIZE];

		/* said before a new prompt, so that the person knows why it appears */
		time_format_rfc3339(ms, when);
		set_err(why, whylen, "the cached sign-in expired at %s", when);
		*expired = true;
		goto out;
	}
	e->access_token = strdup(token);
	e->token_type = strdup(type ? type : "Bearer");
	e->expiry_ms = ms;
	if (!e->access_token || !e->token_type) {
		cache_entry_release(e);
		goto out;
	}
	rc = 0;
out:
	if (doc) {
		json_t *t = json_object_get(doc, "access_token");

		if (json_is_string(t))
			sodium_memzero((char *)json_string_value(t), json_string_length(t));
		json_decref(doc);
	}
	close(fd);
	return rc;
}

/* mkdir -p with 0700, and the last directory made private when it is not. */
static int make_private_dir(const char *dir, char *err, size_t errlen)
{
	char *copy = strdup(dir);
	struct stat st;
	int rc = -1;

	if (!copy) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
			set_err(err, errlen, "cannot create %s: %s", copy, strerror(errno));
			goto out;
		}
		*p = '/';
	}
	if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
		set_err(err, errlen, "cannot create %s: %s", copy, strerror(errno));
		goto out;
	}
	if (lstat(copy, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		set_err(err, errlen, "%s is not a directory of this user", copy);
		goto out;
	}
	if ((st.st_mode & 077) && chmod(copy, 0700) != 0) {
		set_err(err, errlen, "cannot make %s private: %s", copy, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int cache_store(const char *path, const struct cache_entry *e, char *err, size_t errlen)
{
	char expiry[RFC3339_SIZE], *dir = strdup(path), *slash, *tmp = NULL, *text = NULL;
	json_t *doc = NULL;
	int fd = -1, rc = -1;

	if (!dir) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	if (make_private_dir(dir, err, errlen) != 0)
		goto out;
	time_format_rfc3339(e->expiry_ms, expiry);
	doc = json_pack("{s:s, s:s, s:s}", "access_token", e->access_token, "token_type",
	                e->token_type ? e->token_type : "Bearer", "expiry", expiry);
	text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	if (!text || asprintf(&tmp, "%s.tmp-%ld", path, (long)getpid()) < 0) {
		tmp = NULL;
		set_err(err, errlen, "out of memory");
		goto out;
	}
	/* what cache_load would not read back is not written: it would be a sign-in lost */
	if (strlen(text) + 1 > CACHE_FILE_MAX) {
		set_err(err, errlen, "the token is too large to cache (over %d bytes)",
		        CACHE_FILE_MAX);
		goto out;
	}
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || write_all(fd, text, strlen(text)) != 0 ||
	    write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
		set_err(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		set_err(err, errlen, "cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0 && tmp)
		(void)unlink(tmp);
	if (text) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	json_decref(doc);
	free(tmp);
	free(dir);
	return rc;
}

int cache_remove(const char *path)
{
	if (unlink(path) == 0)
		return 0;
	return errno == ENOENT ? 1 : -1;
}

int cache_remove_all(size_t *removed, char *err, size_t errlen)
{
	char *dir = cache_dir();
	struct dirent *d;
	DIR *dh;
	int rc = 0;

	*removed = 0;
	if (!dir) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	dh = opendir(dir);
	if (!dh) {
		if (errno != ENOENT) {
			set_err(err, errlen, "cannot read %s: %s", dir, strerror(errno));
			rc = -1;
		}
		free(dir);
		return rc;
	}
	while ((d = readdir(dh)) != NULL) {
		size_t n = strlen(d->d_name);
		char *path;

		/* ours: 32 hex digits and .json (and a leftover temporary file) */
		if (!(n == 37 && strcmp(d->d_name + 32, ".json") == 0) &&
		    !(n > 37 && strncmp(d->d_name + 32, ".json.tmp-", 10) == 0))
			continue;
		if (asprintf(&path, "%s/%s", dir, d->d_name) < 0)
			continue;
		if (unlink(path) == 0) {
			if (n == 37)
				(*removed)++;
		} else if (errno != ENOENT) {
			set_err(err, errlen, "cannot remove %s: %s", path, strerror(errno));
			rc = -1;
		}
		free(path);
	}
	closedir(dh);
	free(dir);
	return rc;
}

/* The JWT's payload as JSON, or NULL. */
static json_t *jwt_payload(const char *token)
{
	const char *dot1 = strchr(token, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	unsigned char bin[8192];
	size_t len = 0;

	if (!dot1 || !dot2 || (size_t)(dot2 - dot1 - 1) > sizeof(bin) * 4 / 3)
		return NULL;
	if (sodium_base642bin(bin, sizeof(bin), dot1 + 1, (size_t)(dot2 - dot1 - 1), NULL, &len,
	                      NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return NULL;
	return json_loadb((const char *)bin, len, 0, NULL);
}

int64_t cache_expiry(const char *access_token, long expires_in, int64_t now_ms)
{
	int64_t expiry =
	    now_ms + (expires_in > 0 ? (int64_t)expires_in * 1000 : DEFAULT_LIFETIME_MS);
	json_t *claims = jwt_payload(access_token);
	json_t *exp = claims ? json_object_get(claims, "exp") : NULL;

	if (json_is_integer(exp)) {
		/* bounded before it is scaled: an exp near INT64_MIN would overflow */
		json_int_t seconds = json_integer_value(exp);

		if (seconds < 0)
			seconds = 0;
		if (seconds < INT64_MAX / 1000 && seconds * 1000 < expiry)
			expiry = seconds * 1000;
	}
	json_decref(claims);
	return expiry;
}

char *cache_jwt_claim(const char *access_token, const char *claim)
{
	json_t *claims = jwt_payload(access_token);
	const char *v = claims ? json_string_value(json_object_get(claims, claim)) : NULL;
	char *copy = v ? strdup(v) : NULL;

	json_decref(claims);
	return copy;
}
