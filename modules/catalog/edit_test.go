package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"minikart/platform/apperr"
)

// fakeMenu keeps the menu in memory and applies a planner's difference as
// ChangeMenu does.
type fakeMenu struct {
	items  []menuItem
	stored map[string]bool
	writes []string // the picture files written, by name
}

func (f *fakeMenu) Menu(context.Context) ([]menuItem, error)    { return f.items, nil }
func (f *fakeMenu) AllMenu(context.Context) ([]menuItem, error) { return f.items, nil }

func (f *fakeMenu) ChangeMenu(_ context.Context, plan menuPlanner) (menuDiff, error) {
	d, files, apply, err := plan(append([]menuItem(nil), f.items...), f.stored)
	if err != nil || !apply || d.empty() {
		return d, err
	}
	for _, file := range files {
		f.stored[file.name] = true
		f.writes = append(f.writes, file.name)
	}
	set := func(it menuItem) {
		for i := range f.items {
			if f.items[i].ID == it.ID {
				f.items[i] = it
				return
			}
		}
		f.items = append(f.items, it)
	}
	for _, it := range d.Added {
		set(it)
	}
	for _, c := range d.Changed {
		set(c[1])
	}
	for _, it := range d.Removed {
		it.Removed = true
		set(it)
	}
	return d, nil
}

func fields(t *testing.T, js string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMenuPutAndRemove(t *testing.T) {
	st := &fakeMenu{stored: map[string]bool{}}
	m := NewMenu(st, NewService(newFakeStore(), testConfig), testConfig)
	ctx := context.Background()
	steps := []struct {
		name string
		do   func() (Outcome, error)
		want Outcome
	}{
		{"a new id", func() (Outcome, error) {
			_, o, err := m.Put(ctx, 50, fields(t, `{"name":"Lemon Tart","category":"Tart","price":5.10,"image":"waffle"}`))
			return o, err
		}, Created},
		{"the same again", func() (Outcome, error) {
			_, o, err := m.Put(ctx, 50, fields(t, `{"id":"50","name":"Lemon Tart","category":"Tart","price":"5.10","image":"waffle"}`))
			return o, err
		}, Unchanged},
		{"a new price", func() (Outcome, error) {
			_, o, err := m.Put(ctx, 50, fields(t, `{"name":"Lemon Tart","category":"Tart","price":6,"image":"waffle"}`))
			return o, err
		}, Replaced},
		{"removed", func() (Outcome, error) { return m.Remove(ctx, 50) }, Removed},
		{"removed again", func() (Outcome, error) { return m.Remove(ctx, 50) }, Unchanged},
		{"put back", func() (Outcome, error) {
			_, o, err := m.Put(ctx, 50, fields(t, `{"name":"Lemon Tart","category":"Tart","price":6,"image":"waffle"}`))
			return o, err
		}, Restored},
	}
	for _, s := range steps {
		if got, err := s.do(); err != nil || got != s.want {
			t.Fatalf("%s: %q, %v; want %q", s.name, got, err, s.want)
		}
	}
	if st.items[0].Price != 600 || st.items[0].Removed {
		t.Errorf("stored %+v", st.items[0])
	}
	if _, err := m.Remove(ctx, 51); !errors.Is(err, ErrProductNotFound) {
		t.Errorf("Remove of an unknown id: %v", err)
	}
}

func TestMenuPutRefuses(t *testing.T) {
	m := NewMenu(&fakeMenu{stored: map[string]bool{}}, NewService(newFakeStore(), testConfig), testConfig)
	tests := []struct {
		name, body string
		code       *apperr.Error
		field      string
	}{
		{"a missing name", `{"category":"Tart","price":5,"image":"waffle"}`, apperr.ErrMissingField, "name"},
		{"a negative price", `{"name":"T","category":"Tart","price":-1,"image":"waffle"}`, apperr.ErrInvalidField, "price"},
		{"a picture file on the server", `{"name":"T","category":"Tart","price":5,"image":"/etc/hostname"}`, apperr.ErrInvalidField, "image"},
		{"a stored picture that is not stored", `{"name":"T","category":"Tart","price":5,"image":"stored:` + "0000000000000000000000000000000000000000000000000000000000000000.jpg" + `"}`, apperr.ErrInvalidField, "image"},
		{"another id", `{"id":7,"name":"T","category":"Tart","price":5,"image":"waffle"}`, apperr.ErrInvalidField, "id"},
	}
	for _, tt := range tests {
		_, _, err := m.Put(context.Background(), 50, fields(t, tt.body))
		ae, ok := apperr.As(err)
		if !ok || !errors.Is(err, tt.code) || len(ae.Details) == 0 || ae.Details[0].Field != tt.field {
			t.Errorf("%s: %v, want %s naming %s", tt.name, err, tt.code.Code, tt.field)
		}
	}
}

func TestMenuSetImage(t *testing.T) {
	st := &fakeMenu{stored: map[string]bool{}, items: []menuItem{
		{ID: 1, Name: "Waffle", Category: "Waffle", Price: 650, Slug: "waffle"},
		{ID: 2, Name: "Gone", Category: "Cake", Price: 500, Slug: "cake", Removed: true},
	}}
	m := NewMenu(st, NewService(newFakeStore(), testConfig), Config{MaxImageBytes: 1024})
	ctx := context.Background()
	png := []byte(pngHeader + "pixels")
	p, outcome, err := m.SetImage(ctx, 1, png)
	if err != nil || outcome != Replaced {
		t.Fatalf("SetImage: %q, %v; want replaced", outcome, err)
	}
	want, _ := pictureOf(png, 1024)
	url := testConfig.ImageBaseURL + "/images/" + want.name
	if p.Image != (Image{url, url, url, url}) || p.Name != "Waffle" || p.Price != 650 {
		t.Errorf("product %+v, want the picture %s in every size and the rest unchanged", p, url)
	}
	if ref := storedPrefix + want.name; st.items[0].Slug != "" || st.items[0].Refs != (imageRefs{ref, ref, ref, ref}) {
		t.Errorf("stored %+v", st.items[0])
	}
	if _, outcome, err := m.SetImage(ctx, 1, png); err != nil || outcome != Unchanged {
		t.Errorf("the same picture again: %q, %v; want unchanged", outcome, err)
	}
	if len(st.writes) != 1 || st.writes[0] != want.name {
		t.Errorf("pictures written %v, want %s once", st.writes, want.name)
	}
	for _, tt := range []struct {
		name string
		id   int64
		body []byte
		want *apperr.Error
	}{
		{"an unknown product", 3, png, ErrProductNotFound},
		{"a removed product", 2, png, ErrProductNotFound},
		{"not a picture", 1, []byte("GIF87 is not quite a header"), ErrUnsupportedImageType},
		{"too large", 1, append([]byte(pngHeader), make([]byte, 1024)...), apperr.ErrBodyTooLarge},
		{"nothing", 1, nil, ErrImageMissing},
		{"a bad id", 0, png, apperr.ErrInvalidParameter},
	} {
		if _, _, err := m.SetImage(ctx, tt.id, tt.body); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.want.Code)
		}
	}
	if len(st.writes) != 1 {
		t.Errorf("a refused picture was written: %v", st.writes)
	}
}
