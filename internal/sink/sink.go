package sink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	smtp "github.com/smtpx/smtpx/internal/third_party/go-smtp"
)

// ConnInfo identifies one client connection.
type ConnInfo struct {
	ID      int    // 1, 2, ... in order of arrival
	Network string // "tcp" or "unix"
	Remote  string // client address; empty for unix sockets
	Local   string // the address it connected to
}

// Dir says who wrote a transcript line.
type Dir int

// Transcript line directions, from the sink's point of view.
const (
	FromClient Dir = iota // the client sent it (a command or message data)
	ToClient              // the sink replied it
	Note                  // a remark of the sink's, not on the wire
)

// Line is one line of a connection's transcript.
type Line struct {
	Conn   int
	Dir    Dir
	TLS    bool   // the line travelled inside TLS
	Text   string // without the line end; untrusted when FromClient
	Code   int    // for ToClient: the reply code
	Data   bool   // a line of message content
	Secret bool   // an AUTH payload, already replaced by ********
}

// Refusal is a reply the sink gave on purpose: a scripted failure, a
// greylisting, a failed AUTH, a message over --max-size.
type Refusal struct {
	Conn     int
	Stage    string // AUTH, MAIL, RCPT or DATA
	Arg      string // the address or user concerned; untrusted
	Code     int
	Enhanced string
	Text     string
	Reason   string // the flag that caused it, e.g. --reject-rcpt
}

// Listening describes a sink that is ready for connections.
type Listening struct {
	Addrs []string // bound addresses, in --listen order
	LMTP  bool
	TLS   string // "", "STARTTLS" or "implicit"
	Cert  *CertInfo
	Auth  string // "", "accounts" or "any"
	Store string // directory or Maildir messages go to; empty: none
}

// Observer is told what the sink does. Calls come from many goroutines;
// implementations serialise them.
type Observer interface {
	Listening(Listening)
	Connected(ConnInfo)
	Closed(ConnInfo)
	Line(Line)
	Message(*Record)
	Refused(Refusal)
	// Problem reports something that went wrong with one connection
	// (conn 0: with the sink itself) without stopping the sink.
	Problem(conn int, msg string)
	// Stopping reports that shutdown began and why.
	Stopping(reason string)
}

// Stop reasons, as Result.Reason and Observer.Stopping report them.
const (
	StopExitAfter = "exit-after"
	StopDeadline  = "deadline"
	StopSignal    = "signal"
)

// Result is how a run ended.
type Result struct {
	Messages int    // messages accepted
	Reason   string // one of the Stop constants
}

// Sink is a configured SMTP sink.
type Sink struct {
	o     Options
	obs   Observer
	store store
	tls   *tls.Config
	cert  *CertInfo
	grey  greylist
	rcpt  struct{ reject, tempfail []matcher }

	listeners []net.Listener
	bound     []string

	mu         sync.Mutex
	conns      map[*conn]struct{}
	turnedAway int // connections told 421 at the limit, not yet reported
	stopping   bool
	reason     string
	hardStop   time.Time // when every connection is told 421; set by stop
	stopCh     chan struct{}
	wg         sync.WaitGroup

	inData   atomic.Int64 // Data calls running (see session.Data)
	connSeq  atomic.Int64
	msgSeq   atomic.Int64 // numbers messages as they are committed
	accepted atomic.Int64 // messages stored and acknowledged

	// sleepHook replaces the --delay sleep in tests, which must not
	// depend on timing.
	sleepHook func(point string, d time.Duration) bool
}

