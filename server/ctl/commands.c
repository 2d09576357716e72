/*
 * commands.c - the one table of mgmtctl's commands, with their flags, and
 * what is printed from it: help, usage lines and the bash completion; plus
 * the printing helpers every noun shares.
 */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "ctl.h"
#include "output.h"

/* ---- flags ---- */

#define F_END                                                                                      \
	{                                                                                          \
		NULL, 0, NULL, NULL, NULL                                                          \
	}
#define F_FORMAT                                                                                   \
	{                                                                                          \
		"format", FLAG_VALUE, "FORMAT", "table json",                                      \
		    "output format: table (the default) or json"                                   \
	}
#define F_FORCE(what)                                                                              \
	{                                                                                          \
		"force", FLAG_BOOL, NULL, NULL, "do not ask for confirmation before " what         \
	}
#define F_GRACE                                                                                    \
	{                                                                                          \
		"grace", FLAG_VALUE, "DURATION", NULL,                                             \
		    "how long the previous secret keeps working: 0 to 7d (default 1h)"             \
	}
#define F_STATUS(what)                                                                             \
	{                                                                                          \
		"filter-status", FLAG_VALUE, "STATUS", "active deleted",                           \
		    "list only " what " of this status: active (the default) or deleted"           \
	}
#define F_LIMITS                                                                                   \
	{"retention-period", FLAG_VALUE, "DURATION", NULL,                                         \
	 "how long data is kept, such as 30d, 1mo or 1y; 0 keeps it forever"},                     \
	    {"max-tables", FLAG_VALUE, "N", NULL,                                                  \
	     "maximum tables in the database (0: the default, 500)"},                              \
	{                                                                                          \
		"max-columns", FLAG_VALUE, "N", NULL,                                              \
		    "maximum columns per table (0: the default, 250)"                              \
	}
#define F_TEMPLATE                                                                                 \
	{"template-tag", FLAG_LIST, "TAG", NULL, "partition by this tag's values; repeatable"},    \
	    {"template-tag-bucket", FLAG_LIST, "TAG,N", NULL,                                      \
	     "partition this tag's values into N buckets, such as customerID,100; repeatable"},    \
	{                                                                                          \
		"template-timeformat", FLAG_VALUE, "FORMAT", "%Y-%m-%d %Y-%m %Y",                  \
		    "partition by time: %Y-%m-%d, %Y-%m or %Y (required with the tag flags)"       \
	}
#define F_PERMISSIONS                                                                              \
	{"read-database", FLAG_LIST, "DATABASE_NAME", NULL,                                        \
	 "grant read permission on a database (\"*\" for every one); repeatable"},                 \
	{                                                                                          \
		"write-database", FLAG_LIST, "DATABASE_NAME", NULL,                                \
		    "grant write permission on a database (\"*\" for every one); repeatable"       \
	}
#define F_EXPIRING                                                                                 \
	{                                                                                          \
		"expiring-within", FLAG_VALUE, "DURATION", NULL,                                   \
		    "only live tokens that expire within this time, such as 7d (mgmtd's own)"      \
	}
#define F_EXPIRES                                                                                  \
	{                                                                                          \
		"expires-at", FLAG_VALUE, "RFC3339", NULL,                                         \
		    "when the token expires, such as 2030-01-01T00:00:00Z (default: never)"        \
	}

const struct ctl_flag ctl_global_flags[] = {
    {"account", FLAG_VALUE, "ID", NULL, "the account ID, over the profile's account_id"},
    {"cluster", FLAG_VALUE, "ID", NULL, "the cluster ID, over the profile's cluster_id"},
    {"config", FLAG_VALUE, "FILE", NULL,
     "the profile file (default: ~/.config/mgmtctl/config.toml)"},
    {"profile", FLAG_VALUE, "NAME", NULL, "the connection profile to use (default: default)"},
    {"timeout", FLAG_VALUE, "DURATION", NULL,
     "time limit of each API call, or of each wait for more of a list (default: 1m0s)"},
    {"debug", FLAG_BOOL, NULL, NULL, "log each request and answer on stderr"},
    {"trace", FLAG_BOOL, NULL, NULL,
     "log requests and answers in full on stderr (secrets are redacted)"},
    {"version", FLAG_BOOL, NULL, NULL, "print the version and exit"},
    F_END,
};

