"""Token lifecycle (mgmtd extensions, docs/tokens.md "Lifecycle"): rotation with a grace
window and suspension/resumption, for management and database tokens, through the real
daemon on the fake clock ([testing]). Dates are computed at run time from the clock the
suite reads, so the file passes with the clock years ahead; no assertion rests on how long
anything takes, except the PostgreSQL replica bound the credential caches document.
"""
import datetime as dt
import re
import time

import pytest
import requests

from conftest import (
    ACCOUNT_A,
    DB_TOKEN_RE,
    HTTP_TIMEOUT,
    MGMT_TOKEN_RE,
    assert_error,
    assert_no_content,
    assert_secret_absent,
    clusters_path,
    db_tokens_path,
    now_utc,
    ok_json,
    rfc3339,
    tokens_path,
)
from ctl import Ctl, mgmtctl_bin  # noqa: F401 (a fixture)

CONFIG = "[testing]\nenabled = true\n[metrics]\nenabled = true\n[server]\nthreads = 2\n"
SESSIONS = 6  # kept-alive connections: more than the worker threads, so every cache is warm
PG_BOUND_S = 1.2  # test_credcache.py: the oldest a PostgreSQL replica's cache entry can be


def audit_path(account=ACCOUNT_A):
    return "/api/v0/accounts/%s/audit" % account


def start_clock(d):
    """Freezes d's clock a little ahead of the suite's (JWTs the suite signs are then never
    issued in the server's future); returns that instant."""
    t0 = now_utc().replace(microsecond=0) + dt.timedelta(minutes=5)
    ok_json(d.put("/_test/clock", json={"now": rfc3339(t0)}))
    return t0


def advance(d, by):
    ok_json(d.post("/_test/clock/advance", json={"by": by}))


@pytest.fixture
def lc(daemon_factory):
    d = daemon_factory(config_extra=CONFIG)
    d.t0 = start_clock(d)
    return d


def sessions_of():
    return [requests.Session() for _ in range(SESSIONS)]


def ask(sessions, url, token, params=None):
    return [s.get(url, headers={"Authorization": "Bearer %s" % token}, params=params,
                  timeout=HTTP_TIMEOUT).status_code for s in sessions]


def mgmt_use(d, sessions, token, times=3):
    """Every answer to `times` rounds of GET /clusters with token on every session."""
    codes = set()
    for _ in range(times):
        codes |= set(ask(sessions, d.url(clusters_path()), token))
    return codes


def metric(d, name, labels):
    m = re.search(r"^%s\{%s\} (\d+)$" % (re.escape(name), re.escape(labels)),
                  d.get("/metrics").text, re.M)
    assert m, "no %s{%s} in /metrics" % (name, labels)
    return int(m.group(1))


def events(d, action):
    page = ok_json(d.get(audit_path(), d.jwt(), params={"action": action, "limit": 100}))
    return page["events"]


def mgmt_path(token_id, verb=None):
    return tokens_path(token_id=token_id) + ("/" + verb if verb else "")


def db_path(token_id, verb=None):
    return db_tokens_path(token_id=token_id) + ("/" + verb if verb else "")


def cluster_id(d):
    return ok_json(d.get(clusters_path(), d.jwt()))[0]["id"]


# ---------------------------------------------------------------------------
# Management tokens: rotation


