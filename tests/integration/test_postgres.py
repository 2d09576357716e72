"""PostgreSQL: several replicas on one database, outages, refusals (docs/scaling.md).

Replicas are daemons that share one database and one token key file
(daemon_factory(replica_of=first)). Every decision must be the database's, so
the tests race replicas against each other and read the outcome back from the
database itself; a replica never remembers anything that another could change.
The outage tests stop a PostgreSQL server of their own, so that the suite's
shared one stays up for the others.
"""
import os
import random
import threading
import time

import pytest

from conftest import (
    ACCOUNT_A,
    HTTP_TIMEOUT,
    START_TIMEOUT,
    PgStore,
    assert_error,
    assert_no_content,
    assert_status,
    clusters_path,
    databases_path,
    db_tokens_path,
    default_seed,
    describe_cli,
    make_mgmt_token,
    ok_json,
    pgserver,
    run_cli,
    tokens_path,
    unique_email,
    unique_name,
    users_path,
    wait_for,
)

pytestmark = pytest.mark.postgres_only

SEEDED = make_mgmt_token()


def replica_seed():
    """The default seed plus a management token every replica knows."""
    seed = default_seed()
    seed["managementTokens"] = [{"accountId": ACCOUNT_A, "description": "replicas",
                                 "accessToken": SEEDED, "createdBy": "admin@example.com"}]
    return seed


def replicas(daemon_factory, n, seed=None, **kw):
    """n daemons on one database and one token key; the first starts first (it makes the key)."""
    seed = replica_seed() if seed is None else seed
    first = daemon_factory(seed=seed, **kw)
    return [first] + [daemon_factory(seed=seed, replica_of=first, **kw) for _ in range(n - 1)]


def admin_count(d, account=ACCOUNT_A):
    """Counted by the database itself, not through any replica."""
    return int(d.pg_store.psql("SELECT count(*) FROM users WHERE account_id = '%s' "
                               "AND grp = 'admin'" % account).strip())


