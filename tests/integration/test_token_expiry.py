"""Expiry nobody misses (issue 24), through the real daemon on the fake clock: database
tokens' lastUsedAt, ?expiringWithin on both token lists (and mgmtctl --expiring-within),
the mgmtd_tokens_expiring gauges, and the warning logged once per token as it enters
[tokens] expiry_warning_days, across a restart and across PostgreSQL replicas.

Every instant is computed from the clock at run time: nothing here depends on the
calendar, and the suite passes with the clock years ahead."""
import datetime as dt
import re

import pytest

from conftest import (ACCOUNT_A, CLUSTER_A, assert_error, assert_no_content, db_tokens_path,
                      ok_json, parse_ts, tokens_path, unique_name, wait_for)
from ctl import Ctl, freeze_clock, mgmtctl_bin  # noqa: F401

TESTING = "[testing]\nenabled = true\n[metrics]\nenabled = true\n"
DAY = dt.timedelta(days=1)


def iso(t: dt.datetime) -> str:
    """RFC 3339 with milliseconds, as the daemon prints times."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def advance(d, by: str) -> dt.datetime:
    return parse_ts(ok_json(d.post("/_test/clock/advance", json={"by": by}))["now"])


def clock_now(d) -> dt.datetime:
    return parse_ts(ok_json(d.get("/_test/clock"))["now"])


def long_jwt(d):
    """An admin's JWT that outlives the days the tests move the clock by."""
    return d.jwt(exp_offset=400 * 86400)


def ids(rows):
    return [r["id"] for r in rows]


@pytest.fixture
def d(daemon_factory):
    return daemon_factory(config_extra=TESTING)


# ---------------------------------------------------------------------------
# lastUsedAt of database tokens

def test_db_token_last_used_at_is_set_by_authorize_at_most_once_a_minute(d):
    t0 = freeze_clock(d)
    db = d.create_database(unique_name())["name"]
    tok = d.create_db_token([("read", db)])
    path = db_tokens_path(token_id=tok["id"])
    admin = d.jwt()
    assert "lastUsedAt" not in tok
    assert "lastUsedAt" not in ok_json(d.get(path, admin))

    assert d.authorize(tok["accessToken"], db, "read").status_code == 204
    assert parse_ts(ok_json(d.get(path, admin))["lastUsedAt"]) == t0
    # the list shows it too
    listed = {t["id"]: t for t in ok_json(d.get(db_tokens_path(), admin))}
    assert parse_ts(listed[tok["id"]]["lastUsedAt"]) == t0

    # within the minute: used again, not written again
    advance(d, "59s")
    assert d.authorize(tok["accessToken"], db, "read").status_code == 204
    assert parse_ts(ok_json(d.get(path, admin))["lastUsedAt"]) == t0

    # a minute after the last write: written again, at the clock of that request
    t2 = advance(d, "1s")
    assert d.authorize(tok["accessToken"], db, "read").status_code == 204
    assert parse_ts(ok_json(d.get(path, admin))["lastUsedAt"]) == t2

    # a refused check (revoked) records no use
    assert_no_content(d.delete(path, admin))
    advance(d, "5m")
    assert d.authorize(tok["accessToken"], db, "read").status_code == 401
    assert parse_ts(ok_json(d.get(path, admin))["lastUsedAt"]) == t2


def test_db_token_last_used_at_survives_a_restart(d):
    t0 = freeze_clock(d)
    db = d.create_database(unique_name())["name"]
    tok = d.create_db_token([("write", db)])
    assert d.authorize(tok["accessToken"], db, "write").status_code == 204
    d.restart()
    freeze_clock(d, offset=dt.timedelta(seconds=10))
    got = ok_json(d.get(db_tokens_path(token_id=tok["id"]), d.jwt()))
    assert parse_ts(got["lastUsedAt"]) == t0


# ---------------------------------------------------------------------------
# ?expiringWithin

def make_mgmt_tokens(d, now):
    """Tokens around the 7-day boundary from now; returns their ids by name."""
    admin = d.jwt()
    made = {}
    for name, exp in (("in1d", now + DAY), ("at7d", now + 7 * DAY),
                      ("past7d", now + 7 * DAY + dt.timedelta(milliseconds=1)),
                      ("in20d", now + 20 * DAY), ("revoked", now + 2 * DAY), ("never", None)):
        fields = {} if exp is None else {"expiresAt": iso(exp)}
        made[name] = d.create_token(name, **fields)["id"]
    assert_no_content(d.delete(tokens_path(token_id=made["revoked"]), admin))
    return made


