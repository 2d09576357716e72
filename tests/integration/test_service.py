"""mgmtd as a service: sd_notify readiness, status, watchdog and stop; socket activation;
`mgmtd version`; `make install`/`uninstall`; the systemd units checked by systemd-analyze,
sysusers.d and tmpfiles.d applied to a scratch root."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import (
    ACCOUNT_A,
    HTTP_TIMEOUT,
    START_TIMEOUT,
    STOP_TIMEOUT,
    WRAPPER,
    check_no_sanitizer_report,
    child_env,
    config_text,
    default_seed,
    describe_cli,
    ok_json,
    run_cli,
    tokens_path,
)

ROOT = Path(__file__).resolve().parents[2]


class NotifySocket:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, directory: Path):
        self.path = str(directory / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []

    def receive(self, timeout):
        """The next datagram as a dict of its assignments, or None on timeout."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
        self.messages.append(fields)
        return fields

    def wait_for(self, key, timeout, on_message=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.receive(max(0.01, deadline - time.monotonic()))
            if m is None:
                continue
            if on_message:
                on_message(m)
            if key in m:
                return m
        pytest.fail("no %s from mgmtd within %.0f s; got %r" % (key, timeout, self.messages))

    def close(self):
        self.sock.close()


def ready_status(port):
    try:
        return requests.get("http://127.0.0.1:%d/ready" % port, timeout=2).status_code
    except requests.RequestException:
        return None


def test_ready_only_once_ready_and_stopping_on_sigterm(daemon_factory, tmp_path):
    notify = NotifySocket(tmp_path)
    d = daemon_factory(start=False, env={"NOTIFY_SOCKET": notify.path})
    d.start(wait_ready=False)
    statuses_before_ready = []

    def check(m):
        if "READY" in m:
            # at the moment READY=1 arrives, /ready answers 200
            assert ready_status(d.port) == 200, "READY=1 came before /ready answered 200"
        elif "STATUS" in m:
            statuses_before_ready.append(m["STATUS"])

    ready = notify.wait_for("READY", START_TIMEOUT, check)
    assert ready["READY"] == "1"
    assert "serving" in ready.get("STATUS", ""), ready
    assert any("store" in s for s in statuses_before_ready), statuses_before_ready
    d.proc.send_signal(signal.SIGTERM)
    stopping = notify.wait_for("STOPPING", STOP_TIMEOUT)
    assert stopping["STOPPING"] == "1"
    assert d.proc.wait(timeout=STOP_TIMEOUT) == 0
    d.proc = None
    notify.close()


def test_ready_waits_for_identity_provider_keys(daemon_factory, jwks_server, tmp_path):
    """With an IdP that is down, no READY=1, a STATUS that says why; READY=1 once it is up."""
    from conftest import remote_idp_config

    jwks_server.add_key("k1")
    jwks_server.stop()
    notify = NotifySocket(tmp_path)
    d = daemon_factory(start=False, idp_section=False, config_extra=remote_idp_config(jwks_server),
                       env={"NOTIFY_SOCKET": notify.path})
    d.start(wait_ready=False)
    m = notify.wait_for("STATUS", START_TIMEOUT)
    while "signing keys" not in m.get("STATUS", ""):
        m = notify.wait_for("STATUS", START_TIMEOUT)
        assert "READY" not in m
    assert jwks_server.issuer in m["STATUS"], m
    assert ready_status(d.port) == 503
    jwks_server.start()
    ready = notify.wait_for("READY", 60 * (1 if not WRAPPER else 4))
    assert ready["READY"] == "1"
    assert ready_status(d.port) == 200
    notify.close()


def test_reload_and_watchdog(daemon_factory, tmp_path):
    notify = NotifySocket(tmp_path)
    # WATCHDOG_USEC asks for a ping every 0.5 s (systemd sets it from WatchdogSec=); without
    # WATCHDOG_PID it is meant for whichever process reads it
    d = daemon_factory(start=False, env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"})
    d.start(wait_ready=False)
    notify.wait_for("READY", START_TIMEOUT)
    pings = 0
    deadline = time.monotonic() + 10
    while pings < 2 and time.monotonic() < deadline:
        m = notify.receive(1)
        if m and m.get("WATCHDOG") == "1":
            pings += 1
    assert pings >= 2, "no WATCHDOG=1 pings: %r" % notify.messages
    d.proc.send_signal(signal.SIGHUP)
    assert notify.wait_for("RELOADING", START_TIMEOUT)["RELOADING"] == "1"
    assert notify.wait_for("READY", START_TIMEOUT)["READY"] == "1"
    d.stop_ok()
    notify.close()


def _activated_daemon(d, sock, names=None):
    """Starts d with sock as fd 3 (LISTEN_FDS=1, LISTEN_PID its own pid)."""
    env = dict(d.env)
    env["LISTEN_FDS"] = "1"
    if names:
        env["LISTEN_FDNAMES"] = names
    # the shell's pid is mgmtd's after exec: LISTEN_PID must name mgmtd itself
    argv = ["/bin/sh", "-c", 'exec 3<&0 0</dev/null; LISTEN_PID=$$ exec "$@"', "sh"] + WRAPPER + [
        d.bin, "serve", "--config", str(d.config_path), "--data-dir", str(d.data_dir),
        "--seed", str(d.seed_path)]
    log = open(d.log_path, "ab")
    proc = subprocess.Popen(argv, stdin=sock.fileno(), stdout=log, stderr=subprocess.STDOUT,
                            env=env, cwd=str(d.workdir))
    log.close()
    return proc


def test_socket_activation_serves_the_passed_socket(daemon_factory):
    d = daemon_factory(start=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    proc = _activated_daemon(d, sock, names="http")
    sock.close()  # mgmtd has its own copy
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while ready_status(port) != 200:
            assert proc.poll() is None, d.log_tail()
            assert time.monotonic() < deadline, "no answer on the passed socket: " + d.log_tail()
            time.sleep(0.05)
        r = requests.get("http://127.0.0.1:%d/api/v0/accounts/%s/management/tokens" %
                         (port, ACCOUNT_A), headers={"Authorization": "Bearer " + d.jwt()},
                         timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, r.text
        assert "socket activation" in d.log_bytes().decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=STOP_TIMEOUT) == 0, d.log_tail()
    check_no_sanitizer_report(d.log_bytes().decode("utf-8", "replace"), "log")


def test_socket_activation_refuses_what_is_not_a_listening_socket(daemon_factory):
    d = daemon_factory(start=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # not listening
    proc = _activated_daemon(d, sock)
    sock.close()
    rc = proc.wait(timeout=START_TIMEOUT)
    assert rc == 1, d.log_tail()
    assert "not a listening stream socket" in d.log_bytes().decode(), d.log_tail()


def test_version(mgmtd_bin):
    for argv in ([mgmtd_bin, "version"], [mgmtd_bin, "--version"]):
        res = run_cli(argv)
        assert res.returncode == 0, describe_cli(res)
        first = res.stdout.splitlines()[0]
        assert re.fullmatch(r"mgmtd \d+\.\d+\.\d+", first), first
        for lib in ("libmicrohttpd", "GnuTLS", "jansson", "SQLite", "libsodium", "libjwt",
                    "OpenSSL", "libcurl", "libsystemd"):
            assert lib in res.stdout, describe_cli(res)
    assert "TLS support: yes" in res.stdout


# ---------------------------------------------------------------------------
# make install

def _make(*args, env=None):
    build = os.path.dirname(os.environ["MGMTD_BIN"])
    res = subprocess.run(["make", "-s", "-C", str(ROOT), "BUILD=" + build] + list(args),
                         capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, "make %s failed:\n%s\n%s" % (" ".join(args), res.stdout, res.stderr)
    return res


def test_install_with_destdir_then_serve_from_the_installed_config(mgmtd_bin, tmp_path, idp):
    dest = tmp_path / "stage"
    _make("install", "DESTDIR=" + str(dest), "PREFIX=/usr")
    binary = dest / "usr/bin/mgmtd"
    conf = dest / "etc/mgmtd/mgmtd.ini"
    expected = ["usr/share/man/man8/mgmtd.8", "usr/share/man/man5/mgmtd.conf.5",
                "usr/lib/systemd/system/mgmtd.service", "usr/lib/systemd/system/mgmtd.socket",
                "usr/lib/sysusers.d/mgmtd.conf", "usr/lib/tmpfiles.d/mgmtd.conf",
                "usr/share/doc/mgmtd/mgmtd.ini.example"]
    for rel in expected:
        assert (dest / rel).is_file(), rel
    assert os.access(binary, os.X_OK)
    assert conf.stat().st_mode & 0o777 == 0o640
    unit = (dest / "usr/lib/systemd/system/mgmtd.service").read_text()
    assert "ExecStart=/usr/bin/mgmtd serve --config /etc/mgmtd/mgmtd.ini" in unit
    assert "@BINDIR@" not in unit and "@SYSCONFDIR@" not in unit
    assert "data_dir = /var/lib/mgmtd" in conf.read_text()

    # the installed binary, from the installed config (only the address and data
    # directory are the test's own); the man page renders
    res = subprocess.run(WRAPPER + [str(binary), "check-config", "--config", str(conf)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    data = tmp_path / "data"
    seed = tmp_path / "seed.json"
    import json
    seed.write_text(json.dumps(default_seed()))
    log = open(tmp_path / "installed.log", "ab")
    proc = subprocess.Popen(WRAPPER + [str(binary), "serve", "--config", str(conf), "--listen",
                            "127.0.0.1:0", "--data-dir", str(data), "--seed", str(seed)],
                            stdout=log, stderr=subprocess.STDOUT, env=child_env())
    log.close()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        port = None
        while port is None:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)",
                          (tmp_path / "installed.log").read_text())
            if m:
                port = int(m.group(1))
            assert proc.poll() is None, (tmp_path / "installed.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        while ready_status(port) != 200:
            assert time.monotonic() < deadline, (tmp_path / "installed.log").read_text()
            time.sleep(0.05)
        assert requests.get("http://127.0.0.1:%d/health" % port, timeout=5).json() == {
            "status": "ok"}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=STOP_TIMEOUT) == 0
    page = subprocess.run(["man", "-l", str(dest / "usr/share/man/man8/mgmtd.8")],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0",
                                   MAN_DISABLE_SECCOMP="1"))
    text = re.sub(".\x08", "", page.stdout)  # overstrike bold and underline
    assert page.returncode == 0 and "mgmtd serve" in text, text

    _make("uninstall", "DESTDIR=" + str(dest), "PREFIX=/usr")
    left = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert left == ["etc/mgmtd/mgmtd.ini"], left  # the configuration stays


def test_prefix_default_and_existing_config_is_kept(tmp_path):
    dest = tmp_path / "stage"
    _make("install", "DESTDIR=" + str(dest))
    assert (dest / "usr/local/bin/mgmtd").is_file()
    conf = dest / "usr/local/etc/mgmtd/mgmtd.ini"
    conf.write_text("[server]\nthreads = 3\n")
    _make("install", "DESTDIR=" + str(dest))
    assert conf.read_text() == "[server]\nthreads = 3\n"
    unit = (dest / "usr/local/lib/systemd/system/mgmtd.service").read_text()
    assert "/usr/local/bin/mgmtd serve --config /usr/local/etc/mgmtd/mgmtd.ini" in unit


@pytest.fixture(scope="module")
def installed_prefix(tmp_path_factory):
    """An install with PREFIX a scratch directory and no DESTDIR, so that the units name
    files that exist, as systemd-analyze verify checks."""
    prefix = tmp_path_factory.mktemp("prefix")
    _make("install", "PREFIX=" + str(prefix))
    return prefix


def test_units_pass_systemd_analyze_verify(installed_prefix):
    """verify runs `man` for Documentation=; man-db's seccomp sandbox of its helpers
    would refuse what libfaketime needs in the clock-ahead run, hence MAN_DISABLE_SECCOMP."""
    units = installed_prefix / "lib/systemd/system"
    res = subprocess.run(["systemd-analyze", "verify", str(units / "mgmtd.service"),
                          str(units / "mgmtd.socket")], capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, MANPATH=str(installed_prefix / "share/man"),
                                               MAN_DISABLE_SECCOMP="1"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stderr.strip() == "", res.stderr


def test_unit_is_rated_ok_by_systemd_analyze_security(installed_prefix):
    unit = installed_prefix / "lib/systemd/system/mgmtd.service"
    text = unit.read_text()
    for setting in ("Type=notify", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                    "PrivateTmp=yes", "PrivateDevices=yes",
                    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                    "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes",
                    "CapabilityBoundingSet=\n", "StateDirectory=mgmtd", "User=mgmtd",
                    "WatchdogSec="):
        assert setting in text, setting
    # --offline: no PID 1 systemd here; the unit file alone is rated
    res = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
                         capture_output=True, text=True, timeout=120)
    m = re.search(r"Overall exposure level for mgmtd\.service: (\d+\.\d+) (\w+)", res.stdout)
    assert m, res.stdout + res.stderr
    assert float(m.group(1)) <= 2.0, res.stdout
    assert m.group(2) in ("OK", "SAFE", "PERFECT"), res.stdout


def test_sysusers_and_tmpfiles_make_the_user_and_a_private_state_dir(installed_prefix, tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    res = subprocess.run(["systemd-sysusers", "--root=" + str(root),
                          str(installed_prefix / "lib/sysusers.d/mgmtd.conf")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    passwd = (root / "etc/passwd").read_text()
    m = re.search(r"^mgmtd:x:(\d+):(\d+):[^:]*:/var/lib/mgmtd:", passwd, re.M)
    assert m, passwd
    res = subprocess.run(["systemd-tmpfiles", "--root=" + str(root), "--create",
                          str(installed_prefix / "lib/tmpfiles.d/mgmtd.conf")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    st = (root / "var/lib/mgmtd").stat()
    assert st.st_mode & 0o777 == 0o700 and st.st_uid == int(m.group(1))