def together(*calls):
    """Runs the calls in threads released at the same moment; returns their results."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=HTTP_TIMEOUT * 3)
        assert not t.is_alive()
    return results


# ---------------------------------------------------------------------------
# Replicas agree

@pytest.mark.parametrize("n", [2, 3])
def test_a_token_made_on_one_replica_works_on_every_other(daemon_factory, n):
    rs = replicas(daemon_factory, n)
    for maker in rs:
        t = maker.create_token("made on %s" % maker.name)
        db = maker.create_database()
        dbt = maker.create_db_token([("read", db["name"])])
        for r in rs:
            assert_status(r.get(tokens_path(), t["accessToken"]), 200)
            assert r.get_token(t["id"])["description"] == "made on %s" % maker.name
            assert r.authorize(dbt["accessToken"], db["name"], "read").status_code == 204


@pytest.mark.parametrize("n", [2, 3])
def test_a_revocation_through_one_replica_is_refused_by_all_at_once(daemon_factory, n):
    rs = replicas(daemon_factory, n)
    admin = rs[0].jwt("admin")
    for rounds in range(3):
        t = rs[0].create_token("to revoke %d" % rounds)
        db = rs[0].create_database()
        dbt = rs[0].create_db_token([("read", db["name"])])
        # warm whatever a replica might keep: every replica uses both tokens first
        for r in rs:
            for _ in range(3):
                assert_status(r.get(tokens_path(), t["accessToken"]), 200)
                assert r.authorize(dbt["accessToken"], db["name"], "read").status_code == 204
        revoker = rs[rounds % n]
        assert_no_content(revoker.delete(tokens_path(token_id=t["id"]), admin))
        assert_no_content(revoker.delete(db_tokens_path(token_id=dbt["id"]), admin))
        # No cache stands between a replica and the database: the very next request to
        # any replica is refused (stricter than the one-second bound of docs/scaling.md).
        for r in rs:
            assert_error(r.get(tokens_path(), t["accessToken"]), 401, "revoked")
            assert r.authorize(dbt["accessToken"], db["name"], "read").status_code == 401
        first = rs[0].get_token(t["id"])["revokedAt"]
        # a second revocation through another replica keeps the first revokedAt
        other = rs[(rounds + 1) % n]
        assert_no_content(other.delete(tokens_path(token_id=t["id"]), admin))
        for r in rs:
            assert r.get_token(t["id"])["revokedAt"] == first


def test_concurrent_creates_of_one_name_through_two_replicas_give_one_200(daemon_factory):
    a, b = replicas(daemon_factory, 2)
    jwt_a, jwt_b = a.jwt("admin"), b.jwt("admin")
    for _ in range(15):
        name = unique_name("race")
        results = together(
            lambda: a.post(databases_path(), jwt_a, json={"name": name}),
            lambda: b.post(databases_path(), jwt_b, json={"name": name}),
            lambda: a.post(databases_path(), jwt_a, json={"name": name}),
            lambda: b.post(databases_path(), jwt_b, json={"name": name}),
        )
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409, 409, 409], [r.text for r in results]
        for r in results:
            if r.status_code == 409:
                assert_error(r, 409, "already exists")
        live = a.pg_store.psql("SELECT count(*) FROM databases WHERE name = '%s' "
                               "AND deleted_at IS NULL" % name).strip()
        assert live == "1"


def test_concurrent_demotions_of_the_last_two_admins_leave_one(daemon_factory):
    a, b = replicas(daemon_factory, 2)
    # management tokens may change users (CONTRACT 2), so no admin's JWT is needed
    admins = [u for u in ok_json(a.get(users_path(), SEEDED)) if u["group"] == "admin"]
    assert len(admins) == 2 and admin_count(a) == 2, admins
    for rounds in range(12):
        first, second = (admins if rounds % 2 else admins[::-1])
        if rounds % 3 == 2:
            results = together(
                lambda: a.delete(users_path(user_id=first["id"]), SEEDED),
                lambda: b.patch(users_path(user_id=second["id"]), SEEDED,
                                json={"group": "member"}))
        else:
            results = together(
                lambda: a.patch(users_path(user_id=first["id"]), SEEDED,
                                json={"group": "auditor"}),
                lambda: b.patch(users_path(user_id=second["id"]), SEEDED,
                                json={"group": "member"}))
        ok = [r for r in results if r.status_code in (200, 204)]
        refused = [r for r in results if r.status_code == 409]
        assert len(ok) == 1 and len(refused) == 1, [(r.status_code, r.text) for r in results]
        assert_error(refused[0], 409, "without an admin")
        assert admin_count(a) == 1
        # make two admins again for the next round (the deleted one comes back as new)
        users = ok_json(b.get(users_path(), SEEDED))
        by_id = {u["id"]: u for u in users}
        admins = []
        for u in (first, second):
            if u["id"] not in by_id:
                u = ok_json(a.post(users_path(), SEEDED, json={
                    "email": unique_email("admin"), "group": "admin"}))
            elif by_id[u["id"]]["group"] != "admin":
                u = ok_json(a.patch(users_path(user_id=u["id"]), SEEDED,
                                    json={"group": "admin"}))
            admins.append(u)
        assert admin_count(a) == 2


def test_replicas_starting_together_migrate_and_seed_once(daemon_factory):
    first = daemon_factory(seed=replica_seed(), start=False)
    # the key must exist before the replicas read it; any one of them may migrate
    first.start()
    first.stop_ok()
    # back to an empty database: every table of every migration, bookkeeping included
    first.pg_store.psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    rs = [first] + [daemon_factory(seed=replica_seed(), replica_of=first, start=False)
                    for _ in range(2)]
    errors = []

    def start(d):
        try:
            d.start()
        except BaseException as e:  # pytest.fail raises a BaseException
            errors.append("%s: %s" % (d.name, e))

    threads = [threading.Thread(target=start, args=(d,)) for d in rs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=START_TIMEOUT * 3)
    assert not errors, errors
    applied = sum(d.log_since_start().count("applied PostgreSQL migration") for d in rs)
    assert applied == len(os.listdir(os.path.join(os.path.dirname(__file__), "..", "..",
                                                  "schema", "postgres")))
    assert first.pg_store.psql("SELECT count(*) FROM users").strip() == str(
        len(default_seed()["users"]))
    assert first.pg_store.psql("SELECT count(*) FROM management_tokens").strip() == "1"
    for d in rs:
        assert_status(d.get(tokens_path(), SEEDED), 200)


def burst(call, clients=6, each=10):
    """Status codes of clients x each concurrent calls: enough to need every pooled connection."""
    results, lock = [], threading.Lock()

    def client():
        for _ in range(each):
            r = call()
            with lock:
                results.append(r.status_code)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=HTTP_TIMEOUT * 3)
    return results


def describe_codes(codes):
    return {c: codes.count(c) for c in set(codes)}


def pooled_connections(d):
    """How many connections d holds to its database, as the database counts them."""
    return d.pg_store.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND application_name = 'mgmtd'").strip()


def test_a_small_pool_serves_more_requests_than_connections(daemon_factory):
    d = daemon_factory(seed=replica_seed(), config_extra="[store]\npostgres_pool = 1\n")
    results = burst(lambda: d.get(users_path(), SEEDED), clients=6, each=15)
    assert results == [200] * 90
    # one connection of the pool (and none left over from the start)
    assert pooled_connections(d) == "1"


def test_pooled_connections_of_a_stopped_database_are_replaced_not_failed(daemon_factory):
    """After a database restart, /ready says 200 once one connection works; the
    others in the pool still hold the old server's goodbye (its notice, then the end
    of the stream). A request that gets one of them must be served on a new
    connection, not answered 503. The last act on each connection is a write, whose
    COMMIT was waited for, so that nothing but the goodbye is left to read."""
    srv = pgserver.PgServer().start()
    try:
        d = daemon_factory(seed=replica_seed(), pg_store=PgStore(srv),
                           config_extra="[server]\nthreads = 6\n[store]\npostgres_pool = 3\n")

        def create_database():
            return d.post(databases_path(), SEEDED, json={"name": unique_name()})

        # Creates wait behind a lock, so that each one holds a connection of its own.
        locker = threading.Thread(target=d.pg_store.psql, args=(
            "BEGIN; LOCK TABLE databases IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1.5); COMMIT",))
        locker.start()
        wait_for(lambda: d.pg_store.psql("SELECT count(*) FROM pg_locks WHERE mode = "
                                         "'AccessExclusiveLock' AND relation = "
                                         "'databases'::regclass").strip() == "1",
                 10, "the lock on databases")
        created = []
        blocked = threading.Thread(target=lambda: created.extend(burst(create_database, each=1)))
        blocked.start()
        wait_for(lambda: pooled_connections(d) == "3", 10, "three pooled connections", d)
        blocked.join(timeout=HTTP_TIMEOUT * 2)
        locker.join(timeout=HTTP_TIMEOUT)
        assert created == [200] * 6, describe_codes(created)

        srv.stop("immediate")
        srv.start()
        wait_for(lambda: d.get("/ready").status_code == 200, 30, "/ready again", d)
        results = burst(lambda: d.get(users_path(), SEEDED))
        assert results == [200] * len(results), describe_codes(results)
        assert "closed an idle PostgreSQL connection" in d.log_since_start()
        d.stop_ok()
    finally:
        srv.remove()


def test_offline_commands_work_on_the_shared_database(daemon_factory):
    a, b = replicas(daemon_factory, 2)
    email = unique_email("offline")
    res = b.cli("user", "add", "--account", ACCOUNT_A, "--email", email, "--group", "member")
    assert res.returncode == 0, describe_cli(res)
    assert email in [u["email"] for u in ok_json(a.get(users_path(), SEEDED))]
    res = a.cli("management", "create", "--account", ACCOUNT_A, "--as", "admin@example.com",
                "--description", "by cli", "--format", "json")
    assert res.returncode == 0, describe_cli(res)


# ---------------------------------------------------------------------------
# Refusals at start

def test_a_replica_with_another_token_key_refuses_to_start(daemon_factory, tmp_path):
    first = daemon_factory()
    other = daemon_factory(pg_store=first.pg_store, token_key_file=tmp_path / "other.key",
                           start=False)
    res = run_cli(other.serve_argv(), cwd=other.workdir, timeout=10)
    assert res.returncode == 1, describe_cli(res)
    assert "token key is not the one the database was set up with" in res.stderr, \
        describe_cli(res)
    assert "token_key_file" in res.stderr
    # nor may an offline command issue tokens with it
    res = other.cli("management", "create", "--account", ACCOUNT_A, "--as", "admin@example.com",
                    "--description", "wrong key")
    assert res.returncode == 1 and "fingerprint" in res.stderr, describe_cli(res)
    # the database keeps a fingerprint, never the key
    key = (first.data_dir / "token.key").read_bytes()
    stored = first.pg_store.psql("SELECT value FROM mgmtd_settings")
    assert stored.startswith("blake2b:") and key.hex() not in stored
    assert_status(first.get(clusters_path(), first.jwt()), 200)


def test_backup_restore_and_verify_point_at_the_database_tools(daemon_factory, tmp_path):
    d = daemon_factory()
    for args in (["backup", "--to", str(tmp_path / "b.db")],
                 ["restore", "--from", str(tmp_path / "b.db")], ["verify"]):
        res = d.cli(*args)
        assert res.returncode == 1, describe_cli(res)
        assert "pg_dump" in res.stderr and "backend = postgres" in res.stderr, describe_cli(res)
    assert not (tmp_path / "b.db").exists()


def test_a_database_with_a_newer_schema_is_refused(daemon_factory):
    d = daemon_factory()
    d.stop_ok()
    d.pg_store.psql("INSERT INTO mgmtd_schema (version, name, applied_at) "
                    "VALUES (9999, '9999_future.sql', 0)")
    res = run_cli(d.serve_argv(), cwd=d.workdir, timeout=10)
    assert res.returncode == 1, describe_cli(res)
    assert "schema version 9999, newer than this mgmtd knows" in res.stderr, describe_cli(res)


def test_an_unreachable_database_stops_the_start_with_a_message(daemon_factory):
    srv = pgserver.PgServer().start()
    store = PgStore(srv)
    srv.stop()
    try:
        d = daemon_factory(pg_store=store, start=False)
        res = run_cli(d.serve_argv(), cwd=d.workdir, timeout=20)
        assert res.returncode == 1, describe_cli(res)
        assert "cannot connect to PostgreSQL ([store] postgres_url)" in res.stderr
        assert "Connection refused" in res.stderr or "connection" in res.stderr.lower()
    finally:
        srv.remove()


# ---------------------------------------------------------------------------
# Where the connection comes from: libpq's environment and service file

def test_postgres_url_from_the_environment(daemon_factory):
    d = daemon_factory(start=False)
    url = d.pg_store.url
    # the file names a database that does not exist; the environment wins
    d.config_path.write_text(d.config_path.read_text().replace(url, url + "_absent"))
    d.env["MGMTD_STORE_POSTGRES_URL"] = url
    d.start()
    assert_status(d.get(clusters_path(), d.jwt()), 200)


def test_libpq_environment_and_service_file(daemon_factory, tmp_path):
    d = daemon_factory(start=False)
    srv, name = d.pg_store.server, d.pg_store.name
    text = d.config_path.read_text().replace("postgres_url = %s\n" % d.pg_store.url,
                                             "postgres_url =\n")
    d.config_path.write_text(text)
    # PG* variables alone, through the Unix socket in the server's directory
    d.env.update(PGHOST=srv.dir, PGPORT=str(srv.port), PGUSER=srv.user, PGDATABASE=name)
    d.start()
    assert_status(d.get(clusters_path(), d.jwt()), 200)
    d.stop_ok()
    # a service file named by the URL
    service = tmp_path / "pg_service.conf"
    service.write_text("[mgmtd-test]\nhost=127.0.0.1\nport=%d\nuser=%s\ndbname=%s\n"
                       % (srv.port, srv.user, name))
    for k in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE"):
        del d.env[k]
    d.env["PGSERVICEFILE"] = str(service)
    d.config_path.write_text(text.replace("postgres_url =\n",
                                          "postgres_url = postgresql:///?service=mgmtd-test\n"))
    d.start()
    assert_status(d.get(clusters_path(), d.jwt()), 200)


# ---------------------------------------------------------------------------
# The database goes away and comes back

class Ledger:
    """What clients were told (the only facts a check may rely on)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.created = {}     # id -> secret, answered 200
        self.revoked = set()  # answered 204
        self.unsure = set()   # a DELETE without a clear answer
        self.other = []       # answers that are neither success nor a clean 503


