// Package verifytest runs a real SMTP server (emersion/go-smtp) on loopback
// whose answer to RCPT TO depends on the address, for the tests of
// internal/verify and of `smtpx verify`: accept, refuse with any reply,
// greylist once, drop the connection, or accept everything (a catch-all).
//
// Rules are written one per line, KEY ACTION:
//
//	bob       accept
//	alice     550 5.1.1 no such user
//	grey      greylist 450 4.2.0 Greylisted, retry in 1 seconds
//	gone      drop
//	*         550 5.1.1 unknown user       (everyone else; "* accept" is a catch-all)
//	MAIL      550 5.7.1 sender refused     (the answer to MAIL FROM)
//
// KEY is a local part or a whole address, compared case-insensitively; a
// whole address wins over its local part, which wins over a prefix rule
// ("ok* accept": every local part starting with "ok"). A reply without an enhanced code
// is sent without one.
package verifytest

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

	"github.com/emersion/go-smtp"
)

// Action is what the server does for one recipient.
type Action struct {
	Accept   bool
	Drop     bool
	Greylist bool // answer Reply the first time, accept afterwards
	Code     int
	Enhanced smtp.EnhancedCode
	Text     string
}

// ParseAction reads "accept", "drop", "greylist CODE [X.Y.Z] TEXT" or
// "CODE [X.Y.Z] TEXT".
func ParseAction(s string) (Action, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "accept", "250":
		return Action{Accept: true}, nil
	case "drop":
		return Action{Drop: true}, nil
	}
	a := Action{Enhanced: smtp.NoEnhancedCode}
	if rest, ok := strings.CutPrefix(s, "greylist "); ok {
		a.Greylist, s = true, rest
	}
	f := strings.SplitN(s, " ", 2)
	code, err := strconv.Atoi(f[0])
	if err != nil || code < 200 || code > 599 {
		return a, fmt.Errorf("verifytest: bad action %q", s)
	}
	a.Code = code
	if code < 400 {
		a.Accept = true
	}
	if len(f) == 2 {
		a.Text = f[1]
		g := strings.SplitN(f[1], " ", 2)
		var e smtp.EnhancedCode
		if n, _ := fmt.Sscanf(g[0], "%d.%d.%d", &e[0], &e[1], &e[2]); n == 3 {
			a.Enhanced = e
			a.Text = ""
			if len(g) == 2 {
				a.Text = g[1]
			}
		}
	}
	return a, nil
}

// Rules map recipients to actions.
type Rules struct {
	ByKey    map[string]Action // lower-case local part or address
	Prefixes []prefixRule
	Default  Action
	Mail     *Action
}

type prefixRule struct {
	prefix string
	action Action
}

// ParseRules reads the rule text described in the package comment. Without
// a "*" rule, unknown recipients get 550 5.1.1.
func ParseRules(text string) (Rules, error) {
	r := Rules{ByKey: map[string]Action{}, Default: Action{Code: 550, Enhanced: smtp.EnhancedCode{5, 1, 1}, Text: "no such user"}}
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, act, _ := strings.Cut(line, " ")
		a, err := ParseAction(act)
		if err != nil {
			return r, err
		}
		switch key {
		case "*":
			r.Default = a
		case "MAIL":
			r.Mail = &a
		case strings.TrimSuffix(key, "*") + "*":
			r.Prefixes = append(r.Prefixes, prefixRule{strings.ToLower(strings.TrimSuffix(key, "*")), a})
		default:
			r.ByKey[strings.ToLower(key)] = a
		}
	}
	return r, nil
}

// Options configure a Server.
type Options struct {
	Rules    Rules
	TLS      *tls.Config // offer STARTTLS
	SMTPUTF8 bool
	Domain   string // the banner name; "mx.test" by default
	// Hold delays every answer to RCPT TO, so that sessions last long
	// enough to overlap in tests that count them.
	Hold time.Duration
}

// Server is a running rule-driven SMTP server.
type Server struct {
	srv      *smtp.Server
	ln       net.Listener
	rules    Rules
	mu       sync.Mutex
	seen     map[string]bool // greylisted once
	sessions atomic.Int64
	rcpts    atomic.Int64
	done     chan struct{}
	hold     time.Duration
	// open, maxOpen and starts count connections: how many are open now,
	// the most at once, and when each was accepted.
	open, maxOpen int
	starts        []time.Time
}

