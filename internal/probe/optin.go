package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	smtp "github.com/smtpx/smtpx/internal/third_party/go-smtp"
	"github.com/smtpx/smtpx/internal/transcript"
)

// The relay test addresses use RFC 2606 reserved domains, so that even a
// relay that accepted a message could not deliver it anywhere.
const (
	relayFrom = "smtpx-probe@example.org"
	relayRcpt = "smtpx-probe@example.net"
)

// sessionOptIns runs the opt-in checks that fit in the main dialogue, after
// the last EHLO: SIZE, VRFY/EXPN, relay. None of them ever sends DATA.
func (pr *prober) sessionOptIns(ep *Endpoint, c *conv, cl *checkList) {
	ext := c.ext
	if c.extTLS != nil {
		ext = c.extTLS
	}
	// A check that loses the connection closes the session; the ones
	// after it say so instead of silently going missing.
	run := func(on bool, id string, f func()) {
		switch {
		case !on:
		case c.s.Closed():
			cl.add(id, Info, "not tested: the connection was lost", ev("tested", false))
		default:
			f()
		}
	}
	run(pr.o.CheckSize, "size.enforced", func() { pr.sizeCheck(c.s, ext, cl) })
	run(pr.o.CheckVRFY, "vrfy.disclosure", func() { pr.disclosure(c.s, "VRFY", "vrfy.disclosure", cl) })
	run(pr.o.CheckVRFY, "expn.disclosure", func() { pr.disclosure(c.s, "EXPN", "expn.disclosure", cl) })
	run(pr.o.CheckRelay, "relay.foreign_rcpt", func() { pr.relayCheck(ep, c.s, cl) })
}

// lost reports a command error: the session is then closed and later
// opt-in checks are skipped.
func lost(s *session.Session, id string, err error, cl *checkList) {
	cl.add(id, Info, "inconclusive: "+errText(err), nil)
	s.Close()
}

// sizeCheck asks whether the advertised SIZE is enforced at MAIL (RFC 1870
// §6.1 lets a server refuse a declared size up front).
func (pr *prober) sizeCheck(s *session.Session, ext session.Extensions, cl *checkList) {
	n, ok := ext.Size()
	if !ok || n == 0 || n == math.MaxUint64 {
		cl.add("size.enforced", Info, "not tested: no SIZE limit is advertised", ev("tested", false))
		return
	}
	cmd := session.MailCmd("", &smtp.MailOptions{Size: int64(n + 1)})
	r, err := s.Cmd(cmd)
	if err != nil {
		lost(s, "size.enforced", err, cl)
		return
	}
	e := ev("tested", true, "limit", n, "declared", n+1, "code", r.Code, "text", r.Text())
	switch r.Class() {
	case 2:
		ch := cl.addf("size.enforced", Warn, e, "MAIL with SIZE=%d (over the advertised %d) was accepted: %s", n+1, n, replyLine(r))
		ch.Hint = "the server advertises a limit it does not check at MAIL; oversized mail is refused only after DATA"
	default:
		cl.addf("size.enforced", Pass, e, "MAIL with SIZE=%d (over the advertised %d) was refused: %s", n+1, n, replyLine(r))
	}
	if _, err := s.Cmd("RSET"); err != nil {
		s.Close()
	}
}

// disclosure asks VRFY or EXPN about postmaster, an address every server
// must have (RFC 5321 §4.5.1): a 250 shows the server confirms users.
func (pr *prober) disclosure(s *session.Session, verb, id string, cl *checkList) {
	r, err := s.Cmd(verb + " postmaster")
	if err != nil {
		lost(s, id, err, cl)
		return
	}
	e := ev("command", verb+" postmaster", "code", r.Code, "text", r.Text())
	switch {
	case r.Code == 250 || r.Code == 251:
		ch := cl.add(id, Warn, verb+" discloses addresses: "+replyLine(r), e)
		ch.Hint = "disable " + verb + " (Postfix: disable_vrfy_command = yes) to stop address harvesting"
	case r.Code == 252:
		cl.add(id, Pass, verb+" does not confirm addresses: "+replyLine(r), e)
	case r.Class() == 5:
		cl.add(id, Pass, verb+" is refused: "+replyLine(r), e)
	default:
		cl.add(id, Info, verb+" answered "+replyLine(r), e)
	}
}

