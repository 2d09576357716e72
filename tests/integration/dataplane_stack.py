"""Real servers for the data-plane tests, and a client that sends requests exactly as written.

- Influxd: InfluxDB 1.x (Debian's influxdb, `influxd`) with a config of its own: meta, data
  and wal directories in a temporary directory, HTTP and RPC on free 127.0.0.1 ports, no
  reporting, no _internal monitoring, no authentication.
- Nginx: nginx with a given server config (the shipped config/nginx-data-plane.conf), every
  path inside its directory.
- Caddy: Caddy with a given Caddyfile (the shipped config/caddy-data-plane.Caddyfile).

Each runs in the foreground in a directory of its own (not under pytest's temp dir, which is
0700 to whoever runs the tests), as an unprivileged user when the tests run as root
(MGMTD_TEST_SERVER_USER, default nobody; tests/tools/pgserver.py does the same), on the real
clock and without the tests' preloads. stop() ends the process it started, by its pid.

raw_request() speaks HTTP/1.1 over a plain socket from a chosen 127.0.0.x source address, so
that a test can send what client libraries would normalise away: a request target with
encoded or repeated names, two copies of a header, a chunked body.
"""

import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

START_TIMEOUT = 20.0
HTTP_TIMEOUT = 10.0

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def substitute(text, old, new, count=1, what="the shipped config"):
    """Replaces old, which must occur exactly count times: a test fails when the shipped file
    changed shape instead of silently testing something else."""
    assert text.count(old) == count, "%s no longer has exactly %d of %r" % (what, count, old)
    return text.replace(old, new)


def find_binary(name):
    path = shutil.which(name) or next((p for p in ("/usr/sbin/" + name, "/usr/bin/" + name)
                                       if os.path.exists(p)), None)
    if path is None:
        pytest.fail("%s is not installed: run `make deps`" % name, pytrace=False)
    return path


class ServerProcess:
    """A server in a directory of its own, run as an unprivileged user when we are root."""

    name = "server"

    def __init__(self):
        self.root = os.geteuid() == 0
        self.user = os.environ.get("MGMTD_TEST_SERVER_USER", "nobody") if self.root \
            else pwd.getpwuid(os.geteuid()).pw_name
        self.dir = Path(tempfile.mkdtemp(prefix="mgmtd-%s." % self.name))
        self.log = self.dir / "output.log"
        self.proc = None
        self.port = None

    def own(self, *paths):
        """Makes paths (and the directory) the server user's."""
        if not self.root:
            return
        pw = pwd.getpwnam(self.user)
        for p in (self.dir,) + tuple(paths):
            os.chown(p, pw.pw_uid, pw.pw_gid)

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if k != "LD_PRELOAD" and not k.startswith("FAKETIME")
               and not k.endswith("SAN_OPTIONS") and not k.startswith("MGMTD_")}
        env.update(HOME=str(self.dir), XDG_CONFIG_HOME=str(self.dir / "config"),
                   XDG_DATA_HOME=str(self.dir / "data"), TMPDIR=str(self.dir))
        return env

    def run_kw(self):
        kw = {"env": self.env(), "cwd": str(self.dir), "stdin": subprocess.DEVNULL}
        if self.root:
            pw = pwd.getpwnam(self.user)
            kw.update(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
        return kw

    def spawn(self, argv, ready):
        """Starts argv and waits until ready() is true; fails with the log otherwise."""
        os.chmod(self.dir, 0o700)
        self.own(*[p for p in self.dir.iterdir()])
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                         **self.run_kw())
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                rc, self.proc = self.proc.returncode, None
                pytest.fail("%s exited with %d at start:\n%s" % (self.name, rc, self.log_tail()))
            if ready():
                return self
            time.sleep(0.05)
        self.stop()
        pytest.fail("%s did not come up within %.0f s:\n%s" % (self.name, START_TIMEOUT,
                                                               self.log_tail()))

    def listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def log_tail(self, n=60):
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-n:])

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self.proc = None

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)


