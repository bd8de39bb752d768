package main

import "math"

var (
	background = hex(0xF3ECE3)
	cream      = hex(0xFBF3E6)
	white      = hex(0xFFFDF8)
	mintGreen  = hex(0x5E9E4F)
)

// scenes are the nine demo products, by image slug.
var scenes = map[string]func() []layer{
	"waffle":       waffle,
	"creme-brulee": cremeBrulee,
	"macaron":      macarons,
	"tiramisu":     tiramisu,
	"baklava":      baklava,
	"meringue":     meringuePie,
	"cake":         redVelvet,
	"brownie":      brownie,
	"panna-cotta":  pannaCotta,
}

// turned draws s, defined around the origin, centred on c and turned by
// angle radians.
func turned(c vec, angle float64, s sdf) sdf {
	sin, cos := math.Sincos(-angle)
	return func(p vec) float64 {
		x, y := p.x-c.x, p.y-c.y
		return s(vec{x*cos - y*sin, x*sin + y*cos})
	}
}

// grain is a repeatable pseudo-random value in 0..1 for the cell of p on a
// grid of the given frequency.
func grain(p vec, freq float64) float64 {
	ix, iy := math.Floor(p.x*freq), math.Floor(p.y*freq)
	v := math.Sin(ix*127.1+iy*311.7) * 43758.5453
	return v - math.Floor(v)
}

// plate is a round plate with its shadow on the table.
func plate() []layer {
	return []layer{
		{circle(vec{0.025, 0.035}, 0.47), solid(background.scale(0.9))},
		{circle(vec{0, 0}, 0.465), shaded(white, vec{0, 0}, 0.465)},
		{ring(vec{0, 0}, 0.375, 0.004), solid(hex(0xE7DED3))},
	}
}

func leaf(c vec, angle float64) layer {
	return layer{turned(c, angle, ellipse(vec{}, 0.055, 0.025)), shaded(mintGreen, c, 0.05)}
}

func berry(c vec, r float64, col rgb) []layer {
	return []layer{
		{circle(c, r), shaded(col, c, r)},
		{circle(vec{c.x - r*0.35, c.y - r*0.35}, r*0.22), solid(mix(col, white, 0.6))},
	}
}

func waffle() []layer {
	l := plate()
	const angle = 0.2
	body := turned(vec{}, angle, box(vec{}, 0.27, 0.27, 0.05, 0))
	pits := turned(vec{}, angle, func(p vec) float64 {
		const cell = 0.09
		lx := math.Mod(p.x+10*cell+cell/2, cell) - cell/2
		ly := math.Mod(p.y+10*cell+cell/2, cell) - cell/2
		return math.Max(math.Abs(lx), math.Abs(ly)) - cell*0.3
	})
	l = append(l,
		layer{turned(vec{0.02, 0.025}, angle, box(vec{}, 0.27, 0.27, 0.05, 0)), solid(hex(0xE2D8CC))},
		layer{body, shaded(hex(0xDDA54F), vec{}, 0.3)},
		layer{intersect(pits, turned(vec{}, angle, box(vec{}, 0.24, 0.24, 0.03, 0))), shaded(hex(0xB0752C), vec{}, 0.3)},
		layer{turned(vec{0.16, -0.12}, 0.5, ellipse(vec{}, 0.07, 0.055)), shaded(hex(0xD3263A), vec{0.16, -0.12}, 0.07)},
		layer{turned(vec{0.05, -0.2}, -0.4, ellipse(vec{}, 0.065, 0.05)), shaded(hex(0xCF2237), vec{0.05, -0.2}, 0.065)},
	)
	for _, b := range []vec{{-0.12, 0.08}, {-0.04, 0.15}, {-0.16, 0.18}, {0.08, 0.1}, {-0.2, -0.05}} {
		l = append(l, berry(b, 0.04, hex(0x34457F))...)
	}
	return append(l, leaf(vec{0.2, -0.21}, 0.6), leaf(vec{0.25, -0.15}, -0.5))
}

func cremeBrulee() []layer {
	l := plate()
	caramel := hex(0xCF8B3B)
	l = append(l,
		layer{circle(vec{0.02, 0.03}, 0.36), solid(hex(0xE3DACE))},
		layer{circle(vec{}, 0.36), shaded(white, vec{}, 0.36)},
		layer{ring(vec{}, 0.335, 0.005), solid(hex(0xE5DDD2))},
		layer{circle(vec{}, 0.3), func(p vec) rgb {
			burnt := math.Sin(23*p.x)*math.Sin(19*p.y) + 0.6*math.Sin(41*p.x+17*p.y)
			c := shaded(caramel, vec{}, 0.3)(p)
			if burnt > 0.9 {
				c = mix(c, hex(0x7A4614), math.Min(1, (burnt-0.9)*2))
			}
			return c
		}},
	)
	for _, b := range []vec{{0.1, -0.1}, {0.14, -0.06}, {0.08, -0.05}, {0.13, -0.13}} {
		l = append(l, berry(b, 0.035, hex(0xC2185B))...)
	}
	return append(l, leaf(vec{0.03, -0.14}, -0.6), leaf(vec{0.04, -0.07}, 0.5))
}

