package sink

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// recorder is an Observer that keeps everything for assertions.
type recorder struct {
	mu       sync.Mutex
	records  []*Record
	refusals []Refusal
	lines    []Line
	problems []string
	conns    []ConnInfo
	listen   Listening
	stopping []string
	msgCh    chan *Record
}

func newRecorder() *recorder { return &recorder{msgCh: make(chan *Record, 10000)} }

func (r *recorder) Listening(l Listening) { r.mu.Lock(); r.listen = l; r.mu.Unlock() }
func (r *recorder) Connected(c ConnInfo)  { r.mu.Lock(); r.conns = append(r.conns, c); r.mu.Unlock() }
func (r *recorder) Closed(ConnInfo)       {}
func (r *recorder) Line(l Line)           { r.mu.Lock(); r.lines = append(r.lines, l); r.mu.Unlock() }
func (r *recorder) Message(m *Record) {
	r.mu.Lock()
	r.records = append(r.records, m)
	r.mu.Unlock()
	r.msgCh <- m
}
func (r *recorder) Refused(f Refusal) { r.mu.Lock(); r.refusals = append(r.refusals, f); r.mu.Unlock() }
func (r *recorder) Problem(_ int, m string) {
	r.mu.Lock()
	r.problems = append(r.problems, m)
	r.mu.Unlock()
}
func (r *recorder) Stopping(s string) { r.mu.Lock(); r.stopping = append(r.stopping, s); r.mu.Unlock() }

func (r *recorder) snapshot() ([]*Record, []Refusal, []Line) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Record(nil), r.records...), append([]Refusal(nil), r.refusals...), append([]Line(nil), r.lines...)
}

type running struct {
	s      *Sink
	rec    *recorder
	addr   string
	cancel context.CancelFunc
	done   chan struct{} // closed when Serve returned
	res    Result
}

// result stops the sink (if it is not stopping already) and returns how
// the run ended.
func (r *running) result(t *testing.T) Result {
	t.Helper()
	r.cancel()
	return r.wait()
}

// wait waits for the sink to stop by itself.
func (r *running) wait() Result {
	<-r.done
	return r.res
}

func start(t *testing.T, o Options) *running {
	t.Helper()
	return startHook(t, o, nil)
}

func startHook(t *testing.T, o Options, hook func(*Sink)) *running {
	t.Helper()
	if len(o.Listen) == 0 {
		o.Listen = []Addr{{Network: "tcp", Address: "127.0.0.1:0"}}
	}
	rec := newRecorder()
	o.Observer = rec
	s, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if hook != nil {
		hook(s)
	}
	if err := s.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{s: s, rec: rec, addr: s.Addrs()[0], cancel: cancel, done: make(chan struct{})}
	go func() {
		r.res = s.Serve(ctx)
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func dial(t *testing.T, addr string) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	return c
}

// send delivers msg and returns the error of the first step that failed.
func send(c *smtp.Client, from string, to []string, msg string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, msg); err != nil {
		return err
	}
	return w.Close()
}

func wantReply(t *testing.T, err error, code int, enhanced string) {
	t.Helper()
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want reply %d %s", err, code, enhanced)
	}
	got := fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
	if se.Code != code || got != enhanced {
		t.Fatalf("got %d %s %q, want %d %s", se.Code, got, se.Message, code, enhanced)
	}
}

const simpleMsg = "From: a@example.org\r\nTo: b@example.com\r\nSubject: hello\r\n\r\n.leading dot\r\n..two dots\r\nbody\r\n"

