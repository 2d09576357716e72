"""Request smuggling through ambiguous message framing (issue 15, finding 6).

Each trick sends, on one connection, a first request whose framing is ambiguous
(two Content-Lengths, Content-Length with Transfer-Encoding, a Transfer-Encoding
that is not just `chunked`, a header name with whitespace before its colon, a
folded header line, ...) followed by a second, smuggled request that creates a
user. libmicrohttpd 0.9.75 accepts each of these and, depending on the trick,
answers the smuggled request too; mgmtd must answer the first with 400 (its usual
JSON error, `Connection: close`), close the connection, and never read the second:
no second answer, and the user was not created. Control tests check that
well-formed pipelining and chunked uploads still work. Raw sockets throughout."""

import json
import socket

import pytest

from conftest import SLOWDOWN, ok_json, unique_email, users_path

HEAD = "Host: 127.0.0.1\r\n"


@pytest.fixture(scope="module")
def admin(server):
    return server.jwt("admin")


def smuggled(d, admin, email):
    """A complete request that creates a user: what must never run."""
    body = json.dumps({"email": email, "group": "member"}).encode()
    return ("POST %s HTTP/1.1\r\n%sAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (users_path(), HEAD, admin, len(body))).encode() + body


def connect(d):
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10 * SLOWDOWN)
    return s


