package cmd

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/smtptest"
)

// XCLIENT and XFORWARD against Postfix's smtp-sink, which offers both
// ("XCLIENT NAME HELO", "XFORWARD NAME ADDR PROTO HELO") and answers each
// with 250. Skipped when it is missing, unless SMTPX_INTEROP=1.
func TestXClientXForwardSMTPSink(t *testing.T) {
	addr, dir := smtptest.SMTPSink(t, true)
	stdout, stderr, code := run(t, "", nil, "send", "--json", "--timeout", "5s", "--server", addr,
		"--from", "a@example.org", "--to", "b@example.com",
		"--xclient", "NAME=spike.example.org,HELO=spike.example.org",
		"--xforward", "NAME=relay.example.org,ADDR=192.0.2.7,PROTO=ESMTP,HELO=relay.example.org")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var res struct {
		Transactions []struct {
			XClient struct{ Code int } `json:"xclient"`
		} `json:"transactions"`
		Events []struct{ Dir, Line string } `json:"events"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Transactions) != 1 || res.Transactions[0].XClient.Code != 250 {
		t.Errorf("transactions %+v", res.Transactions)
	}
	var sent []string
	for _, e := range res.Events {
		if e.Dir == "sent" {
			sent = append(sent, e.Line)
		}
	}
	got := strings.Join(sent, "\n")
	want := "XCLIENT NAME=spike.example.org HELO=spike.example.org\nEHLO "
	if !strings.Contains(got, want) || !strings.Contains(got, "XFORWARD NAME=relay.example.org ADDR=192.0.2.7 PROTO=ESMTP HELO=relay.example.org\nMAIL FROM:<a@example.org>") {
		t.Errorf("sent:\n%s", got)
	}
	// smtp-sink took the message after both.
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("smtp-sink stored %d messages (%v)", len(entries), err)
	}

	// An attribute smtp-sink's XCLIENT does not list is refused here:
	// exit 1, one error line and a hint, and no XCLIENT sent.
	stdout, stderr, code = run(t, "", nil, "send", "--timeout", "5s", "--server", addr, "--to", "b@example.com", "--xclient", "ADDR=192.0.2.7")
	if code != 1 || !strings.Contains(stderr, "smtpx: error: the server's XCLIENT does not take ADDR\n") ||
		!strings.Contains(stderr, "smtpx: hint: add --xclient-optional") || strings.Contains(stdout, " -> XCLIENT") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// With XCLIENT switched off (-C), --xclient-optional sends without it.
func TestXClientOptionalSMTPSink(t *testing.T) {
	addr, _ := smtptest.SMTPSink(t, false, "-C")
	stdout, stderr, code := run(t, "", nil, "send", "--timeout", "5s", "--server", addr, "--to", "b@example.com", "--xclient", "NAME=a.example.org")
	if code != 1 || !strings.Contains(stderr, "smtpx: error: the server does not offer XCLIENT\n") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	stdout, stderr, code = run(t, "", nil, "send", "--timeout", "5s", "--server", addr, "--to", "b@example.com", "--xclient", "NAME=a.example.org", "--xclient-optional")
	if code != 0 || !strings.Contains(stdout, "=== the server does not offer XCLIENT: sent without it (--xclient-optional)\n") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}
