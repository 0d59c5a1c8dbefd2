package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/transcript"
)

// Result is everything a probe found.
type Result struct {
	Target string
	Mode   Mode
	// Domain holds the per-domain findings; nil unless Mode is ModeDomain.
	Domain *Domain
	// Checks are checks about the target as a whole (dns.host).
	Checks []*Check
	// Endpoints in report order: MX preference, host name, address, port.
	Endpoints []*Endpoint
	// Exit is the status smtpx returns: the highest of every check's.
	Exit int
	// Err explains a non-zero Exit: the first check with that status, or a
	// usage error found before anything was sent.
	Err error
	// Decisive is the check behind Err; nil for a usage error.
	Decisive *Check
	// Failed counts the checks that gate (their Exit is not 0).
	Failed int
	// DNS is the time the MX (or host) lookup took.
	DNS time.Duration
}

// Domain is what a domain probe found about the domain itself.
type Domain struct {
	Name     string
	Route    route.Result
	RouteErr error
	NullMX   bool
	MTASTS   *MTASTS
	TLSRPT   *TXTRecord
	SPF      *TXTRecord
	DMARC    *TXTRecord
	Checks   checkList
}

// Endpoint is one address and port, and everything learnt from it.
type Endpoint struct {
	Host       string // MX or target host name; "" for an address or socket
	Preference int    // MX preference; -1 when not from an MX record
	Addr       netip.Addr
	Port       int
	Network    string // "tcp", "unix" or "pipe"
	Socket     string // the socket path, or the --pipe command line
	Dial       string // where the connection went (differs with --connect-to)
	Implicit   bool   // TLS from the first byte
	ServerName string // the name the certificate is checked against

	Banner   *session.Reply
	Helo     string
	UsedHELO bool
	Ext      session.Extensions // before TLS (or the only list)
	ExtTLS   session.Extensions // after STARTTLS; nil without it
	TLS      *tls.ConnectionState
	Verify   *Verification
	Certs    []Cert
	PTR      []route.PTR
	PTRErr   error
	DANE     *DANE
	Final    *session.Reply
	Err      error // what stopped the main dialogue, if anything

	Checks  checkList
	Timings session.Timings
	DNS     time.Duration
	Runs    int
	Failed  int // dialogues of the --count runs that failed
	Stats   map[string]Stat
	Events  []session.Event
	Exit    int

	domain string // the mail domain in domain mode
	hostAD bool   // the MX and address answers were DNSSEC-validated
	// hostADKnown is false when the system resolved the host, which says
	// nothing about DNSSEC; the DANE check then rests on the TLSA answer.
	hostADKnown bool
	cache       tls.ClientSessionCache
}

// Label names the endpoint for people: "mx1.example.com [192.0.2.1]:25".
func (e *Endpoint) Label() string {
	switch {
	case e.noIP():
		return e.Network + ":" + e.Socket
	case e.Host != "":
		return fmt.Sprintf("%s %s", e.Host, e.addrPort())
	}
	return e.addrPort()
}

func (e *Endpoint) addrPort() string {
	if e.Addr.Is6() {
		return fmt.Sprintf("[%s]:%d", e.Addr, e.Port)
	}
	if e.Host != "" {
		return fmt.Sprintf("[%s]:%d", e.Addr, e.Port)
	}
	return fmt.Sprintf("%s:%d", e.Addr, e.Port)
}

// noIP reports whether the endpoint is reached without an IP address: a
// unix socket or a --pipe child.
func (e *Endpoint) noIP() bool { return e.Network == "unix" || e.Network == "pipe" }

// Address is the endpoint's own address, host:port, the socket path or
// the --pipe command line.
func (e *Endpoint) Address() string {
	if e.noIP() {
		return e.Socket
	}
	return netip.AddrPortFrom(e.Addr, uint16(e.Port)).String()
}

// MaxEndpoints caps how many endpoints one probe talks to.
const MaxEndpoints = 64

