package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Chart geometry: one panel per step, two panels a row.
const (
	panelW, panelH = 480, 240
	padL, padR     = 56, 16
	padT, padB     = 44, 30
	columns        = 2
)

// series are the percentile lines each panel draws, lowest first.
var series = []struct {
	label string
	color string
	value func(Window) float64
}{
	{"p50", "#1f77b4", func(w Window) float64 { return w.P50 }},
	{"p90", "#ff7f0e", func(w Window) float64 { return w.P90 }},
	{"p99", "#d62728", func(w Window) float64 { return w.P99 }},
}

// writeSVG draws latency percentiles over time, one panel per step with a
// timeline, as a standalone SVG a browser opens. Each panel has its own
// scale: the steps differ by orders of magnitude and one shared axis would
// flatten the fast ones.
func writeSVG(w io.Writer, steps []Summary) error {
	var panels []Summary
	for _, s := range steps {
		if len(s.Timeline) > 0 {
			panels = append(panels, s)
		}
	}
	rows := (len(panels) + columns - 1) / columns
	width, height := columns*panelW, max(rows, 1)*panelH+24
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	x := 8
	for _, s := range series {
		fmt.Fprintf(&b, `<line x1="%d" y1="12" x2="%d" y2="12" stroke="%s" stroke-width="2"/><text x="%d" y="16">%s</text>`+"\n", x, x+18, s.color, x+22, s.label)
		x += 60
	}
	fmt.Fprintf(&b, `<rect x="%d" y="6" width="18" height="10" fill="#e6e6e6"/><text x="%d" y="16">other work took ≥ %.2f cores</text>`+"\n", x, x+22, quietCores)
	fmt.Fprintf(&b, `<text x="%d" y="16">latency (ms) over time (s), per step</text>`+"\n", x+210)
	for i, p := range panels {
		drawPanel(&b, p, (i%columns)*panelW, 24+(i/columns)*panelH)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// drawPanel draws one step's panel with its top-left corner at (ox, oy).
func drawPanel(b *strings.Builder, s Summary, ox, oy int) {
	plotW, plotH := float64(panelW-padL-padR), float64(panelH-padT-padB)
	x0, y0 := float64(ox+padL), float64(oy+padT)
	last := s.Timeline[len(s.Timeline)-1]
	xMax := math.Max(last.Start+s.Timeline[min(1, len(s.Timeline)-1)].Start, 1)
	yMax := 0.0
	for _, w := range s.Timeline {
		yMax = math.Max(yMax, w.P99)
	}
	yMax = niceCeil(yMax)
	rate := "max rate"
	if s.Rate > 0 {
		rate = fmt.Sprintf("%.0f/s", s.Rate)
	}
	detail := fmt.Sprintf("%s, %d clients, %s: %.0f req/s, p99 %.2f ms, %d errors", s.Target, s.Clients, rate, s.Throughput, s.Latency.P99, s.Errors)
	fmt.Fprintf(b, `<text x="%.0f" y="%d" font-weight="bold" font-size="13">%s</text>`+"\n", x0, oy+18, html.EscapeString(s.Name))
	fmt.Fprintf(b, `<text x="%.0f" y="%d" fill="#555">%s</text>`+"\n", x0, oy+33, html.EscapeString(detail))
	width := s.Timeline[min(1, len(s.Timeline)-1)].Start
	for _, w := range s.Timeline {
		if w.OtherCores != nil && *w.OtherCores >= quietCores {
			fmt.Fprintf(b, `<rect x="%.1f" y="%.0f" width="%.1f" height="%.0f" fill="#e6e6e6"/>`+"\n",
				x0+plotW*w.Start/xMax, y0, math.Min(plotW*width/xMax, x0+plotW-(x0+plotW*w.Start/xMax)), plotH)
		}
	}
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n", x0, y0, plotW, plotH)
	for i := 0; i <= 4; i++ {
		v := yMax * float64(i) / 4
		y := y0 + plotH - plotH*float64(i)/4
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#eee"/><text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n",
			x0, y, x0+plotW, y, x0-4, y+4, trimFloat(v))
	}
	step := niceCeil(xMax / 5)
	for t := 0.0; t <= xMax; t += step {
		x := x0 + plotW*t/xMax
		fmt.Fprintf(b, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", x, y0+plotH+14, trimFloat(t))
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="end" fill="#555">s</text>`+"\n", x0+plotW, y0+plotH+26)
	for _, se := range series {
		pts := make([]string, 0, len(s.Timeline))
		for _, w := range s.Timeline {
			if w.Requests == 0 {
				continue
			}
			px := x0 + plotW*w.Start/xMax
			py := y0 + plotH - plotH*math.Min(se.value(w)/yMax, 1)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", se.color, strings.Join(pts, " "))
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, so axis labels
// are round numbers.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// trimFloat prints an axis label without needless decimals.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}
