// Package smtptest runs a scripted fake SMTP server on loopback for tests:
// a dialogue goes in, every byte the client sent comes out, and the server
// can misbehave on purpose (silence, drip-fed bytes, abrupt closes, raw
// bytes no real server would send).
//
// A script is one step per line:
//
//	S: 220 mx.example.com ESMTP      send the text plus CRLF
//	C: EHLO client.example           expect exactly this client line ("C:" alone: an empty line)
//	C*                               expect any one client line
//	C~ MAIL FROM:                    expect a client line starting with this
//	R: "250 ok\n"                    send raw bytes, a Go-quoted string
//	drip 10ms S: 220 slow            send one byte at a time with a pause
//	sleep 100ms                      pause
//	close                            close the connection
//	hang                             stop reading and writing until the client leaves
//	tls                              wrap the connection in TLS (after a 220 to STARTTLS)
//	data                             read message content up to <CRLF>.<CRLF>
//	repeat N S: 250-x                send the line N times
//	repeat N R: "x"                  send the raw bytes N times (no CRLF added)
//	forever S: 250-x                 send the line again and again until the client leaves
//	forever R: "x"                   the same with raw bytes (an endless line with no CRLF)
//	# comment, blank lines ignored
//
// StartSeq gives each connection its own script, for clients that reconnect.
//
// When the client sends something other than what C: expects, the server
// records a mismatch and closes the connection.
package smtptest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is a running fake server.
type Server struct {
	ln     net.Listener
	steps  [][]step // one script per connection; the last serves the rest
	TLS    *tls.Config
	mu     sync.Mutex
	got    bytes.Buffer
	errs   []string
	conns  int
	wg     sync.WaitGroup
	closed chan struct{}
}

type step struct {
	op    string // send, expect, any, prefix, raw, drip, sleep, close, hang, tls, data, repeat, forever
	text  string
	dur   time.Duration
	count int
}

// Parse reads a script.
func Parse(script string) ([]step, error) {
	var out []step
	for n, line := range strings.Split(script, "\n") {
		line = strings.TrimRight(line, "\r")
		trim := strings.TrimSpace(line)
		if trim == "" || strings.HasPrefix(trim, "#") {
			continue
		}
		st, err := parseStep(strings.TrimLeft(line, " \t"))
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n+1, err)
		}
		out = append(out, st)
	}
	return out, nil
}

func parseStep(l string) (step, error) {
	switch {
	case strings.HasPrefix(l, "S: ") || l == "S:":
		return step{op: "send", text: strings.TrimPrefix(strings.TrimPrefix(l, "S:"), " ")}, nil
	case strings.HasPrefix(l, "C: "):
		return step{op: "expect", text: l[3:]}, nil
	case l == "C:":
		return step{op: "expect", text: ""}, nil
	case l == "C*":
		return step{op: "any"}, nil
	case strings.HasPrefix(l, "C~ "):
		return step{op: "prefix", text: l[3:]}, nil
	case strings.HasPrefix(l, "R: "):
		s, err := strconv.Unquote(strings.TrimSpace(l[3:]))
		if err != nil {
			return step{}, fmt.Errorf("R: needs a Go-quoted string: %v", err)
		}
		return step{op: "raw", text: s}, nil
	case strings.HasPrefix(l, "drip "):
		f := strings.SplitN(l, " ", 3)
		if len(f) < 3 {
			return step{}, fmt.Errorf("drip DURATION S: text")
		}
		d, err := time.ParseDuration(f[1])
		if err != nil {
			return step{}, err
		}
		inner, err := parseStep(f[2])
		if err != nil || (inner.op != "send" && inner.op != "raw") {
			return step{}, fmt.Errorf("drip needs S: or R:")
		}
		text := inner.text
		if inner.op == "send" {
			text += "\r\n"
		}
		return step{op: "drip", text: text, dur: d}, nil
	case strings.HasPrefix(l, "sleep "):
		d, err := time.ParseDuration(strings.TrimSpace(l[6:]))
		return step{op: "sleep", dur: d}, err
	case strings.HasPrefix(l, "repeat "):
		f := strings.SplitN(l, " ", 3)
		if len(f) < 3 {
			return step{}, fmt.Errorf("repeat N S: text")
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			return step{}, err
		}
		text, err := lineOrRaw(f[2])
		if err != nil {
			return step{}, fmt.Errorf("repeat needs S: or R:")
		}
		return step{op: "repeat", text: text, count: n}, nil
	case strings.HasPrefix(l, "forever "):
		text, err := lineOrRaw(l[len("forever "):])
		if err != nil || text == "" {
			return step{}, fmt.Errorf("forever needs S: or R: with some bytes")
		}
		return step{op: "forever", text: text}, nil
	case l == "close", l == "hang", l == "tls", l == "data":
		return step{op: l}, nil
	}
	return step{}, fmt.Errorf("unknown step %q", l)
}

// lineOrRaw parses the S: or R: step inside repeat and forever into the
// bytes to send: a line with CRLF added, or raw bytes as given.
func lineOrRaw(l string) (string, error) {
	inner, err := parseStep(l)
	switch {
	case err != nil:
		return "", err
	case inner.op == "send":
		return inner.text + "\r\n", nil
	case inner.op == "raw":
		return inner.text, nil
	}
	return "", fmt.Errorf("S: or R: expected")
}

