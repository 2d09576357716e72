"""A store as an older mgmtd left it: the repository's own migrations up to a version,
then rows written with SQL, for the upgrade tests (test_identity_upgrade.py,
test_table_iceberg_upgrade.py)."""

import sqlite3
from pathlib import Path

SCHEMA = Path(__file__).resolve().parents[2] / "schema"


def write_old_store(d, sqlite_version, postgres_version, rows_sql):
    """d's store (SQLite file or PostgreSQL database) at the given schema version of its
    backend, with rows_sql run after the migrations."""
    if d.backend == "sqlite":
        d.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = d.data_dir / "mgmtd.db"
        db = sqlite3.connect(str(path))
        for n in range(1, sqlite_version + 1):
            db.executescript(next(SCHEMA.glob("%04d_*.sql" % n)).read_text())
        db.executescript(rows_sql)
        db.execute("PRAGMA user_version = %d" % sqlite_version)
        db.commit()
        db.close()
        path.chmod(0o600)
        return
    script = ["CREATE TABLE mgmtd_schema (version integer PRIMARY KEY, name text NOT NULL, "
              "applied_at bigint NOT NULL);"]
    for n in range(1, postgres_version + 1):
        f = next((SCHEMA / "postgres").glob("%04d_*.sql" % n))
        script.append(f.read_text())
        script.append("INSERT INTO mgmtd_schema VALUES (%d, '%s', 1000);" % (n, f.name))
    script.append(rows_sql)
    d.pg_store.psql("\n".join(script))
