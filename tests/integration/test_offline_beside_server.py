"""Offline commands beside a serving daemon (docs/configuration.md: "the offline
commands work on the same store while the server runs").

A daemon with several worker threads (so several pooled store connections) takes
management-token creates and revocations over the API. Beside it, every offline
command runs in a loop: user list, user add, management list, create and revoke,
audit list, backup and verify (the last two on SQLite only: on PostgreSQL they say to
use the database's own tools). Between rounds the daemon is SIGKILLed and started
again.

The checker trusts only what clients were told:
- a token whose revocation was answered (204, or an offline revoke that exited 0) is
  refused from that moment on, on fresh connections and on kept-alive ones, and
  after every restart;
- every acknowledged create (API 200, offline exit 0, user add exit 0) is there after
  every restart;
- every backup holds every create and revocation acknowledged before it began;
- the daemon never holds a store file that was deleted under it (the symptom of
  SQLite's locks being dropped by a stray close() of the database file: another
  process then removes the live -wal and the server writes into a ghost);
- at the end `PRAGMA integrity_check` is "ok" and `mgmtd verify` agrees.

Bounded: ROUNDS rounds (MGMTD_OFFLINE_ROUNDS, default 3) of TRAFFIC_S seconds each.
"""
import json
import os
import random
import sqlite3
import threading
import time

import pytest
import requests

from conftest import (
    ACCOUNT_A,
    BACKEND,
    HTTP_TIMEOUT,
    SLOWDOWN,
    clusters_path,
    describe_cli,
    tokens_path,
    unique_email,
)

ROUNDS = int(os.environ.get("MGMTD_OFFLINE_ROUNDS", "3"))
TRAFFIC_S = 2.0 * SLOWDOWN
THREADS_CONFIG = "[server]\nthreads = 4\n"


class Ledger:
    """What clients were told, and what the checkers saw that they must not."""

    def __init__(self):
        self.lock = threading.Lock()
        self.created = {}  # token id -> secret: API 200 or offline create exit 0
        self.revoked = set()  # ids whose revocation was acknowledged
        self.unsure = set()  # revocations that got no answer (a kill in flight)
        self.queue = []  # created, not yet revoked
        self.users = set()  # emails of acknowledged `user add`
        self.violations = []

    def snapshot(self):
        with self.lock:
            return dict(self.created), set(self.revoked), set(self.users)

    def violation(self, text):
        with self.lock:
            self.violations.append(text)


def _bearer(secret):
    return {"Authorization": "Bearer " + secret}


def api_creator(base, jwt, ledger, stop, n):
    s = requests.Session()
    url = base + tokens_path()
    i = 0
    while not stop.is_set():
        i += 1
        try:
            r = s.post(url, json={"description": "beside %d-%d" % (n, i)}, headers=_bearer(jwt),
                       timeout=HTTP_TIMEOUT)
        except requests.RequestException:
            return  # the daemon was killed
        if r.status_code == 200:
            body = r.json()
            with ledger.lock:
                ledger.created[body["id"]] = body["accessToken"]
                ledger.queue.append(body["id"])


def refused_everywhere(base, secret, kept):
    """Whether the secret is refused on every kept-alive session and on new connections.
    None when the daemon went away meanwhile."""
    sessions = kept + [requests.Session() for _ in range(3)]
    try:
        for s in sessions:
            r = s.get(base + clusters_path(), headers=_bearer(secret), timeout=HTTP_TIMEOUT)
            if r.status_code != 401:
                return False
        return True
    except requests.RequestException:
        return None
    finally:
        for s in sessions[len(kept):]:
            s.close()


def api_revoker(base, jwt, ledger, stop):
    s = requests.Session()
    # kept-alive connections, each likely served by another worker thread
    kept = [requests.Session() for _ in range(4)]
    while not stop.is_set():
        with ledger.lock:
            token_id = (ledger.queue.pop(random.randrange(len(ledger.queue)))
                        if ledger.queue else None)
            secret = ledger.created.get(token_id)
        if token_id is None:
            time.sleep(0.005)
            continue
        # warm the kept connections with the live token first
        try:
            for k in kept:
                k.get(base + clusters_path(), headers=_bearer(secret), timeout=HTTP_TIMEOUT)
            r = s.delete(base + tokens_path(token_id=token_id), headers=_bearer(jwt),
                         timeout=HTTP_TIMEOUT)
        except requests.RequestException:
            with ledger.lock:
                ledger.unsure.add(token_id)
            return
        if r.status_code != 204:
            with ledger.lock:
                ledger.unsure.add(token_id)
            continue
        with ledger.lock:
            ledger.revoked.add(token_id)
        if refused_everywhere(base, secret, kept) is False:
            ledger.violation("management token %s was accepted after its revocation's 204"
                             % token_id)


