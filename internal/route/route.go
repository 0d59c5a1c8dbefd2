package route

import (
	"cmp"
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Result is where mail for a domain goes (RFC 5321 §5.1).
type Result struct {
	// Domain is the domain asked about, in ASCII (A-labels), lower case,
	// without the trailing dot.
	Domain string
	// Implicit is set when the domain has no MX records and its own
	// addresses are used (the "implicit MX"); Hosts then holds one host, the
	// domain itself, with preference 0.
	Implicit bool
	// Literal is set when Domain was an address literal such as
	// "[192.0.2.1]" or "[IPv6:2001:db8::1]"; Hosts then holds that address
	// and no DNS was asked.
	Literal bool
	// AD is set when the MX answer (or, for an implicit MX, the address
	// answers) carried the AD bit: the resolver validated it with DNSSEC.
	// RFC 7672 looks for TLSA records only when this holds.
	AD bool
	// Hosts are the MX hosts in the order to try them: by preference, and
	// by name within one preference unless Options.Shuffle is set. Only
	// the hosts whose addresses were looked up are here (see Omitted).
	Hosts []Host
	// Omitted counts the MX hosts left out by the bounds on DNS work (at
	// most MaxMXHosts are looked up; RouteWithin looks up fewer, and stops
	// once it has the addresses its Limits allow to try) or dropped by
	// those Limits.
	Omitted int
}

// DNS work one route may cause, whatever the domain publishes. An MX answer
// of 64 KiB (the most DNS carries) names thousands of hosts, each costing
// an A and an AAAA query, and an address answer holds thousands of
// addresses.
const (
	// MaxMXHosts is how many MX hosts of a domain, the most preferred, get
	// their addresses looked up by Route. Real domains publish one to
	// ten; a probe talks to up to 64 endpoints and says when a domain has
	// more, so it needs somewhat more hosts than that.
	MaxMXHosts = 100
	// hostLookupsAtOnce is how many MX hosts are looked up at a time, each
	// with an A and an AAAA query in flight.
	hostLookupsAtOnce = 4
	// maxAnswerAddrs is how many addresses are kept from one A or AAAA
	// answer.
	maxAnswerAddrs = 16
)

// Host is one mail server name and its addresses.
type Host struct {
	Name       string // ASCII, lower case, without the trailing dot
	Preference uint16
	IPv4       []netip.Addr // from A records, in the order the resolver gave them
	IPv6       []netip.Addr // from AAAA records, in the order the resolver gave them
	// AD is set when the address answers that were obtained all carried the
	// AD bit.
	AD bool
	// Err is why an address lookup failed. It can be set alongside
	// addresses (A answered, AAAA timed out): callers that only want to
	// connect look at the addresses; a probe reports the error too.
	Err error
}

// Addrs returns the host's addresses to try: IPv6 first, then IPv4, the
// order RFC 6724's default policy gives.
func (h Host) Addrs() []netip.Addr {
	return append(append([]netip.Addr(nil), h.IPv6...), h.IPv4...)
}

// Route finds the mail servers for domain (RFC 5321 §5.1). domain may be
// Unicode (it is converted with IDNA) or an address literal in brackets.
// The addresses of at most MaxMXHosts MX hosts are looked up, a few hosts at
// a time; the rest are counted in Result.Omitted.
//
// The errors, by Kind: KindNullMX when the domain publishes a null MX (RFC
// 7505); KindNXDomain when the domain does not exist; KindNoData when it has
// neither MX nor address records, or no MX host has an address;
// KindTemporary when the DNS could not answer; KindInvalid for a malformed
// domain. Whenever the MX lookup itself succeeded, the Result is filled in
// even if an error is returned, so a probe can show what it found.
func (r *Resolver) Route(ctx context.Context, domain string) (Result, error) {
	return r.route(ctx, domain, 0, MaxMXHosts)
}

// RouteWithin is Route for a delivery or an address check: it looks up MX
// hosts, in preference order, only until it has the addresses lim allows
// to try, and no more than twice that many hosts (10 by default), so
// hosts that do not resolve leave room for others but cannot make a route
// ask dozens of questions. The Result is trimmed to the addresses that
// may be tried (Limits.Trim); hosts left out are counted in
// Result.Omitted.
func (r *Resolver) RouteWithin(ctx context.Context, domain string, lim Limits) (Result, error) {
	lim = lim.orDefault()
	res, err := r.route(ctx, domain, lim.MaxAddresses, 2*lim.MaxAddresses)
	var dropped int
	res.Hosts, dropped = lim.Trim(res.Hosts)
	res.Omitted += dropped
	return res, err
}

// route is Route, looking up the addresses of maxHosts MX hosts at most,
// and only until want addresses are known when want is positive.
func (r *Resolver) route(ctx context.Context, domain string, want, maxHosts int) (Result, error) {
	if strings.HasPrefix(domain, "[") {
		return literal(domain)
	}
	name, err := ToASCII(domain)
	if err != nil {
		return Result{}, err
	}
	res := Result{Domain: name}
	ans, err := r.query(ctx, name, dns.TypeMX, false)
	switch KindOf(err) {
	case 0:
	case KindNoData:
		return r.implicit(ctx, res)
	default:
		return res, err
	}
	res.AD = ans.ad

	// Collect the targets, dropping duplicates (the lowest preference wins)
	// and "." targets, which are what make a null MX.
	var hosts []Host
	seen := map[string]int{}
	dots := 0
	for _, rr := range ans.rrs {
		mx := rr.(*dns.MX)
		target := strings.ToLower(strings.TrimSuffix(mx.Mx, "."))
		if target == "" {
			dots++
			continue
		}
		if i, ok := seen[target]; ok {
			hosts[i].Preference = min(hosts[i].Preference, mx.Preference)
			continue
		}
		seen[target] = len(hosts)
		hosts = append(hosts, Host{Name: target, Preference: mx.Preference})
	}
	if len(hosts) == 0 && dots > 0 {
		// RFC 7505 §3 defines the null MX as one "MX 0 ."; any preference is
		// accepted here because a lone "." leaves nowhere to deliver anyway.
		// With other MX records beside it the "." is a misconfiguration and
		// is ignored, so mail still goes to the real hosts.
		return res, &Error{Kind: KindNullMX, Name: name, Type: "MX", Server: ans.server,
			Msg: "the domain accepts no mail (null MX, RFC 7505)"}
	}
	slices.SortFunc(hosts, func(a, b Host) int {
		return cmp.Or(cmp.Compare(a.Preference, b.Preference), strings.Compare(a.Name, b.Name))
	})
	if r.shuffle {
		for i := 0; i < len(hosts); {
			j := i + 1
			for j < len(hosts) && hosts[j].Preference == hosts[i].Preference {
				j++
			}
			group := hosts[i:j]
			rand.Shuffle(len(group), func(a, b int) { group[a], group[b] = group[b], group[a] })
			i = j
		}
	}

	res.Hosts = r.lookupHosts(ctx, hosts[:min(len(hosts), maxHosts)], want)
	res.Omitted = len(hosts) - len(res.Hosts)
	if !slices.ContainsFunc(res.Hosts, func(h Host) bool { return len(h.IPv4)+len(h.IPv6) > 0 }) {
		kind := KindNoData
		for _, h := range res.Hosts {
			if KindOf(h.Err) == KindTemporary {
				kind = KindTemporary
				break
			}
		}
		return res, &Error{Kind: kind, Name: name, Msg: "no MX host has an address" + hostErrors(res.Hosts)}
	}
	return res, nil
}

// lookupHosts looks up the addresses of hosts in order, hostLookupsAtOnce
// hosts at a time, and returns the hosts it looked up: all of them, or,
// when want is positive, those up to the one that made want addresses
// known. A host that resolves gives at least one address, so a round asks
// about no more hosts than addresses are still wanted.
func (r *Resolver) lookupHosts(ctx context.Context, hosts []Host, want int) []Host {
	found, i := 0, 0
	for i < len(hosts) && (want <= 0 || found < want) {
		n := min(len(hosts)-i, hostLookupsAtOnce)
		if want > 0 {
			n = min(n, want-found)
		}
		round := hosts[i : i+n]
		var wg sync.WaitGroup
		for k := range round {
			wg.Go(func() {
				pref := round[k].Preference
				round[k] = r.lookupHost(ctx, round[k].Name)
				round[k].Preference = pref
			})
		}
		wg.Wait()
		for _, h := range round {
			found += len(h.IPv4) + len(h.IPv6)
		}
		i += n
	}
	return hosts[:i]
}

// hostErrors summarises why each host failed, for the message of a route
// that found no address at all.
func hostErrors(hosts []Host) string {
	var parts []string
	for _, h := range hosts {
		if h.Err != nil {
			parts = append(parts, h.Err.Error())
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// implicit completes res for a domain without MX records: RFC 5321 §5.1
// treats the domain itself as the only MX, with preference 0.
func (r *Resolver) implicit(ctx context.Context, res Result) (Result, error) {
	h := r.lookupHost(ctx, res.Domain)
	res.Implicit = true
	res.AD = h.AD
	res.Hosts = []Host{h}
	if len(h.IPv4)+len(h.IPv6) > 0 {
		return res, nil
	}
	if k := KindOf(h.Err); k != KindNoData {
		return res, h.Err
	}
	return res, &Error{Kind: KindNoData, Name: res.Domain, Msg: "no MX, A or AAAA records"}
}

// literal handles an RFC 5321 §4.1.3 address literal. The IPv6 form needs
// its "IPv6:" tag by the RFC; a bare IPv6 address in brackets is accepted
// too, since nobody could mean anything else by it.
func literal(domain string) (Result, error) {
	inner, ok := strings.CutSuffix(domain[1:], "]")
	if !ok {
		return Result{}, invalid(domain, "address literal without a closing ']'")
	}
	if len(inner) > 5 && strings.EqualFold(inner[:5], "IPv6:") {
		inner = inner[5:]
	}
	a, err := netip.ParseAddr(inner)
	if err != nil || a.Zone() != "" {
		return Result{}, invalid(domain, "not an IPv4 or IPv6 address literal")
	}
	a = a.Unmap()
	h := Host{Name: a.String()}
	if a.Is4() {
		h.IPv4 = []netip.Addr{a}
	} else {
		h.IPv6 = []netip.Addr{a}
	}
	return Result{Domain: domain, Literal: true, Hosts: []Host{h}}, nil
}

// LookupHost resolves a host name to its IPv4 and IPv6 addresses, as Route
// does for each MX host; use it for a server named on the command line
// (verify --mx). The error is non-nil only when no address was found; a
// partial failure is left in Host.Err.
func (r *Resolver) LookupHost(ctx context.Context, host string) (Host, error) {
	name, err := ToASCII(host)
	if err != nil {
		return Host{}, err
	}
	h := r.lookupHost(ctx, name)
	if len(h.IPv4)+len(h.IPv6) == 0 {
		return h, h.Err
	}
	return h, nil
}

// lookupHost asks for A and AAAA at once. name is already ASCII.
func (r *Resolver) lookupHost(ctx context.Context, name string) Host {
	h := Host{Name: name}
	var err4, err6 error
	var ad4, ad6 bool
	var wg sync.WaitGroup
	wg.Go(func() { h.IPv4, ad4, err4 = r.addrs(ctx, name, dns.TypeA) })
	wg.Go(func() { h.IPv6, ad6, err6 = r.addrs(ctx, name, dns.TypeAAAA) })
	wg.Wait()
	h.AD = ad4 && ad6
	k4, k6 := KindOf(err4), KindOf(err6)
	switch {
	case k4 == KindNoData && k6 == KindNoData:
		h.Err = &Error{Kind: KindNoData, Name: name, Msg: "no A or AAAA records"}
	case err4 != nil && k4 != KindNoData:
		h.Err = err4
	case err6 != nil && k6 != KindNoData:
		h.Err = err6
	}
	// Otherwise one family is missing, which is normal and no error.
	return h
}

// addrs returns the addresses of one family and the AD bit of the answer
// (also of a NoData answer, whose denial may be authenticated).
func (r *Resolver) addrs(ctx context.Context, name string, qtype uint16) ([]netip.Addr, bool, error) {
	ans, err := r.query(ctx, name, qtype, false)
	if err != nil {
		return nil, ans.ad, err
	}
	var out []netip.Addr
	for _, rr := range ans.rrs {
		var a netip.Addr
		switch rr := rr.(type) {
		case *dns.A:
			a, _ = netip.AddrFromSlice(rr.A.To4())
		case *dns.AAAA:
			a, _ = netip.AddrFromSlice(rr.AAAA.To16())
		}
		if a.IsValid() && !slices.Contains(out, a) {
			out = append(out, a)
			if len(out) == maxAnswerAddrs {
				break
			}
		}
	}
	return out, ans.ad, nil
}
