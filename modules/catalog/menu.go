package catalog

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"

	"minikart/platform/apperr"
	"minikart/platform/money"
)

// menuItem is one product of a menu: a validated row of an import file, or
// a product as stored.
type menuItem struct {
	ID       int64
	Name     string
	Category string
	Price    money.Cents
	// Slug names a built-in set of pictures; when empty, Refs holds one
	// reference per size.
	Slug string
	Refs imageRefs
	// Removed is set for a stored product that a prune took off the menu.
	Removed bool
}

// sameAs reports whether two items would be served alike.
func (m menuItem) sameAs(o menuItem) bool {
	return m.ID == o.ID && m.Name == o.Name && m.Category == o.Category && m.Price == o.Price &&
		m.Slug == o.Slug && m.Refs == o.Refs
}

func (r imageRefs) sizes() [4]string { return [4]string{r.Thumbnail, r.Mobile, r.Tablet, r.Desktop} }

func refsOf(s [4]string) imageRefs { return imageRefs{s[0], s[1], s[2], s[3]} }

// imageFile is a picture file an import brings, to be stored under name.
type imageFile struct {
	name        string
	contentType string
	body        []byte
}

// Limits on an import file, so a mistaken file cannot exhaust memory: a
// menu of 200,000 products with a URL for each picture size fits.
const (
	maxMenuBytes = 128 << 20
	maxMenuItems = 200_000
	maxNameLen   = 200
	maxErrors    = 50
)

// menuFormat is a file format of import and export.
type menuFormat string

const (
	formatYAML menuFormat = "yaml"
	formatJSON menuFormat = "json"
	formatCSV  menuFormat = "csv"
)

// formatOf picks the format from a file name's extension.
func formatOf(path string) (menuFormat, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return formatYAML, nil
	case ".json":
		return formatJSON, nil
	case ".csv":
		return formatCSV, nil
	}
	return "", fmt.Errorf("%s: want a .yaml, .yml, .json or .csv file", path)
}

func parseFormat(s string) (menuFormat, error) {
	switch f := menuFormat(strings.ToLower(s)); f {
	case formatYAML, formatJSON, formatCSV:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want yaml, json or csv)", s)
}

// csvColumns are the columns of the CSV format, in export order.
var csvColumns = []string{"id", "name", "category", "price", "image", "image_thumbnail", "image_mobile", "image_tablet", "image_desktop"}

// menuFields are the fields a YAML or JSON product may have.
var menuFields = []string{"id", "name", "category", "price", "image"}

// rowError is a problem with one row of an import file.
type rowError struct {
	Row     int
	ID      string
	Field   string
	Message string
}

func (e rowError) Error() string {
	where := "row " + strconv.Itoa(e.Row)
	if e.ID != "" {
		where += " (id " + e.ID + ")"
	}
	if e.Field == "" {
		return where + ": " + e.Message
	}
	return where + ": " + e.Field + ": " + e.Message
}

// menuErrors lists every problem of a file, at most maxErrors of them.
type menuErrors struct {
	file string
	errs []rowError
	more int
}

func (e *menuErrors) add(re rowError) {
	if len(e.errs) == maxErrors {
		e.more++
		return
	}
	e.errs = append(e.errs, re)
}

func (e *menuErrors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s), nothing was changed:", e.file, len(e.errs)+e.more)
	for _, re := range e.errs {
		b.WriteString("\n  " + re.Error())
	}
	if e.more > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", e.more)
	}
	return b.String()
}

// rawRow is a row as read, before validation: each field a string, a
// json.Number, a map (image sizes) or absent.
type rawRow struct {
	row    int
	fields map[string]any
}