def test_a_client_switching_during_the_grace_never_fails_and_the_old_secret_ends_on_time(lc):
    d = lc
    tok = d.create_token("rotated", expiresAt=rfc3339(d.t0 + dt.timedelta(days=30)))
    old = tok["accessToken"]
    sessions = sessions_of()
    assert mgmt_use(d, sessions, old) == {200}  # the caches hold it on every thread
    uses_before = metric(d, "mgmtd_token_previous_secret_uses_total",
                         'kind="management_token"')

    rotated = ok_json(d.post(mgmt_path(tok["id"], "rotate"), d.jwt(),
                             json={"graceSeconds": 600}))
    new = rotated["accessToken"]
    assert MGMT_TOKEN_RE.fullmatch(new) and new != old
    for field in ("id", "description", "expiresAt", "createdAt", "createdBy"):
        assert rotated[field] == tok[field], field
    assert rotated["tokenPrefix"] == new[:len(rotated["tokenPrefix"])]
    assert rotated["status"] == "active"
    assert rotated["previousSecretExpiresAt"] == rfc3339(d.t0 + dt.timedelta(seconds=600))

    # the switch: old and new side by side, nothing fails
    assert mgmt_use(d, sessions, old) == {200}
    assert mgmt_use(d, sessions, new) == {200}
    advance(d, "599s")
    assert mgmt_use(d, sessions, old) == {200}
    assert mgmt_use(d, sessions, new) == {200}
    assert metric(d, "mgmtd_token_previous_secret_uses_total",
                  'kind="management_token"') - uses_before >= 2 * 3 * SESSIONS

    # get and list show the grace and the previous secret's last use, never a secret
    got = d.get(mgmt_path(tok["id"]), d.jwt())
    assert_secret_absent(got.text, old)
    assert_secret_absent(got.text, new)
    body = ok_json(got)
    assert body["previousSecretExpiresAt"] == rotated["previousSecretExpiresAt"]
    # written at t0, then again at t0 + 599 s (at most once a minute)
    assert body["previousSecretLastUsedAt"] == rfc3339(d.t0 + dt.timedelta(seconds=599))
    listed = [t for t in d.list_tokens() if t["id"] == tok["id"]]
    assert listed[0]["previousSecretExpiresAt"] == rotated["previousSecretExpiresAt"]

    # the grace ends: the old secret is refused from the very first request, caches warm
    advance(d, "1s")
    assert mgmt_use(d, sessions, old) == {401}
    assert mgmt_use(d, sessions, new) == {200}
    r = d.get(clusters_path(), old)
    assert_error(r, 401, contains="rotation")
    assert "previousSecretExpiresAt" not in ok_json(d.get(mgmt_path(tok["id"]), d.jwt()))

    # one audit row names the token (throttled: many refusals, one row a minute)
    rows = events(d, "management_token.used_after_rotation")
    assert len(rows) == 1
    assert rows[0]["objectId"] == tok["id"]
    assert rows[0]["outcome"] == "refused"
    assert_secret_absent(str(rows), old)
    advance(d, "61s")
    assert mgmt_use(d, sessions, old, times=1) == {401}
    assert len(events(d, "management_token.used_after_rotation")) == 2
    assert metric(d, "mgmtd_authentications_total",
                  'kind="management_token",result="used_after_rotation"') >= SESSIONS
    rot = events(d, "management_token.rotate")
    assert [e["objectId"] for e in rot] == [tok["id"]]
    assert rot[0]["outcome"] == "success"


def test_rotating_twice_ends_the_oldest_secret_now(lc):
    d = lc
    tok = d.create_token("twice")
    s0 = tok["accessToken"]
    sessions = sessions_of()
    assert mgmt_use(d, sessions, s0) == {200}
    s1 = ok_json(d.post(mgmt_path(tok["id"], "rotate"), d.jwt(),
                        json={"graceSeconds": 3600}))["accessToken"]
    assert mgmt_use(d, sessions, s1) == {200}
    second = ok_json(d.post(mgmt_path(tok["id"], "rotate"), d.jwt(),
                            json={"graceSeconds": 60}))
    s2 = second["accessToken"]
    assert len({s0, s1, s2}) == 3
    assert mgmt_use(d, sessions, s0) == {401}
    assert mgmt_use(d, sessions, s1) == {200}
    assert mgmt_use(d, sessions, s2) == {200}
    assert second["previousSecretExpiresAt"] == rfc3339(d.t0 + dt.timedelta(seconds=60))


