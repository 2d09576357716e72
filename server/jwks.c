/*
 * jwks.c - JSON Web Key Set to OpenSSL public keys.
 *
 * Every key is rebuilt as an EVP_PKEY from its JWK parameters, checked with
 * EVP_PKEY_public_check, kept for jws_verify, and written out as a
 * SubjectPublicKeyInfo PEM (what set digests compare). Nothing here logs: the
 * caller decides what to do with err.
 */
#include "jwks.h"
#include "jws.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

/* A JWKS is a handful of keys; anything far bigger is a wrong file or an attack. */
#define JWKS_MAX_FILE (1024 * 1024)
#define JWKS_MAX_KEYS 256

/* Below 2048 bits an RSA signature is not worth checking; above 16384 it is a DoS. */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384

enum key_verdict { KEY_OK, KEY_SKIP, KEY_FAIL };

/* A JSON string without embedded NUL bytes, or NULL. */
static const char *plain_string(const json_t *v)
{
	const char *s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return NULL;
	return s;
}

/*
 * Decodes base64url, with or without padding. Returns a buffer the caller
 * frees, or NULL when s is not base64url or on allocation failure.
 */
static unsigned char *b64url_decode(const char *s, size_t *outlen)
{
	size_t slen = strlen(s);
	size_t cap;
	unsigned char *buf;
	const char *end = NULL;
	int pad = 0;

	while (slen > 0 && s[slen - 1] == '=' && pad < 2) {
		slen--;
		pad++;
	}
	cap = slen / 4 * 3 + 3;
	buf = malloc(cap);
	if (!buf)
		return NULL;
	if (sodium_base642bin(buf, cap, s, slen, NULL, outlen, &end,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != s + slen) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Decodes standard base64 (x5c), tolerating line breaks. Caller frees. */
static unsigned char *b64std_decode(const char *s, size_t *outlen)
{
	size_t slen = strlen(s);
	size_t cap = slen / 4 * 3 + 3;
	unsigned char *buf;
	const char *end = NULL;

	buf = malloc(cap);
	if (!buf)
		return NULL;
	if (sodium_base642bin(buf, cap, s, slen, " \t\r\n", outlen, &end,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != s + slen) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The kid for an error message, only when it is short printable ASCII. */
static void describe_key(size_t index, const json_t *k, char *out, size_t outlen)
{
	const char *kid = json_is_object(k) ? plain_string(json_object_get(k, "kid")) : NULL;
	bool printable = kid && *kid && strlen(kid) <= 64;

	for (const char *p = kid; printable && *p; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"')
			printable = false;
	if (printable)
		snprintf(out, outlen, "key %zu (kid \"%s\")", index, kid);
	else
		snprintf(out, outlen, "key %zu", index);
}

/* Writes pkey as a SubjectPublicKeyInfo PEM into key->pem (malloc'd, NUL-terminated). */
static int pkey_to_pem(EVP_PKEY *pkey, struct jwk *key)
{
	BIO *bio = NULL;
	char *data = NULL;
	long n;
	int rc = -1;

	bio = BIO_new(BIO_s_mem());
	if (!bio)
		goto out;
	if (PEM_write_bio_PUBKEY(bio, pkey) != 1)
		goto out;
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || !data)
		goto out;
	key->pem = malloc((size_t)n + 1);
	if (!key->pem)
		goto out;
	memcpy(key->pem, data, (size_t)n);
	key->pem[n] = '\0';
	key->pem_len = (size_t)n;
	rc = 0;
out:
	BIO_free(bio);
	return rc;
}

/* Decodes a required base64url member of k. Caller frees. */
static unsigned char *member_b64url(const json_t *k, const char *name, size_t *len, char *why,
                                    size_t whylen)
{
	const char *s = plain_string(json_object_get(k, name));
	unsigned char *bin;

	if (!s) {
		snprintf(why, whylen, "\"%s\" is missing or not a string", name);
		return NULL;
	}
	bin = b64url_decode(s, len);
	if (!bin) {
		snprintf(why, whylen, "\"%s\" is not valid base64url", name);
		return NULL;
	}
	if (*len == 0) {
		free(bin);
		snprintf(why, whylen, "\"%s\" is empty", name);
		return NULL;
	}
	return bin;
}

/* Builds an RSA public key from the JWK's n and e. Caller frees with EVP_PKEY_free. */
static EVP_PKEY *rsa_from_jwk(const json_t *k, char *why, size_t whylen)
{
	unsigned char *n = NULL, *e = NULL;
	size_t nlen = 0, elen = 0;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	n = member_b64url(k, "n", &nlen, why, whylen);
	if (!n)
		goto out;
	e = member_b64url(k, "e", &elen, why, whylen);
	if (!e)
		goto out;
	if (nlen > RSA_MAX_BITS / 8 + 1 || elen > 8) {
		snprintf(why, whylen, "RSA parameters are too large");
		goto out;
	}
	bn_n = BN_bin2bn(n, (int)nlen, NULL);
	bn_e = BN_bin2bn(e, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (!bn_n || !bn_e || !bld)
		goto oom;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
		goto oom;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx)
		goto oom;
	if (EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		snprintf(why, whylen, "n and e do not form an RSA public key");
		pkey = NULL;
	}
	goto out;
oom:
	snprintf(why, whylen, "out of memory");
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	free(n);
	free(e);
	return pkey;
}

/* Field size in bytes and OpenSSL group name of a supported curve. */
static size_t curve_size(enum jwk_type type)
{
	return type == JWK_EC_P256 ? 32 : 48;
}

static const char *curve_group(enum jwk_type type)
{
	return type == JWK_EC_P256 ? "prime256v1" : "secp384r1";
}

/* Builds an EC public key from x and y. Caller frees with EVP_PKEY_free. */
static EVP_PKEY *ec_from_jwk(const json_t *k, enum jwk_type type, char *why, size_t whylen)
{
	unsigned char *x = NULL, *y = NULL;
	size_t xlen = 0, ylen = 0;
	size_t fs = curve_size(type);
	unsigned char point[1 + 2 * 48];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	x = member_b64url(k, "x", &xlen, why, whylen);
	if (!x)
		goto out;
	y = member_b64url(k, "y", &ylen, why, whylen);
	if (!y)
		goto out;
	if (xlen > fs || ylen > fs) {
		snprintf(why, whylen, "\"x\" or \"y\" is longer than the curve's field");
		goto out;
	}
	/* Uncompressed point; coordinates are left-padded to the field size. */
	memset(point, 0, sizeof(point));
	point[0] = 0x04;
	memcpy(point + 1 + (fs - xlen), x, xlen);
	memcpy(point + 1 + fs + (fs - ylen), y, ylen);

	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		goto oom;
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve_group(type),
	                                     0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * fs))
		goto oom;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !ctx)
		goto oom;
	if (EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		snprintf(why, whylen, "x and y are not a point on the curve");
		pkey = NULL;
	}
	goto out;
oom:
	snprintf(why, whylen, "out of memory");
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return pkey;
}

/* The key of the JWK's first x5c certificate. Caller frees with EVP_PKEY_free. */
static EVP_PKEY *pkey_from_x5c(const json_t *k, char *why, size_t whylen)
{
	const json_t *x5c = json_object_get(k, "x5c");
	const char *b64 = plain_string(json_array_get(x5c, 0));
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t derlen = 0;
	X509 *cert = NULL;
	EVP_PKEY *pkey = NULL;

	if (!b64) {
		snprintf(why, whylen, "\"x5c\" is not an array of strings");
		goto out;
	}
	der = b64std_decode(b64, &derlen);
	if (!der || derlen == 0 || derlen > JWKS_MAX_FILE) {
		snprintf(why, whylen, "\"x5c\" is not valid base64");
		goto out;
	}
	p = der;
	cert = d2i_X509(NULL, &p, (long)derlen);
	if (!cert || p != der + derlen) {
		snprintf(why, whylen, "\"x5c\" is not a DER certificate");
		goto out;
	}
	/* get0 is owned by the certificate; take our own reference. */
	pkey = X509_get0_pubkey(cert);
	if (!pkey) {
		snprintf(why, whylen, "the \"x5c\" certificate has no usable public key");
		goto out;
	}
	if (!EVP_PKEY_up_ref(pkey)) {
		pkey = NULL;
		snprintf(why, whylen, "out of memory");
	}
out:
	X509_free(cert);
	free(der);
	return pkey;
}

/* The JWK type of an OpenSSL key; KEY_SKIP when we do not verify with such keys. */
static enum key_verdict pkey_type(EVP_PKEY *pkey, enum jwk_type *type)
{
	char group[64];
	int nid;

	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
		*type = JWK_RSA;
		return KEY_OK;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC)
		return KEY_SKIP;
	if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) != 1)
		return KEY_SKIP;
	nid = OBJ_sn2nid(group);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(group);
	if (nid == NID_X9_62_prime256v1)
		*type = JWK_EC_P256;
	else if (nid == NID_secp384r1)
		*type = JWK_EC_P384;
	else
		return KEY_SKIP;
	return KEY_OK;
}

