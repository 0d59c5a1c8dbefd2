package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/target"
)

// Options configure a probe. Run validates them; the zero value of each
// field is a sensible default.
type Options struct {
	// Target is what the user typed: a mail domain ("example.com"), a host
	// with a port ("mx.example.com:25", "[2001:db8::1]:25"), an address,
	// or a server URL (smtp://, smtps://, submission://, lmtp://,
	// unix://). A name without a port is a mail domain unless NoMX is set.
	Target string
	// Socket probes the unix socket at this path instead of Target.
	Socket string
	// Pipe probes the child process this command line starts (--pipe)
	// instead of Target; Dial must be the dialer that starts it.
	Pipe string
	// Ports to probe on every address; nil means the target's port, else 25.
	// Port 465 is implicit TLS (RFC 8314).
	Ports []int
	// NoMX probes a name without a port as a host, not as a mail domain.
	NoMX bool
	// Family restricts addresses to 4 (IPv4) or 6 (IPv6); 0 probes both.
	Family int
	// DNSServer is --dns-server; "" asks the resolvers in /etc/resolv.conf
	// for MX, TXT, TLSA and PTR, and the system for a host's addresses.
	DNSServer string
	// DNSTimeout bounds one DNS attempt; 0 is the resolver's default.
	DNSTimeout time.Duration

	// TLS is the configuration from the shared TLS flags: RootCAs (nil for
	// the system roots) to verify against, ServerName (--tls-sni),
	// MinVersion as the --tls-min gate, a client certificate, and
	// InsecureSkipVerify for --insecure. The probe always completes the
	// handshake itself and verifies afterwards, so that it can report on a
	// certificate that does not verify.
	TLS *tls.Config
	// ImplicitTLS is --tls-on-connect: TLS from the first byte on every port.
	ImplicitTLS bool
	// LMTP says LHLO instead of EHLO.
	LMTP bool
	// Helo is the name for EHLO; "" means this host's name.
	Helo string

	ConnectTimeout time.Duration
	Timeout        time.Duration
	// Dial replaces the dialer (tests).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// ConnectTo sends connections for one address elsewhere (--connect-to).
	ConnectTo []ConnectTo

	// Require lists extensions that must be advertised (--require).
	Require []string
	// RequireTLS: STARTTLS (or implicit TLS) must work and verify; a TLS
	// failure then exits 6.
	RequireTLS bool
	// RequireMTASTS: the domain must publish a valid MTA-STS policy in
	// enforce mode that every MX satisfies.
	RequireMTASTS bool
	// RequireDANE: every MX must have DNSSEC-validated TLSA records that
	// match its certificate.
	RequireDANE bool
	// CertDays fails a certificate that expires within this many days; 0
	// sets no such gate.
	CertDays int
	// CertWarnDays warns about a certificate that expires within this many
	// days; 0 means 30.
	CertWarnDays int
	// FailOnWarn makes warnings fail the probe (--fail-on warn).
	FailOnWarn bool
	// Ignore lists check ids (or "prefix.*" patterns) that are reported but
	// never gate.
	Ignore []string

	// Count repeats the dialogue for timing statistics; 0 means 1.
	Count int
	// Parallel bounds how many endpoints are probed at once; 0 means 4.
	Parallel int
	// GreetPause is the greeting delay reported as a greet pause or
	// tarpit; 0 means 5s.
	GreetPause time.Duration
	// InjectionWait is how long the injection check waits for an answer to
	// the smuggled command; 0 means Timeout, at most 3s.
	InjectionWait time.Duration

	// The opt-in checks.
	CheckRelay     bool
	CheckVRFY      bool
	CheckInjection bool
	CheckLegacyTLS bool // the TLS versions accepted (tls.versions, tls.legacy.*)
	// CheckTLS adds to the versions each TLS 1.0-1.2 cipher suite Go can
	// offer, one handshake each (tls.ciphers), and whether TLS 1.3 is
	// there (tls.tls13).
	CheckTLS bool
	// RequireTLS13 fails the probe unless TLS 1.3 is accepted.
	RequireTLS13 bool
	// FailOn lists check ids (a family such as tls.legacy, or prefix.*)
	// whose warnings fail the probe like failures (--fail-on ID).
	FailOn    []string
	CheckSize bool

	// MTASTSRoots verifies the MTA-STS policy server; nil means the
	// system roots (--mta-sts-ca).
	MTASTSRoots *x509.CertPool
	// MTASTSPort is the policy server's port; 0 means 443. Tests only.
	MTASTSPort int

	// Now is the clock for certificate validity; nil means time.Now.
	Now func() time.Time
}