// readMenu reads and validates the whole file at path: every row is
// checked and every problem reported before anything is used. Picture
// files are resolved against the file's directory, read and named by their
// content; stored references are checked against stored.
func readMenu(path string, stored map[string]bool, maxImage int64) ([]menuItem, []imageFile, error) {
	format, err := formatOf(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMenuBytes+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > maxMenuBytes {
		return nil, nil, fmt.Errorf("%s: larger than %d bytes", path, maxMenuBytes)
	}
	rows, err := parseRows(format, data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("%s: lists no products", path)
	}
	if len(rows) > maxMenuItems {
		return nil, nil, fmt.Errorf("%s: %d products, at most %d", path, len(rows), maxMenuItems)
	}
	v := validator{dir: filepath.Dir(path), maxImage: maxImage, stored: stored, files: map[string]imageFile{}, errs: &menuErrors{file: path}}
	items := make([]menuItem, 0, len(rows))
	firstRow := map[int64]int{}
	for _, r := range rows {
		it, ok := v.item(r)
		if !ok {
			continue
		}
		if prev, dup := firstRow[it.ID]; dup {
			v.errs.add(rowError{Row: r.row, ID: strconv.FormatInt(it.ID, 10), Field: "id", Message: "duplicates row " + strconv.Itoa(prev)})
			continue
		}
		firstRow[it.ID] = r.row
		items = append(items, it)
	}
	if len(v.errs.errs) > 0 {
		return nil, nil, v.errs
	}
	files := make([]imageFile, 0, len(v.files))
	for _, f := range v.files {
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b imageFile) int { return strings.Compare(a.name, b.name) })
	return items, files, nil
}

// parseRows splits a file into rows of raw fields.
func parseRows(format menuFormat, data []byte) ([]rawRow, error) {
	if format == formatCSV {
		return parseCSV(data)
	}
	if format == formatYAML {
		j, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("not YAML: %w", err)
		}
		data = j
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc struct {
		Products []map[string]any `json:"products"`
	}
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("want an object with a list of products under \"products\": %w", err)
	}
	rows := make([]rawRow, len(doc.Products))
	for i, p := range doc.Products {
		rows[i] = rawRow{row: i + 1, fields: p}
	}
	return rows, nil
}

// parseCSV reads a header of csvColumns names (any order, any subset that
// includes the required ones) and one product per record.
func parseCSV(data []byte) ([]rawRow, error) {
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("no CSV header: %w", err)
	}
	for i, h := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
		if !slices.Contains(csvColumns, header[i]) {
			return nil, fmt.Errorf("header: unknown column %q (columns are %s)", h, strings.Join(csvColumns, ", "))
		}
	}
	var rows []rawRow
	for n := 1; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", n, err)
		}
		fields := map[string]any{}
		sizes := map[string]any{}
		for i, v := range rec {
			if v == "" {
				continue
			}
			if size, ok := strings.CutPrefix(header[i], "image_"); ok {
				sizes[size] = v
				continue
			}
			fields[header[i]] = v
		}
		if len(sizes) > 0 {
			if _, both := fields["image"]; both {
				fields["image"] = []any{fields["image"], sizes} // reported as a conflict
			} else {
				fields["image"] = sizes
			}
		}
		rows = append(rows, rawRow{row: n, fields: fields})
		if len(rows) > maxMenuItems {
			return rows, nil
		}
	}
}

// validator checks rows and gathers the picture files they name. It is the
// one check of a product, for the import file and for Menu.Put alike.
type validator struct {
	// dir resolves the picture files an import file names; empty, as for
	// a product sent over HTTP, refuses file references: a client never
	// makes the server read its own files.
	dir string
	// maxImage caps a picture file (catalog.max_image_bytes).
	maxImage int64
	stored   map[string]bool
	files    map[string]imageFile // by path as written
	errs     *menuErrors
}

