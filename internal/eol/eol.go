// Package eol finds line ends fast. The session's DotWriter and the
// message package's CRLF normaliser both walk content looking for CR and
// LF; this is the one scanner they share.
package eol

import "bytes"

// Finder finds the next CR or LF in a buffer with IndexByte, which is
// vectorised, where bytes.IndexAny walks a two-byte set one byte at a
// time. The next position of each kind is kept until passed, so every byte
// is scanned at most once per kind whatever the mix of line ends (a buffer
// of bare CRs does not rescan for an LF at each line).
type Finder struct {
	buf    []byte
	cr, lf int // next CR / LF at or after the last query; -1: none left; -2: not searched yet
}

// NewFinder returns a Finder over b.
func NewFinder(b []byte) Finder { return Finder{buf: b, cr: -2, lf: -2} }

// Next returns the index of the first CR or LF at or after off, or -1.
// Successive calls must not go back (off never decreases).
func (f *Finder) Next(off int) int {
	if f.lf != -1 && f.lf < off {
		f.lf = indexFrom(f.buf, off, '\n')
	}
	if f.cr != -1 && f.cr < off {
		f.cr = indexFrom(f.buf, off, '\r')
	}
	switch {
	case f.lf < 0:
		return f.cr
	case f.cr < 0:
		return f.lf
	}
	return min(f.lf, f.cr)
}

func indexFrom(b []byte, off int, c byte) int {
	if i := bytes.IndexByte(b[off:], c); i >= 0 {
		return off + i
	}
	return -1
}
