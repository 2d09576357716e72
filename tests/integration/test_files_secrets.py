"""The data directory on disk, and secrets that must never be stored or logged (CONTRACT 6)."""

import base64
import json
import os
import stat

from conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    assert_secret_absent,
    assert_status,
    clusters_path,
    default_seed,
    describe_cli,
    make_mgmt_token,
    tokens_path,
    users_path,
)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def data_files(d):
    """The data directory's files, and on PostgreSQL the daemon's database files."""
    return d.store_files()


def raw_bytes_of(secret):
    body = secret[5:48]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def assert_nowhere_on_disk(d, secret):
    files = data_files(d)
    assert files, "the data directory is empty"
    raw = raw_bytes_of(secret)
    assert len(raw) == 32
    for path in files:
        with open(path, "rb") as f:
            content = f.read()
        assert_secret_absent(content, secret, where=path)
        assert raw not in content, "the raw secret bytes are in %s" % path
    assert_secret_absent(d.log_bytes(), secret, where="log")


def test_data_dir_and_files_are_private(fresh_server):
    d = fresh_server
    assert d.data_dir.is_dir()
    assert mode(d.data_dir) == 0o700, oct(mode(d.data_dir))
    key = d.data_dir / "token.key"
    db = d.data_dir / "mgmtd.db"
    assert key.is_file(), "no token.key in the data directory"
    if d.backend == "sqlite":
        assert db.is_file(), "no mgmtd.db in the data directory"
        assert mode(db) == 0o600, oct(mode(db))
    else:
        assert not db.exists(), "a SQLite file beside a PostgreSQL store"
    assert mode(key) == 0o600, oct(mode(key))
    assert key.stat().st_size == 32
    d.create_token("make the WAL grow")
    for root, _dirs, files in os.walk(d.data_dir):
        for name in files:
            path = os.path.join(root, name)
            assert mode(path) & 0o077 == 0, "%s is mode %s" % (path, oct(mode(path)))
    assert not (d.workdir / "token.key").exists()


def test_token_key_is_kept_across_restarts(fresh_server):
    d = fresh_server
    key = (d.data_dir / "token.key").read_bytes()
    t = d.create_token("survives")
    d.restart()
    assert (d.data_dir / "token.key").read_bytes() == key
    assert_status(d.get(tokens_path(), t["accessToken"]), 200)


def test_two_data_dirs_get_different_keys(daemon_factory):
    a = daemon_factory()
    b = daemon_factory()
    assert (a.data_dir / "token.key").read_bytes() != (b.data_dir / "token.key").read_bytes()
    # a token of one store means nothing to the other
    t = a.create_token("only in a")
    assert_status(b.get(tokens_path(), t["accessToken"]), 401)


def test_secrets_are_not_stored_or_logged(daemon_factory):
    seeded = make_mgmt_token()
    seed = default_seed()
    seed["managementTokens"] = [{"accountId": ACCOUNT_A, "description": "seeded", "accessToken": seeded,
                                 "createdBy": "admin@example.com"}]
    d = daemon_factory(seed=seed)
    admin_jwt = d.jwt("admin")
    over_http = d.create_token("over http")["accessToken"]
    by_cli = d.cli("management", "create", "--account", ACCOUNT_A, "--as", "admin@example.com",
                   "--description", "by cli", "--format", "json")
    assert by_cli.returncode == 0, describe_cli(by_cli)
    by_cli_secret = json.loads(by_cli.stdout)["accessToken"]
    secrets = [seeded, over_http, by_cli_secret]

    # use every secret on good, forbidden, foreign and unknown routes, so that any
    # request or error logging has had its chance
    for s in secrets:
        assert_status(d.get(tokens_path(), s), 200)
        assert_status(d.get(users_path(), s), 200)
        assert_status(d.post(tokens_path(), s, json={"description": "x"}), 403)
        assert_status(d.get(clusters_path(ACCOUNT_B), s), 404)
        assert_status(d.get("/no/such/path", s), 404)
        # malformed body: 400 or 403 depending on which check runs first; either is fine here
        d.post(tokens_path(), s, data=b"{", headers={"Content-Type": "application/json"})
    # revoke one, then use it again (401 path)
    tid = next(t["id"] for t in d.list_tokens() if t["description"] == "over http")
    assert_status(d.delete(tokens_path(token_id=tid), admin_jwt), 204)
    assert_status(d.get(tokens_path(), over_http), 401)

    for s in secrets:
        assert_nowhere_on_disk(d, s)
    # the JWT is a credential too
    assert_secret_absent(d.log_bytes(), admin_jwt.split(".")[2], where="log")

    # after a clean stop the WAL has been folded into the database: look again
    d.stop_ok()
    for s in secrets:
        assert_nowhere_on_disk(d, s)
    # and the key is not in the database either (PostgreSQL holds a one-way fingerprint)
    key = (d.data_dir / "token.key").read_bytes()
    stored = b"".join(open(p, "rb").read() for p in d.store_files()
                      if os.path.basename(p) != "token.key")
    assert key not in stored
    assert key.hex().encode() not in stored
    assert key not in d.log_bytes()
