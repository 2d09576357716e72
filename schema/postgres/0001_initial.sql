-- postgres/0001_initial.sql - accounts, clusters, users and management tokens,
-- as ../0001_initial.sql holds them for SQLite, plus mgmtd_settings.
--
-- Applied by store_pg.c in one transaction that also records version 1 in
-- mgmtd_schema, under the migration advisory lock; no BEGIN/COMMIT here.
-- Times are bigint milliseconds since the Unix epoch. Optional values are
-- NULL when absent (the C structs show them as "" or 0). Ids are UUID text.
-- seq (an identity) breaks ties of created_at in insertion order, as
-- SQLite's rowid does. Foreign keys are DEFERRABLE (still checked at each
-- statement) so that the test harness's reset can empty tables in any order.

-- Settings of the database as a whole: token_key_fingerprint (token.h), so
-- that replicas with different token keys refuse to start. Never the key.
CREATE TABLE mgmtd_settings (
	name text PRIMARY KEY,
	value text NOT NULL
);

CREATE TABLE accounts (
	id text PRIMARY KEY,
	name text NOT NULL,
	created_at bigint NOT NULL
);

CREATE TABLE clusters (
	id text PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts (id) DEFERRABLE,
	name text NOT NULL,
	url text NOT NULL,
	created_at bigint NOT NULL,
	seq bigint GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX clusters_by_account ON clusters (account_id, created_at, seq);

-- email is matched without regard to ASCII case, everywhere: lower() under
-- the "C" collation folds A-Z only, as SQLite's NOCASE does, whatever the
-- database's locale. Several users may lack an idp_subject: UNIQUE treats
-- NULLs as distinct.
CREATE TABLE users (
	id text PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts (id) DEFERRABLE,
	email text NOT NULL,
	first_name text,
	last_name text,
	grp text NOT NULL CHECK (grp IN ('admin', 'member', 'auditor')),
	idp_subject text,
	created_at bigint NOT NULL,
	seq bigint GENERATED ALWAYS AS IDENTITY,
	UNIQUE (account_id, idp_subject)
);

CREATE UNIQUE INDEX users_email ON users (account_id, lower(email COLLATE "C"));
CREATE INDEX users_by_email ON users (lower(email COLLATE "C"));
CREATE INDEX users_by_account ON users (account_id, created_at, seq);

-- Only a keyed hash of each secret is kept; hash_scheme names how it was made
-- (token.h TOKEN_HASH_SCHEME). created_by and revoked_by are not foreign
-- keys: a token's history outlives the user who created or revoked it.
CREATE TABLE management_tokens (
	id text PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts (id) DEFERRABLE,
	description text NOT NULL,
	prefix text NOT NULL,
	hash bytea NOT NULL UNIQUE CHECK (length(hash) = 64),
	hash_scheme text NOT NULL,
	created_at bigint NOT NULL,
	created_by text,
	expires_at bigint,
	revoked_at bigint,
	revoked_by text,
	last_used_at bigint,
	seq bigint GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX management_tokens_by_account ON management_tokens (account_id, created_at, seq);
