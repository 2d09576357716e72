"""mgmtd backup/restore/verify: a backup taken under create/revoke load restores to a
data directory where every token acknowledged before the backup started behaves as
before; restore refuses a running server's directory and a backup of another token.key
(unless --force); verify reports integrity, schema and key.

SQLite only: they work on SQLite files. On PostgreSQL the database's own tools do
backups, and these commands say so (test_postgres.py)."""

import os
import shutil
import sqlite3
import threading
import time

import pytest

from conftest import (
    ACCOUNT_A,
    HTTP_TIMEOUT,
    SLOWDOWN,
    assert_error,
    describe_cli,
    ok_json,
    tokens_path,
    wait_for,
)

pytestmark = pytest.mark.sqlite_only


def backup(d, dest):
    res = d.cli("backup", "--to", str(dest))
    assert res.returncode == 0, describe_cli(res)
    return res


class Load:
    """Threads that create management tokens and revoke some, noting when each request
    was sent and when its answer came (time.monotonic)."""

    def __init__(self, d, threads=2):
        self.d = d
        self.jwt = d.jwt()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.created = {}  # id -> (secret, sent, acked)
        self.revoked = {}  # id -> (sent, acked)
        self.errors = []
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]

    def run(self, n):
        import requests

        session = requests.Session()
        i = 0
        while not self.stop.is_set():
            i += 1
            sent = time.monotonic()
            r = session.post(self.d.url(tokens_path()), json={"description": "load %d/%d" % (n, i)},
                             headers={"Authorization": "Bearer " + self.jwt}, timeout=HTTP_TIMEOUT)
            acked = time.monotonic()
            if r.status_code != 200:
                self.errors.append(r.text)
                continue
            t = r.json()
            with self.lock:
                self.created[t["id"]] = (t["accessToken"], sent, acked)
            if i % 3 == 0:  # revoke every third, right away
                sent = time.monotonic()
                r = session.delete(self.d.url(tokens_path(token_id=t["id"])),
                                   headers={"Authorization": "Bearer " + self.jwt},
                                   timeout=HTTP_TIMEOUT)
                acked = time.monotonic()
                if r.status_code != 204:
                    self.errors.append(r.text)
                    continue
                with self.lock:
                    self.revoked[t["id"]] = (sent, acked)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


def restored_daemon(daemon_factory, source, backup_file, key=True):
    """A second daemon whose data directory is restored from backup_file, beside the
    source's token.key (key=True), another key (key="other") or none (key=False)."""
    d2 = daemon_factory(start=False)
    d2.data_dir.mkdir(mode=0o700)
    if key is True:
        shutil.copy2(source.data_dir / "token.key", d2.data_dir / "token.key")
    elif key == "other":
        (d2.data_dir / "token.key").write_bytes(os.urandom(32))
        (d2.data_dir / "token.key").chmod(0o600)
    return d2


def test_backup_under_load_restores_every_acknowledged_token(daemon_factory, tmp_path):
    d = daemon_factory()
    dest = tmp_path / "backup.db"
    with Load(d) as load:
        # enough acknowledged before the backup, some after it (slow under valgrind)
        wait_for(lambda: len(load.created) >= 15 and len(load.revoked) >= 3, 60 * SLOWDOWN,
                 "the load to get going", d)
        t0 = time.monotonic()
        backup(d, dest)
        t1 = time.monotonic()
        wait_for(lambda: sum(1 for v in list(load.created.values()) if v[1] > t1) >= 3,
                 60 * SLOWDOWN, "creates after the backup", d)
    assert not load.errors, load.errors[:3]
    before = {i: v for i, v in load.created.items() if v[2] < t0}
    after = {i: v for i, v in load.created.items() if v[1] > t1}
    assert len(before) >= 10 and after, (len(before), len(after))

    d2 = restored_daemon(daemon_factory, d, dest)
    res = d2.cli("restore", "--from", str(dest))
    assert res.returncode == 0, describe_cli(res)
    d2.start()
    checked_active = checked_revoked = 0
    for tid, (secret, _sent, _acked) in before.items():
        rev = load.revoked.get(tid)
        r = d2.get(tokens_path(token_id=tid), secret)
        if rev and rev[1] < t0:
            assert_error(r, 401, "revoked")
            checked_revoked += 1
        elif rev is None or rev[0] > t1:
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "active"
            checked_active += 1
        # else: its revocation ran while the backup did; either state is right
    assert checked_active and checked_revoked
    for tid, (secret, _s, _a) in list(after.items())[:20]:
        assert_error(d2.get(tokens_path(), secret), 401)  # made after the backup


