-- postgres/0003_invites.sql - invitations of people into an account (CONTRACT 5),
-- as ../0003_invites.sql holds them for SQLite.
--
-- Applied by store_pg.c in one transaction that also records version 3.
-- An invite is open until it is accepted, revoked or replaced; the partial
-- unique index says "at most one open invite per email and account", so two
-- replicas inviting one person at once cannot both succeed. email is matched
-- without regard to ASCII case, as users' is (lower() under "C"). invited_by,
-- revoked_by and accepted_user_id are not foreign keys: the history outlives
-- the people.
CREATE TABLE invites (
	id text PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts (id) DEFERRABLE,
	email text NOT NULL,
	grp text NOT NULL CHECK (grp IN ('admin', 'member', 'auditor')),
	invited_at bigint NOT NULL,
	invited_by text,
	expires_at bigint NOT NULL CHECK (expires_at > invited_at),
	accepted_at bigint,
	accepted_user_id text,
	revoked_at bigint,
	revoked_by text,
	replaced_at bigint,
	seq bigint GENERATED ALWAYS AS IDENTITY,
	CHECK ((accepted_at IS NULL) = (accepted_user_id IS NULL)),
	CHECK (accepted_at IS NULL OR (revoked_at IS NULL AND replaced_at IS NULL))
);

CREATE UNIQUE INDEX invites_open_email ON invites (account_id, lower(email COLLATE "C"))
	WHERE accepted_at IS NULL AND revoked_at IS NULL AND replaced_at IS NULL;
CREATE INDEX invites_by_account ON invites (account_id, invited_at, seq);
CREATE INDEX invites_by_email ON invites (lower(email COLLATE "C"));
