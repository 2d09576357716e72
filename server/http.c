/*
 * http.c - libmicrohttpd glue. Per-request state lives in *con_cls from the
 * first callback until MHD_OPTION_NOTIFY_COMPLETED, which also runs for
 * timeouts and clients that go away, so nothing leaks on those paths.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app.h"
#include "audit.h"
#include "dispatch.h"
#include "http.h"
#include "faults.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "router.h"
#include "stream.h"
#include "timeutil.h"
#include "tls.h"

/* Past the 413 limit we drain at most this much more before dropping the client. */
#define DRAIN_LIMIT (1024 * 1024)

struct http_server {
	struct app *app;
	struct MHD_Daemon *daemon;
	int listen_fd;
	unsigned port;
	bool metrics_only;      /* [metrics] listen: serves /metrics and nothing else */
	struct tls_holder *tls; /* not owned; NULL = plain HTTP */
	atomic_bool stopping;   /* new connections are closed at once (on_accept) */
};

struct http_request {
	struct request req;
	bool started;   /* req is filled in (the first access-handler call) */
	char *raw_path; /* owned: the path as sent, before MHD's percent-decoding */
	char *body;     /* owned */
	size_t body_cap;
	size_t discarded;
	int64_t started_us;
	unsigned http_status;
	struct MHD_Connection *conn; /* while the writer holds the change (queued) */
	bool queued;                 /* suspended until the writer is done with the change */
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	struct request *req = cls;

	(void)kind;
	if (req->query_count == REQUEST_MAX_QUERY)
		return MHD_NO; /* stop iterating; the rest is ignored */
	req->query[req->query_count].key = key;
	req->query[req->query_count].value = value ? value : "";
	req->query_count++;
	return MHD_YES;
}

/* Appends an upload chunk, or notes that the body went over the limit. */
static bool accumulate(struct http_request *hr, const char *data, size_t size)
{
	struct request *req = &hr->req;
	size_t need;

	if (req->body_too_large) {
		hr->discarded += size;
		return hr->discarded <= DRAIN_LIMIT;
	}
	if (size > REQUEST_MAX_BODY - req->body_len) {
		req->body_too_large = true;
		hr->discarded = size;
		return true;
	}
	need = req->body_len + size;
	if (need > hr->body_cap) {
		size_t cap = hr->body_cap ? hr->body_cap : 1024;
		char *grown;

		while (cap < need)
			cap *= 2;
		if (cap > REQUEST_MAX_BODY)
			cap = REQUEST_MAX_BODY;
		grown = realloc(hr->body, cap);
		if (grown == NULL)
			return false;
		hr->body = grown;
		hr->body_cap = cap;
		req->body = grown;
	}
	memcpy(hr->body + req->body_len, data, size);
	req->body_len = need;
	return true;
}

/*
 * What every answer carries: JSON must never be sniffed into something a
 * browser runs, framed, or leak its URL onward; pages set their own policy.
 */
static bool add_safety_headers(struct MHD_Response *resp, const char *csp)
{
	return MHD_add_response_header(resp, "Content-Security-Policy",
	                               csp ? csp : "default-src 'none'; frame-ancestors 'none'") ==
	           MHD_YES &&
	       MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff") == MHD_YES &&
	       MHD_add_response_header(resp, "X-Frame-Options", "DENY") == MHD_YES &&
	       MHD_add_response_header(resp, "Referrer-Policy", "no-referrer") == MHD_YES;
}

/* A 429 says when to come back. */
static bool add_retry_after(struct MHD_Response *resp, unsigned status, int retry_after)
{
	char seconds[16];

	if (status != 429 || retry_after <= 0)
		return true;
	snprintf(seconds, sizeof(seconds), "%d", retry_after);
	return MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, seconds) == MHD_YES;
}

/* libmicrohttpd's content reader for a streamed list (stream.h). */
static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
	ssize_t n = stream_read(cls, buf, max);

	(void)pos; /* the stream knows where it is */
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* the connection ends without its last chunk: the client sees a cut, not an end */
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n;
}

static void free_stream(void *cls)
{
	stream_free(cls);
}

