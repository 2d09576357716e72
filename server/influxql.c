/*
 * influxql.c - InfluxQL's lexer as InfluxDB 1.x has it, and the read-only
 * scan of the data-plane check (influxql.h).
 *
 * The scan is no full parser. It walks the tokens of each statement and
 * decides from the few places where InfluxQL names a database: the
 * statement's kind (only reads pass), INTO (a write), ON (a database),
 * qualified measurement names in FROM lists and WITH MEASUREMENT, and bound
 * parameters (which InfluxDB substitutes after the fact). Where InfluxDB
 * reads a regular expression depends on its parser; the scan reproduces
 * those places (after SELECT, a comma, an opening parenthesis, BY, =~, !~
 * and =, and in sources) and refuses the spots where InfluxDB's own parser
 * would trip (a regular expression after a space that ends a short source
 * name, which InfluxDB 1.6 answers with "expected regex").
 */
#include "influxql.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- the lexer ---- */

struct keyword {
	const char *name;
	enum influxql_keyword id;
};

/* Every keyword of influxql 1.1 (token.go), with AND, OR, TRUE and FALSE. */
static const struct keyword keywords[] = {
    {"all", INFLUXQL_KW_OTHER},
    {"alter", INFLUXQL_KW_OTHER},
    {"analyze", INFLUXQL_KW_ANALYZE},
    {"and", INFLUXQL_KW_OTHER},
    {"any", INFLUXQL_KW_OTHER},
    {"as", INFLUXQL_KW_OTHER},
    {"asc", INFLUXQL_KW_OTHER},
    {"begin", INFLUXQL_KW_OTHER},
    {"by", INFLUXQL_KW_BY},
    {"cardinality", INFLUXQL_KW_CARDINALITY},
    {"continuous", INFLUXQL_KW_OTHER},
    {"create", INFLUXQL_KW_OTHER},
    {"database", INFLUXQL_KW_OTHER},
    {"databases", INFLUXQL_KW_OTHER},
    {"default", INFLUXQL_KW_OTHER},
    {"delete", INFLUXQL_KW_OTHER},
    {"desc", INFLUXQL_KW_OTHER},
    {"destinations", INFLUXQL_KW_OTHER},
    {"diagnostics", INFLUXQL_KW_OTHER},
    {"distinct", INFLUXQL_KW_OTHER},
    {"drop", INFLUXQL_KW_OTHER},
    {"duration", INFLUXQL_KW_OTHER},
    {"end", INFLUXQL_KW_OTHER},
    {"every", INFLUXQL_KW_OTHER},
    {"exact", INFLUXQL_KW_EXACT},
    {"explain", INFLUXQL_KW_EXPLAIN},
    {"false", INFLUXQL_KW_OTHER},
    {"field", INFLUXQL_KW_FIELD},
    {"for", INFLUXQL_KW_OTHER},
    {"from", INFLUXQL_KW_FROM},
    {"grant", INFLUXQL_KW_OTHER},
    {"grants", INFLUXQL_KW_OTHER},
    {"group", INFLUXQL_KW_OTHER},
    {"groups", INFLUXQL_KW_OTHER},
    {"in", INFLUXQL_KW_OTHER},
    {"inf", INFLUXQL_KW_OTHER},
    {"insert", INFLUXQL_KW_OTHER},
    {"into", INFLUXQL_KW_INTO},
    {"key", INFLUXQL_KW_KEY},
    {"keys", INFLUXQL_KW_KEYS},
    {"kill", INFLUXQL_KW_OTHER},
    {"limit", INFLUXQL_KW_OTHER},
    {"measurement", INFLUXQL_KW_MEASUREMENT},
    {"measurements", INFLUXQL_KW_MEASUREMENTS},
    {"name", INFLUXQL_KW_OTHER},
    {"offset", INFLUXQL_KW_OTHER},
    {"on", INFLUXQL_KW_ON},
    {"or", INFLUXQL_KW_OTHER},
    {"order", INFLUXQL_KW_OTHER},
    {"password", INFLUXQL_KW_OTHER},
    {"policies", INFLUXQL_KW_POLICIES},
    {"policy", INFLUXQL_KW_OTHER},
    {"privileges", INFLUXQL_KW_OTHER},
    {"queries", INFLUXQL_KW_OTHER},
    {"query", INFLUXQL_KW_OTHER},
    {"read", INFLUXQL_KW_OTHER},
    {"replication", INFLUXQL_KW_OTHER},
    {"resample", INFLUXQL_KW_OTHER},
    {"retention", INFLUXQL_KW_RETENTION},
    {"revoke", INFLUXQL_KW_OTHER},
    {"select", INFLUXQL_KW_SELECT},
    {"series", INFLUXQL_KW_SERIES},
    {"set", INFLUXQL_KW_OTHER},
    {"shard", INFLUXQL_KW_OTHER},
    {"shards", INFLUXQL_KW_OTHER},
    {"show", INFLUXQL_KW_SHOW},
    {"slimit", INFLUXQL_KW_OTHER},
    {"soffset", INFLUXQL_KW_OTHER},
    {"stats", INFLUXQL_KW_OTHER},
    {"subscription", INFLUXQL_KW_OTHER},
    {"subscriptions", INFLUXQL_KW_OTHER},
    {"tag", INFLUXQL_KW_TAG},
    {"to", INFLUXQL_KW_OTHER},
    {"true", INFLUXQL_KW_OTHER},
    {"user", INFLUXQL_KW_OTHER},
    {"users", INFLUXQL_KW_OTHER},
    {"values", INFLUXQL_KW_VALUES},
    {"where", INFLUXQL_KW_OTHER},
    {"with", INFLUXQL_KW_OTHER},
    {"write", INFLUXQL_KW_OTHER},
};

