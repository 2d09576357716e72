"""Database tokens of the Management API v0 (CONTRACT 4.3): create (secret shown once),
list, get, update (permissions replaced whole), revoke; validation, rights, scoping."""

import base64
import datetime as dt
import hashlib
import re
import subprocess

import pytest

from conftest import (
    dated, future_rfc3339, past_rfc3339,
    ACCOUNT_A,
    ACCOUNT_B,
    CLUSTER_A,
    CLUSTER_B,
    DB_TOKEN_RE,
    RFC3339_MS,
    UUID4,
    assert_error,
    assert_no_content,
    assert_recent,
    assert_secret_absent,
    clusters_path,
    databases_path,
    db_tokens_path,
    now_utc,
    ok_json,
    parse_ts,
    rfc3339,
    tokens_path,
    unique_name,
    users_path,
)

TOKEN_KEYS = {"accountId", "clusterId", "id", "description", "permissions", "createdAt"}
RANDOM_UUID = "9b2f4c1e-7d3a-4f5b-8c6d-0e1f2a3b4c5d"


def new_db(d, account=ACCOUNT_A):
    return d.create_database(unique_name(), account=account)["name"]


def perm(action, resource):
    return {"action": action, "resource": resource}


V8_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def derived_permission_id(token_id, action, resource):
    """docs/api.md: a version 8 UUID of BLAKE2b-128 over the token id, action, resource."""
    name = b"\0".join([b"mgmtd/permission", token_id.encode(), action.encode(),
                       resource.encode()])
    b = bytearray(hashlib.blake2b(name, digest_size=16).digest())
    b[6] = (b[6] & 0x0F) | 0x80
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return "-".join([h[:8], h[8:12], h[12:16], h[16:20], h[20:]])


def plain(perms):
    """Answered permissions without their ids, each of which must be a version 8 UUID."""
    for p in perms:
        assert V8_UUID.fullmatch(p.get("id", "")), p
        assert list(p) == ["id", "action", "resource"], p  # the docs' order
    return [{k: v for k, v in p.items() if k != "id"} for p in perms]


def token_list(d, params=None, account=ACCOUNT_A, cred=None):
    return ok_json(d.get(db_tokens_path(account), cred or d.admin_of(account), params=params))


def get_token(d, token_id, account=ACCOUNT_A, cred=None):
    return ok_json(d.get(db_tokens_path(account, token_id=token_id), cred or d.admin_of(account)))


# ---------------------------------------------------------------------------
# Create


def test_create_answers_the_token_and_the_secret_once(server):
    db = new_db(server)
    body = server.create_db_token([("read", db), ("write", db)], description="Limited Access")
    assert set(body) == TOKEN_KEYS | {"accessToken"}
    assert body["accountId"] == ACCOUNT_A and body["clusterId"] == CLUSTER_A
    assert UUID4.match(body["id"])
    assert body["description"] == "Limited Access"
    assert plain(body["permissions"]) == [perm("read", db), perm("write", db)]
    assert RFC3339_MS.match(body["createdAt"])
    assert_recent(body["createdAt"])
    assert DB_TOKEN_RE.fullmatch(body["accessToken"]), body["accessToken"]
    got = get_token(server, body["id"])
    expected = dict(body)
    del expected["accessToken"]
    assert got == expected


def test_two_tokens_differ(server):
    a, b = server.create_db_token(), server.create_db_token()
    assert a["id"] != b["id"] and a["accessToken"] != b["accessToken"]


def test_permissions_default_to_none_and_star_is_every_database(server):
    admin = server.jwt("admin")
    body = ok_json(server.post(db_tokens_path(), admin, json={"description": "no access"}))
    assert plain(body["permissions"]) == []
    body = server.create_db_token([("write", "*"), ("read", "*")])
    assert plain(body["permissions"]) == [perm("write", "*"), perm("read", "*")]


def test_exact_repeats_are_dropped(server):
    db = new_db(server)
    body = server.create_db_token([("read", db), ("read", db), ("write", db)])
    assert plain(body["permissions"]) == [perm("read", db), perm("write", db)]


