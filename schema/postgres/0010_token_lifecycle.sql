-- postgres/0010_token_lifecycle.sql - rotation with a grace window,
-- suspension and resumption of both kinds of token, as
-- ../0009_token_lifecycle.sql adds them for SQLite (read it for the meaning
-- of each column).
--
-- Applied by store_pg.c in one transaction that also records version 10.
-- The triggers of 0007 already announce changes to both tables, so a
-- rotation or a suspension reaches every replica's credential cache as a
-- revocation does; the end of a grace is a time, compared on each use.
ALTER TABLE management_tokens
	ADD COLUMN previous_hash bytea
		CHECK (previous_hash IS NULL OR length(previous_hash) = 64),
	ADD COLUMN previous_hash_scheme text,
	ADD COLUMN previous_expires_at bigint,
	ADD COLUMN previous_last_used_at bigint,
	ADD COLUMN suspended_at bigint,
	ADD COLUMN suspended_by text;

ALTER TABLE database_tokens
	ADD COLUMN previous_hash bytea
		CHECK (previous_hash IS NULL OR length(previous_hash) = 64),
	ADD COLUMN previous_hash_scheme text,
	ADD COLUMN previous_expires_at bigint,
	ADD COLUMN previous_last_used_at bigint,
	ADD COLUMN suspended_at bigint,
	ADD COLUMN suspended_by text;

CREATE UNIQUE INDEX management_tokens_previous_hash ON management_tokens (previous_hash)
	WHERE previous_hash IS NOT NULL;
CREATE UNIQUE INDEX database_tokens_previous_hash ON database_tokens (previous_hash)
	WHERE previous_hash IS NOT NULL;
