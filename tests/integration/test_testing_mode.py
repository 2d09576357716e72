"""The test-harness mode ([testing]): POST /_test/reset, the fake clock, and
data_dir = :memory:."""

import datetime as dt
import os
import re
import subprocess
import threading

import pytest

from conftest import (
    ACCOUNT_A,
    ISSUER,
    USERS,
    assert_error,
    assert_no_content,
    assert_status,
    default_seed,
    describe_cli,
    make_mgmt_token,
    now_utc,
    ok_json,
    parse_ts,
    rfc3339,
    tokens_path,
    users_path,
)

TESTING = "[testing]\nenabled = true\n[dev_idp]\nenabled = true\n"
SEEDED_TOKEN = make_mgmt_token()


def harness_seed():
    # two providers, the suite's IdP ([idp]) and the dev IdP: the seeded subjects are the
    # suite's; the dev IdP signs in users without one (dev_jwt)
    seed = default_seed(issuer=ISSUER)
    seed["managementTokens"] = [{"accountId": ACCOUNT_A, "description": "fixed",
                                 "accessToken": SEEDED_TOKEN, "createdBy": "admin@example.com"}]
    return seed


@pytest.fixture
def harness(daemon_factory):
    return daemon_factory(seed=harness_seed(), config_extra=TESTING)


def dev_jwt(d, email="emailonly@example.com"):
    """A JWT from the dev IdP, minted at the server's (possibly fake) time, by default for
    the admin without a subject, whom its first use links to the dev IdP."""
    return ok_json(d.post("/oauth/token", data={"email": email}))["access_token"]


def set_clock(d, when):
    return d.request("PUT", "/_test/clock", json={"now": when})


def emails(d, token):
    return sorted(u["email"] for u in ok_json(d.get(users_path(), token)))


# ---------------------------------------------------------------------------
# Off unless enabled

def test_routes_do_not_exist_unless_enabled(server):
    """Every route of the harness (ROUTE_TESTING in server/routes.c), and a method none has:
    no such path, as on a server that never heard of them."""
    from test_trailing_slash import route_table
    testing = [(m, p) for m, p, flags in route_table() if "ROUTE_TESTING" in flags]
    assert len(testing) >= 20 and ("PUT", "/_test/snapshots/{name}") in testing
    for method, pattern in testing + [("PATCH", "/_test/clock")]:
        path = re.sub(r"\{accountId\}", "11111111-1111-4111-8111-111111111111",
                      re.sub(r"\{name\}", "s", pattern))
        r = server.request(method, path, json={"now": "2030-01-01T00:00:00Z"})
        assert_error(r, 404)
        assert "no such path" in r.text, (method, path, r.text)
        assert "Allow" not in r.headers


def test_startup_warns_loudly(harness):
    assert "[testing] is enabled: TEST DEVICE" in harness.log_since_start()


# ---------------------------------------------------------------------------
# Reset

def test_reset_goes_back_to_the_seed(harness):
    d = harness
    seeded = emails(d, SEEDED_TOKEN)
    jwt = dev_jwt(d)
    ok_json(d.post(users_path(), jwt, json={"email": "extra@example.com", "group": "member"}))
    made = ok_json(d.post(tokens_path(), jwt, json={"description": "made"}))
    # a seeded token, revoked
    listed = ok_json(d.get(tokens_path(), jwt))
    fixed = [t for t in listed if t["description"] == "fixed"][0]
    assert_no_content(d.delete(tokens_path(token_id=fixed["id"]), jwt))
    assert_error(d.get(users_path(), SEEDED_TOKEN), 401)

    assert_no_content(d.post("/_test/reset"))
    # the seed is back, revoked seeded token included; what was made since is gone
    assert emails(d, SEEDED_TOKEN) == seeded
    assert "extra@example.com" not in seeded
    assert_error(d.get(users_path(), made["accessToken"]), 401)
    assert [t["description"] for t in ok_json(d.get(tokens_path(), dev_jwt(d)))] == ["fixed"]
    # again: nothing changes
    assert_no_content(d.post("/_test/reset"))
    assert emails(d, SEEDED_TOKEN) == seeded
    assert "store is back to the seed" in d.log_since_start()


def test_reset_without_a_seed_empties_everything(daemon_factory):
    d = daemon_factory(seed=False, config_extra=TESTING)
    assert_no_content(d.post("/_test/reset"))
    res = d.cli("user", "list", "--account", ACCOUNT_A)
    assert res.returncode == 1 and "no account" in res.stderr, describe_cli(res)


