-- The statement of one POST /api/order, for pgbench: the check that the
-- prices the order was computed with are still the catalogue's
-- (modules/catalog/service.go SamePricesSQL), the Idempotency-Key claim,
-- the order and its items, all in one (modules/ordering/store.go qCreate,
-- the path of every order without a limited coupon when the catalogue's
-- cache priced it, as with production's catalog.cache_ttl). Two items of
-- random products, half the orders with a coupon, as the load test's
-- orders, with time-ordered order ids as the server's and random
-- idempotency keys as clients send them. The script's prices are fixed,
-- so the check compares each product's row with itself: the same index
-- lookups and row reads.
\set p1 random(1, 9)
\set p2 random(1, 9)
\set q1 random(1, 3)
\set q2 random(1, 3)
\set coupon random(0, 1)
\set subtotal 650 * :q1 + 700 * :q2
\set discount :coupon * :subtotal * 18 / 100
\set total :subtotal - :discount
WITH ids AS (
    -- A UUIDv7 as the server makes its order ids: the Unix milliseconds in
    -- the first 48 bits of a random UUID, version bits 0100 made 0111.
    SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
               PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
               FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid AS id
),
fresh AS (
    SELECT (SELECT count(*) FROM unnest(ARRAY[:p1, :p2]::bigint[]) AS g(id)
            JOIN products p ON p.id = g.id AND p.price_cents = p.price_cents AND p.name = p.name
                 AND p.category = p.category AND p.removed_at IS NULL) = 2 AS ok
),
claim AS (
    INSERT INTO idempotency_keys (scope, key, request_hash, order_id, response, expires_at)
    SELECT 'loadtest', gen_random_uuid()::text, sha256(ids.id::text::bytea), ids.id,
           convert_to(repeat('x', 1000), 'UTF8'), now() + interval '24 hours'
    FROM ids
    WHERE (SELECT ok FROM fresh)
    ON CONFLICT (scope, key) DO UPDATE
    SET response = EXCLUDED.response
    WHERE idempotency_keys.expires_at <= now()
    RETURNING true
), ord AS (
    INSERT INTO orders (id, coupon_code, subtotal_cents, discount_cents, total_cents)
    SELECT ids.id, CASE WHEN :coupon = 1 THEN 'HAPPYHRS' END, :subtotal, :discount, :total
    FROM ids
    WHERE (SELECT ok FROM fresh) AND EXISTS (SELECT FROM claim)
    RETURNING id
), items AS (
    INSERT INTO order_items (order_id, position, product_id, quantity, unit_price_cents)
    SELECT ord.id, t.position, t.product_id, t.quantity, t.unit_price_cents
    FROM ord, unnest(ARRAY[0, 1]::int[], ARRAY[:p1, :p2]::bigint[], ARRAY[:q1, :q2]::int[], ARRAY[650, 700]::bigint[])
         AS t(position, product_id, quantity, unit_price_cents)
)
SELECT EXISTS (SELECT FROM ord), (SELECT ok FROM fresh);
