package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smtpx/smtpx/internal/ehlo"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/transcript"
)

// conv is one dialogue up to the last EHLO: what it saw and where it
// stopped. When it got through, the session is left open for the opt-in
// checks.
type conv struct {
	s        *session.Session
	stopped  string // the phase that failed: connect, handshake, banner, ehlo, starttls, ehlo_tls; "" when it got through
	err      error
	banner   *session.Reply
	helo     string
	hello    *session.Reply // the first reply to EHLO (or HELO)
	usedHELO bool
	ext      session.Extensions
	extTLS   session.Extensions
	offered  bool // STARTTLS was advertised
	stReply  *session.Reply
	tls      *tls.ConnectionState
	final    *session.Reply
	timings  session.Timings
}

// sessionOptions are the options of one connection to ep.
func (pr *prober) sessionOptions(ep *Endpoint, obs session.Observer, cfg *tls.Config, verdict func(*tls.ConnectionState) string) session.Options {
	return session.Options{
		Network:        ep.Network,
		Address:        ep.Dial,
		ServerName:     ep.ServerName,
		ImplicitTLS:    ep.Implicit,
		TLSConfig:      cfg,
		LMTP:           pr.p.lmtp,
		ConnectTimeout: pr.o.ConnectTimeout,
		Timeout:        pr.o.Timeout,
		Observer:       obs,
		Dial:           pr.o.Dial,
		TLSVerdict:     verdict,
	}
}

// tlsConfig is the configuration for the main dialogue: the handshake
// always completes (so a bad certificate can still be described) and the
// chain is verified by the probe itself into v.
func (pr *prober) tlsConfig(ep *Endpoint, v *Verification) *tls.Config {
	cfg := pr.o.TLS.Clone()
	cfg.InsecureSkipVerify = true
	// Offer every version so the report says what the server negotiates;
	// --tls-min is a gate on the result, not a refusal to talk.
	cfg.MinVersion = tls.VersionTLS10
	cfg.ServerName = ep.ServerName
	cfg.ClientSessionCache = ep.cache
	roots := pr.o.TLS.RootCAs
	skip := pr.o.TLS.InsecureSkipVerify
	name := ep.ServerName
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		*v = verify(cs, name, roots, skip, pr.now)
		return nil
	}
	return cfg
}

// observer records events; nil when nothing is recorded.
func observer(rec *transcript.Recorder) session.Observer {
	if rec == nil {
		return nil
	}
	return rec.Observe
}

// converse runs connect, banner, EHLO, STARTTLS and EHLO again.
func (pr *prober) converse(ctx context.Context, ep *Endpoint, obs session.Observer, cfg *tls.Config, verdict func(*tls.ConnectionState) string) *conv {
	c := &conv{}
	s, err := session.Dial(ctx, pr.sessionOptions(ep, obs, cfg, verdict))
	if err != nil {
		c.err = err
		c.stopped = "connect"
		var se *session.Error
		if errors.As(err, &se) && se.Kind == session.KindTLS {
			c.stopped = "handshake"
		}
		return c
	}
	c.s = s
	c.tls = s.TLS
	stop := func(phase string, err error) *conv {
		c.stopped, c.err = phase, err
		s.Finish(err)
		c.timings = s.Timings
		return c
	}
	c.banner, err = s.ReadBanner()
	c.final = c.banner
	if err != nil {
		return stop("banner", err)
	}
	c.helo = pr.o.Helo
	if c.helo == "" {
		c.helo = s.HeloName()
	}
	r, err := s.Hello(c.helo)
	if r != nil {
		c.final, c.hello = r, r
	}
	c.usedHELO, c.ext = s.UsedHELO, s.Ext
	if err != nil {
		return stop("ehlo", err)
	}
	if s.TLS != nil || !s.Ext.Has("STARTTLS") {
		return c
	}
	c.offered = true
	r, err = s.StartTLS()
	c.stReply = r
	if r != nil {
		c.final = r
	}
	if err != nil {
		var se *session.Error
		if errors.As(err, &se) && se.Kind == session.KindTLS && se.Op == "TLS" {
			return stop("handshake", err)
		}
		return stop("starttls", err)
	}
	c.tls = s.TLS
	r, err = s.Hello(c.helo)
	if r != nil {
		c.final = r
	}
	c.extTLS = s.Ext
	if c.extTLS == nil {
		c.extTLS = session.Extensions{}
	}
	if err != nil {
		return stop("ehlo_tls", err)
	}
	return c
}

