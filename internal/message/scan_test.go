package message

import (
	"strings"
	"testing"
)

// refScan is the byte-at-a-time scan dataScan replaced, kept as the
// reference: size, 8-bit bytes, 8-bit bytes before the first empty line,
// and the longest line without CR and LF.
func refScan(b []byte) (size int64, eightBit, utf8Headers bool, longest int) {
	inHeader, line := true, 0
	for _, c := range b {
		switch {
		case c >= 0x80:
			eightBit = true
			utf8Headers = utf8Headers || inHeader
			line++
		case c == '\r':
		case c == '\n':
			if line == 0 {
				inHeader = false
			}
			longest = max(longest, line)
			line = 0
		default:
			line++
		}
	}
	return int64(len(b)), eightBit, utf8Headers, max(longest, line)
}

// FuzzDataScan: dataScan agrees with the reference however the content is
// cut into buffers.
func FuzzDataScan(f *testing.F) {
	for _, s := range []string{"", "a", "Subject: ü\r\n\r\nx", "S: a\r\n\r\nü\r\n", "\r\n\r\n\xff", strings.Repeat("abcdefg\xe9", 9) + "\r\n", "\r\r\n\n"} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, in string, step uint8) {
		b := []byte(in)
		n := int(step)%17 + 1
		var s dataScan
		for i := 0; i < len(b); i += n {
			s.add(b[i:min(i+n, len(b))])
		}
		size, eb, uh, longest := refScan(b)
		got := [4]any{s.size, s.eightBit, s.utf8Headers, max(s.longest, s.line)}
		if want := [4]any{size, eb, uh, longest}; got != want {
			t.Fatalf("%q in pieces of %d: %v, want %v", in, n, got, want)
		}
	})
}