def test_reset_is_atomic_for_requests_in_flight(harness):
    d = harness
    jwt = dev_jwt(d)
    seeded = len(emails(d, SEEDED_TOKEN))
    counts, errors = [], []
    done = threading.Event()

    def reader():
        while not done.is_set() and len(counts) < 5000:
            r = d.get(users_path(), SEEDED_TOKEN)
            if r.status_code != 200:
                errors.append(r.status_code)
            else:
                counts.append(len(r.json()))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(15):
            ok_json(d.post(users_path(), jwt, json={"email": "x%d@example.com" % i,
                                                   "group": "member"}))
            assert_no_content(d.post("/_test/reset"))
            jwt = dev_jwt(d)  # the admin was re-created (a new id); its email still matches
    finally:
        done.set()
        t.join(timeout=60)
    # before or after, never in between: the seed, or the seed and one more
    assert not errors, errors
    assert counts and set(counts) <= {seeded, seeded + 1}, sorted(set(counts))


def test_reset_bodies_and_methods(harness):
    assert_error(harness.get("/_test/reset"), 405)
    # no body needed, any body ignored
    assert_no_content(harness.post("/_test/reset", data="whatever"))


# ---------------------------------------------------------------------------
# The fake clock

def test_token_expires_when_the_clock_moves(harness):
    d = harness
    t0 = now_utc()
    body = ok_json(set_clock(d, rfc3339(t0)))
    assert body == {"now": rfc3339(t0), "fake": True, "running": False}
    assert ok_json(d.get("/_test/clock")) == body  # frozen

    jwt = dev_jwt(d)
    tok = ok_json(d.post(tokens_path(), jwt, json={
        "description": "an hour", "expiresAt": rfc3339(t0 + dt.timedelta(hours=1))}))
    assert tok["status"] == "active"
    assert tok["createdAt"] == rfc3339(t0)
    clusters = "/api/v0/accounts/%s/clusters" % ACCOUNT_A
    assert_status(d.get(clusters, tok["accessToken"]), 200)

    # two hours later, no sleep
    ok_json(set_clock(d, rfc3339(t0 + dt.timedelta(hours=2))))
    assert_error(d.get(clusters, tok["accessToken"]), 401, contains="expired")
    # the JWT minted at t0 has expired too, cached or not
    assert_error(d.get(clusters, jwt), 401, contains="expired")
    later = dev_jwt(d)  # minted at the fake time
    assert ok_json(d.get(tokens_path(token_id=tok["id"]), later))["status"] == "expired"
    listed = ok_json(d.get(tokens_path(), later, params={"status": "expired"}))
    assert [t["id"] for t in listed] == [tok["id"]]

    # back to real time: the token lives again until its expiry
    assert_no_content(d.delete("/_test/clock"))
    assert ok_json(d.get("/_test/clock"))["fake"] is False
    assert_status(d.get(clusters, tok["accessToken"]), 200)


def test_a_cached_jwt_never_outlives_exp(harness, idp):
    d = harness
    t0 = now_utc()
    jwt = idp.make_jwt(exp_offset=120)  # the suite's own IdP ([idp]), 2 minutes
    assert_status(d.get(users_path(), jwt), 200)
    assert_status(d.get(users_path(), jwt), 200)
    ok_json(set_clock(d, rfc3339(t0 + dt.timedelta(minutes=10))))
    assert_error(d.get(users_path(), jwt), 401, contains="expired")
    # and the clock going back makes it valid again: the cache holds no verdict of its own
    ok_json(set_clock(d, rfc3339(t0)))
    assert_status(d.get(users_path(), jwt), 200)
    # before it was issued (beyond the leeway), it is refused
    ok_json(set_clock(d, rfc3339(t0 - dt.timedelta(minutes=10))))
    assert_error(d.get(users_path(), jwt), 401, contains="future")


def test_clock_offsets_and_the_past(harness):
    d = harness
    assert ok_json(set_clock(d, "2030-06-01T12:00:00+02:00"))["now"] == "2030-06-01T10:00:00.000Z"
    assert ok_json(set_clock(d, "1999-12-31T23:59:59.5Z"))["now"] == "1999-12-31T23:59:59.500Z"
    # a token expiring "in the future" of a clock in the past is still validated against it
    jwt = dev_jwt(d)
    r = d.post(tokens_path(), jwt, json={"description": "x", "expiresAt": "2000-01-01T00:00:00Z"})
    assert ok_json(r)["status"] == "active"


@pytest.mark.parametrize("body, status, contains", [
    ({"now": "yesterday"}, 400, "RFC 3339"),
    ({"now": None}, 400, "now"),
    ({}, 400, "now"),
    ({"now": "2030-01-01T00:00:00Z", "speed": 2}, 400, "speed"),
    ({"now": 1893456000}, 400, "now"),
    ({"now": "2030-01-01T00:00:00Z", "running": "yes"}, 400, "running"),
])
def test_clock_refusals(harness, body, status, contains):
    assert_error(harness.request("PUT", "/_test/clock", json=body), status, contains=contains)
    assert ok_json(harness.get("/_test/clock"))["fake"] is False


