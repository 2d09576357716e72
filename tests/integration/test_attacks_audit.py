"""The audit trail records principals, not noise (issue: anonymous refusals filled it).

Anyone can send a made-up token or a JWT of their own making to any account's paths.
Such a refusal names nobody the account knows: it is a metric and a rate-limited log
line, never an audit row, and nothing the sender wrote into a JWT is stored or logged.
A refused token that exists in the account (revoked, expired) is the account's
business: its row names the token.
"""
import json
import re
import sqlite3
import time
import uuid

import pytest

from conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    BACKEND,
    CLUSTER_A,
    assert_error,
    assert_no_content,
    assert_secret_absent,
    authorize_path,
    clusters_path,
    db_tokens_path,
    describe_cli,
    make_mgmt_token,
    ok_json,
    tokens_path,
    users_path,
)

NO_SUCH_ACCOUNT = "99999999-9999-4999-8999-999999999999"
NO_SUCH_CLUSTER = "88888888-8888-4888-8888-888888888888"
# audit.c: REFUSAL_LOG_LINES lines per REFUSAL_LOG_WINDOW_MS at the most
LOG_LINES, LOG_WINDOW_S = 10, 10.0
REFUSAL_LINE = re.compile(r"refused credential .* no audit row")


def audit_path(account=ACCOUNT_A):
    return "/api/v0/accounts/%s/audit" % account


def trail(d, account=ACCOUNT_A):
    """Every row of the account's trail, from the offline command."""
    res = d.cli("audit", "list", "--account", account, "--format", "json")
    assert res.returncode == 0, describe_cli(res)
    return json.loads(res.stdout)


def rows_filed_under(d, account):
    """How many audit rows the store holds under an account id, asked of the database
    itself (the offline command and the API know only accounts that exist)."""
    if d.backend == "postgres":
        out = d.pg_store.psql("SELECT count(*) FROM audit_events WHERE account_id = '%s'"
                              % account)
        return int(out.strip().splitlines()[-1].strip())
    db = sqlite3.connect("file:%s?mode=ro" % (d.data_dir / "mgmtd.db"), uri=True)
    try:
        return db.execute("SELECT count(*) FROM audit_events WHERE account_id = ?",
                          (account,)).fetchone()[0]
    finally:
        db.close()


def newest(d, account=ACCOUNT_A):
    rows = trail(d, account)
    return max((e["id"] for e in rows), default=0)


def auth_metric(d, kind, result):
    text = d.get("/metrics").text
    m = re.search(r'^mgmtd_authentications_total\{kind="%s",result="%s"\} (\d+)$'
                  % (kind, result), text, re.M)
    return int(m.group(1)) if m else 0


@pytest.fixture
def metered(daemon_factory):
    return daemon_factory(config_extra="[metrics]\nenabled = true\n")


