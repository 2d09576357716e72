"""The test harness's named snapshots (issue 25, docs/testing.md "Snapshots", docs/api.md
"Test harness"): the whole store or one tenant's account saved and restored atomically, caches
included, exported as a seed file that --seed loads; on both backends and across PostgreSQL
replicas."""

import json
import time

import pytest

from conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    SLOWDOWN,
    assert_error,
    assert_no_content,
    assert_status,
    databases_path,
    db_tokens_path,
    describe_cli,
    ok_json,
    run_cli,
    tokens_path,
)

TESTING = "[testing]\nenabled = true\n"
WRITER = {"description": "writer", "permissions": [{"action": "write", "resource": "mydb"}]}
PG_BOUND_S = 1.2  # as test_credcache: the oldest a PostgreSQL cache entry can be, with room


@pytest.fixture
def harness(daemon_factory):
    return daemon_factory(config_extra=TESTING)


def take(d, name, **body):
    return ok_json(d.put("/_test/snapshots/%s" % name, json=body or None))


def restore(d, name):
    assert_no_content(d.post("/_test/snapshots/%s/restore" % name))


def names_of_databases(d, account=ACCOUNT_A):
    return {db["name"] for db in ok_json(d.get(databases_path(account), d.admin_of(account)))}


def authorize_often(d, token, database, times=6):
    """The same question several times: the credential cache holds the answer after it."""
    return {d.authorize(token, database, "write").status_code for _ in range(times)}


def test_restore_brings_back_every_row_and_the_caches_follow(harness):
    d = harness
    d.create_database("mydb")
    kept = d.create_db_token([("write", "mydb")], "kept")
    kept_mgmt = d.create_token("kept")
    assert authorize_often(d, kept["accessToken"], "mydb") == {204}
    summary = take(d, "base")
    assert summary["name"] == "base" and summary["rows"] > 0 and "accountId" not in summary

    # after the snapshot: a revocation, a new token, a new database, a deleted user's token
    assert_no_content(d.delete(db_tokens_path(token_id=kept["id"]), d.jwt("admin")))
    assert_no_content(d.delete(tokens_path(token_id=kept_mgmt["id"]), d.jwt("admin")))
    later = d.create_db_token([("write", "mydb")], "later")
    d.create_database("later")
    assert authorize_often(d, kept["accessToken"], "mydb") == {401}
    assert authorize_often(d, later["accessToken"], "mydb") == {204}

    restore(d, "base")
    # from the first request after the restore: the revoked token works again, the new one not
    assert authorize_often(d, kept["accessToken"], "mydb") == {204}
    assert authorize_often(d, later["accessToken"], "mydb") == {401}
    assert_status(d.get(tokens_path(), kept_mgmt["accessToken"]), 200)
    restored = names_of_databases(d)
    assert "later" not in restored and "mydb" in restored
    # the id counters were moved past the restored ids: a new database gets one of its own
    ids = {db["id"] for db in ok_json(d.get(databases_path(), d.jwt("admin")))}
    d.create_database("fresh")
    [fresh] = [db for db in ok_json(d.get(databases_path(), d.jwt("admin")))
               if db["name"] == "fresh"]
    assert fresh["id"] not in ids
    # a snapshot restores as often as asked
    d.create_database("again")
    restore(d, "base")
    assert names_of_databases(d) == restored


def test_a_tenants_snapshot_leaves_the_other_tenants_alone(harness):
    d = harness
    one = ok_json(d.post("/_test/tenants", json={"databases": [{"name": "mydb"}],
                                                  "databaseTokens": [WRITER]}))
    two = ok_json(d.post("/_test/tenants", json={"databases": [{"name": "mydb"}]}))

    def dbs(t):
        return {db["name"] for db in ok_json(d.get(
            "/api/v0/accounts/%s/clusters/%s/databases" % (t["accountId"], t["clusterId"]),
            t["managementToken"]["accessToken"]))}

    def make_db(t, name):
        ok_json(d.post("/api/v0/accounts/%s/clusters/%s/databases" % (t["accountId"],
                                                                     t["clusterId"]),
                       t["managementToken"]["accessToken"], json={"name": name}))

    summary = take(d, "one", accountId=one["accountId"])
    assert summary["accountId"] == one["accountId"]
    make_db(one, "after")
    make_db(two, "after")
    restore(d, "one")
    assert dbs(one) == {"mydb"}
    assert dbs(two) == {"mydb", "after"}
    writer = one["databaseTokens"][0]["accessToken"]
    assert_status(d.get("/api/v0/accounts/%s/clusters/%s/authorize" % (one["accountId"],
                                                                       one["clusterId"]),
                        writer, params={"database": "mydb", "action": "write"}), 204)
    # the restored tenant can still be reset as it was made
    make_db(one, "later")
    assert_no_content(d.post("/_test/tenants/%s/reset" % one["accountId"]))
    assert dbs(one) == {"mydb"}
    # a whole-store snapshot brings tenants back, with their reset
    take(d, "all")
    assert_no_content(d.delete("/_test/tenants/%s" % two["accountId"]))
    restore(d, "all")
    assert dbs(two) == {"mydb", "after"}
    assert_no_content(d.post("/_test/tenants/%s/reset" % two["accountId"]))
    assert dbs(two) == {"mydb"}


