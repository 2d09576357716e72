"""mgmtctl as a careful client (issue 20): nothing a server or an identity provider says
reaches the terminal or the browser unchecked, and no secret leaves by a side door.

Against servers of the test's own (Hostile below) that answer with the hostile values:
verification links that are not the identity provider's https:// pages (a fake xdg-open
records what it is given), proxies that must not see loopback traffic, text full of
terminal controls, tokens sent where they can be read, --trace corners, tokens that
would inject headers, FIFOs and loose files where secrets are kept, and times and sizes
past their bounds."""

import base64
import datetime as dt
import http.server
import json
import os
import threading
import time
import urllib.parse

import pytest

from conftest import ACCOUNT_A, CLUSTER_A, SLOWDOWN, make_mgmt_token
from ctl import Ctl, describe, mgmtctl_bin  # noqa: F401
from test_mgmtctl_profiles import https_mgmtd  # noqa: F401


class Hostile:
    """An HTTP server on 127.0.0.1 that answers every request with answer(req), a dict of
    method, path, headers and body (bytes) returning (status, body, headers); body may be
    bytes, or any JSON value. It records every request; a request whose target is an
    absolute URL (as a client sends to a proxy) is a proxied one."""

    def __init__(self, answer=None):
        self.requests = []
        self.answer = answer or (lambda req: (200, [], []))
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_one(self):
                n = int(self.headers.get("Content-Length", "0") or 0)
                req = {"method": self.command, "path": self.path,
                       "route": urllib.parse.urlsplit(self.path).path,
                       "headers": self.headers, "body": self.rfile.read(n) if n else b""}
                outer.requests.append(req)
                status, body, headers = outer.answer(req)
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                self.send_response(status)
                has_type = False
                for k, v in headers:
                    self.send_header(k, v)
                    has_type = has_type or k.lower() == "content-type"
                if not has_type:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = handle_one

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def proxied(self):
        return [r for r in self.requests if r["path"].startswith("http")]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hostile():
    servers = []

    def make(answer=None):
        s = Hostile(answer)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


def bare_ctl(mgmtctl_bin, tmp_path, url, token=None):
    """mgmtctl pointed at url (no daemon of the suite's)."""
    c = Ctl(mgmtctl_bin, None, tmp_path / "home", token=token)
    c.env["MGMTCTL_URL"] = url
    return c


def idp_profile(ctl, idp_url, api_url=None):
    """A profile whose identity provider's endpoints are idp_url's /device and /token."""
    ctl.write_config(
        '[[profile]]\nname = "default"\nproduct = "dedicated"\n'
        'url = "%s"\naccount_id = "%s"\ncluster_id = "%s"\n'
        '[profile.auth.oauth2]\ntoken_url = "%s/token"\ndevice_url = "%s/device"\n'
        % (api_url or idp_url, ACCOUNT_A, CLUSTER_A, idp_url, idp_url))
    for k in ("MGMTCTL_URL", "MGMTCTL_ACCOUNT", "MGMTCTL_CLUSTER", "MGMTCTL_TOKEN"):
        ctl.env.pop(k, None)


def device_idp(device_fields=None, token_answer=None):
    """An answer() for an identity provider: /device starts a sign-in with the fields
    given (a link on the IdP by default), /token answers token_answer (an error that ends
    the sign-in by default)."""

    def answer(req):
        if req["route"] == "/device":
            body = {"device_code": "dc-" + "d" * 40, "user_code": "BCDF-GHJK",
                    "verification_uri": "%s/activate" % (
                        req["path"].rsplit("/", 1)[0] if req["path"].startswith("http")
                        else req["self"].url),
                    "expires_in": 600, "interval": 1}
            body.update(device_fields or {})
            return 200, body, []
        if req["route"] == "/token":
            return token_answer(req) if token_answer else (
                400, {"error": "access_denied", "error_description": "no"}, [])
        return 404, {"code": "not_found", "message": "nothing here"}, []

    return answer