/*
 * The body of a raw answer: its bytes, or a stream of unknown length (sent
 * chunked), which the response takes over.
 */
static struct MHD_Response *raw_response(struct raw_answer *raw)
{
	struct MHD_Response *resp;

	if (raw->stream != NULL) {
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, read_stream,
		                                         raw->stream, free_stream);
		if (resp != NULL)
			raw->stream = NULL;
		return resp;
	}
	resp = MHD_create_response_from_buffer(raw->len, (void *)raw->body,
	                                       raw->body_owned ? MHD_RESPMEM_MUST_FREE
	                                                       : MHD_RESPMEM_PERSISTENT);
	if (resp != NULL)
		raw->body_owned = false; /* the response frees it now */
	return resp;
}

/* A raw answer (request.h): a page, a file, a redirect, a 304, a list. */
static enum MHD_Result queue_raw(struct MHD_Connection *conn, struct http_request *hr)
{
	struct raw_answer *raw = hr->req.raw;
	unsigned status = api_http_status(hr->req.status);
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = raw_response(raw);
	if (resp == NULL)
		return MHD_NO;
	if ((raw->content_type && MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                                                  raw->content_type) != MHD_YES) ||
	    (raw->etag &&
	     MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, raw->etag) != MHD_YES) ||
	    (raw->location &&
	     MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, raw->location) != MHD_YES) ||
	    (raw->link &&
	     MHD_add_response_header(resp, MHD_HTTP_HEADER_LINK, raw->link) != MHD_YES) ||
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                            raw->cache_control ? raw->cache_control : "no-store") !=
	        MHD_YES ||
	    !add_retry_after(resp, status, hr->req.retry_after) ||
	    !add_safety_headers(resp, raw->csp)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	hr->http_status = status;
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result queue_answer(struct MHD_Connection *conn, struct http_request *hr)
{
	struct request *req = &hr->req;
	struct MHD_Response *resp;
	const char *allow;
	enum MHD_Result ret;
	unsigned status;
	size_t len;
	char *body;

	if (req->raw)
		return queue_raw(conn, hr);
	body = reply_render(req, &len, &status);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	if (len > 0 && MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                                       "application/json") != MHD_YES)
		goto fail;
	/* Answers can carry secrets (a new token) and always describe live state. */
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
	    !add_safety_headers(resp, NULL))
		goto fail;
	if (status == 401 &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	                            req->authorization
	                                ? "Bearer realm=\"mgmtd\", error=\"invalid_token\""
	                                : "Bearer realm=\"mgmtd\"") != MHD_YES)
		goto fail;
	if (!add_retry_after(resp, status, req->retry_after))
		goto fail;
	/* Where a message ends is in doubt: nothing more is read from this connection. */
	if (req->bad_framing != NULL &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES)
		goto fail;
	allow = dispatch_allow_header(req);
	if (allow && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)
		goto fail;
	hr->http_status = status;
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
fail:
	MHD_destroy_response(resp);
	return MHD_NO;
}

/*
 * The test harness's fault for this request, if a rule picks it: true with *ret set
 * when the request ends here (an answer of the rule's status, or a connection closed
 * without one); a delay waits and lets it go on, as does a named fault, which the
 * request carries to where it is met.
 */
static bool injected_fault(struct http_server *srv, struct MHD_Connection *conn,
                           struct http_request *hr, enum MHD_Result *ret)
{
	struct fault_decision d = faults_decide(srv->app->faults, hr->req.method, hr->req.path);
	const union MHD_ConnectionInfo *info;
	struct MHD_Response *resp;
	char body[160];
	int len;

