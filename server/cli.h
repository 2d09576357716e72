/*
 * cli.h - the command line: option parsing shared by every subcommand, and
 * the offline subcommands (check-config, user, management, token, audit,
 * backup, restore, verify) that work on the
 * same store as a running server. Exit codes: 0 success, 1 failure of the
 * operation, 2 bad usage (CONTRACT 7).
 */
#ifndef MGMTD_CLI_H
#define MGMTD_CLI_H

#include <stdio.h>

#include "config.h"
#include "store.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* Options every command that touches the store takes. NULL = not given. */
struct cli_common {
	const char *config_file;
	const char *data_dir;
	const char *listen;
	const char *seed;
	/*
	 * Also check the files serve opens at start (config_check_files): serve
	 * and check-config; the offline commands open none of them.
	 */
	bool check_files;
};

/*
 * Builds the configuration: defaults, then the file, then MGMTD_* variables,
 * then the flags in common, then (check_files) the files it names. Prints
 * every problem to stderr. Returns 0 or -1.
 */
int cli_load_config(const struct cli_common *common, struct config *cfg);

/* Creates the data directory (0700) and its missing parents. Returns 0 or -1 (printed). */
int cli_make_data_dir(const char *path);

/*
 * Where the configured store lives: [store] backend, and for SQLite the file
 * under data_dir (path holds it; a fresh store_memory_path name for
 * :memory:), for PostgreSQL postgres_url and postgres_pool. t points into
 * cfg and path. Returns 0, or -1 (printed) when the backend is unknown.
 */
int cli_store_target(const struct config *cfg, char path[PATH_MAX], struct store_target *t);

/* Why a token key is refused when store_token_key_check answers CONFLICT. */
extern const char cli_key_mismatch[];

/* Top-level usage text. */
void cli_usage(FILE *out);

int cli_check_config(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_management(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_version(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_verify(int argc, char **argv);

#endif
