package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"minikart/platform/health"
	"minikart/platform/httpserver"
	"minikart/platform/paging"
)

func TestCacheServesReadsWithinTTL(t *testing.T) {
	st := newFakeStore()
	s := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000, CacheTTL: time.Second})
	now := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return now }
	ctx := context.Background()

	page, total, _, err := s.List(ctx, listQuery{Page: paging.Page{Limit: 2, Offset: 1}})
	if err != nil || total != len(st.rows) || len(page) != 2 || page[0].ID != "2" {
		t.Fatalf("List = %+v, %d, %v", page, total, err)
	}
	if p, err := s.Get(ctx, 1); err != nil || p.Name != "Waffle with Berries" {
		t.Fatalf("Get(1) = %+v, %v", p, err)
	}
	if _, err := s.Get(ctx, 404); !errors.Is(err, ErrProductNotFound) {
		t.Errorf("Get(404) = %v, want ErrProductNotFound", err)
	}
	if page, total, _, _ := s.List(ctx, listQuery{Page: paging.Page{Limit: 5, Offset: 100}}); len(page) != 0 || total != len(st.rows) {
		t.Errorf("page past the end = %d products, total %d", len(page), total)
	}
	if st.reads != 1 || len(st.pages) != 0 {
		t.Fatalf("the catalogue was read %d times and %d pages within the TTL, want once and none", st.reads, len(st.pages))
	}

	now = now.Add(time.Second)
	if p, _ := s.Get(ctx, 1); p.Name != "Waffle with Berries" || st.reads != 1 {
		t.Errorf("after the TTL, unchanged: %q with %d reads, want the menu kept on its version", p.Name, st.reads)
	}
	st.rows[0].Name = "Waffle, renamed"
	st.version++
	if p, _ := s.Get(ctx, 1); p.Name != "Waffle with Berries" {
		t.Errorf("within the renewed TTL: %q, want the cached name", p.Name)
	}
	now = now.Add(time.Second)
	if p, _ := s.Get(ctx, 1); p.Name != "Waffle, renamed" || st.reads != 2 {
		t.Errorf("after the TTL, changed: %q with %d reads, want the new name from a second read", p.Name, st.reads)
	}
}

func TestProductsByIDsAlwaysReadsTheDatabase(t *testing.T) {
	st := newFakeStore()
	s := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000, CacheTTL: time.Hour})
	ctx := context.Background()
	if _, err := s.Get(ctx, 1); err != nil {
		t.Fatal(err)
	}
	st.rows[0].PriceCents = 999
	got, err := s.ProductsByIDs(ctx, []int64{1})
	if err != nil || got[1].Price != 999 {
		t.Errorf("ProductsByIDs price %d, %v; want the database's 999", got[1].Price, err)
	}
}

func TestCacheOffReadsEveryTime(t *testing.T) {
	st := newFakeStore()
	s := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000})
	for range 3 {
		if _, _, _, err := s.List(context.Background(), listQuery{Page: paging.Page{Limit: 10}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(st.pages) != 3 {
		t.Errorf("%d store reads, want 3", len(st.pages))
	}
}

func TestCacheErrorIsNotCached(t *testing.T) {
	st := newFakeStore()
	st.err = errors.New("database down")
	s := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000, CacheTTL: time.Hour})
	if _, _, _, err := s.List(context.Background(), listQuery{Page: paging.Page{Limit: 10}}); err == nil {
		t.Fatal("want the store's error")
	}
	st.err = nil
	if page, _, _, err := s.List(context.Background(), listQuery{Page: paging.Page{Limit: 10}}); err != nil || len(page) == 0 {
		t.Errorf("after recovery: %d products, %v", len(page), err)
	}
}

