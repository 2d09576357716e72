"""Durability across restarts, signals, and the seed file (CONTRACT 3, 6, 9)."""

import signal

import pytest

from conftest import (
    dated,
    ACCOUNT_A,
    ACCOUNT_B,
    CLUSTER_A,
    ISSUER,
    assert_error,
    assert_status,
    clusters_path,
    default_seed,
    describe_cli,
    flip_char,
    make_mgmt_token,
    ok_json,
    run_cli,
    tokens_path,
    users_path,
)

UNKNOWN_ACCOUNT = "77777777-7777-4777-8777-777777777777"


def test_restart_keeps_tokens_and_revocations(fresh_server):
    d = fresh_server
    admin = d.jwt("admin")
    t1 = d.create_token("one")
    t2 = d.create_token("two")
    t3 = d.create_token("three", expiresAt=dated("{y}-05-06T07:08:09.010Z"))
    assert_status(d.delete(tokens_path(token_id=t2["id"]), admin), 204)
    tokens_before = d.list_tokens()
    users_before = ok_json(d.get(users_path(), admin))
    clusters_before = ok_json(d.get(clusters_path(), admin))

    d.stop_ok(signal.SIGTERM)
    d.start()

    # compare before any token is used again (use would set lastUsedAt)
    assert d.list_tokens() == tokens_before
    assert ok_json(d.get(users_path(), admin)) == users_before  # the seed added no duplicates
    assert ok_json(d.get(clusters_path(), admin)) == clusters_before
    assert_status(d.get(tokens_path(), t1["accessToken"]), 200)
    assert_status(d.get(tokens_path(), t3["accessToken"]), 200)
    assert_error(d.get(tokens_path(), t2["accessToken"]), 401)
    got = d.get_token(t2["id"])
    assert got["status"] == "revoked"
    assert got["revokedAt"] == next(t for t in tokens_before if t["id"] == t2["id"])["revokedAt"]


def test_revocation_survives_restart_without_seed(fresh_server):
    d = fresh_server
    t = d.create_token("gone")
    keep = d.create_token("kept")
    assert_status(d.delete(tokens_path(token_id=t["id"]), d.jwt("admin")), 204)
    d.stop_ok()
    d.start(use_seed=False)
    assert_error(d.get(tokens_path(), t["accessToken"]), 401)
    assert_status(d.get(tokens_path(), keep["accessToken"]), 200)
    # users and clusters come from the store, not from the seed
    assert_status(d.get(users_path(), d.jwt("admin")), 200)
    assert_status(d.get(clusters_path(cluster_id=CLUSTER_A), d.jwt("admin")), 200)


def test_sigint_exits_0(fresh_server):
    assert fresh_server.stop(signal.SIGINT) == 0


def test_sigterm_with_an_open_connection_exits_0(fresh_server):
    d = fresh_server
    import socket

    s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # an unfinished request
        assert d.stop(signal.SIGTERM) == 0
    finally:
        s.close()


# ---------------------------------------------------------------------------
# Seeded management tokens

def _seed_with_tokens(secret_a, secret_b):
    seed = default_seed()
    seed["managementTokens"] = [
        {"accountId": ACCOUNT_A, "description": "seeded ci", "accessToken": secret_a,
         "createdBy": "admin@example.com"},
        {"accountId": ACCOUNT_A, "description": "seeded expiring", "accessToken": secret_b,
         "createdBy": "emailonly@example.com", "expiresAt": dated("{y}-01-01T00:00:00+00:00")},
    ]
    return seed


def test_seeded_token_authenticates_and_seed_is_idempotent(daemon_factory):
    secret_a, secret_b = make_mgmt_token(), make_mgmt_token()
    d = daemon_factory(seed=_seed_with_tokens(secret_a, secret_b))
    tokens = d.list_tokens()
    # seeded in one go: their order (equal createdAt) is not fixed
    assert sorted(t["description"] for t in tokens) == ["seeded ci", "seeded expiring"]
    a = next(t for t in tokens if t["description"] == "seeded ci")
    b = next(t for t in tokens if t["description"] == "seeded expiring")
    assert a["tokenPrefix"] == secret_a[:9] and b["tokenPrefix"] == secret_b[:9]
    assert a["createdBy"] == d.user_id("admin")
    assert b["createdBy"] == d.user_id("emailonly")
    assert a["status"] == "active" and b["status"] == "active"
    assert "expiresAt" not in a
    assert b["expiresAt"] == dated("{y}-01-01T00:00:00.000Z")
    assert a["accountId"] == ACCOUNT_A
    for t in tokens:
        assert "accessToken" not in t
    users = ok_json(d.get(users_path(), d.jwt("admin")))

    assert_status(d.get(users_path(), secret_a), 200)
    assert_status(d.get(users_path(), secret_b), 200)
    # the seeded token is an ordinary token: it cannot reach account B
    assert_error(d.get(users_path(ACCOUNT_B), secret_a), 404)

    d.stop_ok()
    d.start()
    again = d.list_tokens()
    # the same two tokens, same content (lastUsedAt aside: they were used above)
    strip = lambda ts: [{k: v for k, v in t.items() if k != "lastUsedAt"} for t in ts]  # noqa: E731
    assert sorted(strip(again), key=lambda t: t["id"]) == sorted(strip(tokens), key=lambda t: t["id"])
    assert ok_json(d.get(users_path(), d.jwt("admin"))) == users
    assert_status(d.get(users_path(), secret_a), 200)