// quit ends an open dialogue and keeps its timings.
func (c *conv) quit() {
	if c.s != nil && !c.s.Closed() {
		c.s.Quit()
	}
	if c.s != nil {
		c.timings = c.s.Timings
	}
}

// probeEndpoint runs every check on one endpoint.
func (pr *prober) probeEndpoint(ctx context.Context, ep *Endpoint) {
	rec := &transcript.Recorder{}
	defer func() { ep.Events = rec.Events }()
	ep.Runs = 1
	if pr.o.Count > 1 {
		ep.cache = tls.NewLRUClientSessionCache(4)
	}
	v := &Verification{}
	// The handshake completes unverified so a bad certificate can be
	// described; the probe's own verification speaks in the transcript.
	c := pr.converse(ctx, ep, observer(rec), pr.tlsConfig(ep, v), func(*tls.ConnectionState) string { return v.Short() })
	ep.Banner, ep.Helo, ep.UsedHELO, ep.Ext, ep.ExtTLS = c.banner, c.helo, c.usedHELO, c.ext, c.extTLS
	ep.TLS, ep.Final, ep.Err = c.tls, c.final, c.err
	if c.tls != nil {
		ep.Verify = v
		ep.Certs = describeChain(c.tls.PeerCertificates, pr.now)
	}
	cl := &ep.Checks
	pr.dialogueChecks(ep, c, cl)
	if c.stopped == "" {
		pr.sessionOptIns(ep, c, cl)
	}
	c.quit()
	ep.Timings = c.timings
	if c.stopped == "" || c.stopped == "ehlo_tls" {
		pr.connectionOptIns(ctx, ep, c, rec, cl)
	}
	pr.dnsChecks(ctx, ep, c, cl)
	pr.repeat(ctx, ep, c, cl)
}

// tlsExit is the status a TLS failure on ep stands for: 6 where TLS was
// required (--require-tls, submission://, implicit TLS), else 1.
func (pr *prober) tlsExit(ep *Endpoint) int {
	if pr.tlsRequired(ep) {
		return exitcode.TLS
	}
	return exitcode.Check
}

func (pr *prober) tlsRequired(ep *Endpoint) bool {
	return pr.o.RequireTLS || pr.p.requireTLS || ep.Implicit
}

// submission reports whether ep is a submission port, where clients
// authenticate (RFC 8314 §3.3 for 465, RFC 6409 for 587).
func submission(ep *Endpoint) bool { return ep.Port == 587 || ep.Port == 465 }

