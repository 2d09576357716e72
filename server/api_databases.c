/*
 * api_databases.c - /api/v0/accounts/{accountId}/clusters/{clusterId}/databases
 * (CONTRACT 4.1): list, create, update, soft delete, rename, undelete.
 *
 * Databases are addressed by name, except undelete, which takes the integer
 * id (a deleted database's name may already belong to a new one). Deleted
 * databases keep their id and settings; their names are free at once, unless
 * the test harness holds them for a while, and they are kept until the test
 * harness purges them (delays.h).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "body.h"
#include "delays.h"
#include "request.h"
#include "rules.h"
#include "timeutil.h"
#include "views.h"

static const char *cluster_of(const struct request *req)
{
	return request_param(req, "clusterId");
}

enum api_status api_partition_template(struct request *req, char out[STORE_TEMPLATE_SIZE])
{
	json_t *v = json_object_get(req->json, "partitionTemplate");
	char why[RULE_WHY_SIZE];
	char *text;
	bool fits;

	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return API_OK;
	if (rule_partition_template(v, why) != NULL)
		return api_fail(req, API_BAD_REQUEST, "%s", why);
	/* Kept as given (same parts, same order), compact. */
	text = json_dumps(v, JSON_COMPACT);
	if (text == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	fits = str_copy(out, STORE_TEMPLATE_SIZE, text);
	free(text);
	if (!fits)
		return api_fail(req, API_BAD_REQUEST, "partitionTemplate is too large");
	return API_OK;
}

enum api_status api_list_status(struct request *req, bool *deleted)
{
	const char *status = request_query(req, "status");

	*deleted = false;
	if (status == NULL || strcmp(status, "active") == 0)
		return API_OK;
	if (strcmp(status, "deleted") == 0) {
		*deleted = true;
		return API_OK;
	}
	return api_fail(req, API_BAD_REQUEST, "status must be active or deleted");
}

/* What a list of a dozen databases takes as JSON text, and some. */
#define DATABASE_LIST_ROOM 8192

/* A database list being written (api_database_list). */
struct database_list {
	struct jsontext text;
	size_t rows;
	bool damaged;         /* a stored partition template is not JSON */
	int64_t purge_before; /* deleted before it: purged, whether the pass ran yet or not */
};

static bool write_database(void *ctx, const struct store_database *row)
{
	struct database_list *l = ctx;

	if (row->deleted_at != 0 && row->deleted_at < l->purge_before)
		return true;
	if (l->rows++ > 0)
		jsontext_raw(&l->text, ",", 1);
	if (!view_database_text(&l->text, row, true))
		l->damaged = true;
	return !l->damaged && jsontext_ok(&l->text);
}

enum api_status api_database_list(struct request *req)
{
	struct database_list l = {.rows = 0,
	                          .damaged = false,
	                          .purge_before = delays_purge_before(req->app->delays, req->now)};
	enum store_status st;
	bool deleted;

	if (api_list_status(req, &deleted) != API_OK)
		return req->status;
	jsontext_init(&l.text);
	/* room for a page of a dozen databases or so at once: each doubling was a realloc */
	jsontext_reserve(&l.text, DATABASE_LIST_ROOM);
	jsontext_raw(&l.text, "[", 1);
	/* Every item carries its id: undelete needs a deleted one's, and influxctl 2.10.3's
	 * list shows a live one's (docs/api.md). */
	st = store_database_scan(req->store, req->principal.account_id, cluster_of(req), deleted,
	                         write_database, &l);
	if (st != STORE_OK) {
		bool out_of_memory = !jsontext_ok(&l.text);

		jsontext_release(&l.text);
		if (l.damaged)
			return api_fail(req, API_INTERNAL,
			                "a stored partition template is damaged");
		if (out_of_memory)
			return api_fail(req, API_INTERNAL, "out of memory");
		return api_from_store(req, st, "database", NULL);
	}
	/*
	 * A database row names its cluster (a foreign key) in this account: a
	 * list with rows proves the cluster is there. Only an empty one asks.
	 */
	if (l.rows == 0 && api_require_cluster(req) != API_OK) {
		jsontext_release(&l.text);
		return req->status;
	}
	jsontext_raw(&l.text, "]", 1);
	return api_ok_jsontext(req, &l.text);
}

