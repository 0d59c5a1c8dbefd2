package sink

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	smtpsession "github.com/smtpx/smtpx/internal/session"
)

// conn wraps one client's network connection. go-smtp reads and writes
// through it (directly, or through the TLS layer it puts on top), which
// lets the sink
//   - tell the transcript which Debug bytes were replies (see wrote),
//   - end the connection politely at shutdown (see beginClose and Read).
type conn struct {
	net.Conn
	s    *Sink
	info ConnInfo
	tr   transcriber

	closed    chan struct{}
	closeOnce sync.Once

	// wrote is set by every successful write of SMTP text (plaintext, or
	// TLS application data) and consumed by the transcript. go-smtp writes
	// a reply to the connection and then copies it to its Debug writer,
	// while for input it copies what it read; so a Debug write that follows
	// a write of ours is a reply, any other is client input. TLS handshake,
	// alert and change-cipher-spec records (types 20-22) are not SMTP text
	// and do not count. (A TLS 1.3 KeyUpdate answered while reading would
	// mislabel one line; no SMTP client is known to send one.)
	wrote atomic.Bool

	// greeting and dataCmd are what the transcript saw last (EHLO, HELO or
	// LHLO; DATA or BDAT); atomic because BDAT runs go-smtp's Data in
	// another goroutine.
	greeting atomic.Value
	dataCmd  atomic.Value

	// dead is set once the connection has said its last word (a 421):
	// from then on nothing is read or written, so go-smtp, which would
	// otherwise answer what is still buffered, sees a closed connection.
	dead atomic.Bool

	mu      sync.Mutex
	closing bool      // shutdown began
	inTx    bool      // a transaction is open: MAIL accepted, message not done
	hard    time.Time // the shutdown deadline: no reading past it
	limit   time.Time // read deadline imposed by shutdown; zero: none
	wlimit  time.Time // write deadline imposed by shutdown; zero: none
	said421 bool
	tlsOn   bool      // TLS has started on this connection
	tlsConn *tls.Conn // the TLS layer, once its handshake is complete

	authFailures int // failed AUTH attempts, across STARTTLS
}

// errShutdown is what reads and writes return once the connection has
// been told 421. It is a net.ErrClosed so that go-smtp ends the
// connection quietly, and not io.EOF, which would end a BDAT chunk as if
// it were complete.
var errShutdown = fmt.Errorf("connection ended by the sink: %w", net.ErrClosed)

func newConn(s *Sink, raw net.Conn, id int) *conn {
	c := &conn{Conn: raw, s: s, closed: make(chan struct{})}
	c.info = ConnInfo{ID: id, Network: raw.LocalAddr().Network(), Local: raw.LocalAddr().String()}
	if c.info.Network == "unix" {
		c.info.Local = "unix:" + c.info.Local
	} else {
		c.info.Remote = raw.RemoteAddr().String()
	}
	c.tr.c = c
	return c
}

func (c *conn) Write(p []byte) (int, error) {
	if c.dead.Load() {
		// An error, not a silent success: go-smtp copies a successful
		// write to its Debug writer, which would take it for input.
		return 0, errShutdown
	}
	n, err := c.Conn.Write(p)
	if err == nil && len(p) > 0 && (p[0] < 20 || p[0] > 22) {
		c.wrote.Store(true)
	}
	if err != nil && smtpsession.IsTimeout(err) {
		c.mu.Lock()
		closing := c.closing
		c.mu.Unlock()
		if closing {
			// The client read nothing until the shutdown deadline: a 421
			// would wait the same way, so end without one.
			c.dead.Store(true)
		}
	}
	return n, err
}

func (c *conn) Read(p []byte) (int, error) {
	if c.dead.Load() {
		return 0, errShutdown
	}
	n, err := c.Conn.Read(p)
	if err != nil && smtpsession.IsTimeout(err) {
		c.mu.Lock()
		closing := c.closing
		c.mu.Unlock()
		if closing {
			// The shutdown deadline passed: say why we hang up (RFC 5321
			// §3.8), even in the middle of a message.
			c.sayShutdown()
			return n, errShutdown
		}
	}
	return n, err
}

func (c *conn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// SetReadDeadline keeps go-smtp's per-command idle deadline from pushing
// past the shutdown deadline.
func (c *conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetReadDeadline(earliest(t, c.limit))
}

// SetWriteDeadline keeps go-smtp's per-reply write deadline from pushing
// past the shutdown deadline, so a client that reads nothing cannot hold
// a reply (and the sink) open.
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetWriteDeadline(earliest(t, c.wlimit))
}