#define N_KEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

/* InfluxDB's whitespace: space, tab, newline, and CR, which its reader turns into a newline. */
static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_char(unsigned char c)
{
	return is_letter(c) || is_digit(c) || c == '_';
}

/* 'µ' (U+00B5, C2 B5 in UTF-8), which InfluxDB takes in durations. */
static bool at_micro(const struct influxql_lexer *lx, const char *p)
{
	return lx->end - p >= 2 && (unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xB5;
}

void influxql_lexer_init(struct influxql_lexer *lx, const char *text, size_t len)
{
	lx->p = text;
	lx->end = text + len;
}

static void ident_reset(struct influxql_token *t)
{
	t->ident[0] = '\0';
	t->ident_truncated = false;
}

static void ident_append(struct influxql_token *t, char c)
{
	size_t n = strlen(t->ident);

	if (n >= INFLUXQL_IDENT_MAX) {
		t->ident_truncated = true;
		return;
	}
	t->ident[n] = c;
	t->ident[n + 1] = '\0';
}

static enum influxql_token_type finish(struct influxql_lexer *lx, struct influxql_token *t,
                                       enum influxql_token_type type)
{
	t->type = type;
	t->len = (size_t)(lx->p - t->start);
	return type;
}

/*
 * A quoted string or identifier at lx->p (its quote). The escapes are
 * InfluxDB's: \n \\ \" \' and nothing else; a newline (CR included), a NUL
 * or the end inside is a bad string. The value goes to t->ident.
 */
static bool scan_quoted(struct influxql_lexer *lx, struct influxql_token *t)
{
	char quote = *lx->p++;

	ident_reset(t);
	for (;;) {
		char c;

		if (lx->p == lx->end)
			return false;
		c = *lx->p++;
		if (c == quote)
			return true;
		if (c == '\n' || c == '\r' || c == '\0')
			return false;
		if (c == '\\') {
			if (lx->p == lx->end)
				return false;
			c = *lx->p++;
			if (c == 'n')
				c = '\n';
			else if (c != '\\' && c != '"' && c != '\'')
				return false;
		}
		ident_append(t, c);
	}
}

/*
 * A bare identifier or keyword. As in InfluxDB's scanIdent, a bare word
 * directly followed by a double quote is replaced by the quoted identifier
 * (abc"def" reads as "def"), and then no keyword is looked up.
 */
static enum influxql_token_type scan_word(struct influxql_lexer *lx, struct influxql_token *t)
{
	ident_reset(t);
	while (lx->p < lx->end && is_ident_char((unsigned char)*lx->p))
		ident_append(t, *lx->p++);
	if (lx->p < lx->end && *lx->p == '"')
		return finish(lx, t, scan_quoted(lx, t) ? INFLUXQL_IDENT : INFLUXQL_ILLEGAL);
	for (size_t i = 0; i < N_KEYWORDS; i++)
		if (!t->ident_truncated && strcasecmp(t->ident, keywords[i].name) == 0) {
			t->keyword = keywords[i].id;
			return finish(lx, t, INFLUXQL_KEYWORD);
		}
	return finish(lx, t, INFLUXQL_IDENT);
}

/*
 * A number at a digit, or at a '.' before one: digits, then '.' (taken even
 * when no digit follows, as InfluxDB does) and digits; an integer directly
 * followed by a letter or 'µ' is a duration, which runs on over letters, 'µ'
 * and digits.
 */
static enum influxql_token_type scan_number(struct influxql_lexer *lx, struct influxql_token *t)
{
	bool decimal = false;

	while (lx->p < lx->end && is_digit((unsigned char)*lx->p))
		lx->p++;
	if (lx->p < lx->end && *lx->p == '.') {
		decimal = true;
		lx->p++;
		while (lx->p < lx->end && is_digit((unsigned char)*lx->p))
			lx->p++;
	}
	if (!decimal && lx->p < lx->end &&
	    (is_letter((unsigned char)*lx->p) || at_micro(lx, lx->p))) {
		for (;;) {
			if (lx->p < lx->end && is_letter((unsigned char)*lx->p))
				lx->p++;
			else if (at_micro(lx, lx->p))
				lx->p += 2;
			else
				break;
		}
		for (;;) {
			if (lx->p < lx->end &&
			    (is_letter((unsigned char)*lx->p) || is_digit((unsigned char)*lx->p)))
				lx->p++;
			else if (at_micro(lx, lx->p))
				lx->p += 2;
			else
				break;
		}
	}
	return finish(lx, t, INFLUXQL_NUMBER);
}

/* After the opening of a block comment: up to its closing star and slash; the end or a NUL first is
 * an error. */
static bool skip_block_comment(struct influxql_lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p++;

		if (c == '\0')
			return false;
		while (c == '*') {
			if (lx->p == lx->end || *lx->p == '\0')
				return false;
			c = *lx->p++;
			if (c == '/')
				return true;
		}
	}
	return false;
}

