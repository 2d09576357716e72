"""mgmtctl's sign-in: the OAuth 2.0 device authorization grant end to end against mgmtd's dev
identity provider (the test approves the code on the verification page as a person
would), the token cache (modes, reuse, expiry by the test clock, removal on a 401,
logout), the polling rules against an identity provider of the test's own (interval,
its absence, slow_down, errors), and no secret in --debug/--trace output."""

import datetime as dt
import http.server
import json
import os
import stat
import subprocess
import threading
import time
import urllib.parse

import jwt as pyjwt
import pytest

from conftest import (ACCOUNT_A, CLI_TIMEOUT, CLUSTER_A, MGMT_TOKEN_RE, assert_secret_absent, ok_json,
                      tokens_path)
from ctl import Ctl, describe, freeze_clock, mgmtctl_bin, module_daemon, sign_in  # noqa: F401
from verifypage import deny

DEV = "[dev_idp]\nenabled = true\n[testing]\nenabled = true\n"


@pytest.fixture(scope="module")
def dev(mgmtd_bin, idp, tmp_path_factory):
    # the dev IdP alone: the seed's subjects are its own (idpIssuer dev_idp)
    yield from module_daemon(mgmtd_bin, idp, tmp_path_factory, "login", config_extra=DEV,
                             idp_section=False)


@pytest.fixture
def ctl(mgmtctl_bin, dev, tmp_path):
    yield Ctl(mgmtctl_bin, dev, tmp_path / "home")
    dev.delete("/_test/clock")


def cache_files(ctl):
    if not ctl.cache_dir.exists():
        return []
    return sorted(p for p in ctl.cache_dir.iterdir() if p.suffix == ".json")


