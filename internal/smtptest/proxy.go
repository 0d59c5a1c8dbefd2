package smtptest

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy sits between a client and a server and, for each connection,
// counts the server flights the client waited for (every time the server
// speaks after the client did) and the messages begun (MAIL commands). It
// can delay each server flight, as a distant server would, and cut a
// connection in the middle of the content of its cutAt-th message.
type Proxy struct {
	ln     net.Listener
	target string
	// Delay holds back each server flight.
	Delay time.Duration
	// CutAt cuts each connection in its CutAt-th message; 0: never.
	CutAt int
	// Marker is where, in a message's content, the cut falls.
	Marker []byte

	mu    sync.Mutex
	conns []*proxyConn
	wg    sync.WaitGroup
}

type proxyConn struct {
	flights int
	mails   int
	cut     bool
}

// StartProxy starts a Proxy to target on 127.0.0.1:0; set, if given,
// configures it before it starts. It stops when the test ends.
func StartProxy(t testing.TB, target string, set func(*Proxy)) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target}
	if set != nil {
		set(p)
	}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.wg.Wait()
	})
	return p
}

// Addr is the address clients dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pc := &proxyConn{}
		p.mu.Lock()
		p.conns = append(p.conns, pc)
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.pipe(pc, c, s)
		}()
	}
}

func (p *Proxy) pipe(pc *proxyConn, c, s net.Conn) {
	var mu sync.Mutex
	last := 0 // 0 nobody yet, 1 client, 2 server
	seen := 0 // markers seen from the client
	var tail []byte
	closeBoth := func() {
		c.Close()
		s.Close()
	}
	done := make(chan struct{}, 2)
	go func() { // client to server
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				chunk := buf[:n]
				mu.Lock()
				last = 1
				// Look for MAIL and the marker across chunk boundaries.
				scan := append(tail, chunk...)
				off := len(tail)
				pc.mails += bytes.Count(scan, []byte("MAIL FROM:")) - bytes.Count(tail, []byte("MAIL FROM:"))
				cutAt := -1
				if p.CutAt > 0 && p.Marker != nil {
					for i := 0; ; {
						j := bytes.Index(scan[i:], p.Marker)
						if j < 0 {
							break
						}
						if i+j+len(p.Marker) > off {
							seen++
							if seen == p.CutAt {
								cutAt = max(i+j-off, 0)
								break
							}
						}
						i += j + 1
					}
				}
				if len(scan) > 64 {
					tail = append([]byte(nil), scan[len(scan)-64:]...)
				} else {
					tail = append([]byte(nil), scan...)
				}
				mu.Unlock()
				if cutAt >= 0 {
					s.Write(chunk[:cutAt])
					mu.Lock()
					pc.cut = true
					mu.Unlock()
					closeBoth()
					return
				}
				if _, err := s.Write(chunk); err != nil {
					closeBoth()
					return
				}
			}
			if err != nil {
				if tc, ok := s.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
				return
			}
		}
	}()
	go func() { // server to client
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 64<<10)
		for {
			n, err := s.Read(buf)
			if n > 0 {
				mu.Lock()
				if last != 2 {
					pc.flights++
				}
				last = 2
				mu.Unlock()
				if p.Delay > 0 {
					time.Sleep(p.Delay)
				}
				if _, err := c.Write(buf[:n]); err != nil {
					closeBoth()
					return
				}
			}
			if err != nil {
				if tc, ok := c.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
				return
			}
		}
	}()
	<-done
	<-done
	closeBoth()
}

// Stats waits for every connection to end and returns the total server
// flights the clients waited for and the messages begun on each connection.
func (p *Proxy) Stats() (flights int, mails []int) {
	p.ln.Close()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		flights += c.flights
		mails = append(mails, c.mails)
	}
	return flights, mails
}
