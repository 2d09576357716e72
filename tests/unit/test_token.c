/*
 * test_token.c - token formats, checksum, keyed hashing and the key file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "token.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int group_setup(void **state)
{
	return sodium_init() < 0 ? -1 : 0;
}

/* ---- management tokens ---- */

static void test_mgmt_generate_well_formed(void **state)
{
	char a[TOKEN_MGMT_SIZE], b[TOKEN_MGMT_SIZE];

	for (int i = 0; i < 200; i++) {
		token_mgmt_generate(a);
		assert_int_equal(strlen(a), TOKEN_MGMT_LEN);
		assert_int_equal(strlen(a), 54);
		assert_memory_equal(a, "M.V1.", 5);
		/* The documented pattern: M\.V1\.[A-Za-z0-9_-]{49} */
		assert_int_equal(strspn(a + 5, b64url), 49);
		assert_true(token_mgmt_well_formed(a));
		assert_false(token_db_well_formed(a));
	}
	token_mgmt_generate(b);
	assert_string_not_equal(a, b);
}

static void test_mgmt_checksum_is_blake2b(void **state)
{
	/* Recompute the checksum independently from its definition in token.h. */
	char t[TOKEN_MGMT_SIZE];
	unsigned char h[32];
	char enc[16];

	token_mgmt_generate(t);
	assert_int_equal(crypto_generichash(h, sizeof(h), (const unsigned char *)t, 48, NULL, 0),
	                 0);
	sodium_bin2base64(enc, sizeof(enc), h, 4, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	assert_int_equal(strlen(enc), 6);
	assert_memory_equal(t + 48, enc, 6);

	/* A token built by hand with a good checksum is accepted. */
	memcpy(t, "M.V1.", 5);
	memset(t + 5, 'A', 43);
	crypto_generichash(h, sizeof(h), (const unsigned char *)t, 48, NULL, 0);
	sodium_bin2base64(enc, sizeof(enc), h, 4, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	memcpy(t + 48, enc, 7);
	assert_true(token_mgmt_well_formed(t));
}

static void test_mgmt_single_character_changes(void **state)
{
	char good[TOKEN_MGMT_SIZE], t[TOKEN_MGMT_SIZE];

	token_mgmt_generate(good);
	for (size_t pos = 0; pos < TOKEN_MGMT_LEN; pos++) {
		/* Every other base64url character, plus a few outside the alphabet. */
		for (const char *c = b64url; *c != '\0'; c++) {
			if (*c == good[pos])
				continue;
			memcpy(t, good, sizeof(t));
			t[pos] = *c;
			if (token_mgmt_well_formed(t))
				fail_msg("accepted %s with position %zu changed to '%c'", t, pos,
				         *c);
		}
		for (const char *c = "+/=.~ \x7f\xc3"; *c != '\0'; c++) {
			if (*c == good[pos]) /* the dots of the mark */
				continue;
			memcpy(t, good, sizeof(t));
			t[pos] = *c;
			assert_false(token_mgmt_well_formed(t));
		}
	}
	memcpy(t, good, sizeof(t));
	assert_true(token_mgmt_well_formed(t)); /* the copy itself was fine all along */
}

static void test_mgmt_length_and_mark(void **state)
{
	char good[TOKEN_MGMT_SIZE], t[TOKEN_MGMT_SIZE + 8];

	token_mgmt_generate(good);
	/* Every truncation. */
	for (size_t len = 0; len < TOKEN_MGMT_LEN; len++) {
		memcpy(t, good, len);
		t[len] = '\0';
		assert_false(token_mgmt_well_formed(t));
	}
	/* One extra character, of each kind. */
	for (const char *c = "Aa0-_ \n"; *c != '\0'; c++) {
		memcpy(t, good, TOKEN_MGMT_LEN);
		t[TOKEN_MGMT_LEN] = *c;
		t[TOKEN_MGMT_LEN + 1] = '\0';
		assert_false(token_mgmt_well_formed(t));
	}
	/* Wrong marks with the same body and checksum. */
	static const char *const marks[] = {"m.V1.", "M.v1.", "M.V2.", "M-V1.", "M.V1_", "X.V1."};
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		memcpy(t, good, sizeof(good));
		memcpy(t, marks[i], 5);
		assert_false(token_mgmt_well_formed(t));
	}
	assert_false(token_mgmt_well_formed(NULL));
	assert_false(token_mgmt_well_formed(""));
	assert_false(token_mgmt_well_formed("M.V1."));
	/* A database token is not a management token. */
	char db[TOKEN_DB_SIZE];
	token_db_generate(db);
	assert_false(token_mgmt_well_formed(db));
}

/* ---- database tokens ---- */

static void test_db_generate_well_formed(void **state)
{
	char a[TOKEN_DB_SIZE], b[TOKEN_DB_SIZE];

	for (int i = 0; i < 200; i++) {
		token_db_generate(a);
		assert_int_equal(strlen(a), TOKEN_DB_LEN);
		assert_int_equal(strlen(a), 92);
		assert_memory_equal(a, "apiv1_", 6);
		assert_int_equal(strspn(a + 6, b64url), 86);
		assert_true(token_db_well_formed(a));
		assert_false(token_mgmt_well_formed(a));
	}
	token_db_generate(b);
	assert_string_not_equal(a, b);
}

static void test_db_malformed(void **state)
{
	char good[TOKEN_DB_SIZE], t[TOKEN_DB_SIZE + 2];

	token_db_generate(good);
	for (size_t len = 0; len < TOKEN_DB_LEN; len++) {
		memcpy(t, good, len);
		t[len] = '\0';
		assert_false(token_db_well_formed(t));
	}
	memcpy(t, good, TOKEN_DB_LEN);
	t[TOKEN_DB_LEN] = 'A';
	t[TOKEN_DB_LEN + 1] = '\0';
	assert_false(token_db_well_formed(t));

	for (size_t pos = 6; pos < TOKEN_DB_LEN; pos++) {
		for (const char *c = "+/=. \n"; *c != '\0'; c++) {
			memcpy(t, good, sizeof(good));
			t[pos] = *c;
			assert_false(token_db_well_formed(t));
		}
	}
	memcpy(t, good, sizeof(good));
	memcpy(t, "apiv2_", 6);
	assert_false(token_db_well_formed(t));
	memcpy(t, "APIV1_", 6);
	assert_false(token_db_well_formed(t));
	assert_false(token_db_well_formed(NULL));
	assert_false(token_db_well_formed(""));
}

/* ---- prefix ---- */

static void test_prefix(void **state)
{
	char t[TOKEN_DB_SIZE];
	char p[TOKEN_PREFIX_SIZE];

	token_mgmt_generate(t);
	token_prefix(t, p);
	assert_int_equal(strlen(p), 9);
	assert_memory_equal(p, t, 9);

	token_db_generate(t);
	token_prefix(t, p);
	assert_int_equal(strlen(p), 10);
	assert_memory_equal(p, t, 10);

	token_prefix("M.V1.abcdefgh", p);
	assert_string_equal(p, "M.V1.abcd");
	token_prefix("M.V1.ab", p);
	assert_string_equal(p, "M.V1.ab");
	token_prefix("M.V1.", p);
	assert_string_equal(p, "M.V1.");
	token_prefix("M.V1", p);
	assert_string_equal(p, "M.V1");
	token_prefix("apiv1_wxyz1234", p);
	assert_string_equal(p, "apiv1_wxyz");
	token_prefix("", p);
	assert_string_equal(p, "");
	/* Unknown format: only the first 4 characters are revealed. */
	token_prefix("secretsecret", p);
	assert_string_equal(p, "secr");
	token_prefix(NULL, p);
	assert_string_equal(p, "");
}

/* ---- hashing ---- */

static void test_hash(void **state)
{
	struct token_key k1, k2;
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN], h3[TOKEN_HASH_LEN];
	unsigned char want[TOKEN_HASH_LEN];
	char s1[TOKEN_MGMT_SIZE], s2[TOKEN_MGMT_SIZE];

	randombytes_buf(k1.bytes, sizeof(k1.bytes));
	memcpy(&k2, &k1, sizeof(k1));
	k2.bytes[31] ^= 1;
	token_mgmt_generate(s1);
	token_mgmt_generate(s2);

	token_hash(&k1, s1, h1);
	token_hash(&k1, s1, h2);
	assert_memory_equal(h1, h2, TOKEN_HASH_LEN); /* deterministic */
	assert_true(token_hash_equal(h1, h2));

	token_hash(&k2, s1, h3); /* differs per key */
	assert_memory_not_equal(h1, h3, TOKEN_HASH_LEN);
	assert_false(token_hash_equal(h1, h3));

	token_hash(&k1, s2, h3); /* differs per secret */
	assert_memory_not_equal(h1, h3, TOKEN_HASH_LEN);
	assert_false(token_hash_equal(h1, h3));

	/* It is HMAC-SHA-512 of the secret's bytes under the key. */
	crypto_auth_hmacsha512(want, (const unsigned char *)s1, strlen(s1), k1.bytes);
	assert_memory_equal(h1, want, TOKEN_HASH_LEN);

	/* Each single byte matters to hash_equal, the last one too. */
	for (size_t i = 0; i < TOKEN_HASH_LEN; i++) {
		memcpy(h2, h1, sizeof(h1));
		h2[i] ^= 0x80;
		assert_false(token_hash_equal(h1, h2));
	}
}