/* ---- the table ---- */

const struct ctl_noun ctl_nouns[] = {
    {"auth", "Sign in to or out of the identity provider"},
    {"cluster", "List the account's clusters"},
    {"config", "Show the connection profile in use"},
    {"database", "Manage databases"},
    {"management", "Manage management tokens"},
    {"table", "Manage tables"},
    {"token", "Manage database tokens"},
    {"user", "List the account's users"},
    {"version", "Print mgmtctl's version"},
    {"help", "Show the commands, or one command's help"},
};
const size_t ctl_noun_count = sizeof(ctl_nouns) / sizeof(ctl_nouns[0]);

/* influxctl's words (INFLUXCTL.md 9) */
const struct ctl_group ctl_groups[] = {
    {"table", "iceberg", "Manage iceberg exports for a table"},
};
const size_t ctl_group_count = sizeof(ctl_groups) / sizeof(ctl_groups[0]);

#define ACCOUNT NEEDS_ACCOUNT
#define CLUSTER (NEEDS_ACCOUNT | NEEDS_CLUSTER)

const struct ctl_command ctl_commands[] = {
    {"auth", "login", NULL, "", "Sign in through the identity provider and cache the sign-in",
     (const struct ctl_flag[]){F_END}, 0, 0, 0, ctl_auth_login},
    {"auth", "logout", NULL, "", "Remove the cached sign-ins", (const struct ctl_flag[]){F_END}, 0,
     0, 0, ctl_auth_logout},

    {"cluster", "list", NULL, "", "List every cluster of the account",
     (const struct ctl_flag[]){F_FORMAT, F_END}, 0, 0, ACCOUNT, ctl_cluster_list},
    {"cluster", "get", NULL, "<CLUSTER_ID>", "Show one cluster",
     (const struct ctl_flag[]){F_FORMAT, F_END}, 1, 1, ACCOUNT, ctl_cluster_get},

    {"database", "create", NULL, "<DATABASE_NAME>", "Create a database",
     (const struct ctl_flag[]){F_LIMITS, F_TEMPLATE, F_FORMAT, F_END}, 1, 1, CLUSTER,
     ctl_database_create},
    {"database", "list", NULL, "", "List the databases of the cluster",
     (const struct ctl_flag[]){F_STATUS("databases"), F_FORMAT, F_END}, 0, 0, CLUSTER,
     ctl_database_list},
    {"database", "update", NULL, "<DATABASE_NAME>",
     "Change a database's retention period or limits",
     (const struct ctl_flag[]){F_LIMITS, F_FORMAT, F_END}, 1, 1, CLUSTER, ctl_database_update},
    {"database", "delete", NULL, "<DATABASE_NAME> [<DATABASE_NAME_N>...]",
     "Delete databases (they can be undeleted)",
     (const struct ctl_flag[]){F_FORCE("deleting"), F_END}, 1, -1, CLUSTER, ctl_database_delete},
    {"database", "rename", NULL, "<CURRENT_DB_NAME> <NEW_DB_NAME>", "Rename a database",
     (const struct ctl_flag[]){F_FORMAT, F_END}, 2, 2, CLUSTER, ctl_database_rename},
    {"database", "undelete", NULL, "<DATABASE_NAME>", "Restore a deleted database",
     (const struct ctl_flag[]){F_FORMAT, F_END}, 1, 1, CLUSTER, ctl_database_undelete},

    {"management", "create", NULL, "", "Create a management token",
     (const struct ctl_flag[]){
         {"description", FLAG_VALUE, "TEXT", NULL,
          "what the token is for (default: \"created by mgmtctl at\" and the time)"},
         F_EXPIRES,
         F_FORMAT,
         F_END},
     0, 0, ACCOUNT, ctl_management_create},
    {"management", "list", NULL, "", "List every management token, revoked ones too",
     (const struct ctl_flag[]){F_FORMAT,
                               {"sort", FLAG_VALUE, "COLUMN",
                                "created id description prefix expires revoked",
                                "sort by created (the default), id, description, prefix, "
                                "expires or revoked"},
                               F_EXPIRING,
                               F_END},
     0, 0, ACCOUNT, ctl_management_list},
    {"management", "revoke", NULL, "<TOKEN_ID> [<TOKEN_ID_N>...]", "Revoke management tokens",
     (const struct ctl_flag[]){F_FORCE("revoking"), F_END}, 1, -1, ACCOUNT, ctl_management_revoke},
    /* mgmtd extensions (docs/tokens.md "Lifecycle"): no question asked, nothing is lost */
    {"management", "rotate", NULL, "<TOKEN_ID>",
     "Give a management token a new secret; the old one works for a grace period",
     (const struct ctl_flag[]){F_GRACE, F_FORMAT, F_END}, 1, 1, ACCOUNT, ctl_management_rotate},
    {"management", "suspend", NULL, "<TOKEN_ID>", "Refuse a management token until it is resumed",
     (const struct ctl_flag[]){F_END}, 1, 1, ACCOUNT, ctl_management_suspend},
    {"management", "resume", NULL, "<TOKEN_ID>", "Let a suspended management token work again",
     (const struct ctl_flag[]){F_END}, 1, 1, ACCOUNT, ctl_management_resume},

    {"table", "create", NULL, "<DATABASE_NAME> <TABLE_NAME>", "Create a table",
     (const struct ctl_flag[]){F_TEMPLATE, F_FORMAT, F_END}, 2, 2, CLUSTER, ctl_table_create},
    {"table", "list", NULL, "<DATABASE_NAME>", "List the tables of a database",
     (const struct ctl_flag[]){F_STATUS("tables"), F_FORMAT, F_END}, 1, 1, CLUSTER, ctl_table_list},
    {"table", "delete", NULL, "<DATABASE_NAME> <TABLE_NAME>",
     "Delete a table (it can be undeleted)", (const struct ctl_flag[]){F_FORCE("deleting"), F_END},
     2, 2, CLUSTER, ctl_table_delete},
    {"table", "rename", NULL, "<DATABASE_NAME> <CURRENT_TABLE_NAME> <NEW_TABLE_NAME>",
     "Rename a table", (const struct ctl_flag[]){F_FORMAT, F_END}, 3, 3, CLUSTER, ctl_table_rename},
    {"table", "undelete", NULL, "<DATABASE_NAME> <TABLE_ID>", "Restore a deleted table by its ID",
     (const struct ctl_flag[]){F_FORMAT, F_END}, 2, 2, CLUSTER, ctl_table_undelete},
    /* only -h, as influxctl's (INFLUXCTL.md 9.6): a one-line confirmation, no --format */
    {"table", "iceberg enable", NULL, "<DATABASE_NAME> <TABLE_NAME>",
     "Enable iceberg exports for a table", (const struct ctl_flag[]){F_END}, 2, 2, CLUSTER,
     ctl_table_iceberg_enable},
    {"table", "iceberg disable", NULL, "<DATABASE_NAME> <TABLE_NAME>",
     "Disable iceberg exports for a table", (const struct ctl_flag[]){F_END}, 2, 2, CLUSTER,
     ctl_table_iceberg_disable},

    {"token", "create", NULL, "<TOKEN_DESCRIPTION>", "Create a database token",
     (const struct ctl_flag[]){F_PERMISSIONS, F_EXPIRES, F_FORMAT, F_END}, 1, 1, CLUSTER,
     ctl_token_create},
    {"token", "list", NULL, "", "List the database tokens of the cluster",
     (const struct ctl_flag[]){
         F_FORMAT,
         {"sort", FLAG_VALUE, "COLUMN", "id description",
          "sort by id (the default) or description"},
         {"include-revoked", FLAG_BOOL, NULL, NULL, "list revoked tokens too"},
         F_EXPIRING,
         F_END},
     0, 0, CLUSTER, ctl_token_list},
    {"token", "get", NULL, "<TOKEN_ID>", "Show one database token",
     (const struct ctl_flag[]){
         F_FORMAT,
         {"include-revoked", FLAG_BOOL, NULL, NULL, "show the token even when it is revoked"},
         F_END},
     1, 1, CLUSTER, ctl_token_get},
    {"token", "update", NULL, "<TOKEN_ID>",
     "Change a database token's description or replace its permissions",
     (const struct ctl_flag[]){{"description", FLAG_VALUE, "TEXT", NULL, "a new description"},
                               F_PERMISSIONS,
                               F_FORMAT,
                               F_END},
     1, 1, CLUSTER, ctl_token_update},
    {"token", "revoke", "delete", "<TOKEN_ID> [<TOKEN_ID_N>...]", "Revoke database tokens",
     (const struct ctl_flag[]){F_FORCE("revoking"), F_END}, 1, -1, CLUSTER, ctl_token_revoke},
    /* mgmtd extensions, as for management tokens */
    {"token", "rotate", NULL, "<TOKEN_ID>",
     "Give a database token a new secret; the old one works for a grace period",
     (const struct ctl_flag[]){F_GRACE, F_FORMAT, F_END}, 1, 1, CLUSTER, ctl_token_rotate},
    {"token", "suspend", NULL, "<TOKEN_ID>", "Refuse a database token until it is resumed",
     (const struct ctl_flag[]){F_END}, 1, 1, CLUSTER, ctl_token_suspend},
    {"token", "resume", NULL, "<TOKEN_ID>", "Let a suspended database token work again",
     (const struct ctl_flag[]){F_END}, 1, 1, CLUSTER, ctl_token_resume},

    {"user", "list", NULL, "", "List the users of the account",
     (const struct ctl_flag[]){F_FORMAT, F_END}, 0, 0, ACCOUNT, ctl_user_list},

    {"config", "show", NULL, "", "Show the settings in use (secrets masked) and their sources",
     (const struct ctl_flag[]){F_FORMAT, F_END}, 0, 0, 0, ctl_config_show},

    {"version", NULL, NULL, "", "Print mgmtctl's version", (const struct ctl_flag[]){F_END}, 0, 0,
     NO_SETTINGS, ctl_version},
    {"completion", NULL, NULL, "bash", "Print the bash completion script",
     (const struct ctl_flag[]){F_END}, 1, 1, NO_SETTINGS, ctl_completion},
};
const size_t ctl_command_count = sizeof(ctl_commands) / sizeof(ctl_commands[0]);

