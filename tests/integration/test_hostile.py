"""Hostile clients over raw sockets: slow-loris, idle connections, oversized and
malformed requests, path tricks. Each gets its answer, and the daemon keeps serving
everyone else: a normal authenticated request succeeds while (or right after) the
attack runs. Bounded in connections and time; no latency is asserted."""
import json
import socket
import threading
import time

import pytest

from conftest import (
    ACCOUNT_A,
    CLUSTER_A,
    SLOWDOWN,
    assert_error,
    clusters_path,
    ok_json,
    tokens_path,
    users_path,
)

# Short idle timeout so that abandoned connections are seen to be closed; a
# per-address limit that one attacking address (127.0.0.2) runs into.
CONFIG = "[server]\nrequest_timeout = 3\nmax_connections_per_address = 40\n"


@pytest.fixture(scope="module")
def hostile(mgmtd_bin, idp, tmp_path_factory):
    from conftest import _Factory, _stop_all

    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("hostile"), idp)
    d = f(config_extra=CONFIG)
    d.token = d.create_token("hostile")["accessToken"]
    yield d
    _stop_all(f)


def serving(d):
    """A normal request on a new connection succeeds (never a pooled one: the server
    closes idle connections after request_timeout, which these tests wait for)."""
    raw = exchange(d, request(d, "GET", clusters_path(cluster_id=CLUSTER_A)))
    assert status_of(raw) == 200, raw[:500]
    assert json_of(raw)["id"] == CLUSTER_A


def connect(d, source="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10 * SLOWDOWN)
    s.bind((source, 0))
    s.connect(("127.0.0.1", d.port))
    return s


def exchange(d, data: bytes, source="127.0.0.1") -> bytes:
    """Sends raw bytes, reads until the server closes or the answer is complete."""
    s = connect(d, source)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
            head, sep, body = out.partition(b"\r\n\r\n")
            if sep:
                length = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if length and len(body) >= int(length[0].split(b":")[1]):
                    break
        return out
    finally:
        s.close()


def status_of(raw: bytes) -> int:
    assert raw.startswith(b"HTTP/1.1 "), raw[:200]
    return int(raw[9:12])


def json_of(raw: bytes):
    return json.loads(raw.partition(b"\r\n\r\n")[2])


def request(d, method, path, body=b"", headers=(), auth=True):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1", "Connection: close"]
    if auth:
        lines.append("Authorization: Bearer " + d.token)
    lines += list(headers)
    if body or method in ("POST", "PATCH"):
        lines.append("Content-Type: application/json")
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def expect(d, raw_request, status):
    raw = exchange(d, raw_request)
    assert status_of(raw) == status, raw[:500]
    if status >= 400 and status not in (414, 431):  # MHD answers those itself, in HTML
        body = json_of(raw)
        assert body["code"] == status and body["message"], body
    serving(d)
    return raw


# ---- slow and idle clients ----

def test_slow_loris_does_not_starve_others(hostile):
    d = hostile
    stop = threading.Event()
    socks = [connect(d) for _ in range(20)]
    partial = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "

    def trickle():
        i = 0
        while not stop.is_set() and i < len(partial) + 30:
            for s in socks:
                try:
                    s.send(partial[i:i + 1] if i < len(partial) else b"a")
                except OSError:
                    pass
            i += 1
            stop.wait(0.1)

    t = threading.Thread(target=trickle)
    t.start()
    try:
        for _ in range(10):
            serving(d)
            time.sleep(0.1)
    finally:
        stop.set()
        t.join(timeout=30)
        for s in socks:
            s.close()
    serving(d)


def test_idle_connections_do_not_block_others_and_are_closed(hostile):
    d = hostile
    # from five addresses, each under max_connections_per_address
    socks = [connect(d, source="127.0.0.%d" % (10 + i % 5)) for i in range(150)]
    try:
        serving(d)
        # request_timeout = 3: the server closes every one of them by itself
        deadline = time.monotonic() + 20 * SLOWDOWN
        for s in socks:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            assert s.recv(1) == b"", "an idle connection got data"
    finally:
        for s in socks:
            s.close()
    serving(d)


def test_one_address_cannot_take_every_connection(hostile):
    """Past max_connections_per_address, the attacker's own connections are refused;
    other addresses are served."""
    d = hostile
    socks, refused = [], 0
    try:
        for _ in range(60):
            s = connect(d, source="127.0.0.2")
            socks.append(s)
        # over the limit, libmicrohttpd closes the new connection at once
        for s in socks[45:]:
            s.settimeout(5 * SLOWDOWN)
            try:
                if s.recv(1) == b"":
                    refused += 1
            except (ConnectionResetError, socket.timeout):
                pass
        assert refused >= 10, "only %d of the connections past the limit were refused" % refused
        serving(d)
    finally:
        for s in socks:
            s.close()


# ---- oversized requests ----

def test_oversized_header(hostile):
    expect(hostile, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n", 431)


def test_oversized_uri(hostile):
    expect(hostile, b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414)


def test_many_headers(hostile):
    headers = tuple("X-H%d: %s" % (i, "v" * 20) for i in range(2000))
    expect(hostile, request(hostile, "GET", "/health", headers=headers, auth=False), 431)


def test_oversized_declared_body(hostile):
    d = hostile
    raw = ("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
           "Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
           % (users_path(), d.token)).encode() + b"{" * 1000
    expect(d, raw, 413)


def test_oversized_chunked_body(hostile):
    d = hostile
    chunk = b"a" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10)) + b"0\r\n\r\n"
    raw = ("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
           % (users_path(), d.token)).encode() + body
    expect(d, raw, 413)


