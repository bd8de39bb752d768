-- The statements of one POST /api/order, for pgbench: the catalogue lookup
-- (modules/catalog/store.go ByIDs), then the Idempotency-Key claim, the
-- order and its items in one statement (modules/ordering/store.go qCreate,
-- the path of every order without a limited coupon). Two items of random
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
WITH ids AS (SELECT gen_random_uuid() AS id),
claim AS (
    INSERT INTO idempotency_keys (scope, key, request_hash, order_id, response, expires_at)
    SELECT 'loadtest', gen_random_uuid()::text, sha256(ids.id::text::bytea), ids.id,
           convert_to(repeat('x', 1000), 'UTF8'), now() + interval '24 hours'
    FROM ids
    ON CONFLICT (scope, key) DO UPDATE
    SET response = EXCLUDED.response
    WHERE idempotency_keys.expires_at <= now()
    RETURNING true
), ord AS (
    INSERT INTO orders (id, coupon_code, subtotal_cents, discount_cents, total_cents)
    SELECT ids.id, CASE WHEN :coupon = 1 THEN 'HAPPYHRS' END, :subtotal, :discount, :total
    FROM ids
    WHERE EXISTS (SELECT FROM claim)
    RETURNING id
), items AS (
    INSERT INTO order_items (order_id, position, product_id, quantity, unit_price_cents)
    SELECT ord.id, t.position, t.product_id, t.quantity, t.unit_price_cents
    FROM ord, unnest(ARRAY[0, 1]::int[], ARRAY[:p1, :p2]::bigint[], ARRAY[:q1, :q2]::int[], ARRAY[650, 700]::bigint[])
         AS t(position, product_id, quantity, unit_price_cents)
)
SELECT EXISTS (SELECT FROM ord);
