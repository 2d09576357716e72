-- postgres/0002_databases.sql - databases, tables and database tokens
-- (CONTRACT 4), as ../0002_databases.sql holds them for SQLite.
--
-- Applied by store_pg.c in one transaction that also records version 2.

-- Database ids are positive integers from an identity, never handed out
-- twice. Deleting is soft (deleted_at); names are unique among live
-- databases of a cluster only: a partial unique index, which is what
-- decides between two replicas creating the same name at once.
CREATE TABLE databases (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts (id) DEFERRABLE,
	cluster_id text NOT NULL REFERENCES clusters (id) DEFERRABLE,
	name text NOT NULL,
	max_tables bigint NOT NULL CHECK (max_tables >= 1),
	max_columns_per_table bigint NOT NULL CHECK (max_columns_per_table >= 1),
	retention_period bigint NOT NULL CHECK (retention_period >= 0),
	partition_template text,
	created_at bigint NOT NULL,
	deleted_at bigint
);

CREATE UNIQUE INDEX databases_live_name ON databases (cluster_id, name)
	WHERE deleted_at IS NULL;
CREATE INDEX databases_by_cluster ON databases (cluster_id, created_at, id);

-- Tables belong to a database by id, so they follow it through a rename.
CREATE TABLE database_tables (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	database_id bigint NOT NULL REFERENCES databases (id) DEFERRABLE,
	name text NOT NULL,
	partition_template text,
	created_at bigint NOT NULL,
	deleted_at bigint
);

CREATE UNIQUE INDEX database_tables_live_name ON database_tables (database_id, name)
	WHERE deleted_at IS NULL;
CREATE INDEX database_tables_by_database ON database_tables (database_id, created_at, id);

-- Database tokens: only a keyed hash of the secret (UNIQUE: the data-plane
-- check is one index lookup by hash).
CREATE TABLE database_tokens (
	id text PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts (id) DEFERRABLE,
	cluster_id text NOT NULL REFERENCES clusters (id) DEFERRABLE,
	description text NOT NULL,
	hash bytea NOT NULL UNIQUE CHECK (length(hash) = 64),
	hash_scheme text NOT NULL,
	created_at bigint NOT NULL,
	created_by text,
	expires_at bigint,
	revoked_at bigint,
	seq bigint GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX database_tokens_by_cluster ON database_tokens (cluster_id, created_at, seq);

-- A token's permissions in the order given; resource is a database name or
-- '*' (tokens are bound to databases by name, as in the real service).
CREATE TABLE database_token_permissions (
	token_id text NOT NULL REFERENCES database_tokens (id) DEFERRABLE,
	position integer NOT NULL,
	action text NOT NULL CHECK (action IN ('read', 'write')),
	resource text NOT NULL,
	PRIMARY KEY (token_id, position)
);

CREATE INDEX database_token_permissions_by_grant
	ON database_token_permissions (token_id, action, resource);