def clock_ms(d):
    return parse_ts(ok_json(d.get("/_test/clock"))["now"])


def test_a_running_clock_flows_from_its_instant(harness):
    d = harness
    start = (now_utc() + dt.timedelta(days=3650)).replace(microsecond=0)  # ten years on
    body = ok_json(d.request("PUT", "/_test/clock", json={"now": rfc3339(start),
                                                           "running": True}))
    assert body["fake"] is True and body["running"] is True
    first = parse_ts(body["now"])
    assert start <= first < start + dt.timedelta(seconds=60)
    # it runs: a later reading is later, never earlier, and near the wall clock's pace
    wall = now_utc()
    while now_utc() - wall < dt.timedelta(milliseconds=30):
        pass
    second = clock_ms(d)
    assert second > first, (first, second)
    # objects made now carry the running time, and expire by it
    jwt = dev_jwt(d)
    tok = ok_json(d.post(tokens_path(), jwt, json={
        "description": "a minute", "expiresAt": rfc3339(second + dt.timedelta(minutes=1))}))
    assert second <= parse_ts(tok["createdAt"]) < second + dt.timedelta(seconds=60)
    clusters = "/api/v0/accounts/%s/clusters" % ACCOUNT_A
    assert_status(d.get(clusters, tok["accessToken"]), 200)
    # advancing keeps it running, later by as much
    before = clock_ms(d)
    body = ok_json(d.post("/_test/clock/advance", json={"by": "1h30m"}))
    assert body["running"] is True
    assert before + dt.timedelta(minutes=90) <= parse_ts(body["now"]) \
        < before + dt.timedelta(minutes=90, seconds=60)
    assert_error(d.get(clusters, tok["accessToken"]), 401, contains="expired")


def test_advancing_a_frozen_clock_keeps_it_frozen(harness):
    d = harness
    t0 = now_utc().replace(microsecond=0)
    ok_json(set_clock(d, rfc3339(t0)))
    body = ok_json(d.post("/_test/clock/advance", json={"by": "36h"}))
    assert body == {"now": rfc3339(t0 + dt.timedelta(hours=36)), "fake": True,
                    "running": False}
    body = ok_json(d.post("/_test/clock/advance", json={"by": "2d500ms"}))
    assert parse_ts(body["now"]) == t0 + dt.timedelta(days=3.5, milliseconds=500)
    assert ok_json(d.get("/_test/clock")) == body  # still frozen


def test_advancing_the_real_clock_makes_it_run_ahead(harness):
    d = harness
    assert ok_json(d.get("/_test/clock"))["fake"] is False
    body = ok_json(d.post("/_test/clock/advance", json={"by": "7d"}))
    assert body["fake"] is True and body["running"] is True
    ahead = parse_ts(body["now"]) - now_utc()
    assert dt.timedelta(days=7) - dt.timedelta(seconds=60) < ahead \
        <= dt.timedelta(days=7) + dt.timedelta(seconds=60)
    assert_no_content(d.delete("/_test/clock"))
    assert ok_json(d.get("/_test/clock"))["fake"] is False


@pytest.mark.parametrize("by", ["", "36", "h", "-1h", "1.5h", "1h 30m", "1y", "99999999d",
                                 None, 36])
def test_advance_refusals(harness, by):
    ok_json(set_clock(harness, "2030-01-01T00:00:00Z"))
    assert_error(harness.post("/_test/clock/advance", json={"by": by}), 400, contains="by")
    assert ok_json(harness.get("/_test/clock"))["now"] == "2030-01-01T00:00:00.000Z"


def test_clock_needs_json(harness):
    assert_error(harness.request("PUT", "/_test/clock", data='{"now":"2030-01-01T00:00:00Z"}',
                                 headers={"Content-Type": "text/plain"}), 415)


# ---------------------------------------------------------------------------
# :memory:

def files_under(path):
    out = set()
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            out.add(os.path.relpath(os.path.join(root, name), path))
    return out


def test_memory_mode_writes_no_file(daemon_factory):
    d = daemon_factory(seed=harness_seed(), config_extra=TESTING, data_dir=":memory:")
    before = files_under(d.workdir)
    jwt = dev_jwt(d)
    tok = ok_json(d.post(tokens_path(), jwt, json={"description": "in memory"}))
    assert_status(d.get(users_path(), tok["accessToken"]), 200)
    ok_json(d.post(users_path(), jwt, json={"email": "m@example.com", "group": "member"}))
    assert_no_content(d.post("/_test/reset"))
    assert "in memory" in d.log_since_start()
    # many threads, one database
    results = []

    def reader():
        for _ in range(20):
            results.append(d.get(users_path(), SEEDED_TOKEN).status_code)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [200] * 80
    d.stop_ok()
    # only what the test itself wrote (config, seed, JWKS, log): no data directory, no key
    assert files_under(d.workdir) == before
    assert not os.path.exists(d.workdir / "data")
    assert not os.path.exists(d.workdir / ":memory:")
    # and nothing survives a restart
    d.start()
    assert_error(d.get(users_path(), tok["accessToken"]), 401)


