"""IdP JWTs: signature, algorithm allow-list, claims, leeway, user matching (CONTRACT 1, 2, 8)."""

import base64
import time

import pytest

from conftest import (
    AUDIENCE,
    ISSUER,
    assert_error,
    assert_status,
    b64url,
    b64url_json,
    ok_json,
    tokens_path,
    users_path,
)

SEEDED_A = {"admin@example.com", "member@example.com", "auditor@example.com", "emailonly@example.com"}
PATH = users_path()  # an admin may read it; every refusal below must be 401 first


def test_good_rs256_admin_jwt_is_accepted(server, make_jwt):
    users = ok_json(server.get(PATH, make_jwt(sub="admin-1")))
    assert any(u["email"] == "admin@example.com" for u in users)


def test_es256_with_the_ec_key_is_accepted(server, make_jwt):
    assert_status(server.get(PATH, make_jwt(sub="admin-1", key="ec-1", alg="ES256")), 200)


def test_aud_array_containing_the_audience_is_accepted(server, make_jwt):
    assert_status(server.get(PATH, make_jwt(aud=["other-api", AUDIENCE])), 200)


def test_expired_within_leeway_is_accepted(server, make_jwt):
    assert_status(server.get(PATH, make_jwt(exp_offset=-30)), 200)


def test_nbf_and_iat_slightly_in_future_are_accepted(server, make_jwt):
    now = int(time.time())
    assert_status(server.get(PATH, make_jwt(nbf=now + 30)), 200)
    assert_status(server.get(PATH, make_jwt(iat=now + 30)), 200)
    assert_status(server.get(PATH, make_jwt(nbf=now - 10)), 200)


def _parts(idp):
    return idp.make_jwt().split(".")


def _swapped_payload(idp):
    h, _p, sig = _parts(idp)
    return h + "." + b64url_json(idp.claims(sub="auditor-1")) + "." + sig


# label -> builder(idp, now); every one must be answered 401
REFUSALS = {
    "key not in the JWKS, kid rsa-1": lambda idp, now: idp.make_jwt(key="rogue-rsa"),
    "wrong iss": lambda idp, now: idp.make_jwt(iss="https://evil.test/"),
    "iss without the trailing slash": lambda idp, now: idp.make_jwt(iss=ISSUER.rstrip("/")),
    "no iss": lambda idp, now: idp.make_jwt(omit=("iss",)),
    "wrong aud": lambda idp, now: idp.make_jwt(aud="other-api"),
    "aud array without ours": lambda idp, now: idp.make_jwt(aud=["other-api", "another"]),
    "no aud": lambda idp, now: idp.make_jwt(omit=("aud",)),
    "expired 2 minutes ago": lambda idp, now: idp.make_jwt(exp_offset=-120),
    "nbf 5 minutes ahead": lambda idp, now: idp.make_jwt(nbf=now + 300),
    "iat 5 minutes ahead": lambda idp, now: idp.make_jwt(iat=now + 300),
    "alg none": lambda idp, now: idp.unsigned_jwt(),
    "alg none with a signature part": lambda idp, now: idp.unsigned_jwt() + _parts(idp)[2],
    "HS256 keyed with the RSA public key": lambda idp, now: idp.hs256_with_public_pem(),
    "HS256 keyed with the RSA public key, no kid": lambda idp, now: idp.hs256_with_public_pem(kid=None),
    "unknown kid": lambda idp, now: idp.make_jwt(kid="nobody"),
    "garbage a.b.c": lambda idp, now: "a.b.c",
    "two parts": lambda idp, now: ".".join(_parts(idp)[:2]),
    "four parts": lambda idp, now: idp.make_jwt() + ".x",
    "RS256 claiming kid ec-1": lambda idp, now: idp.make_jwt(key="rsa-1", kid="ec-1"),
    "ES256 claiming kid rsa-1": lambda idp, now: idp.make_jwt(key="ec-1", alg="ES256", kid="rsa-1"),
    "ES384 by a P-384 key claiming kid ec-1":
        lambda idp, now: idp.make_jwt(key="rogue-ec384", alg="ES384", kid="ec-1"),
    "RS512, not in the allow-list": lambda idp, now: idp.make_jwt(alg="RS512"),
    "PS256, not in the allow-list": lambda idp, now: idp.make_jwt(alg="PS256"),
    "payload swapped after signing": lambda idp, now: _swapped_payload(idp),
    "signature cut short": lambda idp, now: idp.make_jwt()[:-4],
    "signature empty": lambda idp, now: ".".join(_parts(idp)[:2]) + ".",
}