func TestStoresByteExact(t *testing.T) {
	dir := t.TempDir()
	r := start(t, Options{Dir: dir})
	c := dial(t, r.addr)
	if err := send(c, "a@example.org", []string{"b@example.com", "c@example.com"}, simpleMsg); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	rec := <-r.rec.msgCh
	got, err := os.ReadFile(rec.Path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != simpleMsg {
		t.Fatalf("stored %q, want %q", got, simpleMsg)
	}
	sum := sha256.Sum256([]byte(simpleMsg))
	if rec.SHA256 != hex.EncodeToString(sum[:]) || rec.Size != int64(len(simpleMsg)) {
		t.Errorf("record sha256/size %s/%d", rec.SHA256, rec.Size)
	}
	if rec.MailFrom != "a@example.org" || strings.Join(rec.RcptTo, ",") != "b@example.com,c@example.com" {
		t.Errorf("envelope %q %q", rec.MailFrom, rec.RcptTo)
	}
	if rec.Headers.Subject != "hello" || rec.Protocol != "ESMTP" || rec.Helo != "client.test" || rec.Seq != 1 || rec.Chunking {
		t.Errorf("record %+v", rec)
	}
	if filepath.Dir(rec.Path) != dir || !strings.HasSuffix(rec.Path, "-000001.eml") {
		t.Errorf("path %s", rec.Path)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir has %d entries, want only the message (no temporary files)", len(entries))
	}
}

func TestNoStoreLeavesNothing(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	r := start(t, Options{})
	c := dial(t, r.addr)
	if err := send(c, "a@example.org", []string{"b@example.com"}, simpleMsg); err != nil {
		t.Fatal(err)
	}
	rec := <-r.rec.msgCh
	if rec.Path != "" || rec.Size != int64(len(simpleMsg)) {
		t.Errorf("record %+v", rec)
	}
	if e, _ := os.ReadDir(tmp); len(e) != 0 {
		t.Errorf("left %d temporary files", len(e))
	}
}

func TestAdvertises(t *testing.T) {
	r := start(t, Options{MaxSize: 1000})
	c := dial(t, r.addr)
	for _, ext := range []string{"PIPELINING", "8BITMIME", "SMTPUTF8", "CHUNKING", "SIZE", "DSN", "ENHANCEDSTATUSCODES", "BINARYMIME"} {
		if ok, _ := c.Extension(ext); !ok {
			t.Errorf("%s not advertised", ext)
		}
	}
	if _, p := c.Extension("SIZE"); p != "1000" {
		t.Errorf("SIZE %q, want 1000", p)
	}
	for _, ext := range []string{"STARTTLS", "AUTH"} {
		if ok, _ := c.Extension(ext); ok {
			t.Errorf("%s advertised without --tls/--auth", ext)
		}
	}
}

// rawConn is a line-level client for what go-smtp's client cannot do:
// pipelining and BDAT.
type rawConn struct {
	t *testing.T
	c net.Conn
	r *textproto.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{t: t, c: c, r: textproto.NewReader(bufio.NewReader(c))}
	rc.expect(220)
	return rc
}

func (rc *rawConn) write(s string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, s); err != nil {
		rc.t.Fatal(err)
	}
}

// expect reads one reply and checks its code; it returns the text.
func (rc *rawConn) expect(code int) string {
	rc.t.Helper()
	got, msg, err := rc.r.ReadResponse(0)
	if err != nil && got == 0 {
		rc.t.Fatalf("reading reply: %v", err)
	}
	if got != code {
		rc.t.Fatalf("reply %d %q, want %d", got, msg, code)
	}
	return msg
}

func TestPipeliningAndBDAT(t *testing.T) {
	dir := t.TempDir()
	r := start(t, Options{Dir: dir})
	rc := dialRaw(t, r.addr)
	rc.write("EHLO client.test\r\n")
	rc.expect(250)
	// One write: the whole transaction up to the first chunk (RFC 2920,
	// RFC 3030 allows BDAT in a pipelined group).
	body := "Subject: binary\r\n\r\n\x00\xff\r\n.\r\nbare\nlf\rcr"
	part1, part2 := body[:10], body[10:]
	rc.write("MAIL FROM:<a@example.org> BODY=BINARYMIME\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\n" +
		fmt.Sprintf("BDAT %d\r\n%s", len(part1), part1))
	for i := 0; i < 4; i++ {
		rc.expect(250)
	}
	rc.write(fmt.Sprintf("BDAT %d LAST\r\n%s", len(part2), part2))
	rc.expect(250)
	rc.write("QUIT\r\n")
	rc.expect(221)
	rec := <-r.rec.msgCh
	got, _ := os.ReadFile(rec.Path)
	if string(got) != body {
		t.Fatalf("stored %q, want %q", got, body)
	}
	if !rec.Chunking || rec.Body != "BINARYMIME" || len(rec.RcptTo) != 2 {
		t.Errorf("record %+v", rec)
	}
}