/* A two-character operator when the next byte is second, else the one-character one. */
static enum influxql_token_type pair(struct influxql_lexer *lx, struct influxql_token *t,
                                     char second, enum influxql_token_type both,
                                     enum influxql_token_type one)
{
	if (lx->p < lx->end && *lx->p == second) {
		lx->p++;
		return finish(lx, t, both);
	}
	return finish(lx, t, one);
}

enum influxql_token_type influxql_next(struct influxql_lexer *lx, struct influxql_token *t)
{
	unsigned char c;

	t->start = lx->p;
	t->keyword = INFLUXQL_KW_OTHER;
	ident_reset(t);
	if (lx->p == lx->end)
		return finish(lx, t, INFLUXQL_EOF);
	c = (unsigned char)*lx->p;
	if (is_ws(c)) {
		while (lx->p < lx->end && is_ws((unsigned char)*lx->p))
			lx->p++;
		return finish(lx, t, INFLUXQL_WS);
	}
	if (is_letter(c) || c == '_')
		return scan_word(lx, t);
	if (is_digit(c) || (c == '.' && lx->end - lx->p >= 2 && is_digit((unsigned char)lx->p[1])))
		return scan_number(lx, t);
	switch (c) {
	case '"':
		return finish(lx, t, scan_quoted(lx, t) ? INFLUXQL_IDENT : INFLUXQL_ILLEGAL);
	case '\'':
		return finish(lx, t, scan_quoted(lx, t) ? INFLUXQL_STRING : INFLUXQL_ILLEGAL);
	case '$':
		lx->p++;
		if (lx->p < lx->end && *lx->p == '"')
			return finish(lx, t,
			              scan_quoted(lx, t) ? INFLUXQL_BOUNDPARAM : INFLUXQL_ILLEGAL);
		while (lx->p < lx->end && is_ident_char((unsigned char)*lx->p))
			lx->p++;
		return finish(lx, t, INFLUXQL_BOUNDPARAM);
	case '-':
		lx->p++;
		if (lx->p < lx->end && *lx->p == '-') {
			/* to the end of the line; a NUL ends InfluxDB's reading too */
			while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '\r' &&
			       *lx->p != '\0')
				lx->p++;
			if (lx->p < lx->end && *lx->p == '\0')
				return finish(lx, t, INFLUXQL_ILLEGAL);
			if (lx->p < lx->end)
				lx->p++;
			return finish(lx, t, INFLUXQL_COMMENT);
		}
		return finish(lx, t, INFLUXQL_OPERATOR);
	case '/':
		lx->p++;
		if (lx->p < lx->end && *lx->p == '*') {
			lx->p++;
			return finish(lx, t,
			              skip_block_comment(lx) ? INFLUXQL_COMMENT : INFLUXQL_ILLEGAL);
		}
		return finish(lx, t, INFLUXQL_OPERATOR);
	case '=':
		lx->p++;
		return pair(lx, t, '~', INFLUXQL_EQREGEX, INFLUXQL_EQ);
	case '!':
		lx->p++;
		if (lx->p < lx->end && *lx->p == '~') {
			lx->p++;
			return finish(lx, t, INFLUXQL_NEQREGEX);
		}
		return pair(lx, t, '=', INFLUXQL_OPERATOR, INFLUXQL_ILLEGAL);
	case '<':
		lx->p++;
		if (lx->p < lx->end && (*lx->p == '=' || *lx->p == '>'))
			lx->p++;
		return finish(lx, t, INFLUXQL_OPERATOR);
	case '>':
		lx->p++;
		return pair(lx, t, '=', INFLUXQL_OPERATOR, INFLUXQL_OPERATOR);
	case ':':
		lx->p++;
		return pair(lx, t, ':', INFLUXQL_DOUBLECOLON, INFLUXQL_COLON);
	case '+':
	case '*':
	case '%':
	case '&':
	case '|':
	case '^':
		lx->p++;
		return finish(lx, t, INFLUXQL_OPERATOR);
	case '.':
		lx->p++;
		return finish(lx, t, INFLUXQL_DOT);
	case ',':
		lx->p++;
		return finish(lx, t, INFLUXQL_COMMA);
	case '(':
		lx->p++;
		return finish(lx, t, INFLUXQL_LPAREN);
	case ')':
		lx->p++;
		return finish(lx, t, INFLUXQL_RPAREN);
	case ';':
		lx->p++;
		return finish(lx, t, INFLUXQL_SEMICOLON);
	default:
		lx->p++;
		return finish(lx, t, INFLUXQL_ILLEGAL);
	}
}

