"""The loss of the database primary (docs/scaling.md, "Failover").

Two parts. The bounds first, on a PostgreSQL server of the test's own (every
PostgreSQL pass): a statement or COMMIT that cannot complete (a stopped server, a
COMMIT waiting for a synchronous standby that is not there) answers 503 within
[store] postgres_timeout instead of hanging, a COMMIT whose wait for the standby was
cancelled is no 200, and the replica comes back by itself.

Then two replicas under a mixed load on a Patroni cluster (tests/tools/patroni.py:
etcd, three PostgreSQL 15 nodes with a synchronous standby, HAProxy checking
Patroni's /primary), through four faults: SIGKILL of the primary's Patroni and
PostgreSQL, a switchover, SIGKILL of the primary's Patroni alone, SIGSTOP of the
primary for longer than the leader key's TTL. After each: no acknowledged change
lost, no revoked token accepted at any moment, no name created twice, both
replicas at /ready 200 and writing again without a restart. A change answered 503
may or may not have been made: the test finds out which and reports both counts,
with the time each replica took to write again. These tests are marked
plain_pass_only: the cluster takes a minute and a few hundred MB, and a sanitizer
or the clock ahead would change nothing they look at, so `make test` runs them
once, in the plain PostgreSQL pass (tests/integration/README.md).
"""
import os
import random
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import (
    ACCOUNT_A,
    _Factory,
    _stop_all,
    assert_error,
    assert_status,
    authorize_path,
    child_env,
    clusters_path,
    databases_path,
    describe_cli,
    run_cli,
    db_tokens_path,
    default_seed,
    make_mgmt_token,
    pgserver,
    PgStore,
    tokens_path,
    unique_name,
    wait_for,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import patroni  # noqa: E402  (tests/tools/patroni.py)

pytestmark = pytest.mark.postgres_only

SEEDED = make_mgmt_token()
TIMEOUT_S = 2  # [store] postgres_timeout of every daemon here
# A client that waits this long got no answer: mgmtd hung, which is the failure.
CLIENT_TIMEOUT = 30


def seed():
    s = default_seed()
    s["managementTokens"] = [{"accountId": ACCOUNT_A, "description": "failover",
                              "accessToken": SEEDED, "createdBy": "admin@example.com"}]
    return s


def store_extra(timeout=TIMEOUT_S):
    return "[store]\npostgres_timeout = %d\n" % timeout


def postmaster_of(srv):
    with open(os.path.join(srv.data, "postmaster.pid")) as f:
        return int(f.readline())


# ---------------------------------------------------------------------------
# The bounds, on one PostgreSQL server

def test_a_stopped_database_answers_503_in_bounded_time_and_comes_back(daemon_factory):
    srv = pgserver.PgServer().start()
    stopped = None
    try:
        d = daemon_factory(seed=seed(), pg_store=PgStore(srv), config_extra=store_extra())
        assert_status(d.get(clusters_path(), SEEDED), 200)  # every connection is open
        stopped = postmaster_of(srv)
        patroni.signal_postgres(stopped, signal.SIGSTOP)
        # Without the bound each of these would wait for the server forever: a change,
        # a read (its snapshot's BEGIN and first statement go in one pipeline), /ready.
        assert_error(d.post(databases_path(), SEEDED, json={"name": unique_name()},
                            timeout=CLIENT_TIMEOUT), 503, "may have been made")
        assert_error(d.get(databases_path(), SEEDED, timeout=CLIENT_TIMEOUT), 503, "database")
        assert_status(d.get("/ready", timeout=CLIENT_TIMEOUT), 503)
        assert "did not answer within 2000 ms" in d.log_since_start()
        patroni.signal_postgres(stopped, signal.SIGCONT)
        stopped = None
        wait_for(lambda: d.get("/ready").status_code == 200, 30, "/ready again", d)
        assert_status(d.post(databases_path(), SEEDED, json={"name": unique_name()}), 200)
        d.stop_ok()
    finally:
        if stopped is not None:
            patroni.signal_postgres(stopped, signal.SIGCONT)
        srv.remove()


def sync_standby_names(srv, value):
    srv.psql("ALTER SYSTEM SET synchronous_standby_names = '%s'" % value)
    srv.psql("SELECT pg_reload_conf()")


def test_a_commit_waiting_for_a_missing_standby_answers_503_and_was_made(daemon_factory):
    """A COMMIT that waits for a synchronous standby which never answers (one that
    was promoted elsewhere, or is gone) is committed on this server but not
    acknowledged: the request answers 503 "may have been made", and it was."""
    srv = pgserver.PgServer().start()
    try:
        d = daemon_factory(seed=seed(), pg_store=PgStore(srv), config_extra=store_extra())
        sync_standby_names(srv, "ghost")
        name = unique_name()
        assert_error(d.post(databases_path(), SEEDED, json={"name": name},
                            timeout=CLIENT_TIMEOUT), 503, "may have been made")
        sync_standby_names(srv, "")  # releases the COMMITs that still wait
        wait_for(lambda: d.get("/ready").status_code == 200, 30, "/ready again", d)
        # visible once the backend that waited is released (it committed before waiting)
        wait_for(lambda: name in [x["name"] for x in d.get(databases_path(), SEEDED).json()],
                 30, "the 503'd database to be there", d)
        # the retry a client makes of a 503'd create tells it so
        assert_error(d.post(databases_path(), SEEDED, json={"name": name}), 409)
        d.stop_ok()
    finally:
        srv.remove()


def test_a_cancelled_wait_for_the_standby_is_no_success(daemon_factory):
    """PostgreSQL answers COMMIT with success, and a WARNING, when the wait for the
    synchronous standby is cancelled (pg_cancel_backend): committed here, maybe
    not on the standby. mgmtd must not answer 200 for it."""
    srv = pgserver.PgServer().start()
    try:
        d = daemon_factory(seed=seed(), pg_store=PgStore(srv), config_extra=store_extra(30))
        sync_standby_names(srv, "ghost")
        answer = []
        t = threading.Thread(target=lambda: answer.append(d.post(
            databases_path(), SEEDED, json={"name": unique_name()}, timeout=CLIENT_TIMEOUT)))
        t.start()
        waiting = "SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'"
        wait_for(lambda: srv.psql(waiting).strip() != "", 20, "a COMMIT waiting for the standby")
        srv.psql("SELECT pg_cancel_backend(pid) FROM pg_stat_activity"
                 " WHERE wait_event = 'SyncRep'")
        # the request writes its refusal's audit row next, which waits too: release it
        wait_for(lambda: "COMMIT came with a warning" in d.log_since_start(), 20,
                 "mgmtd to see the warning", d)
        sync_standby_names(srv, "")
        t.join(timeout=CLIENT_TIMEOUT + 5)
        assert answer, "no answer"
        assert_error(answer[0], 503, "may have been made")
        d.stop_ok()
    finally:
        srv.remove()


# ---------------------------------------------------------------------------
# Two replicas on a Patroni cluster

class ClusterStore:
    """What Daemon takes as pg_store: the cluster's database, reached by url."""

    def __init__(self, cluster, url):
        self.cluster = cluster
        self.url = url

    def psql(self, sql):
        return self.cluster.psql(sql, db="mgmtd")

    def drop(self):
        pass  # goes with the cluster


@pytest.fixture(scope="module")
def cluster():
    c = patroni.PatroniCluster(nodes=3, haproxy=True)
    try:
        c.start()
        c.create_database("mgmtd")
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def pair(cluster, mgmtd_bin, idp, tmp_path_factory):
    """Two replicas: the first on the multi-host URL, the second through HAProxy."""
    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("failover"), idp)
    try:
        extra = store_extra() + "[server]\nthreads = 4\n"
        first = f(seed=seed(), config_extra=extra,
                  pg_store=ClusterStore(cluster, cluster.multi_host_url("mgmtd")))
        second = f(seed=seed(), config_extra=extra,
                   pg_store=ClusterStore(cluster, cluster.haproxy_url("mgmtd")),
                   token_key_file=first.data_dir / "token.key")
        yield [first, second]
    finally:
        _stop_all(f)


