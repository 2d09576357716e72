/*
 * rules.h - what makes a value acceptable, shared by the REST handlers, the
 * offline CLI and the seed so that the three cannot disagree. Each check
 * returns NULL when the value is fine, else a sentence saying what is wrong.
 */
#ifndef MGMTD_RULES_H
#define MGMTD_RULES_H

#include <stdint.h>

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

#endif
