-- The id of the api key that placed an order (never the key itself): only
-- that key id reads the order back. NULL for an anonymous order and for
-- orders placed before this migration, which no key reads. The column has
-- no default, so adding it rewrites nothing and is instant.
ALTER TABLE orders ADD COLUMN api_key_id TEXT NULL CHECK (api_key_id IS NULL OR api_key_id <> '');
