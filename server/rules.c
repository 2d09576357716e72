/*
 * rules.c - value rules shared by the API, the CLI and the seed.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rules.h"
#include "util.h"

/* printf into why; returns why, so that a rule can `return refuse(why, ...)`. */
static const char *refuse(char why[RULE_WHY_SIZE], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *refuse(char why[RULE_WHY_SIZE], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, RULE_WHY_SIZE, fmt, ap);
	va_end(ap);
	return why;
}

/* What a character that text may not hold is, in the words of a message. */
static const char *hazard_words(enum text_hazard h)
{
	switch (h) {
	case TEXT_CONTROL:
		return "control characters";
	case TEXT_BIDI:
		return "bidirectional override or isolate characters";
	case TEXT_SEPARATOR:
		return "line or paragraph separators";
	case TEXT_INVISIBLE:
	case TEXT_PLAIN:
		break;
	}
	return "invisible characters";
}

/*
 * The text rule; an identifier (strict) also refuses every default-ignorable
 * character and every space, which would make two different values look the
 * same. Characters are counted from 1, as a person counts them.
 */
static const char *check_text(const char *field, const char *s, bool strict,
                              char why[RULE_WHY_SIZE])
{
	long at = 1;

	for (const char *p = s; *p != '\0'; at++) {
		enum text_hazard hazard;
		uint32_t cp;
		size_t n = utf8_decode(p, &cp);

		if (n == 0)
			return refuse(
			    why, "%s must be UTF-8 text (found the byte 0x%02X at character %ld)",
			    field, (unsigned)(unsigned char)*p, at);
		hazard = text_hazard(cp);
		if (hazard == TEXT_PLAIN && strict && text_is_default_ignorable(cp))
			hazard = TEXT_INVISIBLE;
		if (hazard != TEXT_PLAIN)
			return refuse(why, "%s must not contain %s (found U+%04X at character %ld)",
			              field, hazard_words(hazard), (unsigned)cp, at);
		if (strict && text_is_space(cp))
			return refuse(why,
			              "%s must not contain spaces (found U+%04X at character %ld)",
			              field, (unsigned)cp, at);
		p += n;
	}
	return NULL;
}

/* True when s (already checked as text) is empty or holds nothing but spaces. */
static bool is_blank(const char *s)
{
	uint32_t cp;

	for (size_t n; *s != '\0'; s += n) {
		n = utf8_decode(s, &cp);
		if (n == 0 || !text_is_space(cp))
			return false;
	}
	return true;
}

const char *rule_text(const char *field, const char *s, char why[RULE_WHY_SIZE])
{
	return check_text(field, s, false, why);
}

/* Text that is neither empty nor blank, of at most max characters (code points). */
static const char *check_line(const char *field, const char *s, long max, char why[RULE_WHY_SIZE])
{
	if (check_text(field, s, false, why) != NULL)
		return why;
	if (is_blank(s))
		return refuse(why, "%s must not be empty or blank", field);
	if (utf8_length(s) > max)
		return refuse(why, "%s must be at most %ld characters", field, max);
	return NULL;
}

const char *rule_description(const char *field, const char *s, char why[RULE_WHY_SIZE])
{
	return check_line(field, s, RULE_DESCRIPTION_MAX, why);
}

const char *rule_email(const char *field, const char *s, char why[RULE_WHY_SIZE])
{
	const char *at = strchr(s, '@');
	size_t len = strlen(s);

	if (len == 0)
		return refuse(why, "%s must not be empty", field);
	if (len > RULE_EMAIL_MAX)
		return refuse(why, "%s must be at most %d bytes", field, RULE_EMAIL_MAX);
	if (check_text(field, s, true, why) != NULL)
		return why;
	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return refuse(why, "%s must look like name@domain", field);
	return NULL;
}

const char *rule_person_name(const char *field, const char *s, char why[RULE_WHY_SIZE])
{
	return check_line(field, s, RULE_NAME_MAX, why);
}

const char *rule_idp_subject(const char *field, const char *s, char why[RULE_WHY_SIZE])
{
	size_t len = strlen(s);

	if (len == 0)
		return refuse(why, "%s must not be empty", field);
	if (len > RULE_SUBJECT_MAX)
		return refuse(why, "%s must be at most %d bytes", field, RULE_SUBJECT_MAX);
	return check_text(field, s, false, why);
}

const char *rule_display_name(const char *field, const char *s, char why[RULE_WHY_SIZE])
{
	/* bytes, not characters: the store keeps 255 of them */
	if (check_line(field, s, LONG_MAX, why) != NULL)
		return why;
	if (strlen(s) > RULE_DISPLAY_NAME_MAX)
		return refuse(why, "%s must be at most %d bytes", field, RULE_DISPLAY_NAME_MAX);
	return NULL;
}

