"""Black-box integration tests of mgmtd: fixtures, the daemon runner and helpers.

The daemon under test is the binary named by $MGMTD_BIN (`make integration` sets it).
Every daemon runs on 127.0.0.1 with a port chosen by the kernel, in its own temporary
directory holding its config, JWKS, seed, data directory and log.

Fixtures:
  mgmtd_bin       path of the binary; fails (never skips) when it is missing
  idp             the test identity provider: keys, JWKS, make_jwt(), jwt_for()
  make_jwt        idp.make_jwt
  daemon_factory  builds extra daemons (own seed/config); stops them at teardown
  server          one daemon per test module, default seed (shared state)
  fresh_server    one daemon for this test only, default seed
  jwks_server     an identity provider served over HTTP on 127.0.0.1 (JwksServer):
                  a JWKS and an OpenID discovery document that a test rotates,
                  breaks and mends; stopped at teardown

Backends: MGMTD_TEST_BACKEND=sqlite (the default) or postgres; `make integration`
runs the suite once with each. With postgres every daemon gets a database of its
own on one PostgreSQL server the suite starts (tests/tools/pgserver.py: initdb in a
temp dir, a free loopback port) and removes at the end; daemon_factory(replica_of=d)
gives a daemon d's database and token key (a replica). Daemons with data_dir
":memory:" (a SQLite feature) run SQLite in either pass. Tests marked sqlite_only
or postgres_only run in that pass alone (the summary header says how many were
left out); they bring up PostgreSQL servers of their own when they stop one.

Instrumented runs (the Makefile sets these):
  MGMTD_SANITIZED  non-empty when the binary is built with sanitizers (`make test
                   SANITIZE=...`): start-up is given more time.
  MGMTD_WRAPPER    a command put in front of every mgmtd process (`make memcheck`
                   puts valgrind there): timeouts grow a lot.
Whatever the build, a daemon log or CLI output holding a sanitizer or valgrind
report fails the test (check_no_sanitizer_report), as does a non-zero exit.
"""

import base64
import collections
import copy
import datetime as dt
import hashlib
import hmac
import http.server
import json
import os
import re
import shlex
import signal
import subprocess
import threading
import time
import sys
import uuid
from pathlib import Path

import jwt as pyjwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import pgserver  # noqa: E402  (tests/tools/pgserver.py)

# ---------------------------------------------------------------------------
# Fixed identities of the default seed

ACCOUNT_A = "11111111-1111-4111-8111-111111111111"
ACCOUNT_B = "22222222-2222-4222-8222-222222222222"
CLUSTER_A = "33333333-3333-4333-8333-333333333333"
CLUSTER_B = "44444444-4444-4444-8444-444444444444"

ISSUER = "https://idp.test/"
AUDIENCE = "mgmtd"

# name -> (email, group, idpSubject or None, account)
USERS = {
    "admin": ("admin@example.com", "admin", "admin-1", ACCOUNT_A),
    "member": ("member@example.com", "member", "member-1", ACCOUNT_A),
    "auditor": ("auditor@example.com", "auditor", "auditor-1", ACCOUNT_A),
    "emailonly": ("emailonly@example.com", "admin", None, ACCOUNT_A),
    "admin_b": ("admin-b@example.com", "admin", "admin-b", ACCOUNT_B),
}

# ---------------------------------------------------------------------------
# Formats

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MGMT_TOKEN_RE = re.compile(r"M\.V1\.[A-Za-z0-9_-]{49}")
DB_TOKEN_RE = re.compile(r"apiv1_[A-Za-z0-9_-]{86}")
B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

BACKEND = os.environ.get("MGMTD_TEST_BACKEND", "sqlite")
if BACKEND not in ("sqlite", "postgres"):
    raise RuntimeError("MGMTD_TEST_BACKEND must be sqlite or postgres, not %r" % BACKEND)

WRAPPER = shlex.split(os.environ.get("MGMTD_WRAPPER", ""))
SANITIZED = bool(os.environ.get("MGMTD_SANITIZED")) or bool(WRAPPER)
# Instrumented daemons start and answer more slowly (valgrind about 20 times).
SLOWDOWN = 8.0 if WRAPPER else (3.0 if SANITIZED else 1.0)

START_TIMEOUT = 10.0 * SLOWDOWN
STOP_TIMEOUT = 10.0 * SLOWDOWN
HTTP_TIMEOUT = 10.0 * SLOWDOWN
CLI_TIMEOUT = 20.0 * SLOWDOWN

# What AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer and valgrind
# print when they find something (valgrind runs with --quiet, so any line of
# its own is a finding).
SANITIZER_REPORT = re.compile(
    r"ERROR: (?:AddressSanitizer|LeakSanitizer)|runtime error: |"
    r"SUMMARY: (?:AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|"
    r"^==\d+== ",
    re.M,
)


def check_no_sanitizer_report(text: str, what: str):
    """Fails the test when text (a daemon log, a CLI's output) holds a report."""
    m = SANITIZER_REPORT.search(text)
    if m:
        start = max(0, text.rfind("\n", 0, max(0, m.start() - 2000)))
        pytest.fail("%s holds a sanitizer/valgrind report:\n%s" % (what, text[start:start + 8000]))


