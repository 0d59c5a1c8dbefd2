package send

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/smtptest"
)

// turnProxy sits between client and server and counts server flights the
// client waited for: every time the server speaks after the client did.
// Each server flight is also delayed, as a distant server's would be, so a
// client that waits more often than it must is visibly slower.
type turnProxy struct {
	ln      net.Listener
	target  string
	delay   time.Duration
	mu      sync.Mutex
	last    int // 0 none, 1 client, 2 server
	flights int
	closed  chan struct{}
}

func newTurnProxy(t *testing.T, target string, delay time.Duration) *turnProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &turnProxy{ln: ln, target: target, delay: delay, closed: make(chan struct{})}
	t.Cleanup(func() { ln.Close() })
	go p.serve()
	return p
}

func (p *turnProxy) serve() {
	defer close(p.closed)
	c, err := p.ln.Accept()
	if err != nil {
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	done := make(chan struct{}, 2)
	pump := func(dst, src net.Conn, who int) {
		buf := make([]byte, 64*1024)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				p.mu.Lock()
				if who == 2 && p.last != 2 {
					p.flights++
				}
				p.last = who
				p.mu.Unlock()
				if who == 2 {
					time.Sleep(p.delay)
				}
				dst.Write(buf[:n])
			}
			if err != nil {
				if tc, ok := dst.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
				done <- struct{}{}
				return
			}
		}
	}
	go pump(s, c, 1)
	go pump(c, s, 2)
	<-done
	<-done
	c.Close()
	s.Close()
}

// count waits for the dialogue to end and returns the flights.
func (p *turnProxy) count() int {
	<-p.closed
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flights
}

// With PIPELINING the client waits for exactly: the banner, EHLO, the
// MAIL/RCPT/DATA group, and the end of data (QUIT rides with the dot). With
// CHUNKING as well: banner, EHLO, one group. Without either: one wait per
// command.
func TestRoundTrips(t *testing.T) {
	peer, err := smtptest.StartPeer(smtptest.PeerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	for _, tt := range []struct {
		name            string
		pipeline, chunk bool
		want            int
	}{
		{"pipelining", true, false, 4},
		{"pipelining+chunking", true, true, 3},
		{"neither", false, false, 8}, // banner EHLO MAIL RCPT RCPT DATA dot QUIT
	} {
		proxy := newTurnProxy(t, peer.Addr(), 20*time.Millisecond)
		o := opts(proxy.ln.Addr().String(), "b@test", "c@test")
		o.Pipeline, o.Chunking = tt.pipeline, tt.chunk
		tx := Deliver(context.Background(), o, o.Rcpts)
		if tx.Err != nil {
			t.Fatalf("%s: %v", tt.name, tx.Err)
		}
		if got := proxy.count(); got != tt.want {
			t.Errorf("%s: the client waited for %d server flights, want %d", tt.name, got, tt.want)
		}
	}
}
