"""The dev IdP's authorization-code grant with PKCE: discovery, the /oauth/authorize
page, the redirect with code and state, and the authorization_code grant of
/oauth/token (RFC 6749 4.1, RFC 7636)."""

import base64
import hashlib
import html
import os
import re
import urllib.parse

import jwt as pyjwt
import pytest

from conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    assert_error,
    default_seed,
    ok_json,
    unique_email,
    users_path,
)

# The grant's one client is the Admin UI ([ui] client_id, redirect URI /ui/).
DEV_IDP = "[dev_idp]\nenabled = true\n[ui]\nenabled = true\nclient_id = mgmtd-ui\n"
CLIENT = "mgmtd-ui"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce():
    verifier = b64url(os.urandom(32))
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


@pytest.fixture(scope="module")
def dserver(mgmtd_bin, idp, tmp_path_factory):
    from conftest import _Factory, _stop_all

    seed = default_seed()
    seed["invites"] = [{"accountId": ACCOUNT_A, "email": "invitee@example.com",
                        "group": "member"}]
    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("devidp"), idp)
    # the dev IdP alone: the seed's subjects are its own (idpIssuer dev_idp)
    d = f(seed=seed, config_extra=DEV_IDP, idp_section=False)
    yield d
    _stop_all(f)


def redirect_uri(d):
    return d.url("/ui/")


def auth_params(d, challenge, **over):
    p = {"response_type": "code", "client_id": CLIENT, "redirect_uri": redirect_uri(d),
         "scope": "openid email", "state": "st/ate+ x", "code_challenge": challenge,
         "code_challenge_method": "S256", "nonce": "n-1"}
    p.update(over)
    return {k: v for k, v in p.items() if v is not None}


def pick(d, params, login=None, email=None):
    """POSTs the page's form as a browser would; returns the response."""
    form = dict(params)
    if login is not None:
        form["login"] = login
    if email is not None:
        form["email"] = email
    return d.post("/oauth/authorize", data=form)


def code_from(d, resp, state="st/ate+ x"):
    assert resp.status_code == 303, resp.text
    loc = resp.headers["Location"]
    assert loc.startswith(redirect_uri(d) + "?")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
    assert q["state"] == [state]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", q["code"][0])
    return q["code"][0]


def exchange(d, code, verifier, **over):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(d),
            "client_id": CLIENT, "code_verifier": verifier}
    form.update(over)
    return d.post("/oauth/token", data=form)


def oauth_error(resp, error):
    """A token endpoint's error as OAuth 2.0 clients read it (RFC 6749 5.2)."""
    assert resp.status_code == 400, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error and body["error_description"], body
    return body


def sign_in(d, login):
    verifier, challenge = pkce()
    params = auth_params(d, challenge)
    code = code_from(d, pick(d, params, login=login))
    return ok_json(exchange(d, code, verifier))


def test_discovery_announces_the_code_flow(dserver):
    doc = ok_json(dserver.get("/.well-known/openid-configuration"))
    assert doc["authorization_endpoint"] == dserver.url("/oauth/authorize")
    assert "authorization_code" in doc["grant_types_supported"]
    assert "code" in doc["response_types_supported"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["token_endpoint"] == dserver.url("/oauth/token")


def test_page_lists_users_and_invites_safely(dserver):
    _v, challenge = pkce()
    r = dserver.get("/oauth/authorize", params=auth_params(dserver, challenge,
                                                           state='"><script>x</script>'))
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    page = r.text
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page
    assert "Test device" in page
    for email in ("admin@example.com", "member@example.com", "admin-b@example.com",
                  "invitee@example.com"):
        assert 'value="%s' % ACCOUNT_A in page or 'value="%s' % ACCOUNT_B in page
        assert ">%s</button>" % email in page
    assert "invited as member" in page
    assert 'name="code_challenge" value="%s"' % challenge in page


@pytest.mark.parametrize("over, says", [
    ({"client_id": None}, "client_id"),
    ({"redirect_uri": None}, "redirect_uri"),
    ({"redirect_uri": "javascript:alert(1)"}, "redirect_uri"),
    ({"redirect_uri": "http://x.test/cb#frag"}, "redirect_uri"),
    ({"response_type": "token"}, "response_type"),
    ({"code_challenge": None}, "code_challenge"),
    ({"code_challenge": "short"}, "code_challenge"),
    ({"code_challenge_method": "plain"}, "S256"),
    ({"code_challenge_method": None}, "S256"),
])
def test_bad_requests_get_a_page_saying_why(dserver, over, says):
    _v, challenge = pkce()
    for resp in (dserver.get("/oauth/authorize", params=auth_params(dserver, challenge, **over)),
                 pick(dserver, auth_params(dserver, challenge, **over),
                      login=ACCOUNT_A + " admin@example.com")):
        assert resp.status_code == 400
        assert resp.headers["Content-Type"].startswith("text/html")
        assert "Location" not in resp.headers
        assert says in html.unescape(resp.text)
        assert "Choose who you are" not in resp.text


def test_full_flow_signs_in_with_a_working_jwt(dserver):
    d = dserver
    verifier, challenge = pkce()
    params = auth_params(d, challenge)
    resp = pick(d, params, login=ACCOUNT_A + " admin@example.com")
    assert resp.status_code == 303
    loc = resp.headers["Location"]
    assert loc.startswith(redirect_uri(d) + "?code=")
    assert "state=st%2Fate%2B%20x" in loc
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)["code"][0]
    answer = ok_json(exchange(d, code, verifier))
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] > 0 and answer["scope"] == "openid email"
    claims = pyjwt.decode(answer["access_token"], options={"verify_signature": False})
    assert claims["email"] == "admin@example.com" and claims["aud"] == "mgmtd"
    users = ok_json(d.get(users_path(), answer["access_token"]))
    assert "admin@example.com" in [u["email"] for u in users]
    id_claims = pyjwt.decode(answer["id_token"], options={"verify_signature": False})
    assert id_claims["aud"] == CLIENT and id_claims["nonce"] == "n-1"
    assert id_claims["sub"] == claims["sub"]


