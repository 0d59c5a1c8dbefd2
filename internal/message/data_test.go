package message

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/session"
)

func TestDataNormalisation(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"Subject: x\r\n\r\nbody\r\n", "Subject: x\r\n\r\nbody\r\n"},
		{"Subject: x\n\nbody\n", "Subject: x\r\n\r\nbody\r\n"},
		{"Subject: x\r\rbody\r", "Subject: x\r\n\r\nbody\r\n"},
		{"Subject: x\n\nno final line end", "Subject: x\r\n\r\nno final line end\r\n"},
		{"a\r\n", "a\r\n"},
		{"a\n\r", "a\r\n\r\n"},
		{"a\r\r\n", "a\r\n\r\n"},
		{"\n", "\r\n"},
		{"\r", "\r\n"},
		{".\n..\n.x\n.", ".\r\n..\r\n.x\r\n.\r\n"},
		{"S: x\n\nline\n.\nafter the smuggled end\n", "S: x\r\n\r\nline\r\n.\r\nafter the smuggled end\r\n"},
	} {
		d := NewDataString(tc.in)
		got := readAll(t, d)
		if string(got) != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
		checkWire(t, d, got)
		// Open twice gives the same bytes.
		if again := readAll(t, d); !bytes.Equal(again, got) {
			t.Errorf("%q: second Open differs", tc.in)
		}
	}
}

// TestDataThroughDotWriter checks the handover to the session: the
// DotWriter finds nothing to terminate (the content already ends with
// CRLF) and stuffs the dots this package leaves alone.
func TestDataThroughDotWriter(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"S: x\n\n.hidden\n..two\nend", "S: x\r\n\r\n..hidden\r\n...two\r\nend\r\n"},
		{"S: x\r\n\r\nline\r\n.\r\nQUIT\r\n", "S: x\r\n\r\nline\r\n..\r\nQUIT\r\n"},
		{"S: x\n\nlf.\r\n.\rcr", "S: x\r\n\r\nlf.\r\n..\r\ncr\r\n"},
	} {
		d := NewDataString(tc.in)
		var wire bytes.Buffer
		dw := session.NewDotWriter(&wire)
		r, _ := d.Open()
		if _, err := io.Copy(dw, r); err != nil {
			t.Fatal(err)
		}
		before := wire.Len()
		dw.Close()
		if wire.Len() != before {
			t.Errorf("%q: DotWriter.Close added a line end", tc.in)
		}
		if wire.String() != tc.want {
			t.Errorf("%q: wire %q, want %q", tc.in, wire.String(), tc.want)
		}
	}
}

func TestDataEightBit(t *testing.T) {
	for _, tc := range []struct {
		in              string
		eight, utf8Hdrs bool
		longest         int
	}{
		{"Subject: plain\r\n\r\nbody\r\n", false, false, 14},
		{"Subject: Grüße\r\n\r\nbody\r\n", true, true, 16},
		{"Subject: plain\r\n\r\nGrüße\r\n", true, false, 14},
		{"Subject: plain\n\nGrüße\n", true, false, 14},
		{"no header end, ü", true, true, 17},
		{"\r\nempty header section, ü", true, false, 24},
		{"X: " + strings.Repeat("a", 1500) + "\n\nb\n", false, false, 1503},
	} {
		d := NewDataString(tc.in)
		if d.EightBit() != tc.eight || d.UTF8Headers() != tc.utf8Hdrs || d.LongestLine() != tc.longest {
			t.Errorf("%.30q: EightBit=%v UTF8Headers=%v LongestLine=%d, want %v %v %d",
				tc.in, d.EightBit(), d.UTF8Headers(), d.LongestLine(), tc.eight, tc.utf8Hdrs, tc.longest)
		}
	}
}

func TestReadData(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.eml")
	const msg = "Subject: x\n\n.line\n"
	const want = "Subject: x\r\n\r\n.line\r\n"
	os.WriteFile(p, []byte(msg), 0o644)

	check := func(name string, d *Data, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer d.Close()
		if got := readAll(t, d); string(got) != want || d.Size() != int64(len(want)) {
			t.Errorf("%s: got %q (Size %d)", name, got, d.Size())
		}
		if got := readAll(t, d); string(got) != want {
			t.Errorf("%s: second Open got %q", name, got)
		}
	}
	d, err := ReadData("@"+p, nil)
	check("@file", d, err)
	d, err = ReadData("-", strings.NewReader(msg))
	check("- from a reader", d, err)

	// stdin redirected from a file, already partly read: read in place
	// from the current offset.
	f, _ := os.Open(p)
	defer f.Close()
	os.WriteFile(p, []byte("ignored\n"+msg), 0o644)
	f.Seek(int64(len("ignored\n")), io.SeekStart)
	d, err = ReadData("@-", f)
	check("stdin file", d, err)
	if d.b.f != f || d.b.owned {
		t.Error("a regular stdin file was spooled instead of read in place")
	}

	// A pipe is spooled.
	pr, pw, _ := os.Pipe()
	go func() { pw.WriteString(msg); pw.Close() }()
	d, err = ReadData("-", pr)
	check("pipe", d, err)
	if !d.b.owned {
		t.Error("a pipe was not spooled")
	}
	pr.Close()

	for _, arg := range []string{"m.eml", "@", "Subject: literal"} {
		var ie *InputError
		if _, err := ReadData(arg, nil); !errors.As(err, &ie) || ie.Field != "Data" {
			t.Errorf("ReadData(%q) = %v, want a Data InputError", arg, err)
		}
	}
	if _, err := ReadData("@"+p+".missing", nil); err == nil {
		t.Error("missing file accepted")
	}
}

