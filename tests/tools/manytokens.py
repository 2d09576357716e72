#!/usr/bin/python3
"""Many tokens at once, written with SQL behind a stopped mgmtd's back: the store of an
account whose automation has made tokens for a year, without 100 000 HTTP calls.

fill_sql(backend, n, account, cluster, now_ms) is the SQL (one transaction) that adds
n management tokens to the account and n database tokens to its cluster, as valid rows
of the current schema: random UUID ids (so id order is not creation order), one a
second up to now_ms, a keyed-hash-sized random hash (no secret exists for them: they
are listed, never used), prefixes M.V1.xxxx spelled from the row number, descriptions
"bulk token 000042" with every 997th one longer ("... for the nightly export"), every
10th management token revoked and every 7th expired, every 10th database token revoked,
each database token allowed to read every database. Rows a test must find by
description carry the row number; nothing else in the account is touched.

fill_daemon(d, ...) does it to a stopped test daemon. As a command (the daemon stopped):
    tests/tools/manytokens.py sqlite DATA_DIR/mgmtd.db N ACCOUNT CLUSTER
    tests/tools/manytokens.py postgres POSTGRES_URL N ACCOUNT CLUSTER
"""
import sqlite3
import subprocess
import sys
import time

LONG_EVERY = 997
LONG_TAIL = " for the nightly export of the billing data"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def description(i: int) -> str:
    """The description row i gets (as the SQL below spells it)."""
    text = "bulk token %06d" % i
    return text + LONG_TAIL if i % LONG_EVERY == LONG_EVERY - 1 else text


def prefix(i: int) -> str:
    """The management-token prefix row i gets."""
    return "M.V1." + "".join(ALPHABET[(i >> (6 * k)) % 64] for k in (3, 2, 1, 0))


def fill_sql(backend: str, n: int, account: str, cluster: str, now_ms: int) -> str:
    pg = backend == "postgres"
    if pg:
        rows = "SELECT i FROM generate_series(0, %d) AS g(i)" % (n - 1)
        uuid = "gen_random_uuid()::text"
        hash_ = "sha512(convert_to(i::text || ':' || random()::text, 'UTF8'))"
        num = "lpad(i::text, 6, '0')"
    else:
        rows = ("WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < %d) "
                "SELECT i FROM g" % (n - 1))
        uuid = ("(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
                "substr(lower(hex(randomblob(2))), 2) || '-8' || "
                "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))")
        hash_ = "randomblob(64)"
        num = "printf('%06d', i)"
    desc = ("'bulk token ' || %s || CASE WHEN i %% %d = %d THEN '%s' ELSE '' END"
            % (num, LONG_EVERY, LONG_EVERY - 1, LONG_TAIL))
    pfx = "'M.V1.' || " + " || ".join("substr('%s', ((i / %d) %% 64) + 1, 1)" % (ALPHABET, 64 ** k)
                                      for k in (3, 2, 1, 0))
    created = "%d - (%d - i) * 1000" % (now_ms, n)
    return ";\n".join([
        "BEGIN",
        "INSERT INTO management_tokens (id, account_id, description, prefix, hash, hash_scheme, "
        "created_at, expires_at, revoked_at) SELECT %s, '%s', %s, %s, %s, 'hmac-sha512-v1', %s, "
        "CASE WHEN i %% 7 = 3 THEN %d - 1000 ELSE NULL END, "
        "CASE WHEN i %% 10 = 5 THEN %d - 500 ELSE NULL END FROM (%s) AS r"
        % (uuid, account, desc, pfx, hash_, created, now_ms, now_ms, rows),
        "INSERT INTO database_tokens (id, account_id, cluster_id, description, hash, hash_scheme, "
        "created_at, revoked_at) SELECT %s, '%s', '%s', %s, %s, 'hmac-sha512-v1', %s, "
        "CASE WHEN i %% 10 = 5 THEN %d - 500 ELSE NULL END FROM (%s) AS r"
        % (uuid, account, cluster, desc, hash_, created, now_ms, rows),
        "INSERT INTO database_token_permissions (token_id, position, action, resource) "
        "SELECT id, 0, 'read', '*' FROM database_tokens WHERE cluster_id = '%s' "
        "AND description LIKE 'bulk token %%'" % cluster,
        "COMMIT",
    ]) + ";\n"