// ConnectTo redirects connections meant for one endpoint to another
// address, like curl's --connect-to: the probe still reports, verifies
// and looks up DNS for the original.
type ConnectTo struct {
	Host string // an address or host name; "" matches any
	Port int    // 0 matches any
	To   string // host:port to dial instead
}

// ParseConnectTo reads HOST1:PORT1:HOST2:PORT2 (IPv6 addresses in
// brackets). An empty HOST1 or PORT1 matches any; an empty HOST2 or PORT2
// keeps the original.
func ParseConnectTo(s string) (ConnectTo, error) {
	var parts []string
	rest := s
	for i := 0; i < 4; i++ {
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return ConnectTo{}, fmt.Errorf("%q: missing ']'", s)
			}
			parts = append(parts, rest[1:end])
			rest = rest[end+1:]
			if i < 3 {
				if !strings.HasPrefix(rest, ":") {
					return ConnectTo{}, fmt.Errorf("%q: expected ':' after ']'", s)
				}
				rest = rest[1:]
			}
			continue
		}
		if i == 3 {
			parts = append(parts, rest)
			rest = ""
			break
		}
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return ConnectTo{}, fmt.Errorf("%q: write HOST1:PORT1:HOST2:PORT2", s)
		}
		parts = append(parts, rest[:j])
		rest = rest[j+1:]
	}
	if rest != "" || len(parts) != 4 {
		return ConnectTo{}, fmt.Errorf("%q: write HOST1:PORT1:HOST2:PORT2", s)
	}
	port := func(p string) (int, error) {
		if p == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return 0, fmt.Errorf("%q: port %q is not a number from 1 to 65535", s, p)
		}
		return n, nil
	}
	p1, err := port(parts[1])
	if err != nil {
		return ConnectTo{}, err
	}
	p2, err := port(parts[3])
	if err != nil {
		return ConnectTo{}, err
	}
	c := ConnectTo{Host: strings.ToLower(strings.TrimSuffix(parts[0], ".")), Port: p1}
	// The "to" side keeps the original host or port when left empty; the
	// blanks are filled in per endpoint.
	c.To = net.JoinHostPort(parts[2], "")
	if p2 != 0 {
		c.To = net.JoinHostPort(parts[2], strconv.Itoa(p2))
	}
	return c, nil
}

// dialAddr applies the --connect-to rules to an endpoint.
func dialAddr(rules []ConnectTo, host string, addr netip.Addr, port int) string {
	orig := netip.AddrPortFrom(addr, uint16(port)).String()
	for _, r := range rules {
		if r.Port != 0 && r.Port != port {
			continue
		}
		if r.Host != "" && r.Host != host && !(addr.IsValid() && r.Host == addr.String()) {
			continue
		}
		h, p, _ := net.SplitHostPort(r.To)
		if h == "" {
			h = addr.String()
		}
		if p == "" {
			p = strconv.Itoa(port)
		}
		return net.JoinHostPort(h, p)
	}
	return orig
}

// Mode is what kind of target a probe has.
type Mode string

// The modes.
const (
	ModeDomain Mode = "domain" // a mail domain: its MX hosts
	ModeHost   Mode = "host"   // one host (all its addresses) or one address
	ModeSocket Mode = "socket" // a unix socket
	ModePipe   Mode = "pipe"   // a child process's stdin and stdout (--pipe)
)

// plan is the validated target.
type plan struct {
	mode        Mode
	name        string // domain or host name (ASCII); "" for an address or socket
	addr        netip.Addr
	ports       []int
	implicit    bool // every port is implicit TLS (--tls-on-connect, smtps://)
	requireTLS  bool // submission:// asks for it
	lmtp        bool
	socket      string
	portInInput bool
}

func usage(hint, format string, a ...any) error { return exitcode.Usagef(hint, format, a...) }

