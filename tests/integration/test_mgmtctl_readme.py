"""The README, every shell block after "## Quickstart" in order, and docs/mgmtctl.md's quick
start, run as a person pastes them, against the server the README says to start: `make
run`, on another port the way the README says (`MGMTD_SERVER_LISTEN=127.0.0.1:PORT make
run`, a free loopback port), in a throwaway checkout of its own (its `var/`, symlinks to
the tree and to the binaries under test), so that neither the developer's `var/` nor a
`make run` already serving on 8080 takes part. MGMTCTL_URL points there and make run's
URL in the text is swapped for it, as the README's "Another address or port" says; the
sign-in is approved on the verification page as a person would.

Every command's failure counts: the blocks run under `set -o pipefail` with an ERR trap
that reports each command that fails, so a failure hidden behind `2>/dev/null` or inside
`$(...)` fails the test unless the README itself says that command exits 1."""

import os
import queue
import re
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest
import requests

from conftest import CLI_TIMEOUT, START_TIMEOUT, check_no_sanitizer_report
from ctl import VERIFY_URL, clean_env, mgmtctl_bin  # noqa: F401
from verifypage import approve

ROOT = Path(__file__).resolve().parents[2]
MAKE_RUN_URL = "http://127.0.0.1:8080"
# The dev seed's account and admin (config/dev-seed.json), which make run's server serves.
DEV_ACCOUNT = "11111111-1111-4111-8111-111111111111"
DEV_ADMIN = "admin@example.com"
# What the ERR trap prints, on stderr, for a command that failed.
TRAP = "trap 'echo \"FAILED rc=$? line=$LINENO: $BASH_COMMAND\" >&2' ERR\nset -o pipefail\n"
FAILED = re.compile(r"^FAILED rc=(\d+) line=(\d+): (.*)$", re.M)
# Tree entries the throwaway checkout does not share: its own build/ (the binaries under
# test) and var/ (make run's data), and the repository's metadata.
NOT_SHARED = {"build", "var", ".git"}


class MakeRun:
    """`MGMTD_SERVER_LISTEN=127.0.0.1:PORT make run` in a throwaway checkout: the tree's
    entries symlinked, build/ a symlink to the directory of the binaries under test, var/
    its own. Started, waited for ("listening on"), stopped by its process group."""

    def __init__(self, mgmtd_bin, mgmtctl_bin, tmp_path):
        self.workdir = tmp_path / "checkout"
        self.workdir.mkdir()
        self.home = tmp_path / "make-run-home"
        self.home.mkdir()
        bindir = Path(mgmtd_bin).resolve().parent
        for entry in ROOT.iterdir():
            if entry.name not in NOT_SHARED:
                os.symlink(entry, self.workdir / entry.name)
        os.symlink(bindir, self.workdir / "build")
        # make run must find the binaries under test, both in one build directory
        for name, path in (("mgmtd", mgmtd_bin), ("mgmtctl", mgmtctl_bin)):
            if (self.workdir / "build" / name).resolve() != Path(path).resolve():
                pytest.fail("%s is not %s: make run serves build/%s of one build directory"
                            % (path, bindir / name, name))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.listen = "127.0.0.1:%d" % self.port
        self.url = "http://%s" % self.listen
        self.env = clean_env(self.home, MGMTD_SERVER_LISTEN=self.listen)
        self.proc = None
        self.output = []

    def start(self):
        # make would rebuild binaries older than their sources, into the developer's build
        # directory, and serve something else than what is under test: refuse instead
        q = subprocess.run(["make", "-q", "build/mgmtd", "build/mgmtctl"], cwd=self.workdir,
                           env=self.env, capture_output=True, text=True, timeout=CLI_TIMEOUT)
        assert q.returncode == 0, (
            "the binaries under test are older than their sources (make -q: %d); build "
            "them first (make all)\n%s%s" % (q.returncode, q.stdout, q.stderr))
        self.proc = subprocess.Popen(["make", "run"], cwd=self.workdir, env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        lines = queue.Queue()

        def read():
            for line in self.proc.stdout:
                self.output.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        want = "listening on %s" % self.url
        while True:
            try:
                line = lines.get(timeout=START_TIMEOUT * 3)
            except queue.Empty:
                pytest.fail("make run did not say %r:\n%s" % (want, self.said()))
            if line is None:
                pytest.fail("make run ended (%s) before it said %r:\n%s"
                            % (self.proc.wait(), want, self.said()))
            if want in line:
                return

    def said(self):
        return "".join(self.output)

    def stop(self):
        """SIGTERM to make and the server (one process group), SIGKILL if they linger."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass
        check_no_sanitizer_report(self.said(), "make run's output")

    def management_tokens(self):
        """The dev seed's account's management tokens, as its admin sees them through the
        dev IdP: what this server serves."""
        r = requests.post(self.url + "/oauth/token", data={"email": DEV_ADMIN}, timeout=10)
        assert r.status_code == 200, r.text
        jwt = r.json()["access_token"]
        r = requests.get("%s/api/v0/accounts/%s/management/tokens" % (self.url, DEV_ACCOUNT),
                         headers={"Authorization": "Bearer " + jwt}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()


def _developer_var():
    """The developer's own var/ of make run: what is there and when it changed."""
    var = ROOT / "var"
    if not var.exists():
        return None
    return sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in var.iterdir())