func TestScriptedFailures(t *testing.T) {
	tests := []struct {
		name     string
		o        Options
		to       string
		code     int
		enhanced string
		stage    string
	}{
		{"reject-rcpt", Options{RejectRcpt: []*regexp.Regexp{regexp.MustCompile(`^bounce@`)}}, "bounce@example.com", 550, "5.1.1", "RCPT"},
		{"tempfail-rcpt", Options{TempfailRcpt: []*regexp.Regexp{regexp.MustCompile(`later`)}}, "later@example.com", 450, "4.2.0", "RCPT"},
		{"reject-data", Options{RejectData: true}, "b@example.com", 554, "5.7.1", "DATA"},
		{"tempfail-data", Options{TempfailData: true}, "b@example.com", 451, "4.3.0", "DATA"},
		{"greylist", Options{Greylist: true}, "b@example.com", 450, "4.7.1", "RCPT"},
		{"max-size", Options{MaxSize: 20}, "b@example.com", 552, "5.3.4", "DATA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.o.Dir = dir
			r := start(t, tt.o)
			c := dial(t, r.addr)
			err := send(c, "a@example.org", []string{tt.to}, simpleMsg)
			wantReply(t, err, tt.code, tt.enhanced)
			_, refusals, _ := r.rec.snapshot()
			if len(refusals) != 1 || refusals[0].Stage != tt.stage || refusals[0].Code != tt.code || refusals[0].Enhanced != tt.enhanced {
				t.Errorf("refusals %+v", refusals)
			}
			if e, _ := os.ReadDir(dir); len(e) != 0 {
				t.Errorf("refused message left %d files", len(e))
			}
			// An accepted recipient still works after a refusal, and a
			// greylisted triple passes on the retry.
			c.Reset()
			err = send(c, "a@example.org", []string{tt.to}, simpleMsg)
			if tt.name == "greylist" {
				if err != nil {
					t.Fatalf("greylist retry: %v", err)
				}
				if rec := <-r.rec.msgCh; rec.RcptTo[0] != tt.to {
					t.Errorf("retry record %+v", rec)
				}
			}
		})
	}
}

func TestMaxSizeFromMailParameter(t *testing.T) {
	r := start(t, Options{MaxSize: 100})
	c := dial(t, r.addr)
	err := c.Mail("a@example.org", &smtp.MailOptions{Size: 5000})
	wantReply(t, err, 552, "5.3.4")
}

func TestGreylistKeyIncludesSender(t *testing.T) {
	var g greylist
	if !g.first("a", "b", "1.2.3.4") || g.first("a", "b", "1.2.3.4") {
		t.Fatal("same triple: first, then not")
	}
	if !g.first("other", "b", "1.2.3.4") || !g.first("a", "b", "5.6.7.8") {
		t.Fatal("a new sender or IP is a new triple")
	}
}

func TestDelayHoldsReply(t *testing.T) {
	held := make(chan string, 10)
	release := make(chan struct{})
	r := startHook(t, Options{Delays: map[string]time.Duration{"rcpt": time.Hour, "data": 2 * time.Second}},
		func(s *Sink) {
			s.sleepHook = func(point string, d time.Duration) bool {
				held <- fmt.Sprintf("%s:%s", point, d)
				<-release
				return true
			}
		})
	c := dial(t, r.addr)
	errc := make(chan error, 1)
	go func() { errc <- send(c, "a@example.org", []string{"b@example.com"}, simpleMsg) }()
	if got := <-held; got != "rcpt:1h0m0s" {
		t.Fatalf("first delay %s", got)
	}
	select {
	case err := <-errc:
		t.Fatalf("transaction finished while RCPT was held: %v", err)
	default:
	}
	release <- struct{}{}
	if got := <-held; got != "data:2s" {
		t.Fatalf("second delay %s", got)
	}
	release <- struct{}{}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestDelayCutShortByShutdown(t *testing.T) {
	r := start(t, Options{Delays: map[string]time.Duration{"rcpt": time.Hour}})
	c := dial(t, r.addr)
	if err := c.Mail("a@example.org", nil); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- c.Rcpt("b@example.com", nil) }()
	// Wait until the sink holds the RCPT: the transaction is open.
	for {
		r.s.mu.Lock()
		open := false
		for cn := range r.s.conns {
			cn.mu.Lock()
			open = open || cn.inTx
			cn.mu.Unlock()
		}
		r.s.mu.Unlock()
		if open {
			break
		}
		time.Sleep(time.Millisecond)
	}
	r.cancel()
	if err := <-errc; err != nil {
		t.Fatalf("RCPT after shutdown began: %v", err)
	}
}

