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
	return func(t *vegeta.Target) error {
		t.Method, t.URL = http.MethodGet, base+"/api/product"
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

// checkoutTargeter places two-item orders of random products, every other
// one with the HAPPYHRS coupon, each with a fresh Idempotency-Key so none is
// taken for a retry.
func checkoutTargeter(base, key string) vegeta.Targeter {
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		coupon := ""
		if n.Add(1)%2 == 0 {
			coupon = `"couponCode":"HAPPYHRS",`
		}
		t.Method, t.URL = http.MethodPost, base+"/api/order"
		t.Body = fmt.Appendf(nil, `{%s"items":[{"productId":"%d","quantity":%d},{"productId":"%d","quantity":%d}]}`,
			coupon, rand.IntN(9)+1, rand.IntN(3)+1, rand.IntN(9)+1, rand.IntN(3)+1)
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
// at maxRequests results, or when ctx ends.
func attack(ctx context.Context, spec attackSpec, maxRequests int, window time.Duration) Summary {
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
	began := time.Now()
	samples := make([]sample, 0, 1<<15)
	for r := range a.Attack(spec.targeter, pacer, spec.duration, spec.name) {
		samples = append(samples, sample{At: r.Timestamp.Sub(began), Latency: r.Latency, Code: r.Code})
		if len(samples) == maxRequests {
			a.Stop()
		}
	}
	s := summarize(spec.name, spec.target, samples, time.Since(began), window)
	s.Clients, s.Rate = spec.clients, spec.rate
	return s
}
