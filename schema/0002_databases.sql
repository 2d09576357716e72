-- 0002_databases.sql - databases, tables and database tokens (CONTRACT 4).
--
-- Applied by store_sqlite.c inside one BEGIN IMMEDIATE transaction that also sets
-- PRAGMA user_version = 2. Times are INTEGER milliseconds since the Unix
-- epoch; optional values are NULL when absent.

-- Database ids are positive integers, as in the real service. AUTOINCREMENT
-- so that an id is never handed out twice, whatever happens to old rows.
-- Deleting is soft (deleted_at): a deleted database keeps its id, settings
-- and tables until it is undeleted. Its name is free at once for a new
-- database (the real service allows that too), so the uniqueness of names
-- holds among live databases only: a partial unique index.
-- partition_template is the JSON array as the client gave it (validated),
-- NULL when none was given; it never changes after creation.
CREATE TABLE databases (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	cluster_id TEXT NOT NULL REFERENCES clusters (id),
	name TEXT NOT NULL,
	max_tables INTEGER NOT NULL CHECK (max_tables >= 1),
	max_columns_per_table INTEGER NOT NULL CHECK (max_columns_per_table >= 1),
	retention_period INTEGER NOT NULL CHECK (retention_period >= 0),
	partition_template TEXT,
	created_at INTEGER NOT NULL,
	deleted_at INTEGER
) STRICT;

CREATE UNIQUE INDEX databases_live_name ON databases (cluster_id, name)
	WHERE deleted_at IS NULL;
CREATE INDEX databases_by_cluster ON databases (cluster_id, created_at);

-- Tables belong to a database by id, so they follow it through a rename.
-- Same soft-delete and live-name rules as databases, per database.
CREATE TABLE database_tables (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	database_id INTEGER NOT NULL REFERENCES databases (id),
	name TEXT NOT NULL,
	partition_template TEXT,
	created_at INTEGER NOT NULL,
	deleted_at INTEGER
) STRICT;

CREATE UNIQUE INDEX database_tables_live_name ON database_tables (database_id, name)
	WHERE deleted_at IS NULL;
CREATE INDEX database_tables_by_database ON database_tables (database_id, created_at);

-- Database tokens: like management tokens, only a keyed hash of the secret
-- is kept (UNIQUE: the data-plane check is one index lookup by hash).
-- created_by is the user or management token that created it (not shown by
-- the API; kept for the operator), not a foreign key.
CREATE TABLE database_tokens (
	id TEXT PRIMARY KEY NOT NULL,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	cluster_id TEXT NOT NULL REFERENCES clusters (id),
	description TEXT NOT NULL,
	hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 64),
	hash_scheme TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	created_by TEXT,
	expires_at INTEGER,
	revoked_at INTEGER
) STRICT;

CREATE INDEX database_tokens_by_cluster ON database_tokens (cluster_id, created_at);

-- A token's permissions, in the order given. Tokens are bound to databases
-- by name, as in the real service: resource is a database name or '*', not
-- a database id, so a renamed database is out of reach of the old tokens and
-- a new database with an old name is within it. The primary key makes the
-- permission check of /authorize an index lookup under the token's id.
CREATE TABLE database_token_permissions (
	token_id TEXT NOT NULL REFERENCES database_tokens (id),
	position INTEGER NOT NULL,
	action TEXT NOT NULL CHECK (action IN ('read', 'write')),
	resource TEXT NOT NULL,
	PRIMARY KEY (token_id, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX database_token_permissions_by_grant
	ON database_token_permissions (token_id, action, resource);
