-- 0005_user_issuer.sql - a user's identity is the pair (issuer, subject) (CONTRACT 2).
--
-- Applied by store_sqlite.c inside one BEGIN IMMEDIATE transaction that also sets
-- PRAGMA user_version = 5.
--
-- idp_issuer names the identity provider that vouches for idp_subject: the issuer
-- URL of an [idp] or [idp NAME] section, exactly as its JWTs carry it in "iss", or
-- 'dev_idp' for the built-in dev IdP, whose URL holds a port that may change at
-- every start (server/identity.h). A subject is unique only within its issuer
-- (OpenID Connect Core 1.0, 2), so UNIQUE (account_id, idp_subject) gives way to
-- UNIQUE (account_id, idp_issuer, idp_subject). An issuer without a subject limits
-- the one-time match by verified email to that provider.
--
-- SQLite cannot drop a table constraint, so the table is rebuilt; nothing refers
-- to users by foreign key. rowid order is kept: it breaks ties of created_at.
--
-- A migration cannot know the configuration: existing subjects keep idp_issuer
-- NULL ("unbound") here, and mgmtd binds them at start to the only configured
-- issuer, or refuses to start while several are configured (docs/operations.md,
-- "Users from before issuers were recorded"; `mgmtd user bind`).

CREATE TABLE users_new (
	id TEXT PRIMARY KEY NOT NULL,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	email TEXT NOT NULL COLLATE NOCASE,
	first_name TEXT,
	last_name TEXT,
	grp TEXT NOT NULL CHECK (grp IN ('admin', 'member', 'auditor')),
	idp_subject TEXT,
	idp_issuer TEXT,
	created_at INTEGER NOT NULL,
	UNIQUE (account_id, email COLLATE NOCASE),
	UNIQUE (account_id, idp_issuer, idp_subject)
) STRICT;

INSERT INTO users_new (id, account_id, email, first_name, last_name, grp, idp_subject,
                       created_at)
	SELECT id, account_id, email, first_name, last_name, grp, idp_subject, created_at
	FROM users ORDER BY rowid;

DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

CREATE INDEX users_by_account ON users (account_id, created_at);
