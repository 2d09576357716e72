"""Clusters: read-only, per account (CONTRACT 5)."""

import pytest

from conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    CLUSTER_A,
    CLUSTER_B,
    RFC3339_MS,
    allow_set,
    assert_error,
    clusters_path,
    ok_json,
)

CLUSTER_KEYS = {"id", "accountId", "name", "state", "url", "createdAt"}


def check_cluster_a(c):
    assert set(c) == CLUSTER_KEYS, c
    assert c["id"] == CLUSTER_A
    assert c["accountId"] == ACCOUNT_A
    assert c["name"] == "cluster-a"
    assert c["state"] == "ready"
    assert isinstance(c["url"], str) and c["url"], c
    assert RFC3339_MS.match(c["createdAt"]), c


@pytest.mark.parametrize("who", ["admin", "member", "auditor", "emailonly", "token"])
def test_every_principal_lists_and_reads_clusters(server, who):
    cred = server.create_token("cluster reader")["accessToken"] if who == "token" else server.jwt(who)
    listed = ok_json(server.get(clusters_path(), cred))
    assert isinstance(listed, list) and len(listed) == 1
    check_cluster_a(listed[0])
    one = ok_json(server.get(clusters_path(cluster_id=CLUSTER_A), cred))
    assert one == listed[0]


def test_account_b_sees_its_own_cluster(server):
    listed = ok_json(server.get(clusters_path(ACCOUNT_B), server.jwt("admin_b")))
    assert [c["id"] for c in listed] == [CLUSTER_B]
    assert listed[0]["accountId"] == ACCOUNT_B
    assert listed[0]["name"] == "cluster-b"
    assert listed[0]["state"] == "ready"


def test_cluster_of_another_account_is_404(server):
    for cred in (server.jwt("admin"), server.create_token("x")["accessToken"]):
        assert_error(server.get(clusters_path(ACCOUNT_A, CLUSTER_B), cred), 404)
    assert_error(server.get(clusters_path(ACCOUNT_B, CLUSTER_A), server.jwt("admin_b")), 404)


@pytest.mark.parametrize("cluster_id", ["55555555-5555-4555-8555-555555555555", "not-a-uuid", "1"])
def test_unknown_or_malformed_cluster_is_404(server, cluster_id):
    assert_error(server.get(clusters_path(cluster_id=cluster_id), server.jwt("admin")), 404)


def test_jwt_of_another_account_is_403(server):
    assert_error(server.get(clusters_path(ACCOUNT_B), server.jwt("admin")), 403, contains="not provisioned")
    assert_error(server.get(clusters_path(ACCOUNT_B, CLUSTER_B), server.jwt("member")), 403,
                 contains="not provisioned")


def test_clusters_are_read_only(server):
    admin = server.jwt("admin")
    r = server.post(clusters_path(), admin, json={"name": "new"})
    assert_error(r, 405)
    assert "GET" in allow_set(r)
    assert "POST" not in allow_set(r)
    r = server.delete(clusters_path(cluster_id=CLUSTER_A), admin)
    assert_error(r, 405)
    assert "GET" in allow_set(r)
    assert "DELETE" not in allow_set(r)
