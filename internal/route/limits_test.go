package route_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/dnstest"
	"github.com/smtpx/smtpx/internal/route"
)

// hostileZone has a domain with 120 MX hosts, each with one address, one
// with 30 MX hosts that do not resolve, and a host with 508 A records:
// what a zone can publish to make a client work.
func hostileZone() string {
	var b strings.Builder
	for i := range 120 {
		fmt.Fprintf(&b, "wide.example. MX %d mx%03d.wide.example.\n", 10+i, i)
		fmt.Fprintf(&b, "mx%03d.wide.example. A 127.0.%d.%d\n", i, 3, i+1)
	}
	for i := range 30 {
		fmt.Fprintf(&b, "void.example. MX %d mx%02d.void.example.\n", 10+i, i)
	}
	b.WriteString("deep.example. MX 10 many.deep.example.\n")
	for i := range 508 {
		fmt.Fprintf(&b, "many.deep.example. A 127.1.%d.%d\n", i/250, i%250+1)
	}
	b.WriteString("flat.example. A 127.2.0.1\n")
	for i := range 508 {
		fmt.Fprintf(&b, "flat.example. AAAA fd00::%x\n", i+1)
	}
	return b.String()
}

func countQueries(srv *dnstest.Server, qtype string) int {
	n := 0
	for _, q := range srv.Queries() {
		if q.Type == qtype {
			n++
		}
	}
	return n
}

func TestRouteBoundsDNSWork(t *testing.T) {
	srv := dnstest.Start(t, hostileZone())
	// A delay on every address query makes the lookups that the resolver
	// runs at once overlap, so the server sees how many there are.
	srv.On("", "A", dnstest.Behaviour{Delay: 50 * time.Millisecond})
	srv.On("", "AAAA", dnstest.Behaviour{Delay: 50 * time.Millisecond})
	r := resolver(t, srv)
	res, err := r.Route(t.Context(), "wide.example")
	if err != nil {
		t.Fatal(err)
	}
	// The 100 most preferred hosts (route.MaxMXHosts), and no more
	// queries.
	if len(res.Hosts) != 100 || res.Omitted != 20 {
		t.Errorf("%d hosts, %d omitted; want 100 and 20", len(res.Hosts), res.Omitted)
	} else if res.Hosts[0].Name != "mx000.wide.example" || res.Hosts[99].Name != "mx099.wide.example" {
		t.Errorf("not the most preferred hosts: %s ... %s", res.Hosts[0].Name, res.Hosts[99].Name)
	}
	if n := countQueries(srv, "A"); n != 100 {
		t.Errorf("%d A queries, want 100", n)
	}
	// Four hosts at a time, an A and an AAAA query each (and the MX query
	// is over by then).
	if n := srv.MaxInFlight(); n > 8 {
		t.Errorf("%d queries in flight at once, want at most 8", n)
	}

	// One answer's addresses are bounded too.
	h, err := r.LookupHost(t.Context(), "many.deep.example")
	if err != nil || len(h.IPv4) != 16 || h.IPv4[0] != netip.MustParseAddr("127.1.0.1") {
		t.Errorf("LookupHost kept %d of 508 addresses (%v), want the first 16", len(h.IPv4), err)
	}
}

