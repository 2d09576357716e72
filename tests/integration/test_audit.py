"""The audit trail: every change of an integration scenario leaves its row, in the
change's own transaction; refused changes and refused credentials leave theirs without
a secret anywhere; GET .../audit (rights, filters, cursor); `mgmtd audit list`; the
offline commands' own rows; retention of the trail and of old tokens with the fake clock."""

import datetime as dt
import json
import subprocess

import pytest

from conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    CLUSTER_A,
    assert_error,
    assert_no_content,
    assert_recent,
    assert_secret_absent,
    databases_path,
    db_tokens_path,
    describe_cli,
    make_mgmt_token,
    now_utc,
    ok_json,
    rfc3339,
    tables_path,
    tokens_path,
    unique_email,
    unique_name,
    users_path,
    wait_for,
)


def audit_path(account=ACCOUNT_A):
    return "/api/v0/accounts/%s/audit" % account


def all_events(d, cred, **params):
    """Every event of the account, newest first, through every page."""
    events, cursor = [], None
    while True:
        q = dict(params)
        q.setdefault("limit", 50)
        if cursor:
            q["cursor"] = cursor
        page = ok_json(d.get(audit_path(), cred, params=q))
        assert set(page) <= {"events", "nextCursor"}
        events += page["events"]
        cursor = page.get("nextCursor")
        if not cursor:
            return events


def newest_id(d, cred):
    page = ok_json(d.get(audit_path(), cred, params={"limit": 1}))
    return page["events"][0]["id"] if page["events"] else 0


def events_since(d, cred, first_id):
    """Events with id > first_id, oldest first."""
    return [e for e in reversed(all_events(d, cred)) if e["id"] > first_id]


@pytest.fixture
def audited(daemon_factory):
    return daemon_factory(config_extra="[metrics]\nenabled = true\n")


def test_every_change_of_a_scenario_leaves_its_row(audited):
    d = audited
    admin = d.jwt()
    admin_id = d.user_id("admin")
    start = newest_id(d, admin)
    expected = []  # (action, objectId, actorType, actorId)

    tok = d.create_token("scenario")
    expected.append(("management_token.create", tok["id"], "user", admin_id))
    mt = tok["accessToken"]

    u = ok_json(d.post(users_path(), mt, json={"email": unique_email(), "group": "member"}))
    expected.append(("user.create", u["id"], "managementToken", tok["id"]))
    ok_json(d.patch(users_path(user_id=u["id"]), mt, json={"firstName": "Ann"}))
    expected.append(("user.update", u["id"], "managementToken", tok["id"]))
    assert_no_content(d.delete(users_path(user_id=u["id"]), mt))
    expected.append(("user.delete", u["id"], "managementToken", tok["id"]))

    name = unique_name()
    db = d.create_database(name, cred=mt)
    expected.append(("database.create", name, "managementToken", tok["id"]))
    ok_json(d.patch(databases_path(name=name), mt, json={"maxTables": 10}))
    expected.append(("database.update", name, "managementToken", tok["id"]))
    ok_json(d.post(tables_path(name), mt, json={"name": "cpu"}))
    expected.append(("table.create", name + "/cpu", "managementToken", tok["id"]))
    t = ok_json(d.put(tables_path(name, name="cpu", suffix="rename"), mt, json={"name": "mem"}))
    expected.append(("table.rename", name + "/cpu", "managementToken", tok["id"]))
    assert_no_content(d.delete(tables_path(name, name="mem"), mt))
    expected.append(("table.delete", name + "/mem", "managementToken", tok["id"]))
    ok_json(d.put(tables_path(name, name=t["id"], suffix="undelete"), mt))
    expected.append(("table.undelete", name + "/mem", "managementToken", tok["id"]))
    for _ in range(2):  # enabling again changes nothing, and is a row of its own too
        ok_json(d.put(tables_path(name, name="mem", suffix="iceberg/enable"), mt))
        expected.append(("table.iceberg_enable", name + "/mem", "managementToken", tok["id"]))
    ok_json(d.put(tables_path(name, name="mem", suffix="iceberg/disable"), mt))
    expected.append(("table.iceberg_disable", name + "/mem", "managementToken", tok["id"]))
    new_name = unique_name()
    renamed = ok_json(d.put(databases_path(name=name, suffix="rename"), mt, json={"name": new_name}))
    expected.append(("database.rename", name, "managementToken", tok["id"]))
    assert_no_content(d.delete(databases_path(name=new_name), mt))
    expected.append(("database.delete", new_name, "managementToken", tok["id"]))
    ok_json(d.put(databases_path(name=renamed["id"], suffix="undelete"), mt))
    expected.append(("database.undelete", str(renamed["id"]), "managementToken", tok["id"]))

    dbt = d.create_db_token([("read", new_name)], cred=mt)
    expected.append(("database_token.create", dbt["id"], "managementToken", tok["id"]))
    ok_json(d.patch(db_tokens_path(token_id=dbt["id"]), mt, json={"description": "x"}))
    expected.append(("database_token.update", dbt["id"], "managementToken", tok["id"]))
    assert_no_content(d.delete(db_tokens_path(token_id=dbt["id"]), mt))
    expected.append(("database_token.revoke", dbt["id"], "managementToken", tok["id"]))

    assert_no_content(d.delete(tokens_path(token_id=tok["id"]), admin))
    expected.append(("management_token.revoke", tok["id"], "user", admin_id))

    got = events_since(d, admin, start)
    assert [(e["action"], e.get("objectId"), e["actorType"], e.get("actorId")) for e in got] \
        == expected
    for e in got:
        assert e["outcome"] == "success", e
        assert e["status"] in (200, 204), e
        assert e["accountId"] == ACCOUNT_A
        assert e["clientAddress"] == "127.0.0.1"
        assert e["objectType"] == e["action"].split(".")[0]
        assert_recent(e["time"])
    # a management token's rows carry its public prefix, never more of it
    assert {e.get("credential") for e in got if e["actorType"] == "managementToken"} == {
        tok["tokenPrefix"]}
    # reads leave no row
    ok_json(d.get(tokens_path(), admin))
    assert newest_id(d, admin) == got[-1]["id"]


