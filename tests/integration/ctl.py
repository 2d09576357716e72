"""Helpers for the tests of mgmtctl (the influxctl look-alike client): the binary, a
clean environment for it, runs, sign-ins approved the way a person approves them,
and the normalisation that lets golden files hold output with ids and times in it.

The binary is $MGMTCTL_BIN (`make integration` sets it). Every Ctl has its own HOME,
so profiles (~/.config/mgmtctl) and cached sign-ins (~/.cache/mgmtctl) of one test
never meet another's, nor the user's.
"""

import datetime as dt
import json
import os
import pty
import re
import subprocess
import termios
import threading
import time
import tty
from pathlib import Path

import pytest

from conftest import (ACCOUNT_A, CLI_TIMEOUT, CLUSTER_A, WRAPPER, assert_status,
                      check_no_sanitizer_report, ok_json)
from verifypage import approve

GOLDEN_DIR = Path(__file__).parent / "golden" / "mgmtctl"
UPDATE_GOLDEN = bool(os.environ.get("MGMTCTL_UPDATE_GOLDEN"))


@pytest.fixture(scope="session")
def mgmtctl_bin():
    path = os.environ.get("MGMTCTL_BIN")
    if not path:
        pytest.fail("MGMTCTL_BIN is not set: point it at build/mgmtctl (`make integration` "
                    "does)", pytrace=False)
    if not os.access(path, os.X_OK):
        pytest.fail("MGMTCTL_BIN=%s is not an executable (build it with `make`)" % path,
                    pytrace=False)
    return os.path.abspath(path)


def module_daemon(mgmtd_bin, idp, tmp_path_factory, name, **kw):
    """A generator for a module-scoped daemon fixture (`yield from module_daemon(...)`):
    one daemon in its own directory, stopped (and its log checked) at the end."""
    from conftest import _Factory, _stop_all

    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp(name), idp)
    d = f(**kw)
    yield d
    _stop_all(f)