def through_haproxy(cluster, d):
    """Restarts d with the HAProxy URL (between scenarios, never during one)."""
    url = cluster.haproxy_url("mgmtd")
    if d.env.get("MGMTD_STORE_POSTGRES_URL", d.pg_store.url) == url:
        return
    d.stop_ok()
    d.env["MGMTD_STORE_POSTGRES_URL"] = url
    d.start()


class Ledger:
    """What the clients were told, the only facts the checks rely on."""

    def __init__(self):
        self.lock = threading.Lock()
        self.t0 = None
        self.events = []  # (monotonic time, replica index, ok?) of every change
        self.databases = {}  # name -> "made" (200), "unsure" (503) or "refused" (409)
        self.contested = {}  # name -> number of 200s among racing creates
        self.tokens = {}  # description -> (id, secret) or None when answered 503
        self.db_tokens = {}  # description -> (id, secret) or None when answered 503
        self.revoked = {}  # token id -> (kind, secret): revocation answered 204
        self.unsure_revokes = {}  # token id -> (kind, secret): answered 503
        self.accepted_revoked = []  # a revoked token that worked: never allowed
        self.unexpected = []  # any other answer
        self.hung = []  # no answer within CLIENT_TIMEOUT

    def note(self, i, ok):
        with self.lock:
            self.events.append((time.monotonic(), i, ok))


