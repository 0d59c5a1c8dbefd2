package send

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/auth"
	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
	"github.com/smtpx/smtpx/internal/smtptest"
	"github.com/smtpx/smtpx/internal/target"
	"github.com/smtpx/smtpx/internal/term"
)

// bytesSource is message content held in memory.
type bytesSource struct {
	b     []byte
	utf8h bool
}

func (s bytesSource) Size() int64 { return int64(len(s.b)) }
func (s bytesSource) EightBit() bool {
	for _, c := range s.b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}
func (s bytesSource) UTF8Headers() bool { return s.utf8h }
func (s bytesSource) Open() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(s.b)), nil
}

const msg = "Subject: hi\r\n\r\n.dot line\r\nbody\r\n"

func fake(t *testing.T, script string) *smtptest.Server {
	t.Helper()
	s, err := smtptest.Start(script)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// testOptions are a send's options with its recipients, as the send verb
// keeps them (the envelope beside the options).
type testOptions struct {
	*Options
	Rcpts []Rcpt
}

func opts(addr string, rcpts ...string) testOptions {
	o := testOptions{Options: &Options{
		Session:  session.Options{Address: addr, Timeout: 2 * time.Second},
		Helo:     "client.test",
		From:     "a@test",
		Source:   bytesSource{b: []byte(msg)},
		Pipeline: true, Chunking: true,
		TLS: target.TLSOpportunistic,
	}}
	for _, r := range rcpts {
		o.Rcpts = append(o.Rcpts, Rcpt{Mailbox: r})
	}
	return o
}

func TestPipelinedBytesExact(t *testing.T) {
	srv := fake(t, `
S: 220 mx ESMTP
C: EHLO client.test
S: 250-mx
S: 250-PIPELINING
S: 250 SIZE 1000
C: MAIL FROM:<a@test> SIZE=32
C: RCPT TO:<b@test>
C: RCPT TO:<c@test>
C: DATA
S: 250 2.1.0 ok
S: 250 2.1.5 ok
S: 550 5.1.1 no such user
S: 354 go ahead
data
C: QUIT
S: 250 2.0.0 Ok: queued as 4FzXyZ
S: 221 2.0.0 bye
`)
	o := opts(srv.Addr(), "b@test", "c@test")
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	srv.Close()
	want := "EHLO client.test\r\nMAIL FROM:<a@test> SIZE=32\r\nRCPT TO:<b@test>\r\nRCPT TO:<c@test>\r\nDATA\r\n" +
		"Subject: hi\r\n\r\n..dot line\r\nbody\r\n.\r\nQUIT\r\n"
	if got := srv.Received(); got != want {
		t.Fatalf("client sent\n%q\nwant\n%q", got, want)
	}
	if e := srv.Errors(); len(e) > 0 {
		t.Fatal(e)
	}
	if !tx.Pipelined || tx.QueueID != "4FzXyZ" {
		t.Errorf("pipelined=%v queue=%q", tx.Pipelined, tx.QueueID)
	}
	if !tx.Rcpts[0].Accepted || tx.Rcpts[1].Accepted || tx.Rcpts[1].Reply.Code != 550 {
		t.Errorf("rcpts %+v", tx.Rcpts)
	}
	code, err := Exit([]*Transaction{tx}, false)
	if code != exitcode.Permanent || err == nil {
		t.Errorf("exit %d %v", code, err)
	}
	if code, _ := Exit([]*Transaction{tx}, true); code != exitcode.OK {
		t.Errorf("allow-partial exit %d", code)
	}
}

func TestChunkingOneFlight(t *testing.T) {
	body := msg
	srv := fake(t, `
S: 220 mx ESMTP
C: EHLO client.test
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
C: MAIL FROM:<a@test>
C: RCPT TO:<b@test>
C: BDAT 32 LAST
C: Subject: hi
C:
C: .dot line
C: body
C: QUIT
S: 250 ok
S: 250 ok
S: 250 2.0.0 queued as CHUNK1
S: 221 bye
`)
	o := opts(srv.Addr(), "b@test")
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	srv.Close()
	want := "EHLO client.test\r\nMAIL FROM:<a@test>\r\nRCPT TO:<b@test>\r\nBDAT 32 LAST\r\n" + body + "QUIT\r\n"
	if got := srv.Received(); got != want {
		t.Fatalf("client sent\n%q\nwant\n%q", got, want)
	}
	if !tx.Chunked || tx.QueueID != "CHUNK1" || !tx.Rcpts[0].Accepted {
		t.Errorf("%+v", tx)
	}
}

func TestSequentialWithoutPipelining(t *testing.T) {
	srv := fake(t, `
S: 220 mx
C: EHLO client.test
S: 250 mx
C: MAIL FROM:<a@test>
S: 250 ok
C: RCPT TO:<b@test>
S: 250 ok
C: DATA
S: 354 go
data
S: 250 ok id=1abc-0001
C: QUIT
S: 221 bye
`)
	o := opts(srv.Addr(), "b@test")
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	if tx.Err != nil || tx.QueueID != "1abc-0001" || tx.Pipelined {
		t.Fatalf("%v %q", tx.Err, tx.QueueID)
	}
	if e := srv.Errors(); len(e) > 0 {
		t.Fatal(e)
	}
}

func TestFailuresAndExitClasses(t *testing.T) {
	tests := []struct {
		name   string
		script string
		exit   int
	}{
		{"mail 451", "S: 220 mx\nC~ EHLO\nS: 250 mx\nC~ MAIL\nS: 451 4.3.0 try later\nC: QUIT\nS: 221 bye\n", exitcode.Transient},
		{"rcpt 550 only", "S: 220 mx\nC~ EHLO\nS: 250 mx\nC~ MAIL\nS: 250 ok\nC~ RCPT\nS: 550 5.1.1 no\nC: QUIT\nS: 221 bye\n", exitcode.Permanent},
		{"data 554", "S: 220 mx\nC~ EHLO\nS: 250 mx\nC~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\nS: 554 5.7.1 no\nC: QUIT\nS: 221 bye\n", exitcode.Permanent},
		{"end 452", "S: 220 mx\nC~ EHLO\nS: 250 mx\nC~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\nS: 354 go\ndata\nS: 452 4.3.1 full\nC: QUIT\nS: 221 bye\n", exitcode.Transient},
		{"dropped after dot", "S: 220 mx\nC~ EHLO\nS: 250 mx\nC~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\nS: 354 go\ndata\nclose\n", exitcode.Network},
		{"STARTTLS refused", "S: 220 mx\nC~ EHLO\nS: 250-mx\nS: 250 STARTTLS\nC: STARTTLS\nS: 454 4.7.0 not now\nC: QUIT\nS: 221 bye\n", exitcode.TLS},
	}
	for _, tt := range tests {
		srv := fake(t, tt.script)
		o := opts(srv.Addr(), "b@test")
		tx := Deliver(context.Background(), o.Options, o.Rcpts)
		if code, _ := Exit([]*Transaction{tx}, false); code != tt.exit {
			t.Errorf("%s: exit %d, want %d (%v)", tt.name, code, tt.exit, tx.Err)
		}
		if e := srv.Errors(); len(e) > 0 {
			t.Errorf("%s: %v", tt.name, e)
		}
	}
}

func TestSizeRefusedLocally(t *testing.T) {
	srv := fake(t, "S: 220 mx\nC~ EHLO\nS: 250-mx\nS: 250 SIZE 10\nC: QUIT\nS: 221 bye\n")
	o := opts(srv.Addr(), "b@test")
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	if code, err := Exit([]*Transaction{tx}, false); code != exitcode.Permanent || !strings.Contains(err.Error(), "SIZE limit of 10") {
		t.Fatalf("%d %v", code, err)
	}
	if strings.Contains(srv.Received(), "MAIL") {
		t.Error("MAIL was sent for an oversized message")
	}
}

func TestSMTPUTF8Needed(t *testing.T) {
	srv := fake(t, "S: 220 mx\nC~ EHLO\nS: 250 mx\nC: QUIT\nS: 221 bye\n")
	o := opts(srv.Addr())
	o.Rcpts = []Rcpt{{Mailbox: "jürgen@test", UTF8: true}}
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	if code, err := Exit([]*Transaction{tx}, false); code != exitcode.Permanent || !strings.Contains(err.Error(), "SMTPUTF8") {
		t.Fatalf("%d %v", code, err)
	}
	srv2 := fake(t, "S: 220 mx\nC~ EHLO\nS: 250-mx\nS: 250 SMTPUTF8\nC: MAIL FROM:<a@test> SMTPUTF8\nS: 250 ok\nC: RCPT TO:<jürgen@test>\nS: 250 ok\nC: DATA\nS: 354 go\ndata\nS: 250 ok\nC: QUIT\nS: 221 bye\n")
	o = opts(srv2.Addr())
	o.Rcpts = []Rcpt{{Mailbox: "jürgen@test", UTF8: true}}
	tx = Deliver(context.Background(), o.Options, o.Rcpts)
	if tx.Err != nil || len(srv2.Errors()) > 0 {
		t.Fatal(tx.Err, srv2.Errors())
	}
}

func TestDSNAndEightBit(t *testing.T) {
	srv := fake(t, `
S: 220 mx
C~ EHLO
S: 250-mx
S: 250-DSN
S: 250 8BITMIME
C: MAIL FROM:<a@test> BODY=8BITMIME RET=HDRS ENVID=id+2B1
S: 250 ok
C: RCPT TO:<b@test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@test
S: 250 ok
C: DATA
S: 354 go
data
S: 250 ok
C: QUIT
S: 221 bye
`)
	o := opts(srv.Addr(), "b@test")
	o.Source = bytesSource{b: []byte("Subject: x\r\n\r\ncaf\xc3\xa9\r\n")}
	o.DSN = DSN{Notify: "SUCCESS,FAILURE", Ret: "HDRS", EnvID: "id+1", ORcpt: true}
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	if tx.Err != nil || len(srv.Errors()) > 0 {
		t.Fatal(tx.Err, srv.Errors())
	}
}

func TestLMTPPerRecipient(t *testing.T) {
	srv := fake(t, `
S: 220 lmtp
C: LHLO client.test
S: 250-lmtp
S: 250 PIPELINING
C~ MAIL
C~ RCPT
C~ RCPT
C: DATA
S: 250 ok
S: 250 ok
S: 250 ok
S: 354 go
data
C: QUIT
S: 250 2.0.0 <b@test> delivered
S: 452 4.2.2 <c@test> mailbox full
S: 221 bye
`)
	o := opts(srv.Addr(), "b@test", "c@test")
	o.Session.LMTP = true
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	if e := srv.Errors(); len(e) > 0 {
		t.Fatal(e)
	}
	if !tx.Rcpts[0].Accepted || tx.Rcpts[1].Accepted || tx.Rcpts[1].Data.Code != 452 {
		t.Fatalf("%+v", tx.Rcpts)
	}
	if code, _ := Exit([]*Transaction{tx}, false); code != exitcode.Transient {
		t.Errorf("exit %d", code)
	}
}

func TestQuitAfter(t *testing.T) {
	for _, tt := range []struct {
		point, script, sent string
	}{
		{"banner", "S: 220 mx\nC: QUIT\nS: 221 bye\n", "QUIT\r\n"},
		{"ehlo", "S: 220 mx\nC~ EHLO\nS: 250 mx\nC: QUIT\nS: 221 bye\n", "EHLO client.test\r\nQUIT\r\n"},
		{"rcpt", "S: 220 mx\nC~ EHLO\nS: 250-mx\nS: 250 PIPELINING\nC~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: QUIT\nS: 221 bye\n",
			"EHLO client.test\r\nMAIL FROM:<a@test>\r\nRCPT TO:<b@test>\r\nQUIT\r\n"},
	} {
		srv := fake(t, tt.script)
		o := opts(srv.Addr(), "b@test")
		o.QuitAfter = tt.point
		tx := Deliver(context.Background(), o.Options, o.Rcpts)
		srv.Close()
		if tx.Err != nil || tx.Stopped != tt.point || srv.Received() != tt.sent {
			t.Errorf("%s: err %v stopped %q sent %q", tt.point, tx.Err, tx.Stopped, srv.Received())
		}
		if code, _ := Exit([]*Transaction{tx}, false); code != 0 {
			t.Errorf("%s: exit %d", tt.point, code)
		}
	}
}

func TestSTARTTLSAndAuthAgainstGoSMTP(t *testing.T) {
	cert, _ := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1"}})
	p, err := smtptest.StartPeer(smtptest.PeerOptions{TLS: cert.ServerConfig(), Users: map[string]string{"u": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	o := opts(p.Addr(), "b@test")
	o.Session.TLSConfig = &tls.Config{RootCAs: cert.Pool()}
	o.TLS = target.TLSRequired
	o.Auth = &AuthOptions{Creds: auth.Credentials{User: "u", Password: "pw"}}
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	if tx.Err != nil {
		t.Fatal(tx.Err)
	}
	msgs := p.Messages()
	if len(msgs) != 1 || string(msgs[0].Data) != msg || !msgs[0].TLS || msgs[0].User != "u" || tx.Mech != "PLAIN" {
		t.Fatalf("%+v mech %s", msgs, tx.Mech)
	}
}

func TestQueueID(t *testing.T) {
	for text, want := range map[string]string{
		"2.0.0 Ok: queued as 4FzXyZ1234":                                            "4FzXyZ1234",
		"OK id=1rAbCd-000123-4X":                                                    "1rAbCd-000123-4X",
		"2.0.0 OK  1700000000 a1si123.45 - gsmtp":                                   "a1si123.45",
		"Ok: queued as <abc@mailpit>":                                               "abc@mailpit",
		"2.6.0 <m1@x.example> [InternalId=1, Hostname=EX] Queued mail for delivery": "m1@x.example",
		"Ok": "",
	} {
		if got := QueueID(text); got != want {
			t.Errorf("QueueID(%q) = %q, want %q", text, got, want)
		}
	}
}

// A partial delivery exits with the worst class among the failures (5 over
// 4), whatever order the recipients come in, and marks each recipient so a
// retry can target only the transient ones.
func TestPartialDeliveryWorstClass(t *testing.T) {
	rcpt := map[string]string{"a": "S: 450 4.2.1 try later", "b": "S: 550 5.1.1 no such user", "c": "S: 250 2.1.5 ok"}
	want := map[string]string{"a": StatusRetry, "b": StatusFailed, "c": StatusAccepted}
	for _, order := range [][]string{{"a", "b", "c"}, {"c", "b", "a"}, {"b", "a", "c"}, {"c", "a", "b"}} {
		script := "S: 220 mx\nC~ EHLO\nS: 250 mx\nC~ MAIL\nS: 250 ok\n"
		var addrs []string
		for _, r := range order {
			script += "C: RCPT TO:<" + r + "@test>\n" + rcpt[r] + "\n"
			addrs = append(addrs, r+"@test")
		}
		script += "C: DATA\nS: 354 go\ndata\nS: 250 queued\nC: QUIT\nS: 221 bye\nclose\n"
		srv := fake(t, script)
		o := opts(srv.Addr(), addrs...)
		tx := Deliver(context.Background(), o.Options, o.Rcpts)
		code, err := Exit([]*Transaction{tx}, false)
		if code != exitcode.Permanent {
			t.Errorf("order %v: exit %d (%v), want 5", order, code, err)
		}
		for i, r := range tx.Rcpts {
			if got := tx.RcptStatus(i); got != want[r.Mailbox[:1]] {
				t.Errorf("order %v: %s is %q, want %q", order, r.Mailbox, got, want[r.Mailbox[:1]])
			}
		}
		var b strings.Builder
		WriteSummary(&b, term.NewPalette(false), []*Transaction{tx})
		if !strings.Contains(b.String(), "=== partial delivery: 1 of 3 recipients got the message (c@test); retry: a@test; failed: b@test\n") {
			t.Errorf("order %v: summary\n%s", order, b.String())
		}
	}
}
