package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// listTargeter asks for the whole catalogue, the request the static anchor
// answers too.
func listTargeter(base string) vegeta.Targeter {
	return getTargeter(base + "/api/product")
}

// getTargeter asks for url.
func getTargeter(url string) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		t.Method, t.URL = http.MethodGet, url
		return nil
	}
}

// browseTargeter alternates the catalogue and single products 1..9, as a
// shop front does. Targeters run on many workers at once: state is atomic.
func browseTargeter(base string) vegeta.Targeter {
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		i := n.Add(1)
		t.Method = http.MethodGet
		if i%2 == 0 {
			t.URL = base + "/api/product"
		} else {
			t.URL = base + "/api/product/" + strconv.FormatUint(1+(i/2)%9, 10)
		}
		return nil
	}
}

// checkoutTargeter places two-item orders of random products among
// 1..products, every other one with the HAPPYHRS coupon, each with a fresh Idempotency-Key so none is
// taken for a retry.
func checkoutTargeter(base, key string, products int) vegeta.Targeter {
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		coupon := ""
		if n.Add(1)%2 == 0 {
			coupon = `"couponCode":"HAPPYHRS",`
		}
		t.Method, t.URL = http.MethodPost, base+"/api/order"
		t.Body = fmt.Appendf(nil, `{%s"items":[{"productId":"%d","quantity":%d},{"productId":"%d","quantity":%d}]}`,
			coupon, rand.IntN(products)+1, rand.IntN(3)+1, rand.IntN(products)+1, rand.IntN(3)+1)
		t.Header = http.Header{
			"Content-Type":    {"application/json"},
			"Api_key":         {key},
			"Idempotency-Key": {uuid.NewString()},
		}
		return nil
	}
}

// mixedTargeter sends nine browse requests for each checkout.
func mixedTargeter(browse, checkout vegeta.Targeter) vegeta.Targeter {
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		if n.Add(1)%10 == 0 {
			return checkout(t)
		}
		return browse(t)
	}
}

// attackSpec is one bounded burst of HTTP load.
type attackSpec struct {
	name, target string
	targeter     vegeta.Targeter
	// clients is the fixed number of concurrent clients when rate is 0
	// (saturation); with a rate it caps the workers vegeta may add.
	clients  int
	rate     float64
	duration time.Duration
}

// named returns a copy of spec under another name.
func (spec attackSpec) named(name string) attackSpec {
	spec.name = name
	return spec
}

// attack runs spec and collects every result; it stops at the duration,
// at maxRequests results, or when ctx ends. Meanwhile it samples CPU use
// once a window, so each window of the timeline tells how much of the
// machine other work took while it was measured.
func attack(ctx context.Context, spec attackSpec, maxRequests int, window time.Duration, p procs) Summary {
	opts := []func(*vegeta.Attacker){
		vegeta.KeepAlive(true),
		vegeta.MaxBody(0), // the body is drained, not kept: only status and time matter
		vegeta.Timeout(15 * time.Second),
		vegeta.Redirects(vegeta.NoFollow),
		vegeta.Connections(spec.clients),
		vegeta.MaxWorkers(uint64(spec.clients)),
	}
	pacer := vegeta.ConstantPacer{} // zero: as fast as the workers go
	if spec.rate > 0 {
		pacer = vegeta.ConstantPacer{Freq: int(spec.rate), Per: time.Second}
	} else {
		opts = append(opts, vegeta.Workers(uint64(spec.clients)))
	}
	a := vegeta.NewAttacker(opts...)
	defer context.AfterFunc(ctx, func() { a.Stop() })()

	marks := []cpuMark{markCPU(p)}
	began := marks[0].at
	sampled := make(chan []cpuMark)
	stopSampling := make(chan struct{})
	go func() {
		tick := time.NewTicker(window)
		defer tick.Stop()
		var ms []cpuMark
		for {
			select {
			case <-tick.C:
				ms = append(ms, markCPU(p))
			case <-stopSampling:
				sampled <- append(ms, markCPU(p))
				return
			}
		}
	}()

	samples := make([]sample, 0, 1<<15)
	for r := range a.Attack(spec.targeter, pacer, spec.duration, spec.name) {
		samples = append(samples, sample{At: r.Timestamp.Sub(began), Latency: r.Latency, Code: r.Code})
		if len(samples) == maxRequests {
			a.Stop()
		}
	}
	close(stopSampling)
	marks = append(marks, <-sampled...)

	s := summarize(spec.name, spec.target, samples, time.Since(began), window)
	s.Clients, s.Rate, s.Began = spec.clients, spec.rate, began
	s.CPU = roundCPU(cpuBetween(marks[0], marks[len(marks)-1], 0))
	other := windowOther(marks, len(s.Timeline))
	for i := range s.Timeline {
		if other[i] >= 0 {
			v := other[i]
			s.Timeline[i].OtherCores = &v
		}
	}
	s.QuietP99, s.QuietWindows = quietP99(samples, other, window)
	return s
}

// windowOther is the CPU other work took in each of n windows, from marks
// taken about once a window; -1 where no mark pair covers the window.
func windowOther(marks []cpuMark, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = -1
		if i+1 < len(marks) {
			if c := cpuBetween(marks[i], marks[i+1], 0); c != nil {
				out[i] = float64(int(c.Other*100+0.5)) / 100
			}
		}
	}
	return out
}
