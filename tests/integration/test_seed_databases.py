"""The seed's databases and databaseTokens sections (CONTRACT 9): applied, idempotent,
refused with the entry named."""

import os

import pytest

from conftest import (
    dated,
    ACCOUNT_A,
    ACCOUNT_B,
    CLUSTER_A,
    CLUSTER_B,
    assert_error,
    assert_no_content,
    b64url,
    databases_path,
    db_tokens_path,
    default_seed,
    describe_cli,
    ok_json,
    run_cli,
)

TEMPLATE = [{"type": "time", "value": "%Y"}, {"type": "tag", "value": "host"}]


def secret():
    return "apiv1_" + b64url(os.urandom(64))


def seed_with(databases=(), tokens=()):
    s = default_seed()
    s["databases"] = list(databases)
    s["databaseTokens"] = list(tokens)
    return s


def db_entry(name, **kw):
    e = {"accountId": ACCOUNT_A, "clusterId": CLUSTER_A, "name": name}
    e.update(kw)
    return e


def token_entry(secret_, perms=(("read", "mydb"),), **kw):
    e = {"accountId": ACCOUNT_A, "clusterId": CLUSTER_A, "description": "seeded",
         "accessToken": secret_,
         "permissions": [{"action": a, "resource": r} for a, r in perms]}
    e.update(kw)
    return e


def test_seeded_databases_and_tokens_work_and_reseeding_is_idempotent(daemon_factory):
    rw, ro = secret(), secret()
    seed = seed_with(
        [db_entry("mydb"), db_entry("big", maxTables=10, maxColumnsPerTable=20,
                                    retentionPeriod=3600000000000, partitionTemplate=TEMPLATE),
         {"accountId": ACCOUNT_B, "clusterId": CLUSTER_B, "name": "mydb"}],
        [token_entry(rw, (("read", "mydb"), ("write", "mydb"))),
         token_entry(ro, (("read", "*"),), description="reader",
                     expiresAt=dated("{y}-01-01T00:00:00+00:00"))])
    d = daemon_factory(seed=seed)
    admin = d.jwt("admin")
    dbs = ok_json(d.get(databases_path(), admin))
    assert [x["name"] for x in dbs] == ["mydb", "big"]
    assert dbs[1] == {"accountId": ACCOUNT_A, "clusterId": CLUSTER_A, "id": dbs[1]["id"], "name": "big",
                      "maxTables": 10, "maxColumnsPerTable": 20,
                      "retentionPeriod": 3600000000000, "partitionTemplate": TEMPLATE}
    assert [x["name"] for x in ok_json(d.get(databases_path(ACCOUNT_B), d.jwt("admin_b")))] == ["mydb"]
    tokens = ok_json(d.get(db_tokens_path(), admin))
    assert [t["description"] for t in tokens] == ["seeded", "reader"]
    assert tokens[1]["expiresAt"] == dated("{y}-01-01T00:00:00.000Z")
    assert d.authorize(rw, "mydb", "write").status_code == 204
    assert d.authorize(ro, "big", "read").status_code == 204
    assert d.authorize(ro, "big", "write").status_code == 403

    # Revoke one, restart with the same seed: nothing is added, the revoked stays so.
    assert_no_content(d.delete(db_tokens_path(token_id=tokens[0]["id"]), admin))
    before = ok_json(d.get(db_tokens_path(), admin, params={"includeRevoked": "true"}))
    d.restart()
    assert ok_json(d.get(databases_path(), admin)) == dbs
    assert ok_json(d.get(db_tokens_path(), admin, params={"includeRevoked": "true"})) == before
    assert d.authorize(rw, "mydb", "write").status_code == 401
    assert d.authorize(ro, "mydb", "read").status_code == 204
    d.stop_ok()
    data = d.store_bytes()
    for s in (rw, ro):
        assert s[6:46].encode() not in data
        assert s[6:46].encode() not in d.log_bytes()


