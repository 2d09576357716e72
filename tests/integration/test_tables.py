"""Tables of the Management API v0 (CONTRACT 4.2): create, delete, rename, undelete inside a
live database; plus the table list this project adds to find the ids undelete takes, and the
Iceberg export switch (influxctl table iceberg enable|disable), another mgmtd extension."""

import pytest

from conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    CLUSTER_A,
    CLUSTER_B,
    allow_set,
    assert_error,
    assert_no_content,
    databases_path,
    ok_json,
    tables_path,
    unique_name,
)

TEMPLATE = [{"type": "time", "value": "%Y-%m"}, {"type": "tag", "value": "host"}]


def new_db(d, **kw):
    return d.create_database(unique_name(), **kw)["name"]


def create_table(d, db, name=None, cred=None, account=ACCOUNT_A, **fields):
    body = {"name": name or unique_name("t")}
    body.update(fields)
    return ok_json(d.post(tables_path(db, account), cred or d.admin_of(account), json=body))


def table_list(d, db, status=None, account=ACCOUNT_A, cred=None):
    params = {"status": status} if status else None
    return ok_json(d.get(tables_path(db, account), cred or d.admin_of(account), params=params))


def test_create_answers_the_table(server):
    db = new_db(server)
    body = create_table(server, db, "cpu")
    assert body == {"accountId": ACCOUNT_A, "clusterId": CLUSTER_A, "databaseName": db,
                    "name": "cpu", "icebergExport": False}
    listed = table_list(server, db)
    assert [t["name"] for t in listed] == ["cpu"]
    assert set(listed[0]) == set(body) | {"id"}
    assert isinstance(listed[0]["id"], int)


def test_create_with_partition_template_answers_it(server):
    db = new_db(server, partitionTemplate=[{"type": "time", "value": "%Y"}])
    body = create_table(server, db, "mem", partitionTemplate=TEMPLATE)
    assert body["partitionTemplate"] == TEMPLATE
    assert table_list(server, db)[0]["partitionTemplate"] == TEMPLATE


def test_create_errors(server):
    db = new_db(server)
    admin = server.jwt("admin")
    create_table(server, db, "cpu")
    assert_error(server.post(tables_path(db), admin, json={"name": "cpu"}), 409, contains="cpu")
    for bad in ("", "_cpu", "a/b", "a b", "x" * 256, 3, ".", "..", ".cpu"):
        assert_error(server.post(tables_path(db), admin, json={"name": bad}), 400)
    assert_error(server.post(tables_path(db), admin, json={}), 400, contains="name")
    assert_error(server.post(tables_path(db), admin, json={"name": "ok", "columns": []}), 400,
                 contains="columns")
    assert_error(server.post(tables_path(db), admin,
                             json={"name": "ok", "partitionTemplate": [{"type": "tag", "value": ""}]}),
                 400)
    assert_error(server.post(tables_path(unique_name()), admin, json={"name": "cpu"}), 404,
                 contains="database")
    # the same name in another database is another table
    create_table(server, new_db(server), "cpu")


def test_tables_live_only_in_live_databases(server):
    db = new_db(server)
    admin = server.jwt("admin")
    create_table(server, db, "cpu")
    assert_no_content(server.delete(databases_path(name=db), admin))
    assert_error(server.post(tables_path(db), admin, json={"name": "mem"}), 404)
    assert_error(server.delete(tables_path(db, name="cpu"), admin), 404)
    assert_error(server.get(tables_path(db), admin), 404)
    db_id = next(x["id"] for x in ok_json(server.get(databases_path(), admin,
                                                     params={"status": "deleted"}))
                 if x["name"] == db)
    ok_json(server.put(databases_path(name=db_id, suffix="undelete"), admin))
    # the tables come back with their database
    assert [t["name"] for t in table_list(server, db)] == ["cpu"]


def test_delete_rename_undelete(server):
    db = new_db(server)
    admin = server.jwt("admin")
    create_table(server, db, "cpu")
    renamed = ok_json(server.put(tables_path(db, name="cpu", suffix="rename"), admin,
                                 json={"name": "cpu2"}))
    assert set(renamed) == {"accountId", "clusterId", "databaseName", "id", "name",
                            "icebergExport"}
    assert renamed["name"] == "cpu2" and renamed["databaseName"] == db
    table_id = renamed["id"]
    assert_no_content(server.delete(tables_path(db, name="cpu2"), admin))
    assert table_list(server, db) == []
    assert [t["id"] for t in table_list(server, db, "deleted")] == [table_id]
    assert_error(server.delete(tables_path(db, name="cpu2"), admin), 404)
    assert_error(server.put(tables_path(db, name="cpu2", suffix="rename"), admin,
                            json={"name": "x"}), 404)
    back = ok_json(server.put(tables_path(db, name=table_id, suffix="undelete"), admin))
    assert back == renamed
    assert_error(server.put(tables_path(db, name=table_id, suffix="undelete"), admin), 409,
                 contains="not deleted")