// dialogueChecks turns the main dialogue into checks, in dialogue order.
func (pr *prober) dialogueChecks(ep *Endpoint, c *conv, cl *checkList) {
	t := c.timings
	if c.s != nil && t.Connect == 0 {
		t = c.s.Timings
	}
	switch c.stopped {
	case "connect":
		ch := cl.failErr("connect", c.err, ev("address", ep.Dial))
		ch.Hint = "check the host and port and that a server is listening (--connect-timeout to wait longer)"
		return
	case "handshake":
		if c.s == nil {
			// Implicit TLS: the handshake is part of connecting.
			cl.addf("connect", Pass, ev("address", ep.Dial), "connected to %s", ep.Dial)
			ch := cl.fail("tls.handshake", pr.tlsExit(ep), errText(c.err), ev("implicit", true))
			ch.Err = c.err
			ch.Hint = "use -v to see the handshake; the server may not speak TLS on this port"
			return
		}
	}
	cl.addf("connect", Pass, ev("address", ep.Dial, "ms", transcript.MS(t.Connect)), "connected to %s in %s", ep.Dial, session.FormatDuration(t.Connect))
	if ep.Implicit && c.tls != nil {
		cl.add("tls.starttls", Info, "implicit TLS (RFC 8314): TLS from the first byte", ev("implicit", true))
		pr.tlsChecks(ep, c, cl)
	}
	// The greeting.
	switch {
	case c.banner == nil && c.err != nil:
		ch := cl.failErr("banner", c.err, nil)
		if errors.Is(c.err, session.ErrTimeout) {
			ch.Hint = "the server sent no greeting; raise --timeout if it is just slow"
		}
		return
	case c.stopped == "banner" && c.banner.Class() >= 4:
		ch := cl.fail("banner", exitcode.FromReply(c.banner.Code), replyLine(c.banner), replyEv(c.banner))
		ch.Err = c.err
		ch.Hint = bannerHint(c.banner)
		return
	case c.stopped == "banner":
		cl.failErr("banner", c.err, replyEv(c.banner))
		return
	}
	cl.add("banner", Pass, replyLine(c.banner), replyEv(c.banner))
	bev := ev("ms", transcript.MS(t.Banner), "greet_pause_ms", transcript.MS(pr.o.GreetPause))
	if t.Banner >= pr.o.GreetPause {
		ch := cl.addf("banner.delay", Warn, bev, "the greeting took %s: a greet pause or tarpit (clients that talk first are refused)", session.FormatDuration(t.Banner))
		ch.Hint = "a deliberate greet pause delays every sender; raise --greet-pause if this is expected"
	} else {
		cl.addf("banner.delay", Pass, bev, "greeting after %s", session.FormatDuration(t.Banner))
	}
	// EHLO.
	verb := "EHLO"
	if pr.p.lmtp {
		verb = "LHLO"
	}
	if c.stopped == "ehlo" {
		ch := cl.failErr("ehlo", c.err, replyEv(c.final))
		if c.final != nil && c.final.Class() >= 4 {
			ch.Summary = verb + " refused: " + replyLine(c.final)
			ch.Hint = fmt.Sprintf("see 'smtpx codes %d'", c.final.Code)
		}
		return
	}
	if c.usedHELO {
		ch := cl.add("ehlo", Warn, "EHLO refused; HELO accepted, so no extensions are known", ev("helo", c.helo, "helo_fallback", true))
		ch.Hint = "without EHLO the server offers no STARTTLS, SIZE or 8BITMIME; enable ESMTP on it"
	} else {
		cl.addf("ehlo", Pass, ev("helo", c.helo, "keywords", len(c.ext), "ms", transcript.MS(t.Hello)), "%s %s accepted: %d %s", verb, c.helo, len(c.ext), transcript.Plural(len(c.ext), "extension", "extensions"))
	}
	pr.inventory(ep, c, cl)
	// STARTTLS.
	if !ep.Implicit {
		switch {
		case !c.offered && pr.tlsRequired(ep):
			ch := cl.fail("tls.starttls", exitcode.TLS, "STARTTLS is not offered, and TLS is required", ev("offered", false))
			ch.Hint = "enable STARTTLS on the server, or drop --require-tls"
		case !c.offered:
			ch := cl.add("tls.starttls", Warn, "STARTTLS is not offered: mail to this server travels in clear text", ev("offered", false))
			ch.Hint = "enable STARTTLS on the server (RFC 3207)"
		case c.stopped == "starttls":
			code := exitcode.For(c.err)
			if code == exitcode.TLS {
				code = pr.tlsExit(ep)
			}
			ch := cl.fail("tls.starttls", code, "STARTTLS is advertised but failed: "+errText(c.err), replyEv(c.stReply))
			ch.Err = c.err
			ch.Hint = "the server advertises STARTTLS but cannot start it; check its TLS certificate and key configuration"
			if errors.Is(c.err, session.ErrInjection) {
				ch.Hint = "the server or something in the path is injecting commands; do not trust this connection"
			}
			return
		default:
			cl.add("tls.starttls", Pass, "STARTTLS offered and accepted: "+replyLine(c.stReply), replyEv(c.stReply))
		}
		if c.offered {
			pr.tlsChecks(ep, c, cl)
		}
	}
	if c.stopped == "handshake" {
		return
	}
	pr.authCheck(ep, c, cl)
	if ep.Implicit && c.tls != nil {
		if c.ext.Has("STARTTLS") {
			ch := cl.add("tls.starttls.again", Fail, "STARTTLS is advertised inside implicit TLS (RFC 3207 §4.2 forbids it inside TLS)", nil)
			ch.Hint = "the server's TLS layer is misconfigured; a client may loop or be downgraded"
		} else {
			cl.add("tls.starttls.again", Pass, "STARTTLS is not advertised inside TLS", nil)
		}
	}
	if c.tls != nil && !ep.Implicit {
		if c.stopped == "ehlo_tls" {
			cl.failErr("ehlo.tls", c.err, replyEv(c.final))
		} else {
			ch := cl.addf("ehlo.tls", Pass, ev("keywords", c.extTLS.Keywords(), "ms", transcript.MS(t.Hello2)), "EHLO after TLS accepted: %d %s", len(c.extTLS), transcript.Plural(len(c.extTLS), "extension", "extensions"))
			for _, x := range c.extTLS {
				ch.Details = append(ch.Details, describe(x))
			}
			added, removed := ehlo.Diff(c.ext, c.extTLS)
			var det []string
			for _, a := range added {
				det = append(det, "+ "+a)
			}
			for _, r := range removed {
				det = append(det, "- "+r)
			}
			sum := "no change"
			if len(det) > 0 {
				sum = fmt.Sprintf("%d added, %d removed", len(added), len(removed))
			}
			ch = cl.add("ehlo.tls.diff", Info, sum, ev("added", nonNil(added), "removed", nonNil(removed)))
			ch.Details = det
			if c.extTLS.Has("STARTTLS") {
				ch := cl.add("tls.starttls.again", Fail, "STARTTLS is advertised again inside TLS (RFC 3207 §4.2 forbids it)", nil)
				ch.Hint = "the server's TLS layer is misconfigured; a client may loop or be downgraded"
			} else {
				cl.add("tls.starttls.again", Pass, "STARTTLS is not advertised again inside TLS", nil)
			}
		}
	}
	pr.requireChecks(c, cl)
}