def test_refused_attempts_leave_rows_and_no_secret_anywhere(audited, idp):
    """Rows for refused tokens of the account and refused changes; nothing for
    credentials that name nobody of the account (test_attacks_audit.py)."""
    d = audited
    admin = d.jwt()
    secrets = []

    tok = d.create_token("to be revoked")
    secrets.append(tok["accessToken"])
    assert_no_content(d.delete(tokens_path(token_id=tok["id"]), admin))
    dbt = d.create_db_token([("read", "*")])
    secrets.append(dbt["accessToken"])
    revoked_dbt = d.create_db_token([("read", "*")])
    secrets.append(revoked_dbt["accessToken"])
    assert_no_content(d.delete(db_tokens_path(token_id=revoked_dbt["id"]), admin))
    start = newest_id(d, admin)

    unknown = make_mgmt_token()
    secrets.append(unknown)
    assert_error(d.get(tokens_path(), unknown), 401)
    assert_error(d.post(tokens_path(), tok["accessToken"], json={"description": "x"}), 401)
    forged = idp.make_jwt(sub="admin-1", key="rogue-rsa")
    assert_error(d.get(users_path(), forged), 401)
    member = d.jwt("member")
    assert_error(d.post(databases_path(), member, json={"name": unique_name()}), 403)
    unprovisioned = d.make_jwt_for_subject("nobody-here")
    assert_error(d.get(users_path(), unprovisioned), 403)
    # database tokens refused by the data-plane check: one unknown, one revoked
    bad_dbt = "apiv1_" + "A" * 86
    secrets.append(bad_dbt)
    assert d.authorize(bad_dbt, "x", "read").status_code == 401
    assert d.authorize(revoked_dbt["accessToken"], "x", "read").status_code == 401

    got = events_since(d, admin, start)
    by = [(e["action"], e["outcome"], e["actorType"], e.get("actorId"), e.get("credential"),
           e["status"]) for e in got]
    assert by == [
        ("management_token.create", "refused", "managementToken", tok["id"],
         tok["tokenPrefix"], 401),
        ("database.create", "denied", "user", d.user_id("member"), None, 403),
        ("data_plane.authorize", "refused", "databaseToken", revoked_dbt["id"],
         revoked_dbt["accessToken"][:10], 401),
    ], by
    assert "revoked" in got[0]["detail"] and "revoked" in got[2]["detail"]

    # the secrets, and the JWTs' signatures, are nowhere: log, database, audit API, /metrics
    secrets += [forged.split(".")[2], admin.split(".")[2], member.split(".")[2]]
    audit_text = json.dumps(all_events(d, admin))
    metrics_text = d.get("/metrics").text
    files = [p.read_bytes() for p in d.data_dir.iterdir() if p.is_file()]
    assert files
    for s in secrets:
        assert_secret_absent(d.log_bytes(), s, where="log")
        assert_secret_absent(audit_text, s, where="audit API")
        assert_secret_absent(metrics_text, s, where="/metrics")
        for content in files:
            assert_secret_absent(content, s, where="data directory")


