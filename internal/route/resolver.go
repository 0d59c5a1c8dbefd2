package route

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/smtpx/smtpx/internal/session"
)

// Options configures a Resolver. The zero value asks the system's resolvers
// with their configured timeout.
type Options struct {
	// Server is the --dns-server value: "host", "host:port", "IPV6" or
	// "[IPV6]:port"; the port defaults to 53. Empty means the nameservers in
	// ResolvConf. A host name here is resolved by the system on every query,
	// so an IP address is the better choice.
	Server string
	// Timeout bounds one attempt at one server. Zero means the resolv.conf
	// "options timeout:" value, or 5s.
	Timeout time.Duration
	// Attempts is how many rounds over the server list a query may take
	// before it fails. Zero means the resolv.conf "options attempts:" value,
	// or 2.
	Attempts int
	// ResolvConf is the file read when Server is empty; "" means
	// /etc/resolv.conf. If it cannot be read or names no nameserver, the
	// resolver asks 127.0.0.1:53 and [::1]:53, as glibc and Go do.
	ResolvConf string
	// Shuffle puts MX hosts of equal preference in random order, as RFC 5321
	// §5.1 suggests to spread load. Without it they are sorted by name, so a
	// transcript, a JSON report and a test see the same order every run.
	Shuffle bool
}

// Resolver asks one configured set of DNS servers. It is safe for concurrent
// use; it keeps no cache, since every verb asks each question about once.
type Resolver struct {
	servers  []string
	timeout  time.Duration
	attempts int
	shuffle  bool
}

const (
	defaultTimeout  = 5 * time.Second
	defaultAttempts = 2
	// udpSize is the EDNS0 buffer size advertised: the DNS Flag Day 2020
	// value, small enough to avoid IP fragmentation on any path; larger
	// answers come back truncated and are asked again over TCP.
	udpSize = 1232
	// maxCNAME bounds how many CNAME hops a lookup follows, so a loop in
	// somebody's zone cannot keep us asking.
	maxCNAME = 8
)

// New returns a Resolver for opts. Its errors have KindInvalid.
func New(opts Options) (*Resolver, error) {
	r := &Resolver{timeout: opts.Timeout, attempts: opts.Attempts, shuffle: opts.Shuffle}
	if opts.Server != "" {
		s, err := parseServer(opts.Server)
		if err != nil {
			return nil, err
		}
		r.servers = []string{s}
	} else {
		path := opts.ResolvConf
		if path == "" {
			path = "/etc/resolv.conf"
		}
		// An unreadable file is not an error: many containers and Windows
		// have none, and a local resolver is then the only sensible guess.
		if cc, err := dns.ClientConfigFromFile(path); err == nil {
			for _, s := range cc.Servers {
				r.servers = append(r.servers, net.JoinHostPort(s, cc.Port))
			}
			if r.timeout == 0 && cc.Timeout > 0 {
				r.timeout = time.Duration(cc.Timeout) * time.Second
			}
			if r.attempts == 0 && cc.Attempts > 0 {
				r.attempts = cc.Attempts
			}
		}
		if len(r.servers) == 0 {
			r.servers = []string{"127.0.0.1:53", "[::1]:53"}
		}
	}
	if r.timeout <= 0 {
		r.timeout = defaultTimeout
	}
	if r.attempts <= 0 {
		r.attempts = defaultAttempts
	}
	return r, nil
}