	switch (d.action) {
	case FAULT_NONE:
		return false;
	case FAULT_INJECT: /* met further in: dispatch.c, auth.c, the store */
		hr->req.fault = d.named;
		hr->req.fault_delay_ms = d.delay_ms;
		return false;
	case FAULT_DELAY:
		usleep((useconds_t)d.delay_ms * 1000);
		return false;
	case FAULT_STATUS:
		len = snprintf(body, sizeof(body),
		               "{\"code\":%u,\"message\":\"a fault the test harness injected "
		               "(rules[%d])\"}",
		               d.status, d.rule);
		resp = MHD_create_response_from_buffer((size_t)len, body, MHD_RESPMEM_MUST_COPY);
		if (resp == NULL || MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		                                            "application/json") != MHD_YES) {
			if (resp)
				MHD_destroy_response(resp);
			*ret = MHD_NO;
			return true;
		}
		hr->http_status = d.status;
		*ret = MHD_queue_response(conn, d.status, resp);
		MHD_destroy_response(resp);
		return true;
	case FAULT_RESET:
		/* a zero linger makes the close send RST instead of FIN */
		info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (info != NULL) {
			struct linger now = {.l_onoff = 1, .l_linger = 0};

			(void)setsockopt(info->connect_fd, SOL_SOCKET, SO_LINGER, &now,
			                 sizeof(now));
		}
		*ret = MHD_NO;
		return true;
	case FAULT_DROP:
		*ret = MHD_NO;
		return true;
	}
	return false;
}

/*
 * Called by libmicrohttpd with the URI exactly as sent, before it decodes it;
 * what it returns becomes *con_cls (and so is freed by on_completed). We keep
 * the raw path: MHD's decoding would turn "%2F" into a segment boundary and
 * "%00" into the end of the string, so router.c decodes each segment itself.
 */
/* A new request's state, cleared once (the request is most of it). */
/*
 * The state of a request is a few kilobytes: too large for malloc's
 * per-thread cache, so each malloc and free of it took malloc's slow path
 * (1 200 instructions a request). A worker thread keeps the last one it
 * finished for its next request instead; libmicrohttpd serves a
 * connection's requests on one thread, so no lock. Freed when the thread
 * ends (the key's destructor).
 */
static pthread_key_t spare_slot;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static bool spare_ok;

static void spare_init(void)
{
	spare_ok = pthread_key_create(&spare_slot, free) == 0;
}

static struct http_request *request_alloc(void)
{
	struct http_request *hr = NULL;

	pthread_once(&spare_once, spare_init);
	if (spare_ok && (hr = pthread_getspecific(spare_slot)) != NULL &&
	    pthread_setspecific(spare_slot, NULL) != 0)
		hr = NULL; /* cannot happen for a key that exists; then it stays the slot's */
	return hr != NULL ? hr : malloc(sizeof(struct http_request));
}

static void request_recycle(struct http_request *hr)
{
	if (spare_ok && pthread_getspecific(spare_slot) == NULL &&
	    pthread_setspecific(spare_slot, hr) == 0)
		return;
	free(hr);
}

static struct http_request *http_request_new(struct http_server *srv)
{
	struct http_request *hr = request_alloc();

	if (hr == NULL)
		return NULL;
	request_init(&hr->req, srv->app);
	hr->started = false;
	hr->raw_path = NULL;
	hr->body = NULL;
	hr->body_cap = 0;
	hr->discarded = 0;
	hr->started_us = 0;
	hr->http_status = 0;
	hr->conn = NULL;
	hr->queued = false;
	return hr;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_request *hr = http_request_new(cls);
	size_t path_len = strcspn(uri, "?");

	(void)conn;
	if (hr == NULL)
		return NULL;
	hr->raw_path = strndup(uri, path_len);
	hr->req.url_has_nul = strstr(uri, "%00") != NULL;
	return hr; /* raw_path NULL (out of memory) falls back to MHD's decoded url */
}

/*
 * The client's address as 16 bytes (IPv4 mapped into IPv6), for the
 * throttle, the access log and the audit trail: the peer's, or, when the
 * peer is a trusted proxy ([server] trusted_proxies), the client its
 * X-Forwarded-For names (proxies.h).
 */
static void client_address(struct MHD_Connection *conn, struct request *req,
                           const char *forwarded_for)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const struct proxies *trusted = &req->app->trusted_proxies;

	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		memset(req->client_addr, 0, 10);
		req->client_addr[10] = req->client_addr[11] = 0xff;
		memcpy(req->client_addr + 12, &in->sin_addr, 4);
		req->client_known = true;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(req->client_addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		req->client_known = true;
	}
	if (req->client_known && forwarded_for != NULL && trusted->count > 0 &&
	    proxies_contains(trusted, req->client_addr))
		(void)proxies_client(trusted, forwarded_for, req->client_addr);
}

