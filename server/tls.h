/*
 * tls.h - the server's certificate and key for HTTPS ([server] tls_cert,
 * tls_key), read with GnuTLS, and their reload on SIGHUP.
 *
 * A struct tls_creds is immutable and reference-counted: one certificate
 * chain and its private key. The holder keeps the current one; a reload
 * builds a new set aside and swaps the pointer under a mutex held for that
 * copy only. Each connection takes a reference when it is accepted (http.c)
 * and drops it when it closes, so a reload never pulls a certificate from
 * under a handshake or an open connection, and the old set is freed by
 * whoever drops its last reference.
 */
#ifndef MGMTD_TLS_H
#define MGMTD_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stddef.h>

struct tls_creds;
struct tls_holder;

/*
 * Reads the PEM certificate chain (leaf first) and the PEM private key,
 * and checks that the key is the certificate's. Returns 0, or -1 with a
 * message naming the file and the problem in err.
 */
int tls_holder_new(const char *cert_path, const char *key_path, struct tls_holder **out, char *err,
                   size_t errlen);

/* Rereads both files; on failure the current set stays in use. 0 or -1 with err. */
int tls_holder_reload(struct tls_holder *h, char *err, size_t errlen);

/* The current set, with a reference the caller must drop (tls_release). */
struct tls_creds *tls_acquire(struct tls_holder *h);

/* Drops a reference; the last one frees the set. NULL is fine. */
void tls_release(struct tls_creds *c);

/* The certificate chain and key of c, for GnuTLS's certificate callback; owned by c. */
void tls_creds_use(struct tls_creds *c, gnutls_pcert_st **chain, unsigned *chain_len,
                   gnutls_privkey_t *key);

/* "CN=...; expires 2027-01-01T00:00:00.000Z" of the current leaf, for log lines. */
void tls_holder_describe(struct tls_holder *h, char *out, size_t outsize);

/* Frees the holder's reference; sets still held by connections live on until released. */
void tls_holder_free(struct tls_holder *h);

/* The GnuTLS priority string: TLS 1.3 and 1.2 only, the server's order of ciphers. */
const char *tls_priorities(void);

#endif
