package catalog

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"minikart/platform/httpserver"
	"minikart/platform/money"
)

// productStore is what the service needs from storage.
type productStore interface {
	List(ctx context.Context, q listQuery) ([]productRow, int, error)
	Get(ctx context.Context, id int64) (productRow, error)
	ByIDs(ctx context.Context, ids []int64) ([]productRow, error)
	Image(ctx context.Context, name string) (imageRow, error)
	Version(ctx context.Context) (int64, error)
	OnSale(ctx context.Context) ([]productRow, int64, error)
}

// Service answers questions about products.
type Service struct {
	store productStore
	// imageBase prefixes image paths when catalog.image_base_url is set;
	// empty serves them from this server, under each request's origin.
	imageBase string
	// originToken stands for the request's origin in the cached rendering
	// of the first page; each answer replaces it. It is random per process
	// so that no product text can contain it.
	originToken string
	maxLimit    int

	// With cacheTTL > 0, reads of the catalogue (List, Get) are served from
	// a snapshot at most cacheTTL old. ProductsByIDs always reads the
	// database; CachedProductsByIDs prices an order from the snapshot, for
	// a statement that checks the prices where it writes (SamePricesSQL).
	cacheTTL time.Duration
	refresh  sync.Mutex
	snap     atomic.Pointer[snapshot]
	// generation counts invalidations: a snapshot read before the latest
	// one is stale even if it is younger than cacheTTL.
	generation atomic.Uint64
	now        func() time.Time
	// refreshes asks the background refresher (RefreshInBackground) to
	// bring the snapshot up to date; one request waiting is enough.
	refreshes chan struct{}
	// warmed is closed once the first snapshot is taken.
	warmed     chan struct{}
	warmedOnce sync.Once
}

// snapshot is a menu confirmed current at taken: a snapshot past cacheTTL
// is renewed by comparing the menu's version with the database's, and the
// menu is read again only when they differ.
type snapshot struct {
	menu  *menu
	taken time.Time
	// generation is the service's generation when the check began.
	generation uint64
}

// menu is the whole catalogue on sale at version, in id order, as rows:
// about 120 bytes a product plus its name (categories and picture names
// are shared), so 100,000 products take some 15 MB. Pages are rendered
// from it per request; only the first page at the largest limit, the one
// a client that asks for no page gets, is kept rendered.
type menu struct {
	rows    []productRow
	version int64
	// folded holds each row's name as search compares it (fold), and
	// byCategory the positions of each lower-cased category's rows, for
	// filtered pages.
	folded     []string
	byCategory map[string][]int32
	// firstJSON is the first page at maxLimit, image URLs made with the
	// origin token.
	firstJSON []byte
	// lastFirst is firstJSON as last localised, with the base it was made
	// for: nearly every request comes by the same origin, and gets it
	// without a copy. One entry, so no Host header can grow it.
	lastFirst atomic.Pointer[localised]
}

type localised struct {
	base   string
	answer *httpserver.PreparedJSON
}

// NewService returns the catalog service.
func NewService(st productStore, c Config) *Service {
	token := make([]byte, 12)
	_, _ = rand.Read(token)
	return &Service{
		store: st, imageBase: strings.TrimRight(c.ImageBaseURL, "/"), maxLimit: c.MaxLimit,
		originToken: "mk-origin-" + hex.EncodeToString(token),
		cacheTTL:    c.CacheTTL, now: time.Now,
		refreshes: make(chan struct{}, 1), warmed: make(chan struct{}),
	}
}

// baseFor returns the prefix of image URLs for the request in ctx.
func (s *Service) baseFor(ctx context.Context) string {
	if s.imageBase != "" {
		return s.imageBase
	}
	return httpserver.Origin(ctx) + httpserver.APIPath
}

// snapshotBase is the image prefix cached renderings are made with.
func (s *Service) snapshotBase() string {
	if s.imageBase != "" {
		return s.imageBase
	}
	return s.originToken
}

