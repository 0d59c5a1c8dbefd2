package send

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smtpx/smtpx/internal/smtptest"
)

// afters returns a Next function that answers from list, then AfterQuit.
func afters(list ...After) func() After {
	return func() After {
		if len(list) == 0 {
			return AfterQuit
		}
		a := list[0]
		list = list[1:]
		return a
	}
}

// The next transaction's MAIL/RCPT/DATA goes out with the dot: the script
// reads it before it answers the dot, which would hang a client that
// waited. A refused MAIL needs no RSET; a transaction left open by refused
// recipients gets one, at the head of the next group.
func TestFlowPipelinedDATA(t *testing.T) {
	srv := fake(t, `
S: 220 mx ESMTP
C: EHLO client.test
S: 250-mx
S: 250 PIPELINING
C: MAIL FROM:<a@test>
C: RCPT TO:<b@test>
C: DATA
S: 250 2.1.0 ok
S: 250 2.1.5 ok
S: 354 go
data
C: MAIL FROM:<a@test>
C: RCPT TO:<b@test>
C: DATA
S: 250 2.0.0 queued as ONE
S: 451 4.3.0 try later
S: 503 5.5.1 need MAIL
S: 503 5.5.1 need MAIL
C: MAIL FROM:<a@test>
C: RCPT TO:<b@test>
C: DATA
S: 250 2.1.0 ok
S: 550 5.1.1 no such user
S: 554 5.5.1 no valid recipients
C: RSET
C: MAIL FROM:<a@test>
C: RCPT TO:<b@test>
C: DATA
S: 250 2.0.0 reset
S: 250 2.1.0 ok
S: 250 2.1.5 ok
S: 354 go
data
C: QUIT
S: 250 2.0.0 queued as FOUR
S: 221 bye
close
`)
	o := opts(srv.Addr(), "b@test")
	tx0 := &Transaction{}
	s := o.Open(context.Background(), tx0)
	if s == nil {
		t.Fatal(tx0.Err)
	}
	f := o.NewFlow(s, o.Rcpts)
	f.Next = afters(AfterNext, AfterQuit)
	var got []string
	for i := 0; i < 4; i++ {
		tx := &Transaction{}
		f.Transact(tx)
		code := 0
		if tx.End != nil {
			code = tx.End.Code
		}
		got = append(got, fmt.Sprintf("err=%v end=%d queue=%s pending=%v reusable=%v", tx.Err != nil, code, tx.QueueID, f.Pending(), Reusable(s, tx.Err)))
	}
	s.Finish(nil)
	want := []string{
		"err=false end=250 queue=ONE pending=true reusable=true",
		"err=true end=0 queue= pending=false reusable=true",
		"err=true end=0 queue= pending=false reusable=true",
		"err=false end=250 queue=FOUR pending=false reusable=true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	srv.Close()
	if m := srv.Errors(); len(m) > 0 {
		t.Errorf("the server saw: %q", m)
	}
}

// Without PIPELINING every command waits, RSET included, and nothing rides
// with the dot whatever Next says.
func TestFlowSequential(t *testing.T) {
	srv := fake(t, `
S: 220 mx ESMTP
C: EHLO client.test
S: 250 mx
C: MAIL FROM:<a@test>
S: 250 ok
C: RCPT TO:<b@test>
S: 550 5.1.1 no
C: RSET
S: 250 reset
C: MAIL FROM:<a@test>
S: 250 ok
C: RCPT TO:<b@test>
S: 250 ok
C: DATA
S: 354 go
data
S: 250 2.0.0 queued as TWO
C: QUIT
S: 221 bye
close
`)
	o := opts(srv.Addr(), "b@test")
	tx0 := &Transaction{}
	s := o.Open(context.Background(), tx0)
	if s == nil {
		t.Fatal(tx0.Err)
	}
	f := o.NewFlow(s, o.Rcpts)
	f.Next = afters(AfterNext, AfterNext)
	tx1, tx2 := &Transaction{}, &Transaction{}
	f.Transact(tx1)
	f.Transact(tx2)
	if tx1.Err == nil || tx2.Err != nil || tx2.QueueID != "TWO" || f.Pending() {
		t.Errorf("tx1 %v, tx2 %v %q, pending %v", tx1.Err, tx2.Err, tx2.QueueID, f.Pending())
	}
	s.Finish(nil)
	srv.Close()
	if m := srv.Errors(); len(m) > 0 {
		t.Errorf("the server saw: %q", m)
	}
}

// Against a real server: every message stored, and the client waits for
// the banner, EHLO, then one server flight per message (BDAT: MAIL, RCPT
// and BDAT LAST with the content in one flight; DATA: the first group,
// then the dot with the next group, QUIT with the last dot).
func TestFlowRoundTrips(t *testing.T) {
	peer, err := smtptest.StartPeer(smtptest.PeerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	const n = 5
	for _, tt := range []struct {
		name  string
		chunk bool
		want  int
	}{
		{"chunking", true, 2 + n},
		{"pipelining", false, 3 + n},
	} {
		before := len(peer.Messages())
		proxy := smtptest.StartProxy(t, peer.Addr(), func(p *smtptest.Proxy) { p.Delay = 5 * time.Millisecond })
		o := opts(proxy.Addr(), "b@test")
		o.Chunking = tt.chunk
		tx0 := &Transaction{}
		s := o.Open(context.Background(), tx0)
		if s == nil {
			t.Fatal(tx0.Err)
		}
		f := o.NewFlow(s, o.Rcpts)
		left := n
		f.Next = func() After {
			if left > 1 {
				return AfterNext
			}
			return AfterQuit
		}
		for ; left > 0; left-- {
			tx := &Transaction{}
			f.Transact(tx)
			if tx.Err != nil {
				t.Fatalf("%s: %v", tt.name, tx.Err)
			}
			if tx.Chunked != tt.chunk {
				t.Fatalf("%s: chunked %v", tt.name, tx.Chunked)
			}
		}
		s.Finish(nil)
		if got, _ := proxy.Stats(); got != tt.want {
			t.Errorf("%s: the client waited for %d server flights, want %d", tt.name, got, tt.want)
		}
		if got := len(peer.Messages()) - before; got != n {
			t.Errorf("%s: the server stored %d messages, want %d", tt.name, got, n)
		}
	}
}
