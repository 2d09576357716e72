"""Invites: create, list, get, revoke, rights, the 409 rules, expiry, first sign-in
acceptance, the seed's invites and `mgmtd user invite` (CONTRACT 5, 7, 9)."""

import concurrent.futures
import datetime as dt

import pytest

from conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    RFC3339_MS,
    UUID4,
    assert_error,
    assert_no_content,
    assert_recent,
    default_seed,
    make_mgmt_token,
    ok_json,
    parse_ts,
    rfc3339,
    run_cli,
    unique_email,
    users_path,
)

INVITE_KEYS = {"id", "accountId", "email", "group", "status", "invitedAt", "expiresAt"}
OPTIONAL_KEYS = {"invitedBy", "acceptedAt", "revokedAt"}
RANDOM_UUID = "5d1c0b7a-2e4f-4a6b-9c8d-7e6f5a4b3c2d"
SEEDED_TOKEN = make_mgmt_token()
TESTING = "[testing]\nenabled = true\n"


def invites_path(account=ACCOUNT_A, invite_id=None):
    p = "/api/v0/accounts/%s/invites" % account
    return p if invite_id is None else "%s/%s" % (p, invite_id)


def check_shape(inv):
    assert INVITE_KEYS <= set(inv) <= INVITE_KEYS | OPTIONAL_KEYS, inv
    assert UUID4.match(inv["id"]), inv
    assert inv["group"] in ("admin", "member", "auditor")
    assert inv["status"] in ("pending", "accepted", "expired", "revoked")
    for k in ("invitedAt", "expiresAt", "acceptedAt", "revokedAt"):
        if k in inv:
            assert RFC3339_MS.match(inv[k]), inv


def invite(d, email=None, group="member", cred=None, account=ACCOUNT_A):
    body = {"email": email or unique_email("invitee"), "group": group}
    return ok_json(d.post(invites_path(account), cred or d.admin_of(account), json=body))


def seed_with_token():
    seed = default_seed()
    seed["managementTokens"] = [{"accountId": ACCOUNT_A, "description": "fixed",
                                 "accessToken": SEEDED_TOKEN, "createdBy": "admin@example.com"}]
    return seed


@pytest.fixture(scope="module")
def tserver(daemon_factory_module):
    return daemon_factory_module(seed=seed_with_token())


@pytest.fixture(scope="module")
def daemon_factory_module(mgmtd_bin, idp, tmp_path_factory):
    from conftest import _Factory, _stop_all

    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("invites"), idp)
    yield f
    _stop_all(f)


# ---------------------------------------------------------------------------
# Creating and reading

def test_admin_invites_and_reads_back(tserver):
    d = tserver
    email = unique_email("Ann")
    inv = invite(d, email=email, group="auditor")
    check_shape(inv)
    assert inv["email"] == email
    assert inv["accountId"] == ACCOUNT_A
    assert inv["group"] == "auditor"
    assert inv["status"] == "pending"
    assert inv["invitedBy"] == d.user_id("admin")
    assert_recent(inv["invitedAt"])
    # [auth] invite_days defaults to 7
    assert parse_ts(inv["expiresAt"]) - parse_ts(inv["invitedAt"]) == dt.timedelta(days=7)
    assert "acceptedAt" not in inv and "revokedAt" not in inv

    assert ok_json(d.get(invites_path(invite_id=inv["id"]), d.jwt("admin"))) == inv
    listed = ok_json(d.get(invites_path(), d.jwt("admin")))
    assert inv in listed
    for i in listed:
        check_shape(i)
    # oldest first
    stamps = [parse_ts(i["invitedAt"]) for i in listed]
    assert stamps == sorted(stamps)


def test_management_token_invites_and_revokes(tserver):
    d = tserver
    inv = invite(d, cred=SEEDED_TOKEN)
    tokens = ok_json(d.get("/api/v0/accounts/%s/management/tokens" % ACCOUNT_A, d.jwt("admin")))
    token_id = next(t["id"] for t in tokens if t["description"] == "fixed")
    assert inv["invitedBy"] == token_id
    assert_no_content(d.delete(invites_path(invite_id=inv["id"]), SEEDED_TOKEN))
    assert ok_json(d.get(invites_path(invite_id=inv["id"]), SEEDED_TOKEN))["status"] == "revoked"


