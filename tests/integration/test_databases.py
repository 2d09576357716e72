"""Databases of the Management API v0 (CONTRACT 4.1): list, create, update, soft delete,
rename, undelete; names, limits, partition templates; rights and cluster scoping."""

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
    make_mgmt_token,
    ok_json,
    unique_name,
)

DB_KEYS = {"accountId", "clusterId", "name", "maxTables", "maxColumnsPerTable", "retentionPeriod"}
UNKNOWN_CLUSTER = "55555555-5555-4555-8555-555555555555"
TEMPLATE = [
    {"type": "time", "value": "%Y"},
    {"type": "tag", "value": "bananas"},
    {"type": "tag", "value": "plátanos"},
    {"type": "bucket", "value": {"tagName": "c", "numberOfBuckets": 10}},
]


def listed(d, cred=None, params=None, account=ACCOUNT_A, cluster=None):
    dbs = ok_json(d.get(databases_path(account, cluster), cred or d.admin_of(account),
                        params=params))
    # every item carries its id, live ones too (influxctl 2.10.3's list shows it)
    assert all(isinstance(x.get("id"), int) and x["id"] > 0 for x in dbs), dbs
    return dbs


def names(dbs):
    return [x["name"] for x in dbs]


def find(dbs, name):
    return next(x for x in dbs if x["name"] == name)


def without_id(listed_db):
    """A listed database as a create or update answers it: without the id (docs/api.md)."""
    return {k: v for k, v in listed_db.items() if k != "id"}


# ---------------------------------------------------------------------------
# Create and list


def test_create_answers_the_database_with_defaults(server):
    name = unique_name()
    body = server.create_database(name)
    assert body == {"accountId": ACCOUNT_A, "clusterId": CLUSTER_A, "name": name,
                    "maxTables": 500, "maxColumnsPerTable": 250, "retentionPeriod": 0}
    assert without_id(find(listed(server), name)) == body


def test_create_with_every_field_answers_them_as_given(server):
    name = unique_name()
    body = server.create_database(name, maxTables=100, maxColumnsPerTable=50,
                                  retentionPeriod=300000000000, partitionTemplate=TEMPLATE)
    assert set(body) == DB_KEYS | {"partitionTemplate"}
    assert body["maxTables"] == 100
    assert body["maxColumnsPerTable"] == 50
    assert body["retentionPeriod"] == 300000000000
    assert body["partitionTemplate"] == TEMPLATE
    assert without_id(find(listed(server), name)) == body


def test_large_retention_period_is_kept_exactly(server):
    big = 2 ** 63 - 1
    body = server.create_database(retentionPeriod=big)
    assert body["retentionPeriod"] == big
    assert find(listed(server), body["name"])["retentionPeriod"] == big


def test_list_is_oldest_first_and_scoped_to_the_cluster(server):
    first, second = unique_name("first"), unique_name("second")
    server.create_database(first)
    server.create_database(second)
    got = names(listed(server))
    assert got.index(first) < got.index(second)
    other = server.create_database(first, account=ACCOUNT_B)  # same name, other account
    assert other["clusterId"] == CLUSTER_B
    assert first in names(listed(server, account=ACCOUNT_B))
    assert all(x["accountId"] == ACCOUNT_B and x["clusterId"] == CLUSTER_B
               for x in listed(server, account=ACCOUNT_B))
    for x in listed(server):
        assert set(x) <= DB_KEYS | {"id", "partitionTemplate"}
        assert x["accountId"] == ACCOUNT_A and x["clusterId"] == CLUSTER_A


def test_taken_name_is_409(server):
    name = unique_name()
    server.create_database(name)
    r = server.post(databases_path(), server.jwt("admin"), json={"name": name, "maxTables": 3})
    assert_error(r, 409, contains=name)
    assert find(listed(server), name)["maxTables"] == 500


def test_names_are_case_sensitive(server):
    name = unique_name("Case")
    server.create_database(name)
    server.create_database(name.lower())


@pytest.mark.parametrize("name", ["logs/application", "telegraf/autogen", "a", "0db", "-dash-",
                                  "x" * 64, "A_b-C/9"])
def test_good_names(server, name):
    # each name appears once in this module: the server fixture is shared
    body = server.create_database(name)
    assert body["name"] == name


