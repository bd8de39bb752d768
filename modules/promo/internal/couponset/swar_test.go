package couponset

import (
	"math/rand/v2"
	"testing"
)

func TestPack8(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		got, gok := pack8(b)
		want, wok := pack(b)
		if gok != wok || (gok && got != want) {
			t.Fatalf("pack8(%q) = %d, %t; pack = %d, %t", b, got, gok, want, wok)
		}
	}
	// Every byte value in every position, the other bytes valid.
	for pos := range 8 {
		for c := range 256 {
			b := []byte("A0zZ9aB1")
			b[pos] = byte(c)
			check(b)
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	const chars = "09AZaz@[`{/:\x7f\x80\xff"
	for range 100000 {
		b := make([]byte, 8)
		for i := range b {
			b[i] = chars[rng.IntN(len(chars))]
		}
		check(b)
	}
	check([]byte("ZZZZZZZZ"))
	check([]byte("zzzzzzzz"))
	check([]byte("00000000"))
}
