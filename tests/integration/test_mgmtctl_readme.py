"""The README, every shell block after "## Quickstart" in order, and docs/mgmtctl.md's quick
start, run as a person pastes them
(against a daemon on a port of its own: MGMTCTL_URL, and make run's URL in the text
swapped for the daemon's; the sign-in approved on the verification page as a person would).

Every command's failure counts: the blocks run under `set -o pipefail` with an ERR trap
that reports each command that fails, so a failure hidden behind `2>/dev/null` or inside
`$(...)` fails the test unless the README itself says that command exits 1."""

import os
import re
import signal
import subprocess
import threading
from pathlib import Path

from conftest import CLI_TIMEOUT
from ctl import VERIFY_URL, clean_env, mgmtctl_bin  # noqa: F401
from verifypage import approve

ROOT = Path(__file__).resolve().parents[2]
DEV = "[dev_idp]\nenabled = true\n"
MAKE_RUN_URL = "http://127.0.0.1:8080"
# What the ERR trap prints, on stderr, for a command that failed.
TRAP = "trap 'echo \"FAILED rc=$? line=$LINENO: $BASH_COMMAND\" >&2' ERR\nset -o pipefail\n"
FAILED = re.compile(r"^FAILED rc=(\d+) line=(\d+): (.*)$", re.M)


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


def run_readme(script, mgmtctl_bin, mgmtd_bin, d, tmp_path, **env_extra):
    """Runs script in a fresh checkout-like directory with its own HOME; answers the
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
    proc = subprocess.Popen(["bash", "-c", script], cwd=work, env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    err, failures = [], []

    def watch():
        for line in proc.stderr:
            err.append(line)
            m = VERIFY_URL.search(line)
            if m:
                try:
                    r = approve(m.group(1), "admin@example.com")
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


def test_every_readme_block_runs_as_written(mgmtctl_bin, mgmtd_bin, daemon_factory, tmp_path):
    d = daemon_factory(seed=dev_seed(), config_extra=DEV)
    script = "\n".join(readme_blocks())
    rc, out, stderr, failures = run_readme(script, mgmtctl_bin, mgmtd_bin, d, tmp_path)
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


def test_the_mgmtctl_quick_start_runs_as_written(mgmtctl_bin, mgmtd_bin, daemon_factory,
                                                 tmp_path):
    """docs/mgmtctl.md's one shell block (the rest of it are transcripts of output)."""
    d = daemon_factory(seed=dev_seed(), config_extra=DEV)
    [script] = doc_blocks("docs/mgmtctl.md", "## Quick start", "\n## ")
    rc, out, stderr, failures = run_readme(script, mgmtctl_bin, mgmtd_bin, d, tmp_path)
    assert not failures, failures
    assert rc == 0 and not FAILED.search(stderr), out + stderr
    assert "signed in as admin@example.com" in out
    # what it says it prints: the new token, last, and its expiry in the table
    assert out.rstrip().splitlines()[-1].startswith("M.V1."), out
    assert "CI pipeline" in out


def test_a_hidden_failure_fails_the_run(mgmtctl_bin, mgmtd_bin, daemon_factory, tmp_path):
    """The harness itself: a failing command inside $(... 2>/dev/null | tail -1), which
    bash alone would let pass, is reported."""
    d = daemon_factory(seed=dev_seed(), config_extra=DEV)
    script = ('PATH=$PWD/build:$PATH\n'
              'X=$(mgmtctl --profile nosuch database list 2>/dev/null | tail -1)\n'
              'echo "X=$X"\n')
    rc, out, stderr, failures = run_readme(script, mgmtctl_bin, mgmtd_bin, d, tmp_path)
    assert not failures, failures
    assert rc == 0 and "X=\n" in out  # what bash alone says: all went well
    failed = [(int(m.group(1)), m.group(3)) for m in FAILED.finditer(stderr)]
    assert failed == [(1, 'X=$(mgmtctl --profile nosuch database list 2> /dev/null | tail -1)')], \
        stderr


def test_expected_failures_are_read_from_the_comments():
    s = "a b   # refused from now on: exit 1\nc # exit\n"
    assert expected_failures(s) == {"a b": 1}


def dev_seed():
    """config/dev-seed.json, which `make run` uses."""
    import json
    return json.loads((ROOT / "config" / "dev-seed.json").read_text())