def test_rights(tserver):
    d = tserver
    inv = invite(d)
    one = invites_path(invite_id=inv["id"])
    body = {"email": unique_email(), "group": "member"}
    # auditors read, and only read
    assert ok_json(d.get(invites_path(), d.jwt("auditor")))
    assert ok_json(d.get(one, d.jwt("auditor")))["id"] == inv["id"]
    assert_error(d.post(invites_path(), d.jwt("auditor"), json=body), 403)
    assert_error(d.delete(one, d.jwt("auditor")), 403)
    # members see nothing of it
    for resp in (d.get(invites_path(), d.jwt("member")), d.get(one, d.jwt("member")),
                 d.post(invites_path(), d.jwt("member"), json=body),
                 d.delete(one, d.jwt("member"))):
        assert_error(resp, 403, "invites")
    # no credential, another account's admin
    assert_error(d.get(invites_path()), 401)
    assert_error(d.get(invites_path(), d.jwt("admin_b")), 403)
    assert ok_json(d.get(one, d.jwt("admin")))["status"] == "pending"


def test_not_found(tserver):
    d = tserver
    inv = invite(d)
    for path in (invites_path(invite_id=RANDOM_UUID), invites_path(invite_id="not-a-uuid"),
                 invites_path(ACCOUNT_B, inv["id"])):
        cred = d.jwt("admin_b") if ACCOUNT_B in path else d.jwt("admin")
        assert_error(d.get(path, cred), 404, "invite")
        assert_error(d.delete(path, cred), 404, "invite")


@pytest.mark.parametrize("body, says", [
    ({"group": "member"}, "email"),
    ({"email": "x@example.com"}, "group"),
    ({"email": "no-at-sign", "group": "member"}, "email"),
    ({"email": "x@example.com", "group": "owner"}, "group"),
    ({"email": "x@example.com", "group": "member", "role": "x"}, "role"),
    ({"email": 5, "group": "member"}, "email"),
])
def test_bad_bodies(tserver, body, says):
    assert_error(tserver.post(invites_path(), tserver.jwt("admin"), json=body), 400, says)


def test_second_invite_while_pending_is_409(tserver):
    d = tserver
    email = unique_email("twice")
    first = invite(d, email=email)
    assert_error(d.post(invites_path(), d.jwt("admin"),
                        json={"email": email.upper(), "group": "admin"}), 409, "pending")
    # the same email in another account is another matter
    invite(d, email=email, account=ACCOUNT_B)
    # once revoked, the email may be invited again
    assert_no_content(d.delete(invites_path(invite_id=first["id"]), d.jwt("admin")))
    again = invite(d, email=email, group="admin")
    assert again["id"] != first["id"] and again["status"] == "pending"


def test_invite_of_an_existing_user_is_409(tserver):
    assert_error(tserver.post(invites_path(), tserver.jwt("admin"),
                              json={"email": "MEMBER@example.com", "group": "admin"}),
                 409, "already exists")


def test_revoke_twice_keeps_the_first_revocation(tserver):
    d = tserver
    inv = invite(d)
    one = invites_path(invite_id=inv["id"])
    assert_no_content(d.delete(one, d.jwt("admin")))
    first = ok_json(d.get(one, d.jwt("admin")))
    assert first["status"] == "revoked"
    assert_recent(first["revokedAt"])
    assert_no_content(d.delete(one, d.jwt("admin")))
    assert ok_json(d.get(one, d.jwt("admin"))) == first


def test_only_one_of_concurrent_invites_wins(tserver):
    """The 409 rule holds in the database, whatever the requests race to do."""
    d = tserver
    email = unique_email("race")
    token = d.jwt("admin")

    def attempt(i):
        return d.request("POST", invites_path(), token,
                         json={"email": email, "group": "member"}).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(attempt, range(16)))
    assert codes == [200] + [409] * 15, codes
    pending = [i for i in ok_json(d.get(invites_path(), token)) if i["email"] == email]
    assert len(pending) == 1


# ---------------------------------------------------------------------------
# First sign-in

