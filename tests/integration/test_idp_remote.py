"""Identity providers over HTTP (CONTRACT 8 [idp]): jwks_url, discovery, key types, key
rotation, an IdP that goes down, several issuers, the verified-JWT cache, SIGHUP."""

import json
import threading

import pytest

from conftest import (
    ACCOUNT_A,
    AUDIENCE,
    ISSUER,
    JwksServer,
    assert_error,
    assert_no_content,
    assert_status,
    default_seed,
    ok_json,
    remote_idp_config,
    users_path,
    wait_for,
)

PATH = users_path()  # admins may read it


def remote_daemon(daemon_factory, srv, source="url", wait_ready=True, extra=""):
    """A daemon whose only identity provider is srv."""
    return daemon_factory(idp_section=False, wait_ready=wait_ready,
                          config_extra=remote_idp_config(srv, source) + extra)


def ready(d):
    return d.get("/ready")


# ---------------------------------------------------------------------------
# Key types and forms

@pytest.mark.parametrize("kind", ["rsa", "rsa384", "rsa512", "ec256", "ec384"])
@pytest.mark.parametrize("form", ["params", "x5c", "both"])
def test_key_types_and_forms_verify(daemon_factory, jwks_server, kind, form):
    jwks_server.add_key("k", kind=kind, form=form)
    d = remote_daemon(daemon_factory, jwks_server)
    users = ok_json(d.get(PATH, jwks_server.make_jwt("k")))
    assert any(u["email"] == "admin@example.com" for u in users)
    # a key outside the JWKS claiming the same kid is refused
    jwks_server.add_key("rogue", kind=kind, publish=False)
    jwks_server.keys["k"], real = jwks_server.keys["rogue"], jwks_server.keys["k"]
    forged = jwks_server.make_jwt("k")
    jwks_server.keys["k"] = real
    assert_error(d.get(PATH, forged), 401)


def test_ready_and_answers_follow_the_first_fetch(daemon_factory, jwks_server):
    jwks_server.add_key("k1")
    jwks_server.status = 503
    d = remote_daemon(daemon_factory, jwks_server, wait_ready=False)
    # never loaded: not ready, and a JWT cannot be judged yet (503, not 401)
    wait_for(lambda: jwks_server.fetches() >= 1, 10, "the first JWKS fetch", d)
    body = assert_error(ready(d), 503)
    assert "not loaded" in body["message"] and jwks_server.issuer in body["message"]
    assert_error(d.get(PATH, jwks_server.make_jwt("k1")), 503, contains="retry")
    assert "no keys yet" in d.log_since_start()
    # the IdP comes back: a reload fetches at once
    jwks_server.status = 200
    d.reload()
    assert ok_json(ready(d)) == {"status": "ready"}
    assert_status(d.get(PATH, jwks_server.make_jwt("k1")), 200)


def test_idp_refusing_connections_at_start_then_up(daemon_factory, jwks_server):
    jwks_server.add_key("k1")
    jwks_server.stop()
    d = remote_daemon(daemon_factory, jwks_server, wait_ready=False)
    wait_for(lambda: "no keys yet" in d.log_since_start(), 10, "the failed fetch", d)
    assert_error(ready(d), 503)
    jwks_server.start()  # same port
    # the background retry (1, 2, 4 ... s) gets there by itself
    wait_for(lambda: ready(d).status_code == 200, 20, "/ready after the IdP came up", d)
    assert_status(d.get(PATH, jwks_server.make_jwt("k1")), 200)


# ---------------------------------------------------------------------------
# Rotation, unknown kids, an IdP that goes down

def test_rotation_without_restart(daemon_factory, jwks_server):
    jwks_server.add_key("old")
    d = remote_daemon(daemon_factory, jwks_server)
    old_token = jwks_server.make_jwt("old")
    assert_status(d.get(PATH, old_token), 200)
    assert_status(d.get(PATH, old_token), 200)  # served from the verified-JWT cache

    # the IdP rotates: a new kid, the old one gone
    jwks_server.add_key("new", kind="ec256", publish=False)
    jwks_server.publish_only("new")
    before = jwks_server.fetches()
    assert_status(d.get(PATH, jwks_server.make_jwt("new")), 200)
    assert jwks_server.fetches() == before + 1, "the unknown kid fetched the keys once"
    # the old key is gone: its JWT, cached or not, no longer passes
    assert_error(d.get(PATH, old_token), 401)
    assert_error(d.get(PATH, jwks_server.make_jwt("old")), 401)
    assert "replacing the previous set" in d.log_since_start()


