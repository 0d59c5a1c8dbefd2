package cmd

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/smtpx/smtpx/internal/certs"
	"github.com/smtpx/smtpx/internal/dnstest"
	"github.com/smtpx/smtpx/internal/smtptest"
)

// The hostile-server suite (issue 9): every scenario a server nobody
// trusts can put a client in, run against each verb it applies to. Each
// run asserts the exit status of DESIGN §4, exactly one "smtpx: error:"
// line with a hint (none on success), completion within --timeout plus a
// margin, output free of raw control bytes, valid JSON with the same exit
// under --json, and, for the scenarios that try to exhaust memory, a bound
// on what the client allocates. No goroutine may outlive the suite.

const (
	// hostileTimeout is --timeout for the scenarios that end in one (the
	// server goes silent); the others, where the server answers at once,
	// get hostileSlow so a loaded machine cannot fail them spuriously, and
	// must finish well within it.
	hostileTimeout = 400 * time.Millisecond
	hostileSlow    = 10 * time.Second
	// hostileMargin bounds a run beyond --timeout: slack for a loaded
	// machine under -race, far below what a hang would take.
	hostileMargin = 2 * time.Second
	// hostileAlloc bounds what one run may allocate in all while the server
	// sends an endless reply or a 1 MiB line; a client that buffered it
	// would allocate hundreds of MiB within the timeout on loopback.
	hostileAlloc = 8 << 20
	// hostileParallel runs go at once (see TestHostileServers).
	hostileParallel = 8
)

var hostileVerbs = []string{"ehlo", "send", "probe", "verify"}

// hostile is one scenario.
type hostile struct {
	name   string
	script string                          // the fake server's script
	refuse bool                            // nothing listens (no script)
	tls    func(*hostileCerts) *tls.Config // the server side of the script's tls step
	next   map[string]string               // per verb: the script for the second and later connections
	exit   map[string]int                  // verb -> exit status; a verb not named does not apply
	args   map[string][]string             // extra flags per verb; "*" for every verb
	mem    bool                            // the server tries to exhaust memory: bound allocations
	waits  bool                            // the scenario ends in a --timeout (the server goes silent)
	errHas string                          // a substring the error line must contain
	outHas map[string]string               // per verb: a substring of the human transcript
	noQuit bool                            // the client must drop the connection, not say QUIT
}

// Script fragments: the happy dialogue, stage by stage.
const (
	hBanner  = "S: 220 mx.test ESMTP\n"
	hEhlo    = "C~ EHLO\nS: 250-mx.test\nS: 250-8BITMIME\nS: 250 ENHANCEDSTATUSCODES\n"
	hEhloTLS = "C~ EHLO\nS: 250-mx.test\nS: 250-8BITMIME\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 2.0.0 Ready to start TLS\ntls\n" + hEhlo
	hMail    = "C~ MAIL FROM:\nS: 250 2.1.0 ok\n"
	hRcpt    = "C~ RCPT TO:\nS: 250 2.1.5 ok\n"
	hData    = "C: DATA\nS: 354 go ahead\n"
	hDot     = "data\nS: 250 2.0.0 queued as H0STILE\n"
	hQuit    = "C: QUIT\nS: 221 2.0.0 bye\nclose\n"
	hAll     = hBanner + hEhlo + hMail + hRcpt + hData + hDot + hQuit
)

func every(code int) map[string]int {
	return map[string]int{"ehlo": code, "send": code, "probe": code, "verify": code}
}

// exits reads "ehlo=3 send=4".
func exits(s string) map[string]int {
	m := map[string]int{}
	for _, f := range strings.Fields(s) {
		var v string
		var c int
		k, rest, _ := strings.Cut(f, "=")
		v = rest
		fmt.Sscanf(v, "%d", &c)
		m[k] = c
	}
	return m
}

// tlsArgs make each verb insist on TLS and trust the test CA.
var tlsArgs = map[string][]string{"ehlo": {"--tls"}, "probe": {"--require-tls"}, "*": {"--ca-file", "{ca}"}}

