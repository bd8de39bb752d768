package catalog

import (
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"

	"minikart/platform/money"
)

// menuStore reads and replaces the whole menu, for import and export.
type menuStore interface {
	Menu(ctx context.Context) ([]menuItem, error)
	AllMenu(ctx context.Context) ([]menuItem, error)
	ChangeMenu(ctx context.Context, plan menuPlanner) (menuDiff, error)
}

var _ menuStore = (*store)(nil)

// menuPlanner decides, from the menu as stored (removed products included)
// and the names of the stored pictures, what an import changes. With apply
// false nothing is written.
type menuPlanner func(current []menuItem, storedImages map[string]bool) (d menuDiff, files []imageFile, apply bool, err error)

// upsertBatch is the number of products an import writes per statement.
const upsertBatch = 5000

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

// AllMenu reads every product, removed ones marked, in id order.
func (st *store) AllMenu(ctx context.Context) ([]menuItem, error) {
	return readMenuRows(ctx, st.db)
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
	// The added and changed products are written upsertBatch at a time, one
	// statement each: a menu of 100,000 products is 20 round trips, not
	// 100,000.
	const qUpsert = `
		INSERT INTO products (id, name, category, price_cents, image_slug,
		                      image_thumbnail, image_mobile, image_tablet, image_desktop)
		SELECT id, name, category, price_cents, NULLIF(slug, ''), NULLIF(thumb, ''), NULLIF(mobile, ''),
		       NULLIF(tablet, ''), NULLIF(desktop, '')
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[],
		            $6::text[], $7::text[], $8::text[], $9::text[])
		     AS f(id, name, category, price_cents, slug, thumb, mobile, tablet, desktop)
		ON CONFLICT (id) DO UPDATE SET
		    name = EXCLUDED.name, category = EXCLUDED.category, price_cents = EXCLUDED.price_cents,
		    image_slug = EXCLUDED.image_slug, image_thumbnail = EXCLUDED.image_thumbnail,
		    image_mobile = EXCLUDED.image_mobile, image_tablet = EXCLUDED.image_tablet,
		    image_desktop = EXCLUDED.image_desktop, removed_at = NULL, updated_at = now()`
	writes := slices.Clone(d.Added)
	for _, c := range d.Changed {
		writes = append(writes, c[1])
	}
	for batch := range slices.Chunk(writes, upsertBatch) {
		var (
			ids, prices                                         []int64
			names, cats, slugs, thumbs, mobiles, tablets, descs []string
		)
		for _, it := range batch {
			r := it.Refs
			ids, prices = append(ids, it.ID), append(prices, int64(it.Price))
			names, cats, slugs = append(names, it.Name), append(cats, it.Category), append(slugs, it.Slug)
			thumbs, mobiles = append(thumbs, r.Thumbnail), append(mobiles, r.Mobile)
			tablets, descs = append(tablets, r.Tablet), append(descs, r.Desktop)
		}
		if _, err := tx.ExecContext(ctx, qUpsert, ids, names, cats, prices, slugs,
			thumbs, mobiles, tablets, descs); err != nil {
			return menuDiff{}, fmt.Errorf("upsert products %d..%d: %w", batch[0].ID, batch[len(batch)-1].ID, err)
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