def test_made_up_credentials_leave_no_rows_only_a_metric_and_few_log_lines(metered, idp):
    d = metered
    before_a, before_b = newest(d), newest(d, ACCOUNT_B)
    unknown_before = auth_metric(d, "database_token", "unknown")
    made_up = "apiv1_" + "Q" * 86
    started = time.monotonic()
    # the report's case: 150 refused checks under an account that does not exist
    for _ in range(150):
        r = d.get(authorize_path(NO_SUCH_ACCOUNT, NO_SUCH_CLUSTER),
                  params={"database": "db", "action": "read"},
                  headers={"Authorization": "Bearer " + made_up})
        assert r.status_code == 401, r.text
    # and every other kind of credential of nobody, on real accounts' paths
    for account in (ACCOUNT_A, ACCOUNT_B):
        assert d.authorize(made_up, "db", "write", account=account).status_code == 401
        assert_error(d.get(tokens_path(account), make_mgmt_token()), 401)
        assert_error(d.get(users_path(account), "M.V1.short"), 401)
        assert_error(d.get(users_path(account), idp.make_jwt(key="rogue-rsa")), 401)
        assert_error(d.get(users_path(account), idp.make_jwt(sub="stranger-" + account)), 403)
        assert_error(d.get(users_path(account), "not-a-credential"), 401)
        assert_error(d.get(users_path(account), None), 401)
    # a token of account B sent to account A's paths names nobody of A
    b_token = d.create_token("b's", account=ACCOUNT_B)
    before_b = newest(d, ACCOUNT_B)
    assert_error(d.get(users_path(ACCOUNT_A), b_token["accessToken"]), 404)
    elapsed = time.monotonic() - started

    assert rows_filed_under(d, NO_SUCH_ACCOUNT) == 0
    assert newest(d) == before_a, trail(d)[:5]
    assert newest(d, ACCOUNT_B) == before_b, trail(d, ACCOUNT_B)[:5]
    # counted all the same
    assert auth_metric(d, "database_token", "unknown") - unknown_before == 152
    # logged, but within the budget: not one line per refusal
    lines = REFUSAL_LINE.findall(d.log_since_start())
    budget = LOG_LINES * (int(elapsed // LOG_WINDOW_S) + 2)
    assert 1 <= len(lines) <= budget, (len(lines), budget)


def test_nothing_a_refused_jwt_claims_is_written_anywhere(metered, idp):
    d = metered
    marker = "planted%s" % uuid.uuid4().hex
    forged = [
        idp.make_jwt(sub=marker + "-sig", email=marker + "@evil.test", key="rogue-rsa"),
        idp.make_jwt(sub=marker + "-exp", email=marker + "@evil.test", exp_offset=-3600),
        idp.make_jwt(sub=marker + "-iss", iss="https://evil.test/" + marker),
        idp.make_jwt(sub=marker + "-aud", aud=marker),
        idp.unsigned_jwt(sub=marker + "-none"),
        idp.hs256_with_public_pem(sub=marker + "-hs"),
        # good signature, nobody of the account: its claims are not the account's either
        idp.make_jwt(sub=marker + "-stranger", email=marker + "@stranger.test"),
    ]
    for jwt in forged:
        for account in (ACCOUNT_A, NO_SUCH_ACCOUNT):
            r = d.get(users_path(account), jwt)
            assert r.status_code in (401, 403), r.text
            r = d.post(tokens_path(account), jwt, json={"description": marker})
            assert r.status_code in (401, 403), r.text
    assert rows_filed_under(d, NO_SUCH_ACCOUNT) == 0
    audit_text = json.dumps(trail(d)) + json.dumps(trail(d, ACCOUNT_B))
    assert_secret_absent(audit_text, marker, where="audit trail")
    assert_secret_absent(d.log_bytes(), marker, where="log")
    for path in d.store_files():
        with open(path, "rb") as f:
            assert_secret_absent(f.read(), marker, where=path)


def test_a_refused_token_of_the_account_is_named_in_its_row(metered):
    d = metered
    admin = d.jwt("admin")
    revoked = d.create_token("to revoke")
    assert_no_content(d.delete(tokens_path(token_id=revoked["id"]), admin))
    db_revoked = d.create_db_token([("read", "*")])
    assert_no_content(d.delete(db_tokens_path(token_id=db_revoked["id"]), admin))
    start = newest(d)

    assert_error(d.get(clusters_path(), revoked["accessToken"]), 401)
    assert d.authorize(db_revoked["accessToken"], "anything", "read").status_code == 401
    # the forwarded form (a proxy passes the original request): the row names the
    # database the check read from it
    assert d.get(authorize_path(), headers={
        "Authorization": "Bearer " + db_revoked["accessToken"],
        "X-Forwarded-Method": "POST", "X-Forwarded-Uri": "/write?db=forwarded"}
    ).status_code == 401
    # the same database token under another cluster's path is nobody there
    assert d.get(authorize_path(ACCOUNT_A, NO_SUCH_CLUSTER),
                 params={"database": "anything", "action": "read"},
                 headers={"Authorization": "Bearer " + db_revoked["accessToken"]}
                 ).status_code == 401

    rows = sorted((e for e in trail(d) if e["id"] > start), key=lambda e: e["id"])
    assert [(e["action"], e["actorType"], e.get("actorId"), e.get("credential"),
             e["outcome"], e["status"]) for e in rows] == [
        ("cluster.read", "managementToken", revoked["id"], revoked["tokenPrefix"], "refused",
         401),
        ("data_plane.authorize", "databaseToken", db_revoked["id"],
         db_revoked["accessToken"][:10], "refused", 401),
        ("data_plane.authorize", "databaseToken", db_revoked["id"],
         db_revoked["accessToken"][:10], "refused", 401),
    ], rows
    assert [e.get("objectId") for e in rows] == [None, "anything", "forwarded"], rows
    assert all("revoked" in e["detail"] for e in rows)
    # the token ids are the actors the API filters by
    page = ok_json(d.get(audit_path(), admin, params={"actor": db_revoked["id"]}))
    assert [e["action"] for e in page["events"]][:1] == ["data_plane.authorize"]


def test_an_expired_token_of_the_account_is_named_in_its_row(daemon_factory):
    d = daemon_factory(config_extra="[testing]\nenabled = true\n")
    soon = time.time() + 3600
    expiring = d.create_token("expiring", expiresAt=time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(soon)))
    ok_json(d.put("/_test/clock", json={"now": time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(soon + 60))}))
    start = newest(d)
    assert_error(d.get(clusters_path(), expiring["accessToken"]), 401)
    rows = [e for e in trail(d) if e["id"] > start]
    assert [(e["actorType"], e.get("actorId"), e["outcome"]) for e in rows] == [
        ("managementToken", expiring["id"], "refused")], rows
    assert "expired" in rows[0]["detail"]


