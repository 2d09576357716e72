/*
 * request.c - lifecycle and accessors of struct request.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "stream.h"
#include "util.h"

void request_init(struct request *req, struct app *app)
{
	memset(req, 0, sizeof(*req));
	req->app = app;
	req->status = API_INTERNAL; /* until something decides otherwise */
}

void request_release(struct request *req)
{
	json_decref(req->json);
	req->json = NULL;
	json_decref(req->reply);
	req->reply = NULL;
	free(req->committed_event);
	req->committed_event = NULL;
	request_drop_raw(req);
}

void request_drop_raw(struct request *req)
{
	if (req->raw == NULL)
		return;
	if (req->raw->body_owned)
		free((char *)req->raw->body);
	free(req->raw->csp);
	free(req->raw->location);
	free(req->raw->link);
	stream_free(req->raw->stream);
	free(req->raw);
	req->raw = NULL;
}

const char *request_param(const struct request *req, const char *name)
{
	return route_param(&req->match, name);
}

const char *request_query(const struct request *req, const char *key)
{
	for (size_t i = 0; i < req->query_count; i++)
		if (strcmp(req->query[i].key, key) == 0)
			return req->query[i].value;
	return NULL;
}

void request_client_text(const struct request *req, char *out, size_t outsize)
{
	static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char text[INET6_ADDRSTRLEN];
	const char *r = NULL;
	bool v4;

	if (outsize == 0)
		return;
	out[0] = '\0';
	if (!req->client_known)
		return;
	v4 = memcmp(req->client_addr, v4_mapped, sizeof(v4_mapped)) == 0;
	if (v4 && outsize >= INET_ADDRSTRLEN) {
		/* every request logs one: digits by hand (glibc's inet_ntop runs sprintf) */
		char *o = out;

		for (int i = 12; i < 16; i++) {
			unsigned v = req->client_addr[i];

			if (v >= 100)
				*o++ = (char)('0' + v / 100);
			if (v >= 10)
				*o++ = (char)('0' + v / 10 % 10);
			*o++ = (char)('0' + v % 10);
			*o++ = i < 15 ? '.' : '\0';
		}
		return;
	}
	/* straight into out when it has room for any address (the usual case) */
	if (outsize >= INET6_ADDRSTRLEN) {
		if (inet_ntop(v4 ? AF_INET : AF_INET6,
		              v4 ? req->client_addr + 12 : req->client_addr, out,
		              (socklen_t)outsize) == NULL)
			out[0] = '\0';
		return;
	}
	if (v4)
		r = inet_ntop(AF_INET, req->client_addr + 12, text, sizeof(text));
	else
		r = inet_ntop(AF_INET6, req->client_addr, text, sizeof(text));
	if (r != NULL)
		(void)str_copy(out, outsize, text); /* cut short: the caller's choice of size */
}
