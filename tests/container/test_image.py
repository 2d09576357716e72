"""The Dockerfile's image, built as it is and driven as an integration suite drives it
(issue 18, docs/container.md): environment only, the dev IdP's JWT, a management token
created and revoked, a restart on the same volume, the test-harness reset; and the
Testcontainers example of tests/node/ through podman's Docker-compatible socket."""
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import requests

import pgserver  # tests/tools/pgserver.py (conftest puts tests/tools on the path)
from conftest import ROOT

ACCOUNT = "11111111-1111-4111-8111-111111111111"  # config/dev-seed.json
TOKENS = "/api/v0/accounts/%s/management/tokens" % ACCOUNT
TEST_ENV = {"MGMTD_SERVER_SEED_FILE": "/seed/seed.json", "MGMTD_DEV_IDP_ENABLED": "true",
            "MGMTD_TESTING_ENABLED": "true"}
UID = 10001  # the Dockerfile's user


def dev_jwt(c, email="admin@example.com"):
    r = requests.post(c.url + "/oauth/token", data={"email": email}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def bearer(secret):
    return {"Authorization": "Bearer " + secret}


def log_messages(c):
    """The msg of every JSON log line the container wrote (MGMTD_LOG_FORMAT=json)."""
    return [json.loads(line)["msg"] for line in c.logs().splitlines()
            if line.startswith("{")]


def test_image_runs_as_a_fixed_user_with_its_state_in_a_volume(podman, image):
    inspected = json.loads(podman.out("image", "inspect", image))[0]
    config = inspected["Config"]
    assert config["User"] == "%d:%d" % (UID, UID)
    assert list(config["Volumes"]) == ["/var/lib/mgmtd"]
    assert list(config["ExposedPorts"]) == ["8080/tcp"]
    assert config["Entrypoint"] == ["/usr/bin/mgmtd", "serve"]
    assert config["StopSignal"] in ("SIGTERM", "15")
    env = dict(e.split("=", 1) for e in config["Env"])
    assert env["MGMTD_SERVER_LISTEN"] == "0.0.0.0:8080"
    assert env["MGMTD_SERVER_DATA_DIR"] == "/var/lib/mgmtd"
    # kept by Docker's image format only (podman build --format docker)
    assert "/ready" in " ".join(inspected["Healthcheck"]["Test"])


def test_runtime_stage_has_every_library_and_nothing_to_build_with(podman, image):
    def sh(script):
        return podman.run("run", "--rm", "--health-interval", "disable", "--entrypoint",
                          "/bin/sh", image, "-c", script, check=False)

    ldd = sh("ldd /usr/bin/mgmtd /usr/bin/mgmtctl")
    assert ldd.returncode == 0 and "libmicrohttpd" in ldd.stdout, ldd.stdout + ldd.stderr
    assert "not found" not in ldd.stdout, ldd.stdout
    # the build stage's tools and headers stayed behind
    tools = sh("for t in cc gcc make pkg-config ld; do command -v $t; done; "
               "dpkg-query -W -f '${Package}\\n' | grep -E -e '-dev$' -e '^(gcc|cpp|g\\+\\+)(-[0-9]+)?$' "
               "-e '^(binutils|make|build-essential|pkg-config|pkgconf)$'")
    assert tools.stdout.strip() == "", tools.stdout
    # what it installed for the programs is what they load: nothing but libraries
    listed = sh("cat /usr/share/doc/mgmtd/runtime-packages").stdout.split()
    assert "libmicrohttpd12" in listed and "libpq5" in listed, listed
    assert all(p.startswith("lib") or p == "zlib1g" for p in listed), listed
    # no configuration file is read unless the command names one (no defaults
    # written out in a file to beat testing mode's own)
    assert sh("ls -A /etc/mgmtd").stdout.strip() == ""


def test_token_revoked_in_a_container_stays_revoked_across_a_restart_until_reset(
        run, seed_file, podman):
    data = run.volume("data")
    mounts = ["%s:/var/lib/mgmtd" % data, "%s:/seed/seed.json:ro" % seed_file]
    first = run("first", env=TEST_ENV, volumes=mounts)
    first.wait_healthy()
    assert requests.get(first.url + "/health", timeout=10).status_code == 200
    # not root: the daemon's process, seen from the host
    pid = int(first.inspect("{{.State.Pid}}"))
    uids = Path("/proc/%d/status" % pid).read_text().split("Uid:")[1].split()[:2]
    assert uids == [str(UID), str(UID)], uids
    assert podman.run("healthcheck", "run", first.name, check=False).returncode == 0

    jwt = dev_jwt(first)
    r = requests.post(first.url + TOKENS, headers=bearer(jwt), timeout=10,
                      json={"description": "container ci"})
    assert r.status_code == 200, r.text
    token = r.json()
    secret, token_id = token["accessToken"], token["id"]
    assert requests.get(first.url + TOKENS, headers=bearer(secret), timeout=10).status_code == 200
    # an offline command in the container works on the volume's store beside the server
    listed = first.exec("mgmtd", "management", "list", "--account", ACCOUNT, "--format", "json")
    assert token_id in listed.stdout, listed.stdout + listed.stderr
    assert requests.delete(first.url + TOKENS + "/" + token_id, headers=bearer(jwt),
                           timeout=10).status_code == 204
    assert requests.get(first.url + TOKENS, headers=bearer(secret), timeout=10).status_code == 401

    # podman stop sends SIGTERM; a clean stop exits 0 (SIGKILL after 10 s would be 137)
    assert first.stop() == 0, first.logs()[-3000:]
    messages = log_messages(first)
    assert "SIGTERM received: stopping" in messages and messages[-1] == "stopped", messages[-5:]
    files = os.listdir(podman.out("volume", "inspect", "--format", "{{.Mountpoint}}", data))
    assert {"mgmtd.db", "token.key", "dev-idp.key"} <= set(files), files

    # a new container on the same volume: the seed again (idempotent), the token still revoked
    second = run("second", env=TEST_ENV, volumes=mounts)
    second.wait_healthy()
    assert requests.get(second.url + TOKENS, headers=bearer(secret), timeout=10).status_code == 401
    jwt = dev_jwt(second)
    tokens = requests.get(second.url + TOKENS, headers=bearer(jwt), timeout=10).json()
    assert [(t["id"], t["status"]) for t in tokens] == [(token_id, "revoked")], tokens

    # the test harness puts the store back to the seed: the token is gone
    assert requests.post(second.url + "/_test/reset", timeout=10).status_code == 204
    jwt = dev_jwt(second)
    assert requests.get(second.url + TOKENS, headers=bearer(jwt), timeout=10).json() == []
    assert requests.get(second.url + TOKENS + "/" + token_id, headers=bearer(jwt),
                        timeout=10).status_code == 404
    assert second.stop() == 0


def test_testing_mode_in_the_container_never_throttles_bad_credentials(run, seed_file):
    # Environment only: no configuration file writes out [auth] failed_auth_* and
    # so keeps throttling on (docs/configuration.md); 25 refusals stay 401s.
    c = run("throttle", env=dict(TEST_ENV, MGMTD_SERVER_DATA_DIR=":memory:"),
            volumes=["%s:/seed/seed.json:ro" % seed_file])
    c.wait_healthy()
    bad = "M.V1." + "A" * 49
    statuses = {requests.get(c.url + TOKENS, headers=bearer(bad), timeout=10).status_code
                for _ in range(25)}
    assert statuses == {401}


def test_without_the_test_devices_the_image_has_neither(run, seed_file):
    c = run("plain", volumes=["%s:/seed/seed.json:ro" % seed_file],
            env={"MGMTD_SERVER_SEED_FILE": "/seed/seed.json"})
    c.wait_healthy()
    assert requests.post(c.url + "/oauth/token", data={"email": "admin@example.com"},
                         timeout=10).status_code == 404
    assert requests.post(c.url + "/_test/reset", timeout=10).status_code == 404


def test_image_keeps_its_store_on_postgresql(run, seed_file):
    # libpq and its libraries came along: a store on a PostgreSQL server of the test's
    # own (on the host's loopback, so the container shares the host's network)
    srv = pgserver.PgServer()
    try:
        srv.start()
        srv.create_database("mgmtd")
        env = dict(TEST_ENV, MGMTD_STORE_BACKEND="postgres",
                   MGMTD_STORE_POSTGRES_URL=srv.url("mgmtd"))
        c = run("postgres", env=env, volumes=["%s:/seed/seed.json:ro" % seed_file],
                host_network=True)
        c.wait_healthy()
        jwt = dev_jwt(c)
        r = requests.post(c.url + TOKENS, headers=bearer(jwt), timeout=10,
                          json={"description": "on postgres"})
        assert r.status_code == 200, r.text
        stored = srv.psql("SELECT count(*) FROM management_tokens "
                          "WHERE description = 'on postgres'", db="mgmtd")
        assert stored.split() == ["1"], stored
        assert c.stop() == 0
    finally:
        srv.remove()


def test_testcontainers_runs_the_readme_curl_quickstart(podman, image):
    node_dir = ROOT / "tests" / "node"
    assert (node_dir / "node_modules" / "testcontainers").is_dir(), \
        "npm packages missing: `make deps` installs them into tests/node"
    with tempfile.TemporaryDirectory(prefix="mgmtd-podman.") as tmp:
        sock = os.path.join(tmp, "podman.sock")
        with podman.service(sock):
            env = {k: v for k, v in os.environ.items() if not k.startswith("MGMTD_")}
            env.update(MGMTD_IMAGE=image, DOCKER_HOST="unix://" + sock,
                       TESTCONTAINERS_RYUK_DISABLED="true",
                       TESTCONTAINERS_HOST_OVERRIDE="127.0.0.1")
            res = subprocess.run(["node", "--test", "container_quickstart.test.mjs"],
                                 cwd=node_dir, env=env, capture_output=True, text=True,
                                 timeout=300)
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-3000:]
    assert re.search(r"^# pass 2$", res.stdout, re.M), res.stdout  # quickstart, tenants
