package verifytest

import (
	"bufio"
	"bytes"
	"net"
	"sync"
	"sync/atomic"
)

// Instant is a verify peer that answers at once, for benchmarks and the
// tests of bulk runs in the hundreds of thousands: no rules, no logging,
// replies to a PIPELINING group written in one go. RCPT TO a local part
// starting with "ok" is accepted, any other refused (550 5.1.1), so a
// catch-all probe (a random local part) is refused nearly always.
type Instant struct {
	ln       net.Listener
	wg       sync.WaitGroup
	sessions atomic.Int64
	rcpts    atomic.Int64
	mu       sync.Mutex
	conns    map[net.Conn]bool
}

// StartInstant listens on 127.0.0.1 on a free port.
func StartInstant() (*Instant, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Instant{ln: ln, conns: map[net.Conn]bool{}}
	s.wg.Go(s.accept)
	return s, nil
}

// Addr is the server's address, 127.0.0.1:PORT.
func (s *Instant) Addr() string { return s.ln.Addr().String() }

// Sessions counts the connections accepted.
func (s *Instant) Sessions() int { return int(s.sessions.Load()) }

// Rcpts counts the RCPT commands answered.
func (s *Instant) Rcpts() int { return int(s.rcpts.Load()) }

// Close stops the server and its connections.
func (s *Instant) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Instant) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.sessions.Add(1)
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Go(func() {
			s.serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		})
	}
}

var (
	banner   = []byte("220 instant.test ESMTP\r\n")
	ehlo     = []byte("250-instant.test\r\n250-PIPELINING\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n")
	ok       = []byte("250 2.0.0 ok\r\n")
	refused  = []byte("550 5.1.1 no such user\r\n")
	bye      = []byte("221 2.0.0 bye\r\n")
	unknown  = []byte("500 5.5.2 unknown command\r\n")
	rcptTo   = []byte("RCPT TO:<")
	acceptPf = []byte("ok")
)

func (s *Instant) serve(c net.Conn) {
	r := bufio.NewReaderSize(c, 4096)
	w := bufio.NewWriterSize(c, 4096)
	w.Write(banner)
	if w.Flush() != nil {
		return
	}
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		switch {
		case len(line) >= 4 && (bytes.EqualFold(line[:4], []byte("EHLO")) || bytes.EqualFold(line[:4], []byte("HELO"))):
			w.Write(ehlo)
		case len(line) >= len(rcptTo) && bytes.EqualFold(line[:len(rcptTo)], rcptTo):
			s.rcpts.Add(1)
			if bytes.HasPrefix(bytes.ToLower(line[len(rcptTo):]), acceptPf) {
				w.Write(ok)
			} else {
				w.Write(refused)
			}
		case len(line) >= 4 && (bytes.EqualFold(line[:4], []byte("MAIL")) || bytes.EqualFold(line[:4], []byte("RSET")) ||
			bytes.EqualFold(line[:4], []byte("NOOP"))):
			w.Write(ok)
		case len(line) >= 4 && bytes.EqualFold(line[:4], []byte("QUIT")):
			w.Write(bye)
			w.Flush()
			return
		default:
			w.Write(unknown)
		}
		// Answer a pipelined group in one write, once nothing more waits.
		if r.Buffered() == 0 && w.Flush() != nil {
			return
		}
	}
}
