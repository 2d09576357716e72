"""The dev IdP's device authorization grant (RFC 8628): the device code endpoint, the
verification page a person uses, and the device_code grant of /oauth/token."""

import datetime as dt
import re
import time

import jwt as pyjwt
import pytest

from conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    assert_error,
    assert_status,
    default_seed,
    ok_json,
    tokens_path,
    users_path,
)
from ctl import module_daemon
from verifypage import approve, deny, offered_users, open_page, parse, submit

DEV = "[dev_idp]\nenabled = true\n[testing]\nenabled = true\n"
GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


@pytest.fixture(scope="module")
def dev(mgmtd_bin, idp, tmp_path_factory):
    seed = default_seed()
    seed["users"] += [
        {"accountId": ACCOUNT_A, "email": "both@example.com", "group": "member",
         "idpSubject": "both-a"},
        {"accountId": ACCOUNT_B, "email": "both@example.com", "group": "admin",
         "idpSubject": "both-b"},
    ]
    # the dev IdP alone: the seed's subjects are its own (idpIssuer dev_idp)
    yield from module_daemon(mgmtd_bin, idp, tmp_path_factory, "devgrant", seed=seed,
                             config_extra=DEV, idp_section=False)


@pytest.fixture(autouse=True)
def real_clock(dev):
    yield
    dev.delete("/_test/clock")


def start(d, **form):
    form.setdefault("client_id", "mgmtctl")
    return ok_json(d.post("/oauth/device/code", data=form))


def poll(d, device_code, **extra):
    return d.post("/oauth/token", data=dict(grant_type=GRANT, device_code=device_code,
                                            client_id="mgmtctl", **extra))


def oauth_error(resp, error):
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error, body
    assert body["error_description"]
    return body


def wait_interval(grant):
    time.sleep(grant["interval"] + 0.1)


def test_discovery_announces_the_grant(dev):
    doc = ok_json(dev.get("/.well-known/openid-configuration"))
    issuer = "http://127.0.0.1:%d" % dev.port
    assert doc["device_authorization_endpoint"] == issuer + "/oauth/device/code"
    assert GRANT in doc["grant_types_supported"]
    assert doc["token_endpoint"] == issuer + "/oauth/token"


def test_device_code_answer(dev):
    g = start(dev, scope="openid email", audience="mgmtd")
    assert set(g) == {"device_code", "user_code", "verification_uri",
                      "verification_uri_complete", "expires_in", "interval"}
    assert USER_CODE.match(g["user_code"]), g
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", g["device_code"])
    issuer = "http://127.0.0.1:%d" % dev.port
    assert g["verification_uri"] == issuer + "/activate"
    assert g["verification_uri_complete"] == issuer + "/activate?user_code=" + g["user_code"]
    assert g["expires_in"] == 600 and g["interval"] == 1
    # codes are fresh each time
    assert start(dev)["device_code"] != g["device_code"]
    # a JSON body works too
    assert USER_CODE.match(ok_json(dev.post("/oauth/device/code",
                                            json={"client_id": "mgmtctl"}))["user_code"])