@pytest.mark.parametrize("name", ["", "_internal", "my database", "sensor.data", "app@server",
                                  "x" * 65, "café", "tab\there", "a%2Fb", 5, None, ["a"]])
def test_bad_names_are_400(server, name):
    r = server.post(databases_path(), server.jwt("admin"), json={"name": name})
    assert_error(r, 400)


def test_name_is_required(server):
    assert_error(server.post(databases_path(), server.jwt("admin"), json={"maxTables": 5}), 400,
                 contains="name")


@pytest.mark.parametrize("field, value", [
    ("maxTables", 0), ("maxTables", -1), ("maxTables", "5"), ("maxTables", 1.5),
    ("maxTables", 2 ** 31), ("maxTables", None), ("maxTables", True),
    ("maxColumnsPerTable", 0), ("maxColumnsPerTable", 2 ** 31), ("maxColumnsPerTable", "250"),
    ("retentionPeriod", -1), ("retentionPeriod", 1.0), ("retentionPeriod", "0"),
])
def test_bad_limits_are_400_naming_the_field(server, field, value):
    r = server.post(databases_path(), server.jwt("admin"), json={"name": unique_name(), field: value})
    assert_error(r, 400, contains=field)


def test_limits_at_their_bounds(server):
    body = server.create_database(maxTables=1, maxColumnsPerTable=2 ** 31 - 1, retentionPeriod=0)
    assert body["maxTables"] == 1
    assert body["maxColumnsPerTable"] == 2 ** 31 - 1


@pytest.mark.parametrize("template, contains", [
    ([], "1 to 8"),
    ({"type": "time", "value": "%Y"}, "1 to 8"),
    ([{"type": "tag", "value": "t%d" % i} for i in range(9)], "1 to 8"),
    ([{"type": "time", "value": "%H"}], "%Y"),
    ([{"type": "time", "value": "%Y"}, {"type": "time", "value": "%m"}], "one time part"),
    ([{"type": "tag", "value": "a"}, {"type": "tag", "value": "a"}], "more than one part"),
    ([{"type": "tag", "value": "a"},
      {"type": "bucket", "value": {"tagName": "a", "numberOfBuckets": 3}}], "more than one part"),
    ([{"type": "bucket", "value": {"tagName": "a", "numberOfBuckets": 0}}], "numberOfBuckets"),
    ([{"type": "bucket", "value": {"tagName": "a", "numberOfBuckets": 100001}}], "numberOfBuckets"),
    ([{"type": "tag", "value": ""}], "value"),
    ([{"type": "tag", "value": "time"}], "time"),
    ([{"type": "nope", "value": "x"}], "type"),
    ([{"type": "tag", "value": "a", "color": "red"}], "color"),
])
def test_bad_partition_templates_are_400(server, template, contains):
    r = server.post(databases_path(), server.jwt("admin"),
                    json={"name": unique_name(), "partitionTemplate": template})
    body = assert_error(r, 400)
    assert contains.lower() in body["message"].lower(), body


def test_partition_template_limits_accepted(server):
    tpl = [{"type": "tag", "value": "t%d" % i} for i in range(7)] + [{"type": "time", "value": "%Y-%m-%d"}]
    assert server.create_database(partitionTemplate=tpl)["partitionTemplate"] == tpl
    tpl = [{"type": "bucket", "value": {"tagName": "host", "numberOfBuckets": 100000}}]
    assert server.create_database(partitionTemplate=tpl)["partitionTemplate"] == tpl
    # null means none
    body = server.create_database(partitionTemplate=None)
    assert "partitionTemplate" not in body


def test_unknown_field_is_400_naming_it(server):
    r = server.post(databases_path(), server.jwt("admin"), json={"name": unique_name(), "colour": 1})
    assert_error(r, 400, contains="colour")


def test_body_errors(server):
    admin = server.jwt("admin")
    assert_error(server.post(databases_path(), admin, data='{"name": "x"}',
                             headers={"Content-Type": "text/plain"}), 415)
    assert_error(server.post(databases_path(), admin, data='{"name": ',
                             headers={"Content-Type": "application/json"}), 400)
    assert_error(server.post(databases_path(), admin, json=["name"]), 400)
    assert_error(server.post(databases_path(), admin, data='{"name":"a","name":"b"}',
                             headers={"Content-Type": "application/json"}), 400)
    big = {"name": unique_name(), "pad": "x" * (70 * 1024)}
    assert_error(server.post(databases_path(), admin, json=big), 413)


