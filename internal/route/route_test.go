package route_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/dnstest"
	"github.com/smtpx/smtpx/internal/route"
)

// zone is shared by most tests: one domain per case.
const zone = `
$ORIGIN example.
ordered          MX  20 mx-b.ordered.example.
ordered          MX  10 mx-c.ordered.example.
ordered          MX  10 mx-a.ordered.example.
ordered          MX  30 mx-a.ordered.example.
mx-a.ordered     A     127.0.0.11
mx-a.ordered     AAAA  ::1
mx-b.ordered     A     127.0.0.12
mx-b.ordered     A     127.0.0.13
mx-c.ordered     AAAA  ::2

implicit         A     127.0.0.21
implicit         AAAA  ::21
txtonly          TXT   "no mail here"

null             MX  0 .
mixednull        MX  0 .
mixednull        MX  10 mx.mixednull.example.
mx.mixednull     A   127.0.0.31

nohosts          MX  10 gone.nohosts.example.
nohosts          MX  20 empty.nohosts.example.
empty.nohosts    TXT   "exists without addresses"

partial          MX  10 mx.partial.example.
mx.partial       A   127.0.0.41
mx.partial       AAAA ::41

alias            CNAME real.example.
real             MX  10 mx.real.example.
mx.real          A   127.0.0.51
dangling         CNAME missing.elsewhere.
loop1            CNAME loop2.example.
loop2            CNAME loop1.example.

xn--bcher-kva    MX  10 mx.xn--bcher-kva.example.
mx.xn--bcher-kva A   127.0.0.61

servfail         MX  10 mx.servfail.example.
`

func resolver(t *testing.T, srv *dnstest.Server, opts ...func(*route.Options)) *route.Resolver {
	t.Helper()
	o := route.Options{Server: srv.Addr()}
	for _, f := range opts {
		f(&o)
	}
	r, err := route.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func wantKind(t *testing.T, err error, k route.Kind) {
	t.Helper()
	if got := route.KindOf(err); got != k {
		t.Fatalf("error kind = %v (%v), want %v", got, err, k)
	}
}

func TestRouteMXOrder(t *testing.T) {
	srv := dnstest.Start(t, zone)
	res, err := resolver(t, srv).Route(t.Context(), "Ordered.Example.")
	if err != nil {
		t.Fatal(err)
	}
	if res.Domain != "ordered.example" || res.Implicit || res.Literal || res.AD {
		t.Errorf("result = %+v", res)
	}
	type host struct {
		name       string
		pref       uint16
		ipv4, ipv6 []netip.Addr
	}
	var got []host
	for _, h := range res.Hosts {
		if h.Err != nil {
			t.Errorf("%s: %v", h.Name, h.Err)
		}
		got = append(got, host{h.Name, h.Preference, h.IPv4, h.IPv6})
	}
	// Preference first, name second; the duplicate mx-a keeps its lower
	// preference; IPv4 and IPv6 stay apart and in answer order.
	want := []host{
		{"mx-a.ordered.example", 10, addrs("127.0.0.11"), addrs("::1")},
		{"mx-c.ordered.example", 10, nil, addrs("::2")},
		{"mx-b.ordered.example", 20, addrs("127.0.0.12", "127.0.0.13"), nil},
	}
	if len(got) != len(want) {
		t.Fatalf("hosts = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.name != w.name || g.pref != w.pref || !slices.Equal(g.ipv4, w.ipv4) || !slices.Equal(g.ipv6, w.ipv6) {
			t.Errorf("host %d = %+v, want %+v", i, g, w)
		}
	}
	if a := res.Hosts[0].Addrs(); !slices.Equal(a, addrs("::1", "127.0.0.11")) {
		t.Errorf("Addrs() = %v, want IPv6 then IPv4", a)
	}
}

func TestRouteShuffleKeepsPreferenceOrder(t *testing.T) {
	srv := dnstest.Start(t, zone)
	r := resolver(t, srv, func(o *route.Options) { o.Shuffle = true })
	res, err := r.Route(t.Context(), "ordered.example")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range res.Hosts {
		names = append(names, h.Name)
	}
	// Only the order within preference 10 may vary.
	if len(names) != 3 || names[2] != "mx-b.ordered.example" ||
		!slices.Contains(names[:2], "mx-a.ordered.example") || !slices.Contains(names[:2], "mx-c.ordered.example") {
		t.Errorf("hosts = %v", names)
	}
}

func TestRouteImplicitMX(t *testing.T) {
	srv := dnstest.Start(t, zone)
	res, err := resolver(t, srv).Route(t.Context(), "implicit.example")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Implicit || len(res.Hosts) != 1 {
		t.Fatalf("result = %+v, want one implicit host", res)
	}
	h := res.Hosts[0]
	if h.Name != "implicit.example" || h.Preference != 0 || !slices.Equal(h.IPv4, addrs("127.0.0.21")) || !slices.Equal(h.IPv6, addrs("::21")) {
		t.Errorf("host = %+v", h)
	}
}

func TestRouteNoMXNoAddress(t *testing.T) {
	srv := dnstest.Start(t, zone)
	res, err := resolver(t, srv).Route(t.Context(), "txtonly.example")
	wantKind(t, err, route.KindNoData)
	if !res.Implicit {
		t.Errorf("result = %+v, want the implicit MX it tried", res)
	}
	if !strings.Contains(err.Error(), "no MX, A or AAAA records") {
		t.Errorf("error = %q", err)
	}
}

func TestRouteNullMX(t *testing.T) {
	srv := dnstest.Start(t, zone)
	r := resolver(t, srv)
	res, err := r.Route(t.Context(), "null.example")
	wantKind(t, err, route.KindNullMX)
	if res.Domain != "null.example" || len(res.Hosts) != 0 {
		t.Errorf("result = %+v", res)
	}
	if !strings.Contains(err.Error(), "null MX") {
		t.Errorf("error = %q", err)
	}
	// No address lookups follow a null MX.
	for _, q := range srv.Queries() {
		if q.Type != "MX" {
			t.Errorf("unexpected query %+v", q)
		}
	}

	// A "." beside real MX records is a misconfiguration, not a null MX.
	res, err = r.Route(t.Context(), "mixednull.example")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hosts) != 1 || res.Hosts[0].Name != "mx.mixednull.example" {
		t.Errorf("hosts = %+v", res.Hosts)
	}
}

