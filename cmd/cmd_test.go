package cmd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/smtptest"
	"github.com/smtpx/smtpx/internal/term"
)

// run executes smtpx with args and returns what a user would see.
func run(t *testing.T, stdin string, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	io := &term.IO{In: strings.NewReader(stdin), Out: &out, Err: &errb, Getenv: func(k string) string { return env[k] }}
	code = Main(args, io, BuildInfo{Version: "test"})
	return out.String(), errb.String(), code
}

// A server that records whether anyone connected.
func listener(t *testing.T) *smtptest.Server {
	t.Helper()
	s, err := smtptest.Start("S: 220 x\nC~ EHLO\nS: 250 x\nhang\n")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// CR or LF in any flag value is a usage error and nothing is sent.
func TestLineBreaksRefusedBeforeConnecting(t *testing.T) {
	srv := listener(t)
	for _, bad := range [][]string{
		{"--to", "a@test\r\nRCPT TO:<evil@x>"},
		{"--to", "a@test", "--from", "b@test\nMAIL"},
		{"--to", "a@test", "--cc", "c@test\r"},
		{"--to", "a@test", "--bcc", "c@te\nst"},
		{"--to", "a@test", "--header", "X-A: 1\r\nBcc: x@y"},
		{"--to", "a@test", "--add-header", "X-A: 1\nX-B: 2"},
		{"--to", "a@test", "--subject", "hi\r\n.\r\nMAIL FROM:<x@y>"},
		{"--to", "a@test", "--helo", "h\r\nMAIL"},
		{"--to", "a@test", "--mail-param", "X=1\r\nRCPT"},
		{"--to", "a@test", "--rcpt-param", "X=1\nDATA"},
		{"--to", "a@test", "--envid", "a\r\nb"},
		{"--to", "a@test", "--attach-name", "x\r\n.txt", "--attach", "@cmd_test.go"},
		{"--to", "a@test", "--user", "u\r\nQUIT", "--password", "p"},
	} {
		args := append([]string{"send", "--timeout", "2s", "--server", srv.Addr()}, bad...)
		_, stderr, code := run(t, "", nil, args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2; stderr %q", bad, code, stderr)
		}
		if !strings.HasPrefix(stderr, "smtpx: error: ") || !strings.Contains(stderr, "smtpx: hint: ") {
			t.Errorf("%q: stderr %q", bad, stderr)
		}
	}
	if n := srv.Conns(); n != 0 {
		t.Errorf("the server saw %d connections", n)
	}
}

func TestSendUsageErrors(t *testing.T) {
	srv := listener(t)
	for _, args := range [][]string{
		{"send", "--server", srv.Addr()},
		{"send", "--server", srv.Addr(), "--to", "not an address"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--quit-after", "lunch"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--tls", "--no-tls"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--pipeline", "maybe"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--notify", "SOMETIMES"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--ret", "ALL"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--data", "@/nonexistent/file"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--data", "message.eml"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--data", "-", "--subject", "x"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--attach", "@/nonexistent"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--auth=GSSAPI", "--user", "u", "--password", "p"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--auth", "--user", "u"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--auth", "PLAIN"},
		{"send", "--server", "host:0", "--to", "a@test"},
		{"send", "--server", "ftp://x", "--to", "a@test"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--ca-file", "/nonexistent"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--tls-min", "0.9"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--password-file", "/nonexistent", "--user", "u"},
		{"send", "--server", srv.Addr(), "--to", "a@test", "--password-env", "UNSET_VAR", "--user", "u"},
	} {
		_, stderr, code := run(t, "", nil, args...)
		if code != 2 || strings.Count(stderr, "smtpx: error:") != 1 {
			t.Errorf("%q: exit %d stderr %q", args, code, stderr)
		}
	}
	if n := srv.Conns(); n != 0 {
		t.Errorf("the server saw %d connections", n)
	}
}
