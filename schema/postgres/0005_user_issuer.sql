-- postgres/0005_user_issuer.sql - a user's identity is the pair (issuer,
-- subject) (CONTRACT 2), as ../0005_user_issuer.sql makes it for SQLite.
--
-- Applied by store_pg.c in one transaction that also records version 5.
-- idp_issuer is the issuer URL of an [idp] or [idp NAME] section, exactly as
-- its JWTs carry it in "iss", or 'dev_idp' for the built-in dev IdP
-- (server/identity.h). A subject is unique only within its issuer, so the
-- unique constraint of 0001 (its default name) gives way to one over
-- (account_id, idp_issuer, idp_subject).
--
-- Existing subjects keep idp_issuer NULL ("unbound"); mgmtd binds them at
-- start to the only configured issuer, or refuses to start while several are
-- configured (docs/operations.md; `mgmtd user bind`).

ALTER TABLE users ADD COLUMN idp_issuer text;
ALTER TABLE users DROP CONSTRAINT users_account_id_idp_subject_key;
ALTER TABLE users ADD CONSTRAINT users_identity UNIQUE (account_id, idp_issuer, idp_subject);
