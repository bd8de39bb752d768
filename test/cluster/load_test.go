//go:build cluster

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// The load the chaos test puts on the cluster through nginx: a bounded pool
// of clients placing orders, each with its own Idempotency-Key, retrying
// whatever is not a final answer with the same key and body, replaying some
// keys after their 200, a share with a limited coupon, and readers of the
// catalogue beside them.

// limitedCoupon is the coupon whose redemptions the test caps.
const limitedCoupon = "HAPPYHRS"

type item struct {
	ProductID string `json:"productId"`
	Quantity  int    `json:"quantity"`
}

type orderBody struct {
	Items      []item `json:"items"`
	CouponCode string `json:"couponCode,omitempty"`
}

// attempt is one HTTP request and what came back.
type attempt struct {
	kind    string // order, retry, replay, read
	key     string
	sent    time.Time
	latency time.Duration
	status  int // 0: no HTTP answer (refused, broken)
	code    string
	orderID string
}

func (a attempt) done() time.Time { return a.sent.Add(a.latency) }

// keyResult is what one Idempotency-Key ended with.
type keyResult struct {
	key     string
	body    orderBody
	status  int    // the final answer: 200, a final 4xx, or 0 when given up
	code    string // its error code
	orderID string // the 200's order
	tries   int
	// replayID is the order a replay after the 200 named ("" when none).
	replayID string
}

type load struct {
	base, apiKey string
	client       *http.Client
	giveUp       time.Duration

	mu       sync.Mutex
	attempts []attempt
	keys     []keyResult

	stop chan struct{}
	wg   sync.WaitGroup
	n    atomic.Int64
}

func startLoad(base, apiKey string, orderers, readers int) *load {
	l := &load{
		base: base, apiKey: apiKey, giveUp: 90 * time.Second, stop: make(chan struct{}),
		client: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: orderers + readers}},
	}
	for w := range orderers {
		l.wg.Go(func() { l.orderer(w) })
	}
	for w := range readers {
		l.wg.Go(func() { l.reader(w) })
	}
	return l
}

// finish stops new keys, lets every key in flight reach its end, and
// returns what was seen.
func (l *load) finish() ([]attempt, []keyResult) {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.attempts, l.keys
}

func (l *load) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *load) record(a attempt) {
	l.mu.Lock()
	l.attempts = append(l.attempts, a)
	l.mu.Unlock()
}

// firstOrderOK is when the first order request sent at or after t was
// answered 200, if one was.
func (l *load) firstOrderOK(t time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first time.Time
	for _, a := range l.attempts {
		if a.kind != "read" && a.status == 200 && !a.sent.Before(t) && (first.IsZero() || a.done().Before(first)) {
			first = a.done()
		}
	}
	return first, !first.IsZero()
}

func (l *load) orderer(w int) {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	for !l.stopped() {
		n := l.n.Add(1)
		body := orderBody{}
		for range 1 + rng.IntN(3) {
			body.Items = append(body.Items, item{ProductID: strconv.Itoa(1 + rng.IntN(9)), Quantity: 1 + rng.IntN(3)})
		}
		if n%4 == 0 {
			body.CouponCode = limitedCoupon
		}
		r := l.place("order", uuid.NewString(), body)
		// One key in ten is sent again after its 200: the answer must name
		// the same order.
		if r.status == 200 && n%10 == 0 {
			a := l.place("replay", r.key, body)
			if a.status == 200 {
				r.replayID = a.orderID
			} else {
				r.replayID = fmt.Sprintf("(%d %s)", a.status, a.code)
			}
		}
		l.mu.Lock()
		l.keys = append(l.keys, r)
		l.mu.Unlock()
	}
}

// final reports whether an answer ends a key's attempts: a 200, or a 4xx
// about the order itself (the coupon's limit reached). Everything else is
// retried with the same key and body: no answer, 5xx, 429, and 409 while
// another request with the key is in flight.
func final(status int, code string) bool {
	switch {
	case status == 200:
		return true
	case status == 0, status >= 500, status == 429, status == 409 && code == "IDEMPOTENCY_KEY_IN_PROGRESS":
		return false
	}
	return true
}

// place sends the order until its answer is final (the first request as
// kind, the others as retries), or gives up.
func (l *load) place(kind, key string, body orderBody) keyResult {
	r := keyResult{key: key, body: body}
	start := time.Now()
	for ; ; kind = "retry" {
		a := l.post(kind, key, body)
		r.tries++
		if final(a.status, a.code) {
			r.status, r.code, r.orderID = a.status, a.code, a.orderID
			return r
		}
		if time.Since(start) > l.giveUp {
			r.status, r.code = 0, fmt.Sprintf("gave up after %d tries (last %d %s)", r.tries, a.status, a.code)
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (l *load) post(kind, key string, body orderBody) attempt {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, l.base+"/api/order", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("api_key", l.apiKey)
	req.Header.Set("Idempotency-Key", key)
	a := l.do(kind, key, req)
	l.record(a)
	return a
}

func (l *load) do(kind, key string, req *http.Request) attempt {
	a := attempt{kind: kind, key: key, sent: time.Now()}
	res, err := l.client.Do(req)
	if err == nil {
		var answer struct {
			ID    string `json:"id"`
			Error string `json:"error"`
		}
		if json.NewDecoder(res.Body).Decode(&answer) != nil && res.StatusCode == 200 {
			a.code = "NOT_JSON"
		}
		res.Body.Close()
		a.status, a.orderID, a.code = res.StatusCode, answer.ID, a.code+answer.Error
	}
	a.latency = time.Since(a.sent)
	return a
}

func (l *load) reader(w int) {
	for i := 0; !l.stopped(); i++ {
		path := "/api/product"
		if i%2 == 1 {
			path = fmt.Sprintf("/api/product/%d", (i+w)%9+1)
		}
		req, _ := http.NewRequest(http.MethodGet, l.base+path, nil)
		l.record(l.do("read", "", req))
		time.Sleep(20 * time.Millisecond)
	}
}

// window is a span of time a fault disturbed.
type window struct{ from, to time.Time }

func (w window) has(t time.Time) bool { return !t.Before(w.from) && !t.After(w.to) }

// p99 of the order requests sent outside every window that got a 200.
func p99Outside(attempts []attempt, ws []window) (time.Duration, int) {
	var ls []time.Duration
	for _, a := range attempts {
		if a.kind != "order" || a.status != 200 {
			continue
		}
		inside := false
		for _, w := range ws {
			if w.has(a.sent) || w.has(a.done()) {
				inside = true
				break
			}
		}
		if !inside {
			ls = append(ls, a.latency)
		}
	}
	if len(ls) == 0 {
		return 0, 0
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i] < ls[j] })
	return ls[(len(ls)*99)/100], len(ls)
}
