/*
 * database.c - `database create|list|update|delete|rename|undelete`.
 *
 * influxctl's shapes (INFLUXCTL.md 5): the list table has DATABASE NAME,
 * RETENTION PERIOD ("infinite" for 0, else days, hours, minutes, seconds:
 * "30d", "2d12h"), MAX TABLES and MAX COLUMNS PER TABLE, the numbers
 * right-aligned and an unset limit empty, after an ID column (influxctl
 * 2.10.3 added it, live and deleted lists alike); the JSON account_id,
 * cluster_id, id, database_name, retention_period_ns (0 included, as
 * influxctl's own example shows), max_tables, max_columns_per_table. `undelete`
 * takes a name, as influxctl's does; the API's undelete takes the id, which
 * mgmtctl looks up among the deleted databases (the newest of that name).
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "duration.h"
#include "output.h"

/* ---- partition templates (shared with table.c) ---- */

int database_template_flags(const struct ctl_args *a, json_t **out)
{
	const char *timeformat = args_value(a, "template-timeformat");
	size_t ntags, nbuckets;
	const char *const *tags = args_list(a, "template-tag", &ntags);
	const char *const *buckets = args_list(a, "template-tag-bucket", &nbuckets);
	json_t *parts;

	*out = NULL;
	if (!timeformat && ntags + nbuckets == 0)
		return CTL_OK;
	if (!timeformat)
		return args_usage_error(a,
		                        "--template-timeformat is required with --template-tag and "
		                        "--template-tag-bucket: without a time part nothing is "
		                        "partitioned by time");
	parts = json_array();
	for (size_t i = 0; parts && i < ntags; i++) {
		if (json_array_append_new(
		        parts, json_pack("{s:s, s:s}", "type", "tag", "value", tags[i])) != 0)
			goto oom;
	}
	for (size_t i = 0; parts && i < nbuckets; i++) {
		const char *comma = strrchr(buckets[i], ',');
		char *tag, *end;
		long long n;

		errno = 0;
		n = comma ? strtoll(comma + 1, &end, 10) : 0;
		if (!comma || comma == buckets[i] || comma[1] == '\0' || *end != '\0' || errno ||
		    n < 1 || n > INT32_MAX) {
			json_decref(parts);
			return args_usage_error(
			    a,
			    "--template-tag-bucket takes a tag, a comma and a number "
			    "of buckets, such as customerID,100; not \"%s\"",
			    buckets[i]);
		}
		tag = strndup(buckets[i], (size_t)(comma - buckets[i]));
		if (!tag ||
		    json_array_append_new(
		        parts, json_pack("{s:s, s:{s:s, s:I}}", "type", "bucket", "value",
		                         "tagName", tag, "numberOfBuckets", (json_int_t)n)) != 0) {
			free(tag);
			goto oom;
		}
		free(tag);
	}
	if (!parts || json_array_append_new(
	                  parts, json_pack("{s:s, s:s}", "type", "time", "value", timeformat)) != 0)
		goto oom;
	*out = parts;
	return CTL_OK;
oom:
	json_decref(parts);
	out_error("out of memory (or a tag that is not UTF-8 text)");
	return CTL_FAILED;
}

char *database_template_text(const json_t *template)
{
	size_t i;
	json_t *part;
	char *text = strdup(""), *grown;

	json_array_foreach(template, i, part)
	{
		const char *type = out_str(part, "type");
		json_t *value = json_object_get(part, "value");
		int n;

		if (!text)
			return NULL;
		if (type && strcmp(type, "bucket") == 0)
			n = asprintf(&grown, "%s%sbucket(%s,%lld)", text, i ? " " : "",
			             out_str(value, "tagName") ? out_str(value, "tagName") : "",
			             (long long)json_integer_value(
			                 json_object_get(value, "numberOfBuckets")));
		else
			n = asprintf(&grown, "%s%s%s(%s)", text, i ? " " : "", type ? type : "?",
			             json_is_string(value) ? json_string_value(value) : "");
		free(text);
		text = n < 0 ? NULL : grown;
	}
	return text;
}

