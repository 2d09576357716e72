"""Management tokens: create, list, get, revoke, expiry, rights, validation (CONTRACT 3)."""

import datetime as dt
import json
import subprocess
import time

import pytest

from conftest import (
    dated, future_rfc3339, past_rfc3339,
    ACCOUNT_A,
    ACCOUNT_B,
    MGMT_TOKEN_RE,
    RFC3339_MS,
    UUID4,
    assert_error,
    assert_no_content,
    assert_recent,
    assert_secret_absent,
    assert_status,
    mgmt_token_checksum_ok,
    make_mgmt_token,
    now_utc,
    ok_json,
    parse_ts,
    rfc3339,
    tokens_path,
    clusters_path,
    users_path,
)

BASE_KEYS = {"id", "accountId", "description", "tokenPrefix", "status", "createdAt", "createdBy"}
RANDOM_UUID = "9b2f4c1e-7d3a-4f5b-8c6d-0e1f2a3b4c5d"


def ids(tokens):
    return [t["id"] for t in tokens]


# ---------------------------------------------------------------------------
# Create


def test_create_answers_the_token_object_and_the_secret_once(server):
    body = ok_json(server.post(tokens_path(), server.jwt("admin"), json={"description": "ci pipeline"}))
    assert set(body) == BASE_KEYS | {"accessToken"}, body
    assert UUID4.match(body["id"]), body["id"]
    assert body["accountId"] == ACCOUNT_A
    assert body["description"] == "ci pipeline"
    assert body["status"] == "active"
    assert RFC3339_MS.match(body["createdAt"]), body["createdAt"]
    assert_recent(body["createdAt"])
    assert body["createdBy"] == server.user_id("admin")
    secret = body["accessToken"]
    assert MGMT_TOKEN_RE.fullmatch(secret), secret
    assert mgmt_token_checksum_ok(secret), "checksum is not the documented BLAKE2b one"
    assert body["tokenPrefix"] == secret[:9]
    assert body["tokenPrefix"].startswith("M.V1.")


def test_created_token_authenticates(server):
    secret = server.create_token("works")["accessToken"]
    assert_status(server.get(tokens_path(), secret), 200)
    assert_status(server.get(clusters_path(), secret), 200)
    assert_status(server.get(users_path(), secret), 200)


def test_two_tokens_have_different_ids_and_secrets(server):
    a = server.create_token("one")
    b = server.create_token("two")
    assert a["id"] != b["id"]
    assert a["accessToken"] != b["accessToken"]


# {y} is a year ahead of today and {y1} the one after (conftest.dated): never a fixed
# date, so that the test passes on any day.
@pytest.mark.parametrize(
    "given, answered",
    [
        ("{y}-01-01T01:00:00+01:00", "{y}-01-01T00:00:00.000Z"),
        ("{y}-01-01T00:00:00Z", "{y}-01-01T00:00:00.000Z"),
        ("{y}-06-15T12:30:45.500Z", "{y}-06-15T12:30:45.500Z"),
        ("{y}-06-15T12:30:45-02:30", "{y}-06-15T15:00:45.000Z"),
        ("{y}-12-31T23:30:00-01:00", "{y1}-01-01T00:30:00.000Z"),
        ("{y}-07-01t00:00:00.999999+14:00", "{y}-06-30T10:00:00.999Z"),
    ],
)
def test_create_with_expires_at_is_normalised_to_utc_ms(server, given, answered):
    given, answered = dated(given, years=3), dated(answered, years=3)
    body = server.create_token("expiring", expiresAt=given)
    assert body["expiresAt"] == answered
    assert set(body) == BASE_KEYS | {"accessToken", "expiresAt"}
    assert body["status"] == "active"
    again = server.get_token(body["id"])
    assert again["expiresAt"] == answered


def test_create_with_expires_at_as_date_prints_it(server):
    """`date -Iseconds` output, as the docs' examples make it (run here, a week ahead)."""
    given = subprocess.run(["date", "-u", "-d", "+7 days", "-Iseconds"], capture_output=True,
                           text=True, check=True).stdout.strip()
    assert given.endswith("+00:00"), given
    body = server.create_token("expiring", expiresAt=given)
    assert body["expiresAt"] == given[:-len("+00:00")] + ".000Z"
    assert server.get_token(body["id"])["expiresAt"] == body["expiresAt"]