@pytest.mark.parametrize("label", list(REFUSALS))
def test_refused_jwt_is_401(server, idp, label):
    token = REFUSALS[label](idp, int(time.time()))
    assert_error(server.get(PATH, token), 401)


@pytest.mark.parametrize("method, path, body", [
    ("GET", tokens_path(), None),
    ("POST", tokens_path(), {"description": "x"}),
    ("GET", users_path(), None),
])
def test_refusal_happens_before_anything_else(server, idp, method, path, body):
    r = server.request(method, path, idp.make_jwt(key="rogue-rsa"), json=body)
    assert_error(r, 401)


def test_jwt_without_kid_signed_by_a_rogue_key_is_401(server, idp):
    # Whether a JWT without kid is tried against every key is not fixed by the
    # contract; signed by a key outside the JWKS it must be refused either way.
    import jwt as pyjwt

    token = pyjwt.encode(idp.claims(), idp.rogue_rsa, algorithm="RS256")
    assert_error(server.get(PATH, token), 401)


# ---------------------------------------------------------------------------
# Matching a JWT to a provisioned user (CONTRACT 2)

def test_user_without_subject_is_matched_by_email_once(server, make_jwt):
    token = make_jwt(sub="some-idp-subject-xyz", email="emailonly@example.com")
    users = ok_json(server.get(PATH, token))
    assert SEEDED_A <= {u["email"] for u in users}  # an admin sees every user
    # then bound to that identity: the email alone picks the user no more
    me = next(u for u in users if u["email"] == "emailonly@example.com")
    assert (me["idpIssuer"], me["idpSubject"]) == (ISSUER, "some-idp-subject-xyz")
    other = make_jwt(sub="another-subject", email="emailonly@example.com")
    assert_error(server.get(PATH, other), 403, contains="not provisioned")


def test_user_with_subject_is_not_matched_by_email(server, make_jwt):
    token = make_jwt(sub="not-the-admin", email="admin@example.com")
    assert_error(server.get(PATH, token), 403, contains="not provisioned")


def test_unknown_subject_is_403_not_provisioned(server, make_jwt):
    assert_error(server.get(PATH, make_jwt(sub="nobody")), 403, contains="not provisioned")
    assert_error(server.get(PATH, make_jwt(sub="nobody", email="nobody@example.com")), 403,
                 contains="not provisioned")


def test_subject_is_matched_exactly(server, make_jwt):
    assert_error(server.get(PATH, make_jwt(sub="ADMIN-1")), 403, contains="not provisioned")
    assert_error(server.get(PATH, make_jwt(sub="admin-1 ")), 403, contains="not provisioned")


def test_group_of_matched_user_applies(server, make_jwt):
    # the member sees only itself, the auditor sees everyone
    mine = ok_json(server.get(PATH, make_jwt(sub="member-1")))
    assert [u["email"] for u in mine] == ["member@example.com"]
    everyone = ok_json(server.get(PATH, make_jwt(sub="auditor-1")))
    assert SEEDED_A <= {u["email"] for u in everyone}


def test_bearer_credential_with_surrounding_garbage_is_401(server, make_jwt):
    good = make_jwt()
    assert_error(server.get(PATH, headers={"Authorization": "Bearer " + good + "x"}), 401)
    assert_error(server.get(PATH, headers={"Authorization": "Bearer x" + good}), 401)
    assert_error(server.get(PATH, headers={"Authorization": "Token " + good}), 401)