// makePlan validates the options and works out what to probe.
func makePlan(o *Options) (*plan, error) {
	p := &plan{lmtp: o.LMTP, implicit: o.ImplicitTLS}
	for _, port := range o.Ports {
		if port < 1 || port > 65535 {
			return nil, usage("give ports from 1 to 65535, e.g. --port 25,587,465", "--port %d is out of range", port)
		}
	}
	if o.Family != 0 && o.Family != 4 && o.Family != 6 {
		return nil, usage("use -4 or -6", "address family %d is neither 4 nor 6", o.Family)
	}
	if o.Count < 0 || o.Count > 1000 {
		return nil, usage("give --count from 1 to 1000", "--count %d is out of range", o.Count)
	}
	if o.Parallel < 0 || o.Parallel > 64 {
		return nil, usage("give --parallel from 1 to 64", "--parallel %d is out of range", o.Parallel)
	}
	if o.CertDays < 0 || o.CertDays > 36500 {
		return nil, usage("give --cert-days as a number of days, e.g. --cert-days 14", "--cert-days %d is out of range", o.CertDays)
	}
	for _, r := range o.Require {
		if r == "" || strings.ContainsAny(r, " \t\r\n=") {
			return nil, usage("name extensions as EHLO keywords, e.g. --require STARTTLS,SMTPUTF8", "--require %q is not an EHLO keyword", r)
		}
	}
	for _, id := range o.Ignore {
		if !KnownID(id) {
			return nil, usage("'smtpx probe --help' lists the check ids", "--ignore %q is not a check id", id)
		}
	}
	for _, id := range o.FailOn {
		if !KnownID(id) && !KnownID(id+".*") {
			return nil, usage("use --fail-on fail, warn, or check ids such as tls.legacy", "--fail-on %q is not a check id", id)
		}
	}
	if o.Pipe != "" {
		if o.Target != "" || o.Socket != "" || len(o.Ports) > 0 {
			return nil, usage("give --pipe alone, without a target, --socket or --port", "--pipe was given with a target, --socket or --port")
		}
		p.mode, p.socket, p.ports = ModePipe, o.Pipe, []int{0}
		return p, p.checkDomainGates(o)
	}
	if o.Socket != "" {
		if o.Target != "" {
			return nil, usage("give either a target or --socket", "a target and --socket were both given")
		}
		if len(o.Ports) > 0 {
			return nil, usage("drop --port when probing a unix socket", "--port does not apply to --socket")
		}
		p.mode, p.socket, p.ports = ModeSocket, o.Socket, []int{0}
		return p, p.checkDomainGates(o)
	}
	if o.Target == "" {
		return nil, usage("smtpx probe DOMAIN or smtpx probe HOST[:PORT]", "probe needs a TARGET")
	}
	t, err := target.Parse(o.Target, 25)
	if err != nil {
		return nil, usage("write the target as domain, host:port, [ipv6]:port or a server URL", "%v", err)
	}
	if t.Network == "unix" {
		if len(o.Ports) > 0 {
			return nil, usage("drop --port when probing a unix socket", "--port does not apply to a unix socket")
		}
		p.mode, p.socket, p.ports = ModeSocket, t.Path, []int{0}
		p.lmtp = p.lmtp || t.LMTP
		return p, p.checkDomainGates(o)
	}
	p.lmtp = p.lmtp || t.LMTP
	p.implicit = p.implicit || t.TLS == target.TLSImplicit
	p.requireTLS = t.TLS == target.TLSRequired
	isURL := strings.Contains(o.Target, "://")
	p.portInInput = t.PortGiven || isURL
	if p.portInInput && len(o.Ports) > 0 {
		return nil, usage("give the port in the target or with --port, not both", "the target names a port and --port was given")
	}
	p.ports = o.Ports
	if len(p.ports) == 0 {
		p.ports = []int{t.Port}
	}
	p.ports = dedupe(p.ports)
	if a, err := netip.ParseAddr(t.Host); err == nil {
		if a.Zone() != "" {
			return nil, usage("give the address without a zone", "%q: zoned addresses are not supported", t.Host)
		}
		p.mode, p.addr = ModeHost, a.Unmap()
		if o.Family == 4 && !p.addr.Is4() || o.Family == 6 && p.addr.Is4() {
			return nil, usage("drop -4/-6 or give an address of that family", "%s is not an IPv%d address", p.addr, o.Family)
		}
		return p, p.checkDomainGates(o)
	}
	name, err := route.ToASCII(t.Host)
	if err != nil {
		return nil, usage("check the spelling of the domain or host", "%v", err)
	}
	p.name = name
	p.mode = ModeDomain
	if p.portInInput || o.NoMX {
		p.mode = ModeHost
	}
	return p, p.checkDomainGates(o)
}

func (p *plan) checkDomainGates(o *Options) error {
	if o.RequireMTASTS && p.mode != ModeDomain {
		return usage("give a mail domain without a port, e.g. smtpx probe --require-mta-sts example.com", "--require-mta-sts needs a mail domain as the target")
	}
	if o.RequireDANE && p.name == "" {
		return usage("give a host name or mail domain; TLSA records hang off names", "--require-dane needs a host name or mail domain as the target")
	}
	return nil
}

func dedupe(ports []int) []int {
	var out []int
	for _, p := range ports {
		dup := false
		for _, q := range out {
			dup = dup || p == q
		}
		if !dup {
			out = append(out, p)
		}
	}
	return out
}
