/*
 * fuzz_devdevice.c - what devices and browsers send the dev IdP's device
 * authorization grant, through the real request path (dispatch.c, form
 * parsing, the handlers, the pending-code table).
 *
 * Input: one byte choosing the target, then the rest:
 *   0: the body of POST /oauth/device/code
 *   1: the body of POST /oauth/token after "grant_type=<the device grant>&"
 *   2: the body of POST /activate (the verification page's form)
 *   3: the same for a real pending code, after "user_code=CODE&csrf_token=TOKEN&"
 *      (so that approvals, denials and the minting behind them are reached)
 *   4: the user_code of GET /activate?user_code=...
 * The harness checks every answer (no 500, escaped pages, OAuth errors as raw
 * JSON); the query case is checked here the same way.
 */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devdevice.h"
#include "devidp.h"
#include "dispatch.h"
#include "harness.h"
#include "request.h"
#include "timeutil.h"

static const char form[] = "application/x-www-form-urlencoded";

static void open_dev_idp(struct fuzz_server *fs)
{
	char err[256];

	dev_idp_free(fs->app.dev_idp);
	fs->app.dev_idp = NULL;
	if (dev_idp_open("", "http://127.0.0.1:1", "mgmtd", &fs->app.dev_idp, err, sizeof(err)) !=
	    0)
		abort();
}

static struct fuzz_server *server(void)
{
	struct fuzz_server *fs = fuzz_server();

	if (fs->app.dev_idp == NULL)
		open_dev_idp(fs);
	return fs;
}

static void post(struct fuzz_server *fs, const char *path, const char *prefix, const uint8_t *data,
                 size_t size)
{
	size_t n = strlen(prefix);
	char *body = malloc(n + size + 1);

	if (body == NULL)
		abort();
	memcpy(body, prefix, n);
	memcpy(body + n, data, size);
	fuzz_request(fs, "POST", path, NULL, form, body, n + size);
	free(body);
}

/* "user_code=CODE&csrf_token=TOKEN&" of a fresh pending authorization (malloc'ed). */
static char *pending_form(struct fuzz_server *fs)
{
	struct dev_device_start start;
	struct dev_device_view view;
	char *out = malloc(160);

	if (out == NULL)
		abort();
	if (dev_devices_start(dev_idp_devices(fs->app.dev_idp), DEV_DEVICE_CLIENT_ID, NULL,
	                      time_now_ms(), &start) != DEV_DEVICE_STARTED) {
		/* the slots taken by target 0 (the clock never moves): start afresh */
		open_dev_idp(fs);
		if (dev_devices_start(dev_idp_devices(fs->app.dev_idp), DEV_DEVICE_CLIENT_ID, NULL,
		                      time_now_ms(), &start) != DEV_DEVICE_STARTED)
			abort();
	}
	if (!dev_devices_find(dev_idp_devices(fs->app.dev_idp), start.user_code, time_now_ms(),
	                      &view))
		abort();
	snprintf(out, 160, "user_code=%s&csrf_token=%s&", view.user_code, view.csrf_token);
	return out;
}

static void get_page(struct fuzz_server *fs, const uint8_t *data, size_t size)
{
	struct request req;
	char *code = strndup((const char *)data, size);
	unsigned status;

	if (code == NULL)
		abort();
	request_init(&req, &fs->app);
	req.method = "GET";
	req.path = DEV_DEVICE_VERIFY_PATH;
	req.query[0].key = "user_code";
	req.query[0].value = code;
	req.query_count = 1;
	dispatch_request(&req);
	status = api_http_status(req.status);
	if (status == 500 || req.raw == NULL || req.raw->body == NULL ||
	    memmem(req.raw->body, req.raw->len, "<x", 2) ||
	    memmem(req.raw->body, req.raw->len, "<script", 7)) {
		fprintf(stderr, "fuzz invariant violated: GET /activate -> %u\n", status);
		abort();
	}
	request_release(&req);
	free(code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_server *fs = server();
	char *prefix;

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		post(fs, DEV_DEVICE_CODE_PATH, "", data + 1, size - 1);
		break;
	case 1:
		post(fs, "/oauth/token",
		     "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&", data + 1,
		     size - 1);
		break;
	case 2:
		post(fs, DEV_DEVICE_VERIFY_PATH, "", data + 1, size - 1);
		break;
	case 3:
		prefix = pending_form(fs);
		post(fs, DEV_DEVICE_VERIFY_PATH, prefix, data + 1, size - 1);
		free(prefix);
		break;
	default:
		get_page(fs, data + 1, size - 1);
		break;
	}
	return 0;
}
