package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// The PostgreSQL the load test starts keeps production's durability (fsync,
// full_page_writes, synchronous_commit: an order is on disk before its 200)
// and, unless -postgres stock asks for PostgreSQL's defaults, the settings
// deploy/README.md recommends. Either way it logs its checkpoints and every
// autovacuum run, so a latency spike can be matched with them.
const (
	postgresTuned = "tuned"
	postgresStock = "stock"
)

// postgresSetup is how the load test starts its PostgreSQL.
type postgresSetup struct {
	settings []string
	// onDisk puts the cluster's files on disk (TMPDIR) rather than in
	// /dev/shm, so every commit waits for the disk's flush as well.
	onDisk bool
	// freshWAL leaves the cluster as initdb made it, instead of readying
	// min_wal_size of WAL segments for reuse before the load (recycleWAL).
	freshWAL bool
}

func (p postgresSetup) where() string {
	if p.onDisk {
		return "files on disk"
	}
	return "files in memory"
}

// newPostgresSetup is the setup the options ask for on a machine with
// memBytes of memory.
func newPostgresSetup(o options, memBytes int64) (postgresSetup, error) {
	settings, err := postgresSettings(o.postgres, memBytes)
	return postgresSetup{settings: settings, onDisk: o.postgresOnDisk, freshWAL: o.freshWAL}, err
}

// loggingSettings make the cluster's log say what it did in the background.
// Its times are in UTC, so the load test can read them back.
var loggingSettings = []string{"log_checkpoints=on", "log_autovacuum_min_duration=0", "log_timezone=UTC"}

// postgresSettings are the cluster's settings for mode on a machine with
// memBytes of memory (0 when unknown).
func postgresSettings(mode string, memBytes int64) ([]string, error) {
	switch mode {
	case postgresStock:
		return loggingSettings, nil
	case postgresTuned:
		return append(tunedSettings(memBytes), loggingSettings...), nil
	}
	return nil, fmt.Errorf("-postgres %q: want %s or %s", mode, postgresTuned, postgresStock)
}

// tunedSettings are deploy/README.md's recommendation. Checkpoints come
// from the clock (checkpoint_timeout), not from WAL volume: max_wal_size is
// far above what a checkpoint interval writes, so a burst of orders never
// forces an early checkpoint, and each one's writes are spread over 90 % of
// the interval. shared_buffers is a quarter of memory, so the tables an
// order touches stay cached and backends do not write out dirty pages
// themselves.
func tunedSettings(memBytes int64) []string {
	return []string{
		"shared_buffers=" + sharedBuffers(memBytes),
		"wal_buffers=16MB",
		"max_wal_size=16GB",
		"min_wal_size=1GB",
		"checkpoint_timeout=15min",
		"checkpoint_completion_target=0.9",
	}
}

// sharedBuffers is a quarter of memBytes in MB, at least PostgreSQL's own
// default of 128MB and at most 8GB (beyond that the OS cache does as well).
func sharedBuffers(memBytes int64) string {
	mb := memBytes / 4 >> 20
	return strconv.FormatInt(min(max(mb, 128), 8<<10), 10) + "MB"
}

// memTotal is the machine's memory from /proc/meminfo, or 0 when unknown.
func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return parseMemTotal(string(b))
}

