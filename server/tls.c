/*
 * tls.c - certificate and key sets for HTTPS, read with GnuTLS.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "timeutil.h"
#include "tls.h"
#include "util.h"

#define TLS_MAX_CHAIN 16

struct tls_creds {
	atomic_int refs;
	gnutls_pcert_st chain[TLS_MAX_CHAIN];
	unsigned chain_len;
	gnutls_privkey_t key;
	char description[512];
};

struct tls_holder {
	char *cert_path, *key_path;
	pthread_mutex_t lock; /* guards current, for a pointer copy only */
	struct tls_creds *current;
};

const char *tls_priorities(void)
{
	/* No TLS 1.0 or 1.1, whatever the system's defaults allow. */
	return "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE";
}

static void creds_free(struct tls_creds *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->chain_len; i++)
		gnutls_pcert_deinit(&c->chain[i]);
	if (c->key)
		gnutls_privkey_deinit(c->key);
	free(c);
}

void tls_release(struct tls_creds *c)
{
	if (c != NULL && atomic_fetch_sub(&c->refs, 1) == 1)
		creds_free(c);
}

/* The DER encoding of a public key, for comparing two (caller frees out->data). */
static int pubkey_der(gnutls_pubkey_t pub, gnutls_datum_t *out)
{
	return gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, out);
}

/* Does key belong to the certificate pcert? */
static int key_matches(gnutls_pcert_st *pcert, gnutls_privkey_t key, const char **why)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t a = {NULL, 0}, b = {NULL, 0};
	int ok = 0;

	*why = "cannot read the public key";
	if (gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0 ||
	    pubkey_der(pub, &a) < 0 || pubkey_der(pcert->pubkey, &b) < 0)
		goto out;
	*why = "the private key is not the key of the certificate";
	ok = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
out:
	gnutls_free(a.data);
	gnutls_free(b.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	return ok;
}

/* "CN=x,O=y; expires ..." of the leaf. */
static void describe(struct tls_creds *c)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t dn = {NULL, 0};
	char when[RFC3339_SIZE] = "?";
	time_t expires;

	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &c->chain[0].cert, GNUTLS_X509_FMT_DER) >= 0) {
		expires = gnutls_x509_crt_get_expiration_time(crt);
		if (expires != (time_t)-1)
			time_format_rfc3339((int64_t)expires * 1000, when);
		if (gnutls_x509_crt_get_dn3(crt, &dn, 0) < 0)
			dn.data = NULL;
	}
	snprintf(c->description, sizeof(c->description), "%.400s; expires %s",
	         dn.data ? (const char *)dn.data : "(no subject)", when);
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
}

static int creds_load(const char *cert_path, const char *key_path, struct tls_creds **out,
                      char *err, size_t errlen)
{
	gnutls_datum_t cert = {NULL, 0}, key = {NULL, 0};
	struct tls_creds *c = calloc(1, sizeof(*c));
	const char *why;
	unsigned n = TLS_MAX_CHAIN;
	int rc;

	*out = NULL;
	if (c == NULL) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	atomic_init(&c->refs, 1);
	if ((rc = gnutls_load_file(cert_path, &cert)) < 0) {
		set_err(err, errlen, "[server] tls_cert %s: cannot read: %s", cert_path,
		        gnutls_strerror(rc));
		goto fail;
	}
	if ((rc = gnutls_load_file(key_path, &key)) < 0) {
		set_err(err, errlen, "[server] tls_key %s: cannot read: %s", key_path,
		        gnutls_strerror(rc));
		goto fail;
	}
	rc = gnutls_pcert_list_import_x509_raw(c->chain, &n, &cert, GNUTLS_X509_FMT_PEM,
	                                       GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
	if (rc < 0 || n == 0) {
		set_err(
		    err, errlen,
		    "[server] tls_cert %s: not a PEM certificate chain, leaf first (at most %d): "
		    "%s",
		    cert_path, TLS_MAX_CHAIN, rc < 0 ? gnutls_strerror(rc) : "no certificate");
		goto fail;
	}
	c->chain_len = n;
	if ((rc = gnutls_privkey_init(&c->key)) < 0 ||
	    (rc = gnutls_privkey_import_x509_raw(c->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		set_err(err, errlen, "[server] tls_key %s: not an unencrypted PEM private key: %s",
		        key_path, gnutls_strerror(rc));
		goto fail;
	}
	if (!key_matches(&c->chain[0], c->key, &why)) {
		set_err(err, errlen, "[server] tls_key %s does not go with tls_cert %s: %s",
		        key_path, cert_path, why);
		goto fail;
	}
	describe(c);
	gnutls_memset(key.data, 0, key.size);
	gnutls_free(key.data);
	gnutls_free(cert.data);
	*out = c;
	return 0;
fail:
	if (key.data)
		gnutls_memset(key.data, 0, key.size);
	gnutls_free(key.data);
	gnutls_free(cert.data);
	creds_free(c);
	return -1;
}

int tls_holder_new(const char *cert_path, const char *key_path, struct tls_holder **out, char *err,
                   size_t errlen)
{
	struct tls_holder *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (h == NULL || (h->cert_path = strdup(cert_path)) == NULL ||
	    (h->key_path = strdup(key_path)) == NULL) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	if (creds_load(cert_path, key_path, &h->current, err, errlen) != 0)
		goto fail;
	if (pthread_mutex_init(&h->lock, NULL) != 0) {
		set_err(err, errlen, "cannot create a mutex");
		tls_release(h->current);
		goto fail;
	}
	*out = h;
	return 0;
fail:
	if (h) {
		free(h->cert_path);
		free(h->key_path);
	}
	free(h);
	return -1;
}

int tls_holder_reload(struct tls_holder *h, char *err, size_t errlen)
{
	struct tls_creds *fresh, *old;

	if (creds_load(h->cert_path, h->key_path, &fresh, err, errlen) != 0)
		return -1;
	pthread_mutex_lock(&h->lock);
	old = h->current;
	h->current = fresh;
	pthread_mutex_unlock(&h->lock);
	tls_release(old); /* freed now, or by the last connection that holds it */
	return 0;
}

struct tls_creds *tls_acquire(struct tls_holder *h)
{
	struct tls_creds *c;

	pthread_mutex_lock(&h->lock);
	c = h->current;
	atomic_fetch_add(&c->refs, 1);
	pthread_mutex_unlock(&h->lock);
	return c;
}

void tls_creds_use(struct tls_creds *c, gnutls_pcert_st **chain, unsigned *chain_len,
                   gnutls_privkey_t *key)
{
	*chain = c->chain;
	*chain_len = c->chain_len;
	*key = c->key;
}

void tls_holder_describe(struct tls_holder *h, char *out, size_t outsize)
{
	struct tls_creds *c = tls_acquire(h);

	snprintf(out, outsize, "%s", c->description);
	tls_release(c);
}

void tls_holder_free(struct tls_holder *h)
{
	if (h == NULL)
		return;
	tls_release(h->current);
	pthread_mutex_destroy(&h->lock);
	free(h->cert_path);
	free(h->key_path);
	free(h);
}