def cached(ctl):
    [path] = cache_files(ctl)
    return path, json.loads(path.read_text())


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def parse_time(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def test_login_caches_privately_and_later_commands_reuse_it(ctl, dev):
    # a cache directory others can read is made private
    ctl.cache_dir.mkdir(parents=True)
    os.chmod(ctl.cache_dir, 0o755)
    res = sign_in(ctl)
    assert res.stdout.startswith("signed in as admin@example.com; the sign-in is kept until ")
    assert "/activate?user_code=" in res.stderr and "Waiting" in res.stderr
    assert mode(ctl.cache_dir) == 0o700
    path, entry = cached(ctl)
    assert mode(path) == 0o600
    assert set(entry) == {"access_token", "token_type", "expiry"}
    claims = pyjwt.decode(entry["access_token"], options={"verify_signature": False})
    assert claims["email"] == "admin@example.com"
    # never kept past the JWT's own exp
    assert parse_time(entry["expiry"]).timestamp() <= claims["exp"]
    # an admin signed in through the IdP: may create a management token, without a prompt
    res = ctl.ok("management", "create", "--description", "by a signed-in admin")
    assert "To sign in" not in res.stderr
    assert MGMT_TOKEN_RE.fullmatch(res.stdout.splitlines()[-1])
    res = ctl.ok("user", "list")
    assert "admin@example.com" in res.stdout and "To sign in" not in res.stderr
    assert cache_files(ctl) == [path]


def test_the_first_command_signs_in_then_runs(ctl):
    s = ctl.start("cluster", "list")
    s.approve("admin@example.com")
    res = s.finish()
    assert res.returncode == 0, describe(res)
    assert CLUSTER_A in res.stdout and "To sign in" in res.stderr
    # the table alone on stdout: the sign-in talks on stderr only
    assert res.stdout.startswith("+--")
    res = ctl.ok("cluster", "list")
    assert "To sign in" not in res.stderr


def test_an_expired_sign_in_signs_in_again(ctl, dev):
    sign_in(ctl)
    path, first = cached(ctl)
    # an hour later by the cache's own record (the JWT inside is not read for this)
    first["expiry"] = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    path.write_text(json.dumps(first))
    assert mode(path) == 0o600
    # in a script (no terminal) it says why it cannot go on, at once
    res = ctl.fails(1, "cluster", "list")
    assert res.stderr == (
        "error\tthe cached sign-in expired at %s and there is no terminal to sign in on; "
        'run "mgmtctl auth login", or set mgmt_token in the profile\n' % first["expiry"]), \
        describe(res)
    # on a terminal, the next command does not send the expired token: it says why a new
    # sign-in is asked for, then signs in anew
    s = ctl.start("cluster", "list")
    s.approve()
    res = s.finish()
    assert res.returncode == 0, describe(res)
    notice = "warn\tthe cached sign-in expired at %s: signing in again\n" % first["expiry"]
    assert res.stderr.startswith(notice), describe(res)
    _path, second = cached(ctl)
    assert parse_time(second["expiry"]).timestamp() > time.time() + 3000


def test_a_sign_in_expired_on_arrival_is_used_not_cached(ctl, dev):
    # signed in two hours ago by mgmtd's clock (the test clock): the JWT's exp is an hour
    # ago by this machine's; mgmtd, still two hours back, takes it for this command
    freeze_clock(dev, -dt.timedelta(hours=2))
    s = ctl.start("cluster", "list")
    s.approve()
    res = s.finish()
    assert res.returncode == 0, describe(res)
    assert CLUSTER_A in res.stdout
    assert ("warn\tthe sign-in is not cached: its exp (" in res.stderr and
            ") has passed by this machine's clock; the next command signs in again"
            in res.stderr), describe(res)
    assert cache_files(ctl) == []


@pytest.mark.parametrize("stdin_tty,stderr_tty", [(False, False), (True, False),
                                                   (False, True)])
def test_without_a_terminal_it_fails_at_once(ctl, stdin_tty, stderr_tty):
    """cron, CI, a pipe: nobody would see the link, so no sign-in starts and nothing
    waits (the old mgmtctl waited here until the device code expired)."""
    import pty
    fds = []
    try:
        master, slave = pty.openpty()
        fds += [master, slave]
        argv = [ctl.bin, "database", "list"]
        p = subprocess.run(argv, stdin=slave if stdin_tty else subprocess.DEVNULL,
                           stdout=subprocess.PIPE,
                           stderr=slave if stderr_tty else subprocess.PIPE,
                           env=ctl.environment(), timeout=CLI_TIMEOUT)
    finally:
        for fd in fds:
            os.close(fd)
    assert p.returncode == 1 and p.stdout == b""
    if not stderr_tty:
        assert p.stderr.decode() == (
            "error\tno sign-in is cached and there is no terminal to sign in on; "
            'run "mgmtctl auth login", or set mgmt_token in the profile\n')
    assert cache_files(ctl) == []


def test_auth_login_signs_in_without_a_terminal(ctl):
    """Asked for by name, the sign-in prints its link whatever the terminal: a person may
    run it in a pipe, and the scripts' message names it."""
    s = ctl.start("auth", "login", terminal=False)
    s.approve()
    res = s.finish()
    assert res.returncode == 0 and "signed in as admin@example.com" in res.stdout, \
        describe(res)
    assert ctl.ok("database", "list").returncode == 0


def test_a_refused_sign_in_is_removed(ctl, dev):
    sign_in(ctl)
    [path] = cache_files(ctl)
    # mgmtd's clock two hours on: the cached JWT is expired for it, not for mgmtctl
    freeze_clock(dev, dt.timedelta(hours=2))
    res = ctl.fails(1, "cluster", "list")
    assert res.stdout == ""
    assert "error\t" in res.stderr and "removed" in res.stderr
    assert not path.exists()
    dev.delete("/_test/clock")
    # so the next command signs in again
    s = ctl.start("user", "list")
    s.approve()
    assert s.finish().returncode == 0


def test_logout(ctl):
    sign_in(ctl)
    assert ctl.ok("auth", "logout").stdout == "signed out: removed 1 cached sign-in\n"
    assert cache_files(ctl) == []
    assert ctl.ok("auth", "logout").stdout == "signed out: there was no cached sign-in\n"
    s = ctl.start("cluster", "list")
    s.verification_url()  # asks to sign in again
    s.proc.kill()
    s.finish()


def test_a_denied_sign_in(ctl):
    s = ctl.start("auth", "login")
    r = deny(s.verification_url())
    assert r.status_code == 200
    res = s.finish()
    assert res.returncode == 1 and "denied" in res.stderr, describe(res)
    assert cache_files(ctl) == []


def test_a_code_that_expires(ctl, dev):
    s = ctl.start("auth", "login")
    s.verification_url()
    freeze_clock(dev, dt.timedelta(minutes=11))
    res = s.finish()
    assert res.returncode == 1 and "expired" in res.stderr, describe(res)
    assert cache_files(ctl) == []


def test_login_with_a_management_token_in_the_profile(ctl):
    s = ctl.start("auth", "login", env={"MGMTCTL_TOKEN": "M.V1.something"})
    s.approve()
    res = s.finish()
    assert res.returncode == 0
    assert "has a management token (MGMTCTL_TOKEN)" in res.stderr
    assert len(cache_files(ctl)) == 1


def test_the_browser_opens_when_there_is_a_display(ctl, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opened = tmp_path / "opened.txt"
    opener = bin_dir / "xdg-open"
    opener.write_text('#!/bin/sh\necho "$1" >> "%s"\n' % opened)
    opener.chmod(0o755)
    path = "%s:%s" % (bin_dir, ctl.env["PATH"])
    # no display: no browser
    s = ctl.start("auth", "login", env={"PATH": path})
    s.approve()
    assert s.finish().returncode == 0
    assert not opened.exists()
    # a display: the link the person is shown is the one opened
    s = ctl.start("auth", "login", env={"PATH": path, "DISPLAY": ":99"})
    url = s.approve()
    assert s.finish().returncode == 0
    deadline = time.monotonic() + 10
    while not opened.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert opened.read_text().split() == [url]


def test_without_a_device_grant_it_says_what_to_set(mgmtctl_bin, daemon_factory, tmp_path):
    d = daemon_factory()  # no dev IdP: no discovery document on mgmtd
    ctl = Ctl(mgmtctl_bin, d, tmp_path / "home")
    res = ctl.fails(1, "auth", "login")
    assert "device_url" in res.stderr and "token_url" in res.stderr


# ---------------------------------------------------------------------------
# an identity provider of the test's own: the polling rules

class FakeIdp:
    """A device authorization endpoint and a token endpoint. The token endpoint answers
    from a script: "pending", "slow_down", a dict (an error body), or "ok" (the JWT)."""

    def __init__(self, token, interval=None):
        self.token = token
        self.interval = interval
        self.script = []
        self.device_forms = []
        self.polls = []  # (monotonic time, form)
        self.device_at = None
        self.device_code = "dc-" + os.urandom(24).hex()
        idp = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(n).decode()))
                status, body = idp.answer(self.path, form)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path, form):
        if path == "/device":
            self.device_forms.append(form)
            self.device_at = time.monotonic()
            body = {"device_code": self.device_code, "user_code": "BCDF-GHJK",
                    "verification_uri": self.url + "/activate", "expires_in": 600}
            if self.interval is not None:
                body["interval"] = self.interval
            return 200, body
        self.polls.append((time.monotonic(), form))
        step = self.script.pop(0) if self.script else "pending"
        if step == "ok":
            return 200, {"access_token": self.token, "token_type": "Bearer", "expires_in": 3600}
        if isinstance(step, dict):
            return 400, step
        return 400, {"error": "authorization_pending" if step == "pending" else step}

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_idp(dev):
    f = FakeIdp(dev.dev_jwt("admin"))
    yield f
    f.stop()


