package catalog

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/goccy/go-yaml"
)

// exportItem is a product as export writes it, in the import format.
type exportItem struct {
	ID       int64   `json:"id" yaml:"id"`
	Name     string  `json:"name" yaml:"name"`
	Category string  `json:"category" yaml:"category"`
	Price    decimal `json:"price" yaml:"price"`
	// Image is a built-in picture name or one reference for every size
	// (a string), or the four sizes (exportImage).
	Image any `json:"image" yaml:"image"`
}

type exportImage struct {
	Thumbnail string `json:"thumbnail" yaml:"thumbnail"`
	Mobile    string `json:"mobile" yaml:"mobile"`
	Tablet    string `json:"tablet" yaml:"tablet"`
	Desktop   string `json:"desktop" yaml:"desktop"`
}

// decimal is a price written as a bare number with two decimals.
type decimal string

// MarshalJSON writes the number unquoted.
func (d decimal) MarshalJSON() ([]byte, error) { return []byte(d), nil }

// MarshalYAML writes the number unquoted.
func (d decimal) MarshalYAML() ([]byte, error) { return []byte(d), nil }

// imageValue is what export writes for an item's pictures: the slug, one
// reference when every size has the same, else the four.
func imageValue(it menuItem) any {
	if it.Slug != "" {
		return it.Slug
	}
	s := it.Refs.sizes()
	if s[0] == s[1] && s[1] == s[2] && s[2] == s[3] {
		return s[0]
	}
	return exportImage{s[0], s[1], s[2], s[3]}
}

// writeMenu writes items in format; reading the result back with readMenu
// gives the same items.
func writeMenu(w io.Writer, format menuFormat, items []menuItem) error {
	if format == formatCSV {
		cw := csv.NewWriter(w)
		if err := cw.Write(csvColumns); err != nil {
			return err
		}
		for _, it := range items {
			rec := []string{strconv.FormatInt(it.ID, 10), it.Name, it.Category, price(it.Price), "", "", "", "", ""}
			switch v := imageValue(it).(type) {
			case string:
				rec[4] = v
			case exportImage:
				rec[5], rec[6], rec[7], rec[8] = v.Thumbnail, v.Mobile, v.Tablet, v.Desktop
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	doc := struct {
		Products []exportItem `json:"products" yaml:"products"`
	}{Products: make([]exportItem, len(items))}
	for i, it := range items {
		doc.Products[i] = exportItem{ID: it.ID, Name: it.Name, Category: it.Category, Price: decimal(price(it.Price)), Image: imageValue(it)}
	}
	var out []byte
	var err error
	if format == formatJSON {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(doc)
		out = buf.Bytes()
	} else {
		out, err = yaml.Marshal(doc)
	}
	if err != nil {
		return fmt.Errorf("encode menu: %w", err)
	}
	_, err = w.Write(out)
	return err
}
