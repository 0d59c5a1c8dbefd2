package session_test

import (
	"context"
	"net"
)

type netConn = net.Conn

// remoteConn reports a documentation-range remote address while talking to
// a loopback server, to exercise the non-loopback AUTH policy.
type remoteConn struct{ net.Conn }

func (remoteConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 25}
}

func dialRemote(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return remoteConn{c}, nil
}
