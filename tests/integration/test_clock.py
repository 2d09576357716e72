"""The suite and the daemons it starts read one wall clock, also when `make clock-ahead`
moves it decades ahead (then both must be in that future)."""
import subprocess

from conftest import assert_recent, future_year, now_utc, parse_ts


def test_daemon_and_suite_share_the_clock(server, clock_ahead):
    created = server.create_token("clock")
    assert_recent(created["createdAt"], slack_s=120)
    if clock_ahead is not None:
        assert parse_ts(created["createdAt"]).year >= clock_ahead
        assert now_utc().year >= clock_ahead


def test_child_commands_share_the_clock(clock_ahead):
    """Commands the tests run (date, the way the docs make expiry times) see it too."""
    year = int(subprocess.run(["date", "-u", "+%Y"], capture_output=True, text=True,
                              check=True).stdout)
    assert abs(year - now_utc().year) <= 1
    if clock_ahead is not None:
        assert year >= clock_ahead


def test_future_year_is_ahead_of_today():
    assert future_year() > now_utc().year