// dialStartTLS connects, says EHLO and starts TLS trusting the sink.
func dialStartTLS(t *testing.T, r *running) *smtp.Client {
	t.Helper()
	c, err := smtp.DialStartTLS(r.addr, tlsClientConfig(r))
	if err != nil {
		t.Fatalf("STARTTLS with the sink's certificate trusted: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// tlsClientConfig trusts exactly the sink's (self-signed) certificate.
func tlsClientConfig(r *running) *tls.Config {
	leaf, err := x509.ParseCertificate(r.s.tls.Certificates[0].Certificate[0])
	if err != nil {
		panic(err)
	}
	p := x509.NewCertPool()
	p.AddCert(leaf)
	return &tls.Config{ServerName: "localhost", RootCAs: p}
}

func TestStartTLSAndAuth(t *testing.T) {
	dir := t.TempDir()
	r := start(t, Options{Dir: dir, TLS: true, Users: map[string]string{"alice": "s3cret:x"}, AuthFailDelay: time.Millisecond})
	c := dial(t, r.addr)
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH advertised before TLS")
	}
	wantReply(t, c.Auth(sasl.NewPlainClient("", "alice", "s3cret:x")), 523, "5.7.10")
	wantReply(t, c.Mail("a@example.org", nil), 530, "5.7.0")
	c = dialStartTLS(t, r)
	if ok, mechs := c.Extension("AUTH"); !ok || mechs != "PLAIN LOGIN" {
		t.Errorf("AUTH after TLS: %v %q", ok, mechs)
	}
	wantReply(t, c.Mail("a@example.org", nil), 530, "5.7.0")
	wantReply(t, c.Auth(sasl.NewPlainClient("", "alice", "wrong")), 535, "5.7.8")
	c2 := dialStartTLS(t, r)
	if err := c2.Auth(sasl.NewLoginClient("alice", "s3cret:x")); err != nil {
		t.Fatalf("AUTH LOGIN: %v", err)
	}
	if err := send(c2, "a@example.org", []string{"b@example.com"}, simpleMsg); err != nil {
		t.Fatal(err)
	}
	rec := <-r.rec.msgCh
	if !rec.TLS || rec.AuthUser != "alice" || rec.Protocol != "ESMTPSA" || rec.TLSVersion != "TLS 1.3" || rec.TLSCipher == "" {
		t.Errorf("record %+v", rec)
	}
}

func TestAuthAnyPlainIdentity(t *testing.T) {
	r := start(t, Options{AuthAny: true, AllowInsecureAuth: true, AuthFailDelay: time.Millisecond})
	c := dial(t, r.addr)
	wantReply(t, c.Auth(sasl.NewPlainClient("mallory", "bob", "x")), 535, "5.7.8")
	c2 := dial(t, r.addr)
	if err := c2.Auth(sasl.NewPlainClient("", "bob", "anything")); err != nil {
		t.Fatal(err)
	}
	if err := send(c2, "", []string{"b@example.com"}, simpleMsg); err != nil {
		t.Fatal(err)
	}
	if rec := <-r.rec.msgCh; rec.AuthUser != "bob" || rec.MailFrom != "" || rec.Protocol != "ESMTPA" {
		t.Errorf("record %+v", rec)
	}
}

func TestImplicitTLS(t *testing.T) {
	r := start(t, Options{TLSOnConnect: true, Transcript: true})
	c, err := smtp.DialTLS(r.addr, tlsClientConfig(r))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered inside implicit TLS")
	}
	if err := send(c, "a@example.org", []string{"b@example.com"}, simpleMsg); err != nil {
		t.Fatal(err)
	}
	if rec := <-r.rec.msgCh; !rec.TLS || rec.Protocol != "ESMTPS" {
		t.Errorf("record %+v", rec)
	}
	c.Quit()
	r.result(t)
	_, _, lines := r.rec.snapshot()
	for _, l := range lines {
		if !l.TLS {
			t.Errorf("line outside TLS: %+v", l)
		}
	}
	if len(lines) == 0 || lines[0].Dir != ToClient || !strings.HasPrefix(lines[0].Text, "220 ") {
		t.Errorf("first line %+v", lines)
	}
}

func TestLMTPOverUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "lmtp.sock")
	r := start(t, Options{LMTP: true, Listen: []Addr{{Network: "unix", Address: sock}},
		RejectRcpt: []*regexp.Regexp{regexp.MustCompile("^no@")}})
	if r.addr != "unix:"+sock {
		t.Fatalf("addr %s", r.addr)
	}
	nc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClientLMTP(nc)
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("a@example.org", nil); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"x@example.com", "y@example.com"} {
		if err := c.Rcpt(to, nil); err != nil {
			t.Fatal(err)
		}
	}
	wantReply(t, c.Rcpt("no@example.com", nil), 550, "5.1.1")
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, simpleMsg)
	// LMTP: one reply per accepted recipient.
	if resp, err := w.CloseWithLMTPResponse(); err != nil || len(resp) != 2 {
		t.Fatalf("LMTP replies %v %v", resp, err)
	}
	rec := <-r.rec.msgCh
	if rec.Protocol != "LMTP" || rec.Remote != "" || !strings.HasPrefix(rec.Local, "unix:") || len(rec.RcptTo) != 2 {
		t.Errorf("record %+v", rec)
	}
	c.Quit()
	r.result(t)
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
}

