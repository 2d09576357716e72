/*
 * faults.h - the test harness's injected faults ([testing], PUT /_test/faults).
 *
 * A list of rules, each matching requests by method and path (a glob: '*' matches
 * any run of characters, '/' included) and doing one thing to those it picks: answer
 * a status of its own, wait before the request goes on, or close the connection
 * without an answer (drop) or with a TCP reset. A rule picks a matching request with
 * its probability, drawn from a generator seeded by the rule's seed, so that the same
 * requests in the same order meet the same faults in every run; "times" bounds how
 * often it acts. The first rule that picks a request wins. Paths under /_test/ are
 * never touched: a suite can always take its faults back. Safe from any thread.
 *
 * A rule may instead name a fault that a suite cannot provoke from outside ("inject"):
 * the request it picks goes on to its handler carrying the fault, which then meets it
 * where the real failure would happen (dispatch.c hands it to auth.c and the store):
 *   idp_keys_unavailable  JWT verification finds no signing keys, as when the identity
 *                         provider's JWKS could not be fetched since start: 503;
 *   store_read_only       every write statement fails as on a read-only database: 503;
 *   store_full            every write statement fails as on a full disk: 503;
 *   slow_commit           each commit of the request's writes waits delayMs first.
 * Only the picked request meets it; the others, also those sharing its transaction,
 * do not.
 */
#ifndef MGMTD_FAULTS_H
#define MGMTD_FAULTS_H

#include <stddef.h>

#include <jansson.h>

#define FAULTS_MAX_RULES   64
#define FAULTS_MAX_DELAYMS 60000

enum fault_action {
	FAULT_NONE = 0,
	FAULT_STATUS,
	FAULT_DELAY,
	FAULT_DROP,
	FAULT_RESET,
	FAULT_INJECT, /* the request goes on, carrying a named fault */
};

/* The named faults ("inject"), in the order of their names (fault_named_name). */
enum fault_named {
	FAULT_NAMED_NONE = 0,
	FAULT_IDP_KEYS_UNAVAILABLE,
	FAULT_STORE_READ_ONLY,
	FAULT_STORE_FULL,
	FAULT_SLOW_COMMIT,
};

struct fault_decision {
	enum fault_action action;
	unsigned status;        /* FAULT_STATUS */
	int delay_ms;           /* FAULT_DELAY; FAULT_INJECT of FAULT_SLOW_COMMIT */
	enum fault_named named; /* FAULT_INJECT */
	int rule;               /* its index in the list, from 0 */
};

/* "store_full" and the like, as a rule names it; NULL for FAULT_NAMED_NONE. */
const char *fault_named_name(enum fault_named n);

struct faults;

/* An empty list; NULL when out of memory. */
struct faults *faults_new(void);
void faults_free(struct faults *f);

/*
 * Replaces the rules with those of rules (a JSON array, PUT /_test/faults's "rules").
 * Returns NULL, or why the array is refused (the rules then stay as they were); why
 * points into buf.
 */
const char *faults_set(struct faults *f, const json_t *rules, char *buf, size_t bufsize);

/* The rules as given, each with "applied": how often it acted. NULL when out of memory. */
json_t *faults_list(struct faults *f);

void faults_clear(struct faults *f);

/* What to do to a request of method to path (its raw path, without the query). */
struct fault_decision faults_decide(struct faults *f, const char *method, const char *path);

#endif
