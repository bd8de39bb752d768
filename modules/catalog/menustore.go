package catalog

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"minikart/platform/money"
)

// menuStore reads and replaces the whole menu, for import and export.
type menuStore interface {
	Menu(ctx context.Context) ([]menuItem, error)
	ChangeMenu(ctx context.Context, plan menuPlanner) (menuDiff, error)
}

var _ menuStore = (*store)(nil)

// menuPlanner decides, from the menu as stored (removed products included)
// and the names of the stored pictures, what an import changes. With apply
// false nothing is written.
type menuPlanner func(current []menuItem, storedImages map[string]bool) (d menuDiff, files []imageFile, apply bool, err error)

// menuRow is a products row with its removal mark.
type menuRow struct {
	productRow
	Removed bool `db:"removed"`
}

const qMenu = `
	SELECT ` + productColumns + `, removed_at IS NOT NULL AS removed
	FROM products
	ORDER BY id`

func readMenuRows(ctx context.Context, q sqlx.QueryerContext) ([]menuItem, error) {
	var rows []menuRow
	if err := sqlx.SelectContext(ctx, q, &rows, qMenu); err != nil {
		return nil, fmt.Errorf("read menu: %w", err)
	}
	out := make([]menuItem, len(rows))
	for i, r := range rows {
		out[i] = menuItem{
			ID: r.ID, Name: r.Name, Category: r.Category, Price: money.Cents(r.PriceCents),
			Slug: r.ImageSlug, Refs: r.imageRefs, Removed: r.Removed,
		}
	}
	return out, nil
}

// Menu reads the products on sale, in id order.
func (st *store) Menu(ctx context.Context) ([]menuItem, error) {
	all, err := readMenuRows(ctx, st.db)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, it := range all {
		if !it.Removed {
			out = append(out, it)
		}
	}
	return out, nil
}

// ChangeMenu runs plan on the menu as stored and writes its difference in
// one transaction: the pictures, the added and changed products, and the
// removals, all or nothing. The products table is locked against other
// writers first, so two imports never plan from the same old menu; reads
// (the shop) go on meanwhile. The commit notifies every instance's cache
// (the products trigger).
func (st *store) ChangeMenu(ctx context.Context, plan menuPlanner) (menuDiff, error) {
	tx, err := st.db.BeginTxx(ctx, nil)
	if err != nil {
		return menuDiff{}, fmt.Errorf("begin import: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `LOCK TABLE products IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return menuDiff{}, fmt.Errorf("lock products: %w", err)
	}
	current, err := readMenuRows(ctx, tx)
	if err != nil {
		return menuDiff{}, err
	}
	var names []string
	if err := tx.SelectContext(ctx, &names, `SELECT name FROM product_images`); err != nil {
		return menuDiff{}, fmt.Errorf("read stored images: %w", err)
	}
	stored := make(map[string]bool, len(names))
	for _, n := range names {
		stored[n] = true
	}
	d, files, apply, err := plan(current, stored)
	if err != nil || !apply || d.empty() {
		return d, err
	}
	const qImage = `
		INSERT INTO product_images (name, content_type, body) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO NOTHING`
	for _, f := range files {
		if _, err := tx.ExecContext(ctx, qImage, f.name, f.contentType, f.body); err != nil {
			return menuDiff{}, fmt.Errorf("store image %s: %w", f.name, err)
		}
	}
	const qUpsert = `
		INSERT INTO products (id, name, category, price_cents, image_slug,
		                      image_thumbnail, image_mobile, image_tablet, image_desktop)
		VALUES ($1, $2, $3, $4, NULLIF($5, ''), NULLIF($6, ''), NULLIF($7, ''), NULLIF($8, ''), NULLIF($9, ''))
		ON CONFLICT (id) DO UPDATE SET
		    name = EXCLUDED.name, category = EXCLUDED.category, price_cents = EXCLUDED.price_cents,
		    image_slug = EXCLUDED.image_slug, image_thumbnail = EXCLUDED.image_thumbnail,
		    image_mobile = EXCLUDED.image_mobile, image_tablet = EXCLUDED.image_tablet,
		    image_desktop = EXCLUDED.image_desktop, removed_at = NULL, updated_at = now()`
	upsert := func(it menuItem) error {
		r := it.Refs
		if _, err := tx.ExecContext(ctx, qUpsert, it.ID, it.Name, it.Category, int64(it.Price), it.Slug,
			r.Thumbnail, r.Mobile, r.Tablet, r.Desktop); err != nil {
			return fmt.Errorf("upsert product %d: %w", it.ID, err)
		}
		return nil
	}
	for _, it := range d.Added {
		if err := upsert(it); err != nil {
			return menuDiff{}, err
		}
	}
	for _, c := range d.Changed {
		if err := upsert(c[1]); err != nil {
			return menuDiff{}, err
		}
	}
	if len(d.Removed) > 0 {
		ids := make([]int64, len(d.Removed))
		for i, it := range d.Removed {
			ids[i] = it.ID
		}
		const qRemove = `UPDATE products SET removed_at = now(), updated_at = now() WHERE id = ANY($1)`
		if _, err := tx.ExecContext(ctx, qRemove, ids); err != nil {
			return menuDiff{}, fmt.Errorf("remove products: %w", err)
		}
	}
	// Imported ids are chosen by the file; keep the identity past them.
	const qSequence = `SELECT setval(pg_get_serial_sequence('products', 'id'), (SELECT max(id) FROM products))`
	if _, err := tx.ExecContext(ctx, qSequence); err != nil {
		return menuDiff{}, fmt.Errorf("move the product id sequence: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return menuDiff{}, fmt.Errorf("commit import: %w", err)
	}
	return d, nil
}
