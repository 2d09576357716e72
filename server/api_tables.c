/*
 * api_tables.c - .../clusters/{clusterId}/databases/{databaseName}/tables
 * (CONTRACT 4.2): create, soft delete, rename, undelete, inside a live
 * database; plus a list (not in the public API) so that the ids undelete
 * takes can be found, and the Iceberg export switch of influxctl's
 * `table iceberg enable|disable` (not in the public API either).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "body.h"
#include "delays.h"
#include "request.h"
#include "rules.h"
#include "views.h"

/* The cluster and the live database of the path. */
static enum api_status load_scope(struct request *req, struct store_database *db)
{
	if (api_require_cluster(req) != API_OK)
		return req->status;
	return api_load_database(req, "databaseName", db);
}

enum api_status api_table_list(struct request *req)
{
	struct store_table *tables = NULL;
	struct store_database db;
	enum store_status st;
	bool deleted;
	size_t n = 0;
	json_t *list;
	int64_t purge_before = delays_purge_before(req->app->delays, req->now);

	if (load_scope(req, &db) != API_OK || api_list_status(req, &deleted) != API_OK)
		return req->status;
	st = store_table_list(req->store, db.id, deleted, &tables, &n);
	if (st != STORE_OK)
		return api_from_store(req, st, "table", NULL);
	list = json_array();
	for (size_t i = 0; list && i < n; i++) {
		/* due for the purge: gone, whether the pass removed its row yet or not */
		if (tables[i].deleted_at != 0 && tables[i].deleted_at < purge_before)
			continue;
		view_list_append(&list, view_table(&tables[i], &db, true));
	}
	free(tables);
	return api_ok(req, list);
}

enum api_status api_table_create(struct request *req)
{
	static const char *const fields[] = {"name", "partitionTemplate", NULL};
	struct store_database db;
	struct store_table t;
	const char *name, *problem;
	enum store_status st;

	memset(&t, 0, sizeof(t));
	if (load_scope(req, &db) != API_OK || body_check_fields(req, fields) != API_OK ||
	    body_string(req, "name", true, false, &name) != API_OK ||
	    api_partition_template(req, t.partition_template) != API_OK)
		return req->status;
	if ((problem = rule_table_name(name)) != NULL)
		return api_fail(req, API_BAD_REQUEST, "%s", problem);
	str_copy(t.name, sizeof(t.name), name);
	t.database_id = db.id;
	t.created_at = req->now;
	audit_note(req, "table.create", NULL);
	snprintf(req->audit.object_id, sizeof(req->audit.object_id), "%s/%s", db.name, name);
	st = store_table_insert(req->store, &t);
	if (st == STORE_CONFLICT)
		return api_fail(req, API_CONFLICT,
		                "a table named \"%s\" already exists in database \"%s\"", name,
		                db.name);
	if (st != STORE_OK)
		return api_from_store(req, st, "table", NULL);
	return api_ok(req, view_table(&t, &db, false));
}

enum api_status api_table_delete(struct request *req)
{
	const char *name = request_param(req, "tableName");
	struct store_database db;
	enum store_status st;

	if (load_scope(req, &db) != API_OK)
		return req->status;
	if (rule_table_name(name) != NULL)
		return api_fail(req, API_NOT_FOUND, "table not found");
	audit_note(req, "table.delete", NULL);
	snprintf(req->audit.object_id, sizeof(req->audit.object_id), "%s/%s", db.name, name);
	st = store_table_delete(req->store, db.id, name, req->now);
	if (st != STORE_OK)
		return api_from_store(req, st, "table", NULL);
	return api_no_content(req);
}

enum api_status api_table_rename(struct request *req)
{
	static const char *const fields[] = {"name", NULL};
	const char *name = request_param(req, "tableName");
	const char *new_name, *problem;
	struct store_database db;
	struct store_table t;
	enum store_status st;

	if (load_scope(req, &db) != API_OK || body_check_fields(req, fields) != API_OK ||
	    body_string(req, "name", true, false, &new_name) != API_OK)
		return req->status;
	if ((problem = rule_table_name(new_name)) != NULL)
		return api_fail(req, API_BAD_REQUEST, "%s", problem);
	if (rule_table_name(name) != NULL)
		return api_fail(req, API_NOT_FOUND, "table not found");
	audit_note(req, "table.rename", NULL);
	snprintf(req->audit.object_id, sizeof(req->audit.object_id), "%s/%s", db.name, name);
	audit_detail(req, "renamed to %s", new_name);
	st = store_table_rename(req->store, db.id, name, new_name, &t);
	if (st == STORE_CONFLICT)
		return api_fail(req, API_CONFLICT,
		                "a table named \"%s\" already exists in database \"%s\"", new_name,
		                db.name);
	if (st != STORE_OK)
		return api_from_store(req, st, "table", NULL);
	return api_ok(req, view_table(&t, &db, true));
}

enum api_status api_table_undelete(struct request *req)
{
	struct store_database db;
	struct store_table t;
	enum store_status st;
	int64_t id;

	if (load_scope(req, &db) != API_OK)
		return req->status;
	if (!id_parse(request_param(req, "tableId"), &id))
		return api_fail(req, API_NOT_FOUND, "table not found");
	st = store_table_get_id(req->store, db.id, id, &t);
	if (st != STORE_OK)
		return api_from_store(req, st, "table", NULL);
	/* Due for the purge: gone, whether the pass removed its row yet or not. */
	if (t.deleted_at != 0 && t.deleted_at < delays_purge_before(req->app->delays, req->now))
		return api_fail(req, API_NOT_FOUND, "table not found");
	if (t.deleted_at == 0)
		return api_fail(req, API_CONFLICT, "table %lld is not deleted", (long long)id);
	audit_note(req, "table.undelete", NULL);
	snprintf(req->audit.object_id, sizeof(req->audit.object_id), "%s/%s", db.name, t.name);
	st = store_table_undelete(req->store, db.id, id, &t);
	if (st == STORE_CONFLICT)
		return api_fail(req, API_CONFLICT,
		                "a table named \"%s\" already exists in database \"%s\"; rename or "
		                "delete it first",
		                t.name, db.name);
	if (st != STORE_OK)
		return api_from_store(req, st, "table", NULL);
	return api_ok(req, view_table(&t, &db, true));
}

/*
 * Turns the Iceberg exports of a live table on or off. Idempotent: setting
 * what is set answers 200 with the table too, as influxctl gives no sign that
 * it is an error, and a retried request must not fail.
 */
static enum api_status set_iceberg(struct request *req, bool enabled)
{
	const char *name = request_param(req, "tableName");
	struct store_database db;
	struct store_table t;
	enum store_status st;

	if (load_scope(req, &db) != API_OK)
		return req->status;
	if (rule_table_name(name) != NULL)
		return api_fail(req, API_NOT_FOUND, "table not found");
	audit_note(req, enabled ? "table.iceberg_enable" : "table.iceberg_disable", NULL);
	snprintf(req->audit.object_id, sizeof(req->audit.object_id), "%s/%s", db.name, name);
	st = store_table_set_iceberg(req->store, db.id, name, enabled, &t);
	if (st != STORE_OK)
		return api_from_store(req, st, "table", NULL);
	return api_ok(req, view_table(&t, &db, true));
}

enum api_status api_table_iceberg_enable(struct request *req)
{
	return set_iceberg(req, true);
}

enum api_status api_table_iceberg_disable(struct request *req)
{
	return set_iceberg(req, false);
}
