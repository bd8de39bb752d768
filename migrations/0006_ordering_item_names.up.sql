-- Each item keeps the product's name and category as sold, beside its unit
-- price, so an order reads the same after the menu changes. Items stored
-- before this column have NULL and show the catalogue's current name.
ALTER TABLE order_items
    ADD COLUMN product_name     TEXT NULL,
    ADD COLUMN product_category TEXT NULL;
