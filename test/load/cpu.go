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
	at     time.Time
	busy   float64 // whole machine, all cores
	idle   float64
	server float64
	loader float64
}

// markCPU reads the machine's and the processes' CPU times from /proc. On a
// system without /proc every figure is zero and the CPU line is left out.
func markCPU(serverPID int) cpuMark {
	m := cpuMark{at: time.Now(), loader: procSeconds("self")}
	if serverPID > 0 {
		m.server = procSeconds(strconv.Itoa(serverPID))
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
		Server: (b.server - a.server) / wall,
		Loader: (b.loader - a.loader + extraLoader) / wall,
		Idle:   (b.idle - a.idle) / wall,
	}
	c.Other = max((b.busy-a.busy)/wall-c.Server-c.Loader, 0)
	return c
}

// procSeconds is a process's user plus system CPU time from
// /proc/<pid>/stat, or 0 when it cannot be read.
func procSeconds(pid string) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// The command name may contain spaces; fields resume after its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	// After ')' come state (field 3) onwards; utime and stime are fields 14, 15.
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / clockTick
}

// roundCPU keeps two decimals, enough for cores.
func roundCPU(c *CPU) *CPU {
	if c == nil {
		return nil
	}
	r := func(v float64) float64 { return float64(int(v*100+0.5)) / 100 }
	return &CPU{Server: r(c.Server), Loader: r(c.Loader), Other: r(c.Other), Idle: r(c.Idle)}
}
