package sink

import (
	"bufio"
	"crypto/tls"
	"net/textproto"
	"strings"
	"testing"

	smtp "github.com/smtpx/smtpx/internal/third_party/go-smtp"
)

// Commands out of sequence are answered 503 (RFC 5321 §3.3, §4.3.2), not
// go-smtp's 502 "not implemented" (issue 17), in plaintext and inside TLS.
func TestOutOfSequence503(t *testing.T) {
	r := start(t, Options{TLS: true})
	rc := dialRaw(t, r.addr)
	rc.write("MAIL FROM:<a@example.org>\r\n")
	rc.expect(503)
	rc.write("EHLO client.test\r\n")
	rc.expect(250)
	rc.write("RCPT TO:<b@example.com>\r\n")
	rc.expect(503)
	rc.write("DATA\r\n")
	rc.expect(503)
	rc.write("BDAT 5 LAST\r\nhello")
	rc.expect(503)
	rc.write("MAIL FROM:<a@example.org>\r\n")
	rc.expect(250)
	rc.write("MAIL FROM:<c@example.org>\r\n")
	rc.expect(503)
	rc.write("DATA\r\n")
	rc.expect(503)
	rc.write("QUIT\r\n")
	rc.expect(221)

	// Inside TLS, where nothing could rewrite go-smtp's replies on the
	// wire: the fix is in the server itself.
	rc = dialRaw(t, r.addr)
	rc.write("EHLO client.test\r\nSTARTTLS\r\n")
	rc.expect(250)
	rc.expect(220)
	tc := tls.Client(rc.c, tlsClientConfig(r))
	rc.c, rc.r = tc, textproto.NewReader(bufio.NewReader(tc))
	rc.write("EHLO client.test\r\n")
	rc.expect(250)
	rc.write("RCPT TO:<b@example.com>\r\n")
	rc.expect(503)
	rc.write("STARTTLS\r\n")
	rc.expect(503)
	rc.write("QUIT\r\n")
	rc.expect(221)
}

// A message over --max-size is refused, logged and the reply names the
// flag, whichever command goes over: MAIL with SIZE=, a BDAT chunk, or
// the DATA content (issue 17: the first two were neither logged nor named).
func TestMaxSizeRefusalsLogged(t *testing.T) {
	r := start(t, Options{MaxSize: 100})
	c := dial(t, r.addr)
	err := c.Mail("a@example.org", &smtp.MailOptions{Size: 5000})
	wantReply(t, err, 552, "5.3.4")
	if !strings.Contains(err.Error(), "--max-size") {
		t.Errorf("MAIL reply %q does not name --max-size", err)
	}

	rc := dialRaw(t, r.addr)
	rc.write("EHLO client.test\r\nMAIL FROM:<b@example.org>\r\nRCPT TO:<x@example.com>\r\n")
	rc.expect(250)
	rc.expect(250)
	rc.expect(250)
	body := strings.Repeat("x", 150)
	rc.write("BDAT 150 LAST\r\n" + body)
	if msg := rc.expect(552); !strings.Contains(msg, "--max-size") {
		t.Errorf("BDAT reply %q does not name --max-size", msg)
	}

	c = dial(t, r.addr)
	err = send(c, "d@example.org", []string{"x@example.com"}, "Subject: x\r\n\r\n"+body+"\r\n")
	wantReply(t, err, 552, "5.3.4")
	if !strings.Contains(err.Error(), "--max-size") {
		t.Errorf("DATA reply %q does not name --max-size", err)
	}

	_, refusals, _ := r.rec.snapshot()
	want := []struct{ stage, arg string }{{"MAIL", "a@example.org"}, {"DATA", "b@example.org"}, {"DATA", "d@example.org"}}
	if len(refusals) != len(want) {
		t.Fatalf("refusals %+v", refusals)
	}
	for i, w := range want {
		f := refusals[i]
		if f.Stage != w.stage || f.Arg != w.arg || f.Code != 552 || f.Enhanced != "5.3.4" || f.Reason != "--max-size" {
			t.Errorf("refusal %d: %+v, want %s %s", i, f, w.stage, w.arg)
		}
	}
}