func hostileScenarios() []hostile {
	good := func(c *hostileCerts) *tls.Config { return c.good.ServerConfig() }
	tlsWith := func(f func(*hostileCerts) *certs.Cert) func(*hostileCerts) *tls.Config {
		return func(c *hostileCerts) *tls.Config { return f(c).ServerConfig() }
	}
	auth := map[string][]string{"send": {"--auth", "--user", "u", "--password-env", "PW"}}
	ehloAuth := "C~ EHLO\nS: 250-mx.test\nS: 250 AUTH PLAIN LOGIN CRAM-MD5\n"
	ehloPipe := "C~ EHLO\nS: 250-mx.test\nS: 250 PIPELINING\n"
	group := "C~ MAIL FROM:\nC~ RCPT TO:\nC: DATA\n"
	ehloChunk := "C~ EHLO\nS: 250-mx.test\nS: 250-PIPELINING\nS: 250 CHUNKING\n"
	escText := "\x1b[2J\x1b]0;pwned\x07 \x00nul \xff\xfe bad-utf8 \x9b31m c1 \x1b]8;;http://evil.test\x1b\\link\x1b]8;;\x1b\\"
	// Characters that are valid UTF-8 but invisible or reorder text (issue
	// 14): DEL, C1 as runes, bidi controls, zero-width, BOM, tags.
	escText += " \x7f \u0085\u009b \u202eevil\u202c \u2066\u061c\u200f \u200b\ufeff\u00ad \U000e0041\U000e007f"
	esc := fmt.Sprintf("%q", escText)
	esc = esc[1 : len(esc)-1]
	endless334 := ehloAuth + "C: AUTH CRAM-MD5\n" + strings.Repeat("S: 334 PDEyMzQ1QG14LnRlc3Q+\nC*\n", 12) + "S: 501 5.7.0 enough\n"
	// verify, like an MTA, tries again without STARTTLS after a failed
	// handshake (it sends no message, only asks RCPT).
	plain := hBanner + "C~ EHLO\nS: 250-mx.test\nS: 250 STARTTLS\n" + hMail + hRcpt + "C: RSET\nS: 250 ok\n" + hQuit
	fallback := map[string]string{"verify": plain}
	fellBack := map[string]string{"verify": "trying again without STARTTLS"}
	keywords := "C~ EHLO\nS: 250-mx.test\nrepeat 10000 S: 250-X-KEYWORD-NUMBER-MANY PARAM\nS: 250 8BITMIME\n"

	return []hostile{
		// Controls: the harness itself must see success.
		{name: "control/plain", script: hAll, exit: every(0)},
		{name: "control/tls", script: hBanner + hEhloTLS + hMail + hRcpt + hData + hDot + hQuit, tls: good, exit: every(0), args: tlsArgs},

		// Connection-level hostility.
		{name: "nothing listening", refuse: true, exit: every(3)},
		{name: "accept then silence", script: "hang\n", waits: true, exit: every(3), errHas: "no reply within 400ms"},
		{name: "accept then close", script: "close\n", exit: every(3)},
		{name: "banner dripped past the deadline", script: "drip 100ms S: 220 mx.test a banner that arrives one byte at a time\nhang\n", waits: true, exit: every(3), errHas: "no reply within 400ms"},
		{name: "banner dripped one byte per second", script: "drip 1s S: 220 mx.test slow\nhang\n", waits: true, exit: every(3)},

		// Refusals.
		{name: "banner 421", script: "S: 421 4.3.2 mx.test busy, try later\nclose\n", noQuit: true, exit: every(4)},
		{name: "banner 554", script: "S: 554 5.7.1 no SMTP service here\n" + hQuit, exit: every(5)},
		{name: "421 at EHLO", script: hBanner + "C~ EHLO\nS: 421 4.3.2 shutting down\nclose\n", noQuit: true, exit: every(4)},
		{name: "421 at STARTTLS", script: hBanner + "C~ EHLO\nS: 250-mx.test\nS: 250 STARTTLS\nC: STARTTLS\nS: 421 4.3.2 shutting down\nclose\n", exit: every(4), args: tlsArgs},
		{name: "421 at AUTH", script: hBanner + ehloAuth + "C~ AUTH\nS: 421 4.3.2 shutting down\nclose\n", noQuit: true, exit: exits("send=4"), args: auth},
		{name: "421 at MAIL", script: hBanner + hEhlo + "C~ MAIL\nS: 421 4.3.2 shutting down\nclose\n", noQuit: true, exit: exits("send=4 verify=4")},
		{name: "421 at RCPT", script: hBanner + hEhlo + hMail + "C~ RCPT\nS: 421 4.3.2 shutting down\nclose\n", noQuit: true, exit: exits("send=4 verify=4")},
		{name: "421 at DATA", script: hBanner + hEhlo + hMail + hRcpt + "C: DATA\nS: 421 4.3.2 shutting down\nclose\n", noQuit: true, exit: exits("send=4")},
		{name: "421 at the dot", script: hBanner + hEhlo + hMail + hRcpt + hData + "data\nS: 421 4.3.2 shutting down\nclose\n", noQuit: true, exit: exits("send=4")},

		// The connection closed at each stage, without a reply.
		{name: "closed after the banner", script: hBanner + "close\n", exit: every(3)},
		{name: "closed at EHLO", script: hBanner + "C~ EHLO\nclose\n", exit: every(3)},
		{name: "closed at STARTTLS", script: hBanner + "C~ EHLO\nS: 250-mx.test\nS: 250 STARTTLS\nC: STARTTLS\nclose\n", exit: exits("ehlo=3 send=3 probe=3"), args: tlsArgs},
		{name: "closed at MAIL", script: hBanner + hEhlo + "C~ MAIL\nclose\n", exit: exits("send=3 verify=3")},
		{name: "closed at RCPT", script: hBanner + hEhlo + hMail + "C~ RCPT\nclose\n", exit: exits("send=3 verify=3")},
		{name: "closed at DATA", script: hBanner + hEhlo + hMail + hRcpt + "C: DATA\nclose\n", exit: exits("send=3")},
		{name: "closed in the body", script: hBanner + hEhlo + hMail + hRcpt + hData + "C*\nclose\n", exit: exits("send=3")},
		{name: "closed before the reply to the dot", script: hBanner + hEhlo + hMail + hRcpt + hData + "data\nclose\n", exit: exits("send=3")},
		{name: "silent after the dot", script: hBanner + hEhlo + hMail + hRcpt + hData + "data\nhang\n", waits: true, exit: exits("send=3"), errHas: "no reply within 400ms"},

		// Malformed replies.
		{name: "endless multi-line banner", script: "forever S: 220-mx.test and more\n", exit: every(7), mem: true},
		{name: "endless multi-line EHLO", script: hBanner + "C~ EHLO\nforever S: 250-X-MORE\n", exit: every(7), mem: true},
		{name: "1 MiB line without CRLF", script: "R: \"220 \"\nrepeat 1048576 R: \"x\"\nhang\n", exit: every(7), mem: true},
		{name: "endless line without CRLF", script: "R: \"220 \"\nforever R: \"y\"\n", exit: every(7), mem: true},
		{name: "reply of only digits", script: "S: 22022022022022022022022022022022\n" + hQuit, exit: every(7)},
		{name: "code 099", script: "S: 099 mx.test\n" + hQuit, exit: every(7)},
		{name: "code 600", script: "S: 600 mx.test\n" + hQuit, exit: every(7)},
		{name: "code 25", script: "S: 25 mx.test\n" + hQuit, exit: every(7)},
		{name: "code 600 to RCPT", script: hBanner + hEhlo + hMail + "C~ RCPT\nS: 600 what\n" + hQuit, exit: exits("send=7 verify=7")},
		{name: "codes differ across lines", script: hBanner + "C~ EHLO\nS: 250-mx.test\nS: 251 8BITMIME\n" + hQuit, exit: every(7)},
		{name: "250 in answer to DATA", script: hBanner + hEhlo + hMail + hRcpt + "C: DATA\nS: 250 2.0.0 ok\n" + hQuit, noQuit: true, exit: exits("send=7")},
		{name: "354 in answer to MAIL", script: hBanner + hEhlo + "C~ MAIL\nS: 354 go ahead\n" + hQuit, noQuit: true, exit: exits("send=7 verify=7")},
		{name: "354 in answer to the dot", script: hBanner + hEhlo + hMail + hRcpt + hData + "data\nS: 354 again\n" + hQuit, noQuit: true, exit: exits("send=7")},
		{name: "queued with the 354, refused at the dot", script: hBanner + hEhlo + hMail + hRcpt + "C: DATA\nR: \"354 go ahead\\r\\n250 2.0.0 queued as EARLY\\r\\n\"\ndata\nS: 554 5.7.1 refused\n" + hQuit,
			noQuit: true, exit: exits("send=7"), errHas: "before the end of the message data", outHas: map[string]string{"send": "250 2.0.0 queued as EARLY"}},
		{name: "queued with the 354, then closed", script: hBanner + hEhlo + hMail + hRcpt + "C: DATA\nR: \"354 go ahead\\r\\n250 2.0.0 queued as EARLY\\r\\n\"\nclose\n",
			noQuit: true, exit: exits("send=7"), errHas: "out of sequence"},
		{name: "pipelined: fewer replies", script: hBanner + ehloPipe + group + "S: 250 2.1.0 ok\nS: 250 2.1.5 ok\nhang\n", waits: true, exit: exits("send=3")},
		{name: "pipelined: more replies", script: hBanner + ehloPipe + group + "S: 250 2.1.0 ok\nS: 250 2.1.5 ok\nS: 250 2.1.5 extra\nS: 354 go ahead\n" + hDot + hQuit, noQuit: true, exit: exits("send=7")},
		{name: "pipelined: replies out of order", script: hBanner + ehloPipe + group + "S: 354 go ahead\nS: 250 2.1.0 ok\nS: 250 2.1.5 ok\n" + hDot + hQuit, noQuit: true, exit: exits("send=7")},

		{name: "CHUNKING: closed before the BDAT reply", script: hBanner + ehloChunk + "C~ MAIL\nC~ RCPT\nC~ BDAT\nclose\n", exit: exits("send=3")},
		{name: "CHUNKING: 354 in answer to BDAT", script: hBanner + ehloChunk + "C~ MAIL\nC~ RCPT\nC~ BDAT\nS: 250 2.1.0 ok\nS: 250 2.1.5 ok\nS: 354 go ahead\nhang\n", exit: exits("send=7")},
		{name: "CHUNKING: silent after BDAT", script: hBanner + ehloChunk + "C~ MAIL\nC~ RCPT\nC~ BDAT\nS: 250 2.1.0 ok\nS: 250 2.1.5 ok\nhang\n", waits: true, exit: exits("send=3")},

		// Hostile text in replies: shown escaped, never raw.
		{name: "escapes, NUL, bad UTF-8, bare LF in every reply", exit: every(0),
			script: "R: \"220 mx.test " + esc + "\\n\"\n" +
				"C~ EHLO\nR: \"250-mx.test " + esc + "\\n250-X-" + esc + "\\r\\n250 8BITMIME\\n\"\n" +
				"C~ MAIL\nR: \"250 2.1.0 " + esc + "\\n\"\nC~ RCPT\nR: \"250 2.1.5 " + esc + "\\n\"\n" +
				"C: DATA\nR: \"354 " + esc + "\\n\"\ndata\nR: \"250 2.0.0 queued as " + esc + "\\n\"\n" +
				"C: QUIT\nR: \"221 " + esc + "\\n\"\nclose\n"},
		{name: "escapes in a refusal", exit: exits("ehlo=5 send=5 probe=5 verify=5"),
			script: "R: \"554 5.7.1 " + esc + "\\r\\n\"\n" + hQuit},
		{name: "escapes in a RCPT refusal", exit: exits("send=5 verify=5"),
			script: hBanner + hEhlo + hMail + "C~ RCPT\nR: \"550-5.1.1 " + esc + "\\r\\n550 5.1.1 " + esc + "\\r\\n\"\n" + "C*\nS: 250 ok\nC*\nS: 221 bye\nclose\n"},

		// STARTTLS and certificates.
		{name: "STARTTLS refused with 454", script: hBanner + "C~ EHLO\nS: 250-mx.test\nS: 250 STARTTLS\nC: STARTTLS\nS: 454 4.7.0 TLS not available\n" + hMail + hRcpt + "C: RSET\nS: 250 ok\n" + hQuit, exit: exits("ehlo=6 send=6 probe=6 verify=0"), args: tlsArgs, outHas: map[string]string{"verify": "Verdict   deliverable"}},
		{name: "STARTTLS missing when required", script: hBanner + hEhlo + hQuit, exit: exits("ehlo=6 send=6 probe=6"),
			args: map[string][]string{"ehlo": {"--tls"}, "send": {"--tls"}, "probe": {"--require-tls"}}},
		{name: "plaintext injected after 220 Ready", script: hBanner + "C~ EHLO\nS: 250-mx.test\nS: 250 STARTTLS\nC: STARTTLS\nR: \"220 2.0.0 Ready to start TLS\\r\\n250-injected\\r\\n250 PIPELINING\\r\\n\"\nhang\n",
			exit: exits("ehlo=6 send=6 probe=6 verify=0"), args: tlsArgs, next: fallback, outHas: fellBack, errHas: "plaintext"},
		{name: "TLS handshake stalls", script: hBanner + "C~ EHLO\nS: 250-mx.test\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 2.0.0 Ready to start TLS\nhang\n", waits: true, exit: exits("ehlo=6 send=6 probe=6 verify=0"), args: tlsArgs, next: fallback, outHas: fellBack},
		{name: "TLS handshake fails", script: hBanner + hEhloTLS + hQuit, exit: exits("ehlo=6 send=6 probe=6 verify=0"), args: tlsArgs, next: fallback, outHas: fellBack,
			tls: func(c *hostileCerts) *tls.Config {
				cfg := c.good.ServerConfig()
				cfg.MaxVersion = tls.VersionTLS11
				return cfg
			}},
		{name: "TLS garbage instead of a handshake", script: hBanner + "C~ EHLO\nS: 250-mx.test\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 2.0.0 Ready to start TLS\nC*\nS: 250 this is not TLS\nhang\n", exit: exits("ehlo=6 send=6 probe=6 verify=0"), args: tlsArgs, next: fallback, outHas: fellBack},
		{name: "certificate expired", script: hBanner + hEhloTLS + hMail + hRcpt + hData + hDot + hQuit, tls: tlsWith(func(c *hostileCerts) *certs.Cert { return c.expired }), exit: exits("ehlo=6 send=6 probe=6 verify=0"), args: tlsArgs},
		{name: "certificate not yet valid", script: hBanner + hEhloTLS + hMail + hRcpt + hData + hDot + hQuit, tls: tlsWith(func(c *hostileCerts) *certs.Cert { return c.notYet }), exit: exits("ehlo=6 send=6 probe=6 verify=0"), args: tlsArgs},
		{name: "certificate self-signed", script: hBanner + hEhloTLS + hMail + hRcpt + hData + hDot + hQuit, tls: tlsWith(func(c *hostileCerts) *certs.Cert { return c.untrusted }), exit: exits("ehlo=6 send=6 probe=6 verify=0"), args: tlsArgs},
		{name: "certificate for another host", script: hBanner + hEhloTLS + hMail + hRcpt + hData + hDot + hQuit, tls: tlsWith(func(c *hostileCerts) *certs.Cert { return c.wrongHost }), exit: exits("ehlo=6 send=6 probe=6 verify=0"), args: tlsArgs},

		// AUTH and extensions.
		{name: "AUTH 535", script: hBanner + ehloAuth + "C~ AUTH\nS: 535 5.7.8 authentication failed\n" + hQuit, exit: exits("send=5"), args: auth},
		{name: "endless 334 challenges", script: hBanner + endless334 + hQuit, exit: exits("send=7"), args: map[string][]string{"send": {"--auth=CRAM-MD5", "--user", "u", "--password-env", "PW"}}},
		{name: "SIZE 2^70", script: hBanner + "C~ EHLO\nS: 250-mx.test\nS: 250 SIZE 1180591620717411303424\n" + hMail + hRcpt + hData + hDot + hQuit, exit: every(0)},
		{name: "EHLO with 10000 keywords", script: hBanner + keywords + hQuit, exit: every(7), mem: true},
	}
}

