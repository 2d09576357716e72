"""The test harness's small client modules (tests/clients/, docs/testing.md), used as a
suite would use them: the Python one in the tests here, the Node one's own test file run
with `node --test` against the same kind of server."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
sys.path.insert(0, str(CLIENTS))

from mgmtd_testing import Harness, HarnessError  # noqa: E402

TESTING = "[testing]\nenabled = true\n[dev_idp]\nenabled = true\n"


@pytest.fixture
def server(daemon_factory):
    return daemon_factory(seed=False, config_extra=TESTING)


@pytest.fixture
def harness(server):
    return Harness(server.url(""))


def list_with_one_retry(t):
    """The code under test: a client that retries a 503 once."""
    for tries in range(2):
        r = requests.get(t.url("/databases"), headers=t.headers(), timeout=10)
        if r.status_code != 503 or tries == 1:
            return r.json()


def test_a_retry_gets_through_one_503(harness):
    t = harness.tenant(databases=[{"name": "mydb"}])
    with harness.faults({"method": "GET", "path": "/*/databases", "status": 503,
                         "times": 1}) as faults:
        dbs = list_with_one_retry(t)
        assert faults.applied() == [1]
    assert [d["name"] for d in dbs] == ["mydb"]
    assert harness.verify(2, route=Harness.DATABASES) == 2
    with pytest.raises(HarnessError, match="expected 3 of any"):
        harness.verify(3, route=Harness.DATABASES)
    t.delete()
    with pytest.raises(HarnessError, match="404"):
        t.delete()


def test_time_and_the_admin(harness):
    t = harness.tenant()
    assert requests.get(t.account_url("/users"), headers=t.headers(t.admin_jwt()),
                        timeout=10).json()[0]["email"] == t.admin_email
    frozen = harness.freeze("2030-01-01T00:00:00Z")
    assert frozen["now"] == "2030-01-01T00:00:00.000Z"
    assert harness.advance("36h")["now"] == "2030-01-02T12:00:00.000Z"
    harness.real_clock()


def test_a_snapshot_takes_the_tenant_back(harness):
    t = harness.tenant(databases=[{"name": "mydb"}])
    harness.snapshot("ready", t)
    for scratch in ("one", "two"):
        harness.restore("ready")
        requests.post(t.url("/databases"), headers=t.headers(), json={"name": scratch},
                      timeout=10).raise_for_status()
        dbs = requests.get(t.url("/databases"), headers=t.headers(), timeout=10).json()
        assert sorted(d["name"] for d in dbs) == ["mydb", scratch]
    assert set(harness.export("ready")) == {"snapshot"}
    harness.drop_snapshot("ready")
    with pytest.raises(HarnessError, match="404 no snapshot named ready"):
        harness.restore("ready")


def test_the_node_client(server):
    res = subprocess.run(["node", "--test", "example.test.mjs"], cwd=CLIENTS,
                         env=dict(os.environ, MGMTD_URL=server.url("")),
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "# pass 2" in res.stdout and "# fail 0" in res.stdout, res.stdout