/* ---- the key file ---- */

struct keydir {
	char dir[64];
	char path[128];
};

static int key_setup(void **state)
{
	struct keydir *kd = calloc(1, sizeof(*kd));

	if (kd == NULL)
		return -1;
	strcpy(kd->dir, "/tmp/test_token.XXXXXX");
	if (mkdtemp(kd->dir) == NULL) {
		free(kd);
		return -1;
	}
	snprintf(kd->path, sizeof(kd->path), "%s/token.key", kd->dir);
	*state = kd;
	return 0;
}

static int key_teardown(void **state)
{
	struct keydir *kd = *state;
	char other[192];

	/* Also after a failed assertion, which skips a test's own cleanup. */
	snprintf(other, sizeof(other), "%s/real.key", kd->dir);
	unlink(other);
	unlink(kd->path);
	rmdir(kd->path);
	rmdir(kd->dir);
	free(kd);
	return 0;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0); /* past the umask */
	assert_int_equal(close(fd), 0);
}

static void test_key_create_and_reload(void **state)
{
	struct keydir *kd = *state;
	struct token_key k1, k2;
	unsigned char disk[64];
	unsigned char zero[TOKEN_KEY_LEN] = {0};
	char err[512] = "";
	struct stat st;
	int fd;
	ssize_t n;

	assert_int_equal(token_key_load_or_create(kd->path, &k1, err, sizeof(err)), 0);
	assert_int_equal(stat(kd->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, TOKEN_KEY_LEN);
	assert_memory_not_equal(k1.bytes, zero, TOKEN_KEY_LEN);

	/* The file holds exactly the key returned. */
	fd = open(kd->path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, disk, sizeof(disk));
	close(fd);
	assert_int_equal(n, TOKEN_KEY_LEN);
	assert_memory_equal(disk, k1.bytes, TOKEN_KEY_LEN);

	memset(&k2, 0, sizeof(k2));
	assert_int_equal(token_key_load_or_create(kd->path, &k2, err, sizeof(err)), 0);
	assert_memory_equal(k1.bytes, k2.bytes, TOKEN_KEY_LEN);

	/* Mode 0400 is private too. */
	assert_int_equal(chmod(kd->path, 0400), 0);
	assert_int_equal(token_key_load_or_create(kd->path, &k2, err, sizeof(err)), 0);
	assert_memory_equal(k1.bytes, k2.bytes, TOKEN_KEY_LEN);
}

static void test_key_loads_existing(void **state)
{
	struct keydir *kd = *state;
	unsigned char bytes[TOKEN_KEY_LEN];
	struct token_key k;
	char err[512] = "";

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 7 + 1);
	write_file(kd->path, bytes, sizeof(bytes), 0600);
	assert_int_equal(token_key_load_or_create(kd->path, &k, err, sizeof(err)), 0);
	assert_memory_equal(k.bytes, bytes, TOKEN_KEY_LEN);
}