// hostileCerts are the server certificates the TLS scenarios present.
type hostileCerts struct {
	good, expired, notYet, wrongHost, untrusted *certs.Cert
	caFile                                      string // trusts all but untrusted
}

var (
	hCertsOnce sync.Once
	hCerts     *hostileCerts
	hCertsErr  error
)

func loadHostileCerts(dir string) (*hostileCerts, error) {
	hCertsOnce.Do(func() {
		c := &hostileCerts{}
		now := time.Now()
		for _, x := range []struct {
			dst *(*certs.Cert)
			o   certs.Options
		}{
			{&c.good, certs.Options{Hosts: []string{"127.0.0.1", "localhost"}}},
			{&c.expired, certs.Options{Hosts: []string{"127.0.0.1"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}},
			{&c.notYet, certs.Options{Hosts: []string{"127.0.0.1"}, NotBefore: now.Add(24 * time.Hour), NotAfter: now.Add(48 * time.Hour)}},
			{&c.wrongHost, certs.Options{Hosts: []string{"mx.other.test"}}},
			{&c.untrusted, certs.Options{Hosts: []string{"127.0.0.1"}}},
		} {
			if *x.dst, hCertsErr = certs.SelfSigned(x.o); hCertsErr != nil {
				return
			}
		}
		var pem []byte
		for _, x := range []*certs.Cert{c.good, c.expired, c.notYet, c.wrongHost} {
			pem = append(pem, x.CertPEM...)
		}
		c.caFile = filepath.Join(dir, "ca.pem")
		hCertsErr = os.WriteFile(c.caFile, pem, 0o644)
		hCerts = c
	})
	return hCerts, hCertsErr
}

// hostileArgv builds the command line for verb against addr.
func (sc *hostile) timeout() time.Duration {
	if sc.waits {
		return hostileTimeout
	}
	return hostileSlow
}

func hostileArgv(verb, addr, dns string, sc *hostile, c *hostileCerts, json bool) []string {
	common := []string{"--timeout", sc.timeout().String(), "--connect-timeout", hostileSlow.String(), "--color", "never", "--helo", "client.test"}
	if json {
		common = append(common, "--json")
	} else {
		common = append(common, "-v")
	}
	var argv []string
	switch verb {
	case "ehlo":
		argv = append([]string{"ehlo", addr}, common...)
	case "send":
		argv = append([]string{"send", "--server", addr, "--from", "a@client.test", "--to", "b@example.com", "--body", "hello\n"}, common...)
	case "probe":
		argv = append([]string{"probe", "--dns-server", dns, addr}, common...)
	case "verify":
		argv = append([]string{"verify", "--mx", addr, "--delay", "0", "--catch-all=false", "--dns-server", dns, "b@example.com"}, common...)
	}
	for _, k := range []string{"*", verb} {
		for _, a := range sc.args[k] {
			argv = append(argv, strings.ReplaceAll(a, "{ca}", c.caFile))
		}
	}
	return argv
}

// hostileRun is one verb against one scenario.
func hostileRun(t *testing.T, sc *hostile, verb string, want int, dns string, c *hostileCerts, json bool) {
	t.Helper()
	var addr string
	var srv *smtptest.Server
	if sc.refuse {
		addr = smtptest.FreePort(t)
	} else {
		var err error
		scripts := []string{sc.script}
		if n, ok := sc.next[verb]; ok {
			scripts = append(scripts, n)
		}
		if srv, err = smtptest.StartSeq(scripts...); err != nil {
			t.Fatalf("script: %v", err)
		}
		if sc.tls != nil {
			srv.TLS = sc.tls(c)
		}
		defer srv.Close()
		addr = srv.Addr()
	}
	argv := hostileArgv(verb, addr, dns, sc, c, json)
	t0 := time.Now()
	stdout, stderr, code := run(t, "", map[string]string{"PW": "hostile-secret-pw"}, argv...)
	elapsed := time.Since(t0)
	show := func() string {
		received := ""
		if srv != nil {
			received = srv.Received()
		}
		return fmt.Sprintf("\nargv: %q\nstdout:\n%s\nstderr:\n%s\nserver received: %q", argv, clipOut(stdout), stderr, received)
	}
	if code != want {
		t.Errorf("exit %d, want %d%s", code, want, show())
	}
	if sc.waits && elapsed > hostileTimeout+hostileMargin {
		t.Errorf("took %s, over --timeout %s plus %s%s", elapsed.Round(time.Millisecond), hostileTimeout, hostileMargin, show())
	}
	if !sc.waits && elapsed >= hostileSlow {
		t.Errorf("took %s against a server that answers at once: something waited for a timeout%s", elapsed.Round(time.Millisecond), show())
	}
	errs, hints := strings.Count(stderr, "smtpx: error:"), strings.Count(stderr, "smtpx: hint:")
	switch {
	case code == 0 && errs != 0:
		t.Errorf("success with an error line%s", show())
	case code != 0 && (errs != 1 || hints != 1):
		t.Errorf("%d error lines and %d hints, want one of each%s", errs, hints, show())
	}
	if want := sc.outHas[verb]; want != "" && !json && !strings.Contains(stdout, want) {
		t.Errorf("the transcript does not say %q%s", want, show())
	}
	if sc.noQuit && srv != nil {
		srv.Close()
		if strings.Contains(srv.Received(), "QUIT") {
			t.Errorf("QUIT was said to a server that is closing or out of step%s", show())
		}
	}
	if sc.errHas != "" && code != 0 && !strings.Contains(stderr, sc.errHas) {
		t.Errorf("the error does not say %q%s", sc.errHas, show())
	}
	for name, s := range map[string]string{"stdout": stdout, "stderr": stderr} {
		if i := strings.IndexAny(s, "\x1b\x07\x00\x9b"); i >= 0 {
			t.Errorf("%s has a raw control byte %q at %d%s", name, s[i], i, show())
		}
		if i := strings.IndexFunc(s, invisible); i >= 0 {
			r, _ := utf8.DecodeRuneInString(s[i:])
			t.Errorf("%s has a raw %U at %d%s", name, r, i, show())
		}
		if !utf8.ValidString(s) {
			t.Errorf("%s is not valid UTF-8%s", name, show())
		}
	}
	if strings.Contains(stdout+stderr, "hostile-secret-pw") {
		t.Errorf("the password leaked%s", show())
	}
	if json {
		checkHostileJSON(t, verb, stdout, code, show)
	}
}

// checkHostileJSON: stdout is one JSON document per line whose exit field
// (where the verb has one) is the process's exit status.
func checkHostileJSON(t *testing.T, verb, stdout string, code int, show func() string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if strings.TrimSpace(stdout) == "" {
		if code != 2 {
			t.Errorf("--json printed nothing%s", show())
		}
		return
	}
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Errorf("--json line is not JSON: %v%s", err, show())
			return
		}
		if e, ok := v["exit"].(float64); ok && int(e) != code {
			t.Errorf("--json says exit %v, the process %d%s", e, code, show())
		}
	}
}

