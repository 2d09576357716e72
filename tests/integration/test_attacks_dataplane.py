"""The shipped proxy configs in front of a real InfluxDB 1.6, attacked (CONTRACT 4.4).

mgmtd (the module's server), InfluxDB (Debian's influxd, dataplane_stack.Influxd) and, in
turn, nginx with config/nginx-data-plane.conf and Caddy with config/caddy-data-plane.Caddyfile
in front of it. A database token may read and write `allowed` only. InfluxDB also holds
`secret` and the retention policy `rp1` of `allowed` (the database `allowed/rp1` here), each
with a point whose value appears nowhere else.

Every trick of the table is sent through the proxy exactly as written (raw HTTP, so nothing
normalises it on the way) and must be refused; what decides is InfluxDB itself: the answer
holds no value of `secret` or `allowed/rp1`, the request never reached InfluxDB (its access
log), and at the end `secret` and `rp1` hold exactly what they held and no database came or
went. Legitimate requests through the same proxies must still work, checked the same way.
"""

import json
import random
import urllib.parse

import pytest

from conftest import ACCOUNT_A, CLUSTER_A
from dataplane_stack import Influxd, raw_request, start_proxy

SECRET = b"424242.5"  # the value of secret's one point
RP1 = b"313131.5"  # the value of allowed.rp1's one point
ATTACK = "999001.5"  # the value of every point a trick tries to write
OWN = b"1.5"  # the value of allowed's own point

REFUSED = {400, 401, 403, 404}


# ---------------------------------------------------------------------------
# The stack


@pytest.fixture(scope="module")
def influx():
    db = Influxd().start()
    try:
        db.must("CREATE DATABASE allowed")
        db.must("CREATE DATABASE secret")
        db.must("CREATE RETENTION POLICY rp1 ON allowed DURATION 0s REPLICATION 1")
        db.write("allowed", "m,src=allowed v=%s" % OWN.decode())
        db.write("allowed", "m,src=rp1 v=%s" % RP1.decode(), rp="rp1")
        db.write("secret", "m,src=secret v=%s" % SECRET.decode())
        yield db
    finally:
        db.remove()


@pytest.fixture(scope="module")
def tokens(server):
    for name in ("allowed", "secret", "allowed/rp1", "allowed/autogen"):
        server.create_database(name)
    both = server.create_db_token([("read", "allowed"), ("write", "allowed")])["accessToken"]
    reader = server.create_db_token([("read", "allowed")])["accessToken"]
    return {"both": both, "reader": reader}


@pytest.fixture(scope="module", params=["nginx", "caddy"])
def proxy(request, server, influx, tokens):
    p = start_proxy(request.param, server.port, influx.port, ACCOUNT_A, CLUSTER_A)
    try:
        yield p
    finally:
        p.remove()


def send(proxy, method, target, token=None, headers=(), body=None, chunked=False,
         scheme="Token"):
    h = ([("Authorization", "%s %s" % (scheme, token))] if token else []) + list(headers)
    return raw_request(proxy.port, method, target, h, body, chunked=chunked)


def q(text, **params):
    """A /query target with q (and params) percent-encoded as a client library does."""
    fields = dict(params)
    fields["q"] = text
    return "/query?" + urllib.parse.urlencode(fields, quote_via=urllib.parse.quote)


def attack_line(tag):
    return ("m,src=attack,trick=%s v=%s\n" % (tag, ATTACK)).encode()


# ---------------------------------------------------------------------------
# What must still work