def test_grace_default_zero_and_bounds(lc):
    d = lc
    tok = d.create_token("bounds")
    # no body: the default grace, an hour
    r = ok_json(d.post(mgmt_path(tok["id"], "rotate"), d.jwt()))
    assert r["previousSecretExpiresAt"] == rfc3339(d.t0 + dt.timedelta(hours=1))
    for body, field in [({"graceSeconds": -1}, "graceSeconds"),
                        ({"graceSeconds": 7 * 86400 + 1}, "graceSeconds"),
                        ({"graceSeconds": "60"}, "graceSeconds"),
                        ({"graceSeconds": 1.5}, "graceSeconds"),
                        ({"grace": 60}, "grace")]:
        assert_error(d.post(mgmt_path(tok["id"], "rotate"), d.jwt(), json=body), 400,
                     contains=field)
    # the maximum is accepted
    r = ok_json(d.post(mgmt_path(tok["id"], "rotate"), d.jwt(),
                       json={"graceSeconds": 7 * 86400}))
    assert r["previousSecretExpiresAt"] == rfc3339(d.t0 + dt.timedelta(days=7))
    # 0: the previous secret ends now
    before = r["accessToken"]
    r = ok_json(d.post(mgmt_path(tok["id"], "rotate"), d.jwt(), json={"graceSeconds": 0}))
    assert "previousSecretExpiresAt" not in r
    assert_error(d.get(clusters_path(), before), 401)
    assert ok_json(d.get(clusters_path(), r["accessToken"]))
    # unknown token
    assert_error(d.post(mgmt_path("00000000-0000-4000-8000-000000000000", "rotate"),
                        d.jwt(), json={}), 404)
    assert_error(d.post(mgmt_path("not-a-uuid", "rotate"), d.jwt(), json={}), 404)


def test_revoke_after_rotate_ends_every_secret_and_revoked_or_expired_cannot_rotate(lc):
    d = lc
    tok = d.create_token("revoked")
    old = tok["accessToken"]
    sessions = sessions_of()
    new = ok_json(d.post(mgmt_path(tok["id"], "rotate"), d.jwt(),
                         json={"graceSeconds": 600}))["accessToken"]
    assert mgmt_use(d, sessions, old) == {200}
    assert mgmt_use(d, sessions, new) == {200}
    assert_no_content(d.delete(mgmt_path(tok["id"]), d.jwt()))
    assert mgmt_use(d, sessions, old) == {401}
    assert mgmt_use(d, sessions, new) == {401}
    for verb in ("rotate", "suspend", "resume"):
        assert_error(d.post(mgmt_path(tok["id"], verb), d.jwt(), json={}), 409)

    short = d.create_token("short", expiresAt=rfc3339(d.t0 + dt.timedelta(minutes=2)))
    advance(d, "3m")
    assert_error(d.post(mgmt_path(short["id"], "rotate"), d.jwt(), json={}), 409,
                 contains="expired")


