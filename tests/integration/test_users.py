"""Users: list, get, create, update, delete, rights, last admin (CONTRACT 2, 5)."""

import json
import time

import pytest

from conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    ISSUER,
    Idp,
    RFC3339_MS,
    USERS,
    UUID4,
    assert_error,
    assert_no_content,
    assert_recent,
    assert_status,
    config_text,
    default_seed,
    make_mgmt_token,
    ok_json,
    parse_ts,
    store_section,
    tokens_path,
    unique_email,
    users_path,
)

RANDOM_UUID = "5d1c0b7a-2e4f-4a6b-9c8d-7e6f5a4b3c2d"
USER_KEYS = {"id", "accountId", "email", "group", "createdAt"}
OPTIONAL_KEYS = {"firstName", "lastName", "idpIssuer", "idpSubject"}


def check_user_shape(u):
    assert USER_KEYS <= set(u) <= USER_KEYS | OPTIONAL_KEYS, u
    assert UUID4.match(u["id"]), u["id"]
    assert RFC3339_MS.match(u["createdAt"]), u["createdAt"]
    assert u["group"] in ("admin", "member", "auditor")
    for k in OPTIONAL_KEYS:
        if k in u:
            assert isinstance(u[k], str) and u[k] != "", u


def emails(users):
    return [u["email"] for u in users]


def add_user(d, cred=None, **fields):
    body = {"email": unique_email(), "group": "member"}
    body.update(fields)
    return ok_json(d.post(users_path(), d.jwt("admin") if cred is None else cred, json=body))


# ---------------------------------------------------------------------------
# Reading

def test_seeded_users_have_the_documented_shape(server):
    users = ok_json(server.get(users_path(), server.jwt("admin")))
    by_email = {u["email"]: u for u in users}
    for name in ("admin", "member", "auditor", "emailonly"):
        email, group, subject, account = USERS[name]
        u = by_email[email]
        check_user_shape(u)
        assert u["accountId"] == ACCOUNT_A
        assert u["group"] == group
        if subject is None:
            assert "idpSubject" not in u
            assert set(u) == USER_KEYS
        else:
            # the seed left the issuer out: the only configured one
            assert (u["idpIssuer"], u["idpSubject"]) == (ISSUER, subject)
            assert set(u) == USER_KEYS | {"idpIssuer", "idpSubject"}
    assert "admin-b@example.com" not in by_email
    assert len({u["id"] for u in users}) == len(users)


def test_user_lists_are_oldest_first(server):
    made = []
    for _ in range(3):
        made.append(add_user(server)["id"])
        time.sleep(0.005)
    users = ok_json(server.get(users_path(), server.jwt("admin")))
    listed = [u["id"] for u in users]
    positions = [listed.index(i) for i in made]
    assert positions == sorted(positions)
    stamps = [parse_ts(u["createdAt"]) for u in users]
    assert stamps == sorted(stamps)


def test_admin_auditor_and_token_see_the_same_list(server):
    admin_view = ok_json(server.get(users_path(), server.jwt("admin")))
    assert ok_json(server.get(users_path(), server.jwt("auditor"))) == admin_view
    token = server.create_token("users reader")["accessToken"]
    assert ok_json(server.get(users_path(), token)) == admin_view


def test_member_lists_only_itself(server):
    users = ok_json(server.get(users_path(), server.jwt("member")))
    assert len(users) == 1
    assert users[0]["email"] == "member@example.com"
    assert users[0]["id"] == server.user_id("member")


def test_get_one_user(server):
    member_id = server.user_id("member")
    admin_id = server.user_id("admin")
    u = ok_json(server.get(users_path(user_id=member_id), server.jwt("admin")))
    assert u["email"] == "member@example.com" and u["id"] == member_id
    check_user_shape(u)
    # the same object as in the list
    listed = ok_json(server.get(users_path(), server.jwt("admin")))
    assert u == next(x for x in listed if x["id"] == member_id)
    # member may read itself only
    assert ok_json(server.get(users_path(user_id=member_id), server.jwt("member")))["id"] == member_id
    assert_error(server.get(users_path(user_id=admin_id), server.jwt("member")), 403)
    # auditor and token read anyone
    assert ok_json(server.get(users_path(user_id=admin_id), server.jwt("auditor")))["id"] == admin_id
    token = server.create_token("reader")["accessToken"]
    assert ok_json(server.get(users_path(user_id=admin_id), token))["id"] == admin_id