// fresh returns the snapshot when it is young enough to answer from, else
// nil.
func (s *Service) fresh() *snapshot {
	sn := s.snap.Load()
	if sn != nil && sn.generation == s.generation.Load() && s.now().Sub(sn.taken) < s.cacheTTL {
		return sn
	}
	return nil
}

// cached returns a fresh enough snapshot, or nil when caching is off. One
// caller refreshes it; the others wait for that one.
func (s *Service) cached(ctx context.Context) (*snapshot, error) {
	if s.cacheTTL <= 0 {
		return nil, nil
	}
	if sn := s.fresh(); sn != nil {
		return sn, nil
	}
	s.refresh.Lock()
	defer s.refresh.Unlock()
	if sn := s.fresh(); sn != nil {
		return sn, nil
	}
	taken, generation := s.now(), s.generation.Load()
	if old := s.snap.Load(); old != nil {
		v, err := s.store.Version(ctx)
		if err != nil {
			return nil, err
		}
		if v == old.menu.version {
			sn := &snapshot{menu: old.menu, taken: taken, generation: generation}
			s.snap.Store(sn)
			return sn, nil
		}
	}
	rows, version, err := s.store.OnSale(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.newMenu(rows, version)
	if err != nil {
		return nil, err
	}
	sn := &snapshot{menu: m, taken: taken, generation: generation}
	s.snap.Store(sn)
	s.warmedOnce.Do(func() { close(s.warmed) })
	return sn, nil
}

// RefreshInBackground takes the first snapshot, then renews it whenever an
// order found it too old (CachedProductsByIDs), until ctx ends: an order
// never reads the catalogue itself, which at 100,000 products takes a
// while. A failed read is tried again, a little later each time.
func (s *Service) RefreshInBackground(ctx context.Context) {
	if s.cacheTTL <= 0 {
		return
	}
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		if _, err := s.cached(ctx); err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		select {
		case <-ctx.Done():
		case <-s.refreshes:
		}
	}
}

// Warmed reports whether the cache is off or holds its first snapshot.
func (s *Service) Warmed() bool {
	if s.cacheTTL <= 0 {
		return true
	}
	select {
	case <-s.warmed:
		return true
	default:
		return false
	}
}

// newMenu keeps rows (in id order) with their repeated texts shared, and
// renders the first page.
func (s *Service) newMenu(rows []productRow, version int64) (*menu, error) {
	shared := map[string]string{}
	share := func(p *string) {
		if v, ok := shared[*p]; ok {
			*p = v
		} else if len(shared) < 10000 {
			shared[*p] = *p
		}
	}
	for i := range rows {
		r := &rows[i]
		for _, p := range []*string{&r.Category, &r.ImageSlug, &r.Thumbnail, &r.Mobile, &r.Tablet, &r.Desktop} {
			share(p)
		}
	}
	m := &menu{rows: rows, version: version, folded: make([]string, len(rows)), byCategory: map[string][]int32{}}
	for i, r := range rows {
		m.folded[i] = fold(r.Name)
		c := strings.ToLower(r.Category)
		m.byCategory[c] = append(m.byCategory[c], int32(i))
	}
	first := make([]Product, min(len(rows), s.maxLimit))
	for i := range first {
		first[i] = s.toProduct(rows[i], s.snapshotBase())
	}
	var err error
	if m.firstJSON, err = json.Marshal(first); err != nil {
		return nil, err
	}
	return m, nil
}

// find returns the row of id.
func (m *menu) find(id int64) (productRow, bool) {
	i, ok := slices.BinarySearchFunc(m.rows, id, func(r productRow, id int64) int { return cmp.Compare(r.ID, id) })
	if !ok {
		return productRow{}, false
	}
	return m.rows[i], true
}