// item validates one row, reporting every bad field.
func (v *validator) item(r rawRow) (menuItem, bool) {
	var it menuItem
	idText := scalar(r.fields["id"])
	bad := func(field, msg string) {
		v.errs.add(rowError{Row: r.row, ID: idText, Field: field, Message: msg})
	}
	before := len(v.errs.errs) + v.errs.more
	for k := range r.fields {
		if !slices.Contains(menuFields, k) {
			bad(k, "unknown field (fields are "+strings.Join(menuFields, ", ")+")")
		}
	}
	if id, err := strconv.ParseInt(idText, 10, 64); err != nil || id < 1 {
		bad("id", "required: a positive integer")
	} else {
		it.ID = id
	}
	it.Name = v.text(r.fields["name"], "name", bad)
	it.Category = v.text(r.fields["category"], "category", bad)
	if p, ok := r.fields["price"]; !ok || scalar(p) == "" {
		bad("price", "required: an amount of 0 or more with at most two decimals, such as 5.50")
	} else if c, err := money.Parse(scalar(p)); err != nil {
		bad("price", fmt.Sprintf("must be an amount of 0 or more with at most two decimals, such as 5.50, got %q", clip(scalar(p))))
	} else {
		it.Price = c
	}
	v.image(r.fields["image"], &it, bad)
	return it, len(v.errs.errs)+v.errs.more == before
}

func (v *validator) text(raw any, field string, bad func(string, string)) string {
	s, ok := raw.(string)
	s = strings.TrimSpace(s)
	switch {
	case !ok || s == "":
		bad(field, "required: a non-empty text")
	case utf8.RuneCountInString(s) > maxNameLen || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' }):
		bad(field, fmt.Sprintf("must be at most %d printable characters", maxNameLen))
	}
	return s
}

// image reads the image field: a built-in slug, one reference for every
// size, or a map of the four sizes.
func (v *validator) image(raw any, it *menuItem, bad func(string, string)) {
	switch img := raw.(type) {
	case nil:
		bad("image", "required: a built-in picture name, a URL or file for every size, or thumbnail, mobile, tablet and desktop")
	case string:
		img = strings.TrimSpace(img)
		if hasBuiltinImages(img) {
			it.Slug = img
			return
		}
		ref, ok := v.ref(img, "image", bad)
		if ok {
			it.Refs = refsOf([4]string{ref, ref, ref, ref})
		}
	case map[string]any:
		var refs [4]string
		for k := range img {
			if !slices.Contains(ImageSizes[:], k) {
				bad("image."+k, "unknown size (sizes are "+strings.Join(ImageSizes[:], ", ")+")")
			}
		}
		for i, size := range ImageSizes {
			s, _ := img[size].(string)
			if strings.TrimSpace(s) == "" {
				bad("image."+size, "required: a URL or a picture file")
				continue
			}
			refs[i], _ = v.ref(strings.TrimSpace(s), "image."+size, bad)
		}
		it.Refs = refsOf(refs)
	default:
		bad("image", "give either image or the image_<size> columns, not both")
	}
}

// ref turns an image value into a stored reference: an absolute URL as it
// is, a stored picture by name, or a file, read and named by its content.
func (v *validator) ref(s, field string, bad func(string, string)) (string, bool) {
	if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		if u.Host == "" || u.User != nil || len(s) > 2048 {
			bad(field, fmt.Sprintf("URL %q is not an absolute http(s) URL without credentials", clip(s)))
			return "", false
		}
		return s, true
	}
	if name, ok := strings.CutPrefix(s, storedPrefix); ok {
		if !v.stored[name] {
			bad(field, fmt.Sprintf("%q: no such stored picture", clip(s)))
			return "", false
		}
		return s, true
	}
	if f, ok := v.files[s]; ok {
		return storedPrefix + f.name, true
	}
	if v.dir == "" {
		bad(field, fmt.Sprintf("%q: want a built-in picture name, an absolute http(s) URL or %s<file> of a stored picture", clip(s), storedPrefix))
		return "", false
	}
	path := s
	if !filepath.IsAbs(path) {
		path = filepath.Join(v.dir, path)
	}
	info, err := os.Stat(path)
	switch {
	case err != nil:
		bad(field, fmt.Sprintf("picture file %q not found (a path relative to the import file, or an http(s) URL)", clip(s)))
		return "", false
	case !info.Mode().IsRegular():
		bad(field, fmt.Sprintf("%q is not a file", clip(s)))
		return "", false
	case info.Size() > v.maxImage:
		// Not read: the file could be of any size.
		bad(field, fmt.Sprintf("picture file %q is larger than %d bytes", clip(s), v.maxImage))
		return "", false
	}
	body, err := os.ReadFile(path)
	if err != nil {
		bad(field, fmt.Sprintf("picture file %q: %v", clip(s), err))
		return "", false
	}
	f, err := pictureOf(body, v.maxImage)
	if ae, ok := apperr.As(err); ok {
		bad(field, fmt.Sprintf("picture file %q: %s", clip(s), ae.Message))
		return "", false
	}
	v.files[s] = f
	return storedPrefix + f.name, true
}