func TestRouteWithinLooksUpOnlyWhatItTries(t *testing.T) {
	srv := dnstest.Start(t, hostileZone())
	r := resolver(t, srv)
	res, err := r.RouteWithin(t.Context(), "wide.example", route.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range res.Hosts {
		for _, a := range h.Addrs() {
			got = append(got, h.Name+"="+a.String())
		}
	}
	want := []string{"mx000.wide.example=127.0.3.1", "mx001.wide.example=127.0.3.2", "mx002.wide.example=127.0.3.3",
		"mx003.wide.example=127.0.3.4", "mx004.wide.example=127.0.3.5"}
	if !slices.Equal(got, want) || res.Omitted != 115 {
		t.Errorf("addresses %v, omitted %d; want %v, 115", got, res.Omitted, want)
	}
	// Five hosts give five addresses: no sixth host is looked up.
	if n := countQueries(srv, "A"); n != 5 {
		t.Errorf("%d A queries for 5 addresses", n)
	}

	// Hosts that do not resolve: ten are asked about (twice the address
	// limit), four at a time.
	before := countQueries(srv, "A")
	res, err = r.RouteWithin(t.Context(), "void.example", route.DefaultLimits)
	if route.KindOf(err) != route.KindNoData || len(res.Hosts) != 10 || res.Omitted != 20 {
		t.Errorf("30 hosts without addresses: %d hosts, %d omitted, %v; want 10, 20, nodata", len(res.Hosts), res.Omitted, err)
	}
	if n := countQueries(srv, "A") - before; n != 10 {
		t.Errorf("%d A queries for 30 hosts without addresses, want 10", n)
	}

	res, err = r.RouteWithin(t.Context(), "deep.example", route.DefaultLimits)
	if err != nil || len(res.Hosts) != 1 || len(res.Hosts[0].Addrs()) != 5 {
		t.Errorf("508 A records: %d hosts, %d addresses, %v; want 1 and 5", len(res.Hosts), len(res.Hosts[0].Addrs()), err)
	}
	// The implicit MX is bounded the same way; IPv6 comes first.
	res, err = r.RouteWithin(t.Context(), "flat.example", route.DefaultLimits)
	if err != nil || !res.Implicit || len(res.Hosts) != 1 || len(res.Hosts[0].IPv6) != 5 || len(res.Hosts[0].IPv4) != 0 {
		t.Errorf("implicit MX with 509 addresses: %d hosts, %d IPv6 and %d IPv4, %v; want 1, 5, 0",
			len(res.Hosts), len(res.Hosts[0].IPv6), len(res.Hosts[0].IPv4), err)
	}
}

func TestRouteWithinSkipsHostsWithoutAddresses(t *testing.T) {
	srv := dnstest.Start(t, `
		gaps.example. MX 10 a.gaps.example.
		gaps.example. MX 20 gone.gaps.example.
		gaps.example. MX 30 b.gaps.example.
		gaps.example. MX 40 c.gaps.example.
		a.gaps.example. A 127.0.0.1
		a.gaps.example. A 127.0.0.2
		a.gaps.example. AAAA ::1
		b.gaps.example. A 127.0.0.3
		b.gaps.example. A 127.0.0.4
		c.gaps.example. A 127.0.0.5
	`)
	res, err := resolver(t, srv).RouteWithin(t.Context(), "gaps.example", route.Limits{MaxAddresses: 4})
	if err != nil {
		t.Fatal(err)
	}
	// a: ::1, 127.0.0.1, 127.0.0.2; gone: none (kept, to be reported);
	// b: 127.0.0.3 only; c: beyond the limit.
	var got []string
	for _, h := range res.Hosts {
		got = append(got, fmt.Sprintf("%s%v", h.Name, h.Addrs()))
	}
	want := []string{"a.gaps.example[::1 127.0.0.1 127.0.0.2]", "gone.gaps.example[]", "b.gaps.example[127.0.0.3]"}
	if !slices.Equal(got, want) || res.Omitted != 1 {
		t.Errorf("hosts %v omitted %d, want %v and 1", got, res.Omitted, want)
	}
	if res.Hosts[1].Err == nil {
		t.Errorf("the host without addresses lost its error")
	}
}

func TestTries(t *testing.T) {
	// Five silent addresses: all tried, no sixth.
	tr := route.DefaultLimits.Tries()
	n := 0
	for tr.Next() {
		n++
	}
	if n != 5 || !strings.Contains(tr.Why(), "5 addresses") {
		t.Errorf("silent: %d tries, %q", n, tr.Why())
	}
	// Servers that answer and fail: two sessions, then stop.
	tr = route.Limits{}.Tries()
	n = 0
	for tr.Next() {
		n++
		tr.Answered()
	}
	if n != 2 || !strings.Contains(tr.Why(), "2 servers answered") {
		t.Errorf("answering: %d tries, %q", n, tr.Why())
	}
	// A mix: silent, answered, silent, answered.
	tr = route.Limits{MaxAddresses: 5, MaxSessions: 2}.Tries()
	n = 0
	for tr.Next() {
		n++
		if n%2 == 0 {
			tr.Answered()
		}
	}
	if n != 4 || tr.More() {
		t.Errorf("mixed: %d tries", n)
	}
}
