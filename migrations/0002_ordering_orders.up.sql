-- Orders belong to the ordering module. Each item keeps the unit price it was
-- sold at, and the order keeps its amounts, so later price changes never
-- rewrite history. product_id has no foreign key: products belong to another
-- module, which ordering reaches only through the catalog service.
CREATE TABLE orders (
    id             UUID        PRIMARY KEY,
    coupon_code    TEXT        NULL CHECK (coupon_code IS NULL OR coupon_code <> ''),
    subtotal_cents BIGINT      NOT NULL CHECK (subtotal_cents >= 0),
    discount_cents BIGINT      NOT NULL CHECK (discount_cents >= 0 AND discount_cents <= subtotal_cents),
    total_cents    BIGINT      NOT NULL CHECK (total_cents = subtotal_cents - discount_cents),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE order_items (
    order_id         UUID    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position         INT     NOT NULL CHECK (position >= 0),
    product_id       BIGINT  NOT NULL,
    quantity         INT     NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT  NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, position)
);

CREATE INDEX orders_created_at_idx ON orders (created_at);
