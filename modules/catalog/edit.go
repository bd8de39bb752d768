package catalog

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"minikart/platform/apperr"
)

// Menu changes the menu one product at a time, for other modules (the
// admin API). It shares the import's one check of a product (a product
// valid in a menu file is valid here, and the reverse) and its one way of
// writing (menuStore.ChangeMenu: one transaction with the products table
// locked against other writers), so its commit, like an import's, tells
// every instance's catalogue cache to read the menu again. What it reads
// comes from the primary, never from the cache or a standby.
type Menu struct {
	st       menuStore
	s        *Service
	maxImage int64
}

// NewMenu returns the menu editor.
func NewMenu(st menuStore, s *Service, c Config) *Menu {
	return &Menu{st: st, s: s, maxImage: c.MaxImageBytes}
}

// MaxImageBytes is the largest picture SetImage takes
// (catalog.max_image_bytes), for a caller that reads one from a client.
func (m *Menu) MaxImageBytes() int64 { return m.maxImage }

// MenuProduct is a product as the menu stores it, removed ones included.
type MenuProduct struct {
	Product
	// Removed is set for a product taken off the menu: its id is kept, and
	// a Put of that id puts it back.
	Removed bool `json:"removed"`
}

// Outcome says what a change did.
type Outcome string

// The outcomes of Put and Remove.
const (
	Created   Outcome = "created"   // a new id
	Restored  Outcome = "restored"  // an id that had been removed, on the menu again
	Replaced  Outcome = "replaced"  // a product on the menu, changed
	Unchanged Outcome = "unchanged" // nothing to write
	Removed   Outcome = "removed"   // taken off the menu
)

// Products returns every product the menu has ever had, in id order, each
// marked whether it is removed.
func (m *Menu) Products(ctx context.Context) ([]MenuProduct, error) {
	items, err := m.st.AllMenu(ctx)
	if err != nil {
		return nil, err
	}
	base := m.s.baseFor(ctx)
	out := make([]MenuProduct, len(items))
	for i, it := range items {
		out[i] = MenuProduct{Product: m.s.toProduct(it.row(), base), Removed: it.Removed}
	}
	return out, nil
}

// Put creates or replaces product id from fields, the members of one
// product of a menu file (name, category, price, image; id may repeat the
// path's id). Numbers are json.Number, so a price keeps its decimals as
// written. A file reference as image is refused: pictures come as a
// built-in name, an http(s) URL or stored:<file>. A product that fails
// answers MISSING_FIELD or INVALID_FIELD with a detail per field.
func (m *Menu) Put(ctx context.Context, id int64, fields map[string]any) (Product, Outcome, error) {
	if id < 1 {
		return Product{}, "", errBadID(strconv.FormatInt(id, 10))
	}
	raw := make(map[string]any, len(fields)+1)
	for k, v := range fields {
		raw[k] = v
	}
	var idProblem error
	if given, ok := raw["id"]; ok && scalar(given) != strconv.FormatInt(id, 10) {
		var p apperr.Problems
		p.Add(apperr.ErrInvalidField, "id", "must be the id of the path, "+strconv.FormatInt(id, 10)+", or absent", scalar(given))
		idProblem = p.Err()
	}
	raw["id"] = strconv.FormatInt(id, 10)
	if idProblem != nil {
		return Product{}, "", idProblem
	}
	var item menuItem
	var outcome Outcome
	_, err := m.st.ChangeMenu(ctx, func(current []menuItem, stored map[string]bool) (menuDiff, []imageFile, bool, error) {
		v := validator{stored: stored, files: map[string]imageFile{}, errs: &menuErrors{}}
		it, ok := v.item(rawRow{row: 1, fields: raw})
		if !ok {
			return menuDiff{}, nil, false, problemsOf(v.errs, raw)
		}
		item = it
		d := diffMenu(current, []menuItem{it}, false)
		switch {
		case d.Restored[id]:
			outcome = Restored
		case len(d.Added) == 1:
			outcome = Created
		case len(d.Changed) == 1:
			outcome = Replaced
		default:
			outcome = Unchanged
		}
		return d, nil, true, nil
	})
	if err != nil {
		return Product{}, "", err
	}
	return m.s.toProduct(item.row(), m.s.baseFor(ctx)), outcome, nil
}

