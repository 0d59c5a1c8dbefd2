// Package connect holds the connection settings the client verbs share
// (the target's TLS mode, a unix socket, LMTP, the TLS options, the
// transport: --pipe, a local address, SOCKS5, the PROXY protocol) and
// turns them into session options, with one usage error for each mistake.
package connect

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/target"
	"github.com/smtpx/smtpx/internal/tlsconf"
	"github.com/smtpx/smtpx/internal/transport"
)

// Settings are the connection flags as given.
type Settings struct {
	TLSOnConnect bool
	Socket       string
	LMTP         bool
	TLS          tlsconf.Options
	Transport    transport.Options
	TimeLapse    bool // --show-time-lapse
}

// TLSConfig builds the TLS configuration; a mistake is a usage error
// naming its flag.
func (c *Settings) TLSConfig() (*tls.Config, error) {
	cfg, err := c.TLS.Build()
	if err != nil {
		var te *tlsconf.Error
		if errors.As(err, &te) {
			return nil, exitcode.Usagef("check "+te.Flag, "%v", err)
		}
		return nil, exitcode.Usagef("check the TLS flags", "%v", err)
	}
	return cfg, nil
}

// Dialer is the transport for the settings (nil for a plain connection).
func (c *Settings) Dialer(getenv func(string) string) (*transport.Dialer, error) {
	to := c.Transport
	to.Getenv, to.Socket = getenv, c.Socket != ""
	return transport.New(to)
}

// Session resolves the target and the settings into session options;
// defPort applies when the target names none. Every error is a usage
// error (exit 2) with a hint.
func (c *Settings) Session(tgt string, defPort int, connectTimeout, timeout time.Duration, getenv func(string) string) (session.Options, target.Target, error) {
	var t target.Target
	var err error
	switch {
	case c.Transport.Pipe != "":
		if tgt != "" || c.Socket != "" {
			return session.Options{}, t, exitcode.Usagef("give one of a target, --socket and --pipe", "--pipe was given with a target or --socket")
		}
		t = target.Target{Network: transport.Network}
	case c.Socket != "":
		if tgt != "" {
			return session.Options{}, t, exitcode.Usagef("give either a target or --socket", "a target and --socket were both given")
		}
		t = target.Target{Network: "unix", Path: c.Socket}
	default:
		t, err = target.Parse(tgt, defPort)
		if err != nil {
			return session.Options{}, t, exitcode.Usagef("write the target as host, host:port or [ipv6]:port", "%v", err)
		}
	}
	if c.TLSOnConnect {
		t.TLS = target.TLSImplicit
		if !t.PortGiven && t.Network == "tcp" && defPort == 25 {
			t.Port = 465
		}
	}
	cfg, err := c.TLSConfig()
	if err != nil {
		return session.Options{}, t, err
	}
	so := session.Options{
		Network:        t.Network,
		Address:        t.Address(),
		ImplicitTLS:    t.TLS == target.TLSImplicit,
		TLSConfig:      cfg,
		LMTP:           c.LMTP || t.LMTP,
		ConnectTimeout: connectTimeout,
		Timeout:        timeout,
	}
	if c.TLS.Insecure {
		so.TLSVerdict = func(*tls.ConnectionState) string { return InsecureVerdict }
	}
	d, err := c.Dialer(getenv)
	if err != nil {
		return session.Options{}, t, err
	}
	if d != nil {
		so.Dial = d.Dial
	}
	if d.Pipe() {
		so.Address = d.PipeLine()
	}
	return so, t, nil
}

// PipeTLS checks TLS over --pipe, where no host name says what the
// server's certificate must be for: TLS the user asks for needs --tls-sni
// or --insecure. It reports whether TLS can be verified (or is not
// verified on purpose).
func (c *Settings) PipeTLS(required bool) (bool, error) {
	if c.Transport.Pipe == "" || c.TLS.SNI != "" || c.TLS.Insecure {
		return true, nil
	}
	if required || c.TLSOnConnect {
		return false, exitcode.Usagef("name the certificate to expect with --tls-sni NAME, or skip verification with --insecure",
			"TLS over --pipe has no server name to verify the certificate against")
	}
	return false, nil
}

// SavePeerCert writes the chain the server sent for --tls-get-peer-cert,
// once the dialogue is over, and returns runErr, how the dialogue ended.
// A chain that cannot be written fails a run that otherwise succeeded.
func (c *Settings) SavePeerCert(warn io.Writer, chain []*x509.Certificate, runErr error) error {
	path := c.TLS.PeerCertFile
	if path == "" {
		return runErr
	}
	if len(chain) == 0 {
		fmt.Fprintf(warn, "smtpx: warning: --tls-get-peer-cert: no certificate was received (no TLS handshake); %s not written\n", path)
		return runErr
	}
	if err := tlsconf.WriteChain(path, chain); err != nil {
		werr := &exitcode.Error{Code: exitcode.Usage, Msg: "--tls-get-peer-cert: " + err.Error(), Hint: "give a file in a directory you can write to", Err: err}
		if runErr == nil {
			return werr
		}
		fmt.Fprintf(warn, "smtpx: warning: %v\n", werr)
	}
	return runErr
}

// InsecureVerdict is the TLS line's verdict under --insecure: the line
// names the flag that switched verification off.
const InsecureVerdict = session.NotVerified + " (--insecure)"
