package main

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"minikart/test/internal/pgtest"
)

func TestPostgresSettings(t *testing.T) {
	tuned, err := postgresSettings(postgresTuned, 24<<30)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"shared_buffers=6144MB", "max_wal_size=16GB", "checkpoint_timeout=15min",
		"checkpoint_completion_target=0.9", "log_checkpoints=on", "log_autovacuum_min_duration=0"} {
		if !slices.Contains(tuned, want) {
			t.Errorf("tuned settings %v lack %s", tuned, want)
		}
	}
	stock, err := postgresSettings(postgresStock, 24<<30)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stock, loggingSettings) {
		t.Errorf("stock settings %v, want only the logging ones %v", stock, loggingSettings)
	}
	// Durability is the cluster's, never a setting either mode may change.
	for _, s := range append(tuned, stock...) {
		for _, never := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
			if strings.HasPrefix(s, never+"=") {
				t.Errorf("setting %s overrides durability", s)
			}
		}
	}
	if _, err := postgresSettings("fast", 0); err == nil {
		t.Error("an unknown mode is accepted")
	}
}

func TestSharedBuffers(t *testing.T) {
	tests := []struct {
		mem  int64
		want string
	}{
		{0, "128MB"},         // unknown memory: PostgreSQL's default
		{256 << 20, "128MB"}, // a quarter would be below the default
		{8 << 30, "2048MB"},
		{24 << 30, "6144MB"},
		{256 << 30, "8192MB"}, // capped
	}
	for _, tt := range tests {
		if got := sharedBuffers(tt.mem); got != tt.want {
			t.Errorf("sharedBuffers(%d) = %s, want %s", tt.mem, got, tt.want)
		}
	}
}

func TestParseMemTotal(t *testing.T) {
	meminfo := "MemTotal:       24684412 kB\nMemFree:        24000000 kB\n"
	if got := parseMemTotal(meminfo); got != 24684412<<10 {
		t.Errorf("parseMemTotal = %d, want %d", got, int64(24684412)<<10)
	}
	if got := parseMemTotal("MemFree: 1 kB\n"); got != 0 {
		t.Errorf("parseMemTotal without MemTotal = %d, want 0", got)
	}
}