def test_expiring_within_management_tokens(d):
    freeze_clock(d)
    expired = d.create_token("expired", expiresAt=iso(clock_now(d) + dt.timedelta(minutes=1)))
    now = advance(d, "2m")  # "expired" is expired now
    made = make_mgmt_tokens(d, now)
    admin = long_jwt(d)  # lives across the moves of the clock below

    def listed(**params):
        return ids(ok_json(d.get(tokens_path(), admin, params=params)))

    assert listed(expiringWithin="7d") == [made["in1d"], made["at7d"]]
    assert listed(expiringWithin="1d") == [made["in1d"]]
    assert listed(expiringWithin="23h59m") == []
    assert listed(expiringWithin="30d") == [made["in1d"], made["at7d"], made["past7d"],
                                            made["in20d"]]
    # combined with the other filters
    assert listed(expiringWithin="7d", status="active") == [made["in1d"], made["at7d"]]
    assert listed(expiringWithin="7d", status="revoked") == []
    assert listed(expiringWithin="7d", search="at7") == [made["at7d"]]
    assert expired["id"] not in listed(expiringWithin="3650d")

    # paging keeps the filter in the next page's Link
    r = d.get(tokens_path(), admin, params={"expiringWithin": "7d", "limit": 1})
    assert ids(ok_json(r)) == [made["in1d"]]
    link = r.headers["Link"]
    assert "expiringWithin=7d" in link
    nxt = re.match(r"<([^>]*)>", link).group(1)
    assert ids(ok_json(d.get(nxt, admin))) == [made["at7d"]]

    # the window follows the clock
    advance(d, "1d")
    assert listed(expiringWithin="7d") == [made["at7d"], made["past7d"]]


def test_expiring_within_database_tokens(d):
    freeze_clock(d)
    db = d.create_database(unique_name())["name"]
    admin = d.jwt()
    expired = d.create_db_token([("read", db)], "expired",
                                expiresAt=iso(clock_now(d) + dt.timedelta(minutes=1)))
    now = advance(d, "2m")
    made = {}
    for name, exp in (("in1d", now + DAY), ("at7d", now + 7 * DAY),
                      ("past7d", now + 7 * DAY + dt.timedelta(milliseconds=1)),
                      ("revoked", now + 2 * DAY), ("never", None)):
        fields = {} if exp is None else {"expiresAt": iso(exp)}
        made[name] = d.create_db_token([("read", db)], name, **fields)["id"]
    assert_no_content(d.delete(db_tokens_path(token_id=made["revoked"]), admin))

    def listed(**params):
        return ids(ok_json(d.get(db_tokens_path(), admin, params=params)))

    assert listed(expiringWithin="7d") == [made["in1d"], made["at7d"]]
    # revoked ones stay out even when asked for
    assert listed(expiringWithin="7d", includeRevoked="true") == [made["in1d"], made["at7d"]]
    assert listed(expiringWithin="1d") == [made["in1d"]]
    assert listed(expiringWithin="7d", search="at7") == [made["at7d"]]
    assert expired["id"] not in listed(expiringWithin="3650d")
    r = d.get(db_tokens_path(), admin, params={"expiringWithin": "7d", "limit": 1})
    assert ids(ok_json(r)) == [made["in1d"]]
    nxt = re.match(r"<([^>]*)>", r.headers["Link"]).group(1)
    assert "expiringWithin=7d" in nxt
    assert ids(ok_json(d.get(nxt, admin))) == [made["at7d"]]


@pytest.mark.parametrize("value", ["", "7", "-7d", "0d", "0s", "7days", "1.5d", "d", "7d "])
def test_expiring_within_bad_values_are_400(d, value):
    for path in (tokens_path(), db_tokens_path()):
        assert_error(d.get(path, d.jwt(), params={"expiringWithin": value}), 400,
                     "expiringWithin")


# ---------------------------------------------------------------------------
# metrics

