-- Orders by coupon code: a limited code's redemption counter starts from the
-- orders already stored with the code. Built concurrently, so orders keep
-- being written while it builds (one statement: it cannot run in a
-- transaction).
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_coupon_code_idx ON orders (coupon_code) WHERE coupon_code IS NOT NULL;
