package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jmoiron/sqlx"

	"minikart/platform/db"
)

// productRow is a products row. Either ImageSlug names a built-in set of
// pictures, or the four image references are set.
type productRow struct {
	ID         int64  `db:"id"`
	Name       string `db:"name"`
	Category   string `db:"category"`
	PriceCents int64  `db:"price_cents"`
	ImageSlug  string `db:"image_slug"`
	imageRefs
}

// imageRefs are a product's pictures by size: an absolute URL, or
// storedPrefix and the name of a product_images row.
type imageRefs struct {
	Thumbnail string `db:"image_thumbnail"`
	Mobile    string `db:"image_mobile"`
	Tablet    string `db:"image_tablet"`
	Desktop   string `db:"image_desktop"`
}

// productColumns reads a productRow; NULL image columns read as "".
const productColumns = `id, name, category, price_cents, COALESCE(image_slug, '') AS image_slug,
	COALESCE(image_thumbnail, '') AS image_thumbnail, COALESCE(image_mobile, '') AS image_mobile,
	COALESCE(image_tablet, '') AS image_tablet, COALESCE(image_desktop, '') AS image_desktop`

// store reads the catalogue's listing (List, Get) through read, which may be
// a standby a moment behind, and the products an order is priced with when
// the cache cannot (ByIDs) through pool, the primary's pgx pool, skipping
// database/sql. Whatever priced an order, its statement checks the prices
// on the primary (SamePricesSQL).
type store struct {
	db   *sqlx.DB
	pool *pgxpool.Pool
	read db.ReadDB
}

var _ productStore = (*store)(nil)

func newStore(primary *sqlx.DB, pool *pgxpool.Pool, read db.ReadDB) *store {
	return &store{db: primary, pool: pool, read: read}
}

// listRow is a products row with the number of all products beside it.
type listRow struct {
	productRow
	Total int `db:"total"`
}

// Conditions of a filtered list; the indexes of migration 0010 serve them.
const (
	whereOnSale   = `removed_at IS NULL`
	whereCategory = ` AND lower(category) = lower($%d)`
	whereName     = ` AND catalog_fold(name) LIKE catalog_fold($%d)`
)

// List reads a page, one more row than it holds when there is one (so the
// caller knows whether a next page follows), and the total. Unfiltered,
// the total is the on_sale count the products triggers keep (migration
// 0009), read in the page's own statement, so neither a count nor a window
// walks the table; only a page past the end, which has no row to carry it,
// costs a second query. Filtered, the matches are counted. A page after
// AfterID starts at the primary key.
func (st *store) List(ctx context.Context, q listQuery) ([]productRow, int, error) {
	if q.filtered() {
		return st.listFiltered(ctx, q)
	}
	const qPage = `
		SELECT ` + productColumns + `, (SELECT on_sale FROM catalog_state) AS total
		FROM products
		WHERE removed_at IS NULL AND id > $3
		ORDER BY id
		LIMIT $1 OFFSET $2`
	const qCount = `SELECT on_sale FROM catalog_state`
	var page []listRow
	if err := st.read.SelectContext(ctx, &page, qPage, q.Limit+1, q.Offset, q.AfterID); err != nil {
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

func (st *store) listFiltered(ctx context.Context, q listQuery) ([]productRow, int, error) {
	where := whereOnSale
	var args []any
	if q.Category != "" {
		args = append(args, q.Category)
		where += fmt.Sprintf(whereCategory, len(args))
	}
	if q.Search != "" {
		args = append(args, likePattern(q.Search))
		where += fmt.Sprintf(whereName, len(args))
	}
	var total int
	if err := st.read.GetContext(ctx, &total, `SELECT count(*) FROM products WHERE `+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count products: %w", err)
	}
	n := len(args)
	qPage := fmt.Sprintf(`SELECT `+productColumns+` FROM products WHERE `+where+
		` AND id > $%d ORDER BY id LIMIT $%d OFFSET $%d`, n+1, n+2, n+3)
	var rows []productRow
	if err := st.read.SelectContext(ctx, &rows, qPage, append(args, q.AfterID, q.Limit+1, q.Offset)...); err != nil {
		return nil, 0, fmt.Errorf("list products: %w", err)
	}
	return rows, total, nil
}

// Version reads the catalogue's version, which every change to products
// moves (migration 0009).
func (st *store) Version(ctx context.Context) (int64, error) {
	const q = `SELECT version FROM catalog_state`
	var v int64
	if err := st.read.GetContext(ctx, &v, q); err != nil {
		return 0, fmt.Errorf("read catalogue version: %w", err)
	}
	return v, nil
}

// OnSale reads every product on sale, in id order, and the version they
// are at least as new as: the version is read first, so a change that
// commits in between makes the next Version differ, never the reverse.
func (st *store) OnSale(ctx context.Context) ([]productRow, int64, error) {
	const q = `
		SELECT ` + productColumns + `
		FROM products
		WHERE removed_at IS NULL
		ORDER BY id`
	v, err := st.Version(ctx)
	if err != nil {
		return nil, 0, err
	}
	var rows []productRow
	if err := st.read.SelectContext(ctx, &rows, q); err != nil {
		return nil, 0, fmt.Errorf("read the catalogue: %w", err)
	}
	return rows, v, nil
}

// Get reads one product, or ErrProductNotFound.
func (st *store) Get(ctx context.Context, id int64) (productRow, error) {
	const q = `
		SELECT ` + productColumns + `
		FROM products
		WHERE id = $1 AND removed_at IS NULL`
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
		SELECT ` + productColumns + `
		FROM products
		WHERE id = ANY($1) AND removed_at IS NULL`
	var rows []productRow
	err := db.Retry(ctx, func() error {
		res, err := st.pool.Query(ctx, q, ids)
		if err != nil {
			return err
		}
		defer res.Close()
		rows = make([]productRow, 0, len(ids))
		for res.Next() {
			var r productRow
			if err := res.Scan(&r.ID, &r.Name, &r.Category, &r.PriceCents, &r.ImageSlug,
				&r.Thumbnail, &r.Mobile, &r.Tablet, &r.Desktop); err != nil {
				return err
			}
			rows = append(rows, r)
		}
		return res.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("products by ids: %w", err)
	}
	return rows, nil
}

// imageRow is a stored picture.
type imageRow struct {
	ContentType string `db:"content_type"`
	Body        []byte `db:"body"`
}

// Image reads a stored picture by file name, or ErrImageNotFound.
func (st *store) Image(ctx context.Context, name string) (imageRow, error) {
	const q = `SELECT content_type, body FROM product_images WHERE name = $1`
	var row imageRow
	if err := st.db.GetContext(ctx, &row, q, name); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return row, ErrImageNotFound
		}
		return row, fmt.Errorf("get image %s: %w", name, err)
	}
	return row, nil
}
