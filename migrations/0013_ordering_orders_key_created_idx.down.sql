DROP INDEX CONCURRENTLY IF EXISTS orders_api_key_id_created_at_idx;
