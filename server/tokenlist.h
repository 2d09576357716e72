/*
 * tokenlist.h - the two token lists (management tokens, database tokens) as
 * the API answers them: whole, streamed a batch at a time (stream.h), or a
 * page at a time with mgmtd's paging extension (?limit, ?after, and the next
 * page's address in a Link header), and narrowed by ?search and
 * ?expiringWithin.
 */
#ifndef MGMTD_TOKENLIST_H
#define MGMTD_TOKENLIST_H

#include <stddef.h>

#include "reply.h"
#include "store.h"

struct request;

enum token_list_kind {
	TOKEN_LIST_MGMT,
	TOKEN_LIST_DB,
};

/* The most rows of a page (?limit). */
#define TOKEN_LIST_PAGE_MAX 1000

/*
 * Reads ?limit, ?after, ?search and ?expiringWithin (mgmtd's extension: a
 * duration as timeutil.h reads it) into q (q->search points into the
 * request) and *limit (0 = the whole list). API_OK, or a 400 recorded.
 */
enum api_status token_list_params(struct request *req, struct store_token_query *q, size_t *limit);

/*
 * Answers the tokens q selects (q's other fields set by the handler): a page
 * of at most limit rows with the Link of the next page, or (limit 0) the
 * whole list, streamed when it is longer than one batch. The strings q
 * points to need only outlive this call.
 */
enum api_status token_list_answer(struct request *req, enum token_list_kind kind,
                                  const struct store_token_query *q, size_t limit);

#endif
