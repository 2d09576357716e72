/*
 * devdevice.h - the dev identity provider's device authorization grant
 * (RFC 8628): pending authorizations in memory, their codes, the person's
 * decision and the client's polling.
 *
 * A TEST DEVICE like the rest of the dev IdP (devidp.h): the person who
 * approves names any provisioned user. What this module adds over minting
 * directly is the flow a real IdP has, so that a client such as mgmtctl is
 * exercised end to end: a device code the client polls with, a user code the
 * person confirms on the verification page, interval and slow_down, expiry.
 *
 * Nothing here touches the store or HTTP. Pending authorizations live in a
 * fixed-size table guarded by one mutex; every function is thread-safe. Times
 * are milliseconds: "now" from time_now_ms (the fake clock of the test
 * harness moves expiry), "mono" from a monotonic clock (polling pace is real
 * time whatever the wall clock says). The device code is kept only as a
 * BLAKE2b hash and compared in constant time.
 */
#ifndef MGMTD_DEVDEVICE_H
#define MGMTD_DEVDEVICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "throttle.h"

/* How long a device code may be polled, and the first polling interval. */
#define DEV_DEVICE_LIFETIME_S 600
#define DEV_DEVICE_INTERVAL_S 1
/* RFC 8628 3.5: each slow_down adds this to the interval. */
#define DEV_DEVICE_SLOW_DOWN_S 5
/*
 * Authorizations held at once (pending, or decided and not yet polled), in
 * all and from one client address (as throttle.h counts addresses: IPv6 by
 * its /64), so that one address cannot take every slot for the codes'
 * lifetime; a start beyond either first forgets the expired ones.
 */
#define DEV_DEVICE_SLOTS             128
#define DEV_DEVICE_SLOTS_PER_ADDRESS 16
/*
 * The grant's one client: mgmtctl, which sends this client_id unless a
 * profile sets another (DEVICE_DEFAULT_CLIENT_ID, server/ctl/device.h).
 */
#define DEV_DEVICE_CLIENT_ID "mgmtctl"

/* "BCDF-GHJK": 8 consonants (RFC 8628 6.1) and a dash, plus NUL. */
#define DEV_DEVICE_USER_CODE_SIZE 10
/* base64url of 32 random bytes, plus NUL. */
#define DEV_DEVICE_SECRET_SIZE 44
#define DEV_DEVICE_CLIENT_SIZE 128

struct dev_devices;

/* NULL when out of memory. */
struct dev_devices *dev_devices_new(void);
/* NULL is fine. Wipes the codes and the tokens it holds. */
void dev_devices_free(struct dev_devices *g);

struct dev_device_start {
	char device_code[DEV_DEVICE_SECRET_SIZE];
	char user_code[DEV_DEVICE_USER_CODE_SIZE];
	long expires_in; /* seconds */
	long interval;   /* seconds */
	long retry_in;   /* refused: seconds until a slot that was refused frees */
};

enum dev_device_started {
	DEV_DEVICE_STARTED = 0,
	DEV_DEVICE_ALL_SLOTS_TAKEN,     /* DEV_DEVICE_SLOTS authorizations held */
	DEV_DEVICE_ADDRESS_SLOTS_TAKEN, /* DEV_DEVICE_SLOTS_PER_ADDRESS of client_addr's */
};

/*
 * A new pending authorization for client_id (cut to DEV_DEVICE_CLIENT_SIZE -
 * 1 bytes), asked from client_addr (NULL: unknown, all such count as one
 * address). Refused while the address, or everyone, holds the most that is
 * allowed; then out->retry_in says when the first of those expires.
 */
enum dev_device_started dev_devices_start(struct dev_devices *g, const char *client_id,
                                          const unsigned char client_addr[THROTTLE_ADDR_LEN],
                                          int64_t now, struct dev_device_start *out);

/*
 * Writes user_code in its canonical form ("BCDF-GHJK") into out: letters
 * upper-cased, dashes and spaces ignored, as a person types it. False when
 * it is not 8 letters of the user-code alphabet.
 */
bool dev_devices_normalize_user_code(const char *user_code, char out[DEV_DEVICE_USER_CODE_SIZE]);

struct dev_device_view {
	char user_code[DEV_DEVICE_USER_CODE_SIZE];
	char client_id[DEV_DEVICE_CLIENT_SIZE];
	char csrf_token[DEV_DEVICE_SECRET_SIZE]; /* what the page's form must send back */
};

/* The pending, undecided authorization of user_code (any form a person types); false when none. */
bool dev_devices_find(struct dev_devices *g, const char *user_code, int64_t now,
                      struct dev_device_view *out);

enum dev_device_decision {
	DEV_DEVICE_DECIDED = 0,
	DEV_DEVICE_NO_SUCH_CODE, /* unknown, expired or already decided */
	DEV_DEVICE_BAD_CSRF,     /* the form's token is not this authorization's */
};

/*
 * The person's answer for user_code, with the page's csrf_token. On approval
 * jwt (malloc'ed, ownership taken in every case; NULL for a denial) is what
 * the client's next poll gets, valid until jwt_exp (seconds).
 */
enum dev_device_decision dev_devices_decide(struct dev_devices *g, const char *user_code,
                                            const char *csrf_token, char *jwt, int64_t jwt_exp,
                                            int64_t now);

enum dev_device_poll {
	DEV_DEVICE_PENDING = 0, /* authorization_pending */
	DEV_DEVICE_SLOW_DOWN,   /* polled sooner than the interval; the interval grew */
	DEV_DEVICE_DENIED,      /* access_denied (then forgotten) */
	DEV_DEVICE_EXPIRED,     /* expired_token (then forgotten) */
	DEV_DEVICE_INVALID,     /* invalid_grant: no such device code */
	DEV_DEVICE_GRANTED,     /* *jwt and *expires_in are set (then forgotten) */
};

/*
 * One poll of the token endpoint with device_code. On DEV_DEVICE_GRANTED
 * *jwt is malloc'ed (the caller frees it) and *expires_in is what remains of
 * its lifetime in seconds.
 */
enum dev_device_poll dev_devices_poll(struct dev_devices *g, const char *device_code, int64_t now,
                                      int64_t mono, char **jwt, long *expires_in);

/* The OAuth error code of a poll outcome ("authorization_pending"...), NULL for GRANTED. */
const char *dev_devices_poll_error(enum dev_device_poll p);

/*
 * Adds the grant to an OpenID discovery document of issuer:
 * "device_authorization_endpoint" and the device_code grant type in
 * "grant_types_supported" (created when absent). Returns 0 or -1.
 */
int dev_devices_describe(json_t *discovery, const char *issuer);

/* The endpoints' paths, for routes.c, the discovery document and the page. */
#define DEV_DEVICE_CODE_PATH   "/oauth/device/code"
#define DEV_DEVICE_VERIFY_PATH "/activate"
#define DEV_DEVICE_GRANT_TYPE  "urn:ietf:params:oauth:grant-type:device_code"

#endif