/*
 * ---- message framing (RFC 9112 6) ----
 *
 * A request whose length two parsers could read differently is refused before
 * its body is read: a proxy in front and libmicrohttpd would otherwise split
 * the bytes into requests differently, and a second request could ride in the
 * first one's body. libmicrohttpd 0.9.75 is lenient with each of these
 * (connection.c: parse_connection_headers, process_header_line,
 * process_broken_line):
 *  - of several Content-Length headers it uses the first;
 *  - any Transfer-Encoding wins over Content-Length, and one other than exactly
 *    "chunked" makes the body last until the connection closes;
 *  - "Name : value" keeps the space in the name, so "Transfer-Encoding :" is
 *    just an unknown header to it;
 *  - a line starting with whitespace (obsolete line folding) is glued onto the
 *    previous header's *name*, so "Content-Len: 5" CRLF " gth" becomes a
 *    Content-Length of 5 to it and a field "Content-Len" to everyone else;
 *  - a line that starts with a colon or a NUL ends the header block there,
 *    and the lines after it are read as the next request;
 *  - a bare CR stays inside a value, where others may end the line.
 * What it refuses itself, with a 400 page of its own before we see the
 * request: a Content-Length that is not all digits, a line without a colon.
 *
 * Two of these leave no trace but where libmicrohttpd put the parsed text: it
 * parses the header block in place, "Name" NUL OWS "value" per line, so
 *  - a header's value lies right after its name, except for a folded header,
 *    whose name is rebuilt in a new block of the connection's memory pool,
 *    after the lines read so far: its value lies before its name;
 *  - the block ends (MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE bytes after the
 *    method) right after the last header: its value, at most a CRLF ending
 *    its line and a CRLF for the empty line. Anything longer was a line that
 *    ended the block early.
 * Addresses are compared, never read through. One case stays out of reach:
 * a one-byte line (":" or NUL) ended by a bare LF, after a line ended by
 * CRLF, takes exactly the room of the empty line's CRLF, and libmicrohttpd
 * zeroes all of them. test_attacks_http.py pins each case (that one as a
 * known gap); an upgrade of the library must pass it unchanged.
 */
/* The most a header line's end and the empty line can take: CRLF CRLF. */
#define HEADER_BLOCK_TAIL 4

/* RFC 9110 5.6.2: token = 1*tchar. */
static bool is_token(const char *s, size_t len)
{
	static const char tchar_punct[] = "!#$%&'*+-.^_`|~";

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c != '\0' && strchr(tchar_punct, c) != NULL)))
			return false;
	}
	return true;
}

/*
 * What the one pass over the headers collects: the request's own fields
 * (the first of each, as MHD_lookup_connection_value would give), the
 * headers that must come once, the client a proxy names, and what the
 * framing check needs.
 */
struct header_scan {
	struct request *req;
	unsigned seen;              /* REQUEST_REPEATED_* bits of headers met once */
	const char *forwarded_for;  /* the last X-Forwarded-For */
	const char *content_length; /* the first */
	/* framing (above) */
	const char *problem; /* static; the first thing found wrong */
	unsigned content_lengths;
	unsigned transfer_encodings;
	const char *transfer_encoding; /* the last one's value */
	uintptr_t last_value_end;      /* where the last header's value ends */
};

/* Notes a header that must come once; a second one sets its bit in repeated_headers. */
static void once(struct header_scan *hs, unsigned bit)
{
	if (hs->seen & bit)
		hs->req->repeated_headers |= bit;
	hs->seen |= bit;
}

