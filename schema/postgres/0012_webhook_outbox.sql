-- postgres/0012_webhook_outbox.sql - events waiting for the webhook ([webhook] url), as
-- SQLite's 0011: written in the transaction of the change they tell of; deleted once the
-- receiver took them; claimed by one replica at a time (FOR UPDATE SKIP LOCKED and a
-- lease in next_attempt_at).
CREATE TABLE webhook_outbox (
	id text PRIMARY KEY,
	account_id text,
	type text NOT NULL,
	body text NOT NULL,
	created_at bigint NOT NULL,
	attempts bigint NOT NULL DEFAULT 0,
	next_attempt_at bigint NOT NULL,
	last_error text
);

CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at);
