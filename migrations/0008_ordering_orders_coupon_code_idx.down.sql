DROP INDEX CONCURRENTLY IF EXISTS orders_coupon_code_idx;
