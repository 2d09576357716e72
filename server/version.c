/*
 * version.c - the build's version and the libraries' versions.
 *
 * The Makefile passes MGMTD_VERSION and MGMTD_BUILT_WITH (pkg-config's
 * --modversion of every library); the running versions come from the
 * libraries themselves where they offer a call, since a shared library can
 * be upgraded under a binary.
 */
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

#include "version.h"

#ifndef MGMTD_VERSION
#define MGMTD_VERSION "0.0.0-unknown"
#endif
#ifndef MGMTD_BUILT_WITH
#define MGMTD_BUILT_WITH ""
#endif

const char *version_string(void)
{
	return MGMTD_VERSION;
}

/* The version of pkg-config module name this build was compiled against, or "?". */
static void built_with(const char *name, char *out, size_t outsize)
{
	/* MGMTD_BUILT_WITH is "name=version name=version ..." */
	const char *all = MGMTD_BUILT_WITH;
	size_t len = strlen(name);

	for (const char *p = all; (p = strstr(p, name)) != NULL; p += len) {
		if ((p == all || p[-1] == ' ') && p[len] == '=') {
			size_t n = strcspn(p + len + 1, " ");

			if (n >= outsize)
				n = outsize - 1;
			memcpy(out, p + len + 1, n);
			out[n] = '\0';
			return;
		}
	}
	snprintf(out, outsize, "?");
}

void version_print(FILE *out)
{
	static const struct {
		const char *label, *module;
	} libs[] = {
	    {"libmicrohttpd", "libmicrohttpd"},
	    {"GnuTLS", "gnutls"},
	    {"jansson", "jansson"},
	    {"SQLite", "sqlite3"},
	    {"libsodium", "libsodium"},
	    {"libjwt", "libjwt"},
	    {"OpenSSL", "openssl"},
	    {"libcurl", "libcurl"},
	    {"inih", "inih"},
	    {"libsystemd", "libsystemd"},
	};
	const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
	const char *running[sizeof(libs) / sizeof(libs[0])] = {
	    MHD_get_version(),
	    gnutls_check_version(NULL),
	    jansson_version_str(),
	    sqlite3_libversion(),
	    sodium_version_string(),
	    NULL, /* libjwt 1.10 has no version call */
	    OpenSSL_version(OPENSSL_VERSION),
	    curl ? curl->version : NULL,
	    NULL, /* inih: none */
	    NULL, /* libsystemd: none */
	};

	fprintf(out, "mgmtd %s\n", MGMTD_VERSION);
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		char built[64];

		built_with(libs[i].module, built, sizeof(built));
		if (running[i])
			fprintf(out, "  %-14s %s (built with %s)\n", libs[i].label, running[i],
			        built);
		else
			fprintf(out, "  %-14s %s (built with; no run-time version call)\n",
			        libs[i].label, built);
	}
	fprintf(out, "  libmicrohttpd TLS support: %s\n",
	        MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES ? "yes" : "no");
}