def test_a_rotation_racing_a_revocation_leaves_no_secret_working(lc):
    """Rotations and a revocation sent at once, on several connections: whichever commits
    first, the token ends revoked and neither the old secret nor any new one works."""
    import threading

    d = lc
    for _ in range(3):
        tok = d.create_token("race")
        jwt = d.jwt()
        secrets, codes = [tok["accessToken"]], []
        lock = threading.Lock()

        def rotate():
            r = requests.post(d.url(mgmt_path(tok["id"], "rotate")), json={"graceSeconds": 600},
                              headers={"Authorization": "Bearer %s" % jwt}, timeout=HTTP_TIMEOUT)
            with lock:
                codes.append(r.status_code)
                if r.status_code == 200:
                    secrets.append(r.json()["accessToken"])

        def revoke():
            r = requests.delete(d.url(mgmt_path(tok["id"])),
                                headers={"Authorization": "Bearer %s" % jwt}, timeout=HTTP_TIMEOUT)
            with lock:
                codes.append(r.status_code)

        threads = [threading.Thread(target=f) for f in (rotate, rotate, revoke, rotate)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert set(codes) <= {200, 204, 409}, codes
        assert 204 in codes
        for secret in secrets:
            assert_error(d.get(clusters_path(), secret), 401)


# ---------------------------------------------------------------------------
# Management tokens: suspension


def test_suspend_and_resume_a_management_token(lc):
    d = lc
    tok = d.create_token("suspended")
    secret = tok["accessToken"]
    sessions = sessions_of()
    assert mgmt_use(d, sessions, secret) == {200}
    s = ok_json(d.post(mgmt_path(tok["id"], "suspend"), d.jwt()))
    assert s["status"] == "suspended"
    assert s["suspendedAt"] == rfc3339(d.t0)
    assert s["suspendedBy"] == d.user_id("admin")
    assert_secret_absent(str(s), secret)
    assert mgmt_use(d, sessions, secret) == {401}
    assert_error(d.get(clusters_path(), secret), 401, contains="suspended")
    # idempotent: the first suspension stays
    advance(d, "1m")
    again = ok_json(d.post(mgmt_path(tok["id"], "suspend"), d.jwt()))
    assert again["suspendedAt"] == s["suspendedAt"]
    # the lists filter by it
    ids = lambda status: [t["id"] for t in d.list_tokens(params={"status": status})]
    assert tok["id"] in ids("suspended")
    assert tok["id"] not in ids("active")
    assert_error(d.get(tokens_path(), d.jwt(), params={"status": "paused"}), 400,
                 contains="suspended")
    # resumed: works again from the next request
    r = ok_json(d.post(mgmt_path(tok["id"], "resume"), d.jwt()))
    assert r["status"] == "active" and "suspendedAt" not in r
    assert mgmt_use(d, sessions, secret) == {200}
    assert ok_json(d.post(mgmt_path(tok["id"], "resume"), d.jwt()))["status"] == "active"
    assert tok["id"] in ids("active")
    acts = [e["action"] for e in events(d, "management_token.*")
            if e.get("objectId") == tok["id"]]
    assert acts[:4] == ["management_token.resume", "management_token.resume",
                        "management_token.suspend", "management_token.suspend"]


# ---------------------------------------------------------------------------
# Rights: those of revocation


@pytest.mark.parametrize("verb", ["rotate", "suspend", "resume"])
def test_rights_of_each_group(lc, verb):
    d = lc
    minted = d.create_token("credential")["accessToken"]
    cid = cluster_id(d)
    for cred, want in [(d.jwt("member"), 403), (d.jwt("auditor"), 403),
                       (d.jwt("admin"), 200), (minted, 200)]:
        tok = d.create_token("target")
        r = d.post(mgmt_path(tok["id"], verb), cred, json={})
        assert r.status_code == want, (verb, want, r.text)
        dbt = d.create_db_token([("read", "*")])
        r = d.post(db_tokens_path(cluster=cid, token_id=dbt["id"]) + "/" + verb, cred, json={})
        assert r.status_code == want, (verb, want, r.text)
    denied = [e for e in events(d, "management_token.%s" % verb) if e["outcome"] == "denied"]
    assert len(denied) == 2


# ---------------------------------------------------------------------------
# Database tokens


def test_database_token_rotation_suspension_and_audit(lc):
    d = lc
    cid = cluster_id(d)
    db = d.create_database()["name"]
    tok = d.create_db_token([("read", db)], description="reader")
    old = tok["accessToken"]
    sessions = sessions_of()
    url = d.url(clusters_path() + "/%s/authorize" % cid)
    use = lambda secret: set().union(*[ask(sessions, url, secret,
                                           params={"database": db, "action": "read"})
                                       for _ in range(3)])
    assert use(old) == {204}
    uses_before = metric(d, "mgmtd_token_previous_secret_uses_total", 'kind="database_token"')
    rotated = ok_json(d.post(db_tokens_path(cluster=cid, token_id=tok["id"]) + "/rotate",
                             d.jwt(), json={"graceSeconds": 120}))
    new = rotated["accessToken"]
    assert DB_TOKEN_RE.fullmatch(new) and new != old
    assert rotated["id"] == tok["id"]
    assert rotated["permissions"] == tok["permissions"]
    assert rotated["description"] == "reader"
    assert rotated["previousSecretExpiresAt"] == rfc3339(d.t0 + dt.timedelta(seconds=120))
    assert use(old) == {204}
    assert use(new) == {204}
    assert metric(d, "mgmtd_token_previous_secret_uses_total",
                  'kind="database_token"') - uses_before >= 3 * SESSIONS
    got = ok_json(d.get(db_tokens_path(cluster=cid, token_id=tok["id"]), d.jwt()))
    assert got["previousSecretLastUsedAt"] == rfc3339(d.t0)
    listed = ok_json(d.get(db_tokens_path(cluster=cid), d.jwt()))
    assert [t["previousSecretExpiresAt"] for t in listed if t["id"] == tok["id"]] == \
        [rotated["previousSecretExpiresAt"]]
    advance(d, "120s")
    assert use(old) == {401}
    assert use(new) == {204}
    rows = events(d, "database_token.used_after_rotation")
    assert [r["objectId"] for r in rows] == [tok["id"]]

    # suspension: refused like a revoked token, then back
    s = ok_json(d.post(db_tokens_path(cluster=cid, token_id=tok["id"]) + "/suspend", d.jwt()))
    assert s["suspendedAt"]
    assert use(new) == {401}
    r = ok_json(d.post(db_tokens_path(cluster=cid, token_id=tok["id"]) + "/resume", d.jwt()))
    assert "suspendedAt" not in r
    assert use(new) == {204}
    acts = {e["action"] for e in events(d, "database_token.*")
            if e.get("objectId") == tok["id"]}
    assert {"database_token.rotate", "database_token.suspend",
            "database_token.resume", "database_token.used_after_rotation"} <= acts

    # revoked: nothing works, nothing more can be done
    again = ok_json(d.post(db_tokens_path(cluster=cid, token_id=tok["id"]) + "/rotate",
                           d.jwt(), json={"graceSeconds": 600}))["accessToken"]
    assert use(new) == {204}
    assert_no_content(d.delete(db_tokens_path(cluster=cid, token_id=tok["id"]), d.jwt()))
    assert use(new) == {401}
    assert use(again) == {401}
    for verb in ("rotate", "suspend", "resume"):
        assert_error(d.post(db_tokens_path(cluster=cid, token_id=tok["id"]) + "/" + verb,
                            d.jwt(), json={}), 409)


# ---------------------------------------------------------------------------
# PostgreSQL: another replica honours the end of a grace and a suspension


@pytest.mark.postgres_only
def test_a_replica_honours_the_end_of_a_grace_and_a_suspension(daemon_factory):
    a = daemon_factory(config_extra=CONFIG)
    b = daemon_factory(replica_of=a, config_extra=CONFIG)
    t0 = start_clock(a)
    ok_json(b.put("/_test/clock", json={"now": rfc3339(t0)}))
    tok = a.create_token("replicated")
    old = tok["accessToken"]
    sessions = sessions_of()
    assert mgmt_use(b, sessions, old) == {200}
    new = ok_json(a.post(mgmt_path(tok["id"], "rotate"), a.jwt(),
                         json={"graceSeconds": 60}))["accessToken"]
    # b hears of the rotation within the caches' bound; then its caches hold the grace
    time.sleep(PG_BOUND_S)
    assert mgmt_use(b, sessions, old) == {200}
    assert mgmt_use(b, sessions, new) == {200}
    # the end of the grace is a time: b refuses from its first request past it
    advance(b, "60s")
    assert mgmt_use(b, sessions, old) == {401}
    assert mgmt_use(b, sessions, new) == {200}

    # a suspension through a holds on b within the bound
    ok_json(a.post(mgmt_path(tok["id"], "suspend"), a.jwt()))
    deadline = time.monotonic() + PG_BOUND_S
    while time.monotonic() < deadline and mgmt_use(b, sessions, new, times=1) != {401}:
        pass
    assert mgmt_use(b, sessions, new) == {401}
    ok_json(a.post(mgmt_path(tok["id"], "resume"), a.jwt()))
    deadline = time.monotonic() + PG_BOUND_S
    while time.monotonic() < deadline and mgmt_use(b, sessions, new, times=1) != {200}:
        pass
    assert mgmt_use(b, sessions, new) == {200}


# ---------------------------------------------------------------------------
# mgmtctl (mgmtd extensions): rotate prints as create does, suspend and resume say so


def test_mgmtctl_rotate_suspend_resume_both_kinds(lc, mgmtctl_bin, tmp_path):
    d = lc
    ctl = Ctl(mgmtctl_bin, d, tmp_path / "home", token=d.jwt("admin"))
    tok = d.create_token("by mgmtctl")
    res = ctl.ok("management", "rotate", tok["id"], "--grace", "10m")
    secret = res.stdout.strip().splitlines()[-1]
    assert MGMT_TOKEN_RE.fullmatch(secret) and secret != tok["accessToken"]
    assert tok["id"] in res.stdout
    until = rfc3339(d.t0 + dt.timedelta(minutes=10))
    assert "the previous token keeps working until %s" % until in res.stderr
    assert "only time" in res.stderr
    assert ok_json(d.get(clusters_path(), secret)) is not None
    assert ok_json(d.get(clusters_path(), tok["accessToken"])) is not None

    out = ctl.json("management", "rotate", tok["id"], "--grace", "0")
    assert out["id"] == tok["id"] and MGMT_TOKEN_RE.fullmatch(out["access_token"])
    assert "the previous token no longer works" in ctl.run(
        "management", "rotate", tok["id"], "--grace", "0", "--format", "json").stderr
    for bad in ("1.5s", "soon", "8d"):
        r = ctl.run("management", "rotate", tok["id"], "--grace", bad)
        assert r.returncode != 0, bad

    assert ctl.ok("management", "suspend", tok["id"]).stdout == \
        "suspended management token %s\n" % tok["id"]
    assert ok_json(d.get(mgmt_path(tok["id"]), d.jwt()))["status"] == "suspended"
    # the JSON of the lists keeps influxctl's keys, and adds the lifecycle's when set
    listed = [t for t in ctl.json("management", "list") if t["id"] == tok["id"]]
    assert listed[0]["suspended_at"]["seconds"] == int(d.t0.timestamp())
    assert ctl.ok("management", "resume", tok["id"]).stdout == \
        "resumed management token %s\n" % tok["id"]
    assert ok_json(d.get(mgmt_path(tok["id"]), d.jwt()))["status"] == "active"

    cid = cluster_id(d)
    ctl = Ctl(mgmtctl_bin, d, tmp_path / "home2", token=d.jwt("admin"), cluster=cid)
    dbt = d.create_db_token([("read", "*")])
    res = ctl.ok("token", "rotate", dbt["id"])  # the default grace, an hour
    secret = res.stdout.strip().splitlines()[-1]
    assert DB_TOKEN_RE.fullmatch(secret) and secret != dbt["accessToken"]
    assert "until %s" % rfc3339(d.t0 + dt.timedelta(hours=1)) in res.stderr
    assert ctl.ok("token", "suspend", dbt["id"]).stdout == \
        "suspended database token %s\n" % dbt["id"]
    got = ok_json(d.get(db_tokens_path(cluster=cid, token_id=dbt["id"]), d.jwt()))
    assert got["suspendedAt"]
    shown = [t for t in ctl.json("token", "list") if t["id"] == dbt["id"]][0]
    assert "suspended_at" in shown and "previous_secret_expires_at" in shown
    assert ctl.ok("token", "resume", dbt["id"]).stdout == \
        "resumed database token %s\n" % dbt["id"]
    # refusals come back as errors: a revoked token
    assert_no_content(d.delete(db_tokens_path(cluster=cid, token_id=dbt["id"]), d.jwt()))
    r = ctl.run("token", "suspend", dbt["id"])
    assert r.returncode != 0 and "revoked" in r.stderr
    # members may not
    member = Ctl(mgmtctl_bin, d, tmp_path / "home3", token=d.jwt("member"), cluster=cid)
    assert member.run("management", "suspend", tok["id"]).returncode != 0
