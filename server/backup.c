/*
 * backup.c - backup, restore and verify, on top of store.h's file functions.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "cli.h"
#include "log.h"

#define FINGERPRINT_NAME "token_key_fingerprint"

void backup_key_fingerprint(const struct token_key *key, char out[BACKUP_FINGERPRINT_SIZE])
{
	/* Keyed by a fixed label, so this digest is of no use as anything else. */
	static const unsigned char label[] = "mgmtd token.key fingerprint v1";
	unsigned char digest[16];
	char hex[sizeof(digest) * 2 + 1];

	crypto_generichash(digest, sizeof(digest), key->bytes, sizeof(key->bytes), label,
	                   sizeof(label) - 1);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	snprintf(out, BACKUP_FINGERPRINT_SIZE, "blake2b:%s", hex);
}

int backup_check_store_key(struct store *s, const struct token_key *key)
{
	char have[BACKUP_FINGERPRINT_SIZE], recorded[128];
	enum store_status st;

	backup_key_fingerprint(key, have);
	/* One statement decides between replicas starting at once with different keys. */
	st = store_meta_claim(s, FINGERPRINT_NAME, have, recorded, sizeof(recorded));
	if (st != STORE_OK)
		return -1;
	return strcmp(have, recorded) == 0 ? 0 : 1;
}

