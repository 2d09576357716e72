/*
 * args.c - command lines: flags the way Go's flag package and urfave/cli
 * read them (-name or --name, a value as the next word or after =), plus
 * what influxctl's users rely on and urfave/cli v2 does not do: flags after
 * the positional arguments.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
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

size_t args_edit_distance(const char *a, const char *b)
{
	/* optimal string alignment: a swap of two neighbours ("craete") is one edit */
	size_t la = strlen(a), lb = strlen(b);
	size_t d[ARGS_WORD_MAX + 1][ARGS_WORD_MAX + 1];

	if (la > ARGS_WORD_MAX || lb > ARGS_WORD_MAX)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

bool args_close_enough(const char *typed, const char *candidate, size_t distance)
{
	/* a third of the word may be wrong: "managment" is management, "list" is not "get" */
	size_t n = strlen(typed) > strlen(candidate) ? strlen(typed) : strlen(candidate);

	return distance > 0 && distance <= 2 && distance * 3 <= n;
}

/* The defined flag nearest to name (len bytes), NULL when none is near. */
static const char *nearest_flag(const struct ctl_flag *flags, const struct ctl_flag *more,
                                const char *name, size_t len)
{
	char typed[ARGS_WORD_MAX + 1];
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	if (len > ARGS_WORD_MAX)
		return NULL;
	memcpy(typed, name, len);
	typed[len] = '\0';
	for (int set = 0; set < 2; set++) {
		const struct ctl_flag *f = set == 0 ? flags : more;

		for (int i = 0; f && f[i].name; i++) {
			size_t d = args_edit_distance(typed, f[i].name);

			if (d < best_d && args_close_enough(typed, f[i].name, d)) {
				best = f[i].name;
				best_d = d;
			}
		}
	}
	return best;
}

/*
 * A word given as a flag's value that is itself one of the command's flags:
 * mostly a value that came out empty ("--expires-at $(date -v+1d)" where that
 * date fails), so the flag would swallow the next one.
 */
static bool names_a_flag(const char *word, const struct ctl_flag *flags,
                         const struct ctl_flag *more)
{
	const char *name, *eq;
	size_t len;

	if (word[0] != '-' || word[1] == '\0' || (word[1] >= '0' && word[1] <= '9'))
		return false;
	name = word + (word[1] == '-' ? 2 : 1);
	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	return (len == 4 && strncmp(name, "help", 4) == 0) || flag_index(flags, name, len) >= 0 ||
	       flag_index(more, name, len) >= 0;
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
		if (i < 0) {
			const char *near =
			    nearest_flag(flags, globals ? globals->flags : NULL, name, len);

			if (near)
				return args_usage_error(
				    out, "flag provided but not defined: %s (did you mean --%s?)",
				    shown, near);
			return args_usage_error(out, "flag provided but not defined: %s", shown);
		}
		if (eq) {
			value = eq + 1;
		} else if (into->flags[i].kind != FLAG_BOOL) {
			if (k + 1 >= argc)
				return args_usage_error(out, "flag needs an argument: %s", shown);
			if (names_a_flag(argv[k + 1], flags, globals ? globals->flags : NULL))
				return args_usage_error(
				    out,
				    "%s needs a value, but the next word is the flag %.64s "
				    "(was the value empty, such as a $(...) that failed?); "
				    "give %s a value, or write %s=VALUE when the value "
				    "starts with -",
				    shown, argv[k + 1], shown, shown);
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

int args_expiring_within(const struct ctl_args *a, char *path, size_t pathsize)
{
	const char *v = args_value(a, "expiring-within");
	char err[160];
	int64_t ns, ms;
	size_t len = strlen(path);
	int n;

	if (!v)
		return CTL_OK;
	if (duration_parse(v, &ns, err, sizeof(err)) != 0)
		return args_usage_error(a, "--expiring-within: %s", err);
	if (ns <= 0)
		return args_usage_error(a, "--expiring-within must be longer than 0, such as 7d");
	ms = ns / 1000000 + (ns % 1000000 != 0);
	n = snprintf(path + len, pathsize - len, "%sexpiringWithin=%lldms",
	             strchr(path, '?') ? "&" : "?", (long long)ms);
	if (n < 0 || (size_t)n >= pathsize - len) {
		out_error("the list's address is too long");
		return CTL_FAILED;
	}
	return CTL_OK;
}

int args_instant(const struct ctl_args *a, const char *name, char out[RFC3339_SIZE])
{
	const char *v = args_value(a, name);
	int64_t ms;

	out[0] = '\0';
	if (!v)
		return CTL_OK;
	if (time_parse_rfc3339(v, &ms) != 0)
		return args_usage_error(
		    a,
		    "--%s must be an RFC 3339 date-time such as "
		    "2030-01-01T00:00:00Z or 2030-01-01T00:00:00+0000, not \"%s\"",
		    name, v);
	time_format_rfc3339(ms, out);
	return CTL_OK;
}