// New checks o and prepares storage and TLS. Its errors are about the
// options (an *OptionError, a usage problem); nothing is bound yet.
func New(o Options) (*Sink, error) {
	if len(o.Listen) == 0 {
		o.Listen = []Addr{{Network: "tcp", Address: DefaultListen}}
	}
	if o.Hostname == "" {
		o.Hostname = "localhost"
	}
	const seeHelp = "run 'smtpx sink --help' for the flags"
	if strings.ContainsAny(o.Hostname, " \t\r\n") {
		return nil, optionErr("give a host name such as mx.test", "--hostname %q: must be one word", o.Hostname)
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MessageGrace <= 0 {
		o.MessageGrace = DefaultMessageGrace
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	o.Grace = min(o.Grace, o.MessageGrace)
	switch {
	case o.MaxSize == 0:
		o.MaxSize = DefaultMaxSize
	case o.MaxSize < 0:
		o.MaxSize = 0 // go-smtp's "no limit"
	}
	if o.MaxRcpts < 0 || o.MaxConns < 0 || o.MaxAuthFailures < 0 {
		return nil, optionErr(seeHelp, "limits must not be negative")
	}
	if o.MaxRcpts == 0 {
		o.MaxRcpts = DefaultMaxRcpts
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxAuthFailures == 0 {
		o.MaxAuthFailures = DefaultMaxAuthFailures
	}
	if o.AuthFailDelay <= 0 {
		o.AuthFailDelay = DefaultAuthFailDelay
	}
	if o.ExitAfter < 0 {
		return nil, optionErr("give a count such as --exit-after 1", "--exit-after must not be negative")
	}
	if o.Dir != "" && o.Maildir != "" {
		return nil, optionErr("store messages in one place: --dir or --maildir", "--dir and --maildir cannot be combined")
	}
	if o.RejectData && o.TempfailData {
		return nil, optionErr("pick one: --reject-data (5xx) or --tempfail-data (4xx)", "--reject-data and --tempfail-data cannot be combined")
	}
	if o.AuthAny && len(o.Users) > 0 {
		return nil, optionErr("drop --auth-any to check passwords, or the accounts (--auth, --auth-file, $"+EnvAuth+") to accept any",
			"--auth and --auth-any cannot be combined")
	}
	useTLS := o.TLS || o.TLSOnConnect
	if (o.CertFile != "") != (o.KeyFile != "") {
		return nil, optionErr("give a PEM certificate and its matching private key, or leave both out for a self-signed one", "--cert and --key go together")
	}
	if o.CertFile != "" && !useTLS {
		return nil, optionErr("add --tls (STARTTLS) or --tls-on-connect", "--cert needs --tls or --tls-on-connect")
	}
	if o.SaveCert != "" && (!useTLS || o.CertFile != "") {
		return nil, optionErr("add --tls (STARTTLS) or --tls-on-connect", "--save-cert needs --tls or --tls-on-connect and no --cert")
	}
	if (o.AuthAny || len(o.Users) > 0) && !useTLS && !o.AllowInsecureAuth {
		return nil, optionErr("add --tls or --tls-on-connect, or --allow-insecure-auth to offer AUTH in plaintext", "--auth without TLS would never be offered")
	}
	// Canonical delay names, so "helo" given by a caller works as "ehlo".
	delays := map[string]time.Duration{}
	for k, d := range o.Delays {
		name, _, err := ParseDelay(k + ":0s")
		if err != nil {
			return nil, optionErr("e.g. --delay rcpt:2s or --delay data:500ms", "%v", err)
		}
		delays[name] = d
	}
	o.Delays = delays
	s := &Sink{o: o, obs: o.Observer, conns: map[*conn]struct{}{}, stopCh: make(chan struct{})}
	if s.obs == nil {
		s.obs = nopObserver{}
	}
	for _, re := range o.RejectRcpt {
		s.rcpt.reject = append(s.rcpt.reject, matcher{re})
	}
	for _, re := range o.TempfailRcpt {
		s.rcpt.tempfail = append(s.rcpt.tempfail, matcher{re})
	}
	const pathHint = "check that the path can be created and written"
	switch {
	case o.Dir != "":
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return nil, &OptionError{Msg: "--dir: " + err.Error(), Hint: pathHint, Err: err}
		}
		s.store = dirStore{dir: o.Dir}
	case o.Maildir != "":
		m, err := newMaildirStore(o.Maildir)
		if err != nil {
			return nil, &OptionError{Msg: "--maildir: " + err.Error(), Hint: pathHint, Err: err}
		}
		s.store = m
	default:
		s.store = discardStore{}
	}
	if useTLS {
		if err := s.setupTLS(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Listen binds every address. Its errors are network problems (a port in
// use, an address that is not local, a socket path that cannot be made),
// or an *OptionError when the --ready-file cannot be written.
func (s *Sink) Listen() error {
	for _, a := range s.o.Listen {
		l, err := listen(a)
		if err != nil {
			s.closeListeners()
			return err
		}
		s.listeners = append(s.listeners, l)
		b := l.Addr().String()
		if a.Network == "unix" {
			b = "unix:" + a.Address
		}
		s.bound = append(s.bound, b)
	}
	if s.o.ReadyFile != "" {
		if err := writeFileAtomic(s.o.ReadyFile, []byte(strings.Join(s.bound, "\n")+"\n")); err != nil {
			s.closeListeners()
			return &OptionError{Msg: "--ready-file: " + err.Error(), Hint: "check that the --ready-file directory exists and is writable", Err: err}
		}
	}
	l := Listening{Addrs: s.bound, LMTP: s.o.LMTP, Cert: s.cert}
	switch {
	case s.o.TLSOnConnect:
		l.TLS = "implicit"
	case s.o.TLS:
		l.TLS = "STARTTLS"
	}
	switch {
	case s.o.AuthAny:
		l.Auth = "any"
	case len(s.o.Users) > 0:
		l.Auth = "accounts"
	}
	l.Store = s.o.Dir + s.o.Maildir
	s.obs.Listening(l)
	return nil
}

// Addrs returns the bound addresses (after Listen), e.g. to learn the port
// chosen for 127.0.0.1:0.
func (s *Sink) Addrs() []string { return append([]string(nil), s.bound...) }

func listen(a Addr) (net.Listener, error) {
	if a.Network == "unix" {
		// A socket file left by a sink that died would make Listen fail;
		// remove it only if nothing answers on it.
		if fi, err := os.Lstat(a.Address); err == nil && fi.Mode()&os.ModeSocket != 0 {
			if c, err := net.Dial("unix", a.Address); err == nil {
				c.Close()
				return nil, fmt.Errorf("listen unix %s: a server is already listening there", a.Address)
			}
			_ = os.Remove(a.Address)
		}
	}
	return net.Listen(a.Network, a.Address)
}

func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".smtpx-ready-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

func (s *Sink) closeListeners() {
	for _, l := range s.listeners {
		l.Close()
	}
}

// Serve accepts connections until ctx is done, Options.Deadline passes or
// Options.ExitAfter messages were accepted; then it shuts down: no new
// connections, messages in flight get Options.MessageGrace to finish,
// other connections Options.Grace to say QUIT, and then every connection
// is told 421 and closed. Serve returns within MessageGrace and a few
// seconds of the stop whatever the clients do.
func (s *Sink) Serve(ctx context.Context) Result {
	for _, l := range s.listeners {
		s.wg.Add(1)
		go s.acceptLoop(l)
	}
	return s.run(ctx)
}

// run waits for the stop and shuts down, for Serve and ServeConn.
func (s *Sink) run(ctx context.Context) Result {
	var deadline <-chan time.Time
	if s.o.Deadline > 0 {
		t := time.NewTimer(s.o.Deadline)
		defer t.Stop()
		deadline = t.C
	}
	select {
	case <-ctx.Done():
		s.stop(StopSignal)
	case <-deadline:
		s.stop(StopDeadline)
	case <-s.stopCh:
	}
	s.drain()
	if s.o.ReadyFile != "" {
		os.Remove(s.o.ReadyFile)
	}
	s.mu.Lock()
	reason := s.reason
	s.mu.Unlock()
	return Result{Messages: int(s.accepted.Load()), Reason: reason}
}

// Margins past the shutdown deadline: writeMargin for the 421 to be
// written, then every socket is closed, then closeMargin for the
// connection goroutines to notice before Serve returns without them.
// Normally connections end at the deadline itself, and none of these
// is waited out.
const (
	writeMargin = 2 * time.Second
	closeMargin = 2 * time.Second
)

// drain waits for the connections to end after stop. Normally they end by
// themselves at the shutdown deadline (see conn.Read and conn.Write); one
// stuck elsewhere, say printing to a pipe nobody reads, has its socket
// closed under it, and Serve returns without it if even that is not
// enough.
func (s *Sink) drain() {
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	s.mu.Lock()
	hard := s.hardStop
	s.mu.Unlock()
	t := time.NewTimer(time.Until(hard.Add(writeMargin)))
	defer t.Stop()
	select {
	case <-done:
		s.waitData(time.Now().Add(closeMargin))
		return
	case <-t.C:
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	n := len(s.conns)
	s.mu.Unlock()
	t.Reset(closeMargin)
	select {
	case <-done:
		s.waitData(time.Now().Add(closeMargin))
	case <-t.C:
		s.obs.Problem(0, fmt.Sprintf("%d connection(s) did not end after their socket was closed; exiting without them", n))
	}
}

// waitData waits, until at most end, for the Data calls that go-smtp runs
// in goroutines of its own (BDAT), which a WaitGroup cannot count: they
// may start after their connection ended. Cut off, they end at once.
func (s *Sink) waitData(end time.Time) {
	for s.inData.Load() > 0 && time.Now().Before(end) {
		time.Sleep(5 * time.Millisecond)
	}
}

// stop begins the shutdown once.
func (s *Sink) stop(reason string) {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return
	}
	s.stopping, s.reason = true, reason
	s.hardStop = time.Now().Add(s.o.MessageGrace)
	close(s.stopCh)
	s.closeListeners()
	for c := range s.conns {
		c.beginClose(s.hardStop)
	}
	s.mu.Unlock()
	s.obs.Stopping(reason)
}

func (s *Sink) acceptLoop(l net.Listener) {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		raw, err := l.Accept()
		if err != nil {
			select {
			case <-s.stopCh:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of file descriptors and the like: wait and retry
				// rather than stop serving.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.obs.Problem(0, fmt.Sprintf("accept on %s: %v; retrying in %s", l.Addr(), err, backoff))
				time.Sleep(backoff)
				continue
			}
			s.obs.Problem(0, fmt.Sprintf("accept on %s: %v", l.Addr(), err))
			return
		}
		backoff = 0
		s.mu.Lock()
		if s.stopping {
			s.mu.Unlock()
			raw.Close()
			continue
		}
		if len(s.conns) >= s.o.MaxConns {
			first := s.turnedAway == 0
			s.turnedAway++
			s.mu.Unlock()
			if first {
				s.obs.Problem(0, fmt.Sprintf("%d connections open, the limit (--max-conns): new ones are told 421 until one closes", s.o.MaxConns))
			}
			s.turnAway(raw)
			continue
		}
		c := newConn(s, raw, int(s.connSeq.Add(1)))
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handle(c)
	}
}

// turnAway tells a connection over the limit 421 and closes it. It runs
// in the accept loop, so it must not wait: the reply fits in any socket
// buffer, and with implicit TLS there is no way to say it without a
// handshake, so that connection is just closed.
func (s *Sink) turnAway(raw net.Conn) {
	if !s.o.TLSOnConnect {
		_ = raw.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		_, _ = io.WriteString(raw, "421 4.4.5 "+s.o.Hostname+" too many connections, try again later\r\n")
	}
	raw.Close()
}

func (s *Sink) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	n := s.turnedAway
	s.turnedAway = 0
	s.mu.Unlock()
	if n > 0 {
		s.obs.Problem(0, fmt.Sprintf("%d connection(s) were told 421 at the --max-conns limit of %d", n, s.o.MaxConns))
	}
}

// delay holds back a reply as --delay asks; it reports whether the full
// delay passed (shutdown cuts it short).
func (s *Sink) delay(point string) bool {
	d := s.o.Delays[point]
	if d <= 0 {
		return true
	}
	return s.pause(point, d)
}

// pause waits d at point (a --delay point, or "auth-failure"), or less if
// shutdown begins; tests replace the wait with sleepHook.
func (s *Sink) pause(point string, d time.Duration) bool {
	if s.sleepHook != nil {
		return s.sleepHook(point, d)
	}
	return s.sleep(d)
}

// sleep waits d, or less if shutdown begins; it reports whether the full
// delay passed.
func (s *Sink) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stopCh:
		return false
	}
}

func (s *Sink) handle(c *conn) {
	defer s.wg.Done()
	defer s.forget(c)
	s.obs.Connected(c.info)
	defer s.obs.Closed(c.info)
	if !s.delay("connect") {
		if !s.o.TLSOnConnect {
			c.sayShutdown()
		}
		c.Close()
		return
	}
	var nc net.Conn = c
	if s.o.TLSOnConnect {
		nc = tls.Server(c, s.tls)
		c.tr.tls = true
		c.setTLS()
	}
	srv := s.server(c)
	_ = srv.Serve(&oneListener{conn: nc, closed: c.closed, addr: c.LocalAddr()})
}

// server makes a go-smtp server for one connection. One server per
// connection costs little and gives each connection its own Debug writer,
// which is how the transcript learns which connection a line belongs to.
func (s *Sink) server(c *conn) *smtp.Server {
	srv := smtp.NewServer(smtp.BackendFunc(c.newSession))
	srv.Domain = s.o.Hostname
	srv.LMTP = s.o.LMTP
	srv.MaxMessageBytes = s.o.MaxSize
	srv.SizeExceeded = c.sizeExceeded
	srv.MaxRecipients = s.o.MaxRcpts
	srv.MaxLineLength = MaxLineLength
	srv.AllowInsecureAuth = s.o.AllowInsecureAuth
	srv.ReadTimeout = s.o.IdleTimeout
	srv.WriteTimeout = time.Minute
	srv.EnableSMTPUTF8 = true
	srv.EnableDSN = true
	// The sink stores bytes as they come, so binary content is no harder
	// than text; BINARYMIME needs CHUNKING, which go-smtp always offers.
	srv.EnableBINARYMIME = true
	if s.o.TLS && !s.o.TLSOnConnect {
		srv.TLSConfig = s.tls
	}
	srv.Debug = &c.tr
	srv.ErrorLog = connLogger{c}
	return srv
}

// MaxLineLength must also exceed go-smtp's 4 KiB read buffer twice over:
// go-smtp counts line length on every byte it reads while the limit is on,
// and the start of a BDAT chunk is often read together with its command,
// before go-smtp lifts the limit for the chunk (and its count goes on from
// there after the chunk); with the default 2000 a binary chunk would be
// refused.
var _ [MaxLineLength - 2*4096]struct{}

// oneListener hands go-smtp a single connection, then blocks until that
// connection is closed so Serve returns only when it is done.
type oneListener struct {
	conn   net.Conn
	used   bool
	closed <-chan struct{}
	addr   net.Addr
}

func (l *oneListener) Accept() (net.Conn, error) {
	if !l.used {
		l.used = true
		return l.conn, nil
	}
	<-l.closed
	return nil, net.ErrClosed
}

func (l *oneListener) Close() error   { return nil }
func (l *oneListener) Addr() net.Addr { return l.addr }

// connLogger receives go-smtp's reports about one connection. They read
// "error handling ADDR: ERR"; the connection number already says which,
// so only ERR is kept, with what the sink was doing.
type connLogger struct{ c *conn }

func (l connLogger) Printf(format string, v ...any) {
	if !ownHangUp(v) {
		l.report(fmt.Sprintf(format, v...))
	}
}

func (l connLogger) Println(v ...any) {
	if !ownHangUp(v) {
		l.report(fmt.Sprintln(v...))
	}
}

// ownHangUp tells whether go-smtp reports the end the sink itself gave a
// connection (see conn.hangUp), which is no problem to show.
func ownHangUp(v []any) bool {
	for _, a := range v {
		if err, ok := a.(error); ok && errors.Is(err, errShutdown) {
			return true
		}
	}
	return false
}

func (l connLogger) report(msg string) {
	msg = strings.TrimSpace(msg)
	if rest, ok := strings.CutPrefix(msg, "error handling "); ok {
		if _, err, ok := strings.Cut(rest, ": "); ok {
			msg = "connection error: " + err
			l.c.mu.Lock()
			handshake := l.c.s.o.TLSOnConnect && l.c.tlsConn == nil
			l.c.mu.Unlock()
			if handshake {
				msg = "TLS handshake failed: " + err
			}
		}
	}
	l.c.s.obs.Problem(l.c.info.ID, msg)
}

type nopObserver struct{}

func (nopObserver) Listening(Listening) {}
func (nopObserver) Connected(ConnInfo)  {}
func (nopObserver) Closed(ConnInfo)     {}
func (nopObserver) Line(Line)           {}
func (nopObserver) Message(*Record)     {}
func (nopObserver) Refused(Refusal)     {}
func (nopObserver) Problem(int, string) {}
func (nopObserver) Stopping(string)     {}