static int lock_path(const char *data_dir, char out[PATH_MAX])
{
	int n = snprintf(out, PATH_MAX, "%s/mgmtd.lock", data_dir);

	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

int backup_hold_data_dir(const char *data_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd;

	if (lock_path(data_dir, path) != 0) {
		set_err(err, errlen, "data directory path too long");
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
		/* only a restore holds it exclusively, and only for a moment */
		set_err(err, errlen, "%s is locked: a restore is under way", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* The data directory's store and key paths; -1 (printed) for :memory:. */
static int store_paths(const struct config *cfg, char db[PATH_MAX], char key[PATH_MAX])
{
	if (strcmp(cfg->store_backend, "postgres") == 0) {
		fprintf(stderr,
		        "mgmtd: [store] backend = postgres: back up and restore the PostgreSQL "
		        "database with its own tools (pg_dump, base backups; docs/operations.md); "
		        "backup, restore and verify work on SQLite files\n");
		return -1;
	}
	if (config_in_memory(cfg)) {
		fprintf(stderr,
		        "mgmtd: data_dir is :memory:: there is no store on disk to back up, "
		        "restore or verify\n");
		return -1;
	}
	config_db_path(cfg, db);
	config_token_key_path(cfg, key);
	if (db[0] == '\0' || key[0] == '\0') {
		fprintf(stderr, "mgmtd: the data directory's path is too long\n");
		return -1;
	}
	return 0;
}

/* The fingerprint of the key file at path, when there is one. */
static bool key_file_fingerprint(const char *path, char out[BACKUP_FINGERPRINT_SIZE])
{
	struct token_key key;
	char err[512];

	if (access(path, F_OK) != 0)
		return false;
	/* the file exists: load_or_create only loads it */
	if (token_key_load_or_create(path, &key, err, sizeof(err)) != 0) {
		fprintf(stderr, "mgmtd: %s\n", err);
		return false;
	}
	backup_key_fingerprint(&key, out);
	sodium_memzero(&key, sizeof(key));
	return true;
}

int backup_to(const struct config *cfg, const char *dest, FILE *out)
{
	char db[PATH_MAX], key[PATH_MAX], err[1024];
	struct store_file_report r;

	if (store_paths(cfg, db, key) != 0)
		return EXIT_FAILED;
	if (store_backup(db, dest, err, sizeof(err)) != 0) {
		fprintf(stderr, "mgmtd backup: %s\n", err);
		return EXIT_FAILED;
	}
	if (store_verify_file(dest, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "mgmtd backup: %s\n", err);
		return EXIT_FAILED;
	}
	fprintf(out,
	        "backup of %s written to %s: schema version %d, %lld management tokens, %lld "
	        "database tokens, %lld audit events\n",
	        db, dest, r.schema_version, (long long)r.management_tokens,
	        (long long)r.database_tokens, (long long)r.audit_events);
	fprintf(out,
	        "It holds hashes only: restoring it needs the same token.key (%s), which is "
	        "not in it. Keep a copy of that key apart from the backup.\n",
	        r.key_fingerprint[0] ? r.key_fingerprint : "no fingerprint recorded");
	return EXIT_OK;
}

/* Prints the report; returns true when the file is fit to serve from. */
static bool report(FILE *out, const char *what, const struct store_file_report *r,
                   const char *key_fp, bool have_key)
{
	bool ok = true;

	fprintf(out, "%s\n", what);
	fprintf(out, "  integrity:       %s\n", r->integrity_ok ? "ok" : r->integrity);
	ok &= r->integrity_ok;
	fprintf(out, "  schema version:  %d (this mgmtd knows up to %d)%s\n", r->schema_version,
	        r->schema_latest,
	        r->schema_version > r->schema_latest   ? ": NEWER than this mgmtd, which refuses it"
	        : r->schema_version < r->schema_latest ? ": older, migrated at the next start"
	                                               : "");
	ok &= r->schema_version <= r->schema_latest && r->schema_version > 0;
	fprintf(out, "  key fingerprint: %s\n",
	        r->key_fingerprint[0] ? r->key_fingerprint : "(none recorded)");
	if (!have_key) {
		fprintf(out,
		        "  token.key:       missing: no stored token can be verified without the "
		        "key the store was made with\n");
		ok = false;
	} else if (r->key_fingerprint[0] && strcmp(r->key_fingerprint, key_fp) != 0) {
		fprintf(out,
		        "  token.key:       MISMATCH (%s): every stored token is invalid with "
		        "this key\n",
		        key_fp);
		ok = false;
	} else {
		fprintf(out, "  token.key:       %s\n",
		        r->key_fingerprint[0] ? "matches" : "present (no fingerprint to compare)");
	}
	fprintf(out,
	        "  rows:            %lld accounts, %lld management tokens, %lld database "
	        "tokens, %lld audit events\n",
	        (long long)r->accounts, (long long)r->management_tokens,
	        (long long)r->database_tokens, (long long)r->audit_events);
	return ok;
}

int backup_verify(const struct config *cfg, const char *file, FILE *out)
{
	char db[PATH_MAX], key[PATH_MAX], fp[BACKUP_FINGERPRINT_SIZE] = "", err[1024];
	struct store_file_report r;
	bool have_key;

	if (file == NULL && store_paths(cfg, db, key) != 0)
		return EXIT_FAILED;
	if (file != NULL) {
		snprintf(db, sizeof(db), "%s", file);
		config_token_key_path(cfg, key);
	}
	if (store_verify_file(db, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "mgmtd verify: %s\n", err);
		return EXIT_FAILED;
	}
	have_key = key[0] && key_file_fingerprint(key, fp);
	if (!report(out, db, &r, fp, have_key)) {
		fprintf(out, "verify: PROBLEMS FOUND\n");
		return EXIT_FAILED;
	}
	fprintf(out, "verify: OK\n");
	return EXIT_OK;
}

int backup_restore(const struct config *cfg, const char *src, bool force, FILE *out)
{
	char db[PATH_MAX], key[PATH_MAX], lock[PATH_MAX], fp[BACKUP_FINGERPRINT_SIZE] = "";
	char err[1024];
	struct store_file_report r;
	bool have_key;
	int fd = -1, rc = EXIT_FAILED;

	if (store_paths(cfg, db, key) != 0)
		return EXIT_FAILED;
	if (store_verify_file(src, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "mgmtd restore: %s\n", err);
		return EXIT_FAILED;
	}
	have_key = key_file_fingerprint(key, fp);
	if (!report(out, src, &r, fp, have_key)) {
		if (!r.integrity_ok || r.schema_version > r.schema_latest ||
		    r.schema_version <= 0) {
			fprintf(stderr, "mgmtd restore: %s is not fit to restore\n", src);
			return EXIT_FAILED;
		}
		if (!force) {
			fprintf(
			    stderr,
			    "mgmtd restore: the backup's hashes were made with another token.key "
			    "than %s%s. Put the key the backup was made with in place (see "
			    "docs/operations.md), or add --force to restore anyway: then every "
			    "stored token is invalid.\n",
			    key, have_key ? "" : " (missing)");
			return EXIT_FAILED;
		}
		fprintf(stderr, "mgmtd restore: --force: restoring although the key does not "
		                "match; every stored token is invalid\n");
	}
	if (cli_make_data_dir(cfg->data_dir) != 0 || lock_path(cfg->data_dir, lock) != 0)
		return EXIT_FAILED;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "mgmtd restore: cannot open %s: %s\n", lock, strerror(errno));
		return EXIT_FAILED;
	}
	/* A running server holds it shared: never pull the store from under one. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr,
		        "mgmtd restore: a server is running on %s (it holds %s); stop it first\n",
		        cfg->data_dir, lock);
		goto out;
	}
	if (store_restore(src, db, err, sizeof(err)) != 0) {
		fprintf(stderr, "mgmtd restore: %s\n", err);
		goto out;
	}
	fprintf(out, "restored %s into %s\n", src, db);
	rc = EXIT_OK;
out:
	close(fd);
	return rc;
}
