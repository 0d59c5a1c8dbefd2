package sink

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/smtpx/smtpx/internal/auth"
	smtpsession "github.com/smtpx/smtpx/internal/session"
)

// Replies the sink gives on purpose. Each names the flag that caused it,
// so a person reading a client's log knows the failure was scripted.
var (
	replyShutdown = func(host string) *smtp.SMTPError {
		return reply(421, "4.3.2", host+" shutting down, try again later")
	}
	replyAuthRequired = reply(530, "5.7.0", "Authentication required")
	replyAuthFailed   = reply(535, "5.7.8", "Authentication credentials invalid")
	replyRejectData   = reply(554, "5.7.1", "Message rejected (smtpx sink --reject-data)")
	replyTempfailData = reply(451, "4.3.0", "Temporary failure, try again later (smtpx sink --tempfail-data)")
	replyStoreFailed  = reply(451, "4.3.0", "Cannot store the message, try again later")
	replyNoSpace      = reply(452, "4.3.1", "Insufficient storage, try again later")
	replyLongLine     = reply(554, "5.6.0", "Line too long: the limit is 65536 bytes, RFC 5321 allows 1000")
	replyLongSender   = reply(501, "5.1.7", "Path too long: the limit is 512 bytes, RFC 5321 allows 256")
	replyLongRcpt     = reply(501, "5.1.3", "Path too long: the limit is 512 bytes, RFC 5321 allows 256")
	replyShuttingDown = reply(421, "4.3.2", "Connection closing")
)

func reply(code int, enhanced, text string) *smtp.SMTPError {
	ec, _ := smtpsession.ParseEnhanced(enhanced)
	return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: text}
}

func enhanced(e *smtp.SMTPError) string { return smtpsession.FormatEnhanced(e.EnhancedCode) }

// matcher is a --reject-rcpt / --tempfail-rcpt pattern.
type matcher struct{ re *regexp.Regexp }

func matchAny(ms []matcher, s string) bool {
	for _, m := range ms {
		if m.re.MatchString(s) {
			return true
		}
	}
	return false
}

// greylist remembers sender/recipient/IP triples it has turned away once.
// A retry passes at once: the point is to test that clients retry, not to
// make them wait.
type greylist struct {
	mu   sync.Mutex
	seen map[[sha256.Size]byte]struct{}
}

// maxGreylist bounds memory; when full the list starts over, which only
// means some triples get greylisted twice. Keys are hashes, so a full list
// is a few MiB whatever the addresses.
const maxGreylist = 100000

func (g *greylist) first(from, to, ip string) bool {
	k := sha256.Sum256([]byte(from + "\x00" + to + "\x00" + ip))
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.seen[k]; ok {
		return false
	}
	if g.seen == nil || len(g.seen) >= maxGreylist {
		g.seen = map[[sha256.Size]byte]struct{}{}
	}
	g.seen[k] = struct{}{}
	return true
}

// session is go-smtp's view of one client between greetings: go-smtp
// starts a new one at the first EHLO and again after STARTTLS.
type session struct {
	c     *conn
	sc    *smtp.Conn
	user  string
	from  string
	mopts smtp.MailOptions
	rcpts []string
}

func (c *conn) newSession(sc *smtp.Conn) (smtp.Session, error) {
	c.s.delay("ehlo")
	c.sessionConn(sc.Conn())
	return &session{c: c, sc: sc}, nil
}

func (s *session) refuse(stage, arg, reason string, e *smtp.SMTPError) error {
	s.c.s.obs.Refused(Refusal{Conn: s.c.info.ID, Stage: stage, Arg: arg,
		Code: e.Code, Enhanced: enhanced(e), Text: e.Message, Reason: reason})
	return e
}

func (s *session) authEnabled() bool { return s.c.s.o.AuthAny || len(s.c.s.o.Users) > 0 }