def profile_for(ctl, dev, fake):
    ctl.write_config(
        '[[profile]]\nname = "default"\nproduct = "dedicated"\n'
        'url = "%s"\naccount_id = "%s"\ncluster_id = "%s"\n'
        '[profile.auth.oauth2]\nclient_id = "my-client"\nscopes = ["openid", "email"]\n'
        'parameters = { audience = "mgmtd" }\n'
        'token_url = "%s/token"\ndevice_url = "%s/device"\n'
        % (dev.url(""), ACCOUNT_A, CLUSTER_A, fake.url, fake.url))
    for k in ("MGMTCTL_URL", "MGMTCTL_ACCOUNT", "MGMTCTL_CLUSTER"):
        ctl.env.pop(k)


def test_interval_absent_means_5_s_and_slow_down_adds_5(ctl, dev, fake_idp):
    profile_for(ctl, dev, fake_idp)
    fake_idp.script = ["slow_down", "ok"]
    s = ctl.start("--trace", "user", "list")
    res = s.finish(timeout=120)
    assert res.returncode == 0, describe(res)
    assert "admin@example.com" in res.stdout
    # what was asked: the profile's client, scopes and parameters, then the device grant
    assert fake_idp.device_forms == [{"client_id": "my-client", "scope": "openid email",
                                      "audience": "mgmtd"}]
    (t1, poll1), (t2, poll2) = fake_idp.polls
    assert poll1 == {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                     "device_code": fake_idp.device_code, "client_id": "my-client"}
    # no interval given: 5 s; after slow_down: 5 s more (lower bounds only)
    assert t1 - fake_idp.device_at >= 5.0
    assert t2 - t1 >= 10.0
    # neither the device code nor the token appears in the trace
    assert_secret_absent(res.stderr, fake_idp.device_code, "trace")
    assert_secret_absent(res.stderr, fake_idp.token, "trace")
    assert "[REDACTED]" in res.stderr


