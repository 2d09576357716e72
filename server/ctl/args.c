/*
 * args.c - command lines: flags the way Go's flag package and urfave/cli
 * read them (-name or --name, a value as the next word or after =), plus
 * what influxctl's users rely on and urfave/cli v2 does not do: flags after
 * the positional arguments.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "duration.h"
#include "output.h"
#include "timeutil.h"

static int flag_index(const struct ctl_flag *flags, const char *name, size_t len)
{
	for (int i = 0; flags && flags[i].name; i++) {
		if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
			return i;
	}
	return -1;
}

static void print_usage(const struct ctl_command *cmd)
{
	if (cmd) {
		commands_usage_line(stderr, cmd);
		fprintf(stderr, "Run 'mgmtctl %s %s --help' for the options.\n", cmd->noun,
		        cmd->verb);
	} else {
		fprintf(stderr, "Run 'mgmtctl --help' for the commands and global options.\n");
	}
}

int args_usage_error(const struct ctl_args *a, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("error\t", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_usage(a ? a->cmd : NULL);
	return CTL_USAGE;
}

/* Stores one flag's value; CTL_USAGE when it cannot take it. */
static int store(struct ctl_args *a, int i, const char *value, const char *shown)
{
	const struct ctl_flag *f = &a->flags[i];

	if (f->kind == FLAG_BOOL) {
		if (!value)
			value = "true";
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
			return args_usage_error(
			    a, "%s takes no value (or =true, =false), not \"%s\"", shown, value);
	}
	if (f->choices && f->kind != FLAG_BOOL) {
		size_t n = strlen(value);
		const char *c = f->choices;
		bool ok = false;

		while (*c && !ok) {
			size_t len = strcspn(c, " ");

			ok = len == n && strncmp(c, value, n) == 0;
			c += len + (c[len] == ' ');
		}
		if (!ok)
			return args_usage_error(a, "%s must be one of: %s (not \"%s\")", shown,
			                        f->choices, value);
	}
	if (f->kind == FLAG_LIST) {
		if (a->list_count[i] == CTL_MAX_LIST)
			return args_usage_error(a, "%s is given more than %d times", shown,
			                        CTL_MAX_LIST);
		a->list[i][a->list_count[i]++] = value;
	}
	a->given[i] = true;
	a->value[i] = value;
	return CTL_OK;
}

int args_parse(const struct ctl_command *cmd, const struct ctl_flag *flags, int argc, char **argv,
               struct ctl_args *out, struct ctl_args *globals)
{
	bool only_args = false;

	memset(out, 0, sizeof(*out));
	out->cmd = cmd;
	out->flags = flags;
	out->pos = calloc((size_t)argc + 1, sizeof(char *));
	if (!out->pos) {
		out_error("out of memory");
		return CTL_FAILED;
	}
	for (int k = 0; k < argc; k++) {
		const char *arg = argv[k], *name, *eq, *value = NULL;
		struct ctl_args *into = out;
		char shown[96];
		size_t len;
		int i;

		if (only_args || arg[0] != '-' || arg[1] == '\0') {
			out->pos[out->npos++] = argv[k];
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_args = true;
			continue;
		}
		name = arg + (arg[1] == '-' ? 2 : 1);
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		snprintf(shown, sizeof(shown), "--%.*s", (int)(len > 64 ? 64 : len), name);
		if ((len == 1 && name[0] == 'h') || (len == 4 && strncmp(name, "help", 4) == 0)) {
			if (cmd)
				commands_help_command(stdout, cmd);
			else
				commands_help_top(stdout);
			return -1;
		}
		i = flag_index(flags, name, len);
		if (i < 0 && globals) {
			i = flag_index(globals->flags, name, len);
			into = globals;
		}
		if (i < 0)
			return args_usage_error(out, "flag provided but not defined: %s", shown);
		if (eq) {
			value = eq + 1;
		} else if (into->flags[i].kind != FLAG_BOOL) {
			if (k + 1 >= argc)
				return args_usage_error(out, "flag needs an argument: %s", shown);
			value = argv[++k];
		}
		if (store(into, i, value, shown) != CTL_OK)
			return CTL_USAGE;
	}
	if (cmd && (int)out->npos < cmd->min_args)
		return args_usage_error(out, "%s",
		                        cmd->min_args == 1 && cmd->max_args == 1
		                            ? "one argument is required"
		                            : "not enough arguments");
	if (cmd && cmd->max_args >= 0 && (int)out->npos > cmd->max_args)
		return args_usage_error(out, "too many arguments (\"%s\" is one too many)",
		                        out->pos[cmd->max_args]);
	return CTL_OK;
}

static int find(const struct ctl_args *a, const char *name)
{
	return flag_index(a->flags, name, strlen(name));
}

const char *args_value(const struct ctl_args *a, const char *name)
{
	int i = find(a, name);

	return i >= 0 && a->given[i] ? a->value[i] : NULL;
}

bool args_bool(const struct ctl_args *a, const char *name)
{
	const char *v = args_value(a, name);

	return v && strcmp(v, "true") == 0;
}

bool args_given(const struct ctl_args *a, const char *name)
{
	int i = find(a, name);

	return i >= 0 && a->given[i];
}

const char *const *args_list(const struct ctl_args *a, const char *name, size_t *n)
{
	int i = find(a, name);

	*n = i >= 0 ? a->list_count[i] : 0;
	return i >= 0 ? a->list[i] : NULL;
}

int args_format(struct ctl *c, const struct ctl_args *a)
{
	const char *f = args_value(a, "format");

	c->json = false;
	if (!f || strcmp(f, "table") == 0)
		return CTL_OK;
	if (strcmp(f, "json") == 0) {
		c->json = true;
		return CTL_OK;
	}
	return args_usage_error(a, "--format must be table or json, not \"%s\"", f);
}

int args_int(const struct ctl_args *a, const char *name, long long min, long long max,
             long long *out, bool *given)
{
	const char *v = args_value(a, name);
	long long n;
	char *end;

	*given = v != NULL;
	if (!v)
		return CTL_OK;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (v[0] == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
		return args_usage_error(a,
		                        "--%s must be a whole number from %lld to %lld, not \"%s\"",
		                        name, min, max, v);
	*out = n;
	return CTL_OK;
}

int args_instant(const struct ctl_args *a, const char *name, char out[RFC3339_SIZE])
{
	const char *v = args_value(a, name);
	int64_t ms;

	out[0] = '\0';
	if (!v)
		return CTL_OK;
	if (instant_parse(v, &ms) != 0)
		return args_usage_error(
		    a,
		    "--%s must be an RFC 3339 date-time such as "
		    "2030-01-01T00:00:00Z or 2030-01-01T00:00:00+0000, not \"%s\"",
		    name, v);
	time_format_rfc3339(ms, out);
	return CTL_OK;
}
