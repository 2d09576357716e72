"""Upgrading a store whose users predate issuers (schema 0005_user_issuer): subjects
stored without an issuer are bound at start to the only configured identity provider;
with several, mgmtd refuses to start, saying which users wait and how `mgmtd user bind`
binds them (docs/operations.md, "Users from before issuers were recorded").

The old store is written as mgmtd wrote it at schema version 4: the repository's own
migration files 0001-0004 (never edited once released), then rows of that shape."""

import json

import pytest

from conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    ISSUER,
    USERS,
    Idp,
    assert_error,
    describe_cli,
    ok_json,
    run_cli,
    users_path,
)
import oldstore

SECOND = "https://second-idp.test/"
OLD_VERSION = 4
SUBJECTS = [name for name, u in USERS.items() if u[2] is not None]


def old_rows():
    """The accounts and users of the default seed, as schema 4 held them."""
    sql = ["INSERT INTO accounts (id, name, created_at) VALUES ('%s', 'A', 1000), "
           "('%s', 'B', 1000);" % (ACCOUNT_A, ACCOUNT_B)]
    for i, (email, group, subject, account) in enumerate(USERS.values()):
        sql.append("INSERT INTO users (id, account_id, email, grp, idp_subject, created_at) "
                   "VALUES ('44444444-4444-4444-8444-%012d', '%s', '%s', '%s', %s, %d);"
                   % (i + 1, account, email, group,
                      "'%s'" % subject if subject else "NULL", 1000 + i))
    return "\n".join(sql)


def write_old_store(d):
    oldstore.write_old_store(d, OLD_VERSION, OLD_VERSION, old_rows())

def second_idp_section(d, second: Idp) -> str:
    jwks = d.workdir / "second-jwks.json"
    jwks.write_text(json.dumps(second.jwks))
    return ("[idp second]\nissuer = %s\naudience = mgmtd\njwks_file = %s\n"
            "algorithms = RS256,ES256\n" % (SECOND, jwks))


def refused_start(d):
    """Runs serve on d, which must stop before it listens; returns its output."""
    res = run_cli(d.serve_argv(), cwd=d.workdir, env=d.env, timeout=20)
    out = res.stdout + res.stderr
    assert res.returncode != 0, "serve started:\n" + describe_cli(res)
    assert "listening on" not in out, describe_cli(res)
    return out


def bind(d, *args):
    res = d.cli("user", "bind", *args)
    assert res.returncode == 0, describe_cli(res)
    return res.stdout


def by_email(d, jwt, account=ACCOUNT_A):
    return {u["email"]: u for u in ok_json(d.get(users_path(account), jwt))}


def test_one_issuer_binds_the_old_subjects_at_start(daemon_factory):
    d = daemon_factory(seed=False, start=False)
    write_old_store(d)
    d.start()
    assert "bound %d user subjects stored without an issuer to [idp] %s" % (
        len(SUBJECTS), ISSUER) in d.log_since_start()
    users = by_email(d, d.jwt("admin"))
    for name in ("admin", "member", "auditor"):
        email, _group, subject, _account = USERS[name]
        assert (users[email]["idpIssuer"], users[email]["idpSubject"]) == (ISSUER, subject)
    assert "idpIssuer" not in users[USERS["emailonly"][0]]
    assert by_email(d, d.jwt("admin_b"), ACCOUNT_B)["admin-b@example.com"]["idpIssuer"] == ISSUER
    # nothing is left to bind at the next start
    d.restart()
    assert "bound" not in d.log_since_start()


