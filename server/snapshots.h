/*
 * snapshots.h - the named snapshots a test server keeps ([testing],
 * /_test/snapshots): each the seed text of a snapshot (snapshot.h) with the tenants
 * (tenants.h) that existed when it was taken, so that a restore brings back both.
 *
 * In memory only, gone with the process. Safe from any thread.
 */
#ifndef MGMTD_SNAPSHOTS_H
#define MGMTD_SNAPSHOTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tenants.h"
#include "util.h"

#define SNAPSHOTS_MAX      64
#define SNAPSHOT_NAME_SIZE 65 /* 1 to 64 of A-Z a-z 0-9 . _ -, a letter or digit first */

struct snapshots;

struct snapshot_info {
	char name[SNAPSHOT_NAME_SIZE];
	char account_id[UUID_STR_SIZE]; /* "" for the whole store */
	int64_t taken_at;               /* ms, by the server's clock */
	size_t rows;
};

/* An empty set; NULL when out of memory. */
struct snapshots *snapshots_new(void);
void snapshots_free(struct snapshots *s);

bool snapshot_name_valid(const char *name);

/*
 * Keeps text (the seed text of the snapshot, len bytes, copied) under info->name,
 * replacing one of that name, with tenants, which it takes (freed with the set).
 * -1 when out of memory (tenants is freed), -2 when SNAPSHOTS_MAX others are kept.
 */
int snapshots_put(struct snapshots *s, const struct snapshot_info *info, const char *text,
                  size_t len, struct tenants *tenants);

/*
 * A copy of the snapshot's text (free() it), its info in *info, and its tenants copied
 * into tenants_out when not NULL. NULL when there is none of that name (*len 0) or
 * memory runs out (*len 1).
 */
char *snapshots_get(struct snapshots *s, const char *name, struct snapshot_info *info, size_t *len,
                    struct tenants *tenants_out);

/* Every snapshot's info, oldest first, as a JSON array; NULL when out of memory. */
json_t *snapshots_list(struct snapshots *s);

/* 0, or -1 when there is none of that name. */
int snapshots_drop(struct snapshots *s, const char *name);

#endif
