"""The README's quickstart, run as written (against a daemon on a port of its own through
MGMTCTL_URL, the sign-in approved on the verification page as a person would)."""

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


def quickstart_script():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_quickstart_runs_as_written(mgmtctl_bin, daemon_factory, tmp_path):
    d = daemon_factory(seed=dev_seed(), config_extra=DEV)
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "checkout"
    (work / "build").mkdir(parents=True)
    os.symlink(mgmtctl_bin, work / "build" / "mgmtctl")
    script = quickstart_script() + '\necho "last exit: $?"\n'
    env = clean_env(home, MGMTCTL_URL=d.url(""))
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
    proc.wait(timeout=CLI_TIMEOUT * 3)
    t.join(timeout=10)
    stderr = "".join(err)
    assert not failures, failures
    assert proc.returncode == 0, out + stderr
    # signed in, created, used, listed, revoked, refused
    assert "signed in as admin@example.com" in out, out + stderr
    assert "| sensors " in out
    assert '"description": "CI pipeline"' in out
    assert re.search(r"revoked management token [0-9a-f-]{36}", out)
    assert out.rstrip().endswith("last exit: 1"), out
    assert "refused the management token" in stderr


def dev_seed():
    """config/dev-seed.json, which `make run` uses."""
    import json
    return json.loads((ROOT / "config" / "dev-seed.json").read_text())
