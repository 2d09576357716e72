-- postgres/0011_db_token_last_used.sql - database tokens' lastUsedAt and the
-- record that a token's coming expiry was announced, as
-- ../0010_db_token_last_used.sql adds them for SQLite.
--
-- Applied by store_pg.c in one transaction that also records version 11
-- (0010 is another change's number; versions need only rise). Nullable
-- columns without defaults: existing rows read NULL (never used, not
-- announced) and an older replica's INSERT stays valid during an upgrade.
-- expiry_warned_at is claimed by UPDATE ... WHERE expiry_warned_at IS NULL
-- RETURNING, so of several replicas one logs each warning.
ALTER TABLE database_tokens ADD COLUMN last_used_at bigint;
ALTER TABLE database_tokens ADD COLUMN expiry_warned_at bigint;
ALTER TABLE management_tokens ADD COLUMN expiry_warned_at bigint;
