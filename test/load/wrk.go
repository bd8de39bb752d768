package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

var (
	wrkRequests = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([0-9.]+)s`)
	wrkLatency  = regexp.MustCompile(`(?m)^\s*Latency\s+([0-9.]+)(us|ms|s)\b`)
	wrkRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkNon2xx   = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket   = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk's summary: the requests it sent and in how long, those
// answered with an error or lost to a socket error, the rate and the mean
// latency.
func parseWrk(out string) (toolRun, error) {
	var r toolRun
	m := wrkRequests.FindStringSubmatch(out)
	rps := wrkRPS.FindStringSubmatch(out)
	if m == nil || rps == nil {
		return r, fmt.Errorf("wrk printed no summary: %.300s", out)
	}
	r.Requests, _ = strconv.Atoi(m[1])
	r.Seconds, _ = strconv.ParseFloat(m[2], 64)
	r.Rate, _ = strconv.ParseFloat(rps[1], 64)
	if m := wrkLatency.FindStringSubmatch(out); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		r.MeanMS = v * map[string]float64{"us": 0.001, "ms": 1, "s": 1000}[m[2]]
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.Atoi(m[1])
		r.Errors += n
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.Errors += n
		}
	}
	return r, nil
}

// errNoWrk says the wrk step was skipped because wrk is not installed.
var errNoWrk = errors.New("wrk is not installed (apt-get install wrk)")

// runWrk runs `wrk -t1 -c<clients>` against url for d: one loader thread,
// a load generator other than the test's own, for the GET figure of the
// catalogue against the static handler.
func runWrk(ctx context.Context, url string, clients int, d time.Duration) (toolRun, error) {
	bin, err := exec.LookPath("wrk")
	if err != nil {
		return toolRun{}, errNoWrk
	}
	out, cpu, err := runTool(exec.CommandContext(ctx, bin, "-t1", fmt.Sprintf("-c%d", clients), fmt.Sprintf("-d%ds", toolSeconds(d)), url))
	if err != nil {
		return toolRun{}, err
	}
	r, err := parseWrk(out)
	r.CPU = cpu
	return r, err
}
