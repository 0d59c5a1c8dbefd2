package cmd

import (
	"strings"
	"testing"

	"github.com/smtpx/smtpx/internal/dnstest"
	"github.com/smtpx/smtpx/internal/smtptest"
)

// Interop (issue 9): Postfix's smtp-sink, a server nobody here wrote,
// failing each command in each of its four ways, against every client
// verb. -f answers 5xx, -r 4xx, -q drops the connection without a reply,
// -Q says 421 and drops it. A verb that never reaches the command must be
// unaffected (exit 0). Skipped without smtp-sink, unless SMTPX_INTEROP=1.
func TestSMTPSinkFailureMatrix(t *testing.T) {
	smtptest.NeedTool(t, "smtp-sink", "/usr/sbin")
	dns := dnstest.Start(t, "")
	modes := map[string]int{"-f": 5, "-r": 4, "-q": 3, "-Q": 4}
	// reaches says which commands each verb sends (CONNECT is the banner).
	reaches := map[string][]string{
		"ehlo":   {"CONNECT", "EHLO"},
		"probe":  {"CONNECT", "EHLO"},
		"verify": {"CONNECT", "EHLO", "MAIL", "RCPT"},
		"send":   {"CONNECT", "EHLO", "MAIL", "RCPT", "DATA", "."},
	}
	argv := func(verb, addr string) []string {
		common := []string{"--timeout", "10s", "--helo", "client.test"}
		switch verb {
		case "ehlo":
			return append([]string{"ehlo", addr}, common...)
		case "probe":
			return append([]string{"probe", addr, "--dns-server", dns.Addr()}, common...)
		case "verify":
			return append([]string{"verify", "--mx", addr, "--delay", "0", "--catch-all=false", "--dns-server", dns.Addr(), "b@example.com"}, common...)
		}
		return append([]string{"send", "--server", addr, "--from", "a@client.test", "--to", "b@example.com"}, common...)
	}
	runs := 0
	for _, command := range []string{"CONNECT", "EHLO", "MAIL", "RCPT", "DATA", "."} {
		for _, mode := range []string{"-f", "-r", "-q", "-Q"} {
			t.Run(mode+" "+command, func(t *testing.T) {
				addr, _ := smtptest.SMTPSink(t, false, mode, command)
				for _, verb := range []string{"ehlo", "probe", "verify", "send"} {
					want := 0
					for _, c := range reaches[verb] {
						if c == command {
							want = modes[mode]
						}
					}
					// A 5xx to EHLO makes every verb fall back to HELO
					// (RFC 5321 §3.2), which smtp-sink accepts.
					if command == "EHLO" && mode == "-f" {
						want = 0
					}
					stdout, stderr, code := run(t, "", nil, argv(verb, addr)...)
					runs++
					if code != want {
						t.Errorf("%s: exit %d, want %d\n%s%s", verb, code, want, clipOut(stdout), stderr)
						continue
					}
					if errs := strings.Count(stderr, "smtpx: error:"); (code == 0) != (errs == 0) || errs > 1 {
						t.Errorf("%s: %d error lines for exit %d:\n%s", verb, errs, code, stderr)
					}
					if command == "EHLO" && mode == "-f" && verb != "probe" && !strings.Contains(stdout, "HELO client.test") {
						t.Errorf("%s: no HELO fallback in\n%s", verb, stdout)
					}
				}
			})
		}
	}
	t.Logf("%d runs against smtp-sink", runs)
}
