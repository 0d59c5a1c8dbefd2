package send

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/message"
	"github.com/smtpx/smtpx/internal/session"
)

// 8-bit content to a server without 8BITMIME (RFC 6152) stops before MAIL
// with exit 5 and a hint; --force-8bit sends it anyway, saying so
// (issue 17).
func TestEightBitWithout8BITMIME(t *testing.T) {
	const eight = "Subject: x\r\n\r\ncaf\xc3\xa9\r\n"
	srv := fake(t, "S: 220 mx\nC~ EHLO\nS: 250-mx\nS: 250 PIPELINING\nC: QUIT\nS: 221 bye\n")
	o := opts(srv.Addr(), "b@test")
	o.Source = message.NewDataString(eight)
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	code, err := Exit([]*Transaction{tx}, false)
	var xe *exitcode.Error
	if code != exitcode.Permanent || !strings.Contains(err.Error(), "8BITMIME") || !errors.As(err, &xe) || !strings.Contains(xe.Hint, "--force-8bit") {
		t.Fatalf("%d %v", code, err)
	}
	if strings.Contains(srv.Received(), "MAIL") {
		t.Error("MAIL was sent")
	}

	srv = fake(t, "S: 220 mx\nC~ EHLO\nS: 250 mx\nC: MAIL FROM:<a@test>\nS: 250 ok\nC: RCPT TO:<b@test>\nS: 250 ok\nC: DATA\nS: 354 go\ndata\nS: 250 ok\nC: QUIT\nS: 221 bye\n")
	o = opts(srv.Addr(), "b@test")
	o.Source = message.NewDataString(eight)
	o.Force8Bit = true
	var infos []string
	o.Session.Observer = func(e session.Event) {
		if e.Dir == session.Info {
			infos = append(infos, e.Line)
		}
	}
	tx = Deliver(context.Background(), o.Options, o.Rcpts)
	if tx.Err != nil || len(srv.Errors()) > 0 {
		t.Fatal(tx.Err, srv.Errors())
	}
	if !strings.Contains(srv.Received(), "caf\xc3\xa9\r\n") {
		t.Errorf("the 8-bit body did not go as given: %q", srv.Received())
	}
	if count(infos, "8BITMIME: sent anyway (--force-8bit)") != 1 {
		t.Errorf("info lines %q", infos)
	}
}

// A line over 998 octets goes as given, and the transcript says so once.
func TestLongLinesSaid(t *testing.T) {
	long := strings.Repeat("x", 1200)
	srv := fake(t, "S: 220 mx\nC~ EHLO\nS: 250 mx\nC~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\nS: 354 go\ndata\nS: 250 ok\nC: QUIT\nS: 221 bye\n")
	o := opts(srv.Addr(), "b@test")
	o.Source = message.NewDataString("Subject: x\n\n" + long + "\nshort\n" + long + "\n")
	var infos []string
	o.Session.Observer = func(e session.Event) {
		if e.Dir == session.Info {
			infos = append(infos, e.Line)
		}
	}
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	if tx.Err != nil || len(srv.Errors()) > 0 {
		t.Fatal(tx.Err, srv.Errors())
	}
	if !strings.Contains(srv.Received(), "\r\n"+long+"\r\nshort\r\n") {
		t.Error("the long line was not sent as given")
	}
	if count(infos, "the message has 2 lines over 998 octets") != 1 {
		t.Errorf("info lines %q", infos)
	}
	if j := ToJSON(o.Options, []*Transaction{tx}, 0, nil, "", nil, false); j.LongLines != 2 {
		t.Errorf("long_lines %d, want 2", j.LongLines)
	}
}

// count is how many of lines contain s.
func count(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}
