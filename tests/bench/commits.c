/*
 * commits.c - the rate of durable SQLite commits on a disk: one connection,
 * WAL, synchronous=FULL (as mgmtd's store), one small INSERT per transaction,
 * for a number of seconds. `make bench` runs it beside mgmtd's data directory
 * so that creates can be compared with what the disk allows.
 *
 * usage: commits DIR [SECONDS]   prints "commits/s: N"
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "commits: %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char path[4096];
	double seconds = argc > 2 ? atof(argv[2]) : 5.0, start, elapsed;
	long n = 0;
	sqlite3 *db;
	sqlite3_stmt *q;

	if (argc < 2) {
		fprintf(stderr, "usage: commits DIR [SECONDS]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/commits-bench.db", argv[1]);
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK || exec(db, "PRAGMA journal_mode = WAL") ||
	    exec(db, "PRAGMA synchronous = FULL") ||
	    exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)") ||
	    sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES ('a durable commit')", -1, &q, NULL) !=
	        SQLITE_OK)
		return 1;
	start = now();
	while ((elapsed = now() - start) < seconds) {
		if (sqlite3_step(q) != SQLITE_DONE) {
			fprintf(stderr, "commits: %s\n", sqlite3_errmsg(db));
			return 1;
		}
		sqlite3_reset(q);
		n++;
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	unlink(path);
	snprintf(path, sizeof(path), "%s/commits-bench.db-wal", argv[1]);
	unlink(path);
	snprintf(path, sizeof(path), "%s/commits-bench.db-shm", argv[1]);
	unlink(path);
	printf("commits/s: %.0f\n", (double)n / elapsed);
	return 0;
}
