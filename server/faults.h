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
 */
#ifndef MGMTD_FAULTS_H
#define MGMTD_FAULTS_H

#include <stddef.h>

#include <jansson.h>

#define FAULTS_MAX_RULES   64
#define FAULTS_MAX_DELAYMS 60000

enum fault_action { FAULT_NONE = 0, FAULT_STATUS, FAULT_DELAY, FAULT_DROP, FAULT_RESET };

struct fault_decision {
	enum fault_action action;
	unsigned status; /* FAULT_STATUS */
	int delay_ms;    /* FAULT_DELAY */
	int rule;        /* its index in the list, from 0 */
};

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
