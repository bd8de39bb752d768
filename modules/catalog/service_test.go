package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"minikart/platform/httpserver"
	"minikart/platform/paging"
)

func TestCacheServesReadsWithinTTL(t *testing.T) {
	st := newFakeStore()
	s := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000, CacheTTL: time.Second})
	now := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return now }
	ctx := context.Background()

	page, total, err := s.List(ctx, paging.Page{Limit: 2, Offset: 1})
	if err != nil || total != len(st.rows) || len(page) != 2 || page[0].ID != "2" {
		t.Fatalf("List = %+v, %d, %v", page, total, err)
	}
	if p, err := s.Get(ctx, 1); err != nil || p.Name != "Waffle with Berries" {
		t.Fatalf("Get(1) = %+v, %v", p, err)
	}
	if _, err := s.Get(ctx, 404); !errors.Is(err, ErrProductNotFound) {
		t.Errorf("Get(404) = %v, want ErrProductNotFound", err)
	}
	if page, total, _ := s.List(ctx, paging.Page{Limit: 5, Offset: 100}); len(page) != 0 || total != len(st.rows) {
		t.Errorf("page past the end = %d products, total %d", len(page), total)
	}
	if len(st.pages) != 1 {
		t.Fatalf("the store was read %d times within the TTL, want once", len(st.pages))
	}

	st.rows[0].Name = "Waffle, renamed"
	now = now.Add(time.Second)
	if p, _ := s.Get(ctx, 1); p.Name != "Waffle, renamed" || len(st.pages) != 2 {
		t.Errorf("after the TTL: %q with %d reads, want the new name from a second read", p.Name, len(st.pages))
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
		if _, _, err := s.List(context.Background(), paging.Page{Limit: 10}); err != nil {
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
	if _, _, err := s.List(context.Background(), paging.Page{Limit: 10}); err == nil {
		t.Fatal("want the store's error")
	}
	st.err = nil
	if page, _, err := s.List(context.Background(), paging.Page{Limit: 10}); err != nil || len(page) == 0 {
		t.Errorf("after recovery: %d products, %v", len(page), err)
	}
}

func TestRenderedJSONMatchesTheProducts(t *testing.T) {
	st := newFakeStore()
	s := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000, CacheTTL: time.Minute})
	ctx := context.Background()
	all, total, _ := s.List(ctx, paging.Page{Limit: 1000})
	want, _ := json.Marshal(all)
	body, n, ok, err := s.renderedList(ctx, paging.Page{Limit: 1000})
	if err != nil || !ok || n != total || string(body) != string(want) {
		t.Errorf("renderedList = %s, %d, %v, %v; want %s", body, n, ok, err, want)
	}
	for _, p := range []paging.Page{{Limit: 1}, {Limit: 1000, Offset: 1}} {
		if _, _, ok, _ := s.renderedList(ctx, p); ok {
			t.Errorf("page %+v served from the whole-list rendering", p)
		}
	}
	one, _ := json.Marshal(all[0])
	if body, ok, err := s.renderedProduct(ctx, 1); err != nil || !ok || string(body) != string(one) {
		t.Errorf("renderedProduct(1) = %s, %v, %v", body, ok, err)
	}
	if _, _, err := s.renderedProduct(ctx, 404); !errors.Is(err, ErrProductNotFound) {
		t.Errorf("renderedProduct(404) = %v", err)
	}
	off := NewService(st, Config{ImageBaseURL: "https://img.test", MaxLimit: 1000})
	if _, ok, _ := off.renderedProduct(ctx, 1); ok {
		t.Error("rendered JSON served with the cache off")
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
	if p, _ := s.Get(ctx, 1); p.Price != 650 {
		t.Fatalf("price %d before Invalidate, want the cached 650", p.Price)
	}
	s.Invalidate()
	if p, _ := s.Get(ctx, 1); p.Price != 999 || len(st.pages) != 2 {
		t.Errorf("after Invalidate: price %d with %d reads, want 999 from a second read", p.Price, len(st.pages))
	}
}

// invalidatingStore invalidates the cache while a refresh reads it, as a
// notification arriving mid-read would.
type invalidatingStore struct {
	*fakeStore
	s *Service
}

func (st *invalidatingStore) List(ctx context.Context, p paging.Page) ([]productRow, int, error) {
	rows, total, err := st.fakeStore.List(ctx, p)
	st.s.Invalidate()
	return rows, total, err
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
	if len(st.pages) != 2 {
		t.Errorf("%d reads, want 2: the snapshot read across an invalidation was reused", len(st.pages))
	}
}

func TestRenderedListPerOrigin(t *testing.T) {
	st := newFakeStore()
	s := NewService(st, Config{MaxLimit: 1000, CacheTTL: time.Minute})
	for _, origin := range []string{"http://a.test", "http://a.test", "https://b.test", "http://a.test"} {
		ctx := httpserver.WithOrigin(context.Background(), origin)
		all, _, _ := s.List(ctx, paging.Page{Limit: 1000})
		want, _ := json.Marshal(all)
		body, _, ok, err := s.renderedList(ctx, paging.Page{Limit: 1000})
		if err != nil || !ok || string(body) != string(want) {
			t.Errorf("renderedList for %s = %s, %v, %v; want %s", origin, body, ok, err, want)
		}
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
	got, ok := s.CachedProductsByIDs(ctx, []int64{2, 1})
	if !ok || len(got) != 2 || got[1].Name != "Waffle with Berries" || got[2].ID != "2" {
		t.Fatalf("CachedProductsByIDs = %+v, %t", got, ok)
	}
	if !strings.HasPrefix(got[1].Image.Thumbnail, "https://shop.test/api/images/") {
		t.Errorf("image %q, want a link under the request's origin", got[1].Image.Thumbnail)
	}
	st.rows[0].PriceCents = 999 // within the TTL the cache keeps the old price
	if again, _ := s.CachedProductsByIDs(ctx, []int64{1}); again[1].Price == 999 || len(st.pages) != 1 {
		t.Errorf("price %d after %d reads, want the cached price from one read", again[1].Price, len(st.pages))
	}
	if _, ok := s.CachedProductsByIDs(ctx, []int64{1, 404}); ok {
		t.Error("answered for an id the cache does not hold")
	}
	off := NewService(newFakeStore(), Config{MaxLimit: 1000})
	if _, ok := off.CachedProductsByIDs(ctx, []int64{1}); ok {
		t.Error("answered with caching off")
	}
}

// blockingStore is a fakeStore whose List waits, once entered, until
// release is closed.
type blockingStore struct {
	*fakeStore
	entered, release chan struct{}
}

func (b *blockingStore) List(ctx context.Context, p paging.Page) ([]productRow, int, error) {
	close(b.entered)
	<-b.release
	return b.fakeStore.List(ctx, p)
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
		_, _, err := s.List(ctx, paging.Page{Limit: 10})
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
