"""Attacks on identity (issue 15, findings 3 and 4): a user is the pair (issuer, subject),
and an email picks a user only when its identity provider vouches for it (CONTRACT 2).

3. A JWT subject matched without its issuer: with two identity providers, a JWT of the
   second whose `sub` equals the admin's subject at the first was that admin.
4. An email without `email_verified: true` accepted invites and linked users: a missing
   claim counted as verified.

The daemons here start the way an existing deployment does (one [idp], the default seed)
and only then trust a second identity provider, so that the same steps run against a
mgmtd from before the fix and show what it did."""

import json

import pytest

from conftest import (
    ACCOUNT_A,
    ISSUER,
    USERS,
    Idp,
    assert_error,
    ok_json,
    tokens_path,
    unique_email,
    users_path,
)

SECOND = "https://second-idp.test/"


def trust_second_idp(d, second: Idp, name="second"):
    """Adds an [idp NAME] section trusting second's keys (a JWKS file) to d's config and
    restarts d without its seed (whose subjects name no issuer: with two providers a
    subject needs one). The users the first start made stay."""
    jwks = d.workdir / ("%s-jwks.json" % name)
    jwks.write_text(json.dumps(second.jwks))
    d.stop_ok()
    with open(d.config_path, "a") as f:
        f.write("\n[idp %s]\nissuer = %s\naudience = mgmtd\njwks_file = %s\n"
                "algorithms = RS256,ES256\n" % (name, SECOND, jwks))
    d.start(use_seed=False)


@pytest.fixture
def two_idps(daemon_factory):
    d = daemon_factory()
    second = Idp()
    trust_second_idp(d, second)
    return d, second


def users_as(d, jwt):
    return d.get(users_path(), jwt)


# ---------------------------------------------------------------------------
# Finding 3: a subject is unique only within its issuer

def test_the_admins_subject_from_another_issuer_is_nobody(two_idps):
    d, second = two_idps
    admin_sub = USERS["admin"][2]
    forged = second.make_jwt(sub=admin_sub, iss=SECOND)
    assert_error(users_as(d, forged), 403, "not provisioned")
    # and so cannot mint a management token: the prize of the attack
    assert_error(d.post(tokens_path(), forged, json={"description": "stolen"}), 403,
                 "not provisioned")
    # nor with the admin's (verified) email beside it: the admin has an identity already
    forged = second.make_jwt(sub=admin_sub, iss=SECOND, email=USERS["admin"][0])
    assert_error(d.post(tokens_path(), forged, json={"description": "stolen"}), 403,
                 "not provisioned")
    # the admin's own JWT, from the admin's own issuer, still is the admin
    made = ok_json(d.post(tokens_path(), d.jwt("admin"), json={"description": "mine"}))
    assert made["createdBy"] == d.user_id("admin")


def test_the_same_subject_at_two_issuers_is_two_people(two_idps):
    d, second = two_idps
    admin_sub = USERS["admin"][2]
    email = unique_email("second")
    other = ok_json(d.post(users_path(), d.jwt("admin"),
                           json={"email": email, "group": "member", "idpSubject": admin_sub,
                                 "idpIssuer": "second"}))
    assert other["idpIssuer"] == SECOND and other["idpSubject"] == admin_sub
    as_member = second.make_jwt(sub=admin_sub, iss=SECOND)
    # a member sees only itself, and may not mint
    assert [u["id"] for u in ok_json(users_as(d, as_member))] == [other["id"]]
    assert_error(d.post(tokens_path(), as_member, json={"description": "x"}), 403,
                 "only admin users")
    # the admin is still the admin
    everyone = ok_json(users_as(d, d.jwt("admin")))
    assert {u["email"] for u in everyone} >= {USERS["admin"][0], email}


# ---------------------------------------------------------------------------
# Finding 4: only a verified email picks a user

UNVERIFIED = [
    pytest.param(None, id="no-claim"),
    pytest.param(False, id="false"),
    pytest.param("true", id="string-true"),
]