// Start listens on 127.0.0.1:0.
func Start(o Options) (*Server, error) {
	s := &Server{rules: o.Rules, seen: map[string]bool{}, done: make(chan struct{}), hold: o.Hold}
	if s.rules.ByKey == nil {
		s.rules.ByKey = map[string]Action{}
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.sessions.Add(1)
		return &sess{s: s, c: c}, nil
	}))
	srv.Domain = o.Domain
	if srv.Domain == "" {
		srv.Domain = "mx.test"
	}
	srv.TLSConfig = o.TLS
	srv.EnableSMTPUTF8 = o.SMTPUTF8
	srv.ErrorLog = nopLogger{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.srv, s.ln = srv, ln
	go func() { _ = srv.Serve(countingListener{ln, s}); close(s.done) }()
	return s, nil
}

// Addr is "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port is the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Sessions is the number of connections served so far.
func (s *Server) Sessions() int { return int(s.sessions.Load()) }

// MaxConcurrent is the most sessions that were open at once so far. A
// session lasts from the connection to the client's QUIT (seen in
// plaintext) or the end of the connection: a client that waits for the
// reply to QUIT before its next session must not be seen with two.
func (s *Server) MaxConcurrent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxOpen
}

// Starts returns when each connection so far was accepted, in order.
func (s *Server) Starts() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.starts...)
}

// countingListener counts the connections of a Server as they are
// accepted and closed.
type countingListener struct {
	net.Listener
	s *Server
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.s.mu.Lock()
	l.s.open++
	l.s.maxOpen = max(l.s.maxOpen, l.s.open)
	l.s.starts = append(l.s.starts, time.Now())
	l.s.mu.Unlock()
	return &countedConn{Conn: c, s: l.s}, nil
}

type countedConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

func (c *countedConn) end() {
	c.once.Do(func() {
		c.s.mu.Lock()
		c.s.open--
		c.s.mu.Unlock()
	})
}

func (c *countedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if bytes.Contains(b[:n], []byte("QUIT\r\n")) {
		c.end()
	}
	return n, err
}

func (c *countedConn) Close() error {
	c.end()
	return c.Conn.Close()
}

// Rcpts is the number of RCPT commands seen so far.
func (s *Server) Rcpts() int { return int(s.rcpts.Load()) }

// Close stops the server.
func (s *Server) Close() {
	_ = s.srv.Close()
	<-s.done
}

func (s *Server) action(to string) Action {
	to = strings.ToLower(to)
	if a, ok := s.rules.ByKey[to]; ok {
		return a
	}
	if i := strings.LastIndexByte(to, '@'); i > 0 {
		if a, ok := s.rules.ByKey[to[:i]]; ok {
			return a
		}
		for _, p := range s.rules.Prefixes {
			if strings.HasPrefix(to[:i], p.prefix) {
				return p.action
			}
		}
	}
	return s.rules.Default
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...interface{}) {}
func (nopLogger) Println(...interface{})        {}

type sess struct {
	s    *Server
	c    *smtp.Conn
	from string
}

func (x *sess) Mail(from string, _ *smtp.MailOptions) error {
	if a := x.s.rules.Mail; a != nil && !a.Accept {
		return a.err()
	}
	x.from = from
	return nil
}

func (a Action) err() error {
	return &smtp.SMTPError{Code: a.Code, EnhancedCode: a.Enhanced, Message: a.Text}
}

func (x *sess) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.rcpts.Add(1)
	if x.s.hold > 0 {
		time.Sleep(x.s.hold)
	}
	a := x.s.action(to)
	switch {
	case a.Drop:
		_ = x.c.Conn().Close()
		return nil
	case a.Greylist:
		key := x.from + " " + strings.ToLower(to)
		x.s.mu.Lock()
		seen := x.s.seen[key]
		x.s.seen[key] = true
		x.s.mu.Unlock()
		if seen {
			return nil
		}
		return a.err()
	case a.Accept:
		return nil
	}
	return a.err()
}

func (x *sess) Data(r io.Reader) error {
	return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "verifytest takes no messages"}
}

func (x *sess) Reset()        { x.from = "" }
func (x *sess) Logout() error { return nil }
