"""Routing, health and readiness, and the shape of every error (CONTRACT 1, 5)."""

import pytest

from conftest import (
    ACCOUNT_A,
    CLUSTER_A,
    allow_set,
    assert_error,
    assert_json_ct,
    assert_status,
    clusters_path,
    ok_json,
    tokens_path,
    users_path,
)

SOME_UUID = "6e5d4c3b-2a19-4876-9543-210fedcba987"


def test_health_needs_no_credentials(server):
    r = server.get("/health")
    body = ok_json(r)
    assert body == {"status": "ok"}


def test_health_ignores_a_bad_credential(server):
    assert ok_json(server.get("/health", "garbage")) == {"status": "ok"}


def test_ready_is_200(server):
    assert_status(server.get("/ready"), 200)


@pytest.mark.parametrize("path", [
    "/nope",
    "/api",
    "/api/v0",
    "/api/v1/accounts/%s/management/tokens" % ACCOUNT_A,
    "/api/v0/accounts/%s/bogus" % ACCOUNT_A,
    "/api/v0/accounts/%s/management" % ACCOUNT_A,
    "/api/v0/accounts/%s/management/tokens/%s/extra" % (ACCOUNT_A, SOME_UUID),
    "/api/v0/accounts/%s/users/%s/extra" % (ACCOUNT_A, SOME_UUID),
    "/api/v0/accounts",
    "/healthz",
])
def test_unknown_path_is_404_json(server, path):
    assert_error(server.get(path, server.jwt("admin")), 404)


@pytest.mark.parametrize("method, path, must_allow, must_not_allow", [
    ("PUT", tokens_path(), {"GET", "POST"}, {"PUT", "DELETE"}),
    ("DELETE", tokens_path(), {"GET", "POST"}, {"DELETE"}),
    ("PATCH", tokens_path(), {"GET", "POST"}, {"PATCH"}),
    ("POST", tokens_path(token_id=SOME_UUID), {"GET", "DELETE"}, {"POST"}),
    ("PUT", tokens_path(token_id=SOME_UUID), {"GET", "DELETE"}, {"PUT"}),
    ("PUT", users_path(), {"GET", "POST"}, {"PUT"}),
    ("DELETE", users_path(), {"GET", "POST"}, {"DELETE"}),
    ("PUT", users_path(user_id=SOME_UUID), {"GET", "PATCH", "DELETE"}, {"PUT"}),
    ("POST", users_path(user_id=SOME_UUID), {"GET", "PATCH", "DELETE"}, {"POST"}),
    ("POST", clusters_path(), {"GET"}, {"POST"}),
    ("PATCH", clusters_path(cluster_id=CLUSTER_A), {"GET"}, {"PATCH"}),
    ("POST", "/health", {"GET"}, {"POST"}),
    ("DELETE", "/ready", {"GET"}, {"DELETE"}),
])
def test_wrong_method_is_405_with_allow(server, method, path, must_allow, must_not_allow):
    r = server.request(method, path, server.jwt("admin"), json={} if method in ("POST", "PUT", "PATCH") else None)
    assert_error(r, 405)
    allowed = allow_set(r)
    assert must_allow <= allowed, "Allow: %r" % r.headers.get("Allow")
    assert not (must_not_allow & allowed), "Allow: %r" % r.headers.get("Allow")


def test_error_answers_are_json_everywhere(server):
    cases = [
        (server.get(tokens_path()), 401),
        (server.get(tokens_path(), server.jwt("member")), 403),
        (server.get("/nope", server.jwt("admin")), 404),
        (server.request("PUT", tokens_path(), server.jwt("admin")), 405),
        (server.post(tokens_path(), server.jwt("admin"), data=b"{}"), 415),
        (server.post(tokens_path(), server.jwt("admin"), data=b"{",
                     headers={"Content-Type": "application/json"}), 400),
    ]
    for r, status in cases:
        assert_error(r, status)


def test_success_answers_are_json(server):
    for path in (tokens_path(), users_path(), clusters_path()):
        r = server.get(path, server.jwt("admin"))
        assert_status(r, 200)
        assert_json_ct(r)
        assert isinstance(r.json(), list)


def test_query_string_does_not_change_routing(server):
    assert_status(server.get(users_path() + "?x=1", server.jwt("admin")), 200)
    assert ok_json(server.get("/health?verbose=1")) == {"status": "ok"}


def test_many_requests_on_one_connection(server):
    admin = server.jwt("admin")
    for _ in range(50):
        assert_status(server.get(clusters_path(), admin), 200)


def test_access_log_can_be_turned_off(daemon_factory):
    on = daemon_factory()
    off = daemon_factory(config_extra="[server]\naccess_log = false\n")
    for d in (on, off):
        ok_json(d.get("/health"))
        ok_json(d.get(clusters_path(), d.jwt("admin")))
    assert "GET /health 200" in on.log_since_start()
    text = off.log_since_start()
    assert "GET /health" not in text and "/clusters" not in text
    assert "listening on" in text  # the rest of the log is still there
