"""The test harness's injected faults (issue 25, docs/api.md "Test harness"): rules that
answer a status of their own, wait, drop or reset connections, picked with a seeded
probability so that a failing test replays, bounded by times; never on /_test/."""

import time

import pytest
import requests

from conftest import assert_error, assert_no_content, assert_status, ok_json

TESTING = "[testing]\nenabled = true\n[dev_idp]\nenabled = true\n"


@pytest.fixture(scope="module")
def harness(mgmtd_bin, idp, tmp_path_factory):
    from conftest import _Factory, _stop_all

    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("faults"), idp)
    yield f(seed=False, config_extra=TESTING)
    _stop_all(f)


@pytest.fixture
def d(harness):
    yield harness
    assert_no_content(harness.delete("/_test/faults"))


def set_rules(d, *rules):
    return ok_json(d.request("PUT", "/_test/faults", json={"rules": list(rules)}))


def fresh_get(d, path):
    """A request on a connection of its own: a dropped one must not poison the next."""
    return requests.get(d.url(path), timeout=10)


def test_a_status_rule_answers_its_status_as_often_as_told(d):
    t = ok_json(d.post("/_test/tenants", json={}))
    mgmt = t["managementToken"]["accessToken"]
    clusters = "/api/v0/accounts/%s/clusters" % t["accountId"]
    set_rules(d, {"method": "GET", "path": "/api/v0/accounts/*/clusters", "status": 503,
                  "times": 2})
    for _ in range(2):
        assert_error(d.get(clusters, mgmt), 503, contains="injected")
    assert_status(d.get(clusters, mgmt), 200)
    # another method, another path: untouched
    assert_status(d.get("/health"), 200)
    [rule] = ok_json(d.get("/_test/faults"))["rules"]
    assert (rule["status"], rule["times"], rule["applied"]) == (503, 2, 2)
    # the journal tells the injected answers too
    statuses = [e["status"] for e in ok_json(d.get(
        "/_test/requests", params={"route": "/api/v0/accounts/{accountId}/clusters"}))]
    assert statuses[-3:] == [503, 503, 200]


def test_a_delay_holds_the_request_then_lets_it_through(d):
    set_rules(d, {"path": "/health", "delayMs": 400})
    started = time.monotonic()
    assert_status(d.get("/health"), 200)
    assert time.monotonic() - started >= 0.4


def test_drop_and_reset_close_the_connection(d):
    set_rules(d, {"path": "/health", "drop": True, "times": 1},
              {"path": "/ready", "reset": True, "times": 1})
    with pytest.raises(requests.ConnectionError):
        fresh_get(d, "/health")
    with pytest.raises(requests.ConnectionError) as caught:
        fresh_get(d, "/ready")
    assert "reset" in repr(caught.value).lower() or "aborted" in repr(caught.value).lower()
    assert fresh_get(d, "/health").status_code == 200
    assert fresh_get(d, "/ready").status_code == 200


def pattern(d, seed):
    set_rules(d, {"path": "/health", "status": 502, "probability": 0.5, "seed": seed})
    return "".join("x" if fresh_get(d, "/health").status_code == 502 else "." for _ in range(40))


def test_a_seeded_probability_replays(d):
    first = pattern(d, 7)
    assert "x" in first and "." in first, first  # about half, and not all or none
    assert pattern(d, 7) == first  # set again: the same requests meet the same faults
    assert pattern(d, 8) != first


def test_the_harness_own_paths_are_never_touched(d):
    set_rules(d, {"path": "/*", "status": 500})
    assert_status(d.get("/_test/clock"), 200)
    assert_status(d.get("/_test/faults"), 200)
    assert_error(d.get("/health"), 500)


@pytest.mark.parametrize("rules, says", [
    ({"rules": [{"path": "/health"}]}, "exactly one of"),
    ({"rules": [{"path": "/health", "status": 503, "drop": True}]}, "exactly one of"),
    ({"rules": [{"path": "health", "status": 503}]}, "rules[0].path"),
    ({"rules": [{"path": "/_test/reset", "status": 503}]}, "own paths"),
    ({"rules": [{"path": "/health", "status": 99}]}, "status"),
    ({"rules": [{"path": "/health", "delayMs": 600001}]}, "delayMs"),
    ({"rules": [{"path": "/health", "drop": False}]}, "drop"),
    ({"rules": [{"path": "/health", "status": 503, "probability": 1.5}]}, "probability"),
    ({"rules": [{"path": "/health", "status": 503, "seed": -1}]}, "seed"),
    ({"rules": [{"path": "/health", "status": 503, "times": 0}]}, "times"),
    ({"rules": [{"path": "/health", "status": 503, "colour": 1}]}, "colour"),
    ({"rules": {"path": "/health"}}, "array"),
    ({}, "rules is required"),
])
def test_rules_that_are_refused_change_nothing(d, rules, says):
    set_rules(d, {"path": "/ready", "status": 503})
    assert_error(d.request("PUT", "/_test/faults", json=rules), 400, contains=says)
    assert [r["path"] for r in ok_json(d.get("/_test/faults"))["rules"]] == ["/ready"]


def test_no_faults_without_testing_mode(daemon_factory):
    d = daemon_factory(seed=False, config_extra="[dev_idp]\nenabled = true\n")
    assert_error(d.request("PUT", "/_test/faults", json={"rules": []}), 404)
    assert_error(d.get("/_test/faults"), 404)
