/*
 * rules.h - what makes a value acceptable, shared by the REST handlers, the
 * offline CLI and the seed so that the three cannot disagree. Each check
 * returns NULL when the value is fine, else a sentence saying what is wrong.
 */
#ifndef MGMTD_RULES_H
#define MGMTD_RULES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define RULE_DESCRIPTION_MAX 1024 /* code points */
#define RULE_EMAIL_MAX       320  /* bytes */
#define RULE_NAME_MAX        256  /* code points, first and last names */
#define RULE_SUBJECT_MAX     1024 /* bytes */

/* Management-token description: non-blank, at most 1024 code points. */
const char *rule_description(const char *s);

/* An email: one "@" with text on both sides, no spaces or controls, bounded. */
const char *rule_email(const char *s);

/* A first or last name: non-empty, clean text, bounded. */
const char *rule_person_name(const char *s);

/* An IdP subject: non-empty, clean text, bounded. */
const char *rule_idp_subject(const char *s);

/* An expiry: in the future of now. */
const char *rule_expiry(int64_t expires_at, int64_t now);

/* ---- databases, tables, database tokens (CONTRACT 4) ---- */

#define RULE_DB_NAME_MAX        64     /* bytes, [A-Za-z0-9_/-] */
#define RULE_TABLE_NAME_MAX     255    /* bytes, [A-Za-z0-9_.-] */
#define RULE_TEMPLATE_PARTS_MAX 8      /* parts of a partition template */
#define RULE_TEMPLATE_VALUE_MAX 200    /* bytes of a tag name or time format */
#define RULE_BUCKETS_MAX        100000 /* numberOfBuckets of a bucket part */
#define RULE_INT32_MAX          2147483647
#define RULE_WHY_SIZE           256

/* A new database's limits when none are given (the real service's defaults). */
#define RULE_DB_DEFAULT_MAX_TABLES  500
#define RULE_DB_DEFAULT_MAX_COLUMNS 250

/* A database name: 1 to 64 of A-Z a-z 0-9 _ - /, not starting with "_". */
const char *rule_database_name(const char *s);

/* A table name: 1 to 255 of A-Z a-z 0-9 _ - ., not starting with "_" or ".". */
const char *rule_table_name(const char *s);

/*
 * A partition template as received (CONTRACT 4.1): an array of 1 to 8
 * unique parts, each {"type":"time","value":strftime} (only %Y, %m, %d),
 * {"type":"tag","value":tagName} or {"type":"bucket","value":{"tagName":..,
 * "numberOfBuckets":1..100000}}; at most one time part, each tag name at most
 * once. Returns NULL, or why (written into why) it is refused.
 */
const char *rule_partition_template(const json_t *v, char why[RULE_WHY_SIZE]);

/*
 * Database-token permissions as received: an array of {"action":
 * "read"|"write", "resource": database name or "*"}. Exact repeats are
 * dropped (the first one stays). Fills out[0..*n) and returns NULL, or why
 * they are refused. Whether each named database exists is for the caller.
 */
const char *rule_permissions(const json_t *v,
                             struct store_db_permission out[STORE_DB_TOKEN_MAX_PERMISSIONS],
                             size_t *n, char why[RULE_WHY_SIZE]);

#endif