def test_restore_refuses_the_directory_of_a_running_server(daemon_factory, tmp_path):
    d = daemon_factory()
    tok = d.create_token("kept")
    dest = tmp_path / "b.db"
    backup(d, dest)
    res = d.cli("restore", "--from", str(dest))
    assert res.returncode == 1, describe_cli(res)
    assert "a server is running" in res.stderr, describe_cli(res)
    ok_json(d.get(tokens_path(), tok["accessToken"]))
    # stopped, it restores
    d.stop_ok()
    res = d.cli("restore", "--from", str(dest))
    assert res.returncode == 0, describe_cli(res)
    d.start()
    ok_json(d.get(tokens_path(), tok["accessToken"]))


def test_backup_never_overwrites_and_needs_to(daemon_factory, tmp_path):
    d = daemon_factory()
    dest = tmp_path / "b.db"
    dest.write_text("precious")
    res = d.cli("backup", "--to", str(dest))
    assert res.returncode == 1 and dest.read_text() == "precious", describe_cli(res)
    res = d.cli("backup")
    assert res.returncode == 2, describe_cli(res)
    fresh = tmp_path / "fresh.db"
    out = backup(d, fresh).stdout
    assert "same token.key" in out
    assert fresh.stat().st_mode & 0o777 == 0o600


def test_restore_checks_the_key_fingerprint(daemon_factory, tmp_path):
    d = daemon_factory()
    tok = d.create_token("one")
    dest = tmp_path / "b.db"
    backup(d, dest)

    d2 = restored_daemon(daemon_factory, d, dest, key="other")
    res = d2.cli("restore", "--from", str(dest))
    assert res.returncode == 1, describe_cli(res)
    assert "MISMATCH" in res.stdout and "--force" in res.stderr, describe_cli(res)
    d3 = restored_daemon(daemon_factory, d, dest, key=False)
    res = d3.cli("restore", "--from", str(dest))
    assert res.returncode == 1 and "missing" in res.stdout, describe_cli(res)

    res = d2.cli("restore", "--from", str(dest), "--force")
    assert res.returncode == 0, describe_cli(res)
    d2.start()
    assert "another token.key" in d2.log_since_start()
    assert_error(d2.get(tokens_path(), tok["accessToken"]), 401)  # as documented


def test_verify(daemon_factory, tmp_path):
    d = daemon_factory()
    d.create_token("one")
    res = d.cli("verify")
    assert res.returncode == 0 and "verify: OK" in res.stdout, describe_cli(res)
    assert "token.key:       matches" in res.stdout
    dest = tmp_path / "b.db"
    backup(d, dest)
    res = d.cli("verify", str(dest))
    assert res.returncode == 0, describe_cli(res)
    assert "1 management tokens" in res.stdout or "management tokens" in res.stdout

    damaged = tmp_path / "damaged.db"
    shutil.copy(dest, damaged)
    with open(damaged, "r+b") as f:
        f.seek(3 * 4096)
        f.write(b"\xa5" * 4096)
    res = d.cli("verify", str(damaged))
    assert res.returncode == 1 and "PROBLEMS FOUND" in res.stdout, describe_cli(res)
    res = d.cli("verify", str(tmp_path / "nothing.db"))
    assert res.returncode == 1, describe_cli(res)

    newer = tmp_path / "newer.db"
    shutil.copy(dest, newer)
    db = sqlite3.connect(str(newer))
    db.execute("PRAGMA user_version = 999")
    db.close()
    res = d.cli("verify", str(newer))
    assert res.returncode == 1 and "NEWER" in res.stdout, describe_cli(res)
    d.stop_ok()
    res = d.cli("restore", "--from", str(newer))
    assert res.returncode == 1 and "not fit to restore" in res.stderr, describe_cli(res)
