package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/dnstest"
	"github.com/smtpx/smtpx/internal/message"
)

// The user's side (issue 9): a line break in any flag value, an invalid
// address, an unreadable or oversized file, conflicting flags: exit 2, one
// error line and a hint, the flag named, and nothing sent: the server saw
// no connection and the DNS server no query.

func TestUsageErrorsSendNothing(t *testing.T) {
	srv := listener(t)
	dns := dnstest.Start(t, "example.com. MX 10 mx.example.com.\nmx.example.com. A 127.0.0.1\n")
	addr := srv.Addr()
	dir := t.TempDir()
	c, err := certs.SelfSigned(certs.Options{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "cert.pem")
	os.WriteFile(certFile, c.CertPEM, 0o644)
	emptyFile := filepath.Join(dir, "empty")
	os.WriteFile(emptyFile, nil, 0o644)
	longLine := filepath.Join(dir, "long-line")
	os.WriteFile(longLine, []byte(strings.Repeat("x", 70<<10)), 0o644)
	notPEM := filepath.Join(dir, "notes.txt")
	os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644)
	notTOML := filepath.Join(dir, "config.toml")
	os.WriteFile(notTOML, []byte("[profile.x\nserver = \n"), 0o644)
	missing := filepath.Join(dir, "missing")

	// Spooled input is bounded at 1 GiB; a smaller bound keeps /dev/zero quick.
	oldSpool := message.MaxSpool
	message.MaxSpool = 1 << 20
	defer func() { message.MaxSpool = oldSpool }()

	send := func(extra ...string) []string {
		return append([]string{"send", "--server", addr, "--from", "a@client.test", "--to", "b@example.com", "--dns-server", dns.Addr()}, extra...)
	}
	ehlo := func(extra ...string) []string { return append([]string{"ehlo", addr}, extra...) }
	probe := func(extra ...string) []string {
		return append([]string{"probe", addr, "--dns-server", dns.Addr()}, extra...)
	}
	verify := func(extra ...string) []string {
		return append([]string{"verify", "--mx", addr, "--dns-server", dns.Addr(), "--delay", "0"}, extra...)
	}
	cases := []struct {
		argv  []string
		names string // the flag the error or hint must name ("" for arguments)
		stdin string
	}{
		// Line breaks in flag values.
		{ehlo("--helo", "h\r\nMAIL FROM:<x@y>"), "--helo", ""},
		{ehlo("--tls-sni", "a\r\nb"), "--tls-sni", ""},
		{probe("--helo", "h\nQUIT"), "--helo", ""},
		{verify("--helo", "h\r\nRCPT TO:<x@y>", "b@example.com"), "--helo", ""},
		{verify("--from", "a@b\r\nRCPT TO:<x@y>", "b@example.com"), "--from", ""},
		{verify("b@example.com\r\nRCPT TO:<x@y>"), "", ""},
		{send("--to", "c@test\r\nRCPT TO:<evil@x>"), "--to", ""},
		{send("--cc", "c@test\n"), "--cc", ""},
		{send("--bcc", "c@te\rst"), "--bcc", ""},
		{send("--header", "X-A: 1\r\nBcc: x@y"), "--header", ""},
		{send("--add-header", "X-A: 1\nX-B: 2"), "--add-header", ""},
		{send("--subject", "hi\r\n.\r\nMAIL FROM:<x@y>"), "--subject", ""},
		{send("--helo", "h\r\nMAIL"), "--helo", ""},
		{send("--mail-param", "X=1\r\nRCPT"), "--mail-param", ""},
		{send("--rcpt-param", "X=1\nDATA"), "--rcpt-param", ""},
		{send("--envid", "a\r\nb"), "--envid", ""},
		{send("--user", "u\r\nQUIT", "--password-env", "PW"), "--user", ""},
		{send("--attach", "@"+certFile, "--attach-name", "x\r\n.txt"), "--attach-name", ""},

		// Invalid addresses.
		{send("--to", "not an address"), "--to", ""},
		{send("--to", "a@"), "--to", ""},
		{send("--to", "@example.com"), "--to", ""},
		{send("--to", "a@b@c"), "--to", ""},
		{send("--from", "x@"), "--from", ""},
		{send("--cc", "a..b@example.com"), "--cc", ""},
		{verify("not-an-address"), "", ""},
		{verify("a@"), "", ""},
		{verify("--from", "nobody", "b@example.com"), "--from", ""},

		// Unreadable files.
		{send("--data", "@"+missing), "--data", ""},
		{send("--data", "@"+dir), "--data", ""},
		{send("--data", "message.eml"), "--data", ""},
		{send("--body", "@"+missing), "--body", ""},
		{send("--html", "@"+dir), "--html", ""},
		{send("--attach", "@"+missing), "--attach", ""},
		{send("--user", "u", "--password-file", missing), "--password-file", ""},
		{send("--user", "u", "--password-file", emptyFile), "--password-file", ""},
		{send("--oauth-token-file", missing), "--oauth-token-file", ""},
		{send("--ca-file", missing), "--ca-file", ""},
		{send("--ca-file", notPEM), "--ca-file", ""},
		{send("--cert", certFile, "--key", notPEM), "--cert", ""},
		{send("--config", notTOML), "config", ""},
		{send("--config", missing), "config", ""},
		{ehlo("--ca-file", missing), "--ca-file", ""},
		{probe("--ca-file", notPEM), "--ca-file", ""},
		{probe("--mta-sts-ca", missing), "--mta-sts-ca", ""},
		{verify("--file", missing), "--file", ""},
		{verify("--file", dir), "--file", ""},
		{verify("--ca-file", missing, "b@example.com"), "--ca-file", ""},

		// Oversized files (a wrong path such as /dev/zero must fail, not
		// fill memory or disk).
		{send("--user", "u", "--password-file", "/dev/zero"), "--password-file", ""},
		{send("--user", "u", "--password-file", longLine), "--password-file", ""},
		{send("--oauth-token-file", "/dev/zero"), "--oauth-token-file", ""},
		{send("--ca-file", "/dev/zero"), "--ca-file", ""},
		{send("--cert", "/dev/zero", "--key", certFile), "--cert", ""},
		{send("--data", "@/dev/zero"), "--data", ""},
		{send("--body", "@/dev/zero"), "--body", ""},
		{send("--attach", "@/dev/zero"), "--attach", ""},
		{send("--config", "/dev/zero"), "config", ""},
		{ehlo("--ca-file", "/dev/zero"), "--ca-file", ""},
		{probe("--mta-sts-ca", "/dev/zero"), "--mta-sts-ca", ""},
		{verify("--file", "/dev/zero"), "--file", ""},
		{verify("--ca-file", "/dev/zero", "b@example.com"), "--ca-file", ""},

		// Conflicting or invalid flags.
		{ehlo("--tls", "--tls-on-connect"), "--tls", ""},
		{ehlo("--quit-after", "lunch"), "--quit-after", ""},
		{ehlo("--tls-min", "0.9"), "--tls-min", ""},
		{ehlo("--cert", certFile), "--cert", ""},
		{ehlo("--socket", "/tmp/x.sock"), "--socket", ""},
		{ehlo("--timeout", "0s"), "--timeout", ""},
		{ehlo("--timeout", "soon"), "--timeout", ""},
		{ehlo("--connect-timeout", "-1s"), "--connect-timeout", ""},
		{ehlo("-v", "-q"), "-v", ""},
		{ehlo("--color", "sometimes"), "--color", ""},
		{ehlo("--no-such-flag"), "--help", ""},
		{[]string{"ehlo"}, "", ""},
		{[]string{"ehlo", addr, "extra"}, "", ""},
		{send("--tls", "--no-tls"), "--tls", ""},
		{send("--tls", "--tls-on-connect"), "--tls", ""},
		{send("--data", "-", "--subject", "x"), "--data", "Subject: y\n\nhi\n"},
		{send("--data", "-", "--body", "x"), "--data", "Subject: y\n\nhi\n"},
		{send("--quit-after", "lunch"), "--quit-after", ""},
		{send("--pipeline", "maybe"), "--pipeline", ""},
		{send("--chunking", "maybe"), "--chunking", ""},
		{send("--notify", "SOMETIMES"), "--notify", ""},
		{send("--notify", "NEVER,SUCCESS"), "--notify", ""},
		{send("--ret", "ALL"), "--ret", ""},
		{send("--envid", strings.Repeat("x", 101)), "--envid", ""},
		{send("--auth=GSSAPI", "--user", "u", "--password-env", "PW"), "--auth", ""},
		{send("--auth", "--user", "u"), "--password", ""},
		{send("--auth", "PLAIN"), "--user", ""}, // swaks' form: the mechanism is taken, the user is missing
		{send("--body", "-", "--html", "-"), "--body - and --html -", "hi\n"},
		{send("--timeout", "5"), "5s", ""},
		{send("--user", "u", "--password-env", "UNSET_VAR"), "--password-env", ""},
		{send("--auth=EXTERNAL"), "--cert", ""},
		{send("--lmtp", "--socket", "/tmp/x.sock"), "--socket", ""},
		{[]string{"send", "--server", "smtps://" + addr, "--no-tls", "--to", "b@example.com"}, "--no-tls", ""},
		{[]string{"send", "--server", "ftp://x", "--to", "b@example.com"}, "", ""},
		{[]string{"send", "--to", "b@example.com", "--lmtp"}, "--lmtp", ""},
		{[]string{"send", "--server", addr}, "--to", ""},
		{probe("--fail-on", "maybe"), "--fail-on", ""},
		{probe("-4", "-6"), "-4", ""},
		{probe("--count", "0"), "--count", ""},
		{probe("--parallel", "0"), "--parallel", ""},
		{probe("--greet-pause", "0s"), "--greet-pause", ""},
		{probe("--connect-to", "nonsense"), "--connect-to", ""},
		{probe("--tls-min", "9"), "--tls-min", ""},
		{[]string{"probe"}, "", ""},
		{verify(), "--file", ""},
		{verify("--file", missing, "b@example.com"), "--file", ""},
		{verify("--json", "--csv", "b@example.com"), "--json", ""},
		{verify("--method", "telepathy", "b@example.com"), "--method", ""},
		{verify("--expect", "maybe", "b@example.com"), "--expect", ""},
		{verify("--per-session", "0", "b@example.com"), "--per-session", ""},
		{verify("--delay", "-1s", "b@example.com"), "--delay", ""},
		{verify("--port", "0", "b@example.com"), "--port", ""},
		{verify("--fail-on", "nope", "b@example.com"), "--fail-on", ""},
		{verify("--tls-min", "2", "b@example.com"), "--tls-min", ""},
		{[]string{"verify", "--mx", "127.0.0.1:99999", "b@example.com"}, "--mx", ""},
	}
	for _, tt := range cases {
		_, stderr, code := run(t, tt.stdin, map[string]string{"PW": "pw"}, tt.argv...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", tt.argv, code, stderr)
			continue
		}
		if strings.Count(stderr, "smtpx: error:") != 1 || strings.Count(stderr, "smtpx: hint:") != 1 {
			t.Errorf("%q: want one error line and one hint:\n%s", tt.argv, stderr)
		}
		if tt.names != "" && !strings.Contains(stderr, tt.names) {
			t.Errorf("%q: the error does not name %s:\n%s", tt.argv, tt.names, stderr)
		}
	}
	if n := srv.Conns(); n != 0 {
		t.Errorf("the server saw %d connections", n)
	}
	if q := dns.Queries(); len(q) != 0 {
		t.Errorf("the DNS server was asked %d questions: %+v", len(q), q)
	}
}
