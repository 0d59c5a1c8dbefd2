package session

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

func stuff(in string, chunks int) string {
	var b bytes.Buffer
	d := NewDotWriter(&b)
	// Write in pieces to exercise state carried across calls (a CR at the
	// end of one write and its LF at the start of the next).
	step := len(in)/chunks + 1
	for i := 0; i < len(in); i += step {
		j := i + step
		if j > len(in) {
			j = len(in)
		}
		d.Write([]byte(in[i:j]))
	}
	d.Close()
	return b.String()
}

func TestDotWriter(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"a":                      "a\r\n",
		"a\r\n":                  "a\r\n",
		".":                      "..\r\n",
		"a\n.b\r.c\r\n.\r\n":     "a\r\n..b\r\n..c\r\n..\r\n",
		"x\r\n.\r\nMAIL FROM:<>": "x\r\n..\r\nMAIL FROM:<>\r\n",
		"a\n\n.\n":               "a\r\n\r\n..\r\n",
		"a\r\r\nb":               "a\r\n\r\nb\r\n",
		"mid.dot .x":             "mid.dot .x\r\n",
	} {
		for _, chunks := range []int{1, 2, 3, 7, 100} {
			if got := stuff(in, chunks); got != want {
				t.Errorf("%q in %d pieces: %q, want %q", in, chunks, got, want)
			}
		}
	}
}

// unstuff reverses dot-stuffing of CRLF content.
func unstuff(s string) string {
	lines := strings.Split(s, "\r\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, ".")
	}
	return strings.Join(lines, "\r\n")
}

func normalise(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.ReplaceAll(s, "\n", "\r\n")
	if s != "" && !strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	return s
}

func FuzzDotStuff(f *testing.F) {
	for _, s := range []string{"", ".", "a\n.\r\n", "\r.\r", "x\n.\nQUIT\r\n", "\r\n.\r\n", "..", "a\rb\nc"} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, in string, chunks uint8) {
		out := stuff(in, int(chunks%16)+1)
		// Unstuffing gives back the CRLF-normalised input.
		if got := unstuff(out); got != normalise(in) {
			t.Fatalf("unstuff(stuff(%q)) = %q, want %q", in, got, normalise(in))
		}
		// No end-of-data sequence and no bare CR or LF can appear.
		framed := "\r\n" + out
		for _, bad := range []string{"\r\n.\r\n", "\n.\r\n", "\r.\r"} {
			if strings.Contains(framed, bad) {
				t.Fatalf("output of %q contains %q", in, bad)
			}
		}
		for i := 0; i < len(out); i++ {
			if out[i] == '\r' && (i+1 == len(out) || out[i+1] != '\n') {
				t.Fatalf("bare CR in %q", out)
			}
			if out[i] == '\n' && (i == 0 || out[i-1] != '\r') {
				t.Fatalf("bare LF in %q", out)
			}
		}
	})
}

func BenchmarkDotWriter(b *testing.B) {
	line := strings.Repeat("x", 75) + "\n.dotted line\r\n"
	chunk := []byte(strings.Repeat(line, 32*1024/len(line)))
	d := NewDotWriter(io.Discard)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d.Write(chunk)
	}
}

func BenchmarkReadReply(b *testing.B) {
	reply := "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
	r := strings.NewReader("")
	rr := &ReplyReader{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Reset(reply)
		rr.R = bufioReader(r)
		if _, _, err := rr.ReadReply(); err != nil {
			b.Fatal(err)
		}
	}
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, 4096) }