def test_undelete_conflicts_with_a_live_table_of_the_same_name(server):
    db = new_db(server)
    admin = server.jwt("admin")
    create_table(server, db, "cpu")
    first = table_list(server, db)[0]["id"]
    assert_no_content(server.delete(tables_path(db, name="cpu"), admin))
    create_table(server, db, "cpu")
    assert_error(server.put(tables_path(db, name=first, suffix="undelete"), admin), 409,
                 contains="cpu")


def test_rename_errors(server):
    db = new_db(server)
    admin = server.jwt("admin")
    create_table(server, db, "a")
    create_table(server, db, "b")
    p = tables_path(db, name="a", suffix="rename")
    assert_error(server.put(p, admin, json={"name": "b"}), 409)
    assert_error(server.put(p, admin, json={"name": "_b"}), 400)
    assert_error(server.put(p, admin, json={}), 400)
    assert_error(server.put(tables_path(db, name="zz", suffix="rename"), admin,
                            json={"name": "c"}), 404)


@pytest.mark.parametrize("table_id", ["999999", "0", "-2", "x", "07"])
def test_undelete_unknown_or_malformed_id_is_404(server, table_id):
    db = new_db(server)
    assert_error(server.put(tables_path(db, name=table_id, suffix="undelete"),
                            server.jwt("admin")), 404)


def test_undelete_id_of_a_table_in_another_database_is_404(server):
    db1, db2 = new_db(server), new_db(server)
    admin = server.jwt("admin")
    create_table(server, db1, "cpu")
    assert_no_content(server.delete(tables_path(db1, name="cpu"), admin))
    table_id = table_list(server, db1, "deleted")[0]["id"]
    assert_error(server.put(tables_path(db2, name=table_id, suffix="undelete"), admin), 404)


def test_tables_follow_their_database_through_a_rename(server):
    db, new = new_db(server), unique_name()
    admin = server.jwt("admin")
    create_table(server, db, "cpu")
    ok_json(server.put(databases_path(name=db, suffix="rename"), admin, json={"name": new}))
    listed = table_list(server, new)
    assert [(t["name"], t["databaseName"]) for t in listed] == [("cpu", new)]
    assert_error(server.get(tables_path(db), admin), 404)


def test_table_in_a_database_with_a_slash(server):
    db = unique_name() + "/rp"
    server.create_database(db)
    body = create_table(server, db, "cpu")
    assert body["databaseName"] == db
    assert_no_content(server.delete(tables_path(db, name="cpu"), server.jwt("admin")))


def test_list_status_and_methods(server):
    db = new_db(server)
    admin = server.jwt("admin")
    assert_error(server.get(tables_path(db), admin, params={"status": "gone"}), 400)
    r = server.get(tables_path(db, name="cpu"), admin)
    assert_error(r, 405)
    assert allow_set(r) == {"DELETE"}


@pytest.mark.parametrize("who", ["member", "auditor"])
def test_members_and_auditors_read_but_do_not_change(server, who):
    db = new_db(server)
    create_table(server, db, "cpu")
    cred = server.jwt(who)
    assert [t["name"] for t in table_list(server, db, cred=cred)] == ["cpu"]
    assert_error(server.post(tables_path(db), cred, json={"name": "mem"}), 403, contains="tables")
    assert_error(server.delete(tables_path(db, name="cpu"), cred), 403)
    assert_error(server.put(tables_path(db, name="cpu", suffix="rename"), cred,
                            json={"name": "x"}), 403)
    assert_error(server.put(tables_path(db, name="1", suffix="undelete"), cred), 403)
    for switch in ("iceberg/enable", "iceberg/disable"):
        assert_error(server.put(tables_path(db, name="cpu", suffix=switch), cred), 403,
                     contains="tables")
    assert table_list(server, db)[0]["icebergExport"] is False


def test_management_token_manages_tables(server):
    cred = server.create_token("tables")["accessToken"]
    db = server.create_database(unique_name(), cred=cred)["name"]
    create_table(server, db, "cpu", cred=cred)
    table_id = ok_json(server.put(tables_path(db, name="cpu", suffix="rename"), cred,
                                  json={"name": "cpu1"}))["id"]
    assert ok_json(server.put(tables_path(db, name="cpu1", suffix="iceberg/enable"),
                              cred))["icebergExport"] is True
    assert_no_content(server.delete(tables_path(db, name="cpu1"), cred))
    ok_json(server.put(tables_path(db, name=table_id, suffix="undelete"), cred))


def test_tables_of_another_account_or_cluster_are_out_of_reach(server):
    db = server.create_database(unique_name(), account=ACCOUNT_B)["name"]
    create_table(server, db, "cpu", account=ACCOUNT_B)
    admin = server.jwt("admin")
    token_a = server.create_token("a")["accessToken"]
    assert_error(server.delete(tables_path(db, name="cpu"), admin), 404)  # no such db in A
    assert_error(server.delete(tables_path(db, ACCOUNT_A, CLUSTER_B, name="cpu"), admin), 404)
    assert_error(server.delete(tables_path(db, ACCOUNT_B, name="cpu"), token_a), 404)
    assert_error(server.delete(tables_path(db, ACCOUNT_B, name="cpu"), admin), 403)
    for switch in ("iceberg/enable", "iceberg/disable"):
        assert_error(server.put(tables_path(db, name="cpu", suffix=switch), admin), 404)
        assert_error(server.put(tables_path(db, ACCOUNT_B, name="cpu", suffix=switch), token_a),
                     404)
        assert_error(server.put(tables_path(db, ACCOUNT_B, name="cpu", suffix=switch), admin),
                     403)
    assert table_list(server, db, account=ACCOUNT_B)[0]["icebergExport"] is False
    assert [t["name"] for t in table_list(server, db, account=ACCOUNT_B)] == ["cpu"]


