/*
 * lifecycle.c - the throttle of "used after rotation" audit rows (lifecycle.h).
 */
#include <pthread.h>
#include <string.h>

#include "lifecycle.h"
#include "util.h"

#define SLOTS 1024 /* a power of two */

struct slot {
	char token_id[UUID_STR_SIZE];
	int64_t last_row_at;
};

static struct slot slots[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* FNV-1a of the id: ids are random UUIDs, nobody chooses where they fall. */
static size_t slot_of(const char *token_id)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)token_id; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h & (SLOTS - 1);
}

bool lifecycle_late_use_audit_due(const char *token_id, int64_t now)
{
	struct slot *s = &slots[slot_of(token_id)];
	bool due;

	pthread_mutex_lock(&lock);
	due = strcmp(s->token_id, token_id) != 0 ||
	      now - s->last_row_at >= LIFECYCLE_LATE_USE_AUDIT_INTERVAL_MS ||
	      now < s->last_row_at; /* a clock set back (the test harness's) */
	if (due) {
		str_copy(s->token_id, sizeof(s->token_id), token_id);
		s->last_row_at = now;
	}
	pthread_mutex_unlock(&lock);
	return due;
}
