package test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// couponFiles are three coupon files that tests replace while a server
// serves them.
type couponFiles struct {
	t     *testing.T
	dir   string
	paths []string
}

func newCouponFiles(t *testing.T) *couponFiles {
	t.Helper()
	c := &couponFiles{t: t, dir: t.TempDir()}
	for i := 1; i <= 3; i++ {
		c.paths = append(c.paths, filepath.Join(c.dir, fmt.Sprintf("couponbase%d.gz", i)))
	}
	return c
}

// put replaces every file with codes (valid: in all three) and a code
// of its own (never valid), each renamed into place.
func (c *couponFiles) put(codes ...string) {
	c.t.Helper()
	for i, p := range c.paths {
		lines := append([]string{fmt.Sprintf("SINGLE%02d", i)}, codes...)
		c.write(p, gzipText(c.t, strings.Join(lines, "\n")+"\n"))
	}
}

// truncate replaces the file i with the first half of a valid gzip file.
func (c *couponFiles) truncate(i int, codes ...string) {
	c.t.Helper()
	var big []string
	for n := range 20000 {
		big = append(big, fmt.Sprintf("FILL%05d", n))
	}
	full := gzipText(c.t, strings.Join(append(codes, big...), "\n")+"\n")
	c.write(c.paths[i], full[:len(full)/2])
}

func (c *couponFiles) write(path string, data []byte) {
	c.t.Helper()
	if err := os.WriteFile(path+".new", data, 0o644); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		c.t.Fatal(err)
	}
}

func gzipText(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sample is what one order with a coupon saw.
type sample struct {
	code       string
	start, end time.Time
	status     int
	errCode    string
	discount   float64
	total      float64
}

// metric returns the value of an unlabelled metric on /metrics.
func (a *testApp) metric(name string) string {
	a.t.Helper()
	for _, l := range strings.Split(string(a.do(http.MethodGet, "/metrics", "").body), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	return ""
}

// TestCouponSetRefreshUnderConcurrentOrders replaces the coupon files of a
// serving app twice, with a good set and then with a truncated one, while
// clients place orders with coupons: no order fails, a code of the new set
// is accepted after the swap and not before, a dropped code stops being
// accepted, discount rules and redemption counters carry over, and the
// truncated set never goes live.
func TestCouponSetRefreshUnderConcurrentOrders(t *testing.T) {
	files := newCouponFiles(t)
	files.put("OLDCODE1", "KEEPCODE")
	a := startApp(t, map[string]any{
		"promo.files":                                files.paths,
		"promo.index_path":                           filepath.Join(files.dir, "coupons.idx"),
		"promo.watch_interval":                       "50ms",
		"promo.rules.codes.KEEPCODE.discount":        "50%",
		"promo.rules.codes.KEEPCODE.max_redemptions": 100000,
	})
	if g := a.metric("coupon_set_generation"); g != "1" {
		t.Fatalf("coupon_set_generation = %q at start, want 1", g)
	}

	var mu sync.Mutex
	var samples []sample
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			codes := []string{"KEEPCODE", "OLDCODE1", "NEWCODE1"}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := sample{code: codes[(w+i)%len(codes)], start: time.Now()}
				res := a.order(fmt.Sprintf(`{"couponCode":%q,"items":[{"productId":"1","quantity":2}]}`, s.code))
				s.end, s.status = time.Now(), res.status
				if res.status == 200 {
					var o struct{ Discounts, Total float64 }
					res.json(t, &o)
					s.discount, s.total = o.Discounts, o.Total
				} else {
					s.errCode = res.errorCode(t).Error
				}
				mu.Lock()
				samples = append(samples, s)
				mu.Unlock()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	replaced := time.Now()
	files.put("NEWCODE1", "KEEPCODE")
	waitFor(t, "the new set to be swapped in", func() bool { return a.metric("coupon_set_generation") == "2" })
	swapped := time.Now()
	time.Sleep(300 * time.Millisecond)
	files.truncate(1, "NEWCODE1", "KEEPCODE", "BADSET01")
	waitFor(t, "the truncated set to be rejected", func() bool { return a.metric("coupon_set_build_failures_total") == "1" })
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()

	var health struct {
		Status string
		Checks map[string]string
	}
	res := a.waitFor("/health", func(r response) bool { return strings.Contains(string(r.body), "degraded") })
	res.json(t, &health)
	if res.status != 200 || health.Status != "degraded" || !strings.HasPrefix(health.Checks["coupons"], "degraded: ") ||
		!strings.Contains(health.Checks["coupons"], "couponbase2.gz") {
		t.Errorf("/health after the truncated set: %d %s", res.status, res.body)
	}
	if g := a.metric("coupon_set_generation"); g != "2" {
		t.Errorf("coupon_set_generation = %q after the truncated set, want 2", g)
	}

	firstNew := time.Time{}
	for _, s := range samples {
		if s.code == "NEWCODE1" && s.status == 200 && (firstNew.IsZero() || s.end.Before(firstNew)) {
			firstNew = s.end
		}
	}
	if firstNew.IsZero() {
		t.Fatal("NEWCODE1 was never accepted")
	}
	counts := map[string]map[int]int{}
	keepOK := 0
	for _, s := range samples {
		if counts[s.code] == nil {
			counts[s.code] = map[int]int{}
		}
		counts[s.code][s.status]++
		switch {
		case s.status != 200 && s.errCode != "INVALID_PROMO_CODE":
			t.Errorf("%s: %d %s: a request failed during the refresh", s.code, s.status, s.errCode)
		case s.code == "KEEPCODE" && s.status != 200:
			t.Errorf("KEEPCODE, valid in every set, refused: %d %s", s.status, s.errCode)
		case s.code == "KEEPCODE" && (s.discount == 0 || s.discount != s.total):
			t.Errorf("KEEPCODE discount %v of a total %v, want its 50%% rule", s.discount, s.total)
		case s.code == "NEWCODE1" && s.status == 200 && s.start.Before(replaced):
			t.Error("NEWCODE1 accepted before its files were in place")
		case s.code == "OLDCODE1" && s.status == 200 && (s.start.After(firstNew) || s.start.After(swapped)):
			t.Error("OLDCODE1, dropped by the new set, accepted after the swap")
		case s.code == "BADSET01":
			t.Error("a code of the truncated set was tried")
		}
		if s.code == "KEEPCODE" && s.status == 200 {
			keepOK++
		}
	}
	if r := a.order(`{"couponCode":"BADSET01","items":[{"productId":"1","quantity":1}]}`); r.status != 422 {
		t.Errorf("a code only in the truncated set: %d %s", r.status, r.body)
	}
	var redeemed int
	if err := a.db.Get(&redeemed, `SELECT redeemed FROM coupon_redemptions WHERE code = 'KEEPCODE'`); err != nil {
		t.Fatal(err)
	}
	if redeemed != keepOK {
		t.Errorf("KEEPCODE redeemed %d times in PostgreSQL, %d orders succeeded", redeemed, keepOK)
	}
	t.Logf("%d orders: %v; swap seen %v after the files were replaced", len(samples), counts, swapped.Sub(replaced).Round(time.Millisecond))
}