def test_several_issuers_stop_the_start_until_bind_says_which(daemon_factory):
    second = Idp()
    d = daemon_factory(seed=False, start=False)
    d.config_path.write_text(d.config_path.read_text() + second_idp_section(d, second))
    write_old_store(d)

    out = refused_start(d)
    for needle in ("%d users have an IdP subject but no issuer" % len(SUBJECTS),
                   "[idp] %s, [idp second] %s" % (ISSUER, SECOND), "mgmtd user bind --issuer NAME",
                   "--account ID [--email EMAIL]", "admin@example.com (subject admin-1)",
                   "docs/operations.md"):
        assert needle in out, "%r not in:\n%s" % (needle, out)

    # one user to the second provider, by its section name; the rest wait
    said = bind(d, "--issuer", "second", "--account", ACCOUNT_A, "--email", "admin@example.com")
    assert "bound user" in said and SECOND in said and "1 user bound" in said
    out = refused_start(d)
    assert "%d users have an IdP subject" % (len(SUBJECTS) - 1) in out
    assert "admin@example.com" not in out

    # every other one to the first provider, by its URL
    said = bind(d, "--issuer", ISSUER)
    assert "%d users bound to %s" % (len(SUBJECTS) - 1, ISSUER) in said
    d.start(use_seed=False)

    # the admin is now the second provider's admin-1, and only that
    assert_error(d.get(users_path(), d.jwt("admin")), 403, "not provisioned")
    as_admin = second.make_jwt(sub="admin-1", iss=SECOND)
    users = by_email(d, as_admin)
    assert (users["admin@example.com"]["idpIssuer"], users["member@example.com"]["idpIssuer"]) \
        == (SECOND, ISSUER)
    assert by_email(d, d.jwt("member"))  # member-1 of the first provider signs in
    # each binding is in the audit trail, made offline
    trail = ok_json(d.get("/api/v0/accounts/%s/audit" % ACCOUNT_A, as_admin,
                          params={"action": "user.bind"}))["events"]
    assert len(trail) == len([n for n in SUBJECTS if USERS[n][3] == ACCOUNT_A])
    assert {e["actorType"] for e in trail} == {"local"}


def test_bind_refuses_what_it_cannot_do(daemon_factory):
    d = daemon_factory(seed=False, start=False)
    write_old_store(d)
    # not a provider of this configuration: names the ones there are
    res = d.cli("user", "bind", "--issuer", "https://stranger.test/")
    assert res.returncode == 1 and ISSUER in res.stderr, describe_cli(res)
    res = d.cli("user", "bind", "--issuer", ISSUER, "--email", "admin@example.com")
    assert res.returncode == 2 and "--email needs --account" in res.stderr, describe_cli(res)
    res = d.cli("user", "bind", "--account", ACCOUNT_A)
    assert res.returncode == 2 and "--issuer is required" in res.stderr, describe_cli(res)
    # a user without a subject has nothing to bind; a bound one is left alone
    res = d.cli("user", "bind", "--issuer", ISSUER, "--account", ACCOUNT_A, "--email",
                USERS["emailonly"][0])
    assert res.returncode == 1 and "has no subject" in res.stderr, describe_cli(res)
    bind(d, "--issuer", ISSUER, "--account", ACCOUNT_A, "--email", "admin@example.com")
    res = d.cli("user", "bind", "--issuer", ISSUER, "--account", ACCOUNT_A, "--email",
                "admin@example.com")
    assert res.returncode == 1 and "already bound to %s" % ISSUER in res.stderr, \
        describe_cli(res)
    # the listing says who still waits
    res = d.cli("user", "list", "--account", ACCOUNT_A)
    assert res.returncode == 0, describe_cli(res)
    line = next(l for l in res.stdout.splitlines() if "member@example.com" in l)
    assert "(none: mgmtd user bind)" in line
    line = next(l for l in res.stdout.splitlines() if "admin@example.com" in l)
    assert line.rstrip().endswith(ISSUER)


@pytest.mark.parametrize("dev_idp", [False, True], ids=["no-idp", "dev-idp"])
def test_the_only_issuer_may_be_the_dev_idp_or_none(daemon_factory, dev_idp):
    """With only the dev IdP, old subjects are its (recorded as dev_idp, which survives a
    start on another port); with no provider at all they wait, unbound, and the start
    goes on."""
    d = daemon_factory(seed=False, start=False, idp_section=False,
                       config_extra="[dev_idp]\nenabled = true\n" if dev_idp else "")
    write_old_store(d)
    d.start()
    res = d.cli("user", "list", "--account", ACCOUNT_A, "--format", "json")
    users = {u["email"]: u for u in json.loads(res.stdout)}
    admin = users["admin@example.com"]
    if dev_idp:
        assert admin["idpIssuer"] == "dev_idp"
        minted = ok_json(d.post("/oauth/token", data={"email": "admin@example.com"}))
        assert ok_json(d.get(users_path(), minted["access_token"]))
        d.restart()  # another port: another issuer URL, the same binding
        minted = ok_json(d.post("/oauth/token", data={"email": "admin@example.com"}))
        assert ok_json(d.get(users_path(), minted["access_token"]))
    else:
        assert "idpIssuer" not in admin and admin["idpSubject"] == "admin-1"
