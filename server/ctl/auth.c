/*
 * auth.c - the credential a command sends to mgmtd, and `auth login|logout`.
 *
 * In order: the profile's mgmt_token (or MGMTCTL_TOKEN), the file of
 * [profile.auth.token] token_file, a cached sign-in, and else a new sign-in
 * through the identity provider (device.h), cached for the next commands.
 * A cached sign-in that mgmtd refuses (401) is removed, as influxctl does.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cache.h"
#include "ctl.h"
#include "device.h"
#include "output.h"
#include "safefile.h"
#include "timeutil.h"

static void set_credential(struct ctl *c, char *credential, enum ctl_credential_kind kind)
{
	c->credential = credential;
	c->credential_kind = kind;
	client_add_secret(c, credential);
}

/*
 * The token of a token_file: the text trimmed, or its "token"/"access_token"
 * when JSON. The file must be a regular file (a FIFO would hang the run)
 * that no other user may read or write, as ssh asks of a key file: a
 * management token is a key to the account.
 */
static char *read_token_file(const char *path)
{
	char buf[16384], *token = NULL;
	struct stat st;
	ssize_t n;
	json_t *doc;
	int fd = safefile_open(path, 0, &st);

	if (fd == -2) {
		out_error("the token_file %s is not a regular file", path);
		return NULL;
	}
	if (fd < 0) {
		out_error("cannot read the token_file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (safefile_loose(&st)) {
		out_error("the token_file %s is open to other users (mode %04o): refused, as ssh "
		          "refuses such key files; run chmod 600 %s",
		          path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return NULL;
	}
	if (st.st_size >= (off_t)sizeof(buf)) {
		out_error("the token_file %s is larger than %zu bytes: no token is", path,
		          sizeof(buf) - 1);
		close(fd);
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		out_error("the token_file %s is empty", path);
		return NULL;
	}
	buf[n] = '\0';
	doc = json_loadb(buf, (size_t)n, 0, NULL);
	if (doc) {
		const char *t =
		    out_str(doc, "token") ? out_str(doc, "token") : out_str(doc, "access_token");

		token = t ? strdup(t) : NULL;
		json_decref(doc);
	} else {
		size_t start = strspn(buf, " \t\r\n"), len = strcspn(buf + start, " \t\r\n");

		token = len ? strndup(buf + start, len) : NULL;
	}
	sodium_memzero(buf, sizeof(buf));
	if (!token)
		out_error("the token_file %s holds no token", path);
	return token;
}

/*
 * Signs in anew and caches the token at c->cache_path. *expiry is when the
 * cached sign-in stops being used, or 0 when it was not cached.
 */
static int sign_in(struct ctl *c, int64_t *expiry)
{
	struct device_token t;
	struct cache_entry e;
	char err[512], iso[RFC3339_SIZE];

	*expiry = 0;
	if (device_sign_in(c, &t) != CTL_OK)
		return CTL_FAILED;
	e.access_token = t.access_token;
	e.token_type = t.token_type;
	e.expiry_ms = cache_expiry(t.access_token, t.expires_in, time_real_ms());
	if (e.expiry_ms <= time_real_ms() + CACHE_MARGIN_MS) {
		/*
		 * Its own exp has passed by this machine's clock: a cache of it would
		 * never be read (one dated 1970 when exp is absurd). mgmtd, whose
		 * clock may differ, judges the token itself for this command.
		 */
		time_format_rfc3339(e.expiry_ms, iso);
		out_warn("the sign-in is not cached: its exp (%s) has passed by this machine's "
		         "clock; the next command signs in again",
		         iso);
	} else if (cache_store(c->cache_path, &e, err, sizeof(err)) != 0) {
		out_warn("the sign-in is not cached (%s): the next command signs in again", err);
	} else {
		*expiry = e.expiry_ms;
	}
	free(c->credential);
	set_credential(c, t.access_token, CRED_IDP);
	t.access_token = NULL;
	device_token_release(&t);
	return CTL_OK;
}

int auth_ensure(struct ctl *c)
{
	struct ctl_settings *s = &c->settings;
	struct cache_entry e;
	char why[512];
	bool expired;
	int64_t expiry;
	char *token;

	if (c->credential)
		return CTL_OK;
	if (s->mgmt_token) {
		/* influxctl says nothing; a key to the account readable by others deserves a word
		 */
		if (s->mgmt_token_from && strcmp(s->mgmt_token_from, "profile") == 0 &&
		    (s->config_mode & 077))
			out_warn(
			    "%s holds a mgmt_token and is open to other users (mode %04o): run "
			    "chmod 600 %s",
			    s->config_path, s->config_mode, s->config_path);
		token = strdup(s->mgmt_token);
		if (!token)
			return CTL_FAILED;
		set_credential(c, token, CRED_MGMT_TOKEN);
		return CTL_OK;
	}
	if (s->token_file) {
		token = read_token_file(s->token_file);
		if (!token)
			return CTL_FAILED;
		set_credential(c, token, CRED_TOKEN_FILE);
		return CTL_OK;
	}
	if (!c->cache_path && !(c->cache_path = cache_file_for(s))) {
		out_error("out of memory");
		return CTL_FAILED;
	}
	if (cache_load(c->cache_path, time_real_ms(), &e, why, sizeof(why), &expired) == 0) {
		set_credential(c, e.access_token, CRED_IDP);
		e.access_token = NULL;
		cache_entry_release(&e);
		return CTL_OK;
	}
	/*
	 * The device sign-in waits for a person to open a link: with no terminal
	 * (cron, CI, a pipe) nobody sees it, and the command would hang until the
	 * code expires. Failing at once tells the script's author what to do.
	 */
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
		out_error("%s%s; run \"mgmtctl auth login\", or set mgmt_token in the profile",
		          expired ? why : "no sign-in is cached",
		          " and there is no terminal to sign in on");
		return CTL_FAILED;
	}
	if (expired)
		out_warn("%s: signing in again", why);
	else if (why[0] && c->verbosity >= 1)
		out_debug("%s", why);
	return sign_in(c, &expiry);
}

void auth_refused(struct ctl *c)
{
	if (c->credential_kind == CRED_IDP && c->cache_path && cache_remove(c->cache_path) == 0)
		out_warn("mgmtd refused the cached sign-in: it is removed, and the next command "
		         "signs in again");
	else if (c->credential_kind == CRED_MGMT_TOKEN)
		out_warn(
		    "mgmtd refused the management token from %s (revoked, expired or mistyped)",
		    c->settings.mgmt_token_from &&
		            strcmp(c->settings.mgmt_token_from, "profile") != 0
		        ? c->settings.mgmt_token_from
		        : "the profile's mgmt_token");
}

int ctl_auth_login(struct ctl *c, const struct ctl_args *a)
{
	char when[OUT_TIME_SIZE], iso[RFC3339_SIZE], *claim, *email;
	int64_t expiry = 0;

	(void)a;
	c->cache_path = cache_file_for(&c->settings);
	if (!c->cache_path) {
		out_error("out of memory");
		return CTL_FAILED;
	}
	if (c->settings.mgmt_token)
		out_warn("profile \"%s\" has a management token (%s): the other commands use it, "
		         "not this sign-in",
		         c->settings.profile_name,
		         strcmp(c->settings.mgmt_token_from, "profile") == 0
		             ? "mgmt_token"
		             : c->settings.mgmt_token_from);
	if (sign_in(c, &expiry) != CTL_OK)
		return CTL_FAILED;
	time_format_rfc3339(expiry, iso);
	out_table_time(iso, "", when);
	/* the IdP's claim is text from outside, shown like the server's */
	claim = cache_jwt_claim(c->credential, "email");
	email = claim ? out_escape(claim) : NULL;
	if (expiry > 0)
		printf("signed in%s%s; the sign-in is kept until %s\n", email ? " as " : "",
		       email ? email : "", when);
	else
		printf("signed in%s%s; the sign-in is not kept\n", email ? " as " : "",
		       email ? email : "");
	free(claim);
	free(email);
	return CTL_OK;
}

int ctl_auth_logout(struct ctl *c, const struct ctl_args *a)
{
	char err[512];
	size_t removed;

	(void)c;
	(void)a;
	if (cache_remove_all(&removed, err, sizeof(err)) != 0) {
		out_error("%s", err);
		return CTL_FAILED;
	}
	if (removed)
		printf("signed out: removed %zu cached sign-in%s\n", removed,
		       removed == 1 ? "" : "s");
	else
		printf("signed out: there was no cached sign-in\n");
	return CTL_OK;
}
