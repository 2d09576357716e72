/*
 * rules.c - value rules shared by the API, the CLI and the seed.
 */
#include <string.h>

#include "rules.h"
#include "util.h"

static int is_blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

const char *rule_description(const char *s)
{
	long len = utf8_length(s);

	if (len < 0)
		return "the description must be valid UTF-8";
	if (len == 0 || is_blank(s))
		return "the description must not be empty";
	if (len > RULE_DESCRIPTION_MAX)
		return "the description must be at most 1024 characters";
	return NULL;
}

const char *rule_email(const char *s)
{
	const char *at = strchr(s, '@');
	size_t len = strlen(s);

	if (len == 0)
		return "the email must not be empty";
	if (len > RULE_EMAIL_MAX)
		return "the email must be at most 320 bytes";
	if (!str_is_clean_text(s) || strpbrk(s, " \t") != NULL)
		return "the email must not contain spaces or control characters";
	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return "the email must look like name@domain";
	return NULL;
}

const char *rule_person_name(const char *s)
{
	long len = utf8_length(s);

	if (len < 0 || !str_is_clean_text(s))
		return "names must be text without control characters";
	if (len == 0 || is_blank(s))
		return "names must not be empty (leave the field out, or send null, instead)";
	if (len > RULE_NAME_MAX)
		return "names must be at most 256 characters";
	return NULL;
}

const char *rule_idp_subject(const char *s)
{
	size_t len = strlen(s);

	if (len == 0)
		return "the idpSubject must not be empty (send null to remove it)";
	if (len > RULE_SUBJECT_MAX)
		return "the idpSubject must be at most 1024 bytes";
	if (!str_is_clean_text(s))
		return "the idpSubject must not contain control characters";
	return NULL;
}

const char *rule_expiry(int64_t expires_at, int64_t now)
{
	if (expires_at <= now)
		return "expiresAt must be in the future";
	return NULL;
}