def test_writes_and_queries_of_the_own_database_pass(proxy, influx, tokens):
    token = tokens["both"]
    status, _h, body = send(proxy, "POST", "/write?db=allowed&precision=s", token,
                            body=b"m,src=legit v=2.5 1700000000\n")
    assert status == 204, body
    # as curl --data-binary sends it: a form Content-Type, which /write never reads as a form
    status, _h, body = send(proxy, "POST", "/write?db=allowed", token,
                            headers=[("Content-Type", "application/x-www-form-urlencoded")],
                            body=b"m,src=legit v=3.5 1700000001000000000\n")
    assert status == 204, body
    status, _h, body = send(proxy, "POST", "/write?db=allowed", token, chunked=True,
                            body=b"m,src=legit v=4.5 1700000002000000000\n" * 3)
    assert status == 204, body
    assert sorted(influx.values("SELECT v FROM m WHERE src = 'legit'", "allowed")[1::2]) == \
        [2.5, 3.5, 4.5]
    influx.must("DELETE FROM m WHERE src = 'legit'", "allowed")

    for method, target in (("GET", q("SELECT v FROM m WHERE src = 'allowed'", db="allowed")),
                           ("POST", q("SELECT * FROM allowed..m", db="allowed")),
                           ("GET", q("SHOW MEASUREMENTS; SHOW TAG KEYS FROM m", db="allowed")),
                           ("GET", q("SELECT * FROM /m/ WHERE v < 2", db="allowed"))):
        status, _h, body = send(proxy, method, target, tokens["reader"])
        assert status == 200, (target, body)
        assert b'"error"' not in body, (target, body)
        assert SECRET not in body and RP1 not in body, (target, body)
    status, _h, body = send(proxy, "GET", q("SELECT v FROM m", db="allowed"), tokens["reader"])
    assert OWN in body
    # a read token does not write, through either door
    status, _h, _b = send(proxy, "POST", "/write?db=allowed", tokens["reader"],
                          body=attack_line("reader"))
    assert status == 403
    # the health path needs no token and always reaches the database as /ping
    status, _h, _b = send(proxy, "GET", "/ping")
    assert status == 204


# ---------------------------------------------------------------------------
# The tricks


def form(**fields):
    return urllib.parse.urlencode(fields).encode()


MULTIPART = (b"--XyZ\r\nContent-Disposition: form-data; name=\"rp\"\r\n\r\nrp1\r\n"
             b"--XyZ\r\nContent-Disposition: form-data; name=\"db\"\r\n\r\nsecret\r\n--XyZ--\r\n")

