package smtptest

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// SOCKS5 is a small SOCKS5 proxy (RFC 1928 CONNECT, with RFC 1929
// user/password authentication when User is set) on loopback, for tests of
// clients that go through one. It records every request and connects only
// to loopback addresses: a name (ATYP 3) is looked up in Names, never in
// DNS.
type SOCKS5 struct {
	ln net.Listener
	// User and Pass, when User is set, are the only credentials accepted.
	User, Pass string
	// Names maps host names to loopback addresses for requests by name.
	Names map[string]string
	// Refuse, when not zero, is the reply code every CONNECT gets
	// (e.g. 2: not allowed by the ruleset, 5: connection refused).
	Refuse byte

	mu   sync.Mutex
	reqs []SOCKSRequest
}

// SOCKSRequest is one CONNECT request as the proxy received it.
type SOCKSRequest struct {
	User   string // the RFC 1929 user name; "" without authentication
	Domain bool   // the address came as a name (ATYP 3), as socks5h sends it
	Host   string // the name or address asked for
	Port   int
}

// StartSOCKS5 starts a proxy on 127.0.0.1; set, when not nil, configures
// it before it serves. It stops when the test ends.
func StartSOCKS5(t testing.TB, set func(*SOCKS5)) *SOCKS5 {
	t.Helper()
	p := &SOCKS5{}
	if set != nil {
		set(p)
	}
	p.ln = ServeConns(t, p.serve)
	return p
}

// Addr is the proxy's address.
func (p *SOCKS5) Addr() string { return p.ln.Addr().String() }

// Requests returns the CONNECT requests received so far.
func (p *SOCKS5) Requests() []SOCKSRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]SOCKSRequest(nil), p.reqs...)
}

func (p *SOCKS5) serve(c net.Conn) {
	defer c.Close()
	var req SOCKSRequest
	// Greeting: VER NMETHODS METHODS...
	hdr := make([]byte, 2)
	if _, err := io.ReadFull(c, hdr); err != nil || hdr[0] != 5 {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return
	}
	want := byte(0)
	if p.User != "" {
		want = 2
	}
	if !slices.Contains(methods, want) {
		c.Write([]byte{5, 0xff})
		return
	}
	c.Write([]byte{5, want})
	if want == 2 {
		user, pass, ok := readUserPass(c)
		if !ok {
			return
		}
		if user != p.User || pass != p.Pass {
			c.Write([]byte{1, 1})
			return
		}
		c.Write([]byte{1, 0})
		req.User = user
	}
	// Request: VER CMD RSV ATYP ADDR PORT
	head := make([]byte, 4)
	if _, err := io.ReadFull(c, head); err != nil || head[0] != 5 || head[1] != 1 {
		return
	}
	switch head[3] {
	case 1, 4:
		b := make([]byte, map[byte]int{1: 4, 4: 16}[head[3]])
		if _, err := io.ReadFull(c, b); err != nil {
			return
		}
		a, _ := netip.AddrFromSlice(b)
		req.Host = a.String()
	case 3:
		n := make([]byte, 1)
		if _, err := io.ReadFull(c, n); err != nil {
			return
		}
		b := make([]byte, n[0])
		if _, err := io.ReadFull(c, b); err != nil {
			return
		}
		req.Host, req.Domain = string(b), true
	default:
		return
	}
	port := make([]byte, 2)
	if _, err := io.ReadFull(c, port); err != nil {
		return
	}
	req.Port = int(binary.BigEndian.Uint16(port))
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	p.mu.Unlock()
	reply := func(code byte) { c.Write([]byte{5, code, 0, 1, 127, 0, 0, 1, 0, 0}) }
	if p.Refuse != 0 {
		reply(p.Refuse)
		return
	}
	host := req.Host
	if req.Domain {
		if host = p.Names[req.Host]; host == "" {
			reply(4) // host unreachable
			return
		}
	}
	if a, err := netip.ParseAddr(host); err != nil || !a.IsLoopback() {
		reply(2) // not allowed: tests reach only loopback
		return
	}
	up, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(req.Port)))
	if err != nil {
		reply(5)
		return
	}
	defer up.Close()
	reply(0)
	done := make(chan struct{})
	go func() {
		io.Copy(up, c)
		up.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(c, up)
	c.(*net.TCPConn).CloseWrite()
	<-done
}

func readUserPass(c net.Conn) (user, pass string, ok bool) {
	b := make([]byte, 2)
	if _, err := io.ReadFull(c, b); err != nil || b[0] != 1 {
		return "", "", false
	}
	u := make([]byte, b[1])
	if _, err := io.ReadFull(c, u); err != nil {
		return "", "", false
	}
	if _, err := io.ReadFull(c, b[:1]); err != nil {
		return "", "", false
	}
	pw := make([]byte, b[0])
	if _, err := io.ReadFull(c, pw); err != nil {
		return "", "", false
	}
	return string(u), string(pw), true
}
