package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseMetrics(t *testing.T) {
	in := `# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 42
db_pool_total_conns 7
http_requests_total{method="GET",route="/api/product",status="200"} 9
process_resident_memory_bytes 1.2345e+07
`
	got, err := parseMetrics(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"go_goroutines": 42, "db_pool_total_conns": 7, "process_resident_memory_bytes": 12345000}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v (labelled samples skipped)", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// steady is a soak whose samples each minute hold RSS at rss.
func steady(n int, rss func(i int) int64) []resources {
	out := make([]resources, n)
	for i := range out {
		out[i] = resources{at: time.Duration(i) * 10 * time.Second, rssKiB: rss(i), goroutines: 60, fds: 40, poolConns: 10, maxConns: 32,
			tables: map[string]int64{"products": 8192}}
	}
	return out
}

func TestJudgeSoak(t *testing.T) {
	baseline := resources{goroutines: 20, fds: 20, poolConns: 2, maxConns: 32,
		tables: map[string]int64{"products": 8192, "orders": 8192}}
	calm := resources{goroutines: 22, fds: 28, poolConns: 10, maxConns: 32, orders: 1000,
		tables: map[string]int64{"products": 8192, "orders": 8192 + 150_000}}
	ok := Summary{ByStatus: map[string]int{"200": 1000}}
	tests := []struct {
		name   string
		during []resources
		after  func(resources) resources
		load   Summary
		want   string // empty: no problem
	}{
		{"a steady server", steady(20, func(int) int64 { return 50_000 }), nil, ok, ""},
		{"goroutines left behind", steady(20, func(int) int64 { return 50_000 }),
			func(r resources) resources { r.goroutines = 200; return r }, ok, "goroutines 200 after the load"},
		{"descriptors left behind", steady(20, func(int) int64 { return 50_000 }),
			func(r resources) resources { r.fds = 90; return r }, ok, "open descriptors besides pool connections 80"},
		{"pool connections are not a leak", steady(20, func(int) int64 { return 50_000 }),
			func(r resources) resources { r.fds, r.poolConns = 48, 30; return r }, ok, ""},
		{"RSS growing past minute 2", steady(20, func(i int) int64 { return 50_000 + int64(i)*5_000 }), nil, ok, "more than 20 % growth"},
		{"products growing", steady(20, func(int) int64 { return 50_000 }),
			func(r resources) resources { r.tables = map[string]int64{"products": 16384}; return r }, ok, "products grew"},
		{"a table growing faster than its orders", steady(20, func(int) int64 { return 50_000 }),
			func(r resources) resources {
				r.tables = map[string]int64{"products": 8192, "orders": 8192 + 50_000_000}
				return r
			}, ok, "orders grew 50000 bytes per stored order"},
		{"5xx at half rate", steady(20, func(int) int64 { return 50_000 }), nil,
			Summary{ByStatus: map[string]int{"200": 990, "503": 10}}, "10 requests failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := calm
			if tt.after != nil {
				after = tt.after(calm)
			}
			got := strings.Join(judgeSoak(baseline, tt.during, after, tt.load), "; ")
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("problems %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAtMinute2(t *testing.T) {
	long := steady(20, func(i int) int64 { return int64(i) })
	if r, ok := atMinute2(long); !ok || r.at != 2*time.Minute {
		t.Errorf("20 samples: got %v %v, want the one at 2m", r.at, ok)
	}
	short := steady(9, func(i int) int64 { return int64(i) })
	if r, ok := atMinute2(short); !ok || r.at != 40*time.Second {
		t.Errorf("9 samples: got %v %v, want the middle one (40s)", r.at, ok)
	}
	if _, ok := atMinute2(steady(2, func(int) int64 { return 0 })); ok {
		t.Error("2 samples: want no reference")
	}
}
