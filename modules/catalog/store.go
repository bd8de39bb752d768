package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"minikart/platform/db"
)

// productRow is a products row.
type productRow struct {
	ID         int64  `db:"id"`
	Name       string `db:"name"`
	Category   string `db:"category"`
	PriceCents int64  `db:"price_cents"`
	ImageSlug  string `db:"image_slug"`
}

// store reads the catalogue's listing (List, Get) through read, which may be
// a standby a moment behind, and the products an order is priced with
// (ByIDs) through db, the primary, so a price is never older than the write
// it feeds.
type store struct {
	db   *sqlx.DB
	read db.ReadDB
}

var _ productStore = (*store)(nil)

func newStore(primary *sqlx.DB, read db.ReadDB) *store { return &store{db: primary, read: read} }

// listRow is a products row with the number of all products beside it.
type listRow struct {
	productRow
	Total int `db:"total"`
}

// List reads a page and the total in one round trip: the window count is
// taken before LIMIT and OFFSET apply. Only a page past the end, which has
// no row to carry the total, costs a second query.
func (st *store) List(ctx context.Context, p Page) ([]productRow, int, error) {
	const q = `
		SELECT id, name, category, price_cents, image_slug, count(*) OVER () AS total
		FROM products
		ORDER BY id
		LIMIT $1 OFFSET $2`
	const qCount = `SELECT count(*) FROM products`
	var page []listRow
	if err := st.read.SelectContext(ctx, &page, q, p.Limit, p.Offset); err != nil {
		return nil, 0, fmt.Errorf("list products: %w", err)
	}
	rows := make([]productRow, len(page))
	for i, r := range page {
		rows[i] = r.productRow
	}
	if len(page) > 0 {
		return rows, page[0].Total, nil
	}
	var total int
	if err := st.read.GetContext(ctx, &total, qCount); err != nil {
		return nil, 0, fmt.Errorf("count products: %w", err)
	}
	return rows, total, nil
}

// Get reads one product, or ErrProductNotFound.
func (st *store) Get(ctx context.Context, id int64) (productRow, error) {
	const q = `
		SELECT id, name, category, price_cents, image_slug
		FROM products
		WHERE id = $1`
	var row productRow
	if err := st.read.GetContext(ctx, &row, q, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return row, ErrProductNotFound
		}
		return row, fmt.Errorf("get product %d: %w", id, err)
	}
	return row, nil
}

// ByIDs reads the products among ids in one query; missing ids are skipped.
func (st *store) ByIDs(ctx context.Context, ids []int64) ([]productRow, error) {
	const q = `
		SELECT id, name, category, price_cents, image_slug
		FROM products
		WHERE id = ANY($1)`
	rows := []productRow{}
	if err := st.db.SelectContext(ctx, &rows, q, ids); err != nil {
		return nil, fmt.Errorf("products by ids: %w", err)
	}
	return rows, nil
}
