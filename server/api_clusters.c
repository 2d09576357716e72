/*
 * api_clusters.c - GET /api/v0/accounts/{accountId}/clusters[/{clusterId}].
 */
#include <stdlib.h>

#include "api.h"
#include "request.h"
#include "views.h"

enum api_status api_cluster_list(struct request *req)
{
	struct store_cluster *clusters = NULL;
	size_t n = 0;
	enum store_status st;
	json_t *list;

	st = store_cluster_list(req->store, req->principal.account_id, &clusters, &n);
	if (st != STORE_OK)
		return api_from_store(req, st, "cluster", NULL);
	list = json_array();
	for (size_t i = 0; list && i < n; i++) {
		if (json_array_append_new(list, view_cluster(&clusters[i])) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	free(clusters);
	return api_ok(req, list);
}

enum api_status api_cluster_get(struct request *req)
{
	struct store_cluster cluster;
	enum store_status st;

	st = store_cluster_get(req->store, req->principal.account_id,
	                       request_param(req, "clusterId"), &cluster);
	if (st != STORE_OK)
		return api_from_store(req, st, "cluster", NULL);
	return api_ok(req, view_cluster(&cluster));
}

enum api_status api_require_cluster(struct request *req)
{
	struct store_cluster cluster;
	enum store_status st;

	/* Only clusters of the caller's own account exist for it. */
	st = store_cluster_get(req->store, req->principal.account_id,
	                       request_param(req, "clusterId"), &cluster);
	if (st != STORE_OK)
		return api_from_store(req, st, "cluster", NULL);
	return API_OK;
}
