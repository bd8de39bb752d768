package log

import (
	"strconv"
	"unicode/utf8"
)

// MaxValueBytes bounds any value a client controls (a path, a method, a
// header, an error that quotes one) in a log line: enough to tell what was
// sent, too little for one request to write kilobytes of log.
const MaxValueBytes = 256

// Clip bounds a client-controlled value for a log line: a value up to
// MaxValueBytes is kept whole; a longer one keeps its first MaxValueBytes
// (cut on a character boundary) and says it was cut and how long it was,
// "…(cut, 65536 bytes)".
func Clip(s string) string {
	if len(s) <= MaxValueBytes {
		return s
	}
	cut := MaxValueBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(cut, " + strconv.Itoa(len(s)) + " bytes)"
}

// ClipErr is Clip over err's message, for an error whose chain may quote
// what a client sent; nil stays empty.
func ClipErr(err error) string {
	if err == nil {
		return ""
	}
	return Clip(err.Error())
}