/*
 * 409 when the test harness holds name (delays.h): a database of the cluster
 * that had it was deleted less than the hold ago (and is not purged).
 */
static enum api_status check_name_hold(struct request *req, const char *name)
{
	int64_t hold = delays_name_hold_ms(req->app->delays);
	int64_t purge_before = delays_purge_before(req->app->delays, req->now);
	int64_t since, deleted_at = 0;
	char deleted[RFC3339_SIZE], free_from[RFC3339_SIZE];
	enum store_status st;

	if (hold == 0)
		return API_OK;
	/* held while now - deleted_at < hold, that is deleted_at > now - hold */
	since = req->now - hold + 1;
	if (purge_before > since)
		since = purge_before;
	st = store_database_name_held(req->store, req->principal.account_id, cluster_of(req), name,
	                              since, &deleted_at);
	if (st == STORE_NOT_FOUND)
		return API_OK;
	if (st != STORE_OK)
		return api_from_store(req, st, "database", NULL);
	time_format_rfc3339(deleted_at, deleted);
	time_format_rfc3339(deleted_at + hold, free_from);
	return api_fail(req, API_CONFLICT,
	                "the name \"%s\" is held: a database of this cluster of that name was "
	                "deleted at %s, and a deleted database's name can be used again only "
	                "from %s",
	                name, deleted, free_from);
}

enum api_status api_database_create(struct request *req)
{
	static const char *const fields[] = {
	    "name", "maxTables", "maxColumnsPerTable", "retentionPeriod", "partitionTemplate",
	    NULL};
	struct store_database db;
	const char *name, *problem;
	enum store_status st;
	bool present;

	memset(&db, 0, sizeof(db));
	db.max_tables = RULE_DB_DEFAULT_MAX_TABLES;
	db.max_columns_per_table = RULE_DB_DEFAULT_MAX_COLUMNS;
	if (api_require_cluster(req) != API_OK || body_check_fields(req, fields) != API_OK ||
	    body_string(req, "name", true, false, &name) != API_OK ||
	    body_int(req, "maxTables", 1, RULE_INT32_MAX, &db.max_tables, &present) != API_OK ||
	    body_int(req, "maxColumnsPerTable", 1, RULE_INT32_MAX, &db.max_columns_per_table,
	             &present) != API_OK ||
	    body_int(req, "retentionPeriod", 0, INT64_MAX, &db.retention_period, &present) !=
	        API_OK ||
	    api_partition_template(req, db.partition_template) != API_OK)
		return req->status;
	if ((problem = rule_database_name(name)) != NULL)
		return api_fail(req, API_BAD_REQUEST, "%s", problem);
	str_copy(db.name, sizeof(db.name), name);
	str_copy(db.account_id, sizeof(db.account_id), req->principal.account_id);
	str_copy(db.cluster_id, sizeof(db.cluster_id), cluster_of(req));
	db.created_at = req->now;
	audit_note(req, "database.create", db.name);
	if (check_name_hold(req, name) != API_OK)
		return req->status;
	st = store_database_insert(req->store, &db);
	if (st == STORE_CONFLICT)
		return api_fail(req, API_CONFLICT,
		                "a database named \"%s\" already exists in this "
		                "cluster",
		                name);
	if (st != STORE_OK)
		return api_from_store(req, st, "database", NULL);
	return api_ok(req, view_database(&db, false));
}

/* The live database named in the path; 404 for a name that cannot exist. */
enum api_status api_load_database(struct request *req, const char *param,
                                  struct store_database *out)
{
	const char *name = request_param(req, param);
	enum store_status st;

	if (name == NULL || rule_database_name(name) != NULL)
		return api_fail(req, API_NOT_FOUND, "database not found");
	st = store_database_get(req->store, req->principal.account_id, cluster_of(req), name, out);
	if (st != STORE_OK)
		return api_from_store(req, st, "database", NULL);
	return API_OK;
}

enum api_status api_database_update(struct request *req)
{
	static const char *const fields[] = {"maxTables", "maxColumnsPerTable", "retentionPeriod",
	                                     NULL};
	struct store_database db;
	enum store_status st;
	bool present;