json_t *database_template_json(const json_t *template)
{
	json_t *out, *part;
	size_t i;

	if (!json_is_array(template))
		return NULL;
	out = json_array();
	json_array_foreach(template, i, part)
	{
		json_t *value = json_object_get(part, "value"), *o;

		if (json_is_object(value))
			o = json_pack(
			    "{s:s?, s:{s:s?, s:I}}", "type", out_str(part, "type"), "value",
			    "tag_name", out_str(value, "tagName"), "number_of_buckets",
			    json_integer_value(json_object_get(value, "numberOfBuckets")));
		else
			o = json_pack("{s:s?, s:O?}", "type", out_str(part, "type"), "value",
			              value);
		if (!out || json_array_append_new(out, o) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* ---- shapes ---- */

static void retention_text(const json_t *d, char out[DURATION_TEXT_SIZE])
{
	json_int_t ns = json_integer_value(json_object_get(d, "retentionPeriod"));

	if (ns <= 0)
		snprintf(out, DURATION_TEXT_SIZE, "infinite");
	else
		duration_format(ns, out);
}

static json_t *json(const json_t *d)
{
	json_t *o = json_object(), *template = json_object_get(d, "partitionTemplate");

	if (!o || out_set_string(o, "account_id", out_str(d, "accountId")) ||
	    out_set_string(o, "cluster_id", out_str(d, "clusterId")) ||
	    out_set_int(o, "id", json_integer_value(json_object_get(d, "id"))) ||
	    out_set_string(o, "database_name", out_str(d, "name")) ||
	    json_object_set_new(
	        o, "retention_period_ns",
	        json_integer(json_integer_value(json_object_get(d, "retentionPeriod")))) ||
	    out_set_int(o, "max_tables", json_integer_value(json_object_get(d, "maxTables"))) ||
	    out_set_int(o, "max_columns_per_table",
	                json_integer_value(json_object_get(d, "maxColumnsPerTable"))) ||
	    (template &&
	     json_object_set_new(o, "partition_template", database_template_json(template)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int row(struct out_table *t, const json_t *d)
{
	char id[OUT_INT_SIZE], retention[DURATION_TEXT_SIZE], tables[OUT_INT_SIZE],
	    columns[OUT_INT_SIZE];
	const char *cells[] = {id, out_str(d, "name"), retention, tables, columns};

	out_int_cell(d, "id", id);
	retention_text(d, retention);
	out_int_cell(d, "maxTables", tables); /* empty when unset (2.4.3) */
	out_int_cell(d, "maxColumnsPerTable", columns);
	return out_table_row(t, cells);
}

static int kv(struct out_table *t, const json_t *d)
{
	char id[OUT_INT_SIZE], retention[DURATION_TEXT_SIZE], tables[OUT_INT_SIZE],
	    columns[OUT_INT_SIZE], *template = NULL;
	json_t *parts = json_object_get(d, "partitionTemplate");
	int rc;

	out_int_cell(d, "id", id);
	retention_text(d, retention);
	out_int_cell(d, "maxTables", tables); /* empty when unset (2.4.3) */
	out_int_cell(d, "maxColumnsPerTable", columns);
	if (parts && !(template = database_template_text(parts)))
		return -1;
	rc = (id[0] && out_kv(t, "id", id)) || out_kv(t, "database name", out_str(d, "name")) ||
	     out_kv(t, "retention period", retention) || out_kv(t, "max tables", tables) ||
	     out_kv(t, "max columns per table", columns) ||
	     (template && out_kv(t, "partition template", template));
	free(template);
	return rc ? -1 : 0;
}

/* ---- flags ---- */

/* --retention-period, --max-tables, --max-columns into body; *any when one was given. */
static int limit_flags(const struct ctl_args *a, json_t *body, bool update, bool *any)
{
	const char *retention = args_value(a, "retention-period");
	long long tables, columns;
	bool tables_given, columns_given;
	char err[512];
	int rc;

	*any = false;
	if (retention) {
		int64_t ns;

		if (duration_parse(retention, &ns, err, sizeof(err)) != 0)
			return args_usage_error(a, "--retention-period: %s", err);
		if (json_object_set_new(body, "retentionPeriod", json_integer(ns)) != 0)
			return CTL_FAILED;
		*any = true;
	}
	if ((rc = args_int(a, "max-tables", 0, INT32_MAX, &tables, &tables_given)) != CTL_OK ||
	    (rc = args_int(a, "max-columns", 0, INT32_MAX, &columns, &columns_given)) != CTL_OK)
		return rc;
	/* 0 means the default: left to mgmtd on create, set back to it on update */
	if (tables_given && (tables > 0 || update)) {
		if (json_object_set_new(body, "maxTables", json_integer(tables ? tables : 500)) !=
		    0)
			return CTL_FAILED;
	}
	if (columns_given && (columns > 0 || update)) {
		if (json_object_set_new(body, "maxColumnsPerTable",
		                        json_integer(columns ? columns : 250)) != 0)
			return CTL_FAILED;
	}
	*any = *any || tables_given || columns_given;
	return CTL_OK;
}

/* ---- commands ---- */

int ctl_database_create(struct ctl *c, const struct ctl_args *a)
{
	char path[512];
	json_t *body, *template = NULL;
	bool any;
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	body = json_pack("{s:s}", "name", a->pos[0]);
	if (!body) {
		out_error("the database name is not UTF-8 text");
		return CTL_FAILED;
	}
	if ((rc = limit_flags(a, body, false, &any)) != CTL_OK ||
	    (rc = database_template_flags(a, &template)) != CTL_OK)
		goto out;
	if (template && json_object_set_new(body, "partitionTemplate", template) != 0) {
		rc = CTL_FAILED;
		goto out;
	}
	rc = CTL_FAILED;
	if (ctl_path(c, true, path, sizeof(path), "databases", NULL) == 0)
		rc = ctl_show_object(c, "POST", path, body, kv, json);
out:
	json_decref(body);
	return rc;
}

int ctl_database_list(struct ctl *c, const struct ctl_args *a)
{
	static const char *const headers[] = {"ID", "DATABASE NAME", "RETENTION PERIOD",
	                                      "MAX TABLES", "MAX COLUMNS PER TABLE"};
	static const bool right[] = {true, false, false, true, true};
	const char *status = args_value(a, "filter-status");
	bool deleted = status && strcmp(status, "deleted") == 0;
	char path[512 + 32];
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if (ctl_path(c, true, path, 512, "databases", NULL) != 0)
		return CTL_FAILED;
	if (deleted)
		strcat(path, "?status=deleted");
	return ctl_show_list(c, path, out_table_new(5, headers, right), row, json, NULL);
}

int ctl_database_update(struct ctl *c, const struct ctl_args *a)
{
	char path[512];
	json_t *body = json_object();
	bool any;
	int rc = args_format(c, a);

	if (rc != CTL_OK || !body) {
		json_decref(body);
		return rc != CTL_OK ? rc : CTL_FAILED;
	}
	if ((rc = limit_flags(a, body, true, &any)) != CTL_OK)
		goto out;
	if (!any) {
		rc = args_usage_error(a,
		                      "nothing to update: give --retention-period, --max-tables or "
		                      "--max-columns");
		goto out;
	}
	rc = CTL_FAILED;
	if (ctl_path(c, true, path, sizeof(path), "databases", a->pos[0], NULL) == 0)
		rc = ctl_show_object(c, "PATCH", path, body, kv, json);
out:
	json_decref(body);
	return rc;
}

static int delete_one(struct ctl *c, const char *name)
{
	char path[512];

	if (ctl_path(c, true, path, sizeof(path), "databases", name, NULL) != 0)
		return CTL_FAILED;
	return ctl_api(c, "DELETE", path, NULL, NULL);
}

int ctl_database_delete(struct ctl *c, const struct ctl_args *a)
{
	return ctl_for_each(c, a, "Delete", "deleted", "database",
	                    "Its tables go with it; `mgmtctl database undelete NAME` restores it.",
	                    delete_one);
}

int ctl_database_rename(struct ctl *c, const struct ctl_args *a)
{
	char path[512];
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if (ctl_path(c, true, path, sizeof(path), "databases", a->pos[0], "rename", NULL) != 0)
		return CTL_FAILED;
	return ctl_rename(c, path, a->pos[1], kv, json);
}

int ctl_database_undelete(struct ctl *c, const struct ctl_args *a)
{
	char path[512 + 32], id[24] = "";
	json_t *list = NULL, *d;
	json_int_t newest = 0;
	size_t i;
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if (ctl_path(c, true, path, 512, "databases", NULL) != 0)
		return CTL_FAILED;
	strcat(path, "?status=deleted");
	if (ctl_api(c, "GET", path, NULL, &list) != CTL_OK)
		return CTL_FAILED;
	json_array_foreach(list, i, d)
	{
		const char *name = out_str(d, "name");
		json_int_t n = json_integer_value(json_object_get(d, "id"));

		if (name && strcmp(name, a->pos[0]) == 0 && n > newest)
			newest = n;
	}
	json_decref(list);
	if (!newest) {
		out_error("no deleted database is named %s (`mgmtctl database list --filter-status "
		          "deleted` lists them)",
		          a->pos[0]);
		return CTL_FAILED;
	}
	snprintf(id, sizeof(id), "%lld", (long long)newest);
	if (ctl_path(c, true, path, sizeof(path), "databases", id, "undelete", NULL) != 0)
		return CTL_FAILED;
	return ctl_show_object(c, "PUT", path, NULL, kv, json);
}
