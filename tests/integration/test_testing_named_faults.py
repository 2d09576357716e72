"""The test harness's named faults (issue 25, docs/api.md "Test harness"): rules of
PUT /_test/faults that "inject" what a suite cannot provoke from outside (the identity
provider's keys unavailable, the store read-only or full, a slow commit), met inside mgmtd
where the real failure would arise, so a client sees what the real failure gives. Both
backends (MGMTD_TEST_BACKEND)."""

import threading
import time

import pytest
import requests

from conftest import assert_error, assert_no_content, assert_status, ok_json

TESTING = "[testing]\nenabled = true\n[dev_idp]\nenabled = true\n"
READ_ONLY = "the store is read-only: changes are refused; reads still work"
FULL = ("the store is full: changes are refused until disk space is freed; "
        "reads still work")
KEYS = "the identity provider's keys are not loaded yet; retry later"
DATABASES = "/api/v0/accounts/*/clusters/*/databases"


@pytest.fixture(scope="module")
def harness(mgmtd_bin, idp, tmp_path_factory):
    from conftest import _Factory, _stop_all

    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("named-faults"), idp)
    yield f(seed=False, config_extra=TESTING)
    _stop_all(f)


@pytest.fixture
def d(harness):
    yield harness
    assert_no_content(harness.delete("/_test/faults"))


@pytest.fixture
def t(d):
    """A tenant of its own: its management token, admin JWT and paths."""
    t = ok_json(d.post("/_test/tenants", json={}))
    t["mgmt"] = t["managementToken"]["accessToken"]
    t["jwt"] = ok_json(d.post("/oauth/token", data={"email": t["admin"]["email"]}))[
        "access_token"]
    t["dbs"] = "/api/v0/accounts/%s/clusters/%s/databases" % (t["accountId"], t["clusterId"])
    t["tokens"] = "/api/v0/accounts/%s/management/tokens" % t["accountId"]
    t["audit"] = "/api/v0/accounts/%s/audit" % t["accountId"]
    yield t
    assert_no_content(d.delete("/_test/tenants/%s" % t["accountId"]))


def set_rules(d, *rules):
    return ok_json(d.request("PUT", "/_test/faults", json={"rules": list(rules)}))["rules"]


def db_names(d, t):
    return [db["name"] for db in ok_json(d.get(t["dbs"], t["mgmt"]))]


def audit_objects(d, t):
    """Every audit row's action and object of the tenant's account."""
    events = ok_json(d.get(t["audit"], t["jwt"], params={"limit": 1000}))["events"]
    return [(e.get("action"), e.get("objectId")) for e in events]


def assert_exact_error(resp, status, message):
    body = assert_error(resp, status)
    assert body == {"code": status, "message": message}, body


@pytest.mark.parametrize("inject, message", [("store_read_only", READ_ONLY),
                                              ("store_full", FULL)])
def test_a_refused_write_answers_503_and_leaves_nothing(d, t, inject, message):
    audit_before = audit_objects(d, t)
    set_rules(d, {"path": "/api/v0/accounts/*", "inject": inject})
    # a change: refused as the real failure is, and nothing of it stays
    assert_exact_error(d.post(t["dbs"], t["mgmt"], json={"name": "refused"}), 503, message)
    assert_exact_error(d.post(t["tokens"], t["jwt"], json={"description": "refused"}), 503,
                       message)
    # reads still work under the same rule, with both kinds of credential
    assert db_names(d, t) == []
    assert ok_json(d.get(t["tokens"], t["jwt"]))[0]["id"] == t["managementToken"]["id"]
    [rule] = ok_json(d.get("/_test/faults"))["rules"]
    assert (rule["inject"], rule["applied"]) == (inject, 4)
    assert_no_content(d.delete("/_test/faults"))
    # no row of the refused changes: the store could not have written it either
    assert audit_objects(d, t) == audit_before
    assert len(ok_json(d.get(t["tokens"], t["jwt"]))) == 1
    # and once the fault is taken back, the same change works
    ok_json(d.post(t["dbs"], t["mgmt"], json={"name": "refused"}))
    assert db_names(d, t) == ["refused"]


def test_only_the_requests_a_rule_picks_meet_it(d, t):
    set_rules(d, {"method": "POST", "path": DATABASES, "inject": "store_full", "times": 2})
    for name in ("a", "b"):
        assert_exact_error(d.post(t["dbs"], t["mgmt"], json={"name": name}), 503, FULL)
    ok_json(d.post(t["dbs"], t["mgmt"], json={"name": "c"}))  # times: spent
    assert db_names(d, t) == ["c"]
    [rule] = ok_json(d.get("/_test/faults"))["rules"]
    assert (rule["times"], rule["applied"]) == (2, 2)
    # another method on the same path is no pick of the rule
    set_rules(d, {"method": "DELETE", "path": DATABASES + "/*", "inject": "store_read_only"})
    ok_json(d.post(t["dbs"], t["mgmt"], json={"name": "d"}))
    assert_exact_error(d.delete(t["dbs"] + "/d", t["mgmt"]), 503, READ_ONLY)
    assert sorted(db_names(d, t)) == ["c", "d"]


