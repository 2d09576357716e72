"""The test harness's tenants (issue 25, docs/api.md "Test harness"): an account of its own
per test of a parallel suite, made and removed over HTTP, that no other tenant can see."""

import threading

import pytest

from conftest import assert_error, assert_no_content, assert_status, ok_json

TESTING = "[testing]\nenabled = true\n[dev_idp]\nenabled = true\n"
WRITER = {"description": "writer", "permissions": [{"action": "write", "resource": "mydb"}]}


@pytest.fixture(scope="module")
def harness(mgmtd_bin, idp, tmp_path_factory):
    from conftest import _Factory, _stop_all

    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("tenants"), idp)
    yield f(seed=False, config_extra=TESTING)  # no account but the tenants
    _stop_all(f)


def tenant(d, **body):
    return ok_json(d.post("/_test/tenants", json=body))


def path(t, rest=""):
    return "/api/v0/accounts/%s%s" % (t["accountId"], rest)


def cluster_path(t, rest=""):
    return path(t, "/clusters/%s%s" % (t["clusterId"], rest))


def dev_jwt(d, email):
    return ok_json(d.post("/oauth/token", data={"email": email}))["access_token"]


def test_a_tenant_is_an_account_ready_to_use(harness):
    d = harness
    t = tenant(d, name="suite 1", databases=[{"name": "mydb", "maxTables": 7}],
               databaseTokens=[WRITER])
    assert set(t) == {"accountId", "clusterId", "admin", "managementToken", "databases",
                      "databaseTokens"}
    mgmt = t["managementToken"]["accessToken"]
    assert mgmt.startswith("M.V1.")
    # the management token manages the tenant's cluster
    [db] = ok_json(d.get(cluster_path(t, "/databases"), mgmt))
    assert (db["name"], db["maxTables"]) == ("mydb", 7)
    [listed] = ok_json(d.get(path(t, "/management/tokens"), mgmt))
    assert listed["id"] == t["managementToken"]["id"]
    # the database token works at the data plane
    [dbt] = t["databaseTokens"]
    assert dbt["description"] == "writer"
    assert_status(d.get(cluster_path(t, "/authorize"), dbt["accessToken"],
                        params={"database": "mydb", "action": "write"}), 204)
    # and the admin is one dev IdP call away
    jwt = dev_jwt(d, t["admin"]["email"])
    [admin] = ok_json(d.get(path(t, "/users"), jwt))
    assert (admin["id"], admin["group"]) == (t["admin"]["id"], "admin")
    assert ok_json(d.get(path(t, "/clusters"), jwt))[0]["id"] == t["clusterId"]


def test_parallel_tenants_never_see_each_other(harness):
    d = harness
    results, errors = {}, []

    def worker(n):
        try:
            t = tenant(d)
            mgmt = t["managementToken"]["accessToken"]
            for i in range(3):
                ok_json(d.post(cluster_path(t, "/databases"), mgmt,
                               json={"name": "w%d-db%d" % (n, i)}))
            made = ok_json(d.post(cluster_path(t, "/tokens"), mgmt,
                                  json={"description": "worker %d" % n, "permissions": [
                                      {"action": "read", "resource": "w%d-db0" % n}]}))
            results[n] = (t, made)
        except Exception as e:  # noqa: BLE001 - told below, not lost in the thread
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    assert len(results) == 8
    assert len({t["accountId"] for t, _ in results.values()}) == 8
    for n, (t, made) in results.items():
        mgmt = t["managementToken"]["accessToken"]
        names = [x["name"] for x in ok_json(d.get(cluster_path(t, "/databases"), mgmt))]
        assert names == ["w%d-db%d" % (n, i) for i in range(3)]
        tokens = ok_json(d.get(cluster_path(t, "/tokens"), mgmt))
        assert [x["id"] for x in tokens] == [made["id"]]
        # another tenant's account is not this token's to see
        other, _ = results[(n + 1) % 8]
        assert_error(d.get(cluster_path(other, "/databases"), mgmt), 404)
        assert_status(d.get(cluster_path(t, "/authorize"), made["accessToken"],
                            params={"database": "w%d-db0" % n, "action": "read"}), 204)
        assert_status(d.get(cluster_path(other, "/authorize"), made["accessToken"],
                            params={"database": "w%d-db0" % n, "action": "read"}), 401)


