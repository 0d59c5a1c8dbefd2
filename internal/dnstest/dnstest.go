// Package dnstest runs a small DNS server on loopback for tests, so code that
// resolves MX, A, AAAA, TXT, TLSA and PTR records (internal/route, and the
// send, probe and verify verbs through it) can be tested without the
// internet or the system resolver.
//
// The server answers from zone-file text, like an authoritative server that
// also claims recursion: records at the asked name and type are answered, a
// CNAME at the name is answered and followed within the zone, a name that
// owns records (or has names below it) but none of the asked type gets an
// empty NOERROR answer (NoData), and any other name gets NXDOMAIN. Wildcards
// and DNSSEC signing are not implemented; set the AD bit with a Behaviour
// instead, the way a validating resolver would report a signed zone.
//
//	srv := dnstest.Start(t, `
//		example.com.      MX   10 mx1.example.com.
//		mx1.example.com.  A    127.0.0.1
//		null.example.     MX   0 .
//	`)
//	srv.On("broken.example.", "MX", dnstest.Behaviour{Rcode: "SERVFAIL"})
//	r, _ := route.New(route.Options{Server: srv.Addr()})
//
// UDP and TCP are served on the same port. UDP answers larger than the
// client's EDNS0 buffer (512 bytes without EDNS0) are truncated with the TC
// bit set, as a real server does, so clients must retry over TCP.
package dnstest

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Behaviour changes how the server answers the queries a rule matches. The
// zero value answers normally.
type Behaviour struct {
	// Rcode, if set, is the response code to answer with, with no records:
	// "SERVFAIL", "REFUSED", "NXDOMAIN", "NOERROR" (NoData), or "FORMERR",
	// which comes without an OPT record, as from a server without EDNS0.
	Rcode string
	// Drop never answers, so the client times out.
	Drop bool
	// Delay waits this long before answering (or before dropping). The wait
	// ends early when the test's cleanup stops the server.
	Delay time.Duration
	// Truncate answers UDP queries with no records and the TC bit set, so
	// the client has to ask again over TCP, where the answer is complete.
	Truncate bool
	// AD sets the Authenticated Data bit, as a validating resolver does for
	// an answer whose DNSSEC signatures it checked.
	AD bool
}

// Query is one question the server received, for tests that check what a
// client asked and how.
type Query struct {
	Name string // the name asked, lower case, with the trailing dot
	Type string // "MX", "A", "TLSA", ...
	Net  string // "udp" or "tcp"
	EDNS bool   // the query carried an OPT record
	DO   bool   // the DNSSEC OK bit was set
	AD   bool   // the AD bit was set in the query (RFC 6840 §5.7)
}

// Server is a running test DNS server. Its methods are safe for concurrent
// use, also while queries are being answered.
type Server struct {
	t     testing.TB
	addr  string
	stop  chan struct{}
	mu    sync.Mutex
	rrs   []dns.RR
	rules map[ruleKey]Behaviour
	log   []Query
	// inFlight and maxInFlight count queries being answered, for tests
	// that bound a client's concurrency.
	inFlight, maxInFlight int
}

type ruleKey struct {
	name  string // lower case FQDN; "" matches every name
	qtype uint16 // 0 matches every type
}

// Start parses zone and serves it on 127.0.0.1, UDP and TCP on one port,
// until the test ends. zone is zone-file text (RFC 1035 §5) as dns.NewRR
// reads it: one record per line, names relative to "." unless a $ORIGIN line
// says otherwise ("@" is the origin), TTL 300 unless given, class IN.
// Indentation is ignored, so every record must name its owner. A parse
// error fails the test.
func Start(t testing.TB, zone string) *Server {
	t.Helper()
	s := &Server{t: t, stop: make(chan struct{}), rules: map[ruleKey]Behaviour{}}
	s.Add(zone)

	pc, ln := listen(t)
	s.addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: s}
	tcp := &dns.Server{Listener: ln, Handler: s}
	var started, done sync.WaitGroup
	for _, srv := range []*dns.Server{udp, tcp} {
		started.Add(1)
		srv.NotifyStartedFunc = started.Done
		done.Go(func() { _ = srv.ActivateAndServe() })
	}
	started.Wait()
	t.Cleanup(func() {
		// Release delayed handlers first: Shutdown waits for them.
		close(s.stop)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = udp.ShutdownContext(ctx)
		_ = tcp.ShutdownContext(ctx)
		done.Wait()
	})
	return s
}