# ---------------------------------------------------------------------------
# Iceberg exports (influxctl table iceberg enable|disable): an mgmtd extension.

def iceberg(d, db, name, on, cred=None, account=ACCOUNT_A):
    switch = "iceberg/enable" if on else "iceberg/disable"
    return d.put(tables_path(db, account, name=name, suffix=switch), cred or d.admin_of(account))


def test_iceberg_export_is_off_until_enabled_and_idempotent(server):
    db = new_db(server)
    created = create_table(server, db, "cpu")
    create_table(server, db, "mem")
    assert created["icebergExport"] is False
    assert [t["icebergExport"] for t in table_list(server, db)] == [False, False]

    listed = {t["name"]: t for t in table_list(server, db)}
    on = ok_json(iceberg(server, db, "cpu", True))
    # the TableWithId, as rename answers it, with the setting turned on
    assert on == dict(listed["cpu"], icebergExport=True)
    # enabling an enabled table is no error: the same answer, still on
    assert ok_json(iceberg(server, db, "cpu", True)) == on
    assert {t["name"]: t["icebergExport"] for t in table_list(server, db)} == {
        "cpu": True, "mem": False}

    off = ok_json(iceberg(server, db, "cpu", False))
    assert off == dict(on, icebergExport=False)
    assert ok_json(iceberg(server, db, "cpu", False)) == off
    assert ok_json(iceberg(server, db, "mem", False))["icebergExport"] is False
    assert [t["icebergExport"] for t in table_list(server, db)] == [False, False]


def test_iceberg_export_survives_rename_delete_and_undelete(server):
    db = new_db(server)
    admin = server.jwt("admin")
    create_table(server, db, "cpu")
    table_id = ok_json(iceberg(server, db, "cpu", True))["id"]
    renamed = ok_json(server.put(tables_path(db, name="cpu", suffix="rename"), admin,
                                 json={"name": "cpu2"}))
    assert renamed["icebergExport"] is True
    assert_no_content(server.delete(tables_path(db, name="cpu2"), admin))
    # a deleted table cannot be switched, but keeps its setting in the deleted list
    assert_error(iceberg(server, db, "cpu2", False), 404, contains="table")
    assert [(t["id"], t["icebergExport"]) for t in table_list(server, db, "deleted")] == [
        (table_id, True)]
    back = ok_json(server.put(tables_path(db, name=table_id, suffix="undelete"), admin))
    assert back["icebergExport"] is True
    # a new table of the freed name does not inherit it
    assert_no_content(server.delete(tables_path(db, name="cpu2"), admin))
    assert create_table(server, db, "cpu2")["icebergExport"] is False


@pytest.mark.parametrize("on", [True, False])
def test_iceberg_unknown_table_or_database_is_404(server, on):
    db = new_db(server)
    create_table(server, db, "cpu")
    assert_error(iceberg(server, db, "nope", on), 404, contains="table")
    assert_error(iceberg(server, db, "_bad", on), 404)
    assert_error(iceberg(server, unique_name(), "cpu", on), 404, contains="database")
    # the name is the table's name, not its id
    table_id = table_list(server, db)[0]["id"]
    assert_error(iceberg(server, db, str(table_id), on), 404)
    assert [t["icebergExport"] for t in table_list(server, db)] == [False]


def test_iceberg_routes_methods(server):
    db = new_db(server)
    admin = server.jwt("admin")
    create_table(server, db, "cpu")
    for switch in ("iceberg/enable", "iceberg/disable"):
        for method in (server.get, server.post, server.delete):
            r = method(tables_path(db, name="cpu", suffix=switch), admin)
            assert_error(r, 405)
            assert allow_set(r) == {"PUT"}
    assert_error(server.put(tables_path(db, name="cpu", suffix="iceberg"), admin), 404)
    assert table_list(server, db)[0]["icebergExport"] is False
    # the route says what to do; a body is ignored (docs/api.md), as undelete's
    body = ok_json(server.put(tables_path(db, name="cpu", suffix="iceberg/enable"), admin,
                              json={"enabled": False}))
    assert body["icebergExport"] is True


def test_iceberg_in_a_database_with_a_slash(server):
    db = unique_name() + "/rp"
    server.create_database(db)
    create_table(server, db, "cpu")
    body = ok_json(iceberg(server, db, "cpu", True))
    assert (body["databaseName"], body["name"], body["icebergExport"]) == (db, "cpu", True)
