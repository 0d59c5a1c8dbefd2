package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/smtpx/smtpx/internal/address"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/route"
	"github.com/smtpx/smtpx/internal/session"
	smtp "github.com/smtpx/smtpx/internal/third_party/go-smtp"
	"github.com/smtpx/smtpx/internal/transcript"
)

// conn is one open, greeted session to an MX, ready for transactions.
type conn struct {
	*session.Session
	n        int
	host     string
	addr     string
	verified bool
	// unchecked is set when verification was switched off (--insecure).
	unchecked bool
	tlsErr    string
	stop      func() bool
	// closing is set after a 421: the server is closing the channel, so
	// the session ends without QUIT (RFC 5321 §3.8).
	closing bool
	// fellBack is set when STARTTLS failed and this connection is the
	// plaintext retry.
	fellBack bool
}

// base fills the evidence every result from this session shares.
func (c *conn) base(tried []Attempt) *Result {
	return &Result{Source: "smtp", MX: c.host, MXAddress: c.addr, Tried: tried, TLS: c.TLS,
		TLSVerified: c.verified, TLSUnchecked: c.unchecked, TLSError: c.tlsErr, TLSFallback: c.fellBack, Session: c.n, Timings: c.Timings}
}

// refusal is a session-level answer from an MX that refused to serve:
// a 4xx or 5xx to the banner, EHLO or STARTTLS.
type refusal struct {
	op    string
	reply *session.Reply
}

// tlsCheck records what the opportunistic certificate check found: why
// is "" when the certificate verified.
type tlsCheck struct {
	verified bool
	why      string
}

// open dials one address of an MX and greets it: banner, EHLO, STARTTLS
// when offered, EHLO again. A failed TLS handshake is retried once on a new
// connection without STARTTLS, as MTAs doing opportunistic TLS do; that
// retry is part of the same attempt. answered reports whether the server
// sent any reply, which makes the attempt count as a session against
// route.Limits.
func (e *engine) open(ctx context.Context, h route.Host, ip netip.Addr, port int, first bool) (c *conn, ref *refusal, answered bool, err error) {
	tryTLS := !e.o.NoStartTLS
	tlsNote := ""
	for {
		n := int(e.dials.Add(1))
		var obs session.Observer
		if e.o.Observer != nil {
			obs = e.o.Observer(n)
		}
		chk := &tlsCheck{}
		so := e.o.Session
		so.Network = "tcp"
		so.Address = netip.AddrPortFrom(ip, uint16(port)).String()
		so.ServerName = h.Name
		so.ImplicitTLS = false
		so.TLSConfig = e.tlsConfig(h.Name, chk)
		insecure := e.o.Session.TLSConfig != nil && e.o.Session.TLSConfig.InsecureSkipVerify
		if !insecure {
			// The check runs in VerifyConnection and never fails the
			// handshake; its verdict is what the transcript shows.
			so.TLSVerdict = func(*tls.ConnectionState) string { return tlsVerdict(chk) }
		}
		if obs != nil {
			inner := obs
			so.Observer = obs
			if first {
				if h.Preference > 0 || h.Name != ip.String() {
					inner(session.Event{Dir: session.Info, Line: fmt.Sprintf("MX %s (preference %d)", h.Name, h.Preference)})
				}
				first = false
			}
			if tlsNote != "" {
				inner(session.Event{Dir: session.Info, Line: tlsNote})
			}
		}
		s, err := session.Dial(ctx, so)
		if err != nil {
			return nil, nil, answered, err
		}
		e.sessions.Add(1)
		raw := s.Conn()
		c := &conn{Session: s, n: n, host: h.Name, addr: so.Address}
		// An interrupt (Ctrl-C) ends a session at once instead of after
		// the reply timeout.
		c.stop = context.AfterFunc(ctx, func() { raw.Close() })
		fail := func(op string, r *session.Reply, err error) (*conn, *refusal, bool, error) {
			answered = answered || s.Banner != nil
			s.Finish(err)
			c.stop()
			var se *session.Error
			if r != nil && errors.As(err, &se) && se.Kind == session.KindReply {
				return nil, &refusal{op: op, reply: r}, true, nil
			}
			return nil, nil, answered, err
		}
		if r, err := s.ReadBanner(); err != nil {
			return fail("banner", r, err)
		}
		helo := e.heloName(s)
		if r, err := s.Hello(helo); err != nil {
			return fail("EHLO", r, err)
		}
		if tryTLS && s.Ext.Has("STARTTLS") {
			r, err := s.StartTLS()
			switch {
			case err == nil:
				c.tlsErr = chk.why
				c.verified = chk.verified && !insecure
				if insecure {
					// The words the transcript's TLS line used: the
					// caller's TLSVerdict names the flag that switched
					// the check off.
					c.unchecked, c.tlsErr = true, session.NotVerified
					if so.TLSVerdict != nil {
						c.tlsErr = so.TLSVerdict(s.TLS)
					}
				}
				if r, err := s.Hello(helo); err != nil {
					return fail("EHLO", r, err)
				}
			case r != nil && r.Code == 421:
				return fail("STARTTLS", r, session.ReplyError("STARTTLS", r))
			case r != nil && r.Code != 220:
				// Refused (454 and the like): the session goes on in
				// plaintext, which is what the server offers.
				c.tlsErr = fmt.Sprintf("STARTTLS refused with %d", r.Code)
			default:
				// The handshake broke the connection: once more, in
				// plaintext.
				answered = true
				s.Close()
				c.stop()
				tryTLS = false
				tlsNote = "TLS failed (" + transcript.OneLine(err.Error()) + "); trying again without STARTTLS"
				continue
			}
		}
		if tlsNote != "" && c.tlsErr == "" {
			c.tlsErr, c.fellBack = tlsNote, true
		}
		return c, nil, true, nil
	}
}

