package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/address"
	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/dnstest"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/smtptest"
	"github.com/smtpx/smtpx/internal/verify/verifytest"
)

func startServer(t *testing.T, rules string, mod ...func(*verifytest.Options)) *verifytest.Server {
	t.Helper()
	r, err := verifytest.ParseRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	o := verifytest.Options{Rules: r}
	for _, m := range mod {
		m(&o)
	}
	s, err := verifytest.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func baseOptions() Options {
	return Options{
		Helo:        "client.test",
		CatchAll:    true,
		Delay:       0,
		Session:     session.Options{Timeout: 5 * time.Second, ConnectTimeout: 2 * time.Second},
		RandomLocal: func() string { return "zz-random" },
	}
}

// countRcpts makes o count the RCPT commands sent for addr.
func countRcpts(o *Options, addr string) *atomic.Int32 {
	var n atomic.Int32
	line := "RCPT TO:<" + addr + ">"
	o.Session.Observer = func(e session.Event) {
		if e.Dir == session.Sent && e.Line == line {
			n.Add(1)
		}
	}
	return &n
}

func inputs(addrs ...string) []Input {
	in := make([]Input, len(addrs))
	for i, a := range addrs {
		in[i] = Input{Line: i + 1, Text: a}
	}
	return in
}

func run(t *testing.T, o Options, addrs ...string) ([]*Result, Summary) {
	t.Helper()
	var out []*Result
	sum, err := Run(context.Background(), o, Inputs(inputs(addrs...)), func(r *Result) { out = append(out, r) })
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(addrs) {
		t.Fatalf("%d results for %d inputs", len(out), len(addrs))
	}
	// Rows come as they are decided; each carries its line.
	slices.SortFunc(out, func(a, b *Result) int { return a.Line - b.Line })
	for i, r := range out {
		if r.Line != i+1 || r.Input != addrs[i] {
			t.Fatalf("row %d is line %d %q, want line %d %q", i, r.Line, r.Input, i+1, addrs[i])
		}
	}
	return out, sum
}

const rules = `
bob        accept
alice      550 5.1.1 no such user
fullbox    452 4.2.2 mailbox full
fullperm   552 5.2.2 over quota
disabled   550 5.2.1 mailbox disabled
grey       greylist 450 4.2.0 Greylisted, please retry in 2 seconds
policy     550 5.7.1 Service unavailable; client [127.0.0.1] blocked using zen.spamhaus.org
plain550   550 Requested action not taken: mailbox unavailable
plain554   554 Transaction failed
busy       421 4.3.2 closing
unknownish 451 4.3.0 local error
`

func TestVerdicts(t *testing.T) {
	srv := startServer(t, rules)
	tests := []struct {
		addr     string
		verdict  Verdict
		exit     int
		enhanced string
	}{
		{"bob@example.test", Deliverable, 0, "2.0.0"},
		{"alice@example.test", Undeliverable, 5, "5.1.1"},
		{"fullbox@example.test", Full, 4, "4.2.2"},
		{"fullperm@example.test", Full, 5, "5.2.2"},
		{"disabled@example.test", Undeliverable, 5, "5.2.1"},
		{"grey@example.test", Tempfail, 4, "4.2.0"},
		{"policy@example.test", Blocked, 5, "5.7.1"},
		{"plain550@example.test", Undeliverable, 5, ""},
		{"plain554@example.test", Blocked, 5, ""},
		{"busy@example.test", Tempfail, 4, "4.3.2"},
		{"unknownish@example.test", Tempfail, 4, "4.3.0"},
	}
	for _, tt := range tests {
		o := baseOptions()
		o.MX = srv.Addr()
		out, _ := run(t, o, tt.addr)
		r := out[0]
		if r.Verdict != tt.verdict || r.Exit != tt.exit || r.Reply == nil || r.Reply.Enhanced != tt.enhanced {
			t.Errorf("%s: verdict %s exit %d reply %+v (%s), want %s exit %d %s", tt.addr, r.Verdict, r.Exit, r.Reply, r.Reason, tt.verdict, tt.exit, tt.enhanced)
		}
		if r.MXAddress != srv.Addr() || r.Session == 0 {
			t.Errorf("%s: mx %q session %d", tt.addr, r.MXAddress, r.Session)
		}
	}
	o := baseOptions()
	o.MX = srv.Addr()
	out, _ := run(t, o, "grey2@example.test")
	if out[0].Greylisted {
		t.Errorf("a 550 5.1.1 marked greylisted")
	}
}

func TestGreylist(t *testing.T) {
	srv := startServer(t, rules)
	o := baseOptions()
	o.MX = srv.Addr()
	out, _ := run(t, o, "grey@example.test")
	r := out[0]
	if !r.Greylisted || r.RetryAfter != 2*time.Second || r.Verdict != Tempfail {
		t.Fatalf("greylisting not recognised: %+v", r)
	}
	if !strings.Contains(r.Hint(), "--wait-greylist") {
		t.Errorf("hint %q", r.Hint())
	}
	// --wait-greylist retries once from the same sender, after the
	// server's hint or the flag, whichever is shorter.
	o.WaitGreylist = 10 * time.Millisecond
	o.MX = startServer(t, rules).Addr()
	tries := countRcpts(&o, "grey@example.test")
	out, sum := run(t, o, "grey@example.test", "bob@example.test")
	if out[0].Verdict != Deliverable || out[1].Verdict != Deliverable {
		t.Fatalf("after the wait: %s (%s), %s", out[0].Verdict, out[0].Reason, out[1].Verdict)
	}
	if n := tries.Load(); n != 2 || sum.Sessions < 2 {
		t.Errorf("greylisted address tried %d times over %d sessions, want 2 (one retry, in a session of its own)", n, sum.Sessions)
	}
}

func TestCatchAll(t *testing.T) {
	srv := startServer(t, "* accept")
	o := baseOptions()
	o.MX = srv.Addr()
	addrs := []string{"a@one.test", "b@one.test", "c@two.test", "d@one.test"}
	out, _ := run(t, o, addrs...)
	for _, r := range out {
		if r.Verdict != Unprovable || r.CatchAll == nil || !*r.CatchAll || r.Exit != 0 {
			t.Errorf("%s: %s catch-all %v", r.Input, r.Verdict, r.CatchAll)
		}
	}
	// One probe per domain, cached: four targets and two random ones,
	// however the list was batched into sessions (the list is read as it
	// is verified, so batching depends on timing).
	if got := srv.Rcpts(); got != len(addrs)+2 {
		t.Errorf("%d RCPTs, want %d", got, len(addrs)+2)
	}

	strict := startServer(t, "bob accept")
	o.MX = strict.Addr()
	out, _ = run(t, o, "bob@one.test")
	if r := out[0]; r.Verdict != Deliverable || r.CatchAll == nil || *r.CatchAll {
		t.Errorf("not a catch-all: %s %v", r.Verdict, r.CatchAll)
	}
	o.CatchAll = false
	out, _ = run(t, o, "bob@one.test")
	if r := out[0]; r.Verdict != Deliverable || r.CatchAll != nil {
		t.Errorf("--catch-all=false: %s %v", r.Verdict, r.CatchAll)
	}
}

func TestStopOnPolicyAnd421(t *testing.T) {
	for _, stopper := range []string{"policy", "busy"} {
		srv := startServer(t, rules)
		o := baseOptions()
		o.MX = srv.Addr()
		o.PerSession = 2
		out, sum := run(t, o, "bob@x.test", stopper+"@x.test", "alice@x.test", "bob@y.test")
		if out[0].Verdict != Deliverable {
			t.Errorf("%s: first %s", stopper, out[0].Verdict)
		}
		want := out[1].Verdict
		for _, r := range out[2:] {
			if r.Verdict != want || !r.Skipped || !strings.HasPrefix(r.Reason, "not tried: ") {
				t.Errorf("%s: %s got %s skipped=%v (%s)", stopper, r.Input, r.Verdict, r.Skipped, r.Reason)
			}
		}
		// The stop came in the last session: none was opened after it. (The
		// first address may have had a session of its own: the list is
		// read as it is verified, so batching depends on timing.)
		if out[1].Session == 0 || sum.Sessions != out[1].Session || srv.Sessions() != sum.Sessions || sum.Sessions > 2 {
			t.Errorf("%s: %d sessions, the stop in session %d", stopper, sum.Sessions, out[1].Session)
		}
	}
}

func TestDropMidSession(t *testing.T) {
	srv := startServer(t, "gone drop\n* accept")
	o := baseOptions()
	o.MX = srv.Addr()
	o.CatchAll = false
	tries := countRcpts(&o, "gone@x.test")
	addrs := []string{"a@x.test", "b@x.test", "gone@x.test", "c@x.test", "d@x.test"}
	out, sum := run(t, o, addrs...)
	for i, r := range out {
		want := Deliverable
		if i == 2 {
			want = Unknown
		}
		if r.Verdict != want {
			t.Errorf("%s: %s (%s), want %s", r.Input, r.Verdict, r.Reason, want)
		}
	}
	if out[2].Exit != exitcode.Network || out[2].Err == nil {
		t.Errorf("dropped: exit %d err %v", out[2].Exit, out[2].Err)
	}
	// A session breaks at "gone", the one that retries it too, and a
	// third finishes c and d (more sessions when the list is read slower
	// than it is verified).
	if n := tries.Load(); n != 2 || sum.Sessions < 3 {
		t.Errorf("gone tried %d times over %d sessions, want 2 tries and at least 3 sessions", n, sum.Sessions)
	}
}

func TestServerThatAlwaysDrops(t *testing.T) {
	srv := startServer(t, "* drop")
	o := baseOptions()
	o.MX = srv.Addr()
	out, sum := run(t, o, "a@x.test", "b@x.test", "c@x.test", "d@x.test", "e@x.test")
	for _, r := range out {
		if r.Verdict != Unknown || r.Exit != exitcode.Network {
			t.Errorf("%s: %s exit %d (%s)", r.Input, r.Verdict, r.Exit, r.Reason)
		}
	}
	if !strings.Contains(out[4].Reason, "three sessions in a row") || !out[4].Skipped {
		t.Errorf("last row: %q skipped=%v", out[4].Reason, out[4].Skipped)
	}
	if sum.Sessions != 3 {
		t.Errorf("%d sessions, want 3", sum.Sessions)
	}
}

func TestCatchAllProbeDrops(t *testing.T) {
	srv := startServer(t, "ok* accept\n* drop")
	o := baseOptions()
	o.MX = srv.Addr()
	probes := countRcpts(&o, "zz-random@x.test")
	out, sum := run(t, o, "ok1@x.test", "ok2@x.test", "ok3@x.test", "ok4@x.test")
	for _, r := range out {
		if r.Verdict != Unprovable || r.CatchAll != nil {
			t.Errorf("%s: %s (%s)", r.Input, r.Verdict, r.Reason)
		}
	}
	// Two probes lost to dropped sessions, then the domain's catch-all
	// status is inconclusive and the rest needs no probe. (How many
	// sessions carry the rest depends on how fast the list is read: a
	// session does not wait for addresses still to come.)
	if n := probes.Load(); n != 2 || sum.Sessions < 3 {
		t.Errorf("%d probes over %d sessions, want 2 probes and at least 3 sessions", n, sum.Sessions)
	}
}

func TestProtocolErrorNotRetried(t *testing.T) {
	srv, err := smtptest.Start("S: 220 mx.test\nC~ EHLO\nS: 250 mx.test\nC~ MAIL\nS: 354 go ahead\nC: QUIT\nS: 221 bye\n")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	o := baseOptions()
	o.MX = srv.Addr()
	out, sum := run(t, o, "bob@x.test")
	if r := out[0]; r.Verdict != Unknown || r.Exit != exitcode.Protocol {
		t.Errorf("354 to MAIL: %s exit %d (%s)", r.Verdict, r.Exit, r.Reason)
	}
	// A protocol violation is not retried on a new session.
	if sum.Sessions != 1 {
		t.Errorf("%d sessions, want 1", sum.Sessions)
	}
}

func TestVRFY(t *testing.T) {
	srv := startServer(t, "")
	o := baseOptions()
	o.MX = srv.Addr()
	o.Method = MethodVrfy
	out, _ := run(t, o, "bob@x.test")
	if r := out[0]; r.Verdict != Unprovable || r.Reply.Code != 252 {
		t.Errorf("VRFY 252: %s %+v", r.Verdict, r.Reply)
	}
	o.Method = MethodExpn
	out, _ = run(t, o, "list@x.test")
	if r := out[0]; r.Verdict != Unprovable || r.Reply.Code != 502 {
		t.Errorf("EXPN 502: %s %+v", r.Verdict, r.Reply)
	}
}

func TestSMTPUTF8(t *testing.T) {
	plain := startServer(t, "* accept")
	o := baseOptions()
	o.MX = plain.Addr()
	o.CatchAll = false
	out, _ := run(t, o, "jürgen@x.test", "info@bücher.test")
	if r := out[0]; r.Verdict != Undeliverable || r.Source != "client" || !r.SMTPUTF8 || r.Reply.Enhanced != "5.6.7" {
		t.Errorf("UTF-8 local part without SMTPUTF8: %+v", r)
	}
	if r := out[1]; r.Verdict != Deliverable || r.SMTPUTF8 {
		t.Errorf("IDN domain: %s (%s)", r.Verdict, r.Reason)
	}
	utf := startServer(t, "* accept", func(o *verifytest.Options) { o.SMTPUTF8 = true })
	o.MX = utf.Addr()
	out, _ = run(t, o, "jürgen@x.test")
	if r := out[0]; r.Verdict != Deliverable {
		t.Errorf("with SMTPUTF8: %s (%s)", r.Verdict, r.Reason)
	}
}

func TestBadSyntaxAndDuplicates(t *testing.T) {
	srv := startServer(t, "bob accept")
	o := baseOptions()
	o.MX = srv.Addr()
	out, sum := run(t, o, "bob@x.test", "not an address", "BOB@X.TEST", "bob@x.test", "alice@x.test")
	// The server compares local parts case-insensitively, as most do.
	want := []Verdict{Deliverable, BadSyntax, Deliverable, Deliverable, Undeliverable}
	for i, r := range out {
		if r.Verdict != want[i] {
			t.Errorf("%s: %s, want %s", r.Input, r.Verdict, want[i])
		}
	}
	if out[1].Exit != exitcode.Usage || out[1].Source != "syntax" {
		t.Errorf("bad syntax row: %+v", out[1])
	}
	// bob@x.test twice is asked once; BOB@x.test is another local part.
	if sum.Probed != 3 || sum.Rows != 5 || sum.ByVerdict[Deliverable] != 3 {
		t.Errorf("summary %+v", sum)
	}
}

func resolver(t *testing.T, dns *dnstest.Server) *route.Resolver {
	t.Helper()
	r, err := route.New(route.Options{Server: dns.Addr(), Timeout: 2 * time.Second, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// dialMap connects "IP:25" to the test server registered for IP, so zones
// can give each MX its own loopback identity while every server listens
// on 127.0.0.1 with a port of its own.
func dialMap(servers map[string]string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		real, ok := servers[host]
		if !ok {
			return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("connection refused (no test server for %s)", host)}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, real)
	}
}

func TestDNSRouting(t *testing.T) {
	good := startServer(t, "bob accept")
	dns := dnstest.Start(t, `
		multi.test.     MX 10 mx1.multi.test.
		multi.test.     MX 20 mx2.multi.test.
		mx1.multi.test. A  127.0.0.2
		mx2.multi.test. A  127.0.0.3
		implicit.test.  A  127.0.0.3
		null.test.      MX 0 .
		empty.test.     TXT "v=spf1 -all"
		reject.test.    MX 10 mx.reject.test.
		reject.test.    MX 20 mx2.multi.test.
		mx.reject.test. A  127.0.0.4
	`)
	dns.On("broken.test.", "MX", dnstest.Behaviour{Rcode: "SERVFAIL"})
	// mx.reject.test refuses the prober at the banner with a 554.
	fake, err := smtptest.Start("S: 554 5.7.1 go away\nC: QUIT\nS: 221 bye\n")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	o := baseOptions()
	o.Resolver = resolver(t, dns)
	o.Session.Dial = dialMap(map[string]string{"127.0.0.3": good.Addr(), "127.0.0.4": fake.Addr()})
	out, _ := run(t, o, "bob@multi.test", "bob@implicit.test", "bob@null.test", "bob@nxdomain.test",
		"bob@empty.test", "bob@broken.test", "bob@reject.test")
	tests := []struct {
		verdict Verdict
		exit    int
		code    int
		enh     string
		source  string
	}{
		{Deliverable, 0, 250, "2.0.0", "smtp"},
		{Deliverable, 0, 250, "2.0.0", "smtp"},
		{Undeliverable, 5, 556, "5.1.10", "dns"},
		{Undeliverable, 5, 0, "5.1.2", "dns"},
		{Undeliverable, 5, 0, "5.1.2", "dns"},
		{Unknown, 3, 0, "", "dns"},
		{Blocked, 5, 554, "5.7.1", "smtp"},
	}
	for i, tt := range tests {
		r := out[i]
		code, enh := 0, ""
		if r.Reply != nil {
			code, enh = r.Reply.Code, r.Reply.Enhanced
		}
		if r.Verdict != tt.verdict || r.Exit != tt.exit || code != tt.code || enh != tt.enh || r.Source != tt.source {
			t.Errorf("%s: %s exit %d %d %s %s (%s)", r.Input, r.Verdict, r.Exit, code, enh, r.Source, r.Reason)
		}
	}
	// The first MX refused the connection: the second answered.
	if r := out[0]; r.MX != "mx2.multi.test" || len(r.Tried) != 1 || r.Tried[0].Host != "mx1.multi.test" {
		t.Errorf("failover: mx %q tried %+v", r.MX, r.Tried)
	}
	// Never the next MX after a 5xx: mx2.multi.test served only the two
	// sessions above.
	if r := out[6]; len(r.Tried) != 1 || good.Sessions() != 2 {
		t.Errorf("after a 5xx banner: tried %+v, good server sessions %d", r.Tried, good.Sessions())
	}
}

func TestPort25Blocked(t *testing.T) {
	dns := dnstest.Start(t, `
		far.test.      MX 10 mx1.far.test.
		far.test.      MX 20 mx2.far.test.
		mx1.far.test.  A 127.0.0.2
		mx2.far.test.  AAAA ::1
	`)
	o := baseOptions()
	o.Resolver = resolver(t, dns)
	o.Session.ConnectTimeout = 50 * time.Millisecond
	var mu sync.Mutex
	var dialed []string
	o.Session.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		<-ctx.Done() // a network that drops SYNs to port 25
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.ErrDeadlineExceeded}
	}
	out, _ := run(t, o, "bob@far.test")
	r := out[0]
	if r.Verdict != Unknown || !r.PortBlocked || r.Exit != exitcode.Network || !strings.Contains(r.Hint(), "port 25") {
		t.Fatalf("%s port-blocked=%v exit %d (%s) hint %q", r.Verdict, r.PortBlocked, r.Exit, r.Reason, r.Hint())
	}
	if len(dialed) != 2 || dialed[0] != "127.0.0.2:25" || dialed[1] != "[::1]:25" {
		t.Errorf("dialed %v", dialed)
	}
}

