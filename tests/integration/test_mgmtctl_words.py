"""mgmtctl's errors in the words of the person who typed the command (issue 17): its own
flags, not the API's field names; a flag that would swallow the next flag as its value;
the unit of a duration named; "did you mean" for a mistyped command or flag.

The credential is MGMTCTL_TOKEN, an admin's IdP JWT; times are relative to the test
daemon's frozen clock, never the calendar."""

import datetime as dt

import pytest

from ctl import ctl, describe, mgmtctl_bin, module_daemon, now  # noqa: F401

TESTING = "[testing]\nenabled = true\n"


@pytest.fixture(scope="module")
def daemon(mgmtd_bin, idp, tmp_path_factory):
    yield from module_daemon(mgmtd_bin, idp, tmp_path_factory, "words", config_extra=TESTING)



def error_line(res):
    return res.stderr.splitlines()[0]


@pytest.mark.parametrize("noun", ["management", "token"])
def test_a_past_expiry_names_the_flag(ctl, now, noun):
    past = (now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    args = ([noun, "create", "--description", "x"] if noun == "management"
            else [noun, "create", "--read-database", "*", "x"])
    res = ctl.fails(1, *args, "--expires-at", past)
    assert error_line(res) == "error\t--expires-at must be in the future", describe(res)
    assert "expiresAt" not in res.stderr


def test_a_bad_partition_template_names_the_flags(ctl):
    res = ctl.fails(1, "database", "create", "--template-timeformat", "%Y-%m-%d",
                    "--template-tag", "t" * 300, "db1")
    line = error_line(res)
    assert "partitionTemplate" not in line, describe(res)
    assert line.startswith("error\tthe partition template (--template-tag, "
                           "--template-tag-bucket, --template-timeformat) "), describe(res)


def test_a_flag_that_would_take_the_next_flag_as_its_value(ctl):
    # what `--expires-at $(date -v+1d -Iseconds)` becomes on Linux, where that date fails
    res = ctl.fails(2, "management", "create", "--expires-at", "--description",
                    "Example token description")
    assert error_line(res) == (
        "error\t--expires-at needs a value, but the next word is the flag --description "
        "(was the value empty, such as a $(...) that failed?); give --expires-at a value, "
        "or write --expires-at=VALUE when the value starts with -"), describe(res)
    # a global flag counts too; a value that starts with "-" but names no flag is a value
    res = ctl.fails(2, "database", "create", "--retention-period", "--debug", "db2")
    assert "the next word is the flag --debug" in error_line(res)
    res = ctl.ok("management", "create", "--description", "-not-a-flag")
    assert "-not-a-flag" in res.stdout


def test_a_duration_with_a_wrong_unit_names_it(ctl):
    res = ctl.fails(2, "database", "create", "--retention-period", "2weeks", "db3")
    line = error_line(res)
    assert 'the unit "weeks" is unknown' in line, describe(res)
    assert "the units are ns us ms s m h d w mo y" in line
    assert "number is missing" not in line


@pytest.mark.parametrize("argv,said", [
    (["managment", "list"], "error\tno command managment (did you mean management?)"),
    (["databse", "list"], "error\tno command databse (did you mean database?)"),
    (["management", "lsit"], "error\tno command management lsit (did you mean management list?)"),
    (["token", "craete", "x"], "error\tno command token craete (did you mean token create?)"),
    (["management", "create", "--descripton", "x"],
     "error\tflag provided but not defined: --descripton (did you mean --description?)"),
    (["--profil", "ci", "cluster", "list"],
     "error\tflag provided but not defined: --profil (did you mean --profile?)"),
])
def test_did_you_mean(ctl, argv, said):
    res = ctl.fails(2, *argv)
    assert error_line(res) == said, describe(res)


def test_nothing_near_suggests_nothing(ctl):
    res = ctl.fails(2, "frobnicate")
    assert error_line(res) == "error\tno command frobnicate"
    res = ctl.fails(2, "cluster", "list", "--zzzzzz")
    assert error_line(res) == "error\tflag provided but not defined: --zzzzzz"