def test_the_idp_s_errors_are_told(ctl, dev, fake_idp):
    fake_idp.interval = 1
    profile_for(ctl, dev, fake_idp)
    fake_idp.script = ["pending", {"error": "invalid_client",
                                   "error_description": "the client is not allowed"}]
    res = ctl.start("auth", "login").finish(timeout=60)
    assert res.returncode == 1
    assert "invalid_client: the client is not allowed" in res.stderr
    assert len(fake_idp.polls) == 2
    assert cache_files(ctl) == []


# ---------------------------------------------------------------------------
# no secret in --debug or --trace output

def test_no_secret_in_debug_or_trace_output(ctl, dev):
    s = ctl.start("--trace", "auth", "login")
    s.approve()
    login = s.finish()
    assert login.returncode == 0
    _path, entry = cached(ctl)
    jwt = entry["access_token"]
    outputs = [login.stderr]

    res = ctl.ok("--trace", "management", "create", "--description", "traced")
    mgmt_secret = res.stdout.splitlines()[-1]
    outputs.append(res.stderr)
    res = ctl.ok("--debug", "management", "list")
    outputs.append(res.stderr)

    ctl.ok("database", "create", "traced-db")
    as_token = Ctl(ctl.bin, dev, ctl.home, token=mgmt_secret)
    res = as_token.ok("--trace", "token", "create", "--read-database", "traced-db", "traced")
    db_secret = res.stdout.splitlines()[-1]
    outputs.append(res.stderr)
    res = as_token.ok("--trace", "token", "create", "--format", "json", "traced-json")
    db_secret_2 = json.loads(res.stdout)["access_token"]
    outputs.append(res.stderr)
    res = as_token.ok("--trace", "config", "show")
    outputs.append(res.stderr + res.stdout)  # config show masks the token too
    res = as_token.fails(1, "--trace", "cluster", "get", "nope")
    outputs.append(res.stderr)
    # a revoked token, refused: the refusal is traced, the token is not
    [traced] = [t for t in ok_json(dev.get(tokens_path(), dev.dev_jwt("admin")))
                if t["description"] == "traced"]
    dev.delete(tokens_path(token_id=traced["id"]), dev.dev_jwt("admin"))
    outputs.append(as_token.run("--trace", "cluster", "list").stderr)

    for text in outputs:
        assert "debug\t" in text or "mgmt token" in text
        for secret in (jwt, mgmt_secret, db_secret, db_secret_2):
            assert_secret_absent(text, secret, "debug output")