def test_a_removed_tenant_is_gone_at_once_and_the_others_stay(harness):
    d = harness
    gone, kept = tenant(d, databases=[{"name": "mydb"}], databaseTokens=[WRITER]), tenant(d)
    gone_mgmt = gone["managementToken"]["accessToken"]
    gone_db = gone["databaseTokens"][0]["accessToken"]
    jwt = dev_jwt(d, gone["admin"]["email"])
    # warm whatever caches there are
    for _ in range(2):
        assert_status(d.get(path(gone, "/clusters"), gone_mgmt), 200)
        assert_status(d.get(path(gone, "/users"), jwt), 200)
        assert_status(d.get(cluster_path(gone, "/authorize"), gone_db,
                            params={"database": "mydb", "action": "write"}), 204)
    assert_no_content(d.delete("/_test/tenants/" + gone["accountId"]))
    assert_error(d.get(path(gone, "/clusters"), gone_mgmt), 401)
    assert_error(d.get(cluster_path(gone, "/authorize"), gone_db,
                       params={"database": "mydb", "action": "write"}), 401)
    assert d.get(path(gone, "/users"), jwt).status_code in (401, 403, 404)
    # no sign-in for its admin any more
    assert d.post("/oauth/token", data={"email": gone["admin"]["email"]}).status_code != 200
    assert_status(d.get(path(kept, "/clusters"), kept["managementToken"]["accessToken"]), 200)
    assert_error(d.delete("/_test/tenants/" + gone["accountId"]), 404, contains="no such tenant")
    assert_error(d.delete("/_test/tenants/not-an-id"), 404)


@pytest.mark.parametrize("body, says", [
    ({"color": "blue"}, "color"),
    ({"databases": {"name": "x"}}, "databases must be an array"),
    ({"databases": ["x"]}, "databases[0] must be an object"),
    ({"databases": [{"name": "x", "accountId": "11111111-1111-4111-8111-111111111111"}]},
     "databases[0].accountId is the tenant's own"),
    ({"databaseTokens": [dict(WRITER, accessToken="apiv1_x")]}, "accessToken"),
    ({"databases": [{"name": "bad name!"}]}, "databases[0]"),
    ({"databaseTokens": [WRITER]}, "databaseTokens[0]"),  # no database mydb
    ({"adminEmail": "not an address"}, "users[0]"),
])
def test_a_tenant_that_breaks_a_rule_is_refused_whole(harness, body, says):
    d = harness
    body = dict(body, adminEmail=body.get("adminEmail", "refused-%d@tenant.test" % id(body)))
    assert_error(d.post("/_test/tenants", json=body), 400, contains=says)
    # nothing was written: the admin it named cannot sign in
    assert d.post("/oauth/token", data={"email": body["adminEmail"]}).status_code != 200


def test_tenants_need_testing_mode(daemon_factory):
    d = daemon_factory(seed=False, config_extra="[dev_idp]\nenabled = true\n")
    assert_error(d.post("/_test/tenants", json={}), 404)
    assert_error(d.delete("/_test/tenants/11111111-1111-4111-8111-111111111111"), 404)


def test_a_tenant_reset_puts_it_back_and_leaves_the_others_alone(harness):
    d = harness
    one = tenant(d, databases=[{"name": "mydb"}], databaseTokens=[WRITER])
    two = tenant(d)
    mgmt1, mgmt2 = one["managementToken"]["accessToken"], two["managementToken"]["accessToken"]
    writer = one["databaseTokens"][0]
    # changes to both after they were made
    ok_json(d.post(cluster_path(one, "/databases"), mgmt1, json={"name": "extra"}))
    assert_no_content(d.delete(cluster_path(one, "/tokens/" + writer["id"]), mgmt1))
    later = ok_json(d.post(cluster_path(one, "/tokens"), mgmt1, json={
        "description": "later", "permissions": [{"action": "read", "resource": "mydb"}]}))
    ok_json(d.post(cluster_path(two, "/databases"), mgmt2, json={"name": "kept"}))
    authorize = {"database": "mydb", "action": "write"}
    assert_error(d.get(cluster_path(one, "/authorize"), writer["accessToken"],
                       params=authorize), 401)

    assert_no_content(d.post("/_test/tenants/%s/reset" % one["accountId"]))
    # as it was made: its database only, the revoked token back, the later one gone, the
    # same management token
    assert [x["name"] for x in ok_json(d.get(cluster_path(one, "/databases"), mgmt1))] == \
        ["mydb"]
    assert_status(d.get(cluster_path(one, "/authorize"), writer["accessToken"],
                        params=authorize), 204)
    assert_error(d.get(cluster_path(one, "/authorize"), later["accessToken"],
                       params={"database": "mydb", "action": "read"}), 401)
    # the other tenant kept its change
    assert [x["name"] for x in ok_json(d.get(cluster_path(two, "/databases"), mgmt2))] == \
        ["kept"]
    # only tenants made here, and still there
    assert_error(d.post("/_test/tenants/11111111-1111-4111-8111-111111111111/reset"), 404)
    assert_error(d.post("/_test/tenants/not-an-id/reset"), 404)
    assert_no_content(d.delete("/_test/tenants/" + two["accountId"]))
    assert_error(d.post("/_test/tenants/%s/reset" % two["accountId"]), 404)
    assert_no_content(d.post("/_test/reset"))
    assert_error(d.post("/_test/tenants/%s/reset" % one["accountId"]), 404,
                 contains="since the last reset")