def test_fresh_token_has_no_optional_fields(server):
    created = server.create_token("plain")
    for t in (server.get_token(created["id"]),
              next(t for t in server.list_tokens() if t["id"] == created["id"])):
        assert set(t) == BASE_KEYS, t
        for key in ("expiresAt", "revokedAt", "revokedBy", "lastUsedAt", "accessToken"):
            assert key not in t


def test_get_one_equals_create_answer_without_secret(server):
    created = server.create_token("compare me", expiresAt=dated("{y}-02-03T04:05:06.789Z"))
    got = server.get_token(created["id"])
    expected = dict(created)
    del expected["accessToken"]
    assert got == expected


def test_secret_never_shown_again(server):
    created = server.create_token("secret")
    secret = created["accessToken"]
    # by the admin, by an auditor, by the token itself, by another token
    other = server.create_token("other")["accessToken"]
    for cred in (server.jwt("admin"), server.jwt("auditor"), secret, other):
        for path in (tokens_path(), tokens_path(token_id=created["id"]),
                     tokens_path() + "?status=active"):
            r = server.get(path, cred)
            assert_status(r, 200)
            assert "accessToken" not in r.text
            assert_secret_absent(r.text, secret)


def test_content_type_with_charset_is_accepted(server):
    r = server.post(tokens_path(), server.jwt("admin"),
                    data=json.dumps({"description": "charset"}).encode(),
                    headers={"Content-Type": "application/json; charset=utf-8"})
    body = ok_json(r)
    assert body["description"] == "charset"


def test_description_of_exactly_1024_code_points_is_accepted(server):
    ascii_desc = "a" * 1024
    assert server.create_token(ascii_desc)["description"] == ascii_desc
    # 1024 code points, 2048 bytes of UTF-8
    accented = "\u00e9" * 1024
    created = server.create_token(accented)
    assert created["description"] == accented
    assert server.get_token(created["id"])["description"] == accented


def test_unicode_description_round_trips(server):
    desc = "d\u00e9ploiement \u2014 \U0001F680 \"quoted\" \\ back"
    created = server.create_token(desc)
    assert created["description"] == desc
    assert server.get_token(created["id"])["description"] == desc


def test_body_of_exactly_64_kib_is_not_too_large(server):
    head = json.dumps({"description": "padded"}).encode()
    body = head + b" " * (65536 - len(head))
    assert len(body) == 65536
    r = server.post(tokens_path(), server.jwt("admin"), data=body,
                    headers={"Content-Type": "application/json"})
    assert ok_json(r)["description"] == "padded"


# ---------------------------------------------------------------------------
# Create: refusals

def _future(seconds=3600):
    return rfc3339(now_utc() + dt.timedelta(seconds=seconds))


BAD_JSON_BODIES = [
    ("missing description", {}, None),
    ("empty description", {"description": ""}, None),
    ("description of 1025 chars", {"description": "a" * 1025}, None),
    ("description of 1025 code points", {"description": "\u00e9" * 1025}, None),
    ("description is a number", {"description": 42}, None),
    ("description is null", {"description": None}, None),
    ("description is a list", {"description": ["x"]}, None),
    ("description is an object", {"description": {"x": 1}}, None),
    ("expiresAt in the past", {"description": "x", "expiresAt": past_rfc3339(days=400)}, None),
    ("expiresAt a minute ago", {"description": "x",
                                "expiresAt": rfc3339(now_utc() - dt.timedelta(minutes=1))}, None),
    ("expiresAt words", {"description": "x", "expiresAt": "tomorrow"}, None),
    ("expiresAt date only", {"description": "x", "expiresAt": dated("{y}-01-01")}, None),
    ("expiresAt without offset", {"description": "x", "expiresAt": dated("{y}-01-01T00:00:00")}, None),
    ("expiresAt month 13", {"description": "x", "expiresAt": dated("{y}-13-01T00:00:00Z")}, None),
    ("expiresAt February 30", {"description": "x", "expiresAt": dated("{y}-02-30T00:00:00Z")}, None),
    ("expiresAt hour 25", {"description": "x", "expiresAt": dated("{y}-01-01T25:00:00Z")}, None),
    ("expiresAt is a number", {"description": "x", "expiresAt": 1893456000}, None),
    ("expiresAt empty", {"description": "x", "expiresAt": ""}, None),
    ("unknown field", {"description": "x", "bogusField": 1}, "bogusField"),
    ("unknown field status", {"description": "x", "status": "active"}, "status"),
]