@pytest.mark.parametrize("verified", UNVERIFIED)
def test_an_unverified_email_accepts_no_invite(fresh_server, verified):
    d = fresh_server
    email = unique_email("invitee")
    inv = ok_json(d.post("/api/v0/accounts/%s/invites" % ACCOUNT_A, d.jwt("admin"),
                         json={"email": email, "group": "admin"}))
    grab = d.idp.make_jwt(sub="attacker", email=email, email_verified=verified)
    assert_error(users_as(d, grab), 403, "not provisioned")
    one = "/api/v0/accounts/%s/invites/%s" % (ACCOUNT_A, inv["id"])
    assert ok_json(d.get(one, d.jwt("admin")))["status"] == "pending"
    assert email not in {u["email"] for u in ok_json(users_as(d, d.jwt("admin")))}
    # the invited person, whose address the IdP verified, still joins
    joined = ok_json(users_as(d, d.idp.make_jwt(sub="invitee", email=email)))
    assert ok_json(d.get(one, d.jwt("admin")))["status"] == "accepted"
    assert email in {u["email"] for u in joined}


@pytest.mark.parametrize("verified", UNVERIFIED)
def test_an_unverified_email_links_no_user(fresh_server, verified):
    d = fresh_server
    email = USERS["emailonly"][0]  # an admin without a subject: matched by email once
    grab = d.idp.make_jwt(sub="attacker", email=email, email_verified=verified)
    assert_error(users_as(d, grab), 403, "not provisioned")
    assert_error(d.post(tokens_path(), grab, json={"description": "stolen"}), 403)
    me = next(u for u in ok_json(users_as(d, d.jwt("admin"))) if u["email"] == email)
    assert "idpSubject" not in me and "idpIssuer" not in me


def test_a_verified_email_links_the_user_once(fresh_server):
    d = fresh_server
    email = USERS["emailonly"][0]
    owner = d.idp.make_jwt(sub="owner-sub", email=email)
    ok_json(users_as(d, owner))
    me = next(u for u in ok_json(users_as(d, d.jwt("admin"))) if u["email"] == email)
    assert (me["idpIssuer"], me["idpSubject"]) == (ISSUER, "owner-sub")
    # bound now: the email picks nobody else any more, verified or not
    assert_error(users_as(d, d.idp.make_jwt(sub="someone-else", email=email)), 403,
                 "not provisioned")
    # and the owner's identity needs no email
    assert ok_json(users_as(d, d.idp.make_jwt(sub="owner-sub")))
    # the link is in the audit trail, done by the user itself
    trail = ok_json(d.get("/api/v0/accounts/%s/audit" % ACCOUNT_A, d.jwt("admin"),
                          params={"action": "user.link"}))
    assert [(e["objectId"], e["actorId"]) for e in trail["events"]] == [(me["id"], me["id"])]


def test_trust_email_counts_a_providers_emails_as_verified(daemon_factory):
    d = daemon_factory(env={"MGMTD_IDP_TRUST_EMAIL": "true"})
    email = unique_email("trusted")
    ok_json(d.post("/api/v0/accounts/%s/invites" % ACCOUNT_A, d.jwt("admin"),
                   json={"email": email, "group": "member"}))
    # no email_verified at all: the operator vouches for this provider's addresses
    joined = ok_json(users_as(d, d.idp.make_jwt(sub="trusted-1", email=email,
                                                email_verified=None)))
    assert [u["email"] for u in joined] == [email]
    linked = d.idp.make_jwt(sub="emailonly-1", email=USERS["emailonly"][0], email_verified=None)
    assert ok_json(users_as(d, linked))
    # an explicit false is still a no
    other = unique_email("said-no")
    ok_json(d.post("/api/v0/accounts/%s/invites" % ACCOUNT_A, d.jwt("admin"),
                   json={"email": other, "group": "member"}))
    assert_error(users_as(d, d.idp.make_jwt(sub="said-no", email=other, email_verified=False)),
                 403, "not provisioned")


def test_trust_email_is_per_provider(daemon_factory):
    """trust_email on the second provider does not make the first one's emails count."""
    d = daemon_factory()
    second = Idp()
    trust_second_idp(d, second)
    d.stop_ok()
    d.env["MGMTD_IDP_SECOND_TRUST_EMAIL"] = "true"
    d.start(use_seed=False)
    email = USERS["emailonly"][0]
    assert_error(users_as(d, d.idp.make_jwt(sub="first", email=email, email_verified=None)),
                 403, "not provisioned")
    ok_json(users_as(d, second.make_jwt(sub="second", iss=SECOND, email=email,
                                          email_verified=None)))
    me = next(u for u in ok_json(users_as(d, d.jwt("admin"))) if u["email"] == email)
    assert (me["idpIssuer"], me["idpSubject"]) == (SECOND, "second")