def test_get_unknown_malformed_or_foreign_user_is_404(server):
    admin = server.jwt("admin")
    assert_error(server.get(users_path(user_id=RANDOM_UUID), admin), 404)
    assert_error(server.get(users_path(user_id="not-a-uuid"), admin), 404)
    # a user of account B through account A's path
    assert_error(server.get(users_path(ACCOUNT_A, server.user_id("admin_b")), admin), 404)
    assert_error(server.patch(users_path(ACCOUNT_A, server.user_id("admin_b")), admin,
                              json={"firstName": "X"}), 404)
    assert_error(server.delete(users_path(ACCOUNT_A, server.user_id("admin_b")), admin), 404)


def test_jwt_user_of_another_account_is_403(server):
    assert_error(server.get(users_path(ACCOUNT_B), server.jwt("admin")), 403, contains="not provisioned")
    assert_error(server.get(users_path(ACCOUNT_A), server.jwt("admin_b")), 403, contains="not provisioned")


# ---------------------------------------------------------------------------
# Creating

def test_admin_creates_a_user_with_every_field(server):
    email = unique_email("full")
    body = {"email": email, "group": "auditor", "firstName": "Ada", "lastName": "Lovelace",
            "idpSubject": "sub-" + email}
    u = ok_json(server.post(users_path(), server.jwt("admin"), json=body))
    check_user_shape(u)
    assert set(u) == USER_KEYS | OPTIONAL_KEYS
    assert u["accountId"] == ACCOUNT_A
    assert u["idpIssuer"] == ISSUER  # a subject without one gets the only issuer
    for k, v in body.items():
        assert u[k] == v
    assert_recent(u["createdAt"])
    assert ok_json(server.get(users_path(user_id=u["id"]), server.jwt("admin"))) == u
    # the new user signs in by subject with the rights of its group
    listed = ok_json(server.get(users_path(), server.make_jwt_for_subject(body["idpSubject"])))
    assert u["id"] in [x["id"] for x in listed]


def test_minimal_user_has_no_optional_fields(server):
    email = unique_email("min")
    u = ok_json(server.post(users_path(), server.jwt("admin"), json={"email": email, "group": "member"}))
    assert set(u) == USER_KEYS
    assert u["email"] == email and u["group"] == "member"


def test_management_token_creates_users(server):
    token = server.create_token("user maker")["accessToken"]
    u = ok_json(server.post(users_path(), token, json={"email": unique_email("bytoken"), "group": "admin"}))
    assert u["group"] == "admin"


def test_member_and_auditor_may_not_create_users(server):
    for who in ("member", "auditor"):
        email = unique_email(who)
        r = server.post(users_path(), server.jwt(who), json={"email": email, "group": "member"})
        assert_error(r, 403)
        assert email not in emails(ok_json(server.get(users_path(), server.jwt("admin"))))