static bool crv_type(const char *crv, enum jwk_type *type)
{
	if (strcmp(crv, "P-256") == 0)
		*type = JWK_EC_P256;
	else if (strcmp(crv, "P-384") == 0)
		*type = JWK_EC_P384;
	else
		return false;
	return true;
}

/* Reads the key material of k, by parameters or else by x5c. */
static enum key_verdict key_material(const json_t *k, struct jwk *key, EVP_PKEY **pkey, char *why,
                                     size_t whylen)
{
	const json_t *ktyv = json_object_get(k, "kty");
	const char *kty = plain_string(ktyv);
	const json_t *crvv = json_object_get(k, "crv");
	const char *crv = plain_string(crvv);
	bool has_x5c = json_object_get(k, "x5c") != NULL;
	bool want_rsa = false, want_ec = false, have_crv = false;
	enum jwk_type crv_t = JWK_EC_P256, cert_t;
	enum key_verdict v;

	if (kty && strcmp(kty, "RSA") == 0)
		want_rsa = true;
	else if (kty && strcmp(kty, "EC") == 0)
		want_ec = true;
	else if (ktyv || !has_x5c)
		return KEY_SKIP; /* a kty we do not verify with */

	if (want_ec && crvv) {
		if (!crv || !crv_type(crv, &crv_t))
			return KEY_SKIP; /* a curve we do not verify with */
		have_crv = true;
	}

	if (want_rsa && (json_object_get(k, "n") || json_object_get(k, "e") || !has_x5c)) {
		key->type = JWK_RSA;
		*pkey = rsa_from_jwk(k, why, whylen);
		return *pkey ? KEY_OK : KEY_FAIL;
	}
	if (want_ec && (json_object_get(k, "x") || json_object_get(k, "y") || !has_x5c)) {
		if (!have_crv) {
			snprintf(why, whylen, "\"crv\" is missing");
			return KEY_FAIL;
		}
		key->type = crv_t;
		*pkey = ec_from_jwk(k, crv_t, why, whylen);
		return *pkey ? KEY_OK : KEY_FAIL;
	}

	*pkey = pkey_from_x5c(k, why, whylen);
	if (!*pkey)
		return KEY_FAIL;
	v = pkey_type(*pkey, &cert_t);
	if (v == KEY_SKIP && !want_rsa && !want_ec)
		return KEY_SKIP; /* no kty and a certificate of a type we do not use */
	if (v == KEY_SKIP || (want_rsa && cert_t != JWK_RSA) || (want_ec && cert_t == JWK_RSA) ||
	    (have_crv && cert_t != crv_t)) {
		snprintf(why, whylen,
		         "the \"x5c\" certificate's key does not match \"kty\"/\"crv\"");
		return KEY_FAIL;
	}
	key->type = cert_t;
	return KEY_OK;
}