// parseMemTotal reads the MemTotal line ("MemTotal: 24684412 kB") in bytes.
func parseMemTotal(meminfo string) int64 {
	for _, line := range strings.Split(meminfo, "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// recycleWAL gives the fresh cluster at url what a cluster that has run a
// while has: min_wal_size of WAL segments ready for reuse. It writes that
// many segments (a WAL message and a switch each) and checkpoints, which
// keeps them, renamed, for the WAL to come. A fresh cluster has none, so
// every 16 MB of WAL a committing backend creates and zero-fills a new
// segment while every other commit waits: the load test saw all orders
// stall for 12 to 73 ms at each segment's birth, a cost a production
// cluster pays only in its first minutes.
func recycleWAL(ctx context.Context, url string) (segments int, err error) {
	db, err := sqlx.Open("pgx", url)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	const q = `SELECT (SELECT setting::bigint FROM pg_settings WHERE name = 'min_wal_size') * 1048576 /
		(SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size')`
	if err := db.GetContext(ctx, &segments, q); err != nil {
		return 0, fmt.Errorf("recycle WAL: %w", err)
	}
	for range segments {
		if _, err := db.ExecContext(ctx, `SELECT pg_logical_emit_message(false, 'minikart-load', 'recycle'), pg_switch_wal()`); err != nil {
			return 0, fmt.Errorf("recycle WAL: %w", err)
		}
	}
	if _, err := db.ExecContext(ctx, `CHECKPOINT`); err != nil {
		return 0, fmt.Errorf("recycle WAL: %w", err)
	}
	return segments, nil
}

// walMeter reads how far the database server's WAL has gone, so a step can
// tell how much WAL its requests wrote, and the checkpoint settings that
// WAL volume runs into.
type walMeter struct{ db *sqlx.DB }

// openWALMeter connects to url; a nil meter (no database) measures nothing.
func openWALMeter(url string) (*walMeter, error) {
	if url == "" {
		return nil, nil
	}
	db, err := sqlx.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &walMeter{db: db}, nil
}

func (m *walMeter) close() {
	if m != nil {
		_ = m.db.Close()
	}
}

// position is the WAL position in bytes; false when it cannot be read.
func (m *walMeter) position(ctx context.Context) (int64, bool) {
	if m == nil {
		return 0, false
	}
	var p int64
	err := m.db.GetContext(ctx, &p, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`)
	return p, err == nil
}

// checkpoints reads the settings that decide when checkpoints come.
func (m *walMeter) checkpoints(ctx context.Context) (checkpointSettings, bool) {
	var c checkpointSettings
	if m == nil {
		return c, false
	}
	var maxWALMB, timeoutS int64
	const q = `SELECT
		(SELECT setting::bigint FROM pg_settings WHERE name = 'max_wal_size'),
		(SELECT setting::bigint FROM pg_settings WHERE name = 'checkpoint_timeout'),
		(SELECT setting::float8 FROM pg_settings WHERE name = 'checkpoint_completion_target')`
	if err := m.db.QueryRowContext(ctx, q).Scan(&maxWALMB, &timeoutS, &c.completionTarget); err != nil {
		return c, false
	}
	c.maxWALBytes = float64(maxWALMB) * (1 << 20)
	c.timeout = time.Duration(timeoutS) * time.Second
	return c, true
}

// checkpointSettings are max_wal_size, checkpoint_timeout and
// checkpoint_completion_target.
type checkpointSettings struct {
	maxWALBytes      float64
	timeout          time.Duration
	completionTarget float64
}

// interval is how often checkpoints come while WAL is written at
// bytesPerSecond: PostgreSQL starts one every checkpoint_timeout, and
// earlier once the WAL since the last one reaches max_wal_size / (1 +
// checkpoint_completion_target), so that a checkpoint spread over that
// fraction of its interval ends before the WAL passes max_wal_size.
func (c checkpointSettings) interval(bytesPerSecond float64) time.Duration {
	if bytesPerSecond <= 0 {
		return c.timeout
	}
	byWAL := time.Duration(c.maxWALBytes / (1 + c.completionTarget) / bytesPerSecond * float64(time.Second))
	return min(byWAL, c.timeout)
}

// walPerRequest is the WAL the steps wrote per successful request, in
// bytes; false when it was not measured.
func walPerRequest(steps ...Summary) (float64, bool) {
	ok, bytes := 0, int64(0)
	for _, s := range steps {
		if s.WALBytes > 0 {
			ok += s.Requests - s.Errors
			bytes += s.WALBytes
		}
	}
	if ok <= 0 {
		return 0, false
	}
	return float64(bytes) / float64(ok), true
}

// pgEvent is one piece of background work PostgreSQL logged.
type pgEvent struct {
	at   time.Time
	what string
}

// pgLogTime is the timestamp loggingSettings give each log line.
const pgLogTime = "2006-01-02 15:04:05.000 MST"

// parsePostgresEvents finds the checkpoints and the autovacuum and
// autoanalyze runs of the application's tables (schema public) in a
// PostgreSQL log. A vacuum or analyze is logged when it ends.
func parsePostgresEvents(log string) []pgEvent {
	var out []pgEvent
	for _, line := range strings.Split(log, "\n") {
		stamp, rest, ok := strings.Cut(line, " [")
		if !ok {
			continue
		}
		at, err := time.Parse(pgLogTime, stamp)
		if err != nil {
			continue
		}
		_, msg, ok := strings.Cut(rest, "] LOG:  ")
		if !ok {
			continue
		}
		var what string
		switch {
		case strings.HasPrefix(msg, "checkpoint starting: "):
			what = "checkpoint starts (" + strings.TrimPrefix(msg, "checkpoint starting: ") + ")"
		case strings.HasPrefix(msg, "checkpoint complete: "):
			what = "checkpoint ends"
		case strings.HasPrefix(msg, "automatic vacuum of table "), strings.HasPrefix(msg, "automatic aggressive vacuum of table "):
			what = "autovacuum ends " + tableName(msg)
		case strings.HasPrefix(msg, "automatic analyze of table "):
			what = "autoanalyze ends " + tableName(msg)
		}
		if what == "" || strings.HasSuffix(what, " ") {
			continue
		}
		out = append(out, pgEvent{at: at, what: what})
	}
	return out
}

// tableName is the public table a vacuum or analyze message names
// (`... of table "db.public.orders": ...`), or "" for any other schema.
func tableName(msg string) string {
	_, q, _ := strings.Cut(msg, `of table "`)
	name, _, _ := strings.Cut(q, `"`)
	parts := strings.Split(name, ".")
	if len(parts) != 3 || parts[1] != "public" {
		return ""
	}
	return parts[2]
}

// attachEvents gives each step the events that happened while it ran, as
// "+5.8 s autovacuum ends orders".
func attachEvents(steps []Summary, events []pgEvent) {
	for i := range steps {
		s := &steps[i]
		if s.Began.IsZero() {
			continue
		}
		end := s.Began.Add(time.Duration(s.Seconds * float64(time.Second)))
		for _, e := range events {
			if !e.at.Before(s.Began) && e.at.Before(end) {
				s.Postgres = append(s.Postgres, fmt.Sprintf("+%.1f s %s", e.at.Sub(s.Began).Seconds(), e.what))
			}
		}
	}
}
