"""The command line: offline subcommands beside a running server, exit codes, help,
check-config, environment overrides (CONTRACT 7, 8)."""

import json
from pathlib import Path
import re
import subprocess

import pytest

from conftest import (
    dated,
    ACCOUNT_A,
    ACCOUNT_B,
    AUDIENCE,
    ISSUER,
    MGMT_TOKEN_RE,
    assert_error,
    assert_status,
    default_seed,
    describe_cli,
    mgmt_token_checksum_ok,
    ok_json,
    run_cli,
    tokens_path,
    unique_email,
    users_path,
)


def cli_ok(d, *args):
    res = d.cli(*args)
    assert res.returncode == 0, describe_cli(res)
    return res


def cli_json(d, *args):
    res = cli_ok(d, *args)
    try:
        return json.loads(res.stdout)
    except ValueError:
        pytest.fail("stdout is not JSON:\n" + describe_cli(res))


# ---------------------------------------------------------------------------
# user add / list

def test_user_add_then_list_json_and_http(server):
    email = unique_email("cli")
    cli_ok(server, "user", "add", "--account", ACCOUNT_A, "--email", email, "--group", "member",
           "--first-name", "Cli", "--last-name", "User")
    users = cli_json(server, "user", "list", "--account", ACCOUNT_A, "--format", "json")
    assert isinstance(users, list)
    mine = [u for u in users if u.get("email") == email]
    assert len(mine) == 1, users
    u = mine[0]
    # the running server sees it at once, with the same id
    over_http = ok_json(server.get(users_path(), server.jwt("admin")))
    same = [x for x in over_http if x["email"] == email]
    assert len(same) == 1 and same[0]["id"] == u["id"]
    assert same[0]["group"] == "member"
    assert same[0]["accountId"] == ACCOUNT_A
    assert same[0]["firstName"] == "Cli" and same[0]["lastName"] == "User"
    for k in set(u) & set(same[0]):
        assert u[k] == same[0][k], k
    # the CLI list and the HTTP list agree
    assert sorted(x["id"] for x in users) == sorted(x["id"] for x in over_http)


def test_user_add_with_subject_signs_in(server):
    email = unique_email("clisub")
    sub = "cli-subject-" + email
    cli_ok(server, "user", "add", "--account", ACCOUNT_A, "--email", email, "--group", "member",
           "--subject", sub)
    mine = ok_json(server.get(users_path(), server.make_jwt_for_subject(sub)))
    assert [u["email"] for u in mine] == [email]
    assert mine[0]["idpSubject"] == sub
    # without --issuer, the only identity provider configured
    assert mine[0]["idpIssuer"] == ISSUER
    line = next(l for l in cli_ok(server, "user", "list", "--account", ACCOUNT_A).stdout
                .splitlines() if email in l)
    assert line.split()[-2:] == [sub, ISSUER]


def test_user_add_names_the_issuer_with_two_providers(daemon_factory):
    d = daemon_factory(seed=default_seed(issuer=ISSUER), start=False)
    d.config_path.write_text(d.config_path.read_text() + "[idp second]\nissuer = "
                             "https://second-idp.test/\njwks_file = %s\n" % d.jwks_path)
    d.start()
    args = ["user", "add", "--account", ACCOUNT_A, "--group", "member", "--subject", "s2"]
    res = d.cli(*args, "--email", unique_email())
    assert res.returncode == 1 and "--subject needs --issuer" in res.stderr, describe_cli(res)
    assert "[idp second] https://second-idp.test/" in res.stderr
    res = d.cli(*args, "--email", unique_email(), "--issuer", "third")
    assert res.returncode == 1 and '"third" is not an identity provider' in res.stderr, \
        describe_cli(res)
    email = unique_email("second")
    cli_ok(d, *args, "--email", email, "--issuer", "second")
    users = cli_json(d, "user", "list", "--account", ACCOUNT_A, "--format", "json")
    mine = next(u for u in users if u["email"] == email)
    assert (mine["idpIssuer"], mine["idpSubject"]) == ("https://second-idp.test/", "s2")
    # the same subject at the other provider is another user; at the same one, a conflict
    cli_ok(d, *args, "--email", unique_email(), "--issuer", ISSUER)
    res = d.cli(*args, "--email", unique_email(), "--issuer", "https://second-idp.test/")
    assert res.returncode == 1 and "at issuer https://second-idp.test/" in res.stderr, \
        describe_cli(res)


def test_user_list_table_mentions_the_users(server):
    res = cli_ok(server, "user", "list", "--account", ACCOUNT_A)
    assert "admin@example.com" in res.stdout
    assert "member@example.com" in res.stdout
    assert "admin-b@example.com" not in res.stdout