// prober holds what every endpoint shares.
type prober struct {
	o        Options
	p        *plan
	res      *route.Resolver
	sysHosts bool // resolve a target host through the system, not res
	now      time.Time
	gates    gates

	mu   sync.Mutex
	ptr  map[netip.Addr]*once[[]route.PTR]
	tlsa map[string]*once[route.TLSAResult]
}

// once memoises one lookup shared by endpoints on other ports.
type once[T any] struct {
	o   sync.Once
	v   T
	err error
}

func (o *once[T]) do(f func() (T, error)) (T, error) {
	o.o.Do(func() { o.v, o.err = f() })
	return o.v, o.err
}

// Run probes the target. It always returns a Result; Result.Exit is the
// status from DESIGN §4 and Result.Err explains it.
func Run(ctx context.Context, o Options) *Result {
	r := &Result{Target: o.Target}
	if o.Socket != "" {
		r.Target = o.Socket
	}
	if o.Pipe != "" {
		r.Target = o.Pipe
	}
	pl, err := makePlan(&o)
	if err != nil {
		r.Err, r.Exit = err, exitcode.For(err)
		return r
	}
	r.Mode = pl.mode
	pr, err := newProber(o, pl)
	if err != nil {
		r.Err, r.Exit = err, exitcode.For(err)
		return r
	}
	pr.run(ctx, r)
	pr.finish(r)
	return r
}

func newProber(o Options, pl *plan) (*prober, error) {
	if o.Count == 0 {
		o.Count = 1
	}
	if o.Parallel == 0 {
		o.Parallel = 4
	}
	if o.GreetPause <= 0 {
		o.GreetPause = 5 * time.Second
	}
	if o.CertWarnDays == 0 {
		o.CertWarnDays = 30
	}
	if o.Timeout <= 0 {
		o.Timeout = session.DefaultTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = session.DefaultConnectTimeout
	}
	if o.InjectionWait <= 0 {
		o.InjectionWait = min(o.Timeout, 3*time.Second)
	}
	if o.TLS == nil {
		o.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	res, err := route.New(route.Options{Server: o.DNSServer, Timeout: o.DNSTimeout})
	if err != nil {
		return nil, usage("give --dns-server as an address, e.g. 127.0.0.1 or [::1]:5353", "--dns-server: %v", err)
	}
	return &prober{
		o: o, p: pl, res: res, sysHosts: o.DNSServer == "", now: now(),
		gates: gates{failOnWarn: o.FailOnWarn, failOn: o.FailOn, ignore: o.Ignore},
		ptr:   map[netip.Addr]*once[[]route.PTR]{},
		tlsa:  map[string]*once[route.TLSAResult]{},
	}, nil
}

// run resolves the target, probes every endpoint and evaluates the domain.
func (pr *prober) run(ctx context.Context, r *Result) {
	var eps []*Endpoint
	var dom *Domain
	var domDone chan struct{}
	switch pr.p.mode {
	case ModeSocket, ModePipe:
		network := "unix"
		if pr.p.mode == ModePipe {
			network = "pipe"
		}
		eps = []*Endpoint{{Network: network, Socket: pr.p.socket, Dial: pr.p.socket, Preference: -1, Implicit: pr.p.implicit, ServerName: pr.o.TLS.ServerName}}
	case ModeHost:
		eps = pr.hostEndpoints(ctx, r)
	case ModeDomain:
		dom = &Domain{Name: pr.p.name}
		r.Domain = dom
		// The TXT records do not depend on the MX hosts: look them up
		// while the endpoints are probed.
		domDone = make(chan struct{})
		go func() {
			defer close(domDone)
			pr.domainRecords(ctx, dom)
		}()
		eps = pr.domainEndpoints(ctx, r, dom)
	}
	if len(eps) > MaxEndpoints {
		// A hostile or careless zone could list hundreds of MX hosts and
		// addresses; probing them all would take hours and look like an
		// attack. The order puts the ones senders try first at the front.
		r.Checks = append(r.Checks, &Check{ID: "probe.limit", Status: Info,
			Summary:  fmt.Sprintf("%d endpoints found; only the first %d are probed", len(eps), MaxEndpoints),
			Evidence: ev("found", len(eps), "probed", MaxEndpoints)})
		eps = eps[:MaxEndpoints]
	}
	r.Endpoints = eps
	sem := make(chan struct{}, pr.o.Parallel)
	var wg sync.WaitGroup
	for _, ep := range eps {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			pr.probeEndpoint(ctx, ep)
		})
	}
	wg.Wait()
	if dom != nil {
		<-domDone
		pr.domainChecks(dom, eps)
	}
}