func TestMaildir(t *testing.T) {
	md := filepath.Join(t.TempDir(), "Maildir")
	r := start(t, Options{Maildir: md})
	c := dial(t, r.addr)
	if err := send(c, "a@example.org", []string{"b@example.com"}, simpleMsg); err != nil {
		t.Fatal(err)
	}
	rec := <-r.rec.msgCh
	if filepath.Dir(rec.Path) != filepath.Join(md, "new") {
		t.Errorf("path %s", rec.Path)
	}
	if b, _ := os.ReadFile(rec.Path); string(b) != simpleMsg {
		t.Errorf("stored %q", b)
	}
	for _, sub := range []string{"tmp", "cur"} {
		if e, err := os.ReadDir(filepath.Join(md, sub)); err != nil || len(e) != 0 {
			t.Errorf("%s: %v %d entries", sub, err, len(e))
		}
	}
}

func TestExitAfter(t *testing.T) {
	r := start(t, Options{ExitAfter: 2})
	for i := 0; i < 2; i++ {
		c := dial(t, r.addr)
		if err := send(c, "a@example.org", []string{"b@example.com"}, simpleMsg); err != nil {
			t.Fatal(err)
		}
		if err := c.Quit(); err != nil {
			t.Fatalf("QUIT after the last message: %v", err)
		}
	}
	res := r.wait()
	if res.Messages != 2 || res.Reason != StopExitAfter {
		t.Fatalf("result %+v", res)
	}
	if _, err := net.Dial("tcp", r.addr); err == nil {
		t.Error("still accepting after --exit-after")
	}
}

func TestDeadline(t *testing.T) {
	r := start(t, Options{ExitAfter: 1, Deadline: time.Nanosecond})
	res := r.wait()
	if res.Messages != 0 || res.Reason != StopDeadline {
		t.Fatalf("result %+v", res)
	}
}

// TestShutdownFinishesMessageInFlight: a message whose DATA began before
// the signal is stored and acknowledged; an idle connection is told 421.
func TestShutdownFinishesMessageInFlight(t *testing.T) {
	dir := t.TempDir()
	r := start(t, Options{Dir: dir, Grace: time.Nanosecond})
	idle := dialRaw(t, r.addr)
	busy := dialRaw(t, r.addr)
	busy.write("EHLO c\r\n")
	busy.expect(250)
	busy.write("MAIL FROM:<a@example.org>\r\n")
	busy.expect(250)
	busy.write("RCPT TO:<b@example.com>\r\n")
	busy.expect(250)
	busy.write("DATA\r\n")
	busy.expect(354)
	busy.write("Subject: half\r\n\r\nfirst half\r\n")
	r.cancel()
	// The idle connection hears why it is being closed.
	if msg := idle.expect(421); !strings.HasPrefix(msg, "4.3.2 ") {
		t.Errorf("idle 421 %q", msg)
	}
	busy.write("second half\r\n.\r\n")
	busy.expect(250)
	res := r.wait()
	if res.Messages != 1 || res.Reason != StopSignal {
		t.Fatalf("result %+v", res)
	}
	e, _ := os.ReadDir(dir)
	if len(e) != 1 || strings.HasPrefix(e[0].Name(), ".") {
		t.Fatalf("dir %v", e)
	}
	b, _ := os.ReadFile(filepath.Join(dir, e[0].Name()))
	if string(b) != "Subject: half\r\n\r\nfirst half\r\nsecond half\r\n" {
		t.Errorf("stored %q", b)
	}
}