@pytest.mark.parametrize("label, body, status, named", [
    ("duplicate email", {"email": "member@example.com", "group": "member"}, 409, None),
    ("duplicate email other case", {"email": "MEMBER@Example.COM", "group": "member"}, 409, None),
    ("duplicate idpSubject", {"email": "x1@example.com", "group": "member", "idpSubject": "member-1"},
     409, None),
    ("bad group", {"email": "x2@example.com", "group": "owner"}, 400, None),
    ("group upper case", {"email": "x3@example.com", "group": "ADMIN"}, 400, None),
    ("missing group", {"email": "x4@example.com"}, 400, None),
    ("missing email", {"group": "member"}, 400, None),
    ("empty email", {"email": "", "group": "member"}, 400, None),
    ("email without @", {"email": "not-an-email", "group": "member"}, 400, None),
    ("email not a string", {"email": 7, "group": "member"}, 400, None),
    ("firstName not a string", {"email": "x5@example.com", "group": "member", "firstName": 1}, 400, None),
    ("unknown field", {"email": "x6@example.com", "group": "member", "nickname": "x"}, 400, "nickname"),
    ("id is not settable", {"email": "x7@example.com", "group": "member", "id": RANDOM_UUID}, 400, "id"),
])
def test_create_user_refusals(server, label, body, status, named):
    before = ok_json(server.get(users_path(), server.jwt("admin")))
    assert_error(server.post(users_path(), server.jwt("admin"), json=body), status, contains=named)
    assert ok_json(server.get(users_path(), server.jwt("admin"))) == before


def test_create_user_needs_json(server):
    r = server.post(users_path(), server.jwt("admin"), data=b'{"email":"x8@example.com","group":"member"}')
    assert_error(r, 415)
    r = server.post(users_path(), server.jwt("admin"), data=b"{", headers={"Content-Type": "application/json"})
    assert_error(r, 400)
    r = server.post(users_path(), server.jwt("admin"), data=b"[]", headers={"Content-Type": "application/json"})
    assert_error(r, 400)


# ---------------------------------------------------------------------------
# Updating

def test_patch_names_and_remove_them_with_null(server):
    u = add_user(server, firstName="Grace", lastName="Hopper")
    path = users_path(user_id=u["id"])
    admin = server.jwt("admin")
    v = ok_json(server.patch(path, admin, json={"firstName": "Amazing"}))
    assert v["firstName"] == "Amazing" and v["lastName"] == "Hopper"
    assert {k: v[k] for k in ("id", "email", "group", "createdAt", "accountId")} == \
        {k: u[k] for k in ("id", "email", "group", "createdAt", "accountId")}
    v = ok_json(server.patch(path, admin, json={"firstName": None, "lastName": None}))
    assert "firstName" not in v and "lastName" not in v
    assert ok_json(server.get(path, admin)) == v


def test_patch_email_group_and_subject(server):
    u = add_user(server, idpSubject="old-sub-" + unique_email())
    path = users_path(user_id=u["id"])
    admin = server.jwt("admin")
    new_email = unique_email("renamed")
    v = ok_json(server.patch(path, admin, json={"email": new_email, "group": "auditor"}))
    assert v["email"] == new_email and v["group"] == "auditor"
    new_sub = "new-sub-" + new_email
    old_sub = u["idpSubject"]
    v = ok_json(server.patch(path, admin, json={"idpSubject": new_sub}))
    assert v["idpSubject"] == new_sub
    # the new subject signs in (as auditor: sees everyone), the old one no longer does
    assert_status(server.get(users_path(), server.make_jwt_for_subject(new_sub)), 200)
    assert_error(server.get(users_path(), server.make_jwt_for_subject(old_sub)), 403, contains="not provisioned")
    # removing the subject: now matched by email
    v = ok_json(server.patch(path, admin, json={"idpSubject": None}))
    assert "idpSubject" not in v
    assert_status(server.get(users_path(), server.make_jwt_for_subject("anything", email=new_email)), 200)


def test_management_token_patches_users(server):
    u = add_user(server)
    token = server.create_token("patcher")["accessToken"]
    v = ok_json(server.patch(users_path(user_id=u["id"]), token, json={"lastName": "Tokenized"}))
    assert v["lastName"] == "Tokenized"


