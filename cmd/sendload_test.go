package cmd

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/smtptest"
	"github.com/smtpx/smtpx/internal/term"
)

// On a terminal, load mode keeps a progress line on stderr, ends it with
// the final counts and clears it for the summary on stdout.
func TestLoadProgressOnTerminal(t *testing.T) {
	p, err := smtptest.StartPeer(smtptest.PeerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, tty := range []bool{true, false} {
		var out, errb bytes.Buffer
		io := &term.IO{In: strings.NewReader(""), Out: &out, Err: &errb, ErrIsTTY: tty, Getenv: func(string) string { return "" }}
		code := Main([]string{"send", "--server", p.Addr(), "--from", "a@example.org", "--to", "b@example.com", "--count", "5", "--concurrency", "2"}, io, BuildInfo{Version: "test"})
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		re := regexp.MustCompile(`\rsent 5  accepted 5  deferred 0  rejected 0  errors 0  \d+ msg/s\x1b\[K\r\x1b\[K$`)
		if got := errb.String(); tty != re.MatchString(got) || !tty && got != "" {
			t.Errorf("tty %v: stderr %q", tty, got)
		}
		if !strings.Contains(out.String(), "accepted      5\n") {
			t.Errorf("tty %v: stdout %q", tty, out.String())
		}
	}
}

// Bulk verify on a terminal (stdout piped) keeps a progress line on stderr
// and clears it before the summary; with stdout on the terminal too, or
// stderr not one, there is none.
func TestVerifyProgressOnTerminal(t *testing.T) {
	p, err := smtptest.StartPeer(smtptest.PeerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, tc := range []struct{ errTTY, outTTY, want bool }{{true, false, true}, {false, false, false}, {true, true, false}} {
		var out, errb bytes.Buffer
		io := &term.IO{In: strings.NewReader("a@example.com\nb@example.com\nc@example.org\n"), Out: &out, Err: &errb,
			ErrIsTTY: tc.errTTY, OutIsTTY: tc.outTTY, Getenv: func(string) string { return "" }}
		Main([]string{"verify", "--delay", "0", "--mx", p.Addr(), "--file", "-"}, io, BuildInfo{Version: "test"})
		got := errb.String()
		// A list is read as it is verified: its length is not known.
		re := regexp.MustCompile(`\rverifying 3  \d+ addr/s\x1b\[K\r\x1b\[Ksmtpx: 3 addresses`)
		if re.MatchString(got) != tc.want || strings.Contains(got, "\r") != tc.want {
			t.Errorf("stderr tty %v, stdout tty %v: stderr %q", tc.errTTY, tc.outTTY, got)
		}
	}
}
