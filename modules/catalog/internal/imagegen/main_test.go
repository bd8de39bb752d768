package main

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedPicturesAreDrawnByTheGenerator redraws every thumbnail (the
// larger sizes come from the same scenes) and compares it with the
// committed file. JPEG coding and floating point may differ a little
// between platforms, so the pixels are compared within a tolerance.
func TestCommittedPicturesAreDrawnByTheGenerator(t *testing.T) {
	if len(scenes) != 9 {
		t.Fatalf("%d scenes, want the nine demo products", len(scenes))
	}
	for _, slug := range slugs() {
		sz := sizes[0]
		b, err := encode(draw(slug, sz.w, sz.h))
		if err != nil {
			t.Fatal(err)
		}
		fresh, _ := jpeg.Decode(bytes.NewReader(b))
		f, err := os.ReadFile(filepath.Join("..", "..", "images", fileName(slug, sz.name)))
		if err != nil {
			t.Fatalf("%s: %v (run go run ./modules/catalog/internal/imagegen)", slug, err)
		}
		committed, err := jpeg.Decode(bytes.NewReader(f))
		if err != nil {
			t.Fatal(err)
		}
		if committed.Bounds() != fresh.Bounds() {
			t.Fatalf("%s: bounds %v, drawn %v", slug, committed.Bounds(), fresh.Bounds())
		}
		var diff, n float64
		bnd := fresh.Bounds()
		for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
			for x := bnd.Min.X; x < bnd.Max.X; x++ {
				r1, g1, b1, _ := fresh.At(x, y).RGBA()
				r2, g2, b2, _ := committed.At(x, y).RGBA()
				diff += absDiff(r1, r2) + absDiff(g1, g2) + absDiff(b1, b2)
				n += 3
			}
		}
		if mean := diff / n / 257; mean > 2 {
			t.Errorf("%s: the committed thumbnail differs from the drawing by %.1f levels on average; redraw the pictures", slug, mean)
		}
	}
}

func absDiff(a, b uint32) float64 {
	if a > b {
		return float64(a - b)
	}
	return float64(b - a)
}