def test_user_add_duplicate_exits_1(server):
    res = server.cli("user", "add", "--account", ACCOUNT_A, "--email", "member@example.com",
                     "--group", "member")
    assert res.returncode == 1, describe_cli(res)
    assert res.stderr.strip(), describe_cli(res)


def test_user_add_to_unknown_account_exits_1(server):
    res = server.cli("user", "add", "--account", "99999999-9999-4999-8999-999999999999",
                     "--email", unique_email(), "--group", "member")
    assert res.returncode == 1, describe_cli(res)


# ---------------------------------------------------------------------------
# management create / list / revoke

def test_management_create_json_works_over_http(server):
    body = cli_json(server, "management", "create", "--account", ACCOUNT_A, "--as", "admin@example.com",
                    "--description", "ci", "--format", "json")
    assert isinstance(body, dict)
    secret = body["accessToken"]
    assert MGMT_TOKEN_RE.fullmatch(secret) and mgmt_token_checksum_ok(secret)
    assert body["description"] == "ci"
    assert_status(server.get(tokens_path(), secret), 200)
    got = server.get_token(body["id"])
    assert got["description"] == "ci"
    assert got["accountId"] == ACCOUNT_A
    assert got["createdBy"] == server.user_id("admin")
    assert got["tokenPrefix"] == secret[:9]
    assert "accessToken" not in got
    # whatever else the CLI prints agrees with the API
    for k in set(body) & set(got):
        if k not in ("status", "lastUsedAt"):
            assert body[k] == got[k], k


def test_management_create_with_expiry(server):
    body = cli_json(server, "management", "create", "--account", ACCOUNT_A, "--as", "admin@example.com",
                    "--description", "expiring", "--expires-at", dated("{y}-01-01T01:00:00+01:00"),
                    "--format", "json")
    assert server.get_token(body["id"])["expiresAt"] == dated("{y}-01-01T00:00:00.000Z")


def test_management_create_as_email_only_admin(server):
    body = cli_json(server, "management", "create", "--account", ACCOUNT_A, "--as",
                    "emailonly@example.com", "--description", "by email", "--format", "json")
    assert server.get_token(body["id"])["createdBy"] == server.user_id("emailonly")


@pytest.mark.parametrize("as_email", ["member@example.com", "auditor@example.com"])
def test_management_create_as_non_admin_exits_1_and_says_admin(server, as_email):
    before = server.list_tokens()
    res = server.cli("management", "create", "--account", ACCOUNT_A, "--as", as_email,
                     "--description", "nope", "--format", "json")
    assert res.returncode == 1, describe_cli(res)
    assert "admin" in (res.stderr + res.stdout).lower(), describe_cli(res)
    assert not MGMT_TOKEN_RE.search(res.stdout + res.stderr)
    assert server.list_tokens() == before


@pytest.mark.parametrize("as_email", ["nobody@example.com", "admin-b@example.com"])
def test_management_create_as_stranger_exits_1(server, as_email):
    res = server.cli("management", "create", "--account", ACCOUNT_A, "--as", as_email,
                     "--description", "nope", "--format", "json")
    assert res.returncode == 1, describe_cli(res)
    assert not MGMT_TOKEN_RE.search(res.stdout + res.stderr)


def test_management_create_with_bad_expiry_exits_nonzero(server):
    before = server.list_tokens()
    res = server.cli("management", "create", "--account", ACCOUNT_A, "--as", "admin@example.com",
                     "--description", "x", "--expires-at", "not-a-date")
    assert res.returncode in (1, 2), describe_cli(res)
    assert server.list_tokens() == before


def test_management_list_json(server):
    made = server.create_token("listed by cli")
    tokens = cli_json(server, "management", "list", "--account", ACCOUNT_A, "--format", "json")
    assert isinstance(tokens, list)
    assert made["id"] in [t["id"] for t in tokens]
    for t in tokens:
        assert t["accountId"] == ACCOUNT_A
        assert "accessToken" not in t
    assert made["accessToken"][9:40] not in json.dumps(tokens)
    # same tokens, same order as over HTTP
    assert [t["id"] for t in tokens] == [t["id"] for t in server.list_tokens()]
    # account B's tokens are not listed
    b = server.create_token("b", account=ACCOUNT_B)
    tokens = cli_json(server, "management", "list", "--account", ACCOUNT_A, "--format", "json")
    assert b["id"] not in [t["id"] for t in tokens]


def test_management_list_table(server):
    made = server.create_token("table row")
    res = cli_ok(server, "management", "list", "--account", ACCOUNT_A)
    assert made["id"] in res.stdout or made["tokenPrefix"] in res.stdout
    assert made["accessToken"][9:40] not in res.stdout