# id -> (method, target, extra headers, body, chunked); the token is the read+write one
TRICKS = {
    # the four of the issue
    "DB-then-db": ("GET", "/query?DB=allowed&db=secret&q=SELECT+*+FROM+m", [], None, False),
    "Db-then-db": ("GET", "/query?Db=allowed&db=secret&q=SELECT+*+FROM+m", [], None, False),
    "encoded-name": ("GET", "/query?d%62=secret&db=allowed&q=SELECT+*+FROM+m", [], None,
                     False),
    "form-body": ("POST", "/query?db=allowed",
                  [("Content-Type", "application/x-www-form-urlencoded")],
                  form(db="secret", q="SELECT * FROM m"), False),
    "form-body-chunked": ("POST", "/query?db=allowed",
                          [("Content-Type", "application/x-www-form-urlencoded")],
                          form(db="secret", q="SELECT * FROM m"), True),
    "form-body-odd-type": ("POST", "/query?db=allowed&q=SELECT+*+FROM+m",
                           [("Content-Type", "APPLICATION/X-WWW-FORM-URLENCODED; x=y")],
                           form(rp="rp1"), False),
    "multipart-get": ("GET", "/query?q=SELECT+*+FROM+m&db=allowed",
                      [("Content-Type", "multipart/form-data; boundary=XyZ")], MULTIPART, False),
    # the same on writes
    "write-DB-then-db": ("POST", "/write?DB=allowed&db=secret", [], attack_line("w1"), False),
    "write-encoded-name": ("POST", "/write?d%62=secret&db=allowed", [], attack_line("w2"),
                           False),
    "write-db-twice": ("POST", "/write?db=allowed&db=secret", [], attack_line("w3"), False),
    "write-db-twice-reversed": ("POST", "/write?db=secret&db=allowed", [], attack_line("w4"),
                                False),
    "write-rp-twice": ("POST", "/write?db=allowed&rp=rp1&rp=autogen", [], attack_line("w5"),
                       False),
    "write-RP": ("POST", "/write?db=allowed&RP=rp1", [], attack_line("w6"), False),
    "write-semicolon": ("POST", "/write?db=secret;db=allowed", [], attack_line("w7"), False),
    "write-bad-escape": ("POST", "/write?db=secret%zz&db=allowed", [], attack_line("w8"),
                         False),
    "write-encoded-value": ("POST", "/write?db=%73ecret", [], attack_line("w9"), False),
    "write-slash-in-db": ("POST", "/write?db=allowed%2Frp1", [], attack_line("w10"), False),
    "write-other-rp": ("POST", "/write?db=allowed&rp=rp1", [], attack_line("w11"), False),
    "write-chunked-secret": ("POST", "/write?db=secret", [], attack_line("w12"), True),
    "write-fragment": ("POST", "/write?db=allowed#&db=secret", [], attack_line("w13"), False),
    "write-nul": ("POST", "/write?db=allowed%00&db=secret", [], attack_line("w14"), False),
    "v2-bucket-twice": ("POST", "/api/v2/write?bucket=allowed&bucket=secret", [],
                        attack_line("w15"), False),
    "v2-bucket-case": ("POST", "/api/v2/write?Bucket=allowed&bucket=secret", [],
                       attack_line("w16"), False),
    # path variants: nginx and Caddy match these to a path, InfluxDB reads them its own way
    "double-slash": ("POST", "//write?db=secret", [], attack_line("p1"), False),
    "trailing-slash": ("POST", "/write/?db=secret", [], attack_line("p2"), False),
    "upper-case-path": ("POST", "/WRITE?db=secret", [], attack_line("p3"), False),
    "encoded-path": ("POST", "/wr%69te?db=secret", [], attack_line("p4"), False),
    "path-parameter": ("POST", "/write;x=1?db=secret", [], attack_line("p5"), False),
    "dot-segment": ("POST", "/ping/../write?db=secret", [], attack_line("p6"), False),
    "encoded-slash": ("POST", "/api%2Fv2/write?bucket=secret", [], attack_line("p7"), False),
    "absolute-form": ("POST", "http://127.0.0.1/write?db=secret", [], attack_line("p8"), False),
    # paths that are no write or query
    "debug-vars": ("GET", "/debug/vars", [], None, False),
    "debug-requests": ("GET", "/debug/requests", [], None, False),
    "prometheus-read": ("POST", "/api/v1/prom/read?db=secret", [], b"", False),
    # methods the check does not derive an action for
    "head-query": ("HEAD", "/query?db=secret&q=SELECT+*+FROM+m", [], None, False),
    "options-write": ("OPTIONS", "/write?db=secret", [], None, False),
    "get-write": ("GET", "/write?db=allowed", [], None, False),
    "post-v3-query": ("POST", "/api/v3/query_sql?db=allowed",
                      [("Content-Type", "application/json")],
                      json.dumps({"db": "secret", "q": "SELECT * FROM m"}).encode(), False),
    # InfluxQL that names another database or writes
    "qualified": ("GET", q('SELECT * FROM "secret"."autogen"."m"', db="allowed"), [], None,
                  False),
    "empty-rp": ("GET", q("SELECT * FROM secret..m", db="allowed"), [], None, False),
    "quoted-glued": ("GET", q('SELECT * FROM allowed"secret".autogen.m', db="allowed"), [],
                     None, False),
    "spaced-dots": ("GET", q("SELECT * FROM secret. autogen. m", db="allowed"), [], None,
                    False),
    "regex-source": ("GET", q("SELECT * FROM secret../.*/", db="allowed"), [], None, False),
    "other-rp": ("GET", q("SELECT * FROM rp1.m", db="allowed"), [], None, False),
    "other-rp-param": ("GET", q("SELECT * FROM m", db="allowed", rp="rp1"), [], None, False),
    "show-on": ("GET", q("SHOW MEASUREMENTS ON secret", db="allowed"), [], None, False),
    "show-tag-values-on": ("GET", q('SHOW TAG VALUES ON secret WITH KEY = "src"', db="allowed"),
                           [], None, False),
    "with-measurement": ("GET", q("SHOW MEASUREMENTS WITH MEASUREMENT = secret..m",
                                  db="allowed"), [], None, False),
    "show-databases": ("GET", q("SHOW DATABASES", db="allowed"), [], None, False),
    "second-statement": ("GET", q("SELECT * FROM m; SELECT * FROM secret..m", db="allowed"),
                         [], None, False),
    "cr-ends-comment": ("GET", q("SELECT * FROM m -- x\r; SELECT * FROM secret..m",
                                 db="allowed"), [], None, False),
    "subquery": ("GET", q("SELECT * FROM (SELECT * FROM secret..m)", db="allowed"), [], None,
                 False),
    "select-into": ("POST", q("SELECT * INTO secret..m FROM m", db="allowed"), [], None, False),
    "select-into-own": ("POST", q("SELECT * INTO allowed..copy FROM m", db="allowed"), [], None,
                        False),
    "create-database": ("POST", q("CREATE DATABASE evil", db="allowed"), [], None, False),
    "drop-database": ("POST", q("DROP DATABASE secret", db="allowed"), [], None, False),
    "delete": ("POST", q("DELETE FROM m", db="allowed"), [], None, False),
    "bound-parameter": ("GET", q("SELECT * FROM $d..m", db="allowed",
                                 params=json.dumps({"d": "secret"})), [], None, False),
    "v3-influxql-on": ("GET", "/api/v3/query_influxql?db=allowed&q=SHOW+MEASUREMENTS+ON+secret",
                       [], None, False),
    "q-twice": ("GET", "/query?db=allowed&q=SELECT+*+FROM+m&q=SELECT+*+FROM+secret..m", [],
                None, False),
    # credentials in other shapes
    "credentials-in-url": ("GET", q("SELECT * FROM m", db="allowed", u="admin", p="x"), [],
                           None, False),
    "forged-forwarded-headers": ("POST", "/write?db=secret",
                                 [("X-Forwarded-Method", "POST"),
                                  ("X-Forwarded-Uri", "/write?db=allowed")], attack_line("h1"),
                                 False),
}