def test_memory_mode_from_the_config_file(daemon_factory):
    d = daemon_factory(config_extra="[server]\ndata_dir = :memory:\n", start=False)
    d.data_dir = ":memory:"
    d.start()
    assert_status(d.get(users_path(), d.jwt()), 200)
    assert not os.path.exists(d.workdir / "data")


def test_offline_commands_refuse_memory(daemon_factory):
    d = daemon_factory(data_dir=":memory:")
    res = d.cli("user", "list", "--account", ACCOUNT_A)
    assert res.returncode == 1 and ":memory:" in res.stderr, describe_cli(res)
    res = d.cli("token", "mint", "--email", "admin@example.com")
    assert res.returncode == 1, describe_cli(res)


def test_memory_mode_refuses_a_token_key_file(daemon_factory):
    d = daemon_factory(data_dir=":memory:", config_extra="[store]\ntoken_key_file = /tmp/x\n",
                       start=False)
    res = d.cli("check-config")
    assert res.returncode == 1 and "token_key_file" in res.stderr, describe_cli(res)


def test_seeded_users_match_the_suite(harness):
    # guards the fixtures above against a changed default seed
    assert set(emails(harness, SEEDED_TOKEN)) >= {u[0] for u in USERS.values()
                                                   if u[3] == ACCOUNT_A}


# ---------------------------------------------------------------------------
# Determinism: [testing] seed

def same_calls(d, instant):
    """A suite's calls, one after another; every answer's bytes, in order."""
    answers = []

    def keep(r):
        assert r.status_code in (200, 204), (r.status_code, r.text)
        answers.append(r.content)
        return r

    keep(d.request("PUT", "/_test/clock", json={"now": instant}))
    t = keep(d.post("/_test/tenants", json={
        "databases": [{"name": "mydb"}],
        "databaseTokens": [{"description": "w", "permissions": [
            {"action": "write", "resource": "mydb"}]}]})).json()
    mgmt = t["managementToken"]["accessToken"]
    base = "/api/v0/accounts/%s" % t["accountId"]
    cluster = "%s/clusters/%s" % (base, t["clusterId"])
    keep(d.post(cluster + "/tokens", mgmt, json={"description": "reader", "permissions": [
        {"action": "read", "resource": "mydb"}]}))
    keep(d.post(base + "/users", mgmt, json={"email": "m@example.com", "group": "member"}))
    keep(d.post(base + "/invites", mgmt, json={"email": "i@example.com", "group": "member"}))
    keep(d.get(cluster + "/tokens", mgmt))
    keep(d.get(base + "/users", mgmt))
    return answers


def test_the_same_seed_answers_the_same_bytes(daemon_factory):
    instant = rfc3339(now_utc().replace(microsecond=0))
    seeded = TESTING.replace("enabled = true\n", "enabled = true\nseed = 42\n", 1)
    one = daemon_factory(seed=False, config_extra=seeded, tokens_may_mint=True)
    two = daemon_factory(seed=False, config_extra=seeded, tokens_may_mint=True)
    first = same_calls(one, instant)
    assert first == same_calls(two, instant)
    assert "GUESSABLE" in one.log_since_start()
    # a reset starts the stream again: the same calls, the same answers once more
    assert_no_content(one.post("/_test/reset"))
    assert same_calls(one, instant) == first
    # another seed, or none, gives other ids and secrets
    other = daemon_factory(seed=False, config_extra=seeded.replace("42", "43"),
                           tokens_may_mint=True)
    assert same_calls(other, instant)[1] != first[1]
    random = daemon_factory(seed=False, config_extra=TESTING, tokens_may_mint=True)
    again = daemon_factory(seed=False, config_extra=TESTING, tokens_may_mint=True)
    assert same_calls(random, instant)[1] != same_calls(again, instant)[1]


def test_a_seed_without_testing_mode_is_refused(daemon_factory, mgmtd_bin):
    d = daemon_factory(seed=False, config_extra="[testing]\nseed = 42\n", start=False)
    res = subprocess.run([mgmtd_bin, "serve", "--config", str(d.config_path), "--data-dir",
                          str(d.data_dir), "--listen", "127.0.0.1:0"], capture_output=True,
                         text=True, timeout=30)
    assert res.returncode != 0
    assert "[testing] seed: set only with enabled = true" in res.stdout + res.stderr