// parseServer turns a --dns-server value into host:port.
func parseServer(s string) (string, error) {
	bad := func(format string, args ...any) (string, error) {
		return "", &Error{Kind: KindInvalid, Msg: "dns server " + strconv.Quote(s) + ": " + fmt.Sprintf(format, args...)}
	}
	if s == "" || strings.ContainsAny(s, " \t\r\n\x00/") {
		return bad("write it as HOST, HOST:PORT or [IPV6]:PORT")
	}
	host, port := s, "53"
	if a, err := netip.ParseAddr(s); err == nil && a.Is6() {
		// A bare IPv6 address: its colons are not a port separator.
		return net.JoinHostPort(a.String(), port), nil
	}
	if strings.HasPrefix(s, "[") || strings.Contains(s, ":") {
		h, p, err := net.SplitHostPort(s)
		if err != nil && strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			h, p, err = s[1:len(s)-1], "53", nil
		}
		if err != nil {
			return bad("write it as HOST, HOST:PORT or [IPV6]:PORT")
		}
		host, port = h, p
	}
	if host == "" {
		return bad("no host")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return bad("port must be a number from 1 to 65535")
	}
	return net.JoinHostPort(host, port), nil
}

// Servers returns the host:port addresses the resolver asks, in order.
func (r *Resolver) Servers() []string { return append([]string(nil), r.servers...) }

// answer is what one lookup found once CNAMEs were followed.
type answer struct {
	rrs    []dns.RR
	ad     bool   // every response on the way carried the AD bit
	server string // who gave the final response
}

// query asks for name's records of type qtype, following CNAMEs (RFC 1034
// §3.6.2) when the resolver did not already do so. name is ASCII without the
// trailing dot. do sets the DNSSEC OK bit. On NXDOMAIN and NoData the answer
// is returned with the error, because its AD bit says whether the denial was
// authenticated.
func (r *Resolver) query(ctx context.Context, name string, qtype uint16, do bool) (answer, error) {
	typ := dns.TypeToString[qtype]
	qname := dns.Fqdn(name)
	a := answer{ad: true}
	for range maxCNAME {
		resp, srv, err := r.exchange(ctx, name, typ, qname, qtype, do)
		if err != nil {
			return answer{}, err
		}
		a.server = srv
		a.ad = a.ad && resp.AuthenticatedData
		if resp.Rcode == dns.RcodeNameError {
			return a, &Error{Kind: KindNXDomain, Name: name, Type: typ, Server: srv, Msg: "no such domain (NXDOMAIN)"}
		}
		end, rrs := follow(resp.Answer, qname, qtype)
		if len(rrs) > 0 {
			a.rrs = rrs
			return a, nil
		}
		if strings.EqualFold(end, qname) {
			return a, &Error{Kind: KindNoData, Name: name, Type: typ, Server: srv, Msg: "no " + typ + " records"}
		}
		// The chain ends at a name this response has no data for: an
		// authoritative server for another zone would not chase it, so ask.
		qname = end
	}
	return answer{}, &Error{Kind: KindNoData, Name: name, Type: typ, Msg: fmt.Sprintf("more than %d CNAMEs (a loop?)", maxCNAME)}
}

// follow walks the CNAME chain from qname through rrs and returns the name it
// ends at and the records of type qtype found there or on the way.
func follow(rrs []dns.RR, qname string, qtype uint16) (string, []dns.RR) {
	chain := []string{qname}
	cur := qname
	for range len(rrs) {
		next := ""
		for _, rr := range rrs {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, cur) {
				next = c.Target
				break
			}
		}
		if next == "" || qtype == dns.TypeCNAME {
			break
		}
		cur = next
		chain = append(chain, cur)
	}
	var out []dns.RR
	for _, rr := range rrs {
		h := rr.Header()
		if h.Rrtype != qtype || h.Class != dns.ClassINET {
			continue
		}
		for _, n := range chain {
			if strings.EqualFold(h.Name, n) {
				out = append(out, rr)
				break
			}
		}
	}
	return cur, out
}

