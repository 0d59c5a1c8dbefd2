package send

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/dnstest"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/smtptest"
)

const accept = `
S: 220 mx
C~ EHLO
S: 250 mx
C~ MAIL
S: 250 ok
C~ RCPT
S: 250 ok
C: DATA
S: 354 go
data
S: 250 ok
C: QUIT
S: 221 bye
`

func TestRouteFailoverNullMXAndDomains(t *testing.T) {
	// The busy first MX and the working second one listen on the same
	// port of two loopback addresses, as two hosts would on port 25.
	busy, err := smtptest.StartOn("127.0.0.1:0", "S: 421 4.3.2 busy\n")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, port, _ := net.SplitHostPort(busy.Addr())
	good, err := smtptest.StartOn("127.0.0.2:"+port, accept)
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	defer good.Close()
	dns := dnstest.Start(t, `
		example.test.      MX 10 mx1.example.test.
		example.test.      MX 20 mx2.example.test.
		mx1.example.test.  A  127.0.0.1
		mx2.example.test.  A  127.0.0.2
		implicit.test.     A  127.0.0.2
		null.test.         MX 0 .
	`)
	r, err := route.New(route.Options{Server: dns.Addr(), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	rcpts := []Rcpt{
		{Mailbox: "a@example.test", Domain: "example.test"},
		{Mailbox: "b@null.test", Domain: "null.test"},
		{Mailbox: "c@nxdomain.test", Domain: "nxdomain.test"},
		{Mailbox: "d@implicit.test", Domain: "implicit.test"},
	}
	dests := PlanRoutes(context.Background(), r, rcpts, p)
	if len(dests) != 4 {
		t.Fatalf("%d destinations", len(dests))
	}
	if len(dests[0].Candidates) != 2 || dests[0].Candidates[0].Name != "mx1.example.test" {
		t.Fatalf("candidates %+v", dests[0].Candidates)
	}
	if route.KindOf(dests[1].Err) != route.KindNullMX || route.KindOf(dests[2].Err) != route.KindNXDomain {
		t.Fatalf("errors %v / %v", dests[1].Err, dests[2].Err)
	}
	o := opts("")
	o.Session.Observer = nil
	o.Session.Timeout = 2 * time.Second
	txs := RunRoutes(context.Background(), o.Options, dests)
	if len(txs) != 4 {
		t.Fatalf("%d transactions", len(txs))
	}
	if txs[0].MX != "mx2.example.test" || !txs[0].Rcpts[0].Accepted {
		t.Errorf("failover: %+v", txs[0])
	}
	if busy.Conns() != 1 {
		t.Errorf("first MX tried %d times", busy.Conns())
	}
	if !txs[3].Rcpts[0].Accepted {
		t.Errorf("implicit MX: %+v", txs[3])
	}
	code, err := Exit(txs, false)
	if code != exitcode.Permanent || !strings.Contains(err.Error(), "null MX (556 5.1.10)") {
		t.Errorf("exit %d %v", code, err)
	}
	if code, _ := Exit(txs, true); code != 0 {
		t.Errorf("allow-partial: exit %d", code)
	}
}

// mapDial sends a connection to IP:PORT to to[IP], so that MX hosts with
// addresses of their own in the zone reach servers that all listen on
// 127.0.0.1; an address without a server is refused. It counts the
// attempts.
func mapDial(to map[string]string, dials *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		host, _, _ := net.SplitHostPort(addr)
		real, ok := to[host]
		if !ok {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, real)
	}
}

func limitsResolver(t *testing.T, zone string) *route.Resolver {
	t.Helper()
	r, err := route.New(route.Options{Server: dnstest.Start(t, zone).Addr(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRouteThirtySilentMX: 30 MX hosts that accept and never answer used
// to hold a send for 30 reply timeouts; now 5 addresses are tried.
func TestRouteThirtySilentMX(t *testing.T) {
	mx, err := smtptest.StartSilentMX("silent.test", 30)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mx.Close)
	zone, to, accepted := mx.Zone, mx.Addrs, mx.Conns
	r := limitsResolver(t, zone)
	var dials atomic.Int64
	o := opts("")
	o.Session.Observer = nil
	o.Session.Timeout = time.Second
	o.Session.ConnectTimeout = time.Second
	o.Session.Dial = mapDial(to, &dials)
	start := time.Now()
	dests := PlanRoutes(t.Context(), r, []Rcpt{{Mailbox: "a@silent.test", Domain: "silent.test"}}, 25)
	txs := RunRoutes(t.Context(), o.Options, dests)
	elapsed := time.Since(start)
	t.Logf("30 silent MX hosts, 1s timeout: %d connections, %s", accepted(), elapsed.Round(time.Millisecond))
	if len(dests[0].Candidates) != 5 {
		t.Errorf("%d candidates, want 5", len(dests[0].Candidates))
	}
	if dials.Load() != 5 || accepted() != 5 {
		t.Errorf("%d connection attempts, %d accepted; want 5", dials.Load(), accepted())
	}
	if code, _ := Exit(txs, false); code != exitcode.Network {
		t.Errorf("exit %d, want %d", code, exitcode.Network)
	}
}

// TestRoute508Addresses: one MX host with 508 A records used to get 508
// connection attempts.
func TestRoute508Addresses(t *testing.T) {
	zone := smtptest.ManyAddressZone("many.test", 508)
	r := limitsResolver(t, zone)
	var dials atomic.Int64
	o := opts("")
	o.Session.Observer = nil
	o.Session.Dial = mapDial(nil, &dials)
	dests := PlanRoutes(t.Context(), r, []Rcpt{{Mailbox: "a@many.test", Domain: "many.test"}}, 25)
	RunRoutes(t.Context(), o.Options, dests)
	t.Logf("one MX host with 508 A records: %d connection attempts", dials.Load())
	if dials.Load() != 5 {
		t.Errorf("%d connection attempts, want 5", dials.Load())
	}
}

// TestRouteSessionLimit: servers that answer and defer count as sessions;
// after two, the other MX hosts are left alone.
func TestRouteSessionLimit(t *testing.T) {
	busy, err := smtptest.Start("S: 421 4.3.2 busy\n")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	r := limitsResolver(t, `
		busy.test. MX 10 mx1.busy.test.
		busy.test. MX 20 mx2.busy.test.
		busy.test. MX 30 mx3.busy.test.
		busy.test. MX 40 mx4.busy.test.
		mx1.busy.test. A 127.0.6.1
		mx2.busy.test. A 127.0.6.2
		mx3.busy.test. A 127.0.6.3
		mx4.busy.test. A 127.0.6.4
	`)
	to := map[string]string{}
	for i := 1; i <= 4; i++ {
		to[fmt.Sprintf("127.0.6.%d", i)] = busy.Addr()
	}
	var dials atomic.Int64
	var events []string
	o := opts("")
	o.Session.Observer = func(e session.Event) {
		if e.Dir == session.Info {
			events = append(events, e.Line)
		}
	}
	o.Session.Dial = mapDial(to, &dials)
	dests := PlanRoutes(t.Context(), r, []Rcpt{{Mailbox: "a@busy.test", Domain: "busy.test"}}, 25)
	txs := RunRoutes(t.Context(), o.Options, dests)
	if busy.Conns() != 2 || dials.Load() != 2 {
		t.Errorf("%d sessions, %d connection attempts; want 2", busy.Conns(), dials.Load())
	}
	if code, _ := Exit(txs, false); code != exitcode.Transient {
		t.Errorf("exit %d, want %d", code, exitcode.Transient)
	}
	if !slices.ContainsFunc(events, func(l string) bool {
		return strings.Contains(l, "not trying the other mail servers: 2 servers answered")
	}) {
		t.Errorf("no word of the limit in %q", events)
	}
}