// page returns the rows of page q, the number of rows that match q's
// filters, and whether more follow the page.
func (m *menu) page(q listQuery) (rows []productRow, total int, more bool) {
	if !q.filtered() {
		from, _ := slices.BinarySearchFunc(m.rows, q.AfterID+1, func(r productRow, id int64) int { return cmp.Compare(r.ID, id) })
		from = min(from+q.Offset, len(m.rows))
		to := min(from+q.Limit, len(m.rows))
		return m.rows[from:to], len(m.rows), to < len(m.rows)
	}
	search := fold(q.Search)
	skip := q.Offset
	visit := func(i int) {
		if search != "" && !strings.Contains(m.folded[i], search) {
			return
		}
		total++
		switch {
		case m.rows[i].ID <= q.AfterID:
		case skip > 0:
			skip--
		case len(rows) < q.Limit:
			rows = append(rows, m.rows[i])
		default:
			more = true
		}
	}
	if q.Category != "" {
		for _, i := range m.byCategory[strings.ToLower(q.Category)] {
			visit(int(i))
		}
	} else {
		for i := range m.rows {
			visit(i)
		}
	}
	return rows, total, more
}

// Invalidate makes the next catalogue read check the database: the menu
// changed. A read already under way when it is called is not cached as
// fresh, since it may have seen the menu from before the change.
func (s *Service) Invalidate() {
	s.generation.Add(1)
}

// renderedList returns the answer to page q when the cache has it ready:
// the first page at the largest limit, or the whole catalogue, unfiltered;
// next is the position after it when more follow (0 otherwise). ok is
// false when it is not ready.
func (s *Service) renderedList(ctx context.Context, q listQuery) (answer *httpserver.PreparedJSON, total int, next int64, ok bool, err error) {
	sn, err := s.cached(ctx)
	if err != nil || sn == nil || q.Offset != 0 || q.AfterID != 0 || q.filtered() {
		return nil, 0, 0, false, err
	}
	m := sn.menu
	if q.Limit != s.maxLimit && q.Limit < len(m.rows) {
		return nil, 0, 0, false, nil
	}
	if shown := min(len(m.rows), s.maxLimit); shown < len(m.rows) {
		next = m.rows[shown-1].ID
	}
	base := s.baseFor(ctx)
	l := m.lastFirst.Load()
	if l == nil || l.base != base {
		body := m.firstJSON
		if s.imageBase == "" {
			body = bytes.ReplaceAll(m.firstJSON, []byte(s.originToken), []byte(base))
		}
		l = &localised{base: base, answer: httpserver.PrepareJSON(body)}
		m.lastFirst.Store(l)
	}
	return l.answer, len(m.rows), next, true, nil
}

// List returns one page of products, the number of products that match
// q's filters, and next, the position after the page when more follow (0
// on the last page).
func (s *Service) List(ctx context.Context, q listQuery) (products []Product, total int, next int64, err error) {
	sn, err := s.cached(ctx)
	if err != nil {
		return nil, 0, 0, err
	}
	var rows []productRow
	more := false
	if sn != nil {
		rows, total, more = sn.menu.page(q)
	} else {
		if rows, total, err = s.store.List(ctx, q); err != nil {
			return nil, 0, 0, err
		}
		// The store reads one row past the page when there is one.
		if more = len(rows) > q.Limit; more {
			rows = rows[:q.Limit]
		}
	}
	if more {
		next = rows[len(rows)-1].ID
	}
	base := s.baseFor(ctx)
	products = make([]Product, len(rows))
	for i, r := range rows {
		products[i] = s.toProduct(r, base)
	}
	return products, total, next, nil
}

// Get returns one product, or ErrProductNotFound.
func (s *Service) Get(ctx context.Context, id int64) (Product, error) {
	sn, err := s.cached(ctx)
	if err != nil {
		return Product{}, err
	}
	var r productRow
	if sn != nil {
		var ok bool
		if r, ok = sn.menu.find(id); !ok {
			return Product{}, ErrProductNotFound
		}
	} else if r, err = s.store.Get(ctx, id); err != nil {
		return Product{}, err
	}
	return s.toProduct(r, s.baseFor(ctx)), nil
}