// AuthMechanisms lists PLAIN and LOGIN when accounts are configured;
// go-smtp advertises them only once AUTH is allowed (after TLS, unless
// --allow-insecure-auth).
func (s *session) AuthMechanisms() []string {
	if !s.authEnabled() {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

// Auth starts a SASL exchange.
func (s *session) Auth(mech string) (sasl.Server, error) {
	if !s.authEnabled() {
		return nil, smtp.ErrAuthUnsupported
	}
	if s.c.dead.Load() {
		return nil, replyShuttingDown
	}
	s.c.s.delay("auth")
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			if identity != "" && identity != user {
				return s.authFailed(user, "authorization identity differs")
			}
			return s.check(user, pass)
		}), nil
	case sasl.Login:
		return auth.NewLoginServer(s.check), nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) check(user, pass string) error {
	o := s.c.s.o
	if !o.AuthAny {
		want, ok := o.Users[user]
		// Constant time so the sink cannot be used to demonstrate a
		// timing oracle by accident.
		if subtle.ConstantTimeCompare([]byte(want), []byte(pass)) != 1 || !ok {
			return s.authFailed(user, "wrong user or password")
		}
	}
	s.user = user
	return nil
}

// authFailed answers a failed AUTH attempt, slowly: the k-th failure on a
// connection waits AuthFailDelay × 2^(k-1) before its reply, and the
// MaxAuthFailures-th is answered 421 and the connection closed, so one
// connection cannot try passwords at the speed of the network.
func (s *session) authFailed(user, reason string) error {
	c, sk := s.c, s.c.s
	c.mu.Lock()
	c.authFailures++
	n := c.authFailures
	c.mu.Unlock()
	d := sk.o.AuthFailDelay << min(n-1, 16)
	sk.pause("auth-failure", d)
	if n < sk.o.MaxAuthFailures {
		return s.refuse("AUTH", user, reason, replyAuthFailed)
	}
	e := reply(421, "4.7.0", sk.o.Hostname+" too many failed AUTH attempts, closing connection")
	s.refuse("AUTH", user, fmt.Sprintf("%s; %d failures on this connection", reason, n), e)
	// go-smtp would answer 454 and read on; say the 421 here and end the
	// connection, so its reply is never written.
	c.hangUp(fmt.Sprintf("%d %s %s", e.Code, enhanced(e), e.Message))
	return e
}

// Mail starts a transaction.
func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.c.dead.Load() {
		return replyShuttingDown
	}
	if len(from) > MaxPathLen {
		return s.refuse("MAIL", clip(from), "path over 512 bytes", replyLongSender)
	}
	if s.authEnabled() && s.user == "" {
		return s.refuse("MAIL", from, "not authenticated", replyAuthRequired)
	}
	if !s.c.startTx() {
		return replyShutdown(s.c.s.o.Hostname)
	}
	s.c.s.delay("mail")
	s.from, s.rcpts = from, nil
	s.mopts = smtp.MailOptions{}
	if opts != nil {
		s.mopts = *opts
	}
	return nil
}

// Rcpt applies the scripted recipient failures and greylisting.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	sk := s.c.s
	if len(to) > MaxPathLen {
		// Refused before anything keeps it: go-smtp stores only the
		// recipients the session accepts.
		return s.refuse("RCPT", clip(to), "path over 512 bytes", replyLongRcpt)
	}
	sk.delay("rcpt")
	switch {
	case matchAny(sk.rcpt.reject, to):
		return s.refuse("RCPT", to, "--reject-rcpt", reply(550, "5.1.1", "<"+to+">: Recipient address rejected (smtpx sink --reject-rcpt)"))
	case matchAny(sk.rcpt.tempfail, to):
		return s.refuse("RCPT", to, "--tempfail-rcpt", reply(450, "4.2.0", "<"+to+">: Recipient address temporarily unavailable (smtpx sink --tempfail-rcpt)"))
	case sk.o.Greylist && sk.grey.first(s.from, to, s.c.remoteIP()):
		return s.refuse("RCPT", to, "--greylist", reply(450, "4.7.1", "<"+to+">: Greylisted, try again later (smtpx sink --greylist)"))
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

// clip shortens an overlong address for reports.
func clip(s string) string {
	const keep = 64
	if len(s) <= keep {
		return s
	}
	return s[:keep] + "... (" + strconv.Itoa(len(s)) + " bytes)"
}

func (c *conn) remoteIP() string {
	if h, _, err := net.SplitHostPort(c.info.Remote); err == nil {
		return h
	}
	return c.info.Remote
}

// Reset ends the transaction (RSET, a new EHLO, or the end of DATA).
func (s *session) Reset() {
	s.from, s.rcpts = "", nil
	s.c.endTx()
}

// Logout is called when the connection closes or STARTTLS succeeds.
func (s *session) Logout() error {
	s.c.endTx()
	return nil
}

// writeErr marks errors from writing the stored copy, as opposed to errors
// from reading the client.
type writeErr struct{ error }

type errWriter struct{ w io.Writer }

func (e errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		err = writeErr{err}
	}
	return n, err
}