func TestCheckpointInterval(t *testing.T) {
	// PostgreSQL's defaults: 1 GB of WAL, 5 minutes, spread over 90 %.
	stock := checkpointSettings{maxWALBytes: 1 << 30, timeout: 5 * time.Minute, completionTarget: 0.9}
	tuned := checkpointSettings{maxWALBytes: 8 << 30, timeout: 15 * time.Minute, completionTarget: 0.9}
	mbps := func(v float64) float64 { return v * (1 << 20) }
	tests := []struct {
		name string
		c    checkpointSettings
		rate float64
		want time.Duration
	}{
		// 1 GB / 1.9 at 10 MB/s: a requested checkpoint every 53.9 s.
		{"stock at 10 MB/s: WAL volume forces them", stock, mbps(10), 53894736842 * time.Nanosecond},
		{"stock at 1 MB/s: the clock comes first", stock, mbps(1), 5 * time.Minute},
		{"tuned at 4 MB/s: the clock", tuned, mbps(4), 15 * time.Minute},
		{"tuned at 5 MB/s: 8 GB / 1.9 lasts 862 s", tuned, mbps(5), 862315789473 * time.Nanosecond},
		{"no WAL: the clock", stock, 0, 5 * time.Minute},
	}
	for _, tt := range tests {
		if got := tt.c.interval(tt.rate); got.Round(time.Millisecond) != tt.want.Round(time.Millisecond) {
			t.Errorf("%s: interval = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestWALPerRequest(t *testing.T) {
	a := Summary{Requests: 1000, WALBytes: 3_000_000}
	b := Summary{Requests: 600, Errors: 100, WALBytes: 1_500_000}
	if got, ok := walPerRequest(a, b); !ok || got != 3000 {
		t.Errorf("walPerRequest = %v, %v; want 3000", got, ok)
	}
	// A step whose WAL was not read is left out, answers and all.
	if got, ok := walPerRequest(a, Summary{Requests: 5000}); !ok || got != 3000 {
		t.Errorf("walPerRequest with an unmeasured step = %v, %v; want 3000", got, ok)
	}
	if _, ok := walPerRequest(Summary{Requests: 10}); ok {
		t.Error("walPerRequest without WAL figures is valid")
	}
}

func TestParsePostgresEvents(t *testing.T) {
	log := `2026-12-02 20:26:12.028 UTC [3385] LOG:  database system is ready to accept connections
2026-12-02 20:27:00.000 UTC [3387] LOG:  checkpoint starting: wal
2026-12-02 20:27:32.437 UTC [4888] LOG:  automatic vacuum of table "minikart_load.public.idempotency_keys": index scans: 0
	pages: 0 removed, 10045 remain, 10045 scanned (100.00% of total)
	system usage: CPU: user: 0.01 s, system: 0.02 s, elapsed: 0.31 s
2026-12-02 20:27:33.095 UTC [4888] LOG:  automatic analyze of table "minikart_load.public.idempotency_keys"
2026-12-02 20:27:33.100 UTC [4888] LOG:  automatic aggressive vacuum of table "template1.pg_catalog.pg_depend": index scans: 0
2026-12-02 20:27:34.500 UTC [3387] LOG:  checkpoint complete: wrote 1234 buffers (0.1%); 0 WAL file(s) added
2026-12-02 20:27:35.000 UTC [4890] ERROR:  duplicate key value violates unique constraint
`
	got := parsePostgresEvents(log)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	want := []pgEvent{
		{at("2026-12-02T20:27:00Z"), "checkpoint starts (wal)"},
		{at("2026-12-02T20:27:32.437Z"), "autovacuum ends idempotency_keys"},
		{at("2026-12-02T20:27:33.095Z"), "autoanalyze ends idempotency_keys"},
		{at("2026-12-02T20:27:34.5Z"), "checkpoint ends"},
	}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].at.Equal(want[i].at) || got[i].what != want[i].what {
			t.Errorf("event %d = %v %q, want %v %q", i, got[i].at, got[i].what, want[i].at, want[i].what)
		}
	}
}

func TestAttachEvents(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 20, 27, 0, 0, time.UTC)
	steps := []Summary{
		{Name: "checkout", Began: t0, Seconds: 10},
		{Name: "checkout-half", Began: t0.Add(10 * time.Second), Seconds: 10},
		{Name: "no start time", Seconds: 10},
	}
	events := []pgEvent{
		{t0.Add(-time.Second), "before every step"},
		{t0.Add(10 * time.Second), "at the second step's start"},
		{t0.Add(15800 * time.Millisecond), "autovacuum ends orders"},
		{t0.Add(20 * time.Second), "after the last step"},
	}
	attachEvents(steps, events)
	if len(steps[0].Postgres) != 0 || len(steps[2].Postgres) != 0 {
		t.Errorf("events %v and %v, want none", steps[0].Postgres, steps[2].Postgres)
	}
	want := []string{"+0.0 s at the second step's start", "+5.8 s autovacuum ends orders"}
	if !slices.Equal(steps[1].Postgres, want) {
		t.Errorf("checkout-half events %q, want %q", steps[1].Postgres, want)
	}
	var b strings.Builder
	printBackground(&b, steps)
	if !strings.Contains(b.String(), "checkout-half    postgres +5.8 s autovacuum ends orders\n") {
		t.Errorf("printed %q", b.String())
	}
}

// TestRecycleWALReadiesSegments: a fresh cluster has no WAL segment ready
// for the WAL to come, so its commits would wait while each is made; after
// recycleWAL it has min_wal_size of them.
func TestRecycleWALReadiesSegments(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgtest.StartDurable(ctx, false, "min_wal_size=160MB")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Stop() }()
	ahead := func() int {
		t.Helper()
		out, err := c.Query(ctx, "postgres", `SELECT count(*) FROM pg_ls_waldir()
			WHERE name ~ '^[0-9A-F]{24}$' AND name > pg_walfile_name(pg_current_wal_lsn())`)
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(out)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := ahead(); n > 1 {
		t.Fatalf("a fresh cluster has %d segments ready; the test needs one that has none", n)
	}
	n, err := recycleWAL(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if n != 10 {
		t.Errorf("recycleWAL wrote %d segments, want min_wal_size / 16MB = 10", n)
	}
	if got := ahead(); got < n-2 {
		t.Errorf("%d segments ready for reuse after recycleWAL, want at least %d", got, n-2)
	}
}