func macarons() []layer {
	l := plate()
	colours := []rgb{hex(0xF3A5B8), hex(0xB3D69A), hex(0xC6B3E2), hex(0xF4DF7A), hex(0x8C5E3D)}
	spots := []vec{{-0.22, 0.12}, {0, 0.14}, {0.22, 0.12}, {-0.11, -0.07}, {0.11, -0.07}}
	for i, c := range spots {
		col := colours[i]
		l = append(l,
			layer{ellipse(vec{c.x + 0.015, c.y + 0.085}, 0.11, 0.03), solid(hex(0xE6DDD2))},
			layer{ellipse(vec{c.x, c.y + 0.04}, 0.105, 0.045), shaded(col.scale(0.92), c, 0.12)},
			layer{box(c, 0.09, 0.02, 0.015, 0), solid(mix(col, cream, 0.7))},
			layer{ellipse(vec{c.x, c.y - 0.04}, 0.105, 0.05), shaded(col, c, 0.12)},
		)
	}
	return l
}

// layered paints horizontal bands of the given colours, each bandH high,
// starting at y0; slope tilts them (for a side face seen at an angle).
func layered(y0, bandH, slope, x0 float64, colours ...rgb) paint {
	return func(p vec) rgb {
		i := int(math.Floor((p.y - y0 + slope*(p.x-x0)) / bandH))
		i = max(0, min(i, len(colours)-1))
		return colours[i]
	}
}

func tiramisu() []layer {
	l := plate()
	sponge, mascarpone, cocoa := hex(0x9A6843), hex(0xF1E2C8), hex(0x5A3827)
	bands := []rgb{cocoa, mascarpone, sponge, mascarpone, sponge, mascarpone, sponge}
	top := func(p vec) rgb {
		c := cocoa
		if grain(p, 160) > 0.7 {
			c = c.scale(0.8)
		}
		return c
	}
	l = append(l,
		layer{polygon(vec{-0.25, 0.25}, vec{-0.25, -0.1}, vec{-0.13, -0.21}, vec{0.37, -0.21}, vec{0.37, 0.14}, vec{0.25, 0.25}), solid(background.scale(0.98))},
		layer{box(vec{0, 0.075}, 0.25, 0.175, 0.004, 0), layered(-0.1, 0.05, 0, 0, bands...)},
		layer{polygon(vec{0.25, 0.25}, vec{0.25, -0.1}, vec{0.35, -0.2}, vec{0.35, 0.15}), func(p vec) rgb {
			return layered(-0.1, 0.05, 1, 0.25, bands...)(p).scale(0.82)
		}},
		layer{polygon(vec{-0.25, -0.1}, vec{-0.15, -0.2}, vec{0.35, -0.2}, vec{0.25, -0.1}), top},
		layer{turned(vec{0.05, -0.15}, 0.3, ellipse(vec{}, 0.03, 0.018)), solid(hex(0x3A2218))},
	)
	return l
}

func baklava() []layer {
	l := plate()
	gold := hex(0xD8A03F)
	for _, c := range []vec{{-0.2, -0.1}, {0, -0.1}, {0.2, -0.1}, {-0.1, 0.11}, {0.1, 0.11}} {
		l = append(l,
			layer{turned(vec{c.x + 0.015, c.y + 0.02}, math.Pi/4, box(vec{}, 0.075, 0.075, 0.01, 0)), solid(hex(0xE3D9CC))},
			layer{turned(c, math.Pi/4, box(vec{}, 0.075, 0.075, 0.01, 0)), func(p vec) rgb {
				k := 0.93 + 0.07*math.Sin((p.y-c.y)*260)
				return shaded(gold, c, 0.1)(p).scale(k)
			}},
			layer{circle(c, 0.03), shaded(hex(0x86B04D), c, 0.03)},
		)
		for i := range 4 {
			a := float64(i)*1.7 + c.x*10
			l = append(l, layer{circle(vec{c.x + 0.05*math.Cos(a), c.y + 0.05*math.Sin(a)}, 0.008), solid(hex(0x9CC25E))})
		}
	}
	return l
}