/*
 * InfluxDB's ScanRegex: from '/' to the next '/' not escaped as "\/"; a
 * backslash before anything else stays and the next byte is read as usual.
 */
enum influxql_token_type influxql_next_regex(struct influxql_lexer *lx, struct influxql_token *t)
{
	t->start = lx->p;
	t->keyword = INFLUXQL_KW_OTHER;
	ident_reset(t);
	if (lx->p == lx->end || *lx->p != '/')
		return finish(lx, t, INFLUXQL_ILLEGAL);
	lx->p++;
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c == '/') {
			lx->p++;
			return finish(lx, t, INFLUXQL_REGEX);
		}
		if (c == '\n' || c == '\r' || c == '\0')
			break;
		if (c == '\\') {
			if (lx->end - lx->p < 2)
				break;
			lx->p += lx->p[1] == '/' ? 2 : 1;
			continue;
		}
		lx->p++;
	}
	return finish(lx, t, INFLUXQL_ILLEGAL);
}

/* ---- the scan ---- */

struct scan {
	struct influxql_lexer lx;
	const char *db; /* the request's database */
	const char *rp; /* its retention policy, "" for none */
	char *why;
	size_t whysize;
};

/* Up to 40 printable bytes of s, for a message. */
static void excerpt(const char *s, size_t len, char *out, size_t outsize)
{
	size_t n = 0;

	for (size_t i = 0; i < len && i < 40 && n + 1 < outsize; i++)
		out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[n] = '\0';
}