// inventory reports every keyword, then one check per notable extension.
func (pr *prober) inventory(ep *Endpoint, c *conv, cl *checkList) {
	var det []string
	for _, x := range c.ext {
		det = append(det, describe(x))
	}
	ch := cl.addf("ehlo.extensions", Info, ev("keywords", c.ext.Keywords()), "%d advertised", len(c.ext))
	if c.usedHELO {
		ch.Summary = "none known: HELO was used"
	}
	ch.Details = det
	for _, kw := range Keywords {
		id := KeywordID("ehlo.", kw)
		x, before := c.ext.Get(kw)
		if !before {
			x, _ = c.extTLS.Get(kw)
		}
		_, after := c.extTLS.Get(kw)
		where := "before TLS"
		switch {
		case before && after:
			where = "before and after TLS"
		case after:
			where = "after TLS"
		case c.extTLS == nil:
			where = ""
		}
		if !before && !after {
			cl.add(id, Info, kw+" is not advertised", ev("advertised", false))
			continue
		}
		e := ev("advertised", true, "params", nonNil(x.Params), "before_tls", before, "after_tls", after)
		text := ehlo.Describe(x)
		if kw == "SIZE" {
			from := c.ext
			if !before {
				from = c.extTLS
			}
			if n, ok := from.Size(); ok {
				e["bytes"] = n
			}
		}
		if kw == "AUTH" {
			text = "AUTH " + strings.Join(c.ext.AuthMechanisms(), " ")
			if !before {
				text = "AUTH " + strings.Join(c.extTLS.AuthMechanisms(), " ")
			}
			e["mechanisms"] = nonNil(c.ext.AuthMechanisms())
			e["mechanisms_tls"] = nonNil(c.extTLS.AuthMechanisms())
		}
		text += " is advertised"
		if where != "" {
			text += " (" + where + ")"
		}
		cl.add(id, Pass, text, e)
	}
}

// authCheck judges where AUTH is offered (RFC 8314).
func (pr *prober) authCheck(ep *Endpoint, c *conv, cl *checkList) {
	before := c.ext.AuthMechanisms()
	after := c.extTLS.AuthMechanisms()
	e := ev("before_tls", nonNil(before), "after_tls", nonNil(after))
	plain := false
	for _, m := range before {
		plain = plain || m == "PLAIN" || m == "LOGIN"
	}
	switch {
	case ep.Implicit && len(before) > 0:
		cl.add("auth.tls", Pass, "AUTH "+strings.Join(before, " ")+" inside implicit TLS", e)
	case len(before) == 0 && len(after) > 0:
		cl.add("auth.tls", Pass, "AUTH is offered only after TLS: "+strings.Join(after, " "), e)
	case plain && submission(ep):
		ch := cl.add("auth.tls", Warn, "AUTH "+strings.Join(before, " ")+" is offered before TLS on a submission port: passwords can travel in clear text (RFC 8314)", e)
		ch.Hint = "offer AUTH only after STARTTLS (Postfix: smtpd_tls_auth_only = yes)"
	case len(before) > 0:
		cl.add("auth.tls", Info, "AUTH "+strings.Join(before, " ")+" is offered before TLS", e)
	default:
		cl.add("auth.tls", Info, "no AUTH offered", e)
	}
}

