DROP INDEX products_category_lower;
DROP INDEX products_name_fold_trgm;
DROP FUNCTION catalog_fold(text);
-- The extensions stay: another schema object may have come to use them.
