/*
 * devidp.c - the built-in development identity provider: its key, its
 * published documents, and JWTs minted with libjwt.
 */
#include "devidp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "authcode.h"
#include "config.h"
#include "devdevice.h"
#include "identity.h"
#include "idtoken.h"
#include "util.h"

#define KEY_FILE_MAX 16384
#define COORD_LEN    32 /* P-256 */

struct dev_idp {
	char *priv_pem; /* PKCS#8 PEM of the signing key, for libjwt; wiped on free */
	size_t priv_len;
	char kid[64];
	char *jwks; /* JSON text */
	size_t jwks_len;
	char issuer[CONFIG_STR_SIZE];
	char audience[CONFIG_STR_SIZE];
	struct authcodes *codes;     /* the authorization-code grant's (authcode.h) */
	struct dev_devices *devices; /* the device authorization grant (devdevice.h) */
};

/* A P-256 private key, nothing else: the JWKS and the alg say ES256. */
static bool is_p256(EVP_PKEY *pkey)
{
	char group[64];

	return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC &&
	       EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) == 1 &&
	       strcmp(group, "prime256v1") == 0;
}

/* Reads the key file; ENOENT is reported through *absent, not err. */
static EVP_PKEY *read_key(const char *path, bool *absent, char *err, size_t errlen)
{
	unsigned char buf[KEY_FILE_MAX + 1];
	EVP_PKEY *pkey = NULL;
	struct stat st;
	BIO *bio = NULL;
	ssize_t got;
	size_t len = 0;
	int fd;

	*absent = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			*absent = true;
		else
			set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		set_err(err, errlen, "%s is readable by other users; chmod 600 it", path);
		goto out;
	}
	while (len < sizeof(buf) && (got = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			set_err(err, errlen, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)got;
	}
	if (len > KEY_FILE_MAX) {
		set_err(err, errlen, "%s is larger than a key file", path);
		goto out;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (!pkey || !is_p256(pkey)) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
		set_err(err, errlen, "%s is not a PEM EC P-256 private key", path);
	}
out:
	BIO_free(bio);
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return pkey;
}

/* The PKCS#8 PEM of pkey, malloc'ed; NULL when out of memory. */
static char *private_pem(EVP_PKEY *pkey, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *copy = NULL;
	long n;

	if (!bio)
		return NULL;
	if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0 && (copy = malloc((size_t)n + 1))) {
		memcpy(copy, data, (size_t)n);
		copy[n] = '\0';
		*len = (size_t)n;
		sodium_memzero(data, (size_t)n);
	}
	BIO_free(bio);
	return copy;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Makes a new key and stores it at path. The key is written whole to a
 * private temporary file first and then linked into place, so that a
 * concurrent reader (a CLI next to the server) never sees half a key; when
 * another process won the race, its key is used.
 */
static EVP_PKEY *create_key(const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 32], *pem = NULL;
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	size_t len = 0;
	bool absent;
	int fd = -1;

	if (!pkey || !(pem = private_pem(pkey, &len))) {
		set_err(err, errlen, "cannot generate the dev IdP key");
		goto fail;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		set_err(err, errlen, "%s: path too long", path);
		goto fail;
	}
	(void)unlink(tmp); /* a leftover of a crash of this very pid */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, pem, len) != 0 || fsync(fd) != 0) {
		set_err(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto fail_tmp;
	}
	close(fd);
	fd = -1;
	if (link(tmp, path) != 0) {
		int saved = errno;

		(void)unlink(tmp);
		EVP_PKEY_free(pkey);
		pkey = NULL;
		if (saved == EEXIST)
			pkey = read_key(path, &absent, err, errlen);
		else
			set_err(err, errlen, "cannot create %s: %s", path, strerror(saved));
		goto out;
	}
	(void)unlink(tmp);
	goto out;
fail_tmp:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
fail:
	EVP_PKEY_free(pkey);
	pkey = NULL;
out:
	if (pem) {
		sodium_memzero(pem, len);
		free(pem);
	}
	return pkey;
}

