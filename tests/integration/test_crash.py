"""Crash safety: create and revoke traffic, SIGKILL at random moments, restart.

Every token whose create was answered 200 must authenticate after the restart,
and every token whose revoke was answered 204 must not (CONTRACT 3: "from the
moment the 204 is sent, also after a crash or restart"). A request that was in
flight at the kill may have gone either way and is not judged.

SIGKILL checks the order of things (the answer leaves only after the commit),
not fsync itself: the kernel keeps what was written when a process dies. That
synchronous=FULL makes the commit durable against power loss is SQLite's part.

On PostgreSQL the same traffic also meets `pg_ctl stop -m immediate` of the
database (its processes killed, no checkpoint, WAL replayed at the next start)
while mgmtd stays up: whatever was acknowledged before must be there after.

Short by default (make test); MGMTD_CRASH_ROUNDS=200 for the long form. Each
round's traffic lasts at most a second; the kill comes at a random moment in it.
"""
import os
import random
import sqlite3
import threading
import time

import pytest
import requests

from conftest import (
    HTTP_TIMEOUT,
    PgStore,
    assert_error,
    clusters_path,
    ok_json,
    pgserver,
    tokens_path,
    wait_for,
)

ROUNDS = int(os.environ.get("MGMTD_CRASH_ROUNDS", "6"))
CREATORS = 2


class Ledger:
    """What clients were told: the only facts the check may rely on."""

    def __init__(self):
        self.lock = threading.Lock()
        self.created = {}       # id -> secret, answered 200
        self.revoked = set()    # ids whose DELETE was answered 204
        self.unsure = set()     # ids whose DELETE got no answer
        self.queue = []         # created ids not yet sent a DELETE
        self.recent = set()     # ids created or revoked since the last check


def creator(url, jwt, ledger, stop, n):
    s = requests.Session()
    i = 0
    while not stop.is_set():
        i += 1
        try:
            r = s.post(url + tokens_path(), json={"description": "crash %d-%d" % (n, i)},
                       headers={"Authorization": "Bearer " + jwt}, timeout=HTTP_TIMEOUT)
        except requests.RequestException:
            break
        if r.status_code == 200:
            body = r.json()
            with ledger.lock:
                ledger.created[body["id"]] = body["accessToken"]
                ledger.queue.append(body["id"])
                ledger.recent.add(body["id"])


def revoker(url, jwt, ledger, stop):
    s = requests.Session()
    while not stop.is_set():
        with ledger.lock:
            token_id = ledger.queue.pop(random.randrange(len(ledger.queue))) if ledger.queue else None
        if token_id is None:
            time.sleep(0.005)
            continue
        try:
            r = s.delete(url + tokens_path(token_id=token_id),
                         headers={"Authorization": "Bearer " + jwt}, timeout=HTTP_TIMEOUT)
        except requests.RequestException:
            with ledger.lock:
                ledger.unsure.add(token_id)
            break
        with ledger.lock:
            (ledger.revoked if r.status_code == 204 else ledger.unsure).add(token_id)
            ledger.recent.add(token_id)


def check(d, ledger, old_sample=None):
    """Checks the tokens of the last round, and old_sample older ones (None: all)."""
    with ledger.lock:
        created = dict(ledger.created)
        revoked = set(ledger.revoked)
        unsure = set(ledger.unsure)
        recent = set(ledger.recent)
        ledger.recent.clear()
    ids = list(created)
    if old_sample is not None:
        old = [i for i in ids if i not in recent]
        ids = [i for i in ids if i in recent] + random.sample(old, min(old_sample, len(old)))
    s = requests.Session()
    for token_id in ids:
        secret = created[token_id]
        r = s.get(d.url(clusters_path()), headers={"Authorization": "Bearer " + secret},
                  timeout=HTTP_TIMEOUT)
        if token_id in revoked:
            assert_error(r, 401)
        elif token_id not in unsure:
            assert r.status_code == 200, "token %s was created (200) but now gets %d %s" % (
                token_id, r.status_code, r.text)
    return len(created), len(revoked)


def rounds_of_traffic(d, crash, recover):
    """ROUNDS times: create/revoke traffic, crash() at a random moment in it, then
    recover() and check the round's tokens (and a sample of older ones); at the end,
    all of them. Returns nothing; fails on a lost acknowledged write."""
    jwt = d.jwt("admin")
    ledger = Ledger()
    rng = random.Random()
    for _ in range(ROUNDS):
        stop = threading.Event()
        url = "http://127.0.0.1:%d" % d.port
        threads = [threading.Thread(target=creator, args=(url, jwt, ledger, stop, n))
                   for n in range(CREATORS)]
        threads.append(threading.Thread(target=revoker, args=(url, jwt, ledger, stop)))
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.05, 1.0))
        crash(rng)
        stop.set()
        for t in threads:
            t.join(timeout=HTTP_TIMEOUT * 2)
            assert not t.is_alive()
        recover()
        check(d, ledger, old_sample=50)
    created, revoked = check(d, ledger)
    assert created > 0 and revoked > 0, "the traffic did nothing: %d created, %d revoked" % (
        created, revoked)


def test_acknowledged_creates_and_revokes_survive_sigkill(daemon_factory):
    d = daemon_factory()
    rounds_of_traffic(d, lambda rng: d.kill(), d.start)
    d.stop_ok()
    if d.backend == "sqlite":
        db = sqlite3.connect(str(d.data_dir / "mgmtd.db"))
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            db.close()


@pytest.mark.postgres_only
def test_acknowledged_writes_survive_an_immediate_database_stop(daemon_factory):
    srv = pgserver.PgServer().start()  # its own: the suite's server stays up
    try:
        d = daemon_factory(pg_store=PgStore(srv))

        def crash(rng):
            srv.stop("immediate")
            time.sleep(rng.uniform(0.0, 0.2))  # the traffic meets the outage

        def recover():
            srv.start()
            # the same mgmtd, never restarted, reconnects by itself
            wait_for(lambda: d.get("/ready").status_code == 200, 30, "/ready again", d)

        rounds_of_traffic(d, crash, recover)
        assert d.running
        d.stop_ok()
    finally:
        srv.remove()