class Client:
    """One load thread: its own HTTP session, the replicas in turn."""

    def __init__(self, rs, ledger, admin, stop, seq):
        self.rs, self.ledger, self.admin, self.stop, self.seq = rs, ledger, admin, stop, seq
        self.http = requests.Session()
        self.n = 0

    def call(self, i, method, path, token, **kw):
        """(status, json or None); None status when the request failed to complete."""
        r = self.rs[i]
        try:
            resp = self.http.request(method, r.url(path), timeout=CLIENT_TIMEOUT,
                                     headers={"Authorization": "Bearer " + token}, **kw)
        except requests.Timeout:
            with self.ledger.lock:
                self.ledger.hung.append((method, path))
            return None, None
        except requests.RequestException as e:
            with self.ledger.lock:
                self.ledger.unexpected.append((method, path, repr(e)))
            return None, None
        try:
            body = resp.json() if resp.content else None
        except ValueError:
            body = None
        if resp.status_code == 503:
            msg = (body or {}).get("message", "")
            if "database" not in msg and "store" not in msg:
                with self.ledger.lock:
                    self.ledger.unexpected.append((method, path, 503, msg))
        return resp.status_code, body

    def change(self, i, method, path, ok_codes, **kw):
        status, body = self.call(i, method, path, self.admin, **kw)
        if status in ok_codes:
            self.ledger.note(i, True)
        elif status == 503:
            self.ledger.note(i, False)
        return status, body

    def other(self, status, what, ok=()):
        """Records an answer that is neither in ok, nor a 503, nor no answer (recorded)."""
        if status not in ok + (503, None):
            with self.ledger.lock:
                self.ledger.unexpected.append((what, status))

    def run(self):
        while not self.stop.is_set():
            self.n += 1
            i = (self.seq + self.n) % len(self.rs)
            j = (i + 1) % len(self.rs)
            tag = "fo-%s" % uuid.uuid4().hex[:12]
            self.create_database(i, tag)
            self.create_token(i, j, tag, "mgmt")
            self.create_token(i, j, tag, "db")
            if self.n % 4 == 0:
                self.race(tag)

    def create_database(self, i, name):
        status, _ = self.change(i, "POST", databases_path(), (200,), json={"name": name})
        with self.ledger.lock:
            self.ledger.databases[name] = {200: "made", 503: "unsure"}.get(status, "other")
        self.other(status, "database create", (200,))

    def create_token(self, i, j, tag, kind):
        """A management ("mgmt") or database ("db") token through replica i, and
        half of them revoked through replica j."""
        body = {"description": tag}
        if kind == "db":
            with self.ledger.lock:
                made = [n for n, s in self.ledger.databases.items() if s == "made"]
            body["permissions"] = [{"action": "read",
                                    "resource": random.choice(made) if made else "*"}]
        path = tokens_path if kind == "mgmt" else db_tokens_path
        book = self.ledger.tokens if kind == "mgmt" else self.ledger.db_tokens
        status, made = self.change(i, "POST", path(), (200,), json=body)
        with self.ledger.lock:
            book[tag] = (made["id"], made["accessToken"]) if status == 200 else None
        if status != 200:
            self.other(status, kind + " token create")
        elif random.random() < 0.5:
            self.revoke(j, kind, made["id"], made["accessToken"], path(token_id=made["id"]))

    def revoke(self, i, kind, token_id, secret, path):
        status, _ = self.change(i, "DELETE", path, (204,))
        with self.ledger.lock:
            if status == 204:
                self.ledger.revoked[token_id] = (kind, secret)
            else:
                self.ledger.unsure_revokes[token_id] = (kind, secret)
        self.other(status, "revoke", (204,))

    def race(self, tag):
        """The same new name through both replicas at once: one 200 at most."""
        name = tag + "-race"
        results = [None, None]

        def one(k):
            results[k] = self.call(k, "POST", databases_path(), self.admin, json={"name": name})[0]

        ts = [threading.Thread(target=one, args=(k,)) for k in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        with self.ledger.lock:
            self.ledger.contested[name] = results.count(200)
            for s in results:
                if s not in (200, 409, 503, None):
                    self.ledger.unexpected.append(("race", s))


def checker(rs, ledger, stop):
    """Uses revoked tokens, all the time, on every replica: any success is a violation."""
    http = requests.Session()
    while not stop.is_set():
        with ledger.lock:
            revoked = list(ledger.revoked.items())
        if not revoked:
            time.sleep(0.05)
            continue
        for token_id, (kind, secret) in random.sample(revoked, min(4, len(revoked))):
            for r in rs:
                try:
                    if kind == "mgmt":
                        resp = http.get(r.url(clusters_path()), timeout=CLIENT_TIMEOUT,
                                        headers={"Authorization": "Bearer " + secret})
                        bad = resp.status_code == 200
                    else:
                        resp = http.get(r.url(authorize_path()), timeout=CLIENT_TIMEOUT,
                                        params={"database": "anything", "action": "read"},
                                        headers={"Authorization": "Bearer " + secret})
                        bad = resp.status_code in (200, 204, 403)
                except requests.RequestException:
                    continue
                if bad:
                    with ledger.lock:
                        ledger.accepted_revoked.append((kind, token_id, r.name,
                                                        resp.status_code))


def ready_watch(r, stop, seen):
    """Records /ready's answers of one replica: (monotonic time, status)."""
    http = requests.Session()
    while not stop.is_set():
        try:
            status = http.get(r.url("/ready"), timeout=CLIENT_TIMEOUT).status_code
        except requests.RequestException:
            status = None
        seen.append((time.monotonic(), status))
        time.sleep(0.1)


def wrote_since(ledger, i, since):
    with ledger.lock:
        return any(ok for t, k, ok in ledger.events if k == i and t >= since)


def writable_again(ledger, i):
    """Seconds from the fault to the first success of replica i after its last 503
    (0 when none failed)."""
    with ledger.lock:
        events = [(t, ok) for t, k, ok in ledger.events if k == i and t >= ledger.t0]
    failures = [t for t, ok in events if not ok]
    if not failures:
        return 0.0
    return min(t for t, ok in events if ok and t > failures[-1]) - ledger.t0


def listing(r, path):
    """A list through replica r, retried while it answers 503."""
    resp = None
    for _ in range(100):
        resp = r.get(path, SEEDED, timeout=CLIENT_TIMEOUT)
        if resp.status_code != 503:
            break
        time.sleep(0.2)
    assert_status(resp, 200)
    return resp.json()


def verify(rs, ledger):
    """The checks after a fault; returns the counts of 503'd changes made and not."""
    r = rs[1]
    assert not ledger.hung, "requests got no answer within %d s: %s" % (CLIENT_TIMEOUT,
                                                                         ledger.hung[:5])
    assert not ledger.unexpected, ledger.unexpected[:5]
    assert not ledger.accepted_revoked, ledger.accepted_revoked[:5]
    assert all(n <= 1 for n in ledger.contested.values()), \
        [n for n, c in ledger.contested.items() if c > 1]
    report = {"made": 0, "not made": 0}

    dbs = [d["name"] for d in listing(r, databases_path())]
    assert len(dbs) == len(set(dbs)), "a name is there twice"
    for name, state in ledger.databases.items():
        if state == "made":
            assert name in dbs, "acknowledged database %s lost" % name
        elif state == "unsure":
            report["made" if name in dbs else "not made"] += 1
    for name, wins in ledger.contested.items():
        if wins:
            assert name in dbs, "acknowledged database %s lost" % name

    for kind, path, book in (("mgmt", tokens_path(), ledger.tokens),
                             ("db", db_tokens_path() + "?includeRevoked=true", ledger.db_tokens)):
        listed = {t["description"]: t for t in listing(r, path)}
        for tag, made in book.items():
            if made is None:
                report["made" if tag in listed else "not made"] += 1
                continue
            assert tag in listed, "acknowledged %s token %s lost" % (kind, tag)
            token_id = made[0]
            if token_id in ledger.revoked:
                assert listed[tag].get("revokedAt"), "acknowledged revocation of %s lost" % tag
            elif token_id in ledger.unsure_revokes:
                report["made" if listed[tag].get("revokedAt") else "not made"] += 1
    return report


def scenario(cluster, rs, capsys, name, fault, heal):
    """Load on both replicas, the fault, recovery, the checks, then heal()."""
    cluster.wait_settled()
    for r in rs:
        wait_for(lambda: r.get("/ready").status_code == 200, 60, "/ready before " + name, r)
    admin = rs[0].jwt("admin")
    ledger, stop, stop_watch = Ledger(), threading.Event(), threading.Event()
    clients = [Client(rs, ledger, admin, stop, k) for k in range(3)]
    seen = [[] for _ in rs]
    threads = [threading.Thread(target=c.run) for c in clients]
    threads.append(threading.Thread(target=checker, args=(rs, ledger, stop)))
    threads += [threading.Thread(target=ready_watch, args=(r, stop_watch, s))
                for r, s in zip(rs, seen)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len([n for n, s in ledger.databases.items() if s == "made"]) >= 15,
                 60, "load before the fault")
        old = cluster.leader()
        ledger.t0 = time.monotonic()
        fault()
        # the fault is over once another node leads and says so
        wait_for(lambda: cluster.leader() not in (None, old), 90, "a new leader after " + name)
        wait_for(lambda: cluster.is_primary(cluster.leader()), 30, "the new leader's /primary")
        led = time.monotonic()
        for i, r in enumerate(rs):
            wait_for(lambda: wrote_since(ledger, i, led), 90,
                     "%s writing again after %s" % (r.name, name), r)
            wait_for(lambda: r.get("/ready").status_code == 200, 60, "/ready after " + name, r)
        after = len(ledger.events)
        wait_for(lambda: len(ledger.events) >= after + 30, 60, "load after " + name)
    finally:
        stop.set()
        for t in threads[:len(clients) + 1]:
            t.join(timeout=CLIENT_TIMEOUT + 10)
        stop_watch.set()
        for t in threads[len(clients) + 1:]:
            t.join(timeout=CLIENT_TIMEOUT + 10)
    assert all(r.running for r in rs), "a replica exited"
    report = verify(rs, ledger)
    times = [writable_again(ledger, i) for i in range(len(rs))]
    not_ready = []
    for s in seen:
        bad = [t for t, status in s if t >= ledger.t0 and status != 200]
        not_ready.append(max(bad) - min(bad) if bad else 0.0)
    acked = sum(1 for _, _, ok in ledger.events if ok)
    failed = sum(1 for _, _, ok in ledger.events if not ok)
    with capsys.disabled():
        print("\nfailover %s: writable again after %s s; /ready not 200 for %s s; %d changes "
              "acknowledged, %d answered 503 (of those, made: %d, not made: %d), none lost"
              % (name, " / ".join("%.1f" % t for t in times),
                 " / ".join("%.1f" % t for t in not_ready), acked, failed,
                 report["made"], report["not made"]))
    heal()
    nudges = cluster.nudges
    cluster.wait_settled(timeout=120)
    if cluster.nudges != nudges:
        with capsys.disabled():
            print("failover %s: afterwards Patroni left the leader without a synchronous "
                  "standby until synchronous_mode was turned off and on" % name)


@pytest.mark.plain_pass_only
def test_sigkill_of_the_primary_node(cluster, pair, capsys):
    old = cluster.leader()
    scenario(cluster, pair, capsys, "SIGKILL of Patroni and PostgreSQL",
             lambda: cluster.kill(old, "both"), lambda: cluster.restart(old))


@pytest.mark.plain_pass_only
def test_switchover(cluster, pair, capsys):
    scenario(cluster, pair, capsys, "switchover", lambda: cluster.switchover(), lambda: None)


@pytest.mark.plain_pass_only
def test_sigkill_of_patroni_alone(cluster, pair, capsys):
    """The primary's PostgreSQL lives on without its Patroni, still writable in its own
    eyes while a standby is promoted: only HAProxy's check of Patroni keeps clients away
    from it (a multi-host URL keeps choosing it: docs/scaling.md)."""
    for r in pair:
        through_haproxy(cluster, r)
    old = cluster.leader()
    scenario(cluster, pair, capsys, "SIGKILL of Patroni alone",
             lambda: cluster.kill(old, "patroni"), lambda: cluster.restart(old))


@pytest.mark.plain_pass_only
def test_sigstop_of_the_primary_past_the_ttl(cluster, pair, capsys):
    for r in pair:
        through_haproxy(cluster, r)
    old = cluster.leader()

    def fault():
        cluster.pause(old)
        # longer than the TTL, and until another node leads
        wait_for(lambda: (cluster.leader() or old) is not old, 60, "a new leader")
        time.sleep(patroni.TTL)

    scenario(cluster, pair, capsys, "SIGSTOP of the primary", fault,
             lambda: cluster.resume(old))


@pytest.mark.plain_pass_only
def test_a_replica_given_only_a_standby_does_not_start(cluster, pair, tmp_path):
    """mgmtd connects to a primary only (target_session_attrs=primary unless the URL
    says otherwise): a standby's reads may miss a revocation the primary has
    acknowledged. Given a standby alone, it does not start."""
    cluster.wait_settled()
    standby = cluster.sync_standby()
    url = "postgresql://%s@127.0.0.1:%d/mgmtd" % (patroni.SUPERUSER, standby.port)
    env = child_env(MGMTD_STORE_POSTGRES_URL=url,
                    MGMTD_STORE_TOKEN_KEY_FILE=str(pair[0].data_dir / "token.key"))
    res = run_cli([pair[0].bin, "serve", "--config", str(pair[0].config_path), "--data-dir",
                   str(tmp_path / "data"), "--listen", "127.0.0.1:0"], timeout=60, env=env)
    assert res.returncode == 1, describe_cli(res)
    assert "cannot connect to PostgreSQL" in res.stderr
    assert "hot standby" in res.stderr
