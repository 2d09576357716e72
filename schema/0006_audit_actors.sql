-- 0006_audit_actors.sql - database tokens become actors of the audit trail.
--
-- Applied by store_sqlite.c inside one BEGIN IMMEDIATE transaction that also
-- sets PRAGMA user_version = 6.
--
-- A refused credential is recorded only when it is a token of the account
-- (a revoked or expired one); a refused database token is then named as
-- such, not as "anonymous". Rows written before keep their actor type.
-- SQLite cannot change a CHECK constraint in place, so the table is built
-- again with the same rows, ids and AUTOINCREMENT sequence.
CREATE TABLE audit_events_next (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id TEXT NOT NULL,
	at INTEGER NOT NULL,
	actor_type TEXT NOT NULL
		CHECK (actor_type IN ('user', 'managementToken', 'databaseToken', 'local',
		                      'anonymous')),
	actor_id TEXT,
	credential TEXT,
	action TEXT NOT NULL,
	object_type TEXT,
	object_id TEXT,
	client TEXT,
	outcome TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'failed', 'refused')),
	status INTEGER,
	detail TEXT
) STRICT;

INSERT INTO audit_events_next (id, account_id, at, actor_type, actor_id, credential, action,
                               object_type, object_id, client, outcome, status, detail)
	SELECT id, account_id, at, actor_type, actor_id, credential, action, object_type,
	       object_id, client, outcome, status, detail
	FROM audit_events;

-- Ids are never handed out twice, also when the newest rows were deleted.
DELETE FROM sqlite_sequence WHERE name = 'audit_events_next';
INSERT INTO sqlite_sequence (name, seq)
	SELECT 'audit_events_next', max(coalesce((SELECT seq FROM sqlite_sequence
	                                         WHERE name = 'audit_events'), 0),
	                                coalesce((SELECT max(id) FROM audit_events_next), 0));

DROP TABLE audit_events;
ALTER TABLE audit_events_next RENAME TO audit_events;
CREATE INDEX audit_events_by_account ON audit_events (account_id, id);
CREATE INDEX audit_events_by_time ON audit_events (at);