static void test_key_refused_when_shared(void **state)
{
	struct keydir *kd = *state;
	static const mode_t modes[] = {0644, 0640, 0604, 0610, 0601, 0660};
	unsigned char bytes[TOKEN_KEY_LEN] = {1, 2, 3};
	struct token_key k;
	char err[512];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		write_file(kd->path, bytes, sizeof(bytes), modes[i]);
		err[0] = '\0';
		assert_int_equal(token_key_load_or_create(kd->path, &k, err, sizeof(err)), -1);
		assert_non_null(strstr(err, kd->path));
		assert_non_null(strstr(err, "chmod 600"));
	}
	/* Refused, not repaired: the file keeps its mode and its bytes. */
	{
		struct stat st;

		assert_int_equal(stat(kd->path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0660);
		assert_int_equal(st.st_size, TOKEN_KEY_LEN);
	}
}

static void test_key_refused_when_wrong_size(void **state)
{
	struct keydir *kd = *state;
	static const size_t sizes[] = {0, 1, 31, 33, 64};
	unsigned char bytes[64] = {9};
	struct token_key k;
	char err[512];
	struct stat st;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		write_file(kd->path, bytes, sizes[i], 0600);
		err[0] = '\0';
		assert_int_equal(token_key_load_or_create(kd->path, &k, err, sizeof(err)), -1);
		assert_non_null(strstr(err, kd->path));
		assert_non_null(strstr(err, "bytes"));
		/* The damaged file is left for the operator, not silently replaced. */
		assert_int_equal(stat(kd->path, &st), 0);
		assert_int_equal(st.st_size, (off_t)sizes[i]);
	}
}

