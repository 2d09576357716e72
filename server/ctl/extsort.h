/*
 * extsort.h - a stable sort of records by a text key in bounded memory: an
 * external merge sort, for lists too long to hold (mgmtctl's sorted lists).
 *
 * Records are kept in memory until they pass the memory given to
 * extsort_new; then they are sorted and written to a temporary file (a
 * run), and the next ones gather. At the end the records still in memory
 * are sorted and, when runs were written, written as the last run; the
 * runs are merged, at most EXTSORT_FAN_IN at a time (more runs are first
 * merged in passes of groups of EXTSORT_FAN_IN), and each record is handed
 * over in order. So memory
 * holds one batch of records, or one record of each run being merged,
 * whatever the number of records; the temporary files hold the rest.
 *
 * Order: keys compared byte by byte (a key that is a prefix of another
 * first), as strcmp() orders strings; records with equal keys keep the
 * order they were added in. Temporary files go to $TMPDIR (else /tmp),
 * readable by the user only, and are unlinked as soon as they are made: no
 * file is left behind, whatever happens to the process.
 */
#ifndef MGMTCTL_EXTSORT_H
#define MGMTCTL_EXTSORT_H

#include <stddef.h>

#define EXTSORT_FAN_IN 16

struct extsort;

/* A sorter that holds about memory bytes of records before writing a run. NULL when out of memory.
 */
struct extsort *extsort_new(size_t memory);

/* Adds a record (key and data are copied). 0, or -1 (extsort_error says why). */
int extsort_add(struct extsort *s, const char *key, size_t key_len, const char *data, size_t len);

/* Called with each record's data (NUL-terminated) in order; 0 to go on, anything else stops. */
typedef int (*extsort_fn)(void *arg, const char *data, size_t len);

/*
 * Hands every record to each() in order. 0; -1 when a temporary file
 * failed (extsort_error says why) or each() stopped it. Call once.
 */
int extsort_finish(struct extsort *s, extsort_fn each, void *arg);

/* Why the last call failed ("" when it did not). */
const char *extsort_error(const struct extsort *s);

/* How many sorted batches went to temporary files as runs (for the tests). */
size_t extsort_runs(const struct extsort *s);

/* NULL is fine; closes (and so removes) the temporary files. */
void extsort_free(struct extsort *s);

#endif