/* Fills key from one JWK. KEY_FAIL sets why. */
static enum key_verdict parse_key(const json_t *k, struct jwk *key, char *why, size_t whylen)
{
	const json_t *use = json_object_get(k, "use");
	const json_t *kidv = json_object_get(k, "kid");
	const json_t *algv = json_object_get(k, "alg");
	const char *s;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	enum key_verdict v;

	if (!json_is_object(k)) {
		snprintf(why, whylen, "not a JSON object");
		return KEY_FAIL;
	}
	if (use && !(plain_string(use) && strcmp(json_string_value(use), "sig") == 0))
		return KEY_SKIP;
	/* Longer than any signature alg name, so never one a token may use. */
	s = plain_string(algv);
	if (s && strlen(s) >= sizeof(key->alg))
		return KEY_SKIP;

	v = key_material(k, key, &pkey, why, whylen);
	if (v != KEY_OK)
		goto out;
	v = KEY_FAIL;

	if (kidv) {
		s = plain_string(kidv);
		if (!s || strlen(s) >= sizeof(key->kid)) {
			snprintf(why, whylen, "\"kid\" is not a string of at most %zu bytes",
			         sizeof(key->kid) - 1);
			goto out;
		}
		memcpy(key->kid, s, strlen(s) + 1);
	}
	if (algv) {
		s = plain_string(algv);
		if (!s) {
			snprintf(why, whylen, "\"alg\" is not a string");
			goto out;
		}
		memcpy(key->alg, s, strlen(s) + 1);
	}

	if (key->type == JWK_RSA &&
	    (EVP_PKEY_get_bits(pkey) < RSA_MIN_BITS || EVP_PKEY_get_bits(pkey) > RSA_MAX_BITS)) {
		snprintf(why, whylen, "the RSA key is not between %d and %d bits", RSA_MIN_BITS,
		         RSA_MAX_BITS);
		goto out;
	}
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!ctx) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	if (EVP_PKEY_public_check(ctx) != 1) {
		snprintf(why, whylen, "the public key fails OpenSSL's checks");
		goto out;
	}
	if (pkey_to_pem(pkey, key) != 0) {
		snprintf(why, whylen, "cannot write the key as PEM");
		goto out;
	}
	key->pkey = pkey;
	pkey = NULL;
	v = KEY_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return v;
}