static void test_key_refused_when_not_regular(void **state)
{
	struct keydir *kd = *state;
	struct token_key k;
	char err[512] = "";

	assert_int_equal(mkdir(kd->path, 0700), 0);
	assert_int_equal(token_key_load_or_create(kd->path, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, kd->path));
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(rmdir(kd->path), 0);
}

static void test_key_missing_directory(void **state)
{
	struct keydir *kd = *state;
	struct token_key k;
	char path[192];
	char err[512] = "";

	snprintf(path, sizeof(path), "%s/nonexistent/token.key", kd->dir);
	assert_int_equal(token_key_load_or_create(path, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	/* NULL or empty error buffers are tolerated. */
	assert_int_equal(token_key_load_or_create(path, &k, NULL, 0), -1);
	assert_int_equal(token_key_load_or_create("", &k, err, sizeof(err)), -1);
}

static void test_key_follows_symlink(void **state)
{
	struct keydir *kd = *state;
	struct token_key k1, k2;
	char real[192];
	char err[512] = "";

	snprintf(real, sizeof(real), "%s/real.key", kd->dir);
	assert_int_equal(token_key_load_or_create(real, &k1, err, sizeof(err)), 0);
	assert_int_equal(symlink(real, kd->path), 0);
	assert_int_equal(token_key_load_or_create(kd->path, &k2, err, sizeof(err)), 0);
	assert_memory_equal(k1.bytes, k2.bytes, TOKEN_KEY_LEN);
	unlink(real);

	/* A dangling symlink is neither followed into a new file nor looped on. */
	assert_int_equal(token_key_load_or_create(kd->path, &k2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, kd->path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mgmt_generate_well_formed),
	    cmocka_unit_test(test_mgmt_checksum_is_blake2b),
	    cmocka_unit_test(test_mgmt_single_character_changes),
	    cmocka_unit_test(test_mgmt_length_and_mark),
	    cmocka_unit_test(test_db_generate_well_formed),
	    cmocka_unit_test(test_db_malformed),
	    cmocka_unit_test(test_prefix),
	    cmocka_unit_test(test_hash),
	    cmocka_unit_test_setup_teardown(test_key_create_and_reload, key_setup, key_teardown),
	    cmocka_unit_test_setup_teardown(test_key_loads_existing, key_setup, key_teardown),
	    cmocka_unit_test_setup_teardown(test_key_refused_when_shared, key_setup, key_teardown),
	    cmocka_unit_test_setup_teardown(test_key_refused_when_wrong_size, key_setup,
	                                    key_teardown),
	    cmocka_unit_test_setup_teardown(test_key_refused_when_not_regular, key_setup,
	                                    key_teardown),
	    cmocka_unit_test_setup_teardown(test_key_missing_directory, key_setup, key_teardown),
	    cmocka_unit_test_setup_teardown(test_key_follows_symlink, key_setup, key_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
