"""Cloud Dedicated's own delays, as the test harness models them (issue 25, docs/testing.md
"Cloud Dedicated's own delays", docs/api.md "Test harness"): a new database token refused
at /authorize for N seconds, a deleted database's name held for N seconds, deleted
databases and tables purged after N days. Each walked with the fake clock (no sleeping,
no date of the calendar: every instant is computed from the run's own now), off by
default, absent with testing off, set in the config or at runtime."""

import base64
import os

import pytest

from conftest import (
    assert_error,
    assert_no_content,
    now_utc,
    ok_json,
    rfc3339,
)

TESTING = "[testing]\nenabled = true\n[dev_idp]\nenabled = true\n"
OFF = {"tokenActivationSeconds": 0, "databaseNameHoldSeconds": 0, "purgeAfterDays": 0}


@pytest.fixture(scope="module")
def harness(mgmtd_bin, idp, tmp_path_factory):
    from conftest import _Factory, _stop_all

    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("delays"), idp)
    yield f(seed=False, config_extra=TESTING)
    _stop_all(f)


@pytest.fixture
def d(harness):
    """The shared daemon with the clock frozen at the real now; the delays and the real
    clock back after the test."""
    ok_json(harness.put("/_test/clock", json={"now": rfc3339(now_utc())}))
    yield harness
    assert_no_content(harness.delete("/_test/delays"))
    assert_no_content(harness.delete("/_test/clock"))


class Tenant:
    """A tenant of the harness (POST /_test/tenants) and its paths."""

    def __init__(self, d, **body):
        self.d = d
        t = ok_json(d.post("/_test/tenants", json=body))
        self.body = t
        self.mgmt = t["managementToken"]["accessToken"]
        self.base = "/api/v0/accounts/%s/clusters/%s" % (t["accountId"], t["clusterId"])

    def get(self, path, **kw):
        return self.d.get(self.base + path, self.mgmt, **kw)

    def post(self, path, **kw):
        return self.d.post(self.base + path, self.mgmt, **kw)

    def put(self, path, **kw):
        return self.d.put(self.base + path, self.mgmt, **kw)

    def delete(self, path):
        return self.d.delete(self.base + path, self.mgmt)

    def authorize(self, token, database, action="write"):
        return self.d.get(self.base + "/authorize",
                          params={"database": database, "action": action},
                          headers={"Authorization": "Bearer " + token})

    def db_token(self, database):
        return ok_json(self.post("/tokens", json={
            "description": "writer", "permissions": [{"action": "write",
                                                      "resource": database}]}))

    def create_database(self, name):
        return self.post("/databases", json={"name": name})


def set_delays(d, **fields):
    return ok_json(d.put("/_test/delays", json=fields))


def advance(d, by):
    return ok_json(d.post("/_test/clock/advance", json={"by": by}))


def unknown_token():
    return "apiv1_" + base64.urlsafe_b64encode(os.urandom(64)).rstrip(b"=").decode()


# ---------------------------------------------------------------------------
# off by default, absent without testing

def test_routes_do_not_exist_unless_testing_is_enabled(server):
    for method in ("GET", "PUT", "DELETE"):
        r = server.request(method, "/_test/delays", json={"tokenActivationSeconds": 1})
        assert_error(r, 404)


def test_every_delay_is_off_by_default(d):
    assert ok_json(d.get("/_test/delays")) == OFF
    t = Tenant(d, databases=[{"name": "db"}])
    token = t.db_token("db")["accessToken"]
    assert t.authorize(token, "db").status_code == 204  # at once
    assert_no_content(t.delete("/databases/db"))
    again = ok_json(t.create_database("db"))  # the name is free at once
    assert_no_content(t.delete("/databases/db"))
    deleted = ok_json(t.get("/databases", params={"status": "deleted"}))
    assert len(deleted) == 2
    advance(d, "3650d")  # kept forever
    assert len(ok_json(t.get("/databases", params={"status": "deleted"}))) == 2
    assert ok_json(t.put("/databases/%d/undelete" % deleted[0]["id"]))["name"] == "db"
    assert again["name"] == "db"


# ---------------------------------------------------------------------------
# the runtime route

def test_put_sets_the_fields_it_names_and_delete_goes_back_to_the_config(d):
    assert set_delays(d, tokenActivationSeconds=5) == dict(OFF, tokenActivationSeconds=5)
    got = set_delays(d, databaseNameHoldSeconds=180, purgeAfterDays=7)
    assert got == {"tokenActivationSeconds": 5, "databaseNameHoldSeconds": 180,
                   "purgeAfterDays": 7}
    assert ok_json(d.get("/_test/delays")) == got
    # a reset of the store leaves the delays, as it leaves the clock and the faults
    assert_no_content(d.post("/_test/reset"))
    assert ok_json(d.get("/_test/delays")) == got
    assert_no_content(d.delete("/_test/delays"))
    assert ok_json(d.get("/_test/delays")) == OFF


