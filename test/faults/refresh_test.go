//go:build faults

package faults

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestCouponRefreshUnderLoad replaces the coupon files of a running server
// twice while clients place orders with coupons and browse the catalogue:
// first with a good set that adds a code (found by the timed check), then
// with a set whose second file is truncated (announced with SIGHUP). No
// request may fail, the new code must be refused before the swap and
// accepted after it, and the truncated set must never go live.
func TestCouponRefreshUnderLoad(t *testing.T) {
	_, dbURL := startCluster(t)
	dir := t.TempDir()
	gen := exec.Command(binary, "coupons", "generate", "--profile", "real", "--scale", "0.003", "--out", dir)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	var files [][]byte
	var paths []string
	for i := 1; i <= 3; i++ {
		p := filepath.Join(dir, fmt.Sprintf("couponbase%d.gz", i))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files, paths = append(files, b), append(paths, p)
	}
	env, port := baseEnv(t, dbURL)
	env = append(env,
		"MINIKART_PROMO_FILES="+strings.Join(paths, ","),
		"MINIKART_PROMO_INDEX_PATH="+filepath.Join(dir, "coupons.idx"),
		"MINIKART_PROMO_WATCH_INTERVAL=500ms",
		"MINIKART_PROMO_BUILD_WORKERS=1",
		"MINIKART_LOG_LEVEL=info",
	)
	s := startServer(t, env, port)

	stop := make(chan struct{})
	var mu sync.Mutex
	var seen []couponOutcome
	var wg sync.WaitGroup
	codes := []string{"FIFTYOFF", "NEWCODE1", "TRUNC001", ""}
	for w := range 12 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				o := couponOutcome{code: codes[(w+i)%len(codes)], start: time.Now()}
				if o.code == "" {
					o.get = true
					o.status = getStatus(s.base + "/api/product")
				} else {
					r := placeOrder(s.base, uuid.NewString(), fmt.Sprintf(`{"couponCode":%q,"items":[{"productId":"1","quantity":2}]}`, o.code))
					o.status, o.errCode = r.status, r.code
				}
				o.end = time.Now()
				mu.Lock()
				seen = append(seen, o)
				mu.Unlock()
			}
		})
	}
	time.Sleep(2 * time.Second)

	// The good set: one more member in every file, with a new code.
	replaced := time.Now()
	for i, p := range paths {
		replace(t, p, append(slices.Clip(files[i]), gzipMember(t, "NEWCODE1\n")...))
	}
	waitMetric(t, s.base, "coupon_set_generation", "2", 60*time.Second)
	swapped := time.Now()
	buildSecs := metricValue(t, s.base, "coupon_set_build_seconds")
	time.Sleep(2 * time.Second)

	// The bad set: TRUNC001 would be valid, but the second file is cut.
	good2 := append(slices.Clip(files[1]), gzipMember(t, "NEWCODE1\n")...)
	replace(t, paths[0], append(append(slices.Clip(files[0]), gzipMember(t, "NEWCODE1\n")...), gzipMember(t, "TRUNC001\n")...))
	replace(t, paths[2], append(append(slices.Clip(files[2]), gzipMember(t, "NEWCODE1\n")...), gzipMember(t, "TRUNC001\n")...))
	replace(t, paths[1], good2[:len(good2)/2])
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, s.base, "coupon_set_build_failures_total", "1", 60*time.Second)
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()

	if gen := metricValue(t, s.base, "coupon_set_generation"); gen != "2" {
		t.Errorf("coupon_set_generation = %s after the truncated set, want 2", gen)
	}
	res, err := http.Get(s.base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"degraded"`) || !strings.Contains(string(body), "couponbase2.gz") {
		t.Errorf("/health with the truncated set: %d %s", res.StatusCode, body)
	}
	if !strings.Contains(s.output.String(), paths[1]) {
		t.Error("the log does not name the truncated file")
	}

	var failed, newBefore, refusedBefore, newAfter, trunc int
	firstNew := time.Time{}
	for _, o := range seen {
		if o.code == "NEWCODE1" && o.status == 200 && (firstNew.IsZero() || o.end.Before(firstNew)) {
			firstNew = o.end
		}
	}
	var during, before []couponOutcome
	for _, o := range seen {
		switch {
		case o.status == 200:
		case o.status == 422 && o.errCode == "INVALID_PROMO_CODE" && o.code != "FIFTYOFF":
		default:
			failed++
			t.Errorf("%s: status %d %s", o.code, o.status, o.errCode)
		}
		switch {
		case o.code == "NEWCODE1" && o.status == 200 && o.start.Before(replaced):
			newBefore++
		case o.code == "NEWCODE1" && o.status == 422 && o.end.Before(replaced):
			refusedBefore++
		case o.code == "NEWCODE1" && o.status != 200 && o.start.After(swapped):
			newAfter++
		case o.code == "TRUNC001" && o.status == 200:
			trunc++
		}
		switch {
		case o.end.Before(replaced):
			before = append(before, o)
		case o.start.After(replaced) && o.end.Before(swapped):
			during = append(during, o)
		}
	}
	if firstNew.IsZero() || refusedBefore == 0 || newBefore > 0 || newAfter > 0 || trunc > 0 {
		t.Errorf("NEWCODE1 refused before the swap %d times (want some), accepted before it %d times, refused after it %d times; TRUNC001 accepted %d times (want 0, 0, 0)",
			refusedBefore, newBefore, newAfter, trunc)
	}
	t.Logf("%d requests, %d failed; swap %.2fs after the files were replaced (build %s s); latency before: %s; during the rebuild: %s",
		len(seen), failed, swapped.Sub(replaced).Seconds(), buildSecs, latencies(before), latencies(during))
}

type couponOutcome struct {
	code       string
	get        bool
	start, end time.Time
	status     int
	errCode    string
}

// latencies summarises the GET and POST latencies of outcomes.
func latencies(outs []couponOutcome) string {
	var get, post []time.Duration
	for _, o := range outs {
		if o.get {
			get = append(get, o.end.Sub(o.start))
		} else {
			post = append(post, o.end.Sub(o.start))
		}
	}
	return fmt.Sprintf("GET %s, POST %s", percentiles(get), percentiles(post))
}

func percentiles(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	slices.Sort(d)
	at := func(p float64) time.Duration {
		return d[min(len(d)-1, int(p*float64(len(d))))].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("n=%d p50=%s p99=%s max=%s", len(d), at(0.5), at(0.99), d[len(d)-1].Round(100*time.Microsecond))
}

func getStatus(url string) int {
	res, err := client.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// replace puts data at path the way a deploy should: written beside it and
// renamed over it.
func replace(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path+".new", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

func gzipMember(t *testing.T, s string) []byte {
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

// metricValue is the value of an unlabelled metric on /metrics.
func metricValue(t *testing.T, base, name string) string {
	t.Helper()
	res, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	return ""
}

func waitMetric(t *testing.T, base, name, want string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for metricValue(t, base, name) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached %s", name, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