def clean_env(home: Path, **extra):
    """Only what a program needs (PATH, a UTF-8 locale, the sanitizers' options) and HOME:
    no display (no browser opens), no XDG_* or MGMTCTL_* of the user running the tests."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TZ", "FAKETIME",
              "LD_PRELOAD", "FAKETIME_NO_CACHE", "DONT_FAKE_MONOTONIC"):
        if k in os.environ:
            env[k] = os.environ[k]
    env.update({k: str(v) for k, v in extra.items() if v is not None})
    return env


class Ctl:
    """mgmtctl pointed at one daemon: MGMTCTL_URL, MGMTCTL_ACCOUNT and MGMTCTL_CLUSTER set,
    and MGMTCTL_TOKEN when token is given."""

    def __init__(self, bin_path, daemon, home: Path, token=None, account=ACCOUNT_A,
                 cluster=CLUSTER_A):
        self.bin = bin_path
        self.daemon = daemon
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = clean_env(self.home, MGMTCTL_URL=daemon.url("") if daemon else None,
                             MGMTCTL_ACCOUNT=account, MGMTCTL_CLUSTER=cluster,
                             MGMTCTL_TOKEN=token)

    @property
    def cache_dir(self):
        return self.home / ".cache" / "mgmtctl"

    @property
    def config_path(self):
        return self.home / ".config" / "mgmtctl" / "config.toml"

    def write_config(self, text):
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(text)
        return self.config_path

    def environment(self, env=None, unset=()):
        e = dict(self.env)
        for k in unset:
            e.pop(k, None)
        e.update({k: str(v) for k, v in (env or {}).items()})
        return e

    def run(self, *args, env=None, unset=(), input=None, timeout=None):
        """Runs mgmtctl ARGS; returns the CompletedProcess (args without the wrapper)."""
        argv = [self.bin] + [str(a) for a in args]
        try:
            res = subprocess.run(WRAPPER + argv, input=input, capture_output=True, text=True,
                                 timeout=timeout or CLI_TIMEOUT,
                                 env=self.environment(env, unset),
                                 stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            pytest.fail("%s did not finish (stdout %r, stderr %r)" % (argv, e.stdout, e.stderr))
        check_no_sanitizer_report(res.stdout + res.stderr, " ".join(argv))
        res.args = argv
        return res

    def ok(self, *args, **kw):
        res = self.run(*args, **kw)
        assert res.returncode == 0, describe(res)
        return res

    def json(self, *args, **kw):
        res = self.ok(*(list(args) + ["--format", "json"]), **kw)
        try:
            return json.loads(res.stdout)
        except ValueError:
            pytest.fail("not JSON:\n" + describe(res))

    def fails(self, code, *args, **kw):
        res = self.run(*args, **kw)
        assert res.returncode == code, describe(res)
        return res

    # -- sign-in --

    def start(self, *args, env=None, unset=(), terminal=True):
        """Starts mgmtctl ARGS in the background (for a sign-in); see SignIn. terminal:
        stdin and stderr are a terminal, as for a person (a command other than auth login
        signs in only then); False: pipes, as in a script."""
        return SignIn(self, [str(a) for a in args], self.environment(env, unset), terminal)


def describe(res):
    return "%s -> exit %d\nstdout:\n%s\nstderr:\n%s" % (
        " ".join(map(str, res.args)), res.returncode, res.stdout, res.stderr)


VERIFY_URL = re.compile(r"(https?://[^\s\"]+/activate\?user_code=[A-Z]{4}-[A-Z]{4})")


class SignIn:
    """A mgmtctl process that may sign in: its stderr is read as it comes, so that the test
    can wait for the verification link, approve it as a person would, and collect the end."""

    def __init__(self, ctl, args, env, terminal=True):
        self.ctl = ctl
        self.argv = [ctl.bin] + args
        self.err_lines = []
        self.lock = threading.Lock()
        if terminal:
            # a pseudo-terminal for stdin and stderr, raw so that "\n" stays "\n"
            master, slave = pty.openpty()
            tty.setraw(slave, termios.TCSANOW)
            try:
                self.proc = subprocess.Popen(WRAPPER + self.argv, stdin=slave,
                                             stdout=subprocess.PIPE, stderr=slave, text=True,
                                             env=env)
            finally:
                os.close(slave)
            self.reader = threading.Thread(target=self._read_terminal, args=(master,),
                                           daemon=True)
        else:
            self.proc = subprocess.Popen(WRAPPER + self.argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True, env=env)
            self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            with self.lock:
                self.err_lines.append(line)
        self.proc.stderr.close()

    def _read_terminal(self, master):
        try:
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: every end of the terminal's other side is closed
                    break
                if not chunk:
                    break
                with self.lock:
                    self.err_lines.append(chunk.decode("utf-8", "replace"))
        finally:
            os.close(master)

    @property
    def stderr(self):
        with self.lock:
            return "".join(self.err_lines)

    def verification_url(self, timeout=None):
        deadline = time.monotonic() + (timeout or CLI_TIMEOUT)
        while time.monotonic() < deadline:
            m = VERIFY_URL.search(self.stderr)
            if m:
                return m.group(1)
            if self.proc.poll() is not None:
                self.reader.join(timeout=5)
                m = VERIFY_URL.search(self.stderr)
                if m:
                    return m.group(1)
                pytest.fail("%s ended (exit %d) without a verification link:\n%s"
                            % (self.argv, self.proc.returncode, self.stderr))
            time.sleep(0.02)
        self.proc.kill()
        pytest.fail("no verification link from %s:\n%s" % (self.argv, self.stderr))

    def approve(self, email="admin@example.com", account_id=None):
        url = self.verification_url()
        try:
            r = approve(url, email, account_id)
            assert r.status_code == 200, r.text
        except BaseException:
            self.proc.kill()  # not left waiting for the code to expire
            raise
        return url

    def finish(self, timeout=None):
        # stdout is read here, stderr by the reader thread (communicate() would race it)
        out = []
        stdout_reader = threading.Thread(target=lambda: out.append(self.proc.stdout.read()),
                                         daemon=True)
        stdout_reader.start()
        try:
            self.proc.wait(timeout=timeout or CLI_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("%s did not finish:\n%s" % (self.argv, self.stderr))
        stdout_reader.join(timeout=10)
        self.reader.join(timeout=10)
        self.proc.stdout.close()
        out = out[0] if out else ""
        res = subprocess.CompletedProcess(self.argv, self.proc.returncode, out, self.stderr)
        check_no_sanitizer_report(res.stdout + res.stderr, " ".join(self.argv))
        return res


def sign_in(ctl, *args, email="admin@example.com"):
    """Runs ARGS (default: auth login), approves its sign-in, returns the result."""
    s = ctl.start(*(args or ("auth", "login")))
    s.approve(email)
    res = s.finish()
    assert res.returncode == 0, describe(res)
    return res


# ---------------------------------------------------------------------------
# The test clock: a fake "now" computed from the real one, so that no test depends
# on the calendar, at a whole second plus 250 ms so that every timestamp has the
# same shape.

def freeze_clock(daemon, offset=dt.timedelta(0)):
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + offset
    t = now + dt.timedelta(milliseconds=250)
    ok_json(daemon.put("/_test/clock", json={"now": t.strftime("%Y-%m-%dT%H:%M:%S.250Z")}))
    return t


@pytest.fixture
def now(daemon):
    """For a module with a `daemon` fixture (with [testing]): see seeded_at_frozen_clock."""
    yield from seeded_at_frozen_clock(daemon)


@pytest.fixture
def ctl(mgmtctl_bin, daemon, now, tmp_path):
    """mgmtctl as the admin of account A, signed in through the IdP (a JWT), against a
    module's `daemon` at the frozen clock of `now`."""
    return Ctl(mgmtctl_bin, daemon, tmp_path / "home", token=daemon.jwt("admin"))


