"""Clusters: read-only, per account (CONTRACT 5)."""

import subprocess

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
    default_seed,
    ok_json,
)
from ctl import Ctl, mgmtctl_bin  # noqa: F401

CLUSTER_KEYS = {"id", "accountId", "name", "state", "url", "createdAt", "category"}


def check_cluster_a(c):
    assert set(c) == CLUSTER_KEYS, c
    assert c["id"] == CLUSTER_A
    assert c["accountId"] == ACCOUNT_A
    assert c["name"] == "cluster-a"
    assert c["state"] == "ready"
    assert isinstance(c["url"], str) and c["url"], c
    assert RFC3339_MS.match(c["createdAt"]), c
    assert c["category"] == 1, c  # the docs' one cluster; a seed without "category"


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


def test_a_seed_sets_the_category_and_influxctl_shows_it(daemon_factory, mgmtctl_bin, tmp_path):
    # `influxctl cluster get --format json` prints "category": 1; the names behind the
    # numbers are not documented, so a seed may give any from 0 (docs/api.md, Clusters)
    seed = default_seed()
    seed["clusters"][0]["category"] = 4
    d = daemon_factory(seed=seed)
    assert ok_json(d.get(clusters_path(cluster_id=CLUSTER_A), d.jwt("admin")))["category"] == 4
    ctl = Ctl(mgmtctl_bin, d, tmp_path / "home", token=d.create_token("ctl")["accessToken"])
    assert ctl.json("cluster", "get", CLUSTER_A)["category"] == 4
    assert [c["category"] for c in ctl.json("cluster", "list")] == [4]
    # a seed that says otherwise on a restart is refused, as for any other field
    d.stop_ok()
    seed["clusters"][0]["category"] = 2
    d.write_seed()
    res = subprocess.run(d.serve_argv(), capture_output=True, text=True, timeout=30,
                         cwd=d.workdir, env=d.env)
    assert res.returncode != 0
    assert "already exists with other content" in res.stdout + res.stderr


@pytest.mark.parametrize("bad", [-1, 2 ** 31, "1", 1.5, None])
def test_a_seed_category_that_is_no_small_integer_is_refused(daemon_factory, bad):
    seed = default_seed()
    seed["clusters"][0]["category"] = bad
    d = daemon_factory(seed=seed, start=False)
    d.write_seed()
    proc = subprocess.run(d.serve_argv(), capture_output=True, text=True, timeout=30,
                          cwd=d.workdir, env=d.env)
    assert proc.returncode != 0
    assert '"category" must be an integer from 0 to 2147483647' in proc.stderr + proc.stdout
