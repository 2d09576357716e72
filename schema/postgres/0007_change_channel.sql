-- postgres/0007_change_channel.sql - every change to what a credential check
-- reads is announced on the channel mgmtd_change.
--
-- Applied by store_pg.c in one transaction that also records version 7.
-- Each mgmtd server LISTENs on the channel (store_pg.c, the change channel)
-- and drops what its credential caches hold at every notification, so that a
-- revocation made through another replica, an offline command or psql is
-- honoured within moments everywhere. A trigger rather than a NOTIFY in
-- mgmtd's own statements: it also sees changes made by hand. PostgreSQL
-- sends a transaction's notifications when it commits, never for one rolled
-- back, and folds identical ones into one. The audit trail (written with
-- every change anyway, and by refused credentials) announces nothing.
CREATE FUNCTION mgmtd_announce_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('mgmtd_change', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER accounts_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
	FOR EACH STATEMENT EXECUTE FUNCTION mgmtd_announce_change();
CREATE TRIGGER clusters_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON clusters
	FOR EACH STATEMENT EXECUTE FUNCTION mgmtd_announce_change();
CREATE TRIGGER users_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION mgmtd_announce_change();
CREATE TRIGGER management_tokens_announce
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON management_tokens
	FOR EACH STATEMENT EXECUTE FUNCTION mgmtd_announce_change();
CREATE TRIGGER databases_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON databases
	FOR EACH STATEMENT EXECUTE FUNCTION mgmtd_announce_change();
CREATE TRIGGER database_tables_announce
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON database_tables
	FOR EACH STATEMENT EXECUTE FUNCTION mgmtd_announce_change();
CREATE TRIGGER database_tokens_announce
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON database_tokens
	FOR EACH STATEMENT EXECUTE FUNCTION mgmtd_announce_change();
CREATE TRIGGER database_token_permissions_announce
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON database_token_permissions
	FOR EACH STATEMENT EXECUTE FUNCTION mgmtd_announce_change();
CREATE TRIGGER invites_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON invites
	FOR EACH STATEMENT EXECUTE FUNCTION mgmtd_announce_change();