// invisible reports what no output may carry raw, human or JSON: DEL, C1
// controls and format characters (bidi controls, zero-width, BOM, tags).
func invisible(r rune) bool {
	return r == 0x7f || r >= 0x80 && r <= 0x9f || unicode.Is(unicode.Cf, r)
}

func clipOut(s string) string {
	if len(s) > 6000 {
		return s[:3000] + "\n[...]\n" + s[len(s)-3000:]
	}
	return s
}

// allocated returns the bytes allocated so far by the whole process.
func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

func TestHostileServers(t *testing.T) {
	// Registered first, so it runs last: after every server has stopped.
	t.Cleanup(func() {
		goleak.VerifyNone(t, goleak.IgnoreCurrent(),
			// os/signal's watcher starts once per process (verify's Ctrl-C handling) and never ends.
			goleak.IgnoreTopFunction("os/signal.signal_recv"),
			goleak.IgnoreAnyFunction("os/signal.loop"))
	})
	c, err := loadHostileCerts(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dns := dnstest.Start(t, "")
	scenarios := hostileScenarios()
	runs := 0
	for i := range scenarios {
		sc := &scenarios[i]
		for _, verb := range hostileVerbs {
			if _, ok := sc.exit[verb]; ok {
				runs++
			}
		}
	}
	t.Logf("%d scenarios, %d scenario × verb runs (each in human and JSON form)", len(scenarios), runs)

	// The memory scenarios run one at a time so the allocation count is
	// theirs alone; they also check for leaked goroutines after each run.
	t.Run("memory", func(t *testing.T) {
		for i := range scenarios {
			sc := &scenarios[i]
			if !sc.mem {
				continue
			}
			for _, verb := range hostileVerbs {
				want, ok := sc.exit[verb]
				if !ok {
					continue
				}
				for _, form := range []string{"human", "json"} {
					t.Run(sc.name+"/"+verb+"/"+form, func(t *testing.T) {
						opts := []goleak.Option{goleak.IgnoreCurrent()}
						runtime.GC()
						before := allocated()
						hostileRun(t, sc, verb, want, dns.Addr(), c, form == "json")
						got := allocated() - before
						t.Logf("allocated %.1f MiB", float64(got)/(1<<20))
						if got > hostileAlloc {
							t.Errorf("allocated %d MiB during the run, over %d MiB", got>>20, hostileAlloc>>20)
						}
						goleak.VerifyNone(t, opts...)
					})
				}
			}
		}
	})

	// The rest run hostileParallel at a time: most of a run is waiting
	// for a timeout, so more than GOMAXPROCS (which bounds t.Parallel)
	// keeps the suite fast on two cores.
	t.Run("all", func(t *testing.T) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, hostileParallel)
		for i := range scenarios {
			sc := &scenarios[i]
			if sc.mem {
				continue // done above
			}
			for _, verb := range hostileVerbs {
				want, ok := sc.exit[verb]
				if !ok {
					continue
				}
				for _, form := range []string{"human", "json"} {
					wg.Go(func() {
						sem <- struct{}{}
						defer func() { <-sem }()
						t.Run(sc.name+"/"+verb+"/"+form, func(t *testing.T) {
							hostileRun(t, sc, verb, want, dns.Addr(), c, form == "json")
						})
					})
				}
			}
		}
		wg.Wait()
	})
}