def test_changes_committed_together_meet_only_their_own_fault(d, t):
    """On SQLite concurrent changes share one transaction and one commit (commitq.h):
    the faulted ones are refused alone, the others are made."""
    set_rules(d, {"method": "POST", "path": DATABASES, "inject": "store_full"})
    answers = {}

    def call(kind, i):
        if kind == "db":
            path, cred, body = t["dbs"], t["mgmt"], {"name": "c%d" % i}
        else:
            path, cred, body = t["tokens"], t["jwt"], {"description": "c%d" % i}
        answers[(kind, i)] = requests.post(d.url(path), json=body, timeout=30,
                                           headers={"Authorization": "Bearer " + cred})

    threads = [threading.Thread(target=call, args=(kind, i))
               for i in range(6) for kind in ("db", "token")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for (kind, i), r in answers.items():
        if kind == "db":
            assert_exact_error(r, 503, FULL)
        else:
            assert_status(r, 200)
    assert len(answers) == 12
    assert db_names(d, t) == []
    described = {tok["description"] for tok in ok_json(d.get(t["tokens"], t["jwt"]))}
    assert {"c%d" % i for i in range(6)} <= described


def pattern(d, t, seed, run):
    set_rules(d, {"method": "POST", "path": DATABASES, "inject": "store_read_only",
                  "probability": 0.5, "seed": seed})
    out = ""
    for i in range(24):
        r = d.post(t["dbs"], t["mgmt"], json={"name": "s%d-%d-%d" % (seed, run, i)})
        assert r.status_code in (200, 503), r.text
        out += "x" if r.status_code == 503 else "."
    return out


def test_a_seeded_named_fault_replays(d, t):
    first = pattern(d, t, 7, 1)
    assert "x" in first and "." in first, first
    assert pattern(d, t, 7, 2) == first  # set again: the same requests meet it again
    assert pattern(d, t, 8, 3) != first
    # exactly the databases whose creation met no fault exist
    made = {n for n in db_names(d, t) if n.startswith("s7-1-")}
    assert made == {"s7-1-%d" % i for i, c in enumerate(first) if c == "."}


def test_a_slow_commit_delays_the_change_and_keeps_it(d, t):
    [rule] = set_rules(d, {"method": "POST", "path": DATABASES, "inject": "slow_commit",
                           "delayMs": 300})
    assert (rule["inject"], rule["delayMs"]) == ("slow_commit", 300)
    started = time.monotonic()
    ok_json(d.post(t["dbs"], t["mgmt"], json={"name": "slow"}))
    # at least the delay: a slow machine only makes it longer
    assert time.monotonic() - started >= 0.3
    assert db_names(d, t) == ["slow"]
    assert "database.create" in [action for action, _ in audit_objects(d, t)]


def test_idp_keys_unavailable_refuses_jwts_even_cached_ones(d, t):
    users = "/api/v0/accounts/%s/users" % t["accountId"]
    # verified once, so the verified-JWT cache holds it
    assert_status(d.get(users, t["jwt"]), 200)
    set_rules(d, {"path": "/api/v0/*", "inject": "idp_keys_unavailable"})
    assert_exact_error(d.get(users, t["jwt"]), 503, KEYS)
    # as when the JWKS cannot be fetched: no verdict on the credential, so no 401
    assert_exact_error(d.post(t["dbs"], t["jwt"], json={"name": "nokeys"}), 503, KEYS)
    # tokens are not the IdP's: they work on
    assert db_names(d, t) == []
    assert_status(d.get(users, t["mgmt"]), 200)
    assert_no_content(d.delete("/_test/faults"))
    assert_status(d.get(users, t["jwt"]), 200)


def test_the_harness_paths_never_meet_named_faults(d, t):
    set_rules(d, {"path": "/*", "inject": "store_read_only"})
    # a tenant is made through /_test/: untouched
    other = ok_json(d.post("/_test/tenants", json={}))
    assert_no_content(d.delete("/_test/tenants/%s" % other["accountId"]))
    assert_exact_error(d.post(t["dbs"], t["mgmt"], json={"name": "x"}), 503, READ_ONLY)


@pytest.mark.parametrize("rule, says", [
    ({"path": "/health", "inject": "disk_on_fire"}, "rules[0].inject must be one of"),
    ({"path": "/health", "inject": 1}, "rules[0].inject must be one of"),
    ({"path": "/health", "inject": "slow_commit"}, "needs delayMs"),
    ({"path": "/health", "inject": "store_full", "delayMs": 10}, "exactly one of"),
    ({"path": "/health", "inject": "store_full", "status": 503}, "exactly one of"),
    ({"path": "/health", "inject": "slow_commit", "delayMs": 10, "drop": True},
     "exactly one of"),
    ({"path": "/health", "inject": "slow_commit", "delayMs": 0}, "delayMs"),
])
def test_named_rules_that_are_refused_change_nothing(d, rule, says):
    set_rules(d, {"path": "/ready", "inject": "store_full"})
    assert_error(d.request("PUT", "/_test/faults", json={"rules": [rule]}), 400, contains=says)
    assert [r["inject"] for r in ok_json(d.get("/_test/faults"))["rules"]] == ["store_full"]