func (c *conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// earliest is the earlier of two deadlines, where zero means none.
func earliest(t, limit time.Time) time.Time {
	if !limit.IsZero() && (t.IsZero() || t.After(limit)) {
		return limit
	}
	return t
}

// beginClose is called once when the sink shuts down. A connection in the
// middle of a message may go on until hard; the others get Grace to
// finish. No reply is written past hard but the 421 (see hangUp).
func (c *conn) beginClose(hard time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.closing, c.hard, c.wlimit = true, hard, hard
	_ = c.Conn.SetWriteDeadline(hard)
	if c.inTx {
		c.armLocked(hard)
	} else {
		c.armLocked(time.Now().Add(c.s.o.Grace))
	}
}

// armLocked sets the read deadline to t, never past the hard deadline.
func (c *conn) armLocked(t time.Time) {
	c.limit = earliest(t, c.hard)
	_ = c.Conn.SetReadDeadline(c.limit)
}

// startTx opens a transaction unless the sink is shutting down; then the
// connection is ended right after the 421.
func (c *conn) startTx() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		c.said421 = true // the MAIL reply is the 421
		c.armLocked(time.Now())
		return false
	}
	c.inTx = true
	return true
}

// endTx closes the transaction (message done, RSET, new EHLO).
func (c *conn) endTx() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inTx && c.closing {
		c.armLocked(time.Now().Add(c.s.o.Grace))
	}
	c.inTx = false
}

// setTLS records that TLS started (STARTTLS or implicit), so a shutdown
// reply is not written as plaintext into a TLS stream.
func (c *conn) setTLS() {
	c.mu.Lock()
	c.tlsOn = true
	c.mu.Unlock()
}

// sessionConn records the connection go-smtp gives a new session: after
// STARTTLS or with implicit TLS it is the *tls.Conn, with the handshake
// complete (sessions start at EHLO), so a 421 can be written through it.
func (c *conn) sessionConn(nc net.Conn) {
	if tc, ok := nc.(*tls.Conn); ok {
		c.mu.Lock()
		c.tlsOn, c.tlsConn = true, tc
		c.mu.Unlock()
	}
}

func (c *conn) shutdownReply() string {
	return "421 4.3.2 " + c.s.o.Hostname + " shutting down, try again later"
}

// sayShutdown writes the 421 that tells a client the sink is going away.
func (c *conn) sayShutdown() { c.hangUp(c.shutdownReply()) }

// hangUp writes a last 421 (unless one was said already) and ends the
// connection: nothing is read or written after it. It runs in go-smtp's
// goroutine for this connection (from Read, or from a session method), so
// it never interleaves with a reply.
func (c *conn) hangUp(line string) {
	defer c.dead.Store(true)
	c.mu.Lock()
	if c.said421 {
		c.mu.Unlock()
		return
	}
	c.said421 = true
	var w io.Writer = c.Conn
	if c.tlsOn {
		w = nil
		if c.tlsConn != nil {
			w = c.tlsConn
		}
	}
	c.mu.Unlock()
	if w == nil {
		return // TLS is mid-handshake: there is no way to say anything
	}
	c.mu.Lock()
	dl := time.Now().Add(5 * time.Second)
	if c.closing {
		dl = earliest(dl, c.hard.Add(writeMargin))
	}
	_ = c.Conn.SetWriteDeadline(dl)
	c.mu.Unlock()
	_, err := w.Write([]byte(line + "\r\n"))
	c.wrote.Store(false) // our own write: no Debug copy follows
	if err == nil {
		c.tr.emit(Line{Dir: ToClient, Text: line, Code: 421})
	}
}

// maxShownData is how many lines of each message the -v transcript shows;
// the message itself is in the stored file.
const maxShownData = 40

// maxLine bounds the partial line kept while waiting for its end.
const maxLine = 8192

// transcriber is go-smtp's Debug writer for one connection. It rebuilds
// the dialogue line by line: client lines (commands, AUTH responses,
// message data) and the sink's replies. It also notes what the session
// needs to know (EHLO or HELO, DATA or BDAT). Only go-smtp's connection
// goroutine calls it.
type transcriber struct {
	c        *conn
	tls      bool
	rx       []byte // partial line from the client
	data     bool   // inside DATA content
	bdat     int64  // chunk bytes still to come
	shown    int    // data lines shown for the current message
	hidden   int    // data lines not shown
	bdatLast bool   // the chunk in progress is the LAST one
	secret   bool   // the next client line answers an AUTH challenge
	// pending are the commands not yet answered, oldest first: with
	// PIPELINING several may be in flight, and the reply that matters
	// (220 to STARTTLS) is known by the command it answers.
	pending []string
}

// maxPending bounds the queue against a client that never reads.
const maxPending = 1000

func (t *transcriber) Write(p []byte) (int, error) {
	if t.c.wrote.Swap(false) {
		t.sent(p)
	} else {
		t.received(p)
	}
	return len(p), nil
}

func (t *transcriber) emit(l Line) {
	if !t.c.s.o.Transcript {
		return
	}
	l.Conn, l.TLS = t.c.info.ID, t.tls
	t.c.s.obs.Line(l)
}

