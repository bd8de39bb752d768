-- Redemption counters belong to the promo module: one row per limited code,
-- incremented inside the order transaction only while under the limit, so
-- the limit holds across any number of server instances.
CREATE TABLE coupon_redemptions (
    code      TEXT   PRIMARY KEY,
    redeemed  BIGINT NOT NULL CHECK (redeemed >= 0)
);
