"""Upgrading a store whose tables predate the Iceberg export setting (SQLite
0008_table_iceberg, PostgreSQL 0009_table_iceberg): every table, live or deleted, keeps
its id and name and starts with icebergExport false; the setting then works on it.

The old store is written as mgmtd wrote it just before: the repository's own migration
files up to SQLite 0006 / PostgreSQL 0007 (never edited once released), then rows of
that shape, as test_identity_upgrade.py does for its own migration."""

from conftest import (
    ACCOUNT_A,
    CLUSTER_A,
    USERS,
    assert_error,
    ok_json,
    tables_path,
)
import oldstore

OLD_SQLITE, OLD_POSTGRES = 6, 7


def old_rows():
    """Account A, its users (subjects bound to the one issuer at start), cluster A, and a
    database with two live tables and a deleted one."""
    sql = ["INSERT INTO accounts (id, name, created_at) VALUES ('%s', 'A', 1000);" % ACCOUNT_A,
           "INSERT INTO clusters (id, account_id, name, url, created_at) VALUES "
           "('%s', '%s', 'cluster-a', 'https://a.example.test', 1000);" % (CLUSTER_A, ACCOUNT_A)]
    for i, (email, group, subject, account) in enumerate(USERS.values()):
        if account != ACCOUNT_A:
            continue
        sql.append("INSERT INTO users (id, account_id, email, grp, idp_subject, created_at) "
                   "VALUES ('44444444-4444-4444-8444-%012d', '%s', '%s', '%s', %s, %d);"
                   % (i + 1, account, email, group,
                      "'%s'" % subject if subject else "NULL", 1000 + i))
    sql.append("INSERT INTO databases (account_id, cluster_id, name, max_tables, "
               "max_columns_per_table, retention_period, created_at) VALUES "
               "('%s', '%s', 'olddb', 500, 250, 0, 1000);" % (ACCOUNT_A, CLUSTER_A))
    for name, deleted in (("cpu", "NULL"), ("mem", "NULL"), ("gone", "2000")):
        sql.append("INSERT INTO database_tables (database_id, name, created_at, deleted_at) "
                   "SELECT id, '%s', 1000, %s FROM databases WHERE name = 'olddb';"
                   % (name, deleted))
    return "\n".join(sql)


def write_old_store(d):
    oldstore.write_old_store(d, OLD_SQLITE, OLD_POSTGRES, old_rows())

def test_old_tables_start_without_iceberg_export_and_can_switch(daemon_factory):
    d = daemon_factory(seed=False, start=False)
    write_old_store(d)
    d.start()
    migration = "0008_table_iceberg.sql" if d.backend == "sqlite" else "0009_table_iceberg.sql"
    assert migration in d.log_since_start()
    admin = d.jwt("admin")
    live = ok_json(d.get(tables_path("olddb"), admin))
    assert [(t["name"], t["icebergExport"]) for t in live] == [("cpu", False), ("mem", False)]
    deleted = ok_json(d.get(tables_path("olddb"), admin, params={"status": "deleted"}))
    assert [(t["name"], t["icebergExport"]) for t in deleted] == [("gone", False)]
    ids = {t["name"]: t["id"] for t in live + deleted}

    on = ok_json(d.put(tables_path("olddb", name="mem", suffix="iceberg/enable"), admin))
    assert (on["id"], on["icebergExport"]) == (ids["mem"], True)
    assert_error(d.put(tables_path("olddb", name="gone", suffix="iceberg/enable"), admin), 404)
    # the setting is stored, not held in memory: it survives a restart
    d.restart()
    live = ok_json(d.get(tables_path("olddb"), d.jwt("admin")))
    assert {t["name"]: t["icebergExport"] for t in live} == {"cpu": False, "mem": True}