// heloName is --helo, or this host's name as the first session sees it.
func (e *engine) heloName(s *session.Session) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.helo == "" {
		e.helo = e.o.Helo
		if e.helo == "" {
			e.helo = s.HeloName()
		}
	}
	return e.helo
}

// tlsConfig returns the configuration for STARTTLS to host. Verification
// is done in VerifyConnection and recorded in chk instead of failing the
// handshake: the address can be verified over TLS that is only
// opportunistic (RFC 7435), and the report says whether it was verified.
func (e *engine) tlsConfig(host string, chk *tlsCheck) *tls.Config {
	var cfg *tls.Config
	if e.o.Session.TLSConfig != nil {
		cfg = e.o.Session.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if cfg.InsecureSkipVerify {
		return cfg
	}
	name, roots := cfg.ServerName, cfg.RootCAs
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			chk.why = "the server sent no certificate"
			return nil
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, DNSName: name, Intermediates: inter})
		chk.verified = err == nil
		if err != nil {
			_, chk.why = session.CertCause(err)
		}
		return nil
	}
	return cfg
}

// tlsVerdict says how the opportunistic certificate check went.
func tlsVerdict(chk *tlsCheck) string {
	if chk.verified {
		return "verified"
	}
	why := chk.why
	if why == "" {
		why = "unchecked"
	}
	return "NOT verified: " + why + " (opportunistic TLS, going on)"
}

// isConnectTimeout reports a connection attempt that timed out, the mark of
// a network that drops outbound port 25.
func isConnectTimeout(err error) bool {
	var se *session.Error
	if !errors.As(err, &se) || se.Kind != session.KindNetwork || !strings.HasPrefix(se.Op, "connect") {
		return false
	}
	var ne net.Error
	return errors.Is(se.Err, context.DeadlineExceeded) || errors.Is(se.Err, os.ErrDeadlineExceeded) ||
		errors.As(se.Err, &ne) && ne.Timeout()
}

