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
}

func (f *fakeMenu) Menu(context.Context) ([]menuItem, error)    { return f.items, nil }
func (f *fakeMenu) AllMenu(context.Context) ([]menuItem, error) { return f.items, nil }

func (f *fakeMenu) ChangeMenu(_ context.Context, plan menuPlanner) (menuDiff, error) {
	d, _, apply, err := plan(append([]menuItem(nil), f.items...), f.stored)
	if err != nil || !apply {
		return d, err
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
	m := NewMenu(st, NewService(newFakeStore(), testConfig))
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
	m := NewMenu(&fakeMenu{stored: map[string]bool{}}, NewService(newFakeStore(), testConfig))
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
