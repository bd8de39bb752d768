package ordering

import (
	"encoding/hex"
	"strconv"
	"unicode/utf8"

	"github.com/google/uuid"

	"minikart/modules/catalog"
)

// MarshalJSON renders the order exactly as encoding/json renders its fields
// and tags, byte for byte (encode_test.go holds it to that), without
// reflection: an order's answer is encoded on every POST /api/order.
func (o Order) MarshalJSON() ([]byte, error) {
	return o.appendJSON(make([]byte, 0, 256+320*len(o.Products)+40*len(o.Items))), nil
}

func (o Order) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendUUID(b, o.ID)
	b = append(b, `,"items":`...)
	if o.Items == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, it := range o.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"productId":`...)
			b = appendString(b, it.ProductID)
			b = append(b, `,"quantity":`...)
			b = strconv.AppendInt(b, int64(it.Quantity), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"products":`...)
	if o.Products == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, p := range o.Products {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendProduct(b, p)
		}
		b = append(b, ']')
	}
	b = append(b, `,"total":`...)
	b = o.Total.Append(b)
	b = append(b, `,"discounts":`...)
	b = o.Discounts.Append(b)
	return append(b, '}')
}

func appendProduct(b []byte, p catalog.Product) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, p.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, p.Name)
	b = append(b, `,"price":`...)
	b = p.Price.Append(b)
	b = append(b, `,"category":`...)
	b = appendString(b, p.Category)
	b = append(b, `,"image":{"thumbnail":`...)
	b = appendString(b, p.Image.Thumbnail)
	b = append(b, `,"mobile":`...)
	b = appendString(b, p.Image.Mobile)
	b = append(b, `,"tablet":`...)
	b = appendString(b, p.Image.Tablet)
	b = append(b, `,"desktop":`...)
	b = appendString(b, p.Image.Desktop)
	return append(b, "}}"...)
}

// appendUUID appends id as a JSON string in its canonical form.
func appendUUID(b []byte, id uuid.UUID) []byte {
	var s [38]byte
	s[0], s[9], s[14], s[19], s[24], s[37] = '"', '-', '-', '-', '-', '"'
	hex.Encode(s[1:9], id[0:4])
	hex.Encode(s[10:14], id[4:6])
	hex.Encode(s[15:19], id[6:8])
	hex.Encode(s[20:24], id[8:10])
	hex.Encode(s[25:37], id[10:16])
	return append(b, s[:]...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as encoding/json quotes a string: HTML characters
// (<, >, &) and U+2028, U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
