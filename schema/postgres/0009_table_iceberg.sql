-- postgres/0009_table_iceberg.sql - a table's Iceberg export setting, as
-- ../0008_table_iceberg.sql adds it for SQLite.
--
-- Applied by store_pg.c in one transaction that also records version 9.
-- 0 (off) or 1 (on): smallint, not boolean, so that both backends share one
-- column list (TABLE_COLS in store_backend.h) and one decoder. The DEFAULT
-- fills existing rows (off) and keeps an older replica's INSERT valid while
-- replicas are upgraded one at a time (docs/scaling.md). The trigger of
-- 0007 already announces changes to database_tables; nothing reads this
-- column in a credential check anyway.
ALTER TABLE database_tables ADD COLUMN iceberg_export smallint NOT NULL DEFAULT 0
	CHECK (iceberg_export IN (0, 1));
