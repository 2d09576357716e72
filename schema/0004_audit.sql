-- 0004_audit.sql - the audit trail, and facts about the store itself.
--
-- Applied by store.c inside one BEGIN IMMEDIATE transaction that also sets
-- PRAGMA user_version = 4. Times are INTEGER milliseconds since the epoch.

-- One row per change made through the API or the offline CLI (written in the
-- transaction of the change itself, so that there is never a change without
-- its row nor a row without its change), per refused attempt to change, and
-- per refused credential. account_id is not a foreign key: the trail outlives
-- what it names, and a refused credential names the account of the path it
-- was sent to. Nothing here is ever a secret: credential holds a token's
-- public prefix (M.V1.abcd) or a JWT's sub, never a credential.
-- id orders the trail (newest first is id DESC): "at" follows the clock,
-- which a test harness may move backwards.
CREATE TABLE audit_events (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id TEXT NOT NULL,
	at INTEGER NOT NULL,
	actor_type TEXT NOT NULL
		CHECK (actor_type IN ('user', 'managementToken', 'local', 'anonymous')),
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

CREATE INDEX audit_events_by_account ON audit_events (account_id, id);
CREATE INDEX audit_events_by_time ON audit_events (at);

-- Named facts about this store: token_key_fingerprint, the fingerprint of
-- the token.key its hashes were made with, so that a restore or a start
-- with another key is noticed before every token silently stops working.
CREATE TABLE store_meta (
	name TEXT PRIMARY KEY NOT NULL,
	value TEXT NOT NULL
) STRICT;