def seeded_at_frozen_clock(daemon):
    """For a `now` fixture: the clock frozen at a computed instant, then the store back
    to the seed (so that the seeded users and clusters are created at that instant too);
    yields the instant, and lets the clock run again afterwards."""
    t = freeze_clock(daemon)
    assert_status(daemon.post("/_test/reset"), 204)
    yield t
    daemon.delete("/_test/clock")


# ---------------------------------------------------------------------------
# Golden files: the output with what changes from run to run replaced by
# placeholders of the same width, so that the tables' column widths stay true.

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
TIME = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
MGMT_SECRET = re.compile(r"M\.V1\.[A-Za-z0-9_-]{49}")
DB_SECRET = re.compile(r"apiv1_[A-Za-z0-9_-]{86}")
PREFIX = re.compile(r"M\.V1\.[A-Za-z0-9_-]{4}(?![A-Za-z0-9_-])")
SECONDS = re.compile(r'"seconds": \d+')
PORT = re.compile(r"127\.0\.0\.1:\d+")


def normalize(text, keep_uuids=()):
    text = MGMT_SECRET.sub("M.V1." + "S" * 49, text)
    text = DB_SECRET.sub("apiv1_" + "S" * 86, text)
    text = PREFIX.sub("M.V1.PPPP", text)
    text = UUID.sub(lambda m: m.group(0) if m.group(0) in keep_uuids
                    else "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX", text)
    text = TIME.sub(lambda m: m.group(0) if m.group(0) == "1970-01-01T00:00:00Z"
                    else "YYYY-MM-DDTHH:MM:SSZ", text)
    text = SECONDS.sub('"seconds": 1700000000', text)
    return PORT.sub("127.0.0.1:PORT", text)


def check_golden(name, text, keep_uuids=()):
    """text (normalised) must equal golden/mgmtctl/NAME; MGMTCTL_UPDATE_GOLDEN=1 writes it."""
    path = GOLDEN_DIR / name
    got = normalize(text, keep_uuids)
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got)
        return got
    assert path.exists(), "no golden file %s (MGMTCTL_UPDATE_GOLDEN=1 writes it)" % path
    want = path.read_text()
    assert got == want, "output differs from %s:\n--- got\n%s\n--- want\n%s" % (path, got, want)
    return got
