package probe

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/dnstest"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/smtptest"
)

// policyServer serves an MTA-STS policy over HTTPS on 127.0.0.1 with a
// certificate for mta-sts.example.test; the handler's answer can change.
type policyServer struct {
	mu      sync.Mutex
	body    string
	ctype   string
	status  int
	pool    *x509.CertPool
	port    int
	request string
}

func startPolicy(t *testing.T) *policyServer {
	t.Helper()
	cert := selfSigned(t, certs.Options{Hosts: []string{"mta-sts.example.test"}})
	ps := &policyServer{ctype: "text/plain; charset=utf-8", status: 200, pool: cert.Pool()}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		defer ps.mu.Unlock()
		ps.request = r.Host + r.URL.Path
		if ps.status == http.StatusFound {
			http.Redirect(w, r, "https://elsewhere.example.test/policy", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", ps.ctype)
		w.WriteHeader(ps.status)
		fmt.Fprint(w, ps.body)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	ps.port, _ = strconv.Atoi(port)
	return ps
}

func (ps *policyServer) set(status int, ctype, body string) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.status, ps.ctype, ps.body = status, ctype, body
}

// domainSetup is a mail domain with two MX hosts on loopback go-smtp peers,
// a DNS server and an MTA-STS policy server.
type domainSetup struct {
	dns    *dnstest.Server
	policy *policyServer
	cert   *certs.Cert
	mx1    string
	mx2    string
}

const zone = `
example.test.             MX    10 mx1.example.test.
example.test.             MX    20 mx2.example.test.
example.test.             MX    30 mx3.example.test.
example.test.             TXT   "v=spf1 mx -all"
mx1.example.test.         A     127.0.0.11
mx2.example.test.         A     127.0.0.12
_mta-sts.example.test.    TXT   "v=STSv1; id=20240101T000000"
mta-sts.example.test.     A     127.0.0.1
_smtp._tls.example.test.  TXT   "v=TLSRPTv1; rua=mailto:tls@example.test"
_dmarc.example.test.      TXT   "v=DMARC1; p=reject; rua=mailto:d@example.test"
11.0.0.127.in-addr.arpa.  PTR   mx1.example.test.
12.0.0.127.in-addr.arpa.  PTR   other.example.test.
null.test.                MX    0 .
implicit.test.            A     127.0.0.11
`

func setupDomain(t *testing.T) *domainSetup {
	t.Helper()
	d := &domainSetup{dns: dnstest.Start(t, zone), policy: startPolicy(t)}
	d.cert = selfSigned(t, certs.Options{Hosts: []string{"mx1.example.test", "mx2.example.test", "implicit.test"}})
	d.mx1 = startPeer(t, smtptest.PeerOptions{TLS: d.cert.ServerConfig()})
	d.mx2 = startPeer(t, smtptest.PeerOptions{TLS: d.cert.ServerConfig()})
	d.policy.set(200, "text/plain", "version: STSv1\r\nmode: enforce\r\nmx: *.example.test\r\nmax_age: 604800\r\n")
	return d
}

func (d *domainSetup) options(target string) Options {
	o := baseOptions(target)
	o.DNSServer = d.dns.Addr()
	o.TLS.RootCAs = d.cert.Pool()
	o.MTASTSRoots = d.policy.pool
	o.MTASTSPort = d.policy.port
	o.ConnectTo = []ConnectTo{
		{Host: "127.0.0.11", Port: 25, To: d.mx1},
		{Host: "127.0.0.12", Port: 25, To: d.mx2},
	}
	return o
}

func TestDomainProbe(t *testing.T) {
	d := setupDomain(t)
	r := run(t, d.options("example.test"))
	wantExit(t, r, 0)
	if r.Mode != ModeDomain || len(r.Endpoints) != 2 {
		t.Fatalf("mode %s, %d endpoints", r.Mode, len(r.Endpoints))
	}
	// MX order: by preference.
	if a, b := r.Endpoints[0], r.Endpoints[1]; a.Host != "mx1.example.test" || a.Preference != 10 || b.Host != "mx2.example.test" || b.Preference != 20 {
		t.Errorf("order: %s %d, %s %d", a.Host, a.Preference, b.Host, b.Preference)
	}
	want(t, check(t, r, "dns.mx"), Info, "MX by preference: 10 mx1.example.test, 20 mx2.example.test, 30 mx3.example.test")
	want(t, check(t, r, "dns.mx.addresses"), Warn, "1 of 3 MX hosts have no address")
	want(t, check(t, r, "mta_sts.record"), Pass, "v=STSv1; id=20240101T000000")
	want(t, check(t, r, "mta_sts.policy"), Pass, "mode enforce, max_age 604800 (7 days), mx *.example.test")
	// mx3 has no address: its certificate cannot be checked.
	want(t, check(t, r, "mta_sts.mx"), Warn, "the certificates of mx3.example.test could not be checked")
	want(t, check(t, r, "tls_rpt.record"), Pass, "reports go to mailto:tls@example.test")
	want(t, check(t, r, "spf.record"), Pass, "v=spf1 mx -all")
	want(t, check(t, r, "dmarc.record"), Pass, "policy reject, reports to mailto:d@example.test")
	if d.policy.request != "mta-sts.example.test:"+strconv.Itoa(d.policy.port)+"/.well-known/mta-sts.txt" {
		t.Errorf("policy request %q", d.policy.request)
	}
	ep := r.Endpoints[0]
	want(t, check(t, r, "tls.cert.verify"), Pass, "verified for mx1.example.test")
	if ep.ServerName != "mx1.example.test" || ep.Dial != d.mx1 {
		t.Errorf("server name %s dial %s", ep.ServerName, ep.Dial)
	}
	// Reverse DNS through --dns-server.
	ptr := ep.Checks
	var got *Check
	for _, c := range ptr {
		if c.ID == "dns.ptr" {
			got = c
		}
	}
	if got == nil || !strings.Contains(got.Summary, "127.0.0.11 is mx1.example.test (forward-confirmed)") {
		t.Errorf("dns.ptr %+v", got)
	}
	for _, c := range r.Endpoints[1].Checks {
		if c.ID == "dns.ptr" && !strings.Contains(c.Summary, "other.example.test (does not resolve back)") {
			t.Errorf("mx2 dns.ptr %q", c.Summary)
		}
	}
	// DANE: no TLSA records anywhere.
	want(t, check(t, r, "dane.tlsa"), Info, "no TLSA records at _25._tcp.mx1.example.test")
}

func TestDomainMTASTS(t *testing.T) {
	d := setupDomain(t)
	zone2 := dnstest.Start(t, strings.ReplaceAll(zone, "example.test.             MX    30 mx3.example.test.\n", ""))
	policy := func(mode, mx string) string {
		return "version: STSv1\nmode: " + mode + "\nmx: " + mx + "\nmax_age: 86400\n"
	}
	tests := []struct {
		name    string
		status  int
		ctype   string
		body    string
		require bool
		roots   bool
		exit    int
		checks  map[string]string // id -> "status:substring"
	}{
		{"enforce", 200, "text/plain", policy("enforce", "*.example.test"), true, true, 0, map[string]string{
			"mta_sts.policy": "pass:mode enforce", "mta_sts.mx": "pass:every MX matches the policy and presents a valid certificate"}},
		{"testing", 200, "text/plain", policy("testing", "*.example.test"), false, true, 0, map[string]string{
			"mta_sts.policy": "info:mode testing", "mta_sts.mx": "pass:every MX"}},
		{"testing required", 200, "text/plain", policy("testing", "*.example.test"), true, true, 1, map[string]string{
			"mta_sts.policy": "fail:mode testing"}},
		{"none", 200, "text/plain", "version: STSv1\nmode: none\nmax_age: 86400\n", false, true, 0, map[string]string{
			"mta_sts.policy": "info:withdrawn"}},
		{"none required", 200, "text/plain", "version: STSv1\nmode: none\nmax_age: 86400\n", true, true, 1, map[string]string{
			"mta_sts.policy": "fail:withdrawn"}},
		{"enforce mismatch", 200, "text/plain", policy("enforce", "mx1.example.test"), false, true, 1, map[string]string{
			"mta_sts.mx": "fail:will not deliver to mx2.example.test"}},
		{"testing mismatch", 200, "text/plain", policy("testing", "mx1.example.test"), false, true, 0, map[string]string{
			"mta_sts.mx": "warn:would not deliver to mx2.example.test"}},
		{"404", 404, "text/plain", "nope", false, true, 1, map[string]string{"mta_sts.policy": "fail:HTTP 404"}},
		{"html", 200, "text/html", policy("enforce", "*.example.test"), false, true, 1, map[string]string{"mta_sts.policy": `fail:media type is "text/html"`}},
		{"redirect", http.StatusFound, "", "", false, true, 1, map[string]string{"mta_sts.policy": "fail:redirects"}},
		{"too large", 200, "text/plain", policy("enforce", "*.example.test") + strings.Repeat("x: y\n", 20000), false, true, 1, map[string]string{"mta_sts.policy": "fail:larger than"}},
		{"bad body", 200, "text/plain", "mode: enforce\n", false, true, 1, map[string]string{"mta_sts.policy": "fail:version"}},
		{"untrusted policy certificate", 200, "text/plain", policy("enforce", "*.example.test"), false, false, 1, map[string]string{"mta_sts.policy": "fail:fetch failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d.policy.set(tt.status, tt.ctype, tt.body)
			o := d.options("example.test")
			o.DNSServer = zone2.Addr()
			o.RequireMTASTS = tt.require
			if !tt.roots {
				o.MTASTSRoots = x509.NewCertPool()
			}
			r := run(t, o)
			wantExit(t, r, tt.exit)
			for id, w := range tt.checks {
				st, sub, _ := strings.Cut(w, ":")
				want(t, check(t, r, id), Status(st), sub)
			}
		})
	}
	// An MX whose certificate does not verify fails an enforce policy.
	t.Run("enforce untrusted MX", func(t *testing.T) {
		d.policy.set(200, "text/plain", policy("enforce", "*.example.test"))
		o := d.options("example.test")
		o.DNSServer = zone2.Addr()
		o.TLS.RootCAs = x509.NewCertPool()
		r := run(t, o)
		wantExit(t, r, 1)
		want(t, check(t, r, "mta_sts.mx"), Fail, "will not deliver to mx1.example.test, mx2.example.test")
	})
	t.Run("no record", func(t *testing.T) {
		z := dnstest.Start(t, "example.test. MX 10 mx1.example.test.\nmx1.example.test. A 127.0.0.11\n")
		o := d.options("example.test")
		o.DNSServer = z.Addr()
		r := run(t, o)
		wantExit(t, r, 0)
		want(t, check(t, r, "mta_sts.record"), Info, "not published at _mta-sts.example.test")
		want(t, check(t, r, "tls_rpt.record"), Info, "not published")
		want(t, check(t, r, "spf.record"), Info, "not published")
		o.RequireMTASTS = true
		r = run(t, o)
		wantExit(t, r, 1)
		want(t, check(t, r, "mta_sts.record"), Fail, "not published")
	})
	t.Run("bad record", func(t *testing.T) {
		z := dnstest.Start(t, "example.test. MX 10 mx1.example.test.\nmx1.example.test. A 127.0.0.11\n_mta-sts.example.test. TXT \"v=STSv1\"\n_dmarc.example.test. TXT \"v=DMARC1; p=maybe\"\n")
		o := d.options("example.test")
		o.DNSServer = z.Addr()
		r := run(t, o)
		wantExit(t, r, 1)
		want(t, check(t, r, "mta_sts.record"), Fail, "no id field")
		want(t, check(t, r, "dmarc.record"), Warn, "p=maybe")
	})
}

func TestDomainRouteFailures(t *testing.T) {
	d := setupDomain(t)
	d.dns.On("broken.test.", "", dnstest.Behaviour{Rcode: "SERVFAIL"})
	tests := []struct {
		target string
		exit   int
		sub    string
	}{
		{"null.test", exitcode.Permanent, "null MX (RFC 7505)"},
		{"nosuch.test", exitcode.Permanent, "no such domain"},
		{"broken.test", exitcode.Network, "SERVFAIL"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			r := run(t, d.options(tt.target))
			wantExit(t, r, tt.exit)
			c := check(t, r, "dns.mx")
			if c.Status != Fail || !strings.Contains(strings.ToLower(c.Summary), strings.ToLower(tt.sub)) {
				t.Errorf("dns.mx %s %q, want %q", c.Status, c.Summary, tt.sub)
			}
			if len(r.Endpoints) != 0 {
				t.Errorf("%d endpoints", len(r.Endpoints))
			}
		})
	}
	t.Run("implicit MX", func(t *testing.T) {
		r := run(t, d.options("implicit.test"))
		want(t, check(t, r, "dns.mx"), Info, "implicit MX")
		if len(r.Endpoints) != 1 || r.Endpoints[0].Host != "implicit.test" {
			t.Fatalf("endpoints %+v", r.Endpoints)
		}
		want(t, check(t, r, "tls.cert.verify"), Pass, "verified for implicit.test")
	})
	t.Run("failover order with the first MX down", func(t *testing.T) {
		o := d.options("example.test")
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		down := ln.Addr().String()
		ln.Close()
		o.ConnectTo[0].To = down
		r := run(t, o)
		wantExit(t, r, exitcode.Network)
		if r.Endpoints[0].Host != "mx1.example.test" || r.Endpoints[1].Host != "mx2.example.test" {
			t.Fatal("order")
		}
		if r.Endpoints[0].Exit != exitcode.Network || r.Endpoints[1].Exit != 0 {
			t.Errorf("exits %d %d", r.Endpoints[0].Exit, r.Endpoints[1].Exit)
		}
		if !strings.HasPrefix(r.Err.Error(), "mx1.example.test [127.0.0.11]:25: connect:") {
			t.Errorf("err %v", r.Err)
		}
	})
	t.Run("IPv6 only", func(t *testing.T) {
		o := d.options("example.test")
		o.Family = 6
		r := run(t, o)
		wantExit(t, r, exitcode.Network)
		want(t, check(t, r, "dns.mx"), Fail, "no MX host has an IPv6 address")
	})
	t.Run("host mode through --dns-server", func(t *testing.T) {
		o := d.options("mx1.example.test:25")
		r := run(t, o)
		wantExit(t, r, 0)
		want(t, check(t, r, "dns.host"), Pass, "mx1.example.test resolves to 127.0.0.11")
		o = d.options("nosuch.example.test:25")
		r = run(t, o)
		wantExit(t, r, exitcode.Permanent)
		want(t, check(t, r, "dns.host"), Fail, "does not resolve")
	})
}

