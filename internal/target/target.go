// Package target parses where to connect: "host", "host:port", "[v6]:port",
// and the URL forms smtp://, smtps://, submission://, lmtp:// and unix://.
package target

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// TLSMode says how TLS is used on a connection.
type TLSMode int

// TLS modes.
const (
	TLSOpportunistic TLSMode = iota // STARTTLS when offered
	TLSRequired                     // STARTTLS must succeed
	TLSImplicit                     // TLS from the first byte
	TLSNone                         // never
)

// Target is a parsed server address.
type Target struct {
	Network string // "tcp" or "unix"
	Host    string // host name or IP without brackets; empty for unix
	Port    int
	Path    string // unix socket path
	TLS     TLSMode
	LMTP    bool
	// PortGiven is set when the input named a port.
	PortGiven bool
}

// Address is the dial address: host:port, or the socket path.
func (t Target) Address() string {
	if t.Network == "unix" {
		return t.Path
	}
	return net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
}

// Parse reads s. defPort applies when s names no port and no scheme does.
func Parse(s string, defPort int) (Target, error) {
	if s == "" {
		return Target{}, fmt.Errorf("empty server address")
	}
	if strings.ContainsAny(s, "\r\n\x00 ") {
		return Target{}, fmt.Errorf("server address %q contains a space or control character", s)
	}
	if i := strings.Index(s, "://"); i > 0 {
		return parseURL(s)
	}
	t := Target{Network: "tcp", Port: defPort}
	return hostPort(t, s)
}

func hostPort(t Target, s string) (Target, error) {
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return t, fmt.Errorf("%q: missing ']' after an IPv6 address", s)
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return t, fmt.Errorf("%q: expected :PORT after ']'", s)
			}
			port = rest[1:]
		}
		if net.ParseIP(host) == nil {
			return t, fmt.Errorf("%q: %q is not an IPv6 address", s, host)
		}
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
	case strings.Count(s, ":") > 1:
		if net.ParseIP(s) == nil {
			return t, fmt.Errorf("%q: write an IPv6 address with a port as [ADDR]:PORT", s)
		}
	}
	if host == "" {
		return t, fmt.Errorf("%q: no host", s)
	}
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return t, fmt.Errorf("%q: port must be a number from 1 to 65535", s)
		}
		t.Port = p
		t.PortGiven = true
	}
	t.Host = host
	return t, nil
}

func parseURL(s string) (Target, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Target{}, fmt.Errorf("%q: %v", s, err)
	}
	t := Target{Network: "tcp"}
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		t.Port = 25
	case "smtps":
		t.Port, t.TLS = 465, TLSImplicit
	case "submission":
		t.Port, t.TLS = 587, TLSRequired
	case "submissions":
		t.Port, t.TLS = 465, TLSImplicit
	case "lmtp":
		t.Port, t.LMTP = 24, true
	case "unix":
		p := u.Path
		if u.Host != "" {
			p = u.Host + p
		}
		if p == "" {
			return t, fmt.Errorf("%q: no socket path", s)
		}
		return Target{Network: "unix", Path: p}, nil
	default:
		return t, fmt.Errorf("%q: unknown scheme %q (use smtp, smtps, submission, lmtp or unix)", s, u.Scheme)
	}
	if u.Path != "" && u.Path != "/" {
		return t, fmt.Errorf("%q: a server URL has no path", s)
	}
	return hostPort(t, u.Host)
}
