-- 0008_table_iceberg.sql - a table's Iceberg export setting
-- (`influxctl table iceberg enable|disable`, an mgmtd extension of the API).
--
-- Applied by store_sqlite.c inside one BEGIN IMMEDIATE transaction that also
-- sets PRAGMA user_version = 8.
--
-- 0 (off) or 1 (on). An integer rather than PostgreSQL's boolean so that both
-- backends keep the same column list (TABLE_COLS in store_backend.h) and one
-- decoder (STORE_COL_BOOL). Existing tables start off, as influxctl's do until
-- enabled; the DEFAULT also keeps an older mgmtd's INSERT (which names no
-- such column) valid during a rolling upgrade. ADD COLUMN keeps the rows and
-- their ids; SQLite tests a CHECK of a new column only on later writes, and
-- the DEFAULT satisfies it.
ALTER TABLE database_tables ADD COLUMN iceberg_export INTEGER NOT NULL DEFAULT 0
	CHECK (iceberg_export IN (0, 1));
