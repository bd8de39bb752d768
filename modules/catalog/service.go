package catalog

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"minikart/platform/httpserver"
	"minikart/platform/money"
	"minikart/platform/paging"
)

// productStore is what the service needs from storage.
type productStore interface {
	List(ctx context.Context, p paging.Page) ([]productRow, int, error)
	Get(ctx context.Context, id int64) (productRow, error)
	ByIDs(ctx context.Context, ids []int64) ([]productRow, error)
	Image(ctx context.Context, name string) (imageRow, error)
}

// Service answers questions about products.
type Service struct {
	store productStore
	// imageBase prefixes image paths when catalog.image_base_url is set;
	// empty serves them from this server, under each request's origin.
	imageBase string
	// originToken stands for the request's origin in cached renderings of
	// self-served image URLs; each answer replaces it. It is random per
	// process so that no product text can contain it.
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
}

// snapshot is the whole catalogue as of taken, with its JSON rendered
// once: the whole list (the default page) and each product.
type snapshot struct {
	list     []Product
	byID     map[int64]Product
	listJSON []byte
	itemJSON map[int64][]byte
	taken    time.Time
	// generation is the service's generation when the read began.
	generation uint64
	// lastList is listJSON as last localised, with the base it was made
	// for: nearly every request comes by the same origin, and gets it
	// without a copy. One entry, so no Host header can grow it.
	lastList atomic.Pointer[localised]
}

type localised struct {
	base string
	body []byte
}

// maxCachedProducts bounds the snapshot: a larger catalogue is read from
// the database page by page instead.
const maxCachedProducts = 10000

