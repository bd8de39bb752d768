// Package couponset computes and serves the set of valid promo coupon codes.
//
// A code is valid when, after trimming surrounding white space and
// upper-casing, it is 8 to 10 runes long and equals a whole line of at least
// MinFiles different gzip-compressed coupon files. Lines are normalised the
// same way; blank lines and lines whose trimmed text starts with '#' are
// ignored, CRLF line endings are tolerated, and a code repeated inside one
// file counts once for that file. Upper-casing is unicode.ToUpper applied
// rune by rune (as strings.ToUpper does); bytes that are not valid UTF-8 read
// as U+FFFD.
//
// The build streams every file once (stage.go says in which order); with
// Options.Workers set, each read and each parse holds one of that many
// tokens, so the files share those processors evenly. A file reads and
// parses in turn while the files keep every processor busy; once fewer are
// left than processors (the last trailing file), its reads go on ahead of
// its parsing, on a goroutine of their own. On x86-64 with AVX, lines are parsed by the kernel
// in internal/vecparse (the newlines of 64 bytes are found at once, so a bit
// scan gives each line's end; two compares validate a line's 16 bytes, two
// multiply-adds give the base-36 value); elsewhere
// a portable parser does the same eight bytes at a time. Codes made only
// of A–Z and 0–9 are packed into a base-36 integer and kept apart by length,
// so "OVER9000" and "OVER900000" can never collide; other codes take an exact
// string path. Packed codes go to per-(file, length) buckets that spill to
// temporary files, so memory does not grow with the input (and stage.go
// keeps most of them from being written at all: the k-MinFiles+1 largest
// files lead, the others are checked against the leading files' codes as
// they are parsed, and a leading bucket of a length no other leading file
// has is dropped, the file read again should it be needed); where the file
// system allows, whole aligned blocks are written and read back past the
// page cache (O_DIRECT), since a spill is read at most once. The join then
// works length by length: a length present in fewer than MinFiles files is
// dropped unread, its spills removed in the background while the join goes
// on (removing a file can cost as much as writing it); otherwise the buckets are ordered by size, the
// k-MinFiles+1 smallest are loaded (a valid code must be in at least one of
// them) and the larger ones are streamed against them, their stored bytes
// probed in one pass. If the loaded union would exceed the memory budget,
// the join runs in several hash-partitioned rounds.
//
// The resulting Set is immutable and can be persisted to an index file keyed
// by a fingerprint of the input files, so a restart loads it in milliseconds
// instead of decompressing gigabytes: the index holds the Set's hash table
// as is, 8-byte aligned, and a warm start maps the file read-only, checks
// its CRC-32C checksums (chunks in parallel) and uses the table in place.
package couponset
