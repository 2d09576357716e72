/*
 * tokenlist.c - token lists: whole, streamed or paged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "jsontext.h"
#include "request.h"
#include "stream.h"
#include "timeutil.h"
#include "tokenlist.h"
#include "util.h"
#include "views.h"

/*
 * Rows read from the store at once for a whole list: one batch is what a
 * streamed list holds in memory (about 60 KB of text), and what a worker
 * thread does for it before it serves another connection (about 1 ms on
 * SQLite). Fewer would cost PostgreSQL more: each batch is a round trip and
 * a plan (the database tokens' join takes longer to plan than to run).
 */
#define BATCH_ROWS 200

/* A list being read: the query, and where the text has got to. */
struct list_state {
	enum token_list_kind kind;
	struct store_token_query q;
	char account_id[UUID_STR_SIZE];
	char cluster_id[UUID_STR_SIZE];
	char search[STORE_SEARCH_MAX + 1];
	struct jsontext *out; /* where this scan's rows go */
	size_t written;       /* rows of the answer written so far */
	size_t page;          /* rows a page holds; 0 = the whole list */
	bool more;            /* the page saw a row past its end */
	struct store_cursor last;
};

/* One row: its text after a comma unless it is the first, and where it stands. */
static bool take_row(struct list_state *ls, const struct store_cursor *key)
{
	if (ls->page != 0 && ls->written == ls->page) {
		ls->more = true; /* the scan reads one row past the page, to know */
		return false;
	}
	if (ls->written > 0)
		jsontext_raw(ls->out, ",", 1);
	ls->written++;
	ls->last = *key;
	return true;
}

static bool visit_mgmt(void *ctx, const struct store_mgmt_token *row,
                       const struct store_cursor *key)
{
	struct list_state *ls = ctx;

	if (take_row(ls, key))
		view_mgmt_token_text(ls->out, row, ls->q.now);
	return jsontext_ok(ls->out);
}

static bool visit_db(void *ctx, const struct store_db_token *row, const struct store_cursor *key)
{
	struct list_state *ls = ctx;

	if (take_row(ls, key))
		view_db_token_text(ls->out, row, ls->q.now);
	return jsontext_ok(ls->out);
}

/* Reads up to max rows after the last one written into out; *rows gets how many were read. */
static enum store_status scan(struct list_state *ls, struct store *s, struct jsontext *out,
                              size_t max, size_t *rows)
{
	size_t before = ls->written;
	enum store_status st;

	ls->out = out;
	ls->q.max = max;
	st = ls->kind == TOKEN_LIST_MGMT ? store_mgmt_token_scan(s, &ls->q, visit_mgmt, ls, rows)
	                                 : store_db_token_scan(s, &ls->q, visit_db, ls, rows);
	if (ls->written > before) {
		ls->q.has_after = true;
		ls->q.after = ls->last;
	}
	return st;
}

/* stream_source.next */
static enum store_status next_batch(void *state, struct store *s, struct jsontext *out, bool *done)
{
	struct list_state *ls = state;
	size_t rows = 0;
	enum store_status st = scan(ls, s, out, BATCH_ROWS, &rows);

	*done = st == STORE_OK && rows < BATCH_ROWS;
	return st;
}

static void free_state(void *state)
{
	free(state);
}

/* ---- parameters ---- */

