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
		view_list_append(&list, view_cluster(&clusters[i]));
	}
	free(clusters);
	return api_ok(req, list);
}

/* The cluster of the path: only clusters of the caller's own account exist for it. */
static enum api_status load_cluster(struct request *req, struct store_cluster *out)
{
	enum store_status st = store_cluster_get(req->store, req->principal.account_id,
	                                         request_param(req, "clusterId"), out);

	if (st != STORE_OK)
		return api_from_store(req, st, "cluster", NULL);
	return API_OK;
}

enum api_status api_cluster_get(struct request *req)
{
	struct store_cluster cluster;

	if (load_cluster(req, &cluster) != API_OK)
		return req->status;
	return api_ok(req, view_cluster(&cluster));
}

enum api_status api_require_cluster(struct request *req)
{
	struct store_cluster cluster;

	return load_cluster(req, &cluster);
}