// exchange asks the servers in turn, Attempts rounds at most, until one gives
// an answer that means something about the name: NOERROR or NXDOMAIN.
// SERVFAIL, REFUSED and the like say only that this server could not help,
// so the next one is asked.
func (r *Resolver) exchange(ctx context.Context, name, typ, qname string, qtype uint16, do bool) (*dns.Msg, string, error) {
	fail := func(srv, msg string, err error) *Error {
		return &Error{Kind: KindTemporary, Name: name, Type: typ, Server: srv, Msg: msg, Err: err}
	}
	last := fail("", "no DNS server to ask", nil)
	for range r.attempts {
		for _, srv := range r.servers {
			if err := ctx.Err(); err != nil {
				return nil, "", fail("", "interrupted", err)
			}
			resp, err := r.exchangeOne(ctx, srv, qname, qtype, do)
			switch {
			case ctx.Err() != nil:
				return nil, "", fail(srv, "interrupted", ctx.Err())
			case err != nil && session.IsTimeout(err):
				last = fail(srv, "no answer within "+r.timeout.String(), err)
			case err != nil:
				last = fail(srv, err.Error(), err)
			case resp.Rcode == dns.RcodeSuccess || resp.Rcode == dns.RcodeNameError:
				return resp, srv, nil
			default:
				last = fail(srv, rcodeText(resp.Rcode), nil)
			}
		}
	}
	return nil, "", last
}

func rcodeText(rcode int) string {
	switch rcode {
	case dns.RcodeServerFailure:
		return "server failure (SERVFAIL)"
	case dns.RcodeRefused:
		return "query refused (REFUSED)"
	}
	s, ok := dns.RcodeToString[rcode]
	if !ok {
		s = strconv.Itoa(rcode)
	}
	return "server answered " + s
}

// exchangeOne asks one server once: over UDP, then over TCP if the answer
// was truncated (RFC 1035 §4.2.1, RFC 7766), and once more without EDNS if
// the server does not understand it (RFC 6891 §7).
func (r *Resolver) exchangeOne(ctx context.Context, srv, qname string, qtype uint16, do bool) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(qname, qtype)
	m.RecursionDesired = true
	// RFC 6840 §5.7: AD in a query asks a validating resolver to report
	// whether it validated the answer, without the cost of DO's signatures.
	m.AuthenticatedData = true
	m.SetEdns0(udpSize, do)
	resp, err := r.udpThenTCP(ctx, srv, m)
	if err == nil && resp.Rcode == dns.RcodeFormatError && resp.IsEdns0() == nil {
		m.Extra = nil
		resp, err = r.udpThenTCP(ctx, srv, m)
	}
	return resp, err
}

func (r *Resolver) udpThenTCP(ctx context.Context, srv string, m *dns.Msg) (*dns.Msg, error) {
	resp, err := r.roundTrip(ctx, "udp", srv, m)
	if err == nil && resp.Truncated {
		resp, err = r.roundTrip(ctx, "tcp", srv, m)
	}
	return resp, err
}

// roundTrip sends m to srv over network and reads the answer, within the
// per-attempt timeout and for no longer than ctx allows.
func (r *Resolver) roundTrip(ctx context.Context, network, srv string, m *dns.Msg) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	c := &dns.Client{Net: network, Timeout: r.timeout, UDPSize: udpSize}
	conn, err := c.DialContext(ctx, srv)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// miekg/dns applies a context's deadline but not its cancellation:
	// expire the connection's deadline so a blocked read returns at once.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	m.Id = dns.Id()
	resp, _, err := c.ExchangeWithConnContext(ctx, m, conn)
	if err != nil {
		return nil, err
	}
	if !sameQuestion(m, resp) {
		return nil, errors.New("answer does not match the question")
	}
	return resp, nil
}

// sameQuestion rejects answers to some other question, which a confused
// or spoofing server might send with a matching ID.
func sameQuestion(q, a *dns.Msg) bool {
	if len(a.Question) == 0 {
		// Error responses may omit the question (RFC 1035 leaves it open).
		return a.Rcode != dns.RcodeSuccess
	}
	x, y := q.Question[0], a.Question[0]
	return len(a.Question) == 1 && x.Qtype == y.Qtype && x.Qclass == y.Qclass && strings.EqualFold(x.Name, y.Name)
}
