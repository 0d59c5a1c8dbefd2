package session_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/smtptest"
)

func fake(t *testing.T, script string) *smtptest.Server {
	t.Helper()
	s, err := smtptest.Start(script)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func dial(t *testing.T, addr string, o session.Options) (*session.Session, []session.Event) {
	t.Helper()
	var evs []session.Event
	o.Address = addr
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	o.Observer = func(e session.Event) { evs = append(evs, e) }
	s, err := session.Dial(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return s, evs
}

func kind(err error) session.Kind {
	var se *session.Error
	if errors.As(err, &se) {
		return se.Kind
	}
	return -1
}

func TestDialogueBytesExact(t *testing.T) {
	srv := fake(t, `
S: 220 mx.test ESMTP
C: EHLO client.test
S: 250-mx.test
S: 250-PIPELINING
S: 250 8BITMIME
C: MAIL FROM:<a@test>
C: RCPT TO:<b@test>
C: DATA
S: 250 2.1.0 ok
S: 250 2.1.5 ok
S: 354 go
data
S: 250 2.0.0 queued as ABC123
C: QUIT
S: 221 bye
`)
	s, _ := dial(t, srv.Addr(), session.Options{})
	if _, err := s.ReadBanner(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if !s.Ext.Has("pipelining") || !s.Ext.Has("8BITMIME") {
		t.Fatalf("extensions %v", s.Ext.Keywords())
	}
	rs, err := s.Pipeline("MAIL FROM:<a@test>", "RCPT TO:<b@test>", "DATA")
	if err != nil || len(rs) != 3 || rs[2].Code != 354 {
		t.Fatalf("pipeline: %v %v", rs, err)
	}
	if _, err := s.WriteData(strings.NewReader(".leading dot\nbare LF\rbare CR\r\nend")); err != nil {
		t.Fatal(err)
	}
	r, err := s.ReadReply("DATA")
	if err != nil || r.Code != 250 {
		t.Fatalf("end of data: %v %v", r, err)
	}
	s.Quit()
	srv.Close()
	want := "EHLO client.test\r\nMAIL FROM:<a@test>\r\nRCPT TO:<b@test>\r\nDATA\r\n" +
		"..leading dot\r\nbare LF\r\nbare CR\r\nend\r\n.\r\nQUIT\r\n"
	if got := srv.Received(); got != want {
		t.Errorf("client sent\n%q\nwant\n%q", got, want)
	}
	if e := srv.Errors(); len(e) > 0 {
		t.Error(e)
	}
}

func TestHELOFallback(t *testing.T) {
	srv := fake(t, `
S: 220 old.test
C: EHLO c.test
S: 502 5.5.2 what
C: HELO c.test
S: 250 old.test
C: QUIT
S: 221 bye
`)
	s, _ := dial(t, srv.Addr(), session.Options{})
	s.ReadBanner()
	r, err := s.Hello("c.test")
	if err != nil || r.Code != 250 || !s.UsedHELO {
		t.Fatalf("%v %v %v", r, err, s.UsedHELO)
	}
	s.Quit()
}

func TestBannerClasses(t *testing.T) {
	for _, tt := range []struct {
		banner string
		kind   session.Kind
	}{
		{"421 4.3.2 busy", session.KindReply},
		{"554 5.7.1 go away", session.KindReply},
		{"250 wrong code", session.KindProtocol},
		{"25", session.KindProtocol},
	} {
		srv := fake(t, "S: "+tt.banner+"\n")
		s, _ := dial(t, srv.Addr(), session.Options{})
		_, err := s.ReadBanner()
		if kind(err) != tt.kind {
			t.Errorf("%q: %v", tt.banner, err)
		}
		s.Close()
	}
}

func TestRefusesCRLF(t *testing.T) {
	srv := fake(t, "S: 220 x\nC: EHLO c\nS: 250 x\nhang\n")
	s, _ := dial(t, srv.Addr(), session.Options{})
	s.ReadBanner()
	s.Hello("c")
	for _, bad := range []string{"MAIL FROM:<a@b>\r\nRCPT TO:<x@y>", "RCPT TO:<x\n@y>", "X\r"} {
		if err := s.Write(bad); kind(err) != session.KindUsage {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := s.Pipeline("NOOP", "RCPT TO:<a\r\n>"); kind(err) != session.KindUsage {
		t.Errorf("pipeline: %v", err)
	}
	s.Close()
	srv.Close()
	if got := srv.Received(); got != "EHLO c\r\n" {
		t.Errorf("server saw %q", got)
	}
}

func TestSilenceTimesOut(t *testing.T) {
	srv := fake(t, "hang\n")
	s, _ := dial(t, srv.Addr(), session.Options{Timeout: 100 * time.Millisecond})
	_, err := s.ReadBanner()
	if kind(err) != session.KindNetwork || !strings.Contains(err.Error(), "no reply within") {
		t.Fatalf("%v", err)
	}
	s.Close()
}

// A banner dripped byte by byte is bounded by one deadline for the reply,
// not refreshed per byte.
func TestDripBannerDeadline(t *testing.T) {
	srv := fake(t, "drip 20ms S: 220 a slow banner that takes a while\n")
	s, _ := dial(t, srv.Addr(), session.Options{Timeout: 150 * time.Millisecond})
	_, err := s.ReadBanner()
	if kind(err) != session.KindNetwork {
		t.Fatalf("%v", err)
	}
	s.Close()
}

func TestConnectRefused(t *testing.T) {
	srv := fake(t, "")
	addr := srv.Addr()
	srv.Close()
	_, err := session.Dial(context.Background(), session.Options{Address: addr, ConnectTimeout: time.Second})
	if kind(err) != session.KindNetwork {
		t.Fatalf("%v", err)
	}
}

func TestStartTLSInjection(t *testing.T) {
	srv := fake(t, `
S: 220 x
C: EHLO c
S: 250-x
S: 250 STARTTLS
C: STARTTLS
R: "220 go ahead\r\n250 injected\r\n"
hang
`)
	s, _ := dial(t, srv.Addr(), session.Options{})
	s.ReadBanner()
	s.Hello("c")
	_, err := s.StartTLS()
	if kind(err) != session.KindTLS || !strings.Contains(err.Error(), "plaintext bytes") {
		t.Fatalf("%v", err)
	}
	s.Close()
}

func peer(t *testing.T, o smtptest.PeerOptions) *smtptest.Peer {
	t.Helper()
	p, err := smtptest.StartPeer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestStartTLSAndAuthWithGoSMTP(t *testing.T) {
	cert, err := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	p := peer(t, smtptest.PeerOptions{TLS: cert.ServerConfig(), Users: map[string]string{"u": "secret-pw"}})

	// Unknown CA: verification fails.
	s, _ := dial(t, p.Addr(), session.Options{})
	s.ReadBanner()
	s.Hello("c.test")
	if _, err := s.StartTLS(); kind(err) != session.KindTLS {
		t.Fatalf("expected TLS failure, got %v", err)
	}
	s.Close()

	// Trusted CA: the upgrade works, both lists are kept, AUTH succeeds.
	var evs []session.Event
	s, err = session.Dial(context.Background(), session.Options{
		Address: p.Addr(), Timeout: 2 * time.Second,
		TLSConfig: &tls.Config{RootCAs: cert.Pool()},
		Observer:  func(e session.Event) { evs = append(evs, e) },
	})
	if err != nil {
		t.Fatal(err)
	}
	s.ReadBanner()
	s.Hello("c.test")
	if !s.Ext.Has("STARTTLS") {
		t.Fatal("no STARTTLS")
	}
	if _, err := s.StartTLS(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hello("c.test"); err != nil {
		t.Fatal(err)
	}
	if !s.ExtBeforeTLS.Has("STARTTLS") || s.Ext.Has("STARTTLS") || !s.InTLS() {
		t.Fatalf("before %v after %v", s.ExtBeforeTLS.Keywords(), s.Ext.Keywords())
	}
	if r, err := s.Auth(sasl.NewPlainClient("", "u", "secret-pw")); err != nil || r.Code != 235 {
		t.Fatalf("auth: %v %v", r, err)
	}
	s.Quit()
	for _, e := range evs {
		if e.Dir == session.Sent && strings.HasPrefix(e.Line, "AUTH") && !e.Secret {
			t.Errorf("AUTH payload not marked secret: %q", e.Line)
		}
	}
}

func TestAuthLoginAndFailure(t *testing.T) {
	p := peer(t, smtptest.PeerOptions{Users: map[string]string{"u": "pw"}})
	s, evs := dial(t, p.Addr(), session.Options{})
	_ = evs
	s.ReadBanner()
	s.Hello("c")
	if _, err := s.Auth(sasl.NewLoginClient("u", "pw")); err != nil {
		t.Fatalf("LOGIN: %v", err)
	}
	s.Quit()
	s, _ = dial(t, p.Addr(), session.Options{})
	s.ReadBanner()
	s.Hello("c")
	r, err := s.Auth(sasl.NewPlainClient("", "u", "wrong"))
	if kind(err) != session.KindReply || r.Code != 535 {
		t.Fatalf("%v %v", r, err)
	}
	s.Quit()
}

func TestEndlessChallengeBounded(t *testing.T) {
	script := "S: 220 x\nC: EHLO c\nS: 250-x\nS: 250 AUTH LOGIN\nC~ AUTH LOGIN\n"
	for i := 0; i < 12; i++ {
		script += "S: 334 VXNlcm5hbWU6\nC*\n"
	}
	srv := fake(t, script)
	s, _ := dial(t, srv.Addr(), session.Options{})
	s.ReadBanner()
	s.Hello("c")
	_, err := s.Auth(sasl.NewLoginClient("u", "pw"))
	if kind(err) != session.KindProtocol {
		t.Fatalf("%v", err)
	}
	s.Close()
}

// proving is a SASL client whose mechanism also authenticates the server
// (session.Verifier), as SCRAM does.
type proving struct {
	sasl.Client
	verified error
}

func (p proving) Verified() error { return p.verified }

// A 235 counts only when the mechanism says the server proved itself:
// otherwise a server that never knew the password could pass for the
// real one by skipping its proof.
func TestAuthSuccessNeedsServerProof(t *testing.T) {
	for _, tc := range []struct {
		verified error
		want     session.Kind
	}{{nil, -1}, {errors.New("no server signature"), session.KindProtocol}} {
		srv := fake(t, "S: 220 x\nC: EHLO c\nS: 250-x\nS: 250 AUTH PLAIN\nC~ AUTH PLAIN\nS: 235 2.7.0 ok\nC: QUIT\nS: 221 bye\n")
		s, _ := dial(t, srv.Addr(), session.Options{})
		s.ReadBanner()
		s.Hello("c")
		r, err := s.Auth(proving{sasl.NewPlainClient("", "u", "pw"), tc.verified})
		if kind(err) != tc.want || tc.verified != nil && (!errors.Is(err, session.ErrUnproven) || !strings.Contains(err.Error(), "no server signature")) {
			t.Errorf("verified=%v: %v %v", tc.verified, r, err)
		}
		s.Quit()
	}
}

func TestAuthRefusedInClearToNonLoopback(t *testing.T) {
	srv := fake(t, "S: 220 x\nC: EHLO c\nS: 250-x\nS: 250 AUTH PLAIN\nhang\n")
	// Pretend the peer is remote by dialling through a wrapper that
	// reports a non-loopback remote address.
	s, err := session.Dial(context.Background(), session.Options{
		Address: srv.Addr(), Timeout: time.Second,
		Dial: func(ctx context.Context, n, a string) (netConn, error) { return dialRemote(ctx, n, a) },
	})
	if err != nil {
		t.Fatal(err)
	}
	s.ReadBanner()
	s.Hello("c")
	if _, err := s.Auth(sasl.NewPlainClient("", "u", "pw")); kind(err) != session.KindTLS {
		t.Fatalf("%v", err)
	}
	s.Close()
	srv.Close()
	if strings.Contains(srv.Received(), "AUTH") {
		t.Error("credentials were sent")
	}
}

func TestLMTP(t *testing.T) {
	p := peer(t, smtptest.PeerOptions{LMTP: true})
	s, _ := dial(t, p.Addr(), session.Options{LMTP: true})
	s.ReadBanner()
	if _, err := s.Hello("c"); err != nil {
		t.Fatal(err)
	}
	s.Quit()
}

func TestUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "smtp.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := smtptest.Serve(ln, "S: 220 sock\nC: EHLO c\nS: 250 sock\nC: QUIT\nS: 221 bye\n")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s, err := session.Dial(context.Background(), session.Options{Network: "unix", Address: path, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !s.IsLoopback() {
		t.Error("a unix socket counts as local for the AUTH policy")
	}
	s.ReadBanner()
	if _, err := s.Hello("c"); err != nil {
		t.Fatal(err)
	}
	s.Quit()
	if e := srv.Errors(); len(e) > 0 {
		t.Fatal(e)
	}
}

// recorder is a server that greets, then keeps every byte the client
// sends until the client closes.
func recorder(t *testing.T) (addr string, got func() string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- ""
			return
		}
		defer c.Close()
		c.Write([]byte("220 mx.test ESMTP\r\n"))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		done <- b.String()
	}()
	return ln.Addr().String(), func() string { return <-done }
}

// failingReader gives some content, then an error (a file that became
// unreadable half-way).
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("input/output error")
	}
	k := copy(p, strings.Repeat("x", min(f.n, len(p))))
	f.n -= k
	return k, nil
}

// When the message cannot be read to its end, the connection is dropped
// without another byte: QUIT written after a short BDAT chunk would be
// taken as the rest of the chunk, and delivered as message content.
func TestInputErrorMidMessageSendsNothingMore(t *testing.T) {
	for _, tt := range []struct {
		name string
		send func(s *session.Session) error
	}{
		{"BDAT content shorter than announced", func(s *session.Session) error {
			return s.WriteBDAT([]string{"MAIL FROM:<a@test>", "RCPT TO:<b@test>"}, strings.NewReader("Subject: x\r\n\r\nshort\r\n"), 100, true, "QUIT")
		}},
		{"BDAT read error", func(s *session.Session) error {
			return s.WriteBDAT(nil, &failingReader{n: 40 << 10}, 100<<10, true)
		}},
		{"DATA read error", func(s *session.Session) error {
			_, err := s.WriteData(&failingReader{n: 40 << 10}, "QUIT")
			return err
		}},
	} {
		addr, got := recorder(t)
		s, _ := dial(t, addr, session.Options{})
		if _, err := s.ReadBanner(); err != nil {
			t.Fatal(err)
		}
		err := tt.send(s)
		if err == nil {
			t.Fatalf("%s: no error", tt.name)
		}
		s.Finish(err)
		if !s.Closed() {
			t.Errorf("%s: connection still open", tt.name)
		}
		rec := got()
		if strings.Contains(rec, "QUIT") || strings.Contains(rec, "\r\n.\r\n") {
			t.Errorf("%s: more was written after the input failed: ...%q", tt.name, rec[max(0, len(rec)-40):])
		}
	}
}
