"""A full disk: the data directory on a small tmpfs that the test fills.

Writes fail with 503 and a message that says the store is full; reads go on;
after space is freed, writes work again; nothing is corrupted (PRAGMA
integrity_check) and every acknowledged create is still there.

Mounting needs root (CI runs as root); elsewhere the test is skipped and says so.
SQLite only: on PostgreSQL the disk is the database server's (a full pg_wal stops
that server, which test_postgres.py's outage tests cover from mgmtd's side).
"""
import errno
import os
import sqlite3
import subprocess

import pytest

from conftest import assert_error, clusters_path, ok_json, tokens_path, users_path

SIZE = "4m"

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % SIZE, "tmpfs",
                        str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("cannot mount a tmpfs as root: %s" % r.stderr)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(path, keep_free=0):
    """Writes a filler file until the file system is full; returns its path."""
    filler = path / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(chunk)
                f.flush()
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
    return filler


def test_full_disk_refuses_writes_keeps_reads(daemon_factory, small_disk):
    d = daemon_factory(start=False)
    d.data_dir = small_disk / "data"
    d.start()
    jwt = d.jwt("admin")
    first = d.create_token("before the disk filled")
    token = first["accessToken"]

    filler = fill(small_disk)
    description = "x" * 1024
    created = [first["id"]]
    full = None
    for _ in range(2000):
        r = d.post(tokens_path(), jwt, json={"description": description})
        if r.status_code == 200:
            created.append(r.json()["id"])
            continue
        full = r
        break
    assert full is not None, "2000 creates fitted on a full %s tmpfs" % SIZE
    assert_error(full, 503, "full")
    # other writes are refused the same way
    assert_error(d.post(users_path(), jwt, json={"email": "full@example.com", "group": "member"}),
                 503, "full")
    assert_error(d.delete(tokens_path(token_id=first["id"]), jwt), 503)
    # reads go on, with both kinds of credential
    listed = ok_json(d.get(tokens_path(), jwt))
    assert {t["id"] for t in listed} >= set(created)
    ok_json(d.get(clusters_path(), token))
    ok_json(d.get(tokens_path(token_id=first["id"]), token))
    assert d.running
    assert "store is full" in d.log_since_start() or "full" in d.log_since_start()

    # space comes back: so do writes, without a restart
    os.unlink(filler)
    created.append(d.create_token("after space came back")["id"])
    d.stop_ok()

    db = sqlite3.connect(str(d.data_dir / "mgmtd.db"))
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = {row[0] for row in db.execute("SELECT id FROM management_tokens")}
    finally:
        db.close()
    assert ids >= set(created)
    d.start()
    ok_json(d.get(clusters_path(), token))
