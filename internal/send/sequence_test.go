package send

import (
	"context"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/exitcode"
)

// A 2xx or 3xx reply where the plan expected another class is the server
// out of sequence: exit 7, never success; no message content goes out
// after it, and the connection is dropped rather than QUIT said into a
// stream that is out of step.
func TestOutOfSequenceReplies(t *testing.T) {
	const ehlo = "S: 220 mx\nC~ EHLO\nS: 250 mx\n"
	const pipe = "S: 220 mx\nC~ EHLO\nS: 250-mx\nS: 250 PIPELINING\nC~ MAIL\nC~ RCPT\nC: DATA\n"
	for _, tt := range []struct {
		name, script string
		rcpts        int
	}{
		{"250 to DATA", ehlo + "C~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\nS: 250 2.0.0 ok\nhang\n", 1},
		{"354 to MAIL", ehlo + "C~ MAIL\nS: 354 go\nhang\n", 1},
		{"354 to RCPT", ehlo + "C~ MAIL\nS: 250 ok\nC~ RCPT\nS: 354 go\nhang\n", 2},
		{"354 to the dot", ehlo + "C~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\nS: 354 go\ndata\nS: 354 again\nhang\n", 1},
		{"pipelined: 354 to MAIL", pipe + "S: 354 go\nS: 250 ok\nS: 354 go\nhang\n", 1},
		{"pipelined: 354 to RCPT", pipe + "S: 250 ok\nS: 354 go\nS: 354 go\nhang\n", 1},
		{"pipelined: one reply too many", pipe + "S: 250 ok\nS: 250 ok\nS: 250 extra\nS: 354 go\nhang\n", 1},
		// A reply before our end of data cannot answer the message: the
		// "queued" sent with the 354 must not pass for a delivery.
		{"250 with the 354", ehlo + "C~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\nR: \"354 go\\r\\n250 queued as EARLY\\r\\n\"\ndata\nS: 554 no\nhang\n", 1},
		{"250 with the 354, then close", ehlo + "C~ MAIL\nS: 250 ok\nC~ RCPT\nS: 250 ok\nC: DATA\nR: \"354 go\\r\\n250 queued as EARLY\\r\\n\"\nclose\n", 1},
		{"pipelined: 250 with the 354", pipe + "S: 250 ok\nR: \"250 ok\\r\\n354 go\\r\\n250 queued as EARLY\\r\\n\"\ndata\nS: 554 no\nhang\n", 1},
		{"pipelined: 250 with the 354, then close", pipe + "S: 250 ok\nR: \"250 ok\\r\\n354 go\\r\\n250 queued as EARLY\\r\\n\"\nclose\n", 1},
	} {
		srv := fake(t, tt.script)
		o := opts(srv.Addr(), "b@test", "c@test")
		o.Rcpts = o.Rcpts[:tt.rcpts]
		tx := Deliver(context.Background(), o.Options, o.Rcpts)
		code, err := Exit([]*Transaction{tx}, false)
		if code != exitcode.Protocol {
			t.Errorf("%s: exit %d, want %d (%v)", tt.name, code, exitcode.Protocol, err)
		}
		if err == nil || !strings.Contains(err.Error(), "out of sequence") {
			t.Errorf("%s: error %v", tt.name, err)
		}
		srv.Close()
		got := srv.Received()
		if strings.Contains(got, "Subject: hi") && tt.name != "354 to the dot" {
			t.Errorf("%s: message content was sent:\n%s", tt.name, got)
		}
		if strings.Contains(got, "QUIT") {
			t.Errorf("%s: QUIT was said into a stream out of step:\n%s", tt.name, got)
		}
		if strings.Count(got, "RCPT") > 1 && !strings.HasPrefix(tt.name, "pipelined") {
			t.Errorf("%s: more recipients after an out-of-sequence reply:\n%s", tt.name, got)
		}
	}
}
