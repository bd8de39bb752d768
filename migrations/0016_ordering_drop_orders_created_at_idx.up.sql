-- orders_created_at_covering_idx (0014) serves every range of created_at
-- this one did.
DROP INDEX CONCURRENTLY IF EXISTS orders_created_at_idx;
