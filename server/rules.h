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

#define RULE_DESCRIPTION_MAX  1024 /* code points */
#define RULE_EMAIL_MAX        320  /* bytes */
#define RULE_NAME_MAX         256  /* code points, first and last names */
#define RULE_SUBJECT_MAX      1024 /* bytes */
#define RULE_DISPLAY_NAME_MAX 255  /* bytes, account and cluster names */
#define RULE_WHY_SIZE         256

/*
 * The checks below write why a value is refused into why, naming the field
 * as the caller calls it ("description", "firstName", "--first-name"), and
 * return why; or NULL when the value is fine.
 *
 * Text (every free-text field: descriptions, names, subjects, tag names):
 * valid UTF-8 without any character that util.h's text_hazard() flags, that
 * is no C0 or C1 control, DEL, bidirectional override, embedding or isolate,
 * line or paragraph separator, or invisible character; the message says
 * which character and where, "description must not contain control
 * characters (found U+009B at character 5)". The marks that scripts need
 * (ZWNJ, ZWJ, LRM, RLM, ALM) are text. docs/api.md, "Text fields", says why.
 */
const char *rule_text(const char *field, const char *s, char why[RULE_WHY_SIZE]);

/* A token's description: text, not blank, at most 1024 code points. */
const char *rule_description(const char *field, const char *s, char why[RULE_WHY_SIZE]);

/*
 * An email: text without spaces or any default-ignorable (invisible)
 * character, the directional and joining marks included, since it names a
 * person; one "@" with text on both sides; at most 320 bytes.
 */
const char *rule_email(const char *field, const char *s, char why[RULE_WHY_SIZE]);

/* A first or last name: text, not blank, at most 256 code points. */
const char *rule_person_name(const char *field, const char *s, char why[RULE_WHY_SIZE]);

/* An IdP subject: text, non-empty, at most 1024 bytes. */
const char *rule_idp_subject(const char *field, const char *s, char why[RULE_WHY_SIZE]);

/* An account's or a cluster's name (the seed): text, not blank, at most 255 bytes. */
const char *rule_display_name(const char *field, const char *s, char why[RULE_WHY_SIZE]);

/* An expiry: in the future of now. */
const char *rule_expiry(int64_t expires_at, int64_t now);

/* ---- databases, tables, database tokens (CONTRACT 4) ---- */

#define RULE_DB_NAME_MAX        64     /* bytes, [A-Za-z0-9_/-] */
#define RULE_TABLE_NAME_MAX     255    /* bytes, [A-Za-z0-9_.-] */
#define RULE_TEMPLATE_PARTS_MAX 8      /* parts of a partition template */
#define RULE_TEMPLATE_VALUE_MAX 200    /* bytes of a tag name or time format */
#define RULE_BUCKETS_MAX        100000 /* numberOfBuckets of a bucket part */
#define RULE_INT32_MAX          2147483647

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
