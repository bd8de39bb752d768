-- The catalogue's state in one row, kept by triggers in the transaction of
-- every change to products: version grows at each change (a cache compares
-- it to the one it read instead of reading the menu again) and on_sale is
-- the number of products on sale (a page's total without counting the
-- table).
CREATE TABLE catalog_state (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    version   BIGINT  NOT NULL,
    on_sale   BIGINT  NOT NULL CHECK (on_sale >= 0)
);
INSERT INTO catalog_state (version, on_sale)
SELECT 1, count(*) FROM products WHERE removed_at IS NULL;

-- One update of the row per statement, from the statement's transition
-- tables, so an import of many rows in a few statements touches it a few
-- times. Writers of products queue on the row; readers never wait.
CREATE FUNCTION catalog_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched BIGINT := 0;
    delta   BIGINT := 0;
    n       BIGINT;
    selling    BIGINT;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT count(*), count(*) FILTER (WHERE removed_at IS NULL) INTO n, selling FROM old_rows;
        touched := touched + n;
        delta := delta - selling;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT count(*), count(*) FILTER (WHERE removed_at IS NULL) INTO n, selling FROM new_rows;
        touched := touched + n;
        delta := delta + selling;
    END IF;
    IF touched > 0 THEN
        UPDATE catalog_state SET version = version + 1, on_sale = on_sale + delta;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION catalog_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_state SET version = version + 1, on_sale = 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER products_counted_insert AFTER INSERT ON products
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_count_change();
CREATE TRIGGER products_counted_update AFTER UPDATE ON products
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_count_change();
CREATE TRIGGER products_counted_delete AFTER DELETE ON products
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_count_change();
CREATE TRIGGER products_counted_truncate AFTER TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_count_truncate();