__attribute__((format(printf, 3, 4))) static enum influxql_verdict
verdict(struct scan *s, enum influxql_verdict v, const char *fmt, ...)
{
	va_list ap;

	if (s->whysize > 0) {
		va_start(ap, fmt);
		vsnprintf(s->why, s->whysize, fmt, ap);
		va_end(ap);
	}
	return v;
}

static enum influxql_verdict unreadable_at(struct scan *s, const struct influxql_token *t,
                                           const char *what)
{
	char ex[48];

	excerpt(t->start, t->type == INFLUXQL_EOF ? 0 : (size_t)(s->lx.end - t->start), ex,
	        sizeof(ex));
	return verdict(s, INFLUXQL_UNREADABLE, "the query cannot be read safely: %s at \"%s\"",
	               what, ex);
}

/* The next token that is no whitespace and no comment. */
static enum influxql_token_type next_significant(struct scan *s, struct influxql_token *t)
{
	enum influxql_token_type type;

	do
		type = influxql_next(&s->lx, t);
	while (type == INFLUXQL_WS || type == INFLUXQL_COMMENT);
	return type;
}

/* Skips whitespace only (as InfluxDB before a regex) and says whether a '/' follows. */
static bool regex_follows(struct scan *s)
{
	while (s->lx.p < s->lx.end && is_ws((unsigned char)*s->lx.p))
		s->lx.p++;
	return s->lx.p < s->lx.end && *s->lx.p == '/';
}

static bool is_keyword(const struct influxql_token *t, enum influxql_keyword k)
{
	return t->type == INFLUXQL_KEYWORD && t->keyword == k;
}

