package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the kernel's USER_HZ, the unit of /proc CPU times; it is 100
// on every Linux architecture Go supports.
const clockTick = 100

// cpuMark is a snapshot of CPU time consumed so far, in seconds.
type cpuMark struct {
	at       time.Time
	busy     float64 // whole machine, all cores
	idle     float64
	server   float64
	loader   float64
	postgres float64
}

// procs are the processes whose CPU time a step reports; 0 means unknown.
type procs struct {
	server     int
	postmaster int
}

// markCPU reads the machine's and the processes' CPU times from /proc. On a
// system without /proc every figure is zero and the CPU line is left out.
func markCPU(p procs) cpuMark {
	m := cpuMark{at: time.Now(), loader: procSeconds("self")}
	if p.server > 0 {
		m.server = procSeconds(strconv.Itoa(p.server))
	}
	if p.postmaster > 0 {
		m.postgres = treeSeconds(p.postmaster)
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return m
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal ...
	for i := 1; i < len(f) && i <= 8; i++ {
		v, _ := strconv.ParseFloat(f[i], 64)
		if i == 4 || i == 5 {
			m.idle += v / clockTick
		} else {
			m.busy += v / clockTick
		}
	}
	return m
}

// cpuBetween turns two marks into average cores used. extraLoader is CPU
// time of a load-generating child process (pgbench) that /proc/self misses.
func cpuBetween(a, b cpuMark, extraLoader float64) *CPU {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 || b.busy == 0 {
		return nil
	}
	c := &CPU{
		Server:   (b.server - a.server) / wall,
		Loader:   (b.loader - a.loader + extraLoader) / wall,
		Postgres: (b.postgres - a.postgres) / wall,
		Idle:     (b.idle - a.idle) / wall,
		Seconds:  wall,
	}
	c.Other = max((b.busy-a.busy)/wall-c.Server-c.Loader-c.Postgres, 0)
	return c
}

// treeSeconds is the CPU time of PostgreSQL: the postmaster, its live
// children (backends, walwriter, ...) and, through the postmaster's
// cumulative children times, the backends that have already exited. A
// backend's time thus moves from one term to another when it exits and is
// never lost or counted twice.
func treeSeconds(postmaster int) float64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	total := 0.0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := statFields(e.Name())
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		switch {
		case pid == postmaster:
			total += ticks(f[11]) + ticks(f[12]) + ticks(f[13]) + ticks(f[14])
		case ppid == postmaster:
			total += ticks(f[11]) + ticks(f[12])
		}
	}
	return total
}

// procSeconds is a process's user plus system CPU time from
// /proc/<pid>/stat, or 0 when it cannot be read.
func procSeconds(pid string) float64 {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	return ticks(f[11]) + ticks(f[12])
}

// statFields returns /proc/<pid>/stat from field 3 (state) on: index 1 is
// the parent pid, 11 and 12 utime and stime, 13 and 14 the times of
// waited-for children.
func statFields(pid string) []string {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil
	}
	// The command name may contain spaces; fields resume after its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

func ticks(field string) float64 {
	v, _ := strconv.ParseFloat(field, 64)
	return v / clockTick
}

// roundCPU keeps two decimals, enough for cores, and milliseconds of the
// span.
func roundCPU(c *CPU) *CPU {
	if c == nil {
		return nil
	}
	r := func(v float64) float64 { return float64(int(v*100+0.5)) / 100 }
	return &CPU{Server: r(c.Server), Loader: r(c.Loader), Postgres: r(c.Postgres), Other: r(c.Other), Idle: r(c.Idle),
		Seconds: float64(int(c.Seconds*1000+0.5)) / 1000}
}
