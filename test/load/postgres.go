package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
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
	return postgresSetup{settings: settings, onDisk: o.postgresOnDisk}, err
}

// loggingSettings make the cluster's log say what it did in the background.
var loggingSettings = []string{"log_checkpoints=on", "log_autovacuum_min_duration=0"}

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
		"max_wal_size=8GB",
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
