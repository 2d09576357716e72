/*
 * snapshot.c - the store's rows as a snapshot object and back (snapshot.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backup.h"
#include "snapshot.h"

/* ---- taking ---- */

struct take {
	json_t *tables;
	json_t *rows; /* the current table's, borrowed from tables */
	size_t count;
};

static bool take_table(void *ctx, const char *table, size_t ncols, const char *const *columns)
{
	struct take *t = ctx;
	json_t *names = json_array(), *entry;

	if (names == NULL)
		return false;
	for (size_t i = 0; i < ncols; i++)
		if (json_array_append_new(names, json_string(columns[i])) != 0) {
			json_decref(names);
			return false;
		}
	entry = json_pack("{s:o,s:[]}", "columns", names, "rows");
	if (entry == NULL || json_object_set_new(t->tables, table, entry) != 0)
		return false;
	t->rows = json_object_get(entry, "rows");
	return true;
}

static json_t *value_json(const struct store_value *v)
{
	json_t *j;
	char *hex;

	switch (v->type) {
	case STORE_VALUE_INT:
		return json_integer(v->i);
	case STORE_VALUE_TEXT:
		return json_string(v->text); /* NULL when not UTF-8: the take fails */
	case STORE_VALUE_BLOB:
		hex = malloc(v->len * 2 + 1);
		if (hex == NULL)
			return NULL;
		sodium_bin2hex(hex, v->len * 2 + 1, v->blob, v->len);
		j = json_pack("{s:s}", "hex", hex);
		free(hex);
		return j;
	default:
		return json_null();
	}
}

static bool take_row(void *ctx, const char *table, size_t ncols, const struct store_value *values)
{
	struct take *t = ctx;
	json_t *row = json_array();

	(void)table;
	if (row == NULL)
		return false;
	for (size_t i = 0; i < ncols; i++)
		if (json_array_append_new(row, value_json(&values[i])) != 0) {
			json_decref(row);
			return false;
		}
	if (json_array_append_new(t->rows, row) != 0)
		return false;
	t->count++;
	return true;
}

