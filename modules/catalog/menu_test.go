package catalog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pngBytes is the smallest header DetectContentType calls a PNG.
var pngBytes = "\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 32)

func TestReadMenuAcceptsEveryFormat(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "sorbet.png", pngBytes)
	files := map[string]string{
		"menu.yaml": `products:
  - id: 1
    name: Waffle with Berries
    category: Waffle
    price: 6.50
    image: waffle
  - id: 10
    name: "Mango Sorbet"
    category: Sorbet
    price: "3.5"
    image: sorbet.png
  - id: 11
    name: Lemonade
    category: Drinks
    price: 2
    image:
      thumbnail: https://cdn.example/l-t.jpg
      mobile: https://cdn.example/l-m.jpg
      tablet: https://cdn.example/l-t2.jpg
      desktop: https://cdn.example/l-d.jpg
`,
		"menu.json": `{"products":[
  {"id":1,"name":"Waffle with Berries","category":"Waffle","price":6.50,"image":"waffle"},
  {"id":"10","name":"Mango Sorbet","category":"Sorbet","price":3.50,"image":"sorbet.png"},
  {"id":11,"name":"Lemonade","category":"Drinks","price":2,"image":{"thumbnail":"https://cdn.example/l-t.jpg","mobile":"https://cdn.example/l-m.jpg","tablet":"https://cdn.example/l-t2.jpg","desktop":"https://cdn.example/l-d.jpg"}}]}`,
		"menu.csv": "id,name,category,price,image,image_thumbnail,image_mobile,image_tablet,image_desktop\n" +
			"1,Waffle with Berries,Waffle,6.50,waffle,,,,\n" +
			"10,Mango Sorbet,Sorbet,3.50,sorbet.png,,,,\n" +
			"11,Lemonade,Drinks,2,,https://cdn.example/l-t.jpg,https://cdn.example/l-m.jpg,https://cdn.example/l-t2.jpg,https://cdn.example/l-d.jpg\n",
	}
	for name, body := range files {
		t.Run(name, func(t *testing.T) {
			items, imgs, err := readMenu(writeFile(t, dir, name, body), nil, testMaxImage)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 3 || items[0].Slug != "waffle" || items[0].Price != 650 || items[1].Price != 350 || items[2].Price != 200 {
				t.Fatalf("items %+v", items)
			}
			if len(imgs) != 1 || imgs[0].contentType != "image/png" || !storedImageName.MatchString(imgs[0].name) {
				t.Fatalf("images %+v", imgs)
			}
			if r := items[1].Refs; r.Thumbnail != storedPrefix+imgs[0].name || r.Desktop != r.Thumbnail {
				t.Errorf("sorbet refs %+v", r)
			}
			if items[2].Refs.Tablet != "https://cdn.example/l-t2.jpg" {
				t.Errorf("lemonade refs %+v", items[2].Refs)
			}
		})
	}
}