def test_permissions_must_name_live_databases_of_the_cluster(server):
    admin = server.jwt("admin")
    missing = unique_name()
    r = server.post(db_tokens_path(), admin,
                    json={"description": "x", "permissions": [perm("read", missing)]})
    assert_error(r, 400, contains=missing)
    gone = new_db(server)
    assert_no_content(server.delete(databases_path(name=gone), admin))
    assert_error(server.post(db_tokens_path(), admin,
                             json={"description": "x", "permissions": [perm("read", gone)]}),
                 400, contains=gone)
    in_b = new_db(server, ACCOUNT_B)
    assert_error(server.post(db_tokens_path(), admin,
                             json={"description": "x", "permissions": [perm("read", in_b)]}),
                 400, contains=in_b)


@pytest.mark.parametrize("permissions, contains", [
    ({"action": "read", "resource": "*"}, "array"),
    ([{"action": "admin", "resource": "*"}], "read or write"),
    ([{"action": "READ", "resource": "*"}], "read or write"),
    ([{"resource": "*"}], "read or write"),
    ([{"action": "read"}], "resource"),
    ([{"action": "read", "resource": "_x"}], "resource"),
    ([{"action": "read", "resource": 5}], "resource"),
    ([{"action": "read", "resource": "*", "table": "cpu"}], "table"),
    (["read"], "object"),
    (None, "array"),
])
def test_bad_permissions_are_400(server, permissions, contains):
    r = server.post(db_tokens_path(), server.jwt("admin"),
                    json={"description": "x", "permissions": permissions})
    assert_error(r, 400, contains=contains)


def test_description_rules(server):
    admin = server.jwt("admin")
    assert_error(server.post(db_tokens_path(), admin, json={"permissions": []}), 400,
                 contains="description")
    for bad in ("", "   ", "x" * 1025, 7, None):
        assert_error(server.post(db_tokens_path(), admin, json={"description": bad}), 400)
    assert server.create_db_token(description="é" * 1024)["description"] == "é" * 1024


def test_unknown_fields_are_400(server):
    admin = server.jwt("admin")
    assert_error(server.post(db_tokens_path(), admin, json={"description": "x", "name": "y"}), 400,
                 contains="name")


def test_expires_at_is_normalised(server):
    body = server.create_db_token(expiresAt=dated("{y}-12-31T23:30:00-01:00"))
    assert body["expiresAt"] == dated("{y1}-01-01T00:30:00.000Z")
    assert set(body) == TOKEN_KEYS | {"accessToken", "expiresAt"}
    assert get_token(server, body["id"])["expiresAt"] == dated("{y1}-01-01T00:30:00.000Z")