def test_management_revoke_takes_effect_at_once(server):
    t1 = server.create_token("cli revoke 1")
    t2 = server.create_token("cli revoke 2")
    keep = server.create_token("cli keep")
    for t in (t1, t2, keep):
        assert_status(server.get(tokens_path(), t["accessToken"]), 200)
    cli_ok(server, "management", "revoke", "--account", ACCOUNT_A, t1["id"], t2["id"])
    for t in (t1, t2):
        assert_error(server.get(tokens_path(), t["accessToken"]), 401)
        got = server.get_token(t["id"])
        assert got["status"] == "revoked" and "revokedAt" in got
    assert_status(server.get(tokens_path(), keep["accessToken"]), 200)
    # again: still fine, revokedAt unchanged
    first = server.get_token(t1["id"])["revokedAt"]
    cli_ok(server, "management", "revoke", "--account", ACCOUNT_A, t1["id"])
    assert server.get_token(t1["id"])["revokedAt"] == first


def test_management_revoke_unknown_or_foreign_id_exits_1(server):
    res = server.cli("management", "revoke", "--account", ACCOUNT_A, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
    assert res.returncode == 1, describe_cli(res)
    b = server.create_token("b side", account=ACCOUNT_B)
    res = server.cli("management", "revoke", "--account", ACCOUNT_A, b["id"])
    assert res.returncode == 1, describe_cli(res)
    assert_status(server.get(tokens_path(ACCOUNT_B), b["accessToken"]), 200)


# ---------------------------------------------------------------------------
# Usage, help

@pytest.mark.parametrize("args", [
    ["user", "list"],
    ["user", "list", "--account", ACCOUNT_A, "--bogus"],
    ["user", "add", "--account", ACCOUNT_A, "--email", "x@example.com"],
    ["user", "add", "--email", "x@example.com", "--group", "member"],
    ["management", "create", "--account", ACCOUNT_A, "--description", "x"],
    ["management", "create", "--account", ACCOUNT_A, "--as", "admin@example.com"],
    ["management", "list"],
    ["management", "revoke", "--account", ACCOUNT_A],
    ["management", "frobnicate", "--account", ACCOUNT_A],
    ["user", "frobnicate"],
], ids=lambda a: " ".join(a))
def test_bad_usage_exits_2(server, args):
    res = server.cli(*args)
    assert res.returncode == 2, describe_cli(res)
    assert res.stderr.strip(), "bad usage should explain itself on stderr:\n" + describe_cli(res)


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["serve", "--bogus-flag"], ["--bogus-flag"]],
                         ids=lambda a: " ".join(a) or "(nothing)")
def test_bad_top_level_usage_exits_2(mgmtd_bin, args):
    res = run_cli([mgmtd_bin] + args, timeout=10)
    assert res.returncode == 2, describe_cli(res)


@pytest.mark.parametrize("args", [
    ["--help"],
    ["serve", "--help"],
    ["check-config", "--help"],
    ["user", "add", "--help"],
    ["user", "list", "--help"],
    ["management", "create", "--help"],
    ["management", "list", "--help"],
    ["management", "revoke", "--help"],
], ids=lambda a: " ".join(a))
def test_help_exits_0(mgmtd_bin, args):
    res = run_cli([mgmtd_bin] + args, timeout=10)
    assert res.returncode == 0, describe_cli(res)
    assert res.stdout.strip(), "--help should print to stdout:\n" + describe_cli(res)


@pytest.mark.parametrize("noun", ["user", "management", "token", "audit"])
def test_a_noun_says_its_verbs(mgmtd_bin, noun):
    """Alone: the noun's usage on stderr, exit 2; --help: on stdout, exit 0; an
    unknown verb: named, with the usage, exit 2."""
    alone = run_cli([mgmtd_bin, noun], timeout=10)
    assert alone.returncode == 2 and alone.stderr.startswith("usage: mgmtd " + noun), \
        describe_cli(alone)
    helped = run_cli([mgmtd_bin, noun, "--help"], timeout=10)
    assert helped.returncode == 0 and helped.stdout == alone.stderr, describe_cli(helped)
    wrong = run_cli([mgmtd_bin, noun, "frob"], timeout=10)
    assert wrong.returncode == 2, describe_cli(wrong)
    assert wrong.stderr == "mgmtd: unknown %s command frob\n%s" % (noun, alone.stderr), \
        describe_cli(wrong)


def test_top_level_help_lists_the_commands(mgmtd_bin):
    out = run_cli([mgmtd_bin, "--help"], timeout=10).stdout
    for word in ("serve", "check-config", "user", "management"):
        assert word in out


def test_management_create_help_mentions_its_flags(mgmtd_bin):
    out = run_cli([mgmtd_bin, "management", "create", "--help"], timeout=10).stdout
    for flag in ("--account", "--as", "--description", "--expires-at", "--format"):
        assert flag in out