// hostEndpoints resolves a host target into endpoints.
func (pr *prober) hostEndpoints(ctx context.Context, r *Result) []*Endpoint {
	var addrs []netip.Addr
	host := pr.p.name
	var hostAD bool
	if pr.p.addr.IsValid() {
		addrs = []netip.Addr{pr.p.addr}
	} else {
		t0 := time.Now()
		var err error
		addrs, hostAD, err = pr.lookupHost(ctx, host)
		r.DNS = time.Since(t0)
		var cl checkList
		if err != nil {
			c := cl.failErr("dns.host", err, ev("host", host))
			c.code = dnsExit(err)
			c.Summary = fmt.Sprintf("%s does not resolve: %v", host, err)
			c.Hint = "check the host name, or give --dns-server to ask another resolver"
			r.Checks = cl
			return nil
		}
		addrs = filterFamily(addrs, pr.o.Family)
		if len(addrs) == 0 {
			c := cl.fail("dns.host", exitcode.Network, fmt.Sprintf("%s has no IPv%d address", host, pr.o.Family), ev("host", host))
			c.Hint = "drop -4/-6 to probe the other family"
			r.Checks = cl
			return nil
		}
		cl.addf("dns.host", Pass, ev("host", host, "addresses", addrStrings(addrs), "ad", hostAD), "%s resolves to %s", host, joinAddrs(addrs))
		r.Checks = cl
	}
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	var eps []*Endpoint
	for _, a := range addrs {
		for _, port := range pr.p.ports {
			ep := pr.newEndpoint(host, -1, a, port)
			ep.DNS = r.DNS
			ep.hostAD = hostAD
			ep.hostADKnown = !pr.sysHosts
			eps = append(eps, ep)
		}
	}
	return eps
}

func (pr *prober) newEndpoint(host string, pref int, a netip.Addr, port int) *Endpoint {
	sn := pr.o.TLS.ServerName
	if sn == "" {
		sn = host
	}
	if sn == "" {
		sn = a.String()
	}
	return &Endpoint{
		Host: host, Preference: pref, Addr: a, Port: port, Network: "tcp",
		Dial:       dialAddr(pr.o.ConnectTo, host, a, port),
		Implicit:   pr.p.implicit || port == 465,
		ServerName: sn,
	}
}

// lookupHost resolves a target host: through --dns-server when given,
// else through the system, so /etc/hosts names such as localhost work.
func (pr *prober) lookupHost(ctx context.Context, host string) ([]netip.Addr, bool, error) {
	if pr.sysHosts {
		cctx, cancel := context.WithTimeout(ctx, pr.o.ConnectTimeout)
		defer cancel()
		as, err := net.DefaultResolver.LookupNetIP(cctx, "ip", host)
		for i := range as {
			as[i] = as[i].Unmap()
		}
		return dedupeAddrs(as), false, err
	}
	h, err := pr.res.LookupHost(ctx, host)
	if err != nil {
		return nil, false, err
	}
	return append(append([]netip.Addr(nil), h.IPv4...), h.IPv6...), h.AD, nil
}

// dnsExit maps a lookup failure: a name that does not exist is permanent
// (5), anything else a network failure (3).
func dnsExit(err error) int {
	var de *net.DNSError
	if errors.As(err, &de) {
		if de.IsNotFound {
			return exitcode.Permanent
		}
		return exitcode.Network
	}
	return exitcode.For(err)
}