/* Digits only, no sign, no leading zero: a value from 0 to INT64_MAX. */
static bool parse_count(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;

	if (len == 0 || len > 19 || (s[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* A cursor is "CREATED.SEQ", both decimal: opaque to clients (docs/api.md). */
static bool parse_cursor(const char *s, struct store_cursor *out)
{
	const char *dot = strchr(s, '.');

	return dot != NULL && parse_count(s, (size_t)(dot - s), &out->created_at) &&
	       parse_count(dot + 1, strlen(dot + 1), &out->seq);
}

enum api_status token_list_params(struct request *req, struct store_token_query *q, size_t *limit)
{
	const char *limit_text = request_query(req, "limit");
	const char *after = request_query(req, "after");
	const char *search = request_query(req, "search");
	const char *expiring = request_query(req, "expiringWithin");
	int64_t n;

	*limit = 0;
	if (limit_text != NULL) {
		if (!parse_count(limit_text, strlen(limit_text), &n) || n < 1 ||
		    n > TOKEN_LIST_PAGE_MAX)
			return api_fail(req, API_BAD_REQUEST,
			                "limit must be a whole number from 1 to %d",
			                TOKEN_LIST_PAGE_MAX);
		*limit = (size_t)n;
	}
	q->has_after = false;
	if (after != NULL) {
		if (!parse_cursor(after, &q->after))
			return api_fail(req, API_BAD_REQUEST,
			                "after must be the cursor of a Link header of this list");
		q->has_after = true;
	}
	q->expiring_within = 0;
	if (expiring != NULL) {
		if (time_parse_duration_ms(expiring, &q->expiring_within) != 0 ||
		    q->expiring_within <= 0)
			return api_fail(
			    req, API_BAD_REQUEST,
			    "expiringWithin must be a positive duration such as 7d, 36h "
			    "or 1d12h (units ms, s, m, h, d)");
	}
	q->search = NULL;
	if (search != NULL && search[0] != '\0') {
		if (strlen(search) > STORE_SEARCH_MAX || utf8_length(search) < 0)
			return api_fail(req, API_BAD_REQUEST,
			                "search must be UTF-8 text of at most %d bytes",
			                STORE_SEARCH_MAX);
		q->search = search;
	}
	return API_OK;
}

/* ---- answers ---- */

/* s with every byte but RFC 3986's unreserved ones percent-encoded. */
static void query_value(struct jsontext *w, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		char out[3];

		jsontext_raw(w, out, uri_component_byte(*p, out));
	}
}

/*
 * The Link header of the page after ls's: the list's own path (built from
 * its ids, not echoed from the request), its filters, the limit and the
 * cursor of the last row. NULL when out of memory.
 */
static char *next_link(struct request *req, const struct list_state *ls)
{
	static const char *const filters[] = {"status", "includeRevoked", "expiringWithin"};
	struct jsontext w;
	char number[48];
	size_t len;

	jsontext_init(&w);
	jsontext_lit(&w, "</api/v0/accounts/");
	jsontext_lit(&w, ls->account_id);
	if (ls->kind == TOKEN_LIST_MGMT) {
		jsontext_lit(&w, "/management/tokens?");
	} else {
		jsontext_lit(&w, "/clusters/");
		jsontext_lit(&w, ls->cluster_id);
		jsontext_lit(&w, "/tokens?");
	}
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		const char *v = request_query(req, filters[i]);

		if (v == NULL)
			continue;
		jsontext_lit(&w, filters[i]);
		jsontext_raw(&w, "=", 1);
		query_value(&w, v);
		jsontext_raw(&w, "&", 1);
	}
	if (ls->q.search != NULL) {
		jsontext_lit(&w, "search=");
		query_value(&w, ls->q.search);
		jsontext_raw(&w, "&", 1);
	}
	snprintf(number, sizeof(number), "limit=%zu&after=%" PRId64 ".%" PRId64, ls->page,
	         ls->last.created_at, ls->last.seq);
	jsontext_lit(&w, number);
	jsontext_lit(&w, ">; rel=\"next\"");
	return jsontext_take(&w, &len);
}

/* A JSON answer of text (taken over), with the Link of the next page or none. */
static enum api_status answer_text(struct request *req, struct jsontext *text, char *link)
{
	if (api_ok_jsontext(req, text) != API_OK) {
		free(link);
		return req->status;
	}
	req->raw->link = link;
	return API_OK;
}

enum api_status token_list_answer(struct request *req, enum token_list_kind kind,
                                  const struct store_token_query *q, size_t limit)
{
	struct list_state *ls = calloc(1, sizeof(*ls));
	struct stream_source src;
	struct stream *stream;
	struct jsontext text;
	enum store_status st;
	char *link = NULL;
	size_t rows = 0;

	jsontext_init(&text);
	if (ls == NULL)
		return api_fail(req, API_INTERNAL, "out of memory");
	/* the state outlives the request's strings when the list streams */
	ls->kind = kind;
	ls->q = *q;
	str_copy(ls->account_id, sizeof(ls->account_id), q->account_id);
	ls->q.account_id = ls->account_id;
	if (q->cluster_id != NULL) {
		str_copy(ls->cluster_id, sizeof(ls->cluster_id), q->cluster_id);
		ls->q.cluster_id = ls->cluster_id;
	}
	if (q->search != NULL) {
		str_copy(ls->search, sizeof(ls->search), q->search);
		ls->q.search = ls->search;
	}
	ls->page = limit;
	jsontext_raw(&text, "[", 1);
	st = scan(ls, req->store, &text, limit ? limit + 1 : BATCH_ROWS, &rows);
	if (st != STORE_OK) {
		free(ls);
		jsontext_release(&text);
		return api_from_store(
		    req, st, kind == TOKEN_LIST_MGMT ? "management token" : "database token", NULL);
	}
	/*
	 * A token row names its cluster (a foreign key) in this account: rows
	 * prove the cluster is there. Only an empty answer asks (404 if not).
	 */
	if (kind == TOKEN_LIST_DB && ls->written == 0 && api_require_cluster(req) != API_OK) {
		free(ls);
		jsontext_release(&text);
		return req->status;
	}
	if (limit != 0 || rows < BATCH_ROWS) {
		if (ls->more && (link = next_link(req, ls)) == NULL) {
			free(ls);
			jsontext_release(&text);
			return api_fail(req, API_INTERNAL, "out of memory");
		}
		free(ls);
		jsontext_raw(&text, "]", 1);
		return answer_text(req, &text, link);
	}
	src = (struct stream_source){next_batch, free_state, ls};
	stream = stream_new(req->app->stores, &text, src);
	if (stream == NULL) {
		jsontext_release(&text);
		return api_fail(req, API_INTERNAL, "out of memory");
	}
	if (api_raw(req, API_OK, "application/json", NULL, 0, false, NULL) != API_OK) {
		stream_free(stream);
		return req->status;
	}
	req->raw->stream = stream;
	return API_OK;
}