def test_approve_on_the_page_then_poll(dev):
    g = start(dev)
    oauth_error(poll(dev, g["device_code"]), "authorization_pending")
    r = approve(g["verification_uri_complete"], "admin@example.com")
    assert r.status_code == 200, r.text
    assert "Signed in as" in r.text and "admin@example.com" in r.text
    wait_interval(g)
    answer = ok_json(poll(dev, g["device_code"]))
    assert set(answer) == {"access_token", "token_type", "expires_in"}
    assert answer["token_type"] == "Bearer" and 3500 < answer["expires_in"] <= 3600
    claims = pyjwt.decode(answer["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "admin-1" and claims["email"] == "admin@example.com"
    # an admin signed in through the IdP: may create a management token
    jwt = answer["access_token"]
    ok_json(dev.post(tokens_path(), jwt, json={"description": "by device login"}))
    # one use only
    wait_interval(g)
    oauth_error(poll(dev, g["device_code"]), "invalid_grant")


def test_page_without_a_code_asks_for_it_and_takes_it_as_typed(dev):
    g = start(dev)
    r, page = open_page(g["verification_uri"])
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    # typed in lower case without the dash: still the same code
    typed = g["user_code"].replace("-", "").lower()
    r = submit(g["verification_uri"], page, "Continue", {"user_code": typed})
    assert r.status_code == 200, r.text
    assert g["user_code"] in r.text
    r2 = submit(g["verification_uri"], parse(r.text), "Approve", {"email": "admin@example.com"})
    assert r2.status_code == 200, r2.text
    wait_interval(g)
    assert_status(poll(dev, g["device_code"]), 200)


def test_page_is_a_safe_form(dev):
    g = start(dev)
    r, page = open_page(g["verification_uri_complete"])
    assert r.status_code == 200
    h = r.headers
    assert h["Content-Type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert "default-src 'none'" in h["Content-Security-Policy"]
    assert h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] == "no-referrer"
    assert h["Cache-Control"] == "no-store"
    # nothing loaded from anywhere; the client is named (mgmtctl, the grant's only one)
    assert not re.search(r"<(script|img|link|iframe)\b", r.text, re.I)
    assert "<strong>mgmtctl</strong>" in r.text
    # the decision is a POST carrying a per-authorization token
    [form] = [f for f in page.forms if f.method == "post"]
    assert form.inputs["csrf_token"][0] == "hidden"
    assert len(form.inputs["csrf_token"][1]) >= 40
    assert g["user_code"] in r.text  # the person sees the code to compare


def test_a_get_never_decides(dev):
    g = start(dev)
    r, page = open_page(g["verification_uri_complete"])
    [form] = [f for f in page.forms if f.method == "post"]
    data = {k: v for k, (_t, v) in form.inputs.items()}
    data.update(email="admin@example.com", action="approve")
    assert dev.get("/activate", params=data).status_code == 200
    oauth_error(poll(dev, g["device_code"]), "authorization_pending")


def test_a_forged_or_foreign_form_is_refused(dev):
    a, b = start(dev), start(dev)
    r, page_a = open_page(a["verification_uri_complete"])
    [form] = [f for f in page_a.forms if f.method == "post"]
    csrf_a = form.inputs["csrf_token"][1]
    # no token, a wrong one, or A's token for B's code
    for csrf, code in ((None, a["user_code"]), ("x" * 43, a["user_code"]),
                       (csrf_a, b["user_code"])):
        data = {"user_code": code, "email": "admin@example.com", "action": "approve"}
        if csrf is not None:
            data["csrf_token"] = csrf
        r = dev.post("/activate", data=data)
        assert r.status_code == 403, r.text
        assert r.headers["Content-Type"].startswith("text/html")
    oauth_error(poll(dev, a["device_code"]), "authorization_pending")
    oauth_error(poll(dev, b["device_code"]), "authorization_pending")


def test_the_page_lists_the_provisioned_users_to_pick_from(dev):
    g = start(dev)
    r, page = open_page(g["verification_uri_complete"])
    offered = offered_users(page)
    assert (ACCOUNT_A, "admin@example.com") in offered
    assert (ACCOUNT_B, "both@example.com") in offered and (ACCOUNT_A, "both@example.com") in offered
    # picking one of the two both@example.com decides which account
    r = submit(g["verification_uri_complete"], page, "Approve", None,
               pick={"login": "%s both@example.com" % ACCOUNT_B})
    assert r.status_code == 200, r.text
    wait_interval(g)
    jwt = ok_json(poll(dev, g["device_code"]))["access_token"]
    assert pyjwt.decode(jwt, options={"verify_signature": False})["sub"] == "both-b"


def test_a_typed_email_works_too(dev):
    g = start(dev)
    r = approve(g["verification_uri_complete"], "member@example.com", typed=True)
    assert r.status_code == 200, r.text
    wait_interval(g)
    jwt = ok_json(poll(dev, g["device_code"]))["access_token"]
    assert pyjwt.decode(jwt, options={"verify_signature": False})["sub"] == "member-1"


def test_unknown_user_keeps_the_authorization_pending(dev):
    g = start(dev)
    r = approve(g["verification_uri_complete"], "nobody@example.com")
    assert r.status_code == 400 and "no user" in r.text.lower(), r.text
    # the page offers the form again; the right email then works
    r2 = submit(g["verification_uri_complete"], parse(r.text), "Approve",
                {"email": "admin@example.com"})
    assert r2.status_code == 200, r2.text
    wait_interval(g)
    assert_status(poll(dev, g["device_code"]), 200)


def test_the_account_picks_among_users_of_several_accounts(dev):
    g = start(dev)
    r = approve(g["verification_uri_complete"], "both@example.com", typed=True)
    assert r.status_code == 400 and "account" in r.text.lower()
    r = approve(g["verification_uri_complete"], "both@example.com", account_id=ACCOUNT_B,
                typed=True)
    assert r.status_code == 200, r.text
    wait_interval(g)
    jwt = ok_json(poll(dev, g["device_code"]))["access_token"]
    assert_status(dev.get(users_path(ACCOUNT_B), jwt), 200)


def test_deny(dev):
    g = start(dev)
    r = deny(g["verification_uri_complete"])
    assert r.status_code == 200 and "Denied" in r.text
    oauth_error(poll(dev, g["device_code"]), "access_denied")
    # decided: the page no longer offers it
    r, _page = open_page(g["verification_uri_complete"])
    assert r.status_code == 404


def test_polling_too_fast_slows_down(dev):
    g = start(dev)
    oauth_error(poll(dev, g["device_code"]), "authorization_pending")
    oauth_error(poll(dev, g["device_code"]), "slow_down")
    # the interval grew by 5 s: one second later is still too soon
    time.sleep(1.1)
    oauth_error(poll(dev, g["device_code"]), "slow_down")


def test_codes_expire_by_the_test_clock(dev):
    g = start(dev)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=601)
    ok_json(dev.put("/_test/clock", json={"now": later.strftime("%Y-%m-%dT%H:%M:%SZ")}))
    r, _page = open_page(g["verification_uri_complete"])
    assert r.status_code == 404
    oauth_error(poll(dev, g["device_code"]), "expired_token")
    oauth_error(poll(dev, g["device_code"]), "invalid_grant")


def test_bad_polls(dev):
    oauth_error(poll(dev, "no-such-code"), "invalid_grant")
    r = dev.post("/oauth/token", data={"grant_type": GRANT})
    oauth_error(r, "invalid_request")
    # a JSON poll works like a form one
    g = start(dev)
    r = dev.post("/oauth/token", json={"grant_type": GRANT, "device_code": g["device_code"],
                                       "client_id": "mgmtctl"})
    oauth_error(r, "authorization_pending")


def test_the_email_grant_is_unchanged(dev):
    r = ok_json(dev.post("/oauth/token", data={"email": "admin@example.com"}))
    assert r["token_type"] == "Bearer"


def test_routes_are_off_without_the_dev_idp(daemon_factory):
    d = daemon_factory()
    assert_error(d.post("/oauth/device/code", data={"client_id": "x"}), 404)
    assert_error(d.get("/activate"), 404)