def test_first_sign_in_accepts_the_invite(tserver):
    d = tserver
    email = unique_email("joiner")
    inv = invite(d, email=email, group="auditor")
    jwt = d.idp.make_jwt(sub="sub-" + inv["id"], email=email)
    users = ok_json(d.get(users_path(), jwt))
    me = next(u for u in users if u["email"] == email)
    assert me["group"] == "auditor"
    assert me["idpSubject"] == "sub-" + inv["id"]
    assert_recent(me["createdAt"])
    after = ok_json(d.get(invites_path(invite_id=inv["id"]), d.jwt("admin")))
    assert after["status"] == "accepted"
    assert_recent(after["acceptedAt"])
    # the person is now a user: the next request needs no invite, and an auditor reads invites
    assert ok_json(d.get(invites_path(invite_id=inv["id"]), jwt))["status"] == "accepted"
    assert [u["email"] for u in ok_json(d.get(users_path(), d.jwt("admin")))].count(email) == 1
    # an accepted invite cannot be revoked; the email cannot be invited again
    assert_error(d.delete(invites_path(invite_id=inv["id"]), d.jwt("admin")), 409, "remove the user")
    assert_error(d.post(invites_path(), d.jwt("admin"), json={"email": email, "group": "member"}),
                 409, "already exists")


def test_member_invitee_becomes_a_member(tserver):
    d = tserver
    email = unique_email("member")
    invite(d, email=email, group="member")
    jwt = d.idp.make_jwt(sub="sub-" + email, email=email)
    # a write as the first request: the user is made, then the rights apply to a member
    assert_error(d.post(invites_path(), jwt, json={"email": unique_email(), "group": "member"}),
                 403, "member")
    me = ok_json(d.get(users_path(), jwt))
    assert [(u["email"], u["group"]) for u in me] == [(email, "member")]


def test_concurrent_first_requests_make_one_user(tserver):
    d = tserver
    email = unique_email("eager")
    invite(d, email=email, group="member")
    jwt = d.idp.make_jwt(sub="sub-" + email, email=email)

    def attempt(i):
        return d.request("GET", users_path(), jwt).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(attempt, range(8)))
    assert codes == [200] * 8, codes
    users = ok_json(d.get(users_path(), d.jwt("admin")))
    assert [u["email"] for u in users].count(email) == 1


def test_no_acceptance_without_a_pending_invite_of_that_email(tserver):
    d = tserver
    email = unique_email("nobody")
    inv = invite(d, email=email)
    # another email; the email in another account; an email the IdP did not verify
    assert_error(d.get(users_path(), d.idp.make_jwt(sub="s1", email=unique_email())), 403,
                 "not provisioned")
    assert_error(d.get(users_path(ACCOUNT_B), d.idp.make_jwt(sub="s2", email=email)), 403,
                 "not provisioned")
    # an address the IdP did not verify, or did not say it verified (test_attacks_identity.py)
    for verified in (False, None):
        unverified = d.idp.make_jwt(sub="s3", email=email, email_verified=verified)
        assert_error(d.get(users_path(), unverified), 403, "not provisioned")
    assert ok_json(d.get(invites_path(invite_id=inv["id"]), d.jwt("admin")))["status"] == "pending"
    # a revoked invite is not accepted either
    assert_no_content(d.delete(invites_path(invite_id=inv["id"]), d.jwt("admin")))
    assert_error(d.get(users_path(), d.idp.make_jwt(sub="s4", email=email)), 403,
                 "not provisioned")


# ---------------------------------------------------------------------------
# Expiry (fake clock) and [auth] invite_days

def test_invite_expires_after_invite_days(daemon_factory):
    d = daemon_factory(seed=seed_with_token(), config_extra=TESTING,
                       env={"MGMTD_AUTH_INVITE_DAYS": "2"})
    email = unique_email("late")
    inv = invite(d, email=email, cred=SEEDED_TOKEN)
    invited = parse_ts(inv["invitedAt"])
    assert parse_ts(inv["expiresAt"]) - invited == dt.timedelta(days=2)
    one = invites_path(invite_id=inv["id"])

    # a moment before the end it is still pending
    ok_json(d.put("/_test/clock", json={"now": rfc3339(invited + dt.timedelta(days=2, seconds=-1))}))
    assert ok_json(d.get(one, SEEDED_TOKEN))["status"] == "pending"
    # then expired: a sign-in no longer accepts it, and the email may be invited anew
    ok_json(d.put("/_test/clock", json={"now": rfc3339(invited + dt.timedelta(days=2))}))
    assert ok_json(d.get(one, SEEDED_TOKEN))["status"] == "expired"
    late_jwt = d.idp.make_jwt(sub="late-1", email=email, exp_offset=30 * 86400)
    assert_error(d.get(users_path(), late_jwt), 403, "not provisioned")
    again = invite(d, email=email, cred=SEEDED_TOKEN)
    assert again["status"] == "pending"
    # the old one stays expired, even with the clock turned back
    ok_json(d.put("/_test/clock", json={"now": rfc3339(invited + dt.timedelta(hours=1))}))
    assert ok_json(d.get(one, SEEDED_TOKEN))["status"] == "expired"
    assert_no_content(d.delete("/_test/clock"))
    # the new one is accepted at sign-in
    assert ok_json(d.get(users_path(), late_jwt))
    assert ok_json(d.get(invites_path(invite_id=again["id"]), SEEDED_TOKEN))["status"] == "accepted"