// relayCheck asks whether the server takes RCPT for a foreign domain,
// with RSET between the attempts and never DATA. An accepted RCPT is a
// strong sign of an open relay, not proof: the server may still refuse
// the message later.
func (pr *prober) relayCheck(ep *Endpoint, s *session.Session, cl *checkList) {
	type attempt struct{ from, rcpt string }
	tries := []attempt{{relayFrom, relayRcpt}, {"", relayRcpt}}
	local := ep.domain
	if local == "" && ep.Host != "" {
		local = ep.Host
	}
	if local != "" {
		tries = append(tries, attempt{"smtpx-probe@" + local, relayRcpt})
	}
	var results []map[string]any
	var det []string
	accepted, tested := 0, 0
	for _, t := range tries {
		if s.Closed() {
			break
		}
		res := map[string]any{"mail_from": t.from, "rcpt_to": t.rcpt}
		r, err := s.Cmd(session.MailCmd(t.from, nil))
		if err != nil {
			s.Close()
			res["error"] = err.Error()
			results = append(results, res)
			break
		}
		res["mail_reply"] = replyLine(r)
		if r.Class() != 2 {
			det = append(det, fmt.Sprintf("MAIL FROM:<%s> refused: %s", t.from, replyLine(r)))
			results = append(results, res)
			if _, err := s.Cmd("RSET"); err != nil {
				s.Close()
			}
			continue
		}
		r, err = s.Cmd(session.RcptCmd(t.rcpt, nil))
		if err != nil {
			s.Close()
			res["error"] = err.Error()
			results = append(results, res)
			break
		}
		tested++
		res["rcpt_reply"] = replyLine(r)
		res["accepted"] = r.Class() == 2
		if r.Class() == 2 {
			accepted++
		}
		det = append(det, fmt.Sprintf("<%s> -> <%s>: %s", t.from, t.rcpt, replyLine(r)))
		results = append(results, res)
		if _, err := s.Cmd("RSET"); err != nil {
			s.Close()
		}
	}
	e := ev("attempts", results)
	var ch *Check
	switch {
	case accepted > 0:
		ch = cl.fail("relay.foreign_rcpt", exitcode.Check, fmt.Sprintf("accepts RCPT for a foreign domain (%d of %d attempts): a sign of an open relay, not proof", accepted, tested), e)
		ch.Hint = "check the relay restrictions (Postfix: smtpd_relay_restrictions); test by hand before trusting this"
	case tested == 0:
		ch = cl.add("relay.foreign_rcpt", Info, "inconclusive: no attempt got as far as RCPT", e)
	default:
		ch = cl.addf("relay.foreign_rcpt", Pass, e, "refuses RCPT for a foreign domain (%d attempts)", tested)
	}
	ch.Details = det
}

// connectionOptIns runs the checks that need connections of their own:
// STARTTLS injection, and the TLS versions and cipher suites accepted.
func (pr *prober) connectionOptIns(ctx context.Context, ep *Endpoint, c *conv, rec *transcript.Recorder, cl *checkList) {
	if pr.o.CheckInjection {
		pr.injectionCheck(ctx, ep, c, rec, cl)
	}
	var tls13, known bool
	if pr.o.CheckLegacyTLS || pr.o.CheckTLS {
		tls13, known = pr.tlsScan(ctx, ep, c, rec, cl)
	}
	if pr.o.CheckTLS || pr.o.RequireTLS13 {
		pr.tls13Check(ep, c, tls13, known, cl)
	}
}

// testConfig is a TLS configuration for a test connection: no
// verification, no session cache, the given versions.
func (pr *prober) testConfig(ep *Endpoint, minV, maxV uint16) *tls.Config {
	cfg := pr.o.TLS.Clone()
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = nil
	cfg.ClientSessionCache = nil
	cfg.ServerName = ep.ServerName
	cfg.MinVersion, cfg.MaxVersion = minV, maxV
	return cfg
}