static const struct ctl_group *group_of(const struct ctl_command *cmd);

const struct ctl_command *commands_find(const char *noun, const char *verb)
{
	for (size_t i = 0; i < ctl_command_count; i++) {
		const struct ctl_command *cmd = &ctl_commands[i];

		/* a group's commands are found through it (commands_find_in_group) */
		if (strcmp(cmd->noun, noun) != 0 || group_of(cmd))
			continue;
		if (!cmd->verb || (verb && (strcmp(cmd->verb, verb) == 0 ||
		                            (cmd->alias && strcmp(cmd->alias, verb) == 0))))
			return cmd;
	}
	return NULL;
}

/* The group cmd belongs to (its verb has a space), or NULL. */
static const struct ctl_group *group_of(const struct ctl_command *cmd)
{
	size_t len;

	if (!cmd->verb || !strchr(cmd->verb, ' '))
		return NULL;
	len = strcspn(cmd->verb, " ");
	for (size_t i = 0; i < ctl_group_count; i++) {
		const struct ctl_group *g = &ctl_groups[i];

		if (strcmp(g->noun, cmd->noun) == 0 && strlen(g->name) == len &&
		    strncmp(g->name, cmd->verb, len) == 0)
			return g;
	}
	return NULL;
}

const struct ctl_group *commands_find_group(const char *noun, const char *word)
{
	for (size_t i = 0; word && i < ctl_group_count; i++) {
		if (strcmp(ctl_groups[i].noun, noun) == 0 && strcmp(ctl_groups[i].name, word) == 0)
			return &ctl_groups[i];
	}
	return NULL;
}

