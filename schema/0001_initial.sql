-- 0001_initial.sql - accounts, clusters, users and management tokens.
--
-- Applied by store_sqlite.c inside one BEGIN IMMEDIATE transaction that also sets
-- PRAGMA user_version = 1, so this file holds no BEGIN/COMMIT of its own.
-- Times are INTEGER milliseconds since the Unix epoch. Optional values are
-- NULL when absent (the C structs show them as "" or 0). Ids are UUID text.

CREATE TABLE accounts (
	id TEXT PRIMARY KEY NOT NULL,
	name TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE clusters (
	id TEXT PRIMARY KEY NOT NULL,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	name TEXT NOT NULL,
	url TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX clusters_by_account ON clusters (account_id, created_at);

-- email is matched without regard to ASCII case (NOCASE), everywhere, so that
-- one person cannot be added twice as Ann@x and ann@x. Several users may lack
-- an idp_subject: UNIQUE treats NULLs as distinct.
CREATE TABLE users (
	id TEXT PRIMARY KEY NOT NULL,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	email TEXT NOT NULL COLLATE NOCASE,
	first_name TEXT,
	last_name TEXT,
	grp TEXT NOT NULL CHECK (grp IN ('admin', 'member', 'auditor')),
	idp_subject TEXT,
	created_at INTEGER NOT NULL,
	UNIQUE (account_id, email COLLATE NOCASE),
	UNIQUE (account_id, idp_subject)
) STRICT;

CREATE INDEX users_by_account ON users (account_id, created_at);

-- Only a keyed hash of each secret is kept; hash_scheme names how it was made
-- (token.h TOKEN_HASH_SCHEME) so that the scheme can change later.
-- created_by and revoked_by are not foreign keys: a token's history outlives
-- the user who created or revoked it.
CREATE TABLE management_tokens (
	id TEXT PRIMARY KEY NOT NULL,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	description TEXT NOT NULL,
	prefix TEXT NOT NULL,
	hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 64),
	hash_scheme TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	created_by TEXT,
	expires_at INTEGER,
	revoked_at INTEGER,
	revoked_by TEXT,
	last_used_at INTEGER
) STRICT;

CREATE INDEX management_tokens_by_account ON management_tokens (account_id, created_at);
