package main

import (
	"slices"
	"strings"
	"testing"
)

func TestPostgresSettings(t *testing.T) {
	tuned, err := postgresSettings(postgresTuned, 24<<30)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"shared_buffers=6144MB", "max_wal_size=8GB", "checkpoint_timeout=15min",
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