def read_answer(s, buf=b""):
    """One HTTP answer from s (buf: bytes already read). Returns (status, headers,
    body, rest); headers' names lower-cased, each mapping to its list of values."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before a whole answer: %r" % buf[:300])
        buf += chunk
    head, _sep, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1."), lines[0]
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _c, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    length = int(headers.get("content-length", ["0"])[0])
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError("connection closed inside a body")
        rest += chunk
    return status, headers, rest[:length], rest[length:]


def read_to_close(s, buf=b""):
    """Everything else the server sends until it closes the connection. A reset
    counts as closing; a socket timeout fails the test (the connection stayed open)."""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return buf
        except socket.timeout:
            raise AssertionError("the server kept the connection open after %r" % buf[:200])
        if not chunk:
            return buf
        buf += chunk


def user_exists(d, admin, email):
    return email in [u["email"] for u in ok_json(d.get(users_path(), admin))]


def send_all(s, data):
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before reading everything


def assert_refused(d, admin, first: bytes, half_close=False, json_body=True):
    """Sends first + a smuggled create on one connection: one 400 with Connection:
    close, then the connection closes, nothing else is answered, no user is made."""
    email = unique_email("smuggled")
    s = connect(d)
    try:
        send_all(s, first + smuggled(d, admin, email))
        if half_close:
            s.shutdown(socket.SHUT_WR)
        status, headers, body, rest = read_answer(s)
        assert status == 400, (status, body[:300])
        assert "close" in [v.lower() for v in headers.get("connection", [])], headers
        if json_body:
            assert headers["content-type"] == ["application/json"], headers
            err = json.loads(body)
            assert err["code"] == 400 and err["message"], err
        rest = read_to_close(s, rest)
        assert b"HTTP/1." not in rest, "a second answer: %r" % rest[:300]
    finally:
        s.close()
    assert not user_exists(d, admin, email), "the smuggled request ran"
    return body


def first_get(*header_lines, version="HTTP/1.1"):
    return ("GET /health %s\r\n%s%s\r\n" % (version, HEAD,
                                            "".join(h + "\r\n" for h in header_lines))).encode()


# ---- Content-Length ----

def test_two_different_content_lengths(server, admin):
    # libmicrohttpd takes the first (0): the smuggled request would be the next one
    body = assert_refused(server, admin, first_get("Content-Length: 0", "Content-Length: 300"))
    assert b"Content-Length" in body


def test_the_same_content_length_twice(server, admin):
    assert_refused(server, admin, first_get("Content-Length: 0", "content-length: 0"))


@pytest.mark.parametrize("value", ["+0", "-0", "0x0", "0 ", "0, 0", "0 0", "", "abc"])
def test_a_content_length_that_is_not_digits(server, admin, value):
    # libmicrohttpd refuses these itself, before mgmtd sees the request: a 400 of its
    # own (an HTML page, not JSON), Connection: close, and nothing more is read
    assert_refused(server, admin, first_get("Content-Length: " + value), json_body=False)


def test_leading_zeros_and_whitespace_are_a_plain_length(server, admin):
    """1*DIGIT allows leading zeros (RFC 9110 8.6), and whitespace around a field
    value is not part of it: both parsers agree, so nothing is refused and the next
    request on the connection is read where the body ends."""
    d = server
    email = unique_email("lead")
    body = json.dumps({"email": email, "group": "member"}).encode()
    first = ("POST %s HTTP/1.1\r\n%sAuthorization: Bearer %s\r\nContent-Type: application/json"
             "\r\nContent-Length:   000%d\r\n\r\n" % (users_path(), HEAD, admin, len(body))
             ).encode() + body
    s = connect(d)
    try:
        send_all(s, first + first_get("Connection: close"))
        status, _h, answer, rest = read_answer(s)
        assert status == 200, answer
        status, _h, answer, rest = read_answer(s, rest)
        assert status == 200 and json.loads(answer) == {"status": "ok"}
    finally:
        s.close()
    assert user_exists(d, admin, email)


# ---- Transfer-Encoding ----

def test_content_length_and_chunked(server, admin):
    # libmicrohttpd reads the chunked body (ending at "0"): the rest would be a request
    end = b"0\r\n\r\n"
    assert_refused(server, admin, first_get("Content-Length: 400", "Transfer-Encoding: chunked")
                   + end)


def test_chunked_and_content_length(server, admin):
    end = b"0\r\n\r\n"
    assert_refused(server, admin, first_get("Transfer-Encoding: chunked", "Content-Length: 5")
                   + end)


@pytest.mark.parametrize("value", ["identity", "gzip", "chunked, chunked", "gzip, chunked",
                                   "chunked, gzip", "chunked;x=1", "chunked ", "", "chunk"])
def test_a_transfer_encoding_other_than_chunked(server, admin, value):
    # libmicrohttpd takes anything but "chunked" as a body that lasts until the
    # connection closes: the half-close ends it
    assert_refused(server, admin, first_get("Transfer-Encoding: " + value), half_close=True)


def test_transfer_encoding_twice(server, admin):
    end = b"0\r\n\r\n"
    assert_refused(server, admin, first_get("Transfer-Encoding: chunked",
                                            "Transfer-Encoding: chunked") + end)


def test_transfer_encoding_in_http_1_0(server, admin):
    end = b"0\r\n\r\n"
    assert_refused(server, admin, first_get("Transfer-Encoding: chunked", version="HTTP/1.0")
                   + end)


# ---- header names ----

@pytest.mark.parametrize("line", [
    "Transfer-Encoding : chunked",   # the trick: libmicrohttpd ignores this header
    "Transfer-Encoding\t: chunked",
    "Content-Length : 5",
])
def test_whitespace_before_the_colon(server, admin, line):
    # with the odd name ignored the smuggled request follows an empty body
    assert_refused(server, admin, first_get("Content-Length: 0", line))


@pytest.mark.parametrize("name", [
    b"X-Odd\x0b", b"X-Odd\x7f", b"X-\xc3\xa4", b"X(Odd)", b"X/Odd", b"X\"Odd\"", b"X@Odd",
])
def test_a_header_name_that_is_not_a_token(server, admin, name):
    first = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + name + b": 1\r\n\r\n"
    assert_refused(server, admin, first)


def test_an_empty_header_name_first(server, admin):
    assert_refused(server, admin, b"GET /health HTTP/1.1\r\n: 1\r\nHost: 127.0.0.1\r\n\r\n")


@pytest.mark.parametrize("line", [b": 1", b":", b"\x00", b"\x00X-Note: 1"])
def test_a_line_that_ends_the_header_block_early(server, admin, line):
    # libmicrohttpd 0.9.75 takes such a line for the empty line: what follows it,
    # here the smuggled request, would be the next request on the connection
    first = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + line + b"\r\n"
    assert_refused(server, admin, first)


@pytest.mark.xfail(strict=True, reason="known gap: through libmicrohttpd 0.9.75's API this "
                   "line looks exactly like the empty line (server/http.c, framing)")
@pytest.mark.parametrize("line", [b":\n", b"\x00\n"])
def test_a_one_byte_line_ended_by_a_bare_lf_is_not_seen(server, admin, line):
    assert_refused(server, admin, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + line)


def test_a_line_starting_with_whitespace_first(server, admin):
    assert_refused(server, admin, b"GET /health HTTP/1.1\r\n Host: 127.0.0.1\r\n\r\n")


def test_a_bare_cr_in_a_value(server, admin):
    # a parser that ends lines at a bare CR sees a Content-Length libmicrohttpd does not
    assert_refused(server, admin, first_get("X-Note: a\rContent-Length: 300"))


# ---- obsolete line folding ----

@pytest.mark.parametrize("fold", [
    # libmicrohttpd glues a continuation onto the header's *name*: this one
    # becomes "Content-Length: 0" to it, and a field "Content-Len" to a proxy
    "Content-Len: 0\r\n gth",
    "Transfer-Encoding:\r\n chunked",
    "X-Note: a\r\n b",
    "X-Note: a\r\n\tb",
    "X-Note: a\r\n b\r\n c",
])
def test_obsolete_line_folding(server, admin, fold):
    assert_refused(server, admin, first_get(fold, "X-After: 1"))
    assert_refused(server, admin, first_get(fold))


# ---- what still works ----

def test_pipelined_requests_get_both_answers(server, admin):
    d = server
    email = unique_email("piped")
    s = connect(d)
    try:
        send_all(s, first_get() + smuggled(d, admin, email) + first_get("Connection: close"))
        first = read_answer(s)
        assert first[0] == 200 and "connection" not in first[1]
        second = read_answer(s, first[3])
        assert second[0] == 200, second[2]
        third = read_answer(s, second[3])
        assert third[0] == 200
        assert read_to_close(s, third[3]) == b""
    finally:
        s.close()
    assert user_exists(d, admin, email)


def test_a_chunked_upload_still_works(server, admin):
    d = server
    email = unique_email("chunked")
    body = json.dumps({"email": email, "group": "member"}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:7], body[7:]))
    raw = ("POST %s HTTP/1.1\r\n%sAuthorization: Bearer %s\r\nContent-Type: application/json"
           "\r\nTransfer-Encoding: Chunked\r\n\r\n" % (users_path(), HEAD, admin)).encode()
    s = connect(d)
    try:
        send_all(s, raw + chunks + b"0\r\n\r\n" + first_get("Connection: close"))
        status, _h, answer, rest = read_answer(s)
        assert status == 200, answer
        assert read_answer(s, rest)[0] == 200
    finally:
        s.close()
    assert user_exists(d, admin, email)


def test_the_server_keeps_serving(server, admin):
    assert ok_json(server.get("/health")) == {"status": "ok"}
    assert ok_json(server.get(users_path(), admin))