# ---------------------------------------------------------------------------
# Update


def test_patch_changes_only_the_given_fields(server):
    name = unique_name()
    server.create_database(name, partitionTemplate=TEMPLATE)
    admin = server.jwt("admin")
    body = ok_json(server.patch(databases_path(name=name), admin, json={"maxTables": 300}))
    assert body["maxTables"] == 300
    assert body["maxColumnsPerTable"] == 250
    assert body["partitionTemplate"] == TEMPLATE
    body = ok_json(server.patch(databases_path(name=name), admin,
                                json={"maxColumnsPerTable": 150, "retentionPeriod": 600000000000}))
    assert (body["maxTables"], body["maxColumnsPerTable"], body["retentionPeriod"]) == (
        300, 150, 600000000000)
    assert "id" not in body
    assert without_id(find(listed(server), name)) == body


def test_patch_errors(server):
    name = unique_name()
    server.create_database(name)
    admin = server.jwt("admin")
    p = databases_path(name=name)
    assert_error(server.patch(p, admin, json={}), 400)
    assert_error(server.patch(p, admin, json={"partitionTemplate": TEMPLATE}), 400,
                 contains="fixed at creation")
    assert_error(server.patch(p, admin, json={"name": "other"}), 400, contains="rename")
    assert_error(server.patch(p, admin, json={"maxTables": 0}), 400, contains="maxTables")
    assert_error(server.patch(p, admin, json={"bogus": 1}), 400, contains="bogus")
    assert_error(server.patch(databases_path(name=unique_name()), admin, json={"maxTables": 5}), 404)
    assert_error(server.patch(databases_path(name="_bad"), admin, json={"maxTables": 5}), 404)
    assert find(listed(server), name)["maxTables"] == 500


def test_a_single_database_cannot_be_got(server):
    name = unique_name()
    server.create_database(name)
    r = server.get(databases_path(name=name), server.jwt("admin"))
    assert_error(r, 405)
    assert allow_set(r) == {"PATCH", "DELETE"}


# ---------------------------------------------------------------------------
# Delete, undelete, rename


def deleted_list(d):
    return listed(d, params={"status": "deleted"})


def test_delete_is_soft_and_leaves_the_list(server):
    name = unique_name()
    server.create_database(name, maxTables=42)
    admin = server.jwt("admin")
    assert_no_content(server.delete(databases_path(name=name), admin))
    assert name not in names(listed(server))
    assert name not in names(listed(server, params={"status": "active"}))
    gone = find(deleted_list(server), name)
    assert isinstance(gone["id"], int) and gone["id"] >= 1
    assert gone["maxTables"] == 42
    assert_error(server.delete(databases_path(name=name), admin), 404)
    assert_error(server.patch(databases_path(name=name), admin, json={"maxTables": 5}), 404)
    assert_error(server.put(databases_path(name=name, suffix="rename"), admin, json={"name": "x"}), 404)


def test_list_status_must_be_known(server):
    assert_error(server.get(databases_path(), server.jwt("admin"), params={"status": "all"}), 400)


def test_undelete_restores_the_database_with_its_settings(server):
    name = unique_name()
    server.create_database(name, maxTables=7, retentionPeriod=5, partitionTemplate=TEMPLATE)
    admin = server.jwt("admin")
    assert_no_content(server.delete(databases_path(name=name), admin))
    db_id = find(deleted_list(server), name)["id"]
    body = ok_json(server.put(databases_path(name=db_id, suffix="undelete"), admin))
    assert body == {"accountId": ACCOUNT_A, "clusterId": CLUSTER_A, "id": db_id, "name": name,
                    "maxTables": 7, "maxColumnsPerTable": 250, "retentionPeriod": 5,
                    "partitionTemplate": TEMPLATE}
    assert name in names(listed(server))
    assert db_id not in [x["id"] for x in deleted_list(server)]
    # only deleted databases can be undeleted
    assert_error(server.put(databases_path(name=db_id, suffix="undelete"), admin), 409,
                 contains="not deleted")