def expiring_gauges(d):
    text = d.get("/metrics").text
    out = {}
    for m in re.finditer(r'^mgmtd_tokens_expiring\{kind="(\w+)",within="(\w+)"\} (\d+)$', text,
                         re.M):
        out[(m.group(1), m.group(2))] = int(m.group(3))
    return out


def test_metrics_count_live_tokens_expiring_within_1_7_30_days(d):
    freeze_clock(d)
    d.create_token("expired", expiresAt=iso(clock_now(d) + dt.timedelta(minutes=1)))
    now = advance(d, "2m")
    make_mgmt_tokens(d, now)  # in1d, at7d, past7d, in20d live; revoked; never
    db = d.create_database(unique_name())["name"]
    d.create_db_token([("read", db)], "db in 3d", expiresAt=iso(now + 3 * DAY))
    d.create_db_token([("read", db)], "db in 40d", expiresAt=iso(now + 40 * DAY))
    assert expiring_gauges(d) == {
        ("management", "1d"): 1, ("management", "7d"): 2, ("management", "30d"): 4,
        ("database", "1d"): 0, ("database", "7d"): 1, ("database", "30d"): 1,
    }
    # they follow the clock: a day later "in1d" is expired, "past7d" within 7 days
    advance(d, "1d")
    g = expiring_gauges(d)
    assert (g[("management", "1d")], g[("management", "7d")], g[("management", "30d")]) == \
        (0, 2, 3)
    assert g[("database", "7d")] == 1


# ---------------------------------------------------------------------------
# the warning as a token enters [tokens] expiry_warning_days

WARN_RE = re.compile(r"WARN token expiring: (management|database) token (\S+) of account (\S+)")


def warned(d):
    """{token id: times warned} from the whole log of d (every start)."""
    out = {}
    for m in WARN_RE.finditer(d.log_bytes().decode("utf-8", "replace")):
        out[m.group(2)] = out.get(m.group(2), 0) + 1
    return out


def wait_warned(d, token_ids):
    wait_for(lambda: set(token_ids) <= set(warned(d)), 30,
             "the expiry warning of %s" % ", ".join(token_ids), daemon=d)


def mark(d, name):
    """A line in the log after which every earlier pass is done: the warning of a token
    made to expire at once within the window (the pass runs in order)."""
    tok = ok_json(d.post(tokens_path(), long_jwt(d), json={
        "description": "mark " + name, "expiresAt": iso(clock_now(d) + dt.timedelta(hours=1))}))
    d.post("/_test/clock/advance", json={"by": "1ms"})  # a pass now
    wait_warned(d, [tok["id"]])
    return tok["id"]


def test_warning_once_per_token_as_it_enters_the_window(daemon_factory):
    d = daemon_factory(config_extra=TESTING + "[tokens]\nexpiry_warning_days = 7\n")
    freeze_clock(d)
    now = clock_now(d)
    admin = long_jwt(d)
    db = d.create_database(unique_name(), cred=admin)["name"]
    secret_desc = "deploy bot"
    m_in = d.create_token(secret_desc, expiresAt=iso(now + 10 * DAY))
    m_out = d.create_token("later", expiresAt=iso(now + 20 * DAY))
    m_never = d.create_token("never")
    m_rev = d.create_token("revoked", expiresAt=iso(now + 9 * DAY))
    assert_no_content(d.delete(tokens_path(token_id=m_rev["id"]), admin))
    t_in = d.create_db_token([("read", db)], "ingest", cred=admin,
                             expiresAt=iso(now + 10 * DAY))
    first = mark(d, "start")
    got = warned(d)
    assert m_in["id"] not in got and t_in["id"] not in got  # not yet in the window

    advance(d, "3d1h")  # 10 days - 3d1h < 7 days: both enter the window
    wait_warned(d, [m_in["id"], t_in["id"]])
    log = d.log_bytes().decode()
    line = next(l for l in log.splitlines() if m_in["id"] in l and "token expiring" in l)
    assert ACCOUNT_A in line and secret_desc in line and "management" in line
    assert iso(now + 10 * DAY)[:19] in line  # expiresAt
    assert m_in["accessToken"] not in log and t_in["accessToken"] not in log
    db_line = next(l for l in log.splitlines() if t_in["id"] in l and "token expiring" in l)
    assert "database" in db_line and CLUSTER_A in db_line and "ingest" in db_line

    # more passes, later in the window: no second line
    advance(d, "1d")
    mark(d, "after")
    got = warned(d)
    assert got[m_in["id"]] == 1 and got[t_in["id"]] == 1 and got[first] == 1
    assert m_out["id"] not in got and m_never["id"] not in got and m_rev["id"] not in got

    # a restart does not warn again (the store remembers)
    d.restart()
    freeze_clock(d, offset=dt.timedelta(days=4, hours=2))
    mark(d, "restarted")
    got = warned(d)
    assert got[m_in["id"]] == 1 and got[t_in["id"]] == 1