func spkiHash(c *x509.Certificate) string {
	h := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(h[:])
}

func TestDANE(t *testing.T) {
	d := setupDomain(t)
	other := selfSigned(t, certs.Options{Hosts: []string{"mx2.example.test"}})
	d.dns.Add(fmt.Sprintf(`
_25._tcp.mx1.example.test. TLSA 3 1 1 %s
_25._tcp.mx2.example.test. TLSA 3 1 1 %s
`, spkiHash(d.cert.X509), spkiHash(other.X509)))
	validated := func() {
		for _, n := range []string{"example.test.", "mx1.example.test.", "mx2.example.test.", "_25._tcp.mx1.example.test.", "_25._tcp.mx2.example.test."} {
			d.dns.On(n, "", dnstest.Behaviour{AD: true})
		}
	}
	// Without the AD bit the records are not used.
	o := d.options("example.test")
	r := run(t, o)
	want(t, check(t, r, "dane.tlsa"), Warn, "not DNSSEC-validated")
	o.RequireDANE = true
	r = run(t, o)
	wantExit(t, r, exitcode.Check)
	want(t, check(t, r, "dane.tlsa"), Fail, "not DNSSEC-validated")

	validated()
	o = d.options("example.test")
	r = run(t, o)
	wantExit(t, r, exitcode.Check)
	mx1, mx2 := r.Endpoints[0], r.Endpoints[1]
	find := func(ep *Endpoint, id string) *Check {
		for _, c := range ep.Checks {
			if c.ID == id {
				return c
			}
		}
		t.Fatalf("%s: no %s", ep.Host, id)
		return nil
	}
	want(t, find(mx1, "dane.tlsa"), Pass, "1 TLSA record at _25._tcp.mx1.example.test, DNSSEC-validated")
	want(t, find(mx1, "dane.match"), Pass, "1 of 1 TLSA record matches")
	want(t, find(mx2, "dane.match"), Fail, "no TLSA record matches")
	if mx1.DANE == nil || !mx1.DANE.Usable || len(mx1.DANE.Matched) != 1 {
		t.Errorf("DANE %+v", mx1.DANE)
	}
	// DANE-EE does not need PKIX: the match holds with no trusted roots.
	o = d.options("mx1.example.test:25")
	o.TLS.RootCAs = x509.NewCertPool()
	o.RequireDANE = true
	r = run(t, o)
	want(t, check(t, r, "dane.match"), Pass, "matches")
	// Queries for TLSA carried the DO bit.
	do := false
	for _, q := range d.dns.Queries() {
		do = do || q.Type == "TLSA" && q.DO
	}
	if !do {
		t.Error("TLSA queries without the DNSSEC OK bit")
	}
}