# ---------------------------------------------------------------------------
# check-config and environment

def test_check_config_good(daemon_factory, mgmtd_bin):
    d = daemon_factory(start=False)
    res = run_cli([mgmtd_bin, "check-config", "--config", str(d.config_path)], timeout=10)
    assert res.returncode == 0, describe_cli(res)


def test_check_config_unknown_key_names_file_and_line(daemon_factory, mgmtd_bin):
    d = daemon_factory(start=False)
    lines = d.config_path.read_text().splitlines()
    lines.insert(3, "bogus_key = 1")  # inside [idp], becomes line 4
    d.config_path.write_text("\n".join(lines) + "\n")
    res = run_cli([mgmtd_bin, "check-config", "--config", str(d.config_path)], timeout=10)
    assert res.returncode == 1, describe_cli(res)
    assert "%s:4" % d.config_path in res.stderr, describe_cli(res)
    assert "bogus_key" in res.stderr, describe_cli(res)


def test_check_config_unknown_section_names_file(daemon_factory, mgmtd_bin):
    d = daemon_factory(start=False)
    d.config_path.write_text(d.config_path.read_text() + "\n[bogus]\nanything = 1\n")
    res = run_cli([mgmtd_bin, "check-config", "--config", str(d.config_path)], timeout=10)
    assert res.returncode == 1, describe_cli(res)
    assert "%s:" % d.config_path in res.stderr, describe_cli(res)
    assert "bogus" in res.stderr, describe_cli(res)


def test_check_config_missing_file_exits_1(tmp_path, mgmtd_bin):
    res = run_cli([mgmtd_bin, "check-config", "--config", str(tmp_path / "absent.ini")], timeout=10)
    assert res.returncode == 1, describe_cli(res)


def test_serve_refuses_a_config_with_an_unknown_key(daemon_factory):
    d = daemon_factory(start=False)
    d.config_path.write_text(d.config_path.read_text() + "bogus_key = 1\n")
    res = run_cli(d.serve_argv(), cwd=d.workdir, timeout=10)
    assert res.returncode != 0, describe_cli(res)
    assert "%s:" % d.config_path in res.stdout + res.stderr, describe_cli(res)


def test_an_idp_with_the_dev_idps_default_issuer_is_refused_by_both(tmp_path, mgmtd_bin):
    """[idp] issuer equal to the dev IdP's default issuer (this server's own URL, from
    [server] listen): serve refuses it, and check-config, which used to pass it, too."""
    import socket

    with socket.socket() as s:  # a port of the test's: the verdict comes before any bind
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = tmp_path / "mgmtd.ini"
    conf.write_text("[server]\nlisten = 127.0.0.1:%d\n[dev_idp]\nenabled = true\n"
                    "[idp]\nissuer = http://127.0.0.1:%d\n"
                    "jwks_url = http://127.0.0.1:%d/jwks\n" % (port, port, port))
    check = run_cli([mgmtd_bin, "check-config", "--config", str(conf)], timeout=10)
    assert check.returncode == 1, describe_cli(check)
    assert "[idp] issuer: the same as the dev IdP's issuer, this server's own URL" in \
        check.stderr, describe_cli(check)
    serve = run_cli([mgmtd_bin, "serve", "--config", str(conf), "--data-dir", ":memory:"],
                    cwd=tmp_path, timeout=10)
    assert serve.returncode != 0, describe_cli(serve)
    assert "the same as the dev IdP's issuer" in serve.stdout + serve.stderr, describe_cli(serve)


def test_environment_beats_the_file(daemon_factory):
    d = daemon_factory(env={"MGMTD_IDP_AUDIENCE": "from-env"})
    assert_status(d.get(users_path(), d.make_jwt_for_subject("admin-1", aud="from-env")), 200)
    assert_error(d.get(users_path(), d.make_jwt_for_subject("admin-1", aud=AUDIENCE)), 401)


# ---------------------------------------------------------------------------
# check-config and serve hold a configuration to the same verdict (issue 17), for
# configurations made from the descriptor table (`check-config --print-defaults`).

def _descriptor_table(mgmtd_bin):
    """[(section, key, default, rule)] as --print-defaults prints them: each key's rule is
    the comment line before it, "; RULE, environment MGMTD_...", or None when it has none."""
    text = run_cli([mgmtd_bin, "check-config", "--print-defaults"], timeout=10).stdout
    rows, section, rule = [], None, None
    for line in text.splitlines():
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            section, rule = m.group(1), None
            continue
        m = re.match(r"^; (.+), environment MGMTD_\w+$", line)
        if m:
            rule = m.group(1)
            continue
        m = re.match(r"^(\w+) =(?: (.*))?$", line)
        if m and section:
            rows.append((section, m.group(1), m.group(2) or "", rule))
            rule = None
    return rows


