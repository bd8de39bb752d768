-- orders_created_at_covering_idx (0014) serves everything this one did.
DROP INDEX CONCURRENTLY IF EXISTS orders_created_at_id_idx;