// runSession serves a batch of jobs over one session, trying the group's
// MX hosts in order until one greets, within route.Limits: at most 5
// addresses, and no more after 2 that answered without serving.
func (e *engine) runSession(ctx context.Context, g *group, batch []*job) {
	var tried []Attempt
	var lastRefusal *refusal
	var lastErr error
	allTimeouts, attempts := true, 0
	tries := e.o.Limits.Tries()
	limited := g.omitted > 0
hosts:
	for _, h := range g.hosts {
		addrs := h.Addrs()
		if len(addrs) == 0 {
			msg := "no address"
			if h.Err != nil {
				msg = h.Err.Error()
			}
			tried = append(tried, Attempt{Host: h.Name, Error: msg})
			allTimeouts = false
			continue
		}
		first := true
		for _, ip := range addrs {
			if !tries.Next() {
				limited = true
				break hosts
			}
			release, err := e.turn(ctx, ip)
			if err != nil {
				e.putBack(g, batch)
				return
			}
			// While this batch waited for its turn, the server may have
			// asked to be left alone (421, a policy refusal), for this
			// domain or another it serves: the batch gets that answer,
			// never a new session.
			e.mu.Lock()
			stopped := g.stopped
			if sv := e.servers[ip.Unmap()]; sv != nil && sv.stopped != nil {
				stopped = sv.stopped
			}
			if stopped != nil {
				for _, k := range batch {
					e.finishStopped(k, stopped)
				}
				e.mu.Unlock()
				release()
				return
			}
			e.mu.Unlock()
			attempts++
			c, ref, answered, err := e.open(ctx, h, ip, g.port, first)
			first = false
			if answered {
				tries.Answered()
			}
			if c != nil {
				e.mu.Lock()
				g.everOK, g.failedInRow = true, 0
				e.mu.Unlock()
				e.serve(ctx, g, c, batch, tried)
				e.mu.Lock()
				if sv := e.servers[ip.Unmap()]; sv != nil && g.stopped != nil {
					sv.stopped = g.stopped
				}
				e.mu.Unlock()
				release()
				return
			}
			release()
			at := Attempt{Host: h.Name, Address: netip.AddrPortFrom(ip, uint16(g.port)).String()}
			if ref != nil {
				allTimeouts = false
				at.Error = fmt.Sprintf("%s: %d %s", ref.op, ref.reply.Code, transcript.OneLine(ref.reply.Text()))
				tried = append(tried, at)
				if ref.reply.Class() == 5 {
					// Never the next MX after a 5xx (RFC 5321 §5.1
					// lets a client try others only for transient
					// failures): the prober is refused.
					cls := classifySession(ref.op, ref.reply)
					e.decideBatch(g, batch, e.sessionResult(cls, ref.reply, h.Name, at.Address, tried), true)
					return
				}
				lastRefusal = ref
				continue hosts // a 4xx: the next MX host
			}
			if ctx.Err() != nil {
				e.putBack(g, batch)
				return
			}
			lastErr = err
			at.Error = transcript.OneLine(err.Error())
			tried = append(tried, at)
			if !isConnectTimeout(err) {
				allTimeouts = false
			}
			var se *session.Error
			if errors.As(err, &se) && se.Kind != session.KindNetwork {
				allTimeouts = false
			}
		}
	}
	// No MX served this batch.
	var res *Result
	stop := true
	why := ""
	if limited && !tries.More() {
		why = " (" + tries.Why() + ")"
	}
	if lastRefusal != nil {
		cls := classifySession(lastRefusal.op, lastRefusal.reply)
		res = e.sessionResult(cls, lastRefusal.reply, "", "", tried)
		res.Reason = "every MX deferred: " + cls.reason + why
	} else {
		res = &Result{Verdict: Unknown, Source: "smtp", Err: lastErr, Tried: tried}
		switch {
		case lastErr == nil:
			res.Reason = "no MX host has an address"
			res.Exit = exitcode.Network
		default:
			res.Reason = "no MX answered: " + transcript.OneLine(lastErr.Error()) + why
			res.Exit = exitcode.For(lastErr)
		}
		if attempts > 0 && allTimeouts && g.port == 25 {
			res.PortBlocked = true
			res.Reason = "every MX timed out on port 25: outbound port 25 is probably blocked on this network"
		}
		// A group that served sessions before gets one more try: the
		// server may have restarted between sessions.
		e.mu.Lock()
		if g.everOK && g.failedInRow == 0 {
			g.failedInRow++
			e.requeue(g, batch...)
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
	}
	e.decideBatch(g, batch, res, stop)
}

// sessionResult builds the result of a session-level refusal.
func (e *engine) sessionResult(cls class, r *session.Reply, host, addr string, tried []Attempt) *Result {
	res := &Result{Verdict: cls.verdict, Reason: cls.reason, Source: "smtp", Reply: r, MX: host, MXAddress: addr,
		Tried: tried, Greylisted: cls.greylisted, RetryAfter: cls.retryAfter}
	res.Exit = exitFor(res.Verdict, r, nil)
	return res
}

// decideBatch gives every job of the batch the same result; with stop, the
// rest of the group is not tried either.
func (e *engine) decideBatch(g *group, batch []*job, res *Result, stop bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, j := range batch {
		e.finish(j, res)
	}
	if stop && g.stopped == nil {
		g.stopped = res
	}
}

func (e *engine) putBack(g *group, jobs []*job) {
	e.mu.Lock()
	e.requeue(g, jobs...)
	e.mu.Unlock()
}

// serve runs the transactions of a batch over an open session, then QUIT.
// A batch smaller than PerSession is topped up from the group's queue as
// it is served: addresses read while the session runs share it.
func (e *engine) serve(ctx context.Context, g *group, c *conn, batch []*job, tried []Attempt) {
	defer c.stop()
	for i := 0; ; i++ {
		e.mu.Lock()
		if i == len(batch) && len(batch) < e.o.PerSession && g.stopped == nil && ctx.Err() == nil {
			more, _ := e.take(g, e.o.PerSession-len(batch))
			batch = append(batch, more...)
		}
		if i == len(batch) {
			e.mu.Unlock()
			break
		}
		j := batch[i]
		if stopped := g.stopped; stopped != nil {
			for _, k := range batch[i:] {
				e.finishStopped(k, stopped)
			}
			e.mu.Unlock()
			break
		}
		e.mu.Unlock()
		var err error
		switch {
		case j.probe:
			e.mu.Lock()
			e.retire(j)
			e.mu.Unlock()
			err = e.probe(g, c, j.dom, j.addr)
		case e.o.Method == MethodRcpt:
			err = e.rcpt(g, c, j, tried)
		default:
			err = e.vrfy(g, c, j, tried)
		}
		if err == nil && c.closing {
			e.mu.Lock()
			for _, k := range batch[i+1:] {
				if g.stopped != nil {
					e.finishStopped(k, g.stopped)
				}
			}
			e.requeue(g, batch[i+1:]...)
			e.mu.Unlock()
			c.Close()
			return
		}
		if err != nil {
			c.Finish(err)
			e.mu.Lock()
			rest := batch[i+1:]
			inFlight := !j.done && j.accepted == nil
			if inFlight {
				// The session broke with this address in flight.
				j.attempts++
				var se *session.Error
				if errors.As(err, &se) && se.Kind == session.KindProtocol {
					// A server that breaks the protocol does it again:
					// no retry.
					j.attempts = e.o.Retries + 1
				}
				if j.attempts > e.o.Retries || ctx.Err() != nil {
					res := c.base(tried)
					res.Verdict, res.Err = Unknown, err
					res.Reason = "the session broke: " + transcript.OneLine(err.Error())
					if ctx.Err() != nil {
						res.Reason = "interrupted"
					}
					res.Exit = exitFor(Unknown, nil, err)
					e.finish(j, res)
				} else {
					rest = append([]*job{j}, rest...)
				}
			}
			// A server that breaks session after session without
			// answering for any address would otherwise get two
			// sessions per address: after three in a row, give up on it.
			if i == 0 && inFlight {
				g.brokenInRow++
			} else {
				g.brokenInRow = 0
			}
			if g.brokenInRow >= 3 && g.stopped == nil {
				res := c.base(tried)
				res.Verdict, res.Err, res.Exit = Unknown, err, exitFor(Unknown, nil, err)
				res.Reason = "the MX broke three sessions in a row: " + transcript.OneLine(err.Error())
				g.stopped = res
			}
			e.requeue(g, rest...)
			e.mu.Unlock()
			return
		}
	}
	e.mu.Lock()
	g.brokenInRow = 0
	e.mu.Unlock()
	c.Quit()
}

func (e *engine) mailFrom(utf8 bool) string {
	from := ""
	if e.o.From != nil {
		from = e.o.From.Mailbox()
	}
	return session.MailCmd(from, &smtp.MailOptions{UTF8: utf8})
}

// transaction says MAIL FROM, RCPT TO and RSET, in one write when the server
// offers PIPELINING. It returns the MAIL and RCPT replies; rcpt is nil when
// MAIL was refused. err is a session failure.
func (e *engine) transaction(c *conn, to string, utf8 bool) (mail, rcpt *session.Reply, err error) {
	mailCmd, rcptCmd := e.mailFrom(utf8), session.RcptCmd(to, nil)
	if c.Ext.Has("PIPELINING") {
		rs, err := c.Pipeline(mailCmd, rcptCmd, "RSET")
		for i, op := range []string{"MAIL", "RCPT", "RSET"} {
			if i < len(rs) {
				if perr := inSequence(op, rs[i]); perr != nil {
					return nil, nil, perr
				}
			}
		}
		if len(rs) > 0 {
			mail = rs[0]
		}
		if len(rs) > 1 && mail.Class() == 2 {
			rcpt = rs[1]
		}
		return mail, rcpt, err
	}
	mail, err = c.Cmd(mailCmd)
	if err == nil {
		err = inSequence("MAIL", mail)
	}
	if err != nil {
		return nil, nil, err
	}
	if mail.Class() == 2 {
		rcpt, err = c.Cmd(rcptCmd)
		if err == nil {
			err = inSequence("RCPT", rcpt)
		}
		if err != nil {
			return mail, nil, err
		}
	}
	r, err := c.Cmd("RSET")
	if err == nil {
		err = inSequence("RSET", r)
	}
	return mail, rcpt, err
}

// inSequence returns a protocol error for a 3xx reply to MAIL, RCPT or
// RSET: none of them has an intermediate reply, so the server is out of
// step and the reply says nothing about the address.
func inSequence(op string, r *session.Reply) error {
	if r != nil && r.Class() == 3 {
		return &session.Error{Kind: session.KindProtocol, Op: op, Reply: r,
			Msg: fmt.Sprintf("unexpected reply %d to %s (out of sequence)", r.Code, op)}
	}
	return nil
}

// rcpt asks about one address with RCPT TO, and about a random address of
// its domain when it was accepted and the domain's catch-all status is not
// known yet.
func (e *engine) rcpt(g *group, c *conn, j *job, tried []Attempt) error {
	utf8 := j.addr.UTF8 || e.o.From != nil && e.o.From.UTF8
	if utf8 && !c.Ext.Has("SMTPUTF8") {
		res := c.base(tried)
		res.Verdict, res.Source = Undeliverable, "client"
		res.Reason = "the MX does not offer SMTPUTF8, which a non-ASCII address needs (RFC 6531)"
		res.Reply = &session.Reply{Code: 553, Enhanced: "5.6.7", Lines: []string{"5.6.7 non-ASCII address not supported by the server"}}
		res.Exit = exitcode.Permanent
		e.decide(g, j, res, false)
		return nil
	}
	mail, rcpt, err := e.transaction(c, j.addr.Mailbox(), utf8)
	c.closing = mail != nil && mail.Code == 421 || rcpt != nil && rcpt.Code == 421
	if mail != nil && mail.Class() != 2 {
		cls := classifySession("MAIL FROM", mail)
		res := c.base(tried)
		res.Verdict, res.Reason, res.Reply = cls.verdict, cls.reason, mail
		res.Exit = exitFor(cls.verdict, mail, nil)
		e.decide(g, j, res, cls.stop)
		return err
	}
	if rcpt == nil {
		return cmpErr(err)
	}
	res := c.base(tried)
	res.Reply = rcpt
	if rcpt.Class() != 2 {
		cls := classifyRcpt(rcpt)
		res.Verdict, res.Reason = cls.verdict, cls.reason
		res.Greylisted, res.RetryAfter = cls.greylisted, cls.retryAfter
		res.Exit = exitFor(cls.verdict, rcpt, nil)
		if cls.greylisted && e.o.WaitGreylist > 0 && !j.greyRetried {
			wait := e.o.WaitGreylist
			if cls.retryAfter > 0 && cls.retryAfter+time.Second < wait {
				wait = cls.retryAfter + time.Second
			}
			e.mu.Lock()
			j.greyRetried = true
			j.notBefore = time.Now().Add(wait)
			e.requeue(g, j)
			e.mu.Unlock()
			return err
		}
		e.decide(g, j, res, cls.stop)
		return err
	}
	res.Verdict, res.Exit = Deliverable, exitcode.OK
	res.Reason = "accepted at RCPT"
	if !e.o.CatchAll {
		res.Reason += " (catch-all check off)"
		e.decide(g, j, res, false)
		return err
	}
	e.mu.Lock()
	d := j.dom
	switch d.catch {
	case catchYes, catchNo, catchInconclusive:
		applyCatch(res, d)
		e.finish(j, res)
		e.mu.Unlock()
		return err
	case catchProbing:
		j.accepted = res
		d.waiters = append(d.waiters, j)
		e.mu.Unlock()
		return err
	}
	// The first acceptance in the domain probes it.
	d.catch = catchProbing
	j.accepted = res
	d.waiters = append(d.waiters, j)
	if err != nil {
		// The session broke after the acceptance: the next session
		// probes.
		e.queueProbe(g, d, j.addr)
		e.mu.Unlock()
		return err
	}
	e.mu.Unlock()
	return e.probe(g, c, d, j.addr)
}

// probe asks about a random address of a domain to tell a catch-all from
// a real mailbox, and settles the acceptances waiting for the answer. A
// probe lost to a broken session is queued again, once.
func (e *engine) probe(g *group, c *conn, d *domain, addr address.Address) error {
	random := e.o.RandomLocal() + "@" + addr.ASCIIDomain
	mail, rr, err := e.transaction(c, random, e.o.From != nil && e.o.From.UTF8)
	c.closing = mail != nil && mail.Code == 421 || rr != nil && rr.Code == 421
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case rr == nil && (err != nil || mail == nil):
		d.probeFailures++
		if d.probeFailures >= 2 {
			// The second probe lost to a broken session: stop trying.
			d.catch, d.catchRes = catchInconclusive, "the session broke during the probe"
			e.settle(d)
		} else {
			e.queueProbe(g, d, addr)
		}
		return cmpErr(err)
	case rr == nil:
		d.catch, d.catchRes = catchInconclusive, fmt.Sprintf("MAIL FROM %d", mail.Code)
	case rr.Class() == 2:
		d.catch = catchYes
	case classifyRcpt(rr).verdict == Undeliverable:
		d.catch = catchNo
	default:
		d.catch, d.catchRes = catchInconclusive, fmt.Sprintf("%d %s", rr.Code, rr.Enhanced)
	}
	e.settle(d)
	return err
}