func TestRenderedJSONMatchesTheProducts(t *testing.T) {
	st := newFakeStore()
	s := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000, CacheTTL: time.Minute})
	ctx := context.Background()
	all, total, _, _ := s.List(ctx, listQuery{Page: paging.Page{Limit: 1000}})
	want, _ := json.Marshal(all)
	answer, n, _, ok, err := s.renderedList(ctx, listQuery{Page: paging.Page{Limit: 1000}})
	if err != nil || !ok || n != total || string(answer.Body) != string(want) {
		t.Fatalf("renderedList = %v, %d, %v, %v; want %s", answer, n, ok, err, want)
	}
	body, etag := answer.Body, answer.ETag()
	// The tag names the bytes: the same on another instance rendering
	// them, another once the menu changes.
	other := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000, CacheTTL: time.Minute})
	if a2, _, _, _, _ := other.renderedList(ctx, listQuery{Page: paging.Page{Limit: 1000}}); a2.ETag() != etag || len(etag) < 10 {
		t.Errorf("two instances tag the same menu %s and %s", etag, a2.ETag())
	}
	st.rows[0].Name = "Renamed Waffle"
	st.version++
	s.Invalidate()
	if a2, _, _, _, _ := s.renderedList(ctx, listQuery{Page: paging.Page{Limit: 1000}}); a2.ETag() == etag || string(a2.Body) == string(body) {
		t.Errorf("after a change: tag %s (was %s), body changed: %v", a2.ETag(), etag, string(a2.Body) != string(body))
	}
	for _, p := range []listQuery{{Page: paging.Page{Limit: 1}}, {Page: paging.Page{Limit: 1000, Offset: 1}}, {Page: paging.Page{Limit: 1000}, AfterID: 1}} {
		if _, _, _, ok, _ := s.renderedList(ctx, p); ok {
			t.Errorf("page %+v served from the whole-list rendering", p)
		}
	}
	off := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000})
	if _, _, _, ok, _ := off.renderedList(ctx, listQuery{Page: paging.Page{Limit: 1000}}); ok {
		t.Error("rendered JSON served with the cache off")
	}
}

// TestRenderedFirstPageOfALargeMenu checks that a menu longer than the
// largest page keeps that first page rendered, with the whole total, and
// that later pages are sliced from the same menu.
func TestRenderedFirstPageOfALargeMenu(t *testing.T) {
	st := newFakeStore()
	s := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 2, CacheTTL: time.Minute})
	ctx := context.Background()
	first, _, _, _ := s.List(ctx, listQuery{Page: paging.Page{Limit: 2}})
	want, _ := json.Marshal(first)
	answer, total, next, ok, err := s.renderedList(ctx, listQuery{Page: paging.Page{Limit: 2}})
	if err != nil || !ok || total != 3 || next != 2 || string(answer.Body) != string(want) {
		t.Fatalf("renderedList = %v, %d, next %d, %v, %v; want %s of 3, next 2", answer, total, next, ok, err, want)
	}
	if page, total, next, _ := s.List(ctx, listQuery{Page: paging.Page{Limit: 2}, AfterID: 2}); len(page) != 1 || page[0].ID != "3" || total != 3 || next != 0 {
		t.Errorf("after 2: %+v of %d, next %d; want product 3 of 3 and no next", page, total, next)
	}
	if st.reads != 1 || len(st.pages) != 0 {
		t.Errorf("%d reads and %d pages, want one read of the whole menu", st.reads, len(st.pages))
	}
}

func TestInvalidateDropsTheCachedMenu(t *testing.T) {
	st := newFakeStore()
	s := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000, CacheTTL: time.Hour})
	ctx := context.Background()
	if _, err := s.Get(ctx, 1); err != nil {
		t.Fatal(err)
	}
	st.rows[0].PriceCents = 999
	st.version++
	if p, _ := s.Get(ctx, 1); p.Price != 650 {
		t.Fatalf("price %d before Invalidate, want the cached 650", p.Price)
	}
	s.Invalidate()
	if p, _ := s.Get(ctx, 1); p.Price != 999 || st.reads != 2 {
		t.Errorf("after Invalidate: price %d with %d reads, want 999 from a second read", p.Price, st.reads)
	}
}

