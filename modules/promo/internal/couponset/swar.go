package couponset

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
