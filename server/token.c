/*
 * token.c - secrets: generation, format, checksum and keyed hashing.
 *
 * libsodium must be initialised (sodium_init) before any of this runs; main
 * does that once before threads start, the unit tests in their setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "token.h"
#include "util.h"

_Static_assert(crypto_auth_hmacsha512_KEYBYTES == TOKEN_KEY_LEN, "token key is the HMAC key");
_Static_assert(crypto_auth_hmacsha512_BYTES == TOKEN_HASH_LEN, "stored hash is the HMAC");
_Static_assert(sizeof(TOKEN_MGMT_MARK) - 1 == 5, "TOKEN_MGMT_LEN counts a 5-byte mark");
_Static_assert(sizeof(TOKEN_DB_MARK) - 1 == 6, "TOKEN_DB_LEN counts a 6-byte mark");

#define MARK_LEN(m)         (sizeof(m) - 1)
#define MGMT_RANDOM_BYTES   32
#define DB_RANDOM_BYTES     64
#define CHECKSUM_HASH_BYTES 32 /* BLAKE2b output size the checksum is cut from */
#define CHECKSUM_BYTES      4
#define PREFIX_TAIL         4

_Static_assert(sodium_base64_ENCODED_LEN(MGMT_RANDOM_BYTES,
                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
                   TOKEN_MGMT_BODY_LEN + 1,
               "management body length");
_Static_assert(sodium_base64_ENCODED_LEN(CHECKSUM_BYTES,
                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
                   TOKEN_MGMT_CHECK_LEN + 1,
               "checksum length");
_Static_assert(sodium_base64_ENCODED_LEN(DB_RANDOM_BYTES,
                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
                   TOKEN_DB_BODY_LEN + 1,
               "database body length");

/* ---- the key file ---- */

/* Reads exactly len bytes; returns 0, or -1 with errno set (0 for an early end of file). */
static int read_full(int fd, unsigned char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = 0;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const unsigned char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Makes the new directory entry durable: without this a crash can lose the file. */
static int fsync_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len;
	int fd, rc, saved;

	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		len = slash == path ? 1 : (size_t)(slash - path); /* "/token.key" lives in "/" */
		if (len >= sizeof(dir)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(dir, path, len);
		dir[len] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

enum load_result { LOAD_OK, LOAD_ABSENT, LOAD_SHORT, LOAD_FAIL };

/*
 * Reads an existing key file. LOAD_SHORT means a regular, private file with
 * fewer bytes than a key: either damage or another process that has created
 * it and not yet written it; the caller decides which.
 */
static enum load_result load_key(const char *path, struct token_key *key, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	/* Symlinks are followed on purpose: secret stores often mount keys that way. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return LOAD_ABSENT;
		set_err(err, errlen, "cannot open token key file %s: %s; check its permissions",
		        path, strerror(errno));
		return LOAD_FAIL;
	}
	if (fstat(fd, &st) != 0) {
		set_err(err, errlen, "cannot stat token key file %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen,
		        "token key file %s is not a regular file; point token_key_file at the "
		        "32-byte key file",
		        path);
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		set_err(err, errlen,
		        "token key file %s is accessible by group or others (mode %04o); "
		        "run: chmod 600 %s",
		        path, (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	if (st.st_size != TOKEN_KEY_LEN) {
		set_err(err, errlen,
		        "token key file %s has %lld bytes, a key has %d; restore the original "
		        "file, or delete it to create a new key (every stored token then stops "
		        "working)",
		        path, (long long)st.st_size, TOKEN_KEY_LEN);
		if (st.st_size > TOKEN_KEY_LEN)
			goto fail;
		close(fd);
		return LOAD_SHORT;
	}
	if (read_full(fd, key->bytes, TOKEN_KEY_LEN) != 0) {
		set_err(err, errlen, "cannot read token key file %s: %s", path,
		        errno ? strerror(errno) : "file shrank while reading");
		goto fail;
	}
	close(fd);
	return LOAD_OK;

fail:
	sodium_memzero(key->bytes, sizeof(key->bytes));
	close(fd);
	return LOAD_FAIL;
}

/*
 * Creates the key file with O_EXCL. Returns LOAD_OK, LOAD_ABSENT when someone
 * else created the file first (the caller reads theirs), or LOAD_FAIL.
 */
static enum load_result create_key(const char *path, struct token_key *key, char *err,
                                   size_t errlen)
{
	int fd;
	const char *what;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return LOAD_ABSENT;
		set_err(err, errlen,
		        "cannot create token key file %s: %s; check that its "
		        "directory exists and is writable",
		        path, strerror(errno));
		return LOAD_FAIL;
	}
	randombytes_buf(key->bytes, sizeof(key->bytes));
	what = "write";
	if (write_full(fd, key->bytes, sizeof(key->bytes)) != 0)
		goto fail_unlink;
	what = "fsync";
	if (fsync(fd) != 0)
		goto fail_unlink;
	what = "close";
	if (close(fd) != 0) {
		fd = -1;
		goto fail_unlink;
	}
	fd = -1;
	if (fsync_parent_dir(path) != 0) {
		/* The file itself is complete; only its durability is in doubt. */
		set_err(err, errlen, "cannot fsync the directory of token key file %s: %s", path,
		        strerror(errno));
		sodium_memzero(key->bytes, sizeof(key->bytes));
		return LOAD_FAIL;
	}
	return LOAD_OK;

fail_unlink:
	/* A half-written key would be refused at the next start: remove it now. */
	set_err(err, errlen, "cannot %s token key file %s: %s", what, path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(path);
	sodium_memzero(key->bytes, sizeof(key->bytes));
	return LOAD_FAIL;
}

int token_key_load_or_create(const char *path, struct token_key *key, char *err, size_t errlen)
{
	/*
	 * A short file is either damage or the key of another process that has
	 * created the file and not yet written it: wait a little (0.5 s in all)
	 * before calling it damage.
	 */
	enum { ATTEMPTS = 25 };
	const struct timespec pause = {0, 20 * 1000 * 1000};
	enum load_result last = LOAD_ABSENT;

	if (path == NULL || path[0] == '\0' || key == NULL) {
		set_err(err, errlen, "no token key file configured; set token_key_file");
		return -1;
	}
	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		last = load_key(path, key, err, errlen);
		if (last == LOAD_OK)
			return 0;
		if (last == LOAD_FAIL)
			return -1;
		if (last == LOAD_SHORT) {
			nanosleep(&pause, NULL);
			continue;
		}
		switch (create_key(path, key, err, errlen)) {
		case LOAD_OK:
			return 0;
		case LOAD_ABSENT:
			/* Created by someone else between our open and our O_EXCL: read theirs. */
			continue;
		default:
			return -1;
		}
	}
	/* After a short file, its message is already in err. */
	if (last != LOAD_SHORT)
		set_err(err, errlen, "token key file %s keeps vanishing; is it a dangling symlink?",
		        path);
	return -1;
}

/* ---- formats ---- */

static bool is_b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static bool all_b64url(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_b64url_char(s[i]))
			return false;
	return true;
}

/* The checksum of a management token: over the mark and the body, 48 characters. */
static void mgmt_checksum(const char *s, char out[TOKEN_MGMT_CHECK_LEN + 1])
{
	unsigned char hash[CHECKSUM_HASH_BYTES];

	crypto_generichash(hash, sizeof(hash), (const unsigned char *)s,
	                   TOKEN_MGMT_LEN - TOKEN_MGMT_CHECK_LEN, NULL, 0);
	sodium_bin2base64(out, TOKEN_MGMT_CHECK_LEN + 1, hash, CHECKSUM_BYTES,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void token_mgmt_generate(char out[TOKEN_MGMT_SIZE])
{
	unsigned char raw[MGMT_RANDOM_BYTES];
	const size_t mark = MARK_LEN(TOKEN_MGMT_MARK);

	id_random_bytes(raw, sizeof(raw));
	memcpy(out, TOKEN_MGMT_MARK, mark);
	sodium_bin2base64(out + mark, TOKEN_MGMT_BODY_LEN + 1, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	mgmt_checksum(out, out + mark + TOKEN_MGMT_BODY_LEN);
	sodium_memzero(raw, sizeof(raw));
}

bool token_mgmt_well_formed(const char *s)
{
	char check[TOKEN_MGMT_CHECK_LEN + 1];
	const size_t mark = MARK_LEN(TOKEN_MGMT_MARK);

	if (s == NULL || strnlen(s, TOKEN_MGMT_LEN + 1) != TOKEN_MGMT_LEN)
		return false;
	if (memcmp(s, TOKEN_MGMT_MARK, mark) != 0 || !all_b64url(s + mark, TOKEN_MGMT_LEN - mark))
		return false;
	mgmt_checksum(s, check);
	return sodium_memcmp(check, s + mark + TOKEN_MGMT_BODY_LEN, TOKEN_MGMT_CHECK_LEN) == 0;
}

void token_db_generate(char out[TOKEN_DB_SIZE])
{
	unsigned char raw[DB_RANDOM_BYTES];
	const size_t mark = MARK_LEN(TOKEN_DB_MARK);

	id_random_bytes(raw, sizeof(raw));
	memcpy(out, TOKEN_DB_MARK, mark);
	sodium_bin2base64(out + mark, TOKEN_DB_BODY_LEN + 1, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

bool token_db_well_formed(const char *s)
{
	const size_t mark = MARK_LEN(TOKEN_DB_MARK);

	if (s == NULL || strnlen(s, TOKEN_DB_LEN + 1) != TOKEN_DB_LEN)
		return false;
	return memcmp(s, TOKEN_DB_MARK, mark) == 0 && all_b64url(s + mark, TOKEN_DB_BODY_LEN);
}

void token_prefix(const char *secret, char out[TOKEN_PREFIX_SIZE])
{
	size_t mark = 0, len;

	if (secret == NULL) {
		out[0] = '\0';
		return;
	}
	if (strncmp(secret, TOKEN_MGMT_MARK, MARK_LEN(TOKEN_MGMT_MARK)) == 0)
		mark = MARK_LEN(TOKEN_MGMT_MARK);
	else if (strncmp(secret, TOKEN_DB_MARK, MARK_LEN(TOKEN_DB_MARK)) == 0)
		mark = MARK_LEN(TOKEN_DB_MARK);
	/* Without a known mark, only the first 4 characters: reveal no more than usual. */
	len = strnlen(secret, mark + PREFIX_TAIL);
	memcpy(out, secret, len);
	out[len] = '\0';
}

/* ---- hashing ---- */

void token_hash(const struct token_key *key, const char *secret, unsigned char out[TOKEN_HASH_LEN])
{
	crypto_auth_hmacsha512(out, (const unsigned char *)secret, strlen(secret), key->bytes);
}

bool token_hash_equal(const unsigned char a[TOKEN_HASH_LEN], const unsigned char b[TOKEN_HASH_LEN])
{
	return sodium_memcmp(a, b, TOKEN_HASH_LEN) == 0;
}