// Data stores a message. go-smtp has already undone dot-stuffing (DATA)
// or joined the chunks (BDAT), so what is stored is exactly the message
// the client meant to send.
func (s *session) Data(r io.Reader) error {
	sk := s.c.s
	// With BDAT this runs in a goroutine of go-smtp's own, which may
	// outlive the connection by a moment: Serve waits for it too, so no
	// temporary file is left behind.
	sk.inData.Add(1)
	defer sk.inData.Add(-1)
	defer s.c.endTx()
	f, err := sk.store.create()
	if err != nil {
		sk.obs.Problem(s.c.info.ID, "cannot store message: "+err.Error())
		io.Copy(io.Discard, r)
		return replyStoreFailed
	}
	tmp := f.Name()
	keep := false
	defer func() {
		if !keep {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(errWriter{f}, h), r)
	if err != nil {
		var we writeErr
		if errors.As(err, &we) {
			sk.obs.Problem(s.c.info.ID, "cannot store message: "+we.Error())
			io.Copy(io.Discard, r)
			return replyNoSpace
		}
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code == 552 {
			s.refuse("DATA", s.from, "--max-size", se)
		}
		if s.c.dead.Load() {
			sk.obs.Problem(s.c.info.ID, "message cut off by the shutdown deadline, not stored")
			return err
		}
		if errors.Is(err, smtp.ErrTooLongLine) {
			// go-smtp closes the connection after this reply.
			return s.refuse("DATA", s.from, "line over 64 KiB", replyLongLine)
		}
		return err
	}
	sk.delay("data")
	switch {
	case sk.o.RejectData:
		return s.refuse("DATA", s.from, "--reject-data", replyRejectData)
	case sk.o.TempfailData:
		return s.refuse("DATA", s.from, "--tempfail-data", replyTempfailData)
	}
	rec := s.record()
	rec.Size, rec.SHA256 = size, hex.EncodeToString(h.Sum(nil))
	if _, err := f.Seek(0, io.SeekStart); err == nil {
		inspect(f, rec)
	}
	if err := f.Close(); err != nil {
		sk.obs.Problem(s.c.info.ID, "cannot store message: "+err.Error())
		return replyNoSpace
	}
	// A failed commit leaves a gap in the numbers rather than reusing one.
	seq := int(sk.msgSeq.Add(1))
	rec.Seq = seq
	path, err := sk.store.commit(tmp, seq, rec.Received)
	if err != nil {
		sk.obs.Problem(s.c.info.ID, "cannot store message: "+err.Error())
		return replyStoreFailed
	}
	keep = true
	rec.Path = path
	sk.obs.Message(rec)
	if n := int(sk.accepted.Add(1)); sk.o.ExitAfter > 0 && n >= sk.o.ExitAfter {
		sk.stop(StopExitAfter)
	}
	return nil
}

func (s *session) record() *Record {
	c := s.c
	rec := &Record{
		Received: time.Now().UTC(),
		Conn:     c.info.ID,
		Remote:   c.info.Remote,
		Local:    c.info.Local,
		Helo:     s.sc.Hostname(),
		AuthUser: s.user,
		MailFrom: s.from,
		RcptTo:   append([]string{}, s.rcpts...),
		Body:     string(s.mopts.Body),
		SMTPUTF8: s.mopts.UTF8,
	}
	if v, _ := c.dataCmd.Load().(string); v == "BDAT" {
		rec.Chunking = true
	}
	// RFC 3848: SMTP for HELO, ESMTP for EHLO, LMTP; then S for TLS and
	// A for authenticated.
	proto := "ESMTP"
	switch g, _ := c.greeting.Load().(string); {
	case c.s.o.LMTP:
		proto = "LMTP"
	case g == "HELO":
		proto = "SMTP"
	}
	if st, ok := s.sc.TLSConnectionState(); ok {
		rec.TLS = true
		rec.TLSVersion = tls.VersionName(st.Version)
		rec.TLSCipher = tls.CipherSuiteName(st.CipherSuite)
		if proto != "SMTP" {
			proto += "S"
		}
	}
	if s.user != "" && proto != "SMTP" {
		proto += "A"
	}
	rec.Protocol = proto
	return rec
}
