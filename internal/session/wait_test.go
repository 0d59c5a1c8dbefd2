package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/session"
)

// Each reply's last line carries how long the reply took, from the end of
// the write it answers; pipelined replies all count from their one write.
// Only lower bounds are checked: the server's pauses are the least a wait
// can be, however slow the machine.
func TestReplyWait(t *testing.T) {
	srv := fake(t, `
sleep 30ms
S: 220 mx.test
C: NOOP
sleep 40ms
S: 250-first
S: 250 ok
C: MAIL FROM:<a@test>
C: RCPT TO:<b@test>
S: 250 mail
sleep 40ms
S: 250 rcpt
C: QUIT
S: 221 bye
`)
	var got []session.Event
	s, err := session.Dial(context.Background(), session.Options{Address: srv.Addr(), Timeout: 10 * time.Second,
		Observer: func(e session.Event) {
			if e.Dir == session.Received {
				got = append(got, e)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadBanner(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Cmd("NOOP"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pipeline("MAIL FROM:<a@test>", "RCPT TO:<b@test>"); err != nil {
		t.Fatal(err)
	}
	s.Quit()
	if len(got) != 6 {
		t.Fatalf("%d reply lines", len(got))
	}
	banner, first, noop, mail, rcpt, quit := got[0], got[1], got[2], got[3], got[4], got[5]
	if first.Wait != 0 || first.Last {
		t.Errorf("a line before the last carries a wait: %+v", first)
	}
	for _, c := range []struct {
		e   session.Event
		min time.Duration
	}{{banner, 30 * time.Millisecond}, {noop, 40 * time.Millisecond}, {mail, 0}, {rcpt, 40 * time.Millisecond}, {quit, 0}} {
		if !c.e.Last || c.e.Wait <= c.min {
			t.Errorf("%q: wait %s, want more than %s", c.e.Line, c.e.Wait, c.min)
		}
	}
	if rcpt.Wait < mail.Wait+40*time.Millisecond {
		t.Errorf("pipelined: RCPT's reply waited %s, MAIL's %s: the second does not count from the same write", rcpt.Wait, mail.Wait)
	}
}
