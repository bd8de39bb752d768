DROP TRIGGER products_counted_truncate ON products;
DROP TRIGGER products_counted_delete ON products;
DROP TRIGGER products_counted_update ON products;
DROP TRIGGER products_counted_insert ON products;
DROP FUNCTION catalog_count_truncate();
DROP FUNCTION catalog_count_change();
DROP TABLE catalog_state;
