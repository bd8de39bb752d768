-- Orders newest first, ties by id: the admin API's order list walks it
-- backwards from its cursor, and its reports read a range of created_at
-- through it. Built concurrently, so orders keep being written while it
-- builds (one statement: it cannot run in a transaction).
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_id_idx ON orders (created_at, id);