class Influxd(ServerProcess):
    """InfluxDB 1.x: the database behind the proxies, and the judge of what really happened."""

    name = "influxd"

    def __init__(self):
        super().__init__()
        self.bin = find_binary("influxd")

    def config(self, rpc_port):
        d = self.dir
        return (
            "reporting-disabled = true\n"
            "bind-address = \"127.0.0.1:%d\"\n"
            "[meta]\n  dir = \"%s/meta\"\n  logging-enabled = false\n"
            "[data]\n  dir = \"%s/data\"\n  wal-dir = \"%s/wal\"\n  query-log-enabled = false\n"
            "[monitor]\n  store-enabled = false\n"
            "[continuous_queries]\n  enabled = false\n"
            "[http]\n  bind-address = \"127.0.0.1:%d\"\n  auth-enabled = false\n"
            "  log-enabled = true\n  access-log-path = \"%s/access.log\"\n"
            "  pprof-enabled = false\n"
            % (rpc_port, d, d, d, self.port, d))

    def start(self):
        for _attempt in range(3):  # a free port may be taken meanwhile
            self.port = free_port()
            (self.dir / "influxdb.conf").write_text(self.config(free_port()))
            try:
                return self.spawn([self.bin, "run", "-config", str(self.dir / "influxdb.conf")],
                                  self.pings)
            except pytest.fail.Exception:
                if "address already in use" not in self.log_tail():
                    raise
        pytest.fail("influxd found no free port three times:\n" + self.log_tail())

    def pings(self):
        try:
            return raw_request(self.port, "GET", "/ping", timeout=1)[0] == 204
        except OSError:
            return False

    def access_lines(self):
        """The database's access log so far, one line per request it served."""
        p = self.dir / "access.log"
        return p.read_text(errors="replace").splitlines() if p.exists() else []

    # -- straight to the database, past every proxy --

    def query(self, q, db=None, **params):
        """The JSON answer of a direct GET /query (POST for statements that change things)."""
        fields = {"q": q}
        if db is not None:
            fields["db"] = db
        fields.update(params)
        method = "GET" if q.lstrip().upper().startswith(("SELECT", "SHOW")) else "POST"
        status, _h, body = raw_request(self.port, method,
                                       "/query?" + urllib.parse.urlencode(fields))
        assert status == 200, "influxd answered %d to %r: %r" % (status, q, body)
        return json.loads(body)

    def must(self, q, db=None):
        answer = self.query(q, db)
        errors = [r["error"] for r in answer["results"] if "error" in r]
        assert not errors, "influxd refused %r: %s" % (q, errors)
        return answer

    def write(self, db, lines, rp=None):
        target = "/write?db=" + urllib.parse.quote(db, safe="")
        if rp:
            target += "&rp=" + urllib.parse.quote(rp, safe="")
        status, _h, body = raw_request(self.port, "POST", target, body=lines.encode())
        assert status == 204, "influxd refused the write to %s: %d %r" % (db, status, body)

    def values(self, q, db):
        """Every value of every series a query answers, as one flat list."""
        out = []
        for result in self.must(q, db)["results"]:
            for series in result.get("series", []):
                for row in series["values"]:
                    out.extend(row)
        return out

    def databases(self):
        return sorted(v for v in self.values("SHOW DATABASES", None) if isinstance(v, str))


class Nginx(ServerProcess):
    """nginx around a server config: pid, logs and temp paths inside its directory."""

    name = "nginx"

    def __init__(self, server_conf):
        super().__init__()
        self.bin = find_binary("nginx")
        self.server_conf = server_conf  # function(port) -> the text of the http{} include

    def main_config(self):
        d = self.dir
        return (
            "worker_processes 1;\n"
            "pid %s/nginx.pid;\n"
            "error_log %s/error.log info;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            "    access_log %s/access.log;\n"
            "    client_body_temp_path %s/client_body;\n"
            "    proxy_temp_path %s/proxy;\n"
            "    fastcgi_temp_path %s/fastcgi;\n"
            "    uwsgi_temp_path %s/uwsgi;\n"
            "    scgi_temp_path %s/scgi;\n"
            "    include %s/data-plane.conf;\n"
            "}\n" % ((d,) * 9))

    def argv(self, *extra):
        return [self.bin, "-p", str(self.dir), "-e", str(self.dir / "error.log"),
                "-c", str(self.dir / "nginx.conf")] + list(extra)

    def start(self):
        for _attempt in range(3):
            self.port = free_port()
            (self.dir / "data-plane.conf").write_text(self.server_conf(self.port))
            (self.dir / "nginx.conf").write_text(self.main_config())
            self.own(self.dir / "data-plane.conf", self.dir / "nginx.conf")
            check = subprocess.run(self.argv("-t"), capture_output=True, text=True, timeout=20,
                                   **{k: v for k, v in self.run_kw().items() if k != "stdin"})
            assert check.returncode == 0, "nginx -t refused the config:\n%s%s" % (
                check.stdout, check.stderr)
            try:
                return self.spawn(self.argv("-g", "daemon off;"), self.listening)
            except pytest.fail.Exception:
                if "Address already in use" not in self.log_tail() + self.error_log():
                    raise
        pytest.fail("nginx found no free port three times:\n" + self.error_log())

    def error_log(self):
        p = self.dir / "error.log"
        return p.read_text(errors="replace")[-4000:] if p.exists() else ""