func TestNewMailRefusedDuringShutdown(t *testing.T) {
	r := start(t, Options{Grace: time.Hour})
	c := dialRaw(t, r.addr)
	c.write("EHLO c\r\n")
	c.expect(250)
	r.s.stop(StopSignal)
	c.write("MAIL FROM:<a@example.org>\r\n")
	if msg := c.expect(421); !strings.HasPrefix(msg, "4.3.2 ") {
		t.Errorf("421 %q", msg)
	}
	// And then the sink hangs up.
	if _, err := c.r.ReadLine(); err == nil {
		t.Error("connection still open after 421")
	}
}

func TestTranscript(t *testing.T) {
	r := start(t, Options{TLS: true, Users: map[string]string{"u": "p"}, Transcript: true})
	c := dialStartTLS(t, r)
	if err := c.Auth(sasl.NewLoginClient("u", "p")); err != nil {
		t.Fatal(err)
	}
	var long strings.Builder
	long.WriteString("Subject: long\r\n\r\n")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&long, "line %d\r\n", i)
	}
	if err := send(c, "a@example.org", []string{"b@example.com"}, long.String()); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	r.result(t)
	_, _, lines := r.rec.snapshot()
	var b strings.Builder
	for _, l := range lines {
		m := map[Dir]string{FromClient: "C", ToClient: "S", Note: "N"}[l.Dir]
		if l.TLS {
			m += "~"
		}
		fmt.Fprintf(&b, "%s %s\n", m, l.Text)
	}
	got := b.String()
	for _, want := range []string{
		"S 220 localhost ESMTP Service Ready\n",
		"C EHLO localhost\n",
		"C STARTTLS\nS 220 2.0.0 Ready to start TLS\nC~ EHLO localhost\n",
		// go-smtp's client sends the user name as an initial response.
		"C~ AUTH LOGIN ********\nS~ 334 UGFzc3dvcmQ6\nC~ ********\nS~ 235 ",
		"S~ 354 ",
		"C~ Subject: long\n",
		"C~ line 37\nN~ 62 more lines of message data not shown\nC~ .\nS~ 250 2.0.0 OK: queued\n",
		"C~ QUIT\nS~ 221 2.0.0 Bye\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "dTpw") || strings.Contains(got, "cA==") {
		t.Errorf("transcript shows AUTH secrets:\n%s", got)
	}
}

func TestTranscriptBDAT(t *testing.T) {
	r := start(t, Options{Transcript: true})
	rc := dialRaw(t, r.addr)
	rc.write("EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n")
	rc.expect(250)
	rc.expect(250)
	rc.expect(250)
	rc.write("BDAT 12\r\nSubject: x\r\n")
	rc.expect(250)
	rc.write("BDAT 4 LAST\r\nbodyQUIT\r\n")
	rc.expect(250)
	rc.expect(221)
	r.result(t)
	_, _, lines := r.rec.snapshot()
	var texts []string
	for _, l := range lines {
		if l.Dir == FromClient {
			texts = append(texts, l.Text)
		}
	}
	want := "EHLO c|MAIL FROM:<a@example.org>|RCPT TO:<b@example.com>|BDAT 12|Subject: x|BDAT 4 LAST|body|QUIT"
	if got := strings.Join(texts, "|"); got != want {
		t.Errorf("client lines\n got %s\nwant %s", got, want)
	}
}