@pytest.fixture
def make_run(mgmtd_bin, mgmtctl_bin, tmp_path):
    before = _developer_var()
    srv = MakeRun(mgmtd_bin, mgmtctl_bin, tmp_path)
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
    assert _developer_var() == before, "make run in the test touched %s" % (ROOT / "var")


def doc_blocks(name, start, end=None):
    """The ```sh blocks of docs/NAME between the headings start and end (or its end)."""
    text = (ROOT / name).read_text()
    section = text.split(start, 1)[1]
    if end:
        section = section.split(end, 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def readme_blocks(text=None):
    """The ```sh blocks of the README from its Quickstart to its Documentation section."""
    text = text if text is not None else (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1].split("\n## Documentation", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def expected_failures(script):
    """The commands the README says fail, with their exit code: `cmd   # ... exit N`."""
    out = {}
    for line in script.splitlines():
        m = re.match(r"^(\S.*?)\s+#.*\bexit (\d+)\s*$", line)
        if m:
            out[m.group(1).strip()] = int(m.group(2))
    return out


def _run_script(script, cwd, env, approver):
    """Runs script under bash in cwd; approves each device sign-in it asks for as
    approver. Returns (returncode, stdout, stderr, failures in the approving)."""
    proc = subprocess.Popen(["bash", "-c", script], cwd=cwd, env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    err, failures = [], []

    def watch():
        for line in proc.stderr:
            err.append(line)
            m = VERIFY_URL.search(line)
            if m:
                try:
                    r = approve(m.group(1), approver)
                    assert r.status_code == 200, r.text
                except Exception as e:  # noqa: BLE001 - told below, not lost in the thread
                    failures.append(repr(e))
                    os.killpg(proc.pid, signal.SIGKILL)  # the script and its mgmtctl

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    out = proc.stdout.read()
    proc.wait(timeout=CLI_TIMEOUT * 6)
    t.join(timeout=10)
    return proc.returncode, out, "".join(err), failures


def run_against_daemon(script, mgmtctl_bin, mgmtd_bin, d, tmp_path, **env_extra):
    """Runs script against the test daemon d (not make run's: test_api_docs.py's docs are
    not the README), in a fresh checkout-like directory with its own HOME; answers the
    device sign-in. env_extra: more environment (test_api_docs.py puts its recording
    curl first in PATH). Returns (returncode, stdout, stderr, failures in the approving)."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "checkout"
    (work / "build").mkdir(parents=True)
    (work / "config").mkdir()
    os.symlink(mgmtctl_bin, work / "build" / "mgmtctl")
    os.symlink(mgmtd_bin, work / "build" / "mgmtd")
    # The offline commands' --config config/dev.ini: the running daemon's configuration,
    # and its data directory, which make run's dev.ini names and the test's gives on the
    # command line.
    os.symlink(d.config_path, work / "config" / "dev.ini")
    script = TRAP + script.replace(MAKE_RUN_URL, d.url("").rstrip("/"))
    env = clean_env(home, MGMTCTL_URL=d.url(""), MGMTD_SERVER_DATA_DIR=d.data_dir,
                    **env_extra)
    return _run_script(script, work, env, "admin@example.com")


def run_readme(script, srv, tmp_path):
    """Runs script in make run's throwaway checkout with a HOME of its own, as a person
    does in a second terminal (with MGMTD_SERVER_LISTEN exported, as for make run, so the
    offline commands' config/dev.ini agrees with the server); answers the device sign-in.
    Returns (returncode, stdout, stderr, failures in the approving)."""
    home = tmp_path / "home"
    home.mkdir()
    script = TRAP + script.replace(MAKE_RUN_URL, srv.url)
    env = clean_env(home, MGMTCTL_URL=srv.url, MGMTD_SERVER_LISTEN=srv.listen)
    return _run_script(script, srv.workdir, env, DEV_ADMIN)


def test_every_readme_block_runs_as_written(make_run, tmp_path):
    script = "\n".join(readme_blocks())
    rc, out, stderr, failures = run_readme(script, make_run, tmp_path)
    assert not failures, failures
    assert rc == 0, out + stderr
    # Only the commands the README says fail have failed, with the code it gives.
    failed = {m.group(3).strip(): int(m.group(1)) for m in FAILED.finditer(stderr)}
    assert failed == expected_failures(script), out + stderr
    # What the README says each step shows.
    assert "signed in as admin@example.com" in out, out + stderr
    assert "| sensors " in out
    assert '"description": "CI pipeline"' in out
    assert re.search(r"revoked management token [0-9a-f-]{36}", out)
    assert "refused the management token" in stderr
    assert "break-glass" in out  # the offline management list
    # the curl example: a token made over HTTP (its secret once), then the list
    assert re.search(r'"accessToken":\s*"M\.V1\.', out), out
    # the offline commands: the invited user, and a JWT for scripts
    assert "new@example.com" in out
    assert re.search(r"^eyJ[\w-]+\.[\w-]+\.[\w-]+$", out, re.M), out
    # The /authorize example: the database token may write to sensors.
    assert out.rstrip().splitlines()[-1] == "204", out + stderr
    # It was make run's server: the line make printed, its dev seed's admin (through the
    # dev IdP), and its store in the checkout's var/, where the README's offline commands
    # made the break-glass token beside it.
    said = make_run.said()
    assert "build/mgmtd serve --config config/dev.ini --seed config/dev-seed.json" in said, \
        said
    assert "break-glass" in [t["description"] for t in make_run.management_tokens()]
    assert (make_run.workdir / "var" / "mgmtd.db").is_file()


def test_the_mgmtctl_quick_start_runs_as_written(make_run, tmp_path):
    """docs/mgmtctl.md's one shell block (the rest of it are transcripts of output)."""
    [script] = doc_blocks("docs/mgmtctl.md", "## Quick start", "\n## ")
    rc, out, stderr, failures = run_readme(script, make_run, tmp_path)
    assert not failures, failures
    assert rc == 0 and not FAILED.search(stderr), out + stderr
    assert "signed in as admin@example.com" in out
    # what it says it prints: the new token, last, and its expiry in the table
    assert out.rstrip().splitlines()[-1].startswith("M.V1."), out
    assert "CI pipeline" in out


def test_a_hidden_failure_fails_the_run(make_run, tmp_path):
    """The harness itself: a failing command inside $(... 2>/dev/null | tail -1), which
    bash alone would let pass, is reported."""
    script = ('PATH=$PWD/build:$PATH\n'
              'X=$(mgmtctl --profile nosuch database list 2>/dev/null | tail -1)\n'
              'echo "X=$X"\n')
    rc, out, stderr, failures = run_readme(script, make_run, tmp_path)
    assert not failures, failures
    assert rc == 0 and "X=\n" in out  # what bash alone says: all went well
    failed = [(int(m.group(1)), m.group(3)) for m in FAILED.finditer(stderr)]
    assert failed == [(1, 'X=$(mgmtctl --profile nosuch database list 2> /dev/null | tail -1)')], \
        stderr


def test_expected_failures_are_read_from_the_comments():
    s = "a b   # refused from now on: exit 1\nc # exit\n"
    assert expected_failures(s) == {"a b": 1}