const struct ctl_command *commands_find_in_group(const struct ctl_group *g, const char *verb)
{
	for (size_t i = 0; verb && i < ctl_command_count; i++) {
		const struct ctl_command *cmd = &ctl_commands[i];

		if (group_of(cmd) == g && strcmp(cmd->verb + strlen(g->name) + 1, verb) == 0)
			return cmd;
	}
	return NULL;
}

bool commands_noun_exists(const char *noun)
{
	for (size_t i = 0; i < ctl_command_count; i++) {
		if (strcmp(ctl_commands[i].noun, noun) == 0)
			return true;
	}
	return false;
}

const char *commands_nearest_noun(const char *typed)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; i < ctl_noun_count; i++) {
		size_t d = args_edit_distance(typed, ctl_nouns[i].name);

		if (d < best_d && args_close_enough(typed, ctl_nouns[i].name, d)) {
			best = ctl_nouns[i].name;
			best_d = d;
		}
	}
	return best;
}

const struct ctl_command *commands_nearest_verb(const char *noun, const char *typed)
{
	const struct ctl_command *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; i < ctl_command_count; i++) {
		const struct ctl_command *cmd = &ctl_commands[i];
		size_t d;

		if (strcmp(cmd->noun, noun) != 0 || !cmd->verb || group_of(cmd))
			continue;
		d = args_edit_distance(typed, cmd->verb);
		if (d < best_d && args_close_enough(typed, cmd->verb, d)) {
			best = cmd;
			best_d = d;
		}
	}
	return best;
}

