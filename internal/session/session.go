package session

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// Default waits.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultTimeout        = 30 * time.Second
)

// Options configure a Session. The zero value dials TCP with default limits.
type Options struct {
	Network     string // "tcp" (default), "unix", or "pipe" (a child process, through Dial)
	Address     string // host:port, the socket path for "unix", the command line for "pipe"
	ServerName  string // name for SNI and certificate checks; defaults to the host of Address
	ImplicitTLS bool   // TLS from the first byte (port 465, RFC 8314)
	TLSConfig   *tls.Config
	LMTP        bool // say LHLO instead of EHLO (RFC 2033)

	ConnectTimeout time.Duration
	Timeout        time.Duration // the wait for each reply and for each write

	MaxLineLen int
	MaxLines   int

	// AllowInsecureAuth permits AUTH on an unencrypted connection to a
	// non-loopback address.
	AllowInsecureAuth bool
	// TLSVerdict, when set, says how the peer's certificate was judged, for
	// the TLS line of the transcript: callers that complete the handshake
	// without verification and check the chain themselves (probe, verify)
	// report their own verdict. Unset: "verified", or "not verified
	// (--insecure)" with InsecureSkipVerify.
	TLSVerdict func(*tls.ConnectionState) string
	// TraceBody reports each line of message content as an event; otherwise
	// the data phase is summarised in one Info event.
	TraceBody bool

	Observer Observer
	// Dial replaces net.Dialer for tests and proxies.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Timings are the durations of the phases of a dialogue.
type Timings struct {
	Connect   time.Duration
	Banner    time.Duration
	Hello     time.Duration
	StartTLS  time.Duration
	Handshake time.Duration
	Hello2    time.Duration
	Total     time.Duration
}

// Session is one SMTP (or LMTP) dialogue over one connection.
type Session struct {
	opts  Options
	conn  net.Conn
	rr    *ReplyReader
	bw    *bufio.Writer
	start time.Time
	inTLS bool

	// Banner is the server greeting, once read.
	Banner *Reply
	// Ext is the latest EHLO extension list; ExtBeforeTLS the one from
	// before STARTTLS (empty when TLS was never started on this session).
	Ext          Extensions
	ExtBeforeTLS Extensions
	// HelloReply is the latest reply to EHLO, HELO or LHLO.
	HelloReply *Reply
	// UsedHELO is set when the server refused EHLO and HELO was used.
	UsedHELO bool
	// TLS is the connection state once TLS is up.
	TLS *tls.ConnectionState
	// Timings of each phase so far.
	Timings Timings
	// Last is the last reply read: after ReadReplyInto, the caller's
	// Reply, which changes when the caller reads into it again.
	Last *Reply
	// quit is set once QUIT was written.
	quit bool
	// dw and buf carry message content, cmd a BDAT command; kept across
	// transactions.
	dw  *DotWriter
	buf []byte
	cmd []byte
	// peek looks for early replies in the data phase (see earlyInput).
	peek *connPeeker
	// red hides the credentials once AUTH has begun; it outlives the
	// reply reader, which STARTTLS replaces.
	red redactor
	// lastWrite is when the last flush (or the connection, or a TLS
	// handshake) ended: what a reply's Event.Wait counts from.
	lastWrite time.Time
	// ctx is the run's context: once it is done (Ctrl-C), every wait ends
	// at once; unwatch stops the watch when the session closes.
	ctx     context.Context
	unwatch func() bool
}

// connPeeker is the peeker made for one connection (TLS replaces it).
type connPeeker struct {
	conn net.Conn
	p    *peeker
}

func (o *Options) withDefaults() {
	if o.Network == "" {
		o.Network = "tcp"
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ServerName == "" && o.Network == "tcp" {
		if h, _, err := net.SplitHostPort(o.Address); err == nil {
			o.ServerName = h
		}
	}
}

// Dial connects and, for implicit TLS, completes the handshake. It does not
// read the banner: call ReadBanner.
func Dial(ctx context.Context, opts Options) (*Session, error) {
	opts.withDefaults()
	s := &Session{opts: opts, start: time.Now(), ctx: ctx}
	where := opts.Address
	if opts.Network == "pipe" {
		where = "pipe to " + where
	}
	s.info("Trying %s...", where)
	dctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	dial := opts.Dial
	if dial == nil {
		d := &net.Dialer{}
		dial = d.DialContext
	}
	t0 := time.Now()
	conn, err := dial(dctx, opts.Network, opts.Address)
	if err != nil {
		msg, cause := "connection failed", ErrClosed
		var dnsErr *net.DNSError
		switch {
		case ctx.Err() != nil:
			msg, cause = "interrupted", ErrInterrupted
		case errors.Is(err, context.DeadlineExceeded) || IsTimeout(err):
			msg, cause = fmt.Sprintf("no connection within %s", opts.ConnectTimeout), ErrConnTimeout
		case errors.As(err, &dnsErr):
			msg, cause = "cannot resolve the server's name", ErrNoHost
		case errors.Is(err, syscall.ECONNREFUSED):
			cause = ErrRefused
		}
		if cause == ErrInterrupted {
			err = nil // "operation was canceled" says nothing more
		}
		return nil, &Error{Kind: KindNetwork, Op: "connect to " + opts.Address, Msg: msg, Err: err, Cause: cause}
	}
	s.Timings.Connect = time.Since(t0)
	s.lastWrite = time.Now()
	s.conn = conn
	// A wait already under way when the run is interrupted ends now; the
	// next one sees the context before it starts (deadline).
	s.unwatch = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	s.info("Connected to %s in %s", opts.Address, FormatDuration(s.Timings.Connect))
	if n, ok := conn.(Narrator); ok && opts.Observer != nil {
		n.Narrate(func(line string) { s.info("%s", line) })
	}
	s.setStreams(conn)
	if opts.ImplicitTLS {
		if err := s.handshake(); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return s, nil
}

// Narrator is a connection with something of its own to say in the
// transcript: a proxy it went through, a PROXY header it sent, a child
// process's stderr. Dial hands it a function that writes Info events; the
// connection may call it only from within Narrate and its own Read, Write
// and Close, which run on the session's goroutine.
type Narrator interface {
	Narrate(say func(line string))
}

// NewClient wraps an established connection (tests, proxies).
func NewClient(conn net.Conn, opts Options) *Session {
	opts.withDefaults()
	s := &Session{opts: opts, start: time.Now(), conn: conn, ctx: context.Background()}
	s.lastWrite = s.start
	s.setStreams(conn)
	return s
}

func (s *Session) setStreams(c net.Conn) {
	s.rr = &ReplyReader{R: bufio.NewReaderSize(c, 4096), MaxLineLen: s.opts.MaxLineLen, MaxLines: s.opts.MaxLines, red: &s.red}
	s.bw = bufio.NewWriterSize(c, 32*1024)
}

// Conn returns the underlying connection (inside TLS once it is up).
func (s *Session) Conn() net.Conn { return s.conn }

// InTLS reports whether the dialogue is inside TLS.
func (s *Session) InTLS() bool { return s.inTLS }

// Elapsed is the time since the session started.
func (s *Session) Elapsed() time.Duration { return time.Since(s.start) }

func (s *Session) emit(e Event) {
	if s.opts.Observer == nil {
		return
	}
	e.At = time.Since(s.start)
	e.TLS = s.inTLS
	s.opts.Observer(e)
}

func (s *Session) info(format string, a ...any) {
	if s.opts.Observer == nil {
		return // nobody listens: spare the formatting
	}
	s.emit(Event{Dir: Info, Line: fmt.Sprintf(format, a...)})
}

// ReadBanner reads the greeting. A 4xx/5xx greeting is returned as a
// KindReply error together with the reply.
func (s *Session) ReadBanner() (*Reply, error) {
	t0 := time.Now()
	r, err := s.ReadReply("banner")
	s.Timings.Banner = time.Since(t0)
	if err != nil {
		return nil, err
	}
	s.Banner = r
	if r.Code != 220 {
		if r.Class() == 2 || r.Class() == 3 {
			return r, &Error{Kind: KindProtocol, Op: "banner", Msg: fmt.Sprintf("greeting has code %d, expected 220", r.Code), Cause: ErrOutOfSeq}
		}
		return r, ReplyError("banner", r)
	}
	return r, nil
}

// ReadReply waits (bounded by Options.Timeout) for one reply and reports its
// lines. op names what the reply answers, for error messages.
func (s *Session) ReadReply(op string) (*Reply, error) {
	r := &Reply{}
	if err := s.readReply(op, r, false); err != nil {
		return nil, err
	}
	return r, nil
}

// ReadReplyInto is ReadReply for a caller that reads many replies and
// keeps none, as load mode's send loop does: it reads into r, reusing
// the storage r holds from an earlier read, so that a server saying the
// same again costs no allocation. A later read into r overwrites it
// (strings taken from it stay valid: strings never change): keep
// r.Clone() to hold a reply past that. On error, r holds nothing usable.
func (s *Session) ReadReplyInto(op string, r *Reply) error {
	return s.readReply(op, r, true)
}

func (s *Session) readReply(op string, r *Reply, reuse bool) error {
	if err := s.deadline(false); err != nil {
		return s.readErr(op, err)
	}
	raw, err := s.rr.read(r, reuse)
	code := 0
	if err == nil {
		code = r.Code
	}
	if s.opts.Observer != nil {
		for i, l := range raw {
			e := Event{Dir: Received, Line: l, Code: code, Last: i == len(raw)-1 && err == nil}
			if e.Last {
				e.Wait = time.Since(s.lastWrite)
			}
			s.emit(e)
		}
	}
	if err != nil {
		return s.readErr(op, err)
	}
	s.Last = r
	return nil
}

// deadline arms the wait for one read (or write), unless the run was
// interrupted: then it reports so, and leaves the connection's deadline
// in the past, so that no wait starts after an interrupt.
func (s *Session) deadline(write bool) error {
	d := time.Now().Add(s.opts.Timeout)
	if write {
		_ = s.conn.SetWriteDeadline(d)
	} else {
		_ = s.conn.SetReadDeadline(d)
	}
	if s.ctx.Err() != nil {
		_ = s.conn.SetDeadline(time.Unix(1, 0))
		return s.ctx.Err()
	}
	return nil
}

func (s *Session) readErr(op string, err error) error {
	if s.ctx.Err() != nil {
		return &Error{Kind: KindNetwork, Op: op, Msg: "interrupted", Cause: ErrInterrupted}
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return &Error{Kind: KindProtocol, Op: op, Msg: pe.Error(), Cause: ErrMalformed}
	}
	if IsTimeout(err) {
		return &Error{Kind: KindNetwork, Op: op, Msg: fmt.Sprintf("no reply within %s", s.opts.Timeout), Err: err, Cause: ErrTimeout}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Kind: KindNetwork, Op: op, Msg: "connection closed by the server", Cause: ErrClosed}
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return &Error{Kind: KindTLS, Op: op, Msg: "TLS record error", Err: err, Cause: ErrHandshake}
	}
	return &Error{Kind: KindNetwork, Op: op, Msg: "connection lost", Err: err, Cause: ErrClosed}
}

// CheckLine refuses a command argument that would break the line framing.
func CheckLine(line string) error {
	if i := strings.IndexAny(line, "\r\n"); i >= 0 {
		return &Error{Kind: KindUsage, Op: "command", Msg: "CR or LF inside a command is not allowed"}
	}
	return nil
}

// Write validates every line, then writes them all in one flush (one
// PIPELINING group when there are several). Nothing is written if any line
// contains CR or LF.
func (s *Session) Write(lines ...string) error {
	for _, l := range lines {
		if err := CheckLine(l); err != nil {
			return err
		}
	}
	for _, l := range lines {
		s.bw.WriteString(l)
		s.bw.WriteString("\r\n")
		if strings.EqualFold(l, "QUIT") {
			s.quit = true
		}
	}
	if err := s.flush(); err != nil {
		return err
	}
	for _, l := range lines {
		s.emit(Event{Dir: Sent, Line: l})
	}
	return nil
}

// writeSecret writes one line whose content must never be displayed.
func (s *Session) writeSecret(line string) error {
	if err := CheckLine(line); err != nil {
		return err
	}
	s.bw.WriteString(line)
	s.bw.WriteString("\r\n")
	if err := s.flush(); err != nil {
		return err
	}
	s.emit(Event{Dir: Sent, Line: line, Secret: true})
	return nil
}

func (s *Session) flush() error {
	_ = s.deadline(true)
	if err := s.bw.Flush(); err != nil {
		if s.ctx.Err() != nil {
			return &Error{Kind: KindNetwork, Op: "write", Msg: "interrupted", Cause: ErrInterrupted}
		}
		if IsTimeout(err) {
			return &Error{Kind: KindNetwork, Op: "write", Msg: fmt.Sprintf("write blocked for %s", s.opts.Timeout), Err: err, Cause: ErrTimeout}
		}
		return &Error{Kind: KindNetwork, Op: "write", Msg: "connection lost", Err: err, Cause: ErrClosed}
	}
	s.lastWrite = time.Now()
	return nil
}

// Cmd writes one command and reads its reply. A 4xx/5xx reply is not an
// error here; the caller decides what stops the plan.
func (s *Session) Cmd(line string) (*Reply, error) {
	if err := s.Write(line); err != nil {
		return nil, err
	}
	op := line
	if i := strings.IndexByte(op, ' '); i > 0 {
		op = op[:i]
	}
	return s.ReadReply(strings.ToUpper(op))
}

// Pipeline writes the commands in one flush and reads one reply per command,
// in order (RFC 2920). On error the replies read so far are returned.
func (s *Session) Pipeline(lines ...string) ([]*Reply, error) {
	if err := s.Write(lines...); err != nil {
		return nil, err
	}
	var out []*Reply
	for _, l := range lines {
		op := l
		if i := strings.IndexByte(op, ' '); i > 0 {
			op = op[:i]
		}
		r, err := s.ReadReply(strings.ToUpper(op))
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Hello says EHLO (LHLO for LMTP) and falls back to HELO when the server
// answers 500 or 502. The extension list is recorded in Ext.
func (s *Session) Hello(name string) (*Reply, error) {
	t0 := time.Now()
	defer func() {
		if s.inTLS && s.Timings.Handshake > 0 {
			s.Timings.Hello2 = time.Since(t0)
		} else {
			s.Timings.Hello = time.Since(t0)
		}
	}()
	verb := "EHLO"
	if s.opts.LMTP {
		verb = "LHLO"
	}
	r, err := s.Cmd(verb + " " + name)
	if err != nil {
		return nil, err
	}
	if !s.opts.LMTP && (r.Code == 500 || r.Code == 502) {
		s.UsedHELO = true
		r, err = s.Cmd("HELO " + name)
		if err != nil {
			return nil, err
		}
		s.HelloReply = r
		s.Ext = Extensions{}
		if r.Code != 250 {
			return r, ReplyError("HELO", r)
		}
		return r, nil
	}
	s.HelloReply = r
	if r.Code != 250 {
		if r.OK() {
			return r, &Error{Kind: KindProtocol, Op: verb, Msg: fmt.Sprintf("unexpected reply %d to %s", r.Code, verb), Cause: ErrOutOfSeq}
		}
		return r, ReplyError(verb, r)
	}
	s.Ext = ParseEHLO(r)
	return r, nil
}

// StartTLS issues STARTTLS and performs the handshake on the same connection
// (RFC 3207). The caller must say EHLO again afterwards.
func (s *Session) StartTLS() (*Reply, error) {
	t0 := time.Now()
	r, err := s.Cmd("STARTTLS")
	s.Timings.StartTLS = time.Since(t0)
	if err != nil {
		return nil, err
	}
	if r.Code == 421 {
		// Not a refusal of TLS: the server is closing the channel, the
		// same transient failure as 421 to any other command.
		return r, ReplyError("STARTTLS", r)
	}
	if r.Code != 220 {
		return r, &Error{Kind: KindTLS, Op: "STARTTLS", Reply: r, Msg: fmt.Sprintf("server refused STARTTLS with %d", r.Code), Cause: ErrTLSRefused}
	}
	if n := s.rr.R.Buffered(); n > 0 {
		return r, &Error{Kind: KindTLS, Op: "STARTTLS", Msg: fmt.Sprintf("server sent %d plaintext bytes after 220 before the TLS handshake (possible STARTTLS command injection)", n), Cause: ErrInjection}
	}
	s.ExtBeforeTLS = s.Ext
	s.Ext = Extensions{}
	if err := s.handshake(); err != nil {
		return r, err
	}
	return r, nil
}

func (s *Session) tlsConfig() *tls.Config {
	var cfg *tls.Config
	if s.opts.TLSConfig != nil {
		cfg = s.opts.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.opts.ServerName
	}
	return cfg
}

func (s *Session) handshake() error {
	cfg := s.tlsConfig()
	tc := tls.Client(s.conn, cfg)
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.Timeout)
	defer cancel()
	t0 := time.Now()
	err := tc.HandshakeContext(ctx)
	s.Timings.Handshake = time.Since(t0)
	if err != nil {
		cause, msg := CertCause(err)
		if IsTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
			cause, msg = ErrTimeout, fmt.Sprintf("TLS handshake did not finish within %s", s.opts.Timeout)
		}
		s.emit(Event{Dir: Failure, Line: msg + ": " + err.Error()})
		return &Error{Kind: KindTLS, Op: "TLS", Msg: msg, Err: err, Cause: cause}
	}
	st := tc.ConnectionState()
	s.lastWrite = time.Now()
	s.conn = tc
	s.inTLS = true
	s.TLS = &st
	s.setStreams(tc)
	verdict := "verified"
	switch {
	case s.opts.TLSVerdict != nil:
		verdict = s.opts.TLSVerdict(&st)
	case cfg.InsecureSkipVerify:
		verdict = NotVerified
	}
	s.emit(Event{Dir: Info, Line: TLSSummary(&st, verdict)})
	return nil
}

// TLSSummary describes an established TLS connection in one line; verdict
// says how the certificate was judged ("verified", "not verified (...)").
func TLSSummary(st *tls.ConnectionState, verdict string) string {
	b := &strings.Builder{}
	fmt.Fprintf(b, "TLS %s %s", strings.TrimPrefix(tls.VersionName(st.Version), "TLS "), tls.CipherSuiteName(st.CipherSuite))
	if len(st.PeerCertificates) > 0 {
		c := st.PeerCertificates[0]
		name := c.Subject.CommonName
		if name == "" && len(c.DNSNames) > 0 {
			name = c.DNSNames[0]
		}
		fmt.Fprintf(b, ", peer CN=%s, %s", name, verdict)
		days := int(time.Until(c.NotAfter).Hours() / 24)
		if days < 0 {
			fmt.Fprintf(b, ", expired %d days ago", -days)
		} else {
			fmt.Fprintf(b, ", expires in %d days", days)
		}
	}
	return b.String()
}

// Quit says QUIT (unless already said), waits briefly for the reply and
// closes the connection. Errors are ignored: the dialogue is over.
func (s *Session) Quit() {
	if s.conn == nil {
		return
	}
	if !s.quit {
		if err := s.Write("QUIT"); err == nil {
			s.readQuit()
		}
	} else {
		s.readQuit()
	}
	s.Close()
}

func (s *Session) readQuit() {
	t := s.opts.Timeout
	if t > 5*time.Second {
		t = 5 * time.Second
	}
	old := s.opts.Timeout
	s.opts.Timeout = t
	_, _ = s.ReadReply("QUIT")
	s.opts.Timeout = old
}

// Close closes the connection without QUIT.
func (s *Session) Close() error {
	if s.conn == nil {
		return nil
	}
	s.Timings.Total = time.Since(s.start)
	if s.unwatch != nil {
		s.unwatch()
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// Closed reports whether the connection has been closed.
func (s *Session) Closed() bool { return s.conn == nil }

// IsLoopback reports whether the peer is a loopback address, a unix socket
// or a child process, where AUTH without TLS exposes nothing on a network.
func (s *Session) IsLoopback() bool {
	if s.opts.Network == "unix" || s.opts.Network == "pipe" {
		return true
	}
	if s.conn == nil {
		return false
	}
	if ta, ok := s.conn.RemoteAddr().(*net.TCPAddr); ok {
		return ta.IP.IsLoopback()
	}
	return false
}

// HeloName returns this machine's fully qualified name, or the address
// literal of the local end of the connection when no dotted name is known
// (RFC 5321 §4.1.4). It never invents a domain.
func (s *Session) HeloName() string {
	if h, err := os.Hostname(); err == nil && strings.Contains(strings.TrimSuffix(h, "."), ".") {
		return strings.TrimSuffix(h, ".")
	}
	if s.conn != nil {
		if ta, ok := s.conn.LocalAddr().(*net.TCPAddr); ok {
			if ta.IP.To4() != nil {
				return "[" + ta.IP.String() + "]"
			}
			return "[IPv6:" + ta.IP.String() + "]"
		}
	}
	return "[127.0.0.1]"
}

// IsTimeout reports a deadline that passed (a net.Error's Timeout, or
// os.ErrDeadlineExceeded): the one test of it every package uses.
func IsTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// FormatDuration renders a duration for people: "0.31 ms", "12.4 ms", "1.20 s".
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// Finish ends the dialogue after err (nil for success): QUIT when the
// connection is still in a known state, a plain close when it is not (the
// server said 421, the stream broke or fell out of sync, TLS failed).
func (s *Session) Finish(err error) {
	var se *Error
	if err != nil && errors.As(err, &se) {
		switch {
		case se.Kind == KindNetwork, se.Kind == KindProtocol, se.Kind == KindTLS && se.Reply == nil:
			s.Close()
			return
		case se.Reply != nil && se.Reply.Code == 421:
			s.Close()
			return
		}
	}
	s.Quit()
}
