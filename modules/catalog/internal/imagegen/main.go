// Command imagegen draws the pictures of the nine demo products, in every
// size the contract's image object names, as the JPEG files the catalog
// module embeds and serves:
//
//	go run ./modules/catalog/internal/imagegen [-out modules/catalog/images]
//
// The pictures are the project's own, drawn from shapes in scenes.go, so
// they can be changed and redrawn without any outside asset.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
)

// sizes are the canvases front ends lay the pictures out for.
var sizes = []struct {
	name string
	w, h int
}{
	{"thumbnail", 112, 112},
	{"mobile", 654, 424},
	{"tablet", 427, 424},
	{"desktop", 502, 480},
}

// quality keeps all 36 files well under the catalogue's 1 MiB budget.
const quality = 80

func main() {
	out := flag.String("out", "modules/catalog/images", "directory to write image-<slug>-<size>.jpg into")
	flag.Parse()
	if err := writeAll(*out); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func writeAll(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	total := 0
	for _, slug := range slugs() {
		for _, sz := range sizes {
			b, err := encode(draw(slug, sz.w, sz.h))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, fileName(slug, sz.name)), b, 0o644); err != nil {
				return err
			}
			total += len(b)
		}
	}
	fmt.Printf("wrote %d images, %d bytes, to %s\n", len(scenes)*len(sizes), total, dir)
	return nil
}

func slugs() []string {
	out := make([]string, 0, len(scenes))
	for s := range scenes {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func fileName(slug, size string) string { return "image-" + slug + "-" + size + ".jpg" }

func draw(slug string, w, h int) image.Image { return render(w, h, background, scenes[slug]()) }

func encode(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
