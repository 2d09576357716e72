"""mgmtctl asks before it revokes or deletes: y/N on a terminal (a pseudo-terminal here,
with Python's pty module), a refusal without one unless --force. Nothing changes unless
the answer is yes."""

import os
import pty
import select
import subprocess
import time

import pytest

from conftest import ACCOUNT_A, CLI_TIMEOUT, WRAPPER, check_no_sanitizer_report, ok_json
from ctl import Ctl, mgmtctl_bin  # noqa: F401

CLUSTER = "/api/v0/accounts/%s/clusters/33333333-3333-4333-8333-333333333333" % ACCOUNT_A


def on_terminal(ctl, args, answer, timeout=None):
    """Runs mgmtctl ARGS with a pseudo-terminal as stdin, stdout and stderr; types answer
    (bytes, or None for no answer at all) once the [y/N] question shows. Returns
    (exit status, everything the terminal showed, whether the question was asked)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(WRAPPER + [ctl.bin] + list(args), stdin=slave, stdout=slave,
                            stderr=slave, env=ctl.environment(), close_fds=True)
    os.close(slave)
    shown, asked = b"", False
    deadline = time.monotonic() + (timeout or CLI_TIMEOUT)
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the other side is closed
                    break
                if not chunk:
                    break
                shown += chunk
            if not asked and b"[y/N] " in shown:
                asked = True
                if answer is None:
                    os.write(master, b"\x04")  # Ctrl-D: end of input
                else:
                    os.write(master, answer)
            if proc.poll() is not None and not ready:
                break
        else:
            proc.kill()
            pytest.fail("%s on a terminal did not finish: %r" % (args, shown))
        rc = proc.wait(timeout=CLI_TIMEOUT)
    finally:
        os.close(master)
    text = shown.decode("utf-8", "replace")
    check_no_sanitizer_report(text, " ".join(args))
    return rc, text, asked


@pytest.fixture
def ctl(mgmtctl_bin, server, tmp_path):
    return Ctl(mgmtctl_bin, server, tmp_path / "home", token=server.jwt("admin"))


def db_names(server):
    return [d["name"] for d in ok_json(server.get(CLUSTER + "/databases", server.jwt("admin")))]


def db_token_live(server, token_id):
    t = ok_json(server.get(CLUSTER + "/tokens/" + token_id, server.jwt("admin")))
    return "revokedAt" not in t


def mgmt_token_live(server, token_id):
    return server.get_token(token_id)["status"] == "active"


def table_names(server, db):
    return [t["name"] for t in ok_json(server.get(CLUSTER + "/databases/%s/tables" % db,
                                                  server.jwt("admin")))]


# Each destructive command: how to make its target, run it, and see whether it still stands.
def make_database(server, ctl):
    name = "db-%d" % time.monotonic_ns()
    ctl.ok("database", "create", name)
    return (["database", "delete", name], lambda: name in db_names(server))


def make_table(server, ctl):
    db = "tdb-%d" % time.monotonic_ns()
    ctl.ok("database", "create", db)
    ctl.ok("table", "create", db, "t1")
    return (["table", "delete", db, "t1"], lambda: "t1" in table_names(server, db))


def make_db_token(server, ctl):
    token_id = ctl.json("token", "create", "to revoke")["id"]
    return (["token", "revoke", token_id], lambda: db_token_live(server, token_id))


def make_db_token_alias(server, ctl):
    token_id = ctl.json("token", "create", "to delete")["id"]
    return (["token", "delete", token_id], lambda: db_token_live(server, token_id))


def make_mgmt_token(server, ctl):
    token_id = server.create_token("to revoke")["id"]
    return (["management", "revoke", token_id], lambda: mgmt_token_live(server, token_id))


TARGETS = [make_database, make_table, make_db_token, make_db_token_alias, make_mgmt_token]
IDS = ["database delete", "table delete", "token revoke", "token delete", "management revoke"]


@pytest.mark.parametrize("make", TARGETS, ids=IDS)
def test_yes_on_a_terminal_goes_ahead(server, ctl, make):
    args, stands = make(server, ctl)
    rc, shown, asked = on_terminal(ctl, args, b"y\n")
    assert asked, shown
    assert rc == 0, shown
    assert not stands()
    # the question names what it acts on
    assert args[-1] in shown.split("[y/N]")[0]


@pytest.mark.parametrize("answer", [b"n\n", b"\n", b"no\n", b"yes please\n", None],
                         ids=["n", "enter", "no", "garbage", "eof"])
@pytest.mark.parametrize("make", TARGETS, ids=IDS)
def test_anything_but_yes_changes_nothing(server, ctl, make, answer):
    args, stands = make(server, ctl)
    rc, shown, asked = on_terminal(ctl, args, answer)
    assert asked, shown
    assert rc == 1, shown
    assert "nothing was changed" in shown
    assert stands()


@pytest.mark.parametrize("make", TARGETS, ids=IDS)
def test_without_a_terminal_it_refuses(server, ctl, make):
    args, stands = make(server, ctl)
    # stdin is /dev/null, then a pipe saying yes: neither is a terminal to ask on
    res = ctl.run(*args)
    assert res.returncode == 1 and "--force" in res.stderr, res.stderr
    res = ctl.run(*args, input="y\n")
    assert res.returncode == 1 and "--force" in res.stderr, res.stderr
    assert "[y/N]" not in res.stderr
    assert stands()
    # --force goes ahead without asking
    res = ctl.run(*(args[:2] + ["--force"] + args[2:]))
    assert res.returncode == 0, res.stderr
    assert not stands()


@pytest.mark.parametrize("make", TARGETS, ids=IDS)
def test_force_on_a_terminal_does_not_ask(server, ctl, make):
    args, stands = make(server, ctl)
    rc, shown, asked = on_terminal(ctl, args + ["--force"], b"n\n")
    assert not asked and rc == 0, shown
    assert not stands()


def test_one_question_for_several(server, ctl):
    a = ctl.json("token", "create", "one")["id"]
    b = ctl.json("token", "create", "two")["id"]
    rc, shown, asked = on_terminal(ctl, ["token", "revoke", a, b], b"y\n")
    assert rc == 0 and shown.count("[y/N]") == 1, shown
    assert "2 database tokens" in shown
    assert not db_token_live(server, a) and not db_token_live(server, b)