// invalidatingStore invalidates the cache while a refresh reads it, as a
// notification arriving mid-read would.
type invalidatingStore struct {
	*fakeStore
	s *Service
}

func (st *invalidatingStore) OnSale(ctx context.Context) ([]productRow, int64, error) {
	rows, v, err := st.fakeStore.OnSale(ctx)
	st.version++ // a change commits
	st.s.Invalidate()
	return rows, v, err
}

func TestAReadOverlappingAnInvalidationIsNotFresh(t *testing.T) {
	st := &invalidatingStore{fakeStore: newFakeStore()}
	s := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000, CacheTTL: time.Hour})
	st.s = s
	for range 2 {
		if _, err := s.Get(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
	}
	if st.reads != 2 {
		t.Errorf("%d reads, want 2: the snapshot read across an invalidation was reused", st.reads)
	}
}

func TestRenderedListPerOrigin(t *testing.T) {
	st := newFakeStore()
	s := NewService(st, Config{MaxLimit: 1000, CacheTTL: time.Minute})
	for _, origin := range []string{"http://a.test", "http://a.test", "https://b.test", "http://a.test"} {
		ctx := httpserver.WithOrigin(context.Background(), origin)
		all, _, _, _ := s.List(ctx, listQuery{Page: paging.Page{Limit: 1000}})
		want, _ := json.Marshal(all)
		answer, _, _, ok, err := s.renderedList(ctx, listQuery{Page: paging.Page{Limit: 1000}})
		if err != nil || !ok || string(answer.Body) != string(want) {
			t.Fatalf("renderedList for %s = %v, %v, %v; want %s", origin, answer, ok, err, want)
		}
		body := answer.Body
		if !strings.Contains(string(body), origin+"/api/images/") {
			t.Errorf("renderedList for %s links elsewhere: %s", origin, body)
		}
	}
}

// TestCachedProductsByIDs checks that the cache answers only for ids it
// holds, without a database read, with the request's image links, and not
// at all with caching off.
func TestCachedProductsByIDs(t *testing.T) {
	st := newFakeStore()
	s := NewService(st, Config{MaxLimit: 1000, CacheTTL: time.Hour})
	ctx := httpserver.WithOrigin(context.Background(), "https://shop.test")
	if _, err := s.cached(ctx); err != nil {
		t.Fatal(err)
	}
	got, ok := s.CachedProductsByIDs(ctx, []int64{2, 1})
	if !ok || len(got) != 2 || got[1].Name != "Waffle with Berries" || got[2].ID != "2" {
		t.Fatalf("CachedProductsByIDs = %+v, %t", got, ok)
	}
	if !strings.HasPrefix(got[1].Image.Thumbnail, "https://shop.test/api/images/") {
		t.Errorf("image %q, want a link under the request's origin", got[1].Image.Thumbnail)
	}
	st.rows[0].PriceCents = 999 // within the TTL the cache keeps the old price
	if again, _ := s.CachedProductsByIDs(ctx, []int64{1}); again[1].Price == 999 || st.reads != 1 {
		t.Errorf("price %d after %d reads, want the cached price from one read", again[1].Price, st.reads)
	}
	if _, ok := s.CachedProductsByIDs(ctx, []int64{1, 404}); ok {
		t.Error("answered for an id the cache does not hold")
	}
	off := NewService(newFakeStore(), Config{MaxLimit: 1000})
	if _, ok := off.CachedProductsByIDs(ctx, []int64{1}); ok {
		t.Error("answered with caching off")
	}
}

