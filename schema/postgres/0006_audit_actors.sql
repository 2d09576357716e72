-- postgres/0006_audit_actors.sql - database tokens become actors of the audit
-- trail, as ../0006_audit_actors.sql does for SQLite.
--
-- Applied by store_pg.c in one transaction that also records version 6.
-- A refused credential is recorded only when it is a token of the account (a
-- revoked or expired one); a refused database token is then named as such.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_type_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_type_check
	CHECK (actor_type IN ('user', 'managementToken', 'databaseToken', 'local', 'anonymous'));
