package route

import (
	"slices"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/dnstest"
)

// Several servers can only come from resolv.conf, which always means port
// 53, so these tests set the list directly.

func TestFailoverToNextServer(t *testing.T) {
	bad := dnstest.Start(t, "")
	bad.On("", "", dnstest.Behaviour{Rcode: "SERVFAIL"})
	dropping := dnstest.Start(t, "")
	dropping.On("", "", dnstest.Behaviour{Drop: true})
	good := dnstest.Start(t, "example. MX 10 mx.example.\nmx.example. A 127.0.0.1\n")
	r := &Resolver{servers: []string{bad.Addr(), dropping.Addr(), good.Addr()}, timeout: 50 * time.Millisecond, attempts: 1}

	res, err := r.Route(t.Context(), "example")
	if err != nil || len(res.Hosts) != 1 || len(res.Hosts[0].IPv4) != 1 {
		t.Fatalf("Route = %+v, %v", res, err)
	}
	// Every question went down the list until the good server answered.
	if n, m := len(bad.Queries()), len(dropping.Queries()); n != 3 || m != 3 {
		t.Errorf("bad saw %d, dropping saw %d queries; want 3 each (MX, A, AAAA)", n, m)
	}
}

func TestAllServersFailing(t *testing.T) {
	a := dnstest.Start(t, "")
	a.On("", "", dnstest.Behaviour{Rcode: "SERVFAIL"})
	b := dnstest.Start(t, "")
	b.On("", "", dnstest.Behaviour{Rcode: "REFUSED"})
	r := &Resolver{servers: []string{a.Addr(), b.Addr()}, timeout: time.Second, attempts: 2}
	_, err := r.LookupTXT(t.Context(), "example")
	if KindOf(err) != KindTemporary {
		t.Fatalf("error = %v, want temporary", err)
	}
	// The last failure is reported, naming its server.
	if want := "lookup TXT example: query refused (REFUSED) (server " + b.Addr() + ")"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if len(a.Queries()) != 2 || len(b.Queries()) != 2 {
		t.Errorf("queries: %d and %d, want two rounds over both servers", len(a.Queries()), len(b.Queries()))
	}
}

func TestFormErrRetriedWithoutEDNS(t *testing.T) {
	srv := dnstest.Start(t, "")
	srv.On("", "", dnstest.Behaviour{Rcode: "FORMERR"})
	r := &Resolver{servers: []string{srv.Addr()}, timeout: time.Second, attempts: 1}
	_, err := r.LookupTXT(t.Context(), "example")
	if KindOf(err) != KindTemporary {
		t.Fatalf("error = %v, want temporary", err)
	}
	var edns []bool
	for _, q := range srv.Queries() {
		edns = append(edns, q.EDNS)
	}
	if !slices.Equal(edns, []bool{true, false}) {
		t.Errorf("EDNS per query = %v, want a retry without it", edns)
	}
}