// TestAnOrderNeverReadsTheCatalogue checks that an order's lookup never
// reads the catalogue itself, neither the first one nor one after the
// snapshot aged past the TTL: it answers that the cache cannot price it and
// asks the background refresher, which takes the snapshot (and only then
// reports the cache warmed) for the next order.
func TestAnOrderNeverReadsTheCatalogue(t *testing.T) {
	st := newFakeStore()
	s := NewService(st, Config{MaxLimit: 1000, CacheTTL: time.Minute})
	now := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time {
		st.mu.Lock()
		defer st.mu.Unlock()
		return now
	}
	ctx := context.Background()
	if _, ok := s.CachedProductsByIDs(ctx, []int64{1}); ok || st.reads != 0 || s.Warmed() {
		t.Fatalf("before any refresh: ok %t, %d reads, warmed %t; want no answer, no read, not warmed", ok, st.reads, s.Warmed())
	}
	run, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.RefreshInBackground(run) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for !s.Warmed() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got, ok := s.CachedProductsByIDs(ctx, []int64{1}); !ok || got[1].Price != 650 || st.reads != 1 {
		t.Fatalf("after the refresher's first read: %+v, %t, %d reads", got, ok, st.reads)
	}
	// The snapshot ages; the menu changes meanwhile.
	st.mu.Lock()
	st.rows[0].PriceCents = 700
	st.version++
	now = now.Add(time.Minute)
	st.mu.Unlock()
	if _, ok := s.CachedProductsByIDs(ctx, []int64{1}); ok {
		t.Fatal("answered from a snapshot older than the TTL")
	}
	for time.Now().Before(deadline) {
		if got, ok := s.CachedProductsByIDs(ctx, []int64{1}); ok {
			if got[1].Price != 700 {
				t.Fatalf("renewed snapshot prices 1 at %d, want 700", got[1].Price)
			}
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the refresher did not renew the snapshot an order asked for")
}

// blockingStore is a fakeStore whose OnSale waits, once entered, until
// release is closed.
type blockingStore struct {
	*fakeStore
	entered, release chan struct{}
}

func (b *blockingStore) OnSale(ctx context.Context) ([]productRow, int64, error) {
	close(b.entered)
	<-b.release
	return b.fakeStore.OnSale(ctx)
}

// TestCachedProductsByIDsNeverWaitsForARefresh checks that while another
// request reads the catalogue afresh, an order's lookup answers at once
// that the cache cannot price it, instead of waiting.
func TestCachedProductsByIDsNeverWaitsForARefresh(t *testing.T) {
	st := &blockingStore{fakeStore: newFakeStore(), entered: make(chan struct{}), release: make(chan struct{})}
	s := NewService(st, Config{MaxLimit: 1000, CacheTTL: time.Hour})
	ctx := context.Background()
	listed := make(chan error)
	go func() {
		_, _, _, err := s.List(ctx, listQuery{Page: paging.Page{Limit: 10}})
		listed <- err
	}()
	<-st.entered // the refresh holds the lock
	answered := make(chan bool)
	go func() {
		_, ok := s.CachedProductsByIDs(ctx, []int64{1})
		answered <- ok
	}()
	select {
	case ok := <-answered:
		if ok {
			t.Error("answered from a snapshot that is still being read")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the order's lookup waited for the refresh")
	}
	close(st.release)
	if err := <-listed; err != nil {
		t.Fatal(err)
	}
	if got, ok := s.CachedProductsByIDs(ctx, []int64{1}); !ok || got[1].Price != 650 {
		t.Errorf("after the refresh: %+v, %t; want the cached product", got, ok)
	}
}

// TestCacheHoldsALargeMenu checks that a menu of more than ten thousand
// products is cached whole: pages, products and order lookups come from one
// read of it.
func TestCacheHoldsALargeMenu(t *testing.T) {
	st := &fakeStore{}
	for id := int64(1); id <= 20_001; id++ {
		st.rows = append(st.rows, productRow{ID: id, Name: "P", Category: "Cake", PriceCents: id, ImageSlug: "cake"})
	}
	s := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000, CacheTTL: time.Hour})
	ctx := context.Background()
	if page, total, _, err := s.List(ctx, listQuery{Page: paging.Page{Limit: 3, Offset: 20_000}}); err != nil || total != 20_001 || len(page) != 1 || page[0].ID != "20001" {
		t.Errorf("last page = %+v, %d, %v", page, total, err)
	}
	if p, err := s.Get(ctx, 15_000); err != nil || p.Price != 15_000 {
		t.Errorf("Get(15000) = %+v, %v", p, err)
	}
	if got, ok := s.CachedProductsByIDs(ctx, []int64{20_001}); !ok || got[20_001].Price != 20_001 {
		t.Errorf("CachedProductsByIDs = %+v, %t", got, ok)
	}
	if st.reads != 1 || len(st.pages) != 0 {
		t.Errorf("%d reads of the menu and %d pages, want the menu read once", st.reads, len(st.pages))
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Crème Brûlée", "creme brulee"},
		{"WAFFLE", "waffle"},
		{"Ça Señor Über", "ca senor uber"},
		{"100% cocoa_cake", "100% cocoa_cake"},
	}
	for _, tt := range tests {
		if got := fold(tt.in); got != tt.want {
			t.Errorf("fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCachedSearch checks filtered pages served from the cache: the total
// counts every match, the page and the cursor apply within the matches.
func TestCachedSearch(t *testing.T) {
	st := newFakeStore()
	st.rows = append(st.rows, productRow{ID: 4, Name: "Belgian WAFFLE", Category: "waffle", ImageSlug: "waffle"})
	s := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000, CacheTTL: time.Hour})
	tests := []struct {
		q     listQuery
		ids   []string
		total int
		next  int64
	}{
		{listQuery{Page: paging.Page{Limit: 10}, Category: "WAFFLE"}, []string{"1", "4"}, 2, 0},
		{listQuery{Page: paging.Page{Limit: 1}, Search: "waff"}, []string{"1"}, 2, 1},
		{listQuery{Page: paging.Page{Limit: 1}, Search: "waff", AfterID: 1}, []string{"4"}, 2, 0},
		{listQuery{Page: paging.Page{Limit: 5, Offset: 1}, Search: "WAFF"}, []string{"4"}, 2, 0},
		{listQuery{Page: paging.Page{Limit: 5}, Search: "brulee"}, []string{"2"}, 1, 0},
		{listQuery{Page: paging.Page{Limit: 5}, Search: "brulee", Category: "Macaron"}, []string{}, 0, 0},
	}
	for _, tt := range tests {
		page, total, next, err := s.List(context.Background(), tt.q)
		got := []string{}
		for _, p := range page {
			got = append(got, p.ID)
		}
		if err != nil || strings.Join(got, ",") != strings.Join(tt.ids, ",") || total != tt.total || next != tt.next {
			t.Errorf("%+v = %v of %d next %d, %v; want %v of %d next %d", tt.q, got, total, next, err, tt.ids, tt.total, tt.next)
		}
	}
	if st.reads != 1 || len(st.pages) != 0 {
		t.Errorf("%d reads and %d pages, want one read of the menu", st.reads, len(st.pages))
	}
}

// TestCacheCheckWaitsForTheFirstSnapshot checks that the readiness check
// says loading until the cache holds the menu, and ok with caching off.
func TestCacheCheckWaitsForTheFirstSnapshot(t *testing.T) {
	s := NewService(newFakeStore(), Config{MaxLimit: 1000, CacheTTL: time.Minute})
	check := newCacheCheck(s)
	ctx := context.Background()
	if r := check.Probe(ctx); r.Status != health.Loading {
		t.Fatalf("before the first snapshot: %v, want loading", r)
	}
	if _, err := s.cached(ctx); err != nil {
		t.Fatal(err)
	}
	if r := check.Probe(ctx); r.Status != health.OK {
		t.Errorf("after the first snapshot: %v, want ok", r)
	}
	if r := newCacheCheck(NewService(newFakeStore(), Config{MaxLimit: 1000})).Probe(ctx); r.Status != health.OK {
		t.Errorf("with caching off: %v, want ok", r)
	}
}