// Start listens on 127.0.0.1:0 and serves script to every connection.
func Start(script string) (*Server, error) {
	return StartOn("127.0.0.1:0", script)
}

// StartOn listens on addr (a loopback address) and serves script.
func StartOn(addr, script string) (*Server, error) {
	if _, err := Parse(script); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return Serve(ln, script)
}

// Serve serves script on an existing listener, e.g. a unix socket.
func Serve(ln net.Listener, script string) (*Server, error) {
	return serveSeq(ln, script)
}

// StartSeq listens on 127.0.0.1:0 and serves the first script to the first
// connection, the second to the second and so on; the last script serves
// every further connection. It is for clients that reconnect, e.g. to try
// again without STARTTLS after a failed handshake.
func StartSeq(scripts ...string) (*Server, error) {
	if len(scripts) == 0 {
		return nil, fmt.Errorf("StartSeq needs a script")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return serveSeq(ln, scripts...)
}

func serveSeq(ln net.Listener, scripts ...string) (*Server, error) {
	var all [][]step
	for i, script := range scripts {
		steps, err := Parse(script)
		if err != nil {
			ln.Close()
			if len(scripts) > 1 {
				err = fmt.Errorf("script %d: %v", i+1, err)
			}
			return nil, err
		}
		all = append(all, steps)
	}
	s := &Server{ln: ln, steps: all, closed: make(chan struct{})}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the listening address, host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Received returns every byte clients sent so far.
func (s *Server) Received() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got.String()
}

// Errors returns script mismatches seen so far.
func (s *Server) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.errs...)
}

// Conns is the number of connections accepted.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Close stops the server and waits for its connections to finish.
func (s *Server) Close() {
	select {
	case <-s.closed:
		return
	default:
	}
	close(s.closed)
	s.ln.Close()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		steps := s.steps[min(s.conns, len(s.steps)-1)]
		s.conns++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c, steps)
		}()
	}
}

type recorder struct {
	net.Conn
	s *Server
}

func (r recorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	if n > 0 {
		r.s.mu.Lock()
		r.s.got.Write(p[:n])
		r.s.mu.Unlock()
	}
	return n, err
}

func (s *Server) fail(format string, a ...any) {
	s.mu.Lock()
	s.errs = append(s.errs, fmt.Sprintf(format, a...))
	s.mu.Unlock()
}

func (s *Server) serve(raw net.Conn, steps []step) {
	var conn net.Conn = raw
	defer func() { conn.Close() }()
	// Close the connection when the server stops so no step blocks forever.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-s.closed:
			raw.Close()
		case <-done:
		}
	}()
	br := bufio.NewReader(recorder{conn, s})
	readLine := func() (string, bool) {
		l, err := br.ReadString('\n')
		if err != nil {
			return "", false
		}
		return strings.TrimRight(l, "\r\n"), true
	}
	for _, st := range steps {
		switch st.op {
		case "send":
			if _, err := conn.Write([]byte(st.text + "\r\n")); err != nil {
				return
			}
		case "raw":
			if _, err := conn.Write([]byte(st.text)); err != nil {
				return
			}
		case "repeat":
			if _, err := conn.Write([]byte(strings.Repeat(st.text, st.count))); err != nil {
				return
			}
		case "forever":
			// Write in chunks of whole repetitions until the client goes
			// away or the server stops; never more than one chunk in memory.
			chunk := []byte(strings.Repeat(st.text, 1+16*1024/len(st.text)))
			for {
				if _, err := conn.Write(chunk); err != nil {
					return
				}
				select {
				case <-s.closed:
					return
				default:
				}
			}
		case "drip":
			for i := 0; i < len(st.text); i++ {
				if _, err := conn.Write([]byte{st.text[i]}); err != nil {
					return
				}
				select {
				case <-time.After(st.dur):
				case <-s.closed:
					return
				}
			}
		case "expect", "any", "prefix":
			l, ok := readLine()
			if !ok {
				s.fail("client closed the connection; expected %q", st.text)
				return
			}
			if (st.op == "expect" && l != st.text) || (st.op == "prefix" && !strings.HasPrefix(l, st.text)) {
				s.fail("client sent %q, expected %q", l, st.text)
				return
			}
		case "data":
			for {
				l, ok := readLine()
				if !ok {
					s.fail("client closed the connection during data")
					return
				}
				if l == "." {
					break
				}
			}
		case "sleep":
			select {
			case <-time.After(st.dur):
			case <-s.closed:
				return
			}
		case "close":
			return
		case "hang":
			// Read and discard until the client goes away.
			_, _ = br.WriteTo(discard{})
			return
		case "tls":
			if s.TLS == nil {
				s.fail("tls step without a TLS config")
				return
			}
			tc := tls.Server(raw, s.TLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn = tc
			br = bufio.NewReader(recorder{conn, s})
		}
	}
	// Script finished: wait for the client to close.
	_, _ = br.WriteTo(discard{})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
