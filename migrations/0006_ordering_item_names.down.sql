ALTER TABLE order_items
    DROP COLUMN IF EXISTS product_name,
    DROP COLUMN IF EXISTS product_category;
