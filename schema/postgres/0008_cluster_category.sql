-- postgres/0008_cluster_category.sql - a cluster's category, the number influxctl
-- prints (schema/0007_cluster_category.sql says why). Applied by store_pg.c in one
-- transaction that also records version 8. Existing clusters, and new ones
-- whose seed says nothing, are 1.
ALTER TABLE clusters ADD COLUMN category INTEGER NOT NULL DEFAULT 1
	CHECK (category BETWEEN 0 AND 2147483647);