// requireChecks checks --require.
func (pr *prober) requireChecks(c *conv, cl *checkList) {
	for _, kw := range pr.o.Require {
		kw = strings.ToUpper(kw)
		id := KeywordID("require.", kw)
		before, after := c.ext.Has(kw), c.extTLS.Has(kw)
		e := ev("keyword", kw, "before_tls", before, "after_tls", after)
		if before || after {
			cl.add(id, Pass, kw+" is advertised", e)
			continue
		}
		ch := cl.add(id, Fail, kw+" is not advertised", e)
		ch.Hint = "the server does not offer " + kw + "; drop it from --require if that is expected"
		if c.usedHELO {
			ch.Summary += " (EHLO was refused)"
		}
	}
}

// tlsChecks describes the TLS connection and the certificate.
func (pr *prober) tlsChecks(ep *Endpoint, c *conv, cl *checkList) {
	t := c.timings
	if c.s != nil && t.Handshake == 0 {
		t = c.s.Timings
	}
	if c.stopped == "handshake" {
		ch := cl.fail("tls.handshake", pr.tlsExit(ep), errText(c.err), nil)
		ch.Err = c.err
		ch.Hint = "use -v to see the handshake; the server's TLS configuration may be broken"
		return
	}
	if c.tls == nil {
		return
	}
	st := c.tls
	ver := tls.VersionName(st.Version)
	cl.addf("tls.handshake", Pass, ev("ms", transcript.MS(t.Handshake)), "%s in %s", ver, session.FormatDuration(t.Handshake))
	vev := ev("version", ver, "min", tls.VersionName(pr.o.TLS.MinVersion))
	if st.Version < pr.o.TLS.MinVersion {
		ch := cl.fail("tls.version", pr.tlsExit(ep), fmt.Sprintf("%s is below --tls-min %s", ver, versionNumber(pr.o.TLS.MinVersion)), vev)
		ch.Hint = "enable TLS 1.2 or 1.3 on the server (RFC 8996 deprecates 1.0 and 1.1)"
	} else {
		cl.add("tls.version", Pass, ver, vev)
	}
	suite := tls.CipherSuiteName(st.CipherSuite)
	insecure := false
	for _, s := range tls.InsecureCipherSuites() {
		insecure = insecure || s.ID == st.CipherSuite
	}
	if insecure {
		ch := cl.add("tls.cipher", Warn, suite+" is an insecure cipher suite", ev("cipher", suite, "insecure", true))
		ch.Hint = "disable RC4, 3DES and CBC-SHA256 suites on the server"
	} else {
		cl.add("tls.cipher", Info, suite, ev("cipher", suite, "insecure", false))
	}
	group := ""
	if st.CurveID != 0 {
		group = st.CurveID.String()
	}
	if group == "" {
		cl.add("tls.group", Info, "key exchange group not reported", ev("group", ""))
	} else {
		cl.add("tls.group", Info, group, ev("group", group))
	}
	pr.certChecks(ep, c, cl)
	if len(st.OCSPResponse) > 0 {
		cl.addf("tls.ocsp", Pass, ev("stapled", true, "bytes", len(st.OCSPResponse)), "an OCSP response is stapled (%d bytes)", len(st.OCSPResponse))
	} else {
		cl.add("tls.ocsp", Info, "no OCSP response stapled", ev("stapled", false))
	}
}

// dayCount says "1 day" or "N days".
func dayCount(n int) string { return fmt.Sprintf("%d %s", n, transcript.Plural(n, "day", "days")) }

func versionNumber(v uint16) string {
	return strings.TrimPrefix(tls.VersionName(v), "TLS ")
}

