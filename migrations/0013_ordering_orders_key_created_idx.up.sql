-- Orders of one api key id newest first, for the admin API's list filtered
-- by key. Built concurrently (one statement: it cannot run in a
-- transaction).
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_api_key_id_created_at_idx ON orders (api_key_id, created_at, id) WHERE api_key_id IS NOT NULL;