static void first(const char **field, const char *value)
{
	if (*field == NULL)
		*field = value;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *name,
                                   size_t name_len, const char *value, size_t value_len)
{
	struct header_scan *hs = cls;
	struct request *req = hs->req;

	(void)kind;
	if (!is_token(name, name_len))
		hs->problem = "a header name must be a token: no whitespace before the colon, no "
		              "control, separator or non-ASCII byte";
	else if (value == NULL || (uintptr_t)value <= (uintptr_t)name + name_len)
		hs->problem = "a header line must not start with whitespace (obsolete line "
		              "folding)";
	else if (memchr(value, '\r', value_len) != NULL)
		hs->problem = "a header value must not hold a CR that does not end its line";
	if (hs->problem != NULL)
		return MHD_NO;
	hs->last_value_end = (uintptr_t)value + value_len;
	if (strcasecmp(name, MHD_HTTP_HEADER_AUTHORIZATION) == 0) {
		once(hs, REQUEST_REPEATED_AUTHORIZATION);
		first(&req->authorization, value);
	} else if (strcasecmp(name, MHD_HTTP_HEADER_CONTENT_TYPE) == 0) {
		once(hs, REQUEST_REPEATED_CONTENT_TYPE);
		first(&req->content_type, value);
	} else if (strcasecmp(name, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		hs->content_lengths++;
		first(&hs->content_length, value);
	} else if (strcasecmp(name, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		hs->transfer_encodings++;
		hs->transfer_encoding = value;
	} else if (strcasecmp(name, MHD_HTTP_HEADER_IF_NONE_MATCH) == 0) {
		first(&req->if_none_match, value);
	} else if (strcasecmp(name, "X-Forwarded-Method") == 0) {
		once(hs, REQUEST_REPEATED_FORWARDED_METHOD);
		req->forwarded_method = value;
	} else if (strcasecmp(name, "X-Forwarded-Uri") == 0) {
		once(hs, REQUEST_REPEATED_FORWARDED_URI);
		req->forwarded_uri = value;
	} else if (strcasecmp(name, "X-Forwarded-For") == 0) {
		hs->forwarded_for = value; /* the last one holds the nearest proxy's entry */
	}
	return MHD_YES;
}

/* True when the header block ends right after its last header (see above). */
static bool header_block_ends_after(struct MHD_Connection *conn, const char *method, uintptr_t last)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	uintptr_t end;

	if (ci == NULL)
		return false;
	end = (uintptr_t)method + ci->header_size;
	return end >= last && end - last <= HEADER_BLOCK_TAIL;
}

/*
 * Why the request's framing is refused (a static sentence), or NULL when it
 * is sound. method and version are libmicrohttpd's, pointing into the
 * request line it parsed in place.
 */
static const char *framing_problem(struct MHD_Connection *conn, const char *method,
                                   const char *version, const struct header_scan *scan)
{
	if (scan->problem != NULL)
		return scan->problem;
	if (!header_block_ends_after(conn, method, scan->last_value_end))
		return "a header line must not start with a colon or a NUL byte";
	if (scan->content_lengths > 1)
		return "Content-Length must be sent once";
	if (scan->transfer_encodings == 0)
		return NULL;
	if (scan->content_lengths > 0)
		return "Content-Length and Transfer-Encoding must not both be sent";
	if (strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
		return "an HTTP/1.0 request must not use Transfer-Encoding";
	if (scan->transfer_encodings > 1 || strcasecmp(scan->transfer_encoding, "chunked") != 0)
		return "Transfer-Encoding must be \"chunked\" alone, sent once";
	return NULL;
}

/* A Content-Length over the limit is answered before the body is read. */
static bool declared_too_large(const char *cl)
{
	char *end;
	unsigned long long n;

	if (cl == NULL)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return errno == ERANGE || (end != cl && n > REQUEST_MAX_BODY);
}

/* From the writer's thread: the change is answered; libmicrohttpd calls on_request again. */
static void resume_when_done(void *cls)
{
	struct http_request *hr = cls;

	MHD_resume_connection(hr->conn);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_request *hr = *con_cls;

	if (hr == NULL || !hr->started) {
		struct header_scan hs = {0};

		if (hr == NULL) /* on_uri ran out of memory */
			hr = http_request_new(srv);
		if (hr == NULL)
			return MHD_NO;
		hr->started = true;
		hr->started_us = time_monotonic_us();
		hr->req.method = method;
		hr->req.path = hr->raw_path ? hr->raw_path : url;
		hr->req.metrics_listener = srv->metrics_only;
		/* with no header at all, the request line is the last line */
		hs.req = &hr->req;
		hs.last_value_end = (uintptr_t)version + strlen(version);
		MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_header, &hs);
		client_address(conn, &hr->req, hs.forwarded_for);
		MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &hr->req);
		*con_cls = hr;
		atomic_fetch_add(&srv->app->in_flight, 1);
		/* Both answered now, before a byte of the body is read. */
		hr->req.bad_framing = framing_problem(conn, method, version, &hs);
		hr->req.body_too_large =
		    hr->req.bad_framing == NULL && declared_too_large(hs.content_length);
		if (hr->req.bad_framing != NULL || hr->req.body_too_large) {
			dispatch_request(&hr->req);
			return queue_answer(conn, hr);
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		bool keep = accumulate(hr, upload_data, *upload_data_size);

		*upload_data_size = 0;
		return keep ? MHD_YES : MHD_NO;
	}
	if (hr->http_status != 0) /* already answered (bad framing, 413 on Content-Length) */
		return MHD_YES;
	if (hr->queued) { /* resumed: the writer has answered the change */
		hr->queued = false;
		return queue_answer(conn, hr);
	}
	if (srv->app->faults) {
		enum MHD_Result ret;

		if (injected_fault(srv, conn, hr, &ret))
			return ret;
	}
	if (dispatch_request(&hr->req) == DISPATCH_QUEUE) {
		/*
		 * The change waits for a commit shared with others (commitq.h); this
		 * thread serves other connections meanwhile. Suspended before it is
		 * queued: the writer may be done with it at once.
		 */
		hr->queued = true;
		hr->conn = conn;
		MHD_suspend_connection(conn);
		dispatch_queue(&hr->req, resume_when_done, hr);
		return MHD_YES;
	}
	return queue_answer(conn, hr);
}

/*
 * The pieces (up to a NULL) one after the other into out, cut to fit as
 * snprintf("%s%s...") would: every access line names its principal, and
 * snprintf's parsing of a format costs more than the copying.
 */
static void join(char *out, size_t outsize, const char *const pieces[])
{
	size_t used = 0;

	for (size_t i = 0; pieces[i] != NULL && used + 1 < outsize; i++) {
		size_t n = strlen(pieces[i]);

		if (n > outsize - 1 - used)
			n = outsize - 1 - used;
		memcpy(out + used, pieces[i], n);
		used += n;
	}
	out[used] = '\0';
}

/* Who the request acted as, for the access log: an id, or what was refused. */
static void principal_text(const struct request *req, char *out, size_t outsize)
{
	const struct principal *p = &req->principal;
	bool refused = req->status == API_UNAUTHORIZED || req->auth_refused;
	const char *was = refused ? "refused " : "";

	switch (p->kind) {
	case PRINCIPAL_USER:
		join(out, outsize, (const char *const[]){"user ", p->user_id, NULL});
		return;
	case PRINCIPAL_MGMT_TOKEN:
		join(out, outsize,
		     (const char *const[]){was, "token ", p->token_id, " (", p->token_prefix, ")",
		                           NULL});
		return;
	case PRINCIPAL_DB_TOKEN:
		join(out, outsize,
		     (const char *const[]){was, "database token ", p->token_id, NULL});
		return;
	case PRINCIPAL_NONE:
		break;
	}
	if (refused) {
		char hint[STORE_AUDIT_CREDENTIAL_SIZE];

		/* the credential itself never: a token's public prefix, or "jwt" */
		audit_request_hint(req, hint, sizeof(hint));
		snprintf(out, outsize, "refused %s", hint);
		return;
	}
	out[0] = '\0';
}

/* One access-log line: method, route pattern, status, duration, who, from where. */
static void write_access_line(const struct http_request *hr, int64_t us)
{
	const struct request *req = &hr->req;
	char who[STORE_AUDIT_CREDENTIAL_SIZE + 64], client[STORE_AUDIT_CLIENT_SIZE];
	struct log_access a = {
	    .method = req->method,
	    .route = req->match.route ? req->match.route->pattern : NULL,
	    .path = req->path,
	    .status = hr->http_status,
	    .duration_us = us,
	    .principal = who,
	    .client = client,
	};

	principal_text(req, who, sizeof(who));
	request_client_text(req, client, sizeof(client));
	log_access(&a);
}

/* The request in the test harness's journal; never its own routes'. */
static void journal_request(struct journal *j, const struct http_request *hr, int64_t us)
{
	const struct request *req = &hr->req;
	const struct principal *p = &req->principal;
	const char *kinds[] = {[PRINCIPAL_NONE] = "none",
	                       [PRINCIPAL_USER] = "user",
	                       [PRINCIPAL_MGMT_TOKEN] = "managementToken",
	                       [PRINCIPAL_DB_TOKEN] = "databaseToken"};
	const char *route = req->match.route ? req->match.route->pattern : NULL;
	struct route_match m;
	struct journal_request r;

	/* an injected fault answered before routing: the pattern all the same */
	if (route == NULL &&
	    router_match(routes, route_count, req->method, req->path, &m) == ROUTER_FOUND)
		route = m.route->pattern;
	r = (struct journal_request){
	    .method = req->method,
	    .route = route,
	    .path = req->path,
	    .status = hr->http_status,
	    .actor_kind = kinds[p->kind],
	    .actor_id = p->kind == PRINCIPAL_USER   ? p->user_id
	                : p->kind == PRINCIPAL_NONE ? NULL
	                                            : p->token_id,
	    .at_ms = time_now_ms(),
	    .duration_us = us,
	    .body = req->json,
	    .raw_body_len = req->body_len,
	};
	if (route && strncmp(route, "/_test/requests", 15) == 0)
		return;
	journal_record(j, &r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct http_request *hr = *con_cls;
	int64_t us;

	(void)conn;
	if (hr == NULL)
		return;
	us = time_monotonic_us() - hr->started_us;
	if (hr->http_status != 0)
		metrics_request(hr->req.match.route, hr->http_status, us);
	if (srv->app->cfg.access_log && hr->http_status != 0)
		write_access_line(hr, us);
	if (srv->app->journal && hr->http_status != 0)
		journal_request(srv->app->journal, hr, us);
	else if (srv->app->cfg.access_log && hr->started &&
	         toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_info("%s %s: connection closed before an answer (code %d)", hr->req.method,
		         hr->req.path, (int)toe);
	request_release(&hr->req);
	free(hr->raw_path);
	free(hr->body);
	if (hr->started)
		atomic_fetch_sub(&srv->app->in_flight, 1);
	request_recycle(hr);
	*con_cls = NULL;
}

/* Once stopping, a new connection is closed as soon as it is accepted. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct http_server *srv = cls;

	(void)addr;
	(void)addrlen;
	return atomic_load(&srv->stopping) ? MHD_NO : MHD_YES;
}

/* libmicrohttpd hands over printf-style formats of its own. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("libmicrohttpd: %s", line);
}

/*
 * TLS: a connection takes a reference to the certificate set in use when it
 * is accepted and drops it when it closes (tls.h). The reference lives in
 * the connection's socket context, where the certificate callback, which
 * GnuTLS calls during the handshake, finds it.
 */
struct tls_slot {
	struct tls_creds *creds;
};

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct http_server *srv = cls;
	struct tls_slot *slot = *socket_context;

	(void)conn;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		slot = calloc(1, sizeof(*slot));
		if (slot != NULL)
			slot->creds = tls_acquire(srv->tls);
		*socket_context = slot; /* NULL: the handshake fails, the connection closes */
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && slot != NULL) {
		tls_release(slot->creds);
		free(slot);
		*socket_context = NULL;
	}
}

/*
 * GnuTLS's certificate callback. libmicrohttpd 0.9.75 sets the session's
 * pointer to its connection (daemon.c, new_connection_prepare_), which is how
 * the connection's slot is found.
 */
static int on_certificate(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                          const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                          gnutls_pcert_st **pcert, unsigned int *pcert_length,
                          gnutls_privkey_t *privkey)
{
	struct MHD_Connection *conn = gnutls_session_get_ptr(session);
	const union MHD_ConnectionInfo *ci =
	    conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
	struct tls_slot *slot = ci ? ci->socket_context : NULL;

	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (slot == NULL || slot->creds == NULL)
		return -1;
	tls_creds_use(slot->creds, pcert, pcert_length, privkey);
	return 0;
}

static int open_listener(const char *host, unsigned port, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[8];
	int fd = -1, rc, saved = 0;
	int one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve listen address %s: %s", host,
		         gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		            ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
		    (ai->ai_family != AF_INET6 ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == 0) &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 511) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "cannot listen on %s:%u: %s", host, port, strerror(saved));
	return fd;
}