func TestReadMenuNamesEveryBadRowAndField(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "notes.txt", "just text")
	tests := []struct {
		name string
		file string
		body string
		want []string
	}{
		{"missing fields", "m.yaml", "products:\n  - id: 1\n", []string{
			"row 1 (id 1): name: required", "row 1 (id 1): category: required", "row 1 (id 1): price: required", "row 1 (id 1): image: required"}},
		{"bad prices", "m.json", `{"products":[{"id":1,"name":"a","category":"c","price":-1,"image":"waffle"},{"id":2,"name":"b","category":"c","price":1.234,"image":"waffle"},{"id":3,"name":"b","category":"c","price":"ten","image":"waffle"}]}`, []string{
			`row 1 (id 1): price: must be an amount of 0 or more with at most two decimals, such as 5.50, got "-1"`,
			`row 2 (id 2): price: must be an amount`, `row 3 (id 3): price: must be an amount`}},
		{"duplicate ids", "m.csv", "id,name,category,price,image\n5,a,c,1,waffle\n5,b,c,2,waffle\n", []string{"row 2 (id 5): id: duplicates row 1"}},
		{"bad ids", "m.csv", "id,name,category,price,image\n0,a,c,1,waffle\nx,b,c,2,waffle\n", []string{"row 1 (id 0): id: required: a positive integer", "row 2 (id x): id:"}},
		{"image files missing or not pictures", "m.yaml", "products:\n  - {id: 1, name: a, category: c, price: 1, image: nowhere.jpg}\n  - {id: 2, name: a, category: c, price: 1, image: notes.txt}\n", []string{
			`row 1 (id 1): image: picture file "nowhere.jpg" not found`, `row 2 (id 2): image: picture file "notes.txt": the picture is text/plain, want a JPEG`}},
		{"an incomplete size map and an unknown size", "m.yaml", "products:\n  - {id: 1, name: a, category: c, price: 1, image: {thumbnail: 'https://x.example/a.jpg', huge: x}}\n", []string{
			"row 1 (id 1): image.huge: unknown size", "row 1 (id 1): image.mobile: required"}},
		{"an unknown field", "m.json", `{"products":[{"id":1,"name":"a","category":"c","price":1,"image":"waffle","colour":"red"}]}`, []string{"row 1 (id 1): colour: unknown field"}},
		{"a stored picture that is not stored", "m.yaml", "products:\n  - {id: 1, name: a, category: c, price: 1, image: 'stored:" + strings.Repeat("a", 64) + ".jpg'}\n", []string{"no such stored picture"}},
		{"both image forms in CSV", "m.csv", "id,name,category,price,image,image_thumbnail\n1,a,c,1,waffle,https://x.example/a.jpg\n", []string{"row 1 (id 1): image: give either image or the image_<size> columns"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readMenu(writeFile(t, dir, tt.file, tt.body), nil, testMaxImage)
			var me *menuErrors
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want row errors", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestReadMenuRejectsWholeFileProblems(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"empty.yaml":  "products: []\n",
		"broken.json": `{"products": [`,
		"header.csv":  "id,name,colour\n",
		"menu.txt":    "id,name\n",
	} {
		if _, _, err := readMenu(writeFile(t, dir, name, body), nil, testMaxImage); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestExportThenReadIsTheSameMenu(t *testing.T) {
	items := []menuItem{
		{ID: 1, Name: "Waffle with Berries", Category: "Waffle", Price: 650, Slug: "waffle"},
		{ID: 10, Name: "Mango, \"ripe\" Sorbet", Category: "Sorbet", Price: 305, Refs: refsOf([4]string{
			storedPrefix + strings.Repeat("b", 64) + ".png", storedPrefix + strings.Repeat("b", 64) + ".png",
			storedPrefix + strings.Repeat("b", 64) + ".png", storedPrefix + strings.Repeat("b", 64) + ".png"})},
		{ID: 11, Name: "Lemonade: yes", Category: "Drinks", Price: 0, Refs: refsOf([4]string{
			"https://cdn.example/a.jpg", "https://cdn.example/b.jpg", "https://cdn.example/c.jpg", "https://cdn.example/d.jpg"})},
	}
	stored := map[string]bool{strings.Repeat("b", 64) + ".png": true}
	for _, f := range []menuFormat{formatYAML, formatJSON, formatCSV} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeMenu(&buf, f, items); err != nil {
				t.Fatal(err)
			}
			path := writeFile(t, t.TempDir(), "menu."+string(f), buf.String())
			got, _, err := readMenu(path, stored, testMaxImage)
			if err != nil {
				t.Fatalf("%v\n%s", err, buf.String())
			}
			d := diffMenu(items, got, true)
			if !d.empty() || d.Unchanged != len(items) {
				t.Errorf("diff %+v\n%s", d, buf.String())
			}
		})
	}
}

func TestDiffMenu(t *testing.T) {
	current := []menuItem{
		{ID: 1, Name: "Waffle", Category: "Waffle", Price: 650, Slug: "waffle"},
		{ID: 2, Name: "Cake", Category: "Cake", Price: 450, Slug: "cake"},
		{ID: 3, Name: "Pie", Category: "Pie", Price: 500, Slug: "meringue"},
		{ID: 4, Name: "Old", Category: "Old", Price: 100, Slug: "cake", Removed: true},
	}
	file := []menuItem{
		{ID: 1, Name: "Waffle", Category: "Waffle", Price: 700, Slug: "waffle"},
		{ID: 2, Name: "Cake", Category: "Cake", Price: 450, Slug: "cake"},
		{ID: 4, Name: "Old", Category: "Old", Price: 100, Slug: "cake"},
		{ID: 5, Name: "New", Category: "New", Price: 300, Slug: "brownie"},
	}
	d := diffMenu(current, file, true)
	var out bytes.Buffer
	d.write(&out)
	for _, want := range []string{
		`added    4 "Old" (Old) 1.00 (restored)`,
		`added    5 "New" (New) 3.00`,
		`changed  1 "Waffle": price 6.50 → 7.00`,
		`removed  3 "Pie" (Pie) 5.00`,
		"2 added, 1 changed, 1 removed, 1 unchanged",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("diff lacks %q:\n%s", want, out.String())
		}
	}
	if d := diffMenu(current, file, false); len(d.Removed) != 0 {
		t.Errorf("removed %+v without prune", d.Removed)
	}
}
