package verify

import (
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/exitcode"
	"github.com/smtpx/smtpx/internal/smtptest"
)

// A 3xx reply to MAIL, RCPT or RSET is the server out of step: the
// verdict is unknown with exit 7, never blocked or undeliverable.
func TestOutOfSequenceReplies(t *testing.T) {
	const ehlo = "S: 220 mx\nC~ EHLO\nS: 250 mx\n"
	const pipe = "S: 220 mx\nC~ EHLO\nS: 250-mx\nS: 250 PIPELINING\nC~ MAIL\nC~ RCPT\nC: RSET\n"
	for name, script := range map[string]string{
		"354 to MAIL":            ehlo + "C~ MAIL\nS: 354 go\nhang\n",
		"354 to RCPT":            ehlo + "C~ MAIL\nS: 250 ok\nC~ RCPT\nS: 354 go\nhang\n",
		"pipelined: 354 to MAIL": pipe + "S: 354 go\nS: 250 ok\nS: 250 ok\nhang\n",
		"pipelined: 354 to RCPT": pipe + "S: 250 ok\nS: 354 go\nS: 250 ok\nhang\n",
	} {
		srv, err := smtptest.Start(script)
		if err != nil {
			t.Fatal(err)
		}
		o := baseOptions()
		o.CatchAll = false
		o.MX = srv.Addr()
		out, _ := run(t, o, "bob@example.test")
		srv.Close()
		r := out[0]
		if r.Verdict != Unknown || r.Exit != exitcode.Protocol || r.Err == nil || !strings.Contains(r.Err.Error(), "out of sequence") {
			t.Errorf("%s: verdict %s exit %d err %v", name, r.Verdict, r.Exit, r.Err)
		}
	}
}