func TestNewRejectsBadCombinations(t *testing.T) {
	for _, o := range []Options{
		{Dir: "a", Maildir: "b"},
		{RejectData: true, TempfailData: true},
		{Users: map[string]string{"u": "p"}},
		{AuthAny: true, Users: map[string]string{"u": "p"}, TLS: true},
		{CertFile: "c.pem"},
		{CertFile: "c.pem", KeyFile: "k.pem"},
		{SaveCert: "x.pem"},
		{Hostname: "two words"},
		{MaxRcpts: -1},
		{MaxConns: -1},
		{ExitAfter: -1},
		{TLS: true, CertFile: "/nonexistent/c.pem", KeyFile: "/nonexistent/k.pem"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestListenInUse(t *testing.T) {
	r := start(t, Options{})
	s, err := New(Options{Listen: []Addr{{Network: "tcp", Address: r.addr}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err == nil {
		t.Fatal("second Listen on the same port succeeded")
	}
}

func TestReadyFile(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	r := start(t, Options{ReadyFile: ready, Listen: []Addr{{Network: "tcp", Address: "127.0.0.1:0"}, {Network: "tcp", Address: "127.0.0.1:0"}}})
	b, err := os.ReadFile(ready)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(b)); len(got) != 2 || got[0] != r.addr {
		t.Errorf("ready file %q", b)
	}
	r.result(t)
	if _, err := os.Stat(ready); err == nil {
		t.Error("ready file left after exit")
	}
}

func TestSaveCert(t *testing.T) {
	pem := filepath.Join(t.TempDir(), "cert.pem")
	r := start(t, Options{TLS: true, SaveCert: pem})
	b, err := os.ReadFile(pem)
	if err != nil || !strings.Contains(string(b), "BEGIN CERTIFICATE") {
		t.Fatalf("saved cert: %v %q", err, b)
	}
	if r.rec.listen.Cert == nil || r.rec.listen.Cert.Saved != pem || !r.rec.listen.Cert.SelfSigned {
		t.Errorf("listening %+v", r.rec.listen)
	}
}

// TestShutdownInsideTLS: the 421 to an idle client after STARTTLS goes
// through TLS, not as plaintext into the encrypted stream.
func TestShutdownInsideTLS(t *testing.T) {
	r := start(t, Options{TLS: true, Grace: time.Nanosecond, Transcript: true})
	rc := dialRaw(t, r.addr)
	rc.write("EHLO c\r\nSTARTTLS\r\n")
	rc.expect(250)
	rc.expect(220)
	tc := tls.Client(rc.c, tlsClientConfig(r))
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	trc := &rawConn{t: t, c: tc, r: textproto.NewReader(bufio.NewReader(tc))}
	trc.write("EHLO c\r\n")
	trc.expect(250)
	r.cancel()
	if msg := trc.expect(421); !strings.HasPrefix(msg, "4.3.2 ") {
		t.Errorf("421 %q", msg)
	}
	r.wait()
	_, _, lines := r.rec.snapshot()
	last := lines[len(lines)-1]
	if last.Code != 421 || !last.TLS {
		t.Errorf("last transcript line %+v", last)
	}
}

func TestDelayConnect(t *testing.T) {
	for _, full := range []bool{true, false} {
		r := startHook(t, Options{Delays: map[string]time.Duration{"connect": time.Minute}}, func(s *Sink) {
			s.sleepHook = func(point string, d time.Duration) bool {
				if point != "connect" || d != time.Minute {
					t.Errorf("delay %s %s", point, d)
				}
				return full // false: shutdown cut the delay short
			}
		})
		nc, err := net.Dial("tcp", r.addr)
		if err != nil {
			t.Fatal(err)
		}
		code, msg, err := textproto.NewReader(bufio.NewReader(nc)).ReadResponse(0)
		nc.Close()
		want := 220
		if !full {
			want = 421
		}
		if code != want {
			t.Errorf("full=%v: banner %d %q %v, want %d", full, code, msg, err, want)
		}
	}
}

func TestLongLine(t *testing.T) {
	r := start(t, Options{})
	c := dial(t, r.addr)
	// Lines far over RFC 5321's 1000 bytes are stored as they came.
	ok := "Subject: x\r\n\r\n" + strings.Repeat("x", 3000) + "\r\n"
	if err := send(c, "a@example.org", []string{"b@example.com"}, ok); err != nil {
		t.Fatal(err)
	}
	if rec := <-r.rec.msgCh; rec.Size != int64(len(ok)) {
		t.Errorf("size %d", rec.Size)
	}
	err := send(c, "a@example.org", []string{"b@example.com"}, "Subject: x\r\n\r\n"+strings.Repeat("x", MaxLineLength+1)+"\r\n")
	wantReply(t, err, 554, "5.6.0")
	// BDAT has no line limit, even when the chunk comes with its command.
	rc := dialRaw(t, r.addr)
	long := "Subject: x\r\n\r\n" + strings.Repeat("\x00", 3*MaxLineLength) + "\r\n"
	rc.write(fmt.Sprintf("EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nBDAT %d LAST\r\n%s", len(long), long))
	for i := 0; i < 4; i++ {
		rc.expect(250)
	}
	if rec := <-r.rec.msgCh; rec.Size != int64(len(long)) {
		t.Errorf("size %d", rec.Size)
	}
}