def test_unknown_kids_fetch_once_per_interval_and_share_it(daemon_factory, jwks_server):
    jwks_server.add_key("k1")
    d = remote_daemon(daemon_factory, jwks_server)
    wait_for(lambda: jwks_server.fetches() >= 1, 10, "the first fetch", d)
    before = jwks_server.fetches()
    # many requests at once with kids nobody published: one fetch between them
    jwks_server.add_key("ghost", publish=False)
    tokens = [jwks_server.make_jwt("ghost") for _ in range(8)]
    results = [None] * len(tokens)

    def call(i):
        results[i] = d.request("GET", PATH, tokens[i], timeout=30).status_code

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(tokens))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [401] * len(tokens)
    assert jwks_server.fetches() == before + 1
    # within 30 s of that fetch, another unknown kid fetches nothing
    jwks_server.add_key("ghost-2", publish=False)
    assert_error(d.get(PATH, jwks_server.make_jwt("ghost-2")), 401,
                 contains="unknown key")
    assert jwks_server.fetches() == before + 1
    # known keys never fetch
    assert_status(d.get(PATH, jwks_server.make_jwt("k1")), 200)
    assert jwks_server.fetches() == before + 1


def test_idp_down_keeps_the_last_good_keys(daemon_factory, jwks_server):
    jwks_server.add_key("k1")
    d = remote_daemon(daemon_factory, jwks_server)
    token = jwks_server.make_jwt("k1")
    assert_status(d.get(PATH, token), 200)

    jwks_server.status = 500
    d.reload()  # forces a refetch, which fails
    body = ok_json(ready(d))
    assert body["status"] == "ready"
    assert body["staleIssuers"] == [jwks_server.issuer]
    assert "stale" in body["detail"] and jwks_server.issuer in body["detail"]
    assert "HTTP status 500" in body["detail"]
    assert "STALE" in d.log_since_start()
    # the last good set still verifies, fresh JWTs too
    assert_status(d.get(PATH, token), 200)
    assert_status(d.get(PATH, jwks_server.make_jwt("k1")), 200)

    # down hard: connections refused
    jwks_server.stop()
    d.reload()
    assert ok_json(ready(d))["staleIssuers"] == [jwks_server.issuer]
    assert_status(d.get(PATH, jwks_server.make_jwt("k1")), 200)

    jwks_server.start()
    jwks_server.status = 200
    d.reload()
    assert ok_json(ready(d)) == {"status": "ready"}
    assert "fresh again" in d.log_since_start()


def test_cache_control_is_logged_within_bounds(daemon_factory, jwks_server):
    jwks_server.add_key("k1")
    jwks_server.cache_control = "public, max-age=5"  # below the minimum of 60 s
    d = remote_daemon(daemon_factory, jwks_server)
    d.stop_ok()
    d.env["MGMTD_LOG_LEVEL"] = "debug"
    d.start()
    wait_for(lambda: "keys kept" in d.log_since_start(), 10, "the debug line", d)
    assert "keys kept 60 s" in d.log_since_start()
    jwks_server.cache_control = "max-age=9999999"
    d.reload()
    assert "keys kept 86400 s" in d.log_since_start()
    jwks_server.cache_control = None
    d.reload()
    assert "keys kept 300 s" in d.log_since_start()


# ---------------------------------------------------------------------------
# Discovery

def test_discovery_finds_the_jwks(daemon_factory, jwks_server):
    jwks_server.add_key("k1", kind="ec256")
    d = remote_daemon(daemon_factory, jwks_server, source="discovery")
    assert_status(d.get(PATH, jwks_server.make_jwt("k1")), 200)
    assert jwks_server.fetches(JwksServer.DISCOVERY_PATH) >= 1
    assert jwks_server.fetches() >= 1
    # SIGHUP asks the discovery document again
    before = jwks_server.fetches(JwksServer.DISCOVERY_PATH)
    d.reload()
    assert jwks_server.fetches(JwksServer.DISCOVERY_PATH) == before + 1


def test_discovery_with_another_issuer_is_refused(daemon_factory, jwks_server):
    jwks_server.add_key("k1")
    jwks_server.discovery_issuer = "https://impostor.example.test/"
    d = remote_daemon(daemon_factory, jwks_server, source="discovery", wait_ready=False)
    wait_for(lambda: "names another issuer" in d.log_since_start(), 10,
             "the refused discovery document", d)
    body = assert_error(ready(d), 503)
    assert "names another issuer" in body["message"]
    assert jwks_server.fetches() == 0, "keys of an unverified issuer were fetched"
    assert_error(d.get(PATH, jwks_server.make_jwt("k1")), 503)


# ---------------------------------------------------------------------------
# Several issuers

