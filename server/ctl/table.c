/*
 * table.c - `table create|list|delete|rename|undelete` and
 * `table iceberg enable|disable`.
 *
 * influxctl documents no columns or fields for tables: the list table has
 * ID, TABLE NAME and ICEBERG EXPORT; the JSON account_id, cluster_id,
 * database_name, id, table_name, partition_template, iceberg_export (when
 * true) (docs/mgmtctl.md). `undelete` takes the table's ID, as influxctl's does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "output.h"

/*
 * iceberg_export only when true: influxctl's JSON is protobuf's, which
 * leaves out a false bool as every other zero value (test_mgmtctl_shapes.py).
 */
static json_t *json(const json_t *t)
{
	json_t *o = json_object(), *template = json_object_get(t, "partitionTemplate");
	bool iceberg = json_is_true(json_object_get(t, "icebergExport"));

	if (!o || out_set_string(o, "account_id", out_str(t, "accountId")) ||
	    out_set_string(o, "cluster_id", out_str(t, "clusterId")) ||
	    out_set_string(o, "database_name", out_str(t, "databaseName")) ||
	    out_set_int(o, "id", json_integer_value(json_object_get(t, "id"))) ||
	    out_set_string(o, "table_name", out_str(t, "name")) ||
	    (template &&
	     json_object_set_new(o, "partition_template", database_template_json(template))) ||
	    (iceberg && json_object_set_new(o, "iceberg_export", json_true()))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The ICEBERG EXPORT cell: words, as a table shows a setting, not JSON's true/false. */
static const char *iceberg_word(const json_t *tab)
{
	return json_is_true(json_object_get(tab, "icebergExport")) ? "enabled" : "disabled";
}

static int row(struct out_table *t, const json_t *tab)
{
	char id[OUT_INT_SIZE];
	const char *cells[] = {id, out_str(tab, "name"), iceberg_word(tab)};

	out_int_cell(tab, "id", id);
	return out_table_row(t, cells);
}

static int kv(struct out_table *t, const json_t *tab)
{
	json_t *parts = json_object_get(tab, "partitionTemplate");
	char id[OUT_INT_SIZE], *template = NULL;
	int rc;

	out_int_cell(tab, "id", id);
	if (parts && !(template = database_template_text(parts)))
		return -1;
	rc = (id[0] && out_kv(t, "id", id)) || out_kv(t, "table name", out_str(tab, "name")) ||
	     out_kv(t, "database name", out_str(tab, "databaseName")) ||
	     (template && out_kv(t, "partition template", template)) ||
	     out_kv(t, "iceberg export", iceberg_word(tab));
	free(template);
	return rc ? -1 : 0;
}

int ctl_table_create(struct ctl *c, const struct ctl_args *a)
{
	char path[512];
	json_t *body, *template = NULL;
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if ((rc = database_template_flags(a, &template)) != CTL_OK)
		return rc;
	body = json_pack("{s:s}", "name", a->pos[1]);
	if (!body || (template && json_object_set(body, "partitionTemplate", template) != 0)) {
		json_decref(body);
		json_decref(template);
		out_error("out of memory (or a table name that is not UTF-8 text)");
		return CTL_FAILED;
	}
	json_decref(template);
	rc = CTL_FAILED;
	if (ctl_path(c, true, path, sizeof(path), "databases", a->pos[0], "tables", NULL) == 0)
		rc = ctl_show_object(c, "POST", path, body, kv, json);
	json_decref(body);
	return rc;
}

int ctl_table_list(struct ctl *c, const struct ctl_args *a)
{
	static const char *const headers[] = {"ID", "TABLE NAME", "ICEBERG EXPORT"};
	static const bool right[] = {true, false, false};
	const char *status = args_value(a, "filter-status");
	char path[512 + 32];
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if (ctl_path(c, true, path, 512, "databases", a->pos[0], "tables", NULL) != 0)
		return CTL_FAILED;
	if (status && strcmp(status, "deleted") == 0)
		strcat(path, "?status=deleted");
	return ctl_show_list(c, path, out_table_new(3, headers, right), row, json, NULL);
}

int ctl_table_delete(struct ctl *c, const struct ctl_args *a)
{
	char path[512], question[512];

	snprintf(question, sizeof(question),
	         "Delete table %s of database %s? `mgmtctl table undelete` restores it by its ID.",
	         a->pos[1], a->pos[0]);
	if (!ctl_confirm(args_bool(a, "force"), question))
		return CTL_FAILED;
	if (ctl_path(c, true, path, sizeof(path), "databases", a->pos[0], "tables", a->pos[1],
	             NULL) != 0 ||
	    ctl_api(c, "DELETE", path, NULL, NULL) != CTL_OK)
		return CTL_FAILED;
	printf("deleted table %s of database %s\n", a->pos[1], a->pos[0]);
	return CTL_OK;
}

int ctl_table_rename(struct ctl *c, const struct ctl_args *a)
{
	char path[512];
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if (ctl_path(c, true, path, sizeof(path), "databases", a->pos[0], "tables", a->pos[1],
	             "rename", NULL) != 0)
		return CTL_FAILED;
	return ctl_rename(c, path, a->pos[2], kv, json);
}

int ctl_table_undelete(struct ctl *c, const struct ctl_args *a)
{
	char path[512];
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if (ctl_path(c, true, path, sizeof(path), "databases", a->pos[0], "tables", a->pos[1],
	             "undelete", NULL) != 0)
		return CTL_FAILED;
	return ctl_show_object(c, "PUT", path, NULL, kv, json);
}

/*
 * influxctl documents no output for `table iceberg enable|disable` and no
 * --format: one line on stdout, as `table delete` prints (docs/mgmtctl.md,
 * "Decisions where influxctl is silent"). The answer's table is not shown;
 * `table list` shows the setting.
 */
static int set_iceberg(struct ctl *c, const struct ctl_args *a, bool enable)
{
	const char *verb = enable ? "enable" : "disable";
	char path[512];

	if (ctl_path(c, true, path, sizeof(path), "databases", a->pos[0], "tables", a->pos[1],
	             "iceberg", verb, NULL) != 0 ||
	    ctl_api(c, "PUT", path, NULL, NULL) != CTL_OK)
		return CTL_FAILED;
	printf("%sd iceberg exports for table %s of database %s\n", verb, a->pos[1], a->pos[0]);
	return CTL_OK;
}

int ctl_table_iceberg_enable(struct ctl *c, const struct ctl_args *a)
{
	return set_iceberg(c, a, true);
}

int ctl_table_iceberg_disable(struct ctl *c, const struct ctl_args *a)
{
	return set_iceberg(c, a, false);
}