def start_idp(hostile, device_fields=None, token_answer=None):
    srv = None

    def answer(req):
        req["self"] = srv
        return device_idp(device_fields(srv) if callable(device_fields) else device_fields,
                          token_answer)(req)

    srv = hostile(answer)
    return srv


# ---------------------------------------------------------------------------
# 1. Only the identity provider's https:// pages are opened

def fake_opener(tmp_path):
    """A fake xdg-open that writes each argument it is given on a line of its own (a
    record per call, ended by "--end--"), and the PATH that finds it first."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    record = tmp_path / "opened.txt"
    opener = bin_dir / "xdg-open"
    opener.write_text('#!/bin/sh\nfor a in "$@"; do printf "%%s\\n" "$a"; done >> "%s"\n'
                      'echo --end-- >> "%s"\n' % (record, record))
    opener.chmod(0o755)
    return record, "%s:%s" % (bin_dir, os.environ.get("PATH", "/usr/bin:/bin"))


def wait_for(path, timeout=10):
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return path.exists()


HOSTILE_LINKS = [
    ("file", "file:///etc/passwd", "not an https:// link"),
    ("javascript", "javascript:alert(document.cookie)", "not an https:// link"),
    ("smb", "smb://attacker.example/share", "not an https:// link"),
    ("an option", "--help", "not an https:// link"),
    ("an option after space", " --version", "characters no plain link has"),
    ("another origin", "https://evil.example/activate?user_code=BCDF-GHJK",
     "does not lead to the identity provider"),
    ("http elsewhere", "http://evil.example/activate", "not this machine"),
    ("a user name", "http://127.0.0.1:{port}@evil.example/activate", "not plainly written"),
    ("a control", "http://127.0.0.1:{port}/activate\x1b]0;owned\x07", "characters no plain"),
    ("a space", "http://127.0.0.1:{port}/activate --help", "characters no plain link has"),
]


@pytest.mark.parametrize("label,link,why", HOSTILE_LINKS, ids=[h[0] for h in HOSTILE_LINKS])
def test_a_link_that_is_not_the_idps_is_printed_not_opened(mgmtctl_bin, tmp_path, hostile,
                                                           label, link, why):
    record, path = fake_opener(tmp_path)
    idp = start_idp(hostile, lambda srv: {
        "verification_uri_complete": link.replace("{port}", str(srv.port))})
    ctl = bare_ctl(mgmtctl_bin, tmp_path, idp.url)
    idp_profile(ctl, idp.url)
    res = ctl.fails(1, "auth", "login", env={"PATH": path, "DISPLAY": ":99"})
    assert "warn\tthe link is not opened in a browser: " in res.stderr, describe(res)
    assert why in res.stderr, describe(res)
    # printed for the person to judge, escaped
    assert "To sign in, open this link" in res.stderr
    assert "\x1b" not in res.stderr and "\x07" not in res.stderr
    time.sleep(0.5)  # a grandchild would have run the opener by now (checked below too)
    assert not record.exists(), record.read_text()


def test_the_idps_own_link_is_opened_as_one_argument(mgmtctl_bin, tmp_path, hostile):
    record, path = fake_opener(tmp_path)
    idp = start_idp(hostile, lambda srv: {
        "verification_uri_complete": srv.url + "/activate?user_code=BCDF-GHJK"})
    ctl = bare_ctl(mgmtctl_bin, tmp_path, idp.url)
    idp_profile(ctl, idp.url)
    res = ctl.fails(1, "auth", "login", env={"PATH": path, "DISPLAY": ":99"})
    assert "not opened" not in res.stderr, describe(res)
    assert wait_for(record)
    assert record.read_text().splitlines() == [idp.url + "/activate?user_code=BCDF-GHJK",
                                               "--end--"]


# ---------------------------------------------------------------------------
# 2. No proxy for loopback, as Go's net/http

CLUSTERS = [{"id": CLUSTER_A, "accountId": ACCOUNT_A, "name": "direct", "state": "ready",
             "url": "https://x.example", "createdAt": "2024-01-01T00:00:00.000Z"}]


def api_answer(req):
    return 200, CLUSTERS, []


@pytest.mark.parametrize("variable", ["http_proxy", "all_proxy"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.8.9.10"])
def test_loopback_never_goes_through_a_proxy(mgmtctl_bin, tmp_path, hostile, variable, host):
    target = hostile(api_answer)
    proxy = hostile(api_answer)
    # 127.8.9.10: the rest of 127/8, where nothing listens (Linux routes it all to lo):
    # the request fails to connect, but never reaches the proxy
    url = "http://%s:%d" % (host, target.port)
    token = make_mgmt_token()
    ctl = bare_ctl(mgmtctl_bin, tmp_path, url, token=token)
    res = ctl.run("cluster", "list", env={variable: proxy.url})
    assert proxy.requests == [], "the proxy saw %r" % [
        (r["path"], dict(r["headers"])) for r in proxy.requests]
    if host != "127.8.9.10":
        assert res.returncode == 0, describe(res)
        assert "direct" in res.stdout
        [req] = target.requests
        assert req["headers"]["Authorization"] == "Bearer " + token


def test_other_hosts_still_go_through_the_proxy_and_no_proxy_is_honoured(mgmtctl_bin,
                                                                          tmp_path, hostile):
    proxy = hostile(api_answer)
    ctl = bare_ctl(mgmtctl_bin, tmp_path, "http://mgmtd.invalid:8080",
                   token=make_mgmt_token())
    # a name that resolves nowhere: only the proxy can take the request (no DNS asked)
    res = ctl.run("cluster", "list", env={"http_proxy": proxy.url})
    assert res.returncode == 0, describe(res)
    [req] = proxy.proxied
    assert req["path"].startswith("http://mgmtd.invalid:8080/api/v0/accounts/")
    # 0.0.0.0 is not loopback for Go either, so it is proxied; NO_PROXY (either case, as
    # libcurl reads it) sends it straight to the host, which on Linux is this machine
    target = hostile(api_answer)
    ctl.env["MGMTCTL_URL"] = "http://0.0.0.0:%d" % target.port
    res = ctl.run("cluster", "list", env={"http_proxy": proxy.url})
    assert res.returncode == 0 and len(proxy.proxied) == 2 and target.requests == [], \
        describe(res)
    for n, name in enumerate(("NO_PROXY", "no_proxy")):
        res = ctl.run("cluster", "list", env={"http_proxy": proxy.url, name: "0.0.0.0"})
        assert res.returncode == 0, describe(res)
        assert len(proxy.requests) == 2 and len(target.requests) == n + 1


# ---------------------------------------------------------------------------
# 3. Server text is shown, never obeyed

# ESC (an OSC that sets the window title, a CSI that clears the screen, an OSC 8
# hyperlink), BEL, DEL, C1 CSI (U+009B), a bidi override and isolate, a zero-width space
EVIL = ("\x1b]0;owned\x07 \x1b[2J \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ "
        "\x7f \u009b31m \u202egnp.exe\u2066 \u200b end")


def hazards(text):
    """The characters of text a terminal would act on or a reader could not see (the
    list of util.c's text_hazard(), minus the newline and TAB that mgmtctl writes)."""
    out = []
    for ch in text:
        cp = ord(ch)
        if ch in "\n\t":
            continue
        if (cp < 0x20 or 0x7f <= cp <= 0x9f or 0x202a <= cp <= 0x202e or
                0x2066 <= cp <= 0x2069 or cp in (0x2028, 0x2029, 0x200b, 0xfeff) or
                0x2060 <= cp <= 0x2065 or 0x206a <= cp <= 0x206f or
                0xe0000 <= cp <= 0xe007f):
            out.append("U+%04X" % cp)
    return out


def assert_shown_escaped(res):
    assert hazards(res.stdout) == [] and hazards(res.stderr) == [], describe(res)
    # and shown, so a reader can tell something odd was there
    assert "\\u001b" in res.stdout + res.stderr, describe(res)


def test_an_api_error_message_is_escaped(mgmtctl_bin, tmp_path, hostile):
    srv = hostile(lambda req: (400, {"code": "invalid", "message": EVIL}, []))
    ctl = bare_ctl(mgmtctl_bin, tmp_path, srv.url, token=make_mgmt_token())
    res = ctl.fails(1, "cluster", "list")
    assert res.stderr.startswith("error\t\\u001b]0;owned\\u0007 ")
    assert "\\u009b31m \\u202egnp.exe\\u2066 \\u200b end" in res.stderr
    assert_shown_escaped(res)


def test_the_idps_error_description_is_escaped(mgmtctl_bin, tmp_path, hostile):
    idp = start_idp(hostile, token_answer=lambda req: (
        400, {"error": "invalid_grant\x1b[31m", "error_description": EVIL}, []))
    ctl = bare_ctl(mgmtctl_bin, tmp_path, idp.url)
    idp_profile(ctl, idp.url)
    res = ctl.fails(1, "auth", "login")
    assert "invalid_grant\\u001b[31m: \\u001b]0;owned" in res.stderr
    assert_shown_escaped(res)


def test_the_user_code_and_the_link_are_escaped(mgmtctl_bin, tmp_path, hostile):
    idp = start_idp(hostile, lambda srv: {
        "user_code": "BCDF\x1b[8m-GHJK", "verification_uri": srv.url + "/a\x1b]0;x\x07"})
    ctl = bare_ctl(mgmtctl_bin, tmp_path, idp.url)
    idp_profile(ctl, idp.url)
    res = ctl.fails(1, "auth", "login")
    assert "/a\\u001b]0;x\\u0007 in a browser and enter the code BCDF\\u001b[8m-GHJK" \
        in res.stderr
    assert_shown_escaped(res)


def unsigned_jwt(claims):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return "%s.%s.%s" % (part({"alg": "none", "typ": "JWT"}), part(claims), "sig")


def test_the_email_of_the_signed_in_jwt_is_escaped(mgmtctl_bin, tmp_path, hostile):
    token = unsigned_jwt({"email": "a\x1b]0;owned\x07@example.com",
                          "exp": int(time.time()) + 3600})
    idp = start_idp(hostile, token_answer=lambda req: (
        200, {"access_token": token, "token_type": "Bearer", "expires_in": 600}, []))
    ctl = bare_ctl(mgmtctl_bin, tmp_path, idp.url)
    idp_profile(ctl, idp.url)
    res = ctl.ok("auth", "login")
    assert res.stdout.startswith("signed in as a\\u001b]0;owned\\u0007@example.com;")
    assert_shown_escaped(res)


def test_a_body_that_is_not_json_is_escaped_in_the_trace(mgmtctl_bin, tmp_path, hostile):
    srv = hostile(lambda req: (502, EVIL.encode(), [("Content-Type", "text/plain"),
                                                    ("X-Evil", "\x1b]0;hdr\x07")]))
    ctl = bare_ctl(mgmtctl_bin, tmp_path, srv.url, token=make_mgmt_token())
    res = ctl.fails(1, "--trace", "cluster", "list")
    assert "debug\t< \\u001b]0;owned\\u0007 " in res.stderr
    assert "X-Evil: \\u001b]0;hdr\\u0007" in res.stderr
    assert_shown_escaped(res)


def test_a_new_tokens_secret_is_escaped(mgmtctl_bin, tmp_path, hostile):
    srv = hostile(lambda req: (200, {"id": "x", "description": "d",
                                     "accessToken": "M.V1.\x1b]0;owned\x07"}, []))
    ctl = bare_ctl(mgmtctl_bin, tmp_path, srv.url, token=make_mgmt_token())
    res = ctl.ok("management", "create", "--description", "d")
    assert res.stdout.splitlines()[-1] == "M.V1.\\u001b]0;owned\\u0007"
    assert_shown_escaped(res)


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_listed_text_is_escaped_c1_and_bidi_included(mgmtctl_bin, tmp_path, hostile, fmt):
    clusters = [dict(CLUSTERS[0], name=EVIL)]
    srv = hostile(lambda req: (200, clusters, []))
    ctl = bare_ctl(mgmtctl_bin, tmp_path, srv.url, token=make_mgmt_token())
    res = ctl.ok("cluster", "list", "--format", fmt)
    assert_shown_escaped(res)
    if fmt == "json":
        # still JSON, and it reads back to the text the server sent
        assert json.loads(res.stdout)[0]["name"] == EVIL


# ---------------------------------------------------------------------------
# 4. A credential sent where it can be read is said so

CLEARTEXT = ("warn\tthe credential goes over plain http:// to mgmtd.invalid: anyone on the "
             "way can read it and use it; use https://\n")


def test_a_token_over_http_to_another_host_is_warned_about(mgmtctl_bin, tmp_path, hostile):
    proxy = hostile(api_answer)  # stands for the network between here and mgmtd.invalid
    ctl = bare_ctl(mgmtctl_bin, tmp_path, "http://mgmtd.invalid:8080",
                   token=make_mgmt_token())
    res = ctl.ok("cluster", "list", env={"http_proxy": proxy.url})
    assert res.stderr == CLEARTEXT, describe(res)
    assert "direct" in res.stdout


def test_a_token_over_http_to_loopback_is_not(mgmtctl_bin, tmp_path, hostile):
    srv = hostile(api_answer)
    ctl = bare_ctl(mgmtctl_bin, tmp_path, srv.url.replace("127.0.0.1", "localhost"),
                   token=make_mgmt_token())
    res = ctl.ok("cluster", "list")
    assert res.stderr == "", describe(res)


def test_a_sign_in_over_http_to_another_host_is_warned_about(mgmtctl_bin, tmp_path, hostile):
    proxy = start_idp(hostile)  # the IdP at idp.invalid, reached through the proxy
    ctl = bare_ctl(mgmtctl_bin, tmp_path, proxy.url)
    idp_profile(ctl, "http://idp.invalid", api_url=proxy.url)
    res = ctl.fails(1, "auth", "login", env={"http_proxy": proxy.url})
    assert ("warn\tthe sign-in goes over plain http:// to idp.invalid: anyone on the way can "
            "read it and use it; use https://\n") in res.stderr, describe(res)
    assert "denied" in res.stderr
    assert [r["route"] for r in proxy.proxied] == ["/device", "/token"]


def test_insecure_is_warned_about(mgmtctl_bin, tmp_path, https_mgmtd):
    url, cert = https_mgmtd
    ctl = bare_ctl(mgmtctl_bin, tmp_path, url, token=make_mgmt_token())
    ctl.write_config('[[profile]]\nname = "default"\nproduct = "dedicated"\n'
                     '[profile.tls]\ninsecure = true\n')
    res = ctl.ok("cluster", "list")
    assert res.stderr == ("warn\tinsecure = true: mgmtd's certificate is not verified, so "
                          "anyone on the way can pose as mgmtd and take the credential; set "
                          "ca in [profile.tls] instead\n"), describe(res)
    # verified against the CA: nothing to say
    ctl.write_config('[[profile]]\nname = "default"\nproduct = "dedicated"\n'
                     '[profile.tls]\nca = "%s"\n' % cert)
    assert ctl.ok("cluster", "list").stderr == ""


# ---------------------------------------------------------------------------
# 5. --trace hides secrets by parsing, whatever the first byte, and in cookies

def test_trace_hides_secrets_in_bodies_starting_with_whitespace_and_cookies(
        mgmtctl_bin, tmp_path, hostile):
    opaque = "opaque-" + os.urandom(16).hex()
    device_code = "dc-" + os.urandom(16).hex()
    cookie = "sess-" + os.urandom(16).hex()

    def answer(req):
        if req["route"] == "/device":
            body = {"device_code": device_code, "user_code": "BCDF-GHJK",
                    "verification_uri": srv.url + "/activate", "interval": 1}
        else:
            body = {"access_token": opaque, "token_type": "Bearer", "expires_in": 600}
        return 200, b" \r\n\t" + json.dumps(body).encode(), [
            ("Set-Cookie", "session=%s; Path=/; HttpOnly" % cookie)]

    srv = hostile(answer)
    ctl = bare_ctl(mgmtctl_bin, tmp_path, srv.url)
    idp_profile(ctl, srv.url)
    res = ctl.ok("--trace", "auth", "login")
    assert "debug\t< Set-Cookie: [REDACTED]" in res.stderr, describe(res)
    for secret in (opaque, device_code, cookie):
        assert secret not in res.stderr, describe(res)
    assert '"[REDACTED]"' in res.stderr


# ---------------------------------------------------------------------------
# 6. A token never carries a header of its own

INJECTING = "M.V1.abc\r\nX-Injected: yes"


def test_a_token_from_the_idp_with_a_line_break_is_refused(mgmtctl_bin, tmp_path, hostile):
    idp = start_idp(hostile, token_answer=lambda req: (
        200, {"access_token": INJECTING, "token_type": "Bearer", "expires_in": 600}, []))
    ctl = bare_ctl(mgmtctl_bin, tmp_path, idp.url)
    idp_profile(ctl, idp.url)
    # on a terminal, as a person signs in (without one mgmtctl would not start a sign-in)
    res = ctl.start("cluster", "list").finish(timeout=QUICK)
    assert res.returncode == 1, describe(res)
    assert ("error\tthe identity provider's access token cannot be used: it holds a control "
            "character") in res.stderr, describe(res)
    # not cached, and no API call went out with it
    assert not ctl.cache_dir.exists() or list(ctl.cache_dir.iterdir()) == []
    assert [r["route"] for r in idp.requests] == ["/device", "/token"]


@pytest.mark.parametrize("token", [INJECTING, "M.V1.abc\nX-Injected: yes", "M.V1.a b"])
def test_a_configured_token_with_a_control_is_not_sent(mgmtctl_bin, tmp_path, hostile, token):
    srv = hostile(api_answer)
    ctl = bare_ctl(mgmtctl_bin, tmp_path, srv.url, token=token)
    res = ctl.fails(1, "cluster", "list")
    assert "error\tthe token is not sent to %s/api/v0/" % srv.url in res.stderr, describe(res)
    assert srv.requests == []


# ---------------------------------------------------------------------------
# 7. A FIFO where a file is expected is refused, not waited on

# seconds: a run that waits on a FIFO never ends; one that refuses it is quick
QUICK = 10 * SLOWDOWN


def test_a_fifo_as_the_cached_sign_in_is_refused(mgmtctl_bin, tmp_path, hostile):
    token = unsigned_jwt({"email": "a@example.com", "exp": int(time.time()) + 3600})
    answers = [(200, {"access_token": token, "token_type": "Bearer", "expires_in": 600}, [])]
    idp = start_idp(hostile, token_answer=lambda req: answers[0])
    ctl = bare_ctl(mgmtctl_bin, tmp_path, idp.url)
    idp_profile(ctl, idp.url)
    ctl.ok("auth", "login")
    [cached] = list(ctl.cache_dir.iterdir())
    # someone puts a FIFO in its place (a loose cache directory lets another user do it)
    cached.unlink()
    os.mkfifo(cached, 0o600)
    os.chmod(ctl.cache_dir, 0o777)
    answers[0] = (400, {"error": "access_denied"}, [])
    res = ctl.start("--debug", "cluster", "list").finish(timeout=QUICK)
    assert res.returncode == 1, describe(res)
    assert "is not a private file of this user: ignored" in res.stderr, describe(res)
    assert "To sign in" in res.stderr  # so it signs in anew
    # and the directory was made private again before anything in it was read
    assert os.stat(ctl.cache_dir).st_mode & 0o777 == 0o700


def test_a_fifo_as_the_config_or_the_token_file_is_refused(mgmtctl_bin, tmp_path, hostile):
    srv = hostile(api_answer)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    ctl = bare_ctl(mgmtctl_bin, tmp_path, srv.url)
    res = ctl.fails(1, "--config", fifo, "cluster", "list", timeout=QUICK)
    assert "%s: not a regular file" % fifo in res.stderr, describe(res)
    ctl.write_config('[[profile]]\nname = "default"\nproduct = "dedicated"\n'
                     '[profile.auth.token]\ntoken_file = "%s"\n' % fifo)
    os.chmod(ctl.config_path, 0o600)
    res = ctl.fails(1, "cluster", "list", timeout=QUICK)
    assert "error\tthe token_file %s is not a regular file" % fifo in res.stderr, describe(res)
    assert srv.requests == []


# ---------------------------------------------------------------------------
# 8. Secrets in files others can read

def test_a_token_file_others_can_read_is_refused(mgmtctl_bin, tmp_path, hostile):
    srv = hostile(api_answer)
    token = make_mgmt_token()
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    ctl = bare_ctl(mgmtctl_bin, tmp_path, srv.url)
    ctl.write_config('[[profile]]\nname = "default"\nproduct = "dedicated"\n'
                     '[profile.auth.token]\ntoken_file = "%s"\n' % token_file)
    os.chmod(ctl.config_path, 0o600)
    for mode in (0o644, 0o640, 0o604, 0o620):
        os.chmod(token_file, mode)
        res = ctl.fails(1, "cluster", "list")
        assert res.stderr == (
            "error\tthe token_file %s is open to other users (mode %04o): refused, as ssh "
            "refuses such key files; run chmod 600 %s\n" % (token_file, mode, token_file))
        assert srv.requests == []
    os.chmod(token_file, 0o600)
    res = ctl.ok("cluster", "list")
    assert res.stderr == ""
    assert srv.requests[0]["headers"]["Authorization"] == "Bearer " + token


def test_a_config_holding_a_management_token_others_can_read_is_warned_about(
        mgmtctl_bin, tmp_path, hostile):
    srv = hostile(api_answer)
    ctl = bare_ctl(mgmtctl_bin, tmp_path, srv.url)
    ctl.env.pop("MGMTCTL_URL")
    ctl.write_config('[[profile]]\nname = "default"\nproduct = "dedicated"\nurl = "%s"\n'
                     'mgmt_token = "%s"\n' % (srv.url, make_mgmt_token()))
    os.chmod(ctl.config_path, 0o644)
    res = ctl.ok("cluster", "list")
    assert res.stderr == ("warn\t%s holds a mgmt_token and is open to other users (mode 0644): "
                          "run chmod 600 %s\n" % (ctl.config_path, ctl.config_path))
    os.chmod(ctl.config_path, 0o600)
    assert ctl.ok("cluster", "list").stderr == ""
    # a profile file without a secret may be read by anyone
    ctl.write_config('[[profile]]\nname = "default"\nproduct = "dedicated"\nurl = "%s"\n'
                     % srv.url)
    os.chmod(ctl.config_path, 0o644)
    assert ctl.ok("cluster", "list", env={"MGMTCTL_TOKEN": make_mgmt_token()}).stderr == ""


# ---------------------------------------------------------------------------
# 9. Times and sizes from outside are bounded

def login_with(mgmtctl_bin, tmp_path, hostile, token):
    idp = start_idp(hostile, token_answer=lambda req: (
        200, {"access_token": token, "token_type": "Bearer", "expires_in": 600}, []))
    ctl = bare_ctl(mgmtctl_bin, tmp_path, idp.url)
    idp_profile(ctl, idp.url)
    return ctl, ctl.run("auth", "login")


def cache_entries(ctl):
    return list(ctl.cache_dir.iterdir()) if ctl.cache_dir.exists() else []


@pytest.mark.parametrize("exp", [-(2 ** 63), -1, 0, 1])
def test_a_jwt_that_expired_long_ago_is_not_cached(mgmtctl_bin, tmp_path, hostile, exp):
    ctl, res = login_with(mgmtctl_bin, tmp_path, hostile,
                          unsigned_jwt({"email": "a@example.com", "exp": exp}))
    assert res.returncode == 0, describe(res)
    assert ("warn\tthe sign-in is not cached: its exp (1970-01-01T00:00:0") in res.stderr
    assert res.stdout == "signed in as a@example.com; the sign-in is not kept\n"
    assert cache_entries(ctl) == []


def test_a_jwt_with_the_largest_exp_is_kept_for_the_idps_lifetime(mgmtctl_bin, tmp_path,
                                                                   hostile):
    ctl, res = login_with(mgmtctl_bin, tmp_path, hostile,
                          unsigned_jwt({"email": "a@example.com", "exp": 2 ** 63 - 1}))
    assert res.returncode == 0, describe(res)
    [path] = cache_entries(ctl)
    expiry = json.loads(path.read_text())["expiry"]
    # expires_in (600 s) from now, whatever the calendar says
    t = dt.datetime.strptime(expiry, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    assert 0 < t.timestamp() - time.time() <= 600


def test_a_token_too_large_to_read_back_is_not_cached(mgmtctl_bin, tmp_path, hostile):
    ctl, res = login_with(mgmtctl_bin, tmp_path, hostile, "t" * (70 * 1024))
    assert res.returncode == 0, describe(res)
    assert ("warn\tthe sign-in is not cached (the token is too large to cache (over 65536 "
            "bytes)): the next command signs in again") in res.stderr
    assert cache_entries(ctl) == []


def test_tls_files_a_fifo_refused_a_loose_key_warned_about(mgmtctl_bin, tmp_path, https_mgmtd):
    url, cert = https_mgmtd
    key = tmp_path / "key.pem"  # the server's own pair, offered as a client certificate
    ctl = bare_ctl(mgmtctl_bin, tmp_path, url, token=make_mgmt_token())
    tls = ('[[profile]]\nname = "default"\nproduct = "dedicated"\n'
           '[profile.tls]\nca = "%s"\ncert = "%s"\nkey = "%s"\n')
    ctl.write_config(tls % (cert, cert, key))
    os.chmod(key, 0o644)
    res = ctl.ok("cluster", "list")
    assert res.stderr == ("warn\tthe [profile.tls] key %s is open to other users (mode 0644): "
                          "run chmod 600 %s\n" % (key, key)), describe(res)
    os.chmod(key, 0o600)
    assert ctl.ok("cluster", "list").stderr == ""
    fifo = tmp_path / "ca-fifo"
    os.mkfifo(fifo, 0o600)
    ctl.write_config(tls % (fifo, cert, key))
    res = ctl.fails(1, "cluster", "list", timeout=QUICK)
    assert res.stderr == "error\tthe [profile.tls] ca %s is not a regular file\n" % fifo


def test_debug_lines_hide_secrets_in_query_strings(mgmtctl_bin, tmp_path, hostile):
    secret = "qs-" + os.urandom(12).hex()
    idp = start_idp(hostile)
    ctl = bare_ctl(mgmtctl_bin, tmp_path, idp.url)
    ctl.write_config(
        '[[profile]]\nname = "default"\nproduct = "dedicated"\nurl = "%s"\n'
        '[profile.auth.oauth2]\ntoken_url = "%s/token?client_secret=%s"\n'
        'device_url = "%s/device"\n' % (idp.url, idp.url, secret, idp.url))
    ctl.env.pop("MGMTCTL_URL")
    res = ctl.fails(1, "--debug", "auth", "login")
    assert "debug\tPOST %s/token?client_secret=[REDACTED]" % idp.url in res.stderr, describe(res)
    assert secret not in res.stderr
    assert idp.requests[-1]["path"] == "/token?client_secret=" + secret  # sent as configured