static void b64url(const unsigned char *bin, size_t len, char *out, size_t outsize)
{
	sodium_bin2base64(out, outsize, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Public coordinates, kid (RFC 7638 thumbprint) and JWKS text of the key. */
static int publish(struct dev_idp *d, EVP_PKEY *pkey)
{
	unsigned char xb[COORD_LEN], yb[COORD_LEN], digest[crypto_hash_sha256_BYTES];
	char x[64], y[64], thumb_input[256];
	BIGNUM *bx = NULL, *by = NULL;
	json_t *jwks = NULL;
	int rc = -1;

	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1 ||
	    BN_bn2binpad(bx, xb, COORD_LEN) != COORD_LEN ||
	    BN_bn2binpad(by, yb, COORD_LEN) != COORD_LEN)
		goto out;
	b64url(xb, COORD_LEN, x, sizeof(x));
	b64url(yb, COORD_LEN, y, sizeof(y));
	/* RFC 7638: the required members, in lexical order, no white space. */
	snprintf(thumb_input, sizeof(thumb_input),
	         "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
	crypto_hash_sha256(digest, (const unsigned char *)thumb_input, strlen(thumb_input));
	b64url(digest, sizeof(digest), d->kid, sizeof(d->kid));
	jwks = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s}]}", "keys", "kty", "EC", "crv",
	                 "P-256", "x", x, "y", y, "kid", d->kid, "use", "sig", "alg", "ES256");
	d->jwks = jwks ? json_dumps(jwks, JSON_COMPACT) : NULL;
	if (!d->jwks)
		goto out;
	d->jwks_len = strlen(d->jwks);
	rc = 0;
out:
	json_decref(jwks);
	BN_free(bx);
	BN_free(by);
	return rc;
}

int dev_idp_open(const char *key_path, const char *issuer, const char *audience,
                 struct dev_idp **out, char *err, size_t errlen)
{
	struct dev_idp *d = calloc(1, sizeof(*d));
	EVP_PKEY *pkey = NULL;
	bool absent = false;

	*out = NULL;
	if (!d) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	if (strlen(issuer) >= sizeof(d->issuer) || strlen(audience) >= sizeof(d->audience)) {
		set_err(err, errlen, "dev IdP issuer or audience too long");
		goto fail;
	}
	strcpy(d->issuer, issuer);
	strcpy(d->audience, audience);
	if (key_path[0] == '\0') {
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if (!pkey)
			set_err(err, errlen, "cannot generate the dev IdP key");
	} else {
		pkey = read_key(key_path, &absent, err, errlen);
		if (!pkey && absent)
			pkey = create_key(key_path, err, errlen);
	}
	if (!pkey)
		goto fail;
	d->priv_pem = private_pem(pkey, &d->priv_len);
	d->codes = authcodes_new();
	d->devices = dev_devices_new();
	if (!d->priv_pem || publish(d, pkey) != 0 || !d->codes || !d->devices) {
		set_err(err, errlen, "out of memory preparing the dev IdP key");
		goto fail;
	}
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	*out = d;
	return 0;
fail:
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	dev_idp_free(d);
	return -1;
}

void dev_idp_free(struct dev_idp *d)
{
	if (!d)
		return;
	if (d->priv_pem) {
		sodium_memzero(d->priv_pem, d->priv_len);
		free(d->priv_pem);
	}
	free(d->jwks);
	authcodes_free(d->codes);
	dev_devices_free(d->devices);
	free(d);
}

struct authcodes *dev_idp_codes(const struct dev_idp *d)
{
	return d->codes;
}

const char *dev_idp_issuer(const struct dev_idp *d)
{
	return d->issuer;
}

const char *dev_idp_audience(const struct dev_idp *d)
{
	return d->audience;
}

const char *dev_idp_jwks(const struct dev_idp *d, size_t *len)
{
	if (len)
		*len = d->jwks_len;
	return d->jwks;
}

struct dev_devices *dev_idp_devices(const struct dev_idp *d)
{
	return d->devices;
}

/*
 * The authorization-code grant with PKCE (api_devidp_authorize.c): its
 * endpoint and what it supports, added to the discovery document doc.
 * Returns doc, or NULL (doc released) when out of memory.
 */