def test_who_may_read_the_trail(audited):
    d = audited
    tok = d.create_token("reader")
    for cred in (d.jwt("admin"), d.jwt("auditor"), tok["accessToken"]):
        page = ok_json(d.get(audit_path(), cred))
        assert isinstance(page["events"], list)
    assert_error(d.get(audit_path(), d.jwt("member")), 403)
    assert_error(d.get(audit_path(), None), 401)
    # another account's admin is nobody here; a token of another account never learns it exists
    assert_error(d.get(audit_path(), d.jwt("admin_b")), 403)
    tok_b = d.create_token("b", account=ACCOUNT_B)
    assert_error(d.get(audit_path(ACCOUNT_A), tok_b["accessToken"]), 404)
    # account B's trail holds B's changes only
    events_b = ok_json(d.get(audit_path(ACCOUNT_B), tok_b["accessToken"]))["events"]
    assert events_b and all(e["accountId"] == ACCOUNT_B for e in events_b)


def test_filters_limit_and_cursor(audited):
    d = audited
    admin = d.jwt()
    before = now_utc() - dt.timedelta(seconds=1)
    names = [unique_name() for _ in range(5)]
    for n in names:
        d.create_database(n)
    tok = d.create_token("filtered")
    after = now_utc() + dt.timedelta(seconds=1)

    creates = all_events(d, admin, action="database.create", since=rfc3339(before))
    assert [e["objectId"] for e in creates] == list(reversed(names))
    assert {e["action"] for e in all_events(d, admin, action="database.*")} <= {
        "database.create", "database.update", "database.delete", "database.rename",
        "database.undelete"}
    mine = all_events(d, admin, actor=d.user_id("admin"), since=rfc3339(before))
    assert len(mine) == 6
    assert all_events(d, admin, since=rfc3339(after)) == []
    assert all(e["time"] < rfc3339(before) for e in all_events(d, admin, until=rfc3339(before)))
    assert not [e for e in all_events(d, admin, until=rfc3339(before))
                if e.get("objectId") in names]
    assert all_events(d, admin, actor=tok["tokenPrefix"]) == []  # it did nothing yet

    # pages of 2 cover the same events as one big page, each exactly once
    whole = ok_json(d.get(audit_path(), admin, params={"limit": 1000}))["events"]
    paged = all_events(d, admin, limit=2)
    assert [e["id"] for e in paged] == [e["id"] for e in whole]
    first = ok_json(d.get(audit_path(), admin, params={"limit": 2}))
    assert len(first["events"]) == 2 and first["nextCursor"]

    for params, contains in [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"),
                             ({"limit": "x"}, "limit"), ({"since": "yesterday"}, "since"),
                             ({"until": "2026-13-01T00:00:00Z"}, "until"),
                             ({"action": "drop table"}, "action"), ({"action": "*"}, "action"),
                             ({"cursor": "abc"}, "cursor"),
                             ({"since": rfc3339(after), "until": rfc3339(before)}, "until")]:
        assert_error(d.get(audit_path(), admin, params=params), 400, contains)


def test_a_change_whose_row_cannot_be_written_does_not_happen(audited):
    """The row rides in the change's transaction: make every audit insert fail, and the
    change is refused and absent."""
    d = audited
    admin = d.jwt()
    db_path = d.data_dir / "mgmtd.db"

    def sql(statement):
        if d.pg_store is not None:
            d.pg_store.psql(statement)
            return
        res = subprocess.run(["sqlite3", str(db_path), statement], capture_output=True,
                             text=True, timeout=60)
        assert res.returncode == 0, res.stderr

    if d.pg_store is not None:
        sql("CREATE FUNCTION no_audit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit refused'; END $$; "
            "CREATE TRIGGER no_audit BEFORE INSERT ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION no_audit();")
    else:
        sql("CREATE TRIGGER no_audit BEFORE INSERT ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit refused'); END;")
    try:
        name = unique_name()
        assert_error(d.post(databases_path(), admin, json={"name": name}), 500)
        assert name not in [x["name"] for x in ok_json(d.get(databases_path(), admin))]
        before = len(d.list_tokens())
        assert d.post(tokens_path(), admin, json={"description": "x"}).status_code >= 500
        assert len(d.list_tokens()) == before
    finally:
        sql("DROP TRIGGER no_audit ON audit_events; DROP FUNCTION no_audit();"
            if d.pg_store is not None else "DROP TRIGGER no_audit;")
    d.create_database(unique_name())  # and all is well again


