/*
 * journal.c - the test harness's request journal: a ring of rendered entries under
 * one mutex (a test device's traffic, not a hot path).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "journal.h"
#include "timeutil.h"

struct entry {
	int64_t seq; /* 0: empty slot */
	char *text;  /* the entry's JSON object */
	char *method;
	char *route;
	char *actor;
	unsigned status;
};

struct journal {
	pthread_mutex_t lock;
	struct entry *slots;
	size_t capacity;
	size_t next;      /* the slot the next entry takes */
	int64_t last_seq; /* rises with every entry, never reused */
	uint64_t dropped; /* entries that could not be copied */
};

struct journal *journal_new(size_t capacity)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (j == NULL || capacity == 0)
		goto fail;
	j->slots = calloc(capacity, sizeof(*j->slots));
	if (j->slots == NULL || pthread_mutex_init(&j->lock, NULL) != 0)
		goto fail;
	j->capacity = capacity;
	return j;
fail:
	if (j)
		free(j->slots);
	free(j);
	return NULL;
}

static void entry_clear(struct entry *e)
{
	free(e->text);
	free(e->method);
	free(e->route);
	free(e->actor);
	memset(e, 0, sizeof(*e));
}

void journal_free(struct journal *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; i < j->capacity; i++)
		entry_clear(&j->slots[i]);
	pthread_mutex_destroy(&j->lock);
	free(j->slots);
	free(j);
}

/* Keys whose values are secrets wherever they appear (JSON bodies and forms alike). */
static bool secret_key(const char *key)
{
	static const char *const names[] = {
	    "accessToken", "access_token", "token",         "mgmt_token",    "refresh_token",
	    "id_token",    "code",         "code_verifier", "device_code",   "client_secret",
	    "password",    "secret",       "assertion",     "authorization", NULL};

	for (size_t i = 0; names[i]; i++)
		if (strcasecmp(key, names[i]) == 0)
			return true;
	return false;
}

static bool b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/*
 * Where a credential starts in s (either token kind, or a JWT: "eyJ", base64url and
 * two dots), and through *end where it ends; NULL when s holds none.
 */
static const char *find_secret(const char *s, const char **end)
{
	for (const char *p = s; *p; p++) {
		const char *q = NULL;
		int dots = 0;

		if (strncmp(p, "M.V1.", 5) == 0)
			q = p + 5;
		else if (strncmp(p, "apiv1_", 6) == 0)
			q = p + 6;
		else if (strncmp(p, "eyJ", 3) == 0)
			q = p + 3;
		if (q == NULL)
			continue;
		while (b64url_char(*q) || (*q == '.' && p[0] == 'e' && ++dots <= 2))
			q++;
		if (p[0] == 'e' && dots < 2)
			continue; /* "eyJ" in a word, not a JWT */
		*end = q;
		return p;
	}
	return NULL;
}

/* s with every credential in it replaced; NULL when it holds none or out of memory. */
static json_t *redacted_text(const char *s)
{
	static const char mark[] = "[redacted]";
	const char *start, *end, *p = s;
	char *out, *w;
	json_t *v;

	if (find_secret(s, &end) == NULL)
		return NULL;
	/* never longer than s with a mark for every character, far more than needed */
	out = malloc(strlen(s) * sizeof(mark) + sizeof(mark));
	if (out == NULL)
		return NULL;
	w = out;
	while ((start = find_secret(p, &end)) != NULL) {
		memcpy(w, p, (size_t)(start - p));
		w += start - p;
		memcpy(w, mark, sizeof(mark) - 1);
		w += sizeof(mark) - 1;
		p = end;
	}
	strcpy(w, p);
	v = json_string(out);
	free(out);
	return v;
}

/* Replaces secrets inside v, a copy of the caller's. False when out of memory. */
static bool redact_in_place(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, item)
		{
			json_t *text = NULL;
			const char *end;

			if (secret_key(key) && !json_is_null(item)) {
				if (json_object_set_new(v, key, json_string("[redacted]")) != 0)
					return false;
			} else if (json_is_string(item) &&
			           find_secret(json_string_value(item), &end)) {
				text = redacted_text(json_string_value(item));
				if (text == NULL || json_object_set_new(v, key, text) != 0)
					return false;
			} else if (!redact_in_place(item)) {
				return false;
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			json_t *text = NULL;
			const char *end;

			if (json_is_string(item) && find_secret(json_string_value(item), &end)) {
				text = redacted_text(json_string_value(item));
				if (text == NULL || json_array_set_new(v, i, text) != 0)
					return false;
			} else if (!redact_in_place(item)) {
				return false;
			}
		}
	}
	return true;
}

json_t *journal_redact(const json_t *body)
{
	json_t *copy = json_deep_copy(body), *text;
	const char *end;

	if (copy && json_is_string(copy) && find_secret(json_string_value(copy), &end)) {
		text = redacted_text(json_string_value(copy));
		json_decref(copy);
		return text;
	}
	if (copy && !redact_in_place(copy)) {
		json_decref(copy);
		return NULL;
	}
	return copy;
}

