//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package session

import (
	"crypto/tls"
	"net"
	"syscall"
)

// peeker looks, without blocking or consuming anything, for bytes the peer
// has sent that sit unread in the socket. It is made once per connection
// so that the look costs one system call and no allocation per message.
type peeker struct {
	rc   syscall.RawConn
	n    int
	b    [1]byte
	look func(fd uintptr) bool
}

// newPeeker returns nil where the connection has no socket to look at.
// Under TLS it looks at the raw connection: post-handshake records
// (session tickets) are consumed by the replies read before the data
// phase, so any record there now is the server speaking out of turn.
func newPeeker(c net.Conn) *peeker {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := &peeker{rc: rc}
	p.look = func(fd uintptr) bool {
		p.n, _, _ = syscall.Recvfrom(int(fd), p.b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait: this is a look, not a read
	}
	return p
}

// waiting reports whether unread bytes are there.
func (p *peeker) waiting() bool {
	if p == nil {
		return false
	}
	p.n = 0
	_ = p.rc.Read(p.look)
	return p.n > 0
}