func TestRouteNXDomain(t *testing.T) {
	srv := dnstest.Start(t, zone)
	_, err := resolver(t, srv).Route(t.Context(), "nosuch.example")
	wantKind(t, err, route.KindNXDomain)
	if got := err.Error(); got != "lookup MX nosuch.example: no such domain (NXDOMAIN)" {
		t.Errorf("error = %q", got)
	}
}

func TestRouteServFail(t *testing.T) {
	srv := dnstest.Start(t, zone)
	srv.On("servfail.example", "MX", dnstest.Behaviour{Rcode: "SERVFAIL"})
	r := resolver(t, srv, func(o *route.Options) { o.Attempts = 1 })
	_, err := r.Route(t.Context(), "servfail.example")
	wantKind(t, err, route.KindTemporary)
	if want := "lookup MX servfail.example: server failure (SERVFAIL) (server " + srv.Addr() + ")"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestRoutePartialAddressFailure(t *testing.T) {
	srv := dnstest.Start(t, zone)
	srv.On("mx.partial.example", "AAAA", dnstest.Behaviour{Rcode: "SERVFAIL"})
	res, err := resolver(t, srv, func(o *route.Options) { o.Attempts = 1 }).Route(t.Context(), "partial.example")
	if err != nil {
		t.Fatal(err)
	}
	h := res.Hosts[0]
	if !slices.Equal(h.IPv4, addrs("127.0.0.41")) || h.IPv6 != nil {
		t.Errorf("host = %+v", h)
	}
	wantKind(t, h.Err, route.KindTemporary)
}

func TestRouteHostsWithoutAddresses(t *testing.T) {
	srv := dnstest.Start(t, zone)
	r := resolver(t, srv, func(o *route.Options) { o.Attempts = 1 })
	res, err := r.Route(t.Context(), "nohosts.example")
	wantKind(t, err, route.KindNoData)
	if len(res.Hosts) != 2 {
		t.Fatalf("hosts = %+v", res.Hosts)
	}
	wantKind(t, res.Hosts[0].Err, route.KindNXDomain)
	wantKind(t, res.Hosts[1].Err, route.KindNoData)

	// When one host could not be asked about, the route may yet work later.
	srv.On("empty.nohosts.example", "A", dnstest.Behaviour{Rcode: "REFUSED"})
	_, err = r.Route(t.Context(), "nohosts.example")
	wantKind(t, err, route.KindTemporary)
}

func TestRouteCNAME(t *testing.T) {
	srv := dnstest.Start(t, zone)
	r := resolver(t, srv)
	res, err := r.Route(t.Context(), "alias.example")
	if err != nil {
		t.Fatal(err)
	}
	if res.Domain != "alias.example" || len(res.Hosts) != 1 || res.Hosts[0].Name != "mx.real.example" {
		t.Errorf("result = %+v", res)
	}

	// The server answers only the CNAME; the resolver follows it itself.
	_, err = r.Route(t.Context(), "dangling.example")
	wantKind(t, err, route.KindNXDomain)
	if qs := srv.Queries(); !slices.ContainsFunc(qs, func(q dnstest.Query) bool { return q.Name == "missing.elsewhere." }) {
		t.Errorf("CNAME target never asked: %+v", qs)
	}

	_, err = r.Route(t.Context(), "loop1.example")
	wantKind(t, err, route.KindNoData)
}

func TestRouteIDNA(t *testing.T) {
	srv := dnstest.Start(t, zone)
	r := resolver(t, srv)
	for _, in := range []string{"bücher.example", "BÜCHER.example.", "xn--bcher-kva.example"} {
		res, err := r.Route(t.Context(), in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if res.Domain != "xn--bcher-kva.example" || len(res.Hosts) != 1 || !slices.Equal(res.Hosts[0].IPv4, addrs("127.0.0.61")) {
			t.Errorf("%s: result = %+v", in, res)
		}
	}
	n := len(srv.Queries())
	_, err := r.Route(t.Context(), "bad\u200d.example") // a joiner outside its allowed context
	wantKind(t, err, route.KindInvalid)
	if len(srv.Queries()) != n {
		t.Errorf("an invalid name was sent to the server")
	}
}

func TestRouteLiteral(t *testing.T) {
	srv := dnstest.Start(t, zone)
	r := resolver(t, srv)
	for in, want := range map[string]netip.Addr{
		"[127.0.0.1]":        netip.MustParseAddr("127.0.0.1"),
		"[IPv6:::1]":         netip.MustParseAddr("::1"),
		"[ipv6:2001:db8::1]": netip.MustParseAddr("2001:db8::1"),
		"[::1]":              netip.MustParseAddr("::1"),
	} {
		res, err := r.Route(t.Context(), in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !res.Literal || len(res.Hosts) != 1 || !slices.Equal(res.Hosts[0].Addrs(), []netip.Addr{want}) {
			t.Errorf("%s: result = %+v", in, res)
		}
	}
	for _, in := range []string{"[127.0.0.1", "[mx.example]", "[fe80::1%eth0]"} {
		_, err := r.Route(t.Context(), in)
		wantKind(t, err, route.KindInvalid)
	}
	if qs := srv.Queries(); len(qs) != 0 {
		t.Errorf("address literals caused queries: %+v", qs)
	}
}

func TestLookupHost(t *testing.T) {
	srv := dnstest.Start(t, zone)
	r := resolver(t, srv)
	h, err := r.LookupHost(t.Context(), "mx-a.ordered.example")
	if err != nil || !slices.Equal(h.Addrs(), addrs("::1", "127.0.0.11")) {
		t.Errorf("LookupHost = %+v, %v", h, err)
	}
	_, err = r.LookupHost(t.Context(), "empty.nohosts.example")
	wantKind(t, err, route.KindNoData)
}

func TestLookupTXT(t *testing.T) {
	srv := dnstest.Start(t, `
$ORIGIN example.
_mta-sts.mail     TXT "v=STSv1; " "id=20240101"
mail              TXT "v=spf1 -all"
mail              TXT "google-site-verification=x"
_dmarc.nodmarc    TXT "not here"
`)
	r := resolver(t, srv)
	got, err := r.LookupTXT(t.Context(), "_mta-sts.mail.example")
	if err != nil || !slices.Equal(got, []string{"v=STSv1; id=20240101"}) {
		t.Errorf("_mta-sts = %q, %v", got, err)
	}
	got, err = r.LookupTXT(t.Context(), "mail.example")
	if err != nil || !slices.Equal(got, []string{"v=spf1 -all", "google-site-verification=x"}) {
		t.Errorf("SPF = %q, %v", got, err)
	}
	_, err = r.LookupTXT(t.Context(), "_smtp._tls.mail.example")
	wantKind(t, err, route.KindNXDomain)
	_, err = r.LookupTXT(t.Context(), "nodmarc.example") // exists (has a name below it), no TXT
	wantKind(t, err, route.KindNoData)
}

const tlsaZone = `
$ORIGIN example.
_25._tcp.mx.signed    TLSA 3 1 1 8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1
_25._tcp.mx.signed    TLSA 2 0 1 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20
mx.signed             A    127.0.0.71
mx.unsigned           A    127.0.0.72
_25._tcp.mx.unsigned  TLSA 3 1 1 8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1
`

func TestLookupTLSA(t *testing.T) {
	srv := dnstest.Start(t, tlsaZone)
	srv.On("_25._tcp.mx.signed.example", "TLSA", dnstest.Behaviour{AD: true})
	srv.On("_25._tcp.mx.none.example", "", dnstest.Behaviour{AD: true, Rcode: "NXDOMAIN"})
	r := resolver(t, srv)

	res, err := r.LookupTLSA(t.Context(), "MX.signed.example", 25)
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "_25._tcp.mx.signed.example" || !res.AD || len(res.Records) != 2 {
		t.Fatalf("result = %+v", res)
	}
	if got := res.Records[0].String(); got != "3 1 1 8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1" {
		t.Errorf("record 0 = %s", got)
	}
	if r1 := res.Records[1]; r1.Usage != 2 || r1.Selector != 0 || r1.MatchingType != 1 || len(r1.Data) != 32 || r1.Data[0] != 1 {
		t.Errorf("record 1 = %+v", r1)
	}
	qs := srv.Queries()
	if q := qs[len(qs)-1]; q.Type != "TLSA" || !q.DO || !q.EDNS {
		t.Errorf("query = %+v, want TLSA with the DO bit", q)
	}

	res, err = r.LookupTLSA(t.Context(), "mx.unsigned.example", 25)
	if err != nil || res.AD || len(res.Records) != 1 {
		t.Errorf("unsigned: %+v, %v", res, err)
	}

	// An authenticated denial: no DANE, and provably so.
	res, err = r.LookupTLSA(t.Context(), "mx.none.example", 25)
	wantKind(t, err, route.KindNXDomain)
	if !res.AD {
		t.Errorf("denial AD = false, want true")
	}

	_, err = r.LookupTLSA(t.Context(), "mx.signed.example", 0)
	wantKind(t, err, route.KindInvalid)
}

func TestRouteAD(t *testing.T) {
	srv := dnstest.Start(t, zone)
	srv.On("", "", dnstest.Behaviour{AD: true})
	r := resolver(t, srv)
	res, err := r.Route(t.Context(), "ordered.example")
	if err != nil || !res.AD || !res.Hosts[0].AD {
		t.Errorf("Route = %+v, %v; want AD on the MX and the host", res, err)
	}
	for _, q := range srv.Queries() {
		if !q.AD || q.DO {
			t.Errorf("query %+v: want AD requested, DO only for TLSA", q)
		}
	}
}

func TestLookupPTR(t *testing.T) {
	srv := dnstest.Start(t, `
2.0.0.127.in-addr.arpa.  PTR mx.example.
2.0.0.127.in-addr.arpa.  PTR Liar.Example.
mx.example.              A   127.0.0.2
liar.example.            A   127.0.0.99
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. PTR six.example.
six.example.             AAAA ::1
`)
	r := resolver(t, srv)
	got, err := r.LookupPTR(t.Context(), netip.MustParseAddr("127.0.0.2"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 ||
		got[0].Name != "mx.example" || !got[0].Confirmed || got[0].Err != nil ||
		got[1].Name != "liar.example" || got[1].Confirmed || !slices.Equal(got[1].Addrs, addrs("127.0.0.99")) {
		t.Errorf("PTR = %+v", got)
	}

	got, err = r.LookupPTR(t.Context(), netip.MustParseAddr("::1"))
	if err != nil || len(got) != 1 || got[0].Name != "six.example" || !got[0].Confirmed {
		t.Errorf("PTR ::1 = %+v, %v", got, err)
	}

	// A 4-in-6 address is asked about as IPv4.
	got, err = r.LookupPTR(t.Context(), netip.MustParseAddr("::ffff:127.0.0.2"))
	if err != nil || len(got) != 2 || !got[0].Confirmed {
		t.Errorf("PTR 4in6 = %+v, %v", got, err)
	}

	_, err = r.LookupPTR(t.Context(), netip.MustParseAddr("127.0.0.3"))
	wantKind(t, err, route.KindNXDomain)
}

func TestTruncatedAnswerRetriedOverTCP(t *testing.T) {
	srv := dnstest.Start(t, zone)
	srv.On("ordered.example", "MX", dnstest.Behaviour{Truncate: true})
	res, err := resolver(t, srv).Route(t.Context(), "ordered.example")
	if err != nil || len(res.Hosts) != 3 {
		t.Fatalf("Route = %+v, %v", res, err)
	}
	var nets []string
	for _, q := range srv.Queries() {
		if q.Type == "MX" {
			nets = append(nets, q.Net)
		}
	}
	if !slices.Equal(nets, []string{"udp", "tcp"}) {
		t.Errorf("MX queries went over %v, want udp then tcp", nets)
	}
}

func TestLargeAnswerRetriedOverTCP(t *testing.T) {
	// Twenty 200-byte TXT records overflow the 1232-byte EDNS0 buffer, so
	// the server truncates on its own, as a real one would.
	var b strings.Builder
	for i := range 20 {
		b.WriteString("big.example. TXT \"" + strings.Repeat(string(rune('a'+i)), 200) + "\"\n")
	}
	srv := dnstest.Start(t, b.String())
	got, err := resolver(t, srv).LookupTXT(t.Context(), "big.example")
	if err != nil || len(got) != 20 {
		t.Fatalf("LookupTXT = %d records, %v", len(got), err)
	}
	if qs := srv.Queries(); len(qs) != 2 || qs[1].Net != "tcp" {
		t.Errorf("queries = %+v, want a TCP retry", qs)
	}
}

func TestTimeoutWhenServerDrops(t *testing.T) {
	srv := dnstest.Start(t, zone)
	srv.On("", "", dnstest.Behaviour{Drop: true})
	r := resolver(t, srv, func(o *route.Options) {
		o.Timeout = 50 * time.Millisecond
		o.Attempts = 2
	})
	// No deadline on the context: only the resolver's own timeout can end
	// the lookup, and a hang would show as the test timing out.
	_, err := r.Route(context.Background(), "ordered.example")
	wantKind(t, err, route.KindTemporary)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("error = %v, want a deadline error", err)
	}
	if !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("error = %q", err)
	}
	if n := len(srv.Queries()); n != 2 {
		t.Errorf("server saw %d queries, want one per attempt (2)", n)
	}
}

func TestCancelStopsLookup(t *testing.T) {
	srv := dnstest.Start(t, zone)
	srv.On("", "", dnstest.Behaviour{Drop: true})
	r := resolver(t, srv, func(o *route.Options) { o.Timeout = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for len(srv.Queries()) == 0 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := r.LookupTXT(ctx, "example")
	wantKind(t, err, route.KindTemporary)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestNewServerAddress(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":      "127.0.0.1:53",
		"127.0.0.1:5353": "127.0.0.1:5353",
		"::1":            "[::1]:53",
		"[::1]":          "[::1]:53",
		"[::1]:5353":     "[::1]:5353",
		"dns.example":    "dns.example:53",
		"dns.example:54": "dns.example:54",
	} {
		r, err := route.New(route.Options{Server: in})
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := r.Servers(); !slices.Equal(got, []string{want}) {
			t.Errorf("%q: servers = %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{"1.2.3.4:0", "1.2.3.4:x", "1.2.3.4:70000", ":53", "a b", "udp://1.2.3.4", "[::1"} {
		_, err := route.New(route.Options{Server: in})
		wantKind(t, err, route.KindInvalid)
	}
}

func TestNewFromResolvConf(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(conf, []byte("search corp.example\nnameserver 127.0.0.53\nnameserver ::1\noptions timeout:1 attempts:3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := route.New(route.Options{ResolvConf: conf})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Servers(); !slices.Equal(got, []string{"127.0.0.53:53", "[::1]:53"}) {
		t.Errorf("servers = %v", got)
	}

	r, err = route.New(route.Options{ResolvConf: filepath.Join(dir, "missing")})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Servers(); !slices.Equal(got, []string{"127.0.0.1:53", "[::1]:53"}) {
		t.Errorf("fallback servers = %v", got)
	}
}

func TestToASCII(t *testing.T) {
	for in, want := range map[string]string{
		"Example.COM.":               "example.com",
		"bücher.example":             "xn--bcher-kva.example",
		"ＥＸＡＭＰＬＥ.com":                "example.com", // full-width letters map (UTS #46)
		"_25._tcp.mx.bücher.example": "_25._tcp.mx.xn--bcher-kva.example",
		"例え.テスト":                     "xn--r8jz45g.xn--zckzah",
	} {
		got, err := route.ToASCII(in)
		if err != nil || got != want {
			t.Errorf("ToASCII(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".", "a..b", "a b.example", "bob@example.com", strings.Repeat("a", 64) + ".example", strings.Repeat("a.", 127) + "ab"} {
		_, err := route.ToASCII(in)
		wantKind(t, err, route.KindInvalid)
	}
}

func TestKindOf(t *testing.T) {
	if k := route.KindOf(nil); k != 0 {
		t.Errorf("KindOf(nil) = %v", k)
	}
	if k := route.KindOf(errors.New("x")); k != route.KindTemporary {
		t.Errorf("KindOf(other) = %v", k)
	}
	wrapped := errors.Join(errors.New("context"), &route.Error{Kind: route.KindNullMX, Name: "x", Msg: "m"})
	if k := route.KindOf(wrapped); k != route.KindNullMX {
		t.Errorf("KindOf(wrapped) = %v", k)
	}
	for k, s := range map[route.Kind]string{route.KindTemporary: "temporary", route.KindNXDomain: "nxdomain",
		route.KindNoData: "nodata", route.KindNullMX: "null_mx", route.KindInvalid: "invalid", 0: "none"} {
		if k.String() != s {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), s)
		}
	}
}

func TestErrorText(t *testing.T) {
	_, err := route.New(route.Options{Server: "a b"})
	if want := `dns server "a b": write it as HOST, HOST:PORT or [IPV6]:PORT`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	var zero route.Resolver
	_, err = zero.LookupTXT(t.Context(), "example")
	if route.KindOf(err) != route.KindTemporary || !strings.Contains(err.Error(), "no DNS server") {
		t.Errorf("zero Resolver: %v", err)
	}
}
