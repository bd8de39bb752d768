-- Catalogue search: ?category= compares lower(category); ?q= finds a
-- substring of the name with case and accents folded (catalog_fold), which
-- a trigram index serves. pg_trgm and unaccent ship with PostgreSQL
-- (contrib) and are trusted: a user with CREATE on the database may add
-- them.
CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

-- unaccent() is only STABLE (its dictionary could change); naming the
-- dictionary makes the result depend on the argument alone, so an index may
-- use it.
CREATE FUNCTION catalog_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;

CREATE INDEX products_name_fold_trgm ON products
    USING gin (catalog_fold(name) public.gin_trgm_ops) WHERE removed_at IS NULL;
CREATE INDEX products_category_lower ON products (lower(category), id) WHERE removed_at IS NULL;