@pytest.mark.parametrize("label, body, status, named", [
    ("empty object", {}, 400, None),
    ("bad group", {"group": "owner"}, 400, None),
    ("email without @", {"email": "nope"}, 400, None),
    ("email null", {"email": None}, 400, None),
    ("group null", {"group": None}, 400, None),
    ("duplicate email", {"email": "auditor@example.com"}, 409, None),
    ("duplicate email other case", {"email": "Auditor@Example.com"}, 409, None),
    ("duplicate subject", {"idpSubject": "auditor-1"}, 409, None),
    ("unknown field", {"favouriteColour": "blue"}, 400, "favouriteColour"),
    ("accountId not settable", {"accountId": ACCOUNT_B}, 400, "accountId"),
])
def test_patch_refusals(server, label, body, status, named):
    u = add_user(server, firstName="Stable")
    path = users_path(user_id=u["id"])
    assert_error(server.patch(path, server.jwt("admin"), json=body), status, contains=named)
    assert ok_json(server.get(path, server.jwt("admin"))) == u


def test_patch_unknown_user_is_404(server):
    assert_error(server.patch(users_path(user_id=RANDOM_UUID), server.jwt("admin"),
                              json={"firstName": "X"}), 404)


def test_member_and_auditor_may_not_patch_or_delete(server):
    u = add_user(server)
    path = users_path(user_id=u["id"])
    for who in ("member", "auditor"):
        assert_error(server.patch(path, server.jwt(who), json={"firstName": "X"}), 403)
        assert_error(server.delete(path, server.jwt(who)), 403)
    # not even itself
    member_path = users_path(user_id=server.user_id("member"))
    assert_error(server.patch(member_path, server.jwt("member"), json={"group": "admin"}), 403)
    assert_error(server.delete(member_path, server.jwt("member")), 403)
    assert ok_json(server.get(path, server.jwt("admin"))) == u


# ---------------------------------------------------------------------------
# Deleting

def test_delete_user_and_its_jwt_is_no_longer_provisioned(server):
    sub = "doomed-" + unique_email()
    u = add_user(server, group="admin", idpSubject=sub)
    their_jwt = server.make_jwt_for_subject(sub)
    assert_status(server.get(users_path(), their_jwt), 200)
    assert_no_content(server.delete(users_path(user_id=u["id"]), server.jwt("admin")))
    assert_error(server.get(users_path(user_id=u["id"]), server.jwt("admin")), 404)
    assert u["id"] not in [x["id"] for x in ok_json(server.get(users_path(), server.jwt("admin")))]
    assert_error(server.get(users_path(), their_jwt), 403, contains="not provisioned")
    assert_error(server.delete(users_path(user_id=u["id"]), server.jwt("admin")), 404)


def test_admin_may_delete_itself_when_another_admin_remains(server):
    sub = "selfdel-" + unique_email()
    u = add_user(server, group="admin", idpSubject=sub)
    own = server.make_jwt_for_subject(sub)
    assert_no_content(server.delete(users_path(user_id=u["id"]), own))
    assert_error(server.get(users_path(), own), 403, contains="not provisioned")


def test_management_token_deletes_users(server):
    u = add_user(server)
    token = server.create_token("deleter")["accessToken"]
    assert_no_content(server.delete(users_path(user_id=u["id"]), token))


def test_email_can_be_reused_after_delete(server):
    email = unique_email("reuse")
    u = add_user(server, email=email)
    assert_no_content(server.delete(users_path(user_id=u["id"]), server.jwt("admin")))
    v = add_user(server, email=email)
    assert v["id"] != u["id"]


# ---------------------------------------------------------------------------
# The last admin (own daemons: they change the seeded admins)

def test_last_admin_of_b_cannot_be_removed_or_demoted(fresh_server):
    d = fresh_server
    admin_b = d.jwt("admin_b")
    admin_b_id = d.user_id("admin_b")
    path = users_path(ACCOUNT_B, admin_b_id)
    token_b = d.create_token("b token", account=ACCOUNT_B)["accessToken"]
    for cred in (admin_b, token_b):
        assert_error(d.delete(path, cred), 409)
        for group in ("member", "auditor"):
            assert_error(d.patch(path, cred, json={"group": group}), 409)
    u = ok_json(d.get(path, admin_b))
    assert u["group"] == "admin"
    # a no-op group change and other fields are fine
    assert ok_json(d.patch(path, admin_b, json={"group": "admin"}))["group"] == "admin"
    assert ok_json(d.patch(path, admin_b, json={"firstName": "Last"}))["firstName"] == "Last"


