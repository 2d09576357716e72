-- 0009_token_lifecycle.sql - rotation with a grace window, suspension and
-- resumption of both kinds of token (mgmtd extensions, docs/tokens.md
-- "Lifecycle").
--
-- Applied by store_sqlite.c inside one BEGIN IMMEDIATE transaction that also
-- sets PRAGMA user_version = 9.
--
-- A rotation moves hash to previous_hash (with its scheme) and stores the new
-- secret's hash; the previous secret works until previous_expires_at, then is
-- refused (and kept, so that a late use is recognised and audited). Only one
-- previous secret is kept: rotating again ends the oldest at once.
-- previous_last_used_at records the previous secret's uses during the grace.
-- suspended_at/suspended_by: refused like a revoked token until resumed.
-- Every column is NULL for a token never rotated nor suspended, so an older
-- mgmtd's INSERT (which names none of them) stays valid.
ALTER TABLE management_tokens ADD COLUMN previous_hash BLOB
	CHECK (previous_hash IS NULL OR length(previous_hash) = 64);
ALTER TABLE management_tokens ADD COLUMN previous_hash_scheme TEXT;
ALTER TABLE management_tokens ADD COLUMN previous_expires_at INTEGER;
ALTER TABLE management_tokens ADD COLUMN previous_last_used_at INTEGER;
ALTER TABLE management_tokens ADD COLUMN suspended_at INTEGER;
ALTER TABLE management_tokens ADD COLUMN suspended_by TEXT;

ALTER TABLE database_tokens ADD COLUMN previous_hash BLOB
	CHECK (previous_hash IS NULL OR length(previous_hash) = 64);
ALTER TABLE database_tokens ADD COLUMN previous_hash_scheme TEXT;
ALTER TABLE database_tokens ADD COLUMN previous_expires_at INTEGER;
ALTER TABLE database_tokens ADD COLUMN previous_last_used_at INTEGER;
ALTER TABLE database_tokens ADD COLUMN suspended_at INTEGER;
ALTER TABLE database_tokens ADD COLUMN suspended_by TEXT;

-- The credential checks look a secret up by hash OR previous_hash: each is
-- one index search (a multi-index OR), never a scan.
CREATE UNIQUE INDEX management_tokens_previous_hash ON management_tokens (previous_hash)
	WHERE previous_hash IS NOT NULL;
CREATE UNIQUE INDEX database_tokens_previous_hash ON database_tokens (previous_hash)
	WHERE previous_hash IS NOT NULL;