@pytest.mark.parametrize("body,said", [
    ({}, "at least one field"),
    ({"tokenActivation": 5}, "tokenActivation"),
    ({"tokenActivationSeconds": -1}, "tokenActivationSeconds"),
    ({"databaseNameHoldSeconds": 604801}, "databaseNameHoldSeconds"),
    ({"purgeAfterDays": 3651}, "purgeAfterDays"),
    ({"purgeAfterDays": "7"}, "purgeAfterDays"),
    ({"purgeAfterDays": 1.5}, "purgeAfterDays"),
])
def test_a_refused_put_changes_nothing(d, body, said):
    set_delays(d, tokenActivationSeconds=9)
    assert_error(d.put("/_test/delays", json=body), 400, contains=said)
    assert ok_json(d.get("/_test/delays")) == dict(OFF, tokenActivationSeconds=9)


def test_put_needs_json(d):
    r = d.put("/_test/delays", data="tokenActivationSeconds=5",
              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 415)


def test_the_configured_delays_are_what_delete_restores(daemon_factory):
    d = daemon_factory(seed=False, config_extra="[testing]\nenabled = true\n"
                       "token_activation_seconds = 30\ndatabase_name_hold_seconds = 120\n"
                       "purge_after_days = 7\n")
    configured = {"tokenActivationSeconds": 30, "databaseNameHoldSeconds": 120,
                  "purgeAfterDays": 7}
    assert ok_json(d.get("/_test/delays")) == configured
    assert set_delays(d, tokenActivationSeconds=0, purgeAfterDays=0) == \
        dict(configured, tokenActivationSeconds=0, purgeAfterDays=0)
    assert_no_content(d.delete("/_test/delays"))
    assert ok_json(d.get("/_test/delays")) == configured
    # and the configured activation acts: refused at once, accepted 30 s later
    ok_json(d.put("/_test/clock", json={"now": rfc3339(now_utc())}))
    t = Tenant(d, databases=[{"name": "db"}])
    token = t.db_token("db")["accessToken"]
    assert_error(t.authorize(token, "db"), 401)
    advance(d, "30s")
    assert t.authorize(token, "db").status_code == 204


# ---------------------------------------------------------------------------
# a new database token's activation

def test_a_new_token_is_unknown_until_its_activation_then_works(d):
    set_delays(d, tokenActivationSeconds=60)
    t = Tenant(d, databases=[{"name": "db"}])
    made = t.db_token("db")
    token = made["accessToken"]
    # answered exactly as an unknown token, several times (the cache keeps no verdict)
    unknown = t.authorize(unknown_token(), "db")
    for _ in range(3):
        early = t.authorize(token, "db")
        assert (early.status_code, early.json()) == (unknown.status_code, unknown.json())
        assert early.headers.get("WWW-Authenticate") == unknown.headers.get("WWW-Authenticate")
    advance(d, "59s")
    assert_error(t.authorize(token, "db"), 401)
    advance(d, "1s")  # 60 s after createdAt
    for _ in range(3):
        assert t.authorize(token, "db").status_code == 204
    # what it is refused for is still refused, now that it is known
    assert_error(t.authorize(token, "other"), 403)
    # the management API shows the token all along: only the data plane waits
    assert ok_json(t.get("/tokens/" + made["id"]))["id"] == made["id"]


def test_the_activation_follows_the_delay_in_force_not_an_earlier_answer(d):
    t = Tenant(d, databases=[{"name": "db"}])
    token = t.db_token("db")["accessToken"]
    assert t.authorize(token, "db").status_code == 204  # no delay: at once (and cached)
    set_delays(d, tokenActivationSeconds=120)
    assert_error(t.authorize(token, "db"), 401)  # young again under the longer delay
    advance(d, "2m")
    assert t.authorize(token, "db").status_code == 204
    fresh = t.db_token("db")["accessToken"]
    assert_error(t.authorize(fresh, "db"), 401)
    assert_no_content(d.delete("/_test/delays"))  # off: at once
    assert t.authorize(fresh, "db").status_code == 204


def test_seeded_and_tenant_tokens_count_from_their_creation(d):
    t = Tenant(d, databases=[{"name": "db"}],
               databaseTokens=[{"description": "w",
                                "permissions": [{"action": "write", "resource": "db"}]}])
    token = t.body["databaseTokens"][0]["accessToken"]
    set_delays(d, tokenActivationSeconds=10)
    assert_error(t.authorize(token, "db"), 401)
    advance(d, "10s")
    assert t.authorize(token, "db").status_code == 204


