package couponset

import "encoding/binary"

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// inRange sets the high bit of every byte of x within [lo, hi]; every byte
// of x must be below 0x80 so the additions cannot carry between bytes.
func inRange(x uint64, lo, hi byte) uint64 {
	ge := x + ones*uint64(0x80-lo)
	gt := x + ones*uint64(0x7f-hi)
	return ge &^ gt & highs
}

// pack8 is pack for the first 8 bytes of b, all eight at once (SWAR): fold
// lower case, check every byte is 0-9 or A-Z, turn the bytes into digits and
// combine them pairwise in base 36. It replaces sixteen dependent loads per
// line with one.
func pack8(b []byte) (uint64, bool) {
	x := binary.LittleEndian.Uint64(b)
	if x&highs != 0 {
		return 0, false
	}
	// Bytes from 0x40 up lose bit 0x20: 'a'-'z' become 'A'-'Z'.
	fold := x &^ ((x & (highs >> 1)) >> 1)
	letters := inRange(fold, 'A', 'Z')
	if inRange(fold, '0', '9')|letters != highs {
		return 0, false
	}
	d := fold - ones*'0' - (letters>>7)*7
	// The first character is the lowest byte and the most significant digit.
	p := (d&0x00ff00ff00ff00ff)*36 + (d>>8)&0x00ff00ff00ff00ff
	q := (p&0x0000ffff0000ffff)*1296 + (p>>16)&0x0000ffff0000ffff
	return (q&0xffffffff)*1679616 + q>>32, true
}
