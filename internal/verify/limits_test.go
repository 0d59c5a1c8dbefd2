package verify

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/dnstest"
	"github.com/smtpx/smtpx/internal/smtptest"
	"github.com/smtpx/smtpx/internal/verify/verifytest"
)

// counting counts the connection attempts made through dial.
func counting(dial func(ctx context.Context, network, addr string) (net.Conn, error), n *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		return dial(ctx, network, addr)
	}
}

// TestThirtySilentMX: 30 MX hosts that accept and never answer used to
// hold one address for 30 reply timeouts; now 5 addresses are tried.
func TestThirtySilentMX(t *testing.T) {
	mx, err := smtptest.StartSilentMX("silent.test", 30)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mx.Close)
	zone, to, accepted := mx.Zone, mx.Addrs, mx.Conns
	var dials atomic.Int64
	o := baseOptions()
	o.Resolver = resolver(t, dnstest.Start(t, zone))
	o.Session.Timeout = time.Second
	o.Session.ConnectTimeout = time.Second
	o.Session.Dial = counting(dialMap(to), &dials)
	start := time.Now()
	out, _ := run(t, o, "bob@silent.test", "alice@silent.test")
	elapsed := time.Since(start)
	t.Logf("30 silent MX hosts, 1s timeout: %d connections, %s", accepted(), elapsed.Round(time.Millisecond))
	r := out[0]
	if r.Verdict != Unknown || len(r.Tried) != 5 || !strings.Contains(r.Reason, "5 addresses tried") {
		t.Errorf("%s after %d tries: %s", r.Verdict, len(r.Tried), r.Reason)
	}
	// The second address shares the session sought, and its answer.
	if dials.Load() != 5 || accepted() != 5 || out[1].Verdict != Unknown {
		t.Errorf("%d connection attempts, %d accepted, second address %s; want 5, 5, unknown",
			dials.Load(), accepted(), out[1].Verdict)
	}
}

// Test508Addresses: one host with 508 A records, as an MX or as --mx,
// used to get 508 connection attempts.
func Test508Addresses(t *testing.T) {
	zone := smtptest.ManyAddressZone("many.test", 508)
	dns := dnstest.Start(t, zone)
	for _, mx := range []string{"", "mx.many.test"} {
		var dials atomic.Int64
		o := baseOptions()
		o.Resolver = resolver(t, dns)
		o.MX = mx
		o.Session.Dial = counting(dialMap(nil), &dials)
		out, _ := run(t, o, "bob@many.test")
		t.Logf("508 A records (--mx %q): %d connection attempts", mx, dials.Load())
		if dials.Load() != 5 || len(out[0].Tried) != 5 || out[0].Verdict != Unknown {
			t.Errorf("--mx %q: %d connection attempts, %d tried, %s; want 5, 5, unknown", mx, dials.Load(), len(out[0].Tried), out[0].Verdict)
		}
	}
}

// TestSessionLimit: MX hosts that answer and defer count as sessions; after
// two, the others are left alone.
func TestSessionLimit(t *testing.T) {
	srv := startServer(t, "* accept")
	busy, err := smtptest.Start("S: 421 4.3.2 busy\n")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(busy.Close)
	var zone strings.Builder
	to := map[string]string{}
	for i := range 4 {
		ip := fmt.Sprintf("127.0.6.%d", i+1)
		fmt.Fprintf(&zone, "busy.test. MX %d mx%d.busy.test.\nmx%d.busy.test. A %s\n", 10+i, i, i, ip)
		to[ip] = busy.Addr()
	}
	// The fourth would serve: it is never reached.
	to["127.0.6.4"] = srv.Addr()
	var dials atomic.Int64
	o := baseOptions()
	o.Resolver = resolver(t, dnstest.Start(t, zone.String()))
	o.Session.Dial = counting(dialMap(to), &dials)
	out, _ := run(t, o, "bob@busy.test")
	r := out[0]
	if dials.Load() != 2 || srv.Sessions() != 0 || r.Verdict != Tempfail || !strings.Contains(r.Reason, "2 servers answered") {
		t.Errorf("%d connection attempts, %s: %s", dials.Load(), r.Verdict, r.Reason)
	}
}

// TestPolitenessPerServerAddress: ten MX names that point at one address
// are one server: one session at a time (--per-mx 1), --delay apart.
func TestPolitenessPerServerAddress(t *testing.T) {
	srv := startServer(t, "* accept", func(o *verifytest.Options) { o.Hold = 20 * time.Millisecond })
	var zone strings.Builder
	var addrs []string
	for i := range 10 {
		fmt.Fprintf(&zone, "d%d.test. MX 10 mx.d%d.test.\nmx.d%d.test. A 127.0.0.1\n", i, i, i)
		for k := range 3 {
			addrs = append(addrs, fmt.Sprintf("u%d@d%d.test", k, i))
		}
	}
	o := baseOptions()
	o.Resolver = resolver(t, dnstest.Start(t, zone.String()))
	o.Port = srv.Port()
	o.CatchAll = false
	o.Concurrency = 10
	o.PerMX = 1
	o.Delay = 100 * time.Millisecond
	out, sum := run(t, o, addrs...)
	for _, r := range out {
		if r.Verdict != Deliverable {
			t.Fatalf("%s: %s (%s)", r.Input, r.Verdict, r.Reason)
		}
	}
	if n := srv.MaxConcurrent(); n != 1 {
		t.Errorf("%d sessions at once to one address, want 1", n)
	}
	starts := srv.Starts()
	if len(starts) != sum.Sessions || len(starts) != 10 {
		t.Fatalf("%d sessions seen, %d reported, want 10", len(starts), sum.Sessions)
	}
	// A lower bound holds however slow the machine: each session starts
	// after the one before ended, and --delay later.
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < o.Delay {
			t.Errorf("session %d started %s after the one before, want at least %s", i+1, gap, o.Delay)
		}
	}
}