json_t *snapshot_take(struct store *s, const struct token_key *key, const char *account_id,
                      size_t *rows, char *err, size_t errlen)
{
	struct take t = {.tables = json_object()};
	struct store_rows_visitor v = {take_table, take_row, &t};
	char fingerprint[BACKUP_FINGERPRINT_SIZE];
	enum store_status st;
	json_t *snap = NULL;

	if (t.tables == NULL)
		goto oom;
	st = store_rows_dump(s, account_id, &v);
	if (st != STORE_OK) {
		json_decref(t.tables);
		snprintf(err, errlen, "the store could not be read (%s)", store_status_name(st));
		return NULL;
	}
	backup_key_fingerprint(key, fingerprint);
	snap = json_pack("{s:i,s:s,s:O}", "format", SNAPSHOT_FORMAT, "tokenKey", fingerprint,
	                 "tables", t.tables);
	if (snap == NULL ||
	    (account_id && json_object_set_new(snap, "accountId", json_string(account_id)) != 0))
		goto oom;
	json_decref(t.tables);
	*rows = t.count;
	return snap;
oom:
	json_decref(t.tables);
	json_decref(snap);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* ---- loading ---- */

struct load {
	struct store *store;
	char *err;
	size_t errlen;
};

static int load_fail(struct load *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int load_fail(struct load *l, const char *fmt, ...)
{
	va_list ap;
	int used = snprintf(l->err, l->errlen, "snapshot: ");

	va_start(ap, fmt);
	if (used > 0 && (size_t)used < l->errlen)
		vsnprintf(l->err + used, l->errlen - (size_t)used, fmt, ap);
	va_end(ap);
	return -1;
}

/* The index of column name in a table's "columns", or -1. */
static int column_index(const json_t *table, const char *name)
{
	const json_t *columns = json_object_get(table, "columns");
	size_t i;
	json_t *c;

	json_array_foreach(columns, i, c)
	{
		if (json_is_string(c) && strcmp(json_string_value(c), name) == 0)
			return (int)i;
	}
	return -1;
}

/* Whether every account of the snapshot is in the store already (1), none is (0), or -1. */
static int accounts_present(struct load *l, const json_t *tables)
{
	const json_t *accounts = json_object_get(tables, "accounts");
	const json_t *rows = json_object_get(accounts, "rows");
	int id = column_index(accounts, "id");
	size_t present = 0, absent = 0, i;
	const char *first_present = NULL, *first_absent = NULL;
	json_t *row;

	if (json_array_size(rows) == 0)
		return 0;
	if (id < 0)
		return load_fail(l, "tables.accounts has no id column");
	json_array_foreach(rows, i, row)
	{
		const char *account = json_string_value(json_array_get(row, (size_t)id));
		struct store_account a;
		enum store_status st;

		if (account == NULL)
			return load_fail(l, "tables.accounts.rows[%zu]: no id", i);
		st = store_account_get(l->store, account, &a);
		if (st == STORE_OK) {
			present++;
			first_present = first_present ? first_present : account;
		} else if (st == STORE_NOT_FOUND) {
			absent++;
			first_absent = first_absent ? first_absent : account;
		} else {
			return load_fail(l, "the store could not be read (%s)",
			                 store_status_name(st));
		}
	}
	if (present && absent)
		return load_fail(l,
		                 "account %.40s is in the store and account %.40s is not: load it "
		                 "into an empty store, or delete those accounts first",
		                 first_present, first_absent);
	return present ? 1 : 0;
}

static bool holds_tokens(const json_t *tables)
{
	return json_array_size(
	           json_object_get(json_object_get(tables, "management_tokens"), "rows")) > 0 ||
	       json_array_size(
	           json_object_get(json_object_get(tables, "database_tokens"), "rows")) > 0;
}

/* A JSON value as a store value; a {"hex"} value's bytes go to *bytes (the caller frees). */
static bool value_of(const json_t *j, struct store_value *out, unsigned char **bytes)
{
	const char *hex;
	size_t hexlen;

	memset(out, 0, sizeof(*out));
	if (json_is_null(j)) {
		out->type = STORE_VALUE_NULL;
	} else if (json_is_integer(j)) {
		out->type = STORE_VALUE_INT;
		out->i = json_integer_value(j);
	} else if (json_is_string(j)) {
		out->type = STORE_VALUE_TEXT;
		out->text = json_string_value(j);
		/* a NUL inside would be cut short by the store: refuse it */
		if (strlen(out->text) != json_string_length(j))
			return false;
	} else if (json_is_object(j) && json_object_size(j) == 1 &&
	           (hex = json_string_value(json_object_get(j, "hex"))) != NULL) {
		hexlen = strlen(hex);
		if (hexlen % 2 != 0 || (*bytes = malloc(hexlen / 2 + 1)) == NULL ||
		    sodium_hex2bin(*bytes, hexlen / 2, hex, hexlen, NULL, &out->len, NULL) != 0 ||
		    out->len != hexlen / 2)
			return false;
		out->type = STORE_VALUE_BLOB;
		out->blob = *bytes;
	} else {
		return false;
	}
	return true;
}

static int load_row(struct load *l, const char *table, const json_t *columns, size_t index,
                    const json_t *row)
{
	const char *names[STORE_ROW_MAX_COLUMNS];
	struct store_value values[STORE_ROW_MAX_COLUMNS];
	unsigned char *bytes[STORE_ROW_MAX_COLUMNS] = {0};
	size_t n = json_array_size(columns);
	enum store_status st;
	int rc = -1;

	if (!json_is_array(row) || json_array_size(row) != n)
		return load_fail(l, "tables.%s.rows[%zu]: not an array of %zu values", table, index,
		                 n);
	for (size_t i = 0; i < n; i++) {
		names[i] = json_string_value(json_array_get(columns, i));
		if (!value_of(json_array_get(row, i), &values[i], &bytes[i])) {
			load_fail(
			    l, "tables.%s.rows[%zu][%zu]: not an integer, text, null or {\"hex\"}",
			    table, index, i);
			goto out;
		}
	}
	st = store_row_load(l->store, table, n, names, values);
	if (st == STORE_CONFLICT)
		load_fail(l, "tables.%s.rows[%zu]: its key is taken in the store already", table,
		          index);
	else if (st != STORE_OK)
		load_fail(l, "tables.%s.rows[%zu]: the store refused it (%s; see the log)", table,
		          index, store_status_name(st));
	else
		rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(bytes[i]);
	return rc;
}

static int load_table(struct load *l, const char *table, const json_t *entry)
{
	const json_t *columns = json_object_get(entry, "columns");
	const json_t *rows = json_object_get(entry, "rows");
	size_t i;
	json_t *c, *row;

	if (!json_is_array(columns) || json_array_size(columns) == 0 ||
	    json_array_size(columns) > STORE_ROW_MAX_COLUMNS || !json_is_array(rows))
		return load_fail(l, "tables.%s: needs \"columns\" (1 to %d names) and \"rows\"",
		                 table, STORE_ROW_MAX_COLUMNS);
	json_array_foreach(columns, i, c)
	{
		if (!json_is_string(c))
			return load_fail(l, "tables.%s.columns[%zu]: not a name", table, i);
	}
	json_array_foreach(rows, i, row)
	{
		if (load_row(l, table, columns, i, row) != 0)
			return -1;
	}
	return 0;
}

int snapshot_load(struct store *s, const struct token_key *key, const json_t *snapshot,
                  bool *loaded, char *err, size_t errlen)
{
	struct load l = {.store = s, .err = err, .errlen = errlen};
	char fingerprint[BACKUP_FINGERPRINT_SIZE];
	const json_t *tables = json_object_get(snapshot, "tables");
	const char *token_key = json_string_value(json_object_get(snapshot, "tokenKey"));
	const char *table;
	enum store_status st;
	json_t *entry;
	int present;

	*loaded = false;
	if (!json_is_object(snapshot) ||
	    json_integer_value(json_object_get(snapshot, "format")) != SNAPSHOT_FORMAT ||
	    !json_is_object(tables) || token_key == NULL)
		return load_fail(&l,
		                 "needs \"format\": %d, \"tokenKey\" and \"tables\" (as "
		                 "GET /_test/snapshots/{name} gives them)",
		                 SNAPSHOT_FORMAT);
	present = accounts_present(&l, tables);
	if (present != 0)
		return present < 0 ? -1 : 0;
	backup_key_fingerprint(key, fingerprint);
	if (holds_tokens(tables) && strcmp(fingerprint, token_key) != 0)
		return load_fail(&l,
		                 "its tokens were hashed under another token key (%.48s, this "
		                 "server's is %s): load it where that key is (the same data "
		                 "directory, or the same [testing] seed in memory)",
		                 token_key, fingerprint);
	st = store_rows_load_begin(s);
	if (st != STORE_OK)
		return load_fail(&l, "cannot begin the load (%s)", store_status_name(st));
	json_object_foreach((json_t *)tables, table, entry)
	{
		if (load_table(&l, table, entry) != 0)
			return -1;
	}
	st = store_rows_load_end(s);
	if (st != STORE_OK)
		return load_fail(&l, "cannot move the id counters (%s)", store_status_name(st));
	*loaded = true;
	return 0;
}