// listen opens UDP and TCP on the same loopback port. The UDP port is
// chosen by the kernel; TCP may find it taken by another process, so try
// again a few times.
func listen(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("dnstest: %v", err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
		lastErr = err
	}
	t.Fatalf("dnstest: no loopback port free for both UDP and TCP: %v", lastErr)
	return nil, nil
}

// Addr returns the server's address, "127.0.0.1:PORT", for
// route.Options.Server or a --dns-server flag.
func (s *Server) Addr() string { return s.addr }

// Add parses more zone text, in the same form as Start's, and serves it
// from now on alongside the records already there.
func (s *Server) Add(zone string) {
	s.t.Helper()
	// Strip indentation so zones can be indented inside Go raw strings; in
	// zone-file syntax a leading blank would mean "same owner as above".
	lines := strings.Split(zone, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, " \t")
	}
	zp := dns.NewZoneParser(strings.NewReader(strings.Join(lines, "\n")), ".", "dnstest zone")
	zp.SetDefaultTTL(300)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		s.t.Fatalf("dnstest: %v", err)
	}
	s.mu.Lock()
	s.rrs = append(s.rrs, rrs...)
	s.mu.Unlock()
}

// On sets how queries for name and qtype are answered, replacing an earlier
// rule for the same pair. An empty name matches every name and an empty
// qtype every type; when several rules match, the one naming both wins, then
// the one naming the name, then the type, then the catch-all. name is
// case-insensitive and its trailing dot optional.
func (s *Server) On(name, qtype string, b Behaviour) {
	s.t.Helper()
	k := ruleKey{}
	if name != "" {
		k.name = strings.ToLower(dns.Fqdn(name))
	}
	if qtype != "" {
		t, ok := dns.StringToType[strings.ToUpper(qtype)]
		if !ok {
			s.t.Fatalf("dnstest: unknown record type %q", qtype)
		}
		k.qtype = t
	}
	if _, ok := dns.StringToRcode[strings.ToUpper(b.Rcode)]; b.Rcode != "" && !ok {
		s.t.Fatalf("dnstest: unknown response code %q", b.Rcode)
	}
	s.mu.Lock()
	s.rules[k] = b
	s.mu.Unlock()
}

// Queries returns the questions received so far, in order of arrival.
func (s *Server) Queries() []Query {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Query(nil), s.log...)
}

// MaxInFlight returns the most queries that were being answered at once
// so far. Queries overlap only as long as they take to answer: give them a
// Delay to measure how many a client sends at a time.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// ServeDNS answers one query; it implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	s.mu.Lock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.mu.Unlock()
	// A query stops counting before its answer is written: once the client
	// has the answer it may ask again, and must not be seen with one more.
	done := sync.OnceFunc(func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	})
	defer done()
	w = answerHook{w, done}
	network := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		network = "tcp"
	}
	resp := new(dns.Msg)
	if len(req.Question) != 1 || req.Opcode != dns.OpcodeQuery {
		resp.SetRcode(req, dns.RcodeFormatError)
		_ = w.WriteMsg(resp)
		return
	}
	q := req.Question[0]
	opt := req.IsEdns0()
	qname := strings.ToLower(q.Name)

	s.mu.Lock()
	s.log = append(s.log, Query{
		Name: qname, Type: dns.TypeToString[q.Qtype], Net: network,
		EDNS: opt != nil, DO: opt != nil && opt.Do(), AD: req.AuthenticatedData,
	})
	b := s.rule(qname, q.Qtype)
	if b.Rcode == "" {
		s.answer(resp, req, qname, q.Qtype)
	}
	s.mu.Unlock()

	if b.Delay > 0 {
		select {
		case <-time.After(b.Delay):
		case <-s.stop:
			return
		}
	}
	if b.Drop {
		return
	}
	if b.Rcode != "" {
		resp.SetRcode(req, dns.StringToRcode[strings.ToUpper(b.Rcode)])
	}
	resp.Authoritative = true
	resp.RecursionAvailable = true
	resp.AuthenticatedData = b.AD
	size := dns.MinMsgSize
	if opt != nil && resp.Rcode == dns.RcodeFormatError {
		// Answer FORMERR like a server that predates EDNS0 (no OPT), so
		// tests can check a client's fallback to plain DNS.
		opt = nil
	}
	if opt != nil {
		// Echo EDNS0 and its DO bit, as RFC 6891 §7 and RFC 3225 §3 ask.
		resp.SetEdns0(4096, opt.Do())
		size = max(int(opt.UDPSize()), dns.MinMsgSize)
	}
	if network == "udp" {
		if b.Truncate {
			resp.Answer, resp.Ns = nil, nil
			resp.Truncated = true
		} else {
			resp.Truncate(size)
		}
	}
	_ = w.WriteMsg(resp)
}