func TestDataFileChanged(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.eml")
	os.WriteFile(p, []byte("Subject: x\n\nbody\n"), 0o644)
	d, err := NewDataFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// Same length, different line ends: the normalised size changes.
	for _, content := range []string{"Subject: x\r\n\r\nbod", "Subject: x\n\nbody\nmore\n", "S\n"} {
		os.WriteFile(p, []byte(content), 0o644)
		r, _ := d.Open()
		n, err := io.Copy(io.Discard, r)
		r.Close()
		if !errors.Is(err, ErrChanged) || n > d.Size() {
			t.Errorf("%q: %d bytes of %d, %v; want ErrChanged", content, n, d.Size(), err)
		}
	}
}

// genReader yields n bytes of message text without holding them: lines of
// varying length with bare LF ends, leading dots and some UTF-8.
type genReader struct {
	n, off int64
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), g.n-g.off)]
	for i := range p {
		o := g.off + int64(i)
		switch {
		case o < 20:
			p[i] = "Subject: big\n\nbody\n"[o%19]
		case o%97 == 0:
			p[i] = '\n'
		case o%97 == 1:
			p[i] = '.'
		case o%1013 == 5:
			p[i] = 0xc3
		default:
			p[i] = 'a' + byte(o%26)
		}
	}
	g.off += int64(len(p))
	return len(p), nil
}

// heapWatch records the highest HeapInuse seen while data passes.
type heapWatch struct {
	peak  uint64
	since int
	n     int64
}

func (h *heapWatch) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.peak = max(h.peak, ms.HeapInuse)
}

func (h *heapWatch) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	if h.since += len(p); h.since >= 4<<20 {
		h.since = 0
		h.sample()
	}
	return len(p), nil
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestLargeStreamed sends 64 MiB through the spool and out again, and a
// 64 MiB attachment through Build and Open, checking that the heap does
// not grow with the message.
func TestLargeStreamed(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	const size = 64 << 20
	const budget = 8 << 20
	base := heapInuse()

	w := &heapWatch{}
	g := &genReader{n: size}
	d, err := NewDataReader(io.TeeReader(g, w))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !d.EightBit() || d.UTF8Headers() {
		t.Errorf("EightBit=%v UTF8Headers=%v", d.EightBit(), d.UTF8Headers())
	}
	r, _ := d.Open()
	if _, err := io.Copy(w, r); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if w.n != size+d.Size() {
		t.Errorf("streamed %d bytes, want %d in and %d out", w.n, size, d.Size())
	}
	t.Logf("--data 64 MiB: Size %d, peak HeapInuse %.1f MiB over a base of %.1f MiB", d.Size(), float64(w.peak-min(w.peak, base))/(1<<20), float64(base)/(1<<20))
	if w.peak > base+budget {
		t.Errorf("peak HeapInuse grew by %d bytes streaming --data, budget %d", w.peak-base, budget)
	}

	// A sparse 64 MiB file as an attachment.
	p := filepath.Join(t.TempDir(), "big.bin")
	f, _ := os.Create(p)
	f.Truncate(size)
	f.Close()
	base = heapInuse()
	o := defaultOptions()
	o.Attachments = []Attachment{{Path: p}}
	m := build(t, o)
	w = &heapWatch{}
	r, _ = m.Open()
	if _, err := io.Copy(w, r); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if w.n != m.Size() || m.Size() < size*4/3 {
		t.Errorf("attachment message: %d bytes, Size %d", w.n, m.Size())
	}
	t.Logf("--attach 64 MiB: Size %d, peak HeapInuse %.1f MiB over base", m.Size(), float64(w.peak-min(w.peak, base))/(1<<20))
	if w.peak > base+budget {
		t.Errorf("peak HeapInuse grew by %d bytes streaming an attachment, budget %d", w.peak-base, budget)
	}
}

// Lines over 998 octets are counted (issue 17), whatever the line ends
// and wherever the read buffers split them.
func TestDataLongLines(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		in   string
		long int
	}{
		{"Subject: x\r\n\r\n" + a(998) + "\r\n", 0},
		{"Subject: x\r\n\r\n" + a(999) + "\r\n", 1},
		{"X: " + a(1500) + "\n\n" + a(2000) + "\r" + a(10) + "\r\n" + a(5000), 3},
		{"Subject: x\n\n" + a(998) + "\n" + a(999), 1},
	} {
		if got := NewDataString(tc.in).LongLines(); got != tc.long {
			t.Errorf("%.40q: LongLines=%d, want %d", tc.in, got, tc.long)
		}
		for _, chunk := range []int{1, 7, 999, 1000} {
			var sc dataScan
			for b := []byte(tc.in); len(b) > 0; b = b[min(chunk, len(b)):] {
				sc.add(b[:min(chunk, len(b))])
			}
			sc.finish()
			if sc.long != tc.long {
				t.Errorf("%.40q in chunks of %d: %d long lines, want %d", tc.in, chunk, sc.long, tc.long)
			}
		}
	}
}
