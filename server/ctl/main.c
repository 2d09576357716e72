/*
 * main.c - mgmtctl: global flags, the command, the settings, the run.
 *
 *   mgmtctl [global options] NOUN VERB [command options] [arguments...]
 *   mgmtctl [global options] NOUN GROUP VERB [command options] [arguments...]
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctl.h"
#include "duration.h"
#include "output.h"

#define DEFAULT_TIMEOUT_MS 60000

/* Index of the first word that is not a global flag or a global flag's value. */
static int end_of_globals(int argc, char **argv)
{
	int k = 1;

	while (k < argc && argv[k][0] == '-' && argv[k][1] != '\0') {
		const char *name = argv[k] + (argv[k][1] == '-' ? 2 : 1);
		size_t len = strcspn(name, "=");

		if (strcmp(argv[k], "--") == 0)
			return k + 1;
		for (const struct ctl_flag *f = ctl_global_flags; f->name; f++) {
			if (strlen(f->name) == len && strncmp(f->name, name, len) == 0 &&
			    f->kind != FLAG_BOOL && name[len] != '=')
				k++; /* its value */
		}
		k++;
	}
	return k;
}

static bool is_help_word(const char *w)
{
	return strcmp(w, "help") == 0 || strcmp(w, "h") == 0 || strcmp(w, "-h") == 0 ||
	       strcmp(w, "--help") == 0 || strcmp(w, "-help") == 0;
}

/* `mgmtctl help NOUN GROUP [VERB]`: the group's help, or its command's */
static int help_group(const struct ctl_group *g, int argc, char **argv)
{
	const struct ctl_command *cmd;

	if (argc == 0 || is_help_word(argv[0])) {
		commands_help_group(stdout, g);
		return CTL_OK;
	}
	cmd = commands_find_in_group(g, argv[0]);
	if (!cmd)
		return args_usage_error(NULL, "no command %s %s %s", g->noun, g->name, argv[0]);
	commands_help_command(stdout, cmd);
	return CTL_OK;
}

/* `mgmtctl help [NOUN [VERB]]` */
static int help(int argc, char **argv)
{
	const struct ctl_command *cmd;
	const struct ctl_group *g;

	if (argc == 0 || is_help_word(argv[0])) {
		commands_help_top(stdout);
		return CTL_OK;
	}
	if (!commands_noun_exists(argv[0]) && strcmp(argv[0], "help") != 0)
		return args_usage_error(NULL, "no command %s", argv[0]);
	if (argc == 1 || strcmp(argv[0], "help") == 0) {
		cmd = commands_find(argv[0], NULL);
		if (cmd && !cmd->verb)
			commands_help_command(stdout, cmd);
		else if (strcmp(argv[0], "help") == 0)
			commands_help_top(stdout);
		else
			commands_help_noun(stdout, argv[0]);
		return CTL_OK;
	}
	if ((g = commands_find_group(argv[0], argv[1])) != NULL)
		return help_group(g, argc - 2, argv + 2);
	cmd = commands_find(argv[0], argv[1]);
	if (!cmd || !cmd->verb)
		return args_usage_error(NULL, "no command %s %s", argv[0], argv[1]);
	commands_help_command(stdout, cmd);
	return CTL_OK;
}

static int apply_globals(struct ctl *c, const struct ctl_args *g)
{
	const char *timeout = args_value(g, "timeout");
	char err[1024];
	struct profile_flags pf = {args_value(g, "config"), args_value(g, "profile"),
	                           args_value(g, "account"), args_value(g, "cluster")};

	c->verbosity = args_bool(g, "trace") ? 2 : args_bool(g, "debug") ? 1 : 0;
	c->timeout_ms = DEFAULT_TIMEOUT_MS;
	if (timeout) {
		int64_t ns;

		if (duration_parse(timeout, &ns, err, sizeof(err)) != 0)
			return args_usage_error(NULL, "--timeout: %s", err);
		c->timeout_ms = ns / 1000000;
		if (ns > 0 && c->timeout_ms == 0)
			c->timeout_ms = 1;
	}
	if (profile_load(&pf, &c->settings, err, sizeof(err)) != 0) {
		out_error("%s", err);
		return CTL_FAILED;
	}
	if (c->settings.mgmt_token)
		client_add_secret(c, c->settings.mgmt_token);
	if (c->settings.token)
		client_add_secret(c, c->settings.token);
	if (c->verbosity >= 1)
		out_debug("profile \"%s\" of %s%s; mgmtd at %s", c->settings.profile_name,
		          c->settings.config_path,
		          c->settings.config_found ? "" : " (no such file)", c->settings.url);
	return CTL_OK;
}

static int check_needs(const struct ctl *c, const struct ctl_args *a)
{
	unsigned needs = a->cmd->needs;

	if ((needs & NEEDS_ACCOUNT) && !c->settings.account_id)
		return args_usage_error(a, "no account ID: set account_id in the profile, "
		                           "MGMTCTL_ACCOUNT or --account");
	if ((needs & NEEDS_CLUSTER) && !c->settings.cluster_id)
		return args_usage_error(a, "no cluster ID: set cluster_id in the profile, "
		                           "MGMTCTL_CLUSTER or --cluster");
	return CTL_OK;
}

/*
 * The command of group g named by argv[k] (argv[k - 1] is the group), or
 * the group's help (with no word, a help word or a help flag: rc CTL_OK) or
 * a usage error (rc CTL_USAGE); NULL then.
 */
