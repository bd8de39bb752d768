package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func TestWriteSVG(t *testing.T) {
	busy := 0.8
	steps := []Summary{
		{Name: "list", Target: "minikart", Clients: 64, Throughput: 5000, Latency: Percentiles{P99: 30},
			Timeline: []Window{{Start: 0, Requests: 10, P50: 1, P90: 5, P99: 30}, {Start: 0.5, Requests: 0, OtherCores: &busy}, {Start: 1, Requests: 12, P50: 2, P90: 6, P99: 25}}},
		{Name: "pgbench-order", Target: "pgbench"}, // no timeline: no panel
		{Name: "checkout<&>", Target: "minikart", Rate: 1000, Timeline: []Window{{Start: 0, Requests: 3, P50: 0.2, P90: 0.3, P99: 0.4}}},
	}
	var b bytes.Buffer
	if err := writeSVG(&b, steps); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// Well-formed XML, so a browser shows it rather than an error.
	dec := xml.NewDecoder(strings.NewReader(out))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, out)
		}
	}
	if n := strings.Count(out, "<polyline"); n != 6 {
		t.Errorf("%d lines, want 3 percentiles × 2 panels", n)
	}
	if n := strings.Count(out, `fill="#e6e6e6"`); n != 2 {
		t.Errorf("%d gray boxes, want the legend's and one busy window's", n)
	}
	for _, want := range []string{"minikart, 64 clients, max rate", "checkout&lt;&amp;&gt;", "1000/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("svg lacks %q", want)
		}
	}
	if strings.Contains(out, "pgbench-order") {
		t.Error("a step without a timeline got a panel")
	}
}

func TestNiceCeil(t *testing.T) {
	tests := []struct{ in, want float64 }{{0, 1}, {0.7, 1}, {1.2, 2}, {3, 5}, {7.9, 10}, {12, 20}, {77.8, 100}, {430, 500}}
	for _, tt := range tests {
		if got := niceCeil(tt.in); got != tt.want {
			t.Errorf("niceCeil(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