def test_names_listing_replacing_and_dropping(harness):
    d = harness
    for bad in ("a b", "x" * 65, "sem;colon", "%2e%2e", ".hidden", "-x"):
        assert_error(d.put("/_test/snapshots/%s" % bad), 400, "name")
    for method in ("GET", "DELETE"):
        assert_error(d.request(method, "/_test/snapshots/none"), 404, "no snapshot named none")
    assert_error(d.post("/_test/snapshots/none/restore"), 404, "no snapshot named none")
    assert_error(d.put("/_test/snapshots/x", json={"accountId": "99999999-9999-4999-8999-"
                                                                "999999999999"}), 404, "account")
    assert_error(d.put("/_test/snapshots/x", json={"accountId": "nope"}), 400, "accountId")
    assert_error(d.put("/_test/snapshots/x", json={"other": 1}), 400, "other")
    assert take(d, "9" + "a" * 63)["name"] == "9" + "a" * 63  # 64, a digit first: the bound
    assert_no_content(d.delete("/_test/snapshots/" + "9" + "a" * 63))
    first = take(d, "x")
    d.create_database("between")
    second = take(d, "x")  # the same name: replaced
    assert second["rows"] > first["rows"]
    b = take(d, "b", accountId=ACCOUNT_B)
    listed = ok_json(d.get("/_test/snapshots"))["snapshots"]
    assert [(s["name"], s.get("accountId")) for s in listed] == [("x", None), ("b", ACCOUNT_B)]
    assert listed[1]["rows"] == b["rows"]
    restore(d, "x")
    assert "between" in names_of_databases(d)
    assert_no_content(d.delete("/_test/snapshots/x"))
    assert_error(d.post("/_test/snapshots/x/restore"), 404)
    assert [s["name"] for s in ok_json(d.get("/_test/snapshots"))["snapshots"]] == ["b"]


def test_the_export_is_a_seed_file_that_loads(daemon_factory, tmp_path):
    seeded = TESTING + "seed = 4242\n"
    a = daemon_factory(config_extra=seeded, data_dir=":memory:")
    a.create_database("mydb")
    tok = a.create_db_token([("write", "mydb")], "exported")
    mgmt = a.create_token("exported")
    take(a, "golden")
    exported = a.get("/_test/snapshots/golden")
    assert exported.headers["Content-Type"].startswith("application/json")
    seed = exported.json()
    assert set(seed) == {"snapshot"} and seed["snapshot"]["format"] == 1
    # no secret in it: only keyed hashes
    for secret in (tok["accessToken"], mgmt["accessToken"]):
        assert secret not in exported.text and secret[-20:] not in exported.text
    # taken twice of the same state: the same bytes
    take(a, "again")
    assert a.get("/_test/snapshots/again").text == exported.text

    # another run with the same [testing] seed loads it with --seed: the tokens work there
    b = daemon_factory(seed=seed, config_extra=seeded, data_dir=":memory:")
    assert_status(b.authorize(tok["accessToken"], "mydb", "write"), 204)
    assert_status(b.get(tokens_path(), mgmt["accessToken"]), 200)
    assert "mydb" in {db["name"] for db in ok_json(b.get(databases_path(), b.jwt("admin")))}
    # and a reset there puts it back
    b.create_database("other")
    assert_no_content(b.post("/_test/reset"))
    assert "other" not in {db["name"] for db in ok_json(b.get(databases_path(), b.jwt("admin")))}

    # under another token key the tokens would all be dead: refused, saying why
    c = daemon_factory(seed=seed, config_extra=TESTING + "seed = 4243\n", data_dir=":memory:",
                       start=False)
    res = run_cli(c.serve_argv(), cwd=c.workdir, timeout=10 * SLOWDOWN)
    assert res.returncode != 0, describe_cli(res)
    assert "another token key" in res.stdout + res.stderr, describe_cli(res)


