-- 0003_invites.sql - invitations of people into an account (CONTRACT 5).
--
-- Applied by store_sqlite.c inside one BEGIN IMMEDIATE transaction that also sets
-- PRAGMA user_version = 3. Times are INTEGER milliseconds since the Unix
-- epoch; optional values are NULL when absent.
--
-- An invite is open until it is accepted, revoked or replaced. An open invite
-- is pending while expires_at is in the future and expired after; the status
-- the API shows is derived from these columns and the clock. Making a new
-- invite for an email whose open invite has expired first closes the old one
-- (replaced_at), so that the unique index below can say "at most one open
-- invite per email and account": a second invite while one is pending fails
-- in the database, whatever the callers race to do.
--
-- invited_by, revoked_by (a user or management-token id) and
-- accepted_user_id are not foreign keys: the history outlives the people.
-- invited_by is NULL for invites made offline (the CLI, the seed).
CREATE TABLE invites (
	id TEXT PRIMARY KEY NOT NULL,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	email TEXT NOT NULL COLLATE NOCASE,
	grp TEXT NOT NULL CHECK (grp IN ('admin', 'member', 'auditor')),
	invited_at INTEGER NOT NULL,
	invited_by TEXT,
	expires_at INTEGER NOT NULL CHECK (expires_at > invited_at),
	accepted_at INTEGER,
	accepted_user_id TEXT,
	revoked_at INTEGER,
	revoked_by TEXT,
	replaced_at INTEGER,
	CHECK ((accepted_at IS NULL) = (accepted_user_id IS NULL)),
	CHECK (accepted_at IS NULL OR (revoked_at IS NULL AND replaced_at IS NULL))
) STRICT;

CREATE UNIQUE INDEX invites_open_email ON invites (account_id, email)
	WHERE accepted_at IS NULL AND revoked_at IS NULL AND replaced_at IS NULL;
CREATE INDEX invites_by_account ON invites (account_id, invited_at);
