-- 0011_webhook_outbox.sql - events waiting for the webhook ([webhook] url), written in
-- the transaction of the change they tell of, so that none is lost and none is sent for
-- a change that rolled back. The sender deletes a row once the receiver took it, and
-- otherwise moves next_attempt_at on (backoff); a sender that claims a row moves it past
-- its lease, so that another replica does not send it meanwhile.
CREATE TABLE webhook_outbox (
	id TEXT PRIMARY KEY,
	account_id TEXT,
	type TEXT NOT NULL,
	body TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_error TEXT
);

CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at);