def test_a_seeded_database_changed_since_stops_the_restart(daemon_factory):
    d = daemon_factory(seed=seed_with([db_entry("mydb")]))
    ok_json(d.patch(databases_path(name="mydb"), d.jwt("admin"), json={"maxTables": 9}))
    d.stop_ok()
    res = run_cli(d.serve_argv(), cwd=d.workdir, timeout=10)
    assert res.returncode != 0, describe_cli(res)
    assert "databases[0] (mydb)" in res.stderr + res.stdout, describe_cli(res)


def _bad_cases():
    good = secret()
    unknown_cluster = "88888888-8888-4888-8888-888888888888"
    return {
        "database in an unknown cluster": (
            seed_with([db_entry("x", clusterId=unknown_cluster)]), "databases[0] (x)"),
        "database in a cluster of another account": (
            seed_with([db_entry("x", clusterId=CLUSTER_B)]), "databases[0] (x)"),
        "database with a bad name": (seed_with([db_entry("_x")]), "databases[0] (_x)"),
        "database with a bad template": (
            seed_with([db_entry("x", partitionTemplate=[])]), "databases[0] (x)"),
        "database with a bad limit": (seed_with([db_entry("x", maxTables=0)]), "databases[0]"),
        "database with an unknown field": (seed_with([db_entry("x", color=1)]), "databases[0]"),
        "two databases with one name and other content": (
            seed_with([db_entry("x"), db_entry("x", maxTables=2)]), "databases[1] (x)"),
        "token naming a database that is not seeded": (
            seed_with([db_entry("mydb")], [token_entry(good, (("read", "other"),))]),
            "databaseTokens[0] (seeded)"),
        "token with a malformed secret": (
            seed_with([db_entry("mydb")], [token_entry("apiv1_short")]), "databaseTokens[0]"),
        "management token as database token": (
            seed_with([db_entry("mydb")], [token_entry("M.V1." + "A" * 49)]), "databaseTokens[0]"),
        "token with a bad action": (
            seed_with([db_entry("mydb")], [token_entry(good, (("delete", "mydb"),))]),
            "databaseTokens[0]"),
        "token in an unknown cluster": (
            seed_with([db_entry("mydb")], [token_entry(good, clusterId=unknown_cluster)]),
            "databaseTokens[0]"),
        "same secret twice with other content": (
            seed_with([db_entry("mydb")], [token_entry(good), token_entry(good, description="x")]),
            "databaseTokens[1] (x)"),
        "token with an unknown field": (
            seed_with([db_entry("mydb")], [token_entry(good, id="x")]), "databaseTokens[0]"),
    }


BAD = _bad_cases()


@pytest.mark.parametrize("label", list(BAD))
def test_bad_database_seeds_stop_the_start(daemon_factory, label):
    seed, mention = BAD[label]
    d = daemon_factory(seed=seed, start=False)
    res = run_cli(d.serve_argv(), cwd=d.workdir, timeout=10)
    out = res.stdout + res.stderr
    assert res.returncode != 0, "serve accepted a bad seed:\n" + describe_cli(res)
    assert mention in out, "the message does not name %r:\n%s" % (mention, describe_cli(res))
    for t in seed.get("databaseTokens", []):
        assert t["accessToken"][6:40] not in out or len(t["accessToken"]) < 40, describe_cli(res)


def test_refused_seed_writes_nothing(daemon_factory):
    d = daemon_factory(seed=seed_with([db_entry("first"), db_entry("_bad")]), start=False)
    res = run_cli(d.serve_argv(), cwd=d.workdir, timeout=10)
    assert res.returncode != 0, describe_cli(res)
    d.seed = default_seed()
    d.write_seed()
    d.start()
    assert ok_json(d.get(databases_path(), d.jwt("admin"))) == []
    assert_error(d.get(databases_path(), "apiv1_" + "A" * 86), 401)