def test_deleted_name_is_free_and_undelete_then_conflicts(server):
    name = unique_name()
    admin = server.jwt("admin")
    server.create_database(name, maxTables=1)
    assert_no_content(server.delete(databases_path(name=name), admin))
    old_id = find(deleted_list(server), name)["id"]
    again = server.create_database(name, maxTables=2)
    assert again["maxTables"] == 2
    assert_error(server.put(databases_path(name=old_id, suffix="undelete"), admin), 409,
                 contains=name)
    # rename the new one away, and the old one comes back under its name
    renamed = ok_json(server.put(databases_path(name=name, suffix="rename"), admin,
                                 json={"name": name + "-new"}))
    assert renamed["id"] != old_id
    back = ok_json(server.put(databases_path(name=old_id, suffix="undelete"), admin))
    assert (back["name"], back["maxTables"]) == (name, 1)


@pytest.mark.parametrize("db_id", ["999999", "0", "-1", "01", "abc", "1.0", "9" * 30])
def test_undelete_of_unknown_or_malformed_id_is_404(server, db_id):
    assert_error(server.put(databases_path(name=db_id, suffix="undelete"), server.jwt("admin")), 404)


def test_rename_answers_database_with_id(server):
    name, new = unique_name(), unique_name()
    created = server.create_database(name, maxTables=9)
    body = ok_json(server.put(databases_path(name=name, suffix="rename"), server.jwt("admin"),
                              json={"name": new}))
    assert set(body) == DB_KEYS | {"id"}
    assert body["name"] == new and body["maxTables"] == 9
    assert isinstance(body["id"], int)
    got = names(listed(server))
    assert new in got and name not in got
    expected = dict(created, name=new, id=body["id"])  # the id the rename kept
    assert find(listed(server), new) == expected


def test_rename_errors(server):
    a, b = unique_name(), unique_name()
    server.create_database(a)
    server.create_database(b)
    admin = server.jwt("admin")
    p = databases_path(name=a, suffix="rename")
    assert_error(server.put(p, admin, json={"name": b}), 409, contains=b)
    assert_error(server.put(p, admin, json={"name": "_x"}), 400)
    assert_error(server.put(p, admin, json={}), 400, contains="name")
    assert_error(server.put(p, admin, json={"name": "ok", "maxTables": 3}), 400, contains="maxTables")
    assert_error(server.put(databases_path(name=unique_name(), suffix="rename"), admin,
                            json={"name": unique_name()}), 404)
    # renaming to its own name changes nothing
    assert ok_json(server.put(p, admin, json={"name": a}))["name"] == a


def test_names_with_a_slash_are_addressed_as_percent_2f(server):
    name = unique_name("db") + "/autogen"
    server.create_database(name)
    admin = server.jwt("admin")
    assert "%2F" in databases_path(name=name)
    body = ok_json(server.patch(databases_path(name=name), admin, json={"maxTables": 11}))
    assert body["name"] == name and body["maxTables"] == 11
    renamed = ok_json(server.put(databases_path(name=name, suffix="rename"), admin,
                                 json={"name": name + "2"}))
    assert renamed["name"] == name + "2"
    assert_no_content(server.delete(databases_path(name=name + "2"), admin))
    # the slash unescaped is another path
    bare = databases_path() + "/" + name + "2"
    assert_error(server.delete(bare, admin), 404)


# ---------------------------------------------------------------------------
# Rights and scoping


@pytest.mark.parametrize("who", ["member", "auditor"])
def test_members_and_auditors_read_but_do_not_change(server, who):
    name = unique_name()
    server.create_database(name)
    cred = server.jwt(who)
    assert name in names(listed(server, cred))
    assert_error(server.post(databases_path(), cred, json={"name": unique_name()}), 403,
                 contains="databases")
    assert_error(server.patch(databases_path(name=name), cred, json={"maxTables": 1}), 403)
    assert_error(server.delete(databases_path(name=name), cred), 403)
    assert_error(server.put(databases_path(name=name, suffix="rename"), cred,
                            json={"name": unique_name()}), 403)
    assert_error(server.put(databases_path(name="1", suffix="undelete"), cred), 403)
    assert find(listed(server), name)["maxTables"] == 500


@pytest.mark.parametrize("who", ["admin", "emailonly", "token"])
def test_admins_and_management_tokens_do_everything(server, who):
    cred = server.create_token("db admin")["accessToken"] if who == "token" else server.jwt(who)
    name = unique_name()
    server.create_database(name, cred=cred)
    ok_json(server.patch(databases_path(name=name), cred, json={"maxTables": 2}))
    db_id = ok_json(server.put(databases_path(name=name, suffix="rename"), cred,
                               json={"name": name + "x"}))["id"]
    assert_no_content(server.delete(databases_path(name=name + "x"), cred))
    ok_json(server.put(databases_path(name=db_id, suffix="undelete"), cred))
    assert name + "x" in names(listed(server, cred))