static unsigned bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

int http_bind(const char *host, unsigned port, struct http_server **out, char *err, size_t errlen)
{
	struct http_server *srv = calloc(1, sizeof(*srv));

	*out = NULL;
	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	srv->listen_fd = open_listener(host, port, err, errlen);
	if (srv->listen_fd < 0) {
		free(srv);
		return -1;
	}
	srv->port = bound_port(srv->listen_fd);
	*out = srv;
	return 0;
}

int http_adopt(int fd, struct http_server **out, char *err, size_t errlen)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	int flags = fcntl(fd, F_GETFL);

	*out = NULL;
	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* libmicrohttpd's epoll threads expect what open_listener makes */
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		snprintf(err, errlen, "the passed socket %d: %s", fd, strerror(errno));
		free(srv);
		return -1;
	}
	srv->listen_fd = fd;
	srv->port = bound_port(fd);
	*out = srv;
	return 0;
}

void http_serve_metrics_only(struct http_server *srv)
{
	srv->metrics_only = true;
}

int http_run(struct http_server *srv, struct app *app, char *err, size_t errlen)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads =
	    app->cfg.threads > 0 ? (unsigned)app->cfg.threads : (unsigned)(cpus > 0 ? cpus : 1);
	/* HTTPS only when [server] tls_cert and tls_key are set (main.c loads them). */
	struct MHD_OptionItem tls_options[] = {
	    {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)on_certificate},
	    {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)tls_priorities()},
	    {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, srv},
	    {MHD_OPTION_END, 0, NULL},
	};
	struct MHD_OptionItem no_options[] = {{MHD_OPTION_END, 0, NULL}};

	srv->app = app;
	srv->tls = app->tls;
	if (srv->metrics_only)
		threads = 1; /* a scrape now and then */
	srv->daemon = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
	        MHD_ALLOW_SUSPEND_RESUME | (srv->tls ? MHD_USE_TLS : 0),
	    0, on_accept, srv, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
	    (void *)NULL, MHD_OPTION_ARRAY, srv->tls ? tls_options : no_options,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)srv->listen_fd, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned int)threads, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)app->cfg.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)app->cfg.request_timeout, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned int)app->cfg.max_connections_per_address, MHD_OPTION_END);
	if (srv->daemon == NULL) {
		snprintf(err, errlen, "libmicrohttpd could not start on port %u", srv->port);
		return -1;
	}
	return 0;
}