@pytest.mark.parametrize("label, body, named", BAD_JSON_BODIES, ids=[b[0] for b in BAD_JSON_BODIES])
def test_create_refuses_bad_fields(server, label, body, named):
    r = server.post(tokens_path(), server.jwt("admin"), json=body)
    assert_error(r, 400, contains=named)


BAD_RAW_BODIES = [
    ("malformed JSON", b'{"description": ', 400),
    ("trailing garbage", b'{"description": "x"} x', 400),
    ("empty body", b"", 400),
    ("array", b'[{"description": "x"}]', 400),
    ("string", b'"x"', 400),
    ("number", b"42", 400),
    ("null", b"null", 400),
    ("invalid UTF-8", b'{"description": "\xff\xfe"}', 400),
]


@pytest.mark.parametrize("label, raw, status", BAD_RAW_BODIES, ids=[b[0] for b in BAD_RAW_BODIES])
def test_create_refuses_bad_bodies(server, label, raw, status):
    r = server.post(tokens_path(), server.jwt("admin"), data=raw,
                    headers={"Content-Type": "application/json"})
    assert_error(r, status)


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded",
                                   "application/jsonp"])
def test_create_without_json_content_type_is_415(server, ctype):
    headers = {} if ctype is None else {"Content-Type": ctype}
    r = server.post(tokens_path(), server.jwt("admin"),
                    data=json.dumps({"description": "x"}).encode(), headers=headers)
    assert_error(r, 415)


def test_body_over_64_kib_is_413(server):
    head = json.dumps({"description": "padded"}).encode()
    body = head + b" " * (65537 - len(head))
    r = server.post(tokens_path(), server.jwt("admin"), data=body,
                    headers={"Content-Type": "application/json"})
    assert_error(r, 413)


def test_chunked_body_over_64_kib_is_413(server):
    def chunks():
        yield b'{"description": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'

    r = server.post(tokens_path(), server.jwt("admin"), data=chunks(),
                    headers={"Content-Type": "application/json"})
    assert_error(r, 413)


def test_bad_input_leaves_state_untouched(server):
    before = server.list_tokens()
    admin = server.jwt("admin")
    for _label, body, _named in BAD_JSON_BODIES:
        assert_status(server.post(tokens_path(), admin, json=body), 400)
    for _label, raw, status in BAD_RAW_BODIES:
        assert_status(server.post(tokens_path(), admin, data=raw,
                                  headers={"Content-Type": "application/json"}), status)
    assert_status(server.post(tokens_path(), admin, data=b'{"description":"x"}'), 415)
    assert_status(server.post(tokens_path(), server.jwt("member"), json={"description": "x"}), 403)
    assert_status(server.post(tokens_path(), server.jwt("auditor"), json={"description": "x"}), 403)
    assert_status(server.post(tokens_path(), json={"description": "x"}), 401)
    after = server.list_tokens()
    assert after == before


# ---------------------------------------------------------------------------
# List, filters, get

def test_list_is_oldest_first(server):
    made = [server.create_token("order %d" % i)["id"] for i in range(3)]
    listed = server.list_tokens()
    positions = [ids(listed).index(i) for i in made]
    assert positions == sorted(positions)
    stamps = [parse_ts(t["createdAt"]) for t in listed]
    assert stamps == sorted(stamps)
    for t in listed:
        assert t["accountId"] == ACCOUNT_A
        assert "accessToken" not in t