// answerHook calls before just before the answer is written.
type answerHook struct {
	dns.ResponseWriter
	before func()
}

func (a answerHook) WriteMsg(m *dns.Msg) error {
	a.before()
	return a.ResponseWriter.WriteMsg(m)
}

// rule returns the most specific behaviour for a query. s.mu must be held.
func (s *Server) rule(qname string, qtype uint16) Behaviour {
	for _, k := range []ruleKey{{qname, qtype}, {qname, 0}, {"", qtype}, {"", 0}} {
		if b, ok := s.rules[k]; ok {
			return b
		}
	}
	return Behaviour{}
}

// answer fills resp from the zone. s.mu must be held.
func (s *Server) answer(resp, req *dns.Msg, qname string, qtype uint16) {
	resp.SetReply(req)
	name := qname
	for hop := 0; hop < 8; hop++ {
		var found []dns.RR
		var cname dns.RR
		owned := false
		for _, rr := range s.rrs {
			h := rr.Header()
			if !strings.EqualFold(h.Name, name) {
				continue
			}
			owned = true
			switch {
			case h.Rrtype == qtype || qtype == dns.TypeANY:
				found = append(found, dns.Copy(rr))
			case h.Rrtype == dns.TypeCNAME:
				cname = rr
			}
		}
		switch {
		case len(found) > 0:
			resp.Answer = append(resp.Answer, found...)
			return
		case cname != nil:
			// Answer the alias and look for the data at its target, as an
			// authoritative server does within its own zone.
			resp.Answer = append(resp.Answer, dns.Copy(cname))
			name = strings.ToLower(cname.(*dns.CNAME).Target)
			continue
		case hop > 0:
			// The target is not here: leave the CNAME for the client to
			// follow.
			return
		case !owned && !s.exists(name):
			resp.Rcode = dns.RcodeNameError
		}
		s.addSOA(resp, name)
		return
	}
}

// exists reports whether name owns records or has names below it (an empty
// non-terminal exists and gets NoData, not NXDOMAIN: RFC 8020).
func (s *Server) exists(name string) bool {
	for _, rr := range s.rrs {
		if dns.IsSubDomain(name, strings.ToLower(rr.Header().Name)) {
			return true
		}
	}
	return false
}

// addSOA puts the closest enclosing SOA, if the zone has one, in the
// authority section of a negative answer (RFC 2308 §3).
func (s *Server) addSOA(resp *dns.Msg, name string) {
	var best dns.RR
	for _, rr := range s.rrs {
		h := rr.Header()
		if h.Rrtype == dns.TypeSOA && dns.IsSubDomain(strings.ToLower(h.Name), name) &&
			(best == nil || dns.CountLabel(h.Name) > dns.CountLabel(best.Header().Name)) {
			best = rr
		}
	}
	if best != nil {
		resp.Ns = append(resp.Ns, dns.Copy(best))
	}
}