def fill_sqlite(db_path, n, account, cluster, now_ms=None):
    con = sqlite3.connect(str(db_path), isolation_level=None)
    try:
        con.executescript(fill_sql("sqlite", n, account, cluster, now_ms or int(time.time() * 1000)))
    finally:
        con.close()


def fill_daemon(d, n, account, cluster):
    """Fills the store of a stopped test daemon (tests/integration/conftest.py's Daemon):
    its PostgreSQL database through psql, else its SQLite file."""
    assert d.proc is None, "stop the daemon first"
    now_ms = int(time.time() * 1000)
    if d.pg_store is not None:
        d.pg_store.psql(fill_sql("postgres", n, account, cluster, now_ms))
    else:
        fill_sqlite(d.data_dir / "mgmtd.db", n, account, cluster, now_ms)


def ties_sql(backend: str, k: int, account: str, cluster: str, created_ms: int):
    """k management and k database tokens all created at the same created_ms, inserted one
    at a time in descending id order (so that id order is the reverse of insertion order),
    described "tie token 00".. and (management) prefixed "M.V1.Tie" + one character: for the
    order of rows that share a createdAt. Returns (sql, management ids, database ids), the
    ids in insertion order."""
    import uuid
    pg = backend == "postgres"
    hash_ = ("sha512(convert_to('%s:' || random()::text, 'UTF8'))" if pg else "randomblob(64)")
    mgmt = sorted((str(uuid.uuid4()) for _ in range(k)), reverse=True)
    dbt = sorted((str(uuid.uuid4()) for _ in range(k)), reverse=True)
    stmts = ["BEGIN"]
    for j, tid in enumerate(mgmt):
        stmts.append("INSERT INTO management_tokens (id, account_id, description, prefix, hash, "
                     "hash_scheme, created_at) VALUES ('%s', '%s', 'tie token %02d', 'M.V1.Tie%s', "
                     "%s, 'hmac-sha512-v1', %d)"
                     % (tid, account, j, ALPHABET[j % 64], hash_.replace("%s", tid), created_ms))
    for j, tid in enumerate(dbt):
        stmts.append("INSERT INTO database_tokens (id, account_id, cluster_id, description, hash, "
                     "hash_scheme, created_at) VALUES ('%s', '%s', '%s', 'tie token %02d', %s, "
                     "'hmac-sha512-v1', %d)"
                     % (tid, account, cluster, j, hash_.replace("%s", tid), created_ms))
        stmts.append("INSERT INTO database_token_permissions (token_id, position, action, resource) "
                     "VALUES ('%s', 0, 'read', '*')" % tid)
    stmts.append("COMMIT")
    return ";\n".join(stmts) + ";\n", mgmt, dbt


def run_sql(d, sql):
    """Runs sql (one script) on the store of a stopped test daemon."""
    assert d.proc is None, "stop the daemon first"
    if d.pg_store is not None:
        d.pg_store.psql(sql)
        return
    con = sqlite3.connect(str(d.data_dir / "mgmtd.db"), isolation_level=None)
    try:
        con.executescript(sql)
    finally:
        con.close()


def main(argv):
    if len(argv) != 6 or argv[1] not in ("sqlite", "postgres"):
        sys.exit(__doc__.split("As a command")[1])
    backend, where, n, account, cluster = argv[1], argv[2], int(argv[3]), argv[4], argv[5]
    if backend == "sqlite":
        fill_sqlite(where, n, account, cluster)
    else:
        sql = fill_sql("postgres", n, account, cluster, int(time.time() * 1000))
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", where], input=sql,
                       text=True, check=True)


if __name__ == "__main__":
    main(sys.argv)