def test_seed_file_from_the_environment_is_applied(daemon_factory):
    # MGMTD_SERVER_SEED_FILE ([server] seed_file) seeds a server started without
    # --seed: how a container is seeded without a config file (docs/container.md)
    secret_a, secret_b = make_mgmt_token(), make_mgmt_token()
    d = daemon_factory(seed=_seed_with_tokens(secret_a, secret_b), start=False)
    d.env["MGMTD_SERVER_SEED_FILE"] = str(d.seed_path)
    d.start(use_seed=False)
    assert "--seed" not in d.serve_argv(use_seed=False)
    assert_status(d.get(users_path(), secret_a), 200)


def test_seed_flag_beats_the_seed_file_of_the_environment(daemon_factory):
    secret_a, secret_b = make_mgmt_token(), make_mgmt_token()
    d = daemon_factory(seed=_seed_with_tokens(secret_a, secret_b), start=False)
    # a seed file that would stop the start, were it the one applied
    d.env["MGMTD_SERVER_SEED_FILE"] = str(d.workdir / "no-such-seed.json")
    d.start()
    assert_status(d.get(users_path(), secret_a), 200)


def test_reseeding_does_not_resurrect_a_revoked_token(daemon_factory):
    secret_a, secret_b = make_mgmt_token(), make_mgmt_token()
    d = daemon_factory(seed=_seed_with_tokens(secret_a, secret_b))
    seeded = next(t for t in d.list_tokens() if t["tokenPrefix"] == secret_a[:9])
    assert_status(d.delete(tokens_path(token_id=seeded["id"]), d.jwt("admin")), 204)
    assert_error(d.get(tokens_path(), secret_a), 401)
    d.stop_ok()
    d.start()  # same seed, naming the same secret
    assert_error(d.get(tokens_path(), secret_a), 401)
    statuses = [t["status"] for t in d.list_tokens() if t["tokenPrefix"] == secret_a[:9]]
    assert statuses == ["revoked"]


def test_seed_creates_exactly_the_seeded_users(fresh_server):
    d = fresh_server
    emails = {u["email"] for u in ok_json(d.get(users_path(), d.jwt("admin")))}
    assert emails == {"admin@example.com", "member@example.com", "auditor@example.com",
                      "emailonly@example.com"}


# ---------------------------------------------------------------------------
# Seeds that break a rule stop the start

def _expect_refused(d, must_mention, must_not_mention=()):
    res = run_cli(d.serve_argv(), cwd=d.workdir, timeout=10)
    output = res.stdout + res.stderr
    assert res.returncode != 0, "serve accepted a bad seed:\n" + describe_cli(res)
    if must_mention:
        assert must_mention in output, "the message does not name %r:\n%s" % (
            must_mention, describe_cli(res))
    for secret in must_not_mention:
        assert secret[5:30] not in output, "the message echoes a secret:\n" + describe_cli(res)
    return res