def test_a_lasting_store_starts_again_with_the_same_snapshot_seed(daemon_factory):
    """In the PostgreSQL pass a snapshot of PostgreSQL goes to SQLite (the next test does the
    reverse): rows move between backends."""
    _lasting_store(daemon_factory, None, "sqlite")


@pytest.mark.postgres_only
def test_a_snapshot_of_sqlite_loads_into_postgresql(daemon_factory):
    _lasting_store(daemon_factory, "sqlite", "postgres")


def _lasting_store(daemon_factory, from_backend, to_backend):
    a = daemon_factory(config_extra=TESTING, backend=from_backend)
    a.create_database("anydb")
    tok = a.create_db_token([("write", "*")], "kept")
    take(a, "s")
    seed = a.get("/_test/snapshots/s").json()
    # beside a's own token key, in a data directory (or PostgreSQL database) of its own
    b = daemon_factory(seed=seed, config_extra=TESTING, backend=to_backend,
                       token_key_file=a.token_key_file or (a.data_dir / "token.key"))
    assert b.backend == to_backend
    assert_status(b.authorize(tok["accessToken"], "anydb", "write"), 204)
    b.create_database("made-since")
    b.stop_ok()
    b.start()  # the snapshot's accounts are there: not loaded again, nothing lost
    assert "made-since" in {db["name"] for db in ok_json(b.get(databases_path(), b.jwt("admin")))}
    assert "not loaded again" in b.log_since_start()


def test_malformed_snapshot_seeds_stop_the_start(daemon_factory):
    a = daemon_factory(config_extra=TESTING)
    take(a, "s")
    good = a.get("/_test/snapshots/s").json()["snapshot"]
    cases = {
        "not an object": ("[1]", "must be an object"),
        "no format": (dict(good, format=2), "format"),
        "unknown table": (dict(good, tables={"nope": {"columns": ["id"], "rows": [["x"]]}}),
                          "tables.nope.rows[0]"),
        "short row": (dict(good, tables={"accounts": {"columns": ["id", "name", "created_at"],
                                                      "rows": [["x"]]}}),
                      "tables.accounts.rows[0]: not an array of 3 values"),
        "bad value": (dict(good, tables={"accounts": {"columns": ["id", "name", "created_at"],
                                                      "rows": [["x", [1], 1]]}}),
                      "tables.accounts.rows[0][1]"),
        "bad hex": (dict(good, tables={"accounts": {"columns": ["id", "name", "created_at"],
                                                    "rows": [["x", {"hex": "zz"}, 1]]}}),
                    "tables.accounts.rows[0][1]"),
    }
    for label, (snap, mention) in cases.items():
        d = daemon_factory(seed={"snapshot": json.loads(snap) if isinstance(snap, str)
                                 else snap}, config_extra=TESTING, start=False)
        res = run_cli(d.serve_argv(), cwd=d.workdir, timeout=10 * SLOWDOWN)
        assert res.returncode != 0, "%s: %s" % (label, describe_cli(res))
        assert mention in res.stdout + res.stderr, "%s: %s" % (label, describe_cli(res))


def test_refused_with_testing_off(daemon_factory):
    d = daemon_factory()
    for method, path in (("PUT", "/_test/snapshots/s"), ("GET", "/_test/snapshots/s"),
                         ("GET", "/_test/snapshots"), ("DELETE", "/_test/snapshots/s"),
                         ("POST", "/_test/snapshots/s/restore")):
        assert_status(d.request(method, path), 404)


@pytest.mark.postgres_only
def test_a_restore_through_one_replica_holds_on_the_other(daemon_factory):
    a = daemon_factory(config_extra=TESTING)
    b = daemon_factory(replica_of=a, config_extra=TESTING)
    a.create_database("anydb")
    tok = a.create_db_token([("write", "*")], "replicated")
    take(a, "base")
    assert_no_content(a.delete(db_tokens_path(token_id=tok["id"]), a.jwt("admin")))
    assert authorize_often(b, tok["accessToken"], "anydb") == {401}
    later = b.create_db_token([("write", "*")], "later")
    assert authorize_often(b, later["accessToken"], "anydb") == {204}
    restore(a, "base")
    deadline = time.monotonic() + PG_BOUND_S * SLOWDOWN
    while time.monotonic() < deadline:
        if (authorize_often(b, tok["accessToken"], "anydb") == {204} and
                authorize_often(b, later["accessToken"], "anydb") == {401}):
            break
    assert authorize_often(b, tok["accessToken"], "anydb") == {204}
    assert authorize_often(b, later["accessToken"], "anydb") == {401}
