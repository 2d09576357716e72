"""The built-in dev identity provider ([dev_idp]): a test device that signs JWTs for
provisioned users, publishes its keys, and that mgmtd trusts by itself."""

import os
import socket
import stat

import jwt as pyjwt
import pytest
import requests

from conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    AUDIENCE,
    assert_error,
    assert_no_content,
    assert_status,
    default_seed,
    describe_cli,
    ok_json,
    tokens_path,
    users_path,
)

DEV = "[dev_idp]\nenabled = true\n"


@pytest.fixture(scope="module")
def dev(mgmtd_bin, idp, tmp_path_factory):
    from conftest import _Factory, _stop_all

    seed = default_seed()
    # the same email in two accounts, with different subjects
    seed["users"] += [
        {"accountId": ACCOUNT_A, "email": "both@example.com", "group": "member",
         "idpSubject": "both-a"},
        {"accountId": ACCOUNT_B, "email": "both@example.com", "group": "admin",
         "idpSubject": "both-b"},
    ]
    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("dev"), idp)
    # the dev IdP alone: the seed's subjects are its own (idpIssuer dev_idp)
    d = f(seed=seed, config_extra=DEV, idp_section=False)
    yield d
    _stop_all(f)


def mint(d, **body):
    """POST /oauth/token as a form (the curl -d way) unless json=True."""
    if body.pop("json", False):
        return d.post("/oauth/token", json=body)
    return d.post("/oauth/token", data=body)


def access_token(d, email="admin@example.com", **kw):
    r = ok_json(mint(d, email=email, **kw))
    return r["access_token"]


def test_round_trip_mint_create_use_revoke(dev):
    answer = ok_json(mint(dev, email="admin@example.com"))
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 3600
    assert set(answer) == {"access_token", "token_type", "expires_in"}
    jwt = answer["access_token"]

    created = ok_json(dev.post(tokens_path(), jwt, json={"description": "from the dev IdP"}))
    secret = created["accessToken"]
    assert_status(dev.get("/api/v0/accounts/%s/clusters" % ACCOUNT_A, secret), 200)
    assert_no_content(dev.delete(tokens_path(token_id=created["id"]), jwt))
    assert_error(dev.get("/api/v0/accounts/%s/clusters" % ACCOUNT_A, secret), 401)


def test_the_jwt_is_what_the_dev_idp_publishes(dev):
    doc = ok_json(dev.get("/.well-known/openid-configuration"))
    issuer = "http://127.0.0.1:%d" % dev.port
    assert doc["issuer"] == issuer
    assert doc["jwks_uri"] == issuer + "/.well-known/jwks.json"
    assert doc["token_endpoint"] == issuer + "/oauth/token"
    jwks = ok_json(requests.get(doc["jwks_uri"], timeout=10))
    assert len(jwks["keys"]) == 1
    k = jwks["keys"][0]
    assert k["kty"] == "EC" and k["crv"] == "P-256" and k["alg"] == "ES256"
    assert "d" not in k, "the JWKS shows the private key"

    # another program can verify it with the published key alone
    token = access_token(dev, email="admin@example.com")
    header = pyjwt.get_unverified_header(token)
    assert header["kid"] == k["kid"] and header["alg"] == "ES256"
    claims = pyjwt.decode(token, pyjwt.PyJWK(k).key, algorithms=["ES256"], audience=AUDIENCE,
                          issuer=issuer)
    assert claims["sub"] == "admin-1"  # the user's idpSubject
    assert claims["email"] == "admin@example.com"
    assert claims["exp"] - claims["iat"] == 3600


def test_json_body_with_claims_and_lifetime(dev):
    r = ok_json(mint(dev, json=True, email="emailonly@example.com",
                     claims={"name": "E. Only", "groups": ["a", "b"]}, lifetime=120))
    assert r["expires_in"] == 120
    claims = pyjwt.decode(r["access_token"], options={"verify_signature": False})
    assert claims["name"] == "E. Only" and claims["groups"] == ["a", "b"]
    assert claims["exp"] - claims["iat"] == 120
    # a user without idpSubject is matched by the email claim
    users = ok_json(dev.get(users_path(), r["access_token"]))
    assert any(u["email"] == "emailonly@example.com" for u in users)
    # extra claims can make a token mgmtd refuses, for tests of refusals
    bad = ok_json(mint(dev, json=True, email="admin@example.com", claims={"aud": "other"}))
    assert_error(dev.get(users_path(), bad["access_token"]), 401)


