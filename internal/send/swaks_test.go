package send

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/session"
)

func attrs(t *testing.T, verb string, v ...string) []Attr {
	t.Helper()
	a, err := ParseAttrs(verb, v)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestParseAttrs(t *testing.T) {
	got := attrs(t, "XCLIENT", "name=spike.example.org,ADDR=2001:db8::1", "HELO=x+y=z, PROTO=esmtp,PORT=25,LOGIN=[UNAVAILABLE]")
	if cmd := AttrCmd("XCLIENT", got); cmd != "XCLIENT NAME=spike.example.org ADDR=IPV6:2001:db8::1 HELO=x+2By+3Dz PROTO=ESMTP PORT=25 LOGIN=[UNAVAILABLE]" {
		t.Errorf("command %q", cmd)
	}
	got = attrs(t, "XFORWARD", "ADDR=IPV6:::ffff:192.0.2.1,SOURCE=remote,IDENT=queue 42")
	if cmd := AttrCmd("XFORWARD", got); cmd != "XFORWARD ADDR=192.0.2.1 SOURCE=REMOTE IDENT=queue+2042" {
		t.Errorf("command %q", cmd)
	}
	for _, bad := range []struct{ verb, v string }{
		{"XCLIENT", "NAME"},
		{"XCLIENT", "COLOR=red"},
		{"XCLIENT", "IDENT=x"},
		{"XFORWARD", "LOGIN=x"},
		{"XCLIENT", "ADDR=mx.example.org"},
		{"XCLIENT", "ADDR=fe80::1%eth0"},
		{"XCLIENT", "PORT=65536"},
		{"XCLIENT", "PORT=025"},
		{"XCLIENT", "PROTO=LMTP"},
		{"XFORWARD", "SOURCE=ELSEWHERE"},
		{"XCLIENT", "NAME=a b"},
		{"XCLIENT", "HELO="},
		{"XCLIENT", "HELO=a\x01b"},
		{"XCLIENT", "NAME=" + strings.Repeat("a", 256)},
		{"XCLIENT", "NAME=a,NAME=b"},
	} {
		_, err := ParseAttrs(bad.verb, []string{bad.v})
		var xe *exitcode.Error
		if !errors.As(err, &xe) || xe.Code != exitcode.Usage || xe.Hint == "" {
			t.Errorf("%s %q: %v", bad.verb, bad.v, err)
		}
	}
}

// XCLIENT goes after EHLO, with xtext values; the server's 220 is a new
// greeting, so EHLO is said again before the transaction.
func TestXClient(t *testing.T) {
	srv := fake(t, `
S: 220 mx ESMTP
C: EHLO client.test
S: 250-mx
S: 250 XCLIENT NAME ADDR PROTO HELO LOGIN
C: XCLIENT NAME=spike.example.org ADDR=192.0.2.7 HELO=x+2By
S: 220 mx ESMTP hello again
C: EHLO client.test
S: 250-mx
S: 250 XCLIENT NAME ADDR PROTO HELO LOGIN
C: MAIL FROM:<a@test>
S: 250 ok
C: RCPT TO:<b@test>
S: 250 ok
C: DATA
S: 354 go
data
S: 250 queued
C: QUIT
S: 221 bye
`)
	o := opts(srv.Addr(), "b@test")
	o.XClient = attrs(t, "XCLIENT", "NAME=spike.example.org,ADDR=192.0.2.7,HELO=x+y")
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	srv.Close()
	if e := srv.Errors(); len(e) > 0 || tx.Err != nil {
		t.Fatal(e, tx.Err)
	}
	if tx.XClient == nil || tx.XClient.Code != 220 || !tx.Rcpts[0].Accepted {
		t.Errorf("xclient %v rcpts %+v", tx.XClient, tx.Rcpts)
	}
}

// XCLIENT or one of its attributes not offered: refused here (exit 1)
// before anything is sent that the server would refuse; with
// --xclient-optional the message goes without it.
func TestXClientNotOffered(t *testing.T) {
	for _, tc := range []struct{ ehlo, attrs string }{
		{"S: 250 PIPELINING", "NAME=a.test"},
		{"S: 250 XCLIENT NAME HELO", "NAME=a.test,LOGIN=bob"},
	} {
		srv := fake(t, "S: 220 mx\nC: EHLO client.test\nS: 250-mx\n"+tc.ehlo+"\nC: QUIT\nS: 221 bye\n")
		o := opts(srv.Addr(), "b@test")
		o.XClient = attrs(t, "XCLIENT", tc.attrs)
		tx := Deliver(context.Background(), o.Options, o.Rcpts)
		srv.Close()
		var xe *exitcode.Error
		if !errors.As(tx.Err, &xe) || xe.Code != exitcode.Check || xe.Hint == "" {
			t.Errorf("%s: %v", tc.ehlo, tx.Err)
		}
		if e := srv.Errors(); len(e) > 0 {
			t.Errorf("%s: %v", tc.ehlo, e)
		}

		srv = fake(t, "S: 220 mx\nC: EHLO client.test\nS: 250-mx\n"+tc.ehlo+"\nC~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\nS: 354 go\ndata\nS: 250 ok\nC: QUIT\nS: 221 bye\n")
		o = opts(srv.Addr(), "b@test")
		o.XClient, o.XClientOptional = attrs(t, "XCLIENT", tc.attrs), true
		var infos []string
		o.Session.Observer = func(e session.Event) {
			if e.Dir == session.Info {
				infos = append(infos, e.Line)
			}
		}
		tx = Deliver(context.Background(), o.Options, o.Rcpts)
		srv.Close()
		if tx.Err != nil || len(srv.Errors()) > 0 || !tx.Rcpts[0].Accepted {
			t.Errorf("optional %s: %v %v", tc.ehlo, tx.Err, srv.Errors())
		}
		if !strings.Contains(strings.Join(infos, "\n"), "sent without it (--xclient-optional)") {
			t.Errorf("optional %s: info %q", tc.ehlo, infos)
		}
	}
}

// A refused XCLIENT is the reply that ends the send.
func TestXClientRefused(t *testing.T) {
	srv := fake(t, "S: 220 mx\nC: EHLO client.test\nS: 250-mx\nS: 250 XCLIENT NAME\nC: XCLIENT NAME=a.test\nS: 550 5.7.0 not authorized\nC: QUIT\nS: 221 bye\n")
	o := opts(srv.Addr(), "b@test")
	o.XClient = attrs(t, "XCLIENT", "NAME=a.test")
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	srv.Close()
	if exitcode.For(tx.Err) != exitcode.Permanent || len(srv.Errors()) > 0 {
		t.Errorf("%v %v", tx.Err, srv.Errors())
	}
}

// XFORWARD goes before MAIL, on its own even with PIPELINING.
func TestXForward(t *testing.T) {
	srv := fake(t, `
S: 220 mx ESMTP
C: EHLO client.test
S: 250-mx
S: 250-PIPELINING
S: 250 XFORWARD NAME ADDR PROTO HELO SOURCE
C: XFORWARD NAME=relay.example.org ADDR=IPV6:2001:db8::5 SOURCE=REMOTE
S: 250 2.0.0 Ok
C: MAIL FROM:<a@test>
C: RCPT TO:<b@test>
C: DATA
S: 250 ok
S: 250 ok
S: 354 go
data
C: QUIT
S: 250 queued
S: 221 bye
`)
	o := opts(srv.Addr(), "b@test")
	o.XForward = attrs(t, "XFORWARD", "NAME=relay.example.org,ADDR=2001:db8::5,SOURCE=remote")
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	srv.Close()
	if e := srv.Errors(); len(e) > 0 || tx.Err != nil || !tx.Rcpts[0].Accepted {
		t.Fatal(e, tx.Err)
	}
}

const prdrEHLO = `
S: 220 mx ESMTP
C: EHLO client.test
S: 250-mx
S: 250-PIPELINING
S: 250-CHUNKING
S: 250 PRDR
C: MAIL FROM:<a@test> PRDR
C: RCPT TO:<b@test>
C: RCPT TO:<c@test>
C: RCPT TO:<d@test>
C: DATA
S: 250 ok
S: 250 ok
S: 550 5.1.1 no such user
S: 250 ok
S: 354 go
data
C: QUIT
`

// PRDR: MAIL asks for it, the message goes by DATA (not BDAT), and after
// the 353 each recipient accepted at RCPT gets its own reply, then the
// message its final one. A refusal there is a failure like any other:
// the partial-delivery rule decides the exit.
func TestPRDR(t *testing.T) {
	srv := fake(t, prdrEHLO+`
S: 353 PRDR content analysis beginning
S: 250 2.0.0 b ok
S: 550 5.7.1 d does not want it
S: 250 2.0.0 OK id=1abc
S: 221 bye
`)
	o := opts(srv.Addr(), "b@test", "c@test", "d@test")
	o.PRDR = true
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	srv.Close()
	if e := srv.Errors(); len(e) > 0 {
		t.Fatal(e)
	}
	if !tx.PRDR || tx.Chunked {
		t.Errorf("prdr %v chunked %v", tx.PRDR, tx.Chunked)
	}
	b, c, d := tx.Rcpts[0], tx.Rcpts[1], tx.Rcpts[2]
	if !b.Accepted || b.Data == nil || b.Data.Code != 250 || c.Accepted || c.Data != nil || d.Accepted || d.Data == nil || d.Data.Code != 550 {
		t.Errorf("rcpts %+v", tx.Rcpts)
	}
	if tx.End == nil || tx.End.Code != 250 || tx.QueueID != "1abc" {
		t.Errorf("end %v queue %q", tx.End, tx.QueueID)
	}
	if st := tx.RcptStatus(2); st != StatusFailed {
		t.Errorf("d: %s", st)
	}
	if code, _ := Exit([]*Transaction{tx}, false); code != exitcode.Permanent {
		t.Errorf("exit %d", code)
	}
	if code, _ := Exit([]*Transaction{tx}, true); code != exitcode.OK {
		t.Errorf("allow-partial exit %d", code)
	}
}

// A server may answer a PRDR message with one reply after all: it stands
// for every recipient. A refused message after the per-recipient replies
// reaches no one.
func TestPRDRSingleAndFinalRefusal(t *testing.T) {
	srv := fake(t, prdrEHLO+"S: 250 2.0.0 queued as X1\nS: 221 bye\n")
	o := opts(srv.Addr(), "b@test", "c@test", "d@test")
	o.PRDR = true
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	srv.Close()
	if len(srv.Errors()) > 0 || !tx.Rcpts[0].Accepted || !tx.Rcpts[2].Accepted || tx.QueueID != "X1" {
		t.Errorf("%v %+v", srv.Errors(), tx.Rcpts)
	}

	srv = fake(t, prdrEHLO+"S: 353 go\nS: 250 b ok\nS: 250 d ok\nS: 451 4.3.0 try again\nS: 221 bye\n")
	o = opts(srv.Addr(), "b@test", "c@test", "d@test")
	o.PRDR = true
	tx = Deliver(context.Background(), o.Options, o.Rcpts)
	srv.Close()
	if len(srv.Errors()) > 0 || tx.Rcpts[0].Accepted || tx.Rcpts[2].Accepted {
		t.Errorf("%v %+v", srv.Errors(), tx.Rcpts)
	}
	if code, _ := Exit([]*Transaction{tx}, true); code != exitcode.Permanent {
		t.Errorf("exit %d: the 550 for c decides, and no one got the message", code)
	}
}

// Without PRDR offered, MAIL goes without it and says so.
func TestPRDRNotOffered(t *testing.T) {
	srv := fake(t, "S: 220 mx\nC: EHLO client.test\nS: 250 mx\nC: MAIL FROM:<a@test>\nS: 250 ok\nC: RCPT TO:<b@test>\nS: 250 ok\nC: DATA\nS: 354 go\ndata\nS: 250 ok\nC: QUIT\nS: 221 bye\n")
	o := opts(srv.Addr(), "b@test")
	o.PRDR = true
	tx := Deliver(context.Background(), o.Options, o.Rcpts)
	srv.Close()
	if len(srv.Errors()) > 0 || tx.Err != nil || tx.PRDR {
		t.Errorf("%v %v", srv.Errors(), tx.Err)
	}
}

// --drop-after and --drop-after-send close the connection at the stage
// without QUIT: after its reply, or right after its command.
func TestDrop(t *testing.T) {
	const ehlo = "S: 220 mx\nC: EHLO client.test\nS: 250-mx\nS: 250 AUTH PLAIN\n"
	for _, tc := range []struct {
		stage  string
		how    Drop
		script string
		sent   string // the last command the client wrote
	}{
		{"banner", DropAfterRead, "S: 220 mx\n", ""},
		{"ehlo", DropAfterSend, "S: 220 mx\nC: EHLO client.test\n", "EHLO client.test"},
		{"ehlo", DropAfterRead, ehlo, "EHLO client.test"},
		{"auth", DropAfterSend, ehlo + "C: AUTH PLAIN\n", "AUTH PLAIN"},
		{"mail", DropAfterSend, ehlo + "C: MAIL FROM:<a@test>\n", "MAIL FROM:<a@test>"},
		{"mail", DropAfterRead, ehlo + "C: MAIL FROM:<a@test>\nS: 250 ok\n", "MAIL FROM:<a@test>"},
		{"rcpt", DropAfterSend, ehlo + "C: MAIL FROM:<a@test>\nS: 250 ok\nC: RCPT TO:<b@test>\nS: 250 ok\nC: RCPT TO:<c@test>\n", "RCPT TO:<c@test>"},
		{"data", DropAfterSend, ehlo + "C~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\n", "DATA"},
		{"dot", DropAfterSend, ehlo + "C~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\nS: 354 go\ndata\n", "."},
		{"dot", DropAfterRead, ehlo + "C~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\nS: 354 go\ndata\nS: 250 queued\n", "."},
	} {
		srv := fake(t, tc.script)
		o := opts(srv.Addr(), "b@test", "c@test")
		o.QuitAfter, o.Drop = tc.stage, tc.how
		if tc.stage == "auth" {
			o.Auth = &AuthOptions{Mech: "PLAIN"}
			o.Auth.Creds.User, o.Auth.Creds.Password = "u", "secret"
			o.Session.AllowInsecureAuth = true
		}
		tx := Deliver(context.Background(), o.Options, o.Rcpts)
		// The client does not wait for the server to read its last
		// command: give the server that time before stopping it.
		for i := 0; tc.sent != "" && i < 500 && !strings.HasSuffix(srv.Received(), tc.sent+"\r\n"); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		srv.Close()
		name := tc.stage + map[Drop]string{DropAfterRead: " after", DropAfterSend: " after-send"}[tc.how]
		if e := srv.Errors(); len(e) > 0 {
			t.Errorf("%s: %v", name, e)
		}
		if tx.Err != nil || !tx.Dropped || tx.Stopped != tc.stage {
			t.Errorf("%s: err %v dropped %v stopped %q", name, tx.Err, tx.Dropped, tx.Stopped)
		}
		got := srv.Received()
		if strings.Contains(got, "QUIT") || strings.Contains(got, "secret") || !strings.HasSuffix(got, tc.sent+"\r\n") && tc.sent != "" {
			t.Errorf("%s: client sent %q", name, got)
		}
		if code, _ := Exit([]*Transaction{tx}, false); code != exitcode.OK {
			t.Errorf("%s: exit %d", name, code)
		}
	}
}

func TestParseDrop(t *testing.T) {
	for in, want := range map[string]string{"RCPT": "rcpt", "first-helo": "ehlo", "dot": "dot", "xclient": "xclient"} {
		if got, err := ParseDrop("--drop-after", in); got != want || err != nil {
			t.Errorf("%s: %q %v", in, got, err)
		}
	}
	for _, bad := range [][2]string{{"--drop-after", "lunch"}, {"--drop-after-send", "banner"}, {"--drop-after-send", "connect"}, {"--drop-after", ""}} {
		_, err := ParseDrop(bad[0], bad[1])
		var xe *exitcode.Error
		if !errors.As(err, &xe) || xe.Code != exitcode.Usage || xe.Hint == "" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