void jwks_free(struct jwks *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++) {
		free(set->keys[i].pem);
		EVP_PKEY_free(set->keys[i].pkey);
	}
	free(set->keys);
	free(set);
}

int jwks_parse(const char *json, size_t len, struct jwks **out, char *err, size_t errlen)
{
	json_t *root = NULL, *keys;
	json_error_t jerr;
	struct jwks *set = NULL;
	size_t n;
	char why[160], which[96];
	int rc = -1;

	if (out)
		*out = NULL;
	if (!json || !out) {
		set_err(err, errlen, "no JWKS given");
		return -1;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		set_err(err, errlen, "JWKS is not valid JSON (line %d: %s)", jerr.line, jerr.text);
		goto out;
	}
	keys = json_object_get(root, "keys");
	if (!json_is_object(root) || !json_is_array(keys)) {
		set_err(err, errlen, "JWKS is not an object with a \"keys\" array");
		goto out;
	}
	n = json_array_size(keys);
	if (n > JWKS_MAX_KEYS) {
		set_err(err, errlen, "JWKS has more than %d keys", JWKS_MAX_KEYS);
		goto out;
	}
	set = calloc(1, sizeof(*set));
	if (!set || (n > 0 && !(set->keys = calloc(n, sizeof(*set->keys))))) {
		set_err(err, errlen, "out of memory reading the JWKS");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *k = json_array_get(keys, i);
		struct jwk *key = &set->keys[set->count];
		enum key_verdict v;

		why[0] = '\0';
		v = parse_key(k, key, why, sizeof(why));
		if (v == KEY_FAIL) {
			describe_key(i, k, which, sizeof(which));
			set_err(err, errlen, "JWKS %s: %s", which, why);
			goto out;
		}
		if (v == KEY_SKIP) {
			free(key->pem);
			EVP_PKEY_free(key->pkey);
			memset(key, 0, sizeof(*key));
			continue;
		}
		set->count++;
	}
	*out = set;
	set = NULL;
	rc = 0;
out:
	/* OpenSSL failures leave entries on this thread's queue; later callers must not see them.
	 */
	ERR_clear_error();
	jwks_free(set);
	json_decref(root);
	return rc;
}

int jwks_load_file(const char *path, struct jwks **out, char *err, size_t errlen)
{
	FILE *f = NULL;
	struct stat st;
	char *buf = NULL;
	size_t got;
	int rc = -1;

	if (out)
		*out = NULL;
	if (!path || !out) {
		set_err(err, errlen, "no JWKS file given");
		return -1;
	}
	f = fopen(path, "rb");
	if (!f) {
		set_err(err, errlen, "cannot open JWKS file %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		set_err(err, errlen, "JWKS file %s is not a regular file", path);
		goto out;
	}
	if (st.st_size > JWKS_MAX_FILE) {
		set_err(err, errlen, "JWKS file %s is larger than %d bytes", path, JWKS_MAX_FILE);
		goto out;
	}
	/* One byte more than allowed, so a file that grew since fstat is noticed. */
	buf = malloc(JWKS_MAX_FILE + 1);
	if (!buf) {
		set_err(err, errlen, "out of memory reading JWKS file %s", path);
		goto out;
	}
	got = fread(buf, 1, JWKS_MAX_FILE + 1, f);
	if (ferror(f)) {
		set_err(err, errlen, "cannot read JWKS file %s", path);
		goto out;
	}
	if (got > JWKS_MAX_FILE) {
		set_err(err, errlen, "JWKS file %s is larger than %d bytes", path, JWKS_MAX_FILE);
		goto out;
	}
	rc = jwks_parse(buf, got, out, err, errlen);
out:
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

/* A key fits when its type is the alg's and its own "alg", if any, is this alg. */
static bool key_fits(const struct jwk *key, enum jwk_type type, const char *alg)
{
	return key->type == type && (key->alg[0] == '\0' || strcmp(key->alg, alg) == 0);
}

const struct jwk *jwks_find(const struct jwks *set, const char *kid, const char *alg)
{
	const struct jws_alg *a = jws_alg_find(alg);
	const struct jwk *found = NULL;
	enum jwk_type type;
	size_t fits = 0;

	if (!set || !a)
		return NULL;
	type = a->key;
	if (kid && kid[0]) {
		for (size_t i = 0; i < set->count; i++)
			if (strcmp(set->keys[i].kid, kid) == 0 &&
			    key_fits(&set->keys[i], type, alg))
				return &set->keys[i];
		return NULL;
	}
	/* No kid: only an unambiguous choice is safe. */
	for (size_t i = 0; i < set->count; i++) {
		if (key_fits(&set->keys[i], type, alg)) {
			found = &set->keys[i];
			fits++;
		}
	}
	return fits == 1 ? found : NULL;
}