def test_account_picks_among_users_of_several_accounts(dev):
    assert_error(mint(dev, email="both@example.com"), 400, contains="accountId")
    token = access_token(dev, email="both@example.com", accountId=ACCOUNT_B)
    assert pyjwt.decode(token, options={"verify_signature": False})["sub"] == "both-b"
    assert_status(dev.get(users_path(ACCOUNT_B), token), 200)  # an admin there
    assert_error(dev.get(users_path(ACCOUNT_A), token), 403)


@pytest.mark.parametrize("body, contains", [
    ({"email": "nobody@example.com"}, "no user"),
    ({"email": "admin@example.com", "accountId": ACCOUNT_B}, "no user"),
    ({}, "email"),
    ({"email": "not-an-email"}, None),
    ({"email": "admin@example.com", "lifetime": "0"}, "lifetime"),
    ({"email": "admin@example.com", "lifetime": "86401"}, "lifetime"),
    ({"email": "admin@example.com", "lifetime": "1h"}, "lifetime"),
    ({"email": "admin@example.com", "accountId": "nope"}, "accountId"),
    ({"email": "admin@example.com", "password": "x"}, "password"),
])
def test_form_refusals(dev, body, contains):
    assert_error(mint(dev, **body), 400, contains=contains)


@pytest.mark.parametrize("body, contains", [
    ({"email": "admin@example.com", "claims": {"sub": "someone-else"}}, "sub"),
    ({"email": "admin@example.com", "claims": {"iss": "x"}}, "iss"),
    ({"email": "admin@example.com", "claims": {"exp": 1}}, "exp"),
    ({"email": "admin@example.com", "claims": "x"}, "claims"),
    ({"email": "admin@example.com", "lifetime": "60"}, "lifetime"),
    ({"email": "admin@example.com", "lifetime": 1.5}, "lifetime"),
    ({"email": "admin@example.com", "grant_type": "password"}, "grant_type"),
    ({"email": 3}, "email"),
])
def test_json_refusals(dev, body, contains):
    assert_error(mint(dev, json=True, **body), 400, contains=contains)


def test_grant_type_and_friends_are_ignored_in_forms(dev):
    assert_status(mint(dev, email="admin@example.com", grant_type="password", scope="openid",
                       client_id="cli"), 200)


def test_other_bodies(dev):
    assert_error(dev.post("/oauth/token", data="email=admin@example.com",
                          headers={"Content-Type": "text/plain"}), 415)
    assert_error(dev.post("/oauth/token", data="{", headers={"Content-Type": "application/json"}),
                 400)
    assert_error(dev.post("/oauth/token"), 400, contains="body is required")
    assert_error(dev.get("/oauth/token"), 405)


def test_key_is_kept_private_and_survives_a_restart(daemon_factory):
    d = daemon_factory(config_extra=DEV, idp_section=False)
    key = d.data_dir / "dev-idp.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert "PRIVATE KEY" in key.read_text()
    token = access_token(d)
    jwks = ok_json(d.get("/.well-known/jwks.json"))
    # the same key after a restart (the issuer, this server's URL, moves with its port)
    d.restart()
    assert ok_json(d.get("/.well-known/jwks.json")) == jwks
    # nothing of the key leaks into the log
    body = "".join(key.read_text().splitlines()[1:-1])
    assert body[:40] not in d.log_bytes().decode()
    del token


def test_fixed_issuer_survives_restarts(daemon_factory):
    d = daemon_factory(config_extra=DEV + "issuer = http://dev-idp.test\n", idp_section=False)
    token = access_token(d)
    d.restart()
    assert_status(d.get(users_path(), token), 200)


def test_token_mint_offline(daemon_factory):
    d = daemon_factory(config_extra=DEV + "issuer = http://dev-idp.test\n", idp_section=False)
    res = d.cli("token", "mint", "--email", "admin@example.com")
    assert res.returncode == 0, describe_cli(res)
    token = res.stdout.strip()
    assert token.count(".") == 2
    assert_status(d.get(users_path(), token), 200)
    # account choice and refusals
    res = d.cli("token", "mint", "--email", "admin-b@example.com", "--account", ACCOUNT_B)
    assert res.returncode == 0, describe_cli(res)
    assert_status(d.get(users_path(ACCOUNT_B), res.stdout.strip()), 200)
    res = d.cli("token", "mint", "--email", "nobody@example.com")
    assert res.returncode == 1 and "no user" in res.stderr, describe_cli(res)
    res = d.cli("token", "mint")
    assert res.returncode == 2, describe_cli(res)
    res = d.cli("token", "mint", "--help")
    assert res.returncode == 0 and "--email" in res.stdout


