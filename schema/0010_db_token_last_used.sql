-- 0010_db_token_last_used.sql - database tokens' lastUsedAt, and the record
-- that a token's coming expiry was announced (issue 24).
--
-- Applied by store_sqlite.c inside one BEGIN IMMEDIATE transaction that also
-- sets PRAGMA user_version = 10 (0009 is another change's number; versions
-- need only rise).
--
-- last_used_at: milliseconds, NULL = never used; /authorize writes it at most
-- once a minute per token, as management tokens' own column.
-- expiry_warned_at: milliseconds, NULL = not yet announced; the maintenance
-- pass sets it in the same UPDATE that picks the token (expiry.c), so the
-- warning is logged once per token, across restarts and processes.
ALTER TABLE database_tokens ADD COLUMN last_used_at INTEGER;
ALTER TABLE database_tokens ADD COLUMN expiry_warned_at INTEGER;
ALTER TABLE management_tokens ADD COLUMN expiry_warned_at INTEGER;