# ---------------------------------------------------------------------------
# Seed and offline CLI

def test_seeded_invites_are_made_once(daemon_factory):
    seed = default_seed()
    seed["invites"] = [{"accountId": ACCOUNT_A, "email": "new@example.com", "group": "member"},
                       {"accountId": ACCOUNT_B, "email": "new@example.com", "group": "auditor"}]
    d = daemon_factory(seed=seed)
    listed = ok_json(d.get(invites_path(), d.jwt("admin")))
    assert [(i["email"], i["group"], i["status"]) for i in listed] == [
        ("new@example.com", "member", "pending")]
    assert "invitedBy" not in listed[0]
    assert_recent(listed[0]["invitedAt"])
    # accepted, then a restart with the same seed: nothing new
    ok_json(d.get(users_path(), d.idp.make_jwt(sub="new-1", email="new@example.com")))
    d.restart()
    again = ok_json(d.get(invites_path(), d.jwt("admin")))
    assert [(i["id"], i["status"]) for i in again] == [(listed[0]["id"], "accepted")]
    b = ok_json(d.get(invites_path(ACCOUNT_B), d.jwt("admin_b")))
    assert [(i["group"], i["status"]) for i in b] == [("auditor", "pending")]


@pytest.mark.parametrize("entry, says", [
    ({"accountId": ACCOUNT_A, "email": "member@example.com", "group": "member"}, "already exists"),
    ({"accountId": ACCOUNT_A, "email": "x@example.com", "group": "owner"}, "group"),
    ({"accountId": ACCOUNT_A, "email": "x@example.com", "group": "member", "id": RANDOM_UUID},
     "unknown field"),
    ({"accountId": "99999999-9999-4999-8999-999999999999", "email": "x@example.com",
      "group": "member"}, "no account"),
])
def test_bad_seed_invites_stop_the_start(daemon_factory, entry, says):
    seed = default_seed()
    seed["invites"] = [entry]
    d = daemon_factory(seed=seed, start=False)
    res = run_cli(d.serve_argv(), cwd=d.workdir, timeout=10)
    assert res.returncode == 1, res.stderr
    assert "invites[0]" in res.stderr and says in res.stderr, res.stderr


def test_cli_user_invite(daemon_factory):
    d = daemon_factory()
    email = unique_email("cli")
    res = d.cli("user", "invite", "--account", ACCOUNT_A, "--email", email, "--group", "auditor")
    assert res.returncode == 0, res.stderr
    assert email in res.stdout and "auditor" in res.stdout
    listed = ok_json(d.get(invites_path(), d.jwt("admin")))
    inv = next(i for i in listed if i["email"] == email)
    assert inv["group"] == "auditor" and inv["status"] == "pending"
    assert inv["id"] in res.stdout
    assert "invitedBy" not in inv

    res = d.cli("user", "invite", "--account", ACCOUNT_A, "--email", email, "--group", "member")
    assert res.returncode == 1 and "pending" in res.stderr, res.stderr
    res = d.cli("user", "invite", "--account", ACCOUNT_A, "--email", "admin@example.com",
                "--group", "member")
    assert res.returncode == 1 and "already exists" in res.stderr, res.stderr
    res = d.cli("user", "invite", "--account", ACCOUNT_A, "--email", email, "--group", "boss")
    assert res.returncode == 2
    res = d.cli("user", "invite", "--account", ACCOUNT_A, "--group", "member")
    assert res.returncode == 2
    res = d.cli("user", "invite", "--account", ACCOUNT_A, "--email", "bad", "--group", "member")
    assert res.returncode == 2
    res = d.cli("user", "invite", "--help")
    assert res.returncode == 0 and "invite" in res.stdout