# Tricks sent with another credential (or none) than the read+write token.
NO_TOKEN = {
    "no-token": ("POST", "/write?db=allowed", [], attack_line("a1"), False),
    "basic": ("POST", "/write?db=allowed", [("Authorization", "Basic YWRtaW46YWRtaW4=")],
              attack_line("a2"), False),
    "token-in-p-only": ("POST", "/write?db=allowed&u=x&p=%s", [], attack_line("a3"), False),
}


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_trick_is_refused_and_reaches_no_database(proxy, influx, tokens, trick):
    method, target, headers, body, chunked = TRICKS[trick]
    seen = len(influx.access_lines())
    status, _h, answer = send(proxy, method, target, tokens["both"], headers, body, chunked)
    assert status in REFUSED, "%s: %d %r" % (trick, status, answer)
    assert SECRET not in answer and RP1 not in answer, (trick, answer)
    assert influx.access_lines()[seen:] == [], "%s reached the database" % trick


@pytest.mark.parametrize("target", ["/query/../ping?db=secret&q=SELECT+*+FROM+m",
                                    "/ping?db=secret&q=SELECT+*+FROM+m", "//ping", "/%70ing",
                                    "/write/../health?db=secret"])
def test_health_paths_reach_the_database_only_as_themselves(proxy, influx, target):
    """What a proxy matches as a health path without asking mgmtd reaches InfluxDB as exactly
    GET /ping or GET /health, never as the query or write it was spelt as."""
    seen = len(influx.access_lines())
    status, _h, answer = raw_request(proxy.port, "GET", target)
    assert SECRET not in answer and RP1 not in answer
    for line in influx.access_lines()[seen:]:
        assert '"GET /ping HTTP/1.1"' in line or '"GET /health HTTP/1.1"' in line, line
    if status not in REFUSED:
        assert status in (204, 404), (target, status, answer)  # InfluxDB 1.6 has no /health


@pytest.mark.parametrize("trick", sorted(NO_TOKEN))
def test_other_credentials_are_refused(proxy, influx, tokens, trick):
    method, target, headers, body, chunked = NO_TOKEN[trick]
    if "%s" in target:
        target = target % tokens["both"]
    seen = len(influx.access_lines())
    status, _h, answer = raw_request(proxy.port, method, target, headers, body, chunked=chunked)
    assert status in (400, 401), "%s: %d %r" % (trick, status, answer)
    assert influx.access_lines()[seen:] == [], "%s reached the database" % trick


