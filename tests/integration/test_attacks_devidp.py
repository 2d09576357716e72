"""The dev identity provider stays contained (issue 15, finding 8).

It is a test device, but it must not hand codes to strangers or be jammed:
- the authorization-code grant serves the Admin UI only ([ui] client_id, with
  [ui] enabled) and sends codes only to the UI's page, /ui/ on the issuer's
  origin; any other client or redirect_uri gets the error page, never a redirect
  (RFC 6749 4.1.2.1);
- a token request that names a code spends it, whatever else is wrong with it;
- the device grant serves mgmtctl's client id only, and one client address may
  hold only DEV_DEVICE_SLOTS_PER_ADDRESS (16) of the 128 pending device codes.
Each test reproduces a way the dev IdP could be misused before."""

import html
import http.client
import json
import urllib.parse

import pytest

from conftest import ACCOUNT_A, ok_json
from test_dev_idp_authorize import auth_params, code_from, exchange, oauth_error, pick, pkce

UI = "[dev_idp]\nenabled = true\n[ui]\nenabled = true\nclient_id = mgmtd-ui\n"
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
PER_ADDRESS = 16  # DEV_DEVICE_SLOTS_PER_ADDRESS
SLOTS = 128  # DEV_DEVICE_SLOTS
LOGIN = ACCOUNT_A + " admin@example.com"


@pytest.fixture(scope="module")
def dev(mgmtd_bin, idp, tmp_path_factory):
    from conftest import _Factory, _stop_all

    f = _Factory(mgmtd_bin, tmp_path_factory.mktemp("devidp-attacks"), idp)
    yield f(config_extra=UI, idp_section=False)  # the dev IdP alone: its users
    _stop_all(f)


def origin(d):
    return "http://127.0.0.1:%d" % d.port


def assert_error_page(resp, says):
    """The authorization endpoint's refusal: a page for the person, no redirect."""
    assert resp.status_code == 400, resp.text
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "Location" not in resp.headers
    assert says in html.unescape(resp.text)
    assert "Choose who you are" not in resp.text


# ---- who gets a code ----

@pytest.mark.parametrize("client_id", ["evil", "mgmtd-ui2", "MGMTD-UI", "mgmtctl", "mgmtd-u"])
def test_an_unknown_client_gets_no_code(dev, client_id):
    _v, challenge = pkce()
    params = auth_params(dev, challenge, client_id=client_id)
    assert_error_page(dev.get("/oauth/authorize", params=params), "unknown client_id")
    assert_error_page(pick(dev, params, login=LOGIN), "unknown client_id")


@pytest.mark.parametrize("uri", [
    "https://evil.example/ui/",
    "http://evil.example/cb",
    "{o}/ui",
    "{o}/ui/?next=x",
    "{o}/ui/x",
    "{o}/ui//",
    "{o}//ui/",
    "{o}/",
    "http://localhost:{p}/ui/",
    "http://127.0.0.2:{p}/ui/",
    "http://127.0.0.1:{q}/ui/",
    "https://127.0.0.1:{p}/ui/",
    "HTTP://127.0.0.1:{p}/ui/",
    "http://user@127.0.0.1:{p}/ui/",
])
def test_a_foreign_redirect_uri_gets_no_code(dev, uri):
    uri = uri.format(o=origin(dev), p=dev.port, q=dev.port + 1)
    _v, challenge = pkce()
    params = auth_params(dev, challenge, redirect_uri=uri)
    # the page says which one is the UI's (HTTP:// in capitals fails the URL check first)
    says = "redirect_uri" if uri.startswith("HTTP:") else \
        "redirect_uri must be the Admin UI's, %s/ui/" % origin(dev)
    assert_error_page(dev.get("/oauth/authorize", params=params), says)
    assert_error_page(pick(dev, params, login=LOGIN), says)


def test_the_ui_itself_still_gets_its_code(dev):
    verifier, challenge = pkce()
    params = auth_params(dev, challenge)
    assert params["redirect_uri"] == origin(dev) + "/ui/"
    assert dev.get("/oauth/authorize", params=params).status_code == 200
    code = code_from(dev, pick(dev, params, login=LOGIN))
    assert ok_json(exchange(dev, code, verifier))["token_type"] == "Bearer"


def test_without_the_ui_enabled_no_client_gets_a_code(daemon_factory):
    d = daemon_factory(config_extra="[dev_idp]\nenabled = true\n[ui]\nclient_id = mgmtd-ui\n",
                       idp_section=False)
    _v, challenge = pkce()
    params = auth_params(d, challenge)
    assert_error_page(d.get("/oauth/authorize", params=params), "unknown client_id")
    assert_error_page(pick(d, params, login=LOGIN), "unknown client_id")


# ---- a code named is a code spent ----