def test_warning_off_with_zero(daemon_factory):
    d = daemon_factory(config_extra=TESTING + "[tokens]\nexpiry_warning_days = 0\n")
    freeze_clock(d)
    tok = d.create_token("soon", expiresAt=iso(clock_now(d) + dt.timedelta(hours=1)))
    ok_json(d.post("/_test/clock/advance", json={"by": "1m"}))
    # the listing answers after the pass the advance kicked has had every chance to run;
    # nothing is claimed, so the list filter still shows the token live
    assert tok["id"] in ids(ok_json(d.get(tokens_path(), long_jwt(d),
                                          params={"expiringWithin": "1d"})))
    assert warned(d) == {}


@pytest.mark.postgres_only
def test_warning_once_across_replicas(daemon_factory):
    a = daemon_factory(config_extra=TESTING)
    b = daemon_factory(replica_of=a, config_extra=TESTING)
    freeze_clock(a)
    now = clock_now(a)
    freeze_clock(b)
    toks = [a.create_token("replicated %d" % i, expiresAt=iso(now + 10 * DAY))["id"]
            for i in range(20)]
    # both replicas reach the window and run their passes, at the same fake time
    ok_json(a.put("/_test/clock", json={"now": iso(now + 4 * DAY)}))
    ok_json(b.put("/_test/clock", json={"now": iso(now + 4 * DAY)}))
    wait_for(lambda: set(toks) <= set(warned(a)) | set(warned(b)), 30,
             "the warnings of the replicated tokens")
    # more passes on both
    for d in (a, b):
        mark(d, d.name)
    wa, wb = warned(a), warned(b)
    for t in toks:
        assert wa.get(t, 0) + wb.get(t, 0) == 1, t


# ---------------------------------------------------------------------------
# mgmtctl --expiring-within

def test_mgmtctl_expiring_within(d, mgmtctl_bin, tmp_path):  # noqa: F811
    freeze_clock(d)
    now = clock_now(d)
    made = make_mgmt_tokens(d, now)
    db = d.create_database(unique_name())["name"]
    t_soon = d.create_db_token([("read", db)], "soon", expiresAt=iso(now + 2 * DAY))
    d.create_db_token([("read", db)], "later", expiresAt=iso(now + 9 * DAY))
    d.create_db_token([("read", db)], "never")
    ctl = Ctl(mgmtctl_bin, d, tmp_path / "home", token=d.jwt())

    listed = ctl.json("management", "list", "--expiring-within", "7d")
    assert sorted(t["id"] for t in listed) == sorted([made["in1d"], made["at7d"]])
    # influxctl's duration words: 1w is 7d, 36h is a day and a half
    assert sorted(t["id"] for t in ctl.json("management", "list", "--expiring-within", "1w")) \
        == sorted([made["in1d"], made["at7d"]])
    assert [t["id"] for t in ctl.json("management", "list", "--expiring-within", "36h")] == \
        [made["in1d"]]
    table = ctl.ok("management", "list", "--expiring-within", "1d").stdout
    assert made["in1d"] in table and made["at7d"] not in table

    assert [t["id"] for t in ctl.json("token", "list", "--expiring-within", "7d")] == \
        [t_soon["id"]]
    assert [t["id"] for t in ctl.json("token", "list", "--include-revoked",
                                      "--expiring-within", "1d")] == []

    for bad in ("0", "soon", "-1d"):
        res = ctl.run("management", "list", "--expiring-within", bad)
        assert res.returncode != 0 and "--expiring-within" in res.stderr, res.stderr
        res = ctl.run("token", "list", "--expiring-within", bad)
        assert res.returncode != 0 and "--expiring-within" in res.stderr, res.stderr