// queueProbe queues the catch-all probe of a domain first for the group's
// next session: the acceptances waiting for it are held in memory. Caller
// holds e.mu.
func (e *engine) queueProbe(g *group, d *domain, addr address.Address) {
	d.refs++
	e.requeue(g, &job{probe: true, addr: addr, dom: d})
}

// retire marks a probe job taken up by a session. Caller holds e.mu.
func (e *engine) retire(j *job) {
	j.done = true
	j.dom.refs--
}

// cmpErr makes sure a missing reply is reported as a failure.
func cmpErr(err error) error {
	if err == nil {
		return &session.Error{Kind: session.KindProtocol, Op: "RCPT", Msg: "no reply"}
	}
	return err
}

// applyCatch turns an acceptance into a verdict once the domain's
// catch-all status is known.
func applyCatch(res *Result, d *domain) {
	t, f := true, false
	switch d.catch {
	case catchYes:
		res.Verdict, res.CatchAll = Unprovable, &t
		res.Reason = "accepted at RCPT, but so is a random address: the domain is a catch-all"
	case catchNo:
		res.Verdict, res.CatchAll = Deliverable, &f
		res.Reason = "accepted at RCPT; a random address is refused, so not a catch-all"
	default:
		res.Verdict = Unprovable
		res.Reason = "accepted at RCPT, but the catch-all check was inconclusive (" + strings.TrimSpace(d.catchRes) + ")"
	}
	res.Exit = exitcode.OK
}