def test_expires_at_as_the_docs_linux_example_builds_it(server):
    # Cloud Dedicated's "Create a database token" (Linux): the expiry from GNU date's %z,
    # which prints the offset without its colon ("+0000"); decided in docs/api.md.
    printed = subprocess.run(["date", "-u", "-d", "+7 days", "+%Y-%m-%dT%H:%M:%S%z"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert printed.endswith("+0000"), printed
    body = server.create_db_token(expiresAt=printed)
    assert body["expiresAt"] == printed[:-len("+0000")] + ".000Z"
    # another zone's basic offset is the same instant as its extended one
    basic = server.create_db_token(expiresAt=dated("{y}-12-31T23:30:00-0100"))
    assert basic["expiresAt"] == dated("{y1}-01-01T00:30:00.000Z")
    for broken in ("{y}-12-31T23:30:00-010", "{y}-12-31T23:30:00-01:0", "{y}-12-31T23:30:00-2400"):
        assert_error(server.post(db_tokens_path(), server.jwt("admin"),
                                 json={"description": "x", "permissions": [],
                                       "expiresAt": dated(broken)}), 400, contains="expiresAt")


# FUTURE and PAST stand for dates computed when the test runs, never fixed ones.
@pytest.mark.parametrize("fields, status_ok", [
    ({"expirationType": "datetime", "expiresAt": "FUTURE"}, True),
    ({"expirationType": "noExpiration"}, True),
    ({"expirationType": "datetime"}, False),
    ({"expirationType": "noExpiration", "expiresAt": "FUTURE"}, False),
    ({"expirationType": "never"}, False),
    ({"expirationType": 1}, False),
    ({"expiresAt": "PAST"}, False),
    ({"expiresAt": "tomorrow"}, False),
    ({"expiresAt": None}, True),
])
def test_expiration_type_and_expires_at(server, fields, status_ok):
    body = {"description": "exp"}
    body.update(fields)
    when = {"FUTURE": future_rfc3339(days=400), "PAST": past_rfc3339(days=400)}
    if body.get("expiresAt") in when:
        body["expiresAt"] = when[body["expiresAt"]]
    r = server.post(db_tokens_path(), server.jwt("admin"), json=body)
    if not status_ok:
        assert_error(r, 400)
        return
    got = ok_json(r)
    assert "expirationType" not in got  # accepted, not stored
    assert ("expiresAt" in got) == (fields.get("expiresAt") is not None)


# ---------------------------------------------------------------------------
# List and get


def test_list_is_oldest_first_and_hides_revoked_unless_asked(server):
    admin = server.jwt("admin")
    a = server.create_db_token(description="a")
    b = server.create_db_token(description="b")
    ids = [t["id"] for t in token_list(server)]
    assert ids.index(a["id"]) < ids.index(b["id"])
    assert_no_content(server.delete(db_tokens_path(token_id=a["id"]), admin))
    assert a["id"] not in [t["id"] for t in token_list(server)]
    assert a["id"] not in [t["id"] for t in token_list(server, {"includeRevoked": "false"})]
    with_revoked = token_list(server, {"includeRevoked": "true"})
    revoked = next(t for t in with_revoked if t["id"] == a["id"])
    assert set(revoked) == TOKEN_KEYS | {"revokedAt"}
    assert_recent(revoked["revokedAt"])
    assert_error(server.get(db_tokens_path(), admin, params={"includeRevoked": "yes"}), 400)
    for t in with_revoked:
        assert "accessToken" not in t
        assert t["accountId"] == ACCOUNT_A and t["clusterId"] == CLUSTER_A


@pytest.mark.parametrize("token_id", [RANDOM_UUID, "not-a-uuid", "1"])
def test_get_unknown_is_404(server, token_id):
    assert_error(server.get(db_tokens_path(token_id=token_id), server.jwt("admin")), 404)


def test_secret_is_stored_only_as_a_keyed_hash(fresh_server):
    d = fresh_server
    secret = d.create_db_token([("read", "*")])["accessToken"]
    assert d.authorize(secret, "x", "read").status_code == 403  # known: looked up by hash
    d.stop_ok()  # everything checkpointed into the files
    raw = base64.urlsafe_b64decode(secret[6:] + "==")
    assert len(raw) == 64
    files = d.store_files()
    assert files
    for p in files:
        with open(p, "rb") as f:
            content = f.read()
        assert_secret_absent(content, secret, where=str(p))
        assert raw[:32] not in content and raw[32:] not in content, p


def test_secret_is_never_shown_again_nor_logged(server):
    created = server.create_db_token(description="secret")
    secret = created["accessToken"]
    for cred in (server.jwt("admin"), server.jwt("auditor"), server.jwt("member")):
        for path in (db_tokens_path(), db_tokens_path(token_id=created["id"])):
            r = server.get(path, cred)
            assert r.status_code == 200
            assert_secret_absent(r.text, secret)
    server.authorize(secret, "nowhere", "read")
    assert_secret_absent(server.log_bytes(), secret, where="log")


# ---------------------------------------------------------------------------
# Update


def test_update_description_keeps_permissions(server):
    db = new_db(server)
    t = server.create_db_token([("read", db)], description="before")
    body = ok_json(server.patch(db_tokens_path(token_id=t["id"]), server.jwt("admin"),
                                json={"description": "after"}))
    assert body["description"] == "after"
    assert plain(body["permissions"]) == [perm("read", db)]
    assert get_token(server, t["id"]) == body


def test_update_replaces_permissions_whole(server):
    one, two = new_db(server), new_db(server)
    admin = server.jwt("admin")
    t = server.create_db_token([("read", one), ("write", one)])
    body = ok_json(server.patch(db_tokens_path(token_id=t["id"]), admin,
                                json={"permissions": [perm("write", two)]}))
    assert plain(body["permissions"]) == [perm("write", two)]
    assert body["description"] == t["description"]
    body = ok_json(server.patch(db_tokens_path(token_id=t["id"]), admin, json={"permissions": []}))
    assert plain(body["permissions"]) == []
    assert plain(get_token(server, t["id"])["permissions"]) == []


def test_update_errors(server):
    admin = server.jwt("admin")
    t = server.create_db_token(description="u")
    p = db_tokens_path(token_id=t["id"])
    assert_error(server.patch(p, admin, json={}), 400)
    assert_error(server.patch(p, admin, json={"permissions": [perm("read", unique_name())]}), 400)
    assert_error(server.patch(p, admin, json={"expiresAt": future_rfc3339(days=30)}), 400,
                 contains="expiry")
    assert_error(server.patch(p, admin, json={"accessToken": "x"}), 400, contains="accessToken")
    assert_error(server.patch(p, admin, json={"description": ""}), 400)
    assert_error(server.patch(db_tokens_path(token_id=RANDOM_UUID), admin,
                              json={"description": "x"}), 404)
    assert get_token(server, t["id"])["description"] == "u"
    assert_no_content(server.delete(p, admin))
    assert_error(server.patch(p, admin, json={"description": "x"}), 409, contains="revoked")


# ---------------------------------------------------------------------------
# Revoke


def test_revoke_keeps_the_token_with_its_first_revoked_at(server):
    admin = server.jwt("admin")
    t = server.create_db_token(description="to revoke")
    p = db_tokens_path(token_id=t["id"])
    assert_no_content(server.delete(p, admin))
    first = get_token(server, t["id"])
    assert_recent(first["revokedAt"])
    assert parse_ts(first["revokedAt"]) >= parse_ts(first["createdAt"])
    assert_no_content(server.delete(p, admin))
    assert get_token(server, t["id"])["revokedAt"] == first["revokedAt"]
    assert_error(server.delete(db_tokens_path(token_id=RANDOM_UUID), admin), 404)
    assert_error(server.delete(db_tokens_path(token_id="nope"), admin), 404)


# ---------------------------------------------------------------------------
# Rights and scoping


def test_member_reads_and_creates_but_does_not_change(server):
    member = server.jwt("member")
    db = new_db(server)
    mine = server.create_db_token([("write", db)], cred=member)
    assert plain(mine["permissions"]) == [perm("write", db)]
    assert mine["id"] in [t["id"] for t in token_list(server, cred=member)]
    assert get_token(server, mine["id"], cred=member)["id"] == mine["id"]
    assert_error(server.patch(db_tokens_path(token_id=mine["id"]), member,
                              json={"description": "x"}), 403, contains="database tokens")
    assert_error(server.delete(db_tokens_path(token_id=mine["id"]), member), 403)
    assert "revokedAt" not in get_token(server, mine["id"])


def test_auditor_only_reads(server):
    auditor = server.jwt("auditor")
    t = server.create_db_token()
    assert t["id"] in [x["id"] for x in token_list(server, cred=auditor)]
    assert get_token(server, t["id"], cred=auditor)["id"] == t["id"]
    assert_error(server.post(db_tokens_path(), auditor, json={"description": "x"}), 403)
    assert_error(server.patch(db_tokens_path(token_id=t["id"]), auditor,
                              json={"description": "x"}), 403)
    assert_error(server.delete(db_tokens_path(token_id=t["id"]), auditor), 403)


def test_management_token_does_everything(server):
    cred = server.create_token("db tokens")["accessToken"]
    db = new_db(server)
    t = server.create_db_token([("read", db)], cred=cred)
    ok_json(server.patch(db_tokens_path(token_id=t["id"]), cred, json={"description": "y"}))
    assert_no_content(server.delete(db_tokens_path(token_id=t["id"]), cred))
    assert t["id"] in [x["id"] for x in token_list(server, {"includeRevoked": "true"}, cred=cred)]


def test_database_token_never_reaches_the_management_api(server):
    secret = server.create_db_token([("write", "*")])["accessToken"]
    for path in (db_tokens_path(), databases_path(), clusters_path(), users_path(), tokens_path(),
                 clusters_path(cluster_id=CLUSTER_A)):
        assert_error(server.get(path, secret), 401, contains="database token")
    assert_error(server.post(databases_path(), secret, json={"name": unique_name()}), 401)


def test_tokens_of_account_a_never_touch_account_b(server):
    t_b = server.create_db_token(account=ACCOUNT_B, description="of b")
    mgmt_a = server.create_token("a")["accessToken"]
    admin_a = server.jwt("admin")
    assert_error(server.get(db_tokens_path(ACCOUNT_B), mgmt_a), 404)
    assert_error(server.delete(db_tokens_path(ACCOUNT_B, token_id=t_b["id"]), mgmt_a), 404)
    assert_error(server.get(db_tokens_path(ACCOUNT_B), admin_a), 403, contains="not provisioned")
    # B's token id under A's path, or under A's account with B's cluster: not found
    assert_error(server.get(db_tokens_path(token_id=t_b["id"]), admin_a), 404)
    assert_error(server.delete(db_tokens_path(ACCOUNT_A, CLUSTER_B, t_b["id"]), admin_a), 404)
    assert t_b["id"] not in [t["id"] for t in token_list(server, {"includeRevoked": "true"})]
    assert "revokedAt" not in get_token(server, t_b["id"], ACCOUNT_B)


def test_expiry_in_the_past_by_a_second_is_refused(server):
    past = rfc3339(now_utc() - dt.timedelta(seconds=1))
    assert_error(server.post(db_tokens_path(), server.jwt("admin"),
                             json={"description": "x", "expiresAt": past}), 400)


def test_each_permission_has_a_stable_id_as_the_docs_print(server):
    # Cloud Dedicated's token list/get: {"id": "…", "action": "write", "resource": "mydb"}
    one, two = new_db(server), new_db(server)
    admin = server.jwt("admin")
    t = server.create_db_token([("read", one), ("write", one)])
    ids = {(p["action"], p["resource"]): p["id"] for p in t["permissions"]}
    assert len(set(ids.values())) == 2
    # derived as docs/api.md says
    for (action, resource), pid in ids.items():
        assert pid == derived_permission_id(t["id"], action, resource)
    # the same in the get, the list, and after a change to the other permissions
    assert get_token(server, t["id"])["permissions"] == t["permissions"]
    listed = [x for x in ok_json(server.get(db_tokens_path(), admin)) if x["id"] == t["id"]]
    assert listed[0]["permissions"] == t["permissions"]
    body = ok_json(server.patch(db_tokens_path(token_id=t["id"]), admin,
                                json={"permissions": [perm("write", one), perm("read", two)]}))
    assert body["permissions"][0]["id"] == ids[("write", one)]
    assert body["permissions"][1]["id"] not in ids.values()
    # another token's same permission has another id
    other = server.create_db_token([("read", one)])
    assert other["permissions"][0]["id"] != ids[("read", one)]
    # a permission sent back as read, id and all, is taken (the id follows from it)
    again = ok_json(server.patch(db_tokens_path(token_id=t["id"]), admin,
                                 json={"permissions": body["permissions"]}))
    assert again["permissions"] == body["permissions"]
    assert_error(server.patch(db_tokens_path(token_id=t["id"]), admin,
                              json={"permissions": [dict(perm("read", one), id=7)]}), 400,
                 contains="permissions[0].id")
