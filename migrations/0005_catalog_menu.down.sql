DROP TRIGGER IF EXISTS products_changed ON products;
DROP FUNCTION IF EXISTS catalog_notify_change();
DROP TABLE IF EXISTS product_images;
-- Products with imported pictures have no built-in set to fall back to.
DELETE FROM products WHERE image_slug IS NULL;
ALTER TABLE products
    DROP CONSTRAINT IF EXISTS products_one_image_source,
    DROP COLUMN IF EXISTS image_thumbnail,
    DROP COLUMN IF EXISTS image_mobile,
    DROP COLUMN IF EXISTS image_tablet,
    DROP COLUMN IF EXISTS image_desktop,
    DROP COLUMN IF EXISTS updated_at,
    DROP COLUMN IF EXISTS removed_at;
ALTER TABLE products ALTER COLUMN image_slug SET NOT NULL;
