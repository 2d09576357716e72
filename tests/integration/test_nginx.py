"""Real nginx with the shipped config/nginx-data-plane.conf in front of a stub database,
asking mgmtd's /authorize before every write and query (CONTRACT 4.4).

nginx runs in the foreground in its own temporary directory (pid, logs and temp paths
there), on a free 127.0.0.1 port; the shipped file is used as is except for the lines it
marks EDIT (addresses, account, cluster). The stub database is a Python HTTP server that
records what reaches it, so a test can show that a refused request never got there."""

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "nginx-data-plane.conf"
START_TIMEOUT = 10.0


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


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def substitute(text, old, new):
    """Replaces the one occurrence of old; the test fails if the shipped file changed shape."""
    assert text.count(old) == 1, "config/nginx-data-plane.conf no longer has exactly one %r" % old
    return text.replace(old, new)


def data_plane_config(nginx_port, database_port, mgmtd_port):
    text = SHIPPED.read_text()
    text = substitute(text, "server 127.0.0.1:8181;  # EDIT",
                      "server 127.0.0.1:%d;  # EDIT" % database_port)
    text = substitute(text, "server 127.0.0.1:8080;  # EDIT",
                      "server 127.0.0.1:%d;  # EDIT" % mgmtd_port)
    text = substitute(text, "listen 127.0.0.1:8086;  # EDIT",
                      "listen 127.0.0.1:%d;  # EDIT" % nginx_port)
    text = substitute(text, 'set $mgmtd_account "11111111-1111-4111-8111-111111111111";',
                      'set $mgmtd_account "%s";' % ACCOUNT_A)
    text = substitute(text, 'set $mgmtd_cluster "33333333-3333-4333-8333-333333333333";',
                      'set $mgmtd_cluster "%s";' % CLUSTER_A)
    return text


def main_config(tmp):
    """nginx.conf around the shipped file: every path inside tmp."""
    # As root, workers would run as nobody and could not enter the private tmp directory.
    user = "user %s;\n" % pwd.getpwuid(os.geteuid()).pw_name if os.geteuid() == 0 else ""
    return (
        "%s"
        "worker_processes 1;\n"
        "pid %s/nginx.pid;\n"
        "error_log %s/error.log info;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        "    access_log %s/access.log;\n"
        "    client_body_temp_path %s/client_body;\n"
        "    proxy_temp_path %s/proxy;\n"
        "    fastcgi_temp_path %s/fastcgi;\n"
        "    uwsgi_temp_path %s/uwsgi;\n"
        "    scgi_temp_path %s/scgi;\n"
        "    include %s/data-plane.conf;\n"
        "}\n" % ((user,) + (tmp,) * 9)
    )


class Nginx:
    def __init__(self, binary, tmp, database_port, mgmtd_port):
        self.bin = binary
        self.tmp = Path(tmp)
        self.database_port = database_port
        self.mgmtd_port = mgmtd_port
        self.proc = None
        self.port = None
        self.log = self.tmp / "stdout.log"

    def argv(self, *extra):
        return [self.bin, "-p", str(self.tmp), "-e", str(self.tmp / "error.log"),
                "-c", str(self.tmp / "nginx.conf")] + list(extra)

    def error_log(self):
        p = self.tmp / "error.log"
        return p.read_text(errors="replace")[-4000:] if p.exists() else ""

    def start(self):
        for _attempt in range(3):  # the free port may be taken meanwhile: try another
            self.port = free_port()
            (self.tmp / "data-plane.conf").write_text(
                data_plane_config(self.port, self.database_port, self.mgmtd_port))
            (self.tmp / "nginx.conf").write_text(main_config(self.tmp))
            check = subprocess.run(self.argv("-t"), capture_output=True, text=True, timeout=20)
            assert check.returncode == 0, "nginx -t refused the config:\n%s%s" % (
                check.stdout, check.stderr)
            with open(self.log, "ab") as out:
                self.proc = subprocess.Popen(self.argv("-g", "daemon off;"), stdin=subprocess.DEVNULL,
                                             stdout=out, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        return self
                except OSError:
                    time.sleep(0.05)
            if self.proc.poll() is None:
                self.stop()
                pytest.fail("nginx did not listen within %.0f s:\n%s" % (START_TIMEOUT,
                                                                          self.error_log()))
            self.proc = None
        pytest.fail("nginx exited at start three times:\n%s" % self.error_log())

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def request(self, method, path, token=None, scheme="Token", **kw):
        headers = kw.pop("headers", {})
        if token is not None:
            headers["Authorization"] = "%s %s" % (scheme, token)
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return requests.request(method, self.url(path), headers=headers, **kw)


@pytest.fixture(scope="module")
def nginx_bin():
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if path is None:
        pytest.fail("nginx is not installed: run `make deps` (Debian package nginx)", pytrace=False)
    return path


@pytest.fixture(scope="module")
def stack(server, nginx_bin, tmp_path_factory):
    """mgmtd (the module's server), the stub database and nginx in front of both."""
    stub = StubDatabase()
    proxy = Nginx(nginx_bin, tmp_path_factory.mktemp("nginx"), stub.port, server.port)
    try:
        proxy.start()
        yield server, stub, proxy
    finally:
        proxy.stop()
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
    # docs/nginx.md: mgmtd's 400 for a name that decodes badly is nginx's 500
    r = proxy.request("POST", "/api/v2/write?bucket=a%20b", token, data=body_line(db))
    assert r.status_code == 500
    assert stub.seen("a%20b") == []
    assert stub.seen(db) == []
    assert stub.seen("/api/v2/buckets") == []
    assert proxy.request("POST", "/api/v2/write?bucket=%s" % db, token,
                         data=body_line(db)).status_code == 204
