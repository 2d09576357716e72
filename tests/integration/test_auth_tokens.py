"""Authorization header handling and management-token credentials (CONTRACT 1, 3)."""

import pytest

from conftest import (
    ACCOUNT_B,
    CLUSTER_A,
    CLUSTER_B,
    assert_error,
    assert_status,
    clusters_path,
    flip_char,
    make_mgmt_token,
    mgmt_token_checksum_ok,
    ok_json,
    tokens_path,
    users_path,
)

ROUTES = [tokens_path(), users_path(), clusters_path(), clusters_path(cluster_id=CLUSTER_A)]


@pytest.mark.parametrize("path", ROUTES)
def test_no_authorization_header_is_401(server, path):
    assert_error(server.get(path), 401)


@pytest.mark.parametrize("value", [
    "Basic dXNlcjpwYXNzd29yZA==",
    "Bearer",
    "Bearer ",
    "Bearer    ",
    "Bearer garbage",
    "Bearer M.V1.",
    "Bearer M.V1.short",
    "Bearer apiv1_" + "A" * 86,
    "Digest username=x",
    "",
    "M.V1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
])
def test_bad_authorization_values_are_401(server, value):
    r = server.get(tokens_path(), headers={"Authorization": value})
    assert_error(r, 401)


def test_valid_token_without_bearer_scheme_is_401(server):
    secret = server.create_token("scheme")["accessToken"]
    assert_status(server.get(tokens_path(), secret), 200)
    assert_error(server.get(tokens_path(), headers={"Authorization": secret}), 401)
    assert_error(server.get(tokens_path(), headers={"Authorization": "Basic " + secret}), 401)
    assert_error(server.get(tokens_path(), headers={"Authorization": "Token " + secret}), 401)


def test_token_with_a_flipped_character_is_401(server):
    secret = server.create_token("to mangle")["accessToken"]
    assert_status(server.get(tokens_path(), secret), 200)
    for pos in (5, 20, 47, 48, 53):  # body start, middle, end; checksum start, end
        mangled = flip_char(secret, pos)
        assert mangled != secret
        assert not mgmt_token_checksum_ok(mangled)
        assert_error(server.get(tokens_path(), mangled), 401)
    # truncated, extended, case-changed mark
    assert_error(server.get(tokens_path(), secret[:-1]), 401)
    assert_error(server.get(tokens_path(), secret + "A"), 401)
    assert_error(server.get(tokens_path(), "m.v1." + secret[5:]), 401)
    # the real one still works afterwards
    assert_status(server.get(tokens_path(), secret), 200)


def test_unknown_well_formed_token_is_401(server):
    token = make_mgmt_token()
    assert mgmt_token_checksum_ok(token)
    for path in ROUTES:
        assert_error(server.get(path, token), 401)


def test_revoked_token_is_401_everywhere(server):
    t = server.create_token("revoke me")
    secret = t["accessToken"]
    for path in ROUTES:
        assert_status(server.get(path, secret), 200)
    assert_status(server.delete(tokens_path(token_id=t["id"]), server.jwt("admin")), 204)
    for path in ROUTES + [tokens_path(token_id=t["id"])]:
        assert_error(server.get(path, secret), 401)
    assert_error(server.post(tokens_path(), secret, json={"description": "x"}), 401)
    assert_error(server.post(users_path(), secret, json={"email": "x@example.com", "group": "member"}), 401)


def test_management_token_reads_its_own_account(server):
    secret = server.create_token("reader")["accessToken"]
    users = ok_json(server.get(users_path(), secret))
    assert {"admin@example.com", "member@example.com", "auditor@example.com"} <= {u["email"] for u in users}
    clusters = ok_json(server.get(clusters_path(), secret))
    assert [c["id"] for c in clusters] == [CLUSTER_A]


def test_management_token_of_a_is_404_in_b(server):
    secret = server.create_token("stay home")["accessToken"]
    for path in (tokens_path(ACCOUNT_B), users_path(ACCOUNT_B), clusters_path(ACCOUNT_B),
                 clusters_path(ACCOUNT_B, CLUSTER_B), users_path(ACCOUNT_B, server.user_id("admin_b"))):
        assert_error(server.get(path, secret), 404)
    assert_error(server.post(users_path(ACCOUNT_B), secret,
                             json={"email": "intruder@example.com", "group": "admin"}), 404)
    assert "intruder@example.com" not in [u["email"] for u in
                                          ok_json(server.get(users_path(ACCOUNT_B), server.jwt("admin_b")))]
