/*
 * user.c - `user list`.
 *
 * influxctl documents no columns or fields for it: the table has ID, FIRST
 * NAME, LAST NAME, EMAIL, GROUP; the JSON id, account_id, first_name,
 * last_name, email, group, idp_issuer, idp_subject, created_at
 * (docs/mgmtctl.md). The identity (issuer, subject) is mgmtd's: it stays
 * out of influxctl's table and rides in the JSON, where absent fields are
 * left out anyway.
 */
#include "ctl.h"
#include "output.h"

static int row(struct out_table *t, const json_t *u)
{
	const char *cells[] = {out_str(u, "id"), out_str(u, "firstName"), out_str(u, "lastName"),
	                       out_str(u, "email"), out_str(u, "group")};

	return out_table_row(t, cells);
}

static json_t *json(const json_t *u)
{
	json_t *o = json_object();

	if (!o || out_set_string(o, "id", out_str(u, "id")) ||
	    out_set_string(o, "account_id", out_str(u, "accountId")) ||
	    out_set_string(o, "first_name", out_str(u, "firstName")) ||
	    out_set_string(o, "last_name", out_str(u, "lastName")) ||
	    out_set_string(o, "email", out_str(u, "email")) ||
	    out_set_string(o, "group", out_str(u, "group")) ||
	    out_set_string(o, "idp_issuer", out_str(u, "idpIssuer")) ||
	    out_set_string(o, "idp_subject", out_str(u, "idpSubject")) ||
	    out_set_timestamp(o, "created_at", out_str(u, "createdAt"))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int ctl_user_list(struct ctl *c, const struct ctl_args *a)
{
	static const char *const headers[] = {"ID", "FIRST NAME", "LAST NAME", "EMAIL", "GROUP"};
	char path[512];
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if (ctl_path(c, false, path, sizeof(path), "users", NULL) != 0)
		return CTL_FAILED;
	return ctl_show_list(c, path, out_table_new(5, headers, NULL), row, json, NULL);
}
