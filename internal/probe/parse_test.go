package probe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/route"
)

func TestParseSTSRecord(t *testing.T) {
	tests := []struct {
		txts    []string
		id, err string
	}{
		{[]string{"v=STSv1; id=20240101T000000;"}, "20240101T000000", ""},
		{[]string{"v=STSv1;id=abc"}, "abc", ""},
		{[]string{"v=spf1 -all", "v=STSv1; id=1; ext=x"}, "1", ""},
		{nil, "", "not published"},
		{[]string{"v=spf1 -all"}, "", "not published"},
		{[]string{"v=STSv1; id=1", "v=STSv1; id=2"}, "", "2 records"},
		{[]string{"v=STSv1"}, "", "no id"},
		{[]string{"v=STSv1; id="}, "", "not 1 to 32"},
		{[]string{"v=STSv1; id=" + strings.Repeat("a", 33)}, "", "not 1 to 32"},
		{[]string{"v=STSv1; id=a-b"}, "", "not 1 to 32"},
		{[]string{"v=STSv1; id=1; id=2"}, "", "twice"},
		{[]string{"v=STSv1; junk"}, "", "not name=value"},
		{[]string{"v=STSv1x; id=1"}, "", "must start"},
	}
	for _, tt := range tests {
		_, id, err := ParseSTSRecord(tt.txts)
		if tt.err == "" {
			if err != nil || id != tt.id {
				t.Errorf("%q: id %q err %v, want %q", tt.txts, id, err, tt.id)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%q: err %v, want %q", tt.txts, err, tt.err)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	good := "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n"
	p, err := ParsePolicy(good)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != "enforce" || p.MaxAge != 604800 || len(p.MX) != 2 {
		t.Fatalf("%+v", p)
	}
	for host, want := range map[string]string{
		"mail.example.com":   "mail.example.com",
		"MAIL.example.com.":  "mail.example.com",
		"mx1.example.net":    "*.example.net",
		"example.net":        "",
		"a.b.example.net":    "",
		"other.example.com":  "",
		".example.net":       "",
		"mx1.example.net.uk": "",
	} {
		if got := p.Match(host); got != want {
			t.Errorf("Match(%q) = %q, want %q", host, got, want)
		}
	}
	// LF line ends, extra spaces, unknown keys, the first of a repeated key.
	p, err = ParsePolicy("version:STSv1\nmode :  testing\nfoo: bar\nmax_age: 86400\nmode: enforce\nmx: a.example\n")
	if err != nil || p.Mode != "testing" {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := ParsePolicy("version: STSv1\nmode: none\nmax_age: 0\n"); err != nil {
		t.Errorf("mode none without mx: %v", err)
	}
	bad := map[string]string{
		"version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n":           "version",
		"version: STSv1\nmode: strict\nmx: a\nmax_age: 1\n":            "mode",
		"version: STSv1\nmode: enforce\nmx: a\n":                       "max_age is missing",
		"version: STSv1\nmode: enforce\nmx: a\nmax_age: -1\n":          "max_age",
		"version: STSv1\nmode: enforce\nmx: a\nmax_age: 31557601\n":    "over the limit",
		"version: STSv1\nmode: enforce\nmax_age: 1\n":                  "at least one mx",
		"version: STSv1\nmode enforce\n":                               "not key: value",
		"version: STSv1\nmode: enforce\nmx: a b\nmax_age: 1\n":         "not a host name",
		"<html>not a policy</html>":                                    "not key: value",
		"version: STSv1\nmode: testing\nmx: a\nmax_age: 99999999999\n": "max_age",
	}
	for body, want := range bad {
		if _, err := ParsePolicy(body); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", body, err, want)
		}
	}
}

func TestParseSPF(t *testing.T) {
	good := []string{
		"v=spf1 -all",
		"v=spf1",
		"v=spf1 mx a:mail.example.com/24 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.net ~all",
		"v=spf1 ip4:192.0.2.1 redirect=_spf.example.com",
		"v=spf1 +a -mx ?ptr exists:%{i}.x.example exp=explain.example.com -all",
		"V=SPF1 A/24 -ALL",
	}
	for _, r := range good {
		if err := ParseSPF(r); err != nil {
			t.Errorf("%q: %v", r, err)
		}
	}
	bad := map[string]string{
		"v=spf1 foo -all":              "unknown mechanism",
		"v=spf1 ip4:999.1.1.1 -all":    "not an address",
		"v=spf1 ip4:2001:db8::1 -all":  "family",
		"v=spf1 ip6:192.0.2.1":         "family",
		"v=spf1 include: -all":         "needs a domain",
		"v=spf1 all:x":                 "no argument",
		"v=spf1 redirect=a redirect=b": "twice",
		"v=spf1 ip4":                   "needs an address",
		"v=spf1 include:a include:b include:c include:d include:e include:f a mx ptr exists:x redirect=y": "limit is 10",
		"v=spf1 1bad=x": "bad name",
		"spf1 -all":     "must start",
	}
	for r, want := range bad {
		if err := ParseSPF(r); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", r, err, want)
		}
	}
}

func TestRecordParsers(t *testing.T) {
	type tc struct {
		txts      []string
		published bool
		err       string
	}
	run := func(name string, parse func(*TXTRecord, []string), tests []tc) {
		for _, tt := range tests {
			r := &TXTRecord{}
			parse(r, tt.txts)
			if r.Published != tt.published {
				t.Errorf("%s %q: published %v", name, tt.txts, r.Published)
			}
			if (tt.err == "") != (r.parseErr == nil) || tt.err != "" && !strings.Contains(r.Error, tt.err) {
				t.Errorf("%s %q: err %q, want %q", name, tt.txts, r.Error, tt.err)
			}
		}
	}
	run("tlsrpt", parseTLSRPT, []tc{
		{[]string{"v=TLSRPTv1; rua=mailto:tls@example.com"}, true, ""},
		{[]string{"v=TLSRPTv1;rua=mailto:a@example.com,https://r.example.com/x"}, true, ""},
		{[]string{"v=spf1 -all"}, false, ""},
		{[]string{"v=TLSRPTv1"}, true, "no rua"},
		{[]string{"v=TLSRPTv1; rua=ftp://x"}, true, "neither mailto"},
		{[]string{"v=TLSRPTv1; rua=mailto:a", "v=TLSRPTv1; rua=mailto:b"}, true, "2 records"},
	})
	run("dmarc", parseDMARC, []tc{
		{[]string{"v=DMARC1; p=reject; rua=mailto:d@example.com"}, true, ""},
		{[]string{"v=DMARC1;p=none;sp=quarantine;pct=50"}, true, ""},
		{[]string{"v=DMARC1"}, true, "no p tag"},
		{[]string{"v=DMARC1; p=maybe"}, true, "not none"},
		{[]string{"v=DMARC1; p=none; pct=200"}, true, "pct"},
		{[]string{"v=DMARC1; p=none; p=reject"}, true, "twice"},
		{nil, false, ""},
	})
	run("spf", parseSPFRecords, []tc{
		{[]string{"v=spf1 -all", "google-site-verification=x"}, true, ""},
		{[]string{"v=spf1 -all", "v=spf1 mx -all"}, true, "2 SPF records"},
		{[]string{"v=spf10 -all"}, false, ""},
		{[]string{"v=spf1 bogus"}, true, "unknown mechanism"},
	})
}

func TestParseConnectTo(t *testing.T) {
	tests := []struct {
		in   string
		want ConnectTo
		err  bool
	}{
		{"mx.example.com:25:127.0.0.1:2525", ConnectTo{Host: "mx.example.com", Port: 25, To: "127.0.0.1:2525"}, false},
		{"::127.0.0.1:2525", ConnectTo{To: "127.0.0.1:2525"}, false},
		{"[::1]:25:[::1]:2525", ConnectTo{Host: "::1", Port: 25, To: "[::1]:2525"}, false},
		{"127.0.0.11:25:127.0.0.1:", ConnectTo{Host: "127.0.0.11", Port: 25, To: "127.0.0.1:"}, false},
		{"a:25:b", ConnectTo{}, true},
		{"a:x:b:25", ConnectTo{}, true},
		{"a:25:b:99999", ConnectTo{}, true},
		{"[::1:25:b:1", ConnectTo{}, true},
		{"a:25:b:1:extra", ConnectTo{}, true},
	}
	for _, tt := range tests {
		got, err := ParseConnectTo(tt.in)
		if (err != nil) != tt.err || !tt.err && got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	rules := []ConnectTo{
		{Host: "mx1.example.test", Port: 25, To: "127.0.0.1:1001"},
		{Host: "127.0.0.12", Port: 0, To: "127.0.0.1:"},
	}
	a11, a12 := netip.MustParseAddr("127.0.0.11"), netip.MustParseAddr("127.0.0.12")
	for _, tt := range []struct {
		host string
		addr netip.Addr
		port int
		want string
	}{
		{"mx1.example.test", a11, 25, "127.0.0.1:1001"},
		{"mx1.example.test", a11, 587, "127.0.0.11:587"},
		{"mx2.example.test", a12, 587, "127.0.0.1:587"},
		{"", netip.MustParseAddr("::1"), 25, "[::1]:25"},
	} {
		if got := dialAddr(rules, tt.host, tt.addr, tt.port); got != tt.want {
			t.Errorf("dialAddr(%s %s %d) = %s, want %s", tt.host, tt.addr, tt.port, got, tt.want)
		}
	}
}

func TestKnownID(t *testing.T) {
	for _, id := range []string{"tls.cert.verify", "tls.cert.*", "require.chunking", "ehlo.pipelining", "ehlo.*", "*", "mta_sts.*", "require.*"} {
		if !KnownID(id) {
			t.Errorf("KnownID(%q) = false", id)
		}
	}
	for _, id := range []string{"tls.cert", "nope", "require.", "tls.cert.verify.x"} {
		if KnownID(id) {
			t.Errorf("KnownID(%q) = true", id)
		}
	}
	g := gates{ignore: []string{"tls.cert.*", "banner"}}
	if !g.ignored("tls.cert.verify") || !g.ignored("banner") || g.ignored("banner.delay") || g.ignored("tls.version") {
		t.Error("ignore patterns")
	}
}

func TestStats(t *testing.T) {
	s := stats([]map[string]float64{{"connect": 3, "banner": 1}, {"connect": 1}, {"connect": 2, "banner": 3}})
	if got := s["connect"]; got != (Stat{Min: 1, Median: 2, Max: 3, N: 3}) {
		t.Errorf("connect %+v", got)
	}
	if got := s["banner"]; got != (Stat{Min: 1, Median: 2, Max: 3, N: 2}) {
		t.Errorf("banner %+v", got)
	}
	if _, ok := s["handshake"]; ok {
		t.Error("a phase that never happened has stats")
	}
}

// chain makes a CA and a leaf it signed for names.
func chain(t *testing.T, names ...string) (leaf, ca *x509.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ = x509.ParseCertificate(der)
	return leaf, ca
}

func TestMatchTLSA(t *testing.T) {
	leaf, ca := chain(t, "mx.example.test")
	other, _ := chain(t, "mx.example.test")
	spki := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	full512 := sha512.Sum512(leaf.Raw)
	caSPKI := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	rec := func(u, s, m uint8, d []byte) route.TLSA {
		return route.TLSA{Usage: u, Selector: s, MatchingType: m, Data: d}
	}
	now := time.Now()
	ch := []*x509.Certificate{leaf, ca}
	names := []string{"mx.example.test", "example.test"}
	tests := []struct {
		name  string
		r     route.TLSA
		chain []*x509.Certificate
		names []string
		ok    bool
		why   string
	}{
		{"EE spki sha256", rec(3, 1, 1, spki[:]), ch, names, true, "matches the server"},
		{"EE full sha512", rec(3, 0, 2, full512[:]), ch, names, true, "matches the server"},
		{"EE full exact", rec(3, 0, 0, leaf.Raw), ch, names, true, "matches the server"},
		{"EE other key", rec(3, 1, 1, spki[:]), []*x509.Certificate{other}, names, false, "does not match"},
		{"EE ignores names", rec(3, 1, 1, spki[:]), ch, []string{"else.test"}, true, "matches the server"},
		{"TA spki", rec(2, 1, 1, caSPKI[:]), ch, names, true, "trust anchor 1"},
		{"TA full", rec(2, 0, 0, ca.Raw), ch, names, true, "trust anchor 1"},
		{"TA wrong name", rec(2, 1, 1, caSPKI[:]), ch, []string{"else.test"}, false, "names none"},
		{"TA not in chain", rec(2, 1, 1, caSPKI[:]), []*x509.Certificate{leaf}, names, false, "no certificate in the chain"},
		{"TA signs a different leaf", rec(2, 1, 1, caSPKI[:]), []*x509.Certificate{other, ca}, names, false, "does not verify"},
		{"PKIX-EE unusable", rec(1, 1, 1, spki[:]), ch, names, false, "not usable in SMTP"},
		{"bad selector", rec(3, 7, 1, spki[:]), ch, names, false, "unknown selector"},
		{"no chain", rec(3, 1, 1, spki[:]), nil, names, false, "no certificate"},
	}
	for _, tt := range tests {
		ok, why := matchTLSA(tt.r, tt.chain, tt.names, now)
		if ok != tt.ok || !strings.Contains(why, tt.why) {
			t.Errorf("%s: %v %q, want %v %q", tt.name, ok, why, tt.ok, tt.why)
		}
	}
	if got := rec(3, 1, 1, spki[:]).String(); got != "3 1 1 "+hex.EncodeToString(spki[:]) {
		t.Errorf("String %q", got)
	}
}

func TestMakePlan(t *testing.T) {
	tests := []struct {
		o     Options
		mode  Mode
		ports []int
		err   string
	}{
		{Options{Target: "example.com"}, ModeDomain, []int{25}, ""},
		{Options{Target: "Example.COM."}, ModeDomain, []int{25}, ""},
		{Options{Target: "example.com", Ports: []int{25, 587, 25}}, ModeDomain, []int{25, 587}, ""},
		{Options{Target: "mx.example.com:2525"}, ModeHost, []int{2525}, ""},
		{Options{Target: "mx.example.com", NoMX: true}, ModeHost, []int{25}, ""},
		{Options{Target: "127.0.0.1"}, ModeHost, []int{25}, ""},
		{Options{Target: "[::1]:26"}, ModeHost, []int{26}, ""},
		{Options{Target: "smtps://mx.example.com"}, ModeHost, []int{465}, ""},
		{Options{Target: "unix:///run/smtp.sock"}, ModeSocket, []int{0}, ""},
		{Options{Socket: "/run/smtp.sock"}, ModeSocket, []int{0}, ""},
		{Options{}, "", nil, "needs a TARGET"},
		{Options{Target: "a:25", Ports: []int{26}}, "", nil, "--port was given"},
		{Options{Target: "a", Ports: []int{0}}, "", nil, "out of range"},
		{Options{Target: "a b"}, "", nil, "space"},
		{Options{Target: "127.0.0.1:2525", RequireMTASTS: true}, "", nil, "needs a mail domain"},
		{Options{Target: "127.0.0.1:2525", RequireDANE: true}, "", nil, "host name or mail domain"},
		{Options{Target: "127.0.0.1", Family: 6}, "", nil, "not an IPv6"},
		{Options{Target: "x", Require: []string{"A B"}}, "", nil, "not an EHLO keyword"},
		{Options{Target: "x", Ignore: []string{"nope"}}, "", nil, "not a check id"},
		{Options{Target: "x", Helo: "a b"}, "", nil, "--helo"},
		{Options{Target: "x", Socket: "/s"}, "", nil, "both given"},
		{Options{Target: "bad..name"}, "", nil, ""},
		{Options{Target: "x", Count: 5000}, "", nil, "--count"},
	}
	for _, tt := range tests {
		p, err := makePlan(&tt.o)
		if tt.mode == "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%+v: err %v, want %q", tt.o, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tt.o, err)
			continue
		}
		if p.mode != tt.mode || len(p.ports) != len(tt.ports) {
			t.Errorf("%+v: mode %s ports %v", tt.o, p.mode, p.ports)
		}
		for i := range tt.ports {
			if p.ports[i] != tt.ports[i] {
				t.Errorf("%+v: ports %v, want %v", tt.o, p.ports, tt.ports)
			}
		}
	}
}

// TestManPageListsEveryCheck keeps the check ids that smtpx probe --help
// lists in step with IDs and Keywords. It reads the help as the generated
// man page holds it (go generate ./cmd; CI fails when the page is stale),
// since this package cannot run the command.
func TestManPageListsEveryCheck(t *testing.T) {
	b, err := os.ReadFile("../../man/smtpx-probe.1")
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	_, ids, ok := strings.Cut(page, ".SS CHECK IDS\n")
	if !ok {
		t.Fatal("smtpx-probe(1) has no CHECK IDS section")
	}
	ids, _, _ = strings.Cut(ids, "\n.S")
	listed := map[string]string{} // id: scope, from the lines that start with an id
	words := map[string]bool{}
	for _, line := range strings.Split(ids, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && !strings.HasPrefix(line, " ") {
			listed[f[0]] = f[1]
		}
		for _, w := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == ',' }) {
			words[w] = true
		}
	}
	for _, x := range IDs {
		id := x.ID
		if strings.HasSuffix(id, ".") {
			id += "KEYWORD"
		}
		if listed[id] != x.Scope {
			t.Errorf("smtpx probe --help does not list %s (%s) under CHECK IDS", id, x.Scope)
		}
	}
	for _, kw := range Keywords {
		if id := KeywordID("ehlo.", kw); !words[id] {
			t.Errorf("smtpx probe --help does not list %s under CHECK IDS", id)
		}
	}
}