def test_cli_audit_list_and_the_offline_commands_own_rows(audited):
    d = audited
    email = unique_email()
    res = d.cli("user", "add", "--account", ACCOUNT_A, "--email", email, "--group", "member")
    assert res.returncode == 0, describe_cli(res)
    res = d.cli("management", "create", "--account", ACCOUNT_A, "--as", "admin@example.com",
                "--description", "offline", "--format", "json")
    assert res.returncode == 0, describe_cli(res)
    created = json.loads(res.stdout)
    res = d.cli("management", "revoke", "--account", ACCOUNT_A, created["id"])
    assert res.returncode == 0, describe_cli(res)

    res = d.cli("audit", "list", "--account", ACCOUNT_A, "--format", "json", "--limit", "3")
    assert res.returncode == 0, describe_cli(res)
    rows = json.loads(res.stdout)
    assert [r["action"] for r in rows] == ["management_token.revoke", "management_token.create",
                                           "user.create"]
    assert all(r["actorType"] == "local" and r["credential"].startswith("unix uid ")
               for r in rows)
    assert rows[1]["objectId"] == created["id"]
    assert rows[1]["actorId"] == d.user_id("admin")  # --as
    assert_secret_absent(res.stdout, created["accessToken"])
    # the same rows through the API
    api = ok_json(d.get(audit_path(), d.jwt(), params={"limit": 3}))["events"]
    assert [e["id"] for e in api] == [r["id"] for r in rows]

    res = d.cli("audit", "list", "--account", ACCOUNT_A, "--action", "user.*")
    assert res.returncode == 0 and "user.create" in res.stdout, describe_cli(res)
    assert "management_token" not in res.stdout
    future = rfc3339(now_utc() + dt.timedelta(days=1))
    res = d.cli("audit", "list", "--account", ACCOUNT_A, "--since", future, "--format", "json")
    assert res.returncode == 0 and json.loads(res.stdout) == [], describe_cli(res)
    res = d.cli("audit", "list", "--account", ACCOUNT_A, "--since", "soon")
    assert res.returncode == 2, describe_cli(res)


# ---------------------------------------------------------------------------
# retention, with the fake clock

RETENTION = ("[testing]\nenabled = true\n[store]\nkeep_expired_days = 30\n"
             "keep_audit_days = 60\n")


def set_clock(d, when):
    passes = d.log_since_start().count("retention: pass done")
    ok_json(d.put("/_test/clock", json={"now": rfc3339(when)}))
    wait_for(lambda: d.log_since_start().count("retention: pass done") > passes, 10,
             "a retention pass after the clock moved", d)


def test_retention_deletes_old_tokens_and_events_only_after_their_time(daemon_factory):
    d = daemon_factory(config_extra=RETENTION)
    now = now_utc()
    keeper = d.create_token("keeper")  # never expires, never revoked
    mt = keeper["accessToken"]
    revoked = d.create_token("revoked")
    assert_no_content(d.delete(tokens_path(token_id=revoked["id"]), mt))
    expiring = d.create_token("expiring", expiresAt=rfc3339(now + dt.timedelta(days=1)))
    dbt = d.create_db_token([("read", "*")], cred=mt)
    assert_no_content(d.delete(db_tokens_path(token_id=dbt["id"]), mt))
    ids = lambda: {t["id"] for t in ok_json(d.get(tokens_path(), mt))}  # noqa: E731

    set_clock(d, now + dt.timedelta(days=29))  # revoked 29 days ago: kept
    assert {keeper["id"], revoked["id"], expiring["id"]} <= ids()
    set_clock(d, now + dt.timedelta(days=32))  # revoked 32, expired 31 days ago: gone
    left = ids()
    assert keeper["id"] in left
    assert revoked["id"] not in left and expiring["id"] not in left
    listed = ok_json(d.get(db_tokens_path(), mt, params={"includeRevoked": "true"}))
    assert dbt["id"] not in [t["id"] for t in listed]
    assert "deleted 2 management tokens and 1 database tokens" in d.log_since_start()

    # the trail: events of now are older than 60 days at now + 61 days
    events = ok_json(d.get(audit_path(), mt, params={"limit": 1000}))["events"]
    assert len(events) >= 5
    set_clock(d, now + dt.timedelta(days=61))
    assert ok_json(d.get(audit_path(), mt, params={"limit": 1000}))["events"] == []
    m = d.get("/metrics")
    assert m.status_code == 404  # [metrics] is off here