const char *rule_expiry(int64_t expires_at, int64_t now)
{
	if (expires_at <= now)
		return "expiresAt must be in the future";
	return NULL;
}

/* ---- databases, tables, database tokens ---- */

static bool is_name_char(char c, const char *extra)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr(extra, c) != NULL);
}

/* Every byte of s is a name character; s is 1 to max bytes and does not start with "_". */
static bool is_name(const char *s, size_t max, const char *extra)
{
	size_t len = strlen(s);

	if (len == 0 || len > max || s[0] == '_')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(s[i], extra))
			return false;
	return true;
}

const char *rule_database_name(const char *s)
{
	if (!is_name(s, RULE_DB_NAME_MAX, "_-/"))
		return "database names are 1 to 64 characters of A-Z, a-z, 0-9, _, - and /, "
		       "not starting with _";
	return NULL;
}

const char *rule_table_name(const char *s)
{
	/* A leading "." would let "." and ".." in: path segments no client sends as is. */
	if (!is_name(s, RULE_TABLE_NAME_MAX, "_-.") || s[0] == '.')
		return "table names are 1 to 255 characters of A-Z, a-z, 0-9, _, - and ., "
		       "not starting with _ or .";
	return NULL;
}

/* NULL when obj has only keys from allowed (NULL-terminated), else the first other key. */
static const char *unknown_key(const json_t *obj, const char *const allowed[])
{
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)obj, key, value)
	{
		size_t i;

		(void)value;
		for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++)
			;
		if (allowed[i] == NULL)
			return key;
	}
	return NULL;
}

/* A tag name in a partition template: text, 1 to 200 bytes, not "time". */
static const char *check_tag_name(const json_t *v, const char *where, char why[RULE_WHY_SIZE])
{
	const char *s = json_string_value(v);
	size_t len;

	if (s == NULL)
		return refuse(why, "%s must be a string", where);
	if (rule_text(where, s, why) != NULL)
		return why;
	len = strlen(s);
	if (len == 0 || len > RULE_TEMPLATE_VALUE_MAX)
		return refuse(why, "%s must be 1 to 200 bytes", where);
	/* "time" is the timestamp column, not a tag. */
	if (strcmp(s, "time") == 0)
		return refuse(why, "%s must not be \"time\" (a reserved name)", where);
	return NULL;
}

/*
 * A time part's format: printable ASCII without the partition-key reserved
 * characters | ! ^ #, whose every % starts %Y, %m or %d (the date specifiers
 * the real service allows), with at least one of them.
 */
static const char *check_time_format(const json_t *v, const char *where, char why[RULE_WHY_SIZE])
{
	const char *s = json_string_value(v);
	int specifiers = 0;

	if (s == NULL)
		return refuse(why, "%s must be a string", where);
	if (s[0] == '\0' || strlen(s) > RULE_TEMPLATE_VALUE_MAX)
		return refuse(why, "%s must be 1 to 200 bytes", where);
	for (const char *p = s; *p; p++) {
		if (*p < 0x21 || *p > 0x7e || strchr("|!^#", *p) != NULL)
			return refuse(why,
			              "%s may hold only printable ASCII without spaces or | ! ^ #",
			              where);
		if (*p == '%') {
			if (p[1] != 'Y' && p[1] != 'm' && p[1] != 'd')
				return refuse(
				    why, "%s may use only the date specifiers %%Y, %%m and %%d",
				    where);
			specifiers++;
			p++;
		}
	}
	if (specifiers == 0)
		return refuse(why, "%s must use at least one of %%Y, %%m, %%d", where);
	return NULL;
}