const struct ctl_group *commands_nearest_group(const char *noun, const char *typed)
{
	const struct ctl_group *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; i < ctl_group_count; i++) {
		const struct ctl_group *g = &ctl_groups[i];
		size_t d;

		if (strcmp(g->noun, noun) != 0)
			continue;
		d = args_edit_distance(typed, g->name);
		if (d < best_d && args_close_enough(typed, g->name, d)) {
			best = g;
			best_d = d;
		}
	}
	return best;
}

const struct ctl_command *commands_nearest_in_group(const struct ctl_group *g, const char *typed)
{
	const struct ctl_command *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; i < ctl_command_count; i++) {
		const struct ctl_command *cmd = &ctl_commands[i];
		const char *verb;
		size_t d;

		if (group_of(cmd) != g)
			continue;
		verb = cmd->verb + strlen(g->name) + 1;
		d = args_edit_distance(typed, verb);
		if (d < best_d && args_close_enough(typed, verb, d)) {
			best = cmd;
			best_d = d;
		}
	}
	return best;
}

/* ---- help ---- */

static const char *noun_summary(const char *noun)
{
	for (size_t i = 0; i < ctl_noun_count; i++) {
		if (strcmp(ctl_nouns[i].name, noun) == 0)
			return ctl_nouns[i].summary;
	}
	return "";
}

static void print_flags(FILE *f, const struct ctl_flag *flags)
{
	char spec[128];
	size_t width = strlen("--help, -h");

	for (const struct ctl_flag *fl = flags; fl->name; fl++) {
		size_t n = strlen(fl->name) + 2 + (fl->value_name ? strlen(fl->value_name) + 1 : 0);

		if (n > width)
			width = n;
	}
	for (const struct ctl_flag *fl = flags; fl->name; fl++) {
		snprintf(spec, sizeof(spec), "--%s%s%s", fl->name, fl->value_name ? " " : "",
		         fl->value_name ? fl->value_name : "");
		fprintf(f, "   %-*s  %s\n", (int)width, spec, fl->help);
	}
	fprintf(f, "   %-*s  %s\n", (int)width, "--help, -h", "show help");
}

void commands_usage_line(FILE *f, const struct ctl_command *cmd)
{
	bool has_flags = cmd->flags[0].name != NULL;

	fprintf(f, "usage: mgmtctl [global options] %s%s%s%s%s%s\n", cmd->noun,
	        cmd->verb ? " " : "", cmd->verb ? cmd->verb : "",
	        has_flags ? " [command options]" : "", cmd->arguments[0] ? " " : "",
	        cmd->arguments);
}

void commands_help_command(FILE *f, const struct ctl_command *cmd)
{
	fprintf(f, "NAME:\n   mgmtctl %s%s%s - %s\n\n", cmd->noun, cmd->verb ? " " : "",
	        cmd->verb ? cmd->verb : "", cmd->summary);
	fprintf(f, "USAGE:\n   mgmtctl [global options] %s%s%s%s%s%s\n\n", cmd->noun,
	        cmd->verb ? " " : "", cmd->verb ? cmd->verb : "",
	        cmd->flags[0].name ? " [command options]" : "", cmd->arguments[0] ? " " : "",
	        cmd->arguments);
	if (cmd->alias)
		fprintf(f, "ALIASES:\n   %s\n\n", cmd->alias);
	fprintf(f, "OPTIONS:\n");
	print_flags(f, cmd->flags);
}

/* Whether cmd is the first command of its group in the table (where the group is listed). */
static bool first_of_group(size_t i, const struct ctl_group *g)
{
	for (size_t k = 0; k < i; k++) {
		if (group_of(&ctl_commands[k]) == g)
			return false;
	}
	return true;
}

