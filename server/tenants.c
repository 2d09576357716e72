/*
 * tenants.c - the test harness's tenant seeds: a short list under one mutex.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tenants.h"
#include "util.h"

struct kept {
	char account_id[UUID_STR_SIZE];
	char *text;
	size_t len;
	struct kept *next;
};

struct tenants {
	pthread_mutex_t lock;
	struct kept *first;
};

struct tenants *tenants_new(void)
{
	struct tenants *t = calloc(1, sizeof(*t));

	if (t != NULL && pthread_mutex_init(&t->lock, NULL) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

void tenants_text_free(char *text, size_t len)
{
	if (text == NULL)
		return;
	sodium_memzero(text, len);
	free(text);
}

static char *copy_of(const char *text, size_t len)
{
	char *c = malloc(len + 1);

	if (c != NULL) {
		memcpy(c, text, len);
		c[len] = '\0';
	}
	return c;
}

static void kept_free(struct kept *k)
{
	tenants_text_free(k->text, k->len);
	free(k);
}

/* Unlinks and frees the entry of account_id; the caller holds the lock. */
static void drop_locked(struct tenants *t, const char *account_id)
{
	for (struct kept **p = &t->first; *p; p = &(*p)->next) {
		if (strcmp((*p)->account_id, account_id) == 0) {
			struct kept *gone = *p;

			*p = gone->next;
			kept_free(gone);
			return;
		}
	}
}

int tenants_put(struct tenants *t, const char *account_id, const char *text, size_t len)
{
	struct kept *k = calloc(1, sizeof(*k));

	if (k == NULL || !str_copy(k->account_id, sizeof(k->account_id), account_id) ||
	    (k->text = copy_of(text, len)) == NULL) {
		free(k);
		return -1;
	}
	k->len = len;
	pthread_mutex_lock(&t->lock);
	drop_locked(t, account_id);
	k->next = t->first;
	t->first = k;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

char *tenants_get(struct tenants *t, const char *account_id, size_t *len)
{
	char *text = NULL;

	*len = 0;
	pthread_mutex_lock(&t->lock);
	for (struct kept *k = t->first; k; k = k->next) {
		if (strcmp(k->account_id, account_id) == 0) {
			text = copy_of(k->text, k->len);
			*len = text ? k->len : 1;
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return text;
}

int tenants_copy(struct tenants *dst, struct tenants *src, const char *account_id)
{
	struct kept *copies = NULL, *k;
	int rc = 0;

	/* Copied under src's lock, put under dst's: never both locks at once. */
	pthread_mutex_lock(&src->lock);
	for (struct kept *from = src->first; from && rc == 0; from = from->next) {
		if (account_id && strcmp(from->account_id, account_id) != 0)
			continue;
		k = calloc(1, sizeof(*k));
		if (k == NULL || (k->text = copy_of(from->text, from->len)) == NULL) {
			free(k);
			rc = -1;
			break;
		}
		memcpy(k->account_id, from->account_id, sizeof(k->account_id));
		k->len = from->len;
		k->next = copies;
		copies = k;
	}
	pthread_mutex_unlock(&src->lock);
	while ((k = copies) != NULL) {
		copies = k->next;
		if (rc == 0 && tenants_put(dst, k->account_id, k->text, k->len) != 0)
			rc = -1;
		kept_free(k);
	}
	return rc;
}

void tenants_forget(struct tenants *t, const char *account_id)
{
	pthread_mutex_lock(&t->lock);
	drop_locked(t, account_id);
	pthread_mutex_unlock(&t->lock);
}

void tenants_forget_all(struct tenants *t)
{
	struct kept *k;

	pthread_mutex_lock(&t->lock);
	k = t->first;
	t->first = NULL;
	pthread_mutex_unlock(&t->lock);
	while (k) {
		struct kept *next = k->next;

		kept_free(k);
		k = next;
	}
}

void tenants_free(struct tenants *t)
{
	if (t == NULL)
		return;
	tenants_forget_all(t);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
