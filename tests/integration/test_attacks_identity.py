"""Attacks on identity (issue 15, finding 4): an email picks a user only when its
identity provider vouches for it (CONTRACT 2).

4. An email without `email_verified: true` accepted invites and linked users: a missing
   claim counted as verified.

The daemons start the way an existing deployment does (one [idp], the default seed), so
that the same steps run against a mgmtd from before the fix and show what it did."""

import pytest

from conftest import (
    ACCOUNT_A,
    USERS,
    assert_error,
    ok_json,
    tokens_path,
    unique_email,
    users_path,
)


def users_as(d, jwt):
    return d.get(users_path(), jwt)


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
    assert "idpSubject" not in me


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
