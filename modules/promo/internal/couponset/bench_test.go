package couponset

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func benchSet(b *testing.B) *Set {
	dir := b.TempDir()
	common := "BIRTHDAY\nBUYGETON\nFIFTYOFF\nFREEZAAA\nGNULINUX\nHAPPYHRS\nOVER9000\nSIXTYOFF\nÄPFELSAFT\n"
	files := writeFiles(b, dir, common+"SUPER100\n", common+"MOODYHRS\n")
	set, _ := mustBuild(b, Options{Files: files})
	return set
}

func BenchmarkLookup(b *testing.B) {
	set := benchSet(b)
	for _, in := range []string{"BIRTHDAY", "  fiftyoff ", "ZZZZZZZZ", "OVER900000", "SHORT", "äpfelsaft"} {
		b.Run(strings.TrimSpace(in), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				set.Lookup(in)
			}
		})
	}
}

// benchLines returns n random A-Z0-9 lines of the given lengths.
func benchLines(n int, lens ...int) []byte {
	rng := rand.New(rand.NewPCG(1, 1))
	var sb strings.Builder
	for i := range n {
		l := lens[i%len(lens)]
		for range l {
			sb.WriteByte(alphabet[rng.IntN(36)])
		}
		sb.WriteByte('\n')
	}
	return []byte(sb.String())
}

func BenchmarkParse(b *testing.B) {
	for name, data := range map[string][]byte{
		"len8":    benchLines(1<<17, 8),
		"len10":   benchLines(1<<17, 10),
		"mixed":   benchLines(1<<17, 8, 9, 10),
		"crlf":    []byte(strings.ReplaceAll(string(benchLines(1<<17, 9)), "\n", "\r\n")),
		"spacey":  []byte(strings.ReplaceAll(string(benchLines(1<<17, 9)), "\n", " \n")),
		"lowered": []byte(strings.ToLower(string(benchLines(1<<17, 9)))),
	} {
		b.Run(name, func(b *testing.B) {
			defer func(m int) { bucketMaxBuf = m }(bucketMaxBuf)
			bucketMaxBuf = 64 << 20 // measure parsing, not spilling
			// One parser whose buckets have grown already: each loop
			// measures the parsing, not the buffers' growth.
			fp := &fileParser{}
			for l := range numLens {
				fp.buckets[l] = newBucket(packWidth[l], "")
			}
			parseAll := func() {
				for _, bk := range fp.buckets {
					bk.n = 0
				}
				for off := 0; off < len(data); off += readBuf {
					fp.finish(data[off+fp.parse(data[off:min(off+readBuf, len(data))]) : min(off+readBuf, len(data))])
				}
			}
			parseAll()
			lines := fp.lines
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				parseAll()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(lines), "ns/line")
		})
	}
}