func TestDomainHumanAndJSON(t *testing.T) {
	d := setupDomain(t)
	r := run(t, d.options("example.test"))
	var b strings.Builder
	r.WriteHuman(&b, HumanOptions{})
	out := b.String()
	for _, s := range []string{
		"probe example.test: mail domain, 3 MX hosts, 2 endpoints",
		"\nexample.test\n",
		"mx1.example.test [127.0.0.11]:25 (MX 10) via " + d.mx1,
		"mx2.example.test [127.0.0.12]:25 (MX 20) via " + d.mx2,
		"  INFO  dns.mx ",
		"result: 2 endpoints:",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("no %q in:\n%s", s, out)
		}
	}
	if i, j := strings.Index(out, "mx1.example.test [127"), strings.Index(out, "mx2.example.test [127"); i > j {
		t.Error("mx2 printed before mx1")
	}
	j := r.ToJSON(func(error) string { return "" })
	if j.Domain == nil || len(j.Domain.MX) != 3 || j.Domain.MTASTS.Policy == nil || j.Domain.MTASTS.Policy.Mode != "enforce" {
		t.Errorf("domain JSON %+v", j.Domain)
	}
	if p := j.Endpoints[0].Preference; p == nil || *p != 10 {
		t.Errorf("preference %v", p)
	}
}

func TestEndpointLimit(t *testing.T) {
	var z strings.Builder
	for i := 0; i < 70; i++ {
		fmt.Fprintf(&z, "many.test. MX %d mx%02d.many.test.\nmx%02d.many.test. A 127.0.1.%d\n", i, i, i, i+1)
	}
	srv := dnstest.Start(t, z.String())
	addr := startPeer(t, smtptest.PeerOptions{})
	o := baseOptions("many.test")
	o.DNSServer = srv.Addr()
	o.Parallel = 16
	o.ConnectTo = []ConnectTo{{Port: 25, To: addr}}
	r := run(t, o)
	want(t, check(t, r, "probe.limit"), Info, "70 endpoints found; only the first 64 are probed")
	if len(r.Endpoints) != MaxEndpoints || r.Endpoints[0].Host != "mx00.many.test" || r.Endpoints[63].Host != "mx63.many.test" {
		t.Errorf("%d endpoints, first %s", len(r.Endpoints), r.Endpoints[0].Host)
	}
	wantExit(t, r, 0)
}