def test_list_has_revoked_tokens_and_status_filters(server):
    admin = server.jwt("admin")
    active = server.create_token("stays active")["id"]
    revoked = server.create_token("gets revoked")["id"]
    assert_no_content(server.delete(tokens_path(token_id=revoked), admin))

    everything = server.list_tokens()
    assert active in ids(everything) and revoked in ids(everything)

    only_active = server.list_tokens(params={"status": "active"})
    assert active in ids(only_active) and revoked not in ids(only_active)
    assert all(t["status"] == "active" for t in only_active)

    only_revoked = server.list_tokens(params={"status": "revoked"})
    assert revoked in ids(only_revoked) and active not in ids(only_revoked)
    assert all(t["status"] == "revoked" for t in only_revoked)

    only_expired = server.list_tokens(params={"status": "expired"})
    assert active not in ids(only_expired) and revoked not in ids(only_expired)
    assert all(t["status"] == "expired" for t in only_expired)

    # the filters partition the whole list
    assert sorted(ids(only_active) + ids(only_revoked) + ids(only_expired)) == sorted(ids(everything))


@pytest.mark.parametrize("status", ["bogus", "activ", "revoked2"])
def test_list_with_bad_status_filter_is_400(server, status):
    assert_error(server.get(tokens_path(), server.jwt("admin"), params={"status": status}), 400)


def test_get_unknown_token_is_404(server):
    assert_error(server.get(tokens_path(token_id=RANDOM_UUID), server.jwt("admin")), 404)


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "9b2f4c1e7d3a4f5b8c6d0e1f2a3b4c5d",
                                    "9b2f4c1e-7d3a-4f5b-8c6d-0e1f2a3b4c5dzz"])
def test_get_malformed_token_id_is_404(server, bad_id):
    assert_error(server.get(tokens_path(token_id=bad_id), server.jwt("admin")), 404)


def test_delete_unknown_token_is_404(server):
    assert_error(server.delete(tokens_path(token_id=RANDOM_UUID), server.jwt("admin")), 404)
    assert_error(server.delete(tokens_path(token_id="not-a-uuid"), server.jwt("admin")), 404)


# ---------------------------------------------------------------------------
# Revoke

def test_revoke_then_again_keeps_first_revoked_at(server):
    admin = server.jwt("admin")
    created = server.create_token("to revoke")
    secret = created["accessToken"]
    assert_status(server.get(tokens_path(), secret), 200)

    assert_no_content(server.delete(tokens_path(token_id=created["id"]), admin))
    first = server.get_token(created["id"])
    assert first["status"] == "revoked"
    assert RFC3339_MS.match(first["revokedAt"])
    assert_recent(first["revokedAt"])
    assert parse_ts(first["revokedAt"]) >= parse_ts(first["createdAt"])
    assert first["revokedBy"] == server.user_id("admin")
    # the token was used above, so lastUsedAt may be there too
    assert set(first) - {"lastUsedAt"} == BASE_KEYS | {"revokedAt", "revokedBy"}

    time.sleep(0.05)
    assert_no_content(server.delete(tokens_path(token_id=created["id"]), admin))
    second = server.get_token(created["id"])
    assert second == first

    # a revoked token never authenticates again, on any route
    for path in (tokens_path(), tokens_path(token_id=created["id"]), users_path(),
                 clusters_path(), tokens_path(ACCOUNT_B)):
        assert_error(server.get(path, secret), 401)
    assert_error(server.delete(tokens_path(token_id=created["id"]), secret), 401)


def test_revoked_by_a_management_token_names_that_token(server):
    revoker = server.create_token("revoker")
    victim = server.create_token("victim")
    assert_no_content(server.delete(tokens_path(token_id=victim["id"]), revoker["accessToken"]))
    got = server.get_token(victim["id"])
    assert got["status"] == "revoked"
    assert got["revokedBy"] == revoker["id"]
    assert_error(server.get(tokens_path(), victim["accessToken"]), 401)
    # the revoker is untouched
    assert_status(server.get(tokens_path(), revoker["accessToken"]), 200)
    assert server.get_token(revoker["id"])["status"] == "active"


