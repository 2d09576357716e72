"""Real nginx with the shipped config/nginx-data-plane.conf in front of a stub database,
asking mgmtd's /authorize before every write and query (CONTRACT 4.4).

nginx runs in the foreground in its own temporary directory (pid, logs and temp paths
there), as an unprivileged user when the tests run as root, on a free 127.0.0.1 port
(dataplane_stack.Nginx); the shipped file is used as is except for the lines it marks EDIT
(addresses, account, cluster). The stub database is a Python HTTP server that records what
reaches it, so a test can show that a refused request never got there and that what got
there is the request as the client sent it. test_attacks_dataplane.py puts the same file in
front of a real InfluxDB and attacks it."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from conftest import (
    ACCOUNT_A,
    CLUSTER_A,
    HTTP_TIMEOUT,
    assert_no_content,
    db_tokens_path,
    unique_name,
)
from dataplane_stack import Nginx, free_port, raw_request, shipped_nginx


# ---------------------------------------------------------------------------
# The stub database


class StubDatabase:
    """Answers writes 204 and queries 200 with a JSON body; records every request."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # nginx keeps connections open

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with stub.lock:
                    stub.requests.append({"method": self.command, "path": self.path,
                                          "body": body,
                                          "authorization": self.headers.get("Authorization")})
                if "write" in self.path:
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                out = json.dumps([{"answer": 42}]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def seen(self, needle):
        """The recorded requests whose path contains needle."""
        with self.lock:
            return [r for r in self.requests if needle in r["path"]]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


# ---------------------------------------------------------------------------
# nginx


class Proxy:
    """The shipped nginx config in front of the stub, with a requests-based client."""

    def __init__(self, nginx):
        self.nginx = nginx
        self.port = nginx.port

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def request(self, method, path, token=None, scheme="Token", **kw):
        headers = kw.pop("headers", {})
        if token is not None:
            headers["Authorization"] = "%s %s" % (scheme, token)
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return requests.request(method, self.url(path), headers=headers, **kw)


@pytest.fixture(scope="module")
def stack(server):
    """mgmtd (the module's server), the stub database and nginx in front of both."""
    stub = StubDatabase()
    nginx = Nginx(shipped_nginx(server.port, stub.port, ACCOUNT_A, CLUSTER_A))
    try:
        nginx.start()
        yield server, stub, Proxy(nginx)
    finally:
        nginx.remove()
        stub.stop()


def body_line(name):
    return ("cpu,host=%s usage=1 1700000000000000000\n" % name).encode()


# ---------------------------------------------------------------------------
# The three facts the issue asks for


def test_a_write_with_a_write_token_passes(stack):
    server, stub, proxy = stack
    db = server.create_database(unique_name())["name"]
    token = server.create_db_token([("write", db)])["accessToken"]
    r = proxy.request("POST", "/api/v2/write?bucket=%s&precision=ns" % db, token,
                      data=body_line(db))
    assert r.status_code == 204, r.text
    seen = stub.seen("bucket=%s" % db)
    assert len(seen) == 1
    assert seen[0]["method"] == "POST"
    assert seen[0]["body"] == body_line(db)
    assert seen[0]["authorization"] == "Token " + token


def test_a_write_with_a_read_token_is_403_and_never_reaches_the_database(stack):
    server, stub, proxy = stack
    db = server.create_database(unique_name())["name"]
    token = server.create_db_token([("read", db)])["accessToken"]
    r = proxy.request("POST", "/api/v2/write?bucket=%s" % db, token, data=body_line(db))
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "forbidden"
    assert stub.seen(db) == []


def test_a_revoked_token_is_401_at_once(stack):
    server, stub, proxy = stack
    db = server.create_database(unique_name())["name"]
    created = server.create_db_token([("write", db)])
    token = created["accessToken"]
    assert proxy.request("POST", "/api/v2/write?bucket=%s" % db, token,
                         data=body_line(db)).status_code == 204
    assert_no_content(server.delete(db_tokens_path(token_id=created["id"]), server.jwt("admin")))
    r = proxy.request("POST", "/api/v2/write?bucket=%s" % db, token, data=body_line(db))
    assert r.status_code == 401, r.text
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert len(stub.seen(db)) == 1  # only the write before the revocation


# ---------------------------------------------------------------------------
# The mapping of paths to actions and databases


def test_every_write_path_needs_write(stack):
    server, stub, proxy = stack
    db = server.create_database(unique_name())["name"]
    writer = server.create_db_token([("write", db)])["accessToken"]
    reader = server.create_db_token([("read", db)])["accessToken"]
    for path in ("/api/v2/write?bucket=%s" % db, "/api/v3/write_lp?db=%s" % db,
                 "/write?db=%s" % db):
        assert proxy.request("POST", path, reader, data=body_line(db)).status_code == 403, path
        assert proxy.request("POST", path, writer, scheme="Bearer",
                             data=body_line(db)).status_code == 204, path
    assert len(stub.seen(db)) == 3


def test_chunked_writes_are_checked_and_passed_whole(stack):
    server, stub, proxy = stack
    db = server.create_database(unique_name())["name"]
    writer = server.create_db_token([("write", db)])["accessToken"]
    reader = server.create_db_token([("read", db)])["accessToken"]
    lines = [body_line(db), body_line(db + "-2")]
    # a generator body goes out with Transfer-Encoding: chunked
    r = proxy.request("POST", "/api/v3/write_lp?db=%s" % db, reader, data=iter(lines))
    assert r.status_code == 403
    r = proxy.request("POST", "/api/v3/write_lp?db=%s" % db, writer, data=iter(lines))
    assert r.status_code == 204, r.text
    seen = stub.seen(db)
    assert len(seen) == 1
    assert seen[0]["body"] == b"".join(lines)


def test_every_query_path_needs_read(stack):
    server, stub, proxy = stack
    db = server.create_database(unique_name())["name"]
    writer = server.create_db_token([("write", db)])["accessToken"]
    reader = server.create_db_token([("read", db)])["accessToken"]
    for path in ("/api/v3/query_sql?db=%s&q=SELECT+1" % db,
                 "/api/v3/query_influxql?db=%s&q=SHOW+MEASUREMENTS" % db,
                 "/query?db=%s&q=SELECT+1" % db):
        assert proxy.request("GET", path, writer).status_code == 403, path
        r = proxy.request("GET", path, reader)
        assert r.status_code == 200, path
        assert r.json() == [{"answer": 42}]
    assert len(stub.seen(db)) == 3


def test_v1_retention_policy_names_the_database_db_slash_rp(stack):
    server, stub, proxy = stack
    base = unique_name("telegraf")
    db = base + "/autogen"
    server.create_database(db)
    token = server.create_db_token([("write", db), ("read", db)])["accessToken"]
    assert proxy.request("POST", "/write?db=%s&rp=autogen" % base, token,
                         data=body_line(base)).status_code == 204
    assert proxy.request("GET", "/query?db=%s&rp=autogen&q=SELECT+1" % base,
                         token).status_code == 200
    # without rp it is the database "base", which this token does not name
    assert proxy.request("POST", "/write?db=%s" % base, token,
                         data=body_line(base)).status_code == 403
    assert len(stub.seen(base)) == 2


def test_refusals_before_any_database_traffic(stack):
    server, stub, proxy = stack
    db = server.create_database(unique_name())["name"]
    token = server.create_db_token([("write", "*")])["accessToken"]
    r = proxy.request("POST", "/api/v2/write?bucket=%s" % db, None, data=body_line(db))
    assert r.status_code == 401
    r = proxy.request("POST", "/api/v2/write?bucket=%s" % db, "apiv1_" + "A" * 86,
                      data=body_line(db))
    assert r.status_code == 401
    mgmt = server.create_token("not a database token")["accessToken"]
    r = proxy.request("POST", "/api/v2/write?bucket=%s" % db, mgmt, scheme="Bearer",
                      data=body_line(db))
    assert r.status_code == 401
    r = proxy.request("POST", "/api/v2/write", token, data=body_line(db))
    assert r.status_code == 400
    r = proxy.request("POST", "/api/v2/write?bucket=%s" % unique_name(), token, data=body_line(db))
    assert r.status_code == 403  # no such database in the cluster, even for "*"
    r = proxy.request("GET", "/api/v2/buckets", token)
    assert r.status_code == 404
    assert r.json()["code"] == "not found"
    # mgmtd's 400 (a name that decodes to no database name) is nginx's 400, not its 500
    r = proxy.request("POST", "/api/v2/write?bucket=a%20b", token, data=body_line(db))
    assert r.status_code == 400
    assert r.json()["code"] == "invalid"
    assert stub.seen("a%20b") == []
    assert stub.seen(db) == []
    assert stub.seen("/api/v2/buckets") == []
    assert proxy.request("POST", "/api/v2/write?bucket=%s" % db, token,
                         data=body_line(db)).status_code == 204


# ---------------------------------------------------------------------------
# What reaches the database is what mgmtd was shown


def test_the_database_gets_the_request_line_unchanged(stack):
    server, stub, proxy = stack
    db = server.create_database(unique_name())["name"]
    token = server.create_db_token([("read", db), ("write", db)])["accessToken"]
    targets = ["/query?q=SELECT+%%2A+FROM+%%22m%%22&db=%s&epoch=ms&pretty=true" % db,
               "/write?precision=s&db=%s&consistency=one" % db]
    for method, target in zip(("GET", "POST"), targets):
        status, _h, body = raw_request(proxy.port, method, target,
                                       [("Authorization", "Token " + token)],
                                       body=b"" if method == "POST" else None)
        assert status in (200, 204), body
    assert [r["path"] for r in stub.seen(db)] == targets


def test_health_paths_pass_without_a_token_and_only_as_themselves(stack):
    server, stub, proxy = stack
    for target in ("/ping", "/ping?db=x&q=DROP+DATABASE+x", "//ping", "/%70ing"):
        status, _h, _b = raw_request(proxy.port, "GET", target)
        assert status == 200, target  # the stub answers 200 to anything but writes
    assert [r["path"] for r in stub.seen("ping")][-4:] == ["/ping"] * 4
    # only GET (and HEAD): nginx denies every other method there
    status, _h, _b = raw_request(proxy.port, "DELETE", "/ping")
    assert status == 403
    status, _h, _b = raw_request(proxy.port, "POST", "/health", body=b"x")
    assert status == 403


def test_an_unreachable_mgmtd_is_503_and_nothing_passes(server):
    """auth_request makes a failed subrequest a 500; the config answers 503 for it."""
    stub = StubDatabase()
    nginx = Nginx(shipped_nginx(free_port(), stub.port, ACCOUNT_A, CLUSTER_A))
    try:
        nginx.start()
        status, _h, body = raw_request(nginx.port, "POST", "/write?db=x",
                                       [("Authorization", "Token apiv1_" + "A" * 86)], b"m v=1")
        assert status == 503, body
        assert json.loads(body)["code"] == "unavailable"
        assert stub.seen("/write") == []
    finally:
        nginx.remove()
        stub.stop()