/*
 * The COMMANDS: lines of noun, or of group g within it when g is not NULL:
 * a group's commands appear under the noun as the group's one line.
 */
static void list_commands(FILE *f, const char *noun, const struct ctl_group *g)
{
	size_t width = 4, skip = g ? strlen(g->name) + 1 : 0;

	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ctl_command_count; i++) {
			const struct ctl_command *cmd = &ctl_commands[i];
			const struct ctl_group *in = group_of(cmd);
			const char *summary = cmd->summary;
			char names[64];

			if (strcmp(cmd->noun, noun) != 0 || !cmd->verb)
				continue;
			if (g && in != g)
				continue;
			if (!g && in) {
				if (!first_of_group(i, in))
					continue;
				snprintf(names, sizeof(names), "%s", in->name);
				summary = in->summary;
			} else {
				snprintf(names, sizeof(names), "%s%s%s", cmd->verb + skip,
				         cmd->alias ? ", " : "", cmd->alias ? cmd->alias : "");
			}
			if (pass == 0 && strlen(names) > width)
				width = strlen(names);
			else if (pass == 1)
				fprintf(f, "   %-*s  %s\n", (int)width, names, summary);
		}
	}
	fprintf(f, "   %-*s  %s\n", (int)width, "help, h",
	        "Show the commands, or one command's help");
}

void commands_help_noun(FILE *f, const char *noun)
{
	fprintf(f,
	        "NAME:\n   mgmtctl %s - %s\n\nUSAGE:\n   mgmtctl [global options] %s command "
	        "[command options] [arguments...]\n\nCOMMANDS:\n",
	        noun, noun_summary(noun), noun);
	list_commands(f, noun, NULL);
	fprintf(f, "\nRun 'mgmtctl %s COMMAND --help' for a command's options.\n", noun);
}

void commands_help_group(FILE *f, const struct ctl_group *g)
{
	fprintf(f,
	        "NAME:\n   mgmtctl %s %s - %s\n\nUSAGE:\n   mgmtctl [global options] %s %s "
	        "command [command options] [arguments...]\n\nCOMMANDS:\n",
	        g->noun, g->name, g->summary, g->noun, g->name);
	list_commands(f, g->noun, g);
	fprintf(f, "\nRun 'mgmtctl %s %s COMMAND --help' for a command's options.\n", g->noun,
	        g->name);
}

void commands_help_top(FILE *f)
{
	fprintf(f, "NAME:\n   mgmtctl - manage mgmtd, a local InfluxDB Cloud Dedicated control "
	           "plane, as influxctl does\n\n"
	           "USAGE:\n   mgmtctl [global options] command [command options] "
	           "[arguments...]\n\nVERSION:\n   " MGMTCTL_VERSION "\n\nCOMMANDS:\n");
	for (size_t i = 0; i < ctl_noun_count; i++)
		fprintf(f, "   %-10s  %s\n", ctl_nouns[i].name, ctl_nouns[i].summary);
	fprintf(f, "\nGLOBAL OPTIONS:\n");
	print_flags(f, ctl_global_flags);
	fprintf(f, "\nRun 'mgmtctl COMMAND --help' for a command's subcommands and options.\n");
}

/* ---- bash completion ---- */

static void words_of_flags(FILE *f, const struct ctl_flag *flags)
{
	for (const struct ctl_flag *fl = flags; fl->name; fl++)
		fprintf(f, " --%s", fl->name);
}

/* True when a flag of this name with choices comes before fl in the table. */
static bool choice_flag_seen(size_t i, const struct ctl_flag *fl)
{
	for (size_t k = 0; k <= i; k++) {
		for (const struct ctl_flag *g = ctl_commands[k].flags; g->name; g++) {
			if (k == i && g == fl)
				return false;
			if (g->choices && strcmp(g->name, fl->name) == 0)
				return true;
		}
	}
	return false;
}

/* One case arm per command, from the i-th on, whose flag `name` has choices. */
static void choice_arms(FILE *f, size_t i, const char *name)
{
	for (size_t k = i; k < ctl_command_count; k++) {
		const struct ctl_command *cmd = &ctl_commands[k];

		for (const struct ctl_flag *g = cmd->flags; g->name; g++) {
			if (g->choices && strcmp(g->name, name) == 0)
				fprintf(f, "                \"%s %s\") words=\"%s\" ;;\n",
				        cmd->noun, cmd->verb ? cmd->verb : "", g->choices);
		}
	}
}