def test_token_may_revoke_itself(server):
    t = server.create_token("self destruct")
    assert_no_content(server.delete(tokens_path(token_id=t["id"]), t["accessToken"]))
    assert_error(server.get(tokens_path(), t["accessToken"]), 401)
    got = server.get_token(t["id"])
    assert got["status"] == "revoked"
    assert got["revokedBy"] == t["id"]


# ---------------------------------------------------------------------------
# Expiry (the one test of the suite that sleeps)

def test_expired_token_shows_expired_and_no_longer_authenticates(server):
    expires = now_utc() + dt.timedelta(seconds=2)
    created = server.create_token("short lived", expiresAt=rfc3339(expires))
    secret = created["accessToken"]
    assert created["status"] == "active"
    assert_status(server.get(clusters_path(), secret), 200)

    time.sleep(max(0.0, (expires - now_utc()).total_seconds()) + 1.0)

    got = server.get_token(created["id"])
    assert got["status"] == "expired"
    assert got["expiresAt"] == created["expiresAt"]
    assert "revokedAt" not in got
    assert created["id"] in ids(server.list_tokens(params={"status": "expired"}))
    assert created["id"] not in ids(server.list_tokens(params={"status": "active"}))
    for path in (tokens_path(), clusters_path(), users_path()):
        assert_error(server.get(path, secret), 401)
    # an expired token can still be revoked by an admin (and then reads as revoked)
    assert_no_content(server.delete(tokens_path(token_id=created["id"]), server.jwt("admin")))
    assert_error(server.get(tokens_path(), secret), 401)


# ---------------------------------------------------------------------------
# lastUsedAt

def _wait_for_last_used(server, token_id, deadline_s=3.0):
    end = time.monotonic() + deadline_s
    while True:
        got = server.get_token(token_id)
        if "lastUsedAt" in got or time.monotonic() > end:
            return got
        time.sleep(0.1)


def test_last_used_at_is_set_on_use_and_written_at_most_once_a_minute(server):
    t = server.create_token("usage")
    assert "lastUsedAt" not in server.get_token(t["id"])
    assert_status(server.get(clusters_path(), t["accessToken"]), 200)
    got = _wait_for_last_used(server, t["id"])
    assert "lastUsedAt" in got, "lastUsedAt not set after a request made with the token"
    assert RFC3339_MS.match(got["lastUsedAt"])
    assert_recent(got["lastUsedAt"])
    assert parse_ts(got["lastUsedAt"]) >= parse_ts(got["createdAt"])
    first = got["lastUsedAt"]

    time.sleep(0.05)
    assert_status(server.get(users_path(), t["accessToken"]), 200)
    time.sleep(0.3)
    assert server.get_token(t["id"])["lastUsedAt"] == first


# ---------------------------------------------------------------------------
# Rights (CONTRACT 2)

def test_member_may_not_touch_management_tokens(server):
    t = server.create_token("member target")
    member = server.jwt("member")
    assert_error(server.get(tokens_path(), member), 403)
    assert_error(server.get(tokens_path(token_id=t["id"]), member), 403)
    assert_error(server.post(tokens_path(), member, json={"description": "x"}), 403)
    assert_error(server.delete(tokens_path(token_id=t["id"]), member), 403)
    assert server.get_token(t["id"])["status"] == "active"


def test_auditor_reads_but_may_not_create_or_revoke(server):
    t = server.create_token("auditor target")
    auditor = server.jwt("auditor")
    listed = ok_json(server.get(tokens_path(), auditor))
    assert t["id"] in ids(listed)
    one = ok_json(server.get(tokens_path(token_id=t["id"]), auditor))
    assert one["id"] == t["id"]
    assert_error(server.post(tokens_path(), auditor, json={"description": "x"}), 403)
    assert_error(server.delete(tokens_path(token_id=t["id"]), auditor), 403)
    assert server.get_token(t["id"])["status"] == "active"


def test_admin_matched_by_email_may_create(server):
    body = ok_json(server.post(tokens_path(), server.jwt("emailonly"), json={"description": "by email"}))
    assert body["createdBy"] == server.user_id("emailonly")


