/*
 * config.c - `config show` (the settings in use, secrets masked, and where
 * each came from), `version` and `completion`.
 */
#define _GNU_SOURCE /* asprintf */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <curl/curl.h>

#include "cache.h"
#include "ctl.h"
#include "output.h"
#include "timeutil.h"

/* A secret as it may be shown: the prefix the API itself lists, then an ellipsis. */
static void mask(const char *secret, char *out, size_t size)
{
	size_t keep = strncmp(secret, "M.V1.", 5) == 0    ? 9
	              : strncmp(secret, "apiv1_", 6) == 0 ? 10
	                                                  : 4;

	if (strlen(secret) < keep + 8)
		snprintf(out, size, "********");
	else
		snprintf(out, size, "%.*s...", (int)keep, secret);
}

struct shown {
	const char *key, *value, *from;
};

/* Which credential the next command would send, in words. */
static void credential_text(const struct ctl_settings *s, char *out, size_t size)
{
	struct cache_entry e;
	bool expired;
	char *path, iso[RFC3339_SIZE], when[OUT_TIME_SIZE];

	if (s->mgmt_token) {
		snprintf(out, size, "management token");
		return;
	}
	if (s->token_file) {
		snprintf(out, size, "token file %s", s->token_file);
		return;
	}
	path = cache_file_for(s);
	if (path && cache_load(path, time_real_ms(), &e, NULL, 0, &expired) == 0) {
		time_format_rfc3339(e.expiry_ms, iso);
		out_table_time(iso, "", when);
		snprintf(out, size, "cached sign-in until %s", when);
		cache_entry_release(&e);
	} else {
		snprintf(out, size, "device sign-in when a command needs it");
	}
	free(path);
}

int ctl_config_show(struct ctl *c, const struct ctl_args *a)
{
	const struct ctl_settings *s = &c->settings;
	char token_masked[32] = "", data_token_masked[32] = "", credential[512], *scopes = NULL,
	     *params = NULL, *file = NULL;
	size_t len = 1;
	struct out_table *t = NULL;
	json_t *j = NULL;
	int rc = args_format(c, a);

	if (rc != CTL_OK)
		return rc;
	if (s->mgmt_token)
		mask(s->mgmt_token, token_masked, sizeof(token_masked));
	if (s->token)
		mask(s->token, data_token_masked, sizeof(data_token_masked));
	credential_text(s, credential, sizeof(credential));
	for (size_t i = 0; i < s->oauth2.scope_count; i++)
		len += strlen(s->oauth2.scopes[i]) + 1;
	for (size_t i = 0; i < s->oauth2.param_count; i++)
		len += strlen(s->oauth2.params[i].key) + strlen(s->oauth2.params[i].value) + 2;
	scopes = calloc(1, len);
	params = calloc(1, len);
	if (!scopes || !params ||
	    asprintf(&file, "%s%s", s->config_path, s->config_found ? "" : " (no such file)") < 0) {
		file = NULL;
		goto oom;
	}
	for (size_t i = 0; i < s->oauth2.scope_count; i++)
		strcat(strcat(scopes, i ? " " : ""), s->oauth2.scopes[i]);
	for (size_t i = 0; i < s->oauth2.param_count; i++)
		strcat(strcat(strcat(strcat(params, i ? " " : ""), s->oauth2.params[i].key), "="),
		       s->oauth2.params[i].value);
	{
		const struct shown rows[] = {
		    {"profile", s->profile_name, NULL},
		    {"config file", file, NULL},
		    {"url", s->url, s->url_from},
		    {"account id", s->account_id, s->account_from},
		    {"cluster id", s->cluster_id, s->cluster_from},
		    {"mgmt token", s->mgmt_token ? token_masked : NULL, s->mgmt_token_from},
		    {"credential", credential, NULL},
		    {"product", s->product, NULL},
		    {"host", s->host, NULL},
		    {"port", s->port, NULL},
		    {"database", s->database, NULL},
		    {"token", s->token ? data_token_masked : NULL, NULL},
		    {"tls insecure", s->tls.insecure ? "true" : NULL, NULL},
		    {"tls ca", s->tls.ca, NULL},
		    {"tls cert", s->tls.cert, NULL},
		    {"tls key", s->tls.key, NULL},
		    {"oauth2 client id", s->oauth2.client_id, NULL},
		    {"oauth2 scopes", scopes[0] ? scopes : NULL, NULL},
		    {"oauth2 parameters", params[0] ? params : NULL, NULL},
		    {"oauth2 token url", s->oauth2.token_url, NULL},
		    {"oauth2 device url", s->oauth2.device_url, NULL},
		    {"token file", s->token_file, NULL},
		};
		size_t n = sizeof(rows) / sizeof(rows[0]);

		if (c->json) {
			j = json_object();
			for (size_t i = 0; j && i < n; i++) {
				char key[64];

				snprintf(key, sizeof(key), "%s", rows[i].key);
				for (char *p = key; *p; p++)
					*p = *p == ' ' ? '_' : *p;
				if (strcmp(rows[i].key, "config file") == 0 &&
				    out_set_string(j, key, s->config_path) != 0)
					goto oom;
				if (strcmp(rows[i].key, "config file") != 0 &&
				    out_set_string(j, key, rows[i].value) != 0)
					goto oom;
			}
			if (!j || json_object_set_new(j, "config_found",
			                              json_boolean(s->config_found)) != 0)
				goto oom;
			out_json_print(stdout, j);
			goto out;
		}
		t = out_kv_new();
		for (size_t i = 0; t && i < n; i++) {
			char *cell = NULL;
			int bad;

			if (!rows[i].value && i >= 6)
				continue;
			if (rows[i].from && strcmp(rows[i].from, "profile") != 0) {
				if (asprintf(&cell, "%s (from %s)",
				             rows[i].value ? rows[i].value : "", rows[i].from) < 0)
					goto oom;
			}
			bad = out_kv(t, rows[i].key, cell ? cell : rows[i].value);
			free(cell);
			if (bad)
				goto oom;
		}
		if (!t)
			goto oom;
		out_table_print(stdout, t);
	}
	goto out;
oom:
	out_error("out of memory");
	rc = CTL_FAILED;
out:
	out_table_free(t);
	json_decref(j);
	free(scopes);
	free(params);
	free(file);
	return rc;
}

int ctl_version(struct ctl *c, const struct ctl_args *a)
{
	struct utsname u;
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

	(void)c;
	(void)a;
	if (uname(&u) != 0) {
		strcpy(u.sysname, "unknown");
		strcpy(u.machine, "unknown");
	}
	for (char *p = u.sysname; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	printf("mgmtctl %s %s/%s (libcurl %s, jansson %s)\n", MGMTCTL_VERSION, u.sysname, u.machine,
	       cv ? cv->version : "?", jansson_version_str());
	return CTL_OK;
}

int ctl_completion(struct ctl *c, const struct ctl_args *a)
{
	(void)c;
	if (strcmp(a->pos[0], "bash") != 0)
		return args_usage_error(a, "only bash completion is offered, not \"%s\"",
		                        a->pos[0]);
	commands_bash_completion(stdout);
	return CTL_OK;
}