def test_b64url_helper_sanity():
    # guards the hand-crafted tokens above against a broken helper
    assert b64url(b"\xfb\xff") == "-_8"


# ---------------------------------------------------------------------------
# Header types: RFC 9068 access tokens (typ at+jwt) authenticate exactly as
# typ JWT ones do, and the same attack corpus is refused the same way for each.

# None: no typ in the header at all
TYPES = [None, "JWT", "at+jwt", "application/at+jwt", "AT+JWT", "application/jwt"]
KEYS = [("rsa-1", "RS256"), ("ec-1", "ES256")]


def _typed(idp, typ, key="rsa-1", alg="RS256", **kw):
    return idp.make_jwt(key=key, alg=alg, extra_headers={"typ": typ}, **kw)


def _header(token):
    import json

    h = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))


def _with_sig(token, sig: bytes):
    h, p, _s = token.split(".")
    return h + "." + p + "." + b64url(sig)


def _sig(token) -> bytes:
    s = token.split(".")[2]
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _es256_der(idp, typ, **claims_kw):
    """ES256 signed right, but with the signature as DER, not the raw r||s JWS wants."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    header = {"alg": "ES256", "kid": "ec-1"}
    if typ is not None:
        header["typ"] = typ
    signing_input = b64url_json(header) + "." + b64url_json(idp.claims(**claims_kw))
    der = idp.keys["ec-1"].sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    assert len(der) != 64
    return signing_input + "." + b64url(der)


def _flip(data: bytes, i: int) -> bytes:
    return data[:i] + bytes([data[i] ^ 1]) + data[i + 1:]


@pytest.mark.parametrize("key, alg", KEYS)
@pytest.mark.parametrize("typ", TYPES)
def test_good_token_of_every_type_authenticates_like_typ_jwt(server, idp, typ, key, alg):
    baseline = _typed(idp, "JWT", key, alg)
    token = _typed(idp, typ, key, alg)
    assert _header(token).get("typ") == typ
    # the same principal: the admin sees every user, the member only itself
    assert ok_json(server.get(PATH, token)) == ok_json(server.get(PATH, baseline))
    member = ok_json(server.get(PATH, _typed(idp, typ, key, alg, sub="member-1")))
    assert [u["email"] for u in member] == ["member@example.com"]
    # and what the principal creates is recorded as the admin's
    made = ok_json(server.post(tokens_path(), token, json={"description": "typ %s" % typ}))
    ref = ok_json(server.post(tokens_path(), baseline, json={"description": "t"}))
    assert made["createdBy"] == ref["createdBy"]


def _resigned(builder):
    """builder(token) of a good token of that type and key."""
    return lambda idp, typ, key, alg: builder(_typed(idp, typ, key, alg))


# label -> builder(idp, typ, key, alg): the same attacks under each header type, for
# RS256 by rsa-1 and ES256 by ec-1
KEYED_REFUSALS = {
    "tampered payload": lambda idp, typ, key, alg: (
        lambda t: t.split(".")[0] + "." + b64url_json(idp.claims(sub="admin-1", exp_offset=7200))
        + "." + t.split(".")[2])(_typed(idp, typ, key, alg, sub="member-1")),
    "tampered signature": _resigned(lambda t: _with_sig(t, _flip(_sig(t), 5))),
    "signature one byte short": _resigned(lambda t: _with_sig(t, _sig(t)[:-1])),
    "signature one zero byte longer": _resigned(lambda t: _with_sig(t, b"\0" + _sig(t))),
    "expired": lambda idp, typ, key, alg: _typed(idp, typ, key, alg, exp_offset=-300),
    "wrong audience": lambda idp, typ, key, alg: _typed(idp, typ, key, alg, aud="other-api"),
    "wrong issuer": lambda idp, typ, key, alg: _typed(idp, typ, key, alg,
                                                      iss="https://evil.test/"),
    "kid of the other key type": lambda idp, typ, key, alg: _typed(
        idp, typ, key, alg, kid={"rsa-1": "ec-1", "ec-1": "rsa-1"}[key]),
}

# label -> (key, alg, builder) for attacks that concern one kind of key only
FIXED_REFUSALS = {
    "RS256 by a key not in the JWKS": ("rsa-1", "RS256", lambda idp, typ, key, alg:
                                       _typed(idp, typ, "rogue-rsa", "RS256")),
    "HS256 keyed with the RSA public key": ("rsa-1", "RS256", lambda idp, typ, key, alg:
                                            idp.hs256_with_public_pem(typ=typ)),
    "HS256 keyed with the RSA public key, no kid": ("rsa-1", "RS256", lambda idp, typ, key, alg:
                                                    idp.hs256_with_public_pem(kid=None, typ=typ)),
    "alg none": ("rsa-1", "RS256", lambda idp, typ, key, alg: idp.unsigned_jwt(typ=typ)),
    "alg none with a signature part": ("rsa-1", "RS256", lambda idp, typ, key, alg:
                                       idp.unsigned_jwt(typ=typ) + "c2lnbmF0dXJl"),
    # the raw r||s of ES256 is exactly 64 bytes
    "ES256 signature as DER": ("ec-1", "ES256", lambda idp, typ, key, alg: _es256_der(idp, typ)),
    "ES256 signature of 63 bytes": ("ec-1", "ES256", _resigned(lambda t: _with_sig(t, _sig(t)[:63]))),
    "ES256 signature of 65 bytes": ("ec-1", "ES256",
                                    _resigned(lambda t: _with_sig(t, _sig(t) + b"\0"))),
    "ES256 signature of 96 bytes": ("ec-1", "ES256",
                                    _resigned(lambda t: _with_sig(t, _sig(t) + _sig(t)[:32]))),
    "ES256 signature all zero": ("ec-1", "ES256", _resigned(lambda t: _with_sig(t, bytes(64)))),
}

ATTACKS = [(label, key, alg, build) for label, build in KEYED_REFUSALS.items()
           for key, alg in KEYS] + [(label, key, alg, build)
                                    for label, (key, alg, build) in FIXED_REFUSALS.items()]


@pytest.mark.parametrize("label, key, alg, build", ATTACKS,
                         ids=["%s-%s" % (a[0], a[2]) for a in ATTACKS])
def test_attack_is_refused_the_same_under_every_type(server, idp, label, key, alg, build):
    messages = {}
    for typ in TYPES:
        token = build(idp, typ, key, alg)
        assert _header(token).get("typ") == typ
        messages[typ] = assert_error(server.get(PATH, token), 401)["message"]
    # refused identically: the one answer the typ JWT token gets
    assert set(messages.values()) == {messages["JWT"]}, messages
    assert "type" not in messages["JWT"], messages


@pytest.mark.parametrize("typ", ["logout+jwt", "application/logout+jwt", "secevent+jwt",
                                 "JOSE", "text/jwt", "at+jwt "])
def test_other_explicit_type_is_refused_naming_it(server, idp, typ):
    for key, alg in KEYS:
        r = server.get(PATH, _typed(idp, typ, key, alg))
        body = assert_error(r, 401)
        assert body["message"] == 'the token\'s type "%s" is not accepted here' % (
            typ.replace(" ", "?")), body
        assert "well-formed" not in body["message"]


def test_refused_type_is_named_bounded_and_sanitised(server, idp):
    body = assert_error(server.get(PATH, _typed(idp, "x" * 5000)), 401)
    assert body["message"] == 'the token\'s type "%s..." is not accepted here' % ("x" * 32)
    body = assert_error(server.get(PATH, _typed(idp, 'a"b\\c\n\u00e9<')), 401)
    assert body["message"] == 'the token\'s type "a?b?c???<" is not accepted here'


def test_typ_that_is_not_a_string_is_malformed(server, idp):
    for typ in (1, ["at+jwt"], {"t": "JWT"}):
        token = idp.make_jwt(extra_headers={"typ": typ})
        assert_error(server.get(PATH, token), 401, contains="not a well-formed JWT")