// testVerdict marks the TLS line of a test connection as unverified on
// purpose.
func testVerdict(what string) func(*tls.ConnectionState) string {
	return func(*tls.ConnectionState) string { return "not verified (" + what + ")" }
}

// injectionCheck looks for the STARTTLS command injection flaw
// (CVE-2011-0411): STARTTLS and RSET go in one write; a server that
// answers the RSET after the handshake executed a command that arrived in
// clear text, which an attacker in the path could have inserted.
func (pr *prober) injectionCheck(ctx context.Context, ep *Endpoint, c *conv, rec *transcript.Recorder, cl *checkList) {
	const id = "tls.injection"
	if ep.Implicit {
		cl.add(id, Info, "not tested: implicit TLS has no STARTTLS", ev("tested", false))
		return
	}
	if !c.offered {
		cl.add(id, Info, "not tested: STARTTLS is not offered", ev("tested", false))
		return
	}
	obs := rec.Observe
	s, err := session.Dial(ctx, pr.sessionOptions(ep, obs, nil, testVerdict("injection check")))
	if err != nil {
		cl.add(id, Info, "inconclusive: "+errText(err), ev("tested", false))
		return
	}
	defer s.Close()
	if _, err := s.ReadBanner(); err != nil {
		cl.add(id, Info, "inconclusive: "+errText(err), ev("tested", false))
		return
	}
	helo := c.helo
	if _, err := s.Hello(helo); err != nil || !s.Ext.Has("STARTTLS") {
		cl.add(id, Info, "inconclusive: EHLO on the test connection did not offer STARTTLS", ev("tested", false))
		return
	}
	if err := s.Write("STARTTLS", "RSET"); err != nil {
		cl.add(id, Info, "inconclusive: "+errText(err), ev("tested", false))
		return
	}
	r, err := s.ReadReply("STARTTLS")
	if err != nil || r.Code != 220 {
		what := "the server did not answer 220"
		if err != nil {
			what = err.Error()
		} else {
			what += ": " + replyLine(r)
		}
		cl.add(id, Info, "inconclusive: "+what, ev("tested", false))
		return
	}
	// The session layer has no way to start TLS on a reply it did not ask
	// for, so the handshake is done here on its connection, and the rest
	// is read through a second session over the TLS stream.
	cfg := pr.testConfig(ep, tls.VersionTLS10, 0)
	tc := tls.Client(s.Conn(), cfg)
	hctx, cancel := context.WithTimeout(ctx, pr.o.Timeout)
	err = tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		obs(session.Event{Dir: session.Failure, At: s.Elapsed(), Line: "TLS handshake failed: " + err.Error()})
		cl.add(id, Info, "inconclusive: the handshake after a pipelined STARTTLS failed: "+err.Error(), ev("tested", false))
		return
	}
	st := tc.ConnectionState()
	obs(session.Event{Dir: session.Info, At: s.Elapsed(), Line: session.TLSSummary(&st, "not verified (injection check)")})
	tlsObs := func(e session.Event) {
		e.TLS = true
		e.At = s.Elapsed()
		obs(e)
	}
	ts := session.NewClient(tc, session.Options{Timeout: pr.o.InjectionWait, Observer: tlsObs, LMTP: pr.p.lmtp})
	defer ts.Close()
	r, err = ts.ReadReply("RSET")
	switch {
	case err == nil:
		ch := cl.fail(id, pr.tlsExit(ep), "vulnerable: a command sent in clear text before the handshake was answered inside TLS: "+replyLine(r), ev("tested", true, "vulnerable", true, "reply", replyLine(r)))
		ch.Hint = "the server keeps plaintext input across STARTTLS (CVE-2011-0411); update it"
	case errors.Is(err, session.ErrTimeout):
		cl.addf(id, Pass, ev("tested", true, "vulnerable", false, "waited_ms", transcript.MS(pr.o.InjectionWait)), "not vulnerable: the command sent before the handshake was discarded (waited %s)", session.FormatDuration(pr.o.InjectionWait))
		ts.Quit()
	default:
		cl.add(id, Info, "inconclusive: "+errText(err), ev("tested", true))
	}
}
