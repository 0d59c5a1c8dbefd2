package smtptest

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func dial(t *testing.T, s *Server) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	return c, bufio.NewReader(c)
}

func startScript(t *testing.T, script string) *Server {
	t.Helper()
	s, err := Start(script)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{
		"repeat x S: 250",
		"repeat 3 C: EHLO",
		"forever C: QUIT",
		"forever R: \"\"",
		"forever",
		"R: not quoted",
		"drip 1s C: x",
		"frobnicate",
	} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted it", bad)
		}
	}
	steps, err := Parse("# comment\n\nS: 220 x\nC: EHLO a\nC:\nC*\nC~ MAIL\nR: \"250 ok\\n\"\ndrip 1ms S: 220\nsleep 1ms\nrepeat 2 S: 250-x\nrepeat 2 R: \"ab\"\nforever S: 250-x\nforever R: \"y\"\nclose\nhang\ntls\ndata\n")
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, st := range steps {
		ops = append(ops, st.op)
	}
	want := "send expect expect any prefix raw drip sleep repeat repeat forever forever close hang tls data"
	if got := strings.Join(ops, " "); got != want {
		t.Errorf("ops %q, want %q", got, want)
	}
}

func TestRepeat(t *testing.T) {
	s := startScript(t, "repeat 3 S: 250-x\nrepeat 4 R: \"ab\"\nS: 250 end\n")
	_, br := dial(t, s)
	got, err := br.ReadString('d')
	if err != nil {
		t.Fatal(err)
	}
	if want := "250-x\r\n250-x\r\n250-x\r\nabababab250 end"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// forever keeps sending until the client leaves, and the server still
// stops cleanly when the client never reads.
func TestForever(t *testing.T) {
	for _, tt := range []struct{ script, unit string }{
		{"S: 220 x\nforever S: 250-endless\n", "250-endless\r\n"},
		{"S: 220 x\nforever R: \"x\"\n", "x"},
	} {
		s := startScript(t, tt.script)
		c, br := dial(t, s)
		if l, _ := br.ReadString('\n'); l != "220 x\r\n" {
			t.Fatalf("banner %q", l)
		}
		buf := make([]byte, 1<<20)
		if _, err := io.ReadFull(br, buf); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(strings.Repeat(tt.unit, 1+len(buf)/len(tt.unit)), string(buf)) {
			t.Errorf("%q: the stream is not the unit repeated", tt.script)
		}
		c.Close()
		s.Close() // returns only when the writer has stopped
	}
	s := startScript(t, "forever S: 250-unread\n")
	dial(t, s)
	time.Sleep(50 * time.Millisecond) // let the socket buffers fill
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a client that does not read")
	}
}

// The dialogue steps record what the client sent, and a mismatch closes
// the connection.
func TestDialogue(t *testing.T) {
	s := startScript(t, "S: 220 x\nC: EHLO a\nS: 250 ok\nC~ MAIL\nS: 250 ok\nC: QUIT\nS: 221 bye\nclose\n")
	c, br := dial(t, s)
	for _, step := range []struct{ send, want string }{
		{"", "220 x\r\n"},
		{"EHLO a\r\n", "250 ok\r\n"},
		{"MAIL FROM:<>\r\n", "250 ok\r\n"},
		{"QUIT\r\n", "221 bye\r\n"},
	} {
		if step.send != "" {
			io.WriteString(c, step.send)
		}
		if l, err := br.ReadString('\n'); l != step.want {
			t.Fatalf("after %q got %q (%v), want %q", step.send, l, err, step.want)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after close: %v", err)
	}
	if got := s.Received(); got != "EHLO a\r\nMAIL FROM:<>\r\nQUIT\r\n" {
		t.Errorf("received %q", got)
	}
	if e := s.Errors(); len(e) != 0 {
		t.Errorf("errors %q", e)
	}

	s = startScript(t, "S: 220 x\nC: EHLO a\nS: 250 ok\n")
	c, br = dial(t, s)
	br.ReadString('\n')
	io.WriteString(c, "HELO a\r\n")
	if _, err := br.ReadString('\n'); err != io.EOF {
		t.Errorf("a mismatch did not close: %v", err)
	}
	if e := s.Errors(); len(e) != 1 || !strings.Contains(e[0], `"HELO a"`) {
		t.Errorf("errors %q", e)
	}
	if s.Conns() != 1 {
		t.Errorf("conns %d", s.Conns())
	}
}

// StartSeq gives each connection its own script, the last one to the rest.
func TestStartSeq(t *testing.T) {
	if _, err := StartSeq(); err == nil {
		t.Error("StartSeq without a script started")
	}
	if _, err := StartSeq("S: 220 a\n", "bogus"); err == nil || !strings.Contains(err.Error(), "script 2") {
		t.Errorf("a bad second script: %v", err)
	}
	s, err := StartSeq("S: 220 first\nclose\n", "S: 220 second\nclose\n", "S: 220 rest\nclose\n")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	for _, want := range []string{"first", "second", "rest", "rest"} {
		_, br := dial(t, s)
		if l, _ := br.ReadString('\n'); l != "220 "+want+"\r\n" {
			t.Errorf("got %q, want the %s script", l, want)
		}
	}
	if s.Conns() != 4 {
		t.Errorf("conns %d", s.Conns())
	}
}