func TestSTARTTLS(t *testing.T) {
	c, err := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "bob accept", func(o *verifytest.Options) { o.TLS = c.ServerConfig() })
	o := baseOptions()
	o.MX = srv.Addr()
	out, _ := run(t, o, "bob@x.test")
	if r := out[0]; r.Verdict != Deliverable || r.TLS == nil || r.TLSVerified || !strings.Contains(r.TLSError, "trusted authority") {
		t.Errorf("untrusted certificate: %s tls=%v verified=%v %q", r.Verdict, r.TLS != nil, r.TLSVerified, r.TLSError)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CertPEM)
	o.Session.TLSConfig = &tls.Config{RootCAs: pool}
	out, _ = run(t, o, "bob@x.test")
	if r := out[0]; r.TLS == nil || !r.TLSVerified || r.TLSError != "" {
		t.Errorf("trusted certificate: verified=%v %q", r.TLSVerified, r.TLSError)
	}
	o.NoStartTLS = true
	out, _ = run(t, o, "bob@x.test")
	if out[0].TLS != nil {
		t.Errorf("--no-starttls used TLS")
	}
}

func TestFromAndSender(t *testing.T) {
	srv := startServer(t, "MAIL 550 5.7.1 sender refused\n* accept")
	o := baseOptions()
	o.MX = srv.Addr()
	from, _ := address.Parse("probe@own.test")
	o.From = &from
	out, _ := run(t, o, "a@x.test", "b@x.test")
	if out[0].Verdict != Blocked || out[1].Verdict != Blocked || !out[1].Skipped {
		t.Errorf("sender refused: %s, %s", out[0].Verdict, out[1].Verdict)
	}
}

