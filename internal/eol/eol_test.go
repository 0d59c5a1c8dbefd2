package eol

import (
	"bytes"
	"strings"
	"testing"
)

// Next agrees with bytes.IndexAny at every offset, for every mix of line
// ends.
func TestFinder(t *testing.T) {
	for _, s := range []string{"", "abc", "a\rb\rc", "a\nb\nc\n", "\r\n\r\n", "a\r\nb\nc\rd", "\n\r", strings.Repeat("x\r", 50) + "y\n"} {
		b := []byte(s)
		f := NewFinder(b)
		for off := 0; off < len(b); off++ {
			want := bytes.IndexAny(b[off:], "\r\n")
			if want >= 0 {
				want += off
			}
			if got := f.Next(off); got != want {
				t.Fatalf("%q at %d: %d, want %d", s, off, got, want)
			}
		}
	}
}
