/*
 * faults.c - the test harness's injected faults: a short list of rules under one
 * mutex (a test device's traffic, not a hot path).
 */
#include <fnmatch.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"

struct rule {
	char method[16]; /* "" = any */
	char path[512];
	enum fault_action action;
	enum fault_named named;
	unsigned status;
	int delay_ms;
	double probability;
	uint64_t seed;
	uint64_t state; /* the generator's, from seed */
	long times;     /* 0 = no bound */
	long applied;
};

struct faults {
	pthread_mutex_t lock;
	struct rule rules[FAULTS_MAX_RULES];
	size_t count;
};

struct faults *faults_new(void)
{
	struct faults *f = calloc(1, sizeof(*f));

	if (f != NULL && pthread_mutex_init(&f->lock, NULL) != 0) {
		free(f);
		return NULL;
	}
	return f;
}

void faults_free(struct faults *f)
{
	if (f == NULL)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static const char *const named_names[] = {
    [FAULT_NAMED_NONE] = NULL,
    [FAULT_IDP_KEYS_UNAVAILABLE] = "idp_keys_unavailable",
    [FAULT_STORE_READ_ONLY] = "store_read_only",
    [FAULT_STORE_FULL] = "store_full",
    [FAULT_SLOW_COMMIT] = "slow_commit",
};

#define NAMED_COUNT (sizeof(named_names) / sizeof(named_names[0]))

const char *fault_named_name(enum fault_named n)
{
	return (size_t)n < NAMED_COUNT ? named_names[n] : NULL;
}

/* SplitMix64: small, and the same numbers from the same seed everywhere. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static const char *refuse(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const char *refuse(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return buf;
}

/* One rule from its JSON; NULL or why not. */
static const char *parse_rule(const json_t *o, size_t i, struct rule *r, char *buf, size_t size)
{
	static const char *const keys[] = {"method", "path",  "status", "delayMs",
	                                   "drop",   "reset", "inject", "probability",
	                                   "seed",   "times", NULL};
	const char *key, *method, *path;
	json_t *v;
	int actions = 0;

	if (!json_is_object(o))
		return refuse(buf, size, "rules[%zu] must be an object", i);
	json_object_foreach((json_t *)o, key, v)
	{
		bool known = false;

		for (size_t k = 0; keys[k]; k++)
			known |= strcmp(keys[k], key) == 0;
		if (!known)
			return refuse(buf, size, "rules[%zu]: unknown field \"%.64s\"", i, key);
	}
	memset(r, 0, sizeof(*r));
	method = json_string_value(json_object_get(o, "method"));
	path = json_string_value(json_object_get(o, "path"));
	if (json_object_get(o, "method") && (!method || strlen(method) >= sizeof(r->method)))
		return refuse(buf, size, "rules[%zu].method must be an HTTP method such as GET", i);
	if (!path || !path[0] || path[0] != '/' || strlen(path) >= sizeof(r->path))
		return refuse(buf, size,
		              "rules[%zu].path must be a path or a glob starting with /, such as "
		              "/api/v0/*/tokens",
		              i);
	if (strncmp(path, "/_test/", 7) == 0)
		return refuse(buf, size,
		              "rules[%zu].path: the test harness's own paths take no "
		              "faults",
		              i);
	snprintf(r->method, sizeof(r->method), "%s", method && strcmp(method, "*") ? method : "");
	snprintf(r->path, sizeof(r->path), "%s", path);
	if ((v = json_object_get(o, "status")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 100 ||
		    json_integer_value(v) > 599)
			return refuse(buf, size, "rules[%zu].status must be from 100 to 599", i);
		r->action = FAULT_STATUS;
		r->status = (unsigned)json_integer_value(v);
		actions++;
	}
	if ((v = json_object_get(o, "delayMs")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > FAULTS_MAX_DELAYMS)
			return refuse(buf, size, "rules[%zu].delayMs must be from 1 to 60000", i);
		r->action = FAULT_DELAY;
		r->delay_ms = (int)json_integer_value(v);
		actions++;
	}
	if ((v = json_object_get(o, "inject")) != NULL) {
		const char *name = json_string_value(v);

		for (size_t k = 1; name != NULL && k < NAMED_COUNT; k++)
			if (strcmp(named_names[k], name) == 0)
				r->named = (enum fault_named)k;
		if (r->named == FAULT_NAMED_NONE)
			return refuse(buf, size,
			              "rules[%zu].inject must be one of idp_keys_unavailable, "
			              "store_read_only, store_full, slow_commit",
			              i);
		/* slow_commit's delayMs is how long each commit waits, not an action of its own */
		if (r->named == FAULT_SLOW_COMMIT && json_object_get(o, "delayMs") == NULL)
			return refuse(buf, size,
			              "rules[%zu]: inject slow_commit needs delayMs, how long each "
			              "commit waits (1 to 60000)",
			              i);
		if (r->named == FAULT_SLOW_COMMIT)
			actions--;
		r->action = FAULT_INJECT;
		actions++;
	}
	if ((v = json_object_get(o, "drop")) != NULL) {
		if (!json_is_true(v))
			return refuse(buf, size, "rules[%zu].drop can only be true", i);
		r->action = FAULT_DROP;
		actions++;
	}
	if ((v = json_object_get(o, "reset")) != NULL) {
		if (!json_is_true(v))
			return refuse(buf, size, "rules[%zu].reset can only be true", i);
		r->action = FAULT_RESET;
		actions++;
	}
	if (actions != 1)
		return refuse(buf, size,
		              "rules[%zu] must do exactly one of status, delayMs, drop, reset, "
		              "inject",
		              i);
	r->probability = 1.0;
	if ((v = json_object_get(o, "probability")) != NULL) {
		if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
			return refuse(buf, size, "rules[%zu].probability must be from 0 to 1", i);
		r->probability = json_number_value(v);
	}
	r->seed = 1;
	if ((v = json_object_get(o, "seed")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return refuse(buf, size, "rules[%zu].seed must be an integer from 0", i);
		r->seed = (uint64_t)json_integer_value(v);
	}
	r->state = r->seed;
	if ((v = json_object_get(o, "times")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return refuse(buf, size, "rules[%zu].times must be an integer from 1", i);
		r->times = (long)json_integer_value(v);
	}
	return NULL;
}

const char *faults_set(struct faults *f, const json_t *rules, char *buf, size_t bufsize)
{
	struct rule *parsed;
	const json_t *o;
	const char *why = NULL;
	size_t i, n;

	if (!json_is_array(rules))
		return refuse(buf, bufsize, "rules must be an array of rules");
	n = json_array_size(rules);
	if (n > FAULTS_MAX_RULES)
		return refuse(buf, bufsize, "at most %d rules", FAULTS_MAX_RULES);
	parsed = calloc(n ? n : 1, sizeof(*parsed));
	if (parsed == NULL)
		return refuse(buf, bufsize, "out of memory");
	json_array_foreach(rules, i, o)
	{
		if ((why = parse_rule(o, i, &parsed[i], buf, bufsize)) != NULL)
			break;
	}
	if (why == NULL) {
		pthread_mutex_lock(&f->lock);
		memcpy(f->rules, parsed, n * sizeof(*parsed));
		f->count = n;
		pthread_mutex_unlock(&f->lock);
	}
	free(parsed);
	return why;
}

static const char *action_name(enum fault_action a)
{
	switch (a) {
	case FAULT_STATUS:
		return "status";
	case FAULT_DELAY:
		return "delayMs";
	case FAULT_DROP:
		return "drop";
	case FAULT_RESET:
		return "reset";
	case FAULT_INJECT:
		return "inject";
	case FAULT_NONE:
		break;
	}
	return "none";
}

json_t *faults_list(struct faults *f)
{
	json_t *out = json_array();

	if (out == NULL)
		return NULL;
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->count; i++) {
		const struct rule *r = &f->rules[i];
		json_t *o =
		    json_pack("{s:s, s:s, s:f, s:I, s:I}", "method", r->method[0] ? r->method : "*",
		              "path", r->path, "probability", r->probability, "seed",
		              (json_int_t)r->seed, "applied", (json_int_t)r->applied);
		json_t *what = r->action == FAULT_STATUS   ? json_integer(r->status)
		               : r->action == FAULT_DELAY  ? json_integer(r->delay_ms)
		               : r->action == FAULT_INJECT ? json_string(fault_named_name(r->named))
		                                           : json_true();

		/* set_new and append_new take their value even when they fail */
		if (o == NULL) {
			json_decref(what);
			goto oom;
		}
		if (json_object_set_new(o, action_name(r->action), what) != 0 ||
		    (r->named == FAULT_SLOW_COMMIT &&
		     json_object_set_new(o, "delayMs", json_integer(r->delay_ms)) != 0) ||
		    (r->times && json_object_set_new(o, "times", json_integer(r->times)) != 0)) {
			json_decref(o);
			goto oom;
		}
		if (json_array_append_new(out, o) != 0)
			goto oom;
	}
	pthread_mutex_unlock(&f->lock);
	return out;
oom:
	pthread_mutex_unlock(&f->lock);
	json_decref(out);
	return NULL;
}

void faults_clear(struct faults *f)
{
	pthread_mutex_lock(&f->lock);
	f->count = 0;
	pthread_mutex_unlock(&f->lock);
}

struct fault_decision faults_decide(struct faults *f, const char *method, const char *path)
{
	struct fault_decision d = {.action = FAULT_NONE, .rule = -1};

	if (strncmp(path, "/_test/", 7) == 0)
		return d;
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->count; i++) {
		struct rule *r = &f->rules[i];
		double draw;

		if ((r->method[0] && strcmp(r->method, method) != 0) ||
		    fnmatch(r->path, path, 0) != 0 || (r->times && r->applied >= r->times))
			continue;
		/* 53 random bits as a fraction in [0, 1): a probability of 1 always acts */
		draw = (double)(next_random(&r->state) >> 11) / 9007199254740992.0;
		if (draw >= r->probability)
			continue;
		r->applied++;
		d.action = r->action;
		d.status = r->status;
		d.delay_ms = r->delay_ms;
		d.named = r->named;
		d.rule = (int)i;
		break;
	}
	pthread_mutex_unlock(&f->lock);
	return d;
}