def load(rs, ledger, stop, admin):
    """Creates and revokes through the replicas in turn until stop is set."""
    i = 0
    while not stop.is_set():
        r = rs[i % len(rs)]
        i += 1
        try:
            resp = r.post(tokens_path(), admin, json={"description": "load %d" % i},
                          timeout=HTTP_TIMEOUT)
        except Exception:
            time.sleep(0.01)
            continue
        if resp.status_code == 200:
            body = resp.json()
            with ledger.lock:
                ledger.created[body["id"]] = body["accessToken"]
            if random.random() < 0.5:
                try:
                    dr = rs[i % len(rs)].delete(tokens_path(token_id=body["id"]), admin,
                                                timeout=HTTP_TIMEOUT)
                    code = dr.status_code
                except Exception:
                    code = None
                with ledger.lock:
                    (ledger.revoked if code == 204 else ledger.unsure).add(body["id"])
                    if code not in (204, 503, None):
                        ledger.other.append((code, dr.text))
        elif resp.status_code == 503:
            message = resp.json().get("message", "")
            if "database" not in message and "store" not in message:
                with ledger.lock:
                    ledger.other.append((503, resp.text))
            time.sleep(0.01)
        else:
            with ledger.lock:
                ledger.other.append((resp.status_code, resp.text))