class Caddy(ServerProcess):
    """Caddy running a Caddyfile, its home and data inside its directory."""

    name = "caddy"

    def __init__(self, caddyfile):
        super().__init__()
        self.bin = find_binary("caddy")
        self.caddyfile = caddyfile  # function(port) -> the Caddyfile's text

    def start(self):
        for _attempt in range(3):
            self.port = free_port()
            path = self.dir / "Caddyfile"
            path.write_text(self.caddyfile(self.port))
            self.own(path)
            try:
                return self.spawn([self.bin, "run", "--config", str(path), "--adapter",
                                   "caddyfile"], self.listening)
            except pytest.fail.Exception:
                if "address already in use" not in self.log_tail():
                    raise
        pytest.fail("caddy found no free port three times:\n" + self.log_tail())


def shipped_nginx(mgmtd_port, database_port, account, cluster):
    """config/nginx-data-plane.conf with its EDIT lines filled in: a function of the port."""
    text = (ROOT / "config" / "nginx-data-plane.conf").read_text()
    text = substitute(text, "server 127.0.0.1:8181;  # EDIT",
                      "server 127.0.0.1:%d;  # EDIT" % database_port)
    text = substitute(text, "server 127.0.0.1:8080;  # EDIT",
                      "server 127.0.0.1:%d;  # EDIT" % mgmtd_port)
    text = substitute(text, 'set $mgmtd_account "11111111-1111-4111-8111-111111111111";',
                      'set $mgmtd_account "%s";' % account)
    text = substitute(text, 'set $mgmtd_cluster "33333333-3333-4333-8333-333333333333";',
                      'set $mgmtd_cluster "%s";' % cluster)
    return lambda port: substitute(text, "listen 127.0.0.1:8086;  # EDIT",
                                   "listen 127.0.0.1:%d;  # EDIT" % port)


def shipped_caddyfile(mgmtd_port, database_port, account, cluster):
    """config/caddy-data-plane.Caddyfile with its EDIT lines filled in: a function of the port."""
    text = (ROOT / "config" / "caddy-data-plane.Caddyfile").read_text()
    text = substitute(text, "reverse_proxy 127.0.0.1:8181 # EDIT",
                      "reverse_proxy 127.0.0.1:%d # EDIT" % database_port, count=3)
    text = substitute(text, "forward_auth 127.0.0.1:8080 { # EDIT",
                      "forward_auth 127.0.0.1:%d { # EDIT" % mgmtd_port)
    text = substitute(text, "/api/v0/accounts/11111111-1111-4111-8111-111111111111/clusters/"
                      "33333333-3333-4333-8333-333333333333/authorize?",
                      "/api/v0/accounts/%s/clusters/%s/authorize?" % (account, cluster))
    return lambda port: substitute(text, ":8086 { # EDIT", ":%d { # EDIT" % port)


def start_proxy(kind, mgmtd_port, database_port, account, cluster):
    """nginx or Caddy with the shipped config in front of database_port, asking mgmtd_port."""
    if kind == "nginx":
        return Nginx(shipped_nginx(mgmtd_port, database_port, account, cluster)).start()
    return Caddy(shipped_caddyfile(mgmtd_port, database_port, account, cluster)).start()


def raw_request(port, method, target, headers=(), body=None, source="127.0.0.1",
                chunked=False, timeout=HTTP_TIMEOUT):
    """Sends one request exactly as given (target and headers unchanged, headers in order,
    repeats kept) from source, and returns (status, {lower-case name: [values]}, body)."""
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: 127.0.0.1:%d" % port]
    lines += ["%s: %s" % (k, v) for k, v in headers]
    payload = b""
    if body is not None and chunked:
        lines.append("Transfer-Encoding: chunked")
        for i in range(0, len(body), 7):  # small chunks, so that there are several
            piece = body[i:i + 7]
            payload += b"%x\r\n%s\r\n" % (len(piece), piece)
        payload += b"0\r\n\r\n"
    elif body is not None:
        lines.append("Content-Length: %d" % len(body))
        payload = body
    lines.append("Connection: close")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
    with socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                  source_address=(source, 0)) as s:
        s.sendall(data)
        resp = http.client.HTTPResponse(s, method=method)
        resp.begin()
        got = {}
        for k, v in resp.getheaders():
            got.setdefault(k.lower(), []).append(v)
        return resp.status, got, resp.read()