static const struct ctl_command *group_command(const struct ctl_group *g, int argc, char **argv,
                                               int k, int *rc)
{
	const struct ctl_command *cmd;

	*rc = CTL_OK;
	if (k >= argc || (argv[k][0] == '-' && is_help_word(argv[k]))) {
		commands_help_group(stdout, g);
		return NULL;
	}
	if (is_help_word(argv[k])) {
		*rc = help_group(g, k + 1 < argc ? 1 : 0, argv + k + 1);
		return NULL;
	}
	cmd = commands_find_in_group(g, argv[k]);
	if (!cmd) {
		const struct ctl_command *near = commands_nearest_in_group(g, argv[k]);

		fflush(stdout);
		if (near)
			fprintf(stderr, "error\tno command %s %s %s (did you mean %s %s?)\n\n",
			        g->noun, g->name, argv[k], near->noun, near->verb);
		else
			fprintf(stderr, "error\tno command %s %s %s\n\n", g->noun, g->name,
			        argv[k]);
		commands_help_group(stderr, g);
		*rc = CTL_USAGE;
	}
	return cmd;
}

static int run(int argc, char **argv)
{
	struct ctl c;
	struct ctl_args globals, args;
	const struct ctl_command *cmd;
	const struct ctl_group *group;
	int k = end_of_globals(argc, argv), rc, first;

	memset(&c, 0, sizeof(c));
	memset(&args, 0, sizeof(args));
	memset(&globals, 0, sizeof(globals));
	rc = args_parse(NULL, ctl_global_flags, k - 1, argv + 1, &globals, NULL);
	if (rc != CTL_OK) {
		if (rc < 0)
			rc = CTL_OK; /* --help */
		goto out;
	}
	if (args_bool(&globals, "version")) {
		rc = ctl_version(&c, &globals);
		goto out;
	}
	if (k >= argc) {
		commands_help_top(stdout);
		goto out;
	}
	if (is_help_word(argv[k])) {
		rc = help(argc - k - 1, argv + k + 1);
		goto out;
	}
	if (!commands_noun_exists(argv[k])) {
		const char *near = commands_nearest_noun(argv[k]);

		if (near)
			rc = args_usage_error(NULL, "no command %s (did you mean %s?)", argv[k],
			                      near);
		else
			rc = args_usage_error(NULL, "no command %s", argv[k]);
		goto out;
	}
	cmd = commands_find(argv[k], NULL);
	first = k + 1;
	if (!cmd || cmd->verb) {
		if (k + 1 >= argc || (argv[k + 1][0] == '-' && is_help_word(argv[k + 1]))) {
			commands_help_noun(stdout, argv[k]);
			goto out;
		}
		if (is_help_word(argv[k + 1])) {
			/* `NOUN help [VERB]`, `NOUN help GROUP [VERB]` */
			char *words[3] = {argv[k], NULL, NULL};
			int n = 1;

			while (n < 3 && k + 1 + n < argc) {
				words[n] = argv[k + 1 + n];
				n++;
			}
			rc = help(n, words);
			goto out;
		}
		group = commands_find_group(argv[k], argv[k + 1]);
		if (group) {
			cmd = group_command(group, argc, argv, k + 2, &rc);
			if (!cmd)
				goto out;
		} else {
			cmd = commands_find(argv[k], argv[k + 1]);
		}
		if (!cmd) {
			const struct ctl_command *near =
			    commands_nearest_verb(argv[k], argv[k + 1]);
			const struct ctl_group *near_group =
			    near ? NULL : commands_nearest_group(argv[k], argv[k + 1]);

			fflush(stdout);
			if (near)
				fprintf(stderr, "error\tno command %s %s (did you mean %s %s?)\n\n",
				        argv[k], argv[k + 1], near->noun, near->verb);
			else if (near_group)
				fprintf(stderr, "error\tno command %s %s (did you mean %s %s?)\n\n",
				        argv[k], argv[k + 1], near_group->noun, near_group->name);
			else
				fprintf(stderr, "error\tno command %s %s\n\n", argv[k],
				        argv[k + 1]);
			commands_help_noun(stderr, argv[k]);
			rc = CTL_USAGE;
			goto out;
		}
		first = group ? k + 3 : k + 2;
	}
	rc = args_parse(cmd, cmd->flags, argc - first, argv + first, &args, &globals);
	if (rc != CTL_OK) {
		if (rc < 0)
			rc = CTL_OK; /* --help */
		goto out;
	}
	if (!(cmd->needs & NO_SETTINGS)) {
		rc = apply_globals(&c, &globals);
		if (rc != CTL_OK)
			goto out;
	}
	c.cmd = cmd;
	rc = check_needs(&c, &args);
	if (rc == CTL_OK)
		rc = cmd->run(&c, &args);
out:
	free(globals.pos);
	free(args.pos);
	if (c.credential) {
		sodium_memzero(c.credential, strlen(c.credential));
		free(c.credential);
	}
	free(c.cache_path);
	client_forget_secrets(&c);
	profile_release(&c.settings);
	fflush(stdout);
	return rc;
}

int main(int argc, char **argv)
{
	int rc;

	if (sodium_init() < 0 || client_init() != 0) {
		fprintf(stderr, "error\tcannot initialise libsodium or libcurl\n");
		return CTL_FAILED;
	}
	rc = run(argc, argv);
	client_cleanup();
	if (ferror(stdout) || fclose(stdout) != 0) {
		/* a full disk or a closed pipe: the output is not whole */
		return rc == CTL_OK ? CTL_FAILED : rc;
	}
	return rc;
}