def check_ledger(rs, ledger):
    for token_id, secret in ledger.created.items():
        for r in rs:
            got = r.get(clusters_path(), secret)
            if token_id in ledger.revoked:
                assert_error(got, 401)
            elif token_id not in ledger.unsure:
                assert got.status_code == 200, (token_id, got.status_code, got.text)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_database_stop_and_start_under_load(daemon_factory, mode):
    srv = pgserver.PgServer().start()
    try:
        store = PgStore(srv)
        first = daemon_factory(seed=replica_seed(), pg_store=store)
        rs = [first, daemon_factory(seed=replica_seed(), replica_of=first)]
        admin = first.jwt("admin")
        ledger, stop = Ledger(), threading.Event()
        workers = [threading.Thread(target=load, args=(rs, ledger, stop, admin))
                   for _ in range(3)]
        for w in workers:
            w.start()
        try:
            wait_for(lambda: len(ledger.created) >= 20, 30, "traffic before the stop")
            srv.stop(mode)
            for r in rs:
                wait_for(lambda: r.get("/ready").status_code == 503, 10, "/ready to say 503")
                assert "database" in r.get("/ready").json()["message"]
                # reads and writes are refused with the reason, never answered from memory
                assert_error(r.get(tokens_path(), SEEDED), 503, "database")
                assert_error(r.post(tokens_path(), admin, json={"description": "x"}), 503)
            time.sleep(0.3)  # the load meets the outage for a while
            srv.start()
            for r in rs:
                wait_for(lambda: r.get("/ready").status_code == 200, 30,
                         "/ready to say 200 again")
            wait_for(lambda: len(ledger.created) >= 40, 30, "traffic after the restart")
        finally:
            stop.set()
            for w in workers:
                w.join(timeout=HTTP_TIMEOUT * 3)
        assert not ledger.other, ledger.other[:5]
        assert ledger.revoked, "nothing was revoked"
        # the replicas were never restarted, and agree on every acknowledged write
        assert all(r.running for r in rs)
        check_ledger(rs, ledger)
        for r in rs:
            assert "the PostgreSQL connection is back" in r.log_since_start()
    finally:
        for d in daemon_factory.daemons:
            if d.running:
                d.stop_ok()
        srv.remove()


