"""The test harness's request journal (issue 25, docs/api.md "Test harness"): every answered
request, reads and /authorize included, with its body's secrets redacted; filters, verify,
a bounded ring, and nothing of it without testing mode."""

import pytest

from conftest import assert_error, assert_no_content, assert_status, ok_json

TESTING = "[testing]\nenabled = true\n%s[dev_idp]\nenabled = true\n"


@pytest.fixture
def harness(daemon_factory):
    d = daemon_factory(seed=False, config_extra=TESTING % "")
    assert_no_content(d.delete("/_test/requests"))  # the start's GET /ready calls
    return d


def journal(d, **params):
    return ok_json(d.get("/_test/requests", params=params or None))


def test_every_request_is_there_in_order_and_no_secret_is(harness):
    d = harness
    t = ok_json(d.post("/_test/tenants", json={
        "databases": [{"name": "mydb"}],
        "databaseTokens": [{"description": "w", "permissions": [
            {"action": "write", "resource": "mydb"}]}]}))
    mgmt = t["managementToken"]["accessToken"]
    dbt = t["databaseTokens"][0]["accessToken"]
    base = "/api/v0/accounts/%s" % t["accountId"]
    cluster = "%s/clusters/%s" % (base, t["clusterId"])
    jwt = ok_json(d.post("/oauth/token", data={"email": t["admin"]["email"]}))["access_token"]
    made = ok_json(d.post(cluster + "/tokens", jwt, json={
        "description": "looks like %s inside" % mgmt, "permissions": []}))
    assert_status(d.get(cluster + "/authorize", dbt,
                        params={"database": "mydb", "action": "write"}), 204)
    assert_error(d.get(base + "/clusters", "M.V1.not-a-token"), 401)
    # secrets sent in a body, under their names and under others
    assert_error(d.post(cluster + "/tokens", jwt, json={
        "description": "x", "accessToken": made["accessToken"],
        "nested": [{"password": "hunter2"}, jwt]}), 400)
    d.post("/oauth/token", data={"grant_type": "authorization_code", "code": "the-code",
                                 "code_verifier": "the-verifier"})

    entries = journal(d)
    first = entries[0]["seq"]
    assert [e["seq"] for e in entries] == list(range(first, first + len(entries)))
    got = [(e["method"], e["route"], e["status"]) for e in entries]
    assert got[:5] == [
        ("POST", "/_test/tenants", 200),
        ("POST", "/oauth/token", 200),
        ("POST", "/api/v0/accounts/{accountId}/clusters/{clusterId}/tokens", 200),
        ("GET", "/api/v0/accounts/{accountId}/clusters/{clusterId}/authorize", 204),
        ("GET", "/api/v0/accounts/{accountId}/clusters", 401),
    ]
    assert entries[2]["actor"]["kind"] == "user" and entries[2]["actor"]["id"] == t["admin"]["id"]
    assert entries[3]["actor"] == {"kind": "databaseToken", "id": t["databaseTokens"][0]["id"]}
    assert entries[3]["path"].endswith("/authorize")
    assert entries[0]["body"] == {"databases": [{"name": "mydb"}], "databaseTokens": [
        {"description": "w", "permissions": [{"action": "write", "resource": "mydb"}]}]}
    assert entries[1]["body"] == {"email": t["admin"]["email"]}
    assert entries[5]["body"]["accessToken"] == "[redacted]"
    assert entries[5]["body"]["nested"] == [{"password": "[redacted]"}, "[redacted]"]
    assert entries[-1]["body"]["code"] == "[redacted]"
    assert entries[-1]["body"]["code_verifier"] == "[redacted]"
    text = d.get("/_test/requests").text
    for secret in (mgmt, dbt, jwt, made["accessToken"], "hunter2", "the-code", "the-verifier"):
        assert secret not in text, secret
    # a token inside a longer text is cut out of it
    assert entries[2]["body"]["description"] == "looks like [redacted] inside"


def test_filters_and_verify(harness):
    d = harness
    t = ok_json(d.post("/_test/tenants", json={}))
    mgmt = t["managementToken"]["accessToken"]
    base = "/api/v0/accounts/%s" % t["accountId"]
    for _ in range(3):
        assert_status(d.get(base + "/clusters", mgmt), 200)
    assert_error(d.get(base + "/clusters", "M.V1.nope"), 401)
    route = "/api/v0/accounts/{accountId}/clusters"
    assert len(journal(d, route=route)) == 4
    assert len(journal(d, route=route, status=200)) == 3
    assert len(journal(d, actor=t["managementToken"]["id"])) == 3
    assert len(journal(d, method="POST")) == 1
    last = journal(d)[-1]["seq"]
    assert journal(d, since=last) == []
    assert len(journal(d, since=last - 1)) == 1
    # verify: 200 with the count when it holds, 412 saying what differed
    body = ok_json(d.post("/_test/requests/verify", json={"route": route, "status": 200,
                                                          "count": 3}))
    assert body == {"count": 3}
    r = d.post("/_test/requests/verify", json={"route": route, "method": "DELETE", "count": 1})
    assert_error(r, 412, contains="expected 1 of DELETE %s" % route)
    assert "holds 0" in r.json()["message"]
    for bad in ({}, {"count": -1}, {"count": 1, "colour": "red"}, {"count": 1, "status": 99}):
        assert_error(d.post("/_test/requests/verify", json=bad), 400)
    for params in ({"since": "-1"}, {"status": "abc"}, {"status": "700"}):
        assert_error(d.get("/_test/requests", params=params), 400)
    # the journal's own routes are never in it; clearing keeps seq rising
    assert all(not e["route"].startswith("/_test/requests") for e in journal(d))
    assert_no_content(d.delete("/_test/requests"))
    assert journal(d) == []
    assert_status(d.get(base + "/clusters", mgmt), 200)
    [e] = journal(d)
    assert e["seq"] > last


def test_the_ring_keeps_the_newest(daemon_factory):
    d = daemon_factory(seed=False, config_extra=TESTING % "journal_entries = 5\n")
    for _ in range(8):
        assert_status(d.get("/health"), 200)
    seqs = [e["seq"] for e in journal(d)]
    assert len(seqs) == 5 and seqs == list(range(seqs[0], seqs[0] + 5)), seqs
    assert all(e["route"] == "/health" for e in journal(d))


def test_no_journal_without_testing_mode(daemon_factory):
    d = daemon_factory(seed=False, config_extra="[dev_idp]\nenabled = true\n")
    assert_error(d.get("/_test/requests"), 404)
    assert_error(d.post("/_test/requests/verify", json={"count": 0}), 404)