def test_without_retention_nothing_is_ever_deleted(daemon_factory):
    d = daemon_factory(config_extra="[testing]\nenabled = true\n")
    keeper = d.create_token("keeper")
    revoked = d.create_token("revoked")
    assert_no_content(d.delete(tokens_path(token_id=revoked["id"]), keeper["accessToken"]))
    ok_json(d.put("/_test/clock", json={"now": rfc3339(now_utc() + dt.timedelta(days=3650))}))
    ids = {t["id"] for t in ok_json(d.get(tokens_path(), keeper["accessToken"]))}
    assert {keeper["id"], revoked["id"]} <= ids
    assert ok_json(d.get(audit_path(), keeper["accessToken"]))["events"]
    assert "retention: pass" not in d.log_since_start()


def test_invites_leave_their_rows(audited):
    """Invite create and revoke (API and CLI), and a first sign-in's acceptance, whose
    row names the new user and commits with it."""
    d = audited
    admin = d.jwt()
    admin_id = d.user_id("admin")
    start = newest_id(d, admin)
    invites = "/api/v0/accounts/%s/invites" % ACCOUNT_A

    kept = ok_json(d.post(invites, admin, json={"email": unique_email("kept"), "group": "auditor"}))
    dropped = ok_json(d.post(invites, admin, json={"email": unique_email("drop"), "group": "member"}))
    assert_no_content(d.delete(invites + "/" + dropped["id"], admin))
    # a second invite while one is pending: a refused change, recorded as failed
    assert_error(d.post(invites, admin, json={"email": kept["email"], "group": "member"}), 409)

    joiner = d.idp.make_jwt(sub="sub-" + kept["id"], email=kept["email"])
    ok_json(d.get(users_path(), joiner))
    new_user = next(u for u in ok_json(d.get(users_path(), admin)) if u["email"] == kept["email"])

    email = unique_email("cli")
    res = d.cli("user", "invite", "--account", ACCOUNT_A, "--email", email, "--group", "member")
    assert res.returncode == 0, describe_cli(res)
    cli_invite = next(i for i in ok_json(d.get(invites, admin)) if i["email"] == email)

    rows = [(e["action"], e.get("objectId"), e["actorType"], e.get("actorId"), e["outcome"])
            for e in events_since(d, admin, start)]
    assert rows == [
        ("invite.create", kept["id"], "user", admin_id, "success"),
        ("invite.create", dropped["id"], "user", admin_id, "success"),
        ("invite.revoke", dropped["id"], "user", admin_id, "success"),
        ("invite.create", None, "user", admin_id, "failed"),
        ("invite.accept", kept["id"], "user", new_user["id"], "success"),
        ("invite.create", cli_invite["id"], "local", None, "success"),
    ], rows
    accept = next(e for e in events_since(d, admin, start) if e["action"] == "invite.accept")
    assert new_user["id"] in accept["detail"] and "auditor" in accept["detail"]


def test_iceberg_switch_rows_for_refused_and_failed_attempts(audited):
    d = audited
    admin = d.jwt("admin")
    name = unique_name()
    d.create_database(name)
    ok_json(d.post(tables_path(name), admin, json={"name": "cpu"}))
    start = newest_id(d, admin)
    assert_error(d.put(tables_path(name, name="nope", suffix="iceberg/enable"), admin), 404)
    assert_error(d.put(tables_path(name, name="cpu", suffix="iceberg/disable"), d.jwt("member")),
                 403)
    ok_json(d.put(tables_path(name, name="cpu", suffix="iceberg/disable"), admin))
    got = [(e["action"], e.get("objectId"), e["outcome"], e["status"])
           for e in events_since(d, admin, start)]
    assert got[0] == ("table.iceberg_enable", name + "/nope", "failed", 404)
    # the rights table refuses before the handler names the action: the route's right
    assert got[1] == ("table.update", None, "denied", 403)
    assert got[2] == ("table.iceberg_disable", name + "/cpu", "success", 200)
    assert len(got) == 3, got