def test_token_mint_offline_needs_an_issuer_and_the_dev_idp(daemon_factory):
    # listen port 0: the issuer (this server's URL) is not known offline
    d = daemon_factory(config_extra=DEV + "[server]\nlisten = 127.0.0.1:0\n", idp_section=False)
    res = d.cli("token", "mint", "--email", "admin@example.com")
    assert res.returncode == 1 and "[dev_idp] issuer" in res.stderr, describe_cli(res)
    plain = daemon_factory()
    res = plain.cli("token", "mint", "--email", "admin@example.com")
    assert res.returncode == 1 and "not enabled" in res.stderr, describe_cli(res)


def test_disabled_by_default(server):
    for method, path in [("GET", "/.well-known/openid-configuration"),
                         ("GET", "/.well-known/jwks.json"), ("POST", "/oauth/token"),
                         ("GET", "/oauth/token"), ("DELETE", "/.well-known/jwks.json")]:
        r = server.request(method, path, data="email=admin@example.com")
        assert_error(r, 404)
        assert "Allow" not in r.headers
    assert not (server.data_dir / "dev-idp.key").exists()


def test_startup_warns_loudly(dev):
    log = dev.log_bytes().decode()
    assert "[dev_idp] is enabled: TEST DEVICE" in log


def test_dev_idp_and_idp_issuer_must_differ(daemon_factory):
    from conftest import ISSUER

    d = daemon_factory(config_extra=DEV + "issuer = %s\n" % ISSUER, start=False)
    res = d.cli("user", "list", "--account", ACCOUNT_A)
    assert res.returncode == 1 and "the same as [dev_idp] issuer" in res.stderr, describe_cli(res)


def test_its_users_stay_its_own_on_another_port(daemon_factory):
    """Users record the dev IdP as "dev_idp", not its URL: a start on another port (another
    issuer URL) keeps every binding, also of a user it linked by email."""
    d = daemon_factory(config_extra=DEV, idp_section=False)
    emailonly = "emailonly@example.com"
    ok_json(d.get(users_path(), access_token(d, email=emailonly)))  # linked: sub = its id
    users = {u["email"]: u for u in ok_json(d.get(users_path(), access_token(d)))}
    assert users["admin@example.com"]["idpIssuer"] == "dev_idp"
    assert (users[emailonly]["idpIssuer"], users[emailonly]["idpSubject"]) == \
        ("dev_idp", users[emailonly]["id"])
    # another port, so another issuer URL: picked while the first is still bound
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        other = s.getsockname()[1]
    argv = d.serve_argv
    d.serve_argv = lambda use_seed=True: [
        "127.0.0.1:%d" % other if a == "127.0.0.1:0" else a for a in argv(use_seed)]
    first = d.port
    d.restart()
    assert d.port == other != first
    for email in ("admin@example.com", emailonly):
        assert_status(d.get(users_path(), access_token(d, email=email)), 200)


def test_it_signs_in_no_user_of_another_provider(daemon_factory):
    from conftest import ISSUER

    seed = default_seed(issuer=ISSUER)  # the suite's IdP's users
    seed["users"].append({"accountId": ACCOUNT_A, "email": "dev@example.com", "group": "admin",
                          "idpSubject": "dev-1", "idpIssuer": "dev_idp"})
    d = daemon_factory(seed=seed, config_extra=DEV)
    assert_error(mint(d, email="admin@example.com"), 400,
                 "signs in through the identity provider https://idp.test/")
    # its own user, and a user no provider has linked yet, it signs in
    assert_status(d.get(users_path(), access_token(d, email="dev@example.com")), 200)
    assert_status(d.get(users_path(), access_token(d, email="emailonly@example.com")), 200)
    # and the suite's IdP still signs in its own admin
    assert_status(d.get(users_path(), d.jwt("admin")), 200)