// ProductsByIDs returns the products that exist among ids, keyed by id, in
// one query. Missing ids are simply absent from the map.
func (s *Service) ProductsByIDs(ctx context.Context, ids []int64) (map[int64]Product, error) {
	rows, err := s.store.ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Product, len(rows))
	for _, r := range rows {
		out[r.ID] = s.toProduct(r, s.baseFor(ctx))
	}
	return out, nil
}

// CachedProductsByIDs returns the products among ids from the snapshot,
// keyed by id, without reading the database. ok is false when caching is
// off, an id is not in the snapshot or the snapshot is older than
// cache_ttl: the caller then asks ProductsByIDs. What it returns may be up
// to cache_ttl old, so a write that charges these prices must hold
// SamePricesSQL.
func (s *Service) CachedProductsByIDs(ctx context.Context, ids []int64) (map[int64]Product, bool) {
	// An order never waits for a refresh, nor makes one (at 100,000
	// products, a read of the whole catalogue): it is priced from the
	// database and the background refresher is asked to renew the snapshot.
	if s.cacheTTL <= 0 {
		return nil, false
	}
	sn := s.fresh()
	if sn == nil {
		select {
		case s.refreshes <- struct{}{}:
		default:
		}
		return nil, false
	}
	base := s.baseFor(ctx)
	out := make(map[int64]Product, len(ids))
	for _, id := range ids {
		r, ok := sn.menu.find(id)
		if !ok {
			return nil, false
		}
		out[id] = s.toProduct(r, base)
	}
	return out, true
}

// SamePricesSQL is a SQL condition, for a statement that writes an order:
// true when every row of the parallel array parameters ids (bigint[]),
// prices (bigint[], in cents), names and categories (text[]) is a product on
// sale with exactly that price, name and category as the statement sees
// the catalogue. Its arguments are the statement's placeholders ("$7").
// With it, an order priced from CachedProductsByIDs is written only at the
// prices of the moment it is written.
func SamePricesSQL(ids, prices, names, categories string) string {
	return `(SELECT count(*) FROM unnest(` + ids + `::bigint[], ` + prices + `::bigint[], ` + names + `::text[], ` + categories + `::text[])
		     AS g(id, price_cents, name, category)
		JOIN products p ON p.id = g.id AND p.price_cents = g.price_cents AND p.name = g.name
		     AND p.category = g.category AND p.removed_at IS NULL) = cardinality(` + ids + `::bigint[])`
}

// toProduct renders a row; base prefixes the paths of images this server
// serves.
func (s *Service) toProduct(r productRow, base string) Product {
	img := func(size, ref string) string {
		if r.ImageSlug != "" {
			return base + "/images/" + builtinImageName(r.ImageSlug, size)
		}
		if name, ok := strings.CutPrefix(ref, storedPrefix); ok {
			return base + "/images/" + name
		}
		return ref
	}
	return Product{
		ID:       strconv.FormatInt(r.ID, 10),
		Name:     r.Name,
		Price:    money.Cents(r.PriceCents),
		Category: r.Category,
		Image: Image{
			Thumbnail: img("thumbnail", r.Thumbnail),
			Mobile:    img("mobile", r.Mobile),
			Tablet:    img("tablet", r.Tablet),
			Desktop:   img("desktop", r.Desktop),
		},
	}
}

// storedImage returns a picture an import stored, by file name.
func (s *Service) storedImage(ctx context.Context, name string) (imageAsset, error) {
	if !storedImageName.MatchString(name) {
		return imageAsset{}, ErrImageNotFound
	}
	row, err := s.store.Image(ctx, name)
	if err != nil {
		return imageAsset{}, err
	}
	// The name is the hash of the content, so it is the validator too.
	return imageAsset{body: row.Body, contentType: row.ContentType, etag: `"` + name[:32] + `"`}, nil
}
