-- postgres/0004_audit.sql - the audit trail (CONTRACT 5), as ../0004_audit.sql
-- holds it for SQLite. The facts about the store (the token key's
-- fingerprint) live in mgmtd_settings (0001), SQLite's store_meta.
--
-- Applied by store_pg.c in one transaction that also records version 4.
-- One row per change made through the API or the offline CLI, written in the
-- change's own transaction; per refused attempt; per refused credential.
-- account_id is not a foreign key: the trail outlives what it names. Nothing
-- here is ever a secret. id orders the trail (newest first is id DESC); with
-- several replicas ids are handed out in order, and a row may commit a
-- moment after one with a higher id.
CREATE TABLE audit_events (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id text NOT NULL,
	at bigint NOT NULL,
	actor_type text NOT NULL
		CHECK (actor_type IN ('user', 'managementToken', 'local', 'anonymous')),
	actor_id text,
	credential text,
	action text NOT NULL,
	object_type text,
	object_id text,
	client text,
	outcome text NOT NULL CHECK (outcome IN ('success', 'denied', 'failed', 'refused')),
	status integer,
	detail text
);

CREATE INDEX audit_events_by_account ON audit_events (account_id, id);
CREATE INDEX audit_events_by_time ON audit_events (at);
