package catalog

import (
	"context"
	"strconv"
	"strings"

	"minikart/platform/money"
)

// productStore is what the service needs from storage.
type productStore interface {
	List(ctx context.Context, p Page) ([]productRow, int, error)
	Get(ctx context.Context, id int64) (productRow, error)
	ByIDs(ctx context.Context, ids []int64) ([]productRow, error)
}

// Service answers questions about products.
type Service struct {
	store     productStore
	imageBase string
	maxLimit  int
}

// NewService returns the catalog service.
func NewService(st productStore, c Config) *Service {
	return &Service{store: st, imageBase: strings.TrimRight(c.ImageBaseURL, "/"), maxLimit: c.MaxLimit}
}

// List returns one page of products and the total number of products.
func (s *Service) List(ctx context.Context, p Page) ([]Product, int, error) {
	rows, total, err := s.store.List(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Product, len(rows))
	for i, r := range rows {
		out[i] = s.toProduct(r)
	}
	return out, total, nil
}

// Get returns one product, or ErrProductNotFound.
func (s *Service) Get(ctx context.Context, id int64) (Product, error) {
	r, err := s.store.Get(ctx, id)
	if err != nil {
		return Product{}, err
	}
	return s.toProduct(r), nil
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
		out[r.ID] = s.toProduct(r)
	}
	return out, nil
}

func (s *Service) toProduct(r productRow) Product {
	img := func(size string) string {
		return s.imageBase + "/images/image-" + r.ImageSlug + "-" + size + ".jpg"
	}
	return Product{
		ID:       strconv.FormatInt(r.ID, 10),
		Name:     r.Name,
		Price:    money.Cents(r.PriceCents),
		Category: r.Category,
		Image: Image{
			Thumbnail: img("thumbnail"),
			Mobile:    img("mobile"),
			Tablet:    img("tablet"),
			Desktop:   img("desktop"),
		},
	}
}
