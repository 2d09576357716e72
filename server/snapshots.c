/*
 * snapshots.c - the named snapshots of a test server (snapshots.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "snapshots.h"
#include "timeutil.h"

struct kept_snapshot {
	struct snapshot_info info;
	char *text;
	size_t len;
	struct tenants *tenants;
	struct kept_snapshot *next; /* newer */
};

struct snapshots {
	pthread_mutex_t lock;
	struct kept_snapshot *first; /* oldest */
	size_t count;
};

struct snapshots *snapshots_new(void)
{
	struct snapshots *s = calloc(1, sizeof(*s));

	if (s != NULL && pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void kept_free(struct kept_snapshot *k)
{
	free(k->text);
	tenants_free(k->tenants);
	free(k);
}

void snapshots_free(struct snapshots *s)
{
	struct kept_snapshot *k;

	if (s == NULL)
		return;
	while ((k = s->first) != NULL) {
		s->first = k->next;
		kept_free(k);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

bool snapshot_name_valid(const char *name)
{
	size_t n = strlen(name);

	/* a letter or digit first: no "." or ".." that a reader could take for a path */
	if (n == 0 || n >= SNAPSHOT_NAME_SIZE ||
	    !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	      (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return false;
	return true;
}

/* The snapshot of that name and the link that points at it; NULL when none. */
static struct kept_snapshot **find_locked(struct snapshots *s, const char *name)
{
	for (struct kept_snapshot **p = &s->first; *p; p = &(*p)->next)
		if (strcmp((*p)->info.name, name) == 0)
			return p;
	return NULL;
}

int snapshots_put(struct snapshots *s, const struct snapshot_info *info, const char *text,
                  size_t len, struct tenants *tenants)
{
	struct kept_snapshot *k = calloc(1, sizeof(*k)), **old, **end;

	if (k == NULL || (k->text = malloc(len + 1)) == NULL) {
		free(k);
		tenants_free(tenants);
		return -1;
	}
	memcpy(k->text, text, len);
	k->text[len] = '\0';
	k->len = len;
	k->info = *info;
	k->tenants = tenants;
	pthread_mutex_lock(&s->lock);
	old = find_locked(s, info->name);
	if (old == NULL && s->count == SNAPSHOTS_MAX) {
		pthread_mutex_unlock(&s->lock);
		kept_free(k);
		return -2;
	}
	if (old != NULL) { /* replaced: it goes, the new one is the newest */
		struct kept_snapshot *gone = *old;

		*old = gone->next;
		kept_free(gone);
		s->count--;
	}
	for (end = &s->first; *end; end = &(*end)->next)
		;
	*end = k;
	s->count++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

char *snapshots_get(struct snapshots *s, const char *name, struct snapshot_info *info, size_t *len,
                    struct tenants *tenants_out)
{
	struct kept_snapshot **k;
	char *text = NULL;

	*len = 0;
	pthread_mutex_lock(&s->lock);
	k = find_locked(s, name);
	if (k != NULL) {
		*len = 1;
		text = malloc((*k)->len + 1);
		if (text != NULL &&
		    (tenants_out == NULL || tenants_copy(tenants_out, (*k)->tenants, NULL) == 0)) {
			memcpy(text, (*k)->text, (*k)->len + 1);
			*len = (*k)->len;
			*info = (*k)->info;
		} else {
			free(text);
			text = NULL;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return text;
}

json_t *snapshots_list(struct snapshots *s)
{
	json_t *list = json_array();
	char at[RFC3339_SIZE];

	if (list == NULL)
		return NULL;
	pthread_mutex_lock(&s->lock);
	for (struct kept_snapshot *k = s->first; k; k = k->next) {
		json_t *item;

		time_format_rfc3339(k->info.taken_at, at);
		item = json_pack("{s:s,s:s,s:I}", "name", k->info.name, "takenAt", at, "rows",
		                 (json_int_t)k->info.rows);
		/* each _new call takes its value, also when it fails */
		if (item != NULL && k->info.account_id[0] &&
		    json_object_set_new(item, "accountId", json_string(k->info.account_id)) != 0) {
			json_decref(item);
			item = NULL;
		}
		if (item == NULL || json_array_append_new(list, item) != 0) {
			json_decref(list);
			list = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return list;
}

int snapshots_drop(struct snapshots *s, const char *name)
{
	struct kept_snapshot **k, *gone = NULL;

	pthread_mutex_lock(&s->lock);
	k = find_locked(s, name);
	if (k != NULL) {
		gone = *k;
		*k = gone->next;
		s->count--;
	}
	pthread_mutex_unlock(&s->lock);
	if (gone == NULL)
		return -1;
	kept_free(gone);
	return 0;
}
