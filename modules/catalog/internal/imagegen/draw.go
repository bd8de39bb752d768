package main

import (
	"image"
	"image/color"
	"math"
)

// vec is a point in scene units: the scene's central square spans
// -0.5..0.5 on both axes, y pointing down; wider canvases show more
// background on the sides, taller ones above and below.
type vec struct{ x, y float64 }

// rgb is a colour with channels in 0..1.
type rgb struct{ r, g, b float64 }

func hex(c uint32) rgb {
	return rgb{float64(c>>16&0xff) / 255, float64(c>>8&0xff) / 255, float64(c&0xff) / 255}
}

func (c rgb) scale(k float64) rgb { return rgb{c.r * k, c.g * k, c.b * k} }

func mix(a, b rgb, t float64) rgb {
	return rgb{a.r + (b.r-a.r)*t, a.g + (b.g-a.g)*t, a.b + (b.b-a.b)*t}
}

// sdf is a signed distance: negative inside the shape, in scene units.
type sdf func(p vec) float64

// paint colours a point inside a shape.
type paint func(p vec) rgb

// layer is one shape; a scene paints its layers in order.
type layer struct {
	shape sdf
	fill  paint
}

func solid(c rgb) paint { return func(vec) rgb { return c } }

// shaded darkens c away from the light at the top left, so flat shapes read
// as round ones.
func shaded(c rgb, center vec, radius float64) paint {
	return func(p vec) rgb {
		d := math.Hypot(p.x-center.x+radius*0.35, p.y-center.y+radius*0.35) / (radius * 1.6)
		return c.scale(1.08 - 0.3*math.Min(d, 1))
	}
}

func circle(c vec, r float64) sdf {
	return func(p vec) float64 { return math.Hypot(p.x-c.x, p.y-c.y) - r }
}

// ellipse is an approximate distance, exact enough for edges a pixel wide.
func ellipse(c vec, rx, ry float64) sdf {
	k := math.Min(rx, ry)
	return func(p vec) float64 {
		dx, dy := (p.x-c.x)/rx, (p.y-c.y)/ry
		return (math.Sqrt(dx*dx+dy*dy) - 1) * k
	}
}

// box is a rectangle of half sizes hx, hy with corner radius r, turned by
// angle radians about its centre.
func box(c vec, hx, hy, r, angle float64) sdf {
	sin, cos := math.Sincos(-angle)
	return func(p vec) float64 {
		x, y := p.x-c.x, p.y-c.y
		x, y = x*cos-y*sin, x*sin+y*cos
		qx, qy := math.Abs(x)-hx+r, math.Abs(y)-hy+r
		out := math.Hypot(math.Max(qx, 0), math.Max(qy, 0))
		return out + math.Min(math.Max(qx, qy), 0) - r
	}
}

// polygon is the convex polygon through pts, in clockwise order on screen.
func polygon(pts ...vec) sdf {
	return func(p vec) float64 {
		d := math.Inf(-1)
		for i, a := range pts {
			b := pts[(i+1)%len(pts)]
			ex, ey := b.x-a.x, b.y-a.y
			n := math.Hypot(ex, ey)
			// Distance to the edge's line, positive outside.
			d = math.Max(d, ((p.x-a.x)*ey-(p.y-a.y)*ex)/n)
		}
		return d
	}
}

func ring(c vec, r, w float64) sdf {
	return func(p vec) float64 { return math.Abs(math.Hypot(p.x-c.x, p.y-c.y)-r) - w }
}

// wave is a band of half width w around y = y0 + amp·sin(freq·x + phase),
// between x0 and x1.
func wave(y0, amp, freq, phase, w, x0, x1 float64) sdf {
	return func(p vec) float64 {
		d := math.Abs(p.y-y0-amp*math.Sin(freq*p.x+phase)) - w
		return math.Max(d, math.Max(x0-p.x, p.x-x1))
	}
}

func intersect(a, b sdf) sdf {
	return func(p vec) float64 { return math.Max(a(p), b(p)) }
}

func union(shapes ...sdf) sdf {
	return func(p vec) float64 {
		d := math.Inf(1)
		for _, s := range shapes {
			d = math.Min(d, s(p))
		}
		return d
	}
}

// render draws the layers over bg onto a w×h canvas. Each edge is
// antialiased from its distance: coverage falls from 1 to 0 across one
// pixel.
func render(w, h int, bg rgb, layers []layer) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	s := float64(min(w, h))
	px := 1 / s
	for y := range h {
		for x := range w {
			p := vec{(float64(x) + 0.5 - float64(w)/2) / s, (float64(y) + 0.5 - float64(h)/2) / s}
			c := bg
			for _, l := range layers {
				d := l.shape(p)
				if d >= px/2 {
					continue
				}
				cov := math.Min(1, 0.5-d/px)
				c = mix(c, l.fill(p), cov)
			}
			img.SetRGBA(x, y, color.RGBA{to8(c.r), to8(c.g), to8(c.b), 255})
		}
	}
	return img
}

func to8(v float64) uint8 {
	return uint8(math.Round(math.Max(0, math.Min(1, v)) * 255))
}