# ---- malformed bodies ----

@pytest.mark.parametrize("body", [
    b'{"email": "\xff\xfe@example.com", "group": "member"}',       # invalid UTF-8
    b'{"email": "\xed\xa0\x80@example.com", "group": "member"}',   # a surrogate
    b'{"email": "a@example.com", "group": "member", "firstName": "\xc0\xaf"}',  # overlong
    b"[" * 20000 + b"]" * 20000,                                  # deeply nested
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b'{"email": "a@example.com", "group": 1' + b"0" * 5000 + b"}",  # huge integer
    b'{"email": "a@example.com", "group": 1e999999}',             # huge real
    b'{"email": "a@example.com", "email": "b@example.com", "group": "member"}',  # duplicate
    b'{"email": "a\\u0000@example.com", "group": "member"}',      # escaped NUL
    b'{"email": "a\x00@example.com", "group": "member"}',         # raw NUL
    b'{"email": "a@example.com", "group": "member"}\x00',         # NUL after the object
    b'{"email": "a@example.com", "group": "member"} {}',          # two documents
    b"",
])
def test_malformed_json_is_400(hostile, body):
    expect(hostile, request(hostile, "POST", users_path(), body), 400)


def test_nul_in_description_field(hostile):
    d = hostile
    admin = ("Authorization: Bearer " + d.jwt("admin"),)
    expect(d, request(d, "POST", tokens_path(), b'{"description": "a\\u0000b"}', headers=admin,
                      auth=False), 400)


def test_upper_case_ids_are_other_ids(hostile):
    d = hostile
    token_id = d.create_token("case")["id"]
    assert token_id != token_id.upper()
    expect(d, request(d, "GET", tokens_path(token_id=token_id.upper())), 404)


# ---- path and id tricks ----

@pytest.mark.parametrize("path,status", [
    ("/api/v0/accounts/%s/../%s/clusters" % (ACCOUNT_A, ACCOUNT_A), 404),
    ("/api/v0/accounts/%s/%%2e%%2e/clusters" % ACCOUNT_A, 404),
    ("/api/v0/accounts/%s%%2Fclusters" % ACCOUNT_A, 404),
    ("/api/v0/accounts/%s/clusters/..%%2F..%%2Fetc%%2Fpasswd" % ACCOUNT_A, 404),
    ("/api/v0/accounts/%s/clusters/%s%%00" % (ACCOUNT_A, CLUSTER_A), 400),
    ("/api/v0/accounts/%s/clusters%%00/x" % ACCOUNT_A, 400),
    ("/api/v0/accounts/%s/management/tokens?status=active%%00x" % ACCOUNT_A, 400),
    ("/api/v0/accounts/%s/clusters/%%zz" % ACCOUNT_A, 404),
    ("/api/v0/accounts/%s/clusters/%%ff%%fe" % ACCOUNT_A, 404),
    ("/api/v0/accounts/%s/users/%s%%20" % (ACCOUNT_A, ACCOUNT_A), 404),
    ("/api/v0/accounts/%s//clusters" % ACCOUNT_A, 404),
    # one trailing slash is the path without it (docs/api.md, Conventions); two are not
    ("/api/v0/accounts/%s/clusters/" % ACCOUNT_A, 200),
    ("/api/v0/accounts/%s/clusters//" % ACCOUNT_A, 404),
    ("/api/v0/accounts/%s/clusters/%s//" % (ACCOUNT_A, CLUSTER_A), 404),
])
def test_path_tricks(hostile, path, status):
    expect(hostile, request(hostile, "GET", path), status)


def test_percent_encoded_ids_are_the_same_ids(hostile):
    """Percent-encoding is equivalence, not a different resource."""
    d = hostile
    encoded = "".join("%%%02x" % ord(c) for c in CLUSTER_A)
    raw = expect(d, request(d, "GET", "/api/v0/accounts/%s/clusters/%s" % (ACCOUNT_A, encoded)), 200)
    assert json_of(raw)["id"] == CLUSTER_A


def test_invalid_utf8_and_controls_in_headers(hostile):
    d = hostile
    expect(d, request(d, "GET", clusters_path(), headers=("Authorization: Bearer \xff\xfe",),
                      auth=False), 401)
    raw = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: \xff\xfe\x01\r\n\r\n"
    assert status_of(exchange(d, raw)) in (200, 400)
    serving(d)


def test_garbage_request_line(hostile):
    d = hostile
    for raw in (b"\x00\x01\x02\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                b"G\xffT / HTTP/1.1\r\nHost: x\r\n\r\n"):
        out = exchange(d, raw)
        assert out == b"" or 400 <= status_of(out) < 600, out[:200]
    serving(d)
    assert d.running


def test_log_holds_no_control_characters(hostile):
    """Hostile paths and headers end up in the access log neutralised."""
    d = hostile
    exchange(d, request(d, "GET", "/api/%1b[31mred%0d%0aforged"))
    serving(d)
    log = d.log_bytes()
    for line in log.splitlines():
        assert b"\x1b" not in line and b"\r" not in line, line
