package send

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/dnstest"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/route"
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