// decide records a job's result and, with stop, leaves the rest of its
// group alone.
func (e *engine) decide(g *group, j *job, res *Result, stop bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.finish(j, res)
	if stop && g.stopped == nil {
		g.stopped = res
	}
}

// vrfy asks with VRFY or EXPN (RFC 5321 §3.5). 252 means "cannot verify,
// but will accept": unprovable, never deliverable.
func (e *engine) vrfy(g *group, c *conn, j *job, tried []Attempt) error {
	verb := strings.ToUpper(e.o.Method)
	r, err := c.Cmd(verb + " " + j.addr.Mailbox())
	if r == nil {
		return cmpErr(err)
	}
	c.closing = r.Code == 421
	res := c.base(tried)
	res.Reply = r
	ec, hasEnh := session.ParseEnhanced(r.Enhanced)
	subj := ec[1]
	switch {
	case r.Code == 250 || r.Code == 251:
		res.Verdict, res.Reason = Deliverable, verb+" confirms the address"
		if verb == "EXPN" {
			res.Reason = fmt.Sprintf("EXPN lists %d member(s)", len(r.Lines))
		}
	case r.Code == 252:
		res.Verdict, res.Reason = Unprovable, verb+" 252: the server cannot verify the address but would try to deliver"
	case r.Code == 500 || r.Code == 502 || r.Code == 504 || hasEnh && subj == 5 && r.Class() == 5:
		res.Verdict = Unprovable
		res.Reason = fmt.Sprintf("%s is not available here (%d); --method rcpt asks with RCPT TO", verb, r.Code)
	default:
		cls := classifyRcpt(r)
		res.Verdict, res.Reason, res.Greylisted, res.RetryAfter = cls.verdict, cls.reason, cls.greylisted, cls.retryAfter
		res.Exit = exitFor(cls.verdict, r, nil)
		e.decide(g, j, res, cls.stop)
		return err
	}
	res.Exit = exitFor(res.Verdict, r, nil)
	e.decide(g, j, res, false)
	return err
}
