DROP INDEX CONCURRENTLY IF EXISTS orders_created_at_covering_idx;