// SetImage makes body the picture of product id, in every size. The bytes
// get the import's one check of a picture (pictureOf: the size limit, a
// JPEG, PNG, WebP or GIF by its bytes, whatever a client says it is) and
// are stored once under the hash of their content, in the transaction
// that points the product at them, the one write of Put and the import;
// every instance serves the new picture from the commit, at a URL that
// never changes meaning. A product not on the menu (unknown or removed)
// is ErrProductNotFound.
func (m *Menu) SetImage(ctx context.Context, id int64, body []byte) (Product, Outcome, error) {
	if id < 1 {
		return Product{}, "", errBadID(strconv.FormatInt(id, 10))
	}
	f, err := pictureOf(body, m.maxImage)
	if err != nil {
		return Product{}, "", err
	}
	ref := storedPrefix + f.name
	var item menuItem
	var outcome Outcome
	_, err = m.st.ChangeMenu(ctx, func(current []menuItem, stored map[string]bool) (menuDiff, []imageFile, bool, error) {
		i := slices.IndexFunc(current, func(it menuItem) bool { return it.ID == id })
		if i < 0 || current[i].Removed {
			return menuDiff{}, nil, false, ErrProductNotFound
		}
		item = current[i]
		item.Slug, item.Refs = "", refsOf([4]string{ref, ref, ref, ref})
		d := diffMenu(current, []menuItem{item}, false)
		outcome = Replaced
		if len(d.Changed) == 0 {
			outcome = Unchanged
		}
		var files []imageFile
		if !stored[f.name] {
			files = []imageFile{f}
		}
		return d, files, true, nil
	})
	if err != nil {
		return Product{}, "", err
	}
	return m.s.toProduct(item.row(), m.s.baseFor(ctx)), outcome, nil
}

// Remove takes product id off the menu and keeps its id, as an import with
// --prune does; removing a removed product changes nothing (Unchanged). An
// id the menu never had is ErrProductNotFound.
func (m *Menu) Remove(ctx context.Context, id int64) (Outcome, error) {
	var outcome Outcome
	_, err := m.st.ChangeMenu(ctx, func(current []menuItem, _ map[string]bool) (menuDiff, []imageFile, bool, error) {
		for _, it := range current {
			if it.ID != id {
				continue
			}
			if it.Removed {
				outcome = Unchanged
				return menuDiff{}, nil, false, nil
			}
			outcome = Removed
			return menuDiff{Removed: []menuItem{it}}, nil, true, nil
		}
		return menuDiff{}, nil, false, ErrProductNotFound
	})
	return outcome, err
}

// row is the products row that stores it.
func (m menuItem) row() productRow {
	return productRow{ID: m.ID, Name: m.Name, Category: m.Category, PriceCents: int64(m.Price), ImageSlug: m.Slug, imageRefs: m.Refs}
}

// problemsOf turns the validator's findings on one product into the
// answer: MISSING_FIELD for a member that is absent, INVALID_FIELD for one
// that is wrong, a detail for each.
func problemsOf(errs *menuErrors, raw map[string]any) error {
	var p apperr.Problems
	for _, re := range errs.errs {
		top, _, _ := strings.Cut(re.Field, ".")
		code := apperr.ErrInvalidField
		if v, ok := raw[top]; !ok || v == nil {
			code = apperr.ErrMissingField
		}
		p.Add(code, re.Field, re.Message, "")
	}
	return p.Err()
}

func errBadID(raw string) error {
	return apperr.ErrInvalidParameter.Withf("productId must be a positive integer").
		WithDetails(apperr.Detail{Field: "productId", Message: "must be a positive 64-bit integer", Value: apperr.Clip(raw)})
}
