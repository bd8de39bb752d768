-- The statements of one POST /api/order, for pgbench: the catalogue lookup
-- (modules/catalog/store.go ByIDs), then the order and its items in one
-- transaction (modules/ordering/store.go Create). Two items of random
-- products, half the orders with a coupon, as the load test's orders.
\set p1 random(1, 9)
\set p2 random(1, 9)
\set q1 random(1, 3)
\set q2 random(1, 3)
\set coupon random(0, 1)
\set subtotal 650 * :q1 + 700 * :q2
\set discount :coupon * :subtotal * 18 / 100
\set total :subtotal - :discount
SELECT id, name, category, price_cents, image_slug
FROM products
WHERE id = ANY(ARRAY[:p1, :p2]::bigint[]);
BEGIN;
INSERT INTO orders (id, coupon_code, subtotal_cents, discount_cents, total_cents)
VALUES (gen_random_uuid(), CASE WHEN :coupon = 1 THEN 'HAPPYHRS' END, :subtotal, :discount, :total)
RETURNING id \gset order_
INSERT INTO order_items (order_id, position, product_id, quantity, unit_price_cents)
SELECT CAST(:order_id AS uuid), t.position, t.product_id, t.quantity, t.unit_price_cents
FROM unnest(ARRAY[0, 1]::int[], ARRAY[:p1, :p2]::bigint[], ARRAY[:q1, :q2]::int[], ARRAY[650, 700]::bigint[])
     AS t(position, product_id, quantity, unit_price_cents);
COMMIT;
