package test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minikart/platform/config"
)

// catalogCmd runs `minikart catalog args…` against the database at dbURL,
// in this process, through the command the catalog module contributes.
func catalogCmd(t *testing.T, dbURL string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	src, err := config.Load(config.Options{Env: config.Test, Overrides: map[string]any{
		"database.url": dbURL, "promo.files": sampleCoupons(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code = runCommandFrom(t, src, "catalog", args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// menuApp is a running app and the URL of its database.
func menuApp(t *testing.T, overrides map[string]any) (*testApp, string) {
	t.Helper()
	url := newDatabase(t)
	o := map[string]any{"database.url": url}
	for k, v := range overrides {
		o[k] = v
	}
	return startApp(t, o), url
}

func listProducts(t *testing.T, a *testApp) []product {
	t.Helper()
	res := a.do(http.MethodGet, "/api/product", "")
	if res.status != http.StatusOK {
		t.Fatalf("list: %d %s", res.status, res.body)
	}
	var ps []product
	res.json(t, &ps)
	return ps
}

func productByID(ps []product, id string) (product, bool) {
	for _, p := range ps {
		if p.ID == id {
			return p, true
		}
	}
	return product{}, false
}

// menuSnapshot is every products row, for comparing before and after.
func menuSnapshot(t *testing.T, a *testApp) string {
	t.Helper()
	var rows []string
	if err := a.db.Select(&rows, `SELECT row_to_json(p)::text FROM products p ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := a.db.Get(&n, `SELECT count(*) FROM product_images`); err != nil {
		t.Fatal(err)
	}
	return strings.Join(rows, "\n") + fmt.Sprintf("\nimages %d", n)
}

func writePNG(t *testing.T, path string, c color.RGBA) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = []uint8{c.R, c.G, c.B, c.A}[i%4]
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newMenu is the demo menu with product 1 repriced and renamed, product 9
// gone, a product with a picture file and one with picture URLs.
const newMenu = `products:
  - {id: 1, name: Belgian Waffle, category: Waffle, price: "7.25", image: waffle}
  - {id: 2, name: Vanilla Bean Crème Brûlée, category: Crème Brûlée, price: 7.00, image: creme-brulee}
  - {id: 3, name: Macaron Mix of Five, category: Macaron, price: 8.00, image: macaron}
  - {id: 4, name: Classic Tiramisu, category: Tiramisu, price: 5.50, image: tiramisu}
  - {id: 5, name: Pistachio Baklava, category: Baklava, price: 4.00, image: baklava}
  - {id: 6, name: Lemon Meringue Pie, category: Pie, price: 5.00, image: meringue}
  - {id: 7, name: Red Velvet Cake, category: Cake, price: 4.50, image: cake}
  - {id: 8, name: Salted Caramel Brownie, category: Brownie, price: 4.50, image: brownie}
  - {id: 10, name: Mango Sorbet, category: Sorbet, price: 3.50, image: pictures/sorbet.png}
  - id: 11
    name: Lemonade
    category: Drinks
    price: 2
    image:
      thumbnail: https://cdn.example.test/lemonade-thumbnail.jpg
      mobile: https://cdn.example.test/lemonade-mobile.jpg
      tablet: https://cdn.example.test/lemonade-tablet.jpg
      desktop: https://cdn.example.test/lemonade-desktop.jpg
`

func writeNewMenu(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "pictures"), 0o755); err != nil {
		t.Fatal(err)
	}
	writePNG(t, filepath.Join(dir, "pictures", "sorbet.png"), color.RGBA{255, 170, 40, 255})
	path := filepath.Join(dir, "menu.yaml")
	if err := os.WriteFile(path, []byte(newMenu), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMenuImportRoundTrip(t *testing.T) {
	a, url := menuApp(t, nil)
	dir := t.TempDir()

	// The stock menu exported and imported again, in every format: a no-op.
	for _, ext := range []string{"yaml", "json", "csv"} {
		file := filepath.Join(dir, "stock."+ext)
		if code, _, errOut := catalogCmd(t, url, "export", "--out", file); code != 0 {
			t.Fatalf("export %s: %d %s", ext, code, errOut)
		}
		before := menuSnapshot(t, a)
		code, out, errOut := catalogCmd(t, url, "import", "--prune", file)
		if code != 0 || !strings.Contains(out, "0 added, 0 changed, 0 removed, 9 unchanged") {
			t.Fatalf("import of the %s export: %d\n%s%s", ext, code, out, errOut)
		}
		if menuSnapshot(t, a) != before {
			t.Errorf("importing the %s export changed the database", ext)
		}
	}

	code, out, errOut := catalogCmd(t, url, "import", "--prune", writeNewMenu(t))
	if code != 0 {
		t.Fatalf("import: %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		`added    10 "Mango Sorbet" (Sorbet) 3.50`, `added    11 "Lemonade" (Drinks) 2.00`,
		`changed  1 "Belgian Waffle": price 6.50 → 7.25, name "Waffle with Berries" → "Belgian Waffle"`,
		`removed  9 "Vanilla Panna Cotta" (Panna Cotta) 6.50`, "2 added, 1 changed, 1 removed, 7 unchanged",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}

	ps := listProducts(t, a)
	if len(ps) != 10 {
		t.Fatalf("%d products on sale, want 10", len(ps))
	}
	if p, _ := productByID(ps, "1"); p.Name != "Belgian Waffle" || p.Price != 7.25 {
		t.Errorf("product 1 = %+v", p)
	}
	if _, ok := productByID(ps, "9"); ok {
		t.Error("the pruned product is still on sale")
	}
	if res := a.do(http.MethodGet, "/api/product/9", ""); res.status != http.StatusNotFound {
		t.Errorf("GET /api/product/9 = %d, want 404", res.status)
	}
	lemonade, _ := productByID(ps, "11")
	if lemonade.Image.Tablet != "https://cdn.example.test/lemonade-tablet.jpg" {
		t.Errorf("lemonade image = %+v", lemonade.Image)
	}
	sorbet, _ := productByID(ps, "10")
	for _, u := range []string{sorbet.Image.Thumbnail, sorbet.Image.Desktop} {
		if !strings.HasPrefix(u, a.base+"/api/images/") {
			t.Fatalf("sorbet image %q is not served here", u)
		}
		img := a.do(http.MethodGet, strings.TrimPrefix(u, a.base), "")
		if img.status != http.StatusOK || img.header.Get("Content-Type") != "image/png" ||
			!strings.Contains(img.header.Get("Cache-Control"), "immutable") || img.header.Get("ETag") == "" {
			t.Errorf("%s: %d %v", u, img.status, img.header)
		}
		if _, err := png.Decode(bytes.NewReader(img.body)); err != nil {
			t.Errorf("%s: %v", u, err)
		}
		again := a.do(http.MethodGet, strings.TrimPrefix(u, a.base), "", "If-None-Match", img.header.Get("ETag"))
		if again.status != http.StatusNotModified {
			t.Errorf("%s revalidated: %d", u, again.status)
		}
	}

	// The new menu exported and imported again changes nothing either.
	for _, ext := range []string{"yaml", "json", "csv"} {
		file := filepath.Join(dir, "new."+ext)
		if code, _, errOut := catalogCmd(t, url, "export", "--out", file); code != 0 {
			t.Fatalf("export: %d %s", code, errOut)
		}
		before := menuSnapshot(t, a)
		code, out, _ := catalogCmd(t, url, "import", "--prune", file)
		if code != 0 || !strings.Contains(out, "0 added, 0 changed, 0 removed, 10 unchanged") {
			t.Errorf("re-import of the %s export: %d\n%s", ext, code, out)
		}
		if menuSnapshot(t, a) != before {
			t.Errorf("re-importing the %s export changed the database", ext)
		}
	}

	// Listing the pruned product again restores it.
	restore := filepath.Join(dir, "restore.yaml")
	if err := os.WriteFile(restore, []byte("products:\n  - {id: 9, name: Vanilla Panna Cotta, category: Panna Cotta, price: 6.75, image: panna-cotta}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = catalogCmd(t, url, "import", restore)
	if code != 0 || !strings.Contains(out, `added    9 "Vanilla Panna Cotta" (Panna Cotta) 6.75 (restored)`) {
		t.Errorf("restore: %d\n%s", code, out)
	}
	if p, ok := productByID(listProducts(t, a), "9"); !ok || p.Price != 6.75 {
		t.Errorf("restored product = %+v, %v", p, ok)
	}
}

func TestMenuBadFileChangesNothing(t *testing.T) {
	a, url := menuApp(t, nil)
	before := menuSnapshot(t, a)
	path := filepath.Join(t.TempDir(), "menu.csv")
	body := "id,name,category,price,image\n" +
		"1,Waffle with Berries,Waffle,9.99,waffle\n" +
		"12,Fig Tart,Tart,-3,cake\n" +
		"13,,Tart,3.999,missing.jpg\n" +
		"1,Again,Waffle,1,waffle\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := catalogCmd(t, url, "import", "--prune", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"nothing was changed",
		`row 2 (id 12): price: must be an amount of 0 or more with at most two decimals, such as 5.50, got "-3"`,
		"row 3 (id 13): name: required", "row 3 (id 13): price:", `row 3 (id 13): image: picture file "missing.jpg" not found`,
		"row 4 (id 1): id: duplicates row 1",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("error lacks %q:\n%s", want, errOut)
		}
	}
	if menuSnapshot(t, a) != before {
		t.Error("a bad file changed the database")
	}
	if p, _ := productByID(listProducts(t, a), "1"); p.Price != 6.50 {
		t.Errorf("product 1 price %v after a rejected import", p.Price)
	}
}

func TestMenuDryRunChangesNothing(t *testing.T) {
	a, url := menuApp(t, nil)
	before := menuSnapshot(t, a)
	code, out, errOut := catalogCmd(t, url, "import", "--dry-run", "--prune", writeNewMenu(t))
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		`changed  1 "Belgian Waffle": price 6.50 → 7.25`, `removed  9 "Vanilla Panna Cotta"`,
		`added    10 "Mango Sorbet"`, "dry run: nothing was changed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if menuSnapshot(t, a) != before {
		t.Error("a dry run changed the database")
	}
}

// TestMenuChangeReachesEveryInstance runs two instances on one database
// with a cache that would otherwise hold the old menu for an hour: the
// import's commit must reach the other instance's cache through
// LISTEN/NOTIFY.
func TestMenuChangeReachesEveryInstance(t *testing.T) {
	url := newDatabase(t)
	cached := map[string]any{"database.url": url, "catalog.cache_ttl": "1h"}
	a, b := startApp(t, cached), startApp(t, cached)
	for _, app := range []*testApp{a, b} {
		if p, _ := productByID(listProducts(t, app), "1"); p.Price != 6.50 {
			t.Fatalf("price before the import %v", p.Price)
		}
	}
	// Let both listeners be in place before the change.
	waitFor(t, "two catalogue listeners", func() bool {
		var n int
		_ = a.db.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN catalog_changed'`)
		return n >= 2
	})
	code, out, errOut := catalogCmd(t, url, "import", writeNewMenu(t))
	committed := time.Now()
	if code != 0 {
		t.Fatalf("import: %d\n%s%s", code, out, errOut)
	}
	// Polled back to back rather than with waitFor's pause, so the figure
	// logged is close to the real delay.
	for deadline := time.Now().Add(20 * time.Second); ; {
		if p, _ := productByID(listProducts(t, b), "1"); p.Price == 7.25 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second instance still serves the old price")
		}
	}
	t.Logf("the new price was served by the second instance %s after the import committed", time.Since(committed).Round(time.Millisecond))
	// The first instance gets the same notification on its own connection.
	waitFor(t, "the new price on the first instance", func() bool {
		p, _ := productByID(listProducts(t, a), "1")
		return p.Price == 7.25
	})
}

func TestOrdersKeepNamesAndPricesAfterImport(t *testing.T) {
	a, url := menuApp(t, nil)
	res := a.order(`{"items":[{"productId":"1","quantity":2},{"productId":"9","quantity":1}]}`)
	if res.status != http.StatusOK {
		t.Fatalf("order: %d %s", res.status, res.body)
	}
	var placed struct {
		ID string `json:"id"`
	}
	res.json(t, &placed)
	if code, out, errOut := catalogCmd(t, url, "import", "--prune", writeNewMenu(t)); code != 0 {
		t.Fatalf("import: %d\n%s%s", code, out, errOut)
	}
	var o struct {
		Products []product `json:"products"`
		Total    float64   `json:"total"`
	}
	got := a.do(http.MethodGet, "/api/order/"+placed.ID, "", "api_key", "apitest")
	if got.status != http.StatusOK {
		t.Fatalf("get order: %d %s", got.status, got.body)
	}
	got.json(t, &o)
	if len(o.Products) != 2 || o.Total != 19.50 {
		t.Fatalf("order %s", got.body)
	}
	if p := o.Products[0]; p.Name != "Waffle with Berries" || p.Price != 6.50 || p.Category != "Waffle" {
		t.Errorf("renamed and repriced product shows %+v, want what was sold", p)
	}
	if p := o.Products[1]; p.Name != "Vanilla Panna Cotta" || p.Price != 6.50 || p.Category != "Panna Cotta" {
		t.Errorf("pruned product shows %+v, want what was sold", p)
	}
}