def test_typed_email_and_unknown_people(dserver):
    d = dserver
    verifier, challenge = pkce()
    params = auth_params(d, challenge)
    assert ok_json(exchange(d, code_from(d, pick(d, params, email="auditor@example.com")),
                            verifier))
    resp = pick(d, params, email="stranger@example.com")
    assert resp.status_code == 400 and "Location" not in resp.headers
    assert "no user has this email" in resp.text
    assert "Choose who you are" in resp.text  # the person may pick again
    resp = pick(d, params, login=ACCOUNT_B + " admin@example.com")
    assert resp.status_code == 400 and "no user with this email" in resp.text
    assert pick(d, params).status_code == 400


def test_code_is_single_use_and_bound(dserver):
    d = dserver
    verifier, challenge = pkce()
    params = auth_params(d, challenge)
    login = ACCOUNT_A + " member@example.com"
    code = code_from(d, pick(d, params, login=login))
    assert ok_json(exchange(d, code, verifier))
    oauth_error(exchange(d, code, verifier), "invalid_grant")

    for over in ({"code_verifier": pkce()[0]}, {"client_id": "other"},
                 {"redirect_uri": d.url("/elsewhere/")}):
        code = code_from(d, pick(d, params, login=login))
        oauth_error(exchange(d, code, verifier, **over), "invalid_grant")
        # a failed attempt spends the code
        oauth_error(exchange(d, code, verifier), "invalid_grant")
    oauth_error(exchange(d, "A" * 43, verifier), "invalid_grant")
    # a missing parameter is the request's fault, said the same way
    body = oauth_error(d.post("/oauth/token", data={"grant_type": "authorization_code",
                                                    "code": "x"}), "invalid_request")
    assert "redirect_uri" in body["error_description"]


def test_invitee_signs_in_and_becomes_a_member(dserver):
    d = dserver
    answer = sign_in(d, ACCOUNT_A + " invitee@example.com")
    jwt = answer["access_token"]
    me = ok_json(d.get(users_path(), jwt))
    assert [(u["email"], u["group"]) for u in me] == [("invitee@example.com", "member")]
    invites = ok_json(d.get("/api/v0/accounts/%s/invites" % ACCOUNT_A, d.dev_jwt("admin")))
    inv = next(i for i in invites if i["email"] == "invitee@example.com")
    assert inv["status"] == "accepted"
    # the next sign-in is the user's, with the same subject
    again = sign_in(d, ACCOUNT_A + " invitee@example.com")
    sub = lambda t: pyjwt.decode(t, options={"verify_signature": False})["sub"]  # noqa: E731
    assert sub(again["access_token"]) == sub(jwt) == me[0]["idpSubject"] == inv["id"]


def test_email_grant_still_works_for_invitees(dserver):
    d = dserver
    email = unique_email("grant")
    ok_json(d.post("/api/v0/accounts/%s/invites" % ACCOUNT_B, d.dev_jwt("admin_b"),
                   json={"email": email, "group": "auditor"}))
    jwt = ok_json(d.post("/oauth/token", data={"email": email}))["access_token"]
    me = ok_json(d.get(users_path(ACCOUNT_B), jwt))
    assert email in [u["email"] for u in me]


def test_routes_exist_only_with_the_dev_idp(server):
    assert_error(server.get("/oauth/authorize"), 404)
    assert_error(server.post("/oauth/authorize", data={"x": "1"}), 404)