// certChecks reports the chain, its verification and its expiry.
func (pr *prober) certChecks(ep *Endpoint, c *conv, cl *checkList) {
	st := c.tls
	if len(st.PeerCertificates) == 0 {
		ch := cl.fail("tls.cert.chain", pr.tlsExit(ep), "the server sent no certificate", nil)
		ch.Hint = "configure a certificate on the server"
		return
	}
	leaf := ep.Certs[0]
	ch := cl.addf("tls.cert.chain", Info, ev("certificates", ep.Certs), "%s, issued by %s, %d %s", leaf.Subject, leaf.Issuer, len(ep.Certs), transcript.Plural(len(ep.Certs), "certificate", "certificates"))
	for i, ce := range ep.Certs {
		ch.Details = append(ch.Details, ce.lines(i)...)
	}
	v := ep.Verify
	vev := ev("name", v.Name, "verified", v.OK, "name_match", v.NameOK, "error", v.Error, "chain", nonNil(v.Chain))
	switch {
	case v.Skipped:
		cl.add("tls.cert.verify", Info, "not checked (--insecure)", vev)
	case v.OK:
		cl.addf("tls.cert.verify", Pass, vev, "verified for %s", v.Name)
	default:
		sum := "verification failed: " + v.Error
		switch {
		case pr.tlsRequired(ep):
			ch := cl.fail("tls.cert.verify", exitcode.TLS, sum, vev)
			ch.Hint = v.hint()
		case submission(ep):
			ch := cl.fail("tls.cert.verify", exitcode.Check, sum+" (mail clients on a submission port will refuse it)", vev)
			ch.Hint = v.hint()
		default:
			ch := cl.add("tls.cert.verify", Warn, sum+" (opportunistic senders still encrypt; MTA-STS and other verifying senders refuse)", vev)
			ch.Hint = v.hint()
		}
	}
	pr.expiryCheck(ep, cl)
}

// expiryCheck gates the leaf's validity period (--cert-days).
func (pr *prober) expiryCheck(ep *Endpoint, cl *checkList) {
	c := ep.TLS.PeerCertificates[0]
	left := c.NotAfter.Sub(pr.now)
	days := int(left.Hours() / 24)
	e := ev("not_before", c.NotBefore.UTC(), "not_after", c.NotAfter.UTC(), "days_left", days, "fail_days", pr.o.CertDays, "warn_days", pr.o.CertWarnDays)
	code := exitcode.Check
	if pr.tlsRequired(ep) {
		code = exitcode.TLS
	}
	switch {
	case pr.now.Before(c.NotBefore):
		ch := cl.fail("tls.cert.expiry", code, "the certificate is not valid until "+c.NotBefore.UTC().Format(time.DateOnly), e)
		ch.Hint = "check the server's clock and certificate"
	case left < 0:
		ch := cl.fail("tls.cert.expiry", code, fmt.Sprintf("the certificate expired %s ago (%s)", dayCount(-days), c.NotAfter.UTC().Format(time.DateOnly)), e)
		ch.Hint = "renew the certificate"
	case pr.o.CertDays > 0 && left < time.Duration(pr.o.CertDays)*24*time.Hour:
		ch := cl.fail("tls.cert.expiry", exitcode.Check, fmt.Sprintf("expires in %s (%s), within --cert-days %d", dayCount(days), c.NotAfter.UTC().Format(time.DateOnly), pr.o.CertDays), e)
		ch.Hint = "renew the certificate, or lower --cert-days"
	case left < time.Duration(pr.o.CertWarnDays)*24*time.Hour:
		ch := cl.addf("tls.cert.expiry", Warn, e, "expires in %s (%s)", dayCount(days), c.NotAfter.UTC().Format(time.DateOnly))
		ch.Hint = "renew the certificate soon"
	default:
		cl.addf("tls.cert.expiry", Pass, e, "expires in %s (%s)", dayCount(days), c.NotAfter.UTC().Format(time.DateOnly))
	}
}

func replyLine(r *session.Reply) string {
	if r == nil {
		return ""
	}
	// The first line is enough for a check's summary; the evidence has all.
	if t, _, _ := strings.Cut(r.Text(), "\n"); t != "" {
		return r.Codes() + " " + t
	}
	return r.Codes()
}

func replyEv(r *session.Reply) map[string]any {
	if r == nil {
		return nil
	}
	return ev("code", r.Code, "enhanced", r.Enhanced, "text", r.Text())
}

func bannerHint(r *session.Reply) string {
	h := "see 'smtpx codes " + r.Codes() + "'"
	if r.Class() == 4 {
		h = "the server is refusing connections for now: retry later; " + h
	}
	return h
}

// describe renders one extension like the ehlo verb does.
func describe(x session.Extension) string {
	text := ehlo.Describe(x)
	if m := ehlo.Meaning(x.Keyword); m != "" {
		text = fmt.Sprintf("%-28s %s", text, m)
	}
	return text
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
