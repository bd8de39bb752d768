DROP TABLE IF EXISTS coupon_redemptions;