def deleted_store_files(d):
    """Store files the daemon holds open that no longer exist under their name."""
    if d.proc is None or d.data_dir == ":memory:":
        return []
    fd_dir = "/proc/%d/fd" % d.proc.pid
    out = []
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return []
    for fd in names:
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith(str(d.data_dir)) and target.endswith("(deleted)"):
            out.append(target)
    return out


class OfflineLoop:
    """Runs the offline commands one after another beside the daemon until stopped."""

    def __init__(self, d, ledger, tmp_path, round_no):
        self.d = d
        self.ledger = ledger
        self.tmp = tmp_path
        self.round = round_no
        self.backups = []  # (path, created-before, revoked-before, users-before)
        self.ran = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error = None

    def start(self):
        self.thread.start()

    def join(self):
        self.stop.set()
        self.thread.join(timeout=120 * SLOWDOWN)
        assert not self.thread.is_alive(), "the offline loop did not finish"
        if self.error is not None:
            raise self.error

    def _cli_ok(self, *args):
        res = self.d.cli(*args)
        if res.returncode != 0:
            raise AssertionError("offline command beside the server failed:\n"
                                 + describe_cli(res))
        return res

    def _commands(self):
        cmds = [self.user_list, self.user_add, self.management_list, self.management_create,
                self.management_revoke, self.audit_list]
        if BACKEND == "sqlite":
            cmds += [self.backup, self.verify]
        return cmds

    def _run(self):
        i = 0
        try:
            while not self.stop.is_set():
                cmd = self._commands()[i % len(self._commands())]
                i += 1
                cmd()
                self.ran[cmd.__name__] = self.ran.get(cmd.__name__, 0) + 1
                ghosts = deleted_store_files(self.d)
                if ghosts:
                    self.ledger.violation("after `%s` the daemon holds deleted store files: %s"
                                          % (cmd.__name__, ghosts))
        except BaseException as e:  # reported by join()
            self.error = e

    def user_list(self):
        self._cli_ok("user", "list", "--account", ACCOUNT_A, "--format", "json")

    def user_add(self):
        email = unique_email("beside")
        self._cli_ok("user", "add", "--account", ACCOUNT_A, "--email", email, "--group",
                     "member")
        with self.ledger.lock:
            self.ledger.users.add(email)

    def management_list(self):
        self._cli_ok("management", "list", "--account", ACCOUNT_A, "--format", "json")

    def management_create(self):
        res = self._cli_ok("management", "create", "--account", ACCOUNT_A, "--as",
                           "admin@example.com", "--description", "offline", "--format", "json")
        body = json.loads(res.stdout)
        with self.ledger.lock:
            self.ledger.created[body["id"]] = body["accessToken"]
            self.ledger.queue.append(body["id"])

    def management_revoke(self):
        with self.ledger.lock:
            if not self.ledger.queue:
                return
            token_id = self.ledger.queue.pop(random.randrange(len(self.ledger.queue)))
            secret = self.ledger.created[token_id]
        self._cli_ok("management", "revoke", "--account", ACCOUNT_A, token_id)
        with self.ledger.lock:
            self.ledger.revoked.add(token_id)
        if refused_everywhere(self.d.url(""), secret, []) is False:
            self.ledger.violation("management token %s was accepted after an offline revoke "
                                  "exited 0" % token_id)

    def audit_list(self):
        self._cli_ok("audit", "list", "--account", ACCOUNT_A, "--format", "json")

    def backup(self):
        path = self.tmp / ("backup-%d-%d.db" % (self.round, len(self.backups)))
        created, revoked, users = self.ledger.snapshot()
        self._cli_ok("backup", "--to", str(path))
        self.backups.append((path, created, revoked, users))

    def verify(self):
        res = self._cli_ok("verify")
        if "verify: OK" not in res.stdout:
            raise AssertionError("verify beside the server:\n" + describe_cli(res))


