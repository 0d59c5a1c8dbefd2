package dnstest_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/smtpx/smtpx/internal/dnstest"
)

func ask(t *testing.T, srv *dnstest.Server, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Net: network}
	resp, _, err := c.Exchange(m, srv.Addr())
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], network, err)
	}
	return resp
}

func TestAnswers(t *testing.T) {
	srv := dnstest.Start(t, `
$ORIGIN example.
@            SOA  ns.example. hostmaster.example. 1 3600 600 86400 300
@            MX   10 mx.example.
mx           A    127.0.0.1
www          CNAME mx
_tcp.sub     TXT  "below an empty non-terminal"
`)
	for _, network := range []string{"udp", "tcp"} {
		resp := ask(t, srv, network, "EXAMPLE.", dns.TypeMX)
		if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 || resp.Answer[0].(*dns.MX).Mx != "mx.example." || !resp.Authoritative {
			t.Errorf("%s MX: %v", network, resp)
		}
	}

	resp := ask(t, srv, "udp", "www.example", dns.TypeA)
	if len(resp.Answer) != 2 || resp.Answer[0].Header().Rrtype != dns.TypeCNAME || resp.Answer[1].(*dns.A).A.String() != "127.0.0.1" {
		t.Errorf("CNAME chase: %v", resp)
	}

	resp = ask(t, srv, "udp", "mx.example", dns.TypeAAAA)
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 0 || len(resp.Ns) != 1 {
		t.Errorf("NoData with SOA: %v", resp)
	}
	resp = ask(t, srv, "udp", "sub.example", dns.TypeA)
	if resp.Rcode != dns.RcodeSuccess {
		t.Errorf("empty non-terminal: %v", resp)
	}
	resp = ask(t, srv, "udp", "nosuch.example", dns.TypeA)
	if resp.Rcode != dns.RcodeNameError || len(resp.Ns) != 1 {
		t.Errorf("NXDOMAIN: %v", resp)
	}
}

func TestRules(t *testing.T) {
	srv := dnstest.Start(t, "a.example. A 127.0.0.1\nb.example. A 127.0.0.2\n")
	srv.On("", "", dnstest.Behaviour{AD: true})
	srv.On("a.example", "", dnstest.Behaviour{Rcode: "SERVFAIL"})
	srv.On("a.example", "TXT", dnstest.Behaviour{Rcode: "refused"})
	srv.On("b.example", "A", dnstest.Behaviour{Truncate: true})

	if r := ask(t, srv, "udp", "a.example", dns.TypeA); r.Rcode != dns.RcodeServerFailure || r.AuthenticatedData {
		t.Errorf("name rule: %v", r)
	}
	if r := ask(t, srv, "udp", "a.example", dns.TypeTXT); r.Rcode != dns.RcodeRefused {
		t.Errorf("name+type rule: %v", r)
	}
	if r := ask(t, srv, "udp", "b.example", dns.TypeA); !r.Truncated || len(r.Answer) != 0 || r.AuthenticatedData {
		t.Errorf("truncate over UDP: %v", r)
	}
	if r := ask(t, srv, "tcp", "b.example", dns.TypeA); r.Truncated || len(r.Answer) != 1 {
		t.Errorf("truncate rule over TCP: %v", r)
	}
	if r := ask(t, srv, "udp", "b.example", dns.TypeAAAA); !r.AuthenticatedData {
		t.Errorf("catch-all AD rule: %v", r)
	}

	var got []string
	for _, q := range srv.Queries() {
		got = append(got, q.Net+" "+q.Name+" "+q.Type)
	}
	want := []string{"udp a.example. A", "udp a.example. TXT", "udp b.example. A", "tcp b.example. A", "udp b.example. AAAA"}
	if !slices.Equal(got, want) {
		t.Errorf("queries = %q, want %q", got, want)
	}
}

func TestEDNSEcho(t *testing.T) {
	srv := dnstest.Start(t, "x.example. TXT \"hi\"\n")
	m := new(dns.Msg)
	m.SetQuestion("x.example.", dns.TypeTXT)
	m.SetEdns0(1232, true)
	resp, _, err := new(dns.Client).Exchange(m, srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if opt := resp.IsEdns0(); opt == nil || !opt.Do() {
		t.Errorf("response OPT = %v, want DO echoed", opt)
	}
	if q := srv.Queries()[0]; !q.EDNS || !q.DO {
		t.Errorf("query = %+v", q)
	}
}

func TestAdd(t *testing.T) {
	srv := dnstest.Start(t, "")
	if r := ask(t, srv, "udp", "late.example", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Fatalf("before Add: %v", r)
	}
	srv.Add("late.example. A 127.0.0.9")
	if r := ask(t, srv, "udp", "late.example", dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("after Add: %v", r)
	}
}

func TestDelayedAnswerDoesNotHoldCleanup(t *testing.T) {
	// The subtest's cleanup must return although a handler is still waiting
	// out an hour's delay; if it did not, this test would hang.
	t.Run("server", func(t *testing.T) {
		srv := dnstest.Start(t, "slow.example. A 127.0.0.1\n")
		srv.On("slow.example", "A", dnstest.Behaviour{Delay: time.Hour})
		m := new(dns.Msg)
		m.SetQuestion("slow.example.", dns.TypeA)
		c := &dns.Client{Net: "tcp", Timeout: 50 * time.Millisecond}
		if _, _, err := c.Exchange(m, srv.Addr()); err == nil {
			t.Errorf("a delayed answer arrived")
		}
	})
}

func TestIndentedZone(t *testing.T) {
	srv := dnstest.Start(t, `
		example.com.      MX   10 mx1.example.com.
		mx1.example.com.  A    127.0.0.1
		null.example.     MX   0 .
	`)
	if r := ask(t, srv, "udp", "mx1.example.com", dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("indented record not served: %v", r)
	}
	if r := ask(t, srv, "udp", "null.example", dns.TypeMX); len(r.Answer) != 1 || r.Answer[0].(*dns.MX).Mx != "." {
		t.Errorf("null MX: %v", r)
	}
}

func TestMaxInFlight(t *testing.T) {
	srv := dnstest.Start(t, "x.example. A 127.0.0.1\n")
	ask(t, srv, "udp", "x.example", dns.TypeA)
	ask(t, srv, "udp", "x.example", dns.TypeA)
	if n := srv.MaxInFlight(); n != 1 {
		t.Errorf("one query after the other: MaxInFlight = %d, want 1", n)
	}
	// Three queries that each wait 300 ms, sent at once, overlap.
	srv.On("x.example", "A", dnstest.Behaviour{Delay: 300 * time.Millisecond})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			m := new(dns.Msg)
			m.SetQuestion("x.example.", dns.TypeA)
			if _, _, err := (&dns.Client{Net: "tcp"}).Exchange(m, srv.Addr()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := srv.MaxInFlight(); n != 3 {
		t.Errorf("three at once: MaxInFlight = %d, want 3", n)
	}
}
