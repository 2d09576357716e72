"""Failed-authentication throttling per client address ([auth] failed_auth_*)."""
import json
import time
from pathlib import Path

import pytest

from conftest import (
    ACCOUNT_A,
    assert_error,
    assert_status,
    clusters_path,
    make_mgmt_token,
    ok_json,
    users_path,
)

THROTTLED = "[auth]\nfailed_auth_burst = 3\nfailed_auth_per_minute = 60\n"


@pytest.fixture
def throttled(daemon_factory):
    return daemon_factory(config_extra=THROTTLED)


def bad(d):
    return d.get(users_path(), make_mgmt_token())


def test_burst_then_429_with_retry_after(throttled):
    d = throttled
    for _ in range(3):
        assert_error(bad(d), 401)
    r = bad(d)
    body = assert_error(r, 429, "retry")
    retry = r.headers.get("Retry-After")
    assert retry is not None and retry.isdigit(), r.headers
    assert 1 <= int(retry) <= 60
    assert retry in body["message"]
    # every kind of refused credential counts, malformed ones too
    assert_error(d.get(users_path(), "M.V1.short"), 429)
    assert_error(d.get(users_path(), None), 429)


def test_good_credentials_are_never_throttled(throttled):
    d = throttled
    token = d.create_token("throttle")["accessToken"]
    for _ in range(5):
        bad(d)
    assert_status(bad(d), 429)
    # the same address, good credentials: served as usual, both kinds
    ok_json(d.get(clusters_path(), token))
    ok_json(d.get(users_path(), d.jwt("admin")))
    ok_json(d.post(users_path(), token, json={"email": "t@example.com", "group": "member"}))
    # public endpoints need no credential and are not throttled
    ok_json(d.get("/health"))


def test_successes_spend_nothing(throttled):
    d = throttled
    token = d.create_token("busy")["accessToken"]
    for _ in range(40):
        ok_json(d.get(clusters_path(), token))
    for _ in range(3):
        assert_error(bad(d), 401)


def test_credit_comes_back(throttled):
    d = throttled
    for _ in range(3):
        bad(d)
    r = bad(d)
    assert_status(r, 429)
    time.sleep(int(r.headers["Retry-After"]) + 0.2)
    assert_error(bad(d), 401)


def test_forbidden_is_not_a_failed_authentication(throttled):
    """A valid JWT of someone not provisioned (403), or a token of another account
    (404), is a good credential: it does not spend credits."""
    d = throttled
    stranger = d.make_jwt_for_subject("nobody-here")
    for _ in range(6):
        assert_error(d.get(users_path(), stranger), 403)
    for _ in range(3):
        assert_error(bad(d), 401)


def test_throttling_off(daemon_factory):
    d = daemon_factory(config_extra="[auth]\nfailed_auth_burst = 0\n")
    for _ in range(30):
        assert_error(bad(d), 401)


def test_bad_throttle_config_is_refused(daemon_factory):
    d = daemon_factory(config_extra="[auth]\nfailed_auth_per_minute = 0\n", start=False)
    res = d.cli("check-config")
    assert res.returncode == 1, res.stderr
    assert "failed_auth_per_minute" in res.stderr


# Defaults: production throttles after 20 refusals; testing mode does not
# throttle unless [auth] failed_auth_* is set (docs/configuration.md).

TESTING = "[testing]\nenabled = true\n"


def test_production_default_throttles_after_20(daemon_factory):
    d = daemon_factory(throttle_off=False)
    for _ in range(20):
        assert_error(bad(d), 401)
    assert_error(bad(d), 429)


def test_testing_mode_default_never_throttles(daemon_factory):
    d = daemon_factory(config_extra=TESTING, throttle_off=False)
    for _ in range(100):
        assert_error(bad(d), 401)
    assert "throttling is off in testing mode" in d.log_since_start()


def test_testing_mode_with_explicit_burst_throttles(daemon_factory):
    d = daemon_factory(config_extra=TESTING + THROTTLED, throttle_off=False)
    for _ in range(3):
        assert_error(bad(d), 401)
    assert_error(bad(d), 429)


def test_testing_mode_explicit_burst_from_environment(daemon_factory):
    d = daemon_factory(config_extra=TESTING, throttle_off=False,
                       env={"MGMTD_AUTH_FAILED_AUTH_BURST": "2"})
    for _ in range(2):
        assert_error(bad(d), 401)
    assert_error(bad(d), 429)


def test_make_run_config_never_throttles(daemon_factory):
    """config/dev.ini, as `make run` uses it, answers every bad credential with 401."""
    root = Path(__file__).resolve().parents[2]
    d = daemon_factory(start=False, data_dir=":memory:")
    d.config_path.write_text((root / "config" / "dev.ini").read_text())
    d.seed = json.loads((root / "config" / "dev-seed.json").read_text())
    d.write_seed()
    d.start()
    for _ in range(50):
        assert_error(bad(d), 401)