def check_backup(path, created, revoked, users):
    """Every change acknowledged before the backup began is in it."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        rows = dict(db.execute("SELECT id, revoked_at FROM management_tokens").fetchall())
        emails = {r[0].lower() for r in db.execute("SELECT email FROM users")}
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()
    assert integrity == "ok", "backup %s: %s" % (path, integrity)
    missing = [t for t in created if t not in rows]
    assert not missing, "backup %s lacks %d tokens created before it began, e.g. %s" % (
        path, len(missing), missing[:3])
    unrevoked = [t for t in revoked if rows.get(t) is None]
    assert not unrevoked, ("backup %s shows %d tokens as live whose revocation was "
                           "acknowledged before it began, e.g. %s" % (path, len(unrevoked),
                                                                      unrevoked[:3]))
    lost = [u for u in users if u.lower() not in emails]
    assert not lost, "backup %s lacks users added before it began: %s" % (path, lost[:3])


def check_after_restart(d, ledger):
    created, revoked, users = ledger.snapshot()
    with ledger.lock:
        unsure = set(ledger.unsure)
    s = requests.Session()
    for token_id, secret in created.items():
        r = s.get(d.url(clusters_path()), headers=_bearer(secret), timeout=HTTP_TIMEOUT)
        if token_id in revoked:
            assert r.status_code == 401, (
                "management token %s, revoked with an acknowledgement, works again after a "
                "SIGKILL and restart (%d)" % (token_id, r.status_code))
        elif token_id not in unsure:
            assert r.status_code == 200, (
                "management token %s, created with an acknowledgement, is refused after a "
                "restart (%d %s)" % (token_id, r.status_code, r.text))
    emails = {u["email"].lower() for u in json.loads(
        d.cli("user", "list", "--account", ACCOUNT_A, "--format", "json").stdout)}
    lost = [u for u in users if u.lower() not in emails]
    assert not lost, "users added offline are gone after a restart: %s" % lost[:3]
    return len(created), len(revoked)


def guarded(target, ledger, *args):
    """target(*args), with anything it raises reported as a violation."""
    def run():
        try:
            target(*args)
        except BaseException as e:  # noqa: B902: every failure is the test's business
            ledger.violation("%s raised %r" % (target.__name__, e))
    return threading.Thread(target=run)


def test_offline_commands_beside_a_serving_daemon(daemon_factory, tmp_path):
    d = daemon_factory(config_extra=THREADS_CONFIG)
    ledger = Ledger()
    loops = []
    for round_no in range(ROUNDS):
        stop = threading.Event()
        base, jwt = d.url(""), d.jwt("admin")
        workers = [guarded(api_creator, ledger, base, jwt, ledger, stop, n) for n in range(2)]
        workers.append(guarded(api_revoker, ledger, base, jwt, ledger, stop))
        for w in workers:
            w.start()
        loop = OfflineLoop(d, ledger, tmp_path, round_no)
        loop.start()
        time.sleep(TRAFFIC_S * random.uniform(0.75, 1.25))
        loop.join()  # its last command is done before the kill
        d.kill()
        stop.set()
        for w in workers:
            w.join(timeout=30 * SLOWDOWN)
        loops.append(loop)
        assert not ledger.violations, "\n".join(ledger.violations[:10])
        for backup in loop.backups:
            check_backup(*backup)
        d.start(use_seed=False)
        created, revoked = check_after_restart(d, ledger)
    # every command really ran beside the server, more than once over the rounds
    ran = {}
    for loop in loops:
        for name, n in loop.ran.items():
            ran[name] = ran.get(name, 0) + n
    expected = [c.__name__ for c in loops[0]._commands()]
    assert all(ran.get(name, 0) >= 1 for name in expected), ran
    assert created > 20 and revoked > 5, (created, revoked)
    d.stop_ok()
    if BACKEND == "sqlite":
        db = sqlite3.connect("file:%s?mode=ro" % (d.data_dir / "mgmtd.db"), uri=True)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            db.close()
        res = d.cli("verify")
        assert res.returncode == 0 and "verify: OK" in res.stdout, describe_cli(res)