def test_last_admin_of_a_after_removing_the_other(fresh_server):
    d = fresh_server
    admin = d.jwt("admin")
    admin_id = d.user_id("admin")
    emailonly_id = d.user_id("emailonly")
    # two admins: one may go
    assert_no_content(d.delete(users_path(user_id=emailonly_id), admin))
    assert_error(d.delete(users_path(user_id=admin_id), admin), 409)
    assert_error(d.patch(users_path(user_id=admin_id), admin, json={"group": "member"}), 409)
    assert ok_json(d.get(users_path(user_id=admin_id), admin))["group"] == "admin"
    # promote someone, then the old admin may be demoted
    member_id = d.user_id("member")
    assert ok_json(d.patch(users_path(user_id=member_id), admin, json={"group": "admin"}))["group"] == "admin"
    assert ok_json(d.patch(users_path(user_id=admin_id), admin, json={"group": "member"}))["group"] == "member"
    # the demoted admin's JWT now has member rights
    assert_error(d.get(tokens_path(), admin), 403)
    # the new admin is the last one now
    assert_error(d.delete(users_path(user_id=member_id), d.jwt("member")), 409)


def test_deleted_admins_jwt_is_not_provisioned(fresh_server):
    d = fresh_server
    emailonly_jwt = d.jwt("emailonly")
    assert_status(d.get(tokens_path(), emailonly_jwt), 200)
    assert_no_content(d.delete(users_path(user_id=d.user_id("emailonly")), d.jwt("admin")))
    for path in (tokens_path(), users_path()):
        assert_error(d.get(path, emailonly_jwt), 403, contains="not provisioned")
    assert_error(d.post(tokens_path(), emailonly_jwt, json={"description": "x"}), 403)


# ---------------------------------------------------------------------------
# The identity: idpIssuer and idpSubject (CONTRACT 2, 5)

SECOND = "https://second-idp.test/"


@pytest.fixture(scope="module")
def second_idp():
    return Idp()


@pytest.fixture
def two_idps(daemon_factory, second_idp, tmp_path):
    """A daemon trusting [idp] (the suite's IdP) and [idp second]; the seed binds its
    subjects to the first."""
    jwks = tmp_path / "second-jwks.json"
    jwks.write_text(json.dumps(second_idp.jwks))
    return daemon_factory(
        seed=default_seed(issuer=ISSUER),
        config_extra="[idp second]\nissuer = %s\naudience = mgmtd\njwks_file = %s\n"
                     "algorithms = RS256\n" % (SECOND, jwks))


def test_idp_issuer_by_url_or_section_name(two_idps, second_idp):
    d = two_idps
    admin = d.jwt("admin")
    by_name = add_user(d, idpSubject="s-1", idpIssuer="second")
    by_url = add_user(d, idpSubject="s-2", idpIssuer=SECOND)
    first = add_user(d, idpSubject="s-1", idpIssuer=ISSUER)  # the same subject elsewhere
    assert (by_name["idpIssuer"], by_url["idpIssuer"], first["idpIssuer"]) == \
        (SECOND, SECOND, ISSUER)
    # each identity signs in as its own user
    assert [u["id"] for u in ok_json(d.get(users_path(), second_idp.make_jwt(
        sub="s-1", iss=SECOND)))] == [by_name["id"]]
    assert [u["id"] for u in ok_json(d.get(users_path(), d.idp.make_jwt(sub="s-1")))] == \
        [first["id"]]
    # one identity, one user
    assert_error(d.post(users_path(), admin, json={"email": unique_email(), "group": "member",
                                                   "idpSubject": "s-1", "idpIssuer": SECOND}),
                 409, "idpSubject at this idpIssuer")


