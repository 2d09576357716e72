"""RFC 9068 access tokens from a real OpenID provider (npm oidc-provider, installed by
`make deps` into tests/node/), found by discovery over loopback, as the report of
issue 8 tried it: typ at+jwt, RS256 and ES256, an admin's token and a client's."""

import base64
import hashlib
import html
import json
import os
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import ACCOUNT_A, AUDIENCE, assert_error, b64url, default_seed, ok_json, users_path

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
CLIENT_ID = "mgmtd-oidc-test"
CLIENT_SECRET = "a-client-secret-for-this-test-only"
# never visited: the code is read from the redirect's Location
REDIRECT_URI = "http://127.0.0.1:9/callback"
RS256 = "https://mgmtd.test/rs256"
ES256 = "https://mgmtd.test/es256"
ADMIN_SUB = "oidc-admin"
MEMBER_SUB = "oidc-member"


class OidcProvider:
    def __init__(self, tmp_path):
        if not (NODE_DIR / "node_modules" / "oidc-provider").is_dir():
            pytest.fail("npm package oidc-provider is missing in %s: run `make deps`" % NODE_DIR,
                        pytrace=False)
        self.log = open(tmp_path / "oidc-provider.log", "wb")
        self.proc = subprocess.Popen(
            ["node", str(NODE_DIR / "oidc_idp.mjs"), AUDIENCE, CLIENT_ID, CLIENT_SECRET,
             REDIRECT_URI],
            cwd=NODE_DIR, stdout=subprocess.PIPE, stderr=self.log)
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.stop()
            pytest.fail("oidc-provider did not start; log:\n%s"
                        % (tmp_path / "oidc-provider.log").read_text(errors="replace"))
        self.issuer = json.loads(line)["issuer"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()

    def client_credentials(self, resource):
        r = requests.post(self.issuer + "/token", auth=(CLIENT_ID, CLIENT_SECRET), timeout=10,
                          data={"grant_type": "client_credentials", "scope": "api",
                                "resource": resource})
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def sign_in(self, login, resource):
        """The authorization-code grant with PKCE through the provider's own sign-in
        and consent pages, as a browser would; returns the access token."""
        s = requests.Session()
        verifier = b64url(os.urandom(32))
        challenge = b64url(hashlib.sha256(verifier.encode()).digest())
        r = s.get(self.issuer + "/auth", timeout=10, params={
            "client_id": CLIENT_ID, "response_type": "code", "scope": "openid api",
            "redirect_uri": REDIRECT_URI, "resource": resource, "state": "s1",
            "code_challenge": challenge, "code_challenge_method": "S256"})
        for fields in ({"login": login, "password": "any"}, {}):
            assert r.status_code == 200, r.text
            action = html.unescape(re.search(r'<form[^>]* action="([^"]+)"', r.text).group(1))
            form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', r.text))
            form.update(fields)
            r = s.post(requests.compat.urljoin(self.issuer, action), data=form,
                       allow_redirects=False, timeout=10)
            r = self._follow(s, r)
        location = r.headers["Location"]
        assert location.startswith(REDIRECT_URI), location
        code = requests.utils.urlparse(location).query
        code = dict(p.split("=", 1) for p in code.split("&"))["code"]
        t = s.post(self.issuer + "/token", auth=(CLIENT_ID, CLIENT_SECRET), timeout=10,
                   data={"grant_type": "authorization_code", "code": code,
                         "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
                         "resource": resource})
        assert t.status_code == 200, t.text
        return t.json()["access_token"]

    def _follow(self, s, r):
        """Follows redirects within the provider; stops at the client's redirect."""
        while r.status_code in (302, 303):
            location = requests.compat.urljoin(r.url, r.headers["Location"])
            if location.startswith(REDIRECT_URI):
                return r
            r = s.get(location, allow_redirects=False, timeout=10)
        return r


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    p = OidcProvider(tmp_path_factory.mktemp("oidc-provider"))
    yield p
    p.stop()


@pytest.fixture
def mgmtd(daemon_factory, provider):
    seed = default_seed()
    seed["users"] += [
        {"accountId": ACCOUNT_A, "email": "oidc-admin@example.com", "group": "admin",
         "idpSubject": ADMIN_SUB},
        {"accountId": ACCOUNT_A, "email": "oidc-member@example.com", "group": "member",
         "idpSubject": MEMBER_SUB},
        # a client_credentials token's sub is the client id (RFC 9068 2.2)
        {"accountId": ACCOUNT_A, "email": "oidc-client@example.com", "group": "admin",
         "idpSubject": CLIENT_ID},
    ]
    section = ("[idp oidc]\nissuer = %s\naudience = %s\ndiscovery = true\n"
               "algorithms = RS256,ES256\n\n" % (provider.issuer, AUDIENCE))
    return daemon_factory(seed=seed, idp_section=False, config_extra=section)


def header(token):
    h = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))


def claims(token):
    p = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


@pytest.mark.parametrize("resource, alg, kid", [(RS256, "RS256", "rsa-1"),
                                                (ES256, "ES256", "ec-1")])
def test_signed_in_admin_access_token_is_accepted(provider, mgmtd, resource, alg, kid):
    token = provider.sign_in(ADMIN_SUB, resource)
    assert header(token) == {"alg": alg, "typ": "at+jwt", "kid": kid}
    c = claims(token)
    assert (c["sub"], c["aud"], c["iss"]) == (ADMIN_SUB, AUDIENCE, provider.issuer)
    assert c["exp"] > time.time()
    users = ok_json(mgmtd.get(users_path(), token))
    assert {"admin@example.com", "oidc-member@example.com"} <= {u["email"] for u in users}


def test_signed_in_member_sees_only_itself(provider, mgmtd):
    token = provider.sign_in(MEMBER_SUB, ES256)
    assert header(token)["typ"] == "at+jwt"
    assert [u["email"] for u in ok_json(mgmtd.get(users_path(), token))] == [
        "oidc-member@example.com"]


def test_signed_in_stranger_is_authenticated_but_not_provisioned(provider, mgmtd):
    # 403, not 401: the at+jwt token itself passed every check
    token = provider.sign_in("someone-else", RS256)
    assert_error(mgmtd.get(users_path(), token), 403, contains="not provisioned")


@pytest.mark.parametrize("resource", [RS256, ES256])
def test_client_credentials_access_token_is_accepted(provider, mgmtd, resource):
    token = provider.client_credentials(resource)
    assert header(token)["typ"] == "at+jwt"
    assert claims(token)["sub"] == CLIENT_ID
    assert_error(mgmtd.get(users_path(), token[:-6] + ("A" if token[-6] != "A" else "B")
                           + token[-5:]), 401, contains="signature")
    assert ok_json(mgmtd.get(users_path(), token))