func meringuePie() []layer {
	l := plate()
	l = append(l,
		layer{polygon(vec{-0.3, 0.12}, vec{0.3, 0.12}, vec{0.28, 0.19}, vec{-0.28, 0.19}), shaded(hex(0xC88A48), vec{0, 0.15}, 0.3)},
		layer{box(vec{0, 0.05}, 0.285, 0.075, 0.01, 0), shaded(hex(0xF6D443), vec{0, 0.05}, 0.3)},
	)
	meringue := func(c vec, r float64) layer {
		return layer{circle(c, r), func(p vec) rgb {
			t := math.Max(0, (c.y-r*0.3-p.y)/r)
			return mix(shaded(white, c, r)(p), hex(0xD99A52), math.Min(0.8, t*1.4))
		}}
	}
	for i, x := range []float64{-0.22, -0.08, 0.06, 0.2} {
		l = append(l, meringue(vec{x, -0.03 - 0.02*float64(i%2)}, 0.09))
	}
	for i, x := range []float64{-0.15, 0, 0.14} {
		l = append(l, meringue(vec{x, -0.12 + 0.02*float64(i%2)}, 0.075))
	}
	return append(l,
		layer{circle(vec{0.27, 0.27}, 0.07), solid(hex(0xF2D23A))},
		layer{circle(vec{0.27, 0.27}, 0.055), func(p vec) rgb {
			a := math.Atan2(p.y-0.27, p.x-0.27)
			if math.Mod(a+4*math.Pi, math.Pi/4) < 0.08 {
				return hex(0xFBF0B8)
			}
			return hex(0xF8E36A)
		}},
	)
}

func redVelvet() []layer {
	l := plate()
	red, frosting := hex(0xA2262F), hex(0xFAF2E9)
	bands := []rgb{frosting, red, frosting, red, frosting, red}
	l = append(l,
		layer{box(vec{0.02, 0.07}, 0.26, 0.19, 0.01, 0), solid(hex(0xE2D8CC))},
		layer{box(vec{0, 0.05}, 0.26, 0.19, 0.01, 0), func(p vec) rgb {
			return layered(-0.14, 0.068, 0, 0, bands...)(p).scale(1 - 0.15*(p.x+0.26)/0.52)
		}},
		layer{ellipse(vec{0, -0.14}, 0.26, 0.035), solid(frosting)},
	)
	for i := range 7 {
		x := -0.2 + 0.065*float64(i)
		l = append(l, layer{circle(vec{x, -0.165 + 0.01*math.Sin(float64(i)*2)}, 0.014), shaded(red, vec{x, -0.17}, 0.015)})
	}
	return l
}

func brownie() []layer {
	l := plate()
	dark := hex(0x4A2D21)
	square := func(c vec, angle float64) []layer {
		return []layer{
			{turned(vec{c.x + 0.02, c.y + 0.025}, angle, box(vec{}, 0.2, 0.2, 0.025, 0)), solid(hex(0xDED3C6))},
			{turned(c, angle, box(vec{}, 0.2, 0.2, 0.025, 0)), func(p vec) rgb {
				col := shaded(dark, c, 0.25)(p)
				if g := grain(p, 70); g > 0.8 {
					col = mix(col, hex(0x6B4434), 0.5)
				}
				return col
			}},
		}
	}
	l = append(l, square(vec{-0.06, 0.06}, -0.15)...)
	l = append(l, square(vec{0.05, -0.05}, 0.12)...)
	caramel := hex(0xCB843C)
	for i := range 4 {
		y := -0.17 + 0.085*float64(i)
		l = append(l, layer{wave(y, 0.025, 28, float64(i), 0.009, -0.12, 0.22), shaded(caramel, vec{0.05, y}, 0.2)})
	}
	for i := range 12 {
		c := vec{-0.1 + 0.3*grain(vec{float64(i), 1}, 1), -0.2 + 0.3*grain(vec{1, float64(i)}, 1)}
		l = append(l, layer{turned(c, float64(i), box(vec{}, 0.008, 0.006, 0.001, 0)), solid(white)})
	}
	return l
}

func pannaCotta() []layer {
	l := plate()
	sauce := hex(0xB0143A)
	dome := union(box(vec{0, 0.08}, 0.2, 0.12, 0.05, 0), ellipse(vec{0, -0.03}, 0.2, 0.08))
	l = append(l,
		layer{ellipse(vec{0.02, 0.2}, 0.25, 0.05), solid(hex(0xE2D8CC))},
		layer{dome, func(p vec) rgb { return cream.scale(1.02 - 0.12*(p.x+0.2)/0.4) }},
		layer{ellipse(vec{0, -0.04}, 0.185, 0.065), shaded(sauce, vec{0, -0.04}, 0.18)},
	)
	for _, d := range []struct{ x, len float64 }{{-0.14, 0.07}, {-0.05, 0.11}, {0.06, 0.06}, {0.13, 0.09}} {
		l = append(l, layer{box(vec{d.x, 0.0 + d.len/2}, 0.018, d.len/2, 0.018, 0), shaded(sauce, vec{d.x, 0.02}, 0.05)})
	}
	l = append(l, berry(vec{-0.03, -0.07}, 0.035, hex(0xC2185B))...)
	l = append(l, berry(vec{0.04, -0.06}, 0.03, hex(0x34457F))...)
	return append(l, leaf(vec{0.05, -0.11}, -0.4))
}
