-- 0007_cluster_category.sql - a cluster's category, the number influxctl prints.
--
-- Applied by store_sqlite.c inside one BEGIN IMMEDIATE transaction that also
-- sets PRAGMA user_version = 7.
--
-- `influxctl cluster list|get --format json` prints "category": 1 for the docs'
-- one cluster; the names behind the numbers are not documented (docs/api.md,
-- Clusters). Existing clusters, and new ones whose seed says nothing, are 1.
ALTER TABLE clusters ADD COLUMN category INTEGER NOT NULL DEFAULT 1
	CHECK (category BETWEEN 0 AND 2147483647);