void commands_bash_completion(FILE *f)
{
	fprintf(
	    f,
	    "# bash completion for mgmtctl; generated by `mgmtctl completion bash`.\n"
	    "# Install: copy to /usr/share/bash-completion/completions/mgmtctl, or\n"
	    "# source it from ~/.bashrc.\n\n"
	    "_mgmtctl()\n{\n"
	    "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
	    "    local noun=\"\" verb=\"\" sub=\"\" i w words\n"
	    "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
	    "        w=\"${COMP_WORDS[i]}\"\n"
	    "        case \"$w\" in\n"
	    "            --account|--cluster|--config|--profile|--timeout) ((i++)); continue ;;\n"
	    "            -*) continue ;;\n"
	    "        esac\n"
	    "        if [[ -z $noun ]]; then noun=$w; elif [[ -z $verb ]]; then verb=$w;\n"
	    "        elif [[ -z $sub ]]; then sub=$w; fi\n"
	    "    done\n"
	    "    case \"$prev\" in\n"
	    "        --config) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n");
	/* flags with a fixed set of values, per command; one arm per flag name */
	for (size_t i = 0; i < ctl_command_count; i++) {
		for (const struct ctl_flag *fl = ctl_commands[i].flags; fl->name; fl++) {
			if (!fl->choices || strcmp(fl->name, "format") == 0 ||
			    choice_flag_seen(i, fl))
				continue;
			fprintf(f, "        --%s)\n            case \"$noun $verb\" in\n",
			        fl->name);
			choice_arms(f, i, fl->name);
			fprintf(
			    f,
			    "            esac\n            COMPREPLY=($(compgen -W \"$words\" -- "
			    "\"$cur\")); return ;;\n");
		}
	}
	fprintf(f, "        --format) COMPREPLY=($(compgen -W \"table json\" -- \"$cur\")); return "
	           ";;\n"
	           "    esac\n"
	           "    if [[ -z $noun ]]; then\n"
	           "        words=\"");
	for (size_t i = 0; i < ctl_noun_count; i++)
		fprintf(f, "%s%s", i ? " " : "", ctl_nouns[i].name);
	words_of_flags(f, ctl_global_flags);
	fprintf(f, "\"\n    elif [[ -z $verb ]]; then\n        case \"$noun\" in\n");
	for (size_t i = 0; i < ctl_noun_count; i++) {
		const char *noun = ctl_nouns[i].name;
		bool any = false;

		for (size_t k = 0; k < ctl_command_count; k++) {
			const struct ctl_command *cmd = &ctl_commands[k];
			const struct ctl_group *g = group_of(cmd);
			const char *word = g ? g->name : cmd->verb;

			if (strcmp(cmd->noun, noun) != 0 || !cmd->verb ||
			    (g && !first_of_group(k, g)))
				continue;
			if (any)
				fprintf(f, " %s", word);
			else
				fprintf(f, "            %s) words=\"%s", noun, word);
			if (cmd->alias)
				fprintf(f, " %s", cmd->alias);
			any = true;
		}
		if (any)
			fprintf(f, " help\" ;;\n");
	}
	fprintf(f, "            completion) words=\"bash\" ;;\n"
	           "            *) words=\"\" ;;\n"
	           "        esac\n"
	           "    else\n"
	           "        case \"$noun $verb\" in\n");
	for (size_t i = 0; i < ctl_command_count; i++) {
		const struct ctl_command *cmd = &ctl_commands[i];

		if (!cmd->verb || group_of(cmd))
			continue;
		fprintf(f, "            \"%s %s\"", cmd->noun, cmd->verb);
		if (cmd->alias)
			fprintf(f, "|\"%s %s\"", cmd->noun, cmd->alias);
		fprintf(f, ") words=\"");
		words_of_flags(f, cmd->flags);
		fprintf(f, " --help\" ;;\n");
	}
	/* a group's verbs, then each one's flags, by the third word */
	for (size_t i = 0; i < ctl_group_count; i++) {
		const struct ctl_group *g = &ctl_groups[i];

		fprintf(f, "            \"%s %s\")\n                case \"$sub\" in\n", g->noun,
		        g->name);
		fprintf(f, "                    \"\") words=\"");
		for (size_t k = 0; k < ctl_command_count; k++) {
			if (group_of(&ctl_commands[k]) == g)
				fprintf(f, "%s ", ctl_commands[k].verb + strlen(g->name) + 1);
		}
		fprintf(f, "help\" ;;\n");
		for (size_t k = 0; k < ctl_command_count; k++) {
			const struct ctl_command *cmd = &ctl_commands[k];

			if (group_of(cmd) != g)
				continue;
			fprintf(f, "                    %s) words=\"",
			        cmd->verb + strlen(g->name) + 1);
			words_of_flags(f, cmd->flags);
			fprintf(f, " --help\" ;;\n");
		}
		fprintf(f, "                    *) words=\"--help\" ;;\n                esac ;;\n");
	}
	fprintf(f, "            *) words=\"--help\" ;;\n"
	           "        esac\n"
	           "    fi\n"
	           "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
	           "}\n"
	           "complete -F _mgmtctl mgmtctl\n");
}

