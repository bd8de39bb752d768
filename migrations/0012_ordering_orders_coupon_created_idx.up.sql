-- Orders of one coupon code newest first, for the admin API's list filtered
-- by coupon. Built concurrently (one statement: it cannot run in a
-- transaction).
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_coupon_code_created_at_idx ON orders (coupon_code, created_at, id) WHERE coupon_code IS NOT NULL;