def b64url(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(obj) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def mgmt_token_checksum(first48: str) -> str:
    """The documented checksum: base64url(first 4 bytes of BLAKE2b-256(first 48 chars))."""
    digest = hashlib.blake2b(first48.encode("ascii"), digest_size=32).digest()
    return b64url(digest[:4])[:6]


def make_mgmt_token(raw: bytes = None) -> str:
    """A well-formed management token (good checksum) that no daemon has issued."""
    if raw is None:
        raw = os.urandom(32)
    assert len(raw) == 32
    head = "M.V1." + b64url(raw)
    assert len(head) == 48
    return head + mgmt_token_checksum(head)


def mgmt_token_checksum_ok(token: str) -> bool:
    return (
        MGMT_TOKEN_RE.fullmatch(token) is not None
        and mgmt_token_checksum(token[:48]) == token[48:]
    )


def flip_char(s: str, pos: int) -> str:
    """s with the character at pos replaced by another base64url character."""
    c = s[pos]
    repl = "A" if c != "A" else "B"
    return s[:pos] + repl + s[pos + 1 :]


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def rfc3339(t: dt.datetime) -> str:
    """UTC, milliseconds, Z: the form mgmtd answers with."""
    t = t.astimezone(dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def future_year(years: int = 2) -> int:
    """A calendar year that lies `years` ahead of today, whatever today is: no test may
    use a fixed date as the future or the past (the suite also runs with the clock
    decades ahead, `make integration-ahead`)."""
    return now_utc().year + years


def dated(template: str, years: int = 2) -> str:
    """template with {y} replaced by future_year(years) and {y1} by the year after it."""
    y = future_year(years)
    return template.format(y=y, y1=y + 1)


def future_rfc3339(**delta) -> str:
    """Now plus a timedelta (days=7, ...), as mgmtd answers timestamps."""
    return rfc3339(now_utc() + dt.timedelta(**delta))


def past_rfc3339(**delta) -> str:
    """Now minus a timedelta (days=400, ...)."""
    return rfc3339(now_utc() - dt.timedelta(**delta))


def parse_ts(s: str) -> dt.datetime:
    assert RFC3339_MS.match(s), "not an RFC 3339 UTC millisecond timestamp: %r" % (s,)
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def assert_recent(ts: str, slack_s: float = 300.0):
    delta = abs((parse_ts(ts) - now_utc()).total_seconds())
    assert delta < slack_s, "timestamp %s is %.0f s away from now" % (ts, delta)


# ---------------------------------------------------------------------------
# Paths

def tokens_path(account=ACCOUNT_A, token_id=None):
    p = "/api/v0/accounts/%s/management/tokens" % account
    return p if token_id is None else "%s/%s" % (p, token_id)


def users_path(account=ACCOUNT_A, user_id=None):
    p = "/api/v0/accounts/%s/users" % account
    return p if user_id is None else "%s/%s" % (p, user_id)


def clusters_path(account=ACCOUNT_A, cluster_id=None):
    p = "/api/v0/accounts/%s/clusters" % account
    return p if cluster_id is None else "%s/%s" % (p, cluster_id)


def default_cluster(account):
    return {ACCOUNT_A: CLUSTER_A, ACCOUNT_B: CLUSTER_B}.get(account, CLUSTER_A)


def path_segment(name) -> str:
    """A name as one path segment: "/" (allowed in database names) becomes %2F."""
    return requests.utils.quote(str(name), safe="")


def databases_path(account=ACCOUNT_A, cluster=None, name=None, suffix=None):
    """.../clusters/{cluster}/databases[/{name}[/{suffix}]]; name may be an id."""
    p = "%s/databases" % clusters_path(account, cluster or default_cluster(account))
    if name is not None:
        p += "/" + path_segment(name)
    if suffix is not None:
        p += "/" + suffix
    return p


def tables_path(database, account=ACCOUNT_A, cluster=None, name=None, suffix=None):
    p = databases_path(account, cluster, database, "tables")
    if name is not None:
        p += "/" + path_segment(name)
    if suffix is not None:
        p += "/" + suffix
    return p


def db_tokens_path(account=ACCOUNT_A, cluster=None, token_id=None):
    p = "%s/tokens" % clusters_path(account, cluster or default_cluster(account))
    return p if token_id is None else "%s/%s" % (p, token_id)


def authorize_path(account=ACCOUNT_A, cluster=None):
    return "%s/authorize" % clusters_path(account, cluster or default_cluster(account))


def unique_name(prefix="db"):
    """A fresh database or table name, so that tests sharing a daemon stay apart."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


# ---------------------------------------------------------------------------
# Assertions on answers

def describe(resp) -> str:
    body = resp.text
    if len(body) > 800:
        body = body[:800] + "..."
    return "%s %s -> %d %s" % (resp.request.method, resp.request.path_url, resp.status_code, body)


def assert_status(resp, status: int):
    assert resp.status_code == status, "expected %d: %s" % (status, describe(resp))


def assert_json_ct(resp):
    ct = resp.headers.get("Content-Type", "")
    assert ct.split(";")[0].strip().lower() == "application/json", (
        "Content-Type %r: %s" % (ct, describe(resp))
    )


def assert_error(resp, status: int, contains: str = None):
    """An error answer: the status, JSON {"code": status, "message": "..."}, and for
    401 a WWW-Authenticate: Bearer challenge."""
    assert_status(resp, status)
    assert_json_ct(resp)
    try:
        body = resp.json()
    except ValueError:
        pytest.fail("error body is not JSON: %s" % describe(resp))
    assert isinstance(body, dict), describe(resp)
    assert set(body) == {"code", "message"}, describe(resp)
    assert body["code"] == status and type(body["code"]) is int, describe(resp)
    assert isinstance(body["message"], str) and body["message"].strip(), describe(resp)
    if status == 401:
        challenge = resp.headers.get("WWW-Authenticate", "")
        assert challenge.startswith("Bearer"), "WWW-Authenticate %r: %s" % (
            challenge,
            describe(resp),
        )
    if contains is not None:
        assert contains.lower() in body["message"].lower(), describe(resp)
    return body


def ok_json(resp, status: int = 200):
    assert_status(resp, status)
    assert_json_ct(resp)
    return resp.json()


def assert_no_content(resp):
    assert_status(resp, 204)
    assert resp.content == b"", describe(resp)


def assert_secret_absent(haystack, secret: str, where: str = "answer"):
    """Neither the secret nor any 40-character piece of it appears in haystack."""
    if isinstance(haystack, bytes):
        needle = lambda s: s.encode("ascii")  # noqa: E731
    else:
        needle = lambda s: s  # noqa: E731
    for i in range(0, len(secret) - 40 + 1):
        assert needle(secret[i : i + 40]) not in haystack, "the secret appears in the %s" % where


def allow_set(resp):
    return {m.strip().upper() for m in resp.headers.get("Allow", "").split(",") if m.strip()}


# ---------------------------------------------------------------------------
# The test identity provider

class Idp:
    """Keys, their JWKS, and JWTs signed with them (PyJWT)."""

    def __init__(self):
        self.keys = {
            "rsa-1": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec-1": ec.generate_private_key(ec.SECP256R1()),
        }
        # Keys that are NOT in the JWKS.
        self.rogue_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rogue_ec384 = ec.generate_private_key(ec.SECP384R1())
        self.jwks = {"keys": [self._jwk("rsa-1"), self._jwk("ec-1")]}

    def _jwk(self, kid):
        pub = self.keys[kid].public_key()
        if kid.startswith("rsa"):
            nums = pub.public_numbers()
            n = nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")
            e = nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")
            return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64url(n), "e": b64url(e)}
        nums = pub.public_numbers()
        return {
            "kty": "EC",
            "kid": kid,
            "use": "sig",
            "alg": "ES256",
            "crv": "P-256",
            "x": b64url(nums.x.to_bytes(32, "big")),
            "y": b64url(nums.y.to_bytes(32, "big")),
        }

    def public_pem(self, kid="rsa-1") -> bytes:
        return self.keys[kid].public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def claims(self, sub="admin-1", email=None, iss=ISSUER, aud=AUDIENCE, exp_offset=3600,
               nbf=None, iat=None, omit=(), email_verified=True):
        """email_verified goes with an email (as IdPs that send one say whether they
        verified it): True or False, or None to leave the claim out."""
        now = int(time.time())
        c = {"iss": iss, "aud": aud, "sub": sub, "iat": now if iat is None else iat,
             "exp": now + exp_offset}
        if email is not None:
            c["email"] = email
            if email_verified is not None:
                c["email_verified"] = email_verified
        if nbf is not None:
            c["nbf"] = nbf
        for name in omit:
            c.pop(name, None)
        return c

    def make_jwt(self, sub="admin-1", email=None, key="rsa-1", alg="RS256", iss=ISSUER,
                 aud=AUDIENCE, exp_offset=3600, nbf=None, iat=None, extra_headers=None,
                 omit=(), kid=None, email_verified=True):
        """A signed JWT. key: "rsa-1" or "ec-1" (in the JWKS), "rogue-rsa" or
        "rogue-ec384" (not in it). kid defaults to key for JWKS keys and to "rsa-1"
        / "ec-1" for the rogue ones. nbf/iat are absolute epoch seconds. The header
        says typ JWT unless extra_headers sets "typ" (None: no typ at all)."""
        signing = {
            "rsa-1": self.keys["rsa-1"],
            "ec-1": self.keys["ec-1"],
            "rogue-rsa": self.rogue_rsa,
            "rogue-ec384": self.rogue_ec384,
        }[key]
        if kid is None:
            kid = {"rogue-rsa": "rsa-1", "rogue-ec384": "ec-1"}.get(key, key)
        headers = {"kid": kid}
        if extra_headers:
            headers.update(extra_headers)
        payload = self.claims(sub=sub, email=email, iss=iss, aud=aud, exp_offset=exp_offset,
                              nbf=nbf, iat=iat, omit=omit, email_verified=email_verified)
        token = pyjwt.encode(payload, signing, algorithm=alg, headers=headers)
        return token if isinstance(token, str) else token.decode()

    def unsigned_jwt(self, typ="JWT", **claims_kw) -> str:
        """alg "none", crafted by hand; typ None leaves typ out."""
        header = {"alg": "none"}
        if typ is not None:
            header["typ"] = typ
        return b64url_json(header) + "." + b64url_json(self.claims(**claims_kw)) + "."

    def hs256_with_public_pem(self, kid="rsa-1", typ="JWT", **claims_kw) -> str:
        """HS256 keyed with the RSA public key PEM: the classic alg-confusion attack."""
        header = {"alg": "HS256"}
        if typ is not None:
            header["typ"] = typ
        if kid is not None:
            header["kid"] = kid
        signing_input = (
            b64url_json(header)
            + "."
            + b64url_json(self.claims(**claims_kw))
        )
        mac = hmac.new(self.public_pem("rsa-1"), signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + b64url(mac)

    def jwt_for(self, name: str, **kw) -> str:
        """A good JWT of one of the seeded users (see USERS)."""
        email, _group, subject, _account = USERS[name]
        if subject is None:
            return self.make_jwt(sub="sub-of-" + name, email=email, **kw)
        return self.make_jwt(sub=subject, email=email, **kw)


# ---------------------------------------------------------------------------
# Seed and config

def default_seed(issuer=None) -> dict:
    """The default seed (CONTRACT 9) as a fresh dict that a test may extend. issuer: the
    idpIssuer of the users with a subject (required when the daemon trusts several
    identity providers); None leaves it out, for the only one."""
    users = []
    for email, group, subject, account in USERS.values():
        u = {"accountId": account, "email": email, "group": group}
        if subject is not None:
            u["idpSubject"] = subject
            if issuer is not None:
                u["idpIssuer"] = issuer
        users.append(u)
    return {
        "accounts": [
            {"id": ACCOUNT_A, "name": "Account A"},
            {"id": ACCOUNT_B, "name": "Account B"},
        ],
        "clusters": [
            {"id": CLUSTER_A, "accountId": ACCOUNT_A, "name": "cluster-a"},
            {"id": CLUSTER_B, "accountId": ACCOUNT_B, "name": "cluster-b"},
        ],
        "users": users,
    }


def config_text(jwks_path: Path, tokens_may_mint: bool = False, extra: str = "",
                idp_section: bool = True, throttle_off: bool = True, store: str = "") -> str:
    """The daemon's config: [idp] trusting the test IdP's JWKS file (unless idp_section
    is False), [auth], store (a [store] section, or ""), then extra (more sections).
    throttle_off=False leaves the failed_auth_* keys unset, so that the daemon's own
    defaults decide."""
    idp = (
        "[idp]\n"
        "issuer = %s\n"
        "audience = %s\n"
        "jwks_file = %s\n"
        "algorithms = RS256,ES256,ES384\n"
        "leeway = 60\n"
        "\n" % (ISSUER, AUDIENCE, jwks_path)
    )
    throttle = (
        "; most tests make many failed attempts on purpose; test_throttle.py turns it on\n"
        "failed_auth_burst = 0\n" if throttle_off else "")
    return (idp if idp_section else "") + (
        "[auth]\n"
        "tokens_may_mint = %s\n" % ("true" if tokens_may_mint else "false")
    ) + throttle + "\n" + store + extra


# ---------------------------------------------------------------------------
# PostgreSQL

_PG = []  # the suite's shared PostgreSQL server, started at first need


def pg_server() -> "pgserver.PgServer":
    """The PostgreSQL server the whole session shares (started on first use)."""
    if not _PG:
        _PG.append(pgserver.PgServer().start())
    return _PG[0]


def pytest_sessionfinish(session, exitstatus):
    while _PG:
        _PG.pop().remove()


class PgStore:
    """A database of its own on a PostgreSQL server: what one daemon, or a set of
    replicas, stores into. drop() removes it."""

    def __init__(self, server=None):
        self.server = server or pg_server()
        self.name = "mgmtd_" + uuid.uuid4().hex[:16]
        self.server.create_database(self.name)

    @property
    def url(self):
        return self.server.url(self.name)

    def psql(self, sql):
        return self.server.psql(sql, db=self.name)

    def files(self):
        """The files of this database, after a CHECKPOINT has written its rows there."""
        self.server.psql("CHECKPOINT")
        top = self.server.database_dir(self.name)
        return [os.path.join(top, n) for n in sorted(os.listdir(top))
                if os.path.isfile(os.path.join(top, n))]

    def drop(self):
        if self.server.running:
            self.server.drop_database(self.name)


def store_section(pg_store: PgStore = None, token_key_file=None) -> str:
    """The [store] section of a daemon on PostgreSQL (pg_store) or SQLite (None)."""
    lines = []
    if pg_store is not None:
        lines += ["backend = postgres", "postgres_url = %s" % pg_store.url]
    if token_key_file is not None:
        lines.append("token_key_file = %s" % token_key_file)
    return "[store]\n" + "".join(l + "\n" for l in lines) + "\n" if lines else ""


# `make clock-ahead` sets it (and libfaketime); test_clock.py checks that it worked.
CLOCK_AHEAD = bool(os.environ.get("MGMTD_CLOCK_AHEAD_MIN_YEAR"))


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: runs in the SQLite pass only (why: "
                            "the marker's reason)")
    config.addinivalue_line("markers", "postgres_only: runs in the PostgreSQL pass only")
    config.addinivalue_line("markers", "plain_pass_only: runs in the plain pass only, not "
                            "under sanitizers, valgrind or the clock ahead (the Patroni "
                            "failover: long, and nothing those passes look at)")


def pytest_collection_modifyitems(config, items):
    other = "postgres_only" if BACKEND == "sqlite" else "sqlite_only"
    left_out = [i for i in items if i.get_closest_marker(other)
                or (i.get_closest_marker("plain_pass_only") and (SANITIZED or CLOCK_AHEAD))]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [i for i in items if i not in left_out]
    config._mgmtd_left_out = len(left_out)


def pytest_report_header(config):
    return "mgmtd store backend: %s (MGMTD_TEST_BACKEND)" % BACKEND


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    n = getattr(config, "_mgmtd_left_out", 0)
    if n:
        terminalreporter.write_line(
            "backend %s: %d test(s) of another pass left out (marked %s or plain_pass_only)"
            % (BACKEND, n, "postgres_only" if BACKEND == "sqlite" else "sqlite_only"))


# ---------------------------------------------------------------------------
# The daemon

_LIVE = []  # daemons whose fixture has not been torn down yet (for failure logs)
_LISTENING = re.compile(r"listening on (https?)://127\.0\.0\.1:(\d+)")


class Daemon:
    """One mgmtd in its own directory. start()/stop() may be called repeatedly;
    the data directory and the log (appended to) survive restarts."""

    def __init__(self, bin_path: str, workdir: Path, idp: Idp, seed=None,
                 tokens_may_mint=False, config_extra="", name="mgmtd", idp_section=True,
                 data_dir=None, throttle_off=True, backend=None, pg_store=None,
                 token_key_file=None):
        """backend: "sqlite" or "postgres"; None = the pass's (SQLite for :memory:).
        pg_store: the PgStore to use (a replica's); None = a new one when on postgres."""
        self.bin = bin_path
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.idp = idp
        self.name = name
        # created by the daemon itself; data_dir=":memory:" writes nothing
        self.data_dir = self.workdir / "data" if data_dir is None else data_dir
        self.config_path = self.workdir / "mgmtd.ini"
        self.jwks_path = self.workdir / "jwks.json"
        self.seed_path = self.workdir / "seed.json"
        self.log_path = self.workdir / "mgmtd.log"
        self.jwks_path.write_text(json.dumps(idp.jwks, indent=2))
        if backend is None:
            memory = data_dir == ":memory:" or ":memory:" in config_extra
            backend = "postgres" if pg_store is not None else ("sqlite" if memory else BACKEND)
        self.backend = backend
        self.owns_pg_store = backend == "postgres" and pg_store is None
        self.pg_store = (pg_store or PgStore()) if backend == "postgres" else None
        self.token_key_file = token_key_file
        self.config_path.write_text(config_text(self.jwks_path, tokens_may_mint, config_extra,
                                                idp_section, throttle_off,
                                                store_section(self.pg_store, token_key_file)))
        self.seed = default_seed() if seed is None else seed
        self.write_seed()
        self.env = child_env()
        self.proc = None
        self.port = None
        self.scheme = "http"  # "https" when the daemon says so ([server] tls_cert)
        self.tls_ca = None  # a CA file that verifies its certificate, for HTTPS
        self.session = None
        self._log_offset = 0
        self._user_ids = {}

    # -- lifecycle --

    def write_seed(self):
        if self.seed is False:
            return
        self.seed_path.write_text(json.dumps(self.seed, indent=2))

    def serve_argv(self, use_seed=True):
        argv = [self.bin, "serve", "--config", str(self.config_path), "--data-dir",
                str(self.data_dir), "--listen", "127.0.0.1:0"]
        if use_seed and self.seed is not False:
            argv += ["--seed", str(self.seed_path)]
        return argv

    def start(self, use_seed=True, wait_ready=True):
        """Starts mgmtd and waits for its "listening on" line, then (wait_ready) for
        GET /ready to answer 200."""
        assert self.proc is None, "already running"
        self._user_ids = {}
        with open(self.log_path, "ab") as log:
            self._log_offset = log.tell()
            self.proc = subprocess.Popen(
                WRAPPER + self.serve_argv(use_seed),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=str(self.workdir),
                env=self.env,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while self.port is None:
            m = _LISTENING.search(self.log_since_start())
            if m:
                self.scheme, self.port = m.group(1), int(m.group(2))
                break
            rc = self.proc.poll()
            if rc is not None:
                self.proc = None
                pytest.fail("mgmtd exited with status %d before listening; log:\n%s"
                            % (rc, self.log_tail()))
            if time.monotonic() > deadline:
                self._kill()
                pytest.fail("mgmtd did not log 'listening on http://127.0.0.1:PORT' within "
                            "%.0f s; log:\n%s" % (START_TIMEOUT, self.log_tail()))
            time.sleep(0.02)
        self.session = requests.Session()
        if not wait_ready:
            return self
        last = None
        while True:
            try:
                r = self.session.get(self.url("/ready"), timeout=2, verify=self.verify)
                if r.status_code == 200:
                    return self
                last = "status %d" % r.status_code
            except requests.RequestException as e:
                last = repr(e)
            if self.proc.poll() is not None or time.monotonic() > deadline:
                rc = self.proc.poll()
                self._kill()
                pytest.fail("mgmtd never answered GET /ready with 200 (last: %s, exit %s); log:\n%s"
                            % (last, rc, self.log_tail()))
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT) -> int:
        """Sends sig, waits, returns the exit status (kills and fails on timeout)."""
        assert self.proc is not None, "not running"
        if self.session is not None:
            self.session.close()
            self.session = None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            pytest.fail("mgmtd did not exit within %.0f s of %s; log:\n%s"
                        % (timeout, signal.Signals(sig).name, self.log_tail()))
        self.proc = None
        self.port = None
        self.check_log()
        return rc

    def kill(self):
        """SIGKILL, as a crash would: no shutdown, no leak check."""
        assert self.proc is not None, "not running"
        if self.session is not None:
            self.session.close()
            self.session = None
        self.proc.kill()
        self.proc.wait(timeout=STOP_TIMEOUT)
        self.proc = None
        self.port = None
        self.check_log()

    def check_log(self):
        check_no_sanitizer_report(self.log_since_start(), "the log of %s" % self.name)

    def stop_ok(self, sig=signal.SIGTERM):
        rc = self.stop(sig)
        assert rc == 0, "mgmtd exited with %d after %s; log:\n%s" % (
            rc, signal.Signals(sig).name, self.log_tail())

    def restart(self):
        self.stop_ok()
        return self.start()

    def reload(self, timeout=START_TIMEOUT):
        """Sends SIGHUP and waits until mgmtd logs that the reload is done."""
        done = "SIGHUP: reload done"
        before = self.log_since_start().count(done)
        self.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: self.log_since_start().count(done) > before, timeout,
                 "mgmtd to finish reloading after SIGHUP", self)

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.proc = None
        self.port = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # -- logs --

    def log_bytes(self) -> bytes:
        try:
            return self.log_path.read_bytes()
        except FileNotFoundError:
            return b""

    def log_since_start(self) -> str:
        return self.log_bytes()[self._log_offset :].decode("utf-8", "replace")

    def log_tail(self, lines=60) -> str:
        text = self.log_bytes().decode("utf-8", "replace").splitlines()
        return "\n".join(text[-lines:])

    # -- what the store keeps on disk --

    def store_files(self):
        """Every file the store writes: the data directory's, and on PostgreSQL also
        those of this daemon's database (checkpointed first)."""
        out = []
        if self.data_dir != ":memory:" and Path(self.data_dir).is_dir():
            for root, _dirs, files in os.walk(self.data_dir):
                out += [os.path.join(root, n) for n in files]
        if self.pg_store is not None:
            out += self.pg_store.files()
        return out

    def store_bytes(self) -> bytes:
        return b"".join(Path(p).read_bytes() for p in self.store_files())

    # -- HTTP --

    @property
    def verify(self):
        """requests' verify: the test CA for HTTPS (given per request, since
        REQUESTS_CA_BUNDLE in the environment would beat a session's)."""
        return str(self.tls_ca) if self.tls_ca is not None else True

    def url(self, path: str) -> str:
        assert self.port is not None, "mgmtd is not running"
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def request(self, method, path, token=None, headers=None, **kw):
        h = {}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if headers:
            h.update(headers)
        kw.setdefault("timeout", HTTP_TIMEOUT)
        kw.setdefault("allow_redirects", False)
        kw.setdefault("verify", self.verify)
        s = self.session if self.session is not None else requests
        return s.request(method, self.url(path), headers=h, **kw)

    def get(self, path, token=None, **kw):
        return self.request("GET", path, token, **kw)

    def post(self, path, token=None, **kw):
        return self.request("POST", path, token, **kw)

    def patch(self, path, token=None, **kw):
        return self.request("PATCH", path, token, **kw)

    def delete(self, path, token=None, **kw):
        return self.request("DELETE", path, token, **kw)

    def put(self, path, token=None, **kw):
        return self.request("PUT", path, token, **kw)

    # -- conveniences --

    def jwt(self, name="admin", **kw) -> str:
        return self.idp.jwt_for(name, **kw)

    def make_jwt_for_subject(self, sub: str, email: str = None, **kw) -> str:
        return self.idp.make_jwt(sub=sub, email=email, **kw)

    def dev_jwt(self, name="admin", account=None) -> str:
        """A JWT of the built-in dev IdP ([dev_idp] enabled) for a user of USERS (or an
        email): what d.jwt() is for the suite's IdP, for daemons whose users are the dev
        IdP's own (a user is one identity: one provider's subject)."""
        email = USERS[name][0] if name in USERS else name
        form = {"email": email}
        if account is not None:
            form["accountId"] = account
        return ok_json(self.post("/oauth/token", data=form))["access_token"]

    def user_id(self, name_or_email: str) -> str:
        """Id of a user, looked up with GET /users as an admin of its account."""
        if name_or_email in USERS:
            email, _g, _s, account = USERS[name_or_email]
        else:
            email, account = name_or_email, ACCOUNT_A
        if email not in self._user_ids:
            admin = "admin" if account == ACCOUNT_A else "admin_b"
            users = ok_json(self.get(users_path(account), self.jwt(admin)))
            for u in users:
                self._user_ids[u["email"]] = u["id"]
        assert email in self._user_ids, "no user %s" % email
        return self._user_ids[email]

    def create_token(self, description="test token", account=ACCOUNT_A, as_user=None, **fields):
        """Creates a management token as an admin; returns the 200 body."""
        if as_user is None:
            as_user = "admin" if account == ACCOUNT_A else "admin_b"
        body = {"description": description}
        body.update(fields)
        return ok_json(self.post(tokens_path(account), self.jwt(as_user), json=body))

    def list_tokens(self, account=ACCOUNT_A, params=None):
        admin = "admin" if account == ACCOUNT_A else "admin_b"
        return ok_json(self.get(tokens_path(account), self.jwt(admin), params=params))

    def get_token(self, token_id, account=ACCOUNT_A):
        admin = "admin" if account == ACCOUNT_A else "admin_b"
        return ok_json(self.get(tokens_path(account, token_id), self.jwt(admin)))

    def admin_of(self, account):
        return self.jwt("admin" if account == ACCOUNT_A else "admin_b")

    def create_database(self, name=None, account=ACCOUNT_A, cluster=None, cred=None, **fields):
        """Creates a database (as the account's admin unless cred); returns the 200 body."""
        body = {"name": name or unique_name()}
        body.update(fields)
        return ok_json(self.post(databases_path(account, cluster), cred or self.admin_of(account),
                                 json=body))

    def create_db_token(self, permissions=(), description="db token", account=ACCOUNT_A,
                        cluster=None, cred=None, **fields):
        """Creates a database token; permissions: [(action, resource), ...] or dicts.
        Returns the 200 body (with accessToken)."""
        perms = [p if isinstance(p, dict) else {"action": p[0], "resource": p[1]}
                 for p in permissions]
        body = {"description": description, "permissions": perms}
        body.update(fields)
        return ok_json(self.post(db_tokens_path(account, cluster), cred or self.admin_of(account),
                                 json=body))

    def authorize(self, token, database, action, account=ACCOUNT_A, cluster=None,
                  scheme="Bearer"):
        """GET .../authorize with a database token; returns the response."""
        headers = {} if token is None else {"Authorization": "%s %s" % (scheme, token)}
        return self.get(authorize_path(account, cluster),
                        params={"database": database, "action": action}, headers=headers)

    # -- offline CLI --

    def cli(self, *args, timeout=None):
        """Runs `mgmtd <command words> --config C --data-dir D <rest>` on this data dir.
        The first arguments up to the first one starting with '-' are command words."""
        args = list(args)
        i = 0
        while i < len(args) and not args[i].startswith("-"):
            i += 1
        argv = [self.bin] + args[:i] + ["--config", str(self.config_path), "--data-dir",
                                         str(self.data_dir)] + args[i:]
        return run_cli(argv, cwd=self.workdir, timeout=timeout, env=self.env)


def wait_for(predicate, timeout, what, daemon=None):
    """Polls predicate until it is true; fails after timeout seconds saying what it waited
    for. Only for things that happen by themselves soon (a log line, a retry), never to
    assert how fast they happen."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("waited %.0f s for %s%s" % (
                timeout, what, "; log:\n" + daemon.log_tail() if daemon else ""))
        time.sleep(0.02)


def child_env(**overrides):
    """The environment for mgmtd processes: ours without any MGMTD_* variable (MGMTD_BIN
    is ours, not the daemon's; whether mgmtd ignores unknown MGMTD_* names is not
    fixed by the contract), plus overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MGMTD_")}
    env.update(overrides)
    return env


def run_cli(argv, cwd=None, timeout=None, env=None):
    """Runs an mgmtd command (under MGMTD_WRAPPER when set); fails on a sanitizer report.
    The answer's args are argv as given, without the wrapper. An explicit timeout is
    stretched like the others for instrumented runs."""
    timeout = CLI_TIMEOUT if timeout is None else timeout * SLOWDOWN
    try:
        res = subprocess.run(WRAPPER + list(argv), stdin=subprocess.DEVNULL,
                             capture_output=True, text=True,
                             cwd=None if cwd is None else str(cwd), timeout=timeout,
                             env=child_env() if env is None else env)
    except subprocess.TimeoutExpired as e:
        pytest.fail("%s did not finish within %.0f s (stdout %r, stderr %r)"
                    % (" ".join(map(str, argv)), timeout, e.stdout, e.stderr))
    check_no_sanitizer_report(res.stderr + res.stdout, " ".join(map(str, argv)))
    res.args = list(argv)
    return res


def describe_cli(res) -> str:
    return "%s -> exit %d\nstdout:\n%s\nstderr:\n%s" % (
        " ".join(map(str, res.args)), res.returncode, res.stdout, res.stderr)


# ---------------------------------------------------------------------------
# An identity provider over HTTP

def _self_signed_der(private_key) -> bytes:
    """A self-signed certificate of the key, as an IdP puts in x5c."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mgmtd test idp")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(private_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .sign(private_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


class JwksServer:
    """The suite's own identity provider on 127.0.0.1, port chosen by the kernel: it
    serves its JWKS at /keys and an OpenID discovery document at
    /.well-known/openid-configuration, and signs JWTs with its keys. Its issuer is
    its URL. A test adds, publishes and withdraws keys (rotation), makes it answer
    errors (status), or stops and restarts it on the same port (down)."""

    JWKS_PATH = "/keys"
    DISCOVERY_PATH = "/.well-known/openid-configuration"

    def __init__(self):
        self.keys = {}  # kid -> (private key, alg)
        self.forms = {}  # kid -> "params" | "x5c" | "both"
        self.published = []  # kids in the JWKS, in order
        self.status = 200  # answered to every GET when not 200
        self.cache_control = "max-age=3600"
        self.discovery_issuer = None  # None: the real issuer
        self.hits = collections.Counter()  # path -> GETs served
        self.lock = threading.Lock()
        self.port = 0
        self._httpd = None
        self._thread = None
        self.start()

    # -- keys --

    def add_key(self, kid, kind="rsa", form="params", publish=True):
        """kind: rsa (RS256), rsa384, rsa512, ec256 (ES256), ec384 (ES384)."""
        if kind.startswith("rsa"):
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            alg = {"rsa": "RS256", "rsa384": "RS384", "rsa512": "RS512"}[kind]
        else:
            key = ec.generate_private_key(ec.SECP256R1() if kind == "ec256" else ec.SECP384R1())
            alg = "ES256" if kind == "ec256" else "ES384"
        with self.lock:
            self.keys[kid] = (key, alg)
            self.forms[kid] = form
            if publish:
                self.published.append(kid)
        return kid

    def publish_only(self, *kids):
        """Rotation: the JWKS holds exactly these keys from now on."""
        with self.lock:
            self.published = list(kids)

    def jwk(self, kid):
        key, alg = self.keys[kid]
        form = self.forms[kid]
        pub = key.public_key()
        nums = pub.public_numbers()
        k = {"kid": kid, "use": "sig", "alg": alg}
        if isinstance(key, rsa.RSAPrivateKey):
            k["kty"] = "RSA"
            params = {"n": b64url(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")),
                      "e": b64url(nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big"))}
        else:
            size = 32 if alg == "ES256" else 48
            k["kty"] = "EC"
            k["crv"] = "P-256" if size == 32 else "P-384"
            params = {"x": b64url(nums.x.to_bytes(size, "big")),
                      "y": b64url(nums.y.to_bytes(size, "big"))}
        if form in ("params", "both"):
            k.update(params)
        if form in ("x5c", "both"):
            if form == "x5c":
                k.pop("crv", None)
            k["x5c"] = [base64.b64encode(_self_signed_der(key)).decode("ascii")]
        return k

    def jwks(self):
        with self.lock:
            kids = list(self.published)
        return {"keys": [self.jwk(kid) for kid in kids]}

    def make_jwt(self, kid, sub="admin-1", aud=AUDIENCE, iss=None, exp_offset=3600, now=None,
                 **claims):
        key, alg = self.keys[kid]
        t = int(time.time()) if now is None else int(now)
        payload = {"iss": self.issuer if iss is None else iss, "aud": aud, "sub": sub,
                   "iat": t, "exp": t + exp_offset}
        payload.update(claims)
        token = pyjwt.encode(payload, key, algorithm=alg, headers={"kid": kid})
        return token if isinstance(token, str) else token.decode()

    # -- serving --

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def issuer(self):
        return self.url

    @property
    def jwks_url(self):
        return self.url + self.JWKS_PATH

    def fetches(self, path=JWKS_PATH):
        with self.lock:
            return self.hits[path]

    def _answer(self, path):
        """(status, headers, body) for a GET of path."""
        with self.lock:
            self.hits[path] += 1
            status, cache_control = self.status, self.cache_control
            issuer = self.discovery_issuer or self.issuer
        if status != 200:
            return status, {}, b"unavailable"
        if path == self.JWKS_PATH:
            body = self.jwks()
        elif path == self.DISCOVERY_PATH:
            body = {"issuer": issuer, "jwks_uri": self.jwks_url,
                    "id_token_signing_alg_values_supported": ["RS256", "ES256"]}
        else:
            return 404, {}, b"not found"
        headers = {"Content-Type": "application/json"}
        if cache_control:
            headers["Cache-Control"] = cache_control
        return 200, headers, json.dumps(body).encode()

    def start(self):
        """Serves (again, on the same port when it served before)."""
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                status, headers, body = server._answer(self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self):
        """Down: the port refuses connections until start()."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None


def remote_idp_config(srv: JwksServer, source="url", name=None, audience=AUDIENCE,
                      algorithms="RS256,RS384,RS512,ES256,ES384") -> str:
    """An [idp] (or [idp NAME]) section trusting srv by jwks_url or by discovery."""
    keys = ("jwks_url = %s\n" % srv.jwks_url) if source == "url" else "discovery = true\n"
    return ("[idp%s]\nissuer = %s\naudience = %s\n%salgorithms = %s\n\n"
            % (" " + name if name else "", srv.issuer, audience, keys, algorithms))


# ---------------------------------------------------------------------------
# Fixtures

@pytest.fixture(scope="session")
def mgmtd_bin():
    path = os.environ.get("MGMTD_BIN")
    if not path:
        pytest.fail("MGMTD_BIN is not set: point it at the mgmtd binary "
                    "(e.g. MGMTD_BIN=$PWD/build/mgmtd, or run `make integration`)",
                    pytrace=False)
    if not os.path.isfile(path):
        pytest.fail("MGMTD_BIN=%s: no such file (build it with `make`)" % path, pytrace=False)
    if not os.access(path, os.X_OK):
        pytest.fail("MGMTD_BIN=%s is not executable" % path, pytrace=False)
    return os.path.abspath(path)


@pytest.fixture(scope="session", autouse=True)
def clock_ahead():
    """`make clock-ahead` runs the suite under libfaketime with the clock decades ahead
    and says which year it must be at least; a preload that moved nothing fails here
    instead of passing for the wrong reason. Returns that year, or None."""
    want = os.environ.get("MGMTD_CLOCK_AHEAD_MIN_YEAR")
    if not want:
        return None
    if now_utc().year < int(want):
        pytest.fail("MGMTD_CLOCK_AHEAD_MIN_YEAR=%s but this process's clock says %s: "
                    "libfaketime did not take effect" % (want, now_utc().isoformat()),
                    pytrace=False)
    return int(want)


@pytest.fixture(scope="session")
def idp():
    return Idp()


@pytest.fixture(scope="session")
def make_jwt(idp):
    return idp.make_jwt


class _Factory:
    def __init__(self, bin_path, base: Path, idp: Idp):
        self.bin = bin_path
        self.base = base
        self.idp = idp
        self.daemons = []

    def __call__(self, seed=None, tokens_may_mint=False, config_extra="", start=True, env=None,
                 idp_section=True, data_dir=None, wait_ready=True, throttle_off=True,
                 replica_of=None, backend=None, pg_store=None, token_key_file=None):
        """A new daemon in a new directory; seed=None: default_seed(), False: no --seed;
        env: extra environment variables (MGMTD_<SECTION>_<KEY>); idp_section=False leaves
        the default [idp] out of the config; data_dir=":memory:" writes no data files;
        wait_ready=False returns once it listens, before /ready says 200;
        throttle_off=False leaves failed-auth throttling to the daemon's defaults.
        replica_of=d: d's PostgreSQL database and d's token key file (d has started
        once, so the key exists); backend/pg_store/token_key_file as Daemon takes them."""
        name = "mgmtd-%d" % len(self.daemons)
        if replica_of is not None:
            assert replica_of.pg_store is not None, "replicas share a PostgreSQL database"
            pg_store = replica_of.pg_store
            token_key_file = replica_of.token_key_file or (replica_of.data_dir / "token.key")
        d = Daemon(self.bin, self.base / name, self.idp, seed=seed,
                   tokens_may_mint=tokens_may_mint, config_extra=config_extra, name=name,
                   idp_section=idp_section, data_dir=data_dir, throttle_off=throttle_off,
                   backend=backend, pg_store=pg_store, token_key_file=token_key_file)
        if env:
            d.env.update(env)
        self.daemons.append(d)
        _LIVE.append(d)
        if start:
            try:
                d.start(wait_ready=wait_ready)
            except BaseException:
                _LIVE.remove(d)
                raise
        return d


def _stop_all(factory: _Factory):
    failures = []
    for d in factory.daemons:
        if d in _LIVE:
            _LIVE.remove(d)
        if d.proc is None:
            continue
        if d.proc.poll() is not None:
            failures.append("%s had exited by itself with status %d; log:\n%s"
                            % (d.name, d.proc.returncode, d.log_tail(200)))
            d.proc = None
            continue
        try:
            rc = d.stop(signal.SIGTERM)
        except pytest.fail.Exception as e:
            failures.append(str(e))
            continue
        if rc != 0:
            failures.append("%s exited with status %d after SIGTERM; log:\n%s"
                            % (d.name, rc, d.log_tail()))
    for d in factory.daemons:
        if d.owns_pg_store:
            d.pg_store.drop()
    if failures:
        pytest.fail("\n\n".join(failures))


@pytest.fixture
def daemon_factory(mgmtd_bin, idp, tmp_path):
    f = _Factory(mgmtd_bin, tmp_path, idp)
    yield f
    _stop_all(f)


@pytest.fixture(scope="module")
def server(mgmtd_bin, idp, tmp_path_factory):
    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("server"), idp)
    d = f()
    yield d
    _stop_all(f)


@pytest.fixture
def fresh_server(daemon_factory):
    return daemon_factory()


@pytest.fixture
def jwks_server():
    srv = JwksServer()
    yield srv
    srv.stop()


# ---------------------------------------------------------------------------
# On a failed test, attach the tail of every live daemon's log to the report.

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("setup", "call"):
        for d in list(_LIVE):
            rep.sections.append(("log of %s (%s)" % (d.name, d.log_path), d.log_tail()))


def unique_email(prefix="user"):
    return "%s-%s@example.com" % (prefix, uuid.uuid4().hex[:12])


def deepcopy(x):
    return copy.deepcopy(x)