static json_t *announce_code_flow(json_t *doc, const char *base, int baselen)
{
	char authorize[CONFIG_STR_SIZE + 64];
	json_t *grants, *responses;

	if (!doc)
		return NULL;
	snprintf(authorize, sizeof(authorize), "%.*s/oauth/authorize", baselen, base);
	grants = json_object_get(doc, "grant_types_supported");
	if (!grants && json_object_set_new(doc, "grant_types_supported", json_array()) == 0)
		grants = json_object_get(doc, "grant_types_supported");
	responses = json_object_get(doc, "response_types_supported");
	if (!grants || !responses ||
	    json_object_set_new(doc, "authorization_endpoint", json_string(authorize)) != 0 ||
	    json_array_append_new(grants, json_string("authorization_code")) != 0 ||
	    json_array_append_new(responses, json_string("code")) != 0 ||
	    json_object_set_new(doc, "code_challenge_methods_supported",
	                        json_pack("[s]", "S256")) != 0 ||
	    json_object_set_new(doc, "scopes_supported", json_pack("[s,s]", "openid", "email")) !=
	        0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

json_t *dev_idp_discovery(const struct dev_idp *d)
{
	char jwks_uri[CONFIG_STR_SIZE + 64], token[CONFIG_STR_SIZE + 64];
	size_t len = strlen(d->issuer);

	while (len > 0 && d->issuer[len - 1] == '/')
		len--;
	snprintf(jwks_uri, sizeof(jwks_uri), "%.*s/.well-known/jwks.json", (int)len, d->issuer);
	snprintf(token, sizeof(token), "%.*s/oauth/token", (int)len, d->issuer);
	return announce_code_flow(
	    json_pack("{s:s, s:s, s:s, s:[s], s:[s], s:[s], s:[s], s:[s,s,s,s,s,s,s]}", "issuer",
	              d->issuer, "jwks_uri", jwks_uri, "token_endpoint", token,
	              "response_types_supported", "token", "subject_types_supported", "public",
	              "id_token_signing_alg_values_supported", "ES256",
	              "token_endpoint_auth_methods_supported", "none", "claims_supported", "iss",
	              "sub", "aud", "exp", "iat", "email", "email_verified"),
	    d->issuer, (int)len);
}

/*
 * An invited person has no user yet: the JWT stands for the invite pending
 * for email (in account_id, or the oldest anywhere), with the invite's id as
 * its subject, so that the first sign-in makes the user (auth.c) and later
 * JWTs find it by that subject. NOT_FOUND in *st when none is pending.
 */
static enum dev_idp_result find_invitee(struct store *s, const char *email, const char *account_id,
                                        int64_t now, struct store_user *user, enum store_status *st)
{
	struct store_invite *invites = NULL;
	size_t n = 0, pick;

	*st = store_invites_pending(s, email, now * 1000, 1000, &invites, &n);
	if (*st != STORE_OK)
		return DEV_IDP_STORE;
	for (pick = 0; pick < n && account_id && strcmp(invites[pick].account_id, account_id);
	     pick++)
		;
	if (pick == n) {
		free(invites);
		*st = STORE_NOT_FOUND;
		return DEV_IDP_UNKNOWN_USER;
	}
	memset(user, 0, sizeof(*user));
	str_copy(user->id, sizeof(user->id), invites[pick].id);
	str_copy(user->account_id, sizeof(user->account_id), invites[pick].account_id);
	str_copy(user->email, sizeof(user->email), invites[pick].email);
	user->group = invites[pick].group;
	free(invites);
	return DEV_IDP_OK;
}

/* Picks the user the JWT is for. */
static enum dev_idp_result find_user(struct store *s, const char *email, const char *account_id,
                                     int64_t now, struct store_user *user, enum store_status *st,
                                     char *why, size_t whylen)
{
	struct store_user *users = NULL;
	enum dev_idp_result r = DEV_IDP_OK;
	size_t n = 0;

	if (account_id) {
		*st = store_user_by_email(s, account_id, email, user);
		if (*st == STORE_NOT_FOUND &&
		    find_invitee(s, email, account_id, now, user, st) != DEV_IDP_UNKNOWN_USER)
			return *st == STORE_OK ? DEV_IDP_OK : DEV_IDP_STORE;
		if (*st == STORE_NOT_FOUND) {
			set_err(why, whylen, "no user with this email in account %s", account_id);
			return DEV_IDP_UNKNOWN_USER;
		}
		return *st == STORE_OK ? DEV_IDP_OK : DEV_IDP_STORE;
	}
	*st = store_users_by_email(s, email, &users, &n);
	if (*st != STORE_OK)
		return DEV_IDP_STORE;
	if (n == 0) {
		r = find_invitee(s, email, NULL, now, user, st);
		if (r == DEV_IDP_UNKNOWN_USER) {
			*st = STORE_OK;
			set_err(why, whylen,
			        "no user has this email and no invite for it is pending; add one "
			        "first (mgmtd user add, mgmtd user invite)");
		}
		goto out;
	}
	/* Users of several accounts: one JWT serves them all only if they match alike. */
	for (size_t i = 1; i < n; i++) {
		if (strcmp(users[i].idp_subject, users[0].idp_subject) != 0 ||
		    strcmp(users[i].idp_issuer, users[0].idp_issuer) != 0) {
			set_err(why, whylen,
			        "users of several accounts have this email with different "
			        "subjects; say which account (accountId)");
			r = DEV_IDP_AMBIGUOUS;
			goto out;
		}
	}
	*user = users[0];
out:
	free(users);
	return r;
}

/*
 * A JWT of the dev IdP stands only for users whose identity is the dev
 * IdP's (identity.h), or who have none yet: a user bound to another
 * identity provider is another provider's to sign in.
 */
static enum dev_idp_result check_bound_here(const struct store_user *user, char *why, size_t whylen)
{
	if (user->idp_issuer[0] ? strcmp(user->idp_issuer, IDENTITY_DEV_IDP) == 0
	                        : user->idp_subject[0] == '\0')
		return DEV_IDP_OK;
	if (user->idp_issuer[0])
		set_err(why, whylen,
		        "this user signs in through the identity provider %.200s (its idpIssuer), "
		        "not the dev IdP",
		        user->idp_issuer);
	else
		set_err(why, whylen,
		        "this user's idpSubject is bound to no identity provider (mgmtd user "
		        "bind); the dev IdP cannot sign it in");
	return DEV_IDP_UNKNOWN_USER;
}

enum dev_idp_result dev_idp_mint(const struct dev_idp *d, struct store *s, const char *email,
                                 const char *account_id, const json_t *extra, int64_t now,
                                 long lifetime, char **jwt, enum store_status *st, char *why,
                                 size_t whylen)
{
	static const char *const reserved[] = {"iss", "sub", "email", "iat", "exp"};
	enum dev_idp_result r;
	struct store_user user;
	json_t *claims = NULL;
	jwt_t *j = NULL;
	char *text = NULL;

	*jwt = NULL;
	*st = STORE_OK;
	for (size_t i = 0; extra && i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (json_object_get(extra, reserved[i])) {
			set_err(why, whylen,
			        "the claim \"%s\" is set by the identity provider and cannot be "
			        "given",
			        reserved[i]);
			return DEV_IDP_BAD_CLAIMS;
		}
	}
	r = find_user(s, email, account_id, now, &user, st, why, whylen);
	if (r == DEV_IDP_OK)
		r = check_bound_here(&user, why, whylen);
	if (r != DEV_IDP_OK)
		return r;

	r = DEV_IDP_INTERNAL;
	set_err(why, whylen, "cannot sign the token");
	claims = json_pack("{s:s, s:s, s:s, s:s, s:b, s:I, s:I}", "iss", d->issuer, "aud",
	                   d->audience, "sub", user.idp_subject[0] ? user.idp_subject : user.id,
	                   "email", user.email, "email_verified", 1, "iat", (json_int_t)now, "exp",
	                   (json_int_t)(now + lifetime));
	if (!claims)
		goto out;
	if ((user.first_name[0] &&
	     json_object_set_new(claims, "given_name", json_string(user.first_name)) != 0) ||
	    (user.last_name[0] &&
	     json_object_set_new(claims, "family_name", json_string(user.last_name)) != 0))
		goto out;
	if (extra && json_object_update(claims, (json_t *)extra) != 0)
		goto out;
	text = json_dumps(claims, JSON_COMPACT);
	if (!text || jwt_new(&j) != 0 || jwt_add_grants_json(j, text) != 0 ||
	    jwt_add_header(j, "kid", d->kid) != 0 ||
	    jwt_set_alg(j, JWT_ALG_ES256, (const unsigned char *)d->priv_pem, (int)d->priv_len) !=
	        0)
		goto out;
	*jwt = jwt_encode_str(j);
	if (*jwt && strlen(*jwt) > IDTOKEN_MAX_LEN) {
		/* mgmtd would refuse it unread: better to say so now */
		free(*jwt);
		*jwt = NULL;
		set_err(why, whylen, "the extra claims make the token longer than %d bytes",
		        IDTOKEN_MAX_LEN);
		r = DEV_IDP_BAD_CLAIMS;
	} else if (*jwt) {
		r = DEV_IDP_OK;
		if (why && whylen)
			why[0] = '\0';
	}
out:
	ERR_clear_error(); /* libjwt may leave OpenSSL errors on this thread */
	jwt_free(j);
	free(text);
	json_decref(claims);
	return r;
}