const char *rule_partition_template(const json_t *v, char why[RULE_WHY_SIZE])
{
	static const char *const part_keys[] = {"type", "value", NULL};
	static const char *const bucket_keys[] = {"tagName", "numberOfBuckets", NULL};
	const char *tags[RULE_TEMPLATE_PARTS_MAX];
	size_t ntags = 0, nparts, i;
	bool have_time = false;
	const json_t *part;
	char where[64];

	if (!json_is_array(v) || (nparts = json_array_size(v)) == 0 ||
	    nparts > RULE_TEMPLATE_PARTS_MAX)
		return refuse(why, "partitionTemplate must be an array of 1 to %d parts",
		              RULE_TEMPLATE_PARTS_MAX);
	json_array_foreach(v, i, part)
	{
		const char *type, *bad, *tag = NULL;
		const json_t *value;

		if (!json_is_object(part))
			return refuse(why, "partitionTemplate[%zu] must be an object", i);
		if ((bad = unknown_key(part, part_keys)) != NULL)
			return refuse(why, "unknown field \"%.64s\" in partitionTemplate[%zu]", bad,
			              i);
		type = json_string_value(json_object_get(part, "type"));
		value = json_object_get(part, "value");
		if (type == NULL)
			return refuse(why,
			              "partitionTemplate[%zu].type must be time, tag or bucket", i);
		if (value == NULL)
			return refuse(why, "partitionTemplate[%zu].value is required", i);
		if (strcmp(type, "time") == 0) {
			snprintf(where, sizeof(where), "partitionTemplate[%zu].value", i);
			if (check_time_format(value, where, why) != NULL)
				return why;
			if (have_time)
				return refuse(why,
				              "a partition template has at most one time part");
			have_time = true;
		} else if (strcmp(type, "tag") == 0) {
			snprintf(where, sizeof(where), "partitionTemplate[%zu].value", i);
			if (check_tag_name(value, where, why) != NULL)
				return why;
			tag = json_string_value(value);
		} else if (strcmp(type, "bucket") == 0) {
			const json_t *n = json_object_get(value, "numberOfBuckets");

			if (!json_is_object(value))
				return refuse(why,
				              "partitionTemplate[%zu].value must be an object "
				              "{tagName, numberOfBuckets}",
				              i);
			if ((bad = unknown_key(value, bucket_keys)) != NULL)
				return refuse(
				    why, "unknown field \"%.64s\" in partitionTemplate[%zu].value",
				    bad, i);
			snprintf(where, sizeof(where), "partitionTemplate[%zu].value.tagName", i);
			if (json_object_get(value, "tagName") == NULL)
				return refuse(why, "%s is required", where);
			if (check_tag_name(json_object_get(value, "tagName"), where, why) != NULL)
				return why;
			if (!json_is_integer(n) || json_integer_value(n) < 1 ||
			    json_integer_value(n) > RULE_BUCKETS_MAX)
				return refuse(
				    why,
				    "partitionTemplate[%zu].value.numberOfBuckets must be an "
				    "integer from 1 to %d",
				    i, RULE_BUCKETS_MAX);
			tag = json_string_value(json_object_get(value, "tagName"));
		} else {
			return refuse(why,
			              "partitionTemplate[%zu].type must be time, tag or bucket", i);
		}
		if (tag == NULL)
			continue;
		/* A tag may partition once, by value or by bucket, not both. */
		for (size_t k = 0; k < ntags; k++)
			if (strcmp(tags[k], tag) == 0)
				return refuse(
				    why,
				    "the tag \"%.64s\" appears in more than one part of the "
				    "partition template",
				    tag);
		tags[ntags++] = tag;
	}
	return NULL;
}

const char *rule_permissions(const json_t *v,
                             struct store_db_permission out[STORE_DB_TOKEN_MAX_PERMISSIONS],
                             size_t *n, char why[RULE_WHY_SIZE])
{
	/* "id" as answered, so that a token's permissions can be sent back as read; ignored,
	 * since a permission's id follows from the token and the permission. */
	static const char *const keys[] = {"id", "action", "resource", NULL};
	const json_t *entry;
	size_t i;

	*n = 0;
	if (!json_is_array(v))
		return refuse(why, "permissions must be an array of {action, resource}");
	json_array_foreach(v, i, entry)
	{
		struct store_db_permission p;
		const char *action, *resource, *bad;
		bool repeat = false;

		if (!json_is_object(entry))
			return refuse(why, "permissions[%zu] must be an object {action, resource}",
			              i);
		if ((bad = unknown_key(entry, keys)) != NULL)
			return refuse(why, "unknown field \"%.64s\" in permissions[%zu]", bad, i);
		if (json_object_get(entry, "id") && !json_is_string(json_object_get(entry, "id")))
			return refuse(why, "permissions[%zu].id must be a string, as answered", i);
		action = json_string_value(json_object_get(entry, "action"));
		resource = json_string_value(json_object_get(entry, "resource"));
		memset(&p, 0, sizeof(p));
		if (db_action_parse(action, &p.action) != 0)
			return refuse(why, "permissions[%zu].action must be read or write", i);
		if (resource == NULL)
			return refuse(
			    why, "permissions[%zu].resource must be a database name or \"*\"", i);
		if (strcmp(resource, "*") != 0 && rule_database_name(resource) != NULL)
			return refuse(
			    why, "permissions[%zu].resource must be a database name or \"*\": %s",
			    i, rule_database_name(resource));
		str_copy(p.resource, sizeof(p.resource), resource);
		for (size_t k = 0; k < *n && !repeat; k++)
			repeat =
			    out[k].action == p.action && strcmp(out[k].resource, p.resource) == 0;
		if (repeat)
			continue;
		if (*n == STORE_DB_TOKEN_MAX_PERMISSIONS)
			return refuse(
			    why, "a token has at most %d permissions; use \"*\" for all databases",
			    STORE_DB_TOKEN_MAX_PERMISSIONS);
		out[(*n)++] = p;
	}
	return NULL;
}