def test_a_second_authorization_header_is_refused(proxy, influx, tokens):
    seen = len(influx.access_lines())
    for second in (tokens["both"], "Basic YWRtaW46YWRtaW4=", "Token apiv1_x"):
        status, _h, answer = raw_request(
            proxy.port, "POST", "/write?db=allowed",
            [("Authorization", "Token " + tokens["both"]), ("Authorization", second)],
            attack_line("two-headers"))
        assert status == 400, (second, status, answer)
    assert influx.access_lines()[seen:] == []


def test_refusals_say_why_through_the_proxy(proxy, tokens):
    """The client learns the class of the refusal: 400 (read two ways), 403, 404."""
    status, _h, _b = send(proxy, "GET", "/query?DB=allowed&db=secret&q=SELECT+1", tokens["both"])
    assert status == 400
    status, _h, _b = send(proxy, "GET", q("SELECT * FROM secret..m", db="allowed"),
                          tokens["both"])
    assert status == 403
    status, _h, _b = send(proxy, "GET", "/api/v2/buckets", tokens["both"])
    assert status == 404
    status, headers, _b = send(proxy, "POST", "/write?db=allowed", "apiv1_" + "A" * 86,
                               body=attack_line("bad-token"))
    assert status == 401
    assert headers.get("www-authenticate", [""])[0].startswith("Bearer"), headers


# Fragments that stress the InfluxQL scan: quoting, comments, CR, regexes, dots, keywords.
FRAGMENTS = [
    "SELECT", "*", "v", "FROM", "m", "secret", "allowed", "rp1", "autogen", ".", "..", ",",
    ";", "\"secret\"", "\"allowed\"", "allowed\"secret\"", "'x'", "'se''cret'", "/.*/",
    "/m/", "-- c\n", "-- c\r", "/* c */", "/*", "*/", "(", ")", "SHOW", "MEASUREMENTS", "ON",
    "WITH", "MEASUREMENT", "=", "=~", "INTO", "WHERE", "v > 0", "GROUP BY", "\t", "\r\n",
    "\"a\\\"b\"", "'", "\"", "\\", "EXPLAIN", "1.5", "10m",
]


def generated_queries(n=160, seed=15):
    rng = random.Random(seed)
    base = ["SELECT * FROM m", "SELECT v FROM allowed..m", "SHOW MEASUREMENTS"]
    out = []
    for _ in range(n):
        words = [rng.choice(base)] + [rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 7))]
        sep = rng.choice([" ", "", " "])
        out.append(sep.join(words))
    return out


def test_generated_queries_never_read_another_database(proxy, influx, tokens):
    """Whatever the scan lets through, InfluxDB answers it without another database's value."""
    passed = 0
    for text in generated_queries():
        status, _h, answer = send(proxy, "GET", q(text, db="allowed"), tokens["both"])
        assert status in REFUSED | {200}, (text, status, answer)
        assert SECRET not in answer and RP1 not in answer, (text, answer)
        passed += status == 200
    # the generator is not just noise: some pass, some are refused
    assert 0 < passed < len(generated_queries())


def test_nothing_was_written_or_dropped(proxy, influx, tokens):
    """After every trick (this runs last in the module for each proxy)."""
    assert influx.databases() == ["allowed", "secret"]
    assert influx.values("SELECT v FROM m", "secret")[1:] == [float(SECRET)]
    assert influx.values("SELECT v FROM rp1.m", "allowed")[1:] == [float(RP1)]
    for db in ("allowed", "secret"):
        for rp in ("autogen", "rp1") if db == "allowed" else ("autogen",):
            assert influx.values("SELECT * FROM %s.m WHERE src = 'attack'" % rp, db) == [], (db, rp)
    # SELECT ... INTO allowed..copy made nothing either
    assert "copy" not in influx.values("SHOW MEASUREMENTS", "allowed")
    assert influx.values("SHOW MEASUREMENTS", "secret") == ["m"]


# ---------------------------------------------------------------------------
# Throttling behind a proxy: [server] trusted_proxies

THROTTLE = "[auth]\nfailed_auth_burst = 3\nfailed_auth_per_minute = 1\n"
TRUST_LOCAL_PROXY = "[server]\ntrusted_proxies = 127.0.0.1\n"
BAD_TOKEN = "apiv1_" + "B" * 86


