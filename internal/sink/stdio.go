package sink

import (
	"context"
	"net"
)

// StopClosed is the stop reason of ServeConn when its one client is done.
const StopClosed = "closed"

// ServeConn serves the one client on nc, a connection already open (sink
// --stdio: stdin and stdout, handed over by inetd or by a client's
// --pipe), and returns once that client is done, or as Serve does when it
// is stopped first. Listen is not called; the limits, storage and
// shutdown rules are Serve's.
func (s *Sink) ServeConn(ctx context.Context, nc net.Conn) Result {
	c := newConn(s, nc, int(s.connSeq.Add(1)))
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		s.handle(c)
		s.stop(StopClosed)
	}()
	return s.run(ctx)
}