	if (api_require_cluster(req) != API_OK)
		return req->status;
	/* Say why, rather than just "unknown field". */
	if (body_has(req, "partitionTemplate"))
		return api_fail(req, API_BAD_REQUEST,
		                "the partition template of a database is fixed at creation and "
		                "cannot be changed");
	if (body_has(req, "name"))
		return api_fail(req, API_BAD_REQUEST,
		                "a database is renamed with PUT .../databases/{name}/rename");
	if (body_check_fields(req, fields) != API_OK || body_require_any(req, fields) != API_OK ||
	    api_load_database(req, "databaseName", &db) != API_OK ||
	    body_int(req, "maxTables", 1, RULE_INT32_MAX, &db.max_tables, &present) != API_OK ||
	    body_int(req, "maxColumnsPerTable", 1, RULE_INT32_MAX, &db.max_columns_per_table,
	             &present) != API_OK ||
	    body_int(req, "retentionPeriod", 0, INT64_MAX, &db.retention_period, &present) !=
	        API_OK)
		return req->status;
	audit_note(req, "database.update", db.name);
	st = store_database_update(req->store, &db);
	if (st != STORE_OK)
		return api_from_store(req, st, "database", NULL);
	return api_ok(req, view_database(&db, false));
}

enum api_status api_database_delete(struct request *req)
{
	const char *name = request_param(req, "databaseName");
	enum store_status st;

	audit_note(req, "database.delete", name);
	if (api_require_cluster(req) != API_OK)
		return req->status;
	if (rule_database_name(name) != NULL)
		return api_fail(req, API_NOT_FOUND, "database not found");
	st = store_database_delete(req->store, req->principal.account_id, cluster_of(req), name,
	                           req->now);
	if (st != STORE_OK)
		return api_from_store(req, st, "database", NULL);
	return api_no_content(req);
}

enum api_status api_database_rename(struct request *req)
{
	static const char *const fields[] = {"name", NULL};
	const char *name = request_param(req, "databaseName");
	const char *new_name, *problem;
	struct store_database db;
	enum store_status st;

	audit_note(req, "database.rename", name);
	if (api_require_cluster(req) != API_OK || body_check_fields(req, fields) != API_OK ||
	    body_string(req, "name", true, false, &new_name) != API_OK)
		return req->status;
	audit_detail(req, "renamed to %s", new_name);
	if ((problem = rule_database_name(new_name)) != NULL)
		return api_fail(req, API_BAD_REQUEST, "%s", problem);
	if (rule_database_name(name) != NULL)
		return api_fail(req, API_NOT_FOUND, "database not found");
	if (check_name_hold(req, new_name) != API_OK)
		return req->status;
	/* Database tokens name databases: they keep the old name (docs/api.md). */
	st = store_database_rename(req->store, req->principal.account_id, cluster_of(req), name,
	                           new_name, &db);
	if (st == STORE_CONFLICT)
		return api_fail(req, API_CONFLICT,
		                "a database named \"%s\" already exists in this cluster", new_name);
	if (st != STORE_OK)
		return api_from_store(req, st, "database", NULL);
	return api_ok(req, view_database(&db, true));
}

enum api_status api_database_undelete(struct request *req)
{
	struct store_database db;
	enum store_status st;
	int64_t id;

	audit_note(req, "database.undelete", request_param(req, "databaseId"));
	if (api_require_cluster(req) != API_OK)
		return req->status;
	if (!id_parse(request_param(req, "databaseId"), &id))
		return api_fail(req, API_NOT_FOUND, "database not found");
	st = store_database_get_id(req->store, req->principal.account_id, cluster_of(req), id, &db);
	if (st != STORE_OK)
		return api_from_store(req, st, "database", NULL);
	/* Due for the purge: gone, whether the pass removed its row yet or not. */
	if (db.deleted_at != 0 && db.deleted_at < delays_purge_before(req->app->delays, req->now))
		return api_fail(req, API_NOT_FOUND, "database not found");
	if (db.deleted_at == 0)
		return api_fail(req, API_CONFLICT, "database %lld is not deleted", (long long)id);
	st = store_database_undelete(req->store, req->principal.account_id, cluster_of(req), id,
	                             &db);
	if (st == STORE_CONFLICT)
		return api_fail(req, API_CONFLICT,
		                "a database named \"%s\" already exists in this cluster; rename or "
		                "delete it first",
		                db.name);
	if (st != STORE_OK)
		return api_from_store(req, st, "database", NULL);
	return api_ok(req, view_database(&db, true));
}