# ---------------------------------------------------------------------------
# a deleted database's name held

def test_a_deleted_name_is_held_for_create_and_rename_then_free(d):
    set_delays(d, databaseNameHoldSeconds=180)
    t = Tenant(d, databases=[{"name": "x"}, {"name": "other"}])
    other_tenant = Tenant(d)
    assert_no_content(t.delete("/databases/x"))
    held = t.create_database("x")
    assert_error(held, 409, contains='"x" is held')
    assert_error(t.put("/databases/other/rename", json={"name": "x"}), 409,
                 contains='"x" is held')
    # a name held in one cluster is free in another
    ok_json(other_tenant.create_database("x"))
    # a name never deleted, or another one, is not held
    ok_json(t.create_database("y"))
    advance(d, "2m59s")
    assert_error(t.create_database("x"), 409, contains="is held")
    advance(d, "1s")  # 180 s after the delete
    assert ok_json(t.put("/databases/other/rename", json={"name": "x"}))["name"] == "x"


def test_undelete_is_not_held_and_a_new_delete_holds_again(d):
    set_delays(d, databaseNameHoldSeconds=60)
    t = Tenant(d, databases=[{"name": "x"}])
    assert_no_content(t.delete("/databases/x"))
    [gone] = ok_json(t.get("/databases", params={"status": "deleted"}))
    # the hold keeps the name for the deleted database: it may come back at once
    assert ok_json(t.put("/databases/%d/undelete" % gone["id"]))["name"] == "x"
    advance(d, "10m")
    assert_no_content(t.delete("/databases/x"))
    assert_error(t.create_database("x"), 409, contains="is held")
    advance(d, "1m")
    ok_json(t.create_database("x"))


# ---------------------------------------------------------------------------
# deleted databases and tables purged

def test_deleted_databases_and_tables_are_purged_after_their_days(d):
    set_delays(d, purgeAfterDays=7)
    t = Tenant(d, databases=[{"name": "kept"}, {"name": "gone"}])
    ok_json(t.post("/databases/kept/tables", json={"name": "t1"}))
    ok_json(t.post("/databases/gone/tables", json={"name": "t2"}))
    assert_no_content(t.delete("/databases/kept/tables/t1"))
    assert_no_content(t.delete("/databases/gone"))
    [table] = ok_json(t.get("/databases/kept/tables", params={"status": "deleted"}))
    [database] = ok_json(t.get("/databases", params={"status": "deleted"}))

    advance(d, "7d")  # exactly 7 days: not yet
    assert ok_json(t.get("/databases", params={"status": "deleted"})) == [database]
    assert ok_json(t.get("/databases/kept/tables", params={"status": "deleted"})) == [table]
    advance(d, "1s")
    assert ok_json(t.get("/databases", params={"status": "deleted"})) == []
    assert ok_json(t.get("/databases/kept/tables", params={"status": "deleted"})) == []
    assert_error(t.put("/databases/%d/undelete" % database["id"]), 404)
    assert_error(t.put("/databases/kept/tables/%d/undelete" % table["id"]), 404)
    # gone for good, not hidden: with the purge off again they stay gone
    assert_no_content(d.delete("/_test/delays"))
    assert ok_json(t.get("/databases", params={"status": "deleted"})) == []
    assert_error(t.put("/databases/%d/undelete" % database["id"]), 404)
    # what was live stays
    assert [db["name"] for db in ok_json(t.get("/databases"))] == ["kept"]


def test_turning_the_purge_on_purges_what_is_due_at_once(d):
    t = Tenant(d, databases=[{"name": "old"}])
    assert_no_content(t.delete("/databases/old"))
    [old] = ok_json(t.get("/databases", params={"status": "deleted"}))
    advance(d, "30d")
    assert len(ok_json(t.get("/databases", params={"status": "deleted"}))) == 1
    set_delays(d, purgeAfterDays=7)
    assert_no_content(d.delete("/_test/delays"))
    assert_error(t.put("/databases/%d/undelete" % old["id"]), 404)


def test_a_purged_name_is_not_held(d):
    set_delays(d, databaseNameHoldSeconds=604800, purgeAfterDays=1)
    t = Tenant(d, databases=[{"name": "x"}])
    assert_no_content(t.delete("/databases/x"))
    assert_error(t.create_database("x"), 409, contains="is held")
    advance(d, "1d1s")
    ok_json(t.create_database("x"))