// The scenario table covers what issue 9 lists; this keeps it that way.
func TestHostileScenarioNames(t *testing.T) {
	var names []string
	for _, sc := range hostileScenarios() {
		names = append(names, sc.name)
	}
	sort.Strings(names)
	for i := 1; i < len(names); i++ {
		if names[i] == names[i-1] {
			t.Errorf("duplicate scenario %q", names[i])
		}
	}
}

// hostileNotes say what the verbs do in each scenario, for the table in
// docs/reliability.md (TestReliabilityDoc keeps the two in step).
var hostileNotes = map[string]string{
	"control/plain":                          "a well-behaved server: every verb succeeds (the harness's control)",
	"control/tls":                            "STARTTLS with a trusted certificate: success",
	"nothing listening":                      "connection refused, reported at once",
	"accept then silence":                    "no banner: each verb gives up after --timeout",
	"accept then close":                      "closed before the banner: connection lost",
	"banner dripped past the deadline":       "one byte every 100 ms: --timeout bounds the whole reply, not each byte",
	"banner dripped one byte per second":     "gives up after --timeout",
	"banner 421":                             "transient refusal; the connection is dropped, no QUIT",
	"banner 554":                             "permanent refusal, then QUIT",
	"421 at EHLO":                            "transient; dropped without QUIT",
	"421 at STARTTLS":                        "the server is closing: transient, not a TLS failure",
	"421 at AUTH":                            "transient; dropped without QUIT",
	"421 at MAIL":                            "transient; dropped without QUIT",
	"421 at RCPT":                            "transient; dropped without QUIT",
	"421 at DATA":                            "transient; no message content is sent",
	"421 at the dot":                         "the message was not accepted: transient, never success",
	"closed after the banner":                "connection lost",
	"closed at EHLO":                         "connection lost",
	"closed at STARTTLS":                     "connection lost",
	"closed at MAIL":                         "connection lost",
	"closed at RCPT":                         "connection lost",
	"closed at DATA":                         "connection lost",
	"closed in the body":                     "connection lost while sending the message",
	"closed before the reply to the dot":     "no reply to classify: exit 3, never success",
	"silent after the dot":                   "waits --timeout for the reply to the dot, then exit 3",
	"endless multi-line banner":              "stops at 1000 lines, in bounded memory",
	"endless multi-line EHLO":                "stops at 1000 lines, in bounded memory",
	"1 MiB line without CRLF":                "stops at 4096 bytes, in bounded memory",
	"endless line without CRLF":              "stops at 4096 bytes, in bounded memory",
	"reply of only digits":                   "no space or hyphen after the code: malformed",
	"code 099":                               "outside 200-599: malformed",
	"code 600":                               "outside 200-599: malformed",
	"code 25":                                "not three digits: malformed",
	"code 600 to RCPT":                       "malformed in the middle of a transaction",
	"codes differ across lines":              "250- then 251 in one reply: malformed",
	"250 in answer to DATA":                  "out of sequence: never success, no content sent, no QUIT",
	"354 in answer to MAIL":                  "out of sequence (verify: unknown, not blocked)",
	"354 in answer to the dot":               "out of sequence: the message was not accepted",
	"pipelined: fewer replies":               "waits --timeout for the missing reply",
	"pipelined: more replies":                "an extra reply lands on DATA: out of sequence, no content sent",
	"pipelined: replies out of order":        "354 where MAIL's reply belongs: out of sequence",
	"CHUNKING: closed before the BDAT reply": "connection lost",
	"CHUNKING: 354 in answer to BDAT":        "out of sequence",
	"CHUNKING: silent after BDAT":            "waits --timeout for the BDAT reply",
	"escapes, NUL, bad UTF-8, bare LF in every reply": "ESC, BEL, NUL, C1 and bad UTF-8 are shown escaped (\\x1b and the like); bare LF ends a line; success",
	"escapes in a refusal":                            "the error line on stderr is escaped too",
	"escapes in a RCPT refusal":                       "the error line on stderr is escaped too",
	"STARTTLS refused with 454":                       "TLS asked for (ehlo --tls, probe --require-tls) or offered (send): exit 6; verify carries on in clear text",
	"STARTTLS missing when required":                  "ehlo --tls, send --tls, probe --require-tls",
	"plaintext injected after 220 Ready":              "bytes buffered before the handshake are refused; verify retries without STARTTLS",
	"TLS handshake stalls":                            "the handshake is bounded by --timeout; verify retries without STARTTLS",
	"TLS handshake fails":                             "a TLS 1.1-only server; verify retries without STARTTLS",
	"TLS garbage instead of a handshake":              "a TLS record error; verify retries without STARTTLS",
	"certificate expired":                             "verification fails; verify reports the certificate as not verified and answers",
	"certificate not yet valid":                       "verification fails; verify reports the certificate as not verified and answers",
	"certificate self-signed":                         "verification fails; verify reports the certificate as not verified and answers",
	"certificate for another host":                    "verification fails; verify reports the certificate as not verified and answers",
	"AUTH 535":                                        "permanent; the password appears nowhere",
	"endless 334 challenges":                          "stops after 10 challenges and cancels with *",
	"queued with the 354, refused at the dot":         "a reply before our end of data is out of sequence: shown, no content sent, connection dropped",
	"queued with the 354, then closed":                "the early 250 is never taken for a delivery",
	"SIZE 2^70":                                       "an unusable SIZE is ignored, never wrapped: success",
	"EHLO with 10000 keywords":                        "over the 1000-line limit, in bounded memory",
}

