/*
 * body.c - JSON request bodies: parse once, then read typed fields.
 */
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "request.h"
#include "timeutil.h"
#include "util.h"

enum api_status body_parse_object(struct request *req)
{
	json_error_t jerr;
	json_t *root;

	if (req->body == NULL || req->body_len == 0)
		return api_fail(req, API_BAD_REQUEST, "a JSON object body is required");
	/* Duplicate keys are refused: which one wins would be a guess. */
	root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return api_fail(req, API_BAD_REQUEST, "malformed JSON at line %d, column %d: %s",
		                jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return api_fail(req, API_BAD_REQUEST, "the request body must be a JSON object");
	}
	json_decref(req->json);
	req->json = root;
	return API_OK;
}

/* Decodes len bytes of a form key or value into out (at least len bytes); -1 when malformed. */
static long form_decode(const char *s, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '+') {
			out[n++] = ' ';
		} else if (s[i] == '%') {
			if (i + 2 >= len)
				return -1;
			hi = hex_digit_value(s[i + 1]);
			lo = hex_digit_value(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1; /* a NUL would cut the value short */
			out[n++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	return (long)n;
}

enum api_status body_parse_form(struct request *req)
{
	json_t *root;
	char *buf;
	const char *p, *end;

	if (req->body == NULL || req->body_len == 0)
		return api_fail(req, API_BAD_REQUEST,
		                "a body is required: a form (email=...) or a JSON object");
	root = json_object();
	buf = malloc(req->body_len + 1);
	if (!root || !buf) {
		json_decref(root);
		free(buf);
		return api_fail(req, API_INTERNAL, "out of memory");
	}
	p = req->body;
	end = req->body + req->body_len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *kend = eq ? eq : stop;
		long klen, vlen;
		json_t *value;

		if (stop == p) { /* "a=1&&b=2": an empty pair is nothing */
			p = stop + 1;
			continue;
		}
		klen = form_decode(p, (size_t)(kend - p), buf);
		if (klen <= 0)
			goto malformed;
		buf[klen] = '\0';
		if (json_object_get(root, buf)) {
			json_decref(root);
			api_fail(req, API_BAD_REQUEST, "the form field \"%.64s\" is given twice",
			         buf);
			free(buf);
			return API_BAD_REQUEST;
		}
		/* the key is done with buf: decode the value behind it */
		vlen = eq ? form_decode(eq + 1, (size_t)(stop - eq - 1), buf + klen + 1) : 0;
		if (vlen < 0)
			goto malformed;
		value = json_stringn(buf + klen + 1, (size_t)vlen);
		if (!value || json_object_set_new(root, buf, value) != 0)
			goto malformed; /* not UTF-8 */
		p = amp ? amp + 1 : end;
	}
	free(buf);
	json_decref(req->json);
	req->json = root;
	req->form = true;
	return API_OK;
malformed:
	free(buf);
	json_decref(root);
	return api_fail(req, API_BAD_REQUEST,
	                "malformed form body: bad %%-escape, NUL byte, empty key or invalid UTF-8");
}

static bool in_list(const char *key, const char *const list[])
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], key) == 0)
			return true;
	return false;
}

enum api_status body_check_fields(struct request *req, const char *const allowed[])
{
	const char *key;
	json_t *value;

	json_object_foreach(req->json, key, value)
	{
		(void)value;
		if (!in_list(key, allowed))
			return api_fail(req, API_BAD_REQUEST,
			                "unknown field \"%.64s\" in the request body", key);
	}
	return API_OK;
}

enum api_status body_require_any(struct request *req, const char *const fields[])
{
	for (size_t i = 0; fields[i]; i++)
		if (json_object_get(req->json, fields[i]))
			return API_OK;
	return api_fail(req, API_BAD_REQUEST,
	                "the request body changes nothing: give at least one field");
}

bool body_has(const struct request *req, const char *field)
{
	return json_object_get(req->json, field) != NULL;
}

enum api_status body_string(struct request *req, const char *field, bool required, bool nullable,
                            const char **out)
{
	json_t *v = json_object_get(req->json, field);

	*out = NULL;
	if (v == NULL || (nullable && json_is_null(v))) {
		if (required)
			return api_fail(req, API_BAD_REQUEST, "the field \"%s\" is required",
			                field);
		return API_OK;
	}
	if (!json_is_string(v))
		return api_fail(req, API_BAD_REQUEST, "the field \"%s\" must be a string", field);
	*out = json_string_value(v);
	return API_OK;
}

enum api_status body_time(struct request *req, const char *field, int64_t *out)
{
	const char *text;
	enum api_status st;

	*out = 0;
	st = body_string(req, field, false, true, &text);
	if (st != API_OK || text == NULL)
		return st;
	if (time_parse_rfc3339(text, out) != 0)
		return api_fail(req, API_BAD_REQUEST,
		                "the field \"%s\" must be an RFC 3339 date-time such as "
		                "2026-11-28T18:00:00Z",
		                field);
	return API_OK;
}

enum api_status body_int(struct request *req, const char *field, int64_t min, int64_t max,
                         int64_t *out, bool *present)
{
	json_t *v = json_object_get(req->json, field);
	json_int_t n;

	*present = v != NULL;
	if (v == NULL)
		return API_OK;
	/* jansson reads 500.0 and 5e2 as reals: only plain integers pass. */
	if (!json_is_integer(v) || (n = json_integer_value(v)) < min || n > max)
		return api_fail(req, API_BAD_REQUEST,
		                "the field \"%s\" must be an integer from %lld to %lld", field,
		                (long long)min, (long long)max);
	*out = (int64_t)n;
	return API_OK;
}
