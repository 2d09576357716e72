"""GET /metrics: off unless [metrics] enabled, Prometheus text that `promtool check metrics`
accepts, counters that move with requests, gauges of tokens by state, and a listener of
its own with [metrics] listen."""

import re
import subprocess

import pytest
import requests

from conftest import (
    HTTP_TIMEOUT,
    assert_error,
    assert_no_content,
    make_mgmt_token,
    ok_json,
    tokens_path,
    wait_for,
)

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})? (\S+)$')


def parse(text):
    """{(name, frozenset(labels)): value} of every sample."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def promtool_check(text):
    res = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, "promtool check metrics:\n%s%s" % (res.stdout, res.stderr)
    assert res.stdout.strip() == "" and res.stderr.strip() == "", res.stdout + res.stderr


@pytest.fixture
def metered(daemon_factory):
    return daemon_factory(config_extra="[metrics]\nenabled = true\n")


def scrape(d):
    r = d.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return r.text


def test_off_unless_enabled(server):
    assert_error(server.get("/metrics"), 404)


def test_promtool_accepts_it_and_counters_move(metered):
    d = metered
    route = "/api/v0/accounts/{accountId}/management/tokens"
    first = scrape(d)
    promtool_check(first)
    before = parse(first)

    tok = d.create_token("metered")
    for _ in range(3):
        ok_json(d.get(tokens_path(), tok["accessToken"]))
    assert_error(d.get(tokens_path(), make_mgmt_token()), 401)
    assert_error(d.get(tokens_path(), "M.V1.short"), 401)
    revoked = d.create_token("revoked")
    assert_no_content(d.delete(tokens_path(token_id=revoked["id"]), tok["accessToken"]))
    assert_error(d.get("/no/such/path"), 404)

    text = scrape(d)
    promtool_check(text)
    after = parse(text)
    grew = lambda name, n=1, **l: value(after, name, **l) - value(before, name, **l) >= n  # noqa
    assert grew("mgmtd_http_requests_total", 3, method="GET", route=route, status="200")
    assert grew("mgmtd_http_requests_total", 1, method="GET", route=route, status="401")
    assert grew("mgmtd_http_requests_total", 2, method="POST", route=route, status="200")
    assert grew("mgmtd_http_requests_total", 1, method="", route="(no route)", status="404")
    assert grew("mgmtd_http_request_duration_seconds_count", 5, method="GET", route=route)
    assert value(after, "mgmtd_http_request_duration_seconds_bucket", method="GET", route=route,
                 le="+Inf") == value(after, "mgmtd_http_request_duration_seconds_count",
                                     method="GET", route=route)
    assert grew("mgmtd_authentications_total", 3, kind="management_token", result="ok")
    assert grew("mgmtd_authentications_total", 1, kind="management_token", result="unknown")
    assert grew("mgmtd_authentications_total", 1, kind="management_token", result="malformed")
    assert grew("mgmtd_authentications_total", 2, kind="jwt", result="ok")
    assert value(after, "mgmtd_tokens", kind="management", state="active") >= 1
    assert value(after, "mgmtd_tokens", kind="management", state="revoked") >= 1
    assert value(after, "mgmtd_ready") == 1
    assert value(after, "mgmtd_http_requests_in_flight") >= 1  # this scrape
    assert any(k[0] == "mgmtd_build_info" for k in after)
    # nothing of a client's path or credential becomes a label
    assert "short" not in text and "/no/such/path" not in text


def test_jwks_fetches_and_throttling_are_counted(daemon_factory, jwks_server):
    from conftest import remote_idp_config

    jwks_server.add_key("k1")
    d = daemon_factory(idp_section=False,
                       config_extra=remote_idp_config(jwks_server) + "[metrics]\nenabled = true\n")
    samples = parse(scrape(d))
    assert value(samples, "mgmtd_jwks_fetches_total", result="ok") >= 1
    jwks_server.status = 500
    d.reload()
    samples = parse(scrape(d))
    assert value(samples, "mgmtd_jwks_fetches_total", result="error") >= 1


def test_throttled_requests_are_counted(daemon_factory):
    d = daemon_factory(start=False, config_extra="[metrics]\nenabled = true\n")
    # conftest turns throttling off; this test turns it on again with a small burst
    d.config_path.write_text(d.config_path.read_text().replace("failed_auth_burst = 0",
                                                               "failed_auth_burst = 2"))
    d.start()
    bad = make_mgmt_token()
    codes = [d.get(tokens_path(), bad).status_code for _ in range(4)]
    assert 429 in codes, codes
    samples = parse(scrape(d))
    assert value(samples, "mgmtd_throttled_requests_total") >= 1
    assert value(samples, "mgmtd_throttled_addresses") >= 1


def test_a_listener_of_its_own(daemon_factory):
    d = daemon_factory(config_extra="[metrics]\nenabled = true\nlisten = 127.0.0.1:0\n")
    m = re.search(r"serving /metrics on http://127\.0\.0\.1:(\d+)", d.log_since_start())
    assert m, d.log_tail()
    base = "http://127.0.0.1:%s" % m.group(1)
    r = requests.get(base + "/metrics", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200
    promtool_check(r.text)
    # it serves /metrics and nothing else; the main listener has no /metrics then
    for path in ("/health", "/api/v0/accounts/x/management/tokens"):
        assert requests.get(base + path, timeout=HTTP_TIMEOUT).status_code == 404
    assert requests.post(base + "/metrics", timeout=HTTP_TIMEOUT).status_code in (404, 405)
    assert_error(d.get("/metrics"), 404)
    assert d.get("/health").status_code == 200


@pytest.mark.sqlite_only  # SQLite's file lock and its busy handler; PostgreSQL waits by itself
def test_store_busy_waits_are_counted(metered):
    """Another process holds the database's write lock for a moment: the create waits
    (busy retries) and then succeeds."""
    import sqlite3
    import threading
    import time

    d = metered
    before = value(parse(scrape(d)), "mgmtd_store_busy_retries_total")
    other = sqlite3.connect(str(d.data_dir / "mgmtd.db"), isolation_level=None, timeout=5)
    other.execute("BEGIN IMMEDIATE")
    done = {}

    def create():
        done["resp"] = d.post(tokens_path(), d.jwt(), json={"description": "waits"})

    t = threading.Thread(target=create)
    t.start()
    time.sleep(0.5)
    other.execute("COMMIT")
    other.close()
    t.join(timeout=HTTP_TIMEOUT)
    assert done["resp"].status_code == 200, done["resp"].text
    assert value(parse(scrape(d)), "mgmtd_store_busy_retries_total") > before
