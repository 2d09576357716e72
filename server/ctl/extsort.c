/*
 * extsort.c - a stable external merge sort of keyed records.
 */
#include "extsort.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One record in memory: the key, then the data and a NUL, after this header. */
struct record {
	uint32_t key_len, len;
	size_t seq; /* the order it was added in: ties keep it */
	char bytes[];
};

struct extsort {
	size_t memory, used;
	struct record **batch;
	size_t count, cap, seq;
	FILE **runs;
	size_t nruns, runs_cap, runs_written;
	char error[256];
};

/* A run being read during a merge: its current record. */
struct reader {
	FILE *f;
	char *buf; /* key, data, NUL */
	size_t cap;
	uint32_t key_len, len;
	bool live;
};

struct extsort *extsort_new(size_t memory)
{
	struct extsort *s = calloc(1, sizeof(*s));

	if (s)
		s->memory = memory;
	return s;
}

const char *extsort_error(const struct extsort *s)
{
	return s->error;
}

size_t extsort_runs(const struct extsort *s)
{
	return s->runs_written;
}

static int failed(struct extsort *s, const char *what)
{
	snprintf(s->error, sizeof(s->error), "%s", what);
	return -1;
}

static int io_failed(struct extsort *s, const char *what)
{
	const char *dir = getenv("TMPDIR");

	snprintf(s->error, sizeof(s->error), "%s in %s: %s", what, dir && dir[0] ? dir : "/tmp",
	         strerror(errno ? errno : EIO));
	return -1;
}

static int compare_keys(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int d = memcmp(a, b, a_len < b_len ? a_len : b_len);

	if (d)
		return d;
	return a_len < b_len ? -1 : a_len > b_len;
}

static int by_key_then_seq(const void *x, const void *y)
{
	const struct record *a = *(struct record *const *)x, *b = *(struct record *const *)y;
	int d = compare_keys(a->bytes, a->key_len, b->bytes, b->key_len);

	return d ? d : (a->seq < b->seq ? -1 : 1);
}

/* A new temporary file, already unlinked, open for writing and reading back. */
static FILE *temp_file(struct extsort *s)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	FILE *f;
	int fd;

	if (!dir || !dir[0])
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/mgmtctl-sort.XXXXXX", dir) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		io_failed(s, "cannot make a temporary file");
		return NULL;
	}
	fd = mkstemp(path); /* mode 0600 */
	if (fd < 0) {
		io_failed(s, "cannot make a temporary file");
		return NULL;
	}
	unlink(path);
	f = fdopen(fd, "w+");
	if (!f) {
		io_failed(s, "cannot open a temporary file");
		close(fd);
	}
	return f;
}

static int keep_run(struct extsort *s, FILE *f)
{
	if (s->nruns == s->runs_cap) {
		size_t cap = s->runs_cap ? s->runs_cap * 2 : 8;
		FILE **grown = realloc(s->runs, cap * sizeof(*grown));

		if (!grown) {
			fclose(f);
			return failed(s, "out of memory");
		}
		s->runs = grown;
		s->runs_cap = cap;
	}
	s->runs[s->nruns++] = f;
	s->runs_written++;
	return 0;
}

static int write_record(FILE *f, const char *key, uint32_t key_len, const char *data, uint32_t len)
{
	return fwrite(&key_len, sizeof(key_len), 1, f) == 1 &&
	               fwrite(&len, sizeof(len), 1, f) == 1 &&
	               fwrite(key, 1, key_len, f) == key_len && fwrite(data, 1, len, f) == len
	           ? 0
	           : -1;
}

static void drop_batch(struct extsort *s)
{
	for (size_t i = 0; i < s->count; i++)
		free(s->batch[i]);
	s->count = 0;
	s->used = 0;
}

/* The batch in memory, sorted, as a new run. */
static int spill(struct extsort *s)
{
	FILE *f;

	qsort(s->batch, s->count, sizeof(*s->batch), by_key_then_seq);
	f = temp_file(s);
	if (!f)
		return -1;
	for (size_t i = 0; i < s->count; i++) {
		struct record *r = s->batch[i];

		if (write_record(f, r->bytes, r->key_len, r->bytes + r->key_len, r->len) != 0) {
			io_failed(s, "cannot write a temporary file");
			fclose(f);
			return -1;
		}
	}
	if (fflush(f) != 0) {
		io_failed(s, "cannot write a temporary file");
		fclose(f);
		return -1;
	}
	drop_batch(s);
	return keep_run(s, f);
}

int extsort_add(struct extsort *s, const char *key, size_t key_len, const char *data, size_t len)
{
	struct record *r;

	if (key_len > UINT32_MAX - 1 || len > UINT32_MAX - 1 - key_len)
		return failed(s, "a record too large to sort");
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct record **grown = realloc(s->batch, cap * sizeof(*grown));

		if (!grown)
			return failed(s, "out of memory");
		s->batch = grown;
		s->cap = cap;
	}
	r = malloc(sizeof(*r) + key_len + len + 1);
	if (!r)
		return failed(s, "out of memory");
	r->key_len = (uint32_t)key_len;
	r->len = (uint32_t)len;
	r->seq = s->seq++;
	memcpy(r->bytes, key, key_len);
	memcpy(r->bytes + key_len, data, len);
	r->bytes[key_len + len] = '\0';
	s->batch[s->count++] = r;
	s->used += sizeof(*r) + key_len + len + sizeof(r);
	if (s->used >= s->memory)
		return spill(s);
	return 0;
}