unsigned http_port(const struct http_server *srv)
{
	return srv->port;
}

void http_drain(struct http_server *srv, int drain_ms)
{
	int64_t deadline;

	if (srv == NULL || srv->daemon == NULL)
		return;
	/*
	 * Stop taking connections first; those already open keep being served.
	 * Not with MHD_quiesce_daemon: with epoll and worker threads it races
	 * the workers' own removal of the listening socket from their epoll sets
	 * and aborts the process ("Failed to remove listen FD from epoll set",
	 * libmicrohttpd 0.9.75; seen under load at SIGTERM). The accept policy
	 * closes new connections instead, and MHD_stop_daemon closes the socket.
	 */
	atomic_store(&srv->stopping, true);
	deadline = time_monotonic_us() + (int64_t)drain_ms * 1000;
	while (atomic_load(&srv->app->in_flight) > 0 && time_monotonic_us() < deadline)
		usleep(10 * 1000);
	if (atomic_load(&srv->app->in_flight) > 0)
		log_warn("stopping with %ld requests still in flight",
		         atomic_load(&srv->app->in_flight));
}

void http_stop(struct http_server *srv, int drain_ms)
{
	if (srv == NULL)
		return;
	if (srv->daemon == NULL) { /* bound, never run */
		close(srv->listen_fd);
		free(srv);
		return;
	}
	http_drain(srv, drain_ms);
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
