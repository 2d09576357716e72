/*
 * influxql.h - the statement scan of the data-plane check: may an InfluxQL
 * query that InfluxDB 1.x will run for a read token only read the database
 * its request names (docs/nginx.md, "What InfluxQL may do")?
 *
 * The lexer follows InfluxDB 1.x's own (influxql 1.1, as Debian's influxdb
 * 1.6 is built): bare and double-quoted identifiers (a bare word directly
 * followed by a quoted one is the quoted one alone, as there), strings,
 * numbers and durations, "--" and block comments, regular expressions only
 * where InfluxDB's parser asks for one, CR read as a newline. Whatever that
 * lexer would refuse, or could split differently, is refused here too: the
 * scan never decides on a text InfluxDB would read another way.
 *
 * Pure: no allocation, no I/O; thread-safe.
 */
#ifndef MGMTD_INFLUXQL_H
#define MGMTD_INFLUXQL_H

#include <stdbool.h>
#include <stddef.h>

/* Identifiers are kept up to this many bytes; longer ones never match a name. */
#define INFLUXQL_IDENT_MAX 255

enum influxql_verdict {
	INFLUXQL_READ_OK = 0, /* every statement reads the named database, and only it */
	INFLUXQL_UNREADABLE,  /* InfluxDB would refuse it, or read it another way: 400 */
	INFLUXQL_REFUSED,     /* it writes, administers, or names another database: 403 */
};

enum influxql_token_type {
	INFLUXQL_EOF,
	INFLUXQL_ILLEGAL, /* a byte no token starts with, a bad string, escape or comment */
	INFLUXQL_WS,
	INFLUXQL_COMMENT,
	INFLUXQL_IDENT,   /* value in .ident */
	INFLUXQL_KEYWORD, /* which one in .keyword */
	INFLUXQL_STRING,
	INFLUXQL_NUMBER, /* integers, decimals and durations */
	INFLUXQL_BOUNDPARAM,
	INFLUXQL_REGEX, /* only from influxql_next_regex */
	INFLUXQL_DOT,
	INFLUXQL_COMMA,
	INFLUXQL_LPAREN,
	INFLUXQL_RPAREN,
	INFLUXQL_SEMICOLON,
	INFLUXQL_EQ,
	INFLUXQL_EQREGEX,
	INFLUXQL_NEQREGEX,
	INFLUXQL_COLON,
	INFLUXQL_DOUBLECOLON,
	INFLUXQL_OPERATOR, /* + - * / % & | ^ != <> < <= > >= */
};

/* The keywords the scan looks at; every other InfluxQL keyword is KW_OTHER. */
enum influxql_keyword {
	INFLUXQL_KW_OTHER,
	INFLUXQL_KW_ANALYZE,
	INFLUXQL_KW_BY,
	INFLUXQL_KW_CARDINALITY,
	INFLUXQL_KW_EXACT,
	INFLUXQL_KW_EXPLAIN,
	INFLUXQL_KW_FIELD,
	INFLUXQL_KW_FROM,
	INFLUXQL_KW_INTO,
	INFLUXQL_KW_KEY,
	INFLUXQL_KW_KEYS,
	INFLUXQL_KW_MEASUREMENT,
	INFLUXQL_KW_MEASUREMENTS,
	INFLUXQL_KW_ON,
	INFLUXQL_KW_POLICIES,
	INFLUXQL_KW_RETENTION,
	INFLUXQL_KW_SELECT,
	INFLUXQL_KW_SERIES,
	INFLUXQL_KW_SHOW,
	INFLUXQL_KW_TAG,
	INFLUXQL_KW_VALUES,
};

struct influxql_lexer {
	const char *p;   /* next byte */
	const char *end; /* one past the last */
};

struct influxql_token {
	enum influxql_token_type type;
	enum influxql_keyword keyword; /* for INFLUXQL_KEYWORD */
	const char *start;             /* the token's bytes in the input */
	size_t len;
	char ident[INFLUXQL_IDENT_MAX + 1]; /* an identifier's value, unescaped */
	bool ident_truncated;               /* it was longer than INFLUXQL_IDENT_MAX */
};

void influxql_lexer_init(struct influxql_lexer *lx, const char *text, size_t len);

/* The next token as InfluxDB's scanner reads it where no regex is expected. */
enum influxql_token_type influxql_next(struct influxql_lexer *lx, struct influxql_token *t);

/*
 * A regular expression /.../ at the lexer's position (InfluxDB's ScanRegex):
 * INFLUXQL_REGEX, or INFLUXQL_ILLEGAL when it does not end on its line.
 */
enum influxql_token_type influxql_next_regex(struct influxql_lexer *lx, struct influxql_token *t);

/*
 * Checks q (len bytes, need not be NUL-terminated) for a read token: every
 * statement must be SELECT (without INTO), EXPLAIN [ANALYZE] SELECT, or SHOW
 * MEASUREMENTS, SHOW MEASUREMENT [EXACT] CARDINALITY, SHOW SERIES, SHOW TAG
 * KEYS/KEY/VALUES, SHOW FIELD KEYS/KEY or SHOW RETENTION POLICIES; every
 * ON clause must name db; every qualified measurement (db.rp.m, db..m,
 * rp.m, and the same with a regular expression) must resolve, with db and
 * rp filling empty parts as InfluxDB does, to database db and retention
 * policy rp ("" or NULL: none named); no bound parameter ($name). why gets
 * a one-line reason when the verdict is not INFLUXQL_READ_OK.
 */
enum influxql_verdict influxql_check_read(const char *q, size_t len, const char *db, const char *rp,
                                          char *why, size_t whysize);

#endif
