package session

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// pipeSession is a client session whose peer collects every byte.
func pipeSession(t *testing.T) (*Session, func() string) {
	t.Helper()
	// TCP rather than net.Pipe, whose deadlines allocate timers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(&got, srv)
	}()
	s := NewClient(c, Options{})
	return s, func() string {
		s.Close()
		wg.Wait()
		return got.String()
	}
}

// A session carries one message after another with the same DotWriter and
// buffer: nothing of the previous message's state (a line left open, a CR
// waiting for its LF) leaks into the next.
func TestWriteDataReuse(t *testing.T) {
	s, done := pipeSession(t)
	for _, body := range []string{"a\r\n.b", ".c\r", "\nd\r\n", ""} {
		if _, err := s.WriteData(strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteBDAT(nil, strings.NewReader("xyz"), 3, true); err != nil {
		t.Fatal(err)
	}
	want := "a\r\n..b\r\n.\r\n" + "..c\r\n.\r\n" + "\r\nd\r\n.\r\n" + ".\r\n" + "BDAT 3 LAST\r\nxyz"
	if got := done(); got != want {
		t.Errorf("wire %q, want %q", got, want)
	}
}

// Once warmed up, sending a message on an open session without an
// observer allocates nothing in the session: no copy buffer, no
// DotWriter, no formatted event.
func TestWriteDataNoAllocs(t *testing.T) {
	s, done := pipeSession(t)
	defer done()
	r := strings.NewReader("")
	body := strings.Repeat("line of text\r\n.dotted\r\n", 40)
	n := testing.AllocsPerRun(50, func() {
		r.Reset(body)
		if _, err := s.WriteData(r); err != nil {
			t.Fatal(err)
		}
	})
	if n > 0 {
		t.Errorf("WriteData allocates %.1f times per message", n)
	}
}

// isEnhancedSplit is the split-based check IsEnhanced replaced.
func isEnhancedSplit(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] != "2" && parts[0] != "4" && parts[0] != "5" {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) < 1 || len(p) > 3 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

func FuzzIsEnhanced(f *testing.F) {
	for _, s := range []string{"2.0.0", "5.1.10", "4.7.1234", "3.0.0", "2..0", "2.0.", ".2.0.0", "2.0.0.0", "25.0.0", "5.x.1", "2.000.999", "5.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := IsEnhanced(s), isEnhancedSplit(s); got != want {
			t.Fatalf("IsEnhanced(%q) = %v, want %v", s, got, want)
		}
	})
}