// NewService returns the catalog service.
func NewService(st productStore, c Config) *Service {
	token := make([]byte, 12)
	_, _ = rand.Read(token)
	return &Service{
		store: st, imageBase: strings.TrimRight(c.ImageBaseURL, "/"), maxLimit: c.MaxLimit,
		originToken: "mk-origin-" + hex.EncodeToString(token),
		cacheTTL:    c.CacheTTL, now: time.Now,
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

// localise turns a cached rendering into the answer for ctx's request.
func (s *Service) localise(ctx context.Context, body []byte) []byte {
	if s.imageBase != "" {
		return body
	}
	return bytes.ReplaceAll(body, []byte(s.originToken), []byte(s.baseFor(ctx)))
}

// localiseProduct is localise for a cached product.
func (s *Service) localiseProduct(ctx context.Context, p Product) Product {
	if s.imageBase != "" {
		return p
	}
	base := s.baseFor(ctx)
	for _, u := range []*string{&p.Image.Thumbnail, &p.Image.Mobile, &p.Image.Tablet, &p.Image.Desktop} {
		*u = strings.Replace(*u, s.originToken, base, 1)
	}
	return p
}

// cached returns a fresh enough snapshot, or nil when caching is off or the
// catalogue is too large for it. One caller refreshes; the others wait, or
// with wait false get nil at once.
func (s *Service) cached(ctx context.Context, wait bool) (*snapshot, error) {
	if s.cacheTTL <= 0 {
		return nil, nil
	}
	fresh := func(sn *snapshot) bool {
		return sn != nil && sn.generation == s.generation.Load() && s.now().Sub(sn.taken) < s.cacheTTL
	}
	if sn := s.snap.Load(); fresh(sn) {
		return sn, nil
	}
	switch {
	case wait:
		s.refresh.Lock()
	case !s.refresh.TryLock():
		return nil, nil
	}
	defer s.refresh.Unlock()
	if sn := s.snap.Load(); fresh(sn) {
		return sn, nil
	}
	taken, generation := s.now(), s.generation.Load()
	rows, total, err := s.store.List(ctx, paging.Page{Limit: maxCachedProducts})
	if err != nil || total > maxCachedProducts {
		return nil, err
	}
	sn := &snapshot{
		list: make([]Product, len(rows)), byID: make(map[int64]Product, len(rows)),
		itemJSON: make(map[int64][]byte, len(rows)), taken: taken, generation: generation,
	}
	for i, r := range rows {
		sn.list[i] = s.toProduct(r, s.snapshotBase())
		sn.byID[r.ID] = sn.list[i]
		if sn.itemJSON[r.ID], err = json.Marshal(sn.list[i]); err != nil {
			return nil, err
		}
	}
	if sn.listJSON, err = json.Marshal(sn.list); err != nil {
		return nil, err
	}
	s.snap.Store(sn)
	return sn, nil
}

// Invalidate makes the next catalogue read go to the database: the menu
// changed. A read already under way when it is called is not cached as
// fresh, since it may have seen the menu from before the change.
func (s *Service) Invalidate() {
	s.generation.Add(1)
}

// renderedList returns the JSON of page p when the cache has it ready: the
// whole catalogue, from the first product. ok is false otherwise.
func (s *Service) renderedList(ctx context.Context, p paging.Page) (body []byte, total int, ok bool, err error) {
	sn, err := s.cached(ctx, true)
	if err != nil || sn == nil || p.Offset != 0 || p.Limit < len(sn.list) {
		return nil, 0, false, err
	}
	if s.imageBase != "" {
		return sn.listJSON, len(sn.list), true, nil
	}
	base := s.baseFor(ctx)
	if l := sn.lastList.Load(); l != nil && l.base == base {
		return l.body, len(sn.list), true, nil
	}
	body = bytes.ReplaceAll(sn.listJSON, []byte(s.originToken), []byte(base))
	sn.lastList.Store(&localised{base: base, body: body})
	return body, len(sn.list), true, nil
}

// renderedProduct returns the JSON of one product when the cache is on.
func (s *Service) renderedProduct(ctx context.Context, id int64) (body []byte, ok bool, err error) {
	sn, err := s.cached(ctx, true)
	if err != nil || sn == nil {
		return nil, false, err
	}
	body, found := sn.itemJSON[id]
	if !found {
		return nil, false, ErrProductNotFound
	}
	return s.localise(ctx, body), true, nil
}

// List returns one page of products and the total number of products.
func (s *Service) List(ctx context.Context, p paging.Page) ([]Product, int, error) {
	if sn, err := s.cached(ctx, true); err != nil || sn != nil {
		if err != nil {
			return nil, 0, err
		}
		from := min(p.Offset, len(sn.list))
		to := min(from+p.Limit, len(sn.list))
		out := make([]Product, to-from)
		for i, p := range sn.list[from:to] {
			out[i] = s.localiseProduct(ctx, p)
		}
		return out, len(sn.list), nil
	}
	rows, total, err := s.store.List(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Product, len(rows))
	for i, r := range rows {
		out[i] = s.toProduct(r, s.baseFor(ctx))
	}
	return out, total, nil
}

// Get returns one product, or ErrProductNotFound.
func (s *Service) Get(ctx context.Context, id int64) (Product, error) {
	if sn, err := s.cached(ctx, true); err != nil || sn != nil {
		if err != nil {
			return Product{}, err
		}
		p, ok := sn.byID[id]
		if !ok {
			return Product{}, ErrProductNotFound
		}
		return s.localiseProduct(ctx, p), nil
	}
	r, err := s.store.Get(ctx, id)
	if err != nil {
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
// off, the catalogue is too large for the snapshot, reading it failed, an
// id is not in it or another request is reading it afresh: the caller then
// asks ProductsByIDs. What it returns may be up to cache_ttl old, so a
// write that charges these prices must hold SamePricesSQL.
func (s *Service) CachedProductsByIDs(ctx context.Context, ids []int64) (map[int64]Product, bool) {
	// An order never waits behind another request's refresh (the whole
	// catalogue, read and rendered): it is priced from the database.
	sn, err := s.cached(ctx, false)
	if err != nil || sn == nil {
		return nil, false
	}
	out := make(map[int64]Product, len(ids))
	for _, id := range ids {
		p, ok := sn.byID[id]
		if !ok {
			return nil, false
		}
		out[id] = s.localiseProduct(ctx, p)
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