/* The entry's JSON text; NULL when out of memory. */
static char *render(const struct journal_request *r, int64_t seq)
{
	char at[RFC3339_SIZE], *text = NULL;
	json_t *o, *body = NULL;

	time_format_rfc3339(r->at_ms, at);
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:{s:s, s:s*}, s:f}", "seq", (json_int_t)seq,
	              "at", at, "method", r->method ? r->method : "", "route",
	              r->route ? r->route : (r->path ? r->path : ""), "path",
	              r->path ? r->path : "", "status", (int)r->status, "actor", "kind",
	              r->actor_kind ? r->actor_kind : "none", "id",
	              r->actor_id && r->actor_id[0] ? r->actor_id : NULL, "durationMs",
	              (double)r->duration_us / 1000.0);
	if (o == NULL)
		return NULL;
	if (r->body) {
		char *dumped;

		body = journal_redact(r->body);
		dumped = body ? json_dumps(body, JSON_COMPACT) : NULL;
		if (dumped == NULL)
			goto out;
		/* too long a body is told by its size: a cut one would not be JSON */
		if (strlen(dumped) > JOURNAL_BODY_MAX) {
			json_decref(body);
			body = json_pack("{s:b, s:I}", "truncated", 1, "bytes",
			                 (json_int_t)r->raw_body_len);
		}
		free(dumped);
		if (body == NULL || json_object_set(o, "body", body) != 0)
			goto out;
	} else if (r->raw_body_len > 0) {
		/* a body that is not JSON or a form is never kept, only its size */
		if (json_object_set_new(o, "body",
		                        json_pack("{s:b, s:I}", "notJson", 1, "bytes",
		                                  (json_int_t)r->raw_body_len)) != 0)
			goto out;
	}
	/* durations to the microsecond, not to the last bit of a double */
	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
out:
	json_decref(body);
	json_decref(o);
	return text;
}

static char *dup_or_null(const char *s)
{
	return s && s[0] ? strdup(s) : NULL;
}

void journal_record(struct journal *j, const struct journal_request *r)
{
	struct entry e = {0};
	int64_t seq;

	pthread_mutex_lock(&j->lock);
	seq = ++j->last_seq;
	pthread_mutex_unlock(&j->lock);
	e.seq = seq;
	e.status = r->status;
	e.text = render(r, seq);
	e.method = dup_or_null(r->method);
	e.route = dup_or_null(r->route ? r->route : r->path);
	e.actor = dup_or_null(r->actor_id);
	pthread_mutex_lock(&j->lock);
	if (e.text == NULL || (r->method && r->method[0] && e.method == NULL)) {
		j->dropped++;
		pthread_mutex_unlock(&j->lock);
		entry_clear(&e);
		return;
	}
	/* Entries go in as they finish: a slower request may carry a lower seq. */
	entry_clear(&j->slots[j->next]);
	j->slots[j->next] = e;
	j->next = (j->next + 1) % j->capacity;
	pthread_mutex_unlock(&j->lock);
}

static bool matches(const struct entry *e, const struct journal_filter *f)
{
	if (e->seq == 0 || e->seq <= f->since)
		return false;
	if (f->method && (!e->method || strcmp(f->method, e->method) != 0))
		return false;
	if (f->route && (!e->route || strcmp(f->route, e->route) != 0))
		return false;
	if (f->status && f->status != e->status)
		return false;
	return !f->actor || (e->actor && strcmp(f->actor, e->actor) == 0);
}

/* Slot indices of the entries f matches, in seq order; the caller holds the lock. */
static size_t matching_slots(struct journal *j, const struct journal_filter *f, size_t *out)
{
	size_t n = 0;

	for (size_t k = 0; k < j->capacity; k++) {
		size_t i = (j->next + k) % j->capacity; /* oldest first */

		if (matches(&j->slots[i], f))
			out[n++] = i;
	}
	/* insertion order is finishing order; sort the few out of place by seq */
	for (size_t a = 1; a < n; a++) {
		size_t v = out[a], b = a;

		while (b > 0 && j->slots[out[b - 1]].seq > j->slots[v].seq) {
			out[b] = out[b - 1];
			b--;
		}
		out[b] = v;
	}
	return n;
}

char *journal_query(struct journal *j, const struct journal_filter *f, size_t *count, size_t *len)
{
	size_t *idx = malloc(j->capacity * sizeof(*idx)), n, total = 2, used = 0;
	char *text = NULL;

	if (idx == NULL)
		return NULL;
	pthread_mutex_lock(&j->lock);
	n = matching_slots(j, f, idx);
	for (size_t k = 0; k < n; k++)
		total += strlen(j->slots[idx[k]].text) + 1;
	text = malloc(total + 1);
	if (text != NULL) {
		text[used++] = '[';
		for (size_t k = 0; k < n; k++) {
			size_t l = strlen(j->slots[idx[k]].text);

			if (k > 0)
				text[used++] = ',';
			memcpy(text + used, j->slots[idx[k]].text, l);
			used += l;
		}
		text[used++] = ']';
		text[used] = '\0';
		*count = n;
		*len = used;
	}
	pthread_mutex_unlock(&j->lock);
	free(idx);
	return text;
}

size_t journal_count(struct journal *j, const struct journal_filter *f)
{
	size_t n = 0;

	pthread_mutex_lock(&j->lock);
	for (size_t i = 0; i < j->capacity; i++)
		n += matches(&j->slots[i], f);
	pthread_mutex_unlock(&j->lock);
	return n;
}

void journal_clear(struct journal *j)
{
	pthread_mutex_lock(&j->lock);
	for (size_t i = 0; i < j->capacity; i++)
		entry_clear(&j->slots[i]);
	j->next = 0;
	pthread_mutex_unlock(&j->lock);
}