def write_from(proxy, source, token, extra_headers=()):
    """A legitimate-looking write to allowed (a point of its own, not an attack's)."""
    return raw_request(proxy.port, "POST", "/write?db=allowed",
                       [("Authorization", "Token " + token)] + list(extra_headers),
                       b"throttle,src=client v=1\n", source=source)[:2]


@pytest.fixture
def throttled_stack(request, daemon_factory, influx):
    """A daemon of its own that throttles (the parameter adds to its config), a write token
    of it, and a function that starts a proxy in front of it (stopped at teardown)."""
    d = daemon_factory(config_extra=request.param + THROTTLE)
    d.create_database("allowed")
    token = d.create_db_token([("write", "allowed")])["accessToken"]
    started = []

    def proxy(kind):
        started.append(start_proxy(kind, d.port, influx.port, ACCOUNT_A, CLUSTER_A))
        return started[-1]

    yield d, token, proxy
    for p in started:
        p.remove()


@pytest.mark.parametrize("throttled_stack", [TRUST_LOCAL_PROXY], indirect=True)
@pytest.mark.parametrize("kind", ["nginx", "caddy"])
def test_a_hostile_client_behind_the_proxy_is_throttled_alone(throttled_stack, kind):
    d, token, start = throttled_stack
    proxy = start(kind)
    for _ in range(3):
        assert write_from(proxy, "127.0.0.2", BAD_TOKEN)[0] == 401
    status, headers = write_from(proxy, "127.0.0.2", BAD_TOKEN)
    assert status == 429
    assert headers.get("retry-after", ["0"])[0].isdigit(), headers
    assert int(headers["retry-after"][0]) >= 1
    # another client of the same proxy has a bucket of its own
    assert write_from(proxy, "127.0.0.3", BAD_TOKEN)[0] == 401
    assert write_from(proxy, "127.0.0.3", token)[0] == 204
    # a good token is never throttled, not even from the hostile address
    assert write_from(proxy, "127.0.0.2", token)[0] == 204
    # whatever X-Forwarded-For a client writes itself, it is counted at its own address
    for i in range(4):
        status, _h = write_from(proxy, "127.0.0.4", BAD_TOKEN,
                                [("X-Forwarded-For", "192.0.2.%d" % i)])
        assert status == (429 if i == 3 else 401), i
    log = d.log_since_start()
    assert "from 127.0.0.2" in log and "from 127.0.0.3" in log and "from 192.0.2." not in log


@pytest.mark.parametrize("throttled_stack", [""], indirect=True)
def test_without_trusted_proxies_every_client_shares_the_proxy_bucket(throttled_stack):
    d, token, start = throttled_stack
    proxy = start("nginx")
    for _ in range(3):
        assert write_from(proxy, "127.0.0.2", BAD_TOKEN)[0] == 401
    assert write_from(proxy, "127.0.0.3", BAD_TOKEN)[0] == 429
    assert write_from(proxy, "127.0.0.3", token)[0] == 204


@pytest.mark.parametrize("throttled_stack", [TRUST_LOCAL_PROXY], indirect=True)
def test_an_untrusted_peer_cannot_spoof_its_address(throttled_stack):
    """Straight to mgmtd from 127.0.0.5, which is no trusted proxy: X-Forwarded-For is
    ignored, so a new address per request buys nothing."""
    d, _token, _start = throttled_stack
    path = "/api/v0/accounts/%s/clusters/%s/authorize" % (ACCOUNT_A, CLUSTER_A)
    statuses = []
    for i in range(5):
        status, _h, _b = raw_request(
            d.port, "GET", path,
            [("Authorization", "Token " + BAD_TOKEN), ("X-Forwarded-Method", "POST"),
             ("X-Forwarded-Uri", "/write?db=allowed"), ("X-Forwarded-For", "198.51.100.%d" % i)],
            source="127.0.0.5")
        statuses.append(status)
    assert statuses == [401, 401, 401, 429, 429]
    assert "from 127.0.0.5" in d.log_since_start()
    assert "from 198.51.100." not in d.log_since_start()