// reliabilityTable renders the scenarios as the table in
// docs/reliability.md, with a line that counts them.
func reliabilityTable() string {
	var b strings.Builder
	scenarios, controls, pairs := 0, 0, 0
	for _, sc := range hostileScenarios() {
		scenarios++
		if strings.HasPrefix(sc.name, "control/") {
			controls++
		}
		pairs += len(sc.exit)
	}
	fmt.Fprintf(&b, "%d scenarios plus %d controls, %d scenario × verb pairs:\n\n", scenarios-controls, controls, pairs)
	b.WriteString("| scenario | ehlo | send | probe | verify | what happens |\n|---|---|---|---|---|---|\n")
	for _, sc := range hostileScenarios() {
		fmt.Fprintf(&b, "| %s |", strings.ReplaceAll(sc.name, "|", `\|`))
		for _, verb := range hostileVerbs {
			if c, ok := sc.exit[verb]; ok {
				fmt.Fprintf(&b, " %d |", c)
			} else {
				b.WriteString(" – |")
			}
		}
		fmt.Fprintf(&b, " %s |\n", strings.ReplaceAll(hostileNotes[sc.name], "|", `\|`))
	}
	return b.String()
}

// reliabilityDoc is the document that shows the scenario table.
const reliabilityDoc = "../docs/reliability.md"

// The table of hostile scenarios in docs/reliability.md is generated from
// the scenarios: regenerate it with
// SMTPX_UPDATE_DOCS=1 go test ./cmd -run TestReliabilityDoc.
func TestReliabilityDoc(t *testing.T) {
	for _, sc := range hostileScenarios() {
		if hostileNotes[sc.name] == "" {
			t.Errorf("scenario %q has no note", sc.name)
		}
	}
	const begin, end = "<!-- BEGIN hostile table -->\n", "<!-- END hostile table -->"
	raw, err := os.ReadFile(reliabilityDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q markers", reliabilityDoc, begin, end)
	}
	want := reliabilityTable()
	if got := doc[i+len(begin) : j]; got != want {
		if os.Getenv("SMTPX_UPDATE_DOCS") == "1" {
			doc = doc[:i+len(begin)] + want + doc[j:]
			if err := os.WriteFile(reliabilityDoc, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("the hostile-server table in %s is out of date; run SMTPX_UPDATE_DOCS=1 go test ./cmd -run TestReliabilityDoc", reliabilityDoc)
	}
}
