package transport

import (
	"context"
	"errors"
	"fmt"
	"net"

	"golang.org/x/net/proxy"

	"github.com/smtpx/smtpx/internal/exitcode"
)

// forward dials the SOCKS5 proxy itself and remembers whether that
// failed, so that "the proxy is unreachable" and "the proxy could not
// reach the server" get their own hints.
type forward struct {
	d   *net.Dialer
	err error
}

func (f *forward) Dial(network, address string) (net.Conn, error) {
	return f.DialContext(context.Background(), network, address)
}

func (f *forward) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := f.d.DialContext(ctx, network, address)
	f.err = err
	return c, err
}

// dialSOCKS connects to address through the SOCKS5 proxy. With socks5://
// a host name is resolved here and the proxy is given an address; with
// socks5h:// the proxy gets the name (RFC 1928 ATYP 3) and resolves it.
func (d *Dialer) dialSOCKS(ctx context.Context, address string, n *notes) (net.Conn, error) {
	target := address
	if !d.remoteDNS {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		if net.ParseIP(host) == nil {
			ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			if err != nil {
				return nil, err // a *net.DNSError: the session says the name did not resolve
			}
			if len(ips) == 0 {
				return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
			}
			target = net.JoinHostPort(ips[0].Unmap().String(), port)
		}
	}
	fwd := &forward{d: d.netDialer()}
	sd, err := proxy.SOCKS5("tcp", d.proxyAddr, d.proxyAuth, fwd)
	if err != nil {
		return nil, err
	}
	c, err := sd.(proxy.ContextDialer).DialContext(ctx, "tcp", target)
	if err != nil {
		if fwd.err != nil {
			if le := localErr(d.local, fwd.err); d.local != nil && le != nil {
				return nil, le
			}
			return nil, &exitcode.Error{Code: exitcode.Network, Err: fwd.err,
				Msg:  fmt.Sprintf("cannot reach the SOCKS5 proxy at %s: %v", d.proxyAddr, unwrapOp(fwd.err)),
				Hint: "check the proxy's host and port in --proxy and that it is running"}
		}
		return nil, &exitcode.Error{Code: exitcode.Network, Err: err,
			Msg:  fmt.Sprintf("the SOCKS5 proxy at %s did not connect to %s: %v", d.proxyAddr, target, unwrapOp(err)),
			Hint: "the proxy refused the credentials or the destination, or could not reach the server: check its rules and the user and password in --proxy"}
	}
	how := "names resolved here"
	if d.remoteDNS {
		how = "names resolved by the proxy"
	}
	n.add(fmt.Sprintf("connected through the SOCKS5 proxy at %s to %s (%s)", d.proxyAddr, target, how))
	return c, nil
}

// unwrapOp drops the "socks connect tcp A->B:" prefix net.OpError adds,
// which the message already says in its own words.
func unwrapOp(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}