@pytest.mark.parametrize("body, named", [
    ({"idpSubject": "s-x"}, "idpSubject needs an idpIssuer: 2 identity providers are "
                             "configured ([idp] https://idp.test/, [idp second] "
                             "https://second-idp.test/)"),
    ({"idpSubject": "s-x", "idpIssuer": "https://nowhere.test/"}, "not an identity provider"),
    ({"idpSubject": "s-x", "idpIssuer": "dev_idp"}, "not an identity provider"),
    ({"idpSubject": "s-x", "idpIssuer": "https://idp.test"}, "[idp second]"),  # no slash
    ({"idpSubject": "s-x", "idpIssuer": 7}, "idpIssuer"),
    ({"idpSubject": "s-x", "idpIssuer": ""}, "not an identity provider"),
])
def test_idp_issuer_refusals(two_idps, body, named):
    body.update({"email": unique_email(), "group": "member"})
    assert_error(two_idps.post(users_path(), two_idps.jwt("admin"), json=body), 400, named)


def test_patch_moves_an_identity_to_another_issuer(two_idps, second_idp):
    d = two_idps
    admin = d.jwt("admin")
    u = add_user(d, idpSubject="mover", idpIssuer=ISSUER)
    path = users_path(user_id=u["id"])
    v = ok_json(d.patch(path, admin, json={"idpIssuer": "second"}))
    assert (v["idpIssuer"], v["idpSubject"]) == (SECOND, "mover")
    assert_error(d.get(users_path(), d.idp.make_jwt(sub="mover")), 403, "not provisioned")
    assert ok_json(d.get(users_path(), second_idp.make_jwt(sub="mover", iss=SECOND)))
    # a new subject keeps the issuer; no issuer for a subject is refused with two providers
    v = ok_json(d.patch(path, admin, json={"idpSubject": "moved"}))
    assert (v["idpIssuer"], v["idpSubject"]) == (SECOND, "moved")
    assert_error(d.patch(path, admin, json={"idpIssuer": None}), 400, "needs an idpIssuer")
    # without a subject the issuer stays: only that provider may link the user by email
    v = ok_json(d.patch(path, admin, json={"idpSubject": None}))
    assert v["idpIssuer"] == SECOND and "idpSubject" not in v
    assert_error(d.get(users_path(), d.idp.make_jwt(sub="first-try", email=u["email"])), 403,
                 "not provisioned")
    linked = second_idp.make_jwt(sub="second-try", iss=SECOND, email=u["email"])
    assert ok_json(d.get(users_path(), linked))
    assert ok_json(d.get(path, admin))["idpSubject"] == "second-try"


def test_one_issuer_is_the_default_and_none_leaves_subjects_unbound(daemon_factory):
    token = make_mgmt_token()
    seed = default_seed()
    seed["managementTokens"] = [{"accountId": ACCOUNT_A, "description": "t",
                                 "accessToken": token, "createdBy": "admin@example.com"}]
    # no identity provider: a subject waits, unbound, until one is configured
    d = daemon_factory(idp_section=False, seed=seed)
    u = ok_json(d.post(users_path(), token, json={"email": unique_email(), "group": "member",
                                                  "idpSubject": "waits"}))
    assert u["idpSubject"] == "waits" and "idpIssuer" not in u
    assert_error(d.post(users_path(), token, json={"email": unique_email(), "group": "member",
                                                   "idpSubject": "w", "idpIssuer": ISSUER}),
                 400, "has none configured")
    # one provider: the next start binds what waited; it is the default, named by URL too
    d.stop_ok()
    d.config_path.write_text(config_text(d.jwks_path, store=store_section(d.pg_store)))
    d.start(use_seed=False)
    assert ok_json(d.get(users_path(user_id=u["id"]), token))["idpIssuer"] == ISSUER
    v = ok_json(d.post(users_path(), token, json={"email": unique_email(), "group": "member",
                                                  "idpSubject": "x", "idpIssuer": ISSUER}))
    assert v["idpIssuer"] == ISSUER
    # null puts the default back: a subject never stays without its issuer
    v = ok_json(d.patch(users_path(user_id=v["id"]), token, json={"idpIssuer": None}))
    assert v["idpIssuer"] == ISSUER