def _bad_seed_cases():
    def token_entry(secret, **kw):
        e = {"accountId": ACCOUNT_A, "description": "bad", "accessToken": secret,
             "createdBy": "admin@example.com"}
        e.update(kw)
        return e

    good_secret = make_mgmt_token()
    cases = {}

    s = default_seed()
    short = "M.V1.thisisnotavalidtoken"
    s["managementTokens"] = [token_entry(short)]
    cases["token too short"] = (s, "managementTokens[0]", [])

    s = default_seed()
    bad_sum = flip_char(make_mgmt_token(), 10)
    s["managementTokens"] = [token_entry(good_secret), token_entry(bad_sum)]
    cases["token with a bad checksum"] = (s, "managementTokens[1]", [bad_sum])

    s = default_seed()
    s["managementTokens"] = [token_entry("apiv1_" + "A" * 86)]
    cases["database token as management token"] = (s, "managementTokens[0]", [])

    s = default_seed()
    s["managementTokens"] = [token_entry(make_mgmt_token(), accountId=UNKNOWN_ACCOUNT)]
    cases["token in an unknown account"] = (s, "managementTokens[0]", [])

    s = default_seed()
    s["managementTokens"] = [token_entry(make_mgmt_token(), createdBy="nobody@example.com")]
    cases["token created by an unknown user"] = (s, "managementTokens[0]", [])

    s = default_seed()
    s["users"].append({"accountId": UNKNOWN_ACCOUNT, "email": "lost@example.com", "group": "member"})
    cases["user in an unknown account"] = (s, "users[%d]" % (len(s["users"]) - 1), [])

    s = default_seed()
    s["users"].insert(0, {"accountId": ACCOUNT_A, "email": "x@example.com", "group": "owner"})
    cases["user with a bad group"] = (s, "users[0]", [])

    s = default_seed()
    s["clusters"].append({"id": "88888888-8888-4888-8888-888888888888", "accountId": UNKNOWN_ACCOUNT,
                          "name": "orphan"})
    cases["cluster in an unknown account"] = (s, "clusters[2]", [])

    s = default_seed()
    s["accounts"].append({"id": ACCOUNT_A, "name": "Another name"})
    cases["second copy of an account with other content"] = (s, "accounts[", [])

    s = default_seed()
    s["users"][0]["idpIssuer"] = "https://nobody-trusts.test/"
    cases["user of an issuer not configured"] = (
        s, 'users[0] (admin@example.com): "idpIssuer": "https://nobody-trusts.test/" is not an '
           "identity provider of this server; give the issuer URL or the section name of one "
           "of: [idp] https://idp.test/", [])

    return cases


BAD_SEEDS = _bad_seed_cases()


@pytest.mark.parametrize("label", list(BAD_SEEDS))
def test_bad_seed_stops_the_start(daemon_factory, label):
    seed, mention, secrets = BAD_SEEDS[label]
    d = daemon_factory(seed=seed, start=False)
    _expect_refused(d, mention, secrets)


def test_malformed_seed_file_stops_the_start(daemon_factory):
    d = daemon_factory(start=False)
    d.seed_path.write_text('{"accounts": [')
    _expect_refused(d, None)


def test_missing_seed_file_stops_the_start(daemon_factory):
    d = daemon_factory(start=False)
    d.seed_path.unlink()
    _expect_refused(d, None)


def test_seed_with_a_bad_entry_after_a_good_start_keeps_the_old_state(daemon_factory):
    d = daemon_factory()
    t = d.create_token("survivor")
    d.stop_ok()
    d.seed["users"].append({"accountId": UNKNOWN_ACCOUNT, "email": "lost@example.com", "group": "member"})
    d.write_seed()
    _expect_refused(d, "users[%d]" % (len(d.seed["users"]) - 1))
    d.start(use_seed=False)
    assert_status(d.get(tokens_path(), t["accessToken"]), 200)


# ---------------------------------------------------------------------------
# Users' idpIssuer (CONTRACT 9): left out for the only provider, required with several

SECOND_IDP = "[idp second]\nissuer = https://second-idp.test/\njwks_file = %s\n"


def test_a_seeded_subject_needs_its_issuer_with_two_providers(daemon_factory):
    d = daemon_factory(start=False)
    d.config_path.write_text(d.config_path.read_text() + SECOND_IDP % d.jwks_path)
    res = _expect_refused(d, 'users[0] (admin@example.com): "idpSubject" needs an '
                             '"idpIssuer": 2 identity providers are configured')
    assert "[idp second] https://second-idp.test/" in res.stderr + res.stdout
    # named by section or URL, the seed applies, and again at the next start
    d.seed = default_seed(issuer="second")
    d.seed["users"][0]["idpIssuer"] = ISSUER
    d.write_seed()
    d.start()
    d.restart()
    listed = ok_json(d.get(users_path(), d.jwt("admin")))
    issuers = {u["email"]: u.get("idpIssuer") for u in listed}
    assert issuers["admin@example.com"] == ISSUER
    assert issuers["member@example.com"] == "https://second-idp.test/"
    assert issuers["emailonly@example.com"] is None
    # another issuer for a seeded user is other content: the start stops
    d.stop_ok()
    d.seed["users"][0]["idpIssuer"] = "second"
    d.write_seed()
    _expect_refused(d, "users[0] (admin@example.com): a user with this email exists with other "
                       "content")


def test_a_user_linked_at_its_first_sign_in_still_matches_its_seed_entry(fresh_server):
    """A seeded user without idpSubject gets one at its first sign-in (by verified email);
    the same seed at the next start is still the same user."""
    d = fresh_server
    email = "emailonly@example.com"
    ok_json(d.get(users_path(), d.idp.make_jwt(sub="linked-1", email=email)))
    d.restart()
    me = next(u for u in ok_json(d.get(users_path(), d.jwt("admin"))) if u["email"] == email)
    assert (me["idpIssuer"], me["idpSubject"]) == (ISSUER, "linked-1")