// sent handles one reply write: go-smtp writes each reply line separately.
func (t *transcriber) sent(p []byte) {
	for _, ln := range strings.Split(strings.TrimRight(string(p), "\r\n"), "\n") {
		ln = strings.TrimRight(ln, "\r")
		code, _ := strconv.Atoi(ln[:min(3, len(ln))])
		t.emit(Line{Dir: ToClient, Text: ln, Code: code})
		final := len(ln) <= 3 || ln[3] == ' '
		if !final {
			continue
		}
		switch code {
		case 354: // the DATA command goes on with the message
			t.data, t.shown, t.hidden = true, 0, 0
			continue
		case 334: // the AUTH command goes on with a challenge
			t.secret = true
			continue
		}
		var cmd string
		if len(t.pending) > 0 {
			cmd, t.pending = t.pending[0], t.pending[1:]
		}
		if cmd == "STARTTLS" && code == 220 {
			t.tls = true
			t.c.setTLS()
		}
	}
}

func (t *transcriber) received(p []byte) {
	for len(p) > 0 {
		if t.bdat > 0 {
			k := min(int64(len(p)), t.bdat)
			t.chunk(p[:k])
			p, t.bdat = p[k:], t.bdat-k
			if t.bdat == 0 {
				t.chunkDone()
			}
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.keep(p)
			return
		}
		t.keep(p[:i])
		p = p[i+1:]
		line := bytes.TrimSuffix(t.rx, []byte("\r"))
		t.line(string(line))
		t.rx = t.rx[:0]
	}
}

func (t *transcriber) keep(b []byte) {
	if room := maxLine - len(t.rx); len(b) > room {
		// Display only: the rest of an overlong line is dropped.
		b = b[:max(room, 0)]
	}
	t.rx = append(t.rx, b...)
}

// chunk splits BDAT content into lines for display.
func (t *transcriber) chunk(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.keep(b)
			return
		}
		t.keep(b[:i])
		b = b[i+1:]
		t.dataLine(bytes.TrimSuffix(t.rx, []byte("\r")))
		t.rx = t.rx[:0]
	}
}

func (t *transcriber) dataLine(b []byte) {
	if t.shown < maxShownData {
		t.shown++
		t.emit(Line{Dir: FromClient, Text: string(b), Data: true})
		return
	}
	t.hidden++
}

func (t *transcriber) line(l string) {
	if t.data {
		if l == "." {
			t.data = false
			t.moreNote()
			t.emit(Line{Dir: FromClient, Text: l, Data: true})
			return
		}
		t.dataLine([]byte(l))
		return
	}
	if t.secret {
		// An AUTH challenge response (or "*" to cancel it).
		t.secret = false
		if l != "*" {
			l = "********"
		}
		t.emit(Line{Dir: FromClient, Text: l, Secret: l != "*"})
		return
	}
	f := strings.Fields(l)
	verb := ""
	if len(f) > 0 {
		// Only known verbs matter; a long first word is not kept whole.
		verb = strings.ToUpper(f[0][:min(len(f[0]), 16)])
	}
	if len(t.pending) >= maxPending {
		t.pending = t.pending[1:]
	}
	t.pending = append(t.pending, verb)
	secret := false
	switch verb {
	case "EHLO", "HELO", "LHLO":
		t.c.greeting.Store(verb)
	case "MAIL":
		t.shown, t.hidden = 0, 0
	case "DATA":
		t.c.dataCmd.Store(verb)
	case "AUTH":
		if len(f) >= 3 {
			l, secret = f[0]+" "+f[1]+" ********", true
		}
	case "BDAT":
		t.c.dataCmd.Store(verb)
		// go-smtp reads the chunk only when the command parses; mirror it.
		if len(f) == 2 || len(f) == 3 && strings.EqualFold(f[2], "LAST") {
			if n, err := strconv.ParseUint(f[1], 10, 32); err == nil {
				t.emit(Line{Dir: FromClient, Text: l})
				t.bdat, t.bdatLast = int64(n), len(f) == 3
				if n == 0 {
					t.chunkDone()
				}
				return
			}
		}
	}
	t.emit(Line{Dir: FromClient, Text: l, Secret: secret})
}

func (t *transcriber) chunkDone() {
	if len(t.rx) > 0 {
		// A chunk need not end at a line end; show its tail as a line.
		t.dataLine(t.rx)
		t.rx = t.rx[:0]
	}
	if t.bdatLast {
		t.bdatLast = false
		t.moreNote()
	}
}

// moreNote tells how many data lines were left out, at the message end.
func (t *transcriber) moreNote() {
	if t.hidden == 0 {
		return
	}
	t.emit(Line{Dir: Note, Text: strconv.Itoa(t.hidden) + " more lines of message data not shown"})
	t.hidden = 0
}