def test_the_dev_idp_pages_give_their_connection_back(daemon_factory):
    """With one pooled connection, every page and grant of the dev IdP (device
    verification, code flow, email grant) gives its connection back: a request after
    them is still served, and one connection is all the replica holds."""
    import test_dev_idp_authorize as code_flow
    from verifypage import approve, open_page

    d = daemon_factory(seed=replica_seed(), idp_section=False,  # the dev IdP's own users
                       config_extra="[store]\npostgres_pool = 1\n"
                       "[dev_idp]\nenabled = true\n[ui]\nenabled = true\nclient_id = mgmtd-ui\n")
    for _ in range(4):
        g = ok_json(d.post("/oauth/device/code", data={"client_id": "mgmtctl"}))
        assert open_page(g["verification_uri"])[0].status_code == 200
        assert approve(g["verification_uri_complete"], "admin@example.com").status_code == 200
        verifier, challenge = code_flow.pkce()
        params = code_flow.auth_params(d, challenge)
        assert d.get("/oauth/authorize", params=params).status_code == 200
        code = code_flow.code_from(d, code_flow.pick(d, params, login="%s admin@example.com"
                                                     % ACCOUNT_A))
        ok_json(code_flow.exchange(d, code, verifier))
        ok_json(d.post("/oauth/token", data={"email": "admin@example.com"}))
    ok_json(d.get(users_path(), SEEDED))
    assert pooled_connections(d) == "1"
