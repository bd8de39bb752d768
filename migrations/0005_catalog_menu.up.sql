-- The menu, managed by `minikart catalog import`.
--
-- A product pruned from the menu is kept, marked removed: its id stays
-- reserved, an import that lists it again restores it, and the record of
-- what was once on sale stays beside the orders that sold it.
ALTER TABLE products ADD COLUMN removed_at TIMESTAMPTZ NULL;
ALTER TABLE products ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- A product's pictures are either the built-in set of image_slug, or one
-- reference per size: an absolute http(s) URL, or 'stored:<file>' naming a
-- row of product_images.
ALTER TABLE products ALTER COLUMN image_slug DROP NOT NULL;
ALTER TABLE products
    ADD COLUMN image_thumbnail TEXT NULL,
    ADD COLUMN image_mobile    TEXT NULL,
    ADD COLUMN image_tablet    TEXT NULL,
    ADD COLUMN image_desktop   TEXT NULL,
    ADD CONSTRAINT products_one_image_source CHECK (
        (image_slug IS NOT NULL AND image_thumbnail IS NULL AND image_mobile IS NULL
            AND image_tablet IS NULL AND image_desktop IS NULL)
        OR (image_slug IS NULL AND image_thumbnail IS NOT NULL AND image_mobile IS NOT NULL
            AND image_tablet IS NOT NULL AND image_desktop IS NOT NULL));

-- Pictures an import brought as files, named by the SHA-256 of their bytes,
-- so every instance serves them and the same file is stored once.
CREATE TABLE product_images (
    name         TEXT        PRIMARY KEY CHECK (name ~ '^[0-9a-f]{64}\.(jpg|png|webp|gif)$'),
    content_type TEXT        NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif')),
    body         BYTEA       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every change to products tells each instance's catalogue cache, at
-- commit, to read the menu again.
CREATE FUNCTION catalog_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('catalog_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER products_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_notify_change();