def test_credentials_are_required(server):
    r = server.get(databases_path())
    assert_error(r, 401)
    assert_error(server.post(databases_path(), json={"name": unique_name()}), 401)
    assert_error(server.get(databases_path(), make_mgmt_token()), 401)


@pytest.mark.parametrize("cluster", [UNKNOWN_CLUSTER, CLUSTER_B, "not-a-uuid"])
def test_unknown_or_foreign_cluster_is_404(server, cluster):
    for cred in (server.jwt("admin"), server.create_token("scoping")["accessToken"]):
        assert_error(server.get(databases_path(cluster=cluster), cred), 404, contains="cluster")
        assert_error(server.post(databases_path(cluster=cluster), cred,
                                 json={"name": unique_name()}), 404, contains="cluster")
        assert_error(server.patch(databases_path(cluster=cluster, name="x"), cred,
                                  json={"maxTables": 3}), 404)
        assert_error(server.delete(databases_path(cluster=cluster, name="x"), cred), 404)


def test_account_a_never_touches_account_b(server):
    name = unique_name()
    server.create_database(name, account=ACCOUNT_B)
    token_a = server.create_token("a")["accessToken"]
    # a management token of A: 404 for any path of B
    assert_error(server.get(databases_path(ACCOUNT_B), token_a), 404)
    assert_error(server.delete(databases_path(ACCOUNT_B, name=name), token_a), 404)
    # a JWT of A's admin: nobody provisioned in B
    assert_error(server.delete(databases_path(ACCOUNT_B, name=name), server.jwt("admin")), 403,
                 contains="not provisioned")
    # B's database, seen from A's cluster, does not exist
    assert_error(server.delete(databases_path(ACCOUNT_A, name=name), server.jwt("admin")), 404)
    assert name in names(listed(server, account=ACCOUNT_B))


def test_deleted_database_ids_of_another_cluster_are_404(server):
    name = unique_name()
    server.create_database(name, account=ACCOUNT_B)
    admin_b = server.jwt("admin_b")
    assert_no_content(server.delete(databases_path(ACCOUNT_B, name=name), admin_b))
    db_id = find(listed(server, admin_b, {"status": "deleted"}, ACCOUNT_B), name)["id"]
    assert_error(server.put(databases_path(name=db_id, suffix="undelete"), server.jwt("admin")), 404)
    ok_json(server.put(databases_path(ACCOUNT_B, name=db_id, suffix="undelete"), admin_b))


# ---------------------------------------------------------------------------
# The wire conventions (CONTRACT 1) on every JSON route of CONTRACT 4

JSON_ROUTES = [
    ("POST", databases_path()),
    ("PATCH", databases_path(name="db")),
    ("PUT", databases_path(name="db", suffix="rename")),
    ("POST", databases_path(name="db", suffix="tables")),
    ("PUT", databases_path(name="db", suffix="tables/t/rename")),
    ("POST", databases_path(cluster=CLUSTER_A).replace("/databases", "/tokens")),
    ("PATCH", databases_path(cluster=CLUSTER_A).replace(
        "/databases", "/tokens/9b2f4c1e-7d3a-4f5b-8c6d-0e1f2a3b4c5d")),
]


@pytest.mark.parametrize("method, path", JSON_ROUTES)
def test_body_conventions_on_every_json_route(server, method, path):
    admin = server.jwt("admin")
    assert_error(server.request(method, path, None, json={"name": "x"}), 401)
    assert_error(server.request(method, path, admin, data='{"name": "x"}',
                                headers={"Content-Type": "text/plain"}), 415)
    assert_error(server.request(method, path, admin, data="{",
                                headers={"Content-Type": "application/json"}), 400,
                 contains="malformed")
    assert_error(server.request(method, path, admin, json=[1]), 400, contains="object")
    assert_error(server.request(method, path, admin, data="",
                                headers={"Content-Type": "application/json"}), 400)
    assert_error(server.request(method, path, admin, json={"pad": "x" * (65 * 1024)}), 413)
    assert_error(server.request(method, path, server.jwt("auditor"), json={"name": "x"}), 403)
