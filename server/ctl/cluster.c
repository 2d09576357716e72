/*
 * cluster.c - `cluster list` and `cluster get`.
 *
 * influxctl's shapes: the table has ID, NAME, STATE, URL; the key/value
 * table id, name, state, url; the JSON account_id, cluster_id, name, url,
 * state, created_at, category. The URL is shown without its https:// scheme, as the
 * real service lists its clusters' hosts.
 */
#include <string.h>

#include "ctl.h"
#include "output.h"

static const char *host_of(const char *url)
{
	if (url && strncmp(url, "https://", 8) == 0)
		return url + 8;
	return url;
}

static int row(struct out_table *t, const json_t *c)
{
	const char *cells[] = {out_str(c, "id"), out_str(c, "name"), out_str(c, "state"),
	                       host_of(out_str(c, "url"))};

	return out_table_row(t, cells);
}

static int kv(struct out_table *t, const json_t *c)
{
	return out_kv(t, "id", out_str(c, "id")) || out_kv(t, "name", out_str(c, "name")) ||
	       out_kv(t, "state", out_str(c, "state")) ||
	       out_kv(t, "url", host_of(out_str(c, "url")));
}

static json_t *json(const json_t *c)
{
	json_t *o = json_object();

	if (!o || out_set_string(o, "account_id", out_str(c, "accountId")) ||
	    out_set_string(o, "cluster_id", out_str(c, "id")) ||
	    out_set_string(o, "name", out_str(c, "name")) ||
	    out_set_string(o, "url", host_of(out_str(c, "url"))) ||
	    out_set_string(o, "state", out_str(c, "state")) ||
	    out_set_timestamp(o, "created_at", out_str(c, "createdAt")) ||
	    /* 0 left out, as influxctl's protobuf JSON (omitempty) leaves a zero out */
	    out_set_int(o, "category", json_integer_value(json_object_get(c, "category")))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int ctl_cluster_list(struct ctl *c, const struct ctl_args *a)
{
	static const char *const headers[] = {"ID", "NAME", "STATE", "URL"};
	char path[512];
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if (ctl_path(c, false, path, sizeof(path), "clusters", NULL) != 0)
		return CTL_FAILED;
	return ctl_show_list(c, path, out_table_new(4, headers, NULL), row, json, NULL);
}

int ctl_cluster_get(struct ctl *c, const struct ctl_args *a)
{
	char path[512];
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if (ctl_path(c, false, path, sizeof(path), "clusters", a->pos[0], NULL) != 0)
		return CTL_FAILED;
	return ctl_show_object(c, "GET", path, NULL, kv, json);
}