/* Reads the reader's next record; live turns false at the end of its run. */
static int advance(struct extsort *s, struct reader *rd)
{
	uint32_t head[2];
	size_t n;

	if (fread(head, sizeof(head[0]), 2, rd->f) != 2) {
		rd->live = false;
		return ferror(rd->f) ? io_failed(s, "cannot read a temporary file") : 0;
	}
	rd->key_len = head[0];
	rd->len = head[1];
	n = (size_t)head[0] + head[1];
	if (n + 1 > rd->cap) {
		char *grown = realloc(rd->buf, n + 1);

		if (!grown)
			return failed(s, "out of memory");
		rd->buf = grown;
		rd->cap = n + 1;
	}
	if (fread(rd->buf, 1, n, rd->f) != n)
		return io_failed(s, "cannot read a temporary file");
	rd->buf[n] = '\0';
	rd->live = true;
	return 0;
}

/*
 * Merges runs[0..n) in order: into out when given (a new run), else to
 * each(). Among equal keys the earlier run goes first, which keeps the order
 * of addition, since earlier runs hold earlier records.
 */
static int merge(struct extsort *s, FILE **runs, size_t n, FILE *out, extsort_fn each, void *arg)
{
	struct reader rd[EXTSORT_FAN_IN];
	int rc = 0;

	memset(rd, 0, sizeof(rd));
	for (size_t i = 0; i < n && rc == 0; i++) {
		rd[i].f = runs[i];
		if (fseek(runs[i], 0, SEEK_SET) != 0)
			rc = io_failed(s, "cannot read a temporary file");
		else
			rc = advance(s, &rd[i]);
	}
	while (rc == 0) {
		struct reader *min = NULL;

		for (size_t i = 0; i < n; i++) {
			if (rd[i].live && (!min || compare_keys(rd[i].buf, rd[i].key_len, min->buf,
			                                        min->key_len) < 0))
				min = &rd[i];
		}
		if (!min)
			break;
		if (out) {
			if (write_record(out, min->buf, min->key_len, min->buf + min->key_len,
			                 min->len) != 0)
				rc = io_failed(s, "cannot write a temporary file");
		} else if (each(arg, min->buf + min->key_len, min->len) != 0) {
			rc = -1;
		}
		if (rc == 0)
			rc = advance(s, min);
	}
	for (size_t i = 0; i < n; i++)
		free(rd[i].buf);
	if (rc == 0 && out && fflush(out) != 0)
		rc = io_failed(s, "cannot write a temporary file");
	return rc;
}

/*
 * Merges the runs in passes, each merging consecutive groups of
 * EXTSORT_FAN_IN into one run, until few enough remain for the last merge:
 * every record is copied once a pass, and the groups keep the runs' order.
 */
static int merge_rounds(struct extsort *s)
{
	while (s->nruns > EXTSORT_FAN_IN) {
		size_t kept = 0, i;

		for (i = 0; i < s->nruns; i += EXTSORT_FAN_IN) {
			size_t n = s->nruns - i < EXTSORT_FAN_IN ? s->nruns - i : EXTSORT_FAN_IN;
			FILE *out = n > 1 ? temp_file(s) : NULL;

			if (n > 1 && (!out || merge(s, s->runs + i, n, out, NULL, NULL) != 0)) {
				if (out)
					fclose(out);
				/* what is left stays open after what is done, for extsort_free */
				memmove(s->runs + kept, s->runs + i,
				        (s->nruns - i) * sizeof(*s->runs));
				s->nruns = kept + (s->nruns - i);
				return -1;
			}
			if (n == 1) {
				out = s->runs[i];
			} else {
				for (size_t k = 0; k < n; k++)
					fclose(s->runs[i + k]);
			}
			s->runs[kept++] = out;
		}
		s->nruns = kept;
	}
	return 0;
}

int extsort_finish(struct extsort *s, extsort_fn each, void *arg)
{
	if (s->nruns == 0) {
		if (s->count > 0) /* an empty list has no batch at all: qsort(NULL) is undefined */
			qsort(s->batch, s->count, sizeof(*s->batch), by_key_then_seq);
		for (size_t i = 0; i < s->count; i++) {
			struct record *r = s->batch[i];

			if (each(arg, r->bytes + r->key_len, r->len) != 0)
				return -1;
		}
		drop_batch(s);
		return 0;
	}
	if ((s->count > 0 && spill(s) != 0) || merge_rounds(s) != 0)
		return -1;
	return merge(s, s->runs, s->nruns, NULL, each, arg);
}

void extsort_free(struct extsort *s)
{
	if (!s)
		return;
	drop_batch(s);
	free(s->batch);
	for (size_t i = 0; i < s->nruns; i++)
		fclose(s->runs[i]);
	free(s->runs);
	free(s);
}