def test_several_issuers_each_with_its_own_rules(daemon_factory, idp, jwks_server):
    jwks_server.add_key("rsa-1")  # the same kid as the file IdP's key, another key
    # with two providers a subject names its issuer; admin-1 of each is another person
    seed = default_seed(issuer=ISSUER)
    seed["users"].append({"accountId": ACCOUNT_A, "email": "second@example.com",
                          "group": "member", "idpSubject": "admin-1", "idpIssuer": "second"})
    d = daemon_factory(seed=seed, config_extra=remote_idp_config(jwks_server, name="second",
                                                                 audience="api://second"))
    # the file IdP ([idp]) and the URL IdP ([idp second]) both work, each for its own user
    assert [u["email"] for u in ok_json(d.get(PATH, idp.make_jwt()))][0] == "admin@example.com"
    second = jwks_server.make_jwt("rsa-1", aud="api://second")
    assert [u["email"] for u in ok_json(d.get(PATH, second))] == ["second@example.com"]
    # each section's audience
    assert_error(d.get(PATH, jwks_server.make_jwt("rsa-1", aud=AUDIENCE)), 401,
                 contains="not meant for this service")
    # iss picks the keys: the file IdP's key cannot sign for the second issuer
    assert_error(d.get(PATH, idp.make_jwt(iss=jwks_server.issuer, aud="api://second")), 401)
    assert_error(d.get(PATH, jwks_server.make_jwt("rsa-1", iss=ISSUER)), 401)
    # an issuer nobody trusts
    assert_error(d.get(PATH, jwks_server.make_jwt("rsa-1", iss="https://other.test/")), 401,
                 contains="trusted identity provider")


def test_named_section_config_is_checked(mgmtd_bin, tmp_path, jwks_server):
    import subprocess

    cfg = tmp_path / "c.ini"
    cfg.write_text(remote_idp_config(jwks_server, name="a") +
                   "[idp b]\nissuer = %s\njwks_file = /nonexistent\n" % jwks_server.issuer)
    r = subprocess.run([mgmtd_bin, "check-config", "--config", str(cfg)], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1
    assert "[idp b] issuer: the same as in [idp a]" in r.stderr
    cfg.write_text(remote_idp_config(jwks_server, name="a") +
                   "[idp b]\nissuer = https://b.test/\njwks_file = /nonexistent\n")
    r = subprocess.run([mgmtd_bin, "check-config", "--config", str(cfg)], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1
    assert "[idp b] jwks_file /nonexistent" in r.stderr
    cfg.write_text(remote_idp_config(jwks_server, name="a"))
    r = subprocess.run([mgmtd_bin, "check-config", "--config", str(cfg)], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert "[idp a]: keys are fetched when the server runs" in r.stdout
    assert jwks_server.fetches() == 0, "check-config went to the network"


# ---------------------------------------------------------------------------
# The verified-JWT cache is about the signature, never about the user

def test_cached_jwt_of_a_deleted_user_is_refused_at_once(fresh_server, idp):
    d = fresh_server
    email = "cached@example.com"
    u = ok_json(d.post(users_path(), d.jwt("admin"),
                       json={"email": email, "group": "member", "idpSubject": "cached-1"}))
    token = idp.make_jwt(sub="cached-1")
    assert_status(d.get(users_path(user_id=u["id"]), token), 200)
    assert_status(d.get(users_path(user_id=u["id"]), token), 200)
    assert_no_content(d.delete(users_path(user_id=u["id"]), d.jwt("admin")))
    assert_error(d.get(PATH, token), 403, contains="not provisioned")


# ---------------------------------------------------------------------------
# SIGHUP

def test_sighup_reloads_the_jwks_file_without_dropping_requests(fresh_server, idp):
    from conftest import Idp

    d = fresh_server
    newer = Idp()  # other keys, same kids
    before = idp.make_jwt()
    assert_status(d.get(PATH, before), 200)
    assert_error(d.get(PATH, newer.make_jwt()), 401)

    # requests keep coming while the keys are swapped
    stop = threading.Event()
    seen = []

    def hammer():
        while not stop.is_set() and len(seen) < 2000:
            seen.append(d.get("/api/v0/accounts/%s/clusters" % ACCOUNT_A, before).status_code)

    t = threading.Thread(target=hammer)
    t.start()
    try:
        wait_for(lambda: len(seen) >= 5, 10, "the first requests", d)
        d.jwks_path.write_text(json.dumps(newer.jwks))
        d.reload()
        wait_for(lambda: len(seen) >= 10, 10, "more requests", d)
    finally:
        stop.set()
        t.join(timeout=30)
    # every answer was a real one: 200 with the old keys, then 401 once they are gone
    assert set(seen) <= {200, 401}, seen
    assert seen[0] == 200
    assert_status(d.get(PATH, newer.make_jwt()), 200)
    assert_error(d.get(PATH, idp.make_jwt()), 401)


def test_sighup_with_a_broken_file_keeps_the_keys(fresh_server, idp):
    d = fresh_server
    d.jwks_path.write_text("{not json")
    d.reload()
    assert "keeping the last good key set" in d.log_since_start()
    assert_status(d.get(PATH, idp.make_jwt()), 200)
    body = ok_json(ready(d))
    assert body["staleIssuers"] == [ISSUER]
    d.jwks_path.write_text(json.dumps(idp.jwks))
    d.reload()
    assert ok_json(ready(d)) == {"status": "ready"}