def _serve_verdict(mgmtd_bin, conf, workdir):
    """0 when serve starts listening with conf (then stopped), else its exit status, and
    what it said. The verdict is what happened, never how long it took."""
    proc = subprocess.Popen([mgmtd_bin, "serve", "--config", str(conf)], cwd=workdir,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    said = []
    try:
        for line in proc.stdout:
            said.append(line)
            if "listening on" in line:
                proc.terminate()
                proc.wait(timeout=30)
                return 0, "".join(said)
        return proc.wait(timeout=30), "".join(said)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# A value each printed rule refuses, made from the rule's own words (bounds, choices), so a
# rule that changes changes the value. A rule missing here fails
# test_every_key_has_a_rule_the_test_can_break: a new kind of key cannot slip by.
_RULES = [
    (r"integer (-?\d+)\.\.(-?\d+)", lambda m, d: str(int(m.group(2)) + 1)),
    (r"boolean", lambda m, d: "maybe"),
    (r"one of ([\w|]+)( in any case)?", lambda m, d: "x".join(m.group(1).split("|"))),
    (r"text, not empty, at most \d+ bytes", lambda m, d: ""),
    (r"text, at most (\d+) bytes", lambda m, d: "t" * (int(m.group(1)) + 1)),
    (r"path, at most (\d+) bytes", lambda m, d: "/" + "p" * int(m.group(1))),
    (r"directory path, not empty, at most (\d+) bytes", lambda m, d: ""),
    (r"empty, or the path of a readable file", lambda m, d: str(d / "absent" / "file")),
    (r"address HOST:PORT or \[V6\]:PORT(, or empty)?", lambda m, d: "127.0.0.1"),
    (r"list of RS256 RS384 RS512 ES256 ES384", lambda m, d: "RS256,HS256"),
    (r"list of addresses and networks", lambda m, d: "10.0.0.0/8, not-an-address"),
    (r"empty, or an https:// URL \(http:// only to loopback\)",
     lambda m, d: "http://idp.example/keys"),
    (r"empty, or an http:// or https:// URL", lambda m, d: "ftp://idp.example"),
    (r"printable ASCII without quotes, angle brackets or backslashes, at most \d+ bytes",
     lambda m, d: 'openid "email"'),
]


def _bad_alone(rule, tmp_path):
    """A value the rule refuses for its key alone, or None for a rule this test does not
    know."""
    for pattern, make in _RULES:
        m = re.fullmatch(pattern, rule or "")
        if m:
            return make(m, tmp_path)
    return None


def test_every_key_has_a_rule_the_test_can_break(mgmtd_bin, tmp_path):
    rows = _descriptor_table(mgmtd_bin)
    assert len(rows) >= 40, rows  # the table was read
    for section, key, default, rule in rows:
        assert rule is not None, "[%s] %s: --print-defaults gives no rule" % (section, key)
        bad = _bad_alone(rule, tmp_path)
        assert bad is not None, "[%s] %s: no bad value for the rule %r" % (section, key, rule)
        assert bad != default, (section, key, rule)


def test_check_config_and_serve_agree_on_each_key_bad_alone(mgmtd_bin, tmp_path):
    """Each key of the table set alone to a value its printed rule refuses: check-config
    exits 1 naming FILE:LINE: [section] key, and serve does not start."""
    rows = _descriptor_table(mgmtd_bin)
    assert len(rows) >= 40, rows
    base = {"listen": "127.0.0.1:0", "data_dir": str(tmp_path / "data")}
    for section, key, default, rule in rows:
        bad = _bad_alone(rule, tmp_path)
        assert bad is not None, (section, key, rule)
        conf = tmp_path / ("%s-%s.ini" % (section, key))
        lines = ["[server]"]
        for k, v in base.items():
            if not (section == "server" and k == key):
                lines.append("%s = %s" % (k, v))
        if section != "server":
            lines.append("[%s]" % section)
        lines.append(("%s = %s" % (key, bad)).rstrip())
        conf.write_text("\n".join(lines) + "\n")
        check = run_cli([mgmtd_bin, "check-config", "--config", str(conf)], timeout=10)
        rc, said = _serve_verdict(mgmtd_bin, conf, tmp_path)
        assert check.returncode == 1 and rc != 0, (section, key, rule, describe_cli(check),
                                                   said)
        assert "%s:%d: [%s] %s" % (conf, len(lines), section, key) in check.stderr, \
            (rule, describe_cli(check))
        # serve says it in the same words: one validation, not two
        first = check.stderr.splitlines()[0]
        assert first in said, (first, said)


def test_each_keys_default_passes_its_rule(mgmtd_bin, tmp_path):
    """The other side of the rules: the example file (every default, every rule line) is
    a configuration check-config passes."""
    conf = tmp_path / "defaults.ini"
    conf.write_text(run_cli([mgmtd_bin, "check-config", "--print-defaults"],
                            timeout=10).stdout)
    check = run_cli([mgmtd_bin, "check-config", "--config", str(conf)], timeout=10)
    assert check.returncode == 0, describe_cli(check)


# Keys that are good alone and refused together: every line named, both verdicts the
# same. Each entry: the lines (section, line; "{port}" a free port of the test's, never
# bound since both refuse before binding), what the message says, and the keys the
# message names, in the order it names them ("SECTION KEY").
CONFLICTS = [
    ([("server", "tls_cert = /nonexistent/cert.pem"), ("store", "token_key_file = /tmp/k")],
     "[server] tls_cert and tls_key", ["server tls_cert"]),
    ([("server", "tls_key = /nonexistent/key.pem")],
     "[server] tls_cert and tls_key", ["server tls_key"]),
    ([("server", "data_dir = :memory:"), ("store", "token_key_file = /tmp/k")],
     "[store] token_key_file: not with data_dir = :memory:",
     ["store token_key_file", "server data_dir"]),
    ([("server", "data_dir = :memory:"), ("store", "backend = postgres")],
     "[server] data_dir: :memory: keeps a SQLite store in memory",
     ["server data_dir", "store backend"]),
    ([("store", "postgres_url = postgresql://localhost/x"), ("store", "backend = sqlite")],
     "[store] postgres_url: set, but backend is sqlite", ["store postgres_url",
                                                          "store backend"]),
    ([("store", "postgres_pool = 3"), ("store", "backend = sqlite")],
     "[store] postgres_pool: set, but backend is sqlite", ["store postgres_pool",
                                                           "store backend"]),
    ([("metrics", "listen = 127.0.0.1:0"), ("metrics", "enabled = false")],
     "[metrics] listen: set only with enabled = true", ["metrics listen", "metrics enabled"]),
    ([("testing", "seed = 7"), ("testing", "enabled = false")],
     "[testing] seed: set only with enabled = true", ["testing seed", "testing enabled"]),
    ([("testing", "token_activation_seconds = 5")],
     "[testing] token_activation_seconds: set only with enabled = true",
     ["testing token_activation_seconds"]),
    ([("testing", "database_name_hold_seconds = 180"), ("testing", "enabled = false")],
     "[testing] database_name_hold_seconds: set only with enabled = true",
     ["testing database_name_hold_seconds", "testing enabled"]),
    ([("testing", "purge_after_days = 7")],
     "[testing] purge_after_days: set only with enabled = true",
     ["testing purge_after_days"]),
    ([("webhook", "url = http://127.0.0.1:9/hook")],
     "[webhook] url: set, but secret_file is not", ["webhook url"]),
    ([("webhook", "secret_file = /etc/hostname")],
     "[webhook] secret_file: set only with url", ["webhook secret_file"]),
    ([("ui", "enabled = true"), ("dev_idp", "enabled = true")],
     "[ui] client_id: required when [ui] is enabled", ["ui enabled", "dev_idp enabled"]),
    ([("ui", "enabled = true"), ("idp", "issuer = https://idp.example/"),
      ("idp", "jwks_url = https://idp.example/keys")],
     "[ui] client_id: required when [ui] is enabled", ["ui enabled", "idp issuer"]),
    ([("idp", "jwks_url = https://idp.example/keys")],
     "[idp] issuer: required with jwks_file, jwks_url or discovery", ["idp jwks_url"]),
    ([("idp", "issuer = https://idp.example/")], "[idp]: no keys for issuer",
     ["idp issuer"]),
    ([("idp", "issuer = https://idp.example/"), ("idp", "jwks_file = /nonexistent/jwks.json"),
      ("idp", "jwks_url = https://idp.example/keys"), ("idp", "discovery = true")],
     "[idp]: jwks_file, jwks_url and discovery exclude each other",
     ["idp jwks_file", "idp jwks_url", "idp discovery"]),
    ([("idp", "issuer = http://idp.example/"), ("idp", "discovery = true")],
     "[idp] discovery: the issuer must be an https:// URL", ["idp discovery", "idp issuer"]),
    ([("idp", "issuer = https://idp.example/"), ("idp", "jwks_url = https://idp.example/k"),
      ("idp b", "issuer = https://idp.example/"), ("idp b", "jwks_url = https://b.example/k")],
     "[idp b] issuer: the same as in [idp]", ["idp issuer", "idp b issuer"]),
    ([("server", "listen = 127.0.0.1:{port}"), ("dev_idp", "enabled = true"),
      ("idp", "issuer = http://127.0.0.1:{port}"),
      ("idp", "jwks_url = http://127.0.0.1:{port}/keys")],
     "[idp] issuer: the same as the dev IdP's issuer", ["idp issuer", "server listen"]),
    ([("dev_idp", "enabled = true"), ("dev_idp", "issuer = https://dev.example"),
      ("idp", "issuer = https://dev.example"), ("idp", "jwks_url = https://dev.example/k")],
     "[idp] issuer: the same as [dev_idp] issuer", ["idp issuer", "dev_idp issuer"]),
]


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("extra,said,named", CONFLICTS, ids=lambda v: None)
def test_check_config_names_every_key_of_a_conflict(mgmtd_bin, tmp_path, extra, said, named):
    lines = ["[server]", "listen = 127.0.0.1:0", "data_dir = %s" % (tmp_path / "data"),
             "threads = lots"]  # a problem of one key too: both are reported
    where, current, port = {}, "server", _free_port()
    for section, line in extra:
        if section != current:  # a header whenever the section changes
            lines.append("[%s]" % section)
            current = section
        lines.append(line.format(port=port))
        where["%s %s" % (section, line.split(" =")[0])] = len(lines)
    conf = tmp_path / "conflict.ini"
    conf.write_text("\n".join(lines) + "\n")
    check = run_cli([mgmtd_bin, "check-config", "--config", str(conf)], timeout=10)
    assert check.returncode == 1, describe_cli(check)
    assert "%s:4: [server] threads" % conf in check.stderr, describe_cli(check)
    [msg] = [m for m in check.stderr.splitlines() if said in m]
    prefix = ", ".join("%s:%d" % (conf, where[k]) for k in named)
    assert msg.startswith(prefix + ": " + said), msg
    rc, out = _serve_verdict(mgmtd_bin, conf, tmp_path)
    assert rc != 0, out
    assert said in out, out


def _keys_of_two_key_rules():
    """Every key the checks of the whole configuration (server/config.c, from
    validate_idp on) name in a message's places: where2, idp_where, append_origin and
    append_idp_origin with a literal key. Each is a key of some rule of two keys."""
    from pathlib import Path
    src = (Path(__file__).resolve().parents[2] / "server" / "config.c").read_text()
    body = src[src.index("static int validate_idp("):src.index("int config_check_files(")]
    keys = set()
    for m in re.finditer(r'where2\(cfg,\s*"(\w+)",\s*"(\w+)",\s*(?:"(\w+)",\s*"(\w+)")?',
                         body):
        keys.add("%s %s" % m.group(1, 2))
        if m.group(3):
            keys.add("%s %s" % m.group(3, 4))
    for m in re.finditer(r'idp_where\(\w+,((?:\s*(?:"\w+"|NULL),)+)', body):
        keys.update("idp " + k for k in re.findall(r'"(\w+)"', m.group(1)))
    for m in re.finditer(r'append_origin\(cfg,\s*"(\w+)",\s*"(\w+)"', body):
        keys.add("%s %s" % m.group(1, 2))
    for m in re.finditer(r'append_idp_origin\([^,]+,\s*"(\w+)"', body):
        keys.add("idp " + m.group(1))
    return keys


def test_every_rule_of_two_keys_is_in_the_conflicts():
    """A rule of two keys added to config.c without an entry in CONFLICTS fails here."""
    found = _keys_of_two_key_rules()
    assert len(found) >= 15, found  # the source was read
    covered = set()
    for extra, _said, named in CONFLICTS:
        covered.update(re.sub(r"^idp \w+ ", "idp ", k) for k in named)
    assert found <= covered, sorted(found - covered)


def test_a_jwks_file_that_is_no_jwks_is_refused_by_both_at_its_line(mgmtd_bin, tmp_path):
    """Past the files check (it is there and readable), the keys themselves: check-config
    loads them as serve does, and names the line of the jwks_file."""
    bad = tmp_path / "jwks.json"
    bad.write_text("not json\n")
    conf = tmp_path / "mgmtd.ini"
    conf.write_text("[server]\nlisten = 127.0.0.1:0\ndata_dir = %s\n[idp okta]\n"
                    "issuer = https://okta.example/\njwks_file = %s\n"
                    % (tmp_path / "data", bad))
    check = run_cli([mgmtd_bin, "check-config", "--config", str(conf)], timeout=10)
    assert check.returncode == 1, describe_cli(check)
    assert check.stderr.startswith("%s:6: [idp okta] jwks_file %s: " % (conf, bad)), \
        describe_cli(check)
    rc, said = _serve_verdict(mgmtd_bin, conf, tmp_path)
    assert rc != 0, said


@pytest.mark.parametrize("under", ["file/sub", "file"])
def test_a_data_dir_through_a_file_is_refused_by_both_at_its_line(mgmtd_bin, tmp_path, under):
    """serve creates the data directory and its parents; a path through (or to) a regular
    file it cannot create: check-config says so before serve fails on it."""
    (tmp_path / "file").write_text("")
    conf = tmp_path / "mgmtd.ini"
    conf.write_text("[server]\nlisten = 127.0.0.1:0\ndata_dir = %s\n" % (tmp_path / under))
    check = run_cli([mgmtd_bin, "check-config", "--config", str(conf)], timeout=10)
    assert check.returncode == 1, describe_cli(check)
    assert check.stderr.startswith("%s:3: [server] data_dir %s: " % (conf, tmp_path / under)), \
        describe_cli(check)
    rc, said = _serve_verdict(mgmtd_bin, conf, tmp_path)
    assert rc != 0, said
    # a directory that is not there yet is fine: serve makes it
    conf.write_text("[server]\nlisten = 127.0.0.1:0\ndata_dir = %s\n" % (tmp_path / "new/sub"))
    check = run_cli([mgmtd_bin, "check-config", "--config", str(conf)], timeout=10)
    assert check.returncode == 0, describe_cli(check)


@pytest.mark.parametrize("key_at,refused", [
    ("nodir/token.key", True),          # serve creates the file, never its directory
    ("data/sub/token.key", True),       # nor one under data_dir
    ("data/token.key", False),          # data_dir itself serve makes first
    ("token.key", False),               # a directory that is there
])
def test_a_token_key_file_serve_cannot_create_is_refused_by_both(mgmtd_bin, tmp_path, key_at,
                                                                 refused):
    conf = tmp_path / "mgmtd.ini"
    conf.write_text("[server]\nlisten = 127.0.0.1:0\ndata_dir = %s\n[store]\n"
                    "token_key_file = %s\n" % (tmp_path / "data", tmp_path / key_at))
    check = run_cli([mgmtd_bin, "check-config", "--config", str(conf)], timeout=10)
    rc, said = _serve_verdict(mgmtd_bin, conf, tmp_path)
    assert (check.returncode, rc != 0) == ((1, True) if refused else (0, False)), \
        (describe_cli(check), said)
    if refused:
        assert check.stderr.startswith("%s:5: [store] token_key_file %s: "
                                       % (conf, tmp_path / key_at)), describe_cli(check)


# A seed whose entries break a rule: serve refuses to start, and check-config says so
# first, naming the seed_file line and the entry, without touching the data directory.
BAD_SEEDS = [
    ({"clusters": [{"id": "33333333-3333-4333-8333-333333333333", "accountId": ACCOUNT_B,
                    "name": "c"}]}, "clusters[0]"),
    ({"accounts": [{"id": ACCOUNT_A, "name": "A"}],
      "managementTokens": [{"accountId": ACCOUNT_A, "description": "x",
                            "accessToken": "M.V1.not-a-token"}]}, "managementTokens[0]"),
    ({"accounts": [{"id": ACCOUNT_A, "name": "A", "colour": "red"}]}, "colour"),
    ("{not json", "malformed JSON"),
]


@pytest.mark.parametrize("seed,said", BAD_SEEDS)
def test_check_config_and_serve_agree_on_a_seed(mgmtd_bin, tmp_path, seed, said):
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(seed if isinstance(seed, str) else json.dumps(seed))
    data = tmp_path / "data"
    conf = tmp_path / "seeded.ini"
    conf.write_text("[server]\nlisten = 127.0.0.1:0\ndata_dir = %s\nseed_file = %s\n"
                    % (data, seed_file))
    check = run_cli([mgmtd_bin, "check-config", "--config", str(conf)], timeout=10)
    assert check.returncode == 1, describe_cli(check)
    assert "%s:4: [server] seed_file" % conf in check.stderr and said in check.stderr, \
        describe_cli(check)
    assert not data.exists()  # the check used a scratch store of its own
    rc, out = _serve_verdict(mgmtd_bin, conf, tmp_path)
    assert rc != 0 and said in out, out


def test_check_config_passes_a_good_seed(mgmtd_bin, tmp_path):
    data = tmp_path / "data"
    conf = tmp_path / "seeded.ini"
    conf.write_text("[server]\nlisten = 127.0.0.1:0\ndata_dir = %s\nseed_file = %s\n"
                    % (data, Path(__file__).resolve().parents[2] / "config" / "dev-seed.json"))
    check = run_cli([mgmtd_bin, "check-config", "--config", str(conf)], timeout=10)
    assert check.returncode == 0 and check.stderr == "", describe_cli(check)
    assert not data.exists()
