package message

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// refScan is a byte-at-a-time scan of content with CRLF line ends, the
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

// normalised is the content as Open yields it, through the line-end
// normaliser Open uses (FuzzData checks that one against a replacer).
func normalised(t *testing.T, in []byte) []byte {
	out, err := io.ReadAll(newCRLFReader(io.NopCloser(bytes.NewReader(in)), int64(len(in)), true))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzDataScan: dataScan, reading the raw input, agrees with the reference
// scan of the normalised content however the input is cut into buffers.
func FuzzDataScan(f *testing.F) {
	for _, s := range []string{"", "a", "Subject: ü\r\n\r\nx", "S: a\r\n\r\nü\r\n", "\r\n\r\n\xff", strings.Repeat("abcdefg\xe9", 9) + "\r\n",
		"\r\r\n\n", "a\rb\nc\r\n", "S: a\n\nbody\r", "S: a\r\rü", "\n\n\xff\r", "x\r"} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, in string, step uint8) {
		b := []byte(in)
		n := int(step)%17 + 1
		var s dataScan
		for i := 0; i < len(b); i += n {
			s.add(b[i:min(i+n, len(b))])
		}
		s.finish()
		size, eb, uh, longest := refScan(normalised(t, b))
		got := [4]any{s.size, s.eightBit, s.utf8Headers, s.longest}
		if want := [4]any{size, eb, uh, longest}; got != want {
			t.Fatalf("%q in pieces of %d: %v, want %v", in, n, got, want)
		}
	})
}

// The scan notices a file that is not the size it was measured at, and a
// spooled pipe scans to the same size as the same content in memory.
func TestDataScanFileChanged(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.eml")
	content := "Subject: x\r\n\r\n" + strings.Repeat("line\r\n", 100)
	os.WriteFile(p, []byte(content), 0o644)
	d, err := NewDataFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := NewDataString(content).Size()
	if d.Size() != want {
		t.Errorf("file: Size %d, want %d", d.Size(), want)
	}
	// Standard input from a pipe is spooled, then scanned from the spool
	// file.
	sp, err := NewDataReader(struct{ io.Reader }{strings.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if sp.b.f == nil || sp.Size() != want {
		t.Errorf("spooled (%v): Size %d, want %d", sp.b.f != nil, sp.Size(), want)
	}
	for _, n := range []int64{int64(len(content)) - 5, int64(len(content)) + 5} {
		if _, err := scan(&blob{path: p, n: n, label: p}); !errors.Is(err, ErrChanged) {
			t.Errorf("measured %d, is %d: %v, want ErrChanged", n, len(content), err)
		}
	}
}