def test_management_token_reads_and_revokes_but_may_not_create(server):
    t = server.create_token("a token")
    other = server.create_token("target")
    assert other["id"] in ids(ok_json(server.get(tokens_path(), t["accessToken"])))
    assert ok_json(server.get(tokens_path(token_id=other["id"]), t["accessToken"]))["id"] == other["id"]
    before = server.list_tokens()
    assert_error(server.post(tokens_path(), t["accessToken"], json={"description": "minted"}), 403)
    assert server.list_tokens() == before
    assert_no_content(server.delete(tokens_path(token_id=other["id"]), t["accessToken"]))


def test_admin_of_another_account_is_not_provisioned(server):
    admin_b = server.jwt("admin_b")
    t = server.create_token("a")
    for r in (server.get(tokens_path(ACCOUNT_A), admin_b),
              server.get(tokens_path(ACCOUNT_A, t["id"]), admin_b),
              server.post(tokens_path(ACCOUNT_A), admin_b, json={"description": "x"}),
              server.delete(tokens_path(ACCOUNT_A, t["id"]), admin_b)):
        assert_error(r, 403, contains="not provisioned")
    assert server.get_token(t["id"])["status"] == "active"


def test_jwt_on_unknown_account_is_403(server):
    r = server.get(tokens_path(RANDOM_UUID), server.jwt("admin"))
    assert_error(r, 403, contains="not provisioned")
    r = server.post(tokens_path(RANDOM_UUID), server.jwt("admin"), json={"description": "x"})
    assert_error(r, 403, contains="not provisioned")


def test_management_token_never_reaches_another_account(server):
    token_a = server.create_token("a")["accessToken"]
    b = server.create_token("b", account=ACCOUNT_B)
    assert b["accountId"] == ACCOUNT_B
    assert b["createdBy"] == server.user_id("admin_b")
    assert_error(server.get(tokens_path(ACCOUNT_B), token_a), 404)
    assert_error(server.get(tokens_path(ACCOUNT_B, b["id"]), token_a), 404)
    assert_error(server.delete(tokens_path(ACCOUNT_B, b["id"]), token_a), 404)
    assert_error(server.post(tokens_path(ACCOUNT_B), token_a, json={"description": "x"}), 404)
    assert_error(server.get(tokens_path(RANDOM_UUID), token_a), 404)
    assert server.get_token(b["id"], account=ACCOUNT_B)["status"] == "active"
    assert_status(server.get(tokens_path(ACCOUNT_B), b["accessToken"]), 200)


def test_token_id_of_another_account_is_404(server):
    b = server.create_token("b", account=ACCOUNT_B)
    admin = server.jwt("admin")
    assert_error(server.get(tokens_path(ACCOUNT_A, b["id"]), admin), 404)
    assert_error(server.delete(tokens_path(ACCOUNT_A, b["id"]), admin), 404)
    assert b["id"] not in ids(server.list_tokens(ACCOUNT_A))
    assert server.get_token(b["id"], account=ACCOUNT_B)["status"] == "active"


def test_lists_are_per_account(server):
    a = server.create_token("in a")
    b = server.create_token("in b", account=ACCOUNT_B)
    in_a = ids(server.list_tokens(ACCOUNT_A))
    in_b = ids(server.list_tokens(ACCOUNT_B))
    assert a["id"] in in_a and a["id"] not in in_b
    assert b["id"] in in_b and b["id"] not in in_a


# ---------------------------------------------------------------------------
# [auth] tokens_may_mint = true

def test_tokens_may_mint_lets_a_management_token_create(daemon_factory):
    d = daemon_factory(tokens_may_mint=True)
    parent = d.create_token("parent")
    r = d.post(tokens_path(), parent["accessToken"], json={"description": "minted"})
    child = ok_json(r)
    assert child["description"] == "minted"
    assert child["accountId"] == ACCOUNT_A
    assert MGMT_TOKEN_RE.fullmatch(child["accessToken"])
    assert_status(d.get(clusters_path(), child["accessToken"]), 200)
    # still never another account
    assert_error(d.post(tokens_path(ACCOUNT_B), parent["accessToken"], json={"description": "x"}), 404)


def test_unknown_well_formed_token_cannot_create(server):
    assert_error(server.post(tokens_path(), make_mgmt_token(), json={"description": "x"}), 401)