// scalar is the text of a number or string field; "" for anything else.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	}
	return ""
}

func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "…"
}

// menuDiff is what an import changes.
type menuDiff struct {
	Added     []menuItem
	Restored  map[int64]bool // added ids that a prune had removed
	Changed   [][2]menuItem  // old, new
	Removed   []menuItem
	Unchanged int
}

// diffMenu compares the file's items with the stored menu; with prune,
// products on sale that the file does not list are removed.
func diffMenu(current, file []menuItem, prune bool) menuDiff {
	d := menuDiff{Restored: map[int64]bool{}}
	byID := make(map[int64]menuItem, len(current))
	for _, c := range current {
		byID[c.ID] = c
	}
	listed := make(map[int64]bool, len(file))
	for _, it := range file {
		listed[it.ID] = true
		old, ok := byID[it.ID]
		switch {
		case !ok:
			d.Added = append(d.Added, it)
		case old.Removed:
			d.Added = append(d.Added, it)
			d.Restored[it.ID] = true
		case old.sameAs(it):
			d.Unchanged++
		default:
			d.Changed = append(d.Changed, [2]menuItem{old, it})
		}
	}
	if prune {
		for _, c := range current {
			if !c.Removed && !listed[c.ID] {
				d.Removed = append(d.Removed, c)
			}
		}
	}
	return d
}

// empty reports whether applying d would change nothing.
func (d menuDiff) empty() bool {
	return len(d.Added) == 0 && len(d.Changed) == 0 && len(d.Removed) == 0
}

// write prints the difference, one product a line.
func (d menuDiff) write(w io.Writer) {
	for _, it := range d.Added {
		note := ""
		if d.Restored[it.ID] {
			note = " (restored)"
		}
		fmt.Fprintf(w, "added    %d %q (%s) %s%s\n", it.ID, it.Name, it.Category, price(it.Price), note)
	}
	for _, c := range d.Changed {
		old, nu := c[0], c[1]
		var what []string
		if old.Price != nu.Price {
			what = append(what, "price "+price(old.Price)+" → "+price(nu.Price))
		}
		if old.Name != nu.Name {
			what = append(what, fmt.Sprintf("name %q → %q", old.Name, nu.Name))
		}
		if old.Category != nu.Category {
			what = append(what, fmt.Sprintf("category %q → %q", old.Category, nu.Category))
		}
		if old.Slug != nu.Slug || old.Refs != nu.Refs {
			what = append(what, "image")
		}
		fmt.Fprintf(w, "changed  %d %q: %s\n", nu.ID, nu.Name, strings.Join(what, ", "))
	}
	for _, it := range d.Removed {
		fmt.Fprintf(w, "removed  %d %q (%s) %s\n", it.ID, it.Name, it.Category, price(it.Price))
	}
	fmt.Fprintf(w, "%d added, %d changed, %d removed, %d unchanged\n", len(d.Added), len(d.Changed), len(d.Removed), d.Unchanged)
}

// price renders an amount with two decimals, as menus print it.
func price(c money.Cents) string {
	return fmt.Sprintf("%d.%02d", int64(c)/100, int64(c)%100)
}