@pytest.mark.sqlite_only
def test_the_migration_keeps_every_row_and_id(daemon_factory, tmp_path):
    """0006 rebuilds audit_events on SQLite (a CHECK constraint cannot change in
    place): the rows, their ids and the id sequence survive it."""
    d = daemon_factory()
    admin = d.jwt("admin")
    for i in range(5):
        d.create_token("before %d" % i)
    d.stop_ok()
    db_path = d.data_dir / "mgmtd.db"
    db = sqlite3.connect(str(db_path))
    try:
        # back to schema 5: the table as 0004 made it, with the rows (and without the
        # columns and tables 0007 to 0011 added, which would otherwise be added twice)
        rows = db.execute("SELECT * FROM audit_events ORDER BY id").fetchall()
        top = rows[-1][0]
        db.executescript("""
            DROP TABLE webhook_outbox;
            ALTER TABLE database_tokens DROP COLUMN last_used_at;
            ALTER TABLE database_tokens DROP COLUMN expiry_warned_at;
            ALTER TABLE management_tokens DROP COLUMN expiry_warned_at;
            DROP INDEX management_tokens_previous_hash;
            DROP INDEX database_tokens_previous_hash;
            ALTER TABLE management_tokens DROP COLUMN previous_hash;
            ALTER TABLE management_tokens DROP COLUMN previous_hash_scheme;
            ALTER TABLE management_tokens DROP COLUMN previous_expires_at;
            ALTER TABLE management_tokens DROP COLUMN previous_last_used_at;
            ALTER TABLE management_tokens DROP COLUMN suspended_at;
            ALTER TABLE management_tokens DROP COLUMN suspended_by;
            ALTER TABLE database_tokens DROP COLUMN previous_hash;
            ALTER TABLE database_tokens DROP COLUMN previous_hash_scheme;
            ALTER TABLE database_tokens DROP COLUMN previous_expires_at;
            ALTER TABLE database_tokens DROP COLUMN previous_last_used_at;
            ALTER TABLE database_tokens DROP COLUMN suspended_at;
            ALTER TABLE database_tokens DROP COLUMN suspended_by;
            ALTER TABLE database_tables DROP COLUMN iceberg_export;
            ALTER TABLE clusters DROP COLUMN category;
            DROP TABLE audit_events;
            CREATE TABLE audit_events (
                id INTEGER PRIMARY KEY AUTOINCREMENT, account_id TEXT NOT NULL,
                at INTEGER NOT NULL, actor_type TEXT NOT NULL
                    CHECK (actor_type IN ('user', 'managementToken', 'local', 'anonymous')),
                actor_id TEXT, credential TEXT, action TEXT NOT NULL, object_type TEXT,
                object_id TEXT, client TEXT,
                outcome TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'failed', 'refused')),
                status INTEGER, detail TEXT) STRICT;
            CREATE INDEX audit_events_by_account ON audit_events (account_id, id);
            CREATE INDEX audit_events_by_time ON audit_events (at);
        """)
        db.executemany("INSERT INTO audit_events VALUES (%s)" % ",".join("?" * len(rows[0])),
                       rows)
        # the newest row deleted: its id must never be handed out again
        db.execute("DELETE FROM audit_events WHERE id = ?", (top,))
        db.execute("PRAGMA user_version = 5")
        db.commit()
    finally:
        db.close()
    d.start(use_seed=False)
    kept = [e for e in trail(d) if e["id"] < top]
    assert [e["id"] for e in sorted(kept, key=lambda e: e["id"])] == [r[0] for r in rows[:-1]]
    d.create_token("after")
    assert newest(d) > top
    revoked = d.create_db_token([("read", "*")])
    assert_no_content(d.delete(db_tokens_path(token_id=revoked["id"]), admin))
    assert d.authorize(revoked["accessToken"], "x", "read").status_code == 401
    assert trail(d)[0]["actorType"] == "databaseToken"