/* ---- printing, shared by the nouns ---- */

int ctl_print_object(struct ctl *c, const json_t *obj, ctl_rows_fn kv, ctl_json_fn json)
{
	struct out_table *t;
	json_t *out;

	if (!json_is_object(obj)) {
		out_error("mgmtd answered something that is not an object");
		return CTL_FAILED;
	}
	if (c->json) {
		out = json(obj);
		if (!out) {
			out_error("out of memory");
			return CTL_FAILED;
		}
		out_json_print(stdout, out);
		json_decref(out);
		return CTL_OK;
	}
	t = out_kv_new();
	if (!t || kv(t, obj) != 0) {
		out_table_free(t);
		out_error("out of memory");
		return CTL_FAILED;
	}
	out_table_print(stdout, t);
	out_table_free(t);
	return CTL_OK;
}

int ctl_for_each(struct ctl *c, const struct ctl_args *a, const char *verb, const char *done,
                 const char *what, const char *warning, int (*one)(struct ctl *c, const char *item))
{
	char question[1024];
	size_t n = 0;
	int rc = CTL_OK;

	if (a->npos == 1) {
		n = (size_t)snprintf(question, sizeof(question), "%s %s %s?", verb, what,
		                     a->pos[0]);
	} else {
		n = (size_t)snprintf(question, sizeof(question), "%s %zu %ss (", verb, a->npos,
		                     what);
		for (size_t i = 0; i < a->npos && n < sizeof(question); i++)
			n += (size_t)snprintf(question + n, sizeof(question) - n, "%s%s",
			                      i ? ", " : "", a->pos[i]);
		if (n < sizeof(question))
			n += (size_t)snprintf(question + n, sizeof(question) - n, ")?");
	}
	if (warning && n < sizeof(question))
		snprintf(question + n, sizeof(question) - n, " %s", warning);
	if (!ctl_confirm(args_bool(a, "force"), question))
		return CTL_FAILED;
	for (size_t i = 0; i < a->npos; i++) {
		if (one(c, a->pos[i]) == CTL_OK)
			ctl_say_done(done, what, a->pos[i]);
		else
			rc = CTL_FAILED;
	}
	return rc;
}

int ctl_show_object(struct ctl *c, const char *method, const char *path, const json_t *body,
                    ctl_rows_fn kv, ctl_json_fn json)
{
	json_t *obj = NULL;
	int rc = CTL_FAILED;

	if (ctl_api(c, method, path, body, &obj) == CTL_OK)
		rc = ctl_print_object(c, obj, kv, json);
	json_decref(obj);
	return rc;
}

int ctl_rename(struct ctl *c, const char *path, const char *name, ctl_rows_fn kv, ctl_json_fn json)
{
	json_t *body = json_pack("{s:s}", "name", name);
	int rc;

	if (!body) {
		out_error("the new name is not UTF-8 text");
		return CTL_FAILED;
	}
	rc = ctl_show_object(c, "PUT", path, body, kv, json);
	json_decref(body);
	return rc;
}

void ctl_say_done(const char *done, const char *what, const char *id)
{
	printf("%s %s %s\n", done, what, id);
	fflush(stdout);
}