func TestInterrupt(t *testing.T) {
	dns := dnstest.Start(t, "slow.test. MX 10 mx.slow.test.\nmx.slow.test. A 127.0.0.2")
	o := baseOptions()
	o.Resolver = resolver(t, dns)
	o.Session.ConnectTimeout = time.Minute
	o.Session.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	var out []*Result
	_, err := Run(ctx, o, Inputs(inputs("a@slow.test", "b@slow.test")), func(r *Result) { out = append(out, r) })
	if err != nil || len(out) != 2 || out[0].Verdict != Unknown || out[1].Verdict != Unknown {
		t.Fatalf("interrupted run: err %v, %d rows", err, len(out))
	}
}

// TestSpeed is the check from the issue: 10,000 addresses over 100 domains,
// served by four loopback servers found through an in-process DNS server,
// with --delay 0. Sessions opened must stay within addresses / per-session
// + domains. No time is asserted; the rate is logged.
func TestSpeed(t *testing.T) {
	const domains, perDomain, servers = 100, 100, 4
	n := domains * perDomain
	if testing.Short() {
		t.Skip("10,000 addresses: skipped with -short")
	}
	var zone strings.Builder
	dial := map[string]string{}
	var srvs []*verifytest.Server
	for i := range servers {
		s := startServer(t, "* 550 5.1.1 no such user\nu0* accept\nu1* accept\nu2* 452 4.2.2 full\nu3* 550 5.1.1 unknown")
		srvs = append(srvs, s)
		ip := fmt.Sprintf("127.0.0.%d", i+2)
		dial[ip] = s.Addr()
		fmt.Fprintf(&zone, "mx%d.speed.test. A %s\n", i, ip)
	}
	for d := range domains {
		fmt.Fprintf(&zone, "d%d.test. MX 10 mx%d.speed.test.\n", d, d%servers)
	}
	dns := dnstest.Start(t, zone.String())
	addrs := make([]string, 0, n)
	for i := range n {
		addrs = append(addrs, fmt.Sprintf("u%d-%d@d%d.test", i/domains%5, i, i%domains))
	}
	o := baseOptions()
	o.Resolver = resolver(t, dns)
	o.Session.Dial = dialMap(dial)
	o.PerSession = DefaultPerSession
	o.Concurrency = DefaultConcurrency
	o.PerMX = DefaultPerMX
	start := time.Now()
	out, sum := run(t, o, addrs...)
	elapsed := time.Since(start)
	limit := n/o.PerSession + domains
	if sum.Sessions > limit {
		t.Errorf("%d sessions opened, want at most %d", sum.Sessions, limit)
	}
	served := 0
	for _, s := range srvs {
		served += s.Sessions()
	}
	if served != sum.Sessions {
		t.Errorf("servers saw %d sessions, the summary says %d", served, sum.Sessions)
	}
	want := map[string]Verdict{"u0": Deliverable, "u1": Deliverable, "u2": Full, "u3": Undeliverable, "u4": Undeliverable}
	for _, r := range out {
		if w := want[r.Address.Local[:2]]; r.Verdict != w {
			t.Fatalf("%s: %s (%s), want %s", r.Input, r.Verdict, r.Reason, w)
		}
	}
	t.Logf("%d addresses, %d domains: %d sessions (limit %d), %s, %.0f addresses/s",
		n, domains, sum.Sessions, limit, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
}