// domainEndpoints resolves the MX hosts into endpoints.
func (pr *prober) domainEndpoints(ctx context.Context, r *Result, dom *Domain) []*Endpoint {
	t0 := time.Now()
	rt, err := pr.res.Route(ctx, dom.Name)
	r.DNS = time.Since(t0)
	dom.Route, dom.RouteErr = rt, err
	dom.NullMX = route.KindOf(err) == route.KindNullMX
	var eps []*Endpoint
	for _, h := range rt.Hosts {
		addrs := filterFamily(append(append([]netip.Addr(nil), h.IPv4...), h.IPv6...), pr.o.Family)
		slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
		for _, a := range addrs {
			for _, port := range pr.p.ports {
				ep := pr.newEndpoint(h.Name, int(h.Preference), a, port)
				ep.DNS = r.DNS
				ep.domain = dom.Name
				ep.hostAD, ep.hostADKnown = rt.AD && h.AD, true
				eps = append(eps, ep)
			}
		}
	}
	return eps
}

func filterFamily(as []netip.Addr, fam int) []netip.Addr {
	var out []netip.Addr
	for _, a := range as {
		if fam == 0 || fam == 4 && a.Is4() || fam == 6 && !a.Is4() {
			out = append(out, a)
		}
	}
	return out
}

func dedupeAddrs(as []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, a := range as {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

func joinAddrs(as []netip.Addr) string {
	s := ""
	for i, a := range as {
		if i > 0 {
			s += ", "
		}
		s += a.String()
	}
	return s
}

// finish gates every check and picks the exit status and its explanation.
func (pr *prober) finish(r *Result) {
	consider := func(c *Check) {
		c.gate(pr.gates)
		if c.Exit != 0 {
			r.Failed++
		}
		if c.Exit > r.Exit {
			r.Exit, r.Decisive = c.Exit, c
		}
	}
	for _, c := range r.Checks {
		consider(c)
	}
	if r.Domain != nil {
		for _, c := range r.Domain.Checks {
			consider(c)
		}
	}
	for _, ep := range r.Endpoints {
		for _, c := range ep.Checks {
			c.gate(pr.gates)
			ep.Exit = max(ep.Exit, c.Exit)
		}
	}
	for _, ep := range r.Endpoints {
		for _, c := range ep.Checks {
			if c.Exit != 0 {
				r.Failed++
			}
			if c.Exit > r.Exit {
				r.Exit, r.Decisive = c.Exit, c
			}
		}
	}
	if r.Decisive == nil {
		return
	}
	where := r.Target
	if r.Domain != nil {
		where = r.Domain.Name
	}
	for _, ep := range r.Endpoints {
		if slices.Contains(ep.Checks, r.Decisive) {
			where = ep.Label()
		}
	}
	msg := fmt.Sprintf("%s: %s: %s", where, r.Decisive.ID, r.Decisive.Summary)
	if r.Decisive.Status == Warn {
		msg += " (a warning; " + pr.failOnFlag(r.Decisive.ID) + ")"
	}
	if r.Failed > 1 {
		msg += fmt.Sprintf(" (and %d more failed %s)", r.Failed-1, transcript.Plural(r.Failed-1, "check", "checks"))
	}
	r.Err = &exitcode.Error{Code: r.Exit, Msg: msg, Hint: r.Decisive.Hint, Err: r.Decisive.Err}
}

// Final is the reply that ended the decisive endpoint's dialogue (or the
// first endpoint's, when every check passed).
func (r *Result) Final() *session.Reply {
	for _, ep := range r.Endpoints {
		if r.Decisive != nil && slices.Contains(ep.Checks, r.Decisive) {
			return ep.Final
		}
	}
	if len(r.Endpoints) > 0 {
		return r.Endpoints[0].Final
	}
	return nil
}

// Counts tallies every check by status.
func (r *Result) Counts() map[Status]int {
	m := map[Status]int{Pass: 0, Info: 0, Warn: 0, Fail: 0}
	add := func(cs []*Check) {
		for _, c := range cs {
			m[c.Status]++
		}
	}
	add(r.Checks)
	if r.Domain != nil {
		add(r.Domain.Checks)
	}
	for _, ep := range r.Endpoints {
		add(ep.Checks)
	}
	return m
}
