package couponset

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// parsedCodes runs the parser over data, split into chunks of the given size
// to exercise lines straddling reads, and returns the normalised codes.
func parsedCodes(t *testing.T, data []byte, chunk int) []string {
	fp := &fileParser{}
	for l := range numLens {
		// Fuzz inputs stay far below bucketMaxBuf, so nothing spills and no
		// temporary directory is needed per execution.
		fp.buckets[l] = newBucket(packWidth[l], filepath.Join(os.TempDir(), "couponset-fuzz-unused"))
	}
	var buf []byte
	for len(data) > 0 {
		n := min(chunk, len(data))
		buf = append(buf, data[:n]...)
		data = data[n:]
		used := fp.parse(buf)
		buf = buf[used:]
	}
	fp.finish(buf)
	set := map[string]bool{}
	for l, b := range fp.buckets {
		if err := b.finish(); err != nil {
			t.Fatal(err)
		}
		b.read(0, b.count, make([]uint64, 64), nil, roundFilter{}, func(vs []uint64) error {
			for _, v := range vs {
				set[unpack(v, MinLen+l)] = true
			}
			return nil
		})
		b.release()
	}
	for s := range fp.other {
		set[s] = true
	}
	out := []string{}
	for s := range set {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

var fuzzSeeds = []string{
	"BIRTHDAY\nOVER9000\n",
	"birthday\r\nOVER900000\r\n",
	"  GNULINUX \n#COMMENT1\n\n",
	"SEVENCH\nELEVENCHARS\n1234567890",
	"äpfelsaft\nCAFÉCAFÉ\nABC-DEF-GH\n",
	"bırthday\nſſſſſſſſ\n\xff\xfe\xfdABCDEF\n",
	"ABCDEFGH\rX\nABCDEFGH\r\r\n",
	"\t\v\f\u00a0ABCDEFGH\u3000\n",
}

// FuzzParse checks the parser, fast path and slow path, against the
// reference normalisation on arbitrary file content.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), 7)
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		chunk = 1 + (chunk&0xffff)%64
		got := parsedCodes(t, data, chunk)
		want := reference([]string{string(data)}, 1)
		if !slices.Equal(got, want) {
			t.Fatalf("parse(%q):\n got %q\nwant %q", data, got, want)
		}
	})
}

// FuzzLookup checks that a line present in two files is found by Lookup with
// the same text, and that Lookup agrees with the reference on the length.
func FuzzLookup(f *testing.F) {
	for _, s := range fuzzSeeds {
		for line := range strings.SplitSeq(s, "\n") {
			f.Add(line, strings.ToLower(line))
		}
	}
	f.Fuzz(func(t *testing.T, line, probe string) {
		if strings.ContainsRune(line, '\n') {
			return
		}
		content := []byte(line + "\n")
		c := parsedCodes(t, content, 1<<20)
		var keys []uint64
		var other []string
		for _, s := range c {
			if v, ok := pack(s); ok && len(s) >= MinLen && len(s) <= MaxLen {
				keys = append(keys, tagKey(v, len(s)))
			} else {
				other = append(other, s)
			}
		}
		set := newSet(keys, other)
		norm, lenOK := NormalizeCode(line)
		isLine := strings.TrimSpace(line) != "" && !strings.HasPrefix(strings.TrimSpace(line), "#")
		want := InvalidLength
		if lenOK {
			want = NotFound
			if isLine {
				want = Valid
			}
		}
		if got := set.Lookup(line); got != want {
			t.Fatalf("Lookup(%q) = %v, want %v (normalised %q)", line, got, want, norm)
		}
		pnorm, plenOK := NormalizeCode(probe)
		pwant := InvalidLength
		if plenOK {
			pwant = NotFound
			if isLine && lenOK && pnorm == norm {
				pwant = Valid
			}
		}
		if got := set.Lookup(probe); got != pwant {
			t.Fatalf("line %q: Lookup(%q) = %v, want %v", line, probe, got, pwant)
		}
		if lenOK && utf8.RuneCountInString(norm) != utf8.RuneCountInString(strings.TrimSpace(line)) {
			t.Fatalf("normalisation changed the rune count of %q", line)
		}
	})
}

func TestPackRoundTrip(t *testing.T) {
	for _, s := range []string{"00000000", "ZZZZZZZZZZ", "OVER9000", "OVER900000", "0OVER9000", "A0000000"} {
		v, ok := pack(s)
		if !ok {
			t.Fatalf("pack(%q) failed", s)
		}
		if got := unpack(v, len(s)); got != s {
			t.Errorf("unpack(pack(%q)) = %q", s, got)
		}
		if v2, _ := pack([]byte(s)); v2 != v {
			t.Errorf("pack of a string and of its bytes disagree on %q", s)
		}
	}
	a, _ := pack("OVER9000")
	b, _ := pack("00OVER9000")
	if a != b {
		t.Fatal("test premise: leading zeros give the same packed value")
	}
	if tagKey(a, 8) == tagKey(b, 10) {
		t.Error("tagged keys of different lengths collide")
	}
}

func FuzzTrimSpace(f *testing.F) {
	for _, s := range []string{"", " a ", "\u00a0ä\u3000", "\xff \xc3", "\t\n\v\f\r", "\u0085x\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := trimSpace(s), strings.TrimSpace(s); got != want {
			t.Fatalf("trimSpace(%q) = %q, want %q", s, got, want)
		}
	})
}