@pytest.mark.parametrize("flaw", [
    {"redirect_uri": None},
    {"client_id": None},
    {"code_verifier": None},
    {"grant_type": None},
    {"grant_type": "password"},
    {"grant_type": DEVICE},
    {"scope": "openid"},  # a field the grant does not take
])
@pytest.mark.parametrize("as_json", [False, True])
def test_a_flawed_token_request_spends_the_code(dev, flaw, as_json):
    verifier, challenge = pkce()
    code = code_from(dev, pick(dev, auth_params(dev, challenge), login=LOGIN))
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": origin(dev) + "/ui/", "client_id": "mgmtd-ui",
            "code_verifier": verifier}
    form.update(flaw)
    form = {k: v for k, v in form.items() if v is not None}
    resp = dev.post("/oauth/token", json=form) if as_json else dev.post("/oauth/token", data=form)
    oauth_error(resp, "invalid_request")
    # the right request now comes too late
    body = oauth_error(exchange(dev, code, verifier), "invalid_grant")
    assert "used" in body["error_description"]


def test_a_code_named_to_the_email_grant_is_spent_too(dev):
    verifier, challenge = pkce()
    code = code_from(dev, pick(dev, auth_params(dev, challenge), login=LOGIN))
    oauth_error(dev.post("/oauth/token", data={"email": "admin@example.com", "code": code}),
                "invalid_request")
    oauth_error(exchange(dev, code, verifier), "invalid_grant")


# ---- the device grant's client ----

def test_the_device_grant_serves_mgmtctl_only(dev):
    body = oauth_error(dev.post("/oauth/device/code", data={"scope": "openid"}),
                       "invalid_request")
    assert "client_id" in body["error_description"]
    for client_id in ("evil", "mgmtd-ui", "MGMTCTL", "mgmtctl "):
        body = oauth_error(dev.post("/oauth/device/code", data={"client_id": client_id}),
                           "invalid_client")
        assert "mgmtctl" in body["error_description"]
    g = ok_json(dev.post("/oauth/device/code", data={"client_id": "mgmtctl"}))
    # a poll must come from that client too
    poll = {"grant_type": DEVICE, "device_code": g["device_code"]}
    oauth_error(dev.post("/oauth/token", data=poll), "invalid_request")
    oauth_error(dev.post("/oauth/token", data=dict(poll, client_id="evil")), "invalid_client")
    oauth_error(dev.post("/oauth/token", data=dict(poll, client_id="mgmtctl")),
                "authorization_pending")


# ---- pending device codes per client address ----

def post_from(d, source, path, form):
    """POSTs a form to d from the loopback address source; (status, headers, JSON)."""
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30,
                                      source_address=(source, 0))
    try:
        conn.request("POST", path, body=urllib.parse.urlencode(form),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), json.loads(resp.read())
    finally:
        conn.close()


def start_from(d, source):
    return post_from(d, source, "/oauth/device/code", {"client_id": "mgmtctl"})


def test_one_address_cannot_take_every_device_code(daemon_factory):
    d = daemon_factory(config_extra=UI, idp_section=False)
    for _ in range(PER_ADDRESS):
        status, _h, g = start_from(d, "127.0.0.2")
        assert status == 200, g
    status, headers, body = start_from(d, "127.0.0.2")
    assert status == 429, body
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == "temporarily_unavailable"
    assert "%d device authorizations" % PER_ADDRESS in body["error_description"]
    assert 1 <= int(headers["Retry-After"]) <= 600
    # others are still served
    status, _h, g = start_from(d, "127.0.0.3")
    assert status == 200, g
    # a code the address finishes gives its slot back
    status, _h, g = start_from(d, "127.0.0.3")
    for _ in range(PER_ADDRESS - 2):
        assert start_from(d, "127.0.0.3")[0] == 200
    assert start_from(d, "127.0.0.3")[0] == 429
    page = d.get("/activate", params={"user_code": g["user_code"]})
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert d.post("/activate", data={"user_code": g["user_code"], "csrf_token": csrf,
                                     "action": "deny"}).status_code == 200
    poll = {"grant_type": DEVICE, "device_code": g["device_code"], "client_id": "mgmtctl"}
    assert post_from(d, "127.0.0.3", "/oauth/token", poll)[2]["error"] == "access_denied"
    assert start_from(d, "127.0.0.3")[0] == 200


def test_every_slot_still_has_a_bound(daemon_factory):
    d = daemon_factory(config_extra=UI, idp_section=False)
    for i in range(SLOTS):
        status, _h, g = start_from(d, "127.0.0.%d" % (10 + i // PER_ADDRESS))
        assert status == 200, (i, g)
    status, headers, body = start_from(d, "127.0.0.99")
    assert status == 503, body
    assert body["error"] == "temporarily_unavailable"
    assert "%d device authorizations" % SLOTS in body["error_description"]
