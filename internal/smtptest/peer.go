package smtptest

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"sync"

	"github.com/emersion/go-sasl"
	"github.com/xdg-go/scram"

	"github.com/smtpx/smtpx/internal/auth"
	smtp "github.com/smtpx/smtpx/internal/third_party/go-smtp"
)

// Message is one message a Peer accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	User string
}

// PeerOptions configure a Peer, a real SMTP server (emersion/go-smtp) on
// loopback for tests that need genuine STARTTLS, AUTH, PIPELINING or BDAT.
type PeerOptions struct {
	TLS      *tls.Config       // offer STARTTLS with this configuration
	Implicit bool              // TLS from the first byte instead of STARTTLS
	Users    map[string]string // AUTH PLAIN/LOGIN accounts; nil means no AUTH
	LMTP     bool
	MaxSize  int64
	SMTPUTF8 bool
	DSN      bool
	// Rcpt decides each recipient; nil accepts all.
	Rcpt func(to string) error
	// Data decides each message; nil accepts all.
	Data func(m *Message) error
	// Mail decides each sender; nil accepts all.
	Mail func(from string) error
	// SCRAM offers SCRAM-SHA-256 and SCRAM-SHA-1 for Users too, served by
	// xdg-go/scram (an implementation other than smtpx's client).
	SCRAM bool
	// SCRAMNoProof makes SCRAM answer 235 as soon as the client's proof
	// checks out, without the server-final message that proves the server
	// knows the password: what a server that only pretends would do.
	SCRAMNoProof bool
}

// Peer is a running go-smtp server.
type Peer struct {
	Server *smtp.Server
	ln     net.Listener
	opts   PeerOptions
	mu     sync.Mutex
	msgs   []Message
	done   chan struct{}
}

// StartPeer starts a Peer on 127.0.0.1:0.
func StartPeer(o PeerOptions) (*Peer, error) {
	p := &Peer{opts: o, done: make(chan struct{})}
	s := smtp.NewServer(smtp.BackendFunc(p.newSession))
	s.Domain = "peer.test"
	s.AllowInsecureAuth = true
	s.TLSConfig = o.TLS
	s.LMTP = o.LMTP
	s.MaxMessageBytes = o.MaxSize
	s.EnableSMTPUTF8 = o.SMTPUTF8
	s.EnableDSN = o.DSN
	s.ErrorLog = nopLogger{}
	var ln net.Listener
	var err error
	if o.Implicit && o.TLS != nil {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", o.TLS)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, err
	}
	p.Server, p.ln = s, ln
	go func() { _ = s.Serve(ln); close(p.done) }()
	return p, nil
}

// Addr is the listening address.
func (p *Peer) Addr() string { return p.ln.Addr().String() }

// Messages returns the accepted messages.
func (p *Peer) Messages() []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Message(nil), p.msgs...)
}

// Close stops the server.
func (p *Peer) Close() {
	_ = p.Server.Close()
	<-p.done
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...interface{}) {}
func (nopLogger) Println(...interface{})        {}

type peerSession struct {
	p    *Peer
	c    *smtp.Conn
	msg  Message
	user string
}

func (p *Peer) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &peerSession{p: p, c: c}, nil
}

func (s *peerSession) AuthMechanisms() []string {
	if s.p.opts.Users == nil {
		return nil
	}
	if s.p.opts.SCRAM {
		return []string{"SCRAM-SHA-256", "SCRAM-SHA-1", sasl.Plain, sasl.Login}
	}
	return []string{sasl.Plain, sasl.Login}
}

func (s *peerSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if want, ok := s.p.opts.Users[user]; ok && want == pass {
			s.user = user
			return nil
		}
		return errAuthFailed
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return auth.NewLoginServer(check), nil
	case "SCRAM-SHA-256", "SCRAM-SHA-1":
		if s.p.opts.SCRAM {
			return s.scram(mech)
		}
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

var errAuthFailed = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}

func (s *peerSession) scram(mech string) (sasl.Server, error) {
	h := scram.SHA256
	if mech == "SCRAM-SHA-1" {
		h = scram.SHA1
	}
	srv, err := h.NewServer(func(user string) (scram.StoredCredentials, error) {
		pass, ok := s.p.opts.Users[user]
		if !ok {
			return scram.StoredCredentials{}, errAuthFailed
		}
		c, err := h.NewClient(user, pass, "")
		if err != nil {
			return scram.StoredCredentials{}, err
		}
		return c.GetStoredCredentialsWithError(scram.KeyFactors{Salt: "peer salt", Iters: 4096})
	})
	if err != nil {
		return nil, err
	}
	return &scramServer{conv: srv.NewConversation(), noProof: s.p.opts.SCRAMNoProof, ok: func(u string) { s.user = u }}, nil
}

// scramServer adapts xdg-go's conversation to go-sasl. go-smtp sends no
// challenge with a final "done", so server-final goes out as one more 334
// and the client's empty answer ends the exchange (RFC 4954 §4).
type scramServer struct {
	conv      *scram.ServerConversation
	noProof   bool
	sentFinal bool
	ok        func(user string)
}

func (s *scramServer) Next(resp []byte) ([]byte, bool, error) {
	if s.sentFinal {
		return nil, true, nil
	}
	msg, err := s.conv.Step(string(resp))
	if err != nil {
		return nil, false, errAuthFailed
	}
	if s.conv.Done() {
		s.ok(s.conv.Username())
		if s.noProof {
			return nil, true, nil
		}
		s.sentFinal = true
	}
	return []byte(msg), false, nil
}

func (s *peerSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.p.opts.Mail != nil {
		if err := s.p.opts.Mail(from); err != nil {
			return err
		}
	}
	s.msg = Message{From: from, User: s.user}
	return nil
}

func (s *peerSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.p.opts.Rcpt != nil {
		if err := s.p.opts.Rcpt(to); err != nil {
			return err
		}
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *peerSession) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	m := s.msg
	m.Data = b.Bytes()
	_, m.TLS = s.c.TLSConnectionState()
	if s.p.opts.Data != nil {
		if err := s.p.opts.Data(&m); err != nil {
			return err
		}
	}
	s.p.mu.Lock()
	s.p.msgs = append(s.p.msgs, m)
	s.p.mu.Unlock()
	return nil
}

func (s *peerSession) LMTPData(r io.Reader, st smtp.StatusCollector) error {
	err := s.Data(r)
	for _, to := range s.msg.To {
		st.SetStatus(to, err)
	}
	return err
}

func (s *peerSession) Reset()        { s.msg = Message{} }
func (s *peerSession) Logout() error { return nil }

// ErrReply builds a go-smtp error reply for Rcpt/Data/Mail hooks.
func ErrReply(code int, enhanced [3]int, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode(enhanced), Message: msg}
}