/* Empty and NULL are both "no retention policy". */
static bool same_name(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/*
 * A (possibly) qualified measurement name whose first identifier is first,
 * as InfluxDB's parseSegmentedIdents reads it: a DOT directly after an
 * identifier continues the name; after the DOT a '.' is an empty part, a
 * '/' a regular expression (in a source), ':' ends it, anything else must be
 * an identifier (whitespace and comments may come before it). Then, in a
 * source, whether the name reads as db.rp.m, rp.m or m with or without a
 * regex; the database and retention policy it resolves to (empty parts
 * filled with the request's, as InfluxDB's normalizeMeasurement does) must
 * be the request's. Outside sources (field names) a dotted name means no
 * database, but is held to the same rule: a stray qualified name is refused
 * rather than guessed at.
 */
static enum influxql_verdict measurement_name(struct scan *s, const struct influxql_token *first,
                                              bool source)
{
	char parts[3][INFLUXQL_IDENT_MAX + 1];
	struct influxql_token t;
	const char *db, *rp;
	bool regex = false, truncated = first->ident_truncated;
	size_t n = 1;

	memcpy(parts[0], first->ident, sizeof(parts[0]));
	while (s->lx.p < s->lx.end && *s->lx.p == '.' &&
	       !(s->lx.end - s->lx.p >= 2 && is_digit((unsigned char)s->lx.p[1]))) {
		s->lx.p++; /* the DOT */
		if (s->lx.p < s->lx.end && *s->lx.p == '/') {
			if (!source)
				break; /* a field name, then a division */
			if (n == 3)
				return verdict(
				    s, INFLUXQL_UNREADABLE,
				    "the query cannot be read safely: a regular expression "
				    "after three name parts");
			if (influxql_next_regex(&s->lx, &t) != INFLUXQL_REGEX)
				return unreadable_at(s, &t, "an unterminated regular expression");
			regex = true;
			break;
		}
		if (s->lx.p < s->lx.end && *s->lx.p == ':')
			break;
		if (n == 3)
			return verdict(s, INFLUXQL_UNREADABLE,
			               "the query cannot be read safely: a name of more than three "
			               "parts");
		if (s->lx.p < s->lx.end && *s->lx.p == '.') {
			parts[n++][0] = '\0';
			continue;
		}
		if (next_significant(s, &t) != INFLUXQL_IDENT)
			return unreadable_at(s, &t, "a name part that is no identifier");
		truncated |= t.ident_truncated;
		memcpy(parts[n++], t.ident, sizeof(parts[0]));
	}
	if (source && !regex && n < 3) {
		/*
		 * InfluxDB looks for a regex once more here, after the token that
		 * ended the name; a '/' right after that token makes its parser
		 * fail ("expected regex"), so such a text is no query to judge.
		 */
		struct influxql_lexer saved = s->lx;

		(void)influxql_next(&s->lx, &t);
		if (t.type != INFLUXQL_EOF && s->lx.p < s->lx.end && *s->lx.p == '/')
			return unreadable_at(s, &t, "a regular expression InfluxDB would not read");
		s->lx = saved;
	}
	if (truncated)
		return verdict(s, INFLUXQL_REFUSED,
		               "the query names a database or retention "
		               "policy other than the request's");
	if (regex) { /* rp./re/ or db.rp./re/ */
		db = n == 2 ? parts[0] : "";
		rp = parts[n - 1];
	} else if (n == 3) { /* db.rp.m */
		db = parts[0];
		rp = parts[1];
	} else if (n == 2) { /* rp.m */
		db = "";
		rp = parts[0];
	} else {
		return INFLUXQL_READ_OK; /* m: the request's database and policy */
	}
	if (!same_name(db[0] ? db : s->db, s->db) || !same_name(rp[0] ? rp : s->rp, s->rp)) {
		char exdb[48], exrp[48];

		excerpt(db[0] ? db : s->db, strlen(db[0] ? db : s->db), exdb, sizeof(exdb));
		excerpt(rp, strlen(rp), exrp, sizeof(exrp));
		return verdict(s, INFLUXQL_REFUSED,
		               "the query names database \"%s\"%s%s%s, not the one of the request "
		               "(db and rp)",
		               exdb, rp[0] ? " retention policy \"" : "", exrp, rp[0] ? "\"" : "");
	}
	return INFLUXQL_READ_OK;
}

/* The words after SHOW that begin a read of one database's metadata. */
static enum influxql_verdict show_kind(struct scan *s, enum influxql_keyword *last)
{
	struct influxql_token t, t2;

	next_significant(s, &t);
	*last = t.keyword;
	if (is_keyword(&t, INFLUXQL_KW_MEASUREMENTS) || is_keyword(&t, INFLUXQL_KW_SERIES))
		return INFLUXQL_READ_OK;
	if (is_keyword(&t, INFLUXQL_KW_MEASUREMENT)) {
		next_significant(s, &t2);
		*last = t2.keyword;
		if (is_keyword(&t2, INFLUXQL_KW_EXACT)) {
			next_significant(s, &t2);
			*last = t2.keyword;
		}
		if (is_keyword(&t2, INFLUXQL_KW_CARDINALITY))
			return INFLUXQL_READ_OK;
		return unreadable_at(s, &t2, "SHOW MEASUREMENT without CARDINALITY");
	}
	if (is_keyword(&t, INFLUXQL_KW_TAG) || is_keyword(&t, INFLUXQL_KW_FIELD)) {
		next_significant(s, &t2);
		*last = t2.keyword;
		if (is_keyword(&t2, INFLUXQL_KW_KEYS) || is_keyword(&t2, INFLUXQL_KW_KEY) ||
		    (is_keyword(&t, INFLUXQL_KW_TAG) && is_keyword(&t2, INFLUXQL_KW_VALUES)))
			return INFLUXQL_READ_OK;
		return unreadable_at(s, &t2, "an unknown SHOW statement");
	}
	if (is_keyword(&t, INFLUXQL_KW_RETENTION)) {
		next_significant(s, &t2);
		*last = t2.keyword;
		if (is_keyword(&t2, INFLUXQL_KW_POLICIES))
			return INFLUXQL_READ_OK;
		return unreadable_at(s, &t2, "SHOW RETENTION without POLICIES");
	}
	{
		char ex[48];

		excerpt(t.start, t.len, ex, sizeof(ex));
		return verdict(s, INFLUXQL_REFUSED,
		               "SHOW %s is not allowed with a read token: only SHOW MEASUREMENTS, "
		               "SERIES, TAG KEYS, TAG VALUES, FIELD KEYS, RETENTION POLICIES and "
		               "their CARDINALITY forms are",
		               ex);
	}
}

#define MAX_DEPTH 64

/* Where the scan is within a statement. */
enum place {
	IN_EXPRESSION, /* fields, conditions, clauses */
	AT_SOURCE,     /* where a FROM list expects a source */
	AFTER_SOURCE,  /* after one: a comma continues the list */
};

/* After these a '/' starts a regular expression where InfluxDB asks for one. */
static bool regex_may_follow(enum influxql_token_type type, enum influxql_keyword kw)
{
	return type == INFLUXQL_COMMA || type == INFLUXQL_LPAREN || type == INFLUXQL_EQREGEX ||
	       type == INFLUXQL_NEQREGEX || type == INFLUXQL_EQ ||
	       (type == INFLUXQL_KEYWORD && (kw == INFLUXQL_KW_SELECT || kw == INFLUXQL_KW_BY));
}

/*
 * One statement from its first token to its ';' or the end. Returns the
 * verdict; *end says the query ended.
 */
static enum influxql_verdict statement(struct scan *s, const struct influxql_token *first,
                                       bool *end)
{
	enum influxql_token_type prev = INFLUXQL_KEYWORD;
	enum influxql_keyword prev_kw = INFLUXQL_KW_SELECT;
	int depth = 0, subqueries[MAX_DEPTH], n_sub = 0;
	enum place place = IN_EXPRESSION;
	struct influxql_token t;
	enum influxql_verdict v;

	if (is_keyword(first, INFLUXQL_KW_EXPLAIN)) {
		next_significant(s, &t);
		if (is_keyword(&t, INFLUXQL_KW_ANALYZE))
			next_significant(s, &t);
		if (!is_keyword(&t, INFLUXQL_KW_SELECT))
			return unreadable_at(s, &t, "EXPLAIN without SELECT");
	} else if (is_keyword(first, INFLUXQL_KW_SHOW)) {
		if ((v = show_kind(s, &prev_kw)) != INFLUXQL_READ_OK)
			return v;
	} else if (!is_keyword(first, INFLUXQL_KW_SELECT)) {
		char ex[48];

		excerpt(first->start, first->len, ex, sizeof(ex));
		return verdict(s, INFLUXQL_REFUSED,
		               "\"%s\" is not a read: a read token may run SELECT, EXPLAIN SELECT "
		               "and SHOW statements about its database only",
		               ex);
	}
	for (;;) {
		if (place == AT_SOURCE) {
			if (regex_follows(s)) {
				if (influxql_next_regex(&s->lx, &t) != INFLUXQL_REGEX)
					return unreadable_at(s, &t,
					                     "an unterminated regular expression");
				place = AFTER_SOURCE;
				continue;
			}
			next_significant(s, &t);
			if (t.type == INFLUXQL_LPAREN) { /* a subquery */
				if (n_sub == MAX_DEPTH)
					return unreadable_at(s, &t, "subqueries nested too deep");
				subqueries[n_sub++] = ++depth;
				prev = t.type;
				place = IN_EXPRESSION;
				continue;
			}
			if (t.type == INFLUXQL_BOUNDPARAM)
				return verdict(s, INFLUXQL_REFUSED,
				               "bound parameters ($name) are not "
				               "allowed in a query through this check");
			if (t.type != INFLUXQL_IDENT)
				return unreadable_at(s, &t, "a source that is no measurement");
			if ((v = measurement_name(s, &t, true)) != INFLUXQL_READ_OK)
				return v;
			place = AFTER_SOURCE;
			continue;
		}
		if (place == IN_EXPRESSION && regex_may_follow(prev, prev_kw) && regex_follows(s)) {
			if (influxql_next_regex(&s->lx, &t) != INFLUXQL_REGEX)
				return unreadable_at(s, &t, "an unterminated regular expression");
			prev = INFLUXQL_REGEX;
			continue;
		}
		next_significant(s, &t);
		if (place == AFTER_SOURCE) {
			place = IN_EXPRESSION;
			if (t.type == INFLUXQL_COMMA) {
				place = AT_SOURCE;
				continue;
			}
		}
		switch (t.type) {
		case INFLUXQL_EOF:
		case INFLUXQL_SEMICOLON:
			if (depth != 0)
				return unreadable_at(s, &t, "an unclosed parenthesis");
			*end = t.type == INFLUXQL_EOF;
			return INFLUXQL_READ_OK;
		case INFLUXQL_ILLEGAL:
			return unreadable_at(s, &t, "a bad string, escape, comment or character");
		case INFLUXQL_BOUNDPARAM:
			return verdict(
			    s, INFLUXQL_REFUSED,
			    "bound parameters ($name) are not allowed in a query through "
			    "this check");
		case INFLUXQL_DOT:
			return unreadable_at(s, &t, "a '.' that follows no name");
		case INFLUXQL_LPAREN:
			if (depth == MAX_DEPTH)
				return unreadable_at(s, &t, "parentheses nested too deep");
			depth++;
			break;
		case INFLUXQL_RPAREN:
			if (depth == 0)
				return unreadable_at(s, &t, "an unmatched ')'");
			if (n_sub > 0 && subqueries[n_sub - 1] == depth) {
				n_sub--;
				place = AFTER_SOURCE;
			}
			depth--;
			break;
		case INFLUXQL_IDENT:
			if ((v = measurement_name(s, &t, false)) != INFLUXQL_READ_OK)
				return v;
			break;
		case INFLUXQL_EQ:
		case INFLUXQL_EQREGEX:
			/* WITH MEASUREMENT = m | =~ /re/ names a source */
			if (prev == INFLUXQL_KEYWORD && prev_kw == INFLUXQL_KW_MEASUREMENT)
				place = AT_SOURCE;
			break;
		case INFLUXQL_KEYWORD:
			if (t.keyword == INFLUXQL_KW_INTO)
				return verdict(s, INFLUXQL_REFUSED,
				               "SELECT ... INTO writes: a read token may not");
			if (t.keyword == INFLUXQL_KW_FROM)
				place = AT_SOURCE;
			if (t.keyword == INFLUXQL_KW_ON) {
				char ex[48];

				if (next_significant(s, &t) != INFLUXQL_IDENT)
					return unreadable_at(s, &t, "ON without a database name");
				if (!t.ident_truncated && strcmp(t.ident, s->db) == 0)
					break;
				excerpt(t.ident, strlen(t.ident), ex, sizeof(ex));
				return verdict(
				    s, INFLUXQL_REFUSED,
				    "the query names database \"%s\" (ON), not the one of "
				    "the request (db)",
				    ex);
			}
			break;
		default:
			break;
		}
		prev = t.type;
		prev_kw = t.keyword;
	}
}

enum influxql_verdict influxql_check_read(const char *q, size_t len, const char *db, const char *rp,
                                          char *why, size_t whysize)
{
	struct scan s = {.db = db, .rp = rp ? rp : "", .why = why, .whysize = whysize};
	struct influxql_token t;
	bool end = false, any = false;
	enum influxql_verdict v;

	if (whysize > 0)
		why[0] = '\0';
	if (memchr(q, '\0', len) != NULL)
		return verdict(&s, INFLUXQL_UNREADABLE,
		               "the query cannot be read safely: it holds a NUL byte");
	influxql_lexer_init(&s.lx, q, len);
	while (!end) {
		next_significant(&s, &t);
		if (t.type == INFLUXQL_EOF)
			break;
		if (t.type == INFLUXQL_SEMICOLON)
			continue;
		any = true;
		if ((v = statement(&s, &t, &end)) != INFLUXQL_READ_OK)
			return v;
	}
	if (!any)
		return verdict(&s, INFLUXQL_UNREADABLE, "the query holds no statement");
	return INFLUXQL_READ_OK;
}
