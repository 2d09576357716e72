/*
 * listing.c - a list printed as it arrives, in bounded memory whatever its
 * length: each item from the API (ctl_api_list) goes straight to the table
 * or the JSON array, or, when the list is to be sorted, into the external
 * sort (extsort.h) and out of it in order. docs/mgmtctl.md, "Long lists".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "extsort.h"
#include "output.h"

/* The cells a table holds before it prints what it has and streams the rest (output.h). */
#define TABLE_KEPT_BYTES (1024 * 1024)
/* The records a sort holds before it writes them to a temporary file. */
#define SORT_MEMORY (4 * 1024 * 1024)

struct listing {
	struct ctl *c;
	struct out_table *t;
	ctl_rows_fn row;
	ctl_json_fn json;
	const char *sort_key;
	struct extsort *sorter;
	size_t printed;
};

/* One item out: a row of the table, or the next object of the JSON array. */
static int print_item(void *arg, const json_t *item)
{
	struct listing *l = arg;

	if (l->c->json) {
		json_t *out = l->json(item);

		if (!out) {
			out_error("out of memory");
			return -1;
		}
		out_json_list_item(stdout, out, l->printed);
		json_decref(out);
	} else if (l->row(l->t, item) != 0) {
		out_error("out of memory");
		return -1;
	}
	l->printed++;
	if (ferror(stdout)) {
		/* a closed pipe (when SIGPIPE is ignored) or a full disk: stop reading */
		out_error("cannot write the list: %s", strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

/* One item into the sort; a table only measures its row now (output.h). */
static int sort_item(void *arg, const json_t *item)
{
	struct listing *l = arg;
	const char *key = out_str(item, l->sort_key);
	char *text = json_dumps(item, JSON_COMPACT | JSON_ENCODE_ANY);
	int rc = -1;

	if (!text || (!l->c->json && l->row(l->t, item) != 0))
		out_error("out of memory");
	else if (extsort_add(l->sorter, key ? key : "", key ? strlen(key) : 0, text,
	                     strlen(text)) != 0)
		out_error("cannot sort the list: %s", extsort_error(l->sorter));
	else
		rc = 0;
	free(text);
	return rc;
}

/* One item out of the sort, in order. */
static int print_sorted(void *arg, const char *text, size_t len)
{
	json_t *item = json_loadb(text, len, JSON_DECODE_ANY, NULL);
	int rc;

	if (!item) {
		out_error("cannot sort the list: a temporary file came back damaged");
		return -1;
	}
	rc = print_item(arg, item);
	json_decref(item);
	return rc;
}

int ctl_show_list(struct ctl *c, const char *path, struct out_table *t, ctl_rows_fn row,
                  ctl_json_fn json, const char *sort_key)
{
	struct listing l = {c, t, row, json, sort_key, NULL, 0};
	int rc = CTL_FAILED;

	if ((!c->json && !t) || (sort_key && !(l.sorter = extsort_new(SORT_MEMORY)))) {
		out_error("out of memory");
		goto out;
	}
	if (!c->json) {
		out_table_measure(t, sort_key != NULL);
		out_table_stream(t, stdout, TABLE_KEPT_BYTES);
	}
	if (ctl_api_list(c, path, sort_key ? sort_item : print_item, &l) != CTL_OK)
		goto out;
	if (sort_key) {
		if (!c->json)
			out_table_measure(t, false);
		if (extsort_finish(l.sorter, print_sorted, &l) != 0) {
			if (extsort_error(l.sorter)[0])
				out_error("cannot sort the list: %s", extsort_error(l.sorter));
			goto out;
		}
	}
	if (c->json)
		out_json_list_end(stdout, l.printed);
	else
		out_table_print(stdout, t);
	rc = CTL_OK;
out:
	extsort_free(l.sorter);
	out_table_free(t);
	return rc;
}
